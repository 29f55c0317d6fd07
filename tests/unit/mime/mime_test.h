/* mime_test: helpers shared by the MIME unit tests (a message in a memfd,
 * LF counts computed independently of the scanner). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static inline int msg_fd(const char *text)
{
    int fd = memfd_create("msg", MFD_CLOEXEC);
    size_t n = strlen(text), off = 0;
    while (fd >= 0 && off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return fd;
}

static inline uint64_t count_lf(const char *p, uint64_t n)
{
    uint64_t c = 0;
    for (uint64_t i = 0; i < n; i++)
        c += p[i] == '\n';
    return c;
}
