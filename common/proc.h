/*
 * proc.h: the processes a lesson starts for its parts.
 *
 * A lesson that shows a server and its clients, or a sender and a
 * receiver, forks a process for each part and names it, so that its lines
 * ("[client] ..."), the trace, ps and ss -p tell the parts apart. These
 * helpers do that, and what a lesson needs besides to stay tidy: a child
 * never outlives the lesson, and a root lesson can run a part as another
 * user to show what permissions refuse.
 */
#ifndef SOCKSCOPE_PROC_H
#define SOCKSCOPE_PROC_H

#include <sys/types.h>

/*
 * fork() a process named `name` (prctl(PR_SET_NAME)). Standard output is
 * flushed first, so that nothing buffered is printed twice. The child is
 * killed (SIGKILL) if the parent dies, so an interrupted lesson leaves no
 * process behind. Returns what fork() returns: the child's pid in the
 * parent, 0 in the child, -1 with errno when fork failed.
 */
pid_t proc_spawn(const char *name);

/*
 * Become the user `name` (as `nobody`): supplementary groups dropped, then
 * its gid, then its uid, in that order since after setuid the others are
 * no longer allowed. Needs root. When the name is unknown, uid and gid
 * 65534 (the usual nobody) are used. Returns 0, or -1 with errno.
 */
int proc_become(const char *name);

/*
 * Wait for the child `pid` to end. Returns 0 when it exited with status 0;
 * 1 when it exited otherwise or was killed; -1 with errno when waitpid
 * failed.
 */
int proc_reap(pid_t pid);

#endif
