/*
 * reader.h — the internal view of an open index, used by the query
 * engine, verify and dump: the segments named by the manifest with their
 * mapped files, dictionary lookup, postings cursors (with block-max data
 * for pruning), unit and article tables. The public side (quarry_open,
 * article and text access) is in quarry.h.
 *
 * Numbering: a unit (passage) or article has a local number in its
 * segment and a global one in the index (the segment's base plus the local
 * number); segments follow the manifest's order. Cursors work in local
 * numbers.
 *
 * Opening touches only headers, footers and trailers (no checksums, no
 * scans): every decode checks bounds instead, and a cursor that meets
 * damaged data stops and sets `corrupt` (reported as QUARRY_ECORRUPT by
 * the caller). quarry_verify checks everything.
 *
 * Thread safety: everything here reads immutable mapped data, except the
 * analyzer pool and the text block cache, which are guarded by `mu`, and
 * the dictionary block keys (qx_seg.dkeys), which lookups fill in with
 * relaxed atomic stores of values every thread computes alike.
 */
#ifndef QUARRY_READER_H
#define QUARRY_READER_H

#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <stdatomic.h>
#include <stdint.h>

#include "analyze/analyze.h"
#include "index/codec.h"
#include "index/format.h"
#include "index/impact.h"
#include "index/manifest.h"

#define QX_END UINT32_MAX

typedef struct qx_term {
    uint64_t df, cf;
    uint64_t post_off, post_len;    /* absolute offsets in the segment's .post / .posn files */
    uint64_t pos_off, pos_len;
    uint32_t max_tf, min_len;       /* of the whole term (from its frontier) */
    uint32_t nimp;
    qim_pair imp[QIM_MAX];          /* the term's impacts */
} qx_term;

typedef struct qx_seg {
    uint64_t id;
    const char *dir;                /* the index directory (borrowed) */
    qf_map meta, dict, post, posn, unit, arts, text;
    uint64_t narts, nunits, nterms, npostings, npositions, ntokens;
    uint32_t unit_base, art_base;   /* global number of its first unit / article */
    uint32_t passage_mode, passage_tokens;
    const uint8_t *blob;            /* analyzer settings (in .meta) */
    uint32_t blob_len;
    const uint8_t *ulen, *ulenq, *uart, *ubody, *ufp;   /* unit columns */
    const uint8_t *ufpix;           /* nunits × QF_UFP_ENTRY: the units' fingerprint index */
    const uint8_t *art_offs;        /* narts + 1 u64 */
    const uint8_t *art_order;       /* narts u32 */
    const uint8_t *art_dates;       /* narts u64 */
    const uint8_t *art_fps;         /* narts u64 */
    const uint8_t *art_hashes;      /* narts u64: the id hash table (hash << 32 | article), sorted */
    const uint8_t *afpix;           /* narts × QF_AFP_ENTRY: the articles' fingerprint index */
    const uint8_t *dict_index;      /* u64 block offsets */
    uint64_t ndblocks;
    /* each dictionary block's first term as a key (its first 8 bytes,
     * big-endian, zero-padded: keys order as the terms do where they
     * differ), filled in by lookups as they read the blocks (0: not yet);
     * later lookups then compare keys in this small array instead of
     * touching a block of the mapped dictionary. NULL when out of memory. */
    _Atomic uint64_t *dkeys;
    uint64_t dict_index_at;         /* offset of the sparse index in .dict */
    uint64_t post_end, posn_end;    /* end of the data regions (absolute) */
    const uint8_t *text_dir;        /* 20-byte entries */
    uint64_t ntblocks;
    /* deletions (FORMAT.md §del); delbits NULL when none */
    qf_map del;
    const uint8_t *delbits;
    uint64_t del_units, del_arts, del_tokens, del_nterms;
    const uint8_t *del_offs;        /* del_nterms u64 */
    uint64_t del_terms_at;
} qx_seg;

