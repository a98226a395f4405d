/*
 * pingpong: 1-byte TCP round trips over loopback.
 *
 *   pingpong [-n ROUNDS]         measure against a forked echo child
 *   pingpong --echo FD           (internal) echo on an accepted socket
 *
 * An echo peer sends each byte back; this program sends one byte, waits
 * for it to come back, and times each round trip. The echo peer is the
 * plain build (run with exec), so that comparing a plain and a wrapped
 * pinger measures only what tracing costs the traced program. Prints:
 *
 *   rounds N median_ns M mean_ns A p99_ns P
 *
 * Built twice by `make bench`: plain, and linked with the interposer, so
 * the two can be compared in the same run (bench/run_bench.py).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* The echo side: answer every byte until the peer closes. */
static int echo(int c)
{
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char b;
    while (recv(c, &b, 1, 0) == 1)
        if (send(c, &b, 1, 0) != 1)
            break;
    close(c);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = 20000;
    if (argc == 3 && strcmp(argv[1], "--echo") == 0)
        return echo(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "-n") == 0)
        rounds = atoi(argv[2]);
    /* The echo peer: PINGPONG_ECHO names the plain build to run. */
    const char *echo_prog = getenv("PINGPONG_ECHO");
    if (rounds < 1 || rounds > 10000000) {
        fprintf(stderr, "pingpong: -n takes 1 to 10000000 rounds\n");
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) == -1 || listen(lfd, 1) == -1 ||
        getsockname(lfd, (struct sockaddr *)&sa, &len) == -1) {
        perror("pingpong: listener");
        return 1;
    }
    pid_t pid = fork();
    if (pid == -1) {
        perror("pingpong: fork");
        return 1;
    }
    int one = 1;
    if (pid == 0) {
        prctl(PR_SET_NAME, "echo");
        int c = accept(lfd, NULL, NULL);
        close(lfd);
        if (c == -1)
            _exit(1);
        if (echo_prog != NULL) {
            char fdtext[16];
            snprintf(fdtext, sizeof fdtext, "%d", c);
            unsetenv("SOCKSCOPE_TRACE");
            execl(echo_prog, echo_prog, "--echo", fdtext, (char *)NULL);
            _exit(127);
        }
        _exit(echo(c));
    }
    prctl(PR_SET_NAME, "pinger");
    close(lfd);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
        perror("pingpong: connect");
        return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    long long *rtt = malloc(sizeof *rtt * (size_t)rounds);
    if (rtt == NULL)
        return 1;
    char b = 'x';
    for (int i = 0; i < rounds; i++) {
        long long t0 = now_ns();
        if (send(fd, &b, 1, 0) != 1 || recv(fd, &b, 1, 0) != 1) {
            perror("pingpong: round trip");
            return 1;
        }
        rtt[i] = now_ns() - t0;
    }
    close(fd);
    waitpid(pid, NULL, 0);
    long long sum = 0;
    for (int i = 0; i < rounds; i++)
        sum += rtt[i];
    qsort(rtt, (size_t)rounds, sizeof *rtt, cmp_ll);
    printf("rounds %d median_ns %lld mean_ns %lld p99_ns %lld\n", rounds, rtt[rounds / 2],
           sum / rounds, rtt[(int)(rounds * 0.99)]);
    free(rtt);
    return 0;
}
