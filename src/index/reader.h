/*
 * reader.h — the internal view of an open index used by the query engine,
 * verify and dump: the mapped files, dictionary lookup and postings
 * cursors. The public side (quarry_open, article and text access) is in
 * quarry.h. Every decode checks bounds; a cursor that meets damaged data
 * stops and sets `corrupt` (reported as QUARRY_ECORRUPT by the caller).
 */
#ifndef QUARRY_READER_H
#define QUARRY_READER_H

#include <stdint.h>

#include "analyze/analyze.h"
#include "index/codec.h"
#include "index/format.h"
#include "index/manifest.h"

#define QX_END UINT32_MAX

typedef struct qx_term {
    uint64_t df, cf;
    uint64_t post_off, post_len;    /* absolute offsets in the .post / .posn files */
    uint64_t pos_off, pos_len;
    uint32_t max_tf, min_len;
} qx_term;

typedef struct qx_artrec {
    char *id, *title, *date;        /* NUL-terminated copies */
    uint32_t first_unit, nunits;
} qx_artrec;

struct quarry_index {
    char *dir;
    qm_manifest m;
    qf_map meta, dict, post, posn, unit, arts, text;
    qa_analyzer *an;
    uint64_t narts, nunits, nterms, npostings, npositions, ntokens;
    uint32_t passage_mode, passage_tokens;
    double avgdl;
    /* dictionary */
    const uint8_t *dict_index;      /* u64 block offsets */
    uint64_t ndblocks;
    uint64_t post_end, posn_end;    /* end of the data regions (absolute) */
    /* units: 12 bytes each (len, article, body_pos) */
    const uint8_t *units;
    /* articles */
    const uint8_t *art_offs;        /* narts + 1 u64 */
    const uint8_t *art_order;       /* narts u32 */
    qx_artrec **art_cache;          /* decoded lazily */
    /* text */
    const uint8_t *text_dir;        /* 20-byte entries */
    uint64_t ntblocks;
    int64_t tcache_block;
    qbuf tcache;
    /* query-time caches (engine.c) */
    double *norm;                   /* k1 * (1 - b + b * len / avgdl) per unit */
    double norm_k1, norm_b;
    double *best;                   /* per article best score, engine scratch */
    uint32_t *best_unit;
    uint32_t *touched;
};

static inline uint32_t qx_unit_len(const quarry_index *ix, uint32_t u) { return qload_u32(ix->units + 12 * (size_t)u); }
static inline uint32_t qx_unit_article(const quarry_index *ix, uint32_t u) { return qload_u32(ix->units + 12 * (size_t)u + 4); }
static inline uint32_t qx_unit_body(const quarry_index *ix, uint32_t u) { return qload_u32(ix->units + 12 * (size_t)u + 8); }

/* Opens every file named by the manifest; check_crc: verify checksums. */
int qx_open(const char *dir, int check_crc, quarry_index **out, quarry_error *err);

/* Looks up an analyzed term. Returns 1 found, 0 absent, or -QUARRY_ECORRUPT. */
int qx_lookup(const quarry_index *ix, const char *term, size_t len, qx_term *out, quarry_error *err);

/* Visits every dictionary entry in order (verify, dump). fn returns non-zero to stop. */
typedef int (*qx_term_fn)(void *ctx, const uint8_t *term, uint32_t len, const qx_term *t);
int qx_each_term(const quarry_index *ix, qx_term_fn fn, void *ctx, quarry_error *err);

int qx_article(const quarry_index *ix, uint32_t a, const qx_artrec **out, quarry_error *err);

/* A postings cursor. */
typedef struct qx_cursor {
    const quarry_index *ix;
    qx_term t;
    const uint8_t *base, *end;     /* the term's postings region (blocks) */
    const uint8_t *skips;          /* skip table, NULL for a single block */
    const uint8_t *pbase, *pend;   /* the term's positions region */
    uint64_t nblocks, blk;         /* current block */
    const uint8_t *next_block;     /* where the block after `blk` starts (single-block: unused) */
    uint32_t docs[QC_BLOCK], tfs[QC_BLOCK];
    uint32_t n, i;
    uint32_t doc;                  /* current doc or QX_END */
    /* positions of the current block, decoded on demand */
    uint32_t *pos;
    size_t cap_pos;
    int64_t pos_block;             /* block whose positions are in `pos`, -1 none */
    uint32_t *pos_start;           /* start index of each posting's positions (QC_BLOCK+1) */
    int corrupt;
} qx_cursor;

int qx_cursor_open(qx_cursor *c, const quarry_index *ix, const qx_term *t);
void qx_cursor_close(qx_cursor *c);
uint32_t qx_next(qx_cursor *c);
/* Moves to the first doc >= target (never backwards). */
uint32_t qx_advance(qx_cursor *c, uint32_t target);
static inline uint32_t qx_tf(const qx_cursor *c) { return c->tfs[c->i]; }
/* Absolute positions of the current posting (tf of them), or NULL if damaged. */
const uint32_t *qx_positions(qx_cursor *c);
/* Block-max data of the current block (for pruning): max tf and min length. */
void qx_block_bounds(const qx_cursor *c, uint32_t *last_doc, uint32_t *max_tf, uint32_t *min_len);

#endif
