/*
 * test_expand.c — RM3 query expansion (src/query/expand.c) on a collection
 * small enough to work out by hand: the feedback run, the relevance model,
 * the expansion terms, their weights and the expanded query's scores are
 * computed below, in this comment, and asserted to 1e-9 through the public
 * API (quarry_search with expand = 1, quarry_explain for the weights). The
 * case is chosen so that swapping the weights of the query and of the
 * feedback, or taking one feedback unit or one expansion term more or less,
 * changes every asserted score by more than 0.009 (the last lines of the
 * working).
 *
 * The collection: stemmer none, stop words none, whole articles (one unit
 * each), no titles; k1 1.2, b 0.75.
 *
 *   D0 "apple banana apple cherry"   len 4
 *   D1 "apple banana date"           len 3
 *   D2 "apple elder fig grape"       len 4
 *   D3 "banana cherry cherry"        len 3
 *   D4 "kiwi lemon"                  len 2
 *   D5 "date date elder"             len 3
 *
 *   N = 6, tokens 19, avglen = 19/6
 *   idf(df 3) = ln(1 + 3.5/3.5) = ln 2      = 0.693147180560   apple, banana
 *   idf(df 2) = ln(1 + 4.5/2.5) = ln 2.8    = 1.029619417181   cherry, date, elder
 *   idf(df 1) = ln(1 + 5.5/1.5) = ln(14/3)  = 1.540445040947   fig, grape, kiwi, lemon
 *   norm(len) = k1 (1 - b + b len/avglen) = 0.3 + 5.4 len/19:
 *     norm(4) = 1.436842105263, norm(3) = 1.152631578947
 *
 * Query "apple fig", fb_docs 2, fb_terms 2, fb_weight 0.8.
 *
 * 1. The feedback run (the plain query, every term weight 1) matches D0,
 *    D1, D2:
 *      s(D2) = (ln 2 + ln 14/3) * 2.2 / (1 + norm 4)     = 2.016504424600
 *      s(D0) = ln 2 * 2 * 2.2 / (2 + norm 4)             = 0.887398228098
 *      s(D1) = ln 2 * 2.2 / (1 + norm 3)                 = 0.708399808005
 *    The fb_docs = 2 best: D2, D0 (D1 would be the third).
 *
 * 2. Relevance model, P(t|R) ∝ Σ_D s(D) tf(t,D) / |D| over D2 and D0:
 *      apple   s2/4 + s0 * 2/4  = 0.947825220199
 *      elder, fig, grape  s2/4  = 0.504126106150   (a tie: broken by the term bytes)
 *      banana, cherry     s0/4  = 0.221849557025
 *    The fb_terms = 2 likeliest: apple, elder (fig and grape lose the tie).
 *    Renormalized over them (rtot = 1.451951326349):
 *      P(apple|R) = 0.652794073051, P(elder|R) = 0.347205926949
 *
 * 3. The expanded query, fb_weight P(t|Q) + (1 - fb_weight) P(t|R), with
 *    P(apple|Q) = P(fig|Q) = 1/2:
 *      apple  0.8 * 0.5 + 0.2 * 0.652794073051 = 0.4 + 0.130558814610 = 0.530558814610
 *      fig    0.8 * 0.5                        = 0.4   (query only)
 *      elder              0.2 * 0.347205926949 = 0.069441185390   (feedback only: an expansion)
 *
 * 4. BM25 with each term's score times its weight; matches D2, D0, D1 and
 *    D5 (by elder only):
 *      D2 = (0.530558814610 ln 2 + 0.069441185390 ln 2.8 + 0.4 ln 14/3) * 2.2 / (1 + norm 4)
 *         = 0.332012386228 + 0.064548943850 + 0.556290304204          = 0.952851634283
 *      D0 = 0.530558814610 * ln 2 * 2 * 2.2 / (2 + norm 4)            = 0.470816951987
 *      D1 = 0.530558814610 * ln 2 * 2.2 / (1 + norm 3)                = 0.375847762405
 *      D5 = 0.069441185390 * ln 2.8 * 2.2 / (1 + norm 3)              = 0.073071298295
 *
 *    With the weights swapped (0.2 for the query, 0.8 for the feedback):
 *    D2 0.786650, D0 0.552170, D1 0.440791, D5 0.292285. fb_docs 1: D2
 *    0.962134, D0 0.443699, D1 0.354200, D5 0.105228; fb_docs 3: D2
 *    0.949901, D0 0.479437, D1 0.382729, D5 0.062850. fb_terms 1 (no elder):
 *    D5 does not match; fb_terms 3 (fig gets feedback weight too): D2
 *    0.986844, D0 0.440958, D1 0.352012, D5 0.054239.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "quarry.h"
#include "support/qtest.h"

#define EPS 1e-9

static const char *const docs[][2] = {
    { "D0", "apple banana apple cherry" }, { "D1", "apple banana date" }, { "D2", "apple elder fig grape" },
    { "D3", "banana cherry cherry" },      { "D4", "kiwi lemon" },        { "D5", "date date elder" },
};
#define NDOCS (sizeof docs / sizeof docs[0])

static char *build(void)
{
    char *dir = ttmp_make("expand");
    quarry_writer *w = twriter_verbatim(dir);
    quarry_error err;
    for (size_t i = 0; i < NDOCS; i++)
        if (quarry_writer_add(w, docs[i][0], NULL, docs[i][1], strlen(docs[i][1]), NULL, NULL, &err))
            fail_msg("quarry_writer_add: %s", err.msg);
    if (quarry_writer_commit(w, &err))
        fail_msg("quarry_writer_commit: %s", err.msg);
    quarry_writer_close(w);
    return dir;
}

typedef struct want {
    const char *id;
    double score;
} want;

/* The hits of r are exactly `n` articles with these ids and scores, in order. */
static void check_hits(quarry_index *ix, const quarry_results *r, const want *w, size_t n, const char *what)
{
    if (r->n != n)
        fail_msg("%s: %zu hits, expected %zu", what, r->n, n);
    for (size_t i = 0; i < n; i++) {
        quarry_article a;
        quarry_error err;
        if (quarry_article_get(ix, r->hits[i].article, &a, &err))
            fail_msg("quarry_article_get: %s", err.msg);
        if (strcmp(a.id, w[i].id) != 0 || fabs(r->hits[i].score - w[i].score) > EPS)
            fail_msg("%s: hit %zu is %s with score %.12f, expected %s with %.12f", what, i, a.id, r->hits[i].score,
                     w[i].id, w[i].score);
    }
}

