/* fuzz_ws_handshake.c: the WebSocket handshake reader of common/ws.c takes
 * any bytes, as a server's request and as a client's response, whole and
 * in pieces. It must never crash or overrun, never take more bytes than it
 * was given, and must reach the same verdict whatever the pieces. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(enum ws_role role, const uint8_t *data, size_t size, size_t step,
                struct ws_handshake *h, size_t *taken)
{
    ws_handshake_init(h, role, role == WS_CLIENT ? "dGhlIHNhbXBsZSBub25jZQ==" : NULL);
    h->max_header = 1024; /* small, so the fuzzer reaches the cap */
    size_t off = 0, used;
    enum ws_hs_state st = WS_HS_MORE;
    while (off < size && st == WS_HS_MORE) {
        size_t n = step < size - off ? step : size - off;
        st = ws_handshake_feed(h, data + off, n, &used);
        if (used > n || (st == WS_HS_MORE && used != n))
            abort();
        off += used;
    }
    *taken = off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* The first byte picks the role and the size of the pieces. */
    enum ws_role role = (data[0] & 1) ? WS_CLIENT : WS_SERVER;
    size_t step = (size_t)(data[0] >> 1) % 17 + 1;
    data++;
    size--;

    static struct ws_handshake whole, pieces;
    size_t t1, t2;
    run(role, data, size, size ? size : 1, &whole, &t1);
    run(role, data, size, step, &pieces, &t2);
    if (whole.state != pieces.state || t1 != t2 || whole.err.code != pieces.err.code)
        abort();
    {
        if (whole.state != pieces.state || t1 != t2 || whole.err.code != pieces.err.code)
            abort();
        if (whole.state == WS_HS_DONE && strcmp(whole.key, pieces.key) != 0)
            abort();
    }
    char reply[1024];
    if (role == WS_SERVER && whole.state != WS_HS_MORE &&
        ws_handshake_reply(&whole, reply, sizeof reply) < 0)
        abort();
    return 0;
}
