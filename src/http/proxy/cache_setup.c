/* cache_setup: the one shared cache of the forward and reverse proxy, made
 * at start from the [proxy] cache_* keys under data_dir/cache/ (before
 * the loop threads run, so they only read the pointer) and freed at
 * shutdown after they stopped. */
#include "http/proxy/cache_glue.h"

#include "core/config.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>

#define PROXY_COLLAPSE_WAITERS 256 /* waiters per key; more fetch alone */

static struct proxy_cache the_cache;
static bool opened;

struct proxy_cache *proxy_cache(void)
{
    return opened ? &the_cache : NULL;
}

int proxy_cache_open(const struct config *cfg, char *err, size_t errlen)
{
    if (cfg->proxy_cache_memory == 0 && cfg->proxy_cache_disk == 0)
        return 0;
    char dir[PATH_MAX + 8];
    if (snprintf(dir, sizeof dir, "%s/cache", cfg->data_dir) >= (int)sizeof dir) {
        snprintf(err, errlen, "data_dir is too long for the cache");
        return -1;
    }
    struct cache_store_config sc = {
        .dir = cfg->proxy_cache_disk ? dir : NULL,
        .memory_max = cfg->proxy_cache_memory,
        .disk_max = cfg->proxy_cache_disk,
        .object_max = cfg->proxy_cache_max_object,
    };
    the_cache.store = cache_store_new(&sc);
    the_cache.collapse = cache_collapse_new(PROXY_COLLAPSE_WAITERS);
    the_cache.policy.heuristic_max = cfg->proxy_cache_heuristic_max;
    if (!the_cache.store || !the_cache.collapse) {
        proxy_cache_close();
        snprintf(err, errlen, "cannot open the proxy cache in %s", dir);
        return -1;
    }
    opened = true;
    struct cache_store_stats st;
    cache_store_get_stats(the_cache.store, &st);
    log_info(0, "proxy cache_open dir=%s disk_entries=%zu disk_bytes=%llu", dir,
             st.disk_entries, (unsigned long long)st.disk_bytes);
    return 0;
}

void proxy_cache_close(void)
{
    opened = false;
    if (the_cache.store)
        cache_store_free(the_cache.store);
    if (the_cache.collapse)
        cache_collapse_free(the_cache.collapse);
    the_cache.store = NULL;
    the_cache.collapse = NULL;
}
