/*
 * test_algo.c — every query algorithm against the exhaustive one (the
 * oracle of DESIGN §4): for thousands of queries of every kind, each of
 * QUARRY_ALGO_AUTO, _MAXSCORE and _BMW must return exactly the hits of
 * QUARRY_ALGO_EXHAUSTIVE — the same passages and articles in the same
 * order with bit-identical scores — and a match count that is exact, or,
 * when flagged inexact, at least QUARRY_COUNT_EXACT and at most the exact
 * count. With count = 1 the count is always exact.
 *
 * Collections (each indexed with passages, and with --passages off):
 *   - generated: a Zipf vocabulary (stop words most frequent), 3000 base
 *     documents of varied lengths, then 2-5 exact copies of a third of them
 *     spread through the collection, so that many hits tie at every score
 *     and ties must break by the lower passage number in every algorithm;
 *   - reuters21578 from QUARRY_CORPUS (default ../shared/corpus): its first
 *     3000 articles three times over (new ids), when the corpus is there.
 *
 * Queries, from the index's own vocabulary by document-frequency band
 * (very common / common / middling / rare): ranked OR of 1 to 20 terms,
 * conjunctions (+a +b ...), phrases cut from the stored text (some of them
 * title:), mixed trees (+a b -c, (a OR b) AND c, "phrase" word, title:,
 * NOT), and plain bags of words; for k = 1, 10, 100 and 1000 (two of them
 * per query), passage and article hits, and several BM25 parameters.
 *
 * QUARRY_TEST_SEED changes the seed; QUARRY_ALGO_QUERIES the number of
 * queries per index (default 500).
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

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint32_t rn(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }
static double runif(void) { return (double)(rnd() >> 11) * 0x1.0p-53; }

static void seed_rng(uint64_t salt)
{
    const char *s = getenv("QUARRY_TEST_SEED");
    rng_state = (s && *s ? strtoull(s, NULL, 0) : 20261130ull) * 1000003ull + salt;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    assert_non_null(p);
    return p;
}

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
static void sb_printf(sb *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sb_add(s, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static char *make_tmpdir(const char *tag)
{
    char *d = xmalloc(128);
    snprintf(d, 128, "/tmp/quarry-test-algo-%s-XXXXXX", tag);
    assert_non_null(mkdtemp(d));
    return d;
}

static void remove_tree(char *d)
{
    if (d)
        nftw(d, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

static const char *corpus_dir(void)
{
    const char *c = getenv("QUARRY_CORPUS");
    return c && *c ? c : "../shared/corpus";
}

static unsigned queries_per_index(void)
{
    const char *s = getenv("QUARRY_ALGO_QUERIES");
    long v = s && *s ? strtol(s, NULL, 10) : 500;
    return v > 0 ? (unsigned)v : 500;
}

/* ------------------------------------------------------------ collections */

