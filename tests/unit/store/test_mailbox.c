/* test_mailbox: the mailbox handle (store/mailbox.h) in a temporary
 * data_dir: append with flags and date, snapshots, STORE with keywords and
 * UNCHANGEDSINCE, COPY and MOVE (EMAILID kept), EXPUNGE, changes since a
 * modseq with VANISHED, files re-flagged by another program, the directory
 * stamp fast path, an index rebuild, the schema 3 migration, the bus, two
 * threads on one folder; a STORE of hundreds of messages (renames on a
 * helper thread), also when files changed under it; opens by a batch's
 * file names read at once, also when one of them went stale. */
#include "store_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <sqlite3.h>

#include "store/bus.h"
#include "store/index.h"

static const char msg1[] = "Subject: one\r\nFrom: a@b\r\n\r\nbody one\r\n";

static int bus_kinds[3];
static void on_bus(void *arg, const struct bus_event *ev)
{
    bus_kinds[ev->kind]++;
}

/* The one file in mail/<sub> whose name contains needle, into out. */
static int find_file(const char *sub, const char *needle, char *out, size_t len)
{
    char path[160];
    mail_path(path, sizeof path, sub);
    DIR *d = opendir(path);
    struct dirent *de;
    int found = 0;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.' && strstr(de->d_name, needle)) {
            snprintf(out, len, "%s", de->d_name);
            found++;
        }
    }
    if (d)
        closedir(d);
    return found;
}

/* Another program re-flags the one file of cur/ whose name has `has`:
 * `letter` appended to its info part (mutt marking it read). Its new path
 * goes to to, if given. */
static void reflag_outside(const char *has, const char *letter, char *to, size_t tolen)
{
    char name[300], from[700], rel[320], dest[700];
    assert_int_equal(find_file("cur", has, name, sizeof name), 1);
    snprintf(rel, sizeof rel, "cur/%s", name);
    mail_path(from, sizeof from, rel);
    snprintf(dest, sizeof dest, "%s%s", from, letter);
    assert_int_equal(rename(from, dest), 0);
    if (to)
        snprintf(to, tolen, "%s", dest);
}

static void test_append_snapshot(void **state)
{
    struct event_base *base = event_base_new();
    memset(bus_kinds, 0, sizeof bus_kinds);
    uint64_t sub = bus_subscribe(alice.address, base, on_bus, NULL);
    struct mailbox *mb = mailbox_open(datafd, &alice, "inbox");
    assert_non_null(mb);
    assert_string_equal(mailbox_name(mb), "INBOX");
    uint32_t uid = 0, validity = 0;
    int fd = src_file(msg1);
    assert_int_equal(mailbox_append(mb, fd, MAIL_SEEN | MAIL_FLAGGED,
                                    "Work $Forwarded work", 1700000000, NULL, &uid,
                                    &validity),
                     STORE_OK);
    close(fd);
    assert_int_equal(uid, 1);

    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.uidvalidity, validity);
    assert_int_equal(s.uidnext, 2);
    assert_int_equal(s.msgs[0].flags, MAIL_SEEN | MAIL_FLAGGED | MAIL_FORWARDED);
    assert_string_equal(s.msgs[0].keywords, "Work");
    assert_int_equal(s.msgs[0].internaldate, 1700000000);
    size_t lf = strlen(msg1) - 4; /* four CRLF stored as LF */
    assert_int_equal(s.msgs[0].size, lf);
    assert_int_equal(s.msgs[0].vsize, strlen(msg1));
    char id[MAILBOX_EMAILID_LEN];
    emailid_of(mb, s.msgs[0].uid, id);
    assert_true(id[0] == 'M' && strlen(id) == 17);
    assert_true(s.mailboxid[0] == 'F' && strlen(s.mailboxid) == 33);
    assert_true(s.msgs[0].modseq > 0 && s.msgs[0].modseq <= s.highest_modseq);
    mailbox_snapshot_free(&s);

    /* Files are the truth: cur/ with the letters in ASCII order, the date
     * as the mtime. */
    char name[300], path[600];
    assert_int_equal(find_file("cur", ":2,FPS", name, sizeof name), 1);
    snprintf(path, sizeof path, "cur/%s", name);
    char full[700];
    mail_path(full, sizeof full, path);
    struct stat st;
    assert_int_equal(stat(full, &st), 0);
    assert_int_equal(st.st_mtime, 1700000000);
    assert_int_equal(st.st_size, (off_t)lf);

    /* The bytes, LF line ends. */
    char buf[128] = "";
    fd = mailbox_message_open(mb, 1);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof buf), lf);
    assert_non_null(strstr(buf, "Subject: one\nFrom"));
    close(fd);
    assert_true(mailbox_message_open(mb, 9) < 0);
    assert_int_equal(errno, ENOENT);

    /* Quota: one message of this size already fills it. */
    struct store_quota q = {lf + 1, 0};
    fd = src_file(msg1);
    assert_int_equal(mailbox_append(mb, fd, 0, NULL, 0, &q, &uid, &validity),
                     STORE_OVER_QUOTA);
    /* Bad keywords are refused before anything is written. */
    assert_int_equal(mailbox_append(mb, fd, 0, "a(b", 0, NULL, &uid, &validity),
                     STORE_ERROR);
    close(fd);

    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(bus_kinds[BUS_DELIVERED], 1);
    bus_unsubscribe(sub);
    event_base_free(base);
    mailbox_close(mb);
    mailbox_close(NULL);
    assert_null(mailbox_open(datafd, &alice, "Nowhere"));
    assert_int_equal(errno, ENOENT);
    assert_null(mailbox_open(datafd, &alice, "../x"));
    assert_int_equal(errno, EINVAL);
}

