/*
 * format.h — constants and small shared routines of the on-disk format.
 * The format itself is specified in index/FORMAT.md; keep the two in step.
 *
 * Every index file:  [header 16 B][body][crc32 4 B]
 *   header = "QRRY" | kind (4 ASCII bytes) | u32 version | u32 0
 *   crc32  = zlib crc32 of every byte before it (header included)
 */
#ifndef QUARRY_FORMAT_H
#define QUARRY_FORMAT_H

#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

#define QF_MAGIC "QRRY"
#define QF_VERSION 7u
#define QF_HEADER 16u
#define QF_FOOTER 4u

/* file kinds (also the file name extension) */
#define QF_META "meta"
#define QF_DICT "dict"
#define QF_POST "post"
#define QF_POSN "posn"
#define QF_UNIT "unit"
#define QF_ARTS "arts"
#define QF_TEXT "text"
#define QF_DEL "dele"          /* a segment's deletions (file name extension .del) */

#define QF_MANIFEST "MANIFEST"
#define QF_MANIFEST_MAGIC "quarry-manifest 2"

#define QF_DICT_BLOCK 8u       /* terms per front-coded dictionary block (a lookup scans half of one) */
#define QF_BITMAP_BLOCK 0x40u  /* a postings block's first byte when its docs are a bitmap (FORMAT.md §post) */
#define QF_SKIP_SIZE 16u       /* bytes of one skip entry: last doc, block, positions and impacts offsets */
#define QF_TEXT_BLOCK (16u << 10) /* target uncompressed bytes of a text block */
#define QF_TITLE_GAP 8u        /* positions left between the title and the body of a unit */
#define QF_MAX_TERM 255u
/* Entries of the fingerprint indexes (FORMAT.md §unit, §arts), sorted by
 * (fingerprint, number): the duplicates of a hit are found in a few reads */
#define QF_UFP_ENTRY 16u       /* u64 fingerprint, u32 unit, u32 article */
#define QF_AFP_ENTRY 20u       /* u64 fingerprint, u32 article, u32 first_unit, u32 nunits */

/* Quantized unit lengths (FORMAT.md §unit): one byte whose decoding is a
 * lower bound of the length (exact below 64, within 12.5% above), so a
 * score bound computed from it stays a bound; a small column a search can
 * keep in cache. */
static inline uint8_t qf_lenq_encode(uint32_t len)
{
    if (len < 64)
        return (uint8_t)len;
    unsigned e = 31u - (unsigned)__builtin_clz(len);   /* 6.. */
    unsigned code = 64u + (e - 6u) * 8u + ((len >> (e - 3u)) & 7u);
    return (uint8_t)(code > 255u ? 255u : code);
}
static inline uint32_t qf_lenq_decode(uint8_t q)
{
    if (q < 64)
        return q;
    unsigned e = (unsigned)(q - 64) / 8u + 6u, m = (unsigned)(q - 64) % 8u;
    return (8u + m) << (e - 3u);
}

/* The 32-bit hash of an article id that keys the id hash table of .arts
 * (FORMAT.md §arts): FNV-1a 64 of the id's bytes, then MurmurHash3's
 * 64-bit finalizer, high 32 bits. Part of the format: never change it. */
static inline uint32_t qf_id_hash(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (uint32_t)(h >> 32);
}

/* Sorts n values ascending (id hash tables, the writer's deletion lists). */
void qf_sort_u64(uint64_t *v, size_t n);
/* A fingerprint and a unit or article number: the fingerprint indexes'
 * order (FORMAT.md §unit, §arts), which qf_sort_fp sorts n of into. */
typedef struct qf_fpnum {
    uint64_t fp, num;
} qf_fpnum;
void qf_sort_fp(qf_fpnum *v, size_t n);

/* DIR/NAME, allocated (NULL: no memory). */
char *qf_path(const char *dir, const char *name);

/* A file being written (filew.c): buffered, CRC computed on the fly. */
typedef struct qf_writer {
    FILE *f;
    char *buf;        /* f's buffer (QF_WRITE_BUF bytes; NULL: stdio's own) */
    char *path;       /* final path */
    uint32_t crc;
    uint64_t off;     /* bytes written so far (header included) */
    int failed;       /* sticky */
    int saved_errno;
} qf_writer;

/* Creates DIR/NAME and writes the header of kind `kind`. */
int qf_create(qf_writer *w, const char *dir, const char *name, const char *kind, quarry_error *err);
int qf_write(qf_writer *w, const void *p, size_t n);   /* 0 or -1 (sticky) */
int qf_write_buf(qf_writer *w, const qbuf *b);
int qf_put_u32(qf_writer *w, uint32_t v);
int qf_put_u64(qf_writer *w, uint64_t v);
/* Appends the CRC, flushes, fsyncs and closes; reports any earlier failure. */
int qf_finish(qf_writer *w, uint64_t *size, uint32_t *crc, quarry_error *err);
/* Closes without finishing and removes the file. */
void qf_abort(qf_writer *w);

/* A mapped, checked file being read. body/body_len exclude header and CRC. */
typedef struct qf_map {
    const uint8_t *base;
    size_t size;
    const uint8_t *body;
    size_t body_len;
    char name[64];
} qf_map;

/* Maps DIR/NAME and checks its size, magic, kind and version (opening an
 * index checks that its size and footer equal the manifest's; the CRC of
 * the whole file is qf_map_check's, for quarry verify and merges). */
/* A missing file is QUARRY_ENOTFOUND (a reader checks whether a commit
 * removed it before calling it damage). */
int qf_map_open(qf_map *m, const char *dir, const char *name, const char *kind, quarry_error *err);
/* qf_map_open in two steps, so that opening many files waits for the disk
 * once, not once per file: qf_map_begin maps DIR/NAME (its size checked)
 * and asks the kernel to read its head and tail ahead, without reading
 * them; qf_map_header then checks magic, kind and version (closing the
 * map when they are wrong). */
int qf_map_begin(qf_map *m, const char *dir, const char *name, quarry_error *err);
int qf_map_header(qf_map *m, const char *dir, const char *kind, quarry_error *err);
void qf_map_close(qf_map *m);
/* Checks the CRC of the whole mapped file (footer) against its bytes;
 * QUARRY_ECORRUPT naming DIR/NAME when they differ. */
int qf_map_check(const qf_map *m, const char *dir, quarry_error *err);
/* Drops the pages of m that this process has read from its resident set
 * (they stay in the page cache; reading them again faults them back in).
 * Long sequential reads (merges, checksums) call it now and then, so that
 * their memory stays bounded whatever the size of the files. */
void qf_map_release(const qf_map *m);
/* Maps DIR/NAME as it is (a writer's temporary file: no header or CRC). */
int qf_map_raw(qf_map *m, const char *dir, const char *name, quarry_error *err);

/* fsync a directory (after a rename); errors are ignored where unsupported. */
void qf_sync_dir(const char *dir);

#endif
