/* model.c: the session timeline and the sockets it describes; see model.h. */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <jansson.h>

#include <netinet/in.h>

#include "capture.h"
#include "sockstate.h"

/* --- entries ------------------------------------------------------------- */

enum {
    S_ROLE,
    S_CALL,
    S_ARGS,
    S_ERR,
    S_SOCK,
    S_LOCAL,
    S_PEER,
    S_ADDR,
    S_SRC,
    S_WHAT,
    S_TEXT,
    S_DATA,
    S_HEX,
    S_COUNT
};
static const char *const str_keys[S_COUNT] = {"role",  "call", "args", "errno", "sock",
                                              "local", "peer", "addr", "src",   "what",
                                              "text",  "data", "hex"};

/* One allocation: the entry, then its strings. */
static struct ev *ev_pack(const struct ev *proto, const char *const strs[S_COUNT])
{
    size_t total = sizeof(struct ev);
    size_t lens[S_COUNT];
    for (int i = 0; i < S_COUNT; i++) {
        lens[i] = strs[i] ? strlen(strs[i]) + 1 : 0;
        total += lens[i];
    }
    struct ev *e = malloc(total);
    if (e == NULL)
        return NULL;
    *e = *proto;
    char *p = (char *)(e + 1);
    const char **dst[S_COUNT] = {&e->role,  &e->call, &e->args, &e->err, &e->sock,
                                 &e->local, &e->peer, &e->addr, &e->src, &e->what,
                                 &e->text,  &e->data, &e->hex};
    for (int i = 0; i < S_COUNT; i++) {
        if (strs[i] == NULL) {
            *dst[i] = NULL;
            continue;
        }
        memcpy(p, strs[i], lens[i]);
        *dst[i] = p;
        p += lens[i];
    }
    return e;
}

static void ev_proto(struct ev *e)
{
    memset(e, 0, sizeof *e);
    e->fd = e->fd2 = -1;
    e->state = TCPS_NONE;
    e->rxq = e->txq = -1;
    e->bytes = -1;
}

static int kind_of(const char *k)
{
    static const char *const names[] = {"",     "call",  "step",   "proc",   "exit",
                                        "note", "state", "viewer", "output", "packet"};
    /* A recording made without the viewer names the kernel's states so. */
    if (k != NULL && strcmp(k, "kstate") == 0)
        return EK_STATE;
    if (k != NULL)
        for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++)
            if (strcmp(k, names[i]) == 0)
                return i;
    return EK_OTHER;
}

/* Recordings are read with cJSON, some three times faster than the JSON
 * library the rest of the viewer writes with: a 100,000-event recording
 * opens in well under a second. Its numbers are doubles, exact to 2^53;
 * ts_ns (nanoseconds since 1970) is longer, so it is read from the text. */
/* The keys an entry may have, sorted for bsearch: each object is walked
 * once and each member found by its key, instead of a list scan per key. */
static const char *const keys[] = {
    "ack",       "addr", "args", "bytes", "call",  "data",  "dropped",   "dst",     "dur_ns",
    "errno",     "fd",   "fd2",  "flags", "frame", "hex",   "icmp_code", "icmp_id", "icmp_seq",
    "icmp_type", "kind", "len",  "local", "peer",  "pid",   "ppid",      "proto",   "ret",
    "role",      "rxq",  "seq",  "sock",  "src",   "state", "state_src", "text",    "trunc",
    "ts_ns",     "ttl",  "txq",  "what",  "win"};
enum {
    K_ACK,
    K_ADDR,
    K_ARGS,
    K_BYTES,
    K_CALL,
    K_DATA,
    K_DROPPED,
    K_DST,
    K_DUR_NS,
    K_ERRNO,
    K_FD,
    K_FD2,
    K_FLAGS,
    K_FRAME,
    K_HEX,
    K_ICMP_CODE,
    K_ICMP_ID,
    K_ICMP_SEQ,
    K_ICMP_TYPE,
    K_KIND,
    K_LEN,
    K_LOCAL,
    K_PEER,
    K_PID,
    K_PPID,
    K_PROTO,
    K_RET,
    K_ROLE,
    K_RXQ,
    K_SEQ,
    K_SOCK,
    K_SRC,
    K_STATE,
    K_STATE_SRC,
    K_TEXT,
    K_TRUNC,
    K_TS_NS,
    K_TTL,
    K_TXQ,
    K_WHAT,
    K_WIN,
    NKEYS
};
_Static_assert(sizeof keys / sizeof keys[0] == NKEYS, "one K_ a key, in order");
/* Where each of str_keys is among keys. */
static const int str_key_index[S_COUNT] = {K_ROLE, K_CALL, K_ARGS, K_ERRNO, K_SOCK, K_LOCAL, K_PEER,
                                           K_ADDR, K_SRC,  K_WHAT, K_TEXT,  K_DATA, K_HEX};

struct fields {
    const cJSON *v[NKEYS];
};

/* The index of `name` among keys, or -1. The keys are sorted, so those
 * that begin with one letter stand together: only they are compared. */
static signed char key_first[26], key_past[26];

static void key_index_init(void)
{
    memset(key_first, -1, sizeof key_first);
    for (int i = 0; i < NKEYS; i++) {
        int c = keys[i][0] - 'a';
        if (key_first[c] == -1)
            key_first[c] = (signed char)i;
        key_past[c] = (signed char)(i + 1);
    }
}

