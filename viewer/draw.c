/* draw.c: the viewer's screen from the model; see draw.h. */
#include "draw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errnames.h"
#include "explain.h"
#include "sockstate.h"

void view_init(struct view *v)
{
    memset(v, 0, sizeof *v);
    v->maximized = PANE_NONE;
    v->sel = -1;
    v->speed_ms = -1;
    v->next = -1;
}

const char *pane_name(int pane)
{
    static const char *const names[] = {"endpoints", "TCP states", "bytes",
                                        "calls",     "output",     "wire"};
    return pane >= 0 && pane < PANE_COUNT ? names[pane] : "";
}

/* --- helpers ------------------------------------------------------------- */

static const char *src_name(int src)
{
    return src == SRC_SOCK_DIAG ? "sock_diag" : src == SRC_TCP_INFO ? "tcp_info" : NULL;
}

/* A state as the student sees it: its RFC name. */
static const char *state_name(int st)
{
    const char *n = tcp_state_name(st);
    return n ? n : "";
}

static bool sock_shown(const struct msock *s)
{
    if (!s->closed)
        return true;
    /* After close: only a connection the kernel still holds is worth a
     * line (FIN_WAIT_2, TIME_WAIT, LAST_ACK...). */
    return s->peer[0] && s->state != TCPS_NONE && s->state != TCPS_CLOSED &&
           s->state != TCPS_LISTEN;
}

int draw_visible_socks(const struct model *m, int *out, int max)
{
    int n = 0;
    /* Process by process, in the order the processes appeared; the
     * kernel's own sockets last. */
    for (int p = 0; p <= m->nprocs; p++) {
        int pid = p < m->nprocs ? m->procs[p].pid : 0;
        for (int i = 0; i < m->nsocks && n < max; i++) {
            const struct msock *s = &m->socks[i];
            if ((p < m->nprocs) == s->kernel_only || (p < m->nprocs && s->pid != pid))
                continue;
            if (sock_shown(s))
                out[n++] = i;
        }
    }
    return n;
}

static int selected_sock(const struct model *m, const struct view *v)
{
    if (v->sel >= 0 && v->sel < m->nsocks)
        return v->sel;
    if (m->trans_sock >= 0 && m->trans_sock < m->nsocks)
        return m->trans_sock;
    return -1;
}

/* A queue as a bar: "rx[##....] 5". */
static int draw_queue(struct grid *g, int r, int c, int w, const char *label, int bytes, int scale)
{
    if (w < 8)
        return 0;
    int barw = w - (int)strlen(label) - 9;
    if (barw > 12)
        barw = 12;
    if (barw < 3)
        barw = 3;
    int x = c;
    x += grid_text(g, r, x, w, label, AT_DIM);
    grid_put(g, r, x++, '[', AT_DIM);
    int fill = 0;
    if (bytes > 0) {
        fill = (int)((long long)bytes * barw / (scale > 0 ? scale : 1));
        if (fill < 1)
            fill = 1;
        if (fill > barw)
            fill = barw;
    }
    for (int i = 0; i < barw; i++)
        grid_put(g, r, x + i, i < fill ? G_FULL : G_LIGHT, i < fill ? AT_DATA : AT_DIM);
    x += barw;
    grid_put(g, r, x++, ']', AT_DIM);
    char num[16];
    snprintf(num, sizeof num, "%d", bytes < 0 ? 0 : bytes);
    x += grid_text(g, r, x, c + w - x, num, bytes > 0 ? AT_DATA : AT_NORMAL);
    return x - c;
}

/* --- the endpoints pane -------------------------------------------------- */

static int queue_scale(const struct model *m)
{
    int max = 64;
    for (int i = 0; i < m->nsocks; i++) {
        const struct msock *s = &m->socks[i];
        if (s->state == TCPS_LISTEN)
            continue;
        if (s->rxq > max)
            max = s->rxq;
        if (s->txq > max)
            max = s->txq;
    }
    int scale = 64;
    while (scale < max && scale < (1 << 30))
        scale *= 2;
    return scale;
}

