/* test_fill: the figures a sync leaves unknown (store/index_fill.c). Files
 * put in the Maildir by another program with names without S=/W= are
 * recorded by a cold sync from their names alone (no stat); each store
 * reader then learns what it needs from the files and keeps it in the
 * index: mailbox_fill (IMAP FETCH/SEARCH/SORT/THREAD), the POP3
 * snapshot, STATUS SIZE, the quota's usage, COPY; a second read takes
 * the kept figures (a file whose mtime changed meanwhile is not stat'd
 * again); a summary's parse learns them too; a file re-flagged by another program is
 * found after a sync, one that is gone gets the date a failed stat gave. */
// clang-format off
#include "store_fixture.h"

#include <errno.h>
#include <time.h>
// clang-format on

#define NFILES 3
static const char *const bodies[NFILES] = {
    "Subject: a\n\nfirst\n",
    "Subject: bb\nFrom: x@y\n\nsecond body\nline\n",
    "Subject: ccc\n\n",
};
static const int64_t mtimes[NFILES] = {1500000000, 1600000000, 1700000000};
static char names[NFILES][64];

static uint64_t lfs(const char *s)
{
    uint64_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The files as another program writes them (cur/, no S=, no W=), with
 * known mtimes, and no index yet. */
static void drop_files(void)
{
    char path[256];
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX"); /* makes mail/ */
    assert_non_null(mb);
    mailbox_close(mb);
    for (int i = 0; i < NFILES; i++) {
        snprintf(names[i], sizeof names[i], "%d.M%dP1Q%d.other:2,%s", 1400000000 + i, i,
                 i, i == 1 ? "S" : "");
        char rel[96];
        snprintf(rel, sizeof rel, "cur/%s", names[i]);
        mail_path(path, sizeof path, rel);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bodies[i], f);
        fclose(f);
        struct timespec t[2] = {{mtimes[i], 0}, {mtimes[i], 0}};
        assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    }
}

static void cold(void)
{
    char path[160];
    index_cache_flush();
    mailbox_version_flush();
    mail_path(path, sizeof path, "index.db");
    unlink(path);
    mail_path(path, sizeof path, "index.db-wal");
    unlink(path);
    mail_path(path, sizeof path, "index.db-shm");
    unlink(path);
}

static void take_known(void *arg, const struct mail_known *k)
{
    struct mail_known *out = arg;
    out[k->uid - 1] = *k;
}

static void check_all_unknown(struct mailbox *mb)
{
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.n, NFILES);
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.msgs[i].internaldate, 0);
        assert_int_equal(s.msgs[i].size, 0);
        assert_int_equal(mailbox_unknown(&s.msgs[i], MAIL_NEED_ALL), MAIL_NEED_ALL);
    }
    mailbox_snapshot_free(&s);
}

/* The kept figures: every one known and right. */
static void check_kept(struct mailbox *mb, unsigned need)
{
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.n, NFILES);
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(mailbox_unknown(&s.msgs[i], need), 0);
        assert_int_equal(s.msgs[i].internaldate, mtimes[i]);
        assert_int_equal(s.msgs[i].size, strlen(bodies[i]));
        if (need & MAIL_NEED_VSIZE)
            assert_int_equal(s.msgs[i].vsize, strlen(bodies[i]) + lfs(bodies[i]));
    }
    mailbox_snapshot_free(&s);
}

/* IMAP's path: the date alone is a stat (the CRLF size stays uncounted),
 * the CRLF size a read; both kept; the second read stats nothing. */
