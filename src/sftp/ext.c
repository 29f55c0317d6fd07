/* ext: SSH_FXP_INIT / SSH_FXP_VERSION (draft-02 4) and SSH_FXP_EXTENDED
 * (draft-02 8) with the OpenSSH extensions of its PROTOCOL file, section 4:
 * posix-rename, statvfs, fstatvfs, hardlink, fsync, limits, expand-path
 * and home-directory. */
#include "sftp/ext.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "sftp/sftp.h"

/* Announced in VERSION, each with the version OpenSSH 9 announces. */
static const char *const extensions[][2] = {
    {"posix-rename@openssh.com", "1"}, {"statvfs@openssh.com", "2"},
    {"fstatvfs@openssh.com", "2"},     {"hardlink@openssh.com", "1"},
    {"fsync@openssh.com", "1"},        {"limits@openssh.com", "1"},
    {"expand-path@openssh.com", "1"},  {"home-directory", "1"},
};

void sftp_req_init(struct sftp *s, const struct sftp_req *r)
{
    /* draft-02 4: we speak version 3 whatever the client offers above it. */
    log_debug(s->sid, "sftp init client_version=%u", r->version);
    sftp_begin_version(&s->out, SFTP_PROTOCOL_VERSION);
    for (size_t i = 0; i < sizeof extensions / sizeof *extensions; i++) {
        sftp_put_cstr(&s->out, extensions[i][0]);
        sftp_put_cstr(&s->out, extensions[i][1]);
    }
    sftp_end(&s->out);
    s->inited = true;
}

/* PROTOCOL 4.4: the statvfs fields, each a uint64. */
void sftp_reply_statvfs(struct sftp *s, uint32_t id, const struct statvfs *v)
{
    uint64_t flag = 0;
    if (v->f_flag & ST_RDONLY)
        flag |= 0x1; /* SSH_FXE_STATVFS_ST_RDONLY */
    if (v->f_flag & ST_NOSUID)
        flag |= 0x2; /* SSH_FXE_STATVFS_ST_NOSUID */
    sftp_begin(&s->out, SSH_FXP_EXTENDED_REPLY, id);
    sftp_put_u64(&s->out, v->f_bsize);
    sftp_put_u64(&s->out, v->f_frsize);
    sftp_put_u64(&s->out, v->f_blocks);
    sftp_put_u64(&s->out, v->f_bfree);
    sftp_put_u64(&s->out, v->f_bavail);
    sftp_put_u64(&s->out, v->f_files);
    sftp_put_u64(&s->out, v->f_ffree);
    sftp_put_u64(&s->out, v->f_favail);
    sftp_put_u64(&s->out, v->f_fsid);
    sftp_put_u64(&s->out, flag);
    sftp_put_u64(&s->out, v->f_namemax);
    sftp_end(&s->out);
}

/* limits@openssh.com (PROTOCOL 4.8). */
static void req_limits(struct sftp *s, const struct sftp_req *r)
{
    sftp_begin(&s->out, SSH_FXP_EXTENDED_REPLY, r->id);
    sftp_put_u64(&s->out, SFTP_MAX_PACKET);
    sftp_put_u64(&s->out, SFTP_MAX_DATA);
    sftp_put_u64(&s->out, SFTP_MAX_DATA);
    sftp_put_u64(&s->out, SFTP_MAX_HANDLES);
    sftp_end(&s->out);
}

/* expand-path@openssh.com (PROTOCOL 4.10): "~" and "~/x" are the area's
 * root ("/" is home); then as REALPATH. */
static void req_expand_path(struct sftp *s, const struct sftp_req *r)
{
    struct sftp_req q = *r;
    if (q.a.len > 0 && q.a.p[0] == '~') {
        if (q.a.len > 1 && q.a.p[1] != '/') {
            sftp_status(s, r->id, SSH_FX_NO_SUCH_FILE, "Only ~ is known here");
            return;
        }
        q.a.p++;
        q.a.len--;
    }
    sftp_req_realpath(s, &q);
}

/* home-directory (PROTOCOL 4.11): our own name (or none) has "/". */
static void req_home_directory(struct sftp *s, const struct sftp_req *r)
{
    size_t n = strlen(s->owner);
    bool self = r->a.len == 0 || sftp_str_is(r->a, s->user) ||
                (r->a.len == n && strncasecmp((const char *)r->a.p, s->owner, n) == 0);
    if (!self) {
        sftp_status(s, r->id, SSH_FX_NO_SUCH_FILE, "No such user here");
        return;
    }
    sftp_reply_name1(s, r->id, "/");
}

void sftp_req_extended(struct sftp *s, const struct sftp_req *r)
{
    switch (r->ext) {
    case SFTP_EXT_POSIX_RENAME:
        sftp_req_rename(s, r);
        return;
    case SFTP_EXT_STATVFS:
        sftp_req_statvfs(s, r);
        return;
    case SFTP_EXT_FSTATVFS:
        sftp_req_fstatvfs(s, r);
        return;
    case SFTP_EXT_HARDLINK:
        sftp_req_hardlink(s, r);
        return;
    case SFTP_EXT_FSYNC:
        sftp_req_fsync(s, r);
        return;
    case SFTP_EXT_LIMITS:
        req_limits(s, r);
        return;
    case SFTP_EXT_EXPAND_PATH:
        req_expand_path(s, r);
        return;
    case SFTP_EXT_HOME_DIR:
        req_home_directory(s, r);
        return;
    case SFTP_EXT_LSETSTAT:
    case SFTP_EXT_UNKNOWN:
        break;
    }
    sftp_status(s, r->id, SSH_FX_OP_UNSUPPORTED, "Unsupported extension");
}
