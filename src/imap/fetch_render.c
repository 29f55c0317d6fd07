/* fetch_render: the FETCH response of one message (RFC 9051 7.5.2
 * msg-att), built on a pool thread: FLAGS, INTERNALDATE, RFC822.SIZE,
 * UID, MODSEQ (RFC 7162 3.1.4), EMAILID/THREADID (RFC 8474 5), ENVELOPE,
 * BODY and BODYSTRUCTURE from the cached summary, and body sections as
 * literals whose size comes from the summary's CRLF sizes (or the store's
 * vsize); large literals are left in the file for the loop to stream. */
#include "imap/fetch.h"
#include "store/maildir.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imap/fetch_parse.h"
#include "imap/imap.h"
#include "mime/summary.h"
#include "store/mailbox.h"

/* Without a summary (the mime module missing) a message is shown as one
 * text/plain part, as RFC 2045 5.2 reads a message without MIME headers. */
#define ENVELOPE_NONE "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"

static bool item_body(const struct imap_fetch_item *it)
{
    switch (it->att) {
    case IMAP_FA_RFC822:
    case IMAP_FA_RFC822_HEADER:
    case IMAP_FA_RFC822_TEXT:
    case IMAP_FA_BODY_SECTION:
        return true;
    default:
        return false;
    }
}

/* The section an RFC822* item stands for (RFC 9051 6.4.5). */
static struct imap_fetch_item section_of(const struct imap_fetch_item *it)
{
    struct imap_fetch_item s = *it;
    if (it->att == IMAP_FA_RFC822 || it->att == IMAP_FA_RFC822_HEADER ||
        it->att == IMAP_FA_RFC822_TEXT) {
        s.part[0] = '\0';
        s.partial = false;
        s.text = IMAP_SECT_ALL;
        if (it->att == IMAP_FA_RFC822_HEADER)
            s.text = IMAP_SECT_HEADER;
        if (it->att == IMAP_FA_RFC822_TEXT)
            s.text = IMAP_SECT_TEXT;
    }
    return s;
}

/* What the store may have to learn first (store/index_fill.c): the date
 * for INTERNALDATE, the size on disk for a body (its range), the CRLF
 * size unless the summary's parse gives it. */
static void fetch_ctx_known(struct fetch_ctx *c)
{
    c->need_known = 0;
    for (size_t i = 0; i < c->f->n; i++)
        if (c->f->items[i].att == IMAP_FA_INTERNALDATE)
            c->need_known |= MAIL_NEED_DATE;
    if (c->need_file)
        c->need_known |= MAIL_NEED_SIZE;
    if (c->need_vsize && !c->need_summary)
        c->need_known |= MAIL_NEED_VSIZE;
}

void fetch_ctx_needs(struct fetch_ctx *c)
{
    c->need_summary = c->need_file = c->need_vsize = false;
    for (size_t i = 0; i < c->f->n; i++) {
        const struct imap_fetch_item *it = &c->f->items[i];
        if (it->att == IMAP_FA_RFC822_SIZE || it->att == IMAP_FA_BODY ||
            it->att == IMAP_FA_BODYSTRUCTURE || item_body(it))
            c->need_vsize = true;
        if (it->att == IMAP_FA_ENVELOPE || it->att == IMAP_FA_BODY ||
            it->att == IMAP_FA_BODYSTRUCTURE)
            c->need_summary = true;
        if (!item_body(it))
            continue;
        c->need_file = true;
        struct imap_fetch_item s = section_of(it);
        if (s.part[0] || s.text != IMAP_SECT_ALL)
            c->need_summary = true;
    }
    fetch_ctx_known(c);
}

/* ---- segments ---- */