static void store(struct mailbox *mb, const uint32_t *uids, size_t n,
                  enum mailbox_flag_op op, unsigned flags, const char *kw, uint64_t since,
                  struct mailbox_snapshot *out, uint32_t **mod, size_t *nmod)
{
    struct mailbox_flag_change ch = {op, flags, kw, since};
    assert_int_equal(mailbox_store_flags(mb, uids, n, &ch, out, mod, nmod), 0);
}

static void test_store_flags(void **state)
{
    struct event_base *base = event_base_new();
    memset(bus_kinds, 0, sizeof bus_kinds);
    uint64_t sub = bus_subscribe(alice.address, base, on_bus, NULL);
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    for (int i = 0; i < 3; i++)
        append_msg(mb, msg1, 0, NULL, 0);
    struct mailbox_snapshot s;
    uint32_t *mod;
    size_t nmod;
    uint32_t one = 1, two[] = {1, 2}, all[] = {3, 2, 1, 77};

    store(mb, &one, 1, MAILBOX_FLAGS_SET, MAIL_SEEN, NULL, 0, &s, &mod, &nmod);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.msgs[0].flags, MAIL_SEEN);
    uint64_t m1 = s.msgs[0].modseq;
    mailbox_snapshot_free(&s);
    free(mod);

    store(mb, two, 2, MAILBOX_FLAGS_ADD, MAIL_FLAGGED, "k1 $Forwarded", 0, &s, &mod,
          &nmod);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.msgs[0].flags, MAIL_SEEN | MAIL_FLAGGED | MAIL_FORWARDED);
    assert_int_equal(s.msgs[1].flags, MAIL_FLAGGED | MAIL_FORWARDED);
    assert_string_equal(s.msgs[1].keywords, "k1");
    assert_true(s.msgs[0].modseq > m1);
    uint64_t m2 = s.msgs[1].modseq;
    mailbox_snapshot_free(&s);

    store(mb, &one, 1, MAILBOX_FLAGS_REMOVE, MAIL_SEEN, "K1", 0, &s, &mod, &nmod);
    assert_int_equal(s.msgs[0].flags, MAIL_FLAGGED | MAIL_FORWARDED);
    assert_null(s.msgs[0].keywords);
    mailbox_snapshot_free(&s);

    /* Nothing changes: no new modseq (RFC 7162 3.1.3 allows either). */
    store(mb, &one, 1, MAILBOX_FLAGS_ADD, MAIL_FLAGGED, NULL, 0, &s, &mod, &nmod);
    uint64_t same = s.msgs[0].modseq;
    mailbox_snapshot_free(&s);
    store(mb, &one, 1, MAILBOX_FLAGS_ADD, MAIL_FLAGGED, NULL, 0, &s, &mod, &nmod);
    assert_int_equal(s.msgs[0].modseq, same);
    mailbox_snapshot_free(&s);

    /* UNCHANGEDSINCE m2: uid 2 (modseq m2) is stored; uids 1 and 3, changed
     * after m2, are not and come back in modified; unknown uid 77 skipped. */
    uint32_t three = 3;
    store(mb, &three, 1, MAILBOX_FLAGS_SET, MAIL_ANSWERED, "a b", 0, &s, &mod, &nmod);
    mailbox_snapshot_free(&s);
    store(mb, all, 4, MAILBOX_FLAGS_SET, MAIL_DELETED | MAIL_DRAFT, "x", m2, &s, &mod,
          &nmod);
    assert_int_equal(nmod, 2);
    assert_int_equal(mod[0], 1);
    assert_int_equal(mod[1], 3);
    free(mod);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.msgs[0].uid, 1);
    assert_int_equal(s.msgs[2].uid, 3);
    assert_int_equal(s.msgs[1].flags, MAIL_DELETED | MAIL_DRAFT);
    assert_string_equal(s.msgs[1].keywords, "x");
    assert_int_equal(s.msgs[2].flags, MAIL_ANSWERED);
    assert_string_equal(s.msgs[2].keywords, "a b");
    assert_int_equal(s.msgs[0].flags, MAIL_FLAGGED | MAIL_FORWARDED); /* modseq > m2 */
    uint64_t top = s.highest_modseq;
    mailbox_snapshot_free(&s);

    /* The file names carry the letters; a fresh snapshot agrees. */
    char name[300];
    assert_int_equal(find_file("cur", ":2,DT", name, sizeof name), 1);
    assert_int_equal(find_file("cur", ":2,R", name, sizeof name), 1);
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.highest_modseq, top);
    assert_int_equal(find_msg(&s, 2)->flags, MAIL_DELETED | MAIL_DRAFT);
    mailbox_snapshot_free(&s);

    struct mailbox_flag_change bad = {MAILBOX_FLAGS_ADD, 0, "\\Seen", 0};
    assert_int_equal(mailbox_store_flags(mb, &one, 1, &bad, &s, &mod, &nmod), -1);
    assert_int_equal(errno, EINVAL);

    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_true(bus_kinds[BUS_FLAGS] >= 5);
    bus_unsubscribe(sub);
    event_base_free(base);
    mailbox_close(mb);
}

#define MANY 300 /* over flags_store.c's STORE_PIPE_MIN */

