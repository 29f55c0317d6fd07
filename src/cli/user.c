/* cli user: `portico user add|passwd|del|list`, with the password read from
 * stdin (--password-stdin) or from the terminal with echo off. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "cli/user_data.h"
#include "core/idna.h"
#include "core/limits.h"

#define PASSWORD_BUF (AUTH_MAX_PASSWORD + 2) /* room for a '\r' and the NUL */

enum { ARG_ADDRESS = 1, ARG_STDIN = 2, ARG_HASH = 4, ARG_KEEP = 8 };

struct user_args {
    const struct config *cfg;
    const char *address; /* the domain as an A-label (in ascii) */
    char ascii[AUTH_ADDRESS_MAX + 64];
    const char *hash;
    bool from_stdin;
    bool keep_data;
};

struct user_verb {
    const char *name;
    const char *cmd; /* for messages: "user add" */
    int args;        /* ARG_* accepted */
    int (*run)(struct authdb *db, const struct user_args *ua);
};

/* ---- reading a password ---- */

static int why_fail(const char **why, const char *msg)
{
    *why = msg;
    return -1;
}

/* Reads one line from fd (the newline and a '\r' before it are dropped).
 * Returns 0, or -1 with why set. */
static int read_password_line(int fd, char *buf, size_t cap, const char **why)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return why_fail(why, "cannot read the password");
        if (r == 0 || c == '\n')
            break;
        if (c == '\0')
            return why_fail(why, "password holds a NUL byte");
        if (n + 1 >= cap)
            return why_fail(why, "password too long");
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (n == 0)
        return why_fail(why, "empty password");
    if (n > AUTH_MAX_PASSWORD)
        return why_fail(why, "password too long");
    return 0;
}

static int tty_write(int fd, const char *s)
{
    size_t len = strlen(s);
    return write(fd, s, len) == (ssize_t)len ? 0 : -1;
}

/* Prompts on the terminal and reads a line with echo turned off. */
static int tty_prompt(int fd, const struct termios *saved, const char *prompt, char *buf,
                      size_t cap, const char **why)
{
    struct termios quiet = *saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ICANON;
    if (tty_write(fd, prompt) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) < 0)
        return why_fail(why, "cannot use the terminal");
    int rc = read_password_line(fd, buf, cap, why);
    tcsetattr(fd, TCSAFLUSH, saved);
    if (tty_write(fd, "\n") < 0 && rc == 0)
        return why_fail(why, "cannot use the terminal");
    return rc;
}

/* "Password: " and "Repeat password: " on /dev/tty; both must match. */
static int tty_password(char *buf, size_t cap, const char **why)
{
    char again[PASSWORD_BUF];
    struct termios saved;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return why_fail(why,
                        "no terminal to read the password from (use --password-stdin)");
    int rc = -1;
    if (tcgetattr(fd, &saved) < 0)
        *why = "no terminal to read the password from (use --password-stdin)";
    else if (tty_prompt(fd, &saved, "Password: ", buf, cap, why) == 0 &&
             tty_prompt(fd, &saved, "Repeat password: ", again, sizeof again, why) == 0)
        rc = strcmp(buf, again) == 0 ? 0 : why_fail(why, "passwords do not match");
    explicit_bzero(again, sizeof again);
    close(fd);
    return rc;
}

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int get_password(const struct user_args *ua, char *buf, size_t cap,
                        const char *cmd)
{
    const char *why = "cannot read the password";
    char shortmsg[160];
    int rc;
    if (ua->from_stdin)
        rc = read_password_line(STDIN_FILENO, buf, cap, &why);
    else
        rc = tty_password(buf, cap, &why);
    if (rc == 0 && utf8_chars(buf) < (size_t)ua->cfg->min_password_length) {
        snprintf(
            shortmsg, sizeof shortmsg,
            "password too short: at least %d characters ([auth] min_password_length)",
            ua->cfg->min_password_length);
        why = shortmsg;
        rc = -1;
    }
    if (rc < 0) {
        explicit_bzero(buf, cap);
        cli_fail(cmd, "%s", why);
        return -1;
    }
    return 0;
}

/* ---- the verbs ---- */

/* The canonical address for input (bare local resolved), or input itself. */
static const char *canonical(struct authdb *db, const char *input, struct account *a)
{
    return authdb_user_find(db, input, a) == AUTH_OK ? a->address : input;
}

/* An address as people read it: the domain as its U-label. */
static const char *shown(const char *address, char *buf, size_t len)
{
    const char *at = strrchr(address, '@');
    char domain[256];
    if (!at)
        return address;
    idna_to_unicode(at + 1, domain, sizeof domain);
    snprintf(buf, len, "%.*s@%s", (int)(at - address), address, domain);
    return buf;
}

