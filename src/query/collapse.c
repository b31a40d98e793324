/*
 * collapse.c — the duplicates of collapsed hits (qdup_find, search.h).
 *
 * The collector (topk.h) keeps one hit per fingerprint; the others of its
 * group were never scored, or were dropped, or were pruned. Once the hits
 * are known, their groups are found again: the fingerprint column of each
 * segment (the articles' in article mode, the units' in passage mode;
 * FORMAT.md §unit, §arts) is scanned for the hits' fingerprints (a small
 * hash set), and each unit (or each passage of each article) found is
 * checked against the query with the scorer tree bound to its segment, in
 * increasing order, as the search checks it: a duplicate is a match with
 * the same fingerprint, live and in the date range, scored exactly as the
 * search would score it. The scan reads 8 bytes per article or unit of the
 * index; only the segments that hold a duplicate are bound.
 */
#include <stdlib.h>

#include "base/sys.h"
#include "query/search.h"

#define SCAN_AHEAD 2048   /* bytes of a fingerprint column prefetched ahead of the scan */

typedef struct keyset {
    uint64_t *key;
    uint32_t *hit;     /* the hit of each key */
    uint8_t *used;
    size_t mask;
} keyset;

static inline size_t ks_slot(const keyset *s, uint64_t key)
{
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9ull;
    return (size_t)(key >> 20) & s->mask;
}

/* The hit with fingerprint key, or -1. */
static inline int64_t ks_get(const keyset *s, uint64_t key)
{
    for (size_t i = ks_slot(s, key); s->used[i]; i = (i + 1) & s->mask)
        if (s->key[i] == key)
            return s->hit[i];
    return -1;
}

typedef struct found {
    uint32_t local;    /* local unit (passage mode) or article (article mode) */
    uint32_t hit;
} found;

typedef struct dupv {
    qk_hit *v;
    uint32_t *hit;
    size_t n, cap, cap_hit;
} dupv;

static int dupv_add(dupv *d, const qk_hit *h, uint32_t hit)
{
    if (qgrow((void **)&d->v, &d->cap, d->n, sizeof *d->v) ||
        qgrow((void **)&d->hit, &d->cap_hit, d->n, sizeof *d->hit))
        return -1;
    d->v[d->n] = *h;
    d->hit[d->n++] = hit;
    return 0;
}

/* Appends to c (nc entries, room for cap) the entries of fingerprint
 * column col (n × u64, inside m) that are a hit's key, but not the hit
 * itself (entry base + i the hit's article, or its unit): (entry, hit).
 * bits has a bit per value of the keys' top 12 bits (the fingerprints
 * come out of a multiply, so their top bits are mixed: FORMAT.md §unit),
 * so the hash set is looked up for about 1 entry in 400 when 10 hits are
 * collapsed; the column is mapped in one call and read ahead. 0, or -1
 * out of memory. */
static int scan(const qf_map *m, const uint8_t *col, uint64_t n, const uint64_t *bits, const keyset *ks,
                const qk_hit *v, int articles, uint64_t base, found **c, size_t *nc, size_t *cap)
{
    qf_map_populate(m, col, 8 * (size_t)n);
    for (uint64_t i = 0; i < n; i++) {
        if (i % 8 == 0 && i + SCAN_AHEAD / 8 < n)
            __builtin_prefetch(col + 8 * (i + SCAN_AHEAD / 8));
        uint64_t f = qload_u64(col + 8 * i);
        if (!(bits[f >> 58] >> (f >> 52 & 63) & 1))
            continue;
        int64_t h = ks_get(ks, f);
        if (h < 0 || (articles ? v[h].article : v[h].unit) == base + i)
            continue;
        if (qgrow((void **)c, cap, *nc, sizeof **c))
            return -1;
        (*c)[(*nc)++] = (found){ (uint32_t)i, (uint32_t)h };
    }
    return 0;
}