/* A raw-deflate decompressor that a text cache may use instead of zlib
 * (the writer gives its own caches libdeflate's, textw.c, for the text it
 * reads back when deleting): run() fills exactly `ulen` bytes from exactly
 * `clen`, or returns nonzero (damaged data). Without one, text blocks are
 * inflated by zlib. */
typedef struct qx_inflater {
    int (*run)(void *st, const uint8_t *in, size_t clen, uint8_t *out, size_t ulen);
    void (*free)(void *st);
    void *st;
} qx_inflater;

/* The last text block inflated, and what inflates them. The index has one,
 * guarded by ix->mu (qx_unit_text); a thread may keep one of its own
 * (qx_tcache_unit_text): it is not shared. */
typedef struct qx_tcache {
    const qx_seg *seg;              /* the block in buf: of this segment (NULL: none) */
    uint64_t block;
    qbuf buf;
    void *tz;                       /* a z_stream (zlib), made at the first block */
    qx_inflater inf;                /* if set, used instead of zlib (freed with the cache) */
} qx_tcache;

void qx_tcache_init(qx_tcache *tc);
void qx_tcache_free(qx_tcache *tc);
/* Appends the text of local unit u of segment s to `out`. */
int qx_tcache_unit_text(qx_tcache *tc, const qx_seg *s, uint32_t u, qbuf *out, quarry_error *err);

struct quarry_index {
    char *dir;                      /* the first index's directory */
    qm_manifest *m;                 /* one manifest per index searched together */
    char **dirs;
    size_t ndirs;
    qx_seg *seg;
    size_t nseg;
    uint64_t narts, nunits, nterms, npostings, npositions, ntokens;   /* all, deleted included */
    uint64_t live_arts, live_units, live_tokens;   /* BM25's collection: the live ones */
    double avgdl;
    uint32_t passage_mode, passage_tokens;
    qa_analyzer *an;                /* describes the settings; analyzing goes through the pool */
    pthread_mutex_t mu;             /* guards pool and the text cache */
    qa_analyzer **pool;
    size_t npool, cap_pool;
    qx_tcache tc;                   /* for qx_unit_text (ix->mu held) */
};

/* ------------------------------------------------------------ units */

static inline uint32_t qx_unit_len(const qx_seg *s, uint32_t u) { return qload_u32(s->ulen + 4 * (size_t)u); }
/* A lower bound of the length from the one-byte column (format.h). */
static inline uint8_t qx_unit_lenq(const qx_seg *s, uint32_t u) { return s->ulenq[u]; }
/* The unit's local article number; may be out of range in a damaged file (check against narts). */
static inline uint32_t qx_unit_article(const qx_seg *s, uint32_t u) { return qload_u32(s->uart + 4 * (size_t)u); }
static inline uint32_t qx_unit_body(const qx_seg *s, uint32_t u) { return qload_u32(s->ubody + 4 * (size_t)u); }
static inline uint64_t qx_unit_fp(const qx_seg *s, uint32_t u) { return qload_u64(s->ufp + 8 * (size_t)u); }

/* Is local unit u of segment s deleted? */
static inline int qx_deleted(const qx_seg *s, uint32_t u)
{
    return s->delbits && (s->delbits[u / 8] >> (u % 8)) & 1;
}

/* How many deleted units of s hold `term` (0 when none); -QUARRY_ECORRUPT
 * when the deletions file is damaged or counts more than `df` (the units of
 * s holding the term). */
int64_t qx_del_df(const qx_seg *s, const char *term, size_t len, uint64_t df, quarry_error *err);
/* Entry i of s's deleted-term table. 0, or -QUARRY_ECORRUPT. */
int qx_del_term(const qx_seg *s, uint64_t i, const char **term, uint32_t *len, uint64_t *count,
                quarry_error *err);
/* Appends the text of local unit u of segment s to `out`. */
int qx_unit_text(quarry_index *ix, const qx_seg *s, uint32_t u, qbuf *out, quarry_error *err);

