/* addr.c: socket addresses as text; see addr.h. */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static char *format_unix(const struct sockaddr_un *un, socklen_t len, char *buf, size_t size)
{
    size_t off = offsetof(struct sockaddr_un, sun_path);
    if (len <= off) {
        snprintf(buf, size, "(unnamed)");
        return buf;
    }
    size_t n = len - off;
    if (n > sizeof un->sun_path)
        n = sizeof un->sun_path;
    const char *p = un->sun_path;
    size_t o = 0;
    if (p[0] == '\0') {
        /* Abstract: the name is every byte after the NUL, NULs included. */
        if (o + 1 < size)
            buf[o++] = '@';
        for (size_t i = 1; i < n && o + 4 < size; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c >= 0x20 && c < 0x7f) {
                buf[o++] = (char)c;
            } else {
                o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
            }
        }
        buf[o < size ? o : size - 1] = '\0';
        return buf;
    }
    /* A path ends at its NUL or at the end of the address. */
    size_t plen = strnlen(p, n);
    snprintf(buf, size, "%.*s", (int)plen, p);
    return buf;
}

char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    if (sa == NULL || len < sizeof(sa_family_t)) {
        snprintf(buf, size, "(unnamed)");
        return buf;
    }
    char host[INET6_ADDRSTRLEN];
    switch (sa->sa_family) {
    case AF_INET: {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        if (len < sizeof *in) {
            snprintf(buf, size, "(short IPv4 address)");
            break;
        }
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
        break;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (len < sizeof *in6) {
            snprintf(buf, size, "(short IPv6 address)");
            break;
        }
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        if (in6->sin6_scope_id != 0)
            snprintf(buf, size, "[%s%%%u]:%u", host, in6->sin6_scope_id, ntohs(in6->sin6_port));
        else
            snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
        break;
    }
    case AF_UNIX: return format_unix((const struct sockaddr_un *)sa, len, buf, size);
    case AF_UNSPEC: snprintf(buf, size, "(unspecified)"); break;
    default: snprintf(buf, size, "(family %d)", sa->sa_family); break;
    }
    return buf;
}

char *addr_format_host(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    if (sa != NULL && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        if (inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size) ==
            NULL)
            buf[0] = '\0';
        return buf;
    }
    if (sa != NULL && sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        if (inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
                      (socklen_t)size) == NULL)
            buf[0] = '\0';
        return buf;
    }
    return addr_format(sa, len, buf, size);
}

int addr_port(const struct sockaddr *sa)
{
    if (sa == NULL)
        return -1;
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return -1;
}

const char *addr_family_name(int family)
{
    switch (family) {
    case AF_INET: return "IPv4";
    case AF_INET6: return "IPv6";
    case AF_UNIX: return "Unix";
    case AF_NETLINK: return "Netlink";
    case AF_PACKET: return "Packet";
    case AF_UNSPEC: return "Unspecified";
    default: return "Other";
    }
}

int addr_parse_port(const char *text, uint16_t *port)
{
    /* Digits only: strtoul alone would also take signs and white space. */
    if (text == NULL || !isdigit((unsigned char)*text)) {
        errno = EINVAL;
        return -1;
    }
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (*end != '\0' || end == text) {
        errno = EINVAL;
        return -1;
    }
    if (errno == ERANGE || v > 65535) {
        errno = ERANGE;
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

const char *addr_port_range(int port, int ephemeral_lo, int ephemeral_hi)
{
    if (port < 0 || port > 65535)
        return "invalid";
    if (port >= ephemeral_lo && port <= ephemeral_hi && port >= 1024)
        return "ephemeral";
    if (port < 1024)
        return "well-known";
    if (port < 49152)
        return "registered";
    return "dynamic";
}

int addr_ephemeral_range(int *lo, int *hi)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    if (f == NULL)
        return -1;
    int n = fscanf(f, "%d %d", lo, hi);
    fclose(f);
    if (n != 2) {
        errno = EIO;
        return -1;
    }
    return 0;
}
