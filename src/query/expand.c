/*
 * expand.c — query expansion by pseudo-relevance
 * feedback (RM3, Lavrenko & Croft's relevance model interpolated with the
 * query, as Anserini's bm25+rm3) for plain (bag-of-words) queries:
 *
 *   1. run the query; take its fb_docs best units (passages or articles);
 *   2. relevance model: P(t|R) ∝ Σ_D score(D) · tf(t, D) / |D| over those
 *      units (title + text, analyzed with the index's analyzer); keep the
 *      fb_terms most likely terms of two bytes or more, renormalized;
 *   3. final query: fb_weight · P(t|Q) + (1 − fb_weight) · P(t|R), where
 *      P(t|Q) is the term's share of the query's analyzed terms;
 *   4. rank with BM25, each term's score multiplied by its weight.
 *
 * The feedback units are the best by score (duplicates included) of the
 * date range when there is one; the expanded query keeps every other
 * option (sorting, collapsing). The results' plan keeps each term's weight
 * and its two parts, for quarry_explain.
 *
 * Everything is deterministic: ties between terms break by the term bytes.
 */
#include <stdlib.h>

#include "index/reader.h"
#include "base/sys.h"
#include "query/search.h"

typedef struct tw {
    char *term;       /* points into an arena */
    uint32_t len;
    double w;
} tw;

typedef struct twv {
    tw *v;
    size_t n, cap;
    qbuf arena;
    double total;
} twv;

static int twv_add(twv *t, const char *term, size_t len, double w)
{
    if (qgrow((void **)&t->v, &t->cap, t->n, sizeof *t->v))
        return -1;
    t->v[t->n].term = (char *)(uintptr_t)t->arena.len;   /* an offset until twv_fix */
    t->v[t->n].len = (uint32_t)len;
    t->v[t->n].w = w;
    t->n++;
    t->total += w;
    if (qbuf_append(&t->arena, term, len) || qbuf_putc(&t->arena, 0))
        return -1;
    return 0;
}

static void twv_fix(twv *t)
{
    for (size_t i = 0; i < t->n; i++)
        t->v[i].term = (char *)t->arena.p + (uintptr_t)t->v[i].term;
}

static void twv_free(twv *t)
{
    free(t->v);
    qbuf_free(&t->arena);
    memset(t, 0, sizeof *t);
}

static int cmp_term(const void *a, const void *b)
{
    return strcmp(((const tw *)a)->term, ((const tw *)b)->term);
}

static int cmp_weight(const void *a, const void *b)
{
    const tw *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return strcmp(x->term, y->term);
}

/* Sorts by term and sums the weights of equal terms. */
static void twv_merge(twv *t)
{
    twv_fix(t);
    qsort(t->v, t->n, sizeof *t->v, cmp_term);
    size_t m = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (m && strcmp(t->v[m - 1].term, t->v[i].term) == 0)
            t->v[m - 1].w += t->v[i].w;
        else
            t->v[m++] = t->v[i];
    }
    t->n = m;
}

static int on_term(void *ctx, const qa_token *tok)
{
    return twv_add(ctx, tok->term, tok->len, 1.0) ? QUARRY_ENOMEM : 0;
}

/* The weight of term `t` in list v (n entries, sorted by term when `sorted`), or -1. */
static double weight_of(const twv *v, const char *t, int sorted)
{
    if (sorted) {
        size_t lo = 0, hi = v->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = strcmp(v->v[mid].term, t);
            if (c == 0)
                return v->v[mid].w;
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return -1;
    }
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].term, t) == 0)
            return v->v[i].w;
    return -1;
}

/* Keeps in r's plan the weight of each expanded term and its two parts
 * (for quarry_explain), computed as the final query's were. */
static int keep_weights(quarry_results *r, const twv *q, const twv *rm, double rtot, double qtot, const double *boost,
                        size_t n, const quarry_search_options *o)
{
    struct quarry_plan *p = r->plan;
    const qn_node *root = p->t.root;
    if (root->kind != QN_BOOL || root->nkids != n)
        return 0;   /* cannot happen: every analyzed term is one kid */
    p->boost = qmalloc((n ? n : 1) * sizeof *p->boost);
    p->wq = qcalloc(n ? n : 1, sizeof *p->wq);
    p->wf = qcalloc(n ? n : 1, sizeof *p->wf);
    if (!p->boost || !p->wq || !p->wf)
        return QUARRY_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *t = root->kids[i]->terms[0];
        double w = weight_of(q, t, 1);
        if (w >= 0)
            p->wq[i] = o->fb_weight * w / qtot;
        if (rtot > 0 && (w = weight_of(rm, t, 0)) >= 0)
            p->wf[i] = (1 - o->fb_weight) * w / rtot;
        p->boost[i] = boost[i];
    }
    p->expanded = 1;
    p->nkids = n;
    return 0;
}

