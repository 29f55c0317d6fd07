/* limits: every fixed bound on client input, with the RFC section it comes
 * from. Config keys override some of these; the rest are hard limits. */
#pragma once

/* RFC 5321 4.5.3.1.4: command line 512 octets incl. CRLF; we allow extensions'
 * parameters (RFC 1870 SIZE, RFC 4954 AUTH initial response) room to grow. */
#define SMTP_MAX_LINE 4096
/* RFC 5321 4.5.3.1.8: at least 100 recipients must be accepted. */
#define SMTP_MAX_RCPT 100
/* RFC 5321 4.5.3.1.1/2/3: local part 64, domain 255, path 256 octets. RFC 6531
 * (SMTPUTF8) keeps the octet limits. */
#define SMTP_MAX_LOCAL 64
#define SMTP_MAX_DOMAIN 255
#define SMTP_MAX_PATH 256
/* RFC 5321 4.1.1.1: the EHLO/HELO argument is a domain or address literal. */
#define SMTP_MAX_HELO 255
/* RFC 5321 3.3: the mail transaction ends with one reply; bounded to this many
 * MAIL parameters (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8, AUTH). */
#define SMTP_MAX_PARAMS 8
/* Below this much free space a failed spool write is a full disk (RFC 3463
 * 4.3.1), not another error. */
#define SMTP_MIN_FREE (1 << 20)
/* DATA or BDAT as a whole: RFC 5321 4.5.3.2.6's 10 minutes plus the
 * largest message at this rate (bytes/s). */
#define SMTP_DATA_DEADLINE_SEC 600
#define SMTP_DATA_MIN_RATE (64 << 10)
/* Alias chains (alias -> alias -> account) resolve at most this deep;
 * deeper or looping chains are refused (RFC 5321 3.9.1 warns of loops). */
#define ALIAS_MAX_DEPTH 8
/* RFC 1939 3: command line 255 octets, RFC 2449 raises it; SASL needs more. */
#define POP3_MAX_LINE 4096
/* RFC 9051 4: no limit in the RFC; RFC 7162 4 recommends at least 8192. */
#define IMAP_MAX_LINE 65536
/* RFC 959 does not bound a command; paths need PATH_MAX. */
#define FTP_MAX_LINE 4096
/* RFC 959 5.4 lets the server close an idle control connection (421);
 * [ftp] idle_timeout overrides. */
#define FTP_IDLE_TIMEOUT_SEC 300
/* A data connection that neither connects nor moves a byte this long is
 * dropped (425 before it opened, 426 after); [ftp] data_timeout overrides. */
#define FTP_DATA_TIMEOUT_SEC 120
/* Passive listeners one account may hold at once over all its sessions
 * ([ftp] max_passive_per_account), and how long an unused one stays open
 * ([ftp] passive_timeout). One session holds at most one. */
#define FTP_MAX_PASSIVE_PER_ACCOUNT 8
#define FTP_PASSIVE_TIMEOUT_SEC 30
/* RFC 959 does not bound a listing; one LIST is held in memory, so cap it. */
#define FTP_LIST_MAX_ENTRIES 1000000
/* RFC 9112 3: a request line should be accepted up to 8000 octets. */
#define HTTP_MAX_REQUEST_LINE 8192
#define HTTP_MAX_HEADER_BYTES 65536
#define HTTP_MAX_HEADERS 100
/* RFC 9110 8.6: the server chooses the largest body it accepts (413 above). */
#define HTTP_MAX_UPLOAD_BYTES (16ULL << 30) /* a PUT or form upload to /files/ */
#define HTTP_MAX_DISCARD_BODY (64 << 10)    /* a body sent where none is used */
/* RFC 9112 7.1: chunk-size line with extensions, and the trailer section. */
#define HTTP_MAX_CHUNK_LINE 1024
#define HTTP_MAX_TRAILER_BYTES 8192
/* RFC 9110 14.2: a server may refuse many or overlapping ranges. */
#define HTTP_MAX_RANGES 32
/* RFC 7578 4.8: part header fields of a multipart/form-data upload. */
#define HTTP_MAX_PART_HEADER 8192
/* RFC 9112 9.5: an idle persistent connection may be closed at any time. */
#define HTTP_KEEPALIVE_TIMEOUT_SEC 60
/* A request head must be complete this long after its first byte (a
 * slowloris client trickling header bytes is dropped). */
#define HTTP_HEAD_TIMEOUT_SEC 10
/* A request body must average this many bytes/s after the grace period
 * (checked every CHECK seconds), else 408. */