/* Writes the generated collection as JSON Lines to `path`. */
static void write_generated(const char *path)
{
    static const char *const stop[] = { "the", "of", "and", "to", "in", "a", "is", "for", "on", "that" };
    enum { NV = 4000, NBASE = 3000 };
    char **vocab = xmalloc(NV * sizeof *vocab);
    double *cdf = xmalloc(NV * sizeof *cdf);
    static const char cons[] = "bdfgklmnprstvz", vow[] = "aeiou";
    for (size_t i = 0; i < NV; i++) {
        char w[32];
        if (i < sizeof stop / sizeof *stop)
            snprintf(w, sizeof w, "%s", stop[i]);
        else {   /* made-up words; an index suffix keeps them distinct */
            size_t n = 0, syl = 1 + rn(3);
            for (size_t s = 0; s < syl; s++) {
                w[n++] = cons[rn(sizeof cons - 1)];
                w[n++] = vow[rn(sizeof vow - 1)];
            }
            snprintf(w + n, sizeof w - n, "%zx", i);
        }
        vocab[i] = strdup(w);
    }
    double acc = 0;
    for (size_t i = 0; i < NV; i++)
        cdf[i] = acc += 1.0 / pow((double)(i + 1), 1.0);
    char **docs = xmalloc(NBASE * sizeof *docs);
    for (size_t d = 0; d < NBASE; d++) {
        sb s = { 0 };
        double r = runif();
        size_t nw = r < 0.5 ? 3 + rn(20) : r < 0.9 ? 20 + rn(150) : 200 + rn(1500);
        size_t nt = rn(7);
        sb_puts(&s, "\"title\":\"");
        for (size_t i = 0; i < nt + nw; i++) {
            double x = runif() * cdf[NV - 1];
            size_t lo = 0, hi = NV - 1;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cdf[mid] < x)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (i == nt)
                sb_puts(&s, "\",\"text\":\"");
            else if (i)
                sb_puts(&s, i > nt && rn(40) == 0 ? ".\\n\\n" : " ");
            sb_puts(&s, vocab[lo]);
        }
        sb_puts(&s, "\"}");
        docs[d] = s.p;
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    size_t id = 0;
    for (size_t d = 0; d < NBASE; d++) {
        fprintf(f, "{\"id\":\"g%zu\",%s\n", id++, docs[d]);
        /* copies of a third of the documents, spread: each copy lands after
         * a later base document */
        if (d % 3 == 0 && d > 0)
            for (size_t c = 0, nc = 2 + rn(4); c < nc; c++)
                fprintf(f, "{\"id\":\"g%zu\",%s\n", id++, docs[rn((uint32_t)d)]);
    }
    fclose(f);
    for (size_t d = 0; d < NBASE; d++)
        free(docs[d]);
    free(docs);
    for (size_t i = 0; i < NV; i++)
        free(vocab[i]);
    free(vocab);
    free(cdf);
}

/* Writes the first n lines of a .jsonl.gz `copies` times, ids suffixed by
 * "#rK" after the first copy. 0 when the source is missing. */
static int write_replicated(const char *src, const char *path, size_t n, int copies)
{
    gzFile g = gzopen(src, "rb");
    if (!g)
        return 0;
    char **lines = xmalloc(n * sizeof *lines);
    size_t k = 0;
    char buf[1 << 16];
    sb cur = { 0 };
    while (k < n && gzgets(g, buf, sizeof buf)) {
        sb_puts(&cur, buf);
        if (cur.n && cur.p[cur.n - 1] == '\n') {
            lines[k++] = cur.p;
            memset(&cur, 0, sizeof cur);
        }
    }
    gzclose(g);
    free(cur.p);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int c = 0; c < copies; c++)
        for (size_t i = 0; i < k; i++) {
            /* the id is the first string after "id": insert the suffix before its closing quote */
            char *p = strstr(lines[i], "\"id\"");
            assert_non_null(p);
            p = strchr(p + 4, '"');
            assert_non_null(p);
            char *q = strchr(p + 1, '"');
            assert_non_null(q);
            if (c == 0)
                fputs(lines[i], f);
            else
                fprintf(f, "%.*s#r%d%s", (int)(q - lines[i]), lines[i], c, q);
        }
    fclose(f);
    for (size_t i = 0; i < k; i++)
        free(lines[i]);
    free(lines);
    return 1;
}

static void build(const char *dir, const char *jsonl, int passages)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.passages = passages;
    o.passage_tokens = 32;
    o.stopwords = "none";   /* very common terms, as the peers index them */
    quarry_writer *w;
    quarry_error err;
    if (quarry_writer_open(dir, &o, &w, &err))
        fail_msg("quarry_writer_open: %s", err.msg);
    const char *paths[] = { jsonl };
    if (quarry_writer_add_paths(w, paths, 1, &err) || quarry_writer_commit(w, &err))
        fail_msg("indexing %s: %s", jsonl, err.msg);
    quarry_writer_close(w);
}

/* ------------------------------------------------------------ vocabulary */

typedef struct vterm {
    char *s;
    uint64_t df;
} vterm;

typedef struct vocab {
    vterm *v;
    size_t n, cap;
} vocab;

static int on_term(void *ctx, const uint8_t *term, uint32_t len, const qx_term *t)
{
    vocab *v = ctx;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1024;
        v->v = xrealloc(v->v, v->cap * sizeof *v->v);
    }
    v->v[v->n].s = strndup((const char *)term, len);
    v->v[v->n].df = t->df;
    v->n++;
    return 0;
}

