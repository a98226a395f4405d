/* capture.c: packets with libpcap, as segments; see capture.h. */
#include "capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* --- parsing ---------------------------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Append the decimal digits of `v` at `p`; returns the end. */
static char *put_uint(char *p, unsigned v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

/* "127.0.0.1:9000", "[::1]:9000", or without the port when `port` < 0.
 * This runs twice for every packet, so IPv4 is written by hand rather
 * than through the C library's formatted printing. */
static void format_ip(int family, const uint8_t *ip, int port, char *buf, size_t size)
{
    char text[INET6_ADDRSTRLEN + 16], *p = text;
    if (family == AF_INET) {
        for (int i = 0; i < 4; i++) {
            if (i > 0)
                *p++ = '.';
            p = put_uint(p, ip[i]);
        }
    } else {
        if (port >= 0)
            *p++ = '[';
        if (inet_ntop(family, ip, p, INET6_ADDRSTRLEN) == NULL)
            *p = '\0';
        p += strlen(p);
        if (port >= 0)
            *p++ = ']';
    }
    if (port >= 0) {
        *p++ = ':';
        p = put_uint(p, (unsigned)port);
    }
    size_t n = (size_t)(p - text);
    if (size == 0)
        return;
    if (n >= size)
        n = size - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
}

/* The transport header at `p` (`n` bytes present, `total` bytes in the
 * packet after the IP header). */
static int parse_transport(int family, int proto, const uint8_t *src, const uint8_t *dst,
                           const uint8_t *p, size_t n, size_t total, struct segment *out)
{
    out->proto = proto;
    if (proto == IPPROTO_TCP) {
        if (n < 20)
            return -1;
        size_t hl = (size_t)(p[12] >> 4) * 4;
        if (hl < 20 || hl > total)
            return -1;
        format_ip(family, src, get16(p), out->src, sizeof out->src);
        format_ip(family, dst, get16(p + 2), out->dst, sizeof out->dst);
        out->seq = get32(p + 4);
        out->ack = get32(p + 8);
        out->flags = p[13] & 0x3f;
        out->window = get16(p + 14);
        out->len = (uint32_t)(total - hl);
        out->wscale = -1;
        /* A SYN's options may announce a window scale (kind 3). */
        size_t end = hl < n ? hl : n;
        for (size_t o = 20; o < end;) {
            uint8_t kind = p[o];
            if (kind == 0)
                break;
            if (kind == 1) {
                o++;
                continue;
            }
            if (o + 1 >= end || p[o + 1] < 2)
                break;
            if (kind == 3 && p[o + 1] == 3 && o + 2 < end)
                out->wscale = p[o + 2] > 14 ? 14 : p[o + 2];
            o += p[o + 1];
        }
        return 0;
    }
    if (proto == IPPROTO_UDP) {
        if (n < 8)
            return -1;
        format_ip(family, src, get16(p), out->src, sizeof out->src);
        format_ip(family, dst, get16(p + 2), out->dst, sizeof out->dst);
        uint16_t ulen = get16(p + 4);
        out->len = ulen >= 8 && ulen <= total ? ulen - 8u : (uint32_t)(total - 8);
        return 0;
    }
    if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
        if (n < 8)
            return -1;
        format_ip(family, src, -1, out->src, sizeof out->src);
        format_ip(family, dst, -1, out->dst, sizeof out->dst);
        out->icmp_type = p[0];
        out->icmp_code = p[1];
        out->icmp_id = get16(p + 4);
        out->icmp_seq = get16(p + 6);
        out->len = (uint32_t)(total - 8);
        return 0;
    }
    return -1;
}

static int parse_ip(const uint8_t *p, size_t n, struct segment *out)
{
    if (n < 1)
        return -1;
    int version = p[0] >> 4;
    if (version == 4) {
        if (n < 20)
            return -1;
        size_t hl = (size_t)(p[0] & 0x0f) * 4;
        size_t total = get16(p + 2);
        if (hl < 20 || hl > n || total < hl)
            return -1;
        /* A fragment after the first carries no transport header. */
        if ((get16(p + 6) & 0x1fff) != 0)
            return -1;
        out->family = AF_INET;
        out->ttl = p[8];
        size_t avail = n - hl;
        return parse_transport(AF_INET, p[9], p + 12, p + 16, p + hl, avail, total - hl, out);
    }
    if (version == 6) {
        if (n < 40)
            return -1;
        size_t payload = get16(p + 4);
        int next = p[6];
        out->family = AF_INET6;
        out->ttl = p[7];
        size_t off = 40;
        /* Skip the usual extension headers, a bounded number of them. */
        for (int i = 0; i < 8 && (next == 0 || next == 43 || next == 60); i++) {
            if (n < off + 8)
                return -1;
            size_t el = ((size_t)p[off + 1] + 1) * 8;
            next = p[off];
            off += el;
            if (off > n || off - 40 > payload)
                return -1;
        }
        if (off > n || payload < off - 40)
            return -1;
        return parse_transport(AF_INET6, next, p + 8, p + 24, p + off, n - off,
                               payload - (off - 40), out);
    }
    return -1;
}

