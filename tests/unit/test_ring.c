/* The events' ring between a traced process and the viewer (common/ring.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring.h"
#include "unit.h"

/* The reader's side of a ring the test wrote: a second mapping of it, as
 * the viewer has. */
static void pair(struct ring *w, struct ring *r)
{
    CU_ASSERT_FATAL(ring_create(w) == 0);
    char why[128] = "";
    int fd = dup(w->fd);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(ring_attach(r, fd, why, sizeof why) == 0);
}

static void test_lines_in_order(void)
{
    struct ring w, r;
    pair(&w, &r);
    static char got[RING_DATA];
    bool bad;
    CU_ASSERT_EQUAL(ring_take(&r, got, sizeof got, &bad), 0);
    /* Lines of many lengths, many times round the ring: every byte comes
     * out as it went in, whole lines at a time. */
    unsigned long long put = 0, taken = 0;
    char line[3000], want[3000];
    for (int i = 0; i < 20000; i++) {
        int len = snprintf(line, sizeof line, "{\"seq\":%d,\"pad\":\"%*s\"}\n", i, (i * 37) % 2000,
                           "");
        CU_ASSERT_FATAL(ring_put(&w, line, (size_t)len) == 0);
        put += (unsigned long long)len;
        size_t n = ring_take(&r, got, sizeof got, &bad);
        CU_ASSERT(!bad);
        CU_ASSERT_EQUAL(n, (size_t)len);
        CU_ASSERT(memcmp(got, line, (size_t)len) == 0);
        taken += n;
    }
    CU_ASSERT(put > 10ull * RING_DATA);
    CU_ASSERT_EQUAL(put, taken);
    /* A reader with little room gets whole lines only. */
    for (int i = 0; i < 3; i++) {
        int len = snprintf(line, sizeof line, "line %d\n", i);
        CU_ASSERT(ring_put(&w, line, (size_t)len) == 0);
    }
    size_t n = ring_take(&r, got, 10, &bad);
    CU_ASSERT_EQUAL(n, 7);
    CU_ASSERT(memcmp(got, "line 0\n", 7) == 0);
    n = ring_take(&r, got, sizeof got, &bad);
    snprintf(want, sizeof want, "line 1\nline 2\n");
    CU_ASSERT_EQUAL(n, strlen(want));
    CU_ASSERT(memcmp(got, want, n) == 0);
    ring_close(&w);
    ring_close(&r);
}

static void test_full(void)
{
    struct ring w, r;
    pair(&w, &r);
    char line[1000];
    memset(line, 'x', sizeof line);
    line[sizeof line - 1] = '\n';
    int fitted = 0;
    while (ring_put(&w, line, sizeof line) == 0)
        fitted++;
    /* Full: nothing is written over what the reader has not taken. */
    CU_ASSERT_EQUAL(fitted, RING_DATA / sizeof line);
    CU_ASSERT_EQUAL(ring_put(&w, line, sizeof line), -1);
    static char got[RING_DATA];
    bool bad;
    size_t n = ring_take(&r, got, sizeof got, &bad);
    CU_ASSERT_EQUAL(n, (size_t)fitted * sizeof line);
    CU_ASSERT_EQUAL(ring_put(&w, line, sizeof line), 0);
    ring_close(&w);
    ring_close(&r);
}

static void test_doorbell(void)
{
    struct ring w, r;
    pair(&w, &r);
    /* A reader that sleeps is rung once, by the first line after. */
    CU_ASSERT(ring_sleep(&r));
    CU_ASSERT_EQUAL(ring_put(&w, "a\n", 2), 1);
    CU_ASSERT_EQUAL(ring_put(&w, "b\n", 2), 0);
    /* With lines waiting, the reader does not sleep. */
    CU_ASSERT(!ring_sleep(&r));
    CU_ASSERT_EQUAL(ring_put(&w, "c\n", 2), 0);
    char got[16];
    bool bad;
    CU_ASSERT_EQUAL(ring_take(&r, got, sizeof got, &bad), 6);
    /* A reader awake is not rung, nor one that woke by itself. */
    CU_ASSERT_EQUAL(ring_put(&w, "d\n", 2), 0);
    CU_ASSERT(!ring_sleep(&r));
    CU_ASSERT_EQUAL(ring_take(&r, got, sizeof got, &bad), 2);
    CU_ASSERT(ring_sleep(&r));
    ring_awake(&r);
    CU_ASSERT_EQUAL(ring_put(&w, "e\n", 2), 0);
    ring_close(&w);
    ring_close(&r);
}

static void test_distrust(void)
{
    struct ring w, r;
    pair(&w, &r);
    char got[4096];
    bool bad;
    /* A line not yet ended waits. */
    CU_ASSERT_EQUAL(ring_put(&w, "{\"half", 6), 0);
    CU_ASSERT_EQUAL(ring_take(&r, got, sizeof got, &bad), 0);
    CU_ASSERT(!bad);
    /* A head moved beyond the ring is refused, and the ring emptied. */
    atomic_store(&w.h->head, atomic_load(&w.h->tail) + RING_DATA + 5);
    CU_ASSERT_EQUAL(ring_take(&r, got, sizeof got, &bad), 0);
    CU_ASSERT(bad);
    CU_ASSERT_EQUAL(atomic_load(&r.h->tail), atomic_load(&r.h->head));
    /* No newline in all the room the reader has: taken and marked bad. */
    char junk[100];
    memset(junk, 'j', sizeof junk);
    CU_ASSERT_EQUAL(ring_put(&w, junk, sizeof junk), 0);
    CU_ASSERT_EQUAL(ring_take(&r, got, 50, &bad), 50);
    CU_ASSERT(bad);
    ring_close(&w);
    ring_close(&r);

    /* Only a sealed memfd of the right size is taken. */
    char why[128] = "";
    int fd = memfd_create("plain", MFD_CLOEXEC);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT(ftruncate(fd, sizeof(struct ring_head) + RING_DATA) == 0);
    CU_ASSERT_EQUAL(ring_attach(&r, fd, why, sizeof why), -1);
    CU_ASSERT(strstr(why, "sealed") != NULL);
    fd = memfd_create("small", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT(ftruncate(fd, 4096) == 0);
    CU_ASSERT(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0);
    CU_ASSERT_EQUAL(ring_attach(&r, fd, why, sizeof why), -1);
    CU_ASSERT(strstr(why, "size") != NULL);
}

UNIT_MAIN("the events' ring",
          {"lines come out as they went in, whole, many times round the ring", test_lines_in_order},
          {"a full ring refuses a line rather than write over one not yet taken", test_full},
          {"a reader that sleeps is rung once by the next line, and not while lines wait",
           test_doorbell},
          {"a line not yet ended waits; a head out of bounds or a line with no end is refused; "
           "only a sealed memfd of the right size is mapped",
           test_distrust});
