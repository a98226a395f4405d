/*
 * wrap.c: the interposer. It stands in front of each socket call, and
 * around it:
 *
 *   1. notes the call with its real arguments and where it was made;
 *   2. in step mode, shows it and waits for the go (step.c);
 *   3. makes the real call;
 *   4. asks the kernel what the call did to the socket: its addresses,
 *      its TCP state (TCP_INFO, or sock_diag after close), its queues;
 *   5. emits one event (trace.c) and, in step mode, shows the result.
 *
 * Built twice from this one file: for lessons, each function is
 * __wrap_NAME and the real one __real_NAME (GNU ld --wrap=NAME); with
 * SOCKSCOPE_PRELOAD, each function is NAME itself and the real one is
 * found with dlsym(RTLD_NEXT), for LD_PRELOAD into any program.
 *
 * With no sink and no step mode, a wrapper only calls through.
 */

/* Plain struct sockaddr pointers in the prototypes (no GNU transparent
 * unions), so these definitions match the declarations in both builds. */
#undef _GNU_SOURCE
#define _DEFAULT_SOURCE 1

#include "wrap.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "event.h"
#include "explain.h"
#include "names.h"
#include "quiet.h"
#include "sockstate.h"
#include "step.h"
#include "textbuf.h"
#include "trace.h"

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
#ifndef SCM_CREDENTIALS
#define SCM_CREDENTIALS 0x02 /* Linux; declared only for _GNU_SOURCE */
#endif

