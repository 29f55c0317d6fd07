/* cmd_info: commands that only talk about the session (RFC 959 4.1.2
 * TYPE STRU MODE, 4.1.3 SYST STAT HELP NOOP SITE ALLO SMNT), RFC 2389 FEAT
 * and OPTS, and CLNT. */
#include "ftp/ftp.h"

#include "ftp/transfer.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void ftp_cmd_syst(struct session *s, char *args)
{
    session_reply(s, "215 UNIX Type: L8"); /* RFC 959 4.1.3, what clients parse */
}

void ftp_cmd_feat(struct session *s, char *args)
{
    /* RFC 2389 3.2: one feature per line, each led by a space. */
    session_printf(s, "211-Features:\r\n"
                      " AUTH TLS\r\n"
                      " PBSZ\r\n"
                      " PROT\r\n"
                      " EPRT\r\n"
                      " EPSV\r\n"
                      " PASV\r\n"
                      " SIZE\r\n"
                      " MDTM\r\n"
                      " MFMT\r\n"
                      " REST STREAM\r\n"
                      " MLST type*;size*;modify*;perm*;unique*;\r\n"
                      " TVFS\r\n"
                      " UTF8\r\n"
                      " CLNT\r\n"
                      " HOST\r\n");
    session_reply(s, "211 End");
}

void ftp_cmd_opts(struct session *s, char *args)
{
    /* RFC 2640 3.1 / draft UTF8: names are UTF-8 always. */
    if (strcasecmp(args, "UTF8 ON") == 0 || strcasecmp(args, "UTF8") == 0 ||
        strcasecmp(args, "UTF-8 ON") == 0)
        session_reply(s, "200 UTF8 mode is always on");
    else if (strncasecmp(args, "MLST", 4) == 0) /* RFC 3659 7.9: all facts, always */
        session_reply(s, "200 MLST OPTS type;size;modify;perm;unique;");
    else
        session_reply(s, "501 Option not understood");
}

void ftp_cmd_help(struct session *s, char *args)
{
    const struct command *cmds = ftp_commands();
    if (args[0]) {
        for (const struct command *c = cmds; c->verb; c++)
            if (strcasecmp(c->verb, args) == 0) {
                session_reply(s, "214 %s is supported", c->verb);
                return;
            }
        session_reply(s, "502 Unknown command %.32s", args);
        return;
    }
    session_printf(s, "214-The following commands are recognized:\r\n");
    int n = 0;
    for (const struct command *c = cmds; c->verb; c++, n++)
        session_printf(s, "%s%-5s%s", n % 10 == 0 ? " " : "", c->verb,
                       n % 10 == 9 ? "\r\n" : " ");
    if (n % 10)
        session_printf(s, "\r\n");
    session_reply(s, "214 Help OK");
}

void ftp_cmd_noop(struct session *s, char *args)
{
    session_reply(s, "200 NOOP ok");
}

void ftp_cmd_clnt(struct session *s, char *args)
{
    session_reply(s, "200 Noted");
}

static void stat_server(struct session *s)
{
    struct ftp *f = ftp_of(s);
    session_printf(s, "211-portico FTP server status:\r\n");
    session_printf(s, " Connected from %s\r\n", s->conn->peer_ip);
    if (s->authenticated)
        session_printf(s, " Logged in as %s\r\n", s->user);
    else
        session_printf(s, " Not logged in\r\n");
    session_printf(s, " TYPE: %s, STRUcture: File, MODE: Stream\r\n",
                   f->ascii ? "ASCII" : "BINARY");
    session_printf(s, " Control connection %s, data protection %s\r\n",
                   session_tls(s) ? "TLS" : "plain", f->prot_p ? "private" : "clear");
    session_reply(s, "211 End of status");
}

void ftp_cmd_stat(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    if (s->state == FTP_XFER) { /* RFC 959 4.1.3: status of the transfer */
        session_reply(s, "213 Transfer in progress: %llu bytes transferred",
                      (unsigned long long)xfer_bytes(f));
        return;
    }
    if (!args[0] || !s->authenticated) {
        stat_server(s);
        return;
    }
    ftp_stat_path(f, args);
}

void ftp_cmd_site(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    if (strncasecmp(args, "CHMOD ", 6) == 0) {
        if (s->state != FTP_USER)
            session_reply(s, "550 Permission denied: anonymous access is read-only");
        else
            ftp_site_chmod(f, args + 6);
    } else if (strcasecmp(args, "HELP") == 0 || !args[0]) {
        session_reply(s, "214 SITE commands: CHMOD <mode> <path>, HELP");
    } else {
        session_reply(s, "500 Unknown SITE command");
    }
}

void ftp_cmd_allo(struct session *s, char *args)
{
    session_reply(s, "202 ALLO not needed"); /* RFC 959 4.1.3: superfluous here */
}

void ftp_cmd_smnt(struct session *s, char *args)
{
    session_reply(s, "502 SMNT not implemented");
}

/* RFC 959 3.1.1: A (N or T format effectors accepted as N), I, L 8. */
void ftp_cmd_type(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    char t = (char)(args[0] & ~0x20);
    const char *rest = args[0] ? args + 1 : args;
    if (t == 'A' && (!*rest || strcasecmp(rest, " N") == 0 || strcasecmp(rest, " T") == 0)) {
        f->ascii = true;
        session_reply(s, "200 Type set to A");
    } else if ((t == 'I' && !*rest) || (t == 'L' && strcmp(rest, " 8") == 0)) {
        f->ascii = false;
        session_reply(s, "200 Type set to %s", t == 'I' ? "I" : "L 8");
    } else if ((t == 'A' && strcasecmp(rest, " C") == 0) || (t == 'E' || t == 'L')) {
        session_reply(s, "504 Type not supported for that parameter");
    } else {
        session_reply(s, "501 Syntax: TYPE A|I|L 8");
    }
}

void ftp_cmd_stru(struct session *s, char *args)
{
    if (strcasecmp(args, "F") == 0)
        session_reply(s, "200 Structure set to F");
    else if (strcasecmp(args, "R") == 0 || strcasecmp(args, "P") == 0)
        session_reply(s, "504 Only file structure is supported");
    else
        session_reply(s, "501 Syntax: STRU F|R|P");
}

void ftp_cmd_mode(struct session *s, char *args)
{
    if (strcasecmp(args, "S") == 0)
        session_reply(s, "200 Mode set to S");
    else if (strcasecmp(args, "B") == 0 || strcasecmp(args, "C") == 0)
        session_reply(s, "504 Only stream mode is supported");
    else
        session_reply(s, "501 Syntax: MODE S|B|C");
}