/* One socket; returns the rows used. */
static int draw_sock(struct grid *g, const struct model *m, int i, bool sel, int r, int c, int w,
                     int rows, int scale)
{
    const struct msock *s = &m->socks[i];
    int used = 0;
    char head[160];
    if (s->kernel_only)
        snprintf(head, sizeof head, "%s", s->sock);
    else if (s->closed)
        snprintf(head, sizeof head, "fd %d closed %s", s->fd, s->sock);
    else
        snprintf(head, sizeof head, "fd %d %s", s->fd, s->sock[0] ? s->sock : "?");
    int x = c;
    int attr = s->closed ? AT_DIM : AT_NORMAL;
    grid_put(g, r, x++, sel ? G_RIGHT : ' ', AT_LIT);
    x += grid_text(g, r, x, c + w - x, head, sel ? AT_LIT : attr);
    if (s->state != TCPS_NONE) {
        x++;
        x += grid_text(g, r, x, c + w - x, state_name(s->state), AT_LIT);
        const char *src = src_name(s->state_src);
        if (src != NULL) {
            char buf[32];
            snprintf(buf, sizeof buf, " (%s)", src);
            grid_text(g, r, x, c + w - x, buf, AT_DIM);
        }
    }
    used++;
    if (used >= rows)
        return used;
    char addrs[2 * ADDR_STRLEN + 8];
    if (s->peer[0])
        snprintf(addrs, sizeof addrs, "%s %s %s", s->local[0] ? s->local : "?",
                 grid_glyph(g, G_RIGHT) == '>' ? "<->" : "\xe2\x86\x94", s->peer);
    else if (s->state == TCPS_LISTEN && s->rxq >= 0)
        snprintf(addrs, sizeof addrs, "%s  accept queue %d/%d", s->local[0] ? s->local : "?",
                 s->rxq, s->txq);
    else
        snprintf(addrs, sizeof addrs, "%s", s->local[0] ? s->local : "(no address)");
    grid_text(g, r + used, c + 2, w - 2, addrs, attr);
    used++;
    if (used >= rows || s->closed)
        return used;
    if (s->state == TCPS_LISTEN)
        return used;
    if (s->rxq >= 0 || s->txq >= 0) {
        int half = (w - 2) / 2;
        draw_queue(g, r + used, c + 2, half, "rx", s->rxq, scale);
        draw_queue(g, r + used, c + 2 + half, w - 2 - half, "tx", s->txq, scale);
        used++;
    }
    return used;
}

static void draw_endpoints(struct grid *g, const struct model *m, const struct view *v,
                           struct rect rc)
{
    grid_title(g, rc, "Endpoints", v->maximized == PANE_ENDPOINTS);
    int top = rc.r + 1, h = rc.h - 1;
    if (h <= 0)
        return;
    /* The columns: every process with a socket or still running, then
     * the kernel's sockets no traced process holds. */
    int cols[64], ncols = 0;
    bool kernel = false;
    for (int i = 0; i < m->nsocks; i++)
        if (m->socks[i].kernel_only && sock_shown(&m->socks[i]))
            kernel = true;
    for (int p = 0; p < m->nprocs && ncols < 63; p++) {
        bool any = !m->procs[p].exited;
        for (int i = 0; i < m->nsocks && !any; i++)
            if (m->socks[i].pid == m->procs[p].pid && !m->socks[i].kernel_only &&
                sock_shown(&m->socks[i]))
                any = true;
        if (any)
            cols[ncols++] = p;
    }
    if (kernel)
        cols[ncols++] = -1;
    if (ncols == 0) {
        grid_text(g, top, rc.c + 1, rc.w - 1, "no traced process yet", AT_DIM);
        return;
    }
    int minw = 30;
    int fit = rc.w / minw;
    if (fit < 1)
        fit = 1;
    int shown = ncols < fit ? ncols : fit;
    int colw = rc.w / shown;
    int sel = selected_sock(m, v);
    int scale = queue_scale(m);
    for (int k = 0; k < shown; k++) {
        int c = rc.c + k * colw;
        int w = (k == shown - 1 ? rc.w - k * colw : colw) - 1;
        if (k > 0)
            grid_vline(g, top, c - 1, h, G_V, AT_DIM);
        int r = top;
        const struct mproc *p = cols[k] >= 0 ? &m->procs[cols[k]] : NULL;
        if (p != NULL) {
            char head[96];
            snprintf(head, sizeof head, "%s %d%s", p->role, p->pid, p->exited ? " (ended)" : "");
            grid_text(g, r, c + 1, w - 1, head, AT_TITLE);
        } else {
            grid_text(g, r, c + 1, w - 1, "kernel only (sock_diag)", AT_TITLE);
        }
        r++;
        for (int i = 0; i < m->nsocks && r < top + h; i++) {
            const struct msock *s = &m->socks[i];
            if (!sock_shown(s))
                continue;
            if (p != NULL ? (s->kernel_only || s->pid != p->pid) : !s->kernel_only)
                continue;
            r += draw_sock(g, m, i, i == sel, r, c, w, top + h - r, scale);
        }
    }
    if (shown < ncols) {
        char more[32];
        snprintf(more, sizeof more, "+%d more", ncols - shown);
        grid_text(g, rc.r, rc.c + rc.w - (int)strlen(more) - 1, (int)strlen(more), more, AT_WARN);
    }
}

/* --- the TCP state diagram ----------------------------------------------- */

/* Drawn with stand-ins: ~ a line, | a line down, > < $ arrowheads (right,
 * left, down), [ and ] corners. */
static const char *const diagram[] = {
    "CLOSED ~~~~~~~~~~~~~~ connect(): send SYN ~~~~~~~~~~~~~~~~~~> SYN_SENT",
    "  |listen()                                                       |",
    "  $                                        rcv SYN+ACK, send ACK  |",
    "LISTEN ~rcv SYN~> SYN_RECEIVED ~rcv ACK~> ESTABLISHED <~~~~~~~~~~~]",
    "                                            |     |",
    "  [~~~~~~~~~ close(): send FIN ~~~~~~~~~~~~~]     | rcv FIN",
    "  $                                               $",
    "FIN_WAIT_1 ~~rcv FIN~~~> CLOSING              CLOSE_WAIT",
    "  |rcv ACK                  |rcv ACK              |close(): send FIN",
    "  $                         $                     $",
    "FIN_WAIT_2 ~~rcv FIN~~~> TIME_WAIT            LAST_ACK",
    "                            |2 MSL timeout        |rcv ACK",
    "                            $                     $",
    "                         CLOSED                CLOSED",
};
#define DIAGRAM_ROWS ((int)(sizeof diagram / sizeof diagram[0]))
#define DIAGRAM_COLS 70

