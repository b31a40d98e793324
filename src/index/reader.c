/*
 * reader.c — opening a committed index (MANIFEST -> segments -> mapped
 * files), the dictionary lookup, postings cursors with block-max data,
 * article records and the passage text store. Every structure read from
 * disk is checked against the end of its file before use (index/FORMAT.md
 * gives the layouts); opening reads only headers, footers and trailers.
 */
#include "index/reader.h"
#include "base/sys.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <zlib.h>

#define OPEN_TRIES 100   /* commits racing one open; each retry follows a new manifest */

/* ------------------------------------------------------------ errors */

int qx_bad(const qx_seg *s, const qf_map *m, uint64_t off, const char *what, quarry_error *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", s->dir, m->name);
    return qerr_corrupt(err, p, off, what);
}

/* ------------------------------------------------------------ open */

/* Reads the last `n` u64 of a body (its trailer) */
static int trailer(const qf_map *m, size_t n, uint64_t *v)
{
    if (m->body_len < 8 * n)
        return -1;
    const uint8_t *p = m->body + m->body_len - 8 * n;
    for (size_t i = 0; i < n; i++)
        v[i] = qload_u64(p + 8 * i);
    return 0;
}

static void seg_close(qx_seg *s)
{
    if (s->dkeys)
        qsys_munmap((void *)s->dkeys, s->ndblocks * sizeof *s->dkeys);
    s->dkeys = NULL;
    qf_map_close(&s->meta);
    qf_map_close(&s->dict);
    qf_map_close(&s->post);
    qf_map_close(&s->posn);
    qf_map_close(&s->unit);
    qf_map_close(&s->arts);
    qf_map_close(&s->text);
    qf_map_close(&s->del);
}

void quarry_close(quarry_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->nseg; i++)
        seg_close(&ix->seg[i]);
    free(ix->seg);
    for (size_t i = 0; i < ix->ndirs; i++) {
        qm_free(&ix->m[i]);
        free(ix->dirs[i]);
    }
    free(ix->m);
    free(ix->dirs);
    for (size_t i = 0; i < ix->npool; i++)
        if (ix->pool[i] != ix->an)
            qa_close(ix->pool[i]);
    free(ix->pool);
    qa_close(ix->an);
    qx_tcache_free(&ix->tc);
    pthread_mutex_destroy(&ix->mu);
    free(ix);
}

/* The maps of segment s's files, in the order of manifest entry g's (the
 * deletions file last, when g names one); returns how many g names. */
static size_t seg_maps(qx_seg *s, const qm_segment *g, qf_map **maps)
{
    qf_map *v[QM_SEG_FILES + 1] = { &s->meta, &s->dict, &s->post, &s->posn, &s->unit, &s->arts, &s->text, &s->del };
    memcpy(maps, v, sizeof v);
    return g->nfiles > QM_SEG_FILES ? QM_SEG_FILES + 1 : QM_SEG_FILES;
}

/* Maps every file of segment g, reading nothing yet (qf_map_begin): the
 * reads of all the segments' heads and tails are then in flight at once.
 * A missing file is QUARRY_ENOTFOUND (the caller decides whether a commit
 * raced). */
