/* trace.c: sinks for trace events; see trace.h. */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "quiet.h"
#include "ring.h"

struct trace_state trace_g = {.file_fd = -1, .viewer_fd = -1};

/*
 * Events wait here, so that a send and the recv after it cost one write()
 * to a file and one message to a viewer, done while the process waits
 * anyway, instead of one each per call on the path of every round trip.
 * Only the events of sends and receives wait; they are written before the
 * process next makes a call that may wait (trace_flush from the
 * interposer), with any other event (which goes at once), before fork, at
 * exit, once the oldest is PENDING_MAX_NS old, or when the buffer is full.
 */
#define PENDING_MAX_NS 10000000ull /* 10 ms */
static struct {
    pthread_mutex_t lock;
    char buf[TRACE_BATCH_MAX];
    size_t len;
    unsigned lines;
    uint64_t since_ns; /* the time of the oldest waiting line */
} pending = {.lock = PTHREAD_MUTEX_INITIALIZER};

static __thread char role_buf[17];
static bool viewer_wanted;

/* The events' ring shared with the viewer (ring.h), when it took one. */
static struct ring ring = {.fd = -1};
static bool ring_on;

uint64_t trace_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The name is asked once and kept until the program renames itself
 * (prctl(PR_SET_NAME), which the interposer sees) or forks. */
static __thread bool role_known;

const char *trace_role(void)
{
    if (!role_known) {
        if (prctl(PR_GET_NAME, role_buf, 0, 0, 0) == -1)
            snprintf(role_buf, sizeof role_buf, "?");
        role_known = true;
    }
    return role_buf;
}

void trace_role_changed(void)
{
    role_known = false;
}

/* The tracer's own fds live high, so the lesson's first socket is fd 3
 * as the student expects. */
#define SINK_FD_MIN 200

static int move_high(int fd)
{
    if (fd == -1 || fd >= SINK_FD_MIN)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, SINK_FD_MIN);
    if (high == -1)
        return fd;
    close(fd);
    return high;
}

static int open_file_sink(const char *path, bool truncate)
{
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
    int fd = open(path, flags, 0600);
    if (fd == -1)
        fprintf(stderr, "sockscope: cannot write the trace to %s: %s\n", path, strerror(errno));
    return move_high(fd);
}

/* Hand the viewer a ring for the events (ring.h). Without one (no memfd,
 * an old viewer), events go in messages on the socket. */
static void offer_ring(int fd)
{
    ring_on = false;
    if (ring_create(&ring) == -1)
        return;
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {.iov_base = (void *)RING_HELLO, .iov_len = sizeof RING_HELLO - 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &ring.fd, sizeof(int));
    ssize_t n;
    do {
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    } while (n == -1 && errno == EINTR);
    /* The mapping stays; the fd number goes back to the program. */
    close(ring.fd);
    ring.fd = -1;
    if (n == -1)
        ring_close(&ring);
    else
        ring_on = true;
}

static int connect_viewer(const char *path)
{
    int fd = -1;
    quiet_begin();
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        goto out;
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd == -1)
        goto out;
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
        close(fd);
        fd = -1;
        goto out;
    }
    /* Room for the batches of a busy program while the viewer rests
     * between reads (its messages are charged to this side); the kernel
     * caps it at net.core.wmem_max. */
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    fd = move_high(fd);
    offer_ring(fd);
out:
    quiet_end();
    return fd;
}

/* Find `--step` and `--trace FILE` (or --trace=FILE) in a lesson's
 * arguments. The lesson's own option parser accepts and skips them. */
static void scan_args(int argc, char **argv, bool *step, const char **file)
{
    for (int i = 1; i < argc && argv[i] != NULL; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--step") == 0)
            *step = true;
        else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc)
            *file = argv[++i];
        else if (strncmp(argv[i], "--trace=", 8) == 0)
            *file = argv[i] + 8;
    }
}

