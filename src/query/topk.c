/*
 * topk.c — the collector of topk.h: a binary heap of the k best hits with
 * the worst on top, best passage per article, exact counting up to
 * QUARRY_COUNT_EXACT, the pruning threshold, the date filter and order,
 * and collapsing by fingerprint (a hash table from fingerprint to heap
 * slot, kept in step with every move of the heap).
 */
#include "query/topk.h"
#include "base/sys.h"

#include <stdlib.h>

int qk_before(const qk_opts *o, const qk_hit *a, const qk_hit *b)
{
    if (o->by_date && a->date != b->date)
        return a->date > b->date;
    return a->score > b->score || (a->score == b->score && a->unit < b->unit);
}

/* ------------------------------------------------------------ fingerprint map */

static inline size_t slot_of(const qk_collector *c, uint64_t key)
{
    key ^= key >> 31;
    key *= 0x9e3779b97f4a7c15ull;
    return (size_t)(key >> 17) & c->mask;
}

/* The slot holding key, or the empty slot where it would go. */
static qk_slot *map_find(qk_collector *c, uint64_t key)
{
    size_t i = slot_of(c, key);
    while (c->map[i].used && c->map[i].key != key)
        i = (i + 1) & c->mask;
    return &c->map[i];
}

/* Removes key (present) by backward shift: no tombstones. */
static void map_erase(qk_collector *c, uint64_t key)
{
    size_t i = (size_t)(map_find(c, key) - c->map);
    c->map[i].used = 0;
    for (size_t j = (i + 1) & c->mask; c->map[j].used; j = (j + 1) & c->mask) {
        size_t home = slot_of(c, c->map[j].key);
        /* j's entry may move to the hole i when its home is not in (i, j] */
        if (((j - home) & c->mask) >= ((j - i) & c->mask)) {
            c->map[i] = c->map[j];
            c->map[j].used = 0;
            i = j;
        }
    }
}

/* Grows the map to hold twice the heap's entries. 0, or -1 out of memory. */
static int map_reserve(qk_collector *c)
{
    if (c->map && (c->n + 1) * 2 <= c->mask + 1)
        return 0;
    size_t size = c->map ? (c->mask + 1) * 2 : 64;
    while (size < (c->n + 1) * 2)
        size *= 2;
    qk_slot *m = qcalloc(size, sizeof *m);
    if (!m)
        return -1;
    free(c->map);
    c->map = m;
    c->mask = size - 1;
    for (size_t i = 0; i < c->n; i++) {
        qk_slot *s = map_find(c, c->v[i].key);
        s->key = c->v[i].key;
        s->pos = (uint32_t)i;
        s->used = 1;
    }
    return 0;
}

/* ------------------------------------------------------------ heap */

static inline void place(qk_collector *c, size_t i, const qk_hit *h)
{
    c->v[i] = *h;
    if (c->o.collapse)
        map_find(c, h->key)->pos = (uint32_t)i;
}

static void sift_down(qk_collector *c, size_t i)
{
    qk_hit h = c->v[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const qk_hit *mv = &h;
        if (l < c->n && qk_before(&c->o, mv, &c->v[l]))
            m = l, mv = &c->v[l];
        if (r < c->n && qk_before(&c->o, mv, &c->v[r]))
            m = r;
        if (m == i)
            break;
        place(c, i, &c->v[m]);
        i = m;
    }
    place(c, i, &h);
}

