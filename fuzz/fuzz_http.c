/* fuzz_http.c: feed the HTTP reader arbitrary bytes, as a request and as a
 * response, whole and in pieces; it must never crash, overrun or leak, and
 * a message it accepts must read the same whatever the pieces. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static int run(enum http_type type, const uint8_t *data, size_t size, size_t step,
               struct http_msg *m)
{
    http_msg_init(m, type, 512, 4096);
    size_t off = 0;
    int rc = HTTP_MORE;
    while (rc == HTTP_MORE && off < size) {
        size_t n = size - off < step ? size - off : step, used = 0;
        rc = http_feed(m, (const char *)data + off, n, &used);
        off += used;
        /* A second message on the same connection, as keep-alive reads it. */
        if (rc == HTTP_DONE && off < size && m->keep_alive) {
            http_msg_reset(m);
            rc = HTTP_MORE;
        }
    }
    if (rc == HTTP_MORE)
        rc = http_finish(m);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The URL reader too, on the same bytes as a string. */
    char *text = malloc(size + 1);
    if (text != NULL) {
        memcpy(text, data, size);
        text[size] = '\0';
        struct http_url u;
        char err[160];
        if (http_url_parse(text, &u, err, sizeof err) == 0 &&
            (u.path == NULL || u.host[0] == '\0' || strlen(u.authority) < strlen(u.host)))
            abort();
        free(text);
    }
    for (int t = 0; t < 2; t++) {
        struct http_msg whole, bytes;
        int a = run(t ? HTTP_REQUEST : HTTP_RESPONSE, data, size, size ? size : 1, &whole);
        int b = run(t ? HTTP_REQUEST : HTTP_RESPONSE, data, size, 1, &bytes);
        if (a != b || (a == HTTP_DONE && (whole.body_len != bytes.body_len ||
                                          memcmp(whole.body, bytes.body, whole.body_len) != 0)))
            abort();
        if (a == HTTP_DONE)
            for (size_t i = 0; i < whole.nheaders; i++)
                (void)strlen(whole.headers[i].name), (void)strlen(whole.headers[i].value);
        char buf[64];
        http_progress(&whole, buf, sizeof buf);
        http_escape((const char *)data, size, buf, sizeof buf);
        http_msg_free(&whole);
        http_msg_free(&bytes);
    }
    return 0;
}
