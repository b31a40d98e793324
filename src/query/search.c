/*
 * search.c — quarry_search: checks the options, parses the query (query
 * language or plain words), builds the scorer tree (tree.c) with
 * collection-wide BM25 statistics, runs the algorithm that fits the
 * query's shape (algo.h) over every segment in turn with one collector
 * (topk.c), so the top-k threshold found in one segment prunes the next,
 * and packs the results.
 *
 * Per-search state (cursors, collector, analyzer) lives here, never in the
 * index handle: threads can search one index at once. The results keep the
 * tree (the plan, search.h) for quarry_explain.
 *
 * Date bounds are read here (quarry_date_range) and handed to the
 * collector, which also sorts by date and collapses (topk.h); the
 * duplicates of collapsed hits are found after the search (collapse.c).
 */
#include <stdlib.h>

#include "index/reader.h"
#include "base/bm25.h"
#include "base/sys.h"
#include "query/algo.h"
#include "query/search.h"
#include "query/stats.h"
#include "query/tree.h"

void quarry_search_options_init(quarry_search_options *o)
{
    memset(o, 0, sizeof *o);
    o->k = 10;
    o->k1 = BM25_DEFAULT_K1;
    o->b = BM25_DEFAULT_B;
    o->algorithm = QUARRY_ALGO_AUTO;
    o->fb_docs = 10;
    o->fb_terms = 20;
    o->fb_weight = 0.8;
}

void qs_plan_free(struct quarry_plan *p)
{
    if (!p)
        return;
    qt_free(&p->t);
    free(p->boost);
    free(p->wq);
    free(p->wf);
    free(p->dups);
    free(p);
}

void quarry_results_free(quarry_results *r)
{
    if (!r)
        return;
    free(r->hits);
    if (r->terms)
        free(r->terms[0]);   /* one allocation holds every term */
    free(r->terms);
    qs_plan_free(r->plan);
    free(r);
}

/* ------------------------------------------------------------ dates */

static int leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int quarry_date_range(const char *date, uint64_t *first, uint64_t *last, quarry_error *err)
{
    static const char *const month[12] = { "January", "February", "March", "April", "May", "June", "July",
                                           "August", "September", "October", "November", "December" };
    static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (!date)
        return qerr_set(err, QUARRY_EINVAL, "no date");
    size_t len = strlen(date);
    uint64_t lo = 0, hi = 0;
    size_t used = qdate_key(date, len, &lo, &hi);
    if (used == 0)
        return qerr_set(err, QUARRY_EINVAL,
                        "\"%.200s\" is not a date: expected YYYY[-MM[-DD[Thh[:mm[:ss]]]]], e.g. 2025, 2025-11, "
                        "2025-11-04, 2025-11-04T10:30", date);
    if (used < len)
        return qerr_set(err, QUARRY_EINVAL,
                        "\"%.200s\" is not a date after \"%.*s\": expected YYYY[-MM[-DD[Thh[:mm[:ss]]]]] with a "
                        "month 01-12, a day of that month, hours 00-23, minutes 00-59, seconds 00-60, and "
                        "nothing after", date, (int)used, date);
    unsigned y = (unsigned)(lo / 10000000000ull), m = (unsigned)(lo / 100000000ull % 100),
             d = (unsigned)(lo / 1000000ull % 100);
    if (m && d) {
        unsigned most = days[m - 1] + (m == 2 && leap(y));
        if (d > most)
            return qerr_set(err, QUARRY_EINVAL, "\"%s\" is not a date: %s %u has %u days", date, month[m - 1], y,
                            most);
    }
    if (first)
        *first = lo;
    if (last)
        *last = hi;
    return 0;
}

/* ------------------------------------------------------------ results */

/* The results: hits [offset, n) of the collector (and their duplicates),
 * the highlight terms; the plan takes the tree. */