/* Text block b of segment s as stored (b < s->ntblocks): its compressed
 * bytes, their raw length, and the units [first, first + count) it holds.
 * 0, or QUARRY_ECORRUPT when the directory entry is out of range. */
typedef struct qx_tblock {
    const uint8_t *z;
    uint32_t clen, ulen, first, count;
} qx_tblock;
int qx_text_block(const qx_seg *s, uint64_t b, qx_tblock *out, quarry_error *err);

/* Drops the pages of segment s's files that this process has read from
 * its resident set (qf_map_release): writers and merges, which read much
 * of an index once, call it now and then to stay within their budget. */
void qx_seg_release(const qx_seg *s);
/* Every file of segment s (those it opened) against its CRC: 0, or
 * QUARRY_ECORRUPT naming the file (quarry verify, and merges before they
 * read their sources). */
int qx_seg_check_sums(const qx_seg *s, quarry_error *err);

/* The segment holding global unit u (u < ix->nunits) / global article a. */
const qx_seg *qx_seg_of_unit(const quarry_index *ix, uint32_t u);
const qx_seg *qx_seg_of_article(const quarry_index *ix, uint32_t a);

/* ------------------------------------------------------------ open */

/* Opens the indexes of dirs[0..n) as one collection (see the top of this
 * file); retries each when a commit replaces its manifest meanwhile. */
int qx_open(const char *const *dirs, size_t n, quarry_index **out, quarry_error *err);

/* An analyzer for one search (the pool makes concurrent searches safe). */
int qx_analyzer_get(quarry_index *ix, qa_analyzer **out, quarry_error *err);
void qx_analyzer_put(quarry_index *ix, qa_analyzer *an);

/* Reports damage of segment file `m` at byte `off`. Returns QUARRY_ECORRUPT. */
int qx_bad(const qx_seg *s, const qf_map *m, uint64_t off, const char *what, quarry_error *err);

/* ------------------------------------------------------------ dictionary */

/* Looks up an analyzed term in a segment. Returns 1 found, 0 absent, or
 * -QUARRY_ECORRUPT (err set). */
int qx_lookup(const qx_seg *s, const char *term, size_t len, qx_term *out, quarry_error *err);
/* Starts loading the dictionary block a lookup of term would read (from
 * the block keys cached by earlier lookups) and returns it, or -1 when
 * the cached keys do not decide (nothing loaded). Lookups of one term in
 * several segments overlap their memory waits this way. */
int64_t qx_lookup_prefetch(const qx_seg *s, const char *term, size_t len);
/* qx_lookup in the block qx_lookup_prefetch returned for the same term
 * (the search of the blocks is not made again), or, when block is -1, as
 * qx_lookup. */
int qx_lookup_at(const qx_seg *s, int64_t block, const char *term, size_t len, qx_term *out, quarry_error *err);
/* Asks for the memory that opening a cursor on t reads first (its first
 * block and first skip entry), so that the cursors of every segment's
 * terms, opened one after another, do not wait in turn. */
void qx_term_prefetch(const qx_seg *s, const qx_term *t);

/* A walk over a segment's dictionary in term order (merges). */
typedef struct qx_dict_iter {
    const qx_seg *s;
    uint64_t block;
    uint32_t left;            /* entries left in the block */
    qcur c;
    uint64_t post_off, pos_off;
    uint8_t term[QF_MAX_TERM + 1];
    uint32_t len;
} qx_dict_iter;

void qx_dict_first(qx_dict_iter *it, const qx_seg *s);
/* The next term and its entry: 1, 0 at the end, -QUARRY_ECORRUPT (err set). */
int qx_dict_next(qx_dict_iter *it, qx_term *t, quarry_error *err);

/* Visits every dictionary entry of a segment in order (verify, dump);
 * checks order and contiguity on the way. fn returns non-zero to stop. */
typedef int (*qx_term_fn)(void *ctx, const uint8_t *term, uint32_t len, const qx_term *t);
int qx_each_term(const qx_seg *s, qx_term_fn fn, void *ctx, quarry_error *err);

