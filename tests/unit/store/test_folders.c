/* test_folders: folder names (modified UTF-7 on disk, bad names refused),
 * flag letters and keyword lists, the folder functions (create with
 * parents, delete, rename with children and of INBOX, subscriptions,
 * status, MAILBOXID across rename), a directory scan in base order with
 * each entry whole (the pointer sort), and a 10,000-message folder: warm
 * snapshot and STATUS without a scan, 10,000 flag changes in one call. */
#include "store_fixture.h"

#include <errno.h>
#include <time.h>

#include "core/mutf7.h"
#include "store/flags.h"
#include "store/folder_name.h"
#include "store/maildir.h"

/* The store's use of the codec: whole NUL-terminated names. */
static int enc(const char *in, char *out, size_t outlen)
{
    size_t n;
    return mutf7_encode(in, strlen(in), out, outlen, &n);
}

static int dec(const char *in, char *out, size_t outlen)
{
    size_t n;
    return mutf7_decode(in, strlen(in), out, outlen, &n);
}

static void test_mutf7(void **state)
{
    char out[128];
    assert_int_equal(enc("Entwürfe", out, sizeof out), 0);
    assert_string_equal(out, "Entw&APw-rfe");
    assert_int_equal(enc("日本語", out, sizeof out), 0);
    assert_string_equal(out, "&ZeVnLIqe-");
    assert_int_equal(enc("R&D", out, sizeof out), 0);
    assert_string_equal(out, "R&-D");
    assert_int_equal(enc("\xf0\x9f\x98\x80", out, sizeof out), 0); /* U+1F600 */
    assert_string_equal(out, "&2D3eAA-");
    assert_int_equal(dec("&2D3eAA-", out, sizeof out), 0);
    assert_string_equal(out, "\xf0\x9f\x98\x80");
    assert_int_equal(dec("Entw&APw-rfe", out, sizeof out), 0);
    assert_string_equal(out, "Entwürfe");
    assert_int_equal(dec("R&-D", out, sizeof out), 0);
    assert_string_equal(out, "R&D");
    assert_int_equal(enc("\xff", out, sizeof out), -1);     /* not UTF-8 */
    assert_int_equal(enc("\xc0\xaf", out, sizeof out), -1); /* overlong */
    assert_int_equal(dec("&APw", out, sizeof out), -1);     /* unterminated */
    assert_int_equal(dec("&AGE-", out, sizeof out), -1);    /* 'a' encoded */
    assert_int_equal(dec("&2D0-", out, sizeof out), -1);    /* lone surrogate */
    assert_int_equal(enc("Entwürfe", out, 5), MUTF7_NO_ROOM);
}

static void test_folder_names(void **state)
{
    char out[MAIL_MAX_FOLDER + 2];
    assert_int_equal(folder_name_canon("inbox", out, sizeof out), 0);
    assert_string_equal(out, "INBOX");
    assert_int_equal(folder_name_canon("Inbox/Sub", out, sizeof out), 0);
    assert_string_equal(out, "INBOX/Sub");
    assert_int_equal(folder_name_to_dir("A/Entwürfe", out, sizeof out), 0);
    assert_string_equal(out, ".A.Entw&APw-rfe");
    assert_int_equal(folder_name_to_dir("INBOX", out, sizeof out), 0);
    assert_string_equal(out, ".");
    assert_int_equal(folder_name_from_dir(".A.Entw&APw-rfe", out, sizeof out), 0);
    assert_string_equal(out, "A/Entwürfe");
    assert_int_equal(folder_name_from_dir("..portico-deleted-1", out, sizeof out), -1);
    assert_int_equal(folder_name_from_dir(".A.&AGE-", out, sizeof out), -1);

    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    /* 240 bytes of UTF-8 fit, but not their modified UTF-7 (NAME_MAX). */
    char wide[MAIL_MAX_FOLDER + 1] = "";
    for (int i = 0; i < 120; i++)
        strcat(wide, "\xc3\xa9");
    const char *bad[] = {"",     "..",    "a/../b", "/a",     "a/",
                         "a//b", "a\x01", "a\x7f",  "a.b",    ".hidden",
                         "a*",   "50%",   "\xff",   longname, wide};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_int_equal(folder_name_to_dir(bad[i], out, sizeof out), -1);
        assert_int_equal(errno, EINVAL);
        errno = 0;
        assert_int_equal(store_folder_create(datafd, &alice, bad[i]), -1);
        assert_int_equal(errno, EINVAL);
    }
}

