/* linebuf: line splitting over evbuffer without pulling the whole buffer up;
 * memory stays bounded because an overlong line is drained as it arrives. */
#include "core/linebuf.h"

#include <event2/buffer.h>

static bool find_lf(struct evbuffer *in, size_t *pos)
{
    size_t eol_len = 0;
    struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
    if (p.pos < 0)
        return false;
    *pos = (size_t)p.pos;
    return true;
}

enum line_status linebuf_next(struct linebuf *lb, struct evbuffer *in, size_t max,
                              char *out, size_t *outlen)
{
    size_t pos;
    if (lb->discarding) {
        if (!find_lf(in, &pos)) {
            evbuffer_drain(in, evbuffer_get_length(in));
            return LINE_MORE;
        }
        evbuffer_drain(in, pos + 1);
        lb->discarding = false;
    }
    if (!find_lf(in, &pos)) {
        if (evbuffer_get_length(in) < max)
            return LINE_MORE;
        evbuffer_drain(in, evbuffer_get_length(in));
        lb->discarding = true;
        return LINE_TOO_LONG;
    }
    if (pos + 1 > max) {
        evbuffer_drain(in, pos + 1);
        return LINE_TOO_LONG;
    }
    evbuffer_remove(in, out, pos + 1);
    size_t n = pos;
    if (n > 0 && out[n - 1] == '\r')
        n--;
    out[n] = '\0';
    *outlen = n;
    return LINE_OK;
}
