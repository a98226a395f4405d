/* ws.c: the WebSocket protocol (RFC 6455). See ws.h. */
#include "ws.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ws_opcode_name(int opcode)
{
    switch (opcode) {
    case WS_OP_CONT: return "continuation";
    case WS_OP_TEXT: return "text";
    case WS_OP_BINARY: return "binary";
    case WS_OP_CLOSE: return "close";
    case WS_OP_PING: return "ping";
    case WS_OP_PONG: return "pong";
    default: return "reserved";
    }
}

bool ws_close_code_valid(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* ---------------------------------------------------------------- keys */

int ws_accept_key(const char *key, char accept[WS_ACCEPT_LEN])
{
    char joined[128];
    int n = snprintf(joined, sizeof joined, "%s%s", key, WS_GUID);
    if (n < 0 || (size_t)n >= sizeof joined)
        return -1;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (EVP_Digest(joined, (size_t)n, digest, &dlen, EVP_sha1(), NULL) != 1 || dlen != 20)
        return -1;
    EVP_EncodeBlock((unsigned char *)accept, digest, 20);
    return 0;
}

int ws_make_key(char key[WS_KEY_LEN])
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    return 0;
}

static bool is_b64(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '/';
}

bool ws_key_valid(const char *key, size_t len)
{
    if (len != 24 || key[22] != '=' || key[23] != '=')
        return false;
    for (size_t i = 0; i < 22; i++)
        if (!is_b64(key[i]))
            return false;
    return true;
}

/* ----------------------------------------------------------- handshake */

void ws_handshake_init(struct ws_handshake *h, enum ws_role role, const char *key)
{
    memset(h, 0, offsetof(struct ws_handshake, buf));
    h->len = 0;
    h->crlf = 0;
    h->role = role;
    h->max_header = WS_HANDSHAKE_CAP;
    if (key != NULL && ws_accept_key(key, h->expect_accept) != 0)
        h->expect_accept[0] = '\0';
}

static enum ws_hs_state hs_fail(struct ws_handshake *h, int code, const char *why)
{
    h->state = WS_HS_ERROR;
    h->err.code = code;
    h->err.why = why;
    return h->state;
}

/* Does the comma-separated list `v` (of `n` bytes) hold `token`, in any case? */
static bool has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == tl && strncasecmp(v + start, token, tl) == 0)
            return true;
    }
    return false;
}

