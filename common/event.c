/* event.c: trace events as JSON Lines; see event.h and docs/trace-format.md. */
#include "event.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "errnames.h"
#include "sockstate.h"
#include "textbuf.h"

void event_init(struct event *e)
{
    memset(e, 0, sizeof *e);
    e->fd = -1;
    e->fd2 = -1;
    e->state = TCPS_NONE;
    e->rxq = -1;
    e->txq = -1;
    e->bytes = -1;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

size_t json_escape_bytes(const void *data, size_t len, char *out, size_t cap)
{
    const unsigned char *p = data;
    size_t i = 0, o = 0;
    if (cap == 0)
        return 0;
    while (i < len) {
        /* A run of printable ASCII that needs no escape goes at once. */
        size_t run = i;
        while (run < len && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            size_t n = run - i;
            if (n > cap - 1 - o)
                n = cap - 1 - o;
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
            if (i < run)
                break; /* out of room */
            continue;
        }
        char tmp[8];
        size_t tn = 0, consumed = 1;
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            tn = 2;
        } else if (c == '\n') {
            memcpy(tmp, "\\n", 2);
            tn = 2;
        } else if (c == '\r') {
            memcpy(tmp, "\\r", 2);
            tn = 2;
        } else if (c == '\t') {
            memcpy(tmp, "\\t", 2);
            tn = 2;
        } else if (c < 0x20 || c == 0x7f) {
            tn = (size_t)snprintf(tmp, sizeof tmp, "\\u%04x", c);
        } else {
            size_t k = utf8_seq(p + i, len - i);
            if (k == 0) {
                memcpy(tmp, "\\ufffd", 6);
                tn = 6;
            } else {
                memcpy(tmp, p + i, k);
                tn = k;
                consumed = k;
            }
        }
        if (o + tn + 1 > cap)
            break;
        memcpy(out + o, tmp, tn);
        o += tn;
        i += consumed;
    }
    out[o] = '\0';
    return i;
}

static void put_i(struct textbuf *o, long long v)
{
    if (v < 0) {
        textbuf_put(o, "-", 1);
        textbuf_uint(o, 0ull - (unsigned long long)v);
    } else {
        textbuf_uint(o, (unsigned long long)v);
    }
}

/* ,"key": -- keys are literals, their text made when compiling. */
#define put_key(o, key) textbuf_put((o), ",\"" key "\":", sizeof(",\"" key "\":") - 1)
#define put_str(o, key, val) put_str_at((o), ",\"" key "\":", sizeof(",\"" key "\":") - 1, (val))
#define put_int_field(o, key, v) (put_key(o, key), put_i((o), (v)))

static void put_str_at(struct textbuf *o, const char *key, size_t keylen, const char *val)
{
    textbuf_put(o, key, keylen);
    if (val == NULL) {
        textbuf_put(o, "null", 4);
        return;
    }
    /* A long text (a note, a call's arguments) is cut, and says so, so
     * the rest of the event still fits in one line. It is escaped where
     * it goes, when there is room. */
    size_t len = strlen(val);
    size_t room = o->full ? 0 : o->cap - o->len;
    if (room > EVENT_STR_MAX + 8) {
        char *at = o->buf + o->len;
        at[0] = '"';
        size_t used = json_escape_bytes(val, len, at + 1, EVENT_STR_MAX);
        size_t n = 1 + strlen(at + 1);
        o->len += n;
        if (used < len)
            textbuf_put(o, "...", 3);
        textbuf_put(o, "\"", 1);
        return;
    }
    char esc[EVENT_STR_MAX + 4];
    size_t used = json_escape_bytes(val, len, esc, EVENT_STR_MAX);
    if (used < len)
        strcat(esc, "...");
    textbuf_put(o, "\"", 1);
    textbuf_str(o, esc);
    textbuf_put(o, "\"", 1);
}