/* The two paths through the states, for a small screen: every state once
 * (CLOSED and ESTABLISHED on both). */
static const char *const compact[] = {
    "CLOSED>LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED",
    "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED CLOSING",
};

static bool is_name_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || ch == '_' || (ch >= '0' && ch <= '9');
}

/* Draw one template row: stand-ins become lines; state names are lit when
 * they are the current state (or the one just left). */
static void draw_template_row(struct grid *g, int r, int c, int w, const char *row, int cur,
                              int prev, bool compact_row)
{
    int len = (int)strlen(row);
    for (int i = 0; i < len && i < w; i++) {
        char ch = row[i];
        uint32_t out = (unsigned char)ch;
        int attr = AT_DIM;
        switch (ch) {
        case '~': out = G_H; break;
        case '|': out = G_V; break;
        case '>': out = G_RIGHT; break;
        case '<': out = G_LEFT; break;
        case '$': out = G_DOWN; break;
        case '[': out = G_TL; break;
        case ']': out = G_BR; break;
        default: attr = compact_row ? AT_NORMAL : AT_DIM; break;
        }
        grid_put(g, r, c + i, out, attr);
    }
    /* State names: whole words in capitals. */
    for (int i = 0; i < len;) {
        if (!(row[i] >= 'A' && row[i] <= 'Z') || (i > 0 && is_name_char(row[i - 1]))) {
            i++;
            continue;
        }
        int j = i;
        while (j < len && is_name_char(row[j]))
            j++;
        char name[24];
        int n = j - i < (int)sizeof name - 1 ? j - i : (int)sizeof name - 1;
        memcpy(name, row + i, (size_t)n);
        name[n] = '\0';
        int st = tcp_state_from_name(name);
        int attr = st == cur && cur != TCPS_NONE     ? AT_LIT
                   : st == prev && prev != TCPS_NONE ? AT_PREV
                                                     : AT_NORMAL;
        for (int k = i; k < j && k < w; k++)
            grid_paint(g, r, c + k, 1, attr);
        i = j;
    }
}

/* For a moment after a transition, the state just left and the new one
 * take turns being lit: the eye finds the change. */
#define ANIM_NS 1500000000ull
#define BLINK_NS 250000000ull

/* How long the newest packet's arrow takes to cross, live. */
#define TRAVEL_NS 400000000ull

bool draw_animating(const struct timeline *t, const struct model *m, uint64_t now_ns)
{
    if (now_ns != 0 && m->npackets > 0) {
        uint64_t ts = t->ev[m->packets[m->npackets - 1]]->ts_ns;
        if (ts <= now_ns && now_ns - ts < TRAVEL_NS + 50000000ull)
            return true;
    }
    if (now_ns == 0 || m->trans_sock < 0 || m->trans_sock >= m->nsocks)
        return false;
    size_t at = m->socks[m->trans_sock].changed_at;
    if (at >= t->len)
        return false;
    uint64_t ts = t->ev[at]->ts_ns;
    return ts <= now_ns && now_ns - ts < ANIM_NS;
}

static void draw_diagram(struct grid *g, const struct timeline *t, const struct model *m,
                         const struct view *v, struct rect rc)
{
    int si = selected_sock(m, v);
    const struct msock *s = si >= 0 ? &m->socks[si] : NULL;
    char title[160];
    if (s == NULL)
        snprintf(title, sizeof title, "TCP states");
    else if (s->kernel_only)
        snprintf(title, sizeof title, "TCP states: %s (kernel)", s->local);
    else {
        const struct mproc *p = model_proc(m, s->pid);
        snprintf(title, sizeof title, "TCP states: %s fd %d", p ? p->role : "?", s->fd);
    }
    grid_title(g, rc, title, v->maximized == PANE_DIAGRAM);
    int cur = s ? s->state : TCPS_NONE;
    int prev = s ? s->prev_state : TCPS_NONE;
    if (s != NULL && si == m->trans_sock && draw_animating(t, m, v->now_ns)) {
        uint64_t age = v->now_ns - t->ev[s->changed_at]->ts_ns;
        if ((age / BLINK_NS) % 2 == 0) {
            int x = cur;
            cur = prev;
            prev = x;
        }
    }
    int top = rc.r + 1, h = rc.h - 1;
    int used;
    if (rc.w >= DIAGRAM_COLS + 2 && h >= DIAGRAM_ROWS + 1) {
        int c = rc.c + (rc.w - DIAGRAM_COLS) / 2;
        for (int i = 0; i < DIAGRAM_ROWS; i++)
            draw_template_row(g, top + i, c, rc.w - (c - rc.c), diagram[i], cur, prev, false);
        used = DIAGRAM_ROWS;
    } else {
        used = 0;
        for (int i = 0; i < 2 && used < h; i++, used++)
            draw_template_row(g, top + used, rc.c + 1, rc.w - 1, compact[i], cur, prev, true);
    }
    if (used >= h)
        return;
    /* The last transition and its cause. */
    if (s == NULL) {
        grid_text(g, top + used, rc.c + 1, rc.w - 1, "no TCP socket yet", AT_DIM);
    } else if (s->prev_state != TCPS_NONE) {
        char line[256];
        snprintf(line, sizeof line, "%s %s %s: %s", state_name(s->prev_state),
                 grid_glyph(g, G_RIGHT) == '>' ? "->" : "\xe2\x86\x92", state_name(s->state),
                 s->cause[0] ? s->cause : "?");
        grid_text(g, top + used, rc.c + 1, rc.w - 1, line, AT_NORMAL);
    } else if (s->state != TCPS_NONE) {
        grid_printf(g, top + used, rc.c + 1, rc.w - 1, AT_NORMAL, "%s", state_name(s->state));
    } else {
        grid_printf(g, top + used, rc.c + 1, rc.w - 1, AT_DIM, "%s: no TCP state", s->sock);
    }
}

