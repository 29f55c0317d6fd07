/* reply: the output buffer and the encoders of reply.h. */
#include "sftp/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sftp/packet.h"

#define OUT_MIN_CAP 4096
#define SIX_MONTHS (182L * 24 * 3600) /* ls(1): older dates show the year */

void sftp_out_init(struct sftp_out *o)
{
    memset(o, 0, sizeof *o);
}

void sftp_out_free(struct sftp_out *o)
{
    free(o->buf);
    memset(o, 0, sizeof *o);
}

static bool reserve(struct sftp_out *o, size_t n)
{
    if (o->failed)
        return false;
    if (o->cap - o->len >= n)
        return true;
    size_t cap = o->cap ? o->cap : OUT_MIN_CAP;
    while (cap - o->len < n)
        cap *= 2;
    uint8_t *b = realloc(o->buf, cap);
    if (b == NULL) {
        o->failed = true;
        return false;
    }
    o->buf = b;
    o->cap = cap;
    return true;
}

void sftp_put_u8(struct sftp_out *o, uint8_t v)
{
    if (reserve(o, 1))
        o->buf[o->len++] = v;
}

void sftp_put_u32(struct sftp_out *o, uint32_t v)
{
    if (!reserve(o, 4))
        return;
    uint8_t *p = o->buf + o->len;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    o->len += 4;
}

void sftp_put_u64(struct sftp_out *o, uint64_t v)
{
    sftp_put_u32(o, (uint32_t)(v >> 32));
    sftp_put_u32(o, (uint32_t)v);
}

void sftp_put_str(struct sftp_out *o, const void *p, size_t n)
{
    sftp_put_u32(o, (uint32_t)n);
    if (n > 0 && reserve(o, n)) {
        memcpy(o->buf + o->len, p, n);
        o->len += n;
    }
}

uint8_t *sftp_put_room(struct sftp_out *o, size_t n)
{
    if (!reserve(o, n))
        return NULL;
    return o->buf + o->len;
}

void sftp_put_commit(struct sftp_out *o, size_t n)
{
    o->len += n;
}

void sftp_put_cstr(struct sftp_out *o, const char *s)
{
    sftp_put_str(o, s, strlen(s));
}

void sftp_begin(struct sftp_out *o, uint8_t type, uint32_t id)
{
    o->start = o->len;
    sftp_put_u32(o, 0);
    sftp_put_u8(o, type);
    sftp_put_u32(o, id);
}

void sftp_begin_version(struct sftp_out *o, uint32_t version)
{
    o->start = o->len;
    sftp_put_u32(o, 0);
    sftp_put_u8(o, SSH_FXP_VERSION);
    sftp_put_u32(o, version);
}

size_t sftp_packet_len(const struct sftp_out *o)
{
    return o->len - o->start;
}

void sftp_end(struct sftp_out *o)
{
    if (o->failed)
        return;
    uint32_t n = (uint32_t)(o->len - o->start - 4);
    uint8_t *p = o->buf + o->start;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}

void sftp_cancel(struct sftp_out *o)
{
    o->len = o->start;
}

void sftp_put_stat(struct sftp_out *o, const struct stat *st)
{
    sftp_put_u32(o, SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID |
                        SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_ACMODTIME);
    sftp_put_u64(o, (uint64_t)st->st_size);
    sftp_put_u32(o, (uint32_t)st->st_uid);
    sftp_put_u32(o, (uint32_t)st->st_gid);
    sftp_put_u32(o, (uint32_t)st->st_mode);
    sftp_put_u32(o, (uint32_t)st->st_atime);
    sftp_put_u32(o, (uint32_t)st->st_mtime);
}

void sftp_put_status(struct sftp_out *o, uint32_t id, uint32_t code, const char *msg)
{
    sftp_begin(o, SSH_FXP_STATUS, id);
    sftp_put_u32(o, code);
    sftp_put_cstr(o, msg);
    sftp_put_cstr(o, ""); /* language tag */
    sftp_end(o);
}

static char type_char(mode_t m)
{
    if (S_ISDIR(m))
        return 'd';
    if (S_ISLNK(m))
        return 'l';
    if (S_ISREG(m))
        return '-';
    if (S_ISFIFO(m))
        return 'p';
    if (S_ISSOCK(m))
        return 's';
    if (S_ISCHR(m))
        return 'c';
    if (S_ISBLK(m))
        return 'b';
    return '?';
}

static void mode_string(mode_t m, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";
    out[0] = type_char(m);
    for (int i = 0; i < 9; i++)
        out[i + 1] = (m & (0400u >> i)) ? rwx[i] : '-';
    if (m & S_ISUID)
        out[3] = (m & S_IXUSR) ? 's' : 'S';
    if (m & S_ISGID)
        out[6] = (m & S_IXGRP) ? 's' : 'S';
    if (m & S_ISVTX)
        out[9] = (m & S_IXOTH) ? 't' : 'T';
    out[10] = '\0';
}

void sftp_longname(char *out, size_t outlen, const struct stat *st, const char *name,
                   const char *owner, time_t now)
{
    char mode[11], when[16] = "";
    mode_string(st->st_mode, mode);
    struct tm tm;
    time_t t = st->st_mtime;
    if (gmtime_r(&t, &tm) != NULL) {
        const char *fmt = "%b %e %H:%M";
        if (t > now || now - t > SIX_MONTHS)
            fmt = "%b %e  %Y";
        strftime(when, sizeof when, fmt, &tm);
    }
    snprintf(out, outlen, "%s %4lu %-8.8s %-8.8s %8llu %s %s", mode,
             (unsigned long)st->st_nlink, owner, owner, (unsigned long long)st->st_size,
             when, name);
}