static int key_index(const char *name)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, key_index_init);
    int c = name[0] - 'a';
    if (c < 0 || c >= 26 || key_first[c] == -1)
        return -1;
    for (int i = key_first[c]; i < key_past[c]; i++)
        if (strcmp(name, keys[i]) == 0)
            return i;
    return -1;
}

static void fields_of(const cJSON *o, struct fields *f)
{
    memset(f, 0, sizeof *f);
    const cJSON *m;
    cJSON_ArrayForEach(m, o)
    {
        if (m->string == NULL)
            continue;
        int k = key_index(m->string);
        if (k >= 0 && f->v[k] == NULL) /* the first of a repeated key */
            f->v[k] = m;
    }
}

/*
 * cJSON allocates each value and key of a parsed line, and frees each
 * again when the line is read: at tens of thousands of events a second
 * that was most of a live viewer's time. While a line is parsed, its
 * pieces come from a per-thread arena instead, all given back at once
 * when the next line starts; anything larger, or made outside a parse,
 * comes from malloc as before.
 */
#define ARENA_SIZE 65536
static __thread struct {
    bool on;
    size_t used;
    _Alignas(max_align_t) char mem[ARENA_SIZE];
} arena;

static void *arena_malloc(size_t n)
{
    size_t need = (n + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
    if (arena.on && need <= ARENA_SIZE - arena.used) {
        void *p = arena.mem + arena.used;
        arena.used += need;
        return p;
    }
    return malloc(n);
}

static void arena_free(void *p)
{
    if ((char *)p >= arena.mem && (char *)p < arena.mem + ARENA_SIZE)
        return; /* given back with the whole arena */
    free(p);
}

static void arena_hooks_init(void)
{
    cJSON_Hooks h = {.malloc_fn = arena_malloc, .free_fn = arena_free};
    cJSON_InitHooks(&h);
}

static void arena_hooks(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, arena_hooks_init);
}

/* Parse one line with the arena; the caller ends with parse_end(). */
static cJSON *parse_begin(const char *line, size_t len, const char **end)
{
    arena_hooks();
    arena.used = 0;
    arena.on = true;
    return cJSON_ParseWithLengthOpts(line, len, end, false);
}

static void parse_end(cJSON *o)
{
    cJSON_Delete(o);
    arena.on = false;
    arena.used = 0;
}

static const cJSON *get(const struct fields *f, int key)
{
    return f->v[key];
}

static long long int_of(const struct fields *f, int key, long long dflt)
{
    const cJSON *v = get(f, key);
    if (!cJSON_IsNumber(v))
        return dflt;
    double d = v->valuedouble;
    if (!(d >= -9.2e18 && d <= 9.2e18) || d != (double)(long long)d)
        return dflt;
    return (long long)d;
}

static const char *str_of(const struct fields *f, int key)
{
    return cJSON_GetStringValue(get(f, key));
}

static uint64_t exact_ts(const struct fields *f, const char *line, size_t len)
{
    const cJSON *v = get(f, K_TS_NS);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < 1.8e19))
        return 0;
    if (v->valuedouble < 9007199254740992.0) /* 2^53: the double is exact */
        return (uint64_t)v->valuedouble;
    /* The encoder writes "ts_ns" before any string value, so its first
     * occurrence is the key. */
    static const char key[] = "\"ts_ns\":";
    const char *at = memmem(line, len, key, sizeof key - 1);
    if (at == NULL)
        return (uint64_t)v->valuedouble;
    char num[24];
    size_t k = 0, i = (size_t)(at - line) + sizeof key - 1;
    while (i < len && k + 1 < sizeof num && line[i] >= '0' && line[i] <= '9')
        num[k++] = line[i++];
    num[k] = '\0';
    return k > 0 ? strtoull(num, NULL, 10) : (uint64_t)v->valuedouble;
}

