/*
 * Lesson 07: how fast are the ways two processes on one machine talk?
 *
 * For a Unix stream socket, a Unix datagram socket, TCP over loopback and
 * a pipe, the lesson measures on this machine:
 *
 *   latency     a ping-pong: write a 1-byte message, the other process
 *               writes it back, read it; the time of each round trip is
 *               kept, and shown as the median and the 99th percentile;
 *   throughput  a bulk transfer in large writes for a second: MB/s as the
 *               receiver counted them.
 *
 * Watch the ratios to TCP. A Unix socket skips the TCP/IP stack: no
 * segments, headers or checksums, no routing, no ACKs or congestion
 * window; a write goes straight onto the peer's receive queue. What stays
 * is the work of any IPC through the kernel: two system calls, a copy in
 * and a copy out, and waking the other process. So latency and throughput
 * improve, by a factor, not by an order of magnitude.
 *
 * Options choose the message size, the number of round trips and the
 * time of each measurement; --json gives the figures as data. Extends
 * lessons 05 and 06 (Unix sockets).
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "proc.h"
#include "speed.h"
#include "stats.h"

/* One way of talking between this process and a child: the parent reads
 * pr and writes pw, the child reads cr and writes cw. A socket is one
 * descriptor each way; a pipe goes one way only, so it takes two. */
struct chan {
    const char *name;
    enum { STREAM, MESSAGES, PIPE } kind;
    int pr, pw, cr, cw;
};

static struct speed_options opt = {.size = 1, .bulk = 256 * 1024, .count = 100000, .duration = 1.0};
static bool json, traced;

static void usage(void)
{
    printf("Usage: 07-local-speed [options]\n"
           "Latency (ping-pong round trips) and throughput (bulk transfer) of a Unix\n"
           "stream socket, a Unix datagram socket, TCP over loopback and a pipe.\n\n"
           "Options:\n"
           "  --size BYTES      ping-pong message size (default 1)\n"
           "  --count N         round trips per transport, at most (default 100000)\n"
           "  --duration SECS   time limit of each measurement (default 1.0)\n"
           "  --bulk BYTES      size of each write in the bulk transfer (default 262144)\n"
           "  --json            print the figures as JSON only\n"
           "  --step            pause before every socket call (measures only 3 rounds)\n"
           "  --trace FILE      write every socket call to FILE (measures only 3 rounds)\n"
           "  --help            show this help\n");
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A stream may return fewer bytes than asked: read until all came. */
static void read_full(int fd, char *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            die_errno("read");
        got += (size_t)n;
    }
}

/* The child: echo ping messages until one starts with 'e', then count
 * the bulk bytes until the end of data, and send the count back. */
static void echo_then_count(const struct chan *c)
{
    char *buf = malloc(opt.bulk);
    if (buf == NULL)
        die_errno("malloc");
    do {
        read_full(c->cr, buf, opt.size);
        if (write(c->cw, buf, opt.size) != (ssize_t)opt.size)
            die_errno("write");
    } while (buf[0] != 'e');
    double bytes = 0;
    ssize_t n;
    while ((n = read(c->cr, buf, opt.bulk)) > 0) /* 0: end of data */
        bytes += (double)n;
    if (n == -1)
        die_errno("read");
    if (write(c->cw, &bytes, sizeof bytes) != sizeof bytes)
        die_errno("write");
    free(buf);
}

