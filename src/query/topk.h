/*
 * topk.h — collecting the best hits of a search, across segments: a
 * bounded heap of passages, or of articles ranked by their best passage
 * (passages of an article are consecutive, so an article is complete when
 * the next one starts: no per-article table). Hits rank by score, then by
 * the lower global passage number; the algorithms visit units in
 * increasing order, so a later unit never wins a tie, and the pruning
 * threshold is the score a new hit must beat strictly.
 *
 * Counting: every match is counted until QUARRY_COUNT_EXACT of them (or
 * always, when asked); only then does the threshold rise above -infinity,
 * so pruning never makes a count below that number inexact.
 */
#ifndef QUARRY_TOPK_H
#define QUARRY_TOPK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "index/reader.h"

typedef struct qk_hit {
    double score;
    uint32_t unit;      /* global */
    uint32_t article;   /* global */
} qk_hit;

typedef struct qk_collector {
    qk_hit *v;          /* heap of k hits, the worst at v[0] */
    size_t n, k;
    int articles;       /* 1: one hit per article (its best passage) */
    int count_all;      /* 1: never prune (exact counts) */
    uint64_t matched;
    int pruned;         /* the threshold was used: matched is a lower bound */
    double theta;       /* current pruning threshold */
    /* the segment being collected */
    const qx_seg *seg;
    /* article mode: the article being collected */
    int have_cur;
    qk_hit cur;
    int corrupt;        /* a unit named an article out of range */
} qk_collector;

/* k = offset + hits wanted (0 allowed). Returns -1 when out of memory. */
int qk_init(qk_collector *c, size_t k, int articles, int count_all);
void qk_free(qk_collector *c);

/* Starts / ends collecting segment s (its units arrive in increasing order). */
void qk_segment(qk_collector *c, const qx_seg *s);
void qk_segment_end(qk_collector *c);

/* A match: local unit u of the current segment with this score (ignored
 * when the unit is deleted). */
void qk_collect(qk_collector *c, uint32_t u, double score);

/* The score a new hit must beat to be kept at all, counted or not
 * (-INFINITY while counting exactly): the pruning threshold. */
static inline double qk_threshold(const qk_collector *c) { return c->theta; }

/* The score a new hit must beat to enter the kept hits (-INFINITY while
 * fewer than k are kept). A match bounded below it need not be scored:
 * qk_count counts it. */
static inline double qk_enter(const qk_collector *c) { return c->n == c->k && c->k ? c->v[0].score : -INFINITY; }

/* A match (local unit u) that cannot enter the kept hits: only counted. */
void qk_count(qk_collector *c, uint32_t u);

/* Sorts the kept hits best first; returns them and their number. */
qk_hit *qk_sorted(qk_collector *c, size_t *n);

#endif
