/* test_http.c: the HTTP/1.1 reader takes bytes in any pieces, and refuses
 * malformed or oversized messages with a sentence instead of growing. */
#include <string.h>

#include "http.h"
#include "unit.h"

/* Feed `text` in pieces of `step` bytes; return the last result. */
static int feed_in_pieces(struct http_msg *m, const char *text, size_t len, size_t step,
                          size_t *taken)
{
    size_t off = 0;
    int rc = HTTP_MORE;
    while (off < len && rc == HTTP_MORE) {
        size_t n = len - off < step ? len - off : step, used = 0;
        rc = http_feed(m, text + off, n, &used);
        off += used;
    }
    if (taken)
        *taken = off;
    return rc;
}

static const char simple[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 5\r\n\r\nhello";

static void test_any_pieces(void)
{
    for (size_t step = 1; step <= sizeof simple; step++) {
        struct http_msg m;
        CU_ASSERT_EQUAL_FATAL(http_msg_init(&m, HTTP_RESPONSE, 1024, 1024), 0);
        CU_ASSERT_EQUAL(feed_in_pieces(&m, simple, sizeof simple - 1, step, NULL), HTTP_DONE);
        CU_ASSERT_EQUAL(m.status, 200);
        CU_ASSERT_STRING_EQUAL(m.reason, "OK");
        CU_ASSERT_STRING_EQUAL(http_header_get(&m, "content-type"), "text/plain");
        CU_ASSERT_EQUAL(m.body_len, 5);
        CU_ASSERT_STRING_EQUAL(m.body, "hello");
        CU_ASSERT_TRUE(m.keep_alive);
        CU_ASSERT_EQUAL(m.framing, HTTP_BODY_LENGTH);
        http_msg_free(&m);
    }
}

static void test_chunked(void)
{
    static const char text[] = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
                               "5;name=x\r\nhello\r\n7\r\n, world\r\n0\r\nX-Sum: 1\r\n\r\n";
    for (size_t step = 1; step < sizeof text; step += 3) {
        struct http_msg m;
        http_msg_init(&m, HTTP_RESPONSE, 1024, 1024);
        CU_ASSERT_EQUAL(feed_in_pieces(&m, text, sizeof text - 1, step, NULL), HTTP_DONE);
        CU_ASSERT_STRING_EQUAL(m.body, "hello, world");
        CU_ASSERT_EQUAL(m.chunks, 2);
        http_msg_free(&m);
    }
}

static void test_pipelined(void)
{
    static const char two[] = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n"
                              "Content-Length: 2\r\n\r\nhi";
    struct http_msg m;
    http_msg_init(&m, HTTP_RESPONSE, 1024, 1024);
    size_t used = 0;
    CU_ASSERT_EQUAL(http_feed(&m, two, sizeof two - 1, &used), HTTP_DONE);
    CU_ASSERT_EQUAL(m.status, 204);
    CU_ASSERT_EQUAL(used, strlen("HTTP/1.1 204 No Content\r\n\r\n"));
    http_msg_reset(&m);
    size_t more = 0;
    CU_ASSERT_EQUAL(http_feed(&m, two + used, sizeof two - 1 - used, &more), HTTP_DONE);
    CU_ASSERT_EQUAL(m.status, 200);
    CU_ASSERT_STRING_EQUAL(m.body, "hi");
    CU_ASSERT_EQUAL(used + more, sizeof two - 1);
    http_msg_free(&m);
}

static void test_until_close(void)
{
    static const char text[] = "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it";
    struct http_msg m;
    http_msg_init(&m, HTTP_RESPONSE, 1024, 1024);
    CU_ASSERT_EQUAL(http_feed(&m, text, sizeof text - 1, NULL), HTTP_MORE);
    CU_ASSERT_EQUAL(m.framing, HTTP_BODY_UNTIL_CLOSE);
    CU_ASSERT_FALSE(m.keep_alive);
    CU_ASSERT_EQUAL(http_finish(&m), HTTP_DONE);
    CU_ASSERT_STRING_EQUAL(m.body, "all of it");
    http_msg_free(&m);
}

static void test_request(void)
{
    static const char text[] = "\r\nGET /a?b=c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    struct http_msg m;
    http_msg_init(&m, HTTP_REQUEST, 1024, 1024);
    CU_ASSERT_EQUAL(http_feed(&m, text, sizeof text - 1, NULL), HTTP_DONE);
    CU_ASSERT_STRING_EQUAL(m.method, "GET");
    CU_ASSERT_STRING_EQUAL(m.target, "/a?b=c");
    CU_ASSERT_FALSE(m.keep_alive);
    CU_ASSERT_EQUAL(m.framing, HTTP_BODY_NONE);
    http_msg_free(&m);
}

/* Feed text whole; expect an error of kind `err` whose sentence holds `words`. */
static void expect_error(enum http_type type, const char *text, int finish, enum http_err err,
                         const char *words)
{
    struct http_msg m;
    http_msg_init(&m, type, 64, 32);
    int rc = http_feed(&m, text, strlen(text), NULL);
    if (finish && rc == HTTP_MORE)
        rc = http_finish(&m);
    CU_ASSERT_EQUAL(rc, HTTP_ERROR);
    CU_ASSERT_EQUAL(m.err, err);
    CU_ASSERT_PTR_NOT_NULL(strstr(http_error(&m), words));
    /* Once failed, it stays failed and takes nothing. */
    size_t used = 1;
    CU_ASSERT_EQUAL(http_feed(&m, "x", 1, &used), HTTP_ERROR);
    CU_ASSERT_EQUAL(used, 0);
    http_msg_free(&m);
}

static void test_errors(void)
{
    expect_error(HTTP_RESPONSE, "HTTP/1.1 OK\r\n\r\n", 0, HTTP_E_START_LINE, "bad status line");
    expect_error(HTTP_RESPONSE, "SSH-2.0-OpenSSH\r\n\r\n", 0, HTTP_E_START_LINE, "SSH-2.0");
    expect_error(HTTP_REQUEST, "GET/HTTP/1.1\r\n\r\n", 0, HTTP_E_START_LINE, "bad request line");
    expect_error(
        HTTP_RESPONSE,
        "HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 0,
        HTTP_E_HEAD_TOO_LONG, "longer than the cap of 64");
    expect_error(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", 0, HTTP_E_HEADER,
                 "Name: value");
    expect_error(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", 0, HTTP_E_HEADER,
                 "folding");
    expect_error(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, HTTP_E_LENGTH,
                 "Content-Length");
    expect_error(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                 0, HTTP_E_LENGTH, "two different");
    expect_error(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", 0,
                 HTTP_E_BODY_TOO_LONG, "cap of 32");
    expect_error(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0,
                 HTTP_E_CODING, "only chunked");
    expect_error(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0,
                 HTTP_E_CHUNK, "hex digits");
    expect_error(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
                 0, HTTP_E_CHUNK, "not followed by CRLF");
    expect_error(HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1,
                 HTTP_E_CLOSED_EARLY, "3 of the 10 bytes");
    expect_error(HTTP_RESPONSE, "", 1, HTTP_E_CLOSED_EARLY, "without sending anything");
    expect_error(HTTP_RESPONSE, "HTTP/1.1 200", 1, HTTP_E_CLOSED_EARLY, "headers");
}

static void test_escape(void)
{
    char buf[32];
    CU_ASSERT_STRING_EQUAL(http_escape("GET /\r\n\x01", 8, buf, sizeof buf), "GET /\\r\\n\\x01");
    char small[10];
    http_escape("0123456789abcdef", 16, small, sizeof small);
    CU_ASSERT_EQUAL(strlen(small), 9);
    CU_ASSERT_PTR_NOT_NULL(strstr(small, "..."));
}

static void test_url(void)
{
    struct http_url u;
    char err[160];
    CU_ASSERT_EQUAL(http_url_parse("http://example.org", &u, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(u.host, "example.org");
    CU_ASSERT_STRING_EQUAL(u.port, "80");
    CU_ASSERT_STRING_EQUAL(u.authority, "example.org");
    CU_ASSERT_STRING_EQUAL(u.path, "/");
    CU_ASSERT_EQUAL(http_url_parse("http://127.0.0.1:8080/a/b?c=d", &u, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(u.host, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(u.port, "8080");
    CU_ASSERT_STRING_EQUAL(u.authority, "127.0.0.1:8080");
    CU_ASSERT_STRING_EQUAL(u.path, "/a/b?c=d");
    CU_ASSERT_EQUAL(http_url_parse("http://[::1]:9000/x", &u, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(u.host, "::1");
    CU_ASSERT_STRING_EQUAL(u.authority, "[::1]:9000");
    static const char *const bad[] = {"https://x/",   "http://",         "http://:80/",
                                      "http://x:0/",  "http://x:65536/", "http://x:8a/",
                                      "http://[::1/", "http://x/a b",    "http://x/\r\nX: y",
                                      "ftp://x/",     "http://x:/",      "http://x?y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(http_url_parse(bad[i], &u, err, sizeof err), -1);
        CU_ASSERT_NOT_EQUAL(err[0], '\0');
    }
}

UNIT_MAIN("http", {"a response parses the same whatever pieces it arrives in", test_any_pieces},
          {"a chunked body is joined, with extensions and trailers skipped", test_chunked},
          {"two pipelined responses are read one after the other", test_pipelined},
          {"a body with no length ends when the peer closes", test_until_close},
          {"a request line gives the method, target and keep-alive", test_request},
          {"malformed, oversized and cut-short messages are refused with a sentence", test_errors},
          {"bytes are escaped for showing, and cut to fit", test_escape},
          {"an http:// URL gives host, port, Host header and path; bad ones a sentence", test_url});
