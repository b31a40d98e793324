/*
 * postw.c — the postings writer: blocks of 128 bit-packed doc-id gaps and
 * term frequencies with a skip table, positions in their own stream, and
 * the front-coded term dictionary (index/FORMAT.md §post, §posn, §dict).
 */
#include "index/postw.h"

#include <stdlib.h>

#include "index/codec.h"
#include "index/manifest.h"

struct qpw {
    qf_writer dict, post, posn;
    const uint32_t *unit_len;
    uint32_t nunits;
    /* current term */
    uint8_t term[QF_MAX_TERM + 1];
    uint32_t term_len;
    uint64_t term_post_off, term_pos_off;
    uint64_t df, cf;
    uint32_t max_tf, min_len;
    int64_t prev_doc;        /* last doc of the previous block, -1 at start */
    int64_t last_doc;        /* last doc added (for order checks) */
    uint32_t docs[QC_BLOCK], tfs[QC_BLOCK];
    uint32_t n;              /* postings in the current block */
    uint32_t *pos;           /* position values (first absolute, then gaps) of the block */
    size_t npos, cap_pos;
    uint32_t blk_max_tf, blk_min_len;
    uint64_t nblocks;
    qbuf skips;
    /* dictionary */
    uint8_t prev_term[QF_MAX_TERM + 1];
    uint32_t prev_len;
    qbuf dblock;             /* entries of the current dictionary block */
    uint32_t dcount;
    uint64_t dblock_post_off, dblock_pos_off;
    qbuf doffs;              /* u64 offsets of dictionary blocks */
    uint64_t nterms, npostings, npositions;
    int failed;
};

int qpw_open(qpw **out, const char *dir, uint64_t seg, const uint32_t *unit_len, uint32_t nunits,
             quarry_error *err)
{
    qpw *w = calloc(1, sizeof *w);
    if (!w)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    char name[QM_NAME];
    int rc;
    qm_seg_name(name, seg, QF_DICT);
    if ((rc = qf_create(&w->dict, dir, name, QF_DICT, err))) {
        free(w);
        return rc;
    }
    qm_seg_name(name, seg, QF_POST);
    if ((rc = qf_create(&w->post, dir, name, QF_POST, err))) {
        qf_abort(&w->dict);
        free(w);
        return rc;
    }
    qm_seg_name(name, seg, QF_POSN);
    if ((rc = qf_create(&w->posn, dir, name, QF_POSN, err))) {
        qf_abort(&w->dict);
        qf_abort(&w->post);
        free(w);
        return rc;
    }
    w->unit_len = unit_len;
    w->nunits = nunits;
    qbuf_init(&w->skips);
    qbuf_init(&w->dblock);
    qbuf_init(&w->doffs);
    *out = w;
    return 0;
}

void qpw_abort(qpw *w)
{
    if (!w)
        return;
    qf_abort(&w->dict);
    qf_abort(&w->post);
    qf_abort(&w->posn);
    free(w->pos);
    qbuf_free(&w->skips);
    qbuf_free(&w->dblock);
    qbuf_free(&w->doffs);
    free(w);
}

int qpw_term_begin(qpw *w, const uint8_t *term, uint32_t len)
{
    if (len > QF_MAX_TERM || len == 0) {
        w->failed = 1;
        return -1;
    }
    memcpy(w->term, term, len);
    w->term_len = len;
    w->term_post_off = w->post.off;
    w->term_pos_off = w->posn.off;
    w->df = w->cf = 0;
    w->max_tf = 0;
    w->min_len = UINT32_MAX;
    w->prev_doc = -1;
    w->last_doc = -1;
    w->n = 0;
    w->npos = 0;
    w->nblocks = 0;
    w->blk_max_tf = 0;
    w->blk_min_len = UINT32_MAX;
    qbuf_reset(&w->skips);
    return 0;
}

/* Packs v[0..n) as [u8 width][packed] into `f`. */
static void put_group(qf_writer *f, const uint32_t *v, size_t n)
{
    uint8_t tmp[1 + QC_BLOCK * 4];
    unsigned wd = qc_width(v, n);
    tmp[0] = (uint8_t)wd;
    qc_pack(v, n, wd, tmp + 1);
    qf_write(f, tmp, 1 + qc_packed_size(n, wd));
}

static void flush_block(qpw *w)
{
    if (w->n == 0)
        return;
    uint32_t gaps[QC_BLOCK], tfm1[QC_BLOCK];
    int64_t prev = w->prev_doc;
    for (uint32_t i = 0; i < w->n; i++) {
        gaps[i] = (uint32_t)((int64_t)w->docs[i] - prev - 1);
        prev = w->docs[i];
        tfm1[i] = w->tfs[i] - 1;
    }
    uint64_t boff = w->post.off - w->term_post_off;
    uint64_t poff = w->posn.off - w->term_pos_off;
    put_group(&w->post, gaps, w->n);
    put_group(&w->post, tfm1, w->n);
    for (size_t i = 0; i < w->npos; i += QC_BLOCK) {
        size_t k = w->npos - i < QC_BLOCK ? w->npos - i : QC_BLOCK;
        put_group(&w->posn, w->pos + i, k);
    }
    qbuf_put_u32(&w->skips, w->docs[w->n - 1]);
    qbuf_put_u32(&w->skips, (uint32_t)boff);
    qbuf_put_u32(&w->skips, (uint32_t)poff);
    qbuf_put_u32(&w->skips, w->blk_max_tf);
    qbuf_put_u32(&w->skips, w->blk_min_len);
    if (boff > UINT32_MAX || poff > UINT32_MAX)
        w->failed = 1;
    w->prev_doc = w->docs[w->n - 1];
    w->nblocks++;
    w->n = 0;
    w->npos = 0;
    w->blk_max_tf = 0;
    w->blk_min_len = UINT32_MAX;
}