static bool is_tchar(char c)
{
    return isalnum((unsigned char)c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void copy_field(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* "HTTP/1.1" or later in the 1.x line or above. */
static bool http_version_ok(const char *v, size_t n)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || !isdigit((unsigned char)v[5]) || v[6] != '.' ||
        !isdigit((unsigned char)v[7]))
        return false;
    int major = v[5] - '0', minor = v[7] - '0';
    return major > 1 || (major == 1 && minor >= 1);
}

/* The headers are all in h->buf[0..h->len), ending in CRLF CRLF. */
static enum ws_hs_state hs_parse(struct ws_handshake *h)
{
    const char *p = h->buf;
    const char *end = h->buf + h->len;
    if (memchr(p, '\0', h->len) != NULL)
        return hs_fail(h, 400, "the request holds a NUL byte");

    /* The first line. */
    const char *eol = memchr(p, '\r', (size_t)(end - p));
    if (eol == NULL || eol + 1 >= end || eol[1] != '\n')
        return hs_fail(h, 400, "the first line does not end in CRLF");
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (sp1 == NULL || sp2 == NULL)
        return hs_fail(h, 400, "the first line is not three words");
    if (h->role == WS_SERVER) {
        if (memchr(sp2 + 1, ' ', (size_t)(eol - sp2 - 1)) != NULL)
            return hs_fail(h, 400, "the request line has more than three words");
        copy_field(h->method, sizeof h->method, p, (size_t)(sp1 - p));
        if (!http_version_ok(sp2 + 1, (size_t)(eol - sp2 - 1)))
            return hs_fail(h, 400, "the HTTP version is not 1.1 or later");
        size_t plen = (size_t)(sp2 - sp1 - 1);
        if (plen == 0 || sp1[1] != '/' || plen >= sizeof h->path)
            return hs_fail(h, 400, "the request target is not a path of at most 255 bytes");
        copy_field(h->path, sizeof h->path, sp1 + 1, plen);
        if (strcmp(h->method, "GET") != 0)
            return hs_fail(h, 400, "the method is not GET");
    } else {
        if (!http_version_ok(p, (size_t)(sp1 - p)))
            return hs_fail(h, WS_CLOSE_PROTOCOL, "the response is not HTTP/1.1");
        if (sp2 - sp1 != 4 || !isdigit((unsigned char)sp1[1]) || !isdigit((unsigned char)sp1[2]) ||
            !isdigit((unsigned char)sp1[3]))
            return hs_fail(h, WS_CLOSE_PROTOCOL, "the response has no 3-digit status");
        h->status = (sp1[1] - '0') * 100 + (sp1[2] - '0') * 10 + (sp1[3] - '0');
    }
    p = eol + 2;

    /* The header lines, up to the empty one. */
    int hosts = 0, keys = 0, versions = 0;
    bool connection_upgrade = false, upgrade_websocket = false, version13 = false;
    bool accept_ok = false, extensions = false, protocol = false;
    while (p < end) {
        eol = memchr(p, '\r', (size_t)(end - p));
        if (eol == NULL || eol + 1 >= end || eol[1] != '\n')
            return hs_fail(h, 400, "a header line does not end in CRLF");
        if (eol == p)
            break; /* the empty line */
        if (*p == ' ' || *p == '\t')
            return hs_fail(h, 400, "a header line is folded (starts with a space)");
        if (memchr(p, '\n', (size_t)(eol - p)) != NULL)
            return hs_fail(h, 400, "a header line holds a bare LF");
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon == p)
            return hs_fail(h, 400, "a header line has no name and colon");
        for (const char *c = p; c < colon; c++)
            if (!is_tchar(*c))
                return hs_fail(h, 400, "a header name holds a character names may not");
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 1, *vend = eol;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        size_t vlen = (size_t)(vend - v);
#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(p, name, nlen) == 0)
        if (IS("Host")) {
            hosts++;
            copy_field(h->host, sizeof h->host, v, vlen);
        } else if (IS("Upgrade")) {
            h->upgrade = true;
            upgrade_websocket |= has_token(v, vlen, "websocket");
        } else if (IS("Connection")) {
            connection_upgrade |= has_token(v, vlen, "upgrade");
        } else if (IS("Sec-WebSocket-Key")) {
            keys++;
            if (ws_key_valid(v, vlen))
                copy_field(h->key, sizeof h->key, v, vlen);
            else
                h->key[0] = '\0';
        } else if (IS("Sec-WebSocket-Version")) {
            versions++;
            version13 = vlen == 2 && memcmp(v, "13", 2) == 0;
        } else if (IS("Origin")) {
            copy_field(h->origin, sizeof h->origin, v, vlen);
        } else if (IS("Sec-WebSocket-Accept")) {
            accept_ok = h->expect_accept[0] != '\0' && vlen == WS_ACCEPT_LEN - 1 &&
                        memcmp(v, h->expect_accept, vlen) == 0;
        } else if (IS("Sec-WebSocket-Extensions")) {
            extensions = true;
        } else if (IS("Sec-WebSocket-Protocol")) {
            protocol = true;
        }
#undef IS
        p = eol + 2;
    }

    if (h->role == WS_CLIENT) {
        if (h->status != 101)
            return hs_fail(h, WS_CLOSE_PROTOCOL, "the server did not answer 101");
        if (!upgrade_websocket)
            return hs_fail(h, WS_CLOSE_PROTOCOL, "the response has no Upgrade: websocket");
        if (!connection_upgrade)
            return hs_fail(h, WS_CLOSE_PROTOCOL, "the response has no Connection: Upgrade");
        if (!accept_ok)
            return hs_fail(h, WS_CLOSE_PROTOCOL, "Sec-WebSocket-Accept is not the expected value");
        if (extensions || protocol)
            return hs_fail(h, WS_CLOSE_PROTOCOL,
                           "the server chose an extension or subprotocol we did not offer");
        h->state = WS_HS_DONE;
        return h->state;
    }

    if (hosts != 1)
        return hs_fail(h, 400, hosts ? "more than one Host header" : "no Host header");
    if (!h->upgrade) {
        h->plain_http = true;
        return hs_fail(h, 400, "not a WebSocket request: no Upgrade header");
    }
    if (!upgrade_websocket)
        return hs_fail(h, 400, "Upgrade does not name websocket");
    if (!connection_upgrade)
        return hs_fail(h, 400, "Connection does not list Upgrade");
    if (versions != 1 || !version13)
        return hs_fail(h, 426, "Sec-WebSocket-Version is not 13, the only version spoken here");
    if (keys != 1 || h->key[0] == '\0')
        return hs_fail(h, 400, "Sec-WebSocket-Key is missing, repeated, or not 16 bytes in base64");
    h->state = WS_HS_DONE;
    return h->state;
}

