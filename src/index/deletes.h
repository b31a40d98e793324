/*
 * deletes.h — the deletions of a segment, as a writer builds them
 * (deletes.c): which units are deleted and, so that BM25 statistics are
 * those of the live documents only, how many deleted units hold each term
 * and how many tokens they had. Written as a deletions file
 * (index/FORMAT.md §del) named by the manifest; the reader side is in
 * reader.h (qx_deleted, qx_del_df).
 */
#ifndef QUARRY_DELETES_H
#define QUARRY_DELETES_H

#include <stdint.h>

#include "index/reader.h"

typedef struct qdl_entry {
    uint32_t off, len;        /* the term in `strs` */
    uint64_t count;           /* deleted units that hold it */
} qdl_entry;

typedef struct qdl_set {
    uint64_t nunits;
    uint8_t *bits;            /* ceil(nunits / 8) bytes: bit u set = unit u deleted */
    uint64_t units, articles, tokens;   /* deleted */
    qbuf strs;
    qdl_entry *tab;           /* open addressing; len 0 = empty slot */
    size_t mask, n;
} qdl_set;

/* A copy of segment s's current deletions (none if it has no file). */
int qdl_load(qdl_set *d, const qx_seg *s, quarry_error *err);
void qdl_free(qdl_set *d);

/* Deletes local article a of segment s (nothing if already deleted):
 * marks its units and counts their terms, found by analyzing the stored
 * title and passage texts again (read through `tc`) with `an` (the index's analyzer); the
 * counted tokens must add up to each unit's length. Returns 0, or
 * QUARRY_ECORRUPT when they do not (the index is damaged). */
int qdl_delete_article(qdl_set *d, qx_tcache *tc, const qx_seg *s, uint32_t a, qa_analyzer *an,
                       quarry_error *err);

/* How many deleted units of the set hold term t (0 when none). */
uint64_t qdl_count(const qdl_set *d, const char *t, uint32_t len);

static inline int qdl_has(const qdl_set *d, uint32_t u) { return d->bits && (d->bits[u / 8] >> (u % 8)) & 1; }

/* Writes DIR/s<seg>-<gen>.del (fsynced) and fills its manifest entry. */
int qdl_write(const qdl_set *d, const char *dir, uint64_t seg, uint64_t gen, qm_file *out, quarry_error *err);

#endif
