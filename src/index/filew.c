/*
 * filew.c — writing index files: the header, the body through a buffer of
 * the writer's own, the CRC32 footer (computed on the fly by libdeflate's
 * crc32, the values of zlib's; zlib's was 13% of the samples of `perf
 * record build/quarry optimize` on the news 25x index), fsync, and
 * removing a file that failed. Kept apart from file.c so that a program
 * that only reads indexes links without libdeflate (the peers harness
 * links its quarry driver with -lz and no -ldeflate).
 */
#include "index/format.h"
#include "base/sys.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>

#define QF_WRITE_BUF (1u << 16)   /* a writer's stdio buffer: a write call per 64 KiB */

int qf_create(qf_writer *w, const char *dir, const char *name, const char *kind, quarry_error *err)
{
    memset(w, 0, sizeof *w);
    w->path = qf_path(dir, name);
    if (!w->path)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    w->f = qsys_fopen(w->path, "wb");
    if (!w->f) {
        int rc = qerr_errno(err, "cannot create", w->path);
        free(w->path);
        w->path = NULL;
        return rc;
    }
    /* a buffer of our own: given NULL, glibc's setvbuf keeps its default
     * size (the block size, 4 KiB: a write call per page) */
    if ((w->buf = qmalloc(QF_WRITE_BUF)) && setvbuf(w->f, w->buf, _IOFBF, QF_WRITE_BUF) != 0) {
        free(w->buf);
        w->buf = NULL;
    }
    w->crc = 0;
    uint8_t h[QF_HEADER] = { 0 };
    memcpy(h, QF_MAGIC, 4);
    memcpy(h + 4, kind, 4);
    qstore_u32(h + 8, QF_VERSION);
    qf_write(w, h, sizeof h);
    return 0;
}

int qf_write(qf_writer *w, const void *p, size_t n)
{
    if (w->failed)
        return -1;
    if (n == 0)
        return 0;
    if (qsys_fwrite(p, 1, n, w->f) != n) {
        w->failed = 1;
        w->saved_errno = errno;
        return -1;
    }
    w->crc = libdeflate_crc32(w->crc, p, n);
    w->off += n;
    return 0;
}

int qf_write_buf(qf_writer *w, const qbuf *b)
{
    if (b->oom) {
        w->failed = 1;
        w->saved_errno = ENOMEM;
        return -1;
    }
    return qf_write(w, b->p, b->len);
}

int qf_put_u32(qf_writer *w, uint32_t v)
{
    uint8_t t[4];
    qstore_u32(t, v);
    return qf_write(w, t, 4);
}

int qf_put_u64(qf_writer *w, uint64_t v)
{
    uint8_t t[8];
    qstore_u32(t, (uint32_t)v);
    qstore_u32(t + 4, (uint32_t)(v >> 32));
    return qf_write(w, t, 8);
}

int qf_finish(qf_writer *w, uint64_t *size, uint32_t *crc, quarry_error *err)
{
    uint8_t t[4];
    uint32_t c = w->crc;
    qstore_u32(t, c);
    if (!w->failed && qsys_fwrite(t, 1, 4, w->f) != 4) {
        w->failed = 1;
        w->saved_errno = errno;
    }
    if (!w->failed && qsys_fflush(w->f) != 0) {
        w->failed = 1;
        w->saved_errno = errno;
    }
    if (!w->failed && qsys_fsync(fileno(w->f)) != 0 && errno != EINVAL) {
        w->failed = 1;
        w->saved_errno = errno;
    }
    int rc = 0;
    if (qsys_fclose(w->f) != 0 && !w->failed) {
        w->failed = 1;
        w->saved_errno = errno;
    }
    w->f = NULL;
    free(w->buf);
    w->buf = NULL;
    if (w->failed) {
        errno = w->saved_errno;
        rc = qerr_errno(err, "cannot write", w->path);
        qsys_unlink(w->path);
    } else {
        if (size)
            *size = w->off + 4;
        if (crc)
            *crc = c;
    }
    free(w->path);
    w->path = NULL;
    return rc;
}

void qf_abort(qf_writer *w)
{
    if (w->f)
        qsys_fclose(w->f);
    free(w->buf);
    if (w->path)
        qsys_unlink(w->path);
    free(w->path);
    memset(w, 0, sizeof *w);
}
