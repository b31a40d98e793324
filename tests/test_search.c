/*
 * test_search.c — the search oracle tests: quarry_search (src/query/engine.c)
 * checked against a brute-force BM25 written here, independently of the
 * index and of the engine.
 *
 *   - BM25 arithmetic on a 3-document corpus against values worked out by
 *     hand (below), for k1 0.9 b 0.4 and k1 1.2 b 0.75; ties (lower passage
 *     first, an article shown by its first best passage); a phrase longer
 *     than 64 words; phrases at the title/body boundary.
 *   - The oracle: the test keeps every unit's text (the raw text, or the
 *     passage text from quarry_passage_text and the title from
 *     quarry_article_get), analyzes it with quarry_analyze (the analyzer is
 *     shared, nothing else is), builds its own term table, document
 *     frequencies and lengths, and scores every unit of the collection for
 *     every query by walking the query tree as parse.h and engine.c's header
 *     define it. Random queries (ranked OR, +/-, AND/OR/NOT with
 *     parentheses, phrases, title:) are generated together with the tree
 *     they must parse to (checked with qq_format), over a generated Zipf
 *     corpus (passages off; passages on with 32-token passages), the sample
 *     corpus (corpus/) and, when QUARRY_CORPUS has it, the BBC collection.
 *     The full top 50 (units, articles, order, scores) and the match count
 *     must agree, for passage and article hits, and QUARRY_ALGO_AUTO must
 *     return exactly what QUARRY_ALGO_EXHAUSTIVE returns.
 *     Plain queries (quarry_search_options.plain) are checked the same way.
 *   - Errors (syntax, no terms), k = 0, paging, highlighting.
 *
 * The seed of the generated corpus and queries is fixed; QUARRY_TEST_SEED
 * overrides it.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "quarry.h"
#include "index/reader.h"
#include "query/parse.h"
#include "support/qtest.h"

#define NONE UINT32_MAX
#define BODY_OFF (1u << 24)   /* body positions are shifted past every title position */
#define TOPK 50

/* ------------------------------------------------------------ helpers */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    assert_non_null(p);
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    assert_non_null(p);
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

typedef struct sb {
    char *p;
    size_t n, cap;
} sb;

static void sb_add(sb *s, const char *t, size_t n)
{
    if (s->n + n + 1 > s->cap) {
        s->cap = (s->n + n + 1) * 2;
        s->p = xrealloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, t, n);
    s->n += n;
    s->p[s->n] = 0;
}

static void sb_puts(sb *s, const char *t) { sb_add(s, t, strlen(t)); }

