/*
 * test_icmp.c: ICMP echo messages, byte by byte.
 *
 * The checksum against RFC 1071's own worked example and odd lengths; an
 * echo request built field by field; replies parsed whole, cut short at
 * every length, of the wrong type, for another identifier, with a bad
 * checksum; errors quoting our request; ping's summary line.
 */
#include "icmp.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (with the
 * end-around carry), so the checksum is its complement, 220d. */
static void test_checksum_matches_rfc1071_worked_example(void)
{
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CU_ASSERT_EQUAL(icmp_checksum(b, sizeof b), 0x220d);
}

static void test_checksum_pads_an_odd_last_byte_with_zero(void)
{
    const uint8_t odd[] = {0x12, 0x34, 0x56};
    const uint8_t even[] = {0x12, 0x34, 0x56, 0x00};
    CU_ASSERT_EQUAL(icmp_checksum(odd, 3), icmp_checksum(even, 4));
    CU_ASSERT_EQUAL(icmp_checksum(odd, 3), (uint16_t) ~(0x1234 + 0x5600));
    const uint8_t one[] = {0xab};
    CU_ASSERT_EQUAL(icmp_checksum(one, 1), (uint16_t)~0xab00);
    CU_ASSERT_EQUAL(icmp_checksum(NULL, 0), 0xffff);
}

static void test_a_message_with_its_checksum_sums_to_zero(void)
{
    uint8_t b[301];
    for (size_t len = 4; len <= sizeof b; len += 37) {
        for (size_t i = 0; i < len; i++)
            b[i] = (uint8_t)(i * 7 + 3);
        b[2] = b[3] = 0;
        uint16_t c = icmp_checksum(b, len);
        b[2] = (uint8_t)(c >> 8);
        b[3] = (uint8_t)c;
        CU_ASSERT_EQUAL(icmp_checksum(b, len), 0);
    }
}

static void test_checksum_of_all_ones_words_folds_every_carry(void)
{
    size_t len = 200000; /* more words than a 32-bit sum holds unfolded */
    uint8_t *b = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    memset(b, 0xff, len);
    CU_ASSERT_EQUAL(icmp_checksum(b, len), 0x0000);
    free(b);
}

static void test_echo_request_is_built_field_by_field(void)
{
    uint8_t b[64];
    struct timespec t = {.tv_sec = 0x0102030405060708, .tv_nsec = 999999999};
    int n = icmp_echo_build(b, sizeof b, false, 0x1234, 7, &t, 24);
    CU_ASSERT_EQUAL(n, 32);
    CU_ASSERT_EQUAL(b[0], 8);
    CU_ASSERT_EQUAL(b[1], 0);
    CU_ASSERT_EQUAL(b[4], 0x12);
    CU_ASSERT_EQUAL(b[5], 0x34);
    CU_ASSERT_EQUAL(b[6], 0);
    CU_ASSERT_EQUAL(b[7], 7);
    CU_ASSERT_EQUAL(b[8], 0x01);
    CU_ASSERT_EQUAL(b[15], 0x08);
    CU_ASSERT_EQUAL(b[24 + 16 - 16 + 0], 0x10 + 16); /* filler after the timestamp */
    CU_ASSERT_EQUAL(icmp_checksum(b, (size_t)n), 0);
    /* The same with the checksum recomputed by hand from a zero field. */
    uint16_t sent = (uint16_t)(b[2] << 8 | b[3]);
    b[2] = b[3] = 0;
    CU_ASSERT_EQUAL(icmp_checksum(b, (size_t)n), sent);
}

static void test_echo_request_refuses_a_small_buffer_and_a_huge_payload(void)
{
    uint8_t b[16];
    CU_ASSERT_EQUAL(icmp_echo_build(b, sizeof b, false, 1, 1, NULL, 9), -1);
    CU_ASSERT_EQUAL(icmp_echo_build(b, sizeof b, false, 1, 1, NULL, 8), 16);
    CU_ASSERT_EQUAL(icmp_echo_build(b, 7, false, 1, 1, NULL, 0), -1);
    CU_ASSERT_EQUAL(icmp_echo_build(b, sizeof b, false, 1, 1, NULL, ICMP_MAX_PAYLOAD + 1), -1);
}

static void test_icmpv6_request_leaves_the_checksum_to_the_kernel(void)
{
    uint8_t b[64];
    int n = icmp_echo_build(b, sizeof b, true, 5, 6, NULL, 56 - 8);
    CU_ASSERT_EQUAL(n, 56);
    CU_ASSERT_EQUAL(b[0], 128);
    CU_ASSERT_EQUAL(b[2], 0);
    CU_ASSERT_EQUAL(b[3], 0);
}

