/* limits: every bound the MIME layer puts on a message it parses, in one
 * place (DESIGN.md: limits are explicit and named). */
#pragma once

/* Nesting of multiparts and message/rfc822 parts; deeper entities are
 * leaves (application/octet-stream). Dovecot's default is 100. */
#define MIME_MAX_DEPTH 32
/* Entities per message; a multipart's children past it are not listed. */
#define MIME_MAX_PARTS 1000
/* Bytes of header values kept per entity (the fields IMAP reports). */
#define MIME_MAX_HEADER_KEEP (32 * 1024)
/* RFC 2046 5.1.1: a boundary is 1 to 70 characters; be lenient. */
#define MIME_MAX_BOUNDARY 200
/* The read buffer of the scanner; longer lines are never boundaries. */
#define MIME_READ_BUF (64 * 1024)
/* Addresses in one address list (ENVELOPE). */
#define MIME_MAX_ADDRESSES 1000
/* The serialised summary (the cache text) and one string in it. */
#define MIME_MAX_CACHE_TEXT (64u * 1024 * 1024)
