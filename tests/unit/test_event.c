/*
 * test_event.c: a trace event as one line of JSON (common/event.h).
 *
 * Each encoded event is read back with jansson, a real JSON parser: one
 * line, ending in '\n', with every field docs/trace-format.md requires.
 * Binary data of every kind (NULs, bytes 0x80-0xFF, invalid and overlong
 * UTF-8, surrogates, quotes, backslashes) must never break the line, and
 * the "hex" field must give back the exact bytes.
 */
#include "event.h"
#include "sockstate.h"
#include "unit.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANARY 0xA5

static const char *const required[] = {"v",   "ts_ns", "pid",   "role", "kind",  "call", "fd",
                                       "ret", "errno", "local", "peer", "state", "src"};

/* A bind that succeeded: a typical event with every field set. */
static void bind_event(struct event *e)
{
    event_init(e);
    e->seq = 7;
    e->ts_ns = 1700000000123456789ull;
    e->pid = 4242;
    e->ppid = 1;
    e->role = "server";
    e->kind = "call";
    e->call = "bind";
    e->args = "bind(3, 127.0.0.1:9000)";
    e->fd = 3;
    e->ret = 0;
    e->sock = "tcp";
    snprintf(e->local, sizeof e->local, "127.0.0.1:9000");
    e->state = TCPS_CLOSED;
    e->state_src = "tcp_info";
    e->src_file = "lessons/02-call-sequence.c";
    e->src_line = 73;
}

/*
 * Encode `e` into a buffer of EVENT_MAX bytes and parse it back; fails the
 * test (returning NULL) unless it is exactly one line of valid JSON.
 * JSON_ALLOW_NUL: a NUL byte of data is written \u0000, which is valid
 * JSON; jansson only asks to be told that strings may hold it.
 */
static json_t *encode_and_parse(const struct event *e, size_t *len_out)
{
    static char buf[EVENT_MAX + 16];
    memset(buf, CANARY, sizeof buf);
    size_t len = event_encode(e, buf, EVENT_MAX);
    if (len_out)
        *len_out = len;
    CU_ASSERT(len > 0 && len <= EVENT_MAX);
    if (len == 0 || len > EVENT_MAX)
        return NULL;
    CU_ASSERT_EQUAL(buf[len - 1], '\n');
    CU_ASSERT_PTR_EQUAL(memchr(buf, '\n', len), buf + len - 1); /* one line */
    CU_ASSERT_PTR_NULL(memchr(buf, '\0', len));                 /* no raw NUL */
    for (size_t i = EVENT_MAX; i < sizeof buf; i++)
        CU_ASSERT_EQUAL((unsigned char)buf[i], CANARY);
    json_error_t err;
    json_t *j = json_loadb(buf, len, JSON_ALLOW_NUL, &err);
    if (j == NULL)
        printf("\n  not JSON (%s at %d): %.*s", err.text, err.position, (int)len, buf);
    CU_ASSERT_PTR_NOT_NULL(j);
    CU_ASSERT(j == NULL || json_is_object(j));
    return j;
}

static void has_required_fields(json_t *j)
{
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (json_object_get(j, required[i]) == NULL) {
            printf("\n  no \"%s\" field", required[i]);
            CU_FAIL("a required field is missing");
        }
    }
}

static const char *str(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

static void test_one_line_with_every_field(void)
{
    struct event e;
    bind_event(&e);
    json_t *j = encode_and_parse(&e, NULL);
    if (j == NULL)
        return;
    has_required_fields(j);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "v")), TRACE_FORMAT_VERSION);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "ts_ns")), 1700000000123456789ll);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "pid")), 4242);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "fd")), 3);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "ret")), 0);
    CU_ASSERT_STRING_EQUAL(str(j, "role"), "server");
    CU_ASSERT_STRING_EQUAL(str(j, "kind"), "call");
    CU_ASSERT_STRING_EQUAL(str(j, "call"), "bind");
    CU_ASSERT_STRING_EQUAL(str(j, "local"), "127.0.0.1:9000");
    CU_ASSERT_STRING_EQUAL(str(j, "state"), "CLOSED");
    CU_ASSERT_STRING_EQUAL(str(j, "src"), "lessons/02-call-sequence.c:73");
    CU_ASSERT(json_is_null(json_object_get(j, "errno")));
    CU_ASSERT(json_is_null(json_object_get(j, "peer")));
    json_decref(j);
}