enum ws_hs_state ws_handshake_feed(struct ws_handshake *h, const void *data, size_t len,
                                   size_t *used)
{
    *used = 0;
    if (h->state != WS_HS_MORE)
        return h->state;
    size_t cap = h->max_header < WS_HANDSHAKE_CAP ? h->max_header : WS_HANDSHAKE_CAP;
    const char *in = data;
    size_t i = 0;
    while (i < len) {
        if (h->len >= cap) {
            *used = i;
            return hs_fail(h, h->role == WS_SERVER ? 431 : WS_CLOSE_PROTOCOL,
                           "the headers are larger than the limit");
        }
        char c = in[i++];
        h->buf[h->len++] = c;
        /* Watch for CR LF CR LF, the end of the headers. */
        if (c == '\r')
            h->crlf = (h->crlf == 2) ? 3 : 1;
        else if (c == '\n' && (h->crlf == 1 || h->crlf == 3))
            h->crlf++;
        else
            h->crlf = 0;
        if (h->crlf == 4) {
            *used = i;
            return hs_parse(h);
        }
    }
    *used = i;
    return h->state;
}

int ws_handshake_request(char *buf, size_t size, const char *host, const char *path,
                         const char *key)
{
    int n = snprintf(buf, size,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "\r\n",
                     path, host, key);
    return (n < 0 || (size_t)n >= size) ? -1 : n;
}

int ws_handshake_reply(const struct ws_handshake *h, char *buf, size_t size)
{
    int n;
    if (h->state == WS_HS_DONE) {
        char accept[WS_ACCEPT_LEN];
        if (ws_accept_key(h->key, accept) != 0)
            return -1;
        n = snprintf(buf, size,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n"
                     "\r\n",
                     accept);
    } else {
        int code = h->state == WS_HS_ERROR ? h->err.code : 400;
        const char *why = h->state == WS_HS_ERROR ? h->err.why : "incomplete request";
        const char *reason = code == 426   ? "Upgrade Required"
                             : code == 431 ? "Request Header Fields Too Large"
                                           : "Bad Request";
        n = snprintf(buf, size,
                     "HTTP/1.1 %d %s\r\n"
                     "%s"
                     "Content-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: close\r\n"
                     "\r\n"
                     "%s\n",
                     code, reason, code == 426 ? "Sec-WebSocket-Version: 13\r\n" : "",
                     strlen(why) + 1, why);
    }
    return (n < 0 || (size_t)n >= size) ? -1 : n;
}

/* -------------------------------------------------------------- frames */

static bool opcode_known(int op)
{
    return op <= WS_OP_BINARY || (op >= WS_OP_CLOSE && op <= WS_OP_PONG);
}

static int frame_fail(struct ws_error *err, int code, const char *why)
{
    err->code = code;
    err->why = why;
    return -1;
}

int ws_frame_header_parse(const uint8_t *buf, size_t len, struct ws_frame *f, struct ws_error *err)
{
    f->known = len < WS_MAX_HEADER ? (unsigned)len : WS_MAX_HEADER;
    f->len_known = false;
    if (len < 1)
        return 0;
    f->fin = buf[0] & 0x80;
    f->rsv = (buf[0] >> 4) & 7;
    f->opcode = buf[0] & 0x0F;
    /* Fail as soon as the first byte is wrong. */
    if (!opcode_known(f->opcode))
        return frame_fail(err, WS_CLOSE_PROTOCOL, "a reserved opcode");
    bool control = f->opcode >= WS_OP_CLOSE;
    if (control && !f->fin)
        return frame_fail(err, WS_CLOSE_PROTOCOL, "a fragmented control frame");
    if (len < 2)
        return 0;
    f->masked = buf[1] & 0x80;
    uint64_t l = buf[1] & 0x7F;
    if (control && l > 125)
        return frame_fail(err, WS_CLOSE_PROTOCOL, "a control frame longer than 125 bytes");
    size_t need = 2 + (l == 126 ? 2 : l == 127 ? 8 : 0) + (f->masked ? 4 : 0);
    if (l == 127 && len > 2 && (buf[2] & 0x80))
        return frame_fail(err, WS_CLOSE_PROTOCOL, "a 64-bit length with its top bit set");
    size_t len_end = l == 126 ? 4 : l == 127 ? 10 : 2;
    if (len >= len_end) {
        f->len = l;
        if (l == 126)
            f->len = (uint64_t)buf[2] << 8 | buf[3];
        else if (l == 127)
            for (int i = 0; i < 8; i++)
                f->len = (i ? f->len << 8 : 0) | buf[2 + i];
        f->len_known = true;
    }
    if (len < need)
        return 0;
    size_t at = 2;
    if (l == 126) {
        l = (uint64_t)buf[2] << 8 | buf[3];
        at = 4;
    } else if (l == 127) {
        l = 0;
        for (int i = 0; i < 8; i++)
            l = l << 8 | buf[2 + i];
        at = 10;
    }
    f->len = l;
    if (f->masked) {
        memcpy(f->mask, buf + at, 4);
        at += 4;
    } else {
        memset(f->mask, 0, 4);
    }
    f->header_len = at;
    return (int)at;
}