/* A reply as a raw IPv4 socket hands it over: IPv4 header, then ICMP. */
static size_t make_reply(uint8_t *b, uint16_t id, uint16_t seq, const struct timespec *t,
                         size_t payload)
{
    memset(b, 0, 20);
    b[0] = 0x45; /* version 4, 5 words of header */
    b[8] = 63;   /* TTL */
    b[9] = 1;    /* ICMP */
    b[12] = 127, b[15] = 1;
    b[16] = 127, b[19] = 2;
    int n = icmp_echo_build(b + 20, 2048, false, id, seq, t, payload);
    b[20] = 0; /* now a reply: fix the checksum up */
    b[22] = b[23] = 0;
    uint16_t c = icmp_checksum(b + 20, (size_t)n);
    b[22] = (uint8_t)(c >> 8);
    b[23] = (uint8_t)c;
    return 20 + (size_t)n;
}

static void test_a_whole_reply_gives_ttl_source_fields_and_timestamp(void)
{
    uint8_t b[2100];
    struct timespec t = {.tv_sec = 1700000000, .tv_nsec = 123456789};
    size_t len = make_reply(b, 0xbeef, 3, &t, 56);
    struct icmp_packet p;
    CU_ASSERT_EQUAL(icmp_parse(b, len, true, false, 0xbeef, &p), ICMP_ECHO_REPLY_OURS);
    CU_ASSERT_TRUE(p.has_ip);
    CU_ASSERT_EQUAL(p.ttl, 63);
    CU_ASSERT_EQUAL(p.src[0], 127);
    CU_ASSERT_EQUAL(p.src[3], 1);
    CU_ASSERT_EQUAL(p.ip_header_len, 20);
    CU_ASSERT_EQUAL(p.icmp_len, 64);
    CU_ASSERT_EQUAL(p.type, 0);
    CU_ASSERT_EQUAL(p.id, 0xbeef);
    CU_ASSERT_EQUAL(p.seq, 3);
    CU_ASSERT_TRUE(p.checksum_ok);
    CU_ASSERT_TRUE(p.has_time);
    CU_ASSERT_EQUAL(p.sent.tv_sec, 1700000000);
    CU_ASSERT_EQUAL(p.sent.tv_nsec, 123456789);
    CU_ASSERT_EQUAL(p.payload_len, 56);
    /* Without the IP header (a ping socket), the same message. */
    CU_ASSERT_EQUAL(icmp_parse(b + 20, len - 20, false, false, 0xbeef, &p), ICMP_ECHO_REPLY_OURS);
    CU_ASSERT_FALSE(p.has_ip);
    CU_ASSERT_EQUAL(p.seq, 3);
}

