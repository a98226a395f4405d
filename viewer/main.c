/*
 * sockscope: the front command.
 *
 *   sockscope                          the menu of lessons
 *   sockscope run NN [--step] [-- ARGS]
 *                                      run lesson NN under the viewer
 *   sockscope run [--step] -- PROGRAM [ARGS]
 *                                      run any dynamically linked program
 *                                      under the viewer (LD_PRELOAD)
 *   sockscope run ... --record DIR     and write the session to DIR
 *   sockscope replay DIR               play a recording back
 *   sockscope replay DIR --dump-at N [--size COLSxROWS] [--ascii]
 *   sockscope render TRACE [--at N] [--size COLSxROWS] [--ascii]
 *                                      print the screen at event N of a
 *                                      recording or trace as text
 *   sockscope list                     the lessons, as text
 *
 * See man/sockscope.1.
 */
#include <errno.h>
#include <libgen.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "draw.h"
#include "export.h"
#include "grid.h"
#include "lessons.h"
#include "live.h"
#include "model.h"
#include "replay.h"
#include "sandbox.h"
#include "trace.h"
#include "tty.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sockscope                       the menu of lessons\n"
               "       sockscope run NN [OPTIONS] [-- LESSON-ARGS]\n"
               "                                       run lesson NN under the viewer\n"
               "       sockscope run [OPTIONS] [--no-preload] -- PROGRAM [ARGS]\n"
               "                                       run any program under the viewer\n"
               "         --step          hold every call until n (or space)\n"
               "         --record DIR    write the session (timeline, pcap) to DIR\n"
               "         --sandbox       run in a private user and network namespace,\n"
               "                         where packets are captured with no privilege\n"
               "         --no-capture    do not capture packets\n"
               "       sockscope replay DIR            play a recording back\n"
               "       sockscope replay DIR --dump-at N [--size COLSxROWS] [--ascii]\n"
               "                                       print the screen at event N as text\n"
               "       sockscope render TRACE [--at N] [--size COLSxROWS] [--ascii]\n"
               "                                       the same for a trace file\n"
               "       sockscope export DIR --mermaid|--text\n"
               "                                       the session as a sequence diagram\n"
               "       sockscope list                  list the lessons\n"
               "\n"
               "In the viewer: n or space runs the next call, c runs on, p pauses,\n"
               "+ and - set the speed, Tab selects a socket, 1-6 maximise a pane,\n"
               "r records, ? shows every key, q quits. Packets need CAP_NET_RAW:\n"
               "root, setcap cap_net_raw+ep on bin/sockscope, or --sandbox.\n"
               "See man sockscope.\n");
}

static void on_fatal(int sig)
{
    tty_emergency_restore();
    live_emergency_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void fatal_handlers(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on_fatal);
    signal(SIGPIPE, SIG_IGN);
}

/* --- list ---------------------------------------------------------------- */

static int cmd_list(void)
{
    for (size_t i = 0; i < lesson_count; i++) {
        const struct lesson_entry *l = &lesson_table[i];
        char path[4096];
        bool built = lesson_path(l, path, sizeof path);
        printf("%.2s  %-24s %s%s%s%s\n", l->name, l->title, l->concept,
               l->privilege ? " [needs " : "", l->privilege ? l->privilege : "",
               l->privilege ? "]" : "");
        if (!built)
            printf("    (not built)\n");
    }
    return 0;
}

/* --- render -------------------------------------------------------------- */

static int parse_size(const char *text, int *cols, int *rows)
{
    char x;
    if (sscanf(text, "%d%c%d", cols, &x, rows) != 3 || (x != 'x' && x != 'X') || *cols < 20 ||
        *rows < 5 || *cols > 1000 || *rows > 500)
        return -1;
    return 0;
}

