/* main: `portico [-c FILE] COMMAND ...`: loads the configuration, then runs
 * one subcommand. -c may stand anywhere; it is taken out before dispatch. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

struct subcommand {
    const char *name;
    int (*run)(const struct config *cfg, int argc, char **argv);
};

static const struct subcommand subcommands[] = {
    {"serve", cli_serve},   {"check-config", cli_check_config},
    {"user", cli_user},     {"domain", cli_domain},
    {"alias", cli_alias},
};

static int usage(FILE *f)
{
    fprintf(f, "usage: portico [-c FILE] COMMAND [ARGS]\n"
               "commands:\n"
               "  serve                      run the server\n"
               "  check-config               validate the configuration\n"
               "  user add|passwd|del|list   manage accounts\n"
               "  domain add|del|list        manage local domains\n"
               "  alias add|del|list         manage aliases\n"
               "  --version                  print the version\n");
    return f == stdout ? 0 : 2;
}

/* Removes "-c FILE" / "--config FILE" from argv; returns the new argc. */
static int take_config_option(int argc, char **argv, const char **path)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            *path = argv[++i];
            continue;
        }
        argv[out++] = argv[i];
    }
    return out;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    argc = take_config_option(argc, argv, &path);
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "--version") == 0) {
        printf("portico %s\n", PORTICO_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return usage(stdout);
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
        if (strcmp(argv[1], subcommands[i].name) != 0)
            continue;
        static struct config cfg;
        char err[1024];
        if (config_load(&cfg, path, err, sizeof err) < 0) {
            fprintf(stderr, "portico: %s\n", err);
            return 1;
        }
        return subcommands[i].run(&cfg, argc - 2, argv + 2);
    }
    fprintf(stderr, "portico: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
