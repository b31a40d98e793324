/*
 * bench.c — `quarry bench`: query latency and throughput of an index over
 * a query file, in one process (the index opened once, queries warmed up
 * once, then timed over several rounds), by one thread or by several
 * sharing the open index (--threads: each takes the next query); on a
 * terminal, a histogram of the latencies.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"

static void print_histogram(FILE *f, const double *lat, size_t n);

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One round: the queries shared among the threads. */
typedef struct round_ctx {
    quarry_index *ix;
    char **qs;
    size_t nq;
    const quarry_search_options *so;
    double *lat;              /* the round's latencies, or NULL (warm-up) */
    atomic_size_t next;       /* the next query to run */
    atomic_uint_fast64_t hits;
    atomic_size_t errors;
} round_ctx;

static void *run_queries(void *arg)
{
    round_ctx *rc = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&rc->next, 1);
        if (i >= rc->nq)
            return NULL;
        quarry_results *res;
        quarry_error err;
        double a = qnow();
        int code = quarry_search(rc->ix, rc->qs[i], rc->so, &res, &err);
        double b = qnow();
        if (code == 0) {
            atomic_fetch_add(&rc->hits, res->n);
            quarry_results_free(res);
        } else if (code != QUARRY_ENOTERMS)
            atomic_fetch_add(&rc->errors, 1);
        if (rc->lat)
            rc->lat[i] = b - a;
    }
}

/* Runs every query once with `threads` threads; returns the wall time, or
 * -1 when a thread cannot be started. */