/* render TRACE and replay DIR share their options. */
static int cmd_show(const char *name, int argc, char **argv, bool interactive)
{
    const char *path = NULL, *dump = NULL;
    long at = -1;
    int cols = 100, rows = 30;
    bool ascii = false;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--at") == 0 || strcmp(argv[i], "--dump-at") == 0) && i + 1 < argc) {
            char *end;
            at = strtol(argv[++i], &end, 10);
            if (*end || at < 0 || end == argv[i]) {
                fprintf(stderr, "sockscope %s: %s wants an event number from 0, not %s\n", name,
                        argv[i - 1], argv[i]);
                return 2;
            }
            interactive = false;
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (parse_size(argv[++i], &cols, &rows) == -1) {
                fprintf(stderr,
                        "sockscope %s: --size wants COLSxROWS, e.g. 100x30 "
                        "(at least 20x5), not %s\n",
                        name, argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--ascii") == 0) {
            ascii = true;
        } else if (strcmp(argv[i], "--dump-screen") == 0 && i + 1 < argc) {
            dump = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "sockscope %s: unknown option %s\n", name, argv[i]);
            usage(stderr);
            return 2;
        } else if (path == NULL) {
            path = argv[i];
        } else {
            fprintf(stderr, "sockscope %s: one recording or trace at a time\n", name);
            return 2;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "sockscope %s: which %s? sockscope %s %s [--dump-at N]\n", name,
                interactive ? "recording" : "trace", name, interactive ? "DIR" : "TRACE");
        return 2;
    }
    struct timeline t = {0};
    char title[256], warning[256];
    if (replay_load(path, &t, title, sizeof title, warning, sizeof warning, stderr) == -1) {
        timeline_free(&t);
        return 1;
    }
    int rc = 0;
    if (interactive) {
        if (tty_start() == -1) {
            fprintf(stderr,
                    "sockscope %s: needs a terminal; --dump-at N prints a screen as "
                    "text\n",
                    name);
            rc = 1;
        } else {
            replay_run(&t, title, warning, dump);
            tty_stop();
        }
    } else {
        size_t n = at < 0 || (size_t)at > t.len ? t.len : (size_t)at;
        rc = replay_dump(&t, n, cols, rows, ascii, title, stdout) == 0 ? 0 : 1;
    }
    timeline_free(&t);
    return rc;
}

static int cmd_export(int argc, char **argv)
{
    const char *path = NULL;
    int format = 0; /* 1 mermaid, 2 text */
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--mermaid") == 0)
            format = 1;
        else if (strcmp(argv[i], "--text") == 0)
            format = 2;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "sockscope export: unknown option %s\n", argv[i]);
            return 2;
        } else if (path == NULL)
            path = argv[i];
        else {
            fprintf(stderr, "sockscope export: one recording at a time\n");
            return 2;
        }
    }
    if (path == NULL || format == 0) {
        fprintf(stderr, "sockscope export: sockscope export DIR --mermaid (or --text)\n");
        return 2;
    }
    struct timeline t = {0};
    char title[256], warning[256];
    if (replay_load(path, &t, title, sizeof title, warning, sizeof warning, stderr) == -1) {
        timeline_free(&t);
        return 1;
    }
    if (format == 1)
        export_mermaid(&t, stdout);
    else
        export_text(&t, stdout);
    timeline_free(&t);
    return 0;
}

/* --- run ----------------------------------------------------------------- */

