/*
 * explain.c — quarry_explain: why a passage scored what it scored. It owns
 * the explanation records of quarry.h and nothing else.
 *
 * The results keep their query's scorer tree (the plan, search.h). To
 * explain a passage, the tree is bound to the passage's segment (its
 * cursors reopened there, so passages can be explained in any order) and
 * walked as qn_score walks it: a group matches when all its MUST kids do,
 * none of its MUST_NOT kids does and (without MUST kids) one SHOULD kid
 * does; a matching leaf contributes bm25_score(w, tf, norm(len)). Each
 * leaf that contributes becomes a clause (those of a group that fails in
 * the end are dropped again), and the total is added up in the same order
 * and grouping as the search adds it, so it is the very score the search
 * gave, to the last bit. The collection statistics (N, average length,
 * each term's df over live units) are those the search used: the tree's.
 */
#include <stdlib.h>

#include "query/parse.h"
#include "base/sys.h"
#include "query/search.h"

typedef struct ex {
    quarry_explanation e;
    qn_ctx *x;
    const struct quarry_plan *p;
    uint32_t len;               /* the passage's length */
    quarry_explain_clause *cl;
    size_t ncl, cap_cl;
    quarry_explain_word *w;
    size_t nw, cap_w;
    qbuf text;                  /* the strings; offsets until the end */
    int oom;
} ex;

/* The boost of a root kid of an expanded query (its index), or how many
 * clauses of its group the leaf stands for (a repeated term: tree.c). */
static void leaf_boost(const ex *e, const qn_node *n, quarry_explain_clause *c)
{
    const struct quarry_plan *p = e->p;
    c->boost = n->repeat;
    if (!p->expanded)
        return;
    for (size_t i = 0; i < p->nkids && i < p->t.root->nkids; i++)
        if (p->t.root->kids[i] == n) {
            c->boost = p->boost[i];
            c->query_weight = p->wq[i];
            c->feedback_weight = p->wf[i];
            c->expansion = p->wq[i] == 0;
            return;
        }
}

static void add_clause(ex *e, const qn_node *n, uint32_t tf, double norm, double score)
{
    if (qgrow((void **)&e->cl, &e->cap_cl, e->ncl, sizeof *e->cl)) {
        e->oom = 1;
        return;
    }
    quarry_explain_clause *c = &e->cl[e->ncl];
    memset(c, 0, sizeof *c);
    c->text = (const char *)(uintptr_t)e->text.len;   /* an offset until the end */
    /* the words (a phrase read by its pair terms keeps them apart) */
    size_t nw = n->words ? n->nwords : n->nterms;
    char *const *words = n->words ? n->words : n->terms;
    const uint32_t *relpos = n->words ? n->wrelpos : n->relpos;
    const uint64_t *df = n->words ? n->wdf : n->df;
    if (n->field == QQ_FIELD_TITLE)
        qbuf_printf(&e->text, "title:");
    if (nw > 1)
        qbuf_putc(&e->text, '"');
    for (size_t i = 0; i < nw; i++)
        qbuf_printf(&e->text, "%s%s", i ? " " : "", words[i]);
    if (nw > 1)
        qbuf_putc(&e->text, '"');
    qbuf_putc(&e->text, 0);
    c->title = n->field == QQ_FIELD_TITLE;
    c->nwords = nw;
    c->words = (const quarry_explain_word *)(uintptr_t)e->nw;   /* an index until the end */
    double idf = 0;
    for (size_t i = 0; i < nw; i++) {
        if (qgrow((void **)&e->w, &e->cap_w, e->nw, sizeof *e->w)) {
            e->oom = 1;
            return;
        }
        quarry_explain_word *w = &e->w[e->nw++];
        w->term = (const char *)(uintptr_t)e->text.len;
        qbuf_printf(&e->text, "%s", words[i]);
        qbuf_putc(&e->text, 0);
        w->offset = relpos[i];
        w->df = df[i];
        w->idf = bm25_idf(&e->x->m, (double)df[i]);
        idf += w->idf;   /* as tree.c adds them up */
    }
    c->tf = tf;
    c->idf = idf;
    leaf_boost(e, n, c);
    c->weight = n->w;
    c->norm = norm;
    c->score = score;
    e->ncl++;
}