/* Where the IP packet starts in a packet of link type `linktype`, past
 * the link header and at most one VLAN tag; -1 when the packet is not
 * IPv4 or IPv6 or is cut before that point. */
static int link_offset(int linktype, const uint8_t *pkt, size_t caplen)
{
    size_t off;
    uint16_t ethertype;
    switch (linktype) {
    case DLT_EN10MB:
        if (caplen < 14)
            return -1;
        ethertype = get16(pkt + 12);
        off = 14;
        break;
    case DLT_LINUX_SLL:
        if (caplen < 16)
            return -1;
        ethertype = get16(pkt + 14);
        off = 16;
        break;
    case DLT_LINUX_SLL2:
        if (caplen < 20)
            return -1;
        ethertype = get16(pkt);
        off = 20;
        break;
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6: return 0;
    case DLT_NULL: return caplen < 4 ? -1 : 4;
    default: return -1;
    }
    /* One 802.1Q (or 802.1ad) tag, as a capture of a VLAN interface shows:
     * the header's type names the tag, and the payload starts with the
     * tag's 2 bytes of control and the real type. */
    if (ethertype == 0x8100 || ethertype == 0x88a8) {
        if (caplen < off + 4)
            return -1;
        ethertype = get16(pkt + off + 2);
        off += 4;
    }
    if (ethertype != 0x0800 && ethertype != 0x86dd)
        return -1;
    return (int)off;
}

int capture_parse(int linktype, const uint8_t *pkt, size_t caplen, struct segment *out)
{
    memset(out, 0, sizeof *out);
    int off = link_offset(linktype, pkt, caplen);
    if (off < 0)
        return -1;
    return parse_ip(pkt + off, caplen - (size_t)off, out);
}

const char *capture_flags_text(uint8_t flags, char *buf, size_t size)
{
    static const struct {
        uint8_t bit;
        const char *name;
    } names[] = {{TCPF_SYN, "SYN"}, {TCPF_FIN, "FIN"}, {TCPF_RST, "RST"},
                 {TCPF_PSH, "PSH"}, {TCPF_URG, "URG"}, {TCPF_ACK, "ACK"}};
    /* Built without printf: this names every packet captured. */
    size_t o = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(flags & names[i].bit))
            continue;
        size_t n = strlen(names[i].name) + (o ? 1 : 0);
        if (o + n >= size)
            break;
        if (o)
            buf[o++] = '+';
        memcpy(buf + o, names[i].name, strlen(names[i].name));
        o += strlen(names[i].name);
        buf[o] = '\0';
    }
    if (o == 0)
        snprintf(buf, size, "none");
    return buf;
}

const char *capture_describe(const struct segment *s, char *buf, size_t size)
{
    char f[32];
    switch (s->proto) {
    case IPPROTO_TCP:
        snprintf(buf, size, "%s > %s %s seq %u ack %u win %u len %u", s->src, s->dst,
                 capture_flags_text(s->flags, f, sizeof f), s->rel_seq, s->rel_ack, s->window,
                 s->len);
        break;
    case IPPROTO_UDP: snprintf(buf, size, "%s > %s UDP len %u", s->src, s->dst, s->len); break;
    default:
        snprintf(buf, size, "%s > %s ICMP%s type %u code %u id %u seq %u len %u", s->src, s->dst,
                 s->proto == IPPROTO_ICMPV6 ? "v6" : "", s->icmp_type, s->icmp_code, s->icmp_id,
                 s->icmp_seq, s->len);
        break;
    }
    return buf;
}

/* --- relative numbers and duplicates ------------------------------------ */

