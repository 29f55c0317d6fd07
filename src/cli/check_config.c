/* check_config: `portico check-config`: the file parsed (main did that);
 * here the things a start would trip over: certificate files readable. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_check_config(const struct config *cfg, int argc, char **argv)
{
    const char *name = cfg->path[0] ? cfg->path : "(default)";
    const char *files[] = {cfg->tls_cert, cfg->tls_key};
    const char *keys[] = {"cert", "key"};
    const int lines[] = {cfg->tls_cert_line, cfg->tls_key_line};
    for (int i = 0; i < 2; i++) {
        if (files[i][0] && access(files[i], R_OK) < 0) {
            fprintf(stderr, "portico: %s:%d: [tls] %s: cannot read %s: %s\n", name, lines[i],
                    keys[i], files[i], strerror(errno));
            return 1;
        }
    }
    printf("%s: ok\n", name);
    return 0;
}
