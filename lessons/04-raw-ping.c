/*
 * Lesson 04: ping, written for reading, on a socket below the transport.
 *
 * Lessons 02 and 03 used TCP and UDP: the kernel numbered, checked and
 * delivered bytes to a port. A RAW socket sits below them: no ports, no
 * connection, no checksum done for us. We write the ICMP message ourselves,
 * byte by byte, and read back whatever ICMP the host receives. Because a raw
 * socket can read every ICMP packet and forge any, the kernel allows it only
 * to root or a process with CAP_NET_RAW. Linux also offers an unprivileged
 * "ping socket" (SOCK_DGRAM, IPPROTO_ICMP) to the groups an administrator
 * lists in net.ipv4.ping_group_range: it sends echo requests only, and
 * hands each socket only the replies meant for it.
 *
 * Watch for:
 *   - which socket the lesson gets, and why; all privilege dropped after;
 *   - the request's bytes: type 8, code 0, the checksum WE computed
 *     (icmp_checksum in common/icmp.c, RFC 1071), identifier, sequence;
 *   - each reply: its IP header (TTL, source), its ICMP fields, the round
 *     trip; on a raw socket our own requests and other processes' replies
 *     show up too, and are skipped;
 *   - the summary, in ping's words (Ctrl-C prints it too).
 *
 * Try: 04-raw-ping -c 3;  04-raw-ping -6 -c 2;  04-raw-ping --step -c 1
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "errnames.h"
#include "icmp.h"
#include "pingopts.h"
#include "show.h"

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
    interrupted = sig;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Open the socket ping needs; say which kind it is and why. */
static int open_icmp_socket(int family, bool *raw)
{
    int proto = family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    /* First choice: SOCK_RAW. The kernel checks CAP_NET_RAW here, once. */
    int fd = socket(family, SOCK_RAW, proto);
    if (fd >= 0) {
        *raw = true;
        say("SOCK_RAW: allowed, this process holds CAP_NET_RAW%s", getuid() == 0 ? " (root)" : "");
        say("  a raw socket has no port: it gets every ICMP packet the host gets");
        say("  and may send any, so the kernel asks for that privilege");
        return fd;
    }
    int raw_err = errno;
    /* Second choice: the ping socket, if our group is in the range. */
    unsigned lo = 1, hi = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "r");
    if (f != NULL) {
        if (fscanf(f, "%u %u", &lo, &hi) != 2)
            lo = 1, hi = 0;
        fclose(f);
    }
    fd = socket(family, SOCK_DGRAM, proto);
    if (fd >= 0) {
        *raw = false;
        say("SOCK_RAW refused (%s): no CAP_NET_RAW", errno_name(raw_err));
        say("using the ping socket (SOCK_DGRAM): group %u is within", (unsigned)getgid());
        say("  net.ipv4.ping_group_range %u-%u", lo, hi);
        return fd;
    }
    die_msg("cannot open an ICMP socket.\n"
            "  SOCK_RAW needs root or CAP_NET_RAW: socket() said %s;\n"
            "  the ping socket (SOCK_DGRAM) needs your group (gid %u) within\n"
            "  net.ipv4.ping_group_range, which is \"%u %u\"%s:\n"
            "  socket() said %s.\n"
            "Enable one of them, as root:\n"
            "  setcap cap_net_raw+ep %s\n"
            "      (lets this program open raw sockets)\n"
            "  sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"\n"
            "      (lets every group open ping sockets)",
            errno_name(raw_err), (unsigned)getgid(), lo, hi, lo > hi ? " (empty: no group)" : "",
            errno_name(errno), program_invocation_name);
}

/* The socket is open, and keeps its power: the process needs none now.
 * Give up every privilege for good, so a bug in the code that reads what
 * strangers send cannot be used to do anything as root. */
