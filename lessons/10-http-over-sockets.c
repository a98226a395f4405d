/*
 * Lesson 10: an API endpoint is bytes on a socket.
 *
 * HTTP is text written into a TCP connection: a request line, header
 * lines, an empty line; the answer is a status line, headers, an empty
 * line and a body whose end is given by Content-Length or by chunked
 * encoding. This lesson writes a GET by hand, reads the answer as it
 * arrives, and sends a second request on the same connection (keep-alive).
 *
 * Its small server answers on TCP and on a Unix socket path at once, as an
 * application server behind a proxy does (nginx: proxy_pass
 * http://unix:/run/app.sock) and as a local daemon's API does (curl
 * --unix-socket /run/docker.sock). The same bytes work over both; the
 * client times each way. Try it with curl:
 *
 *     10-http-over-sockets --role server --port 8080 --unix /tmp/app.sock
 *     curl -v http://127.0.0.1:8080/chunked
 *     curl -v --unix-socket /tmp/app.sock http://localhost/
 *
 * Watch for: the bytes each recv returns (never "one message"), the empty
 * line that ends the headers, the chunk sizes in hex, and the same local
 * port for both requests of a keep-alive connection. Every read waits at
 * most --timeout seconds and every buffer has a cap, so a broken or silent
 * peer gets a message, never a hang. The message reader (common/http.c) is
 * written by hand because reading a stream is this lesson's point.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "die.h"
#include "errnames.h"
#include "http.h"
#include "moreopts.h"
#include "opts.h"
#include "show.h"

static const struct lesson_info lesson = {
    .name = "10-http-over-sockets",
    .summary = "HTTP/1.1 by hand: a GET written into a socket, the answer read as it\n"
               "arrives, over TCP and over a Unix socket path.",
    .opts = OPT_ROLE | OPT_HOST | OPT_PORT,
    .default_host = "localhost",
    .default_port = 8080,
    .more_help = "More options:\n"
                 "  --url http://HOST[:PORT]/PATH  fetch from any HTTP server and stop\n"
                 "  --unix PATH                the server's Unix socket path\n"
                 "  --timeout SECONDS          the longest wait for any read (default 5)\n"
                 "  --serve SECONDS            --role server: how long to serve (default 300)\n"
                 "Two terminals: 10-http-over-sockets --role server --unix /tmp/app.sock\n"
                 "               10-http-over-sockets --role client --unix /tmp/app.sock\n"
                 "With curl:     curl --unix-socket /tmp/app.sock http://localhost/",
};

enum { HEAD_MAX = 8192, BODY_MAX = 1 << 20, MAX_CONNS = 16 };
static int timeout_ms = 5000;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Print bytes as they travel, one line of text per line of HTTP, at most
 * 16 lines: \r\n made visible, the empty line that ends the headers too. */
static void show_bytes(const char *arrow, const char *data, size_t n)
{
    char esc[160];
    size_t off = 0;
    for (int lines = 0; off < n; lines++) {
        if (lines == 16) {
            say("  %s ... %zu more bytes", arrow, n - off);
            return;
        }
        const char *nl = memchr(data + off, '\n', n - off);
        size_t len = nl ? (size_t)(nl - (data + off)) + 1 : n - off;
        say("  %s %s", arrow, http_escape(data + off, len, esc, 76));
        off += len;
    }
}

/* ---- the client ------------------------------------------------------- */

/* Every wait of this socket ends after timeout_ms: connect and send by
 * SO_SNDTIMEO, each recv by poll below. */
static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1)
        die_errno("setsockopt");
}

static int connect_tcp(const char *host, const char *port)
{
    /* The name is resolved first: an HTTP URL names a host, a socket
     * connects to an address. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        die_gai(host, port, rc);
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char a[ADDR_STRLEN];
        say("%s resolves to %s (%s); connecting", host,
            addr_format(ai->ai_addr, ai->ai_addrlen, a, sizeof a), addr_family_name(ai->ai_family));
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd == -1)
            die_errno("socket");
        set_timeouts(fd);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (ai->ai_next == NULL)
            die_errno("connect");
        say("connect(): %s; trying the next address", errno_name(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    show_socket(fd);
    return fd;
}

static int connect_unix(const char *path)
{
    /* Same stream of bytes, another address family: a path instead of an
     * IP address and port. No handshake packets, no TCP states. */
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        die_usage("the Unix socket path '%s' is longer than %zu bytes", path,
                  sizeof sun.sun_path - 1);
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd == -1)
        die_errno("socket");
    set_timeouts(fd);
    say("connecting to the Unix socket %s", path);
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
        die_errno("connect");
    show_socket(fd);
    return fd;
}

