/*
 * segw.h — writing segments (segw.c): analyzed articles go in one at a
 * time; their units to the inverter and to the unit, article and text
 * streams of the segment being made. When its memory budget is reached (or
 * the run ends) the segment is finished: postings, dictionary and
 * statistics written, every file fsynced, and its manifest entry returned.
 * One qsw makes any number of segments, one after another; a writer has
 * one per indexing thread.
 *
 * Ids: a duplicate within the segment is found as the article comes in;
 * duplicates across the segments of a run are found at commit by merging
 * the segments' sorted id lists (writer.c), for which each finished
 * segment leaves an origins file: where every article came from, and the
 * ids of the empty articles that were skipped.
 */
#ifndef QUARRY_SEGW_H
#define QUARRY_SEGW_H

#include <stdint.h>

#include "analyze/analyze.h"
#include "base/base.h"
#include "index/batch.h"
#include "index/manifest.h"

typedef struct qsw qsw;

/* What a finished segment holds. */
typedef struct qsw_result {
    qm_segment seg;                 /* its manifest entry (7 files) */
    char origins[QM_NAME];          /* its origins file (a run file; removed at commit) */
    uint64_t articles, units, tokens, terms, postings, empty;
} qsw_result;

/* budget: the bytes the segment may hold in memory (inverter and tables). */
int qsw_open(qsw **out, const char *dir, size_t budget, quarry_error *err);
void qsw_close(qsw *w);   /* abandons (removes) an unfinished segment */

/* Starts segment `id` (its files are created now). */
int qsw_begin(qsw *w, uint64_t id, quarry_error *err);
int qsw_active(const qsw *w);

/* Adds analyzed document d of batch b, from input file `file` (an index
 * into the writer's file names, for messages) at `line`, with the pair
 * terms of analyzer `an` when it has them (qa_pairs). QUARRY_EINPUT for
 * a duplicate id in this segment (the message names both places, through
 * names[]). */
int qsw_add(qsw *w, const qa_analyzer *an, qb_batch *b, const qb_doc *d, uint32_t file,
            const char *const *names, quarry_error *err);

/* The segment's memory has reached its budget: finish it. */
int qsw_full(const qsw *w);

/* Finishes the current segment. One without any article is dropped
 * (out->seg.nfiles 0: only its origins file is left) unless keep_empty. */
int qsw_finish(qsw *w, const qa_analyzer *an, int passages, unsigned passage_tokens, int keep_empty,
               qsw_result *out, quarry_error *err);

#endif
