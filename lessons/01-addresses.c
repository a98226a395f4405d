/*
 * Lesson 01: what makes a socket's identity.
 *
 * A TCP connection is known by four things and a protocol: its local IP
 * address and port, and its peer's IP address and port. This lesson looks
 * at each piece in turn:
 *
 *   Part 1  a name becomes addresses: getaddrinfo gives every address of a
 *           host, once for each kind of socket that could use it.
 *   Part 2  one endpoint written as IPv4, IPv6 and IPv4-mapped IPv6, and
 *           what a port number says: its service name and its range.
 *   Part 3  one server port, many connections: a client process opens
 *           several connections to one listening port.
 *
 * Watch in part 3 that every connection has the same server address and
 * port: only the client's ephemeral port differs, and that is enough for a
 * new 4-tuple. Run with --step to stop before each socket call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "die.h"
#include "names.h"
#include "opts.h"
#include "show.h"

#define MAX_CONNECTIONS 50

static const struct lesson_info lesson = {
    .name = "01-addresses",
    .summary = "What makes a socket's identity: a host's addresses, IPv4 and IPv6 forms,\n"
               "port names and ranges, and the 4-tuples of several connections to one port.",
    .args = "[host]",
    .opts = OPT_PORT,
    .more_help = "  host, --host HOST          the name to resolve (default localhost)\n"
                 "  --connections N            connections to open in part 3 (default 3, at\n"
                 "                             most 50; 0 skips part 3)\n"
                 "--port is also the port that part 2 describes.",
};

/* The host and --connections N are this lesson's own: take them out of
 * argv (the host may come anywhere), and the shared parser reads the rest. */
static int take_own_args(int *argc, char **argv, const char **host)
{
    long n = 3;
    for (int i = 1; i < *argc; i++) {
        int take = 0;
        if (strcmp(argv[i], "--trace") == 0 || strcmp(argv[i], "--port") == 0) {
            i++; /* skip their values */
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < *argc) {
            *host = argv[i + 1];
            take = 2;
        } else if (strcmp(argv[i], "--connections") == 0) {
            char *end = NULL;
            if (i + 1 < *argc)
                n = strtol(argv[i + 1], &end, 10);
            if (end == NULL || end == argv[i + 1] || *end || n < 0 || n > MAX_CONNECTIONS)
                die_usage("--connections takes a number from 0 to %d", MAX_CONNECTIONS);
            take = 2;
        } else if (argv[i][0] != '-' && *host == NULL) {
            *host = argv[i];
            take = 1;
        }
        memmove(argv + i, argv + i + take, (size_t)(*argc - i - take + 1) * sizeof *argv);
        *argc -= take;
        i -= take > 0;
    }
    return (int)n;
}

/* Part 1: every address getaddrinfo knows for `host`. */
static void resolve(const char *host, const char *port)
{
    /* No family and no socket type in the hints: we want to see them all. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        die_gai(host, port, rc);

    printf("Part 1: the addresses of '%s'\n", host);
    printf("  %-9s%-12s%-12s%s\n", "family", "type", "protocol", "address");
    /* Each address comes once per socket type (stream, datagram, raw): an
     * address alone is not an identity until a protocol goes with it. */
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char ip[NI_MAXHOST], b1[32], b2[32], b3[32];
        rc = getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST);
        printf("  %-9s%-12s%-12s%s\n", name_family(ai->ai_family, b1, sizeof b1),
               name_socktype(ai->ai_socktype, b2, sizeof b2),
               name_protocol(ai->ai_family, ai->ai_protocol, b3, sizeof b3),
               rc == 0 ? ip : gai_strerror(rc));
    }
    freeaddrinfo(res);
}

