/* reader: buffered pread of a stored message, line by line (see reader.h).
 * The offset of the fd is never moved, so a caller may share the fd. */
#include "mime/reader.h"

#include "mime/limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mime_reader_init(struct mime_reader *r, int fd, size_t max_read)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->cap = MIME_READ_BUF;
    r->max_read = max_read;
    r->buf = malloc(r->cap);
    return r->buf ? 0 : -1;
}

void mime_reader_release(struct mime_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Moves the unread bytes to the front and reads more; false at EOF/error. */
static bool fill(struct mime_reader *r)
{
    if (r->eof)
        return false;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->buf_off += r->start;
        r->end -= r->start;
        r->start = 0;
    }
    size_t want = r->cap - r->end;
    if (r->max_read && want > r->max_read)
        want = r->max_read;
    ssize_t n;
    do
        n = pread(r->fd, r->buf + r->end, want, (off_t)(r->buf_off + r->end));
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        r->eof = true;
        r->error = n < 0;
        return false;
    }
    r->end += (size_t)n;
    return true;
}

/* Drops the rest of a truncated line, up to and including its LF. */
static void skip_rest(struct mime_reader *r)
{
    while (r->skipping) {
        unsigned char *lf = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (lf) {
            r->start = (size_t)(lf - r->buf) + 1;
            r->lfs++;
            r->skipping = false;
            r->last_has_lf = true;
            return;
        }
        r->start = r->end;
        if (!fill(r))
            r->skipping = false;
    }
}

static void set_line(struct mime_reader *r, size_t len, bool has_lf, bool truncated)
{
    r->cur.off = r->buf_off + r->start;
    r->cur.lf_before = r->lfs;
    r->cur.p = r->buf + r->start;
    r->cur.len = len;
    r->cur.has_lf = has_lf;
    r->cur.truncated = truncated;
    r->have = true;
}

const struct mime_line *mime_reader_peek(struct mime_reader *r)
{
    if (r->have)
        return &r->cur;
    skip_rest(r);
    for (;;) {
        size_t avail = r->end - r->start;
        unsigned char *lf = memchr(r->buf + r->start, '\n', avail);
        if (lf) {
            set_line(r, (size_t)(lf - (r->buf + r->start)), true, false);
            return &r->cur;
        }
        if (avail == r->cap) {
            set_line(r, avail, false, true);
            return &r->cur;
        }
        if (!fill(r)) {
            if (r->error || r->end == r->start)
                return NULL;
            set_line(r, r->end - r->start, false, false);
            return &r->cur;
        }
    }
}

void mime_reader_next(struct mime_reader *r)
{
    if (!r->have)
        return;
    r->have = false;
    r->last_empty = r->cur.len == 0;
    r->last_has_lf = r->cur.has_lf;
    if (r->cur.truncated) {
        r->start = r->end;
        r->skipping = true;
        return;
    }
    r->start += r->cur.len + (r->cur.has_lf ? 1 : 0);
    if (r->cur.has_lf)
        r->lfs++;
}

uint64_t mime_reader_tell(struct mime_reader *r)
{
    if (r->have)
        return r->cur.off;
    skip_rest(r);
    return r->buf_off + r->start;
}

uint64_t mime_reader_lfs(struct mime_reader *r)
{
    if (r->have)
        return r->cur.lf_before;
    skip_rest(r);
    return r->lfs;
}