static int seg_map(const char *dir, const qm_segment *g, qx_seg *s, quarry_error *err)
{
    qf_map *maps[QM_SEG_FILES + 1];
    size_t n = seg_maps(s, g, maps);
    s->id = g->id;
    s->dir = dir;
    for (size_t k = 0; k < n; k++) {
        int rc = qf_map_begin(maps[k], dir, g->files[k].name, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Checks a mapped segment file against its manifest entry: header, size, footer. */
static int check_file(const char *dir, const qm_segment *g, size_t k, qf_map *m, quarry_error *err)
{
    const qm_file *f = &g->files[k];
    int rc = qf_map_header(m, dir, k < QM_SEG_FILES ? qm_kinds[k] : QF_DEL, err);
    if (rc)
        return rc;
    if (m->size != f->size || qload_u32(m->base + m->size - QF_FOOTER) != f->crc) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, f->name);
        return qerr_corrupt(err, p, m->size, "size or checksum differs from the manifest");
    }
    return 0;
}

/* Checks segment g, mapped by seg_map, and reads its tables' places. */
static int seg_check(const char *dir, const qm_segment *g, qx_seg *s, quarry_error *err)
{
    int rc;
    qf_map *maps[QM_SEG_FILES + 1];
    size_t nf = seg_maps(s, g, maps);
    for (size_t k = 0; k < nf; k++)
        if ((rc = check_file(dir, g, k, maps[k], err)))
            return rc;
    /* meta */
    qcur c = qcur_make(s->meta.body, s->meta.body_len);
    s->narts = qcur_u64(&c);
    s->nunits = qcur_u64(&c);
    s->nterms = qcur_u64(&c);
    s->npostings = qcur_u64(&c);
    s->npositions = qcur_u64(&c);
    s->ntokens = qcur_u64(&c);
    s->passage_mode = qcur_u32(&c);
    s->passage_tokens = qcur_u32(&c);
    s->blob_len = qcur_u32(&c);
    s->blob = qcur_bytes(&c, s->blob_len);
    if (!c.ok || c.p != c.end || s->nunits >= UINT32_MAX || s->narts > s->nunits ||
        s->npostings > s->npositions || s->passage_mode > 1)
        return qx_bad(s, &s->meta, QF_HEADER, "bad collection statistics", err);

    /* units: columns len u32, lenq u8, article u32, body_pos u32, fingerprint u64;
     * the fingerprint index; u64 units */
    uint64_t t[7];
    if (trailer(&s->unit, 1, t) || t[0] != s->nunits || s->unit.body_len != (21 + QF_UFP_ENTRY) * s->nunits + 8)
        return qx_bad(s, &s->unit, QF_HEADER, "unit table size does not match the statistics", err);
    s->ulen = s->unit.body;
    s->ulenq = s->ulen + 4 * s->nunits;
    s->uart = s->ulenq + s->nunits;
    s->ubody = s->uart + 4 * s->nunits;
    s->ufp = s->ubody + 4 * s->nunits;
    s->ufpix = s->ufp + 8 * s->nunits;

    /* articles: records, offsets, id order, dates, fingerprints, id hashes,
     * fingerprint index, trailer */
    uint64_t n = s->narts;
    if (trailer(&s->arts, 7, t) || t[0] != n || t[1] < QF_HEADER || t[1] > s->arts.size || t[2] != t[1] + 8 * (n + 1) ||
        t[3] != t[2] + 4 * n || t[4] != t[3] + 8 * n || t[5] != t[4] + 8 * n || t[6] != t[5] + 8 * n ||
        t[6] + QF_AFP_ENTRY * n + 56 != QF_HEADER + s->arts.body_len)
        return qx_bad(s, &s->arts, s->arts.size - 60, "bad article table trailer", err);
    s->art_offs = s->arts.base + t[1];
    s->art_order = s->arts.base + t[2];
    s->art_dates = s->arts.base + t[3];
    s->art_fps = s->arts.base + t[4];
    s->art_hashes = s->arts.base + t[5];
    s->afpix = s->arts.base + t[6];

    /* text: blocks, directory, trailer = nblocks, nunits, dir_off */
    if (trailer(&s->text, 3, t) || t[1] != s->nunits || t[2] < QF_HEADER ||
        t[0] > s->text.body_len / 20 || t[2] + 20 * t[0] + 24 != QF_HEADER + s->text.body_len)
        return qx_bad(s, &s->text, s->text.size - 28, "bad text store trailer", err);
    s->ntblocks = t[0];
    s->text_dir = s->text.base + t[2];

    /* dictionary: trailer = nterms, nblocks, index_off */
    if (trailer(&s->dict, 3, t) || t[0] != s->nterms || t[2] < QF_HEADER ||
        t[1] != (t[0] + QF_DICT_BLOCK - 1) / QF_DICT_BLOCK || t[2] + 8 * t[1] + 24 != QF_HEADER + s->dict.body_len)
        return qx_bad(s, &s->dict, s->dict.size - 28, "bad dictionary trailer", err);
    s->ndblocks = t[1];
    s->dict_index_at = t[2];
    s->dict_index = s->dict.base + t[2];
    /* zero pages of their own (not calloc's, which may clear reused heap
     * memory page by page): a search touches the few its lookups fill */
    void *keys = s->ndblocks ? qsys_mmap(NULL, s->ndblocks * sizeof *s->dkeys, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                             : MAP_FAILED;
    s->dkeys = keys == MAP_FAILED ? NULL : keys;

    /* postings and positions: trailer = data length */
    if (trailer(&s->post, 1, t) || t[0] != s->post.body_len - 8)
        return qx_bad(s, &s->post, s->post.size - 12, "bad postings trailer", err);
    s->post_end = QF_HEADER + t[0];
    if (trailer(&s->posn, 1, t) || t[0] != s->posn.body_len - 8)
        return qx_bad(s, &s->posn, s->posn.size - 12, "bad positions trailer", err);
    s->posn_end = QF_HEADER + t[0];

    /* deletions: counts, bitmap, terms, offsets, trailer */
    if (s->del.base) {
        uint64_t d[4];
        qcur c2 = qcur_make(s->del.body, s->del.body_len);
        uint64_t units = qcur_u64(&c2), du = qcur_u64(&c2), da = qcur_u64(&c2), dt = qcur_u64(&c2);
        uint64_t bytes = (s->nunits + 7) / 8;
        if (!c2.ok || units != s->nunits || du > s->nunits || da > s->narts || dt > s->ntokens ||
            trailer(&s->del, 4, d) || d[1] != QF_HEADER + 32 || d[2] != d[1] + bytes || d[3] < d[2] ||
            d[0] > (d[3] - d[2]) || d[3] + 8 * d[0] + 32 != QF_HEADER + s->del.body_len)
            return qx_bad(s, &s->del, QF_HEADER, "bad deletions header or trailer", err);
        s->del_units = du;
        s->del_arts = da;
        s->del_tokens = dt;
        s->delbits = s->del.base + d[1];
        s->del_nterms = d[0];
        s->del_terms_at = d[2];
        s->del_offs = s->del.base + d[3];
    }
    return 0;
}


void qx_seg_release(const qx_seg *s)
{
    const qf_map *maps[] = { &s->meta, &s->dict, &s->post, &s->posn, &s->unit, &s->arts, &s->text, &s->del };
    for (size_t k = 0; k < sizeof maps / sizeof maps[0]; k++)
        qf_map_release(maps[k]);
}

int qx_seg_check_sums(const qx_seg *s, quarry_error *err)
{
    const qf_map *maps[] = { &s->meta, &s->dict, &s->post, &s->posn, &s->unit, &s->arts, &s->text, &s->del };
    for (size_t k = 0; k < sizeof maps / sizeof maps[0]; k++) {
        if (!maps[k]->base)   /* no deletions file */
            continue;
        int rc = qf_map_check(maps[k], s->dir, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Opens every segment of manifest m of index `dir`, appending to ix->seg. */
static int open_segments(quarry_index *ix, const char *dir, const qm_manifest *m, quarry_error *err)
{
    if (m->nseg == 0)
        return qerr_set(err, QUARRY_ECORRUPT, "%s/MANIFEST: names no segment (rebuild the index)", dir);
    qx_seg *v = qrealloc(ix->seg, (ix->nseg + m->nseg) * sizeof *v);
    if (!v)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    ix->seg = v;
    size_t first = ix->nseg;
    for (size_t i = 0; i < m->nseg; i++) {
        qx_seg *s = &ix->seg[ix->nseg++];
        memset(s, 0, sizeof *s);
        int rc = seg_map(dir, &m->seg[i], s, err);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < m->nseg; i++) {
        qx_seg *s = &ix->seg[first + i];
        int rc = seg_check(dir, &m->seg[i], s, err);
        if (rc)
            return rc;
        /* opening touched the head and tail of every file, and the kernel
         * maps the cached pages around each touch: drop them, so that an
         * index of many segments costs no memory until it is read (a
         * search faults back what it reads) */
        qx_seg_release(s);
    }
    return 0;
}

/* Opens index `dir` as ix->m[ix->ndirs]: retried while commits replace its
 * manifest under us; a file really missing is damage. */
static int open_dir(quarry_index *ix, const char *dir, quarry_error *err)
{
    size_t first = ix->nseg, k = ix->ndirs;
    int rc = 0;
    for (int attempt = 0; attempt < OPEN_TRIES; attempt++) {
        if ((rc = qm_read(dir, &ix->m[k], err)))
            return rc;
        uint64_t gen = ix->m[k].generation;
        rc = open_segments(ix, dir, &ix->m[k], err);
        if (rc != QUARRY_ENOTFOUND)
            break;
        /* a file named by the manifest is missing: a commit that replaced the
         * manifest (and removed the old files) after we read it, or damage */
        quarry_error e2 = *err;
        while (ix->nseg > first)
            seg_close(&ix->seg[--ix->nseg]);
        qm_free(&ix->m[k]);
        qm_manifest m2;
        if (qm_read(dir, &m2, NULL) == 0) {
            int moved = m2.generation != gen;
            qm_free(&m2);
            if (moved)
                continue;
        }
        if (err) {
            *err = e2;
            err->code = QUARRY_ECORRUPT;
        }
        return QUARRY_ECORRUPT;
    }
    if (rc == QUARRY_ENOTFOUND)   /* every attempt met a newer commit */
        rc = qerr_set(err, QUARRY_EIO, "%s: the index changed %d times while it was being opened (a writer is "
                      "committing fast); try again", dir, OPEN_TRIES);
    if (rc) {
        while (ix->nseg > first)
            seg_close(&ix->seg[--ix->nseg]);
        qm_free(&ix->m[k]);
        return rc;
    }
    ix->ndirs++;
    return 0;
}

int qx_open(const char *const *dirs, size_t n, quarry_index **out, quarry_error *err)
{
    if (n == 0)
        return qerr_set(err, QUARRY_EINVAL, "no index to open");
    quarry_index *ix = qcalloc(1, sizeof *ix);
    if (ix) {
        ix->m = qcalloc(n, sizeof *ix->m);
        ix->dirs = qcalloc(n, sizeof *ix->dirs);
    }
    if (!ix || !ix->m || !ix->dirs) {
        if (ix) {
            free(ix->m);
            free(ix->dirs);
        }
        free(ix);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&ix->mu, NULL);
    qx_tcache_init(&ix->tc);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!(ix->dirs[i] = qstrndup(dirs[i], strlen(dirs[i]))))
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        else
            rc = open_dir(ix, ix->dirs[i], err);
    }
    for (size_t i = n; rc && i-- > 0;)   /* dirs past the failed one were not kept */
        if (i >= ix->ndirs) {
            free(ix->dirs[i]);
            ix->dirs[i] = NULL;
        }
    if (!rc) {
        ix->dir = ix->dirs[0];
        uint64_t units = 0, arts = 0;
        const qx_seg *s0 = &ix->seg[0];
        for (size_t i = 0; i < ix->nseg && !rc; i++) {
            qx_seg *s = &ix->seg[i];
            if (s->blob_len != s0->blob_len || memcmp(s->blob, s0->blob, s->blob_len) != 0 ||
                s->passage_mode != s0->passage_mode || s->passage_tokens != s0->passage_tokens) {
                rc = s->dir == s0->dir
                         ? qx_bad(s, &s->meta, QF_HEADER, "segments disagree on the analyzer or passage settings", err)
                         : qerr_set(err, QUARRY_EINVAL,
                                    "%s: its analyzer or passage settings differ from %s's; indexes searched "
                                    "together must be built with the same --language, --stemmer, --stopwords "
                                    "and --passages (see 'quarry stats')",
                                    s->dir, s0->dir);
                break;
            }
            s->unit_base = (uint32_t)units;
            s->art_base = (uint32_t)arts;
            units += s->nunits;
            arts += s->narts;
            if (units >= UINT32_MAX) {
                rc = qx_bad(s, &s->meta, QF_HEADER, "more than 2^32 - 1 passages in the indexes searched", err);
                break;
            }
            ix->nterms += s->nterms;
            ix->npostings += s->npostings;
            ix->npositions += s->npositions;
            ix->ntokens += s->ntokens;
            ix->live_units += s->nunits - s->del_units;
            ix->live_arts += s->narts - s->del_arts;
            ix->live_tokens += s->ntokens - s->del_tokens;
        }
        ix->nunits = units;
        ix->narts = arts;
        ix->avgdl = ix->live_units ? (double)ix->live_tokens / (double)ix->live_units : 1.0;
        if (ix->avgdl <= 0)
            ix->avgdl = 1.0;
        ix->passage_mode = s0->passage_mode;
        ix->passage_tokens = s0->passage_tokens;
        if (!rc)
            rc = qa_open_serialized(s0->blob, s0->blob_len, &ix->an, err);
    }
    if (rc == 0) {
        if (qgrow((void **)&ix->pool, &ix->cap_pool, 0, sizeof *ix->pool))
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        else
            ix->pool[ix->npool++] = ix->an;
    }
    if (rc) {
        quarry_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

int quarry_open(const char *dir, quarry_index **out, quarry_error *err)
{
    return qx_open(&dir, 1, out, err);
}

int quarry_open_many(const char *const *dirs, size_t n, quarry_index **out, quarry_error *err)
{
    return qx_open(dirs, n, out, err);
}

const qx_seg *qx_seg_of_unit(const quarry_index *ix, uint32_t u)
{
    size_t lo = 0, hi = ix->nseg;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->seg[mid].unit_base <= u)
            lo = mid;
        else
            hi = mid;
    }
    return &ix->seg[lo];
}

const qx_seg *qx_seg_of_article(const quarry_index *ix, uint32_t a)
{
    size_t lo = 0, hi = ix->nseg;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->seg[mid].art_base <= a)
            lo = mid;
        else
            hi = mid;
    }
    return &ix->seg[lo];
}

/* ------------------------------------------------------------ analyzers */

int qx_analyzer_get(quarry_index *ix, qa_analyzer **out, quarry_error *err)
{
    pthread_mutex_lock(&ix->mu);
    qa_analyzer *an = ix->npool ? ix->pool[--ix->npool] : NULL;
    pthread_mutex_unlock(&ix->mu);
    if (an) {
        *out = an;
        return 0;
    }
    return qa_open_serialized(ix->seg[0].blob, ix->seg[0].blob_len, out, err);
}

void qx_analyzer_put(quarry_index *ix, qa_analyzer *an)
{
    if (!an)
        return;
    pthread_mutex_lock(&ix->mu);
    int kept = qgrow((void **)&ix->pool, &ix->cap_pool, ix->npool, sizeof *ix->pool) == 0;
    if (kept)
        ix->pool[ix->npool++] = an;
    pthread_mutex_unlock(&ix->mu);
    if (!kept && an != ix->an)
        qa_close(an);
}

/* ------------------------------------------------------------ dictionary */

typedef struct dblock {
    qcur c;
    uint64_t post_off, pos_off;
    uint32_t count, i;
    uint8_t term[QF_MAX_TERM + 1];
    uint32_t len;
    uint32_t lcp;            /* dblock_pass: bytes term shares with the term sought */
} dblock;

static int dblock_open(const qx_seg *s, uint64_t b, dblock *d)
{
    uint64_t off = qload_u64(s->dict_index + 8 * b);
    uint64_t end = b + 1 < s->ndblocks ? qload_u64(s->dict_index + 8 * (b + 1)) : s->dict_index_at;
    if (off < QF_HEADER || off >= end || end > s->dict_index_at)
        return -1;
    d->c = qcur_make(s->dict.base + off, end - off);
    d->post_off = qcur_u64(&d->c);
    d->pos_off = qcur_u64(&d->c);
    d->count = qcur_u32(&d->c);
    d->i = 0;
    d->len = 0;
    d->lcp = 0;
    uint64_t expect = b + 1 < s->ndblocks ? QF_DICT_BLOCK : s->nterms - QF_DICT_BLOCK * b;
    return d->c.ok && d->count == expect ? 0 : -1;
}

/* Decodes the next entry of the block; -1 when damaged. */
/* The next entry's front-coded term: the bytes shared with the previous
 * term (*pre) and the suffix (returned, *suf bytes); NULL when damaged. */
static const uint8_t *entry_term(dblock *d, uint64_t *pre, uint64_t *suf)
{
    *pre = qcur_varint(&d->c);
    *suf = qcur_varint(&d->c);
    if (!d->c.ok || *pre > d->len || *pre + *suf > QF_MAX_TERM || *pre + *suf == 0 || (d->i == 0 && *pre))
        return NULL;
    const uint8_t *p = qcur_bytes(&d->c, *suf);
    /* terms strictly increase in a block: front-coded, the first byte after
     * the shared prefix decides (a lookup would otherwise miss a term) */
    if (!p || (d->i > 0 && (*suf == 0 || (*pre < d->len && p[0] <= d->term[*pre]))))
        return NULL;
    return p;
}

static int dblock_next(const qx_seg *s, dblock *d, qx_term *t)
{
    uint64_t pre, suf;
    const uint8_t *p = entry_term(d, &pre, &suf);
    if (!p)
        return -1;
    memcpy(d->term + pre, p, suf);
    d->len = (uint32_t)(pre + suf);
    t->df = qcur_varint(&d->c);
    t->cf = t->df + qcur_varint(&d->c);
    t->post_len = qcur_varint(&d->c);
    t->pos_len = qcur_varint(&d->c);
    if (qim_get(&d->c, t->imp, &t->nimp))
        return -1;
    t->max_tf = t->imp[t->nimp - 1].tf;
    t->min_len = t->imp[0].len;
    t->post_off = d->post_off;
    t->pos_off = d->pos_off;
    if (!d->c.ok || t->df == 0 || t->df > s->nunits || t->cf < t->df || t->max_tf > t->cf ||
        t->post_off < QF_HEADER || t->pos_off < QF_HEADER ||
        t->post_off > s->post_end || t->pos_off > s->posn_end || t->post_len > s->post_end - t->post_off ||
        t->pos_len > s->posn_end - t->pos_off)
        return -1;
    d->post_off += t->post_len;
    d->pos_off += t->pos_len;
    d->i++;
    return 0;
}

/* Skips n varints at the cursor (their bytes only); !c->ok past its end. */
static void skip_varints(qcur *c, uint64_t n)
{
    const uint8_t *p = c->p, *end = c->end;
    while (n && p < end)
        n -= !(*p++ & 0x80);
    if (n)
        c->ok = 0;
    c->p = p;
}

/* The block's first term only (binary search probes): 0, or -1 when damaged. */
static int dblock_first(const qx_seg *s, uint64_t b, dblock *d)
{
    uint64_t pre, suf;
    const uint8_t *p = dblock_open(s, b, d) ? NULL : entry_term(d, &pre, &suf);
    if (!p)
        return -1;
    memcpy(d->term, p, suf);
    d->len = (uint32_t)suf;
    return 0;
}

/* Moves past the next entry of the block when its term sorts before
 * `term`: 1 (term still ahead), 0 when the entry's term is `term` or sorts
 * after it (then the entry is left to dblock_next), -1 when damaged. Only
 * the offsets are decoded from an entry passed over, not its impacts.
 *
 * The entries passed so far sort before `term`; d->lcp is how many bytes
 * the last one shares with it. Front coding then decides most entries
 * without comparing bytes: one sharing more than d->lcp bytes with the
 * last has the last's byte there, below term's; one sharing fewer has a
 * byte above the last's, i.e. above term's, where the last and term
 * agree (entry_term checks that each entry's first new byte increases). */
static int dblock_pass(dblock *d, const uint8_t *term, size_t len)
{
    qcur save = d->c;
    uint64_t pre, suf;
    const uint8_t *p = entry_term(d, &pre, &suf);
    if (!p)
        return -1;
    size_t m = d->lcp, lcp = m;
    int c;
    if (pre > m)
        c = -1;
    else if (pre < m)
        c = 1;
    else {   /* the entry and term agree on m bytes: compare the rest */
        size_t k = 0, lim = suf < len - m ? suf : len - m;
        while (k < lim && p[k] == term[m + k])
            k++;
        lcp = m + k;
        c = k < lim ? (p[k] < term[m + k] ? -1 : 1) : (pre + suf > len) - (pre + suf < len);
    }
    if (c >= 0) {
        d->c = save;
        return 0;
    }
    memcpy(d->term + pre, p, suf);
    d->len = (uint32_t)(pre + suf);
    d->lcp = (uint32_t)lcp;
    uint64_t df = qcur_varint(&d->c);
    qcur_varint(&d->c);   /* cf */
    uint64_t post_len = qcur_varint(&d->c), pos_len = qcur_varint(&d->c), nimp = qcur_varint(&d->c);
    if (!d->c.ok || df == 0 || nimp == 0 || nimp > QIM_MAX)
        return -1;
    skip_varints(&d->c, 2 * nimp);
    if (!d->c.ok)
        return -1;
    d->post_off += post_len;
    d->pos_off += pos_len;
    d->i++;
    return 1;
}

static int cmp_bytes(const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

/* A term's key in qx_seg.dkeys. */
static uint64_t term_key(const uint8_t *t, size_t len)
{
    uint64_t k = 0;
    for (size_t i = 0; i < 8; i++)
        k = k << 8 | (i < len ? t[i] : 0);
    return k;
}

/* The last dictionary block whose first term <= term (binary search on
 * the blocks' first terms, their keys cached in dkeys); -QUARRY_ECORRUPT
 * when a block is damaged (err set). With `known` the search reads only
 * cached keys and gives up (-2) where one is missing or does not decide. */
static int64_t find_dblock(const qx_seg *s, const uint8_t *term, size_t len, int known, quarry_error *err)
{
    uint64_t lo = 0, hi = s->ndblocks;
    uint64_t key = term_key(term, len);
    dblock d;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint64_t k = s->dkeys ? atomic_load_explicit(&s->dkeys[mid], memory_order_relaxed) : 0;
        int c;
        if (k && k != key)   /* the keys decide */
            c = k < key ? -1 : 1;
        else if (known)
            return -2;
        else {
            if (dblock_first(s, mid, &d))
                return -qx_bad(s, &s->dict, s->dict_index_at + 8 * mid, "damaged dictionary block", err);
            c = cmp_bytes(d.term, d.len, term, len);
            if (s->dkeys)
                atomic_store_explicit(&s->dkeys[mid], term_key(d.term, d.len), memory_order_relaxed);
        }
        if (c <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return (int64_t)lo;
}

int64_t qx_lookup_prefetch(const qx_seg *s, const char *term, size_t len)
{
    if (s->ndblocks == 0 || len == 0 || len > QF_MAX_TERM)
        return -1;
    int64_t b = find_dblock(s, (const uint8_t *)term, len, 1, NULL);
    if (b < 0)
        return -1;
    uint64_t off = qload_u64(s->dict_index + 8 * (uint64_t)b);
    if (off >= s->dict_index_at)
        return -1;
    /* the block's first lines: a lookup passes about half of its entries */
    const uint8_t *p = s->dict.base + off;
    for (uint64_t k = 0; k < 256 && off + k < s->dict_index_at; k += 64)
        __builtin_prefetch(p + k);
    return b;
}

/* A term's skip blocks, and where its skip table starts in its postings
 * region (after its blocks and impacts: the table is the region's tail);
 * -1 for a single block, or a region too short for the table (damage). */
static inline uint64_t term_blocks(const qx_term *t) { return (t->df + QC_BLOCK - 1) / QC_BLOCK; }
static inline int64_t skips_at(const qx_term *t)
{
    uint64_t nb = term_blocks(t);
    return nb > 1 && t->post_len >= nb * QF_SKIP_SIZE ? (int64_t)(t->post_len - nb * QF_SKIP_SIZE) : -1;
}

void qx_term_prefetch(const qx_seg *s, const qx_term *t)
{
    if (t->post_off >= s->post.size || t->post_len > s->post.size - t->post_off)
        return;
    const uint8_t *b = s->post.base + t->post_off;
    __builtin_prefetch(b);
    __builtin_prefetch(b + 64);
    int64_t sk = skips_at(t);
    if (sk >= 0)
        __builtin_prefetch(b + sk);
}

int qx_lookup_at(const qx_seg *s, int64_t block, const char *term, size_t len, qx_term *out, quarry_error *err)
{
    if (s->ndblocks == 0 || len == 0 || len > QF_MAX_TERM)
        return 0;
    dblock d;
    qx_term t;
    int64_t found = block >= 0 && (uint64_t)block < s->ndblocks ? block
                                                                : find_dblock(s, (const uint8_t *)term, len, 0, err);
    if (found < 0)
        return (int)found;
    uint64_t lo = (uint64_t)found;
    if (dblock_open(s, lo, &d))
        return -qx_bad(s, &s->dict, s->dict_index_at + 8 * lo, "damaged dictionary block", err);
    /* pass the entries before the term; decode (and check) the one at it */
    int more = 1;
    while (d.i < d.count && (more = dblock_pass(&d, (const uint8_t *)term, len)) == 1)
        ;
    if (more < 0 || (more == 0 && dblock_next(s, &d, &t)))
        return -qx_bad(s, &s->dict, qload_u64(s->dict_index + 8 * lo), "damaged dictionary entry", err);
    if (more == 0 && cmp_bytes(d.term, d.len, (const uint8_t *)term, len) == 0) {
        *out = t;
        return 1;
    }
    return 0;
}

int qx_lookup(const qx_seg *s, const char *term, size_t len, qx_term *out, quarry_error *err)
{
    return qx_lookup_at(s, -1, term, len, out, err);
}

void qx_dict_first(qx_dict_iter *it, const qx_seg *s)
{
    memset(it, 0, sizeof *it);
    it->s = s;
}

int qx_dict_next(qx_dict_iter *it, qx_term *t, quarry_error *err)
{
    const qx_seg *s = it->s;
    if (it->left == 0) {
        if (it->block >= s->ndblocks)
            return 0;
        dblock d;
        if (dblock_open(s, it->block, &d))
            return -qx_bad(s, &s->dict, s->dict_index_at + 8 * it->block, "damaged dictionary block", err);
        it->c = d.c;
        it->post_off = d.post_off;
        it->pos_off = d.pos_off;
        it->left = d.count;
        it->len = 0;
        it->block++;
    }
    dblock d;   /* the block's cursor state, as dblock_next wants it */
    d.c = it->c;
    d.post_off = it->post_off;
    d.pos_off = it->pos_off;
    d.count = 0;
    d.i = it->len ? 1 : 0;
    d.len = it->len;
    memcpy(d.term, it->term, it->len);
    if (dblock_next(s, &d, t))
        return -qx_bad(s, &s->dict, s->dict_index_at + 8 * (it->block - 1), "damaged dictionary entry", err);
    it->c = d.c;
    it->post_off = d.post_off;
    it->pos_off = d.pos_off;
    it->len = d.len;
    memcpy(it->term, d.term, d.len);
    it->left--;
    return 1;
}

int qx_each_term(const qx_seg *s, qx_term_fn fn, void *ctx, quarry_error *err)
{
    dblock d;
    qx_term t;
    uint8_t prev[QF_MAX_TERM + 1];
    uint32_t prev_len = 0;
    uint64_t post_expect = QF_HEADER, pos_expect = QF_HEADER;
    for (uint64_t b = 0; b < s->ndblocks; b++) {
        uint64_t at = s->dict_index_at + 8 * b;
        if (dblock_open(s, b, &d))
            return qx_bad(s, &s->dict, at, "damaged dictionary block header", err);
        if (d.post_off != post_expect || d.pos_off != pos_expect)
            return qx_bad(s, &s->dict, at, "dictionary block offsets are not contiguous", err);
        for (uint32_t i = 0; i < d.count; i++) {
            if (dblock_next(s, &d, &t))
                return qx_bad(s, &s->dict, at, "damaged dictionary entry", err);
            if ((b || i) && cmp_bytes(prev, prev_len, d.term, d.len) >= 0)
                return qx_bad(s, &s->dict, at, "dictionary terms out of order", err);
            memcpy(prev, d.term, d.len);
            prev_len = d.len;
            int rc = fn(ctx, d.term, d.len, &t);
            if (rc)
                return rc;
        }
        post_expect = d.post_off;
        pos_expect = d.pos_off;
    }
    if (post_expect != s->post_end || pos_expect != s->posn_end)
        return qx_bad(s, &s->dict, QF_HEADER, "dictionary does not cover the postings exactly", err);
    return 0;
}

/* ------------------------------------------------------------ deletions */

int qx_del_term(const qx_seg *s, uint64_t i, const char **term, uint32_t *len, uint64_t *count,
                quarry_error *err)
{
    uint64_t off = qload_u64(s->del_offs + 8 * i);
    uint64_t end = i + 1 < s->del_nterms ? qload_u64(s->del_offs + 8 * (i + 1))
                                         : (uint64_t)(s->del_offs - s->del.base);
    if (off < s->del_terms_at || off >= end || end > (uint64_t)(s->del_offs - s->del.base))
        return -qx_bad(s, &s->del, s->del_offs - s->del.base + 8 * i, "deleted-term offset out of range", err);
    qcur c = qcur_make(s->del.base + off, end - off);
    uint64_t l = qcur_varint(&c);
    const uint8_t *t = qcur_bytes(&c, l);
    uint64_t n = qcur_varint(&c);
    if (!c.ok || c.p != c.end || l == 0 || l > QF_MAX_TERM || n == 0 || n > s->del_units)
        return -qx_bad(s, &s->del, off, "damaged deleted-term record", err);
    *term = (const char *)t;
    *len = (uint32_t)l;
    *count = n;
    return 0;
}

int64_t qx_del_df(const qx_seg *s, const char *term, size_t len, uint64_t df, quarry_error *err)
{
    uint64_t lo = 0, hi = s->delbits ? s->del_nterms : 0;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        const char *t;
        uint32_t tl;
        uint64_t count;
        int rc = qx_del_term(s, mid, &t, &tl, &count, err);
        if (rc)
            return rc;
        int c = cmp_bytes((const uint8_t *)t, tl, (const uint8_t *)term, len);
        if (c == 0) {
            if (count > df)   /* more deleted units holding it than units holding it */
                return -qx_bad(s, &s->del, qload_u64(s->del_offs + 8 * mid),
                               "a deleted term's count is more than its document frequency", err);
            return (int64_t)count;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* ------------------------------------------------------------ cursors */

static inline uint32_t skip_u32(const qx_cursor *c, uint64_t b, int field)
{
    return qload_u32(c->skips + QF_SKIP_SIZE * b + 4 * field);
}

static uint32_t fail(qx_cursor *c);

/* Starts block c->blk at p: checks that its packed doc gaps and tfs lie
 * within the blocks region; decodes nothing (qx_decode_docs does, a few
 * chunks at a time, as the cursor needs them). `last` is the block's last
 * doc (from its skip entry), or UINT32_MAX when the term has one block
 * (that block is then decoded whole at once to learn it). */
static int decode_block(qx_cursor *c, const uint8_t *p, int64_t prev_doc, uint32_t last)
{
    uint64_t left = c->t.df - c->blk * QC_BLOCK;
    uint32_t n = left < QC_BLOCK ? (uint32_t)left : QC_BLOCK;
    if (p >= c->end)
        return -1;
    c->bitmap = *p == QF_BITMAP_BLOCK;
    if (c->bitmap) {   /* varint first - prev - 1, varint span, ceil(span / 8) bytes */
        qcur q = qcur_make(p + 1, (size_t)(c->end - p - 1));
        uint64_t off = qcur_varint(&q), span = qcur_varint(&q);
        uint64_t first = (uint64_t)(prev_doc + 1) + off;
        if (!q.ok || span < n || span > 8 * QC_BLOCK * 4 || first + span - 1 >= c->seg->nunits ||
            (last != UINT32_MAX && first + span - 1 != last) || (span + 7) / 8 > (uint64_t)(q.end - q.p))
            return -1;
        c->bfirst = (uint32_t)first;
        c->bspan = (uint32_t)span;
        c->rank_word = c->rank = 0;
        c->dpk = q.p;
        p = q.p + (span + 7) / 8;
        if (last == UINT32_MAX)
            last = (uint32_t)(first + span - 1);
    } else {
        if (*p > 32 || qc_packed_size(n, *p) > (size_t)(c->end - p - 1))
            return -1;
        c->dw = *p;
        c->dpk = p + 1;
        p = c->dpk + qc_packed_size(n, c->dw);
    }
    if (p >= c->end || *p > 32 || qc_packed_size(n, *p) > (size_t)(c->end - p - 1))
        return -1;
    c->tf_at = p;
    c->tfs_ok = 0;
    c->tf_reads = 0;
    c->dprev = prev_doc;
    c->ndec = 0;
    c->dmax = 0;
    c->n = n;
    c->i = 0;
    c->pos_block = -1;
    c->last = last;
    if (last == UINT32_MAX) {
        if (qx_decode_docs(c, n - 1))
            return -1;
        c->last = c->docs[n - 1];
    }
    return 0;
}

/* Set bits of 8 bytes (no popcnt instruction assumed). */
static inline uint32_t pop64(uint64_t v)
{
#if defined(__POPCNT__)
    return (uint32_t)__builtin_popcountll(v);
#else
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (uint32_t)((v * 0x0101010101010101ull) >> 56);
#endif
}

/* Word w of a bitmap of nb bytes (bit k of the word: bit k % 8 of its
 * byte k / 8), zeros past its end. */
static inline uint64_t bitmap_word(const uint8_t *p, uint32_t nb, uint32_t w)
{
    uint32_t at = w * 8;
    if (at + 8 <= nb)
        return qload_u64(p + at);
    uint64_t v = 0;
    for (uint32_t k = 0; at + k < nb; k++)
        v |= (uint64_t)p[at + k] << (8 * k);
    return v;
}

/* A bitmap block's docs, all of them; its bits must be exactly n, the
 * first and the last set. */
static int decode_bitmap(qx_cursor *c)
{
    /* (locals: the stores to docs cannot change them) */
    uint32_t k = 0, n = c->n, span = c->bspan, first = c->bfirst, nb = (span + 7) / 8, nw = (nb + 7) / 8,
             *docs = c->docs;
    const uint8_t *bits = c->dpk;
    for (uint32_t w = 0; w < nw; w++) {   /* a word at a time: one exit per 64 bits */
        uint64_t v = bitmap_word(bits, nb, w);
        uint32_t set = pop64(v);
        if (set > n - k || (w == nw - 1 && span % 64 && v >> (span % 64)))
            return fail(c), -1;   /* more than n bits, or bits past the span */
        uint32_t base = first + w * 64;
        while (v) {
            docs[k++] = base + (uint32_t)__builtin_ctzll(v);
            v &= v - 1;
        }
    }
    if (k != c->n || c->docs[0] != c->bfirst || c->docs[k - 1] != c->last)
        return fail(c), -1;
    c->ndec = c->n;
    c->dmax = c->last;
    return 0;
}

/* A bitmap block, not decoded: the first doc >= target (<= last) and its
 * index, from the bits, 64 at a time. The rank (set bits before a word)
 * is kept from one seek to the next, which only go forward in a block. */
static uint32_t seek_bitmap(qx_cursor *c, uint32_t target)
{
    uint32_t j = target > c->bfirst ? target - c->bfirst : 0;
    uint32_t nb = (c->bspan + 7) / 8, nw = (nb + 7) / 8, w = j / 64;
    uint64_t raw = bitmap_word(c->dpk, nb, w), v = j % 64 ? raw & (~0ull << (j % 64)) : raw;
    while (!v && ++w < nw)
        v = raw = bitmap_word(c->dpk, nb, w);
    if (!v)
        return fail(c);
    uint32_t bit = w * 64 + (uint32_t)__builtin_ctzll(v), rw = c->rank_word, rank = c->rank;
    if (rw > w) {   /* (seeks go forward; recount if not) */
        rw = 0;
        rank = 0;
    }
    for (; rw < w; rw++)
        rank += pop64(bitmap_word(c->dpk, nb, rw));
    c->rank_word = w;
    c->rank = rank;
    rank += pop64(raw & ((1ull << (bit % 64)) - 1));
    if (rank >= c->n || bit >= c->bspan)
        return fail(c);
    c->i = rank;
    return c->doc = c->bfirst + bit;
}

/* How far a decode of a cursor's postings or positions may load: the end
 * of the mapped file (what follows a block's packed values is its tfs, the
 * next block or the file's tables). Each group is still checked against
 * its own region; only the loads of its last bytes reach past it. */
static inline const uint8_t *map_end(const qf_map *m)
{
    return m->base + m->size;
}

int qx_decode_docs(qx_cursor *c, uint32_t i)
{
    uint32_t from = c->ndec;
    if (i < from)
        return 0;
    if (c->bitmap)
        return decode_bitmap(c);
    /* whole chunks of QX_CHUNK values, up to the one holding i */
    uint32_t to = (i / QX_CHUNK + 1) * QX_CHUNK;
    if (to > c->n)
        to = c->n;
    int64_t prev = from ? (int64_t)c->docs[from - 1] : c->dprev;
    if (qc_unpack_docs(c->dpk + (size_t)from / 8 * c->dw, c->tf_at, map_end(&c->seg->post), to - from, c->dw, prev,
                       c->docs + from) < 0)
        return fail(c), -1;
    int64_t d = to > from ? (int64_t)c->docs[to - 1] : prev;
    /* below the units and the block's last doc, which the last one equals */
    if (d >= (int64_t)c->seg->nunits || (c->last != UINT32_MAX && d > (int64_t)c->last) ||
        (to == c->n && c->last != UINT32_MAX && d != (int64_t)c->last))
        return fail(c), -1;
    c->ndec = to;
    c->dmax = c->docs[to - 1];
    return 0;
}

uint32_t qx_tf_slow(qx_cursor *c)
{
    if (++c->tf_reads > 8) {   /* a dense walk: decode the block once */
        qx_decode_tfs(c);
        return c->tfs[c->i];
    }
    const uint8_t *p = c->tf_at;
    return qc_get(p + 1, qc_packed_size(c->n, *p), *p, c->i) + 1;
}

void qx_decode_tfs(qx_cursor *c)
{
    const uint8_t *p = c->tf_at;
    c->tfs_ok = 1;
    long k = p && p < c->end ? qc_unpack_counts(p + 1, c->end, map_end(&c->seg->post), c->n, *p, c->tfs) : -1;
    if (k < 0) {
        for (uint32_t i = 0; i < QC_BLOCK; i++)
            c->tfs[i] = 1;
        fail(c);
    }
}

static uint32_t fail(qx_cursor *c)
{
    c->corrupt = 1;
    c->doc = QX_END;
    c->n = 0;
    c->blk = c->sblk = c->nblocks;
    c->imp_blk = -1;
    for (int k = 0; k < QX_IMP_SLOTS; k++)
        c->ic_blk[k] = -1;
    return QX_END;
}

int qx_cursor_open(qx_cursor *c, const qx_seg *s, const qx_term *t)
{
    qx_cursor_clear(c);
    c->seg = s;
    c->t = *t;
    c->nblocks = term_blocks(t);
    c->pos_block = -1;
    c->imp_blk = -1;
    for (int k = 0; k < QX_IMP_SLOTS; k++)
        c->ic_blk[k] = -1;
    c->base = s->post.base + t->post_off;
    c->end = c->base + t->post_len;
    c->pbase = s->posn.base + t->pos_off;
    c->pend = c->pbase + t->pos_len;
    if (c->nblocks > 1) {
        /* blocks, impacts, skips: the impacts area starts where the first
         * block's impacts are */
        int64_t sk = skips_at(t);
        if (sk < 0)
            return fail(c), -1;
        c->skips = c->base + sk;
        uint32_t ioff = qload_u32(c->skips + 12);
        if (ioff > (uint64_t)sk)
            return fail(c), -1;
        c->end = c->base + ioff;
        c->imps = c->end;
    }
    c->blk = c->sblk = 0;
    if (decode_block(c, c->base, -1, c->skips ? skip_u32(c, 0, 0) : UINT32_MAX))
        return fail(c), -1;
    if (c->bitmap)
        c->doc = c->bfirst;
    else if (c->ndec)
        c->doc = c->docs[0];
    else {   /* the first doc alone (its gap): most terms of a query are
              * advanced past their first block without reading the rest */
        uint32_t first = qc_get(c->dpk, qc_packed_size(c->n, c->dw), c->dw, 0);
        if (first > c->last || first >= c->seg->nunits)
            return fail(c), -1;
        c->doc = first;
    }
    return 0;
}

void qx_cursor_close(qx_cursor *c)
{
    free(c->pos);
    free(c->goff);
    free(c->gstamp);
    c->pos = NULL;
    c->goff = NULL;
    c->gstamp = NULL;
    c->cap_pos = c->cap_groups = 0;
}

/* Loads block b (b > current). */
static uint32_t load_block(qx_cursor *c, uint64_t b)
{
    if (b >= c->nblocks) {
        c->doc = QX_END;
        c->blk = c->nblocks;
        if (c->sblk < c->blk)
            c->sblk = c->blk;
        return QX_END;
    }
    uint64_t off = skip_u32(c, b, 1);
    int64_t prev = (int64_t)skip_u32(c, b - 1, 0);
    if (off >= (uint64_t)(c->end - c->base))
        return fail(c);
    c->blk = b;
    if (c->sblk < b)
        c->sblk = b;
    if (decode_block(c, c->base + off, prev, skip_u32(c, b, 0)) || (!c->bitmap && qx_decode_docs(c, 0)))
        return fail(c);
    return c->doc = c->bitmap ? c->bfirst : c->docs[0];
}

uint32_t qx_next_block(qx_cursor *c)
{
    if (c->doc == QX_END)
        return QX_END;
    if (c->i + 1 < c->n) {
        if (qx_decode_docs(c, c->i + 1))   /* (a bitmap block: all of it) */
            return QX_END;
        return c->doc = c->docs[++c->i];
    }
    return load_block(c, c->blk + 1);
}

/* The first block b >= from whose last doc >= target (nblocks if none):
 * galloping over the skip entries, then a binary search. */
static uint64_t find_block(const qx_cursor *c, uint64_t from, uint32_t target)
{
    uint64_t lo = from, step = 1, hi;
    if (from >= c->nblocks)
        return c->nblocks;
    for (;;) {
        hi = lo + step;
        if (hi >= c->nblocks) {
            hi = c->nblocks;
            break;
        }
        if (skip_u32(c, hi, 0) >= target)
            break;
        lo = hi;
        step *= 2;
    }
    /* blocks [from, lo] may still be < target; the answer is in [lo, hi] */
    if (skip_u32(c, lo, 0) >= target)
        return lo;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (skip_u32(c, mid, 0) >= target)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

uint32_t qx_advance_block(qx_cursor *c, uint32_t target)
{
    if (c->doc >= target)
        return c->doc;
    if (c->last < target) {
        if (!c->skips) {
            c->doc = QX_END;
            c->blk = c->sblk = c->nblocks;
            return QX_END;
        }
        /* blocks before the shallow position end below the target if the
         * block just before it does: start the search there */
        uint64_t from = c->blk + 1;
        if (c->sblk > from && skip_u32(c, c->sblk - 1, 0) < target)
            from = c->sblk;
        from = find_block(c, from, target);
        if (load_block(c, from) == QX_END || c->doc >= target)
            return c->doc;
    }
    /* within the block: a bitmap not decoded answers from its bits; else
     * decode chunks until one reaches the target (the block's last doc
     * does), then search the decoded docs */
    if (c->bitmap && c->ndec == 0)
        return seek_bitmap(c, target);
    while (c->dmax < target)
        if (qx_decode_docs(c, c->ndec))
            return QX_END;
    return qx_advance(c, target);
}

/* Decodes the impacts of block b into c->imp (multi-block terms). */
static int load_impacts(qx_cursor *c, uint64_t b)
{
    if ((int64_t)b == c->imp_blk)
        return 0;
    uint32_t off = skip_u32(c, b, 3);
    const uint8_t *p = c->base + off, *end = c->skips;
    if (p < c->imps || p >= end) {
        fail(c);
        return -1;
    }
    qcur q = qcur_make(p, (size_t)(end - p));
    if (qim_get(&q, c->imp, &c->nimp)) {
        fail(c);
        return -1;
    }
    c->imp_blk = (int64_t)b;
    return 0;
}

/* The shallow position moved to the block that holds the first doc >=
 * target (multi-block terms): 0, or -1 when none is left. */
static inline int shallow_block(qx_cursor *c, uint32_t target)
{
    uint64_t b = c->sblk < c->blk ? c->blk : c->sblk;
    if (skip_u32(c, b, 0) < target) {
        b = find_block(c, b, target);
        if (b >= c->nblocks)
            return -1;
    }
    c->sblk = b;
    return 0;
}

uint32_t qx_block_last(qx_cursor *c, uint32_t target)
{
    if (c->doc == QX_END)
        return QX_END;
    if (!c->skips)
        return c->last >= target ? c->last : QX_END;
    return shallow_block(c, target) ? QX_END : skip_u32(c, c->sblk, 0);
}

const qim_pair *qx_shallow(qx_cursor *c, uint32_t target, uint32_t *last_doc, uint32_t *n)
{
    if (c->doc == QX_END)
        return NULL;
    if (!c->skips) {   /* one block: the term's impacts are its */
        if (c->last < target)
            return NULL;
        *last_doc = c->last;
        *n = c->t.nimp;
        return c->t.imp;
    }
    if (shallow_block(c, target) || load_impacts(c, c->sblk))
        return NULL;
    *last_doc = skip_u32(c, c->sblk, 0);
    *n = c->nimp;
    return c->imp;
}

uint32_t qx_block_end(const qx_cursor *c, uint64_t b)
{
    return c->skips ? skip_u32(c, b, 0) : c->last;
}

int qx_blocks_in(qx_cursor *c, uint32_t from, uint32_t to, uint64_t *b0, uint64_t *b1)
{
    if (c->doc == QX_END)
        return -1;
    if (!c->skips) {
        if (c->last < from)
            return -1;
        *b0 = *b1 = 0;
        return 0;
    }
    uint64_t b = c->sblk < c->blk ? c->blk : c->sblk;
    if (skip_u32(c, b, 0) < from) {
        b = find_block(c, b, from);
        if (b >= c->nblocks)
            return -1;
    }
    c->sblk = b;
    *b0 = b;
    uint64_t e = skip_u32(c, b, 0) >= to ? b : find_block(c, b, to);
    *b1 = e < c->nblocks ? e : c->nblocks - 1;
    return 0;
}

const qim_pair *qx_impacts_of(qx_cursor *c, uint64_t b, uint32_t *n)
{
    if (!c->skips) {
        *n = c->t.nimp;
        return c->t.imp;
    }
    if ((int64_t)b == c->imp_blk) {
        *n = c->nimp;
        return c->imp;
    }
    uint32_t k = (uint32_t)(b % QX_IMP_SLOTS);
    if (c->ic_blk[k] == (int64_t)b) {
        *n = c->ic_n[k];
        return c->ic[k];
    }
    const uint8_t *p = c->base + skip_u32(c, b, 3), *end = c->skips;
    qcur q = qcur_make(p, p >= c->imps && p < end ? (size_t)(end - p) : 0);
    if (p < c->imps || p >= end || qim_get(&q, c->ic[k], &c->ic_n[k])) {
        fail(c);
        return NULL;
    }
    c->ic_blk[k] = (int64_t)b;
    *n = c->ic_n[k];
    return c->ic[k];
}

const qim_pair *qx_block_impacts(qx_cursor *c, uint32_t *last_doc, uint32_t *n)
{
    if (c->doc == QX_END)
        return NULL;
    if (!c->skips) {
        *last_doc = c->last;
        *n = c->t.nimp;
        return c->t.imp;
    }
    if (load_impacts(c, c->blk))
        return NULL;
    *last_doc = skip_u32(c, c->blk, 0);
    *n = c->nimp;
    return c->imp;
}

/* Starts the positions of the current block: each posting's first value,
 * room for all values and group bookkeeping. 0, or -1 (failed or no memory). */
static int positions_begin(qx_cursor *c)
{
    if (!c->tfs_ok)
        qx_decode_tfs(c);
    if (c->corrupt)
        return -1;
    uint64_t total = qc_prefix(c->tfs, c->pos_start, c->n);
    /* a packed group of 128 values takes at least 1 byte: bound the count
     * by the region's size before allocating for it */
    if (total > (uint64_t)(c->pend - c->pbase) * QC_BLOCK + QC_BLOCK) {
        fail(c);
        return -1;
    }
    uint64_t groups = (total + QC_BLOCK - 1) / QC_BLOCK + 1;
    if (total + QC_BLOCK > c->cap_pos) {
        size_t nc = c->cap_pos ? c->cap_pos : 1024;
        while (nc < total + QC_BLOCK)
            nc *= 2;
        uint32_t *p = qrealloc(c->pos, nc * sizeof *p);
        if (!p)
            return -1;
        c->pos = p;
        c->cap_pos = nc;
    }
    if (groups > c->cap_groups) {
        size_t nc = c->cap_groups ? c->cap_groups : 64;
        while (nc < groups)
            nc *= 2;
        const uint8_t **g = qrealloc(c->goff, nc * sizeof *g);
        if (g)
            c->goff = g;
        uint32_t *st = g ? qrealloc(c->gstamp, nc * sizeof *st) : NULL;
        if (!g || !st)
            return -1;
        memset(st + c->cap_groups, 0, (nc - c->cap_groups) * sizeof *st);
        c->gstamp = st;
        c->cap_groups = nc;
    }
    uint64_t off = c->skips ? skip_u32(c, c->blk, 2) : 0;
    if (off > (uint64_t)(c->pend - c->pbase)) {
        fail(c);
        return -1;
    }
    if (++c->stamp == 0) {   /* the stamps wrapped: forget every group */
        memset(c->gstamp, 0, c->cap_groups * sizeof *c->gstamp);
        c->stamp = 1;
    }
    c->goff[0] = c->pbase + off;
    c->ngoff = 1;
    memset(c->pos_abs, 0, sizeof c->pos_abs);
    c->pos_block = (int64_t)c->blk;
    return 0;
}

/* Decodes group g of the current block's positions into c->pos. */
static int positions_group(qx_cursor *c, uint32_t g)
{
    if (c->gstamp[g] == c->stamp)
        return 0;
    uint32_t total = c->pos_start[c->n];
    while (c->ngoff <= g) {   /* walk the groups' sizes up to g */
        const uint8_t *p = c->goff[c->ngoff - 1];
        uint32_t k = total - (c->ngoff - 1) * QC_BLOCK;
        if (k > QC_BLOCK)
            k = QC_BLOCK;
        long size = qc_pfor_size(p, c->pend, k);
        if (size < 0)
            return -1;
        c->goff[c->ngoff++] = p + size;
    }
    const uint8_t *p = c->goff[g];
    uint32_t k = total - g * QC_BLOCK;
    if (k > QC_BLOCK)
        k = QC_BLOCK;
    long size = qc_pfor_unpack_within(p, c->pend, map_end(&c->seg->posn), k, c->pos + (size_t)g * QC_BLOCK);
    if (size < 0)
        return -1;
    if (c->ngoff == g + 1)   /* the unpack walked the group: where the next starts */
        c->goff[c->ngoff++] = p + size;
    c->gstamp[g] = c->stamp;
    return 0;
}

const uint32_t *qx_positions(qx_cursor *c)
{
    if (c->doc == QX_END || c->corrupt)
        return NULL;
    if (c->pos_block != (int64_t)c->blk && positions_begin(c))
        return NULL;
    uint32_t i = c->i, a = c->pos_start[i], b = c->pos_start[i + 1];
    uint32_t *g = c->pos + a;
    uint64_t bit = (uint64_t)1 << (i % 64);
    if ((c->pos_abs[i / 64] & bit) || b == a)
        return g;
    for (uint32_t k = a / QC_BLOCK; k <= (b - 1) / QC_BLOCK; k++)
        if (positions_group(c, k)) {
            fail(c);
            return NULL;
        }
    /* gaps -> absolute, strictly increasing, in place (a group is decoded
     * once per block, so nothing writes gaps over them again): a gap of 0,
     * or a sum past 2^32 (the positions would wrap and decrease), is
     * damage; checked once after the loop, which has no branch but its own */
    uint32_t n = b - a, zero = 0;
    uint64_t acc = g[0];
    for (uint32_t j = 1; j < n; j++) {
        zero |= g[j] == 0;
        acc += g[j];
        g[j] = (uint32_t)acc;
    }
    if (zero || acc > UINT32_MAX) {
        fail(c);
        return NULL;
    }
    c->pos_abs[i / 64] |= bit;
    return g;
}

/* ------------------------------------------------------------ articles */

/* A string of a record: varint length, bytes, NUL. */
static const char *rec_str(qcur *c, uint32_t *len)
{
    uint64_t l = qcur_varint(c);
    const uint8_t *p = qcur_bytes(c, l);
    const uint8_t *z = qcur_bytes(c, 1);
    if (!p || !z || *z != 0 || l > UINT32_MAX || memchr(p, 0, l))
        return NULL;
    *len = (uint32_t)l;
    return (const char *)p;
}

/* Where the record of article a (< narts) is: a cursor over it, and its
 * offset in the file. */
static int art_record(const qx_seg *s, uint32_t a, qcur *c, uint64_t *at, quarry_error *err)
{
    uint64_t off = qload_u64(s->art_offs + 8 * (uint64_t)a);
    uint64_t end = qload_u64(s->art_offs + 8 * ((uint64_t)a + 1));
    uint64_t limit = (uint64_t)(s->art_offs - s->arts.base);
    if (off < QF_HEADER || end > limit || off >= end)
        return qx_bad(s, &s->arts, s->art_offs - s->arts.base + 8 * (uint64_t)a, "article offset out of range", err);
    *c = qcur_make(s->arts.base + off, end - off);
    *at = off;
    return 0;
}

int qx_article(const qx_seg *s, uint32_t a, qx_artrec *out, quarry_error *err)
{
    if (a >= s->narts)
        return qerr_set(err, QUARRY_ENOTFOUND, "no article %u (the segment has %llu)", a, (unsigned long long)s->narts);
    qcur c;
    uint64_t off;
    int rc = art_record(s, a, &c, &off, err);
    if (rc)
        return rc;
    qx_artrec r;
    r.first_unit = qcur_u32(&c);
    r.nunits = qcur_u32(&c);
    r.id = rec_str(&c, &r.id_len);
    r.title = r.id ? rec_str(&c, &r.title_len) : NULL;
    r.date = r.title ? rec_str(&c, &r.date_len) : NULL;
    if (!r.date || c.p != c.end || r.nunits == 0 || (uint64_t)r.first_unit + r.nunits > s->nunits)
        return qx_bad(s, &s->arts, off, "damaged article record", err);
    *out = r;
    return 0;
}

int quarry_article_get(const quarry_index *ix, uint32_t a, quarry_article *out, quarry_error *err)
{
    if (a >= ix->narts)
        return qerr_set(err, QUARRY_ENOTFOUND, "no article %u (the index has %llu)", a, (unsigned long long)ix->narts);
    const qx_seg *s = qx_seg_of_article(ix, a);
    qx_artrec r;
    int rc = qx_article(s, a - s->art_base, &r, err);
    if (rc)
        return rc;
    out->id = r.id;
    out->title = r.title;
    out->date = r.date;
    out->first_passage = s->unit_base + r.first_unit;
    out->npassages = r.nunits;
    return 0;
}

/* The id of article a of segment s, and nothing else of its record: a
 * probe of the binary search over ids touches the record only (not the
 * dates and fingerprints that qx_article also reads). */
static int article_id(const qx_seg *s, uint32_t a, const char **id, uint32_t *len, quarry_error *err)
{
    qcur c;
    uint64_t off;
    int rc = art_record(s, a, &c, &off, err);
    if (rc)
        return rc;
    if (!qcur_bytes(&c, 8) || !(*id = rec_str(&c, len)))   /* (first unit, units) */
        return qx_bad(s, &s->arts, off, "damaged article record", err);
    return 0;
}

/* Invariant: the entries before lo are below key (lv the last of them),
 * those from hi on are not (hv the first). */
uint64_t qx_lower_bound(const uint8_t *tab, uint64_t n, size_t stride, uint64_t key)
{
    uint64_t lo = 0, hi = n, lv = 0, hv = UINT64_MAX;
    for (int step = 0; step < 8 && hi - lo > 16 && hv > lv; step++) {
        double f = (double)(key - lv) / (double)(hv - lv);
        uint64_t i = lo + (uint64_t)(f * (double)(hi - lo));
        if (i >= hi)
            i = hi - 1;
        if (i < lo)
            i = lo;
        uint64_t v = qload_u64(tab + stride * i);
        if (v < key) {
            lo = i + 1;
            lv = v;
        } else {
            hi = i;
            hv = v;
        }
    }
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (qload_u64(tab + stride * mid) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int quarry_article_find(const quarry_index *ix, const char *id, uint32_t *article, quarry_error *err)
{
    size_t len = strlen(id);
    uint32_t h = qf_id_hash(id, len);
    /* the newest segment first: after an update, only it holds a live copy */
    for (size_t k = ix->nseg; k-- > 0;) {
        const qx_seg *s = &ix->seg[k];
        /* the entries with the id's hash (one, or none, but for collisions) */
        for (uint64_t i = qx_lower_bound(s->art_hashes, s->narts, 8, (uint64_t)h << 32); i < s->narts; i++) {
            uint64_t e = qx_id_hash_entry(s, i);
            if (e >> 32 != h)
                break;
            uint32_t a = (uint32_t)e;
            if (a >= s->narts)
                return qx_bad(s, &s->arts, s->art_hashes - s->arts.base + 8 * i, "id hash table names no article", err);
            const char *rid;
            uint32_t rlen;
            int rc = article_id(s, a, &rid, &rlen, err);
            if (rc)
                return rc;
            if (cmp_bytes((const uint8_t *)rid, rlen, (const uint8_t *)id, len) != 0)
                continue;
            qx_artrec r;   /* the whole record, checked, for its units */
            if ((rc = qx_article(s, a, &r, err)))
                return rc;
            if (qx_deleted(s, r.first_unit))
                break;   /* deleted here: an older segment cannot hold it live either... unless another index does */
            *article = s->art_base + a;
            return 0;
        }
    }
    return qerr_set(err, QUARRY_ENOTFOUND, "no article with id \"%s\"", id);
}

/* ------------------------------------------------------------ text */

void qx_tcache_init(qx_tcache *tc)
{
    memset(tc, 0, sizeof *tc);
    qbuf_init(&tc->buf);
}

void qx_tcache_free(qx_tcache *tc)
{
    qbuf_free(&tc->buf);
    if (tc->tz) {
        inflateEnd(tc->tz);
        free(tc->tz);
    }
    if (tc->inf.free)
        tc->inf.free(tc->inf.st);
    memset(tc, 0, sizeof *tc);
}

/* Decompresses block b of segment s into the cache. */
static int text_block(qx_tcache *tc, const qx_seg *s, uint64_t b, quarry_error *err)
{
    if (tc->seg == s && tc->block == b)
        return 0;
    const uint8_t *e = s->text_dir + 20 * b;
    uint64_t off = qload_u64(e);
    uint32_t clen = qload_u32(e + 8), ulen = qload_u32(e + 12);
    uint64_t limit = (uint64_t)(s->text_dir - s->text.base);
    /* deflate cannot shrink data more than about 1032:1, so a damaged raw
     * length cannot make us allocate much more than the block could hold */
    if (off < QF_HEADER || off > limit || clen > limit - off || (uint64_t)ulen > (uint64_t)clen * 1032 + 64)
        return qx_bad(s, &s->text, (uint64_t)(e - s->text.base), "text block out of range", err);
    tc->seg = NULL;
    qbuf_reset(&tc->buf);
    if (qbuf_reserve(&tc->buf, (size_t)ulen + 1))
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    if (tc->inf.run) {
        if (tc->inf.run(tc->inf.st, s->text.base + off, clen, tc->buf.p, ulen))
            return qx_bad(s, &s->text, off, "text block does not decompress", err);
        goto done;
    }
    z_stream *zs = tc->tz;
    if (!zs) {   /* one raw inflate stream, kept for every block */
        if ((zs = qcalloc(1, sizeof *zs))) {
            zs->zalloc = qsys_zalloc;
            zs->zfree = qsys_zfree;
        }
        if (!zs || inflateInit2(zs, -15) != Z_OK) {
            free(zs);
            return qerr_set(err, QUARRY_ENOMEM, "out of memory");
        }
        tc->tz = zs;
    } else if (inflateReset(zs) != Z_OK)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    zs->next_in = (Bytef *)(s->text.base + off);
    zs->avail_in = clen;
    zs->next_out = tc->buf.p;
    zs->avail_out = ulen;
    if (inflate(zs, Z_FINISH) != Z_STREAM_END || zs->avail_out != 0 || zs->avail_in != 0)
        return qx_bad(s, &s->text, off, "text block does not decompress", err);
done:
    tc->buf.len = ulen;
    tc->seg = s;
    tc->block = b;
    return 0;
}

int qx_text_block(const qx_seg *s, uint64_t b, qx_tblock *out, quarry_error *err)
{
    if (b >= s->ntblocks)
        return qx_bad(s, &s->text, QF_HEADER, "no such text block", err);
    const uint8_t *e = s->text_dir + 20 * b;
    uint64_t off = qload_u64(e);
    uint64_t limit = (uint64_t)(s->text_dir - s->text.base);
    out->clen = qload_u32(e + 8);
    out->ulen = qload_u32(e + 12);
    out->first = qload_u32(e + 16);
    uint64_t end = b + 1 < s->ntblocks ? qload_u32(e + 20 + 16) : s->nunits;
    if (off < QF_HEADER || off > limit || out->clen > limit - off || end <= out->first ||
        end > s->nunits)
        return qx_bad(s, &s->text, (uint64_t)(e - s->text.base), "text block out of range", err);
    out->z = s->text.base + off;
    out->count = (uint32_t)(end - out->first);
    return 0;
}

int qx_unit_text(quarry_index *ix, const qx_seg *s, uint32_t u, qbuf *out, quarry_error *err)
{
    pthread_mutex_lock(&ix->mu);
    int rc = qx_tcache_unit_text(&ix->tc, s, u, out, err);
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

int qx_tcache_unit_text(qx_tcache *tc, const qx_seg *s, uint32_t u, qbuf *out, quarry_error *err)
{
    if (u >= s->nunits)
        return qerr_set(err, QUARRY_ENOTFOUND, "no passage %u in the segment", u);
    if (s->ntblocks == 0)
        return qx_bad(s, &s->text, QF_HEADER, "text store is empty", err);
    uint64_t lo = 0, hi = s->ntblocks;
    while (hi - lo > 1) {   /* last block with first_unit <= u */
        uint64_t mid = lo + (hi - lo) / 2;
        if (qload_u32(s->text_dir + 20 * mid + 16) <= u)
            lo = mid;
        else
            hi = mid;
    }
    int rc = text_block(tc, s, lo, err);
    if (rc)
        return rc;
    uint32_t first = qload_u32(s->text_dir + 20 * lo + 16);
    qcur c = qcur_make(tc->buf.p, tc->buf.len);
    uint32_t count = qcur_u32(&c);
    uint64_t boff = qload_u64(s->text_dir + 20 * lo);
    if (!c.ok || u < first || u - first >= count || 4 + (uint64_t)count * 4 > tc->buf.len)
        return qx_bad(s, &s->text, boff, "text block does not hold the passage", err);
    uint64_t start = 4 + 4 * (uint64_t)count;
    for (uint32_t i = 0; i < u - first; i++)
        start += qload_u32(tc->buf.p + 4 + 4 * (uint64_t)i);
    uint32_t len = qload_u32(tc->buf.p + 4 + 4 * (uint64_t)(u - first));
    if (start > tc->buf.len || len > tc->buf.len - start)
        return qx_bad(s, &s->text, boff, "passage length out of range", err);
    if (qbuf_append(out, tc->buf.p + start, len))
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    return 0;
}

/* The texts of global units [u, u + n) into a new NUL-terminated buffer. */
static int units_text(quarry_index *ix, uint32_t u, uint32_t n, char **text, size_t *len, quarry_error *err)
{
    if (u >= ix->nunits || n > ix->nunits - u)
        return qerr_set(err, QUARRY_ENOTFOUND, "no passage %u (the index has %llu)", u, (unsigned long long)ix->nunits);
    qbuf b;
    qbuf_init(&b);
    int rc = 0;
    pthread_mutex_lock(&ix->mu);
    for (uint32_t k = 0; k < n && !rc; k++) {
        const qx_seg *s = qx_seg_of_unit(ix, u + k);
        rc = qx_tcache_unit_text(&ix->tc, s, u + k - s->unit_base, &b, err);
    }
    pthread_mutex_unlock(&ix->mu);
    if (!rc && qbuf_putc(&b, 0))
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    if (rc) {
        qbuf_free(&b);
        return rc;
    }
    *text = (char *)b.p;
    if (len)
        *len = b.len - 1;
    return 0;
}

int quarry_passage_text(quarry_index *ix, uint32_t passage, char **text, size_t *len, quarry_error *err)
{
    return units_text(ix, passage, 1, text, len, err);
}

int quarry_article_text(quarry_index *ix, uint32_t article, char **text, size_t *len, quarry_error *err)
{
    quarry_article a;
    int rc = quarry_article_get(ix, article, &a, err);
    if (rc)
        return rc;
    return units_text(ix, a.first_passage, a.npassages, text, len, err);
}

/* ------------------------------------------------------------ info */

int quarry_info_get(const quarry_index *ix, quarry_info *o)
{
    memset(o, 0, sizeof *o);
    o->articles = ix->narts;
    o->passages = ix->nunits;
    o->terms = ix->nterms;
    o->postings = ix->npostings;
    o->positions = ix->npositions;
    o->tokens = ix->live_tokens;  /* what BM25 counts */
    o->avg_len = ix->avgdl;
    o->generation = ix->m[0].generation;
    o->segments = ix->nseg;
    o->passage_mode = (int)ix->passage_mode;
    o->passage_tokens = ix->passage_tokens;
    snprintf(o->language, sizeof o->language, "%s", qa_language(ix->an));
    snprintf(o->stemmer, sizeof o->stemmer, "%s", qa_stemmer_name(ix->an));
    snprintf(o->stopwords, sizeof o->stopwords, "%s", qa_stopwords_desc(ix->an));
    o->indexes = ix->ndirs;
    o->live_articles = ix->live_arts;
    o->live_passages = ix->live_units;
    static const char *const kinds[] = { "meta", "dict", "post", "posn", "unit", "arts", "text", "del" };
    enum { NKIND = sizeof kinds / sizeof kinds[0] };
    uint64_t files[NKIND] = { 0 }, bytes[NKIND] = { 0 };
    for (size_t d = 0; d < ix->ndirs; d++)
        for (size_t i = 0; i < ix->m[d].nseg; i++)
            for (size_t k = 0; k < ix->m[d].seg[i].nfiles; k++) {
                const qm_file *f = &ix->m[d].seg[i].files[k];
                const char *dot = strrchr(f->name, '.');
                o->bytes += f->size;
                for (size_t j = 0; dot && j < NKIND; j++)
                    if (!strcmp(dot + 1, kinds[j])) {
                        files[j]++;
                        bytes[j] += f->size;
                    }
            }
    for (size_t j = 0; j < NKIND; j++)
        if (files[j]) {
            snprintf(o->kinds[o->nkinds].kind, sizeof o->kinds[0].kind, "%s", kinds[j]);
            o->kinds[o->nkinds].files = files[j];
            o->kinds[o->nkinds].bytes = bytes[j];
            o->nkinds++;
        }
    return 0;
}