/* --- bytes --------------------------------------------------------------- */

static void draw_data_line(struct grid *g, const struct timeline *t, const struct model *m,
                           long idx, const char *label, int r, int c, int w)
{
    int x = c;
    x += grid_text(g, r, x, w, label, AT_TITLE);
    if (idx < 0) {
        grid_text(g, r, x, c + w - x, "nothing yet", AT_DIM);
        return;
    }
    const struct ev *e = t->ev[idx];
    const struct mproc *p = model_proc(m, e->pid);
    char head[96];
    snprintf(head, sizeof head, "%s fd %d %lld B ", p ? p->role : "?", e->fd, e->bytes);
    x += grid_text(g, r, x, c + w - x, head, AT_NORMAL);
    /* The text, then the hex: as many bytes as fit. */
    char text[80];
    snprintf(text, sizeof text, "\"%.40s%s\" ", e->data ? e->data : "", e->trunc ? "..." : "");
    x += grid_text(g, r, x, c + w - x, text, AT_DATA);
    const char *hex = e->hex ? e->hex : "";
    for (size_t i = 0; hex[i] && hex[i + 1] && x + 3 <= c + w; i += 2) {
        char b[4] = {hex[i], hex[i + 1], ' ', 0};
        x += grid_text(g, r, x, 3, b, AT_DIM);
    }
}

static void draw_bytes(struct grid *g, const struct timeline *t, const struct model *m,
                       const struct view *v, struct rect rc)
{
    grid_title(g, rc, "Bytes", v->maximized == PANE_BYTES);
    if (rc.h > 1)
        draw_data_line(g, t, m, m->last_send, "sent ", rc.r + 1, rc.c + 1, rc.w - 1);
    if (rc.h > 2)
        draw_data_line(g, t, m, m->last_recv, "recv ", rc.r + 2, rc.c + 1, rc.w - 1);
}

/* --- the call log -------------------------------------------------------- */

static bool logged(const struct ev *e)
{
    return e->kind == EK_CALL || e->kind == EK_NOTE || e->kind == EK_VIEWER || e->kind == EK_PROC ||
           e->kind == EK_EXIT;
}

static int log_line(const struct ev *e, char *buf, size_t size)
{
    const char *role = e->role ? e->role : "?";
    switch (e->kind) {
    case EK_CALL:
        if (e->err != NULL)
            snprintf(buf, size, "[%s] %s = %lld %s", role, e->args ? e->args : e->call, e->ret,
                     e->err);
        else
            snprintf(buf, size, "[%s] %s = %lld", role, e->args ? e->args : e->call, e->ret);
        return e->err != NULL ? AT_ERR : AT_NORMAL;
    case EK_PROC:
        snprintf(buf, size, "[%s] process %d started (%s)", role, e->pid, e->text ? e->text : "");
        return AT_DIM;
    case EK_EXIT: snprintf(buf, size, "[%s] process %d ended", role, e->pid); return AT_DIM;
    case EK_NOTE:
        snprintf(buf, size, "[%s] note: %s", role, e->text ? e->text : "");
        return AT_WARN;
    default: snprintf(buf, size, "%s", e->text ? e->text : ""); return AT_WARN;
    }
}

/* The explanation of a call: why it failed, or what it does. */
static void explanation(const struct ev *e, char *buf, size_t size)
{
    buf[0] = '\0';
    if (e->kind != EK_CALL || e->call == NULL)
        return;
    if (e->err != NULL) {
        int err = errno_from_name(e->err);
        struct explanation ex;
        explain_errno(e->call, err, &ex);
        struct explain_ctx ctx = {.fd = e->fd, .port = -1, .addr = e->addr};
        if (e->addr != NULL) {
            const char *colon = strrchr(e->addr, ':');
            if (colon != NULL)
                ctx.port = atoi(colon + 1);
        }
        char why[400], hint[400];
        explain_fill(ex.why ? ex.why : "", &ctx, why, sizeof why);
        explain_fill(ex.hint ? ex.hint : "", &ctx, hint, sizeof hint);
        snprintf(buf, size, "%.20s (%.60s): %.250s %.250s", e->err, errno_meaning(err), why, hint);
        return;
    }
    const char *what = explain_call(e->call);
    if (what != NULL)
        snprintf(buf, size, "%s: %s", e->call, what);
}

