/* config: the table of keys, the embedded default and the inih callback that
 * fills struct config. The first error wins and names file, line and key. */
#include "core/config.h"

#include "core/limits.h"
#include "core/log.h"
#include "core/netlist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* DESIGN.md, "Configuration": data in ./var, loopback, the port table. */
const char config_default_text[] =
    "[portico]\n"
    "data_dir = ./var\n"
    "hostname = localhost\n"
    "domains = localhost\n"
    "threads = 0\n"
    "log_level = info\n"
    "[smtp]\n"
    "listen = 127.0.0.1:2525 [::1]:2525\n"
    "[submission]\n"
    "listen = 127.0.0.1:2587 [::1]:2587\n"
    "listen_tls = 127.0.0.1:2465 [::1]:2465\n"
    "[pop3]\n"
    "listen = 127.0.0.1:2110 [::1]:2110\n"
    "listen_tls = 127.0.0.1:2995 [::1]:2995\n"
    "[imap]\n"
    "listen = 127.0.0.1:2143 [::1]:2143\n"
    "listen_tls = 127.0.0.1:2993 [::1]:2993\n"
    "[ftp]\n"
    "listen = 127.0.0.1:2121 [::1]:2121\n"
    "listen_tls = 127.0.0.1:2990 [::1]:2990\n"
    "passive_ports = 30000-30099\n"
    "[http]\n"
    "listen = 127.0.0.1:8080 [::1]:8080\n"
    "listen_tls = 127.0.0.1:8443 [::1]:8443\n"
    "[sftp]\n"
    "listen = 127.0.0.1:2222 [::1]:2222\n";

enum key_type { K_STR, K_INT, K_BOOL, K_SIZE, K_LEVEL, K_LISTEN, K_PORTRANGE, K_NETS };

struct key {
    const char *section;
    const char *name;
    enum key_type type;
    size_t offset;
    size_t size;      /* K_STR: buffer size */
    long long min, max; /* K_INT, K_SIZE */
};

#define OFF(f) offsetof(struct config, f)
#define STR(sec, name, f) {sec, name, K_STR, OFF(f), sizeof(((struct config *)0)->f), 0, 0}
#define INT(sec, name, f, lo, hi) {sec, name, K_INT, OFF(f), 0, lo, hi}
#define SVC(sec, i)                                                                    \
    {sec, "listen", K_LISTEN, OFF(svc[i].listen), 0, 0, 0},                            \
    {sec, "listen_tls", K_LISTEN, OFF(svc[i].listen_tls), 0, 0, 0},                    \
    {sec, "proxy_protocol", K_BOOL, OFF(svc[i].proxy_protocol), 0, 0, 0}

