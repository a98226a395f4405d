/*
 * test_diag.c: the kernel's view of TCP sockets through sock_diag
 * (common/diag.h), asked about real sockets on loopback.
 *
 * A listener is found in LISTEN, both ends of a connection in ESTABLISHED,
 * the end that closes first in FIN_WAIT_1, FIN_WAIT_2 or TIME_WAIT, and a
 * connection that never existed is not found. The same over IPv6 when this
 * machine can bind ::1.
 */
#include "diag.h"
#include "sockstate.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How often, and how long apart, a state that the kernel reaches on its
 * own is looked for: at most 200 x 10 ms. */
#define POLLS 200

struct endpoint {
    struct sockaddr_storage addr;
    socklen_t len;
};

struct pair {
    int listener, client, server;
    struct endpoint listen_at, client_local, client_peer, server_local, server_peer;
};

static void pause_10ms(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static int local_of(int fd, struct endpoint *e)
{
    e->len = sizeof e->addr;
    return getsockname(fd, (struct sockaddr *)&e->addr, &e->len);
}

static int peer_of(int fd, struct endpoint *e)
{
    e->len = sizeof e->addr;
    return getpeername(fd, (struct sockaddr *)&e->addr, &e->len);
}

/* A listener on the loopback address of `family`, port 0. Returns the fd,
 * or -1 when this machine cannot bind that address. */
static int open_listener(int family, struct endpoint *at)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof *in6;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    if (bind(fd, (struct sockaddr *)&ss, len) == -1 || listen(fd, 4) == -1 ||
        local_of(fd, at) == -1) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A listener and one connection to it, with every address noted. */
static int open_pair(int family, struct pair *p)
{
    memset(p, 0, sizeof *p);
    p->client = p->server = -1;
    p->listener = open_listener(family, &p->listen_at);
    if (p->listener == -1)
        return -1;
    p->client = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->client == -1 ||
        connect(p->client, (struct sockaddr *)&p->listen_at.addr, p->listen_at.len) == -1)
        return -1;
    p->server = accept(p->listener, NULL, NULL);
    if (p->server == -1)
        return -1;
    if (local_of(p->client, &p->client_local) == -1 || peer_of(p->client, &p->client_peer) == -1 ||
        local_of(p->server, &p->server_local) == -1 || peer_of(p->server, &p->server_peer) == -1)
        return -1;
    return 0;
}

static void close_pair(struct pair *p)
{
    if (p->client != -1)
        close(p->client);
    if (p->server != -1)
        close(p->server);
    if (p->listener != -1)
        close(p->listener);
}

static int port_of(const struct endpoint *e)
{
    const struct sockaddr *sa = (const struct sockaddr *)&e->addr;
    return ntohs(sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
                                          : ((const struct sockaddr_in6 *)sa)->sin6_port);
}

struct found {
    int port;
    int state;
    int family;
    int count;
};

static int visit_listener(const struct diag_sock *s, void *arg)
{
    struct found *f = arg;
    const struct sockaddr *sa = (const struct sockaddr *)&s->local;
    int port = ntohs(sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
                                              : ((const struct sockaddr_in6 *)sa)->sin6_port);
    if (port == f->port && s->state == TCPS_LISTEN) {
        f->state = s->state;
        f->family = s->family;
        f->count++;
    }
    return 0;
}

static void listener_is_found(int family)
{
    struct endpoint at;
    int fd = open_listener(family, &at);
    CU_ASSERT_FATAL(fd != -1);
    struct found f = {.port = port_of(&at), .state = TCPS_NONE};
    CU_ASSERT_EQUAL(diag_dump_tcp(family, f.port, visit_listener, &f), 0);
    CU_ASSERT_EQUAL(f.count, 1);
    CU_ASSERT_EQUAL(f.state, TCPS_LISTEN);
    CU_ASSERT_EQUAL(f.family, family);
    /* Every port, and both families: still found, exactly once. */
    struct found all = {.port = port_of(&at), .state = TCPS_NONE};
    CU_ASSERT_EQUAL(diag_dump_tcp(AF_UNSPEC, 0, visit_listener, &all), 0);
    CU_ASSERT_EQUAL(all.count, 1);
    close(fd);
}

struct ports_seen {
    int want[3];
    int hits[3]; /* sockets seen with want[i] as local or peer port */
    int others;  /* sockets seen with none of them */
};

