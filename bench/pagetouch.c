/*
 * bench/pagetouch.c — what reading 240 random small pieces of a cached
 * file costs a new process, four ways: touching its mapping (a page
 * fault each), the same after MADV_POPULATE_READ of the whole mapping,
 * MADV_POPULATE_READ of each page before its touch, and pread(2) of 256
 * bytes. Collapsing duplicates reads one article record per duplicate
 * this way (src/query/collapse.c); the figures say what a first touch
 * costs on the machine at hand.
 *
 *   cc -O2 -o /tmp/pagetouch bench/pagetouch.c
 *   /tmp/pagetouch FILE [ROUNDS]      (FILE in the page cache: cat it first)
 *
 * Each round maps FILE anew and reads other pages (so every touch is a
 * first touch); prints the median over the rounds of each way, in µs per
 * read. Exit 2 on a failed call, with the call named.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READS 240

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what, const char *file)
{
    fprintf(stderr, "pagetouch: %s: %s failed\n", file, what);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pagetouch FILE [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 9;
    if (rounds < 1 || rounds > 1000)
        rounds = 9;
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        die("open/fstat", argv[1]);
    size_t page = (size_t)sysconf(_SC_PAGESIZE), np = (size_t)st.st_size / page;
    if (np < 4 * READS)
        die("a file of at least 960 pages", argv[1]);
    static const char *way[4] = { "touch", "populate all, then touch", "populate the page, then touch", "pread 256 B" };
    double *t[4];
    for (int w = 0; w < 4; w++)
        if (!(t[w] = malloc(rounds * sizeof *t[w])))
            die("malloc", argv[1]);
    uint64_t x = 88172645463325252ull;
    volatile unsigned sink = 0;
    char buf[256];
    for (int r = 0; r < rounds; r++)
        for (int w = 0; w < 4; w++) {
            unsigned char *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
            if (p == MAP_FAILED)
                die("mmap", argv[1]);
            double t0 = now_us();
            if (w == 1 && madvise(p, (size_t)st.st_size, MADV_POPULATE_READ) != 0)
                die("madvise(MADV_POPULATE_READ)", argv[1]);
            double t1 = now_us();
            for (int i = 0; i < READS; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                size_t pg = (size_t)(x % np);
                if (w == 2 && madvise(p + pg * page, page, MADV_POPULATE_READ) != 0)
                    die("madvise(MADV_POPULATE_READ)", argv[1]);
                if (w == 3) {
                    if (pread(fd, buf, sizeof buf, (off_t)(pg * page)) < 0)
                        die("pread", argv[1]);
                    sink += (unsigned char)buf[0];
                } else
                    sink += p[pg * page];
            }
            t[w][r] = (now_us() - t1) / READS;
            if (w == 1 && r == 0)
                printf("populating all %zu pages: %.0f us\n", np, t1 - t0);
            munmap(p, (size_t)st.st_size);
        }
    for (int w = 0; w < 4; w++) {
        qsort(t[w], rounds, sizeof *t[w], cmp);
        printf("%-30s %6.1f us per read (median of %d rounds of %d; min %.1f, max %.1f)\n", way[w], t[w][rounds / 2], rounds,
               READS, t[w][0], t[w][rounds - 1]);
    }
    return sink == 12345 ? 1 : 0;
}
