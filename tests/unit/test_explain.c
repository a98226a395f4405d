/*
 * test_explain.c: the catalog of plain explanations.
 *
 * Checks that every traced call says what it does, that every errno its man
 * pages document has its own why and hint, that other errnos and unknown
 * calls fall back, and that explain_fill() fills placeholders without ever
 * writing past the buffer.
 */
#include "errnames.h"
#include "explain.h"
#include "unit.h"
#include "wrap.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_WHY 200
#define MAX_HINT 160
#define LAST_ERRNO 200 /* Linux errno values stay below this */

static int listed(const int *errnos, int err)
{
    for (; *errnos != 0; errnos++)
        if (*errnos == err)
            return 1;
    return 0;
}

static size_t count_calls(void)
{
    size_t n = 0;
    for (const char *const *c = explain_calls(); *c != NULL; c++)
        n++;
    return n;
}

/* Plain ASCII, one sentence or more ending in a period, placeholders only
 * the three that explain_fill() knows, and no longer than `max`. */
static int reads_as_catalog_text(const char *s, size_t max)
{
    static const char *const tokens[] = {"{port}", "{addr}", "{fd}"};
    size_t n = strlen(s);
    if (n == 0 || n > max || s[n - 1] != '.')
        return 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < 0x20 || *p > 0x7e)
            return 0;
        if (*p == '}')
            return 0; /* a closing brace is only ever skipped over below */
        if (*p == '{') {
            size_t i = 0;
            while (i < 3 && strncmp(p, tokens[i], strlen(tokens[i])) != 0)
                i++;
            if (i == 3)
                return 0;
            p += strlen(tokens[i]) - 1;
        }
    }
    return 1;
}

static void test_catalog_holds_the_traced_calls(void)
{
    static const char *const traced[] = {
        "socket",     "socketpair",    "bind",   "listen",     "accept",      "accept4",
        "connect",    "send",          "sendto", "sendmsg",    "recv",        "recvfrom",
        "recvmsg",    "read",          "write",  "shutdown",   "close",       "setsockopt",
        "getsockopt", "poll",          "select", "epoll_wait", "getsockname", "getpeername",
        "epoll_ctl",  "epoll_create1", "fork",
    };
    size_t n = sizeof traced / sizeof traced[0];
    CU_ASSERT_EQUAL(count_calls(), n);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_PTR_NOT_NULL(explain_call(traced[i]));
        CU_ASSERT_PTR_NOT_NULL(explain_documented_errnos(traced[i]));
    }
}

/* The interposer's own list: a call wrapped later without words in the
 * catalog fails here, not in front of a student. */
static void test_every_wrapped_call_is_in_the_catalog(void)
{
    size_t n = 0;
    for (const char *const *c = wrap_calls; *c != NULL; c++, n++) {
        const char *what = explain_call(*c);
        if (what == NULL)
            printf("\n  the tracer wraps %s, which the catalog lacks", *c);
        CU_ASSERT_PTR_NOT_NULL(what);
        const int *errnos = explain_documented_errnos(*c);
        CU_ASSERT(errnos != NULL && errnos[0] != 0);
    }
    /* The list: socket ... epoll_wait, 22 calls. */
    CU_ASSERT(n >= 22);
}

static void test_every_call_says_what_it_does_in_one_sentence(void)
{
    for (const char *const *c = explain_calls(); *c != NULL; c++) {
        const char *what = explain_call(*c);
        CU_ASSERT_PTR_NOT_NULL_FATAL(what);
        CU_ASSERT(what[0] >= 'A' && what[0] <= 'Z');
        CU_ASSERT(reads_as_catalog_text(what, MAX_WHY));
    }
}

static void test_every_documented_errno_has_its_own_why_and_hint(void)
{
    for (const char *const *c = explain_calls(); *c != NULL; c++) {
        const int *errnos = explain_documented_errnos(*c);
        CU_ASSERT_PTR_NOT_NULL_FATAL(errnos);
        CU_ASSERT(errnos[0] != 0);
        for (const int *e = errnos; *e != 0; e++) {
            struct explanation ex = {NULL, NULL};
            int specific = explain_errno(*c, *e, &ex);
            if (!specific)
                printf("\n  no entry for %s + %s", *c, errno_name(*e));
            CU_ASSERT_EQUAL(specific, 1);
            CU_ASSERT_PTR_NOT_NULL_FATAL(ex.why);
            CU_ASSERT_PTR_NOT_NULL_FATAL(ex.hint);
            CU_ASSERT(ex.why[0] != '\0');
            CU_ASSERT(ex.hint[0] != '\0');
        }
    }
}

