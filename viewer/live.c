/* live.c: a program run under the viewer; see live.h. */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>
#include <jansson.h>

#include "capture.h"
#include "diag.h"
#include "draw.h"
#include "event.h"
#include "lessons.h"
#include "model.h"
#include "record.h"
#include "ring.h"
#include "sockstate.h"
#include "source.h"
#include "trace.h"
#include "tty.h"

#define MAX_CONNS 256
#define OUT_WIDTH 240
#define FRAME_NS 30000000ull /* at most one screen every 30 ms */
#define DIAG_NS 250000000ull /* the kernel is asked four times a second */
/* ... while anything happens; when nothing has for IDLE_NS, every
 * IDLE_DIAG_NS: a dump walks the kernel's whole connection table, some
 * milliseconds however few sockets there are, and a paused lesson
 * changes nothing but timers (TIME_WAIT's end). */
#define IDLE_NS 2000000000ull
#define IDLE_DIAG_NS 2000000000ull
#define MAX_SAMPLES 200000
/* After a batch of events, the connections rest this long: a busy program
 * then sends into a queue nobody waits on, which costs it no wakeup. */
#define REST_NS 4000000ull
#define SHORT_REST_NS 2000000ull

static const int speeds_ms[] = {0, 50, 100, 250, 500, 1000, 2000};
#define NSPEEDS ((int)(sizeof speeds_ms / sizeof speeds_ms[0]))

struct conn {
    int fd;
    struct ring ring; /* its events, when the process gave one (ring.h) */
    bool waiting;     /* its process waits for a go */
    uint64_t order; /* when it started waiting */
    long step_idx;  /* the step event in the timeline */
};

struct session {
    const struct live_opts *o;
    char dir[PATH_MAX];
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int lfd;
    pid_t child;
    int master;
    bool child_done;
    int child_status;
    struct conn conns[MAX_CONNS];
    int nconns;
    uint64_t step_order;
    bool running; /* answer steps by ourselves */
    int speed;    /* index into speeds_ms */
    uint64_t last_auto;
    struct timeline tl;
    struct model m;
    struct view v;
    struct grid g;
    bool dirty, full;
    uint64_t last_draw, last_diag;
    uint64_t last_change; /* when the timeline last grew */
    size_t diag_len;      /* the timeline's length then */
    uint64_t rest_until;  /* do not read the connections before this */
    uint64_t started;     /* when the program was started */
    bool hinted;          /* the hint for a program that never connects was given */
    int rec_fd;           /* the recording's timeline.jsonl, or -1 */
    char rec_dir[PATH_MAX];
    char line[OUT_WIDTH];
    int linelen;
    int esc; /* inside an escape sequence: 1 ESC seen, 2 CSI, 3 OSC */
    char mode[64];
    char status[160];
    char title[256];
    struct source_cache src; /* the source line shown */
    struct capture *cap;     /* packets on every interface (CAPTURE_IFACE), or NULL */
    char wire[320];          /* why there are no packets, or how they come */
    char filter[1024];       /* the capture filter in force */
    size_t filter_at;        /* the timeline length when it was last computed */
    bool pcap_saved;         /* packets go to the recording's pcap file */
    /* latency from an event's ts_ns to the screen that shows it */
    uint64_t *pending_ts;
    size_t npending, cappending;
    uint64_t *samples;
    size_t nsamples;
};

/* For the fatal-signal path: what to remove and whom to end. */
static volatile pid_t cleanup_pgid;
static char cleanup_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char cleanup_dir[PATH_MAX];

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void live_emergency_cleanup(void)
{
    if (cleanup_pgid > 0)
        kill(-cleanup_pgid, SIGKILL);
    if (cleanup_path[0])
        unlink(cleanup_path);
    if (cleanup_dir[0])
        rmdir(cleanup_dir);
}

/* --- the timeline -------------------------------------------------------- */

static void record(struct session *s, const struct ev *e);
static void save_packets(struct session *s, const char *dir);
static void write_meta(struct session *s, const char *dir);

static void append(struct session *s, struct ev *e)
{
    bool call = e->kind == EK_CALL && e->ts_ns != 0;
    uint64_t ts = e->ts_ns;
    if (timeline_append(&s->tl, e) == -1)
        return;
    if (s->rec_fd != -1)
        record(s, e);
    while (s->m.applied < s->tl.len)
        model_apply(&s->m, &s->tl);
    s->dirty = true;
    if (call && s->samples != NULL) {
        if (s->npending == s->cappending) {
            size_t cap = s->cappending ? s->cappending * 2 : 256;
            uint64_t *n = realloc(s->pending_ts, cap * sizeof *n);
            if (n == NULL)
                return;
            s->pending_ts = n;
            s->cappending = cap;
        }
        s->pending_ts[s->npending++] = ts;
    }
}

static void note(struct session *s, const char *text)
{
    struct ev *e = ev_viewer_note(real_ns(), text);
    if (e != NULL)
        append(s, e);
}

/* --- recording ------------------------------------------------------------ */

/* One entry, one line, one write(2): a crash never leaves half a line
 * behind a whole one. */
static void record(struct session *s, const struct ev *e)
{
    char *line = ev_to_json(e);
    if (line == NULL)
        return;
    size_t len = strlen(line);
    ssize_t n;
    do {
        n = write(s->rec_fd, line, len);
    } while (n == -1 && errno == EINTR);
    free(line);
    if (n != (ssize_t)len) {
        snprintf(s->status, sizeof s->status, "recording stopped: %s",
                 n == -1 ? strerror(errno) : "short write");
        close(s->rec_fd);
        s->rec_fd = -1;
    }
}

/* Start writing the timeline (what came so far, then each entry) to
 * DIR/timeline.jsonl. */
