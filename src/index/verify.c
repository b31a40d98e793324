/*
 * verify.c — quarry_verify: checks every checksum and every structural
 * invariant of an index (index/FORMAT.md "Invariants"), decoding every
 * record of every segment. Stops at the first problem. Opening an index
 * checks none of this (it must cost milliseconds); this is where damage
 * anywhere is found.
 */
#include <stdlib.h>

#pragma GCC diagnostic ignored "-Wformat-extra-args"

#include "index/reader.h"

typedef struct vctx {
    const qx_seg *s;
    quarry_error *err;
    uint64_t postings, positions, terms;
} vctx;

/* fmt takes two unsigned long long arguments (unused ones are ignored) */
static int term_bad(const vctx *v, const char *name, const char *fmt, uint64_t a, uint64_t b)
{
    char what[256];
    snprintf(what, sizeof what, fmt, (unsigned long long)a, (unsigned long long)b);
    return qerr_set(v->err, QUARRY_ECORRUPT, "%s/%s: term \"%s\": %s (rebuild the index)", v->s->dir,
                    v->s->post.name, name, what);
}

static int check_term(void *ctx, const uint8_t *term, uint32_t len, const qx_term *t)
{
    vctx *v = ctx;
    const qx_seg *s = v->s;
    qx_cursor c;
    char name[80];
    snprintf(name, sizeof name, "%.*s", (int)(len > 60 ? 60 : len), (const char *)term);
    if (qx_cursor_open(&c, s, t)) {
        qx_cursor_close(&c);
        return term_bad(v, name, "first postings block is damaged", 0, 0);
    }
    uint64_t df = 0, cf = 0;
    uint32_t max_tf = 0, min_len = UINT32_MAX;
    int64_t prev = -1;
    int rc = 0;
    for (uint32_t d = c.doc; d != QX_END; d = qx_next(&c)) {
        if ((int64_t)d <= prev) {
            rc = term_bad(v, name, "units not increasing at %llu", d, 0);
            break;
        }
        prev = d;
        uint32_t tf = qx_tf(&c), ulen = qx_unit_len(s, d);
        const uint32_t *p = qx_positions(&c);
        if (!p)
            break;
        for (uint32_t i = 1; i < tf; i++)
            if (p[i] <= p[i - 1]) {
                rc = term_bad(v, name, "positions not increasing in unit %llu", d, 0);
                break;
            }
        if (rc)
            break;
        uint32_t blk_last, blk_max, blk_min;
        qx_block_bounds(&c, &blk_last, &blk_max, &blk_min);
        if (tf > blk_max || ulen < blk_min || d > blk_last) {
            rc = term_bad(v, name, "skip entry bounds do not hold for unit %llu", d, 0);
            break;
        }
        if (tf > max_tf)
            max_tf = tf;
        if (ulen < min_len)
            min_len = ulen;
        df++;
        cf += tf;
    }
    int corrupt = c.corrupt;
    qx_cursor_close(&c);
    if (rc)
        return rc;
    if (corrupt)
        return term_bad(v, name, "postings or positions are damaged", 0, 0);
    if (df != t->df || cf != t->cf)
        return term_bad(v, name, "postings disagree with the dictionary (df %llu, cf %llu)", df, cf);
    if (max_tf != t->max_tf || min_len != t->min_len)
        return term_bad(v, name, "dictionary bounds disagree with the postings (max tf %llu, min length %llu)",
                        max_tf, min_len);
    v->postings += df;
    v->positions += cf;
    v->terms++;
    return 0;
}

/* fmt takes two unsigned long long arguments (unused ones are ignored) */
static int seg_bad(const qx_seg *s, const qf_map *m, quarry_error *err, const char *fmt, uint64_t a, uint64_t b)
{
    char what[256];
    snprintf(what, sizeof what, fmt, (unsigned long long)a, (unsigned long long)b);
    return qerr_set(err, QUARRY_ECORRUPT, "%s/%s: %s (rebuild the index)", s->dir, m->name, what);
}

