/*
 * Lesson 08: every TCP state, made to last long enough to look at.
 *
 * Lesson 02 went through the states too fast to see. Here each one is held
 * (--hold SECONDS, 2 by default) while `ss -tan` shows it, and the line
 *
 *     [tcp-states] STATE FIN_WAIT_1   server 127.0.0.1:4000 (sock_diag...)
 *
 * is what the kernel itself answered: TCP_INFO for a socket we still hold,
 * sock_diag (what ss asks) for one we closed. The tour, in order:
 *
 *   LISTEN        listen(): the kernel answers SYNs for the port
 *   SYN_SENT      a SYN went out, no SYN+ACK came back       } a packet
 *   SYN_RECEIVED  the server's half of that same handshake   } filter
 *   ESTABLISHED   the three-way handshake done
 *   FIN_WAIT_1    closed first, the FIN stuck behind unsent data
 *   FIN_WAIT_2    our FIN acknowledged, the peer's not come yet
 *   TIME_WAIT     both FINs done; the 4-tuple is kept a minute
 *   CLOSE_WAIT    the peer closed, we have not: the classic bug
 *   LAST_ACK      we closed second, our FIN not acknowledged yet
 *   CLOSING       both closed at once: a FIN crossed a FIN
 *   half-close    shutdown(SHUT_WR): the peer reads EOF and still sends
 *   reset         SO_LINGER 0 sends RST (ECONNRESET), a closed port
 *                 answers RST (ECONNREFUSED), writing after a reset
 *                 gives EPIPE and SIGPIPE
 *
 * How the short states are held. On loopback a handshake takes
 * microseconds. SYN_SENT and SYN_RECEIVED are held by a packet filter (nft)
 * that drops the server's SYN+ACK, inside a private user and network
 * namespace: that needs no privilege on the host and cannot touch its
 * traffic. (A full accept queue would hold SYN_SENT too, but the kernel
 * drops that SYN outright: there would be no SYN_RECEIVED to see.) The
 * closing states are held by a zero window: data queued to a peer that
 * does not read, so our FIN waits behind it. --only STATE runs one part.
 * Both ends live in this one process, so each step happens in order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "die.h"
#include "errnames.h"
#include "moreopts.h"
#include "opts.h"
#include "sandbox.h"
#include "show.h"
#include "sockstate.h"

static const struct lesson_info lesson = {
    .name = "08-tcp-states",
    .summary = "Every TCP state, each held long enough to see with ss, with its cause.",
    .more_help = "More options:\n"
                 "  --only STATE     one part of the tour: LISTEN, SYN_SENT, SYN_RECEIVED,\n"
                 "                   ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT,\n"
                 "                   CLOSE_WAIT, LAST_ACK, CLOSING, half-close, reset\n"
                 "  --hold SECONDS   how long to hold each state (default 2; 0: do not)",
};

static long hold_s = 2;

static void pause_ms(int ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* ---- what the kernel says -------------------------------------------- */

static void report(int st, const char *who, int port, const char *how)
{
    if (st == TCPS_NEW_SYN_RECV)
        st = TCPS_SYN_RECEIVED;
    say("STATE %-12s %-7s port %d, asked by %s", tcp_state_name(st), who, port, how);
}

/* The state of a socket we hold, from TCP_INFO. A state that waits for an
 * acknowledgement on its way to `expect` is given a moment (at most
 * 500 ms) to get there; what is printed is what the kernel said last. */
static int fd_state(const char *who, int fd, int port, int expect)
{
    int st = sock_tcp_state_await(fd, expect, 500);
    report(st, who, port, "TCP_INFO");
    return st;
}

/* The state of a connection by its addresses, from sock_diag: for a
 * socket we closed (no fd left to ask), or one in TIME_WAIT. */
static int diag_state(const char *who, const struct conn_id *id, int port, int expect)
{
    struct diag_sock d;
    int st = TCPS_NONE;
    for (int i = 0; i < 500 && st != expect; i++) {
        if (i > 0)
            pause_ms(1);
        int rc = diag_query_tcp((const struct sockaddr *)&id->local,
                                (const struct sockaddr *)&id->peer, &d);
        st = rc == 0 ? d.state : TCPS_CLOSED;
    }
    report(st, who, port, st == TCPS_CLOSED ? "sock_diag (gone)" : "sock_diag");
    return st;
}

