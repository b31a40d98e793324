/*
 * segmerge.c — merging adjacent segments into one (see segmerge.h): the
 * live units and articles renumbered in order, their text recompressed,
 * the dictionaries merged term by term with the postings of every source
 * in order (deleted units dropped, positions copied), impacts and
 * statistics recomputed by the postings writer; then a commit that puts
 * the new segment in its sources' place. The sources' checksums are
 * checked first (a merge reads everything anyway, and must not spread
 * damage into a new segment with a valid checksum).
 */
#include "index/segmerge.h"
#include "base/sys.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "index/textw.h"
#include "index/manifest.h"
#include "index/postw.h"
#include "index/reader.h"
#include "index/unitw.h"

/* A source segment. Its live units (articles) take the merged numbers
 * from unit_base (art_base) on, in order; with deletions, a merged number
 * is the base plus a rank: live ones before it, counted per 64 in
 * unit_rank / art_rank and within the 64 by popcount. Memory: a quarter of
 * a byte per document, nothing without deletions. */
typedef struct src {
    const qx_seg *s;
    uint32_t unit_base, art_base;
    uint32_t *unit_rank;  /* per 64 units: live ones before them (NULL: none deleted) */
    uint64_t *art_live;   /* bit a % 64 of word a / 64: article a is live */
    uint32_t *art_rank;   /* per 64 articles: live ones before them */
} src;

typedef struct merger {
    quarry_index *ix;
    const char *dir;
    src *v;
    size_t n;
    qf_map new_unit;      /* the merged .unit file once written: its lengths for the postings */
    uint32_t nunits, narts;
    uint64_t tokens;
    size_t release_bytes;   /* drop the sources' pages after reading about this much */
    size_t since;           /* bytes read since the last release (an estimate) */
    size_t nparts;          /* the postings are merged in this many parts (threads) */
    quarry_error *err;
} merger;

static void free_srcs(merger *m)
{
    for (size_t i = 0; m->v && i < m->n; i++) {
        free(m->v[i].unit_rank);
        free(m->v[i].art_live);
        free(m->v[i].art_rank);
    }
    free(m->v);
    qf_map_close(&m->new_unit);
}

/* Word w of segment s's deletion bitmap (bit set: unit deleted), bits past
 * its units 0. */
static uint64_t del_word(const qx_seg *s, uint64_t w)
{
    uint64_t v = 0, bytes = ((uint64_t)s->nunits + 7) / 8;
    for (uint64_t k = 0; k < 8 && 8 * w + k < bytes; k++)
        v |= (uint64_t)s->delbits[8 * w + k] << (8 * k);
    return v;
}

static inline uint64_t below(uint32_t i) { return (i % 64) ? ~0ull >> (64 - i % 64) : 0; }

/* The merged number of source x's unit u, UINT32_MAX when it is deleted. */
static inline uint32_t map_unit(const src *x, uint32_t u)
{
    if (!x->unit_rank)
        return x->unit_base + u;
    uint64_t dead = del_word(x->s, u / 64);
    if ((dead >> (u % 64)) & 1)
        return UINT32_MAX;
    return x->unit_base + x->unit_rank[u / 64] + (uint32_t)__builtin_popcountll(~dead & below(u));
}

/* The merged number of source x's article a, UINT32_MAX when it is deleted. */
static inline uint32_t map_art(const src *x, uint32_t a)
{
    if (!x->art_live)
        return x->art_base + a;
    uint64_t live = x->art_live[a / 64];
    if (!((live >> (a % 64)) & 1))
        return UINT32_MAX;
    return x->art_base + x->art_rank[a / 64] + (uint32_t)__builtin_popcountll(live & below(a));
}

/* Drops the sources' pages read so far from memory (FORMAT-independent:
 * every file of every source): the merge reads them once, mostly in order,
 * and must stay within its budget whatever their size. */
static void release(const merger *m)
{
    for (size_t i = 0; i < m->n; i++)
        qx_seg_release(m->v[i].s);
    qf_map_release(&m->new_unit);
}

/* Counts `bytes` of the sources as read into *since; past `limit`, drops
 * them from memory (every thread of a merge counts its own reads). */
static void counted(const merger *m, size_t *since, size_t limit, size_t bytes)
{
    *since += bytes;
    if (*since >= limit) {
        release(m);
        *since = 0;
    }
}

static void touched(merger *m, size_t bytes)
{
    counted(m, &m->since, m->release_bytes, bytes);
}

/* The numbering of the merged segment: live units and articles in order
 * (the ranks of the sources with deletions), and its token count. */