struct ev *ev_parse(const char *line, size_t len, char *why, size_t whysize)
{
    const char *end = NULL;
    cJSON *o = parse_begin(line, len, &end);
    if (o == NULL || !cJSON_IsObject(o)) {
        if (o == NULL)
            snprintf(why, whysize, "not a JSON object: bad JSON at byte %zu",
                     end != NULL && end >= line ? (size_t)(end - line) + 1 : (size_t)1);
        else
            snprintf(why, whysize, "not a JSON object: another value");
        parse_end(o);
        return NULL;
    }
    struct fields f;
    fields_of(o, &f);
    struct ev p;
    ev_proto(&p);
    const char *strs[S_COUNT];
    for (int i = 0; i < S_COUNT; i++)
        strs[i] = str_of(&f, str_key_index[i]);
    p.kind = kind_of(str_of(&f, K_KIND));
    p.seq = (uint64_t)int_of(&f, K_SEQ, 0);
    p.ts_ns = exact_ts(&f, line, len);
    p.dur_ns = (uint64_t)int_of(&f, K_DUR_NS, 0);
    p.pid = (int)int_of(&f, K_PID, 0);
    p.ppid = (int)int_of(&f, K_PPID, 0);
    p.fd = (int)int_of(&f, K_FD, -1);
    p.fd2 = (int)int_of(&f, K_FD2, -1);
    const cJSON *ret = get(&f, K_RET);
    p.has_ret = cJSON_IsNumber(ret);
    p.ret = int_of(&f, K_RET, 0);
    const char *st = str_of(&f, K_STATE);
    p.state = st != NULL ? tcp_state_from_name(st) : TCPS_NONE;
    const char *src = str_of(&f, K_STATE_SRC);
    if (src != NULL)
        p.state_src = strcmp(src, "sock_diag") == 0 ? SRC_SOCK_DIAG : SRC_TCP_INFO;
    p.rxq = (int)int_of(&f, K_RXQ, -1);
    p.txq = (int)int_of(&f, K_TXQ, -1);
    p.bytes = int_of(&f, K_BYTES, -1);
    p.trunc = cJSON_IsTrue(get(&f, K_TRUNC));
    p.dropped = (uint64_t)int_of(&f, K_DROPPED, 0);
    p.pkt.icmp_type = p.pkt.icmp_code = p.pkt.icmp_id = p.pkt.icmp_seq = -1;
    if (p.kind == EK_STATE) {
        /* The kernel's view: from sock_diag, of a TCP socket. */
        p.state_src = SRC_SOCK_DIAG;
        p.pid = 0;
        if (strs[S_ROLE] == NULL)
            strs[S_ROLE] = "kernel";
        if (strs[S_SOCK] == NULL)
            strs[S_SOCK] = "tcp";
    } else if (p.kind == EK_PACKET) {
        /* Its "src" is an address, not a source line. */
        strs[S_LOCAL] = strs[S_SRC];
        strs[S_PEER] = str_of(&f, K_DST);
        const char *flags = str_of(&f, K_FLAGS);
        strs[S_WHAT] = flags != NULL && *flags ? flags : NULL;
        const char *proto = str_of(&f, K_PROTO);
        strs[S_SOCK] = proto != NULL ? proto : "other";
        strs[S_SRC] = NULL;
        p.seq = 0;
        p.pkt.frame = (unsigned)int_of(&f, K_FRAME, 0);
        p.pkt.seq = (unsigned)int_of(&f, K_SEQ, 0);
        p.pkt.ack = (unsigned)int_of(&f, K_ACK, 0);
        p.pkt.win = (unsigned)int_of(&f, K_WIN, 0);
        p.pkt.len = (unsigned)int_of(&f, K_LEN, 0);
        p.pkt.ttl = (unsigned)int_of(&f, K_TTL, 0);
        p.pkt.icmp_type = (int)int_of(&f, K_ICMP_TYPE, -1);
        p.pkt.icmp_code = (int)int_of(&f, K_ICMP_CODE, -1);
        p.pkt.icmp_id = (int)int_of(&f, K_ICMP_ID, -1);
        p.pkt.icmp_seq = (int)int_of(&f, K_ICMP_SEQ, -1);
    }
    struct ev *e = ev_pack(&p, strs);
    parse_end(o);
    if (e == NULL)
        snprintf(why, whysize, "out of memory");
    return e;
}

struct ev *ev_kernel_state(uint64_t ts_ns, const char *local, const char *peer, int state, int rxq,
                           int txq)
{
    struct ev p;
    ev_proto(&p);
    p.kind = EK_STATE;
    p.ts_ns = ts_ns;
    p.state = state;
    p.state_src = SRC_SOCK_DIAG;
    p.rxq = rxq;
    p.txq = txq;
    const char *strs[S_COUNT] = {0};
    strs[S_ROLE] = "kernel";
    strs[S_SOCK] = "tcp";
    strs[S_LOCAL] = local && *local ? local : NULL;
    strs[S_PEER] = peer && *peer ? peer : NULL;
    return ev_pack(&p, strs);
}

struct ev *ev_viewer_note(uint64_t ts_ns, const char *text)
{
    struct ev p;
    ev_proto(&p);
    p.kind = EK_VIEWER;
    p.ts_ns = ts_ns;
    const char *strs[S_COUNT] = {0};
    strs[S_ROLE] = "viewer";
    strs[S_TEXT] = text;
    return ev_pack(&p, strs);
}

void ev_parse_lines(const char *buf, size_t n, ev_line_fn fn, void *arg)
{
    for (size_t at = 0; at < n;) {
        const char *nl = memchr(buf + at, '\n', n - at);
        size_t len = nl ? (size_t)(nl - (buf + at)) + 1 : n - at;
        char why[128] = "";
        struct ev *e = ev_parse(buf + at, len, why, sizeof why);
        at += len;
        fn(e, why, arg);
    }
}

