/* check_config: `portico check-config`: main already parsed the file; this
 * runs every check serve runs before it binds (cli/preflight.c) and prints
 * every error, or "FILE: ok". */
#include "cli/cli.h"
#include "cli/preflight.h"

#include <stdio.h>

int cli_check_config(const struct config *cfg, int argc, char **argv)
{
    if (argc > 0)
        return cli_usage_error("check-config");
    char err[8192];
    struct config_errors e = {err, sizeof err, 0, 0};
    err[0] = '\0';
    if (preflight(cfg, &e) > 0) {
        config_print_errors(err);
        return 1;
    }
    printf("%s: ok\n", config_name(cfg));
    return 0;
}
