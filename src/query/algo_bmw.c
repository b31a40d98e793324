/*
 * algo_bmw.c — block-max WAND (Ding & Suel, SIGIR 2011) over the root's
 * optional clauses.
 *
 * The clauses are kept sorted by their current unit. The pivot is the
 * first clause at which the global bounds of the clauses so far exceed
 * the threshold: no unit before the pivot's can enter the top-k. Then the
 * block bounds of the clauses up to the pivot, over the blocks that hold
 * the pivot unit, decide: too low, and every unit up to the end of the
 * nearest of those blocks (or the next clause's unit) is skipped; else, if
 * every clause up to the pivot is on the pivot unit it is scored in full
 * (qalgo_match), otherwise the lagging clauses move up to it.
 */
#include <stdlib.h>

#include "query/algo.h"

static void sort_by_doc(qn_node **cl, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        qn_node *c = cl[i];
        size_t j = i;
        while (j && cl[j - 1]->doc > c->doc) {
            cl[j] = cl[j - 1];
            j--;
        }
        cl[j] = c;
    }
}

void qalgo_bmw(qalgo_run *r)
{
    qn_ctx *x = r->x;
    qk_collector *col = r->col;
    size_t n;
    qn_node **cl = qalgo_clauses(r->root, &n);
    if (!cl) {
        x->oom = 1;
        return;
    }
    while (!x->corrupt && !x->oom) {
        sort_by_doc(cl, n);
        double theta = qk_threshold(col), acc = 0;
        size_t p = n;
        for (size_t i = 0; i < n && cl[i]->doc != QX_END; i++) {
            acc += cl[i]->ub;
            if (!bm25_below(acc, theta)) {
                p = i;
                break;
            }
        }
        if (p == n)
            break;
        uint32_t pd = cl[p]->doc;
        while (p + 1 < n && cl[p + 1]->doc == pd)
            p++;
        uint32_t upto = QX_END;
        double bsum = 0;
        for (size_t i = 0; i <= p; i++)
            bsum += qn_block_ub(x, cl[i], pd, &upto);
        if (bm25_below(bsum, theta)) {
            uint32_t next = upto == QX_END ? QX_END : upto + 1;
            if (p + 1 < n && cl[p + 1]->doc < next)
                next = cl[p + 1]->doc;
            if (next <= pd)
                next = pd + 1;
            for (size_t i = 0; i <= p; i++)
                qn_advance(x, cl[i], next);
            continue;
        }
        if (cl[0]->doc == pd) {
            double bound = 0, s;
            for (size_t i = 0; i <= p; i++)
                bound += qn_doc_ub(x, cl[i], pd);
            if (!bm25_below(bound, theta) && qalgo_match(r, pd, &s))
                qk_collect(col, pd, s);
            for (size_t i = 0; i <= p; i++)
                qn_advance(x, cl[i], pd + 1);
        } else {
            for (size_t i = 0; i < p && cl[i]->doc < pd; i++)
                qn_advance(x, cl[i], pd);
        }
    }
    free(cl);
}
