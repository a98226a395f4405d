/*
 * quiet.h: mark socket calls that sockscope makes for itself.
 *
 * The interposer traces every socket call a program makes. When a helper
 * in common/ asks the kernel something on the lesson's behalf (a sock_diag
 * query, a name lookup) or the tracer itself writes to the viewer's socket,
 * those calls are not the lesson's and must not appear in its trace, nor
 * stop in step mode. Code between quiet_begin() and quiet_end() passes
 * straight through the interposer. The counter is per thread and nests.
 */
#ifndef SOCKSCOPE_QUIET_H
#define SOCKSCOPE_QUIET_H

extern __thread int sockscope_quiet_depth;

static inline void quiet_begin(void)
{
    sockscope_quiet_depth++;
}
static inline void quiet_end(void)
{
    sockscope_quiet_depth--;
}
static inline int quiet_active(void)
{
    return sockscope_quiet_depth > 0;
}

#endif
