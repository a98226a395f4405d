/* test_ws.c: common/ws against the vectors of RFC 6455 and every error
 * path, each with the close code (or HTTP status) it must give. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ws.h"

/* ------------------------------------------------------------ helpers */

#define MAX_EVENTS 16

struct run {
    int nev;
    struct ws_event ev[MAX_EVENTS];
    uint8_t copy[MAX_EVENTS][512]; /* event data, copied (it lives until the next feed) */
    int rc;                        /* -1 if an error ended it */
    struct ws_error err;
    size_t err_at; /* bytes taken when the error came */
};

/* Feed `n` bytes to a new connection, all at once or one byte a call. */
static struct run feed(enum ws_role role, const uint8_t *bytes, size_t n, bool bytewise,
                       uint64_t max_message)
{
    struct run r;
    memset(&r, 0, sizeof r);
    struct ws_conn c;
    ws_conn_init(&c, role);
    if (max_message)
        c.max_message = max_message;
    size_t off = 0;
    while (off < n) {
        size_t len = bytewise ? 1 : n - off, used;
        struct ws_event ev;
        int rc = ws_conn_feed(&c, bytes + off, len, &used, &ev, &r.err);
        CU_ASSERT(used <= len);
        off += used;
        if (rc == 1 && r.nev < MAX_EVENTS) {
            r.ev[r.nev] = ev;
            size_t l = ev.len < 512 ? ev.len : 512;
            if (l)
                memcpy(r.copy[r.nev], ev.data, l);
            r.nev++;
        }
        if (rc == -1) {
            r.rc = -1;
            r.err_at = off;
            break;
        }
        if (rc == 0)
            CU_ASSERT(used == len);
    }
    ws_conn_free(&c);
    return r;
}

/* The same bytes give the same result whole and one byte at a time. */
static struct run feed_both(enum ws_role role, const uint8_t *bytes, size_t n)
{
    struct run whole = feed(role, bytes, n, false, 0);
    struct run bytewise = feed(role, bytes, n, true, 0);
    CU_ASSERT_EQUAL(whole.nev, bytewise.nev);
    CU_ASSERT_EQUAL(whole.rc, bytewise.rc);
    CU_ASSERT_EQUAL(whole.err.code, bytewise.err.code);
    return whole;
}

static void expect_error(enum ws_role role, const uint8_t *bytes, size_t n, int code)
{
    struct run r = feed_both(role, bytes, n);
    CU_ASSERT_EQUAL(r.rc, -1);
    CU_ASSERT_EQUAL(r.err.code, code);
    CU_ASSERT_PTR_NOT_NULL(r.err.why);
}

static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};

/* A masked frame, as a client sends it; returns its length. */
static size_t cframe(uint8_t *out, bool fin, int op, const void *p, size_t n)
{
    return ws_frame_build(out, 70000, fin, op, MASK, p, n);
}

/* ----------------------------------------------------------- the keys */

