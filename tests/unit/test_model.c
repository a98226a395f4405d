/* The viewer's reading of events and packets (viewer/model.c). */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "model.h"
#include "record.h"
#include "sockstate.h"
#include "unit.h"

static struct ev *parse(const char *line)
{
    char why[128] = "";
    struct ev *e = ev_parse(line, strlen(line), why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL(e);
    return e;
}

static void same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        CU_ASSERT_PTR_EQUAL(a, b);
    } else {
        CU_ASSERT_STRING_EQUAL(a, b);
    }
}

/* The viewer makes a packet's entry straight from the segment; a
 * recording's line of the same segment must read back as the same entry. */
static void check_packet(const struct segment *seg)
{
    char flags[32] = "", line[1024], why[128];
    if (seg->proto == IPPROTO_TCP)
        capture_flags_text(seg->flags, flags, sizeof flags);
    struct ev *direct = ev_packet_of(seg, flags);
    CU_ASSERT_FATAL(record_segment_json(seg, seg->frame, line, sizeof line) > 0);
    struct ev *read = ev_parse(line, strlen(line), why, sizeof why);
    CU_ASSERT_FATAL(direct != NULL && read != NULL);
    CU_ASSERT_EQUAL(direct->kind, EK_PACKET);
    CU_ASSERT_EQUAL(direct->kind, read->kind);
    CU_ASSERT_EQUAL(direct->ts_ns, read->ts_ns);
    CU_ASSERT_EQUAL(direct->seq, read->seq);
    CU_ASSERT_EQUAL(direct->pid, read->pid);
    CU_ASSERT_EQUAL(direct->fd, read->fd);
    CU_ASSERT_EQUAL(direct->state, read->state);
    CU_ASSERT_EQUAL(memcmp(&direct->pkt, &read->pkt, sizeof direct->pkt), 0);
    same_str(direct->local, read->local);
    same_str(direct->peer, read->peer);
    same_str(direct->what, read->what);
    same_str(direct->sock, read->sock);
    same_str(direct->role, read->role);
    same_str(direct->src, read->src);
    free(direct);
    free(read);
}

static void test_packet_direct(void)
{
    struct segment tcp = {.ts_ns = 1796136069344804802ull,
                          .frame = 7,
                          .family = AF_INET,
                          .proto = IPPROTO_TCP,
                          .src = "127.0.0.1:9000",
                          .dst = "127.0.0.1:41234",
                          .ttl = 64,
                          .flags = TCPF_SYN | TCPF_ACK,
                          .rel_seq = 0,
                          .rel_ack = 1,
                          .window = 65483,
                          .wscale = 7};
    check_packet(&tcp);
    tcp.flags = 0; /* no flags at all: "none" */
    check_packet(&tcp);
    struct segment udp = {.ts_ns = 5,
                          .frame = 1,
                          .family = AF_INET6,
                          .proto = IPPROTO_UDP,
                          .src = "[::1]:5353",
                          .dst = "[::1]:40000",
                          .ttl = 1,
                          .len = 1200};
    check_packet(&udp);
    struct segment icmp = {.ts_ns = 9,
                           .frame = 3,
                           .family = AF_INET,
                           .proto = IPPROTO_ICMP,
                           .src = "127.0.0.1",
                           .dst = "127.0.0.1",
                           .ttl = 64,
                           .len = 56,
                           .icmp_type = 8,
                           .icmp_id = 4242,
                           .icmp_seq = 3};
    check_packet(&icmp);
}