static int pack(const quarry_search_options *o, qk_collector *col, qt_tree *t, const qk_opts *ko,
                quarry_index *ix, qn_ctx *x, quarry_results **out, quarry_error *err)
{
    size_t n;
    qk_hit *v = qk_sorted(col, &n);
    size_t from = o->offset < n ? o->offset : n;
    quarry_results *res = qcalloc(1, sizeof *res);
    if (!res)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    res->plan = qcalloc(1, sizeof *res->plan);
    res->n = n - from;
    res->matched = col->matched;
    res->matched_exact = !col->pruned;
    res->hits = qcalloc(res->n ? res->n : 1, sizeof *res->hits);
    res->terms = qcalloc(t->nterms + 1, sizeof *res->terms);
    char *tcopy = qmalloc(t->terms.len + 1);
    if (!res->plan || !res->hits || !res->terms || !tcopy) {
        free(tcopy);
        quarry_results_free(res);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < res->n; i++) {
        res->hits[i].score = v[from + i].score;
        res->hits[i].passage = v[from + i].unit;
        res->hits[i].article = v[from + i].article;
    }
    if (ko->collapse && res->n) {
        size_t *first = qmalloc((res->n + 1) * sizeof *first);
        qk_hit *dups = NULL;
        int rc = first ? qdup_find(ix, t, x, ko, v + from, res->n, &dups, first, err)
                       : qerr_set(err, QUARRY_ENOMEM, "out of memory");
        size_t nd = rc == 0 ? first[res->n] : 0;
        if (rc == 0 && !(res->plan->dups = qcalloc(nd ? nd : 1, sizeof *res->plan->dups)))
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < nd; i++) {
            res->plan->dups[i].score = dups[i].score;
            res->plan->dups[i].passage = dups[i].unit;
            res->plan->dups[i].article = dups[i].article;
        }
        for (size_t i = 0; rc == 0 && i < res->n; i++) {
            res->hits[i].nduplicates = (uint32_t)(first[i + 1] - first[i]);
            res->hits[i].duplicates = res->hits[i].nduplicates ? res->plan->dups + first[i] : NULL;
        }
        free(first);
        free(dups);
        if (rc) {
            free(tcopy);
            quarry_results_free(res);
            return rc;
        }
    }
    memcpy(tcopy, t->terms.p ? (const char *)t->terms.p : "", t->terms.len);
    tcopy[t->terms.len] = 0;
    for (size_t i = 0, off = 0; i < t->nterms; i++) {
        res->terms[i] = tcopy + off;
        off += strlen(tcopy + off) + 1;
    }
    if (t->nterms == 0)
        free(tcopy);
    res->nterms = t->nterms;
    res->plan->ix = ix;
    res->plan->t = *t;   /* the plan owns the tree from here */
    memset(t, 0, sizeof *t);
    res->plan->k1 = x->m.k1;
    res->plan->b = x->m.b;
    res->plan->n = x->m.n;
    res->plan->avglen = x->m.avglen;
    *out = res;
    return 0;
}