/* Bytes read past the end of one response: the start of the next. */
static char carry[4096];
static size_t carry_len;

/* Read one response, whatever pieces it comes in. Each wait is bounded by
 * poll; the parser's caps bound the memory. On bad input: a message. */
static void read_response(int fd, struct http_msg *m)
{
    char buf[4096];
    char where[96];
    double deadline = now_ms() + timeout_ms;
    int rc = HTTP_MORE;
    if (carry_len > 0) {
        size_t used;
        rc = http_feed(m, carry, carry_len, &used);
        memmove(carry, carry + used, carry_len - used);
        carry_len -= used;
    }
    while (rc == HTTP_MORE) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&p, 1, left) == 0)
            die_msg("no answer within %d s: stuck %s (a lying Content-Length, or a silent peer)",
                    timeout_ms / 1000, http_progress(m, where, sizeof where));
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == -1)
            die_errno("recv");
        if (n == 0) {
            say("recv(): 0: the server closed its side");
            rc = http_finish(m);
            break;
        }
        /* The head and the start of the body in full; then only counts. */
        bool show = !m->head_done || m->body_len < 512;
        say("recv(): %zd bytes%s", n, show ? "" : " more of the body");
        if (show)
            show_bytes("<-", buf, (size_t)n);
        size_t used;
        rc = http_feed(m, buf, (size_t)n, &used);
        if (rc == HTTP_DONE && (size_t)n - used <= sizeof carry) {
            memcpy(carry, buf + used, (size_t)n - used);
            carry_len = (size_t)n - used;
        }
    }
    if (rc == HTTP_ERROR)
        die_msg("bad response: %s", http_error(m));
}

/* One request and its answer on an open connection; returns the time
 * taken in ms and whether the connection may carry another request. */
static double fetch(int fd, const char *host, const char *path, bool *keep_alive)
{
    /* The request is plain text: the request line, one header per line,
     * an empty line. HTTP/1.1 requires Host; keep-alive is its default. */
    char req[1024];
    int len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sockscope-lesson-10\r\n"
                       "Accept: */*\r\nConnection: keep-alive\r\n\r\n",
                       path, host);
    if (len < 0 || (size_t)len >= sizeof req)
        die_usage("the path '%.40s...' is too long for this lesson's request", path);
    double t0 = now_ms();
    say("send(): the request, %d bytes", len);
    show_bytes("->", req, (size_t)len);
    if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
        die_errno("send");

    struct http_msg m;
    if (http_msg_init(&m, HTTP_RESPONSE, HEAD_MAX, BODY_MAX) == -1)
        die_msg("no memory for the response");
    read_response(fd, &m);
    /* 1xx answers (100 Continue, 103 Early Hints) come before the real one. */
    for (int i = 0; i < 4 && m.status < 200; i++) {
        say("an interim answer, %d %s: the real one follows", m.status, m.reason);
        http_msg_reset(&m);
        read_response(fd, &m);
    }
    double ms = now_ms() - t0;

    say("status %d \"%s\", %zu header fields, HTTP/1.%d", m.status, m.reason, m.nheaders,
        m.version_minor);
    static const char *const how[] = {"no body", "by Content-Length", "by chunked encoding",
                                      "until the server closed"};
    say("body: %zu bytes, framed %s", m.body_len, how[m.framing]);
    if (m.framing == HTTP_BODY_CHUNKED)
        say("      (%zu chunks, each preceded by its size in hex)", m.chunks);
    char esc[80];
    say("body starts: \"%s\"", http_escape(m.body, m.body_len, esc, sizeof esc));
    say("took %.3f ms", ms);
    *keep_alive = m.keep_alive;
    http_msg_free(&m);
    return ms;
}

