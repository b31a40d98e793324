/*
 * test_segments.c — an index made of segments answers exactly as one
 * fresh index of its live documents (the oracle of issue 8):
 *
 *   - batches: a collection added in K runs (K = 1, 2, 10, 50) with
 *     quarry_writer_add in add mode, where every later run also updates
 *     (re-adds with new text) and deletes documents of earlier runs, some
 *     runs deleting only, small budgets (several segments per run) and
 *     the merge policy on (and done after every run: policy_done) —
 *     against a fresh build of the live documents in
 *     the batched index's collection order (a run's documents in input
 *     order after the surviving ones of earlier runs; an update is a new
 *     document of its run). For hundreds of queries of every kind
 *     (tests/support/qtest.h), article and passage hits, k from 1 to 1000,
 *     exact counts: the same articles (by external id), the same passage of
 *     each, in the same order, with bit-identical scores and counts. Then
 *     quarry_optimize: the same again, and every file but the text store
 *     byte for byte the fresh index's; the text of every passage the same.
 *     With and without passages, on generated documents (ties at every
 *     score) and on Reuters-21578 (QUARRY_CORPUS).
 *   - shards: a collection split into S slices indexed separately and
 *     opened together (quarry_open_many) answers as one index of the whole,
 *     hit for hit (the same passage numbers).
 *   - determinism: two builds of the same input with 3 threads are the
 *     same bytes; and quarry_article_find finds the live copy of an id.
 *   - id lookups: quarry_article_find (the id hash tables) against a model
 *     of the live ids, hash collisions included, through adds, updates,
 *     deletes and optimize.
 *   - merges in parts: a merge whose postings are written by 2 to 64
 *     threads, each a range of terms, is byte for byte the merge by one.
 *
 * QUARRY_TEST_SEED changes the seed; QUARRY_SEGMENT_QUERIES the number of
 * queries per comparison (default 150).
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

#include <dirent.h>
#include <math.h>

#include "index/format.h"
#include "index/reader.h"
#include "index/segmerge.h"
#include "quarry.h"
#include "support/qtest.h"

#define CHECK_OK(call)                                                  \
    do {                                                                \
        quarry_error e_ = { 0 };                                        \
        (void)e_;                                                       \
        int rc_ = (call);                                               \
        if (rc_ != 0)                                                   \
            fail_msg("%s: code %d: %s", #call, rc_, err.msg);           \
    } while (0)

static unsigned queries(void)
{
    const char *s = getenv("QUARRY_SEGMENT_QUERIES");
    long v = s && *s ? strtol(s, NULL, 10) : 150;
    return v > 0 ? (unsigned)v : 150;
}

/* ------------------------------------------------------------ comparing two indexes */

typedef struct cmp {
    const char *name;
    quarry_index *a, *b;  /* a: the one under test; b: the oracle */
    int passage_index, same_numbers;
    unsigned searches, with_hits, mismatches;
} cmp;

static void mismatch(cmp *c, const char *q, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->mismatches < 10)
        print_error("[%s] MISMATCH '%s': %s\n", c->name, q, msg);
    c->mismatches++;
}

/* A hit as a collection-independent key: its article's id and the place of
 * its passage in the article. */
static void hit_key(quarry_index *ix, const quarry_hit *h, const char **id, uint32_t *within)
{
    quarry_article a;
    quarry_error err;
    CHECK_OK(quarry_article_get(ix, h->article, &a, &err));
    *id = a.id;
    *within = h->passage - a.first_passage;
}

static void compare_query(cmp *c, const char *q, int plain, unsigned k, int passages, int algorithm)
{
    quarry_search_options o;
    quarry_search_options_init(&o);
    o.k = k;
    o.passages = passages;
    o.plain = plain;
    o.count = 1;
    o.algorithm = algorithm;
    quarry_results *ra = NULL, *rb = NULL;
    quarry_error ea, eb;
    int rca = quarry_search(c->a, q, &o, &ra, &ea), rcb = quarry_search(c->b, q, &o, &rb, &eb);
    c->searches++;
    if (rca != rcb) {
        mismatch(c, q, "returned %d (%s), the oracle %d (%s)", rca, rca ? ea.msg : "", rcb, rcb ? eb.msg : "");
    } else if (rca == 0) {
        c->with_hits += rb->n > 0;
        if (ra->n != rb->n || ra->matched != rb->matched)
            mismatch(c, q, "%zu hits of %llu, the oracle %zu of %llu (k %u, %s)", ra->n, (unsigned long long)ra->matched,
                     rb->n, (unsigned long long)rb->matched, k, passages ? "passages" : "articles");
        else
            for (size_t i = 0; i < ra->n; i++) {
                const char *ida, *idb;
                uint32_t wa, wb;
                hit_key(c->a, &ra->hits[i], &ida, &wa);
                hit_key(c->b, &rb->hits[i], &idb, &wb);
                if (strcmp(ida, idb) || wa != wb || ra->hits[i].score != rb->hits[i].score ||
                    (c->same_numbers && ra->hits[i].passage != rb->hits[i].passage)) {
                    mismatch(c, q, "hit %zu: %s passage %u (+%u) score %.17g, the oracle %s passage %u (+%u) score %.17g",
                             i, ida, ra->hits[i].passage, wa, ra->hits[i].score, idb, rb->hits[i].passage, wb,
                             rb->hits[i].score);
                    break;
                }
            }
    }
    quarry_results_free(ra);
    quarry_results_free(rb);
}

