/*
 * addr.h: a socket address as a person reads it.
 *
 * The kernel hands addresses around as struct sockaddr of several families.
 * These functions turn them into the text the lessons, the trace and the
 * viewer show, and read a port number typed by a person.
 *
 *   AF_INET      127.0.0.1:9000
 *   AF_INET6     [::1]:9000          (and [fe80::1%2]:22 with a scope)
 *   AF_UNIX      /run/app.sock       a path in the filesystem
 *                @name               the abstract namespace (leading NUL)
 *                (unnamed)           a socketpair end or an unbound client
 *
 * Nothing here allocates, prints or exits; every function returns a result.
 */
#ifndef SOCKSCOPE_ADDR_H
#define SOCKSCOPE_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Large enough for any address above, a Unix path of 108 bytes included. */
#define ADDR_STRLEN 128

/*
 * Write `sa` (of `len` bytes) into `buf` of `size` bytes, NUL-terminated.
 * Returns `buf`. A NULL or zero-length address gives "(unnamed)"; an
 * unknown family gives "(family N)". Never writes past `size`.
 */
char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* Like addr_format, without the port: "127.0.0.1", "::1". For sockets
 * that have no ports (raw and ICMP sockets keep other things there). */
char *addr_format_host(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* The port of an AF_INET or AF_INET6 address in host order, else -1. */
int addr_port(const struct sockaddr *sa);

/* "IPv4", "IPv6", "Unix", ... for an address family. */
const char *addr_family_name(int family);

/*
 * Read a port typed by a person: a decimal number from 0 to 65535 with
 * nothing else around it. Returns 0 and stores it in *port, or -1 when the
 * text is not such a number (errno is EINVAL or ERANGE).
 */
int addr_parse_port(const char *text, uint16_t *port);

/*
 * Which range a port falls in: "well-known" (0-1023, binding needs a
 * privilege), "registered" (1024-49151) or "dynamic". `ephemeral_lo` and
 * `ephemeral_hi` are this system's ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range); a port inside it is
 * "ephemeral" whatever the static ranges say.
 */
const char *addr_port_range(int port, int ephemeral_lo, int ephemeral_hi);

/* Read this system's ephemeral port range. Returns 0, or -1 with errno. */
int addr_ephemeral_range(int *lo, int *hi);

#endif
