/*
 * textbuf.h: text appended to a fixed buffer without printf, for the
 * paths that run after every traced call (an event's line, a call's
 * text). Once a piece does not fit, it and every later one are dropped
 * and `full` is set, so the caller can try again with less.
 */
#ifndef SOCKSCOPE_TEXTBUF_H
#define SOCKSCOPE_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct textbuf {
    char *buf;
    size_t cap, len;
    bool full;
};

static inline void textbuf_put(struct textbuf *t, const char *s, size_t n)
{
    if (t->full)
        return;
    if (n >= t->cap - t->len) {
        t->full = true;
        return;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

static inline void textbuf_str(struct textbuf *t, const char *s)
{
    textbuf_put(t, s, strlen(s));
}

static inline void textbuf_uint(struct textbuf *t, unsigned long long v)
{
    char d[24];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    textbuf_put(t, d + i, sizeof d - i);
}

/* End the text with its '\0' (there is always room: a piece is only
 * taken when a byte stays free after it). */
static inline const char *textbuf_end(struct textbuf *t)
{
    t->buf[t->len] = '\0';
    return t->buf;
}

#endif
