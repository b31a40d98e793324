/*
 * manifest.h — the MANIFEST file: the one small file that names the files
 * of the committed generation. Replaced atomically (write MANIFEST.tmp,
 * fsync, rename, fsync the directory), so a reader always sees a complete
 * commit. Text format (index/FORMAT.md §manifest):
 *
 *   quarry-manifest 1
 *   generation G
 *   file NAME SIZE CRC32HEX        (one line per file, in a fixed order)
 *   crc CRC32HEX                   (zlib crc32 of every byte before this line)
 */
#ifndef QUARRY_MANIFEST_H
#define QUARRY_MANIFEST_H

#include <stdint.h>

#include "base/base.h"

#define QM_MAX_FILES 16

typedef struct qm_manifest {
    uint32_t generation;
    size_t nfiles;
    struct {
        char name[64];
        uint64_t size;
        uint32_t crc;
    } files[QM_MAX_FILES];
} qm_manifest;

/* QUARRY_ENOTFOUND when DIR has no MANIFEST; ECORRUPT when it is damaged. */
int qm_read(const char *dir, qm_manifest *m, quarry_error *err);
int qm_write(const char *dir, const qm_manifest *m, quarry_error *err);
/* Removes files of generations other than `keep` and stale run files. */
void qm_cleanup(const char *dir, uint32_t keep);

#endif
