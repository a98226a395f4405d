/*
 * capture-run: run a program while capturing its packets.
 *
 *   capture-run [--sandbox] [--iface IF] [--filter EXPR] [--pcap FILE]
 *               [--segments FILE] -- PROGRAM [ARGS...]
 *
 * Starts a capture (libpcap, common/capture.h), runs PROGRAM, and keeps
 * capturing until it ends and the wire is quiet. Every segment goes to
 * --segments as one JSON line (ts_ns, proto, src, dst, flags, seq, ack,
 * win, len: seq and ack relative, as Wireshark shows them), loopback's
 * duplicates shown once; every packet goes to --pcap as captured. With
 * --sandbox, the capture and the program run in a private user and
 * network namespace (common/sandbox.h), so no host privilege is needed.
 *
 * Exits with the program's status; 2 on bad usage, 3 when the capture
 * cannot start. Used by the tests and benchmarks; the viewer does the
 * same in its sandbox mode.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "sandbox.h"

static FILE *seg_out;
static unsigned long segments;

static void on_segment(const struct segment *s, void *arg)
{
    (void)arg;
    segments++;
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

static void usage(FILE *f)
{
    fprintf(f, "Usage: capture-run [--sandbox] [--iface IF] [--filter EXPR] [--pcap FILE]\n"
               "                   [--segments FILE] -- PROGRAM [ARGS...]\n"
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int sandbox = 0;
    const char *iface = "lo", *filter = NULL, *pcap_path = NULL, *seg_path = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "+", longs, NULL)) != -1) {
        switch (c) {
        case 's': sandbox = 1; break;
        case 'i': iface = optarg; break;
        case 'f': filter = optarg; break;
        case 'p': pcap_path = optarg; break;
        case 'o': seg_path = optarg; break;
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
    struct capture *cap;
    if (capture_open(&cap, iface, filter, err, sizeof err) != 0) {
        fprintf(stderr, "capture-run: %s\n", err);
        return 3;
    }
    if (pcap_path != NULL && capture_save(cap, pcap_path, err, sizeof err) != 0) {
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
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "capture-run: cannot run %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    int status = 0;
    int done = 0;
    /* Capture while the program runs, then 300 ms of quiet after it ends
     * (the last ACK, a TIME_WAIT's last word). Bounded to 10 minutes. */
    struct pollfd pfd = {.fd = capture_fd(cap), .events = POLLIN};
    int quiet_ms = 0;
    for (int round = 0; round < 60000 && quiet_ms < 300; round++) {
        int n = poll(&pfd, 1, 10);
        int got = capture_poll(cap, on_segment, NULL);
        if (!done && waitpid(pid, &status, WNOHANG) == pid)
            done = 1;
        if (done)
            quiet_ms = (n == 0 && got <= 0) ? quiet_ms + 10 : 0;
    }
    if (!done) {
        kill(pid, SIGTERM);
        waitpid(pid, &status, 0);
    }
    unsigned recv = 0, drop = 0;
    capture_stats(cap, &recv, &drop);
    fprintf(stderr, "capture-run: %lu segments shown (%u packets captured, %u dropped)\n", segments,
            recv, drop);
    capture_close(cap);
    if (seg_out != NULL)
        fclose(seg_out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