void trace_setup(int argc, char **argv, bool linked)
{
    bool step = false;
    const char *file = NULL;
    if (linked && argv != NULL)
        scan_args(argc, argv, &step, &file);

    const char *env = getenv("SOCKSCOPE_STEP");
    if (env != NULL && *env != '\0' && strcmp(env, "0") != 0)
        step = true;

    /* The first traced process of a session is its root: quitting step
     * mode ends it, and its children with it. */
    const char *root = getenv("SOCKSCOPE_ROOT_PID");
    bool is_root = root == NULL || atoi(root) == 0;
    trace_g.pid = getpid();
    trace_g.ppid = getppid();
    trace_g.root_pid = is_root ? trace_g.pid : (pid_t)atoi(root);
    if (is_root) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", (int)trace_g.pid);
        setenv("SOCKSCOPE_ROOT_PID", buf, 1);
    }

    /* `--trace FILE` starts a new trace; SOCKSCOPE_TRACE appends, so that
     * several programs (a server and a client) can share one file. */
    bool truncate = false;
    if (file != NULL) {
        truncate = is_root;
        /* Programs this one runs trace into the same file. */
        setenv("SOCKSCOPE_TRACE", file, 1);
    } else {
        file = getenv("SOCKSCOPE_TRACE");
        if (file != NULL && *file == '\0')
            file = NULL;
    }
    if (step)
        setenv("SOCKSCOPE_STEP", "1", 1);

    if (file != NULL && trace_g.file_fd == -1)
        trace_g.file_fd = open_file_sink(file, truncate);

    const char *sock = getenv("SOCKSCOPE_SOCKET");
    if (sock != NULL && *sock != '\0' && strlen(sock) < sizeof trace_g.viewer_path) {
        snprintf(trace_g.viewer_path, sizeof trace_g.viewer_path, "%s", sock);
        viewer_wanted = true;
        if (trace_g.viewer_fd == -1)
            trace_g.viewer_fd = connect_viewer(sock);
    }
    trace_g.step = step;
    trace_g.active = step || trace_g.file_fd != -1 || viewer_wanted;
}

void trace_after_fork_child(void)
{
    pthread_mutex_init(&pending.lock, NULL);
    pending.len = 0;
    pending.lines = 0;
    role_known = false;
    trace_g.pid = getpid();
    trace_g.ppid = getppid();
    trace_g.seq = 0;
    trace_g.dropped = 0;
    if (ring.h != NULL) {
        /* The parent's ring is the parent's: the child gets its own. */
        ring_close(&ring);
        ring_on = false;
    }
    if (trace_g.viewer_fd != -1) {
        /* The parent's connection is the parent's: step mode answers
         * each process on its own connection. */
        quiet_begin();
        close(trace_g.viewer_fd);
        quiet_end();
        trace_g.viewer_fd = -1;
    }
    if (viewer_wanted)
        trace_g.viewer_fd = connect_viewer(trace_g.viewer_path);
}

int trace_viewer_fd(void)
{
    return trace_g.viewer_fd;
}

