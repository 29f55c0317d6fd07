/* mime_types: Content-Type by file-name extension (RFC 9110 8.3): a
 * built-in table for the web's common types, then /etc/mime.types when
 * present, then application/octet-stream. */
#pragma once

/* Loads /etc/mime.types once (thread-safe); later calls are no-ops. */
void http_mime_init(void);
/* The type for a file name; never NULL. */
const char *http_mime_type(const char *name);