static int number(merger *m)
{
    uint64_t units = 0, arts = 0;
    for (size_t i = 0; i < m->n; i++) {
        src *x = &m->v[i];
        const qx_seg *s = x->s;
        if (units + s->nunits - s->del_units >= UINT32_MAX || arts + s->narts >= UINT32_MAX)
            return qerr_set(m->err, QUARRY_ELIMIT, "a merged segment would hold more than 2^32 - 1 passages");
        x->unit_base = (uint32_t)units;
        x->art_base = (uint32_t)arts;
        uint64_t live_units = s->nunits - s->del_units, live_arts = s->narts;
        if (s->delbits && s->del_units) {
            uint64_t nw = ((uint64_t)s->nunits + 63) / 64, aw = ((uint64_t)s->narts + 63) / 64;
            x->unit_rank = qmalloc((nw ? nw : 1) * sizeof *x->unit_rank);
            x->art_live = qcalloc(aw ? aw : 1, sizeof *x->art_live);
            x->art_rank = qmalloc((aw ? aw : 1) * sizeof *x->art_rank);
            if (!x->unit_rank || !x->art_live || !x->art_rank)
                return qerr_set(m->err, QUARRY_ENOMEM, "out of memory");
            uint32_t r = 0;
            for (uint64_t w = 0; w < nw; w++) {
                x->unit_rank[w] = r;
                uint64_t live = ~del_word(s, w);
                if (w == nw - 1 && s->nunits % 64)
                    live &= ~0ull >> (64 - s->nunits % 64);
                r += (uint32_t)__builtin_popcountll(live);
            }
            if (r != live_units)
                return qx_bad(s, &s->del, QF_HEADER, "deleted count disagrees with the bitmap", m->err);
            live_arts = 0;
            for (uint32_t a = 0; a < s->narts; a++) {
                qx_artrec rec;
                int rc = qx_article(s, a, &rec, m->err);
                if (rc)
                    return rc;
                int dead = qx_deleted(s, rec.first_unit);
                for (uint32_t u = rec.first_unit; u < rec.first_unit + rec.nunits; u++)
                    if (qx_deleted(s, u) != dead)
                        return qx_bad(s, &s->del, QF_HEADER, "an article only partly deleted", m->err);
                if (!dead) {
                    x->art_live[a / 64] |= 1ull << (a % 64);
                    live_arts++;
                }
                touched(m, 16 + rec.id_len + rec.title_len + rec.date_len);
            }
            for (uint64_t w = 0, r2 = 0; w < aw; w++) {
                x->art_rank[w] = (uint32_t)r2;
                r2 += (uint64_t)__builtin_popcountll(x->art_live[w]);
            }
        }
        for (uint32_t u = 0; u < s->nunits; u++)   /* the tokens of the live units */
            if (map_unit(x, u) != UINT32_MAX)
                m->tokens += qx_unit_len(s, u);
        touched(m, 4 * (size_t)s->nunits);
        units += live_units;
        arts += live_arts;
    }
    m->nunits = (uint32_t)units;
    m->narts = (uint32_t)arts;
    release(m);
    return 0;
}

/* Source i's next live entry of its units' (units set) or articles'
 * fingerprint index, from pos[i] on, renumbered into e[i] (pos[i] = the
 * table's length when none is left): 0, or an error code when an entry
 * names a unit or article out of range. */
static int next_fp(const merger *m, int units, size_t i, uint64_t *pos, qx_fpent *e)
{
    const src *x = &m->v[i];
    const qx_seg *s = x->s;
    uint64_t n = units ? s->nunits : s->narts;
    for (; pos[i] < n; pos[i]++) {
        qx_fpent f = qx_fp_entry(s, units, pos[i]);
        if (!qx_fp_entry_ok(s, &f))
            return qx_bad(s, units ? &s->unit : &s->arts, qx_fp_entry_at(s, units, pos[i]),
                          "fingerprint index names no unit or article", m->err);
        uint32_t mapped = units ? map_unit(x, f.num) : map_art(x, f.num);
        if (mapped != UINT32_MAX) {
            uint32_t art = units ? map_art(x, f.art) : mapped, first = units ? mapped : map_unit(x, f.first);
            e[i] = (qx_fpent){ f.fp, mapped, art, first, f.count };
            return 0;
        }
    }
    return 0;
}

/* The sources' fingerprint indexes (of units or articles) merged into f:
 * each source's live entries in order (the renumbering is increasing, and
 * a source's numbers are below the next one's, so that ties on the
 * fingerprint go to the first source). */
static int merge_fp(merger *m, int units, qf_writer *f)
{
    uint64_t *pos = qcalloc(m->n, sizeof *pos);
    qx_fpent *e = qcalloc(m->n, sizeof *e);
    int rc = pos && e ? 0 : qerr_set(m->err, QUARRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n && !rc; i++)
        rc = next_fp(m, units, i, pos, e);
    while (!rc) {
        size_t best = m->n;
        for (size_t i = 0; i < m->n; i++)
            if (pos[i] < (units ? m->v[i].s->nunits : m->v[i].s->narts) && (best == m->n || e[i].fp < e[best].fp))
                best = i;
        if (best == m->n)
            break;
        qf_put_u64(f, e[best].fp);
        qf_put_u32(f, e[best].num);
        qf_put_u32(f, units ? e[best].art : e[best].first);
        if (!units)
            qf_put_u32(f, e[best].count);
        pos[best]++;
        rc = next_fp(m, units, best, pos, e);
        touched(m, units ? QF_UFP_ENTRY : QF_AFP_ENTRY);
    }
    free(pos);
    free(e);
    return rc;
}

static int merge_unit_fp(void *ctx, qf_writer *f) { return merge_fp(ctx, 1, f); }

