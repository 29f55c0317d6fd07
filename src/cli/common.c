/* cli common: what the account subcommands share: the one-line error
 * format, opening the account store, and checking stdout was written. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/accounts.h"
#include "cli/preflight.h"

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

int cli_add_config_domains(struct authdb *db, const struct config *cfg, char *err,
                           size_t errlen)
{
    char domains[sizeof cfg->domains], *save = NULL;
    snprintf(domains, sizeof domains, "%s", cfg->domains);
    for (char *d = strtok_r(domains, " ,\t", &save); d;
         d = strtok_r(NULL, " ,\t", &save)) {
        char why[256];
        if (authdb_domain_is_local(db, d) == 0 &&
            authdb_domain_add(db, d, why, sizeof why) < 0) {
            snprintf(err, errlen, "[portico] domains: %s", why);
            return -1;
        }
    }
    return 0;
}

/* Refuses a data directory that would be a system directory. */
static int data_dir_ok(const struct config *cfg)
{
    char buf[2048];
    struct config_errors e = {buf, sizeof buf, 0, 0};
    buf[0] = '\0';
    if (preflight_data_dir(cfg, &e) == 0)
        return 0;
    config_print_errors(buf);
    return -1;
}

struct authdb *cli_authdb_open(const struct config *cfg, const char *cmd)
{
    char err[512];
    if (data_dir_ok(cfg) < 0)
        return NULL;
    if (mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST) {
        cli_fail(cmd, "cannot create %s: %s", cfg->data_dir, strerror(errno));
        return NULL;
    }
    struct authdb *db = authdb_open(cfg->data_dir, err, sizeof err);
    if (db == NULL) {
        cli_fail(cmd, "%s", err);
        return NULL;
    }
    /* The configured domains count before the first serve too. */
    if (cli_add_config_domains(db, cfg, err, sizeof err) < 0) {
        cli_fail(cmd, "%s", err);
        authdb_close(db);
        return NULL;
    }
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
