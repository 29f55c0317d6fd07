/* config_doc: docs/CONFIG.md, the sample portico.conf and portico.conf(5),
 * all written from the one key table (config.c), so they cannot drift. */
#pragma once
#include <stdio.h>

enum config_doc_format { CONFIG_DOC_MARKDOWN, CONFIG_DOC_SAMPLE, CONFIG_DOC_MAN };

/* Writes the whole document to f. Returns 0, or -1 on a write error. */
int config_doc_write(FILE *f, enum config_doc_format format);
