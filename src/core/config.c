/* config: the table of keys (each with its default and documentation), the
 * embedded default and the inih callback that fills struct config. Every
 * error is reported, each naming file, line, section and key. */
#include "core/config.h"

#include "core/config_check.h"
#include "core/connect.h"

#include "core/limits.h"
#include "core/log.h"
#include "core/netlist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* DESIGN.md, "Configuration": data in ./var, loopback, the port table. */
const char config_default_text[] = "[portico]\n"
                                   "data_dir = ./var\n"
                                   "hostname = localhost\n"
                                   "domains = localhost\n"
                                   "threads = 0\n"
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
                                   "listen = 127.0.0.1:2222 [::1]:2222\n"
                                   "[proxy]\n"
                                   "listen = 127.0.0.1:3128 [::1]:3128\n";

#define OFF(f) offsetof(struct config, f)
#define FSIZE(f) sizeof(((struct config *)0)->f)
/* One row per key: section, name, field, [limits,] default, documentation. */
#define STR(sec, name, f, def, doc)                                                      \
    {                                                                                    \
        sec, name, K_STR, OFF(f), FSIZE(f), 0, 0, NULL, NULL, def, doc                   \
    }
#define STRC(sec, name, f, chk, def, doc)                                                \
    {                                                                                    \
        sec, name, K_STR, OFF(f), FSIZE(f), 0, 0, NULL, chk, def, doc                    \
    }
#define INT(sec, name, f, lo, hi, def, doc)                                              \
    {                                                                                    \
        sec, name, K_INT, OFF(f), 0, lo, hi, NULL, NULL, def, doc                        \
    }
#define SIZE(sec, name, f, lo, hi, def, doc)                                             \
    {                                                                                    \
        sec, name, K_SIZE, OFF(f), 0, lo, hi, NULL, NULL, def, doc                       \
    }
#define BOOL(sec, name, f, def, doc)                                                     \
    {                                                                                    \
        sec, name, K_BOOL, OFF(f), 0, 0, 0, NULL, NULL, def, doc                         \
    }
#define ENUM(sec, name, f, choices, def, doc)                                            \
    {                                                                                    \
        sec, name, K_ENUM, OFF(f), 0, 0, 0, choices, NULL, def, doc                      \
    }
#define LISTEN(sec, name, f, doc)                                                        \
    {                                                                                    \
        sec, name, K_LISTEN, OFF(f), 0, 0, 0, NULL, NULL, "", doc                        \
    }
#define NETS(sec, name, f, def, doc)                                                     \
    {                                                                                    \
        sec, name, K_NETS, OFF(f), 0, 0, 0, NULL, NULL, def, doc                         \
    }

/* [relay] resolver: a numeric address with an optional port, no name
 * (the resolver cannot resolve its own address). */
static const char *check_resolver(char *field, size_t size)
{
    struct conn_addr a;
    if (field[0] == '\0' || conn_addr_parse(field, 53, &a) == 0)
        return NULL;
    return "must be ADDR:PORT, [ADDR]:PORT or ADDR (a numeric address)";
}

/* [proxy] connect_ports: "443 8443 9000-9010". */
static const char *check_ports(char *field, size_t size)
{
    if (config_port_ranges(field, NULL, NULL) < 0)
        return "must be ports and ranges: 443 8443 9000-9010";
    return NULL;
}

