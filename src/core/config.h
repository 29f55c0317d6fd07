/* config: the INI configuration (inih), its embedded default, and the table of
 * every key with its type and limits. docs/CONFIG.md documents each key. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/netlist.h"

#define CONFIG_MAX_LISTEN 8
#define CONFIG_MAX_KEYS 128 /* rows of the key table (config.c) */
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

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG, LOG_TARGET_JOURNAL };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* The services of the port table in DESIGN.md, in its order. */
enum service {
    SVC_SMTP,
    SVC_SUBMISSION,
    SVC_POP3,
    SVC_IMAP,
    SVC_FTP,
    SVC_HTTP,
    SVC_SFTP,    /* SSH; listen only, no listen_tls */
    SVC_METRICS, /* [metrics] listen: the Prometheus endpoint, plain HTTP */
    SVC_PROXY,   /* [proxy] listen: the forward HTTP proxy (http/proxy/) */
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
    int log_level;      /* [log] level (or [portico] log_level) */
    int log_target;     /* [log] target: enum log_target */
    int log_format;     /* [log] format: enum log_format */
    /* [tls] */
    char tls_cert[PATH_MAX];
    char tls_key[PATH_MAX];
    int tls_cert_line, tls_key_line; /* where they were set, for errors */
    int max_connections_per_ip;
    int max_connections;            /* all sessions at once; 0 = from RLIMIT_NOFILE */
    int login_timeout;              /* seconds from connect to login; 0 = the default */
    struct netlist trusted_proxies; /* may send a PROXY header (core/proxy.h) */
    /* [auth] */
    bool allow_plaintext_auth;
    int min_password_length;
    struct netlist trusted_networks; /* only delayed, never refused, on failures */
    int throttle_free_failures;      /* [auth] throttle_*: auth/throttle.h */
    int throttle_max_delay;          /* seconds */
    int throttle_lock_failures;
    int throttle_lock_time; /* seconds */
    int throttle_window;    /* seconds */
    /* [mail] */
    uint64_t mail_quota_bytes; /* per account; 0 = unlimited */
    int mail_quota_messages;   /* per account; 0 = unlimited */
    /* [smtp] ... [http]: listeners */
    struct service_config svc[SVC_COUNT];
    /* [smtp] */
    uint64_t smtp_max_message_size;
    char smtp_catch_all[AUTH_ADDRESS_MAX]; /* address for unknown local users */
    int smtp_timeout; /* [smtp] timeout: idle seconds, RFC 5321 4.5.3.2.7 */
    /* [relay] */
    char relay_resolver[128]; /* DNS server "ADDR:PORT", "" = resolv.conf */
    int smtp_data_timeout;    /* [smtp] data_timeout: whole body; 0 = derived */
    /* [imap] */
    uint64_t imap_max_message_size; /* APPENDLIMIT (RFC 7889); 0 = smtp's */
    /* [ftp] */
    int ftp_passive_min, ftp_passive_max;
    char ftp_passive_address[64];
    char ftp_anonymous_root[PATH_MAX];
    uint64_t files_quota_bytes; /* [ftp] quota: per account file area; 0 = unlimited */
    int ftp_idle_timeout;       /* seconds, FTP_IDLE_TIMEOUT_SEC */
    int ftp_data_timeout;       /* seconds, FTP_DATA_TIMEOUT_SEC */
    bool ftp_require_tls_data;  /* TLS control: refuse clear data (PROT C) */
    int ftp_max_passive_per_account; /* FTP_MAX_PASSIVE_PER_ACCOUNT */
    int ftp_passive_timeout;         /* seconds, FTP_PASSIVE_TIMEOUT_SEC */
    /* [http] */
    char http_access_log[PATH_MAX];
    bool http_dir_listing;
    int http_max_requests;        /* per connection */
    char http_proxy_routes[2048]; /* [http] proxy: "/PREFIX/ URL, ..." (reverse) */
    /* [proxy]: the forward proxy and the upstream side of both proxies */
    struct netlist proxy_allow;    /* clients served without credentials */
    char proxy_connect_ports[256]; /* "443 8443 9000-9010" */
    int proxy_ssrf_guard;          /* 0 auto, 1 yes, 2 no */
    int proxy_connect_timeout;     /* seconds per upstream address */
    int proxy_timeout;             /* seconds for the head, and between reads */
    int proxy_tunnel_timeout;      /* idle seconds of a CONNECT/WebSocket tunnel */
    char proxy_ca_file[PATH_MAX];
    /* [sftp] */
    int sftp_idle_timeout;        /* seconds, SFTP_IDLE_TIMEOUT_SEC */
    int sftp_login_timeout;       /* seconds, SFTP_LOGIN_TIMEOUT_SEC */
    int sftp_max_sessions;        /* SSH sessions at once (threads) */
    int sftp_max_sessions_per_ip; /* SSH sessions one address may hold */
    /* [relay]: the outbound queue (relay/) */
    bool relay_enabled;
    int relay_retry_min;      /* seconds before the first retry */
    int relay_retry_max;      /* the doubling stops here */
    int relay_queue_lifetime; /* seconds until a bounce */
    int relay_delay_notice;   /* seconds until a "delayed" DSN; 0 = off */
    int relay_max_per_destination;
    int relay_max_connections;
    int relay_connect_timeout; /* seconds per address */
    int relay_timeout;         /* seconds per SMTP step (RFC 5321 4.5.3.2) */
    int relay_port;            /* the MX port (25; tests use another) */
    char relay_smarthost[300]; /* HOST:PORT, or "" */
    char relay_smarthost_user[256];
    char relay_smarthost_password[256];
    char relay_routes[2048];    /* "DOMAIN HOST:PORT [policy], ..." */
    char relay_srs_secret[128]; /* "" = made on first start */
    int relay_srs_max_age;      /* days a bounce address stays valid */
    bool relay_mta_sts;         /* apply RFC 8461 policies */
    int relay_mta_sts_port;     /* HTTPS port of mta-sts.DOMAIN */
    char relay_ca_file[PATH_MAX];
    bool relay_dkim_ed25519; /* also sign with the Ed25519 key (RFC 8463) */
    /* [proxy]: the shared cache (http/cache/) */
    uint64_t proxy_cache_memory;     /* bytes of the memory tier; 0 = none */
    uint64_t proxy_cache_disk;       /* bytes under data_dir/cache/; 0 = none */
    uint64_t proxy_cache_max_object; /* largest body stored */
    int proxy_cache_heuristic_max;   /* seconds, RFC 9111 4.2.2 */
    /* Where each key of the table was set (0: not set), for errors. */
    int key_line[CONFIG_MAX_KEYS];
};

