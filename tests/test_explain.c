/*
 * test_explain.c — quarry_explain against the scores of the search and
 * against first principles:
 *
 *   - every hit of thousands of searches (every query shape of
 *     tests/support/qtest.h: OR, AND, phrases, title:, mixed trees with
 *     NOT, plain bags of words with and without RM3 expansion; article and
 *     passage hits; every algorithm; several k1, b): the explanation
 *     matches, its total is the hit's score to the bit, and the clauses'
 *     scores added up flat agree with it to 1e-9; each clause's numbers
 *     are recomputed here from the textbook formula (idf from df and N,
 *     the weight from idf, k1 and the boost, the norm from k1, b, the
 *     length and the average, the score from them and tf) to 1e-12; N and
 *     the average length are those of quarry_info, k1 and b the options';
 *     in expanded queries the weight from the query is recomputed from the
 *     analyzed query and added to the weight from feedback gives the
 *     boost, and a clause is an expansion exactly when its term is not in
 *     the query;
 *   - for some hits of each query, tf and the length counted here from the
 *     analyzed title and passage text (a phrase: its words at their
 *     offsets, in the title or in the body), and each word's df from
 *     quarry_dump_term;
 *   - random passages: an explanation matches exactly when the passage is
 *     in the exhaustive full list of matches, with its score;
 *   - an index of several segments with updates and deletions, and shards
 *     opened together (quarry_open_many), against a fresh index of their
 *     live documents: the explanation of the same passage is the same,
 *     number for number (N, the average length and df over live units).
 *
 * Collections: generated (ties, copies, stop words indexed) and
 * Reuters-21578 (QUARRY_CORPUS), with passages and whole articles.
 * QUARRY_TEST_SEED changes the seed; QUARRY_EXPLAIN_QUERIES the number of
 * queries per index (default 200).
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

#include <math.h>

#include "quarry.h"
#include "support/qtest.h"

static unsigned queries_per_index(void)
{
    const char *s = getenv("QUARRY_EXPLAIN_QUERIES");
    long v = s && *s ? strtol(s, NULL, 10) : 200;
    return v > 0 ? (unsigned)v : 200;
}

typedef struct checker {
    const char *name;
    quarry_index *ix;
    quarry_info in;
    unsigned searches, hits, clauses, phrases, titles, expansions, repeats, counted, matched_random,
        unmatched_random, mismatches;
} checker;

static void mismatch(checker *c, const char *q, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->mismatches < 20)
        print_error("[%s] MISMATCH '%s': %s\n", c->name, q, msg);
    c->mismatches++;
}

static int near(double a, double b, double rel)
{
    return fabs(a - b) <= rel * (fabs(a) > fabs(b) ? fabs(a) : fabs(b)) + 1e-300;
}

/* ------------------------------------------------------------ text counted here */

typedef struct tok {
    char *term;
    uint32_t pos;
} tok;

typedef struct toks {
    tok *v;
    size_t n, cap;
} toks;

static int on_tok(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    (void)start;
    (void)end;
    toks *t = ctx;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->v = txrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n].term = strndup(term, len);
    t->v[t->n].pos = pos;
    t->n++;
    return 0;
}

static void toks_free(toks *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].term);
    free(t->v);
}

/* Occurrences of the clause's words at their offsets among tokens t. */
static uint32_t occurrences(const toks *t, const quarry_explain_clause *c)
{
    uint32_t f = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->v[i].term, c->words[0].term))
            continue;
        int ok = 1;
        for (size_t w = 1; w < c->nwords && ok; w++) {
            ok = 0;
            for (size_t j = i + 1; j < t->n && t->v[j].pos <= t->v[i].pos + c->words[w].offset; j++)
                if (t->v[j].pos == t->v[i].pos + c->words[w].offset && !strcmp(t->v[j].term, c->words[w].term))
                    ok = 1;
        }
        f += ok;
    }
    return f;
}