static void test_fill_dates_sizes(void **state)
{
    drop_files();
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    check_all_unknown(mb);
    uint32_t uids[NFILES] = {1, 2, 3};
    struct mail_known k[NFILES] = {0};
    assert_int_equal(mailbox_fill(mb, uids, NFILES, MAIL_NEED_DATE, take_known, k), 0);
    for (int i = 0; i < NFILES; i++) {
        assert_int_equal(k[i].uid, i + 1);
        assert_int_equal(k[i].internaldate, mtimes[i]);
        assert_int_equal(k[i].size, strlen(bodies[i]));
    }
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.msgs[1].internaldate, mtimes[1]); /* kept */
    assert_true(mailbox_vsize_unknown(&s.msgs[1]));      /* not read */
    mailbox_snapshot_free(&s);

    assert_int_equal(mailbox_fill(mb, uids, NFILES, MAIL_NEED_VSIZE, take_known, k), 0);
    for (int i = 0; i < NFILES; i++)
        assert_int_equal(k[i].vsize, strlen(bodies[i]) + lfs(bodies[i]));
    check_kept(mb, MAIL_NEED_ALL);

    /* Kept, so not stat'd again: a new mtime on the file is not seen. */
    char path[256], rel[96];
    snprintf(rel, sizeof rel, "cur/%s", names[0]);
    mail_path(path, sizeof path, rel);
    struct timespec t[2] = {{1234567890, 0}, {1234567890, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    assert_int_equal(mailbox_fill(mb, uids, 1, MAIL_NEED_ALL, take_known, k), 0);
    assert_int_equal(k[0].internaldate, mtimes[0]);
    mailbox_close(mb);
}

/* POP3 (store_snapshot: every size, RFC 1939 LIST), STATUS SIZE (RFC
 * 8438) and the quota's usage, each after its own cold sync. */
static void test_fill_pop3_status_quota(void **state)
{
    uint64_t total = 0, vtotal = 0;
    for (int i = 0; i < NFILES; i++) {
        total += strlen(bodies[i]);
        vtotal += strlen(bodies[i]) + lfs(bodies[i]);
    }
    drop_files();
    struct mail_snapshot ps;
    assert_int_equal(store_snapshot(datafd, &alice, "INBOX", &ps), 0);
    assert_int_equal(ps.n, NFILES);
    for (int i = 0; i < NFILES; i++) {
        assert_int_equal(ps.msgs[i].size, strlen(bodies[i]));
        assert_int_equal(ps.msgs[i].vsize, strlen(bodies[i]) + lfs(bodies[i]));
        assert_int_equal(ps.msgs[i].internaldate, mtimes[i]);
    }
    store_snapshot_free(&ps);
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    check_kept(mb, MAIL_NEED_ALL);
    mailbox_close(mb);

    cold();
    struct mail_status st;
    assert_int_equal(store_folder_status(datafd, &alice, "INBOX", &st), 0);
    assert_int_equal(st.messages, NFILES);
    assert_int_equal(st.size, vtotal);

    cold();
    mb = mailbox_open(datafd, &alice, "INBOX");
    check_all_unknown(mb); /* the sync alone learns nothing */
    uint64_t bytes = 0, count = 0;
    assert_int_equal(store_usage(datafd, &alice, &bytes, &count), 0);
    assert_int_equal(count, NFILES);
    assert_int_equal(bytes, total);
    assert_int_equal(store_quota_check(datafd, &alice, 1, total + 1, 0), 0);
    assert_int_equal(store_quota_check(datafd, &alice, 2, total + 1, 0), 1);
    check_kept(mb, MAIL_NEED_DATE | MAIL_NEED_SIZE);
    mailbox_close(mb);
}

/* COPY keeps the internal date (RFC 9051 6.4.7) of a message a sync did
 * not stat, and the copy's name carries its sizes. */
static void test_fill_copy(void **state)
{
    drop_files();
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    check_all_unknown(mb);
    uint32_t uids[2] = {1, 2}, dst[2] = {0}, validity = 0;
    assert_int_equal(mailbox_copy(mb, uids, 2, "Sent", false, NULL, dst, &validity),
                     STORE_OK);
    mailbox_close(mb);
    struct mailbox *sent = mailbox_open(datafd, &alice, "Sent");
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(sent, &s), 0);
    assert_int_equal(s.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s.msgs[i].internaldate, mtimes[i]);
        assert_int_equal(s.msgs[i].size, strlen(bodies[i]));
        assert_int_equal(s.msgs[i].vsize, strlen(bodies[i]) + lfs(bodies[i]));
    }
    mailbox_snapshot_free(&s);
    mailbox_close(sent);
}

/* A file re-flagged by another program after the sync is found (one more
 * sync); one removed gets now as its date, kept nowhere. */
static void test_fill_moved_and_gone(void **state)
{
    drop_files();
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    check_all_unknown(mb);
    char from[256], to[256], rel[96];
    snprintf(rel, sizeof rel, "cur/%s", names[0]);
    mail_path(from, sizeof from, rel);
    snprintf(to, sizeof to, "%sF", from); /* mutt flags it: same inode */
    assert_int_equal(rename(from, to), 0);
    snprintf(rel, sizeof rel, "cur/%s", names[2]);
    mail_path(from, sizeof from, rel);
    assert_int_equal(unlink(from), 0);

    uint32_t uids[NFILES] = {1, 2, 3};
    struct mail_known k[NFILES] = {0};
    int64_t before = (int64_t)time(NULL);
    assert_int_equal(mailbox_fill(mb, uids, NFILES, MAIL_NEED_DATE, take_known, k), 0);
    assert_int_equal(k[0].internaldate, mtimes[0]);
    assert_int_equal(k[1].internaldate, mtimes[1]);
    assert_true(k[2].internaldate >= before && k[2].internaldate <= (int64_t)time(NULL));
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.n, 2); /* the gone one expunged by the sync */
    assert_int_equal(s.msgs[0].flags, MAIL_FLAGGED);
    assert_int_equal(s.msgs[0].internaldate, mtimes[0]);
    mailbox_snapshot_free(&s);
    mailbox_close(mb);
}

/* A summary's parse reads the file: the date and sizes come with it, and
 * are kept with the summary (the FETCH that asked stats nothing more). */
static void test_fill_by_summary(void **state)
{
    drop_files();
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    check_all_unknown(mb);
    for (uint32_t uid = 1; uid <= NFILES; uid++) {
        char *text = mailbox_summary(mb, uid);
        assert_non_null(text);
        free(text);
    }
    mailbox_summary_flush(mb);
    check_kept(mb, MAIL_NEED_ALL);
    mailbox_close(mb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fill_dates_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_pop3_status_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_moved_and_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_by_summary, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
