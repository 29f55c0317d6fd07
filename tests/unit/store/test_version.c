/* test_version: shared mailbox versions (store/mailbox_version.c): two
 * handles of one folder share one version while nothing changes; a change
 * makes a new one while holders of the old keep theirs intact; the table
 * forgets a version when its last reference goes; many threads asking at
 * once get one version; a few released versions stay listed for reuse
 * until a change replaces them; an index.db deleted between two calls is rebuilt
 * (new UIDVALIDITY) and gives a new version, never the old one. A version
 * made from a sync's own rows (no listing) and one advanced by a STORE
 * are row for row what listing the index gives, also when the sync inserts
 * its rows in batches (store/index_batch.c) or from a scan started ahead
 * (store/scan_ahead.c); a file another program
 * drops or renames right after a STORE, in the same second, is seen. */
#include "store_fixture.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/time.h>

#include "store/objectid.h"

static const char msg[] = "Subject: v\r\nFrom: a@b\r\n\r\nbody\r\n";

static void test_shared_and_replaced(void **state)
{
    struct mailbox *a = mailbox_open(datafd, &alice, "INBOX");
    struct mailbox *b = mailbox_open(datafd, &alice, "INBOX");
    assert_non_null(a);
    assert_non_null(b);
    uint32_t u1 = append_msg(a, msg, 0, NULL, 0);
    append_msg(a, msg, 0, "kw", 0);
    const struct mailbox_version *va = mailbox_version_get(a);
    const struct mailbox_version *vb = mailbox_version_get(b);
    assert_non_null(va);
    assert_ptr_equal(va, vb); /* nothing changed: the same object */
    assert_int_equal(mailbox_version_count(), 1);
    const struct mailbox_snapshot *sa = mailbox_version_snap(va);
    assert_int_equal(sa->n, 2);
    assert_string_equal(sa->msgs[1].keywords, "kw");

    /* b changes a flag: a new version; a's stays what it was. */
    struct mailbox_flag_change ch = {MAILBOX_FLAGS_ADD, MAIL_SEEN, NULL, 0};
    struct mailbox_snapshot out;
    uint32_t *modified = NULL;
    size_t nmod = 0;
    assert_int_equal(mailbox_store_flags(b, &u1, 1, &ch, &out, &modified, &nmod), 0);
    mailbox_snapshot_free(&out);
    free(modified);
    const struct mailbox_version *vc = mailbox_version_get(b);
    assert_non_null(vc);
    assert_ptr_not_equal(vc, va);
    assert_int_equal(mailbox_version_snap(vc)->msgs[0].flags, MAIL_SEEN);
    assert_int_equal(sa->msgs[0].flags, 0);
    assert_true(mailbox_version_snap(vc)->highest_modseq > sa->highest_modseq);
    /* a asks again: the new one. */
    const struct mailbox_version *vd = mailbox_version_get(a);
    assert_ptr_equal(vd, vc);

    mailbox_version_put(va);
    mailbox_version_put(vb); /* the old one is freed; the new one stays listed */
    assert_int_equal(mailbox_version_count(), 1);
    const struct mailbox_version *ve = mailbox_version_ref(vc);
    mailbox_version_put(vc);
    mailbox_version_put(vd);
    assert_int_equal(mailbox_version_count(), 1);
    mailbox_version_put(ve);
    /* Nobody holds it: kept listed a while (a reconnect reuses it)... */
    assert_int_equal(mailbox_version_count(), 1);
    const struct mailbox_version *again = mailbox_version_get(a);
    assert_ptr_equal(again, vc);
    mailbox_version_put(again);
    /* ...and replaced by a change: the retained one is freed (ASan). */
    append_msg(a, msg, 0, NULL, 0);
    const struct mailbox_version *vf = mailbox_version_get(a);
    assert_ptr_not_equal(vf, vc);
    assert_int_equal(mailbox_version_count(), 1);
    mailbox_version_put(vf);
    mailbox_version_flush();
    assert_int_equal(mailbox_version_count(), 0);
    mailbox_version_put(NULL);
    mailbox_close(a);
    mailbox_close(b);
}