static void measure(const struct chan *c, struct speed_result *r)
{
    pid_t pid = proc_spawn("echo");
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        if (c->kind == PIPE) { /* the parent's ends: else no EOF would come */
            close(c->pw);
            close(c->pr);
        }
        echo_then_count(c);
        exit(0);
    }
    if (c->kind == PIPE) {
        close(c->cr);
        close(c->cw);
    }
    char *buf = calloc(1, opt.bulk);
    double *rtt = calloc((size_t)opt.count, sizeof *rtt);
    if (buf == NULL || rtt == NULL)
        die_errno("calloc");

    /* Latency. A thousand round trips first, unmeasured: they bring the
     * code and the buffers into the caches and wake the CPUs up. */
    memset(buf, 'p', opt.size);
    for (long i = 0; i < (traced ? 0 : 1000); i++) {
        if (write(c->pw, buf, opt.size) != (ssize_t)opt.size)
            die_errno("write");
        read_full(c->pr, buf, opt.size);
    }
    size_t n = 0;
    double start = now(), end = start + opt.duration;
    while (n < (size_t)opt.count && (n == 0 || now() < end)) {
        double t0 = now();
        if (write(c->pw, buf, opt.size) != (ssize_t)opt.size)
            die_errno("write");
        read_full(c->pr, buf, opt.size);
        rtt[n++] = (now() - t0) * 1e6;
    }
    buf[0] = 'e'; /* the last round trip tells the child to stop echoing */
    if (write(c->pw, buf, opt.size) != (ssize_t)opt.size)
        die_errno("write");
    read_full(c->pr, buf, opt.size);
    r->trips = n;
    r->p99_us = stats_percentile(rtt, n, 99);
    r->median_us = stats_median(rtt, n);

    /* Throughput: large writes, as fast as the receiver takes them, for
     * the time given. A datagram's size is bounded by the send buffer:
     * 64 KiB per message. */
    size_t chunk = c->kind == MESSAGES && opt.bulk > 65536 ? 65536 : opt.bulk;
    start = now();
    end = start + opt.duration;
    for (long w = 0; now() < end && (!traced || w < 3); w++)
        if (write(c->pw, buf, chunk) == -1)
            die_errno("write");
    /* The end of data: EOF for a stream or a pipe, an empty datagram. */
    if (c->kind == STREAM && shutdown(c->pw, SHUT_WR) == -1)
        die_errno("shutdown");
    if (c->kind == MESSAGES && write(c->pw, buf, 0) == -1)
        die_errno("write");
    if (c->kind == PIPE)
        close(c->pw);
    read_full(c->pr, (char *)&r->bytes, sizeof r->bytes);
    r->seconds = now() - start;
    r->mb_per_s = r->bytes / r->seconds / 1e6;
    if (proc_reap(pid) != 0)
        die_msg("the %s echo process failed", c->name);
    free(rtt);
    free(buf);
}

/* --- the four transports --------------------------------------------------- */

static void make_pair(struct chan *c, int type)
{
    int sv[2];
    if (socketpair(AF_UNIX, type, 0, sv) == -1)
        die_errno("socketpair");
    c->pr = c->pw = sv[0];
    c->cr = c->cw = sv[1];
}

static void make_tcp(struct chan *c)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l == -1 || bind(l, (struct sockaddr *)&a, sizeof a) == -1 || listen(l, 1) == -1 ||
        getsockname(l, (struct sockaddr *)&a, &alen) == -1)
        die_errno("listen");
    c->pr = c->pw = socket(AF_INET, SOCK_STREAM, 0);
    if (c->pr == -1 || connect(c->pr, (struct sockaddr *)&a, sizeof a) == -1)
        die_errno("connect");
    c->cr = c->cw = accept(l, NULL, NULL);
    if (c->cr == -1)
        die_errno("accept");
    close(l);
    /* TCP_NODELAY: send each small message at once. Without it, Nagle's
     * algorithm may hold a message back while an earlier one is unacked. */
    int on = 1;
    if (setsockopt(c->pw, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == -1 ||
        setsockopt(c->cw, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == -1)
        die_errno("setsockopt");
}

static void make_pipes(struct chan *c)
{
    int down[2], up[2];
    if (pipe(down) == -1 || pipe(up) == -1)
        die_errno("pipe");
    c->cr = down[0];
    c->pw = down[1];
    c->pr = up[0];
    c->cw = up[1];
}

/* What is left open after a measurement: both sockets, or one pipe end. */
static void close_chan(struct chan *c)
{
    close(c->pr);
    if (c->kind != PIPE)
        close(c->cr);
}

static double number(const char *name, const char *text, double lo, double hi, bool whole)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi || (whole && v != (long)v))
        die_usage("%s takes a %s from %.10g to %.10g, not '%s'", name,
                  whole ? "whole number" : "number", lo, hi, text);
    return v;
}

