/*
 * node.c — moving and scoring the scorer tree (node.h): exact scores,
 * approximations, and the doc-level and block-level upper bounds that the
 * pruning algorithms use. No allocation here: cursors decode into their
 * own block buffers.
 */
#include "query/node.h"

#include <math.h>
#include <stdlib.h>

#include "query/parse.h"

/* A phrase's pair check (others_to): on when its third rarest term is in
 * 1/PAIR_DENSE of the segment's units or more; made at the units where
 * ord[0] occurs at most PAIR_TF times; off for the rest of the segment
 * when 1/PAIR_KEEP or more of PAIR_TRIAL units checked in a row pass. */
#define PAIR_DENSE 8
#define PAIR_TF 6
#define PAIR_TRIAL 256
#define PAIR_KEEP 4

static inline double leaf_norm(const qn_ctx *x, uint32_t d)
{
    return bm25_norm(&x->m, qx_unit_len(x->seg, d));
}

/* ------------------------------------------------------------ leaves */

/* Can the lead and ord[0] (both on the unit) be where the phrase puts
 * them: does some position p of the lead have p + pair_delta among
 * ord[0]'s? A necessary condition of a match; 1 when the positions cannot
 * be read (the full check then meets the damage and reports it). */
static int pair_possible(qn_node *n)
{
    qx_cursor *a = &n->cur[n->lead], *b = &n->cur[n->ord[0]];
    const uint32_t *pa = qx_positions(a), *pb = pa ? qx_positions(b) : NULL;
    if (!pb)
        return 1;
    uint32_t ta = qx_tf(a), tb = qx_tf(b);
    int64_t delta = n->pair_delta;
    for (uint32_t i = 0, j = 0; i < ta && j < tb;) {
        int64_t want = (int64_t)pa[i] + delta;
        if ((int64_t)pb[j] < want)
            j++;
        else if ((int64_t)pb[j] > want)
            i++;
        else
            return 1;
    }
    return 0;
}

/* Moves the leaf's other cursors (not the lead's) to d, rarest first,
 * stopping at the first that passes it: d when all are on d, else a unit
 * past d where the next candidate may be. With `pair`, a phrase with
 * n->pair checks the positions of its two rarest terms before the denser
 * ones move: most units that hold a phrase's rare words do not hold them
 * where the phrase does, and the dense words' cursors (stop words: bitmap
 * blocks) then do not move, nor are their many positions read. Not where
 * ord[0] occurs more than PAIR_TF times (its positions would cost more
 * than the cursors they spare), and no longer in the segment once a
 * quarter of PAIR_TRIAL checked units pass (the check only costs then).
 * Only leaf_advance asks for it: qn_advance_above's units have a
 * threshold to pass, and a bound from term frequencies, which reads no
 * positions, comes first there. */
static uint32_t others_to(qn_node *n, uint32_t d, int pair)
{
    uint32_t next = d;
    size_t k = 0;
    if (pair && n->pair) {
        if ((next = qx_advance(&n->cur[n->ord[0]], d)) != d)
            return next;
        if (qx_tf(&n->cur[n->ord[0]]) > PAIR_TF)
            goto rest;
        int ok = pair_possible(n);
        n->pair_kept += (uint32_t)ok;
        if (++n->pair_tries == PAIR_TRIAL) {   /* most units pass: the check only costs */
            n->pair = n->pair_kept * PAIR_KEEP < PAIR_TRIAL;
            n->pair_tries = n->pair_kept = 0;
        }
        if (!ok)
            return d + 1;
    rest:
        k = 1;
    }
    for (; k < n->nord && next == d; k++)
        next = qx_advance(&n->cur[n->ord[k]], d);
    return next;
}

/* Are all the leaf's cursors on d? Moves them there. */
static int leaf_on(qn_node *n, uint32_t d)
{
    return !n->missing && qx_advance(&n->cur[n->lead], d) == d && others_to(n, d, 0) == d;
}

