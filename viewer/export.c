/* export.c: a session as a sequence diagram; see export.h. */
#include "export.h"

#include <stdbool.h>
#include <string.h>

#include "sockstate.h"

/* The traced process at the other end of (local, peer), or 0. */
static int peer_pid(const struct model *m, int pid, const char *local, const char *peer)
{
    if (local == NULL || peer == NULL)
        return 0;
    for (int i = 0; i < m->nsocks; i++) {
        const struct msock *s = &m->socks[i];
        if (!s->kernel_only && s->pid != pid && strcmp(s->local, peer) == 0 &&
            strcmp(s->peer, local) == 0)
            return s->pid;
    }
    /* A connect reaches the listener before any connection exists. */
    for (int i = 0; i < m->nsocks; i++) {
        const struct msock *s = &m->socks[i];
        if (!s->kernel_only && !s->closed && s->pid != pid && s->state == TCPS_LISTEN &&
            strcmp(s->local, peer) == 0)
            return s->pid;
    }
    return 0;
}

/* Calls that reach the other end: they make segments. */
static bool crosses(const char *call)
{
    static const char *const calls[] = {"connect", "send",  "sendto",  "sendmsg",
                                        "write",   "close", "shutdown"};
    for (size_t i = 0; call != NULL && i < sizeof calls / sizeof calls[0]; i++)
        if (strcmp(call, calls[i]) == 0)
            return true;
    return false;
}

/* Message text Mermaid reads literally: ';' and '#' are its syntax, and a
 * message is one line. */
static void put_mermaid_text(FILE *out, const char *text)
{
    for (const char *p = text; p && *p; p++) {
        if (*p == ';')
            fputs("#59;", out);
        else if (*p == '#')
            fputs("#35;", out);
        else if (*p == '\n' || *p == '\r')
            fputc(' ', out);
        else
            fputc(*p, out);
    }
}

struct step_out {
    int from, to; /* pids; 0: the kernel */
    char text[700];
    bool note;
    bool segment; /* a packet on the wire, not a call */
};

typedef void (*emit_fn)(const struct model *m, const struct step_out *s, uint64_t ts, void *arg);

/* Not a process: 0 the kernel (sock_diag), -1 an untraced peer on the
 * wire. */
#define UNTRACED (-1)

static const char *role_of(const struct model *m, int pid)
{
    const struct mproc *p = model_proc(m, pid);
    return pid == 0 ? "kernel" : pid == UNTRACED ? "untraced peer" : p ? p->role : "?";
}

static void participant_id(char *buf, size_t size, int pid)
{
    snprintf(buf, size, pid > 0 ? "P%d" : pid == 0 ? "K" : "X", pid);
}

/* Walk the timeline; for each call and each state change, one message. */
static void walk(const struct timeline *t, emit_fn emit, void *arg)
{
    struct model m, end;
    model_init(&m);
    /* A segment may come before the call that names its address (the
     * handshake before connect returns): the session's end knows it. */
    model_init(&end);
    model_seek(&end, t, t->len);
    while (m.applied < t->len) {
        size_t at = m.applied;
        const struct ev *e = t->ev[at];
        model_apply(&m, t);
        struct step_out s = {0};
        if (e->kind == EK_CALL) {
            int to = crosses(e->call) ? peer_pid(&m, e->pid, e->local, e->peer) : 0;
            s.from = e->pid;
            s.to = to ? to : e->pid;
            if (e->err != NULL)
                snprintf(s.text, sizeof s.text, "%s = %lld %s", e->args ? e->args : e->call, e->ret,
                         e->err);
            else
                snprintf(s.text, sizeof s.text, "%s = %lld", e->args ? e->args : e->call, e->ret);
            emit(&m, &s, e->ts_ns, arg);
        }
        if (e->kind == EK_PACKET) {
            /* A segment between the endpoints that own its addresses. */
            s.from = model_owner_pid(&m, e->local);
            s.to = model_owner_pid(&m, e->peer);
            s.from = s.from ? s.from : model_owner_pid(&end, e->local);
            s.to = s.to ? s.to : model_owner_pid(&end, e->peer);
            s.from = s.from ? s.from : UNTRACED;
            s.to = s.to ? s.to : UNTRACED;
            const char *proto = e->sock ? e->sock : "?";
            if (strcmp(proto, "tcp") == 0)
                snprintf(s.text, sizeof s.text, "%s seq=%u ack=%u win=%u len=%u",
                         e->what ? e->what : "-", e->pkt.seq, e->pkt.ack, e->pkt.win, e->pkt.len);
            else if (e->pkt.icmp_type >= 0)
                snprintf(s.text, sizeof s.text, "%s type %d code %d seq %d", proto,
                         e->pkt.icmp_type, e->pkt.icmp_code, e->pkt.icmp_seq);
            else
                snprintf(s.text, sizeof s.text, "%s len=%u", proto, e->pkt.len);
            s.segment = true;
            emit(&m, &s, e->ts_ns, arg);
        }
        /* The transitions this entry made. */
        for (int i = 0; i < m.nsocks; i++) {
            const struct msock *k = &m.socks[i];
            if (k->changed_at != at || k->prev_state == TCPS_NONE)
                continue;
            struct step_out n = {.note = true, .from = k->kernel_only ? 0 : k->pid};
            n.to = n.from;
            snprintf(n.text, sizeof n.text, "fd %d: %s -> %s (%s)", k->fd,
                     tcp_state_name(k->prev_state), tcp_state_name(k->state),
                     k->state_src == SRC_SOCK_DIAG ? "sock_diag" : "tcp_info");
            if (k->kernel_only)
                snprintf(n.text, sizeof n.text, "%s: %s -> %s (sock_diag)", k->local,
                         tcp_state_name(k->prev_state), tcp_state_name(k->state));
            emit(&m, &n, e->ts_ns, arg);
        }
    }
    model_free(&m);
    model_free(&end);
}

