/*
 * verify.c — quarry_verify: checks every checksum and every structural
 * invariant of an index (index/FORMAT.md "Invariants"), decoding every
 * record of every segment. Stops at the first problem. Opening an index
 * checks none of this (it must cost milliseconds); this is where damage
 * anywhere is found.
 */
#include <stdlib.h>

#pragma GCC diagnostic ignored "-Wformat-extra-args"

#include "index/deletes.h"
#include "base/sys.h"
#include "index/reader.h"

typedef struct vctx {
    const qx_seg *s;
    quarry_error *err;
    uint64_t postings, positions, terms;
} vctx;

/* Damage of a term in file m (.post or .posn); fmt takes two unsigned
 * long long arguments (unused ones are ignored). */
static int term_bad(const vctx *v, const qf_map *m, const char *name, const char *fmt, uint64_t a, uint64_t b)
{
    char what[256];
    snprintf(what, sizeof what, fmt, (unsigned long long)a, (unsigned long long)b);
    return qerr_set(v->err, QUARRY_ECORRUPT, "%s/%s: term \"%s\": %s (rebuild the index)", v->s->dir,
                    m->name, name, what);
}

/* Some pair of the frontier has at least this tf at at most this length. */
static int dominated(const qim_pair *v, uint32_t n, uint32_t tf, uint32_t len)
{
    for (uint32_t i = 0; i < n; i++)
        if (v[i].tf >= tf && v[i].len <= len)
            return 1;
    return 0;
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
        return term_bad(v, &s->post, name, "first postings block is damaged", 0, 0);
    }
    uint64_t df = 0, cf = 0;
    uint32_t max_tf = 0, min_len = UINT32_MAX;
    int64_t prev = -1;
    int rc = 0;
    for (uint32_t d = c.doc; d != QX_END; d = qx_next(&c)) {
        if ((int64_t)d <= prev) {
            rc = term_bad(v, &s->post, name, "units not increasing at %llu", d, 0);
            break;
        }
        prev = d;
        uint32_t tf = qx_tf(&c), ulen = qx_unit_len(s, d);
        /* the cursor checks that the positions strictly increase (and decode) */
        if (!qx_positions(&c)) {
            rc = c.corrupt ? term_bad(v, &s->posn, name, "positions damaged or not increasing in unit %llu", d, 0)
                           : qerr_set(v->err, QUARRY_ENOMEM, "out of memory");
            break;
        }
        uint32_t blk_last, nimp;
        const qim_pair *imp = qx_block_impacts(&c, &blk_last, &nimp);
        if (!imp)
            break;
        if (!dominated(imp, nimp, tf, ulen) || !dominated(t->imp, t->nimp, tf, ulen) || d > blk_last) {
            rc = term_bad(v, &s->post, name, "impacts do not bound unit %llu (tf %llu)", d, tf);
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
        return term_bad(v, &s->post, name, "postings or positions are damaged", 0, 0);
    if (df != t->df || cf != t->cf)
        return term_bad(v, &s->post, name, "postings disagree with the dictionary (df %llu, cf %llu)", df, cf);
    if (max_tf != t->max_tf || min_len != t->min_len)
        return term_bad(v, &s->post, name,
                        "dictionary bounds disagree with the postings (max tf %llu, min length %llu)", max_tf, min_len);
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

/* A fingerprint index (the units' or the articles', FORMAT.md §unit,
 * §arts): every unit (article) once, in (fingerprint, number) order, each
 * with its fingerprint and its article (its units). */
static int verify_fp_index(const qx_seg *s, int units, quarry_error *err)
{
    uint64_t n = units ? s->nunits : s->narts;
    const qf_map *m = units ? &s->unit : &s->arts;
    uint8_t *seen = qcalloc(n ? n : 1, 1);
    if (!seen)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    int rc = 0;
    uint64_t pfp = 0;
    uint32_t pnum = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        qx_fpent e = qx_fp_entry(s, units, i);
        uint64_t fp = e.fp;
        uint32_t num = e.num;
        if (num >= n || seen[num]) {
            rc = seg_bad(s, m, err, "fingerprint index is not a permutation (entry %llu)", i, 0);
            break;
        }
        seen[num] = 1;
        if (i && (fp < pfp || (fp == pfp && num <= pnum)))
            rc = seg_bad(s, m, err, "fingerprint index is not sorted at entry %llu", i, 0);
        else if (fp != (units ? qx_unit_fp(s, num) : qx_article_fp(s, num)))
            rc = seg_bad(s, m, err, "fingerprint index entry %llu has not the fingerprint of %llu", i, num);
        else if (units && e.art != qx_unit_article(s, num))
            rc = seg_bad(s, m, err, "fingerprint index entry %llu has not unit %llu's article", i, num);
        else if (!units) {
            qx_artrec r;
            if ((rc = qx_article(s, num, &r, err)) == 0 && (e.first != r.first_unit || e.count != r.nunits))
                rc = seg_bad(s, m, err, "fingerprint index entry %llu has not article %llu's units", i, num);
        }
        pfp = fp;
        pnum = num;
    }
    free(seen);
    return rc;
}

static int verify_segment(quarry_index *ix, const qx_seg *s, quarry_error *err)
{
    /* checksums of whole files: those opened (a commit may remove them meanwhile) */
    int rc = qx_seg_check_sums(s, err);
    if (rc)
        return rc;
    vctx v = { s, err, 0, 0, 0 };
    rc = qx_each_term(s, check_term, &v, err);
    if (rc)
        return rc;
    if (v.terms != s->nterms || v.postings != s->npostings || v.positions != s->npositions)
        return seg_bad(s, &s->meta, err, "term, posting or position counts differ from the statistics", 0, 0);
    /* units: lengths add up, articles in range and owning consecutive units */
    uint64_t sum = 0;
    for (uint64_t u = 0; u < s->nunits; u++) {
        sum += qx_unit_len(s, (uint32_t)u);
        if (qx_unit_lenq(s, (uint32_t)u) != qf_lenq_encode(qx_unit_len(s, (uint32_t)u)))
            return seg_bad(s, &s->unit, err, "quantized length of unit %llu is not that of its length %llu", u,
                           qx_unit_len(s, (uint32_t)u));
    }
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
        uint64_t stored = qx_article_date(s, (uint32_t)a);
        if (key != stored)
            return seg_bad(s, &s->arts, err, "date key of article %llu differs from its date (%llu)", a, stored);
        next_unit += r.nunits;
    }
    if (next_unit != s->nunits)
        return seg_bad(s, &s->arts, err, "articles cover %llu units of %llu", next_unit, s->nunits);
    /* the id order is a sorted permutation */
    uint8_t *seen = qcalloc(s->narts ? s->narts : 1, 1);
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
    /* the id hash table: sorted, every article once, each with its id's hash */
    memset(seen, 0, s->narts ? s->narts : 1);
    for (uint64_t i = 0; i < s->narts && !rc; i++) {
        uint64_t e = qx_id_hash_entry(s, i);
        uint32_t a = (uint32_t)e;
        qx_artrec r;
        if (a >= s->narts || seen[a]) {
            rc = seg_bad(s, &s->arts, err, "id hash table is not a permutation of the articles (entry %llu)", i, 0);
            break;
        }
        seen[a] = 1;
        if (i && e <= qx_id_hash_entry(s, i - 1)) {
            rc = seg_bad(s, &s->arts, err, "id hash table is not sorted at entry %llu", i, 0);
            break;
        }
        if ((rc = qx_article(s, a, &r, err)))
            break;
        if (e >> 32 != qf_id_hash(r.id, r.id_len))
            rc = seg_bad(s, &s->arts, err, "id hash table entry %llu has not the hash of article %llu's id", i, a);
    }
    free(seen);
    if (!rc)
        rc = verify_fp_index(s, 1, err);
    if (!rc)
        rc = verify_fp_index(s, 0, err);
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

/* The deletions file says what analyzing the deleted articles again says:
 * whole articles deleted, the counts, every term's count. */
static int verify_deletions(quarry_index *ix, const qx_seg *s, quarry_error *err)
{
    if (!s->delbits)
        return 0;
    qa_analyzer *an;
    int rc = qx_analyzer_get(ix, &an, err);
    if (rc)
        return rc;
    qdl_set d;
    memset(&d, 0, sizeof d);
    d.nunits = s->nunits;
    if (!(d.bits = qcalloc((s->nunits + 7) / 8 + 1, 1)))
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    for (uint32_t a = 0; a < s->narts && !rc; a++) {
        qx_artrec r;
        if ((rc = qx_article(s, a, &r, err)))
            break;
        int dead = qx_deleted(s, r.first_unit);
        for (uint32_t u = r.first_unit; u < r.first_unit + r.nunits && !rc; u++)
            if (qx_deleted(s, u) != dead)
                rc = seg_bad(s, &s->del, err, "article %llu is only partly deleted (unit %llu)", a, u);
        if (!rc && dead)
            rc = qdl_delete_article(&d, &ix->tc, s, a, an, err);   /* (verify's own index: one thread) */
    }
    if (!rc && (d.units != s->del_units || d.articles != s->del_arts || d.tokens != s->del_tokens))
        rc = seg_bad(s, &s->del, err, "deleted counts disagree with the bitmap (%llu units, %llu articles)",
                     d.units, d.articles);
    uint64_t nonzero = 0;
    for (size_t i = 0; !rc && d.tab && i <= d.mask; i++)
        nonzero += d.tab[i].len && d.tab[i].count;
    if (!rc && nonzero != s->del_nterms)
        rc = seg_bad(s, &s->del, err, "%llu deleted terms listed, %llu found again", s->del_nterms, nonzero);
    for (uint64_t i = 0; !rc && i < s->del_nterms; i++) {
        const char *t;
        uint32_t len;
        uint64_t count;
        if ((rc = qx_del_term(s, i, &t, &len, &count, err) ? QUARRY_ECORRUPT : 0))
            break;
        if (i) {   /* increasing */
            const char *pt;
            uint32_t pl;
            uint64_t pc;
            qx_del_term(s, i - 1, &pt, &pl, &pc, err);
            int c = memcmp(pt, t, pl < len ? pl : len);
            if (c > 0 || (c == 0 && pl >= len))
                rc = seg_bad(s, &s->del, err, "deleted terms out of order at %llu%.0llu", i, 0);
        }
        /* the count, found again */
        uint64_t want = rc ? 0 : qdl_count(&d, t, len);
        if (!rc && want != count)
            rc = seg_bad(s, &s->del, err, "a deleted term's count is %llu, analyzing again gives %llu", count, want);
    }
    qdl_free(&d);
    qx_analyzer_put(ix, an);
    return rc;
}

int quarry_verify(const char *dir, quarry_error *err)
{
    quarry_index *ix;
    int rc = qx_open(&dir, 1, &ix, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < ix->nseg && !rc; i++)
        if (!(rc = verify_segment(ix, &ix->seg[i], err)))
            rc = verify_deletions(ix, &ix->seg[i], err);
    quarry_close(ix);
    return rc;
}