static int start_recording(struct session *s, const char *dir)
{
    if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
        snprintf(s->status, sizeof s->status, "cannot record into %.80s: %s", dir, strerror(errno));
        return -1;
    }
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/timeline.jsonl", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd == -1) {
        snprintf(s->status, sizeof s->status, "cannot record into %.80s: %s", path,
                 strerror(errno));
        return -1;
    }
    s->rec_fd = fd;
    snprintf(s->rec_dir, sizeof s->rec_dir, "%s", dir);
    save_packets(s, dir);
    write_meta(s, dir);
    for (size_t i = 0; i < s->tl.len && s->rec_fd != -1; i++)
        record(s, s->tl.ev[i]);
    if (s->rec_fd != -1)
        snprintf(s->status, sizeof s->status, "recording into %.100s", dir);
    return s->rec_fd == -1 ? -1 : 0;
}

static void toggle_recording(struct session *s)
{
    if (s->rec_fd != -1) {
        close(s->rec_fd);
        s->rec_fd = -1;
        snprintf(s->status, sizeof s->status, "recording stopped: %.100s", s->rec_dir);
        return;
    }
    char dir[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(dir, sizeof dir, "sockscope-%Y%m%d-%H%M%S", &tm);
    start_recording(s, dir);
}

/* --- the lesson's output ------------------------------------------------- */

static void out_newline(struct session *s)
{
    s->line[s->linelen] = '\0';
    struct ev *e = ev_output(real_ns(), s->line);
    if (e != NULL)
        append(s, e);
    s->linelen = 0;
}

/* Keep the text; drop terminal escape sequences and carriage returns. */
static void out_feed(struct session *s, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (s->esc == 1) {
            s->esc = c == '[' ? 2 : c == ']' ? 3 : 0;
            continue;
        }
        if (s->esc == 2) {
            if (c >= 0x40 && c <= 0x7e)
                s->esc = 0;
            continue;
        }
        if (s->esc == 3) {
            if (c == 7 || c == 0x1b)
                s->esc = c == 0x1b ? 1 : 0;
            continue;
        }
        if (c == 0x1b) {
            s->esc = 1;
        } else if (c == '\n') {
            out_newline(s);
        } else if (c == '\b') {
            if (s->linelen > 0)
                s->linelen--;
        } else if (c == '\t') {
            do
                s->line[s->linelen++] = ' ';
            while (s->linelen % 8 && s->linelen < OUT_WIDTH - 1);
        } else if (c >= 0x20 || c >= 0x80) {
            if (s->linelen < OUT_WIDTH - 1)
                s->line[s->linelen++] = (char)c;
        }
        if (s->linelen >= OUT_WIDTH - 1)
            out_newline(s);
    }
    s->dirty = true;
}

/* The line being written shows below the output's finished lines. */
static void out_view(struct session *s)
{
    s->line[s->linelen] = '\0';
    s->v.partial = s->line;
}

/* --- the viewer's socket ------------------------------------------------- */

static int open_socket(struct session *s, char *err, size_t errsize)
{
    const char *base = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (base == NULL || *base == '\0' || stat(base, &st) == -1 || !S_ISDIR(st.st_mode) ||
        access(base, W_OK) == -1 || strlen(base) + sizeof "/sockscope-XXXXXX/events" > 100)
        base = "/tmp";
    snprintf(s->dir, sizeof s->dir, "%s/sockscope-XXXXXX", base);
    if (mkdtemp(s->dir) == NULL) {
        snprintf(err, errsize, "cannot make a directory for the viewer's socket in %s: %s", base,
                 strerror(errno));
        s->dir[0] = '\0';
        return -1;
    }
    snprintf(cleanup_dir, sizeof cleanup_dir, "%s", s->dir);
    chmod(s->dir, 0700);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(s->dir) + strlen("/events") >= sizeof sun.sun_path) {
        snprintf(err, errsize, "the path %s is too long for a Unix socket", s->dir);
        return -1;
    }
    snprintf(s->path, sizeof s->path, "%.100s/events", s->dir);
    memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
    s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->lfd == -1 || bind(s->lfd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
        listen(s->lfd, 64) == -1) {
        snprintf(err, errsize, "cannot make the viewer's socket %s: %s", s->path, strerror(errno));
        return -1;
    }
    snprintf(cleanup_path, sizeof cleanup_path, "%s", s->path);
    /* The traced processes send much at once: room for bursts. */
    return 0;
}

static void accept_conns(struct session *s)
{
    /* Bounded: the backlog holds at most 64. */
    for (int i = 0; i < 64; i++) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1)
            return;
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 || cred.uid != getuid() ||
            s->nconns == MAX_CONNS) {
            /* Only the user's own processes may talk to the viewer. */
            close(fd);
            if (s->nconns < MAX_CONNS)
                note(s, "refused a connection from another user");
            continue;
        }
        int size = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        s->conns[s->nconns++] = (struct conn){.fd = fd, .ring = {.fd = -1}, .step_idx = -1};
    }
}

static bool drain_ring(struct session *s, int i, size_t max);

static void drop_conn(struct session *s, int i)
{
    /* The process is gone: what it left in its ring is its last word. */
    drain_ring(s, i, RING_DATA);
    ring_close(&s->conns[i].ring);
    close(s->conns[i].fd);
    s->conns[i] = s->conns[--s->nconns];
    s->dirty = true;
}

/* The events of one message: one or more whole lines (the tracer sends a
 * process's events in batches; a step event always ends its batch). */
struct take {
    struct session *s;
    int conn;
};

static void take_one(struct ev *e, const char *why, void *arg)
{
    (void)why; /* a line that is not an event is skipped */
    struct take *t = arg;
    if (e == NULL)
        return;
    bool step = e->kind == EK_STEP;
    append(t->s, e);
    if (step) {
        struct conn *c = &t->s->conns[t->conn];
        c->waiting = true;
        c->order = ++t->s->step_order;
        c->step_idx = (long)t->s->tl.len - 1;
    }
}

/* Take at most `max` bytes of event lines from a connection's ring.
 * Returns true when any came. */
static bool drain_ring(struct session *s, int i, size_t max)
{
    static char buf[65536];
    struct conn *c = &s->conns[i];
    bool any = false;
    for (size_t taken = 0; c->ring.h != NULL && taken < max;) {
        bool bad;
        size_t n = ring_take(&c->ring, buf, sizeof buf, &bad);
        if (bad)
            note(s, "a traced process wrote its events' ring out of order; some were lost");
        if (n == 0)
            break;
        ev_parse_lines(buf, n, take_one, &(struct take){s, i});
        taken += n;
        any = true;
    }
    return any;
}

