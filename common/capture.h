/*
 * capture.h: packets on the wire, read with libpcap and turned into
 * segments a person can follow.
 *
 * A segment is one TCP segment, UDP datagram or ICMP message, with what a
 * sequence diagram labels it with: addresses, TCP flags, sequence and
 * acknowledgement numbers relative to the start of each direction (as
 * Wireshark shows them), payload length and window.
 *
 * Capturing needs CAP_NET_RAW. capture_open() says plainly when it is
 * missing; sandbox.h gives a way to get it without privilege on the host.
 *
 * The parser (capture_parse) takes raw bytes and their length, checks every
 * length before reading, and never trusts a header field: it is fuzzed.
 */
#ifndef SOCKSCOPE_CAPTURE_H
#define SOCKSCOPE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* TCP flags as in the header. */
enum {
    TCPF_FIN = 0x01,
    TCPF_SYN = 0x02,
    TCPF_RST = 0x04,
    TCPF_PSH = 0x08,
    TCPF_ACK = 0x10,
    TCPF_URG = 0x20,
};

/* Large enough for loopback's 64 KiB segments with their headers. */
#define CAPTURE_SNAPLEN 262144
/* Whole packets on "any": the largest IP packet (an IPv6 header and 65535
 * bytes of payload) behind the cooked header (20 bytes) and a VLAN tag.
 * libpcap gives each packet a slot of the kernel's ring as large as the
 * snaplen there (on "lo", as large as the MTU), so CAPTURE_SNAPLEN would
 * leave a quarter as many slots, and small packets would be dropped after
 * a far shorter pause of the reader. */
#define CAPTURE_SNAPLEN_ANY (40 + 65535 + 20 + 4)

struct segment {
    uint64_t ts_ns;        /* when the kernel saw it */
    unsigned frame;        /* its number among the packets captured (and saved since
                              capture_save), from 1 */
    int family;            /* AF_INET or AF_INET6 */
    int proto;             /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 */
    char src[ADDR_STRLEN]; /* "127.0.0.1:9000"; no port for ICMP */
    char dst[ADDR_STRLEN];
    uint8_t ttl;               /* TTL or hop limit */
    uint8_t flags;             /* TCP flags */
    uint32_t seq, ack;         /* TCP: as on the wire */
    uint32_t rel_seq, rel_ack; /* TCP: relative, filled by capture_relative() */
    uint32_t window;           /* TCP: the advertised window in bytes: the header's field,
                                  scaled by the shift the SYN announced when the tracker saw
                                  it (as Wireshark's calculated window size) */
    int wscale;                /* TCP: the window scale a SYN announces; -1 none */
    uint32_t len;              /* payload bytes (TCP, UDP, ICMP data) */
    uint8_t icmp_type, icmp_code;
    uint16_t icmp_id, icmp_seq;
};

/*
 * Parse one captured packet of link type `linktype` (a DLT_ value:
 * DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL), `caplen`
 * bytes of it present at `pkt`. Returns 0 and fills *out (ts_ns and the
 * relative numbers excepted), or -1 when it is not an IPv4/IPv6 packet of
 * TCP, UDP or ICMP, or is cut too short to read its headers.
 */
int capture_parse(int linktype, const uint8_t *pkt, size_t caplen, struct segment *out);

/* "SYN", "SYN+ACK", "PSH+ACK", "FIN+ACK", "RST", ... into buf. */
const char *capture_flags_text(uint8_t flags, char *buf, size_t size);

/* One line for a person: "127.0.0.1:9000 > 127.0.0.1:41234 SYN+ACK seq 0
 * ack 1 win 65483 len 0". */
const char *capture_describe(const struct segment *s, char *buf, size_t size);

/*
 * Relative sequence numbers and loopback duplicates. A tracker remembers,
 * for each direction of each connection, the first sequence number seen
 * (the SYN's, when seen), and the last packets seen: the kernel may hand
 * a capture one packet twice (on loopback, going out and coming in, when
 * the filter cannot refuse the first; on "any", a packet that crosses a
 * VLAN interface and its parent).
 */
struct capture_tracker;

struct capture_tracker *capture_tracker_new(void);
void capture_tracker_free(struct capture_tracker *t);

/* Fill s->rel_seq and s->rel_ack. Returns true when `s` repeats a packet
 * seen in the last few milliseconds, with the same bytes (`fingerprint`
 * is a hash of the packet): the caller shows it once. */
