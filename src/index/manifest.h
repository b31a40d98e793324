/*
 * manifest.h — the MANIFEST: the one small file that names the segments
 * (and their files) of the committed generation of an index. Replaced
 * atomically (write MANIFEST.tmp, fsync, rename, fsync the directory), so
 * a reader sees either the previous commit or the new one, never a mix.
 * The text format is specified in index/FORMAT.md §MANIFEST and parsed
 * strictly here: every byte is checked, nothing may trail.
 *
 * File names: every name quarry creates in an index directory is produced
 * (and recognised) here, so that cleanup removes nothing it did not make:
 *   s<16 hex>.<kind>            a segment's file (kind: meta dict post posn unit arts text)
 *   s<16 hex>-<16 hex>.del      a segment's deletions as of a generation
 *   t<16 hex>-<8 hex>.run       a writer's temporary sorted run
 *   MANIFEST, MANIFEST.tmp, LOCK
 */
#ifndef QUARRY_MANIFEST_H
#define QUARRY_MANIFEST_H

#include <stdint.h>

#include "base/base.h"

#define QM_MAX_SEGMENTS 4096   /* a manifest naming more is damaged */
#define QM_SEG_FILES 7         /* meta dict post posn unit arts text */
#define QM_NAME 40             /* longest file name + NUL */

typedef struct qm_file {
    char name[QM_NAME];
    uint64_t size;
    uint32_t crc;              /* the file's CRC32 footer */
} qm_file;

typedef struct qm_segment {
    uint64_t id;
    uint64_t delgen;           /* generation of its deletions file; 0: none */
    qm_file files[QM_SEG_FILES + 1];   /* in the order of qm_kinds, then the .del file */
    size_t nfiles;
} qm_segment;

typedef struct qm_manifest {
    uint64_t generation;       /* >= 1 */
    uint64_t next_segment;     /* the next unused segment id (> every id named) */
    qm_segment *seg;
    size_t nseg;
} qm_manifest;

/* The seven kinds of a segment's files, in manifest order. */
extern const char *const qm_kinds[QM_SEG_FILES];

/* Reads DIR/MANIFEST. QUARRY_ENOTFOUND when DIR has none, QUARRY_EFORMAT
 * for another version, QUARRY_ECORRUPT when damaged. *m is written only on
 * success; free it with qm_free. */
int qm_read(const char *dir, qm_manifest *m, quarry_error *err);
/* Writes and atomically installs DIR/MANIFEST. */
int qm_write(const char *dir, const qm_manifest *m, quarry_error *err);
void qm_free(qm_manifest *m);
/* Deep copy (for writers that start from the committed manifest). */
int qm_copy(qm_manifest *dst, const qm_manifest *src);

/* Names (into out, at least QM_NAME bytes). */
void qm_seg_name(char *out, uint64_t seg, const char *kind);
void qm_del_name(char *out, uint64_t seg, uint64_t gen);
void qm_run_name(char *out, uint64_t owner, uint32_t n);

/* What a directory entry is, by its exact name (see the top of this file). */
enum qm_name_kind { QM_OTHER = 0, QM_SEGFILE, QM_DELFILE, QM_RUNFILE, QM_MANIFEST_TMP };
int qm_classify(const char *name, uint64_t *seg);

/* Removes the files of DIR that quarry made and that `keep` does not name:
 * segment and deletion files of other commits, run files and MANIFEST.tmp
 * of writers that are gone. Nothing else is ever removed. */
void qm_cleanup(const char *dir, const qm_manifest *keep);

#endif