/* Both indexes hold the same live collection: counts, every id found in
 * both, and nq random queries of every shape answered alike. */
static void compare(const char *name, const char *dir_a, const char *const *dirs_b, size_t nb, int passage_index,
                    int same_numbers, uint64_t salt)
{
    quarry_error err;
    cmp c = { name, NULL, NULL, passage_index, same_numbers, 0, 0, 0 };
    CHECK_OK(quarry_open(dir_a, &c.a, &err));
    CHECK_OK(quarry_open_many(dirs_b, nb, &c.b, &err));
    quarry_info ia, ib;
    quarry_info_get(c.a, &ia);
    quarry_info_get(c.b, &ib);
    assert_int_equal(ia.live_articles, ib.live_articles);
    assert_int_equal(ia.live_passages, ib.live_passages);
    assert_int_equal(ia.tokens, ib.tokens);
    assert_true(ia.avg_len == ib.avg_len);
    /* every live article of the oracle is found, with the same passages */
    for (uint32_t i = 0; i < ib.articles; i++) {
        quarry_article x, y;
        uint32_t at;
        CHECK_OK(quarry_article_get(c.b, i, &x, &err));
        CHECK_OK(quarry_article_find(c.a, x.id, &at, &err));
        CHECK_OK(quarry_article_get(c.a, at, &y, &err));
        assert_string_equal(x.title, y.title);
        assert_int_equal(x.npassages, y.npassages);
    }
    trng r;
    trng_seed(&r, salt);
    tvocab v;
    tvocab_load(&v, c.b);
    static const unsigned ks[] = { 1, 10, 100, 1000 };
    static const int algos[] = { QUARRY_ALGO_AUTO, QUARRY_ALGO_EXHAUSTIVE };
    unsigned nq = queries();
    for (unsigned i = 0; i < nq; i++) {
        int plain;
        char *q = tquery_make(c.b, &v, &r, (int)trng_below(&r, TQ_SHAPES), &plain);
        for (int j = 0; j < 2; j++)
            compare_query(&c, q, plain, ks[trng_below(&r, 4)], passage_index ? (int)trng_below(&r, 2) : 0,
                          algos[trng_below(&r, 2)]);
        free(q);
    }
    print_message("      [%s] %u articles, %u searches (%u with hits): %u mismatches\n", name,
                  (unsigned)ib.live_articles, c.searches, c.with_hits, c.mismatches);
    tvocab_free(&v);
    quarry_close(c.a);
    quarry_close(c.b);
    assert_int_equal(c.mismatches, 0);
    assert_true(c.with_hits > c.searches / 3);   /* the comparison meant something */
}

/* ------------------------------------------------------------ building */

static quarry_writer *writer(const char *dir, int add, int passages, unsigned mem, unsigned threads)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.add = add;
    o.passages = passages;
    o.passage_tokens = 32;
    o.stopwords = "none";
    o.mem_mb = mem;
    o.threads = threads;
    quarry_writer *w;
    quarry_error err;
    CHECK_OK(quarry_writer_open(dir, &o, &w, &err));
    return w;
}

static void add_doc(quarry_writer *w, const tdoc *d)
{
    quarry_error err;
    CHECK_OK(quarry_writer_add(w, d->id, d->title, d->text, strlen(d->text), NULL, NULL, &err));
}

static void commit(quarry_writer *w, quarry_index_summary *s)
{
    quarry_error err;
    CHECK_OK(quarry_writer_commit(w, &err));
    quarry_index_summary t;
    quarry_writer_summary(w, s ? s : &t);
    quarry_writer_close(w);
}

/* After a commit the merge policy (segmerge.h) has nothing left to do:
 * no QSM_FACTOR adjacent segments of one level, and no run of adjacent
 * segments below the largest level whose live units together reach it. */
static unsigned seg_level(double live)
{
    return live <= QSM_MIN_UNITS ? 0 : (unsigned)floor(log10(live / QSM_MIN_UNITS));
}

