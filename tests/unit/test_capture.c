/* Unit tests of common/capture.c: packets as bytes, parsed into segments. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "unit.h"

/* An Ethernet + IPv4 + TCP packet, checksums left zero (not checked). */
static size_t build_tcp4(uint8_t *p, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
                         size_t payload, const uint8_t *opts, size_t optlen)
{
    memset(p, 0, 14 + 20 + 20 + optlen + payload);
    p[12] = 0x08; /* ethertype IPv4 */
    uint8_t *ip = p + 14;
    size_t thl = 20 + optlen;
    size_t total = 20 + thl + payload;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[8] = 64;
    ip[9] = IPPROTO_TCP;
    ip[12] = 127, ip[15] = 1;
    ip[16] = 127, ip[19] = 2;
    uint8_t *t = ip + 20;
    t[0] = 0x23, t[1] = 0x28; /* 9000 */
    t[2] = 0xa0, t[3] = 0x00; /* 40960 */
    uint32_t s = htonl(seq), a = htonl(ack);
    memcpy(t + 4, &s, 4);
    memcpy(t + 8, &a, 4);
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = flags;
    t[14] = (uint8_t)(win >> 8);
    t[15] = (uint8_t)win;
    if (optlen > 0)
        memcpy(t + 20, opts, optlen);
    return 14 + total;
}

static void test_tcp_fields(void)
{
    uint8_t p[256];
    size_t n = build_tcp4(p, TCPF_PSH | TCPF_ACK, 1000, 2000, 512, 5, NULL, 0);
    struct segment s;
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, p, n, &s), 0);
    CU_ASSERT_STRING_EQUAL(s.src, "127.0.0.1:9000");
    CU_ASSERT_STRING_EQUAL(s.dst, "127.0.0.2:40960");
    CU_ASSERT_EQUAL(s.seq, 1000);
    CU_ASSERT_EQUAL(s.ack, 2000);
    CU_ASSERT_EQUAL(s.window, 512);
    CU_ASSERT_EQUAL(s.len, 5);
    CU_ASSERT_EQUAL(s.ttl, 64);
    char f[32];
    CU_ASSERT_STRING_EQUAL(capture_flags_text(s.flags, f, sizeof f), "PSH+ACK");
}

static void test_every_cut_is_refused(void)
{
    uint8_t p[256];
    size_t n = build_tcp4(p, TCPF_SYN, 1, 0, 100, 0, NULL, 0);
    struct segment s;
    /* Every length short of the TCP header fails cleanly (ASan watches). */
    for (size_t cut = 0; cut < 14 + 20 + 20; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, p, cut);
        CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, copy, cut, &s), -1);
        free(copy);
    }
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, p, n, &s), 0);
}

static void test_lying_lengths(void)
{
    uint8_t p[256];
    size_t n = build_tcp4(p, TCPF_ACK, 1, 1, 100, 0, NULL, 0);
    struct segment s;
    p[14] = 0x4f; /* IP header length 60 > what is there */
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, p, n, &s), -1);
    n = build_tcp4(p, TCPF_ACK, 1, 1, 100, 0, NULL, 0);
    p[14 + 20 + 12] = 0xf0; /* TCP header length 60 > the packet */
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, p, n, &s), -1);
    n = build_tcp4(p, TCPF_ACK, 1, 1, 100, 0, NULL, 0);
    p[12] = 0x08, p[13] = 0x06; /* ARP is not ours */
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, p, n, &s), -1);
}