static int visit_ports(const struct diag_sock *s, void *arg)
{
    struct ports_seen *p = arg;
    const struct sockaddr_in *l = (const void *)&s->local, *r = (const void *)&s->peer;
    int lp = ntohs(l->sin_port), rp = ntohs(r->sin_port);
    bool any = false;
    for (int i = 0; i < 3; i++)
        if (p->want[i] == lp || p->want[i] == rp) {
            p->hits[i]++;
            any = true;
        }
    if (!any)
        p->others++;
    return 0;
}

static void test_dump_by_ports(void)
{
    /* Three listeners; a connection to the first. Asked for the first two
     * ports, the kernel gives the two listeners and both ends of the
     * connection (local port on one end, peer port on the other), and
     * nothing of the third. */
    struct endpoint at[3];
    int fd[3];
    for (int i = 0; i < 3; i++) {
        fd[i] = open_listener(AF_INET, &at[i]);
        CU_ASSERT_FATAL(fd[i] != -1);
    }
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(c != -1);
    CU_ASSERT_FATAL(connect(c, (struct sockaddr *)&at[0].addr, at[0].len) == 0);
    int ports[2] = {port_of(&at[0]), port_of(&at[1])};
    struct ports_seen seen = {.want = {ports[0], ports[1], port_of(&at[2])}};
    CU_ASSERT_EQUAL(diag_dump_tcp_ports(AF_INET, ports, 2, visit_ports, &seen), 0);
    CU_ASSERT(diag_last_dump_filtered());
    CU_ASSERT_EQUAL(seen.hits[0], 3); /* listener, client end, accepted end */
    CU_ASSERT_EQUAL(seen.hits[1], 1);
    CU_ASSERT_EQUAL(seen.hits[2], 0);
    CU_ASSERT_EQUAL(seen.others, 0);

    /* Bad requests are refused before netlink is asked. */
    int many[DIAG_MAX_PORTS + 1];
    for (int i = 0; i <= DIAG_MAX_PORTS; i++)
        many[i] = 1000 + i;
    CU_ASSERT_EQUAL(diag_dump_tcp_ports(AF_INET, many, DIAG_MAX_PORTS + 1, visit_ports, &seen),
                    -EINVAL);
    int zero = 0;
    CU_ASSERT_EQUAL(diag_dump_tcp_ports(AF_INET, &zero, 1, visit_ports, &seen), -EINVAL);
    /* The most ports it takes still pass the kernel's check. */
    many[0] = ports[1];
    struct ports_seen most = {.want = {ports[1], -1, -1}};
    CU_ASSERT_EQUAL(diag_dump_tcp_ports(AF_INET, many, DIAG_MAX_PORTS, visit_ports, &most), 0);
    CU_ASSERT(diag_last_dump_filtered());
    CU_ASSERT_EQUAL(most.hits[0], 1);
    close(c);
    for (int i = 0; i < 3; i++)
        close(fd[i]);
}

static void test_listener_found(void)
{
    listener_is_found(AF_INET);
}

static int query(const struct endpoint *local, const struct endpoint *peer, struct diag_sock *out)
{
    return diag_query_tcp((const struct sockaddr *)&local->addr,
                          (const struct sockaddr *)&peer->addr, out);
}

static void both_ends_established(int family)
{
    struct pair p;
    CU_ASSERT_FATAL(open_pair(family, &p) == 0);
    struct diag_sock s;
    CU_ASSERT_EQUAL(query(&p.client_local, &p.client_peer, &s), 0);
    CU_ASSERT_EQUAL(s.state, TCPS_ESTABLISHED);
    CU_ASSERT_EQUAL(s.family, family);
    CU_ASSERT_NOT_EQUAL(s.inode, 0); /* a file holds it */
    CU_ASSERT_EQUAL(query(&p.server_local, &p.server_peer, &s), 0);
    CU_ASSERT_EQUAL(s.state, TCPS_ESTABLISHED);
    /* The kernel's addresses are the ones the sockets gave. */
    CU_ASSERT_EQUAL(memcmp(&s.local, &p.server_local.addr, s.addrlen), 0);
    CU_ASSERT_EQUAL(port_of(&p.server_local), port_of(&p.listen_at));
    /* What the process itself reads agrees. */
    CU_ASSERT_EQUAL(sock_tcp_state(p.client), TCPS_ESTABLISHED);
    close_pair(&p);
}

