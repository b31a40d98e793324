/*
 * node.c — moving and scoring the scorer tree (node.h): exact scores,
 * approximations, and the doc-level and block-level upper bounds that the
 * pruning algorithms use. No allocation here: cursors decode into their
 * own block buffers.
 */
#include "query/node.h"

#include "query/parse.h"

static inline double leaf_norm(const qn_ctx *x, uint32_t d)
{
    return bm25_norm(&x->m, qx_unit_len(x->seg, d));
}

/* ------------------------------------------------------------ leaves */

/* Are all the leaf's cursors on d? Moves them there. */
static int leaf_on(qn_node *n, uint32_t d)
{
    if (n->missing)
        return 0;
    for (size_t i = 0; i < n->nterms; i++)
        if (qx_advance(&n->cur[i], d) != d)
            return 0;
    return 1;
}

static int leaf_score(qn_ctx *x, qn_node *n, uint32_t d, double *score)
{
    if (!leaf_on(n, d))
        return 0;
    uint32_t f = n->nterms == 1 && n->field == QQ_FIELD_ANY ? qx_tf(&n->cur[0]) : qn_phrase_freq(x, n, d);
    if (!f)
        return 0;
    *score += bm25_score(n->w, f, leaf_norm(x, d));
    return 1;
}

static uint32_t leaf_advance(qn_node *n, uint32_t target)
{
    if (n->missing)
        return n->doc = QX_END;
    qx_cursor *lead = &n->cur[n->lead];
    uint32_t d = qx_advance(lead, target);
    while (d != QX_END) {
        uint32_t next = d;
        for (size_t i = 0; i < n->nterms && next == d; i++)
            if (i != n->lead)
                next = qx_advance(&n->cur[i], d);
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
        if (qx_tf(&n->cur[i]) < f)
            f = qx_tf(&n->cur[i]);
    return f;
}

static double leaf_block_ub(qn_ctx *x, qn_node *n, uint32_t from, uint32_t *upto)
{
    if (n->missing)
        return 0;
    uint32_t end = QX_END, mtf = UINT32_MAX, mlen = 0;
    for (size_t i = 0; i < n->nterms; i++) {
        uint32_t last, tf, len;
        if (qx_shallow(&n->cur[i], from, &last, &tf, &len))
            return 0;   /* a term has no unit left from here: no match */
        if (last < end)
            end = last;
        if (tf < mtf)
            mtf = tf;
        if (len > mlen)
            mlen = len;
    }
    if (end < *upto)
        *upto = end;
    return bm25_score(n->w, mtf, bm25_norm(&x->m, mlen));
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

uint32_t qn_advance(qn_ctx *x, qn_node *n, uint32_t target)
{
    return n->doc >= target ? n->doc : advance_now(x, n, target);
}

double qn_doc_ub(qn_ctx *x, qn_node *n, uint32_t d)
{
    if (n->kind == QN_LEAF) {
        if (!leaf_on(n, d))
            return 0;
        return bm25_score(n->w, leaf_min_tf(n), leaf_norm(x, d));
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

void qn_prepare(qn_ctx *x, qn_node *n)
{
    if (n->kind == QN_LEAF) {
        if (n->missing) {
            n->ub = 0;
            n->cost = 0;
            n->doc = QX_END;
            return;
        }
        uint32_t mtf = UINT32_MAX, mlen = 0;
        uint64_t cost = UINT64_MAX;
        for (size_t i = 0; i < n->nterms; i++) {
            const qx_term *t = &n->cur[i].t;
            if (t->max_tf < mtf)
                mtf = t->max_tf;
            if (t->min_len > mlen)
                mlen = t->min_len;
            if (t->df < cost) {
                cost = t->df;
                n->lead = i;
            }
        }
        n->ub = bm25_score(n->w, mtf, bm25_norm(&x->m, mlen));
        n->cost = cost;
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
        qn_prepare(x, k);
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
    advance_now(x, n, 0);
}