static void policy_done(const char *dir)
{
    quarry_index *ix;
    quarry_error err;
    CHECK_OK(quarry_open(dir, &ix, &err));
    unsigned top = 0;
    for (size_t i = 0; i < ix->nseg; i++) {
        unsigned l = seg_level((double)(ix->seg[i].nunits - ix->seg[i].del_units));
        top = l > top ? l : top;
    }
    for (size_t i = 0; i < ix->nseg; i++) {
        unsigned l = seg_level((double)(ix->seg[i].nunits - ix->seg[i].del_units));
        size_t same = 1;
        while (i + same < ix->nseg && same < QSM_FACTOR &&
               seg_level((double)(ix->seg[i + same].nunits - ix->seg[i + same].del_units)) == l)
            same++;
        assert_true(same < QSM_FACTOR);
        double live = 0;
        size_t j = i;
        while (j < ix->nseg && seg_level((double)(ix->seg[j].nunits - ix->seg[j].del_units)) < top)
            live += (double)(ix->seg[j].nunits - ix->seg[j].del_units), j++;
        if (top > 0 && j - i >= 2 && live > QSM_MIN_UNITS * pow(10.0, top))
            fail_msg("%s: segments %zu..%zu below level %u hold %.0f live units: the policy left them", dir, i,
                     j - 1, top, live);
    }
    quarry_close(ix);
}

/* The fresh oracle: docs[order[0..n)] in one run, one thread. */
static void build_fresh(const char *dir, const tcoll *docs, const size_t *order, size_t n, int passages)
{
    quarry_writer *w = writer(dir, 0, passages, 256, 1);
    for (size_t i = 0; i < n; i++)
        add_doc(w, &docs->d[order[i]]);
    commit(w, NULL);
}

static int file_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int x = fgetc(fa), y = fgetc(fb);
        same = x == y;
        if (x == EOF || y == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* The one file of kind `kind` in dir (an index of one segment). */
static void seg_file(const char *dir, const char *kind, char *out, size_t n)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d))) {
        const char *dot = strrchr(e->d_name, '.');
        if (e->d_name[0] == 's' && dot && !strcmp(dot + 1, kind)) {
            snprintf(out, n, "%s/%s", dir, e->d_name);
            found++;
        }
    }
    closedir(d);
    assert_int_equal(found, 1);
}

/* ------------------------------------------------------------ batches */

typedef struct entry {
    size_t doc;   /* in the versions collection */
    int live;
} entry;

typedef struct history {
    tcoll versions;   /* every document ever added, updates as new versions */
    entry *e;         /* in collection order */
    size_t n, cap;
} history;

static void hist_add(history *h, size_t doc)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 1024;
        h->e = txrealloc(h->e, h->cap * sizeof *h->e);
    }
    h->e[h->n].doc = doc;
    h->e[h->n].live = 1;
    h->n++;
}

/* A random live entry of the runs before `limit`, not marked in `busy`. */
static size_t pick_live(history *h, trng *r, size_t limit, const unsigned char *busy)
{
    for (int tries = 0; tries < 1000; tries++) {
        size_t i = trng_below(r, (uint32_t)limit);
        if (h->e[i].live && !busy[i])
            return i;
    }
    return SIZE_MAX;
}