/* One row of the key table: a key, where it goes in struct config, its
 * default (as written in a file) and its documentation. docs/CONFIG.md and
 * the sample portico.conf are generated from these rows (core/config_doc.c). */
enum config_key_type {
    K_STR,
    K_INT,
    K_BOOL,
    K_SIZE,
    K_LEVEL,
    K_LISTEN,
    K_PORTRANGE,
    K_ENUM,
    K_NETS,   /* struct netlist: addresses and networks (core/netlist.h) */
    K_STRLIST /* a string key that may be repeated: the values are joined with ", " */
};

struct config_key {
    const char *section;
    const char *name;
    enum config_key_type type;
    size_t offset;
    size_t size;         /* K_STR: buffer size */
    long long min, max;  /* K_INT, K_SIZE */
    const char *choices; /* K_ENUM: "stderr syslog journal" (stored as the index) */
    /* Optional: checks (and may rewrite, e.g. to an A-label) the stored
     * field; returns why it is invalid, or NULL. */
    const char *(*check)(char *field, size_t size);
    const char *def; /* the value when a file does not set the key */
    const char *doc; /* one paragraph, Markdown */
};

/* The table, in documentation order. */
const struct config_key *config_keys(size_t *n);
/* The line where section/name was set in the loaded file, 0 if not set. */
int config_key_line(const struct config *cfg, const char *section, const char *name);
/* "FILE" or "(default)". */
const char *config_name(const struct config *cfg);

/* Errors, one per line ("FILE:LINE: [section] key: why"), in err. */
struct config_errors {
    char *buf;
    size_t cap, len;
    int n;
};
void config_errorf(struct config_errors *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Adds "FILE:LINE: [section] key: why" with the line where key was set. */
void config_key_error(struct config_errors *e, const struct config *cfg,
                      const char *section, const char *key, const char *why);
/* Prints every line of err as "portico: LINE" on stderr. */
void config_print_errors(const char *err);

/* Loads FILE, or the embedded default when path is NULL, into cfg.
 * On error returns -1 and writes every error, one line each
 * "FILE:LINE: [section] key: why", into err. Nothing is opened or bound. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* Parses an INI text as if it were the file `name` (used by the fuzzer and
 * the unit tests). */
int config_load_string(struct config *cfg, const char *name, const char *text, char *err,
                       size_t errlen);

/* Parses "ADDR:PORT [ADDR:PORT ...]" into out. Returns -1 with why set. */
int config_parse_listen(const char *value, struct listen_list *out, const char **why);

/* The name of a service's config section: "smtp", "submission", ... */
const char *config_service_name(enum service svc);

/* The embedded default configuration text. */
extern const char config_default_text[];
