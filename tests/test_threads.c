/*
 * test_threads.c — several threads searching one open index at once
 * (quarry.h "Threads"): each thread runs the same mixed list of queries
 * (OR, AND, phrases, title:, plain with RM3 expansion) with every
 * algorithm, and reads articles, passage texts and highlights, and every
 * result must equal the one a single thread got first. Meant to run under
 * ThreadSanitizer too (make tsan), where a data race fails the test.
 *
 * The index: the sample corpus plus generated articles.
 *
 * And readers during commits: threads that open the index, search it,
 * read texts and close it, in a loop, while another thread commits to it
 * in a loop (adds, deletes and the merges they set off): not one open or
 * search may fail (a reader that meets a commit follows it).
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
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quarry.h"
#include "support/qtest.h"

#define NTHREADS 4

static const char *const queries[] = {
    "sanctions", "BRI investment", "+russia +china", "\"belt and road\"", "title:xi",
    "energy -oil", "(trade OR investment) AND russia", "alpha bravo", "+charlie +delta", "\"echo foxtrot\"",
    "golf hotel india juliet kilo", "title:lima mike", "november -oscar papa", "quebec",
};

typedef struct expect {
    size_t n;
    uint64_t matched;
    quarry_hit hits[20];
    char *text0;   /* the first hit's passage text */
    size_t nspans; /* highlight spans in it */
} expect;

#define NQ (sizeof queries / sizeof *queries)
#define NCONF 5   /* AUTO, MAXSCORE, BMW, EXHAUSTIVE, plain + expansion */

static quarry_index *ix;
static expect want[NQ][NCONF];

static void options(quarry_search_options *o, int conf)
{
    quarry_search_options_init(o);
    o->k = 20;
    static const int algo[] = { QUARRY_ALGO_AUTO, QUARRY_ALGO_MAXSCORE, QUARRY_ALGO_BMW, QUARRY_ALGO_EXHAUSTIVE };
    if (conf < 4)
        o->algorithm = algo[conf];
    else {
        o->plain = 1;
        o->expand = 1;
    }
}

/* Runs query q under configuration conf; fills e. 0 ok, else an error code. */
static int run(size_t q, int conf, expect *e)
{
    quarry_search_options o;
    options(&o, conf);
    quarry_results *r;
    quarry_error err;
    memset(e, 0, sizeof *e);
    int rc = quarry_search(ix, queries[q], &o, &r, &err);
    if (rc == QUARRY_ENOTERMS)
        return 0;
    if (rc)
        return rc;
    e->n = r->n;
    e->matched = r->matched;
    memcpy(e->hits, r->hits, r->n * sizeof *r->hits);
    if (r->n) {
        size_t len;
        quarry_article a;
        if ((rc = quarry_article_get(ix, r->hits[0].article, &a, &err)) ||
            (rc = quarry_passage_text(ix, r->hits[0].passage, &e->text0, &len, &err))) {
            quarry_results_free(r);
            return rc;
        }
        quarry_span *sp;
        if ((rc = quarry_highlight(ix, r, e->text0, len, &sp, &e->nspans, &err))) {
            quarry_results_free(r);
            return rc;
        }
        free(sp);
        uint32_t found;
        if ((rc = quarry_article_find(ix, a.id, &found, &err)) || found != r->hits[0].article) {
            quarry_results_free(r);
            return rc ? rc : -1;
        }
    }
    quarry_results_free(r);
    return 0;
}

static int same(const expect *a, const expect *b)
{
    if (a->n != b->n || a->matched != b->matched || a->nspans != b->nspans)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->hits[i].passage != b->hits[i].passage || a->hits[i].score != b->hits[i].score)
            return 0;
    return (!a->text0 && !b->text0) || (a->text0 && b->text0 && strcmp(a->text0, b->text0) == 0);
}

