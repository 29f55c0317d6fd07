/* log: one line per event on stderr, "TIME LEVEL SID PROTO event key=value".
 * Secrets never reach this file: callers mask them before formatting. */
#pragma once
#include <stdarg.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level printed; from config `[portico] log_level`. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* [log] target (0 stderr, 1 syslog, 2 journal) and format (json or text). */
void log_configure(int target, int json);
/* Parses "debug", "info", "warn", "error"; returns -1 if unknown. */
int log_level_parse(const char *name);

/* sid 0 means "no session" and prints "-". */
void log_msg(enum log_level level, uint64_t sid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, uint64_t sid, const char *fmt, va_list ap);

#define log_debug(sid, ...) log_msg(LOG_DEBUG, (sid), __VA_ARGS__)
#define log_info(sid, ...) log_msg(LOG_INFO, (sid), __VA_ARGS__)
#define log_warn(sid, ...) log_msg(LOG_WARN, (sid), __VA_ARGS__)
#define log_error(sid, ...) log_msg(LOG_ERROR, (sid), __VA_ARGS__)
