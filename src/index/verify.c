/*
 * verify.c — quarry_verify: checks every checksum and every structural
 * invariant of an index (index/FORMAT.md "Invariants"), decoding every
 * record. Stops at the first problem.
 */
#include <stdlib.h>

#include "index/reader.h"

typedef struct vctx {
    quarry_index *ix;
    quarry_error *err;
    uint64_t postings, positions, terms;
} vctx;

static int check_term(void *ctx, const uint8_t *term, uint32_t len, const qx_term *t)
{
    vctx *v = ctx;
    quarry_index *ix = v->ix;
    qx_cursor c;
    char name[80];
    snprintf(name, sizeof name, "%.*s", (int)(len > 60 ? 60 : len), (const char *)term);
    if (qx_cursor_open(&c, ix, t)) {
        qx_cursor_close(&c);
        return qerr_set(v->err, QUARRY_ECORRUPT, "%s: term \"%s\": first postings block is damaged", ix->dir, name);
    }
    uint64_t df = 0, cf = 0;
    uint32_t max_tf = 0, min_len = UINT32_MAX;
    int64_t prev = -1;
    for (uint32_t d = c.doc; d != QX_END; d = qx_next(&c)) {
        if ((int64_t)d <= prev)
            break;
        prev = d;
        uint32_t tf = qx_tf(&c);
        const uint32_t *p = qx_positions(&c);
        if (!p)
            break;
        for (uint32_t i = 1; i < tf; i++)
            if (p[i] <= p[i - 1]) {
                qx_cursor_close(&c);
                return qerr_set(v->err, QUARRY_ECORRUPT, "%s: term \"%s\": positions not increasing in unit %u", ix->dir, name, d);
            }
        uint32_t blk_last, blk_max, blk_min;
        qx_block_bounds(&c, &blk_last, &blk_max, &blk_min);
        if (tf > blk_max || qx_unit_len(ix, d) < blk_min || d > blk_last) {
            qx_cursor_close(&c);
            return qerr_set(v->err, QUARRY_ECORRUPT, "%s: term \"%s\": skip entry bounds do not hold for unit %u", ix->dir, name, d);
        }
        if (tf > max_tf)
            max_tf = tf;
        if (qx_unit_len(ix, d) < min_len)
            min_len = qx_unit_len(ix, d);
        df++;
        cf += tf;
    }
    int corrupt = c.corrupt;
    qx_cursor_close(&c);
    if (corrupt)
        return qerr_set(v->err, QUARRY_ECORRUPT, "%s: term \"%s\": postings or positions are damaged", ix->dir, name);
    if (df != t->df || cf != t->cf || max_tf != t->max_tf || min_len != t->min_len)
        return qerr_set(v->err, QUARRY_ECORRUPT,
                        "%s: term \"%s\": postings disagree with the dictionary (df %llu vs %llu, cf %llu vs %llu)",
                        ix->dir, name, (unsigned long long)df, (unsigned long long)t->df,
                        (unsigned long long)cf, (unsigned long long)t->cf);
    v->postings += df;
    v->positions += cf;
    v->terms++;
    return 0;
}

int quarry_verify(const char *dir, quarry_error *err)
{
    quarry_index *ix;
    int rc = qx_open(dir, 1, &ix, err);
    if (rc)
        return rc;
    vctx v = { ix, err, 0, 0, 0 };
    rc = qx_each_term(ix, check_term, &v, err);
    if (!rc && (v.terms != ix->nterms || v.postings != ix->npostings || v.positions != ix->npositions))
        rc = qerr_set(err, QUARRY_ECORRUPT, "%s: term, posting or position counts differ from the statistics", dir);
    /* articles own consecutive units, and units point back at them */
    uint64_t next_unit = 0;
    for (uint64_t a = 0; !rc && a < ix->narts; a++) {
        const qx_artrec *r;
        if ((rc = qx_article(ix, (uint32_t)a, &r, err)))
            break;
        if (r->first_unit != next_unit) {
            rc = qerr_set(err, QUARRY_ECORRUPT, "%s: article %llu does not start at unit %llu", dir,
                          (unsigned long long)a, (unsigned long long)next_unit);
            break;
        }
        for (uint32_t u = r->first_unit; u < r->first_unit + r->nunits; u++)
            if (qx_unit_article(ix, u) != a) {
                rc = qerr_set(err, QUARRY_ECORRUPT, "%s: unit %u does not point back at article %llu", dir, u,
                              (unsigned long long)a);
                break;
            }
        next_unit += r->nunits;
    }
    if (!rc && next_unit != ix->nunits)
        rc = qerr_set(err, QUARRY_ECORRUPT, "%s: articles cover %llu units of %llu", dir,
                      (unsigned long long)next_unit, (unsigned long long)ix->nunits);
    /* the id order is a sorted permutation */
    const char *prev = NULL;
    uint8_t *seen = rc ? NULL : calloc(ix->narts ? ix->narts : 1, 1);
    if (!rc && !seen)
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    for (uint64_t i = 0; !rc && i < ix->narts; i++) {
        uint32_t a = qload_u32(ix->art_order + 4 * i);
        const qx_artrec *r;
        if (a >= ix->narts || seen[a]) {
            rc = qerr_set(err, QUARRY_ECORRUPT, "%s: id index is not a permutation of the articles", dir);
            break;
        }
        seen[a] = 1;
        if ((rc = qx_article(ix, a, &r, err)))
            break;
        if (prev && strcmp(prev, r->id) >= 0) {
            rc = qerr_set(err, QUARRY_ECORRUPT, "%s: id index is not sorted at \"%s\"", dir, r->id);
            break;
        }
        prev = r->id;
    }
    free(seen);
    /* every passage text decompresses */
    for (uint64_t u = 0; !rc && u < ix->nunits; u++) {
        char *t;
        size_t len;
        if ((rc = quarry_passage_text(ix, (uint32_t)u, &t, &len, err)))
            break;
        free(t);
    }
    quarry_close(ix);
    return rc;
}
