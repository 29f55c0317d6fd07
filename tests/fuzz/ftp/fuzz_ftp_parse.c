/* Fuzzes ftp/parse.c: the command-line filter (Telnet stripping) and every
 * argument parser (PORT, EPRT, EPSV, REST, MFMT, LIST options), plus the
 * TYPE A round trip: decode(encode(x)) == x for any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ftp/parse.h"

#define MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX)
        return 0;
    char line[MAX + 1];
    memcpy(line, data, size);
    line[size] = '\0';
    size_t n = ftp_strip_telnet(line, size);
    if (n > size || line[n] != '\0')
        abort();
    struct sockaddr_storage sa;
    socklen_t len;
    uint64_t u;
    time_t t;
    bool all;
    (void)ftp_parse_port(line, &sa, &len);
    (void)ftp_parse_eprt(line, &sa, &len);
    (void)ftp_parse_epsv(line);
    (void)ftp_parse_u64(line, 10, &u);
    (void)ftp_parse_u64(line, 8, &u);
    (void)ftp_parse_time(line, &t);
    (void)ftp_list_path(line, &all);
    static uint8_t wire[2 * MAX], back[2 * MAX + 1];
    size_t w = ftp_ascii_encode(data, size, wire);
    bool cr = false;
    size_t b = ftp_ascii_decode(wire, w, back, &cr);
    b += ftp_ascii_decode(NULL, 0, back + b, &cr);
    if (b != size || memcmp(back, data, size) != 0)
        abort();
    return 0;
}
