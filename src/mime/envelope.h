/* envelope: the IMAP ENVELOPE (RFC 9051 7.5.2) of a message, computed with
 * GMime once at delivery (or when a sync finds a new file) and cached in
 * the mail index so IMAP FETCH ENVELOPE never reparses. */
#pragma once

/* Parses the message in fd (read from offset 0; fd stays open) and returns
 * its ENVELOPE as a malloc'd IMAP string "(date subject from ...)", or NULL
 * if it cannot be parsed. Strings with 8-bit or CR/LF become literals. */
char *mime_envelope_fd(int fd);