/* .unit and .text: the live units, in order. */
static int write_units(merger *m, uint64_t id, qm_segment *g)
{
    qu_writer u;
    qtw_writer t;
    int rc = qu_open(&u, m->dir, id, m->err);
    if (rc)
        return rc;
    if ((rc = qtw_open(&t, m->dir, id, m->err))) {
        qu_abort(&u);
        return rc;
    }
    qbuf text;
    qbuf_init(&text);
    for (size_t i = 0; i < m->n && !rc; i++) {
        const src *x = &m->v[i];
        for (uint32_t k = 0; k < x->s->nunits; k++)
            if (map_unit(x, k) != UINT32_MAX)
                qu_add(&u, qx_unit_len(x->s, k), map_art(x, qx_unit_article(x->s, k)), qx_unit_body(x->s, k),
                       qx_unit_fp(x->s, k));
        /* the text: a block without deleted units is copied as it is (the
         * sources' checksums were checked), the others recompressed */
        for (uint64_t b = 0; b < x->s->ntblocks && !rc; b++) {
            qx_tblock tb;
            if ((rc = qx_text_block(x->s, b, &tb, m->err)))
                break;
            uint32_t live = 0;
            for (uint32_t k = tb.first; k < tb.first + tb.count; k++)
                live += map_unit(x, k) != UINT32_MAX;
            touched(m, tb.clen + 21 * (size_t)tb.count);
            if (live == tb.count) {
                if (qtw_add_block(&t, tb.z, tb.clen, tb.ulen, tb.count))
                    rc = qerr_set(m->err, QUARRY_ENOMEM, "out of memory");
                continue;
            }
            for (uint32_t k = tb.first; k < tb.first + tb.count && !rc && live; k++) {
                if (map_unit(x, k) == UINT32_MAX)
                    continue;
                qbuf_reset(&text);
                if (!(rc = qx_unit_text(m->ix, x->s, k, &text, m->err)) &&
                    qtw_add(&t, (const char *)text.p, text.len))
                    rc = qerr_set(m->err, QUARRY_ENOMEM, "out of memory");
            }
        }
        release(m);
    }
    qbuf_free(&text);
    uint64_t size;
    uint32_t crc;
    if (rc || (rc = qu_finish(&u, m->dir, id, merge_unit_fp, m, &size, &crc, m->err))) {
        qu_abort(&u);
        qtw_abort(&t);
        return rc;
    }
    qm_seg_name(g->files[4].name, id, QF_UNIT);
    g->files[4].size = size;
    g->files[4].crc = crc;
    if ((rc = qtw_finish(&t, &size, &crc, m->err)))
        return rc;
    qm_seg_name(g->files[6].name, id, QF_TEXT);
    g->files[6].size = size;
    g->files[6].crc = crc;
    return 0;
}

/* Source i's next live article in its id order, from pos[i] on, into
 * cur[i] (cur[i].id NULL when there is none). */
static int next_id(const merger *m, size_t i, uint64_t *pos, qx_artrec *cur)
{
    const src *x = &m->v[i];
    while (pos[i] < x->s->narts && map_art(x, qload_u32(x->s->art_order + 4 * pos[i])) == UINT32_MAX)
        pos[i]++;
    if (pos[i] >= x->s->narts) {
        memset(&cur[i], 0, sizeof cur[i]);
        return 0;
    }
    return qx_article(x->s, qload_u32(x->s->art_order + 4 * pos[i]), &cur[i], m->err);
}

/* Source i's next live entry of its id hash table, from pos[i] on,
 * renumbered into hv[i] (pos[i] = its narts when none is left): 0, or an
 * error code when an entry names no article. */
static int next_hash(const merger *m, size_t i, uint64_t *pos, uint64_t *hv)
{
    const src *x = &m->v[i];
    for (; pos[i] < x->s->narts; pos[i]++) {
        uint64_t e = qx_id_hash_entry(x->s, pos[i]);
        if ((uint32_t)e >= x->s->narts)
            return qx_bad(x->s, &x->s->arts, x->s->art_hashes - x->s->arts.base + 8 * pos[i],
                          "id hash table names no article", m->err);
        uint32_t a = map_art(x, (uint32_t)e);
        if (a != UINT32_MAX) {
            hv[i] = (e & ~(uint64_t)UINT32_MAX) | a;
            return 0;
        }
    }
    return 0;
}

/* .arts: the live articles' records (first unit renumbered), then offsets,
 * the id order (the sources' sorted orders merged), dates, fingerprints,
 * the id hash table and the fingerprint index (the sources' merged). */