static void test_a_call_has_entries_for_exactly_its_documented_errnos(void)
{
    for (const char *const *c = explain_calls(); *c != NULL; c++) {
        const int *errnos = explain_documented_errnos(*c);
        for (int e = 1; e < LAST_ERRNO; e++) {
            struct explanation ex = {NULL, NULL};
            int specific = explain_errno(*c, e, &ex);
            CU_ASSERT_EQUAL(specific, listed(errnos, e));
            CU_ASSERT_PTR_NOT_NULL(ex.why);
            CU_ASSERT_PTR_NOT_NULL(ex.hint);
        }
    }
}

static void test_each_errno_is_listed_once_so_ewouldblock_is_eagain(void)
{
    CU_ASSERT_EQUAL(EWOULDBLOCK, EAGAIN);
    for (const char *const *c = explain_calls(); *c != NULL; c++) {
        const int *errnos = explain_documented_errnos(*c);
        for (const int *e = errnos; *e != 0; e++) {
            CU_ASSERT(*e > 0 && *e < LAST_ERRNO);
            CU_ASSERT(!listed(e + 1, *e));
        }
    }
}

static void test_the_failures_students_meet_most_are_explained(void)
{
    static const struct {
        const char *call;
        int err;
    } pairs[] = {
        {"bind", EADDRINUSE},
        {"bind", EACCES},
        {"bind", EADDRNOTAVAIL},
        {"bind", ENOENT},
        {"socket", EACCES},
        {"socket", EMFILE},
        {"connect", ECONNREFUSED},
        {"connect", ETIMEDOUT},
        {"connect", ENETUNREACH},
        {"connect", EHOSTUNREACH},
        {"connect", EINPROGRESS},
        {"connect", EALREADY},
        {"connect", EISCONN},
        {"connect", EACCES},
        {"connect", EPERM},
        {"connect", EAGAIN},
        {"connect", EADDRNOTAVAIL},
        {"connect", EAFNOSUPPORT},
        {"send", EPIPE},
        {"send", ECONNRESET},
        {"send", EMSGSIZE},
        {"send", EAGAIN},
        {"send", ENOTCONN},
        {"send", EDESTADDRREQ},
        {"sendto", EISCONN},
        {"write", EPIPE},
        {"recv", ECONNRESET},
        {"recv", ECONNREFUSED},
        {"recv", EAGAIN},
        {"recv", ETIMEDOUT},
        {"recv", ENOTCONN},
        {"recvfrom", ECONNREFUSED},
        {"read", ECONNRESET},
        {"accept", EMFILE},
        {"accept", ENFILE},
        {"accept", ECONNABORTED},
        {"accept", EINVAL},
        {"accept", EINTR},
        {"listen", EADDRINUSE},
        {"listen", EOPNOTSUPP},
        {"shutdown", ENOTCONN},
        {"setsockopt", ENOPROTOOPT},
        {"setsockopt", EINVAL},
        {"close", EBADF},
        {"close", EINTR},
        {"close", EIO},
        {"poll", EINTR},
        {"poll", EINVAL},
        {"select", EINTR},
        {"select", EBADF},
        {"epoll_wait", EINTR},
        {"epoll_wait", EBADF},
        {"getpeername", ENOTCONN},
        {"fork", EAGAIN},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        struct explanation ex;
        int specific = explain_errno(pairs[i].call, pairs[i].err, &ex);
        if (!specific)
            printf("\n  missing %s + %s", pairs[i].call, errno_name(pairs[i].err));
        CU_ASSERT_EQUAL(specific, 1);
        CU_ASSERT(listed(explain_documented_errnos(pairs[i].call), pairs[i].err));
    }
}