/* ------------------------------------------------------------ articles */

typedef struct qx_artrec {
    const char *id, *title, *date;  /* NUL-terminated, in the mapped file */
    uint32_t id_len, title_len, date_len;
    uint32_t first_unit, nunits;    /* local to the segment */
} qx_artrec;

/* Decodes local article a of segment s (bounds checked): its record only
 * (its date key and fingerprint are columns of their own, read apart:
 * fetching a hit's id should not touch them). */
int qx_article(const qx_seg *s, uint32_t a, qx_artrec *out, quarry_error *err);
static inline uint64_t qx_article_date(const qx_seg *s, uint32_t a) { return qload_u64(s->art_dates + 8 * (size_t)a); }
static inline uint64_t qx_article_fp(const qx_seg *s, uint32_t a) { return qload_u64(s->art_fps + 8 * (size_t)a); }
/* The first of the n entries of table tab (stride bytes each, ascending
 * by the u64 each starts with) whose key is >= key, or n: interpolation
 * while the range is wide (the keys are uniform hashes: two or three
 * probes), then binary search. The id hash table and the fingerprint
 * indexes (FORMAT.md §arts, §unit) are such tables. */
uint64_t qx_lower_bound(const uint8_t *tab, uint64_t n, size_t stride, uint64_t key);
/* An entry of a segment's fingerprint index (FORMAT.md §unit, §arts),
 * decoded alike for both: the units' names a unit (num = first, count 1)
 * and its article (art), the articles' an article (num = art) and its
 * units [first, first + count). */
typedef struct qx_fpent {
    uint64_t fp;
    uint32_t num, art, first, count;
} qx_fpent;
/* Entry i (< nunits, or < narts) of s's units' (units set) or articles'
 * fingerprint index; unchecked (qx_fp_entry_ok). */
static inline qx_fpent qx_fp_entry(const qx_seg *s, int units, uint64_t i)
{
    const uint8_t *p = units ? s->ufpix + QF_UFP_ENTRY * i : s->afpix + QF_AFP_ENTRY * i;
    uint32_t num = qload_u32(p + 8), x = qload_u32(p + 12);
    return units ? (qx_fpent){ qload_u64(p), num, x, num, 1 } : (qx_fpent){ qload_u64(p), num, num, x, qload_u32(p + 16) };
}
/* Does e name an article and units of s in range? */
static inline int qx_fp_entry_ok(const qx_seg *s, const qx_fpent *e)
{
    return e->art < s->narts && e->count > 0 && e->first < s->nunits && e->count <= s->nunits - e->first;
}
/* The byte offset of entry i in its file (.unit or .arts), for messages. */
static inline uint64_t qx_fp_entry_at(const qx_seg *s, int units, uint64_t i)
{
    return units ? (uint64_t)(s->ufpix - s->unit.base) + QF_UFP_ENTRY * i
                 : (uint64_t)(s->afpix - s->arts.base) + QF_AFP_ENTRY * i;
}
/* Entry i (< narts) of the id hash table; its article is unchecked. */
static inline uint64_t qx_id_hash_entry(const qx_seg *s, uint64_t i) { return qload_u64(s->art_hashes + 8 * i); }

/* ------------------------------------------------------------ cursors */

/* A postings cursor over one term of one segment. Moves forward only.
 * Besides the current posting it keeps a "shallow" block position for
 * block-max pruning: qx_shallow looks at skip entries without decoding. */
