/*
 * deletes.c — building a segment's deletions (deletes.h): the unit
 * bitmap, the per-term counts of deleted units (found by analyzing the
 * deleted units' stored text again), and writing the deletions file
 * (index/FORMAT.md §del):
 *
 *   header 16 B ("QRRY" "dele" version 0)
 *   u64 units, u64 deleted units, u64 deleted articles, u64 deleted tokens
 *   bitmap        ceil(units / 8) bytes, bit u (byte u/8, bit u%8) = unit u deleted
 *   terms         nterms × { varint len, term bytes, varint count }, bytewise increasing
 *   offsets       nterms × u64: each term record's offset
 *   trailer       u64 nterms, u64 bitmap_at, u64 terms_at, u64 offsets_at
 *   crc32
 */
#include "index/deletes.h"
#include "base/sys.h"

#include <stdlib.h>

/* ------------------------------------------------------------ the term table */

static qdl_entry *slot(qdl_set *d, const char *t, uint32_t len)
{
    size_t h = (size_t)qhash(t, len) & d->mask;
    while (d->tab[h].len && !(d->tab[h].len == len && memcmp(d->strs.p + d->tab[h].off, t, len) == 0))
        h = (h + 1) & d->mask;
    return &d->tab[h];
}

static int grow(qdl_set *d)
{
    size_t ncap = d->mask ? (d->mask + 1) * 2 : 1024;
    qdl_entry *old = d->tab;
    size_t oldcap = d->tab ? d->mask + 1 : 0;
    d->tab = qcalloc(ncap, sizeof *d->tab);
    if (!d->tab) {
        d->tab = old;
        return -1;
    }
    d->mask = ncap - 1;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].len)
            *slot(d, (const char *)d->strs.p + old[i].off, old[i].len) = old[i];
    free(old);
    return 0;
}

static int add_count(qdl_set *d, const char *t, uint32_t len, uint64_t count)
{
    if (!d->tab || (d->n + 1) * 2 > d->mask + 1)
        if (grow(d))
            return -1;
    qdl_entry *e = slot(d, t, len);
    if (!e->len) {
        e->off = (uint32_t)d->strs.len;
        e->len = len;
        e->count = 0;
        if (d->strs.len > UINT32_MAX - len || qbuf_append(&d->strs, t, len))
            return -1;
        d->n++;
    }
    e->count += count;
    return 0;
}

uint64_t qdl_count(const qdl_set *d, const char *t, uint32_t len)
{
    if (!d->tab || !len)
        return 0;
    const qdl_entry *e = slot((qdl_set *)d, t, len);
    return e->len ? e->count : 0;
}

/* ------------------------------------------------------------ load, free */

void qdl_free(qdl_set *d)
{
    if (!d)
        return;
    free(d->bits);
    free(d->tab);
    qbuf_free(&d->strs);
    memset(d, 0, sizeof *d);
}

int qdl_load(qdl_set *d, const qx_seg *s, quarry_error *err)
{
    memset(d, 0, sizeof *d);
    qbuf_init(&d->strs);
    d->nunits = s->nunits;
    d->bits = qcalloc((s->nunits + 7) / 8 + 1, 1);
    if (!d->bits)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    if (!s->delbits)
        return 0;
    memcpy(d->bits, s->delbits, (s->nunits + 7) / 8);
    d->units = s->del_units;
    d->articles = s->del_arts;
    d->tokens = s->del_tokens;
    for (uint64_t i = 0; i < s->del_nterms; i++) {
        const char *t;
        uint32_t len;
        uint64_t count;
        if (qx_del_term(s, i, &t, &len, &count, err) < 0) {
            qdl_free(d);
            return QUARRY_ECORRUPT;
        }
        if (add_count(d, t, len, count)) {
            qdl_free(d);
            return qerr_set(err, QUARRY_ENOMEM, "out of memory");
        }
    }
    return 0;
}

/* ------------------------------------------------------------ deleting */

typedef struct recount {
    qdl_set *d;
    qdl_set unit;             /* the unit's own terms (a scratch table) */
    uint64_t tokens;
    int oom;
    const qa_analyzer *an;    /* its pair terms too (qa_pairs), as segw.c makes them: */
    char prev[QA_MAX_TERM];   /* the token before, in the title or the body */
    uint32_t prev_len, prev_pos;
    int prev_common, prev_valid;
} recount;

static int on_token(void *ctx, const qa_token *t)
{
    recount *r = ctx;
    r->tokens++;
    if (add_count(&r->unit, t->term, t->len, 1)) {
        r->oom = 1;
        return 1;
    }
    if (!qa_pairs(r->an) || t->len > QA_MAX_TERM)
        return 0;
    int common = qa_common(r->an, t->term, t->len, qhash(t->term, t->len));
    if (r->prev_valid && t->pos == r->prev_pos + 1 && (common || r->prev_common)) {
        char pair[QA_MAX_PAIR];
        size_t n = qa_pair_term(pair, r->prev, r->prev_len, t->term, t->len);
        if (n && add_count(&r->unit, pair, (uint32_t)n, 1)) {
            r->oom = 1;
            return 1;
        }
    }
    memcpy(r->prev, t->term, t->len);
    r->prev_len = t->len;
    r->prev_pos = t->pos;
    r->prev_common = common;
    r->prev_valid = 1;
    return 0;
}