static void drop_privileges(void)
{
    /* The bounding set limits what any later program may regain; it can
     * only be cut while we still hold CAP_SETPCAP (else EPERM: ignored). */
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
        prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    /* Supplementary groups: only root may clear them (else EPERM). */
    if (setgroups(0, NULL) == -1 && errno != EPERM)
        die_errno("setgroups");
    /* Real, effective and saved ids all become the real ones: a setuid
     * program cannot switch back afterwards. Started by root itself, uid 0
     * would still own root's files: become nobody instead, where this user
     * namespace has one (inside `unshare -r` only uid 0 exists: it stays).
     * Group first, while we may. */
    uid_t uid = getuid();
    gid_t gid = getgid();
    struct passwd *pw = uid == 0 ? getpwnam("nobody") : NULL;
    if (pw != NULL && setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == 0)
        uid = pw->pw_uid, gid = pw->pw_gid;
    if (setresgid(gid, gid, gid) == -1)
        die_errno("setresgid");
    if (setresuid(uid, uid, uid) == -1)
        die_errno("setresuid");
    /* Every capability: effective, permitted, inheritable, all empty. */
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct none[2] = {{0, 0, 0}, {0, 0, 0}};
    if (syscall(SYS_capset, &h, none) == -1)
        die_errno("capset");
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    say("privileges dropped: uid %u, gid %u, no capabilities left", (unsigned)getuid(),
        (unsigned)getgid());
}

struct pinger {
    struct ping_opts o;
    int fd;
    bool raw, v6;
    uint16_t id;
    struct sockaddr_storage to;
    socklen_t tolen;
    char host_addr[INET6_ADDRSTRLEN];
    struct icmp_stats stats;
    uint8_t seen[65536 / 8]; /* sequences answered: a second reply is a DUP */
    unsigned long answered;  /* sequences answered, by a reply or an error */
    bool skip_said[ICMP_BAD_IP_HEADER + 1];
};

static void send_request(struct pinger *p, uint16_t seq)
{
    static uint8_t req[ICMP_HEADER_LEN + ICMP_MAX_PAYLOAD];
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    /* The whole message by hand: see icmp_echo_build and icmp_checksum in
     * common/icmp.c. The timestamp in the payload comes back in the reply,
     * so the round trip needs no table of send times. */
    int n = icmp_echo_build(req, sizeof req, p->v6, p->id, seq, &t, (size_t)p->o.size);
    if (seq == 1) {
        /* The first request, field by field, as it will leave. */
        char dump[400];
        say("echo request seq 1, %d bytes, built by hand (common/icmp.c):", n);
        printf("%s\n", icmp_hexdump(req, (size_t)(n < 48 ? n : 48), "    ", dump, sizeof dump));
        printf("    type %02x (echo request) | code %02x | checksum %02x%02x | id %02x%02x | "
               "seq %02x%02x\n",
               req[0], req[1], req[2], req[3], req[4], req[5], req[6], req[7]);
        if (p->o.size >= ICMP_TIMESTAMP_LEN)
            printf("    then %ld bytes: 16 of send time, then filler\n", p->o.size);
        else
            printf("    then %ld bytes of filler: no room for the send time, no round trip\n",
                   p->o.size);
        if (p->v6)
            say("checksum left at 0: for ICMPv6 the kernel computes it, over a\n"
                "       pseudo-header with both IP addresses, which only it knows for sure");
        else
            say("checksum (RFC 1071, icmp_checksum): the 16-bit words added with the\n"
                "       field at 0, carries folded back in, complemented. Added again with\n"
                "       it in place, as a receiver checks: 0x%04x",
                icmp_checksum(req, (size_t)n));
    } else {
        say("echo request seq %u: %02x %02x %02x %02x %02x %02x %02x %02x + %ld bytes", seq, req[0],
            req[1], req[2], req[3], req[4], req[5], req[6], req[7], p->o.size);
    }
    /* No port in the address: ICMP has none. The kernel adds the IP header
     * (with our TTL) in front. */
    if (sendto(p->fd, req, (size_t)n, 0, (struct sockaddr *)&p->to, p->tolen) == -1) {
        say("sendto failed: %s (counted as an error, as ping does)", strerror(errno));
        p->stats.errors++;
    }
    p->stats.sent++;
    if (seq == 1 && !p->raw) {
        /* A ping socket puts its own identifier (its "port") in place of
         * ours, and hands us only replies that carry it. */
        struct sockaddr_storage me;
        socklen_t len = sizeof me;
        if (getsockname(p->fd, (struct sockaddr *)&me, &len) == 0) {
            p->id = ntohs(((struct sockaddr_in *)&me)->sin_port);
            say("the ping socket's identifier, set by the kernel: 0x%04x", p->id);
        }
    }
}