static int write_arts(merger *m, uint64_t id, qm_segment *g)
{
    qf_writer f;
    char name[QM_NAME];
    qm_seg_name(name, id, QF_ARTS);
    int rc = qf_create(&f, m->dir, name, QF_ARTS, m->err);
    if (rc)
        return rc;
    uint64_t *pos = qcalloc(m->n, sizeof *pos);   /* each source's place in its id order */
    qx_artrec *cur = qcalloc(m->n, sizeof *cur);
    qbuf rec;
    qbuf_init(&rec);
    if (!pos || !cur) {
        rc = qerr_set(m->err, QUARRY_ENOMEM, "out of memory");
        goto done;
    }
    uint32_t na = 0, nu = 0;
    uint64_t recs_at = f.off;
    for (size_t i = 0; i < m->n && !rc; i++) {
        const src *x = &m->v[i];
        for (uint32_t a = 0; a < x->s->narts && !rc; a++) {
            if (map_art(x, a) == UINT32_MAX)
                continue;
            qx_artrec r;
            if ((rc = qx_article(x->s, a, &r, m->err)))
                break;
            na++;
            touched(m, 16 + r.id_len + r.title_len + r.date_len);
            qbuf_reset(&rec);
            qbuf_put_u32(&rec, nu);
            qbuf_put_u32(&rec, r.nunits);
            qbuf_put_varint(&rec, r.id_len);
            qbuf_append(&rec, r.id, r.id_len);
            qbuf_putc(&rec, 0);
            qbuf_put_varint(&rec, r.title_len);
            qbuf_append(&rec, r.title, r.title_len);
            qbuf_putc(&rec, 0);
            qbuf_put_varint(&rec, r.date_len);
            qbuf_append(&rec, r.date, r.date_len);
            qbuf_putc(&rec, 0);
            if (rec.oom) {
                rc = qerr_set(m->err, QUARRY_ENOMEM, "out of memory");
                break;
            }
            qf_write_buf(&f, &rec);
            nu += r.nunits;
        }
    }
    if (rc)
        goto done;
    /* the records' offsets: their sizes again (nothing kept per article) */
    uint64_t offs_at = f.off, off = recs_at;
    for (size_t i = 0; i < m->n && !rc; i++) {
        const src *x = &m->v[i];
        for (uint32_t a = 0; a < x->s->narts && !rc; a++) {
            qx_artrec r;
            if (map_art(x, a) == UINT32_MAX || (rc = qx_article(x->s, a, &r, m->err)))
                continue;
            qf_put_u64(&f, off);
            off += 8 + qvarint_len(r.id_len) + r.id_len + 1 + qvarint_len(r.title_len) + r.title_len + 1 +
                   qvarint_len(r.date_len) + r.date_len + 1;
            touched(m, 16 + r.id_len + r.title_len + r.date_len);
        }
    }
    if (!rc && off != offs_at)
        rc = qerr_set(m->err, QUARRY_ECORRUPT, "%s: merged article records do not add up (%llu != %llu)", m->dir,
                      (unsigned long long)off, (unsigned long long)offs_at);
    if (rc)
        goto done;
    qf_put_u64(&f, offs_at);
    uint64_t order_at = f.off;
    /* the sources' id orders merged: each source's next live id is kept
     * (cur[i], or none when it has no more) and compared with the others' */
    for (size_t i = 0; i < m->n && !rc; i++)
        rc = next_id(m, i, pos, cur);
    while (!rc) {
        size_t best = m->n;
        for (size_t i = 0; i < m->n; i++)
            if (cur[i].id && (best == m->n || memcmp(cur[i].id, cur[best].id,
                                                      (cur[i].id_len < cur[best].id_len ? cur[i].id_len
                                                                                        : cur[best].id_len) + 1) < 0))
                best = i;
        if (best == m->n)
            break;
        const src *x = &m->v[best];
        qf_put_u32(&f, map_art(x, qload_u32(x->s->art_order + 4 * pos[best]++)));
        rc = next_id(m, best, pos, cur);
        touched(m, 4096);   /* ids are read out of order: a page each, at worst */
    }
    if (rc)
        goto done;
    release(m);
    uint64_t dates_at = f.off;
    for (size_t i = 0; i < m->n; i++)
        for (uint32_t a = 0; a < m->v[i].s->narts; a++)
            if (map_art(&m->v[i], a) != UINT32_MAX)
                qf_put_u64(&f, qx_article_date(m->v[i].s, a));
    uint64_t fps_at = f.off;
    for (size_t i = 0; i < m->n; i++)
        for (uint32_t a = 0; a < m->v[i].s->narts; a++)
            if (map_art(&m->v[i], a) != UINT32_MAX)
                qf_put_u64(&f, qx_article_fp(m->v[i].s, a));
    /* the id hash tables merged: each source's entries in order (its live
     * articles renumbered keep it: the renumbering is increasing) */
    uint64_t hashes_at = f.off;
    uint64_t *hv = qcalloc(m->n, sizeof *hv);
    if (!hv) {
        rc = qerr_set(m->err, QUARRY_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m->n; i++)
        pos[i] = 0;
    for (size_t i = 0; i < m->n && !rc; i++)
        rc = next_hash(m, i, pos, hv);
    while (!rc) {
        size_t best = m->n;
        for (size_t i = 0; i < m->n; i++)
            if (pos[i] < m->v[i].s->narts && (best == m->n || hv[i] < hv[best]))
                best = i;
        if (best == m->n)
            break;
        qf_put_u64(&f, hv[best]);
        pos[best]++;
        rc = next_hash(m, best, pos, hv);
        touched(m, 8);
    }
    free(hv);
    uint64_t fpix_at = f.off;
    if (rc || (rc = merge_fp(m, 0, &f)))
        goto done;
    qf_put_u64(&f, na);
    qf_put_u64(&f, offs_at);
    qf_put_u64(&f, order_at);
    qf_put_u64(&f, dates_at);
    qf_put_u64(&f, fps_at);
    qf_put_u64(&f, hashes_at);
    qf_put_u64(&f, fpix_at);
    uint64_t size;
    uint32_t crc;
    if ((rc = qf_finish(&f, &size, &crc, m->err)) == 0) {
        snprintf(g->files[5].name, sizeof g->files[5].name, "%s", name);
        g->files[5].size = size;
        g->files[5].crc = crc;
    }
done:
    if (rc)
        qf_abort(&f);
    free(pos);
    free(cur);
    qbuf_free(&rec);
    return rc;
}

static int cmp_term(const qx_dict_iter *a, const qx_dict_iter *b)
{
    int c = memcmp(a->term, b->term, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Where the walk of one source's dictionary is. */
typedef struct spos {
    qx_dict_iter it;
    qx_term t;
    int has;              /* it is on term t */
} spos;

/* (term, source) order of sources a and b */
static int heap_less(const spos *v, size_t a, size_t b)
{
    int c = cmp_term(&v[a].it, &v[b].it);
    return c ? c < 0 : a < b;
}

static void heap_push(const spos *v, size_t *h, size_t *n, size_t i)
{
    size_t k = (*n)++;
    while (k > 0 && heap_less(v, i, h[(k - 1) / 2])) {
        h[k] = h[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    h[k] = i;
}

static size_t heap_pop(const spos *v, size_t *h, size_t *n)
{
    size_t top = h[0], last = h[--*n], k = 0;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && heap_less(v, h[c + 1], h[c]))
            c++;
        if (!heap_less(v, h[c], last))
            break;
        h[k] = h[c];
        k = c;
    }
    if (*n)
        h[k] = last;
    return top;
}

/* A heap of the sources on a term, smallest (term, source) first: the
 * sources holding the smallest term come out in order. */
static void heap_fill(const spos *v, size_t n, size_t *h, size_t *nh)
{
    *nh = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].has)
            heap_push(v, h, nh, i);
}

/* Moves source i (just popped, its term `cur`) to its next term, back into
 * the heap if it has one. */
static int step(const merger *m, spos *v, size_t i, const qx_dict_iter *cur, size_t *h, size_t *nh, quarry_error *err)
{
    int r = qx_dict_next(&v[i].it, &v[i].t, err);
    v[i].has = r > 0;
    if (r < 0)
        return -r;
    if (r > 0) {
        if (cmp_term(&v[i].it, cur) <= 0)
            return qx_bad(m->v[i].s, &m->v[i].s->dict, QF_HEADER, "dictionary terms out of order", err);
        heap_push(v, h, nh, i);
    }
    return 0;
}

/* One part of the postings merge: `count` merged terms (UINT64_MAX: all
 * that are left) from the sources' dictionary positions `at` on. */
typedef struct part {
    merger *m;
    spos *at;
    uint64_t count;
    qpw *pw;
    size_t since;          /* bytes read since the last release */
    quarry_error err;
    int rc;
} part;

static int merge_terms(part *p)
{
    merger *m = p->m;
    quarry_error *err = &p->err;
    spos *v = p->at;
    size_t *heap = qmalloc((m->n ? m->n : 1) * sizeof *heap), nh = 0;
    if (!heap)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    heap_fill(v, m->n, heap, &nh);
    int rc = 0;
    for (uint64_t k = 0; !rc && nh && k < p->count; k++) {
        qx_dict_iter cur = v[heap[0]].it;   /* the term to merge (copied: the sources move on) */
        if (qpw_term_begin(p->pw, cur.term, cur.len)) {
            rc = qerr_set(err, QUARRY_ELIMIT, "a term longer than %u bytes", QF_MAX_TERM);
            break;
        }
        while (!rc && nh && cmp_term(&v[heap[0]].it, &cur) == 0) {
            size_t i = heap_pop(v, heap, &nh);
            const src *x = &m->v[i];
            const qx_term *t = &v[i].t;
            counted(m, &p->since, m->release_bytes / m->nparts,   /* the part's share of the budget */
                    t->post_len + t->pos_len + 16 + cur.len);
            qx_cursor c;
            if (qx_cursor_open(&c, x->s, t)) {
                qx_cursor_close(&c);
                rc = qx_bad(x->s, &x->s->post, t->post_off, "damaged postings", err);
                break;
            }
            for (uint32_t d = c.doc; d != QX_END; d = qx_next(&c)) {
                uint32_t to = map_unit(x, d);
                if (to == UINT32_MAX)
                    continue;
                const uint32_t *ps = qx_positions(&c);
                if (!ps) {
                    rc = c.corrupt ? qx_bad(x->s, &x->s->posn, t->pos_off, "damaged positions", err)
                                   : qerr_set(err, QUARRY_ENOMEM, "out of memory");
                    break;
                }
                if (qpw_posting(p->pw, to, qx_tf(&c), ps)) {
                    rc = qerr_set(err, QUARRY_ENOMEM, "out of memory or bad posting order while merging");
                    break;
                }
            }
            if (!rc && c.corrupt)
                rc = qx_bad(x->s, &x->s->post, t->post_off, "damaged postings", err);
            qx_cursor_close(&c);
            if (!rc)
                rc = step(m, v, i, &cur, heap, &nh, err);
        }
        if (!rc)
            qpw_term_end(p->pw);
    }
    free(heap);
    return rc;
}

static void *part_main(void *arg)
{
    part *p = arg;
    p->rc = merge_terms(p);
    return NULL;
}

/* Where parts 1.. of the postings merge start: the sources' dictionary
 * positions (at + k * n for part k; part 0's, the first terms, are filled
 * too) and each part's count of merged terms, so that each part reads
 * about as many bytes of postings and positions. One walk of the
 * dictionaries, without their postings. */
static int split(merger *m, spos *at, uint64_t *count, quarry_error *err)
{
    size_t n = m->n, np = m->nparts;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        qx_dict_first(&at[i].it, m->v[i].s);
        int r = qx_dict_next(&at[i].it, &at[i].t, err);
        at[i].has = r > 0;
        if (r < 0)
            return -r;
        total += m->v[i].s->post.size + m->v[i].s->posn.size;
    }
    for (size_t k = 1; k < np; k++)
        count[k] = UINT64_MAX;
    size_t *heap = qmalloc((n ? n : 1) * sizeof *heap), nh = 0;
    spos *v = qmalloc((n ? n : 1) * sizeof *v);
    int rc = 0;
    if (!heap || !v)
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    else {
        memcpy(v, at, n * sizeof *v);
        heap_fill(v, n, heap, &nh);
    }
    uint64_t done = 0, terms = 0, start = 0;
    size_t k = 1, read = 0;   /* the next part to place; dictionary bytes read since the last release */
    while (!rc && nh) {
        if (k < np && done >= total / np * k) {   /* part k starts at this term */
            memcpy(at + k * n, v, n * sizeof *v);
            count[k - 1] = terms - start;
            start = terms;
            k++;
            continue;
        }
        qx_dict_iter cur = v[heap[0]].it;
        while (!rc && nh && cmp_term(&v[heap[0]].it, &cur) == 0) {
            size_t i = heap_pop(v, heap, &nh);
            done += v[i].t.post_len + v[i].t.pos_len;
            /* the dictionaries, too, leave memory as they are read (about an entry's bytes) */
            counted(m, &read, m->release_bytes, 8 + cur.len + 2 * (size_t)v[i].t.nimp);
            rc = step(m, v, i, &cur, heap, &nh, err);
        }
        terms++;
    }
    if (k < np)   /* the parts after the last term have nothing to do */
        count[k - 1] = UINT64_MAX;
    count[np - 1] = UINT64_MAX;
    free(heap);
    free(v);
    return rc;
}