/* tf of each clause and the length, from the analyzed title and text. */
static void check_text(checker *c, const char *q, const quarry_explanation *e)
{
    quarry_article a;
    quarry_error err;
    assert_int_equal(quarry_article_get(c->ix, e->article, &a, &err), 0);
    char *text;
    size_t len;
    assert_int_equal(quarry_passage_text(c->ix, e->passage, &text, &len, &err), 0);
    toks title = { 0 }, body = { 0 };
    assert_int_equal(quarry_analyze(c->ix, a.title, strlen(a.title), on_tok, &title, &err), 0);
    assert_int_equal(quarry_analyze(c->ix, text, len, on_tok, &body, &err), 0);
    free(text);
    if (e->len != title.n + body.n)
        mismatch(c, q, "passage %u: length %u, counted %zu + %zu", e->passage, e->len, title.n, body.n);
    for (size_t i = 0; i < e->nclauses; i++) {
        const quarry_explain_clause *k = &e->clauses[i];
        uint32_t f = occurrences(&title, k) + (k->title ? 0 : occurrences(&body, k));
        if (f != k->tf)
            mismatch(c, q, "passage %u, clause %s: tf %u, counted %u", e->passage, k->text, k->tf, f);
        for (size_t w = 0; w < k->nwords; w++) {
            uint64_t df, cf;
            if (quarry_dump_term(c->ix, k->words[w].term, &df, &cf, NULL, NULL, &err))
                mismatch(c, q, "quarry_dump_term %s: %s", k->words[w].term, err.msg);
            else if (df != k->words[w].df && c->in.live_passages == c->in.passages)
                mismatch(c, q, "clause %s, word %s: df %llu, the dictionary's %llu", k->text, k->words[w].term,
                         (unsigned long long)k->words[w].df, (unsigned long long)df);
        }
        c->counted++;
    }
    toks_free(&title);
    toks_free(&body);
}

/* ------------------------------------------------------------ one explanation */

typedef struct qterms {
    toks t;     /* the analyzed plain query */
} qterms;

/* The numbers of e recomputed from its own fields; the total against score. */
static void check_numbers(checker *c, const char *q, const quarry_explanation *e, double score,
                          const quarry_search_options *o, const toks *query, int plain)
{
    if (!e->match) {
        mismatch(c, q, "passage %u: no match, yet a hit of score %.17g", e->passage, score);
        return;
    }
    if (e->score != score)
        mismatch(c, q, "passage %u: explained %.17g, the hit's score %.17g", e->passage, e->score, score);
    if (e->k1 != o->k1 || e->b != o->b || e->units != c->in.live_passages || !near(e->avg_len, c->in.avg_len, 1e-12))
        mismatch(c, q, "statistics: k1 %g b %g N %llu avg %.17g, expected %g %g %llu %.17g", e->k1, e->b,
                 (unsigned long long)e->units, e->avg_len, o->k1, o->b, (unsigned long long)c->in.live_passages,
                 c->in.avg_len);
    if (e->nclauses == 0)
        mismatch(c, q, "passage %u: a match without clauses", e->passage);
    double sum = 0, N = (double)e->units;
    for (size_t i = 0; i < e->nclauses; i++) {
        const quarry_explain_clause *k = &e->clauses[i];
        double idf = 0;
        for (size_t w = 0; w < k->nwords; w++) {
            double df = (double)k->words[w].df, want = log(1.0 + (N - df + 0.5) / (df + 0.5));
            if (!near(k->words[w].idf, want, 1e-12) || k->words[w].df == 0)
                mismatch(c, q, "clause %s, word %s: idf %.17g of df %llu, expected %.17g", k->text, k->words[w].term,
                         k->words[w].idf, (unsigned long long)k->words[w].df, want);
            idf += want;
        }
        double norm = e->k1 * (1.0 - e->b + e->b * (double)e->len / e->avg_len);
        double weight = idf * (e->k1 + 1.0) * k->boost;
        double s = weight * (double)k->tf / ((double)k->tf + norm);
        if (!near(k->idf, idf, 1e-12) || !near(k->weight, weight, 1e-12) || !near(k->norm, norm, 1e-12) ||
            !near(k->score, s, 1e-12) || k->tf == 0)
            mismatch(c, q, "clause %s: tf %u idf %.17g weight %.17g norm %.17g score %.17g, expected idf %.17g "
                     "weight %.17g norm %.17g score %.17g", k->text, k->tf, k->idf, k->weight, k->norm, k->score,
                     idf, weight, norm, s);
        if ((k->nwords > 1) != (strchr(k->text, '"') != NULL) || k->title != !strncmp(k->text, "title:", 6))
            mismatch(c, q, "clause %s: %zu words, title %d", k->text, k->nwords, k->title);
        c->phrases += k->nwords > 1;
        c->titles += k->title;
        /* how many times the analyzed query holds the clause's word (an
         * expanded query's clauses are all single words) */
        size_t same = 0;
        for (size_t j = 0; j < query->n && k->nwords == 1; j++)
            same += strcmp(query->v[j].term, k->words[0].term) == 0;
        if (e->expanded) {
            /* the query's weight, from that count */
            double wq = same ? o->fb_weight * (double)same / (double)query->n : 0;
            if (!near(k->query_weight, wq, 1e-12) || k->boost != k->query_weight + k->feedback_weight ||
                k->expansion != (same == 0) || k->feedback_weight < 0 || k->feedback_weight > 1 - o->fb_weight ||
                (k->expansion && k->feedback_weight <= 0))
                mismatch(c, q, "clause %s: boost %.17g = %.17g query + %.17g feedback, expansion %d; expected "
                         "query %.17g (%zu of %zu terms)", k->text, k->boost, k->query_weight, k->feedback_weight,
                         k->expansion, wq, same, query->n);
            c->expansions += k->expansion;
        } else {
            /* a term repeated among the clauses of a group is one clause
             * boosted by the repeats: at most as many as the query holds
             * the term, exactly that many in a plain bag of words */
            if (k->boost < 1 || k->boost != floor(k->boost) || (k->boost > 1 && k->boost > (double)same) ||
                (plain && k->nwords == 1 && !k->title && k->boost != (double)same) || k->expansion ||
                k->query_weight || k->feedback_weight)
                mismatch(c, q, "clause %s: boost %.17g in a query not expanded (the term %zu times in it)", k->text,
                         k->boost, same);
            c->repeats += k->boost > 1;
        }
        sum += k->score;
        c->clauses++;
    }
    if (!near(sum, score, 1e-9))
        mismatch(c, q, "passage %u: the clauses add up to %.17g, the score is %.17g", e->passage, sum, score);
}