/* Hold the moment, so a person (or a test) can look with ss. */
static void hold(const char *state, int port)
{
    if (hold_s <= 0)
        return;
    say("holding %s for %ld s; look from another terminal:", state, hold_s);
    if (port > 0)
        say("  ss -tan '( sport = :%d or dport = :%d )'", port, port);
    sleep((unsigned)hold_s);
}

/* ---- making connections ---------------------------------------------- */

/* A listener on 127.0.0.1, any free port. rcvbuf > 0 makes the buffers
 * (and so the window) of every accepted socket small. */
static int listener(int *port, int rcvbuf)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    if (fd == -1)
        die_errno("socket");
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
        die_errno("setsockopt");
    if (rcvbuf > 0 && (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == -1 ||
                       setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof rcvbuf) == -1))
        die_errno("setsockopt");
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
        die_errno("bind");
    if (listen(fd, 8) == -1)
        die_errno("listen");
    socklen_t len = sizeof sin;
    if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
        die_errno("getsockname");
    *port = ntohs(sin.sin_port);
    return fd;
}

static int client_socket(int rcvbuf, int type)
{
    int fd = socket(AF_INET, SOCK_STREAM | type, 0);
    if (fd == -1)
        die_errno("socket");
    /* Set before connect: the window is agreed on in the handshake. */
    if (rcvbuf > 0 && (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == -1 ||
                       setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof rcvbuf) == -1))
        die_errno("setsockopt");
    return fd;
}

static int connect_to(int fd, int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return connect(fd, (struct sockaddr *)&sin, sizeof sin);
}

/* A connected pair on a new listener: *c the client's end, *s the
 * server's. Small buffers make a zero window quick to reach. */
static int pair(int *c, int *s, int rcvbuf)
{
    int port, lfd = listener(&port, rcvbuf);
    *c = client_socket(rcvbuf, 0);
    if (connect_to(*c, port) == -1)
        die_errno("connect");
    *s = accept(lfd, NULL, NULL);
    if (*s == -1)
        die_errno("accept");
    close(lfd);
    return port;
}

/* Write until the peer's window and our send buffer are full (EAGAIN).
 * Returns the bytes written. */
static size_t fill(int fd)
{
    static const char junk[4096];
    size_t total = 0;
    for (int i = 0; i < 100000; i++) {
        ssize_t n = send(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n == -1)
            die_errno("send");
        total += (size_t)n;
    }
    pause_ms(50); /* let the last segments reach the peer */
    return total;
}

/* Read until end of file; each wait bounded. Returns the bytes read. */
static size_t drain(int fd)
{
    char buf[65536];
    size_t total = 0;
    for (int i = 0; i < 1000000; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            die_msg("no end of file within 5 s after %zu bytes", total);
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == -1)
            die_errno("recv");
        if (n == 0)
            return total;
        total += (size_t)n;
    }
    die_msg("no end of file after %zu bytes", total);
}

/* ---- the tour ----------------------------------------------------------- */

static void part_listen(void)
{
    say("--- LISTEN ---");
    int port, lfd = listener(&port, 0);
    say("listen(): now the kernel answers SYNs for this port by itself");
    fd_state("listener", lfd, port, TCPS_LISTEN);
    hold("LISTEN", port);
    close(lfd);
}

/* Add or remove the rule that drops SYN+ACK segments from `port`: nft,
 * else iptables. Returns the shell's status (0: done). */
static int filter(bool add, int port)
{
    char cmd[320];
    if (add)
        snprintf(cmd, sizeof cmd,
                 "nft add table inet lesson08 && nft add chain inet lesson08 out "
                 "'{ type filter hook output priority 0; }' && nft add rule inet lesson08 out "
                 "tcp sport %d 'tcp flags & (syn | ack) == syn | ack' drop 2>/dev/null || "
                 "iptables -A OUTPUT -p tcp --sport %d --tcp-flags SYN,ACK SYN,ACK -j DROP",
                 port, port);
    else
        snprintf(cmd, sizeof cmd,
                 "nft delete table inet lesson08 2>/dev/null || "
                 "iptables -D OUTPUT -p tcp --sport %d --tcp-flags SYN,ACK SYN,ACK -j DROP",
                 port);
    fflush(stdout);
    return system(cmd);
}

