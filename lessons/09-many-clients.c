/*
 * Lesson 09: one port, many clients.
 *
 * A server listens on ONE port, yet holds many connections: each is a
 * different 4-tuple (protocol, client address and port, server address and
 * port), so the kernel tells them apart by the client's side. This lesson
 * shows it in four parts (extends lesson 02, which served one client):
 *
 *   1. tuples        three clients on one port: every 4-tuple, and ss
 *   2. the same echo service four ways, three clients each:
 *        iterative   one client at a time: the second one waits
 *        fork        a process per client
 *        poll        one process, one poll() over every socket
 *        epoll       the same with epoll, level-triggered, then
 *        epoll-et    edge-triggered, reading until EAGAIN, and
 *        et-bug      edge-triggered code that reads once: bytes left behind
 *   3. accept-queue  connections the kernel completed but nobody accepted,
 *                    as ss shows a listener's queue, and what backlog does
 *   4. limits        EMFILE when a process runs out of descriptors, and
 *                    RLIMIT_NOFILE read and raised
 *
 * --only PART runs one part; --clients N is the large run: N clients, and
 * an epoll server that holds all N at once and reports its memory.
 *
 * Watch for: the client ports that differ while the server port stays; the
 * iterative server's second client connected (the kernel did that) but
 * answered only when the first left; Recv-Q of a LISTEN socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "diag.h"
#include "die.h"
#include "moreopts.h"
#include "opts.h"
#include "show.h"
#include "sockstate.h"

static const struct lesson_info lesson = {
    .name = "09-many-clients",
    .summary = "One server port, many connections: the 4-tuples, an echo server four\n"
               "ways, the accept queue, and file descriptor limits.",
    .opts = OPT_HOST,
    .default_host = "127.0.0.1",
    .more_help = "More options:\n"
                 "  --only PART      one part: tuples, iterative, fork, poll, epoll, epoll-et,\n"
                 "                   et-bug, accept-queue, limits\n"
                 "  --clients N      the large run: N clients held at once by an epoll\n"
                 "                   server (try 10000), with its memory per connection",
};

enum { NCLIENTS = 3, HOLD_MS = 300, WAIT_MS = 5000 };
static const char *host;
static double t_start;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void pause_ms(int ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

static int open_listener(int backlog, int *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
        die_usage("--host takes an IPv4 address such as 127.0.0.1, not '%s'", host);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1)
        die_errno("socket");
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
        die_errno("setsockopt");
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
        die_errno("bind");
    if (listen(fd, backlog) == -1)
        die_errno("listen");
    socklen_t len = sizeof sin;
    if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
        die_errno("getsockname");
    *port = ntohs(sin.sin_port);
    return fd;
}

static int connect_to(int port, bool nonblocking)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sin.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd == -1)
        die_errno("socket");
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1 && errno != EINPROGRESS)
        die_errno("connect");
    return fd;
}

static char *tuple(int fd, char *buf, size_t size)
{
    struct sockaddr_storage a, b;
    socklen_t al = sizeof a, bl = sizeof b;
    char l[ADDR_STRLEN] = "?", p[ADDR_STRLEN] = "?";
    if (getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        addr_format((struct sockaddr *)&a, al, l, sizeof l);
    if (getpeername(fd, (struct sockaddr *)&b, &bl) == 0)
        addr_format((struct sockaddr *)&b, bl, p, sizeof p);
    snprintf(buf, size, "(TCP, %s, %s)", l, p);
    return buf;
}

/* Show what ss shows: the real ss when it is installed. */
static void run_ss(const char *what, int port)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ss -tn %s '( sport = :%d or dport = :%d )' 2>/dev/null", what, port,
             port);
    say("$ %.*s", (int)(strlen(cmd) - strlen(" 2>/dev/null")), cmd);
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    char line[256];
    for (int i = 0; f != NULL && i < 40 && fgets(line, sizeof line, f) != NULL; i++)
        say("  %.*s", (int)strcspn(line, "\n"), line);
    if (f == NULL || pclose(f) != 0)
        say("  (ss is not installed here; the lesson asks sock_diag, as ss does)");
}