int qpw_posting(qpw *w, uint32_t unit, uint32_t tf, const uint32_t *pos)
{
    if ((int64_t)unit <= w->last_doc || unit >= w->nunits || tf == 0) {
        w->failed = 1;
        return -1;
    }
    w->last_doc = unit;
    if (w->npos + tf > w->cap_pos) {
        size_t nc = w->cap_pos ? w->cap_pos : 1024;
        while (nc < w->npos + tf)
            nc *= 2;
        uint32_t *p = realloc(w->pos, nc * sizeof *p);
        if (!p) {
            w->failed = 1;
            return -1;
        }
        w->pos = p;
        w->cap_pos = nc;
    }
    uint32_t prev = 0;
    for (uint32_t i = 0; i < tf; i++) {
        w->pos[w->npos++] = pos[i] - prev;
        prev = pos[i];
    }
    w->docs[w->n] = unit;
    w->tfs[w->n] = tf;
    w->n++;
    uint32_t len = w->unit_len[unit];
    if (tf > w->blk_max_tf)
        w->blk_max_tf = tf;
    if (len < w->blk_min_len)
        w->blk_min_len = len;
    if (tf > w->max_tf)
        w->max_tf = tf;
    if (len < w->min_len)
        w->min_len = len;
    w->df++;
    w->cf += tf;
    if (w->n == QC_BLOCK)
        flush_block(w);
    return 0;
}

static void flush_dict_block(qpw *w)
{
    if (w->dcount == 0)
        return;
    qbuf_put_u64(&w->doffs, w->dict.off);
    qf_put_u64(&w->dict, w->dblock_post_off);
    qf_put_u64(&w->dict, w->dblock_pos_off);
    qf_put_u32(&w->dict, w->dcount);
    qf_write_buf(&w->dict, &w->dblock);
    qbuf_reset(&w->dblock);
    w->dcount = 0;
}

int qpw_term_end(qpw *w)
{
    if (w->df == 0)
        return 0;   /* a term with no postings is not written */
    flush_block(w);
    if (w->nblocks > 1)
        qf_write_buf(&w->post, &w->skips);
    uint64_t post_len = w->post.off - w->term_post_off;
    uint64_t pos_len = w->posn.off - w->term_pos_off;
    if (w->dcount == 0) {
        w->dblock_post_off = w->term_post_off;
        w->dblock_pos_off = w->term_pos_off;
        w->prev_len = 0;
    }
    uint32_t pre = 0;
    while (pre < w->prev_len && pre < w->term_len && w->prev_term[pre] == w->term[pre])
        pre++;
    qbuf *b = &w->dblock;
    qbuf_put_varint(b, pre);
    qbuf_put_varint(b, w->term_len - pre);
    qbuf_append(b, w->term + pre, w->term_len - pre);
    qbuf_put_varint(b, w->df);
    qbuf_put_varint(b, w->cf - w->df);
    qbuf_put_varint(b, post_len);
    qbuf_put_varint(b, pos_len);
    qbuf_put_varint(b, w->max_tf);
    qbuf_put_varint(b, w->min_len);
    memcpy(w->prev_term, w->term, w->term_len);
    w->prev_len = w->term_len;
    w->nterms++;
    w->npostings += w->df;
    w->npositions += w->cf;
    if (++w->dcount == QF_DICT_BLOCK)
        flush_dict_block(w);
    return 0;
}

int qpw_finish(qpw *w, qpw_result *res, quarry_error *err)
{
    flush_dict_block(w);
    uint64_t index_off = w->dict.off;
    qf_write_buf(&w->dict, &w->doffs);
    qf_put_u64(&w->dict, w->nterms);
    qf_put_u64(&w->dict, w->doffs.len / 8);
    qf_put_u64(&w->dict, index_off);
    /* the post and posn bodies end with their total length, so a reader
     * can check the dictionary's offsets against it */
    qf_put_u64(&w->post, w->post.off - QF_HEADER);
    qf_put_u64(&w->posn, w->posn.off - QF_HEADER);
    int failed = w->failed || w->skips.oom || w->dblock.oom || w->doffs.oom;
    memset(res, 0, sizeof *res);
    res->terms = w->nterms;
    res->postings = w->npostings;
    res->positions = w->npositions;
    int rc = 0;
    if (failed) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory (or a limit exceeded) while writing postings");
        qpw_abort(w);
        return rc;
    }
    rc = qf_finish(&w->dict, &res->size[0], &res->crc[0], err);
    if (!rc)
        rc = qf_finish(&w->post, &res->size[1], &res->crc[1], err);
    else
        qf_abort(&w->post);
    if (!rc)
        rc = qf_finish(&w->posn, &res->size[2], &res->crc[2], err);
    else
        qf_abort(&w->posn);
    free(w->pos);
    qbuf_free(&w->skips);
    qbuf_free(&w->dblock);
    qbuf_free(&w->doffs);
    free(w);
    return rc;
}
