/* params: MIME parameter lists (RFC 2045 5.1 "; name=value") for
 * BODYSTRUCTURE. The plain case (tokens and quoted strings, ASCII) is
 * read here without GMime; anything else (RFC 2231 "name*", encoded
 * words, comments, 8-bit) is GMime's to decode. Part of portico-mime.so. */
#pragma once
#include <stddef.h>

#define MIME_MAX_PARAMS 64

struct mime_params {
    size_t n;
    char *name[MIME_MAX_PARAMS], *value[MIME_MAX_PARAMS];
};

/* Parameters of a Content-Type (disposition false) or Content-Disposition
 * value; *type gets the disposition type (malloc'd) when asked. 0, or -1
 * when out of memory. */
int mime_params_read(const char *header_value, struct mime_params *out, char **type);
void mime_params_release(struct mime_params *p);
