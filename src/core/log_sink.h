/* log_sink: where a formatted log line goes besides stderr: syslog(3)
 * (facility mail) or the systemd journal (with fields). Apart from log.c
 * because <syslog.h> defines LOG_DEBUG/LOG_INFO, which log.h names too. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* level: 0 debug, 1 info, 2 warn, 3 error (enum log_level). */
void log_sink_syslog_open(void);
void log_sink_syslog(int level, const char *msg);
void log_sink_journal(int level, uint64_t sid, const char *msg);