#define HTTP_BODY_MIN_RATE 1024
#define HTTP_BODY_GRACE_SEC 5
#define HTTP_BODY_CHECK_SEC 5
/* After an error that ends a connection, unread input is read and dropped
 * this long, so that a reset does not destroy the answer (RFC 9112 9.6). */
#define HTTP_LINGER_SEC 2
/* A response body streamed in bounded pieces (TLS: no sendfile). */
#define HTTP_STREAM_CHUNK (64 << 10)
/* Files up to this size are copied (or mapped) into the response: the head
 * and body then leave in one write. Larger ones use sendfile. */
#define HTTP_INLINE_FILE (16 << 10)
/* Web root files kept open per loop thread (http/filecache.c). */
#define HTTP_FILECACHE_ENTRIES 64

/* Session-wide bounds shared by every line protocol. */
#define SESSION_MAX_COMMANDS 100000 /* commands in one connection */
#define SESSION_MAX_ERRORS 20       /* bad commands before we hang up */
/* A client that does not read its replies: once this much output is unsent
 * no more commands are read from it (a streamed reply refills at LOW). */
#define SESSION_OUTPUT_HIGH (32 << 10) /* stop reading while this much is unsent */
#define SESSION_OUTPUT_LOW (16 << 10)  /* resume reading below this */
#define CONN_READ_PIECE (256 << 10)    /* one conn_read_bulk readv at most */
/* ...and if it stays above LOW this long without draining, it is closed. */
#define SESSION_OUTPUT_STALL_SEC 60
#define SESSION_CLOSE_GRACE_SEC 5 /* flushing the last reply before close */
#define TLS_ALERT_FLUSH_MAX 1024  /* a failed handshake's alert, sent at once */
/* From connect to a successful login ([portico] login_timeout); OpenSSH's
 * LoginGraceTime is 120. */
#define SESSION_LOGIN_DEADLINE_SEC 120
#define SESSION_STREAM_CHUNK (64 << 10) /* one step of a streamed reply */
#define SESSION_STREAM_MIN (4 << 10)    /* ...at least this much per step */
/* Literals of one command (RFC 9051 4.3 sets no bound; MULTIAPPEND and
 * SEARCH with several strings need a few): how many, and how much of them
 * is held in memory before larger ones go to a spool file. */
#define SESSION_MAX_LITERALS 1024
#define SESSION_LITERAL_MEM (64 << 10)
#define SESSION_COMMAND_MEM (1 << 20)

/* Descriptors and connections (core/fdlimit.c, core/runtime.c). */
#define FDLIMIT_RESERVED 64            /* listeners, log, SQLite, spare */
#define FDLIMIT_MIN_CONNECTIONS 16     /* default max_connections floor */
#define FDLIMIT_MAX_COUNTED (1L << 24) /* an "unlimited" NOFILE counts as this */
#define MAX_CONNECTIONS_DEFAULT_CAP 100000
/* accept() failed with EMFILE/ENFILE: the listener pauses this long, and
 * the event is logged at most once per interval. */
#define ACCEPT_PAUSE_MS 100
#define ACCEPT_ERROR_LOG_SEC 10
/* Freed connection memory is handed back to the system (malloc_trim) this
 * long after a connection closes, once per burst. */
#define MEMORY_TRIM_DELAY_MS 1000

/* PROXY protocol (HAProxy's proxy-protocol.txt): a v1 line is at most 107
 * bytes with CRLF; a v2 header 16 bytes plus addresses and TLVs (we accept
 * 536, the spec's recommended receive size). The header must arrive this
 * soon after accept. */
#define PROXY_V1_MAX 108
#define PROXY_V2_MAX 536
#define PROXY_HEADER_TIMEOUT_SEC 5

/* Login throttling (DESIGN.md "Accounts and authentication"): the defaults
 * of the [auth] throttle_* keys. */
#define AUTH_THROTTLE_FREE_FAILURES 3      /* failures before any delay */
#define AUTH_THROTTLE_MAX_DELAY_MS 15000   /* growing delay caps here */
#define AUTH_THROTTLE_LOCK_FAILURES 10     /* then refuse outright... */
#define AUTH_THROTTLE_LOCK_SEC 300         /* ...for this long */
#define AUTH_THROTTLE_WINDOW_SEC 900       /* failures older than this are forgotten */
#define AUTH_THROTTLE_MAX_LOCK_FAILURES 20 /* the most throttle_lock_failures may be */
#define AUTH_MAX_PASSWORD 1024
#define AUTH_MAX_USERNAME 320 /* RFC 5321 4.5.3.1.1/2: 64 + 1 + 255 */