static void write_all(int fd, const char *buf, size_t len)
{
    /* A file write of one short line completes at once; bound the loop. */
    for (int tries = 0; len > 0 && tries < 100; tries++) {
        ssize_t n = write(fd, buf, len);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* Hand `len` bytes of whole lines (`lines` of them) to the viewer as one
 * message. `wait`: block until it is taken (a step event, which the
 * viewer must see to answer); else a full socket drops them, counted. */
static void viewer_send(const char *buf, size_t len, unsigned lines, bool wait)
{
    if (trace_g.viewer_fd == -1) {
        if (viewer_wanted)
            trace_g.dropped += lines;
        return;
    }
    ssize_t n;
    do {
        n = send(trace_g.viewer_fd, buf, len, MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
    } while (n == -1 && errno == EINTR);
    if (n == -1) {
        trace_g.dropped += lines;
        if (errno != EAGAIN) {
            /* The viewer went away: stop trying. */
            close(trace_g.viewer_fd);
            trace_g.viewer_fd = -1;
            if (ring.h != NULL)
                ring_close(&ring);
            ring_on = false;
        }
    }
}

/* One event line for the viewer's ring; a doorbell when it sleeps. */
static void ring_send(const char *line, size_t len)
{
    int rc = ring_put(&ring, line, len);
    if (rc < 0) {
        trace_g.dropped++;
    } else if (rc > 0) {
        ssize_t n;
        do {
            n = send(trace_g.viewer_fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        } while (n == -1 && errno == EINTR);
        if (n == -1 && errno != EAGAIN) {
            close(trace_g.viewer_fd);
            trace_g.viewer_fd = -1;
            ring_close(&ring);
            ring_on = false;
        }
    }
}

static void flush_locked(bool wait)
{
    if (pending.len > 0) {
        if (trace_g.file_fd != -1)
            write_all(trace_g.file_fd, pending.buf, pending.len);
        if ((trace_g.viewer_fd != -1 || viewer_wanted) && !ring_on)
            viewer_send(pending.buf, pending.len, pending.lines, wait);
    }
    pending.len = 0;
    pending.lines = 0;
}

void trace_flush(void)
{
    if (pending.len == 0)
        return;
    int saved = errno;
    quiet_begin();
    pthread_mutex_lock(&pending.lock);
    flush_locked(false);
    pthread_mutex_unlock(&pending.lock);
    quiet_end();
    errno = saved;
}

/* Calls that only move bytes: their events may wait for the next flush. */
static bool may_wait_in_buffer(const struct event *e)
{
    static const char *const data[] = {"send", "sendto",   "sendmsg", "write",
                                       "recv", "recvfrom", "recvmsg", "read"};
    if (e->kind == NULL || strcmp(e->kind, "call") != 0 || e->call == NULL)
        return false;
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++)
        if (strcmp(e->call, data[i]) == 0)
            return true;
    return false;
}

/* Every sink's lines go through the same buffer: a file gets them in one
 * write(), a viewer in one message (which it splits into lines). */
static void sinks_put(const struct event *e, const char *line, size_t len)
{
    bool step = strcmp(e->kind, "step") == 0;
    pthread_mutex_lock(&pending.lock);
    if (ring_on) {
        /* The viewer takes events from the ring when it likes; a step
         * event, which waits for its answer, goes on the socket, after
         * every event before it is in the ring. */
        if (step)
            viewer_send(line, len, 1, true);
        else
            ring_send(line, len);
        if (trace_g.file_fd == -1) {
            pthread_mutex_unlock(&pending.lock);
            return;
        }
    }
    if (pending.len + len > sizeof pending.buf)
        flush_locked(false);
    if (pending.len == 0)
        pending.since_ns = e->ts_ns;
    memcpy(pending.buf + pending.len, line, len); /* len <= EVENT_MAX < the buffer */
    pending.len += len;
    pending.lines++;
    if (step || !may_wait_in_buffer(e) || e->ts_ns - pending.since_ns > PENDING_MAX_NS)
        flush_locked(step);
    pthread_mutex_unlock(&pending.lock);
}

void trace_emit(struct event *e)
{
    int saved = errno;
    quiet_begin();
    e->seq = ++trace_g.seq;
    if (e->ts_ns == 0)
        e->ts_ns = trace_now_ns();
    e->pid = trace_g.pid;
    e->ppid = trace_g.ppid;
    if (e->role == NULL)
        e->role = trace_role();
    e->dropped = trace_g.dropped;

    char line[EVENT_MAX];
    size_t len = event_encode(e, line, sizeof line);

    if (trace_g.file_fd != -1 || trace_g.viewer_fd != -1 || viewer_wanted)
        sinks_put(e, line, len);
    quiet_end();
    errno = saved;
}

void trace_note(const char *text)
{
    struct event e;
    event_init(&e);
    e.kind = "note";
    e.text = text;
    trace_emit(&e);
}

void trace_finish(void)
{
    if (!trace_g.active)
        return;
    trace_flush();
    if (trace_g.dropped > 0) {
        char text[96];
        snprintf(text, sizeof text, "the viewer could not take %llu events",
                 (unsigned long long)trace_g.dropped);
        trace_note(text);
    }
}
