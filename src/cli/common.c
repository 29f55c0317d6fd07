/* cli common: what the account subcommands share: the one-line error
 * format, opening the account store, and checking stdout was written. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/accounts.h"

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "portico: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

struct authdb *cli_authdb_open(const struct config *cfg, const char *cmd)
{
    char err[512];
    if (mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST) {
        cli_fail(cmd, "cannot create %s: %s", cfg->data_dir, strerror(errno));
        return NULL;
    }
    struct authdb *db = authdb_open(cfg->data_dir, err, sizeof err);
    if (db == NULL)
        cli_fail(cmd, "%s", err);
    return db;
}

int cli_flush(const char *cmd)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail(cmd, "cannot write output: %s", strerror(errno));
    return 0;
}

