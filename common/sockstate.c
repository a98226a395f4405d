/* sockstate.c: a socket's kernel state, from inside; see sockstate.h. */
#include "sockstate.h"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>

static const char *const state_names[TCPS_COUNT] = {
    [TCPS_ESTABLISHED] = "ESTABLISHED",
    [TCPS_SYN_SENT] = "SYN_SENT",
    [TCPS_SYN_RECEIVED] = "SYN_RECEIVED",
    [TCPS_FIN_WAIT_1] = "FIN_WAIT_1",
    [TCPS_FIN_WAIT_2] = "FIN_WAIT_2",
    [TCPS_TIME_WAIT] = "TIME_WAIT",
    [TCPS_CLOSED] = "CLOSED",
    [TCPS_CLOSE_WAIT] = "CLOSE_WAIT",
    [TCPS_LAST_ACK] = "LAST_ACK",
    [TCPS_LISTEN] = "LISTEN",
    [TCPS_CLOSING] = "CLOSING",
    [TCPS_NEW_SYN_RECV] = "SYN_RECEIVED",
};

const char *tcp_state_name(int state)
{
    if (state <= TCPS_NONE || state >= TCPS_COUNT)
        return NULL;
    return state_names[state];
}

int tcp_state_from_name(const char *name)
{
    if (name == NULL)
        return TCPS_NONE;
    for (int s = 1; s < TCPS_NEW_SYN_RECV; s++)
        if (strcmp(state_names[s], name) == 0)
            return s;
    return TCPS_NONE;
}

int sock_kind_get(int fd, struct sock_kind *k)
{
    socklen_t len = sizeof k->family;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &k->family, &len) == -1)
        return -1;
    len = sizeof k->type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &k->type, &len) == -1)
        return -1;
    len = sizeof k->protocol;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &k->protocol, &len) == -1)
        k->protocol = 0;
    return 0;
}

bool sock_kind_is_tcp(const struct sock_kind *k)
{
    return (k->family == AF_INET || k->family == AF_INET6) && k->type == SOCK_STREAM &&
           (k->protocol == IPPROTO_TCP || k->protocol == 0);
}

const char *sock_kind_name(const struct sock_kind *k)
{
    if (k->family == AF_INET || k->family == AF_INET6) {
        if (k->type == SOCK_STREAM)
            return "tcp";
        /* A raw socket first: its protocol may be ICMP, but it sees whole
         * IP packets. "icmp" is the unprivileged ping socket (a datagram
         * socket of protocol ICMP). */
        if (k->type == SOCK_RAW)
            return "raw";
        if (k->type == SOCK_DGRAM && k->protocol == IPPROTO_UDP)
            return "udp";
        if (k->protocol == IPPROTO_ICMP || k->protocol == IPPROTO_ICMPV6)
            return "icmp";
        if (k->type == SOCK_DGRAM)
            return "udp";
        return "other";
    }
    if (k->family == AF_UNIX) {
        switch (k->type) {
        case SOCK_STREAM: return "unix-stream";
        case SOCK_DGRAM: return "unix-dgram";
        case SOCK_SEQPACKET: return "unix-seqpacket";
        default: return "unix";
        }
    }
    if (k->family == AF_NETLINK)
        return "netlink";
    return "other";
}

int sock_tcp_state(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 || len < 1)
        return TCPS_NONE;
    return ti.tcpi_state;
}

int sock_queues(int fd, int *inq, int *outq)
{
    if (ioctl(fd, SIOCINQ, inq) == -1)
        return -1;
    if (ioctl(fd, SIOCOUTQ, outq) == -1)
        return -1;
    return 0;
}