/* ---- part 1 ----------------------------------------------------------- */

static void part_tuples(void)
{
    say("=== 1. many clients, one server port: every connection a 4-tuple ===");
    int port, c[NCLIENTS], s[NCLIENTS];
    int lfd = open_listener(8, &port);
    char t[2 * ADDR_STRLEN + 16];
    for (int i = 0; i < NCLIENTS; i++) {
        c[i] = connect_to(port, false); /* the kernel picks each a new port */
        s[i] = accept(lfd, NULL, NULL);
        if (s[i] == -1)
            die_errno("accept");
        say("client %d's socket %s", i + 1, tuple(c[i], t, sizeof t));
        say("server's socket %d  %s", i + 1, tuple(s[i], t, sizeof t));
    }
    say("the server side is the same for all; the client port tells them apart");
    run_ss("state established", port);
    for (int i = 0; i < NCLIENTS; i++)
        close(c[i]), close(s[i]);
    close(lfd);
}

/* ---- part 2: the clients --------------------------------------------- */

/* A client in its own process: two lines, HOLD_MS apart, each echoed. It
 * prints when each echo came, counted from the start of the part. */
static void client(int port, int n)
{
    char name[24];
    snprintf(name, sizeof name, "client%d", n);
    prctl(PR_SET_NAME, name);
    int fd = connect_to(port, false);
    struct timeval tv = {.tv_sec = WAIT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    say("connected at +%.0f ms", now_ms() - t_start);
    for (int line = 1; line <= 2; line++) {
        char msg[32], back[32];
        int len = snprintf(msg, sizeof msg, "line %d of client %d\n", line, n);
        if (send(fd, msg, (size_t)len, MSG_NOSIGNAL) != len)
            die_errno("send");
        ssize_t got = 0, r = 1;
        while (got < len && (r = recv(fd, back + got, sizeof back - (size_t)got, 0)) > 0)
            got += r;
        if (got < len) {
            say("only %zd of the %d bytes of line %d came back", got, len, line);
            exit(3);
        }
        say("echo of line %d at +%.0f ms", line, now_ms() - t_start);
        if (line == 1)
            pause_ms(HOLD_MS); /* a client that keeps the server busy a while */
    }
    close(fd);
    exit(0);
}

static void start_clients(int port)
{
    t_start = now_ms();
    fflush(stdout);
    for (int i = 1; i <= NCLIENTS; i++) {
        pid_t pid = fork();
        if (pid == -1)
            die_errno("fork");
        if (pid == 0)
            client(port, i);
    }
}

static void wait_clients(int count, bool may_fail)
{
    for (int i = 0; i < count; i++) {
        int st;
        if (wait(&st) == -1)
            die_errno("wait");
        if (!may_fail && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
            die_msg("a client failed");
    }
}

/* Echo what one read of at most `size` bytes gives. Returns the bytes, 0 at the end, -1 when
 * nothing is there (EAGAIN on a non-blocking socket). */
static ssize_t echo_some(int fd, size_t size)
{
    char buf[512];
    ssize_t n = recv(fd, buf, size < sizeof buf ? size : sizeof buf, 0);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return -1;
    if (n == -1)
        die_errno("recv");
    if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
        die_errno("send");
    return n;
}

static void started(int fd)
{
    char t[2 * ADDR_STRLEN + 16];
    say("serving %s at +%.0f ms", tuple(fd, t, sizeof t), now_ms() - t_start);
}
static void finished(int fd)
{
    char t[2 * ADDR_STRLEN + 16];
    say("done with %s at +%.0f ms", tuple(fd, t, sizeof t), now_ms() - t_start);
    close(fd);
}

/* ---- part 2: the servers ---------------------------------------------- */

/* Iterative: accept one, serve it to the end, then the next. A client that
 * connects meanwhile waits in the accept queue, answered by no one. */
static void serve_iterative(int lfd)
{
    for (int i = 0; i < NCLIENTS; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd == -1)
            die_errno("accept");
        started(fd);
        while (echo_some(fd, 512) > 0)
            ;
        finished(fd);
    }
}

/* A process per client: accept in the parent, serve in a child. The
 * parent closes its copy of the connection at once, or it would stay open
 * after the child ends. */
static void serve_fork(int lfd)
{
    for (int i = 0; i < NCLIENTS; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd == -1)
            die_errno("accept");
        fflush(stdout);
        pid_t pid = fork();
        if (pid == -1)
            die_errno("fork");
        if (pid == 0) {
            prctl(PR_SET_NAME, "server-child");
            close(lfd);
            started(fd);
            while (echo_some(fd, 512) > 0)
                ;
            finished(fd);
            exit(0);
        }
        close(fd);
    }
}