/* The matches among the candidates of segment si (ascending). */
static int check_segment(quarry_index *ix, qt_tree *t, qn_ctx *x, const qk_opts *ko, size_t si, const found *c,
                         size_t nc, const qk_hit *v, dupv *out, quarry_error *err)
{
    const qx_seg *s = &ix->seg[si];
    int rc = qt_bind(t, ix, si, x, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < nc && !x->corrupt && !x->oom; i++) {
        uint32_t first, count, a;
        const qk_hit *h = &v[c[i].hit];
        if (ko->articles) {
            qx_artrec rec;
            if ((rc = qx_article(s, c[i].local, &rec, err)))
                return rc;
            a = c[i].local;
            first = rec.first_unit;
            count = rec.nunits;
        } else {
            a = qx_unit_article(s, c[i].local);
            if (a >= s->narts)
                return qx_bad(s, &s->unit, 0, "a unit names an article out of range", err);
            first = c[i].local;
            count = 1;
        }
        uint64_t date = ko->filter || ko->by_date ? qx_article_date(s, a) : 0;
        if (ko->filter && (date < ko->since || date > ko->until))
            continue;
        int any = 0;
        qk_hit best = { 0, 0, s->art_base + a, date, h->key };
        for (uint32_t u = first; u < first + count; u++) {
            double sc = 0;
            if (qx_deleted(s, u) || !qn_score(x, t->root, u, &sc))
                continue;
            if (!any || sc > best.score) {   /* units ascend: ties keep the first passage */
                best.score = sc;
                best.unit = s->unit_base + u;
            }
            any = 1;
        }
        if (any && dupv_add(out, &best, c[i].hit))
            return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    if (x->oom)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    if (x->corrupt || qt_corrupt(t))
        return qx_bad(s, &s->post, 0, "damaged postings met while looking for duplicates", err);
    return 0;
}

/* The collector's orders (qk_before), as qsort comparators. */
static int by_score(const void *a, const void *b)
{
    const qk_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->unit < y->unit ? -1 : x->unit > y->unit;
}

static int by_date(const void *a, const void *b)
{
    const qk_hit *x = a, *y = b;
    if (x->date != y->date)
        return x->date > y->date ? -1 : 1;
    return by_score(a, b);
}

int qdup_find(quarry_index *ix, qt_tree *t, qn_ctx *x, const qk_opts *ko, const qk_hit *v, size_t n,
              qk_hit **dups, size_t *first, quarry_error *err)
{
    keyset ks = { 0 };
    size_t size = 16;
    while (size < 4 * n)
        size *= 2;
    ks.mask = size - 1;
    ks.key = qmalloc(size * sizeof *ks.key);
    ks.hit = qmalloc(size * sizeof *ks.hit);
    ks.used = qcalloc(size, 1);
    found *c = NULL;
    size_t nc = 0, cap = 0;
    dupv d = { 0 };
    int rc = 0;
    if (!ks.key || !ks.hit || !ks.used) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = ks_slot(&ks, v[i].key);
        while (ks.used[j])
            j = (j + 1) & ks.mask;
        ks.used[j] = 1;
        ks.key[j] = v[i].key;
        ks.hit[j] = (uint32_t)i;
    }
    uint64_t bits[64] = { 0 };
    for (size_t i = 0; i < n; i++)
        bits[v[i].key >> 58] |= 1ull << (v[i].key >> 52 & 63);
    for (size_t si = 0; si < ix->nseg && !rc; si++) {
        const qx_seg *s = &ix->seg[si];
        nc = 0;
        if (ko->articles ? scan(&s->arts, s->art_fps, s->narts, bits, &ks, v, 1, s->art_base, &c, &nc, &cap)
                         : scan(&s->unit, s->ufp, s->nunits, bits, &ks, v, 0, s->unit_base, &c, &nc, &cap))
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        if (!rc && nc)
            rc = check_segment(ix, t, x, ko, si, c, nc, v, &d, err);
    }
    if (rc)
        goto done;
    /* group by hit (a counting sort), each group in the collector's order */
    for (size_t i = 0; i <= n; i++)
        first[i] = 0;
    for (size_t i = 0; i < d.n; i++)
        first[d.hit[i] + 1]++;
    for (size_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    qk_hit *g = qmalloc((d.n ? d.n : 1) * sizeof *g);
    size_t *at = qmalloc((n ? n : 1) * sizeof *at);
    if (!g || !at) {
        free(g);
        free(at);
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(at, first, n * sizeof *at);
    for (size_t i = 0; i < d.n; i++)
        g[at[d.hit[i]]++] = d.v[i];
    free(at);
    for (size_t h = 0; h < n; h++)
        qsort(g + first[h], first[h + 1] - first[h], sizeof *g, ko->by_date ? by_date : by_score);
    *dups = g;
done:
    free(ks.key);
    free(ks.hit);
    free(ks.used);
    free(c);
    free(d.v);
    free(d.hit);
    return rc;
}
