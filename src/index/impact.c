/*
 * impact.c — frontiers of (tf, length) pairs: building, shortening,
 * encoding and checked decoding (see impact.h).
 */
#include "index/impact.h"

#include <stdlib.h>

/* by length, then by tf descending */
static int cmp_pair(const void *a, const void *b)
{
    const qim_pair *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return (x->tf < y->tf) - (x->tf > y->tf);
}

size_t qim_pareto(qim_pair *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_pair);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)   /* longer units must have a larger tf to count */
        if (k == 0 || v[i].tf > v[k - 1].tf)
            v[k++] = v[i];
    return k;
}

size_t qim_frontier(qim_pair *v, size_t n)
{
    size_t k = qim_pareto(v, n);
    while (k > QIM_MAX) {
        /* merge the neighbours whose tf are closest (relatively): the merged
         * pair (the larger tf at the smaller length) raises the bound least */
        size_t best = 0;
        double best_r = 0;
        for (size_t i = 0; i + 1 < k; i++) {
            double r = (double)v[i + 1].tf / (double)v[i].tf;
            if (i == 0 || r < best_r) {
                best_r = r;
                best = i;
            }
        }
        v[best].tf = v[best + 1].tf;
        memmove(v + best + 1, v + best + 2, (k - best - 2) * sizeof *v);
        k--;
    }
    return k;
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
