/*
 * model.h: the session timeline, and the sockets it describes.
 *
 * The timeline is the ordered list of everything the viewer learned:
 * the traced processes' events (docs/trace-format.md) as they arrived, the
 * kernel's states read with sock_diag (kind "state", role "kernel"), and
 * the viewer's own remarks (kind "viewer"), and each line the program
 * printed (kind "output"). Collectors append to it; they never touch the
 * drawing. Written out one entry a line (ev_to_json), it is a recording
 * that `sockscope replay` reads back into the same timeline.
 *
 * The model is what the timeline says at a cursor: the processes, their
 * sockets with state, addresses and queues, the last bytes moved, the last
 * state transition. model_apply() adds one entry to it, so the model at
 * entry N is the entries 0..N-1 applied in order to an empty model: live,
 * the cursor follows the end; a replay moves it.
 */
#ifndef SOCKSCOPE_MODEL_H
#define SOCKSCOPE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum ev_kind {
    EK_OTHER,
    EK_CALL,
    EK_STEP,
    EK_PROC,
    EK_EXIT,
    EK_NOTE,
    EK_STATE,
    EK_VIEWER,
    EK_OUTPUT,
    EK_PACKET
};
enum state_src { SRC_NONE, SRC_TCP_INFO, SRC_SOCK_DIAG };

/* One entry of the timeline. Strings are NULL when the event has none;
 * they live in the same allocation as the entry. */
struct ev {
    int kind;
    uint64_t seq, ts_ns, dur_ns;
    int pid, ppid;
    int fd, fd2; /* -1: none */
    long long ret;
    bool has_ret;
    int state;       /* enum tcp_state; TCPS_NONE: none */
    int state_src;   /* enum state_src */
    int rxq, txq;    /* -1: unknown */
    long long bytes; /* -1: not a data call */
    bool trunc;
    uint64_t dropped;
    /* A packet (kind "packet"): `local` is its source, `peer` its
     * destination, `sock` the protocol ("tcp", "udp", "icmp", "icmpv6"),
     * `what` the TCP flags ("SYN+ACK"); seq and ack are relative. */
    struct {
        unsigned frame, seq, ack, win, len, ttl;
        int icmp_type, icmp_code, icmp_id, icmp_seq; /* -1: not ICMP */
    } pkt;
    const char *role, *call, *args, *err, *sock, *local, *peer, *addr, *src, *what, *text, *data,
        *hex;
};

/* Read one JSON line (a trace event). Returns a new entry, or NULL when the
 * line is not a JSON object, with the reason in `why` (`whysize` bytes). */
struct ev *ev_parse(const char *line, size_t len, char *why, size_t whysize);

/* Read `n` bytes of whole lines, as the viewer gets them in one message
 * from a traced process. `fn` gets each line's entry (and owns it), or
 * NULL and the reason for a line that is not an event. */
typedef void (*ev_line_fn)(struct ev *e, const char *why, void *arg);
void ev_parse_lines(const char *buf, size_t n, ev_line_fn fn, void *arg);

/* A kernel state read by the viewer (role "kernel", kind "state"). */
struct ev *ev_kernel_state(uint64_t ts_ns, const char *local, const char *peer, int state, int rxq,
                           int txq);

/* A remark of the viewer itself: "the lesson ended (exit 0)". */
struct ev *ev_viewer_note(uint64_t ts_ns, const char *text);

/* A packet on the wire, made from a captured segment (`flags`:
 * capture_flags_text's words for TCP, "" otherwise); ev_parse reads the
 * same entry back from its line in a recording. */
struct segment;
struct ev *ev_packet_of(const struct segment *seg, const char *flags);
/* A line the program printed on its terminal. */
struct ev *ev_output(uint64_t ts_ns, const char *text);

/* The entry as one JSON line (with '\n'), in the trace format plus the
 * kinds "state", "viewer" and "output"; malloc'd, or NULL. */
char *ev_to_json(const struct ev *e);

struct timeline {
    struct ev **ev;
    size_t len, cap;
};

/* Append (the timeline owns `e` from now on). Returns 0, or -1 when out of
 * memory (then `e` is freed). */
int timeline_append(struct timeline *t, struct ev *e);
void timeline_free(struct timeline *t);

/* What reading a trace or recording found wrong. */
struct load_report {
    size_t bad;       /* lines that are not events: skipped */
    size_t first_bad; /* the number of the first such line (from 1), 0: none */
    bool cut_short;   /* the last line has no end: written by a program that died */
};

/* A trace file or a recording's timeline.jsonl as a timeline; lines that
 * are not events are skipped and reported. Returns 0, or -1 with errno when
 * the file cannot be read. */
int timeline_load(struct timeline *t, const char *path, struct load_report *r);

struct msock {
    int pid, fd;
    bool closed;      /* the fd was closed (the connection may live on) */
    bool kernel_only; /* seen only by sock_diag: no traced process holds it */
    char sock[20];    /* "tcp", "udp", "unix-stream"... */
    char local[ADDR_STRLEN], peer[ADDR_STRLEN];
    int state, state_src;
    int prev_state;  /* before the last transition; TCPS_NONE */
    char cause[128]; /* what made the last transition: "close() by client" */
    int rxq, txq;
    size_t changed_at; /* timeline index of its last change */
    /* A transition a segment makes, whose segment was not yet read (the
     * capture and the events reach the viewer by different ways): the
     * cause's text, until a packet no later than changed_ts names it. */
    const char *wire_pending;
    uint64_t changed_ts;
};

struct mproc {
    int pid, ppid;
    char role[17];
    bool exited;
    uint64_t dropped; /* events it could not hand to the viewer */
    uint64_t calls;
    long pending; /* timeline index of its step waiting for a go, or -1 */
};

struct model {
    struct mproc *procs;
    int nprocs, capprocs;
    struct msock *socks;
    int nsocks, capsocks;
    size_t applied;            /* entries applied: the cursor */
    long last_send, last_recv; /* timeline index of the last data moved, -1 */
    int trans_sock;            /* the socket of the last transition, -1 */
    uint64_t wire_pending_until; /* a packet before this may name a waiting cause */
    uint64_t calls, errors, dropped;
    long last_call; /* timeline index of the last call, -1 */
    long *outputs;  /* timeline indexes of the program's output lines */
    size_t nout, capout;
    long *packets; /* timeline indexes of the packets on the wire */
    size_t npackets, cappackets;
    const struct timeline *tl; /* the timeline being applied (for causes) */
};

void model_init(struct model *m);
void model_free(struct model *m);

/* Apply entry t->ev[m->applied] and advance the cursor by one. */
void model_apply(struct model *m, const struct timeline *t);

/* Apply entries until the cursor is at `n` (replaying from empty when `n`
 * is behind the cursor). */
void model_seek(struct model *m, const struct timeline *t, size_t n);

/* The endpoint an address belongs to: "server" when a traced process's
 * socket has it as its local address, else NULL. */
const char *model_owner(const struct model *m, const char *addr);
/* The pid of that process, or 0. */
int model_owner_pid(const struct model *m, const char *addr);
/* The process with this pid, or NULL. */
struct mproc *model_proc(const struct model *m, int pid);

/* The step waiting longest for a go: its timeline index, or -1. */
long model_oldest_pending(const struct model *m);

/* True for a data call that sends (send, write...) and one that receives. */
bool call_sends(const char *call);
bool call_receives(const char *call);

#endif
