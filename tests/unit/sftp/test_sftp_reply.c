/* Unit tests of sftp/reply.c: packet lengths, STATUS layout, attributes
 * from a stat, the ls -l longname, and sshkeys.c's authorized_keys parsing
 * (the fingerprint ssh-keygen -l prints for a known key). */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "auth/sshkeys.h"
#include "sftp/packet.h"
#include "sftp/reply.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_status(void **state)
{
    struct sftp_out o;
    sftp_out_init(&o);
    sftp_put_status(&o, 7, SSH_FX_NO_SUCH_FILE, "No such file");
    assert_int_equal(o.len, 4 + 1 + 4 + 4 + 4 + 12 + 4);
    assert_int_equal(be32(o.buf), o.len - 4);
    assert_int_equal(o.buf[4], SSH_FXP_STATUS);
    assert_int_equal(be32(o.buf + 5), 7);
    assert_int_equal(be32(o.buf + 9), SSH_FX_NO_SUCH_FILE);
    assert_int_equal(be32(o.buf + 13), 12);
    assert_memory_equal(o.buf + 17, "No such file", 12);
    /* a second packet after the first, and a cancelled third */
    size_t first = o.len;
    sftp_begin(&o, SSH_FXP_ATTRS, 8);
    struct stat st = {.st_size = 5, .st_mode = S_IFREG | 0644, .st_mtime = 10};
    sftp_put_stat(&o, &st);
    sftp_end(&o);
    assert_int_equal(be32(o.buf + first), o.len - first - 4);
    assert_int_equal(be32(o.buf + first + 9), 0xf); /* size|uidgid|perm|times */
    size_t second = o.len;
    sftp_begin(&o, SSH_FXP_NAME, 9);
    sftp_put_u32(&o, 0);
    sftp_cancel(&o);
    assert_int_equal(o.len, second);
    sftp_out_free(&o);
}

static void test_longname(void **state)
{
    char out[512];
    struct stat st = {.st_mode = S_IFDIR | 0755, .st_nlink = 2, .st_size = 4096};
    st.st_mtime = 1700000000;
    sftp_longname(out, sizeof out, &st, "docs", "alice", 1700000000 + 60);
    assert_string_equal(out,
                        "drwxr-xr-x    2 alice    alice        4096 Nov 14 22:13 docs");
    st.st_mode = S_IFREG | 0600;
    sftp_longname(out, sizeof out, &st, "old", "alice", 1700000000 + 400L * 86400);
    assert_string_equal(out,
                        "-rw-------    2 alice    alice        4096 Nov 14  2023 old");
}

static void test_sshkey_parse(void **state)
{
    struct sshkey k;
    const char *why = NULL;
    /* a made-up key: the format is checked here; test_sftp_keys.py compares
     * fingerprints with ssh-keygen -l on real keys */
    const char *line =
        "ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIPB4MeQ7Uf1qQDSqqyZ5cXvsGDtzAZJMI8XvNEoqHq+e"
        " someone@host\n";
    int rc = sshkey_parse(line, &k, &why);
    assert_int_equal(rc, 0);
    assert_string_equal(k.type, "ssh-ed25519");
    assert_string_equal(k.comment, "someone@host");
    assert_int_equal(strncmp(k.fingerprint, "SHA256:", 7), 0);
    assert_int_equal(strlen(k.fingerprint), 7 + 43);
    const char *bad[] = {
        "",
        "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
        "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIPB4MeQ7Uf1qQDSqqyZ5cXvsGDtzAZJMI8XvNEoqHq+e",
        "ssh-ed25519 !!!notbase64!!!",
        "command=\"x\" ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIPB4MeQ7Uf1qQDSqqyZ5cXvsGDtzAZJMI8XvNEoqHq+e",
        "ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIPB4MeQ7Uf1qQDSqqyZ5cXvsGDtzAZJMI8XvNEoqHq+e a\nb",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sshkey_parse(bad[i], &k, &why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_longname),
        cmocka_unit_test(test_sshkey_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
