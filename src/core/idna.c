/* idna: A-label / U-label conversion through libidn2 and the LDH syntax
 * check of a host name (RFC 1123 2.1, RFC 5890). */
#include "core/idna.h"

#include <ctype.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool idna_is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* RFC 1123 2.1: letters, digits and hyphens, no hyphen at either end. */
static bool label_ok(const char *p, size_t len)
{
    if (len == 0 || len > 63 || p[0] == '-' || p[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '-')
            return false;
    return true;
}

static bool ldh_name_ok(const char *name)
{
    size_t total = strlen(name);
    if (total == 0 || total > 253)
        return false;
    for (const char *p = name; *p;) {
        size_t len = strcspn(p, ".");
        if (!label_ok(p, len))
            return false;
        p += len;
        if (*p == '.' && *++p == '\0')
            return false;
    }
    return true;
}

int idna_to_ascii(const char *name, char *out, size_t outlen)
{
    char *conv = NULL;
    const char *ascii = name;
    if (!idna_is_ascii(name)) {
        if (idn2_to_ascii_8z(name, &conv, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) !=
            IDN2_OK)
            return -1;
        ascii = conv;
    }
    int rc = -1;
    if (ldh_name_ok(ascii) && strlen(ascii) < outlen) {
        size_t i = 0;
        for (; ascii[i]; i++)
            out[i] = (char)tolower((unsigned char)ascii[i]);
        out[i] = '\0';
        rc = 0;
    }
    idn2_free(conv);
    return rc;
}

void idna_to_unicode(const char *name, char *out, size_t outlen)
{
    char *conv = NULL;
    if (strstr(name, "xn--") && idn2_to_unicode_8z8z(name, &conv, 0) == IDN2_OK &&
        strlen(conv) < outlen) {
        snprintf(out, outlen, "%s", conv);
    } else {
        snprintf(out, outlen, "%s", name);
    }
    idn2_free(conv);
}

int idna_address_to_ascii(const char *address, char *out, size_t outlen)
{
    const char *at = strrchr(address, '@');
    if (!at) {
        snprintf(out, outlen, "%s", address);
        return 0;
    }
    size_t local = (size_t)(at - address) + 1;
    if (local >= outlen)
        return -1;
    memcpy(out, address, local);
    return idna_to_ascii(at + 1, out + local, outlen - local);
}
