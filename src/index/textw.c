/*
 * textw.c — writes the passage text store (.text): the texts of
 * consecutive units gathered into blocks of about QF_TEXT_BLOCK bytes,
 * each block compressed as raw DEFLATE (index/FORMAT.md §text).
 *
 * An ordinary block is gathered whole and compressed by libdeflate at its
 * fastest level (TW_LEVEL; bench/pipeline.md times whole builds with it,
 * compression itself is not measured apart in bench/). A block
 * that ends with a unit larger than TW_WHOLE is streamed through zlib
 * instead, so that a huge unit is never copied. Both write the same
 * format; readers inflate with zlib, except a writer reading back the
 * text of the articles it deletes, which uses libdeflate's decompressor
 * from here (qtw_inflate).
 */
#include <libdeflate.h>
#include <stdlib.h>
#include <zlib.h>

#include "index/textw.h"
#include "base/sys.h"
#include "index/manifest.h"

#define TW_WHOLE (4 * QF_TEXT_BLOCK)   /* a larger last unit is streamed (zlib) */
#define TW_LEVEL 1                     /* libdeflate's fastest */

static void end_stream(qtw_writer *t)
{
    if (t->zs) {
        deflateEnd(t->zs);
        free(t->zs);
        t->zs = NULL;
    }
    if (t->ld) {
        libdeflate_free_compressor(t->ld);
        t->ld = NULL;
    }
}

int qtw_open(qtw_writer *t, const char *dir, uint64_t seg, quarry_error *err)
{
    memset(t, 0, sizeof *t);
    if (qsys_alloc_fails() || !(t->ld = libdeflate_alloc_compressor(TW_LEVEL)))
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    char name[QM_NAME];
    qm_seg_name(name, seg, QF_TEXT);
    int rc = qf_create(&t->f, dir, name, QF_TEXT, err);
    if (rc)
        end_stream(t);
    return rc;
}

