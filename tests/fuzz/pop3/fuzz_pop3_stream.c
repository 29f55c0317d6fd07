/* Fuzzes the POP3 wire converter and argument parsers: converted output
 * never contains a bare LF, never a line "." alone before the end, and TOP
 * with n lines never emits more than the header plus n body lines. */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/pop3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    bool top = data[0] & 1;
    uint64_t lines = data[1] % 8;
    size_t step = (size_t)(data[0] >> 1) % 31 + 1;
    data += 2, size -= 2;
    struct pop3_conv c;
    struct evbuffer *out = evbuffer_new();
    pop3_conv_init(&c, top, lines);
    for (size_t off = 0; off < size && !c.done; off += step) {
        size_t n = size - off < step ? size - off : step;
        pop3_conv_feed(&c, (const char *)data + off, n, out);
    }
    pop3_conv_finish(&c, out);
    size_t len = evbuffer_get_length(out);
    const char *s = (const char *)evbuffer_pullup(out, -1);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            abort(); /* every LF is part of a CRLF */
        if (s[i] == '.' && (i == 0 || s[i - 1] == '\n') && i + 2 < len + 1 &&
            (i + 1 < len && s[i + 1] == '\r') && i + 2 < len && s[i + 2] == '\n')
            abort(); /* "." alone on a line would end the reply early */
    }
    evbuffer_free(out);
    char arg[32];
    size_t n = size < sizeof arg - 1 ? size : sizeof arg - 1;
    memcpy(arg, data, n);
    arg[n] = '\0';
    uint32_t msg;
    pop3_parse_msgno(arg, &msg);
    pop3_parse_top(arg, &msg, &lines);
    return 0;
}