/* The name of one file in cur/ that is not skip (first in readdir order). */
static void some_file(const char *skip, char *out, size_t len)
{
    char path[160];
    mail_path(path, sizeof path, "cur");
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *de;
    out[0] = '\0';
    while ((de = readdir(d)) != NULL && !out[0])
        if (de->d_name[0] != '.' && (!skip || strcmp(de->d_name, skip) != 0))
            snprintf(out, len, "%s", de->d_name);
    closedir(d);
    assert_true(out[0] != '\0');
}

static void test_store_many(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    uint32_t uids[MANY];
    for (int i = 0; i < MANY; i++)
        uids[i] = append_msg(mb, msg1, 0, NULL, 0);
    struct mailbox_snapshot s;
    uint32_t *mod;
    size_t nmod;
    char name[300];

    /* Renamed on the helper thread: every file and row has the flag. */
    store(mb, uids, MANY, MAILBOX_FLAGS_ADD, MAIL_SEEN, NULL, 0, &s, &mod, &nmod);
    assert_int_equal(s.n, MANY);
    for (int i = 0; i < MANY; i++)
        assert_int_equal(s.msgs[i].flags, MAIL_SEEN);
    mailbox_snapshot_free(&s);
    free(mod);
    assert_int_equal(find_file("cur", ":2,S", name, sizeof name), MANY);

    /* Under it, another program flags one file and removes another: the
     * piped rename of one of them fails, the STORE runs again one by one,
     * resyncs, and stores the rest. */
    char a[300], b[300], from[700], to[700];
    some_file(NULL, a, sizeof a);
    some_file(a, b, sizeof b);
    snprintf(name, sizeof name, "cur/%s", a);
    mail_path(from, sizeof from, name);
    assert_true(strlen(from) > 1 && from[strlen(from) - 1] == 'S');
    snprintf(to, sizeof to, "%.*sFS", (int)strlen(from) - 1, from);
    assert_int_equal(rename(from, to), 0);
    snprintf(name, sizeof name, "cur/%s", b);
    mail_path(from, sizeof from, name);
    assert_int_equal(unlink(from), 0);
    store(mb, uids, MANY, MAILBOX_FLAGS_REMOVE, MAIL_SEEN, NULL, 0, &s, &mod, &nmod);
    assert_int_equal(s.n, MANY - 1);
    int flagged = 0;
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.msgs[i].flags & MAIL_SEEN, 0);
        flagged += s.msgs[i].flags == MAIL_FLAGGED;
    }
    assert_int_equal(flagged, 1);
    mailbox_snapshot_free(&s);
    free(mod);
    assert_int_equal(find_file("cur", ":2,S", name, sizeof name), 0);
    assert_int_equal(find_file("cur", ":2,F", name, sizeof name), 1);
    assert_int_equal(find_file("cur", ":2,", name, sizeof name), MANY - 1);
    assert_int_equal(mailbox_snapshot(mb, &s), 0); /* the index agrees */
    assert_int_equal(s.n, MANY - 1);
    flagged = 0;
    for (size_t i = 0; i < s.n; i++)
        flagged += s.msgs[i].flags == MAIL_FLAGGED;
    assert_int_equal(flagged, 1);
    mailbox_snapshot_free(&s);
    mailbox_close(mb);
}

/* The first bytes of uid's message through mailbox_message_open. */
static void assert_opens(struct mailbox *mb, uint32_t uid, const char *start)
{
    char buf[64] = {0};
    int fd = mailbox_message_open(mb, uid);
    assert_true(fd >= 0);
    assert_true(read(fd, buf, sizeof buf - 1) > 0);
    close(fd);
    assert_true(strncmp(buf, start, strlen(start)) == 0);
}

static void test_expect_opens(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    static const char *const texts[] = {
        "Subject: a\r\n\r\n1\r\n", "Subject: b\r\n\r\n2\r\n", "Subject: c\r\n\r\n3\r\n",
        "Subject: d\r\n\r\n4\r\n"};
    for (int i = 0; i < 4; i++)
        append_msg(mb, texts[i], 0, NULL, 0);
    uint32_t three = 3;
    struct mailbox_snapshot s;
    uint32_t *mod;
    size_t nmod;
    store(mb, &three, 1, MAILBOX_FLAGS_ADD, MAIL_FLAGGED, NULL, 0, &s, &mod, &nmod);
    mailbox_snapshot_free(&s);
    free(mod);

    /* The names of 1..4 read at the first open. */
    mailbox_expect_opens(mb, 1, 4);
    assert_opens(mb, 2, "Subject: b");
    /* Another program re-flags message 3: its name in the batch is stale,
     * the open finds the file again. */
    reflag_outside(":2,F", "S", NULL, 0);
    assert_opens(mb, 3, "Subject: c");
    assert_opens(mb, 4, "Subject: d");
    assert_opens(mb, 1, "Subject: a");
    /* A UID the batch does not know, a range too wide: opened as before. */
    mailbox_expect_opens(mb, 1, 2);
    assert_opens(mb, 4, "Subject: d");
    assert_true(mailbox_message_open(mb, 9) < 0);
    mailbox_expect_opens(mb, 1, 1 + MAILBOX_NAMES_MAX);
    assert_opens(mb, 3, "Subject: c");
    mailbox_summary_flush(mb); /* the batch ends */
    assert_opens(mb, 2, "Subject: b");
    mailbox_close(mb);
}