#define TRACK_FLOWS 256
#define TRACK_RECENT 32
/* Copies of one packet arrive within this time of each other. */
#define DUP_WINDOW_NS 5000000ull

struct flow {
    bool used;
    char src[ADDR_STRLEN], dst[ADDR_STRLEN];
    uint32_t isn;
    int wscale; /* from this direction's SYN; -1: not seen */
};

struct recent {
    uint64_t fp, ts_ns;
};

struct capture_tracker {
    struct flow flows[TRACK_FLOWS];
    size_t next_flow; /* when full, the oldest is replaced */
    struct recent recent[TRACK_RECENT];
    size_t next_recent;
};

struct capture_tracker *capture_tracker_new(void)
{
    return calloc(1, sizeof(struct capture_tracker));
}

void capture_tracker_free(struct capture_tracker *t)
{
    free(t);
}

static struct flow *flow_find(struct capture_tracker *t, const char *src, const char *dst)
{
    for (size_t i = 0; i < TRACK_FLOWS; i++)
        if (t->flows[i].used && strcmp(t->flows[i].src, src) == 0 &&
            strcmp(t->flows[i].dst, dst) == 0)
            return &t->flows[i];
    return NULL;
}

static struct flow *flow_add(struct capture_tracker *t, const char *src, const char *dst,
                             uint32_t isn)
{
    struct flow *f = &t->flows[t->next_flow];
    t->next_flow = (t->next_flow + 1) % TRACK_FLOWS;
    f->used = true;
    snprintf(f->src, sizeof f->src, "%s", src);
    snprintf(f->dst, sizeof f->dst, "%s", dst);
    f->isn = isn;
    f->wscale = -1;
    return f;
}

uint64_t capture_fingerprint(const uint8_t *pkt, size_t caplen)
{
    /* FNV-1a over the bytes (at most 256) and the length. */
    uint64_t h = 1469598103934665603ull;
    size_t n = caplen < 256 ? caplen : 256;
    for (size_t i = 0; i < n; i++) {
        h ^= pkt[i];
        h *= 1099511628211ull;
    }
    h ^= caplen;
    return h * 1099511628211ull;
}

bool capture_track(struct capture_tracker *t, struct segment *s, uint64_t fingerprint)
{
    for (size_t i = 0; i < TRACK_RECENT; i++) {
        const struct recent *r = &t->recent[i];
        if (r->fp == fingerprint && r->ts_ns != 0 && s->ts_ns >= r->ts_ns &&
            s->ts_ns - r->ts_ns <= DUP_WINDOW_NS)
            return true;
    }
    t->recent[t->next_recent] = (struct recent){.fp = fingerprint, .ts_ns = s->ts_ns};
    t->next_recent = (t->next_recent + 1) % TRACK_RECENT;

    if (s->proto != IPPROTO_TCP)
        return false;
    struct flow *mine = flow_find(t, s->src, s->dst);
    if (mine == NULL || (s->flags & TCPF_SYN)) {
        /* A SYN starts a direction anew (a new connection on old ports). */
        if (mine != NULL)
            mine->isn = s->seq;
        else
            mine = flow_add(t, s->src, s->dst, s->seq);
        mine->wscale = (s->flags & TCPF_SYN) ? s->wscale : -1;
    }
    s->rel_seq = s->seq - mine->isn;
    struct flow *theirs = flow_find(t, s->dst, s->src);
    s->rel_ack = (s->flags & TCPF_ACK) && theirs != NULL ? s->ack - theirs->isn : 0;
    /* Scaling holds only when both SYNs announced it, and never applies to
     * the SYNs themselves. */
    if (!(s->flags & TCPF_SYN) && mine->wscale >= 0 && theirs != NULL && theirs->wscale >= 0)
        s->window <<= mine->wscale;
    return false;
}

/* --- live capture ------------------------------------------------------------ */

/* How the kernel is kept from handing over loopback's first copy of each
 * packet: on loopback every packet reaches a capture twice, once going
 * out and once coming in. For a busy transfer, copying both to us is half
 * the work for nothing, so the filter the kernel runs starts by refusing
 * the outgoing copy (see attach_lo and capture_loopback_prefix). */
enum prefix {
    PREFIX_NONE, /* the filter alone, as libpcap attaches it */
    PREFIX_LO,   /* on "lo": every outgoing packet is refused */
    PREFIX_ANY,  /* on "any" (DLT_LINUX_SLL2): outgoing packets on lo are refused; one
                    going out of another interface is kept, as it is its only copy */
};