/* poll: one process watches the listener and every connection, and acts
 * on whichever is ready. No call blocks but poll itself. */
static void serve_poll(int lfd)
{
    struct pollfd pf[1 + NCLIENTS];
    int n = 0, done = 0;
    pf[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
    while (done < NCLIENTS) {
        if (poll(pf, (nfds_t)(1 + n), WAIT_MS) <= 0)
            die_msg("poll: nothing happened for %d s", WAIT_MS / 1000);
        if ((pf[0].revents & POLLIN) && n < NCLIENTS) {
            int fd = accept(lfd, NULL, NULL);
            if (fd == -1)
                die_errno("accept");
            started(fd);
            pf[1 + n++] = (struct pollfd){.fd = fd, .events = POLLIN};
        }
        for (int i = 1; i <= n; i++) {
            if (pf[i].fd >= 0 && (pf[i].revents & (POLLIN | POLLHUP)) &&
                echo_some(pf[i].fd, 512) == 0) {
                finished(pf[i].fd);
                pf[i].fd = -1; /* poll skips negative fds */
                done++;
            }
        }
    }
}

/* epoll: the kernel keeps the list of watched sockets, so each wait costs
 * the ready ones, not all of them. Level-triggered (the default) reports a
 * socket as long as bytes wait in it; edge-triggered (EPOLLET) reports it
 * once per arrival, so the code must read until EAGAIN. Reads here take 8
 * bytes at a time, less than a line, to make the difference show.
 * `drain` false is the classic bug: one read per edge-triggered event. */
static void serve_epoll(int lfd, bool edge, bool drain)
{
    int ep = epoll_create1(0);
    if (ep == -1)
        die_errno("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
        die_errno("epoll_ctl");
    int conns[NCLIENTS], nconn = 0, done = 0;
    while (done < NCLIENTS) {
        struct epoll_event ready[8];
        int n = epoll_wait(ep, ready, 8, drain ? WAIT_MS : 1500);
        if (n == -1)
            die_errno("epoll_wait");
        if (n == 0 && drain)
            die_msg("epoll_wait: nothing happened for %d s", WAIT_MS / 1000);
        if (n == 0)
            break; /* the bug: bytes wait, but no new edge will come */
        for (int i = 0; i < n; i++) {
            int fd = ready[i].data.fd;
            if (fd == lfd) {
                int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                if (c == -1)
                    die_errno("accept4");
                started(c);
                conns[nconn++] = c;
                ev = (struct epoll_event){.events = EPOLLIN | (edge ? EPOLLET : 0), .data.fd = c};
                if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) == -1)
                    die_errno("epoll_ctl");
                if (nconn == NCLIENTS)
                    epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL);
                continue;
            }
            ssize_t r = echo_some(fd, 8);
            while (edge && drain && r > 0) /* edge-triggered: until EAGAIN */
                r = echo_some(fd, 8);
            if (r == 0) {
                finished(fd); /* close also takes it out of the epoll set */
                for (int k = 0; k < nconn; k++)
                    if (conns[k] == fd)
                        conns[k] = -1;
                done++;
            }
        }
    }
    if (done < NCLIENTS) {
        say("epoll_wait: no event for 1.5 s, yet bytes wait unread in the sockets:");
        for (int k = 0; k < nconn; k++)
            if (conns[k] >= 0)
                show_socket(conns[k]);
        say("edge-triggered epoll reported each arrival ONCE; one recv of 8 bytes");
        say("left the rest, and no new edge comes: always read until EAGAIN");
        /* Closed only now: a client that sees its connection end speaks,
         * and its line must not fall among the ones above. */
        for (int k = 0; k < nconn; k++)
            if (conns[k] >= 0)
                close(conns[k]);
    }
    close(ep);
}