static void batches(const char *name, const tcoll *base, size_t K, int passages, uint64_t salt)
{
    trng r;
    trng_seed(&r, salt);
    char *tmp = ttmp_make("segments");
    char dir[300], fresh[300];
    snprintf(dir, sizeof dir, "%s/batched", tmp);
    snprintf(fresh, sizeof fresh, "%s/fresh", tmp);
    history h = { 0 };
    for (size_t i = 0; i < base->n; i++)
        tcoll_add(&h.versions, base->d[i].id, base->d[i].title, base->d[i].text);
    quarry_error err;
    uint64_t updates = 0, deletes = 0, merges = 0, segments = 0;
    size_t per = (base->n + K - 1) / K;
    for (size_t j = 0; j < K; j++) {
        size_t from = j * per, to = from + per < base->n ? from + per : base->n;
        size_t before = h.n;   /* entries of the earlier runs */
        unsigned mem = trng_below(&r, 3) ? 8 : 64;   /* small budgets: several segments a run */
        quarry_writer *w = writer(dir, j > 0, passages, mem, 1);
        for (size_t i = from; i < to; i++) {
            add_doc(w, &h.versions.d[i]);
            hist_add(&h, i);
        }
        unsigned char *busy = calloc(before ? before : 1, 1);
        assert_non_null(busy);
        size_t live = 0;
        for (size_t i = 0; i < before; i++)
            live += h.e[i].live;
        if (j > 0) {
            /* updates: an earlier document again, with another's text and a word of its own */
            size_t nu = live / 20 + trng_below(&r, 3);
            for (size_t u = 0; u < nu; u++) {
                size_t i = pick_live(&h, &r, before, busy);
                if (i == SIZE_MAX)
                    break;
                busy[i] = 1;
                const tdoc *old = &h.versions.d[h.e[i].doc];
                const tdoc *other = &h.versions.d[trng_below(&r, (uint32_t)h.versions.n)];
                tsb t = { 0 };
                tsb_printf(&t, "%s updated%zu. %s", other->text, j, old->text);
                tcoll_add(&h.versions, old->id, old->title, t.p);
                free(t.p);
                add_doc(w, &h.versions.d[h.versions.n - 1]);
                h.e[i].live = 0;
                hist_add(&h, h.versions.n - 1);
                updates++;
            }
            /* deletions in the same run */
            size_t nd = live / 40 + trng_below(&r, 3);
            for (size_t u = 0; u < nd; u++) {
                size_t i = pick_live(&h, &r, before, busy);
                if (i == SIZE_MAX)
                    break;
                busy[i] = 1;
                CHECK_OK(quarry_writer_delete(w, h.versions.d[h.e[i].doc].id, &err));
                h.e[i].live = 0;
                deletes++;
            }
            /* an id that was never there: reported, the writer goes on */
            assert_int_equal(quarry_writer_delete(w, "no-such-id", &err), QUARRY_ENOTFOUND);
        }
        quarry_index_summary s;
        commit(w, &s);
        policy_done(dir);
        merges += s.merges;
        segments += s.segments;
        free(busy);
        if (j > 0 && j % 3 == 2) {   /* a run that only deletes: segments counted out on 2-3 threads */
            quarry_writer *d = writer(dir, 1, passages, 24, 2 + (unsigned)(j % 2));
            unsigned char *none = calloc(h.n, 1);
            assert_non_null(none);
            for (size_t u = 0, nd = 1 + trng_below(&r, 5); u < nd; u++) {
                size_t i = pick_live(&h, &r, h.n, none);
                if (i == SIZE_MAX)
                    break;
                none[i] = 1;
                CHECK_OK(quarry_writer_delete(d, h.versions.d[h.e[i].doc].id, &err));
                h.e[i].live = 0;
                deletes++;
            }
            free(none);
            commit(d, NULL);
        }
    }
    /* the oracle: the live entries in order */
    size_t *order = txmalloc(h.n * sizeof *order), nl = 0;
    for (size_t i = 0; i < h.n; i++)
        if (h.e[i].live)
            order[nl++] = h.e[i].doc;
    build_fresh(fresh, &h.versions, order, nl, passages);
    print_message("      [%s] %zu runs: %llu segments written, %llu merges, %llu updates, %llu deletes; %zu live\n", name,
                  K, (unsigned long long)segments, (unsigned long long)merges, (unsigned long long)updates,
                  (unsigned long long)deletes, nl);
    const char *fr[] = { fresh };
    char label[200];
    snprintf(label, sizeof label, "%s, %zu runs", name, K);
    compare(label, dir, fr, 1, passages, 0, salt + 1);
    /* merged into one segment: the same answers, the same numbers, the fresh index's bytes */
    quarry_index_summary so;
    CHECK_OK(quarry_optimize(dir, 64, &so, &err));
    snprintf(label, sizeof label, "%s, %zu runs, optimized", name, K);
    compare(label, dir, fr, 1, passages, 1, salt + 2);
    static const char *const kinds[] = { "meta", "dict", "post", "posn", "unit", "arts" };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        char a[600], b[600];
        seg_file(dir, kinds[k], a, sizeof a);
        seg_file(fresh, kinds[k], b, sizeof b);
        if (!file_equal(a, b))
            fail_msg("[%s] after optimize, %s differs from the fresh index's", label, kinds[k]);
    }
    quarry_index *ia, *ib;
    CHECK_OK(quarry_open(dir, &ia, &err));
    CHECK_OK(quarry_open(fresh, &ib, &err));
    quarry_info in;
    quarry_info_get(ib, &in);
    for (uint32_t u = 0; u < in.passages; u++) {
        char *ta, *tb;
        size_t la, lb;
        CHECK_OK(quarry_passage_text(ia, u, &ta, &la, &err));
        CHECK_OK(quarry_passage_text(ib, u, &tb, &lb, &err));
        assert_int_equal(la, lb);
        assert_memory_equal(ta, tb, la);
        free(ta);
        free(tb);
    }
    quarry_close(ia);
    quarry_close(ib);
    CHECK_OK(quarry_verify(dir, &err));
    free(order);
    free(h.e);
    tcoll_free(&h.versions);
    ttmp_remove(tmp);
}

static void generated(tcoll *c)
{
    trng r;
    trng_seed(&r, 77);
    tcoll_generate(c, &r, 1500, "g");
}

static void test_batches_generated(void **state)
{
    (void)state;
    tcoll c = { 0 };
    generated(&c);
    static const size_t ks[] = { 1, 2, 10, 50 };
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++)
        batches("generated, passages", &c, ks[i], 1, 100 + i);
    batches("generated, whole articles", &c, 10, 0, 110);
    tcoll_free(&c);
}

static int reuters(tcoll *c, size_t n)
{
    char src[1024];
    snprintf(src, sizeof src, "%s/reuters21578/docs.jsonl.gz", tcorpus_dir());
    if (!tcoll_load_jsonl(c, src, n, 1)) {
        print_message("%s is not there (set QUARRY_CORPUS)\n", src);
        return 0;
    }
    return 1;
}