static bool half_open(const struct diag_sock *d, int port)
{
    const struct sockaddr_in *l = (const struct sockaddr_in *)&d->local;
    return (d->state == TCPS_NEW_SYN_RECV || d->state == TCPS_SYN_RECEIVED) &&
           ntohs(l->sin_port) == port;
}

static int find_half_open(const struct diag_sock *d, void *arg)
{
    int *port = arg;
    if (!half_open(d, *port))
        return 0;
    *port = -1; /* found */
    return 1;
}

/* In a child, inside its own user and network namespace. */
static void handshake_in_sandbox(void)
{
    char err[256];
    if (sandbox_enter(err, sizeof err) != 0) {
        say("SYN_SENT and SYN_RECEIVED are not shown: %s", err);
        exit(3);
    }
    int port, lfd = listener(&port, 0);
    say("a private namespace (like unshare -rn), its own lo, port %d;", port);
    say("a packet filter there drops every SYN+ACK the server sends");
    if (filter(true, port) != 0) {
        say("SYN_SENT and SYN_RECEIVED are not shown: neither nft nor iptables "
            "could add the rule (install nftables)");
        exit(3);
    }
    int c = client_socket(0, SOCK_NONBLOCK);
    if (connect_to(c, port) == 0 || errno != EINPROGRESS)
        die_errno("connect");
    pause_ms(100);
    say("connect(): the SYN went out; no SYN+ACK comes back, so the");
    say("client waits, sending it again after 1 s, 2 s more, 4 s more");
    fd_state("client", c, port, TCPS_SYN_SENT);
    int found = port;
    diag_dump_tcp(AF_INET, port, find_half_open, &found);
    say("the server got the SYN and answered; until the last ACK, the");
    say("kernel keeps a half-open request: no fd, only sock_diag sees it");
    report(found == -1 ? TCPS_SYN_RECEIVED : TCPS_NONE, "server", port, "sock_diag");
    say("ss on the host cannot see into this namespace; this can:");
    say("  nsenter --preserve-credentials -U -n -t %d ss -tan", (int)getpid());
    hold("the handshake", 0);
    filter(false, port);
    say("filter removed: the next SYN or SYN+ACK sent again gets through");
    struct pollfd p = {.fd = c, .events = POLLOUT};
    if (poll(&p, 1, 15000) != 1)
        die_msg("the handshake did not complete within 15 s of removing the filter");
    int s = accept(lfd, NULL, NULL);
    if (s == -1)
        die_errno("accept");
    fd_state("client", c, port, TCPS_ESTABLISHED);
    fd_state("server", s, port, TCPS_ESTABLISHED);
    close(s);
    close(c);
    close(lfd);
    exit(0);
}

static void part_handshake(void)
{
    say("--- SYN_SENT, SYN_RECEIVED ---");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0)
        handshake_in_sandbox();
    int st;
    if (waitpid(pid, &st, 0) == -1)
        die_errno("waitpid");
    if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 3))
        die_msg("the handshake part failed");
}

static void part_established(void)
{
    say("--- ESTABLISHED ---");
    int c, s, port = pair(&c, &s, 0);
    say("connect() and accept(): SYN, SYN+ACK, ACK done; both ends may send");
    fd_state("client", c, port, TCPS_ESTABLISHED);
    fd_state("server", s, port, TCPS_ESTABLISHED);
    hold("ESTABLISHED", port);
    close(c);
    close(s);
}

/* The server closes first (as an HTTP/1.0 server does), with data still
 * queued for a client that does not read. */
