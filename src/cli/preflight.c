/* preflight: the checks before a start. Nothing here creates a file, opens
 * a socket or changes the process; it only reads. */
#include "cli/preflight.h"

#include "core/loop.h"
#include "core/tls.h"
#include "services.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directories a relative `./var` must never turn into (started from `/`,
 * `/usr`, `/usr/local`, ...): the embedded default is for a work tree. */
static const char *const system_dirs[] = {
    "/",     "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64",     "/opt",
    "/proc", "/run", "/sbin", "/srv", "/sys", "/usr", "/usr/local", "/var",
};

static bool is_system_dir(const char *path)
{
    for (size_t i = 0; i < sizeof system_dirs / sizeof *system_dirs; i++)
        if (strcmp(path, system_dirs[i]) == 0)
            return true;
    return strncmp(path, "/usr/", 5) == 0 && strchr(path + 5, '/') == NULL;
}

/* The absolute form of data_dir without creating it: realpath of what
 * exists, else the working directory joined with it. */
static void absolute_data_dir(const char *dir, char *out, size_t len)
{
    char cwd[PATH_MAX];
    if (realpath(dir, out))
        return;
    if (dir[0] == '/' || !getcwd(cwd, sizeof cwd)) {
        snprintf(out, len, "%s", dir);
        return;
    }
    const char *rel = dir;
    if (strncmp(rel, "./", 2) == 0)
        rel += 2;
    if (strcmp(cwd, "/") == 0)
        snprintf(out, len, "/%s", rel);
    else
        snprintf(out, len, "%s/%s", cwd, rel);
}

int preflight_data_dir(const struct config *cfg, struct config_errors *e)
{
    char abs[PATH_MAX + 8], parent[PATH_MAX + 8];
    absolute_data_dir(cfg->data_dir, abs, PATH_MAX);
    snprintf(parent, sizeof parent, "%s", abs);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    else if (slash)
        slash[1] = '\0';
    if (is_system_dir(abs) || (cfg->data_dir[0] != '/' && is_system_dir(parent))) {
        char why[PATH_MAX + 160];
        snprintf(why, sizeof why,
                 "%s would be %s, a system directory: run from your work tree, or give "
                 "-c FILE with an absolute data_dir",
                 cfg->data_dir, abs);
        config_key_error(e, cfg, "portico", "data_dir", why);
        return -1;
    }
    struct stat st;
    if (stat(abs, &st) == 0 && !S_ISDIR(st.st_mode)) {
        config_key_error(e, cfg, "portico", "data_dir", "exists and is not a directory");
        return -1;
    }
    return 0;
}

static void check_tls(const struct config *cfg, struct config_errors *e)
{
    char why[PATH_MAX + 300];
    if (!cfg->tls_cert[0])
        return;
    const char *files[2] = {cfg->tls_cert, cfg->tls_key};
    const char *names[2] = {"cert", "key"};
    for (int i = 0; i < 2; i++) {
        if (access(files[i], R_OK) < 0) {
            snprintf(why, sizeof why, "cannot read %s: %s", files[i], strerror(errno));
            config_key_error(e, cfg, "tls", names[i], why);
            return;
        }
    }
    if (tls_check_files(cfg->tls_cert, cfg->tls_key, why, sizeof why) < 0)
        config_key_error(e, cfg, "tls", "cert", why);
}

static bool addr_is_loopback(const struct listen_addr *a)
{
    if (a->sa.ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->sa;
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->sa;
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
}

/* The first non-loopback address of the listeners that will open, or NULL;
 * *count gets how many addresses will be opened. */
static const char *opened_listeners(const struct config *cfg, int *count)
{
    struct runtime rt = {0};
    services_register(&rt);
    const char *public = NULL;
    *count = 0;
    for (int svc = 0; svc < SVC_COUNT; svc++) {
        const struct listen_list *lists[2] = {&cfg->svc[svc].listen,
                                              &cfg->svc[svc].listen_tls};
        for (int t = 0; t < 2; t++) {
            for (int i = 0; rt.services[svc] && i < lists[t]->n; i++) {
                (*count)++;
                if (!public && !addr_is_loopback(&lists[t]->addr[i]))
                public = lists[t]->addr[i].text;
            }
            if (!rt.services[svc] && lists[t]->n > 0)
                fprintf(stderr,
                        "portico: warning: %s:%d: [%s] %s: this build has no %s service; "
                        "not opened\n",
                        config_name(cfg),
                        config_key_line(cfg, config_service_name(svc),
                                        t ? "listen_tls" : "listen"),
                        config_service_name(svc), t ? "listen_tls" : "listen",
                        config_service_name(svc));
        }
    }
    return public;
}

static void check_user(const struct config *cfg, struct config_errors *e,
                       const char *public)
{
    if (cfg->user[0]) {
        errno = 0;
        if (!getpwnam(cfg->user)) {
            char why[128];
            snprintf(why, sizeof why, "no such user %s", cfg->user);
            config_key_error(e, cfg, "portico", "user", why);
        }
        return;
    }
    if (geteuid() != 0)
        return;
    if (public) {
        char why[256];
        snprintf(why, sizeof why,
                 "running as root without `user =` would serve %s as root: set user "
                 "(e.g. portico) or listen on loopback only",
                 public);
        config_key_error(e, cfg, "portico", "user", why);
    } else {
        fprintf(stderr,
                "portico: warning: running as root without [portico] user; set "
                "`user = portico` (or run as an unprivileged user) before listening "
                "beyond loopback\n");
    }
}

int preflight(const struct config *cfg, struct config_errors *e)
{
    int opened = 0;
    const char *public = opened_listeners(cfg, &opened);
    if (opened == 0)
        config_errorf(e,
                      "%s: no listener: every service is off (set a listen key, e.g. "
                      "[smtp] listen = 127.0.0.1:2525)",
                      config_name(cfg));
    preflight_data_dir(cfg, e);
    check_tls(cfg, e);
    check_user(cfg, e, public);
    return e->n;
}