static void *worker(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    long bad = 0;
    for (int round = 0; round < 3; round++)
        for (size_t k = 0; k < NQ * NCONF; k++) {
            size_t i = (k + t * 7) % (NQ * NCONF);   /* each thread in another order */
            expect e;
            if (run(i / NCONF, (int)(i % NCONF), &e) || !same(&e, &want[i / NCONF][i % NCONF]))
                bad++;
            free(e.text0);
        }
    return (void *)bad;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static void test_concurrent_searches(void **state)
{
    (void)state;
    char dir[] = "/tmp/quarry-test-threads-XXXXXX";
    assert_non_null(mkdtemp(dir));
    quarry_index_options io;
    quarry_index_options_init(&io);
    io.passage_tokens = 24;
    quarry_writer *w;
    quarry_error err;
    assert_int_equal(quarry_writer_open(dir, &io, &w, &err), 0);
    const char *paths[] = { "corpus" };
    assert_int_equal(quarry_writer_add_paths(w, paths, 1, &err), 0);
    static const char *const words[] = { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
                                         "hotel", "india", "juliet", "kilo", "lima", "mike", "november",
                                         "oscar", "papa", "quebec" };
    uint64_t rng = 42;
    for (int d = 0; d < 3000; d++) {
        char id[16], title[64], text[2048];
        size_t n = 0;
        snprintf(id, sizeof id, "gen%d", d);
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        snprintf(title, sizeof title, "%s %s", words[(rng >> 33) % 17], words[(rng >> 40) % 17]);
        for (int k = 0; k < 60; k++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", words[(rng >> 33) % 17], k % 20 == 19 ? ".\n\n" : " ");
        }
        assert_int_equal(quarry_writer_add(w, id, title, text, n, NULL, NULL, &err), 0);
    }
    assert_int_equal(quarry_writer_commit(w, &err), 0);
    quarry_writer_close(w);

    assert_int_equal(quarry_open(dir, &ix, &err), 0);
    for (size_t q = 0; q < NQ; q++)
        for (int c = 0; c < NCONF; c++)
            if (run(q, c, &want[q][c]))
                fail_msg("query '%s' (configuration %d) failed on one thread", queries[q], c);
    pthread_t th[NTHREADS];
    for (size_t t = 0; t < NTHREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t), 0);
    long bad = 0;
    for (size_t t = 0; t < NTHREADS; t++) {
        void *r;
        pthread_join(th[t], &r);
        bad += (long)r;
    }
    print_message("      %d threads x %zu searches each: %ld differed from the single-threaded results\n", NTHREADS,
                  3 * NQ * NCONF, bad);
    assert_int_equal(bad, 0);
    for (size_t q = 0; q < NQ; q++)
        for (int c = 0; c < NCONF; c++)
            free(want[q][c].text0);
    quarry_close(ix);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

typedef struct hammer {
    const char *dir;
    const tcoll *docs;
    const char *query;    /* words of the first document */
    volatile int done;    /* set by the writer when it has finished (read by the readers) */
    pthread_mutex_t mu;
    long commits, runs, failures;
    char first_failure[1100];
} hammer;

static void *hammer_writer(void *arg)
{
    hammer *h = arg;
    quarry_error err;
    size_t next = 300;
    for (int round = 0; round < 40 && next < h->docs->n; round++) {
        quarry_index_options o;
        quarry_index_options_init(&o);
        o.add = 1;
        o.mem_mb = 8;
        o.threads = 1;
        o.passage_tokens = 24;
        quarry_writer *w;
        int rc = quarry_writer_open(h->dir, &o, &w, &err);
        for (size_t i = next; !rc && i < next + 100 && i < h->docs->n; i++)
            rc = quarry_writer_add(w, h->docs->d[i].id, h->docs->d[i].title, h->docs->d[i].text,
                                   strlen(h->docs->d[i].text), NULL, NULL, &err);
        for (size_t i = round * 7; !rc && i < next; i += 41)   /* some earlier ones go (some already gone) */
            if ((rc = quarry_writer_delete(w, h->docs->d[i].id, &err)) == QUARRY_ENOTFOUND)
                rc = 0;
        if (!rc)
            rc = quarry_writer_commit(w, &err);
        quarry_writer_close(w);
        if (rc)
            fail_msg("the writer failed: %s", err.msg);
        next += 100;
        pthread_mutex_lock(&h->mu);
        h->commits++;
        pthread_mutex_unlock(&h->mu);
    }
    __atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *hammer_reader(void *arg)
{
    hammer *h = arg;
    long runs = 0, failures = 0;
    char first[1100] = "";
    while (!__atomic_load_n(&h->done, __ATOMIC_ACQUIRE)) {
        quarry_index *rix;
        quarry_results *r = NULL;
        quarry_error err;
        int rc = quarry_open(h->dir, &rix, &err);
        if (!rc) {
            rc = quarry_search(rix, h->query, NULL, &r, &err);
            if (rc == QUARRY_ENOTERMS)
                rc = 0;
            for (size_t i = 0; !rc && r && i < r->n; i++) {
                char *text;
                size_t len;
                if (!(rc = quarry_passage_text(rix, r->hits[i].passage, &text, &len, &err)))
                    free(text);
            }
            quarry_results_free(r);
            quarry_close(rix);
        }
        runs++;
        if (rc && failures++ == 0)
            snprintf(first, sizeof first, "%s", err.msg);
    }
    pthread_mutex_lock(&h->mu);
    h->runs += runs;
    h->failures += failures;
    if (failures && !h->first_failure[0])
        snprintf(h->first_failure, sizeof h->first_failure, "%s", first);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void test_readers_during_commits(void **state)
{
    (void)state;
    trng r;
    trng_seed(&r, 5);
    tcoll docs = { 0 };
    tcoll_generate(&docs, &r, 3000, "h");
    char *dir = ttmp_make("hammer");
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.passage_tokens = 24;
    quarry_writer *w;
    quarry_error err;
    assert_int_equal(quarry_writer_open(dir, &o, &w, &err), 0);
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(quarry_writer_add(w, docs.d[i].id, docs.d[i].title, docs.d[i].text, strlen(docs.d[i].text),
                                           NULL, NULL, &err), 0);
    assert_int_equal(quarry_writer_commit(w, &err), 0);
    quarry_writer_close(w);
    char query[200];
    snprintf(query, sizeof query, "%.190s", docs.d[0].text);
    char *cut = strchr(query, ' ');
    if (cut && (cut = strchr(cut + 1, ' ')))
        *cut = 0;   /* its first two words */
    hammer h = { dir, &docs, query, 0, PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, "" };
    pthread_t wt, rt[3];
    for (int t = 0; t < 3; t++)
        assert_int_equal(pthread_create(&rt[t], NULL, hammer_reader, &h), 0);
    assert_int_equal(pthread_create(&wt, NULL, hammer_writer, &h), 0);
    pthread_join(wt, NULL);
    for (int t = 0; t < 3; t++)
        pthread_join(rt[t], NULL);
    print_message("      %ld opens and searches by 3 threads during %ld commits: %ld failed%s%s\n", h.runs, h.commits,
                  h.failures, h.failures ? ", the first: " : "", h.first_failure);
    assert_int_equal(h.failures, 0);
    assert_true(h.commits >= 20);
    assert_true(h.runs > 3 * h.commits);
    assert_int_equal(quarry_verify(dir, &err), 0);
    pthread_mutex_destroy(&h.mu);
    tcoll_free(&docs);
    ttmp_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_searches),
        cmocka_unit_test(test_readers_during_commits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