static const struct config_key keys[] = {
    STR("portico", "data_dir", data_dir, "./var",
        "Where everything lives: `portico.db`, `tls/`, `queue/`, `www/`, `users/`. "
        "Created "
        "(mode 0700) when `serve` starts; a relative path is resolved once at start. The "
        "embedded default refuses to start where `./var` would be a system directory "
        "(started "
        "from `/`, for example)."),
    STRC("portico", "hostname", hostname, config_check_hostname, "localhost",
         "The server's name: SMTP greeting and `Received:` lines, the generated "
         "certificate's CN and SAN. A DNS name; an international name is stored as its "
         "A-label."),
    STRC("portico", "domains", domains, config_check_domains, "localhost",
         "Space-separated local mail domains, the first is the primary. They count as "
         "local "
         "from the start (also for `portico user add` before the first `serve`); the "
         "first "
         "gets the first account (`postmaster@`). More can be added with `portico domain "
         "add`. "
         "International names are accepted in Unicode and stored as A-labels."),
    INT("portico", "threads", threads, 0, 256, "0",
        "Event-loop threads; `0` means one per CPU. Every listener is opened in every "
        "thread "
        "(SO_REUSEPORT)."),
    INT("portico", "work_threads", work_threads, 0, 256, "0",
        "Most threads of the blocking-work pool (password hashing, fsync, directory "
        "scans); "
        "one starts with the server and more start as jobs wait; `0` means 16, or twice "
        "the "
        "loop threads when that is more (see PERFORMANCE.md)."),
    STR("portico", "user", user, "",
        "When started as root: bind, make the data tree this user's, then drop to this "
        "user "
        "(setgroups/setgid/setuid). As root without `user`, `serve` refuses to listen on "
        "a "
        "non-loopback address and warns on loopback. Ignored when not root."),
    INT("portico", "max_connections_per_ip", max_connections_per_ip, 1, 1000000, "64",
        "Connections one client address may hold at once, across all services; more are "
        "refused with the protocol's \"too many\" reply."),
    INT("portico", "max_connections", max_connections, 0, 10000000, "0",
        "Connections the whole server holds at once; more get the protocol's \"server "
        "full\" reply. `0` derives it from the descriptor limit: (RLIMIT_NOFILE - 64) / "
        "2 "
        "(the soft limit is raised to the hard one at start)."),
    INT("portico", "login_timeout", login_timeout, 0, 86400, "0",
        "Seconds a POP3, IMAP, FTP or submission client has from connecting to logging "
        "in, whatever it sends meanwhile; `0` means 120. IMAP's idle limit before "
        "login (60 s) is never longer than this."),
    NETS("portico", "trusted_proxies", trusted_proxies, "",
         "Addresses or networks (`127.0.0.1 10.0.0.0/8`) allowed to send a PROXY "
         "protocol header on listeners with `proxy_protocol = yes`; empty: none."),
    {"portico", "log_level", K_LEVEL, OFF(log_level), 0, 0, 0, NULL, NULL, "info",
     "The older spelling of `[log] level`; set one of the two."},
    {"log", "level", K_LEVEL, OFF(log_level), 0, 0, 0, NULL, NULL, "info",
     "`debug`, `info`, `warn` or `error`: the lowest level logged."},
    ENUM("log", "target", log_target, "stderr syslog journal", "stderr",
         "`stderr` (one line per event), `syslog` (facility mail) or `journal` (the "
         "systemd "
         "journal, with the session, protocol and event as fields)."),
    ENUM("log", "format", log_format, "text json", "text",
         "`text`: `TIME LEVEL SESSION PROTO event key=value…`; `json`: one JSON object "
         "per "
         "line with `time`, `level`, `session` and `msg`. Secrets are masked in both."),
    STR("tls", "cert", tls_cert, "",
        "PEM certificate chain. Set together with `key`; `check-config` loads both and "
        "checks "
        "they match."),
    STR("tls", "key", tls_key, "", "PEM private key."),
    BOOL("auth", "allow_plaintext_auth", allow_plaintext_auth, "no",
         "Allow plaintext passwords before TLS everywhere, including submission on "
         "loopback "
         "and non-loopback clients. Leave it off except for testing. By default "
         "POP3/IMAP/FTP "
         "accept plaintext logins before TLS only from loopback; submission needs TLS "
         "even on "
         "loopback."),
    NETS("auth", "trusted_networks", trusted_networks, "127.0.0.0/8 ::1",
         "Client addresses whose failed logins are only delayed, never refused "
         "outright (a developer's test suite on loopback keeps working)."),
    INT("auth", "throttle_free_failures", throttle_free_failures, 0, 19, "3",
        "Failed logins answered at once, per client address, per account and per "
        "(account, address) pair; after them each failure's answer waits 1 s, doubling "
        "up "
        "to `throttle_max_delay`."),
    INT("auth", "throttle_max_delay", throttle_max_delay, 0, 300, "15",
        "Seconds: the longest a failed login's answer is delayed."),
    INT("auth", "throttle_lock_failures", throttle_lock_failures, 2, 20, "10",
        "Failures within `throttle_window` after which a client address is refused "
        "outright for `throttle_lock_time`, and an account is refused for the addresses "
        "that failed on it (never for the others, and never from `trusted_networks`: "
        "they only get the delay). The account itself is never locked."),
    INT("auth", "throttle_lock_time", throttle_lock_time, 1, 86400, "300",
        "Seconds an address (or an account for one address) stays refused."),
    INT("auth", "throttle_window", throttle_window, 1, 86400, "900",
        "Seconds after which a failed login is forgotten."),
    INT("auth", "min_password_length", min_password_length, 1, 1024, "8",
        "Fewest characters a password set by `portico user add` or `user passwd` may "
        "have."),
    SIZE("mail", "quota", mail_quota_bytes, 0, (long long)1 << 50, "0",
         "Bytes of mail per account; `0` is unlimited. Over quota, delivery is a "
         "temporary failure (SMTP `452 4.2.2`), never a silent drop. IMAP reports it "
         "as the STORAGE quota (RFC 9208 GETQUOTAROOT)."),
    INT("mail", "quota_messages", mail_quota_messages, 0, 1000000000, "0",
        "Messages per account; `0` is unlimited. IMAP reports it as the MESSAGE "
        "quota."),
    LISTEN("smtp", "listen", svc[SVC_SMTP].listen,
           "MX: accepts mail for local domains from anyone, no authentication."),
    LISTEN("smtp", "listen_tls", svc[SVC_SMTP].listen_tls,
           "MX over implicit TLS (rarely used; MX peers use STARTTLS on `listen`)."),
    BOOL("smtp", "proxy_protocol", svc[SVC_SMTP].proxy_protocol, "no",
         "Expect a PROXY protocol v1/v2 header (HAProxy's) on this service's listeners, "
         "accepted only from `[portico] trusted_proxies`; the address it carries is the "
         "client's for limits, throttling, the plaintext policy, logs and `Received:`."),
    SIZE("smtp", "max_message_size", smtp_max_message_size, 1024, (long long)1 << 40,
         "50M",
         "Largest message accepted (advertised with SIZE); larger is `552 5.3.4`."),
    STR("smtp", "catch_all", smtp_catch_all, "",
        "An account that receives mail for unknown local users; empty means unknown "
        "users get "
        "`550 5.1.1`."),
    INT("smtp", "timeout", smtp_timeout, 1, 3600, "300",
        "Idle seconds (also while receiving DATA) before the session is closed with "
        "`421` "
        "(RFC 5321 4.5.3.2.7). Applies to MX and submission."),
    INT("smtp", "data_timeout", smtp_data_timeout, 0, 86400, "0",
        "Seconds a whole DATA or BDAT body may take (RFC 5321 4.5.3.2 bounds only each "
        "read); `0` means 600 plus the largest message at 64 KiB/s."),
    LISTEN("submission", "listen", svc[SVC_SUBMISSION].listen,
           "Submission with STARTTLS (RFC 6409); AUTH required."),
    LISTEN("submission", "listen_tls", svc[SVC_SUBMISSION].listen_tls,
           "Submission over implicit TLS (RFC 8314)."),
    BOOL("submission", "proxy_protocol", svc[SVC_SUBMISSION].proxy_protocol, "no",
         "Expect a PROXY protocol v1/v2 header (HAProxy's) on this service's listeners, "
         "accepted only from `[portico] trusted_proxies`; the address it carries is the "
         "client's for limits, throttling, the plaintext policy, logs and `Received:`."),
    LISTEN("pop3", "listen", svc[SVC_POP3].listen, "POP3, with STLS."),
    LISTEN("pop3", "listen_tls", svc[SVC_POP3].listen_tls, "POP3 over implicit TLS."),
    BOOL("pop3", "proxy_protocol", svc[SVC_POP3].proxy_protocol, "no",
         "Expect a PROXY protocol v1/v2 header (HAProxy's) on this service's listeners, "
         "accepted only from `[portico] trusted_proxies`; the address it carries is the "
         "client's for limits, throttling, the plaintext policy, logs and `Received:`."),
    LISTEN("imap", "listen", svc[SVC_IMAP].listen, "IMAP, with STARTTLS."),
    LISTEN("imap", "listen_tls", svc[SVC_IMAP].listen_tls, "IMAP over implicit TLS."),
    BOOL("imap", "proxy_protocol", svc[SVC_IMAP].proxy_protocol, "no",
         "Expect a PROXY protocol v1/v2 header (HAProxy's) on this service's listeners, "
         "accepted only from `[portico] trusted_proxies`; the address it carries is the "
         "client's for limits, throttling, the plaintext policy, logs and `Received:`."),
    SIZE("imap", "max_message_size", imap_max_message_size, 0, (long long)1 << 40, "0",
         "Largest APPEND (advertised as `APPENDLIMIT=`, RFC 7889) and largest literal; a "
         "larger literal is refused with `NO [TOOBIG]` before any of its bytes is read. "
         "`0` means `[smtp] max_message_size`."),
    LISTEN("ftp", "listen", svc[SVC_FTP].listen,
           "FTP control connections, explicit TLS via AUTH TLS."),
    LISTEN("ftp", "listen_tls", svc[SVC_FTP].listen_tls, "FTP over implicit TLS."),
    BOOL("ftp", "proxy_protocol", svc[SVC_FTP].proxy_protocol, "no",
         "Expect a PROXY protocol v1/v2 header (HAProxy's) on this service's listeners, "
         "accepted only from `[portico] trusted_proxies`; the address it carries is the "
         "client's for limits, throttling, the plaintext policy, logs and `Received:`."),
    {"ftp", "passive_ports", K_PORTRANGE, OFF(ftp_passive_min), 0, 0, 0, NULL, NULL,
     "30000-30099", "Ports for passive data connections, `LOW-HIGH` within 1024-65535."},
    STRC("ftp", "passive_address", ftp_passive_address, config_check_ipv4, "",
         "IPv4 address announced in PASV replies (behind NAT); empty means the control "
         "connection's local address."),
    STR("ftp", "anonymous_root", ftp_anonymous_root, "",
        "When set, anonymous read-only logins see this directory."),
    SIZE(
        "ftp", "quota", files_quota_bytes, 0, (long long)1 << 50, "0",
        "Bytes in each account's file area; `0` is unlimited. Over quota, an upload gets "
        "`452` and the partial file is removed; HTTP PUT and form uploads get `413`."),
    INT("ftp", "idle_timeout", ftp_idle_timeout, 1, 86400, "300",
        "Seconds a control connection may stay idle (`421` and close)."),
    INT("ftp", "data_timeout", ftp_data_timeout, 1, 86400, "120",
        "Seconds a data connection may wait for its peer or stall (`425`/`426`)."),
    BOOL("ftp", "require_tls_data", ftp_require_tls_data, "no",
         "When the control connection is TLS, refuse clear data connections (`PROT C` "
         "gets 534, an unprotected transfer 521). Off by default, as in vsftpd."),
    INT("ftp", "max_passive_per_account", ftp_max_passive_per_account, 1, 65535, "8",
        "Passive data listeners one account may hold at once across its sessions."),
    INT("ftp", "passive_timeout", ftp_passive_timeout, 1, 86400, "30",
        "Seconds an unused passive data listener stays open."),
    LISTEN("http", "listen", svc[SVC_HTTP].listen, "Plain HTTP/1.1."),
    LISTEN("http", "listen_tls", svc[SVC_HTTP].listen_tls, "HTTPS (ALPN `http/1.1`)."),
    BOOL("http", "proxy_protocol", svc[SVC_HTTP].proxy_protocol, "no",
         "Expect a PROXY protocol v1/v2 header (HAProxy's) on this service's listeners, "
         "accepted only from `[portico] trusted_proxies`; the address it carries is the "
         "client's for limits, throttling, the plaintext policy, logs and `Received:`."),
    STR("http", "access_log", http_access_log, "",
        "Combined-format access log: empty is off, `stderr` writes to standard error, "
        "anything else is a file opened for appending. (Every protocol also logs one "
        "`session_end` line per session to the main log.)"),
    BOOL("http", "dir_listing", http_dir_listing, "yes",
         "HTML listing for directories without `index.html`; `no` answers 403."),
    INT("http", "max_requests", http_max_requests, 1, 1000000, "1000",
        "Requests per persistent connection."),
    {"http", "proxy", K_STRLIST, OFF(http_proxy_routes), FSIZE(http_proxy_routes), 0, 0,
     NULL, NULL, "",
     "Reverse proxy: `/PREFIX/ http://HOST:PORT/` (or `https://`, verified against "
     "`[proxy] ca_file`) sends requests whose path starts with `/PREFIX/` to that "
     "origin, the prefix replaced by the URL's path; repeat the key for more. The "
     "origin gets `X-Forwarded-For`, `X-Forwarded-Proto`, `Forwarded` (RFC 7239) and "
     "`Via`; WebSocket upgrades pass through. See docs/proxy.md."},
    LISTEN("proxy", "listen", svc[SVC_PROXY].listen,
           "Forward HTTP proxy (`curl -x`, a browser's proxy setting): absolute-form "
           "requests and `CONNECT` tunnels. Never open: see `allow`."),
    NETS("proxy", "allow", proxy_allow, "127.0.0.0/8 ::1",
         "Client networks served without credentials; any other client must send "
         "`Proxy-Authorization: Basic` with an account (407 otherwise; failures are "
         "throttled like every login)."),
    STRC("proxy", "connect_ports", proxy_connect_ports, check_ports, "443",
         "Ports `CONNECT` may open, as ports and ranges: `443 8443 9000-9010`."),
    ENUM("proxy", "ssrf_guard", proxy_ssrf_guard, "auto yes no", "auto",
         "Refuse destinations on loopback, private, link-local and other non-public "
         "addresses (checked after DNS): `auto` for clients that authenticated from "
         "outside `allow`, `yes` for every client, `no` never. Requests to the proxy's "
         "own listeners are always refused (a loop)."),
    INT("proxy", "connect_timeout", proxy_connect_timeout, 1, 3600, "10",
        "Seconds to wait for each upstream address to accept (then the next; all "
        "failed: 502, timed out: 504)."),
    INT("proxy", "timeout", proxy_timeout, 1, 86400, "60",
        "Seconds an origin may take to send its response head, and may stay silent "
        "within a body; then 504 (or the response is cut)."),
    INT("proxy", "tunnel_timeout", proxy_tunnel_timeout, 1, 86400, "300",
        "Idle seconds of a `CONNECT` or WebSocket tunnel before it is closed."),
    STR("proxy", "ca_file", proxy_ca_file, "",
        "PEM trust anchors for `https://` origins of `[http] proxy`; empty means the "
        "system's."),
    /* [proxy]: the shared cache (http/cache/, docs/proxy.md "Cache"). */
    SIZE("proxy", "cache_memory", proxy_cache_memory, 0, (long long)1 << 40, "64M",
         "Bytes of cached responses kept in memory (least recently used evicted first); "
         "`0` keeps none in memory."),
    SIZE("proxy", "cache_disk", proxy_cache_disk, 0, (long long)1 << 50, "1G",
         "Bytes of cached responses kept in `data_dir/cache/` (one file per response, "
         "least recently used evicted first, re-indexed at start); `0` turns the disk "
         "tier off. The cache is droppable: nothing there is fsynced, and a torn or "
         "corrupt file is detected by its checksum and removed, never served."),
    SIZE("proxy", "cache_max_object", proxy_cache_max_object, 1024, (long long)1 << 40,
         "16M",
         "The largest response body the cache stores; a larger one is passed through "
         "and not stored."),
    INT("proxy", "cache_heuristic_max", proxy_cache_heuristic_max, 0, 31536000, "86400",
        "The longest heuristic freshness (RFC 9111 4.2.2), in seconds: a response "
        "without explicit freshness but with `Last-Modified` is fresh for 10 % of its "
        "age, at most this; only for heuristically cacheable statuses or with "
        "`public`. `0` turns heuristic freshness off."),
    LISTEN("sftp", "listen", svc[SVC_SFTP].listen,
           "SSH listeners (no `listen_tls`: SSH has its own encryption)."),
    INT("sftp", "idle_timeout", sftp_idle_timeout, 1, 86400, "300",
        "Seconds without a request begun or finished before the session is closed; also "
        "ends a session whose client stopped reading replies."),
    INT("sftp", "login_timeout", sftp_login_timeout, 1, 3600, "60",
        "Seconds for the key exchange and authentication."),
    INT("sftp", "max_sessions", sftp_max_sessions, 1, 100000, "1000",
        "SSH sessions at once (each has a thread). More are closed at once."),
    INT("sftp", "max_sessions_per_ip", sftp_max_sessions_per_ip, 1, 100000, "32",
        "SSH sessions one client address may hold; `[portico] max_connections_per_ip` "
        "applies too."),
    STRC("relay", "resolver", relay_resolver, check_resolver, "",
         "The DNS server outbound mail asks (MX, A/AAAA, TXT, TLSA), as `ADDR:PORT`, "
         "`[ADDR]:PORT` or `ADDR` (port 53), e.g. `127.0.0.1:5353` for a local "
         "resolver. Empty: the servers of `/etc/resolv.conf`. Answers are cached for "
         "their TTL (at most a day; a missing name for a minute)."),
    LISTEN(
        "metrics", "listen", svc[SVC_METRICS].listen,
        "Prometheus text endpoint (`GET /metrics`), off unless set; keep it on loopback "
        "(`127.0.0.1:9187`) or behind a firewall: it needs no login."),
    BOOL("relay", "enabled", relay_enabled, "yes",
         "Deliver queued outbound mail (the scheduler in `relay/`). `no` only queues it "
         "(for a node whose queue another process drains)."),
    INT("relay", "retry_min", relay_retry_min, 1, 86400, "300",
        "Seconds before the first retry of a temporary failure; each retry waits twice "
        "as "
        "long as the one before, up to `retry_max`."),
    INT("relay", "retry_max", relay_retry_max, 1, 86400, "3600",
        "The longest wait between two attempts for one recipient."),
    INT("relay", "queue_lifetime", relay_queue_lifetime, 1, 31536000, "432000",
        "Seconds a message may stay in the queue (5 days); then every recipient not yet "
        "delivered fails and the sender gets a bounce (RFC 3464)."),
    INT("relay", "delay_notice", relay_delay_notice, 0, 31536000, "14400",
        "Seconds after which the sender gets one \"delayed\" notice (RFC 3464 "
        "`Action: delayed`) for recipients still deferred; `0` turns it off."),
    INT("relay", "max_per_destination", relay_max_per_destination, 1, 1000, "10",
        "Connections at once to one destination (a domain, or a route or smarthost)."),
    INT("relay", "max_connections", relay_max_connections, 1, 100000, "100",
        "Outbound connections at once, for all destinations."),
    INT("relay", "connect_timeout", relay_connect_timeout, 1, 3600, "30",
        "Seconds to wait for each address to accept the connection."),
    INT("relay", "timeout", relay_timeout, 1, 3600, "300",
        "Seconds to wait for each reply of the next hop (RFC 5321 4.5.3.2; the end of "
        "DATA gets twice this)."),
    INT("relay", "port", relay_port, 1, 65535, "25",
        "The port of MX hosts (25; tests point it elsewhere)."),
    STRC(
        "relay", "smarthost", relay_smarthost, config_check_hostport, "",
        "`HOST:PORT` every outbound message goes through (when port 25 is blocked), with "
        "STARTTLS required and AUTH PLAIN when `smarthost_user` is set; empty means "
        "direct delivery to each domain's MX."),
    STR("relay", "smarthost_user", relay_smarthost_user, "",
        "The user name for AUTH PLAIN at the smarthost."),
    STR("relay", "smarthost_password", relay_smarthost_password, "",
        "The password for AUTH PLAIN at the smarthost (never logged)."),
    {"relay", "route", K_STRLIST, OFF(relay_routes), FSIZE(relay_routes), 0, 0, NULL,
     config_check_routes, "",
     "A next hop for one domain: `DOMAIN HOST:PORT [opportunistic|required|verified]`, "
     "e.g. `example.com 192.0.2.7:25 required`; repeat the key for more domains (or "
     "separate them with commas). A route wins over the MX records and the smarthost; "
     "its TLS policy defaults to opportunistic."},
    STR("relay", "srs_secret", relay_srs_secret, "",
        "The key of the SRS rewriting (forwarded mail's envelope sender); empty means "
        "one is made on first start in `data_dir/queue/srs.key`."),
    INT("relay", "srs_max_age", relay_srs_max_age, 1, 1000, "21",
        "Days an SRS address stays valid: a bounce to `SRS0=...@` the primary domain "
        "is sent on to the original sender when its hash verifies and it is at most "
        "this old, and refused (550) otherwise."),
    BOOL("relay", "dkim_ed25519", relay_dkim_ed25519, "no",
         "Sign outbound mail with the domain's Ed25519 DKIM key (RFC 8463) too, beside "
         "the RSA-2048 one (`portico dkim keygen` makes both). Off by default: Debian's "
         "libopendkim 2.11 leaks about 700 bytes per Ed25519 signature (see "
         "docs/DECISIONS.md), and verifiers that do not know Ed25519 need the RSA one "
         "anyway."),
    BOOL(
        "relay", "mta_sts", relay_mta_sts, "yes",
        "Apply the receiving domains' MTA-STS policies (RFC 8461): the `_mta-sts` TXT "
        "record, the policy fetched over verified HTTPS from `mta-sts.DOMAIN` and cached "
        "in `data_dir/queue/mta-sts/`; `enforce` delivers only to listed MX hosts over "
        "verified TLS (else the mail waits), `testing` only logs what would fail."),
    INT("relay", "mta_sts_port", relay_mta_sts_port, 1, 65535, "443",
        "The HTTPS port policies are fetched from (443; tests point it elsewhere)."),
    STR("relay", "ca_file", relay_ca_file, "",
        "PEM trust anchors for verifying next hops (smarthost, `verified` routes, "
        "MTA-STS hosts and policy servers); empty "
        "means the system's."),
};
_Static_assert(sizeof keys / sizeof keys[0] <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");

const struct config_key *config_keys(size_t *n)
{
    *n = sizeof keys / sizeof keys[0];
    return keys;
}

static const char *const service_names[SVC_COUNT] = {
    "smtp", "submission", "pop3", "imap", "ftp", "http", "sftp", "metrics", "proxy",
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
    struct config_errors errs;
    FILE *file;       /* or */
    const char *text; /* the rest of an in-memory text */
    int line;
    int long_line;        /* first line longer than inih's INI_MAX_LINE */
    char bad_section[64]; /* the last unknown section reported */
};

static char *read_file_line(struct parse_ctx *ctx, char *buf, int num)
{
    if (!fgets(buf, num, ctx->file))
        return NULL;
    size_t n = strlen(buf);
    if (n == (size_t)num - 1 && buf[n - 1] != '\n' && !feof(ctx->file)) {
        int c;
        do
            c = fgetc(ctx->file);
        while (c != EOF && c != '\n');
        if (!ctx->long_line)
            ctx->long_line = ctx->line + 1;
    }
    return buf;
}

static char *read_text_line(struct parse_ctx *ctx, char *buf, int num)
{
    if (*ctx->text == '\0')
        return NULL;
    const char *nl = strchr(ctx->text, '\n');
    size_t len = strlen(ctx->text);
    if (nl)
        len = (size_t)(nl - ctx->text) + 1;
    size_t n = len;
    if (n > (size_t)num - 1)
        n = (size_t)num - 1;
    if (n < len && !ctx->long_line)
        ctx->long_line = ctx->line + 1;
    memcpy(buf, ctx->text, n);
    buf[n] = '\0';
    ctx->text += len;
    return buf;
}

static char *read_line(char *buf, int num, void *stream)
{
    struct parse_ctx *ctx = stream;
    char *r;
    if (ctx->file)
        r = read_file_line(ctx, buf, num);
    else
        r = read_text_line(ctx, buf, num);
    if (r)
        ctx->line++;
    return r;
}

void config_errorf(struct config_errors *e, const char *fmt, ...)
{
    e->n++;
    if (e->len + 2 >= e->cap)
        return;
    if (e->len > 0)
        e->buf[e->len++] = '\n';
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(e->buf + e->len, e->cap - e->len, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    e->len += (size_t)m;
    if (e->len >= e->cap)
        e->len = e->cap - 1;
    e->buf[e->len] = '\0';
}

const char *config_name(const struct config *cfg)
{
    if (cfg->path[0])
        return cfg->path;
    return "(default)";
}

static int key_index(const char *section, const char *name)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool section_known(const char *section)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].section, section) == 0)
            return true;
    return false;
}

