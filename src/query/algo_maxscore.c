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
 * clause is essential and every candidate is a match to count: over
 * single terms one whose bound cannot enter the kept hits is counted
 * without being scored; over other clauses every candidate is scored
 * without a bound (telling whether a phrase matches reads the positions
 * that scoring it does, so the bound would spare nothing), and a window
 * is not bounded at all (qn_block_end: only where it ends).
 *
 * Once the threshold is set, an essential leaf (a phrase, say) passes over
 * the units of the window where its lead term's own tf, which bounds how
 * often the leaf occurs there, plus every other clause's bound cannot beat
 * it, before its other cursors move (qn_advance_above).
 *
 * When every clause is a single term, the candidates are walked on the
 * cursors directly.
 */
#include <math.h>
#include <stdlib.h>

#include "query/algo.h"
#include "base/sys.h"
#include "query/parse.h"

#define MS_FEW 32      /* more clauses than this: sorted with qsort, in wide windows */
#define MS_WIDE 4096   /* units in a window of such a query, at least */

typedef struct ms_bound { double b; size_t i; } ms_bound;

static int cmp_bound(const void *pa, const void *pb)
{
    const ms_bound *a = pa, *b = pb;
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

typedef struct ms {
    qalgo_run *r;
    qn_node **cl;            /* the clauses */
    size_t n;
    double *B;               /* block bounds over the window */
    size_t *ord;             /* clauses by B, the non-essential first */
    ms_bound *byb;           /* room to sort them when there are many */
    size_t ne;               /* non-essential clauses: ord[0 .. ne) */
    double pre;              /* the sum of their bounds */
    double sum;              /* the sum of all the clauses' bounds over the window */
    int need_ne;             /* the essential clauses alone cannot beat the threshold */
    int terms;               /* every clause is a single term */
    int pure;                /* ... and the root has no MUST_NOT clause: every candidate matches */
} ms;

/* Bounds the window [target, *upto]; 1 when it can be skipped. Otherwise
 * partitions the clauses. *upto = QX_END when no clause has a unit left. */
static int window(ms *m, uint32_t target, uint32_t *upto, double theta)
{
    qn_ctx *x = m->r->x;
    double sum = 0;
    *upto = QX_END;
    if (theta == -INFINITY) {   /* counting: every clause is essential, no bound is read */
        for (size_t i = 0; i < m->n; i++) {
            qn_block_end(x, m->cl[i], target, upto);
            m->B[i] = 0;   /* (not read while counting) */
            m->ord[i] = i;
        }
        if (*upto != QX_END && m->n > MS_FEW && *upto - target < MS_WIDE - 1)
            *upto = target < QX_END - MS_WIDE ? target + MS_WIDE - 1 : QX_END - 1;
        m->pre = 0;
        m->sum = 0;
        m->ne = 0;
        m->need_ne = 0;
        return *upto == QX_END;
    }
    for (size_t i = 0; i < m->n; i++) {
        m->B[i] = qn_block_ub(x, m->cl[i], target, upto);
        sum += m->B[i];
    }
    if (*upto == QX_END)
        return 1;
    if (m->n > MS_FEW && *upto - target < MS_WIDE - 1) {
        /* many clauses: their block ends would make windows of a few units
         * each, and every window costs a pass over the clauses; a wide
         * window instead, with each clause bounded over all of its blocks
         * there (as Lucene's getMaxScore(upTo)) */
        *upto = target < QX_END - MS_WIDE ? target + MS_WIDE - 1 : QX_END - 1;
        sum = 0;
        for (size_t i = 0; i < m->n; i++) {
            m->B[i] = qn_range_ub(x, m->cl[i], target, *upto);
            sum += m->B[i];
        }
    }
    m->sum = sum;
    if (bm25_below(sum, theta))
        return 1;
    if (m->n <= MS_FEW) {
        for (size_t i = 0; i < m->n; i++) {   /* insertion sort: few clauses */
            size_t j = i;
            while (j && m->B[m->ord[j - 1]] > m->B[i]) {
                m->ord[j] = m->ord[j - 1];
                j--;
            }
            m->ord[j] = i;
        }
    } else {   /* the same order (by bound, then clause) in n log n: long queries */
        for (size_t i = 0; i < m->n; i++)
            m->byb[i] = (ms_bound){ m->B[i], i };
        qsort(m->byb, m->n, sizeof *m->byb, cmp_bound);
        for (size_t i = 0; i < m->n; i++)
            m->ord[i] = m->byb[i].i;
    }
    m->pre = 0;
    m->ne = 0;
    while (m->ne < m->n && bm25_below(m->pre + m->B[m->ord[m->ne]], theta)) {
        m->pre += m->B[m->ord[m->ne]];
        m->ne++;
    }
    /* when the essential clauses alone cannot beat the threshold, a unit
     * must hold a non-essential one too: if those are the sparser, the
     * essential clauses leapfrog to them */
    double ess = 0;
    uint64_t ess_cost = 0, ne_cost = 0;
    for (size_t k = 0; k < m->n; k++) {
        if (k >= m->ne)
            ess += m->B[m->ord[k]];
        *(k >= m->ne ? &ess_cost : &ne_cost) += m->cl[m->ord[k]]->cost;
    }
    m->need_ne = m->ne > 0 && bm25_below(ess, theta) && ne_cost <= ess_cost;
    return 0;
}

/* Any clauses. */
static void run_nodes(ms *m)
{
    qalgo_run *r = m->r;
    qn_ctx *x = r->x;
    qk_collector *col = r->col;
    qn_node **cl = m->cl;
    uint32_t target = 0, upto;
    while (!x->corrupt && !x->oom) {
        if (window(m, target, &upto, qk_threshold(col))) {
            if (upto == QX_END)
                break;
            target = upto + 1;
            continue;
        }
        size_t ne = m->ne, n = m->n;
        /* an essential clause passes over the units where it alone (its
         * lead term's tf) plus every other clause's bound over the window
         * cannot beat the threshold of the window's start */
        double theta0 = qk_threshold(col);
        for (size_t k = ne; k < n; k++)
            qn_advance_above(x, cl[m->ord[k]], target, upto, m->sum - m->B[m->ord[k]], theta0);
        for (;;) {
            uint32_t d = QX_END;
            for (size_t k = ne; k < n; k++)
                if (cl[m->ord[k]]->doc < d)
                    d = cl[m->ord[k]]->doc;
            if (d > upto || x->corrupt || x->oom)
                break;
            if (m->need_ne) {   /* as in run_terms */
                uint32_t e = QX_END;
                for (size_t k = 0; k < ne && e > d; k++) {
                    uint32_t f = qn_advance(x, cl[m->ord[k]], d);
                    if (f < e)
                        e = f;
                }
                if (e > d) {   /* never past the window: its bounds say nothing of what follows */
                    uint32_t to = e <= upto ? e : upto + 1;
                    for (size_t k = ne; k < n; k++)
                        qn_advance(x, cl[m->ord[k]], to);
                    continue;
                }
            }
            double theta = qk_threshold(col), enter = qk_enter(col), s;
            /* while every match is still counted (theta -infinity) the
             * bound could only spare scoring a match that cannot enter,
             * and deciding whether a unit matches costs about what
             * scoring it does (a phrase reads the same positions): no bound */
            double bound = INFINITY;
            int ok = 1;
            if (theta > -INFINITY) {
                bound = m->pre;
                for (size_t k = ne; k < n; k++)
                    if (cl[m->ord[k]]->doc == d)
                        bound += qn_doc_ub(x, cl[m->ord[k]], d);
                ok = !bm25_below(bound, theta);
                for (size_t k = ne; ok && k-- > 0;) {
                    qn_node *c = cl[m->ord[k]];
                    bound -= m->B[m->ord[k]];
                    if (qn_advance(x, c, d) == d)
                        bound += qn_doc_ub(x, c, d);
                    ok = !bm25_below(bound, theta);
                }
            }
            if (ok && bm25_below(bound, enter)) {   /* cannot enter: only whether it matches */
                if (qn_match(x, r->root, d))
                    qk_count(col, d);
            } else if (ok && qalgo_match(r, d, &s))
                qk_collect(col, d, s);
            for (size_t k = ne; k < n; k++)
                if (cl[m->ord[k]]->doc == d)
                    qn_advance_above(x, cl[m->ord[k]], d + 1, upto, m->sum - m->B[m->ord[k]], theta0);
        }
        target = upto + 1;
    }
}

/* Every clause a single term: the same on the cursors. */
static void run_terms(ms *m)
{
    qalgo_run *r = m->r;
    qn_ctx *x = r->x;
    qk_collector *col = r->col;
    size_t n = m->n;
    qx_cursor **cur = qmalloc(n * sizeof *cur);
    double *w = qmalloc(n * sizeof *w);
    if (!cur || !w) {
        x->oom = 1;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        cur[i] = &m->cl[i]->cur[0];
        w[i] = m->cl[i]->w;
    }
    uint32_t target = 0, upto;
    while (!x->corrupt && !x->oom) {
        if (window(m, target, &upto, qk_threshold(col))) {
            if (upto == QX_END)
                break;
            target = upto + 1;
            continue;
        }
        size_t ne = m->ne;
        const size_t *ord = m->ord;
        for (size_t k = ne; k < n; k++)
            qx_advance(cur[ord[k]], target);
        for (;;) {
            uint32_t d = QX_END;
            for (size_t k = ne; k < n; k++)
                if (cur[ord[k]]->doc < d)
                    d = cur[ord[k]]->doc;
            if (d > upto || x->corrupt)
                break;
            if (m->need_ne) {
                /* a unit must hold a non-essential term too: move the
                 * essential ones up to the nearest of those */
                uint32_t e = QX_END;
                for (size_t k = 0; k < ne && e > d; k++) {
                    uint32_t f = qx_advance(cur[ord[k]], d);
                    if (f < e)
                        e = f;
                }
                if (e > d) {   /* never past the window: its bounds say nothing of what follows */
                    uint32_t to = e <= upto ? e : upto + 1;
                    for (size_t k = ne; k < n; k++)
                        qx_advance(cur[ord[k]], to);
                    continue;
                }
            }
            double theta = qk_threshold(col), enter = qk_enter(col);
            int score = 1;
            if (enter > -INFINITY) {
                double norm = x->normq[qx_unit_lenq(x->seg, d)], bound = m->pre;
                for (size_t k = ne; k < n; k++)
                    if (cur[ord[k]]->doc == d)
                        bound += bm25_score(w[ord[k]], qx_tf(cur[ord[k]]), norm);
                int ok = !bm25_below(bound, theta);
                for (size_t k = ne; ok && k-- > 0;) {   /* non-essential, highest bound first */
                    qx_cursor *c = cur[ord[k]];
                    bound -= m->B[ord[k]];
                    if (qx_advance(c, d) == d)
                        bound += bm25_score(w[ord[k]], qx_tf(c), norm);
                    ok = !bm25_below(bound, theta);
                }
                if (!ok)
                    score = 0;
                else if (m->pure && bm25_below(bound, enter)) {
                    qk_count(col, d);   /* a match that cannot enter: counted only */
                    score = 0;
                }
            }
            if (score) {
                double s;
                if (m->pure) {
                    /* the root's score, summed in the tree's order as qn_score does */
                    double norm = bm25_norm(&x->m, qx_unit_len(x->seg, d)), sum = 0;
                    for (size_t i = 0; i < n; i++)
                        if (qx_advance(cur[i], d) == d)
                            sum += bm25_score(w[i], qx_tf(cur[i]), norm);
                    qk_collect(col, d, 0 + sum);
                } else if (qalgo_match(r, d, &s))
                    qk_collect(col, d, s);
            }
            for (size_t k = ne; k < n; k++)
                if (cur[ord[k]]->doc == d)
                    qx_next(cur[ord[k]]);
        }
        target = upto + 1;
    }
done:
    free(cur);
    free(w);
}

void qalgo_maxscore(qalgo_run *r)
{
    ms m;
    memset(&m, 0, sizeof m);
    m.r = r;
    m.cl = qalgo_clauses(r->root, &m.n);
    m.B = qmalloc((m.n ? m.n : 1) * sizeof *m.B);
    m.ord = qmalloc((m.n ? m.n : 1) * sizeof *m.ord);
    m.byb = qmalloc((m.n ? m.n : 1) * sizeof *m.byb);
    if (!m.cl || !m.B || !m.ord || !m.byb) {
        r->x->oom = 1;
        goto done;
    }
    /* clauses absent from this segment never match: leave them out */
    size_t k = 0, nclauses = m.n;
    for (size_t i = 0; i < m.n; i++)
        if (!(m.cl[i]->kind == QN_LEAF && m.cl[i]->missing))
            m.cl[k++] = m.cl[i];
    m.n = k;
    m.terms = 1;
    for (size_t i = 0; i < m.n; i++)
        m.terms &= m.cl[i]->kind == QN_LEAF && m.cl[i]->nterms == 1 && m.cl[i]->field == QQ_FIELD_ANY;
    m.pure = m.terms && (r->root->kind == QN_LEAF || nclauses == r->root->nkids);
    if (m.terms && m.n)
        run_terms(&m);
    else
        run_nodes(&m);
done:
    free(m.cl);
    free(m.B);
    free(m.ord);
    free(m.byb);
}