static struct evbuffer *tail_buf(struct fetch_batch *b)
{
    if (b->n && b->segs[b->n - 1].buf)
        return b->segs[b->n - 1].buf;
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 8;
        struct fetch_seg *ns = realloc(b->segs, nc * sizeof *ns);
        if (!ns)
            return NULL;
        b->segs = ns;
        b->cap = nc;
    }
    struct fetch_seg *sg = &b->segs[b->n];
    memset(sg, 0, sizeof *sg);
    sg->fd = -1;
    sg->buf = evbuffer_new();
    if (!sg->buf)
        return NULL;
    b->n++;
    return sg->buf;
}

static int add_file_seg(struct fetch_batch *b, int fd, const struct fetch_range *r,
                        uint64_t skip, uint64_t take)
{
    if (!tail_buf(b)) /* keeps cap >= n + 1 below */
        return -1;
    if (b->n == b->cap) {
        size_t nc = b->cap * 2;
        struct fetch_seg *ns = realloc(b->segs, nc * sizeof *ns);
        if (!ns)
            return -1;
        b->segs = ns;
        b->cap = nc;
    }
    int dfd = dup(fd);
    if (dfd < 0)
        return -1;
    struct fetch_seg *sg = &b->segs[b->n++];
    memset(sg, 0, sizeof *sg);
    sg->fd = dfd;
    sg->off = r->off;
    sg->left = r->len;
    sg->pad = take;
    crlf_conv_init(&sg->conv, skip, take);
    return 0;
}

void fetch_batch_clear(struct fetch_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->segs[i].buf)
            evbuffer_free(b->segs[i].buf);
        if (b->segs[i].fd >= 0)
            close(b->segs[i].fd);
    }
    free(b->segs);
    memset(b, 0, sizeof *b);
}

/* ---- simple items ---- */

/* RFC 9051 9 date-time: "dd-Mon-yyyy hh:mm:ss +0000" (day space-padded). */
static void add_internaldate(struct evbuffer *o, int64_t t)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        memset(&tm, 0, sizeof tm);
    evbuffer_add_printf(o, "INTERNALDATE \"%2d-%s-%04d %02d:%02d:%02d +0000\"",
                        tm.tm_mday, mon[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
                        tm.tm_min, tm.tm_sec);
}

static unsigned imap_flags_of(unsigned mail)
{
    return mail; /* MAIL_* and the reply helper share the bit layout */
}

static void add_simple(struct evbuffer *o, const struct imap_fetch_item *it,
                       const struct mailbox_msg *m, const struct mime_summary *sum)
{
    switch (it->att) {
    case IMAP_FA_FLAGS:
        evbuffer_add(o, "FLAGS ", 6);
        imap_buf_flags(o, imap_flags_of(m->flags), m->keywords);
        break;
    case IMAP_FA_INTERNALDATE:
        add_internaldate(o, m->internaldate);
        break;
    case IMAP_FA_RFC822_SIZE:
        evbuffer_add_printf(o, "RFC822.SIZE %llu", (unsigned long long)m->vsize);
        break;
    case IMAP_FA_UID:
        evbuffer_add_printf(o, "UID %u", m->uid);
        break;
    case IMAP_FA_MODSEQ:
        evbuffer_add_printf(o, "MODSEQ (%llu)", (unsigned long long)m->modseq);
        break;
    case IMAP_FA_THREADID:
        evbuffer_add(o, "THREADID NIL", 12); /* RFC 8474 5.2: NIL allowed */
        break;
    case IMAP_FA_ENVELOPE:
        if (sum)
            evbuffer_add_printf(o, "ENVELOPE %s", sum->envelope);
        else
            evbuffer_add(o, "ENVELOPE " ENVELOPE_NONE, strlen("ENVELOPE " ENVELOPE_NONE));
        break;
    case IMAP_FA_BODY:
    case IMAP_FA_BODYSTRUCTURE: {
        const char *name = "BODY";
        const char *v = NULL;
        if (it->att == IMAP_FA_BODYSTRUCTURE)
            name = "BODYSTRUCTURE";
        if (sum && it->att == IMAP_FA_BODY)
            v = sum->body;
        else if (sum)
            v = sum->bodystructure;
        if (v)
            evbuffer_add_printf(o, "%s %s", name, v);
        else
            evbuffer_add_printf(
                o,
                "%s (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL "
                "\"7BIT\" %llu 0)",
                name, (unsigned long long)m->vsize);
        break;
    }
    default:
        break;
    }
}

