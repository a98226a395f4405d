/* wsserve.c: lesson 11's classroom server. See wsserve.h. */
#include "wsserve.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "show.h"
#include "ws.h"

#define OUT_LIMIT (64u << 20) /* unsent bytes a client may hold up */
#define HTTP_IDLE_SECONDS 10  /* a request must arrive within this */

enum client_state { C_HTTP, C_WS, C_CLOSING };

struct client {
    int fd;
    enum client_state state;
    bool chat; /* /ws: broadcast; /echo: back to the sender */
    bool want_out, close_after;
    bool dead; /* dropped: freed once the current batch of events is done */
    time_t born;
    struct ws_handshake *hs; /* until the handshake is done */
    struct ws_conn ws;
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    char name[ADDR_STRLEN];
    struct client *prev, *next;
};

static volatile sig_atomic_t stop_requested;
static struct client *clients, *graveyard;
static uint64_t max_message;
static int nclients, nchat;
static int epfd = -1;
static bool quiet;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static time_t now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void drop(struct client *c)
{
    if (c->state == C_WS && c->chat)
        nchat--;
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nclients--;
    /* Events for c may still wait in this batch: free it after. */
    c->dead = true;
    c->next = graveyard;
    graveyard = c;
}

static void bury(void)
{
    while (graveyard != NULL) {
        struct client *c = graveyard;
        graveyard = c->next;
        free(c->hs);
        free(c->out);
        ws_conn_free(&c->ws);
        free(c);
    }
}

static bool reserve(struct client *c, size_t more)
{
    if (c->out_off > 0 && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len - c->out_off + more > OUT_LIMIT)
        return false;
    if (c->out_len + more <= c->out_cap)
        return true;
    if (c->out_off > 0) { /* slide what is left to the front */
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        if (c->out_len + more <= c->out_cap)
            return true;
    }
    size_t cap = c->out_cap ? c->out_cap : 16384;
    while (cap < c->out_len + more)
        cap *= 2;
    uint8_t *p = realloc(c->out, cap);
    if (p == NULL)
        return false;
    c->out = p;
    c->out_cap = cap;
    return true;
}

/* Put raw bytes (an HTTP answer) or a frame (server frames are never
 * masked) in c's queue. False when the client holds too much unsent. */
static bool queue_bytes(struct client *c, const void *p, size_t n)
{
    if (!reserve(c, n))
        return false;
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return true;
}

static bool queue_frame(struct client *c, int opcode, const void *p, size_t n)
{
    if (!reserve(c, WS_MAX_HEADER + n))
        return false;
    c->out_len += ws_frame_header_build(c->out + c->out_len, true, opcode, NULL, n);
    if (n)
        memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return true;
}

static void watch(struct client *c, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

/* Send what is queued. Returns false when the client was dropped. */
static bool flush(struct client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out)
                watch(c, true);
            return true;
        }
        drop(c);
        return false;
    }
    c->out_off = c->out_len = 0;
    if (c->out_cap > (1u << 20)) { /* give back what a big message took */
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    if (c->want_out)
        watch(c, false);
    if (c->close_after) {
        drop(c);
        return false;
    }
    return true;
}

static void close_with(struct client *c, int code, const char *why)
{
    uint8_t payload[125];
    size_t n = ws_close_payload(payload, code, why);
    if (c->state == C_WS && c->chat)
        nchat--;
    c->state = C_CLOSING;
    c->close_after = true;
    queue_frame(c, WS_OP_CLOSE, payload, n);
}

static void http_answer(struct client *c, int status, const char *type, const char *body,
                        size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, status == 200 ? "OK" : "Not Found", type, len);
    queue_bytes(c, head, (size_t)n);
    queue_bytes(c, body, len);
    c->state = C_CLOSING;
    c->close_after = true;
}

static void on_message(struct client *c, const struct ws_event *ev)
{
    if (!c->chat) {
        if (!queue_frame(c, ev->opcode, ev->data, ev->len))
            close_with(c, WS_CLOSE_POLICY, "too much unread data");
        return;
    }
    if (!quiet) {
        if (ev->opcode == WS_OP_TEXT) {
            /* A preview of at most 60 bytes, cut between two characters. */
            size_t cut = ev->len > 60 ? 60 : ev->len;
            while (cut < ev->len && cut > 0 && (ev->data[cut] & 0xC0) == 0x80)
                cut--;
            say("%s: text, %zu bytes: \"%.*s\"%s -> %d browsers", c->name, ev->len, (int)cut,
                (const char *)ev->data, cut < ev->len ? "..." : "", nchat);
        } else {
            say("%s: binary, %zu bytes -> %d browsers", c->name, ev->len, nchat);
        }
    }
    for (struct client *o = clients, *next; o != NULL; o = next) {
        next = o->next;
        if (o->state != C_WS || !o->chat)
            continue;
        if (!queue_frame(o, ev->opcode, ev->data, ev->len)) {
            say("%s reads too slowly: dropped", o->name);
            close_with(o, WS_CLOSE_POLICY, "too much unread data");
        }
        if (o != c)
            flush(o); /* may drop o; `next` was taken first */
    }
}

/* Bytes of the WebSocket stream. */
static void on_frames(struct client *c, const uint8_t *buf, size_t n)
{
    size_t off = 0, used;
    struct ws_event ev;
    struct ws_error err;
    while (off < n && c->state == C_WS) {
        int r = ws_conn_feed(&c->ws, buf + off, n - off, &used, &ev, &err);
        off += used;
        if (r == -1) {
            say("%s broke the protocol: %s; closing with %d", c->name, err.why, err.code);
            close_with(c, err.code, err.why);
        } else if (r == 1) {
            if (ev.kind == WS_EV_MESSAGE) {
                on_message(c, &ev);
            } else if (ev.kind == WS_EV_PING) {
                queue_frame(c, WS_OP_PONG, ev.data, ev.len);
            } else if (ev.kind == WS_EV_CLOSE) {
                if (!quiet || c->chat)
                    say("%s closes with %d", c->name, ev.close_code);
                uint8_t reply[2 + 125 + WS_MAX_HEADER];
                size_t rl = ws_close_reply(&ev, reply, NULL);
                if (c->chat)
                    nchat--;
                c->state = C_CLOSING;
                c->close_after = true;
                queue_bytes(c, reply, rl);
            }
        }
    }
}

