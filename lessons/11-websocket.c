/*
 * Lesson 11: WebSocket, a message protocol on top of one TCP connection.
 *
 * A WebSocket begins as an HTTP request (lesson 10) that asks to change
 * protocols. The server proves it understood by hashing the client's key
 * with a fixed GUID; after its "101 Switching Protocols" both sides send
 * frames, in both directions at any time, on the same TCP connection.
 *
 *   1. The handshake on paper: the key, key + GUID, SHA-1, base64; first
 *      the RFC's own example, then this run's key.
 *   2. Frames bit by bit: FIN, opcode, MASK, length, masking key, payload;
 *      a text frame, a binary one, a message in fragments, ping and pong,
 *      the close handshake.
 *   3. For real: a server and a client (two processes) do the handshake,
 *      exchange those frames over loopback and close.
 *
 * Watch that the upgrade happens on the connection accept() returned: no
 * new socket, only new rules for the bytes. `--role server` opens a chat
 * for the classroom: browsers load the page at http://HOST:PORT/ and talk
 * through the WebSocket at /ws (many clients, one process, with epoll as
 * in lesson 09). The protocol's rules (parsing, validation, masking) are
 * in common/ws.h: hand-written, since they are the subject here; SHA-1,
 * base64 and random numbers come from OpenSSL's libcrypto.
 */
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "die.h"
#include "opts.h"
#include "show.h"
#include "ws.h"
#include "wsserve.h"

static const struct lesson_info lesson = {
    .name = "11-websocket",
    .summary = "The WebSocket handshake and frames, bit by bit, then for real over TCP;\n"
               "--role server: a chat for browsers at http://HOST:PORT/ (WebSocket /ws).",
    .opts = OPT_ROLE | OPT_HOST | OPT_PORT,
    .default_host = "127.0.0.1",
    .default_port = 9011,
    .more_help = "Classroom: 11-websocket --role server --host 0.0.0.0 --port 9011\n"
                 "           then open http://THIS-MACHINE:9011/ in several browsers.\n"
                 "Client alone: 11-websocket --role client --port 9011",
};

/* ---- 1. The handshake on paper ------------------------------------- */

static void explain_accept(const char *key)
{
    /* The server glues the RFC's fixed GUID to the key... */
    char joined[128];
    snprintf(joined, sizeof joined, "%s%s", key, WS_GUID);
    say("  Sec-WebSocket-Key:    %s", key);
    say("  key + GUID:           %s", joined);

    /* ...hashes it with SHA-1 (20 bytes)... */
    unsigned char sha[EVP_MAX_MD_SIZE];
    unsigned int n;
    if (EVP_Digest(joined, strlen(joined), sha, &n, EVP_sha1(), NULL) != 1)
        die_msg("SHA-1 failed in libcrypto");
    char hex[41];
    for (unsigned i = 0; i < n; i++)
        sprintf(hex + 2 * i, "%02x", sha[i]);
    say("  SHA-1, in hex:        %s", hex);

    /* ...and sends those 20 bytes back in base64. Only a server that
     * speaks WebSocket can give this answer, so a client cannot be fooled
     * by an ordinary web server that happens to say 101. */
    char b64[WS_ACCEPT_LEN];
    EVP_EncodeBlock((unsigned char *)b64, sha, (int)n);
    say("  base64 of the digest: %s  <- Sec-WebSocket-Accept", b64);
}

/* ---- 2. Frames, bit by bit ------------------------------------------ */

static const char *bits8(uint8_t b, char out[9])
{
    for (int i = 0; i < 8; i++)
        out[i] = (b >> (7 - i)) & 1 ? '1' : '0';
    out[8] = '\0';
    return out;
}