static void test_nothing_values_are_null(void)
{
    struct event e;
    event_init(&e);
    e.kind = "note";
    e.text = "a note";
    json_t *j = encode_and_parse(&e, NULL);
    if (j == NULL)
        return;
    has_required_fields(j);
    static const char *const nulls[] = {"call",  "fd",   "ret",   "errno",
                                        "local", "peer", "state", "src"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        CU_ASSERT(json_is_null(json_object_get(j, nulls[i])));
    CU_ASSERT_STRING_EQUAL(str(j, "text"), "a note");
    json_decref(j);
}

static void test_errno_is_symbolic(void)
{
    struct event e;
    bind_event(&e);
    e.ret = -1;
    e.err = EADDRINUSE;
    json_t *j = encode_and_parse(&e, NULL);
    if (j == NULL)
        return;
    CU_ASSERT_STRING_EQUAL(str(j, "errno"), "EADDRINUSE");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "ret")), -1);
    json_decref(j);
    e.err = ECONNREFUSED;
    j = encode_and_parse(&e, NULL);
    CU_ASSERT_STRING_EQUAL(str(j, "errno"), "ECONNREFUSED");
    json_decref(j);
    e.err = 0;
    j = encode_and_parse(&e, NULL);
    CU_ASSERT(json_is_null(json_object_get(j, "errno")));
    json_decref(j);
}

static void test_state_names(void)
{
    static const struct {
        int state;
        const char *name;
    } states[] = {
        {TCPS_ESTABLISHED, "ESTABLISHED"},
        {TCPS_SYN_SENT, "SYN_SENT"},
        {TCPS_SYN_RECEIVED, "SYN_RECEIVED"},
        {TCPS_FIN_WAIT_1, "FIN_WAIT_1"},
        {TCPS_FIN_WAIT_2, "FIN_WAIT_2"},
        {TCPS_TIME_WAIT, "TIME_WAIT"},
        {TCPS_CLOSED, "CLOSED"},
        {TCPS_CLOSE_WAIT, "CLOSE_WAIT"},
        {TCPS_LAST_ACK, "LAST_ACK"},
        {TCPS_LISTEN, "LISTEN"},
        {TCPS_CLOSING, "CLOSING"},
        {TCPS_NEW_SYN_RECV, "SYN_RECEIVED"},
    };
    struct event e;
    bind_event(&e);
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        e.state = states[i].state;
        json_t *j = encode_and_parse(&e, NULL);
        if (j == NULL)
            continue;
        CU_ASSERT_STRING_EQUAL(str(j, "state"), states[i].name);
        CU_ASSERT_STRING_EQUAL(str(j, "state_src"), "tcp_info");
        json_decref(j);
        CU_ASSERT_STRING_EQUAL(tcp_state_name(states[i].state), states[i].name);
        if (states[i].state != TCPS_NEW_SYN_RECV)
            CU_ASSERT_EQUAL(tcp_state_from_name(states[i].name), states[i].state);
    }
    /* Not TCP: null, with no source for it. */
    e.state = TCPS_NONE;
    json_t *j = encode_and_parse(&e, NULL);
    CU_ASSERT(json_is_null(json_object_get(j, "state")));
    CU_ASSERT(json_is_null(json_object_get(j, "state_src")));
    json_decref(j);
    CU_ASSERT_PTR_NULL(tcp_state_name(TCPS_COUNT));
    CU_ASSERT_PTR_NULL(tcp_state_name(-1));
    CU_ASSERT_EQUAL(tcp_state_from_name("NO_SUCH_STATE"), TCPS_NONE);
}

static void hex_of(const void *data, size_t n, char *out)
{
    const unsigned char *d = data;
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
    out[2 * n] = '\0';
}

/* A recv of `data`: encode, parse, and check the hex gives the bytes back
 * and the text preview decodes to `want` (of `want_len` bytes). */