static void test_relative_numbers_and_scaled_window(void)
{
    struct capture_tracker *t = capture_tracker_new();
    uint8_t p[256];
    const uint8_t ws7[] = {1, 3, 3, 7}; /* NOP, window scale 7 */
    struct segment syn, synack, ack;
    size_t n = build_tcp4(p, TCPF_SYN, 5000, 0, 65495, 0, ws7, sizeof ws7);
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, p, n, &syn), 0);
    CU_ASSERT_EQUAL(syn.wscale, 7);
    syn.ts_ns = 1000;
    CU_ASSERT_FALSE(capture_track(t, &syn, 1));
    /* The SYN+ACK goes the other way: swap the addresses by hand. */
    n = build_tcp4(p, TCPF_SYN | TCPF_ACK, 9000, 5001, 65483, 0, ws7, sizeof ws7);
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, p, n, &synack), 0);
    char tmp[ADDR_STRLEN];
    strcpy(tmp, synack.src);
    strcpy(synack.src, synack.dst);
    strcpy(synack.dst, tmp);
    synack.ts_ns = 2000;
    CU_ASSERT_FALSE(capture_track(t, &synack, 2));
    CU_ASSERT_EQUAL(synack.rel_seq, 0);
    CU_ASSERT_EQUAL(synack.rel_ack, 1);
    n = build_tcp4(p, TCPF_ACK, 5001, 9001, 512, 0, NULL, 0);
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, p, n, &ack), 0);
    ack.ts_ns = 3000;
    CU_ASSERT_FALSE(capture_track(t, &ack, 3));
    CU_ASSERT_EQUAL(ack.rel_seq, 1);
    CU_ASSERT_EQUAL(ack.rel_ack, 1);
    CU_ASSERT_EQUAL(ack.window, 512u << 7);
    capture_tracker_free(t);
}

static void test_duplicates_shown_once(void)
{
    struct capture_tracker *t = capture_tracker_new();
    uint8_t p[256];
    size_t n = build_tcp4(p, TCPF_ACK, 1, 1, 100, 0, NULL, 0);
    struct segment a, b, c;
    capture_parse(DLT_EN10MB, p, n, &a);
    b = a;
    c = a;
    uint64_t fp = capture_fingerprint(p + 14, n - 14);
    a.ts_ns = 1000000;
    b.ts_ns = 1000100;  /* the same packet 0.1 ms later: loopback's copy */
    c.ts_ns = 90000000; /* the same bytes much later: a real retransmission */
    CU_ASSERT_FALSE(capture_track(t, &a, fp));
    CU_ASSERT_TRUE(capture_track(t, &b, fp));
    CU_ASSERT_FALSE(capture_track(t, &c, fp));
    capture_tracker_free(t);
}

static void test_udp_icmp_ipv6(void)
{
    uint8_t p[128];
    memset(p, 0, sizeof p);
    /* Raw IPv6 + UDP with 3 bytes of payload. */
    p[0] = 0x60;
    p[5] = 11; /* payload length */
    p[6] = IPPROTO_UDP;
    p[7] = 64;
    p[23] = 1, p[39] = 1;       /* ::1 to ::1 */
    p[40] = 0x13, p[41] = 0x88; /* 5000 */
    p[42] = 0x13, p[43] = 0x89; /* 5001 */
    p[45] = 11;
    struct segment s;
    CU_ASSERT_EQUAL(capture_parse(DLT_RAW, p, 51, &s), 0);
    CU_ASSERT_EQUAL(s.proto, IPPROTO_UDP);
    CU_ASSERT_STRING_EQUAL(s.src, "[::1]:5000");
    CU_ASSERT_EQUAL(s.len, 3);
    /* IPv4 ICMP echo request, id 7 seq 3, 8 bytes of data. */
    memset(p, 0, sizeof p);
    p[0] = 0x45, p[3] = 36, p[8] = 64, p[9] = IPPROTO_ICMP;
    p[12] = 127, p[15] = 1, p[16] = 127, p[19] = 1;
    p[20] = 8, p[25] = 7, p[27] = 3;
    CU_ASSERT_EQUAL(capture_parse(DLT_RAW, p, 36, &s), 0);
    CU_ASSERT_EQUAL(s.icmp_type, 8);
    CU_ASSERT_EQUAL(s.icmp_id, 7);
    CU_ASSERT_EQUAL(s.icmp_seq, 3);
    CU_ASSERT_EQUAL(s.len, 8);
    char d[160];
    CU_ASSERT_PTR_NOT_NULL(strstr(capture_describe(&s, d, sizeof d), "ICMP type 8"));
}

/* The IP packet of an Ethernet frame from build_tcp4, behind another link
 * header: DLT_LINUX_SLL2 (20 bytes: type, reserved, interface index,
 * hardware type, packet type, address length, address). */