static void test_copy_move(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    append_msg(mb, msg1, MAIL_SEEN, "k1", 1600000000);
    append_msg(mb, "Subject: two\n\nx\n", MAIL_ANSWERED, NULL, 0);
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    char id1[MAILBOX_EMAILID_LEN], id2[MAILBOX_EMAILID_LEN], id[MAILBOX_EMAILID_LEN];
    emailid_of(mb, s.msgs[0].uid, id1);
    emailid_of(mb, s.msgs[1].uid, id2);
    assert_string_not_equal(id1, id2);
    mailbox_snapshot_free(&s);

    uint32_t uids[] = {1, 42}, dst[2], validity;
    assert_int_equal(mailbox_copy(mb, uids, 2, "Sent", false, NULL, dst, &validity),
                     STORE_OK);
    assert_int_equal(dst[0], 1);
    assert_int_equal(dst[1], 0);
    struct mailbox *sent = mailbox_open(datafd, &alice, "Sent");
    assert_int_equal(mailbox_snapshot(sent, &s), 0);
    assert_int_equal(s.uidvalidity, validity);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.msgs[0].flags, MAIL_SEEN);
    assert_string_equal(s.msgs[0].keywords, "k1");
    assert_int_equal(s.msgs[0].internaldate, 1600000000);
    assert_string_equal(emailid_of(sent, s.msgs[0].uid, id),
                        id1); /* a hard link shares it */
    mailbox_snapshot_free(&s);

    /* MOVE: renamed, EMAILID kept, the source UID vanished. */
    uint32_t two = 2;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    uint64_t before = s.highest_modseq;
    mailbox_snapshot_free(&s);
    assert_int_equal(mailbox_copy(mb, &two, 1, "Trash", true, NULL, dst, &validity),
                     STORE_OK);
    assert_int_equal(dst[0], 1);
    struct mailbox *trash = mailbox_open(datafd, &alice, "Trash");
    assert_int_equal(mailbox_snapshot(trash, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(emailid_of(trash, s.msgs[0].uid, id), id2);
    assert_int_equal(s.msgs[0].flags, MAIL_ANSWERED);
    mailbox_snapshot_free(&s);
    uint32_t *van;
    size_t nvan;
    assert_int_equal(mailbox_changes_since(mb, before, &s, &van, &nvan), 0);
    assert_int_equal(nvan, 1);
    assert_int_equal(van[0], 2);
    assert_int_equal(s.n, 0);
    free(van);
    mailbox_snapshot_free(&s);

    /* MOVE where the same name is taken (the copy above): ",C=1", same id. */
    uint32_t one = 1;
    assert_int_equal(mailbox_copy(mb, &one, 1, "Sent", true, NULL, dst, &validity),
                     STORE_OK);
    assert_int_equal(dst[0], 2);
    assert_int_equal(mailbox_snapshot(sent, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(emailid_of(sent, s.msgs[1].uid, id), id1);
    mailbox_snapshot_free(&s);
    char name[300];
    assert_int_equal(find_file(".Sent/cur", ",C=1:2,S", name, sizeof name), 1);
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.n, 0);
    mailbox_snapshot_free(&s);

    /* COPY within a folder gets a new UID; no such destination: ENOENT. */
    assert_int_equal(mailbox_copy(sent, &one, 1, "Sent", false, NULL, dst, &validity),
                     STORE_OK);
    assert_int_equal(dst[0], 3);
    assert_int_equal(mailbox_copy(sent, &one, 1, "Nope", false, NULL, dst, &validity),
                     STORE_ERROR);
    assert_int_equal(errno, ENOENT);
    /* Quota for copies: three messages already, room for three. */
    struct store_quota q = {0, 3};
    assert_int_equal(mailbox_copy(sent, &one, 1, "Trash", false, &q, dst, &validity),
                     STORE_OVER_QUOTA);
    mailbox_close(trash);
    mailbox_close(sent);
    mailbox_close(mb);
}

static void test_expunge_and_changes(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    for (int i = 0; i < 4; i++)
        append_msg(mb, msg1, i % 2 == 0 ? MAIL_DELETED : 0, NULL, 0);
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    uint64_t hm0 = s.highest_modseq;
    mailbox_snapshot_free(&s);

    uint32_t *gone;
    size_t ngone;
    assert_int_equal(mailbox_expunge(mb, NULL, 0, &gone, &ngone), 0);
    assert_int_equal(ngone, 2);
    assert_int_equal(gone[0], 1);
    assert_int_equal(gone[1], 3);
    free(gone);
    uint32_t some[] = {4, 99, 1};
    assert_int_equal(mailbox_expunge(mb, some, 3, &gone, &ngone), 0);
    assert_int_equal(ngone, 1);
    assert_int_equal(gone[0], 4);
    free(gone);
    char name[300];
    assert_int_equal(find_file("cur", "", name, sizeof name), 1); /* only uid 2 left */

    /* Since hm0: uid 2's flags change, and 1, 3, 4 vanished. */
    uint32_t two = 2, *mod, *van;
    size_t nmod, nvan;
    struct mailbox_flag_change ch = {MAILBOX_FLAGS_ADD, MAIL_SEEN, NULL, 0};
    assert_int_equal(mailbox_store_flags(mb, &two, 1, &ch, &s, &mod, &nmod), 0);
    mailbox_snapshot_free(&s);
    assert_int_equal(mailbox_changes_since(mb, hm0, &s, &van, &nvan), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.msgs[0].uid, 2);
    assert_int_equal(s.msgs[0].flags, MAIL_SEEN);
    assert_int_equal(nvan, 3);
    assert_int_equal(van[0], 1);
    assert_int_equal(van[1], 3);
    assert_int_equal(van[2], 4);
    uint64_t hm1 = s.highest_modseq;
    assert_true(hm1 > hm0);
    free(van);
    mailbox_snapshot_free(&s);
    assert_int_equal(mailbox_changes_since(mb, hm1, &s, &van, &nvan), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(nvan, 0);
    mailbox_snapshot_free(&s);

    /* The per-call expunge (POP3) records VANISHED too. */
    assert_int_equal(store_expunge(datafd, &alice, "INBOX", &two, 1), 0);
    assert_int_equal(mailbox_changes_since(mb, hm1, &s, &van, &nvan), 0);
    assert_int_equal(nvan, 1);
    assert_int_equal(van[0], 2);
    free(van);
    mailbox_snapshot_free(&s);
    mailbox_close(mb);
}

/* Sets the mtime of mail/<sub> back by secs (an old, trusted stamp). */
static void age_dir(const char *sub, time_t when)
{
    char path[160];
    mail_path(path, sizeof path, sub);
    struct timespec t[2] = {{when, 0}, {when, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static void take_known(void *arg, const struct mail_known *k)
{
    *(struct mail_known *)arg = *k;
}

static void test_external_changes(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    append_msg(mb, msg1, MAIL_FLAGGED, NULL, 0);
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    uint64_t hm = s.highest_modseq;
    mailbox_snapshot_free(&s);

    /* mutt marks it read: the file is renamed; the next snapshot sees it. */
    char to[700];
    reflag_outside(":2,F", "S", to, sizeof to);
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.msgs[0].flags, MAIL_FLAGGED | MAIL_SEEN);
    assert_true(s.msgs[0].modseq > hm);
    mailbox_snapshot_free(&s);

    /* The warm path: with old stamps, a snapshot scans nothing. Proof: a
     * file slipped in with the stamps put back is not seen until the
     * directory changes again. */
    time_t old = time(NULL) - 60;
    age_dir("new", old);
    age_dir("cur", old);
    assert_int_equal(mailbox_snapshot(mb, &s), 0); /* scans, stores the stamps */
    mailbox_snapshot_free(&s);
    char drop[160];
    mail_path(drop, sizeof drop, "new/1.sneaky.host");
    FILE *f = fopen(drop, "w");
    fputs("Subject: sneaky\n\nx\n", f);
    fclose(f);
    age_dir("new", old);
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.n, 1);
    mailbox_snapshot_free(&s);
    age_dir("new", old + 1);
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.msgs[1].flags, 0);
    /* A name without S=/W=: recorded from its name alone (the sync
     * stat'd and opened no file), its date and sizes learned when asked. */
    assert_int_equal(s.msgs[1].size, 0);
    assert_int_equal(s.msgs[1].internaldate, 0);
    assert_true(mailbox_vsize_unknown(&s.msgs[1]));
    struct mail_known counted = {0};
    assert_int_equal(
        mailbox_fill(mb, &s.msgs[1].uid, 1, MAIL_NEED_VSIZE, take_known, &counted), 0);
    assert_int_equal(counted.uid, s.msgs[1].uid);
    assert_int_equal(counted.size, 19);
    assert_int_equal(counted.vsize, 19 + 3);
    assert_true(counted.internaldate > 0);
    mailbox_snapshot_free(&s);
    assert_int_equal(mailbox_snapshot(mb, &s), 0); /* kept in the index */
    assert_int_equal(s.msgs[1].vsize, 19 + 3);
    assert_int_equal(s.msgs[1].size, 19);
    assert_int_equal(s.msgs[1].internaldate, counted.internaldate);
    mailbox_snapshot_free(&s);

    /* A file removed by another program is VANISHED. */
    assert_int_equal(unlink(to), 0);
    uint32_t *van;
    size_t nvan;
    assert_int_equal(mailbox_changes_since(mb, hm, &s, &van, &nvan), 0);
    assert_int_equal(nvan, 1);
    assert_int_equal(van[0], 1);
    free(van);
    mailbox_snapshot_free(&s);
    mailbox_close(mb);
}

static void test_rebuild(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "Sent");
    append_msg(mb, msg1, MAIL_SEEN | MAIL_DRAFT, NULL, 1500000000);
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    struct mailbox_snapshot old = s;
    char old_id[MAILBOX_EMAILID_LEN], id[MAILBOX_EMAILID_LEN];
    emailid_of(mb, old.msgs[0].uid, old_id);
    char path[160];
    mail_path(path, sizeof path, "index.db");
    assert_int_equal(unlink(path), 0);

    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_true(s.uidvalidity > old.uidvalidity); /* RFC 9051 2.3.1.1 */
    assert_string_equal(s.mailboxid, old.mailboxid);
    assert_int_equal(s.n, 1);
    assert_string_equal(emailid_of(mb, s.msgs[0].uid, id), old_id);
    assert_int_equal(s.msgs[0].flags, MAIL_SEEN | MAIL_DRAFT);
    assert_int_equal(s.msgs[0].vsize, old.msgs[0].vsize); /* from W= */
    /* The date (the file's mtime, as APPEND set it) is stat'd when asked. */
    assert_int_equal(s.msgs[0].internaldate, 0);
    struct mail_known k = {0};
    assert_int_equal(mailbox_fill(mb, &s.msgs[0].uid, 1, MAIL_NEED_DATE, take_known, &k),
                     0);
    assert_int_equal(k.internaldate, 1500000000);
    mailbox_snapshot_free(&s);
    mailbox_snapshot_free(&old);

    struct mail_status st;
    assert_int_equal(store_folder_status(datafd, &alice, "Sent", &st), 0);
    assert_int_equal(st.messages, 1);
    mailbox_close(mb);
}

static void test_summary(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    append_msg(mb, msg1, 0, NULL, 0);
    /* A cached summary comes from the index without parsing. */
    int mfd = open(dir, O_RDONLY | O_DIRECTORY);
    char path[160];
    mail_path(path, sizeof path, "");
    int mailfd = open(path, O_RDONLY | O_DIRECTORY);
    struct mail_index *idx = index_cache_get(mailfd);
    assert_int_equal(index_summary_set(idx, "INBOX", 1, "(cached)", NULL), 0);
    index_cache_put(idx);
    char *text = mailbox_summary(mb, 1);
    assert_non_null(text);
    assert_string_equal(text, "(cached)");
    free(text);
    assert_null(mailbox_summary(mb, 5));
    assert_int_equal(errno, ENOENT);

    /* Summaries live in their own table (schema 2): a flag change leaves
     * them alone, a copy takes its source's, an expunge removes them. */
    struct mailbox_flag_change ch = {MAILBOX_FLAGS_ADD, MAIL_SEEN, NULL, 0};
    struct mailbox_snapshot out;
    uint32_t one = 1, *mod = NULL, dst = 0, validity = 0;
    size_t nmod = 0;
    assert_int_equal(mailbox_store_flags(mb, &one, 1, &ch, &out, &mod, &nmod), 0);
    mailbox_snapshot_free(&out);
    free(mod);
    text = mailbox_summary(mb, 1);
    assert_string_equal(text, "(cached)");
    free(text);
    assert_int_equal(mailbox_copy(mb, &one, 1, "Sent", false, NULL, &dst, &validity),
                     STORE_OK);
    struct mailbox *sent = mailbox_open(datafd, &alice, "Sent");
    text = mailbox_summary(sent, dst);
    assert_string_equal(text, "(cached)");
    free(text);
    mailbox_close(sent);
    uint32_t *gone = NULL;
    size_t ngone = 0;
    assert_int_equal(mailbox_expunge(mb, &one, 1, &gone, &ngone), 0);
    assert_int_equal(ngone, 1);
    free(gone);
    mail_path(path, sizeof path, "index.db");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM summaries", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1); /* the copy's */
    sqlite3_finalize(st);

    /* An index of schema 1 (summaries in the message rows) is migrated
     * when opened: the summary moves to the table. */
    uint32_t u2 = append_msg(mb, msg1, 0, NULL, 0);
    index_cache_flush();
    char sql[256];
    snprintf(sql, sizeof sql,
             "DROP TABLE summaries; UPDATE messages SET summary = '(v1)'"
             " WHERE uid = %u; PRAGMA user_version = 1;",
             (unsigned)u2);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    text = mailbox_summary(mb, u2);
    assert_non_null(text);
    assert_string_equal(text, "(v1)");
    free(text);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM messages WHERE summary"
                                        " IS NOT NULL",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    close(mailfd);
    close(mfd);
    mailbox_close(mb);
}

/* Two threads, each with its own handle on INBOX: one appends, one keeps
 * flagging everything it sees. No cmocka asserts off the main thread. */
#define APPENDS 30

struct worker {
    int failed;
    bool done;
};
static struct worker appender, flagger;

static void *append_many(void *arg)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    for (int i = 0; mb && i < APPENDS; i++) {
        uint32_t uid, v;
        int fd = src_file(msg1);
        if (mailbox_append(mb, fd, 0, NULL, 0, NULL, &uid, &v) != STORE_OK ||
            uid != (uint32_t)i + 1)
            appender.failed++;
        close(fd);
    }
    appender.failed += mb == NULL;
    mailbox_close(mb);
    __atomic_store_n(&appender.done, true, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *flag_many(void *arg)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    struct mailbox_flag_change ch = {MAILBOX_FLAGS_ADD, MAIL_SEEN, "seen-by-b", 0};
    bool last = false;
    while (mb && !last) {
        last = __atomic_load_n(&appender.done, __ATOMIC_SEQ_CST);
        struct mailbox_snapshot s, out;
        uint32_t *mod;
        size_t nmod;
        if (mailbox_snapshot(mb, &s) < 0) {
            flagger.failed++;
            break;
        }
        uint32_t *uids = calloc(s.n + 1, sizeof *uids);
        for (size_t i = 0; i < s.n; i++)
            uids[i] = s.msgs[i].uid;
        if (mailbox_store_flags(mb, uids, s.n, &ch, &out, &mod, &nmod) < 0)
            flagger.failed++;
        else
            mailbox_snapshot_free(&out);
        free(mod);
        free(uids);
        mailbox_snapshot_free(&s);
    }
    flagger.failed += mb == NULL;
    mailbox_close(mb);
    return NULL;
}

static int sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The shape of index.db: every table's and index's columns, in order. */
static void shape(char *out, size_t len)
{
    char path[160];
    sqlite3 *db;
    mail_path(path, sizeof path, "index.db");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\","
                           " coalesce(p.dflt_value, ''), p.pk FROM sqlite_master m,"
                           " pragma_table_info(m.name) p WHERE m.type = 'table'"
                           " UNION ALL SELECT m.name, i.seqno, i.name, '', 0, '', 0"
                           " FROM sqlite_master m, pragma_index_info(m.name) i"
                           " WHERE m.type = 'index' ORDER BY 1, 2",
                           -1, &st, NULL),
        SQLITE_OK);
    size_t o = 0;
    while (sqlite3_step(st) == SQLITE_ROW && o < len)
        o += (size_t)snprintf(out + o, len - o, "%s %d %s %s %d %s %d\n",
                              sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
                              sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
                              sqlite3_column_int(st, 4), sqlite3_column_text(st, 5),
                              sqlite3_column_int(st, 6));
    sqlite3_finalize(st);
    assert_int_equal(sql_int(db, "PRAGMA user_version"), 3);
    sqlite3_close(db);
}

