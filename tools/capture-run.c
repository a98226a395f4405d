/*
 * capture-run: run a program while capturing its packets.
 *
 *   capture-run [--sandbox] [--iface IF] [--filter EXPR] [--pcap FILE]
 *               [--segments FILE] [--record DIR] [--snaplen N] -- PROGRAM [ARGS...]
 *
 * Starts a capture (libpcap, common/capture.h) on --iface, by default
 * "any" as the viewer does (loopback and every interface the program may
 * use), runs PROGRAM, and keeps capturing until it ends and the wire is
 * quiet. Every segment goes to --segments as one JSON line (ts_ns, proto,
 * src, dst, flags, seq, ack, win, len: seq and ack relative, as Wireshark
 * shows them), loopback's duplicates shown once; every packet goes to
 * --pcap as captured. With --sandbox, the capture and the program run in
 * a private user and network namespace (common/sandbox.h), so no host
 * privilege is needed.
 *
 * --record DIR writes a recording (docs/recording-format.md): the trace of
 * the program's processes, its packets, and the TCP states the kernel
 * reports through sock_diag as they change (TIME_WAIT after close), merged
 * in time order. Without the right to capture, it records without packets
 * and says so.
 *
 * Exits with the program's status; 2 on bad usage, 3 when the capture
 * cannot start. Used by the tests and benchmarks; the viewer does the
 * same in its sandbox mode.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "diag.h"
#include "record.h"
#include "sandbox.h"
#include "sockstate.h"

static FILE *seg_out;
static unsigned long segments;

/* --record: the entries made here (packets, kernel states), merged with the
 * program's trace at the end. */
struct pending {
    uint64_t ts_ns;
    size_t order;
    char *line;
};
static struct pending *pend;
static size_t npend, cappend;

static void keep(uint64_t ts_ns, const char *line)
{
    if (npend == cappend) {
        size_t n = cappend ? cappend * 2 : 1024;
        struct pending *p = realloc(pend, n * sizeof *p);
        if (p == NULL)
            return;
        pend = p;
        cappend = n;
    }
    pend[npend] = (struct pending){.ts_ns = ts_ns, .order = npend, .line = strdup(line)};
    if (pend[npend].line != NULL)
        npend++;
}

static int recording;

static void on_segment(const struct segment *s, void *arg)
{
    (void)arg;
    segments++;
    if (recording) {
        char line[1024];
        if (record_segment_json(s, s->frame, line, sizeof line))
            keep(s->ts_ns, line);
    }
    if (seg_out == NULL)
        return;
    char f[32];
    fprintf(seg_out,
            "{\"ts_ns\":%llu,\"proto\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\",\"flags\":\"%s\","
            "\"seq\":%u,\"ack\":%u,\"win\":%u,\"len\":%u,\"ttl\":%u",
            (unsigned long long)s->ts_ns,
            s->proto == 6    ? "tcp"
            : s->proto == 17 ? "udp"
            : s->proto == 1  ? "icmp"
                             : "icmpv6",
            s->src, s->dst, s->proto == 6 ? capture_flags_text(s->flags, f, sizeof f) : "",
            s->rel_seq, s->rel_ack, s->window, s->len, s->ttl);
    if (s->proto == 1 || s->proto == 58)
        fprintf(seg_out, ",\"icmp_type\":%u,\"icmp_code\":%u,\"icmp_id\":%u,\"icmp_seq\":%u",
                s->icmp_type, s->icmp_code, s->icmp_id, s->icmp_seq);
    fprintf(seg_out, "}\n");
}

/* The kernel's TCP states, asked every few milliseconds: an entry each time
 * a connection's state changes or it disappears. */