double qn_leaf_score(qn_ctx *x, const qn_node *n, uint32_t d, uint32_t f)
{
    return bm25_score(n->w, f, leaf_norm(x, d));
}

static int leaf_score(qn_ctx *x, qn_node *n, uint32_t d, double *score)
{
    if (!leaf_on(n, d))
        return 0;
    uint32_t f = n->nterms == 1 && n->field == QQ_FIELD_ANY ? qx_tf(&n->cur[0]) : qn_phrase_freq(x, n, d, UINT32_MAX);
    if (!f)
        return 0;
    *score += qn_leaf_score(x, n, d, f);
    return 1;
}

static uint32_t leaf_advance(qn_node *n, uint32_t target)
{
    if (n->missing)
        return n->doc = QX_END;
    qx_cursor *lead = &n->cur[n->lead];
    /* the next unit (the walks ask for d + 1 after each candidate): read
     * in order, which decodes the lead's block once, not sought in it */
    uint32_t d = lead->doc != QX_END && target == lead->doc + 1 ? qx_next(lead) : qx_advance(lead, target);
    while (d != QX_END) {
        uint32_t next = others_to(n, d, 1);
        if (next == d)
            break;
        d = qx_advance(lead, next);
    }
    return n->doc = d;
}

/* The smallest tf of the leaf's terms at d (cursors on d): bounds the phrase frequency. */
static uint32_t leaf_min_tf(const qn_node *n)
{
    uint32_t f = qx_tf(&n->cur[0]);
    for (size_t i = 1; i < n->nterms; i++)
        if (!qn_repeat(n, i) && qx_tf(&n->cur[i]) < f)
            f = qx_tf(&n->cur[i]);
    return f;
}

/* The highest score a posting dominated by one of the impacts can have. */
static double impacts_max(const bm25 *m, double w, const qim_pair *v, uint32_t n)
{
    double best = 0;
    for (uint32_t i = 0; i < n; i++) {
        double s = bm25_score(w, v[i].tf, bm25_norm(m, v[i].len));
        if (s > best)
            best = s;
    }
    return best;
}

/* A phrase occurs at most as often as each of its terms, in the same unit:
 * its score is bounded by every term's bound; the lowest is kept. */
static double leaf_block_ub(qn_ctx *x, qn_node *n, uint32_t from, uint32_t *upto)
{
    if (n->missing)
        return 0;
    if (n->nterms == 1) {   /* one term: its block's bound, computed once per block */
        qx_cursor *c = &n->cur[0];
        uint32_t last, k;
        const qim_pair *v = qx_shallow(c, from, &last, &k);
        if (!v) {
            x->corrupt |= c->corrupt;
            return 0;
        }
        if (last < *upto)
            *upto = last;
        uint64_t key = c->skips ? c->sblk + 1 : UINT64_MAX;
        if (n->bblk != key) {
            n->bblk = key;
            n->bval = impacts_max(&x->m, n->w, v, k);
        }
        return n->bval;
    }
    uint32_t end = QX_END;
    double ub = INFINITY;
    for (size_t i = 0; i < n->nterms; i++) {
        if (qn_repeat(n, i))
            continue;
        uint32_t last, k;
        const qim_pair *v = qx_shallow(&n->cur[i], from, &last, &k);
        if (!v) {   /* a term has no unit left from here (or damage): no match */
            x->corrupt |= n->cur[i].corrupt;
            return 0;
        }
        if (last < end)
            end = last;
        double b = impacts_max(&x->m, n->w, v, k);
        if (b < ub)
            ub = b;
    }
    if (end < *upto)
        *upto = end;
    return ub;
}

/* Past this many blocks a range bound is the term's own bound (cheaper,
 * and as good when the range is that wide). */
#define RANGE_BLOCKS 16

/* A term's bound (weight w) over blocks [b0, b1] of its cursor: the
 * largest of theirs, or the term's own past RANGE_BLOCKS blocks. -1 (and
 * x->corrupt) when damaged. */
