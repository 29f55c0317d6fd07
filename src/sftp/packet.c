/* packet: framing and request decoding (see packet.h). Every read goes
 * through a bounds-checked cursor; a short or inconsistent packet sets the
 * cursor's bad flag and decodes as SFTP_DECODE_BAD, never reads past it. */
#include "sftp/packet.h"

#include <string.h>

uint8_t sftp_get_u8(struct sftp_cur *c)
{
    if (c->bad || c->left < 1) {
        c->bad = true;
        return 0;
    }
    uint8_t v = c->p[0];
    c->p++;
    c->left--;
    return v;
}

uint32_t sftp_get_u32(struct sftp_cur *c)
{
    if (c->bad || c->left < 4) {
        c->bad = true;
        return 0;
    }
    uint32_t v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
                 (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    c->left -= 4;
    return v;
}

uint64_t sftp_get_u64(struct sftp_cur *c)
{
    uint64_t hi = sftp_get_u32(c);
    uint64_t lo = sftp_get_u32(c);
    return hi << 32 | lo;
}

/* draft-02 3 / RFC 4251 5: uint32 length, then that many bytes. */
struct sftp_str sftp_get_str(struct sftp_cur *c)
{
    struct sftp_str s = {NULL, 0};
    uint32_t n = sftp_get_u32(c);
    if (c->bad || n > c->left) {
        c->bad = true;
        return s;
    }
    s.p = c->p;
    s.len = n;
    c->p += n;
    c->left -= n;
    return s;
}

bool sftp_str_is(struct sftp_str s, const char *z)
{
    size_t n = strlen(z);
    return s.len == n && (n == 0 || memcmp(s.p, z, n) == 0);
}

int sftp_attrs_decode(struct sftp_cur *c, struct sftp_attrs *a)
{
    memset(a, 0, sizeof *a);
    a->flags = sftp_get_u32(c);
    if (a->flags & SSH_FILEXFER_ATTR_SIZE)
        a->size = sftp_get_u64(c);
    if (a->flags & SSH_FILEXFER_ATTR_UIDGID) {
        a->uid = sftp_get_u32(c);
        a->gid = sftp_get_u32(c);
    }
    if (a->flags & SSH_FILEXFER_ATTR_PERMISSIONS)
        a->perm = sftp_get_u32(c);
    if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
        a->atime = sftp_get_u32(c);
        a->mtime = sftp_get_u32(c);
    }
    if (a->flags & SSH_FILEXFER_ATTR_EXTENDED) {
        uint32_t n = sftp_get_u32(c);
        if (n > SFTP_MAX_ATTR_EXT)
            c->bad = true;
        for (uint32_t i = 0; i < n && !c->bad; i++) {
            sftp_get_str(c); /* extended_type */
            sftp_get_str(c); /* extended_data */
        }
    }
    return c->bad ? -1 : 0;
}

