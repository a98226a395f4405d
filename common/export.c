/* export.c: a recording as a sequence diagram; see export.h. */
#include "export.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 64
#define MAX_ADDRS 512
#define MAX_CONNS 512

struct part {
    long long pid;  /* 0 for an address-only participant */
    char label[96]; /* "server 1234" or "127.0.0.1:9000" */
};

/* Who owns an address: the participant whose sockets had it as `local`. */
struct owner {
    char addr[ADDR_STRLEN];
    int part;
};

struct conn {
    char key[2 * ADDR_STRLEN + 2];
    char state[16];
};

struct view {
    struct part parts[MAX_PARTS];
    int nparts;
    struct owner owners[MAX_ADDRS];
    int nowners;
    struct conn conns[MAX_CONNS];
    int nconns;
    uint64_t t0;
};

static int part_of_pid(struct view *v, long long pid, const char *role)
{
    for (int i = 0; i < v->nparts; i++)
        if (v->parts[i].pid == pid)
            return i;
    if (v->nparts == MAX_PARTS)
        return MAX_PARTS - 1;
    struct part *p = &v->parts[v->nparts];
    p->pid = pid;
    snprintf(p->label, sizeof p->label, "%s %lld", role ? role : "process", pid);
    return v->nparts++;
}

static void own(struct view *v, const char *addr, int part)
{
    if (addr == NULL || *addr == '\0')
        return;
    for (int i = 0; i < v->nowners; i++)
        if (strcmp(v->owners[i].addr, addr) == 0) {
            v->owners[i].part = part;
            return;
        }
    if (v->nowners < MAX_ADDRS) {
        snprintf(v->owners[v->nowners].addr, ADDR_STRLEN, "%s", addr);
        v->owners[v->nowners++].part = part;
    }
}

static int part_of_addr(struct view *v, const char *addr)
{
    for (int i = 0; i < v->nowners; i++)
        if (strcmp(v->owners[i].addr, addr) == 0)
            return v->owners[i].part;
    /* An address no traced process owns: a participant of its own. */
    for (int i = 0; i < v->nparts; i++)
        if (v->parts[i].pid == 0 && strcmp(v->parts[i].label, addr) == 0)
            return i;
    if (v->nparts == MAX_PARTS)
        return MAX_PARTS - 1;
    struct part *p = &v->parts[v->nparts];
    p->pid = 0;
    snprintf(p->label, sizeof p->label, "%s", addr);
    return v->nparts++;
}

/* True when the connection local<->peer enters `state` now (a change). */
static bool state_changes(struct view *v, const char *local, const char *peer, const char *state)
{
    if (state == NULL || local == NULL)
        return false;
    /* A listener has no peer: the kernel says 0.0.0.0:0 or [::]:0. */
    if (peer != NULL && (strcmp(peer, "0.0.0.0:0") == 0 || strcmp(peer, "[::]:0") == 0))
        peer = NULL;
    char key[sizeof v->conns[0].key];
    snprintf(key, sizeof key, "%s|%s", local, peer ? peer : "");
    for (int i = 0; i < v->nconns; i++) {
        if (strcmp(v->conns[i].key, key) == 0) {
            if (strcmp(v->conns[i].state, state) == 0)
                return false;
            snprintf(v->conns[i].state, sizeof v->conns[i].state, "%s", state);
            return true;
        }
    }
    if (v->nconns < MAX_CONNS) {
        snprintf(v->conns[v->nconns].key, sizeof key, "%s", key);
        snprintf(v->conns[v->nconns++].state, sizeof v->conns[0].state, "%s", state);
    }
    /* Every new socket starts CLOSED: only a change is worth a note. */
    return strcmp(state, "CLOSED") != 0;
}

/* First pass: every process, and which addresses each owns. */
static void find_parts(struct view *v, const struct recording *r)
{
    for (size_t i = 0; i < r->count; i++) {
        const struct record_entry *e = &r->entries[i];
        if (v->t0 == 0 && e->ts_ns)
            v->t0 = e->ts_ns;
        if (strcmp(e->kind, "call") != 0)
            continue;
        int p = part_of_pid(v, record_int(e, "pid", 0), record_str(e, "role"));
        /* The role can change after the first event (prctl): keep the last. */
        const char *role = record_str(e, "role");
        if (role != NULL)
            snprintf(v->parts[p].label, sizeof v->parts[p].label, "%s %lld", role, v->parts[p].pid);
        const char *local = record_str(e, "local");
        /* Unbound (port 0) addresses name nobody. */
        if (local != NULL && strcmp(local + strlen(local) - 2, ":0") != 0)
            own(v, local, p);
    }
}

/* Mermaid ends a message at ';' and reads '#' as an entity: write them as
 * entities. */