static void test_flags_pure(void **state)
{
    char info[MAIL_MAX_INFO], kw[MAIL_MAX_KEYWORDS_LEN + 1];
    unsigned extra;
    assert_int_equal(mail_flags_from_info("DFPRST"), MAIL_SEEN | MAIL_ANSWERED |
                                                         MAIL_FLAGGED | MAIL_DELETED |
                                                         MAIL_DRAFT | MAIL_FORWARDED);
    assert_int_equal(mail_flags_from_info("ab"), 0);
    /* ASCII order; another program's letters kept; old system ones replaced. */
    assert_int_equal(
        mail_flags_to_info(MAIL_SEEN | MAIL_FLAGGED, "Tab", info, sizeof info), 0);
    assert_string_equal(info, "FSab");
    assert_int_equal(mail_flags_to_info(0, "", info, sizeof info), 0);
    assert_string_equal(info, "");

    assert_int_equal(
        mail_keywords_normalise("  foo Foo bar $forwarded ", kw, sizeof kw, &extra), 0);
    assert_string_equal(kw, "foo bar");
    assert_int_equal(extra, MAIL_FORWARDED);
    assert_int_equal(mail_keywords_normalise(NULL, kw, sizeof kw, &extra), 0);
    assert_string_equal(kw, "");
    const char *bad[] = {"a(b", "\\Seen", "x]", "caf\xc3\xa9", "q\"", "a%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_int_equal(mail_keywords_normalise(bad[i], kw, sizeof kw, &extra), -1);
        assert_int_equal(errno, EINVAL);
    }
    char many[MAIL_MAX_KEYWORDS * 8] = "";
    for (int i = 0; i <= MAIL_MAX_KEYWORDS; i++) {
        char w[8];
        snprintf(w, sizeof w, "k%d ", i);
        strcat(many, w);
    }
    assert_int_equal(mail_keywords_normalise(many, kw, sizeof kw, &extra), -1);
    assert_int_equal(errno, E2BIG);

    unsigned flags = MAIL_SEEN;
    assert_int_equal(
        mail_flags_apply(MAILBOX_FLAGS_ADD, MAIL_DRAFT, "b", &flags, "a", kw, sizeof kw),
        0);
    assert_int_equal(flags, MAIL_SEEN | MAIL_DRAFT);
    assert_string_equal(kw, "a b");
    assert_int_equal(mail_flags_apply(MAILBOX_FLAGS_REMOVE, MAIL_SEEN, "A", &flags, "a b",
                                      kw, sizeof kw),
                     0);
    assert_int_equal(flags, MAIL_DRAFT);
    assert_string_equal(kw, "b");
    assert_int_equal(
        mail_flags_apply(MAILBOX_FLAGS_SET, MAIL_FLAGGED, "", &flags, "b", kw, sizeof kw),
        0);
    assert_int_equal(flags, MAIL_FLAGGED);
    assert_string_equal(kw, "");
}