static size_t to_sll2(uint8_t *out, const uint8_t *eth, size_t n, uint32_t ifindex, uint8_t pkttype)
{
    memset(out, 0, 20);
    out[0] = 0x08; /* IPv4 */
    out[4] = (uint8_t)(ifindex >> 24), out[5] = (uint8_t)(ifindex >> 16);
    out[6] = (uint8_t)(ifindex >> 8), out[7] = (uint8_t)ifindex;
    out[8] = 0x03, out[9] = 0x04; /* ARPHRD_LOOPBACK */
    out[10] = pkttype;
    out[11] = 6;
    memcpy(out + 20, eth + 14, n - 14);
    return n - 14 + 20;
}

static void test_cooked_headers_and_vlan_tags(void)
{
    uint8_t eth[256], p[300];
    size_t n = build_tcp4(eth, TCPF_SYN | TCPF_ACK, 77, 88, 1024, 3, NULL, 0);
    struct segment want, s;
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, eth, n, &want), 0);
    /* "any": DLT_LINUX_SLL2. */
    size_t m = to_sll2(p, eth, n, 1, 0);
    CU_ASSERT_EQUAL(capture_parse(DLT_LINUX_SLL2, p, m, &s), 0);
    CU_ASSERT_STRING_EQUAL(s.src, want.src);
    CU_ASSERT_STRING_EQUAL(s.dst, want.dst);
    CU_ASSERT_EQUAL(s.seq, 77);
    CU_ASSERT_EQUAL(s.ack, 88);
    CU_ASSERT_EQUAL(s.len, 3);
    /* Every cut before the end of the TCP header is refused (ASan watches). */
    for (size_t cut = 0; cut < 20 + 20 + 20; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, p, cut);
        CU_ASSERT_EQUAL(capture_parse(DLT_LINUX_SLL2, copy, cut, &s), -1);
        free(copy);
    }
    /* DLT_LINUX_SLL with an 802.1Q tag: type 0x8100 at bytes 14-15, then
     * the tag's control and the real type. */
    memset(p, 0, 20);
    p[14] = 0x81, p[16] = 0x00, p[17] = 0x64, p[18] = 0x08;
    memcpy(p + 20, eth + 14, n - 14);
    CU_ASSERT_EQUAL(capture_parse(DLT_LINUX_SLL, p, n - 14 + 20, &s), 0);
    CU_ASSERT_STRING_EQUAL(s.src, want.src);
    CU_ASSERT_EQUAL(s.seq, 77);
    CU_ASSERT_EQUAL(capture_parse(DLT_LINUX_SLL, p, 19, &s), -1);
    /* Ethernet with an 802.1ad tag. */
    memcpy(p, eth, 12);
    p[12] = 0x88, p[13] = 0xa8, p[14] = 0, p[15] = 5, p[16] = 0x08, p[17] = 0x00;
    memcpy(p + 18, eth + 14, n - 14);
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, p, n + 4, &s), 0);
    CU_ASSERT_EQUAL(s.ack, 88);
    /* A tag around something else than IP is not ours. */
    p[16] = 0x08, p[17] = 0x06;
    CU_ASSERT_EQUAL(capture_parse(DLT_EN10MB, p, n + 4, &s), -1);
}

/* Does the filter keep this packet? */
static bool keeps(const struct bpf_program *prog, const uint8_t *p, size_t n)
{
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)n, .len = (bpf_u_int32)n};
    return pcap_offline_filter(prog, &h, p) != 0;
}

