/* icmp.c: ICMP echo messages, byte by byte; see icmp.h. */
#include "icmp.h"

#include <stdio.h>
#include <string.h>

/* A 16-bit big-endian number at p, and back. */
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

uint16_t icmp_checksum(const uint8_t *data, size_t len)
{
    /* 1. Add up the message as 16-bit big-endian words. A 32-bit sum has
     *    room for the carries of 65535 words; longer input folds as it goes. */
    uint32_t sum = 0;
    size_t i = 0;
    for (; i + 1 < len; i += 2) {
        sum += get16(data + i);
        if (sum > 0xffff0000u)
            sum = (sum & 0xffff) + (sum >> 16);
    }
    /* 2. An odd last byte is the high half of a word padded with zero. */
    if (i < len)
        sum += (uint32_t)data[i] << 8;
    /* 3. One's complement addition: carries out of the top bit come back
     *    in at the bottom ("end-around carry"), until none is left. */
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    /* 4. The checksum is the complement of that sum. */
    return (uint16_t)~sum;
}

int icmp_echo_build(uint8_t *buf, size_t cap, bool v6, uint16_t id, uint16_t seq,
                    const struct timespec *sent, size_t payload_len)
{
    if (payload_len > ICMP_MAX_PAYLOAD || cap < ICMP_HEADER_LEN + payload_len)
        return -1;
    buf[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP4_ECHO_REQUEST; /* type */
    buf[1] = 0;                                            /* code */
    put16(buf + 2, 0);                                     /* checksum: 0 while summing */
    put16(buf + 4, id);
    put16(buf + 6, seq);

    uint8_t *payload = buf + ICMP_HEADER_LEN;
    size_t at = 0;
    if (payload_len >= ICMP_TIMESTAMP_LEN && sent != NULL) {
        uint64_t s = (uint64_t)sent->tv_sec, ns = (uint64_t)sent->tv_nsec;
        for (int b = 0; b < 8; b++) {
            payload[b] = (uint8_t)(s >> (56 - 8 * b));
            payload[8 + b] = (uint8_t)(ns >> (56 - 8 * b));
        }
        at = ICMP_TIMESTAMP_LEN;
    }
    for (; at < payload_len; at++)
        payload[at] = (uint8_t)(0x10 + at);

    size_t len = ICMP_HEADER_LEN + payload_len;
    if (!v6)
        put16(buf + 2, icmp_checksum(buf, len));
    return (int)len;
}

/* The start of the request an error message quotes: the IP header of the
 * packet that failed, then at least 8 bytes of its ICMP header. */
static enum icmp_verdict parse_quoted(const uint8_t *q, size_t n, bool v6, uint16_t our_id,
                                      struct icmp_packet *p)
{
    size_t iphl;
    if (v6) {
        if (n < 40 + ICMP_HEADER_LEN)
            return ICMP_TOO_SHORT;
        if (q[0] >> 4 != 6 || q[6] != 58) /* next header: ICMPv6 */
            return ICMP_ERROR_NOT_OURS;
        iphl = 40;
    } else {
        if (n < 20)
            return ICMP_TOO_SHORT;
        iphl = (size_t)(q[0] & 0x0f) * 4;
        if (q[0] >> 4 != 4 || iphl < 20 || q[9] != 1) /* protocol: ICMP */
            return ICMP_ERROR_NOT_OURS;
        if (n < iphl + ICMP_HEADER_LEN)
            return ICMP_TOO_SHORT;
    }
    const uint8_t *req = q + iphl;
    if (req[0] != (v6 ? ICMP6_ECHO_REQUEST : ICMP4_ECHO_REQUEST))
        return ICMP_ERROR_NOT_OURS;
    p->id = get16(req + 4);
    p->seq = get16(req + 6);
    return p->id == our_id ? ICMP_ERROR_FOR_US : ICMP_ERROR_NOT_OURS;
}

enum icmp_verdict icmp_parse(const uint8_t *buf, size_t len, bool with_ip_header, bool v6,
                             uint16_t our_id, struct icmp_packet *p)
{
    memset(p, 0, sizeof *p);
    const uint8_t *m = buf;
    size_t n = len;

    if (with_ip_header && !v6) {
        /* The IPv4 header: version and header length in the first byte,
         * TTL at byte 8, protocol at 9, addresses at 12 and 16. */
        if (n < 20)
            return ICMP_TOO_SHORT;
        size_t ihl = (size_t)(m[0] & 0x0f) * 4;
        if (m[0] >> 4 != 4 || ihl < 20 || m[9] != 1)
            return ICMP_BAD_IP_HEADER;
        if (n < ihl)
            return ICMP_TOO_SHORT;
        p->has_ip = true;
        p->ip_header_len = (uint8_t)ihl;
        p->ttl = m[8];
        memcpy(p->src, m + 12, 4);
        memcpy(p->dst, m + 16, 4);
        m += ihl;
        n -= ihl;
    }

    if (n < ICMP_HEADER_LEN)
        return ICMP_TOO_SHORT;
    p->icmp_len = n;
    p->type = m[0];
    p->code = m[1];
    p->checksum = get16(m + 2);
    p->id = get16(m + 4);
    p->seq = get16(m + 6);

    /* Summed with its checksum in place, a correct message gives 0. */
    if (!v6) {
        p->checksum_ok = icmp_checksum(m, n) == 0;
        if (!p->checksum_ok)
            return ICMP_BAD_CHECKSUM;
    }

    if (p->type == (v6 ? ICMP6_ECHO_REPLY : ICMP4_ECHO_REPLY)) {
        p->payload = m + ICMP_HEADER_LEN;
        p->payload_len = n - ICMP_HEADER_LEN;
        if (p->payload_len >= ICMP_TIMESTAMP_LEN) {
            uint64_t s = 0, ns = 0;
            for (int b = 0; b < 8; b++) {
                s = s << 8 | p->payload[b];
                ns = ns << 8 | p->payload[8 + b];
            }
            if (ns < 1000000000u && s <= INT64_MAX) {
                p->has_time = true;
                p->sent.tv_sec = (time_t)s;
                p->sent.tv_nsec = (long)ns;
            }
        }
        return p->id == our_id ? ICMP_ECHO_REPLY_OURS : ICMP_OTHER_ID;
    }

    bool is_error = v6 ? (p->type == ICMP6_DEST_UNREACH || p->type == ICMP6_TIME_EXCEEDED)
                       : (p->type == ICMP4_DEST_UNREACH || p->type == ICMP4_TIME_EXCEEDED);
    if (is_error) {
        /* The error's own id/seq bytes are unused: take the quoted ones. */
        p->id = p->seq = 0;
        return parse_quoted(m + ICMP_HEADER_LEN, n - ICMP_HEADER_LEN, v6, our_id, p);
    }
    return ICMP_OTHER_TYPE;
}

const char *icmp_verdict_text(enum icmp_verdict v)
{
    switch (v) {
    case ICMP_ECHO_REPLY_OURS: return "an echo reply to our request";
    case ICMP_BAD_CHECKSUM: return "a message whose checksum is wrong";
    case ICMP_OTHER_ID: return "a reply for another process (another identifier)";
    case ICMP_ERROR_FOR_US: return "an error about one of our requests";
    case ICMP_ERROR_NOT_OURS: return "an error about someone else's packet";
    case ICMP_OTHER_TYPE: return "not a reply: our own request seen on loopback, or another type";
    case ICMP_TOO_SHORT: return "too short to hold the headers";
    case ICMP_BAD_IP_HEADER: return "not an IPv4 header carrying ICMP";
    }
    return "?";
}

const char *icmp_type_name(bool v6, uint8_t type)
{
    if (v6) {
        switch (type) {
        case ICMP6_DEST_UNREACH: return "destination unreachable";
        case 2: return "packet too big";
        case ICMP6_TIME_EXCEEDED: return "time exceeded";
        case 4: return "parameter problem";
        case ICMP6_ECHO_REQUEST: return "echo request";
        case ICMP6_ECHO_REPLY: return "echo reply";
        case 133: return "router solicitation";
        case 134: return "router advertisement";
        case 135: return "neighbor solicitation";
        case 136: return "neighbor advertisement";
        }
        return "other";
    }
    switch (type) {
    case ICMP4_ECHO_REPLY: return "echo reply";
    case ICMP4_DEST_UNREACH: return "destination unreachable";
    case 5: return "redirect";
    case ICMP4_ECHO_REQUEST: return "echo request";
    case ICMP4_TIME_EXCEEDED: return "time exceeded";
    case 12: return "parameter problem";
    }
    return "other";
}

const char *icmp_code_text(bool v6, uint8_t type, uint8_t code)
{
    if (type == (v6 ? ICMP6_TIME_EXCEEDED : ICMP4_TIME_EXCEEDED))
        return code == 0 ? "the TTL (hop limit) reached 0 in transit"
                         : "fragment reassembly time exceeded";
    if (type != (v6 ? ICMP6_DEST_UNREACH : ICMP4_DEST_UNREACH))
        return "";
    if (v6) {
        switch (code) {
        case 0: return "no route to destination";
        case 1: return "communication administratively prohibited";
        case 3: return "address unreachable";
        case 4: return "port unreachable";
        }
        return "unreachable";
    }
    switch (code) {
    case 0: return "network unreachable";
    case 1: return "host unreachable";
    case 2: return "protocol unreachable";
    case 3: return "port unreachable";
    case 4: return "fragmentation needed";
    case 13: return "communication administratively prohibited";
    }
    return "unreachable";
}

void icmp_stats_init(struct icmp_stats *s)
{
    memset(s, 0, sizeof *s);
    s->min_ns = INT64_MAX;
}

void icmp_stats_add(struct icmp_stats *s, int64_t rtt_ns)
{
    if (rtt_ns < 0)
        rtt_ns = 0;
    s->received++;
    s->timed++;
    s->sum_ns += rtt_ns;
    int64_t us = rtt_ns / 1000;
    s->sum_sq_us2 += us * us;
    if (rtt_ns < s->min_ns)
        s->min_ns = rtt_ns;
    if (rtt_ns > s->max_ns)
        s->max_ns = rtt_ns;
}

/* The integer square root (rounded down), by Newton's method, as iputils
 * does: no floating point, no libm. */
static uint64_t isqrt(uint64_t x)
{
    if (x < 2)
        return x;
    uint64_t r = x, next = (r + x / r) / 2;
    while (next < r) {
        r = next;
        next = (r + x / r) / 2;
    }
    return r;
}

/* Nanoseconds as milliseconds with three decimals: 41234 -> "0.041". */
static void ms3(int64_t ns, char *out, size_t size)
{
    int64_t us = ns / 1000;
    snprintf(out, size, "%lld.%03lld", (long long)(us / 1000), (long long)(us % 1000));
}

char *icmp_stats_summary(const struct icmp_stats *s, int64_t elapsed_ns, char *out, size_t size)
{
    unsigned long loss = s->sent ? (s->sent - s->received) * 100 / s->sent : 0;
    if (s->received > s->sent)
        loss = 0;
    char errs[32] = "";
    if (s->errors)
        snprintf(errs, sizeof errs, ", +%lu errors", s->errors);
    int n = snprintf(out, size,
                     "%lu packets transmitted, %lu received%s, %lu%% packet loss, "
                     "time %lldms\n",
                     s->sent, s->received, errs, loss, (long long)(elapsed_ns / 1000000));
    if (s->timed == 0 || n < 0 || (size_t)n >= size)
        return out;
    int64_t avg_ns = s->sum_ns / (int64_t)s->timed;
    int64_t avg_us = avg_ns / 1000;
    int64_t var = s->sum_sq_us2 / (int64_t)s->timed - avg_us * avg_us;
    int64_t mdev_ns = (int64_t)isqrt(var > 0 ? (uint64_t)var : 0) * 1000;
    char a[32], b[32], c[32], d[32];
    ms3(s->min_ns, a, sizeof a);
    ms3(avg_ns, b, sizeof b);
    ms3(s->max_ns, c, sizeof c);
    ms3(mdev_ns, d, sizeof d);
    snprintf(out + n, size - (size_t)n, "rtt min/avg/max/mdev = %s/%s/%s/%s ms\n", a, b, c, d);
    return out;
}

char *icmp_hexdump(const uint8_t *data, size_t len, const char *indent, char *out, size_t size)
{
    if (size == 0)
        return out;
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < len && used + 1 < size; i++) {
        int n;
        if (i % 16 == 0)
            n = snprintf(out + used, size - used, "%s%s%04zx ", i ? "\n" : "", indent, i);
        else
            n = 0;
        if (n < 0 || used + (size_t)n >= size)
            break;
        used += (size_t)n;
        n = snprintf(out + used, size - used, " %02x", data[i]);
        if (n < 0 || used + (size_t)n >= size)
            break;
        used += (size_t)n;
    }
    out[used] = '\0';
    return out;
}