/* the built string (never NULL); the builder is emptied */
static char *sb_take(sb *s)
{
    char *p = s->p ? s->p : xstrdup("");
    s->p = NULL;
    s->n = s->cap = 0;
    return p;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rn(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }
static double runif(void) { return (double)(rnd() >> 11) * 0x1.0p-53; }

static void seed_rng(uint64_t salt)
{
    const char *s = getenv("QUARRY_TEST_SEED");
    rng_state = (s && *s ? strtoull(s, NULL, 0) : 20240611ull) * 1000003ull + salt;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static char *make_tmpdir(const char *tag)
{
    char *d = xmalloc(128);
    snprintf(d, 128, "/tmp/quarry-test-search-%s-XXXXXX", tag);
    assert_non_null(mkdtemp(d));
    return d;
}

static void remove_tree(char *d)
{
    if (d)
        nftw(d, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

/* ------------------------------------------------------------ the oracle's term table */

typedef struct dict {
    char **s;
    uint32_t *len, *df;
    uint32_t n, cap;
    uint32_t *tab;      /* id + 1, 0 empty */
    uint32_t mask;
} dict;

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t dict_find(const dict *d, const char *s, size_t n)
{
    if (!d->tab)
        return NONE;
    for (uint32_t h = hash_bytes(s, n) & d->mask;; h = (h + 1) & d->mask) {
        uint32_t v = d->tab[h];
        if (!v)
            return NONE;
        v--;
        if (d->len[v] == n && memcmp(d->s[v], s, n) == 0)
            return v;
    }
}

static void dict_insert(dict *d, uint32_t id)
{
    uint32_t h = hash_bytes(d->s[id], d->len[id]) & d->mask;
    while (d->tab[h])
        h = (h + 1) & d->mask;
    d->tab[h] = id + 1;
}

static uint32_t dict_add(dict *d, const char *s, size_t n)
{
    uint32_t v = dict_find(d, s, n);
    if (v != NONE)
        return v;
    if (!d->tab || (size_t)(d->n + 1) * 2 > (size_t)d->mask + 1) {
        uint32_t size = d->tab ? (d->mask + 1) * 2 : 1024;
        free(d->tab);
        d->tab = xcalloc(size, sizeof *d->tab);
        d->mask = size - 1;
        for (uint32_t i = 0; i < d->n; i++)
            dict_insert(d, i);
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->s = xrealloc(d->s, d->cap * sizeof *d->s);
        d->len = xrealloc(d->len, d->cap * sizeof *d->len);
    }
    d->s[d->n] = xstrndup(s, n);
    d->len[d->n] = (uint32_t)n;
    dict_insert(d, d->n);
    return d->n++;
}

static void dict_free(dict *d)
{
    for (uint32_t i = 0; i < d->n; i++)
        free(d->s[i]);
    free(d->s);
    free(d->len);
    free(d->df);
    free(d->tab);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------ the oracle's units */

/* One unit: its (term, position) pairs sorted by term then position. Title
 * tokens keep their positions; body tokens are at BODY_OFF + position. */
typedef struct ounit {
    uint32_t article, len;
    uint32_t *term, *pos;
} ounit;

typedef struct model {
    dict d;
    dict pairs;      /* the index's pair terms (FORMAT.md §pairs), counted only */
    ounit *u;
    uint32_t nu, capu;
    uint32_t narts;
    uint64_t total;
    double avgdl;
    double *norm, nk1, nb;   /* k1 * (1 - b + b * len / avgdl), for (nk1, nb) */
} model;

typedef struct tokv {
    dict *d;
    uint32_t off;
    uint32_t *term, *pos;
    size_t n, cap;
} tokv;

static int on_tok(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    (void)start; (void)end;
    tokv *v = ctx;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->term = xrealloc(v->term, v->cap * sizeof *v->term);
        v->pos = xrealloc(v->pos, v->cap * sizeof *v->pos);
    }
    v->term[v->n] = dict_add(v->d, term, len);
    v->pos[v->n] = pos + v->off;
    v->n++;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void model_add_unit(model *m, quarry_index *ix, uint32_t article, const char *title,
                           const char *text, size_t len)
{
    quarry_error err;
    tokv v = { &m->d, 0, NULL, NULL, 0, 0 };
    if (title && *title)
        assert_int_equal(quarry_analyze(ix, title, strlen(title), on_tok, &v, &err), 0);
    v.off = BODY_OFF;
    assert_int_equal(quarry_analyze(ix, text, len, on_tok, &v, &err), 0);
    /* the pair terms, from the tokens in order (their words adjacent, one common) */
    for (size_t i = 1; qa_pairs(ix->an) && i < v.n; i++) {
        const char *a = m->d.s[v.term[i - 1]], *b = m->d.s[v.term[i]];
        size_t la = m->d.len[v.term[i - 1]], lb = m->d.len[v.term[i]];
        char pair[QA_MAX_PAIR];
        size_t pn;
        if (v.pos[i] == v.pos[i - 1] + 1 && (qa_common(ix->an, a, la, qhash(a, la)) || qa_common(ix->an, b, lb, qhash(b, lb))) &&
            (pn = qa_pair_term(pair, a, la, b, lb)))
            dict_add(&m->pairs, pair, pn);
    }
    uint64_t *k = xmalloc(v.n * sizeof *k);
    for (size_t i = 0; i < v.n; i++)
        k[i] = (uint64_t)v.term[i] << 32 | v.pos[i];
    qsort(k, v.n, sizeof *k, cmp_u64);
    for (size_t i = 0; i < v.n; i++) {
        v.term[i] = (uint32_t)(k[i] >> 32);
        v.pos[i] = (uint32_t)k[i];
    }
    free(k);
    if (m->nu == m->capu) {
        m->capu = m->capu ? m->capu * 2 : 1024;
        m->u = xrealloc(m->u, m->capu * sizeof *m->u);
    }
    ounit *u = &m->u[m->nu++];
    u->article = article;
    u->len = (uint32_t)v.n;
    u->term = v.term;
    u->pos = v.pos;
    m->total += v.n;
    if (article + 1 > m->narts)
        m->narts = article + 1;
}

/* document frequencies and the average length; checks them against quarry_info */
static void model_finish(model *m, quarry_index *ix)
{
    m->d.df = xcalloc(m->d.n, sizeof *m->d.df);
    for (uint32_t i = 0; i < m->nu; i++) {
        const ounit *u = &m->u[i];
        for (uint32_t j = 0; j < u->len; j++)
            if (j == 0 || u->term[j] != u->term[j - 1])
                m->d.df[u->term[j]]++;
    }
    m->avgdl = (double)m->total / (double)m->nu;
    quarry_info info;
    assert_int_equal(quarry_info_get(ix, &info), 0);
    assert_int_equal(info.passages, m->nu);
    assert_int_equal(info.articles, m->narts);
    assert_int_equal(info.tokens, m->total);
    assert_int_equal(info.terms, m->d.n + m->pairs.n);
    assert_true(fabs(info.avg_len - m->avgdl) <= 1e-12 * m->avgdl);
}

/* The model of an index from its stored passage texts and article titles. */
static void model_from_index(model *m, quarry_index *ix)
{
    quarry_info info;
    quarry_error err;
    assert_int_equal(quarry_info_get(ix, &info), 0);
    for (uint32_t a = 0; a < info.articles; a++) {
        quarry_article art;
        assert_int_equal(quarry_article_get(ix, a, &art, &err), 0);
        assert_int_equal(art.first_passage, m->nu);
        assert_true(art.npassages >= 1);
        for (uint32_t p = art.first_passage; p < art.first_passage + art.npassages; p++) {
            char *text;
            size_t len;
            assert_int_equal(quarry_passage_text(ix, p, &text, &len, &err), 0);
            model_add_unit(m, ix, a, art.title, text, len);
            free(text);
        }
    }
    model_finish(m, ix);
}

static void model_free(model *m)
{
    for (uint32_t i = 0; i < m->nu; i++) {
        free(m->u[i].term);
        free(m->u[i].pos);
    }
    free(m->u);
    free(m->norm);
    dict_free(&m->d);
    dict_free(&m->pairs);
    memset(m, 0, sizeof *m);
}

static const double *model_norm(model *m, double k1, double b)
{
    if (!m->norm || m->nk1 != k1 || m->nb != b) {
        if (!m->norm)
            m->norm = xmalloc(m->nu * sizeof *m->norm);
        for (uint32_t i = 0; i < m->nu; i++)
            m->norm[i] = k1 * (1.0 - b + b * (double)m->u[i].len / m->avgdl);
        m->nk1 = k1;
        m->nb = b;
    }
    return m->norm;
}

static double bm25_idf(const model *m, uint32_t df)
{
    double n = (double)m->nu, d = (double)df;
    return log(1.0 + (n - d + 0.5) / (d + 0.5));
}

/* [*lo, *hi) of the entries of term t in u */
static void term_range(const ounit *u, uint32_t t, uint32_t *lo, uint32_t *hi)
{
    uint32_t a = 0, b = u->len;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if (u->term[mid] < t)
            a = mid + 1;
        else
            b = mid;
    }
    *lo = a;
    b = u->len;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if (u->term[mid] <= t)
            a = mid + 1;
        else
            b = mid;
    }
    *hi = a;
}

static int has_pos(const ounit *u, uint32_t lo, uint32_t hi, uint32_t want)
{
    uint32_t end = hi;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (u->pos[mid] < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < end && u->pos[lo] == want;
}

/* ------------------------------------------------------------ query trees */

/* A query tree as parse.h describes it, plus what the oracle derives. */
typedef struct qn {
    int kind;      /* QQ_WORD, QQ_PHRASE, QQ_BOOL */
    int occur;     /* QQ_SHOULD, QQ_MUST, QQ_MUST_NOT */
    int field;     /* QQ_FIELD_ANY, QQ_FIELD_TITLE */
    char *text;
    struct qn **kids;
    size_t nkids, cap;
    /* oracle */
    int empty;     /* analyzes to nothing (a BOOL: every kid empty) */
    int missing;   /* a term is absent from the collection */
    int has_must;
    size_t nt;
    char **terms;
    uint32_t *tpos;      /* the terms' positions as analyzed */
    uint32_t *tid, *rel;
    double sum_idf;
} qn;

static qn *qn_new(int kind)
{
    qn *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->occur = QQ_SHOULD;
    n->field = QQ_FIELD_ANY;
    return n;
}

static void qn_add(qn *b, qn *k, int occur)
{
    if (b->nkids == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        b->kids = xrealloc(b->kids, b->cap * sizeof *b->kids);
    }
    k->occur = occur;
    b->kids[b->nkids++] = k;
}

static void qn_free(qn *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        qn_free(n->kids[i]);
    for (size_t i = 0; i < n->nt; i++)
        free(n->terms[i]);
    free(n->terms);
    free(n->tid);
    free(n->rel);
    free(n->tpos);
    free(n->kids);
    free(n->text);
    free(n);
}

static void qn_set_field(qn *n, int field)
{
    n->field = field;
    for (size_t i = 0; i < n->nkids; i++)
        qn_set_field(n->kids[i], field);
}

static qn *qn_from_qq(const qq_node *q)
{
    qn *n = qn_new(q->kind);
    n->occur = q->occur;
    n->field = q->field;
    if (q->text)
        n->text = xstrdup(q->text);
    for (size_t i = 0; i < q->nkids; i++)
        qn_add(n, qn_from_qq(q->kids[i]), q->kids[i]->occur);
    return n;
}

/* the S-expression of parse.h's qq_format */
static void qn_format(const qn *n, sb *out)
{
    if (n->occur == QQ_MUST)
        sb_puts(out, "+");
    else if (n->occur == QQ_MUST_NOT)
        sb_puts(out, "-");
    if (n->kind == QQ_BOOL) {
        sb_puts(out, "(BOOL");
        for (size_t i = 0; i < n->nkids; i++) {
            sb_puts(out, " ");
            qn_format(n->kids[i], out);
        }
        sb_puts(out, ")");
        return;
    }
    if (n->field == QQ_FIELD_TITLE)
        sb_puts(out, "title:");
    if (n->kind == QQ_PHRASE)
        sb_puts(out, "\"");
    sb_puts(out, n->text);
    if (n->kind == QQ_PHRASE)
        sb_puts(out, "\"");
}

typedef struct qtokv {
    char **s;
    uint32_t *pos;
    size_t n, cap;
} qtokv;

static int on_qtok(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    (void)start; (void)end;
    qtokv *v = ctx;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->s = xrealloc(v->s, v->cap * sizeof *v->s);
        v->pos = xrealloc(v->pos, v->cap * sizeof *v->pos);
    }
    v->s[v->n] = xstrndup(term, len);
    v->pos[v->n] = pos;
    v->n++;
    return 0;
}

/* Analyzes the leaves (with the index's analyzer) and looks their terms up
 * in the oracle's own table. */
static void qn_prepare(const model *m, quarry_index *ix, qn *n)
{
    if (n->kind == QQ_BOOL) {
        n->empty = 1;
        n->has_must = 0;
        for (size_t i = 0; i < n->nkids; i++) {
            qn_prepare(m, ix, n->kids[i]);
            if (!n->kids[i]->empty) {
                n->empty = 0;
                if (n->kids[i]->occur == QQ_MUST)
                    n->has_must = 1;
            }
        }
        return;
    }
    if (n->tid)
        return;
    if (!n->terms) {   /* else given already analyzed (plain queries) */
        quarry_error err;
        qtokv v = { 0 };
        assert_int_equal(quarry_analyze(ix, n->text, strlen(n->text), on_qtok, &v, &err), 0);
        n->nt = v.n;
        n->terms = v.s;
        n->tpos = v.pos;
    }
    n->empty = n->nt == 0;
    n->tid = xmalloc(n->nt * sizeof *n->tid);
    n->rel = xmalloc(n->nt * sizeof *n->rel);
    n->missing = 0;
    n->sum_idf = 0;
    for (size_t i = 0; i < n->nt; i++) {
        n->tid[i] = dict_find(&m->d, n->terms[i], strlen(n->terms[i]));
        n->rel[i] = n->tpos[i] - n->tpos[0];
        if (n->tid[i] == NONE)
            n->missing = 1;
        else
            n->sum_idf += bm25_idf(m, m->d.df[n->tid[i]]);
    }
}

/* The tree of a plain query (quarry_search_options.plain, README): every
 * word separated by spaces or tabs is an optional clause; a word that
 * analyzes to several terms is a group of optional one-term clauses (a bag,
 * not a phrase). */
static qn *plain_tree(quarry_index *ix, const char *q)
{
    qn *root = qn_new(QQ_BOOL);
    for (const char *p = q; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != '\t')
            e++;
        if (e == p)
            break;
        qn *w = qn_new(QQ_WORD);
        w->text = xstrndup(p, (size_t)(e - p));
        quarry_error err;
        qtokv v = { 0 };
        assert_int_equal(quarry_analyze(ix, w->text, strlen(w->text), on_qtok, &v, &err), 0);
        if (v.n <= 1) {
            w->terms = v.s;
            w->tpos = v.pos;
            w->nt = v.n;
            qn_add(root, w, QQ_SHOULD);
        } else {
            qn *bag = qn_new(QQ_BOOL);
            for (size_t i = 0; i < v.n; i++) {
                qn *t = qn_new(QQ_WORD);
                t->text = xstrdup(v.s[i]);
                t->terms = xmalloc(sizeof *t->terms);
                t->terms[0] = v.s[i];
                t->tpos = xmalloc(sizeof *t->tpos);
                t->tpos[0] = 0;
                t->nt = 1;
                qn_add(bag, t, QQ_SHOULD);
            }
            free(v.s);
            free(v.pos);
            qn_free(w);
            qn_add(root, bag, QQ_SHOULD);
        }
        p = e;
    }
    return root;
}

/* Terms of the leaves with no MUST_NOT above them, in tree order, without
 * repeats (quarry_results.terms); *scoring counts those leaves whose terms
 * are all in the collection. */
static void qn_positive(const qn *n, int positive, char ***terms, size_t *nterms, int *scoring)
{
    if (n->kind == QQ_BOOL) {
        for (size_t i = 0; i < n->nkids; i++)
            qn_positive(n->kids[i], positive && n->kids[i]->occur != QQ_MUST_NOT, terms, nterms, scoring);
        return;
    }
    if (!positive || n->empty)
        return;
    if (!n->missing)
        (*scoring)++;
    for (size_t i = 0; i < n->nt; i++) {
        size_t j = 0;
        while (j < *nterms && strcmp((*terms)[j], n->terms[i]) != 0)
            j++;
        if (j == *nterms) {
            *terms = xrealloc(*terms, (*nterms + 1) * sizeof **terms);
            (*terms)[(*nterms)++] = n->terms[i];
        }
    }
}

/* occurrences of the leaf in unit u */
static uint32_t leaf_freq(const ounit *u, const qn *l)
{
    if (l->missing)
        return 0;
    uint32_t lo, hi;
    term_range(u, l->tid[0], &lo, &hi);
    if (lo == hi)
        return 0;
    int title = l->field == QQ_FIELD_TITLE;
    uint32_t f = 0;
    for (uint32_t j = lo; j < hi; j++) {
        uint32_t p = u->pos[j];
        if (title && p >= BODY_OFF)
            break;
        int ok = 1;
        for (size_t i = 1; i < l->nt && ok; i++) {
            uint32_t a, b;
            term_range(u, l->tid[i], &a, &b);
            ok = has_pos(u, a, b, p + l->rel[i]);
        }
        f += ok;
    }
    return f;
}

/* parse.h: every MUST matches, no MUST_NOT matches, and without MUST at
 * least one SHOULD; the score is the sum over matching MUST and SHOULD
 * clauses, a leaf's being idf * f * (k1 + 1) / (f + norm). */
static int oeval(const qn *n, const ounit *u, double norm, double k1, double *score)
{
    if (n->empty)
        return 0;
    if (n->kind != QQ_BOOL) {
        uint32_t f = leaf_freq(u, n);
        if (!f)
            return 0;
        *score += n->sum_idf * (k1 + 1.0) * f / (f + norm);
        return 1;
    }
    double s = 0, dummy = 0;
    int any = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        const qn *k = n->kids[i];
        if (k->empty)
            continue;
        if (k->occur == QQ_MUST_NOT) {
            if (oeval(k, u, norm, k1, &dummy))
                return 0;
        } else if (k->occur == QQ_MUST) {
            if (!oeval(k, u, norm, k1, &s))
                return 0;
        } else {
            any |= oeval(k, u, norm, k1, &s);
        }
    }
    if (!n->has_must && !any)
        return 0;
    *score += s;
    return 1;
}

typedef struct ocand {
    double s;
    uint32_t unit, art;
} ocand;

static int cmp_ocand(const void *a, const void *b)
{
    const ocand *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->unit < y->unit ? -1 : x->unit > y->unit;
}

typedef struct ores {
    int rc;
    uint64_t matched;
    size_t n;
    ocand *hits;
    char **terms;   /* borrowed from the tree */
    size_t nterms;
} ores;

/* The oracle's answer for a prepared tree. */
static void oracle(model *m, const qn *root, double k1, double b, int passages, unsigned k,
                   unsigned offset, ores *out)
{
    memset(out, 0, sizeof *out);
    int scoring = 0;
    qn_positive(root, 1, &out->terms, &out->nterms, &scoring);
    if (root->empty || scoring == 0) {
        out->rc = QUARRY_ENOTERMS;
        return;
    }
    const double *norm = model_norm(m, k1, b);
    ocand *all = xmalloc(m->nu * sizeof *all);
    size_t nall = 0;
    double *best = NULL;
    uint32_t *bunit = NULL;
    if (!passages) {
        best = xmalloc(m->narts * sizeof *best);
        bunit = xmalloc(m->narts * sizeof *bunit);
        for (uint32_t a = 0; a < m->narts; a++)
            bunit[a] = NONE;
    }
    for (uint32_t i = 0; i < m->nu; i++) {
        double s = 0;
        if (!oeval(root, &m->u[i], norm[i], k1, &s))
            continue;
        uint32_t a = m->u[i].article;
        if (passages) {
            all[nall++] = (ocand){ s, i, a };
        } else if (bunit[a] == NONE || s > best[a]) {
            best[a] = s;
            bunit[a] = i;
        }
    }
    if (!passages) {
        for (uint32_t a = 0; a < m->narts; a++)
            if (bunit[a] != NONE)
                all[nall++] = (ocand){ best[a], bunit[a], a };
        free(best);
        free(bunit);
    }
    qsort(all, nall, sizeof *all, cmp_ocand);
    out->matched = nall;
    size_t from = offset < nall ? offset : nall;
    out->n = nall - from < k ? nall - from : k;
    out->hits = xmalloc((out->n ? out->n : 1) * sizeof *out->hits);
    memcpy(out->hits, all + from, out->n * sizeof *all);
    free(all);
}

static void ores_free(ores *r)
{
    free(r->hits);
    free(r->terms);
}

/* ------------------------------------------------------------ checking the engine */

typedef struct checker {
    const char *name;
    model *m;
    quarry_index *ix;
    unsigned queries;      /* distinct queries */
    unsigned runs;         /* quarry_search calls compared with the oracle */
    unsigned with_hits, no_hits, noterms;
    unsigned failures;
    unsigned printed;
    int plain;             /* run the queries as plain queries */
} checker;

static int report(checker *c, const char *q, const char *cfg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int report(checker *c, const char *q, const char *cfg, const char *fmt, ...)
{
    c->failures++;
    if (c->printed++ < 25) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        printf("[%s] MISMATCH query '%s' (%s): %s\n", c->name, q, cfg, msg);
    }
    return 1;
}

static int rel_close(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fmax(fabs(a), fabs(b)) || a == b;
}

/* Compares one engine result with the oracle's; 0 when they agree. */
static int compare(checker *c, const char *q, const char *cfg, const ores *exp, int rc,
                   const quarry_error *err, const quarry_results *r)
{
    if (rc != exp->rc)
        return report(c, q, cfg, "quarry_search returned %d (%s), the oracle %d", rc,
                      rc ? err->msg : "ok", exp->rc);
    if (rc)
        return 0;
    /* with pruning, the count is exact up to QUARRY_COUNT_EXACT, then a lower bound */
    if (r->matched_exact ? r->matched != exp->matched
                         : r->matched < QUARRY_COUNT_EXACT || r->matched > exp->matched)
        return report(c, q, cfg, "matched %llu (%s), the oracle %llu", (unsigned long long)r->matched,
                      r->matched_exact ? "exact" : "at least", (unsigned long long)exp->matched);
    if (r->nterms != exp->nterms)
        return report(c, q, cfg, "%zu query terms, the oracle %zu", r->nterms, exp->nterms);
    for (size_t i = 0; i < r->nterms; i++)
        if (strcmp(r->terms[i], exp->terms[i]) != 0)
            return report(c, q, cfg, "query term %zu is '%s', the oracle's '%s'", i, r->terms[i],
                          exp->terms[i]);
    if (r->n != exp->n)
        return report(c, q, cfg, "%zu hits, the oracle %zu", r->n, exp->n);
    for (size_t i = 0; i < r->n; i++) {
        const quarry_hit *h = &r->hits[i];
        const ocand *e = &exp->hits[i];
        if (h->passage != e->unit || h->article != e->art)
            return report(c, q, cfg,
                          "hit %zu is passage %u (article %u, score %.17g), the oracle's passage %u "
                          "(article %u, score %.17g)",
                          i, h->passage, h->article, h->score, e->unit, e->art, e->s);
        if (!rel_close(h->score, e->s, 1e-9))
            return report(c, q, cfg, "hit %zu (passage %u): score %.17g, the oracle %.17g", i,
                          h->passage, h->score, e->s);
    }
    return 0;
}

/* AUTO must return exactly what EXHAUSTIVE returns. */
static int compare_exact(checker *c, const char *q, const char *cfg, int rc1, const quarry_results *r1,
                         int rc2, const quarry_results *r2)
{
    if (rc1 != rc2)
        return report(c, q, cfg, "AUTO returned %d, EXHAUSTIVE %d", rc2, rc1);
    if (rc1)
        return 0;
    if (r1->n != r2->n || !r1->matched_exact ||
        (r2->matched_exact ? r1->matched != r2->matched
                           : r2->matched < QUARRY_COUNT_EXACT || r2->matched > r1->matched))
        return report(c, q, cfg, "AUTO: %zu hits of %llu, EXHAUSTIVE %zu of %llu", r2->n,
                      (unsigned long long)r2->matched, r1->n, (unsigned long long)r1->matched);
    for (size_t i = 0; i < r1->n; i++)
        if (r1->hits[i].passage != r2->hits[i].passage || r1->hits[i].article != r2->hits[i].article
            || r1->hits[i].score != r2->hits[i].score)
            return report(c, q, cfg, "hit %zu: AUTO passage %u score %.17g, EXHAUSTIVE passage %u score %.17g",
                          i, r2->hits[i].passage, r2->hits[i].score, r1->hits[i].passage,
                          r1->hits[i].score);
    return 0;
}

static const double params[][2] = { { 0.9, 0.4 }, { 1.2, 0.75 }, { 2.0, 1.0 }, { 0.5, 0.0 }, { 0.0, 0.5 } };

static int run_search(checker *c, const char *qs, double k1, double b, int passages, int algo,
                      unsigned k, unsigned offset, quarry_results **r, quarry_error *err, char *cfg,
                      size_t cfgsize)
{
    quarry_search_options o;
    quarry_search_options_init(&o);
    o.k = k;
    o.offset = offset;
    o.k1 = k1;
    o.b = b;
    o.passages = passages;
    o.algorithm = algo;
    o.plain = c->plain;
    *r = NULL;
    snprintf(cfg, cfgsize, "%s%s hits, %s, k1 %g b %g, k %u offset %u", c->plain ? "plain, " : "",
             passages ? "passage" : "article", algo == QUARRY_ALGO_EXHAUSTIVE ? "EXHAUSTIVE" : "AUTO", k1, b,
             k, offset);
    c->runs++;
    return quarry_search(c->ix, qs, &o, r, err);
}

/* Runs `qs` (whose tree the oracle evaluates) for passage and article hits,
 * with both algorithms and the given BM25 parameters, and once more with
 * AUTO for a random page (offset, k). */
static void check_tree_params(checker *c, qn *root, const char *qs, double k1, double b)
{
    qn_prepare(c->m, c->ix, root);
    c->queries++;
    char cfg[160];
    for (int passages = 0; passages <= 1; passages++) {
        ores exp;
        oracle(c->m, root, k1, b, passages, TOPK, 0, &exp);
        quarry_results *r[2];
        int rc[2];
        quarry_error err[2];
        for (int a = 0; a < 2; a++) {
            rc[a] = run_search(c, qs, k1, b, passages, a == 0 ? QUARRY_ALGO_EXHAUSTIVE : QUARRY_ALGO_AUTO,
                               TOPK, 0, &r[a], &err[a], cfg, sizeof cfg);
            compare(c, qs, cfg, &exp, rc[a], &err[a], rc[a] ? NULL : r[a]);
            if (a == 1)
                compare_exact(c, qs, cfg, rc[0], r[0], rc[1], r[1]);
        }
        if (passages) {
            if (exp.rc)
                c->noterms++;
            else if (exp.n)
                c->with_hits++;
            else
                c->no_hits++;
        }
        for (int a = 0; a < 2; a++)
            if (!rc[a])
                quarry_results_free(r[a]);
        if (exp.rc == 0 && exp.matched > 1) {
            /* small k matters most to a pruning AUTO */
            unsigned offset = runif() < 0.5 ? 0 : 1 + rn((uint32_t)(exp.matched < 60 ? exp.matched : 60));
            unsigned k = 1 + rn(20);
            ores page;
            oracle(c->m, root, k1, b, passages, k, offset, &page);
            quarry_results *pr;
            quarry_error perr;
            int prc = run_search(c, qs, k1, b, passages, QUARRY_ALGO_AUTO, k, offset, &pr, &perr, cfg, sizeof cfg);
            compare(c, qs, cfg, &page, prc, &perr, prc ? NULL : pr);
            if (!prc)
                quarry_results_free(pr);
            ores_free(&page);
        }
        ores_free(&exp);
    }
}

static void check_tree(checker *c, qn *root, const char *qs)
{
    const double *p = params[rn(sizeof params / sizeof params[0])];
    check_tree_params(c, root, qs, p[0], p[1]);
}

/* The tree the parser makes of `qs` must be `root` (else the query is not
 * evaluated: the oracle would be answering another question). */
static int check_parse(checker *c, const qn *root, const char *qs)
{
    qq_node *q = NULL;
    quarry_error err;
    int rc = qq_parse(qs, strlen(qs), &q, &err);
    sb want = { 0 };
    qn_format(root, &want);
    if (rc) {
        report(c, qs, "parse", "qq_parse failed (%s); expected %s", err.msg, want.p);
        free(want.p);
        return -1;
    }
    qbuf got;
    qbuf_init(&got);
    assert_int_equal(qq_format(q, &got), 0);
    int bad = strcmp((const char *)got.p, want.p) != 0;
    if (bad)
        report(c, qs, "parse", "parsed as %s, expected %s", (const char *)got.p, want.p);
    qbuf_free(&got);
    qq_free(q);
    free(want.p);
    return bad ? -1 : 0;
}

/* A query string checked through the parser's own tree. */
static void check_string(checker *c, const char *qs, const char *sexpr)
{
    qq_node *q = NULL;
    quarry_error err;
    assert_int_equal(qq_parse(qs, strlen(qs), &q, &err), 0);
    qn *root = qn_from_qq(q);
    qq_free(q);
    if (sexpr) {
        sb got = { 0 };
        qn_format(root, &got);
        assert_string_equal(got.p, sexpr);
        free(got.p);
    }
    for (size_t i = 0; i < 2; i++)
        check_tree_params(c, root, qs, params[i][0], params[i][1]);
    qn_free(root);
}

static void checker_done(checker *c)
{
    printf("[%s] %u queries, %u searches compared with the oracle: %u with hits, %u without, "
           "%u without terms; %u mismatches\n",
           c->name, c->queries, c->runs, c->with_hits, c->no_hits, c->noterms, c->failures);
    assert_int_equal(c->failures, 0);
}

/* ------------------------------------------------------------ random queries */

/* Words to draw queries from: per document, its words in order (surface
 * forms) and its title's words. */
typedef struct wdoc {
    char **bw, **tw;
    size_t nbw, ntw, cbw, ctw;
} wdoc;

typedef struct wsrc {
    wdoc *d;
    size_t n;
    char **vocab;          /* Zipf vocabulary, may be NULL */
    const double *cdf;
    size_t nvocab;
} wsrc;

static void wdoc_push(char ***v, size_t *n, size_t *cap, const char *w, size_t len)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = xstrndup(w, len);
}