static void test_batches_reuters(void **state)
{
    (void)state;
    tcoll c = { 0 };
    if (!reuters(&c, 2500))
        tskip("the Reuters-21578 collection is not under %s (set QUARRY_CORPUS)", tcorpus_dir());
    batches("reuters, passages", &c, 10, 1, 200);
    batches("reuters, whole articles", &c, 50, 0, 201);
    tcoll_free(&c);
}

/* ------------------------------------------------------------ shards */

static void shards(const char *name, const tcoll *c, size_t S, int passages, uint64_t salt)
{
    char *tmp = ttmp_make("shards");
    char whole[300];
    snprintf(whole, sizeof whole, "%s/whole", tmp);
    size_t *order = txmalloc(c->n * sizeof *order);
    for (size_t i = 0; i < c->n; i++)
        order[i] = i;
    build_fresh(whole, c, order, c->n, passages);
    char (*dirs)[300] = txmalloc(S * sizeof *dirs);
    const char **dp = txmalloc(S * sizeof *dp);
    size_t per = (c->n + S - 1) / S;
    for (size_t s = 0; s < S; s++) {
        snprintf(dirs[s], sizeof dirs[s], "%s/shard%zu", tmp, s);
        size_t from = s * per, to = from + per < c->n ? from + per : c->n;
        quarry_writer *w = writer(dirs[s], 0, passages, s % 2 ? 8 : 64, 1);   /* --mem 8: several segments */
        for (size_t i = from; i < to; i++)
            add_doc(w, &c->d[i]);
        commit(w, NULL);
        dp[s] = dirs[s];
    }
    char label[200];
    snprintf(label, sizeof label, "%s, %zu shards", name, S);
    /* the shards opened together against the whole (a: the shards) */
    quarry_error err;
    quarry_index *ix;
    CHECK_OK(quarry_open_many(dp, S, &ix, &err));
    quarry_info in;
    quarry_info_get(ix, &in);
    assert_int_equal(in.indexes, S);
    quarry_close(ix);
    /* compare() opens its first index with quarry_open and its oracle side
     * with quarry_open_many: the whole is checked against the shards, hit
     * for hit with the same numbers (one thread: the order of the input) */
    compare(label, whole, dp, S, passages, 1, salt);
    free(dp);
    free(dirs);
    free(order);
    ttmp_remove(tmp);
}

static void test_shards(void **state)
{
    (void)state;
    tcoll c = { 0 };
    generated(&c);
    shards("generated, passages", &c, 3, 1, 300);
    shards("generated, whole articles", &c, 4, 0, 301);
    tcoll_free(&c);
    tcoll r = { 0 };
    if (reuters(&r, 3000)) {
        shards("reuters, passages", &r, 5, 1, 302);
        tcoll_free(&r);
    }
}

/* ------------------------------------------------------------ determinism */

static size_t names(const char *dir, char out[][64], size_t max)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    size_t n = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            assert_true(n < max);
            snprintf(out[n++], 64, "%.63s", e->d_name);
        }
    closedir(d);
    qsort(out, n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
}

/* Every file of two indexes has the same name and bytes (but LOCK). */
static void same_files(const char *d1, const char *d2)
{
    static char n1[512][64], n2[512][64];
    size_t k1 = names(d1, n1, 512), k2 = names(d2, n2, 512);
    assert_int_equal(k1, k2);
    for (size_t i = 0; i < k1; i++) {
        assert_string_equal(n1[i], n2[i]);
        char a[400], b[400];
        snprintf(a, sizeof a, "%.300s/%.63s", d1, n1[i]);
        snprintf(b, sizeof b, "%.300s/%.63s", d2, n2[i]);
        if (strcmp(n1[i], "LOCK") && !file_equal(a, b))
            fail_msg("%s differs from %s", a, b);
    }
}

/* The same input with the same number of threads gives the same segments
 * (names and bytes), whatever the timing: three threads and a small budget,
 * so that many segments are written at once; and the same index after the
 * merges. */
static void test_threads_deterministic(void **state)
{
    (void)state;
    tcoll c = { 0 };
    generated(&c);
    char *tmp = ttmp_make("segdet");
    char path[300], d[2][300];
    snprintf(path, sizeof path, "%s/in.jsonl", tmp);
    tcoll_write(&c, 0, c.n, path);
    quarry_error err;
    for (int run = 0; run < 2; run++) {
        snprintf(d[run], sizeof d[run], "%s/run%d", tmp, run);
        quarry_index_options o;
        quarry_index_options_init(&o);
        o.threads = 3;
        o.mem_mb = 24;
        o.passage_tokens = 32;
        o.merge = 0;
        quarry_writer *w;
        CHECK_OK(quarry_writer_open(d[run], &o, &w, &err));
        const char *paths[] = { path };
        CHECK_OK(quarry_writer_add_paths(w, paths, 1, &err));
        quarry_index_summary s;
        commit(w, &s);
        assert_true(s.segments >= 3);
    }
    same_files(d[0], d[1]);
    quarry_index_summary s;
    CHECK_OK(quarry_optimize(d[0], 0, &s, &err));
    CHECK_OK(quarry_optimize(d[1], 0, &s, &err));
    same_files(d[0], d[1]);
    tcoll_free(&c);
    ttmp_remove(tmp);
}

