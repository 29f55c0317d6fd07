/* Fuzzes sftp/packet.c: the input is a byte stream of SFTP packets, framed
 * and decoded as the session does (max SFTP_MAX_PACKET), then the bytes
 * are also decoded as a bare attribute block. Every string the decoder
 * returns must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "sftp/packet.h"

static void check_str(struct sftp_str s, const uint8_t *lo, const uint8_t *hi)
{
    if (s.len > 0 && (s.p < lo || s.p + s.len > hi))
        abort();
}

static void decode_one(const uint8_t *body, size_t len)
{
    struct sftp_req r;
    if (sftp_decode(body, len, &r) != SFTP_DECODE_OK)
        return;
    const uint8_t *hi = body + len;
    check_str(r.a, body, hi);
    check_str(r.b, body, hi);
    check_str(r.data, body, hi);
    check_str(r.ext_name, body, hi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t used = 0, total = 0;
    while (used < size) {
        enum sftp_frame f = sftp_frame(data + used, size - used, SFTP_MAX_PACKET, &total);
        if (f != SFTP_FRAME_OK)
            break;
        if (total < 4 || total > size - used)
            abort();
        decode_one(data + used + 4, total - 4);
        used += total;
    }
    struct sftp_cur c = {data, size, false};
    struct sftp_attrs a;
    (void)sftp_attrs_decode(&c, &a);
    if (c.left > size)
        abort();
    return 0;
}
