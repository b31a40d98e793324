/*
 * docs.h — writers of the per-unit table (.unit), the article table (.arts),
 * the compressed passage text (.text) and the collection statistics (.meta).
 * Layouts: index/FORMAT.md.
 */
#ifndef QUARRY_DOCS_H
#define QUARRY_DOCS_H

#include <stdint.h>

#include "base/base.h"
#include "index/format.h"

typedef struct qd_text_writer {
    qf_writer f;
    qbuf lens, bytes;     /* the block being filled */
    uint32_t count, first_unit, nunits;
    qbuf dir;             /* per block: u64 offset, u32 clen, u32 ulen, u32 first_unit */
    qbuf z, raw;          /* compression scratch */
    void *zs;             /* a z_stream kept for all blocks (no allocation per block) */
    int failed;
} qd_text_writer;

int qd_text_open(qd_text_writer *t, const char *dir, uint64_t seg, quarry_error *err);
int qd_text_add(qd_text_writer *t, const char *s, size_t n);   /* the next unit's text */
int qd_text_finish(qd_text_writer *t, uint64_t *size, uint32_t *crc, quarry_error *err);
void qd_text_abort(qd_text_writer *t);

/* Fingerprints (FORMAT.md §unit, §arts): a hash of a sequence of analyzed
 * terms, folded in one term at a time from QD_FP_SEED; texts that analyze
 * to the same terms in the same order get the same fingerprint. */
#define QD_FP_SEED 0x6a09e667f3bcc909ull
static inline uint64_t qd_fp_add(uint64_t h, const char *term, size_t len)
{
    return (h ^ qhash(term, len)) * 0x9e3779b97f4a7c15ull + len;
}

#endif
