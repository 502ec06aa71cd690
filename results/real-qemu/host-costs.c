/* Small host measurements for configs/profiles/x86-tcg.yaml (not run by CI).
 *   cc -O2 -pthread -o host-costs host-costs.c && ./host-costs
 * Prints, in ns: ppoll() with a zero timeout on 3 eventfds (syscall_ns), an
 * eventfd write (irq_inject_ns: one irqfd write), one pass reading 3 shared
 * words (spin), and the wake-up latency of a thread sleeping in ppoll() on an
 * eventfd written by another thread (fd wake-up), and in ppoll() with a
 * timeout (timer wake-up: how late past the timeout it returns), with the
 * default timer slack and with QEMU's 1 ns. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}
static int cmp(const void* a, const void* b) {
    int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
    return x < y ? -1 : x > y;
}
static void report(const char* what, int64_t* v, int n) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += (double)v[i];
    qsort(v, n, sizeof *v, cmp);
    printf("%-28s n=%d mean=%.0f p10=%lld p50=%lld p90=%lld p99=%lld ns\n", what, n, s / n, (long long)v[n / 10],
           (long long)v[n / 2], (long long)v[n * 9 / 10], (long long)v[n * 99 / 100]);
}

static int efd;
static volatile int64_t sent_ns;
#define ROUNDS 2000
static int64_t wake[ROUNDS];

static void* sleeper(void* arg) {
    (void)arg;
    struct pollfd p = {.fd = efd, .events = POLLIN};
    for (int i = 0; i < ROUNDS; ++i) {
        ppoll(&p, 1, NULL, NULL);
        wake[i] = now_ns() - sent_ns;
        uint64_t v;
        if (read(efd, &v, sizeof v) != sizeof v) abort();
    }
    return NULL;
}

int main(void) {
    enum { N = 200000 };
    static int64_t v[N];
    int fds[3];
    struct pollfd p[3];
    for (int i = 0; i < 3; ++i) {
        fds[i] = eventfd(0, EFD_NONBLOCK);
        p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    }
    struct timespec zero = {0, 0};
    for (int i = 0; i < N; ++i) {
        int64_t t = now_ns();
        ppoll(p, 3, &zero, NULL);
        v[i] = now_ns() - t;
    }
    report("ppoll(3 fds, timeout 0)", v, N);
    for (int i = 0; i < N; ++i) {
        uint64_t one = 1;
        int64_t t = now_ns();
        if (write(fds[0], &one, sizeof one) != sizeof one) abort();
        v[i] = now_ns() - t;
        if (i % 1000 == 999) {
            uint64_t x;
            if (read(fds[0], &x, sizeof x) != sizeof x) abort();
        }
    }
    report("eventfd write", v, N);
    static volatile int64_t words[3];
    for (int i = 0; i < N; ++i) {
        int64_t t = now_ns();
        int64_t s = 0;
        for (int k = 0; k < 100; ++k) s += words[0] + words[1] + words[2];
        v[i] = (now_ns() - t) / 100;
        (void)s;
    }
    report("spin pass (3 words)", v, N);

    efd = eventfd(0, 0);
    pthread_t th;
    pthread_create(&th, NULL, sleeper, NULL);
    for (int i = 0; i < ROUNDS; ++i) {
        usleep(300);  /* let it sleep */
        uint64_t one = 1;
        sent_ns = now_ns();
        if (write(efd, &one, sizeof one) != sizeof one) abort();
    }
    pthread_join(th, NULL);
    report("fd wake-up (eventfd)", wake, ROUNDS);

    struct pollfd none = {.fd = fds[1], .events = POLLIN};
    for (int i = 0; i < ROUNDS; ++i) {
        struct timespec to = {0, 100000};
        int64_t t = now_ns();
        ppoll(&none, 1, &to, NULL);
        wake[i] = now_ns() - t - 100000;
    }
    report("timer wake-up past 100 us", wake, ROUNDS);
    /* QEMU sets a 1 ns timer slack for its threads (init_clocks()). */
    prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
    for (int i = 0; i < ROUNDS; ++i) {
        struct timespec to = {0, 100000};
        int64_t t = now_ns();
        ppoll(&none, 1, &to, NULL);
        wake[i] = now_ns() - t - 100000;
    }
    report("... with 1 ns timer slack", wake, ROUNDS);
    return 0;
}