#define QX_IMP_SLOTS 4
typedef struct qx_cursor {
    const qx_seg *seg;
    qx_term t;
    const uint8_t *base, *end;     /* the term's postings region (blocks) */
    const uint8_t *skips;          /* skip table, NULL for a single block */
    const uint8_t *pbase, *pend;   /* the term's positions region */
    uint64_t nblocks, blk;         /* current (decoded) block */
    uint64_t sblk;                 /* block of the last shallow look (>= blk) */
    const uint8_t *imps;           /* impacts area (multi-block terms) */
    int64_t imp_blk;               /* block whose impacts are in imp, -1 none */
    uint32_t nimp;
    qim_pair imp[QIM_MAX];
    /* impacts of blocks decoded for range bounds (qx_impacts_of), block b
     * in slot b % QX_IMP_SLOTS (in ic): consecutive windows share blocks */
    int64_t ic_blk[QX_IMP_SLOTS];
    uint32_t ic_n[QX_IMP_SLOTS];
    uint32_t n, i;                 /* postings in the block; the current one */
    uint32_t doc;                  /* current doc or QX_END */
    uint32_t last;                 /* the block's last doc */
    uint32_t ndec;                 /* docs[0 .. ndec) decoded (by chunks, as needed) */
    uint32_t dmax;                 /* docs[ndec - 1], 0 when none decoded */
    const uint8_t *dpk;            /* the block's packed doc gaps, or its bitmap */
    unsigned dw;                   /* the gaps' width */
    int64_t dprev;                 /* the doc before the block (-1 none) */
    int bitmap;                    /* the block's docs are a bitmap from `bfirst` */
    uint32_t bfirst, bspan;
    uint32_t rank_word, rank;      /* set bits before 64-bit word rank_word of the bitmap */
    const uint8_t *tf_at;          /* the block's packed tfs (width byte, values) */
    int tfs_ok;                    /* tfs[] holds them all */
    uint32_t tf_reads;             /* single values read from this block */
    /* positions of the current block, decoded one packed group of 128 values
     * at a time, as postings need them (pos_block: the block they belong to) */
    int64_t pos_block;
    uint32_t *pos;                 /* the block's values: gaps, absolute where pos_abs says */
    const uint8_t **goff;          /* where each group starts (walked lazily) */
    uint32_t *gstamp;              /* == stamp: group decoded for this block */
    uint32_t stamp, ngoff;
    size_t cap_pos, cap_groups;
    uint64_t pos_abs[QC_BLOCK / 64];   /* bit i: posting i's positions made absolute in place */
    int corrupt;
    /* decoded data, valid only as the fields above say (ndec, tfs_ok,
     * pos_block, ic_blk): not cleared when a cursor opens (QX_CURSOR_HEAD) */
    uint32_t docs[QC_BLOCK], tfs[QC_BLOCK];
    uint32_t pos_start[QC_BLOCK + 1];   /* each posting's first value */
    qim_pair ic[QX_IMP_SLOTS][QIM_MAX];
} qx_cursor;
/* The bytes of a cursor that opening (and qx_cursor_clear) sets. */
#define QX_CURSOR_HEAD offsetof(qx_cursor, docs)

/* Opens a cursor on its first posting. -1 (and corrupt) when the first
 * block is damaged. Close it even then. */
int qx_cursor_open(qx_cursor *c, const qx_seg *s, const qx_term *t);
void qx_cursor_close(qx_cursor *c);
/* A closed cursor as a zeroed one (no term, not corrupt); cheaper than
 * clearing the whole structure. */
static inline void qx_cursor_clear(qx_cursor *c)
{
    memset(c, 0, QX_CURSOR_HEAD);
}
#define QX_CHUNK QC_BLOCK     /* docs decoded at a time (a multiple of 8): smaller chunks measured slower */
/* Decodes the block's docs up to index i (and the rest of its chunk).
 * 0, or -1 when damaged (corrupt set, doc QX_END). */
int qx_decode_docs(qx_cursor *c, uint32_t i);
uint32_t qx_next_block(qx_cursor *c);
static inline uint32_t qx_next(qx_cursor *c)
{
    if (c->i + 1 < c->ndec)
        return c->doc = c->docs[++c->i];
    return qx_next_block(c);
}
/* Moves to the first doc >= target (never backwards); QX_END past the end.
 * The common cases (already there, or within the current block) inline. */