static int run_session(struct live_opts *o)
{
    char err[512] = "";
    if (tty_start() == -1) {
        fprintf(stderr, "sockscope: the viewer needs a terminal (stdin and stdout)\n");
        return 1;
    }
    int rc = live_run(o, err, sizeof err);
    tty_stop();
    if (rc != 0)
        fprintf(stderr, "sockscope: %s\n", err);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    struct live_opts o = {.preload = true};
    const char *lesson_id = NULL;
    int rest = -1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            rest = i + 1;
            break;
        }
        if (strcmp(argv[i], "--step") == 0)
            o.step = true;
        else if (strcmp(argv[i], "--no-preload") == 0)
            o.preload = false;
        else if (strcmp(argv[i], "--dump-screen") == 0 && i + 1 < argc)
            o.dump_path = argv[++i];
        else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
            o.keys = argv[++i];
        else if (strcmp(argv[i], "--record") == 0 && i + 1 < argc)
            o.record_dir = argv[++i];
        else if (strcmp(argv[i], "--sandbox") == 0)
            o.sandboxed = true;
        else if (strcmp(argv[i], "--no-capture") == 0)
            o.no_capture = true;
        else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "sockscope run: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (lesson_id == NULL)
            lesson_id = argv[i];
        else {
            fprintf(stderr, "sockscope run: one lesson at a time; put the lesson's own "
                            "arguments after --\n");
            return 2;
        }
    }
    int nrest = rest < 0 ? 0 : argc - rest;
    char **av = calloc((size_t)nrest + 2, sizeof *av);
    if (av == NULL)
        return 1;
    char path[4096], title[256];
    if (lesson_id != NULL) {
        const struct lesson_entry *l = lesson_find(lesson_id);
        if (l == NULL) {
            fprintf(stderr, "sockscope run: no lesson %s; `sockscope list` shows them\n",
                    lesson_id);
            free(av);
            return 2;
        }
        if (!lesson_path(l, path, sizeof path)) {
            fprintf(stderr, "sockscope run: lesson %s is not built (%s); run make\n", l->name,
                    path);
            free(av);
            return 1;
        }
        av[0] = path;
        for (int i = 0; i < nrest; i++)
            av[i + 1] = argv[rest + i];
        /* A lesson carries the tracer itself. */
        o.preload = false;
        snprintf(title, sizeof title, "%s", l->name);
    } else {
        if (nrest == 0) {
            fprintf(stderr, "sockscope run: what to run? a lesson number (sockscope run 02) "
                            "or -- PROGRAM ARGS\n");
            free(av);
            return 2;
        }
        for (int i = 0; i < nrest; i++)
            av[i] = argv[rest + i];
        size_t len = 0;
        title[0] = '\0';
        for (int i = 0; i < nrest && len < sizeof title - 2; i++)
            len += (size_t)snprintf(title + len, sizeof title - len, "%s%s", i ? " " : "", av[i]);
    }
    o.argv = av;
    o.title = title;
    if (o.sandboxed) {
        /* Before anything starts: the viewer, its capture and the
         * program then share the namespace's own loopback. */
        char err[512];
        if (sandbox_enter(err, sizeof err) != 0) {
            fprintf(stderr, "sockscope run: --sandbox: %s\n", err);
            free(av);
            return 1;
        }
    }
    int rc = run_session(&o);
    free(av);
    return rc;
}

/* --- the menu ------------------------------------------------------------ */

static void draw_menu(struct grid *g, int sel, const bool *built, const char *status)
{
    grid_clear(g);
    grid_hline(g, 0, 0, g->cols, ' ', AT_BAR);
    grid_text(g, 0, 1, g->cols - 1, "sockscope: the lessons", AT_BAR);
    grid_text(g, 2, 2, g->cols - 2,
              "Enter runs the lesson under the viewer, in step mode. priv: needs a privilege",
              AT_DIM);
    int top = 4;
    for (size_t i = 0; i < lesson_count && top + (int)i < g->rows - 2; i++) {
        const struct lesson_entry *l = &lesson_table[i];
        int r = top + (int)i;
        int attr = (int)i == sel ? AT_LIT : built[i] ? AT_NORMAL : AT_DIM;
        if ((int)i == sel)
            grid_hline(g, r, 0, g->cols, ' ', AT_LIT);
        /* The privilege column before the concept: it must show at 80
         * columns, where the concept is cut. */
        char line[512];
        snprintf(line, sizeof line, "%.2s  %-24s %-5s %s%s", l->name, l->title,
                 !built[i]      ? "-"
                 : l->privilege ? "priv"
                                : "",
                 l->concept, !built[i] ? "  (not built)" : "");
        grid_text(g, r, 1, g->cols - 1, line, attr);
    }
    int r = top + (int)lesson_count + 1;
    if (sel >= 0 && (size_t)sel < lesson_count && r < g->rows - 2) {
        const struct lesson_entry *l = &lesson_table[sel];
        grid_printf(g, r, 2, g->cols - 2, AT_NORMAL, "%s: %s", l->name, l->concept);
        if (l->privilege && r + 1 < g->rows - 2)
            grid_printf(g, r + 1, 2, g->cols - 2, AT_WARN, "needs %s", l->privilege);
    }
    if (status != NULL && g->rows > 3)
        grid_text(g, g->rows - 2, 1, g->cols - 1, status, AT_WARN);
    grid_hline(g, g->rows - 1, 0, g->cols, ' ', AT_BAR);
    int x = 0;
    static const char *const keys[][2] = {
        {"Up/Down", "choose"}, {"Enter", "run"}, {"01-11", "jump"}, {"q", "quit"}};
    for (size_t i = 0; i < 4; i++) {
        x += grid_text(g, g->rows - 1, x, g->cols - x, keys[i][0], AT_KEY);
        x += grid_text(g, g->rows - 1, x, g->cols - x, " ", AT_BAR);
        x += grid_text(g, g->rows - 1, x, g->cols - x, keys[i][1], AT_BAR);
        x += grid_text(g, g->rows - 1, x, g->cols - x, "  ", AT_BAR);
    }
}

