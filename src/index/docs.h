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

int qd_text_open(qd_text_writer *t, const char *dir, uint32_t gen, quarry_error *err);
int qd_text_add(qd_text_writer *t, const char *s, size_t n);   /* the next unit's text */
int qd_text_finish(qd_text_writer *t, uint64_t *size, uint32_t *crc, quarry_error *err);
void qd_text_abort(qd_text_writer *t);

#endif