/* Two requests on one connection; stores the time of each in ms[]. */
static void two_requests(int fd, const char *host, double ms[2])
{
    bool again;
    ms[0] = fetch(fd, host, "/", &again);
    show_socket(fd);
    if (!again) {
        say("the server will close this connection: no second request on it");
        return;
    }
    /* Keep-alive: the same connection (the same 4-tuple, no new
     * handshake) carries the next request. */
    say("a second request on the same connection (keep-alive)");
    ms[1] = fetch(fd, host, "/chunked", &again);
    show_socket(fd);
}

static void run_client(const char *host, const char *port, const char *unix_path)
{
    double tcp[2] = {0, 0}, local[2] = {0, 0};
    /* The Host header names the server as the URL did: name and port. */
    char authority[300];
    snprintf(authority, sizeof authority, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
    say("--- over TCP to %s port %s ---", host, port);
    int fd = connect_tcp(host, port);
    two_requests(fd, authority, tcp);
    close(fd);
    carry_len = 0;
    if (unix_path == NULL)
        return;
    say("--- the same bytes over the Unix socket ---");
    fd = connect_unix(unix_path);
    two_requests(fd, "localhost", local);
    close(fd);
    /* The first request of a connection also pays for waking the server
     * up; the second shows the cost of the path itself. */
    say("time of GET /:        %8.3f ms over TCP, %8.3f ms over Unix", tcp[0], local[0]);
    say("time of GET /chunked: %8.3f ms over TCP, %8.3f ms over Unix", tcp[1], local[1]);
}

/* --url http://HOST[:PORT][/PATH]: one GET to any server. */
static void fetch_url(const char *url)
{
    struct http_url u;
    char err[160];
    if (http_url_parse(url, &u, err, sizeof err) == -1)
        die_usage("--url '%s':\n  %s", url, err);
    int fd = connect_tcp(u.host, u.port);
    bool again;
    fetch(fd, u.authority, u.path, &again);
    close(fd);
}

/* ---- the server ------------------------------------------------------- */

struct conn {
    int fd;
    const char *via; /* "TCP" or "Unix" */
    double last;     /* when it last spoke, for the idle timeout */
    struct http_msg req;
};

/* Answer one request. The response is built by hand, like the request. */
static void respond(struct conn *c)
{
    char head[1024], body[512];
    int blen;
    const char *status = "200 OK";
    bool chunked = false;
    if (strcmp(c->req.method, "GET") != 0 && strcmp(c->req.method, "HEAD") != 0) {
        status = "405 Method Not Allowed";
        blen = snprintf(body, sizeof body, "only GET and HEAD here\n");
    } else if (strcmp(c->req.target, "/") == 0) {
        blen = snprintf(body, sizeof body, "hello over %s from the lesson's server\n", c->via);
    } else if (strcmp(c->req.target, "/chunked") == 0) {
        /* Chunked: the size of each piece in hex, the piece, CRLF; the
         * end is a chunk of size 0. For bodies whose length is unknown
         * when the answer starts. */
        chunked = true;
        blen = snprintf(body, sizeof body,
                        "6\r\nthree \r\n7\r\nchunks \r\n%x\r\nover %s\n\r\n0\r\n\r\n",
                        (unsigned)strlen(c->via) + 6, c->via);
    } else {
        status = "404 Not Found";
        blen = snprintf(body, sizeof body, "no such path: try / or /chunked\n");
    }
    int hlen = snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\n", status);
    if (chunked)
        hlen += snprintf(head + hlen, sizeof head - (size_t)hlen, "Transfer-Encoding: chunked\r\n");
    else
        hlen += snprintf(head + hlen, sizeof head - (size_t)hlen, "Content-Length: %d\r\n", blen);
    hlen += snprintf(head + hlen, sizeof head - (size_t)hlen, "Connection: %s\r\n\r\n",
                     c->req.keep_alive ? "keep-alive" : "close");
    say("%s %s over %s: %s", c->req.method, c->req.target, c->via, status);
    /* Head and body in ONE send: sent apart, the second small write waits
     * for the ACK of the first (Nagle), which the client delays (delayed
     * ACK) by up to 40 ms: a classic slow API. */
    if (strcmp(c->req.method, "HEAD") != 0 && (size_t)(hlen + blen) < sizeof head) {
        memcpy(head + hlen, body, (size_t)blen);
        hlen += blen;
    }
    if (send(c->fd, head, (size_t)hlen, MSG_NOSIGNAL) == -1)
        say("send failed; the client is gone");
}

static int listen_tcp(const char *host, const char *port)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        die_gai(host, port, rc);
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd == -1)
        die_errno("socket");
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
        die_errno("setsockopt");
    if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
        die_errno("bind");
    freeaddrinfo(res);
    if (listen(fd, 16) == -1)
        die_errno("listen");
    return fd;
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        die_usage("the Unix socket path '%s' is too long", path);
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd == -1)
        die_errno("socket");
    /* A path left by an earlier run would make bind fail (lesson 05). */
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
        die_errno("bind");
    if (listen(fd, 16) == -1)
        die_errno("listen");
    return fd;
}

