/*
 * invert.h — the in-memory inverter with a memory budget. Tokens of one
 * unit (passage) at a time go in; when the accounted memory reaches the
 * budget (qi_full) the segment writer writes what the inverter holds as a
 * segment's postings (qi_write) and the inverter starts empty again.
 *
 * Held per term: a chain of slices of postings, per unit:
 *   varint (unit + 1 - previous unit - 1), varint tf, tf varints of
 *   positions (the first absolute, then gaps)
 */
#ifndef QUARRY_INVERT_H
#define QUARRY_INVERT_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "index/postw.h"

typedef struct qi_inverter qi_inverter;

/* budget: bytes the inverter may account for before it is full (>= 1 MiB). */
int qi_open(size_t budget, qi_inverter **out, quarry_error *err);
void qi_close(qi_inverter *qi);

/* Adds a token of unit `unit` (units must come in increasing order from 0
 * after each qi_write, tokens of a unit in increasing position order);
 * `hash` is qhash(term, len), which the caller needs too. */
int qi_add(qi_inverter *qi, uint32_t unit, const char *term, uint32_t len, uint64_t hash, uint32_t pos);
/* The same in two steps, so a token repeated in several units (an article
 * title) is looked up once: qi_term returns the term's id (UINT32_MAX when
 * out of memory), valid until the next qi_write (see qi_epoch). */
uint32_t qi_term(qi_inverter *qi, const char *term, uint32_t len, uint64_t hash);
int qi_add_term(qi_inverter *qi, uint32_t unit, uint32_t id, uint32_t pos);
/* A hint: the term of this hash is looked up soon (its table slot is
 * fetched into the cache meanwhile). */
void qi_prefetch(const qi_inverter *qi, uint64_t hash);
/* Changes at every qi_write: ids from qi_term of an older epoch are invalid. */
uint32_t qi_epoch(const qi_inverter *qi);

/* Ends the current unit. Returns 0 or a quarry_code. */
int qi_end_unit(qi_inverter *qi, quarry_error *err);
/* The accounted memory has reached the budget. */
int qi_full(const qi_inverter *qi);
size_t qi_accounted(const qi_inverter *qi);

/* Forgets everything held (a segment abandoned). */
void qi_reset(qi_inverter *qi);

/* Writes every term's postings in term byte order to `w` (qpw_term_begin,
 * qpw_posting, qpw_term_end) and empties the inverter. */
int qi_write(qi_inverter *qi, qpw *w, quarry_error *err);

#endif