/* Part 2, the port: its name in the services database and its range. */
static void describe_port(int port)
{
    if (port == 0) {
        printf("  port 0: not a port anyone listens on; bind() to port 0 asks the\n"
               "  kernel to pick a free one from its ephemeral range (see part 3).\n");
        /* Ports that do have names, from the same database. */
        static const int named[] = {22, 80, 443};
        printf("  ports with names in /etc/services, all well-known:");
        for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
            struct servent *se = getservbyport(htons((uint16_t)named[i]), "tcp");
            printf(" %d %s", named[i], se != NULL ? se->s_name : "(no name)");
        }
        printf("\n  (--port N describes any port)\n");
        return;
    }
    /* getservbyport reads /etc/services: the names IANA gave to ports. */
    struct servent *se = getservbyport(htons((uint16_t)port), "tcp");
    if (se != NULL)
        printf("  port %d: service %s (in /etc/services)\n", port, se->s_name);
    else
        printf("  port %d: no service name in /etc/services\n", port);

    /* The kernel chooses client ports from its own range, readable here. */
    int lo = 49152, hi = 65535;
    if (addr_ephemeral_range(&lo, &hi) == -1)
        printf("  (could not read the ephemeral range; assuming IANA's %d-%d)\n", lo, hi);
    const char *range = addr_port_range(port, lo, hi);
    printf("  port %d: range %s; this kernel's ephemeral range is %d-%d\n", port, range, lo, hi);
    if (strcmp(range, "well-known") == 0)
        printf("    well-known (0-1023): binding one needs root (CAP_NET_BIND_SERVICE)\n");
    else if (strcmp(range, "registered") == 0)
        printf("    registered (1024-49151): IANA lists services on many of these\n");
    else if (strcmp(range, "ephemeral") == 0)
        printf("    ephemeral: the kernel hands these to sockets that connect unbound\n");
    else
        printf("    dynamic (49152-65535): never assigned to a service\n");
}

/* Part 2, the address: one endpoint, three ways to write it. */
static void show_forms(int port)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    struct sockaddr_in6 mapped = v6;
    inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
    inet_pton(AF_INET6, "::1", &v6.sin6_addr);
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);

    char a[ADDR_STRLEN], b[ADDR_STRLEN], c[ADDR_STRLEN];
    printf("\nPart 2: this machine, port %d, as IPv4 and as IPv6\n", port);
    printf("  %-24s IPv4 loopback (struct sockaddr_in, %zu bytes)\n",
           addr_format((struct sockaddr *)&v4, sizeof v4, a, sizeof a), sizeof v4);
    printf("  %-24s IPv6 loopback (struct sockaddr_in6, %zu bytes)\n"
           "%27snot the same address: a socket here misses 127.0.0.1\n",
           addr_format((struct sockaddr *)&v6, sizeof v6, b, sizeof b), sizeof v6, "");
    printf("  %-24s IPv4-mapped IPv6: how a dual-stack IPv6 socket\n"
           "%27s(IPV6_V6ONLY off) writes the IPv4 peer 127.0.0.1\n",
           addr_format((struct sockaddr *)&mapped, sizeof mapped, c, sizeof c), "");
    describe_port(port);
}

/* Part 3, the client: n connections to one server port, from one process. */
static void run_client(int port, int n)
{
    struct sockaddr_in srv = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &srv.sin_addr);
    int fd[MAX_CONNECTIONS];

    /* No bind before connect: the kernel gives each socket its own free
     * ephemeral port, which makes each connection's 4-tuple a new one.
     * getsockname shows the port it chose; getpeername the server. */
    for (int i = 0; i < n; i++) {
        fd[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fd[i] == -1)
            die_errno("socket");
        if (connect(fd[i], (struct sockaddr *)&srv, sizeof srv) == -1)
            die_errno("connect");
        struct sockaddr_storage me, peer;
        socklen_t ml = sizeof me, pl = sizeof peer;
        if (getsockname(fd[i], (struct sockaddr *)&me, &ml) == -1 ||
            getpeername(fd[i], (struct sockaddr *)&peer, &pl) == -1)
            die_errno("getsockname");
        char l[ADDR_STRLEN], p[ADDR_STRLEN];
        say("connection %d: TCP %s -> %s", i + 1,
            addr_format((struct sockaddr *)&me, ml, l, sizeof l),
            addr_format((struct sockaddr *)&peer, pl, p, sizeof p));
    }
    /* Now tell the server which connection is which (one byte: its number),
     * after our lines are out, so the two sides print in order. Then wait
     * until the server closes each one (recv returns 0). */
    for (int i = 0; i < n; i++) {
        unsigned char num = (unsigned char)(i + 1);
        if (send(fd[i], &num, 1, 0) == -1)
            die_errno("send");
    }
    for (int i = 0; i < n; i++) {
        unsigned char c;
        if (recv(fd[i], &c, 1, 0) == -1)
            die_errno("recv");
        if (close(fd[i]) == -1)
            die_errno("close");
    }
}

