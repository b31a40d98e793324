/*
 * manifest.c — reading (strictly), atomically replacing and cleaning up
 * around the MANIFEST of an index directory, and the one place where the
 * names of quarry's files are made and recognised (see manifest.h).
 */
#include "index/manifest.h"
#include "base/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "index/format.h"

#define MANIFEST_MAX (1u << 20)   /* 4096 segments of 8 lines fit well within this */

const char *const qm_kinds[QM_SEG_FILES] = { QF_META, QF_DICT, QF_POST, QF_POSN, QF_UNIT, QF_ARTS, QF_TEXT };

/* ------------------------------------------------------------ names */

void qm_seg_name(char *out, uint64_t seg, const char *kind)
{
    snprintf(out, QM_NAME, "s%016llx.%s", (unsigned long long)seg, kind);
}

void qm_del_name(char *out, uint64_t seg, uint64_t gen)
{
    snprintf(out, QM_NAME, "s%016llx-%016llx.del", (unsigned long long)seg, (unsigned long long)gen);
}

void qm_run_name(char *out, uint64_t owner, uint32_t n)
{
    snprintf(out, QM_NAME, "t%016llx-%08x.run", (unsigned long long)owner, n);
}

/* Parses exactly n lower-case hex digits. */
static int hexn(const char *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return -1;
        x = x << 4 | d;
    }
    *v = x;
    return 0;
}

int qm_classify(const char *name, uint64_t *seg)
{
    size_t n = strlen(name);
    uint64_t a, b;
    if (strcmp(name, QF_MANIFEST ".tmp") == 0)
        return QM_MANIFEST_TMP;
    if (n == 22 && name[0] == 's' && name[17] == '.' && hexn(name + 1, 16, &a) == 0) {
        for (size_t k = 0; k < QM_SEG_FILES; k++)
            if (strcmp(name + 18, qm_kinds[k]) == 0) {
                *seg = a;
                return QM_SEGFILE;
            }
        return QM_OTHER;
    }
    if (n == 38 && name[0] == 's' && name[17] == '-' && strcmp(name + 34, ".del") == 0 &&
        hexn(name + 1, 16, &a) == 0 && hexn(name + 18, 16, &b) == 0) {
        *seg = a;
        return QM_DELFILE;
    }
    if (n == 30 && name[0] == 't' && name[17] == '-' && strcmp(name + 26, ".run") == 0 &&
        hexn(name + 1, 16, &a) == 0 && hexn(name + 18, 8, &b) == 0) {
        *seg = a;
        return QM_RUNFILE;
    }
    return QM_OTHER;
}

/* ------------------------------------------------------------ reading */

typedef struct lines {
    const char *p, *end;   /* what is left to parse */
    const char *start;     /* the whole text, for offsets */
} lines;

/* The next line (without its '\n') or NULL when none is complete. */
static const char *next_line(lines *l, size_t *len)
{
    if (l->p >= l->end)
        return NULL;
    const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
    if (!nl)
        return NULL;
    const char *s = l->p;
    *len = (size_t)(nl - s);
    l->p = nl + 1;
    return s;
}