static void wsrc_free(wsrc *w)
{
    for (size_t i = 0; i < w->n; i++) {
        for (size_t j = 0; j < w->d[i].nbw; j++)
            free(w->d[i].bw[j]);
        for (size_t j = 0; j < w->d[i].ntw; j++)
            free(w->d[i].tw[j]);
        free(w->d[i].bw);
        free(w->d[i].tw);
    }
    free(w->d);
    memset(w, 0, sizeof *w);
}

typedef struct span_ctx {
    const char *text;
    char ***v;
    size_t *n, *cap;
} span_ctx;

static int on_span(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    (void)term; (void)len; (void)pos;
    span_ctx *s = ctx;
    wdoc_push(s->v, s->n, s->cap, s->text + start, end - start);
    return 0;
}

/* The words of a text as the analyzer finds them (original spellings). */
static void add_words(quarry_index *ix, wdoc *d, int title, const char *text, size_t len)
{
    quarry_error err;
    span_ctx s = { text, title ? &d->tw : &d->bw, title ? &d->ntw : &d->nbw, title ? &d->ctw : &d->cbw };
    assert_int_equal(quarry_analyze(ix, text, len, on_span, &s, &err), 0);
}

/* words the query syntax would not take as a plain word */
static int usable(const char *w)
{
    if (!*w || !strcmp(w, "AND") || !strcmp(w, "OR") || !strcmp(w, "NOT") || *w == '+' || *w == '-')
        return 0;
    return strpbrk(w, "()\" \t\n") == NULL && strncmp(w, "title:", 6) != 0;
}

