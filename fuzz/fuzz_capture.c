/* Fuzz target: the packet parser and tracker of common/capture.c must take
 * any bytes, of any length and link type, without reading out of bounds. */
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL};
    static struct capture_tracker *t;
    if (t == NULL)
        t = capture_tracker_new();
    if (size < 1)
        return 0;
    /* The first byte picks the link type; the rest is the packet. */
    struct segment s;
    if (capture_parse(types[data[0] % 5], data + 1, size - 1, &s) == 0) {
        s.ts_ns = size;
        capture_track(t, &s, capture_fingerprint(data + 1, size - 1));
        char buf[256];
        capture_describe(&s, buf, sizeof buf);
    }
    return 0;
}