#define THREADS 8
#define ROUNDS 50

struct racer {
    struct mailbox *mb;
    const struct mailbox_version *seen[ROUNDS];
    int failed;
};

/* Each thread asks for the version ROUNDS times and keeps what it got. */
static void *race_get(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < ROUNDS; i++) {
        r->seen[i] = mailbox_version_get(r->mb);
        if (!r->seen[i] || mailbox_version_snap(r->seen[i])->n != 3)
            r->failed++;
    }
    return NULL;
}

static void test_many_threads_one_version(void **state)
{
    struct mailbox *w = mailbox_open(datafd, &alice, "INBOX");
    for (int i = 0; i < 3; i++)
        append_msg(w, msg, 0, NULL, 0);
    struct racer r[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        r[i] = (struct racer){.mb = mailbox_open(datafd, &alice, "INBOX")};
        assert_non_null(r[i].mb);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race_get, &r[i]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(r[i].failed, 0);
        for (int k = 0; k < ROUNDS; k++)
            assert_ptr_equal(r[i].seen[k], r[0].seen[0]); /* built once */
    }
    for (int i = 0; i < THREADS; i++) {
        for (int k = 0; k < ROUNDS; k++)
            mailbox_version_put(r[i].seen[k]);
        mailbox_close(r[i].mb);
    }
    mailbox_version_flush();
    assert_int_equal(mailbox_version_count(), 0);
    mailbox_close(w);
}

/* A reader thread holds and reads versions while a writer expunges and
 * appends: each version it holds stays whole (ASan would see a free). */
struct churn {
    struct mailbox *mb;
    volatile int stop;
    int failed;
};

static void *read_versions(void *arg)
{
    struct churn *c = arg;
    while (!c->stop) {
        const struct mailbox_version *v = mailbox_version_get(c->mb);
        if (!v) {
            c->failed++;
            continue;
        }
        const struct mailbox_snapshot *s = mailbox_version_snap(v);
        for (size_t i = 1; i < s->n; i++)
            if (s->msgs[i].uid <= s->msgs[i - 1].uid)
                c->failed++;
        mailbox_version_put(v);
    }
    return NULL;
}

static void test_versions_under_churn(void **state)
{
    struct mailbox *w = mailbox_open(datafd, &alice, "INBOX");
    struct churn c = {.mb = mailbox_open(datafd, &alice, "INBOX")};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_versions, &c), 0);
    for (int i = 0; i < 30; i++) {
        uint32_t u = append_msg(w, msg, 0, NULL, 0);
        if (i % 3 == 0) {
            uint32_t *gone = NULL;
            size_t ngone = 0;
            assert_int_equal(mailbox_expunge(w, &u, 1, &gone, &ngone), 0);
            free(gone);
        }
    }
    c.stop = 1;
    pthread_join(t, NULL);
    assert_int_equal(c.failed, 0);
    const struct mailbox_version *v = mailbox_version_get(w);
    assert_int_equal(mailbox_version_snap(v)->n, 20);
    mailbox_version_put(v);
    mailbox_version_flush();
    assert_int_equal(mailbox_version_count(), 0);
    mailbox_close(c.mb);
    mailbox_close(w);
}

/* index.db removed between two calls: the next is a rebuilt index (a new
 * UIDVALIDITY), so a new version, not the listed one. */
static void test_no_index_between_calls(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    append_msg(mb, msg, 0, NULL, 0);
    const struct mailbox_version *v1 = mailbox_version_get(mb);
    uint32_t validity = mailbox_version_snap(v1)->uidvalidity;
    index_cache_flush();
    char path[160];
    mail_path(path, sizeof path, "index.db");
    assert_int_equal(unlink(path), 0);
    sleep(1); /* next_uidvalidity is the time or last + 1 */
    const struct mailbox_version *v2 = mailbox_version_get(mb);
    assert_non_null(v2);
    assert_int_equal(mailbox_version_snap(v2)->n, 1);
    assert_true(mailbox_version_snap(v2)->uidvalidity > validity);
    mailbox_version_put(v1);
    mailbox_version_put(v2);
    mailbox_close(mb);
}