#ifdef SOCKSCOPE_PRELOAD
void *sockscope_real(const char *name);
#define WRAP(name) __attribute__((visibility("default"))) name
/* The C library's function, found on first use. */
#define DECLARE_REAL(ret, name, params)                                                            \
    static ret(*real_##name) params;                                                               \
    static __typeof__(real_##name) get_real_##name(void)                                           \
    {                                                                                              \
        if (real_##name == NULL)                                                                   \
            real_##name = (__typeof__(real_##name))sockscope_real(#name);                          \
        return real_##name;                                                                        \
    }
#define REAL(name) (get_real_##name())
#define LINKED false
#else
#define WRAP(name) __wrap_##name
#define DECLARE_REAL(ret, name, params) extern ret __real_##name params;
#define REAL(name) __real_##name
#define LINKED true
#endif

/* Where the lesson made the call: set by srcpos.h just before it. */
__thread const char *sockscope_src_file;
__thread int sockscope_src_line;

const char *const wrap_calls[] = {
    "socket",     "socketpair", "bind",   "listen",     "accept", "accept4",
    "connect",    "send",       "sendto", "sendmsg",    "recv",   "recvfrom",
    "recvmsg",    "read",       "write",  "shutdown",   "close",  "setsockopt",
    "getsockopt", "poll",       "select", "epoll_wait", NULL,
};

static __thread struct call_failure last_failure = {.fd = -1, .port = -1};

const struct call_failure *wrap_last_failure(void)
{
    return &last_failure;
}

static void remember_failure(const char *call, int err, int fd, const struct sockaddr *sa,
                             socklen_t len)
{
    snprintf(last_failure.call, sizeof last_failure.call, "%s", call);
    last_failure.err = err;
    last_failure.fd = fd;
    last_failure.addr[0] = '\0';
    last_failure.port = -1;
    if (sa != NULL && len > 0) {
        addr_format(sa, len, last_failure.addr, sizeof last_failure.addr);
        last_failure.port = addr_port(sa);
    }
}

/* --- what we know of each fd ------------------------------------------- */

#define FD_TABLE 1024
enum { FD_UNKNOWN = 0, FD_SOCKET, FD_OTHER };

struct fdinfo {
    unsigned char known;
    dev_t dev; /* the file the fd was when last asked; ino 0: not asked */
    ino_t ino;
    bool have_kind;
    bool addrs_fixed; /* a connected TCP socket: its addresses never change */
    struct sock_kind kind;
    char local[ADDR_STRLEN], peer[ADDR_STRLEN];
    /* The same addresses as the kernel gave them: once the connection has
     * gone to TIME_WAIT, getpeername fails, and only these can find it. */
    struct sockaddr_storage local_sa, peer_sa;
    /* When the kernel was last asked about it (see truth_wanted). */
    uint64_t truth_window_ns, truth_last_ns;
    unsigned truth_count;
};

static struct fdinfo fdtab[FD_TABLE];

static struct fdinfo *fdinfo_of(int fd)
{
    return fd >= 0 && fd < FD_TABLE ? &fdtab[fd] : NULL;
}

static void fd_forget(int fd)
{
    struct fdinfo *fi = fdinfo_of(fd);
    if (fi != NULL)
        memset(fi, 0, sizeof *fi);
}

static void fd_mark_socket(int fd)
{
    struct fdinfo *fi = fdinfo_of(fd);
    if (fi != NULL) {
        memset(fi, 0, sizeof *fi);
        fi->known = FD_SOCKET;
    }
}

/* Is `fd` a socket? Asked of the kernel each time: the C library may have
 * closed the fd on its own (fclose of an fdopen'ed socket) and the number
 * now names a file. When the fd is no longer what it was, forget what we
 * knew of it (its kind, its connection). */
static bool fd_is_socket(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == -1) {
        fd_forget(fd);
        return false;
    }
    bool sock = S_ISSOCK(st.st_mode);
    struct fdinfo *fi = fdinfo_of(fd);
    if (fi != NULL) {
        bool same = fi->known == (sock ? FD_SOCKET : FD_OTHER) &&
                    (fi->ino == 0 || (fi->ino == st.st_ino && fi->dev == st.st_dev));
        if (!same)
            memset(fi, 0, sizeof *fi);
        fi->known = sock ? FD_SOCKET : FD_OTHER;
        fi->dev = st.st_dev;
        fi->ino = st.st_ino;
    }
    return sock;
}

static bool fd_kind(int fd, struct sock_kind *k)
{
    struct fdinfo *fi = fdinfo_of(fd);
    if (fi != NULL && fi->have_kind) {
        *k = fi->kind;
        return true;
    }
    if (sock_kind_get(fd, k) == -1)
        return false;
    if (fi != NULL) {
        fi->kind = *k;
        fi->have_kind = true;
    }
    return true;
}

/* --- one call ---------------------------------------------------------- */

struct call {
    struct event e;
    uint64_t t0;
    char args[256];
};

static bool tracing(void)
{
    return trace_g.active && !quiet_active();
}

/* Take the source position the lesson noted for this call. */
static void take_srcpos(struct event *e)
{
    e->src_file = sockscope_src_file;
    e->src_line = sockscope_src_line;
    sockscope_src_file = NULL;
}

/* An address as this kind of socket has it: raw and ICMP sockets have no
 * ports (the kernel keeps the protocol or the echo identifier there). */
static void format_for(const struct sock_kind *k, const struct sockaddr *sa, socklen_t len,
                       char *buf, size_t size)
{
    if (k->type == SOCK_RAW || k->protocol == IPPROTO_ICMP || k->protocol == IPPROTO_ICMPV6)
        addr_format_host(sa, len, buf, size);
    else
        addr_format(sa, len, buf, size);
}

/* The kernel's truth about `fd`, into the event. */
static void fill_truth(struct event *e, int fd)
{
    struct sock_kind k;
    if (fd < 0 || !fd_kind(fd, &k))
        return;
    e->sock = sock_kind_name(&k);
    struct fdinfo *fi = fdinfo_of(fd);
    struct sockaddr_storage lsa, psa;
    if (fi != NULL && fi->addrs_fixed) {
        memcpy(e->local, fi->local, sizeof e->local);
        memcpy(e->peer, fi->peer, sizeof e->peer);
    } else {
        socklen_t len = sizeof lsa;
        if (getsockname(fd, (struct sockaddr *)&lsa, &len) == 0 && len > sizeof(sa_family_t))
            format_for(&k, (struct sockaddr *)&lsa, len, e->local, sizeof e->local);
        len = sizeof psa;
        if (getpeername(fd, (struct sockaddr *)&psa, &len) == 0)
            format_for(&k, (struct sockaddr *)&psa, len, e->peer, sizeof e->peer);
    }
    if (sock_kind_is_tcp(&k)) {
        struct tcp_info ti;
        socklen_t tl = sizeof ti;
        memset(&ti, 0, sizeof ti);
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0) {
            e->state = ti.tcpi_state;
            e->state_src = "tcp_info";
            if (ti.tcpi_state == TCPS_LISTEN) {
                /* For a listener the kernel reports its accept queue:
                 * connections waiting for accept(), and the backlog. */
                e->rxq = (int)ti.tcpi_unacked;
                e->txq = (int)ti.tcpi_sacked;
            }
        }
        if (fi != NULL && e->peer[0] && e->state >= TCPS_ESTABLISHED && e->state != TCPS_SYN_SENT &&
            e->state != TCPS_SYN_RECEIVED && !fi->addrs_fixed) {
            memcpy(fi->local, e->local, sizeof fi->local);
            memcpy(fi->peer, e->peer, sizeof fi->peer);
            fi->local_sa = lsa;
            fi->peer_sa = psa;
            fi->addrs_fixed = true;
        }
        if (e->state == TCPS_CLOSED && fi != NULL && fi->addrs_fixed) {
            /* The fd's socket says CLOSED, but its connection may live on
             * in TIME_WAIT, which the kernel keeps apart from the fd. */
            struct diag_sock ds;
            if (diag_query_tcp((struct sockaddr *)&fi->local_sa, (struct sockaddr *)&fi->peer_sa,
                               &ds) == 0) {
                e->state = ds.state;
                e->state_src = "sock_diag";
            }
        }
    }
    if (e->state != TCPS_LISTEN) {
        int in, out;
        if (sock_queues(fd, &in, &out) == 0) {
            e->rxq = in;
            e->txq = out;
        }
    }
}

static bool sends_only(const char *call)
{
    return strcmp(call, "send") == 0 || strcmp(call, "sendto") == 0 ||
           strcmp(call, "sendmsg") == 0 || strcmp(call, "write") == 0;
}

static bool receives_only(const char *call)
{
    return strcmp(call, "recv") == 0 || strcmp(call, "recvfrom") == 0 ||
           strcmp(call, "recvmsg") == 0 || strcmp(call, "read") == 0;
}

/*
 * A busy socket (a benchmark, a flood) makes data calls far faster than
 * anyone can watch, and asking the kernel for its state and queues after
 * each (three system calls) would then cost the program more than tracing
 * the call itself. So on a connected TCP socket the first TRUTH_BURST data
 * calls of every TRUTH_WINDOW_NS are asked about, then one a TRUTH_GAP_NS;
 * a call that failed or read the end of the stream always is, and so is
 * every call in step mode. A lesson at a person's pace is asked about
 * every call; the events of the others say state null (docs/trace-format.md).
 */
#define TRUTH_BURST 16
#define TRUTH_WINDOW_NS 10000000ull /* 10 ms */
#define TRUTH_GAP_NS 1000000ull     /* 1 ms */

static bool truth_wanted(const struct call *c, long long ret, int fd, uint64_t now)
{
    struct fdinfo *fi = fdinfo_of(fd);
    if (trace_g.step || fi == NULL || !fi->addrs_fixed || ret <= 0 ||
        !(sends_only(c->e.call) || receives_only(c->e.call)))
        return true;
    if (now - fi->truth_window_ns > TRUTH_WINDOW_NS) {
        fi->truth_window_ns = now;
        fi->truth_count = 0;
    }
    if (++fi->truth_count <= TRUTH_BURST || now - fi->truth_last_ns >= TRUTH_GAP_NS) {
        fi->truth_last_ns = now;
        return true;
    }
    return false;
}

/* What is known of a busy socket without asking the kernel. */
static void fill_known(struct event *e, int fd)
{
    struct fdinfo *fi = fdinfo_of(fd);
    e->sock = sock_kind_name(&fi->kind);
    memcpy(e->local, fi->local, sizeof e->local);
    memcpy(e->peer, fi->peer, sizeof e->peer);
}

static void call_begin(struct call *c, const char *name, int fd)
{
    event_init(&c->e);
    c->e.kind = "call";
    c->e.call = name;
    c->e.fd = fd;
    c->e.args = c->args;
    c->args[0] = '\0';
    take_srcpos(&c->e);
}

/* Before the real call: in step mode, show it with the socket's state now
 * and wait for the go. */
static void call_announce(struct call *c)
{
    quiet_begin();
    if (step_wanted()) {
        struct event s = c->e;
        s.kind = "step";
        s.what = explain_call(c->e.call);
        fill_truth(&s, c->e.fd);
        step_before(&s);
    } else {
        step_idle();
    }
    /* Any call but a send may wait: write out the events the sinks'
     * buffer holds first, while the process would wait anyway. */
    if (!sends_only(c->e.call))
        trace_flush();
    quiet_end();
    c->t0 = trace_now_ns();
}

/* After the real call: the kernel's truth, the event, the result shown. */
static void call_end(struct call *c, long long ret, int err, int truth_fd)
{
    quiet_begin();
    uint64_t t1 = trace_now_ns();
    c->e.ts_ns = t1;
    c->e.dur_ns = t1 - c->t0;
    c->e.ret = ret;
    c->e.err = ret < 0 ? err : 0;
    if (truth_wanted(c, ret, truth_fd, t1))
        fill_truth(&c->e, truth_fd);
    else
        fill_known(&c->e, truth_fd);
    trace_emit(&c->e);
    if (trace_g.step)
        step_after(&c->e);
    quiet_end();
    errno = err;
}

/* A short quoted preview of data for the call's text: "hello\n", or
 * "the first twenty by"... when longer. */
static void put_preview(struct textbuf *t, const void *buf, size_t len)
{
    char esc[64];
    size_t n = len < 20 ? len : 20;
    json_escape_bytes(buf, n, esc, sizeof esc);
    textbuf_put(t, "\"", 1);
    textbuf_str(t, esc);
    textbuf_str(t, len > n ? "\"..." : "\"");
}

static const char *preview(const void *buf, size_t len, char *out, size_t size)
{
    struct textbuf t = {.buf = out, .cap = size};
    put_preview(&t, buf, len);
    return textbuf_end(&t);
}

/* "send(3, \"hello\", 5, 0)", "recv(3, buf, 64, 0)", "read(3, buf, 64)":
 * `data` (the bytes sent) or NULL for "buf"; `flags` NULL for none. */
static void data_args(struct call *c, const char *name, int fd, const void *data, size_t len,
                      const int *flags)
{
    /* Built without printf: sends and receives, the calls a busy program
     * makes most, each build one. */
    struct textbuf t = {.buf = c->args, .cap = sizeof c->args};
    textbuf_str(&t, name);
    textbuf_put(&t, "(", 1);
    if (fd < 0)
        textbuf_put(&t, "-", 1);
    textbuf_uint(&t, (unsigned long long)(fd < 0 ? -(long long)fd : fd));
    textbuf_put(&t, ", ", 2);
    if (data != NULL)
        put_preview(&t, data, len);
    else
        textbuf_put(&t, "buf", 3);
    textbuf_put(&t, ", ", 2);
    textbuf_uint(&t, len);
    if (flags != NULL) {
        char f[96];
        textbuf_put(&t, ", ", 2);
        textbuf_str(&t, name_msgflags(*flags, f, sizeof f));
    }
    textbuf_put(&t, ")", 1);
    textbuf_end(&t);
}

static void set_addr(struct event *e, const struct sockaddr *sa, socklen_t len)
{
    struct sock_kind k;
    if (sa == NULL || len == 0)
        return;
    if (e->fd >= 0 && fd_kind(e->fd, &k))
        format_for(&k, sa, len, e->addr, sizeof e->addr);
    else
        addr_format(sa, len, e->addr, sizeof e->addr);
}

/* --- the wrappers ------------------------------------------------------ */

DECLARE_REAL(int, socket, (int, int, int))
int WRAP(socket)(int domain, int type, int protocol)
{
    if (!tracing())
        return REAL(socket)(domain, type, protocol);
    struct call c;
    call_begin(&c, "socket", -1);
    char a[32], b[48], p[32];
    snprintf(c.args, sizeof c.args, "socket(%s, %s, %s)", name_family(domain, a, sizeof a),
             name_socktype(type, b, sizeof b), name_protocol(domain, protocol, p, sizeof p));
    call_announce(&c);
    int r = REAL(socket)(domain, type, protocol);
    int err = errno;
    if (r >= 0)
        fd_mark_socket(r);
    c.e.fd = r;
    call_end(&c, r, err, r);
    return r;
}

DECLARE_REAL(int, socketpair, (int, int, int, int *))
int WRAP(socketpair)(int domain, int type, int protocol, int sv[2])
{
    if (!tracing())
        return REAL(socketpair)(domain, type, protocol, sv);
    struct call c;
    call_begin(&c, "socketpair", -1);
    char a[32], b[48], p[32];
    snprintf(c.args, sizeof c.args, "socketpair(%s, %s, %s, sv)", name_family(domain, a, sizeof a),
             name_socktype(type, b, sizeof b), name_protocol(domain, protocol, p, sizeof p));
    call_announce(&c);
    int r = REAL(socketpair)(domain, type, protocol, sv);
    int err = errno;
    if (r == 0) {
        fd_mark_socket(sv[0]);
        fd_mark_socket(sv[1]);
        c.e.fd = sv[0];
        c.e.fd2 = sv[1];
    }
    call_end(&c, r, err, r == 0 ? sv[0] : -1);
    return r;
}

DECLARE_REAL(int, bind, (int, const struct sockaddr *, socklen_t))
int WRAP(bind)(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (!tracing()) {
        int r = REAL(bind)(fd, sa, len);
        if (r == -1) {
            int err = errno;
            remember_failure("bind", err, fd, sa, len);
            errno = err;
        }
        return r;
    }
    struct call c;
    call_begin(&c, "bind", fd);
    set_addr(&c.e, sa, len);
    snprintf(c.args, sizeof c.args, "bind(%d, %s)", fd, c.e.addr);
    call_announce(&c);
    int r = REAL(bind)(fd, sa, len);
    int err = errno;
    if (r == -1)
        remember_failure("bind", err, fd, sa, len);
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(int, listen, (int, int))
int WRAP(listen)(int fd, int backlog)
{
    if (!tracing())
        return REAL(listen)(fd, backlog);
    struct call c;
    call_begin(&c, "listen", fd);
    snprintf(c.args, sizeof c.args, "listen(%d, %d)", fd, backlog);
    call_announce(&c);
    int r = REAL(listen)(fd, backlog);
    int err = errno;
    if (r == -1)
        remember_failure("listen", err, fd, NULL, 0);
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(int, accept, (int, struct sockaddr *, socklen_t *))
DECLARE_REAL(int, accept4, (int, struct sockaddr *, socklen_t *, int))
static int accept_common(const char *name, int fd, struct sockaddr *sa, socklen_t *lenp, int flags,
                         bool four)
{
    if (!tracing()) {
        int r = four ? REAL(accept4)(fd, sa, lenp, flags) : REAL(accept)(fd, sa, lenp);
        if (r == -1) {
            int err = errno;
            remember_failure(name, err, fd, NULL, 0);
            errno = err;
        }
        return r;
    }
    struct call c;
    call_begin(&c, name, fd);
    if (four) {
        snprintf(c.args, sizeof c.args, "accept4(%d, %s%s%s)", fd,
                 (flags & SOCK_NONBLOCK) ? "SOCK_NONBLOCK" : "",
                 (flags & SOCK_NONBLOCK) && (flags & SOCK_CLOEXEC) ? "|" : "",
                 (flags & SOCK_CLOEXEC) ? "SOCK_CLOEXEC" : (flags ? "" : "0"));
    } else {
        snprintf(c.args, sizeof c.args, "accept(%d)", fd);
    }
    call_announce(&c);
    int r = four ? REAL(accept4)(fd, sa, lenp, flags) : REAL(accept)(fd, sa, lenp);
    int err = errno;
    if (r >= 0) {
        fd_mark_socket(r);
        if (sa != NULL && lenp != NULL)
            set_addr(&c.e, sa, *lenp);
    } else {
        remember_failure(name, err, fd, NULL, 0);
    }
    /* The event describes the new connection's socket, whose fd is ret. */
    call_end(&c, r, err, r >= 0 ? r : fd);
    return r;
}

int WRAP(accept)(int fd, struct sockaddr *sa, socklen_t *lenp)
{
    return accept_common("accept", fd, sa, lenp, 0, false);
}

int WRAP(accept4)(int fd, struct sockaddr *sa, socklen_t *lenp, int flags)
{
    return accept_common("accept4", fd, sa, lenp, flags, true);
}

DECLARE_REAL(int, connect, (int, const struct sockaddr *, socklen_t))
int WRAP(connect)(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (!tracing()) {
        int r = REAL(connect)(fd, sa, len);
        if (r == -1) {
            int err = errno;
            remember_failure("connect", err, fd, sa, len);
            errno = err;
        }
        return r;
    }
    struct call c;
    call_begin(&c, "connect", fd);
    set_addr(&c.e, sa, len);
    snprintf(c.args, sizeof c.args, "connect(%d, %s)", fd, c.e.addr);
    call_announce(&c);
    int r = REAL(connect)(fd, sa, len);
    int err = errno;
    if (r == -1)
        remember_failure("connect", err, fd, sa, len);
    struct fdinfo *fi = fdinfo_of(fd);
    if (fi != NULL)
        fi->addrs_fixed = false;
    call_end(&c, r, err, fd);
    return r;
}

/* Data calls: the bytes moved are shown, never more than were moved. */
static void data_result(struct call *c, const void *buf, ssize_t r)
{
    if (r >= 0) {
        c->e.bytes = r;
        c->e.data = buf;
        c->e.data_len = (size_t)r;
    }
}

DECLARE_REAL(ssize_t, send, (int, const void *, size_t, int))
ssize_t WRAP(send)(int fd, const void *buf, size_t len, int flags)
{
    if (!tracing())
        return REAL(send)(fd, buf, len, flags);
    struct call c;
    call_begin(&c, "send", fd);
    data_args(&c, "send", fd, buf, len, &flags);
    call_announce(&c);
    ssize_t r = REAL(send)(fd, buf, len, flags);
    int err = errno;
    if (r == -1)
        remember_failure("send", err, fd, NULL, 0);
    data_result(&c, buf, r);
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t))
ssize_t WRAP(sendto)(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa,
                     socklen_t salen)
{
    if (!tracing())
        return REAL(sendto)(fd, buf, len, flags, sa, salen);
    struct call c;
    call_begin(&c, "sendto", fd);
    set_addr(&c.e, sa, salen);
    char p[96], f[96];
    snprintf(c.args, sizeof c.args, "sendto(%d, %s, %zu, %s, %s)", fd,
             preview(buf, len, p, sizeof p), len, name_msgflags(flags, f, sizeof f),
             sa != NULL ? c.e.addr : "NULL");
    call_announce(&c);
    ssize_t r = REAL(sendto)(fd, buf, len, flags, sa, salen);
    int err = errno;
    if (r == -1)
        remember_failure("sendto", err, fd, sa, salen);
    data_result(&c, buf, r);
    call_end(&c, r, err, fd);
    return r;
}

/* Copy the first bytes of an iovec array into `out`, for the preview. */
static size_t gather_iov(const struct msghdr *m, size_t limit, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen && o < size && o < limit; i++) {
        size_t n = m->msg_iov[i].iov_len;
        if (n > size - o)
            n = size - o;
        if (n > limit - o)
            n = limit - o;
        memcpy(out + o, m->msg_iov[i].iov_base, n);
        o += n;
    }
    return o;
}

static size_t iov_total(const struct msghdr *m)
{
    size_t t = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen; i++)
        t += m->msg_iov[i].iov_len;
    return t;
}