int config_key_line(const struct config *cfg, const char *section, const char *name)
{
    int i = key_index(section, name);
    if (i < 0)
        return 0;
    return cfg->key_line[i];
}

void config_key_error(struct config_errors *e, const struct config *cfg,
                      const char *section, const char *key, const char *why)
{
    int line = config_key_line(cfg, section, key);
    if (line > 0)
        config_errorf(e, "%s:%d: [%s] %s: %s", config_name(cfg), line, section, key, why);
    else
        config_errorf(e, "%s: [%s] %s: %s", config_name(cfg), section, key, why);
}

void config_print_errors(const char *err)
{
    const char *p = err;
    for (int guard = 0; *p && guard < 1000; guard++) {
        const char *nl = strchr(p, '\n');
        int len = (int)strlen(p);
        if (nl)
            len = (int)(nl - p);
        fprintf(stderr, "portico: %.*s\n", len, p);
        p += len;
        if (*p == '\n')
            p++;
    }
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
    for (char *tok = strtok_r(buf, " \t,", &save); tok;
         tok = strtok_r(NULL, " \t,", &save)) {
        if (out->n == CONFIG_MAX_LISTEN) {
            *why = "too many addresses (at most 8)";
            return -1;
        }
        if (parse_one_addr(tok, &out->addr[out->n]) < 0) {
            *why = "expected ADDR:PORT with a numeric address and a port 1-65535";
            return -1;
        }
        for (int i = 0; i < out->n; i++) {
            if (strcmp(out->addr[i].text, out->addr[out->n].text) == 0) {
                *why = "the same address twice";
                return -1;
            }
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
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int size_shift(char suffix)
{
    switch (suffix | 0x20) {
    case 'k':
        return 10;
    case 'm':
        return 20;
    case 'g':
        return 30;
    default:
        return -1;
    }
}

static int parse_ll(const char *v, long long *out, bool size_suffix)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || errno)
        return -1;
    if (size_suffix && *end) {
        int shift = size_shift(*end);
        if (shift < 0 || n < 0 || n > (LLONG_MAX >> shift))
            return -1;
        end++;
        n <<= shift;
    }
    if (*end)
        return -1;
    *out = n;
    return 0;
}

/* The index of v among the space-separated words of choices, or -1. */
static int choice_index(const char *choices, const char *v)
{
    size_t vlen = strlen(v);
    int i = 0;
    for (const char *p = choices; *p; i++) {
        size_t wlen = strcspn(p, " ");
        if (wlen == vlen && strncasecmp(p, v, vlen) == 0)
            return i;
        p += wlen;
        while (*p == ' ')
            p++;
    }
    return -1;
}

static const char *set_number(char *field, const struct config_key *k, const char *v)
{
    long long n;
    if (parse_ll(v, &n, k->type == K_SIZE) < 0) {
        if (k->type == K_SIZE)
            return "expected a size like 50M";
        return "expected a number";
    }
    if (n < k->min || n > k->max)
        return "value out of range";
    if (k->type == K_INT)
        *(int *)field = (int)n;
    else
        *(uint64_t *)field = (uint64_t)n;
    return NULL;
}

static const char *set_port_range(char *field, const char *v)
{
    int lo, hi, used = 0;
    if (sscanf(v, "%d-%d%n", &lo, &hi, &used) != 2 || v[used] || lo < 1024 ||
        hi > 65535 || lo > hi)
        return "expected a port range LOW-HIGH within 1024-65535";
    ((int *)field)[0] = lo;
    ((int *)field)[1] = hi;
    return NULL;
}

/* A repeated key (`route = ...` once per line) adds to the list. */
static const char *append_value(char *field, size_t size, const char *v)
{
    size_t used = strlen(field), n = strlen(v);
    const char *sep = "";
    if (used > 0)
        sep = ", ";
    if (used + strlen(sep) + n >= size)
        return "value too long (all the lines of this key together)";
    snprintf(field + used, size - used, "%s%s", sep, v);
    return NULL;
}

static const char *set_value(struct config *cfg, const struct config_key *k,
                             const char *v)
{
    char *field = (char *)cfg + k->offset;
    const char *why = NULL;
    int n;
    switch (k->type) {
    case K_STR:
        if (strlen(v) >= k->size)
            return "value too long";
        memcpy(field, v, strlen(v) + 1);
        if (k->check)
            return k->check(field, k->size);
        return NULL;
    case K_INT:
    case K_SIZE:
        return set_number(field, k, v);
    case K_BOOL:
        if (parse_bool(v, (bool *)field) < 0)
            return "expected yes or no";
        return NULL;
    case K_LEVEL:
        n = log_level_parse(v);
        if (n < 0)
            return "expected debug, info, warn or error";
        *(int *)field = n;
        return NULL;
    case K_ENUM:
        n = choice_index(k->choices, v);
        if (n < 0)
            return "not one of the choices";
        *(int *)field = n;
        return NULL;
    case K_NETS:
        if (netlist_parse((struct netlist *)field, v) < 0)
            return "expected addresses or networks like 127.0.0.0/8 ::1 (at most 32)";
        return NULL;
    case K_LISTEN:
        if (config_parse_listen(v, (struct listen_list *)field, &why) < 0)
            return why;
        return NULL;
    case K_PORTRANGE:
        return set_port_range(field, v);
    case K_STRLIST:
        if (k->check) { /* each line on its own, so the error names its line */
            char one[2048];
            if (strlen(v) >= sizeof one)
                return "value too long";
            snprintf(one, sizeof one, "%s", v);
            why = k->check(one, sizeof one);
            if (why)
                return why;
        }
        return append_value(field, k->size, v);
    }
    return "internal: unknown key type";
}

static void key_error(struct parse_ctx *ctx, int line, const char *section,
                      const char *name, const char *why)
{
    config_errorf(&ctx->errs, "%s:%d: [%s] %s: %s", ctx->name, line, section, name, why);
}

/* The line of the other key that sets the same field (log_level, level). */
static int field_set_at(const struct config *cfg, size_t offset)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].offset == offset && cfg->key_line[i])
            return cfg->key_line[i];
    return 0;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    int lineno = ctx->line;
    if (!name) /* a section header alone: checked with its first key */
        return 1;
    int i = key_index(section, name);
    if (i < 0 && !section_known(section)) {
        if (strcmp(ctx->bad_section, section) != 0)
            key_error(ctx, lineno, section, name, "unknown section");
        snprintf(ctx->bad_section, sizeof ctx->bad_section, "%s", section);
        return 1;
    }
    if (i < 0) {
        key_error(ctx, lineno, section, name, "unknown key");
        return 1;
    }
    int before = field_set_at(ctx->cfg, keys[i].offset);
    if (before && keys[i].type != K_STRLIST) {
        char why[64];
        snprintf(why, sizeof why, "already set on line %d", before);
        key_error(ctx, lineno, section, name, why);
        return 1;
    }
    if (!before)
        ctx->cfg->key_line[i] = lineno;
    const char *why = set_value(ctx->cfg, &keys[i], value);
    if (why)
        key_error(ctx, lineno, section, name, why);
    return 1;
}

