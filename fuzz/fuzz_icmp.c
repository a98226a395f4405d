/*
 * fuzz_icmp.c: libFuzzer target for the ICMP reply parser (common/icmp.c).
 *
 * The first byte of the input chooses how the rest is read: bit 0, with an
 * IPv4 header in front (a raw IPv4 socket); bit 1, as ICMPv6. The rest is
 * what a socket could hand over, copied into a buffer of exactly its size
 * so AddressSanitizer catches a read one byte past it. The parser must
 * give a verdict for anything, and what it fills must stay inside the
 * input. Then a request built from the input's bytes, turned into a reply,
 * must parse back to the same identifier and sequence.
 *
 *   make fuzz-icmp          run it for a while
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "icmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool with_ip = data[0] & 1, v6 = data[0] & 2;
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data + 1, len);

    struct icmp_packet p;
    uint16_t our_id = len >= 6 ? (uint16_t)(buf[len - 2] << 8 | buf[len - 1]) : 0;
    enum icmp_verdict v = icmp_parse(buf, len, with_ip, v6, our_id, &p);
    if (icmp_verdict_text(v) == NULL || icmp_type_name(v6, p.type) == NULL ||
        icmp_code_text(v6, p.type, p.code) == NULL)
        abort();
    if (v6 && p.has_ip)
        abort();
    if (p.payload != NULL) {
        /* The payload lies inside the input. */
        if (p.payload < buf || p.payload + p.payload_len > buf + len)
            abort();
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < p.payload_len; i++)
            sum += p.payload[i];
    }
    if (v == ICMP_ECHO_REPLY_OURS && p.id != our_id)
        abort();
    char dump[256];
    icmp_hexdump(buf, len, "  ", dump, sizeof dump);
    if (strlen(dump) >= sizeof dump)
        abort();

    /* Round trip: build, make it a reply, parse it back. */
    uint16_t id = len >= 2 ? (uint16_t)(buf[0] << 8 | buf[1]) : 1;
    uint16_t seq = len >= 4 ? (uint16_t)(buf[2] << 8 | buf[3]) : 2;
    size_t payload = len % 200;
    uint8_t req[ICMP_HEADER_LEN + 200];
    struct timespec t = {.tv_sec = (time_t)len, .tv_nsec = 5};
    int n = icmp_echo_build(req, sizeof req, v6, id, seq, &t, payload);
    if (n != (int)(ICMP_HEADER_LEN + payload))
        abort();
    req[0] = v6 ? ICMP6_ECHO_REPLY : ICMP4_ECHO_REPLY;
    req[2] = req[3] = 0;
    if (!v6) {
        uint16_t c = icmp_checksum(req, (size_t)n);
        req[2] = (uint8_t)(c >> 8);
        req[3] = (uint8_t)c;
    }
    if (icmp_parse(req, (size_t)n, false, v6, id, &p) != ICMP_ECHO_REPLY_OURS || p.seq != seq ||
        p.has_time != (payload >= ICMP_TIMESTAMP_LEN))
        abort();
    free(buf);
    return 0;
}
