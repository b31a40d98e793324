/*
 * reader.c — opening a committed index (MANIFEST -> mapped files), the
 * dictionary lookup, postings cursors, article records and the passage
 * text store. Every structure read from disk is checked against the end
 * of its file before use (index/FORMAT.md gives the layouts).
 */
#include "index/reader.h"

#include <stdlib.h>
#include <zlib.h>

/* ------------------------------------------------------------ open */

static int open_file(quarry_index *ix, qf_map *m, const char *kind, int check_crc, quarry_error *err)
{
    for (size_t i = 0; i < ix->m.nfiles; i++) {
        const char *n = ix->m.files[i].name;
        size_t l = strlen(n);
        if (l > 5 && strcmp(n + l - 4, kind) == 0 && n[l - 5] == '.') {
            int rc = qf_map_open(m, ix->dir, n, kind, check_crc, err);
            if (rc)
                return rc;
            if (m->size != ix->m.files[i].size ||
                qload_u32(m->base + m->size - 4) != ix->m.files[i].crc) {
                char p[4200];
                snprintf(p, sizeof p, "%s/%s", ix->dir, n);
                return qerr_corrupt(err, p, m->size, "size or checksum differs from the manifest");
            }
            return 0;
        }
    }
    return qerr_set(err, QUARRY_ECORRUPT, "%s/MANIFEST: names no .%s file (rebuild the index)", ix->dir, kind);
}

static int bad(const quarry_index *ix, const qf_map *m, uint64_t off, const char *what, quarry_error *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", ix->dir, m->name);
    return qerr_corrupt(err, p, off, what);
}

/* Reads the last `n` u64 of a body (its trailer) */
static int trailer(const qf_map *m, size_t n, uint64_t *v)
{
    if (m->body_len < 8 * n)
        return -1;
    const uint8_t *p = m->body + m->body_len - 8 * n;
    for (size_t i = 0; i < n; i++)
        v[i] = qload_u64(p + 8 * i);
    return 0;
}

void quarry_close(quarry_index *ix)
{
    if (!ix)
        return;
    qf_map_close(&ix->meta);
    qf_map_close(&ix->dict);
    qf_map_close(&ix->post);
    qf_map_close(&ix->posn);
    qf_map_close(&ix->unit);
    qf_map_close(&ix->arts);
    qf_map_close(&ix->text);
    qa_close(ix->an);
    if (ix->art_cache) {
        for (uint64_t i = 0; i < ix->narts; i++) {
            if (ix->art_cache[i]) {
                free(ix->art_cache[i]->id);
                free(ix->art_cache[i]);
            }
        }
        free(ix->art_cache);
    }
    qbuf_free(&ix->tcache);
    free(ix->norm);
    free(ix->best);
    free(ix->best_unit);
    free(ix->touched);
    free(ix->dir);
    free(ix);
}

