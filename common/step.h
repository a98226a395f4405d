/*
 * step.h: step mode, a pause before every socket call.
 *
 * Before the call the interposer shows who is calling (the process's
 * role), where (file:line and the source line), the call with its real
 * arguments, and what it will do; then it waits for a go. After the call
 * it shows the result, the errno by name with the catalog's explanation,
 * and the socket's new state.
 *
 * The go comes from the viewer when one is attached (SOCKSCOPE_SOCKET): the
 * process sends a "step" event and waits on its own connection for one of
 * the lines "go", "continue" or "quit". Otherwise it comes from the
 * terminal, through readline:
 *
 *   Enter   run the call
 *   c       continue: run on without stopping (every process of the lesson)
 *   q       quit: end every process of the lesson, and leave nothing behind
 *   ?       list the keys
 *
 * When several processes of one lesson share a terminal, exactly one
 * prompt shows at a time: a process holds a lock on the terminal from the
 * end of one call to the go of its next, so what it prints in between is
 * not mixed into another's prompt.
 */
#ifndef SOCKSCOPE_STEP_H
#define SOCKSCOPE_STEP_H

#include "event.h"

/* Prepare step mode (shared flags, signal handling). Before main(). */
void step_setup(void);

/* Step mode is on and not continued. */
int step_wanted(void);

/* Show `e` (kind "step") and wait for the go. Returns when the call may
 * run; on quit, ends the process. */
void step_before(struct event *e);

/* Show the result of the call in `e` (kind "call"). */
void step_after(const struct event *e);

/* A wrapped call that is not shown (a file's read, a wait): let the other
 * processes have the terminal. */
void step_idle(void);

/* In a forked child: its own terminal handle and no lock held. */
void step_after_fork_child(void);

/* Where lessons' sources are found, to show the line about to run. */
extern const char *sockscope_srcdir;

#endif
