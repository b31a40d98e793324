/*
 * search.h — the query side's internal entry points: qs_search runs one
 * query (search.c, behind quarry_search); qexp_expand runs a plain query
 * with pseudo-relevance feedback (expand.c); qdup_find lists the
 * duplicates of collapsed hits (collapse.c). And the plan: what results
 * keep of their query so that quarry_explain (explain.c) can explain any
 * passage later.
 */
#ifndef QUARRY_SEARCH_H
#define QUARRY_SEARCH_H

#include "quarry.h"
#include "query/topk.h"
#include "query/tree.h"

/* The query of some results, as it was scored. */
struct quarry_plan {
    const quarry_index *ix;   /* the index searched */
    qt_tree t;                /* the scorer tree (its cursors bound to whatever segment was last) */
    double k1, b, n, avglen;  /* BM25's parameters and collection statistics */
    /* expanded queries (RM3): the root's kids are the weighted terms; kid
     * i's weight is multiplied by boost[i] = wq[i] + wf[i] (the parts from
     * the query and from feedback) */
    int expanded;
    size_t nkids;
    double *boost, *wq, *wf;
    quarry_hit *dups;         /* the duplicates of the hits (collapse) */
};

void qs_plan_free(struct quarry_plan *p);

/* Runs one query. With `boost` non-NULL, `query` is a space-separated list
 * of already analyzed terms (o->plain must be set) and boost[i] multiplies
 * the weight of term i (a weighted bag of words, as query expansion makes). */
int qs_search(quarry_index *ix, const char *query, const quarry_search_options *o, const double *boost,
              quarry_results **out, quarry_error *err);

/* RM3 expansion of a plain query, then the expanded search (expand.c). */
int qexp_expand(quarry_index *ix, const char *query, const quarry_search_options *o, quarry_results **out,
              quarry_error *err);

/* The duplicates of collapsed hits v[0..n) (distinct keys, as the
 * collector of `ko` kept them): every other live unit (passage mode) or
 * article (article mode) with the same fingerprint that matches the query
 * of tree t (bound in turn to each segment that has one, with x) and
 * passes the date filter, scored as the search scores (an article by its
 * best passage). On success *dups holds them grouped by hit: those of hit
 * i are (*dups)[first[i] .. first[i + 1]), in the collector's order;
 * `first` has n + 1 entries. Returns 0 or a quarry_code (err set). */
int qdup_find(quarry_index *ix, qt_tree *t, qn_ctx *x, const qk_opts *ko, const qk_hit *v, size_t n,
              qk_hit **dups, size_t *first, quarry_error *err);

#endif
