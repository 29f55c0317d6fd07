/* log_sink: syslog and journal output for core/log.c. */
#include "core/log_sink.h"

#include <stdio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

static const int priorities[4] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};

static int priority(int level)
{
    if (level < 0 || level > 3)
        return LOG_ERR;
    return priorities[level];
}

void log_sink_syslog_open(void)
{
    openlog("portico", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_sink_syslog(int level, const char *msg)
{
    syslog(priority(level), "%s", msg);
}

void log_sink_journal(int level, uint64_t sid, const char *msg)
{
    sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", priority(level),
                    "SYSLOG_IDENTIFIER=portico", "PORTICO_SESSION=%llu",
                    (unsigned long long)sid, NULL);
}