/* The longest a captured packet waits in the kernel before the reader can
 * have it. */
#define TIMEOUT_MS 2

/* The pcap file is written out at least this often. */
#define FLUSH_NS 100000000ull

struct capture {
    pcap_t *pcap;
    pcap_dumper_t *dump;
    uint64_t flushed_ns; /* when the pcap file was last written out */
    int linktype;
    struct capture_tracker *tracker;
    capture_fn fn;
    void *arg;
    int handed;
    unsigned frames;
    enum prefix prefix;
    unsigned lo_ifindex; /* PREFIX_ANY: the loopback interface's index */
    char *filter;        /* the filter expression, to install again trimmed */
    /* Whole packets, trimmed when busy (see count_for_trim). */
    bool automatic, trimmed;
    bool want_trim;
    uint64_t window_ns, window_bytes, calm_since_ns, last_packet_ns; /* packet times */
    unsigned long long trimmed_packets;
};

/* At full speed, whole packets cost a bulk transfer on loopback a copy of
 * every byte into the capture's ring and another into the pcap file, and
 * the kernel drops what the capture cannot keep up with. So a capture of
 * whole packets that sees more than TRIM_ABOVE bytes a second keeps each
 * packet's first TRIM_TO bytes (its headers and the start of its payload:
 * all a sequence diagram shows) until the rate stays under TRIM_BELOW for
 * CALM_NS. The kernel trims: the filter returns TRIM_TO instead of the
 * whole length. A trimmed packet keeps its real length in the pcap file,
 * which Wireshark shows as "Packet size limited during capture". */
#define TRIM_ABOVE 32000000ull /* bytes a second: some 500 full segments */
#define TRIM_BELOW 8000000ull
#define TRIM_TO 256u
#define TRIM_WINDOW_NS 10000000ull /* rates are measured over 10 ms */
#define CALM_NS 1000000000ull

/* Attach a program as the kernel takes it (SO_ATTACH_FILTER). */
static int attach(pcap_t *p, const struct bpf_program *prog, char *err, size_t errlen)
{
    struct sock_filter *code = calloc(prog->bf_len, sizeof *code);
    if (code == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (u_int i = 0; i < prog->bf_len; i++) {
        const struct bpf_insn *in = &prog->bf_insns[i];
        code[i] = (struct sock_filter){in->code, in->jt, in->jf, in->k};
    }
    struct sock_fprog fprog = {.len = (unsigned short)prog->bf_len, .filter = code};
    int rc = setsockopt(pcap_fileno(p), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
    int e = errno;
    free(code);
    if (rc == -1) {
        snprintf(err, errlen, "cannot set the capture filter: %s", strerror(e));
        return -EINVAL;
    }
    return 0;
}

/* On "lo" (Ethernet-like headers, the kernel runs the filter on the
 * packet as we see it) the prefix is
 *
 *     ld  [packet type]       (a Linux extension: SKF_AD_PKTTYPE)
 *     jeq #PACKET_OUTGOING    yes: ret #0; no: the compiled filter
 *
 * We attach it ourselves (SO_ATTACH_FILTER): libpcap re-checks packets
 * queued before a change of filter in user space, where this load cannot
 * be run, and would drop them. */
static int attach_lo(pcap_t *p, const struct bpf_program *prog, char *err, size_t errlen)
{
    enum { PREFIX = 3 };
    if (prog->bf_len > BPF_MAXINSNS - PREFIX) {
        snprintf(err, errlen, "the capture filter is too long");
        return -EINVAL;
    }
    struct bpf_program both = {prog->bf_len + PREFIX, calloc(prog->bf_len + PREFIX,
                                                             sizeof *prog->bf_insns)};
    if (both.bf_insns == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    both.bf_insns[0] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_B | BPF_ABS,
                                                 (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE));
    both.bf_insns[1] = (struct bpf_insn)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1);
    both.bf_insns[2] = (struct bpf_insn)BPF_STMT(BPF_RET | BPF_K, 0);
    memcpy(both.bf_insns + PREFIX, prog->bf_insns, prog->bf_len * sizeof *prog->bf_insns);
    int rc = attach(p, &both, err, errlen);
    free(both.bf_insns);
    return rc;
}

/* On "any" the kernel hands over packets without a link header and
 * libpcap builds the cooked one; the prefix reads two fields of that
 * header (DLT_LINUX_SLL2: the interface index at byte 4, the packet type
 * at byte 10):
 *
 *     ld  [4]                 the interface index
 *     jeq #lo_ifindex         no: the compiled filter
 *     ldb [10]                the packet type
 *     jeq #PACKET_OUTGOING    yes: ret #0; no: the compiled filter
 *
 * Given to pcap_setfilter, libpcap turns these two loads into the
 * kernel's SKF_AD_IFINDEX and SKF_AD_PKTTYPE, so the kernel runs the
 * whole filter; the packets libpcap re-checks in user space after a
 * change of filter have the real header, so they pass or fail alike. */
int capture_loopback_prefix(const struct bpf_program *prog, unsigned lo_ifindex,
                            struct bpf_program *out)
{
    enum { PREFIX = 5 };
    if (prog->bf_len == 0 || prog->bf_len > BPF_MAXINSNS - PREFIX)
        return -EINVAL;
    struct bpf_insn *code = calloc(prog->bf_len + PREFIX, sizeof *code);
    if (code == NULL)
        return -ENOMEM;
    code[0] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4);
    code[1] = (struct bpf_insn)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo_ifindex, 0, 3);
    code[2] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 10);
    code[3] = (struct bpf_insn)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1);
    code[4] = (struct bpf_insn)BPF_STMT(BPF_RET | BPF_K, 0);
    memcpy(code + PREFIX, prog->bf_insns, prog->bf_len * sizeof *code);
    out->bf_len = prog->bf_len + PREFIX;
    out->bf_insns = code;
    return 0;
}

