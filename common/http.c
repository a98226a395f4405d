/* http.c: an HTTP/1.1 message reader for bytes in pieces; see http.h. */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum phase {
    P_HEAD,
    P_BODY_LENGTH,
    P_BODY_CLOSE,
    P_CHUNK_SIZE,
    P_CHUNK_DATA,
    P_CHUNK_END,
    P_TRAILER,
    P_DONE,
    P_FAILED,
};

static int fail(struct http_msg *m, enum http_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct http_msg *m, enum http_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->errmsg, sizeof m->errmsg, fmt, ap);
    va_end(ap);
    m->err = err;
    m->phase = P_FAILED;
    return HTTP_ERROR;
}

int http_msg_init(struct http_msg *m, enum http_type type, size_t head_max, size_t body_max)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->head_max = head_max < 16 ? 16 : head_max;
    m->body_max = body_max;
    m->head = malloc(m->head_max + 1);
    m->body_cap = 256;
    m->body = malloc(m->body_cap);
    if (m->head == NULL || m->body == NULL) {
        http_msg_free(m);
        return -1;
    }
    m->body[0] = '\0';
    return 0;
}

void http_msg_reset(struct http_msg *m)
{
    struct http_msg keep = *m;
    memset(m, 0, sizeof *m);
    m->type = keep.type;
    m->head_max = keep.head_max;
    m->body_max = keep.body_max;
    m->head = keep.head;
    m->body = keep.body;
    m->body_cap = keep.body_cap;
    if (m->body != NULL)
        m->body[0] = '\0';
}

void http_msg_free(struct http_msg *m)
{
    free(m->head);
    free(m->body);
    m->head = m->body = NULL;
    m->body_cap = 0;
}

const char *http_error(const struct http_msg *m)
{
    return m->err ? m->errmsg : "";
}

char *http_escape(const char *data, size_t len, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        char e[8];
        if (c == '\r')
            strcpy(e, "\\r");
        else if (c == '\n')
            strcpy(e, "\\n");
        else if (c == '\t')
            strcpy(e, "\\t");
        else if (c == '\\')
            strcpy(e, "\\\\");
        else if (c >= 0x20 && c < 0x7f)
            e[0] = (char)c, e[1] = '\0';
        else
            snprintf(e, sizeof e, "\\x%02x", c);
        size_t el = strlen(e);
        if (o + el + 1 > size || (i + 1 < len && o + el + 4 > size)) {
            /* No room for this and a "..." after it. */
            const char *dots = "...";
            while (o > 0 && o + 4 > size)
                o--;
            for (size_t k = 0; dots[k] && o + 1 < size; k++)
                buf[o++] = dots[k];
            break;
        }
        memcpy(buf + o, e, el);
        o += el;
    }
    buf[o] = '\0';
    return buf;
}

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A field value or reason phrase may hold visible bytes, spaces, tabs and
 * obs-text, but no other control characters. */
static bool is_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static char *shown(const char *s, char *buf, size_t size)
{
    return http_escape(s, strlen(s), buf, size);
}

