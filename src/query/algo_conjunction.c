/*
 * algo_conjunction.c — roots with required clauses (+a +b, a AND b, a
 * phrase among others): the rarest required clause leads, the others
 * follow it by galloping over their skip entries (qx_advance); optional
 * clauses only add to the score.
 *
 * The units are walked in windows, one skip block of the lead at a time
 * (as Lucene's BlockMaxConjunctionScorer). Once the threshold is set, a
 * window is first bounded from skip data alone: each clause's largest
 * block bound over it, the lead's first, the others counting with their
 * bound in the segment until theirs is read. As soon as the sum cannot
 * beat the threshold, the window is skipped without decoding anything.
 * Otherwise each unit of the lead is first bounded by its own score plus
 * the other clauses' bounds over the window (too low, and the others are
 * not even moved); each unit where every required clause occurs is then
 * bounded from term frequencies and the one-byte length before it is
 * scored in full by qalgo_match (positions only then).
 *
 * A bound coupling the required clauses through the unit length (at each
 * length, the largest tf every term's impacts allow there) skipped a few
 * windows more than the clauses' own bounds but cost more than it saved
 * (the whole title and SBG AND sets took 0.96-0.98 of the time without
 * it); it is gone.
 *
 * When every required clause is a single term (the common "+a +b"), the
 * units of a window are walked on the cursors directly; once the
 * threshold is set, a window is the rest of the lead's decoded block,
 * filtered in one pass by the lead's own scores (filtered_block), and a
 * block where another term has nothing is not decoded at all; a candidate
 * of three or more terms is dropped as soon as the scores of the terms
 * found at it plus the bounds of the rest cannot beat the threshold.
 */
#include <math.h>
#include <stdlib.h>

#include "query/algo.h"
#include "base/sys.h"
#include "query/parse.h"

typedef struct conj {
    qalgo_run *r;
    qn_node **req, **opt;
    size_t nreq, nopt;
    int pure;                /* the root is exactly its required terms */
    double opt_bound;        /* the optional clauses' bound over the window */
    double rest_bound;       /* the required clauses but the lead: their bound over the window */
    double *each;            /* each required clause's own bound over the window */
    int lead_term;           /* the lead is a single term */
    double seg_bound;        /* every clause's bound in the segment, summed */
} conj;

/* Bounds the window [from, *last] (the lead's skip block that holds the
 * first unit >= from): 1 when it can be skipped. *last = QX_END when the
 * lead has no unit left. */
static int window(conj *c, uint32_t from, uint32_t *last, double theta)
{
    qn_ctx *x = c->r->x;
    uint32_t upto = QX_END;
    if (c->lead_term)   /* the window is the lead's block: its end from the skip entry */
        upto = qx_block_last(&c->req[0]->cur[0], from);
    else
        qn_block_ub(x, c->req[0], from, &upto);
    *last = upto;
    if (upto == QX_END)
        return 1;
    c->opt_bound = 0;
    c->rest_bound = INFINITY;
    if (theta == -INFINITY) {
        for (size_t i = 0; i < c->nopt; i++)
            c->opt_bound += c->opt[i]->ub;   /* for the doc-level bounds of the counting phase */
        return 0;
    }
    /* each clause's bound over the window in turn, the lead's first (its
     * own block's, usually known already): the ones not computed yet count
     * with their bound in the segment, and the window is skipped as soon
     * as the sum cannot beat the threshold */
    double b = c->seg_bound;
    for (size_t i = 0; i < c->nreq; i++) {
        b += (c->each[i] = qn_range_ub(x, c->req[i], from, upto)) - c->req[i]->ub;
        if (bm25_below(b, theta))
            return 1;
    }
    for (size_t i = 0; i < c->nopt; i++) {
        double o = qn_range_ub(x, c->opt[i], from, upto);
        c->opt_bound += o;
        if (bm25_below(b += o - c->opt[i]->ub, theta))
            return 1;
    }
    c->rest_bound = 0;
    for (size_t i = 1; i < c->nreq; i++)
        c->rest_bound += c->each[i];
    return 0;
}

