/*
 * icmp.h: ICMP echo messages, byte by byte (what `ping` sends and reads).
 *
 * An echo request or reply is 8 bytes of header and a payload:
 *
 *      0       1       2       3        bytes
 *   +-------+-------+---------------+
 *   | type  | code  |   checksum    |   type 8 = echo request, 0 = reply
 *   +-------+-------+---------------+   (ICMPv6: 128 = request, 129 = reply)
 *   |  identifier   |   sequence    |   identifier: which ping; sequence:
 *   +---------------+---------------+   which packet of it (big-endian)
 *   | payload: here a timestamp (16 bytes, when it fits), then filler  |
 *
 * The checksum (RFC 1071) is the one's complement of the one's complement
 * sum of the message taken as 16-bit big-endian words, computed with the
 * checksum field set to 0. A receiver sums the whole message, checksum
 * included: a correct message sums to 0xffff, so the checksum it computes
 * is 0.
 *
 * What comes back depends on the socket (lesson 04 explains why):
 *   - a raw IPv4 socket (SOCK_RAW) hands over the IPv4 header first;
 *   - a ping socket (SOCK_DGRAM, IPPROTO_ICMP) and any ICMPv6 socket hand
 *     over the ICMP message alone.
 * Besides echo replies, a raw socket sees every ICMP message the host
 * receives: other programs' replies, our own requests on loopback, and the
 * errors "time exceeded" and "destination unreachable", which quote the
 * start of the request that caused them.
 *
 * The functions here take bytes and a length, never read past it, accept
 * any input (cut short, garbage), never allocate, print or exit.
 */
#ifndef SOCKSCOPE_ICMP_H
#define SOCKSCOPE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ICMP_HEADER_LEN 8     /* type, code, checksum, identifier, sequence */
#define ICMP_TIMESTAMP_LEN 16 /* seconds and nanoseconds, 8 bytes each */
#define ICMP_MAX_PAYLOAD 65000

/* Message types used here. */
enum {
    ICMP4_ECHO_REPLY = 0,
    ICMP4_DEST_UNREACH = 3,
    ICMP4_ECHO_REQUEST = 8,
    ICMP4_TIME_EXCEEDED = 11,
    ICMP6_DEST_UNREACH = 1,
    ICMP6_TIME_EXCEEDED = 3,
    ICMP6_ECHO_REQUEST = 128,
    ICMP6_ECHO_REPLY = 129,
};

/*
 * The RFC 1071 Internet checksum of `len` bytes, as a 16-bit number to be
 * written big-endian (high byte first). An odd last byte counts as the
 * high byte of a word whose low byte is 0. Over a message that already
 * holds a correct checksum, the result is 0.
 */
uint16_t icmp_checksum(const uint8_t *data, size_t len);

/*
 * Write an echo request into buf[cap]: type (8, or 128 with `v6`), code 0,
 * identifier `id`, sequence `seq`, then `payload_len` bytes of payload:
 * the time `sent` (when payload_len >= ICMP_TIMESTAMP_LEN) followed by
 * filler bytes 0x10, 0x11, ... Then the checksum is computed over it all
 * and stored. (For ICMPv6 the kernel computes the checksum itself, over a
 * pseudo-header with both addresses; the field is sent as 0.)
 * Returns the message's length, or -1 when `cap` is too small or
 * payload_len exceeds ICMP_MAX_PAYLOAD.
 */
int icmp_echo_build(uint8_t *buf, size_t cap, bool v6, uint16_t id, uint16_t seq,
                    const struct timespec *sent, size_t payload_len);

/* What icmp_parse found. */
enum icmp_verdict {
    ICMP_ECHO_REPLY_OURS, /* an echo reply with our identifier, checksum good */
    ICMP_BAD_CHECKSUM,    /* an ICMP message whose checksum is wrong */
    ICMP_OTHER_ID,        /* an echo reply for another process */
    ICMP_ERROR_FOR_US,    /* time exceeded or unreachable, quoting our request */
    ICMP_ERROR_NOT_OURS,  /* such an error about someone else's packet */
    ICMP_OTHER_TYPE,      /* anything else (our own echo request on loopback...) */
    ICMP_TOO_SHORT,       /* fewer bytes than the headers need */
    ICMP_BAD_IP_HEADER,   /* raw IPv4: not an IPv4 header, or not ICMP */
};

struct icmp_packet {
    /* From the IPv4 header, when the input started with one. */
    bool has_ip;
    uint8_t ip_header_len; /* bytes, 20 to 60 */
    uint8_t ttl;
    uint8_t src[4], dst[4];
    /* The ICMP message. */
    size_t icmp_len; /* bytes of ICMP, header included */
    uint8_t type, code;
    uint16_t checksum;      /* as received */
    bool checksum_ok;       /* false also when not checked (ICMPv6) */
    uint16_t id, seq;       /* an echo's own; for an error, the quoted request's */
    const uint8_t *payload; /* points into the input */
    size_t payload_len;
    bool has_time; /* the payload starts with a timestamp */
    struct timespec sent;
};

/*
 * Read one received message from buf[len]. `with_ip_header`: the input
 * starts with an IPv4 header (a raw IPv4 socket). `v6`: ICMPv6 (never a
 * header, whatever `with_ip_header` says; the checksum is left to the
 * kernel, which needs both addresses to check it). `our_id`: the identifier of our requests. Fills
 * `p` as far as the input allows and returns the verdict; never reads past `len`.
 */
enum icmp_verdict icmp_parse(const uint8_t *buf, size_t len, bool with_ip_header, bool v6,
                             uint16_t our_id, struct icmp_packet *p);

/* One line for a verdict: "an echo reply for another process". */
const char *icmp_verdict_text(enum icmp_verdict v);

/* "echo reply", "time exceeded", "destination unreachable", ... */
const char *icmp_type_name(bool v6, uint8_t type);

/* What an error message's code means: for ICMPv4 unreachable code 3,
 * "port unreachable"; for time exceeded code 0, "TTL reached 0 in
 * transit". */
const char *icmp_code_text(bool v6, uint8_t type, uint8_t code);

/*
 * Round trips, as ping sums them up. Times in nanoseconds.
 */
struct icmp_stats {
    unsigned long sent, received, errors, bad_checksums;
    unsigned long timed; /* replies with a round trip (a timestamp) */
    int64_t min_ns, max_ns;
    int64_t sum_ns;     /* for the mean */
    int64_t sum_sq_us2; /* for the deviation: sum of squares, in us^2 */
};

void icmp_stats_init(struct icmp_stats *s);
/* A reply came back in rtt_ns: counts it as received and timed. (A reply
 * too small to carry a timestamp: count s->received alone.) */
void icmp_stats_add(struct icmp_stats *s, int64_t rtt_ns);

/*
 * The summary in ping's own words, into out[size]:
 *   "3 packets transmitted, 3 received, 0% packet loss, time 2003ms\n"
 *   "rtt min/avg/max/mdev = 0.041/0.054/0.066/0.010 ms\n"
 * (the second line only when a reply was timed; ", +N errors" after
 * the received count when errors came back). mdev is the mean deviation
 * sqrt(mean(rtt^2) - mean(rtt)^2). Returns out.
 */
char *icmp_stats_summary(const struct icmp_stats *s, int64_t elapsed_ns, char *out, size_t size);

/* Bytes as hex, 16 to a line, each line led by `indent` and its offset:
 *   "  0000  08 00 f7 fd 12 34 00 01  ..." Writes at most size-1 chars.
 * Returns out. */
char *icmp_hexdump(const uint8_t *data, size_t len, const char *indent, char *out, size_t size);

#endif
