/*
 * engine.h — the query engine's internal entry point, shared by the
 * public quarry_search (expand.c) and the engine (engine.c).
 */
#ifndef QUARRY_ENGINE_H
#define QUARRY_ENGINE_H

#include "quarry.h"

/* Runs one query. With `boost` non-NULL, `query` is a space-separated list
 * of already analyzed terms (o->plain must be set) and boost[i] multiplies
 * the weight of term i (a weighted bag of words, as query expansion makes). */
int qs_search(quarry_index *ix, const char *query, const quarry_search_options *o, const double *boost,
              quarry_results **out, quarry_error *err);

#endif
