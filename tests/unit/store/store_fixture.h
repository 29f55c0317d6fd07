/* store_fixture: a temporary data_dir with one account for the store's
 * unit tests, and small helpers (a message source file, paths, the bus). */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/index_cache.h"
#include "store/mailbox.h"

static char dir[64];
static int datafd;
static const struct account alice = {1, "alice", "example.org", "alice@example.org"};

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/portico-mbox-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    datafd = open(dir, O_RDONLY | O_DIRECTORY);
    return mkdirat(datafd, "users", 0700);
}

static int teardown(void **state)
{
    char cmd[128];
    index_cache_flush();
    close(datafd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static inline int src_file(const char *text)
{
    char path[96];
    snprintf(path, sizeof path, "%s/src-XXXXXX", dir);
    int fd = mkstemp(path);
    unlink(path);
    assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    return fd;
}

/* The account's mail/ path + rel. */
static inline void mail_path(char *out, size_t len, const char *rel)
{
    snprintf(out, len, "%s/users/example.org/alice/mail/%s", dir, rel);
}

static inline uint32_t append_msg(struct mailbox *mb, const char *text, unsigned flags,
                                  const char *kw, int64_t date)
{
    uint32_t uid = 0, validity = 0;
    int fd = src_file(text);
    assert_int_equal(mailbox_append(mb, fd, flags, kw, date, NULL, &uid, &validity),
                     STORE_OK);
    close(fd);
    assert_true(uid > 0);
    assert_true(validity > 0);
    return uid;
}

/* The EMAILID of uid (store/mailbox.h mailbox_emailid) into out. */
static inline const char *emailid_of(struct mailbox *mb, uint32_t uid, char *out)
{
    assert_int_equal(mailbox_emailid(mb, uid, out, MAILBOX_EMAILID_LEN), 0);
    return out;
}

static inline const struct mailbox_msg *find_msg(const struct mailbox_snapshot *s,
                                                 uint32_t uid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->msgs[i].uid == uid)
            return &s->msgs[i];
    return NULL;
}
