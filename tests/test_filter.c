/*
 * test_filter.c — date ranges, sorting by date and collapsing of
 * duplicates, inside the search, against a slow obvious oracle: the
 * exhaustive algorithm's full list of matches (every live unit or article
 * that matches, by score), then, in plain loops here,
 *
 *   1. filtered: the hits whose article's date, read by this file's own
 *      date reader from the article's date string, lies in the range that
 *      this file's own reader gives --since / --until (undated out);
 *   2. sorted: by date key, newest first, when sorting by date (a stable
 *      sort of the score order, which keeps score and passage order for
 *      ties);
 *   3. collapsed: the first hit of each fingerprint (the article's in
 *      article mode, the passage's in passage mode) in that order, the
 *      others listed as its duplicates;
 *   4. the page [offset, offset + k).
 *
 * Every algorithm (QUARRY_ALGO_*), with and without exact counts, must
 * return exactly that: the same passages and articles in the same order
 * with bit-identical scores, the same duplicates (passage, article, score)
 * in the same order, and a match count (duplicates included, filtered
 * ones not) that is exact, or flagged inexact and between
 * QUARRY_COUNT_EXACT and the exact count. Duplicates are also checked to
 * have the same analyzed text (quarry_analyze, the fingerprints' own
 * definition).
 *
 * Collections: generated (3000 documents, copies of a third of them, so
 * groups of duplicates and ties at every score), with dates at every
 * precision from a few days (many ties of date too), some undated;
 * Reuters-21578 (QUARRY_CORPUS): its first 2000 articles twice over, real
 * dates and its own duplicates; each indexed with passages and whole; an
 * index of several segments with updates and deletions; and three shards
 * opened together (quarry_open_many). Random ranges at every precision,
 * one-sided, empty, and inverted.
 *
 * QUARRY_TEST_SEED changes the seed; QUARRY_FILTER_QUERIES the number of
 * queries per index (default 400).
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

#include "quarry.h"
#include "index/reader.h"
#include "support/qtest.h"

static unsigned queries_per_index(void)
{
    const char *s = getenv("QUARRY_FILTER_QUERIES");
    long v = s && *s ? strtol(s, NULL, 10) : 400;
    return v > 0 ? (unsigned)v : 400;
}

/* ------------------------------------------------------------ a date reader of its own */

/* The key YYYYMMDDhhmmss of the ISO 8601 prefix of s (missing parts 0) and
 * the last key of the period it names; 0 when s does not start with a year.
 * Written from FORMAT.md §arts, not from the library. */
static int slow_date(const char *s, uint64_t *lo, uint64_t *hi)
{
    unsigned v[6] = { 0, 0, 0, 0, 0, 0 };
    static const int width[6] = { 4, 2, 2, 2, 2, 2 };
    static const unsigned most[6] = { 9999, 12, 31, 23, 59, 60 }, least[6] = { 1, 1, 1, 0, 0, 0 };
    int parts = 0;
    const char *p = s;
    for (int i = 0; i < 6; i++) {
        const char *q = p;
        if (i > 0) {
            char want = i < 3 ? '-' : i == 3 ? 'T' : ':';
            if (!(*q == want || (i == 3 && *q == ' ')))
                break;
            q++;
        }
        unsigned x = 0;
        int k = 0;
        for (; k < width[i] && q[k] >= '0' && q[k] <= '9'; k++)
            x = x * 10 + (unsigned)(q[k] - '0');
        if (k < width[i] || (q[k] >= '0' && q[k] <= '9') || x < least[i] || x > most[i])
            break;
        v[i] = x;
        parts = i + 1;
        p = q + k;
    }
    if (!parts)
        return 0;
    char buf[32];
    snprintf(buf, sizeof buf, "%04u%02u%02u%02u%02u%02u", v[0], v[1], v[2], v[3], v[4], v[5]);
    *lo = strtoull(buf, NULL, 10);
    for (int i = parts; i < 6; i++)   /* the open parts: their largest digits */
        v[i] = 99;
    if (parts >= 1 && parts < 6) {
        snprintf(buf, sizeof buf, "%04u%02u%02u%02u%02u%02u", v[0], v[1], v[2], v[3], v[4], v[5]);
        *hi = strtoull(buf, NULL, 10);
    } else
        *hi = *lo;
    return *p == 0 ? 2 : 1;   /* 2: the whole string is a date */
}

/* ------------------------------------------------------------ the oracle */