static void mermaid_text(FILE *out, const char *s)
{
    for (; s != NULL && *s; s++) {
        if (*s == ';')
            fputs("#59;", out);
        else if (*s == '#')
            fputs("#35;", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

static void call_text(const struct record_entry *e, char *buf, size_t size)
{
    const char *args = record_str(e, "args");
    const char *err = record_str(e, "errno");
    if (err != NULL)
        snprintf(buf, size, "%s = %lld %s", args ? args : record_str(e, "call"),
                 record_int(e, "ret", -1), err);
    else
        snprintf(buf, size, "%s = %lld", args ? args : record_str(e, "call"),
                 record_int(e, "ret", 0));
}

static void packet_text(const struct record_entry *e, char *buf, size_t size)
{
    const char *proto = record_str(e, "proto");
    if (proto != NULL && strcmp(proto, "tcp") == 0)
        snprintf(buf, size, "%s seq=%lld ack=%lld win=%lld len=%lld", record_str(e, "flags"),
                 record_int(e, "seq", 0), record_int(e, "ack", 0), record_int(e, "win", 0),
                 record_int(e, "len", 0));
    else if (proto != NULL && strcmp(proto, "udp") == 0)
        snprintf(buf, size, "UDP len=%lld", record_int(e, "len", 0));
    else
        snprintf(buf, size, "%s type=%lld code=%lld seq=%lld", proto ? proto : "?",
                 record_int(e, "icmp_type", 0), record_int(e, "icmp_code", 0),
                 record_int(e, "icmp_seq", 0));
}

/* A packet's source and destination with the port, for owners; ICMP has
 * no port, so it is matched by address alone. */
static int packet_part(struct view *v, const char *addr)
{
    return part_of_addr(v, addr ? addr : "?");
}

typedef void (*emit_fn)(struct view *v, FILE *out, int from, int to, const char *text, uint64_t ts,
                        bool note, bool wire);

static int walk(const struct recording *r, FILE *out, emit_fn emit, bool header)
{
    struct view *v = calloc(1, sizeof *v);
    if (v == NULL)
        return -1;
    find_parts(v, r);
    /* Participants from the wire are found as packets are met; make them
     * known before the header is written. */
    for (size_t i = 0; i < r->count; i++) {
        const struct record_entry *e = &r->entries[i];
        if (strcmp(e->kind, "packet") == 0) {
            packet_part(v, record_str(e, "src"));
            packet_part(v, record_str(e, "dst"));
        }
    }
    if (header) {
        fprintf(out, "sequenceDiagram\n");
        for (int i = 0; i < v->nparts; i++) {
            fprintf(out, "    participant P%d as ", i);
            mermaid_text(out, v->parts[i].label);
            fputc('\n', out);
        }
    }
    char text[512];
    for (size_t i = 0; i < r->count; i++) {
        const struct record_entry *e = &r->entries[i];
        if (strcmp(e->kind, "call") == 0) {
            int p = part_of_pid(v, record_int(e, "pid", 0), record_str(e, "role"));
            call_text(e, text, sizeof text);
            emit(v, out, p, p, text, e->ts_ns, false, false);
            const char *state = record_str(e, "state");
            if (state_changes(v, record_str(e, "local"), record_str(e, "peer"), state)) {
                snprintf(text, sizeof text, "%s", state);
                emit(v, out, p, p, text, e->ts_ns, true, false);
            }
        } else if (strcmp(e->kind, "packet") == 0) {
            int from = packet_part(v, record_str(e, "src"));
            int to = packet_part(v, record_str(e, "dst"));
            packet_text(e, text, sizeof text);
            emit(v, out, from, to, text, e->ts_ns, false, true);
        } else if (strcmp(e->kind, "kstate") == 0) {
            const char *local = record_str(e, "local");
            const char *state = record_str(e, "state");
            if (!state_changes(v, local, record_str(e, "peer"), state))
                continue;
            int p = part_of_addr(v, local ? local : "?");
            snprintf(text, sizeof text, "%s (kernel)", state);
            emit(v, out, p, p, text, e->ts_ns, true, false);
        } else if (strcmp(e->kind, "note") == 0) {
            int p = part_of_pid(v, record_int(e, "pid", 0), record_str(e, "role"));
            snprintf(text, sizeof text, "%s", record_str(e, "text") ? record_str(e, "text") : "");
            emit(v, out, p, p, text, e->ts_ns, true, false);
        }
    }
    free(v);
    return 0;
}

static void emit_mermaid(struct view *v, FILE *out, int from, int to, const char *text, uint64_t ts,
                         bool note, bool wire)
{
    (void)v;
    (void)ts;
    if (note)
        fprintf(out, "    Note over P%d: ", from);
    else
        fprintf(out, "    P%d%sP%d: ", from, wire ? "-)" : "->>", to);
    mermaid_text(out, text);
    fputc('\n', out);
}

int export_mermaid(const struct recording *r, FILE *out)
{
    return walk(r, out, emit_mermaid, true);
}

static void emit_text(struct view *v, FILE *out, int from, int to, const char *text, uint64_t ts,
                      bool note, bool wire)
{
    double ms = ts >= v->t0 ? (double)(ts - v->t0) / 1e6 : 0.0;
    char who[200];
    if (wire)
        snprintf(who, sizeof who, "%s -> %s", v->parts[from].label, v->parts[to].label);
    else
        snprintf(who, sizeof who, "%s", v->parts[from].label);
    fprintf(out, "%10.3f ms  %-28s %s%s\n", ms, who, note ? "state: " : "", text);
}

int export_text(const struct recording *r, FILE *out)
{
    return walk(r, out, emit_text, false);
}