int qx_open(const char *dir, int check_crc, quarry_index **out, quarry_error *err)
{
    quarry_index *ix = calloc(1, sizeof *ix);
    if (!ix || !(ix->dir = qstrndup(dir, strlen(dir)))) {
        free(ix);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    ix->tcache_block = -1;
    int rc = qm_read(dir, &ix->m, err);
    if (rc)
        goto fail;
    if ((rc = open_file(ix, &ix->meta, QF_META, check_crc, err)) ||
        (rc = open_file(ix, &ix->dict, QF_DICT, check_crc, err)) ||
        (rc = open_file(ix, &ix->post, QF_POST, check_crc, err)) ||
        (rc = open_file(ix, &ix->posn, QF_POSN, check_crc, err)) ||
        (rc = open_file(ix, &ix->unit, QF_UNIT, check_crc, err)) ||
        (rc = open_file(ix, &ix->arts, QF_ARTS, check_crc, err)) ||
        (rc = open_file(ix, &ix->text, QF_TEXT, check_crc, err)))
        goto fail;

    /* meta */
    qcur c = qcur_make(ix->meta.body, ix->meta.body_len);
    ix->narts = qcur_u64(&c);
    ix->nunits = qcur_u64(&c);
    ix->nterms = qcur_u64(&c);
    ix->npostings = qcur_u64(&c);
    ix->npositions = qcur_u64(&c);
    ix->ntokens = qcur_u64(&c);
    ix->passage_mode = qcur_u32(&c);
    ix->passage_tokens = qcur_u32(&c);
    uint32_t blen = qcur_u32(&c);
    const uint8_t *blob = qcur_bytes(&c, blen);
    if (!c.ok || c.p != c.end || ix->nunits > UINT32_MAX - 1 || ix->narts > ix->nunits ||
        ix->npostings > ix->npositions) {
        rc = bad(ix, &ix->meta, QF_HEADER, "bad collection statistics", err);
        goto fail;
    }
    if ((rc = qa_open_serialized(blob, blen, &ix->an, err)))
        goto fail;
    ix->avgdl = ix->nunits ? (double)ix->ntokens / (double)ix->nunits : 1.0;
    if (ix->avgdl <= 0)
        ix->avgdl = 1.0;

    /* units */
    uint64_t t[3];
    if (trailer(&ix->unit, 1, t) || t[0] != ix->nunits || ix->unit.body_len != 12 * ix->nunits + 8) {
        rc = bad(ix, &ix->unit, QF_HEADER, "unit table size does not match the statistics", err);
        goto fail;
    }
    ix->units = ix->unit.body;
    uint64_t sum = 0;
    for (uint64_t u = 0; u < ix->nunits; u++) {
        if (qx_unit_article(ix, (uint32_t)u) >= ix->narts) {
            rc = bad(ix, &ix->unit, QF_HEADER + 12 * u + 4, "unit names an article out of range", err);
            goto fail;
        }
        sum += qx_unit_len(ix, (uint32_t)u);
    }
    if (sum != ix->ntokens) {
        rc = bad(ix, &ix->unit, QF_HEADER, "unit lengths do not add up to the token count", err);
        goto fail;
    }

    /* articles: trailer = narts, offs_at, order_at */
    if (trailer(&ix->arts, 3, t) || t[0] != ix->narts || t[1] < QF_HEADER || t[2] < t[1] ||
        t[2] - t[1] != 8 * (ix->narts + 1) || t[2] + 4 * ix->narts + 24 != QF_HEADER + ix->arts.body_len) {
        rc = bad(ix, &ix->arts, ix->arts.size - 28, "bad article table trailer", err);
        goto fail;
    }
    ix->art_offs = ix->arts.base + t[1];
    ix->art_order = ix->arts.base + t[2];
    ix->art_cache = calloc(ix->narts ? ix->narts : 1, sizeof *ix->art_cache);
    if (!ix->art_cache) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto fail;
    }

    /* text: trailer = nblocks, nunits, dir_off */
    if (trailer(&ix->text, 3, t) || t[1] != ix->nunits || t[2] < QF_HEADER ||
        t[0] > ix->text.body_len / 20 || t[2] + 20 * t[0] + 24 != QF_HEADER + ix->text.body_len) {
        rc = bad(ix, &ix->text, ix->text.size - 28, "bad text store trailer", err);
        goto fail;
    }
    ix->ntblocks = t[0];
    ix->text_dir = ix->text.base + t[2];

    /* dictionary: trailer = nterms, nblocks, index_off */
    if (trailer(&ix->dict, 3, t) || t[0] != ix->nterms || t[2] < QF_HEADER ||
        t[1] != (t[0] + QF_DICT_BLOCK - 1) / QF_DICT_BLOCK ||
        t[2] + 8 * t[1] + 24 != QF_HEADER + ix->dict.body_len) {
        rc = bad(ix, &ix->dict, ix->dict.size - 28, "bad dictionary trailer", err);
        goto fail;
    }
    ix->ndblocks = t[1];
    ix->dict_index = ix->dict.base + t[2];
    for (uint64_t b = 0; b < ix->ndblocks; b++) {
        uint64_t off = qload_u64(ix->dict_index + 8 * b);
        if (off < QF_HEADER || off + 20 > t[2] || (b && off <= qload_u64(ix->dict_index + 8 * (b - 1)))) {
            rc = bad(ix, &ix->dict, t[2] + 8 * b, "dictionary block offset out of range", err);
            goto fail;
        }
    }
    /* postings and positions: trailer = data length */
    if (trailer(&ix->post, 1, t) || t[0] != ix->post.body_len - 8) {
        rc = bad(ix, &ix->post, ix->post.size - 12, "bad postings trailer", err);
        goto fail;
    }
    ix->post_end = QF_HEADER + t[0];
    if (trailer(&ix->posn, 1, t) || t[0] != ix->posn.body_len - 8) {
        rc = bad(ix, &ix->posn, ix->posn.size - 12, "bad positions trailer", err);
        goto fail;
    }
    ix->posn_end = QF_HEADER + t[0];
    *out = ix;
    return 0;
fail:
    quarry_close(ix);
    return rc;
}