int main(int argc, char **argv)
{
    enum { O_SIZE = 256, O_COUNT, O_DURATION, O_BULK, O_JSON, O_STEP, O_TRACE, O_HELP };
    static const struct option longs[] = {
        {"size", required_argument, NULL, O_SIZE},
        {"count", required_argument, NULL, O_COUNT},
        {"duration", required_argument, NULL, O_DURATION},
        {"bulk", required_argument, NULL, O_BULK},
        {"json", no_argument, NULL, O_JSON},
        {"step", no_argument, NULL, O_STEP},
        {"trace", required_argument, NULL, O_TRACE},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "+h", longs, NULL)) != -1) {
        switch (o) {
        case O_SIZE: opt.size = (size_t)number("--size", optarg, 1, 65536, true); break;
        case O_COUNT: opt.count = (long)number("--count", optarg, 1, 1e6, true); break;
        case O_DURATION: opt.duration = number("--duration", optarg, 0.01, 60, false); break;
        case O_BULK: opt.bulk = (size_t)number("--bulk", optarg, 4096, 16 << 20, true); break;
        case O_JSON: json = true; break;
        case O_STEP: /* the tracer acted on these before main() */
        case O_TRACE: traced = true; break;
        case 'h':
        case O_HELP: usage(); return 0;
        default:
            if (optopt == O_TRACE)
                die_usage("--trace needs a file name");
            die_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        die_usage("unexpected argument '%s'", argv[optind]);
    if (opt.size > opt.bulk)
        opt.bulk = opt.size;
    if (traced)
        opt.count = 3; /* every call is traced: the figures measure the tracer */
    prctl(PR_SET_NAME, "measure");
    /* The last guard against a hang: four transports, two measurements
     * each, plus slack. */
    alarm((unsigned)(8 * opt.duration) + 30);

    struct chan c[] = {
        {.name = "unix-stream", .kind = STREAM},
        {.name = "unix-dgram", .kind = MESSAGES},
        {.name = "tcp-loopback", .kind = STREAM},
        {.name = "pipe", .kind = PIPE},
    };
    enum { N = 4, TCP = 2 };
    struct speed_result r[N];
    make_pair(&c[0], SOCK_STREAM);
    make_pair(&c[1], SOCK_DGRAM);
    make_tcp(&c[2]);
    make_pipes(&c[3]);
    for (int i = 0; i < N; i++) {
        if (!json)
            printf("[measure] %-12s %zu B x %ld round trips at most; %zu B writes for %.2f s\n",
                   c[i].name, opt.size, opt.count,
                   c[i].kind == MESSAGES && opt.bulk > 65536 ? (size_t)65536 : opt.bulk,
                   opt.duration);
        r[i].name = c[i].name;
        measure(&c[i], &r[i]);
        close_chan(&c[i]);
    }
    if (json) {
        if (speed_print_json(stdout, r, N, TCP, &opt) == -1)
            die_msg("could not write the figures as JSON");
        return 0;
    }
    speed_print_table(stdout, r, N, TCP);
    printf("\nWhat differs: a Unix socket or a pipe puts the bytes straight on the\n"
           "other end's queue. TCP over loopback still builds segments with headers\n"
           "(checksums are skipped on lo), routes them, acknowledges them and keeps\n"
           "a congestion window. What does not differ: every way makes two system\n"
           "calls, copies the bytes into the kernel and out again, and wakes the\n"
           "other process; that is most of a round trip. The figures vary with what\n"
           "else the machine does: run it twice before you trust a ratio.\n");
    return 0;
}