#define KSTATE_MAX 512
struct kstate {
    char local[ADDR_STRLEN], peer[ADDR_STRLEN];
    int state;
    int seen; /* in the latest dump */
};
static struct kstate kst[KSTATE_MAX];
static size_t nkst;
static int poll_round;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void kstate_entry(const char *local, const char *peer, int state, unsigned rq, unsigned wq,
                         unsigned inode)
{
    char line[512];
    uint64_t ts = now_ns();
    snprintf(line, sizeof line,
             "{\"v\":1,\"kind\":\"kstate\",\"ts_ns\":%llu,\"local\":\"%s\",\"peer\":\"%s\","
             "\"state\":\"%s\",\"rxq\":%u,\"txq\":%u,\"inode\":%u}",
             (unsigned long long)ts, local, peer,
             tcp_state_name(state) ? tcp_state_name(state) : "CLOSED", rq, wq, inode);
    keep(ts, line);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_kernel_socket(const struct diag_sock *d, void *arg)
{
    (void)arg;
    char local[ADDR_STRLEN], peer[ADDR_STRLEN];
    addr_format((const struct sockaddr *)&d->local, d->addrlen, local, sizeof local);
    addr_format((const struct sockaddr *)&d->peer, d->addrlen, peer, sizeof peer);
    int state = d->state == TCPS_NEW_SYN_RECV ? TCPS_SYN_RECEIVED : d->state;
    for (size_t i = 0; i < nkst; i++) {
        if (strcmp(kst[i].local, local) == 0 && strcmp(kst[i].peer, peer) == 0) {
            kst[i].seen = poll_round;
            if (kst[i].state != state) {
                kst[i].state = state;
                kstate_entry(local, peer, state, d->rqueue, d->wqueue, d->inode);
            }
            return 0;
        }
    }
    if (nkst < KSTATE_MAX) {
        struct kstate *k = &kst[nkst++];
        snprintf(k->local, sizeof k->local, "%s", local);
        snprintf(k->peer, sizeof k->peer, "%s", peer);
        k->state = state;
        k->seen = poll_round;
        kstate_entry(local, peer, state, d->rqueue, d->wqueue, d->inode);
    }
    return 0;
}

static void poll_kernel(void)
{
    poll_round++;
    diag_dump_tcp(AF_UNSPEC, 0, on_kernel_socket, NULL);
    for (size_t i = 0; i < nkst; i++) {
        if (kst[i].seen != poll_round && kst[i].state != TCPS_CLOSED) {
            /* Gone from the kernel: the connection is over. */
            kst[i].state = TCPS_CLOSED;
            kstate_entry(kst[i].local, kst[i].peer, TCPS_CLOSED, 0, 0, 0);
        }
    }
}

static int by_time(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;
    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Merge the program's trace with the entries kept here, by time. */
static int write_recording(struct record_writer *w, const char *trace_path)
{
    FILE *f = fopen(trace_path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (f != NULL && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break;
        const char *ts = strstr(line, "\"ts_ns\":");
        keep(ts ? strtoull(ts + 8, NULL, 10) : 0, line);
    }
    free(line);
    if (f != NULL)
        fclose(f);
    unlink(trace_path);
    qsort(pend, npend, sizeof *pend, by_time);
    int rc = 0;
    for (size_t i = 0; i < npend; i++) {
        if (rc == 0)
            rc = record_line(w, pend[i].line, strlen(pend[i].line));
        free(pend[i].line);
    }
    free(pend);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: capture-run [--sandbox] [--iface IF] [--filter EXPR] [--pcap FILE]\n"
               "                   [--segments FILE] [--record DIR] [--snaplen N]\n"
               "                   -- PROGRAM [ARGS...]\n"
               "Run PROGRAM while capturing its packets (see the comment in the source).\n");
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"sandbox", no_argument, NULL, 's'},
        {"iface", required_argument, NULL, 'i'},
        {"filter", required_argument, NULL, 'f'},
        {"pcap", required_argument, NULL, 'p'},
        {"segments", required_argument, NULL, 'o'},
        {"record", required_argument, NULL, 'r'},
        {"snaplen", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int sandbox = 0;
    const char *iface = "any", *filter = NULL, *pcap_path = NULL, *seg_path = NULL;
    const char *record_dir = NULL;
    int snaplen = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+", longs, NULL)) != -1) {
        switch (c) {
        case 's': sandbox = 1; break;
        case 'i': iface = optarg; break;
        case 'f': filter = optarg; break;
        case 'p': pcap_path = optarg; break;
        case 'o': seg_path = optarg; break;
        case 'r': record_dir = optarg; break;
        case 'n':
            snaplen = atoi(optarg);
            if (snaplen < 0 || (snaplen > 0 && snaplen < 64)) {
                fprintf(stderr, "capture-run: --snaplen takes 0 (whole packets) or at least 64\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    char err[512];
    if (sandbox && sandbox_enter(err, sizeof err) != 0) {
        fprintf(stderr, "capture-run: %s\n", err);
        return 3;
    }
    struct record_writer *rec = NULL;
    char trace_path[600] = "";
    if (record_dir != NULL) {
        if (record_open(&rec, record_dir, argv + optind, err, sizeof err) != 0) {
            fprintf(stderr, "capture-run: %s\n", err);
            return 3;
        }
        recording = 1;
        snprintf(trace_path, sizeof trace_path, "%s/.trace.jsonl", record_dir);
        unlink(trace_path);
        setenv("SOCKSCOPE_TRACE", trace_path, 1);
        if (pcap_path == NULL)
            pcap_path = record_pcap_path(rec);
    }
    struct capture *cap = NULL;
    if (capture_open(&cap, iface, filter, snaplen, false, err, sizeof err) != 0) {
        if (rec == NULL) {
            fprintf(stderr, "capture-run: %s\n", err);
            return 3;
        }
        fprintf(stderr, "capture-run: recording without packets: %s\n", err);
    }
    if (cap != NULL && rec != NULL)
        record_set_capture(rec, iface);
    if (cap != NULL && pcap_path != NULL && capture_save(cap, pcap_path, err, sizeof err) != 0) {
        fprintf(stderr, "capture-run: %s\n", err);
        capture_close(cap);
        return 3;
    }
    if (seg_path != NULL && (seg_out = fopen(seg_path, "we")) == NULL) {
        fprintf(stderr, "capture-run: cannot write %s: %s\n", seg_path, strerror(errno));
        capture_close(cap);
        return 3;
    }
    pid_t pid = fork();
    if (pid == -1) {
        perror("capture-run: fork");
        return 3;
    }
    if (pid == 0) {
        /* The program gets stdin, stdout and stderr, none of our files:
         * its first socket is fd 3, as when it runs alone. */
        close_range(3, ~0u, 0);
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "capture-run: cannot run %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    int status = 0;
    int done = 0;
    /* Capture while the program runs, then 300 ms of quiet after it ends
     * (the last ACK, a TIME_WAIT's last word). Bounded to 10 minutes, by
     * the clock: at full speed each packet may wake us. */
    struct pollfd pfd = {.fd = cap ? capture_fd(cap) : -1, .events = POLLIN};
    int quiet_ms = 0;
    uint64_t start = mono_ns(), waited = 0;
    while (quiet_ms < 300 && mono_ns() - start < 600 * 1000000000ull) {
        int n = poll(&pfd, 1, 10);
        int got = cap ? capture_poll(cap, on_segment, NULL) : 0;
        if (recording)
            poll_kernel();
        /* Ask whether the program has ended in a lull, or every 10 ms:
         * not once for every packet. */
        uint64_t now = mono_ns();
        if (n == 0 || now - waited >= 10000000) {
            waited = now;
            if (!done && waitpid(pid, &status, WNOHANG) == pid)
                done = 1;
        }
        if (done)
            quiet_ms = (n == 0 && got <= 0) ? quiet_ms + 10 : 0;
    }
    if (!done) {
        kill(pid, SIGTERM);
        waitpid(pid, &status, 0);
    }
    unsigned recv = 0, drop = 0;
    if (cap != NULL) {
        capture_stats(cap, &recv, &drop);
        fprintf(stderr, "capture-run: %lu segments shown (%u packets captured, %u dropped)\n",
                segments, recv, drop);
        unsigned long long trimmed = capture_trimmed(cap, NULL);
        if (trimmed > 0)
            fprintf(stderr,
                    "capture-run: %llu packets came so fast that only their first bytes were "
                    "kept (trimmed)\n",
                    trimmed);
        capture_close(cap);
    }
    if (seg_out != NULL)
        fclose(seg_out);
    if (rec != NULL) {
        if (write_recording(rec, trace_path) != 0 || record_close(rec) != 0) {
            fprintf(stderr, "capture-run: cannot write the recording in %s\n", record_dir);
            return 3;
        }
        fprintf(stderr, "capture-run: recorded in %s\n", record_dir);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
