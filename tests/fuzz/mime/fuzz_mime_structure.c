/* Fuzzes the MIME structure code (scan, BODYSTRUCTURE, ENVELOPE, part
 * map, sort keys, search text) on messages written to a memfd: every part
 * range lies inside the file, CRLF sizes agree with the bytes, the cache
 * text reads back, and the scan does not depend on how reads are cut. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mime/module.h"
#include "mime/scan.h"
#include "mime/summary.h"

static uint64_t count_lf(const uint8_t *p, uint64_t n)
{
    uint64_t c = 0;
    for (uint64_t i = 0; i < n; i++)
        c += p[i] == '\n';
    return c;
}

static void check_parts(const struct mime_summary *s, const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < s->nparts; i++) {
        const struct mime_part *p = &s->parts[i];
        if (p->header_off + p->header_len != p->body_off ||
            p->body_off + p->body_len > size)
            abort();
        if (p->body_len_crlf != p->body_len + count_lf(data + p->body_off, p->body_len) ||
            p->header_len_crlf !=
                p->header_len + count_lf(data + p->header_off, p->header_len))
            abort();
        if (p->msg_header_len > p->body_len || mime_summary_part(s, p->section) == NULL)
            abort();
    }
}

static void check_cache(const struct mime_summary *s)
{
    char *text = mime_summary_serialise(s);
    struct mime_summary *back = mime_summary_parse(text);
    if (!text || !back || strcmp(back->bodystructure, s->bodystructure) != 0 ||
        back->nparts != s->nparts)
        abort();
    mime_summary_free(back);
    free(text);
}

static void check_cut_reads(int fd, const struct mime_summary *s)
{
    struct mime_scan a;
    if (mime_scan_fd(fd, 3, false, &a) < 0)
        abort();
    if (a.size != s->parts[0].body_off + s->parts[0].body_len)
        abort();
    mime_scan_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    struct mime_summary *s = portico_mime_summary_fd(fd);
    if (!s)
        abort(); /* every readable file gets a summary (summary.h) */
    check_parts(s, data, size);
    check_cache(s);
    check_cut_reads(fd, s);
    free(portico_mime_search_body(fd, 4096));
    free(portico_mime_search_header(fd, "subject"));
    free(portico_mime_envelope_fd(fd));
    mime_summary_free(s);
    close(fd);
    return 0;
}
