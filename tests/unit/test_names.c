/*
 * test_names.c: constants by the names a student writes (common/names.h).
 *
 * socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0) must read that way in a
 * trace: types with their flags, message flags in any combination, and a
 * value with no name shown as its number, never dropped or misnamed.
 */
#include "names.h"
#include "unit.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#define CANARY 0xA5

static void test_socket_types_with_flags(void)
{
    char b[64];
    CU_ASSERT_STRING_EQUAL(name_socktype(SOCK_STREAM, b, sizeof b), "SOCK_STREAM");
    CU_ASSERT_STRING_EQUAL(name_socktype(SOCK_DGRAM, b, sizeof b), "SOCK_DGRAM");
    CU_ASSERT_STRING_EQUAL(name_socktype(SOCK_RAW, b, sizeof b), "SOCK_RAW");
    CU_ASSERT_STRING_EQUAL(name_socktype(SOCK_SEQPACKET, b, sizeof b), "SOCK_SEQPACKET");
    CU_ASSERT_STRING_EQUAL(name_socktype(SOCK_DGRAM | SOCK_CLOEXEC, b, sizeof b),
                           "SOCK_DGRAM|SOCK_CLOEXEC");
    CU_ASSERT_STRING_EQUAL(name_socktype(SOCK_SEQPACKET | SOCK_NONBLOCK, b, sizeof b),
                           "SOCK_SEQPACKET|SOCK_NONBLOCK");
    CU_ASSERT_STRING_EQUAL(name_socktype(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, b, sizeof b),
                           "SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC");
}

static void test_unknown_socket_type(void)
{
    char b[64];
    CU_ASSERT_STRING_EQUAL(name_socktype(9, b, sizeof b), "SOCK_9");
    CU_ASSERT_STRING_EQUAL(name_socktype(9 | SOCK_CLOEXEC, b, sizeof b), "SOCK_9|SOCK_CLOEXEC");
    /* Bits the names do not cover still show, as a number. */
    CU_ASSERT_STRING_EQUAL(name_socktype(SOCK_STREAM | 0x100, b, sizeof b), "SOCK_STREAM|0x100");
    /* A small buffer gets a prefix, never more. */
    unsigned char small[16];
    memset(small, CANARY, sizeof small);
    name_socktype(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, (char *)small, 8);
    CU_ASSERT_EQUAL(strnlen((char *)small, 8), 7);
    for (size_t i = 8; i < sizeof small; i++)
        CU_ASSERT_EQUAL(small[i], CANARY);
}