static int verify_segment(quarry_index *ix, const qx_seg *s, quarry_error *err)
{
    /* checksums of whole files */
    const qf_map *maps[QM_SEG_FILES] = { &s->meta, &s->dict, &s->post, &s->posn, &s->unit, &s->arts, &s->text };
    for (size_t k = 0; k < QM_SEG_FILES; k++) {
        qf_map m;
        int rc = qf_map_open(&m, ix->dir, maps[k]->name, qm_kinds[k], 1, err);
        qf_map_close(&m);
        if (rc)
            return rc;
    }
    vctx v = { s, err, 0, 0, 0 };
    int rc = qx_each_term(s, check_term, &v, err);
    if (rc)
        return rc;
    if (v.terms != s->nterms || v.postings != s->npostings || v.positions != s->npositions)
        return seg_bad(s, &s->meta, err, "term, posting or position counts differ from the statistics", 0, 0);
    /* units: lengths add up, articles in range and owning consecutive units */
    uint64_t sum = 0;
    for (uint64_t u = 0; u < s->nunits; u++)
        sum += qx_unit_len(s, (uint32_t)u);
    if (sum != s->ntokens)
        return seg_bad(s, &s->unit, err, "unit lengths add up to %llu, not %llu tokens", sum, s->ntokens);
    uint64_t next_unit = 0;
    for (uint64_t a = 0; a < s->narts; a++) {
        qx_artrec r;
        if ((rc = qx_article(s, (uint32_t)a, &r, err)))
            return rc;
        if (r.first_unit != next_unit)
            return seg_bad(s, &s->arts, err, "article %llu does not start at unit %llu", a, next_unit);
        for (uint32_t u = r.first_unit; u < r.first_unit + r.nunits; u++)
            if (qx_unit_article(s, u) != a)
                return seg_bad(s, &s->unit, err, "unit %llu does not point back at article %llu", u, a);
        if (qload_u64(s->art_offs + 8 * (a + 1)) <= qload_u64(s->art_offs + 8 * a))
            return seg_bad(s, &s->arts, err, "article records out of order at %llu", a, 0);
        uint64_t key = 0;
        if (r.date_len && !qdate_key(r.date, r.date_len, &key, NULL))
            key = 0;
        if (key != r.date_key)
            return seg_bad(s, &s->arts, err, "date key of article %llu differs from its date (%llu)", a, r.date_key);
        next_unit += r.nunits;
    }
    if (next_unit != s->nunits)
        return seg_bad(s, &s->arts, err, "articles cover %llu units of %llu", next_unit, s->nunits);
    /* the id order is a sorted permutation */
    uint8_t *seen = calloc(s->narts ? s->narts : 1, 1);
    if (!seen)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    qx_artrec prev = { 0 };
    for (uint64_t i = 0; i < s->narts && !rc; i++) {
        uint32_t a = qload_u32(s->art_order + 4 * i);
        qx_artrec r;
        if (a >= s->narts || seen[a]) {
            rc = seg_bad(s, &s->arts, err, "id index is not a permutation of the articles (entry %llu)", i, 0);
            break;
        }
        seen[a] = 1;
        if ((rc = qx_article(s, a, &r, err)))
            break;
        if (i) {
            size_t n = prev.id_len < r.id_len ? prev.id_len : r.id_len;
            int c = memcmp(prev.id, r.id, n);
            if (c > 0 || (c == 0 && prev.id_len >= r.id_len))
                rc = seg_bad(s, &s->arts, err, "id index is not sorted at entry %llu", i, 0);
        }
        prev = r;
    }
    free(seen);
    if (rc)
        return rc;
    /* every passage text decompresses */
    for (uint64_t u = 0; u < s->nunits; u++) {
        char *t;
        size_t len;
        if ((rc = quarry_passage_text(ix, s->unit_base + (uint32_t)u, &t, &len, err)))
            return rc;
        free(t);
    }
    return 0;
}

int quarry_verify(const char *dir, quarry_error *err)
{
    quarry_index *ix;
    int rc = qx_open(dir, &ix, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < ix->nseg && !rc; i++)
        rc = verify_segment(ix, &ix->seg[i], err);
    quarry_close(ix);
    return rc;
}
