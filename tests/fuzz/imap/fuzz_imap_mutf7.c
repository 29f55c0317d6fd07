/* fuzz_imap_mutf7: modified UTF-7 both ways. Whatever decodes must encode
 * back to the same bytes (the encoding is canonical), and whatever UTF-8
 * encodes must decode back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "core/mutf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char dec[4096], enc[8192], back[4096];
    size_t dn, en, bn;
    if (mutf7_decode(in, size, dec, sizeof dec, &dn) == MUTF7_OK) {
        if (!utf8_valid((const unsigned char *)dec, dn))
            abort();
        if (mutf7_encode(dec, dn, enc, sizeof enc, &en) != MUTF7_OK)
            abort();
        if (en != size || memcmp(enc, in, size) != 0)
            abort(); /* decode then encode must give the input back */
    }
    if (mutf7_encode(in, size, enc, sizeof enc, &en) == MUTF7_OK) {
        if (mutf7_decode(enc, en, back, sizeof back, &bn) != MUTF7_OK)
            abort();
        if (bn != size || memcmp(back, in, size) != 0)
            abort();
    }
    return 0;
}