typedef struct ohit {
    double score;
    uint32_t passage, article;
    uint64_t date, fp;
} ohit;

typedef struct want {
    ohit *hits;          /* the page */
    size_t n;
    ohit **dups;         /* dups[i]: the duplicates of hits[i] */
    size_t *ndups;
    uint64_t matched;    /* filtered, duplicates included */
    ohit *store;
} want;

static int by_date_stable(const void *a, const void *b)
{
    const ohit *x = a, *y = b;
    if (x->date != y->date)
        return x->date > y->date ? -1 : 1;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->passage < y->passage ? -1 : x->passage > y->passage;
}

/* The article's date key, read from its date string. */
static uint64_t article_key(quarry_index *ix, uint32_t article)
{
    quarry_article a;
    quarry_error err;
    if (quarry_article_get(ix, article, &a, &err))
        fail_msg("quarry_article_get %u: %s", article, err.msg);
    uint64_t lo = 0, hi = 0;
    return slow_date(a.date, &lo, &hi) ? lo : 0;
}

static uint64_t fingerprint(quarry_index *ix, const ohit *h, int passages)
{
    if (passages) {
        const qx_seg *s = qx_seg_of_unit(ix, h->passage);
        return qx_unit_fp(s, h->passage - s->unit_base);
    }
    const qx_seg *s = qx_seg_of_article(ix, h->article);
    return qx_article_fp(s, h->article - s->art_base);
}

/* The full exhaustive list of q (every match), or 0 when the query has no
 * searchable term (rc in *rc). */
static quarry_results *full_list(quarry_index *ix, const char *q, int plain, int passages, int *rc)
{
    quarry_info in;
    quarry_info_get(ix, &in);
    quarry_search_options o;
    quarry_search_options_init(&o);
    o.k = (unsigned)(passages ? in.live_passages : in.live_articles);
    o.passages = passages;
    o.plain = plain;
    o.count = 1;
    o.algorithm = QUARRY_ALGO_EXHAUSTIVE;
    quarry_results *r = NULL;
    quarry_error err;
    *rc = quarry_search(ix, q, &o, &r, &err);
    if (*rc == 0 && r->matched != r->n)
        fail_msg("'%s': the full list has %zu hits of %llu matched", q, r->n, (unsigned long long)r->matched);
    return *rc ? NULL : r;
}

static void oracle(quarry_index *ix, const quarry_results *full, const quarry_search_options *o, want *w)
{
    memset(w, 0, sizeof *w);
    uint64_t lo = 1, hi = UINT64_MAX, x;
    if (o->since)
        assert_int_equal(slow_date(o->since, &lo, &x), 2);
    if (o->until)
        assert_int_equal(slow_date(o->until, &x, &hi), 2);
    int filter = o->since || o->until;
    ohit *f = txmalloc((full->n + 1) * sizeof *f);
    size_t nf = 0;
    for (size_t i = 0; i < full->n; i++) {
        ohit h = { full->hits[i].score, full->hits[i].passage, full->hits[i].article, 0, 0 };
        h.date = article_key(ix, h.article);
        if (filter && (h.date == 0 || h.date < lo || h.date > hi))
            continue;
        h.fp = fingerprint(ix, &h, o->passages);
        f[nf++] = h;
    }
    w->matched = nf;
    if (o->sort == QUARRY_SORT_DATE)
        qsort(f, nf, sizeof *f, by_date_stable);
    /* collapse: the first of each fingerprint; a slow loop over the earlier ones */
    size_t *group = txmalloc((nf + 1) * sizeof *group);   /* the rep of each hit */
    size_t *reps = txmalloc((nf + 1) * sizeof *reps), nr = 0;
    for (size_t i = 0; i < nf; i++) {
        group[i] = i;
        if (o->collapse)
            for (size_t j = 0; j < nr; j++)
                if (f[reps[j]].fp == f[i].fp) {
                    group[i] = reps[j];
                    break;
                }
        if (group[i] == i)
            reps[nr++] = i;
    }
    size_t from = o->offset < nr ? o->offset : nr, to = from + o->k < nr ? from + o->k : nr;
    w->n = to - from;
    w->hits = txmalloc((w->n + 1) * sizeof *w->hits);
    w->dups = txmalloc((w->n + 1) * sizeof *w->dups);
    w->ndups = txmalloc((w->n + 1) * sizeof *w->ndups);
    w->store = txmalloc((nf + 1) * sizeof *w->store);
    size_t used = 0;
    for (size_t i = 0; i < w->n; i++) {
        size_t r = reps[from + i];
        w->hits[i] = f[r];
        w->dups[i] = w->store + used;
        w->ndups[i] = 0;
        for (size_t j = r + 1; o->collapse && j < nf; j++)
            if (group[j] == r)
                w->store[used + w->ndups[i]++] = f[j];
        used += w->ndups[i];
    }
    free(group);
    free(reps);
    free(f);
}

