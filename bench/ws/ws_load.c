/*
 * ws_load: a WebSocket echo load, the client of bench/bench_ws.py.
 *
 *   ws_load [--connections N] [--seconds S] [--warmup S] [--size BYTES] URL
 *
 * Opens N connections to URL (ws://HOST:PORT/PATH, an endpoint that echoes
 * each message to its sender), does the opening handshake on each (the
 * 101 and its Sec-WebSocket-Accept are checked by common/ws), then runs a
 * closed loop on every connection: send one masked text message of BYTES
 * bytes, wait for its echo, check that it holds the same bytes, time the
 * round trip, send the next. The first --warmup seconds are not counted;
 * after --seconds more no new message is sent, the ones in flight are
 * waited for, and every connection is closed with 1000. One thread,
 * epoll, non-blocking sockets: the same client for every server measured.
 * It prints one line of JSON:
 *
 *   {"connections": 64, "size": 1024, "warmup": 1.000, "messages": M,
 *    "seconds": S, "msgs_per_s": R, "rtt_median_us": A, "rtt_p99_us": B,
 *    "errors": 0}
 *
 * M counts the echoes after the warm-up; S runs from the end of the
 * warm-up to the last echo.
 *
 * Exit status: 0 when every echo came back equal; 1 when one did not, a
 * connection failed or an echo never came; 2 for bad arguments.
 *
 * Not linked with the interposer: only the server under test is measured.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ws.h"

#define MAX_CONNECTIONS 10000
#define MAX_SIZE (1u << 20)
#define MAX_SECONDS 3600.0
#define MAX_WARMUP 60.0
#define SETUP_SECONDS 10.0 /* to connect and upgrade every connection */
#define DRAIN_SECONDS 5.0  /* for the last echoes after the run */
#define CLOSE_SECONDS 2.0  /* for the close replies */
#define MAX_REPORTED 5     /* errors described on stderr; the rest counted */

enum state { S_CONNECTING, S_HANDSHAKE, S_OPEN, S_CLOSING, S_DONE };

struct conn {
    int fd;
    unsigned id;
    enum state state;
    struct ws_handshake *hs; /* until the 101 is read */
    struct ws_conn ws;
    uint8_t *out; /* unsent bytes: the message, a pong, the close */
    size_t out_len, out_off, out_cap;
    bool want_out;
    uint8_t *sent; /* the payload of the message in flight, unmasked */
    uint64_t seq;
    bool in_flight;
    long long sent_at;
};

static struct {
    unsigned connections;
    double seconds, warmup;
    size_t size;
    const char *url;
    char host[256], port[16], path[256], authority[300];
} opt = {.connections = 64, .seconds = 10, .warmup = 1, .size = 1024};

static int epfd = -1;
static unsigned errors;
static bool sending = true, measuring;
static unsigned long long messages;
static long long last_echo_at;

/* ---- round trips: a histogram with buckets 1/256 of their value wide */

#define HIST_BUCKETS (256 + 56 * 256)
static unsigned long long hist[HIST_BUCKETS];

static unsigned bucket_of(unsigned long long ns)
{
    if (ns < 256)
        return (unsigned)ns;
    unsigned e = 63 - (unsigned)__builtin_clzll(ns); /* 8..63 */
    unsigned m = (unsigned)(ns >> (e - 8)) & 0xFF;
    return 256 + (e - 8) * 256 + m;
}

/* The middle of bucket b, in nanoseconds. */
static double bucket_value(unsigned b)
{
    if (b < 256)
        return b;
    unsigned e = (b - 256) / 256 + 8, m = (b - 256) % 256;
    double lo = ldexp(256 + m, (int)e - 8);
    return lo + ldexp(1, (int)e - 8) / 2;
}

/* The q-quantile (0 < q <= 1) of what the histogram holds, in ns. */
static double quantile(double q)
{
    unsigned long long total = 0;
    for (unsigned b = 0; b < HIST_BUCKETS; b++)
        total += hist[b];
    if (total == 0)
        return 0;
    unsigned long long rank = (unsigned long long)ceil(q * (double)total), seen = 0;
    if (rank < 1)
        rank = 1;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += hist[b];
        if (seen >= rank)
            return bucket_value(b);
    }
    return bucket_value(HIST_BUCKETS - 1);
}