/* Note that sequence `seq` got its answer; false if it had one already. */
static bool mark_answered(struct pinger *p, uint16_t seq)
{
    if (p->seen[seq / 8] & (1 << seq % 8))
        return false;
    p->seen[seq / 8] |= (uint8_t)(1 << seq % 8);
    p->answered++;
    return true;
}

/* Read one message; print what it is; count it if it is our reply. */
static void read_reply(struct pinger *p)
{
    static uint8_t buf[65536];
    struct sockaddr_storage from;
    char cbuf[128];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg = {.msg_name = &from,
                         .msg_namelen = sizeof from,
                         .msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf};
    ssize_t n = recvmsg(p->fd, &msg, MSG_DONTWAIT);
    int64_t arrived = now_ns();
    if (n == -1) {
        if (errno != EAGAIN && errno != EINTR)
            say("recvmsg failed: %s", strerror(errno));
        return;
    }
    /* A raw IPv4 socket hands over the IP header too; ping sockets and
     * IPv6 do not, and give the TTL (hop limit) as ancillary data. */
    struct icmp_packet pk;
    enum icmp_verdict v = icmp_parse(buf, (size_t)n, p->raw, p->v6, p->id, &pk);
    int ttl = pk.has_ip ? pk.ttl : -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
            memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
    char src[INET6_ADDRSTRLEN] = "?";
    if (pk.has_ip)
        inet_ntop(AF_INET, pk.src, src, sizeof src);
    else if (from.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, src, sizeof src);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, src, sizeof src);

    if (v == ICMP_ECHO_REPLY_OURS) {
        bool dup = !mark_answered(p, pk.seq);
        char rtt[40] = "";
        if (pk.has_time && !dup) {
            int64_t ns = arrived - ((int64_t)pk.sent.tv_sec * 1000000000 + pk.sent.tv_nsec);
            icmp_stats_add(&p->stats, ns);
            snprintf(rtt, sizeof rtt, " time=%lld.%03lld ms", (long long)(ns / 1000000),
                     (long long)(ns / 1000 % 1000));
        } else if (!dup) {
            p->stats.received++;
        }
        printf("%zu bytes from %s: icmp_seq=%u ttl=%d%s%s\n", pk.icmp_len, src, pk.seq, ttl, rtt,
               dup ? " (DUP!)" : "");
        char dump[200];
        size_t shown = (size_t)(pk.has_ip ? pk.ip_header_len : 0) + ICMP_HEADER_LEN;
        printf("%s\n", icmp_hexdump(buf, shown, "    ", dump, sizeof dump));
        if (pk.has_ip)
            printf("    IP header: %u bytes, TTL %u (byte 8), source %s (bytes 12-15)\n",
                   pk.ip_header_len, pk.ttl, src);
        printf("    ICMP: type %u (%s), code %u, checksum %04x %s, id %04x, seq %u\n", pk.type,
               icmp_type_name(p->v6, pk.type), pk.code, pk.checksum, p->v6 ? "(kernel)" : "ok",
               pk.id, pk.seq);
    } else if (v == ICMP_BAD_CHECKSUM) {
        p->stats.bad_checksums++;
        printf("%zu bytes from %s: icmp_seq=%u (BAD CHECKSUM 0x%04x: damaged, not counted)\n",
               pk.icmp_len, src, pk.seq, pk.checksum);
    } else if (v == ICMP_ERROR_FOR_US) {
        /* A router (or a host) could not deliver our request and said why,
         * quoting its start: that is how we know which one it was. (A ping
         * socket hears of these only on its error queue, IP_RECVERR.) */
        p->stats.errors++;
        mark_answered(p, pk.seq);
        printf("From %s icmp_seq=%u %s\n", src, pk.seq, icmp_type_name(p->v6, pk.type));
        say("  %s", icmp_code_text(p->v6, pk.type, pk.code));
        if (pk.type == (p->v6 ? ICMP6_TIME_EXCEEDED : ICMP4_TIME_EXCEEDED))
            say("  each router lowers the TTL by one and drops the packet at 0,\n"
                "         telling the sender: try a larger -t (traceroute counts up so)");
        else
            say("  it could not be delivered: no route, host down, or filtered");
    } else if (!p->skip_said[v]) {
        /* A raw socket gets a copy of EVERY ICMP message the host receives:
         * this is the price of being below the transport layer. Said once. */
        p->skip_said[v] = true;
        say("skipped %zd bytes from %s, type %u (%s):", n, src, pk.type,
            icmp_type_name(p->v6, pk.type));
        say("  %s;", icmp_verdict_text(v));
        say("  a raw socket sees all ICMP; skipped silently from now on");
    }
    fflush(stdout); /* a line a reply, as it comes, into a pipe too */
}