/* A message with a descriptor: the process offers its events' ring. */
static void take_ring(struct session *s, int i, struct msghdr *mh, size_t n, const char *buf)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t k = 0; k < nfds; k++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof fd);
            char why[128];
            bool hello = n == sizeof RING_HELLO - 1 && memcmp(buf, RING_HELLO, n) == 0;
            if (!hello || s->conns[i].ring.h != NULL)
                close(fd);
            else if (ring_attach(&s->conns[i].ring, fd, why, sizeof why) == -1)
                note(s, why);
        }
    }
}

/* Read what a connection holds, at most `max` messages. Returns false when
 * it closed. */
static bool read_conn(struct session *s, int i, int max)
{
    /* A batch is at most TRACE_BATCH_MAX bytes; a longer message is cut
     * by the kernel, and its last line then fails to parse and is lost. */
    static char buf[TRACE_BATCH_MAX + 64];
    for (int k = 0; k < max; k++) {
        char cbuf[CMSG_SPACE(4 * sizeof(int))];
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                            .msg_controllen = sizeof cbuf};
        ssize_t n = recvmsg(s->conns[i].fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n == 0)
            return false;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        if (mh.msg_controllen > 0) {
            take_ring(s, i, &mh, (size_t)n, buf);
            continue;
        }
        /* What the ring holds came before this message: a step event, or
         * a doorbell (one newline) that says the ring has events. */
        drain_ring(s, i, RING_DATA);
        if (n == 1 && buf[0] == '\n')
            continue;
        ev_parse_lines(buf, (size_t)n, take_one, &(struct take){s, i});
    }
    return true;
}

/* Before the viewer sleeps in poll(): ask every ring for a doorbell.
 * Returns false when one already holds events (then do not sleep). */
static bool rings_sleep(struct session *s)
{
    for (int i = 0; i < s->nconns; i++)
        if (s->conns[i].ring.h != NULL && !ring_sleep(&s->conns[i].ring))
            return false;
    return true;
}

static void rings_awake(struct session *s)
{
    for (int i = 0; i < s->nconns; i++)
        if (s->conns[i].ring.h != NULL)
            ring_awake(&s->conns[i].ring);
}

/* The connection whose process has waited longest, or -1. */
static int oldest_waiting(const struct session *s)
{
    int best = -1;
    for (int i = 0; i < s->nconns; i++)
        if (s->conns[i].waiting && (best < 0 || s->conns[i].order < s->conns[best].order))
            best = i;
    return best;
}

/* The connection of process `pid` if it waits for a go, or -1. */
static int waiting_of(const struct session *s, int pid)
{
    for (int i = 0; i < s->nconns; i++)
        if (s->conns[i].waiting && s->conns[i].step_idx >= 0 &&
            s->tl.ev[s->conns[i].step_idx]->pid == pid)
            return i;
    return -1;
}

static bool answer(struct session *s, int i, const char *word);

static bool answer_one(struct session *s, const char *word)
{
    return answer(s, oldest_waiting(s), word);
}

/* Run the next call of the selected socket's process only: the order of
 * the two sides is the student's to choose. */
static void answer_selected(struct session *s)
{
    int sel = s->v.sel >= 0 ? s->v.sel : s->m.trans_sock;
    if (sel < 0 || sel >= s->m.nsocks || s->m.socks[sel].kernel_only) {
        snprintf(s->status, sizeof s->status, "select a socket first (Tab)");
        return;
    }
    int pid = s->m.socks[sel].pid;
    int i = waiting_of(s, pid);
    if (i < 0) {
        const struct mproc *p = model_proc(&s->m, pid);
        snprintf(s->status, sizeof s->status, "%s %d is not waiting for a go",
                 p ? p->role : "the process", pid);
        return;
    }
    answer(s, i, "go");
}

static bool answer(struct session *s, int i, const char *word)
{
    if (i < 0)
        return false;
    ssize_t n;
    do {
        n = send(s->conns[i].fd, word, strlen(word), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n == -1 && errno == EINTR);
    s->conns[i].waiting = false;
    s->conns[i].step_idx = -1;
    s->dirty = true;
    return n > 0;
}

/* --- the kernel's view --------------------------------------------------- */

struct seen {
    char local[ADDR_STRLEN], peer[ADDR_STRLEN];
    int state, rq, wq;
};

/* The lesson's ports: those its sockets listen or wait on (any
 * connection to them is the lesson's), and the port pairs of its
 * connections (an ephemeral port alone may be another program's). */
#define MAX_PORTS 256
struct lesson_ports {
    int bound[MAX_PORTS], nbound;
    int pair[MAX_PORTS][2], npairs;
};

struct seen_list {
    struct seen *v;
    size_t n, cap;
    const struct lesson_ports *lp;
};

static int port_of(const char *a)
{
    const char *colon = a ? strrchr(a, ':') : NULL;
    return colon ? atoi(colon + 1) : 0;
}

/* `tcp` false: TCP and UDP both. */
static void lesson_ports_of(const struct model *m, bool tcp, struct lesson_ports *lp)
{
    lp->nbound = lp->npairs = 0;
    for (int i = 0; i < m->nsocks; i++) {
        const struct msock *ms = &m->socks[i];
        bool is_tcp = strcmp(ms->sock, "tcp") == 0;
        if (ms->kernel_only || !(is_tcp || (!tcp && strcmp(ms->sock, "udp") == 0)))
            continue;
        int a = port_of(ms->local), b = port_of(ms->peer);
        if (a <= 0)
            continue;
        bool dup = false;
        if (b <= 0 || ms->state == TCPS_LISTEN) {
            for (int k = 0; k < lp->nbound; k++)
                dup = dup || lp->bound[k] == a;
            if (!dup && lp->nbound < MAX_PORTS)
                lp->bound[lp->nbound++] = a;
        } else {
            for (int k = 0; k < lp->npairs; k++)
                dup = dup || (lp->pair[k][0] == a && lp->pair[k][1] == b);
            if (!dup && lp->npairs < MAX_PORTS) {
                lp->pair[lp->npairs][0] = a;
                lp->pair[lp->npairs++][1] = b;
            }
        }
    }
}

static bool lesson_wants(const struct lesson_ports *lp, int a, int b)
{
    for (int i = 0; i < lp->nbound; i++)
        if (lp->bound[i] == a || lp->bound[i] == b)
            return true;
    for (int i = 0; i < lp->npairs; i++)
        if ((lp->pair[i][0] == a && lp->pair[i][1] == b) ||
            (lp->pair[i][0] == b && lp->pair[i][1] == a))
            return true;
    return false;
}

static int visit(const struct diag_sock *d, void *arg)
{
    struct seen_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        if (cap > 65536)
            return 1;
        struct seen *n = realloc(l->v, cap * sizeof *n);
        if (n == NULL)
            return 1;
        l->v = n;
        l->cap = cap;
    }
    struct seen *x = &l->v[l->n];
    addr_format((const struct sockaddr *)&d->local, d->addrlen, x->local, sizeof x->local);
    x->peer[0] = '\0';
    int state = d->state == TCPS_NEW_SYN_RECV ? TCPS_SYN_RECEIVED : d->state;
    if (state != TCPS_LISTEN)
        addr_format((const struct sockaddr *)&d->peer, d->addrlen, x->peer, sizeof x->peer);
    if (!lesson_wants(l->lp, port_of(x->local), port_of(x->peer)))
        return 0;
    x->state = state;
    x->rq = (int)d->rqueue;
    x->wq = (int)d->wqueue;
    l->n++;
    return 0;
}