static void test_a_reply_cut_short_at_any_length_is_never_read_past(void)
{
    uint8_t b[200];
    size_t len = make_reply(b, 9, 1, NULL, 40);
    for (size_t cut = 0; cut < len; cut++) {
        /* Copy into a buffer of exactly `cut` bytes: ASan sees any overread. */
        uint8_t *c = malloc(cut ? cut : 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        memcpy(c, b, cut);
        struct icmp_packet p;
        enum icmp_verdict v = icmp_parse(c, cut, true, false, 9, &p);
        /* Under 28 bytes the headers are not there; from 28 on, the ICMP
         * checksum covers bytes that are gone. */
        CU_ASSERT_EQUAL(v, cut < 28 ? ICMP_TOO_SHORT : ICMP_BAD_CHECKSUM);
        free(c);
    }
}

static void test_too_short_and_not_ipv4_are_told_apart(void)
{
    uint8_t b[64];
    size_t len = make_reply(b, 9, 1, NULL, 8);
    struct icmp_packet p;
    CU_ASSERT_EQUAL(icmp_parse(b, 10, true, false, 9, &p), ICMP_TOO_SHORT);
    CU_ASSERT_EQUAL(icmp_parse(b + 20, 7, false, false, 9, &p), ICMP_TOO_SHORT);
    b[0] = 0x65; /* version 6 */
    CU_ASSERT_EQUAL(icmp_parse(b, len, true, false, 9, &p), ICMP_BAD_IP_HEADER);
    b[0] = 0x44; /* a header of 16 bytes cannot be */
    CU_ASSERT_EQUAL(icmp_parse(b, len, true, false, 9, &p), ICMP_BAD_IP_HEADER);
    b[0] = 0x4f; /* 60 bytes of header, more than arrived */
    CU_ASSERT_EQUAL(icmp_parse(b, 40, true, false, 9, &p), ICMP_TOO_SHORT);
    b[0] = 0x45;
    b[9] = 17; /* UDP */
    CU_ASSERT_EQUAL(icmp_parse(b, len, true, false, 9, &p), ICMP_BAD_IP_HEADER);
}

static void test_a_reply_for_another_identifier_is_not_ours(void)
{
    uint8_t b[128];
    size_t len = make_reply(b, 0x1111, 1, NULL, 56);
    struct icmp_packet p;
    CU_ASSERT_EQUAL(icmp_parse(b, len, true, false, 0x2222, &p), ICMP_OTHER_ID);
    CU_ASSERT_EQUAL(p.id, 0x1111);
}

static void test_our_own_request_seen_on_loopback_is_another_type(void)
{
    uint8_t b[128];
    size_t len = make_reply(b, 7, 1, NULL, 56);
    b[20] = 8; /* an echo request, as a raw socket sees ours go out */
    b[22] = b[23] = 0;
    uint16_t c = icmp_checksum(b + 20, len - 20);
    b[22] = (uint8_t)(c >> 8), b[23] = (uint8_t)c;
    struct icmp_packet p;
    CU_ASSERT_EQUAL(icmp_parse(b, len, true, false, 7, &p), ICMP_OTHER_TYPE);
    CU_ASSERT_EQUAL(p.type, 8);
}

static void test_a_bad_checksum_is_reported_not_counted(void)
{
    uint8_t b[128];
    size_t len = make_reply(b, 7, 1, NULL, 56);
    b[40] ^= 0x01; /* one bit of the payload flipped on the way */
    struct icmp_packet p;
    CU_ASSERT_EQUAL(icmp_parse(b, len, true, false, 7, &p), ICMP_BAD_CHECKSUM);
    CU_ASSERT_FALSE(p.checksum_ok);
    CU_ASSERT_EQUAL(p.seq, 1);
}

/* A router's "time exceeded": its own IP header, ICMP type 11, then the
 * IP header and first 8 bytes of the request that died. */
static size_t make_error(uint8_t *b, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
    memset(b, 0, 20);
    b[0] = 0x45, b[8] = 64, b[9] = 1;
    uint8_t *icmp = b + 20;
    memset(icmp, 0, 8);
    icmp[0] = type, icmp[1] = code;
    uint8_t *quoted = icmp + 8;
    memset(quoted, 0, 20);
    quoted[0] = 0x45, quoted[8] = 1, quoted[9] = 1;
    icmp_echo_build(quoted + 20, 8, false, id, seq, NULL, 0);
    size_t n = 8 + 20 + 8;
    uint16_t c = icmp_checksum(icmp, n);
    icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
    return 20 + n;
}

static void test_time_exceeded_and_unreachable_name_our_request(void)
{
    uint8_t b[128];
    struct icmp_packet p;
    size_t len = make_error(b, 11, 0, 42, 5);
    CU_ASSERT_EQUAL(icmp_parse(b, len, true, false, 42, &p), ICMP_ERROR_FOR_US);
    CU_ASSERT_EQUAL(p.type, 11);
    CU_ASSERT_EQUAL(p.seq, 5);
    CU_ASSERT_STRING_EQUAL(icmp_type_name(false, p.type), "time exceeded");
    CU_ASSERT_PTR_NOT_NULL(strstr(icmp_code_text(false, 11, 0), "TTL"));
    len = make_error(b, 3, 1, 43, 6);
    CU_ASSERT_EQUAL(icmp_parse(b, len, true, false, 42, &p), ICMP_ERROR_NOT_OURS);
    CU_ASSERT_STRING_EQUAL(icmp_code_text(false, 3, 1), "host unreachable");
    /* Quoting fewer bytes than an IP header and 8 more (checksum made
     * right for what is left): cannot tell whose request it was. */
    b[22] = b[23] = 0;
    uint16_t c = icmp_checksum(b + 20, 8 + 10);
    b[22] = (uint8_t)(c >> 8), b[23] = (uint8_t)c;
    CU_ASSERT_EQUAL(icmp_parse(b, 20 + 8 + 10, true, false, 42, &p), ICMP_TOO_SHORT);
}

static void test_icmpv6_reply_is_parsed_without_a_header(void)
{
    uint8_t b[64];
    int n = icmp_echo_build(b, sizeof b, true, 77, 2, NULL, 16);
    b[0] = ICMP6_ECHO_REPLY;
    struct icmp_packet p;
    CU_ASSERT_EQUAL(icmp_parse(b, (size_t)n, false, true, 77, &p), ICMP_ECHO_REPLY_OURS);
    CU_ASSERT_FALSE(p.has_ip);
    CU_ASSERT_EQUAL(p.seq, 2);
    b[0] = ICMP6_ECHO_REQUEST;
    CU_ASSERT_EQUAL(icmp_parse(b, (size_t)n, false, true, 77, &p), ICMP_OTHER_TYPE);
}

static void test_summary_reads_as_ping_writes_it(void)
{
    struct icmp_stats s;
    icmp_stats_init(&s);
    s.sent = 3;
    icmp_stats_add(&s, 41000);
    icmp_stats_add(&s, 55000);
    icmp_stats_add(&s, 66000);
    char out[256];
    icmp_stats_summary(&s, 2003456789, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "3 packets transmitted, 3 received, 0% packet loss, time 2003ms\n"
                                "rtt min/avg/max/mdev = 0.041/0.054/0.066/0.010 ms\n");
    icmp_stats_init(&s);
    s.sent = 4;
    s.errors = 1;
    icmp_stats_add(&s, 1500000);
    icmp_stats_summary(&s, 3000000000, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "4 packets transmitted, 1 received, +1 errors, 75% packet loss, "
                                "time 3000ms\n"
                                "rtt min/avg/max/mdev = 1.500/1.500/1.500/0.000 ms\n");
    icmp_stats_init(&s);
    s.sent = 2;
    icmp_stats_summary(&s, 1000000, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "2 packets transmitted, 0 received, 100% packet loss, time 1ms\n");
    char tiny[10];
    icmp_stats_summary(&s, 1000000, tiny, sizeof tiny);
    CU_ASSERT_EQUAL(strlen(tiny), 9);
}

static void test_hexdump_shows_offsets_and_stops_at_the_buffer(void)
{
    uint8_t b[20];
    for (int i = 0; i < 20; i++)
        b[i] = (uint8_t)i;
    char out[256];
    icmp_hexdump(b, sizeof b, "  ", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "  0000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n"
                                "  0010  10 11 12 13");
    char small[12];
    icmp_hexdump(b, sizeof b, "  ", small, sizeof small);
    CU_ASSERT_STRING_EQUAL(small, "  0000  00"); /* whole bytes only */
}

UNIT_MAIN("icmp",
          {"the checksum matches RFC 1071's worked example (220d)",
           test_checksum_matches_rfc1071_worked_example},
          {"the checksum pads an odd last byte with zero",
           test_checksum_pads_an_odd_last_byte_with_zero},
          {"a message with its checksum in place sums to zero",
           test_a_message_with_its_checksum_sums_to_zero},
          {"the checksum folds every carry, even over 100000 words",
           test_checksum_of_all_ones_words_folds_every_carry},
          {"an echo request is built field by field, big-endian, checksum last",
           test_echo_request_is_built_field_by_field},
          {"building refuses a buffer too small and a payload too large",
           test_echo_request_refuses_a_small_buffer_and_a_huge_payload},
          {"an ICMPv6 request leaves the checksum to the kernel",
           test_icmpv6_request_leaves_the_checksum_to_the_kernel},
          {"a whole reply gives the TTL, the source, the fields and the timestamp",
           test_a_whole_reply_gives_ttl_source_fields_and_timestamp},
          {"a reply cut short at any length is never read past its end",
           test_a_reply_cut_short_at_any_length_is_never_read_past},
          {"too short and not IPv4 are told apart", test_too_short_and_not_ipv4_are_told_apart},
          {"a reply for another identifier is not ours",
           test_a_reply_for_another_identifier_is_not_ours},
          {"our own request seen on loopback is not a reply",
           test_our_own_request_seen_on_loopback_is_another_type},
          {"a bad checksum is reported", test_a_bad_checksum_is_reported_not_counted},
          {"time exceeded and unreachable name the request they quote",
           test_time_exceeded_and_unreachable_name_our_request},
          {"an ICMPv6 reply is parsed without an IP header",
           test_icmpv6_reply_is_parsed_without_a_header},
          {"the summary reads as ping writes it", test_summary_reads_as_ping_writes_it},
          {"the hex dump shows offsets and stops at the buffer's end",
           test_hexdump_shows_offsets_and_stops_at_the_buffer});