static void test_keys(void)
{
    /* The first of a repeated key counts; unknown keys, and keys that do
     * not start with a small letter, are skipped. */
    struct ev *e = parse("{\"Zed\":1,\"_x\":2,\"kind\":\"call\",\"call\":\"send\",\"call\":\"recv\","
                         "\"fd\":3,\"pid\":10,\"zzz\":[1,2],\"ret\":5,\"bytes\":5,\"ts_ns\":42}");
    CU_ASSERT_EQUAL(e->kind, EK_CALL);
    CU_ASSERT_STRING_EQUAL(e->call, "send");
    CU_ASSERT_EQUAL(e->fd, 3);
    CU_ASSERT_EQUAL(e->pid, 10);
    CU_ASSERT_EQUAL(e->ret, 5);
    CU_ASSERT_EQUAL(e->bytes, 5);
    CU_ASSERT_EQUAL(e->ts_ns, 42);
    free(e);
    /* Every key the format has is found: one line of each letter's keys. */
    e = parse("{\"kind\":\"packet\",\"ack\":1,\"win\":2,\"ttl\":3,\"len\":4,\"frame\":5,"
              "\"icmp_type\":6,\"icmp_code\":7,\"icmp_id\":8,\"icmp_seq\":9,\"proto\":\"icmp\","
              "\"src\":\"a\",\"dst\":\"b\",\"flags\":\"\"}");
    CU_ASSERT_EQUAL(e->pkt.ack, 1);
    CU_ASSERT_EQUAL(e->pkt.win, 2);
    CU_ASSERT_EQUAL(e->pkt.ttl, 3);
    CU_ASSERT_EQUAL(e->pkt.len, 4);
    CU_ASSERT_EQUAL(e->pkt.frame, 5);
    CU_ASSERT_EQUAL(e->pkt.icmp_type, 6);
    CU_ASSERT_EQUAL(e->pkt.icmp_code, 7);
    CU_ASSERT_EQUAL(e->pkt.icmp_id, 8);
    CU_ASSERT_EQUAL(e->pkt.icmp_seq, 9);
    CU_ASSERT_STRING_EQUAL(e->sock, "icmp");
    CU_ASSERT_STRING_EQUAL(e->local, "a");
    CU_ASSERT_STRING_EQUAL(e->peer, "b");
    CU_ASSERT_PTR_NULL(e->what);
    free(e);
}

static void test_big_and_many(void)
{
    /* A line larger than the parser's arena still reads whole, and entries
     * read earlier keep their strings when later lines are parsed. */
    size_t n = 200000;
    char *line = malloc(n + 100);
    CU_ASSERT_FATAL(line != NULL);
    int at = snprintf(line, 100, "{\"kind\":\"note\",\"pid\":1,\"text\":\"");
    memset(line + at, 'x', n);
    strcpy(line + at + n, "\"}");
    struct ev *big = parse(line);
    free(line);
    CU_ASSERT_EQUAL(strlen(big->text), n);
    struct ev *keep[1000];
    for (int i = 0; i < 1000; i++) {
        char l[200];
        snprintf(l, sizeof l, "{\"kind\":\"call\",\"call\":\"send\",\"args\":\"send(3, %d)\",\"fd\":3}",
                 i);
        keep[i] = parse(l);
    }
    for (int i = 0; i < 1000; i++) {
        char want[40];
        snprintf(want, sizeof want, "send(3, %d)", i);
        CU_ASSERT_STRING_EQUAL(keep[i]->args, want);
        free(keep[i]);
    }
    CU_ASSERT_EQUAL(strspn(big->text, "x"), n);
    free(big);
    /* Broken lines say why, and the next good one still reads. */
    char why[128] = "";
    CU_ASSERT_PTR_NULL(ev_parse("{\"kind\":", 8, why, sizeof why));
    CU_ASSERT(strstr(why, "bad JSON") != NULL);
    CU_ASSERT_PTR_NULL(ev_parse("[1,2]", 5, why, sizeof why));
    struct ev *ok = parse("{\"kind\":\"exit\",\"pid\":2}");
    CU_ASSERT_EQUAL(ok->kind, EK_EXIT);
    free(ok);
}

static void feed(struct timeline *t, struct model *m, struct ev *e)
{
    CU_ASSERT_FATAL(timeline_append(t, e) == 0);
    while (m->applied < t->len)
        model_apply(m, t);
}