static void part_active_close(void)
{
    say("--- FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT: closing first ---");
    int c, s, port = pair(&c, &s, 4096);
    size_t n = fill(s);
    say("the server wrote %zu bytes the client does not read: window 0", n);
    struct conn_id id = conn_id_of(s);
    if (close(s) == -1)
        die_errno("close");
    say("close(): the FIN is queued after the unsent bytes, and waits");
    diag_state("server", &id, port, TCPS_FIN_WAIT_1);
    hold("FIN_WAIT_1", port);

    say("the client reads it all, and the FIN, which it acknowledges");
    n = drain(c);
    say("the client read %zu bytes, then end of file", n);
    diag_state("server", &id, port, TCPS_FIN_WAIT_2);
    say("the server waits for the client's FIN (the client: CLOSE_WAIT)");
    hold("FIN_WAIT_2", port);

    if (close(c) == -1)
        die_errno("close");
    say("the client closed: its FIN came, the server acknowledged it");
    diag_state("server", &id, port, TCPS_TIME_WAIT);
    say("TIME_WAIT lasts 2 x MSL, 60 s on Linux: the last ACK may be");
    say("lost and the FIN come again, and stray segments of this 4-tuple");
    say("must die before it is used again. It holds the server's port:");
    hold("TIME_WAIT", port);

    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    if (fd == -1)
        die_errno("socket");
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
        say("bind without SO_REUSEADDR worked (TIME_WAIT already over?)");
    else
        say("a new bind(port %d) without SO_REUSEADDR: %s", port, errno_name(errno));
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1)
        die_errno("socket");
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
        die_errno("setsockopt");
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
        die_errno("bind");
    say("bind(port %d) with SO_REUSEADDR: works despite TIME_WAIT", port);
    close(fd);
}

/* The client closes first; the server is the one that must close second. */
static void part_passive_close(void)
{
    say("--- CLOSE_WAIT, LAST_ACK: closing second ---");
    int c, s, port = pair(&c, &s, 4096);
    if (shutdown(c, SHUT_WR) == -1)
        die_errno("shutdown");
    char b;
    if (recv(s, &b, 1, 0) != 0)
        die_msg("expected end of file");
    say("the client's FIN came: recv() returned 0. Until the server");
    say("calls close, it stays here. A server that forgets to close keeps");
    say("each such connection and its fd in CLOSE_WAIT: the classic leak");
    fd_state("server", s, port, TCPS_CLOSE_WAIT);
    hold("CLOSE_WAIT", port);

    size_t n = fill(s);
    say("the server sends %zu bytes the client does not read yet", n);
    struct conn_id id = conn_id_of(s);
    if (close(s) == -1)
        die_errno("close");
    say("close(): its FIN waits behind them, not acknowledged:");
    diag_state("server", &id, port, TCPS_LAST_ACK);
    hold("LAST_ACK", port);
    n = drain(c);
    say("the client read %zu bytes and the FIN, and acknowledged it", n);
    diag_state("server", &id, port, TCPS_CLOSED);
    close(c);
}

/* Both ends close at once. On loopback a FIN arrives at once, so both are
 * held back behind unsent data, then let go one after the other. */
static void part_closing(void)
{
    say("--- CLOSING: both sides close at once ---");
    int c, s, port = pair(&c, &s, 4096);
    size_t to_client = fill(s), to_server = fill(c);
    say("each side queued bytes the other does not read (%zu, %zu)", to_client, to_server);
    if (shutdown(s, SHUT_WR) == -1 || shutdown(c, SHUT_WR) == -1)
        die_errno("shutdown");
    say("both shutdown(SHUT_WR): two FINs, each waiting behind its data");
    fd_state("server", s, port, TCPS_FIN_WAIT_1);
    fd_state("client", c, port, TCPS_FIN_WAIT_1);
    drain(s);
    say("the server reads all, up to the client's FIN, while its own");
    say("FIN is unacknowledged: a FIN received in FIN_WAIT_1");
    fd_state("server", s, port, TCPS_CLOSING);
    hold("CLOSING", port);
    struct conn_id sid = conn_id_of(s), cid = conn_id_of(c);
    drain(c);
    say("the client reads all, and the FIN: both FINs acknowledged");
    diag_state("server", &sid, port, TCPS_TIME_WAIT);
    diag_state("client", &cid, port, TCPS_TIME_WAIT);
    close(s);
    close(c);
}

