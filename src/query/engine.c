/*
 * engine.c — runs a parsed query against an open index: analysis of the
 * query's words with the index's analyzer, the match tree, candidate
 * generation over postings cursors, BM25 scoring, top-k selection and
 * grouping of passage hits into article hits.
 *
 * The scorer here is exhaustive: every posting of every positive query
 * term is visited (DESIGN §4: the oracle for any pruning algorithm).
 *
 * BM25 (Lucene's classic BM25Similarity, exact lengths):
 *   idf   = ln(1 + (N - df + 0.5) / (df + 0.5))
 *   score = sum over matching terms of idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen))
 * with N the number of units, len the unit's token count. A phrase scores
 * as one term whose tf is the phrase frequency and whose idf is the sum of
 * its terms' idf (as Lucene's PhraseQuery). A title:-restricted term
 * counts only occurrences in the title.
 */
#include <math.h>
#include <stdlib.h>

#include "index/reader.h"
#include "query/engine.h"
#include "query/parse.h"

enum { N_EMPTY, N_LEAF, N_BOOL };

typedef struct leaf {
    size_t nterms;
    qx_cursor *cur;          /* nterms cursors */
    uint32_t *relpos;        /* phrase: position of term i relative to term 0 */
    int field;
    int missing;             /* a term is absent: matches nothing */
    double w;                /* idf * (k1 + 1) */
    size_t lead;             /* cursor used for candidate generation (rarest) */
} leaf;

typedef struct node {
    int kind;
    int occur;
    leaf lf;
    struct node **kids;
    size_t nkids;
    int has_must;
} node;

typedef struct engine {
    quarry_index *ix;
    const quarry_search_options *o;
    double k1, b;
    const double *norm;
    qbuf terms;              /* analyzed terms for highlighting, NUL-separated */
    size_t nterms;
    qx_cursor **leads;       /* candidate sources */
    size_t nleads, cap_leads;
    int scoring_leaves;      /* positive leaves with every term present */
    int corrupt;
    int oom;
    int plain;
    int preanalyzed;         /* plain words are already analyzed terms (expansion.c) */
    quarry_error *err;
} engine;

void quarry_search_options_init(quarry_search_options *o)
{
    memset(o, 0, sizeof *o);
    o->k = 10;
    o->k1 = 1.2;
    o->b = 0.75;
    o->algorithm = QUARRY_ALGO_AUTO;
    o->fb_docs = 10;
    o->fb_terms = 20;
    o->fb_weight = 0.8;
}

static double idf(const quarry_index *ix, uint64_t df)
{
    double n = (double)ix->nunits, d = (double)df;
    return log(1.0 + (n - d + 0.5) / (d + 0.5));
}

/* ------------------------------------------------------------ building */

typedef struct qtok {
    char term[QA_MAX_TERM + 8];
    uint32_t len, pos;
} qtok;

typedef struct qtoks {
    qtok *v;
    size_t n, cap;
} qtoks;

static int on_qtok(void *ctx, const qa_token *t)
{
    qtoks *q = ctx;
    if (qgrow((void **)&q->v, &q->cap, q->n, sizeof *q->v))
        return QUARRY_ENOMEM;
    qtok *k = &q->v[q->n++];
    uint32_t len = t->len < sizeof k->term - 1 ? t->len : (uint32_t)sizeof k->term - 1;
    memcpy(k->term, t->term, len);
    k->term[len] = 0;
    k->len = len;
    k->pos = t->pos;
    return 0;
}

static void add_hl_term(engine *e, const char *t, size_t len)
{
    const char *p = (const char *)e->terms.p;
    for (size_t i = 0, off = 0; i < e->nterms; i++) {
        size_t l = strlen(p + off);
        if (l == len && memcmp(p + off, t, len) == 0)
            return;
        off += l + 1;
    }
    qbuf_append(&e->terms, t, len);
    qbuf_putc(&e->terms, 0);
    e->nterms++;
}

static int add_lead(engine *e, qx_cursor *c)
{
    if (qgrow((void **)&e->leads, &e->cap_leads, e->nleads, sizeof *e->leads))
        return -1;
    e->leads[e->nleads++] = c;
    return 0;
}

static void free_node(node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->lf.nterms; i++)
        qx_cursor_close(&n->lf.cur[i]);
    free(n->lf.cur);
    free(n->lf.relpos);
    for (size_t i = 0; i < n->nkids; i++)
        free_node(n->kids[i]);
    free(n->kids);
    free(n);
}