struct ev *ev_packet_of(const struct segment *seg, const char *flags)
{
    static const char *const protos[] = {[IPPROTO_TCP] = "tcp", [IPPROTO_UDP] = "udp",
                                         [IPPROTO_ICMP] = "icmp", [IPPROTO_ICMPV6] = "icmpv6"};
    struct ev p;
    ev_proto(&p);
    p.kind = EK_PACKET;
    p.ts_ns = seg->ts_ns;
    p.pkt.frame = seg->frame;
    p.pkt.seq = seg->rel_seq;
    p.pkt.ack = seg->rel_ack;
    p.pkt.win = seg->window;
    p.pkt.len = seg->len;
    p.pkt.ttl = seg->ttl;
    bool icmp = seg->proto == IPPROTO_ICMP || seg->proto == IPPROTO_ICMPV6;
    p.pkt.icmp_type = icmp ? seg->icmp_type : -1;
    p.pkt.icmp_code = icmp ? seg->icmp_code : -1;
    p.pkt.icmp_id = icmp ? seg->icmp_id : -1;
    p.pkt.icmp_seq = icmp ? seg->icmp_seq : -1;
    const char *strs[S_COUNT] = {0};
    strs[S_LOCAL] = seg->src;
    strs[S_PEER] = seg->dst;
    strs[S_WHAT] = flags != NULL && *flags ? flags : NULL;
    strs[S_SOCK] = seg->proto >= 0 && seg->proto <= IPPROTO_ICMPV6 && protos[seg->proto]
                       ? protos[seg->proto]
                       : "other";
    return ev_pack(&p, strs);
}

struct ev *ev_output(uint64_t ts_ns, const char *text)
{
    struct ev p;
    ev_proto(&p);
    p.kind = EK_OUTPUT;
    p.ts_ns = ts_ns;
    const char *strs[S_COUNT] = {0};
    strs[S_ROLE] = "output";
    strs[S_TEXT] = text;
    return ev_pack(&p, strs);
}

static const char *kind_name(int kind)
{
    static const char *const names[] = {"other", "call",   "step",   "proc",   "exit",
                                        "note",  "kstate", "viewer", "output", "packet"};
    return kind >= 0 && kind < (int)(sizeof names / sizeof names[0]) ? names[kind] : "other";
}

/* A packet in the recording format (docs/recording-format.md). */
static json_t *packet_json(const struct ev *e)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "kind", json_string("packet"));
    json_object_set_new(o, "ts_ns", json_integer((json_int_t)e->ts_ns));
    json_object_set_new(o, "frame", json_integer(e->pkt.frame));
    json_object_set_new(o, "proto", json_string(e->sock ? e->sock : "other"));
    json_object_set_new(o, "src", json_string(e->local ? e->local : ""));
    json_object_set_new(o, "dst", json_string(e->peer ? e->peer : ""));
    json_object_set_new(o, "flags", json_string(e->what ? e->what : ""));
    json_object_set_new(o, "seq", json_integer(e->pkt.seq));
    json_object_set_new(o, "ack", json_integer(e->pkt.ack));
    json_object_set_new(o, "win", json_integer(e->pkt.win));
    json_object_set_new(o, "len", json_integer(e->pkt.len));
    json_object_set_new(o, "ttl", json_integer(e->pkt.ttl));
    if (e->pkt.icmp_type >= 0) {
        json_object_set_new(o, "icmp_type", json_integer(e->pkt.icmp_type));
        json_object_set_new(o, "icmp_code", json_integer(e->pkt.icmp_code));
        json_object_set_new(o, "icmp_id", json_integer(e->pkt.icmp_id));
        json_object_set_new(o, "icmp_seq", json_integer(e->pkt.icmp_seq));
    }
    return o;
}

char *ev_to_json(const struct ev *e)
{
    json_t *o = e->kind == EK_PACKET ? packet_json(e) : json_object();
    if (o == NULL)
        return NULL;
    if (e->kind == EK_PACKET)
        goto done;
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
    json_object_set_new(o, "ts_ns", json_integer((json_int_t)e->ts_ns));
    json_object_set_new(o, "pid", json_integer(e->pid));
    json_object_set_new(o, "ppid", json_integer(e->ppid));
    json_object_set_new(o, "kind", json_string(kind_name(e->kind)));
    const char *strs[S_COUNT] = {e->role, e->call, e->args, e->err,  e->sock, e->local, e->peer,
                                 e->addr, e->src,  e->what, e->text, e->data, e->hex};
    for (int i = 0; i < S_COUNT; i++)
        if (strs[i] != NULL)
            json_object_set_new(o, str_keys[i], json_string(strs[i]));
    if (e->fd >= 0)
        json_object_set_new(o, "fd", json_integer(e->fd));
    if (e->fd2 >= 0)
        json_object_set_new(o, "fd2", json_integer(e->fd2));
    if (e->has_ret)
        json_object_set_new(o, "ret", json_integer(e->ret));
    const char *st = tcp_state_name(e->state);
    if (st != NULL) {
        json_object_set_new(o, "state", json_string(st));
        json_object_set_new(o, "state_src",
                            json_string(e->state_src == SRC_SOCK_DIAG ? "sock_diag" : "tcp_info"));
    }
    if (e->rxq >= 0 || e->txq >= 0) {
        json_object_set_new(o, "rxq", json_integer(e->rxq));
        json_object_set_new(o, "txq", json_integer(e->txq));
    }
    if (e->bytes >= 0) {
        json_object_set_new(o, "bytes", json_integer(e->bytes));
        json_object_set_new(o, "trunc", json_boolean(e->trunc));
    }
    if (e->dur_ns)
        json_object_set_new(o, "dur_ns", json_integer((json_int_t)e->dur_ns));
    if (e->dropped)
        json_object_set_new(o, "dropped", json_integer((json_int_t)e->dropped));
done:;
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text == NULL)
        return NULL;
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (line == NULL) {
        free(text);
        return NULL;
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    return line;
}

