/*
 * test_addr.c: socket addresses as a person reads them (common/addr.h).
 *
 * Every family the lessons meet is formatted as the header promises; a
 * buffer of any size, down to none, is never written past; a port typed
 * by a person is read only when it is a plain number from 0 to 65535; and
 * the port ranges change exactly at their boundaries.
 */
#include "addr.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#define CANARY 0xA5

static struct sockaddr_in ipv4(const char *ip, uint16_t port)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &in.sin_addr);
    return in;
}

static struct sockaddr_in6 ipv6(const char *ip, uint16_t port, uint32_t scope)
{
    struct sockaddr_in6 in6 = {
        .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_scope_id = scope};
    inet_pton(AF_INET6, ip, &in6.sin6_addr);
    return in6;
}

/* A Unix address of `n` name bytes (copied as they are, NULs included). */
static socklen_t unix_addr(struct sockaddr_un *un, const char *name, size_t n)
{
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, name, n);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

static const char *fmt(const void *sa, socklen_t len)
{
    static char buf[ADDR_STRLEN];
    return addr_format(sa, len, buf, sizeof buf);
}

static void test_ipv4(void)
{
    struct sockaddr_in in = ipv4("127.0.0.1", 9000);
    CU_ASSERT_STRING_EQUAL(fmt(&in, sizeof in), "127.0.0.1:9000");
    in = ipv4("255.255.255.255", 65535);
    CU_ASSERT_STRING_EQUAL(fmt(&in, sizeof in), "255.255.255.255:65535");
    in = ipv4("0.0.0.0", 0);
    CU_ASSERT_STRING_EQUAL(fmt(&in, sizeof in), "0.0.0.0:0");
    CU_ASSERT_EQUAL(addr_port((struct sockaddr *)&in), 0);
    in = ipv4("10.1.2.3", 443);
    CU_ASSERT_EQUAL(addr_port((struct sockaddr *)&in), 443);
}

static void test_ipv6(void)
{
    struct sockaddr_in6 in6 = ipv6("::1", 9000, 0);
    CU_ASSERT_STRING_EQUAL(fmt(&in6, sizeof in6), "[::1]:9000");
    CU_ASSERT_EQUAL(addr_port((struct sockaddr *)&in6), 9000);
    in6 = ipv6("::ffff:127.0.0.1", 80, 0);
    CU_ASSERT_STRING_EQUAL(fmt(&in6, sizeof in6), "[::ffff:127.0.0.1]:80");
    in6 = ipv6("2001:db8::42", 443, 0);
    CU_ASSERT_STRING_EQUAL(fmt(&in6, sizeof in6), "[2001:db8::42]:443");
}

static void test_ipv6_scope(void)
{
    struct sockaddr_in6 in6 = ipv6("fe80::1", 22, 2);
    CU_ASSERT_STRING_EQUAL(fmt(&in6, sizeof in6), "[fe80::1%2]:22");
    /* The longest IPv6 text with the largest scope and port still fits. */
    in6 = ipv6("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 65535, 4294967295u);
    const char *s = fmt(&in6, sizeof in6);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "%4294967295]:65535"));
    CU_ASSERT_EQUAL(s[0], '[');
}

static void test_unix_path(void)
{
    struct sockaddr_un un;
    /* With its NUL counted, as getsockname gives it, and without. */
    socklen_t len = unix_addr(&un, "/run/app.sock", sizeof "/run/app.sock");
    CU_ASSERT_STRING_EQUAL(fmt(&un, len), "/run/app.sock");
    len = unix_addr(&un, "/run/app.sock", strlen("/run/app.sock"));
    CU_ASSERT_STRING_EQUAL(fmt(&un, len), "/run/app.sock");
    /* A path that fills sun_path, with no NUL at all. */
    char full[sizeof un.sun_path];
    memset(full, 'p', sizeof full);
    full[0] = '/';
    len = unix_addr(&un, full, sizeof full);
    const char *s = fmt(&un, len);
    CU_ASSERT_EQUAL(strlen(s), sizeof full);
    CU_ASSERT_EQUAL(addr_port((struct sockaddr *)&un), -1);
}

static void test_unix_abstract(void)
{
    struct sockaddr_un un;
    socklen_t len = unix_addr(&un, "\0name", 5);
    CU_ASSERT_STRING_EQUAL(fmt(&un, len), "@name");
    /* Every byte of the length is the name, NULs and controls included. */
    len = unix_addr(&un,
                    "\0a\x01"
                    "b\0c\x7f\xff",
                    8);
    CU_ASSERT_STRING_EQUAL(fmt(&un, len), "@a\\x01b\\x00c\\x7f\\xff");
    /* Just the leading NUL: an empty abstract name. */
    len = unix_addr(&un, "\0", 1);
    CU_ASSERT_STRING_EQUAL(fmt(&un, len), "@");
}