static struct ev *fin(uint64_t ts, unsigned frame)
{
    struct segment seg = {.ts_ns = ts,
                          .frame = frame,
                          .family = AF_INET,
                          .proto = IPPROTO_TCP,
                          .src = "127.0.0.1:9000",
                          .dst = "127.0.0.1:5000",
                          .flags = TCPF_FIN | TCPF_ACK,
                          .rel_seq = 6,
                          .rel_ack = 6};
    return ev_packet_of(&seg, "FIN+ACK");
}

/* A client's socket: established, then a recv that finds the peer's FIN
 * (CLOSE_WAIT) at `ts`. */
static struct model *client(struct timeline *t, struct model *m, uint64_t ts)
{
    memset(t, 0, sizeof *t);
    model_init(m);
    feed(t, m, parse("{\"kind\":\"call\",\"pid\":5,\"role\":\"client\",\"call\":\"socket\",\"ret\":3,"
                     "\"fd\":-1,\"sock\":\"tcp\",\"ts_ns\":100}"));
    feed(t, m, parse("{\"kind\":\"call\",\"pid\":5,\"role\":\"client\",\"call\":\"connect\",\"ret\":0,"
                     "\"fd\":3,\"sock\":\"tcp\",\"local\":\"127.0.0.1:5000\",\"peer\":"
                     "\"127.0.0.1:9000\",\"state\":\"ESTABLISHED\",\"ts_ns\":200}"));
    char l[300];
    snprintf(l, sizeof l,
             "{\"kind\":\"call\",\"pid\":5,\"role\":\"client\",\"call\":\"recv\",\"ret\":0,"
             "\"fd\":3,\"sock\":\"tcp\",\"local\":\"127.0.0.1:5000\",\"peer\":\"127.0.0.1:9000\","
             "\"state\":\"CLOSE_WAIT\",\"ts_ns\":%llu}",
             (unsigned long long)ts);
    feed(t, m, parse(l));
    return m;
}

static const struct msock *the_sock(const struct model *m)
{
    for (int i = 0; i < m->nsocks; i++)
        if (m->socks[i].pid == 5 && m->socks[i].fd == 3)
            return &m->socks[i];
    CU_FAIL("no socket fd 3");
    return NULL;
}

static void test_late_cause(void)
{
    struct timeline t;
    struct model m;
    /* The FIN is read after the event that saw CLOSE_WAIT: it still
     * becomes the transition's cause. */
    client(&t, &m, 1000);
    const struct msock *s = the_sock(&m);
    CU_ASSERT_EQUAL(s->state, TCPS_CLOSE_WAIT);
    CU_ASSERT(strstr(s->cause, "frame") == NULL);
    feed(&t, &m, fin(990, 4));
    s = the_sock(&m);
    CU_ASSERT(strstr(s->cause, "rcv FIN+ACK") != NULL);
    CU_ASSERT(strstr(s->cause, "(frame 4)") != NULL);
    model_free(&m);
    timeline_free(&t);

    /* A FIN later than the event cannot have caused it. */
    client(&t, &m, 1000);
    feed(&t, &m, fin(1010, 9));
    s = the_sock(&m);
    CU_ASSERT(strstr(s->cause, "frame") == NULL);
    CU_ASSERT(strstr(s->cause, "rcv FIN") != NULL);
    model_free(&m);
    timeline_free(&t);
}

UNIT_MAIN("the viewer's model",
          {"a packet's entry made from its segment equals the one read from its recorded line",
           test_packet_direct},
          {"an event's keys are found, the first of a repeated key counts, others are skipped",
           test_keys},
          {"a line larger than the parser's arena reads whole; entries keep their text; broken "
           "lines say why",
           test_big_and_many},
          {"a FIN read after the event that saw CLOSE_WAIT is named its cause; a later one is "
           "not",
           test_late_cause});