static double term_range_max(qn_ctx *x, double w, qx_cursor *c, uint64_t b0, uint64_t b1)
{
    if (b1 - b0 >= RANGE_BLOCKS)
        return impacts_max(&x->m, w, c->t.imp, c->t.nimp);
    double m = 0;
    for (uint64_t k = b0; k <= b1; k++) {
        uint32_t np;
        const qim_pair *p = qx_impacts_of(c, k, &np);
        if (!p) {
            x->corrupt = 1;
            return -1;
        }
        double b = impacts_max(&x->m, w, p, np);
        if (b > m)
            m = b;
    }
    return m;
}

int qn_pass_blocks(qn_ctx *x, qn_node *n, uint32_t from, double rest, double theta, uint32_t *last)
{
    qx_cursor *c = &n->cur[0];
    uint64_t b0, b1;
    *last = QX_END;
    if (n->missing || qx_blocks_in(c, from, from, &b0, &b1))
        return 1;
    /* a block is passed over when each of its impacts scores at most lim
     * (then bm25_below(rest + its score, theta)): w f <= lim (f + norm),
     * without a division per pair; the rounding this differs by is far
     * below bm25_below's margin */
    double lim = theta / BM25_SLACK - rest, w = n->w;
    uint64_t b = b0, nb = qx_nblocks(c);
    for (; b < nb; b++) {
        uint32_t np;
        const qim_pair *p = qx_impacts_of(c, b, &np);
        if (!p) {
            x->corrupt = 1;
            return 1;
        }
        int over = 0;
        for (uint32_t i = 0; i < np; i++)
            over |= w * p[i].tf > lim * ((double)p[i].tf + bm25_norm(&x->m, p[i].len));
        if (over)
            break;
    }
    if (b == b0) {
        *last = qx_block_end(c, b0);
        return 0;
    }
    if (b < nb)
        *last = qx_block_end(c, b - 1);
    return 1;
}

static double leaf_range_ub(qn_ctx *x, qn_node *n, uint32_t from, uint32_t to)
{
    if (n->missing)
        return 0;
    double ub = INFINITY;
    for (size_t i = 0; i < n->nterms; i++) {
        if (qn_repeat(n, i))
            continue;
        uint64_t b0, b1;
        if (qx_blocks_in(&n->cur[i], from, to, &b0, &b1))
            return 0;   /* a term has no unit left from here: no match */
        double b = term_range_max(x, n->w, &n->cur[i], b0, b1);
        if (b < 0)
            return 0;
        if (b < ub)
            ub = b;
    }
    return ub;
}

/* ------------------------------------------------------------ groups */

int qn_score(qn_ctx *x, qn_node *n, uint32_t d, double *score)
{
    if (n->kind == QN_LEAF)
        return leaf_score(x, n, d, score);
    if (n->kind != QN_BOOL)
        return 0;
    double s = 0, dummy = 0;
    int any = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        qn_node *k = n->kids[i];
        if (k->occur == QQ_MUST_NOT) {
            if (qn_score(x, k, d, &dummy))
                return 0;
        } else if (k->occur == QQ_MUST) {
            if (!qn_score(x, k, d, &s))
                return 0;
        } else {
            any |= qn_score(x, k, d, &s);
        }
    }
    if (!n->has_must && !any)
        return 0;
    *score += s;
    return 1;
}

static uint32_t advance_now(qn_ctx *x, qn_node *n, uint32_t target)
{
    if (n->kind == QN_LEAF)
        return leaf_advance(n, target);
    if (n->kind != QN_BOOL)
        return n->doc = QX_END;
    if (n->has_must) {
        /* leapfrog over the MUST kids, the cheapest first (kids[0] after
         * tree.c's ordering of `lead`) */
        qn_node *lead = n->kids[n->lead];
        uint32_t d = qn_advance(x, lead, target);
        while (d != QX_END) {
            uint32_t next = d;
            for (size_t i = 0; i < n->nkids && next == d; i++) {
                qn_node *k = n->kids[i];
                if (k != lead && k->occur == QQ_MUST)
                    next = qn_advance(x, k, d);
            }
            if (next == d)
                break;
            d = qn_advance(x, lead, next);
        }
        return n->doc = d;
    }
    uint32_t d = QX_END;
    for (size_t i = 0; i < n->nkids; i++) {
        qn_node *k = n->kids[i];
        if (k->occur != QQ_SHOULD)
            continue;
        uint32_t kd = qn_advance(x, k, target);
        if (kd < d)
            d = kd;
    }
    return n->doc = d;
}