/* Defaults are the table's own `def` values: set before the file is read. */
static void set_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        set_value(cfg, &keys[i], keys[i].def);
}

/* An error about a key of the whole file, at the line where it was set. */
static void whole_error(struct parse_ctx *ctx, const char *section, const char *name,
                        const char *why)
{
    int line = config_key_line(ctx->cfg, section, name);
    if (line > 0)
        key_error(ctx, line, section, name, why);
    else
        config_errorf(&ctx->errs, "%s: [%s] %s: %s", ctx->name, section, name, why);
}

/* Two listeners on one address would fail at bind; say so here. */
static void check_duplicate_listeners(struct parse_ctx *ctx)
{
    const struct listen_list *lists[2 * SVC_COUNT + 1];
    int idx[2 * SVC_COUNT + 1], n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (keys[i].type != K_LISTEN)
            continue;
        lists[n] = (const struct listen_list *)((const char *)ctx->cfg + keys[i].offset);
        idx[n++] = (int)i;
    }
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            for (int x = 0; x < lists[a]->n; x++)
                for (int y = 0; y < lists[b]->n; y++)
                    if (strcmp(lists[a]->addr[x].text, lists[b]->addr[y].text) == 0) {
                        char why[160];
                        snprintf(why, sizeof why, "%s is also [%s] %s",
                                 lists[b]->addr[y].text, keys[idx[a]].section,
                                 keys[idx[a]].name);
                        whole_error(ctx, keys[idx[b]].section, keys[idx[b]].name, why);
                    }
}

