/* libFuzzer harness for core/reply.c: arbitrary server output split into
 * lines by linebuf with REPLY_MAX_LINE, as the client-mode session reads
 * it. The first byte chooses how many bytes go in per step, so partial
 * lines are exercised too. Invariants: text stays NUL-terminated within
 * bounds, a DONE reply has a valid code and 1..REPLY_MAX_LINES lines. */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/linebuf.h"
#include "core/reply.h"

static void check(const struct reply *r)
{
    if (r->code < 100 || r->code > 559 || r->lines == 0 || r->lines > REPLY_MAX_LINES)
        abort();
    if (r->len >= sizeof r->text || r->text[r->len] != '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    static struct reply_parser p;
    static char line[REPLY_MAX_LINE + 1];
    struct linebuf lb = {0};
    struct evbuffer *in = evbuffer_new();
    reply_parser_init(&p);
    for (size_t at = 0; at < size && !p.error; at += step) {
        size_t n = size - at < step ? size - at : step;
        evbuffer_add(in, data + at, n);
        for (;;) {
            size_t len = 0;
            enum line_status ls = linebuf_next(&lb, in, REPLY_MAX_LINE, line, &len);
            if (ls == LINE_MORE)
                break;
            enum reply_status st;
            if (ls == LINE_TOO_LONG)
                st = reply_line_too_long(&p);
            else
                st = reply_parser_line(&p, line, len);
            if (st == REPLY_DONE)
                check(&p.reply);
            if (st == REPLY_ERROR)
                break;
        }
        if (evbuffer_get_length(in) > REPLY_MAX_LINE)
            abort(); /* linebuf must bound what it holds */
    }
    evbuffer_free(in);
    return 0;
}