static const char *body_word(wsrc *w)
{
    for (int t = 0; t < 1000; t++) {
        wdoc *d = &w->d[rn((uint32_t)w->n)];
        if (d->nbw) {
            const char *s = d->bw[rn((uint32_t)d->nbw)];
            if (usable(s))
                return s;
        }
    }
    return "nothing";
}

static const char *title_word(wsrc *w)
{
    for (int t = 0; t < 1000; t++) {
        wdoc *d = &w->d[rn((uint32_t)w->n)];
        if (d->ntw) {
            const char *s = d->tw[rn((uint32_t)d->ntw)];
            if (usable(s))
                return s;
        }
    }
    return body_word(w);
}

static const char *zipf_word(wsrc *w)
{
    if (!w->vocab)
        return body_word(w);
    double x = runif() * w->cdf[w->nvocab - 1];
    size_t lo = 0, hi = w->nvocab - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->cdf[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return w->vocab[lo];
}

/* A query word: mostly a word of the collection, sometimes a Zipf draw, a
 * hyphenated pair, an absent word or a stop word. */
static char *pick_word(wsrc *w)
{
    double r = runif();
    char buf[512];
    if (r < 0.62)
        return xstrdup(body_word(w));
    if (r < 0.72)
        return xstrdup(title_word(w));
    if (r < 0.86)
        return xstrdup(zipf_word(w));
    if (r < 0.91) {   /* two adjacent words joined by a hyphen: analyzed as a phrase */
        for (int t = 0; t < 100; t++) {
            wdoc *d = &w->d[rn((uint32_t)w->n)];
            if (d->nbw < 2)
                continue;
            size_t i = rn((uint32_t)d->nbw - 1);
            if (!usable(d->bw[i]) || !usable(d->bw[i + 1]))
                continue;
            snprintf(buf, sizeof buf, "%s-%s", d->bw[i], d->bw[i + 1]);
            return xstrdup(buf);
        }
        return xstrdup(body_word(w));
    }
    if (r < 0.96) {
        snprintf(buf, sizeof buf, "zqx%u", rn(1000));
        return xstrdup(buf);
    }
    static const char *const stop[] = { "the", "of", "and", "The" };
    return xstrdup(stop[rn(4)]);
}

/* A phrase's contents: 2-4 adjacent words of a body or title, or random words. */
static char *pick_phrase(wsrc *w, int title)
{
    sb s = { 0 };
    size_t len = 2 + (runif() < 0.3) + (runif() < 0.1);
    if (runif() < 0.15) {
        for (size_t i = 0; i < len; i++) {
            if (i)
                sb_puts(&s, " ");
            sb_puts(&s, title ? title_word(w) : zipf_word(w));
        }
        return sb_take(&s);
    }
    if (runif() < 0.12) {   /* a word repeated in the phrase ("to be or not to be"): text where one is */
        for (int t = 0; t < 1000; t++) {
            wdoc *d = &w->d[rn((uint32_t)w->n)];
            char **v = title ? d->tw : d->bw;
            size_t n = title ? d->ntw : d->nbw, at = n ? rn((uint32_t)n) : 0, j = at + 1;
            while (j < n && j < at + 6 && strcasecmp(v[j], v[at]))
                j++;
            if (j >= n || j >= at + 6)
                continue;
            size_t end = j + 1 + (j + 1 < n && runif() < 0.5), i;
            for (i = at; i < end && usable(v[i]); i++)
                ;
            if (i < end)
                continue;
            for (i = at; i < end; i++) {
                if (i > at)
                    sb_puts(&s, " ");
                sb_puts(&s, v[i]);
            }
            return sb_take(&s);
        }
        const char *a = title ? title_word(w) : zipf_word(w), *b = zipf_word(w);   /* none found: made up */
        sb_puts(&s, a);
        sb_puts(&s, " ");
        sb_puts(&s, b);
        sb_puts(&s, " ");
        sb_puts(&s, a);
        return sb_take(&s);
    }
    for (int t = 0; t < 1000; t++) {
        wdoc *d = &w->d[rn((uint32_t)w->n)];
        char **v = title ? d->tw : d->bw;
        size_t n = title ? d->ntw : d->nbw;
        if (n < len)
            continue;
        size_t at = rn((uint32_t)(n - len + 1)), i;
        for (i = 0; i < len && usable(v[at + i]); i++)
            ;
        if (i < len)
            continue;
        for (i = 0; i < len; i++) {
            if (i)
                sb_puts(&s, " ");
            sb_puts(&s, v[at + i]);
        }
        return sb_take(&s);
    }
    sb_puts(&s, body_word(w));
    sb_puts(&s, " ");
    sb_puts(&s, body_word(w));
    return sb_take(&s);
}

enum { M_NONE, M_PLUS, M_MINUS, M_NOT };

/* A clause as parse.h's grammar builds it: a node, its prefix, its text. */
typedef struct gcl {
    qn *n;
    int mod;
    char *s;
} gcl;

static int occur_in(int mod, int in_and)
{
    if (mod == M_MINUS || mod == M_NOT)
        return QQ_MUST_NOT;
    if (mod == M_PLUS || in_and)
        return QQ_MUST;
    return QQ_SHOULD;
}

static char *cat3(const char *a, const char *b, const char *c)
{
    sb s = { 0 };
    sb_puts(&s, a);
    sb_puts(&s, b);
    sb_puts(&s, c);
    return sb_take(&s);
}

static gcl g_leaf(int kind, char *text)
{
    gcl c = { qn_new(kind), M_NONE, NULL };
    c.n->text = text;
    c.s = kind == QQ_PHRASE ? cat3("\"", text, "\"") : xstrdup(text);
    return c;
}

static gcl g_prefix(gcl c, int mod)
{
    assert_int_equal(c.mod, M_NONE);
    char *s = cat3(mod == M_PLUS ? "+" : mod == M_MINUS ? "-" : "NOT ", c.s, "");
    free(c.s);
    c.s = s;
    c.mod = mod;
    return c;
}

/* parse.h: a prefixed clause on its own becomes a one-clause BOOL */
static qn *g_wrap(gcl c)
{
    if (c.mod == M_NONE)
        return c.n;
    qn *b = qn_new(QQ_BOOL);
    qn_add(b, c.n, occur_in(c.mod, 0));
    return b;
}

static gcl g_paren(gcl c)
{
    gcl r = { g_wrap(c), M_NONE, cat3("(", c.s, ")") };
    free(c.s);
    return r;
}

static gcl g_title(gcl c)
{
    assert_int_equal(c.mod, M_NONE);
    char *s = cat3("title:", c.s, "");
    free(c.s);
    c.s = s;
    qn_set_field(c.n, QQ_FIELD_TITLE);
    return c;
}

/* An OR group (members: unary clauses or AND groups) or an AND group
 * (members: unary clauses). */
static gcl g_group(gcl *cs, size_t k, int in_and)
{
    if (k == 1)
        return cs[0];
    gcl g = { qn_new(QQ_BOOL), M_NONE, NULL };
    sb s = { 0 };
    for (size_t i = 0; i < k; i++) {
        if (i)
            sb_puts(&s, in_and ? " AND " : runif() < 0.2 ? " OR " : " ");
        sb_puts(&s, cs[i].s);
        free(cs[i].s);
        qn_add(g.n, cs[i].n, occur_in(cs[i].mod, in_and));
    }
    g.s = sb_take(&s);
    return g;
}

static gcl g_word(wsrc *w) { return g_leaf(QQ_WORD, pick_word(w)); }
static gcl g_phrase(wsrc *w, int title) { return g_leaf(QQ_PHRASE, pick_phrase(w, title)); }

static gcl g_expr(wsrc *w, int depth);

static gcl g_titled(wsrc *w, int depth)
{
    double r = runif();
    if (r < 0.6)
        return g_title(g_leaf(QQ_WORD, xstrdup(title_word(w))));
    if (r < 0.85 || depth == 0)
        return g_title(g_phrase(w, 1));
    gcl cs[2] = { g_leaf(QQ_WORD, xstrdup(title_word(w))), g_leaf(QQ_WORD, xstrdup(title_word(w))) };
    return g_title(g_paren(g_group(cs, 2, 0)));
}

static gcl g_unary(wsrc *w, int depth)
{
    double r = runif();
    gcl c = r < 0.55 ? g_word(w) : r < 0.72 ? g_phrase(w, 0) : r < 0.85 || depth == 0 ? g_titled(w, depth)
                                                                                     : g_paren(g_expr(w, depth - 1));
    r = runif();
    return r < 0.6 ? c : g_prefix(c, r < 0.75 ? M_PLUS : r < 0.9 ? M_MINUS : M_NOT);
}

static gcl g_expr(wsrc *w, int depth)
{
    gcl cs[4];
    size_t k = 1 + rn(3);
    for (size_t i = 0; i < k; i++) {
        if (runif() < 0.3) {
            gcl as[3];
            size_t ka = 2 + rn(2);
            for (size_t j = 0; j < ka; j++)
                as[j] = g_unary(w, depth);
            cs[i] = g_group(as, ka, 1);
        } else {
            cs[i] = g_unary(w, depth);
        }
    }
    return g_group(cs, k, 0);
}

/* One random query of type t (0 ranked OR, 1 +/-, 2 boolean, 3 phrase, 4 title). */
static gcl g_query(wsrc *w, int t)
{
    gcl cs[5];
    size_t k;
    switch (t) {
    case 0:
        k = 1 + rn(4);
        for (size_t i = 0; i < k; i++)
            cs[i] = g_word(w);
        return g_group(cs, k, 0);
    case 1:
        k = 2 + rn(3);
        for (size_t i = 0; i < k; i++) {
            gcl c = runif() < 0.75 ? g_word(w) : g_phrase(w, 0);
            double r = runif();
            cs[i] = r < 0.35 ? g_prefix(c, M_PLUS) : r < 0.6 ? g_prefix(c, M_MINUS) : c;
        }
        return g_group(cs, k, 0);
    case 2:
        return g_expr(w, 2);
    case 3:
        cs[0] = g_phrase(w, 0);
        k = 1 + (runif() < 0.5 ? 1 + rn(2) : 0);
        for (size_t i = 1; i < k; i++) {
            double r = runif();
            gcl c = g_word(w);
            cs[i] = r < 0.3 ? g_prefix(c, M_PLUS) : r < 0.5 ? g_prefix(c, M_MINUS) : c;
        }
        if (runif() < 0.2)
            cs[0] = g_prefix(cs[0], M_PLUS);
        return g_group(cs, k, 0);
    default:
        cs[0] = g_titled(w, 1);
        k = 1 + (runif() < 0.5 ? 1 + rn(2) : 0);
        for (size_t i = 1; i < k; i++)
            cs[i] = runif() < 0.5 ? g_word(w) : g_titled(w, 0);
        if (runif() < 0.25)
            cs[0] = g_prefix(cs[0], M_PLUS);
        return g_group(cs, k, 0);
    }
}

static void check_random(checker *c, wsrc *w, unsigned nq)
{
    for (unsigned i = 0; i < nq; i++) {
        gcl g = g_query(w, (int)(i % 5));
        qn *root = g_wrap(g);
        root->occur = QQ_SHOULD;
        if (check_parse(c, root, g.s) == 0)
            check_tree(c, root, g.s);
        free(g.s);
        qn_free(root);
    }
}

/* 2-word ranked queries of words found in the collection */
static void check_two_words(checker *c, wsrc *w, unsigned nq)
{
    for (unsigned i = 0; i < nq; i++) {
        gcl cs[2] = { g_leaf(QQ_WORD, xstrdup(body_word(w))), g_leaf(QQ_WORD, xstrdup(body_word(w))) };
        gcl g = g_group(cs, 2, 0);
        if (check_parse(c, g.n, g.s) == 0)
            check_tree(c, g.n, g.s);
        free(g.s);
        qn_free(g.n);
    }
}

/* Plain queries of 1-6 words, some with what would be syntax in a normal
 * query ("+x", "-x", "(x", "x)", '"x', AND, OR, NOT, "title:x"). */
static void check_plain(checker *c, wsrc *w, unsigned nq)
{
    static const char *const pre[] = { "+", "-", "(", "\"", "title:" };
    static const char *const ops[] = { "AND", "OR", "NOT", "and" };
    c->plain = 1;
    for (unsigned i = 0; i < nq; i++) {
        sb s = { 0 };
        size_t k = 1 + rn(6);
        for (size_t j = 0; j < k; j++) {
            if (j)
                sb_puts(&s, runif() < 0.8 ? " " : " \t ");
            double r = runif();
            if (r < 0.1) {
                sb_puts(&s, ops[rn(4)]);
                continue;
            }
            if (r < 0.25)
                sb_puts(&s, pre[rn(5)]);
            char *word = pick_word(w);
            sb_puts(&s, word);
            free(word);
            if (runif() < 0.08)
                sb_puts(&s, runif() < 0.5 ? ")" : "\"");
        }
        char *q = sb_take(&s);
        qn *root = plain_tree(c->ix, q);
        check_tree(c, root, q);
        qn_free(root);
        free(q);
    }
    c->plain = 0;
}

/* ------------------------------------------------------------ indexes */

typedef struct gdoc {
    char id[16];
    char *title;
    char *text;
    size_t len;
} gdoc;

static quarry_index *open_index(const char *dir)
{
    quarry_index *ix = NULL;
    quarry_error err;
    int rc = quarry_open(dir, &ix, &err);
    if (rc)
        fail_msg("quarry_open %s: %s", dir, err.msg);
    return ix;
}

static void build_index(const char *dir, const quarry_index_options *o, const gdoc *docs, size_t n)
{
    quarry_writer *w = twriter_open(dir, o);
    quarry_error err;
    int rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = quarry_writer_add(w, docs[i].id, docs[i].title, docs[i].text, docs[i].len, NULL, NULL, &err)))
            fail_msg("quarry_writer_add %s: %s", docs[i].id, err.msg);
    if ((rc = quarry_writer_commit(w, &err)))
        fail_msg("quarry_writer_commit: %s", err.msg);
    quarry_writer_close(w);
}