static void check_whole(struct parse_ctx *ctx)
{
    if (ctx->cfg->domains[0] == '\0')
        whole_error(ctx, "portico", "domains", "at least one domain is needed");
    if ((ctx->cfg->tls_cert[0] == '\0') != (ctx->cfg->tls_key[0] == '\0'))
        whole_error(ctx, "tls", ctx->cfg->tls_cert[0] ? "cert" : "key",
                    "cert and key must be set together");
    check_duplicate_listeners(ctx);
}

static int finish(struct parse_ctx *ctx, int rc)
{
    if (ctx->long_line)
        config_errorf(&ctx->errs, "%s:%d: line too long", ctx->name, ctx->long_line);
    if (rc > 0)
        config_errorf(&ctx->errs,
                      "%s:%d: syntax error (expected [section] or key = value)",
                      ctx->name, rc);
    if (rc < 0)
        config_errorf(&ctx->errs, "%s: out of memory", ctx->name);
    check_whole(ctx);
    return ctx->errs.n > 0 ? -1 : 0;
}

static void ctx_init(struct parse_ctx *ctx, struct config *cfg, const char *name,
                     char *err, size_t errlen)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->cfg = cfg;
    ctx->name = name;
    ctx->errs.buf = err;
    ctx->errs.cap = errlen;
    if (errlen > 0)
        err[0] = '\0';
    set_defaults(cfg);
}

int config_load_string(struct config *cfg, const char *name, const char *text, char *err,
                       size_t errlen)
{
    struct parse_ctx ctx;
    ctx_init(&ctx, cfg, name, err, errlen);
    ctx.text = text;
    return finish(&ctx, ini_parse_stream(read_line, &ctx, on_key, &ctx));
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
    if (!path)
        return config_load_string(cfg, "(default)", config_default_text, err, errlen);
    struct parse_ctx ctx;
    ctx_init(&ctx, cfg, path, err, errlen);
    /* With a file, every listener not named in it stays off. */
    struct stat st;
    ctx.file = fopen(path, "re");
    if (!ctx.file || fstat(fileno(ctx.file), &st) < 0 || !S_ISREG(st.st_mode)) {
        const char *why = strerror(errno);
        if (ctx.file)
            why = "not a regular file (give the configuration file, not a directory)";
        config_errorf(&ctx.errs, "%s: cannot read: %s", path, why);
        if (ctx.file)
            fclose(ctx.file);
        return -1;
    }
    snprintf(cfg->path, sizeof cfg->path, "%s", path);
    int rc = ini_parse_stream(read_line, &ctx, on_key, &ctx);
    fclose(ctx.file);
    return finish(&ctx, rc);
}