/* v is, row for row, what listing the index gives now. */
static void assert_same_as_listing(struct mailbox *mb, const struct mailbox_version *v)
{
    const struct mailbox_snapshot *a = mailbox_version_snap(v);
    struct mailbox_snapshot b;
    assert_int_equal(mailbox_snapshot(mb, &b), 0);
    assert_int_equal(a->uidvalidity, b.uidvalidity);
    assert_int_equal(a->uidnext, b.uidnext);
    assert_int_equal(a->highest_modseq, b.highest_modseq);
    assert_string_equal(a->mailboxid, b.mailboxid);
    assert_int_equal(a->n, b.n);
    for (size_t i = 0; i < a->n; i++) {
        const struct mailbox_msg *x = &a->msgs[i], *y = &b.msgs[i];
        assert_int_equal(x->uid, y->uid);
        assert_int_equal(x->flags, y->flags);
        assert_int_equal(x->modseq, y->modseq);
        assert_int_equal(x->internaldate, y->internaldate);
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->vsize, y->vsize);
        assert_string_equal(x->keywords ? x->keywords : "",
                            y->keywords ? y->keywords : "");
    }
    mailbox_snapshot_free(&b);
}

/* The one file in mail/cur whose name ends in ":2," (no flags), into out. */
static int find_unflagged(char *out, size_t len)
{
    char path[160];
    mail_path(path, sizeof path, "cur");
    DIR *d = opendir(path);
    struct dirent *de;
    int found = 0;
    while (d && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 3 && strcmp(de->d_name + n - 3, ":2,") == 0) {
            snprintf(out, len, "%s", de->d_name);
            found++;
        }
    }
    if (d)
        closedir(d);
    return found;
}