/* ------------------------------------------------------------ BM25 by hand */

/*
 * Three documents, passages off, stop words "none", stemmer "none":
 *
 *   a  title "red fox"   text "the red fox jumps over the red dog"   len 2 + 8 = 10
 *   b  (no title)        text "a blue dog sleeps"                    len 4
 *   c  title "dog days"  text "red red red sun"                      len 2 + 4 = 6
 *
 * N = 3, total 20 tokens, avglen = 20/3.  len/avglen: a 1.5, b 0.6, c 0.9.
 *
 * idf(df) = ln(1 + (N - df + 0.5) / (df + 0.5)):
 *   red (a, c)       df 2: ln(1 + 1.5/2.5) = ln 1.6   = 0.47000362924573563
 *   dog (a, b, c)    df 3: ln(1 + 0.5/3.5) = ln(8/7)  = 0.13353139262452257
 *   fox (a)          df 1: ln(1 + 2.5/1.5) = ln(8/3)  = 0.98082925301172630
 *
 * norm = k1 * (1 - b + b * len/avglen):
 *   k1 0.9, b 0.4:   a 0.9*(0.6 + 0.6)   = 1.08   b 0.9*(0.6 + 0.24) = 0.756  c 0.9*(0.6 + 0.36) = 0.864
 *   k1 1.2, b 0.75:  a 1.2*(0.25+1.125)  = 1.65   b 1.2*(0.25+0.45)  = 0.84   c 1.2*(0.25+0.675) = 1.11
 *
 * score = idf * tf * (k1 + 1) / (tf + norm):
 *   "red"  (tf a 3 = title 1 + body 2, c 3)
 *     0.9/0.4:  c 0.47000362924573563*3*1.9/(3+0.864) = 0.6933283350674670
 *               a 0.47000362924573563*3*1.9/(3+1.08)  = 0.6566227173286011
 *     1.2/.75:  c 0.47000362924573563*3*2.2/(3+1.11)  = 0.7547503535332982
 *               a 0.47000362924573563*3*2.2/(3+1.65)  = 0.6671019253810441
 *   "dog"  (tf 1 in each; c's is in its title)
 *     0.9/0.4:  b 0.13353139262452257*1.9/1.756 = 0.14448157516320778
 *               c 0.13353139262452257*1.9/1.864 = 0.13611032510010346
 *               a 0.13353139262452257*1.9/2.08  = 0.12197579133970810
 *     1.2/.75:  b 0.13353139262452257*2.2/1.84  = 0.15965709987714657
 *               c 0.13353139262452257*2.2/2.11  = 0.13922704444263018
 *               a 0.13353139262452257*2.2/2.65  = 0.11085625048073573
 *   "title:red"  (tf a 1; c's title has no red; idf stays that of red)
 *     0.9/0.4:  a 0.47000362924573563*1.9/2.08  = 0.4293302382533161
 *     1.2/.75:  a 0.47000362924573563*2.2/2.65  = 0.39019169220400696
 *   "\"red fox\""  (phrase tf a 2: title and body; idf 0.470003629 + 0.980829253 = 1.450832882)
 *     0.9/0.4:  a 1.4508328822574619*2*1.9/3.08 = 1.7899886209669982
 *     1.2/.75:  a 1.4508328822574619*2*2.2/3.65 = 1.7489492279268035
 *   "red dog"  (sum): 0.9/0.4: c 0.8294386601675705, a 0.7785985086683092, b 0.14448157516320778
 *                     1.2/.75: c 0.8939773979759285, a 0.7779581758617798, b 0.15965709987714657
 *   "+red -sun": a alone, scored as "red".
 */
typedef struct hand_case {
    const char *q;
    size_t n;
    const char *ids[3];
    double s[2][3];   /* for (0.9, 0.4) and (1.2, 0.75) */
} hand_case;

static const hand_case hand_cases[] = {
    { "red", 2, { "c", "a" }, { { 0.6933283350674670, 0.6566227173286011 }, { 0.7547503535332982, 0.6671019253810441 } } },
    { "dog", 3, { "b", "c", "a" },
      { { 0.14448157516320778, 0.13611032510010346, 0.12197579133970810 },
        { 0.15965709987714657, 0.13922704444263018, 0.11085625048073573 } } },
    { "title:red", 1, { "a" }, { { 0.4293302382533161 }, { 0.39019169220400696 } } },
    { "\"red fox\"", 1, { "a" }, { { 1.7899886209669982 }, { 1.7489492279268035 } } },
    { "red dog", 3, { "c", "a", "b" },
      { { 0.8294386601675705, 0.7785985086683092, 0.14448157516320778 },
        { 0.8939773979759285, 0.7779581758617798, 0.15965709987714657 } } },
    { "+red -sun", 1, { "a" }, { { 0.6566227173286011 }, { 0.6671019253810441 } } },
};

static void test_bm25_by_hand(void **state)
{
    (void)state;
    char *dir = make_tmpdir("hand");
    quarry_index_options io;
    quarry_index_options_init(&io);
    io.passages = 0;
    io.stopwords = "none";
    io.stemmer = "none";
    gdoc docs[3] = {
        { "a", (char *)"red fox", (char *)"the red fox jumps over the red dog", 0 },
        { "b", NULL, (char *)"a blue dog sleeps", 0 },
        { "c", (char *)"dog days", (char *)"red red red sun", 0 },
    };
    for (int i = 0; i < 3; i++)
        docs[i].len = strlen(docs[i].text);
    build_index(dir, &io, docs, 3);
    quarry_index *ix = open_index(dir);
    quarry_info info;
    assert_int_equal(quarry_info_get(ix, &info), 0);
    assert_int_equal(info.passages, 3);
    assert_int_equal(info.tokens, 20);
    assert_true(fabs(info.avg_len - 20.0 / 3.0) < 1e-12);
    for (size_t c = 0; c < sizeof hand_cases / sizeof hand_cases[0]; c++) {
        const hand_case *h = &hand_cases[c];
        for (int p = 0; p < 2; p++) {
            for (int alg = 0; alg < 2; alg++) {
                for (int passages = 0; passages < 2; passages++) {
                    quarry_search_options o;
                    quarry_search_options_init(&o);
                    o.k1 = p == 1 ? 1.2 : 0.9;
                    o.b = p == 1 ? 0.75 : 0.4;
                    o.algorithm = alg ? QUARRY_ALGO_AUTO : QUARRY_ALGO_EXHAUSTIVE;
                    o.passages = passages;
                    quarry_results *r = NULL;
                    quarry_error err;
                    int rc = quarry_search(ix, h->q, &o, &r, &err);
                    if (rc)
                        fail_msg("query '%s': %s", h->q, err.msg);
                    if (r->n != h->n || r->matched != h->n)
                        fail_msg("query '%s' k1 %g b %g: %zu hits (matched %llu), expected %zu", h->q, o.k1,
                                 o.b, r->n, (unsigned long long)r->matched, h->n);
                    for (size_t i = 0; i < h->n; i++) {
                        quarry_article a;
                        assert_int_equal(quarry_article_get(ix, r->hits[i].article, &a, &err), 0);
                        assert_int_equal(r->hits[i].passage, a.first_passage);
                        if (strcmp(a.id, h->ids[i]) != 0 || !rel_close(r->hits[i].score, h->s[p][i], 1e-9))
                            fail_msg("query '%s' k1 %g b %g hit %zu: %s %.17g, expected %s %.17g", h->q, o.k1,
                                     o.b, i, a.id, r->hits[i].score, h->ids[i], h->s[p][i]);
                    }
                    quarry_results_free(r);
                }
            }
        }
    }
    quarry_close(ix);
    remove_tree(dir);
}

