/* config: the INI configuration (inih), its embedded default, and the table of
 * every key with its type and limits. docs/CONFIG.md documents each key. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/netlist.h"

#define CONFIG_MAX_LISTEN 8
#define AUTH_ADDRESS_MAX 321

struct listen_addr {
    struct sockaddr_storage sa;
    socklen_t salen;
    char text[80]; /* "127.0.0.1:2525" or "[::1]:2525" */
};

struct listen_list {
    int n;
    struct listen_addr addr[CONFIG_MAX_LISTEN];
};

/* The services of the port table in DESIGN.md, in its order. */
enum service {
    SVC_SMTP,
    SVC_SUBMISSION,
    SVC_POP3,
    SVC_IMAP,
    SVC_FTP,
    SVC_HTTP,
    SVC_SFTP, /* SSH; listen only, no listen_tls */
    SVC_COUNT
};

struct service_config {
    struct listen_list listen;     /* plain, STARTTLS-capable */
    struct listen_list listen_tls; /* implicit TLS */
    bool proxy_protocol;           /* a PROXY header precedes each connection */
};

struct config {
    char path[PATH_MAX]; /* "" when the embedded default is used */
    /* [portico] */
    char data_dir[PATH_MAX];
    char hostname[256];
    char domains[1024]; /* space-separated, first is the primary */
    int threads;        /* 0 = one per CPU */
    int work_threads;   /* 0 = the caller's default (serve: cli/serve.c) */
    char user[64];      /* drop to this user after binding when root */
    int log_level;
    /* [tls] */
    char tls_cert[PATH_MAX];
    char tls_key[PATH_MAX];
    int tls_cert_line, tls_key_line; /* where they were set, for errors */
    int max_connections_per_ip;
    int max_connections; /* all sessions at once; 0 = from RLIMIT_NOFILE */
    int login_timeout;   /* seconds from connect to login; 0 = the default */
    struct netlist trusted_proxies; /* may send a PROXY header (core/proxy.h) */
    /* [auth] */
    bool allow_plaintext_auth;
    struct netlist trusted_networks; /* only delayed, never refused, on failures */
    /* [mail] */
    uint64_t mail_quota_bytes;   /* per account; 0 = unlimited */
    int mail_quota_messages;     /* per account; 0 = unlimited */
    /* [smtp] ... [http]: listeners */
    struct service_config svc[SVC_COUNT];
    /* [smtp] */
    uint64_t smtp_max_message_size;
    char smtp_catch_all[AUTH_ADDRESS_MAX]; /* address for unknown local users */
    int smtp_timeout; /* [smtp] timeout: idle seconds, RFC 5321 4.5.3.2.7 */
    int smtp_data_timeout; /* [smtp] data_timeout: whole body; 0 = derived */
    /* [imap] */
    uint64_t imap_max_message_size; /* APPENDLIMIT (RFC 7889); 0 = smtp's */
    /* [ftp] */
    int ftp_passive_min, ftp_passive_max;
    char ftp_passive_address[64];
    char ftp_anonymous_root[PATH_MAX];
    uint64_t files_quota_bytes; /* [ftp] quota: per account file area; 0 = unlimited */
    int ftp_idle_timeout; /* seconds, FTP_IDLE_TIMEOUT_SEC */
    int ftp_data_timeout; /* seconds, FTP_DATA_TIMEOUT_SEC */
    bool ftp_require_tls_data; /* TLS control: refuse clear data (PROT C) */
    int ftp_max_passive_per_account; /* FTP_MAX_PASSIVE_PER_ACCOUNT */
    int ftp_passive_timeout;         /* seconds, FTP_PASSIVE_TIMEOUT_SEC */
    /* [http] */
    char http_access_log[PATH_MAX];
    bool http_dir_listing;
    int http_max_requests; /* per connection */
    /* [sftp] */
    int sftp_idle_timeout;        /* seconds, SFTP_IDLE_TIMEOUT_SEC */
    int sftp_login_timeout;       /* seconds, SFTP_LOGIN_TIMEOUT_SEC */
    int sftp_max_sessions;        /* SSH sessions at once (threads) */
    int sftp_max_sessions_per_ip; /* SSH sessions one address may hold */
    /* [relay] */
    char relay_smarthost[256];
    char relay_routes[1024]; /* "DOMAIN HOST:PORT" entries separated by ',' */
};

/* Loads FILE, or the embedded default when path is NULL, into cfg.
 * On error returns -1 and writes one line "FILE:LINE: [section] key: why"
 * into err. Nothing is opened or bound here. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* Checks what a start would trip over besides syntax: the files the config
 * names are readable. Same error format as config_load. */
int config_check_files(const struct config *cfg, char *err, size_t errlen);

/* Parses an INI text as if it were the file `name` (used by the fuzzer and
 * the unit tests). */
int config_load_string(struct config *cfg, const char *name, const char *text,
                       char *err, size_t errlen);

/* Parses "ADDR:PORT [ADDR:PORT ...]" into out. Returns -1 with why set. */
int config_parse_listen(const char *value, struct listen_list *out, const char **why);

/* The name of a service's config section: "smtp", "submission", ... */
const char *config_service_name(enum service svc);

/* The embedded default configuration text. */
extern const char config_default_text[];
