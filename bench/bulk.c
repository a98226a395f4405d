/*
 * bulk: traffic for the capture benchmark (bench/bench_capture.py).
 *
 *   bulk tcp MEGABYTES      send that much over TCP loopback in 256 KiB
 *                           writes; prints "tcp bytes N seconds S MBps M"
 *   bulk udp RATE SECONDS   send 100-byte UDP datagrams at RATE a second;
 *                           prints "udp sent N received M"
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int tcp(long megabytes)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&sa, &len))
        return perror("bulk: listen"), 1;
    pid_t pid = fork();
    if (pid == 0) {
        int c = accept(l, NULL, NULL);
        static char buf[1 << 18];
        while (read(c, buf, sizeof buf) > 0)
            ;
        _exit(0);
    }
    close(l);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&sa, sizeof sa))
        return perror("bulk: connect"), 1;
    static char buf[1 << 18];
    memset(buf, 'x', sizeof buf);
    long long total = megabytes * 1024 * 1024, sent = 0;
    double t0 = now();
    while (sent < total) {
        ssize_t n = write(s, buf, sizeof buf);
        if (n <= 0)
            return perror("bulk: write"), 1;
        sent += n;
    }
    close(s);
    waitpid(pid, NULL, 0);
    double dt = now() - t0;
    printf("tcp bytes %lld seconds %.3f MBps %.1f\n", sent, dt, (double)sent / dt / 1e6);
    return 0;
}

static int udp(long rate, long seconds)
{
    int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int big = 8 << 20;
    setsockopt(r, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (bind(r, (struct sockaddr *)&sa, sizeof sa) || getsockname(r, (struct sockaddr *)&sa, &len))
        return perror("bulk: bind"), 1;
    char buf[100] = {0};
    long sent = 0, got = 0;
    double t0 = now(), step = 1.0 / (double)rate;
    for (long i = 0; i < rate * seconds; i++) {
        /* Keep to the rate: wait for this datagram's moment. */
        while (now() < t0 + (double)i * step)
            ;
        if (sendto(s, buf, sizeof buf, 0, (struct sockaddr *)&sa, sizeof sa) == sizeof buf)
            sent++;
        while (recv(r, buf, sizeof buf, MSG_DONTWAIT) > 0)
            got++;
    }
    usleep(100000);
    while (recv(r, buf, sizeof buf, MSG_DONTWAIT) > 0)
        got++;
    printf("udp sent %ld received %ld\n", sent, got);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "tcp") == 0)
        return tcp(atol(argv[2]));
    if (argc == 4 && strcmp(argv[1], "udp") == 0)
        return udp(atol(argv[2]), atol(argv[3]));
    fprintf(stderr, "usage: bulk tcp MEGABYTES | bulk udp RATE SECONDS\n");
    return 2;
}