static void test_the_words_fit_the_failure(void)
{
    struct explanation ex;

    explain_errno("bind", EADDRINUSE, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "TIME_WAIT"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.hint, "SO_REUSEADDR"));

    explain_errno("socket", EACCES, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "SOCK_RAW"));

    explain_errno("recvfrom", ECONNREFUSED, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "datagram"));

    explain_errno("send", EPIPE, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.hint, "MSG_NOSIGNAL"));

    explain_errno("connect", EINPROGRESS, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.hint, "SO_ERROR"));
}

static void test_a_call_own_words_win_over_words_it_shares(void)
{
    struct explanation ex;

    explain_errno("read", EBADF, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "reading"));
    explain_errno("write", EBADF, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "writing"));
    explain_errno("accept4", EINVAL, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "flags"));
    explain_errno("getsockopt", EINVAL, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "optlen"));
    explain_errno("close", EBADF, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "twice"));
}

static void test_a_unix_socket_gets_words_for_a_path_not_a_port(void)
{
    struct explanation ex;

    CU_ASSERT_EQUAL(explain_family_of("/tmp/d/s.sock"), AF_UNIX);
    CU_ASSERT_EQUAL(explain_family_of("@hidden"), AF_UNIX);
    CU_ASSERT_EQUAL(explain_family_of("[::1]:80"), AF_INET6);
    CU_ASSERT_EQUAL(explain_family_of("127.0.0.1:80"), AF_INET);
    CU_ASSERT_EQUAL(explain_family_of(""), AF_UNSPEC);
    CU_ASSERT_EQUAL(explain_family_of(NULL), AF_UNSPEC);

    CU_ASSERT_EQUAL(explain_errno_at("bind", EADDRINUSE, AF_UNIX, &ex), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "path"));
    CU_ASSERT_PTR_NULL(strstr(ex.why, "port"));
    CU_ASSERT(reads_as_catalog_text(ex.why, MAX_WHY));
    CU_ASSERT(reads_as_catalog_text(ex.hint, MAX_HINT));
    CU_ASSERT_EQUAL(explain_errno_at("connect", ECONNREFUSED, AF_UNIX, &ex), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "socket file"));
    CU_ASSERT_EQUAL(explain_errno_at("connect", EACCES, AF_UNIX, &ex), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.hint, "ls -ld"));

    /* The same errno on a TCP socket keeps the port's words, and only
     * those: a student binding a port reads nothing about files. */
    explain_errno_at("bind", EADDRINUSE, AF_INET, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "port"));
    CU_ASSERT_PTR_NULL(strstr(ex.why, "AF_UNIX"));
    CU_ASSERT_PTR_NULL(strstr(ex.hint, "unlink"));
    explain_errno_at("bind", EACCES, AF_INET6, &ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(ex.why, "1024"));
    CU_ASSERT_PTR_NULL(strstr(ex.why, "AF_UNIX"));
    CU_ASSERT_PTR_NULL(strstr(ex.hint, "path"));
    CU_ASSERT_EQUAL(explain_errno_at("bind", EACCES, AF_UNIX, &ex), 1);
    CU_ASSERT_PTR_NULL(strstr(ex.why, "1024"));
    /* An errno with no words for paths falls back to the general catalog. */
    struct explanation general;
    explain_errno("listen", EOPNOTSUPP, &general);
    explain_errno_at("listen", EOPNOTSUPP, AF_UNIX, &ex);
    CU_ASSERT_STRING_EQUAL(ex.why, general.why);
}

static void test_an_unknown_call_falls_back_to_the_c_library_meaning(void)
{
    struct explanation ex = {NULL, NULL};

    CU_ASSERT_PTR_NULL(explain_call("frobnicate"));
    CU_ASSERT_PTR_NULL(explain_documented_errnos("frobnicate"));
    CU_ASSERT_PTR_NULL(explain_call(NULL));

    CU_ASSERT_EQUAL(explain_errno("frobnicate", EXDEV, &ex), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex.why);
    CU_ASSERT_STRING_EQUAL(ex.why, errno_meaning(EXDEV));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex.hint);
    CU_ASSERT(ex.hint[0] != '\0');

    CU_ASSERT_EQUAL(explain_errno(NULL, EXDEV, &ex), 0);
    CU_ASSERT_STRING_EQUAL(ex.why, errno_meaning(EXDEV));
}