static void part_echo(const char *way)
{
    say("=== 2. an echo server, %s: %d clients at once ===", way, NCLIENTS);
    int port;
    int lfd = open_listener(8, &port);
    start_clients(port);
    if (strcmp(way, "iterative") == 0) {
        serve_iterative(lfd);
        say("one client at a time: each waited for the one before to leave");
    } else if (strcmp(way, "fork") == 0) {
        serve_fork(lfd);
        wait_clients(2 * NCLIENTS, false); /* the clients and the server's children */
        close(lfd);
        return;
    } else if (strcmp(way, "poll") == 0) {
        serve_poll(lfd);
    } else {
        serve_epoll(lfd, strcmp(way, "epoll") != 0, strcmp(way, "et-bug") != 0);
    }
    close(lfd);
    wait_clients(NCLIENTS, strcmp(way, "et-bug") == 0);
}

/* ---- part 3 ----------------------------------------------------------- */

static int find_listener(const struct diag_sock *d, void *arg)
{
    if (d->state != TCPS_LISTEN)
        return 0;
    *(struct diag_sock *)arg = *d;
    return 1;
}

/* The kernel finishes handshakes on its own and queues the connections
 * for accept. listen's backlog caps that queue; past it, new handshakes
 * are not finished. */
static void part_accept_queue(void)
{
    say("=== 3. the accept queue: connected, but not yet accepted ===");
    int port, c[6];
    int lfd = open_listener(2, &port);
    say("listen(backlog 2) on port %d; six clients connect; no accept yet", port);
    for (int i = 0; i < 6; i++)
        c[i] = connect_to(port, true); /* non-blocking: do not wait here */
    pause_ms(200);
    for (int i = 0; i < 6; i++)
        say("client %d: %s", i + 1, tcp_state_name(sock_tcp_state(c[i])));
    struct diag_sock d = {0};
    diag_dump_tcp(AF_INET, port, find_listener, &d);
    say("the listener: %u connections wait in its accept queue (ss: Recv-Q),", d.rqueue);
    say("the cap is %u, the backlog (ss: Send-Q)", d.wqueue);
    run_ss("state listening", port);
    say("Linux queues backlog+1 finished handshakes and drops the other SYNs");
    say("(those clients stay in SYN_SENT and send again after 1 s, 2 s more...)");
    int got = 0;
    while (got < 6) {
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        if (poll(&p, 1, WAIT_MS) <= 0)
            die_msg("the queued clients did not come within %d s", WAIT_MS / 1000);
        int fd = accept(lfd, NULL, NULL);
        if (fd == -1)
            die_errno("accept");
        diag_dump_tcp(AF_INET, port, find_listener, &d);
        say("accepted connection %d; the queue now holds %u", ++got, d.rqueue);
        close(fd);
    }
    for (int i = 0; i < 6; i++)
        close(c[i]);
    close(lfd);
}

/* ---- part 4 ----------------------------------------------------------- */

