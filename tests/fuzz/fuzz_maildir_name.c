/* Fuzzes the Maildir file-name parser (store/maildir.c), which reads names
 * other programs wrote: whatever it accepts, the path it rebuilds must be
 * the file's real name, or the message could never be opened; and the
 * sizes it reads must be the digits after the first ",S=" and ",W=" of
 * the base (the plain strstr reading below). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/maildir.h"

/* The number after the first key in base; 0 if absent or too big. */
static uint64_t want_field(const char *base, const char *key)
{
    const char *p = strstr(base, key);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (p += strlen(key); *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[512];
    if (size == 0 || size >= sizeof name || memchr(data, '\0', size))
        return 0;
    memcpy(name, data, size);
    name[size] = '\0';
    struct maildir_entry e;
    char path[MAIL_MAX_FILENAME + 8], want[600];
    for (int in_cur = 0; in_cur < 2; in_cur++) {
        if (maildir_parse_name(name, in_cur, &e) < 0)
            continue;
        if (maildir_entry_path(&e, path, sizeof path) < 0)
            abort(); /* accepted but not reopenable */
        if (e.size != want_field(e.base, ",S=") || e.vsize != want_field(e.base, ",W="))
            abort();
        if (in_cur && !strstr(name, ":2,"))
            continue; /* a cur/ file without info gets ":2," added by design */
        snprintf(want, sizeof want, "%s/%s", in_cur ? "cur" : "new", name);
        if (!in_cur && strstr(name, ":2,"))
            continue; /* new/ names carry no info */
        if (strcmp(path, want) != 0)
            abort();
    }
    return 0;
}