/* ---- small helpers --------------------------------------------------- */

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail(struct conn *c, const char *fmt, ...)
{
    errors++;
    if (errors <= MAX_REPORTED) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "ws_load: connection %u: ", c->id);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    } else if (errors == MAX_REPORTED + 1) {
        fprintf(stderr, "ws_load: more errors follow; only their number is reported\n");
    }
    if (c->fd != -1)
        close(c->fd); /* also takes it out of the epoll set */
    c->fd = -1;
    c->state = S_DONE;
    c->in_flight = false;
}

/* Masking keys: RFC 6455 wants them unpredictable to bystanders; a
 * xorshift generator seeded from libcrypto is plenty for a load client and
 * costs nothing next to the server under test. */
static uint64_t rng_state;

static uint32_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void watch(struct conn *c, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

/* Send what is queued; false when the connection failed. */
static bool flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n == -1 && errno == EINTR) {
            continue;
        } else if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out)
                watch(c, true);
            return true;
        } else {
            fail(c, "send: %s", strerror(errno));
            return false;
        }
    }
    c->out_off = c->out_len = 0;
    if (c->want_out)
        watch(c, false);
    return true;
}

/* Queue one masked frame. False when it does not fit (a peer that keeps
 * pinging a connection that cannot send). */
static bool queue_frame(struct conn *c, int opcode, const void *payload, size_t len)
{
    uint32_t r = rng_next();
    uint8_t mask[4];
    memcpy(mask, &r, 4);
    size_t n = ws_frame_build(c->out + c->out_len, c->out_cap - c->out_len, true, opcode, mask,
                              payload, len);
    if (n == 0) {
        fail(c, "more than %zu bytes wait to be sent", c->out_cap);
        return false;
    }
    c->out_len += n;
    return true;
}

/* The next message: text that differs in every message, so that an echo
 * of an older message, or of another connection's, does not pass. */
static bool send_message(struct conn *c)
{
    static const char letters[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    c->seq++;
    unsigned shift = (unsigned)(c->seq * 7 + c->id * 13);
    for (size_t i = 0; i < opt.size; i++)
        c->sent[i] = (uint8_t)letters[(i + shift) & 63];
    int head = snprintf(NULL, 0, "%u:%llu ", c->id, (unsigned long long)c->seq);
    if ((size_t)head <= opt.size) {
        char tag[40];
        snprintf(tag, sizeof tag, "%u:%llu ", c->id, (unsigned long long)c->seq);
        memcpy(c->sent, tag, (size_t)head);
    }
    if (!queue_frame(c, WS_OP_TEXT, c->sent, opt.size))
        return false;
    c->in_flight = true;
    c->sent_at = now_ns();
    return flush(c);
}

/* ---- the connection's life --------------------------------------------- */

static void on_event(struct conn *c, const struct ws_event *ev)
{
    switch (ev->kind) {
    case WS_EV_MESSAGE: {
        long long t = now_ns();
        if (c->state == S_CLOSING)
            return; /* an echo that crossed our close; it was checked before */
        if (!c->in_flight) {
            fail(c, "a message came that was not sent (%zu bytes)", ev->len);
            return;
        }
        if (ev->opcode != WS_OP_TEXT || ev->len != opt.size ||
            (opt.size > 0 && memcmp(ev->data, c->sent, opt.size) != 0)) {
            fail(c, "echo %llu differs from what was sent (%s, %zu bytes, %zu expected)",
                 (unsigned long long)c->seq, ws_opcode_name(ev->opcode), ev->len, opt.size);
            return;
        }
        c->in_flight = false;
        last_echo_at = t;
        if (measuring) {
            messages++;
            hist[bucket_of((unsigned long long)(t - c->sent_at))]++;
        }
        if (sending)
            send_message(c);
        return;
    }
    case WS_EV_PING:
        if (queue_frame(c, WS_OP_PONG, ev->data, ev->len))
            flush(c);
        return;
    case WS_EV_PONG: return;
    case WS_EV_CLOSE:
        if (c->state == S_CLOSING) { /* the reply to our close: done */
            close(c->fd);
            c->fd = -1;
            c->state = S_DONE;
            return;
        }
        fail(c, "the server closed the WebSocket with %d \"%.*s\"", ev->close_code,
             (int)ev->reason_len, ev->reason ? ev->reason : "");
        return;
    }
}

static void on_frames(struct conn *c, const uint8_t *buf, size_t n)
{
    size_t off = 0, used;
    struct ws_event ev;
    struct ws_error err;
    while (off < n && c->state != S_DONE) {
        int r = ws_conn_feed(&c->ws, buf + off, n - off, &used, &ev, &err);
        off += used;
        if (r == -1) {
            fail(c, "the server broke the protocol: %s (%d)", err.why, err.code);
            return;
        }
        if (r == 1)
            on_event(c, &ev);
    }
}

static void on_handshake(struct conn *c, const uint8_t *buf, size_t n)
{
    size_t used;
    enum ws_hs_state st = ws_handshake_feed(c->hs, buf, n, &used);
    if (st == WS_HS_MORE)
        return;
    if (st == WS_HS_ERROR) {
        if (c->hs->status != 0 && c->hs->status != 101)
            fail(c, "the server answered %d, not 101, to the upgrade of %s", c->hs->status,
                 opt.url);
        else
            fail(c, "the upgrade of %s failed: %s", opt.url, c->hs->err.why);
        return;
    }
    free(c->hs);
    c->hs = NULL;
    c->state = S_OPEN;
    on_frames(c, buf + used, n - used);
}

static void on_readable(struct conn *c)
{
    static uint8_t buf[256 * 1024];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n == -1 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        if (c->state == S_CLOSING) { /* closed right after its close reply */
            close(c->fd);
            c->fd = -1;
            c->state = S_DONE;
        } else {
            fail(c, "the server %s", n == 0 ? "closed the TCP connection" : strerror(errno));
        }
        return;
    }
    if (c->state == S_HANDSHAKE)
        on_handshake(c, buf, (size_t)n);
    else
        on_frames(c, buf, (size_t)n);
}