/* --- the wire ----------------------------------------------------------- */

/* The interfaces the viewer captures on: all of them ("any"), so that a
 * lesson talking to another host is seen too; loopback's second copy of
 * each packet is refused in the kernel (capture.h). */
#define CAPTURE_IFACE "any"

/* Start capturing on every interface. Until the lesson has a port, nothing
 * passes the filter; each new port widens it (follow_ports). Without the
 * right to capture, say so and go on without packets. */
static void start_capture(struct session *s)
{
    if (s->o->no_capture) {
        snprintf(s->wire, sizeof s->wire, "packets not captured (--no-capture)");
        return;
    }
    char err[400];
    snprintf(s->filter, sizeof s->filter, "port 0"); /* nothing until a port is known */
    /* Stepping, each packet is wanted at once: it may cause the transition
     * the next step shows. */
    int rc = capture_open(&s->cap, CAPTURE_IFACE, s->filter, 0, s->o->step, err, sizeof err);
    if (rc == -EPERM) {
        snprintf(s->wire, sizeof s->wire,
                 "no packets: capture needs CAP_NET_RAW: run as root, or "
                 "sudo setcap cap_net_raw+ep bin/sockscope, or sockscope run --sandbox "
                 "(a private user and network namespace: no privilege needed)");
        /* Said in the status line until a key is pressed; the wire pane
         * keeps saying it. */
        snprintf(s->status, sizeof s->status, "no packets: needs CAP_NET_RAW");
    } else if (rc != 0) {
        snprintf(s->wire, sizeof s->wire, "no packets: %.300s", err);
        snprintf(s->status, sizeof s->status, "no packets (see the wire pane)");
    } else {
        s->wire[0] = '\0';
    }
}

/* Widen the capture filter to the ports the lesson uses now. */
static void follow_ports(struct session *s)
{
    if (s->cap == NULL || s->filter_at == s->tl.len)
        return;
    s->filter_at = s->tl.len;
    struct lesson_ports lp;
    lesson_ports_of(&s->m, false, &lp);
    /* ICMP only for a program with sockets other than TCP's (UDP's
     * errors, a ping): a TCP lesson would see the host's unrelated ICMP. */
    bool icmp = false;
    for (int i = 0; i < s->m.nsocks && !icmp; i++)
        icmp = s->m.socks[i].sock[0] && !s->m.socks[i].kernel_only &&
               strcmp(s->m.socks[i].sock, "tcp") != 0 &&
               strncmp(s->m.socks[i].sock, "unix", 4) != 0;
    char f[sizeof s->filter];
    size_t len = (size_t)snprintf(f, sizeof f, "%s", icmp ? "icmp or icmp6" : "port 0");
    int ports[2 * MAX_PORTS + MAX_PORTS], n = 0;
    for (int i = 0; i < lp.nbound; i++)
        ports[n++] = lp.bound[i];
    for (int i = 0; i < lp.npairs; i++) {
        ports[n++] = lp.pair[i][0];
        ports[n++] = lp.pair[i][1];
    }
    for (int i = 0; i < n; i++) {
        bool dup = false;
        for (int k = 0; k < i; k++)
            dup = dup || ports[k] == ports[i];
        if (dup)
            continue;
        int w = snprintf(f + len, sizeof f - len, " or port %d", ports[i]);
        if (w < 0 || (size_t)w >= sizeof f - len)
            break; /* a filter this long holds the lesson's ports already */
        len += (size_t)w;
    }
    if (strcmp(f, s->filter) == 0)
        return;
    char err[300];
    if (capture_set_filter(s->cap, f, err, sizeof err) == 0)
        snprintf(s->filter, sizeof s->filter, "%s", f);
    else
        snprintf(s->status, sizeof s->status, "%.150s", err);
}

static void on_segment(const struct segment *seg, void *arg)
{
    struct session *s = arg;
    char flags[32] = "";
    if (seg->proto == IPPROTO_TCP)
        capture_flags_text(seg->flags, flags, sizeof flags);
    struct ev *e = ev_packet_of(seg, flags);
    if (e != NULL)
        append(s, e);
}

