/*
 * tree.c — building the scorer tree of a query (tree.h): analysis of its
 * words, dictionary lookups in every segment, collection-wide document
 * frequencies and leaf weights, and binding to one segment at a time.
 */
#include "query/tree.h"
#include "base/sys.h"
#include "query/stats.h"

#include <stdlib.h>

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

typedef struct builder {
    qt_tree *t;
    quarry_index *ix;
    qa_analyzer *an;
    const bm25 *m;
    const quarry_stats *st;   /* collection statistics from outside, or NULL: the index's */
    int plain, preanalyzed;
    int pairs;                /* phrases read the index's pair terms (use_pairs) */
    int rc;
    quarry_error *err;
    int64_t *at;              /* per segment: the dictionary block of the term looked up (qx_lookup_at) */
} builder;

static void add_hl_term(qt_tree *t, const char *s, size_t len)
{
    if (t->terms.oom)   /* (the build reports it) */
        return;
    const char *p = (const char *)t->terms.p;
    for (size_t i = 0, off = 0; i < t->nterms; i++) {
        size_t l = strlen(p + off);
        if (l == len && memcmp(p + off, s, len) == 0)
            return;
        off += l + 1;
    }
    qbuf_append(&t->terms, s, len);
    qbuf_putc(&t->terms, 0);
    t->nterms += !t->terms.oom;
}

/* Frees what a leaf's cursors walk with (its lookups, cursors and their
 * order), keeping its terms. */
static void free_walk(qn_node *n)
{
    if (n->cur)
        for (size_t i = 0; i < n->nterms; i++)
            qx_cursor_close(&n->cur[i]);
    free(n->segterms);
    free(n->found);
    free(n->cur);
    free(n->same);
    free(n->ord);
    n->segterms = NULL;
    n->found = NULL;
    n->cur = NULL;
    n->same = NULL;
    n->ord = NULL;
}

static void free_node(qn_node *n)
{
    if (!n)
        return;
    free_walk(n);
    for (size_t i = 0; n->terms && i < n->nterms; i++)   /* (terms NULL: its allocation failed) */
        free(n->terms[i]);
    free(n->terms);
    free(n->relpos);
    free(n->df);
    for (size_t i = 0; n->words && i < n->nwords; i++)
        free(n->words[i]);
    free(n->words);
    free(n->wrelpos);
    free(n->wdf);
    for (size_t i = 0; i < n->nkids; i++)
        free_node(n->kids[i]);
    free(n->kids);
    free(n);
}

/* Allocates leaf n's arrays for nt terms (n->terms and n->relpos filled
 * by the caller, then look_up). */
static int leaf_arrays(builder *b, qn_node *n, size_t nt)
{
    size_t ns = b->ix->nseg;
    n->nterms = nt;
    n->terms = qcalloc(nt, sizeof *n->terms);
    n->relpos = qcalloc(nt, sizeof *n->relpos);
    n->df = qcalloc(nt, sizeof *n->df);
    n->segterms = qcalloc(nt * ns, sizeof *n->segterms);
    n->found = qcalloc(nt * ns, 1);
    n->cur = qcalloc(nt, sizeof *n->cur);
    n->ord = qcalloc(nt, sizeof *n->ord);
    return n->terms && n->relpos && n->df && n->segterms && n->found && n->cur && n->ord ? 0 : QUARRY_ENOMEM;
}

/* Looks leaf n's terms up in every segment (segterms, found; a repeated
 * term shares the first one's entries and cursor: n->same) and sets
 * n->df[i] to the live units of this index that hold term i. */