static void want_free(want *w)
{
    free(w->hits);
    free(w->dups);
    free(w->ndups);
    free(w->store);
}

/* ------------------------------------------------------------ the check */

typedef struct checker {
    const char *name;
    quarry_index *ix;
    unsigned searches, mismatches, with_hits, with_dups, filtered, sorted, pruned, texts, filtered_hits, pruned_filtered;
} checker;

static void mismatch(checker *c, const char *q, const char *cfg, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->mismatches < 20)
        print_error("[%s] MISMATCH '%s' (%s): %s\n", c->name, q, cfg, msg);
    c->mismatches++;
}

typedef struct terms {
    tsb s;
} terms;

static int on_term(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    (void)pos;
    (void)start;
    (void)end;
    terms *t = ctx;
    tsb_add(&t->s, term, len);
    tsb_add(&t->s, "\n", 1);
    return 0;
}

/* The analyzed terms of a passage's text, or of an article's title and text. */
static char *analyzed(quarry_index *ix, const quarry_hit *h, int passages)
{
    quarry_error err;
    char *text;
    size_t len;
    terms t = { { 0 } };
    tsb_puts(&t.s, "");
    if (passages) {
        assert_int_equal(quarry_passage_text(ix, h->passage, &text, &len, &err), 0);
    } else {
        quarry_article a;
        assert_int_equal(quarry_article_get(ix, h->article, &a, &err), 0);
        assert_int_equal(quarry_analyze(ix, a.title, strlen(a.title), on_term, &t, &err), 0);
        tsb_puts(&t.s, "|\n");
        assert_int_equal(quarry_article_text(ix, h->article, &text, &len, &err), 0);
    }
    assert_int_equal(quarry_analyze(ix, text, len, on_term, &t, &err), 0);
    free(text);
    return t.s.p;
}

static const char *algo_name(int a)
{
    static const char *const names[] = { "AUTO", "EXHAUSTIVE", "MAXSCORE", "BMW" };
    return names[a];
}