/* --- the timeline -------------------------------------------------------- */

int timeline_append(struct timeline *t, struct ev *e)
{
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct ev **n = realloc(t->ev, cap * sizeof *n);
        if (n == NULL) {
            free(e);
            return -1;
        }
        t->ev = n;
        t->cap = cap;
    }
    t->ev[t->len++] = e;
    return 0;
}

void timeline_free(struct timeline *t)
{
    for (size_t i = 0; i < t->len; i++)
        free(t->ev[i]);
    free(t->ev);
    t->ev = NULL;
    t->len = t->cap = 0;
}

/* One part of a file, parsed by one thread. */
struct chunk {
    const char *begin, *end;
    size_t first_line; /* the number of its first line, from 1 */
    struct timeline t;
    struct load_report r;
};

static void *parse_chunk(void *arg)
{
    struct chunk *c = arg;
    const char *p = c->begin;
    size_t number = c->first_line;
    /* Bounded by the chunk's length. */
    while (p < c->end) {
        const char *nl = memchr(p, '\n', (size_t)(c->end - p));
        bool whole = nl != NULL;
        const char *stop = whole ? nl + 1 : c->end;
        if (!(stop - p == 1 && *p == '\n')) {
            char why[160];
            struct ev *e = whole ? ev_parse(p, (size_t)(stop - p), why, sizeof why) : NULL;
            if (!whole)
                c->r.cut_short = true;
            if (e == NULL || timeline_append(&c->t, e) == -1) {
                c->r.bad++;
                if (c->r.first_bad == 0)
                    c->r.first_bad = number;
            }
        }
        number++;
        p = stop;
    }
    return NULL;
}

int timeline_load(struct timeline *t, const char *path, struct load_report *r)
{
    memset(r, 0, sizeof *r);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -1;
    struct stat st;
    if (fstat(fd, &st) == -1) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    size_t size = (size_t)st.st_size;
    const char *data = NULL;
    if (size > 0) {
        void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        data = m;
    }
    close(fd);
    /* Two halves, cut at a line's end, parsed at once on two cores: a
     * long recording opens in half the time. */
    struct chunk c[2];
    memset(c, 0, sizeof c);
    const char *mid = data ? data + size / 2 : NULL;
    const char *nl = mid && size > 65536 ? memchr(mid, '\n', size - size / 2) : NULL;
    const char *cut = nl ? nl + 1 : data + size;
    c[0] = (struct chunk){.begin = data, .end = cut, .first_line = 1};
    c[1] = (struct chunk){.begin = cut, .end = data + size};
    size_t lines0 = 0;
    for (const char *p = data; nl != NULL && p < cut; p++)
        lines0 += *p == '\n';
    c[1].first_line = lines0 + 1;
    /* jansson's hash seed must be set before threads parse. */
    json_object_seed(0);
    pthread_t th;
    bool threaded = nl != NULL && pthread_create(&th, NULL, parse_chunk, &c[1]) == 0;
    parse_chunk(&c[0]);
    if (threaded)
        pthread_join(th, NULL);
    else if (nl != NULL)
        parse_chunk(&c[1]);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < c[k].t.len; i++)
            if (timeline_append(t, c[k].t.ev[i]) == -1)
                r->bad++;
        free(c[k].t.ev);
        r->bad += c[k].r.bad;
        if (r->first_bad == 0)
            r->first_bad = c[k].r.first_bad;
        r->cut_short = r->cut_short || c[k].r.cut_short;
    }
    if (data != NULL)
        munmap((void *)data, size);
    return 0;
}

/* --- the model ----------------------------------------------------------- */

void model_init(struct model *m)
{
    memset(m, 0, sizeof *m);
    m->last_send = m->last_recv = -1;
    m->trans_sock = -1;
    m->last_call = -1;
}

void model_free(struct model *m)
{
    free(m->procs);
    free(m->socks);
    free(m->outputs);
    free(m->packets);
    model_init(m);
}

const char *model_owner(const struct model *m, const char *addr)
{
    int pid = model_owner_pid(m, addr);
    const struct mproc *p = pid > 0 ? model_proc(m, pid) : NULL;
    return p ? p->role : NULL;
}

int model_owner_pid(const struct model *m, const char *addr)
{
    if (addr == NULL || *addr == '\0')
        return 0;
    /* The first process to hold it open: a forked child's copy of its
     * parent's listener is not the listener's owner. */
    const struct msock *found = NULL;
    for (int i = 0; i < m->nsocks; i++) {
        const struct msock *s = &m->socks[i];
        if (s->kernel_only || strcmp(s->local, addr) != 0)
            continue;
        if (!s->closed) {
            found = s;
            break;
        }
        if (found == NULL)
            found = s;
    }
    return found ? found->pid : 0;
}

struct mproc *model_proc(const struct model *m, int pid)
{
    for (int i = 0; i < m->nprocs; i++)
        if (m->procs[i].pid == pid)
            return &m->procs[i];
    return NULL;
}

static struct mproc *proc_get(struct model *m, int pid, int ppid)
{
    struct mproc *p = model_proc(m, pid);
    if (p != NULL)
        return p;
    if (m->nprocs == m->capprocs) {
        int cap = m->capprocs ? m->capprocs * 2 : 8;
        struct mproc *n = realloc(m->procs, (size_t)cap * sizeof *n);
        if (n == NULL)
            return NULL;
        m->procs = n;
        m->capprocs = cap;
    }
    p = &m->procs[m->nprocs++];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->ppid = ppid;
    p->pending = -1;
    snprintf(p->role, sizeof p->role, "?");
    return p;
}