/* .dict, .post, .posn: the dictionaries merged, each term's postings from
 * every source in order, live units only; in m->nparts parts on as many
 * threads, each a range of terms (postw.h: the same bytes as one). */
static int write_postings(merger *m, uint64_t id, qm_segment *g, uint64_t *terms, uint64_t *postings,
                          uint64_t *positions, quarry_error *err)
{
    size_t np = m->nparts, n = m->n;
    part *pt = qcalloc(np, sizeof *pt);
    spos *at = qcalloc(np * (n ? n : 1), sizeof *at);
    uint64_t *count = qcalloc(np, sizeof *count);
    pthread_t *th = qcalloc(np, sizeof *th);
    int *started = qcalloc(np, sizeof *started);
    int rc = 0;
    if (!pt || !at || !count || !th || !started)
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    if (!rc)
        rc = split(m, at, count, err);
    for (size_t k = 0; k < np && !rc; k++) {
        pt[k].m = m;
        pt[k].at = at + k * n;
        pt[k].count = count[k];
        rc = k ? qpw_open_part(&pt[k].pw, m->dir, id, (uint32_t)k, m->new_unit.body, m->nunits, err)
               : qpw_open(&pt[k].pw, m->dir, id, m->new_unit.body, m->nunits, err);
    }
    if (!rc) {
        for (size_t k = 1; k < np; k++)   /* a part without a thread runs after part 0 */
            started[k] = pthread_create(&th[k], NULL, part_main, &pt[k]) == 0;
        part_main(&pt[0]);
        for (size_t k = 1; k < np; k++) {
            if (started[k])
                pthread_join(th[k], NULL);
            else if (!pt[0].rc)
                part_main(&pt[k]);
        }
        for (size_t k = 0; k < np && !rc; k++)
            if ((rc = pt[k].rc))
                *err = pt[k].err;
    }
    for (size_t k = 1; k < np && pt; k++) {   /* joined (and freed) in order, or dropped */
        if (!rc && pt[k].pw)
            rc = qpw_append(pt[0].pw, pt[k].pw, err);
        else
            qpw_abort(pt[k].pw);
        pt[k].pw = NULL;
    }
    qpw *pw = pt ? pt[0].pw : NULL;
    free(pt);
    free(at);
    free(count);
    free(th);
    free(started);
    if (rc) {
        qpw_abort(pw);
        return rc;
    }
    qpw_result pr;
    if ((rc = qpw_finish(pw, &pr, err)))
        return rc;
    for (int k = 0; k < 3; k++) {
        qm_seg_name(g->files[1 + k].name, id, qm_kinds[1 + k]);
        g->files[1 + k].size = pr.size[k];
        g->files[1 + k].crc = pr.crc[k];
    }
    *terms = pr.terms;
    *postings = pr.postings;
    *positions = pr.positions;
    return 0;
}