static int by_df(const void *a, const void *b)
{
    const vterm *x = a, *y = b;
    return x->df != y->df ? (x->df < y->df) - (x->df > y->df) : strcmp(x->s, y->s);
}

/* terms of a band: 0 the 20 most frequent, 1 the next 300, 2 up to the
 * middle, 3 the rest (rare) */
static const char *pick_term(const vocab *v, int band)
{
    size_t lo, hi;
    switch (band) {
    case 0: lo = 0; hi = 20; break;
    case 1: lo = 20; hi = 320; break;
    case 2: lo = 320; hi = v->n / 2; break;
    default: lo = v->n / 2; hi = v->n; break;
    }
    if (hi > v->n)
        hi = v->n;
    if (lo >= hi)
        lo = 0;
    return v->v[lo + rn((uint32_t)(hi - lo))].s;
}

static const char *any_term(const vocab *v)
{
    double r = runif();
    return pick_term(v, r < 0.3 ? 0 : r < 0.6 ? 1 : r < 0.85 ? 2 : 3);
}

/* ------------------------------------------------------------ phrases from the text */

typedef struct span {
    uint32_t start, end;
} span;

typedef struct spans {
    span *v;
    size_t n, cap;
} spans;

static int on_span(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    (void)term; (void)len; (void)pos;
    spans *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n].start = start;
    s->v[s->n].end = end;
    s->n++;
    return 0;
}

/* 2-4 consecutive words of a random passage (or title), as written there,
 * quoted; NULL if the passage is too short. */
static char *pick_phrase(quarry_index *ix, int title)
{
    quarry_info in;
    quarry_info_get(ix, &in);
    quarry_error err;
    char *text = NULL;
    size_t len = 0;
    if (title) {
        quarry_article a;
        if (quarry_article_get(ix, rn((uint32_t)in.articles), &a, &err))
            return NULL;
        text = strdup(a.title);
        len = strlen(text);
    } else if (quarry_passage_text(ix, rn((uint32_t)in.passages), &text, &len, &err))
        return NULL;
    spans s = { 0 };
    quarry_analyze(ix, text, len, on_span, &s, &err);
    char *out = NULL;
    size_t w = 2 + rn(3);
    if (s.n >= w) {
        size_t i = rn((uint32_t)(s.n - w + 1));
        sb q = { 0 };
        sb_puts(&q, title ? "title:\"" : "\"");
        for (uint32_t b = s.v[i].start; b < s.v[i + w - 1].end; b++)
            if (text[b] != '"' && text[b] != '\\' && (unsigned char)text[b] >= ' ')
                sb_add(&q, text + b, 1);
            else
                sb_puts(&q, " ");
        sb_puts(&q, "\"");
        out = q.p;
    }
    free(s.v);
    free(text);
    return out;
}

/* ------------------------------------------------------------ queries */

/* One random query of `shape`; *plain set for bags of words. */
static char *make_query(quarry_index *ix, const vocab *v, int shape, int *plain)
{
    sb q = { 0 };
    *plain = 0;
    switch (shape) {
    case 0: {   /* ranked OR of 1-20 terms */
        size_t n = runif() < 0.7 ? 1 + rn(4) : 5 + rn(16);
        for (size_t i = 0; i < n; i++)
            sb_printf(&q, "%s%s", i ? " " : "", any_term(v));
        break;
    }
    case 1: {   /* conjunction */
        size_t n = 2 + rn(3);
        for (size_t i = 0; i < n; i++)
            sb_printf(&q, "%s+%s", i ? " " : "", pick_term(v, i == 0 ? (int)rn(4) : (int)rn(3)));
        break;
    }
    case 2: {   /* a phrase */
        char *p = pick_phrase(ix, runif() < 0.2);
        if (!p)
            p = strdup("\"the of\"");
        sb_puts(&q, p);
        free(p);
        break;
    }
    case 3: {   /* mixed trees */
        const char *a = any_term(v), *b = any_term(v), *c = any_term(v), *d = pick_term(v, (int)rn(2));
        char *p = pick_phrase(ix, 0);
        switch (rn(9)) {
        case 0: sb_printf(&q, "+%s %s -%s", a, b, c); break;
        case 1: sb_printf(&q, "(%s OR %s) AND %s", a, b, d); break;
        case 2: sb_printf(&q, "%s %s", p ? p : "\"of the\"", a); break;
        case 3: sb_printf(&q, "title:%s %s %s", a, b, d); break;
        case 4: sb_printf(&q, "+%s -%s", p ? p : "\"in the\"", c); break;
        case 5: sb_printf(&q, "%s %s NOT %s", a, b, d); break;
        case 6: sb_printf(&q, "+%s +(%s %s) %s", d, a, b, c); break;
        case 7: sb_printf(&q, "%s AND %s AND NOT %s", d, a, b); break;
        default: sb_printf(&q, "(%s %s) (%s OR %s) -%s", a, b, c, d, pick_term(v, 3)); break;
        }
        free(p);
        break;
    }
    default: {   /* plain bag of words */
        size_t n = 1 + rn(8);
        for (size_t i = 0; i < n; i++)
            sb_printf(&q, "%s%s", i ? " " : "", any_term(v));
        *plain = 1;
        break;
    }
    }
    return q.p;
}