/*
 * A filter compiled for DLT_LINUX_SLL2, made fit for the kernel. On "any"
 * the kernel runs a packet socket's filter on the IP packet alone, with
 * no link header: a load past the 20-byte cooked header moves back by 20,
 * and a load of one of its fields becomes the kernel's own value of it
 * (protocol, interface index, device type, packet type). Returns 0, or -1
 * when the program reads something this cannot move (then libpcap
 * installs it). libpcap does the same when it installs a filter, but
 * first installs one that refuses everything and empties the socket, so
 * that packets that come meanwhile are lost unseen; attached here, one
 * filter replaces the other at once.
 */
int capture_cook_for_kernel(struct bpf_program *prog)
{
    enum { HDR = 20 };
    for (u_int i = 0; i < prog->bf_len; i++) {
        struct bpf_insn *in = &prog->bf_insns[i];
        int cls = BPF_CLASS(in->code), mode = BPF_MODE(in->code), size = BPF_SIZE(in->code);
        if (cls != BPF_LD && cls != BPF_LDX)
            continue;
        if (mode == BPF_IMM || mode == BPF_MEM)
            continue;
        if (mode == BPF_LEN)
            return -1; /* the length with or without the header: unclear */
        if (in->k >= HDR) {
            in->k -= HDR;
            continue;
        }
        if (cls != BPF_LD || mode != BPF_ABS)
            return -1;
        int ad;
        if (size == BPF_H && in->k == 0)
            ad = SKF_AD_PROTOCOL;
        else if (size == BPF_W && in->k == 4)
            ad = SKF_AD_IFINDEX;
        else if (size == BPF_H && in->k == 8)
            ad = SKF_AD_HATYPE;
        else if (size == BPF_B && in->k == 10)
            ad = SKF_AD_PKTTYPE;
        else
            return -1;
        in->k = (uint32_t)(SKF_AD_OFF + ad);
    }
    return 0;
}


static int setfilter(pcap_t *p, struct bpf_program *prog, char *err, size_t errlen)
{
    if (pcap_setfilter(p, prog) == -1) {
        snprintf(err, errlen, "cannot set the capture filter: %s", pcap_geterr(p));
        return -EINVAL;
    }
    return 0;
}

/* Keep at most `limit` bytes of each packet the program accepts (0: as
 * compiled). A classic BPF filter's result is the number of bytes to
 * keep. */
void capture_trim_program(struct bpf_program *prog, unsigned limit)
{
    for (u_int i = 0; limit > 0 && i < prog->bf_len; i++)
        if (prog->bf_insns[i].code == (BPF_RET | BPF_K) && prog->bf_insns[i].k > limit)
            prog->bf_insns[i].k = limit;
}