/* Required clauses that are any nodes. */
static void run_nodes(conj *c)
{
    qalgo_run *r = c->r;
    qn_ctx *x = r->x;
    qk_collector *col = r->col;
    uint32_t target = 0, last;
    while (!x->corrupt && !x->oom) {
        double theta = qk_threshold(col);
        if (window(c, target, &last, theta)) {
            if (last == QX_END)
                break;
            target = last + 1;
            continue;
        }
        for (;;) {
            uint32_t d = qn_advance(x, c->req[0], target);
            if (d > last)
                break;
            if (c->rest_bound < INFINITY &&   /* as in run_terms */
                bm25_below(qn_doc_ub(x, c->req[0], d) + c->rest_bound + c->opt_bound, qk_threshold(col))) {
                target = d + 1;
                continue;
            }
            uint32_t next = d;
            for (size_t i = 1; i < c->nreq && next == d; i++)
                next = qn_advance(x, c->req[i], d);
            if (next != d) {
                target = next;
                continue;
            }
            target = d + 1;
            theta = qk_threshold(col);
            if (theta > -INFINITY) {
                double bound = c->opt_bound;
                for (size_t i = 0; i < c->nreq; i++)
                    bound += qn_doc_ub(x, c->req[i], d);
                if (bm25_below(bound, theta))
                    continue;
            }
            double s;
            if (qalgo_match(r, d, &s))
                qk_collect(col, d, s);
        }
        if (last == QX_END || target > last + 1)
            continue;
        target = last + 1;
    }
}

/* A unit where the lead and every other required term are: bounds, then
 * scores it (run_terms). */
static void matched(conj *c, qx_cursor **cur, const double *w, uint32_t d)
{
    qalgo_run *r = c->r;
    qn_ctx *x = r->x;
    qk_collector *col = r->col;
    size_t n = c->nreq;
    double theta = qk_threshold(col), enter = qk_enter(col);
    if (enter > -INFINITY) {
        double norm = x->normq[qx_unit_lenq(x->seg, d)], bound = c->opt_bound;
        for (size_t k = 0; k < n; k++)
            bound += bm25_score(w[k], qx_tf(cur[k]), norm);
        if (bm25_below(bound, theta))   /* pruned */
            return;
        if (c->pure && bm25_below(bound, enter)) {   /* a match that cannot enter */
            qk_count(col, d);
            return;
        }
    }
    double s;
    if (c->pure) {
        /* the root's score, summed in the tree's order as qn_score does */
        double norm = bm25_norm(&x->m, qx_unit_len(x->seg, d)), sum = 0;
        for (size_t k = 0; k < n; k++)
            sum += bm25_score(r->root->kids[k]->w, qx_tf(&r->root->kids[k]->cur[0]), norm);
        qk_collect(col, d, 0 + sum);
    } else if (qalgo_match(r, d, &s))
        qk_collect(col, d, s);
}

/* The rest of the lead's block, once the threshold is set: the lead's own
 * scores over the block first, in one pass over its decoded docs and tfs,
 * keep the postings that can still make it with the others' bounds over
 * the window; the other terms are moved only to those. Returns where the
 * others are (no match before it; QX_END when one has no unit left). */
static uint32_t filtered_block(conj *c, qx_cursor **cur, const double *w)
{
    qn_ctx *x = c->r->x;
    qx_cursor *lead = cur[0];
    uint32_t from = 0;   /* the others are at or past it: no match before */
    for (size_t i = 1; i < c->nreq; i++)
        if (cur[i]->doc > from)
            from = cur[i]->doc;
    if (from > lead->last)   /* another term has nothing in the block: it is not even decoded */
        return from;
    if (qx_decode_block(lead)) {
        x->corrupt = 1;
        return QX_END;
    }
    double rest = c->rest_bound + c->opt_bound, theta = qk_threshold(c->r->col);
    const uint8_t *lq = x->seg->ulenq;
    /* the lead's score w tf / (tf + norm) must pass need = theta / slack -
     * rest: compared as w tf > need (tf + norm), without dividing, with a
     * margin far above the rounding (a candidate too many is harmless) */
    uint32_t cand[QC_BLOCK], nc = 0;
    double need = theta / BM25_SLACK - rest, w0 = w[0] * (1 + 1e-6);
    for (uint32_t j = lead->i; j < lead->n; j++) {
        double tf = lead->tfs[j];
        cand[nc] = j;
        nc += w0 * tf > need * (tf + x->normq[lq[lead->docs[j]]]);
    }
    /* after[i]: the bounds of the terms after i over the window, and of the
     * optional clauses; a candidate is dropped as soon as the scores of the
     * terms found at it so far plus after[i] cannot beat the threshold */
    size_t n = c->nreq;
    double after[64];
    after[n - 1] = c->opt_bound;
    for (size_t i = n - 1; i > 1; i--)
        after[i - 1] = after[i] + c->each[i];
    for (uint32_t k = 0; k < nc && !x->corrupt; k++) {
        if (lead->docs[cand[k]] < from)
            continue;
        uint32_t d = qx_move_to(lead, cand[k]);
        /* (with two terms the second is the last: nothing to add to) */
        double part = n > 2 ? bm25_score(w[0], lead->tfs[cand[k]], x->normq[lq[d]]) : 0;
        size_t i = 1;
        for (; i < n; i++) {
            uint32_t e = qx_advance(cur[i], d);
            if (e != d) {
                from = e;
                break;
            }
            if (i + 1 < n) {
                part += bm25_score(w[i], qx_tf(cur[i]), x->normq[lq[d]]);
                if (bm25_below(part + after[i], theta)) {
                    from = d + 1;
                    break;
                }
            }
        }
        if (i < n)
            continue;
        matched(c, cur, w, d);
        from = d + 1;
    }
    return from;
}