/* The zlib stream, made on first use. 0, or -1 out of memory. */
static int zstream(qtw_writer *t)
{
    if (t->zs)
        return deflateReset(t->zs) == Z_OK ? 0 : -1;
    z_stream *zs = qcalloc(1, sizeof *zs);
    if (!zs)
        return -1;
    zs->zalloc = qsys_zalloc;
    zs->zfree = qsys_zfree;
    if (deflateInit2(zs, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {   /* raw deflate */
        free(zs);
        return -1;
    }
    t->zs = zs;
    return 0;
}

/* Deflates one piece of the block's raw bytes (the last one ends the
 * stream), writing what comes out as it comes through the fixed buffer
 * t->z: nothing is copied or held whole, so a unit of any size costs no
 * more memory than its own text, which the caller has anyway. */
static int deflate_piece(qtw_writer *t, const void *p, size_t n, int last)
{
    z_stream *zs = t->zs;
    const uint8_t *in = p;
    do {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        zs->next_in = (Bytef *)in;
        zs->avail_in = k;
        in += k;
        n -= k;
        int mode = last && n == 0 ? Z_FINISH : Z_NO_FLUSH, r;
        do {   /* until the input is taken (and, finishing, the stream ended) */
            zs->next_out = t->z.p;
            zs->avail_out = (uInt)t->z.cap;
            r = deflate(zs, mode);
            if (r == Z_STREAM_ERROR)
                return -1;
            qf_write(&t->f, t->z.p, t->z.cap - zs->avail_out);
        } while (zs->avail_out == 0 || (mode == Z_FINISH && r != Z_STREAM_END));
        if (zs->avail_in)
            return -1;
    } while (n);
    return 0;
}

/* Writes the pending units, and the unit (s, n) after them when s is not
 * NULL (taken from the caller, not copied), as one compressed block. */
static void flush_with(qtw_writer *t, const char *s, size_t n)
{
    uint32_t count = t->count + (s ? 1 : 0);
    if (count == 0 || t->failed)
        return;
    uint8_t head[8];
    qstore_u32(head, count);
    qstore_u32(head + 4, (uint32_t)n);
    uint64_t off = t->f.off;
    uint64_t ulen = 4 + 4 * (uint64_t)count + t->bytes.len + (s ? n : 0);
    if (ulen > UINT32_MAX) {
        t->failed = 1;
        return;
    }
    if (!s || n <= TW_WHOLE) {   /* gathered whole: libdeflate */
        qbuf_reset(&t->raw);
        qbuf_append(&t->raw, head, 4);
        qbuf_append(&t->raw, t->lens.p, t->lens.len);
        if (s)
            qbuf_append(&t->raw, head + 4, 4);
        qbuf_append(&t->raw, t->bytes.p, t->bytes.len);
        if (s)
            qbuf_append(&t->raw, s, n);
        size_t bound = libdeflate_deflate_compress_bound(t->ld, t->raw.len), k;
        if (t->raw.oom || qbuf_reserve(&t->z, bound) ||
            !(k = libdeflate_deflate_compress(t->ld, t->raw.p, t->raw.len, t->z.p, bound))) {
            t->failed = 1;
            return;
        }
        qf_write(&t->f, t->z.p, k);
    } else if ((!t->z.cap && qbuf_reserve(&t->z, 64u << 10)) || zstream(t) ||
               deflate_piece(t, head, 4, 0) || deflate_piece(t, t->lens.p, t->lens.len, 0) ||
               deflate_piece(t, head + 4, 4, 0) || deflate_piece(t, t->bytes.p, t->bytes.len, 0) ||
               deflate_piece(t, s, n, 1)) {
        t->failed = 1;
        return;
    }
    uint64_t clen = t->f.off - off;
    qbuf_put_u64(&t->dir, off);
    qbuf_put_u32(&t->dir, (uint32_t)clen);
    qbuf_put_u32(&t->dir, (uint32_t)ulen);
    qbuf_put_u32(&t->dir, t->first_unit);
    qbuf_reset(&t->lens);
    qbuf_reset(&t->bytes);
    t->first_unit += count;
    t->count = 0;
}

static void flush(qtw_writer *t) { flush_with(t, NULL, 0); }

int qtw_add(qtw_writer *t, const char *s, size_t n)
{
    if (n > UINT32_MAX) {
        t->failed = 1;
        return -1;
    }
    t->nunits++;
    if (t->bytes.len + n >= QF_TEXT_BLOCK)   /* the block is full with this unit: written from s */
        flush_with(t, s, n);
    else {
        qbuf_put_u32(&t->lens, (uint32_t)n);
        qbuf_append(&t->bytes, s, n);
        t->count++;
    }
    if (t->lens.oom || t->bytes.oom)
        t->failed = 1;
    return t->failed ? -1 : 0;
}

int qtw_add_block(qtw_writer *t, const uint8_t *z, uint32_t clen, uint32_t ulen, uint32_t count)
{
    flush(t);
    qbuf_put_u64(&t->dir, t->f.off);
    qbuf_put_u32(&t->dir, clen);
    qbuf_put_u32(&t->dir, ulen);
    qbuf_put_u32(&t->dir, t->first_unit);
    qf_write(&t->f, z, clen);
    t->first_unit += count;
    t->nunits += count;
    if (t->dir.oom)
        t->failed = 1;
    return t->failed ? -1 : 0;
}

int qtw_finish(qtw_writer *t, uint64_t *size, uint32_t *crc, quarry_error *err)
{
    flush(t);
    uint64_t dir_off = t->f.off;
    qf_write_buf(&t->f, &t->dir);
    qf_put_u64(&t->f, t->dir.len / 20);
    qf_put_u64(&t->f, t->nunits);
    qf_put_u64(&t->f, dir_off);
    int failed = t->failed || t->dir.oom;
    qbuf_free(&t->lens);
    qbuf_free(&t->bytes);
    qbuf_free(&t->dir);
    qbuf_free(&t->raw);
    qbuf_free(&t->z);
    end_stream(t);
    if (failed) {
        qf_abort(&t->f);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory while compressing passage text");
    }
    return qf_finish(&t->f, size, crc, err);
}

void qtw_abort(qtw_writer *t)
{
    end_stream(t);
    qf_abort(&t->f);
    qbuf_free(&t->lens);
    qbuf_free(&t->bytes);
    qbuf_free(&t->dir);
    qbuf_free(&t->raw);
    qbuf_free(&t->z);
}

/* ------------------------------------------------------ reading back */

void *qtw_inflater_new(void)
{
    return qsys_alloc_fails() ? NULL : libdeflate_alloc_decompressor();
}

int qtw_inflate(void *st, const uint8_t *in, size_t clen, uint8_t *out, size_t ulen)
{
    size_t used;
    return libdeflate_deflate_decompress_ex(st, in, clen, out, ulen, &used, NULL) != LIBDEFLATE_SUCCESS ||
           used != clen;
}

void qtw_inflater_free(void *st)
{
    libdeflate_free_decompressor(st);
}