/* A new index.db is made with the tables in one go (store/index.c
 * schema_fresh): the same shape as one migrated from version 0. */
static void test_fresh_schema(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    append_msg(mb, msg1, 0, NULL, 0);
    mailbox_close(mb);
    index_cache_flush();
    static char fresh[8192], migrated[8192];
    shape(fresh, sizeof fresh);
    assert_non_null(strstr(fresh, "messages 12 summary TEXT"));

    char path[160];
    sqlite3 *db;
    mail_path(path, sizeof path, "index.db");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "CREATE TABLE folders(id INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL UNIQUE, uidvalidity INTEGER NOT NULL,"
            " uidnext INTEGER NOT NULL, modseq INTEGER NOT NULL);"
            "CREATE TABLE messages(folder_id INTEGER NOT NULL, uid INTEGER NOT NULL,"
            " base TEXT NOT NULL, in_cur INTEGER NOT NULL, flags TEXT NOT NULL,"
            " keywords TEXT NOT NULL DEFAULT '', modseq INTEGER NOT NULL,"
            " internaldate INTEGER NOT NULL, size INTEGER NOT NULL,"
            " vsize INTEGER NOT NULL, envelope TEXT, bodystructure TEXT,"
            " PRIMARY KEY(folder_id, uid), UNIQUE(folder_id, base));",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    mb = mailbox_open(datafd, &alice, "INBOX");
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0); /* migrated, then synced */
    assert_int_equal(s.n, 1);
    mailbox_snapshot_free(&s);
    mailbox_close(mb);
    index_cache_flush();
    shape(migrated, sizeof migrated);
    assert_string_equal(fresh, migrated);
}

