/* ring.c: events in shared memory, from a traced process to the viewer;
 * see ring.h. */
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static size_t map_size(void)
{
    return sizeof(struct ring_head) + RING_DATA;
}

static int map(struct ring *r, int fd)
{
    void *p = mmap(NULL, map_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -1;
    r->h = p;
    r->data = (char *)p + sizeof(struct ring_head);
    r->map_size = map_size();
    r->fd = fd;
    return 0;
}

int ring_create(struct ring *r)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    int fd = memfd_create("sockscope-events", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd == -1)
        return -1;
    /* Sealed, so that the viewer can trust its mapping never to shrink
     * under it (a read past a file's end would kill it with SIGBUS). */
    if (ftruncate(fd, (off_t)map_size()) == -1 || fcntl(fd, F_ADD_SEALS, SEALS) == -1 ||
        map(r, fd) == -1) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    r->h->size = RING_DATA;
    return 0;
}

int ring_put(struct ring *r, const char *line, size_t len)
{
    uint64_t head = atomic_load_explicit(&r->h->head, memory_order_relaxed);
    /* The reader's line is read again only when the room last seen is
     * not enough. */
    uint64_t tail = r->tail_seen;
    if (head - tail > RING_DATA || len > RING_DATA - (head - tail)) {
        tail = r->tail_seen = atomic_load_explicit(&r->h->tail, memory_order_acquire);
        if (head - tail > RING_DATA || len > RING_DATA - (head - tail))
            return -1;
    }
    size_t at = (size_t)(head % RING_DATA), first = RING_DATA - at;
    if (first > len)
        first = len;
    memcpy(r->data + at, line, first);
    memcpy(r->data, line + first, len - first);
    /* Sequentially consistent with the reader's ring_sleep: either it sees
     * this line before it sleeps, or this side sees that it sleeps. */
    atomic_store(&r->h->head, head + len);
    if (atomic_load(&r->h->asleep) && atomic_exchange(&r->h->asleep, 0))
        return 1;
    return 0;
}

void ring_close(struct ring *r)
{
    if (r->h != NULL)
        munmap(r->h, r->map_size);
    if (r->fd != -1)
        close(r->fd);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

int ring_attach(struct ring *r, int fd, char *why, size_t whysize)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals == -1 || (seals & SEALS) != SEALS) {
        snprintf(why, whysize, "the events' ring is not a sealed memfd");
    } else if (fstat(fd, &st) == -1 || (size_t)st.st_size != map_size()) {
        snprintf(why, whysize, "the events' ring has the wrong size");
    } else if (map(r, fd) == -1) {
        snprintf(why, whysize, "cannot map the events' ring: %s", strerror(errno));
    } else {
        return 0;
    }
    close(fd);
    r->fd = -1;
    return -1;
}

size_t ring_take(struct ring *r, char *buf, size_t max, bool *bad)
{
    *bad = false;
    uint64_t tail = atomic_load_explicit(&r->h->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->h->head, memory_order_acquire);
    if (head == tail)
        return 0;
    if (head - tail > RING_DATA) {
        /* Not what a writer of this format does: start again from head. */
        *bad = true;
        atomic_store_explicit(&r->h->tail, head, memory_order_release);
        return 0;
    }
    size_t n = (size_t)(head - tail);
    if (n > max)
        n = max;
    size_t at = (size_t)(tail % RING_DATA), first = RING_DATA - at;
    if (first > n)
        first = n;
    memcpy(buf, r->data + at, first);
    memcpy(buf + first, r->data, n - first);
    /* Whole lines only: what follows the last newline waits. */
    size_t whole = n;
    while (whole > 0 && buf[whole - 1] != '\n')
        whole--;
    if (whole == 0) {
        if (n == (size_t)(head - tail) && n < max)
            return 0; /* a writer publishes whole lines; wait for the rest */
        *bad = true; /* no newline in `max` bytes: not a line */
        whole = n;
    }
    atomic_store_explicit(&r->h->tail, tail + whole, memory_order_release);
    return whole;
}

bool ring_sleep(struct ring *r)
{
    atomic_store(&r->h->asleep, 1);
    if (atomic_load(&r->h->head) != atomic_load_explicit(&r->h->tail, memory_order_relaxed)) {
        atomic_store(&r->h->asleep, 0);
        return false;
    }
    return true;
}

void ring_awake(struct ring *r)
{
    atomic_store(&r->h->asleep, 0);
}