static int user_add(struct authdb *db, const struct user_args *ua)
{
    char err[512], pw[PASSWORD_BUF];
    struct account a;
    if (authdb_user_find(db, ua->address, &a) == AUTH_OK)
        return cli_fail("user add", "user exists: %s", a.address);
    int rc;
    if (ua->hash != NULL) {
        rc = authdb_user_add_hash(db, ua->address, ua->hash, err, sizeof err);
    } else {
        if (get_password(ua, pw, sizeof pw, "user add") < 0)
            return 1;
        rc = authdb_user_add(db, ua->address, pw, err, sizeof err);
        explicit_bzero(pw, sizeof pw);
    }
    if (rc < 0)
        return cli_fail("user add", "%s", err);
    char buf[AUTH_ADDRESS_MAX + 64];
    printf("added %s\n", shown(canonical(db, ua->address, &a), buf, sizeof buf));
    return cli_flush("user add");
}

static int user_passwd(struct authdb *db, const struct user_args *ua)
{
    char err[512], pw[PASSWORD_BUF];
    struct account a;
    if (authdb_user_find(db, ua->address, &a) != AUTH_OK)
        return cli_fail("user passwd", "no such user: %s", ua->address);
    if (get_password(ua, pw, sizeof pw, "user passwd") < 0)
        return 1;
    int rc = authdb_user_passwd(db, a.address, pw, err, sizeof err);
    explicit_bzero(pw, sizeof pw);
    if (rc < 0)
        return cli_fail("user passwd", "%s", err);
    printf("changed password of %s\n", a.address);
    return cli_flush("user passwd");
}

static int user_del(struct authdb *db, const struct user_args *ua)
{
    char err[512], moved[PATH_MAX + 64], buf[AUTH_ADDRESS_MAX + 64];
    struct account a;
    if (authdb_user_find(db, ua->address, &a) != AUTH_OK)
        return cli_fail("user del", "no such user: %s", ua->address);
    if (authdb_user_del(db, a.address, err, sizeof err) < 0)
        return cli_fail("user del", "%s", err);
    if (user_data_remove(ua->cfg->data_dir, a.domain, a.local, ua->keep_data, moved,
                         sizeof moved, err, sizeof err) < 0)
        return cli_fail("user del", "deleted %s, but %s", a.address, err);
    if (moved[0])
        printf("deleted %s (mail and files kept in %s)\n",
               shown(a.address, buf, sizeof buf), moved);
    else
        printf("deleted %s and its mail and files\n", shown(a.address, buf, sizeof buf));
    return cli_flush("user del");
}

static void print_address(void *arg, const char *s)
{
    char buf[AUTH_ADDRESS_MAX + 64];
    fprintf(arg, "%s\n", shown(s, buf, sizeof buf));
}

static int user_list(struct authdb *db, const struct user_args *ua)
{
    if (authdb_user_list(db, print_address, stdout) < 0)
        return cli_fail("user list", "cannot read the accounts");
    return cli_flush("user list");
}

static const struct user_verb user_verbs[] = {
    {"add", "user add", ARG_ADDRESS | ARG_STDIN | ARG_HASH, user_add},
    {"passwd", "user passwd", ARG_ADDRESS | ARG_STDIN, user_passwd},
    {"del", "user del", ARG_ADDRESS | ARG_KEEP, user_del},
    {"list", "user list", 0, user_list},
};

static int user_usage(void)
{
    return cli_usage_error("user");
}

/* Parses the arguments after the verb against what the verb accepts. */
static int user_args_parse(int argc, char **argv, int accepts, struct user_args *ua)
{
    for (int i = 1; i < argc; i++) {
        if ((accepts & ARG_STDIN) && strcmp(argv[i], "--password-stdin") == 0)
            ua->from_stdin = true;
        else if ((accepts & ARG_HASH) && strcmp(argv[i], "--hash") == 0 && i + 1 < argc)
            ua->hash = argv[++i];
        else if ((accepts & ARG_KEEP) && strcmp(argv[i], "--keep-data") == 0)
            ua->keep_data = true;
        else if (argv[i][0] == '-' || !(accepts & ARG_ADDRESS) || ua->address != NULL)
            return -1;
        else
            ua->address = argv[i];
    }
    if ((accepts & ARG_ADDRESS) && ua->address == NULL)
        return -1;
    /* u@bücher.example is u@xn--bcher-kva.example; a domain that is no
     * valid name stays as written, for the store to refuse with its reason. */
    if (ua->address &&
        idna_address_to_ascii(ua->address, ua->ascii, sizeof ua->ascii) == 0)
        ua->address = ua->ascii;
    return (ua->hash != NULL && ua->from_stdin) ? -1 : 0;
}

int cli_user(const struct config *cfg, int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "key") == 0)
        return cli_user_key(cfg, argc - 1, argv + 1);
    const struct user_verb *v = NULL;
    for (size_t i = 0; argc > 0 && i < sizeof user_verbs / sizeof *user_verbs; i++)
        if (strcmp(argv[0], user_verbs[i].name) == 0)
            v = &user_verbs[i];
    static struct user_args ua;
    memset(&ua, 0, sizeof ua);
    ua.cfg = cfg;
    if (v == NULL || user_args_parse(argc, argv, v->args, &ua) < 0)
        return user_usage();
    struct authdb *db = cli_authdb_open(cfg, v->cmd);
    if (db == NULL)
        return 1;
    int rc = v->run(db, &ua);
    authdb_close(db);
    return rc;
}