static void test_rfc_accept_key(void)
{
    char accept[WS_ACCEPT_LEN];
    CU_ASSERT_EQUAL(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept), 0);
    CU_ASSERT_STRING_EQUAL(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_fresh_keys(void)
{
    char a[WS_KEY_LEN], b[WS_KEY_LEN];
    CU_ASSERT_EQUAL(ws_make_key(a), 0);
    CU_ASSERT_EQUAL(ws_make_key(b), 0);
    CU_ASSERT(ws_key_valid(a, strlen(a)));
    CU_ASSERT(strcmp(a, b) != 0);
    CU_ASSERT(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ", 22));
    CU_ASSERT(!ws_key_valid("dGhlIHNhbXBsZSBub25j!Q==", 24));
    CU_ASSERT(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=A", 24));
}

/* ------------------------------------------------------ the handshake */

static const char RFC_REQUEST[] = "GET /chat HTTP/1.1\r\n"
                                  "Host: server.example.com\r\n"
                                  "Upgrade: websocket\r\n"
                                  "Connection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Origin: http://example.com\r\n"
                                  "Sec-WebSocket-Version: 13\r\n"
                                  "\r\n";

/* Feed a request; bytewise or whole. Returns the state. */
static enum ws_hs_state hs(struct ws_handshake *h, const char *req, bool bytewise)
{
    ws_handshake_init(h, WS_SERVER, NULL);
    size_t n = strlen(req), off = 0, used;
    enum ws_hs_state st = WS_HS_MORE;
    while (off < n && st == WS_HS_MORE) {
        st = ws_handshake_feed(h, req + off, bytewise ? 1 : n - off, &used);
        off += used;
    }
    return st;
}

static void test_rfc_request_bytewise(void)
{
    struct ws_handshake h;
    CU_ASSERT_EQUAL(hs(&h, RFC_REQUEST, true), WS_HS_DONE);
    CU_ASSERT_STRING_EQUAL(h.path, "/chat");
    CU_ASSERT_STRING_EQUAL(h.host, "server.example.com");
    CU_ASSERT_STRING_EQUAL(h.origin, "http://example.com");
    char reply[512];
    CU_ASSERT(ws_handshake_reply(&h, reply, sizeof reply) > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(reply, "HTTP/1.1 101 Switching Protocols\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(reply, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
}

static void test_bytes_after_headers_stay(void)
{
    char buf[1024];
    uint8_t frame[16];
    size_t fl = cframe(frame, true, WS_OP_TEXT, "hi", 2);
    size_t rl = strlen(RFC_REQUEST);
    memcpy(buf, RFC_REQUEST, rl);
    memcpy(buf + rl, frame, fl);
    struct ws_handshake h;
    ws_handshake_init(&h, WS_SERVER, NULL);
    size_t used;
    CU_ASSERT_EQUAL(ws_handshake_feed(&h, buf, rl + fl, &used), WS_HS_DONE);
    CU_ASSERT_EQUAL(used, rl);
    /* Further calls take nothing. */
    CU_ASSERT_EQUAL(ws_handshake_feed(&h, buf + used, fl, &used), WS_HS_DONE);
    CU_ASSERT_EQUAL(used, 0);
    struct run r = feed(WS_SERVER, (uint8_t *)buf + rl, fl, false, 0);
    CU_ASSERT_EQUAL(r.nev, 1);
    CU_ASSERT_EQUAL(memcmp(r.copy[0], "hi", 2), 0);
}

/* Replace `what` in the RFC request by `with`, parse bytewise and whole. */
static struct ws_handshake variant(const char *what, const char *with)
{
    static char req[WS_HANDSHAKE_CAP + 4096];
    const char *at = strstr(RFC_REQUEST, what);
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    size_t pre = (size_t)(at - RFC_REQUEST);
    snprintf(req, sizeof req, "%.*s%s%s", (int)pre, RFC_REQUEST, with, at + strlen(what));
    struct ws_handshake a, b;
    enum ws_hs_state s1 = hs(&a, req, false), s2 = hs(&b, req, true);
    CU_ASSERT_EQUAL(s1, s2);
    CU_ASSERT_EQUAL(a.err.code, b.err.code);
    return a;
}

static void expect_status(const char *what, const char *with, int status)
{
    struct ws_handshake h = variant(what, with);
    CU_ASSERT_EQUAL(h.state, WS_HS_ERROR);
    CU_ASSERT_EQUAL(h.err.code, status);
    char reply[1024], want[32];
    CU_ASSERT(ws_handshake_reply(&h, reply, sizeof reply) > 0);
    snprintf(want, sizeof want, "HTTP/1.1 %d ", status);
    CU_ASSERT_EQUAL(strncmp(reply, want, strlen(want)), 0);
}

static void test_post_is_400(void)
{
    expect_status("GET ", "POST ", 400);
}
static void test_http10_is_400(void)
{
    expect_status("HTTP/1.1\r\nHost", "HTTP/1.0\r\nHost", 400);
}
static void test_no_host_is_400(void)
{
    expect_status("Host: server.example.com\r\n", "", 400);
}
static void test_two_hosts_is_400(void)
{
    expect_status("Host: server.example.com\r\n", "Host: a\r\nHost: b\r\n", 400);
}
static void test_upgrade_other_is_400(void)
{
    expect_status("Upgrade: websocket", "Upgrade: h2c", 400);
}
static void test_connection_without_upgrade_is_400(void)
{
    expect_status("Connection: Upgrade", "Connection: keep-alive", 400);
}
static void test_connection_list_with_upgrade_is_ok(void)
{
    struct ws_handshake h = variant("Connection: Upgrade", "Connection: keep-alive, UPGRADE");
    CU_ASSERT_EQUAL(h.state, WS_HS_DONE);
}
static void test_missing_key_is_400(void)
{
    expect_status("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", 400);
}
static void test_short_key_is_400(void)
{
    /* base64 of 15 bytes */
    expect_status("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j", 400);
}
static void test_version_8_is_426(void)
{
    expect_status("Version: 13", "Version: 8", 426);
    struct ws_handshake h = variant("Version: 13", "Version: 8");
    char reply[1024];
    ws_handshake_reply(&h, reply, sizeof reply);
    CU_ASSERT_PTR_NOT_NULL(strstr(reply, "\r\nSec-WebSocket-Version: 13\r\n"));
}
static void test_missing_version_is_426(void)
{
    expect_status("Sec-WebSocket-Version: 13\r\n", "", 426);
}
static void test_folded_header_is_400(void)
{
    expect_status("Origin: http://example.com\r\n", "Origin: http://\r\n example.com\r\n", 400);
}
static void test_huge_headers_are_431(void)
{
    static char big[WS_HANDSHAKE_CAP + 100];
    memcpy(big, "X-Big: ", 7);
    memset(big + 7, 'a', WS_HANDSHAKE_CAP);
    strcpy(big + 7 + WS_HANDSHAKE_CAP, "\r\n");
    expect_status("Origin: http://example.com\r\n", big, 431);
}
static void test_plain_get_is_plain_http(void)
{
    struct ws_handshake h;
    hs(&h, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", true);
    CU_ASSERT_EQUAL(h.state, WS_HS_ERROR);
    CU_ASSERT(h.plain_http);
    CU_ASSERT_STRING_EQUAL(h.path, "/");
}

static enum ws_hs_state client_reads(const char *resp, const char *key)
{
    struct ws_handshake h;
    ws_handshake_init(&h, WS_CLIENT, key);
    size_t used, off = 0, n = strlen(resp);
    enum ws_hs_state st = WS_HS_MORE;
    while (off < n && st == WS_HS_MORE) {
        st = ws_handshake_feed(&h, resp + off, 1, &used);
        off += used;
    }
    return st;
}

static void test_client_checks_the_response(void)
{
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    char req[512];
    CU_ASSERT(ws_handshake_request(req, sizeof req, "h", "/ws", key) > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(req, "GET /ws HTTP/1.1\r\n"));
    CU_ASSERT_EQUAL(client_reads("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n"
                                 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                                 key),
                    WS_HS_DONE);
    CU_ASSERT_EQUAL(client_reads("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n"
                                 "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
                                 key),
                    WS_HS_ERROR);
    CU_ASSERT_EQUAL(client_reads("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", key), WS_HS_ERROR);
}

/* ---------------------------------------------------- RFC 5.7 frames */

static void test_rfc_unmasked_hello(void)
{
    const uint8_t f[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    struct run r = feed_both(WS_CLIENT, f, sizeof f);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.ev[0].kind, WS_EV_MESSAGE);
    CU_ASSERT_EQUAL(r.ev[0].opcode, WS_OP_TEXT);
    CU_ASSERT_EQUAL(r.ev[0].len, 5);
    CU_ASSERT_EQUAL(memcmp(r.copy[0], "Hello", 5), 0);
    uint8_t out[16];
    CU_ASSERT_EQUAL(ws_frame_build(out, sizeof out, true, WS_OP_TEXT, NULL, "Hello", 5), 7);
    CU_ASSERT_EQUAL(memcmp(out, f, 7), 0);
}

static void test_rfc_masked_hello(void)
{
    const uint8_t f[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    struct run r = feed_both(WS_SERVER, f, sizeof f);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(memcmp(r.copy[0], "Hello", 5), 0);
    uint8_t out[16];
    CU_ASSERT_EQUAL(ws_frame_build(out, sizeof out, true, WS_OP_TEXT, MASK, "Hello", 5), 11);
    CU_ASSERT_EQUAL(memcmp(out, f, 11), 0);
}

static void test_rfc_fragmented_hello(void)
{
    const uint8_t f[] = {0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f};
    struct run r = feed_both(WS_CLIENT, f, sizeof f);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.ev[0].len, 5);
    CU_ASSERT_EQUAL(memcmp(r.copy[0], "Hello", 5), 0);
}

static void test_rfc_ping_and_masked_pong(void)
{
    const uint8_t ping[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    struct run r = feed_both(WS_CLIENT, ping, sizeof ping);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.ev[0].kind, WS_EV_PING);
    CU_ASSERT_EQUAL(memcmp(r.copy[0], "Hello", 5), 0);
    const uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    r = feed_both(WS_SERVER, pong, sizeof pong);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.ev[0].kind, WS_EV_PONG);
    CU_ASSERT_EQUAL(memcmp(r.copy[0], "Hello", 5), 0);
}

static void test_rfc_16_and_64_bit_lengths(void)
{
    static uint8_t payload[65536], out[65536 + 14];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)i;
    size_t n = ws_frame_build(out, sizeof out, true, WS_OP_BINARY, NULL, payload, 256);
    const uint8_t h256[] = {0x82, 0x7E, 0x01, 0x00};
    CU_ASSERT_EQUAL(n, 256 + 4);
    CU_ASSERT_EQUAL(memcmp(out, h256, 4), 0);
    struct run r = feed_both(WS_CLIENT, out, n);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.ev[0].len, 256);

    n = ws_frame_build(out, sizeof out, true, WS_OP_BINARY, NULL, payload, 65536);
    const uint8_t h64k[] = {0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0};
    CU_ASSERT_EQUAL(n, 65536 + 10);
    CU_ASSERT_EQUAL(memcmp(out, h64k, 10), 0);
    r = feed(WS_CLIENT, out, n, false, 0);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.ev[0].len, 65536);
    CU_ASSERT_EQUAL(r.copy[0][255], 255);
}

static void test_masked_frames_unmask_in_any_pieces(void)
{
    static uint8_t msg[3000], f[3100];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)('a' + i % 26);
    size_t n = cframe(f, true, WS_OP_TEXT, msg, sizeof msg);
    struct ws_conn c;
    ws_conn_init(&c, WS_SERVER);
    /* Pieces of 1, 2, 3, ... bytes, so the mask offset moves about. */
    size_t off = 0, step = 1, used;
    struct ws_event ev;
    struct ws_error err;
    int got = 0;
    while (off < n) {
        size_t len = step < n - off ? step : n - off;
        int rc = ws_conn_feed(&c, f + off, len, &used, &ev, &err);
        off += used;
        step = step % 7 + 1;
        if (rc == 1) {
            got++;
            CU_ASSERT_EQUAL(ev.len, sizeof msg);
            CU_ASSERT_EQUAL(memcmp(ev.data, msg, sizeof msg), 0);
        }
        CU_ASSERT(rc >= 0);
    }
    CU_ASSERT_EQUAL(got, 1);
    ws_conn_free(&c);
}

static void test_ping_between_fragments(void)
{
    uint8_t b[128];
    size_t n = cframe(b, false, WS_OP_TEXT, "Hel", 3);
    n += cframe(b + n, true, WS_OP_PING, "p", 1);
    n += cframe(b + n, true, WS_OP_CONT, "lo", 2);
    struct run r = feed_both(WS_SERVER, b, n);
    CU_ASSERT_EQUAL_FATAL(r.nev, 2);
    CU_ASSERT_EQUAL(r.ev[0].kind, WS_EV_PING);
    CU_ASSERT_EQUAL(r.ev[1].kind, WS_EV_MESSAGE);
    CU_ASSERT_EQUAL(memcmp(r.copy[1], "Hello", 5), 0);
}

static void test_empty_messages_and_fragments(void)
{
    uint8_t b[64];
    size_t n = cframe(b, true, WS_OP_TEXT, "", 0);
    n += cframe(b + n, false, WS_OP_BINARY, "", 0);
    n += cframe(b + n, false, WS_OP_CONT, "", 0);
    n += cframe(b + n, true, WS_OP_CONT, "", 0);
    struct run r = feed_both(WS_SERVER, b, n);
    CU_ASSERT_EQUAL_FATAL(r.nev, 2);
    CU_ASSERT_EQUAL(r.ev[0].len, 0);
    CU_ASSERT_EQUAL(r.ev[1].opcode, WS_OP_BINARY);
}

/* ------------------------------------------------------- frame errors */

static void test_rsv_bits_are_1002(void)
{
    uint8_t b[16];
    for (int bit = 0x10; bit <= 0x40; bit <<= 1) {
        size_t n = cframe(b, true, WS_OP_TEXT, "x", 1);
        b[0] |= (uint8_t)bit;
        expect_error(WS_SERVER, b, n, WS_CLOSE_PROTOCOL);
    }
}

static void test_reserved_opcodes_are_1002(void)
{
    int ops[] = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        uint8_t b[16];
        size_t n = cframe(b, true, ops[i], "x", 1);
        struct run r = feed_both(WS_SERVER, b, n);
        CU_ASSERT_EQUAL(r.err.code, WS_CLOSE_PROTOCOL);
        /* Fail fast: the first byte is enough. */
        CU_ASSERT_EQUAL(feed(WS_SERVER, b, n, true, 0).err_at, 1);
    }
}

