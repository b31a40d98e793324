/*
 * codec_bench.c — throughput of the postings bit packing (src/index/codec.c):
 * qc_pack / qc_unpack against the bit-at-a-time qc_pack_slow /
 * qc_unpack_slow, for every width 1..32, in millions of integers per second.
 * Not part of the build; from the repository root:
 *
 *   gcc -std=c11 -O2 -D_DEFAULT_SOURCE -Iinclude -Isrc bench/codec_bench.c src/index/codec.c -o /tmp/codec_bench && /tmp/codec_bench
 *
 * Optional argument: seconds per measurement (default 0.1); each figure is
 * the best of 3 measurements. The data is a stream of BLOCKS full groups of
 * 128 random values at the width being measured, packed back to back (as in
 * a postings list), decoded group after group up to the exact end of the
 * buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index/codec.h"

#define BLOCKS 1024
#define NVAL (BLOCKS * QC_BLOCK)

static uint32_t vals[NVAL], outv[NVAL];
static uint8_t packed[NVAL * 4];
static volatile uint32_t sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { PACK_FAST, PACK_SLOW, UNPACK_FAST, UNPACK_SLOW };

/* One pass over the whole stream; returns the number of integers handled. */
static size_t pass(int op, unsigned w)
{
    size_t step = qc_packed_size(QC_BLOCK, w);
    const uint8_t *end = packed + (size_t)BLOCKS * step;
    uint32_t x = 0;
    for (size_t b = 0; b < BLOCKS; b++) {
        const uint32_t *v = vals + b * QC_BLOCK;
        uint32_t *o = outv + b * QC_BLOCK;
        uint8_t *p = packed + b * step;
        switch (op) {
        case PACK_FAST: qc_pack(v, QC_BLOCK, w, p); x += p[0]; break;
        case PACK_SLOW: qc_pack_slow(v, QC_BLOCK, w, p); x += p[0]; break;
        case UNPACK_FAST: x += (uint32_t)qc_unpack(p, end, QC_BLOCK, w, o); x += o[QC_BLOCK - 1]; break;
        default: x += (uint32_t)qc_unpack_slow(p, end, QC_BLOCK, w, o); x += o[QC_BLOCK - 1]; break;
        }
    }
    sink += x;
    return NVAL;
}

/* Millions of integers per second: best of 3 runs of at least `secs`. */
static double measure(int op, unsigned w, double secs)
{
    double best = 0;
    for (int run = 0; run < 3; run++) {
        size_t ints = 0;
        double t0 = now(), t;
        do {
            ints += pass(op, w);
            t = now() - t0;
        } while (t < secs);
        double rate = (double)ints / t / 1e6;
        if (rate > best)
            best = rate;
    }
    return best;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 0.1;
    if (secs <= 0)
        secs = 0.1;
    uint64_t s = 88172645463325252ull;
    printf("bit packing throughput, M integers/s (groups of %d, %d groups, best of 3 x %.2fs)\n\n",
           QC_BLOCK, BLOCKS, secs);
    printf("| width | pack fast | pack slow | unpack fast | unpack slow | unpack speedup |\n");
    printf("|------:|----------:|----------:|------------:|------------:|---------------:|\n");
    for (unsigned w = 1; w <= 32; w++) {
        uint32_t m = w == 32 ? 0xffffffffu : (1u << w) - 1u;
        for (size_t i = 0; i < NVAL; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            vals[i] = (uint32_t)(s >> 16) & m;
        }
        double pf = measure(PACK_FAST, w, secs);
        double ps = measure(PACK_SLOW, w, secs);
        double uf = measure(UNPACK_FAST, w, secs);
        /* sanity: the stream decodes back to the values */
        memset(outv, 0, sizeof outv);
        pass(UNPACK_FAST, w);
        if (memcmp(outv, vals, sizeof vals) != 0) {
            fprintf(stderr, "codec_bench: width %u: fast unpack mismatch\n", w);
            return 1;
        }
        double us = measure(UNPACK_SLOW, w, secs);
        printf("| %5u | %9.0f | %9.0f | %11.0f | %11.0f | %13.1fx |\n", w, pf, ps, uf, us, uf / us);
        fflush(stdout);
    }
    return 0;
}
