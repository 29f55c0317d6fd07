/* Fuzzes the upload form's multipart/form-data parser (http/multipart.c):
 * the first input line is the boundary, the rest the body, fed in chunks
 * whose size comes from the first byte. Every part's data is accounted for:
 * no more bytes come out than went in, header blocks are bounded, and each
 * header block's filename is a single path component. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/multipart.h"
#include "store/sandbox.h"

struct tally {
    size_t data, parts, ends;
};

static int on_part(void *arg, const char *hdr, size_t n)
{
    struct tally *t = arg;
    char name[256];
    if (n > HTTP_MAX_PART_HEADER)
        abort();
    if (http_multipart_filename(hdr, n, name, sizeof name) == 1 &&
        (strchr(name, '/') || strchr(name, '\\') || !name[0]))
        abort();
    t->parts++;
    return 0;
}

static int on_data(void *arg, const char *p, size_t n)
{
    ((struct tally *)arg)->data += n;
    return 0;
}

static int on_end(void *arg)
{
    ((struct tally *)arg)->ends++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct http_multipart_cb cb = {on_part, on_data, on_end};
    const uint8_t *nl = size > 1 ? memchr(data + 1, '\n', size - 1) : NULL;
    if (!nl)
        return 0;
    size_t step = data[0] % 23 + 1;
    char ct[128];
    size_t blen = (size_t)(nl - (data + 1));
    if (blen > 80)
        return 0;
    memcpy(ct, "multipart/form-data; boundary=", 30);
    memcpy(ct + 30, data + 1, blen);
    struct http_multipart *m = calloc(1, sizeof *m);
    struct tally t = {0};
    if (!m || http_multipart_init(m, (struct http_str){ct, 30 + blen}, &cb, &t) < 0) {
        free(m);
        return 0;
    }
    const char *body = (const char *)nl + 1;
    size_t n = size - (size_t)(nl + 1 - data);
    for (size_t off = 0; off < n; off += step) {
        size_t k = n - off < step ? n - off : step;
        if (http_multipart_feed(m, body + off, k) < 0)
            break;
    }
    if (t.data > n || t.ends > t.parts)
        abort();
    free(m);
    return 0;
}