static int set_filter(pcap_t *p, enum prefix prefix, unsigned lo_ifindex, const char *filter,
                      unsigned limit, char *err, size_t errlen)
{
    if (filter == NULL)
        filter = "";
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1) {
        snprintf(err, errlen, "bad capture filter '%s': %s", filter, pcap_geterr(p));
        return -EINVAL;
    }
    capture_trim_program(&prog, limit);
    int rc;
    if (prefix == PREFIX_LO) {
        rc = attach_lo(p, &prog, err, errlen);
    } else if (prefix == PREFIX_ANY) {
        struct bpf_program both;
        rc = capture_loopback_prefix(&prog, lo_ifindex, &both);
        if (rc == 0) {
            struct bpf_program cooked = {both.bf_len, NULL};
            cooked.bf_insns = malloc(both.bf_len * sizeof *both.bf_insns);
            if (cooked.bf_insns != NULL) {
                memcpy(cooked.bf_insns, both.bf_insns, both.bf_len * sizeof *both.bf_insns);
                if (capture_cook_for_kernel(&cooked) == 0)
                    rc = attach(p, &cooked, err, errlen);
                else
                    rc = setfilter(p, &both, err, errlen);
                free(cooked.bf_insns);
            } else {
                rc = setfilter(p, &both, err, errlen);
            }
            free(both.bf_insns);
        } else {
            snprintf(err, errlen, "%s",
                     rc == -ENOMEM ? "out of memory" : "the capture filter is too long");
            rc = -EINVAL;
        }
    } else {
        /* Elsewhere libpcap attaches it: it knows how to fit a filter to
         * a cooked capture. */
        rc = setfilter(p, &prog, err, errlen);
    }
    pcap_freecode(&prog);
    return rc;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(char *err, size_t errlen, int code, const char *fmt, const char *detail)
{
    snprintf(err, errlen, fmt, detail);
    return code;
}

int capture_open(struct capture **out, const char *iface, const char *filter, int snaplen,
                 bool at_once, char *err, size_t errlen)
{
    char pe[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, pe);
    if (p == NULL)
        return fail(err, errlen, -ENODEV, "cannot capture on %s", pe);
    int whole = strcmp(iface, "any") == 0 ? CAPTURE_SNAPLEN_ANY : CAPTURE_SNAPLEN;
    pcap_set_snaplen(p, snaplen > 0 && snaplen < whole ? snaplen : whole);
    /* Not immediate: the kernel packs packets, each in the room its own
     * length takes, into blocks it hands over when full or TIMEOUT_MS
     * old (TPACKET_V3). Immediate mode would give each packet a slot as
     * large as the snapshot length (64 KiB) and wake the reader for each:
     * a bulk transfer then lost packets and a third of its speed. A
     * packet comes at most TIMEOUT_MS late; the viewer still names it as
     * the cause of a transition it made (model.c takes a late segment),
     * unless the socket has moved on meanwhile. A session watched one
     * call at a time asks for each packet at once (`at_once`): there a
     * packet's moment matters and speed does not. */
    pcap_set_immediate_mode(p, at_once);
    pcap_set_timeout(p, TIMEOUT_MS);
    /* Room for bursts: a bulk transfer on loopback brings 64 KiB segments
     * faster than a program is scheduled. */
    pcap_set_buffer_size(p, 32 << 20);
    int rc = pcap_activate(p);
    if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED) {
        pcap_close(p);
        return fail(err, errlen, -EPERM,
                    "capturing packets needs CAP_NET_RAW (%s): run as root, give the program "
                    "the capability (sudo setcap cap_net_raw+ep PROGRAM), or use the sandbox "
                    "mode, a private user and network namespace where no host privilege is "
                    "needed",
                    iface);
    }
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
        pcap_close(p);
        return fail(err, errlen, -ENODEV, "there is no network interface called %s", iface);
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot capture on %s: %s", iface, pcap_geterr(p));
        pcap_close(p);
        return -EIO;
    }
    enum prefix prefix = PREFIX_NONE;
    unsigned lo_ifindex = 0;
    if (strcmp(iface, "lo") == 0) {
        prefix = PREFIX_LO;
    } else if (pcap_datalink(p) == DLT_LINUX_SLL) {
        /* A cooked capture, "any": the second version of its header
         * names each packet's interface, which tells loopback's copies
         * from a packet going out of a real interface. Without it,
         * libpcap still drops loopback's outgoing copies, after the
         * kernel has copied them, and the tracker shows each packet
         * once. */
        lo_ifindex = if_nametoindex("lo");
        if (lo_ifindex != 0 && pcap_set_datalink(p, DLT_LINUX_SLL2) == 0)
            prefix = PREFIX_ANY;
    }
    if (set_filter(p, prefix, lo_ifindex, filter, 0, err, errlen) < 0) {
        pcap_close(p);
        return -EINVAL;
    }
    if (pcap_setnonblock(p, 1, pe) == -1) {
        snprintf(err, errlen, "cannot capture without blocking: %s", pe);
        pcap_close(p);
        return -EIO;
    }
    struct capture *c = calloc(1, sizeof *c);
    if (c == NULL || (c->tracker = capture_tracker_new()) == NULL) {
        free(c);
        pcap_close(p);
        return fail(err, errlen, -ENOMEM, "%s", "out of memory");
    }
    c->pcap = p;
    c->prefix = prefix;
    c->lo_ifindex = lo_ifindex;
    c->automatic = !(snaplen > 0 && snaplen < whole);
    c->filter = strdup(filter != NULL ? filter : "");
    if (c->filter == NULL) {
        capture_close(c);
        return fail(err, errlen, -ENOMEM, "%s", "out of memory");
    }
    c->linktype = pcap_datalink(p);
    /* A program started after this does not inherit the capture. */
    int fd = pcap_get_selectable_fd(p);
    if (fd >= 0)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    *out = c;
    return 0;
}

