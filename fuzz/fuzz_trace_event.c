/* fuzz_trace_event.c: feed the viewer's reader of trace events arbitrary
 * bytes, as a traced process could send them on the viewer's socket: one
 * or more lines a message. Every line must parse or be refused, never
 * crash, overrun or leak; what parses must write itself out as JSON that
 * parses again; and the model (the endpoints, the states) must take the
 * whole timeline, and seek within it, whatever the events say. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct timeline t = {0};
    const char *buf = (const char *)data;
    for (size_t at = 0; at < size;) {
        const char *nl = memchr(buf + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (buf + at)) + 1 : size - at;
        char why[128];
        struct ev *e = ev_parse(buf + at, len, why, sizeof why);
        at += len;
        if (e == NULL) {
            if (why[0] == '\0')
                abort(); /* a refusal always says why */
            continue;
        }
        char *json = ev_to_json(e);
        if (json != NULL) {
            struct ev *again = ev_parse(json, strlen(json), why, sizeof why);
            if (again == NULL)
                abort(); /* what we write, we must read */
            free(again);
            free(json);
        }
        if (timeline_append(&t, e) < 0)
            break;
    }
    struct model m;
    model_init(&m);
    model_apply(&m, &t);
    if (t.len > 1)
        model_seek(&m, &t, t.len / 2);
    model_free(&m);
    timeline_free(&t);
    return 0;
}