static double run_round(round_ctx *rc, long threads)
{
    pthread_t th[256];
    long started = 0;
    atomic_store(&rc->next, 0);
    double t0 = qnow();
    for (; started < threads - 1; started++)
        if (pthread_create(&th[started], NULL, run_queries, rc) != 0)
            break;
    run_queries(rc);
    for (long k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    return started == threads - 1 ? qnow() - t0 : -1;
}

int cli_bench(int argc, char **argv)
{
    const char *dir = "index", *qfile = NULL;
    quarry_search_options so;
    quarry_search_options_init(&so);
    long rounds = 5, threads = 1, v;
    static const struct option opts[] = {
        { "index", required_argument, 0, 'i' }, { "queries", required_argument, 0, 'Q' },
        { "rounds", required_argument, 0, 'r' }, { "passages", no_argument, 0, 'p' },
        { "exhaustive", no_argument, 0, 'x' },  { "algorithm", required_argument, 0, 'a' },
        { "count", no_argument, 0, 'c' },       { "threads", required_argument, 0, 't' },
        { "no-pairs", no_argument, 0, 'P' },
        { "help", no_argument, 0, 'h' },        { 0, 0, 0, 0 },
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': dir = optarg; break;
        case 'Q': qfile = optarg; break;
        case 'k':
            if ((v = cli_parse_uint("-k", optarg, 1, 100000)) < 0)
                return 2;
            so.k = (unsigned)v;
            break;
        case 'r':
            if ((rounds = cli_parse_uint("--rounds", optarg, 1, 1000)) < 0)
                return 2;
            break;
        case 'p': so.passages = 1; break;
        case 'x': so.algorithm = QUARRY_ALGO_EXHAUSTIVE; break;
        case 'a':
            if ((so.algorithm = cli_parse_algorithm("--algorithm", optarg)) < 0)
                return 2;
            break;
        case 'c': so.count = 1; break;
        case 'P': so.no_pairs = 1; break;
        case 't':
            if ((threads = cli_parse_uint("--threads", optarg, 1, 256)) < 0)
                return 2;
            break;
        case 'h':
            puts("usage: quarry bench [-i DIR] --queries FILE [-k N] [--rounds N] [--passages]\n"
                 "                    [--algorithm NAME | --exhaustive] [--count] [--no-pairs] [--threads N]\n\n"
                 "Runs every query of FILE (one query a line, or qid<TAB>query) once to warm up, then\n"
                 "--rounds times (default 5), and prints the mean and percentiles of the latency per\n"
                 "query and the throughput, from the median round. On a terminal, also a histogram\n"
                 "of the latencies (buckets 1-2-5 µs, ms, s).\n\n"
                 "  --algorithm NAME  auto (default), maxscore, bmw or exhaustive (as --exhaustive)\n"
                 "  --count           count every match exactly (prunes less)\n"
                 "  --no-pairs        phrases by their words' positions only, not by the index's pair\n"
                 "                    terms (the same results; to measure what the pairs save)\n"
                 "  --threads N       N threads search the one open index at once, each taking the\n"
                 "                    next query (default 1); the throughput is that of all of them");
            return 0;
        default: return cli_failf("bench: unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (!qfile)
        return cli_failf("bench: --queries FILE is required");
    FILE *f = fopen(qfile, "r");
    if (!f)
        return cli_failf("cannot open %s", qfile);
    char **qs = NULL;
    size_t nq = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    while ((n = getline(&line, &lcap, f)) > 0) {
        lineno++;
        if (memchr(line, 0, (size_t)n)) {
            size_t col = strlen(line) + 1;
            free(line);
            fclose(f);
            for (size_t i = 0; i < nq; i++)
                free(qs[i]);
            free(qs);
            return cli_failf("%s:%lu: a NUL byte at column %zu; a query is text", qfile, lineno, col);
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        char *q = strchr(line, '\t') ? strchr(line, '\t') + 1 : line;
        if (!*q)
            continue;
        if (nq == cap) {
            cap = cap ? cap * 2 : 256;
            char **p = realloc(qs, cap * sizeof *qs);
            if (!p)
                return cli_failf("out of memory");
            qs = p;
        }
        qs[nq++] = strdup(q);
    }
    free(line);
    fclose(f);
    if (!nq)
        return cli_failf("%s: no queries", qfile);
    quarry_error err = { 0 };
    quarry_index *ix;
    if (quarry_open(dir, &ix, &err))
        return cli_fail(&err);
    double *lat = malloc(nq * (size_t)rounds * sizeof *lat);
    double *round_t = malloc((size_t)rounds * sizeof *round_t);
    if (!lat || !round_t) {
        free(lat);
        free(round_t);
        quarry_close(ix);
        return cli_failf("out of memory");
    }
    uint64_t hits = 0;
    size_t errors = 0;
    for (long r = -1; r < rounds; r++) {
        round_ctx rc = { ix, qs, nq, &so, r >= 0 ? lat + (size_t)r * nq : NULL, 0, 0, 0 };
        double t = run_round(&rc, threads);
        if (t < 0) {
            free(lat);
            free(round_t);
            quarry_close(ix);
            return cli_failf("bench: cannot start %ld threads", threads);
        }
        if (r >= 0)
            round_t[r] = t;
        if (r == 0) {
            hits = atomic_load(&rc.hits);
            errors = atomic_load(&rc.errors);
        }
    }
    size_t total = nq * (size_t)rounds;
    double sum = 0;
    for (size_t i = 0; i < total; i++)
        sum += lat[i];
    qsort(lat, total, sizeof *lat, cmp_d);
    qsort(round_t, (size_t)rounds, sizeof *round_t, cmp_d);
    double med = round_t[rounds / 2];
    static const char *const names[] = { "auto", "exhaustive", "maxscore", "bmw" };
    printf("queries %zu x %ld rounds, k %u, %s, %s%s, %ld thread%s\n", nq, rounds, so.k,
           so.passages ? "passage hits" : "article hits", names[so.algorithm], so.count ? ", exact counts" : "",
           threads, threads == 1 ? "" : "s");
    printf("mean %.1f us  p50 %.1f us  p90 %.1f us  p99 %.1f us  max %.1f us\n", 1e6 * sum / (double)total,
           1e6 * lat[total / 2], 1e6 * lat[total * 9 / 10], 1e6 * lat[total * 99 / 100], 1e6 * lat[total - 1]);
    printf("throughput %.0f queries/s (median round %.3f s); %llu hits; %zu queries failed\n",
           (double)nq / med, med, (unsigned long long)hits, errors);
    if (isatty(STDOUT_FILENO))
        print_histogram(stdout, lat, total);
    for (size_t i = 0; i < nq; i++)
        free(qs[i]);
    free(qs);
    free(lat);
    free(round_t);
    quarry_close(ix);
    return 0;
}

/* ------------------------------------------------------------ histogram */

#define HIST_BAR 40   /* columns of the longest bar */

/* Whether the locale's characters are UTF-8 (from the environment, as
 * setlocale would choose; the CLI does not call setlocale). */
static int utf8_terminal(void)
{
    const char *v = getenv("LC_ALL");
    if (!v || !*v)
        v = getenv("LC_CTYPE");
    if (!v || !*v)
        v = getenv("LANG");
    return v && (strcasestr(v, "utf-8") || strcasestr(v, "utf8"));
}

/* "20 µs", "500 µs", "1 ms", "2 s" for a bucket edge of 1, 2 or 5 times a
 * power of ten microseconds. */
static void fmt_edge(char *buf, size_t n, double us, int utf8)
{
    const char *unit = utf8 ? "\xC2\xB5s" : "us";
    if (us >= 1e6) {
        us /= 1e6;
        unit = "s";
    } else if (us >= 1e3) {
        us /= 1e3;
        unit = "ms";
    }
    snprintf(buf, n, "%g %s", us, unit);
}

/* The latencies `lat` (n > 0, sorted, seconds) in log-scale buckets with
 * edges 1, 2, 5, 10, 20, 50 ... microseconds, from the fastest query's
 * bucket to the slowest's: one bar each (Unicode eighth blocks on a UTF-8
 * terminal, else '#'), scaled to the fullest bucket, with count and share. */
static void print_histogram(FILE *f, const double *lat, size_t n)
{
    enum { NB = 64 };
    double edge[NB + 1];
    size_t count[NB] = { 0 };
    double e = 1.0;
    for (int i = 0; i <= NB; i++) {   /* 1 2 5 10 20 50 ... us */
        edge[i] = e;
        e *= (i % 3 == 1) ? 2.5 : 2.0;
    }
    int first = NB, last = 0;
    for (size_t i = 0; i < n; i++) {
        double us = lat[i] * 1e6;
        int b = 0;
        while (b < NB - 1 && us >= edge[b + 1])
            b++;
        count[b]++;
        if (b < first)
            first = b;
        if (b > last)
            last = b;
    }
    size_t max = 0;
    for (int b = first; b <= last; b++)
        if (count[b] > max)
            max = count[b];
    int utf8 = utf8_terminal();
    static const char *const eighths[8] = { "", "\xE2\x96\x8F", "\xE2\x96\x8E", "\xE2\x96\x8D",
                                            "\xE2\x96\x8C", "\xE2\x96\x8B", "\xE2\x96\x8A",
                                            "\xE2\x96\x89" };
    fprintf(f, "latency histogram (%zu timed queries)\n", n);
    for (int b = first; b <= last; b++) {
        char lo[32], hi[32], label[72];
        fmt_edge(lo, sizeof lo, edge[b], utf8);
        fmt_edge(hi, sizeof hi, edge[b + 1], utf8);
        snprintf(label, sizeof label, "%s - %s", lo, hi);
        size_t w = 0;   /* in characters: "µ" is two bytes */
        for (const char *c = label; *c; c++)
            w += ((unsigned char)*c & 0xC0) != 0x80;
        fprintf(f, "  %*s%s ", w < 15 ? (int)(15 - w) : 0, "", label);
        size_t cols = 0;
        if (utf8) {
            size_t units = (count[b] * HIST_BAR * 8 + max / 2) / max;
            if (count[b] && units == 0)
                units = 1;
            for (size_t i = 0; i < units / 8; i++)
                fputs("\xE2\x96\x88", f);
            fputs(eighths[units % 8], f);
            cols = (units + 7) / 8;
        } else {
            cols = (count[b] * HIST_BAR + max / 2) / max;
            if (count[b] && cols == 0)
                cols = 1;
            for (size_t i = 0; i < cols; i++)
                putc('#', f);
        }
        fprintf(f, "%*s %8zu %5.1f%%\n", (int)(HIST_BAR - cols), "", count[b],
                100.0 * (double)count[b] / (double)n);
    }
}
