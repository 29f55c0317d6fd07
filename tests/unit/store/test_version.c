/* test_version: shared mailbox versions (store/mailbox_version.c): two
 * handles of one folder share one version while nothing changes; a change
 * makes a new one while holders of the old keep theirs intact; the table
 * forgets a version when its last reference goes; many threads asking at
 * once get one version; a few released versions stay listed for reuse
 * until a change replaces them; an index.db deleted between two calls is rebuilt
 * (new UIDVALIDITY) and gives a new version, never the old one. */
#include "store_fixture.h"

#include <pthread.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shared_and_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_threads_one_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_under_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_index_between_calls, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