static void encode(const struct event *e, struct textbuf *o, size_t preview)
{
    textbuf_str(o, "{\"v\":");
    put_i(o, TRACE_FORMAT_VERSION);
    put_key(o, "seq");
    textbuf_uint(o, (unsigned long long)e->seq);
    put_key(o, "ts_ns");
    textbuf_uint(o, (unsigned long long)e->ts_ns);
    put_int_field(o, "pid", (int)e->pid);
    put_int_field(o, "ppid", (int)e->ppid);
    put_str(o, "role", e->role);
    put_str(o, "kind", e->kind);
    put_str(o, "call", e->call);
    put_str(o, "args", e->args);
    if (e->fd >= 0)
        put_int_field(o, "fd", e->fd);
    else
        textbuf_str(o, ",\"fd\":null");
    if (e->fd2 >= 0)
        put_int_field(o, "fd2", e->fd2);
    if (e->call != NULL && strcmp(e->kind ? e->kind : "", "call") == 0)
        put_int_field(o, "ret", e->ret);
    else
        textbuf_str(o, ",\"ret\":null");
    put_str(o, "errno", e->err ? errno_name(e->err) : NULL);
    put_str(o, "sock", e->sock);
    put_str(o, "local", e->local[0] ? e->local : NULL);
    put_str(o, "peer", e->peer[0] ? e->peer : NULL);
    if (e->addr[0])
        put_str(o, "addr", e->addr);
    put_str(o, "state", tcp_state_name(e->state));
    put_str(o, "state_src", e->state != TCPS_NONE ? e->state_src : NULL);
    if (e->rxq >= 0) {
        put_int_field(o, "rxq", e->rxq);
        put_int_field(o, "txq", e->txq);
    }
    if (e->src_file != NULL) {
        char esc[512];
        json_escape_bytes(e->src_file, strlen(e->src_file), esc, sizeof esc);
        textbuf_str(o, ",\"src\":\"");
        textbuf_str(o, esc);
        textbuf_put(o, ":", 1);
        put_i(o, e->src_line);
        textbuf_put(o, "\"", 1);
    } else {
        textbuf_str(o, ",\"src\":null");
    }
    if (e->dur_ns) {
        put_key(o, "dur_ns");
        textbuf_uint(o, (unsigned long long)e->dur_ns);
    }
    if (e->what != NULL)
        put_str(o, "what", e->what);
    if (e->text != NULL)
        put_str(o, "text", e->text);
    if (e->bytes >= 0) {
        put_int_field(o, "bytes", e->bytes);
        size_t n = e->data_len < preview ? e->data_len : preview;
        if (e->data != NULL && n > 0) {
            char esc[EVENT_PREVIEW * 6 + 8];
            size_t used = json_escape_bytes(e->data, n, esc, sizeof esc);
            textbuf_str(o, ",\"data\":\"");
            textbuf_str(o, esc);
            textbuf_str(o, "\",\"hex\":\"");
            static const char digits[] = "0123456789abcdef";
            const unsigned char *d = e->data;
            for (size_t i = 0; i < used; i++) {
                char h[2] = {digits[d[i] >> 4], digits[d[i] & 15]};
                textbuf_put(o, h, 2);
            }
            textbuf_str(o, used < (size_t)e->bytes ? "\",\"trunc\":true" : "\",\"trunc\":false");
        }
    }
    if (e->dropped) {
        put_key(o, "dropped");
        textbuf_uint(o, (unsigned long long)e->dropped);
    }
    textbuf_str(o, "}\n");
    if (!o->full)
        textbuf_end(o);
}

size_t event_encode(const struct event *e, char *buf, size_t cap)
{
    /* Try the full preview, then less, then none: the line must stay whole. */
    static const size_t previews[] = {EVENT_PREVIEW, 16, 0};
    for (size_t i = 0; i < sizeof previews / sizeof previews[0]; i++) {
        struct textbuf o = {.buf = buf, .cap = cap, .len = 0, .full = false};
        encode(e, &o, previews[i]);
        if (!o.full)
            return o.len;
    }
    /* Even the smallest form did not fit (a buffer smaller than asked):
     * say so in a line that still has every field a reader expects. */
    int n = snprintf(buf, cap,
                     "{\"v\":%d,\"seq\":%llu,\"ts_ns\":%llu,\"pid\":%d,\"ppid\":%d,\"role\":null,"
                     "\"kind\":\"note\",\"call\":null,\"args\":null,\"fd\":null,\"ret\":null,"
                     "\"errno\":null,\"sock\":null,\"local\":null,\"peer\":null,\"state\":null,"
                     "\"state_src\":null,\"src\":null,\"text\":\"event too large\"}\n",
                     TRACE_FORMAT_VERSION, (unsigned long long)e->seq, (unsigned long long)e->ts_ns,
                     (int)e->pid, (int)e->ppid);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
