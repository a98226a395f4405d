/*
 * event.h: one trace event, and its encoding as one line of JSON.
 *
 * The format is specified in docs/trace-format.md; this is its writer.
 * Every event is a single line ending in '\n' that any JSON parser reads:
 * data bytes are shown as an escaped text preview and as hex, so binary
 * data, NULs and invalid UTF-8 never break a line.
 *
 * The encoder is pure: it fills a caller's buffer, never allocates, never
 * fails. When the buffer is small, the data preview shrinks first.
 */
#ifndef SOCKSCOPE_EVENT_H
#define SOCKSCOPE_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define TRACE_FORMAT_VERSION 1
/* The largest encoded event: a line is never longer than this. */
#define EVENT_MAX 2048
/* The longest a text field (args, what, text) gets once escaped; longer
 * ones are cut and end in "...". */
#define EVENT_STR_MAX 512
/* How many bytes of a send or receive are shown (text and hex). */
#define EVENT_PREVIEW 64

struct event {
    uint64_t seq;    /* per process, from 1 */
    uint64_t ts_ns;  /* CLOCK_REALTIME, nanoseconds */
    uint64_t dur_ns; /* how long the call took; 0 when not a call */
    pid_t pid, ppid;
    const char *role; /* the process's name: "server", "client", "nc" */
    const char *kind; /* "call", "step", "note", "proc", "exit" */
    const char *call; /* "bind"; NULL for notes */
    const char *args; /* the call as written: "bind(3, 127.0.0.1:9000)" */
    const char *what; /* one sentence: what the call does (step events) */
    const char *text; /* free text of a note */
    int fd;           /* -1 when none */
    int fd2;          /* a second fd: socketpair's other end; -1 */
    long long ret;
    int err;                 /* errno after a failed call; 0: none */
    const char *sock;        /* "tcp", "udp", "unix-stream", ...; NULL: unknown */
    char local[ADDR_STRLEN]; /* "" when unknown */
    char peer[ADDR_STRLEN];
    char addr[ADDR_STRLEN]; /* the address the call took or gave back:
                               bind, connect, sendto; accept, recvfrom */
    int state;              /* enum tcp_state; TCPS_NONE: null */
    const char *state_src;  /* "tcp_info", "sock_diag"; NULL */
    int rxq, txq;           /* bytes queued in and out; -1: unknown */
    const char *src_file;   /* where the program made the call; NULL: unknown */
    int src_line;
    long long bytes;  /* bytes moved by a data call; -1: not a data call */
    const void *data; /* those bytes, for the preview */
    size_t data_len;
    uint64_t dropped; /* events the viewer could not take so far */
};

/* Set every field to its "nothing" value. */
void event_init(struct event *e);

/*
 * Encode `e` as one JSON line into `buf` (of `cap` bytes, at least 512).
 * Returns the length written, '\n' included, without a NUL.
 */
size_t event_encode(const struct event *e, char *buf, size_t cap);

/*
 * Write `len` bytes as the inside of a JSON string into `out` (`cap` bytes),
 * NUL-terminated: valid UTF-8 is kept, quotes, backslashes and control
 * characters are escaped, and each byte that is not valid UTF-8 becomes
 * U+FFFD. Stops before a sequence that would not fit. Returns the number of
 * input bytes consumed.
 */
size_t json_escape_bytes(const void *data, size_t len, char *out, size_t cap);

#endif
