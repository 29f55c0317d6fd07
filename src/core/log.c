/* log: formats one event per line and writes it to stderr with a single
 * write(2), so lines from different loop threads never interleave; or as
 * JSON, or to syslog or the journal ([log] target, format). */
#include "core/log.h"

#include "core/log_sink.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static volatile enum log_level min_level = LOG_INFO;
static int log_target; /* enum log_target (config.h): 0 stderr */
static int log_json;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

enum log_level log_get_level(void)
{
    return min_level;
}

void log_configure(int target, int json)
{
    log_target = target;
    log_json = json;
    if (target == 1)
        log_sink_syslog_open();
}

/* The message as a JSON string body: quotes, backslashes and controls
 * escaped (RFC 8259 7). */
static size_t json_escape(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 7 < cap; in++) {
        unsigned char c = (unsigned char)*in;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return n;
}

static void write_json(const char *stamp, enum log_level level, uint64_t sid,
                       const char *msg)
{
    char esc[4200], line[4400];
    json_escape(msg, esc, sizeof esc);
    int n =
        snprintf(line, sizeof line,
                 "{\"time\":\"%s\",\"level\":\"%s\",\"session\":%llu,\"msg\":\"%s\"}\n",
                 stamp, level_names[level], (unsigned long long)sid, esc);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

/* A line for syslog, the journal or JSON: line holds "STAMP LEVEL SID msg";
 * the message starts at prefix, the stamp ends at the first space. */
static void deliver(enum log_level level, uint64_t sid, char *line, int prefix)
{
    const char *msg = line + prefix;
    if (log_target == 1) {
        log_sink_syslog((int)level, msg);
    } else if (log_target == 2) {
        log_sink_journal((int)level, sid, msg);
    } else {
        char stamp[40];
        snprintf(stamp, sizeof stamp, "%.*s", (int)strcspn(line, " "), line);
        write_json(stamp, level, sid, msg);
    }
}

void log_vmsg(enum log_level level, uint64_t sid, const char *fmt, va_list ap)
{
    if (level < min_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    char sidbuf[24] = "-";
    if (sid)
        snprintf(sidbuf, sizeof sidbuf, "s%llu", (unsigned long long)sid);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ", ts.tv_nsec / 1000000);
    n += snprintf(line + n, sizeof line - (size_t)n, " %-5s %s ", level_names[level],
                  sidbuf);
    int prefix = n;
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    /* Control characters from client input never reach the terminal raw. */
    for (int i = 0; i < n; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
            line[i] = '?';
    line[n] = '\0';
    if (log_target != 0 || log_json) {
        deliver(level, sid, line, prefix);
        return;
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

void log_msg(enum log_level level, uint64_t sid, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, sid, fmt, ap);
    va_end(ap);
}
