/*
 * ws.h: the WebSocket protocol (RFC 6455), the handshake and the frames.
 *
 * A WebSocket starts as an HTTP/1.1 request on a TCP connection:
 *
 *     GET /ws HTTP/1.1
 *     Host: 127.0.0.1:9000
 *     Upgrade: websocket
 *     Connection: Upgrade
 *     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
 *     Sec-WebSocket-Version: 13
 *
 * and the server answers "101 Switching Protocols" with
 * Sec-WebSocket-Accept: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
 * From then on both sides send frames on the same connection:
 *
 *      0                   1                   2                   3
 *     +-+-+-+-+-------+-+-------------+-------------------------------+
 *     |F|R|R|R| opcode|M| payload len |  extended payload length      |
 *     |I|S|S|S|  (4)  |A|     (7)     |  (16 bits if len == 126,      |
 *     |N|V|V|V|       |S|             |   64 bits if len == 127)      |
 *     +-+-+-+-+-------+-+-------------+-------------------------------+
 *     | masking key (4 bytes, only when MASK is 1) | payload ...      |
 *
 * A client masks every frame it sends (payload XOR the 4-byte key); a
 * server never does. A message is one frame with FIN set, or a first frame
 * (text or binary, FIN clear), continuation frames, and a last one with
 * FIN. Control frames (close, ping, pong) carry at most 125 bytes, are
 * never fragmented, and may come between the fragments of a message.
 *
 * Promises of this module:
 *  - Every parser takes bytes and a length and accepts its input in any
 *    pieces, one byte at a time included; it never reads past what it was
 *    given and never assumes one recv() holds a whole request or frame.
 *  - Nothing here exits, prints or touches a socket. Errors come back as a
 *    struct ws_error: the close code to send (1002, 1007, 1009...) for
 *    frames, the HTTP status to answer (400, 426, 431) for the handshake,
 *    and a sentence saying what was wrong.
 *  - SHA-1, base64 and random keys come from OpenSSL's libcrypto.
 */
#ifndef SOCKSCOPE_WS_H
#define SOCKSCOPE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The GUID every server appends to the client's key (RFC 6455, 1.3). */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* A key is base64 of 16 random bytes: 24 characters; an accept value is
 * base64 of a 20-byte SHA-1 digest: 28 characters. Sizes include the NUL. */
#define WS_KEY_LEN 25
#define WS_ACCEPT_LEN 29

enum ws_role { WS_SERVER, WS_CLIENT };

enum ws_opcode {
    WS_OP_CONT = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA,
};

/* Close codes (RFC 6455, 7.4.1) this module sends or names. */
enum ws_close_code {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL = 1002,
    WS_CLOSE_UNSUPPORTED = 1003,
    WS_CLOSE_NO_STATUS = 1005, /* never sent: "the close frame had no code" */
    WS_CLOSE_ABNORMAL = 1006,  /* never sent: "the connection ended without a close" */
    WS_CLOSE_BAD_DATA = 1007,  /* text that is not UTF-8 */
    WS_CLOSE_POLICY = 1008,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_EXTENSION = 1010,
    WS_CLOSE_INTERNAL = 1011,
};

/* What went wrong: a close code (frames) or an HTTP status (handshake),
 * and a sentence for a person. `why` points to static text. */
struct ws_error {
    int code;
    const char *why;
};

/* "text", "binary", "close"...; "reserved" for the others. */
const char *ws_opcode_name(int opcode);

/* True for a close code a peer may send in a close frame: 1000-1003,
 * 1007-1014, 3000-4999. */
bool ws_close_code_valid(int code);

/* ------------------------------------------------------------------------
 * Keys
 */

/* The accept value for a client's key: base64(SHA-1(key + WS_GUID)) into
 * `accept` (WS_ACCEPT_LEN bytes). Returns 0, or -1 if libcrypto failed.
 * ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==") is "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=". */
int ws_accept_key(const char *key, char accept[WS_ACCEPT_LEN]);

/* A fresh client key: base64 of 16 random bytes. Returns 0 or -1. */
int ws_make_key(char key[WS_KEY_LEN]);

/* True when `key` (of `len` bytes) is base64 of exactly 16 bytes. */
bool ws_key_valid(const char *key, size_t len);

/* ------------------------------------------------------------------------
 * The handshake
 *
 * One struct ws_handshake reads one side's HTTP message: a server reads the
 * client's request, a client reads the server's response. Feed it bytes as
 * they come; it takes only up to the blank line that ends the headers and
 * says how many bytes it took, so anything after them (the first frames,
 * sent at once by an eager peer) stays with the caller, untouched.
 */

