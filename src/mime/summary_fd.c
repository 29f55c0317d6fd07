/* summary_fd: the module's summary entry point: one scan of the file,
 * then ENVELOPE, BODY, BODYSTRUCTURE, the part map and the sort keys
 * from what the scan kept (no second read). Part of portico-mime.so. */
#include "mime/module.h"

#include <stdlib.h>

static char *structure(const struct mime_scan *sc, bool extended)
{
    GString *out = g_string_new(NULL);
    mime_put_body(out, sc, 0, extended);
    return mime_gstring_steal(out);
}

static char *envelope(const struct mime_scan *sc)
{
    GString *out = g_string_new(NULL);
    mime_put_envelope(out, &sc->ent[0]);
    return mime_gstring_steal(out);
}

static int build(const struct mime_scan *sc, struct mime_summary *s)
{
    s->envelope = envelope(sc);
    s->body = structure(sc, false);
    s->bodystructure = structure(sc, true);
    if (!s->envelope || !s->body || !s->bodystructure)
        return -1;
    if (mime_part_map(sc, &s->parts, &s->nparts) < 0)
        return -1;
    return mime_sort_keys(&sc->ent[0], s);
}

struct mime_summary *portico_mime_summary_fd(int fd)
{
    mime_module_start();
    struct mime_scan sc;
    if (mime_scan_fd(fd, 0, false, &sc) < 0)
        return NULL;
    struct mime_summary *s = calloc(1, sizeof *s);
    if (s && build(&sc, s) < 0) {
        mime_summary_free(s);
        s = NULL;
    }
    mime_scan_release(&sc);
    return s;
}