static void show_frame(const char *what, const uint8_t *f, size_t n)
{
    struct ws_frame h;
    struct ws_error err;
    char b[9];
    if (ws_frame_header_parse(f, n, &h, &err) <= 0)
        die_msg("not a frame: %s", err.why);
    say("%s: %zu bytes on the wire", what, n);
    say("  byte 0 %s  FIN=%d RSV=%d%d%d opcode=%x (%s)", bits8(f[0], b), h.fin, h.rsv >> 2,
        (h.rsv >> 1) & 1, h.rsv & 1, (unsigned)h.opcode, ws_opcode_name(h.opcode));
    int len7 = f[1] & 0x7F;
    say("  byte 1 %s  MASK=%d length=%d%s", bits8(f[1], b), h.masked, len7,
        len7 == 126   ? ": the length is in the next 2 bytes"
        : len7 == 127 ? ": the length is in the next 8 bytes"
                      : "");
    if (len7 >= 126)
        say("  extended length: %llu", (unsigned long long)h.len);
    if (h.masked)
        say("  masking key: %02x %02x %02x %02x (random, new for every frame)", h.mask[0],
            h.mask[1], h.mask[2], h.mask[3]);
    /* Masking is XOR with the key, byte i with key[i % 4]: the same
     * operation hides and reveals. It keeps a client's bytes from ever
     * looking like a request a confused proxy on the way might act on. */
    uint8_t p[128];
    size_t plen = h.len < sizeof p ? (size_t)h.len : sizeof p;
    memcpy(p, f + h.header_len, plen);
    char line[3 * 16 + 1] = "";
    for (size_t i = 0; i < plen && i < 16; i++)
        sprintf(line + 3 * i, "%02x ", p[i]);
    say("  payload (%llu bytes, as sent): %s%s", (unsigned long long)h.len, line,
        plen > 16 ? "..." : "");
    if (h.masked)
        ws_mask(p, plen, h.mask, 0);
    if (h.opcode == WS_OP_CLOSE && plen >= 2)
        say("  close code %d, reason \"%.*s\"", p[0] << 8 | p[1], (int)plen - 2, p + 2);
    else if (h.opcode != WS_OP_BINARY)
        say("  payload as text%s: \"%.*s\"", h.masked ? ", unmasked" : "", (int)plen, p);
}

static void frames_on_paper(void)
{
    uint8_t key[4], f[256];
    RAND_bytes(key, sizeof key);
    say("A client's text frame \"Hello\" (clients mask every frame):");
    show_frame("text", f, ws_frame_build(f, sizeof f, true, WS_OP_TEXT, key, "Hello", 5));
    say("The server's answer, a binary frame of 4 bytes (servers never mask):");
    show_frame("binary", f, ws_frame_build(f, sizeof f, true, WS_OP_BINARY, NULL, "\1\2\3\4", 4));
    say("One message in two fragments: FIN=0 on the first, opcode 0 (continuation) next:");
    show_frame("first", f, ws_frame_build(f, sizeof f, false, WS_OP_TEXT, NULL, "Hel", 3));
    show_frame("last", f, ws_frame_build(f, sizeof f, true, WS_OP_CONT, NULL, "lo", 2));
    say("A ping, and the pong that must answer it with the same bytes:");
    show_frame("ping", f, ws_frame_build(f, sizeof f, true, WS_OP_PING, NULL, "tick", 4));
    show_frame("pong", f, ws_frame_build(f, sizeof f, true, WS_OP_PONG, key, "tick", 4));
    say("Closing: a close frame with a code (1000: normal) and a reason; the other side");
    say("answers with a close frame, then the server closes the TCP connection:");
    uint8_t payload[125];
    size_t pl = ws_close_payload(payload, WS_CLOSE_NORMAL, "bye");
    show_frame("close", f, ws_frame_build(f, sizeof f, true, WS_OP_CLOSE, NULL, payload, pl));
}

/* ---- 3. For real, over TCP ------------------------------------------ */

/* A listening socket on host:port, as in lesson 02. */
static int open_listener(const char *host, const char *port)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        die_gai(host, port, rc);
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd == -1)
            die_errno("socket");
        int on = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
            die_errno("setsockopt");
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (ai->ai_next == NULL)
            die_errno("bind");
        close(fd);
    }
    freeaddrinfo(res);
    /* A long queue: a classroom of browsers may connect at once. */
    if (listen(fd, 128) == -1)
        die_errno("listen");
    return fd;
}

/* Send a whole buffer; send() may take less than asked. */
static void send_all(int fd, const void *p, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t k = send(fd, (const char *)p + off, n - off, MSG_NOSIGNAL);
        if (k == -1)
            die_errno("send");
        off += (size_t)k;
    }
}

/* Bytes received but not yet read by the frame reader. */
struct inbox {
    uint8_t buf[65536];
    size_t off, len;
};

