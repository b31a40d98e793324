/*
 * test_dfs.c — shards searched with collection statistics from outside
 * (quarry_query_terms, quarry_stats_for_terms, quarry_stats_new,
 * quarry_search_options.stats) answer as one index of the whole
 * collection, as the Dask driver (dist/) searches them:
 *
 *   - a collection is routed to S shards by a hash of each id (uneven,
 *     interleaved), each shard built in two runs: its documents and some
 *     that the second run (add mode) deletes again, with small budgets
 *     (several segments); the oracle is one fresh index of the live
 *     documents in shard order (shard 0's, then shard 1's, ...: the order
 *     whose passage numbers break ties as the merge below does);
 *   - for thousands of random queries of every shape (OR, AND, phrases,
 *     NOT, title:, plain bags of words; tests/support/qtest.h), in article
 *     and passage mode, with every algorithm (auto, exhaustive, MaxScore,
 *     block-max WAND: their bounds use the outside idf) and k from 1 to
 *     1000: phase 1 asks every shard for the query's terms (the same as
 *     the oracle's) and their df, summed, which must equal the oracle's
 *     statistics exactly; phase 2 searches every shard with the sums and
 *     merges the per-shard top k (best score, then shard order, then the
 *     shard's own order). The merged hits must be the oracle's: the same
 *     articles and passages in the same order (ties included: generated
 *     documents have exact copies), scores within 1e-9 (and counted when
 *     bit-identical), and the summed exact match counts the oracle's;
 *   - explanations of a shard's hit show the collection's N and df and add
 *     up to its score; wrong statistics are refused (a missing term, a df
 *     below the shard's, a collection smaller than the shard, feedback).
 *
 * On generated documents and on Reuters-21578 (QUARRY_CORPUS; skipped,
 * saying so, when absent). QUARRY_DFS_QUERIES sets the queries per
 * collection (default 1500).
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "quarry.h"
#include "support/qtest.h"

#define CHECK_OK(call)                                                  \
    do {                                                                \
        int rc_ = (call);                                               \
        if (rc_ != 0)                                                   \
            fail_msg("%s: code %d: %s", #call, rc_, err.msg);           \
    } while (0)

#define MAXS 8

static unsigned nqueries(void)
{
    const char *s = getenv("QUARRY_DFS_QUERIES");
    long v = s && *s ? strtol(s, NULL, 10) : 1500;
    return v > 0 ? (unsigned)v : 1500;
}

/* FNV-1a of the id: the shard of a document (any stable hash does). */
static size_t shard_of(const char *id, size_t S)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h % S);
}

/* ------------------------------------------------------------ building */

static quarry_writer *writer(const char *dir, int add, int passages, unsigned mem)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.add = add;
    o.passages = passages;
    o.passage_tokens = 32;
    o.mem_mb = mem;
    o.threads = 1;
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

static void commit(quarry_writer *w)
{
    quarry_error err;
    CHECK_OK(quarry_writer_commit(w, &err));
    quarry_writer_close(w);
}

/* ------------------------------------------------------------ one comparison */

typedef struct run {
    const char *name;
    quarry_index *whole, *shard[MAXS];
    size_t S;
    unsigned searches, with_hits, merged_ties, exact, mismatches, notterms;
    double worst;
} run;

static void mismatch(run *c, const char *q, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->mismatches < 10)
        print_error("[%s] MISMATCH '%s': %s\n", c->name, q, msg);
    c->mismatches++;
}

typedef struct mhit {
    double score;
    size_t shard, rank;
    const quarry_hit *h;
} mhit;

static int cmp_mhit(const void *a, const void *b)
{
    const mhit *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->shard != y->shard)
        return x->shard < y->shard ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static void hit_key(quarry_index *ix, const quarry_hit *h, const char **id, uint32_t *within)
{
    quarry_article a;
    quarry_error err;
    CHECK_OK(quarry_article_get(ix, h->article, &a, &err));
    *id = a.id;
    *within = h->passage - a.first_passage;
}

/* Phase 1: the summed statistics of the query's terms over the shards
 * (checked against the oracle's own), as a table. */