int qs_search(quarry_index *ix, const char *query, const quarry_search_options *o, const double *boost,
              quarry_results **out, quarry_error *err)
{
    if (!(o->k1 >= 0 && o->k1 <= 1000) || !(o->b >= 0 && o->b <= 1))
        return qerr_set(err, QUARRY_EINVAL, "BM25 parameters out of range: k1 must be in [0, 1000], b in [0, 1]");
    if ((uint64_t)o->k + o->offset > (1u << 26))
        return qerr_set(err, QUARRY_ELIMIT, "k + offset must be at most %u", 1u << 26);
    if (o->algorithm < QUARRY_ALGO_AUTO || o->algorithm > QUARRY_ALGO_BMW)
        return qerr_set(err, QUARRY_EINVAL, "unknown search algorithm %d", o->algorithm);
    if (o->sort != QUARRY_SORT_SCORE && o->sort != QUARRY_SORT_DATE)
        return qerr_set(err, QUARRY_EINVAL, "unknown sort order %d", o->sort);
    qk_opts ko = { !o->passages, o->count || o->algorithm == QUARRY_ALGO_EXHAUSTIVE, o->sort == QUARRY_SORT_DATE,
                   o->collapse != 0, 0, 1, UINT64_MAX };
    if (o->since || o->until) {   /* undated articles (key 0) are out */
        ko.filter = 1;
        int rc = 0;
        quarry_error e;
        if (o->since && (rc = quarry_date_range(o->since, &ko.since, NULL, &e)))
            return qerr_set(err, rc, "since: %s", e.msg);
        if (o->until && (rc = quarry_date_range(o->until, NULL, &ko.until, &e)))
            return qerr_set(err, rc, "until: %s", e.msg);
        if (ko.since == 0)
            ko.since = 1;
    }
    const quarry_stats *st = o->stats;
    if (st && (st->units < ix->live_units || st->tokens < ix->live_tokens))
        return qerr_set(err, QUARRY_EINVAL, "the collection statistics (%llu units, %llu tokens) are of a "
                        "collection smaller than the index searched (%llu units, %llu tokens)",
                        (unsigned long long)st->units, (unsigned long long)st->tokens,
                        (unsigned long long)ix->live_units, (unsigned long long)ix->live_tokens);
    double t0 = qnow();
    qq_node *q;
    size_t qlen = strlen(query);
    int rc = o->plain ? qq_parse_plain(query, qlen, &q, err) : qq_parse(query, qlen, &q, err);
    if (rc)
        return rc;
    qa_analyzer *an = NULL;
    if (!boost && (rc = qx_analyzer_get(ix, &an, err))) {
        qq_free(q);
        return rc;
    }
    qn_ctx x;
    if (st) {   /* the whole collection's, as reader.c computes an index's */
        double avg = st->units ? (double)st->tokens / (double)st->units : 1.0;
        qn_ctx_init(&x, o->k1, o->b, (double)st->units, avg > 0 ? avg : 1.0);
    } else
        qn_ctx_init(&x, o->k1, o->b, (double)ix->live_units, ix->avgdl);
    qt_tree t;
    rc = qt_build(&t, ix, an, q, o->plain, !o->no_pairs, boost, &x.m, st, err);
    qq_free(q);
    qx_analyzer_put(ix, an);
    if (rc)
        return rc;
    qk_collector col;
    int col_ok = 0;
    if (t.root->kind == QN_EMPTY || t.scoring_leaves == 0) {
        rc = qerr_set(err, QUARRY_ENOTERMS,
                      t.root->kind != QN_EMPTY && t.nterms == 0
                          ? "the query has no positive term (excluded terms alone match nothing)"
                          : "every term of the query is a stop word or absent from the index");
        goto done;
    }
    size_t want = (size_t)o->offset + o->k;
    uint64_t most = o->passages ? ix->live_units : ix->live_arts;   /* never more hits than units */
    if (want > most)
        want = (size_t)most;
    if (qk_init(&col, want, &ko)) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto done;
    }
    col_ok = 1;
    qalgo_fn run = qalgo_pick(t.root, o->algorithm);
    for (size_t si = 0; si < ix->nseg && !rc; si++) {
        if ((rc = qt_bind(&t, ix, si, &x, err)))
            break;
        qk_segment(&col, &ix->seg[si]);
        qalgo_run r = { &x, t.root, &col };
        run(&r);
        qk_segment_end(&col);
        if (x.oom || col.oom)
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        else if (x.corrupt || col.corrupt || qt_corrupt(&t))
            rc = qx_bad(&ix->seg[si], &ix->seg[si].post, 0, "damaged postings or unit table met while searching", err);
    }
    if (!rc && (rc = pack(o, &col, &t, &ko, ix, &x, out, err)) == 0)
        (*out)->seconds = qnow() - t0;
done:
    if (col_ok)
        qk_free(&col);
    qt_free(&t);
    return rc;
}

int quarry_search(quarry_index *ix, const char *query, const quarry_search_options *o,
                  quarry_results **out, quarry_error *err)
{
    quarry_search_options defaults;
    if (!o) {
        quarry_search_options_init(&defaults);
        o = &defaults;
    }
    if (!ix || !query || !out)
        return qerr_set(err, QUARRY_EINVAL, "quarry_search: index, query and out are required");
    if (o->expand && o->plain && o->fb_docs > 0 && o->fb_terms > 0) {
        if (o->stats)
            return qerr_set(err, QUARRY_EINVAL, "feedback (expand) cannot use collection statistics from outside: "
                            "it needs the best units of the whole collection");
        if (!(o->fb_weight >= 0 && o->fb_weight <= 1) || o->fb_docs > 1000 || o->fb_terms > 1000)
            return qerr_set(err, QUARRY_EINVAL, "feedback: fb_weight must be in [0, 1], fb_docs and fb_terms at most 1000");
        return qexp_expand(ix, query, o, out, err);
    }
    return qs_search(ix, query, o, NULL, out, err);
}
