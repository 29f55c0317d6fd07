/* reference: the hidden `portico config-reference [markdown|sample|man]`,
 * which prints docs/CONFIG.md, the sample portico.conf or portico.conf(5)
 * from the key table (`make docs` writes them; a test compares). */
#include "cli/cli.h"

#include "core/config_doc.h"

#include <stdio.h>
#include <string.h>

int cli_config_reference(int argc, char **argv)
{
    static const char *const names[] = {"markdown", "sample", "man"};
    static const enum config_doc_format formats[] = {CONFIG_DOC_MARKDOWN,
                                                     CONFIG_DOC_SAMPLE, CONFIG_DOC_MAN};
    if (argc != 1) {
        fputs("usage: portico config-reference markdown|sample|man\n", stderr);
        return 2;
    }
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(argv[0], names[i]) != 0)
            continue;
        if (config_doc_write(stdout, formats[i]) < 0)
            return cli_fail("config-reference", "cannot write output");
        return 0;
    }
    fputs("usage: portico config-reference markdown|sample|man\n", stderr);
    return 2;
}