size_t ws_frame_header_build(uint8_t out[WS_MAX_HEADER], bool fin, int opcode, const uint8_t *mask,
                             uint64_t payload_len)
{
    size_t at = 2;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0F));
    uint8_t mbit = mask ? 0x80 : 0;
    if (payload_len < 126) {
        out[1] = (uint8_t)(mbit | payload_len);
    } else if (payload_len <= 0xFFFF) {
        out[1] = mbit | 126;
        out[2] = (uint8_t)(payload_len >> 8);
        out[3] = (uint8_t)payload_len;
        at = 4;
    } else {
        out[1] = mbit | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
        at = 10;
    }
    if (mask) {
        memcpy(out + at, mask, 4);
        at += 4;
    }
    return at;
}

void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
    uint8_t k[8];
    for (int j = 0; j < 8; j++)
        k[j] = mask[(offset + (uint64_t)j) & 3];
    uint64_t k64;
    memcpy(&k64, k, 8);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, data + i, 8);
        w ^= k64;
        memcpy(data + i, &w, 8);
    }
    for (; i < len; i++)
        data[i] ^= k[i & 3];
}

size_t ws_frame_build(uint8_t *out, size_t size, bool fin, int opcode, const uint8_t *mask,
                      const void *payload, size_t payload_len)
{
    uint8_t hdr[WS_MAX_HEADER];
    size_t h = ws_frame_header_build(hdr, fin, opcode, mask, payload_len);
    if (size < h || size - h < payload_len)
        return 0;
    memcpy(out, hdr, h);
    if (payload_len > 0)
        memcpy(out + h, payload, payload_len);
    if (mask)
        ws_mask(out + h, payload_len, mask, 0);
    return h + payload_len;
}

size_t ws_close_payload(uint8_t out[125], int code, const char *reason)
{
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    size_t n = reason ? strlen(reason) : 0;
    if (n > 123)
        n = 123;
    if (n > 0)
        memcpy(out + 2, reason, n);
    return 2 + n;
}

/* ---------------------------------------------------------------- UTF-8 */

bool ws_utf8_check(ws_utf8_state *st, const uint8_t *s, size_t len)
{
    uint32_t need = *st & 0xFF, lo = (*st >> 8) & 0xFF, hi = (*st >> 16) & 0xFF;
    size_t i = 0;
    while (i < len) {
        if (need == 0) {
            /* ASCII runs, eight bytes at a time. */
            while (i + 8 <= len) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ull)
                    break;
                i += 8;
            }
            if (i >= len)
                break;
            uint8_t b = s[i++];
            if (b < 0x80)
                continue;
            lo = 0x80;
            hi = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
            } else if (b == 0xE0) {
                need = 2;
                lo = 0xA0; /* no overlong 3-byte forms */
            } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
                need = 2;
            } else if (b == 0xED) {
                need = 2;
                hi = 0x9F; /* no surrogates */
            } else if (b == 0xF0) {
                need = 3;
                lo = 0x90; /* no overlong 4-byte forms */
            } else if (b >= 0xF1 && b <= 0xF3) {
                need = 3;
            } else if (b == 0xF4) {
                need = 3;
                hi = 0x8F; /* nothing above U+10FFFF */
            } else {
                return false;
            }
        } else {
            uint8_t b = s[i++];
            if (b < lo || b > hi)
                return false;
            need--;
            lo = 0x80;
            hi = 0xBF;
        }
    }
    *st = need ? (need | lo << 8 | hi << 16) : 0;
    return true;
}

/* ----------------------------------------------------------- connection */

void ws_conn_init(struct ws_conn *c, enum ws_role role)
{
    memset(c, 0, sizeof *c);
    c->role = role;
    c->max_message = WS_DEFAULT_MAX_MESSAGE;
}