static void check_one(checker *c, const quarry_results *full, const char *q, int plain, quarry_search_options *o)
{
    want w;
    oracle(c->ix, full, o, &w);
    c->filtered += o->since || o->until;
    c->sorted += o->sort == QUARRY_SORT_DATE;
    for (int ai = 0; ai < 5; ai++) {
        o->algorithm = ai < 4 ? ai : QUARRY_ALGO_AUTO;
        o->count = ai == 4;
        char cfg[300];
        snprintf(cfg, sizeof cfg, "%s%s%s, %s hits, k %u offset %u, since %s until %s, sort %s%s", plain ? "plain, " : "",
                 algo_name(o->algorithm), o->count ? " count" : "", o->passages ? "passage" : "article", o->k, o->offset,
                 o->since ? o->since : "-", o->until ? o->until : "-", o->sort ? "date" : "score",
                 o->collapse ? ", collapsed" : "");
        quarry_results *r = NULL;
        quarry_error err;
        int rc = quarry_search(c->ix, q, o, &r, &err);
        c->searches++;
        if (rc) {
            mismatch(c, q, cfg, "returned %d: %s", rc, err.msg);
            continue;
        }
        c->with_hits += r->n > 0;
        c->filtered_hits += r->n > 0 && (o->since || o->until);
        if (r->n != w.n)
            mismatch(c, q, cfg, "%zu hits, the oracle %zu (of %llu matched)", r->n, w.n, (unsigned long long)w.matched);
        for (size_t i = 0; i < r->n && i < w.n; i++) {
            const quarry_hit *h = &r->hits[i];
            const ohit *e = &w.hits[i];
            if (h->passage != e->passage || h->article != e->article || h->score != e->score) {
                mismatch(c, q, cfg, "hit %zu: passage %u (article %u) score %.17g, the oracle passage %u (article %u) "
                         "score %.17g", i, h->passage, h->article, h->score, e->passage, e->article, e->score);
                break;
            }
            size_t nd = o->collapse ? w.ndups[i] : 0;
            if (h->nduplicates != nd) {
                mismatch(c, q, cfg, "hit %zu: %u duplicates, the oracle %zu", i, h->nduplicates, nd);
                break;
            }
            c->with_dups += nd > 0 && ai == 0;
            for (size_t k = 0; k < nd; k++) {
                const quarry_hit *d = &h->duplicates[k];
                const ohit *x = &w.dups[i][k];
                if (d->passage != x->passage || d->article != x->article || d->score != x->score) {
                    mismatch(c, q, cfg, "hit %zu, duplicate %zu: passage %u (article %u) score %.17g, the oracle "
                             "passage %u (article %u) score %.17g", i, k, d->passage, d->article, d->score,
                             x->passage, x->article, x->score);
                    break;
                }
                if (ai == 0 && k < 2 && c->texts < 3000) {   /* the same analyzed text */
                    char *a = analyzed(c->ix, h, o->passages), *b = analyzed(c->ix, d, o->passages);
                    if (strcmp(a, b))
                        mismatch(c, q, cfg, "hit %zu and its duplicate %zu differ in their analyzed text", i, k);
                    c->texts++;
                    free(a);
                    free(b);
                }
            }
        }
        if (r->matched_exact ? r->matched != w.matched
                             : o->count || r->matched < QUARRY_COUNT_EXACT || r->matched > w.matched)
            mismatch(c, q, cfg, "matched %llu (%s), the oracle %llu", (unsigned long long)r->matched,
                     r->matched_exact ? "exact" : "at least", (unsigned long long)w.matched);
        if (o->sort == QUARRY_SORT_DATE && !r->matched_exact)
            mismatch(c, q, cfg, "sorting by date, the count is not exact");
        c->pruned += !r->matched_exact;
        c->pruned_filtered += !r->matched_exact && (o->since || o->until || o->collapse);
        quarry_results_free(r);
    }
    want_free(&w);
}

/* A random bound: a date at some precision around the collection's. */
static const char *random_date(trng *r, char *buf, size_t n, int real)
{
    unsigned y = real ? 1987 : 2024 + trng_below(r, 2), m = 1 + trng_below(r, 12), d = 1 + trng_below(r, 28);
    if (!real && trng_below(r, 2)) {   /* one of the generated days: ties at the bound */
        m = 1 + 3 * trng_below(r, 4);
        d = 1 + 7 * trng_below(r, 5);
    }
    if (real && trng_below(r, 3))
        m = 2 + trng_below(r, 9);   /* Reuters-21578 runs from February to October 1987 */
    switch (trng_below(r, 6)) {
    case 0: snprintf(buf, n, "%u", y); break;
    case 1: snprintf(buf, n, "%u-%02u", y, m); break;
    case 2:
    case 3: snprintf(buf, n, "%u-%02u-%02u", y, m, d); break;
    case 4: snprintf(buf, n, "%u-%02u-%02uT%02u", y, m, d, 8 + trng_below(r, 4)); break;
    default: snprintf(buf, n, "%u-%02u-%02uT%02u:%02u", y, m, d, 8 + trng_below(r, 4), 15 * trng_below(r, 4)); break;
    }
    return buf;
}

