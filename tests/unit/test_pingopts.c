/*
 * test_pingopts.c: lesson 04's command line, read like iputils ping's.
 *
 * Defaults, every option, the tracer's own options passed over, and each
 * bad value refused with a message that names the option and its range.
 */
#include "pingopts.h"
#include "unit.h"

#include <string.h>

static enum ping_opts_result parse(struct ping_opts *o, char *err, int argc, char **argv)
{
    return ping_opts_parse(argc, argv, o, err, 256);
}

#define ARGS(...) ((char *[]){"04-raw-ping", __VA_ARGS__, NULL})

static void test_defaults_are_four_requests_to_localhost(void)
{
    struct ping_opts o;
    char err[256];
    char *argv[] = {"04-raw-ping", NULL};
    CU_ASSERT_EQUAL(parse(&o, err, 1, argv), PING_OPTS_OK);
    CU_ASSERT_EQUAL(o.count, 4);
    CU_ASSERT_DOUBLE_EQUAL(o.interval_s, 1.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(o.timeout_s, 10.0, 1e-9);
    CU_ASSERT_EQUAL(o.size, 56);
    CU_ASSERT_EQUAL(o.ttl, 0);
    CU_ASSERT_FALSE(o.v6);
    CU_ASSERT_STRING_EQUAL(o.host, "127.0.0.1");
}

static void test_every_option_is_read(void)
{
    struct ping_opts o;
    char err[256];
    char **argv = ARGS("-c", "3", "-i", "0.2", "-t", "7", "-W", "2.5", "-s", "100", "-6", "--step",
                       "--trace", "t.jsonl", "localhost");
    CU_ASSERT_EQUAL_FATAL(parse(&o, err, 16, argv), PING_OPTS_OK);
    CU_ASSERT_EQUAL(o.count, 3);
    CU_ASSERT_DOUBLE_EQUAL(o.interval_s, 0.2, 1e-9);
    CU_ASSERT_EQUAL(o.ttl, 7);
    CU_ASSERT_DOUBLE_EQUAL(o.timeout_s, 2.5, 1e-9);
    CU_ASSERT_EQUAL(o.size, 100);
    CU_ASSERT_TRUE(o.v6);
    CU_ASSERT_STRING_EQUAL(o.host, "localhost");
}

static void test_ipv6_defaults_to_the_ipv6_loopback(void)
{
    struct ping_opts o;
    char err[256];
    CU_ASSERT_EQUAL(parse(&o, err, 2, ARGS("-6")), PING_OPTS_OK);
    CU_ASSERT_STRING_EQUAL(o.host, "::1");
}

static void test_help_is_asked_for_with_h_or_help(void)
{
    struct ping_opts o;
    char err[256];
    CU_ASSERT_EQUAL(parse(&o, err, 2, ARGS("-h")), PING_OPTS_HELP);
    CU_ASSERT_EQUAL(parse(&o, err, 2, ARGS("--help")), PING_OPTS_HELP);
}

static void test_bad_values_name_the_option_and_its_range(void)
{
    static const char *const cases[][3] = {
        {"-c", "0", "-c: it takes a whole number of requests from 1 to 65535"},
        {"-c", "65536", "for -c"},
        {"-c", "3x", "for -c"},
        {"-i", "0.001", "from 0.01 to 60"},
        {"-i", "nan", "for -i"},
        {"-i", "inf", "for -i"},
        {"-t", "0", "a time to live from 1 to 255"},
        {"-t", "256", "for -t"},
        {"-W", "0", "seconds to wait"},
        {"-s", "65001", "payload bytes from 0 to 65000"},
        {"-s", "", "for -s"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ping_opts o;
        char err[256] = "";
        char *argv[] = {"04-raw-ping", (char *)cases[i][0], (char *)cases[i][1], NULL};
        CU_ASSERT_EQUAL(parse(&o, err, 3, argv), PING_OPTS_BAD);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i][2]));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad value"));
    }
}

static void test_other_mistakes_are_named(void)
{
    struct ping_opts o;
    char err[256];
    CU_ASSERT_EQUAL(parse(&o, err, 2, ARGS("-x")), PING_OPTS_BAD);
    CU_ASSERT_STRING_EQUAL(err, "unknown option '-x'");
    CU_ASSERT_EQUAL(parse(&o, err, 2, ARGS("--bogus")), PING_OPTS_BAD);
    CU_ASSERT_STRING_EQUAL(err, "unknown option '--bogus'");
    CU_ASSERT_EQUAL(parse(&o, err, 2, ARGS("-c")), PING_OPTS_BAD);
    CU_ASSERT_STRING_EQUAL(err, "option -c needs a value");
    CU_ASSERT_EQUAL(parse(&o, err, 3, ARGS("a", "b")), PING_OPTS_BAD);
    CU_ASSERT_STRING_EQUAL(err, "one host only, not 'a' and 'b'");
    CU_ASSERT_EQUAL(parse(&o, err, 2, ARGS("")), PING_OPTS_BAD);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "the host is empty"));
}

UNIT_MAIN("pingopts",
          {"by default: 4 requests, 1 s apart, 56 bytes, to 127.0.0.1",
           test_defaults_are_four_requests_to_localhost},
          {"every option is read, and --step and --trace are passed over",
           test_every_option_is_read},
          {"-6 makes the default host ::1", test_ipv6_defaults_to_the_ipv6_loopback},
          {"-h and --help ask for the help", test_help_is_asked_for_with_h_or_help},
          {"a bad value names the option and what it takes",
           test_bad_values_name_the_option_and_its_range},
          {"unknown options, missing values and extra hosts are named",
           test_other_mistakes_are_named});
