/* replay.c: a recorded session played back; see replay.h. */
#include "replay.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "draw.h"
#include "source.h"
#include "tty.h"

int replay_load(const char *path, struct timeline *t, char *title, size_t titlesize, char *warning,
                size_t warnsize, FILE *err)
{
    char file[PATH_MAX + 32];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(file, sizeof file, "%s/timeline.jsonl", path);
    else
        snprintf(file, sizeof file, "%s", path);
    char *copy = strdup(path);
    snprintf(title, titlesize, "%s", copy ? basename(copy) : path);
    free(copy);
    warning[0] = '\0';
    struct load_report r;
    if (timeline_load(t, file, &r) == -1) {
        fprintf(err, "sockscope: cannot read %s: %s%s\n", file, strerror(errno),
                errno == ENOENT && S_ISDIR(st.st_mode)
                    ? " (is this a recording? sockscope run NN --record DIR makes one)"
                    : "");
        return -1;
    }
    if (r.bad > 0 || r.cut_short) {
        snprintf(warning, warnsize, "%zu unreadable line%s skipped (first: line %zu)%s", r.bad,
                 r.bad == 1 ? "" : "s", r.first_bad,
                 r.cut_short ? "; the last line is cut short: the recording ended abruptly" : "");
        fprintf(err, "sockscope: %s: %s; replaying the %zu intact entries\n", file, warning,
                t->len);
    }
    if (t->len == 0) {
        fprintf(err, "sockscope: %s holds no events\n", file);
        return -1;
    }
    /* Packets in the timeline but no pcap file: they replay, but there is
     * nothing for Wireshark. */
    bool packets = false;
    for (size_t i = 0; i < t->len && !packets; i++)
        packets = t->ev[i]->kind == EK_PACKET;
    char pcap[PATH_MAX + 32];
    snprintf(pcap, sizeof pcap, "%s/packets.pcap", path);
    if (packets && S_ISDIR(st.st_mode) && access(pcap, F_OK) == -1)
        fprintf(err,
                "sockscope: %s is missing: the packets replay from the timeline, but there is "
                "no file for Wireshark\n",
                pcap);
    return 0;
}

static void fill_view(struct view *v, const struct timeline *t, const struct model *m,
                      struct source_cache *src)
{
    v->next = model_oldest_pending(m);
    long shown = v->next >= 0 ? v->next : m->last_call;
    v->src_text = shown >= 0 ? source_line_text(src, t->ev[shown]->src) : NULL;
}

int replay_dump(const struct timeline *t, size_t n, int cols, int rows, bool ascii,
                const char *title, FILE *out)
{
    if (n > t->len)
        n = t->len;
    struct model m;
    model_init(&m);
    model_seek(&m, t, n);
    struct view v;
    view_init(&v);
    v.replay = 1;
    char mode[64];
    snprintf(mode, sizeof mode, "event %zu of %zu", n, t->len);
    v.title = title;
    v.mode = mode;
    struct source_cache src = {0};
    fill_view(&v, t, &m, &src);
    struct grid g;
    int rc = -1;
    if (grid_init(&g, rows, cols, !ascii && tty_unicode()) == 0) {
        draw_screen(&g, t, &m, &v);
        grid_dump(&g, out);
        grid_free(&g);
        rc = 0;
    }
    model_free(&m);
    return rc;
}

static const double speeds[] = {0.1, 0.25, 0.5, 1, 2, 5, 10};
#define NSPEEDS ((int)(sizeof speeds / sizeof speeds[0]))
/* A pause in the recording longer than this plays as this long. */
#define MAX_GAP_NS 1000000000ll

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Time in the recording from entry i-1 to entry i. */
static long long gap_before(const struct timeline *t, size_t i)
{
    if (i == 0 || i >= t->len)
        return 0;
    long long d = (long long)t->ev[i]->ts_ns - (long long)t->ev[i - 1]->ts_ns;
    return d < 0 ? 0 : d > MAX_GAP_NS ? MAX_GAP_NS : d;
}

static void write_dump(const struct grid *g, const char *path)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    if (f == NULL)
        return;
    grid_dump(g, f);
    if (fclose(f) == 0)
        rename(tmp, path);
}

