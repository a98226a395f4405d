/* names.c: symbolic names of socket constants; see names.h. */
#include "names.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

struct pair {
    int value;
    const char *name;
};

static const char *lookup(const struct pair *t, int v, const char *prefix, char *buf, size_t size)
{
    for (; t->name != NULL; t++)
        if (t->value == v)
            return t->name;
    snprintf(buf, size, "%s%d", prefix, v);
    return buf;
}

static const struct pair families[] = {
    {AF_UNSPEC, "AF_UNSPEC"},
    {AF_UNIX, "AF_UNIX"},
    {AF_INET, "AF_INET"},
    {AF_INET6, "AF_INET6"},
    {AF_NETLINK, "AF_NETLINK"},
    {AF_PACKET, "AF_PACKET"},
    {0, NULL},
};

const char *name_family(int family, char *buf, size_t size)
{
    return lookup(families, family, "AF_", buf, size);
}

static const struct pair types[] = {
    {SOCK_STREAM, "SOCK_STREAM"},       {SOCK_DGRAM, "SOCK_DGRAM"}, {SOCK_RAW, "SOCK_RAW"},
    {SOCK_SEQPACKET, "SOCK_SEQPACKET"}, {SOCK_RDM, "SOCK_RDM"},     {0, NULL},
};

const char *name_socktype(int type, char *buf, size_t size)
{
    char tmp[32];
    const char *base = lookup(types, type & 0xf, "SOCK_", tmp, sizeof tmp);
    int rest = type & ~0xf & ~SOCK_NONBLOCK & ~SOCK_CLOEXEC;
    char extra[16] = "";
    if (rest)
        snprintf(extra, sizeof extra, "|0x%x", (unsigned)rest);
    snprintf(buf, size, "%s%s%s%s", base, (type & SOCK_NONBLOCK) ? "|SOCK_NONBLOCK" : "",
             (type & SOCK_CLOEXEC) ? "|SOCK_CLOEXEC" : "", extra);
    return buf;
}

static const struct pair protocols[] = {
    {IPPROTO_TCP, "IPPROTO_TCP"},
    {IPPROTO_UDP, "IPPROTO_UDP"},
    {IPPROTO_ICMP, "IPPROTO_ICMP"},
    {IPPROTO_ICMPV6, "IPPROTO_ICMPV6"},
    {IPPROTO_RAW, "IPPROTO_RAW"},
    {IPPROTO_SCTP, "IPPROTO_SCTP"},
    {0, NULL},
};

const char *name_protocol(int family, int protocol, char *buf, size_t size)
{
    if (protocol == 0)
        return "0";
    if (family != AF_INET && family != AF_INET6) {
        snprintf(buf, size, "%d", protocol);
        return buf;
    }
    return lookup(protocols, protocol, "", buf, size);
}

static const struct pair levels[] = {
    {SOL_SOCKET, "SOL_SOCKET"},     {IPPROTO_TCP, "IPPROTO_TCP"}, {IPPROTO_IP, "IPPROTO_IP"},
    {IPPROTO_IPV6, "IPPROTO_IPV6"}, {IPPROTO_UDP, "IPPROTO_UDP"}, {0, NULL},
};

const char *name_level(int level, char *buf, size_t size)
{
    return lookup(levels, level, "", buf, size);
}