/* RFC 8474 5.1: asked of the store (a batch's names make it no query). */
static int add_emailid(const struct fetch_ctx *c, struct evbuffer *o,
                       const struct mailbox_msg *m)
{
    char id[MAILBOX_EMAILID_LEN];
    if (mailbox_emailid(c->mb, m->uid, id, sizeof id) < 0)
        return -1;
    return evbuffer_add_printf(o, "EMAILID (%s)", id) < 0 ? -1 : 0;
}

/* ---- body sections ---- */

/* RFC 9051 6.4.5 <partial>: the window of a crlf-byte section. */
static void window(const struct imap_fetch_item *it, uint64_t crlf, uint64_t *skip,
                   uint64_t *take)
{
    *skip = 0;
    *take = crlf;
    if (!it->partial)
        return;
    *skip = it->offset;
    if (*skip > crlf)
        *skip = crlf;
    *take = crlf - *skip;
    if (*take > it->length)
        *take = it->length;
}

/* HEADER.FIELDS(.NOT): filtered in memory, then converted; NIL if the
 * header cannot be read (a file shorter than its summary says). */
static int add_fields(struct fetch_batch *b, int fd, const struct imap_fetch_item *it,
                      const struct fetch_range *r)
{
    uint64_t len = r->len;
    if (len > FETCH_MAX_HEADER)
        len = FETCH_MAX_HEADER;
    struct evbuffer *o = tail_buf(b);
    if (!o)
        return -1;
    char *hdr = fetch_read(fd, r->off, len);
    if (!hdr)
        return evbuffer_add(o, "NIL", 3);
    char *flt = malloc((size_t)len + 2);
    if (!flt) {
        free(hdr);
        return -1;
    }
    size_t n = fetch_header_filter(hdr, (size_t)len, it->fields, it->nfields,
                                   it->text == IMAP_SECT_HEADER_FIELDS_NOT, flt);
    bool cr = false;
    uint64_t crlf = crlf_length(flt, n, &cr);
    uint64_t skip, take;
    window(it, crlf, &skip, &take);
    struct crlf_conv cv;
    crlf_conv_init(&cv, skip, take);
    evbuffer_add_printf(o, "{%llu}\r\n", (unsigned long long)take);
    int rc = crlf_conv_feed(&cv, flt, n, o);
    free(hdr);
    free(flt);
    return rc;
}

/* A range read now and converted into the batch. The literal's size is
 * already sent: whatever the file holds, exactly take bytes follow. */
static int add_inline(struct fetch_batch *b, int fd, const struct fetch_range *r,
                      uint64_t skip, uint64_t take)
{
    struct evbuffer *o = tail_buf(b);
    if (!o)
        return -1;
    char *data = fetch_read(fd, r->off, r->len);
    size_t before = evbuffer_get_length(o);
    int rc = 0;
    if (data) {
        struct crlf_conv cv;
        crlf_conv_init(&cv, skip, take);
        rc = crlf_conv_feed(&cv, data, (size_t)r->len, o);
        free(data);
    }
    size_t got = evbuffer_get_length(o) - before;
    for (; rc == 0 && got < take; got++)
        rc = evbuffer_add(o, " ", 1);
    return rc;
}