static void test_any_refuses_only_loopbacks_outgoing_copy(void)
{
    pcap_t *dead = pcap_open_dead(DLT_LINUX_SLL2, CAPTURE_SNAPLEN);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dead);
    struct bpf_program tcp, all, both;
    CU_ASSERT_EQUAL_FATAL(pcap_compile(dead, &tcp, "tcp", 1, PCAP_NETMASK_UNKNOWN), 0);
    CU_ASSERT_EQUAL_FATAL(pcap_compile(dead, &all, "", 1, PCAP_NETMASK_UNKNOWN), 0);
    enum { LO = 1, ETH = 2, HOST = 0, OUTGOING = 4 };
    uint8_t eth[256], p[300];
    size_t n = build_tcp4(eth, TCPF_ACK, 1, 1, 100, 10, NULL, 0);

    CU_ASSERT_EQUAL_FATAL(capture_loopback_prefix(&tcp, LO, &both), 0);
    /* The prefix reads only the two fields the kernel can give a filter
     * on a cooked socket (SKF_AD_IFINDEX, SKF_AD_PKTTYPE), so the kernel,
     * not the capture, does the refusing. */
    CU_ASSERT_EQUAL(both.bf_insns[0].code, BPF_LD | BPF_W | BPF_ABS);
    CU_ASSERT_EQUAL(both.bf_insns[0].k, 4);
    CU_ASSERT_EQUAL(both.bf_insns[2].code, BPF_LD | BPF_B | BPF_ABS);
    CU_ASSERT_EQUAL(both.bf_insns[2].k, 10);
    size_t m = to_sll2(p, eth, n, LO, OUTGOING);
    CU_ASSERT_FALSE(keeps(&both, p, m)); /* loopback's first copy */
    m = to_sll2(p, eth, n, LO, HOST);
    CU_ASSERT_TRUE(keeps(&both, p, m)); /* its second */
    m = to_sll2(p, eth, n, ETH, OUTGOING);
    CU_ASSERT_TRUE(keeps(&both, p, m)); /* leaving eth0: the only copy */
    m = to_sll2(p, eth, n, ETH, HOST);
    CU_ASSERT_TRUE(keeps(&both, p, m));
    /* The filter still applies behind the prefix. */
    eth[14 + 9] = IPPROTO_UDP;
    m = to_sll2(p, eth, n, ETH, OUTGOING);
    CU_ASSERT_FALSE(keeps(&both, p, m));
    free(both.bf_insns);

    /* No filter: everything but loopback's outgoing copies. */
    CU_ASSERT_EQUAL_FATAL(capture_loopback_prefix(&all, 7, &both), 0);
    m = to_sll2(p, eth, n, 7, OUTGOING);
    CU_ASSERT_FALSE(keeps(&both, p, m));
    m = to_sll2(p, eth, n, ETH, OUTGOING);
    CU_ASSERT_TRUE(keeps(&both, p, m));
    free(both.bf_insns);

    struct bpf_program empty = {0, NULL};
    CU_ASSERT_EQUAL(capture_loopback_prefix(&empty, LO, &both), -EINVAL);
    pcap_freecode(&tcp);
    pcap_freecode(&all);
    pcap_close(dead);
}

