/*
 * search.h — the query side's internal entry points: qs_search runs one
 * query (search.c, behind quarry_search); qexp_expand runs a plain query
 * with pseudo-relevance feedback (expand.c).
 */
#ifndef QUARRY_SEARCH_H
#define QUARRY_SEARCH_H

#include "quarry.h"

/* Runs one query. With `boost` non-NULL, `query` is a space-separated list
 * of already analyzed terms (o->plain must be set) and boost[i] multiplies
 * the weight of term i (a weighted bag of words, as query expansion makes). */
int qs_search(quarry_index *ix, const char *query, const quarry_search_options *o, const double *boost,
              quarry_results **out, quarry_error *err);

/* RM3 expansion of a plain query, then the expanded search (expand.c). */
int qexp_expand(quarry_index *ix, const char *query, const quarry_search_options *o, quarry_results **out,
              quarry_error *err);

#endif
