/* tcpstats: the payload bytes a TCP socket received and sent (Linux
 * TCP_INFO), read once when a session ends: the access log and the metrics
 * get the figures without any counting on the data path. */
#pragma once
#include <stdint.h>

/* 0 with *in and *out set, or -1 (not TCP, no TCP_INFO): both 0. */
int tcp_bytes(int fd, uint64_t *in, uint64_t *out);