/* Wrap `text` into at most `rows` rows of width w from (r, c). */
static int draw_wrapped(struct grid *g, int r, int c, int w, int rows, const char *text, int attr)
{
    int used = 0;
    const char *p = text;
    while (*p && used < rows && w > 0) {
        int len = (int)strlen(p);
        int take = len <= w ? len : w;
        if (take < len) {
            int sp = take;
            while (sp > 0 && p[sp] != ' ')
                sp--;
            if (sp > w / 2)
                take = sp;
        }
        /* Do not cut a UTF-8 sequence. */
        while (take > 0 && take < len && (p[take] & 0xc0) == 0x80)
            take--;
        char line[512];
        snprintf(line, sizeof line, "%.*s", take, p);
        grid_text(g, r + used, c, w, line, attr);
        used++;
        p += take;
        while (*p == ' ')
            p++;
    }
    return used;
}

static void draw_log(struct grid *g, const struct timeline *t, const struct model *m,
                     const struct view *v, struct rect rc)
{
    bool wide = v->maximized == PANE_LOG && rc.h >= 12;
    char title[64];
    snprintf(title, sizeof title, "Calls (%llu, %llu failed)", (unsigned long long)m->calls,
             (unsigned long long)m->errors);
    grid_title(g, rc, title, v->maximized == PANE_LOG);
    int expl_rows = wide ? 0 : (rc.h >= 7 ? 2 : rc.h >= 5 ? 1 : 0);
    int rows = rc.h - 1 - expl_rows;
    if (rows <= 0)
        return;
    /* Walk back from the cursor: skip `log_scroll` lines, take `rows`. */
    long idx[512];
    int n = 0, skip = v->log_scroll;
    int want = wide ? (rows + 1) / 2 : rows;
    if (want > 512)
        want = 512;
    for (long i = (long)m->applied - 1; i >= 0 && n < want; i--) {
        if (!logged(t->ev[i]))
            continue;
        if (skip > 0) {
            skip--;
            continue;
        }
        idx[n++] = i;
    }
    int r = rc.r + 1;
    char line[600];
    for (int k = n - 1; k >= 0; k--) {
        const struct ev *e = t->ev[idx[k]];
        int attr = log_line(e, line, sizeof line);
        grid_text(g, r++, rc.c + 1, rc.w - 1, line, attr);
        if (wide && r < rc.r + rc.h) {
            explanation(e, line, sizeof line);
            grid_text(g, r++, rc.c + 3, rc.w - 3, line, AT_DIM);
        }
    }
    if (expl_rows > 0 && n > 0) {
        explanation(t->ev[idx[0]], line, sizeof line);
        draw_wrapped(g, rc.r + rc.h - expl_rows, rc.c + 1, rc.w - 1, expl_rows, line, AT_DIM);
    }
}

static void draw_output(struct grid *g, const struct timeline *t, const struct model *m,
                        const struct view *v, struct rect rc)
{
    grid_title(g, rc, "Output", v->maximized == PANE_OUTPUT);
    int rows = rc.h - 1;
    bool partial = v->partial != NULL && v->partial[0] != '\0';
    int want = rows - (partial ? 1 : 0);
    if (want < 0)
        want = 0;
    size_t n = m->nout < (size_t)want ? m->nout : (size_t)want;
    int r = rc.r + 1;
    for (size_t i = m->nout - n; i < m->nout; i++)
        grid_text(g, r++, rc.c + 1, rc.w - 1, t->ev[m->outputs[i]]->text, AT_NORMAL);
    if (partial && rows > 0)
        grid_text(g, r, rc.c + 1, rc.w - 1, v->partial, AT_NORMAL);
}

/* --- the wire ------------------------------------------------------------ */

/* An endpoint's name in the wire's columns: its process's role, else its
 * address (an untraced peer). */
static const char *endpoint_name(const struct model *m, const char *addr)
{
    const char *who = model_owner(m, addr);
    return who ? who : addr ? addr : "?";
}

/* Which end goes left: the endpoint of the process that appeared first. */
static int endpoint_rank(const struct model *m, const char *addr)
{
    const char *who = model_owner(m, addr);
    for (int p = 0; who != NULL && p < m->nprocs; p++)
        if (strcmp(m->procs[p].role, who) == 0)
            return p;
    return m->nprocs + 1;
}

/* "SYN+ACK seq 0 ack 1 win 65483 len 0", "udp len 5", "icmp echo req". */
static void packet_label(const struct ev *e, char *buf, size_t size)
{
    const char *proto = e->sock ? e->sock : "?";
    if (strcmp(proto, "tcp") == 0)
        snprintf(buf, size, "%s seq %u ack %u win %u len %u", e->what ? e->what : "-", e->pkt.seq,
                 e->pkt.ack, e->pkt.win, e->pkt.len);
    else if (e->pkt.icmp_type >= 0)
        snprintf(buf, size, "%s type %d code %d id %d seq %d len %u", proto, e->pkt.icmp_type,
                 e->pkt.icmp_code, e->pkt.icmp_id, e->pkt.icmp_seq, e->pkt.len);
    else
        snprintf(buf, size, "%s len %u", proto, e->pkt.len);
}