/* The next event on the connection, receiving as needed. */
static void next_event(int fd, struct inbox *in, struct ws_conn *c, struct ws_event *ev)
{
    struct ws_error err;
    for (;;) {
        if (in->off == in->len) {
            ssize_t n = recv(fd, in->buf, sizeof in->buf, 0);
            if (n == -1)
                die_errno("recv");
            if (n == 0)
                die_msg("the peer closed the TCP connection without a close frame");
            in->off = 0;
            in->len = (size_t)n;
        }
        size_t used;
        int r = ws_conn_feed(c, in->buf + in->off, in->len - in->off, &used, ev, &err);
        in->off += used;
        if (r == 1)
            return;
        if (r == -1)
            die_msg("the peer broke the protocol: %s (close code %d)", err.why, err.code);
    }
}

/* Read an HTTP head (request or response) with the handshake reader; the
 * bytes after it stay in the inbox: they are already frames. */
static void read_head(int fd, struct ws_handshake *h, struct inbox *in)
{
    for (;;) {
        ssize_t n = recv(fd, in->buf, sizeof in->buf, 0);
        if (n == -1)
            die_errno("recv");
        if (n == 0)
            die_msg("the connection closed during the handshake");
        size_t used;
        enum ws_hs_state st = ws_handshake_feed(h, in->buf, (size_t)n, &used);
        if (st == WS_HS_MORE)
            continue;
        say("read the HTTP head: %zu bytes:\n%.*s", h->len, (int)h->len, h->buf);
        in->off = used;
        in->len = (size_t)n;
        return;
    }
}

static void serve_one(int listener)
{
    int fd = accept(listener, NULL, NULL);
    if (fd == -1)
        die_errno("accept");
    show_socket(fd);

    /* The request is plain HTTP: read it, check it, answer 101. */
    struct ws_handshake h;
    struct inbox in = {0};
    ws_handshake_init(&h, WS_SERVER, NULL);
    read_head(fd, &h, &in);
    char reply[512];
    int rl = ws_handshake_reply(&h, reply, sizeof reply);
    send_all(fd, reply, (size_t)rl);
    if (h.state != WS_HS_DONE)
        die_msg("refused the upgrade: %s (%d)", h.err.why, h.err.code);
    say("sent 101 Switching Protocols: from now on this same socket carries frames");

    /* Frames: echo each message, answer pings, answer the close. */
    struct ws_conn c;
    ws_conn_init(&c, WS_SERVER);
    uint8_t out[4096 + WS_MAX_HEADER];
    for (int i = 0; i < 100; i++) {
        struct ws_event ev;
        next_event(fd, &in, &c, &ev);
        if (ev.kind == WS_EV_MESSAGE) {
            say("message: %s, %zu bytes; echo it", ws_opcode_name(ev.opcode), ev.len);
            size_t n = ws_frame_build(out, sizeof out, true, ev.opcode, NULL, ev.data, ev.len);
            send_all(fd, out, n);
        } else if (ev.kind == WS_EV_PING) {
            say("ping \"%.*s\": answer with a pong", (int)ev.len, ev.data);
            send_all(fd, out,
                     ws_frame_build(out, sizeof out, true, WS_OP_PONG, NULL, ev.data, ev.len));
        } else if (ev.kind == WS_EV_CLOSE) {
            say("close %d \"%.*s\": answer it, then close the TCP connection", ev.close_code,
                (int)ev.reason_len, ev.reason ? ev.reason : "");
            send_all(fd, out, ws_close_reply(&ev, out, NULL));
            break;
        }
    }
    ws_conn_free(&c);
    /* The server closes first (RFC 6455, 7.1.1): the TIME_WAIT is ours. */
    if (close(fd) == -1)
        die_errno("close");
}

/* A client frame: masked with a fresh random key. */
static void send_frame(int fd, bool fin, int opcode, const void *p, size_t n)
{
    uint8_t key[4], f[256];
    RAND_bytes(key, sizeof key);
    send_all(fd, f, ws_frame_build(f, sizeof f, fin, opcode, key, p, n));
}

static void expect(int fd, struct inbox *in, struct ws_conn *c, enum ws_event_kind kind,
                   const char *data, size_t len)
{
    struct ws_event ev;
    next_event(fd, in, c, &ev);
    if (ev.kind != kind || (kind != WS_EV_CLOSE && (ev.len != len || memcmp(ev.data, data, len))))
        die_msg("expected the server to send back %zu other bytes", len);
    if (kind == WS_EV_CLOSE)
        say("got the close reply (%d): the close handshake is complete", ev.close_code);
    else
        say("got back %zu bytes: %s", ev.len, kind == WS_EV_PONG ? "the pong" : "the echo");
}

