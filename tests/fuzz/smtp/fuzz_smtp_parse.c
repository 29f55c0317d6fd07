/* fuzz_smtp_parse: MAIL/RCPT argument and path parsing (quoted local parts,
 * UTF-8, parameters) and BDAT arguments on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *line = malloc(size + 1);
    memcpy(line, data, size);
    line[size] = '\0';
    struct smtp_args a;
    char *copy = strdup(line);
    smtp_parse_mail_rcpt(line, "FROM", size & 1, &a);
    smtp_parse_mail_rcpt(copy, "TO", true, &a);
    struct smtp_addr addr;
    smtp_parse_path((const char *)data, size, true, &addr);
    unsigned long long n;
    bool last;
    smtp_parse_bdat(copy, &n, &last);
    free(copy);
    free(line);
    return 0;
}
