/*
 * unitw.c — writes the unit table (.unit, index/FORMAT.md §unit): one
 * column per field, so that a search reads the lengths it needs from a
 * small contiguous array. Units arrive one at a time while the text is
 * read, so each column goes to its own temporary file (named by the run
 * file scheme of manifest.h, removed at the end) and qu_finish copies them
 * one after another into the table, then writes the fingerprint index:
 * memory stays constant until then, 20 bytes a unit for its sort.
 */
#include "index/unitw.h"
#include "base/sys.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "index/manifest.h"

#define COL_RUN 0xc0000000u   /* run numbers of the column files (the inverter counts from 0) */

static const size_t col_width[QU_NCOLS] = { 4, 1, 4, 4, 8 };

int qu_open(qu_writer *u, const char *dir, uint64_t seg, quarry_error *err)
{
    memset(u, 0, sizeof *u);
    for (int k = 0; k < QU_NCOLS; k++) {
        char name[QM_NAME];
        qm_run_name(name, seg, COL_RUN + (uint32_t)k);
        size_t n = strlen(dir) + strlen(name) + 2;
        if (!(u->path[k] = qmalloc(n))) {
            qu_abort(u);
            return qerr_set(err, QUARRY_ENOMEM, "out of memory");
        }
        snprintf(u->path[k], n, "%s/%s", dir, name);
        if (!(u->col[k] = qsys_fopen(u->path[k], "w+b"))) {
            int rc = qerr_errno(err, "cannot create", u->path[k]);
            qu_abort(u);
            return rc;
        }
    }
    return 0;
}

static void put(qu_writer *u, int k, const void *p)
{
    if (!u->failed && qsys_fwrite(p, 1, col_width[k], u->col[k]) != col_width[k]) {
        u->failed = 1;
        u->saved_errno = errno;
        u->failed_col = k;
    }
}

void qu_add(qu_writer *u, uint32_t len, uint32_t article, uint32_t body_pos, uint64_t fp)
{
    uint8_t b[8], q = qf_lenq_encode(len);
    qstore_u32(b, len);
    put(u, 0, b);
    put(u, 1, &q);
    qstore_u32(b, article);
    put(u, 2, b);
    qstore_u32(b, body_pos);
    put(u, 3, b);
    qstore_u32(b, (uint32_t)fp);
    qstore_u32(b + 4, (uint32_t)(fp >> 32));
    put(u, 4, b);
    u->n++;
}

/* The fingerprint index of u's units, sorted from the fingerprint and
 * article columns read back, into f. */
static int write_fp_index(qu_writer *u, qf_writer *f, quarry_error *err)
{
    qf_fpnum *v = qmalloc((u->n ? u->n : 1) * sizeof *v);
    uint32_t *art = qmalloc((u->n ? u->n : 1) * sizeof *art);
    int rc = v && art ? 0 : qerr_set(err, QUARRY_ENOMEM, "out of memory");
    for (int k = 2; k <= 4 && !rc; k += 2) {   /* the articles, then the fingerprints */
        if (fseek(u->col[k], 0, SEEK_SET) != 0) {
            rc = qerr_errno(err, "cannot read", u->path[k]);
            break;
        }
        uint8_t b[8];
        for (uint64_t i = 0; i < u->n; i++) {
            if (qsys_fread(b, 1, col_width[k], u->col[k]) != col_width[k]) {
                rc = qerr_errno(err, "cannot read", u->path[k]);
                break;
            }
            if (k == 2)
                art[i] = qload_u32(b);
            else
                v[i] = (qf_fpnum){ qload_u64(b), i };
        }
    }
    if (!rc) {
        qf_sort_fp(v, u->n);
        for (uint64_t i = 0; i < u->n; i++) {
            qf_put_u64(f, v[i].fp);
            qf_put_u32(f, (uint32_t)v[i].num);
            qf_put_u32(f, art[v[i].num]);
        }
    }
    free(v);
    free(art);
    return rc;
}

int qu_finish(qu_writer *u, const char *dir, uint64_t seg, qu_fp_emit emit, void *ctx, uint64_t *size,
              uint32_t *crc, quarry_error *err)
{
    if (u->failed) {
        errno = u->saved_errno;
        int rc = qerr_errno(err, "cannot write", u->path[u->failed_col]);
        qu_abort(u);
        return rc;
    }
    qf_writer f;
    char name[QM_NAME];
    qm_seg_name(name, seg, QF_UNIT);
    int rc = qf_create(&f, dir, name, QF_UNIT, err);
    if (rc) {
        qu_abort(u);
        return rc;
    }
    uint8_t buf[1 << 16];
    for (int k = 0; k < QU_NCOLS && !rc; k++) {
        if (qsys_fflush(u->col[k]) != 0 || fseek(u->col[k], 0, SEEK_SET) != 0) {
            rc = qerr_errno(err, "cannot write", u->path[k]);
            break;
        }
        size_t got;
        uint64_t total = 0;
        while ((got = qsys_fread(buf, 1, sizeof buf, u->col[k])) > 0) {
            qf_write(&f, buf, got);
            total += got;
        }
        if (ferror(u->col[k]))
            rc = qerr_errno(err, "cannot read", u->path[k]);
        else if (total != u->n * col_width[k])
            rc = qerr_set(err, QUARRY_EIO, "%s: temporary column is %llu bytes, expected %llu", u->path[k],
                          (unsigned long long)total, (unsigned long long)(u->n * col_width[k]));
    }
    if (!rc)
        rc = emit ? emit(ctx, &f) : write_fp_index(u, &f, err);
    qf_put_u64(&f, u->n);
    qu_abort(u);   /* the temporary columns go */
    if (rc) {
        qf_abort(&f);
        return rc;
    }
    return qf_finish(&f, size, crc, err);
}

void qu_abort(qu_writer *u)
{
    for (int k = 0; k < QU_NCOLS; k++) {
        if (u->col[k])
            qsys_fclose(u->col[k]);
        if (u->path[k]) {
            qsys_unlink(u->path[k]);
            free(u->path[k]);
        }
        u->col[k] = NULL;
        u->path[k] = NULL;
    }
}
