/* fdlimit: raising RLIMIT_NOFILE at start and the connection budget that
 * follows from it. */
#pragma once

/* Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit
 * now in force (capped at FDLIMIT_MAX_COUNTED), or -1. */
long fdlimit_raise(void);
/* The default [portico] max_connections for a descriptor limit of nofile. */
int fdlimit_default_connections(long nofile);