static int look_up(builder *b, qn_node *n)
{
    size_t ns = b->ix->nseg, nt = n->nterms;
    for (size_t i = 0; i < nt; i++) {
        size_t j = 0;   /* a repeat shares the earlier term's entries and cursor */
        while (j < i && strcmp(n->terms[j], n->terms[i]))
            j++;
        if (j < i) {
            if (!n->same) {
                if (!(n->same = qmalloc(nt * sizeof *n->same)))
                    return QUARRY_ENOMEM;
                for (size_t k = 0; k < nt; k++)
                    n->same[k] = (uint32_t)k;
            }
            n->same[i] = (uint32_t)j;
            for (size_t s = 0; s < ns; s++) {
                n->segterms[s * nt + i] = n->segterms[s * nt + j];
                n->found[s * nt + i] = n->found[s * nt + j];
            }
            n->df[i] = n->df[j];
            continue;
        }
        const char *term = n->terms[i];
        size_t len = strlen(term);
        uint64_t df = 0;
        for (size_t s = 0; s < ns; s++)   /* the blocks' first lines of every segment, then the lookups */
            b->at[s] = ns > 1 ? qx_lookup_prefetch(&b->ix->seg[s], term, len) : -1;
        for (size_t s = 0; s < ns; s++) {
            int found = qx_lookup_at(&b->ix->seg[s], b->at[s], term, len, &n->segterms[s * nt + i], b->err);
            if (found < 0)
                return QUARRY_ECORRUPT;
            n->found[s * nt + i] = (uint8_t)found;
            if (found) {   /* the live units that hold it: deleted ones do not count */
                qx_term_prefetch(&b->ix->seg[s], &n->segterms[s * nt + i]);
                int64_t del = qx_del_df(&b->ix->seg[s], term, len, n->segterms[s * nt + i].df, b->err);
                if (del < 0)
                    return QUARRY_ECORRUPT;
                df += n->segterms[s * nt + i].df - (uint64_t)del;
            }
        }
        n->df[i] = df;
    }
    return 0;
}

/* A phrase whose words make pair terms (qa_pairs: two adjacent words, one
 * of them common): its cursors become those of its pair terms, each at
 * its first word's place, and of the words no pair covers. The phrase
 * occurs at a start exactly where every one of these does (a pair term is
 * wherever its two words are adjacent in a unit), and a pair's frequency
 * bounds the phrase's as a word's does; so matches, frequencies and
 * bounds hold, with far fewer units to check when the words are frequent
 * ("of the": one list of the units that hold the phrase; a phrase of two
 * words is then read as one term). The words stay in n->words for the
 * weight (already summed) and quarry_explain. */
static int use_pairs(builder *b, qn_node *n)
{
    size_t nt = n->nterms, np = 0, m = 0;
    uint8_t common[QUARRY_MAX_TERMS * 4], pair[QUARRY_MAX_TERMS * 4], covered[QUARRY_MAX_TERMS * 4];
    char buf[QA_MAX_PAIR];
    if (nt < 2 || nt > sizeof common)
        return 0;
    for (size_t i = 0; i < nt; i++) {
        common[i] = (uint8_t)qa_common(b->an, n->terms[i], strlen(n->terms[i]), qhash(n->terms[i], strlen(n->terms[i])));
        covered[i] = 0;
    }
    for (size_t i = 0; i + 1 < nt; i++) {
        pair[i] = n->relpos[i + 1] == n->relpos[i] + 1 && (common[i] || common[i + 1]) &&
                  qa_pair_term(buf, n->terms[i], strlen(n->terms[i]), n->terms[i + 1], strlen(n->terms[i + 1]));
        if (pair[i]) {
            np++;
            covered[i] = covered[i + 1] = 1;
        }
    }
    if (!np)
        return 0;
    for (size_t i = 0; i < nt; i++)
        m += !covered[i];
    m += np;
    /* the words move to n->words; the leaf's terms become the cover, in the order of their places */
    free_walk(n);
    n->nwords = nt;
    n->words = n->terms;
    n->wrelpos = n->relpos;
    n->wdf = n->df;
    n->terms = NULL;
    n->relpos = NULL;
    n->df = NULL;
    if (leaf_arrays(b, n, m))
        return QUARRY_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < nt; i++) {
        const char *w = n->words[i];
        size_t len;
        if (i + 1 < nt && pair[i])
            len = qa_pair_term(buf, w, strlen(w), n->words[i + 1], strlen(n->words[i + 1]));
        else if (!covered[i])
            len = strlen(w), memcpy(buf, w, len);
        else
            continue;
        n->relpos[k] = n->wrelpos[i];
        if (!(n->terms[k++] = qstrndup(buf, len)))
            return QUARRY_ENOMEM;
    }
    int rc = look_up(b, n);
    for (size_t i = 0; !rc && i < m; i++)
        if (!n->df[i])
            n->missing = 1;   /* a pair that is nowhere: the phrase is nowhere either */
    return rc;
}

