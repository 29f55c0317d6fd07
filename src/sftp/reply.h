/* reply: encoding SFTP responses (draft-ietf-secsh-filexfer-02 7) into a
 * growable output buffer, and the "ls -l" longname of a NAME entry (6.7).
 * Pure: no I/O; the session writes the buffer to the channel. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

struct sftp_out {
    uint8_t *buf;
    size_t len, cap;
    size_t start; /* where the open packet's length field is */
    bool failed;  /* out of memory: the session ends */
};

void sftp_out_init(struct sftp_out *o);
void sftp_out_free(struct sftp_out *o);

/* A packet: begin (length reserved, type, id), fields, end. */
void sftp_begin(struct sftp_out *o, uint8_t type, uint32_t id);
void sftp_begin_version(struct sftp_out *o, uint32_t version);
void sftp_end(struct sftp_out *o);
/* Drops the open packet (a reply that turned out not to fit). */
void sftp_cancel(struct sftp_out *o);

void sftp_put_u8(struct sftp_out *o, uint8_t v);
void sftp_put_u32(struct sftp_out *o, uint32_t v);
void sftp_put_u64(struct sftp_out *o, uint64_t v);
void sftp_put_str(struct sftp_out *o, const void *p, size_t n);
void sftp_put_cstr(struct sftp_out *o, const char *s);
/* Room for n more bytes at the end of the output, to be filled in place
 * and kept with sftp_put_commit; NULL when out of memory. */
uint8_t *sftp_put_room(struct sftp_out *o, size_t n);
void sftp_put_commit(struct sftp_out *o, size_t n);
/* draft-02 5: size, uid/gid, permissions, atime/mtime of st. */
void sftp_put_stat(struct sftp_out *o, const struct stat *st);
/* Bytes of the packet begun last, length field included. */
size_t sftp_packet_len(const struct sftp_out *o);

/* A whole SSH_FXP_STATUS packet (draft-02 7), language tag "". */
void sftp_put_status(struct sftp_out *o, uint32_t id, uint32_t code, const char *msg);

/* "-rw-r--r--    1 owner    owner        1234 Jan  2 12:34 name", the form
 * OpenSSH's sftp-server sends (recent files show the time, older the year). */
void sftp_longname(char *out, size_t outlen, const struct stat *st, const char *name,
                   const char *owner, time_t now);
