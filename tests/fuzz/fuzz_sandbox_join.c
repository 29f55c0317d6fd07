/* Fuzzes the lexical path normaliser (store/sandbox.c sandbox_join): every
 * accepted result is absolute, clean, and has no ".." component. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[4200];
    const char *path = (const char *)data;
    if (sandbox_join("/a/b", path, size, out, sizeof out) < 0)
        return 0;
    if (out[0] != '/' || strstr(out, "//") || strstr(out, "/../") ||
        (strlen(out) >= 3 && strcmp(out + strlen(out) - 3, "/..") == 0) ||
        strcmp(out, "/..") == 0 || strstr(out, "/./"))
        abort();
    return 0;
}
