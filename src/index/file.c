/*
 * file.c — mapping index files and the checks every reader does before
 * trusting one (header, size, CRC32 footer: format.h). Writing them is
 * filew.c's.
 */
#include "index/format.h"
#include "base/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

char *qf_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = qmalloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

/* Drops the whole pages of [p, p + n) (inside the mapping at base) from
 * the resident set; a hint: failure changes nothing. */
static void release(const uint8_t *base, const uint8_t *p, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + page - 1) / page * page, hi = ((uintptr_t)p + n) / page * page;
    if (lo < (uintptr_t)base)
        lo = (uintptr_t)base;
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* Asks the kernel to read [off, off + n) of the mapping ahead, without
 * waiting for it; a hint: failure changes nothing. */
static void read_ahead(const qf_map *m, size_t off, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t lo = off / page * page, hi = off + n < m->size ? off + n : m->size;
    if (hi > lo)
        (void)madvise((void *)(m->base + lo), hi - lo, MADV_WILLNEED);
}

#define HEAD_AHEAD (4u << 10)    /* header (and all of a small file) */
#define TAIL_AHEAD (16u << 10)   /* trailer, and what precedes it (a dictionary's sparse index) */

int qf_map_begin(qf_map *m, const char *dir, const char *name, quarry_error *err)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    char *path = qf_path(dir, name);
    if (!path)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    int fd = qsys_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        int rc = qerr_errno(err, "cannot open index file", path);
        if (errno == ENOENT)   /* QUARRY_ENOTFOUND: the reader tells a concurrent commit from damage */
            rc = qerr_set(err, QUARRY_ENOTFOUND, "%s: file named by the manifest is missing (rebuild the index)", path);
        free(path);
        return rc;
    }
    struct stat st;
    if (qsys_fstat(fd, &st) != 0) {
        int rc = qerr_errno(err, "cannot stat", path);
        qsys_close(fd);
        free(path);
        return rc;
    }
    if ((uint64_t)st.st_size < QF_HEADER + QF_FOOTER) {
        qsys_close(fd);
        int rc = qerr_corrupt(err, path, (uint64_t)st.st_size, "file is truncated");
        free(path);
        return rc;
    }
    void *p = qsys_mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    qsys_close(fd);
    if (p == MAP_FAILED) {
        int rc = qerr_errno(err, "cannot map", path);
        free(path);
        return rc;
    }
    free(path);
    m->base = p;
    m->size = (size_t)st.st_size;
    m->body = m->base + QF_HEADER;
    m->body_len = m->size - QF_HEADER - QF_FOOTER;
    read_ahead(m, 0, HEAD_AHEAD);
    read_ahead(m, m->size > TAIL_AHEAD ? m->size - TAIL_AHEAD : 0, TAIL_AHEAD);
    return 0;
}

int qf_map_header(qf_map *m, const char *dir, const char *kind, quarry_error *err)
{
    int rc = 0;
    if (memcmp(m->base, QF_MAGIC, 4) != 0 || memcmp(m->base + 4, kind, 4) != 0 || qload_u32(m->base + 12) != 0 ||
        qload_u32(m->base + 8) != QF_VERSION) {
        char *path = qf_path(dir, m->name);
        if (!path)
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        else if (memcmp(m->base, QF_MAGIC, 4) != 0)
            rc = qerr_set(err, QUARRY_EFORMAT, "%s: not a quarry index file (bad magic number)", path);
        else if (memcmp(m->base + 4, kind, 4) != 0)
            rc = qerr_corrupt(err, path, 4, "wrong file kind in header");
        else if (qload_u32(m->base + 12) != 0)
            rc = qerr_corrupt(err, path, 12, "bad file header (reserved bytes)");
        else
            rc = qerr_set(err, QUARRY_EFORMAT, "%s: format version %u, this quarry reads version %u (rebuild the index)",
                          path, qload_u32(m->base + 8), QF_VERSION);
        free(path);
        qf_map_close(m);
    }
    return rc;
}

int qf_map_open(qf_map *m, const char *dir, const char *name, const char *kind, quarry_error *err)
{
    int rc = qf_map_begin(m, dir, name, err);
    return rc ? rc : qf_map_header(m, dir, kind, err);
}

int qf_map_raw(qf_map *m, const char *dir, const char *name, quarry_error *err)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    char *path = qf_path(dir, name);
    if (!path)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    int fd = qsys_open(path, O_RDONLY | O_CLOEXEC, 0);
    struct stat st;
    int rc = 0;
    if (fd < 0 || qsys_fstat(fd, &st) != 0)
        rc = qerr_errno(err, "cannot open", path);
    else if (st.st_size > 0) {
        void *p = qsys_mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
            rc = qerr_errno(err, "cannot map", path);
        else {
            m->base = p;
            m->size = (size_t)st.st_size;
        }
    }
    if (fd >= 0)
        qsys_close(fd);
    free(path);
    return rc;
}

int qf_map_check(const qf_map *m, const char *dir, quarry_error *err)
{
    uint32_t c = (uint32_t)crc32(0L, Z_NULL, 0);
    const uint8_t *s = m->base;
    size_t left = m->size - QF_FOOTER;
    while (left) {   /* in pieces, dropping each from memory once read */
        uInt k = left > (8u << 20) ? (8u << 20) : (uInt)left;
        c = (uint32_t)crc32(c, s, k);
        release(m->base, s, k);
        s += k;
        left -= k;
    }
    if (c == qload_u32(m->base + m->size - QF_FOOTER))
        return 0;
    char *path = qf_path(dir, m->name);
    int rc = qerr_corrupt(err, path ? path : m->name, m->size - QF_FOOTER, "checksum mismatch");
    free(path);
    return rc;
}

void qf_map_release(const qf_map *m)
{
    if (m && m->base)
        release(m->base, m->base, m->size);
}

void qf_map_close(qf_map *m)
{
    if (m && m->base)
        qsys_munmap((void *)m->base, m->size);
    if (m)
        memset(m, 0, sizeof *m);
}

void qf_sync_dir(const char *dir)
{
    int fd = qsys_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd >= 0) {
        (void)qsys_fsync(fd);
        qsys_close(fd);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void qf_sort_u64(uint64_t *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_u64);
}

static int cmp_fpnum(const void *a, const void *b)
{
    const qf_fpnum *x = a, *y = b;
    if (x->fp != y->fp)
        return x->fp < y->fp ? -1 : 1;
    return (x->num > y->num) - (x->num < y->num);
}

void qf_sort_fp(qf_fpnum *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_fpnum);
}