/* Makes n a leaf of the analyzed tokens v[0..nt): one term, or a phrase. */
static int make_leaf(builder *b, qn_node *n, const qtok *v, size_t nt, int field, int positive)
{
    qt_tree *t = b->t;
    if (t->nleaves >= 4 * QUARRY_MAX_TERMS && !b->preanalyzed)   /* excluded terms and phrases too */
        return qerr_set(b->err, QUARRY_ELIMIT, "the query has more than %d words and phrases; shorten it",
                        4 * QUARRY_MAX_TERMS);
    n->kind = QN_LEAF;
    n->repeat = 1;
    n->field = field;
    n->positive = positive;
    if (leaf_arrays(b, n, nt) || qgrow((void **)&t->leaves, &t->cap_leaves, t->nleaves, sizeof *t->leaves))
        return QUARRY_ENOMEM;
    t->leaves[t->nleaves++] = n;
    for (size_t i = 0; i < nt; i++) {
        if (!(n->terms[i] = qstrndup(v[i].term, v[i].len)))
            return QUARRY_ENOMEM;
        n->relpos[i] = v[i].pos - v[0].pos;
        if (positive) {
            add_hl_term(t, v[i].term, v[i].len);
            if (t->nterms > QUARRY_MAX_TERMS && !b->preanalyzed)   /* the cost of a search grows with it */
                return qerr_set(b->err, QUARRY_ELIMIT,
                                "the query has more than %d distinct terms; shorten it (QUARRY_MAX_TERMS)",
                                QUARRY_MAX_TERMS);
        }
    }
    int rc = look_up(b, n);
    if (rc)
        return rc;
    double sum_idf = 0;
    int missing = 0;
    for (size_t i = 0; i < nt; i++) {
        if (qn_repeat(n, i)) {   /* (its first's df, already the collection's with st) */
            if ((n->df[i] = n->df[n->same[i]]))
                sum_idf += bm25_idf(b->m, (double)n->df[i]);
            continue;
        }
        uint64_t df = n->df[i];
        if ((double)df > b->m->n)   /* damaged counts (verify names the file); never a negative idf */
            return qerr_set(b->err, QUARRY_ECORRUPT,
                            "%s: the term \"%.*s\" is in %llu units of %.0f live ones: damaged counts "
                            "of units or deletions (run 'quarry verify')",
                            b->ix->dir, (int)(v[i].len > 100 ? 100 : v[i].len), v[i].term,
                            (unsigned long long)df, b->m->n);
        if (!df)
            missing = 1;   /* in this index: it matches nothing here */
        if (b->st && positive) {   /* the df of the whole collection weighs it */
            uint64_t local = df;
            if (!qst_df(b->st, v[i].term, v[i].len, &df))
                return qerr_set(b->err, QUARRY_EINVAL, "the collection statistics have no df for the query term "
                                "\"%s\" (report the terms of quarry_query_terms)", v[i].term);
            if (df < local)
                return qerr_set(b->err, QUARRY_EINVAL, "the collection statistics give the term \"%s\" a df of %llu, "
                                "less than the %llu units of this index that hold it", v[i].term,
                                (unsigned long long)df, (unsigned long long)local);
            if ((double)df > b->m->n)
                return qerr_set(b->err, QUARRY_EINVAL, "the collection statistics give the term \"%s\" a df of %llu, "
                                "more than their %.0f units", v[i].term, (unsigned long long)df, b->m->n);
        }
        n->df[i] = df;
        if (df)
            sum_idf += bm25_idf(b->m, (double)df);
    }
    n->missing = missing;
    n->w = sum_idf * (b->m->k1 + 1.0);
    if (positive && !missing)
        t->scoring_leaves++;
    if (b->pairs && !missing && (rc = use_pairs(b, n)))
        return rc;
    return 0;
}

/* Adds kid k to the boolean node n. A single term that n already has as
 * a clause of the same occurrence and field is not a second clause: its
 * weight joins the first one's and its repeat count grows (as Lucene
 * boosts a repeated term; quarry_explain shows it as the boost), so that
 * "to be or not to be" walks four cursors, not six. The score is the
 * same, but for the order of the sum (a term's score is linear in its
 * weight). Not in a weighted bag (boost: its weights go by clause index). */