/* Write the packets into DIR/packets.pcap too. */
static void save_packets(struct session *s, const char *dir)
{
    if (s->cap == NULL || s->pcap_saved)
        return;
    char path[PATH_MAX + 32], err[300];
    snprintf(path, sizeof path, "%s/%s", dir, RECORD_PCAP);
    if (capture_save(s->cap, path, err, sizeof err) == 0)
        s->pcap_saved = true;
    else
        snprintf(s->status, sizeof s->status, "%.150s", err);
}

/* DIR/meta.json: what was recorded. */
static void write_meta(struct session *s, const char *dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, RECORD_META);
    json_t *o = json_object(), *av = json_array();
    if (o == NULL || av == NULL) {
        json_decref(o);
        json_decref(av);
        return;
    }
    for (int i = 0; s->o->argv[i] != NULL; i++)
        json_array_append_new(av, json_string(s->o->argv[i]));
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "created_ns", json_integer((json_int_t)real_ns()));
    json_object_set_new(o, "argv", av);
    json_object_set_new(o, "capture", s->pcap_saved ? json_string(CAPTURE_IFACE) : json_null());
    json_object_set_new(o, "note", s->wire[0] ? json_string(s->wire) : json_null());
    if (json_dump_file(o, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == -1)
        snprintf(s->status, sizeof s->status, "cannot write %.100s", path);
    json_decref(o);
}

static void poll_kernel(struct session *s)
{
    /* The ports of the lesson's TCP sockets: what the kernel holds on them
     * belongs to the lesson (or talks to it). */
    struct lesson_ports lp;
    lesson_ports_of(&s->m, true, &lp);
    if (lp.nbound == 0 && lp.npairs == 0)
        return;
    /* Ask the kernel only for sockets on those ports: a host may hold
     * thousands of others (TIME_WAIT after a large run), and copying them
     * all out four times a second would cost the viewer more than all
     * else it does while idle. Past DIAG_MAX_PORTS ports: every socket. */
    int ports[DIAG_MAX_PORTS], nports = 0;
    bool every = false;
    for (int i = 0; i < lp.nbound + lp.npairs && !every; i++) {
        int p = i < lp.nbound ? lp.bound[i] : lp.pair[i - lp.nbound][0];
        bool dup = false;
        for (int k = 0; k < nports && !dup; k++)
            dup = ports[k] == p;
        if (!dup && nports == DIAG_MAX_PORTS)
            every = true;
        else if (!dup)
            ports[nports++] = p;
    }
    struct seen_list l = {.lp = &lp};
    if (diag_dump_tcp_ports(AF_UNSPEC, ports, every ? 0 : nports, visit, &l) < 0) {
        free(l.v);
        return;
    }
    uint64_t now = real_ns();
    for (size_t k = 0; k < l.n; k++) {
        const struct seen *x = &l.v[k];
        bool matched = false, differs = false;
        for (int i = 0; i < s->m.nsocks; i++) {
            const struct msock *ms = &s->m.socks[i];
            if (strcmp(ms->local, x->local) != 0 || strcmp(ms->peer, x->peer) != 0)
                continue;
            if (!x->peer[0] && ms->state != TCPS_LISTEN && !ms->kernel_only)
                continue;
            matched = true;
            if (ms->state != x->state || ms->rxq != x->rq || ms->txq != x->wq)
                differs = true;
        }
        if (!matched || differs) {
            struct ev *e = ev_kernel_state(now, x->local, x->peer, x->state, x->rq, x->wq);
            if (e != NULL)
                append(s, e);
        }
    }
    /* Connections the kernel no longer holds are CLOSED. Each pass closes
     * one (the model changes under us), so the passes are bounded. */
    for (int i = 0, passes = 0; i < s->m.nsocks && passes < 1024; i++) {
        const struct msock *ms = &s->m.socks[i];
        if (!ms->peer[0] || strcmp(ms->sock, "tcp") != 0 || ms->state == TCPS_CLOSED ||
            ms->state == TCPS_NONE || ms->state == TCPS_SYN_SENT)
            continue;
        bool found = false;
        for (size_t k = 0; k < l.n && !found; k++)
            found = strcmp(ms->local, l.v[k].local) == 0 && strcmp(ms->peer, l.v[k].peer) == 0;
        if (!found) {
            char local[ADDR_STRLEN], peer[ADDR_STRLEN];
            snprintf(local, sizeof local, "%s", ms->local);
            snprintf(peer, sizeof peer, "%s", ms->peer);
            struct ev *e = ev_kernel_state(now, local, peer, TCPS_CLOSED, -1, -1);
            if (e != NULL)
                append(s, e);
            i = -1;
            passes++;
        }
    }
    free(l.v);
}

/* --- running the program ------------------------------------------------- */

