/* loader: loads the GMime-based module portico-mime.so on first use and
 * calls it. GMime drags in GLib, GIO, gpgme and a dozen more libraries whose
 * start-up alone costs about 3.4 MiB of resident memory; an idle daemon
 * that has not parsed a message yet should not pay it (DECISIONS.md).
 * Every entry point is resolved once; a missing or unusable module is
 * logged once and each call degrades: no envelope or summary (the caller
 * answers from the raw file), no decoded search text, ASCII case folding,
 * no 7-bit downgrade and no DSN (the relay defers those, compose.h). */
#include "mime/compose.h"
#include "mime/envelope.h"
#include "mime/summary.h"

#include "core/log.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MODULE_CANDIDATES 3

struct mime_module {
    char *(*envelope_fd)(int fd);
    struct mime_summary *(*summary_fd)(int fd);
    char *(*search_header)(int fd, const char *name);
    char *(*search_body)(int fd, size_t max);
    char *(*casefold)(const char *utf8);
    char *(*downgrade)(const char *msg, size_t len, size_t *outlen);
    char *(*dsn_compose)(const struct mime_dsn *d, size_t *outlen);
};

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static struct mime_module mod; /* all NULL when the module is missing */

/* Where the module may be: beside the running binary (an installed or build
 * tree), the install directory, the build directory (for unit tests). */
static void candidate_paths(char paths[MODULE_CANDIDATES][PATH_MAX])
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    paths[0][0] = '\0';
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(paths[0], PATH_MAX, "%s/portico-mime.so", exe);
        }
    }
    snprintf(paths[1], PATH_MAX, "%s", PORTICO_MIME_INSTALL_PATH);
    snprintf(paths[2], PATH_MAX, "%s", PORTICO_MIME_BUILD_PATH);
}

/* All entry points or none: a module from another version is unusable. */
static bool resolve(void *h, struct mime_module *m)
{
    /* POSIX dlsym returns object pointers; function pointers convert. */
    *(void **)&m->envelope_fd = dlsym(h, "portico_mime_envelope_fd");
    *(void **)&m->summary_fd = dlsym(h, "portico_mime_summary_fd");
    *(void **)&m->search_header = dlsym(h, "portico_mime_search_header");
    *(void **)&m->search_body = dlsym(h, "portico_mime_search_body");
    *(void **)&m->casefold = dlsym(h, "portico_mime_casefold");
    *(void **)&m->downgrade = dlsym(h, "portico_mime_downgrade");
    *(void **)&m->dsn_compose = dlsym(h, "portico_mime_dsn_compose");
    return m->envelope_fd && m->summary_fd && m->search_header && m->search_body &&
           m->casefold && m->downgrade && m->dsn_compose;
}

static void load_module(void)
{
    char paths[MODULE_CANDIDATES][PATH_MAX];
    candidate_paths(paths);
    for (int i = 0; i < MODULE_CANDIDATES; i++) {
        if (!paths[i][0] || access(paths[i], R_OK) != 0)
            continue;
        struct mime_module m = {0};
        void *h = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
        if (h && resolve(h, &m)) {
            mod = m;
            log_debug(0, "mime module_loaded path=%s", paths[i]);
            return;
        }
        log_warn(0, "mime module_unusable path=%s error=\"%s\"", paths[i],
                 h ? "missing entry points" : dlerror());
        if (h)
            dlclose(h);
    }
    log_warn(0, "mime module_missing: no envelopes, body structures or decoded search");
}

static const struct mime_module *module(void)
{
    pthread_once(&load_once, load_module);
    return &mod;
}

char *mime_envelope_fd(int fd)
{
    const struct mime_module *m = module();
    if (!m->envelope_fd)
        return NULL;
    return m->envelope_fd(fd);
}

struct mime_summary *mime_summary_fd(int fd)
{
    const struct mime_module *m = module();
    if (!m->summary_fd)
        return NULL;
    return m->summary_fd(fd);
}

char *mime_search_header(int fd, const char *name)
{
    const struct mime_module *m = module();
    if (!m->search_header)
        return NULL;
    return m->search_header(fd, name);
}

char *mime_search_body(int fd, size_t max)
{
    const struct mime_module *m = module();
    if (!m->search_body)
        return NULL;
    return m->search_body(fd, max);
}

/* Without the module only ASCII letters fold (RFC 4790 i;ascii-casemap). */
static char *ascii_fold(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + ('a' - 'A'));
    return d;
}

char *mime_casefold(const char *utf8)
{
    const struct mime_module *m = module();
    if (!utf8)
        utf8 = "";
    if (!m->casefold)
        return ascii_fold(utf8);
    return m->casefold(utf8);
}

char *mime_to_7bit(const char *msg, size_t len, size_t *outlen)
{
    const struct mime_module *m = module();
    if (!m->downgrade || len > MIME_COMPOSE_MAX)
        return NULL;
    return m->downgrade(msg, len, outlen);
}

char *mime_dsn_compose(const struct mime_dsn *d, size_t *outlen)
{
    const struct mime_module *m = module();
    if (!m->dsn_compose || d->original_len > MIME_COMPOSE_MAX)
        return NULL;
    return m->dsn_compose(d, outlen);
}