static void test_unmasked_client_frame_is_1002(void)
{
    const uint8_t f[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    expect_error(WS_SERVER, f, sizeof f, WS_CLOSE_PROTOCOL);
}

static void test_early_failures(void)
{
    /* An RSV bit fails at byte 1, an unmasked client frame at byte 2. */
    const uint8_t rsv[] = {0xC1, 0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    CU_ASSERT_EQUAL(feed(WS_SERVER, rsv, sizeof rsv, true, 0).err_at, 1);
    const uint8_t unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    CU_ASSERT_EQUAL(feed(WS_SERVER, unmasked, sizeof unmasked, true, 0).err_at, 2);
}

static void test_masked_server_frame_is_1002(void)
{
    const uint8_t f[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    expect_error(WS_CLIENT, f, sizeof f, WS_CLOSE_PROTOCOL);
}

static void test_long_control_frame_is_1002(void)
{
    uint8_t p[126] = {0}, b[160];
    size_t n = cframe(b, true, WS_OP_PING, p, 126);
    expect_error(WS_SERVER, b, n, WS_CLOSE_PROTOCOL);
    /* 125 is allowed. */
    n = cframe(b, true, WS_OP_PING, p, 125);
    CU_ASSERT_EQUAL(feed_both(WS_SERVER, b, n).nev, 1);
}

static void test_fragmented_control_frame_is_1002(void)
{
    uint8_t b[16];
    size_t n = cframe(b, false, WS_OP_PING, "x", 1);
    expect_error(WS_SERVER, b, n, WS_CLOSE_PROTOCOL);
}

static void test_lone_continuation_is_1002(void)
{
    uint8_t b[16];
    size_t n = cframe(b, true, WS_OP_CONT, "x", 1);
    expect_error(WS_SERVER, b, n, WS_CLOSE_PROTOCOL);
}

static void test_new_message_inside_fragments_is_1002(void)
{
    uint8_t b[32];
    size_t n = cframe(b, false, WS_OP_TEXT, "a", 1);
    n += cframe(b + n, true, WS_OP_TEXT, "b", 1);
    expect_error(WS_SERVER, b, n, WS_CLOSE_PROTOCOL);
}

static void test_64_bit_length_top_bit_is_1002(void)
{
    const uint8_t f[] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4};
    expect_error(WS_SERVER, f, sizeof f, WS_CLOSE_PROTOCOL);
}

static void test_bad_utf8_fails_fast_with_1007(void)
{
    /* "ab", then 0xFF, then 100 more bytes: the error comes at 0xFF, long
     * before the frame's end. */
    uint8_t p[103], b[128];
    memset(p, 'a', sizeof p);
    p[2] = 0xFF;
    size_t n = cframe(b, true, WS_OP_TEXT, p, sizeof p);
    expect_error(WS_SERVER, b, n, WS_CLOSE_BAD_DATA);
    CU_ASSERT_EQUAL(feed(WS_SERVER, b, n, true, 0).err_at, 2 + 4 + 3);
}

static void test_utf8_split_across_fragments(void)
{
    /* U+1F600 (F0 9F 98 80) cut over three fragments is valid. */
    uint8_t b[64];
    size_t n = cframe(b, false, WS_OP_TEXT, "\xF0", 1);
    n += cframe(b + n, false, WS_OP_CONT, "\x9F\x98", 2);
    n += cframe(b + n, true, WS_OP_CONT, "\x80!", 2);
    struct run r = feed_both(WS_SERVER, b, n);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.ev[0].len, 5);
}

static void test_bad_utf8_in_a_later_fragment_is_1007(void)
{
    uint8_t b[64];
    size_t n = cframe(b, false, WS_OP_TEXT, "\xCE\xBA", 2);
    n += cframe(b + n, false, WS_OP_CONT, "\xED\xA0\x80", 3); /* a surrogate */
    n += cframe(b + n, true, WS_OP_CONT, "x", 1);
    expect_error(WS_SERVER, b, n, WS_CLOSE_BAD_DATA);
}

static void test_text_ending_mid_character_is_1007(void)
{
    uint8_t b[16];
    size_t n = cframe(b, true, WS_OP_TEXT, "a\xE2\x82", 3);
    expect_error(WS_SERVER, b, n, WS_CLOSE_BAD_DATA);
}

static void test_binary_is_not_checked_for_utf8(void)
{
    uint8_t b[16];
    size_t n = cframe(b, true, WS_OP_BINARY, "\xFF\xFE", 2);
    CU_ASSERT_EQUAL(feed_both(WS_SERVER, b, n).nev, 1);
}

static void test_utf8_checker_vectors(void)
{
    struct {
        const char *s;
        bool ok;
    } v[] = {
        {"plain ascii, long enough for the fast path", true},
        {"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5", true}, /* κόσμε */
        {"\xF4\x8F\xBF\xBF", true},                             /* U+10FFFF */
        {"\xEF\xBF\xBF", true},                                 /* U+FFFF */
        {"\xC0\xAF", false},                                    /* overlong '/' */
        {"\xE0\x80\xAF", false},                                /* overlong */
        {"\xF0\x80\x80\xAF", false},                            /* overlong */
        {"\xED\xA0\x80", false},                                /* U+D800 */
        {"\xF4\x90\x80\x80", false},                            /* above U+10FFFF */
        {"\xF5\x80\x80\x80", false},
        {"\x80", false},
        {"\xFE", false},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        ws_utf8_state st = 0;
        bool ok = ws_utf8_check(&st, (const uint8_t *)v[i].s, strlen(v[i].s)) && st == 0;
        CU_ASSERT_EQUAL(ok, v[i].ok);
    }
}

static void test_close_code_is_echoed(void)
{
    uint8_t p[125], b[160], out[160];
    size_t pl = ws_close_payload(p, 4000, "bye");
    size_t n = cframe(b, true, WS_OP_CLOSE, p, pl);
    struct run r = feed_both(WS_SERVER, b, n);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.ev[0].kind, WS_EV_CLOSE);
    CU_ASSERT_EQUAL(r.ev[0].close_code, 4000);
    CU_ASSERT_EQUAL(r.ev[0].reason_len, 3);
    size_t ol = ws_close_reply(&r.ev[0], out, NULL);
    const uint8_t want[] = {0x88, 0x02, 0x0F, 0xA0};
    CU_ASSERT_EQUAL(ol, 4);
    CU_ASSERT_EQUAL(memcmp(out, want, 4), 0);
}

