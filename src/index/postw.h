/*
 * postw.h — writes the final postings (.post), positions (.posn) and term
 * dictionary (.dict) of a generation, term by term in byte order, from a
 * stream of (unit, tf, positions) per term. Layouts: index/FORMAT.md.
 */
#ifndef QUARRY_POSTW_H
#define QUARRY_POSTW_H

#include <stdint.h>

#include "base/base.h"
#include "index/format.h"

typedef struct qpw qpw;

typedef struct qpw_result {
    uint64_t terms, postings, positions;
    uint64_t size[3];      /* dict, post, posn */
    uint32_t crc[3];
} qpw_result;

/* unit_len: the token length of every unit, a little-endian u32 each (as
 * the .unit file's first column; borrowed until qpw_finish). */
int qpw_open(qpw **out, const char *dir, uint64_t seg, const uint8_t *unit_len, uint32_t nunits,
             quarry_error *err);
int qpw_term_begin(qpw *w, const uint8_t *term, uint32_t len);
/* Units strictly increasing within a term; positions strictly increasing. */
int qpw_posting(qpw *w, uint32_t unit, uint32_t tf, const uint32_t *pos);
int qpw_term_end(qpw *w);
int qpw_finish(qpw *w, qpw_result *res, quarry_error *err);

/* Writing one segment's postings in parts, in parallel: part k > 0
 * (< QPW_MAX_PARTS) takes a range of terms that follows part k - 1's, and
 * writes temporary files of the segment's (removed by qpw_append or
 * qpw_abort, or by the next commit's cleanup after a crash); the writer
 * of the segment (part 0) then appends the parts in order and is
 * finished. The files are byte for byte those of one writer given every
 * term. A part is never finished; qpw_append frees it, whatever happens. */
#define QPW_MAX_PARTS 64u
int qpw_open_part(qpw **out, const char *dir, uint64_t seg, uint32_t part, const uint8_t *unit_len,
                  uint32_t nunits, quarry_error *err);
int qpw_append(qpw *w, qpw *part, quarry_error *err);
void qpw_abort(qpw *w);

#endif
