/* addr: RFC 5322 3.4 address lists (with groups and the obsolete forms of
 * 4.4) split into the four parts of an IMAP address (RFC 9051 7.5.2:
 * name, adl, mailbox, host). Pure C. Names stay raw: RFC 2047 encoded
 * words are not decoded (IMAP sends the header's own text); quoting is
 * removed. */
#pragma once
#include <stddef.h>

enum mime_addr_kind {
    MIME_ADDR_MAILBOX,
    MIME_ADDR_GROUP_START, /* name is the group's display name */
    MIME_ADDR_GROUP_END,
};

struct mime_addr {
    enum mime_addr_kind kind;
    char *name;    /* display name (or the comment after a bare addr-spec), or NULL */
    char *route;   /* obs-route "@a,@b", or NULL */
    char *mailbox; /* local part; "MISSING_MAILBOX" if there was none */
    char *host;    /* domain; "MISSING_DOMAIN" if there was none (as Dovecot) */
};

struct mime_addr_list {
    struct mime_addr *a;
    size_t n;
};

/* Parses value (NULL: an empty list). At most MIME_MAX_ADDRESSES entries.
 * 0, or -1 when out of memory. */
int mime_addr_parse(const char *value, struct mime_addr_list *out);
void mime_addr_release(struct mime_addr_list *l);
/* The number of real mailboxes in the list (groups not counted). */
size_t mime_addr_mailboxes(const struct mime_addr_list *l);