static void test_msg_flags(void)
{
    char b[256];
    CU_ASSERT_STRING_EQUAL(name_msgflags(0, b, sizeof b), "0");
    CU_ASSERT_STRING_EQUAL(name_msgflags(MSG_PEEK, b, sizeof b), "MSG_PEEK");
    CU_ASSERT_STRING_EQUAL(name_msgflags(MSG_NOSIGNAL, b, sizeof b), "MSG_NOSIGNAL");
    CU_ASSERT_STRING_EQUAL(name_msgflags(MSG_PEEK | MSG_DONTWAIT, b, sizeof b),
                           "MSG_PEEK|MSG_DONTWAIT");
    CU_ASSERT_STRING_EQUAL(name_msgflags(MSG_DONTWAIT | MSG_NOSIGNAL, b, sizeof b),
                           "MSG_DONTWAIT|MSG_NOSIGNAL");
    CU_ASSERT_STRING_EQUAL(name_msgflags(MSG_WAITALL | MSG_TRUNC | MSG_OOB, b, sizeof b),
                           "MSG_OOB|MSG_TRUNC|MSG_WAITALL");
    CU_ASSERT_STRING_EQUAL(name_msgflags(MSG_CMSG_CLOEXEC, b, sizeof b), "MSG_CMSG_CLOEXEC");
    /* Every named flag at once: each appears, once. */
    int all = MSG_OOB | MSG_PEEK | MSG_DONTROUTE | MSG_TRUNC | MSG_DONTWAIT | MSG_EOR |
              MSG_WAITALL | MSG_NOSIGNAL | MSG_MORE | MSG_CMSG_CLOEXEC | MSG_ERRQUEUE | MSG_CTRUNC;
    const char *s = name_msgflags(all, b, sizeof b);
    static const char *const names[] = {"MSG_OOB",          "MSG_PEEK",     "MSG_DONTROUTE",
                                        "MSG_TRUNC",        "MSG_DONTWAIT", "MSG_EOR",
                                        "MSG_WAITALL",      "MSG_NOSIGNAL", "MSG_MORE",
                                        "MSG_CMSG_CLOEXEC", "MSG_ERRQUEUE", "MSG_CTRUNC"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CU_ASSERT_PTR_NOT_NULL(strstr(s, names[i]));
    CU_ASSERT_PTR_NULL(strstr(s, "0x"));
}

static void test_unknown_msg_flags(void)
{
    char b[128];
    /* MSG_FASTOPEN has no name here: it shows as its number. */
    CU_ASSERT_STRING_EQUAL(name_msgflags(0x20000000, b, sizeof b), "0x20000000");
    CU_ASSERT_STRING_EQUAL(name_msgflags(MSG_PEEK | 0x20000000, b, sizeof b),
                           "MSG_PEEK|0x20000000");
    /* Buffers of every size from 1: never written past. */
    int many = MSG_PEEK | MSG_DONTWAIT | MSG_NOSIGNAL | MSG_WAITALL | 0x20000000;
    for (size_t size = 1; size <= 80; size++) {
        unsigned char buf[96];
        memset(buf, CANARY, sizeof buf);
        name_msgflags(many, (char *)buf, size);
        CU_ASSERT(strnlen((char *)buf, size) < size);
        for (size_t i = size; i < sizeof buf; i++)
            CU_ASSERT_EQUAL(buf[i], CANARY);
    }
}

static void test_families_and_protocols(void)
{
    char b[32];
    CU_ASSERT_STRING_EQUAL(name_family(AF_INET, b, sizeof b), "AF_INET");
    CU_ASSERT_STRING_EQUAL(name_family(AF_INET6, b, sizeof b), "AF_INET6");
    CU_ASSERT_STRING_EQUAL(name_family(AF_UNIX, b, sizeof b), "AF_UNIX");
    CU_ASSERT_STRING_EQUAL(name_family(AF_UNSPEC, b, sizeof b), "AF_UNSPEC");
    CU_ASSERT_STRING_EQUAL(name_family(99, b, sizeof b), "AF_99");
    CU_ASSERT_STRING_EQUAL(name_protocol(AF_INET, IPPROTO_TCP, b, sizeof b), "IPPROTO_TCP");
    CU_ASSERT_STRING_EQUAL(name_protocol(AF_INET6, IPPROTO_UDP, b, sizeof b), "IPPROTO_UDP");
    CU_ASSERT_STRING_EQUAL(name_protocol(AF_INET, IPPROTO_ICMP, b, sizeof b), "IPPROTO_ICMP");
    CU_ASSERT_STRING_EQUAL(name_protocol(AF_INET, 0, b, sizeof b), "0");
    CU_ASSERT_STRING_EQUAL(name_protocol(AF_INET, 200, b, sizeof b), "200");
    /* Outside IP, a protocol number means something else: a number. */
    CU_ASSERT_STRING_EQUAL(name_protocol(AF_UNIX, 6, b, sizeof b), "6");
    CU_ASSERT_STRING_EQUAL(name_protocol(AF_NETLINK, 4, b, sizeof b), "4");
}

static void test_levels_and_options(void)
{
    char b[32];
    CU_ASSERT_STRING_EQUAL(name_level(SOL_SOCKET, b, sizeof b), "SOL_SOCKET");
    CU_ASSERT_STRING_EQUAL(name_level(IPPROTO_TCP, b, sizeof b), "IPPROTO_TCP");
    CU_ASSERT_STRING_EQUAL(name_level(IPPROTO_IPV6, b, sizeof b), "IPPROTO_IPV6");
    CU_ASSERT_STRING_EQUAL(name_level(77, b, sizeof b), "77");
    CU_ASSERT_STRING_EQUAL(name_sockopt(SOL_SOCKET, SO_REUSEADDR, b, sizeof b), "SO_REUSEADDR");
    CU_ASSERT_STRING_EQUAL(name_sockopt(SOL_SOCKET, SO_ERROR, b, sizeof b), "SO_ERROR");
    CU_ASSERT_STRING_EQUAL(name_sockopt(IPPROTO_TCP, TCP_NODELAY, b, sizeof b), "TCP_NODELAY");
    CU_ASSERT_STRING_EQUAL(name_sockopt(IPPROTO_IP, IP_TTL, b, sizeof b), "IP_TTL");
    CU_ASSERT_STRING_EQUAL(name_sockopt(IPPROTO_IPV6, IPV6_V6ONLY, b, sizeof b), "IPV6_V6ONLY");
    /* The same number names different options at different levels. */
    CU_ASSERT_STRING_EQUAL(name_sockopt(IPPROTO_TCP, 1, b, sizeof b), "TCP_NODELAY");
    CU_ASSERT_STRING_EQUAL(name_sockopt(SOL_SOCKET, 1, b, sizeof b), "1");
    CU_ASSERT_STRING_EQUAL(name_sockopt(SOL_SOCKET, 9999, b, sizeof b), "9999");
    CU_ASSERT_STRING_EQUAL(name_sockopt(77, 5, b, sizeof b), "5");
}

static void test_shutdown(void)
{
    CU_ASSERT_STRING_EQUAL(name_shutdown(SHUT_RD), "SHUT_RD");
    CU_ASSERT_STRING_EQUAL(name_shutdown(SHUT_WR), "SHUT_WR");
    CU_ASSERT_STRING_EQUAL(name_shutdown(SHUT_RDWR), "SHUT_RDWR");
    CU_ASSERT_STRING_EQUAL(name_shutdown(7), "7");
}

UNIT_MAIN("names",
          {"socket types read as SOCK_STREAM, with |SOCK_NONBLOCK and |SOCK_CLOEXEC",
           test_socket_types_with_flags},
          {"an unknown socket type shows its number", test_unknown_socket_type},
          {"message flags read as MSG_PEEK|MSG_DONTWAIT in any combination", test_msg_flags},
          {"an unknown message flag shows as its number, and buffers are never overrun",
           test_unknown_msg_flags},
          {"families and protocols by name, unknown ones by number", test_families_and_protocols},
          {"socket option levels and options by name, unknown ones by number",
           test_levels_and_options},
          {"shutdown's how reads as SHUT_RD, SHUT_WR or SHUT_RDWR", test_shutdown});