/* If the client fails, its exit must interrupt our accept, not leave us
 * waiting forever: a handler installed without SA_RESTART does that. */
static void on_child_exit(int sig)
{
    (void)sig;
}

/* Part 3, the server: one listening port, n accepted connections. */
static int run_server(int port, int n)
{
    printf("\nPart 3: %d connection%s from one client to one server port\n", n, n == 1 ? "" : "s");
    fflush(stdout);
    /* Name the process, so the trace, ps and ss -p can tell the sides. */
    prctl(PR_SET_NAME, "server");
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd == -1)
        die_errno("socket");
    /* We close first, so our side of each connection waits in TIME_WAIT
     * on this port; SO_REUSEADDR lets a second run bind it at once. */
    int on = 1;
    if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
        die_errno("setsockopt");
    /* bind: the half of the 4-tuple every connection will share. */
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
    if (bind(lfd, (struct sockaddr *)&me, sizeof me) == -1)
        die_errno("bind");
    /* A backlog of n: all n handshakes can complete before we accept. */
    if (listen(lfd, n) == -1)
        die_errno("listen");
    /* getsockname: the port we really got, which port 0 left to the kernel. */
    socklen_t len = sizeof me;
    if (getsockname(lfd, (struct sockaddr *)&me, &len) == -1)
        die_errno("getsockname");
    say("listening on 127.0.0.1:%d", ntohs(me.sin_port));
    if (port == 0) /* see which range the kernel chose it from */
        describe_port(ntohs(me.sin_port));
    port = ntohs(me.sin_port);
    fflush(stdout);

    /* The client is a second process, started once we listen, so its
     * connects cannot come too early. */
    struct sigaction sa = {.sa_handler = on_child_exit};
    sigaction(SIGCHLD, &sa, NULL);
    pid_t pid = fork();
    if (pid == -1)
        die_errno("fork");
    if (pid == 0) {
        prctl(PR_SET_NAME, "client");
        close(lfd); /* the client has no use for the server's socket */
        run_client(port, n);
        exit(0);
    }

    /* Each accept gives a new socket with the same local address as the
     * listener; accept's second argument tells us the peer. */
    int conn[MAX_CONNECTIONS];
    for (int i = 0; i < n; i++) {
        struct sockaddr_in peer, local;
        socklen_t pl = sizeof peer, ll = sizeof local;
        conn[i] = accept(lfd, (struct sockaddr *)&peer, &pl);
        if (conn[i] == -1 && errno == EINTR)
            die_msg("the client ended before making all its connections");
        if (conn[i] == -1)
            die_errno("accept");
        if (getsockname(conn[i], (struct sockaddr *)&local, &ll) == -1)
            die_errno("getsockname");
        unsigned char num = 0;
        if (recv(conn[i], &num, 1, 0) != 1)
            die_msg("the client closed connection %d before saying its number", i + 1);
        char l[ADDR_STRLEN], p[ADDR_STRLEN];
        say("connection %d: TCP %s <- %s (client's #%d)", i + 1,
            addr_format((struct sockaddr *)&local, ll, l, sizeof l),
            addr_format((struct sockaddr *)&peer, pl, p, sizeof p), num);
    }
    say("%d connections share local port %d; only the client's port differs,", n, port);
    say("and the kernel tells connections apart by the whole 4-tuple");

    for (int i = 0; i < n; i++)
        if (close(conn[i]) == -1)
            die_errno("close");
    if (close(lfd) == -1)
        die_errno("close");
    int status;
    if (waitpid(pid, &status, 0) == -1)
        die_errno("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
    const char *host = NULL;
    int n = take_own_args(&argc, argv, &host);
    struct lesson_opts o;
    lesson_parse(argc, argv, &lesson, &o);
    resolve(host ? host : "localhost", o.port_text);
    show_forms(o.port);
    if (n == 0)
        return 0;
    return run_server(o.port, n);
}