static void add_kid(builder *b, qn_node *n, qn_node *k)
{
    /* (k, a leaf, is the last one made: merged, it is taken off the list) */
    int single = k->kind == QN_LEAF && k->nterms == 1 && !k->words && !b->preanalyzed && b->t->nleaves &&
                 b->t->leaves[b->t->nleaves - 1] == k;
    for (size_t i = 0; single && i < n->nkids; i++) {
        qn_node *o = n->kids[i];
        if (o->kind == QN_LEAF && o->nterms == 1 && !o->words && o->occur == k->occur && o->field == k->field &&
            o->positive == k->positive && strcmp(o->terms[0], k->terms[0]) == 0) {
            o->w += k->w;
            o->repeat += k->repeat;
            b->t->nleaves--;
            if (k->positive && !k->missing)
                b->t->scoring_leaves--;
            free_node(k);
            return;
        }
    }
    n->kids[n->nkids++] = k;
}

/* positive: no MUST_NOT on the path from the root */
static qn_node *build(builder *b, const qq_node *q, int positive)
{
    qn_node *n = qcalloc(1, sizeof *n);
    if (!n) {
        b->rc = QUARRY_ENOMEM;
        return NULL;
    }
    n->occur = q->occur;
    if (q->kind == QQ_BOOL) {
        n->kind = QN_BOOL;
        n->kids = qcalloc(q->nkids ? q->nkids : 1, sizeof *n->kids);
        if (!n->kids) {
            b->rc = QUARRY_ENOMEM;
            free(n);
            return NULL;
        }
        for (size_t i = 0; i < q->nkids; i++) {
            qn_node *k = build(b, q->kids[i], positive && q->kids[i]->occur != QQ_MUST_NOT);
            if (!k) {
                free_node(n);
                return NULL;
            }
            if (k->kind == QN_EMPTY) {
                free_node(k);
                continue;
            }
            if (k->occur == QQ_MUST)
                n->has_must = 1;
            add_kid(b, n, k);
        }
        if (n->nkids == 0)
            n->kind = QN_EMPTY;
        return n;
    }
    qtoks toks = { 0 };
    int rc;
    if (b->preanalyzed) {
        qa_token tk = { q->text, (uint32_t)strlen(q->text), 0, 0, 0 };
        rc = on_qtok(&toks, &tk);
    } else
        rc = qa_analyze(b->an, q->text, strlen(q->text), 0, on_qtok, &toks, NULL);
    if (rc) {
        free(toks.v);
        b->rc = QUARRY_ENOMEM;
        free(n);
        return NULL;
    }
    if (toks.n == 0) {
        free(toks.v);
        n->kind = QN_EMPTY;
        return n;
    }
    if (b->plain && toks.n > 1) {
        /* a bag of words: every token its own optional term */
        n->kind = QN_BOOL;
        n->kids = qcalloc(toks.n, sizeof *n->kids);
        if (!n->kids) {
            free(toks.v);
            b->rc = QUARRY_ENOMEM;
            free(n);
            return NULL;
        }
        for (size_t i = 0; i < toks.n; i++) {
            qn_node *k = qcalloc(1, sizeof *k);
            if (!k || (b->rc = make_leaf(b, k, toks.v + i, 1, q->field, positive))) {
                if (!k)
                    b->rc = QUARRY_ENOMEM;
                free_node(k);
                free(toks.v);
                free_node(n);
                return NULL;
            }
            k->occur = QQ_SHOULD;
            add_kid(b, n, k);
        }
        free(toks.v);
        return n;
    }
    b->rc = make_leaf(b, n, toks.v, toks.n, q->field, positive);
    free(toks.v);
    if (b->rc) {
        free_node(n);
        return NULL;
    }
    return n;
}