static void part_limits(void)
{
    say("=== 4. file descriptor limits ===");
    /* Every socket is a file descriptor, and a process may hold at most
     * RLIMIT_NOFILE of them: the soft limit, which it may raise itself up
     * to the hard limit, which only root raises. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die_errno("getrlimit");
    say("RLIMIT_NOFILE: soft %llu, hard %llu (ulimit -n, ulimit -Hn)",
        (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
    struct rlimit low = {.rlim_cur = 24, .rlim_max = rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &low) == -1)
        die_errno("setrlimit");
    say("soft limit lowered to 24; now open sockets until the kernel refuses");
    int fds[64], n = 0;
    for (; n < 64; n++) {
        fds[n] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[n] == -1)
            break;
    }
    if (n == 64)
        die_msg("64 sockets opened under a limit of 24: the limit did not hold");
    say("socket() number %d failed: EMFILE (%s)", n + 1, strerror(errno));
    say("every descriptor below 24 is in use. A server's accept() fails the same");
    say("way, leaving the client queued, and poll says the listener is ready");
    say("again at once: keep a spare descriptor, or stop watching the listener");
    for (int i = 0; i < n; i++)
        close(fds[i]);
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
        die_errno("setrlimit");
    say("soft limit raised to the hard limit, %llu, as --clients N does",
        (unsigned long long)rl.rlim_max);
}

/* ---- the large run: --clients N --------------------------------------- */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

/* Kernel memory in slabs, from /proc/meminfo: where socket structures live. */
static long slab_kib(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Slab: %ld", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

static int count_established(const struct diag_sock *d, void *arg)
{
    int port = ((int *)arg)[0];
    if (d->state == TCPS_ESTABLISHED && addr_port((const struct sockaddr *)&d->local) == port)
        ((int *)arg)[1]++;
    return 0;
}

static void raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die_errno("getrlimit");
    say("RLIMIT_NOFILE: soft %llu, hard %llu; this run needs %ld a process",
        (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, need);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)need)
        die_msg("the hard limit on open files is %llu, below the %ld this run needs.\n"
                "  Only root can raise a hard limit: `ulimit -Hn %ld` in a root shell, or\n"
                "  nofile in /etc/security/limits.conf. Or run fewer --clients.",
                (unsigned long long)rl.rlim_max, need, need);
    if (rl.rlim_cur < (rlim_t)need) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
            die_errno("setrlimit");
        say("raised the soft limit to the hard limit, %llu", (unsigned long long)rl.rlim_max);
    }
}

/* The clients, in one process: N non-blocking connects, at most 256
 * handshakes at a time (a bigger burst overflows the accept queue, and a
 * dropped SYN is retried only a second later), then one byte each way. */
static void many_clients(int port, long n)
{
    prctl(PR_SET_NAME, "clients");
    int *fds = calloc((size_t)n, sizeof *fds);
    int ep = epoll_create1(0);
    if (fds == NULL || ep == -1)
        die_msg("no memory or no epoll for %ld clients", n);
    long started = 0, done = 0;
    double t0 = now_ms(), deadline = t0 + 120000;
    struct epoll_event ready[256];
    while (done < n) {
        for (; started < n && started - done < 256; started++) {
            fds[started] = connect_to(port, true);
            struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)started};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[started], &ev) == -1)
                die_errno("epoll_ctl");
        }
        int k = epoll_wait(ep, ready, 256, 1000);
        if (k == -1 || now_ms() > deadline)
            die_msg("only %ld of %ld clients connected within 120 s", done, n);
        for (int i = 0; i < k; i++) {
            int fd = fds[ready[i].data.u64], err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0)
                die_err("connect", err);
            struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ready[i].data.u64};
            epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
            done++;
        }
    }
    double took = now_ms() - t0;
    say("all %ld clients connected in %.0f ms (%.1f us each)", n, took, took * 1000 / (double)n);
    /* One byte each way: every one of the N connections works. */
    for (long i = 0; i < n; i++)
        if (send(fds[i], "x", 1, MSG_NOSIGNAL) != 1)
            die_errno("send");
    long echoed = 0;
    while (echoed < n) {
        int k = epoll_wait(ep, ready, 256, 1000);
        if (k == -1 || now_ms() > deadline)
            die_msg("only %ld of %ld echoes came back within 120 s", echoed, n);
        for (int i = 0; i < k; i++) {
            char c;
            if (recv(fds[ready[i].data.u64], &c, 1, 0) == 1)
                echoed++;
        }
    }
    say("all %ld connections echoed one byte", n);
    for (long i = 0; i < n; i++)
        close(fds[i]);
    close(ep);
    free(fds);
    exit(0);
}