/* A new index.db is written from the image of an empty index
 * (store/index_create.c): a database in WAL mode (header bytes 18 and 19
 * are 2), whole, at the current version, its WAL made at once. */
static void test_index_from_image(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    assert_non_null(mb);
    char path[160];
    mail_path(path, sizeof path, "index.db-wal");
    struct stat st;
    assert_int_equal(stat(path, &st), 0); /* made with the file */
    append_msg(mb, msg1, 0, NULL, 0);
    mailbox_close(mb);
    index_cache_flush();

    mail_path(path, sizeof path, "index.db");
    unsigned char head[100];
    int fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, head, sizeof head), sizeof head);
    close(fd);
    assert_memory_equal(head, "SQLite format 3", 16);
    assert_int_equal(head[18], 2);
    assert_int_equal(head[19], 2);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    assert_int_equal(sql_int(db, "PRAGMA user_version"), 3);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages"), 1);
    sqlite3_close(db);
}

/* Removes index.db with its WAL and -shm (the cache flushed first). */
static void remove_index(void)
{
    const char *gone[] = {"index.db", "index.db-wal", "index.db-shm"};
    char path[160];
    for (size_t i = 0; i < 3; i++) {
        mail_path(path, sizeof path, gone[i]);
        unlink(path);
    }
}

