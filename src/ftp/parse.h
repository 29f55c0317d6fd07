/* parse: the pure syntax of FTP arguments (no I/O, no session): PORT/EPRT
 * host-port pairs, EPSV, numbers, MFMT times, Telnet IAC stripping and the
 * TYPE A line-end conversion. The fuzzer and the unit tests drive it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* RFC 959 4.1.3 (Telnet control characters in the command stream): removes
 * IAC sequences (IAC IP, IAC DM, IAC IAC -> 0xFF ...) in place. Returns the
 * new length; the line stays NUL-terminated. */
size_t ftp_strip_telnet(char *line, size_t len);

/* RFC 959 4.1.2 PORT "h1,h2,h3,h4,p1,p2". 0 or -1. */
int ftp_parse_port(const char *arg, struct sockaddr_storage *out, socklen_t *outlen);

/* RFC 2428 2 EPRT "<d>proto<d>addr<d>port<d>". 0, -1 on syntax error, -2
 * for an unsupported network protocol (reply 522). */
int ftp_parse_eprt(const char *arg, struct sockaddr_storage *out, socklen_t *outlen);

/* RFC 2428 3 EPSV argument: 0 for none, 1 or 2 for a protocol, 3 for
 * "ALL", -1 otherwise. */
int ftp_parse_epsv(const char *arg);
#define FTP_EPSV_ALL 3

/* A whole decimal number without sign or junk (REST, SITE CHMOD in base 8
 * with base = 8). 0 or -1. */
int ftp_parse_u64(const char *s, int base, uint64_t *out);

/* RFC 3659 2.3 time-val "YYYYMMDDHHMMSS[.sss]" (UTC). Returns the rest of
 * the string after the time and one space, or NULL. */
const char *ftp_parse_time(const char *s, time_t *out);
/* Formats t as YYYYMMDDHHMMSS (UTC) into buf (15 bytes). */
void ftp_format_time(time_t t, char *buf, size_t len);

/* LIST/NLST "-la path": skips leading option words, reports -a. */
const char *ftp_list_path(const char *arg, bool *all);

/* RFC 959 3.1.1.1 ASCII type: the file's LF becomes CRLF on the wire.
 * out must hold 2 * n bytes. Returns bytes written. */
size_t ftp_ascii_encode(const uint8_t *in, size_t n, uint8_t *out);
/* And back: CRLF becomes LF; a CR not followed by LF stays. A CR at the end
 * of a chunk is held in *cr until the next byte is known; call with n = 0
 * at the end to flush it. out must hold n + 1 bytes. */
size_t ftp_ascii_decode(const uint8_t *in, size_t n, uint8_t *out, bool *cr);

/* True if a and b are the same IP address (an IPv4-mapped IPv6 address
 * equals its IPv4 form); ports are ignored. */
bool ftp_same_host(const struct sockaddr *a, const struct sockaddr *b);
