/*
 * algo_conjunction.c — roots with required clauses (+a +b, a AND b, a
 * phrase among others): the rarest required clause leads, the others
 * follow it by galloping over their skip entries (qx_advance); optional
 * clauses only add to the score.
 *
 * Once the threshold is set, block-max bounds skip ahead: for the window
 * from the lead's unit to the end of the nearest current skip block of
 * any clause, the block bounds of the required and optional clauses add
 * up to a bound for every unit of the window; if it cannot beat the
 * threshold the window is skipped without decoding. A unit where every
 * required clause occurs is then bounded by the required clauses' term
 * frequencies (no positions) plus the optional clauses' block bounds
 * before it is scored in full by qalgo_match.
 */
#include <math.h>
#include <stdlib.h>

#include "query/algo.h"
#include "query/parse.h"

void qalgo_conjunction(qalgo_run *r)
{
    qn_ctx *x = r->x;
    qk_collector *col = r->col;
    qn_node *root = r->root;
    size_t nk = root->nkids ? root->nkids : 1;
    qn_node **req = malloc(nk * sizeof *req), **opt = malloc(nk * sizeof *opt);
    size_t nreq = 0, nopt = 0;
    if (!req || !opt) {
        x->oom = 1;
        goto done;
    }
    for (size_t i = 0; i < root->nkids; i++) {
        qn_node *k = root->kids[i];
        if (k->occur == QQ_MUST) {   /* by cost: the rarest leads */
            size_t j = nreq++;
            while (j && req[j - 1]->cost > k->cost) {
                req[j] = req[j - 1];
                j--;
            }
            req[j] = k;
        } else if (k->occur == QQ_SHOULD)
            opt[nopt++] = k;
    }
    uint32_t target = 0, win_end = 0;
    int have_win = 0;
    double win_bound = 0, opt_bound = 0;
    while (!x->corrupt && !x->oom) {
        uint32_t d = qn_advance(x, req[0], target);
        if (d == QX_END)
            break;
        double theta = qk_threshold(col);
        if (theta > -INFINITY) {
            if (!have_win || d > win_end) {
                uint32_t upto = QX_END;
                win_bound = 0;
                for (size_t i = 0; i < nreq; i++)
                    win_bound += qn_block_ub(x, req[i], d, &upto);
                opt_bound = 0;
                for (size_t i = 0; i < nopt; i++)
                    opt_bound += qn_block_ub(x, opt[i], d, &upto);
                win_bound += opt_bound;
                win_end = upto;
                have_win = 1;
            }
            if (bm25_below(win_bound, theta)) {
                if (win_end == QX_END)
                    break;
                target = win_end + 1;
                continue;
            }
        }
        uint32_t next = d;
        for (size_t i = 1; i < nreq && next == d; i++)
            next = qn_advance(x, req[i], d);
        if (next != d) {
            target = next;
            continue;
        }
        double s;
        if (theta > -INFINITY) {
            double bound = opt_bound;
            for (size_t i = 0; i < nreq; i++)
                bound += qn_doc_ub(x, req[i], d);
            if (bm25_below(bound, theta)) {
                target = d + 1;
                continue;
            }
        }
        if (qalgo_match(r, d, &s))
            qk_collect(col, d, s);
        target = d + 1;
    }
done:
    free(req);
    free(opt);
}
