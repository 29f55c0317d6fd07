/* imap idle: IDLE (RFC 2177): "+ idling", then the selected mailbox's
 * updates pushed as the change bus reports them (view.c), until DONE. */
#include "imap/imap.h"

#include "core/log.h"

#include <string.h>
#include <strings.h>

static void idle_line(struct session *s, char *line, size_t len)
{
    struct imap *im = imap_of(s);
    im->idling = false;
    /* RFC 2177 3: anything but DONE ends IDLE with BAD. */
    if (len != 4 || strncasecmp(line, "DONE", 4) != 0) {
        imap_tagged(s, "BAD", "expected DONE");
        return;
    }
    imap_done(s, 0, "OK", "IDLE terminated");
}

static void idle_first(struct session *s, void *arg)
{
    (void)arg;
}

void imap_cmd_idle(struct session *s, char *args)
{
    struct imap *im = imap_of(s);
    if (*args) {
        imap_bad(s, "IDLE takes no arguments");
        return;
    }
    im->idling = true;
    session_reply(s, "+ idling");
    session_expect_line(s, idle_line);
    /* What changed before IDLE goes out at once. */
    if (im->view && im->view->changed)
        imap_view_refresh(s, 0, idle_first, NULL);
}