void ws_conn_free(struct ws_conn *c)
{
    free(c->msg);
    c->msg = NULL;
    c->msg_len = c->msg_cap = 0;
}

static int conn_fail(struct ws_conn *c, struct ws_error *err, int code, const char *why)
{
    c->closed = true;
    return frame_fail(err, code, why);
}

/* Check what is known of the frame's header so far (f->known bytes)
 * against the state of the connection, in the order conn_begin_frame
 * does, so a bad frame fails at its first bad byte. */
static int conn_check_early(struct ws_conn *c, struct ws_error *err)
{
    struct ws_frame *f = &c->f;
    if (f->known < 1)
        return 0;
    if (f->rsv != 0)
        return conn_fail(c, err, WS_CLOSE_PROTOCOL, "an RSV bit is set; no extension was agreed");
    if (f->known < 2)
        return 0;
    if (c->role == WS_SERVER && !f->masked)
        return conn_fail(c, err, WS_CLOSE_PROTOCOL, "a client frame that is not masked");
    if (c->role == WS_CLIENT && f->masked)
        return conn_fail(c, err, WS_CLOSE_PROTOCOL, "a server frame that is masked");
    if (f->opcode >= WS_OP_CLOSE)
        return 0;
    if (f->opcode == WS_OP_CONT && c->msg_opcode == 0)
        return conn_fail(c, err, WS_CLOSE_PROTOCOL, "a continuation frame with no message open");
    if (f->opcode != WS_OP_CONT && c->msg_opcode != 0)
        return conn_fail(c, err, WS_CLOSE_PROTOCOL,
                         "a new message before the last one's final fragment");
    uint64_t so_far = f->opcode == WS_OP_CONT ? c->msg_len : 0;
    if (f->len_known && (f->len > c->max_message || so_far + f->len > c->max_message))
        return conn_fail(c, err, WS_CLOSE_TOO_BIG, "a message larger than the limit");
    return 0;
}

/* A whole header has been read into c->f: check it against the state of
 * the connection and get ready for the payload. */
static int conn_begin_frame(struct ws_conn *c, struct ws_error *err)
{
    struct ws_frame *f = &c->f;
    if (f->rsv != 0)
        return conn_fail(c, err, WS_CLOSE_PROTOCOL, "an RSV bit is set; no extension was agreed");
    if (c->role == WS_SERVER && !f->masked)
        return conn_fail(c, err, WS_CLOSE_PROTOCOL, "a client frame that is not masked");
    if (c->role == WS_CLIENT && f->masked)
        return conn_fail(c, err, WS_CLOSE_PROTOCOL, "a server frame that is masked");
    if (f->opcode >= WS_OP_CLOSE) {
        if (f->opcode == WS_OP_CLOSE && f->len == 1)
            return conn_fail(c, err, WS_CLOSE_PROTOCOL, "a close frame of 1 byte");
        return 0;
    }
    if (f->opcode == WS_OP_CONT) {
        if (c->msg_opcode == 0)
            return conn_fail(c, err, WS_CLOSE_PROTOCOL,
                             "a continuation frame with no message open");
    } else {
        if (c->msg_opcode != 0)
            return conn_fail(c, err, WS_CLOSE_PROTOCOL,
                             "a new message before the last one's final fragment");
        c->msg_opcode = f->opcode;
        c->msg_len = 0;
        c->utf8 = 0;
        /* Give back a large buffer left by an earlier big message. */
        if (c->msg_cap > (1u << 20) && f->len < (1u << 16)) {
            free(c->msg);
            c->msg = NULL;
            c->msg_cap = 0;
        }
    }
    if (f->len > c->max_message || c->msg_len + f->len > c->max_message)
        return conn_fail(c, err, WS_CLOSE_TOO_BIG, "a message larger than the limit");
    size_t want = c->msg_len + (size_t)f->len;
    if (want > c->msg_cap) {
        size_t cap = c->msg_cap ? c->msg_cap : 4096;
        while (cap < want)
            cap *= 2;
        if (cap > c->max_message && want <= c->max_message)
            cap = want;
        uint8_t *m = realloc(c->msg, cap);
        if (m == NULL)
            return conn_fail(c, err, WS_CLOSE_INTERNAL, "out of memory for the message");
        c->msg = m;
        c->msg_cap = cap;
    }
    return 0;
}

