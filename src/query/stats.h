/*
 * stats.h — collection statistics supplied from outside (stats.c): the
 * table behind quarry_stats (quarry.h), looked up by tree.c when a search
 * scores with the statistics of a whole sharded collection instead of its
 * own index's.
 */
#ifndef QUARRY_STATS_H
#define QUARRY_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "quarry.h"

typedef struct qst_entry {
    const char *term;         /* NUL-terminated, in quarry_stats.buf */
    size_t len;
    uint64_t df;              /* live units of the collection that hold it */
} qst_entry;

struct quarry_stats {
    uint64_t units, tokens;   /* N and the total length of the collection's live units */
    size_t n;
    qst_entry *e;             /* n entries, sorted bytewise by term, distinct */
    char *buf;                /* the terms */
};

/* The df of analyzed term s[0..len) in the table: 1 (*df set) or 0 when
 * the table does not hold it. */
int qst_df(const quarry_stats *st, const char *s, size_t len, uint64_t *df);

#endif