static void draw_wire(struct grid *g, const struct timeline *t, const struct model *m,
                      const struct view *v, struct rect rc)
{
    char title[160];
    snprintf(title, sizeof title, "Wire (%zu packet%s)", m->npackets, m->npackets == 1 ? "" : "s");
    grid_title(g, rc, title, v->maximized == PANE_WIRE);
    int rows = rc.h - 1, r = rc.r + 1;
    if (rows <= 0)
        return;
    if (m->npackets == 0) {
        draw_wrapped(g, r, rc.c + 1, rc.w - 2, rows, v->wire ? v->wire : "no packets captured",
                     v->wire ? AT_WARN : AT_DIM);
        return;
    }
    /* The newest at the bottom, as in the call log. */
    size_t n = m->npackets < (size_t)rows ? m->npackets : (size_t)rows;
    int namew = rc.w >= 100 ? 16 : 10;
    for (size_t k = m->npackets - n; k < m->npackets; k++, r++) {
        const struct ev *e = t->ev[m->packets[k]];
        bool rightward = endpoint_rank(m, e->local) <= endpoint_rank(m, e->peer);
        const char *left = endpoint_name(m, rightward ? e->local : e->peer);
        const char *right = endpoint_name(m, rightward ? e->peer : e->local);
        grid_text(g, r, rc.c + 1, namew, left, AT_TITLE);
        int a0 = rc.c + 2 + namew, a1 = rc.c + rc.w - namew - 2; /* the arrow's span */
        if (a1 - a0 < 8) {
            a0 = rc.c + 1;
            a1 = rc.c + rc.w - 1;
        } else {
            grid_text(g, r, a1 + 1, namew, right, AT_TITLE);
        }
        int span = a1 - a0;
        /* The newest packet travels across for a moment. */
        int shown = span;
        uint64_t ts = e->ts_ns;
        if (k + 1 == m->npackets && v->now_ns != 0 && ts <= v->now_ns && v->now_ns - ts < TRAVEL_NS)
            shown = (int)((uint64_t)span * (v->now_ns - ts) / TRAVEL_NS) + 1;
        int attr = e->what && strstr(e->what, "RST") ? AT_WARN : AT_NORMAL;
        for (int i = 0; i < shown && i < span; i++) {
            int c = rightward ? a0 + i : a1 - 1 - i;
            bool head = i == shown - 1 || i == span - 1;
            grid_put(g, r, c, head ? (rightward ? G_RIGHT : G_LEFT) : G_H, attr);
        }
        char label[160];
        packet_label(e, label, sizeof label);
        int lw = (int)strlen(label);
        if (lw > span - 4)
            lw = span - 4;
        if (lw > 0 && shown >= span)
            grid_text(g, r, a0 + (span - lw) / 2, lw, label, attr);
    }
}

/* --- frame: status, next call, key bar, help ----------------------------- */

static void draw_status(struct grid *g, const struct model *m, const struct view *v)
{
    grid_hline(g, 0, 0, g->cols, ' ', AT_BAR);
    char buf[512];
    const char *bar = grid_glyph(g, G_V) == '|' ? "|" : "\xe2\x94\x82";
    /* The program's name only where there is room for it. */
    int x = 0;
    if (g->cols >= 120)
        x = grid_printf(g, 0, 0, g->cols, AT_BAR, " sockscope %s", bar);
    x += grid_printf(g, 0, x, g->cols - x, AT_BAR, " %s %s %s", v->title ? v->title : "", bar,
                     v->mode ? v->mode : "");
    if (v->speed_ms >= 0)
        x += grid_printf(g, 0, x, g->cols - x, AT_BAR, "  speed %dms", v->speed_ms);
    snprintf(buf, sizeof buf, "  calls %llu", (unsigned long long)m->calls);
    x += grid_text(g, 0, x, g->cols - x, buf, AT_BAR);
    snprintf(buf, sizeof buf, "  dropped %llu", (unsigned long long)m->dropped);
    x += grid_text(g, 0, x, g->cols - x, buf, m->dropped ? AT_WARN : AT_BAR);
    if (v->status != NULL) {
        /* A remark too long for what is left goes over the line's end:
         * the counters give way to it, the title and mode do not. */
        int len = (int)strlen(v->status);
        if (x + 2 + len > g->cols) {
            int at = g->cols - len - 1;
            int keep = g->cols / 3;
            x = at > keep ? at : keep;
            grid_hline(g, 0, x, g->cols - x, ' ', AT_BAR);
        } else {
            x += 2;
        }
        grid_text(g, 0, x, g->cols - x, v->status, AT_WARN);
    }
}

