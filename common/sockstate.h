/*
 * sockstate.h: what the kernel says about one socket, asked from inside
 * the process that holds it.
 *
 *   getsockopt(SO_DOMAIN, SO_TYPE, SO_PROTOCOL)   what kind of socket it is
 *   getsockname / getpeername                     its local and peer address
 *   getsockopt(IPPROTO_TCP, TCP_INFO)             its TCP state
 *   ioctl(SIOCINQ / SIOCOUTQ)                     bytes waiting in its queues
 *
 * These are the same questions `ss` asks, from the other side. Nothing
 * here prints or exits.
 */
#ifndef SOCKSCOPE_SOCKSTATE_H
#define SOCKSCOPE_SOCKSTATE_H

#include <stdbool.h>
#include <sys/socket.h>

/* TCP states by their RFC 793 names, numbered as the kernel numbers them. */
enum tcp_state {
    TCPS_NONE = 0, /* not a TCP socket: the trace writes null */
    TCPS_ESTABLISHED = 1,
    TCPS_SYN_SENT,
    TCPS_SYN_RECEIVED,
    TCPS_FIN_WAIT_1,
    TCPS_FIN_WAIT_2,
    TCPS_TIME_WAIT,
    TCPS_CLOSED,
    TCPS_CLOSE_WAIT,
    TCPS_LAST_ACK,
    TCPS_LISTEN,
    TCPS_CLOSING,
    TCPS_NEW_SYN_RECV, /* the kernel's name for a request sock; shown as SYN_RECEIVED */
    TCPS_COUNT
};

/* "ESTABLISHED", "LISTEN", ...; NULL for TCPS_NONE or an unknown number. */
const char *tcp_state_name(int state);

/* The state whose RFC name is `name` (case-sensitive), or TCPS_NONE. */
int tcp_state_from_name(const char *name);

struct sock_kind {
    int family;   /* AF_INET, AF_INET6, AF_UNIX, ... */
    int type;     /* SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET */
    int protocol; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, ... or 0 */
};

/* Fill `k` for `fd`. Returns 0, or -1 with errno (ENOTSOCK for a file). */
int sock_kind_get(int fd, struct sock_kind *k);

/* True when `k` is a TCP socket (stream over IPv4 or IPv6). */
bool sock_kind_is_tcp(const struct sock_kind *k);

/* A short name for the kind: "tcp", "udp", "icmp", "raw", "unix-stream",
 * "unix-dgram", "unix-seqpacket", "netlink", or "other". */
const char *sock_kind_name(const struct sock_kind *k);

/* The TCP state of `fd` from TCP_INFO, or TCPS_NONE when it is not TCP or
 * the question failed. */
int sock_tcp_state(int fd);

/* Bytes waiting to be read (SIOCINQ) and not yet sent or acknowledged
 * (SIOCOUTQ). Returns 0, or -1 when the socket does not answer (a listener,
 * for example, has no queues of bytes). */
int sock_queues(int fd, int *inq, int *outq);

#endif