static volatile sig_atomic_t menu_quit;

static void on_menu_signal(int sig)
{
    (void)sig;
    menu_quit = 1;
}

static int cmd_menu(void)
{
    if (tty_start() == -1) {
        fprintf(stderr, "sockscope: the menu needs a terminal; `sockscope list` prints the "
                        "lessons, `sockscope run NN` runs one\n");
        return 1;
    }
    bool built[64];
    char paths[64][1024];
    int sel = 1;
    char status[600] = "";
    struct grid g = {0};
    bool full = true;
    int digits = 0;
    /* A hangup (the terminal closed) or a TERM ends the menu too. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_menu_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* Until q: each pass waits for one key (with a timeout). */
    while (!menu_quit) {
        for (size_t i = 0; i < lesson_count && i < 64; i++)
            built[i] = lesson_path(&lesson_table[i], paths[i], sizeof paths[i]);
        int rows, cols;
        tty_size(&rows, &cols);
        if (rows != g.rows || cols != g.cols) {
            grid_free(&g);
            if (grid_init(&g, rows, cols, tty_unicode()) == -1)
                break;
            full = true;
        }
        draw_menu(&g, sel, built, status[0] ? status : NULL);
        tty_show(&g, full);
        full = false;
        int k = -1;
        for (int tries = 0; tries < 600 && !menu_quit && (k = tty_key()) == -1; tries++) {
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
        }
        if (k == -1)
            continue;
        status[0] = '\0';
        if (k == 'q' || k == 'Q' || k == 27)
            break;
        if (k == KEY_UP || k == 'k')
            sel = (sel + (int)lesson_count - 1) % (int)lesson_count;
        else if (k == KEY_DOWN || k == 'j')
            sel = (sel + 1) % (int)lesson_count;
        else if (k >= '0' && k <= '9') {
            digits = digits * 10 + (k - '0');
            if (digits >= 1 && (size_t)digits <= lesson_count)
                sel = digits - 1;
            if (digits >= 10 || digits * 10 > (int)lesson_count)
                digits = 0;
        } else if (k == KEY_RESIZE)
            full = true;
        else if (k == '\r' || k == '\n' || k == KEY_ENTER) {
            digits = 0;
            if (!built[sel]) {
                snprintf(status, sizeof status, "%s is not built yet: run make",
                         lesson_table[sel].name);
                continue;
            }
            char *av[] = {paths[sel], NULL};
            struct live_opts o = {.argv = av, .title = lesson_table[sel].name, .step = true};
            char err[512] = "";
            if (live_run(&o, err, sizeof err) != 0)
                snprintf(status, sizeof status, "%s", err);
            full = true;
            if (live_quit_signal() == SIGHUP || live_quit_signal() == SIGTERM)
                break;
        }
    }
    grid_free(&g);
    tty_stop();
    return 0;
}

/* The viewer is linked with libsockscope, tracer included, but it is not a
 * lesson: the tracer took its `--step` for its own before main(). Undo
 * that; the option is for the program the viewer runs. */
static void untrace_self(void)
{
    trace_g.active = false;
    trace_g.step = false;
    if (trace_g.viewer_fd != -1) {
        close(trace_g.viewer_fd);
        trace_g.viewer_fd = -1;
    }
    unsetenv("SOCKSCOPE_STEP");
    unsetenv("SOCKSCOPE_ROOT_PID");
}

int main(int argc, char **argv)
{
    untrace_self();
    setlocale(LC_ALL, "");
    fatal_handlers();
    if (argc < 2)
        return cmd_menu();
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "menu") == 0)
        return cmd_menu();
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "render") == 0)
        return cmd_show("render", argc - 2, argv + 2, false);
    if (strcmp(cmd, "replay") == 0)
        return cmd_show("replay", argc - 2, argv + 2, true);
    if (strcmp(cmd, "export") == 0)
        return cmd_export(argc - 2, argv + 2);
    if (strcmp(cmd, "list") == 0)
        return cmd_list();
    fprintf(stderr, "sockscope: unknown command %s\n", cmd);
    usage(stderr);
    return 2;
}
