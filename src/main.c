/* main: `portico [-c FILE] COMMAND ...`: loads the configuration, then runs
 * one subcommand. -c may stand anywhere; it is taken out before dispatch.
 * `help`, `--help` and `--version` need no configuration. */
#include "cli/cli.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

struct subcommand {
    const char *name;
    int (*run)(const struct config *cfg, int argc, char **argv);
};

static const struct subcommand subcommands[] = {
    {"serve", cli_serve},         {"check-config", cli_check_config},
    {"user", cli_user},           {"domain", cli_domain},
    {"alias", cli_alias},         {"queue", cli_queue},
    {"dkim", cli_dkim},           {"dns", cli_dns},
    {"dns-query", cli_dns_query}, /* hidden: tests and debugging */
    {"cache", cli_cache},
};

/* Removes "-c FILE" / "--config FILE" from argv; returns the new argc, or
 * -1 when -c has no FILE. */
static int take_config_option(int argc, char **argv, const char **path)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc)
                return -1;
            *path = argv[++i];
            continue;
        }
        argv[out++] = argv[i];
    }
    return out;
}

static int run_subcommand(const struct subcommand *sc, const char *path, int argc,
                          char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(cli_usage_text(sc->name), stdout);
        return 0;
    }
    static struct config cfg;
    static char err[8192];
    if (config_load(&cfg, path, err, sizeof err) < 0) {
        config_print_errors(err);
        return 1;
    }
    return sc->run(&cfg, argc, argv);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    /* Before any database opens: no allocation statistics, which take a
     * process-wide mutex around every SQLite malloc and free (a few per
     * cent of a cold SELECT's 10,000 inserts); nothing reads them. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    argc = take_config_option(argc, argv, &path);
    if (argc < 2)
        return cli_overview(stderr);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("portico %s\n", PORTICO_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return cli_overview(stdout);
    if (strcmp(cmd, "help") == 0)
        return cli_help(argc - 2, argv + 2);
    if (strcmp(cmd, "config-reference") == 0)
        return cli_config_reference(argc - 2, argv + 2);
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(cmd, subcommands[i].name) == 0)
            return run_subcommand(&subcommands[i], path, argc - 2, argv + 2);
    fprintf(stderr, "portico: unknown command '%s'\n", cmd);
    return cli_overview(stderr);
}
