/*
 * collapse.c — the duplicates of collapsed hits (qdup_find, search.h).
 *
 * The collector (topk.h) keeps one hit per fingerprint; the others of its
 * group were never scored, or were dropped, or were pruned. Once the hits
 * are known, their groups are found again in each segment's fingerprint
 * index (the articles' in article mode, the units' in passage mode;
 * FORMAT.md §arts, §unit): a few reads per hit find the entries with its
 * fingerprint, each naming a unit (or an article's units) to check against
 * the query with the scorer tree bound to its segment, in increasing
 * order, as the search checks it: a duplicate is a match with the same
 * fingerprint, live and in the date range, scored exactly as the search
 * would score it. Only the segments that hold a duplicate are bound.
 */
#include <stdlib.h>

#include "base/sys.h"
#include "query/search.h"

typedef struct found {
    uint32_t art;      /* local article */
    uint32_t first, count;   /* its units to check: the unit (passage mode) or all of the article's */
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

static int by_first(const void *a, const void *b)
{
    const found *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Appends to c (nc entries, room for cap) the entries of segment s's
 * fingerprint index with the key of hit h (v[h]) that are not the hit
 * itself; bounds checked. 0, or an error code. */
static int lookup(const qx_seg *s, int articles, const qk_hit *v, uint32_t h, found **c, size_t *nc, size_t *cap,
                  quarry_error *err)
{
    uint64_t n = articles ? s->narts : s->nunits, key = v[h].key;
    uint64_t i = articles ? qx_lower_bound(s->afpix, n, QF_AFP_ENTRY, key) : qx_lower_bound(s->ufpix, n, QF_UFP_ENTRY, key);
    for (; i < n; i++) {
        qx_fpent e = qx_fp_entry(s, !articles, i);
        if (e.fp != key)
            break;
        if (!qx_fp_entry_ok(s, &e))
            return qx_bad(s, articles ? &s->arts : &s->unit, qx_fp_entry_at(s, !articles, i),
                          "fingerprint index names no unit or article", err);
        if ((articles ? s->art_base + e.art : s->unit_base + e.first) == (articles ? v[h].article : v[h].unit))
            continue;
        if (qgrow((void **)c, cap, *nc, sizeof **c))
            return qerr_set(err, QUARRY_ENOMEM, "out of memory");
        (*c)[(*nc)++] = (found){ e.art, e.first, e.count, h };
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
        if (i && c[i].first == c[i - 1].first)
            continue;   /* (a damaged index naming a unit twice) */
        const qk_hit *h = &v[c[i].hit];
        uint64_t date = ko->filter || ko->by_date ? qx_article_date(s, c[i].art) : 0;
        if (ko->filter && (date < ko->since || date > ko->until))
            continue;
        int any = 0;
        qk_hit best = { 0, 0, s->art_base + c[i].art, date, h->key };
        for (uint32_t u = c[i].first; u < c[i].first + c[i].count; u++) {
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
    found *c = NULL;
    size_t nc = 0, cap = 0;
    dupv d = { 0 };
    int rc = 0;
    for (size_t si = 0; si < ix->nseg && !rc; si++) {
        nc = 0;
        for (size_t h = 0; h < n && !rc; h++)
            rc = lookup(&ix->seg[si], ko->articles, v, (uint32_t)h, &c, &nc, &cap, err);
        if (!rc && nc) {
            qsort(c, nc, sizeof *c, by_first);
            rc = check_segment(ix, t, x, ko, si, c, nc, v, &d, err);
        }
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
    free(c);
    free(d.v);
    free(d.hit);
    return rc;
}