/* An empty index.db (another program made it, or a crash right after
 * SQLite did) is not replaced: SQLite makes the tables in it, the same
 * shape as an index made from the image. */
static void test_index_empty_file(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    mailbox_close(mb);
    index_cache_flush();
    static char image[8192], empty[8192];
    shape(image, sizeof image);
    remove_index();
    char path[160];
    mail_path(path, sizeof path, "index.db");
    close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0600));
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    mb = mailbox_open(datafd, &alice, "INBOX");
    append_msg(mb, msg1, 0, NULL, 0);
    mailbox_close(mb);
    index_cache_flush();
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);
    shape(empty, sizeof empty);
    assert_string_equal(image, empty);
}

/* An index.db removed with its WAL and -shm left behind: the new one does
 * not take the old WAL's frames (SQLite would replay them into any file
 * that is not empty). Its UIDVALIDITY is new and its rows are the files. */
static void test_index_stale_wal(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    append_msg(mb, msg1, 0, NULL, 0);
    append_msg(mb, msg1, 0, NULL, 0);
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    uint32_t validity = s.uidvalidity;
    mailbox_snapshot_free(&s);
    char path[160], wal[160];
    mail_path(path, sizeof path, "index.db");
    mail_path(wal, sizeof wal, "index.db-wal");
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    assert_true(st.st_size > 0); /* the rows are in the WAL, not checkpointed */
    assert_int_equal(unlink(path), 0);
    mailbox_close(mb);
    index_cache_flush();

    mb = mailbox_open(datafd, &alice, "INBOX");
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_true(s.uidvalidity > validity);
    mailbox_snapshot_free(&s);
    mailbox_close(mb);
    index_cache_flush();
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM folders"), 1);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages"), 2);
    sqlite3_close(db);
}