static const char *algo_name(int a)
{
    static const char *const names[] = { "AUTO", "EXHAUSTIVE", "MAXSCORE", "BMW" };
    return names[a];
}

static void check_query(checker *c, trng *r, const char *q, int plain, int passage_index, int random_passages)
{
    static const unsigned ks[] = { 1, 10, 100 };
    static const double params[][2] = { { 1.2, 0.75 }, { 0.9, 0.4 }, { 2.0, 1.0 }, { 0.5, 0.0 } };
    quarry_search_options o;
    quarry_search_options_init(&o);
    o.plain = plain;
    o.expand = plain && trng_below(r, 2);
    o.passages = passage_index ? (int)trng_below(r, 2) : 0;
    o.k = ks[trng_below(r, 3)];
    o.algorithm = (int)trng_below(r, 4);
    const double *p = params[trng_below(r, 4) == 0 ? 1 + trng_below(r, 3) : 0];
    o.k1 = p[0];
    o.b = p[1];
    quarry_results *res = NULL;
    quarry_error err;
    int rc = quarry_search(c->ix, q, &o, &res, &err);
    c->searches++;
    if (rc) {
        if (rc != QUARRY_ENOTERMS)
            mismatch(c, q, "quarry_search: %s", err.msg);
        return;
    }
    toks query = { 0 };
    assert_int_equal(quarry_analyze(c->ix, q, strlen(q), on_tok, &query, &err), 0);
    char cfg[200];
    snprintf(cfg, sizeof cfg, "%s (%s%s, %s hits, k1 %g b %g)", q, algo_name(o.algorithm), o.expand ? ", expanded" : "",
             o.passages ? "passage" : "article", o.k1, o.b);
    for (size_t i = 0; i < res->n; i++) {
        quarry_explanation *e;
        if ((rc = quarry_explain(c->ix, res, res->hits[i].passage, &e, &err))) {
            mismatch(c, cfg, "quarry_explain: %s", err.msg);
            continue;
        }
        c->hits++;
        if (e->passage != res->hits[i].passage || e->article != res->hits[i].article || e->expanded != o.expand)
            mismatch(c, cfg, "explained passage %u article %u (expanded %d), the hit's %u %u", e->passage, e->article,
                     e->expanded, res->hits[i].passage, res->hits[i].article);
        check_numbers(c, cfg, e, res->hits[i].score, &o, &query, plain);
        if (i < 3)
            check_text(c, cfg, e);
        quarry_explanation_free(e);
    }
    if (random_passages && !o.expand) {
        /* random passages: a match exactly when in the full list, with its score */
        quarry_search_options f = o;
        f.passages = 1;
        f.k = (unsigned)c->in.live_passages;
        f.count = 1;
        f.algorithm = QUARRY_ALGO_EXHAUSTIVE;
        quarry_results *full;
        assert_int_equal(quarry_search(c->ix, q, &f, &full, &err), 0);
        for (int j = 0; j < 20; j++) {
            uint32_t u = j < 5 && full->n ? full->hits[trng_below(r, (uint32_t)full->n)].passage
                                         : trng_below(r, (uint32_t)c->in.passages);
            quarry_explanation *e;
            rc = quarry_explain(c->ix, res, u, &e, &err);
            if (rc == QUARRY_ENOTFOUND)
                continue;   /* deleted */
            assert_int_equal(rc, 0);
            size_t k = 0;
            while (k < full->n && full->hits[k].passage != u)
                k++;
            if (e->match != (k < full->n))
                mismatch(c, cfg, "random passage %u: match %d, in the full list %d", u, e->match, k < full->n);
            else if (e->match)
                check_numbers(c, cfg, e, full->hits[k].score, &o, &query, plain);
            else if (e->nclauses || e->score != 0)
                mismatch(c, cfg, "passage %u: no match, yet %zu clauses", u, e->nclauses);
            *(e->match ? &c->matched_random : &c->unmatched_random) += 1;
            quarry_explanation_free(e);
        }
        quarry_results_free(full);
    }
    toks_free(&query);
    quarry_results_free(res);
}