static void large_run(long n)
{
    say("=== the large run: %ld clients, one epoll server ===", n);
    raise_nofile(n + 64);
    long rss0 = rss_kib(), slab0 = slab_kib();
    int port;
    int lfd = open_listener(SOMAXCONN, &port);
    fcntl(lfd, F_SETFL, O_NONBLOCK);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
        die_errno("epoll");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0)
        many_clients(port, n);
    long held = 0, closed = 0;
    double t0 = now_ms(), deadline = t0 + 180000;
    struct epoll_event ready[512];
    while (closed < n) {
        int k = epoll_wait(ep, ready, 512, 1000);
        if (k == -1 || now_ms() > deadline)
            die_msg("the run did not end within 180 s: %ld held, %ld closed", held, closed);
        for (int i = 0; i < k; i++) {
            int fd = ready[i].data.fd;
            if (fd != lfd) {
                if (echo_some(fd, 64) == 0)
                    close(fd), closed++;
                continue;
            }
            int c;
            while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                ev = (struct epoll_event){.events = EPOLLIN, .data.fd = c};
                if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) == -1)
                    die_errno("epoll_ctl");
                held++;
            }
            if (errno != EAGAIN)
                die_errno("accept4");
            if (held == n) {
                int q[2] = {port, 0};
                diag_dump_tcp(AF_INET, port, count_established, q);
                long rss = rss_kib();
                say("holding all %ld connections at once, %.0f ms after the first", n,
                    now_ms() - t0);
                say("the kernel (sock_diag, as ss) counts %d ESTABLISHED on port %d", q[1], port);
                long slab = slab_kib();
                say("server RSS %ld KiB, %ld KiB before: %.0f bytes per connection", rss, rss0,
                    (double)(rss - rss0) * 1024 / (double)n);
                say("(no data of its own per connection: epoll keeps its list in the kernel)");
                say("kernel slab memory grew %ld KiB for %ld sockets (both ends):", slab - slab0,
                    2 * n);
                say("about %.0f bytes per socket (machine-wide, so roughly)",
                    (double)(slab - slab0) * 1024 / (double)(2 * n));
            }
        }
    }
    int st;
    waitpid(pid, &st, 0);
    close(ep);
    close(lfd);
    say("all %ld clients served and gone", n);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        exit(1);
}

int main(int argc, char **argv)
{
    const char *only = NULL, *clients = NULL;
    const struct more_opt mine[] = {{"only", &only}, {"clients", &clients}};
    char err[128];
    if (more_opts_take(&argc, argv, mine, 2, err, sizeof err) == -1)
        die_usage("%s", err);
    struct lesson_opts o;
    lesson_parse(argc, argv, &lesson, &o);
    host = o.host;
    prctl(PR_SET_NAME, "server");
    if (clients != NULL) {
        long n;
        if (more_opts_number(clients, 1, 100000, &n) == -1)
            die_usage("--clients takes a number from 1 to 100000, not '%s'", clients);
        large_run(n);
        return 0;
    }
    static const char *const parts[] = {"tuples",   "iterative", "fork",         "poll",  "epoll",
                                        "epoll-et", "et-bug",    "accept-queue", "limits"};
    bool known = only == NULL;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        known |= only != NULL && strcmp(only, parts[i]) == 0;
    if (!known)
        die_usage("--only takes one of tuples, iterative, fork, poll, epoll,\n"
                  "  epoll-et, et-bug, accept-queue, limits; not '%s'",
                  only);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (only != NULL && strcmp(only, parts[i]) != 0)
            continue;
        if (i == 0)
            part_tuples();
        else if (i == 7)
            part_accept_queue();
        else if (i == 8)
            part_limits();
        else
            part_echo(parts[i]);
    }
    return 0;
}
