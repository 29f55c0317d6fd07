/* Unit tests of sftp/packet.c: framing fed one byte at a time (so every
 * "need more" path runs), each request type's fields, attributes with and
 * without extended pairs, the OpenSSH extensions, and malformed packets
 * (short strings, lengths past the end, 4 GiB announcements). */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "core/limits.h"
#include "sftp/packet.h"

struct buf {
    uint8_t b[4096];
    size_t n;
};

static void u8(struct buf *b, uint8_t v)
{
    b->b[b->n++] = v;
}

static void u32(struct buf *b, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        u8(b, (uint8_t)(v >> (8 * i)));
}

static void u64(struct buf *b, uint64_t v)
{
    u32(b, (uint32_t)(v >> 32));
    u32(b, (uint32_t)v);
}

static void str(struct buf *b, const char *s)
{
    u32(b, (uint32_t)strlen(s));
    memcpy(b->b + b->n, s, strlen(s));
    b->n += strlen(s);
}

/* Wraps body as a packet (length prefix) into out. */
static void packet(struct buf *out, const struct buf *body)
{
    out->n = 0;
    u32(out, (uint32_t)body->n);
    memcpy(out->b + out->n, body->b, body->n);
    out->n += body->n;
}

/* Feeds the stream one byte at a time: NEED until the last byte. */
static void frame_bytewise(const struct buf *p)
{
    size_t total = 0;
    for (size_t i = 0; i < p->n; i++)
        assert_int_equal(sftp_frame(p->b, i, SFTP_MAX_PACKET, &total), SFTP_FRAME_NEED);
    assert_int_equal(sftp_frame(p->b, p->n, SFTP_MAX_PACKET, &total), SFTP_FRAME_OK);
    assert_int_equal(total, p->n);
}

static void test_init(void **state)
{
    struct buf body = {.n = 0}, p;
    u8(&body, SSH_FXP_INIT);
    u32(&body, 3);
    packet(&p, &body);
    frame_bytewise(&p);
    struct sftp_req r;
    assert_int_equal(sftp_decode(p.b + 4, p.n - 4, &r), SFTP_DECODE_OK);
    assert_int_equal(r.type, SSH_FXP_INIT);
    assert_int_equal(r.version, 3);
}

static void test_open_with_attrs(void **state)
{
    struct buf body = {.n = 0}, p;
    u8(&body, SSH_FXP_OPEN);
    u32(&body, 77);
    str(&body, "/dir/file.txt");
    u32(&body, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC);
    u32(&body, SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_PERMISSIONS |
                   SSH_FILEXFER_ATTR_ACMODTIME | SSH_FILEXFER_ATTR_EXTENDED);
    u64(&body, 1234);
    u32(&body, 0640);
    u32(&body, 100);
    u32(&body, 200);
    u32(&body, 1);
    str(&body, "name@x");
    str(&body, "value");
    packet(&p, &body);
    frame_bytewise(&p);
    struct sftp_req r;
    assert_int_equal(sftp_decode(p.b + 4, p.n - 4, &r), SFTP_DECODE_OK);
    assert_int_equal(r.id, 77);
    assert_true(sftp_str_is(r.a, "/dir/file.txt"));
    assert_int_equal(r.pflags, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC);
    assert_int_equal(r.attrs.size, 1234);
    assert_int_equal(r.attrs.perm, 0640);
    assert_int_equal(r.attrs.atime, 100);
    assert_int_equal(r.attrs.mtime, 200);
}

static void test_write_read(void **state)
{
    struct buf body = {.n = 0}, p;
    u8(&body, SSH_FXP_WRITE);
    u32(&body, 5);
    str(&body, "HANDLE01");
    u64(&body, 1ull << 40);
    str(&body, "payload");
    packet(&p, &body);
    frame_bytewise(&p);
    struct sftp_req r;
    assert_int_equal(sftp_decode(p.b + 4, p.n - 4, &r), SFTP_DECODE_OK);
    assert_int_equal(r.offset, 1ull << 40);
    assert_true(sftp_str_is(r.data, "payload"));
    assert_true(sftp_str_is(r.a, "HANDLE01"));

    body.n = 0;
    u8(&body, SSH_FXP_READ);
    u32(&body, 6);
    str(&body, "H");
    u64(&body, 9);
    u32(&body, 32768);
    packet(&p, &body);
    assert_int_equal(sftp_decode(p.b + 4, p.n - 4, &r), SFTP_DECODE_OK);
    assert_int_equal(r.len, 32768);
    assert_int_equal(r.offset, 9);
}

