/*
 * diag.h: ask the kernel about TCP sockets through sock_diag netlink, the
 * interface `ss` uses. No privilege is needed.
 *
 * A process can ask TCP_INFO only of sockets it holds. sock_diag answers for
 * every socket on the host, so it sees what the process cannot: a
 * connection left in FIN_WAIT_2 or TIME_WAIT after close(), the peer end of
 * a connection, a listener's connections still in SYN_RECEIVED.
 *
 * Nothing here prints or exits; functions return 0 or a negative errno.
 */
#ifndef SOCKSCOPE_DIAG_H
#define SOCKSCOPE_DIAG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct diag_sock {
    int family;                    /* AF_INET or AF_INET6 */
    int state;                     /* enum tcp_state from sockstate.h */
    struct sockaddr_storage local; /* as the kernel reports it */
    struct sockaddr_storage peer;
    socklen_t addrlen; /* length of local and of peer */
    uint32_t rqueue;   /* LISTEN: accept queue now; else bytes unread */
    uint32_t wqueue;   /* LISTEN: backlog; else bytes not yet acked */
    uint32_t uid;
    uint32_t inode; /* 0 for TIME_WAIT: no file holds it */
};

/* Called for each socket a dump finds; return non-zero to stop early. */
typedef int (*diag_visit_fn)(const struct diag_sock *s, void *arg);

/*
 * Visit every TCP socket of `family` (AF_INET or AF_INET6; AF_UNSPEC for
 * both) whose local or peer port is `port` (0: every socket). Returns 0, or
 * a negative errno when netlink fails.
 */
int diag_dump_tcp(int family, int port, diag_visit_fn visit, void *arg);

/* The most ports diag_dump_tcp_ports takes. */
#define DIAG_MAX_PORTS 64

/*
 * Like diag_dump_tcp, for sockets whose local or peer port is any of the
 * `nports` ports (1..65535; nports 0: every socket). The kernel does the
 * filtering, so a host with many sockets costs little. Returns 0, -EINVAL
 * for more than DIAG_MAX_PORTS or a bad port, or a negative errno.
 */
int diag_dump_tcp_ports(int family, const int *ports, int nports, diag_visit_fn visit, void *arg);

/* Whether this thread's last dump was filtered by the kernel (false when
 * it took every socket and filtered here). For tests and diagnostics. */
bool diag_last_dump_filtered(void);

/*
 * Find the TCP socket with exactly this local and peer address and store it
 * in *out. Returns 0 when found, -ENOENT when the kernel holds no such
 * socket any more (it is CLOSED), or another negative errno.
 */
int diag_query_tcp(const struct sockaddr *local, const struct sockaddr *peer,
                   struct diag_sock *out);

#endif