#define RACERS 6
static int race_mailfd;
static pthread_barrier_t race_start;

/* One of RACERS threads making the same new index.db at once. */
static void *race_open(void *arg)
{
    int *ok = arg;
    pthread_barrier_wait(&race_start);
    struct mail_index *idx = index_open(race_mailfd);
    struct index_folder f;
    *ok = idx && index_sync(idx, "INBOX", race_mailfd, &f) == 0 && f.uidvalidity > 0;
    index_close(idx);
    return NULL;
}

/* Threads that all find no index.db make one between them (the link is
 * made once, under the directory's lock), and every one of them opens it
 * and syncs the folder; the folder has one row. */
static void test_index_create_race(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX"); /* the Maildir */
    append_msg(mb, msg1, 0, NULL, 0);
    mailbox_close(mb);
    index_cache_flush();
    remove_index();
    char path[160];
    mail_path(path, sizeof path, "");
    race_mailfd = open(path, O_RDONLY | O_DIRECTORY);
    assert_true(race_mailfd >= 0);
    pthread_t t[RACERS];
    int ok[RACERS] = {0};
    assert_int_equal(pthread_barrier_init(&race_start, NULL, RACERS), 0);
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race_open, &ok[i]), 0);
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        assert_true(ok[i]);
    }
    pthread_barrier_destroy(&race_start);
    close(race_mailfd);
    sqlite3 *db;
    mail_path(path, sizeof path, "index.db");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM folders WHERE name = 'INBOX'"), 1);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages"), 1);
    sqlite3_close(db);
}

/* A handle still open on a removed index.db, closed after a new index.db
 * was made and written, leaves the new index's WAL and -shm alone: SQLite
 * deletes them by name on close, but not for a database file that has
 * moved (SQLITE_FCNTL_HAS_MOVED), and the handle's path resolves through
 * its own fd of the mail directory until it is closed. A later handle
 * sees what the new index committed. */
static void test_stale_handle_keeps_new_wal(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX"); /* the Maildir */
    append_msg(mb, msg1, 0, NULL, 0);
    mailbox_close(mb);
    index_cache_flush();
    char path[160];
    mail_path(path, sizeof path, "");
    int mailfd = open(path, O_RDONLY | O_DIRECTORY);
    assert_true(mailfd >= 0);
    struct mail_index *stale = index_open(mailfd);
    struct index_folder f, g;
    assert_int_equal(index_sync(stale, "INBOX", mailfd, &f), 0);
    remove_index();

    struct mail_index *fresh = index_open(mailfd);
    assert_int_equal(index_sync(fresh, "INBOX", mailfd, &f), 0);
    assert_true(f.uidvalidity > 0);
    index_close(stale);
    char wal[160];
    struct stat st;
    mail_path(wal, sizeof wal, "index.db-wal");
    assert_int_equal(stat(wal, &st), 0);
    struct mail_index *later = index_open(mailfd);
    assert_non_null(later);
    assert_int_equal(index_folder_read(later, "INBOX", &g), 1);
    assert_int_equal(g.uidvalidity, f.uidvalidity);
    assert_int_equal(g.uidnext, f.uidnext);
    index_close(later);
    index_close(fresh);
    close(mailfd);
}

/* Schema 3: an index.db of version 2 (with the modseq index) loses that
 * index when opened, and keeps its rows; CHANGEDSINCE still answers. */
static void test_schema_v3(void **state)
{
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX");
    append_msg(mb, msg1, 0, NULL, 0);
    append_msg(mb, msg1, 0, NULL, 0);
    mailbox_close(mb);
    index_cache_flush();
    char path[160];
    sqlite3 *db;
    mail_path(path, sizeof path, "index.db");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE INDEX messages_modseq ON messages(folder_id, modseq);"
                     "PRAGMA user_version = 2;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    mb = mailbox_open(datafd, &alice, "INBOX");
    struct mailbox_snapshot s;
    uint32_t *van;
    size_t nvan;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    uint64_t mid = s.msgs[0].modseq;
    mailbox_snapshot_free(&s);
    assert_int_equal(mailbox_changes_since(mb, mid, &s, &van, &nvan), 0);
    assert_int_equal(s.n, 1); /* the second append's row only */
    assert_int_equal(nvan, 0);
    free(van);
    mailbox_snapshot_free(&s);
    mailbox_close(mb);
    index_cache_flush();
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sql_int(db, "PRAGMA user_version"), 3);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM sqlite_master"
                                 " WHERE name = 'messages_modseq'"),
                     0);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM messages"), 2);
    sqlite3_close(db);
}

static void test_two_threads(void **state)
{
    pthread_t a, b;
    struct mailbox *mb = mailbox_open(datafd, &alice, "INBOX"); /* makes the Maildir */
    assert_int_equal(pthread_create(&a, NULL, append_many, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, flag_many, NULL), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    assert_int_equal(appender.failed, 0);
    assert_int_equal(flagger.failed, 0);
    struct mailbox_snapshot s;
    assert_int_equal(mailbox_snapshot(mb, &s), 0);
    assert_int_equal(s.n, APPENDS);
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.msgs[i].uid, i + 1);
        assert_int_equal(s.msgs[i].flags, MAIL_SEEN); /* the last pass saw them all */
        assert_string_equal(s.msgs[i].keywords, "seen-by-b");
    }
    mailbox_snapshot_free(&s);
    mailbox_close(mb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expect_opens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expunge_and_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_external_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_v3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_from_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_stale_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_create_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_handle_keeps_new_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