/* Makes `n` a leaf of the analyzed tokens v[0..nt): one term, or a phrase. */
static int make_leaf(engine *e, node *n, const qtok *v, size_t nt, int field, int positive)
{
    n->kind = N_LEAF;
    leaf *l = &n->lf;
    l->field = field;
    l->cur = calloc(nt, sizeof *l->cur);
    l->relpos = calloc(nt, sizeof *l->relpos);
    if (!l->cur || !l->relpos)
        return -1;
    double sum_idf = 0;
    uint64_t min_df = UINT64_MAX;
    for (size_t i = 0; i < nt; i++) {
        qx_term t;
        if (positive)
            add_hl_term(e, v[i].term, v[i].len);
        int found = qx_lookup(e->ix, v[i].term, v[i].len, &t, e->err);
        if (found < 0) {
            e->corrupt = 1;
            l->missing = 1;
            continue;
        }
        if (!found) {
            l->missing = 1;
            continue;
        }
        if (qx_cursor_open(&l->cur[l->nterms], e->ix, &t)) {
            char where[4200];
            snprintf(where, sizeof where, "%s/%s", e->ix->dir, e->ix->post.name);
            qerr_corrupt(e->err, where, t.post_off, "damaged postings (first block)");
            e->corrupt = 1;
            l->missing = 1;
            continue;
        }
        l->relpos[l->nterms] = v[i].pos - v[0].pos;
        if (t.df < min_df) {
            min_df = t.df;
            l->lead = l->nterms;
        }
        l->nterms++;
        sum_idf += idf(e->ix, t.df);
    }
    l->w = sum_idf * (e->k1 + 1.0);
    if (positive && !l->missing) {
        e->scoring_leaves++;
        if (add_lead(e, &l->cur[l->lead]))
            return -1;
    }
    return 0;
}

/* positive: no MUST_NOT on the path from the root */
static node *build(engine *e, const qq_node *q, int positive)
{
    node *n = calloc(1, sizeof *n);
    if (!n) {
        e->oom = 1;
        return NULL;
    }
    n->occur = q->occur;
    if (q->kind == QQ_BOOL) {
        n->kind = N_BOOL;
        n->kids = calloc(q->nkids ? q->nkids : 1, sizeof *n->kids);
        if (!n->kids) {
            e->oom = 1;
            free(n);
            return NULL;
        }
        for (size_t i = 0; i < q->nkids; i++) {
            node *k = build(e, q->kids[i], positive && q->kids[i]->occur != QQ_MUST_NOT);
            if (!k) {
                free_node(n);
                return NULL;
            }
            if (k->kind == N_EMPTY) {
                free_node(k);
                continue;
            }
            if (k->occur == QQ_MUST)
                n->has_must = 1;
            n->kids[n->nkids++] = k;
        }
        if (n->nkids == 0)
            n->kind = N_EMPTY;
        return n;
    }
    qtoks toks = { 0 };
    int rc;
    if (e->preanalyzed) {
        qa_token t = { q->text, (uint32_t)strlen(q->text), 0, 0, 0 };
        rc = on_qtok(&toks, &t);
    } else
        rc = qa_analyze(e->ix->an, q->text, strlen(q->text), 0, on_qtok, &toks, NULL);
    if (rc) {
        free(toks.v);
        e->oom = 1;
        free(n);
        return NULL;
    }
    if (toks.n == 0) {
        free(toks.v);
        n->kind = N_EMPTY;
        return n;
    }
    if (e->plain && toks.n > 1) {
        /* a bag of words: every token its own optional term */
        n->kind = N_BOOL;
        n->kids = calloc(toks.n, sizeof *n->kids);
        if (!n->kids) {
            free(toks.v);
            e->oom = 1;
            free(n);
            return NULL;
        }
        for (size_t i = 0; i < toks.n; i++) {
            node *k = calloc(1, sizeof *k);
            if (!k || make_leaf(e, k, toks.v + i, 1, q->field, positive)) {
                free(k);
                free(toks.v);
                e->oom = 1;
                free_node(n);
                return NULL;
            }
            k->occur = QQ_SHOULD;
            n->kids[n->nkids++] = k;
        }
        free(toks.v);
        return n;
    }
    if (make_leaf(e, n, toks.v, toks.n, q->field, positive)) {
        free(toks.v);
        e->oom = 1;
        free_node(n);
        return NULL;
    }
    free(toks.v);
    return n;
}

/* ------------------------------------------------------------ matching */