static const struct key keys[] = {
    STR("portico", "data_dir", data_dir),
    STR("portico", "hostname", hostname),
    STR("portico", "domains", domains),
    INT("portico", "threads", threads, 0, 256),
    INT("portico", "work_threads", work_threads, 0, 256),
    STR("portico", "user", user),
    {"portico", "log_level", K_LEVEL, OFF(log_level), 0, 0, 0},
    STR("tls", "cert", tls_cert),
    STR("tls", "key", tls_key),
    INT("portico", "max_connections_per_ip", max_connections_per_ip, 1, 1000000),
    INT("portico", "max_connections", max_connections, 0, 10000000),
    INT("portico", "login_timeout", login_timeout, 0, 86400),
    {"portico", "trusted_proxies", K_NETS, OFF(trusted_proxies), 0, 0, 0},
    {"auth", "allow_plaintext_auth", K_BOOL, OFF(allow_plaintext_auth), 0, 0, 0},
    {"auth", "trusted_networks", K_NETS, OFF(trusted_networks), 0, 0, 0},
    {"mail", "quota", K_SIZE, OFF(mail_quota_bytes), 0, 0, (long long)1 << 50},
    INT("mail", "quota_messages", mail_quota_messages, 0, 1000000000),
    SVC("smtp", SVC_SMTP),
    {"smtp", "max_message_size", K_SIZE, OFF(smtp_max_message_size), 0, 1024,
     (long long)1 << 40},
    STR("smtp", "catch_all", smtp_catch_all),
    INT("smtp", "timeout", smtp_timeout, 1, 3600),
    INT("smtp", "data_timeout", smtp_data_timeout, 0, 86400),
    SVC("submission", SVC_SUBMISSION),
    SVC("pop3", SVC_POP3),
    SVC("imap", SVC_IMAP),
    {"imap", "max_message_size", K_SIZE, OFF(imap_max_message_size), 0, 1024,
     (long long)1 << 40},
    SVC("ftp", SVC_FTP),
    {"ftp", "passive_ports", K_PORTRANGE, OFF(ftp_passive_min), 0, 0, 0},
    STR("ftp", "passive_address", ftp_passive_address),
    STR("ftp", "anonymous_root", ftp_anonymous_root),
    {"ftp", "quota", K_SIZE, OFF(files_quota_bytes), 0, 0, (long long)1 << 50},
    INT("ftp", "idle_timeout", ftp_idle_timeout, 1, 86400),
    INT("ftp", "data_timeout", ftp_data_timeout, 1, 86400),
    {"ftp", "require_tls_data", K_BOOL, OFF(ftp_require_tls_data), 0, 0, 0},
    INT("ftp", "max_passive_per_account", ftp_max_passive_per_account, 1, 65535),
    INT("ftp", "passive_timeout", ftp_passive_timeout, 1, 86400),
    SVC("http", SVC_HTTP),
    STR("http", "access_log", http_access_log),
    {"http", "dir_listing", K_BOOL, OFF(http_dir_listing), 0, 0, 0},
    INT("http", "max_requests", http_max_requests, 1, 1000000),
    {"sftp", "listen", K_LISTEN, OFF(svc[SVC_SFTP].listen), 0, 0, 0},
    INT("sftp", "idle_timeout", sftp_idle_timeout, 1, 86400),
    INT("sftp", "login_timeout", sftp_login_timeout, 1, 3600),
    INT("sftp", "max_sessions", sftp_max_sessions, 1, 100000),
    INT("sftp", "max_sessions_per_ip", sftp_max_sessions_per_ip, 1, 100000),
    STR("relay", "smarthost", relay_smarthost),
    STR("relay", "route", relay_routes),
};

static const char *const service_names[SVC_COUNT] = {
    "smtp", "submission", "pop3", "imap", "ftp", "http", "sftp",
};

const char *config_service_name(enum service svc)
{
    return svc < SVC_COUNT ? service_names[svc] : "?";
}

/* inih as Debian builds it gives handlers no line number, so the reader
 * counts lines itself; it also refuses lines inih would silently split. */
struct parse_ctx {
    struct config *cfg;
    const char *name;
    char *err;
    size_t errlen;
    int failed;
    FILE *file;       /* or */
    const char *text; /* the rest of an in-memory text */
    int line;
    int long_line;    /* first line longer than inih's INI_MAX_LINE */
};

static char *read_line(char *buf, int num, void *stream)
{
    struct parse_ctx *ctx = stream;
    size_t n = 0;
    if (ctx->file) {
        if (!fgets(buf, num, ctx->file))
            return NULL;
        n = strlen(buf);
        if (n == (size_t)num - 1 && buf[n - 1] != '\n' && !feof(ctx->file)) {
            int c;
            while ((c = fgetc(ctx->file)) != EOF && c != '\n')
                ;
            if (!ctx->long_line)
                ctx->long_line = ctx->line + 1;
        }
    } else {
        if (*ctx->text == '\0')
            return NULL;
        const char *nl = strchr(ctx->text, '\n');
        size_t len = nl ? (size_t)(nl - ctx->text) + 1 : strlen(ctx->text);
        n = len < (size_t)num - 1 ? len : (size_t)num - 1;
        if (n < len && !ctx->long_line)
            ctx->long_line = ctx->line + 1;
        memcpy(buf, ctx->text, n);
        buf[n] = '\0';
        ctx->text += len;
    }
    ctx->line++;
    return buf;
}