static quarry_stats *phase1(run *c, const char *q, int plain)
{
    quarry_error err;
    char **wt;
    size_t wn;
    int rc = quarry_query_terms(c->whole, q, plain, &wt, &wn, &err);
    if (rc) {
        assert_int_equal(rc, QUARRY_ESYNTAX);
        return NULL;
    }
    uint64_t *sum = txmalloc((wn + 1) * sizeof *sum), *df = txmalloc((wn + 1) * sizeof *df);
    memset(sum, 0, (wn + 1) * sizeof *sum);
    uint64_t units = 0, tokens = 0;
    for (size_t s = 0; s < c->S; s++) {
        char **st;
        size_t sn;
        CHECK_OK(quarry_query_terms(c->shard[s], q, plain, &st, &sn, &err));
        assert_int_equal(sn, wn);   /* the same analyzer: the same terms */
        for (size_t i = 0; i < sn; i++)
            assert_string_equal(st[i], wt[i]);
        assert_null(st[sn]);
        uint64_t u, t;
        CHECK_OK(quarry_stats_for_terms(c->shard[s], (const char *const *)st, sn, df, &u, &t, &err));
        for (size_t i = 0; i < sn; i++)
            sum[i] += df[i];
        units += u;
        tokens += t;
        quarry_query_terms_free(st);
    }
    uint64_t u, t;
    CHECK_OK(quarry_stats_for_terms(c->whole, (const char *const *)wt, wn, df, &u, &t, &err));
    assert_int_equal(u, units);
    assert_int_equal(t, tokens);
    for (size_t i = 0; i < wn; i++)
        if (df[i] != sum[i])
            fail_msg("'%s': df of %s: shards %llu, whole %llu", q, wt[i], (unsigned long long)sum[i],
                     (unsigned long long)df[i]);
    quarry_stats *tab;
    CHECK_OK(quarry_stats_new(units, tokens, (const char *const *)wt, sum, wn, &tab, &err));
    free(sum);
    free(df);
    quarry_query_terms_free(wt);
    return tab;
}

static void compare_query(run *c, const char *q, int plain, unsigned k, int passages, int algorithm, int count)
{
    quarry_stats *tab = phase1(c, q, plain);
    quarry_search_options o;
    quarry_search_options_init(&o);
    o.k = k;
    o.passages = passages;
    o.plain = plain;
    o.count = count;
    o.algorithm = algorithm;
    quarry_results *rw = NULL, *rs[MAXS] = { 0 };
    quarry_error ew, es;
    int rcw = quarry_search(c->whole, q, &o, &rw, &ew);
    c->searches++;
    if (!tab) {   /* a syntax error: the whole says so too */
        if (rcw != QUARRY_ESYNTAX)
            mismatch(c, q, "terms: a syntax error, search: %d", rcw);
        quarry_results_free(rw);
        return;
    }
    o.stats = tab;
    size_t total = 0, live = 0;
    uint64_t matched = 0;
    for (size_t s = 0; s < c->S; s++) {
        int rc = quarry_search(c->shard[s], q, &o, &rs[s], &es);
        if (rc == QUARRY_ENOTERMS)   /* nothing of the query in this shard: no hits */
            continue;
        if (rc) {
            mismatch(c, q, "shard %zu: %d %s", s, rc, es.msg);
            goto out;
        }
        live++;
        total += rs[s]->n;
        matched += rs[s]->matched;
    }
    if (rcw == QUARRY_ENOTERMS) {
        c->notterms++;
        if (live)
            mismatch(c, q, "no terms in the whole, but %zu shards searched", live);
        goto out;
    }
    if (rcw) {
        mismatch(c, q, "whole: %d %s", rcw, ew.msg);
        goto out;
    }
    mhit *m = txmalloc((total + 1) * sizeof *m);
    size_t n = 0;
    for (size_t s = 0; s < c->S; s++)
        for (size_t i = 0; rs[s] && i < rs[s]->n; i++)
            m[n++] = (mhit){ rs[s]->hits[i].score, s, i, &rs[s]->hits[i] };
    qsort(m, n, sizeof *m, cmp_mhit);
    for (size_t i = 1; i < n && i < k; i++)
        c->merged_ties += m[i].score == m[i - 1].score && m[i].shard != m[i - 1].shard;
    size_t want = n < k ? n : k;
    c->with_hits += rw->n > 0;
    if (rw->n != want)
        mismatch(c, q, "%zu hits, the shards %zu (k %u, %s)", rw->n, want, k, passages ? "passages" : "articles");
    else if (count && rw->matched != matched)
        mismatch(c, q, "%llu matched, the shards %llu", (unsigned long long)rw->matched, (unsigned long long)matched);
    else
        for (size_t i = 0; i < want; i++) {
            const char *ida, *idb;
            uint32_t wa, wb;
            hit_key(c->shard[m[i].shard], m[i].h, &ida, &wa);
            hit_key(c->whole, &rw->hits[i], &idb, &wb);
            double d = fabs(m[i].score - rw->hits[i].score);
            if (d > c->worst)
                c->worst = d;
            c->exact += d == 0;
            if (strcmp(ida, idb) || wa != wb || d > 1e-9) {
                mismatch(c, q, "hit %zu: shard %zu %s (+%u) %.17g, the whole %s (+%u) %.17g (k %u, %s, algo %d)", i,
                         m[i].shard, ida, wa, m[i].score, idb, wb, rw->hits[i].score, k,
                         passages ? "passages" : "articles", algorithm);
                break;
            }
        }
    free(m);
out:
    for (size_t s = 0; s < c->S; s++)
        quarry_results_free(rs[s]);
    quarry_results_free(rw);
    quarry_stats_free(tab);
}

