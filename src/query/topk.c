/*
 * topk.c — the collector of topk.h: a binary heap of the k best hits with
 * the worst on top, best passage per article, exact counting up to
 * QUARRY_COUNT_EXACT, and the pruning threshold.
 */
#include "query/topk.h"
#include "base/sys.h"

#include <stdlib.h>

/* a is better than b: higher score, then lower unit */
static inline int better(const qk_hit *a, const qk_hit *b)
{
    return a->score > b->score || (a->score == b->score && a->unit < b->unit);
}

static void sift_down(qk_collector *c, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->n && better(&c->v[m], &c->v[l]))
            m = l;
        if (r < c->n && better(&c->v[m], &c->v[r]))
            m = r;
        if (m == i)
            return;
        qk_hit t = c->v[i];
        c->v[i] = c->v[m];
        c->v[m] = t;
        i = m;
    }
}

static void update_theta(qk_collector *c)
{
    if (!c->count_all && c->k && c->n == c->k && c->matched >= QUARRY_COUNT_EXACT) {
        c->theta = c->v[0].score;
        c->pruned = 1;
    }
}

static void push(qk_collector *c, const qk_hit *h)
{
    if (c->k == 0)
        return;
    if (c->n < c->k) {
        size_t i = c->n++;
        c->v[i] = *h;
        while (i && better(&c->v[(i - 1) / 2], &c->v[i])) {
            qk_hit t = c->v[i];
            c->v[i] = c->v[(i - 1) / 2];
            c->v[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (better(h, &c->v[0])) {
        c->v[0] = *h;
        sift_down(c, 0);
    }
}

int qk_init(qk_collector *c, size_t k, int articles, int count_all)
{
    memset(c, 0, sizeof *c);
    c->k = k;
    c->articles = articles;
    c->count_all = count_all;
    c->theta = -INFINITY;
    c->v = qmalloc((k ? k : 1) * sizeof *c->v);
    return c->v ? 0 : -1;
}

void qk_free(qk_collector *c)
{
    free(c->v);
    c->v = NULL;
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
    push(c, &c->cur);
    update_theta(c);
}

void qk_segment_end(qk_collector *c)
{
    if (c->articles)
        flush_article(c);
}

void qk_collect(qk_collector *c, uint32_t u, double score)
{
    const qx_seg *s = c->seg;
    if (qx_deleted(s, u))
        return;   /* every algorithm hands its matches here: deleted units stop */
    uint32_t a = s->narts == s->nunits ? u : qx_unit_article(s, u);   /* one unit per article: itself */
    if (a >= s->narts) {
        c->corrupt = 1;
        return;
    }
    qk_hit h = { score, s->unit_base + u, s->art_base + a };
    if (!c->articles) {
        c->matched++;
        push(c, &h);
        update_theta(c);
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
    qk_collect(c, u, -INFINITY);   /* never better than a kept hit */
}

static int cmp_hit(const void *a, const void *b)
{
    const qk_hit *x = a, *y = b;
    return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

qk_hit *qk_sorted(qk_collector *c, size_t *n)
{
    qsort(c->v, c->n, sizeof *c->v, cmp_hit);
    *n = c->n;
    return c->v;
}
