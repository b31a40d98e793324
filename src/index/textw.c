/*
 * textw.c — writes the passage text store (.text): the texts of
 * consecutive units gathered into blocks of about QF_TEXT_BLOCK bytes,
 * each block compressed with zlib (index/FORMAT.md §text).
 */
#include <stdlib.h>
#include <zlib.h>

#include "index/textw.h"
#include "index/manifest.h"

int qtw_open(qtw_writer *t, const char *dir, uint64_t seg, quarry_error *err)
{
    memset(t, 0, sizeof *t);
    z_stream *zs = calloc(1, sizeof *zs);
    if (!zs || deflateInit(zs, Z_BEST_SPEED) != Z_OK) {
        free(zs);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    t->zs = zs;
    char name[QM_NAME];
    qm_seg_name(name, seg, QF_TEXT);
    return qf_create(&t->f, dir, name, QF_TEXT, err);
}

static void end_stream(qtw_writer *t)
{
    if (t->zs) {
        deflateEnd(t->zs);
        free(t->zs);
        t->zs = NULL;
    }
}

static void flush(qtw_writer *t)
{
    if (t->count == 0)
        return;
    qbuf raw = t->raw;   /* reused across blocks */
    qbuf_reset(&raw);
    qbuf_put_u32(&raw, t->count);
    qbuf_append(&raw, t->lens.p, t->lens.len);
    qbuf_append(&raw, t->bytes.p, t->bytes.len);
    z_stream *zs = t->zs;
    uLong bound = deflateBound(zs, (uLong)raw.len);
    qbuf_reset(&t->z);
    if (raw.oom || qbuf_reserve(&t->z, bound) || deflateReset(zs) != Z_OK) {
        t->failed = 1;
        t->raw = raw;
        return;
    }
    zs->next_in = raw.p;
    zs->avail_in = (uInt)raw.len;
    zs->next_out = t->z.p;
    zs->avail_out = (uInt)bound;
    if (deflate(zs, Z_FINISH) != Z_STREAM_END) {
        t->failed = 1;
        t->raw = raw;
        return;
    }
    uLong clen = zs->total_out;
    qbuf_put_u64(&t->dir, t->f.off);
    qbuf_put_u32(&t->dir, (uint32_t)clen);
    qbuf_put_u32(&t->dir, (uint32_t)raw.len);
    qbuf_put_u32(&t->dir, t->first_unit);
    qf_write(&t->f, t->z.p, clen);
    t->raw = raw;
    qbuf_reset(&t->lens);
    qbuf_reset(&t->bytes);
    t->first_unit += t->count;
    t->count = 0;
}

int qtw_add(qtw_writer *t, const char *s, size_t n)
{
    if (n > UINT32_MAX) {
        t->failed = 1;
        return -1;
    }
    qbuf_put_u32(&t->lens, (uint32_t)n);
    qbuf_append(&t->bytes, s, n);
    t->count++;
    t->nunits++;
    if (t->bytes.len >= QF_TEXT_BLOCK)
        flush(t);
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
    qbuf_free(&t->z);
    qbuf_free(&t->raw);
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
    qbuf_free(&t->z);
    qbuf_free(&t->raw);
}