static void on_connected(struct conn *c)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
        e = errno;
    if (e != 0) {
        fail(c, "connect to %s port %s: %s", opt.host, opt.port, strerror(e));
        return;
    }
    char key[WS_KEY_LEN];
    if (ws_make_key(key) != 0) {
        fail(c, "no random key from libcrypto");
        return;
    }
    ws_handshake_init(c->hs, WS_CLIENT, key);
    int n = ws_handshake_request((char *)c->out, c->out_cap, opt.authority, opt.path, key);
    if (n < 0) {
        fail(c, "the upgrade request does not fit");
        return;
    }
    c->out_len = (size_t)n;
    c->state = S_HANDSHAKE;
    flush(c);
}

static void dispatch(struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        struct conn *c = evs[i].data.ptr;
        if (c->state == S_DONE)
            continue;
        if (c->state == S_CONNECTING) {
            on_connected(c);
            continue;
        }
        if ((evs[i].events & EPOLLOUT) && !flush(c))
            continue;
        if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            on_readable(c);
    }
}

/* Run the loop until `done` says so or `until` (ns) passes. */
static void loop_until(long long until, bool (*done)(struct conn *, unsigned), struct conn *cs)
{
    static struct epoll_event evs[256];
    while (!done(cs, opt.connections)) {
        long long left = until - now_ns();
        if (left <= 0)
            return;
        int ms = (int)(left / 1000000) + 1;
        int n = epoll_wait(epfd, evs, 256, ms > 100 ? 100 : ms);
        if (n == -1 && errno != EINTR) {
            perror("ws_load: epoll_wait");
            exit(1);
        }
        if (n > 0)
            dispatch(evs, n);
    }
}

static bool all_open(struct conn *cs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (cs[i].state == S_CONNECTING || cs[i].state == S_HANDSHAKE)
            return false;
    return true;
}

static bool never(struct conn *cs, unsigned n)
{
    (void)cs;
    (void)n;
    return false;
}

static bool none_in_flight(struct conn *cs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (cs[i].in_flight)
            return false;
    return true;
}

static bool all_done(struct conn *cs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (cs[i].state != S_DONE)
            return false;
    return true;
}