static const struct pair sol_socket_opts[] = {
    {SO_REUSEADDR, "SO_REUSEADDR"},   {SO_REUSEPORT, "SO_REUSEPORT"},
    {SO_KEEPALIVE, "SO_KEEPALIVE"},   {SO_LINGER, "SO_LINGER"},
    {SO_RCVBUF, "SO_RCVBUF"},         {SO_SNDBUF, "SO_SNDBUF"},
    {SO_RCVTIMEO, "SO_RCVTIMEO"},     {SO_SNDTIMEO, "SO_SNDTIMEO"},
    {SO_ERROR, "SO_ERROR"},           {SO_TYPE, "SO_TYPE"},
    {SO_BROADCAST, "SO_BROADCAST"},   {SO_PEERCRED, "SO_PEERCRED"},
    {SO_PASSCRED, "SO_PASSCRED"},     {SO_RCVLOWAT, "SO_RCVLOWAT"},
    {SO_DOMAIN, "SO_DOMAIN"},         {SO_PROTOCOL, "SO_PROTOCOL"},
    {SO_ACCEPTCONN, "SO_ACCEPTCONN"}, {SO_BINDTODEVICE, "SO_BINDTODEVICE"},
    {SO_OOBINLINE, "SO_OOBINLINE"},   {SO_RCVBUFFORCE, "SO_RCVBUFFORCE"},
    {SO_TIMESTAMP, "SO_TIMESTAMP"},   {SO_RXQ_OVFL, "SO_RXQ_OVFL"},
    {SO_MEMINFO, "SO_MEMINFO"},       {0, NULL},
};
static const struct pair tcp_opts[] = {
    {TCP_NODELAY, "TCP_NODELAY"},
    {TCP_MAXSEG, "TCP_MAXSEG"},
    {TCP_CORK, "TCP_CORK"},
    {TCP_KEEPIDLE, "TCP_KEEPIDLE"},
    {TCP_INFO, "TCP_INFO"},
    {TCP_QUICKACK, "TCP_QUICKACK"},
    {TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT"},
    {TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT"},
    {0, NULL},
};
static const struct pair ip_opts[] = {
    {IP_TTL, "IP_TTL"},         {IP_TOS, "IP_TOS"},         {IP_RECVERR, "IP_RECVERR"},
    {IP_RECVTTL, "IP_RECVTTL"}, {IP_HDRINCL, "IP_HDRINCL"}, {0, NULL},
};
static const struct pair ipv6_opts[] = {
    {IPV6_V6ONLY, "IPV6_V6ONLY"},
    {IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS"},
    {IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT"},
    {0, NULL},
};

const char *name_sockopt(int level, int opt, char *buf, size_t size)
{
    if (level == SOL_SOCKET)
        return lookup(sol_socket_opts, opt, "", buf, size);
    if (level == IPPROTO_TCP)
        return lookup(tcp_opts, opt, "", buf, size);
    if (level == IPPROTO_IP)
        return lookup(ip_opts, opt, "", buf, size);
    if (level == IPPROTO_IPV6)
        return lookup(ipv6_opts, opt, "", buf, size);
    snprintf(buf, size, "%d", opt);
    return buf;
}

static const struct pair msgflags[] = {
    {MSG_OOB, "MSG_OOB"},
    {MSG_PEEK, "MSG_PEEK"},
    {MSG_DONTROUTE, "MSG_DONTROUTE"},
    {MSG_TRUNC, "MSG_TRUNC"},
    {MSG_DONTWAIT, "MSG_DONTWAIT"},
    {MSG_EOR, "MSG_EOR"},
    {MSG_WAITALL, "MSG_WAITALL"},
    {MSG_NOSIGNAL, "MSG_NOSIGNAL"},
    {MSG_MORE, "MSG_MORE"},
    {MSG_CMSG_CLOEXEC, "MSG_CMSG_CLOEXEC"},
    {MSG_ERRQUEUE, "MSG_ERRQUEUE"},
    {MSG_CTRUNC, "MSG_CTRUNC"},
    {0, NULL},
};

const char *name_msgflags(int flags, char *buf, size_t size)
{
    if (flags == 0)
        return "0";
    if (size == 0)
        return "";
    size_t o = 0;
    buf[0] = '\0';
    for (const struct pair *p = msgflags; p->name != NULL; p++) {
        if (flags & p->value) {
            int n = snprintf(buf + o, size - o, "%s%s", o ? "|" : "", p->name);
            if (n < 0 || (size_t)n >= size - o)
                return buf;
            o += (size_t)n;
            flags &= ~p->value;
        }
    }
    if (flags)
        snprintf(buf + o, size - o, "%s0x%x", o ? "|" : "", (unsigned)flags);
    return buf;
}

const char *name_shutdown(int how)
{
    static __thread char other[16];
    switch (how) {
    case SHUT_RD: return "SHUT_RD";
    case SHUT_WR: return "SHUT_WR";
    case SHUT_RDWR: return "SHUT_RDWR";
    default: snprintf(other, sizeof other, "%d", how); return other;
    }
}