/* Headers larger than this are refused (431) unless the caller sets
 * `max_header` lower; at most WS_HANDSHAKE_CAP. */
#define WS_HANDSHAKE_CAP 8192

enum ws_hs_state { WS_HS_MORE, WS_HS_DONE, WS_HS_ERROR };

struct ws_handshake {
    enum ws_role role;                 /* WS_SERVER reads a request, WS_CLIENT a response */
    size_t max_header;                 /* the cap, WS_HANDSHAKE_CAP by default */
    char expect_accept[WS_ACCEPT_LEN]; /* client: what the server must answer */
    enum ws_hs_state state;
    struct ws_error err; /* when state is WS_HS_ERROR */

    /* What was read (valid once state is not WS_HS_MORE, as far as known). */
    char method[16];
    char path[256];
    char host[256];
    char key[WS_KEY_LEN]; /* server: the client's Sec-WebSocket-Key */
    char origin[256];
    int status;      /* client: the server's status code */
    bool upgrade;    /* an Upgrade header was present at all */
    bool plain_http; /* server: a well-formed GET with no Upgrade:
                      * an ordinary HTTP request (serve a page) */

    /* Internal. */
    char buf[WS_HANDSHAKE_CAP];
    size_t len;
    unsigned crlf; /* how much of "\r\n\r\n" was seen last */
};

/* Start reading. A client passes the key it sent (`key`), a server NULL. */
void ws_handshake_init(struct ws_handshake *h, enum ws_role role, const char *key);

/*
 * Feed `len` bytes. Sets *used to how many it took (at most `len`; fewer
 * only when the headers ended inside these bytes) and returns the state:
 * WS_HS_MORE (give more), WS_HS_DONE (valid; *h holds what was read) or
 * WS_HS_ERROR (h->err says why; a server answers with ws_handshake_reply).
 * Once DONE or ERROR, further calls take nothing and return the same.
 */
enum ws_hs_state ws_handshake_feed(struct ws_handshake *h, const void *data, size_t len,
                                   size_t *used);

/* The client's request for `path` on `host` with `key`, into buf (NUL
 * terminated). Returns its length, or -1 if it does not fit. */
int ws_handshake_request(char *buf, size_t size, const char *host, const char *path,
                         const char *key);

/* The server's answer to a request read by `h`: "101 Switching Protocols"
 * with the accept value when DONE; the error's status (400, 426 with
 * "Sec-WebSocket-Version: 13", 431) and a one-line body when ERROR.
 * Returns its length, or -1 if it does not fit. */
int ws_handshake_reply(const struct ws_handshake *h, char *buf, size_t size);

/* ------------------------------------------------------------------------
 * Frames, one at a time
 */

struct ws_frame {
    bool fin;
    unsigned rsv; /* the three RSV bits, 0..7 */
    int opcode;
    bool masked;
    uint8_t mask[4];
    uint64_t len;      /* payload length */
    size_t header_len; /* 2 to 14 bytes */
    /* While a header is incomplete: how many of its bytes were read. The
     * first byte's fields are valid from 1, MASK from 2, len once the
     * length field is complete (len_known). */
    unsigned known;
    bool len_known;
};

/* The most a frame header takes: 2 + 8 (length) + 4 (mask). */
#define WS_MAX_HEADER 14

/*
 * Read a frame header from `buf` (`len` bytes, from the frame's first
 * byte). Returns the header's length (2..14) and fills *f; 0 when more
 * bytes are needed (then *f holds what those bytes already say, so a
 * caller can refuse a frame before its header is complete); -1 with *err when the header breaks a
 * rule that does not depend on the connection: reserved opcode, control frame with FIN clear or
 * longer than 125, 64-bit length with its top bit set (1002). RSV bits and masking are checked by
 * ws_conn, which knows the role.
 */
int ws_frame_header_parse(const uint8_t *buf, size_t len, struct ws_frame *f, struct ws_error *err);

/*
 * Write a frame header for `payload_len` bytes into out (WS_MAX_HEADER
 * bytes). With `mask` non-NULL the MASK bit is set and the 4-byte key
 * follows the length. Returns the header's length.
 */
size_t ws_frame_header_build(uint8_t out[WS_MAX_HEADER], bool fin, int opcode, const uint8_t *mask,
                             uint64_t payload_len);

/* XOR `len` bytes with the key, starting at byte `offset` of the payload
 * (so a payload can be unmasked in pieces). Masking and unmasking are the
 * same operation. */
void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);

