/*
 * segmerge.h — merging segments (segmerge.c): adjacent segments become one
 * new segment holding their live articles in the same order (deleted ones
 * are dropped), written beside them and published by a commit of its own,
 * so that readers are never blocked and a crash leaves the last commit.
 *
 * The merge policy (log-structured, as Lucene's LogMergePolicy, adjacent
 * segments only so that the order of the collection is kept): a segment's
 * level is floor(log10(live units / 1000)); whenever QSM_FACTOR adjacent
 * segments share a level they are merged, adjacent segments below the
 * largest segment's level are merged once together they reach it, and a
 * segment a third of whose units are deleted is rewritten. So the number
 * of segments stays under QSM_FACTOR per level, logarithmic in the size of
 * the index, and each unit is rewritten about once per level (the write
 * amplification).
 * Asked for (quarry index --optimize), every segment is merged into one
 * first, as `quarry optimize` would, when their units fit in one.
 */
#ifndef QUARRY_SEGMERGE_H
#define QUARRY_SEGMERGE_H

#include <stddef.h>

#include "quarry.h"

#define QSM_FACTOR 10
#define QSM_MIN_UNITS 1000

/* How merges run. A merge writes its postings and positions in up to
 * `threads` parts at once (postw.h), each of at least `part_bytes` of its
 * sources' postings and positions, as many as a quarter of the memory
 * budget holds their windows into the sources (QSM_WINDOW each), and its
 * article records beside them:
 * the new segment's files are the same bytes whatever the number. */
typedef struct qsm_opts {
    size_t mem;          /* the memory budget (bytes) */
    unsigned threads;    /* 0 or 1: one */
    size_t part_bytes;   /* 0: QSM_PART_BYTES */
    int one;             /* every segment into one first, when they fit */
} qsm_opts;
#define QSM_PART_BYTES (256u << 10)
#define QSM_WINDOW (64u << 10)   /* the kernel's fault-around: mapped around a page read */

/* Applies the merge policy to the index in `dir` until it asks for no more
 * merges (the caller holds the index's lock). Counts into s. */
int qsm_run_policy(const char *dir, const qsm_opts *o, quarry_index_summary *s, quarry_error *err);

/* Merges all segments of the index in `dir` into one (the caller holds
 * the lock). */
int qsm_optimize(const char *dir, const qsm_opts *o, quarry_index_summary *s, quarry_error *err);

#endif
