/* cmd_port: choosing the data connection: RFC 959 4.1.2 PORT and PASV,
 * RFC 2428 EPRT and EPSV (IPv6). Active connections go only to the
 * client's own address and to unprivileged ports (RFC 2577 3, no FTP
 * bounce); after EPSV ALL only EPSV is allowed (RFC 2428 4). */
#include "ftp/ftp.h"

#include "core/log.h"
#include "ftp/data.h"
#include "ftp/parse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static bool epsv_all_refuses(struct ftp *f)
{
    if (f->epsv_all)
        session_reply(f->s, "503 Only EPSV is allowed after EPSV ALL");
    return f->epsv_all;
}

static int port_of(const struct sockaddr_storage *sa)
{
    return ntohs(sa->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
                                           : ((const struct sockaddr_in *)sa)->sin_port);
}

/* The bounce check shared by PORT and EPRT. */
static void set_active(struct ftp *f, const struct sockaddr_storage *sa, socklen_t len)
{
    if (!ftp_same_host((const struct sockaddr *)sa, (const struct sockaddr *)&f->peer)) {
        log_warn(f->s->id, "ftp port_refused why=other_address");
        session_reply(f->s, "504 Data connections go only to your own address");
        return;
    }
    if (port_of(sa) < 1024) {
        log_warn(f->s->id, "ftp port_refused why=privileged_port");
        session_reply(f->s, "504 Data connections go only to ports 1024 and above");
        return;
    }
    /* The connection's family must match the address (v4-mapped peers). */
    struct sockaddr_storage target = *sa;
    if (data_set_active(f, &target, len) < 0)
        session_reply(f->s, "451 Local error: out of memory");
    else
        session_reply(f->s, "200 %s command successful", f->s->verb);
}

void ftp_cmd_port(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    struct sockaddr_storage sa;
    socklen_t len;
    if (epsv_all_refuses(f))
        return;
    if (ftp_parse_port(args, &sa, &len) < 0) {
        session_reply(s, "501 Syntax: PORT h1,h2,h3,h4,p1,p2");
        return;
    }
    set_active(f, &sa, len);
}

void ftp_cmd_eprt(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    struct sockaddr_storage sa;
    socklen_t len;
    if (epsv_all_refuses(f))
        return;
    int r = ftp_parse_eprt(args, &sa, &len);
    if (r == -2) {
        session_reply(s, "522 Network protocol not supported, use (1,2)");
        return;
    }
    if (r < 0) {
        session_reply(s, "501 Syntax: EPRT |proto|address|port|");
        return;
    }
    set_active(f, &sa, len);
}

/* The IPv4 address a PASV reply announces: [ftp] passive_address (NAT) or
 * the control connection's local address. */
static int pasv_address(struct ftp *f, struct in_addr *out)
{
    const char *cfg = runtime ? runtime->cfg->ftp_passive_address : "";
    if (cfg[0])
        return inet_pton(AF_INET, cfg, out) == 1 ? 0 : -1;
    if (f->local.ss_family == AF_INET) {
        *out = ((struct sockaddr_in *)&f->local)->sin_addr;
        return 0;
    }
    const struct in6_addr *a6 = &((struct sockaddr_in6 *)&f->local)->sin6_addr;
    if (!IN6_IS_ADDR_V4MAPPED(a6))
        return -1;
    memcpy(out, a6->s6_addr + 12, 4);
    return 0;
}

void ftp_cmd_pasv(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    struct in_addr a;
    if (epsv_all_refuses(f))
        return;
    if (pasv_address(f, &a) < 0) {
        session_reply(s, "425 PASV needs IPv4: use EPSV");
        return;
    }
    int port = data_listen(f);
    if (port < 0) {
        session_reply(s, "425 Can't open passive connection");
        return;
    }
    const uint8_t *b = (const uint8_t *)&a;
    session_reply(s, "227 Entering Passive Mode (%u,%u,%u,%u,%d,%d)", b[0], b[1], b[2], b[3],
                  port >> 8, port & 255);
}

void ftp_cmd_epsv(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    int proto = ftp_parse_epsv(args);
    if (proto < 0) {
        session_reply(s, "501 Syntax: EPSV [1|2|ALL]");
        return;
    }
    if (proto == FTP_EPSV_ALL) {
        f->epsv_all = true;
        session_reply(s, "200 EPSV ALL ok");
        return;
    }
    int mine = f->local.ss_family == AF_INET6 ? 2 : 1;
    if (proto && proto != mine) {
        session_reply(s, "522 Network protocol not supported, use (%d)", mine);
        return;
    }
    int port = data_listen(f);
    if (port < 0) {
        session_reply(s, "425 Can't open passive connection");
        return;
    }
    session_reply(s, "229 Entering Extended Passive Mode (|||%d|)", port);
}
