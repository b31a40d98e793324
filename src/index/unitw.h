/*
 * unitw.h — the unit table writer (unitw.c): lengths, quantized lengths,
 * articles, body positions and fingerprints of the units of a segment, as
 * columns (index/FORMAT.md §unit).
 */
#ifndef QUARRY_UNITW_H
#define QUARRY_UNITW_H

#include <stdint.h>
#include <stdio.h>

#include "base/base.h"
#include "index/format.h"

#define QU_NCOLS 5   /* len u32, lenq u8, article u32, body_pos u32, fingerprint u64 */

typedef struct qu_writer {
    FILE *col[QU_NCOLS];
    char *path[QU_NCOLS];
    uint64_t n;
    int failed, failed_col, saved_errno;   /* sticky: reported by qu_finish */
} qu_writer;

int qu_open(qu_writer *u, const char *dir, uint64_t seg, quarry_error *err);
void qu_add(qu_writer *u, uint32_t len, uint32_t article, uint32_t body_pos, uint64_t fp);
/* Writes the fingerprint index (FORMAT.md §unit) of the units added into
 * f, entries in (fingerprint, unit) order; 0 or an error code. */
typedef int (*qu_fp_emit)(void *ctx, qf_writer *f);
/* Writes DIR/sSEG.unit (fsynced) from the columns and removes them. The
 * fingerprint index is emit's (a merge merges its sources'), or with emit
 * NULL sorted here from the columns: 20 bytes a unit, which the caller
 * counts in its memory budget. */
int qu_finish(qu_writer *u, const char *dir, uint64_t seg, qu_fp_emit emit, void *ctx, uint64_t *size,
              uint32_t *crc, quarry_error *err);
/* Removes the temporary columns (NULL-safe fields; callable twice). */
void qu_abort(qu_writer *u);

/* Fingerprints (FORMAT.md §unit, §arts): a hash of a sequence of analyzed
 * terms, folded in one term at a time from QU_FP_SEED; texts that analyze
 * to the same terms in the same order get the same fingerprint. */
#define QU_FP_SEED 0x6a09e667f3bcc909ull
static inline uint64_t qu_fp_add(uint64_t h, uint64_t term_hash, size_t len)   /* term_hash: qhash(term, len) */
{
    return (h ^ term_hash) * 0x9e3779b97f4a7c15ull + len;
}

#endif
