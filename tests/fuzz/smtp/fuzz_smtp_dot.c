/* fuzz_smtp_dot: the DATA terminator / unstuffing state machine. The input
 * is fed in chunks whose sizes come from the first byte; the result must
 * not depend on the chunking, and output never exceeds input. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/dot.h"

static size_t run(const char *in, size_t n, size_t step, char *out, enum dot_state *st)
{
    struct dot d = {DOT_BOL};
    size_t i = 0, olen = 0;
    while (i < n && d.st != DOT_END) {
        size_t chunk = n - i < step ? n - i : step, o = 0;
        i += dot_feed(&d, in + i, chunk, out + olen, &o);
        olen += o;
    }
    *st = d.st;
    return olen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 16 + 1;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    char *a = malloc(n + 2), *b = malloc(n + 2);
    enum dot_state sa, sb;
    size_t la = run(in, n, n + 1, a, &sa), lb = run(in, n, step, b, &sb);
    assert(la == lb && sa == sb && memcmp(a, b, la) == 0 && la <= n);
    free(a);
    free(b);
    return 0;
}