/* ------------------------------------------------------------ explanations, refusals */

static void check_explain_and_refusals(run *c)
{
    quarry_error err;
    const char *q = NULL;
    /* a query with hits in shard 0: its most frequent term */
    tvocab v;
    tvocab_load(&v, c->shard[0]);
    q = v.v[0].s;
    quarry_stats *tab = phase1(c, q, 0);
    assert_non_null(tab);
    quarry_search_options o;
    quarry_search_options_init(&o);
    o.stats = tab;
    quarry_results *r, *rw;
    CHECK_OK(quarry_search(c->shard[0], q, &o, &r, &err));
    assert_true(r->n > 0);
    quarry_explanation *e;
    CHECK_OK(quarry_explain(c->shard[0], r, r->hits[0].passage, &e, &err));
    quarry_info in;
    quarry_info_get(c->whole, &in);
    assert_int_equal(e->units, in.live_passages);
    assert_true(e->avg_len == in.avg_len);
    assert_int_equal(e->nclauses, 1);
    CHECK_OK(quarry_search(c->whole, q, NULL, &rw, &err));
    quarry_explanation *ew;
    CHECK_OK(quarry_explain(c->whole, rw, rw->hits[0].passage, &ew, &err));
    assert_int_equal(e->clauses[0].words[0].df, ew->clauses[0].words[0].df);
    assert_true(e->score == r->hits[0].score);
    quarry_explanation_free(e);
    quarry_explanation_free(ew);
    quarry_results_free(r);
    quarry_results_free(rw);

    /* refusals: feedback; a term the table lacks; a df below the shard's;
     * a collection smaller than the shard; a bad table */
    o.plain = 1;
    o.expand = 1;
    assert_int_equal(quarry_search(c->shard[0], q, &o, &r, &err), QUARRY_EINVAL);
    o.plain = o.expand = 0;
    char two[300];
    snprintf(two, sizeof two, "%s %s", q, v.v[1].s);
    assert_int_equal(quarry_search(c->shard[0], two, &o, &r, &err), QUARRY_EINVAL);
    assert_non_null(strstr(err.msg, v.v[1].s));
    quarry_info si;
    quarry_info_get(c->shard[0], &si);
    const char *t1[] = { q };
    uint64_t low[] = { 1 };
    quarry_stats *bad;
    CHECK_OK(quarry_stats_new(in.live_passages, in.tokens, t1, low, 1, &bad, &err));
    o.stats = bad;
    assert_int_equal(quarry_search(c->shard[0], q, &o, &r, &err), QUARRY_EINVAL);
    quarry_stats_free(bad);
    uint64_t ok[] = { v.v[0].df };
    CHECK_OK(quarry_stats_new(si.live_passages - 1, si.tokens, t1, ok, 1, &bad, &err));
    o.stats = bad;
    assert_int_equal(quarry_search(c->shard[0], q, &o, &r, &err), QUARRY_EINVAL);
    quarry_stats_free(bad);
    const char *dup[] = { "a", "b", "a" };
    uint64_t dfs[] = { 1, 1, 1 };
    assert_int_equal(quarry_stats_new(10, 100, dup, dfs, 3, &bad, &err), QUARRY_EINVAL);
    uint64_t big[] = { 11, 1, 1 };
    const char *three[] = { "a", "b", "c" };
    assert_int_equal(quarry_stats_new(10, 100, three, big, 3, &bad, &err), QUARRY_EINVAL);
    const char *empty[] = { "" };
    assert_int_equal(quarry_stats_new(10, 100, empty, dfs, 1, &bad, &err), QUARRY_EINVAL);
    /* an absent term has df 0; a query of excluded words only has no terms */
    uint64_t d0 = 7, u0 = 0;
    const char *absent[] = { "zzqqxxnotthere" };
    CHECK_OK(quarry_stats_for_terms(c->whole, absent, 1, &d0, &u0, NULL, &err));
    assert_int_equal(d0, 0);
    assert_int_equal(u0, in.live_passages);
    char **tt;
    size_t tn;
    snprintf(two, sizeof two, "-%s", q);
    CHECK_OK(quarry_query_terms(c->whole, two, 0, &tt, &tn, &err));
    assert_int_equal(tn, 0);
    assert_null(tt[0]);
    quarry_query_terms_free(tt);
    assert_int_equal(quarry_query_terms(c->whole, "\"open", 0, &tt, &tn, &err), QUARRY_ESYNTAX);
    quarry_stats_free(tab);
    tvocab_free(&v);
}