static void test_filters_for_the_kernel(void)
{
    pcap_t *dead = pcap_open_dead(DLT_LINUX_SLL2, CAPTURE_SNAPLEN_ANY);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dead);
    struct bpf_program prog, both;
    CU_ASSERT_EQUAL_FATAL(
        pcap_compile(dead, &prog, "tcp port 80 or icmp", 1, PCAP_NETMASK_UNKNOWN), 0);
    CU_ASSERT_EQUAL_FATAL(capture_loopback_prefix(&prog, 1, &both), 0);
    struct bpf_program cooked = {both.bf_len, malloc(both.bf_len * sizeof *both.bf_insns)};
    CU_ASSERT_PTR_NOT_NULL_FATAL(cooked.bf_insns);
    memcpy(cooked.bf_insns, both.bf_insns, both.bf_len * sizeof *both.bf_insns);
    CU_ASSERT_EQUAL_FATAL(capture_cook_for_kernel(&cooked), 0);
    /* Every load of the packet moves back past the 20-byte cooked header;
     * a load of one of its fields becomes the kernel's value of it. */
    int protocol = 0, ifindex = 0, pkttype = 0;
    for (u_int i = 0; i < both.bf_len; i++) {
        const struct bpf_insn *a = &both.bf_insns[i], *b = &cooked.bf_insns[i];
        CU_ASSERT_EQUAL(a->code, b->code);
        int cls = BPF_CLASS(a->code), mode = BPF_MODE(a->code);
        bool load = (cls == BPF_LD || cls == BPF_LDX) && mode != BPF_IMM && mode != BPF_MEM;
        if (!load) {
            CU_ASSERT_EQUAL(a->k, b->k);
        } else if (a->k >= 20) {
            CU_ASSERT_EQUAL(b->k, a->k - 20);
        } else {
            CU_ASSERT_EQUAL(mode, BPF_ABS);
            protocol += a->k == 0 && b->k == (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL);
            ifindex += a->k == 4 && b->k == (uint32_t)(SKF_AD_OFF + SKF_AD_IFINDEX);
            pkttype += a->k == 10 && b->k == (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE);
        }
    }
    CU_ASSERT(protocol > 0 && ifindex == 1 && pkttype == 1);
    free(cooked.bf_insns);
    free(both.bf_insns);
    pcap_freecode(&prog);

    /* A filter on the packet's length is left to libpcap. */
    CU_ASSERT_EQUAL_FATAL(pcap_compile(dead, &prog, "less 100", 1, PCAP_NETMASK_UNKNOWN), 0);
    CU_ASSERT_EQUAL(capture_cook_for_kernel(&prog), -1);
    pcap_freecode(&prog);

    /* Trimmed: what the filter accepts, it keeps at most 256 bytes of;
     * what it refuses stays refused. */
    CU_ASSERT_EQUAL_FATAL(pcap_compile(dead, &prog, "tcp", 1, PCAP_NETMASK_UNKNOWN), 0);
    capture_trim_program(&prog, 256);
    int accept = 0, refuse = 0;
    for (u_int i = 0; i < prog.bf_len; i++) {
        if (prog.bf_insns[i].code != (BPF_RET | BPF_K))
            continue;
        CU_ASSERT(prog.bf_insns[i].k == 0 || prog.bf_insns[i].k == 256);
        accept += prog.bf_insns[i].k == 256;
        refuse += prog.bf_insns[i].k == 0;
    }
    CU_ASSERT(accept > 0 && refuse > 0);
    pcap_freecode(&prog);
    pcap_close(dead);
}

static void test_addresses_written_as_inet_ntop_writes_them(void)
{
    static const uint8_t hosts[][4] = {
        {0, 0, 0, 0}, {10, 9, 100, 255}, {255, 255, 255, 255}, {192, 168, 1, 10}};
    static const unsigned ports[] = {0, 9, 80, 65535};
    uint8_t p[256];
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t n = build_tcp4(p, TCPF_ACK, 1, 1, 100, 0, NULL, 0);
        memcpy(p + 14 + 12, hosts[i], 4);
        p[14 + 20] = (uint8_t)(ports[i] >> 8), p[14 + 21] = (uint8_t)ports[i];
        struct segment s;
        CU_ASSERT_EQUAL_FATAL(capture_parse(DLT_EN10MB, p, n, &s), 0);
        char host[INET_ADDRSTRLEN], want[64];
        inet_ntop(AF_INET, hosts[i], host, sizeof host);
        snprintf(want, sizeof want, "%s:%u", host, ports[i]);
        CU_ASSERT_STRING_EQUAL(s.src, want);
    }
}

UNIT_MAIN("capture",
          {"a TCP segment's addresses, numbers, flags, window and length are read",
           test_tcp_fields},
          {"a packet cut at any byte before its TCP header is refused, never over-read",
           test_every_cut_is_refused},
          {"header lengths that point past the packet are refused", test_lying_lengths},
          {"seq and ack are relative to each direction's SYN, and the window is scaled",
           test_relative_numbers_and_scaled_window},
          {"loopback's second copy of a packet is shown once; a later retransmission is not "
           "hidden",
           test_duplicates_shown_once},
          {"UDP over IPv6 and an ICMP echo request are read", test_udp_icmp_ipv6},
          {"IPv4 addresses and ports are written as inet_ntop writes them",
           test_addresses_written_as_inet_ntop_writes_them},
          {"packets behind the cooked headers of \"any\" and behind a VLAN tag are read, and "
           "cut ones refused",
           test_cooked_headers_and_vlan_tags},
          {"on \"any\" the filter refuses loopback's outgoing copy of a packet and keeps one "
           "leaving another interface",
           test_any_refuses_only_loopbacks_outgoing_copy},
          {"a filter for \"any\" is moved past the cooked header for the kernel, whose own "
           "values stand for the header's fields; a trimmed filter keeps 256 bytes",
           test_filters_for_the_kernel});
