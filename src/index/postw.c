/*
 * postw.c — the postings writer: blocks of 128 bit-packed doc-id gaps and
 * term frequencies with impacts (impact.h) and a skip table, positions in
 * their own stream, and the front-coded term dictionary (index/FORMAT.md
 * §post, §posn, §dict).
 */
#include "index/postw.h"
#include "base/sys.h"

#include <errno.h>
#include <stdlib.h>

#include "index/codec.h"
#include "index/impact.h"
#include "index/manifest.h"

#define PART_RUN 0xd0000000u   /* run numbers of the parts' temporary files (unitw.c's start at 0xc0000000) */

struct qpw {
    qf_writer dict, post, posn;
    const uint8_t *unit_len;   /* u32 little-endian per unit */
    double avglen;             /* their average: qim_frontier's reference */
    uint32_t nunits;
    /* current term */
    uint8_t term[QF_MAX_TERM + 1];
    uint32_t term_len;
    uint64_t term_post_off, term_pos_off;
    uint64_t df, cf;
    int64_t prev_doc;        /* last doc of the previous block, -1 at start */
    int64_t last_doc;        /* last doc added (for order checks) */
    uint32_t docs[QC_BLOCK], tfs[QC_BLOCK];
    uint32_t n;              /* postings in the current block */
    uint32_t *pos;           /* position values (first absolute, then gaps) of the block */
    size_t npos, cap_pos;
    qim_pair bp[QC_BLOCK];   /* (tf, length) of the block's postings */
    qim_pair *tp;            /* the frontiers of the term's blocks, one after another */
    size_t ntp, cap_tp;
    uint64_t nblocks;
    qbuf skips;              /* impact offsets relative to the impacts area until term end */
    qbuf imps;               /* the term's impacts area */
    /* dictionary */
    uint8_t prev_term[QF_MAX_TERM + 1];
    uint32_t prev_len;
    qbuf dblock;             /* entries of the current dictionary block */
    uint32_t dcount;
    uint64_t dblock_post_off, dblock_pos_off;
    qbuf doffs;              /* u64 offsets of dictionary blocks */
    qbuf tail;               /* the current term's entry after its bytes (df ... impacts) */
    /* a part (qpw_open_part): post and posn are temporary files, and the
     * dictionary entries wait in `dents` for qpw_append */
    int part;
    qbuf dents;
    uint64_t nterms, npostings, npositions;
    int failed;
};

/* Creates the writer of segment `seg` (dict, post, posn) or, with `part`,
 * the temporary post and posn files of part `part` of it (no dictionary). */
static int open_writer(qpw **out, const char *dir, uint64_t seg, uint32_t part, const uint8_t *unit_len,
                       uint32_t nunits, quarry_error *err)
{
    qpw *w = qcalloc(1, sizeof *w);
    if (!w)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    w->part = part != 0;
    char name[QM_NAME];
    int rc = 0;
    if (!w->part) {
        qm_seg_name(name, seg, QF_DICT);
        rc = qf_create(&w->dict, dir, name, QF_DICT, err);
    }
    if (!rc) {
        if (w->part)
            qm_run_name(name, seg, PART_RUN + 2 * part);
        else
            qm_seg_name(name, seg, QF_POST);
        if ((rc = qf_create(&w->post, dir, name, QF_POST, err)))
            qf_abort(&w->dict);
    }
    if (!rc) {
        if (w->part)
            qm_run_name(name, seg, PART_RUN + 2 * part + 1);
        else
            qm_seg_name(name, seg, QF_POSN);
        if ((rc = qf_create(&w->posn, dir, name, QF_POSN, err))) {
            qf_abort(&w->dict);
            qf_abort(&w->post);
        }
    }
    if (rc) {
        free(w);
        return rc;
    }
    w->unit_len = unit_len;
    uint64_t total = 0;
    for (uint32_t u = 0; u < nunits; u++)
        total += qload_u32(unit_len + 4 * (size_t)u);
    w->avglen = nunits ? (double)total / nunits : 1.0;
    w->nunits = nunits;
    qbuf_init(&w->skips);
    qbuf_init(&w->imps);
    qbuf_init(&w->dblock);
    qbuf_init(&w->doffs);
    qbuf_init(&w->tail);
    qbuf_init(&w->dents);
    *out = w;
    return 0;
}