struct mermaid {
    FILE *out;
    int seen[256];
    int nseen;
    bool kernel, untraced;
};

static void mermaid_collect(const struct model *m, const struct step_out *s, uint64_t ts, void *arg)
{
    (void)m;
    (void)ts;
    struct mermaid *mm = arg;
    int pids[2] = {s->from, s->to};
    for (int k = 0; k < 2; k++) {
        if (pids[k] == 0) {
            mm->kernel = true;
            continue;
        }
        if (pids[k] == UNTRACED) {
            mm->untraced = true;
            continue;
        }
        bool dup = false;
        for (int i = 0; i < mm->nseen; i++)
            dup = dup || mm->seen[i] == pids[k];
        if (!dup && mm->nseen < 256)
            mm->seen[mm->nseen++] = pids[k];
    }
}

static void mermaid_emit(const struct model *m, const struct step_out *s, uint64_t ts, void *arg)
{
    (void)m;
    (void)ts;
    struct mermaid *mm = arg;
    char from[24], to[24];
    participant_id(from, sizeof from, s->from);
    participant_id(to, sizeof to, s->to);
    if (s->note)
        fprintf(mm->out, "    Note over %s: ", from);
    else /* calls solid, segments dashed */
        fprintf(mm->out, "    %s%s%s: ", from, s->segment ? "-->>" : "->>", to);
    put_mermaid_text(mm->out, s->text);
    fputc('\n', mm->out);
}

void export_mermaid(const struct timeline *t, FILE *out)
{
    struct mermaid mm = {.out = out};
    walk(t, mermaid_collect, &mm);
    /* Participants in order of appearance, named by role and pid. */
    struct model m;
    model_init(&m);
    model_seek(&m, t, t->len);
    fprintf(out, "sequenceDiagram\n");
    for (int i = 0; i < mm.nseen; i++) {
        fprintf(out, "    participant P%d as ", mm.seen[i]);
        put_mermaid_text(out, role_of(&m, mm.seen[i]));
        fprintf(out, " %d\n", mm.seen[i]);
    }
    if (mm.kernel)
        fprintf(out, "    participant K as kernel (sock_diag)\n");
    if (mm.untraced)
        fprintf(out, "    participant X as untraced peer\n");
    model_free(&m);
    walk(t, mermaid_emit, &mm);
}

struct text_state {
    FILE *out;
    uint64_t t0;
};

static void text_emit(const struct model *m, const struct step_out *s, uint64_t ts, void *arg)
{
    struct text_state *ts_ = arg;
    if (ts_->t0 == 0)
        ts_->t0 = ts;
    double ms = ts >= ts_->t0 ? (double)(ts - ts_->t0) / 1e6 : 0;
    char who[64];
    if (s->note)
        snprintf(who, sizeof who, "%s", role_of(m, s->from));
    else if (s->from == s->to)
        snprintf(who, sizeof who, "%s", role_of(m, s->from));
    else
        snprintf(who, sizeof who, "%s -> %s", role_of(m, s->from), role_of(m, s->to));
    fprintf(ts_->out, "%10.3f ms  %-20s %s%s\n", ms, who,
            s->note      ? "state "
            : s->segment ? "wire "
                         : "",
            s->text);
}

void export_text(const struct timeline *t, FILE *out)
{
    struct text_state ts = {.out = out};
    walk(t, text_emit, &ts);
}