static void set_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "./var");
    snprintf(cfg->hostname, sizeof cfg->hostname, "localhost");
    snprintf(cfg->domains, sizeof cfg->domains, "localhost");
    cfg->log_level = LOG_INFO;
    cfg->max_connections_per_ip = 64;
    netlist_parse(&cfg->trusted_networks, "127.0.0.0/8 ::1");
    cfg->http_max_requests = 1000;
    cfg->smtp_max_message_size = 50u << 20;
    cfg->smtp_timeout = 300; /* RFC 5321 4.5.3.2.7: at least 5 minutes */
    cfg->ftp_passive_min = 30000;
    cfg->ftp_passive_max = 30099;
    cfg->ftp_idle_timeout = FTP_IDLE_TIMEOUT_SEC;
    cfg->ftp_data_timeout = FTP_DATA_TIMEOUT_SEC;
    cfg->ftp_max_passive_per_account = FTP_MAX_PASSIVE_PER_ACCOUNT;
    cfg->ftp_passive_timeout = FTP_PASSIVE_TIMEOUT_SEC;
    cfg->http_dir_listing = true;
    cfg->sftp_idle_timeout = SFTP_IDLE_TIMEOUT_SEC;
    cfg->sftp_login_timeout = SFTP_LOGIN_TIMEOUT_SEC;
    cfg->sftp_max_sessions = SFTP_MAX_SESSIONS;
    cfg->sftp_max_sessions_per_ip = SFTP_MAX_SESSIONS_PER_IP;
}

static int parse_one_addr(const char *tok, struct listen_addr *out)
{
    char host[64];
    const char *colon;
    if (tok[0] == '[') {
        const char *close = strchr(tok, ']');
        if (!close || close[1] != ':' || (size_t)(close - tok - 1) >= sizeof host)
            return -1;
        memcpy(host, tok + 1, (size_t)(close - tok - 1));
        host[close - tok - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(tok, ':');
        if (!colon || (size_t)(colon - tok) >= sizeof host)
            return -1;
        memcpy(host, tok, (size_t)(colon - tok));
        host[colon - tok] = '\0';
    }
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || errno || port < 1 || port > 65535)
        return -1;
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->sa;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        out->salen = sizeof *v4;
        snprintf(out->text, sizeof out->text, "%s:%ld", host, port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        out->salen = sizeof *v6;
        snprintf(out->text, sizeof out->text, "[%s]:%ld", host, port);
    } else {
        return -1;
    }
    return 0;
}

int config_parse_listen(const char *value, struct listen_list *out, const char **why)
{
    char buf[1024];
    if (strlen(value) >= sizeof buf) {
        *why = "value too long";
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", value);
    out->n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
        if (out->n == CONFIG_MAX_LISTEN) {
            *why = "too many addresses (at most 8)";
            return -1;
        }
        if (parse_one_addr(tok, &out->addr[out->n]) < 0) {
            *why = "expected ADDR:PORT with a numeric address and a port 1-65535";
            return -1;
        }
        out->n++;
    }
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

static int parse_ll(const char *v, long long *out, bool size_suffix)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || errno)
        return -1;
    if (size_suffix && *end) {
        int shift = 0;
        switch (*end == '\0' ? 0 : (*end | 0x20)) {
        case 'k': shift = 10; break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        default: return -1;
        }
        end++;
        if (n < 0 || n > (LLONG_MAX >> shift))
            return -1;
        n <<= shift;
    }
    if (*end)
        return -1;
    *out = n;
    return 0;
}