/* ------------------------------------------------------------ merges in parts */

/* docs[0..n) into `dir` in three runs of two threads (several segments),
 * then a run that deletes every `del`-th article and the
 * articles of `extra` words nothing else holds (added by the first run): a
 * term whose postings are all deleted is left out of the merged segment,
 * wherever a part starts. Deterministic (test_threads_deterministic). */
static void parts_index(const char *dir, const tcoll *c, size_t n, size_t del, size_t extra)
{
    quarry_error err;
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.passage_tokens = 32;
    o.stopwords = "none";
    o.mem_mb = 16;
    o.threads = 2;
    o.merge = 0;   /* the segments the runs and their threads wrote */
    quarry_writer *w;
    for (size_t run = 0; run < 3; run++) {   /* three runs: three segments at least */
        o.add = run > 0;
        CHECK_OK(quarry_writer_open(dir, &o, &w, &err));
        for (size_t i = run * n / 3; i < (run + 1) * n / 3; i++)
            add_doc(w, &c->d[i]);
        for (size_t i = 0; run == 0 && i < extra; i++) {
            char id[32], text[128];
            snprintf(id, sizeof id, "only-%zu", i);
            snprintf(text, sizeof text, "zzonly%zuword and zzonly%zuother", i, i);
            CHECK_OK(quarry_writer_add(w, id, NULL, text, strlen(text), NULL, NULL, &err));
        }
        commit(w, NULL);
    }
    o.threads = 1;
    CHECK_OK(quarry_writer_open(dir, &o, &w, &err));
    for (size_t i = 0; del && i < n; i += del)
        CHECK_OK(quarry_writer_delete(w, c->d[i].id, &err));
    for (size_t i = 0; i < extra; i++) {
        char id[32];
        snprintf(id, sizeof id, "only-%zu", i);
        CHECK_OK(quarry_writer_delete(w, id, &err));
    }
    commit(w, NULL);
}

/* A merge in P parts writes the bytes of a merge in one part (the oracle:
 * the same merge with one thread), for P from 2 to 64, with parts of at
 * least one byte so that every merge is split as finely as asked:
 * generated documents (ties, a few thousand terms), Reuters-21578, and an
 * index of three documents split into more parts than it has terms. The
 * merged index verifies and no temporary file of the parts is left. */
static void merge_parts(const char *name, const tcoll *c, size_t n, size_t del, size_t extra)
{
    static const unsigned ps[] = { 1, 2, 3, 5, 16, 64 };
    char *tmp = ttmp_make("segparts");
    char d[sizeof ps / sizeof *ps][300], ref[300];
    quarry_error err;
    unsigned nseg = 0;
    snprintf(ref, sizeof ref, "%s/sources", tmp);
    parts_index(ref, c, n, del, extra);
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        snprintf(d[k], sizeof d[k], "%s/p%u", tmp, ps[k]);
        parts_index(d[k], c, n, del, extra);
        same_files(ref, d[k]);   /* the same sources */
        quarry_index *ix;
        CHECK_OK(quarry_open(d[k], &ix, &err));
        quarry_info in;
        quarry_info_get(ix, &in);
        assert_true(in.segments >= 2);
        nseg = (unsigned)in.segments;
        quarry_close(ix);
        quarry_index_summary s = { 0 };
        qsm_opts o = { (size_t)1 << 40, ps[k], 1, 0 };   /* a budget that never limits the parts */
        CHECK_OK(qsm_optimize(d[k], &o, &s, &err));
        assert_int_equal(s.merges, 1);
        CHECK_OK(quarry_verify(d[k], &err));
        if (k)
            same_files(d[0], d[k]);   /* names and bytes: no part's file left */
    }
    quarry_index *ix;
    CHECK_OK(quarry_open(d[0], &ix, &err));
    quarry_info in;
    quarry_info_get(ix, &in);
    print_message("      [%s] %llu terms of %u segments merged in 1 to 64 parts: the same bytes\n", name,
                  (unsigned long long)in.terms, nseg);
    quarry_close(ix);
    ttmp_remove(tmp);
}

static void test_merge_parts(void **state)
{
    (void)state;
    tcoll c = { 0 };
    generated(&c);
    merge_parts("generated", &c, c.n, 7, 40);
    merge_parts("three documents", &c, 3, 0, 1);
    tcoll_free(&c);
    tcoll r = { 0 };
    if (reuters(&r, 3000)) {
        merge_parts("reuters", &r, r.n, 5, 10);
        tcoll_free(&r);
    }
}

/* ------------------------------------------------------------ id lookups */