static void check_data(const void *data, size_t n, const char *want, size_t want_len)
{
    struct event e;
    bind_event(&e);
    e.call = "recv";
    e.bytes = (long long)n;
    e.data = data;
    e.data_len = n;
    json_t *j = encode_and_parse(&e, NULL);
    if (j == NULL)
        return;
    char hex[2 * EVENT_PREVIEW + 1];
    hex_of(data, n, hex);
    CU_ASSERT_STRING_EQUAL(str(j, "hex"), hex);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "bytes")), (json_int_t)n);
    CU_ASSERT(json_is_false(json_object_get(j, "trunc")));
    json_t *d = json_object_get(j, "data");
    CU_ASSERT_EQUAL(json_string_length(d), want_len);
    if (json_string_length(d) != want_len || memcmp(json_string_value(d), want, want_len) != 0) {
        CU_FAIL("the text preview is not what it should be");
        printf("\n  preview: \"%s\"", json_string_value(d));
    }
    json_decref(j);
}

#define FFFD "\xef\xbf\xbd" /* U+REPLACEMENT CHARACTER, in UTF-8 */

static void test_binary_data_stays_json(void)
{
    /* Each line: bytes sent, then what the preview must decode to. */
    static const char in[] = "\0\x01\"\\\n\r\t\x7f" /* controls, quote, backslash */
                             "\x80\xff"             /* never valid in UTF-8 */
                             "\xc3\x28"             /* a lead byte without its tail */
                             "\xc0\xaf"             /* overlong '/' (2 bytes) */
                             "\xe0\x80\xaf"         /* overlong '/' (3 bytes) */
                             "\xed\xa0\x80"         /* a lone surrogate, U+D800 */
                             "\xf4\x90\x80\x80"     /* past U+10FFFF */
                             "\xe2\x82";            /* cut short at the end */
    static const char want[] =
        "\0\x01\"\\\n\r\t\x7f" FFFD FFFD FFFD
        "(" FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD;
    check_data(in, sizeof in - 1, want, sizeof want - 1);

    /* All 256 byte values, in four recvs of 64. */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    for (int k = 0; k < 4; k++) {
        struct event e;
        bind_event(&e);
        e.call = "recv";
        e.bytes = 64;
        e.data = all + 64 * k;
        e.data_len = 64;
        json_t *j = encode_and_parse(&e, NULL);
        char hex[2 * 64 + 1];
        hex_of(all + 64 * k, 64, hex);
        CU_ASSERT(j != NULL && strcmp(str(j, "hex"), hex) == 0);
        json_decref(j);
    }
}

static void test_valid_utf8_is_kept(void)
{
    static const char text[] =
        "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xbc \xf4\x8f\xbf\xbf";
    check_data(text, sizeof text - 1, text, sizeof text - 1);
    /* Also in text fields: a role, a note. */
    struct event e;
    event_init(&e);
    e.kind = "note";
    e.role = "caf\xc3\xa9";
    e.text = "\xf0\x9f\x98\x80 \"quoted\" back\\slash";
    json_t *j = encode_and_parse(&e, NULL);
    CU_ASSERT_STRING_EQUAL(str(j, "role"), "caf\xc3\xa9");
    CU_ASSERT_STRING_EQUAL(str(j, "text"), "\xf0\x9f\x98\x80 \"quoted\" back\\slash");
    json_decref(j);
}