static void test_connection_established(void)
{
    both_ends_established(AF_INET);
}

static void test_first_closer(void)
{
    struct pair p;
    CU_ASSERT_FATAL(open_pair(AF_INET, &p) == 0);
    close(p.client);
    p.client = -1;
    /* The FIN goes out at once; its ACK, and the peer's state, follow. */
    struct diag_sock s;
    int rc = -1, state = TCPS_NONE;
    for (int i = 0; i < POLLS; i++) {
        rc = query(&p.client_local, &p.client_peer, &s);
        state = rc == 0 ? s.state : TCPS_NONE;
        if (state == TCPS_FIN_WAIT_1 || state == TCPS_FIN_WAIT_2 || state == TCPS_TIME_WAIT)
            break;
        pause_10ms();
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(state == TCPS_FIN_WAIT_1 || state == TCPS_FIN_WAIT_2 || state == TCPS_TIME_WAIT);
    /* The other end got the FIN: CLOSE_WAIT, until it closes too. */
    for (int i = 0; i < POLLS && sock_tcp_state(p.server) != TCPS_CLOSE_WAIT; i++)
        pause_10ms();
    CU_ASSERT_EQUAL(query(&p.server_local, &p.server_peer, &s), 0);
    CU_ASSERT_EQUAL(s.state, TCPS_CLOSE_WAIT);

    /* Once the second side closes, the first side ends in TIME_WAIT, held
     * by no file. */
    close(p.server);
    p.server = -1;
    for (int i = 0; i < POLLS; i++) {
        rc = query(&p.client_local, &p.client_peer, &s);
        if (rc == 0 && s.state == TCPS_TIME_WAIT)
            break;
        pause_10ms();
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(s.state, TCPS_TIME_WAIT);
    CU_ASSERT_EQUAL(s.inode, 0);
    close_pair(&p);
}

static void test_never_existed(void)
{
    /* 127.0.0.2:1 <-> 127.0.0.3:2: nothing on this machine ever used it. */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1)};
    struct sockaddr_in b = {.sin_family = AF_INET, .sin_port = htons(2)};
    inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
    inet_pton(AF_INET, "127.0.0.3", &b.sin_addr);
    struct diag_sock s;
    CU_ASSERT_EQUAL(diag_query_tcp((struct sockaddr *)&a, (struct sockaddr *)&b, &s), -ENOENT);
    struct sockaddr_in6 c = {.sin6_family = AF_INET6, .sin6_port = htons(1)};
    struct sockaddr_in6 d = {.sin6_family = AF_INET6, .sin6_port = htons(2)};
    inet_pton(AF_INET6, "2001:db8::1", &c.sin6_addr);
    inet_pton(AF_INET6, "2001:db8::2", &d.sin6_addr);
    CU_ASSERT_EQUAL(diag_query_tcp((struct sockaddr *)&c, (struct sockaddr *)&d, &s), -ENOENT);
    /* Not an IP address at all, or none: refused, not crashed. */
    struct sockaddr un = {.sa_family = AF_UNIX};
    CU_ASSERT(diag_query_tcp(&un, &un, &s) < 0);
    CU_ASSERT(diag_query_tcp(NULL, NULL, &s) < 0);
}

static void test_ipv6(void)
{
    struct endpoint at;
    int fd = open_listener(AF_INET6, &at);
    if (fd == -1) {
        printf("\n  note: ::1 cannot be bound here (%s); the IPv6 checks are skipped ...",
               strerror(errno));
        return;
    }
    close(fd);
    listener_is_found(AF_INET6);
    both_ends_established(AF_INET6);
}

UNIT_MAIN("sock_diag", {"a listening socket on 127.0.0.1 is found in LISTEN", test_listener_found},
          {"both ends of a connection are found ESTABLISHED", test_connection_established},
          {"the side that closes first is left in FIN_WAIT_1, FIN_WAIT_2, then TIME_WAIT",
           test_first_closer},
          {"a connection that never existed is not found (ENOENT)", test_never_existed},
          {"a dump by ports is filtered by the kernel: the ports asked for, nothing else",
           test_dump_by_ports},
          {"the same holds over IPv6 on ::1 when this machine has it", test_ipv6});
