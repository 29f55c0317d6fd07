/* packet: the SFTP version 3 wire format (draft-ietf-secsh-filexfer-02) as
 * pure functions, no I/O: framing of the byte stream into packets, decoding
 * of each request and of its attributes, and the OpenSSH extensions'
 * arguments (OpenSSH PROTOCOL 4.x). Strings point into the caller's buffer. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* draft-02 3: packet types. */
enum sftp_type {
    SSH_FXP_INIT = 1,
    SSH_FXP_VERSION = 2,
    SSH_FXP_OPEN = 3,
    SSH_FXP_CLOSE = 4,
    SSH_FXP_READ = 5,
    SSH_FXP_WRITE = 6,
    SSH_FXP_LSTAT = 7,
    SSH_FXP_FSTAT = 8,
    SSH_FXP_SETSTAT = 9,
    SSH_FXP_FSETSTAT = 10,
    SSH_FXP_OPENDIR = 11,
    SSH_FXP_READDIR = 12,
    SSH_FXP_REMOVE = 13,
    SSH_FXP_MKDIR = 14,
    SSH_FXP_RMDIR = 15,
    SSH_FXP_REALPATH = 16,
    SSH_FXP_STAT = 17,
    SSH_FXP_RENAME = 18,
    SSH_FXP_READLINK = 19,
    SSH_FXP_SYMLINK = 20,
    SSH_FXP_STATUS = 101,
    SSH_FXP_HANDLE = 102,
    SSH_FXP_DATA = 103,
    SSH_FXP_NAME = 104,
    SSH_FXP_ATTRS = 105,
    SSH_FXP_EXTENDED = 200,
    SSH_FXP_EXTENDED_REPLY = 201,
};

/* draft-02 7: status codes. */
enum sftp_status {
    SSH_FX_OK = 0,
    SSH_FX_EOF = 1,
    SSH_FX_NO_SUCH_FILE = 2,
    SSH_FX_PERMISSION_DENIED = 3,
    SSH_FX_FAILURE = 4,
    SSH_FX_BAD_MESSAGE = 5,
    SSH_FX_NO_CONNECTION = 6,
    SSH_FX_CONNECTION_LOST = 7,
    SSH_FX_OP_UNSUPPORTED = 8,
};

/* draft-02 6.3: OPEN pflags. */
#define SSH_FXF_READ 0x01u
#define SSH_FXF_WRITE 0x02u
#define SSH_FXF_APPEND 0x04u
#define SSH_FXF_CREAT 0x08u
#define SSH_FXF_TRUNC 0x10u
#define SSH_FXF_EXCL 0x20u

/* draft-02 5: attribute flags. */
#define SSH_FILEXFER_ATTR_SIZE 0x00000001u
#define SSH_FILEXFER_ATTR_UIDGID 0x00000002u
#define SSH_FILEXFER_ATTR_PERMISSIONS 0x00000004u
#define SSH_FILEXFER_ATTR_ACMODTIME 0x00000008u
#define SSH_FILEXFER_ATTR_EXTENDED 0x80000000u

#define SFTP_PROTOCOL_VERSION 3
#define SFTP_MAX_ATTR_EXT 64 /* extended attribute pairs we skip at most */

struct sftp_str {
    const uint8_t *p;
    uint32_t len;
};

struct sftp_attrs {
    uint32_t flags;
    uint64_t size;
    uint32_t uid, gid;
    uint32_t perm;
    uint32_t atime, mtime;
};

/* The OpenSSH extensions of SSH_FXP_EXTENDED we know. */
enum sftp_ext {
    SFTP_EXT_UNKNOWN,
    SFTP_EXT_POSIX_RENAME, /* posix-rename@openssh.com: oldpath, newpath */
    SFTP_EXT_STATVFS,      /* statvfs@openssh.com: path */
    SFTP_EXT_FSTATVFS,     /* fstatvfs@openssh.com: handle */
    SFTP_EXT_HARDLINK,     /* hardlink@openssh.com: oldpath, newpath */
    SFTP_EXT_FSYNC,        /* fsync@openssh.com: handle */
    SFTP_EXT_LIMITS,       /* limits@openssh.com: nothing */
    SFTP_EXT_EXPAND_PATH,  /* expand-path@openssh.com: path */
    SFTP_EXT_HOME_DIR,     /* home-directory: username */
    SFTP_EXT_LSETSTAT,     /* lsetstat@openssh.com: path, attrs */
};

/* One decoded request. Which fields are set depends on type:
 *   path/handle ops: a;  RENAME, SYMLINK, two-path extensions: a, b;
 *   OPEN: a, pflags, attrs;  READ: a, offset, len;  WRITE: a, offset, data;
 *   SETSTAT/FSETSTAT/MKDIR (and lsetstat): a, attrs;  INIT: version;
 *   EXTENDED: ext_name, ext, and a/b/attrs as the extension takes. */
struct sftp_req {
    uint8_t type;
    uint32_t id; /* not for INIT */
    uint32_t version;
    struct sftp_str a, b;
    uint32_t pflags;
    uint64_t offset;
    uint32_t len;
    struct sftp_str data;
    struct sftp_attrs attrs;
    struct sftp_str ext_name;
    enum sftp_ext ext;
};

enum sftp_frame {
    SFTP_FRAME_NEED,    /* not a whole packet yet */
    SFTP_FRAME_OK,      /* *total bytes (length field included) are one packet */
    SFTP_FRAME_TOO_BIG, /* the length field announces more than max */
    SFTP_FRAME_EMPTY,   /* a length of 0: no type byte */
};

/* Looks at the start of a byte stream. */
enum sftp_frame sftp_frame(const uint8_t *buf, size_t len, uint32_t max, size_t *total);

enum sftp_decode {
    SFTP_DECODE_OK,
    SFTP_DECODE_BAD,     /* malformed: SSH_FX_BAD_MESSAGE (req->id set if known) */
    SFTP_DECODE_UNKNOWN, /* a type we do not serve: SSH_FX_OP_UNSUPPORTED */
};

/* Decodes one packet's body: the bytes after the length field. req->id is
 * set as soon as it is read, so a malformed request can still be answered.
 * Trailing bytes after a request's fields are tolerated (draft-02 3). */
enum sftp_decode sftp_decode(const uint8_t *body, size_t len, struct sftp_req *req);

/* A read cursor over a byte range, for the decoders above and their tests. */
struct sftp_cur {
    const uint8_t *p;
    size_t left;
    bool bad;
};
uint8_t sftp_get_u8(struct sftp_cur *c);
uint32_t sftp_get_u32(struct sftp_cur *c);
uint64_t sftp_get_u64(struct sftp_cur *c);
struct sftp_str sftp_get_str(struct sftp_cur *c);
/* draft-02 5: decodes attributes; extended pairs are checked and skipped. */
int sftp_attrs_decode(struct sftp_cur *c, struct sftp_attrs *a);

/* The extension a name means (SFTP_EXT_UNKNOWN if none). */
enum sftp_ext sftp_ext_lookup(struct sftp_str name);
/* True if s equals the C string z. */
bool sftp_str_is(struct sftp_str s, const char *z);
