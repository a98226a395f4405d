/* fuzz_ws_frame.c: the frame reader of common/ws.c takes any bytes, as a
 * server and as a client, whole and in pieces of any size. It must never
 * crash, overrun or leak, never take more than it was given, and must see
 * the same events and the same error whatever the pieces. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
    int events;
    int last_kind;
    size_t last_len;
    uint32_t sum; /* of the events' bytes */
    int err;
};

static struct outcome run(enum ws_role role, uint64_t limit, const uint8_t *data, size_t size,
                          size_t step)
{
    struct outcome o = {0};
    struct ws_conn c;
    ws_conn_init(&c, role);
    c.max_message = limit;
    size_t off = 0, used;
    while (off < size) {
        size_t n = step < size - off ? step : size - off;
        struct ws_event ev;
        struct ws_error err;
        int r = ws_conn_feed(&c, data + off, n, &used, &ev, &err);
        if (used > n || (r == 0 && used != n))
            abort();
        off += used;
        if (r == -1) {
            if (err.why == NULL || err.code < 1000 || err.code > 1011)
                abort();
            o.err = err.code;
            break;
        }
        if (r == 1) {
            o.events++;
            o.last_kind = ev.kind;
            o.last_len = ev.len;
            for (size_t i = 0; i < ev.len; i++)
                o.sum = o.sum * 31 + ev.data[i];
            if (ev.kind == WS_EV_CLOSE) {
                uint8_t reply[160];
                ws_close_reply(&ev, reply, NULL);
            }
        }
    }
    ws_conn_free(&c);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* The first byte picks the role, the message limit and the pieces. */
    enum ws_role role = (data[0] & 1) ? WS_CLIENT : WS_SERVER;
    uint64_t limit = (data[0] & 2) ? 64 : WS_DEFAULT_MAX_MESSAGE;
    size_t step = (size_t)(data[0] >> 2) % 13 + 1;
    data++;
    size--;
    struct outcome a = run(role, limit, data, size, size ? size : 1);
    struct outcome b = run(role, limit, data, size, step);
    if (a.events != b.events || a.err != b.err || a.sum != b.sum || a.last_kind != b.last_kind ||
        a.last_len != b.last_len)
        abort();
    return 0;
}
