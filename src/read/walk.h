/*
 * walk.h — private to src/read: expanding the paths given to qr_open into
 * the list of input files (walk.c), shared with the reader (reader.c).
 */
#ifndef QUARRY_READ_WALK_H
#define QUARRY_READ_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

enum qr_kind { QR_KIND_TXT = 0, QR_KIND_JSONL = 1, QR_KIND_GZ = 2, QR_KIND_STDIN = 3 };

typedef struct qr_file {
    char *path;       /* as given, or joined while walking ("-" for stdin) */
    uint64_t size;    /* st_size when walked (0 for stdin) */
    int kind;         /* enum qr_kind */
} qr_file;

typedef struct qr_filelist {
    qr_file *v;
    size_t n, cap;
    uint64_t special;         /* FIFOs, devices and sockets met while walking, skipped */
    char special_example[256];   /* the first of them */
} qr_filelist;

/* The kind of a file from its name: .txt, .jsonl, .jsonl.gz (ASCII case
 * ignored), or -1 for any other name. */
int qr_path_kind(const char *path);

/* Appends the files named by `paths` to `out`, in argument order; a
 * directory contributes the matching regular files below it sorted
 * byte-wise by path. Hidden entries (names starting with '.') are skipped;
 * so are special files (FIFOs, devices, sockets: never opened, a FIFO would
 * block), counted in out->special; symbolic links are followed but every
 * directory (by device and inode) is walked once, so a link loop ends. A
 * path named explicitly may be a FIFO (a pipe is a stream like stdin).
 * Errors as documented for qr_open. */
int qr_expand_paths(const char *const *paths, size_t npaths, qr_filelist *out, quarry_error *err);
void qr_filelist_free(qr_filelist *l);

#endif