/* ---- arguments ------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ws_load [options] ws://HOST:PORT/PATH\n"
            "A WebSocket echo load: N connections, each sending one masked text\n"
            "message, waiting for its echo and checking it, again and again.\n"
            "Prints one line of JSON: messages, seconds, msgs_per_s, rtt_median_us,\n"
            "rtt_p99_us, errors. Exits 1 if any echo differed or never came.\n"
            "\n"
            "  -c, --connections N   connections at once (default 64, at most %d)\n"
            "  -t, --seconds S       how long to measure (default 10, at most %.0f)\n"
            "  -w, --warmup S        run this long first, not counted (default 1)\n"
            "  -s, --size BYTES      bytes per message (default 1024, at most %u)\n"
            "  -h, --help            this help\n"
            "\n"
            "Example: ws_load --connections 64 --seconds 10 ws://127.0.0.1:9011/echo\n",
            MAX_CONNECTIONS, MAX_SECONDS, MAX_SIZE);
}

static void bad_arg(const char *fmt, const char *what)
{
    fprintf(stderr, "ws_load: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n(ws_load --help lists the options)\n");
    exit(2);
}

static double number(const char *name, const char *text, double lo, double hi, bool whole)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi) ||
        (whole && v != floor(v))) {
        fprintf(stderr, "ws_load: %s takes %s from %g to %g, not \"%s\"\n", name,
                whole ? "a whole number" : "a number", lo, hi, text);
        fprintf(stderr, "(ws_load --help lists the options)\n");
        exit(2);
    }
    return v;
}

/* ws://HOST[:PORT][/PATH], HOST may be [IPv6]. */
static void parse_url(const char *url)
{
    if (strncmp(url, "ws://", 5) != 0)
        bad_arg("the URL must start with ws:// (wss is not spoken here), not \"%s\"", url);
    const char *p = url + 5;
    const char *slash = strchr(p, '/');
    size_t alen = slash ? (size_t)(slash - p) : strlen(p);
    if (alen == 0 || alen >= sizeof opt.authority)
        bad_arg("the URL \"%s\" has no host, or one too long", url);
    memcpy(opt.authority, p, alen);
    opt.authority[alen] = '\0';
    snprintf(opt.path, sizeof opt.path, "%s", slash ? slash : "/");
    if (slash && strlen(slash) >= sizeof opt.path)
        bad_arg("the path of \"%s\" is longer than 255 bytes", url);
    const char *a = opt.authority, *colon;
    if (a[0] == '[') {
        const char *close = strchr(a, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            bad_arg("the IPv6 address in \"%s\" needs its closing ]", url);
        snprintf(opt.host, sizeof opt.host, "%.*s", (int)(close - a - 1), a + 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strchr(a, ':');
        snprintf(opt.host, sizeof opt.host, "%.*s", (int)(colon ? (size_t)(colon - a) : alen), a);
    }
    snprintf(opt.port, sizeof opt.port, "%s", colon ? colon + 1 : "80");
    number("the URL's port", opt.port, 1, 65535, true);
}

static void parse_args(int argc, char **argv)
{
    static const struct option longs[] = {
        {"connections", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 't'},
        {"warmup", required_argument, NULL, 'w'},
        {"size", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "c:t:w:s:h", longs, NULL)) != -1) {
        switch (ch) {
        case 'c':
            opt.connections = (unsigned)number("--connections", optarg, 1, MAX_CONNECTIONS, true);
            break;
        case 't': opt.seconds = number("--seconds", optarg, 0.1, MAX_SECONDS, false); break;
        case 'w': opt.warmup = number("--warmup", optarg, 0, MAX_WARMUP, false); break;
        case 's': opt.size = (size_t)number("--size", optarg, 0, MAX_SIZE, true); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "ws_load: give one URL, such as ws://127.0.0.1:9011/echo\n");
        fprintf(stderr, "(ws_load --help lists the options)\n");
        exit(2);
    }
    opt.url = argv[optind];
    parse_url(opt.url);
}

/* ---- main -------------------------------------------------------------- */

int main(int argc, char **argv)
{
    parse_args(argc, argv);

    /* Each connection takes a file descriptor. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < opt.connections + 16) {
        rl.rlim_cur = rl.rlim_max;
        if (rl.rlim_cur < opt.connections + 16 || setrlimit(RLIMIT_NOFILE, &rl) == -1) {
            fprintf(stderr, "ws_load: %u connections need %u open files; the limit is %llu\n",
                    opt.connections, opt.connections + 16, (unsigned long long)rl.rlim_cur);
            return 1;
        }
    }
    if (RAND_bytes((unsigned char *)&rng_state, sizeof rng_state) != 1 || rng_state == 0)
        rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)now_ns();

    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(opt.host, opt.port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "ws_load: %s port %s: %s\n", opt.host, opt.port, gai_strerror(rc));
        return 1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct conn *cs = calloc(opt.connections, sizeof *cs);
    if (epfd == -1 || cs == NULL) {
        perror("ws_load: setup");
        return 1;
    }
    /* Room for a message, a pong and the close; the request fits too. */
    size_t cap = opt.size + WS_MAX_HEADER + 2 * (125 + WS_MAX_HEADER) + 1024;
    for (unsigned i = 0; i < opt.connections; i++) {
        struct conn *c = &cs[i];
        c->id = i;
        c->fd = -1;
        c->state = S_CONNECTING;
        c->out_cap = cap;
        c->out = malloc(cap);
        c->sent = malloc(opt.size ? opt.size : 1);
        c->hs = malloc(sizeof *c->hs);
        if (c->out == NULL || c->sent == NULL || c->hs == NULL) {
            fprintf(stderr, "ws_load: out of memory for %u connections\n", opt.connections);
            return 1;
        }
        ws_conn_init(&c->ws, WS_CLIENT);
        c->ws.max_message = opt.size > 0 ? opt.size : 1;
        c->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd == -1) {
            fail(c, "socket: %s", strerror(errno));
            continue;
        }
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c->fd, res->ai_addr, res->ai_addrlen) == -1 && errno != EINPROGRESS) {
            fail(c, "connect to %s port %s: %s", opt.host, opt.port, strerror(errno));
            continue;
        }
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
            fail(c, "epoll_ctl: %s", strerror(errno));
            continue;
        }
        c->want_out = true;
    }
    freeaddrinfo(res);

    /* 1. Connect and upgrade every connection. */
    loop_until(now_ns() + (long long)(SETUP_SECONDS * 1e9), all_open, cs);
    unsigned open = 0;
    for (unsigned i = 0; i < opt.connections; i++) {
        if (cs[i].state == S_CONNECTING || cs[i].state == S_HANDSHAKE)
            fail(&cs[i], "not upgraded within %.0f s", SETUP_SECONDS);
        if (cs[i].state == S_OPEN)
            open++;
    }
    if (open < opt.connections) {
        fprintf(stderr, "ws_load: %u of %u connections upgraded; no run\n", open, opt.connections);
        return 1;
    }

    /* 2. The closed loop: warm up, then measure. */
    for (unsigned i = 0; i < opt.connections; i++)
        if (cs[i].state == S_OPEN)
            send_message(&cs[i]);
    loop_until(now_ns() + (long long)(opt.warmup * 1e9), never, cs);
    measuring = true;
    long long t0 = now_ns();
    last_echo_at = t0;
    loop_until(t0 + (long long)(opt.seconds * 1e9), never, cs);

    /* 3. No new messages; wait for the echoes still in flight. */
    sending = false;
    loop_until(now_ns() + (long long)(DRAIN_SECONDS * 1e9), none_in_flight, cs);
    long long t1 = last_echo_at;
    for (unsigned i = 0; i < opt.connections; i++)
        if (cs[i].in_flight)
            fail(&cs[i], "no echo of message %llu within %.0f s", (unsigned long long)cs[i].seq,
                 DRAIN_SECONDS);

    /* 4. Close each connection with 1000 and wait for the replies. */
    uint8_t payload[125];
    size_t plen = ws_close_payload(payload, WS_CLOSE_NORMAL, "done");
    for (unsigned i = 0; i < opt.connections; i++) {
        struct conn *c = &cs[i];
        if (c->state != S_OPEN)
            continue;
        c->state = S_CLOSING;
        if (queue_frame(c, WS_OP_CLOSE, payload, plen))
            flush(c);
    }
    loop_until(now_ns() + (long long)(CLOSE_SECONDS * 1e9), all_done, cs);
    unsigned unclosed = 0;
    for (unsigned i = 0; i < opt.connections; i++) {
        if (cs[i].fd != -1) {
            unclosed++;
            close(cs[i].fd);
        }
        ws_conn_free(&cs[i].ws);
        free(cs[i].out);
        free(cs[i].sent);
        free(cs[i].hs);
    }
    free(cs);
    close(epfd);
    if (unclosed > 0)
        fprintf(stderr, "ws_load: %u connections got no close reply within %.0f s\n", unclosed,
                CLOSE_SECONDS);

    double secs = (double)(t1 - t0) / 1e9;
    printf("{\"connections\": %u, \"size\": %zu, \"warmup\": %.3f, \"messages\": %llu, "
           "\"seconds\": %.3f, \"msgs_per_s\": %.1f, \"rtt_median_us\": %.1f, "
           "\"rtt_p99_us\": %.1f, \"errors\": %u}\n",
           opt.connections, opt.size, opt.warmup, messages, secs,
           secs > 0 ? (double)messages / secs : 0.0, quantile(0.5) / 1e3, quantile(0.99) / 1e3,
           errors);
    return errors == 0 && messages > 0 ? 0 : 1;
}