/* Two ids with the same 32-bit id hash (FORMAT.md §arts), found by a
 * birthday search over "collide-N": *a < *b in N, the first pair from
 * *from on (updated past it). */
static void colliding(unsigned *from, char a[32], char b[32])
{
    enum { SLOTS = 1u << 20 };
    uint64_t *slot = calloc(SLOTS, sizeof *slot);   /* hash << 32 | n + 1 */
    assert_non_null(slot);
    for (unsigned n = *from;; n++) {
        char id[32];
        int len = snprintf(id, sizeof id, "collide-%u", n);
        uint32_t h = qf_id_hash(id, (size_t)len);
        uint32_t i = h & (SLOTS - 1);
        while (slot[i] && (uint32_t)(slot[i] >> 32) != h)
            i = (i + 1) & (SLOTS - 1);
        if (slot[i]) {
            snprintf(a, 32, "collide-%u", (unsigned)(uint32_t)slot[i] - 1);
            memcpy(b, id, (size_t)len + 1);
            *from = n + 1;
            break;
        }
        slot[i] = (uint64_t)h << 32 | (n + 1);
    }
    free(slot);
}

typedef struct idmodel {
    char **id;
    int *version;        /* 0: absent or deleted; else the title's version */
    size_t n, cap;
} idmodel;

static size_t model_add(idmodel *m, const char *id)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 1024;
        m->id = txrealloc(m->id, m->cap * sizeof *m->id);
        m->version = txrealloc(m->version, m->cap * sizeof *m->version);
    }
    m->id[m->n] = txstrdup(id);
    m->version[m->n] = 0;
    return m->n++;
}

static void put(quarry_writer *w, idmodel *m, size_t i, int version)
{
    char title[32];
    snprintf(title, sizeof title, "version %d", version);
    static const char text[] = "alpha bravo charlie";
    quarry_error err;
    CHECK_OK(quarry_writer_add(w, m->id[i], title, text, sizeof text - 1, NULL, NULL, &err));
    m->version[i] = version;
}

/* Every id of the model (and every absent one) against quarry_article_find:
 * found exactly when live, and then the article with that id and the
 * latest version's title. */
static void lookups_agree(const char *dir, const idmodel *m, const char *when)
{
    quarry_index *ix;
    quarry_error err;
    CHECK_OK(quarry_open(dir, &ix, &err));
    CHECK_OK(quarry_verify(dir, &err));
    size_t found = 0;
    for (size_t i = 0; i < m->n; i++) {
        uint32_t a = UINT32_MAX;
        int rc = quarry_article_find(ix, m->id[i], &a, &err);
        if (!m->version[i]) {
            if (rc != QUARRY_ENOTFOUND)
                fail_msg("%s: %s is not live, quarry_article_find returned %d (article %u)", when, m->id[i], rc, a);
            continue;
        }
        if (rc)
            fail_msg("%s: %s is live (version %d), quarry_article_find returned %d: %s", when, m->id[i],
                     m->version[i], rc, err.msg);
        quarry_article art;
        CHECK_OK(quarry_article_get(ix, a, &art, &err));
        char title[32];
        snprintf(title, sizeof title, "version %d", m->version[i]);
        if (strcmp(art.id, m->id[i]) != 0 || strcmp(art.title, title) != 0)
            fail_msg("%s: %s found as article %u \"%s\" titled \"%s\", expected \"%s\"", when, m->id[i], a, art.id,
                     art.title, title);
        found++;
    }
    print_message("      %-34s %zu ids looked up, %zu live\n", when, m->n, found);
    quarry_close(ix);
}

/* quarry_article_find (an id hash table per segment: FORMAT.md §arts)
 * against a model of which ids are live, over ids of many shapes (shared
 * prefixes, long, non-ASCII, 32-bit hash collisions in one segment and
 * across segments), through adds, updates and deletes (a segment per run
 * and thread), and quarry_optimize. */
/* The merge policy's tail: one run of passages makes a segment of level
 * 1 (more than 10,000 units), then runs of a few hundred articles add
 * segments of level 0; once those together hold more than 10,000 units
 * they are one segment (policy_done after every run), and the index still
 * answers as a fresh build of the same documents would. */