static int parse_version(const char *p, int *minor)
{
    if (strncmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9')
        return -1;
    *minor = p[7] - '0';
    return 0;
}

static int parse_start_line(struct http_msg *m, char *line)
{
    char esc[64];
    if (m->type == HTTP_RESPONSE) {
        /* HTTP/1.1 SP 3DIGIT SP reason */
        if (parse_version(line, &m->version_minor) == -1 || line[8] != ' ' || line[9] < '1' ||
            line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' || line[11] > '9' ||
            (line[12] != ' ' && line[12] != '\0'))
            return fail(m, HTTP_E_START_LINE,
                        "bad status line: expected \"HTTP/1.1 200 OK\", got \"%s\"",
                        shown(line, esc, sizeof esc));
        m->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        m->reason = line[12] == ' ' ? line + 13 : line + 12;
        for (const char *p = m->reason; *p; p++)
            if (!is_value_char((unsigned char)*p))
                return fail(m, HTTP_E_START_LINE, "bad status line: a control byte in \"%s\"",
                            shown(line, esc, sizeof esc));
        return 0;
    }
    /* METHOD SP target SP HTTP/1.1 */
    char *p = line;
    while (is_tchar((unsigned char)*p))
        p++;
    char *sp1 = p;
    char *target = sp1 + 1;
    char *q = target;
    while (*q > ' ' && *q != 0x7f)
        q++;
    if (sp1 == line || *sp1 != ' ' || q == target || *q != ' ' ||
        parse_version(q + 1, &m->version_minor) == -1 || q[9] != '\0')
        return fail(m, HTTP_E_START_LINE,
                    "bad request line: expected \"GET /path HTTP/1.1\", got \"%s\"",
                    shown(line, esc, sizeof esc));
    *sp1 = '\0';
    *q = '\0';
    m->method = line;
    m->target = target;
    return 0;
}

static int parse_header_line(struct http_msg *m, char *line)
{
    char esc[64];
    if (*line == ' ' || *line == '\t')
        return fail(m, HTTP_E_HEADER, "bad header line (obsolete line folding): \"%s\"",
                    shown(line, esc, sizeof esc));
    char *p = line;
    while (is_tchar((unsigned char)*p))
        p++;
    if (p == line || *p != ':')
        return fail(m, HTTP_E_HEADER, "bad header line: expected \"Name: value\", got \"%s\"",
                    shown(line, esc, sizeof esc));
    *p++ = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    char *end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    for (char *v = p; *v; v++)
        if (!is_value_char((unsigned char)*v))
            return fail(m, HTTP_E_HEADER, "bad header line: a control byte in the value of %s",
                        line);
    if (m->nheaders == HTTP_MAX_HEADERS)
        return fail(m, HTTP_E_TOO_MANY, "more than %d header fields", HTTP_MAX_HEADERS);
    m->headers[m->nheaders].name = line;
    m->headers[m->nheaders].value = p;
    m->nheaders++;
    return 0;
}

const char *http_header_get(const struct http_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}

/* Does the comma-separated list `value` hold `token` (any case)? */
static bool list_has(const char *value, const char *token)
{
    size_t tl = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
            return true;
    }
    return false;
}

static int grow_body(struct http_msg *m, size_t need)
{
    if (need + 1 <= m->body_cap)
        return 0;
    size_t cap = m->body_cap * 2;
    if (cap < need + 1)
        cap = need + 1;
    if (cap > m->body_max + 1)
        cap = m->body_max + 1;
    char *b = realloc(m->body, cap);
    if (b == NULL)
        return fail(m, HTTP_E_NO_MEMORY, "no memory for a body of %zu bytes", need);
    m->body = b;
    m->body_cap = cap;
    return 0;
}

static int append_body(struct http_msg *m, const char *data, size_t n)
{
    if (n > m->body_max - m->body_len)
        return fail(m, HTTP_E_BODY_TOO_LONG, "the body is longer than the cap of %zu bytes",
                    m->body_max);
    if (grow_body(m, m->body_len + n) != 0)
        return HTTP_ERROR;
    memcpy(m->body + m->body_len, data, n);
    m->body_len += n;
    m->body[m->body_len] = '\0';
    return 0;
}