/* Read what a client sent; answer each complete request. Returns false
 * when the connection should close. */
static bool on_readable(struct conn *c)
{
    char buf[4096];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n <= 0) {
        say("the client closed its %s connection", c->via);
        return false;
    }
    c->last = now_ms();
    size_t off = 0;
    while (off < (size_t)n) {
        size_t used;
        int rc = http_feed(&c->req, buf + off, (size_t)n - off, &used);
        off += used;
        if (rc == HTTP_MORE)
            return true;
        if (rc == HTTP_ERROR) {
            /* Bad input gets an answer that says why, then the close. */
            char msg[512];
            const char *st = c->req.err == HTTP_E_HEAD_TOO_LONG
                                 ? "431 Request Header Fields Too Large"
                                 : "400 Bad Request";
            int blen = (int)strlen(http_error(&c->req)) + 1;
            int len = snprintf(msg, sizeof msg,
                               "HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n",
                               st, blen, http_error(&c->req));
            say("a bad request over %s: %s", c->via, http_error(&c->req));
            send(c->fd, msg, len < (int)sizeof msg ? (size_t)len : sizeof msg - 1, MSG_NOSIGNAL);
            return false;
        }
        respond(c);
        bool keep = c->req.keep_alive;
        http_msg_reset(&c->req);
        if (!keep)
            return false;
    }
    return true;
}

static volatile sig_atomic_t stopping;
static void on_signal(int sig)
{
    stopping = sig;
}

/* One poll over both listeners and every connection: one thread serves
 * TCP and Unix clients at once. Ends when `stop_fd` closes (the lesson's
 * own client is done), after `seconds`, or on Ctrl-C. */
static void serve(int tcp, int unx, int stop_fd, long seconds)
{
    struct pollfd pf[3 + MAX_CONNS];
    struct conn conns[MAX_CONNS];
    int nconn = 0;
    double end = now_ms() + (double)seconds * 1000;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stopping && now_ms() < end) {
        pf[0] = (struct pollfd){.fd = tcp, .events = POLLIN};
        pf[1] = (struct pollfd){.fd = unx, .events = POLLIN};
        pf[2] = (struct pollfd){.fd = stop_fd, .events = POLLIN};
        int polled = nconn;
        for (int i = 0; i < nconn; i++)
            pf[3 + i] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
        if (poll(pf, (nfds_t)(3 + polled), 1000) == -1)
            continue; /* EINTR: a signal; the loop checks why */
        if (pf[2].revents)
            break;
        for (int l = 0; l < 2; l++) {
            if (!(pf[l].revents & POLLIN))
                continue;
            int fd = accept(pf[l].fd, NULL, NULL);
            if (fd == -1)
                continue;
            if (nconn == MAX_CONNS) {
                say("more than %d connections: closing the new one", MAX_CONNS);
                close(fd);
                continue;
            }
            struct conn *c = &conns[nconn];
            c->fd = fd;
            c->via = l == 0 ? "TCP" : "Unix";
            c->last = now_ms();
            if (http_msg_init(&c->req, HTTP_REQUEST, HEAD_MAX, 65536) == -1) {
                close(fd);
                continue;
            }
            set_timeouts(fd); /* a client that does not read cannot stall us */
            say("accepted a connection over %s", c->via);
            show_socket(fd);
            nconn++;
        }
        /* Downwards, so removing one (the last moves into its place)
         * leaves the ones still to look at where they were. */
        for (int i = polled - 1; i >= 0; i--) {
            bool keep = true;
            if (pf[3 + i].revents)
                keep = on_readable(&conns[i]);
            else if (now_ms() - conns[i].last > 2.0 * timeout_ms) {
                say("a %s connection idle for %d s: closing it", conns[i].via,
                    2 * timeout_ms / 1000);
                keep = false;
            }
            if (!keep) {
                close(conns[i].fd);
                http_msg_free(&conns[i].req);
                conns[i] = conns[--nconn];
            }
        }
    }
    for (int i = 0; i < nconn; i++) {
        close(conns[i].fd);
        http_msg_free(&conns[i].req);
    }
}