/* Occurrences of the leaf in unit d (0 = no match). */
static uint32_t leaf_freq(engine *e, leaf *l, uint32_t d)
{
    if (l->missing)
        return 0;
    for (size_t i = 0; i < l->nterms; i++)
        if (qx_advance(&l->cur[i], d) != d)
            return 0;
    if (l->nterms == 1 && l->field == QQ_FIELD_ANY)
        return qx_tf(&l->cur[0]);
    uint32_t limit = l->field == QQ_FIELD_TITLE ? qx_unit_body(e->ix, d) : UINT32_MAX;
    if (l->field == QQ_FIELD_TITLE && limit == 0)
        return 0;
    if (l->nterms == 1) {
        const uint32_t *p = qx_positions(&l->cur[0]);
        if (!p) {
            e->corrupt = 1;
            return 0;
        }
        uint32_t tf = qx_tf(&l->cur[0]), f = 0;
        for (uint32_t i = 0; i < tf && p[i] < limit; i++)
            f++;
        return f;
    }
    /* phrase: for each occurrence of term 0, every other term at its offset */
    const uint32_t *p0 = qx_positions(&l->cur[0]);
    if (!p0) {
        e->corrupt = 1;
        return 0;
    }
    uint32_t tf0 = qx_tf(&l->cur[0]);
    const uint32_t *ps[64];
    uint32_t tfs[64], idx[64] = { 0 };
    size_t nt = l->nterms < 64 ? l->nterms : 64;
    for (size_t i = 1; i < nt; i++) {
        ps[i] = qx_positions(&l->cur[i]);
        tfs[i] = qx_tf(&l->cur[i]);
        if (!ps[i]) {
            e->corrupt = 1;
            return 0;
        }
    }
    /* a phrase lies wholly in the title or wholly in the body of a unit */
    uint32_t body = qx_unit_body(e->ix, d), span = l->relpos[l->nterms - 1];
    uint32_t f = 0;
    for (uint32_t j = 0; j < tf0; j++) {
        uint32_t start = p0[j];
        if (start >= limit)
            break;
        if (start < body && start + span >= body)
            continue;
        int ok = 1;
        for (size_t i = 1; i < nt && ok; i++) {
            uint32_t want = start + l->relpos[i];
            while (idx[i] < tfs[i] && ps[i][idx[i]] < want)
                idx[i]++;
            ok = idx[i] < tfs[i] && ps[i][idx[i]] == want;
        }
        for (size_t i = nt; i < l->nterms && ok; i++) {   /* terms past the 64th: binary search */
            const uint32_t *p = qx_positions(&l->cur[i]);
            if (!p) {
                e->corrupt = 1;
                return 0;
            }
            uint32_t want = start + l->relpos[i], n = qx_tf(&l->cur[i]), lo = 0, hi = n;
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (p[mid] < want)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            ok = lo < n && p[lo] == want;
        }
        f += ok;
    }
    return f;
}

static int eval(engine *e, node *n, uint32_t d, double *score)
{
    if (n->kind == N_LEAF) {
        uint32_t f = leaf_freq(e, &n->lf, d);
        if (!f)
            return 0;
        *score += n->lf.w * f / (f + e->norm[d]);
        return 1;
    }
    if (n->kind != N_BOOL)
        return 0;
    double s = 0, dummy = 0;
    int any = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        node *k = n->kids[i];
        if (k->occur == QQ_MUST_NOT) {
            if (eval(e, k, d, &dummy))
                return 0;
        } else if (k->occur == QQ_MUST) {
            if (!eval(e, k, d, &s))
                return 0;
        } else {
            any |= eval(e, k, d, &s);
        }
    }
    if (!n->has_must && !any)
        return 0;
    *score += s;
    return 1;
}

/* ------------------------------------------------------------ top-k */

typedef struct cand {
    double score;
    uint32_t unit;
    uint32_t article;
} cand;

/* a is better than b: higher score, then lower unit */
static inline int better(const cand *a, const cand *b)
{
    return a->score > b->score || (a->score == b->score && a->unit < b->unit);
}

typedef struct heap {
    cand *v;
    size_t n, k;
} heap;

static void sift_down(heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && better(&h->v[m], &h->v[l]))
            m = l;
        if (r < h->n && better(&h->v[m], &h->v[r]))
            m = r;
        if (m == i)
            return;
        cand t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
}