static void test_policy_tail(void **state)
{
    (void)state;
    tcoll c = { 0 };
    trng r;
    trng_seed(&r, 78);
    tcoll_generate(&c, &r, 4000, "t");
    char *tmp = ttmp_make("policytail");
    char dir[300], fresh[300];
    snprintf(dir, sizeof dir, "%s/ix", tmp);
    snprintf(fresh, sizeof fresh, "%s/fresh", tmp);
    size_t first = c.n * 3 / 8, step = c.n / 16, runs = 0, merges = 0;
    quarry_writer *w = writer(dir, 0, 1, 256, 1);
    for (size_t i = 0; i < first; i++)
        add_doc(w, &c.d[i]);
    commit(w, NULL);
    policy_done(dir);
    quarry_index *ix;
    quarry_error err;
    CHECK_OK(quarry_open(dir, &ix, &err));
    size_t units0 = ix->seg[0].nunits, nseg0 = ix->nseg;
    quarry_close(ix);
    assert_true(nseg0 == 1 && units0 > 10 * QSM_MIN_UNITS);
    for (size_t from = first; from < c.n; from += step, runs++) {
        w = writer(dir, 1, 1, 256, 1);
        for (size_t i = from; i < c.n && i < from + step; i++)
            add_doc(w, &c.d[i]);
        quarry_index_summary s;
        commit(w, &s);
        merges += s.merges;
        policy_done(dir);
    }
    CHECK_OK(quarry_open(dir, &ix, &err));
    print_message("      [policy tail] %zu articles: a first segment of %zu units, %zu runs after it, %zu merges, "
                  "%zu segments\n", c.n, units0, runs, merges, ix->nseg);
    quarry_close(ix);
    assert_true(merges > 0);
    size_t *order = malloc(c.n * sizeof *order);
    assert_non_null(order);
    for (size_t i = 0; i < c.n; i++)
        order[i] = i;
    build_fresh(fresh, &c, order, c.n, 1);
    free(order);
    CHECK_OK(quarry_verify(dir, &err));
    const char *b[] = { fresh };
    compare("policy tail", dir, b, 1, 1, 1, 61);
    ttmp_remove(tmp);
    tcoll_free(&c);
}

static void test_id_lookup(void **state)
{
    (void)state;
    char *tmp = ttmp_make("idlookup");
    char dir[300];
    snprintf(dir, sizeof dir, "%s/ix", tmp);
    idmodel m = { 0 };
    trng r;
    trng_seed(&r, 900);
    for (unsigned i = 0; i < 6000; i++) {
        char id[300];
        switch (i % 5) {
        case 0: snprintf(id, sizeof id, "talk.politics.misc/%u#r%u", 170000 + i, i % 25); break;
        case 1: snprintf(id, sizeof id, "%u", i); break;
        case 2: snprintf(id, sizeof id, "d\xc3\xa9p\xc3\xaa" "che-%u-\xe2\x82\xac", i); break;
        case 3: snprintf(id, sizeof id, "%0200u", i); break;
        default: snprintf(id, sizeof id, "x%llx", (unsigned long long)trng_next(&r)); break;
        }
        model_add(&m, id);
    }
    unsigned from = 0;
    size_t col[6];
    for (int k = 0; k < 3; k++) {   /* three colliding pairs */
        char a[32], b[32];
        colliding(&from, a, b);
        col[2 * k] = model_add(&m, a);
        col[2 * k + 1] = model_add(&m, b);
    }
    /* run 1: the first half and both ids of pair 0 */
    quarry_writer *w = writer(dir, 0, 0, 8, 1);
    for (size_t i = 0; i < 3000; i++)
        put(w, &m, i, 1);
    put(w, &m, col[0], 1);
    put(w, &m, col[1], 1);
    put(w, &m, col[2], 1);   /* pair 1: one id now, the other later */
    commit(w, NULL);
    lookups_agree(dir, &m, "after the first run");
    /* run 2: the rest, updates, deletes (pair 1's second id; pair 2 not at all) */
    w = writer(dir, 1, 0, 16, 2);
    for (size_t i = 3000; i < 6000; i++)
        put(w, &m, i, 1);
    put(w, &m, col[3], 1);
    for (size_t i = 0; i < 3000; i += 7)
        put(w, &m, i, 2);
    quarry_error err;
    for (size_t i = 1; i < 3000; i += 11) {
        if (m.version[i] == 2)
            continue;
        CHECK_OK(quarry_writer_delete(w, m.id[i], &err));
        m.version[i] = 0;
    }
    CHECK_OK(quarry_writer_delete(w, m.id[col[0]], &err));   /* one of a colliding pair */
    m.version[col[0]] = 0;
    commit(w, NULL);
    lookups_agree(dir, &m, "after adds, updates and deletes");
    /* run 3: updates of updates, and a deleted id back */
    w = writer(dir, 1, 0, 8, 1);
    for (size_t i = 0; i < 3000; i += 14)
        put(w, &m, i, 3);
    put(w, &m, 1, 4);
    commit(w, NULL);
    lookups_agree(dir, &m, "after a third run");
    quarry_index_summary so;
    CHECK_OK(quarry_optimize(dir, 64, &so, &err));
    lookups_agree(dir, &m, "after quarry_optimize");
    for (size_t i = 0; i < m.n; i++)
        free(m.id[i]);
    free(m.id);
    free(m.version);
    ttmp_remove(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_generated),
        cmocka_unit_test(test_batches_reuters),
        cmocka_unit_test(test_shards),
        cmocka_unit_test(test_threads_deterministic),
        cmocka_unit_test(test_id_lookup),
        cmocka_unit_test(test_policy_tail),
        cmocka_unit_test(test_merge_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