static void sift_up(qk_collector *c, size_t i)
{
    qk_hit h = c->v[i];
    while (i && qk_before(&c->o, &c->v[(i - 1) / 2], &h)) {
        place(c, i, &c->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(c, i, &h);
}

static void update_theta(qk_collector *c)
{
    if (!c->o.count_all && !c->o.by_date && c->k && c->n == c->k && c->matched >= QUARRY_COUNT_EXACT) {
        c->theta = c->v[0].score;
        c->pruned = 1;
    }
}

/* 1 when h would be kept: a scored match (not one only counted) and the
 * heap has room or h comes before its worst. Otherwise h changes nothing,
 * not even a kept hit of its group (that hit comes before the worst or is
 * it, so before h): its fingerprint, a random read of a column, is then
 * never needed. */
static inline int kept(const qk_collector *c, const qk_hit *h)
{
    return c->k && h->score != -INFINITY && (c->n < c->k || qk_before(&c->o, h, &c->v[0]));
}

/* Keeps h, for which kept() holds (h->key set when collapsing). */
static void push(qk_collector *c, const qk_hit *h)
{
    if (c->o.collapse) {
        qk_slot *s = map_find(c, h->key);
        if (s->used) {   /* its group is kept: the better of the two stays */
            if (qk_before(&c->o, h, &c->v[s->pos])) {
                c->v[s->pos] = *h;
                sift_down(c, s->pos);   /* better: it moves away from the worst */
            }
            return;
        }
    }
    if (c->n < c->k) {
        if (c->o.collapse) {
            if (map_reserve(c)) {
                c->oom = 1;
                return;
            }
            qk_slot *s = map_find(c, h->key);
            s->key = h->key;
            s->used = 1;
        }
        c->v[c->n++] = *h;
        sift_up(c, c->n - 1);
    } else {   /* h replaces the worst */
        if (c->o.collapse) {
            map_erase(c, c->v[0].key);
            qk_slot *s = map_find(c, h->key);
            s->key = h->key;
            s->used = 1;
        }
        c->v[0] = *h;
        sift_down(c, 0);
    }
}

/* ------------------------------------------------------------ collecting */

int qk_init(qk_collector *c, size_t k, const qk_opts *o)
{
    memset(c, 0, sizeof *c);
    c->k = k;
    c->o = *o;
    c->theta = -INFINITY;
    c->v = qmalloc((k ? k : 1) * sizeof *c->v);
    if (!c->v || (o->collapse && map_reserve(c))) {
        qk_free(c);
        return -1;
    }
    return 0;
}

void qk_free(qk_collector *c)
{
    free(c->v);
    free(c->map);
    c->v = NULL;
    c->map = NULL;
}

void qk_segment(qk_collector *c, const qx_seg *s)
{
    c->seg = s;
    c->have_cur = 0;
}

static void flush_article(qk_collector *c)
{
    if (!c->have_cur)
        return;
    c->have_cur = 0;
    c->matched++;
    if (kept(c, &c->cur)) {
        if (c->o.collapse)
            c->cur.key = qx_article_fp(c->seg, c->cur.article - c->seg->art_base);
        push(c, &c->cur);
    }
    update_theta(c);
}

void qk_segment_end(qk_collector *c)
{
    if (c->o.articles)
        flush_article(c);
}

void qk_collect(qk_collector *c, uint32_t u, double score)
{
    const qx_seg *s = c->seg;
    if (qx_deleted(s, u))
        return;   /* every algorithm hands its matches here: deleted units stop */
    uint32_t a = qk_article_of(c, u);
    if (a >= s->narts) {
        c->corrupt = 1;
        return;
    }
    qk_hit h = { score, s->unit_base + u, s->art_base + a, 0, 0 };
    if (c->o.filter || c->o.by_date) {
        h.date = qx_article_date(s, a);
        if (c->o.filter && (h.date < c->o.since || h.date > c->o.until))
            return;   /* not a match: never counted, never kept */
    }
    if (!c->o.articles) {
        c->matched++;
        if (kept(c, &h)) {
            if (c->o.collapse)
                h.key = qx_unit_fp(s, u);
            push(c, &h);
        }
        update_theta(c);
        return;
    }
    if (c->have_cur && h.article < c->cur.article) {   /* units ascend, so do their articles: damage */
        c->corrupt = 1;
        return;
    }
    if (c->have_cur && c->cur.article == h.article) {
        if (score > c->cur.score)   /* units ascend: ties keep the first passage */
            c->cur = h;
        return;
    }
    flush_article(c);
    c->cur = h;
    c->have_cur = 1;
}

void qk_count(qk_collector *c, uint32_t u)
{
    qk_collect(c, u, -INFINITY);   /* counted, never kept */
}

qk_hit *qk_sorted(qk_collector *c, size_t *n)
{
    /* heapsort: the worst goes to the end, one at a time (the map is no
     * longer needed) */
    size_t total = c->n;
    int collapse = c->o.collapse;
    c->o.collapse = 0;
    while (c->n > 1) {
        qk_hit t = c->v[0];
        c->v[0] = c->v[c->n - 1];
        c->v[c->n - 1] = t;
        c->n--;
        sift_down(c, 0);
    }
    c->n = total;
    c->o.collapse = collapse;
    *n = total;
    return c->v;
}
