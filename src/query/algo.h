/*
 * algo.h — the query algorithms, one file each, behind one shape (as
 * zstd's block compressors): each runs the bound scorer tree of one
 * segment and hands every match that can enter the top-k to the collector.
 * Every algorithm returns exactly what qalgo_exhaustive returns (same hits,
 * same scores, same order); the tests hold them to it.
 *
 *   algo_exhaustive.c   every unit where a positive leaf's rarest term occurs
 *   algo_maxscore.c     block-max MaxScore over the root's optional clauses
 *   algo_bmw.c          block-max WAND over the root's optional clauses
 *   algo_conjunction.c  roots with required clauses: leapfrog with block skips
 *   algo_phrase.c       a root that is one leaf read by positions (a phrase)
 *
 * The root is the tree's top node: a group, or a single leaf (treated as
 * a group of one optional clause). MUST_NOT clauses of the root filter.
 */
#ifndef QUARRY_ALGO_H
#define QUARRY_ALGO_H

#include "query/node.h"
#include "query/topk.h"

typedef struct qalgo_run {
    qn_ctx *x;
    qn_node *root;
    qk_collector *col;
} qalgo_run;

typedef void (*qalgo_fn)(qalgo_run *r);

void qalgo_exhaustive(qalgo_run *r);
void qalgo_maxscore(qalgo_run *r);
void qalgo_bmw(qalgo_run *r);
void qalgo_conjunction(qalgo_run *r);
void qalgo_phrase(qalgo_run *r);

/* The algorithm for a root under a quarry_algorithm choice. */
qalgo_fn qalgo_pick(const qn_node *root, int algorithm);

/* Shared by the algorithms (algo.c). */

/* The root's scoring clauses (its SHOULD and MUST kids, or the root
 * itself when it is a leaf), in the tree's order. NULL when out of memory;
 * free() it. */
qn_node **qalgo_clauses(qn_node *root, size_t *n);

/* Does the root match unit d, and with what score: the canonical score
 * (the tree's order, as qalgo_exhaustive computes it). A unit outside the
 * date filter does not match; one too old to enter the hits sorted by
 * date matches with score -INFINITY (only counted, never scored). */
int qalgo_match(qalgo_run *r, uint32_t d, double *score);

#endif
