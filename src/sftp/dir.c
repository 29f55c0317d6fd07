/* dir: OPENDIR and READDIR (draft-02 6.7). A READDIR reply holds up to
 * SFTP_READDIR_BATCH names (and stays near SFTP_MAX_DATA bytes); "." and
 * ".." are left out, and so are uploads in progress (STORE_UPLOAD_PREFIX),
 * as FTP and HTTP listings hide them. */
#include "sftp/sftp.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/sandbox.h"

#define LONGNAME_MAX (NAME_MAX + 128)

void sftp_req_opendir(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1];
    if (sftp_path(&r->a, vpath) < 0) {
        sftp_status_errno(s, r->id, errno);
        return;
    }
    int fd = sandbox_open(s->rootfd, vpath, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        sftp_status_errno(s, r->id, errno);
        return;
    }
    struct sftp_handle *h = sftp_handle_new(s, SFTP_H_DIR);
    DIR *dir = h != NULL ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        close(fd);
        if (h != NULL)
            sftp_handle_release(s, h);
        sftp_status(s, r->id, SSH_FX_FAILURE, "Too many open handles");
        return;
    }
    h->dir = dir;
    sftp_handle_reply(s, r->id, h);
}

static bool listed(const char *name)
{
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           !store_is_upload_temp(name);
}

/* Adds one NAME entry: filename, longname, attrs. */
static void put_entry(struct sftp *s, const char *name, const struct stat *st, time_t now)
{
    char longname[LONGNAME_MAX];
    sftp_longname(longname, sizeof longname, st, name, s->owner, now);
    sftp_put_cstr(&s->out, name);
    sftp_put_cstr(&s->out, longname);
    sftp_put_stat(&s->out, st);
}

void sftp_req_readdir(struct sftp *s, const struct sftp_req *r)
{
    struct sftp_handle *h = sftp_handle_get(s, &r->a);
    if (h == NULL || h->kind != SFTP_H_DIR) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Invalid handle");
        return;
    }
    sftp_begin(&s->out, SSH_FXP_NAME, r->id);
    size_t count_at = s->out.len;
    sftp_put_u32(&s->out, 0);
    uint32_t count = 0;
    time_t now = time(NULL);
    struct dirent *de;
    while (count < SFTP_READDIR_BATCH && sftp_packet_len(&s->out) < SFTP_MAX_DATA &&
           (de = readdir(h->dir)) != NULL) {
        struct stat st;
        if (!listed(de->d_name) ||
            fstatat(dirfd(h->dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        put_entry(s, de->d_name, &st, now);
        count++;
    }
    if (count == 0) {
        sftp_cancel(&s->out);
        sftp_status(s, r->id, SSH_FX_EOF, "End of directory");
        return;
    }
    if (!s->out.failed) {
        uint8_t *p = s->out.buf + count_at;
        p[0] = (uint8_t)(count >> 24);
        p[1] = (uint8_t)(count >> 16);
        p[2] = (uint8_t)(count >> 8);
        p[3] = (uint8_t)count;
    }
    sftp_end(&s->out);
}