static void part_half_close(void)
{
    say("--- half-close: shutdown(SHUT_WR) ---");
    int c, s, port = pair(&c, &s, 0);
    const char req[] = "all I have to say", rep[] = "heard you";
    if (send(c, req, sizeof req - 1, 0) == -1 || shutdown(c, SHUT_WR) == -1)
        die_errno("send or shutdown");
    say("the client sends a request, then shutdown(SHUT_WR): a FIN");
    char buf[64];
    ssize_t n = recv(s, buf, sizeof buf, 0);
    ssize_t eof = recv(s, buf + (n > 0 ? n : 0), 1, 0);
    say("the server reads %zd bytes, then %zd: end of file", n, eof);
    fd_state("server", s, port, TCPS_CLOSE_WAIT);
    fd_state("client", c, port, TCPS_FIN_WAIT_2);
    if (send(s, rep, sizeof rep - 1, 0) == -1)
        die_errno("send");
    n = recv(c, buf, sizeof buf, 0);
    say("yet the server still sends, and the client reads: \"%.*s\"", n > 0 ? (int)n : 0, buf);
    close(s);
    close(c);
}

static void part_reset(void)
{
    say("--- resets: RST ---");
    int c, s, port = pair(&c, &s, 0);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == -1)
        die_errno("setsockopt");
    struct conn_id id = conn_id_of(c);
    close(c);
    say("SO_LINGER {on, 0 s}, then close(): RST, not FIN; no TIME_WAIT");
    diag_state("client", &id, port, TCPS_CLOSED);
    char b;
    if (recv(s, &b, 1, 0) == -1)
        say("the server's recv(): %s (%s)", errno_name(errno), strerror(errno));
    fd_state("server", s, port, TCPS_CLOSED);

    int lfd, closed_port = port;
    int r = socket(AF_INET, SOCK_STREAM, 0);
    lfd = listener(&closed_port, 0);
    close(lfd); /* a port nobody listens on any more */
    if (connect_to(r, closed_port) == -1)
        say("connect() to port %d (no listener): %s, by RST", closed_port, errno_name(errno));
    close(r);

    if (send(s, "x", 1, MSG_NOSIGNAL) == -1)
        say("send() after the reset, with MSG_NOSIGNAL: %s (%s)", errno_name(errno),
            strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        send(s, "x", 1, 0); /* without MSG_NOSIGNAL: SIGPIPE kills us */
        exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) == -1)
        die_errno("waitpid");
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE)
        say("without MSG_NOSIGNAL, send() killed its process: SIGPIPE");
    else
        say("without MSG_NOSIGNAL, send() raised no SIGPIPE (status %d)", st);
    close(s);
}

int main(int argc, char **argv)
{
    const char *only = NULL, *hold_text = NULL;
    const struct more_opt mine[] = {{"only", &only}, {"hold", &hold_text}};
    char err[128];
    if (more_opts_take(&argc, argv, mine, 2, err, sizeof err) == -1)
        die_usage("%s", err);
    struct lesson_opts o;
    lesson_parse(argc, argv, &lesson, &o);
    if (hold_text && more_opts_number(hold_text, 0, 3600, &hold_s) == -1)
        die_usage("--hold takes seconds, a whole number from 0 to 3600, not '%s'", hold_text);
    prctl(PR_SET_NAME, "tcp-states");
    signal(SIGPIPE, SIG_DFL);

    static const struct {
        const char *names;
        void (*run)(void);
    } parts[] = {
        {" LISTEN ", part_listen},
        {" SYN_SENT SYN_RECEIVED SYN_RECV ", part_handshake},
        {" ESTABLISHED ", part_established},
        {" FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT ", part_active_close},
        {" CLOSE_WAIT LAST_ACK ", part_passive_close},
        {" CLOSING ", part_closing},
        {" half-close HALF_CLOSE ", part_half_close},
        {" reset RST ", part_reset},
    };
    char key[40];
    snprintf(key, sizeof key, " %s ", only ? only : "");
    bool known = only == NULL;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (only != NULL && strstr(parts[i].names, key) == NULL)
            continue;
        known = true;
        parts[i].run();
    }
    if (!known)
        die_usage("--only takes one of LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED,\n"
                  "  FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSE_WAIT, LAST_ACK, CLOSING,\n"
                  "  half-close, reset; not '%s'",
                  only);
    return 0;
}