static struct msock *sock_new(struct model *m, int pid, int fd)
{
    if (m->nsocks == m->capsocks) {
        int cap = m->capsocks ? m->capsocks * 2 : 16;
        struct msock *n = realloc(m->socks, (size_t)cap * sizeof *n);
        if (n == NULL)
            return NULL;
        m->socks = n;
        m->capsocks = cap;
    }
    struct msock *s = &m->socks[m->nsocks++];
    memset(s, 0, sizeof *s);
    s->pid = pid;
    s->fd = fd;
    s->state = s->prev_state = TCPS_NONE;
    s->rxq = s->txq = -1;
    return s;
}

static struct msock *sock_open(const struct model *m, int pid, int fd)
{
    for (int i = m->nsocks - 1; i >= 0; i--) {
        struct msock *s = &m->socks[i];
        if (!s->kernel_only && !s->closed && s->pid == pid && s->fd == fd)
            return s;
    }
    return NULL;
}

static void sock_remove(struct model *m, int i)
{
    if (m->trans_sock == i)
        m->trans_sock = -1;
    else if (m->trans_sock > i)
        m->trans_sock--;
    memmove(&m->socks[i], &m->socks[i + 1], (size_t)(m->nsocks - i - 1) * sizeof m->socks[0]);
    m->nsocks--;
}

/* How much later than the event that saw a transition its segment may
 * still be read. */
#define LATE_PACKET_NS 500000000ull

/* What a transition means on the wire: the segment that makes it. */
static const char *segment_cause(int from, int to)
{
    static const struct {
        int from, to;
        const char *why;
    } t[] = {
        {TCPS_SYN_SENT, TCPS_ESTABLISHED, "rcv SYN+ACK: the handshake completed"},
        {TCPS_LISTEN, TCPS_SYN_RECEIVED, "rcv SYN: a client knocks"},
        {TCPS_SYN_RECEIVED, TCPS_ESTABLISHED, "rcv ACK: the handshake completed"},
        {TCPS_ESTABLISHED, TCPS_CLOSE_WAIT, "rcv FIN: the peer closed its side"},
        {TCPS_FIN_WAIT_1, TCPS_FIN_WAIT_2, "rcv ACK: the peer acknowledged our FIN"},
        {TCPS_FIN_WAIT_1, TCPS_CLOSING, "rcv FIN: both sides closed at once"},
        {TCPS_FIN_WAIT_2, TCPS_TIME_WAIT, "rcv FIN: the peer closed too"},
        {TCPS_FIN_WAIT_1, TCPS_TIME_WAIT, "rcv FIN+ACK: the peer closed too"},
        {TCPS_CLOSING, TCPS_TIME_WAIT, "rcv ACK: the peer acknowledged our FIN"},
        {TCPS_LAST_ACK, TCPS_CLOSED, "rcv ACK: the peer acknowledged our FIN"},
        {TCPS_TIME_WAIT, TCPS_CLOSED, "2 MSL timeout: TIME_WAIT is over"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].from == from && t[i].to == to)
            return t[i].why;
    return NULL;
}

/* Does a packet's flags text ("FIN+ACK") have the flags a cause names
 * ("SYN+ACK", "SYN", "FIN", "ACK")? */
static bool flags_fit(const char *have, const char *want, size_t wantlen)
{
    char w[16];
    if (have == NULL || wantlen >= sizeof w)
        return false;
    memcpy(w, want, wantlen);
    w[wantlen] = '\0';
    if (strcmp(w, "SYN") == 0)
        return strstr(have, "SYN") != NULL && strstr(have, "ACK") == NULL;
    if (strcmp(w, "SYN+ACK") == 0)
        return strstr(have, "SYN") != NULL && strstr(have, "ACK") != NULL;
    if (strcmp(w, "ACK") == 0)
        return strstr(have, "ACK") != NULL && strstr(have, "SYN") == NULL;
    return strstr(have, w) != NULL;
}

/* The segment on the wire that made a transition "rcv FLAGS: why": the
 * latest of the last few packets to the socket with those flags. Writes
 * the cause naming it, or returns false when none was captured. */
static bool wire_cause(const struct model *m, const struct msock *s, const char *seg, char *out,
                       size_t size)
{
    if (m->tl == NULL || m->npackets == 0 || strncmp(seg, "rcv ", 4) != 0)
        return false;
    const char *flags = seg + 4, *colon = strchr(flags, ':');
    if (colon == NULL)
        return false;
    for (size_t k = m->npackets; k > 0 && k + 8 > m->npackets; k--) {
        const struct ev *p = m->tl->ev[m->packets[k - 1]];
        if (p->ts_ns > s->changed_ts || p->peer == NULL || strcmp(p->peer, s->local) != 0 ||
            (s->peer[0] && (p->local == NULL || strcmp(p->local, s->peer) != 0)) ||
            !flags_fit(p->what, flags, (size_t)(colon - flags)))
            continue;
        snprintf(out, size, "rcv %s seq %u ack %u (frame %u)%s", p->what, p->pkt.seq, p->pkt.ack,
                 p->pkt.frame, colon);
        return true;
    }
    return false;
}