/* dirs[0..ndirs): one index, or several opened together */
static void check_index(const char *name, const char *const *dirs, size_t ndirs, int passage_index, int real, unsigned nq,
                        uint64_t salt)
{
    trng r;
    trng_seed(&r, salt);
    checker c = { name, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    quarry_error err;
    if (quarry_open_many(dirs, ndirs, &c.ix, &err))
        fail_msg("quarry_open_many %s: %s", dirs[0], err.msg);
    tvocab v;
    tvocab_load(&v, c.ix);
    static const unsigned ks[] = { 1, 10, 100, 1000 };
    for (unsigned i = 0; i < nq; i++) {
        int plain, shape = (int)trng_below(&r, TQ_SHAPES);
        char *q = tquery_make(c.ix, &v, &r, shape, &plain);
        int passages = passage_index ? (int)trng_below(&r, 2) : 0;
        int rc;
        quarry_results *full = full_list(c.ix, q, plain, passages, &rc);
        if (!full) {
            free(q);
            continue;
        }
        for (int j = 0; j < 2; j++) {
            quarry_search_options o;
            quarry_search_options_init(&o);
            o.plain = plain;
            o.passages = passages;
            o.k = ks[trng_below(&r, 4)];
            o.offset = trng_below(&r, 4) == 0 ? trng_below(&r, 30) : 0;
            char since[32], until[32];
            uint32_t range = trng_below(&r, 5);   /* none, since, until, both, both in any order */
            if (range == 1 || range >= 3)
                o.since = random_date(&r, since, sizeof since, real);
            if (range == 2 || range >= 3)
                o.until = random_date(&r, until, sizeof until, real);
            if (range == 3 && o.since && o.until && strcmp(o.since, o.until) > 0) {
                const char *t = o.since;   /* mostly a proper range */
                o.since = o.until;
                o.until = t;
            }
            o.sort = trng_below(&r, 2) ? QUARRY_SORT_DATE : QUARRY_SORT_SCORE;
            o.collapse = trng_below(&r, 3) != 0;
            check_one(&c, full, q, plain, &o);
        }
        quarry_results_free(full);
        free(q);
    }
    print_message("      [%s] %u queries, %u option sets (%u with a date range, %u by date), %u searches: %u with hits (%u "
                  "in a range), %u hits with duplicates, %u texts compared, %u counts pruned (%u with a range or "
                  "collapsing); %u mismatches\n",
                  name, nq, 2 * nq, c.filtered, c.sorted, c.searches, c.with_hits, c.filtered_hits, c.with_dups, c.texts,
                  c.pruned, c.pruned_filtered, c.mismatches);
    tvocab_free(&v);
    quarry_close(c.ix);
    assert_int_equal(c.mismatches, 0);
    assert_true(c.with_dups > 0);        /* the collapse was tested */
    assert_true(c.filtered_hits > 100);  /* ranges that hold hits */
    assert_true(c.pruned_filtered > 0);  /* ... and pruning with the options */
}

/* ------------------------------------------------------------ indexes */

static void build(const char *dir, const char *jsonl, int passages, unsigned mem)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.passages = passages;
    o.passage_tokens = 32;
    o.stopwords = "none";
    o.mem_mb = mem;
    o.threads = 1;
    quarry_writer *w = twriter_open(dir, &o);
    quarry_error err;
    const char *paths[] = { jsonl };
    if (quarry_writer_add_paths(w, paths, 1, &err) || quarry_writer_commit(w, &err))
        fail_msg("indexing %s: %s", jsonl, err.msg);
    quarry_writer_close(w);
}

/* An index of several segments: c in three runs, the later ones updating
 * and deleting documents of the earlier ones (no merges). */
static void build_segments(const char *dir, const tcoll *c, trng *r)
{
    size_t per = c->n / 3;
    for (int run = 0; run < 3; run++) {
        quarry_index_options o;
        quarry_index_options_init(&o);
        o.passage_tokens = 32;
        o.stopwords = "none";
        o.mem_mb = 8;
        o.threads = 1;
        o.add = run > 0;
        o.merge = 0;
        quarry_writer *w = twriter_open(dir, &o);
        quarry_error err;
        size_t from = run * per, to = run == 2 ? c->n : from + per;
        for (size_t i = from; i < to; i++) {
            const tdoc *d = &c->d[i];
            if (quarry_writer_add(w, d->id, d->title, d->text, strlen(d->text), d->date, NULL, &err))
                fail_msg("quarry_writer_add: %s", err.msg);
        }
        unsigned char *busy = calloc(from + 1, 1);   /* an id once per run */
        assert_non_null(busy);
        for (size_t k = 0; run > 0 && k < per / 5; k++) {
            size_t i = trng_below(r, (uint32_t)from);
            if (busy[i])
                continue;
            busy[i] = 1;
            int e;
            if (k % 2) {   /* an update: an earlier document with another's text */
                const tdoc *d = &c->d[i], *t = &c->d[trng_below(r, (uint32_t)c->n)];
                e = quarry_writer_add(w, d->id, t->title, t->text, strlen(t->text), t->date, NULL, &err);
            } else
                e = quarry_writer_delete(w, c->d[i].id, &err);
            if (e && e != QUARRY_ENOTFOUND)
                fail_msg("update or delete: %s", err.msg);
        }
        free(busy);
        if (quarry_writer_commit(w, &err))
            fail_msg("commit: %s", err.msg);
        quarry_writer_close(w);
    }
}

