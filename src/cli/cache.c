/* cli cache: `portico cache purge URL|--all`. Works on the files of the
 * disk tier (data_dir/cache/, http/cache/disk.h), so it needs no running
 * server; a running one sees the purge stamp change and drops its memory
 * copies of the removed entries within a second. */
#include "cli/cli.h"

#include "http/cache/disk.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static int purge(const struct config *cfg, const char *what)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/cache", cfg->data_dir) >= (int)sizeof dir)
        return cli_fail("cache purge", "data_dir is too long");
    int n;
    errno = 0;
    if (strcmp(what, "--all") == 0)
        n = cache_disk_purge_all(dir);
    else
        n = cache_disk_purge_uri(dir, (struct http_str){what, strlen(what)});
    if (n < 0 && errno == ENOENT)
        n = 0; /* nothing was ever cached */
    else if (n < 0 && strcmp(what, "--all") != 0 && errno == 0)
        return cli_fail("cache purge", "%s: not an absolute http:// or https:// URL",
                        what);
    else if (n < 0)
        return cli_fail("cache purge", "%s: %s", dir, strerror(errno));
    printf("purged %d cached response%s\n", n, n == 1 ? "" : "s");
    return cli_flush("cache purge");
}

int cli_cache(const struct config *cfg, int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[0], "purge") != 0)
        return cli_usage_error("cache");
    return purge(cfg, argv[1]);
}