static void test_unnamed_and_null(void)
{
    struct sockaddr_un un;
    socklen_t len = unix_addr(&un, "", 0);
    CU_ASSERT_EQUAL(len, sizeof(sa_family_t));
    CU_ASSERT_STRING_EQUAL(fmt(&un, len), "(unnamed)");
    CU_ASSERT_STRING_EQUAL(fmt(NULL, 0), "(unnamed)");
    CU_ASSERT_STRING_EQUAL(fmt(NULL, sizeof(struct sockaddr_in)), "(unnamed)");
    CU_ASSERT_STRING_EQUAL(fmt(&un, 0), "(unnamed)");
    CU_ASSERT_EQUAL(addr_port(NULL), -1);
}

static void test_other_families(void)
{
    struct sockaddr_storage ss = {.ss_family = AF_UNSPEC};
    CU_ASSERT_STRING_EQUAL(fmt(&ss, sizeof ss), "(unspecified)");
    ss.ss_family = 200;
    CU_ASSERT_STRING_EQUAL(fmt(&ss, sizeof ss), "(family 200)");
    /* An address shorter than its family's struct is not read past. */
    struct sockaddr_in in = ipv4("127.0.0.1", 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(fmt(&in, sizeof in - 1), "short"));
    struct sockaddr_in6 in6 = ipv6("::1", 1, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(fmt(&in6, sizeof in6 - 4), "short"));
    CU_ASSERT_STRING_EQUAL(addr_family_name(AF_INET), "IPv4");
    CU_ASSERT_STRING_EQUAL(addr_family_name(AF_INET6), "IPv6");
    CU_ASSERT_STRING_EQUAL(addr_family_name(AF_UNIX), "Unix");
    CU_ASSERT_PTR_NOT_NULL(addr_family_name(12345));
}

/* Format `sa` into buffers of every size from 0 to ADDR_STRLEN: the text
 * is always a NUL-terminated prefix of the full text, and not one byte past
 * the size is touched. */
static void fits_every_size(const void *sa, socklen_t len)
{
    char full[ADDR_STRLEN];
    addr_format(sa, len, full, sizeof full);
    for (size_t size = 0; size <= ADDR_STRLEN; size++) {
        unsigned char buf[ADDR_STRLEN + 16];
        memset(buf, CANARY, sizeof buf);
        char *r = addr_format(sa, len, (char *)buf, size);
        CU_ASSERT_PTR_EQUAL(r, (char *)buf);
        for (size_t i = size; i < sizeof buf; i++)
            if (buf[i] != CANARY) {
                CU_FAIL("addr_format wrote past the buffer");
                printf("\n  size %zu: byte %zu written (full text \"%s\")", size, i, full);
                return;
            }
        if (size == 0)
            continue;
        size_t n = strnlen((char *)buf, size);
        CU_ASSERT(n < size);
        CU_ASSERT(strncmp((char *)buf, full, n) == 0);
    }
}

static void test_tiny_buffers(void)
{
    struct sockaddr_in in = ipv4("255.255.255.255", 65535);
    fits_every_size(&in, sizeof in);
    struct sockaddr_in6 in6 = ipv6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 123456);
    fits_every_size(&in6, sizeof in6);
    struct sockaddr_un un;
    char path[sizeof un.sun_path];
    memset(path, 'x', sizeof path);
    fits_every_size(&un, unix_addr(&un, path, sizeof path));
    /* The worst case: an abstract name of non-printable bytes, each four
     * characters wide when escaped. */
    memset(path, 0x01, sizeof path);
    path[0] = '\0';
    fits_every_size(&un, unix_addr(&un, path, sizeof path));
    fits_every_size(NULL, 0);
    struct sockaddr_storage ss = {.ss_family = 222};
    fits_every_size(&ss, sizeof ss);
}

static void test_parse_port_accepts(void)
{
    static const struct {
        const char *text;
        uint16_t port;
    } ok[] = {{"0", 0}, {"1", 1}, {"80", 80}, {"1023", 1023}, {"65535", 65535}, {"00080", 80}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint16_t port = 12345;
        CU_ASSERT_EQUAL(addr_parse_port(ok[i].text, &port), 0);
        CU_ASSERT_EQUAL(port, ok[i].port);
    }
}