static void set_state(struct model *m, struct msock *s, int state, int src, const char *cause,
                      size_t at)
{
    if (state == TCPS_NONE)
        return;
    if (state == TCPS_NEW_SYN_RECV)
        state = TCPS_SYN_RECEIVED;
    s->state_src = src;
    if (state == s->state)
        return;
    /* A call that only saw the change (a send after the peer's FIN) is
     * not its cause: the segment is. */
    const char *seg = segment_cause(s->state, state);
    s->prev_state = s->state;
    s->state = state;
    s->changed_at = at;
    s->changed_ts = m->tl != NULL && at < m->tl->len ? m->tl->ev[at]->ts_ns : 0;
    s->wire_pending = NULL;
    if (seg == NULL || !wire_cause(m, s, seg, s->cause, sizeof s->cause)) {
        snprintf(s->cause, sizeof s->cause, "%s", seg ? seg : cause);
        if (seg != NULL && strncmp(seg, "rcv ", 4) == 0) {
            s->wire_pending = seg;
            if (s->changed_ts + LATE_PACKET_NS > m->wire_pending_until)
                m->wire_pending_until = s->changed_ts + LATE_PACKET_NS;
        }
    }
    m->trans_sock = (int)(s - m->socks);
}

/* A packet read after the event that saw its transition: name it now.
 * Packets come in the order the kernel saw them, so one later than every
 * waiting transition by LATE_PACKET_NS ends the wait (and the search). */
static void late_wire_cause(struct model *m, uint64_t packet_ts)
{
    if (packet_ts > m->wire_pending_until)
        return;
    for (int i = 0; i < m->nsocks; i++) {
        struct msock *s = &m->socks[i];
        if (s->wire_pending == NULL)
            continue;
        if (wire_cause(m, s, s->wire_pending, s->cause, sizeof s->cause) ||
            packet_ts > s->changed_ts + LATE_PACKET_NS)
            s->wire_pending = NULL;
    }
}

/* Sockets seen only by the kernel give way to the traced one they are. */
static struct msock *drop_kernel_twin(struct model *m, struct msock *keep)
{
    int k = (int)(keep - m->socks);
    for (int i = m->nsocks - 1; i >= 0; i--) {
        if (i == k || !m->socks[i].kernel_only || strcmp(m->socks[i].local, keep->local) != 0 ||
            strcmp(m->socks[i].peer, keep->peer) != 0)
            continue;
        sock_remove(m, i);
        if (i < k)
            k--;
        keep = &m->socks[k];
    }
    return keep;
}

/* Take what an event says of its socket. */
/* Copy a string into a field, cut to its size (this runs for every event). */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void take_fields(struct model *m, struct msock *s, const struct ev *e, const char *cause,
                        size_t at)
{
    if (e->sock != NULL)
        copy_str(s->sock, sizeof s->sock, e->sock);
    if (e->local != NULL)
        copy_str(s->local, sizeof s->local, e->local);
    if (e->peer != NULL)
        copy_str(s->peer, sizeof s->peer, e->peer);
    if (e->rxq >= 0) {
        s->rxq = e->rxq;
        s->txq = e->txq;
    }
    if (s->local[0] && s->peer[0] && !s->kernel_only)
        s = drop_kernel_twin(m, s);
    set_state(m, s, e->state, e->state_src, cause, at);
}

bool call_sends(const char *call)
{
    return call && (strcmp(call, "send") == 0 || strcmp(call, "sendto") == 0 ||
                    strcmp(call, "sendmsg") == 0 || strcmp(call, "write") == 0);
}

bool call_receives(const char *call)
{
    return call && (strcmp(call, "recv") == 0 || strcmp(call, "recvfrom") == 0 ||
                    strcmp(call, "recvmsg") == 0 || strcmp(call, "read") == 0);
}

static void apply_call(struct model *m, const struct ev *e, struct mproc *p, size_t at)
{
    /* What made a transition; only a call that saw a state can make one. */
    char cause[64] = "";
    if (e->state != TCPS_NONE)
        snprintf(cause, sizeof cause, "%s() by %s", e->call ? e->call : "?", p ? p->role : "?");
    m->calls++;
    m->last_call = (long)at;
    if (e->err != NULL)
        m->errors++;
    if (e->call == NULL)
        return;
    bool ok = e->has_ret && e->ret >= 0 && e->err == NULL;
    if ((strcmp(e->call, "socket") == 0 || strcmp(e->call, "accept") == 0 ||
         strcmp(e->call, "accept4") == 0) &&
        ok) {
        int fd = (int)e->ret;
        struct msock *old = sock_open(m, e->pid, fd);
        if (old != NULL)
            old->closed = true;
        struct msock *s = sock_new(m, e->pid, fd);
        if (s != NULL) {
            s->changed_at = at;
            take_fields(m, s, e, cause, at);
            if (s->prev_state == TCPS_NONE && strcmp(e->call, "socket") == 0)
                s->cause[0] = '\0';
        }
        return;
    }
    if (strcmp(e->call, "socketpair") == 0 && ok) {
        for (int i = 0; i < 2; i++) {
            struct msock *s = sock_new(m, e->pid, i == 0 ? e->fd : e->fd2);
            if (s != NULL && e->sock != NULL)
                snprintf(s->sock, sizeof s->sock, "%s", e->sock);
        }
        return;
    }
    if (e->fd < 0)
        return;
    struct msock *s = sock_open(m, e->pid, e->fd);
    if (strcmp(e->call, "close") == 0) {
        if (s != NULL && ok) {
            s->closed = true;
            take_fields(m, s, e, cause, at);
        }
        return;
    }
    if (s == NULL && e->sock != NULL)
        s = sock_new(m, e->pid, e->fd);
    if (s != NULL)
        take_fields(m, s, e, cause, at);
    if (e->bytes > 0 && e->hex != NULL) {
        if (call_sends(e->call))
            m->last_send = (long)at;
        else if (call_receives(e->call))
            m->last_recv = (long)at;
    }
}