static quarry_results *search(quarry_index *ix, const quarry_search_options *o)
{
    quarry_results *r;
    quarry_error err;
    if (quarry_search(ix, "apple fig", o, &r, &err))
        fail_msg("quarry_search: %s", err.msg);
    return r;
}

static void options(quarry_search_options *o, int expand)
{
    quarry_search_options_init(o);
    o->plain = 1;
    o->expand = expand;
    o->fb_docs = 2;
    o->fb_terms = 2;
    o->fb_weight = 0.8;
    o->k1 = 1.2;
    o->b = 0.75;
}

/* Steps 1-4 of the working above. */
static void test_rm3_by_hand(void **state)
{
    (void)state;
    char *dir = build();
    quarry_index *ix;
    quarry_error err;
    if (quarry_open(dir, &ix, &err))
        fail_msg("quarry_open: %s", err.msg);
    unsigned checked = 0;

    /* 1. the feedback run: the query not expanded */
    quarry_search_options o;
    options(&o, 0);
    quarry_results *r = search(ix, &o);
    const want fb[] = { { "D2", 2.016504424600357 }, { "D0", 0.887398228098184 }, { "D1", 0.708399808005030 } };
    check_hits(ix, r, fb, 3, "the query not expanded");
    checked += 3;
    quarry_results_free(r);

    /* 3, 4. the expanded query: its hits and scores */
    options(&o, 1);
    r = search(ix, &o);
    const want ex[] = {
        { "D2", 0.952851634282518 },
        { "D0", 0.470816951986945 },
        { "D1", 0.375847762405226 },
        { "D5", 0.073071298295122 },
    };
    check_hits(ix, r, ex, 4, "the expanded query");
    checked += 4;

    /* 2, 3. the weights, as quarry_explain shows them on D2 (every term of
     * the expanded query matches it) */
    static const struct {
        const char *term;
        int expansion;
        double query_weight, feedback_weight, score;
    } terms[] = {
        { "apple", 0, 0.4, 0.130558814610178, 0.332012386228375 },
        { "elder", 1, 0.0, 0.069441185389822, 0.064548943850334 },
        { "fig", 0, 0.4, 0.0, 0.556290304203809 },
    };
    quarry_explanation *e;
    if (quarry_explain(ix, r, r->hits[0].passage, &e, &err))
        fail_msg("quarry_explain: %s", err.msg);
    assert_true(e->expanded);
    assert_true(fabs(e->score - ex[0].score) < EPS);
    if (e->nclauses != 3)
        fail_msg("the expanded query has %zu terms, expected apple, elder, fig", e->nclauses);
    for (size_t t = 0; t < 3; t++) {
        const quarry_explain_clause *c = NULL;
        for (size_t i = 0; i < e->nclauses; i++)
            if (strcmp(e->clauses[i].text, terms[t].term) == 0)
                c = &e->clauses[i];
        if (!c)
            fail_msg("the expanded query has no term %s", terms[t].term);
        if (c->expansion != terms[t].expansion || fabs(c->query_weight - terms[t].query_weight) > EPS ||
            fabs(c->feedback_weight - terms[t].feedback_weight) > EPS ||
            fabs(c->boost - terms[t].query_weight - terms[t].feedback_weight) > EPS ||
            fabs(c->score - terms[t].score) > EPS)
            fail_msg("%s: expansion %d, weights %.12f from the query + %.12f from feedback = %.12f, score %.12f; "
                     "expected %d, %.12f + %.12f, %.12f",
                     terms[t].term, c->expansion, c->query_weight, c->feedback_weight, c->boost, c->score,
                     terms[t].expansion, terms[t].query_weight, terms[t].feedback_weight, terms[t].score);
        checked += 5;
    }
    quarry_explanation_free(e);
    quarry_results_free(r);

    print_message("      RM3 by hand: %u values checked (feedback run, expanded query's hits and scores, "
                  "each term's weights)\n", checked);
    quarry_close(ix);
    ttmp_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rm3_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