static void test_two_paths_and_ext(void **state)
{
    struct buf body = {.n = 0};
    struct sftp_req r;
    u8(&body, SSH_FXP_SYMLINK);
    u32(&body, 1);
    str(&body, "target");
    str(&body, "link");
    assert_int_equal(sftp_decode(body.b, body.n, &r), SFTP_DECODE_OK);
    assert_true(sftp_str_is(r.a, "target"));
    assert_true(sftp_str_is(r.b, "link"));

    static const struct {
        const char *name;
        enum sftp_ext ext;
        int nstr;
    } exts[] = {{"posix-rename@openssh.com", SFTP_EXT_POSIX_RENAME, 2},
                {"hardlink@openssh.com", SFTP_EXT_HARDLINK, 2},
                {"statvfs@openssh.com", SFTP_EXT_STATVFS, 1},
                {"fstatvfs@openssh.com", SFTP_EXT_FSTATVFS, 1},
                {"fsync@openssh.com", SFTP_EXT_FSYNC, 1},
                {"expand-path@openssh.com", SFTP_EXT_EXPAND_PATH, 1},
                {"home-directory", SFTP_EXT_HOME_DIR, 1},
                {"limits@openssh.com", SFTP_EXT_LIMITS, 0},
                {"copy-data", SFTP_EXT_UNKNOWN, 0}};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        body.n = 0;
        u8(&body, SSH_FXP_EXTENDED);
        u32(&body, 9);
        str(&body, exts[i].name);
        for (int k = 0; k < exts[i].nstr; k++)
            str(&body, k == 0 ? "/one" : "/two");
        assert_int_equal(sftp_decode(body.b, body.n, &r), SFTP_DECODE_OK);
        assert_int_equal(r.ext, exts[i].ext);
        if (exts[i].nstr > 0)
            assert_true(sftp_str_is(r.a, "/one"));
        if (exts[i].nstr > 1)
            assert_true(sftp_str_is(r.b, "/two"));
        /* one byte short of its last argument: malformed */
        if (exts[i].nstr > 0)
            assert_int_equal(sftp_decode(body.b, body.n - 1, &r), SFTP_DECODE_BAD);
    }
}

/* Every truncation of a valid request is malformed, never a read past it;
 * the id is known as soon as its 4 bytes are there. */
static void test_truncations(void **state)
{
    struct buf body = {.n = 0};
    u8(&body, SSH_FXP_SETSTAT);
    u32(&body, 42);
    str(&body, "/p");
    u32(&body, SSH_FILEXFER_ATTR_UIDGID | SSH_FILEXFER_ATTR_EXTENDED);
    u32(&body, 1);
    u32(&body, 2);
    u32(&body, 1);
    str(&body, "a");
    str(&body, "b");
    struct sftp_req r;
    assert_int_equal(sftp_decode(body.b, body.n, &r), SFTP_DECODE_OK);
    assert_int_equal(r.attrs.uid, 1);
    assert_int_equal(r.attrs.gid, 2);
    for (size_t n = 0; n < body.n; n++) {
        assert_int_equal(sftp_decode(body.b, n, &r), SFTP_DECODE_BAD);
        if (n >= 5)
            assert_int_equal(r.id, 42);
    }
}

static void test_bad_lengths(void **state)
{
    uint8_t huge[8] = {0xff, 0xff, 0xff, 0xff, SSH_FXP_WRITE, 0, 0, 0};
    size_t total = 0;
    assert_int_equal(sftp_frame(huge, sizeof huge, SFTP_MAX_PACKET, &total),
                     SFTP_FRAME_TOO_BIG);
    uint8_t over[4] = {0, 0, (SFTP_MAX_PACKET + 1) >> 8, (SFTP_MAX_PACKET + 1) & 0xff};
    assert_int_equal(sftp_frame(over, 4, SFTP_MAX_PACKET, &total), SFTP_FRAME_TOO_BIG);
    uint8_t zero[4] = {0, 0, 0, 0};
    assert_int_equal(sftp_frame(zero, 4, SFTP_MAX_PACKET, &total), SFTP_FRAME_EMPTY);
    /* a string announcing more than the packet holds */
    struct buf body = {.n = 0};
    struct sftp_req r;
    u8(&body, SSH_FXP_STAT);
    u32(&body, 3);
    u32(&body, 0xfffffff0u);
    u8(&body, 'x');
    assert_int_equal(sftp_decode(body.b, body.n, &r), SFTP_DECODE_BAD);
    /* too many extended attribute pairs */
    body.n = 0;
    u8(&body, SSH_FXP_MKDIR);
    u32(&body, 3);
    str(&body, "d");
    u32(&body, SSH_FILEXFER_ATTR_EXTENDED);
    u32(&body, SFTP_MAX_ATTR_EXT + 1);
    assert_int_equal(sftp_decode(body.b, body.n, &r), SFTP_DECODE_BAD);
    /* an unknown type is unsupported, with its id */
    body.n = 0;
    u8(&body, 99);
    u32(&body, 8);
    assert_int_equal(sftp_decode(body.b, body.n, &r), SFTP_DECODE_UNKNOWN);
    assert_int_equal(r.id, 8);
    assert_int_equal(sftp_decode(body.b, 0, &r), SFTP_DECODE_BAD);
}

/* Two packets back to back, fed bytewise: the first frames alone. */
static void test_pipelined(void **state)
{
    struct buf a = {.n = 0}, p1, stream = {.n = 0};
    u8(&a, SSH_FXP_REALPATH);
    u32(&a, 1);
    str(&a, ".");
    packet(&p1, &a);
    memcpy(stream.b, p1.b, p1.n);
    memcpy(stream.b + p1.n, p1.b, p1.n);
    stream.n = 2 * p1.n;
    size_t total = 0;
    for (size_t i = p1.n; i <= stream.n; i++) {
        assert_int_equal(sftp_frame(stream.b, i, SFTP_MAX_PACKET, &total), SFTP_FRAME_OK);
        assert_int_equal(total, p1.n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),        cmocka_unit_test(test_open_with_attrs),
        cmocka_unit_test(test_write_read),  cmocka_unit_test(test_two_paths_and_ext),
        cmocka_unit_test(test_truncations), cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_pipelined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