int quarry_open(const char *dir, quarry_index **out, quarry_error *err)
{
    return qx_open(dir, 1, out, err);
}

/* ------------------------------------------------------------ dictionary */

typedef struct dblock {
    qcur c;
    uint64_t post_off, pos_off;
    uint32_t count, i;
    uint8_t term[QF_MAX_TERM + 1];
    uint32_t len;
} dblock;

static int dblock_open(const quarry_index *ix, uint64_t b, dblock *d)
{
    uint64_t off = qload_u64(ix->dict_index + 8 * b);
    uint64_t end = (b + 1 < ix->ndblocks) ? qload_u64(ix->dict_index + 8 * (b + 1))
                                          : (uint64_t)(ix->dict_index - ix->dict.base);
    d->c = qcur_make(ix->dict.base + off, end - off);
    d->post_off = qcur_u64(&d->c);
    d->pos_off = qcur_u64(&d->c);
    d->count = qcur_u32(&d->c);
    d->i = 0;
    d->len = 0;
    uint64_t expect = (b + 1 < ix->ndblocks) ? QF_DICT_BLOCK : ix->nterms - QF_DICT_BLOCK * b;
    return d->c.ok && d->count == expect ? 0 : -1;
}

/* Decodes the next entry of the block; -1 when damaged. */
static int dblock_next(const quarry_index *ix, dblock *d, qx_term *t)
{
    uint64_t pre = qcur_varint(&d->c), suf = qcur_varint(&d->c);
    if (!d->c.ok || pre > d->len || pre + suf > QF_MAX_TERM || pre + suf == 0 || (d->i == 0 && pre))
        return -1;
    const uint8_t *s = qcur_bytes(&d->c, suf);
    if (!s)
        return -1;
    memcpy(d->term + pre, s, suf);
    d->len = (uint32_t)(pre + suf);
    t->df = qcur_varint(&d->c);
    t->cf = t->df + qcur_varint(&d->c);
    t->post_len = qcur_varint(&d->c);
    t->pos_len = qcur_varint(&d->c);
    t->max_tf = (uint32_t)qcur_varint(&d->c);
    t->min_len = (uint32_t)qcur_varint(&d->c);
    t->post_off = d->post_off;
    t->pos_off = d->pos_off;
    if (!d->c.ok || t->df == 0 || t->df > ix->nunits || t->post_off < QF_HEADER || t->pos_off < QF_HEADER ||
        t->post_off > ix->post_end || t->pos_off > ix->posn_end ||
        t->post_len > ix->post_end - t->post_off || t->pos_len > ix->posn_end - t->pos_off)
        return -1;
    d->post_off += t->post_len;
    d->pos_off += t->pos_len;
    d->i++;
    return 0;
}

