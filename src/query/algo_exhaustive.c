/*
 * algo_exhaustive.c — the reference algorithm: every unit where the rarest
 * term of some positive leaf occurs is a candidate, and every candidate is
 * scored in full. No bound, no skip: what every faster algorithm must
 * reproduce exactly (DESIGN §4).
 */
#include <stdlib.h>

#include "query/algo.h"
#include "base/sys.h"
#include "query/parse.h"

/* The lead cursors of the positive leaves present in the segment. */
static size_t leads(qn_node *n, qx_cursor **v, size_t k)
{
    if (n->kind == QN_LEAF) {
        if (n->positive && !n->missing)
            v[k++] = &n->cur[n->lead];
        return k;
    }
    for (size_t i = 0; n->kind == QN_BOOL && i < n->nkids; i++)
        k = leads(n->kids[i], v, k);
    return k;
}

static size_t count_leaves(const qn_node *n)
{
    if (n->kind == QN_LEAF)
        return 1;
    size_t k = 0;
    for (size_t i = 0; n->kind == QN_BOOL && i < n->nkids; i++)
        k += count_leaves(n->kids[i]);
    return k;
}

void qalgo_exhaustive(qalgo_run *r)
{
    qx_cursor **lead = qmalloc((count_leaves(r->root) + 1) * sizeof *lead);
    if (!lead) {
        r->x->oom = 1;
        return;
    }
    size_t nl = leads(r->root, lead, 0);
    for (;;) {
        uint32_t d = QX_END;
        for (size_t i = 0; i < nl; i++)
            if (lead[i]->doc < d)
                d = lead[i]->doc;
        if (d == QX_END || r->x->corrupt || r->x->oom)
            break;
        double s;
        if (qalgo_match(r, d, &s))
            qk_collect(r->col, d, s);
        for (size_t i = 0; i < nl; i++)
            if (lead[i]->doc == d)
                qx_next(lead[i]);
    }
    for (size_t i = 0; i < nl; i++)
        if (lead[i]->corrupt)
            r->x->corrupt = 1;
    free(lead);
}
