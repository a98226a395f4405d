/*
 * live.h: a lesson (or any program) run under the viewer.
 *
 * The session makes a private 0700 directory with a SOCK_SEQPACKET socket
 * in it, runs the program on a pseudo-terminal with SOCKSCOPE_SOCKET (and
 * SOCKSCOPE_STEP for step mode) in its environment, and then collects:
 * every traced process's events from its own connection (peers of another
 * user are refused), the kernel's states through sock_diag, and the
 * program's output from the pseudo-terminal. All of it goes into the
 * session timeline; the screen is drawn from it.
 *
 * In step mode each process waits before every call; the viewer answers
 * "go" to the step waiting longest, one per `n`, or by itself at the
 * chosen speed after `c`. Quitting (or a fatal signal) ends every process
 * of the program's process group, removes the socket and its directory
 * and gives the terminal back.
 */
#ifndef SOCKSCOPE_LIVE_H
#define SOCKSCOPE_LIVE_H

#include <stdbool.h>
#include <stddef.h>

struct live_opts {
    char *const *argv;      /* the program and its arguments */
    const char *title;      /* shown in the status line */
    bool step;              /* hold every call until a go */
    bool preload;           /* trace through LD_PRELOAD (a program not built with the tracer) */
    const char *dump_path;  /* write each screen drawn to this file as text (for tests) */
    const char *keys;       /* keys to act on before the keyboard's, e.g. "c" */
    const char *record_dir; /* write the timeline to DIR/timeline.jsonl, or NULL */
    bool sandboxed;         /* runs in a private user and network namespace */
    bool no_capture;        /* do not try to capture packets */
};

/* Run the session until the user quits. Needs the terminal taken
 * (tty_start). Returns 0, or 1 when the session could not start (the
 * reason printed after the terminal is given back). */
int live_run(const struct live_opts *o, char *err, size_t errsize);

/* The signal that ended the last session (SIGHUP when its terminal went
 * away, SIGTERM, SIGINT), or 0 when the user quit. */
int live_quit_signal(void);

/* Remove what a session leaves on disk and end its processes: for a fatal
 * signal. Async-signal-safe. */
void live_emergency_cleanup(void);

#endif