static void apply_kernel(struct model *m, const struct ev *e, size_t at)
{
    const char *local = e->local ? e->local : "";
    const char *peer = e->peer ? e->peer : "";
    bool found = false;
    for (int i = 0; i < m->nsocks; i++) {
        struct msock *s = &m->socks[i];
        if (strcmp(s->local, local) != 0 || strcmp(s->peer, peer) != 0)
            continue;
        if (!*peer && s->state != TCPS_LISTEN && !s->kernel_only)
            continue;
        found = true;
        if (e->rxq >= 0) {
            s->rxq = e->rxq;
            s->txq = e->txq;
        }
        set_state(m, s, e->state, SRC_SOCK_DIAG, "seen by the kernel (sock_diag)", at);
    }
    if (found)
        return;
    if (e->state == TCPS_CLOSED || e->state == TCPS_NONE)
        return;
    struct msock *s = sock_new(m, 0, -1);
    if (s == NULL)
        return;
    s->kernel_only = true;
    snprintf(s->sock, sizeof s->sock, "tcp");
    snprintf(s->local, sizeof s->local, "%s", local);
    snprintf(s->peer, sizeof s->peer, "%s", peer);
    s->rxq = e->rxq;
    s->txq = e->txq;
    s->changed_at = at;
    set_state(m, s, e->state, SRC_SOCK_DIAG, "seen by the kernel (sock_diag)", at);
}

/* Append `x` to a growing list of timeline indexes; out of memory: not. */
static void push_index(long **v, size_t *n, size_t *cap, long x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        long *nv = realloc(*v, c * sizeof *nv);
        if (nv == NULL)
            return;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = x;
}

void model_apply(struct model *m, const struct timeline *t)
{
    if (m->applied >= t->len)
        return;
    size_t at = m->applied++;
    const struct ev *e = t->ev[at];
    m->tl = t;
    if (e->kind == EK_PACKET) {
        push_index(&m->packets, &m->npackets, &m->cappackets, (long)at);
        late_wire_cause(m, e->ts_ns);
        return;
    }
    if (e->kind == EK_STATE) {
        apply_kernel(m, e, at);
        return;
    }
    if (e->kind == EK_OUTPUT) {
        push_index(&m->outputs, &m->nout, &m->capout, (long)at);
        return;
    }
    if (e->kind == EK_VIEWER || e->pid <= 0)
        return;
    struct mproc *p = proc_get(m, e->pid, e->ppid);
    if (p == NULL)
        return;
    if (e->role != NULL)
        snprintf(p->role, sizeof p->role, "%s", e->role);
    if (e->dropped > p->dropped) {
        m->dropped += e->dropped - p->dropped;
        p->dropped = e->dropped;
    }
    switch (e->kind) {
    case EK_PROC:
        p->exited = false;
        if (e->text != NULL && strcmp(e->text, "forked") == 0) {
            /* A child holds a copy of each of its parent's descriptors. */
            int n = m->nsocks;
            for (int i = 0; i < n; i++) {
                if (m->socks[i].pid != e->ppid || m->socks[i].closed || m->socks[i].kernel_only)
                    continue;
                struct msock copy = m->socks[i];
                struct msock *s = sock_new(m, e->pid, copy.fd);
                if (s != NULL) {
                    *s = copy;
                    s->pid = e->pid;
                }
            }
        }
        break;
    case EK_EXIT:
        p->exited = true;
        p->pending = -1;
        /* The kernel closes what a process leaves open. */
        for (int i = 0; i < m->nsocks; i++)
            if (m->socks[i].pid == e->pid && !m->socks[i].kernel_only)
                m->socks[i].closed = true;
        break;
    case EK_STEP: p->pending = (long)at; break;
    case EK_CALL:
        p->pending = -1;
        p->calls++;
        apply_call(m, e, p, at);
        break;
    default: break;
    }
}

void model_seek(struct model *m, const struct timeline *t, size_t n)
{
    if (n > t->len)
        n = t->len;
    if (n < m->applied) {
        model_free(m);
        model_init(m);
    }
    while (m->applied < n)
        model_apply(m, t);
}

long model_oldest_pending(const struct model *m)
{
    long best = -1;
    for (int i = 0; i < m->nprocs; i++)
        if (m->procs[i].pending >= 0 && !m->procs[i].exited &&
            (best < 0 || m->procs[i].pending < best))
            best = m->procs[i].pending;
    return best;
}