static const struct mail_folder *listed(const struct mail_folder *v, size_t n,
                                        const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

static bool dir_exists(const char *rel)
{
    char path[400];
    struct stat st;
    mail_path(path, sizeof path, rel);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void status(const char *name, struct mail_status *st)
{
    assert_int_equal(store_folder_status(datafd, &alice, name, st), 0);
}

static void test_create_delete_list(void **state)
{
    assert_int_equal(store_folder_create(datafd, &alice, "Work/Projects/2024"), 0);
    assert_true(dir_exists(".Work/cur"));
    assert_true(dir_exists(".Work.Projects/cur"));
    assert_true(dir_exists(".Work.Projects.2024/new"));
    assert_int_equal(store_folder_create(datafd, &alice, "Work/Projects/2024"), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(store_folder_create(datafd, &alice, "inbox"), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(store_folder_create(datafd, &alice, "Entwürfe"), 0);
    assert_true(dir_exists(".Entw&APw-rfe/tmp"));

    struct mail_folder *v;
    size_t n;
    assert_int_equal(store_folder_list(datafd, &alice, &v, &n), 0);
    assert_string_equal(v[0].name, "INBOX");
    assert_true(v[0].exists);
    const struct mail_folder *f = listed(v, n, "Work");
    assert_non_null(f);
    assert_true(f->exists && f->has_children);
    assert_true(f->mailboxid[0] == 'F');
    f = listed(v, n, "Work/Projects/2024");
    assert_true(f && f->exists && !f->has_children);
    assert_non_null(listed(v, n, "Entwürfe"));
    assert_int_equal(listed(v, n, "Sent")->special, MAIL_SPECIAL_SENT);
    assert_int_equal(listed(v, n, "Trash")->special, MAIL_SPECIAL_TRASH);
    for (size_t i = 2; i < n; i++)
        assert_true(strcmp(v[i - 1].name, v[i].name) < 0);
    free(v);

    /* DELETE: the folder and its messages go, its children stay. */
    struct mailbox *mb = mailbox_open(datafd, &alice, "Work");
    append_msg(mb, "Subject: w\n\nx\n", 0, NULL, 0);
    mailbox_close(mb);
    assert_int_equal(store_folder_delete(datafd, &alice, "Work"), 0);
    assert_false(dir_exists(".Work"));
    assert_true(dir_exists(".Work.Projects"));
    assert_int_equal(store_folder_list(datafd, &alice, &v, &n), 0);
    f = listed(v, n, "Work");
    assert_true(f && !f->exists && f->has_children); /* a parent only */
    free(v);
    assert_int_equal(store_folder_delete(datafd, &alice, "Work"), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(store_folder_delete(datafd, &alice, "INBOX"), -1);
    assert_int_equal(errno, EPERM);
    /* Recreated: a new UIDVALIDITY and MAILBOXID, no old messages. */
    assert_int_equal(store_folder_create(datafd, &alice, "Work"), 0);
    struct mail_status st;
    status("Work", &st);
    assert_int_equal(st.messages, 0);
    assert_int_equal(st.uidnext, 1);

    /* The trash of the delete is gone from mail/. */
    char path[200];
    mail_path(path, sizeof path, "");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -a %s | grep -q portico-deleted", path);
    assert_int_not_equal(system(cmd), 0);
}

static void test_rename(void **state)
{
    assert_int_equal(store_folder_create(datafd, &alice, "A/B"), 0);
    struct mailbox *mb = mailbox_open(datafd, &alice, "A/B");
    uint32_t uid = append_msg(mb, "Subject: ab\n\nx\n", MAIL_FLAGGED, "kw", 0);
    mailbox_close(mb);
    struct mail_status a, b, a2, b2;
    status("A", &a);
    status("A/B", &b);

    assert_int_equal(store_folder_rename(datafd, &alice, "A", "X/Y"), 0);
    assert_false(dir_exists(".A"));
    assert_false(dir_exists(".A.B"));
    assert_true(dir_exists(".X"));
    assert_true(dir_exists(".X.Y.B"));
    status("X/Y", &a2);
    status("X/Y/B", &b2);
    assert_string_equal(a2.mailboxid, a.mailboxid); /* RFC 8474: stable */
    assert_string_equal(b2.mailboxid, b.mailboxid);
    assert_int_equal(b2.uidvalidity, b.uidvalidity);
    assert_int_equal(b2.messages, 1);
    mb = mailbox_open(datafd, &alice, "X/Y/B");
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.msgs[0].uid, uid);
    assert_string_equal(s.msgs[0].keywords, "kw");
    mailbox_snapshot_free(&s);
    mailbox_close(mb);
    assert_true(store_folder_status(datafd, &alice, "A", &a2) < 0);

    assert_int_equal(store_folder_rename(datafd, &alice, "X/Y", "Sent"), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(store_folder_rename(datafd, &alice, "Nope", "Z"), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(store_folder_rename(datafd, &alice, "X", "X/Z"), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(store_folder_rename(datafd, &alice, "X", "a..b"), -1);
    assert_int_equal(errno, EINVAL);

    /* INBOX: its messages move to the new folder, INBOX stays, empty, and
     * keeps its MAILBOXID; the new folder has its own. */
    mb = mailbox_open(datafd, &alice, "INBOX");
    append_msg(mb, "Subject: 1\n\nx\n", MAIL_SEEN, NULL, 0);
    append_msg(mb, "Subject: 2\n\nx\n", 0, NULL, 0);
    mailbox_close(mb);
    struct mail_status in, in2, old;
    status("INBOX", &in);
    assert_int_equal(store_folder_rename(datafd, &alice, "INBOX", "Old/Inbox"), 0);
    status("INBOX", &in2);
    status("Old/Inbox", &old);
    assert_int_equal(in2.messages, 0);
    assert_string_equal(in2.mailboxid, in.mailboxid);
    assert_string_not_equal(old.mailboxid, in.mailboxid);
    assert_int_equal(old.messages, 2);
    assert_int_equal(old.unseen, 1);
}

static void test_subscribe_status(void **state)
{
    assert_int_equal(store_folder_subscribe(datafd, &alice, "Sent", true), 0);
    assert_int_equal(store_folder_subscribe(datafd, &alice, "Gone/Away", true), 0);
    assert_int_equal(store_folder_subscribe(datafd, &alice, "Sent", true), 0); /* once */
    assert_int_equal(store_folder_subscribe(datafd, &alice, "a/", true), -1);
    assert_int_equal(errno, EINVAL);
    struct mail_folder *v;
    size_t n;
    assert_int_equal(store_folder_list(datafd, &alice, &v, &n), 0);
    assert_true(listed(v, n, "Sent")->subscribed && listed(v, n, "Sent")->exists);
    const struct mail_folder *g = listed(v, n, "Gone/Away");
    assert_true(g && g->subscribed && !g->exists);
    assert_false(listed(v, n, "Trash")->subscribed);
    free(v);
    char path[200], buf[64] = "";
    mail_path(path, sizeof path, "subscriptions");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof buf - 1, f), strlen("Sent\nGone/Away\n"));
    fclose(f);
    assert_string_equal(buf, "Sent\nGone/Away\n");
    assert_int_equal(store_folder_subscribe(datafd, &alice, "Gone/Away", false), 0);
    assert_int_equal(store_folder_list(datafd, &alice, &v, &n), 0);
    assert_null(listed(v, n, "Gone/Away"));
    assert_null(listed(v, n, "Gone"));
    free(v);

    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    append_msg(mb, "Subject: 1\n\nx\n", MAIL_SEEN, NULL, 0);
    append_msg(mb, "Subject: 2\n\nxy\n", MAIL_DELETED, NULL, 0);
    append_msg(mb, "Subject: 3\n\nxyz\n", 0, NULL, 0);
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    struct mail_status st;
    status("inbox", &st);
    assert_int_equal(st.messages, 3);
    assert_int_equal(st.unseen, 2);
    assert_int_equal(st.deleted, 1);
    assert_int_equal(st.uidnext, 4);
    assert_int_equal(st.uidvalidity, s.uidvalidity);
    assert_int_equal(st.highest_modseq, s.highest_modseq);
    assert_string_equal(st.mailboxid, s.mailboxid);
    assert_int_equal(st.size, s.msgs[0].vsize + s.msgs[1].vsize + s.msgs[2].vsize);
    mailbox_snapshot_free(&s);
    mailbox_close(mb);
    assert_int_equal(store_folder_status(datafd, &alice, "Nope", &st), -1);
    assert_int_equal(errno, ENOENT);
}

/* ---- a 10,000-message folder ---- */

#define BIG 10000

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void age(const char *sub)
{
    char path[200];
    mail_path(path, sizeof path, sub);
    struct timespec t[2] = {{time(NULL) - 60, 0}, {time(NULL) - 60, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

#define SCAN_N 997

static void test_scan_sorted(void **state)
{
    assert_int_equal(store_folder_create(datafd, &alice, "Scan"), 0);
    char path[300], rel[120];
    /* Created in a scrambled order, flags derived from the name, a third
     * in new/: every entry must come back whole, in base order. */
    for (int k = 0; k < SCAN_N; k++) {
        int i = (int)(((long)k * 7919) % SCAN_N);
        if (i % 3 == 0)
            snprintf(rel, sizeof rel, ".Scan/new/%05d.M1P1Q1.host,S=%d", i, i + 1);
        else
            snprintf(rel, sizeof rel, ".Scan/cur/%05d.M1P1Q1.host,S=%d:2,%s", i, i + 1,
                     i % 3 == 1 ? "S" : "FT");
        mail_path(path, sizeof path, rel);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
    }
    /* Names around the sort's 8- and 16-byte keys (prefixes, ties). */
    static const char *const odd[] = {"abcdefghijklmnopq", "a",  "abcdefgh",
                                      "abcdefghijklmnop",  "ab", "abcdefghi",
                                      "abcdefghijklmnopa", "b"};
    const size_t nodd = sizeof odd / sizeof odd[0];
    for (size_t i = 0; i < nodd; i++) {
        snprintf(rel, sizeof rel, ".Scan/new/%s", odd[i]);
        mail_path(path, sizeof path, rel);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
    }
    int mailfd = maildir_open(datafd, &alice);
    assert_true(mailfd >= 0);
    int folderfd = maildir_folder_open(mailfd, "Scan", false);
    assert_true(folderfd >= 0);
    struct maildir_list l;
    assert_int_equal(maildir_scan(folderfd, &l), SCAN_N + (long)nodd);
    const struct maildir_file **e = l.sorted;
    for (size_t i = 1; i < SCAN_N + nodd; i++)
        assert_true(strcmp(e[i - 1]->base, e[i]->base) < 0);
    assert_string_equal(e[SCAN_N]->base, "a");
    assert_string_equal(e[SCAN_N + nodd - 1]->base, "b");
    for (int i = 0; i < SCAN_N; i++) {
        char want[64];
        snprintf(want, sizeof want, "%05d.M1P1Q1.host,S=%d", i, i + 1);
        assert_string_equal(e[i]->base, want);
        assert_int_equal(e[i]->size, (uint64_t)i + 1);
        assert_int_equal(e[i]->in_cur, i % 3 != 0);
        assert_string_equal(e[i]->flags, i % 3 == 0 ? "" : (i % 3 == 1 ? "S" : "FT"));
    }
    maildir_list_free(&l);
    close(folderfd);
    close(mailfd);
}

static void test_big_folder(void **state)
{
    assert_int_equal(store_folder_create(datafd, &alice, "Big"), 0);
    char path[300];
    for (int i = 0; i < BIG; i++) {
        char rel[120];
        snprintf(rel, sizeof rel, ".Big/cur/%d.M1P1Q%d.host,S=18,W=21:2,", 1700000000 + i,
                 i);
        mail_path(path, sizeof path, rel);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("Subject: x\n\nbody\n", f);
        fclose(f);
    }
    age(".Big/new");
    age(".Big/cur");
    struct mailbox *mb = mailbox_open(datafd, &alice, "Big");
    struct mailbox_snapshot s;
    double t0 = now_s();
    assert_int_equal(mailbox_snapshot(mb, &s), 0); /* cold: discovers every file */
    double cold = now_s() - t0;
    assert_int_equal(s.n, BIG);
    mailbox_snapshot_free(&s);

    t0 = now_s();
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    double warm = now_s() - t0;
    assert_int_equal(s.n, BIG);
    assert_int_equal(s.msgs[BIG - 1].uid, BIG);
    uint32_t *uids = calloc(BIG, sizeof *uids);
    for (size_t i = 0; i < s.n; i++)
        uids[i] = s.msgs[i].uid;
    mailbox_snapshot_free(&s);

    struct mail_status st;
    t0 = now_s();
    status("Big", &st);
    double stat_t = now_s() - t0;
    assert_int_equal(st.messages, BIG);
    assert_int_equal(st.unseen, BIG);

    struct mailbox_flag_change ch = {MAILBOX_FLAGS_ADD, MAIL_SEEN, NULL, 0};
    uint32_t *mod;
    size_t nmod;
    t0 = now_s();
    assert_int_equal(mailbox_store_flags(mb, uids, BIG, &ch, &s, &mod, &nmod), 0);
    double flags_t = now_s() - t0;
    assert_int_equal(s.n, BIG);
    mailbox_snapshot_free(&s);
    status("Big", &st);
    assert_int_equal(st.unseen, 0);
    printf("# 10,000 messages (ASan build): cold snapshot %.3f s, warm snapshot %.4f s, "
           "status %.4f s, STORE +FLAGS on all %.3f s\n",
           cold, warm, stat_t, flags_t);
    /* Generous bounds (sanitizers, a shared machine); the warm ones read no file. */
    assert_true(warm < 1.0);
    assert_true(stat_t < 0.5);
    assert_true(flags_t < 20.0);
    free(uids);
    mailbox_close(mb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutf7),
        cmocka_unit_test_setup_teardown(test_folder_names, setup, teardown),
        cmocka_unit_test(test_flags_pure),
        cmocka_unit_test_setup_teardown(test_create_delete_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscribe_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_folder, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
