/* loader: loads the GMime-based module portico-mime.so on first use and
 * calls it. GMime drags in GLib, GIO, gpgme and a dozen more libraries whose
 * start-up alone costs about 3.4 MiB of resident memory; an idle daemon
 * that has not parsed a message yet should not pay it (DECISIONS.md). */
#include "mime/envelope.h"

#include "core/log.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef char *(*envelope_fn)(int fd);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static envelope_fn envelope_impl;

/* Where the module may be: beside the running binary (an installed or build
 * tree), the install directory, the build directory (for unit tests). */
static void candidate_paths(char paths[3][PATH_MAX])
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

static void load_module(void)
{
    char paths[3][PATH_MAX];
    candidate_paths(paths);
    for (int i = 0; i < 3; i++) {
        if (!paths[i][0] || access(paths[i], R_OK) != 0)
            continue;
        void *h = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
        if (h)
            envelope_impl = (envelope_fn)dlsym(h, "portico_mime_envelope_fd");
        if (envelope_impl) {
            log_debug(0, "mime module_loaded path=%s", paths[i]);
            return;
        }
        log_warn(0, "mime module_unusable path=%s error=\"%s\"", paths[i], dlerror());
    }
    log_warn(0, "mime module_missing: envelopes are not cached");
}

char *mime_envelope_fd(int fd)
{
    pthread_once(&load_once, load_module);
    return envelope_impl ? envelope_impl(fd) : NULL;
}