static void check_index(const char *name, const char *dir, int passage_index, unsigned nq, uint64_t salt)
{
    trng r;
    trng_seed(&r, salt);
    checker c;
    memset(&c, 0, sizeof c);
    c.name = name;
    quarry_error err;
    if (quarry_open(dir, &c.ix, &err))
        fail_msg("quarry_open %s: %s", dir, err.msg);
    quarry_info_get(c.ix, &c.in);
    tvocab v;
    tvocab_load(&v, c.ix);
    for (unsigned i = 0; i < nq; i++) {
        int plain;
        char *q = tquery_make(c.ix, &v, &r, (int)trng_below(&r, TQ_SHAPES), &plain);
        check_query(&c, &r, q, plain, passage_index, i % 4 == 0);
        free(q);
        /* optional groups that can fail with some of their clauses matched:
         * those clauses must not count */
        const char *a = tvocab_band(&v, &r, (int)trng_below(&r, 2)), *b = tvocab_band(&v, &r, (int)trng_below(&r, 2)),
                   *d = tvocab_band(&v, &r, (int)trng_below(&r, 3));
        tsb n = { 0 };
        switch (trng_below(&r, 4)) {
        case 0: tsb_printf(&n, "(%s +%s) %s", a, b, d); break;
        case 1: tsb_printf(&n, "(%s -%s) %s", a, b, d); break;
        case 2: tsb_printf(&n, "%s (%s AND %s)", d, a, b); break;
        default: tsb_printf(&n, "(%s AND NOT %s) OR (%s AND %s)", a, b, d, b); break;
        }
        check_query(&c, &r, n.p, 0, passage_index, i % 4 == 1);
        free(n.p);
    }
    print_message("      [%s] %u searches: %u hits explained (%u clauses: %u phrases, %u title:, %u expansion terms, "
                  "%u repeated terms; %u counted from the text), random passages %u matching %u not; %u mismatches\n",
                  name, c.searches, c.hits, c.clauses, c.phrases, c.titles, c.expansions, c.repeats, c.counted,
                  c.matched_random, c.unmatched_random, c.mismatches);
    tvocab_free(&v);
    quarry_close(c.ix);
    assert_int_equal(c.mismatches, 0);
    assert_true(c.hits >= 1000 && c.phrases > 0 && c.titles > 0 && c.expansions > 0 && c.repeats > 0 &&
                c.unmatched_random > 0);
}

/* ------------------------------------------------------------ against a fresh index */

/* The same passage (by article id and place) explained in `a` and in the
 * oracle `b`: the same numbers, bit for bit. */
