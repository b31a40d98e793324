/*
 * walk.c — expands the paths given to qr_open into the list of input files
 * (walk.h). A directory is walked recursively; its files are sorted
 * byte-wise (strcmp) by path so the result does not depend on the order in
 * which the file system lists entries. Hidden entries (".name") and files
 * without a .txt / .jsonl / .jsonl.gz name are skipped, and so are special
 * files (FIFOs, devices, sockets: counted); symbolic links are
 * followed, and a set of visited directories (device, inode) makes every
 * directory walked once, so a link loop ends.
 */
#include "read/walk.h"
#include "base/sys.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

/* ------------------------------------------------------------ file names */

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

int qr_path_kind(const char *path)
{
    if (strcmp(path, "-") == 0)
        return QR_KIND_STDIN;
    size_t n = strlen(path);
    if (ends_with(path, n, ".jsonl.gz"))
        return QR_KIND_GZ;
    if (ends_with(path, n, ".jsonl"))
        return QR_KIND_JSONL;
    if (ends_with(path, n, ".txt"))
        return QR_KIND_TXT;
    return -1;
}

static int add_file(qr_filelist *l, const char *path, uint64_t size, int kind)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        qr_file *v = qrealloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    char *p = qstrndup(path, strlen(path));
    if (!p)
        return -1;
    l->v[l->n].path = p;
    l->v[l->n].size = size;
    l->v[l->n].kind = kind;
    l->n++;
    return 0;
}

void qr_filelist_free(qr_filelist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ------------------------------------------------- visited directories */

typedef struct dirid {
    dev_t dev;
    ino_t ino;
    int used;
} dirid;

typedef struct walker {
    qr_filelist *out;
    dirid *seen;      /* open addressing, power-of-two capacity */
    size_t nseen, capseen;
} walker;

static size_t dirid_slot(const walker *w, dev_t dev, ino_t ino)
{
    uint64_t key[2] = { (uint64_t)dev, (uint64_t)ino };
    size_t i = (size_t)qhash(key, sizeof key) & (w->capseen - 1);
    while (w->seen[i].used && !(w->seen[i].dev == dev && w->seen[i].ino == ino))
        i = (i + 1) & (w->capseen - 1);
    return i;
}

/* Marks a directory visited: 1 if newly marked, 0 if seen before, -1 no memory. */
static int mark_dir(walker *w, dev_t dev, ino_t ino)
{
    if (2 * (w->nseen + 1) > w->capseen) {
        size_t cap = w->capseen ? w->capseen * 2 : 64;
        dirid *old = w->seen;
        size_t oldcap = w->capseen;
        w->seen = qcalloc(cap, sizeof *w->seen);
        if (!w->seen) {
            w->seen = old;
            return -1;
        }
        w->capseen = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].used)
                w->seen[dirid_slot(w, old[i].dev, old[i].ino)] = old[i];
        free(old);
    }
    size_t i = dirid_slot(w, dev, ino);
    if (w->seen[i].used)
        return 0;
    w->seen[i].dev = dev;
    w->seen[i].ino = ino;
    w->seen[i].used = 1;
    w->nseen++;
    return 1;
}

/* ------------------------------------------------------------- walking */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const qr_file *)a)->path, ((const qr_file *)b)->path);
}

static int nomem(quarry_error *err, const char *path)
{
    return qerr_set(err, QUARRY_ENOMEM, "%s: out of memory while listing the directory", path);
}

/* Walks the directory `path` (NUL-terminated in path->p, length path->len). */
static int walk_dir(walker *w, qbuf *path, quarry_error *err)
{
    DIR *d = qsys_opendir((const char *)path->p);
    if (!d)
        return qerr_errno(err, "cannot read directory", (const char *)path->p);

    /* Collect the visible names first, so the directory is closed before
     * recursing and the children are visited in a fixed (sorted) order. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = qsys_readdir(d);
        if (!e) {
            if (errno)
                rc = qerr_errno(err, "cannot read directory", (const char *)path->p);
            break;
        }
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **v = qrealloc(names, nc * sizeof *v);
            if (!v) {
                rc = nomem(err, (const char *)path->p);
                break;
            }
            names = v;
            cap = nc;
        }
        if (!(names[n] = qstrndup(e->d_name, strlen(e->d_name)))) {
            rc = nomem(err, (const char *)path->p);
            break;
        }
        n++;
    }
    qsys_closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);

    size_t base = path->len;
    for (size_t i = 0; i < n && rc == 0; i++) {
        path->len = base;
        if (base == 0 || path->p[base - 1] != '/')
            qbuf_putc(path, '/');
        qbuf_append(path, names[i], strlen(names[i]) + 1);   /* with the NUL */
        if (path->oom) {
            rc = nomem(err, names[i]);
            break;
        }
        path->len--;   /* keep the NUL in place, exclude it from len */
        const char *child = (const char *)path->p;
        int kind = qr_path_kind(names[i]);
        struct stat st;
        if (qsys_stat(child, &st) != 0) {
            /* a dangling link or a vanished entry: only matters if it
             * would have been an input file */
            if (kind >= 0)
                rc = qerr_errno(err, "cannot read", child);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int m = mark_dir(w, st.st_dev, st.st_ino);
            if (m < 0)
                rc = nomem(err, child);
            else if (m > 0)
                rc = walk_dir(w, path, err);
        } else if (kind >= 0 && kind != QR_KIND_STDIN && S_ISREG(st.st_mode)) {
            if (add_file(w->out, child, (uint64_t)st.st_size, kind))
                rc = nomem(err, child);
        } else if (!S_ISREG(st.st_mode)) {   /* a FIFO, device or socket: never opened */
            if (w->out->special++ == 0)
                snprintf(w->out->special_example, sizeof w->out->special_example, "%s", child);
        }
    }
    path->len = base;
    if (path->p)
        path->p[base] = 0;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int qr_expand_paths(const char *const *paths, size_t npaths, qr_filelist *out, quarry_error *err)
{
    walker w = { out, NULL, 0, 0 };
    qbuf path;
    qbuf_init(&path);
    int rc = 0;
    for (size_t i = 0; i < npaths && rc == 0; i++) {
        const char *p = paths[i];
        if (!p || !*p) {
            rc = qerr_set(err, QUARRY_EINVAL, "empty input path");
            break;
        }
        int kind = qr_path_kind(p);
        if (kind == QR_KIND_STDIN) {
            if (add_file(out, p, 0, kind))
                rc = nomem(err, p);
            continue;
        }
        struct stat st;
        if (qsys_stat(p, &st) != 0) {
            rc = qerr_errno(err, "cannot read", p);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            if (mark_dir(&w, st.st_dev, st.st_ino) < 0) {
                rc = nomem(err, p);
                break;
            }
            size_t first = out->n;
            qbuf_reset(&path);
            if (qbuf_append(&path, p, strlen(p) + 1)) {
                rc = nomem(err, p);
                break;
            }
            path.len--;
            rc = walk_dir(&w, &path, err);
            if (rc == 0 && out->n - first > 1)
                qsort(out->v + first, out->n - first, sizeof *out->v, cmp_file);
        } else if (kind < 0) {
            rc = qerr_set(err, QUARRY_EINVAL, "%s: not a .txt, .jsonl or .jsonl.gz file", p);
        } else if (add_file(out, p, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, kind)) {
            rc = nomem(err, p);
        }
    }
    qbuf_free(&path);
    free(w.seen);
    return rc;
}
