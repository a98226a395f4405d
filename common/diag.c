/* diag.c: TCP sockets through sock_diag netlink; see diag.h. */
#include "diag.h"
#include "quiet.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Every state: the mask has one bit a state number. */
#define ALL_STATES 0xfffu
/* A dump can be long; each reply buffer is this size. */
#define DIAG_BUFSIZE 32768

static void fill_addr(struct sockaddr_storage *ss, int family, const __be32 *addr, __be16 port)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = port;
        memcpy(&in->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = port;
        memcpy(&in6->sin6_addr, addr, 16);
    }
}

static int dump_family(int family, int port, diag_visit_fn visit, void *arg, bool *stopped)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl == -1)
        return -errno;

    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } msg;
    memset(&msg, 0, sizeof msg);
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.nlh.nlmsg_seq = 1;
    msg.req.sdiag_family = (uint8_t)family;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = ALL_STATES;

    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(nl, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel) == -1) {
        int e = errno;
        close(nl);
        return -e;
    }

    static __thread char buf[DIAG_BUFSIZE] __attribute__((aligned(8)));
    int rc = 0;
    /* A dump ends with NLMSG_DONE; bound the loop anyway. */
    for (int round = 0; round < 100000; round++) {
        ssize_t n = recv(nl, buf, sizeof buf, 0);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        bool done = false;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                done = true;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                rc = e->error < 0 ? e->error : -EIO;
                done = true;
                break;
            }
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
                continue;
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            int sport = ntohs(m->id.idiag_sport), dport = ntohs(m->id.idiag_dport);
            if (port != 0 && sport != port && dport != port)
                continue;
            struct diag_sock s;
            memset(&s, 0, sizeof s);
            s.family = m->idiag_family;
            s.state = m->idiag_state;
            fill_addr(&s.local, m->idiag_family, m->id.idiag_src, m->id.idiag_sport);
            fill_addr(&s.peer, m->idiag_family, m->id.idiag_dst, m->id.idiag_dport);
            s.addrlen = m->idiag_family == AF_INET ? sizeof(struct sockaddr_in)
                                                   : sizeof(struct sockaddr_in6);
            s.rqueue = m->idiag_rqueue;
            s.wqueue = m->idiag_wqueue;
            s.uid = m->idiag_uid;
            s.inode = m->idiag_inode;
            if (visit(&s, arg) != 0) {
                *stopped = true;
                done = true;
                break;
            }
        }
        if (done)
            break;
    }
    close(nl);
    return rc;
}

int diag_dump_tcp(int family, int port, diag_visit_fn visit, void *arg)
{
    bool stopped = false;
    int rc = 0;
    /* These netlink calls are ours, not the traced program's. */
    quiet_begin();
    if (family == AF_INET || family == AF_UNSPEC)
        rc = dump_family(AF_INET, port, visit, arg, &stopped);
    if (rc == 0 && !stopped && (family == AF_INET6 || family == AF_UNSPEC))
        rc = dump_family(AF_INET6, port, visit, arg, &stopped);
    quiet_end();
    return rc;
}

/* Compare an address from the caller with one from the kernel. An IPv4
 * socket reached through IPv6 (::ffff:a.b.c.d) matches its IPv4 form. */
static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    const struct sockaddr *bb = (const struct sockaddr *)b;
    if (a->sa_family == AF_INET && bb->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)bb;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6 && bb->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)bb;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return false;
}

struct query {
    const struct sockaddr *local, *peer;
    struct diag_sock *out;
    bool found;
};

static int match_one(const struct diag_sock *s, void *arg)
{
    struct query *q = arg;
    if (same_addr(q->local, &s->local) && same_addr(q->peer, &s->peer)) {
        *q->out = *s;
        q->found = true;
        return 1;
    }
    return 0;
}

int diag_query_tcp(const struct sockaddr *local, const struct sockaddr *peer, struct diag_sock *out)
{
    if (local == NULL || peer == NULL ||
        (local->sa_family != AF_INET && local->sa_family != AF_INET6))
        return -EAFNOSUPPORT;
    int port = ntohs(local->sa_family == AF_INET ? ((const struct sockaddr_in *)local)->sin_port
                                                 : ((const struct sockaddr_in6 *)local)->sin6_port);
    struct query q = {.local = local, .peer = peer, .out = out, .found = false};
    int rc = diag_dump_tcp(local->sa_family, port, match_one, &q);
    if (rc < 0)
        return rc;
    return q.found ? 0 : -ENOENT;
}
