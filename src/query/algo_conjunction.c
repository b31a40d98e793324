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
 * beat the threshold, the window is skipped without decoding anything;
 * a single-term lead's blocks that its own bound rules out are passed
 * over in one walk of its skip entries (qn_pass_blocks).
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
 * units of a window are walked on the cursors directly. Before the
 * threshold is set (the first QUARRY_COUNT_EXACT matches, and every match
 * of a query that has fewer), a window of a query that is only its terms
 * is intersected a block at a time (count_block): the lead's units merged
 * with, or looked up in, each other term's decoded blocks. Once the
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
    size_t *pos;             /* pure: root kid k is req[pos[k]] */
} conj;

/* Bounds the window [from, *last] (the lead's skip block that holds the
 * first unit >= from): 1 when it can be skipped. *last = QX_END when the
 * lead has no unit left. */
static int window(conj *c, uint32_t from, uint32_t *last, double theta)
{
    qn_ctx *x = c->r->x;
    uint32_t upto = QX_END;
    /* a single-term lead's blocks that its bound alone rules out (the
     * others counting with their bound in the segment), passed over in
     * one walk of its skip entries */
    if (c->lead_term && theta > -INFINITY) {
        if (qn_pass_blocks(x, c->req[0], from, c->seg_bound - c->req[0]->ub, theta, last))
            return 1;
        upto = *last;   /* the lead's block that its bound did not rule out */
    } else if (c->lead_term)   /* the window is the lead's block: its end from the skip entry */
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

/* A unit where the lead and every other required term are, the terms'
 * tfs known (tf[k]: req[k]'s): bounds, then scores it. */
static void matched_tf(conj *c, const double *w, uint32_t d, const uint32_t *tf)
{
    qalgo_run *r = c->r;
    qn_ctx *x = r->x;
    qk_collector *col = r->col;
    size_t n = c->nreq;
    double theta = qk_threshold(col), enter = qk_enter(col);
    if (enter > -INFINITY) {
        double norm = x->normq[qx_unit_lenq(x->seg, d)], bound = c->opt_bound;
        for (size_t k = 0; k < n; k++)
            bound += bm25_score(w[k], tf[k], norm);
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
            sum += bm25_score(r->root->kids[k]->w, tf[c->pos[k]], norm);
        qk_collect(col, d, 0 + sum);
    } else if (qalgo_match(r, d, &s))
        qk_collect(col, d, s);
}

/* The same with the terms' cursors at d (run_terms). */
static void matched(conj *c, qx_cursor **cur, const double *w, uint32_t d)
{
    uint32_t tf[64];
    for (size_t k = 0; k < c->nreq; k++)
        tf[k] = qx_tf(cur[k]);
    matched_tf(c, w, d, tf);
}

/* The counting phase of up to COUNT_TERMS single terms (no threshold yet:
 * every match is counted, and scored while it can enter), over the rest of
 * the lead's block: its units are the candidates; each other term keeps
 * those it holds, a block of it at a time, by merging its decoded docs with
 * them without branching on the docs, or, where its block holds more than
 * COUNT_MERGE docs per candidate, by looking each one up (qx_advance; a
 * bitmap block not decoded answers from its bits); the matches are then
 * scored in order. The leapfrog this replaces met a mispredicted search on
 * both sides at every candidate; this way the SBG AND set takes 0.96 of
 * its time on the million distinct documents (sums of per-query medians;
 * minima 0.95), its pairs of about equally common words 0.82
 * (bench/ab-count-block.md). Returns where
 * the next window starts (QX_END: a term has no unit left). */
#define COUNT_TERMS 8
#define COUNT_MERGE 8
static uint32_t count_block(conj *c, qx_cursor **cur, const double *w)
{
    qx_cursor *lead = cur[0];
    size_t n = c->nreq;
    if (qx_decode_docs(lead, lead->n - 1))
        return QX_END;
    /* the candidates: their docs, their index in the lead's block, and the
     * tfs of the terms that hold them so far */
    uint32_t doc[QC_BLOCK], at[QC_BLOCK], tf[COUNT_TERMS][QC_BLOCK], m = 0;
    for (uint32_t j = lead->i; j < lead->n; j++, m++) {
        doc[m] = lead->docs[j];
        at[m] = j;
    }
    uint32_t last = lead->docs[lead->n - 1];
    int ended = 0;
    for (size_t t = 1; t < n && m; t++) {
        qx_cursor *f = cur[t];
        uint32_t k = 0, out = 0;
        while (k < m && f->doc != QX_END) {
            int bits = f->bitmap && f->ndec == 0;
            if (!bits && f->ndec < f->n && qx_decode_docs(f, f->n - 1))
                break;   /* (damaged: it is at QX_END) */
            uint32_t lim = bits ? f->last : f->dmax;
            if (f->doc < doc[k] && lim < doc[k]) {   /* to its block that holds the first doc >= doc[k] */
                uint32_t e = qx_advance(f, doc[k]);
                while (k < m && doc[k] < e)
                    k++;
                continue;
            }
            uint32_t end = k;   /* the candidates its block may hold: [k, end) */
            while (end < m && doc[end] <= lim)
                end++;
            /* its matches: candidate mk[h], at mj[h] in its block, its tf mtf[h] */
            uint32_t mk[QC_BLOCK + 1], mj[QC_BLOCK + 1], mtf[QC_BLOCK], nm = 0;
            if (bits || f->ndec - f->i > COUNT_MERGE * (end - k)) {
                for (; k < end; k++)
                    if (qx_advance(f, doc[k]) == doc[k]) {
                        mk[nm] = k;
                        mtf[nm++] = qx_tf(f);
                    }
            } else {
                uint32_t j = f->i, nd = f->ndec;
                const uint32_t *fd = f->docs;
                while (k < end && j < nd) {   /* (each step moves one side or both) */
                    uint32_t a = doc[k], b = fd[j];
                    mk[nm] = k;
                    mj[nm] = j;
                    nm += a == b;
                    k += a <= b;
                    j += b <= a;
                }
                k = end;   /* (its block's last doc is >= every one of them) */
                for (uint32_t h = 0; h < nm; h++) {
                    qx_move_to(f, mj[h]);
                    mtf[h] = qx_tf(f);
                }
                qx_move_to(f, j < nd ? j : nd - 1);   /* past the candidates looked at */
            }
            for (uint32_t h = 0; h < nm; h++) {
                uint32_t from = mk[h];
                doc[out] = doc[from];
                at[out] = at[from];
                for (size_t g = 1; g < t; g++)
                    tf[g][out] = tf[g][from];
                tf[t][out++] = mtf[h];
            }
        }
        m = out;
        ended |= f->doc == QX_END;   /* no match past this block */
    }
    uint32_t v[COUNT_TERMS];
    for (uint32_t k = 0; k < m; k++) {
        qx_move_to(lead, at[k]);
        v[0] = qx_tf(lead);
        for (size_t g = 1; g < n; g++)
            v[g] = tf[g][k];
        matched_tf(c, w, doc[k], v);
    }
    qx_move_to(lead, lead->n - 1);
    return ended ? QX_END : last + 1;
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
        if (c->pure && n <= COUNT_TERMS && c->rest_bound == INFINITY && d <= last) {
            uint32_t next = count_block(c, cur, w);
            if (last == QX_END || next == QX_END)
                break;
            target = next;
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
               qmalloc(nk * sizeof *c.each), 0, 0, NULL };
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
    if (c.pure) {
        if (!(c.pos = qmalloc(nk * sizeof *c.pos))) {
            r->x->oom = 1;
            goto done;
        }
        for (size_t k = 0; k < root->nkids; k++)
            for (size_t j = 0; j < c.nreq; j++)
                if (c.req[j] == root->kids[k])
                    c.pos[k] = j;
    }
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
    free(c.pos);
}
