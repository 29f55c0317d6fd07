/* reader: lines of a file read with pread into one bounded buffer (the
 * scanner's only I/O). A line longer than the buffer is returned truncated
 * and the rest skipped, so memory stays MIME_READ_BUF whatever the file. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mime_line {
    uint64_t off;           /* of the line's first byte in the file */
    uint64_t lf_before;     /* LFs before off (= the line's index) */
    const unsigned char *p; /* its bytes, without the LF */
    size_t len;             /* bytes at p (less than the line if truncated) */
    bool truncated, has_lf;
};

struct mime_reader {
    int fd;
    unsigned char *buf;
    size_t cap, start, end, max_read;
    uint64_t buf_off; /* file offset of buf[0] */
    uint64_t lfs;     /* LFs before buf[start] */
    bool eof, error, skipping;
    bool have;                    /* cur holds a line not consumed yet */
    bool last_empty, last_has_lf; /* the last consumed line */
    struct mime_line cur;
};

int mime_reader_init(struct mime_reader *r, int fd, size_t max_read);
void mime_reader_release(struct mime_reader *r);
/* The current line (read if needed), or NULL at the end of the file or on
 * error (r->error). The pointer stays valid until mime_reader_next. */
const struct mime_line *mime_reader_peek(struct mime_reader *r);
void mime_reader_next(struct mime_reader *r); /* consumes the current line */
/* Where the next unconsumed byte is (the file size at the end). */
uint64_t mime_reader_tell(struct mime_reader *r);
uint64_t mime_reader_lfs(struct mime_reader *r);
