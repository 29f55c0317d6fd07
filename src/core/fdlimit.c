/* fdlimit: the process's file descriptor budget. At start the soft
 * RLIMIT_NOFILE is raised to the hard limit, and the default for
 * [portico] max_connections is derived from it, leaving room for the files,
 * data connections and listeners that sessions open besides their socket. */
#include "core/fdlimit.h"

#include "core/limits.h"

#include <sys/resource.h>

long fdlimit_raise(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = rl.rlim_max;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)FDLIMIT_MAX_COUNTED)
        return FDLIMIT_MAX_COUNTED;
    return (long)rl.rlim_cur;
}

int fdlimit_default_connections(long nofile)
{
    /* Each session may hold its socket and about one more descriptor (a
     * file being sent, a data connection), plus the fixed reserve. */
    long n = (nofile - FDLIMIT_RESERVED) / 2;
    if (n < FDLIMIT_MIN_CONNECTIONS)
        n = FDLIMIT_MIN_CONNECTIONS;
    if (n > MAX_CONNECTIONS_DEFAULT_CAP)
        n = MAX_CONNECTIONS_DEFAULT_CAP;
    return (int)n;
}