static void test_empty_close_is_1005_answered_1000(void)
{
    uint8_t b[16], out[160];
    size_t n = cframe(b, true, WS_OP_CLOSE, "", 0);
    struct run r = feed_both(WS_SERVER, b, n);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.ev[0].close_code, WS_CLOSE_NO_STATUS);
    ws_close_reply(&r.ev[0], out, NULL);
    CU_ASSERT_EQUAL(out[2] << 8 | out[3], 1000);
}

static void test_invalid_close_codes_are_1002(void)
{
    int bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t p[2] = {(uint8_t)(bad[i] >> 8), (uint8_t)bad[i]}, b[16];
        size_t n = cframe(b, true, WS_OP_CLOSE, p, 2);
        expect_error(WS_SERVER, b, n, WS_CLOSE_PROTOCOL);
    }
    CU_ASSERT(ws_close_code_valid(1000) && ws_close_code_valid(3000) && ws_close_code_valid(4999));
}

static void test_one_byte_close_is_1002(void)
{
    uint8_t b[16];
    size_t n = cframe(b, true, WS_OP_CLOSE, "\x03", 1);
    expect_error(WS_SERVER, b, n, WS_CLOSE_PROTOCOL);
}

static void test_close_reason_not_utf8_is_1007(void)
{
    uint8_t b[16];
    size_t n = cframe(b, true, WS_OP_CLOSE, "\x03\xE8\xFF", 3);
    expect_error(WS_SERVER, b, n, WS_CLOSE_BAD_DATA);
}

