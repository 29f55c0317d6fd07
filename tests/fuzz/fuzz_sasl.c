/* Fuzzes SASL PLAIN and base64 decoding (auth/sasl.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char user[330], pass[1030], raw[2048];
    if (sasl_plain_decode(text, user, sizeof user, pass, sizeof pass) == 0 &&
        (strlen(user) >= sizeof user || strlen(pass) >= sizeof pass))
        abort();
    long n = sasl_base64_decode(text, raw, sizeof raw);
    if (n >= (long)sizeof raw)
        abort();
    free(text);
    return 0;
}
