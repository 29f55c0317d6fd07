/* config_check: the value checks the key table names in its rows. */
#include "core/config_check.h"

#include "core/idna.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

const char *config_check_hostname(char *field, size_t size)
{
    char ascii[256];
    if (idna_to_ascii(field, ascii, sizeof ascii) < 0)
        return "not a valid host name (letters, digits, '-' and '.' only, or an IDN)";
    if (strlen(ascii) >= size)
        return "value too long";
    snprintf(field, size, "%s", ascii);
    return NULL;
}

/* Each domain to its A-label; the list is rebuilt space-separated. */
const char *config_check_domains(char *field, size_t size)
{
    char in[1024], out[1024] = "", *save = NULL;
    if (strlen(field) >= sizeof in)
        return "value too long";
    snprintf(in, sizeof in, "%s", field);
    size_t len = 0;
    for (char *d = strtok_r(in, " ,\t", &save); d; d = strtok_r(NULL, " ,\t", &save)) {
        char ascii[256];
        if (idna_to_ascii(d, ascii, sizeof ascii) < 0)
            return "not a valid domain name (letters, digits, '-' and '.' only, or an "
                   "IDN)";
        const char *sep = "";
        if (len > 0)
            sep = " ";
        int m = snprintf(out + len, sizeof out - len, "%s%s", sep, ascii);
        if (m < 0 || (size_t)m >= sizeof out - len)
            return "value too long";
        len += (size_t)m;
    }
    if (len >= size)
        return "value too long";
    snprintf(field, size, "%s", out);
    return NULL;
}

/* PASV (RFC 959 4.1.2) announces an IPv4 address; EPSV needs none. */
const char *config_check_ipv4(char *field, size_t size)
{
    struct in_addr a;
    if (field[0] == '\0' || inet_pton(AF_INET, field, &a) == 1)
        return NULL;
    return "expected a numeric IPv4 address";
}
