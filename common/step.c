/* step.c: step mode in the terminal or through the viewer; see step.h. */
#include "step.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "errnames.h"
#include "explain.h"
#include "quiet.h"
#include "sockstate.h"
#include "textwrap.h"
#include "trace.h"

#ifndef SOCKSCOPE_SRCDIR
#define SOCKSCOPE_SRCDIR "."
#endif
const char *sockscope_srcdir = SOCKSCOPE_SRCDIR;

/* Shared by every process forked from the first: a "c" or "q" typed in
 * one process's prompt holds for all. */
struct step_shared {
    volatile sig_atomic_t cont;
    volatile sig_atomic_t quit;
};

static struct step_shared local_flags;
static struct step_shared *shared = &local_flags;
static int tty_fd = -1; /* this process's own handle on the terminal */
static FILE *tty_in, *tty_out;
static bool held;           /* this process holds the terminal lock */
static bool no_terminal;    /* nowhere to ask: step mode is off */
static unsigned long steps; /* calls stepped in this process */

static void on_term(int sig)
{
    /* Another process of the lesson chose quit: end quietly. */
    if (shared->quit)
        _exit(0);
    signal(sig, SIG_DFL);
    raise(sig);
}

void step_setup(void)
{
    void *m = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED)
        shared = m;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
}

int step_wanted(void)
{
    return trace_g.step && !shared->cont && !no_terminal;
}

static bool open_terminal(void)
{
    if (tty_fd != -1)
        return true;
    if (no_terminal)
        return false;
    tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (tty_fd != -1 && tty_fd < 200) {
        /* Keep our fds out of the lesson's way (its sockets start at 3). */
        int high = fcntl(tty_fd, F_DUPFD_CLOEXEC, 200);
        if (high != -1) {
            close(tty_fd);
            tty_fd = high;
        }
    }
    if (tty_fd == -1) {
        no_terminal = true;
        fprintf(stderr, "sockscope: step mode needs a terminal to ask on; running without stops\n");
        return false;
    }
    tty_in = fdopen(tty_fd, "r");
    int out = fcntl(tty_fd, F_DUPFD_CLOEXEC, 200);
    tty_out = out == -1 ? NULL : fdopen(out, "w");
    if (tty_in == NULL || tty_out == NULL) {
        no_terminal = true;
        return false;
    }
    setvbuf(tty_out, NULL, _IOLBF, 0);
    return true;
}

static void lock_terminal(void)
{
    if (held || !open_terminal())
        return;
    while (flock(tty_fd, LOCK_EX) == -1 && errno == EINTR)
        ;
    held = true;
}

void step_idle(void)
{
    if (held) {
        fflush(stdout);
        fflush(stderr);
        if (tty_out)
            fflush(tty_out);
        flock(tty_fd, LOCK_UN);
        held = false;
    }
}

void step_after_fork_child(void)
{
    /* The parent's handle carries the parent's lock. */
    if (tty_in != NULL) {
        fclose(tty_in);
        tty_in = NULL;
    }
    if (tty_out != NULL) {
        fclose(tty_out);
        tty_out = NULL;
    }
    tty_fd = -1;
    held = false;
    steps = 0;
}

/* The text of line `line` of `file`, read from the lesson's source. */
static bool source_line(const char *file, int line, char *buf, size_t size)
{
    char path[512];
    FILE *f = NULL;
    if (file[0] != '/') {
        snprintf(path, sizeof path, "%s/%s", sockscope_srcdir, file);
        f = fopen(path, "re");
    }
    if (f == NULL)
        f = fopen(file, "re");
    if (f == NULL)
        return false;
    bool found = false;
    for (int n = 1; n <= line && fgets(buf, (int)size, f) != NULL; n++) {
        /* A line longer than the buffer counts once. */
        size_t len = strlen(buf);
        bool whole = len > 0 && buf[len - 1] == '\n';
        if (n == line) {
            if (whole)
                buf[len - 1] = '\0';
            found = true;
            break;
        }
        while (!whole) {
            int c = fgetc(f);
            if (c == EOF || c == '\n')
                break;
        }
    }
    fclose(f);
    return found;
}

static void describe_socket(FILE *f, const char *prefix, const struct event *e)
{
    const char *state = tcp_state_name(e->state);
    if (state == NULL && !e->local[0] && !e->peer[0])
        return;
    fprintf(f, "%s", prefix);
    if (state != NULL)
        fprintf(f, "%s ", state);
    else if (e->sock != NULL)
        fprintf(f, "%s ", e->sock);
    if (e->local[0])
        fprintf(f, "%s", e->local);
    if (e->peer[0])
        fprintf(f, " <-> %s", e->peer);
    fputc('\n', f);
}

static void show_help(FILE *f)
{
    fprintf(f, "  Enter  run this call\n"
               "  c      continue: run on without stopping\n"
               "  q      quit: end every process of this lesson\n"
               "  ?      show these keys\n");
}

static void quit_all(void)
{
    shared->quit = 1;
    step_idle();
    /* The first process of the lesson takes the others with it: its
     * children end when it ends (PR_SET_PDEATHSIG). */
    if (trace_g.root_pid != trace_g.pid && trace_g.root_pid > 1)
        kill(trace_g.root_pid, SIGTERM);
    exit(0);
}

