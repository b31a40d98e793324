/*
 * impact.c — frontiers of (tf, length) pairs: building, shortening,
 * encoding and checked decoding (see impact.h).
 */
#include "index/impact.h"

#include <string.h>

#include "base/bm25.h"

#define QIM_FAST_TF 64   /* the largest tf of the counting path */

/* The frontier when no tf exceeds QIM_FAST_TF (most blocks: tfs are
 * small): the shortest length at each tf, then, from the largest tf down,
 * the pairs shorter than every pair with a larger tf. O(n + largest tf). */
static size_t pareto_small(qim_pair *v, size_t n, uint32_t top)
{
    uint64_t shortest[QIM_FAST_TF + 1];
    for (uint32_t t = 0; t <= top; t++)
        shortest[t] = UINT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (v[i].len < shortest[v[i].tf])
            shortest[v[i].tf] = v[i].len;
    size_t k = 0;
    uint64_t below = UINT64_MAX;
    for (uint32_t t = top + 1; t-- > 0;)
        if (shortest[t] < below) {
            below = shortest[t];
            v[k].tf = t;
            v[k++].len = (uint32_t)below;
        }
    for (size_t i = 0; i < k / 2; i++) {   /* by length (and tf) increasing */
        qim_pair x = v[i];
        v[i] = v[k - 1 - i];
        v[k - 1 - i] = x;
    }
    return k;
}

size_t qim_pareto(qim_pair *v, size_t n)
{
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++)
        top = v[i].tf > top ? v[i].tf : top;
    if (top <= QIM_FAST_TF)
        return pareto_small(v, n, top);
    /* v[0, k): the frontier of the pairs seen so far, by length (and so by
     * tf) strictly increasing; each pair joins it unless a pair of it is
     * as short and has as large a tf, and drops the pairs it dominates.
     * In place: k <= i, so v[i] is read before the frontier can reach it. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        qim_pair p = v[i];
        size_t lo = 0, hi = k;   /* the first pair longer than p */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (v[mid].len <= p.len)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0 && v[lo - 1].tf >= p.tf)
            continue;   /* dominated */
        size_t at = lo > 0 && v[lo - 1].len == p.len ? lo - 1 : lo;   /* replaces an equal length */
        size_t end = lo;   /* the longer pairs with no larger tf are dominated by p */
        while (end < k && v[end].tf <= p.tf)
            end++;
        size_t keep = k - end;
        memmove(v + at + 1, v + end, keep * sizeof *v);
        v[at] = p;
        k = at + 1 + keep;
    }
    return k;
}

/* What a merged pair would score at the default k1 and b, for
 * qim_frontier's choice (a term weight of 1: it scales every pair alike). */
static double ref_score(const bm25 *m, uint32_t tf, uint32_t len)
{
    return bm25_score(1.0, tf, bm25_norm(m, len));
}

/* Groups the frontier v[0..k) into runs, left to right, each as long as
 * its merged pair (its last tf at its first length) scores at most t (a
 * pair alone may score more); the number of runs, counting no further
 * than QIM_MAX + 1; their starts in start[] when given. */
static size_t runs_within(const qim_pair *v, size_t k, double t, const bm25 *m, size_t *start)
{
    size_t g = 0;
    for (size_t i = 0; i < k && g <= QIM_MAX;) {
        size_t j = i + 1;
        while (j < k && ref_score(m, v[j].tf, v[i].len) <= t)
            j++;
        if (start)
            start[g] = i;
        g++;
        i = j;
    }
    return g;
}

size_t qim_frontier(qim_pair *v, size_t n, double avglen)
{
    size_t k = qim_pareto(v, n);
    if (k <= QIM_MAX)
        return k;
    bm25 m;   /* an avglen <= 0 (or NaN) counts as 1 */
    bm25_init(&m, BM25_DEFAULT_K1, BM25_DEFAULT_B, 0, avglen);
    /* the frontier is cut into at most QIM_MAX runs of neighbours, each
     * merged into one pair (its largest tf at its smallest length, which
     * dominates the run). The bound for the reference parameters is the
     * highest score of a merged pair: the least t that QIM_MAX runs can
     * stay within is found by bisection (runs_within is monotone in t),
     * from the frontier's own highest score (often enough) up to that of
     * a single run; the runs are those of the t found. */
    double lo = 0, hi = ref_score(&m, v[k - 1].tf, v[0].len);
    for (size_t i = 0; i < k; i++) {
        double s = ref_score(&m, v[i].tf, v[i].len);
        lo = s > lo ? s : lo;
    }
    if (runs_within(v, k, lo, &m, NULL) <= QIM_MAX)
        hi = lo;
    for (int it = 0; it < 100 && hi - lo > hi * 1e-13; it++) {
        double mid = lo + (hi - lo) / 2;
        if (runs_within(v, k, mid, &m, NULL) <= QIM_MAX)
            hi = mid;
        else
            lo = mid;
    }
    size_t start[QIM_MAX + 1];
    size_t g = runs_within(v, k, hi, &m, start);
    for (size_t r = 0; r < g; r++) {
        size_t end = r + 1 < g ? start[r + 1] : k;   /* the run is [start[r], end) */
        v[r].len = v[start[r]].len;
        v[r].tf = v[end - 1].tf;
    }
    return g;
}

int qim_put(qbuf *b, const qim_pair *v, size_t n)
{
    qbuf_put_varint(b, n);
    for (size_t i = 0; i < n; i++) {
        qbuf_put_varint(b, i ? v[i].tf - v[i - 1].tf - 1 : v[i].tf);
        qbuf_put_varint(b, i ? v[i].len - v[i - 1].len - 1 : v[i].len);
    }
    return b->oom ? -1 : 0;
}

int qim_get(qcur *c, qim_pair *v, uint32_t *n)
{
    uint64_t k = qcur_varint(c);
    if (!c->ok || k == 0 || k > QIM_MAX)
        return -1;
    uint64_t tf = 0, len = 0;
    for (uint64_t i = 0; i < k; i++) {
        uint64_t a = qcur_varint(c), b = qcur_varint(c);
        tf = i ? tf + a + 1 : a;
        len = i ? len + b + 1 : b;
        if (!c->ok || tf == 0 || tf > UINT32_MAX || len > UINT32_MAX)
            return -1;
        v[i].tf = (uint32_t)tf;
        v[i].len = (uint32_t)len;
    }
    *n = (uint32_t)k;
    return 0;
}
