/*
 * invert.h — the in-memory inverter with a memory budget. Tokens of one
 * unit (passage) at a time go in; when the accounted memory reaches the
 * budget, the postings are written to a sorted run file in the index
 * directory and memory is released. qi_finish spills the remainder; the
 * runs are then merged by merge.c into the final postings (postw.h).
 *
 * Run file (temporary, never part of an index):
 *   repeated, terms in byte order:
 *     varint term_len, term bytes, varint df, varint nbytes, nbytes of postings
 *   postings: per unit: varint (unit + 1 - prev_unit_plus_1), varint tf,
 *             tf varints of positions (first absolute, then gaps)
 */
#ifndef QUARRY_INVERT_H
#define QUARRY_INVERT_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

typedef struct qi_inverter qi_inverter;

/* budget: bytes the inverter may account for before spilling (>= 1 MiB).
 * Run files are created in `dir` with names qm_run_name(owner, N) and
 * removed by qi_close. */
int qi_open(const char *dir, uint64_t owner, size_t budget, qi_inverter **out, quarry_error *err);
void qi_close(qi_inverter *qi);

/* Adds a token of unit `unit` (units must come in increasing order, tokens
 * of a unit in increasing position order). */
int qi_add(qi_inverter *qi, uint32_t unit, const char *term, uint32_t len, uint32_t pos);
/* The same in two steps, so a token repeated in several units (an article
 * title) is looked up once: qi_term returns the term's id (UINT32_MAX when
 * out of memory), valid until the next spill (see qi_epoch). */
uint32_t qi_term(qi_inverter *qi, const char *term, uint32_t len);
int qi_add_term(qi_inverter *qi, uint32_t unit, uint32_t id, uint32_t pos);
/* Changes at every spill: ids from qi_term of an older epoch are invalid. */
uint32_t qi_epoch(const qi_inverter *qi);

/* Ends the current unit; may spill. Returns 0 or a quarry_code. */
int qi_end_unit(qi_inverter *qi, quarry_error *err);
/* Spills what is left. After this, qi_nruns/qi_run_path name the runs. */
int qi_finish(qi_inverter *qi, quarry_error *err);

size_t qi_nruns(const qi_inverter *qi);
const char *qi_run_path(const qi_inverter *qi, size_t i);
size_t qi_accounted(const qi_inverter *qi);

#endif