/* Ask the viewer for the go: send the step event, read one command. */
static void step_by_viewer(struct event *e)
{
    trace_emit(e);
    int fd = trace_viewer_fd();
    char cmd[32];
    quiet_begin();
    ssize_t n;
    do {
        n = recv(fd, cmd, sizeof cmd - 1, 0);
    } while (n == -1 && errno == EINTR);
    quiet_end();
    if (n <= 0) {
        /* The viewer left: run on. */
        shared->cont = 1;
        return;
    }
    cmd[n] = '\0';
    if (strncmp(cmd, "quit", 4) == 0)
        quit_all();
    if (strncmp(cmd, "continue", 8) == 0)
        shared->cont = 1;
}

void step_before(struct event *e)
{
    if (shared->quit)
        quit_all();
    if (trace_viewer_fd() != -1) {
        step_by_viewer(e);
        return;
    }
    trace_emit(e);
    lock_terminal();
    if (!held || shared->cont) {
        step_idle();
        return;
    }
    steps++;
    quiet_begin();
    fflush(stdout);
    fflush(stderr);
    FILE *f = tty_out;
    fprintf(f, "\n[%s] step %lu", e->role ? e->role : trace_role(), steps);
    if (e->src_file != NULL) {
        fprintf(f, " at %s:%d\n", e->src_file, e->src_line);
        char line[256];
        if (source_line(e->src_file, e->src_line, line, sizeof line)) {
            /* The line without its indent, cut to fit 80 columns after
             * "  NNNNN | ": a wrapped line would read as two. */
            const char *code = line + strspn(line, " \t");
            int room = 80 - 10;
            if ((int)strlen(code) > room)
                fprintf(f, "  %5d | %.*s...\n", e->src_line, room - 3, code);
            else
                fprintf(f, "  %5d | %s\n", e->src_line, code);
        }
    } else {
        fputc('\n', f);
    }
    fprintf(f, "  next: %s\n", e->args ? e->args : e->call);
    if (e->what != NULL)
        print_wrapped(f, "", e->what);
    describe_socket(f, "  now:  ", e);

    char prompt[64];
    snprintf(prompt, sizeof prompt, "[%s] Enter=run c=continue q=quit ?=keys> ", trace_role());
    rl_instream = tty_in;
    rl_outstream = f;
    /* Plain prompts: no escape codes around them in logs and captures. */
    rl_variable_bind("enable-bracketed-paste", "off");
    /* Bounded: each pass reads one line the person typed. */
    for (int tries = 0; tries < 1000; tries++) {
        char *in = readline(prompt);
        if (in == NULL) {
            /* End of input on the terminal: run on without stopping. */
            fputc('\n', f);
            shared->cont = 1;
            break;
        }
        char *s = in;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s)
            add_history(s);
        char c = *s;
        free(in);
        if (c == '\0' || c == 'n' || c == 's')
            break;
        if (c == 'c') {
            shared->cont = 1;
            break;
        }
        if (c == 'q')
            quit_all();
        if (c == '?' || c == 'h') {
            show_help(f);
            continue;
        }
        fprintf(f, "  unknown key '%c'; ? lists the keys\n", c);
    }
    quiet_end();
    step_idle();
}

void step_after(const struct event *e)
{
    if (!trace_g.step || no_terminal || trace_viewer_fd() != -1)
        return;
    if (!held) {
        /* The call may have woken another process of the lesson (connect
         * ends the server's accept): let it show its result first, so the
         * screen reads in the order things happened. A person at the
         * keyboard does not notice 5 ms. */
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 5000000};
        nanosleep(&pause, NULL);
    }
    lock_terminal();
    if (!held)
        return;
    quiet_begin();
    FILE *f = tty_out;
    const char *role = e->role ? e->role : trace_role();
    if (e->err != 0) {
        fprintf(f, "[%s] %s = %lld %s (%s)\n", role, e->args ? e->args : e->call, e->ret,
                errno_name(e->err), errno_meaning(e->err));
        struct explanation ex;
        explain_errno_at(e->call, e->err, explain_family_of(e->addr), &ex);
        struct explain_ctx ctx = {.fd = e->fd, .port = -1, .addr = NULL};
        if (e->addr[0]) {
            ctx.addr = e->addr;
            const char *colon = strrchr(e->addr, ':');
            if (colon != NULL)
                ctx.port = atoi(colon + 1);
        }
        char buf[512];
        print_wrapped(f, "why:", explain_fill(ex.why, &ctx, buf, sizeof buf));
        print_wrapped(f, "hint:", explain_fill(ex.hint, &ctx, buf, sizeof buf));
    } else {
        fprintf(f, "[%s] %s = %lld", role, e->args ? e->args : e->call, e->ret);
        if (e->bytes >= 0)
            fprintf(f, " (%lld bytes)", e->bytes);
        fputc('\n', f);
    }
    describe_socket(f, "  then: ", e);
    fflush(f);
    quiet_end();
    /* Keep the terminal until the next call, so what the lesson prints
     * now comes out before another process's prompt. */
}