static void test_a_known_errno_without_a_call_entry_gets_the_general_words(void)
{
    struct explanation ex = {NULL, NULL};

    CU_ASSERT_EQUAL(explain_errno("frobnicate", ECONNREFUSED, &ex), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex.why);
    CU_ASSERT(strcmp(ex.why, errno_meaning(ECONNREFUSED)) != 0);

    /* fork is in the catalog but never documents ECONNREFUSED */
    CU_ASSERT_EQUAL(explain_errno("fork", ECONNREFUSED, &ex), 0);
    CU_ASSERT(reads_as_catalog_text(ex.why, MAX_WHY));
    CU_ASSERT(reads_as_catalog_text(ex.hint, MAX_HINT));

    CU_ASSERT_EQUAL(explain_errno("bind", 0, NULL), 0);
}

static void test_every_why_and_hint_is_plain_short_ascii_with_known_placeholders(void)
{
    /* the call entries, then the general ones reached through an unknown call */
    for (const char *const *c = explain_calls(); *c != NULL; c++)
        for (const int *e = explain_documented_errnos(*c); *e != 0; e++) {
            struct explanation ex;
            explain_errno(*c, *e, &ex);
            int ok =
                reads_as_catalog_text(ex.why, MAX_WHY) && reads_as_catalog_text(ex.hint, MAX_HINT);
            if (!ok)
                printf("\n  %s + %s: [%zu] %s | [%zu] %s", *c, errno_name(*e), strlen(ex.why),
                       ex.why, strlen(ex.hint), ex.hint);
            CU_ASSERT(ok);
        }
    for (int e = 1; e < LAST_ERRNO; e++) {
        struct explanation ex;
        explain_errno("frobnicate", e, &ex);
        if (strcmp(ex.why, errno_meaning(e)) == 0)
            continue; /* the C library's own words */
        int ok = reads_as_catalog_text(ex.why, MAX_WHY) && reads_as_catalog_text(ex.hint, MAX_HINT);
        if (!ok)
            printf("\n  general %s: %s | %s", errno_name(e), ex.why, ex.hint);
        CU_ASSERT(ok);
    }
}

static void test_fill_puts_the_context_values_in_place(void)
{
    struct explain_ctx ctx = {3, 9000, "127.0.0.1:9000"};
    char buf[128];

    explain_fill("{addr} port {port} fd {fd}.", &ctx, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "127.0.0.1:9000 port 9000 fd 3.");

    struct explanation ex;
    explain_errno("connect", ECONNREFUSED, &ex);
    explain_fill(ex.why, &ctx, buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Nothing is listening at 127.0.0.1:9000:"));

    struct explain_ctx zero = {0, 0, "[::1]:0"};
    explain_fill("{fd} {port} {addr}", &zero, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "0 0 [::1]:0");
}

static void test_fill_without_context_says_the_socket_the_address_the_port(void)
{
    struct explain_ctx unknown = {-1, -1, NULL};
    const char *tmpl = "{fd} is closed; try {addr} on {port}. {fd} again.";
    const char *want = "The socket is closed; try the address on the port. The socket again.";
    char buf[128];

    CU_ASSERT_STRING_EQUAL(explain_fill(tmpl, &unknown, buf, sizeof buf), want);
    CU_ASSERT_STRING_EQUAL(explain_fill(tmpl, NULL, buf, sizeof buf), want);

    struct explain_ctx empty_addr = {-1, -1, ""};
    CU_ASSERT_STRING_EQUAL(explain_fill("at {addr}", &empty_addr, buf, sizeof buf),
                           "at the address");

    struct explanation ex;
    explain_errno("bind", EADDRINUSE, &ex);
    explain_fill(ex.why, &unknown, buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "The port in the address is taken"));
}

