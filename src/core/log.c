/* log: formats one event per line and writes it to stderr with a single
 * write(2), so lines from different loop threads never interleave. */
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static volatile enum log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

enum log_level log_get_level(void)
{
    return min_level;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return -1;
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
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %-5s %s ",
                  ts.tv_nsec / 1000000, level_names[level], sidbuf);
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
