/* notify: tells systemd (sd_notify, libsystemd) when serve is ready, is
 * reloading and is stopping. Without NOTIFY_SOCKET (not under systemd)
 * every call does nothing. */
#pragma once

/* READY=1 with a STATUS line. */
void notify_ready(const char *status);
/* RELOADING=1 (then notify_ready again when the reload is done). */
void notify_reloading(void);
/* STOPPING=1. */
void notify_stopping(void);