static void remove_new(const char *dir, uint64_t id)
{
    char name[QM_NAME], path[4200];
    for (size_t k = 0; k < QM_SEG_FILES; k++) {
        qm_seg_name(name, id, qm_kinds[k]);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        qsys_unlink(path);
    }
}

/* The sources' checksums (qx_seg_check_sums), the sources shared out
 * between up to `threads` threads. */
typedef struct sums_task {
    const merger *m;
    size_t from, step;
    quarry_error err;
    int rc;
} sums_task;

static void *sums_main(void *arg)
{
    sums_task *t = arg;
    for (size_t i = t->from; i < t->m->n && !t->rc; i += t->step)
        t->rc = qx_seg_check_sums(t->m->v[i].s, &t->err);
    return NULL;
}

static int check_sums(merger *m, unsigned threads)
{
    enum { MAX = 8 };
    size_t nt = threads < 1 ? 1 : threads > MAX ? MAX : threads;
    if (nt > m->n)
        nt = m->n ? m->n : 1;
    sums_task t[MAX];
    pthread_t th[MAX];
    int started[MAX] = { 0 };
    for (size_t k = 0; k < nt; k++)
        t[k] = (sums_task){ m, k, nt, { 0 }, 0 };
    for (size_t k = 1; k < nt; k++)
        started[k] = pthread_create(&th[k], NULL, sums_main, &t[k]) == 0;
    sums_main(&t[0]);
    for (size_t k = 1; k < nt; k++)
        if (started[k])
            pthread_join(th[k], NULL);
        else
            sums_main(&t[k]);
    for (size_t k = 0; k < nt; k++)   /* the first damaged source in order of the threads */
        if (t[k].rc) {
            *m->err = t[k].err;
            return t[k].rc;
        }
    return 0;
}

