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

int cli_run_verb(const struct config *cfg, const struct cli_verb *verbs, size_t nverbs,
                 int argc, char **argv, int (*usage)(void))
{
    const struct cli_verb *v = NULL;
    for (size_t i = 0; argc > 0 && i < nverbs; i++)
        if (strcmp(argv[0], verbs[i].name) == 0)
            v = &verbs[i];
    if (v == NULL || argc - 1 != v->nargs)
        return usage();
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-') /* these verbs take no options */
            return usage();
    struct authdb *db = cli_authdb_open(cfg, v->cmd);
    if (db == NULL)
        return 1;
    int rc = v->run(db, argv + 1);
    authdb_close(db);
    return rc;
}