bool capture_track(struct capture_tracker *t, struct segment *s, uint64_t fingerprint);

/* A hash of a packet's bytes, for capture_track. */
uint64_t capture_fingerprint(const uint8_t *pkt, size_t caplen);

/* --- live capture ---------------------------------------------------------- */

struct capture;

/*
 * Start capturing on interface `iface` ("any", "lo", "eth0") with a
 * pcap-filter expression (`filter`, e.g. "tcp port 9000 or icmp"; NULL:
 * everything), keeping at most `snaplen` bytes of each packet (0: whole
 * packets, CAPTURE_SNAPLEN, CAPTURE_SNAPLEN_ANY on "any"; 128 keeps the
 * headers, which costs far less at full speed). Packets are handed over
 * in blocks, each at most 2 ms after its first packet, or with `at_once`
 * each as it comes (for a session watched a call at a time, where a
 * packet's moment matters more than speed). Returns 0 and *out, or a
 * negative errno with a sentence in `err`: -EPERM when CAP_NET_RAW is
 * missing (the sentence names the ways to get it), -ENODEV for an unknown
 * interface, -EINVAL for a bad filter.
 *
 * On "lo", and on "any" (whose packets then come with a DLT_LINUX_SLL2
 * header, which names their interface), the kernel hands over only the
 * incoming copy of each loopback packet: the filter it runs starts with a
 * prefix that refuses the outgoing one. A packet going out of any other
 * interface is kept: it is its only copy.
 */
int capture_open(struct capture **out, const char *iface, const char *filter, int snaplen,
                 bool at_once, char *err, size_t errlen);

/* Change the filter of a running capture (as capture_open's `filter`), e.g.
 * when a program's ports become known. Returns 0 or -EINVAL with a
 * sentence in `err`. */
int capture_set_filter(struct capture *c, const char *filter, char *err, size_t errlen);
/* A file descriptor that becomes readable when packets wait (for poll). */
int capture_fd(const struct capture *c);

/* The link type packets come in (a DLT_ value). */
int capture_linktype(const struct capture *c);

/* Also write every packet to a pcap file that Wireshark and tshark open.
 * Returns 0 or a negative errno with a sentence in `err`. */
int capture_save(struct capture *c, const char *path, char *err, size_t errlen);

/*
 * Read the packets that wait, without blocking: each is parsed, tracked
 * and, unless it is a duplicate, handed to `fn`. Returns the number handed
 * over, or a negative errno.
 */
typedef void (*capture_fn)(const struct segment *s, void *arg);
int capture_poll(struct capture *c, capture_fn fn, void *arg);

/* At the end of a capture: like capture_poll, but also waits (at most
 * ~125 ms, less when nothing comes) for packets still on their way.
 * Returns how many segments were handed to `fn`. */
int capture_drain(struct capture *c, capture_fn fn, void *arg);

/* A capture of whole packets (snaplen 0) that gets more than some 32 MB a
 * second of them keeps only the first 256 bytes of each (headers and the
 * start of the payload) until the rate has stayed under 8 MB/s for a
 * second: at full speed, copying whole packets would slow the transfer
 * and lose packets. Returns how many packets were kept so trimmed, and in
 * *now (unless NULL) whether it trims now. */
unsigned long long capture_trimmed(const struct capture *c, bool *now);

/* Keep at most `limit` bytes of each packet a compiled filter accepts
 * (0: as compiled). */
struct bpf_program;
void capture_trim_program(struct bpf_program *prog, unsigned limit);

/* Make a program compiled for DLT_LINUX_SLL2 fit for the kernel's filter
 * of an "any" capture (which sees the IP packet without the cooked
 * header). Returns 0, or -1 when it reads what cannot be moved. */
int capture_cook_for_kernel(struct bpf_program *prog);

/* Packets the kernel received for the capture and those it dropped. */
int capture_stats(struct capture *c, unsigned *received, unsigned *dropped);

/* Stop: flush the pcap file, free everything. */
void capture_close(struct capture *c);

/* The filter program of a capture on "any", exposed for its tests: `prog`
 * (compiled for DLT_LINUX_SLL2) behind a prefix that refuses outgoing
 * packets on the interface `lo_ifindex`. Returns 0 and *out (free
 * out->bf_insns), -EINVAL when the program is empty or would be too long,
 * or -ENOMEM. */
struct bpf_program;
int capture_loopback_prefix(const struct bpf_program *prog, unsigned lo_ifindex,
                            struct bpf_program *out);

#endif
