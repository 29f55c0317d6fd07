/* esearch: the ESEARCH response (RFC 4731 3.1, RFC 9051 7.3.4) for SEARCH
 * and SORT (RFC 5267 3.2: results in sort order, MIN/MAX the first and the
 * last), with MODSEQ (RFC 7162 3.1.5), and SEARCH-family parse errors. */
#include "imap/imap.h"

#include <event2/buffer.h>
#include <string.h>

#include "imap/search.h"
#include "imap/search_parse.h"

/* A sequence-set of vals in their order: ascending runs become "a:b". */
static void add_set(struct evbuffer *o, const uint32_t *vals, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && vals[j + 1] == vals[j] + 1)
            j++;
        if (i)
            evbuffer_add(o, ",", 1);
        if (j > i)
            evbuffer_add_printf(o, "%u:%u", vals[i], vals[j]);
        else
            evbuffer_add_printf(o, "%u", vals[i]);
        i = j + 1;
    }
}

void imap_reply_esearch(struct session *s, bool uid, unsigned ret, const uint32_t *vals,
                        size_t n, uint64_t modseq)
{
    struct evbuffer *o = evbuffer_new();
    if (!o)
        return;
    evbuffer_add(o, "* ESEARCH (TAG ", 15);
    imap_buf_string(o, s->tag, strlen(s->tag), false);
    evbuffer_add(o, ")", 1);
    if (uid)
        evbuffer_add(o, " UID", 4);
    if ((ret & IMAP_SEARCH_RET_MIN) && n)
        evbuffer_add_printf(o, " MIN %u", vals[0]);
    if ((ret & IMAP_SEARCH_RET_MAX) && n)
        evbuffer_add_printf(o, " MAX %u", vals[n - 1]);
    if (ret & IMAP_SEARCH_RET_COUNT)
        evbuffer_add_printf(o, " COUNT %zu", n);
    if ((ret & IMAP_SEARCH_RET_ALL) && n) {
        evbuffer_add(o, " ALL ", 5);
        add_set(o, vals, n);
    }
    if (modseq && n)
        evbuffer_add_printf(o, " MODSEQ %llu", (unsigned long long)modseq);
    evbuffer_add(o, "\r\n", 2);
    imap_send(s, o);
    evbuffer_free(o);
}

void imap_reply_parse_error(struct session *s, int rc, const char *err)
{
    if (rc == IMAP_SEARCH_BADCHARSET)
        imap_tagged(s, "NO", "[BADCHARSET (UTF-8 US-ASCII)] unsupported charset");
    else
        imap_bad(s, err);
}