static void test_data_after_close_is_refused(void)
{
    uint8_t b[32];
    size_t n = cframe(b, true, WS_OP_CLOSE, "\x03\xE8", 2);
    n += cframe(b + n, true, WS_OP_TEXT, "x", 1);
    struct run r = feed(WS_SERVER, b, n, false, 0);
    CU_ASSERT_EQUAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.rc, -1);
}

static void test_message_over_the_limit_is_1009(void)
{
    static uint8_t p[2000], b[2100];
    memset(p, 'x', sizeof p);
    size_t n = cframe(b, true, WS_OP_TEXT, p, sizeof p);
    struct run r = feed(WS_SERVER, b, n, true, 1000);
    CU_ASSERT_EQUAL(r.rc, -1);
    CU_ASSERT_EQUAL(r.err.code, WS_CLOSE_TOO_BIG);
    CU_ASSERT_EQUAL(r.err_at, 4); /* as soon as the 16-bit length is read */
    /* The same over fragments: 600 + 600 > 1000. */
    n = cframe(b, false, WS_OP_BINARY, p, 600);
    n += cframe(b + n, true, WS_OP_CONT, p, 600);
    r = feed(WS_SERVER, b, n, false, 1000);
    CU_ASSERT_EQUAL(r.err.code, WS_CLOSE_TOO_BIG);
    /* The default limit is 16 MiB: a 64-bit length of 16 MiB + 1 fails. */
    const uint8_t h[] = {0x82, 0xFF, 0, 0, 0, 0, 0x01, 0, 0, 1, 1, 2, 3, 4};
    expect_error(WS_SERVER, h, sizeof h, WS_CLOSE_TOO_BIG);
}

