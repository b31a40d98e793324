/*
 * impact.h — impacts: what bounds a block's (or a term's) BM25 scores for
 * any k1, b and average length. BM25 grows with tf and falls with the unit
 * length, so the highest score of a set of postings is reached on its
 * Pareto frontier of (tf, length) pairs: the postings that no other one
 * beats on both. A frontier is stored with at most QIM_MAX pairs; a longer
 * one is cut into runs of neighbours, each replaced by (its largest tf,
 * its smallest length), which dominates the run, so the bound stays valid
 * (only looser; qim_frontier picks the cut). Lucene 8 keeps the same data
 * ("impacts") in its skip lists.
 *
 * Encoding (index/FORMAT.md §impacts): varint n (1..QIM_MAX), then n pairs
 * with tf and length strictly increasing: the first pair as varint tf,
 * varint len; the others as varint (tf - previous tf - 1), varint (len -
 * previous len - 1).
 */
#ifndef QUARRY_IMPACT_H
#define QUARRY_IMPACT_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

#define QIM_MAX 8

typedef struct qim_pair {
    uint32_t tf, len;
} qim_pair;

/* Reduces v[0..n) (any order, n >= 1) to its frontier of at most QIM_MAX
 * pairs, in increasing order; returns the new n. A longer frontier is cut
 * into runs of neighbours, each replaced by its largest tf at its
 * smallest length (which dominates it), so that the highest score of the
 * result with BM25's default k1 and b (BM25_DEFAULT_K1, _B) and average
 * length avglen is the least any QIM_MAX runs give (to 1e-13): the bound
 * stays valid for any k1, b and average length, and is as tight as
 * QIM_MAX pairs allow for the defaults. */
size_t qim_frontier(qim_pair *v, size_t n, double avglen);
/* The same without the QIM_MAX limit (exact frontier). */
size_t qim_pareto(qim_pair *v, size_t n);

int qim_put(qbuf *b, const qim_pair *v, size_t n);

/* Decodes a frontier at the cursor; 0, or -1 when damaged (bad count, not
 * increasing, tf 0, beyond the cursor's end). */
int qim_get(qcur *c, qim_pair *v, uint32_t *n);

#endif