/* ------------------------------------------------------------ the check */

typedef struct checker {
    const char *name;
    quarry_index *ix;
    int passage_index;    /* the index has passages */
    unsigned runs, mismatches, pruned, with_hits;
} checker;

static int report(checker *c, const char *q, const char *cfg, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->mismatches < 20)
        print_error("[%s] MISMATCH '%s' (%s): %s\n", c->name, q, cfg, msg);
    c->mismatches++;
    return 1;
}

static const char *algo_name(int a)
{
    return a == QUARRY_ALGO_AUTO ? "AUTO" : a == QUARRY_ALGO_MAXSCORE ? "MAXSCORE" : a == QUARRY_ALGO_BMW ? "BMW" : "?";
}

static void check_one(checker *c, const char *q, int plain, unsigned k, int passages, double k1, double b)
{
    quarry_search_options o;
    quarry_search_options_init(&o);
    o.k = k;
    o.passages = passages;
    o.plain = plain;
    o.k1 = k1;
    o.b = b;
    o.algorithm = QUARRY_ALGO_EXHAUSTIVE;
    quarry_results *ex = NULL;
    quarry_error err;
    int rc0 = quarry_search(c->ix, q, &o, &ex, &err);
    c->runs++;
    if (rc0 == 0 && !ex->matched_exact)
        report(c, q, "exhaustive", "the exhaustive count is flagged inexact");
    if (rc0 == 0 && ex->n)
        c->with_hits++;
    static const int algos[] = { QUARRY_ALGO_AUTO, QUARRY_ALGO_MAXSCORE, QUARRY_ALGO_BMW };
    for (size_t ai = 0; ai < 4; ai++) {
        int count = ai == 3;   /* AUTO again, counting exactly */
        o.algorithm = algos[count ? 0 : ai];
        o.count = count;
        char cfg[160];
        snprintf(cfg, sizeof cfg, "%s%s%s, %s hits, k %u, k1 %g b %g", plain ? "plain, " : "", algo_name(o.algorithm),
                 count ? " count" : "", passages ? "passage" : "article", k, k1, b);
        quarry_results *r = NULL;
        int rc = quarry_search(c->ix, q, &o, &r, &err);
        c->runs++;
        if (rc != rc0)
            report(c, q, cfg, "returned %d (%s), the exhaustive %d", rc, rc ? err.msg : "", rc0);
        else if (rc == 0) {
            if (r->n != ex->n)
                report(c, q, cfg, "%zu hits, the exhaustive %zu", r->n, ex->n);
            else
                for (size_t i = 0; i < r->n; i++)
                    if (r->hits[i].passage != ex->hits[i].passage || r->hits[i].article != ex->hits[i].article ||
                        r->hits[i].score != ex->hits[i].score) {
                        report(c, q, cfg, "hit %zu: passage %u (article %u) score %.17g, the exhaustive passage %u (article %u) score %.17g",
                               i, r->hits[i].passage, r->hits[i].article, r->hits[i].score, ex->hits[i].passage,
                               ex->hits[i].article, ex->hits[i].score);
                        break;
                    }
            if (r->matched_exact ? r->matched != ex->matched
                                 : count || r->matched < QUARRY_COUNT_EXACT || r->matched > ex->matched)
                report(c, q, cfg, "matched %llu (%s), the exhaustive %llu", (unsigned long long)r->matched,
                       r->matched_exact ? "exact" : "at least", (unsigned long long)ex->matched);
            c->pruned += !r->matched_exact;
        }
        quarry_results_free(r);
    }
    quarry_results_free(ex);
}

