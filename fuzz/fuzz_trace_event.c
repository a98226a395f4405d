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

/* Each line as the viewer takes it; checks on what the reader says. */
static void take(struct ev *e, const char *why, void *arg)
{
    struct timeline *t = arg;
    if (e == NULL) {
        if (why[0] == '\0')
            abort(); /* a refusal always says why */
        return;
    }
    char *json = ev_to_json(e);
    if (json != NULL) {
        char again_why[128];
        struct ev *again = ev_parse(json, strlen(json), again_why, sizeof again_why);
        if (again == NULL)
            abort(); /* what we write, we must read */
        free(again);
        free(json);
    }
    timeline_append(t, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct timeline t = {0};
    ev_parse_lines((const char *)data, size, take, &t);
    struct model m;
    model_init(&m);
    while (m.applied < t.len) /* model_apply takes one entry a call */
        model_apply(&m, &t);
    if (t.len > 1)
        model_seek(&m, &t, t.len / 2);
    model_free(&m);
    timeline_free(&t);
    return 0;
}
