/* mime_types: extension lookup. The built-in table wins (it carries the
 * charset for text types); /etc/mime.types is read once, sorted, and
 * searched; the process keeps it read-only afterwards. */
#include "http/mime_types.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mime_entry {
    char ext[16];
    char type[80];
};

/* Sorted by extension (strcasecmp order) for bsearch. */
static const struct mime_entry builtin[] = {
    {"avif", "image/avif"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/vnd.microsoft.icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"webm", "video/webm"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xml", "application/xml"},
    {"zip", "application/zip"},
};

static struct mime_entry *system_table;
static size_t system_count;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int entry_cmp(const void *a, const void *b)
{
    return strcasecmp(((const struct mime_entry *)a)->ext, ((const struct mime_entry *)b)->ext);
}

static void add_line(char *line, size_t *cap)
{
    char *save = NULL;
    char *type = strtok_r(line, " \t\r\n", &save);
    if (!type || type[0] == '#' || strlen(type) >= sizeof system_table->type)
        return;
    for (char *ext; (ext = strtok_r(NULL, " \t\r\n", &save)) != NULL;) {
        if (strlen(ext) >= sizeof system_table->ext)
            continue;
        if (system_count == *cap) {
            size_t ncap = *cap ? *cap * 2 : 512;
            struct mime_entry *n = realloc(system_table, ncap * sizeof *n);
            if (!n)
                return;
            system_table = n;
            *cap = ncap;
        }
        struct mime_entry *e = &system_table[system_count++];
        snprintf(e->ext, sizeof e->ext, "%s", ext);
        snprintf(e->type, sizeof e->type, "%s", type);
    }
}

static void load_system(void)
{
    FILE *f = fopen("/etc/mime.types", "re");
    if (!f)
        return;
    char line[1024];
    size_t cap = 0;
    while (fgets(line, sizeof line, f))
        add_line(line, &cap);
    fclose(f);
    if (system_table)
        qsort(system_table, system_count, sizeof *system_table, entry_cmp);
}

void http_mime_init(void)
{
    pthread_once(&once, load_system);
}

const char *http_mime_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (!dot || (slash && dot < slash) || strlen(dot + 1) >= sizeof builtin[0].ext)
        return "application/octet-stream";
    struct mime_entry key;
    snprintf(key.ext, sizeof key.ext, "%s", dot + 1);
    const struct mime_entry *e =
        bsearch(&key, builtin, sizeof builtin / sizeof builtin[0], sizeof builtin[0], entry_cmp);
    if (!e) {
        http_mime_init();
        if (system_table)
            e = bsearch(&key, system_table, system_count, sizeof *system_table, entry_cmp);
    }
    return e ? e->type : "application/octet-stream";
}