int main(int argc, char **argv)
{
    const char *url = NULL, *unix_path = NULL, *timeout = NULL, *serve_text = NULL;
    const struct more_opt mine[] = {
        {"url", &url}, {"unix", &unix_path}, {"timeout", &timeout}, {"serve", &serve_text}};
    char err[128];
    if (more_opts_take(&argc, argv, mine, 4, err, sizeof err) == -1)
        die_usage("%s", err);
    struct lesson_opts o;
    lesson_parse(argc, argv, &lesson, &o);
    long v, serve_for = 300;
    if (timeout && more_opts_number(timeout, 1, 600, &v) == -1)
        die_usage("--timeout takes seconds, a whole number from 1 to 600, not '%s'", timeout);
    if (timeout)
        timeout_ms = (int)v * 1000;
    if (serve_text && more_opts_number(serve_text, 1, 86400, &serve_for) == -1)
        die_usage("--serve takes seconds, a whole number from 1 to 86400, not '%s'", serve_text);

    if (url != NULL) {
        prctl(PR_SET_NAME, "client");
        fetch_url(url);
        return 0;
    }
    if (o.role == ROLE_CLIENT) {
        prctl(PR_SET_NAME, "client");
        run_client(o.host, o.port_text, unix_path);
        return 0;
    }

    prctl(PR_SET_NAME, "server");
    /* Without --unix, the socket file goes in a fresh private directory. */
    char dir[] = "/tmp/sockscope-10-XXXXXX", path[128];
    bool own_dir = unix_path == NULL;
    if (own_dir) {
        if (mkdtemp(dir) == NULL)
            die_errno("mkdtemp");
        snprintf(path, sizeof path, "%s/app.sock", dir);
        unix_path = path;
    }
    int tcp = listen_tcp(o.host, o.port_text);
    int unx = listen_unix(unix_path);
    struct sockaddr_storage me;
    socklen_t melen = sizeof me;
    if (getsockname(tcp, (struct sockaddr *)&me, &melen) == -1)
        die_errno("getsockname");
    char port[8];
    snprintf(port, sizeof port, "%d", addr_port((struct sockaddr *)&me));
    say("listening on TCP port %s", port);
    say("and on the Unix socket %s", unix_path);
    show_socket(tcp);
    show_socket(unx);

    int status = 0;
    if (o.role == ROLE_SERVER) {
        serve(tcp, unx, -1, serve_for);
    } else {
        /* Both sides: the client is a second process; when it ends, the
         * pipe closes and the server stops. */
        int stop[2];
        if (pipe(stop) == -1)
            die_errno("pipe");
        fflush(stdout);
        pid_t pid = fork();
        if (pid == -1)
            die_errno("fork");
        if (pid == 0) {
            prctl(PR_SET_NAME, "client");
            close(tcp);
            close(unx);
            close(stop[0]);
            run_client(o.host, port, unix_path);
            return 0;
        }
        close(stop[1]);
        serve(tcp, unx, stop[0], serve_for);
        close(stop[0]);
        if (waitpid(pid, &status, 0) == -1)
            die_errno("waitpid");
        status = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
    close(tcp);
    close(unx);
    unlink(unix_path); /* the socket file outlives the socket: remove it */
    if (own_dir)
        rmdir(dir);
    say("server done");
    return status;
}
