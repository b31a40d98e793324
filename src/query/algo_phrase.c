/*
 * algo_phrase.c — a root that is one leaf read by its positions: a phrase
 * ("a b c"), or a title:-restricted term or phrase. There is one clause,
 * so MaxScore's partition has nothing to decide; the leaf's own cursors
 * are walked instead (its lead, the others following it: leaf_advance,
 * with the pair check of node.c), and each unit where every term occurs
 * is checked by its positions and scored.
 *
 * While every match is still counted (the threshold is -infinity: the
 * first QUARRY_COUNT_EXACT matches) each such unit is read. Then the
 * units are walked a skip block of the leaf at a time: a block whose bound
 * (qn_block_ub: the lowest of its terms' block bounds) cannot beat the
 * threshold is passed over without decoding anything, and inside a block
 * the lead passes over the units where its own tf, which bounds how often
 * the leaf occurs there, cannot beat it (qn_advance_above) before the
 * other cursors move; a unit that passes and whose bound from every
 * term's tf cannot enter the kept hits is only checked for a match and
 * counted.
 */
#include <math.h>

#include "query/algo.h"

/* The match at unit d, where every term of the leaf is (qalgo_match
 * without walking the tree to the leaf and moving its cursors again). */
static int leaf_match(qalgo_run *r, qn_node *n, uint32_t d, double *score)
{
    int admit = qk_admit(r->col, d);
    if (admit == QK_OUT)
        return 0;
    uint32_t f = qn_phrase_freq(r->x, n, d, admit == QK_OLD ? 1 : UINT32_MAX);
    if (!f)
        return 0;
    *score = admit == QK_OLD ? -INFINITY : qn_leaf_score(r->x, n, d, f);
    return 1;
}

void qalgo_phrase(qalgo_run *r)
{
    qn_node *n = r->root;
    qn_ctx *x = r->x;
    qk_collector *col = r->col;
    if (n->kind != QN_LEAF || n->missing)
        return;
    uint32_t target = 0;
    double s;
    /* counting: every unit where the terms occur is a candidate */
    while (!x->corrupt && !x->oom && qk_threshold(col) == -INFINITY) {
        uint32_t d = qn_advance(x, n, target);
        if (d == QX_END)
            return;
        if (leaf_match(r, n, d, &s))
            qk_collect(col, d, s);
        target = d + 1;
    }
    /* pruning: a block of the leaf at a time */
    while (!x->corrupt && !x->oom) {
        double theta = qk_threshold(col);
        uint32_t upto = QX_END;
        double ub = qn_block_ub(x, n, target, &upto);
        if (upto == QX_END)
            break;
        if (bm25_below(ub, theta)) {
            target = upto + 1;
            continue;
        }
        for (uint32_t d = qn_advance_above(x, n, target, upto, 0, theta); d <= upto && !x->corrupt && !x->oom;
             d = qn_advance_above(x, n, d + 1, upto, 0, theta)) {
            theta = qk_threshold(col);
            double bound = qn_doc_ub(x, n, d);
            if (bm25_below(bound, theta))
                continue;
            if (bm25_below(bound, qk_enter(col))) {   /* cannot enter: only whether it matches */
                if (qn_match(x, n, d))
                    qk_count(col, d);
            } else if (leaf_match(r, n, d, &s))
                qk_collect(col, d, s);
        }
        target = upto + 1;
    }
}