int qexp_expand(quarry_index *ix, const char *query, const quarry_search_options *o, quarry_results **out,
              quarry_error *err)
{
    quarry_search_options o1 = *o;
    o1.k = o->fb_docs;
    o1.offset = 0;
    o1.passages = 1;
    o1.sort = QUARRY_SORT_SCORE;   /* feedback from the best units (of the date range) */
    o1.collapse = 0;
    quarry_results *r1;
    int rc = qs_search(ix, query, &o1, NULL, &r1, err);
    if (rc)
        return rc;
    twv q = { 0 }, rm = { 0 }, fin = { 0 };
    qbuf s;
    qbuf_init(&s);
    double *boost = NULL;
    qa_analyzer *an = NULL;
    if ((rc = qx_analyzer_get(ix, &an, err)))
        goto done;
    rc = QUARRY_ENOMEM;
    if (qa_analyze(an, query, strlen(query), 0, on_term, &q, NULL))
        goto done;
    twv_merge(&q);
    for (size_t i = 0; i < r1->n; i++) {
        twv d = { 0 };
        char *text;
        size_t len;
        quarry_article a;
        if ((rc = quarry_passage_text(ix, r1->hits[i].passage, &text, &len, err)))
            goto done;
        int arc = qa_analyze(an, text, len, 0, on_term, &d, NULL);
        free(text);
        if ((rc = quarry_article_get(ix, r1->hits[i].article, &a, err))) {
            twv_free(&d);
            goto done;
        }
        if (arc || qa_analyze(an, a.title, strlen(a.title), 0, on_term, &d, NULL)) {
            twv_free(&d);
            rc = QUARRY_ENOMEM;
            goto done;
        }
        twv_fix(&d);
        for (size_t j = 0; j < d.n; j++)
            if (d.v[j].len >= 2 && twv_add(&rm, d.v[j].term, d.v[j].len, r1->hits[i].score / d.total)) {
                twv_free(&d);
                rc = QUARRY_ENOMEM;
                goto done;
            }
        twv_free(&d);
    }
    rc = QUARRY_ENOMEM;
    twv_merge(&rm);
    qx_analyzer_put(ix, an);
    an = NULL;
    qsort(rm.v, rm.n, sizeof *rm.v, cmp_weight);
    if (rm.n > o->fb_terms)
        rm.n = o->fb_terms;
    double rtot = 0, qtot = 0;
    for (size_t i = 0; i < rm.n; i++)
        rtot += rm.v[i].w;
    for (size_t i = 0; i < q.n; i++)
        qtot += q.v[i].w;
    for (size_t i = 0; i < q.n; i++)
        if (twv_add(&fin, q.v[i].term, q.v[i].len, o->fb_weight * q.v[i].w / qtot))
            goto done;
    for (size_t i = 0; i < rm.n && rtot > 0; i++)
        if (twv_add(&fin, rm.v[i].term, rm.v[i].len, (1 - o->fb_weight) * rm.v[i].w / rtot))
            goto done;
    twv_merge(&fin);
    boost = qmalloc((fin.n + 1) * sizeof *boost);
    if (!boost)
        goto done;
    for (size_t i = 0; i < fin.n; i++) {
        qbuf_printf(&s, "%s%s", i ? " " : "", fin.v[i].term);
        boost[i] = fin.v[i].w;
    }
    if (qbuf_putc(&s, 0))
        goto done;
    quarry_results *r2;
    rc = qs_search(ix, (const char *)s.p, o, boost, &r2, err);
    if (rc == 0 && (rc = keep_weights(r2, &q, &rm, rm.n && rtot > 0 ? rtot : 0, qtot, boost, fin.n, o)))
        quarry_results_free(r2);
    if (rc == 0) {
        /* highlight the words of the query as typed, not the expansion */
        char **t = r2->terms;
        size_t nt = r2->nterms;
        r2->terms = r1->terms;
        r2->nterms = r1->nterms;
        r1->terms = t;
        r1->nterms = nt;
        *out = r2;
    }
done:
    qx_analyzer_put(ix, an);
    if (rc == QUARRY_ENOMEM && err && err->code != QUARRY_ENOMEM)
        qerr_set(err, QUARRY_ENOMEM, "out of memory");
    quarry_results_free(r1);
    twv_free(&q);
    twv_free(&rm);
    twv_free(&fin);
    qbuf_free(&s);
    free(boost);
    return rc;
}