/* A decimal number: digits only, no leading zero unless "0", no overflow. */
static int dec(const char *s, size_t n, uint64_t *v)
{
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/* "KEY HHHH..." with exactly 16 hex digits */
static int key_hex16(const char *s, size_t n, const char *key, uint64_t *v)
{
    size_t k = strlen(key);
    return n == k + 1 + 16 && memcmp(s, key, k) == 0 && s[k] == ' ' ? hexn(s + k + 1, 16, v) : -1;
}

/* "file NAME SIZE CRC" */
static int file_line(const char *s, size_t n, const char *want, qm_file *f)
{
    size_t wl = strlen(want);
    if (n < 5 + wl + 1 + 1 + 1 + 8 || memcmp(s, "file ", 5) != 0 || memcmp(s + 5, want, wl) != 0 ||
        s[5 + wl] != ' ' || s[n - 9] != ' ')
        return -1;
    uint64_t size, crc;
    if (dec(s + 6 + wl, n - 9 - (6 + wl), &size) || hexn(s + n - 8, 8, &crc))
        return -1;
    snprintf(f->name, sizeof f->name, "%s", want);
    f->size = size;
    f->crc = (uint32_t)crc;
    return 0;
}

void qm_free(qm_manifest *m)
{
    if (!m)
        return;
    free(m->seg);
    m->seg = NULL;
    m->nseg = 0;
}

int qm_copy(qm_manifest *dst, const qm_manifest *src)
{
    *dst = *src;
    dst->seg = NULL;
    if (src->nseg) {
        dst->seg = qmalloc(src->nseg * sizeof *dst->seg);
        if (!dst->seg)
            return -1;
        memcpy(dst->seg, src->seg, src->nseg * sizeof *dst->seg);
    }
    return 0;
}

static int parse(const char *buf, size_t n, const char *path, qm_manifest *m, quarry_error *err)
{
    lines l = { buf, buf + n, buf };
    size_t len;
    const char *s = next_line(&l, &len);
#define AT() ((uint64_t)(s ? s - l.start : (const char *)l.p - l.start))
#define BAD(what) return qerr_corrupt(err, path, AT(), what)
    if (!s || len != strlen(QF_MANIFEST_MAGIC) || memcmp(s, QF_MANIFEST_MAGIC, len) != 0) {
        if (s && len >= 16 && memcmp(s, "quarry-manifest ", 16) == 0)
            return qerr_set(err, QUARRY_EFORMAT, "%s: %.*s: this quarry reads index format 2 (rebuild the index)",
                            path, (int)(len > 40 ? 40 : len), s);
        return qerr_set(err, QUARRY_EFORMAT, "%s: not a quarry manifest", path);
    }
    /* the checksum line ends the file: "crc XXXXXXXX\n" */
    if (n < 13 || memcmp(buf + n - 13, "crc ", 4) != 0 || buf[n - 1] != '\n' || (n > 13 && buf[n - 14] != '\n'))
        return qerr_corrupt(err, path, n, "manifest does not end with its checksum line");
    uint64_t want;
    if (hexn(buf + n - 9, 8, &want))
        return qerr_corrupt(err, path, n - 9, "bad checksum line");
    if ((uint32_t)crc32(0L, (const Bytef *)buf, (uInt)(n - 13)) != (uint32_t)want)
        return qerr_corrupt(err, path, 0, "manifest checksum mismatch");
    l.end = buf + n - 13;
    s = next_line(&l, &len);
    if (!s || key_hex16(s, len, "generation", &m->generation) || m->generation == 0)
        BAD("bad generation line");
    s = next_line(&l, &len);
    if (!s || key_hex16(s, len, "next-segment", &m->next_segment))
        BAD("bad next-segment line");
    size_t cap = 0;
    while ((s = next_line(&l, &len))) {
        uint64_t id, delgen;
        if (len != 8 + 16 + 8 + 16 || memcmp(s, "segment ", 8) != 0 || hexn(s + 8, 16, &id) ||
            memcmp(s + 24, " delgen ", 8) != 0 || hexn(s + 32, 16, &delgen))
            BAD("bad segment line");
        int dup = 0;   /* ids are unique (a merged segment takes a new one in its place) */
        for (size_t k = 0; k < m->nseg && !dup; k++)
            dup = m->seg[k].id == id;
        if (id == 0 || id >= m->next_segment || delgen > m->generation || m->nseg == QM_MAX_SEGMENTS || dup)
            BAD("segment id repeated or out of range");
        if (qgrow((void **)&m->seg, &cap, m->nseg, sizeof *m->seg))
            return qerr_set(err, QUARRY_ENOMEM, "out of memory");
        qm_segment *g = &m->seg[m->nseg++];
        memset(g, 0, sizeof *g);
        g->id = id;
        g->delgen = delgen;
        size_t nf = QM_SEG_FILES + (delgen != 0);
        for (size_t k = 0; k < nf; k++) {
            char name[QM_NAME];
            if (k < QM_SEG_FILES)
                qm_seg_name(name, id, qm_kinds[k]);
            else
                qm_del_name(name, id, delgen);
            s = next_line(&l, &len);
            if (!s || file_line(s, len, name, &g->files[k]))
                BAD("bad file line");
        }
        g->nfiles = nf;
    }
    if (l.p != l.end)
        BAD("unexpected bytes before the checksum line");
#undef BAD
#undef AT
    return 0;
}

int qm_read(const char *dir, qm_manifest *out, quarry_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, QF_MANIFEST);
    FILE *f = qsys_fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) {
            struct stat st;
            if (qsys_stat(dir, &st) != 0)
                return qerr_set(err, QUARRY_ENOTFOUND, "%s: no such index directory (build one with 'quarry index -o %s PATH...')", dir, dir);
            return qerr_set(err, QUARRY_ENOTFOUND, "%s: no index here (no MANIFEST; build one with 'quarry index -o %s PATH...')", dir, dir);
        }
        return qerr_errno(err, "cannot open", path);
    }
    char *buf = qmalloc(MANIFEST_MAX + 1);
    if (!buf) {
        qsys_fclose(f);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    size_t n = qsys_fread(buf, 1, MANIFEST_MAX + 1, f);
    int rerr = ferror(f);
    qsys_fclose(f);
    int rc;
    qm_manifest m;
    memset(&m, 0, sizeof m);
    if (rerr)
        rc = qerr_errno(err, "cannot read", path);
    else if (n > MANIFEST_MAX)
        rc = qerr_corrupt(err, path, MANIFEST_MAX, "manifest is too large");
    else if ((rc = parse(buf, n, path, &m, err)))
        qm_free(&m);
    free(buf);
    if (rc == 0)
        *out = m;
    return rc;
}