static void on_request(struct client *c, const uint8_t *buf, size_t n)
{
    size_t used;
    enum ws_hs_state st = ws_handshake_feed(c->hs, buf, n, &used);
    if (st == WS_HS_MORE)
        return;
    struct ws_handshake *h = c->hs;
    char reply[512];
    if (st == WS_HS_ERROR && h->plain_http) {
        if (strcmp(h->path, "/") == 0 || strncmp(h->path, "/?", 2) == 0)
            http_answer(c, 200, "text/html; charset=utf-8", wspage, wspage_len);
        else
            http_answer(c, 404, "text/plain", "not found\n", 10);
    } else if (st == WS_HS_ERROR) {
        say("%s: refused: %s (%d)", c->name, h->err.why, h->err.code);
        int rl = ws_handshake_reply(h, reply, sizeof reply);
        if (rl > 0)
            queue_bytes(c, reply, (size_t)rl);
        c->state = C_CLOSING;
        c->close_after = true;
    } else if (strcmp(h->path, "/ws") != 0 && strcmp(h->path, "/echo") != 0) {
        http_answer(c, 404, "text/plain", "no WebSocket here: try /ws\n", 27);
    } else {
        int rl = ws_handshake_reply(h, reply, sizeof reply);
        queue_bytes(c, reply, (size_t)rl);
        c->chat = strcmp(h->path, "/ws") == 0;
        c->state = C_WS;
        if (c->chat)
            nchat++;
        if (!quiet || c->chat)
            say("%s: upgraded to a WebSocket on %s (%d in the chat)", c->name, h->path, nchat);
        free(c->hs);
        c->hs = NULL;
        /* Frames the client sent right behind its request. */
        on_frames(c, buf + used, n - used);
    }
}

static void on_readable(struct client *c)
{
    static uint8_t buf[256 * 1024];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
        if (c->state == C_WS && (c->chat || !quiet))
            say("%s: connection ended without a close frame", c->name);
        drop(c);
        return;
    }
    if (n < 0)
        return;
    if (c->state == C_HTTP)
        on_request(c, buf, (size_t)n);
    else if (c->state == C_WS)
        on_frames(c, buf, (size_t)n);
    /* C_CLOSING: whatever comes now is not read. */
    flush(c);
}

static void on_accept(int listener)
{
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(listener, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1)
            return; /* EAGAIN: all taken; EMFILE: they wait in the queue */
        struct client *c = calloc(1, sizeof *c);
        struct ws_handshake *h = malloc(sizeof *h);
        if (c == NULL || h == NULL) {
            free(c);
            free(h);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->hs = h;
        c->born = now();
        ws_handshake_init(h, WS_SERVER, NULL);
        ws_conn_init(&c->ws, WS_SERVER);
        c->ws.max_message = max_message;
        addr_format((struct sockaddr *)&peer, plen, c->name, sizeof c->name);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
            free(h);
            free(c);
            close(fd);
            continue;
        }
        c->next = clients;
        if (clients)
            clients->prev = c;
        clients = c;
        nclients++;
    }
}

int wsserve_run(int listener, const struct wsserve_opts *o)
{
    quiet = o->quiet;
    max_message = o->max_message ? o->max_message : WS_DEFAULT_MAX_MESSAGE;
    time_t deadline = now() + (o->max_seconds > 0 ? o->max_seconds : 4 * 3600);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    stop_requested = 0;

    /* accept() in a loop until the queue is empty: it must not block. */
    int fl = fcntl(listener, F_GETFL);
    if (fl == -1 || fcntl(listener, F_SETFL, fl | O_NONBLOCK) == -1)
        return -1;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd == -1)
        return -1;
    static int listener_tag;
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listener_tag};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &lev) == -1) {
        close(epfd);
        return -1;
    }
    struct epoll_event evs[128];
    time_t last_sweep = now();
    while (!stop_requested && now() < deadline) {
        int n = epoll_wait(epfd, evs, 128, 1000);
        if (n == -1 && errno != EINTR) {
            int e = errno;
            close(epfd);
            errno = e;
            return -1;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &listener_tag) {
                on_accept(listener);
                continue;
            }
            struct client *c = evs[i].data.ptr;
            if (c->dead) /* dropped earlier in this batch */
                continue;
            if (evs[i].events & EPOLLOUT) {
                if (!flush(c))
                    continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(c);
        }
        bury();
        time_t t = now();
        if (t != last_sweep) { /* once a second: requests that never came */
            last_sweep = t;
            for (struct client *c = clients, *next; c != NULL; c = next) {
                next = c->next;
                if (c->state == C_HTTP && t - c->born > HTTP_IDLE_SECONDS)
                    drop(c);
            }
        }
    }
    say("stopping: closing %d connections with 1001 (going away)", nclients);
    while (clients != NULL) {
        struct client *c = clients;
        if (c->state == C_WS)
            close_with(c, WS_CLOSE_GOING_AWAY, "the server stops");
        c->close_after = true;
        flush(c); /* sends what fits now, then drops */
        if (clients == c)
            drop(c);
    }
    bury();
    close(epfd);
    epfd = -1;
    return 0;
}
