/*
 * topk.h — collecting the best hits of a search, across segments: a
 * bounded heap of passages, or of articles ranked by their best passage
 * (passages of an article are consecutive, so an article is complete when
 * the next one starts: no per-article table). Hits rank by score, then by
 * the lower global passage number; the algorithms visit units in
 * increasing order, so a later unit never wins a tie, and the pruning
 * threshold is the score a new hit must beat strictly.
 *
 * Counting: every match is counted until QUARRY_COUNT_EXACT of them (or
 * always, when asked); only then does the threshold rise above -infinity,
 * so pruning never makes a count below that number inexact.
 *
 * Options that change what a hit is (qk_opts):
 *   - a date filter: a unit whose article is dated outside [since, until]
 *     (or undated) is not a match at all: not counted, never kept, so the
 *     threshold comes from admitted hits only and the top k is never short;
 *   - sorting by date: hits rank by their article's date key, newest first,
 *     then by score, then by passage number. No score threshold can prune
 *     then (an older unit may score higher), so qk_threshold and qk_enter
 *     stay -infinity and counts are exact; instead qk_admit tells the
 *     algorithms which units are too old to enter, so that they are only
 *     checked for a match, never scored;
 *   - collapsing: the heap holds hits of distinct fingerprints (the
 *     article's in article mode, the passage's in passage mode; FORMAT.md
 *     §unit, §arts), each the best of its group so far, found through a
 *     hash table from fingerprint to heap slot. A hit whose fingerprint is
 *     kept replaces that entry if it is better and is dropped otherwise, so
 *     k distinct hits come back whenever there are k, and the threshold
 *     (the worst of k distinct kept hits) stays a valid bound: a unit below
 *     it can neither start a new group in the top k nor better a kept one.
 *     Counts are of matches, duplicates included.
 */
#ifndef QUARRY_TOPK_H
#define QUARRY_TOPK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "index/reader.h"

typedef struct qk_hit {
    double score;       /* -INFINITY: a match only counted */
    uint32_t unit;      /* global */
    uint32_t article;   /* global */
    uint64_t date;      /* the article's date key (set when sorting by date or filtering) */
    uint64_t key;       /* the fingerprint (set when collapsing) */
} qk_hit;

typedef struct qk_opts {
    int articles;       /* 1: one hit per article (its best passage) */
    int count_all;      /* 1: never prune (exact counts) */
    int by_date;        /* 1: newest first, then by score */
    int collapse;       /* 1: one hit per fingerprint */
    int filter;         /* 1: only units of articles dated in [since, until] */
    uint64_t since, until;   /* date keys (since >= 1: undated articles, key 0, are out) */
} qk_opts;

typedef struct qk_slot {
    uint64_t key;
    uint32_t pos;       /* heap index */
    uint32_t used;
} qk_slot;

typedef struct qk_collector {
    qk_hit *v;          /* heap of k hits, the worst at v[0] */
    size_t n, k;
    qk_opts o;
    uint64_t matched;
    int pruned;         /* the threshold was used: matched is a lower bound */
    double theta;       /* current pruning threshold */
    qk_slot *map;       /* collapsing: fingerprint -> heap slot (open addressing) */
    size_t mask;        /* map size - 1 */
    /* the segment being collected */
    const qx_seg *seg;
    /* article mode: the article being collected */
    int have_cur;
    qk_hit cur;
    int corrupt;        /* a unit named an article out of range */
    int oom;
} qk_collector;

/* k = offset + hits wanted (0 allowed). Returns -1 when out of memory. */
int qk_init(qk_collector *c, size_t k, const qk_opts *o);
void qk_free(qk_collector *c);

/* Starts / ends collecting segment s (its units arrive in increasing order). */
void qk_segment(qk_collector *c, const qx_seg *s);
void qk_segment_end(qk_collector *c);

/* A match: local unit u of the current segment with this score (ignored
 * when the unit is deleted or its article is outside the date filter). */
void qk_collect(qk_collector *c, uint32_t u, double score);

/* The local article of unit u of the current segment (out of range in a
 * damaged file: check against narts). */
static inline uint32_t qk_article_of(const qk_collector *c, uint32_t u)
{
    const qx_seg *s = c->seg;
    return s->narts == s->nunits ? u : qx_unit_article(s, u);   /* one unit per article: itself */
}

/* What the date options say of local unit u before it is scored:
 * QK_OUT it is not a match (its article is outside the date filter, or
 * the unit is deleted); QK_OLD sorting by date, it is older than every
 * kept hit and cannot enter (only count it); QK_IN score it. */
enum { QK_OUT = 0, QK_OLD = 1, QK_IN = 2 };
static inline int qk_admit(const qk_collector *c, uint32_t u)
{
    if (!c->o.filter && !c->o.by_date)
        return QK_IN;
    const qx_seg *s = c->seg;
    uint32_t a = qk_article_of(c, u);
    if (a >= s->narts || qx_deleted(s, u))
        return QK_OUT;   /* qk_collect reports the damage */
    uint64_t d = qx_article_date(s, a);
    if (c->o.filter && (d < c->o.since || d > c->o.until))
        return QK_OUT;
    if (c->o.by_date && c->k && c->n == c->k && d < c->v[0].date)
        return QK_OLD;
    return QK_IN;
}

/* The score a new hit must beat to be kept at all, counted or not
 * (-INFINITY while counting exactly, and when sorting by date): the
 * pruning threshold. */
static inline double qk_threshold(const qk_collector *c) { return c->theta; }

/* The score a new hit must beat to enter the kept hits (-INFINITY while
 * fewer than k are kept, and when sorting by date). A match bounded below
 * it need not be scored: qk_count counts it. */
static inline double qk_enter(const qk_collector *c)
{
    return c->n == c->k && c->k && !c->o.by_date ? c->v[0].score : -INFINITY;
}

/* A match (local unit u) that cannot enter the kept hits: only counted. */
void qk_count(qk_collector *c, uint32_t u);

/* Sorts the kept hits best first; returns them and their number. */
qk_hit *qk_sorted(qk_collector *c, size_t *n);

/* a ranks before b in the collector's order (date first when sorting by
 * date, then the higher score, then the lower passage). */
int qk_before(const qk_opts *o, const qk_hit *a, const qk_hit *b);

#endif