typedef struct arts_task {
    merger *m;
    uint64_t id;
    qm_segment *g;
    int rc;
} arts_task;

static void *arts_main(void *arg)
{
    arts_task *a = arg;
    a->rc = write_arts(a->m, a->id, a->g);
    return NULL;
}

/* Merges segments [first, first + count) of ix into segment `id`; out->nfiles
 * is 0 when nothing of them is live, unless they are the whole index (which
 * keeps one segment, empty, for its settings). */
static int merge(quarry_index *ix, size_t first, size_t count, uint64_t id, const qsm_opts *o, qm_segment *out,
                 quarry_error *err)
{
    merger m;
    memset(&m, 0, sizeof m);
    m.ix = ix;
    m.dir = ix->dir;
    m.n = count;
    m.err = err;
    m.release_bytes = o->mem / 8 > (1u << 20) ? o->mem / 8 : (1u << 20);
    unsigned threads = o->threads > 1 ? o->threads : 1;
    memset(out, 0, sizeof *out);
    int rc = 0;
    if (!(m.v = qcalloc(count, sizeof *m.v)))
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++)
        m.v[i].s = &ix->seg[first + i];
    rc = check_sums(&m, threads);
    if (!rc)
        rc = number(&m);
    uint64_t bytes = 0;
    for (size_t i = 0; i < count; i++)
        bytes += m.v[i].s->post.size + m.v[i].s->posn.size;
    uint64_t part_bytes = o->part_bytes ? o->part_bytes : QSM_PART_BYTES;
    m.nparts = threads < QPW_MAX_PARTS ? threads : QPW_MAX_PARTS;
    if (m.nparts > bytes / part_bytes + 1)
        m.nparts = (size_t)(bytes / part_bytes + 1);
    /* each part reads every source's dictionary, postings and positions
     * through windows of its own, and the kernel maps up to QSM_WINDOW of
     * cached pages around each page faulted in: a quarter of the budget
     * bounds the parts' windows (a merge of 73 segments at --mem 64: one
     * part; its peak RSS was 83 MB with two, 47 with one) */
    size_t fit = (size_t)(o->mem / 4 / ((uint64_t)count * 3 * QSM_WINDOW));
    if (m.nparts > (fit ? fit : 1))
        m.nparts = fit ? fit : 1;
    if (rc || (m.narts == 0 && count < ix->nseg)) {
        free_srcs(&m);
        return rc;
    }
    out->id = id;
    out->nfiles = QM_SEG_FILES;
    uint64_t terms = 0, postings = 0, positions = 0;
    /* the postings writer reads the merged units' lengths from their new .unit file */
    if (!(rc = write_units(&m, id, out)) &&
        !(rc = qf_map_open(&m.new_unit, m.dir, out->files[4].name, QF_UNIT, err))) {
        /* the articles (m.err) beside the postings (perr), on a thread of their own */
        arts_task a = { &m, id, out, 0 };
        quarry_error perr = { 0 };
        pthread_t th;
        int started = m.nparts > 1 && pthread_create(&th, NULL, arts_main, &a) == 0;
        if (!started)
            arts_main(&a);
        int prc = !a.rc || started ? write_postings(&m, id, out, &terms, &postings, &positions, &perr) : 0;
        if (started)
            pthread_join(th, NULL);
        if (!(rc = a.rc) && (rc = prc))
            *err = perr;
    }
    if (!rc) {   /* statistics and analyzer settings, as the sources' */
        const qx_seg *s0 = m.v[0].s;
        qf_writer f;
        char name[QM_NAME];
        qm_seg_name(name, id, QF_META);
        if (!(rc = qf_create(&f, m.dir, name, QF_META, err))) {
            qf_put_u64(&f, m.narts);
            qf_put_u64(&f, m.nunits);
            qf_put_u64(&f, terms);
            qf_put_u64(&f, postings);
            qf_put_u64(&f, positions);
            qf_put_u64(&f, m.tokens);
            qf_put_u32(&f, s0->passage_mode);
            qf_put_u32(&f, s0->passage_tokens);
            qf_put_u32(&f, s0->blob_len);
            qf_write(&f, s0->blob, s0->blob_len);
            uint64_t size;
            uint32_t crc;
            if (!(rc = qf_finish(&f, &size, &crc, err))) {
                snprintf(out->files[0].name, sizeof out->files[0].name, "%s", name);
                out->files[0].size = size;
                out->files[0].crc = crc;
            }
        }
    }
    free_srcs(&m);
    if (rc)
        remove_new(m.dir, id);
    return rc;
}

