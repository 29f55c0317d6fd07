/* Fuzzes the INI configuration parser (core/config.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    static struct config cfg;
    char err[512];
    if (config_load_string(&cfg, "fuzz.ini", text, err, sizeof err) < 0 && !err[0])
        abort(); /* every failure must say why */
    free(text);
    return 0;
}
