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

/* The kernel's filter language for a dump (INET_DIAG_REQ_BYTECODE), as
 * `ss` speaks it: ops that jump ahead by `yes` or `no` bytes; landing just
 * past the end accepts a socket, 4 bytes beyond rejects it, and a `no`
 * must land on an op that the chain of `yes` jumps also reaches. Ours
 * accepts a socket whose local or peer port is one of `ports`, so the
 * kernel copies out only those, not every socket of a busy host:
 *
 *   [S_EQ p0][JMP to end][D_EQ p0][JMP to end][S_EQ p1] ... [D_EQ pn]
 *
 * A match goes on to its JMP, which always takes `no`, to the end; a
 * mismatch skips its JMP to the next test. Returns the length in bytes. */
static size_t port_filter(const int *ports, int nports, struct inet_diag_bc_op *bc)
{
    const unsigned short op = sizeof *bc, test = 2 * sizeof *bc; /* a test: code, then port */
    int ntests = 2 * nports;
    size_t len = (size_t)(ntests - 1) * (test + op) + test;
    struct inet_diag_bc_op *at = bc;
    for (int k = 0; k < ntests; k++) {
        bool last = k == ntests - 1;
        at[0] = (struct inet_diag_bc_op){.code = k % 2 ? INET_DIAG_BC_D_EQ : INET_DIAG_BC_S_EQ,
                                         .yes = test, /* to its JMP, or past the end */
                                         .no = (unsigned short)(test + op)}; /* next test */
        at[1] = (struct inet_diag_bc_op){.no = (unsigned short)ports[k / 2]};
        at += 2;
        if (!last) {
            size_t left = len - (size_t)((char *)at - (char *)bc);
            *at++ = (struct inet_diag_bc_op){
                .code = INET_DIAG_BC_JMP, .yes = op, .no = (unsigned short)left};
        }
    }
    return len;
}

static __thread bool last_in_kernel;

bool diag_last_dump_filtered(void)
{
    return last_in_kernel;
}

static int dump_family(int family, const int *ports, int nports, bool in_kernel,
                       diag_visit_fn visit, void *arg, bool *stopped)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl == -1)
        return -errno;

    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
        struct nlattr attr;
        struct inet_diag_bc_op bc[6 * DIAG_MAX_PORTS];
    } msg;
    memset(&msg, 0, sizeof msg);
    msg.nlh.nlmsg_len = NLMSG_LENGTH(sizeof msg.req);
    if (nports > 0 && in_kernel) {
        size_t bclen = port_filter(ports, nports, msg.bc);
        msg.attr.nla_type = INET_DIAG_REQ_BYTECODE;
        msg.attr.nla_len = (unsigned short)(NLA_HDRLEN + bclen);
        msg.nlh.nlmsg_len += NLA_ALIGN(msg.attr.nla_len);
    }
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.nlh.nlmsg_seq = 1;
    msg.req.sdiag_family = (uint8_t)family;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = ALL_STATES;

    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(nl, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) == -1) {
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
            bool wanted = nports == 0;
            for (int i = 0; i < nports && !wanted; i++)
                wanted = sport == ports[i] || dport == ports[i];
            if (!wanted)
                continue; /* the kernel filters too; this is for a kernel that cannot */
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

int diag_dump_tcp_ports(int family, const int *ports, int nports, diag_visit_fn visit, void *arg)
{
    if (nports < 0 || nports > DIAG_MAX_PORTS || (nports > 0 && ports == NULL))
        return -EINVAL;
    for (int i = 0; i < nports; i++)
        if (ports[i] <= 0 || ports[i] > 65535)
            return -EINVAL;
    /* These netlink calls are ours, not the traced program's. */
    quiet_begin();
    /* The kernel filters by port; one older than 4.16 knows no such test
     * (EINVAL), and then every socket comes and we filter here. */
    int rc = -EINVAL;
    for (int pass = 0; pass < 2 && rc == -EINVAL; pass++) {
        bool in_kernel = pass == 0 && nports > 0, stopped = false;
        rc = 0;
        if (family == AF_INET || family == AF_UNSPEC)
            rc = dump_family(AF_INET, ports, nports, in_kernel, visit, arg, &stopped);
        if (rc == 0 && !stopped && (family == AF_INET6 || family == AF_UNSPEC))
            rc = dump_family(AF_INET6, ports, nports, in_kernel, visit, arg, &stopped);
        last_in_kernel = in_kernel && rc == 0;
        if (!in_kernel)
            break;
    }
    quiet_end();
    return rc;
}

int diag_dump_tcp(int family, int port, diag_visit_fn visit, void *arg)
{
    return diag_dump_tcp_ports(family, &port, port == 0 ? 0 : 1, visit, arg);
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
