/* parse: FTP argument syntax, pure functions (see parse.h). Every parser
 * takes a NUL-terminated string that came from the line reader and never
 * reads past it. */
#include "ftp/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TELNET_IAC 255

size_t ftp_strip_telnet(char *line, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c != TELNET_IAC) {
            line[o++] = line[i];
            continue;
        }
        if (i + 1 < len && (unsigned char)line[i + 1] == TELNET_IAC)
            line[o++] = line[i]; /* IAC IAC is a literal 0xFF */
        i++;                     /* skip the command byte (IP, DM, ...) */
    }
    line[o] = '\0';
    return o;
}

/* Parses a decimal in [0, max] from *p, advancing it. */
static int take_dec(const char **p, unsigned long max, unsigned long *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned long)(*s++ - '0');
        if (++digits > 10 || v > max)
            return -1;
    }
    *p = s;
    *out = v;
    return 0;
}

int ftp_parse_port(const char *arg, struct sockaddr_storage *out, socklen_t *outlen)
{
    unsigned long v[6];
    const char *p = arg;
    for (int i = 0; i < 6; i++) {
        if (take_dec(&p, 255, &v[i]) < 0)
            return -1;
        if (i < 5 && *p++ != ',')
            return -1;
    }
    if (*p != '\0')
        return -1;
    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    memset(out, 0, sizeof *out);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr =
        htonl((uint32_t)(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]));
    sin->sin_port = htons((uint16_t)(v[4] << 8 | v[5]));
    *outlen = sizeof *sin;
    return 0;
}

/* Copies the field up to the next delimiter into buf. */
static int take_field(const char **p, char d, char *buf, size_t len)
{
    const char *end = strchr(*p, d);
    if (!end || (size_t)(end - *p) >= len)
        return -1;
    memcpy(buf, *p, (size_t)(end - *p));
    buf[end - *p] = '\0';
    *p = end + 1;
    return 0;
}

static int eprt_addr(int proto, const char *host, unsigned long port,
                     struct sockaddr_storage *out, socklen_t *outlen)
{
    memset(out, 0, sizeof *out);
    if (proto == 1) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
            return -1;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        *outlen = sizeof *sin;
        return 0;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
        return -1;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    *outlen = sizeof *sin6;
    return 0;
}

int ftp_parse_eprt(const char *arg, struct sockaddr_storage *out, socklen_t *outlen)
{
    /* RFC 2428 2: the delimiter is any character in ASCII 33-126. */
    char d = arg[0];
    if (d < 33 || d > 126 || (d >= '0' && d <= '9') || d == '.' || d == ':')
        return -1;
    const char *p = arg + 1;
    char proto[4], host[INET6_ADDRSTRLEN], port[8];
    if (take_field(&p, d, proto, sizeof proto) < 0 ||
        take_field(&p, d, host, sizeof host) < 0 ||
        take_field(&p, d, port, sizeof port) < 0 || *p != '\0')
        return -1;
    const char *pp = port;
    unsigned long pnum;
    if (take_dec(&pp, 65535, &pnum) < 0 || *pp != '\0' || pnum == 0)
        return -1;
    if (strcmp(proto, "1") != 0 && strcmp(proto, "2") != 0)
        return proto[0] ? -2 : -1;
    return eprt_addr(proto[0] - '0', host, pnum, out, outlen);
}

int ftp_parse_epsv(const char *arg)
{
    if (arg[0] == '\0')
        return 0;
    if (strcasecmp(arg, "ALL") == 0)
        return FTP_EPSV_ALL;
    if (strcmp(arg, "1") == 0)
        return 1;
    if (strcmp(arg, "2") == 0)
        return 2;
    return -1;
}

int ftp_parse_u64(const char *s, int base, uint64_t *out)
{
    if (*s < '0' || *s > (base == 8 ? '7' : '9'))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

const char *ftp_parse_time(const char *s, time_t *out)
{
    int y, mo, d, h, mi, se;
    if (digits(s, 4, &y) || digits(s + 4, 2, &mo) || digits(s + 6, 2, &d) ||
        digits(s + 8, 2, &h) || digits(s + 10, 2, &mi) || digits(s + 12, 2, &se))
        return NULL;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return NULL;
    const char *p = s + 14;
    if (*p == '.') /* RFC 3659 2.3: fractions of a second are accepted, ignored */
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (*p != ' ' && *p != '\0')
        return NULL;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = se};
    *out = timegm(&tm);
    return *p == ' ' ? p + 1 : p;
}

void ftp_format_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y%m%d%H%M%S", &tm) == 0)
        snprintf(buf, len, "19700101000000");
}

const char *ftp_list_path(const char *arg, bool *all)
{
    *all = false;
    /* Clients send ls options (lftp "-a", curl none, FileZilla "-la"). */
    while (arg[0] == '-') {
        const char *sp = strchr(arg, ' ');
        size_t n = sp ? (size_t)(sp - arg) : strlen(arg);
        if (memchr(arg, 'a', n) || memchr(arg, 'A', n))
            *all = true;
        arg += n;
        while (*arg == ' ')
            arg++;
    }
    return arg;
}

size_t ftp_ascii_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\n')
            out[o++] = '\r';
        out[o++] = in[i];
    }
    return o;
}

size_t ftp_ascii_decode(const uint8_t *in, size_t n, uint8_t *out, bool *cr)
{
    size_t o = 0;
    if (n == 0) {
        if (*cr)
            out[o++] = '\r';
        *cr = false;
        return o;
    }
    for (size_t i = 0; i < n; i++) {
        if (*cr) {
            *cr = false;
            if (in[i] != '\n')
                out[o++] = '\r';
        }
        if (in[i] == '\r')
            *cr = true;
        else
            out[o++] = in[i];
    }
    return o;
}

/* The 4 bytes of an IPv4 (or IPv4-mapped IPv6) address, or NULL. */
static const uint8_t *ipv4_bytes(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a6))
        return a6->s6_addr + 12;
    return NULL;
}

bool ftp_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
    const uint8_t *a4 = ipv4_bytes(a), *b4 = ipv4_bytes(b);
    if (a4 || b4)
        return a4 && b4 && memcmp(a4, b4, 4) == 0;
    if (a->sa_family != AF_INET6 || b->sa_family != AF_INET6)
        return false;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}