static void draw_next(struct grid *g, const struct timeline *t, const struct model *m,
                      const struct view *v, int rows)
{
    if (rows <= 0)
        return;
    const struct ev *e = NULL;
    const char *label = "next ";
    if (v->next >= 0 && (size_t)v->next < t->len)
        e = t->ev[v->next];
    else if (m->last_call >= 0) {
        e = t->ev[m->last_call];
        label = "last ";
    }
    int x = grid_text(g, 1, 0, g->cols, label, AT_TITLE);
    if (e == NULL) {
        grid_text(g, 1, x, g->cols - x, "no call yet", AT_DIM);
        return;
    }
    char buf[600];
    snprintf(buf, sizeof buf, "[%s] %s", e->role ? e->role : "?", e->args ? e->args : "");
    x += grid_text(g, 1, x, g->cols - x, buf, label[0] == 'n' ? AT_LIT : AT_NORMAL);
    if (e->src != NULL) {
        snprintf(buf, sizeof buf, "  %s", e->src);
        grid_text(g, 1, x, g->cols - x, buf, AT_DIM);
    }
    if (rows < 2)
        return;
    const char *colon = e->src ? strrchr(e->src, ':') : NULL;
    if (v->src_text != NULL && colon != NULL) {
        snprintf(buf, sizeof buf, "%5d %s %s", atoi(colon + 1),
                 grid_glyph(g, G_V) == '|' ? "|" : "\xe2\x94\x82", v->src_text);
        grid_text(g, 2, 0, g->cols, buf, AT_NORMAL);
    } else if (e->what != NULL) {
        grid_text(g, 2, 6, g->cols - 6, e->what, AT_DIM);
    }
}

static const char *const live_keys[][2] = {
    {"n", "step"},   {"c", "run"},    {"p", "pause"}, {"+-", "speed"}, {"Tab", "socket"},
    {"1-6", "pane"}, {"PgUp", "log"}, {"?", "help"},  {"q", "quit"},   {NULL, NULL},
};
static const char *const replay_keys[][2] = {
    {"n", "next"},   {"b", "back"},   {"c", "play"},     {"p", "pause"},
    {"+-", "speed"}, {"g/G", "ends"}, {"Tab", "socket"}, {"1-6", "pane"},
    {"?", "help"},   {"q", "quit"},   {NULL, NULL},
};

static void draw_keybar(struct grid *g, bool replay)
{
    const char *const(*keys)[2] = replay ? replay_keys : live_keys;
    int r = g->rows - 1;
    grid_hline(g, r, 0, g->cols, ' ', AT_BAR);
    int x = 0;
    for (size_t i = 0; keys[i][0] != NULL && x < g->cols; i++) {
        x += grid_text(g, r, x, g->cols - x, keys[i][0], AT_KEY);
        x += grid_text(g, r, x, g->cols - x, " ", AT_BAR);
        x += grid_text(g, r, x, g->cols - x, keys[i][1], AT_BAR);
        x += grid_text(g, r, x, g->cols - x, "  ", AT_BAR);
    }
}

static const char *const help_lines[] = {
    "sockscope: keys",
    "",
    "n, space  run the next call (one call of the lesson)",
    "s         run the next call of the selected socket's process",
    "c         run on, one call after another, at the speed",
    "p         pause: stop before the next call again",
    "+ -       faster, slower",
    "Tab, arrows  select another socket (its states show)",
    "1..6      maximise a pane: endpoints, states, bytes,",
    "          calls, output, wire; 0 or Esc: all panes",
    "PgUp PgDn scroll the call log; End: newest",
    "r         record the session into sockscope-DATE/",
    "q         quit: end the lesson, leave nothing behind",
    "?         this help (any key closes it)",
    "",
    "A state shows where it came from: (tcp_info) the",
    "process asked its own socket; (sock_diag) the viewer",
    "asked the kernel, which also sees TIME_WAIT after close.",
    NULL,
};

static const char *const replay_help_lines[] = {
    "sockscope replay: keys",
    "",
    "n . Right one event forward     b , Left  one event back",
    "c         play                  p         pause",
    "space     play or pause         + -       speed 0.1x..10x",
    "g Home    the start             G End     the end",
    "Tab       select another socket (its states show)",
    "1..6      maximise a pane (6: the wire); 0 or Esc: all",
    "PgUp PgDn scroll the call log",
    "q         quit",
    "?         this help (any key closes it)",
    NULL,
};

static void draw_help(struct grid *g, const char *const *lines)
{
    int n = 0;
    while (lines[n] != NULL)
        n++;
    int w = 60, h = n + 2;
    if (w > g->cols)
        w = g->cols;
    if (h > g->rows - 1)
        h = g->rows - 1;
    int r0 = (g->rows - 1 - h) / 2, c0 = (g->cols - w) / 2;
    for (int r = 0; r < h; r++)
        grid_hline(g, r0 + r, c0, w, ' ', AT_NORMAL);
    grid_put(g, r0, c0, G_TL, AT_TITLE);
    grid_hline(g, r0, c0 + 1, w - 2, G_H, AT_TITLE);
    grid_put(g, r0, c0 + w - 1, G_TR, AT_TITLE);
    grid_put(g, r0 + h - 1, c0, G_BL, AT_TITLE);
    grid_hline(g, r0 + h - 1, c0 + 1, w - 2, G_H, AT_TITLE);
    grid_put(g, r0 + h - 1, c0 + w - 1, G_BR, AT_TITLE);
    grid_vline(g, r0 + 1, c0, h - 2, G_V, AT_TITLE);
    grid_vline(g, r0 + 1, c0 + w - 1, h - 2, G_V, AT_TITLE);
    for (int i = 0; i < n && i < h - 2; i++)
        grid_text(g, r0 + 1 + i, c0 + 2, w - 4, lines[i], i == 0 ? AT_TITLE : AT_NORMAL);
}

