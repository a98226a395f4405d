/*
 * http.h: read one HTTP/1.1 message, a request or a response, from bytes
 * that arrive in pieces of any size.
 *
 * A socket hands over a stream of bytes, not messages: one recv may hold
 * half a status line, or the end of one response and the start of the
 * next. So the parser is fed whatever arrived, and says whether the
 * message is complete:
 *
 *     struct http_msg m;
 *     http_msg_init(&m, HTTP_RESPONSE, 8192, 1 << 20);
 *     for (;;) {                         (each recv bounded by a timeout)
 *         n = recv(fd, buf, sizeof buf, 0);
 *         if (n == 0) rc = http_finish(&m);          the peer closed
 *         else rc = http_feed(&m, buf, n, &used);
 *         if (rc != HTTP_MORE) break;
 *     }
 *     rc == HTTP_DONE: m.status, http_header_get(&m, "Content-Type"),
 *                      m.body and m.body_len
 *     rc == HTTP_ERROR: m.err and http_error(&m), a sentence that says
 *                       what was wrong ("bad status line: ...")
 *
 * What it understands (RFC 9112): the status line or request line, header
 * fields, a body framed by Content-Length, by chunked transfer coding
 * (with chunk extensions and trailers), or, for a response with neither,
 * by the peer closing the connection. Lines may end with CRLF or a bare
 * LF. Obsolete line folding, other transfer codings and conflicting
 * lengths are errors.
 *
 * Limits: the start line and headers together may take at most head_max
 * bytes, at most HTTP_MAX_HEADERS fields, and a body at most body_max
 * bytes; past a limit the parser stops with an error instead of growing.
 * Nothing here reads a socket, prints or exits: the caller owns the socket
 * and its timeouts.
 */
#ifndef SOCKSCOPE_HTTP_H
#define SOCKSCOPE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 64

enum http_type { HTTP_REQUEST, HTTP_RESPONSE };

/* What http_feed and http_finish return. */
enum { HTTP_MORE = 0, HTTP_DONE = 1, HTTP_ERROR = -1 };

/* Why a message was refused (m.err). */
enum http_err {
    HTTP_OK = 0,
    HTTP_E_START_LINE,    /* the status line or request line is malformed */
    HTTP_E_HEAD_TOO_LONG, /* start line and headers exceed head_max */
    HTTP_E_HEADER,        /* a header line is malformed */
    HTTP_E_TOO_MANY,      /* more than HTTP_MAX_HEADERS fields */
    HTTP_E_LENGTH,        /* a bad or conflicting Content-Length */
    HTTP_E_CODING,        /* a transfer coding other than chunked */
    HTTP_E_BODY_TOO_LONG, /* the body exceeds body_max */
    HTTP_E_CHUNK,         /* a malformed chunk size or chunk end */
    HTTP_E_CLOSED_EARLY,  /* the peer closed before the message ended */
    HTTP_E_NO_MEMORY,
};

/* How the body's end is found. */
enum http_framing {
    HTTP_BODY_NONE,        /* no body (a GET, a 204, a 304, an answer to HEAD) */
    HTTP_BODY_LENGTH,      /* Content-Length bytes */
    HTTP_BODY_CHUNKED,     /* chunks, the last of size 0 */
    HTTP_BODY_UNTIL_CLOSE, /* a response with neither: up to the peer's close */
};

struct http_header {
    const char *name;  /* as sent, NUL-terminated */
    const char *value; /* without surrounding spaces */
};

struct http_msg {
    /* What was read, valid once the head is complete (head_done). */
    enum http_type type;
    int version_minor;  /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
    const char *method; /* request: "GET" */
    const char *target; /* request: "/index.html" */
    int status;         /* response: 200 */
    const char *reason; /* response: "OK" (may be empty) */
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    size_t head_len; /* bytes of start line and headers */
    enum http_framing framing;
    uint64_t content_length; /* HTTP_BODY_LENGTH: what the header said */
    bool keep_alive;         /* may the connection carry another message */
    bool head_done;

    /* The body, NUL-terminated for convenience (it may hold NULs too). */
    char *body;
    size_t body_len;
    size_t chunks; /* chunks read so far */

    /* Set when http_feed or http_finish returned HTTP_ERROR. */
    enum http_err err;
    char errmsg[200];

    /* Set before feeding a response to a HEAD request: it has no body. */
    bool no_body;

    /* Internal. */
    size_t head_max, body_max, body_cap;
    char *head;
    size_t head_fill;
    int phase;
    char line[128];
    size_t line_fill;
    uint64_t chunk_left;
    size_t trailer_len;
};

/* Prepare `m`. Returns 0, or -1 when memory for the head is not there. */
int http_msg_init(struct http_msg *m, enum http_type type, size_t head_max, size_t body_max);

/* Forget the last message and keep the limits and buffers: ready for the
 * next message on the same connection (keep-alive). */
void http_msg_reset(struct http_msg *m);

/* Release what http_msg_init took. */
void http_msg_free(struct http_msg *m);

/*
 * Feed `len` bytes. Stores in *used how many were taken: fewer than len
 * when the message ended inside them (the rest begins the next message).
 * Returns HTTP_MORE (need more bytes), HTTP_DONE or HTTP_ERROR. After DONE
 * or ERROR, feeding again takes nothing and returns the same.
 */
int http_feed(struct http_msg *m, const char *data, size_t len, size_t *used);

/* The peer closed the connection: HTTP_DONE when that ends the message
 * (a body up to the close), else HTTP_ERROR with HTTP_E_CLOSED_EARLY and a
 * sentence that says how far the message had come. */
int http_finish(struct http_msg *m);

/* The value of the first header called `name` (any case), or NULL. */
const char *http_header_get(const struct http_msg *m, const char *name);

/* The error sentence, or "" when there is none. */
const char *http_error(const struct http_msg *m);

/* Where reading stands, as a phrase for a timeout message: "in the
 * headers (12 bytes so far)", "in the body (10 of 100 bytes)". */
const char *http_progress(const struct http_msg *m, char *buf, size_t size);

/* An http:// URL taken apart: http://HOST[:PORT][/PATH]. */
struct http_url {
    char host[256];      /* "example.org", "127.0.0.1", "::1" (no brackets) */
    char port[8];        /* "80" when the URL names none */
    char authority[272]; /* for the Host header: "example.org", "[::1]:8080" */
    const char *path;    /* points into the URL; "/" when it has none */
};

/* Read `url`. Returns 0, or -1 with a sentence in `err` saying what is
 * wrong (https, no host, a bad port, a space or control byte in it). */
int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen);

/* Write `len` bytes as a person reads them: printable ASCII as is, \r \n
 * \t as escapes, other bytes as \xHH; at most size-1 characters, ending
 * with "..." when cut. Returns buf. */
char *http_escape(const char *data, size_t len, char *buf, size_t size);

#endif