/*
 * A whole frame into out (`size` bytes): header, then the payload, masked
 * when `mask` is non-NULL. Returns the frame's length, or 0 if it does not
 * fit.
 */
size_t ws_frame_build(uint8_t *out, size_t size, bool fin, int opcode, const uint8_t *mask,
                      const void *payload, size_t payload_len);

/* A close frame's payload: the code in network order, then the reason
 * (cut to fit 125 bytes). Returns its length. */
size_t ws_close_payload(uint8_t out[125], int code, const char *reason);

/* ------------------------------------------------------------------------
 * UTF-8, checked in pieces
 */

/* State of an incremental check; start from 0. */
typedef uint32_t ws_utf8_state;

/* Check `len` more bytes. Returns false at the first byte that cannot be
 * part of valid UTF-8 (so a bad message fails fast, mid-frame); true if all
 * is well so far. Complete means *st is 0 again. */
bool ws_utf8_check(ws_utf8_state *st, const uint8_t *s, size_t len);

/* ------------------------------------------------------------------------
 * A connection: frames in, messages out
 */

/* The largest message accepted by default: 16 MiB. Larger fails with 1009. */
#define WS_DEFAULT_MAX_MESSAGE (16u << 20)

enum ws_event_kind {
    WS_EV_MESSAGE, /* a whole text or binary message: opcode, data, len */
    WS_EV_PING,    /* data, len: answer with a pong carrying the same bytes */
    WS_EV_PONG,
    WS_EV_CLOSE, /* close_code (1005 if none), reason; answer with
                  * ws_close_reply() and then close the TCP connection */
};

struct ws_event {
    enum ws_event_kind kind;
    int opcode;          /* WS_OP_TEXT or WS_OP_BINARY for a message */
    const uint8_t *data; /* valid until the next ws_conn_feed */
    size_t len;
    int close_code;
    const char *reason; /* inside data; reason_len bytes, not NUL terminated */
    size_t reason_len;
};

struct ws_conn {
    enum ws_role role;    /* whose frames we read: a server reads a client's */
    uint64_t max_message; /* WS_DEFAULT_MAX_MESSAGE unless changed */

    /* Internal: the frame being read. */
    uint8_t hdr[WS_MAX_HEADER];
    size_t hdr_len;
    bool in_payload;
    struct ws_frame f;
    uint64_t got; /* payload bytes of this frame so far */
    /* The message being assembled (across fragments). */
    int msg_opcode; /* 0 when no message is open */
    uint8_t *msg;
    size_t msg_len, msg_cap;
    ws_utf8_state utf8;
    /* A control frame's payload. */
    uint8_t ctl[125];
    bool closed; /* a close frame was read: read nothing more */
};

/* A connection that reads frames sent by the other side of `role`'s peer:
 * a server passes WS_SERVER (it reads masked client frames). */
void ws_conn_init(struct ws_conn *c, enum ws_role role);

/* Free what the connection holds. */
void ws_conn_free(struct ws_conn *c);

/*
 * Feed bytes received from the peer. Takes bytes until one event is
 * complete or the bytes run out; *used says how many it took. Returns 1
 * with *ev filled (call again with the rest), 0 when all bytes were taken
 * and no event is complete yet, -1 with *err when the peer broke the
 * protocol: send a close frame with err->code (ws_close_payload) and
 * close. Call in a loop:
 *
 *     size_t off = 0, used;
 *     while (off < n) {
 *         int r = ws_conn_feed(&c, buf + off, n - off, &used, &ev, &err);
 *         off += used;
 *         if (r == 1) handle(&ev);
 *         if (r == -1) fail(&err);
 *     }
 *
 * Checks: RSV bits 0, no reserved opcodes, masked frames from clients and
 * unmasked from servers, control frames of at most 125 bytes with FIN set,
 * continuation only inside a message and a new message only outside one,
 * text valid UTF-8 across fragments (1007 at the first bad byte), close
 * frames of 0 or >= 2 bytes with a valid code and a UTF-8 reason, messages
 * at most max_message bytes (1009 as soon as the length says so). After a
 * close event the connection reads nothing more (returns -1).
 */
int ws_conn_feed(struct ws_conn *c, const uint8_t *data, size_t len, size_t *used,
                 struct ws_event *ev, struct ws_error *err);

/* The close frame to answer a peer's close event with: the same code (1000
 * when the peer gave none). Into out (at least 2 + 125 + WS_MAX_HEADER
 * bytes); `mask` as in ws_frame_build. Returns the frame's length. */
size_t ws_close_reply(const struct ws_event *ev, uint8_t *out, const uint8_t *mask);

#endif
