/* objectid: RFC 8474 object ids of the store. MAILBOXID is random, kept in
 * the index's folder row and in a `portico-mailboxid` file in the folder's
 * directory (so it survives RENAME, which moves the directory, and an
 * index rebuild). EMAILID is derived from the message file's unique name,
 * which MOVE and a hard-linked COPY keep, so it is the same after a rebuild.
 * Internal to store/. */
#pragma once
#include <stddef.h>

#define OBJECTID_MAILBOX_FILE "portico-mailboxid"
#define OBJECTID_LEN 40 /* buffers: RFC 8474 4 allows 1-255 chars; ours are 33 */

/* The folder's MAILBOXID from its file, created (durably, never replacing
 * one another thread wrote first) if missing. folderfd: the folder's
 * directory (the mail/ root for INBOX). 0 or -1. */
int objectid_mailbox(int folderfd, char out[OBJECTID_LEN]);
/* A fresh random MAILBOXID ("F" + 32 hex digits). 0 or -1. */
int objectid_mailbox_new(char out[OBJECTID_LEN]);
/* Writes id as the folder's MAILBOXID file, replacing any (durable). */
int objectid_mailbox_write(int folderfd, const char *id);
/* EMAILID of a Maildir base name: "M" + 16 hex digits of SHA-256 of its
 * unique part (up to the first ',' or ':', which Maildir++ size fields and
 * flags follow). */
void objectid_email(const char *base, char *out, size_t outlen);
