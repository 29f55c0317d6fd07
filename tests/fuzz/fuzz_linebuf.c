/* Fuzzes the line splitter (core/linebuf.c): the input is cut into chunks
 * whose sizes come from the first bytes; lines never exceed the maximum and
 * the buffer never holds a whole maximum-length line without a verdict. */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/linebuf.h"

#define MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 17 + 1;
    data++, size--;
    struct evbuffer *in = evbuffer_new();
    struct linebuf lb = {0};
    char out[MAX + 1];
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        evbuffer_add(in, data + off, n);
        size_t len;
        enum line_status st;
        while ((st = linebuf_next(&lb, in, MAX, out, &len)) != LINE_MORE) {
            if (st == LINE_OK && (len + 1 > MAX || out[len] != '\0'))
                abort();
        }
        if (evbuffer_get_length(in) >= MAX)
            abort();
    }
    evbuffer_free(in);
    return 0;
}