static const char *cmsg_summary(const struct msghdr *m)
{
    if (m->msg_control == NULL || m->msg_controllen == 0)
        return "";
    for (struct cmsghdr *h = CMSG_FIRSTHDR((struct msghdr *)m); h != NULL;
         h = CMSG_NXTHDR((struct msghdr *)m, h)) {
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
            return ", SCM_RIGHTS";
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS)
            return ", SCM_CREDENTIALS";
    }
    return ", control data";
}

DECLARE_REAL(ssize_t, sendmsg, (int, const struct msghdr *, int))
ssize_t WRAP(sendmsg)(int fd, const struct msghdr *msg, int flags)
{
    if (!tracing())
        return REAL(sendmsg)(fd, msg, flags);
    struct call c;
    call_begin(&c, "sendmsg", fd);
    set_addr(&c.e, msg->msg_name, msg->msg_namelen);
    char f[96];
    snprintf(c.args, sizeof c.args, "sendmsg(%d, %zu bytes in %zu iov%s, %s)", fd, iov_total(msg),
             (size_t)msg->msg_iovlen, cmsg_summary(msg), name_msgflags(flags, f, sizeof f));
    call_announce(&c);
    ssize_t r = REAL(sendmsg)(fd, msg, flags);
    int err = errno;
    if (r == -1)
        remember_failure("sendmsg", err, fd, msg->msg_name, msg->msg_namelen);
    char pv[EVENT_PREVIEW];
    if (r >= 0)
        data_result(&c, pv, r), c.e.data_len = gather_iov(msg, (size_t)r, pv, sizeof pv);
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(ssize_t, recv, (int, void *, size_t, int))
ssize_t WRAP(recv)(int fd, void *buf, size_t len, int flags)
{
    if (!tracing())
        return REAL(recv)(fd, buf, len, flags);
    struct call c;
    call_begin(&c, "recv", fd);
    data_args(&c, "recv", fd, NULL, len, &flags);
    call_announce(&c);
    ssize_t r = REAL(recv)(fd, buf, len, flags);
    int err = errno;
    if (r == -1)
        remember_failure("recv", err, fd, NULL, 0);
    /* With MSG_TRUNC a datagram's real length can exceed the buffer. */
    data_result(&c, buf, r);
    if (r > (ssize_t)len)
        c.e.data_len = len;
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *))
ssize_t WRAP(recvfrom)(int fd, void *buf, size_t len, int flags, struct sockaddr *sa,
                       socklen_t *salen)
{
    if (!tracing())
        return REAL(recvfrom)(fd, buf, len, flags, sa, salen);
    struct call c;
    call_begin(&c, "recvfrom", fd);
    char f[96];
    snprintf(c.args, sizeof c.args, "recvfrom(%d, buf, %zu, %s)", fd, len,
             name_msgflags(flags, f, sizeof f));
    call_announce(&c);
    ssize_t r = REAL(recvfrom)(fd, buf, len, flags, sa, salen);
    int err = errno;
    if (r == -1)
        remember_failure("recvfrom", err, fd, NULL, 0);
    else if (sa != NULL && salen != NULL)
        set_addr(&c.e, sa, *salen);
    data_result(&c, buf, r);
    if (r > (ssize_t)len)
        c.e.data_len = len;
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(ssize_t, recvmsg, (int, struct msghdr *, int))
ssize_t WRAP(recvmsg)(int fd, struct msghdr *msg, int flags)
{
    if (!tracing())
        return REAL(recvmsg)(fd, msg, flags);
    struct call c;
    call_begin(&c, "recvmsg", fd);
    char f[96];
    snprintf(c.args, sizeof c.args, "recvmsg(%d, %zu bytes in %zu iov, %s)", fd, iov_total(msg),
             (size_t)msg->msg_iovlen, name_msgflags(flags, f, sizeof f));
    call_announce(&c);
    ssize_t r = REAL(recvmsg)(fd, msg, flags);
    int err = errno;
    char pv[EVENT_PREVIEW];
    if (r == -1) {
        remember_failure("recvmsg", err, fd, NULL, 0);
    } else {
        if (msg->msg_name != NULL)
            set_addr(&c.e, msg->msg_name, msg->msg_namelen);
        size_t avail = (size_t)r < iov_total(msg) ? (size_t)r : iov_total(msg);
        data_result(&c, pv, r);
        c.e.data_len = gather_iov(msg, avail, pv, sizeof pv);
        size_t al = strlen(c.args);
        snprintf(c.args + al, sizeof c.args - al, "%s", cmsg_summary(msg));
    }
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(ssize_t, read, (int, void *, size_t))
ssize_t WRAP(read)(int fd, void *buf, size_t len)
{
    if (!tracing() || !fd_is_socket(fd)) {
        if (trace_g.step && !quiet_active())
            step_idle();
        sockscope_src_file = NULL;
        return REAL(read)(fd, buf, len);
    }
    struct call c;
    call_begin(&c, "read", fd);
    data_args(&c, "read", fd, NULL, len, NULL);
    call_announce(&c);
    ssize_t r = REAL(read)(fd, buf, len);
    int err = errno;
    if (r == -1)
        remember_failure("read", err, fd, NULL, 0);
    data_result(&c, buf, r);
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(ssize_t, write, (int, const void *, size_t))
ssize_t WRAP(write)(int fd, const void *buf, size_t len)
{
    if (!tracing() || !fd_is_socket(fd)) {
        sockscope_src_file = NULL;
        return REAL(write)(fd, buf, len);
    }
    struct call c;
    call_begin(&c, "write", fd);
    data_args(&c, "write", fd, buf, len, NULL);
    call_announce(&c);
    ssize_t r = REAL(write)(fd, buf, len);
    int err = errno;
    if (r == -1)
        remember_failure("write", err, fd, NULL, 0);
    data_result(&c, buf, r);
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(int, shutdown, (int, int))
int WRAP(shutdown)(int fd, int how)
{
    if (!tracing())
        return REAL(shutdown)(fd, how);
    struct call c;
    call_begin(&c, "shutdown", fd);
    snprintf(c.args, sizeof c.args, "shutdown(%d, %s)", fd, name_shutdown(how));
    call_announce(&c);
    int r = REAL(shutdown)(fd, how);
    int err = errno;
    if (r == -1)
        remember_failure("shutdown", err, fd, NULL, 0);
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(int, close, (int))
int WRAP(close)(int fd)
{
    if (!tracing() || !fd_is_socket(fd)) {
        fd_forget(fd);
        sockscope_src_file = NULL;
        return REAL(close)(fd);
    }
    struct call c;
    call_begin(&c, "close", fd);
    snprintf(c.args, sizeof c.args, "close(%d)", fd);
    call_announce(&c);

    /* Before the fd is gone, note which connection it was: after close
     * only sock_diag can tell what the kernel did with it. */
    quiet_begin();
    struct sock_kind k;
    bool tcp = fd_kind(fd, &k) && sock_kind_is_tcp(&k);
    struct event before;
    event_init(&before);
    fill_truth(&before, fd);
    struct sockaddr_storage local, peer;
    socklen_t ll = sizeof local, pl = sizeof peer;
    bool have_local = getsockname(fd, (struct sockaddr *)&local, &ll) == 0;
    bool have_peer = getpeername(fd, (struct sockaddr *)&peer, &pl) == 0;
    struct fdinfo *fi = fdinfo_of(fd);
    if (!have_peer && fi != NULL && fi->addrs_fixed) {
        local = fi->local_sa;
        peer = fi->peer_sa;
        have_local = have_peer = true;
    }
    if (tcp && have_local && !have_peer && before.state == TCPS_LISTEN) {
        /* A listener's peer is the zero address: if another process still
         * holds this socket, sock_diag still finds it listening. */
        memset(&peer, 0, sizeof peer);
        peer.ss_family = local.ss_family;
        have_peer = true;
    }
    quiet_end();

    int r = REAL(close)(fd);
    int err = errno;
    if (r == -1)
        remember_failure("close", err, fd, NULL, 0);
    fd_forget(fd);

    quiet_begin();
    uint64_t t1 = trace_now_ns();
    c.e.ts_ns = t1;
    c.e.dur_ns = t1 - c.t0;
    c.e.ret = r;
    c.e.err = r < 0 ? err : 0;
    c.e.sock = before.sock;
    memcpy(c.e.local, before.local, sizeof c.e.local);
    memcpy(c.e.peer, before.peer, sizeof c.e.peer);
    if (tcp) {
        c.e.state = TCPS_CLOSED;
        c.e.state_src = "sock_diag";
        struct diag_sock ds;
        if (have_local && have_peer &&
            diag_query_tcp((struct sockaddr *)&local, (struct sockaddr *)&peer, &ds) == 0) {
            c.e.state = ds.state == TCPS_NEW_SYN_RECV ? TCPS_SYN_RECEIVED : ds.state;
            c.e.rxq = (int)ds.rqueue;
            c.e.txq = (int)ds.wqueue;
        }
    }
    trace_emit(&c.e);
    if (trace_g.step)
        step_after(&c.e);
    quiet_end();
    errno = err;
    return r;
}

/* An option's value as the call's text shows it. */
static void option_value(int level, int opt, const void *val, socklen_t len, char *out, size_t size)
{
    if (val == NULL) {
        snprintf(out, size, "NULL");
    } else if (level == SOL_SOCKET && opt == SO_LINGER && len >= sizeof(struct linger)) {
        const struct linger *l = val;
        snprintf(out, size, "{on=%d, %ds}", l->l_onoff, l->l_linger);
    } else if (level == SOL_SOCKET && (opt == SO_RCVTIMEO || opt == SO_SNDTIMEO) &&
               len >= sizeof(struct timeval)) {
        const struct timeval *tv = val;
        snprintf(out, size, "{%lds %ldus}", (long)tv->tv_sec, (long)tv->tv_usec);
    } else if (len == sizeof(int)) {
        snprintf(out, size, "%d", *(const int *)val);
    } else {
        snprintf(out, size, "<%u bytes>", (unsigned)len);
    }
}

DECLARE_REAL(int, setsockopt, (int, int, int, const void *, socklen_t))
int WRAP(setsockopt)(int fd, int level, int opt, const void *val, socklen_t len)
{
    if (!tracing())
        return REAL(setsockopt)(fd, level, opt, val, len);
    struct call c;
    call_begin(&c, "setsockopt", fd);
    char l[32], o[32], v[48];
    option_value(level, opt, val, len, v, sizeof v);
    snprintf(c.args, sizeof c.args, "setsockopt(%d, %s, %s, %s)", fd,
             name_level(level, l, sizeof l), name_sockopt(level, opt, o, sizeof o), v);
    call_announce(&c);
    int r = REAL(setsockopt)(fd, level, opt, val, len);
    int err = errno;
    if (r == -1)
        remember_failure("setsockopt", err, fd, NULL, 0);
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(int, getsockopt, (int, int, int, void *, socklen_t *))
int WRAP(getsockopt)(int fd, int level, int opt, void *val, socklen_t *lenp)
{
    if (!tracing())
        return REAL(getsockopt)(fd, level, opt, val, lenp);
    struct call c;
    call_begin(&c, "getsockopt", fd);
    char l[32], o[32];
    snprintf(c.args, sizeof c.args, "getsockopt(%d, %s, %s)", fd, name_level(level, l, sizeof l),
             name_sockopt(level, opt, o, sizeof o));
    call_announce(&c);
    int r = REAL(getsockopt)(fd, level, opt, val, lenp);
    int err = errno;
    if (r == -1) {
        remember_failure("getsockopt", err, fd, NULL, 0);
    } else if (lenp != NULL) {
        char v[48];
        option_value(level, opt, val, *lenp, v, sizeof v);
        size_t al = strlen(c.args);
        snprintf(c.args + al, sizeof c.args - al, " -> %s", v);
    }
    call_end(&c, r, err, fd);
    return r;
}

DECLARE_REAL(int, poll, (struct pollfd *, nfds_t, int))
/* glibc declares poll's array write-only, but the caller filled in the fds
 * we read to name the call. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
int WRAP(poll)(struct pollfd *fds, nfds_t n, int timeout)
{
    if (!tracing())
        return REAL(poll)(fds, n, timeout);
    struct call c;
    call_begin(&c, "poll", n == 1 ? fds[0].fd : -1);
    snprintf(c.args, sizeof c.args, "poll(%lu fd%s, %d ms)", (unsigned long)n, n == 1 ? "" : "s",
             timeout);
    call_announce(&c);
    int r = REAL(poll)(fds, n, timeout);
    int err = errno;
    call_end(&c, r, err, n == 1 ? fds[0].fd : -1);
    return r;
}
#pragma GCC diagnostic pop

DECLARE_REAL(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))
int WRAP(select)(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
    if (!tracing())
        return REAL(select)(nfds, r, w, x, tv);
    struct call c;
    call_begin(&c, "select", -1);
    if (tv != NULL)
        snprintf(c.args, sizeof c.args, "select(%d, %ld.%06lds)", nfds, (long)tv->tv_sec,
                 (long)tv->tv_usec);
    else
        snprintf(c.args, sizeof c.args, "select(%d, no timeout)", nfds);
    call_announce(&c);
    int ret = REAL(select)(nfds, r, w, x, tv);
    int err = errno;
    call_end(&c, ret, err, -1);
    return ret;
}

DECLARE_REAL(int, epoll_wait, (int, struct epoll_event *, int, int))
int WRAP(epoll_wait)(int epfd, struct epoll_event *ev, int max, int timeout)
{
    if (!tracing())
        return REAL(epoll_wait)(epfd, ev, max, timeout);
    struct call c;
    call_begin(&c, "epoll_wait", epfd);
    snprintf(c.args, sizeof c.args, "epoll_wait(%d, %d events max, %d ms)", epfd, max, timeout);
    call_announce(&c);
    int r = REAL(epoll_wait)(epfd, ev, max, timeout);
    int err = errno;
    c.e.fd = epfd;
    call_end(&c, r, err, -1);
    return r;
}

/* --- processes ----------------------------------------------------------- */

static void emit_proc(const char *kind, const char *text)
{
    struct event e;
    event_init(&e);
    e.kind = kind;
    e.text = text;
    trace_emit(&e);
}

/* Before a call that waits: the sinks get the events waiting in
 * the buffer, and in step mode another process may take the terminal. */
static void before_wait(void)
{
    trace_flush();
    if (trace_g.step)
        step_idle();
}

DECLARE_REAL(pid_t, fork, (void))
pid_t WRAP(fork)(void)
{
    if (!trace_g.active)
        return REAL(fork)();
    pid_t parent = getpid();
    /* Also so that the child does not inherit (and write again) events
     * still waiting. */
    before_wait();
    pid_t r = REAL(fork)();
    if (r == 0) {
        int err = errno;
        trace_after_fork_child();
        step_after_fork_child();
        /* A lesson's child ends with the lesson: nothing is left behind
         * when the first process quits or is interrupted. */
        if (LINKED || trace_g.step) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                raise(SIGTERM);
        }
        emit_proc("proc", "forked");
        errno = err;
    }
    return r;
}

/* A program names itself with prctl(PR_SET_NAME): the trace's role. */
DECLARE_REAL(int, prctl, (int, unsigned long, unsigned long, unsigned long, unsigned long))
int WRAP(prctl)(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
    unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    int r = REAL(prctl)(option, a2, a3, a4, a5);
    if (option == PR_SET_NAME)
        trace_role_changed();
    return r;
}

/* Calls that wait for something other than a socket: in step mode another
 * process may need the terminal meanwhile. */
DECLARE_REAL(pid_t, waitpid, (pid_t, int *, int))
pid_t WRAP(waitpid)(pid_t pid, int *status, int options)
{
    before_wait();
    return REAL(waitpid)(pid, status, options);
}

DECLARE_REAL(pid_t, wait, (int *))
pid_t WRAP(wait)(int *status)
{
    before_wait();
    return REAL(wait)(status);
}

DECLARE_REAL(unsigned int, sleep, (unsigned int))
unsigned int WRAP(sleep)(unsigned int s)
{
    before_wait();
    return REAL(sleep)(s);
}

DECLARE_REAL(int, nanosleep, (const struct timespec *, struct timespec *))
int WRAP(nanosleep)(const struct timespec *req, struct timespec *rem)
{
    before_wait();
    return REAL(nanosleep)(req, rem);
}

DECLARE_REAL(int, usleep, (useconds_t))
int WRAP(usleep)(useconds_t us)
{
    before_wait();
    return REAL(usleep)(us);
}

DECLARE_REAL(int, clock_nanosleep, (clockid_t, int, const struct timespec *, struct timespec *))
int WRAP(clock_nanosleep)(clockid_t clock, int flags, const struct timespec *req,
                          struct timespec *rem)
{
    before_wait();
    return REAL(clock_nanosleep)(clock, flags, req, rem);
}

DECLARE_REAL(int, pause, (void))
int WRAP(pause)(void)
{
    before_wait();
    return REAL(pause)();
}

DECLARE_REAL(int, sigsuspend, (const sigset_t *))
int WRAP(sigsuspend)(const sigset_t *mask)
{
    before_wait();
    return REAL(sigsuspend)(mask);
}

/* --- start and end ------------------------------------------------------- */

__attribute__((constructor)) static void wrap_start(int argc, char **argv)
{
    trace_setup(argc, argv, LINKED);
    if (trace_g.step)
        step_setup();
    if (trace_g.active)
        emit_proc("proc", argc > 0 && argv != NULL && argv[0] != NULL ? argv[0] : "started");
}

__attribute__((destructor)) static void wrap_end(void)
{
    if (!trace_g.active)
        return;
    trace_finish();
    emit_proc("exit", "exited");
}