static void test_parse_port_rejects(void)
{
    static const char *const bad[] = {"",    "-1",  "65536", "12a", " 80",
                                      "+5",  "80 ", "0x50",  "1e3", "99999999999999999999",
                                      "8 0", "-0", "\t80", "\n80", "\v1", "\f1", "\r1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint16_t port = 4242;
        errno = 0;
        int rc = addr_parse_port(bad[i], &port);
        if (rc != -1)
            printf("\n  accepted '%s' as %u", bad[i], port);
        CU_ASSERT_EQUAL(rc, -1);
        CU_ASSERT(errno == EINVAL || errno == ERANGE);
        CU_ASSERT_EQUAL(port, 4242); /* untouched on failure */
    }
    uint16_t port = 4242;
    CU_ASSERT_EQUAL(addr_parse_port(NULL, &port), -1);
    errno = 0;
    addr_parse_port("65536", &port);
    CU_ASSERT_EQUAL(errno, ERANGE);
    errno = 0;
    addr_parse_port("12a", &port);
    CU_ASSERT_EQUAL(errno, EINVAL);
}

static void test_port_range_boundaries(void)
{
    /* Linux's default ephemeral range. */
    CU_ASSERT_STRING_EQUAL(addr_port_range(0, 32768, 60999), "well-known");
    CU_ASSERT_STRING_EQUAL(addr_port_range(1023, 32768, 60999), "well-known");
    CU_ASSERT_STRING_EQUAL(addr_port_range(1024, 32768, 60999), "registered");
    CU_ASSERT_STRING_EQUAL(addr_port_range(32767, 32768, 60999), "registered");
    CU_ASSERT_STRING_EQUAL(addr_port_range(32768, 32768, 60999), "ephemeral");
    CU_ASSERT_STRING_EQUAL(addr_port_range(49151, 32768, 60999), "ephemeral");
    CU_ASSERT_STRING_EQUAL(addr_port_range(60999, 32768, 60999), "ephemeral");
    CU_ASSERT_STRING_EQUAL(addr_port_range(61000, 32768, 60999), "dynamic");
    CU_ASSERT_STRING_EQUAL(addr_port_range(65535, 32768, 60999), "dynamic");
    /* IANA's ranges, when the ephemeral range is IANA's dynamic one. */
    CU_ASSERT_STRING_EQUAL(addr_port_range(49151, 49152, 65535), "registered");
    CU_ASSERT_STRING_EQUAL(addr_port_range(49152, 49152, 65535), "ephemeral");
    CU_ASSERT_STRING_EQUAL(addr_port_range(65535, 49152, 65535), "ephemeral");
    /* An ephemeral range reaching below 1024 does not make those ports
     * ephemeral: binding them still needs the privilege. */
    CU_ASSERT_STRING_EQUAL(addr_port_range(1000, 500, 2000), "well-known");
    CU_ASSERT_STRING_EQUAL(addr_port_range(1500, 500, 2000), "ephemeral");
    CU_ASSERT_STRING_EQUAL(addr_port_range(-1, 32768, 60999), "invalid");
    CU_ASSERT_STRING_EQUAL(addr_port_range(65536, 32768, 60999), "invalid");
}

static void test_ephemeral_range_from_the_system(void)
{
    int lo = -1, hi = -1, flo = -2, fhi = -2;
    CU_ASSERT_EQUAL_FATAL(addr_ephemeral_range(&lo, &hi), 0);
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fscanf(f, "%d %d", &flo, &fhi), 2);
    fclose(f);
    CU_ASSERT_EQUAL(lo, flo);
    CU_ASSERT_EQUAL(hi, fhi);
    CU_ASSERT(lo >= 1 && lo <= hi && hi <= 65535);
}

UNIT_MAIN("addresses", {"an IPv4 address shows as a.b.c.d:port", test_ipv4},
          {"an IPv6 address shows in brackets with its port", test_ipv6},
          {"an IPv6 address with a scope id shows it after a percent sign", test_ipv6_scope},
          {"a Unix path shows as the path, with or without its NUL", test_unix_path},
          {"an abstract name shows as @name with non-printable bytes escaped", test_unix_abstract},
          {"an unnamed Unix socket and a NULL address show as (unnamed)", test_unnamed_and_null},
          {"other families and short addresses are named, never read past", test_other_families},
          {"a buffer of any size, down to none, is never written past", test_tiny_buffers},
          {"a port from 0 to 65535 typed as a plain number is read", test_parse_port_accepts},
          {"anything else typed as a port is refused with EINVAL or ERANGE",
           test_parse_port_rejects},
          {"port ranges change exactly at 1024, 49152 and the ephemeral bounds",
           test_port_range_boundaries},
          {"the ephemeral range is this system's own", test_ephemeral_range_from_the_system});