/* Equal scores: the lower passage first; an article is shown by its first
 * best passage; equal articles by the lower passage number. */
static void test_ties(void **state)
{
    (void)state;
    char *dir = make_tmpdir("ties");
    quarry_index_options io;
    quarry_index_options_init(&io);
    io.passage_tokens = 16;
    io.stopwords = "none";
    const char *para = "Alpha one two three four five six seven eight nine ten eleven twelve thirteen "
                       "fourteen fifteen.\n\n";
    sb t = { 0 };
    sb_puts(&t, para);
    sb_puts(&t, "Other words here are entirely different from the words of the passages around "
                "it, sixteen.\n\n");
    sb_puts(&t, para);
    char *text = sb_take(&t);
    gdoc docs[3] = {
        { "x", NULL, (char *)"beta gamma delta epsilon zeta eta theta iota", 0 },
        { "y", NULL, text, 0 },
        { "z", NULL, text, 0 },
    };
    for (int i = 0; i < 3; i++)
        docs[i].len = strlen(docs[i].text);
    build_index(dir, &io, docs, 3);
    quarry_index *ix = open_index(dir);
    quarry_error err;
    quarry_article y, z;
    assert_int_equal(quarry_article_get(ix, 1, &y, &err), 0);
    assert_int_equal(quarry_article_get(ix, 2, &z, &err), 0);
    assert_string_equal(y.id, "y");
    if (y.npassages != 3)
        fail_msg("the tie test expects 3 passages of 16 tokens in article y, the splitter made %u", y.npassages);
    for (int alg = 0; alg < 2; alg++) {
        quarry_search_options o;
        quarry_search_options_init(&o);
        o.algorithm = alg ? QUARRY_ALGO_AUTO : QUARRY_ALGO_EXHAUSTIVE;
        o.passages = 1;
        quarry_results *r;
        assert_int_equal(quarry_search(ix, "alpha", &o, &r, &err), 0);
        assert_int_equal(r->n, 4);
        assert_int_equal(r->hits[0].passage, y.first_passage);
        assert_int_equal(r->hits[1].passage, y.first_passage + 2);
        assert_int_equal(r->hits[2].passage, z.first_passage);
        assert_int_equal(r->hits[3].passage, z.first_passage + 2);
        for (int i = 1; i < 4; i++)
            assert_true(r->hits[i].score == r->hits[0].score);
        quarry_results_free(r);
        o.passages = 0;
        assert_int_equal(quarry_search(ix, "alpha", &o, &r, &err), 0);
        assert_int_equal(r->n, 2);
        assert_int_equal(r->matched, 2);
        assert_int_equal(r->hits[0].article, 1);
        assert_int_equal(r->hits[0].passage, y.first_passage);
        assert_int_equal(r->hits[1].article, 2);
        assert_int_equal(r->hits[1].passage, z.first_passage);
        quarry_results_free(r);
    }
    quarry_close(ix);
    free(text);
    remove_tree(dir);
}

/* A phrase of 70 words matches only where all 70 follow each other: "part"
 * has the first 66 in order and the last 4 elsewhere; "rest" lacks the
 * first word, which makes it the rarest term of the phrase. */
static void test_long_phrase(void **state)
{
    (void)state;
    char *dir = make_tmpdir("phrase");
    quarry_index_options io;
    quarry_index_options_init(&io);
    io.passages = 0;
    io.stopwords = "none";
    io.stemmer = "none";
    sb full = { 0 }, part = { 0 }, tail = { 0 }, rest = { 0 }, q = { 0 };
    sb_puts(&q, "\"");
    for (int i = 0; i < 70; i++) {
        char w[16];
        snprintf(w, sizeof w, "%sw%c%c", i ? " " : "", 'a' + i / 26, 'a' + i % 26);
        sb_puts(&full, w);
        sb_puts(i < 66 ? &part : &tail, w);
        if (i)
            sb_puts(&rest, w);
        sb_puts(&q, w);
    }
    sb_puts(&part, " other other other other");
    sb_puts(&part, tail.p);
    sb_puts(&q, "\"");
    gdoc docs[3] = { { "full", NULL, full.p, full.n }, { "part", NULL, part.p, part.n }, { "rest", NULL, rest.p, rest.n } };
    build_index(dir, &io, docs, 3);
    quarry_index *ix = open_index(dir);
    for (int alg = 0; alg < 2; alg++) {
        quarry_search_options o;
        quarry_search_options_init(&o);
        o.algorithm = alg ? QUARRY_ALGO_AUTO : QUARRY_ALGO_EXHAUSTIVE;
        quarry_results *r;
        quarry_error err;
        assert_int_equal(quarry_search(ix, q.p, &o, &r, &err), 0);
        quarry_article a;
        for (size_t i = 0; i < r->n; i++) {
            assert_int_equal(quarry_article_get(ix, r->hits[i].article, &a, &err), 0);
            printf("70-word phrase: hit %zu is '%s'\n", i, a.id);
        }
        if (r->n != 1)
            fail_msg("a 70-word phrase matched %zu documents, expected 1 (\"full\")", r->n);
        assert_int_equal(quarry_article_get(ix, r->hits[0].article, &a, &err), 0);
        assert_string_equal(a.id, "full");
        quarry_results_free(r);
    }
    quarry_close(ix);
    free(full.p);
    free(part.p);
    free(tail.p);
    free(rest.p);
    free(q.p);
    remove_tree(dir);
}

/* A phrase never runs from the title into the body, whatever its gaps:
 * title "alpha", body "beta gamma"; the query's eight stop words put beta
 * nine positions after alpha, across the title/body gap of the index. */
static void test_phrase_title_body(void **state)
{
    (void)state;
    char *dir = make_tmpdir("gap");
    quarry_index_options io;
    quarry_index_options_init(&io);
    io.passages = 0;
    gdoc docs[2] = { { "x", (char *)"alpha", (char *)"beta gamma", 10 },
                     { "y", (char *)"alpha beta", (char *)"alpha beta gamma", 16 } };
    build_index(dir, &io, docs, 2);
    quarry_index *ix = open_index(dir);
    static const char *const queries[][2] = {
        { "\"alpha the the the the the the the the beta\"", NULL },
        { "title:\"alpha the the the the the the the the beta\"", NULL },
        { "\"alpha the the the the the the the beta\"", NULL },
        { "title:\"alpha beta\"", "y" },
        { "\"alpha beta gamma\"", "y" },
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        quarry_search_options o;
        quarry_search_options_init(&o);
        quarry_results *r;
        quarry_error err;
        assert_int_equal(quarry_search(ix, queries[i][0], &o, &r, &err), 0);
        quarry_article a;
        if (r->n)
            assert_int_equal(quarry_article_get(ix, r->hits[0].article, &a, &err), 0);
        if (r->n != (queries[i][1] != NULL) || (r->n && strcmp(a.id, queries[i][1]) != 0))
            fail_msg("query '%s': %zu hits (first '%s'), expected %s", queries[i][0], r->n, r->n ? a.id : "",
                     queries[i][1] ? queries[i][1] : "none");
        quarry_results_free(r);
    }
    quarry_close(ix);
    remove_tree(dir);
}

/* ------------------------------------------------------------ the generated corpus */

#define G_DOCS 2000
#define G_VOCAB 3000

typedef struct gcorpus {
    gdoc *docs;
    size_t n;
    char **vocab;
    double *cdf;
    char **bw[G_DOCS], **tw[G_DOCS];
    size_t nbw[G_DOCS], ntw[G_DOCS], cbw[G_DOCS], ctw[G_DOCS];
} gcorpus;

static gcorpus *gen;