static void check_index(const char *name, const char *dir, int passage_index, unsigned nq, uint64_t salt)
{
    seed_rng(salt);
    checker c = { name, NULL, passage_index, 0, 0, 0, 0 };
    quarry_error err;
    if (quarry_open(dir, &c.ix, &err))
        fail_msg("quarry_open %s: %s", dir, err.msg);
    vocab v = { 0 };
    for (size_t s = 0; s < c.ix->nseg; s++)
        assert_int_equal(qx_each_term(&c.ix->seg[s], on_term, &v, &err), 0);
    qsort(v.v, v.n, sizeof *v.v, by_df);
    static const unsigned ks[] = { 1, 10, 100, 1000 };
    static const double params[][2] = { { 1.2, 0.75 }, { 0.9, 0.4 }, { 2.0, 1.0 }, { 0.5, 0.0 } };
    unsigned shapes[5] = { 0 };
    for (unsigned i = 0; i < nq; i++) {
        int plain, shape = (int)rn(5);
        char *q = make_query(c.ix, &v, shape, &plain);
        shapes[shape]++;
        const double *p = params[i % 4 == 3 ? 1 + rn(3) : 0];
        for (int j = 0; j < 2; j++) {
            unsigned k = ks[rn(4)];
            int passages = passage_index ? (int)rn(2) : 0;
            check_one(&c, q, plain, k, passages, p[0], p[1]);
        }
        free(q);
    }
    print_message("      [%s] %u queries (OR %u, AND %u, phrase %u, mixed %u, plain %u), %u searches: %u with hits, "
                  "%u counts pruned; %u mismatches\n",
                  name, nq, shapes[0], shapes[1], shapes[2], shapes[3], shapes[4], c.runs, c.with_hits, c.pruned,
                  c.mismatches);
    for (size_t i = 0; i < v.n; i++)
        free(v.v[i].s);
    free(v.v);
    quarry_close(c.ix);
    assert_int_equal(c.mismatches, 0);
    assert_true(c.pruned > 0);   /* the test means something only if pruning happened */
}

/* ------------------------------------------------------------ tests */

static void test_generated(void **state)
{
    (void)state;
    seed_rng(1);
    char *tmp = make_tmpdir("gen");
    char path[256], dp[256], dw[256];
    snprintf(path, sizeof path, "%s/gen.jsonl", tmp);
    snprintf(dp, sizeof dp, "%s/passages", tmp);
    snprintf(dw, sizeof dw, "%s/whole", tmp);
    write_generated(path);
    build(dp, path, 1);
    build(dw, path, 0);
    unsigned nq = queries_per_index();
    check_index("generated, passages", dp, 1, nq, 11);
    check_index("generated, whole articles", dw, 0, nq, 12);
    remove_tree(tmp);
}

static void test_reuters(void **state)
{
    (void)state;
    char src[1024];
    snprintf(src, sizeof src, "%s/reuters21578/docs.jsonl.gz", corpus_dir());
    char *tmp = make_tmpdir("reuters");
    char path[256], dp[256], dw[256];
    snprintf(path, sizeof path, "%s/r.jsonl", tmp);
    if (!write_replicated(src, path, 3000, 3)) {
        print_message("SKIP: %s is not there (set QUARRY_CORPUS)\n", src);
        remove_tree(tmp);
        skip();
    }
    snprintf(dp, sizeof dp, "%s/passages", tmp);
    snprintf(dw, sizeof dw, "%s/whole", tmp);
    build(dp, path, 1);
    build(dw, path, 0);
    unsigned nq = queries_per_index();
    check_index("reuters x3, passages", dp, 1, nq, 21);
    check_index("reuters x3, whole articles", dw, 0, nq, 22);
    remove_tree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_reuters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