uint32_t qx_advance_block(qx_cursor *c, uint32_t target);
static inline uint32_t qx_advance(qx_cursor *c, uint32_t target)
{
    if (c->doc >= target)
        return c->doc;
    if (c->last < target || c->dmax < target)
        return qx_advance_block(c, target);
    uint32_t i = c->i + 1;
    if (i + 8 < c->ndec && c->docs[i + 8] < target) {   /* far: binary search the rest */
        uint32_t lo = i + 8, hi = c->ndec - 1;          /* docs[lo] < target <= docs[hi] */
        while (hi - lo > 1) {
            uint32_t mid = (lo + hi) / 2;
            if (c->docs[mid] < target)
                lo = mid;
            else
                hi = mid;
        }
        i = hi;
    } else
        while (c->docs[i] < target)
            i++;
    c->i = i;
    return c->doc = c->docs[i];
}
/* Decodes all the current block's tfs (positions need them). */
void qx_decode_tfs(qx_cursor *c);
/* Makes the whole current block's docs and tfs readable in c->docs and
 * c->tfs (block-at-a-time walks); 0, or -1 when damaged (corrupt set). */
static inline int qx_decode_block(qx_cursor *c)
{
    if (c->doc == QX_END || qx_decode_docs(c, c->n - 1))
        return -1;
    if (!c->tfs_ok)
        qx_decode_tfs(c);
    return c->corrupt ? -1 : 0;
}
/* Moves to posting j of the current block (j >= c->i, its docs decoded). */
static inline uint32_t qx_move_to(qx_cursor *c, uint32_t j)
{
    c->i = j;
    return c->doc = c->docs[j];
}
/* The current posting's tf: one value read from the packed block until
 * several are wanted, then the whole block decoded. */
uint32_t qx_tf_slow(qx_cursor *c);
static inline uint32_t qx_tf(qx_cursor *c)
{
    return c->tfs_ok ? c->tfs[c->i] : qx_tf_slow(c);
}
/* Absolute positions of the current posting (tf of them), strictly
 * increasing, or NULL if damaged (corrupt set: a group that does not
 * decode, a gap of 0 or one that wraps past 2^32) or out of memory
 * (corrupt not set). They are made absolute in the block's buffer, once:
 * valid while the cursor stays in its block. This is the one check that
 * positions increase: verify and every reader rely on it. */
const uint32_t *qx_positions(qx_cursor *c);

/* Block-max data of the block that holds the first doc >= target, without
 * decoding the block: its last doc and its impacts (*n pairs, valid until
 * the cursor moves). NULL when no doc >= target is left, or when the skip
 * data is damaged (then corrupt is set). target must not decrease between
 * calls. */
const qim_pair *qx_shallow(qx_cursor *c, uint32_t target, uint32_t *last_doc, uint32_t *n);
/* The last doc of the block that holds the first doc >= target (QX_END
 * when none is left), as qx_shallow without the impacts. */
uint32_t qx_block_last(qx_cursor *c, uint32_t target);
/* The blocks [*b0, *b1] that may hold docs in [from, to] (moves the
 * shallow position to *b0, as qx_shallow). -1 when no doc >= from is left. */
int qx_blocks_in(qx_cursor *c, uint32_t from, uint32_t to, uint64_t *b0, uint64_t *b1);
/* The impacts of block b (*n pairs); NULL when damaged (corrupt set). They
 * stay valid until the cursor moves, or this is called for a block
 * QX_IMP_SLOTS blocks away. */
const qim_pair *qx_impacts_of(qx_cursor *c, uint64_t b, uint32_t *n);
/* The number of blocks, and the last doc of block b < that (from its skip
 * entry: nothing is decoded). */
static inline uint64_t qx_nblocks(const qx_cursor *c) { return c->skips ? c->nblocks : 1; }
uint32_t qx_block_end(const qx_cursor *c, uint64_t b);
/* The same as qx_shallow for the current block (verify and tests). */
const qim_pair *qx_block_impacts(qx_cursor *c, uint32_t *last_doc, uint32_t *n);

#endif