static int add_section(struct fetch_batch *b, int fd, const struct imap_fetch_item *orig,
                       const struct mailbox_msg *m, const struct mime_summary *sum)
{
    struct imap_fetch_item it = section_of(orig);
    struct evbuffer *o = tail_buf(b);
    char name[512];
    if (!o)
        return -1;
    imap_fetch_item_name(orig, name, sizeof name);
    evbuffer_add_printf(o, "%s ", name);
    struct fetch_range r;
    fetch_section_range(sum, &it, m->size, m->vsize, &r);
    /* CRLF never shortens: a range longer than its CRLF size is a corrupt
     * cache entry. */
    if (r.nil || fd < 0 || r.len > r.crlf)
        return evbuffer_add(o, "NIL", 3);
    if (it.text == IMAP_SECT_HEADER_FIELDS || it.text == IMAP_SECT_HEADER_FIELDS_NOT)
        return add_fields(b, fd, &it, &r);
    uint64_t skip, take;
    window(&it, r.crlf, &skip, &take);
    evbuffer_add_printf(o, "{%llu}\r\n", (unsigned long long)take);
    if (take == 0)
        return 0;
    if (r.crlf <= FETCH_INLINE_MAX)
        return add_inline(b, fd, &r, skip, take);
    b->bytes += FETCH_INLINE_MAX; /* a stream ends the batch sooner */
    return add_file_seg(b, fd, &r, skip, take);
}

/* ---- one message ---- */

static bool asked(const struct imap_fetch *f, enum imap_fetch_att att)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->items[i].att == att)
            return true;
    return false;
}

/* Items the response carries without being asked: UID for UID FETCH (RFC
 * 9051 6.4.9), FLAGS when this FETCH set \Seen (6.4.5), MODSEQ under
 * CHANGEDSINCE (RFC 7162 3.1.4.1). */
static void add_implied(const struct fetch_ctx *c, const struct fetch_msg *fm,
                        struct evbuffer *o, bool *first)
{
    const struct mailbox_msg *m = fm->m;
    if (c->uid_cmd && !asked(c->f, IMAP_FA_UID)) {
        evbuffer_add_printf(o, "UID %u", m->uid);
        *first = false;
    }
    if (fm->flags && !asked(c->f, IMAP_FA_FLAGS)) {
        if (!*first)
            evbuffer_add(o, " ", 1);
        evbuffer_add(o, "FLAGS ", 6);
        imap_buf_flags(o, imap_flags_of(m->flags), m->keywords);
        *first = false;
    }
    if (c->want_modseq && !asked(c->f, IMAP_FA_MODSEQ)) {
        if (!*first)
            evbuffer_add(o, " ", 1);
        evbuffer_add_printf(o, "MODSEQ (%llu)", (unsigned long long)m->modseq);
        *first = false;
    }
}

static int render_items(const struct fetch_ctx *c, const struct fetch_msg *fm,
                        struct fetch_batch *b, int fd, const struct mime_summary *sum)
{
    struct evbuffer *o = tail_buf(b);
    if (!o)
        return -1;
    evbuffer_add_printf(o, "* %u FETCH (", fm->seq);
    bool first = true;
    add_implied(c, fm, o, &first);
    for (size_t i = 0; i < c->f->n; i++) {
        const struct imap_fetch_item *it = &c->f->items[i];
        if (it->att == IMAP_FA_BINARY || it->att == IMAP_FA_BINARY_SIZE)
            continue; /* refused before rendering (not advertised) */
        if (!(o = tail_buf(b)))
            return -1;
        if (!first)
            evbuffer_add(o, " ", 1);
        first = false;
        if (item_body(it)) {
            if (add_section(b, fd, it, fm->m, sum) < 0)
                return -1;
        } else if (it->att == IMAP_FA_EMAILID) {
            if (add_emailid(c, o, fm->m) < 0)
                return -1;
        } else {
            add_simple(o, it, fm->m, sum);
        }
    }
    if (!(o = tail_buf(b)))
        return -1;
    return evbuffer_add(o, ")\r\n", 3);
}

/* RFC822.SIZE of a message whose size the store has not counted: the
 * summary's whole-message ranges, else the file (the one open for the
 * body, or opened for this). */