UNIT_MAIN(
    "websocket",
    {"the RFC's key dGhlIHNhbXBsZSBub25jZQ== gives s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
     test_rfc_accept_key},
    {"fresh keys are 16 random bytes in base64", test_fresh_keys},
    {"the RFC's request read one byte at a time gives a 101 with its accept value",
     test_rfc_request_bytewise},
    {"bytes after the headers are left to the frame reader", test_bytes_after_headers_stay},
    {"a POST is answered 400", test_post_is_400}, {"HTTP/1.0 is answered 400", test_http10_is_400},
    {"a request without Host is answered 400", test_no_host_is_400},
    {"two Host headers are answered 400", test_two_hosts_is_400},
    {"an Upgrade that is not websocket is answered 400", test_upgrade_other_is_400},
    {"a Connection header without upgrade is answered 400", test_connection_without_upgrade_is_400},
    {"a Connection list holding Upgrade in any case is accepted",
     test_connection_list_with_upgrade_is_ok},
    {"a request without a key is answered 400", test_missing_key_is_400},
    {"a key of 15 bytes is answered 400", test_short_key_is_400},
    {"version 8 is answered 426 with Sec-WebSocket-Version: 13", test_version_8_is_426},
    {"a request without a version is answered 426", test_missing_version_is_426},
    {"a folded header line is answered 400", test_folded_header_is_400},
    {"headers over the cap are answered 431", test_huge_headers_are_431},
    {"a GET without Upgrade is an ordinary page request", test_plain_get_is_plain_http},
    {"the client checks the server's status and accept value", test_client_checks_the_response},
    {"RFC 5.7: an unmasked text frame Hello", test_rfc_unmasked_hello},
    {"RFC 5.7: a masked text frame Hello", test_rfc_masked_hello},
    {"RFC 5.7: Hello in two fragments", test_rfc_fragmented_hello},
    {"RFC 5.7: a ping and a masked pong", test_rfc_ping_and_masked_pong},
    {"RFC 5.7: 256 bytes take a 16-bit length, 64 KiB a 64-bit one",
     test_rfc_16_and_64_bit_lengths},
    {"a masked frame unmasks right in pieces of any size", test_masked_frames_unmask_in_any_pieces},
    {"a ping between fragments is answered and the message still arrives",
     test_ping_between_fragments},
    {"empty messages and empty fragments are messages", test_empty_messages_and_fragments},
    {"an RSV bit fails with 1002", test_rsv_bits_are_1002},
    {"a reserved opcode fails with 1002 at the first byte", test_reserved_opcodes_are_1002},
    {"an unmasked frame from a client fails with 1002", test_unmasked_client_frame_is_1002},
    {"a masked frame from a server fails with 1002", test_masked_server_frame_is_1002},
    {"RSV bits and a missing mask fail at the byte that shows them", test_early_failures},
    {"a control frame over 125 bytes fails with 1002", test_long_control_frame_is_1002},
    {"a fragmented control frame fails with 1002", test_fragmented_control_frame_is_1002},
    {"a continuation with no message open fails with 1002", test_lone_continuation_is_1002},
    {"a new message inside a fragmented one fails with 1002",
     test_new_message_inside_fragments_is_1002},
    {"a 64-bit length with the top bit set fails with 1002", test_64_bit_length_top_bit_is_1002},
    {"bad UTF-8 fails with 1007 at the bad byte, mid-frame", test_bad_utf8_fails_fast_with_1007},
    {"a character cut across fragments is valid UTF-8", test_utf8_split_across_fragments},
    {"bad UTF-8 in a later fragment fails with 1007", test_bad_utf8_in_a_later_fragment_is_1007},
    {"a text message ending inside a character fails with 1007",
     test_text_ending_mid_character_is_1007},
    {"binary messages are not checked for UTF-8", test_binary_is_not_checked_for_utf8},
    {"the UTF-8 checker refuses overlongs, surrogates and code points above U+10FFFF",
     test_utf8_checker_vectors},
    {"a close code is echoed", test_close_code_is_echoed},
    {"an empty close reads as 1005 and is answered 1000", test_empty_close_is_1005_answered_1000},
    {"close codes that may not be sent fail with 1002", test_invalid_close_codes_are_1002},
    {"a close frame of one byte fails with 1002", test_one_byte_close_is_1002},
    {"a close reason that is not UTF-8 fails with 1007", test_close_reason_not_utf8_is_1007},
    {"nothing is read after a close frame", test_data_after_close_is_refused},
    {"a message over the limit fails with 1009 as soon as its length is read",
     test_message_over_the_limit_is_1009});