int capture_set_filter(struct capture *c, const char *filter, char *err, size_t errlen)
{
    char *copy = strdup(filter != NULL ? filter : "");
    if (copy == NULL)
        return fail(err, errlen, -ENOMEM, "%s", "out of memory");
    int rc = set_filter(c->pcap, c->prefix, c->lo_ifindex, copy, c->trimmed ? TRIM_TO : 0, err,
                        errlen);
    if (rc == 0) {
        free(c->filter);
        c->filter = copy;
    } else {
        free(copy);
    }
    return rc;
}

/* Count a packet's bytes (at the kernel's time of it, `ns`); once a
 * window is over, decide whether to trim. The filter is changed between
 * reads of the ring (apply_trim), not while libpcap walks it. */
static void count_for_trim(struct capture *c, uint64_t ns, uint32_t len)
{
    if (!c->automatic)
        return;
    c->last_packet_ns = ns;
    if (c->window_ns == 0 || ns < c->window_ns)
        c->window_ns = ns;
    c->window_bytes += len;
    if (ns - c->window_ns < TRIM_WINDOW_NS)
        return;
    uint64_t rate = c->window_bytes * 1000000000ull / (ns - c->window_ns);
    c->window_ns = ns;
    c->window_bytes = 0;
    if (!c->trimmed && rate > TRIM_ABOVE) {
        c->want_trim = true;
        pcap_breakloop(c->pcap);
    } else if (c->trimmed && rate < TRIM_BELOW) {
        if (c->calm_since_ns == 0)
            c->calm_since_ns = ns;
    } else {
        c->calm_since_ns = 0;
    }
}

/* Trim, or keep whole packets again once calm (at `now`, the kernel's
 * clock, a packet's time when packets still come). */
static void apply_trim(struct capture *c, uint64_t now)
{
    char err[256];
    if (c->want_trim) {
        c->want_trim = false;
        if (set_filter(c->pcap, c->prefix, c->lo_ifindex, c->filter, TRIM_TO, err, sizeof err) == 0)
            c->trimmed = true;
        c->calm_since_ns = 0;
        return;
    }
    if (!c->trimmed)
        return;
    /* Calm: a second of slow packets, or none at all. */
    bool calm = (c->calm_since_ns != 0 && now - c->calm_since_ns >= CALM_NS) ||
                (now > c->last_packet_ns && now - c->last_packet_ns >= CALM_NS);
    if (calm && set_filter(c->pcap, c->prefix, c->lo_ifindex, c->filter, 0, err, sizeof err) == 0) {
        c->trimmed = false;
        c->calm_since_ns = 0;
        c->window_ns = 0;
        c->window_bytes = 0;
    }
}

unsigned long long capture_trimmed(const struct capture *c, bool *now)
{
    if (now != NULL)
        *now = c->trimmed;
    return c->trimmed_packets;
}

int capture_fd(const struct capture *c)
{
    return pcap_get_selectable_fd(c->pcap);
}