static void run_client(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        die_gai(host, port, rc);
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd == -1)
            die_errno("socket");
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (ai->ai_next == NULL)
            die_errno("connect");
        close(fd);
    }
    freeaddrinfo(res);
    /* Never wait forever for a server that does not answer. */
    struct timeval tv = {.tv_sec = 10};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1)
        die_errno("setsockopt");
    show_socket(fd);

    /* A fresh key each time: 16 random bytes in base64. */
    char key[WS_KEY_LEN], req[512], hostport[300];
    if (ws_make_key(key) != 0)
        die_msg("no random key from libcrypto");
    say("this run's key, and the accept value the server must answer with:");
    explain_accept(key);
    snprintf(hostport, sizeof hostport, "%s:%s", host, port);
    int n = ws_handshake_request(req, sizeof req, hostport, "/ws", key);
    send_all(fd, req, (size_t)n);
    say("sent the upgrade request (%d bytes)", n);

    struct ws_handshake h;
    struct inbox in = {0};
    ws_handshake_init(&h, WS_CLIENT, key);
    read_head(fd, &h, &in);
    if (h.state != WS_HS_DONE)
        die_msg("the server refused the upgrade: %s", h.err.why);
    say("the accept value matches: we speak WebSocket now, on the same socket");

    struct ws_conn c;
    ws_conn_init(&c, WS_CLIENT);
    send_frame(fd, true, WS_OP_TEXT, "Hello", 5);
    expect(fd, &in, &c, WS_EV_MESSAGE, "Hello", 5);
    send_frame(fd, true, WS_OP_BINARY, "\1\2\3\4", 4);
    expect(fd, &in, &c, WS_EV_MESSAGE, "\1\2\3\4", 4);
    send_frame(fd, false, WS_OP_TEXT, "Hel", 3); /* one message, two frames */
    send_frame(fd, true, WS_OP_CONT, "lo", 2);
    expect(fd, &in, &c, WS_EV_MESSAGE, "Hello", 5);
    send_frame(fd, true, WS_OP_PING, "tick", 4);
    expect(fd, &in, &c, WS_EV_PONG, "tick", 4);
    uint8_t payload[125];
    send_frame(fd, true, WS_OP_CLOSE, payload, ws_close_payload(payload, 1000, "bye"));
    expect(fd, &in, &c, WS_EV_CLOSE, NULL, 0);
    ws_conn_free(&c);
    if (close(fd) == -1)
        die_errno("close");
}

int main(int argc, char **argv)
{
    struct lesson_opts o;
    lesson_parse(argc, argv, &lesson, &o);
    prctl(PR_SET_NAME, o.role == ROLE_CLIENT ? "client" : "server");

    if (o.role == ROLE_CLIENT) {
        run_client(o.host, o.port_text);
        return 0;
    }
    int listener = open_listener(o.host, o.port_text);
    /* Port 0 asked the kernel for any free port: find out which. */
    struct sockaddr_storage me;
    socklen_t melen = sizeof me;
    if (getsockname(listener, (struct sockaddr *)&me, &melen) == -1)
        die_errno("getsockname");
    char port[8];
    snprintf(port, sizeof port, "%d", addr_port((struct sockaddr *)&me));

    if (o.role == ROLE_SERVER) {
        say("open http://%s:%s/ in a browser (several, for a chat); Ctrl-C stops", o.host, port);
        struct wsserve_opts so = {0};
        if (wsserve_run(listener, &so) == -1)
            die_errno("epoll");
        close(listener);
        return 0;
    }

    say("1. The handshake on paper, with the RFC's own example key:");
    explain_accept("dGhlIHNhbXBsZSBub25jZQ==");
    say("2. Frames, bit by bit:");
    frames_on_paper();
    say("3. For real: a client connects to port %s", port);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        prctl(PR_SET_NAME, "client");
        close(listener);
        run_client(o.host, port);
        return 0;
    }
    serve_one(listener);
    close(listener);
    int status;
    if (waitpid(pid, &status, 0) == -1)
        die_errno("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