/* ------------------------------------------------------------ writing */

int qm_write(const char *dir, const qm_manifest *m, quarry_error *err)
{
    qbuf b;
    qbuf_init(&b);
    qbuf_printf(&b, "%s\ngeneration %016llx\nnext-segment %016llx\n", QF_MANIFEST_MAGIC,
                (unsigned long long)m->generation, (unsigned long long)m->next_segment);
    for (size_t i = 0; i < m->nseg; i++) {
        const qm_segment *g = &m->seg[i];
        qbuf_printf(&b, "segment %016llx delgen %016llx\n", (unsigned long long)g->id, (unsigned long long)g->delgen);
        for (size_t k = 0; k < g->nfiles; k++)
            qbuf_printf(&b, "file %s %llu %08lx\n", g->files[k].name, (unsigned long long)g->files[k].size,
                        (unsigned long)g->files[k].crc);
    }
    uint32_t c = b.oom ? 0 : (uint32_t)crc32(0L, b.p, (uInt)b.len);
    qbuf_printf(&b, "crc %08lx\n", (unsigned long)c);
    if (b.oom || b.len > MANIFEST_MAX) {
        int oom = b.oom;
        qbuf_free(&b);
        return oom ? qerr_set(err, QUARRY_ENOMEM, "out of memory")
                   : qerr_set(err, QUARRY_ELIMIT, "%s: too many segments for one manifest; run 'quarry optimize'", dir);
    }
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, QF_MANIFEST);
    snprintf(path, sizeof path, "%s/%s", dir, QF_MANIFEST);
    int fd = qsys_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        qbuf_free(&b);
        return qerr_errno(err, "cannot create", tmp);
    }
    ssize_t wrote = qsys_write(fd, b.p, b.len);
    int ok = wrote == (ssize_t)b.len;
    if (ok && qsys_fsync(fd) != 0)
        ok = 0;
    else if (!ok && wrote >= 0)
        errno = ENOSPC;   /* a short write: the disk is full */
    int e = errno;
    qsys_close(fd);
    qbuf_free(&b);
    if (!ok) {
        qsys_unlink(tmp);
        errno = e;
        return qerr_errno(err, "cannot write", tmp);
    }
    if (qsys_rename(tmp, path) != 0) {
        int rc = qerr_errno(err, "cannot rename into place", path);
        qsys_unlink(tmp);
        return rc;
    }
    qf_sync_dir(dir);
    return 0;
}

/* ------------------------------------------------------------ cleanup */

static int named(const qm_manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nseg; i++)
        for (size_t k = 0; k < m->seg[i].nfiles; k++)
            if (strcmp(m->seg[i].files[k].name, name) == 0)
                return 1;
    return 0;
}

void qm_cleanup(const char *dir, const qm_manifest *keep)
{
    DIR *d = qsys_opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = qsys_readdir(d))) {
        uint64_t seg;
        int kind = qm_classify(e->d_name, &seg);
        if (kind == QM_OTHER || ((kind == QM_SEGFILE || kind == QM_DELFILE) && named(keep, e->d_name)))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        qsys_unlink(path);
    }
    qsys_closedir(d);
}