/* A file put into mail/<rel> by "another program", with mtime when (0: now). */
static void drop_file(const char *rel, const char *text, time_t when)
{
    char path[400];
    mail_path(path, sizeof path, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    if (when) {
        struct timeval t[2] = {{when, 0}, {when, 0}};
        assert_int_equal(utimes(path, t), 0);
    }
}

struct known_list {
    struct mail_known *k;
    size_t n;
};

static void take_known(void *arg, const struct mail_known *k)
{
    struct known_list *l = arg;
    l->k[l->n++] = *k;
}

static void test_version_from_sync(void **state)
{
    /* A cold folder: files only (no S=/W=, as another program writes
     * them), dates set before the first sync. */
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    drop_file("cur/1600000003.M3P1Q3.other:2,S", "Subject: c\n\nccc\n", 1600000003);
    drop_file("cur/1600000001.M1P1Q1.other:2,", "Subject: a\n\na\n", 1600000001);
    drop_file("new/1600000002.M2P1Q2.other", "Subject: b\n\nbb\n", 1600000002);
    const struct mailbox_version *v1 = mailbox_version_get(mb);
    assert_non_null(v1);
    const struct mailbox_snapshot *s = mailbox_version_snap(v1);
    assert_int_equal(s->n, 3);
    assert_int_equal(s->msgs[2].flags, MAIL_SEEN);
    /* Recorded from the names alone: dates and sizes learned when asked
     * (store/index_fill.c), in base order = UID order. */
    assert_int_equal(s->msgs[1].internaldate, 0);
    assert_int_equal(s->msgs[1].size, 0);
    assert_same_as_listing(mb, v1);
    uint32_t uids[3] = {s->msgs[0].uid, s->msgs[1].uid, s->msgs[2].uid};
    struct mail_known k[3];
    struct known_list kl = {k, 0};
    assert_int_equal(mailbox_fill(mb, uids, 3, MAIL_NEED_DATE, take_known, &kl), 0);
    assert_int_equal(kl.n, 3);
    assert_int_equal(k[0].internaldate, 1600000001);
    assert_int_equal(k[1].internaldate, 1600000002);
    assert_int_equal(k[2].internaldate, 1600000003);
    assert_int_equal(k[1].size, 15);

    /* A warm folder that changed outside: one file gone, one renamed,
     * one new, one appended by us; the version a scan hands over. */
    uint32_t mine = append_msg(mb, msg, MAIL_FLAGGED, "kw1", 1500000000);
    char from[400], to[400];
    mail_path(from, sizeof from, "cur/1600000001.M1P1Q1.other:2,");
    mail_path(to, sizeof to, "cur/1600000001.M1P1Q1.other:2,RS");
    assert_int_equal(rename(from, to), 0);
    mail_path(from, sizeof from, "new/1600000002.M2P1Q2.other");
    assert_int_equal(unlink(from), 0);
    drop_file("cur/1500000000.M0P1Q0.other:2,T", "Subject: 0\n\n\n", 1500000000);
    mailbox_version_flush();
    const struct mailbox_version *v2 = mailbox_version_get(mb);
    assert_non_null(v2);
    assert_ptr_not_equal(v2, v1);
    s = mailbox_version_snap(v2);
    assert_int_equal(s->n, 4);
    assert_int_equal(s->msgs[0].flags, MAIL_SEEN | MAIL_ANSWERED);
    assert_string_equal(find_msg(s, mine)->keywords, "kw1");
    assert_int_equal(s->msgs[3].uid, mine + 1); /* discovered after ours */
    assert_int_equal(s->msgs[3].flags, MAIL_DELETED);
    assert_same_as_listing(mb, v2);
    mailbox_version_put(v1);
    mailbox_version_put(v2);
    mailbox_close(mb);
}

static void test_store_advances_version(void **state)
{
    struct mailbox *a = mailbox_open(datafd, &alice, "INBOX");
    struct mailbox *b = mailbox_open(datafd, &alice, "INBOX");
    uint32_t u[3];
    for (int i = 0; i < 3; i++)
        u[i] = append_msg(a, msg, i == 2 ? MAIL_SEEN : 0, i == 1 ? "old" : NULL, 0);
    const struct mailbox_version *v1 = mailbox_version_get(a);
    assert_non_null(v1);

    /* b's STORE: a new version with b's rows over v1's, unchanged ones
     * (u[2] had \Seen) kept, v1 itself untouched. */
    struct mailbox_flag_change ch = {MAILBOX_FLAGS_ADD, MAIL_SEEN, "new", 0};
    struct mailbox_snapshot out;
    uint32_t *modified = NULL;
    size_t nmod = 0;
    assert_int_equal(mailbox_store_flags(b, u, 3, &ch, &out, &modified, &nmod), 0);
    mailbox_snapshot_free(&out);
    free(modified);
    const struct mailbox_version *v2 = mailbox_version_get(a);
    assert_non_null(v2);
    assert_ptr_not_equal(v2, v1);
    assert_int_equal(mailbox_version_snap(v1)->msgs[0].flags, 0);
    assert_string_equal(mailbox_version_snap(v1)->msgs[1].keywords, "old");
    const struct mailbox_snapshot *s = mailbox_version_snap(v2);
    assert_int_equal(s->msgs[0].flags, MAIL_SEEN);
    assert_string_equal(s->msgs[1].keywords, "old new");
    assert_same_as_listing(a, v2);

    /* Another change between the version and the STORE: the STORE's
     * state is not v2's plus its rows, so v2 is not advanced; the next
     * version is listed, and is right. */
    uint32_t u4 = append_msg(a, msg, 0, NULL, 0);
    struct mailbox_flag_change del = {MAILBOX_FLAGS_REMOVE, MAIL_SEEN, NULL, 0};
    assert_int_equal(mailbox_store_flags(b, u, 1, &del, &out, &modified, &nmod), 0);
    mailbox_snapshot_free(&out);
    free(modified);
    const struct mailbox_version *v3 = mailbox_version_get(a);
    assert_int_equal(mailbox_version_snap(v3)->n, 4);
    assert_int_equal(find_msg(mailbox_version_snap(v3), u4)->flags, 0);
    assert_int_equal(mailbox_version_snap(v3)->msgs[0].flags, 0);
    assert_same_as_listing(a, v3);

    /* Right after a STORE (same second, the directory stamps too young
     * to trust), another program renames one file and drops one in cur/:
     * the next version has both. */
    assert_int_equal(mailbox_store_flags(b, u, 3, &ch, &out, &modified, &nmod), 0);
    mailbox_snapshot_free(&out);
    free(modified);
    char name[300], from[400], to[400], rel[330];
    assert_int_equal(find_unflagged(name, sizeof name), 1); /* u4's file */
    snprintf(rel, sizeof rel, "cur/%s", name);
    mail_path(from, sizeof from, rel);
    snprintf(to, sizeof to, "%sT", from);
    assert_int_equal(rename(from, to), 0);
    drop_file("cur/1999999999.M9P9Q9.other:2,F", "Subject: late\n\nx\n", 0);
    const struct mailbox_version *v4 = mailbox_version_get(b);
    s = mailbox_version_snap(v4);
    assert_int_equal(s->n, 5);
    assert_int_equal(s->msgs[4].flags, MAIL_FLAGGED);
    size_t deleted = 0;
    for (size_t i = 0; i < s->n; i++)
        deleted += (s->msgs[i].flags & MAIL_DELETED) != 0;
    assert_int_equal(deleted, 1);
    assert_same_as_listing(b, v4);

    mailbox_version_put(v1);
    mailbox_version_put(v2);
    mailbox_version_put(v3);
    mailbox_version_put(v4);
    mailbox_close(a);
    mailbox_close(b);
}

/* The names of the batch test: message i of round r (r = 1 sorts right
 * after the round 0 name with the same i). */
static void batch_base(char *out, size_t len, int round, int i)
{
    snprintf(out, len, "17000%05d.M%dP1Q%d.other", i, i, round + 1);
}

static void assert_row(struct mailbox *mb, const struct mailbox_msg *m, uint32_t uid,
                       int round, int i)
{
    char base[64], want[MAILBOX_EMAILID_LEN], got[MAILBOX_EMAILID_LEN];
    batch_base(base, sizeof base, round, i);
    objectid_email(base, want, sizeof want);
    assert_int_equal(m->uid, uid);
    assert_string_equal(emailid_of(mb, uid, got), want); /* the UID is that file's */
}

static void test_version_in_batches(void **state)
{
    /* 70 files: two full batches of 32 and a tail; three of them also in
     * new/ under the same base (at the first batch's end, the second's
     * start, the last): one row each. */
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    char rel[128], base[64];
    for (int i = 0; i < 70; i++) {
        batch_base(base, sizeof base, 0, i);
        snprintf(rel, sizeof rel, "cur/%s:2,%s", base, i % 2 ? "S" : "");
        drop_file(rel, "Subject: b\n\nb\n", 0);
        if (i == 31 || i == 32 || i == 69) {
            snprintf(rel, sizeof rel, "new/%s", base);
            drop_file(rel, "Subject: b\n\nb\n", 0);
        }
    }
    const struct mailbox_version *v1 = mailbox_version_get(mb);
    assert_non_null(v1);
    const struct mailbox_snapshot *s = mailbox_version_snap(v1);
    assert_int_equal(s->n, 70);
    assert_int_equal(s->uidnext, 71);
    for (int i = 0; i < 70; i++) {
        assert_row(mb, &s->msgs[i], (uint32_t)i + 1, 0, i);
        if (i > 0)
            assert_true(s->msgs[i].modseq > s->msgs[i - 1].modseq);
    }
    assert_int_equal(s->msgs[10].flags, 0);
    assert_int_equal(s->msgs[11].flags, MAIL_SEEN);
    assert_true(s->highest_modseq >= s->msgs[69].modseq);
    assert_same_as_listing(mb, v1);

    /* 40 more, each sorting right after an indexed one: the merge keeps a
     * row and discovers one in turn; the new UIDs follow in base order. */
    for (int i = 0; i < 40; i++) {
        batch_base(base, sizeof base, 1, i);
        snprintf(rel, sizeof rel, "cur/%s:2,", base);
        drop_file(rel, "Subject: c\n\nc\n", 0);
    }
    mailbox_version_flush();
    const struct mailbox_version *v2 = mailbox_version_get(mb);
    assert_non_null(v2);
    s = mailbox_version_snap(v2);
    assert_int_equal(s->n, 110);
    for (int i = 0; i < 70; i++)
        assert_row(mb, find_msg(s, (uint32_t)i + 1), (uint32_t)i + 1, 0, i);
    for (int i = 0; i < 40; i++)
        assert_row(mb, find_msg(s, 71 + (uint32_t)i), 71 + (uint32_t)i, 1, i);
    assert_same_as_listing(mb, v2);
    mailbox_version_put(v1);
    mailbox_version_put(v2);
    mailbox_close(mb);
}

/* An account without index.db: mailbox_open starts the folder's scan
 * (store/scan_ahead.c) and the first sync uses it; a folder changed after
 * it began is scanned again. */
static void test_scan_ahead(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX"); /* makes the Maildir */
    mailbox_close(mb);
    index_cache_flush();
    char path[400], rel[128], base[64];
    for (const char *suffix = ""; suffix; suffix = suffix[0] ? NULL : "-wal") {
        snprintf(rel, sizeof rel, "index.db%s", suffix);
        mail_path(path, sizeof path, rel);
        unlink(path);
    }
    for (int i = 0; i < 40; i++) {
        batch_base(base, sizeof base, 0, i);
        snprintf(rel, sizeof rel, "cur/%s:2,%s", base, i % 2 ? "S" : "");
        drop_file(rel, "Subject: a\n\na\n", 0);
    }
    mb = mailbox_open(datafd, &alice, "INBOX");
    const struct mailbox_version *v = mailbox_version_get(mb);
    assert_non_null(v);
    const struct mailbox_snapshot *s = mailbox_version_snap(v);
    assert_int_equal(s->n, 40);
    for (int i = 0; i < 40; i++)
        assert_row(mb, &s->msgs[i], (uint32_t)i + 1, 0, i);
    assert_int_equal(s->msgs[1].flags, MAIL_SEEN);
    assert_same_as_listing(mb, v);
    mailbox_version_put(v);
    mailbox_close(mb);
    index_cache_flush();

    /* Again, with a file dropped after the open: the first sync sees it. */
    mail_path(path, sizeof path, "index.db");
    assert_int_equal(unlink(path), 0);
    mb = mailbox_open(datafd, &alice, "INBOX");
    batch_base(base, sizeof base, 1, 39);
    snprintf(rel, sizeof rel, "cur/%s:2,", base);
    drop_file(rel, "Subject: b\n\nb\n", 0);
    mailbox_version_flush();
    v = mailbox_version_get(mb);
    assert_non_null(v);
    assert_int_equal(mailbox_version_snap(v)->n, 41);
    assert_same_as_listing(mb, v);
    mailbox_version_put(v);
    mailbox_close(mb);

    /* A handle closed before its first sync leaves nothing behind. */
    index_cache_flush();
    assert_int_equal(unlink(path), 0);
    mailbox_close(mailbox_open(datafd, &alice, "INBOX"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shared_and_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_threads_one_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_under_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_index_between_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_from_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_in_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_advances_version, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