static uint64_t unmeasured_vsize(const struct fetch_ctx *c, const struct fetch_msg *fm,
                                 const struct mime_summary *sum, int fd)
{
    uint64_t size = 0, vsize = mime_summary_vsize(sum);
    if (vsize != 0)
        return vsize;
    int own = -1;
    if (fd < 0)
        fd = own = mailbox_message_open(c->mb, fm->m->uid);
    if (fd >= 0 && maildir_measure(fd, &size, &vsize) < 0)
        vsize = 0;
    if (own >= 0)
        close(own);
    return vsize;
}

int fetch_render_msg(const struct fetch_ctx *c, const struct fetch_msg *fm,
                     struct fetch_batch *b)
{
    struct mime_summary *sum = NULL;
    int fd = -1;
    if (c->need_summary && fm->summary) {
        sum = mime_summary_parse(fm->summary);
    } else if (c->need_summary) {
        char *text = mailbox_summary(c->mb, fm->m->uid);
        if (text)
            sum = mime_summary_parse(text);
        free(text);
    }
    if (c->need_file)
        fd = mailbox_message_open(c->mb, fm->m->uid);
    struct mailbox_msg sized;
    struct fetch_msg one = *fm;
    if (c->need_vsize && mailbox_vsize_unknown(fm->m)) {
        struct mail_known k = {fm->m->uid, fm->m->internaldate, fm->m->size,
                               unmeasured_vsize(c, fm, sum, fd)};
        if (k.vsize != 0)
            one.m = imap_msg_known(fm->m, &k, &sized);
    }
    size_t before = 0;
    if (b->n && b->segs[b->n - 1].buf)
        before = evbuffer_get_length(b->segs[b->n - 1].buf);
    int rc = render_items(c, &one, b, fd, sum);
    if (b->n && b->segs[b->n - 1].buf) {
        size_t after = evbuffer_get_length(b->segs[b->n - 1].buf);
        if (after > before)
            b->bytes += after - before;
    }
    if (fd >= 0)
        close(fd);
    mime_summary_free(sum);
    return rc;
}

/* ---- sending, on the loop ---- */

/* Streams a file segment: about room converted bytes per call. */
static int send_file(struct fetch_seg *sg, struct evbuffer *out, size_t room)
{
    char chunk[16384];
    size_t before = evbuffer_get_length(out);
    while (sg->left > 0 && sg->conv.take > 0 &&
           evbuffer_get_length(out) - before < room) {
        size_t want = sizeof chunk;
        if (want > sg->left)
            want = (size_t)sg->left;
        ssize_t r = pread(sg->fd, chunk, want, (off_t)sg->off);
        if (r <= 0)
            break; /* a shorter file than its summary: padded below */
        uint64_t take_before = sg->conv.take;
        if (crlf_conv_feed(&sg->conv, chunk, (size_t)r, out) < 0)
            return -1;
        sg->pad -= take_before - sg->conv.take;
        sg->off += (uint64_t)r;
        sg->left -= (uint64_t)r;
    }
    if (sg->left > 0 && sg->conv.take > 0 && evbuffer_get_length(out) - before >= room)
        return 0;
    /* Done (or the file ended early): owe the client the announced size. */
    for (; sg->pad > 0; sg->pad--)
        if (evbuffer_add(out, " ", 1) < 0)
            return -1;
    return 1;
}

int fetch_batch_send(struct fetch_batch *b, struct evbuffer *out, size_t room)
{
    size_t start = evbuffer_get_length(out);
    while (b->cur < b->n) {
        size_t sent = evbuffer_get_length(out) - start;
        if (sent >= room)
            return 0;
        struct fetch_seg *sg = &b->segs[b->cur];
        if (sg->buf) {
            evbuffer_remove_buffer(sg->buf, out, room - sent);
            if (evbuffer_get_length(sg->buf) > 0)
                return 0;
        } else {
            int r = send_file(sg, out, room - sent);
            if (r < 0)
                return -1;
            if (r == 0)
                return 0;
        }
        b->cur++;
    }
    return 1;
}