/* The head is complete in m->head[0..head_fill): take it apart. */
static int parse_head(struct http_msg *m)
{
    m->head[m->head_fill] = '\0';
    m->head_len = m->head_fill;
    if (memchr(m->head, '\0', m->head_fill) != NULL)
        return fail(m, HTTP_E_HEADER, "a NUL byte in the status line or headers");
    char *p = m->head;
    char *limit = m->head + m->head_fill;
    bool first = true;
    while (p < limit) {
        char *nl = memchr(p, '\n', (size_t)(limit - p));
        if (nl == NULL)
            nl = limit;
        *nl = '\0';
        if (nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        if (strchr(p, '\r') != NULL) {
            char esc[64];
            return fail(
                m, first ? HTTP_E_START_LINE : HTTP_E_HEADER, "bad %s: a lone CR byte in \"%s\"",
                first ? (m->type == HTTP_RESPONSE ? "status line" : "request line") : "header line",
                shown(p, esc, sizeof esc));
        }
        if (*p == '\0')
            break; /* the empty line that ends the head */
        if ((first ? parse_start_line(m, p) : parse_header_line(m, p)) != 0)
            return HTTP_ERROR;
        first = false;
        p = nl + 1;
    }
    m->head_done = true;

    /* Framing (RFC 9112 section 6.3). */
    const char *conn = http_header_get(m, "Connection");
    m->keep_alive = m->version_minor >= 1 ? !(conn && list_has(conn, "close"))
                                          : (conn && list_has(conn, "keep-alive"));
    const char *cl = NULL;
    bool has_te = false;
    for (size_t i = 0; i < m->nheaders; i++) {
        const char *v = m->headers[i].value;
        if (strcasecmp(m->headers[i].name, "Content-Length") == 0) {
            size_t digits = strspn(v, "0123456789");
            if (digits == 0 || v[digits] != '\0' || digits > 18)
                return fail(m, HTTP_E_LENGTH, "bad Content-Length: \"%.40s\"", v);
            if (cl != NULL && strcmp(cl, v) != 0)
                return fail(m, HTTP_E_LENGTH, "two different Content-Length fields: %.20s, %.20s",
                            cl, v);
            cl = v;
        } else if (strcasecmp(m->headers[i].name, "Transfer-Encoding") == 0) {
            if (has_te || !list_has(v, "chunked") || strcasecmp(v, "chunked") != 0)
                return fail(m, HTTP_E_CODING,
                            "Transfer-Encoding \"%.40s\": only chunked is understood here", v);
            has_te = true;
        }
    }
    bool bodiless = m->type == HTTP_RESPONSE &&
                    (m->no_body || m->status < 200 || m->status == 204 || m->status == 304);
    if (bodiless) {
        m->framing = HTTP_BODY_NONE;
    } else if (has_te) {
        if (cl != NULL && m->type == HTTP_REQUEST)
            return fail(m, HTTP_E_LENGTH, "both Transfer-Encoding and Content-Length");
        m->framing = HTTP_BODY_CHUNKED;
    } else if (cl != NULL) {
        m->framing = HTTP_BODY_LENGTH;
        m->content_length = strtoull(cl, NULL, 10);
        if (m->content_length > m->body_max)
            return fail(m, HTTP_E_BODY_TOO_LONG, "Content-Length %llu is over the cap of %zu bytes",
                        (unsigned long long)m->content_length, m->body_max);
        if (grow_body(m, (size_t)m->content_length) != 0)
            return HTTP_ERROR;
    } else if (m->type == HTTP_RESPONSE) {
        m->framing = HTTP_BODY_UNTIL_CLOSE;
        m->keep_alive = false;
    } else {
        m->framing = HTTP_BODY_NONE;
    }
    switch (m->framing) {
    case HTTP_BODY_NONE: m->phase = P_DONE; break;
    case HTTP_BODY_LENGTH: m->phase = m->content_length ? P_BODY_LENGTH : P_DONE; break;
    case HTTP_BODY_CHUNKED: m->phase = P_CHUNK_SIZE; break;
    case HTTP_BODY_UNTIL_CLOSE: m->phase = P_BODY_CLOSE; break;
    }
    return 0;
}

/* Collect one line of the chunked framing into m->line; 1 when complete. */
static int take_line(struct http_msg *m, char c)
{
    if (c == '\n') {
        if (m->line_fill > 0 && m->line[m->line_fill - 1] == '\r')
            m->line_fill--;
        m->line[m->line_fill] = '\0';
        return 1;
    }
    if (m->line_fill + 1 >= sizeof m->line)
        return fail(m, HTTP_E_CHUNK, "a chunk size line longer than %zu bytes", sizeof m->line - 2);
    if (c == '\0')
        return fail(m, HTTP_E_CHUNK, "a NUL byte in a chunk size line");
    m->line[m->line_fill++] = c;
    return 0;
}

static int chunk_size_line(struct http_msg *m)
{
    char esc[64];
    const char *p = m->line;
    uint64_t size = 0;
    size_t digits = 0;
    for (; *p; p++, digits++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            break;
        if (size > (UINT64_MAX >> 4))
            return fail(m, HTTP_E_CHUNK, "a chunk size too large: \"%s\"",
                        shown(m->line, esc, sizeof esc));
        size = size * 16 + (uint64_t)d;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (digits == 0 || (*p != '\0' && *p != ';'))
        return fail(m, HTTP_E_CHUNK, "bad chunk size line: expected hex digits, got \"%s\"",
                    shown(m->line, esc, sizeof esc));
    if (size > m->body_max - m->body_len)
        return fail(m, HTTP_E_BODY_TOO_LONG, "the chunked body is longer than the cap of %zu bytes",
                    m->body_max);
    m->line_fill = 0;
    if (size == 0) {
        m->phase = P_TRAILER;
        return 0;
    }
    m->chunks++;
    m->chunk_left = size;
    m->phase = P_CHUNK_DATA;
    return grow_body(m, m->body_len + (size_t)size);
}

int http_feed(struct http_msg *m, const char *data, size_t len, size_t *used)
{
    size_t i = 0;
    int rc = 0;
    while (i < len && rc == 0 && m->phase != P_DONE && m->phase != P_FAILED) {
        char c = data[i];
        switch (m->phase) {
        case P_HEAD:
            if (m->head_fill == 0 && (c == '\r' || c == '\n')) {
                i++; /* empty lines before the start line are ignored */
                break;
            }
            if (m->head_fill == m->head_max) {
                rc = fail(m, HTTP_E_HEAD_TOO_LONG,
                          "the status line and headers are longer than the cap of %zu bytes "
                          "(a header too long?)",
                          m->head_max);
                break;
            }
            m->head[m->head_fill++] = c;
            i++;
            if (c == '\n') {
                size_t f = m->head_fill;
                if ((f >= 2 && m->head[f - 2] == '\n') ||
                    (f >= 3 && m->head[f - 2] == '\r' && m->head[f - 3] == '\n'))
                    rc = parse_head(m);
            }
            break;
        case P_BODY_LENGTH: {
            size_t want = (size_t)(m->content_length - m->body_len);
            size_t n = len - i < want ? len - i : want;
            rc = append_body(m, data + i, n);
            i += n;
            if (rc == 0 && m->body_len == m->content_length)
                m->phase = P_DONE;
            break;
        }
        case P_BODY_CLOSE:
            rc = append_body(m, data + i, len - i);
            i = len;
            break;
        case P_CHUNK_SIZE:
            i++;
            rc = take_line(m, c);
            if (rc == 1)
                rc = chunk_size_line(m);
            break;
        case P_CHUNK_DATA: {
            size_t n = len - i < m->chunk_left ? len - i : (size_t)m->chunk_left;
            rc = append_body(m, data + i, n);
            i += n;
            m->chunk_left -= n;
            if (rc == 0 && m->chunk_left == 0)
                m->phase = P_CHUNK_END;
            break;
        }
        case P_CHUNK_END:
            i++;
            rc = take_line(m, c);
            if (rc == 1) {
                rc = 0;
                if (m->line_fill != 0) {
                    char esc[48];
                    rc = fail(m, HTTP_E_CHUNK,
                              "a chunk's data is not followed by CRLF but by \"%s\" "
                              "(was its size wrong?)",
                              shown(m->line, esc, sizeof esc));
                } else {
                    m->phase = P_CHUNK_SIZE;
                }
                m->line_fill = 0;
            }
            break;
        case P_TRAILER:
            i++;
            if (++m->trailer_len > m->head_max) {
                rc = fail(m, HTTP_E_HEAD_TOO_LONG, "the trailer fields are longer than %zu bytes",
                          m->head_max);
                break;
            }
            if (c == '\n') {
                bool empty = m->line_fill == 0;
                m->line_fill = 0;
                if (empty)
                    m->phase = P_DONE;
            } else if (c != '\r') {
                m->line_fill = 1; /* a trailer field: read and skipped */
            }
            break;
        }
        if (rc > 0)
            rc = 0;
    }
    if (used != NULL)
        *used = i;
    if (m->phase == P_FAILED)
        return HTTP_ERROR;
    return m->phase == P_DONE ? HTTP_DONE : HTTP_MORE;
}

int http_finish(struct http_msg *m)
{
    char where[96];
    switch (m->phase) {
    case P_DONE: return HTTP_DONE;
    case P_FAILED: return HTTP_ERROR;
    case P_BODY_CLOSE: m->phase = P_DONE; return HTTP_DONE;
    case P_HEAD:
        if (m->head_fill == 0)
            return fail(m, HTTP_E_CLOSED_EARLY,
                        "the peer closed the connection without sending anything");
        /* fall through */
    default:
        return fail(m, HTTP_E_CLOSED_EARLY, "the peer closed the connection early, %s",
                    http_progress(m, where, sizeof where));
    }
}

const char *http_progress(const struct http_msg *m, char *buf, size_t size)
{
    switch (m->phase) {
    case P_HEAD:
        snprintf(buf, size, "in the status line and headers (%zu bytes so far)", m->head_fill);
        break;
    case P_BODY_LENGTH:
        snprintf(buf, size, "in the body (%zu of the %llu bytes Content-Length promised)",
                 m->body_len, (unsigned long long)m->content_length);
        break;
    case P_BODY_CLOSE: snprintf(buf, size, "in the body (%zu bytes so far)", m->body_len); break;
    case P_CHUNK_SIZE:
    case P_CHUNK_DATA:
    case P_CHUNK_END:
    case P_TRAILER:
        snprintf(buf, size, "in the chunked body (%zu chunks, %zu bytes so far)", m->chunks,
                 m->body_len);
        break;
    case P_DONE: snprintf(buf, size, "after the end of the message"); break;
    default: snprintf(buf, size, "after an error"); break;
    }
    return buf;
}

int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "a URL here starts with http:// (https needs TLS, not shown here)");
        return -1;
    }
    for (const char *c = url; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            snprintf(err, errlen, "a space or control byte in the URL; write it as %%XX");
            return -1;
        }
    }
    const char *p = url + 7;
    const char *end = p + strcspn(p, "/?#");
    const char *hend, *rest;
    if (*p == '[') { /* an IPv6 address: http://[::1]:8080/ */
        hend = memchr(p, ']', (size_t)(end - p));
        if (hend == NULL) {
            snprintf(err, errlen, "an IPv6 address in a URL needs its closing ']'");
            return -1;
        }
        p++;
        rest = hend + 1;
    } else {
        hend = memchr(p, ':', (size_t)(end - p));
        hend = hend ? hend : end;
        rest = hend;
    }
    if (hend == p || (size_t)(hend - p) >= sizeof u->host) {
        snprintf(err, errlen, "no host name in the URL");
        return -1;
    }
    snprintf(u->host, sizeof u->host, "%.*s", (int)(hend - p), p);
    snprintf(u->port, sizeof u->port, "80");
    if (rest < end) {
        size_t digits = (size_t)(end - rest - 1);
        unsigned long n = 0;
        bool ok = *rest == ':' && digits >= 1 && digits <= 5;
        for (size_t i = 0; ok && i < digits; i++) {
            ok = rest[1 + i] >= '0' && rest[1 + i] <= '9';
            n = n * 10 + (unsigned long)(rest[1 + i] - '0');
        }
        if (!ok || n == 0 || n > 65535) {
            snprintf(err, errlen, "a bad port in the URL: a number from 1 to 65535");
            return -1;
        }
        snprintf(u->port, sizeof u->port, "%lu", n);
    }
    bool v6 = url[7] == '[', default_port = strcmp(u->port, "80") == 0;
    snprintf(u->authority, sizeof u->authority, "%s%s%s%s%s", v6 ? "[" : "", u->host, v6 ? "]" : "",
             default_port ? "" : ":", default_port ? "" : u->port);
    u->path = *end == '/' ? end : "/";
    if (*end == '?' || *end == '#') {
        snprintf(err, errlen, "the URL needs a path before '%c': http://HOST/PATH%c...", *end,
                 *end);
        return -1;
    }
    return 0;
}
