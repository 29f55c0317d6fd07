/* folder_name: the API's folder names and their Maildir++ directories.
 * '.' is refused in API names rather than escaped: it is the hierarchy
 * separator on disk, and Dovecot's Maildir++ layout refuses it too unless a
 * plugin escapes it (docs/DECISIONS.md). */
#include "store/folder_name.h"

#include "core/mutf7.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int einval(void)
{
    errno = EINVAL;
    return -1;
}

static bool bad_char(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '.' || c == '%' || c == '*';
}

int folder_name_is_inbox(const char *name)
{
    return strcasecmp(name, "INBOX") == 0;
}

int folder_name_canon(const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    char probe[MAIL_MAX_FOLDER * 4 + 1];
    if (n == 0 || n > MAIL_MAX_FOLDER || n >= outlen || name[0] == '/' ||
        name[n - 1] == '/' || strstr(name, "//"))
        return einval();
    for (size_t i = 0; i < n; i++)
        if (bad_char((unsigned char)name[i]))
            return einval();
    size_t len;
    if (mutf7_encode(name, n, probe, sizeof probe, &len) != MUTF7_OK) /* valid UTF-8? */
        return einval();
    memcpy(out, name, n + 1);
    /* RFC 9051 5.1: INBOX is case-insensitive, also as a parent. */
    if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == '/'))
        memcpy(out, "INBOX", 5);
    return 0;
}

int folder_name_to_dir(const char *name, char *out, size_t outlen)
{
    char canon[MAIL_MAX_FOLDER + 1];
    char enc[MAIL_MAX_FOLDER]; /* with the leading '.', at most NAME_MAX */
    if (folder_name_canon(name, canon, sizeof canon) < 0)
        return -1;
    if (folder_name_is_inbox(canon))
        return snprintf(out, outlen, ".") < 0 ? -1 : 0;
    size_t len;
    if (mutf7_encode(canon, strlen(canon), enc, sizeof enc, &len) != MUTF7_OK)
        return einval();
    for (char *p = enc; *p; p++)
        if (*p == '/')
            *p = '.';
    int n = snprintf(out, outlen, ".%s", enc);
    if (n < 0 || (size_t)n >= outlen)
        return einval();
    return 0;
}

int folder_name_from_dir(const char *dir, char *out, size_t outlen)
{
    char tmp[MAIL_MAX_FOLDER + 1];
    if (dir[0] != '.' || dir[1] == '\0' || strlen(dir) > MAIL_MAX_FOLDER ||
        strstr(dir, ".."))
        return -1;
    size_t n = strlen(dir + 1);
    if (dir[n] == '.') /* ends with '.' */
        return -1;
    memcpy(tmp, dir + 1, n + 1);
    for (char *p = tmp; *p; p++)
        if (*p == '.')
            *p = '/';
    size_t len;
    if (mutf7_decode(tmp, n, out, outlen, &len) != MUTF7_OK)
        return -1;
    char canon[MAIL_MAX_FOLDER + 1];
    if (folder_name_canon(out, canon, sizeof canon) < 0)
        return -1;
    return snprintf(out, outlen, "%s", canon) < 0 ? -1 : 0;
}
