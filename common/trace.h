/*
 * trace.h: the tracer's state and its sinks.
 *
 * The interposer (wrap.c) builds one event per call and hands it here.
 * Events go to every sink that is on:
 *
 *   a file     `--trace FILE` on a lesson's command line, or SOCKSCOPE_TRACE
 *              in the environment: one JSON line an event, appended with a
 *              single write(2), so no event is lost when the program crashes
 *              and processes that share the file never split a line;
 *   the viewer SOCKSCOPE_SOCKET names a SOCK_SEQPACKET Unix socket; events
 *              are sent without blocking, and those the viewer cannot take
 *              are counted (trace_dropped()), never waited for.
 *
 * Step mode (`--step` or SOCKSCOPE_STEP=1) is in step.h.
 */
#ifndef SOCKSCOPE_TRACE_H
#define SOCKSCOPE_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"

struct trace_state {
    bool active;   /* any sink or step mode: wrappers do their work */
    bool step;     /* step mode */
    int file_fd;   /* -1: no file sink */
    int viewer_fd; /* -1: no viewer */
    char viewer_path[108];
    uint64_t seq;     /* events made by this process */
    uint64_t dropped; /* events the viewer could not take */
    pid_t pid, ppid;  /* cached; reset in a forked child */
    pid_t root_pid;   /* the first traced process of this session */
};

extern struct trace_state trace_g;

/* Read the environment and, for a linked lesson, its arguments. Called once
 * before main() by the interposer's constructor; safe to call again. */
void trace_setup(int argc, char **argv, bool linked);

/* Fill seq, time, pid, role and dropped in `e`, encode it and send it to
 * every sink. */
void trace_emit(struct event *e);

/* Emit a note: free text from the tracer, e.g. what it dropped. */
void trace_note(const char *text);

/* The process's name ("server", "client", "nc"): what ps and ss show. */
const char *trace_role(void);

/* The program renamed itself: ask its name again. */
void trace_role_changed(void);

/* Nanoseconds since the epoch. */
uint64_t trace_now_ns(void);

/* After fork(), in the child: new pid, own connection to the viewer. */
void trace_after_fork_child(void);

/* The viewer connection for step mode: the fd, or -1. Reconnects in a
 * child after fork. */
int trace_viewer_fd(void);

/* Write every pending thing out before the process ends. */
void trace_finish(void);

/* The most bytes of whole event lines the tracer sends a viewer in one
 * message (SOCK_SEQPACKET); a viewer reads messages of up to this size. */
#define TRACE_BATCH_MAX 16384

/* Hand the events waiting in the buffer to the sinks now (file and
 * viewer). The interposer calls it before a call that may wait, and
 * before fork; trace_finish calls it too. */
void trace_flush(void);

#endif
