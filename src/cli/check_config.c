/* check_config: `portico check-config`: main already parsed the file; this
 * adds the checks a start would trip over (config_check_files). */
#include "cli/cli.h"

#include <stdio.h>

int cli_check_config(const struct config *cfg, int argc, char **argv)
{
    char err[1024];
    if (config_check_files(cfg, err, sizeof err) < 0) {
        fprintf(stderr, "portico: %s\n", err);
        return 1;
    }
    printf("%s: ok\n", cfg->path[0] ? cfg->path : "(default)");
    return 0;
}