/* Required clauses that are all single terms: the same on the cursors. */
static void run_terms(conj *c)
{
    qalgo_run *r = c->r;
    qn_ctx *x = r->x;
    qk_collector *col = r->col;
    qx_cursor *cur[64];
    double w[64];
    size_t n = c->nreq;
    for (size_t i = 0; i < n; i++) {
        cur[i] = &c->req[i]->cur[0];
        w[i] = c->req[i]->w;
    }
    qx_cursor *lead = cur[0];
    uint32_t target = 0, last;
    while (!x->corrupt && !x->oom) {
        double theta = qk_threshold(col);
        if (window(c, target, &last, theta)) {
            if (last == QX_END)
                break;
            target = last + 1;
            continue;
        }
        uint32_t d = qx_advance(lead, target);
        if (c->rest_bound < INFINITY && d <= last) {
            uint32_t next = filtered_block(c, cur, w);
            if (last == QX_END || next == QX_END)
                break;
            target = next > last + 1 ? next : last + 1;
            continue;
        }
        while (d <= last) {
            /* the unit's length byte, read when d matches: on its way
             * while the other cursors move (a cache miss per match) */
            __builtin_prefetch(x->seg->ulenq + d);
            /* the lead's own score plus the others' bound over the window:
             * too low, and the others need not even be looked at */
            if (c->rest_bound < INFINITY &&
                bm25_below(bm25_score(w[0], qx_tf(lead), x->normq[qx_unit_lenq(x->seg, d)]) + c->rest_bound + c->opt_bound,
                           qk_threshold(col))) {
                d = qx_next(lead);
                continue;
            }
            size_t i = 1;
            for (; i < n; i++) {
                uint32_t e = qx_advance(cur[i], d);
                if (e != d) {
                    d = qx_advance(lead, e);
                    break;
                }
            }
            if (i < n)
                continue;
            matched(c, cur, w, d);
            d = qx_next(lead);
        }
        if (last == QX_END)
            break;
        target = d > last + 1 ? d : last + 1;
    }
}

void qalgo_conjunction(qalgo_run *r)
{
    qn_node *root = r->root;
    size_t nk = root->nkids ? root->nkids : 1;
    conj c = { r, qmalloc(nk * sizeof *c.req), qmalloc(nk * sizeof *c.opt), 0, 0, 0, 0, INFINITY,
               qmalloc(nk * sizeof *c.each), 0, 0 };
    if (!c.req || !c.opt || !c.each) {
        r->x->oom = 1;
        goto done;
    }
    int terms = 1;
    for (size_t i = 0; i < root->nkids; i++) {
        qn_node *k = root->kids[i];
        if (k->occur == QQ_MUST) {   /* by cost: the rarest leads */
            size_t j = c.nreq++;
            while (j && c.req[j - 1]->cost > k->cost) {
                c.req[j] = c.req[j - 1];
                j--;
            }
            c.req[j] = k;
            terms &= k->kind == QN_LEAF && k->nterms == 1 && k->field == QQ_FIELD_ANY && !k->missing;
        } else if (k->occur == QQ_SHOULD)
            c.opt[c.nopt++] = k;
    }
    c.pure = terms && c.nreq == root->nkids;
    for (size_t i = 0; i < c.nreq; i++)
        c.seg_bound += c.req[i]->ub;
    for (size_t i = 0; i < c.nopt; i++)
        c.seg_bound += c.opt[i]->ub;
    c.lead_term = c.nreq && c.req[0]->kind == QN_LEAF && c.req[0]->nterms == 1 && !c.req[0]->missing;
    if (terms && c.nreq <= 64)
        run_terms(&c);
    else
        run_nodes(&c);
done:
    free(c.req);
    free(c.opt);
    free(c.each);
}