static int cmp_bytes(const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

int qx_lookup(const quarry_index *ix, const char *term, size_t len, qx_term *out, quarry_error *err)
{
    if (ix->ndblocks == 0 || len == 0 || len > QF_MAX_TERM)
        return 0;
    /* binary search for the last block whose first term <= term */
    uint64_t lo = 0, hi = ix->ndblocks;
    dblock d;
    qx_term t;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (dblock_open(ix, mid, &d) || dblock_next(ix, &d, &t))
            return -bad(ix, &ix->dict, qload_u64(ix->dict_index + 8 * mid), "damaged dictionary block", err);
        if (cmp_bytes(d.term, d.len, (const uint8_t *)term, len) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    if (dblock_open(ix, lo, &d))
        return -bad(ix, &ix->dict, qload_u64(ix->dict_index + 8 * lo), "damaged dictionary block", err);
    for (uint32_t i = 0; i < d.count; i++) {
        if (dblock_next(ix, &d, &t))
            return -bad(ix, &ix->dict, qload_u64(ix->dict_index + 8 * lo), "damaged dictionary entry", err);
        int c = cmp_bytes(d.term, d.len, (const uint8_t *)term, len);
        if (c == 0) {
            *out = t;
            return 1;
        }
        if (c > 0)
            return 0;
    }
    return 0;
}

int qx_each_term(const quarry_index *ix, qx_term_fn fn, void *ctx, quarry_error *err)
{
    dblock d;
    qx_term t;
    uint8_t prev[QF_MAX_TERM + 1];
    uint32_t prev_len = 0;
    uint64_t post_expect = QF_HEADER, pos_expect = QF_HEADER;
    for (uint64_t b = 0; b < ix->ndblocks; b++) {
        if (dblock_open(ix, b, &d))
            return bad(ix, &ix->dict, qload_u64(ix->dict_index + 8 * b), "damaged dictionary block header", err);
        if (d.post_off != post_expect || d.pos_off != pos_expect)
            return bad(ix, &ix->dict, qload_u64(ix->dict_index + 8 * b), "dictionary block offsets are not contiguous", err);
        for (uint32_t i = 0; i < d.count; i++) {
            if (dblock_next(ix, &d, &t))
                return bad(ix, &ix->dict, qload_u64(ix->dict_index + 8 * b), "damaged dictionary entry", err);
            if ((b || i) && cmp_bytes(prev, prev_len, d.term, d.len) >= 0)
                return bad(ix, &ix->dict, qload_u64(ix->dict_index + 8 * b), "dictionary terms out of order", err);
            memcpy(prev, d.term, d.len);
            prev_len = d.len;
            int rc = fn(ctx, d.term, d.len, &t);
            if (rc)
                return rc;
        }
        post_expect = d.post_off;
        pos_expect = d.pos_off;
    }
    if (post_expect != ix->post_end || pos_expect != ix->posn_end)
        return bad(ix, &ix->dict, QF_HEADER, "dictionary does not cover the postings exactly", err);
    return 0;
}

/* ------------------------------------------------------------ cursors */

static int decode_block(qx_cursor *c, const uint8_t *p, int64_t prev_doc)
{
    uint64_t left = c->t.df - c->blk * QC_BLOCK;
    uint32_t n = left < QC_BLOCK ? (uint32_t)left : QC_BLOCK;
    if (p >= c->end)
        return -1;
    unsigned wd = *p++;
    long k = qc_unpack(p, c->end, n, wd, c->docs);
    if (k < 0)
        return -1;
    p += k;
    if (p >= c->end)
        return -1;
    unsigned wt = *p++;
    k = qc_unpack(p, c->end, n, wt, c->tfs);
    if (k < 0)
        return -1;
    p += k;
    int64_t d = prev_doc;
    for (uint32_t i = 0; i < n; i++) {
        d += (int64_t)c->docs[i] + 1;
        c->docs[i] = (uint32_t)d;
        c->tfs[i] += 1;
    }
    if (d >= (int64_t)c->ix->nunits)
        return -1;
    c->next_block = p;
    c->n = n;
    c->i = 0;
    c->pos_block = -1;
    return 0;
}

static uint32_t fail(qx_cursor *c)
{
    c->corrupt = 1;
    c->doc = QX_END;
    c->n = 0;
    c->blk = c->nblocks;
    return QX_END;
}

int qx_cursor_open(qx_cursor *c, const quarry_index *ix, const qx_term *t)
{
    memset(c, 0, sizeof *c);
    c->ix = ix;
    c->t = *t;
    c->nblocks = (t->df + QC_BLOCK - 1) / QC_BLOCK;
    c->pos_block = -1;
    c->base = ix->post.base + t->post_off;
    c->end = c->base + t->post_len;
    c->pbase = ix->posn.base + t->pos_off;
    c->pend = c->pbase + t->pos_len;
    if (c->nblocks > 1) {
        if (t->post_len < c->nblocks * QF_SKIP_SIZE)
            return fail(c), -1;
        c->end = c->base + t->post_len - c->nblocks * QF_SKIP_SIZE;
        c->skips = c->end;
    }
    c->blk = 0;
    if (decode_block(c, c->base, -1))
        return fail(c), -1;
    c->doc = c->docs[0];
    return 0;
}

void qx_cursor_close(qx_cursor *c)
{
    free(c->pos);
    free(c->pos_start);
    c->pos = NULL;
    c->pos_start = NULL;
}

static inline uint32_t skip_u32(const qx_cursor *c, uint64_t b, int field)
{
    return qload_u32(c->skips + QF_SKIP_SIZE * b + 4 * field);
}

/* Loads block b (b > current). */
static uint32_t load_block(qx_cursor *c, uint64_t b)
{
    if (b >= c->nblocks) {
        c->doc = QX_END;
        c->blk = c->nblocks;
        return QX_END;
    }
    uint64_t off = skip_u32(c, b, 1);
    int64_t prev = (int64_t)skip_u32(c, b - 1, 0);
    if (off >= (uint64_t)(c->end - c->base))
        return fail(c);
    c->blk = b;
    if (decode_block(c, c->base + off, prev) || c->docs[c->n - 1] != skip_u32(c, b, 0))
        return fail(c);
    c->doc = c->docs[0];
    return c->doc;
}

uint32_t qx_next(qx_cursor *c)
{
    if (c->doc == QX_END)
        return QX_END;
    if (++c->i < c->n)
        return c->doc = c->docs[c->i];
    return load_block(c, c->blk + 1);
}

uint32_t qx_advance(qx_cursor *c, uint32_t target)
{
    if (c->doc >= target)
        return c->doc;
    if (c->docs[c->n - 1] < target) {
        if (!c->skips) {
            c->doc = QX_END;
            return QX_END;
        }
        uint64_t b = c->blk + 1;
        while (b < c->nblocks && skip_u32(c, b, 0) < target)
            b++;
        if (load_block(c, b) == QX_END)
            return QX_END;
    }
    /* within the block: linear scan (blocks are small) */
    while (c->docs[c->i] < target)
        c->i++;
    return c->doc = c->docs[c->i];
}

void qx_block_bounds(const qx_cursor *c, uint32_t *last_doc, uint32_t *max_tf, uint32_t *min_len)
{
    if (c->skips && c->blk < c->nblocks) {
        *last_doc = skip_u32(c, c->blk, 0);
        *max_tf = skip_u32(c, c->blk, 3);
        *min_len = skip_u32(c, c->blk, 4);
    } else {
        *last_doc = c->n ? c->docs[c->n - 1] : QX_END;
        *max_tf = c->t.max_tf;
        *min_len = c->t.min_len;
    }
}

const uint32_t *qx_positions(qx_cursor *c)
{
    if (c->doc == QX_END || c->corrupt)
        return NULL;
    if (c->pos_block != (int64_t)c->blk) {
        uint64_t total = 0;
        if (!c->pos_start && !(c->pos_start = malloc((QC_BLOCK + 1) * sizeof *c->pos_start)))
            return NULL;
        for (uint32_t i = 0; i < c->n; i++) {
            c->pos_start[i] = (uint32_t)total;
            total += c->tfs[i];
        }
        c->pos_start[c->n] = (uint32_t)total;
        if (total > (uint64_t)(c->pend - c->pbase) * QC_BLOCK + QC_BLOCK) {
            fail(c);
            return NULL;
        }
        if (total > c->cap_pos) {
            size_t nc = c->cap_pos ? c->cap_pos : 1024;
            while (nc < total + QC_BLOCK)
                nc *= 2;
            uint32_t *p = realloc(c->pos, nc * sizeof *p);
            if (!p)
                return NULL;
            c->pos = p;
            c->cap_pos = nc;
        }
        uint64_t off = c->skips ? skip_u32(c, c->blk, 2) : 0;
        if (off > (uint64_t)(c->pend - c->pbase)) {
            fail(c);
            return NULL;
        }
        const uint8_t *p = c->pbase + off;
        for (uint64_t i = 0; i < total; i += QC_BLOCK) {
            size_t k = total - i < QC_BLOCK ? (size_t)(total - i) : QC_BLOCK;
            if (p >= c->pend) {
                fail(c);
                return NULL;
            }
            unsigned w = *p++;
            long used = qc_unpack(p, c->pend, k, w, c->pos + i);
            if (used < 0) {
                fail(c);
                return NULL;
            }
            p += used;
        }
        /* gaps -> absolute, per posting */
        for (uint32_t i = 0; i < c->n; i++) {
            uint32_t acc = 0;
            for (uint32_t j = c->pos_start[i]; j < c->pos_start[i + 1]; j++) {
                uint32_t g = c->pos[j];
                if (j > c->pos_start[i] && g == 0) {
                    fail(c);
                    return NULL;
                }
                acc += g;
                c->pos[j] = acc;
            }
        }
        c->pos_block = (int64_t)c->blk;
    }
    return c->pos + c->pos_start[c->i];
}

/* ------------------------------------------------------------ articles */

int qx_article(const quarry_index *ix, uint32_t a, const qx_artrec **out, quarry_error *err)
{
    if (a >= ix->narts)
        return qerr_set(err, QUARRY_ENOTFOUND, "no article %u (the index has %llu)", a, (unsigned long long)ix->narts);
    if (ix->art_cache[a]) {
        *out = ix->art_cache[a];
        return 0;
    }
    uint64_t off = qload_u64(ix->art_offs + 8 * (uint64_t)a);
    uint64_t end = qload_u64(ix->art_offs + 8 * ((uint64_t)a + 1));
    uint64_t limit = (uint64_t)(ix->art_offs - ix->arts.base);
    if (off < QF_HEADER || end > limit || off >= end)
        return bad(ix, &ix->arts, off, "article offset out of range", err);
    qcur c = qcur_make(ix->arts.base + off, end - off);
    uint32_t first = qcur_u32(&c), n = qcur_u32(&c);
    uint64_t l1 = qcur_varint(&c);
    const uint8_t *id = qcur_bytes(&c, l1);
    uint64_t l2 = qcur_varint(&c);
    const uint8_t *title = qcur_bytes(&c, l2);
    uint64_t l3 = qcur_varint(&c);
    const uint8_t *date = qcur_bytes(&c, l3);
    if (!c.ok || c.p != c.end || n == 0 || (uint64_t)first + n > ix->nunits)
        return bad(ix, &ix->arts, off, "damaged article record", err);
    qx_artrec *r = malloc(sizeof *r);
    char *s = malloc(l1 + l2 + l3 + 3);
    if (!r || !s) {
        free(r);
        free(s);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    r->id = s;
    memcpy(s, id, l1);
    s[l1] = 0;
    r->title = s + l1 + 1;
    memcpy(r->title, title, l2);
    r->title[l2] = 0;
    r->date = r->title + l2 + 1;
    memcpy(r->date, date, l3);
    r->date[l3] = 0;
    r->first_unit = first;
    r->nunits = n;
    ix->art_cache[a] = r;
    *out = r;
    return 0;
}

int quarry_article_get(const quarry_index *ix, uint32_t a, quarry_article *out, quarry_error *err)
{
    const qx_artrec *r;
    int rc = qx_article(ix, a, &r, err);
    if (rc)
        return rc;
    out->id = r->id;
    out->title = r->title;
    out->date = r->date;
    out->first_passage = r->first_unit;
    out->npassages = r->nunits;
    return 0;
}

int quarry_article_find(const quarry_index *ix, const char *id, uint32_t *article, quarry_error *err)
{
    uint64_t lo = 0, hi = ix->narts;
    size_t len = strlen(id);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint32_t a = qload_u32(ix->art_order + 4 * mid);
        const qx_artrec *r;
        int rc = qx_article(ix, a, &r, err);
        if (rc)
            return rc;
        int c = cmp_bytes((const uint8_t *)r->id, strlen(r->id), (const uint8_t *)id, len);
        if (c == 0) {
            *article = a;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return qerr_set(err, QUARRY_ENOTFOUND, "no article with id \"%s\"", id);
}

/* ------------------------------------------------------------ text */

static int text_block(quarry_index *ix, uint64_t b, quarry_error *err)
{
    if ((int64_t)b == ix->tcache_block)
        return 0;
    const uint8_t *e = ix->text_dir + 20 * b;
    uint64_t off = qload_u64(e);
    uint32_t clen = qload_u32(e + 8), ulen = qload_u32(e + 12);
    uint64_t limit = (uint64_t)(ix->text_dir - ix->text.base);
    /* deflate cannot shrink data more than about 1032:1, so a damaged raw
     * length cannot make us allocate much more than the block could hold */
    if (off < QF_HEADER || off > limit || clen > limit - off || (uint64_t)ulen > (uint64_t)clen * 1032 + 64)
        return bad(ix, &ix->text, 20 * b, "text block out of range", err);
    qbuf_reset(&ix->tcache);
    if (qbuf_reserve(&ix->tcache, ulen + 1))
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    uLongf got = ulen;
    if (uncompress(ix->tcache.p, &got, ix->text.base + off, clen) != Z_OK || got != ulen) {
        ix->tcache_block = -1;
        return bad(ix, &ix->text, off, "text block does not decompress", err);
    }
    ix->tcache.len = ulen;
    ix->tcache_block = (int64_t)b;
    return 0;
}

/* Appends the text of unit u to `out`. */
static int unit_text(quarry_index *ix, uint32_t u, qbuf *out, quarry_error *err)
{
    if (u >= ix->nunits)
        return qerr_set(err, QUARRY_ENOTFOUND, "no passage %u (the index has %llu)", u, (unsigned long long)ix->nunits);
    uint64_t lo = 0, hi = ix->ntblocks;
    while (hi - lo > 1) {   /* last block with first_unit <= u */
        uint64_t mid = lo + (hi - lo) / 2;
        if (qload_u32(ix->text_dir + 20 * mid + 16) <= u)
            lo = mid;
        else
            hi = mid;
    }
    if (ix->ntblocks == 0)
        return bad(ix, &ix->text, QF_HEADER, "text store is empty", err);
    int rc = text_block(ix, lo, err);
    if (rc)
        return rc;
    uint32_t first = qload_u32(ix->text_dir + 20 * lo + 16);
    qcur c = qcur_make(ix->tcache.p, ix->tcache.len);
    uint32_t count = qcur_u32(&c);
    if (!c.ok || u - first >= count || 4 + (uint64_t)count * 4 > ix->tcache.len)
        return bad(ix, &ix->text, qload_u64(ix->text_dir + 20 * lo), "text block does not hold the passage", err);
    uint64_t start = 4 + 4 * (uint64_t)count;
    for (uint32_t i = 0; i < u - first; i++)
        start += qload_u32(ix->tcache.p + 4 + 4 * (uint64_t)i);
    uint32_t len = qload_u32(ix->tcache.p + 4 + 4 * (uint64_t)(u - first));
    if (start > ix->tcache.len || len > ix->tcache.len - start)
        return bad(ix, &ix->text, qload_u64(ix->text_dir + 20 * lo), "passage length out of range", err);
    if (qbuf_append(out, ix->tcache.p + start, len))
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    return 0;
}

static int finish_text(qbuf *b, char **text, size_t *len, quarry_error *err)
{
    if (qbuf_putc(b, 0)) {
        qbuf_free(b);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    *text = (char *)b->p;
    if (len)
        *len = b->len - 1;
    return 0;
}

int quarry_passage_text(quarry_index *ix, uint32_t passage, char **text, size_t *len, quarry_error *err)
{
    qbuf b;
    qbuf_init(&b);
    int rc = unit_text(ix, passage, &b, err);
    if (rc) {
        qbuf_free(&b);
        return rc;
    }
    return finish_text(&b, text, len, err);
}

int quarry_article_text(quarry_index *ix, uint32_t article, char **text, size_t *len, quarry_error *err)
{
    const qx_artrec *r;
    int rc = qx_article(ix, article, &r, err);
    if (rc)
        return rc;
    qbuf b;
    qbuf_init(&b);
    for (uint32_t u = r->first_unit; u < r->first_unit + r->nunits; u++) {
        if ((rc = unit_text(ix, u, &b, err))) {
            qbuf_free(&b);
            return rc;
        }
    }
    return finish_text(&b, text, len, err);
}

/* ------------------------------------------------------------ info */

int quarry_info_get(const quarry_index *ix, quarry_info *o)
{
    memset(o, 0, sizeof *o);
    o->articles = ix->narts;
    o->passages = ix->nunits;
    o->terms = ix->nterms;
    o->postings = ix->npostings;
    o->positions = ix->npositions;
    o->tokens = ix->ntokens;
    o->avg_len = ix->avgdl;
    o->generation = ix->m.generation;
    o->passage_mode = (int)ix->passage_mode;
    o->passage_tokens = ix->passage_tokens;
    snprintf(o->language, sizeof o->language, "%s", qa_language(ix->an));
    snprintf(o->stemmer, sizeof o->stemmer, "%s", qa_stemmer_name(ix->an));
    snprintf(o->stopwords, sizeof o->stopwords, "%s", qa_stopwords_desc(ix->an));
    o->nfiles = ix->m.nfiles < 16 ? ix->m.nfiles : 16;
    for (size_t i = 0; i < o->nfiles; i++) {
        snprintf(o->files[i].name, sizeof o->files[i].name, "%s", ix->m.files[i].name);
        o->files[i].bytes = ix->m.files[i].size;
    }
    return 0;
}
