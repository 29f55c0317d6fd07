/* idna: international domain names (IDNA 2008, libidn2). A name is stored
 * and compared as its lower-case A-label ("xn--bcher-kva.example") and shown
 * as its U-label ("bücher.example"). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* A DNS name written in UTF-8 or ASCII to its lower-case A-label form.
 * Returns 0, or -1 when it is not a valid host name (LDH labels of 1-63
 * octets, at most 253 in all, no empty label). */
int idna_to_ascii(const char *name, char *out, size_t outlen);
/* The U-label form for display; the input itself when it has no A-label
 * or cannot be converted. Never fails (out is always a string). */
void idna_to_unicode(const char *name, char *out, size_t outlen);
/* "local@domain" with the domain part converted by idna_to_ascii (the
 * local part untouched). 0, or -1 when the domain is invalid. An address
 * without '@' is copied as it is. */
int idna_address_to_ascii(const char *address, char *out, size_t outlen);
/* True when s holds only ASCII. */
bool idna_is_ascii(const char *s);