/* keeps the k best; the worst kept is at v[0] */
static void heap_push(heap *h, const cand *c)
{
    if (h->k == 0)
        return;
    if (h->n < h->k) {
        size_t i = h->n++;
        h->v[i] = *c;
        while (i && better(&h->v[(i - 1) / 2], &h->v[i])) {
            cand t = h->v[i];
            h->v[i] = h->v[(i - 1) / 2];
            h->v[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (better(c, &h->v[0])) {
        h->v[0] = *c;
        sift_down(h, 0);
    }
}

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

/* ------------------------------------------------------------ search */

/* A plain query: every whitespace-separated word an optional (SHOULD) clause. */
static int plain_query(const char *query, qq_node **out, quarry_error *err)
{
    size_t len = strlen(query);
    if (len > QQ_MAX_QUERY)
        return qerr_set(err, QUARRY_ELIMIT, "the query is %zu bytes long, more than the limit of %u bytes", len, QQ_MAX_QUERY);
    qq_node *root = calloc(1, sizeof *root);
    size_t nw = 0;
    for (size_t i = 0; i < len; i++)
        if ((i == 0 || query[i - 1] == ' ' || query[i - 1] == '\t') && query[i] != ' ' && query[i] != '\t')
            nw++;
    if (!root || !(root->kids = calloc(nw ? nw : 1, sizeof *root->kids))) {
        free(root);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    root->kind = QQ_BOOL;
    for (size_t i = 0; i < len;) {
        while (i < len && (query[i] == ' ' || query[i] == '\t'))
            i++;
        size_t j = i;
        while (j < len && query[j] != ' ' && query[j] != '\t')
            j++;
        if (j > i) {
            qq_node *k = calloc(1, sizeof *k);
            if (!k || !(k->text = qstrndup(query + i, j - i))) {
                free(k);
                qq_free(root);
                return qerr_set(err, QUARRY_ENOMEM, "out of memory");
            }
            k->kind = QQ_WORD;
            k->column = (uint32_t)i + 1;
            root->kids[root->nkids++] = k;
        }
        i = j;
    }
    *out = root;
    return 0;
}

static int ensure_caches(quarry_index *ix, double k1, double b)
{
    if (!ix->norm || ix->norm_k1 != k1 || ix->norm_b != b) {
        if (!ix->norm && !(ix->norm = malloc((ix->nunits ? ix->nunits : 1) * sizeof *ix->norm)))
            return -1;
        for (uint64_t u = 0; u < ix->nunits; u++)
            ix->norm[u] = k1 * (1.0 - b + b * (double)qx_unit_len(ix, (uint32_t)u) / ix->avgdl);
        ix->norm_k1 = k1;
        ix->norm_b = b;
    }
    if (!ix->best) {
        size_t n = ix->narts ? ix->narts : 1;
        ix->best = malloc(n * sizeof *ix->best);
        ix->best_unit = malloc(n * sizeof *ix->best_unit);
        ix->touched = malloc(n * sizeof *ix->touched);
        if (!ix->best || !ix->best_unit || !ix->touched)
            return -1;
        for (size_t i = 0; i < n; i++)
            ix->best_unit[i] = UINT32_MAX;
    }
    return 0;
}

void quarry_results_free(quarry_results *r)
{
    if (!r)
        return;
    free(r->hits);
    if (r->terms)
        free(r->terms[0]);   /* one allocation holds every term */
    free(r->terms);
    free(r);
}

int qs_search(quarry_index *ix, const char *query, const quarry_search_options *o, const double *boost,
              quarry_results **out, quarry_error *err)
{
    if (!(o->k1 >= 0 && o->k1 <= 1000) || !(o->b >= 0 && o->b <= 1))
        return qerr_set(err, QUARRY_EINVAL, "BM25 parameters out of range: k1 must be in [0, 1000], b in [0, 1]");
    if ((uint64_t)o->k + o->offset > (1u << 26))
        return qerr_set(err, QUARRY_ELIMIT, "k + offset must be at most %u", 1u << 26);
    double t0 = qnow();
    qq_node *q;
    int rc = o->plain ? plain_query(query, &q, err) : qq_parse(query, strlen(query), &q, err);
    if (rc)
        return rc;
    if (ensure_caches(ix, o->k1, o->b)) {
        qq_free(q);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    engine e;
    memset(&e, 0, sizeof e);
    e.ix = ix;
    e.o = o;
    e.k1 = o->k1;
    e.b = o->b;
    e.norm = ix->norm;
    e.err = err;
    e.plain = o->plain;
    e.preanalyzed = boost != NULL;
    qbuf_init(&e.terms);
    node *root = build(&e, q, q->occur != QQ_MUST_NOT);
    qq_free(q);
    if (root && boost && root->kind == N_BOOL)   /* a weighted bag of terms */
        for (size_t i = 0; i < root->nkids; i++)
            if (root->kids[i]->kind == N_LEAF)
                root->kids[i]->lf.w *= boost[i];
    quarry_results *res = NULL;
    heap h = { 0 };
    uint32_t ntouched = 0;
    if (!root || e.oom || e.terms.oom) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto done;
    }
    if (e.corrupt) {
        rc = err ? err->code : QUARRY_ECORRUPT;
        if (!rc)
            rc = QUARRY_ECORRUPT;
        goto done;
    }
    if (root->kind == N_EMPTY || e.scoring_leaves == 0) {
        rc = qerr_set(err, QUARRY_ENOTERMS,
                      root->kind != N_EMPTY && e.nterms == 0
                          ? "the query has no positive term (excluded terms alone match nothing)"
                          : "every term of the query is a stop word or absent from the index");
        goto done;
    }
    size_t want = (size_t)o->offset + o->k;
    uint64_t most = o->passages ? ix->nunits : ix->narts;   /* never more hits than units */
    if (want > most)
        want = (size_t)most;
    h.k = want;
    h.v = malloc((want ? want : 1) * sizeof *h.v);
    if (!h.v) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto done;
    }
    uint64_t matched = 0;
    for (;;) {
        uint32_t d = QX_END;
        for (size_t i = 0; i < e.nleads; i++)
            if (e.leads[i]->doc < d)
                d = e.leads[i]->doc;
        if (d == QX_END)
            break;
        double s = 0;
        if (eval(&e, root, d, &s)) {
            if (o->passages) {
                cand c = { s, d, qx_unit_article(ix, d) };
                heap_push(&h, &c);
                matched++;
            } else {
                uint32_t a = qx_unit_article(ix, d);
                if (ix->best_unit[a] == UINT32_MAX) {
                    ix->touched[ntouched++] = a;
                    ix->best[a] = s;
                    ix->best_unit[a] = d;
                } else if (s > ix->best[a]) {   /* units ascend: ties keep the first passage */
                    ix->best[a] = s;
                    ix->best_unit[a] = d;
                }
            }
        }
        for (size_t i = 0; i < e.nleads; i++)
            if (e.leads[i]->doc == d)
                qx_next(e.leads[i]);
        if (e.corrupt)
            break;
    }
    for (size_t i = 0; i < e.nleads; i++)
        if (e.leads[i]->corrupt)
            e.corrupt = 1;
    if (e.corrupt) {
        rc = qerr_corrupt(err, ix->dir, 0, "damaged postings met while searching");
        goto done;
    }
    if (!o->passages) {
        matched = ntouched;
        rc = 0;
    }
    res = calloc(1, sizeof *res);
    if (!res) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto done;
    }
    res->matched = matched;
    if (!o->passages) {
        for (uint32_t i = 0; i < ntouched; i++) {
            uint32_t a = ix->touched[i];
            cand c = { ix->best[a], ix->best_unit[a], a };
            heap_push(&h, &c);
        }
    }
    qsort(h.v, h.n, sizeof *h.v, cmp_cand);
    size_t from = o->offset < h.n ? o->offset : h.n;
    res->n = h.n - from;
    res->hits = malloc((res->n ? res->n : 1) * sizeof *res->hits);
    res->terms = calloc(e.nterms + 1, sizeof *res->terms);
    char *tcopy = malloc(e.terms.len + 1);
    if (!res->hits || !res->terms || !tcopy) {
        free(tcopy);
        quarry_results_free(res);
        res = NULL;
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < res->n; i++) {
        res->hits[i].score = h.v[from + i].score;
        res->hits[i].passage = h.v[from + i].unit;
        res->hits[i].article = h.v[from + i].article;
    }
    memcpy(tcopy, e.terms.p ? (const char *)e.terms.p : "", e.terms.len);
    tcopy[e.terms.len] = 0;
    for (size_t i = 0, off = 0; i < e.nterms; i++) {
        res->terms[i] = tcopy + off;
        off += strlen(tcopy + off) + 1;
    }
    if (e.nterms == 0)
        free(tcopy);
    res->nterms = e.nterms;
    res->seconds = qnow() - t0;
done:
    for (uint32_t i = 0; i < ntouched; i++)
        ix->best_unit[ix->touched[i]] = UINT32_MAX;
    free(h.v);
    free(e.leads);
    qbuf_free(&e.terms);
    free_node(root);
    if (rc == 0)
        *out = res;
    else
        quarry_results_free(res);
    return rc;
}