int qt_build(qt_tree *t, quarry_index *ix, qa_analyzer *an, const qq_node *q, int plain, int pairs,
             const double *boost, const bm25 *m, const quarry_stats *st, quarry_error *err)
{
    memset(t, 0, sizeof *t);
    qbuf_init(&t->terms);
    t->nseg = ix->nseg;
    builder b = { t, ix, an, m, st, plain, boost != NULL, pairs && an && qa_pairs(an), 0, err,
                  qmalloc((ix->nseg ? ix->nseg : 1) * sizeof *b.at) };
    t->root = b.at ? build(&b, q, q->occur != QQ_MUST_NOT) : NULL;
    free(b.at);
    if (t->root && boost && t->root->kind == QN_BOOL)   /* a weighted bag of terms */
        for (size_t i = 0; i < t->root->nkids; i++)
            if (t->root->kids[i]->kind == QN_LEAF)
                t->root->kids[i]->w *= boost[i];
    if (!t->root || t->terms.oom) {
        int rc = b.rc ? b.rc : QUARRY_ENOMEM;
        if (rc == QUARRY_ENOMEM)
            qerr_set(err, rc, "out of memory");
        qt_free(t);
        return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ terms */

static int walk_terms(qa_analyzer *an, const qq_node *q, int positive, qbuf *out, size_t *n)
{
    if (q->kind == QQ_BOOL) {
        for (size_t i = 0; i < q->nkids; i++) {
            int rc = walk_terms(an, q->kids[i], positive && q->kids[i]->occur != QQ_MUST_NOT, out, n);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (!positive)
        return 0;
    qtoks toks = { 0 };
    int rc = qa_analyze(an, q->text, strlen(q->text), 0, on_qtok, &toks, NULL);
    for (size_t i = 0; rc == 0 && i < toks.n; i++) {   /* distinct, in order: as add_hl_term */
        const char *p = out->p ? (const char *)out->p : "";
        int seen = 0;
        for (size_t k = 0, off = 0; k < *n && !seen; k++) {
            size_t l = strlen(p + off);
            seen = l == toks.v[i].len && memcmp(p + off, toks.v[i].term, l) == 0;
            off += l + 1;
        }
        if (!seen) {
            qbuf_append(out, toks.v[i].term, toks.v[i].len);
            qbuf_putc(out, 0);
            ++*n;
        }
    }
    free(toks.v);
    return rc ? rc : out->oom ? QUARRY_ENOMEM : 0;
}

int qt_terms(qa_analyzer *an, const qq_node *q, qbuf *out, size_t *n)
{
    *n = 0;
    return walk_terms(an, q, q->occur != QQ_MUST_NOT, out, n);
}

/* ------------------------------------------------------------ binding */

static void bind_node(qn_node *n, const qx_seg *s, size_t si, int *bad, uint64_t *bad_off)
{
    if (n->kind == QN_BOOL) {
        for (size_t i = 0; i < n->nkids; i++)
            bind_node(n->kids[i], s, si, bad, bad_off);
        return;
    }
    if (n->kind != QN_LEAF)
        return;
    for (size_t i = 0; i < n->nterms; i++) {
        qx_cursor_close(&n->cur[i]);
        qx_cursor_clear(&n->cur[i]);
    }
    n->missing = 0;
    for (size_t i = 0; i < n->nterms; i++) {
        if (!n->found[si * n->nterms + i]) {
            n->missing = 1;
            break;
        }
    }
    if (n->missing)
        return;
    for (size_t i = 0; i < n->nterms; i++) {
        const qx_term *t = &n->segterms[si * n->nterms + i];
        if (qn_repeat(n, i))
            continue;
        if (qx_cursor_open(&n->cur[i], s, t)) {
            *bad = 1;
            *bad_off = t->post_off;
            n->missing = 1;
            return;
        }
    }
}

int qt_bind(qt_tree *t, quarry_index *ix, size_t si, qn_ctx *x, quarry_error *err)
{
    const qx_seg *s = &ix->seg[si];
    int bad = 0;
    uint64_t off = 0;
    x->seg = s;
    bind_node(t->root, s, si, &bad, &off);
    if (bad)
        return qx_bad(s, &s->post, off, "damaged postings (first block of a term)", err);
    qn_prepare(x, t->root);
    return 0;
}

int qt_corrupt(const qt_tree *t)
{
    for (size_t i = 0; i < t->nleaves; i++) {
        const qn_node *n = t->leaves[i];
        for (size_t k = 0; n->cur && k < n->nterms; k++)
            if (n->cur[k].corrupt)
                return 1;
    }
    return 0;
}

void qt_free(qt_tree *t)
{
    free_node(t->root);
    free(t->leaves);
    qbuf_free(&t->terms);
    memset(t, 0, sizeof *t);
}