static void test_fill_copies_other_braces_as_they_are(void)
{
    struct explain_ctx ctx = {3, 9000, "h:1"};
    char buf[64];

    CU_ASSERT_STRING_EQUAL(explain_fill("{x} {} {port {fd", &ctx, buf, sizeof buf),
                           "{x} {} {port {fd");
    CU_ASSERT_STRING_EQUAL(explain_fill("{{fd}}", &ctx, buf, sizeof buf), "{3}");
    CU_ASSERT_STRING_EQUAL(explain_fill("", &ctx, buf, sizeof buf), "");
    CU_ASSERT_STRING_EQUAL(explain_fill(NULL, &ctx, buf, sizeof buf), "");
}

static void test_fill_never_writes_past_a_tiny_buffer(void)
{
    struct explain_ctx ctx = {12, 8080, "192.168.100.200:8080"};
    const char *tmpl = "At {addr}, {fd} on {port}: {x}.";
    char full[128];
    explain_fill(tmpl, &ctx, full, sizeof full);
    size_t n = strlen(full);

    for (size_t size = 1; size <= n + 2; size++) {
        char buf[160];
        memset(buf, 'Z', sizeof buf);
        CU_ASSERT_PTR_EQUAL(explain_fill(tmpl, &ctx, buf, size), buf);
        size_t want = size - 1 < n ? size - 1 : n;
        CU_ASSERT_EQUAL(strlen(buf), want);
        CU_ASSERT_EQUAL(strncmp(buf, full, want), 0);
        for (size_t i = size; i < sizeof buf; i++)
            if (buf[i] != 'Z') {
                CU_FAIL("explain_fill wrote past the buffer");
                break;
            }
    }

    char one[1] = {'Z'};
    explain_fill("{fd}", NULL, one, sizeof one);
    CU_ASSERT_EQUAL(one[0], '\0');

    char five[8] = "ZZZZZZZ";
    explain_fill("{fd} is open", NULL, five, 5);
    CU_ASSERT_STRING_EQUAL(five, "The ");
    CU_ASSERT_EQUAL(five[5], 'Z');

    char untouched = 'Z';
    explain_fill("text", NULL, &untouched, 0);
    CU_ASSERT_EQUAL(untouched, 'Z');
}

UNIT_MAIN("explain",
          {"the catalog holds every call the tracer reports", test_catalog_holds_the_traced_calls},
          {"every call the interposer wraps has its sentence and its errnos",
           test_every_wrapped_call_is_in_the_catalog},
          {"every call says what it does in one sentence ending in a period",
           test_every_call_says_what_it_does_in_one_sentence},
          {"every errno a call documents has its own why and hint",
           test_every_documented_errno_has_its_own_why_and_hint},
          {"a call has entries for exactly the errnos it documents, no more",
           test_a_call_has_entries_for_exactly_its_documented_errnos},
          {"each errno is listed once per call (EWOULDBLOCK is EAGAIN)",
           test_each_errno_is_listed_once_so_ewouldblock_is_eagain},
          {"the failures students meet most (EADDRINUSE, ECONNREFUSED, EPIPE...) are explained",
           test_the_failures_students_meet_most_are_explained},
          {"the words fit the failure: TIME_WAIT for bind, MSG_NOSIGNAL for EPIPE",
           test_the_words_fit_the_failure},
          {"a call's own words win over the words it shares with similar calls",
           test_a_call_own_words_win_over_words_it_shares},
          {"a Unix socket's errors speak of its path, not a port",
           test_a_unix_socket_gets_words_for_a_path_not_a_port},
          {"an unknown call falls back to the C library's meaning",
           test_an_unknown_call_falls_back_to_the_c_library_meaning},
          {"a known errno without an entry for the call gets the general words",
           test_a_known_errno_without_a_call_entry_gets_the_general_words},
          {"every why and hint is short plain ASCII with only {port} {addr} {fd} in braces",
           test_every_why_and_hint_is_plain_short_ascii_with_known_placeholders},
          {"fill puts the port, address and descriptor in place",
           test_fill_puts_the_context_values_in_place},
          {"fill without context says the socket, the address, the port",
           test_fill_without_context_says_the_socket_the_address_the_port},
          {"fill copies braces that are not placeholders as they are",
           test_fill_copies_other_braces_as_they_are},
          {"fill never writes past a buffer of 1, 5 or any size",
           test_fill_never_writes_past_a_tiny_buffer});
