/* cli user: `portico user add|passwd|del|list`, with the password read from
 * stdin (--password-stdin) or from the terminal with echo off. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "core/limits.h"

#define PASSWORD_BUF (AUTH_MAX_PASSWORD + 2) /* room for a '\r' and the NUL */

enum { ARG_ADDRESS = 1, ARG_STDIN = 2, ARG_HASH = 4 };

struct user_args {
    const char *address;
    const char *hash;
    bool from_stdin;
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

static int get_password(const struct user_args *ua, char *buf, size_t cap,
                        const char *cmd)
{
    const char *why = "cannot read the password";
    int rc = ua->from_stdin ? read_password_line(STDIN_FILENO, buf, cap, &why)
                            : tty_password(buf, cap, &why);
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
    printf("added %s\n", canonical(db, ua->address, &a));
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
    char err[512];
    struct account a;
    const char *address = canonical(db, ua->address, &a);
    if (authdb_user_del(db, ua->address, err, sizeof err) < 0)
        return cli_fail("user del", "%s", err);
    printf("deleted %s\n", address);
    return cli_flush("user del");
}

static void print_line(void *arg, const char *s)
{
    fprintf(arg, "%s\n", s);
}

static int user_list(struct authdb *db, const struct user_args *ua)
{
    if (authdb_user_list(db, print_line, stdout) < 0)
        return cli_fail("user list", "cannot read the accounts");
    return cli_flush("user list");
}

static const struct user_verb user_verbs[] = {
    {"add", "user add", ARG_ADDRESS | ARG_STDIN | ARG_HASH, user_add},
    {"passwd", "user passwd", ARG_ADDRESS | ARG_STDIN, user_passwd},
    {"del", "user del", ARG_ADDRESS, user_del},
    {"list", "user list", 0, user_list},
};

static int user_usage(void)
{
    fprintf(stderr, "usage: portico user add ADDRESS [--password-stdin | --hash HASH]\n"
                    "       portico user passwd ADDRESS [--password-stdin]\n"
                    "       portico user del ADDRESS\n"
                    "       portico user list\n"
                    "       portico user key add|list|del ADDRESS ... (SSH keys)\n");
    return 2;
}

/* Parses the arguments after the verb against what the verb accepts. */
static int user_args_parse(int argc, char **argv, int accepts, struct user_args *ua)
{
    for (int i = 1; i < argc; i++) {
        if ((accepts & ARG_STDIN) && strcmp(argv[i], "--password-stdin") == 0)
            ua->from_stdin = true;
        else if ((accepts & ARG_HASH) && strcmp(argv[i], "--hash") == 0 && i + 1 < argc)
            ua->hash = argv[++i];
        else if (argv[i][0] == '-' || !(accepts & ARG_ADDRESS) || ua->address != NULL)
            return -1;
        else
            ua->address = argv[i];
    }
    if ((accepts & ARG_ADDRESS) && ua->address == NULL)
        return -1;
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
    struct user_args ua = {0};
    if (v == NULL || user_args_parse(argc, argv, v->args, &ua) < 0)
        return user_usage();
    struct authdb *db = cli_authdb_open(cfg, v->cmd);
    if (db == NULL)
        return 1;
    int rc = v->run(db, &ua);
    authdb_close(db);
    return rc;
}