static const char *gen_zipf(void)
{
    double x = runif() * gen->cdf[G_VOCAB - 1];
    size_t lo = 0, hi = G_VOCAB - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (gen->cdf[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return gen->vocab[lo];
}

/* appends a word (capitalized when asked) and records its surface form */
static void gen_put(sb *s, char ***v, size_t *n, size_t *cap, const char *w, int cap1)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", w);
    if (cap1 && buf[0] >= 'a' && buf[0] <= 'z')
        buf[0] = (char)(buf[0] - 'a' + 'A');
    sb_puts(s, buf);
    wdoc_push(v, n, cap, buf, strlen(buf));
}

static int gen_setup(void **state)
{
    (void)state;
    seed_rng(1);
    gen = xcalloc(1, sizeof *gen);
    /* vocabulary: stop words first (most frequent), then made-up words */
    static const char *const stop[] = { "the", "of", "and", "to", "in", "a", "is", "for" };
    dict seen = { 0 };
    gen->vocab = xmalloc(G_VOCAB * sizeof *gen->vocab);
    for (size_t i = 0; i < 8; i++) {
        gen->vocab[i] = xstrdup(stop[i]);
        dict_add(&seen, stop[i], strlen(stop[i]));
    }
    static const char cons[] = "bdfgklmnprstvz", vow[] = "aeiou";
    for (size_t i = 8; i < G_VOCAB;) {
        char w[32];
        size_t n = 0, syl = 1 + rn(4);
        for (size_t s = 0; s < syl; s++) {
            w[n++] = cons[rn(sizeof cons - 1)];
            w[n++] = vow[rn(sizeof vow - 1)];
        }
        if (runif() < 0.3)
            w[n++] = cons[rn(sizeof cons - 1)];
        w[n] = 0;
        if (dict_find(&seen, w, n) != NONE)
            continue;
        dict_add(&seen, w, n);
        gen->vocab[i++] = xstrdup(w);
    }
    dict_free(&seen);
    gen->cdf = xmalloc(G_VOCAB * sizeof *gen->cdf);
    double acc = 0;
    for (size_t i = 0; i < G_VOCAB; i++)
        gen->cdf[i] = acc += 1.0 / pow((double)(i + 1), 1.05);
    /* documents */
    gen->n = G_DOCS;
    gen->docs = xcalloc(G_DOCS, sizeof *gen->docs);
    for (size_t d = 0; d < G_DOCS; d++) {
        gdoc *g = &gen->docs[d];
        snprintf(g->id, sizeof g->id, "g%05zu", d);
        size_t nt = rn(9);
        sb s = { 0 };
        for (size_t i = 0; i < nt; i++) {
            if (i)
                sb_puts(&s, " ");
            gen_put(&s, &gen->tw[d], &gen->ntw[d], &gen->ctw[d], gen_zipf(), i == 0 && runif() < 0.5);
        }
        g->title = nt ? sb_take(&s) : NULL;
        double r = runif();
        size_t nw = r < 0.86 ? 5 + rn(150) : r < 0.98 ? 200 + rn(800) : 1000 + rn(2000);
        size_t sent = 0, sentlen = 4 + rn(15), para = 0, paralen = 1 + rn(5);
        for (size_t i = 0; i < nw; i++) {
            int first = sent == 0;
            if (runif() < 0.03 && i + 1 < nw) {   /* hyphenated pair: two tokens */
                gen_put(&s, &gen->bw[d], &gen->nbw[d], &gen->cbw[d], gen_zipf(), first);
                sb_puts(&s, "-");
                i++;
            }
            gen_put(&s, &gen->bw[d], &gen->nbw[d], &gen->cbw[d], gen_zipf(), first);
            if (++sent == sentlen || i + 1 == nw) {
                sb_puts(&s, ".");
                sent = 0;
                sentlen = 4 + rn(15);
                if (++para == paralen) {
                    para = 0;
                    paralen = 1 + rn(5);
                    sb_puts(&s, "\n\n");
                } else {
                    sb_puts(&s, " ");
                }
            } else {
                sb_puts(&s, runif() < 0.05 ? ", " : " ");
            }
        }
        g->len = s.n;
        g->text = sb_take(&s);
    }
    *state = gen;
    return 0;
}

static int gen_teardown(void **state)
{
    (void)state;
    if (!gen)
        return 0;
    for (size_t d = 0; d < G_DOCS; d++) {
        free(gen->docs[d].title);
        free(gen->docs[d].text);
        for (size_t i = 0; i < gen->nbw[d]; i++)
            free(gen->bw[d][i]);
        for (size_t i = 0; i < gen->ntw[d]; i++)
            free(gen->tw[d][i]);
        free(gen->bw[d]);
        free(gen->tw[d]);
    }
    for (size_t i = 0; i < G_VOCAB; i++)
        free(gen->vocab[i]);
    free(gen->vocab);
    free(gen->cdf);
    free(gen->docs);
    free(gen);
    gen = NULL;
    return 0;
}

/* the generated corpus as a word source (borrows its arrays) */
static wsrc gen_words(void)
{
    wsrc w = { xcalloc(G_DOCS, sizeof(wdoc)), G_DOCS, gen->vocab, gen->cdf, G_VOCAB };
    for (size_t d = 0; d < G_DOCS; d++) {
        w.d[d].bw = gen->bw[d];
        w.d[d].nbw = gen->nbw[d];
        w.d[d].tw = gen->tw[d];
        w.d[d].ntw = gen->ntw[d];
    }
    return w;
}

typedef struct termseq {
    char **s;
    size_t n, cap;
} termseq;

static int on_seq(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    (void)pos; (void)start; (void)end;
    termseq *t = ctx;
    wdoc_push(&t->s, &t->n, &t->cap, term, len);
    return 0;
}

static void termseq_free(termseq *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    memset(t, 0, sizeof *t);
}

/* The passages of every article hold exactly the terms of its text, in order. */
static void check_passages_cover(quarry_index *ix, const gdoc *docs, size_t n)
{
    quarry_info info;
    quarry_error err;
    assert_int_equal(quarry_info_get(ix, &info), 0);
    for (uint32_t a = 0; a < info.articles; a++) {
        quarry_article art;
        assert_int_equal(quarry_article_get(ix, a, &art, &err), 0);
        uint32_t d;
        assert_int_equal(quarry_article_find(ix, art.id, &d, &err), 0);
        assert_int_equal(d, a);
        size_t di = strtoul(art.id + 1, NULL, 10);
        assert_true(di < n);
        termseq want = { 0 }, got = { 0 };
        assert_int_equal(quarry_analyze(ix, docs[di].text, docs[di].len, on_seq, &want, &err), 0);
        for (uint32_t p = art.first_passage; p < art.first_passage + art.npassages; p++) {
            char *text;
            size_t len;
            assert_int_equal(quarry_passage_text(ix, p, &text, &len, &err), 0);
            assert_int_equal(quarry_analyze(ix, text, len, on_seq, &got, &err), 0);
            free(text);
        }
        if (got.n != want.n)
            fail_msg("article %s: its passages hold %zu terms, its text %zu", art.id, got.n, want.n);
        for (size_t i = 0; i < got.n; i++)
            if (strcmp(got.s[i], want.s[i]) != 0)
                fail_msg("article %s: term %zu of its passages is '%s', of its text '%s'", art.id, i, got.s[i],
                         want.s[i]);
        assert_string_equal(art.title, docs[di].title ? docs[di].title : "");
        termseq_free(&want);
        termseq_free(&got);
    }
}

static void test_oracle_generated_whole(void **state)
{
    (void)state;
    seed_rng(2);
    char *dir = make_tmpdir("gen-off");
    quarry_index_options io;
    quarry_index_options_init(&io);
    io.passages = 0;
    io.stopwords = "none";
    io.stemmer = "none";
    build_index(dir, &io, gen->docs, gen->n);
    quarry_index *ix = open_index(dir);
    /* the model from the raw texts: article i is document i, one unit each */
    model m = { 0 };
    for (uint32_t i = 0; i < gen->n; i++) {
        quarry_article a;
        quarry_error err;
        assert_int_equal(quarry_article_get(ix, i, &a, &err), 0);
        assert_string_equal(a.id, gen->docs[i].id);
        assert_int_equal(a.first_passage, i);
        assert_int_equal(a.npassages, 1);
        model_add_unit(&m, ix, i, gen->docs[i].title, gen->docs[i].text, gen->docs[i].len);
    }
    model_finish(&m, ix);
    checker c = { .name = "generated, passages off", .m = &m, .ix = ix };
    wsrc w = gen_words();
    check_random(&c, &w, 200);
    free(w.d);
    checker_done(&c);
    model_free(&m);
    quarry_close(ix);
    remove_tree(dir);
}

static void test_oracle_generated_passages(void **state)
{
    (void)state;
    seed_rng(3);
    char *dir = make_tmpdir("gen-on");
    quarry_index_options io;
    quarry_index_options_init(&io);
    io.passages = 1;
    io.passage_tokens = 32;   /* default analyzer: Snowball, English stop words */
    build_index(dir, &io, gen->docs, gen->n);
    quarry_index *ix = open_index(dir);
    check_passages_cover(ix, gen->docs, gen->n);
    model m = { 0 };
    model_from_index(&m, ix);
    assert_true(m.nu > 3 * m.narts);
    checker c = { .name = "generated, 32-token passages", .m = &m, .ix = ix };
    wsrc w = gen_words();
    check_random(&c, &w, 200);
    check_plain(&c, &w, 50);
    free(w.d);
    checker_done(&c);
    model_free(&m);
    quarry_close(ix);
    remove_tree(dir);
}

/* ------------------------------------------------------------ the sample corpus */

static void words_from_index(quarry_index *ix, const model *m, wsrc *w)
{
    quarry_error err;
    w->n = m->narts;
    w->d = xcalloc(w->n, sizeof *w->d);
    for (uint32_t a = 0; a < m->narts; a++) {
        quarry_article art;
        assert_int_equal(quarry_article_get(ix, a, &art, &err), 0);
        add_words(ix, &w->d[a], 1, art.title, strlen(art.title));
        char *text;
        size_t len;
        assert_int_equal(quarry_article_text(ix, a, &text, &len, &err), 0);
        add_words(ix, &w->d[a], 0, text, len);
        free(text);
    }
}

static void test_oracle_sample(void **state)
{
    (void)state;
    seed_rng(4);
    char *dir = make_tmpdir("sample");
    quarry_index_options io;
    quarry_index_options_init(&io);
    quarry_writer *wr;
    quarry_error err;
    assert_int_equal(quarry_writer_open(dir, &io, &wr, &err), 0);
    const char *paths[] = { "corpus" };
    if (quarry_writer_add_paths(wr, paths, 1, &err))
        fail_msg("indexing corpus/ (run from the repository root): %s", err.msg);
    assert_int_equal(quarry_writer_commit(wr, &err), 0);
    quarry_writer_close(wr);
    quarry_index *ix = open_index(dir);
    model m = { 0 };
    model_from_index(&m, ix);
    assert_int_equal(m.narts, 2);
    checker c = { .name = "sample corpus", .m = &m, .ix = ix };
    static const char *const fixed[][2] = {
        { "BRI investment", "(BOOL BRI investment)" },
        { "sanctions", "sanctions" },
        { "\"belt and road\"", "\"belt and road\"" },
        { "russia -china", "(BOOL russia -china)" },
        { "+russia +investment", "(BOOL +russia +investment)" },
        { "title:sidelines", "title:sidelines" },
        { "Russia\xe2\x80\x99s", "Russia\xe2\x80\x99s" },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        unsigned before = c.with_hits;
        check_string(&c, fixed[i][0], fixed[i][1]);
        if (c.with_hits == before && strcmp(fixed[i][0], "russia -china") != 0)
            fail_msg("sample query '%s' found nothing", fixed[i][0]);
    }
    wsrc w = { 0 };
    words_from_index(ix, &m, &w);
    check_random(&c, &w, 60);
    wsrc_free(&w);
    checker_done(&c);
    model_free(&m);
    quarry_close(ix);
    remove_tree(dir);
}

/* ------------------------------------------------------------ BBC */

/* A JSON string at p (after its opening quote), decoded; *end after the closing quote. */
static char *json_string(const char *p, const char **end)
{
    sb s = { 0 };
    sb_add(&s, "", 0);
    while (*p && *p != '"') {
        if (*p != '\\') {
            const char *q = p;
            while (*q && *q != '"' && *q != '\\')
                q++;
            sb_add(&s, p, (size_t)(q - p));
            p = q;
            continue;
        }
        p++;
        char c = *p ? *p++ : 0;
        char out[4];
        switch (c) {
        case 'n': sb_add(&s, "\n", 1); break;
        case 't': sb_add(&s, "\t", 1); break;
        case 'r': sb_add(&s, "\r", 1); break;
        case 'b': sb_add(&s, "\b", 1); break;
        case 'f': sb_add(&s, "\f", 1); break;
        case 'u': {
            unsigned long cp = strtoul((char[5]){ p[0], p[1], p[2], p[3], 0 }, NULL, 16);
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && p[0] == '\\' && p[1] == 'u') {
                unsigned long lo = strtoul((char[5]){ p[2], p[3], p[4], p[5], 0 }, NULL, 16);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            size_t n;
            if (cp < 0x80) {
                out[0] = (char)cp;
                n = 1;
            } else if (cp < 0x800) {
                out[0] = (char)(0xC0 | cp >> 6);
                out[1] = (char)(0x80 | (cp & 0x3F));
                n = 2;
            } else if (cp < 0x10000) {
                out[0] = (char)(0xE0 | cp >> 12);
                out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
                out[2] = (char)(0x80 | (cp & 0x3F));
                n = 3;
            } else {
                out[0] = (char)(0xF0 | cp >> 18);
                out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
                out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
                out[3] = (char)(0x80 | (cp & 0x3F));
                n = 4;
            }
            sb_add(&s, out, n);
            break;
        }
        default: sb_add(&s, &c, 1); break;
        }
    }
    *end = *p ? p + 1 : p;
    return sb_take(&s);
}

/* The string value of top-level `key` in a one-line JSON object, or NULL. */
static char *json_get(const char *line, const char *key)
{
    const char *p = strchr(line, '{');
    if (!p)
        return NULL;
    p++;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p != '"')
            return NULL;
        char *k = json_string(p + 1, &p);
        while (*p == ' ' || *p == ':')
            p++;
        int match = strcmp(k, key) == 0;
        free(k);
        if (*p == '"') {
            char *v = json_string(p + 1, &p);
            if (match)
                return v;
            free(v);
        } else {
            if (match)
                return NULL;
            while (*p && *p != ',' && *p != '}')
                p++;
        }
        if (*p != ',')
            return NULL;
    }
}

#define BBC_DOCS 500

