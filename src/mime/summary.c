/* summary: the lifetime of a struct mime_summary and section lookup
 * (summary.h). Pure; built into libportico and into the module (which
 * frees what it could not finish). */
#include "mime/summary.h"

#include "mime/summary_cache.h"

#include <stdlib.h>
#include <string.h>

void mime_summary_strings(struct mime_summary *s, char **out[MIME_SUMMARY_NSTRINGS])
{
    char **strs[MIME_SUMMARY_NSTRINGS] = {
        &s->envelope,   &s->body,       &s->bodystructure, &s->sort_subject,
        &s->sort_from,  &s->sort_to,    &s->sort_cc,       &s->display_from,
        &s->display_to, &s->message_id, &s->in_reply_to,   &s->references};
    memcpy(out, strs, sizeof strs);
}

uint64_t mime_summary_vsize(const struct mime_summary *s)
{
    if (!s || s->nparts == 0)
        return 0;
    return s->parts[0].header_len_crlf + s->parts[0].body_len_crlf;
}

void mime_summary_free(struct mime_summary *s)
{
    if (!s)
        return;
    char **strs[MIME_SUMMARY_NSTRINGS];
    mime_summary_strings(s, strs);
    for (size_t i = 0; i < MIME_SUMMARY_NSTRINGS; i++)
        free(*strs[i]);
    free(s->parts);
    free(s);
}

const struct mime_part *mime_summary_part(const struct mime_summary *s,
                                          const char *section)
{
    if (!s || !section)
        return NULL;
    for (size_t i = 0; i < s->nparts; i++)
        if (strcmp(s->parts[i].section, section) == 0)
            return &s->parts[i];
    return NULL;
}
