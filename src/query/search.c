/*
 * search.c — quarry_search: checks the options, parses the query (query
 * language or plain words), builds the scorer tree (tree.c) with
 * collection-wide BM25 statistics, runs the algorithm that fits the
 * query's shape (algo.h) over every segment in turn with one collector
 * (topk.c), so the top-k threshold found in one segment prunes the next,
 * and packs the results.
 *
 * Per-search state (cursors, collector, analyzer) lives here, never in the
 * index handle: threads can search one index at once.
 */
#include <stdlib.h>

#include "index/reader.h"
#include "base/sys.h"
#include "query/algo.h"
#include "query/search.h"
#include "query/tree.h"

void quarry_search_options_init(quarry_search_options *o)
{
    memset(o, 0, sizeof *o);
    o->k = 10;
    o->k1 = 1.2;
    o->b = 0.75;
    o->algorithm = QUARRY_ALGO_AUTO;
    o->fb_docs = 10;
    o->fb_terms = 20;
    o->fb_weight = 0.8;
}

void quarry_results_free(quarry_results *r)
{
    if (!r)
        return;
    free(r->hits);
    if (r->terms)
        free(r->terms[0]);   /* one allocation holds every term */
    free(r->terms);
    free(r);
}

/* The results: hits [offset, n) of the collector, the highlight terms. */
static int pack(const quarry_search_options *o, qk_collector *col, const qt_tree *t, quarry_results **out,
                quarry_error *err)
{
    size_t n;
    qk_hit *v = qk_sorted(col, &n);
    size_t from = o->offset < n ? o->offset : n;
    quarry_results *res = qcalloc(1, sizeof *res);
    if (!res)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    res->n = n - from;
    res->matched = col->matched;
    res->matched_exact = !col->pruned;
    res->hits = qmalloc((res->n ? res->n : 1) * sizeof *res->hits);
    res->terms = qcalloc(t->nterms + 1, sizeof *res->terms);
    char *tcopy = qmalloc(t->terms.len + 1);
    if (!res->hits || !res->terms || !tcopy) {
        free(tcopy);
        quarry_results_free(res);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < res->n; i++) {
        res->hits[i].score = v[from + i].score;
        res->hits[i].passage = v[from + i].unit;
        res->hits[i].article = v[from + i].article;
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
    qn_ctx_init(&x, o->k1, o->b, (double)ix->live_units, ix->avgdl);
    qt_tree t;
    rc = qt_build(&t, ix, an, q, o->plain, boost, &x.m, err);
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
    if (qk_init(&col, want, !o->passages, o->count || o->algorithm == QUARRY_ALGO_EXHAUSTIVE)) {
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
        if (x.oom)
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        else if (x.corrupt || col.corrupt || qt_corrupt(&t))
            rc = qx_bad(&ix->seg[si], &ix->seg[si].post, 0, "damaged postings or unit table met while searching", err);
    }
    if (!rc && (rc = pack(o, &col, &t, out, err)) == 0)
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
        if (!(o->fb_weight >= 0 && o->fb_weight <= 1) || o->fb_docs > 1000 || o->fb_terms > 1000)
            return qerr_set(err, QUARRY_EINVAL, "feedback: fb_weight must be in [0, 1], fb_docs and fb_terms at most 1000");
        return qexp_expand(ix, query, o, out, err);
    }
    return qs_search(ix, query, o, NULL, out, err);
}