int qn_match(qn_ctx *x, qn_node *n, uint32_t d)
{
    if (n->kind == QN_LEAF)
        return leaf_on(n, d) && (n->nterms == 1 && n->field == QQ_FIELD_ANY ? 1 : qn_phrase_freq(x, n, d, 1) > 0);
    if (n->kind != QN_BOOL)
        return 0;
    int any = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        qn_node *k = n->kids[i];
        if (k->occur == QQ_MUST_NOT) {
            if (qn_match(x, k, d))
                return 0;
        } else if (k->occur == QQ_MUST) {
            if (!qn_match(x, k, d))
                return 0;
        } else if (!any)
            any = qn_match(x, k, d);
    }
    return n->has_must || any;
}

uint32_t qn_advance(qn_ctx *x, qn_node *n, uint32_t target)
{
    return n->doc >= target ? n->doc : advance_now(x, n, target);
}

uint32_t qn_advance_above(qn_ctx *x, qn_node *n, uint32_t target, uint32_t upto, double rest, double theta)
{
    if (n->doc >= target)
        return n->doc;
    if (n->kind != QN_LEAF || n->missing || theta == -INFINITY)
        return advance_now(x, n, target);
    qx_cursor *lead = &n->cur[n->lead];
    uint32_t d = qx_advance(lead, target);
    while (d <= upto) {
        /* the leaf occurs at most tf(lead) times in d: its score is at
         * most that of tf(lead) occurrences */
        if (bm25_below(bm25_score(n->w, qx_tf(lead), x->normq[qx_unit_lenq(x->seg, d)]) + rest, theta)) {
            d = qx_next(lead);
            continue;
        }
        uint32_t next = others_to(n, d, 0);
        if (next == d)
            return n->doc = d;
        d = qx_advance(lead, next);
    }
    return leaf_advance(n, d);   /* past the window (or the end): unfiltered */
}

double qn_doc_ub(qn_ctx *x, qn_node *n, uint32_t d)
{
    if (n->kind == QN_LEAF) {
        if (!leaf_on(n, d))
            return 0;
        return bm25_score(n->w, leaf_min_tf(n), x->normq[qx_unit_lenq(x->seg, d)]);
    }
    if (n->kind != QN_BOOL)
        return 0;
    double s = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        qn_node *k = n->kids[i];
        if (k->occur == QQ_MUST_NOT)
            continue;
        if (qn_advance(x, k, d) != d) {
            if (k->occur == QQ_MUST)
                return 0;
            continue;
        }
        s += qn_doc_ub(x, k, d);
    }
    return s;
}

double qn_block_ub(qn_ctx *x, qn_node *n, uint32_t from, uint32_t *upto)
{
    if (n->kind == QN_LEAF)
        return leaf_block_ub(x, n, from, upto);
    if (n->kind != QN_BOOL)
        return 0;
    double s = 0;
    for (size_t i = 0; i < n->nkids; i++)
        if (n->kids[i]->occur != QQ_MUST_NOT)
            s += qn_block_ub(x, n->kids[i], from, upto);
    return s;
}

void qn_block_end(qn_ctx *x, qn_node *n, uint32_t from, uint32_t *upto)
{
    if (n->kind == QN_LEAF) {
        if (n->missing)
            return;
        uint32_t end = QX_END;
        for (size_t i = 0; i < n->nterms; i++) {
            if (qn_repeat(n, i))
                continue;
            uint32_t last = qx_block_last(&n->cur[i], from);
            if (last == QX_END) {   /* no unit left from here (or damage): no match */
                x->corrupt |= n->cur[i].corrupt;
                return;
            }
            if (last < end)
                end = last;
        }
        if (end < *upto)
            *upto = end;
        return;
    }
    if (n->kind != QN_BOOL)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        if (n->kids[i]->occur != QQ_MUST_NOT)
            qn_block_end(x, n->kids[i], from, upto);
}

