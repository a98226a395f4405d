/*
 * flood: a traced program that makes socket calls as fast as it is told,
 * to show that a viewer never slows it down (test helper).
 *
 *   flood [--rate N] [--seconds S]   N getsockopt calls a second for S
 *                                    seconds (default 20000 for 3), paced
 *                                    in 1 ms slices; then prints
 *                                    "flood dropped D calls C seconds S max_call_us M"
 *   flood --crash                    make a socket, then abort()
 *
 * Built with the tracer linked in, like a lesson; run it under
 * `sockscope run --no-preload -- flood`. The dropped count is the
 * tracer's own (events the viewer could not take); the last call, made
 * after a pause that lets the viewer catch up, carries it to the viewer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long rate = 20000;
    double seconds = 3;
    bool crash = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
            rate = atol(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--crash") == 0)
            crash = true;
        else if (strcmp(argv[i], "--step") == 0)
            ;
        else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: flood [--rate N] [--seconds S] | flood --crash\n");
            return 0;
        } else {
            fprintf(stderr, "flood: unknown argument %s; see --help\n", argv[i]);
            return 2;
        }
    }
    if (rate < 1 || rate > 10000000 || seconds <= 0 || seconds > 60) {
        fprintf(stderr, "flood: --rate 1..10000000, --seconds up to 60\n");
        return 2;
    }
    prctl(PR_SET_NAME, "flood");
    const char *sock = getenv("SOCKSCOPE_SOCKET");
    printf("viewer socket %s\n", sock ? sock : "(none)");
    fflush(stdout);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1) {
        perror("socket");
        return 1;
    }
    if (crash) {
        printf("crashing now\n");
        fflush(stdout);
        abort();
    }
    long long start = now_ns(), end = start + (long long)(seconds * 1e9), max_call = 0;
    long long calls = 0;
    long per_ms = rate / 1000 > 0 ? rate / 1000 : 1;
    /* Bounded by the time limit. */
    for (long long slice = start; slice < end; slice += 1000000) {
        for (long k = 0; k < per_ms; k++) {
            int v;
            socklen_t len = sizeof v;
            long long t0 = now_ns();
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len);
            long long d = now_ns() - t0;
            if (d > max_call)
                max_call = d;
            calls++;
        }
        long long wait = slice + 1000000 - now_ns();
        if (wait > 0) {
            struct timespec ts = {0, (long)wait};
            nanosleep(&ts, NULL);
        }
    }
    /* Let the viewer catch up, then one more call carries the count. */
    struct timespec pause = {0, 300000000};
    nanosleep(&pause, NULL);
    int v;
    socklen_t len = sizeof v;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len);
    calls++;
    printf("flood dropped %llu calls %lld seconds %.1f max_call_us %lld\n",
           (unsigned long long)trace_g.dropped, calls, (now_ns() - start) / 1e9, max_call / 1000);
    fflush(stdout);
    close(fd);
    /* Stay a moment so the output is read before the program is gone. */
    nanosleep(&pause, NULL);
    return 0;
}