static const char *set_value(struct config *cfg, const struct key *k, const char *v)
{
    char *field = (char *)cfg + k->offset;
    long long n;
    switch (k->type) {
    case K_STR:
        if (strlen(v) >= k->size)
            return "value too long";
        memcpy(field, v, strlen(v) + 1);
        return NULL;
    case K_INT:
    case K_SIZE:
        if (parse_ll(v, &n, k->type == K_SIZE) < 0)
            return k->type == K_SIZE ? "expected a size like 50M" : "expected a number";
        if (n < k->min || n > k->max)
            return "value out of range";
        if (k->type == K_INT)
            *(int *)field = (int)n;
        else
            *(uint64_t *)field = (uint64_t)n;
        return NULL;
    case K_BOOL:
        return parse_bool(v, (bool *)field) < 0 ? "expected yes or no" : NULL;
    case K_LEVEL:
        n = log_level_parse(v);
        if (n < 0)
            return "expected debug, info, warn or error";
        *(int *)field = (int)n;
        return NULL;
    case K_LISTEN: {
        const char *why = NULL;
        return config_parse_listen(v, (struct listen_list *)field, &why) < 0 ? why : NULL;
    }
    case K_NETS:
        if (netlist_parse((struct netlist *)field, v) < 0)
            return "expected addresses or networks like 127.0.0.0/8 ::1 (at most 32)";
        return NULL;
    case K_PORTRANGE: {
        int lo, hi, used = 0;
        if (sscanf(v, "%d-%d%n", &lo, &hi, &used) != 2 || v[used] || lo < 1024 ||
            hi > 65535 || lo > hi)
            return "expected a port range LOW-HIGH within 1024-65535";
        ((int *)field)[0] = lo;
        ((int *)field)[1] = hi;
        return NULL;
    }
    }
    return "internal: unknown key type";
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    int lineno = ctx->line;
    if (ctx->failed)
        return 1;
    const char *why = "unknown key";
    if (!name) /* a section header alone: checked with its first key */
        return 1;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) {
            why = set_value(ctx->cfg, &keys[i], value);
            if (keys[i].offset == OFF(tls_cert))
                ctx->cfg->tls_cert_line = lineno;
            if (keys[i].offset == OFF(tls_key))
                ctx->cfg->tls_key_line = lineno;
            break;
        }
    }
    if (!why)
        return 1;
    snprintf(ctx->err, ctx->errlen, "%s:%d: [%s] %s: %s", ctx->name, lineno, section, name,
             why);
    ctx->failed = 1;
    return 1;
}

static int finish(struct parse_ctx *ctx, int rc)
{
    if (ctx->failed)
        return -1;
    if (ctx->long_line) {
        snprintf(ctx->err, ctx->errlen, "%s:%d: line too long", ctx->name, ctx->long_line);
        return -1;
    }
    if (rc > 0) {
        snprintf(ctx->err, ctx->errlen, "%s:%d: syntax error (expected [section] or key = value)",
                 ctx->name, rc);
        return -1;
    }
    if (rc < 0) {
        snprintf(ctx->err, ctx->errlen, "%s: out of memory", ctx->name);
        return -1;
    }
    if (ctx->cfg->domains[0] == '\0') {
        snprintf(ctx->err, ctx->errlen, "%s: [portico] domains: at least one domain is needed",
                 ctx->name);
        return -1;
    }
    if ((ctx->cfg->tls_cert[0] == '\0') != (ctx->cfg->tls_key[0] == '\0')) {
        snprintf(ctx->err, ctx->errlen, "%s: [tls] cert and key must be set together",
                 ctx->name);
        return -1;
    }
    return 0;
}

int config_load_string(struct config *cfg, const char *name, const char *text,
                       char *err, size_t errlen)
{
    struct parse_ctx ctx = {.cfg = cfg, .name = name, .err = err, .errlen = errlen,
                            .text = text};
    set_defaults(cfg);
    return finish(&ctx, ini_parse_stream(read_line, &ctx, on_key, &ctx));
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
    if (!path) {
        if (config_load_string(cfg, "(default)", config_default_text, err, errlen) < 0)
            return -1;
        return 0;
    }
    struct parse_ctx ctx = {.cfg = cfg, .name = path, .err = err, .errlen = errlen};
    set_defaults(cfg);
    /* With a file, every listener not named in it stays off. */
    ctx.file = fopen(path, "re");
    if (!ctx.file) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    int rc = ini_parse_stream(read_line, &ctx, on_key, &ctx);
    fclose(ctx.file);
    if (finish(&ctx, rc) < 0)
        return -1;
    snprintf(cfg->path, sizeof cfg->path, "%s", path);
    return 0;
}

int config_check_files(const struct config *cfg, char *err, size_t errlen)
{
    const char *name = cfg->path[0] ? cfg->path : "(default)";
    const char *files[] = {cfg->tls_cert, cfg->tls_key};
    const char *names[] = {"cert", "key"};
    const int lines[] = {cfg->tls_cert_line, cfg->tls_key_line};
    for (int i = 0; i < 2; i++) {
        if (files[i][0] && access(files[i], R_OK) < 0) {
            snprintf(err, errlen, "%s:%d: [tls] %s: cannot read %s: %s", name, lines[i],
                     names[i], files[i], strerror(errno));
            return -1;
        }
    }
    return 0;
}