/* The last byte of a frame's payload is in: produce its event, if any. */
static int conn_end_frame(struct ws_conn *c, struct ws_event *ev, struct ws_error *err)
{
    struct ws_frame *f = &c->f;
    memset(ev, 0, sizeof *ev);
    switch (f->opcode) {
    case WS_OP_PING:
    case WS_OP_PONG:
        ev->kind = f->opcode == WS_OP_PING ? WS_EV_PING : WS_EV_PONG;
        ev->data = c->ctl;
        ev->len = (size_t)f->len;
        return 1;
    case WS_OP_CLOSE:
        ev->kind = WS_EV_CLOSE;
        ev->data = c->ctl;
        ev->len = (size_t)f->len;
        ev->close_code = WS_CLOSE_NO_STATUS;
        if (f->len >= 2) {
            ev->close_code = c->ctl[0] << 8 | c->ctl[1];
            if (!ws_close_code_valid(ev->close_code))
                return conn_fail(c, err, WS_CLOSE_PROTOCOL, "a close code that may not be sent");
            ws_utf8_state st = 0;
            if (!ws_utf8_check(&st, c->ctl + 2, (size_t)f->len - 2) || st != 0)
                return conn_fail(c, err, WS_CLOSE_BAD_DATA, "a close reason that is not UTF-8");
            ev->reason = (const char *)c->ctl + 2;
            ev->reason_len = (size_t)f->len - 2;
        }
        c->closed = true;
        return 1;
    default:
        if (!f->fin)
            return 0;
        if (c->msg_opcode == WS_OP_TEXT && c->utf8 != 0)
            return conn_fail(c, err, WS_CLOSE_BAD_DATA, "a text message ends inside a character");
        ev->kind = WS_EV_MESSAGE;
        ev->opcode = c->msg_opcode;
        ev->data = c->msg;
        ev->len = c->msg_len;
        c->msg_opcode = 0;
        return 1;
    }
}

int ws_conn_feed(struct ws_conn *c, const uint8_t *data, size_t len, size_t *used,
                 struct ws_event *ev, struct ws_error *err)
{
    size_t off = 0;
    *used = 0;
    if (c->closed)
        return frame_fail(err, WS_CLOSE_PROTOCOL, "data after the close frame");
    while (off < len) {
        if (!c->in_payload) {
            size_t n = len - off;
            if (n > WS_MAX_HEADER - c->hdr_len)
                n = WS_MAX_HEADER - c->hdr_len;
            memcpy(c->hdr + c->hdr_len, data + off, n);
            int h = ws_frame_header_parse(c->hdr, c->hdr_len + n, &c->f, err);
            if (h < 0) {
                c->closed = true;
                *used = off + n;
                return -1;
            }
            if (h == 0) {
                c->hdr_len += n;
                off += n;
                if (conn_check_early(c, err) < 0) {
                    *used = off;
                    return -1;
                }
                continue;
            }
            off += (size_t)h - c->hdr_len;
            c->hdr_len = 0;
            c->got = 0;
            if (conn_begin_frame(c, err) < 0) {
                *used = off;
                return -1;
            }
            c->in_payload = true;
        }
        size_t n = len - off;
        if ((uint64_t)n > c->f.len - c->got)
            n = (size_t)(c->f.len - c->got);
        if (n > 0) {
            uint8_t *dst = c->f.opcode >= WS_OP_CLOSE ? c->ctl + c->got : c->msg + c->msg_len;
            memcpy(dst, data + off, n);
            if (c->f.masked)
                ws_mask(dst, n, c->f.mask, c->got);
            if (c->f.opcode < WS_OP_CLOSE) {
                if (c->msg_opcode == WS_OP_TEXT && !ws_utf8_check(&c->utf8, dst, n)) {
                    *used = off + n;
                    return conn_fail(c, err, WS_CLOSE_BAD_DATA, "text that is not UTF-8");
                }
                c->msg_len += n;
            }
            c->got += n;
            off += n;
        }
        if (c->got == c->f.len) {
            c->in_payload = false;
            int r = conn_end_frame(c, ev, err);
            if (r != 0) {
                *used = off;
                return r;
            }
        }
    }
    *used = off;
    return 0;
}

size_t ws_close_reply(const struct ws_event *ev, uint8_t *out, const uint8_t *mask)
{
    uint8_t payload[125];
    int code = ev->close_code == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL : ev->close_code;
    size_t n = ws_close_payload(payload, code, NULL);
    return ws_frame_build(out, 2 + 125 + WS_MAX_HEADER, true, WS_OP_CLOSE, mask, payload, n);
}