static unsigned compare_index(const char *name, quarry_index *a, quarry_index *b, unsigned nq, uint64_t salt, int expand)
{
    trng r;
    trng_seed(&r, salt);
    tvocab v;
    tvocab_load(&v, b);
    unsigned compared = 0, mismatches = 0;
    for (unsigned i = 0; i < nq; i++) {
        int plain;
        char *q = tquery_make(b, &v, &r, (int)trng_below(&r, TQ_SHAPES), &plain);
        quarry_search_options o;
        quarry_search_options_init(&o);
        o.plain = plain;
        o.expand = plain && expand;
        o.k = 20;
        o.passages = (int)trng_below(&r, 2);
        quarry_results *ra, *rb;
        quarry_error err;
        int rca = quarry_search(a, q, &o, &ra, &err), rcb = quarry_search(b, q, &o, &rb, &err);
        assert_int_equal(rca, rcb);
        for (size_t h = 0; rca == 0 && h < ra->n; h++) {
            quarry_article aa, ab;
            uint32_t art;
            assert_int_equal(quarry_article_get(a, ra->hits[h].article, &aa, &err), 0);
            assert_int_equal(quarry_article_find(b, aa.id, &art, &err), 0);
            assert_int_equal(quarry_article_get(b, art, &ab, &err), 0);
            uint32_t pb = ab.first_passage + (ra->hits[h].passage - aa.first_passage);
            quarry_explanation *ea, *eb;
            assert_int_equal(quarry_explain(a, ra, ra->hits[h].passage, &ea, &err), 0);
            assert_int_equal(quarry_explain(b, rb, pb, &eb, &err), 0);
            int same = ea->match && eb->match && ea->score == eb->score && ea->score == ra->hits[h].score &&
                       ea->units == eb->units && ea->avg_len == eb->avg_len && ea->len == eb->len &&
                       ea->nclauses == eb->nclauses;
            for (size_t k = 0; same && k < ea->nclauses; k++) {
                const quarry_explain_clause *x = &ea->clauses[k], *y = &eb->clauses[k];
                same = !strcmp(x->text, y->text) && x->tf == y->tf && x->idf == y->idf && x->weight == y->weight &&
                       x->norm == y->norm && x->score == y->score && x->boost == y->boost && x->nwords == y->nwords;
                for (size_t w = 0; same && w < x->nwords; w++)
                    same = x->words[w].df == y->words[w].df && x->words[w].idf == y->words[w].idf;
            }
            if (!same && mismatches++ < 10)
                print_error("[%s] MISMATCH '%s': hit %zu (%s): explained %.17g (N %llu, avg %.17g, len %u, %zu clauses), "
                            "the oracle %.17g (N %llu, avg %.17g, len %u, %zu clauses)\n", name, q, h, aa.id, ea->score,
                            (unsigned long long)ea->units, ea->avg_len, ea->len, ea->nclauses, eb->score,
                            (unsigned long long)eb->units, eb->avg_len, eb->len, eb->nclauses);
            compared++;
            quarry_explanation_free(ea);
            quarry_explanation_free(eb);
        }
        if (rca == 0) {
            quarry_results_free(ra);
            quarry_results_free(rb);
        }
        free(q);
    }
    tvocab_free(&v);
    print_message("      [%s] %u queries: %u hits explained alike; %u mismatches\n", name, nq, compared, mismatches);
    assert_int_equal(mismatches, 0);
    return compared;
}

static quarry_writer *writer(const char *dir, int add, unsigned mem)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.add = add;
    o.passage_tokens = 32;
    o.stopwords = "none";
    o.mem_mb = mem;
    o.threads = 1;
    o.merge = 0;
    return twriter_open(dir, &o);
}

static void add(quarry_writer *w, const tdoc *d)
{
    quarry_error err;
    if (quarry_writer_add(w, d->id, d->title, d->text, strlen(d->text), d->date, NULL, &err))
        fail_msg("quarry_writer_add: %s", err.msg);
}

static void commit(quarry_writer *w)
{
    quarry_error err;
    if (quarry_writer_commit(w, &err))
        fail_msg("commit: %s", err.msg);
    quarry_writer_close(w);
}

/* c in four runs with updates and deletions, several segments each; a
 * fresh index of the live documents; and those in three shards. */