/* ------------------------------------------------------------ policy */

static unsigned level(const qx_seg *s)
{
    double live = (double)(s->nunits - s->del_units);
    return live <= QSM_MIN_UNITS ? 0 : (unsigned)floor(log10(live / QSM_MIN_UNITS));
}

/* The next merge the policy wants: 1 and [first, first + count), or 0. */
static int plan(const quarry_index *ix, int one, size_t *first, size_t *count)
{
    if (one && ix->nseg > 1) {   /* one segment, if its units and articles fit (number()) */
        uint64_t units = 0, arts = 0;
        for (size_t i = 0; i < ix->nseg; i++) {
            units += ix->seg[i].nunits - ix->seg[i].del_units;
            arts += ix->seg[i].narts;
        }
        if (units < UINT32_MAX && arts < UINT32_MAX) {
            *first = 0;
            *count = ix->nseg;
            return 1;
        }
    }
    for (size_t i = 0; i < ix->nseg; i++)   /* a third deleted: rewrite it; an empty one: drop it */
        if ((ix->seg[i].del_units * 3 >= ix->seg[i].nunits && ix->seg[i].del_units) ||
            (ix->seg[i].nunits == 0 && ix->nseg > 1)) {
            *first = i;
            *count = 1;
            return 1;
        }
    for (size_t i = 0; i + QSM_FACTOR <= ix->nseg; i++) {
        unsigned l = level(&ix->seg[i]);
        size_t j = i + 1;
        while (j < ix->nseg && j - i < QSM_FACTOR && level(&ix->seg[j]) == l)
            j++;
        if (j - i == QSM_FACTOR) {
            *first = i;
            *count = QSM_FACTOR;
            return 1;
        }
    }
    /* a run of adjacent segments below the largest level that together
     * reach it: one segment of that level (the small tail a build leaves
     * when its segments are small, or many adds: fewer segments for a
     * search to visit) */
    unsigned top = 0;
    for (size_t i = 0; i < ix->nseg; i++)
        if (level(&ix->seg[i]) > top)
            top = level(&ix->seg[i]);
    double floor_units = QSM_MIN_UNITS * pow(10.0, top);
    for (size_t i = 0; top > 0 && i < ix->nseg; i++) {
        double live = 0;
        size_t j = i;
        while (j < ix->nseg && level(&ix->seg[j]) < top)
            live += (double)(ix->seg[j].nunits - ix->seg[j].del_units), j++;
        if (j - i >= 2 && live > floor_units) {
            *first = i;
            *count = j - i;
            return 1;
        }
        if (j > i)
            i = j - 1;
    }
    return 0;
}

/* Merges [first, first + count) of the index in dir and commits. */
static int merge_commit(const char *dir, quarry_index *ix, size_t first, size_t count, const qsm_opts *o,
                        quarry_index_summary *s, quarry_error *err)
{
    qm_manifest cur;
    int rc = qm_read(dir, &cur, err);
    if (rc)
        return rc;
    if (cur.generation != ix->m[0].generation || cur.nseg != ix->nseg) {
        qm_free(&cur);
        return qerr_set(err, QUARRY_EIO, "%s: the index changed during a merge", dir);
    }
    uint64_t id = cur.next_segment;
    qm_segment g;
    if ((rc = merge(ix, first, count, id, o, &g, err))) {
        qm_free(&cur);
        return rc;
    }
    qm_manifest m = cur;
    m.seg = qcalloc(cur.nseg + 1, sizeof *m.seg);
    if (!m.seg) {
        qm_free(&cur);
        remove_new(dir, id);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    m.nseg = 0;
    m.generation = cur.generation + 1;
    m.next_segment = id + 1;
    for (size_t i = 0; i < cur.nseg; i++) {
        if (i == first && g.nfiles)
            m.seg[m.nseg++] = g;
        if (i < first || i >= first + count)
            m.seg[m.nseg++] = cur.seg[i];
    }
    rc = qm_write(dir, &m, err);
    if (rc)
        remove_new(dir, id);
    else {
        s->merges++;
        s->segments_merged += count;
        for (size_t k = 0; k < g.nfiles; k++)
            s->bytes_merged += g.files[k].size;
        qm_cleanup(dir, &m);
    }
    free(m.seg);
    qm_free(&cur);
    return rc;
}

int qsm_run_policy(const char *dir, const qsm_opts *o, quarry_index_summary *s, quarry_error *err)
{
    for (int round = 0; round < 10000; round++) {
        quarry_index *ix;
        int rc = qx_open(&dir, 1, &ix, err);
        if (rc)
            return rc;
        size_t first, count;
        if (!plan(ix, o->one, &first, &count)) {
            quarry_close(ix);
            return 0;
        }
        rc = merge_commit(dir, ix, first, count, o, s, err);
        quarry_close(ix);
        if (rc)
            return rc;
    }
    return 0;
}

int qsm_optimize(const char *dir, const qsm_opts *o, quarry_index_summary *s, quarry_error *err)
{
    quarry_index *ix;
    int rc = qx_open(&dir, 1, &ix, err);
    if (rc)
        return rc;
    if (ix->nseg > 1 || (ix->nseg == 1 && ix->seg[0].del_units))
        rc = merge_commit(dir, ix, 0, ix->nseg, o, s, err);
    quarry_close(ix);
    return rc;
}
