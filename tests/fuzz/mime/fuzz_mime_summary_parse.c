/* Fuzzes the summary cache reader (mime/summary_cache.c): whatever it
 * accepts must be self-consistent and serialise back to the same text,
 * and the envelope read without the parse must be the parsed one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t elen = 0;
    const char *env = mime_summary_envelope(text, &elen);
    if (env && (env < text || env + elen > text + size))
        abort();
    struct mime_summary *s = mime_summary_parse(text);
    if (s && (!env || strlen(s->envelope) != elen || memcmp(env, s->envelope, elen) != 0))
        abort();
    if (s) {
        if (s->nparts == 0 || s->parts[0].section[0] || !mime_summary_part(s, ""))
            abort();
        for (size_t i = 0; i < s->nparts; i++)
            if (s->parts[i].body_len_crlf < s->parts[i].body_len ||
                s->parts[i].msg_header_len > s->parts[i].body_len)
                abort();
        char *again = mime_summary_serialise(s);
        if (!again || (strlen(text) == size && strcmp(again, text) != 0))
            abort(); /* a NUL in the input ends the text early */
        free(again);
        mime_summary_free(s);
    }
    free(text);
    return 0;
}