/* Mail store (DESIGN.md "Storage"). */
#define MAIL_MAX_FOLDER 255   /* a folder name in bytes, Maildir++ ".A.B" form */
#define MAIL_MAX_FILENAME 255 /* NAME_MAX: a Maildir file name with ",S=,W=:2," */

/* Maildir tmp/ files older than this are a crashed delivery's (maildir(5)
 * convention: 36 hours); removed at start. */
#define STORE_MAILDIR_TMP_MAX_AGE_SEC (36 * 3600)

/* Storage sandbox. */
#define STORE_MAX_PATH 4096 /* a client path, after joining to the cwd */

/* IMAP command syntax (src/imap/parse.c and friends). RFC 9051 sets none
 * of these; each bounds the work one command can ask for. */
/* RFC 9051 9: parenthesised lists nest without limit in the grammar
 * (search-key, body sections); deeper than this is refused. */
#define IMAP_MAX_LIST_DEPTH 32
/* RFC 9051 9 sequence-set: comma-separated ranges; a 64 KiB line holds at
 * most ~16K of them ("1,3,5,..."). */
#define IMAP_MAX_SEQ_RANGES 16384
/* RFC 9051 9 search-key: nodes (keys, AND, OR, NOT) in one program. */
#define IMAP_MAX_SEARCH_NODES 1024
/* RFC 9051 9 fetch-att: attributes in one FETCH, and header names in all
 * its HEADER.FIELDS lists together. */
#define IMAP_MAX_FETCH_ATTS 64
#define IMAP_MAX_HEADER_FIELDS 256
/* RFC 9051 9 section-part: nz-number *("." nz-number). */
#define IMAP_MAX_SECTION_DEPTH 16
/* RFC 9051 2.3.2: keywords in one STORE or APPEND flag list. */
#define IMAP_MAX_FLAG_KEYWORDS 64
/* RFC 5256 3: SORT keys in one criteria list (each may carry REVERSE). */
#define IMAP_MAX_SORT_KEYS 16
/* RFC 5258 3: patterns in one LIST. */
#define IMAP_MAX_LIST_PATTERNS 32
/* RFC 9051 9 atom and astring: the longest keyword or header name kept. */
#define IMAP_MAX_ATOM 1024
/* RFC 9051 9 search-key: NOT and OR nest without parentheses; the depth
 * of NOT, OR and "(" together is bounded. */
#define IMAP_MAX_SEARCH_DEPTH 64
/* The longest mailbox name a LIST pattern is matched against (UTF-8). */
#define IMAP_PATTERN_MAX_NAME 1024

/* SFTP (draft-ietf-secsh-filexfer-02, OpenSSH's PROTOCOL file). */
/* RFC 4253 6.1: every implementation handles packets of 35000 bytes; an
 * SFTP packet (length field) over 34000 is refused and the session closed,
 * as OpenSSH's clients never send one (they write 32 KiB at a time). */
#define SFTP_MAX_PACKET 34000
/* Bytes of file data in one READ reply or WRITE request (OpenSSH's
 * DEFAULT_COPY_BUFLEN); limits@openssh.com announces both figures. */
#define SFTP_MAX_DATA 32768
/* Open file and directory handles per session (OpenSSH sftp-server: 512
 * by default); one more OPEN gets SSH_FX_FAILURE. */
#define SFTP_MAX_HANDLES 256
/* Names in one READDIR reply (draft-02 6.7: "one or more names"). */
#define SFTP_READDIR_BATCH 128
/* [sftp] idle_timeout: no request begun or finished this long closes the
 * session (also a client that stopped reading our replies). */
#define SFTP_IDLE_TIMEOUT_SEC 300
/* [sftp] login_timeout: key exchange and authentication (OpenSSH's
 * LoginGraceTime is 120). */
#define SFTP_LOGIN_TIMEOUT_SEC 60
/* [sftp] max_sessions / max_sessions_per_ip: a session is a thread. */
#define SFTP_MAX_SESSIONS 1000
#define SFTP_MAX_SESSIONS_PER_IP 32
/* Authentication attempts per SSH connection (OpenSSH MaxAuthTries 6). */
#define SFTP_MAX_AUTH_TRIES 6
/* Stack of a session thread: libssh, OpenSSL and one request need far
 * less; only the touched pages cost memory. */
#define SFTP_THREAD_STACK (256u << 10)
/* A public key line in `portico user key add` (OpenSSH authorized_keys;
 * an RSA-16384 key is about 2.8 KB in base64). */
#define AUTH_MAX_KEY_LINE 8192