/* qn_score of node.c, recording the contributions. */
static int walk(ex *e, qn_node *n, uint32_t d, double *score)
{
    qn_ctx *x = e->x;
    if (n->kind == QN_LEAF) {
        double s = 0;
        if (!qn_score(x, n, d, &s))
            return 0;
        /* the cursors are on d: the frequency the score used */
        uint32_t f = n->nterms == 1 && n->field == QQ_FIELD_ANY ? qx_tf(&n->cur[0])
                                                                 : qn_phrase_freq(x, n, d, UINT32_MAX);
        double norm = bm25_norm(&x->m, e->len), c = bm25_score(n->w, f, norm);
        add_clause(e, n, f, norm, c);
        *score += c;
        return 1;
    }
    if (n->kind != QN_BOOL)
        return 0;
    size_t ncl = e->ncl, nw = e->nw;
    double s = 0, dummy = 0;
    int any = 0, ok = 1;
    for (size_t i = 0; i < n->nkids && ok; i++) {
        qn_node *k = n->kids[i];
        if (k->occur == QQ_MUST_NOT)
            ok = !qn_score(x, k, d, &dummy);
        else if (k->occur == QQ_MUST)
            ok = walk(e, k, d, &s);
        else
            any |= walk(e, k, d, &s);
    }
    if (!ok || (!n->has_must && !any)) {
        e->ncl = ncl;   /* the group does not match: its clauses do not count */
        e->nw = nw;
        return 0;
    }
    *score += s;
    return 1;
}

int quarry_explain(quarry_index *ix, quarry_results *r, uint32_t passage, quarry_explanation **out,
                   quarry_error *err)
{
    if (!ix || !r || !out)
        return qerr_set(err, QUARRY_EINVAL, "quarry_explain: index, results and out are required");
    struct quarry_plan *p = r->plan;
    if (!p || !p->t.root || p->ix != ix || p->t.nseg != ix->nseg)
        return qerr_set(err, QUARRY_EINVAL, "quarry_explain: these results do not come from quarry_search on this index");
    if (passage >= ix->nunits)
        return qerr_set(err, QUARRY_ENOTFOUND, "no passage %lu (the index has %llu)", (unsigned long)passage,
                        (unsigned long long)ix->nunits);
    const qx_seg *s = qx_seg_of_unit(ix, passage);
    size_t si = (size_t)(s - ix->seg);
    uint32_t u = passage - s->unit_base;
    if (qx_deleted(s, u))
        return qerr_set(err, QUARRY_ENOTFOUND, "passage %lu is deleted", (unsigned long)passage);
    uint32_t a = qx_unit_article(s, u);
    if (a >= s->narts)
        return qx_bad(s, &s->unit, 0, "a unit names an article out of range", err);
    qn_ctx x;
    qn_ctx_init(&x, p->k1, p->b, p->n, p->avglen);
    int rc = qt_bind(&p->t, ix, si, &x, err);
    if (rc)
        return rc;
    ex e;
    memset(&e, 0, sizeof e);
    qbuf_init(&e.text);
    e.x = &x;
    e.p = p;
    e.len = qx_unit_len(s, u);
    double score = 0;
    int match = walk(&e, p->t.root, u, &score);
    if (x.oom || e.oom || e.text.oom) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto fail;
    }
    if (x.corrupt || qt_corrupt(&p->t)) {
        rc = qx_bad(s, &s->post, 0, "damaged postings met while explaining a score", err);
        goto fail;
    }
    /* one allocation: the record, the clauses, the words, the strings */
    size_t ncl = match ? e.ncl : 0, nw = match ? e.nw : 0;
    size_t size = sizeof e.e + ncl * sizeof *e.cl + nw * sizeof *e.w + e.text.len + 1;
    char *mem = qmalloc(size);
    if (!mem) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto fail;
    }
    quarry_explanation *o = (quarry_explanation *)mem;
    quarry_explain_clause *cl = (quarry_explain_clause *)(mem + sizeof *o);
    quarry_explain_word *w = (quarry_explain_word *)(cl + ncl);
    char *str = (char *)(w + nw);
    memcpy(str, e.text.p ? (const char *)e.text.p : "", e.text.len);
    str[e.text.len] = 0;
    for (size_t i = 0; i < nw; i++) {
        w[i] = e.w[i];
        w[i].term = str + (uintptr_t)e.w[i].term;
    }
    for (size_t i = 0; i < ncl; i++) {
        cl[i] = e.cl[i];
        cl[i].text = str + (uintptr_t)e.cl[i].text;
        cl[i].words = w + (uintptr_t)e.cl[i].words;
    }
    memset(o, 0, sizeof *o);
    o->passage = passage;
    o->article = s->art_base + a;
    o->match = match;
    o->score = match ? score : 0;
    o->k1 = x.m.k1;
    o->b = x.m.b;
    o->units = (uint64_t)x.m.n;
    o->avg_len = x.m.avglen;
    o->len = e.len;
    o->expanded = p->expanded;
    o->nclauses = ncl;
    o->clauses = ncl ? cl : NULL;
    *out = o;
fail:
    free(e.cl);
    free(e.w);
    qbuf_free(&e.text);
    return rc;
}

void quarry_explanation_free(quarry_explanation *e)
{
    free(e);   /* one allocation */
}