static const char *preload_lib(char *buf, size_t size)
{
    const char *env = getenv("SOCKSCOPE_PRELOAD_LIB");
    if (env != NULL && *env != '\0')
        return env;
    char dir[PATH_MAX];
    if (self_dir(dir, sizeof dir) == NULL)
        return NULL;
    static const char *const rel[] = {"../build/libsockscope-preload.so",
                                      "../libsockscope-preload.so", "libsockscope-preload.so"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(buf, size, "%s/%s", dir, rel[i]);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    return NULL;
}

static int start_child(struct session *s, char *err, size_t errsize)
{
    char lib[PATH_MAX + 64];
    const char *preload = NULL;
    if (s->o->preload) {
        preload = preload_lib(lib, sizeof lib);
        if (preload == NULL) {
            snprintf(err, errsize,
                     "cannot find libsockscope-preload.so next to this program "
                     "(../build/); set SOCKSCOPE_PRELOAD_LIB to its path");
            return -1;
        }
    }
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    /* Report an exec failure through a pipe closed on a successful exec. */
    int p[2];
    if (pipe2(p, O_CLOEXEC) == -1) {
        snprintf(err, errsize, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    s->child = forkpty(&s->master, NULL, NULL, &ws);
    if (s->child == -1) {
        snprintf(err, errsize, "cannot start the program on a pseudo-terminal: %s",
                 strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (s->child == 0) {
        close(p[0]);
        setenv("SOCKSCOPE_SOCKET", s->path, 1);
        if (s->o->step)
            setenv("SOCKSCOPE_STEP", "1", 1);
        else
            unsetenv("SOCKSCOPE_STEP");
        unsetenv("SOCKSCOPE_ROOT_PID");
        if (preload != NULL) {
            const char *old = getenv("LD_PRELOAD");
            char both[2 * PATH_MAX + 64];
            snprintf(both, sizeof both, "%s%s%s", old && *old ? old : "", old && *old ? " " : "",
                     preload);
            setenv("LD_PRELOAD", both, 1);
        }
        signal(SIGPIPE, SIG_DFL);
        execvp(s->o->argv[0], s->o->argv);
        int e = errno;
        if (write(p[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    cleanup_pgid = s->child;
    close(p[1]);
    int e = 0;
    ssize_t n;
    do {
        n = read(p[0], &e, sizeof e);
    } while (n == -1 && errno == EINTR);
    close(p[0]);
    if (n == (ssize_t)sizeof e) {
        snprintf(err, errsize, "cannot run %s: %s", s->o->argv[0], strerror(e));
        waitpid(s->child, NULL, 0);
        s->child_done = true;
        cleanup_pgid = 0;
        return -1;
    }
    fcntl(s->master, F_SETFD, FD_CLOEXEC);
    fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
    return 0;
}

static void check_child(struct session *s)
{
    if (s->child_done || s->child <= 0)
        return;
    int st;
    pid_t r = waitpid(s->child, &st, WNOHANG);
    if (r != s->child)
        return;
    s->child_done = true;
    s->child_status = st;
    char text[128];
    if (WIFEXITED(st))
        snprintf(text, sizeof text, "the program ended (exit %d)", WEXITSTATUS(st));
    else
        snprintf(text, sizeof text, "the program was ended by signal %d (%s)%s", WTERMSIG(st),
                 strsignal(WTERMSIG(st)), WCOREDUMP(st) ? ", core dumped" : "");
    note(s, text);
    snprintf(s->status, sizeof s->status, "%s; q leaves", text);
}

static void end_child(struct session *s)
{
    if (s->child <= 0)
        return;
    /* The program's whole process group: the lesson and what it forked. */
    kill(-s->child, SIGTERM);
    uint64_t deadline = mono_ns() + 1000000000ull;
    while (!s->child_done && mono_ns() < deadline) {
        int st;
        pid_t r = waitpid(s->child, &st, WNOHANG);
        if (r == s->child) {
            s->child_done = true;
            break;
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    kill(-s->child, SIGKILL);
    if (!s->child_done) {
        waitpid(s->child, NULL, 0);
        s->child_done = true;
    }
    cleanup_pgid = 0;
}

/* --- drawing ------------------------------------------------------------- */

static void write_dump(const struct session *s)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->o->dump_path);
    FILE *f = fopen(tmp, "we");
    if (f == NULL)
        return;
    grid_dump(&s->g, f);
    if (fclose(f) == 0)
        rename(tmp, s->o->dump_path);
}

static void update_mode(struct session *s)
{
    if (s->child_done)
        snprintf(s->mode, sizeof s->mode, "ended");
    else if (!s->o->step)
        snprintf(s->mode, sizeof s->mode, "live");
    else if (s->running)
        snprintf(s->mode, sizeof s->mode, "step: running");
    else
        snprintf(s->mode, sizeof s->mode, "step: paused");
    s->v.mode = s->mode;
    s->v.speed_ms = s->o->step ? speeds_ms[s->speed] : -1;
    int w = oldest_waiting(s);
    s->v.next = w >= 0 ? s->conns[w].step_idx : -1;
    const struct ev *shown = NULL;
    if (s->v.next >= 0)
        shown = s->tl.ev[s->v.next];
    else if (s->m.last_call >= 0)
        shown = s->tl.ev[s->m.last_call];
    s->v.src_text = shown ? source_line_text(&s->src, shown->src) : NULL;
    s->v.status = s->status[0] ? s->status : NULL;
    s->v.wire = s->wire[0] ? s->wire : NULL;
    out_view(s);
}

static void redraw(struct session *s)
{
    int rows, cols;
    tty_size(&rows, &cols);
    if (rows != s->g.rows || cols != s->g.cols) {
        grid_free(&s->g);
        if (grid_init(&s->g, rows, cols, tty_unicode()) == -1)
            return;
        s->full = true;
    }
    update_mode(s);
    s->v.now_ns = real_ns();
    draw_screen(&s->g, &s->tl, &s->m, &s->v);
    tty_show(&s->g, s->full);
    if (s->o->dump_path != NULL)
        write_dump(s);
    s->full = false;
    s->dirty = false;
    s->last_draw = mono_ns();
    if (s->samples != NULL) {
        uint64_t now = real_ns();
        for (size_t i = 0; i < s->npending && s->nsamples < MAX_SAMPLES; i++)
            s->samples[s->nsamples++] = now > s->pending_ts[i] ? now - s->pending_ts[i] : 0;
        s->npending = 0;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* SOCKSCOPE_VIEWER_STATS=FILE: the delay from each call's event to the
 * screen showing it, for the benchmark. */
static void write_stats(struct session *s)
{
    const char *path = getenv("SOCKSCOPE_VIEWER_STATS");
    if (path == NULL || s->samples == NULL)
        return;
    FILE *f = fopen(path, "we");
    if (f == NULL)
        return;
    qsort(s->samples, s->nsamples, sizeof s->samples[0], cmp_u64);
    size_t n = s->nsamples;
    double med = n ? s->samples[n / 2] / 1e6 : 0, p99 = n ? s->samples[n * 99 / 100] / 1e6 : 0,
           max = n ? s->samples[n - 1] / 1e6 : 0;
    fprintf(f, "events %zu median_ms %.3f p99_ms %.3f max_ms %.3f dropped %llu\n", n, med, p99, max,
            (unsigned long long)s->m.dropped);
    fclose(f);
}

/* --- keys ---------------------------------------------------------------- */

static void select_sock(struct session *s, int delta)
{
    int vis[512];
    int n = draw_visible_socks(&s->m, vis, 512);
    if (n == 0)
        return;
    int cur = s->v.sel >= 0 ? s->v.sel : s->m.trans_sock;
    int pos = -1;
    for (int i = 0; i < n; i++)
        if (vis[i] == cur)
            pos = i;
    pos = pos < 0 ? 0 : (pos + delta + n) % n;
    s->v.sel = vis[pos];
}

/* Returns false when the key means quit. */
static bool on_key(struct session *s, int k)
{
    s->dirty = true;
    if (s->v.help && k != KEY_RESIZE) {
        s->v.help = 0;
        return true;
    }
    s->status[0] = '\0';
    switch (k) {
    case 'q':
    case 'Q': return false;
    case 'n':
    case ' ':
    case '\r':
    case '\n':
        if (!answer_one(s, "go"))
            snprintf(s->status, sizeof s->status,
                     s->o->step ? "no call is waiting" : "not in step mode (sockscope run --step)");
        break;
    case 'c':
        s->running = true;
        s->last_auto = 0;
        break;
    case 'p': s->running = false; break;
    case '+':
    case '=':
        if (s->speed > 0)
            s->speed--;
        break;
    case '-':
    case '_':
        if (s->speed < NSPEEDS - 1)
            s->speed++;
        break;
    case '\t':
    case KEY_RIGHT:
    case KEY_DOWN: select_sock(s, 1); break;
    case KEY_BTAB:
    case KEY_LEFT:
    case KEY_UP: select_sock(s, -1); break;
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6': s->v.maximized = s->v.maximized == k - '1' ? PANE_NONE : k - '1'; break;
    case '0':
    case 27: s->v.maximized = PANE_NONE; break;
    case KEY_PPAGE: s->v.log_scroll += 5; break;
    case KEY_NPAGE: s->v.log_scroll = s->v.log_scroll > 5 ? s->v.log_scroll - 5 : 0; break;
    case KEY_END: s->v.log_scroll = 0; break;
    case KEY_HOME: s->v.log_scroll = (int)(s->tl.len < 1000000 ? s->tl.len : 1000000); break;
    case '?':
    case 'h': s->v.help = 1; break;
    case 'r': toggle_recording(s); return true;
    case 's': answer_selected(s); break;
    case KEY_RESIZE: s->full = true; break;
    default: break;
    }
    return true;
}

/* --- the loop ------------------------------------------------------------ */

static volatile sig_atomic_t quit_asked, quit_signal;

static void on_quit_signal(int sig)
{
    quit_asked = 1;
    quit_signal = sig;
}

int live_quit_signal(void)
{
    return quit_signal;
}

static void session_free(struct session *s)
{
    for (int i = 0; i < s->nconns; i++) {
        ring_close(&s->conns[i].ring);
        close(s->conns[i].fd);
    }
    s->nconns = 0;
    if (s->lfd != -1)
        close(s->lfd);
    if (s->master != -1)
        close(s->master);
    if (s->path[0])
        unlink(s->path);
    if (s->dir[0])
        rmdir(s->dir);
    cleanup_path[0] = '\0';
    cleanup_dir[0] = '\0';
    timeline_free(&s->tl);
    model_free(&s->m);
    grid_free(&s->g);
    if (s->rec_fd != -1)
        close(s->rec_fd);
    if (s->cap != NULL)
        capture_close(s->cap);
    s->cap = NULL;
    free(s->pending_ts);
    free(s->samples);
}

int live_run(const struct live_opts *o, char *err, size_t errsize)
{
    struct session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errsize, "out of memory");
        return 1;
    }
    s->o = o;
    s->lfd = s->master = -1;
    s->rec_fd = -1;
    s->speed = 4;
    model_init(&s->m);
    view_init(&s->v);
    snprintf(s->title, sizeof s->title, "%s", o->title ? o->title : o->argv[0]);
    s->v.title = s->title;
    if (getenv("SOCKSCOPE_VIEWER_STATS") != NULL)
        s->samples = malloc(MAX_SAMPLES * sizeof *s->samples);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_quit_signal;
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term, old_hup;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    quit_asked = 0;
    quit_signal = 0;

    int rc = 0;
    start_capture(s);
    if (o->record_dir != NULL && start_recording(s, o->record_dir) == -1) {
        snprintf(err, errsize, "%s", s->status);
        rc = 1;
        goto out;
    }
    if (open_socket(s, err, errsize) == -1 || start_child(s, err, errsize) == -1) {
        rc = 1;
        goto out;
    }
    s->started = mono_ns();
    for (const char *k = o->keys; k != NULL && *k; k++)
        on_key(s, (unsigned char)*k);
    s->full = true;
    redraw(s);

    /* Until the user quits; every wait below is bounded by a timeout. */
    for (;;) {
        if (quit_asked)
            break;
        struct pollfd pf[MAX_CONNS + 4];
        int n = 0;
        pf[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
        uint64_t now = mono_ns();
        bool resting = now < s->rest_until;
        /* While resting, packets wait in the capture's ring as events do
         * in their sockets: a packet that found the viewer asleep in
         * poll() would wake it, in the sending program's time. */
        int cap_at = -1;
        if (s->cap != NULL && !resting) {
            cap_at = n;
            pf[n++] = (struct pollfd){.fd = capture_fd(s->cap), .events = POLLIN};
        }
        int master_at = -1;
        if (s->master != -1) {
            master_at = n;
            pf[n++] = (struct pollfd){.fd = s->master, .events = POLLIN};
        }
        int conn0 = n;
        if (!resting)
            for (int i = 0; i < s->nconns; i++)
                pf[n++] = (struct pollfd){.fd = s->conns[i].fd, .events = POLLIN};

        int64_t wait = 1000; /* ms */
        if (resting)
            wait = (int64_t)(s->rest_until - now) / 1000000 + 1;
        if (draw_animating(&s->tl, &s->m, real_ns())) {
            s->dirty = true;
            /* Smooth enough for an arrow crossing the wire. */
            if (wait > 40)
                wait = 40;
        }
        if (s->dirty) {
            int64_t left = (int64_t)(s->last_draw + FRAME_NS) - (int64_t)now;
            int64_t ms = left > 0 ? left / 1000000 + 1 : 0;
            if (ms < wait)
                wait = ms;
        }
        bool tcp = false;
        for (int i = 0; i < s->m.nsocks && !tcp; i++)
            tcp = strcmp(s->m.socks[i].sock, "tcp") == 0;
        if (tcp) {
            bool idle = s->tl.len == s->diag_len && now >= s->last_change + IDLE_NS;
            int64_t left = (int64_t)(s->last_diag + (idle ? IDLE_DIAG_NS : DIAG_NS)) - (int64_t)now;
            int64_t ms = left > 0 ? left / 1000000 + 1 : 0;
            if (ms < wait)
                wait = ms;
        }
        if (s->running && oldest_waiting(s) >= 0) {
            int64_t left =
                (int64_t)(s->last_auto + (uint64_t)speeds_ms[s->speed] * 1000000ull) - (int64_t)now;
            int64_t ms = left > 0 ? left / 1000000 + 1 : 0;
            if (ms < wait)
                wait = ms;
        }
        if (!s->child_done && wait > 250)
            wait = 250; /* to notice the program's end */
        /* Events in a ring wake no one: while not resting, ask for a
         * doorbell before sleeping, or do not sleep when some wait. */
        bool asked = !resting && wait > 0;
        if (asked && !rings_sleep(s))
            wait = 0;
        int r = poll(pf, (nfds_t)n, (int)wait);
        if (r == -1 && errno != EINTR)
            break;
        if (asked)
            rings_awake(s);

        if (r > 0 && (pf[1].revents & POLLIN))
            accept_conns(s);
        size_t before = s->tl.len;
        /* A capture keeping packets trimmed is also read when nothing
         * came, so that it goes back to whole packets once calm. */
        bool trimming = false;
        if (s->cap != NULL)
            capture_trimmed(s->cap, &trimming);
        if (cap_at >= 0 && ((r > 0 && (pf[cap_at].revents & POLLIN)) || trimming) &&
            capture_poll(s->cap, on_segment, s) < 0) {
            snprintf(s->wire, sizeof s->wire, "capture stopped: cannot read packets");
            capture_close(s->cap);
            s->cap = NULL;
        }
        if (s->cap != NULL) {
            bool now_trims;
            capture_trimmed(s->cap, &now_trims);
            if (now_trims != trimming)
                note(s, now_trims ? "packets come fast: the capture keeps the first 256 bytes "
                                    "of each (headers and the start of the payload)"
                                  : "the capture keeps whole packets again");
        }
        /* Rings first, then connections, each in a bounded batch, so a
         * flood from one process cannot starve the keyboard or the screen. */
        if (!resting)
            for (int i = 0; i < s->nconns; i++)
                drain_ring(s, i, 256 * 1024);
        if (r > 0)
            for (int i = s->nconns - 1; i >= 0; i--) {
                if (conn0 + i >= n)
                    continue;
                if (pf[conn0 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
                    if (!read_conn(s, i, 256))
                        drop_conn(s, i);
                }
            }
        /* Many at once: the program is busy; let it run a while before
         * reading again. Even a few: waking for each event would take the
         * CPU the program runs on (its ring, the capture's and the sockets
         * hold some milliseconds). A step waiting for its go is answered
         * first. */
        size_t got = s->tl.len - before;
        if (got > 0 && oldest_waiting(s) < 0)
            s->rest_until = mono_ns() + (got >= 8 ? REST_NS : SHORT_REST_NS);
        if (r > 0) {
            if (master_at >= 0 && (pf[master_at].revents & (POLLIN | POLLHUP | POLLERR))) {
                char buf[4096];
                ssize_t got = read(s->master, buf, sizeof buf);
                if (got > 0)
                    out_feed(s, buf, (size_t)got);
                else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    close(s->master);
                    s->master = -1;
                }
            }
        }
        bool quit = false;
        for (int k; !quit && (k = tty_key()) != -1;)
            quit = !on_key(s, k);
        if (quit)
            break;
        check_child(s);
        follow_ports(s);

        now = mono_ns();
        /* A program the preload library cannot enter (static, setuid)
         * never connects: say why nothing shows. */
        if (!s->hinted && s->tl.len == s->m.nout && now > s->started + 3000000000ull) {
            s->hinted = true;
            if (s->m.nprocs == 0) {
                snprintf(s->status, sizeof s->status,
                         "no traced process has connected: a static or setuid program "
                         "cannot be traced by preloading");
                s->dirty = true;
            }
        }
        if (s->tl.len != s->diag_len) {
            s->diag_len = s->tl.len;
            s->last_change = now;
        }
        bool idle = now >= s->last_change + IDLE_NS;
        if (tcp && now >= s->last_diag + (idle ? IDLE_DIAG_NS : DIAG_NS)) {
            poll_kernel(s);
            s->last_diag = now;
        }
        if (s->running) {
            /* Run on: a go for each waiting step, at the chosen speed. */
            for (int k = 0; k < 64 && oldest_waiting(s) >= 0; k++) {
                uint64_t gap = (uint64_t)speeds_ms[s->speed] * 1000000ull;
                if (now < s->last_auto + gap)
                    break;
                answer_one(s, "go");
                s->last_auto = now;
            }
        }
        if (s->dirty && mono_ns() >= s->last_draw + FRAME_NS)
            redraw(s);
    }

out:
    end_child(s);
    check_child(s);
    /* What the processes left in their rings and sockets, for the
     * recording. */
    for (int i = s->nconns - 1; i >= 0; i--)
        if (!read_conn(s, i, 1024))
            drop_conn(s, i);
    for (int i = 0; i < s->nconns; i++)
        drain_ring(s, i, RING_DATA);
    /* The last packets, the FIN exchange of a quick end among them. */
    if (s->cap != NULL)
        capture_drain(s->cap, on_segment, s);
    write_stats(s);
    session_free(s);
    free(s);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return rc;
}