int qpw_open(qpw **out, const char *dir, uint64_t seg, const uint8_t *unit_len, uint32_t nunits,
             quarry_error *err)
{
    return open_writer(out, dir, seg, 0, unit_len, nunits, err);
}

int qpw_open_part(qpw **out, const char *dir, uint64_t seg, uint32_t part, const uint8_t *unit_len,
                  uint32_t nunits, quarry_error *err)
{
    if (part == 0 || part >= QPW_MAX_PARTS)
        return qerr_set(err, QUARRY_EINVAL, "postings writer part %u out of range", part);
    return open_writer(out, dir, seg, part, unit_len, nunits, err);
}

static void free_writer(qpw *w)
{
    free(w->pos);
    qbuf_free(&w->skips);
    qbuf_free(&w->imps);
    free(w->tp);
    qbuf_free(&w->dblock);
    qbuf_free(&w->doffs);
    qbuf_free(&w->tail);
    qbuf_free(&w->dents);
    free(w);
}

void qpw_abort(qpw *w)
{
    if (!w)
        return;
    qf_abort(&w->dict);
    qf_abort(&w->post);
    qf_abort(&w->posn);
    free_writer(w);
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
    w->ntp = 0;
    w->prev_doc = -1;
    w->last_doc = -1;
    w->n = 0;
    w->npos = 0;
    w->nblocks = 0;
    qbuf_reset(&w->skips);
    qbuf_reset(&w->imps);
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

/* The docs of a block: packed gaps, or a bitmap when that is no larger
 * (frequent terms: the bitmap also answers "is d here?" without decoding). */
static void put_docs(qf_writer *f, const uint32_t *docs, const uint32_t *gaps, uint32_t n)
{
    unsigned wd = qc_width(gaps, n);
    uint64_t first_off = gaps[0], span = (uint64_t)docs[n - 1] - docs[0] + 1;
    size_t packed = 1 + qc_packed_size(n, wd);
    size_t bitmap = 1 + qvarint_len(first_off) + qvarint_len(span) + (size_t)((span + 7) / 8);
    if (bitmap >= packed || span > 8 * QC_BLOCK * 4) {
        put_group(f, gaps, n);
        return;
    }
    uint8_t tmp[1 + 20 + QC_BLOCK * 4] = { QF_BITMAP_BLOCK };
    size_t k = 1;
    for (uint64_t v = first_off; ; v >>= 7) {   /* varints, as qbuf_put_varint writes them */
        tmp[k++] = (uint8_t)(v < 0x80 ? v : (v & 0x7f) | 0x80);
        if (v < 0x80)
            break;
    }
    for (uint64_t v = span; ; v >>= 7) {
        tmp[k++] = (uint8_t)(v < 0x80 ? v : (v & 0x7f) | 0x80);
        if (v < 0x80)
            break;
    }
    memset(tmp + k, 0, (size_t)((span + 7) / 8));
    for (uint32_t i = 0; i < n; i++) {
        uint64_t b = docs[i] - docs[0];
        tmp[k + b / 8] |= (uint8_t)(1u << (b % 8));
    }
    qf_write(f, tmp, k + (size_t)((span + 7) / 8));
}

static void flush_block(qpw *w)
{
    if (w->n == 0)
        return;
    /* the postings' unit lengths (for the impacts) are requested first and
     * read after the encoding: their cache misses overlap it and each other */
    for (uint32_t i = 0; i < w->n; i++)
        __builtin_prefetch(w->unit_len + 4 * (size_t)w->docs[i]);
    uint32_t gaps[QC_BLOCK], tfm1[QC_BLOCK];
    int64_t prev = w->prev_doc;
    for (uint32_t i = 0; i < w->n; i++) {
        gaps[i] = (uint32_t)((int64_t)w->docs[i] - prev - 1);
        prev = w->docs[i];
        tfm1[i] = w->tfs[i] - 1;
    }
    uint64_t boff = w->post.off - w->term_post_off;
    uint64_t poff = w->posn.off - w->term_pos_off;
    put_docs(&w->post, w->docs, gaps, w->n);
    put_group(&w->post, tfm1, w->n);
    for (size_t i = 0; i < w->npos; i += QC_BLOCK) {   /* positions: patched groups */
        size_t k = w->npos - i < QC_BLOCK ? w->npos - i : QC_BLOCK;
        uint8_t tmp[QC_PFOR_MAX];
        qf_write(&w->posn, tmp, qc_pfor_pack(w->pos + i, k, tmp));
    }
    for (uint32_t i = 0; i < w->n; i++)
        w->bp[i].len = qload_u32(w->unit_len + 4 * (size_t)w->docs[i]);
    /* the block's frontier goes to the impacts area and joins the term's */
    size_t nf = qim_frontier(w->bp, w->n, w->avglen);
    uint64_t ioff = w->imps.len;
    qim_put(&w->imps, w->bp, nf);
    if (w->ntp + nf > w->cap_tp) {
        size_t nc = w->cap_tp ? w->cap_tp * 2 : 256;
        qim_pair *t = qrealloc(w->tp, nc * sizeof *t);
        if (!t)
            w->failed = 1;
        else {
            w->tp = t;
            w->cap_tp = nc;
        }
    }
    if (w->ntp + nf <= w->cap_tp) {
        memcpy(w->tp + w->ntp, w->bp, nf * sizeof *w->bp);
        w->ntp += nf;
    }
    qbuf_put_u32(&w->skips, w->docs[w->n - 1]);
    qbuf_put_u32(&w->skips, (uint32_t)boff);
    qbuf_put_u32(&w->skips, (uint32_t)poff);
    qbuf_put_u32(&w->skips, (uint32_t)ioff);
    if (boff > UINT32_MAX || poff > UINT32_MAX || ioff > UINT32_MAX)
        w->failed = 1;
    w->prev_doc = w->docs[w->n - 1];
    w->nblocks++;
    w->n = 0;
    w->npos = 0;
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
        uint32_t *p = qrealloc(w->pos, nc * sizeof *p);
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
    w->bp[w->n].tf = tf;   /* .len: read in flush_block */
    w->n++;
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

/* Adds a term's dictionary entry: its bytes, where its postings and
 * positions start in the files, and the rest of its entry (`tail`: df,
 * cf - df, lengths, impacts). Terms come in byte order. */
static void dict_add(qpw *w, const uint8_t *term, uint32_t len, uint64_t post_off, uint64_t pos_off,
                     const uint8_t *tail, size_t tail_len)
{
    if (w->dcount == 0) {
        w->dblock_post_off = post_off;
        w->dblock_pos_off = pos_off;
        w->prev_len = 0;
    }
    uint32_t pre = 0;
    while (pre < w->prev_len && pre < len && w->prev_term[pre] == term[pre])
        pre++;
    qbuf *b = &w->dblock;
    qbuf_put_varint(b, pre);
    qbuf_put_varint(b, len - pre);
    qbuf_append(b, term + pre, len - pre);
    qbuf_append(b, tail, tail_len);
    memcpy(w->prev_term, term, len);
    w->prev_len = len;
    if (++w->dcount == QF_DICT_BLOCK)
        flush_dict_block(w);
}

int qpw_term_end(qpw *w)
{
    if (w->df == 0)
        return 0;   /* a term with no postings is not written */
    flush_block(w);
    if (w->nblocks > 1) {
        /* impacts area, then the skips with absolute (from the term's start) impact offsets */
        uint64_t area = w->post.off - w->term_post_off;
        for (uint64_t b = 0; b < w->nblocks && !w->skips.oom; b++) {
            uint8_t *f = w->skips.p + QF_SKIP_SIZE * b + 12;
            uint64_t v = area + qload_u32(f);
            if (v > UINT32_MAX)
                w->failed = 1;
            qstore_u32(f, (uint32_t)v);
        }
        qf_write_buf(&w->post, &w->imps);
        qf_write_buf(&w->post, &w->skips);
    }
    size_t nf = w->ntp ? qim_frontier(w->tp, w->ntp, w->avglen) : 0;
    qbuf *t = &w->tail;
    qbuf_reset(t);
    qbuf_put_varint(t, w->df);
    qbuf_put_varint(t, w->cf - w->df);
    qbuf_put_varint(t, w->post.off - w->term_post_off);
    qbuf_put_varint(t, w->posn.off - w->term_pos_off);
    qim_put(t, w->tp, nf);
    if (t->oom)
        w->failed = 1;
    else if (w->part) {   /* kept for qpw_append: offsets from the parts' file bodies */
        qbuf_put_varint(&w->dents, w->term_len);
        qbuf_append(&w->dents, w->term, w->term_len);
        qbuf_put_varint(&w->dents, w->term_post_off - QF_HEADER);
        qbuf_put_varint(&w->dents, w->term_pos_off - QF_HEADER);
        qbuf_put_varint(&w->dents, t->len);
        qbuf_append(&w->dents, t->p, t->len);
    } else
        dict_add(w, w->term, w->term_len, w->term_post_off, w->term_pos_off, t->p, t->len);
    w->nterms++;
    w->npostings += w->df;
    w->npositions += w->cf;
    return 0;
}

/* Appends the body of the temporary file written by `from` (flushed) to `to`;
 * removes it. */
static int append_file(qf_writer *to, qf_writer *from, quarry_error *err)
{
    int rc = 0;
    if (from->failed || qsys_fflush(from->f) != 0) {
        errno = from->failed ? from->saved_errno : errno;
        rc = qerr_errno(err, "cannot write", from->path);
        qf_abort(from);
        return rc;
    }
    FILE *f = qsys_fopen(from->path, "rb");
    if (!f) {
        rc = qerr_errno(err, "cannot open", from->path);
        qf_abort(from);
        return rc;
    }
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = qmalloc(CHUNK);
    uint64_t left = from->off, at = 0;
    if (!buf)
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    while (!rc && left) {
        size_t k = left < CHUNK ? (size_t)left : CHUNK;
        if (qsys_fread(buf, 1, k, f) != k)
            rc = ferror(f) ? qerr_errno(err, "cannot read", from->path)
                           : qerr_set(err, QUARRY_EIO, "%s: shorter than written", from->path);
        else if (at == 0 ? qf_write(to, buf + QF_HEADER, k - QF_HEADER) : qf_write(to, buf, k))
            rc = -1;   /* sticky in `to`: reported when it is finished */
        at += k;
        left -= k;
    }
    free(buf);
    qsys_fclose(f);
    qf_abort(from);
    return rc < 0 ? 0 : rc;
}

/* Has a write or an allocation of this writer (or part) failed? Its
 * buffers keep an out-of-memory flag each rather than failing the call. */
static int writer_failed(const qpw *w)
{
    return w->failed || w->skips.oom || w->imps.oom || w->dblock.oom || w->doffs.oom || w->dents.oom;
}

int qpw_append(qpw *w, qpw *part, quarry_error *err)
{
    int rc = 0;
    if (writer_failed(part) || part->post.off < QF_HEADER || part->posn.off < QF_HEADER)
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory (or a limit exceeded) while writing postings");
    uint64_t post_at = w->post.off, pos_at = w->posn.off;
    if (!rc)
        rc = append_file(&w->post, &part->post, err);
    if (!rc)
        rc = append_file(&w->posn, &part->posn, err);
    /* the part's terms join the dictionary as if this writer had written them */
    qcur c = qcur_make(part->dents.p, part->dents.len);
    while (!rc && c.p < c.end) {
        uint64_t len = qcur_varint(&c);
        const uint8_t *term = qcur_bytes(&c, len);
        uint64_t po = qcur_varint(&c), so = qcur_varint(&c), tl = qcur_varint(&c);
        const uint8_t *tail = qcur_bytes(&c, tl);
        if (!c.ok || !term || !tail || len == 0 || len > QF_MAX_TERM) {
            rc = qerr_set(err, QUARRY_EINVAL, "postings writer: a damaged part");
            break;
        }
        dict_add(w, term, (uint32_t)len, post_at + po, pos_at + so, tail, tl);
    }
    if (!rc) {
        w->nterms += part->nterms;
        w->npostings += part->npostings;
        w->npositions += part->npositions;
    } else
        w->failed = 1;
    qpw_abort(part);
    return rc;
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
    int failed = writer_failed(w) || w->part;   /* (a part is appended, never finished) */
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
    free_writer(w);
    return rc;
}
