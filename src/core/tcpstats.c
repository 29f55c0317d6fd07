/* tcpstats: TCP_INFO's tcpi_bytes_received and tcpi_bytes_acked (RFC 4898
 * tcpEStatsAppHCThruOctetsReceived / ...Acked, Linux 4.1+). linux/tcp.h
 * has these fields and glibc's netinet/tcp.h does not, and the two headers
 * clash: this file includes only the kernel's. */
#include "core/tcpstats.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

int tcp_bytes(int fd, uint64_t *in, uint64_t *out)
{
    *in = 0;
    *out = 0;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return -1;
    if (len <
        offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return -1;
    *in = ti.tcpi_bytes_received;
    *out = ti.tcpi_bytes_acked;
    return 0;
}