static void test_oracle_bbc(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/bbc/docs.jsonl.gz", tcorpus_dir());
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        tskip("%s is absent (set QUARRY_CORPUS to the shared corpus directory)", path);
    }
    seed_rng(5);
    gdoc *docs = xcalloc(BBC_DOCS, sizeof *docs);
    size_t n = 0, cap = 1 << 16;
    char *line = xmalloc(cap);
    while (n < BBC_DOCS) {
        size_t len = 0;
        line[0] = 0;
        while (gzgets(gz, line + len, (int)(cap - len))) {
            len += strlen(line + len);
            if (len && line[len - 1] == '\n')
                break;
            cap *= 2;
            line = xrealloc(line, cap);
        }
        if (len == 0)
            break;
        char *id = json_get(line, "id"), *title = json_get(line, "title"), *text = json_get(line, "text");
        assert_non_null(id);
        assert_non_null(text);
        snprintf(docs[n].id, sizeof docs[n].id, "%.15s", id);
        free(id);
        docs[n].title = title;
        docs[n].text = text;
        docs[n].len = strlen(text);
        n++;
    }
    free(line);
    gzclose(gz);
    assert_int_equal(n, BBC_DOCS);
    char *dir = make_tmpdir("bbc");
    quarry_index_options io;
    quarry_index_options_init(&io);
    build_index(dir, &io, docs, n);
    quarry_index *ix = open_index(dir);
    model m = { 0 };
    model_from_index(&m, ix);
    assert_int_equal(m.narts, BBC_DOCS);
    checker c = { .name = "bbc, first 500", .m = &m, .ix = ix };
    wsrc w = { 0 };
    words_from_index(ix, &m, &w);
    check_two_words(&c, &w, 50);
    check_random(&c, &w, 60);
    check_plain(&c, &w, 40);
    wsrc_free(&w);
    checker_done(&c);
    model_free(&m);
    quarry_close(ix);
    remove_tree(dir);
    for (size_t i = 0; i < n; i++) {
        free(docs[i].title);
        free(docs[i].text);
    }
    free(docs);
}

/* ------------------------------------------------------------ errors, paging, highlight */

static quarry_index *sample_ix;
static char *sample_dir;

static int sample_setup(void **state)
{
    (void)state;
    sample_dir = make_tmpdir("sample2");
    quarry_index_options io;
    quarry_index_options_init(&io);
    quarry_writer *wr;
    quarry_error err;
    const char *paths[] = { "corpus" };
    if (quarry_writer_open(sample_dir, &io, &wr, &err) || quarry_writer_add_paths(wr, paths, 1, &err)
        || quarry_writer_commit(wr, &err)) {
        fprintf(stderr, "indexing corpus/: %s\n", err.msg);
        return -1;
    }
    quarry_writer_close(wr);
    return quarry_open(sample_dir, &sample_ix, &err);
}

static int sample_teardown(void **state)
{
    (void)state;
    quarry_close(sample_ix);
    sample_ix = NULL;
    remove_tree(sample_dir);
    sample_dir = NULL;
    return 0;
}

static void expect_error(const char *q, int code, const char *msg_prefix)
{
    quarry_search_options o;
    quarry_search_options_init(&o);
    quarry_results *r = (quarry_results *)&o;   /* must stay untouched */
    quarry_error err;
    memset(&err, 0, sizeof err);
    int rc = quarry_search(sample_ix, q, &o, &r, &err);
    if (rc != code)
        fail_msg("query '%s': code %d (%s), expected %d", q, rc, rc ? err.msg : "ok", code);
    assert_int_equal(err.code, code);
    assert_true(r == (quarry_results *)&o);
    assert_true(err.msg[0] != 0);
    if (msg_prefix && strncmp(err.msg, msg_prefix, strlen(msg_prefix)) != 0)
        fail_msg("query '%s': message '%s', expected it to start with '%s'", q, err.msg, msg_prefix);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("russia AND", QUARRY_ESYNTAX, "column 8: ");
    expect_error("\"belt and road", QUARRY_ESYNTAX, "column 1: ");
    expect_error("(russia china", QUARRY_ESYNTAX, "column 1: ");
    expect_error("russia )", QUARRY_ESYNTAX, "column 8: ");
    expect_error("russia - china", QUARRY_ESYNTAX, "column 8: ");
    expect_error("", QUARRY_ESYNTAX, "column 1: ");
    expect_error("the and of", QUARRY_ENOTERMS, NULL);
    expect_error("\"the and of\"", QUARRY_ENOTERMS, NULL);
    expect_error("xyzzyplugh", QUARRY_ENOTERMS, NULL);
    expect_error("xyzzyplugh the", QUARRY_ENOTERMS, NULL);
    expect_error("-russia", QUARRY_ENOTERMS, NULL);
    expect_error("NOT russia", QUARRY_ENOTERMS, NULL);
    expect_error("-russia -china", QUARRY_ENOTERMS, NULL);
    expect_error("xyzzyplugh -russia", QUARRY_ENOTERMS, NULL);
    /* valid but matching nothing: success with no hits */
    quarry_search_options o;
    quarry_search_options_init(&o);
    quarry_results *r;
    quarry_error err;
    assert_int_equal(quarry_search(sample_ix, "+russia +xyzzyplugh", &o, &r, &err), 0);
    assert_int_equal(r->n, 0);
    assert_int_equal(r->matched, 0);
    quarry_results_free(r);
    assert_int_equal(quarry_search(sample_ix, "russia AND NOT russia", &o, &r, &err), 0);
    assert_int_equal(r->n, 0);
    quarry_results_free(r);
    o.k1 = -1;
    assert_int_equal(quarry_search(sample_ix, "russia", &o, &r, &err), QUARRY_EINVAL);
}

static void test_k0_and_paging(void **state)
{
    (void)state;
    for (int passages = 0; passages <= 1; passages++) {
        for (int alg = 0; alg < 2; alg++) {
            quarry_search_options o;
            quarry_search_options_init(&o);
            o.passages = passages;
            o.algorithm = alg ? QUARRY_ALGO_AUTO : QUARRY_ALGO_EXHAUSTIVE;
            quarry_results *all, *page, *r;
            quarry_error err;
            const char *q = passages ? "russia china investment" : "russia";
            o.k = 0;
            assert_int_equal(quarry_search(sample_ix, q, &o, &r, &err), 0);
            assert_int_equal(r->n, 0);
            assert_true(r->matched > 0);
            quarry_results_free(r);
            o.k = 10;
            assert_int_equal(quarry_search(sample_ix, q, &o, &all, &err), 0);
            o.k = 5;
            o.offset = 5;
            assert_int_equal(quarry_search(sample_ix, q, &o, &page, &err), 0);
            assert_int_equal(page->matched, all->matched);
            size_t want = all->n > 5 ? all->n - 5 : 0;
            assert_int_equal(page->n, want);
            for (size_t i = 0; i < page->n; i++) {
                assert_int_equal(page->hits[i].passage, all->hits[i + 5].passage);
                assert_int_equal(page->hits[i].article, all->hits[i + 5].article);
                assert_true(page->hits[i].score == all->hits[i + 5].score);
            }
            quarry_results_free(page);
            o.offset = (unsigned)all->matched;
            assert_int_equal(quarry_search(sample_ix, q, &o, &page, &err), 0);
            assert_int_equal(page->n, 0);
            quarry_results_free(page);
            quarry_results_free(all);
        }
    }
}

typedef struct hl_ctx {
    const quarry_results *r;
    size_t n;
    uint32_t start[4096], end[4096];
} hl_ctx;

static int is_query_term(const quarry_results *r, const char *t, size_t len)
{
    for (size_t i = 0; i < r->nterms; i++)
        if (strlen(r->terms[i]) == len && memcmp(r->terms[i], t, len) == 0)
            return 1;
    return 0;
}

static int on_hl_tok(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    (void)pos;
    hl_ctx *h = ctx;
    if (is_query_term(h->r, term, len) && h->n < 4096) {
        h->start[h->n] = start;
        h->end[h->n] = end;
        h->n++;
    }
    return 0;
}

static void test_highlight(void **state)
{
    (void)state;
    const char *queries[] = { "russia", "\"belt and road\" investment", "Russia\xe2\x80\x99s -xyzzy" };
    int saw_possessive = 0;
    size_t total_spans = 0;
    for (size_t qi = 0; qi < 3; qi++) {
        quarry_search_options o;
        quarry_search_options_init(&o);
        o.passages = 1;
        o.k = 100;
        quarry_results *r;
        quarry_error err;
        assert_int_equal(quarry_search(sample_ix, queries[qi], &o, &r, &err), 0);
        assert_true(r->n > 0);
        assert_true(r->nterms > 0);
        for (size_t i = 0; i < r->n; i++) {
            char *text;
            size_t len;
            assert_int_equal(quarry_passage_text(sample_ix, r->hits[i].passage, &text, &len, &err), 0);
            quarry_span *sp;
            size_t ns;
            assert_int_equal(quarry_highlight(sample_ix, r, text, len, &sp, &ns, &err), 0);
            hl_ctx *want = xcalloc(1, sizeof *want);
            want->r = r;
            assert_int_equal(quarry_analyze(sample_ix, text, len, on_hl_tok, want, &err), 0);
            total_spans += ns;   /* 0 when only the article's title matched */
            assert_int_equal(ns, want->n);
            for (size_t j = 0; j < ns; j++) {
                assert_int_equal(sp[j].start, want->start[j]);
                assert_int_equal(sp[j].end, want->end[j]);
                assert_true(sp[j].start < sp[j].end && sp[j].end <= len);
                /* the span's own text analyzes to a query term */
                termseq t = { 0 };
                assert_int_equal(quarry_analyze(sample_ix, text + sp[j].start, sp[j].end - sp[j].start,
                                                on_seq, &t, &err), 0);
                assert_int_equal(t.n, 1);
                assert_true(is_query_term(r, t.s[0], strlen(t.s[0])));
                termseq_free(&t);
                if (qi == 0 && sp[j].end - sp[j].start == strlen("Russia\xe2\x80\x99s")
                    && memcmp(text + sp[j].start, "Russia\xe2\x80\x99s", sp[j].end - sp[j].start) == 0)
                    saw_possessive = 1;
            }
            free(want);
            free(sp);
            free(text);
        }
        quarry_results_free(r);
    }
    assert_true(total_spans > 0);
    assert_true(saw_possessive);
}

int main(void)
{
    const struct CMUnitTest basic[] = {
        cmocka_unit_test(test_bm25_by_hand),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_long_phrase),
        cmocka_unit_test(test_phrase_title_body),
        cmocka_unit_test(test_oracle_sample),
        cmocka_unit_test(test_oracle_bbc),
    };
    const struct CMUnitTest generated[] = {
        cmocka_unit_test(test_oracle_generated_whole),
        cmocka_unit_test(test_oracle_generated_passages),
    };
    const struct CMUnitTest sample[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_k0_and_paging),
        cmocka_unit_test(test_highlight),
    };
    int fails = cmocka_run_group_tests_name("search", basic, NULL, NULL);
    fails += cmocka_run_group_tests_name("search oracle, generated corpus", generated, gen_setup, gen_teardown);
    fails += cmocka_run_group_tests_name("search errors, paging, highlight", sample, sample_setup, sample_teardown);
    return fails ? 1 : 0;
}