void replay_run(const struct timeline *t, const char *title, const char *warning,
                const char *dump_path)
{
    struct model m;
    model_init(&m);
    struct view v;
    view_init(&v);
    v.replay = 1;
    v.title = title;
    struct source_cache src = {0};
    struct grid g = {0};
    size_t cursor = 0;
    bool playing = false, full = true, dirty = true;
    int speed = 3;
    double budget = 0;
    uint64_t last = mono_ns();
    char mode[96], status[256];
    snprintf(status, sizeof status, "%s", warning && *warning ? warning : "");
    /* Until q; each pass waits at most a second for a key. */
    for (;;) {
        uint64_t now = mono_ns();
        if (playing) {
            budget += (double)(now - last) * speeds[speed];
            while (cursor < t->len && budget >= (double)gap_before(t, cursor)) {
                budget -= (double)gap_before(t, cursor);
                cursor++;
                dirty = true;
            }
            if (cursor >= t->len) {
                playing = false;
                dirty = true;
            }
        }
        last = now;
        if (dirty) {
            int rows, cols;
            tty_size(&rows, &cols);
            if (rows != g.rows || cols != g.cols) {
                grid_free(&g);
                if (grid_init(&g, rows, cols, tty_unicode()) == -1)
                    break;
                full = true;
            }
            model_seek(&m, t, cursor);
            snprintf(mode, sizeof mode, "event %zu of %zu, %s %gx", cursor, t->len,
                     playing ? "playing" : "paused", speeds[speed]);
            v.mode = mode;
            v.status = status[0] ? status : NULL;
            fill_view(&v, t, &m, &src);
            draw_screen(&g, t, &m, &v);
            tty_show(&g, full);
            if (dump_path != NULL)
                write_dump(&g, dump_path);
            full = dirty = false;
        }
        struct pollfd pf = {.fd = STDIN_FILENO, .events = POLLIN};
        poll(&pf, 1, playing ? 20 : 1000);
        int k;
        bool quit = false;
        while (!quit && (k = tty_key()) != -1) {
            dirty = true;
            if (v.help && k != KEY_RESIZE) {
                v.help = 0;
                continue;
            }
            status[0] = '\0';
            switch (k) {
            case 'q':
            case 'Q': quit = true; break;
            case ' ':
                playing = !playing;
                budget = 0;
                break;
            case 'c':
                playing = true;
                budget = 0;
                break;
            case 'p': playing = false; break;
            case 'n':
            case '.':
            case KEY_RIGHT:
                playing = false;
                if (cursor < t->len)
                    cursor++;
                break;
            case 'b':
            case ',':
            case KEY_LEFT:
                playing = false;
                if (cursor > 0)
                    cursor--;
                break;
            case 'g':
            case KEY_HOME:
                cursor = 0;
                playing = false;
                break;
            case 'G':
            case KEY_END:
                cursor = t->len;
                playing = false;
                break;
            case '+':
            case '=':
                if (speed < NSPEEDS - 1)
                    speed++;
                break;
            case '-':
            case '_':
                if (speed > 0)
                    speed--;
                break;
            case '\t':
            case KEY_BTAB: {
                int vis[512];
                int n = draw_visible_socks(&m, vis, 512);
                if (n > 0) {
                    int cur = v.sel >= 0 ? v.sel : m.trans_sock, pos = -1;
                    for (int i = 0; i < n; i++)
                        if (vis[i] == cur)
                            pos = i;
                    pos = pos < 0 ? 0 : (pos + (k == '\t' ? 1 : n - 1)) % n;
                    v.sel = vis[pos];
                }
                break;
            }
            case '1':
            case '2':
            case '3':
            case '4':
            case '5':
            case '6': v.maximized = v.maximized == k - '1' ? PANE_NONE : k - '1'; break;
            case '0':
            case 27: v.maximized = PANE_NONE; break;
            case KEY_PPAGE: v.log_scroll += 5; break;
            case KEY_NPAGE: v.log_scroll = v.log_scroll > 5 ? v.log_scroll - 5 : 0; break;
            case '?':
            case 'h': v.help = 1; break;
            case KEY_RESIZE: full = true; break;
            default: break;
            }
        }
        if (quit)
            break;
    }
    grid_free(&g);
    model_free(&m);
}