static void segments(const char *name, const tcoll *c, uint64_t salt)
{
    trng r;
    trng_seed(&r, salt);
    char *tmp = ttmp_make("explain-seg");
    char dir[300], fresh[300], shard[3][300];
    snprintf(dir, sizeof dir, "%s/batched", tmp);
    snprintf(fresh, sizeof fresh, "%s/fresh", tmp);
    tcoll versions = { 0 };
    size_t *live = txmalloc((c->n * 2 + 16) * sizeof *live);   /* versions in collection order, SIZE_MAX: gone */
    size_t n = 0, per = c->n / 4;
    for (int run = 0; run < 4; run++) {
        quarry_writer *w = writer(dir, run > 0, 8);
        size_t before = n, from = run * per, to = run == 3 ? c->n : from + per;
        for (size_t i = from; i < to; i++) {
            tcoll_add(&versions, c->d[i].id, c->d[i].title, c->d[i].text);
            add(w, &versions.d[versions.n - 1]);
            live[n++] = versions.n - 1;
        }
        unsigned char *busy = calloc(before + 1, 1);
        for (size_t k = 0; before && k < before / 8; k++) {
            size_t i = trng_below(&r, (uint32_t)before);
            if (busy[i] || live[i] == SIZE_MAX)
                continue;
            busy[i] = 1;
            quarry_error err;
            if (k % 2) {   /* an update: the id again with another's text */
                const tdoc *t = &c->d[trng_below(&r, (uint32_t)c->n)];
                tcoll_add(&versions, versions.d[live[i]].id, t->title, t->text);
                add(w, &versions.d[versions.n - 1]);
                live[n++] = versions.n - 1;
            } else if (quarry_writer_delete(w, versions.d[live[i]].id, &err))
                fail_msg("delete: %s", err.msg);
            live[i] = SIZE_MAX;
        }
        free(busy);
        commit(w);
    }
    /* the fresh index, and the shards, of the live versions */
    quarry_writer *wf = writer(fresh, 0, 256);
    quarry_writer *ws[3];
    size_t nl = 0;
    for (size_t i = 0; i < n; i++)
        nl += live[i] != SIZE_MAX;
    for (int s = 0; s < 3; s++) {
        snprintf(shard[s], sizeof shard[s], "%s/shard%d", tmp, s);
        ws[s] = writer(shard[s], 0, s == 1 ? 8 : 64);
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        if (live[i] == SIZE_MAX)
            continue;
        add(wf, &versions.d[live[i]]);
        add(ws[k * 3 / nl], &versions.d[live[i]]);
        k++;
    }
    commit(wf);
    for (int s = 0; s < 3; s++)
        commit(ws[s]);
    quarry_index *ib, *ifr, *ish;
    quarry_error err;
    const char *sd[3] = { shard[0], shard[1], shard[2] };
    assert_int_equal(quarry_open(dir, &ib, &err), 0);
    assert_int_equal(quarry_open(fresh, &ifr, &err), 0);
    assert_int_equal(quarry_open_many(sd, 3, &ish, &err), 0);
    quarry_info in;
    quarry_info_get(ib, &in);
    assert_true(in.segments >= 4 && in.live_passages < in.passages);   /* several segments, deletions */
    char label[200];
    unsigned nq = queries_per_index() / 2;
    snprintf(label, sizeof label, "%s: %zu segments with deletions, against a fresh index", name, in.segments);
    assert_true(compare_index(label, ib, ifr, nq, salt + 1, 0) >= 500);
    snprintf(label, sizeof label, "%s: 3 shards opened together, against one index", name);
    assert_true(compare_index(label, ish, ifr, nq, salt + 2, 1) >= 500);
    quarry_close(ib);
    quarry_close(ifr);
    quarry_close(ish);
    free(live);
    tcoll_free(&versions);
    ttmp_remove(tmp);
}

/* ------------------------------------------------------------ tests */

static void build(const char *dir, const char *jsonl, int passages)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.passages = passages;
    o.passage_tokens = 32;
    o.stopwords = "none";
    quarry_writer *w = twriter_open(dir, &o);
    quarry_error err;
    const char *paths[] = { jsonl };
    if (quarry_writer_add_paths(w, paths, 1, &err) || quarry_writer_commit(w, &err))
        fail_msg("indexing %s: %s", jsonl, err.msg);
    quarry_writer_close(w);
}