int qdl_delete_article(qdl_set *d, qx_tcache *tc, const qx_seg *s, uint32_t a, qa_analyzer *an,
                       quarry_error *err)
{
    qx_artrec r;
    int rc = qx_article(s, a, &r, err);
    if (rc)
        return rc;
    if (qdl_has(d, r.first_unit))
        return 0;   /* deleted already */
    recount rc2;
    memset(&rc2, 0, sizeof rc2);
    rc2.d = d;
    rc2.an = an;
    qbuf text;
    qbuf_init(&text);
    for (uint32_t u = r.first_unit; u < r.first_unit + r.nunits && !rc; u++) {
        /* the unit's tokens: the title's, then its passage's */
        qbuf_reset(&text);
        if ((rc = qx_tcache_unit_text(tc, s, u, &text, err)))
            break;
        rc2.tokens = 0;
        rc2.unit.n = 0;
        if (rc2.unit.tab)
            memset(rc2.unit.tab, 0, (rc2.unit.mask + 1) * sizeof *rc2.unit.tab);
        qbuf_reset(&rc2.unit.strs);
        rc2.prev_valid = 0;
        int bad = qa_analyze(an, r.title, r.title_len, 0, on_token, &rc2, NULL);
        rc2.prev_valid = 0;   /* (no pair from the title into the body) */
        if (bad || qa_analyze(an, (const char *)text.p, text.len, 0, on_token, &rc2, NULL)) {
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
            break;
        }
        if (rc2.tokens != qx_unit_len(s, u)) {
            rc = qx_bad(s, &s->unit, QF_HEADER + 4 * (uint64_t)u,
                        "the stored text of a deleted passage does not analyze to its length", err);
            break;
        }
        for (size_t i = 0; i <= rc2.unit.mask && rc2.unit.tab; i++)
            if (rc2.unit.tab[i].len &&
                add_count(d, (const char *)rc2.unit.strs.p + rc2.unit.tab[i].off, rc2.unit.tab[i].len, 1)) {
                rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
                break;
            }
        if (rc)
            break;
        d->bits[u / 8] |= (uint8_t)(1u << (u % 8));
        d->units++;
        d->tokens += rc2.tokens;
    }
    if (!rc)
        d->articles++;
    qbuf_free(&text);
    qdl_free(&rc2.unit);
    return rc;
}

/* ------------------------------------------------------------ writing */

static int cmp_entry(const void *a, const void *b, const uint8_t *strs)
{
    const qdl_entry *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(strs + x->off, strs + y->off, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* a merge sort (the comparison needs the strings: no qsort context in C11) */
static void sort_entries(qdl_entry *v, qdl_entry *tmp, size_t n, const uint8_t *strs)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_entries(v, tmp, h, strs);
    sort_entries(v + h, tmp, n - h, strs);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_entry(&v[j], &v[i], strs) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

int qdl_write(const qdl_set *d, const char *dir, uint64_t seg, uint64_t gen, qm_file *out, quarry_error *err)
{
    qdl_entry *v = qmalloc((d->n ? d->n : 1) * sizeof *v), *tmp = qmalloc((d->n ? d->n : 1) * sizeof *tmp);
    uint64_t *offs = qmalloc((d->n ? d->n : 1) * sizeof *offs);
    if (!v || !tmp || !offs) {
        free(v);
        free(tmp);
        free(offs);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; d->tab && i <= d->mask; i++)
        if (d->tab[i].len && d->tab[i].count)
            v[n++] = d->tab[i];
    sort_entries(v, tmp, n, d->strs.p);
    free(tmp);
    qf_writer f;
    char name[QM_NAME];
    qm_del_name(name, seg, gen);
    int rc = qf_create(&f, dir, name, QF_DEL, err);
    if (rc) {
        free(v);
        free(offs);
        return rc;
    }
    qf_put_u64(&f, d->nunits);
    qf_put_u64(&f, d->units);
    qf_put_u64(&f, d->articles);
    qf_put_u64(&f, d->tokens);
    uint64_t bitmap_at = f.off;
    qf_write(&f, d->bits, (d->nunits + 7) / 8);
    uint64_t terms_at = f.off;
    qbuf b;
    qbuf_init(&b);
    for (size_t i = 0; i < n; i++) {
        offs[i] = f.off;
        qbuf_reset(&b);
        qbuf_put_varint(&b, v[i].len);
        qbuf_append(&b, d->strs.p + v[i].off, v[i].len);
        qbuf_put_varint(&b, v[i].count);
        qf_write_buf(&f, &b);
    }
    qbuf_free(&b);
    uint64_t offsets_at = f.off;
    for (size_t i = 0; i < n; i++)
        qf_put_u64(&f, offs[i]);
    qf_put_u64(&f, n);
    qf_put_u64(&f, bitmap_at);
    qf_put_u64(&f, terms_at);
    qf_put_u64(&f, offsets_at);
    free(v);
    free(offs);
    uint64_t size;
    uint32_t crc;
    if ((rc = qf_finish(&f, &size, &crc, err)))
        return rc;
    snprintf(out->name, sizeof out->name, "%s", name);
    out->size = size;
    out->crc = crc;
    return 0;
}