double qn_range_ub(qn_ctx *x, qn_node *n, uint32_t from, uint32_t to)
{
    if (n->kind == QN_LEAF)
        return leaf_range_ub(x, n, from, to);
    if (n->kind != QN_BOOL)
        return 0;
    double s = 0;
    for (size_t i = 0; i < n->nkids; i++)
        if (n->kids[i]->occur != QQ_MUST_NOT)
            s += qn_range_ub(x, n->kids[i], from, to);
    return s;
}

void qn_ctx_init(qn_ctx *x, double k1, double b, double n, double avglen)
{
    memset(x, 0, sizeof *x);
    bm25_init(&x->m, k1, b, n, avglen);
    for (int q = 0; q < 256; q++)
        x->normq[q] = bm25_norm(&x->m, qf_lenq_decode((uint8_t)q));
}

/* qn_prepare; the node is moved to its first approximation when `place`. */
static void prepare(qn_ctx *x, qn_node *n, int place)
{
    if (n->kind == QN_LEAF) {
        if (n->missing) {
            n->ub = 0;
            n->cost = 0;
            n->doc = QX_END;
            return;
        }
        double ub = INFINITY;
        uint64_t cost = UINT64_MAX;
        for (size_t i = 0; i < n->nterms; i++) {
            if (qn_repeat(n, i))
                continue;
            const qx_term *t = &n->cur[i].t;
            double b = impacts_max(&x->m, n->w, t->imp, t->nimp);
            if (b < ub)
                ub = b;
            if (t->df < cost) {
                cost = t->df;
                n->lead = i;
            }
        }
        /* the others by df (insertion sort: few terms) */
        n->nord = 0;
        for (size_t i = 0; i < n->nterms; i++) {
            if (i == n->lead || qn_repeat(n, i))
                continue;
            size_t j = n->nord++;
            while (j && n->cur[n->ord[j - 1]].t.df > n->cur[i].t.df) {
                n->ord[j] = n->ord[j - 1];
                j--;
            }
            n->ord[j] = (uint32_t)i;
        }
        /* a phrase of three words or more whose third rarest is in an
         * eighth of the units or more: its two rarest words' positions
         * first (others_to) */
        n->pair = n->nterms >= 3 && n->nord >= 2 && n->cur[n->ord[1]].t.df >= x->seg->nunits / PAIR_DENSE;
        if (n->pair)
            n->pair_delta = (int64_t)n->relpos[n->ord[0]] - (int64_t)n->relpos[n->lead];   /* (their first places) */
        n->pair_tries = n->pair_kept = 0;
        n->ub = ub;
        n->cost = cost;
        n->bblk = 0;
        leaf_advance(n, 0);
        return;
    }
    if (n->kind != QN_BOOL) {
        n->ub = 0;
        n->cost = 0;
        n->doc = QX_END;
        return;
    }
    double ub = 0;
    uint64_t cost = n->has_must ? UINT64_MAX : 0;
    for (size_t i = 0; i < n->nkids; i++) {
        qn_node *k = n->kids[i];
        prepare(x, k, 1);
        if (k->occur == QQ_MUST_NOT)
            continue;
        ub += k->ub;
        if (k->occur == QQ_MUST && k->cost < cost) {
            cost = k->cost;
            n->lead = i;
        } else if (!n->has_must && k->occur == QQ_SHOULD)
            cost += k->cost;
    }
    n->ub = ub;
    n->cost = cost;
    if (place)
        advance_now(x, n, 0);
    else
        n->doc = 0;
}

void qn_prepare(qn_ctx *x, qn_node *root)
{
    prepare(x, root, root->kind == QN_LEAF);
}