static void test_huge_fields_still_fit(void)
{
    /* Far more data than the preview shows: hex of the first bytes only,
     * and "trunc" says so. */
    size_t n = 100000;
    unsigned char *data = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7); /* every kind of byte */
    struct event e;
    bind_event(&e);
    e.call = "send";
    e.bytes = (long long)n;
    e.data = data;
    e.data_len = n;
    json_t *j = encode_and_parse(&e, NULL);
    if (j != NULL) {
        has_required_fields(j);
        CU_ASSERT(json_is_true(json_object_get(j, "trunc")));
        const char *hex = str(j, "hex");
        char want[2 * EVENT_PREVIEW + 1];
        CU_ASSERT_PTR_NOT_NULL(hex);
        if (hex != NULL) {
            size_t got = strlen(hex) / 2;
            CU_ASSERT(got > 0 && got <= EVENT_PREVIEW);
            hex_of(data, got, want);
            CU_ASSERT_STRING_EQUAL(hex, want);
        }
        json_decref(j);
    }

    /* A huge args string, a huge note: the line still fits and parses. */
    char *big = malloc(n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    for (size_t i = 0; i < n; i++)
        big[i] = "a\"\\\x01\xc3\xa9"[i % 6];
    big[n] = '\0';
    e.args = big;
    size_t len = 0;
    j = encode_and_parse(&e, &len);
    CU_ASSERT(len <= EVENT_MAX);
    /* The long text is cut and says so; the event keeps every field. */
    if (j != NULL) {
        has_required_fields(j);
        const char *args = str(j, "args");
        CU_ASSERT_PTR_NOT_NULL(args);
        if (args != NULL)
            CU_ASSERT(strlen(args) > 3 && strcmp(args + strlen(args) - 3, "...") == 0);
        CU_ASSERT_STRING_EQUAL(str(j, "call"), "send");
    }
    json_decref(j);
    e.args = "send(3, buf, 100000, 0)";
    e.kind = "note";
    e.text = big;
    j = encode_and_parse(&e, &len);
    CU_ASSERT(len <= EVENT_MAX);
    if (j != NULL)
        has_required_fields(j);
    json_decref(j);
    /* A buffer too small for any form still gets a line with every field. */
    char tiny[600];
    len = event_encode(&e, tiny, sizeof tiny);
    CU_ASSERT(len > 0 && len < sizeof tiny);
    json_error_t je;
    j = json_loadb(tiny, len, 0, &je);
    CU_ASSERT_PTR_NOT_NULL(j);
    if (j != NULL) {
        has_required_fields(j);
        json_decref(j);
    }
    free(big);
    free(data);
}

/* Escaping never writes past `cap`, always ends the text with a NUL, and
 * consumes whole characters only: the output is the escaping of the
 * consumed prefix. */
static void test_escape_tiny_buffers(void)
{
    static const char in[] = "a\"b\\c\n\x01\xc3\xa9\xf0\x9f\x98\x80\xff z";
    size_t n = sizeof in - 1;
    char full[256];
    json_escape_bytes(in, n, full, sizeof full);
    for (size_t cap = 0; cap <= 64; cap++) {
        unsigned char out[96];
        memset(out, CANARY, sizeof out);
        size_t used = json_escape_bytes(in, n, (char *)out, cap);
        for (size_t i = cap; i < sizeof out; i++)
            CU_ASSERT_EQUAL(out[i], CANARY);
        if (cap == 0) {
            CU_ASSERT_EQUAL(used, 0);
            continue;
        }
        CU_ASSERT(used <= n);
        size_t olen = strnlen((char *)out, cap);
        CU_ASSERT(olen < cap);
        char again[256];
        json_escape_bytes(in, used, again, sizeof again);
        CU_ASSERT_STRING_EQUAL((char *)out, again);
        CU_ASSERT(strncmp(full, (char *)out, olen) == 0);
        /* Whatever was cut, what is there is a valid JSON string. */
        char quoted[128];
        snprintf(quoted, sizeof quoted, "[\"%s\"]", (char *)out);
        json_t *j = json_loads(quoted, JSON_ALLOW_NUL, NULL);
        CU_ASSERT_PTR_NOT_NULL(j);
        json_decref(j);
    }
    CU_ASSERT_EQUAL(json_escape_bytes(in, n, full, sizeof full), n);
}

UNIT_MAIN("events",
          {"an event is one line ending in a newline, with every required field",
           test_one_line_with_every_field},
          {"fields with nothing to say are null", test_nothing_values_are_null},
          {"errno is written by its symbolic name, and null when 0", test_errno_is_symbolic},
          {"TCP states are written by their RFC names, and null when not TCP", test_state_names},
          {"binary data, invalid UTF-8 and quotes still parse, and hex gives the exact bytes",
           test_binary_data_stays_json},
          {"valid UTF-8 such as an accent or an emoji is kept as it is", test_valid_utf8_is_kept},
          {"huge data or a huge args string still fits in EVENT_MAX as valid JSON",
           test_huge_fields_still_fit},
          {"escaping never writes past a tiny buffer nor splits a character",
           test_escape_tiny_buffers});
