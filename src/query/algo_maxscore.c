/*
 * algo_maxscore.c — block-max MaxScore (Turtle & Flood's MaxScore with the
 * per-window partition of Lucene 9's MaxScoreBulkScorer) over the root's
 * optional clauses.
 *
 * The units are walked in windows. A window starts at `target` and ends
 * where the first clause's current skip block ends, so inside it every
 * clause has one block bound B_i (qn_block_ub, from skip entries only):
 *
 *   - if the B_i add up to no more than the threshold, no unit of the
 *     window can enter the top-k: skip it without decoding anything;
 *   - else sort the clauses by B_i; the longest prefix whose B_i add up to
 *     no more than the threshold is "non-essential": a unit where only
 *     those occur cannot enter, so candidates come from the essential
 *     clauses only, and the non-essential ones are looked up (highest
 *     bound first) only while the candidate can still win.
 *
 * A candidate that survives the bounds is scored in full by qalgo_match
 * (positions only then), so scores are exactly the exhaustive ones. While
 * the threshold is -infinity (the first QUARRY_COUNT_EXACT matches) every
 * clause is essential and every candidate is scored.
 */
#include <stdlib.h>

#include "query/algo.h"

void qalgo_maxscore(qalgo_run *r)
{
    qn_ctx *x = r->x;
    qk_collector *col = r->col;
    size_t n;
    qn_node **cl = qalgo_clauses(r->root, &n);
    double *B = malloc((n ? n : 1) * sizeof *B);
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    if (!cl || !B || !ord) {
        x->oom = 1;
        goto done;
    }
    uint32_t target = 0;
    while (!x->corrupt && !x->oom) {
        double theta = qk_threshold(col);
        uint32_t upto = QX_END;
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            B[i] = qn_block_ub(x, cl[i], target, &upto);
            sum += B[i];
        }
        if (upto == QX_END)
            break;   /* no clause has a unit left */
        if (bm25_below(sum, theta)) {
            target = upto + 1;
            continue;
        }
        /* partition: clauses by bound, the non-essential prefix first */
        for (size_t i = 0; i < n; i++) {
            size_t j = i;
            while (j && B[ord[j - 1]] > B[i]) {
                ord[j] = ord[j - 1];
                j--;
            }
            ord[j] = i;
        }
        double pre = 0;
        size_t ne = 0;
        while (ne < n && bm25_below(pre + B[ord[ne]], theta)) {
            pre += B[ord[ne]];
            ne++;
        }
        for (size_t k = ne; k < n; k++)
            qn_advance(x, cl[ord[k]], target);
        for (;;) {
            uint32_t d = QX_END;
            for (size_t k = ne; k < n; k++)
                if (cl[ord[k]]->doc < d)
                    d = cl[ord[k]]->doc;
            if (d > upto || x->corrupt || x->oom)
                break;
            theta = qk_threshold(col);
            double bound = pre;
            for (size_t k = ne; k < n; k++)
                if (cl[ord[k]]->doc == d)
                    bound += qn_doc_ub(x, cl[ord[k]], d);
            int ok = !bm25_below(bound, theta);
            for (size_t k = ne; ok && k-- > 0;) {
                qn_node *c = cl[ord[k]];
                bound -= B[ord[k]];
                if (qn_advance(x, c, d) == d)
                    bound += qn_doc_ub(x, c, d);
                ok = !bm25_below(bound, theta);
            }
            double s;
            if (ok && qalgo_match(r, d, &s))
                qk_collect(col, d, s);
            for (size_t k = ne; k < n; k++)
                if (cl[ord[k]]->doc == d)
                    qn_advance(x, cl[ord[k]], d + 1);
        }
        target = upto + 1;
    }
done:
    free(cl);
    free(B);
    free(ord);
}