/* --- layout -------------------------------------------------------------- */

/* `wire`: the rows the wire pane wants on a small screen (0: no pane). */
static void layout(const struct grid *g, const struct view *v, int wire, struct rect *pane,
                   int *head)
{
    for (int i = 0; i < PANE_COUNT; i++)
        pane[i] = (struct rect){0, 0, 0, 0};
    *head = g->rows >= 16 ? 3 : g->rows >= 8 ? 2 : 1;
    int top = *head, h = g->rows - *head - 1, w = g->cols;
    if (h <= 0)
        return;
    if (v->maximized >= 0 && v->maximized < PANE_COUNT) {
        pane[v->maximized] = (struct rect){top, 0, h, w};
        return;
    }
    bool full = w >= 120 && h >= 34;
    if (full) {
        int dw = DIAGRAM_COLS + 4;
        int th = DIAGRAM_ROWS + 3;
        if (th < h * 45 / 100)
            th = h * 45 / 100;
        pane[PANE_ENDPOINTS] = (struct rect){top, 0, th, w - dw};
        pane[PANE_DIAGRAM] = (struct rect){top, w - dw, th, dw};
        pane[PANE_BYTES] = (struct rect){top + th, 0, 3, w};
        int wh = wire ? (h - th - 3) / 3 : 0;
        if (wire && wh < 4)
            wh = 4;
        pane[PANE_WIRE] = (struct rect){top + th + 3, 0, wh, w};
        int lr = top + th + 3 + wh, lh = h - th - 3 - wh;
        int lw = w * 60 / 100;
        pane[PANE_LOG] = (struct rect){lr, 0, lh, lw};
        pane[PANE_OUTPUT] = (struct rect){lr, lw, lh, w - lw};
        return;
    }
    /* Small screens: the panes stacked, the diagram as its two paths. */
    int dh = 4, bh = 3;
    int wh = !wire ? 0 : h >= 26 ? (wire > 5 ? wire : 5) : h >= 18 ? wire : 0;
    int rest = h - dh - bh - wh;
    if (rest < 6) {
        dh = rest >= 2 ? 3 : 0;
        bh = 0;
        wh = 0;
        rest = h - dh;
    }
    /* The endpoints keep their rows when the wire takes some. */
    int eh = wh ? (rest * 60 + 99) / 100 : rest * 55 / 100;
    if (eh < 3)
        eh = rest;
    int lh = rest - eh;
    int r = top;
    pane[PANE_ENDPOINTS] = (struct rect){r, 0, eh, w};
    r += eh;
    pane[PANE_DIAGRAM] = (struct rect){r, 0, dh, w};
    r += dh;
    pane[PANE_BYTES] = (struct rect){r, 0, bh, w};
    r += bh;
    pane[PANE_WIRE] = (struct rect){r, 0, wh, w};
    r += wh;
    int lw = w * 62 / 100;
    pane[PANE_LOG] = (struct rect){r, 0, lh, lw};
    pane[PANE_OUTPUT] = (struct rect){r, lw, lh, w - lw};
}

void draw_screen(struct grid *g, const struct timeline *t, const struct model *m,
                 const struct view *v)
{
    grid_clear(g);
    struct rect pane[PANE_COUNT];
    int head;
    /* The newest packet, or the reason there are none, in full. */
    layout(g, v, m->npackets > 0 ? 2 : v->wire != NULL ? 4 : 0, pane, &head);
    draw_status(g, m, v);
    draw_next(g, t, m, v, head - 1);
    if (pane[PANE_ENDPOINTS].h > 0)
        draw_endpoints(g, m, v, pane[PANE_ENDPOINTS]);
    if (pane[PANE_DIAGRAM].h > 0)
        draw_diagram(g, t, m, v, pane[PANE_DIAGRAM]);
    if (pane[PANE_BYTES].h > 0)
        draw_bytes(g, t, m, v, pane[PANE_BYTES]);
    if (pane[PANE_WIRE].h > 0)
        draw_wire(g, t, m, v, pane[PANE_WIRE]);
    if (pane[PANE_LOG].h > 0)
        draw_log(g, t, m, v, pane[PANE_LOG]);
    if (pane[PANE_OUTPUT].h > 0) {
        draw_output(g, t, m, v, pane[PANE_OUTPUT]);
        if (pane[PANE_LOG].h > 0)
            grid_vline(g, pane[PANE_OUTPUT].r + 1, pane[PANE_OUTPUT].c - 1, pane[PANE_OUTPUT].h - 1,
                       G_V, AT_DIM);
    }
    if (g->rows >= 2)
        draw_keybar(g, v->replay);
    if (v->help)
        draw_help(g, v->replay ? replay_help_lines : help_lines);
}