enum sftp_frame sftp_frame(const uint8_t *buf, size_t len, uint32_t max, size_t *total)
{
    if (len < 4)
        return SFTP_FRAME_NEED;
    uint32_t n =
        (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    if (n == 0)
        return SFTP_FRAME_EMPTY;
    if (n > max)
        return SFTP_FRAME_TOO_BIG;
    if (len - 4 < n)
        return SFTP_FRAME_NEED;
    *total = (size_t)n + 4;
    return SFTP_FRAME_OK;
}

static const struct {
    const char *name;
    enum sftp_ext ext;
} ext_names[] = {
    {"posix-rename@openssh.com", SFTP_EXT_POSIX_RENAME},
    {"statvfs@openssh.com", SFTP_EXT_STATVFS},
    {"fstatvfs@openssh.com", SFTP_EXT_FSTATVFS},
    {"hardlink@openssh.com", SFTP_EXT_HARDLINK},
    {"fsync@openssh.com", SFTP_EXT_FSYNC},
    {"limits@openssh.com", SFTP_EXT_LIMITS},
    {"expand-path@openssh.com", SFTP_EXT_EXPAND_PATH},
    {"home-directory", SFTP_EXT_HOME_DIR},
    {"lsetstat@openssh.com", SFTP_EXT_LSETSTAT},
};

enum sftp_ext sftp_ext_lookup(struct sftp_str name)
{
    for (size_t i = 0; i < sizeof ext_names / sizeof *ext_names; i++)
        if (sftp_str_is(name, ext_names[i].name))
            return ext_names[i].ext;
    return SFTP_EXT_UNKNOWN;
}

/* OpenSSH PROTOCOL 4.3-4.10: the arguments after the extension name. */
static void decode_ext(struct sftp_cur *c, struct sftp_req *r)
{
    r->ext_name = sftp_get_str(c);
    r->ext = sftp_ext_lookup(r->ext_name);
    switch (r->ext) {
    case SFTP_EXT_POSIX_RENAME:
    case SFTP_EXT_HARDLINK:
        r->a = sftp_get_str(c);
        r->b = sftp_get_str(c);
        break;
    case SFTP_EXT_STATVFS:
    case SFTP_EXT_FSTATVFS:
    case SFTP_EXT_FSYNC:
    case SFTP_EXT_EXPAND_PATH:
    case SFTP_EXT_HOME_DIR:
        r->a = sftp_get_str(c);
        break;
    case SFTP_EXT_LSETSTAT:
        r->a = sftp_get_str(c);
        sftp_attrs_decode(c, &r->attrs);
        break;
    case SFTP_EXT_LIMITS:
    case SFTP_EXT_UNKNOWN:
        break;
    }
}

/* draft-02 6: the fields of each request after its id. */
static enum sftp_decode decode_fields(struct sftp_cur *c, struct sftp_req *r)
{
    switch (r->type) {
    case SSH_FXP_OPEN:
        r->a = sftp_get_str(c);
        r->pflags = sftp_get_u32(c);
        sftp_attrs_decode(c, &r->attrs);
        break;
    case SSH_FXP_READ:
        r->a = sftp_get_str(c);
        r->offset = sftp_get_u64(c);
        r->len = sftp_get_u32(c);
        break;
    case SSH_FXP_WRITE:
        r->a = sftp_get_str(c);
        r->offset = sftp_get_u64(c);
        r->data = sftp_get_str(c);
        break;
    case SSH_FXP_SETSTAT:
    case SSH_FXP_FSETSTAT:
    case SSH_FXP_MKDIR:
        r->a = sftp_get_str(c);
        sftp_attrs_decode(c, &r->attrs);
        break;
    case SSH_FXP_CLOSE:
    case SSH_FXP_LSTAT:
    case SSH_FXP_FSTAT:
    case SSH_FXP_OPENDIR:
    case SSH_FXP_READDIR:
    case SSH_FXP_REMOVE:
    case SSH_FXP_RMDIR:
    case SSH_FXP_REALPATH:
    case SSH_FXP_STAT:
    case SSH_FXP_READLINK:
        r->a = sftp_get_str(c);
        break;
    case SSH_FXP_RENAME:
    case SSH_FXP_SYMLINK:
        r->a = sftp_get_str(c);
        r->b = sftp_get_str(c);
        break;
    case SSH_FXP_EXTENDED:
        decode_ext(c, r);
        break;
    default:
        return SFTP_DECODE_UNKNOWN;
    }
    return c->bad ? SFTP_DECODE_BAD : SFTP_DECODE_OK;
}

enum sftp_decode sftp_decode(const uint8_t *body, size_t len, struct sftp_req *req)
{
    memset(req, 0, sizeof *req);
    struct sftp_cur c = {body, len, false};
    req->type = sftp_get_u8(&c);
    if (c.bad)
        return SFTP_DECODE_BAD;
    if (req->type == SSH_FXP_INIT) { /* draft-02 4: no request id */
        req->version = sftp_get_u32(&c);
        return c.bad ? SFTP_DECODE_BAD : SFTP_DECODE_OK;
    }
    req->id = sftp_get_u32(&c);
    if (c.bad)
        return SFTP_DECODE_BAD;
    return decode_fields(&c, req);
}
