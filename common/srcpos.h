/*
 * srcpos.h: where in the source a socket call was made.
 *
 * The build includes this header before every lesson and lab file (gcc
 * -include), so the lesson's source stays plain POSIX. Each traced call
 * below becomes "note this file and line, then make the call"; the
 * interposer reads the note to say, in step mode and in the trace, which
 * line is about to run. Nothing here changes what a call does.
 */
#ifndef SOCKSCOPE_SRCPOS_H
#define SOCKSCOPE_SRCPOS_H

/* Declare every function below before its name becomes a macro. */
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

extern __thread const char *sockscope_src_file;
extern __thread int sockscope_src_line;

static inline void sockscope_at(const char *file, int line)
{
    sockscope_src_file = file;
    sockscope_src_line = line;
}

#define SOCKSCOPE_AT_(call, ...) (sockscope_at(__FILE__, __LINE__), call(__VA_ARGS__))

#define socket(...) SOCKSCOPE_AT_(socket, __VA_ARGS__)
#define socketpair(...) SOCKSCOPE_AT_(socketpair, __VA_ARGS__)
#define bind(...) SOCKSCOPE_AT_(bind, __VA_ARGS__)
#define listen(...) SOCKSCOPE_AT_(listen, __VA_ARGS__)
#define accept(...) SOCKSCOPE_AT_(accept, __VA_ARGS__)
#define accept4(...) SOCKSCOPE_AT_(accept4, __VA_ARGS__)
#define connect(...) SOCKSCOPE_AT_(connect, __VA_ARGS__)
#define send(...) SOCKSCOPE_AT_(send, __VA_ARGS__)
#define sendto(...) SOCKSCOPE_AT_(sendto, __VA_ARGS__)
#define sendmsg(...) SOCKSCOPE_AT_(sendmsg, __VA_ARGS__)
#define recv(...) SOCKSCOPE_AT_(recv, __VA_ARGS__)
#define recvfrom(...) SOCKSCOPE_AT_(recvfrom, __VA_ARGS__)
#define recvmsg(...) SOCKSCOPE_AT_(recvmsg, __VA_ARGS__)
#define read(...) SOCKSCOPE_AT_(read, __VA_ARGS__)
#define write(...) SOCKSCOPE_AT_(write, __VA_ARGS__)
#define shutdown(...) SOCKSCOPE_AT_(shutdown, __VA_ARGS__)
#define close(...) SOCKSCOPE_AT_(close, __VA_ARGS__)
#define setsockopt(...) SOCKSCOPE_AT_(setsockopt, __VA_ARGS__)
#define getsockopt(...) SOCKSCOPE_AT_(getsockopt, __VA_ARGS__)
#define poll(...) SOCKSCOPE_AT_(poll, __VA_ARGS__)
#define select(...) SOCKSCOPE_AT_(select, __VA_ARGS__)
#define epoll_wait(...) SOCKSCOPE_AT_(epoll_wait, __VA_ARGS__)

#endif
