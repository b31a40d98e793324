/*
 * bm25.h — the BM25 formula in one place (Lucene's classic BM25Similarity
 * with exact lengths), used by every algorithm so that they compute
 * bit-identical scores:
 *
 *   idf(df)      = ln(1 + (N - df + 0.5) / (df + 0.5))
 *   w            = idf * (k1 + 1) * boost           (a phrase: the sum of its terms' idf)
 *   norm(len)    = k1 * (1 - b) + (k1 * b / avglen) * len
 *   score(f,len) = w * f / (f + norm(len))
 *
 * N, avglen and df are those of the whole collection searched together.
 * In base/ because the index writer scores with it too: impact.c cuts
 * long frontiers where they cost least at the default k1 and b.
 * score() grows with f and falls with len, so score(max_tf, min_len) bounds
 * the score of any posting with tf <= max_tf in a unit of length >= min_len,
 * for any k1 >= 0 and b in [0, 1]: the block-max bounds of the skip entries.
 * Floating-point rounding can make a bound a few ulps lower than what it
 * bounds, so comparisons of bounds with scores go through bm25_below().
 */
#ifndef QUARRY_BM25_H
#define QUARRY_BM25_H

#include <math.h>
#include <stdint.h>

/* quarry_search_options_init's k1 and b (bench/quality.md). */
#define BM25_DEFAULT_K1 1.2
#define BM25_DEFAULT_B 0.75

typedef struct bm25 {
    double k1, b;
    double n, avglen;
    double nb, nl;       /* norm(len) = nb + nl * len */
} bm25;

static inline void bm25_init(bm25 *m, double k1, double b, double n, double avglen)
{
    m->k1 = k1;
    m->b = b;
    m->n = n;
    m->avglen = avglen > 0 ? avglen : 1.0;
    m->nb = k1 * (1.0 - b);
    m->nl = k1 * b / m->avglen;
}

static inline double bm25_idf(const bm25 *m, double df)
{
    return log(1.0 + (m->n - df + 0.5) / (df + 0.5));
}

static inline double bm25_norm(const bm25 *m, uint32_t len)
{
    return m->nb + m->nl * (double)len;
}

static inline double bm25_score(double w, uint32_t f, double norm)
{
    return w * (double)f / ((double)f + norm);
}

/* 1 when a score bounded by `bound` cannot beat `threshold` (ties lose:
 * later units never win a tie). The slack covers rounding in sums. */
#define BM25_SLACK (1.0 + 1e-9)
static inline int bm25_below(double bound, double threshold)
{
    return bound * BM25_SLACK <= threshold;
}

#endif