static void test_generated(void **state)
{
    (void)state;
    trng r;
    trng_seed(&r, 1);
    char *tmp = ttmp_make("explain-gen");
    char path[256], dp[256], dw[256];
    snprintf(path, sizeof path, "%s/gen.jsonl", tmp);
    snprintf(dp, sizeof dp, "%s/passages", tmp);
    snprintf(dw, sizeof dw, "%s/whole", tmp);
    tcoll c = { 0 };
    tcoll_generate(&c, &r, 2000, "g");
    tcoll_write(&c, 0, c.n, path);
    build(dp, path, 1);
    build(dw, path, 0);
    unsigned nq = queries_per_index();
    check_index("generated, passages", dp, 1, nq, 51);
    check_index("generated, whole articles", dw, 0, nq, 52);
    segments("generated", &c, 53);
    tcoll_free(&c);
    ttmp_remove(tmp);
}

static void test_reuters(void **state)
{
    (void)state;
    char *tmp = ttmp_make("explain-reuters");
    char path[256], dp[256], dw[256];
    snprintf(path, sizeof path, "%s/r.jsonl", tmp);
    tcoll c = { 0 };
    treuters_load(&c, 3000, 1, tmp);
    tcoll_write(&c, 0, c.n, path);
    snprintf(dp, sizeof dp, "%s/passages", tmp);
    snprintf(dw, sizeof dw, "%s/whole", tmp);
    build(dp, path, 1);
    build(dw, path, 0);
    unsigned nq = queries_per_index();
    check_index("reuters, passages", dp, 1, nq, 61);
    check_index("reuters, whole articles", dw, 0, nq, 62);
    segments("reuters", &c, 63);
    tcoll_free(&c);
    ttmp_remove(tmp);
}

/* Misuse: results of another index, a passage out of range, NULL. */
static void test_errors(void **state)
{
    (void)state;
    char *tmp = ttmp_make("explain-err");
    char path[256], d1[256], d2[256];
    snprintf(path, sizeof path, "%s/a.jsonl", tmp);
    snprintf(d1, sizeof d1, "%s/one", tmp);
    snprintf(d2, sizeof d2, "%s/two", tmp);
    tcoll c = { 0 };
    tcoll_add(&c, "a", "Oil prices", "Oil prices rose.\n\nOPEC met in Vienna.");
    tcoll_add(&c, "b", "Grain", "Wheat and corn.");
    tcoll_write(&c, 0, c.n, path);
    tcoll_free(&c);
    build(d1, path, 1);
    quarry_writer *w = writer(d2, 0, 64);
    tdoc d = { "x", "t", "oil oil", NULL };
    add(w, &d);
    commit(w);
    quarry_index *ix, *other;
    quarry_error err;
    assert_int_equal(quarry_open(d1, &ix, &err), 0);
    const char *both[] = { d1, d2 };
    assert_int_equal(quarry_open_many(both, 2, &other, &err), 0);
    quarry_results *r;
    assert_int_equal(quarry_search(ix, "oil", NULL, &r, &err), 0);
    quarry_explanation *e = NULL;
    assert_int_equal(quarry_explain(ix, r, 1000, &e, &err), QUARRY_ENOTFOUND);
    assert_int_equal(quarry_explain(other, r, 0, &e, &err), QUARRY_EINVAL);
    assert_int_equal(quarry_explain(ix, NULL, 0, &e, &err), QUARRY_EINVAL);
    assert_null(e);
    quarry_results fake = *r;
    fake.plan = NULL;
    assert_int_equal(quarry_explain(ix, &fake, 0, &e, &err), QUARRY_EINVAL);
    /* "grain" passage: no match, no clauses */
    quarry_article a;
    uint32_t art;
    assert_int_equal(quarry_article_find(ix, "b", &art, &err), 0);
    assert_int_equal(quarry_article_get(ix, art, &a, &err), 0);
    assert_int_equal(quarry_explain(ix, r, a.first_passage, &e, &err), 0);
    assert_int_equal(e->match, 0);
    assert_int_equal(e->nclauses, 0);
    quarry_explanation_free(e);
    quarry_explanation_free(NULL);
    quarry_results_free(r);
    quarry_close(ix);
    quarry_close(other);
    ttmp_remove(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_reuters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