int capture_linktype(const struct capture *c)
{
    return c->linktype;
}

int capture_save(struct capture *c, const char *path, char *err, size_t errlen)
{
    pcap_dumper_t *d = pcap_dump_open(c->pcap, path);
    if (d == NULL) {
        snprintf(err, errlen, "cannot write the packets to %s: %s", path, pcap_geterr(c->pcap));
        return -EIO;
    }
    if (c->dump != NULL)
        pcap_dump_close(c->dump);
    c->dump = d;
    /* Frames are numbered as the file holds them. */
    c->frames = 0;
    /* The stream keeps its own small buffer: a larger one (setvbuf) would
     * copy every byte of a 64 KiB packet once more on its way to the
     * file, where the small one lets the C library write most of it
     * straight from the capture's ring. */
    FILE *f = pcap_dump_file(d);
    if (f != NULL)
        fcntl(fileno(f), F_SETFD, FD_CLOEXEC);
    c->flushed_ns = now_ns();
    return 0;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct capture *c = (struct capture *)user;
    if (c->dump != NULL)
        pcap_dump((u_char *)c->dump, h, bytes);
    c->frames++;
    uint64_t ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * 1000ull;
    count_for_trim(c, ns, h->len);
    if (h->caplen < h->len && c->trimmed)
        c->trimmed_packets++;
    struct segment s;
    if (capture_parse(c->linktype, bytes, h->caplen, &s) == -1)
        return;
    s.frame = c->frames;
    s.ts_ns = ns;
    /* The link header differs between the two copies on "any"; the IP
     * packet does not. */
    int off = link_offset(c->linktype, bytes, h->caplen);
    uint64_t fp = capture_fingerprint(bytes + off, h->caplen - (size_t)off);
    if (capture_track(c->tracker, &s, fp))
        return;
    c->handed++;
    if (c->fn != NULL)
        c->fn(&s, c->arg);
}

int capture_poll(struct capture *c, capture_fn fn, void *arg)
{
    c->fn = fn;
    c->arg = arg;
    c->handed = 0;
    /* Empty the ring, in a bounded number of rounds. A round that takes
     * fewer packets than it may has emptied it: asking once more would
     * cost a system call for each time we are woken, that is for each
     * packet when they come one by one. */
    enum { BATCH = 4096 };
    for (int round = 0; round < 64; round++) {
        int n = pcap_dispatch(c->pcap, BATCH, on_packet, (u_char *)c);
        if (n == PCAP_ERROR)
            return -EIO;
        if (n == PCAP_ERROR_BREAK) {
            apply_trim(c, c->last_packet_ns);
            continue;
        }
        if (n < BATCH)
            break;
    }
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    apply_trim(c, (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec);
    uint64_t now = now_ns();
    /* Write the pcap file out now and then, not after every packet. */
    if (c->dump != NULL) {
        if (now - c->flushed_ns >= FLUSH_NS) {
            pcap_dump_flush(c->dump);
            c->flushed_ns = now;
        }
    }
    return c->handed;
}

int capture_drain(struct capture *c, capture_fn fn, void *arg)
{
    /* Packets of the last moments may still be on their way through the
     * kernel: wait for them, a bounded number of times. */
    int total = 0;
    struct pollfd pfd = {.fd = pcap_get_selectable_fd(c->pcap), .events = POLLIN};
    for (int round = 0; round < 5; round++) {
        int ready = pfd.fd >= 0 ? poll(&pfd, 1, 25) : 0;
        int n = capture_poll(c, fn, arg);
        if (n < 0)
            return n;
        total += n;
        if (ready <= 0 && n == 0)
            break;
    }
    if (c->dump != NULL) {
        pcap_dump_flush(c->dump);
        c->flushed_ns = now_ns();
    }
    return total;
}

int capture_stats(struct capture *c, unsigned *received, unsigned *dropped)
{
    struct pcap_stat st;
    if (pcap_stats(c->pcap, &st) == -1)
        return -EIO;
    *received = st.ps_recv;
    *dropped = st.ps_drop + st.ps_ifdrop;
    return 0;
}

void capture_close(struct capture *c)
{
    if (c == NULL)
        return;
    if (c->dump != NULL)
        pcap_dump_close(c->dump);
    pcap_close(c->pcap);
    capture_tracker_free(c->tracker);
    free(c->filter);
    free(c);
}