/* ------------------------------------------------------------ a collection */

static void sharded(const char *name, const tcoll *c, size_t S, int passages, uint64_t salt)
{
    char *tmp = ttmp_make("dfs");
    char whole[300], dirs[MAXS][300];
    trng r;
    trng_seed(&r, salt);
    tcoll junk = { 0 };
    tcoll_generate(&junk, &r, 60, "junk");
    /* the oracle: the documents in shard order */
    snprintf(whole, sizeof whole, "%s/whole", tmp);
    quarry_writer *w = writer(whole, 0, passages, 256);
    for (size_t s = 0; s < S; s++)
        for (size_t i = 0; i < c->n; i++)
            if (shard_of(c->d[i].id, S) == s)
                add_doc(w, &c->d[i]);
    commit(w);
    run R = { name, NULL, { 0 }, S, 0, 0, 0, 0, 0, 0, 0 };
    quarry_error err;
    for (size_t s = 0; s < S; s++) {
        snprintf(dirs[s], sizeof dirs[s], "%s/shard%zu", tmp, s);
        w = writer(dirs[s], 0, passages, s % 2 ? 8 : 64);   /* --mem 8: several segments */
        for (size_t i = 0; i < c->n; i++) {
            if (shard_of(c->d[i].id, S) == s)
                add_doc(w, &c->d[i]);
            if (i % 97 == 0 && i / 97 < junk.n && (i / 97) % S == s)   /* deleted below */
                add_doc(w, &junk.d[i / 97]);
        }
        commit(w);
        w = writer(dirs[s], 1, passages, 64);
        for (size_t i = 0; i < c->n; i += 97)
            if (i / 97 < junk.n && (i / 97) % S == s)
                CHECK_OK(quarry_writer_delete(w, junk.d[i / 97].id, &err));
        commit(w);
        CHECK_OK(quarry_open(dirs[s], &R.shard[s], &err));
    }
    CHECK_OK(quarry_open(whole, &R.whole, &err));
    tvocab v;
    tvocab_load(&v, R.whole);
    static const unsigned ks[] = { 1, 10, 100, 1000 };
    static const int algos[] = { QUARRY_ALGO_AUTO, QUARRY_ALGO_EXHAUSTIVE, QUARRY_ALGO_MAXSCORE, QUARRY_ALGO_BMW };
    unsigned nq = nqueries();
    for (unsigned i = 0; i < nq; i++) {
        int plain;
        char *q = tquery_make(R.whole, &v, &r, (int)trng_below(&r, TQ_SHAPES), &plain);
        compare_query(&R, q, plain, ks[trng_below(&r, 4)], passages ? (int)trng_below(&r, 2) : 0,
                      algos[trng_below(&r, 4)], trng_below(&r, 4) == 0);
        free(q);
    }
    check_explain_and_refusals(&R);
    print_message("      [%s] %zu articles in %zu shards, %u queries (%u with hits, %u of no known term), "
                  "%u hits bit-identical, %u ties across shards, largest difference %.3g: %u mismatches\n",
                  name, c->n, S, R.searches, R.with_hits, R.notterms, R.exact, R.merged_ties, R.worst, R.mismatches);
    tvocab_free(&v);
    for (size_t s = 0; s < S; s++)
        quarry_close(R.shard[s]);
    quarry_close(R.whole);
    tcoll_free(&junk);
    ttmp_remove(tmp);
    assert_int_equal(R.mismatches, 0);
    assert_true(R.with_hits > R.searches / 3);   /* the comparison meant something */
    assert_true(R.merged_ties > 0);              /* and crossed ties between shards */
}

static void test_generated(void **state)
{
    (void)state;
    trng r;
    trng_seed(&r, 1101);
    tcoll c = { 0 };
    tcoll_generate(&c, &r, 1500, "g");
    sharded("generated, passages", &c, 4, 1, 1102);
    sharded("generated, whole articles", &c, 3, 0, 1103);
    tcoll_free(&c);
}

static void test_reuters(void **state)
{
    (void)state;
    tcoll c = { 0 };
    treuters_load(&c, 4000, 1, NULL);
    sharded("reuters, passages", &c, 4, 1, 1104);
    tcoll_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_reuters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