static void test_generated(void **state)
{
    (void)state;
    trng r;
    trng_seed(&r, 1);
    char *tmp = ttmp_make("filter-gen");
    char path[256], dp[256], dw[256], ds[256], sh[3][256];
    snprintf(path, sizeof path, "%s/gen.jsonl", tmp);
    snprintf(dp, sizeof dp, "%s/passages", tmp);
    snprintf(dw, sizeof dw, "%s/whole", tmp);
    snprintf(ds, sizeof ds, "%s/segments", tmp);
    tcoll c = { 0 };
    tcoll_generate(&c, &r, 3000, "g");
    tcoll_dates(&c, 0, 5);
    tcoll_write(&c, 0, c.n, path);
    build(dp, path, 1, 256);
    build(dw, path, 0, 256);
    build_segments(ds, &c, &r);
    const char *shards[3];
    for (size_t s = 0; s < 3; s++) {   /* three shards, searched together */
        char slice[300];
        snprintf(slice, sizeof slice, "%s/slice%zu.jsonl", tmp, s);
        snprintf(sh[s], sizeof sh[s], "%s/shard%zu", tmp, s);
        tcoll_write(&c, s * c.n / 3, (s + 1) * c.n / 3, slice);
        build(sh[s], slice, 1, s == 1 ? 8 : 64);
        shards[s] = sh[s];
    }
    tcoll_free(&c);
    unsigned nq = queries_per_index();
    const char *one[1] = { dp };
    check_index("generated, passages", one, 1, 1, 0, nq, 31);
    one[0] = dw;
    check_index("generated, whole articles", one, 1, 0, 0, nq, 32);
    one[0] = ds;
    check_index("generated, segments with deletions", one, 1, 1, 0, nq / 2, 33);
    check_index("generated, 3 shards opened together", shards, 3, 1, 0, nq / 2, 34);
    ttmp_remove(tmp);
}

static void test_reuters(void **state)
{
    (void)state;
    char *tmp = ttmp_make("filter-reuters");
    char path[256], dp[256], dw[256];
    snprintf(path, sizeof path, "%s/r.jsonl", tmp);
    tcoll c = { 0 };
    treuters_load(&c, 2000, 2, tmp);
    tcoll_write(&c, 0, c.n, path);
    tcoll_free(&c);
    snprintf(dp, sizeof dp, "%s/passages", tmp);
    snprintf(dw, sizeof dw, "%s/whole", tmp);
    build(dp, path, 1, 256);
    build(dw, path, 0, 256);
    unsigned nq = queries_per_index();
    const char *one[1] = { dp };
    check_index("reuters x2, passages", one, 1, 1, 1, nq, 41);
    one[0] = dw;
    check_index("reuters x2, whole articles", one, 1, 0, 1, nq, 42);
    ttmp_remove(tmp);
}

/* The library's date reader against this file's on every key shape, and
 * its refusals. */
static void test_dates(void **state)
{
    (void)state;
    static const char *const good[] = { "2025", "2025-11", "2025-11-04", "2025-11-04T10", "2025-11-04T10:30",
                                        "2025-11-04T10:30:59", "2025-11-04 10:30", "2024-02-29", "0001", "9999-12-31T23:59:60" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        uint64_t lo, hi, a, b;
        quarry_error err;
        if (quarry_date_range(good[i], &lo, &hi, &err))
            fail_msg("quarry_date_range(%s): %s", good[i], err.msg);
        assert_int_equal(slow_date(good[i], &a, &b), 2);
        if (lo != a || hi != b)
            fail_msg("%s: %llu..%llu, expected %llu..%llu", good[i], (unsigned long long)lo, (unsigned long long)hi,
                     (unsigned long long)a, (unsigned long long)b);
    }
    uint64_t lo, hi;
    assert_int_equal(quarry_date_range("2025-11", &lo, &hi, NULL), 0);
    assert_true(lo == 20251100000000ull && hi == 20251199999999ull);
    static const char *const bad[] = { "", "x", "25", "2025-13", "2025-00", "2025-02-29", "2023-04-31", "2025-11-04T24",
                                       "2025-11-04T10:60", "2025-11-04x", "2025-11-04T", "2025/11", "2025-1", "20251",
                                       "2025-11-04T10:30:00Z", " 2025" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        quarry_error err = { 0 };
        if (quarry_date_range(bad[i], &lo, &hi, &err) != QUARRY_EINVAL)
            fail_msg("quarry_date_range(\"%s\") accepted", bad[i]);
        assert_non_null(strstr(err.msg, "not a date"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_reuters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