int main(int argc, char **argv)
{
    struct pinger p = {.fd = -1};
    char err[256];
    enum ping_opts_result r = ping_opts_parse(argc, argv, &p.o, err, sizeof err);
    if (r == PING_OPTS_HELP) {
        ping_opts_usage(stdout, "04-raw-ping");
        return 0;
    }
    if (r == PING_OPTS_BAD)
        die_usage("%s", err);
    prctl(PR_SET_NAME, "ping");
    p.v6 = p.o.v6;

    /* The address to send to. No service: ICMP has no ports. */
    struct addrinfo hints = {.ai_family = p.v6 ? AF_INET6 : AF_INET, .ai_socktype = SOCK_RAW};
    struct addrinfo *res;
    int rc = getaddrinfo(p.o.host, NULL, &hints, &res);
    if (rc != 0)
        die_gai(p.o.host, "(no port: ICMP)", rc);
    memcpy(&p.to, res->ai_addr, res->ai_addrlen);
    p.tolen = res->ai_addrlen;
    freeaddrinfo(res);
    const void *a = p.v6 ? (void *)&((struct sockaddr_in6 *)&p.to)->sin6_addr
                         : (void *)&((struct sockaddr_in *)&p.to)->sin_addr;
    inet_ntop(p.to.ss_family, a, p.host_addr, sizeof p.host_addr);

    p.fd = open_icmp_socket(p.to.ss_family, &p.raw);
    drop_privileges();
    p.id = (uint16_t)getpid();

    /* The TTL our requests leave with; and ask for each reply's TTL as
     * ancillary data, since only a raw IPv4 socket sees the IP header. */
    int on = 1;
    if (p.o.ttl && setsockopt(p.fd, p.v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                              p.v6 ? IPV6_UNICAST_HOPS : IP_TTL, &p.o.ttl, sizeof p.o.ttl) == -1)
        die_errno("setsockopt");
    if (setsockopt(p.fd, p.v6 ? IPPROTO_IPV6 : IPPROTO_IP, p.v6 ? IPV6_RECVHOPLIMIT : IP_RECVTTL,
                   &on, sizeof on) == -1)
        die_errno("setsockopt");

    struct sigaction sa = {.sa_handler = on_sigint}; /* no SA_RESTART: poll returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    icmp_stats_init(&p.stats);
    printf("PING %s (%s) %ld(%ld) bytes of data.\n", p.o.host, p.host_addr, p.o.size,
           p.o.size + 8 + (p.v6 ? 40 : 20));
    int64_t start = now_ns();
    for (long seq = 1; seq <= p.o.count && !interrupted; seq++) {
        send_request(&p, (uint16_t)seq);
        /* Wait for replies until the next request is due, or after the
         * last one until every reply came or -W seconds passed. */
        bool last = seq == p.o.count;
        int64_t until = now_ns() + (int64_t)((last ? p.o.timeout_s : p.o.interval_s) * 1e9);
        while (!interrupted) {
            if (last && p.answered >= p.stats.sent)
                break;
            int64_t left = until - now_ns();
            if (left <= 0)
                break;
            struct pollfd pfd = {.fd = p.fd, .events = POLLIN};
            int ready = poll(&pfd, 1, (int)((left + 999999) / 1000000));
            if (ready == -1 && errno != EINTR)
                die_errno("poll");
            if (ready > 0)
                read_reply(&p);
        }
    }
    char summary[256];
    printf("\n--- %s ping statistics ---\n%s", p.o.host,
           icmp_stats_summary(&p.stats, now_ns() - start, summary, sizeof summary));
    if (p.stats.bad_checksums)
        printf("%lu replies with a bad checksum were not counted\n", p.stats.bad_checksums);
    close(p.fd);
    return p.stats.received > 0 ? 0 : 1;
}
