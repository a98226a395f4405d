/*
 * ring.h: the events a traced process hands the viewer, in memory they
 * share.
 *
 * A busy program (a benchmark, a flood) makes calls far faster than a
 * person can watch. Sending its events to the viewer costs it a system call
 * and a wakeup of the viewer each time it waits; writing them into a ring
 * in shared memory costs it a copy, and the viewer takes them when it
 * likes. The viewer's socket still carries step events (which wait for an
 * answer) and a doorbell: one newline, sent when the viewer has said it
 * sleeps until told.
 *
 * The ring is a memfd the traced process creates, seals against shrinking
 * and growing, and passes to the viewer over the socket (SCM_RIGHTS) in a
 * message "ring\n". Bytes are whole event lines. The writer moves `head`,
 * the reader `tail`; both count bytes since the start and wrap in `size`.
 *
 * The reader never trusts the writer: ring_take checks every position
 * against the size it mapped and only copies bytes out (a line that the
 * writer garbles is the writer's own loss: the event parser refuses it).
 */
#ifndef SOCKSCOPE_RING_H
#define SOCKSCOPE_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of event lines a ring holds: some 40 ms of a program making
 * 60,000 calls a second. */
#define RING_DATA 1048576u

/* Each side's word in a cache line of its own (64 bytes): the writer
 * moves `head` at every event, and a line the reader also wrote would
 * have to cross between the CPUs each time. */
struct ring_head {
    _Alignas(64) _Atomic uint64_t head; /* bytes written; the writer's */
    _Alignas(64) _Atomic uint64_t tail; /* bytes taken; the reader's */
    _Alignas(64) _Atomic uint32_t asleep; /* the reader waits for a doorbell */
    uint32_t size;                        /* RING_DATA */
};
_Static_assert(sizeof(struct ring_head) == 192, "three cache lines");

struct ring {
    struct ring_head *h;
    char *data;
    size_t map_size;
    int fd;
    uint64_t tail_seen; /* the writer's last look at `tail` */
};

/* The message that hands the ring's fd over. */
#define RING_HELLO "ring\n"

/* The writer's side: make a ring (a sealed memfd, mapped). Returns 0, or -1
 * with errno; then events go over the socket as before. */
int ring_create(struct ring *r);

/* Put one line (`len` bytes, with its '\n'). Returns 1 when the reader
 * asked for a doorbell (the caller sends one), 0 when put, and -1, putting
 * nothing, when the line does not fit (the caller counts it dropped). */
int ring_put(struct ring *r, const char *line, size_t len);

/* Unmap (and close) the ring. */
void ring_close(struct ring *r);

/* The reader's side: map a ring received as `fd` (which it then owns).
 * Returns 0, or -1 with a reason in `why`: not a sealed memfd of the right
 * size. */
int ring_attach(struct ring *r, int fd, char *why, size_t whysize);

/* Copy out at most `max` bytes of whole lines into `buf`. Returns the bytes
 * copied; 0 when none wait. A writer that moved `head` out of bounds gets
 * its ring emptied and `*bad` set. */
size_t ring_take(struct ring *r, char *buf, size_t max, bool *bad);

/* Before the reader sleeps: ask for a doorbell. Returns false (and asks
 * nothing) when bytes already wait. */
bool ring_sleep(struct ring *r);

/* The reader woke by itself: no doorbell needed. */
void ring_awake(struct ring *r);

#endif
