/*
 * segw.c — writing segments (see segw.h): the article, unit and text
 * streams, the inverter, the in-segment id table, and finishing a segment
 * into its seven files (index/FORMAT.md) plus its origins file.
 *
 * Origins file (a temporary run file, never part of an index):
 *   u64 articles, articles × { u32 file, u64 line }     in article order
 *   u64 empties, empties × { u32 file, u64 line, u32 len, id bytes }
 */
#include "index/segw.h"
#include "base/sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "index/textw.h"
#include "index/invert.h"
#include "index/postw.h"
#include "index/unitw.h"

#define ORIGINS_RUN 0xd0000000u   /* the run number of a segment's origins file */

/* An id record in `ids`: u32 len, bytes, u32 file, u64 line, u32 article (UINT32_MAX: empty) */
#define PREFETCH 6   /* tokens between a table slot's prefetch and its lookup */

struct qsw {
    char *dir;
    size_t budget;
    qi_inverter *inv;
    /* the segment being made */
    uint64_t seg;
    int active;
    qu_writer units;
    qf_writer arts;
    qtw_writer text;
    uint8_t *unit_len;         /* u32 little-endian per unit (for the postings writer) */
    size_t cap_unit_len;
    uint32_t nunits, narts;
    uint64_t *art_off, *art_date, *art_fp;
    uint32_t *art_first;       /* each article's first unit */
    size_t cap_off, cap_date, cap_fp, cap_first;
    uint64_t ntokens, nempty;
    qbuf ids;
    uint64_t *id_table;       /* (offset in ids) + 1, 0 empty */
    uint64_t id_mask, nids;
    qbuf rec;
};

int qsw_open(qsw **out, const char *dir, size_t budget, quarry_error *err)
{
    qsw *w = qcalloc(1, sizeof *w);
    if (!w || !(w->dir = qstrndup(dir, strlen(dir)))) {
        free(w);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    w->budget = budget;
    /* the inverter gets three quarters; the tables of the segment the rest */
    int rc = qi_open(budget / 4 * 3, &w->inv, err);
    if (rc) {
        free(w->dir);
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

static void remove_segment(qsw *w)
{
    qu_abort(&w->units);
    qf_abort(&w->arts);
    qtw_abort(&w->text);
    char name[QM_NAME], path[4200];
    for (size_t k = 0; k < QM_SEG_FILES; k++) {
        qm_seg_name(name, w->seg, qm_kinds[k]);
        snprintf(path, sizeof path, "%s/%s", w->dir, name);
        qsys_unlink(path);
    }
}

/* Forgets the segment's in-memory state. Its tables are freed, not kept:
 * qsw_full counts their capacity, and capacity kept from a large segment
 * would make every later one small. */
static void reset(qsw *w)
{
    w->active = 0;
    w->nunits = w->narts = 0;
    w->ntokens = w->nempty = 0;
    free(w->unit_len);
    free(w->art_off);
    free(w->art_date);
    free(w->art_fp);
    free(w->art_first);
    free(w->id_table);
    w->unit_len = NULL;
    w->art_off = w->art_date = w->art_fp = w->id_table = NULL;
    w->art_first = NULL;
    w->cap_unit_len = w->cap_off = w->cap_date = w->cap_fp = w->cap_first = 0;
    w->id_mask = 0;
    qbuf_free(&w->ids);
    qbuf_free(&w->rec);
    w->nids = 0;
}

void qsw_close(qsw *w)
{
    if (!w)
        return;
    if (w->active) {
        remove_segment(w);
        /* the in-memory postings of the abandoned segment go with the inverter */
    }
    qi_close(w->inv);
    free(w->unit_len);
    free(w->art_off);
    free(w->art_date);
    free(w->art_fp);
    free(w->art_first);
    free(w->id_table);
    qbuf_free(&w->ids);
    qbuf_free(&w->rec);
    free(w->dir);
    free(w);
}

int qsw_active(const qsw *w) { return w->active; }

int qsw_begin(qsw *w, uint64_t id, quarry_error *err)
{
    reset(w);
    w->seg = id;
    int rc;
    char name[QM_NAME];
    qm_seg_name(name, id, QF_ARTS);
    if ((rc = qu_open(&w->units, w->dir, id, err)))
        return rc;
    if ((rc = qf_create(&w->arts, w->dir, name, QF_ARTS, err))) {
        qu_abort(&w->units);
        return rc;
    }
    if ((rc = qtw_open(&w->text, w->dir, id, err))) {
        qu_abort(&w->units);
        qf_abort(&w->arts);
        return rc;
    }
    w->active = 1;
    return 0;
}

int qsw_full(const qsw *w)
{
    size_t tables = w->cap_unit_len * 4 + (w->cap_off + w->cap_date + w->cap_fp) * 8 + w->cap_first * 4 +
                    w->ids.cap + (w->id_table ? (w->id_mask + 1) * 8 : 0) + w->rec.cap +
                    /* at the end: the ids' sort (id_sort), with the units'
                     * fingerprint index sorted while it lives (qu_finish:
                     * 20 bytes a unit); the articles' (16 bytes each) after both */
                    w->nids * 16 + (size_t)w->nunits * 20;
    return qi_accounted(w->inv) + tables >= w->budget;
}

/* ------------------------------------------------------------ ids */

static const uint8_t *id_at(const qsw *w, uint64_t off, uint32_t *len)
{
    *len = qload_u32(w->ids.p + off);
    return w->ids.p + off + 4;
}

static int id_grow(qsw *w)
{
    uint64_t ncap = w->id_mask ? (w->id_mask + 1) * 2 : 1024;
    uint64_t *t = qcalloc(ncap, sizeof *t);
    if (!t)
        return -1;
    for (uint64_t off = 0; off < w->ids.len;) {
        uint32_t len;
        const uint8_t *s = id_at(w, off, &len);
        uint64_t h = qhash(s, len) & (ncap - 1);
        while (t[h])
            h = (h + 1) & (ncap - 1);
        t[h] = off + 1;
        off += 4 + len + 16;
    }
    free(w->id_table);
    w->id_table = t;
    w->id_mask = ncap - 1;
    return 0;
}

/* Registers an id; QUARRY_EINPUT when the segment has it already. */
static int id_add(qsw *w, const char *id, size_t len, uint32_t file, uint64_t line, uint32_t article,
                  const char *const *names, quarry_error *err)
{
    if ((w->nids + 1) * 2 > w->id_mask + 1 || !w->id_table)
        if (id_grow(w))
            return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    uint64_t h = qhash(id, len) & w->id_mask;
    while (w->id_table[h]) {
        uint32_t l2;
        uint64_t off = w->id_table[h] - 1;
        const uint8_t *s = id_at(w, off, &l2);
        if (l2 == len && memcmp(s, id, len) == 0) {
            char a[4200], b[4200];
            qerr_where(a, sizeof a, names[file], line);
            qerr_where(b, sizeof b, names[qload_u32(s + l2)], qload_u64(s + l2 + 4));
            return qerr_set(err, QUARRY_EINPUT, "%s: duplicate id \"%.*s\" (first seen at %s); ids must be unique",
                            a, (int)(len > 200 ? 200 : len), id, b);
        }
        h = (h + 1) & w->id_mask;
    }
    uint64_t off = w->ids.len;
    qbuf_put_u32(&w->ids, (uint32_t)len);
    qbuf_append(&w->ids, id, len);
    qbuf_put_u32(&w->ids, file);
    qbuf_put_u64(&w->ids, line);
    qbuf_put_u32(&w->ids, article);
    if (w->ids.oom)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    w->id_table[h] = off + 1;
    w->nids++;
    return 0;
}

/* ------------------------------------------------------------ articles */

/* The last token of a unit's title or body, for the pair it may make with
 * the next (add_pair). */
typedef struct pair_prev {
    const char *term;
    uint32_t len, pos;
    uint64_t hash;
    int common, valid;
} pair_prev;

/* The inverter's hash of a pair term, from its words' (qhash): known
 * before the pair is written out, so that its table slot is fetched
 * ahead as the words' are. Only the inverter sees it. */
static inline uint64_t pair_hash(uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull);
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    return h ^ (h >> 32);
}

/* Adds the pair term of p's token and the token (t, len, hash, pos) when
 * they are adjacent and one of them is common (qa_pairs), then makes the
 * token p. */
static int add_pair(qsw *w, uint32_t unit, pair_prev *p, const char *t, uint32_t len, uint64_t hash, int common,
                    uint32_t pos)
{
    if (p->valid && pos == p->pos + 1 && (common || p->common)) {
        char pair[QA_MAX_PAIR];
        size_t n = qa_pair_term(pair, p->term, p->len, t, len);
        if (n && qi_add(w->inv, unit, pair, (uint32_t)n, pair_hash(p->hash, hash), p->pos))
            return -1;
    }
    *p = (pair_prev){ t, len, pos, hash, common, 1 };
    return 0;
}

_Static_assert(QA_MAX_PAIR <= QF_MAX_TERM, "a pair term fits the dictionary");

int qsw_add(qsw *w, const qa_analyzer *an, qb_batch *b, const qb_doc *d, uint32_t file, const char *const *names,
            quarry_error *err)
{
    int pairs = qa_pairs(an);
    const char *bytes = (const char *)b->bytes.p;
    const char *terms = (const char *)b->terms.p;
    if (w->nunits > UINT32_MAX - 1000000 - d->nsp)
        return qerr_set(err, QUARRY_ELIMIT, "%s: too many passages for one segment", names[file]);
    int rc = id_add(w, bytes + d->id, d->id_len, file, d->line, d->empty ? UINT32_MAX : w->narts, names, err);
    if (rc)
        return rc;
    if (d->empty) {
        w->nempty++;
        return 0;
    }
    qb_tok *toks = b->toks + d->tok0;
    const size_t *starts = b->starts + d->st0;
    uint32_t art = w->narts, first_unit = w->nunits;
    uint32_t epoch = UINT32_MAX;
    /* fingerprints: the article's (title, then every passage) and each passage's */
    uint64_t afp = QU_FP_SEED;
    for (size_t k = 0; k < d->ntitle; k++)
        afp = qu_fp_add(afp, qhash(terms + toks[k].off, toks[k].len), toks[k].len);
    afp = qu_fp_add(afp, qhash("", 0), 0);
    for (size_t i = 0; i < d->nsp; i++) {
        uint32_t unit = w->nunits;
        uint32_t len = (uint32_t)(d->ntitle + starts[i + 1] - starts[i]);
        /* title terms are looked up once per article (again after the inverter was emptied) */
        if (d->ntitle && epoch != qi_epoch(w->inv)) {
            epoch = qi_epoch(w->inv);
            for (size_t k = 0; k < d->ntitle; k++)
                toks[k].id = qi_term(w->inv, terms + toks[k].off, toks[k].len, qhash(terms + toks[k].off, toks[k].len));
        }
        for (size_t k = 0; k < d->ntitle; k++)
            if (qi_add_term(w->inv, unit, toks[k].id, toks[k].pos))
                goto oom;
        pair_prev prev = { 0 };   /* the title's pairs, then the body's */
        for (size_t k = 0; pairs && k < d->ntitle; k++) {
            const char *t = terms + toks[k].off;
            uint64_t h = qhash(t, toks[k].len);
            if (add_pair(w, unit, &prev, t, toks[k].len, h, qa_common(an, t, toks[k].len, h), toks[k].pos))
                goto oom;
        }
        prev.valid = 0;
        /* the terms' hashes first, a window at a time (once: for the
         * inverter and both fingerprints), so that each term's slot in the
         * inverter's table is fetched from memory a few terms ahead of its
         * lookup */
        uint64_t ufp = QU_FP_SEED, hash[256];
        uint8_t common[256];   /* with pairs: is token k common */
        for (size_t from = starts[i]; from < starts[i + 1]; from += 256) {
            size_t n = starts[i + 1] - from < 256 ? starts[i + 1] - from : 256;
            for (size_t k = 0; k < n; k++)
                hash[k] = qhash(terms + toks[from + k].off, toks[from + k].len);
            for (size_t k = 0; pairs && k < n; k++)
                common[k] = (uint8_t)qa_common(an, terms + toks[from + k].off, toks[from + k].len, hash[k]);
            for (size_t k = 0; k < n; k++) {
                const qb_tok *tk = &toks[from + k];
                size_t f = k + PREFETCH;
                if (f < n) {
                    qi_prefetch(w->inv, hash[f]);
                    if (pairs && (common[f] || common[f - 1]))   /* (f - 1 >= k: in the window) */
                        qi_prefetch(w->inv, pair_hash(hash[f - 1], hash[f]));
                }
                if (qi_add(w->inv, unit, terms + tk->off, tk->len, hash[k], tk->pos) ||
                    (pairs && add_pair(w, unit, &prev, terms + tk->off, tk->len, hash[k], common[k], tk->pos)))
                    goto oom;
                ufp = qu_fp_add(ufp, hash[k], tk->len);
                afp = qu_fp_add(afp, hash[k], tk->len);
            }
        }
        if ((rc = qi_end_unit(w->inv, err)))
            return rc;
        if (qgrow((void **)&w->unit_len, &w->cap_unit_len, w->nunits, 4))
            goto oom;
        qstore_u32(w->unit_len + 4 * (size_t)w->nunits++, len);
        qu_add(&w->units, len, art, d->body_pos, ufp);
        const qp_span *s = &b->spans[d->sp0 + i];
        if (qtw_add(&w->text, bytes + d->text + s->start, s->end - s->start))
            goto oom;
        w->ntokens += len;
    }
    if (qgrow((void **)&w->art_off, &w->cap_off, art, sizeof *w->art_off) ||
        qgrow((void **)&w->art_date, &w->cap_date, art, sizeof *w->art_date) ||
        qgrow((void **)&w->art_fp, &w->cap_fp, art, sizeof *w->art_fp) ||
        qgrow((void **)&w->art_first, &w->cap_first, art, sizeof *w->art_first))
        goto oom;
    uint64_t key = 0;
    if (d->date_len && !qdate_key(bytes + d->date, d->date_len, &key, NULL))
        key = 0;
    w->art_off[art] = w->arts.off;
    w->art_date[art] = key;
    w->art_fp[art] = afp;
    w->art_first[art] = first_unit;
    qbuf *r = &w->rec;
    qbuf_reset(r);
    qbuf_put_u32(r, first_unit);
    qbuf_put_u32(r, (uint32_t)d->nsp);
    qbuf_put_varint(r, d->id_len);
    qbuf_append(r, bytes + d->id, d->id_len);
    qbuf_putc(r, 0);
    qbuf_put_varint(r, d->title_len);
    qbuf_append(r, bytes + d->title, d->title_len);
    qbuf_putc(r, 0);
    qbuf_put_varint(r, d->date_len);
    qbuf_append(r, bytes + d->date, d->date_len);
    qbuf_putc(r, 0);
    if (r->oom)
        goto oom;
    qf_write_buf(&w->arts, r);   /* a write failure is sticky, reported by qsw_finish */
    w->narts++;
    return 0;
oom:
    return qerr_set(err, QUARRY_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------ finishing */

typedef struct id_sort {
    const qsw *w;
    uint64_t off;         /* of the id's record in w->ids */
} id_sort;

static int cmp_id_rec(const void *a, const void *b)
{
    const id_sort *x = a, *y = b;
    uint32_t la, lb;
    const uint8_t *sa = id_at(x->w, x->off, &la);
    const uint8_t *sb = id_at(y->w, y->off, &lb);
    int c = memcmp(sa, sb, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

/* Every id of the segment (articles and skipped empty ones), sorted. */
static id_sort *sorted_ids(const qsw *w)
{
    id_sort *v = qmalloc((w->nids ? w->nids : 1) * sizeof *v);
    if (!v)
        return NULL;
    uint64_t k = 0;
    for (uint64_t off = 0; off < w->ids.len && k < w->nids; k++) {
        uint32_t len;
        id_at(w, off, &len);
        v[k].w = w;
        v[k].off = off;
        off += 4 + len + 16;
    }
    qsort(v, w->nids, sizeof *v, cmp_id_rec);
    return v;
}

/* The origins file (a run file, never part of an index): u64 count, then
 * every id of the segment in increasing byte order as { u32 length, id
 * bytes, u32 input file, u64 line }, so that the commit checks the ids of
 * all the run's segments in one streaming merge. */
static int write_origins(qsw *w, const id_sort *v, char *name, quarry_error *err)
{
    qm_run_name(name, w->seg, ORIGINS_RUN);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", w->dir, name);
    FILE *f = qsys_fopen(path, "wb");
    if (!f)
        return qerr_errno(err, "cannot create", path);
    uint8_t t[8];
    qstore_u32(t, (uint32_t)w->nids);
    qstore_u32(t + 4, (uint32_t)(w->nids >> 32));
    int bad = qsys_fwrite(t, 1, 8, f) != 8;
    for (uint64_t i = 0; i < w->nids && !bad; i++) {
        uint32_t len;
        id_at(w, v[i].off, &len);
        size_t n = 4 + (size_t)len + 12;   /* length, id, file, line */
        bad |= qsys_fwrite(w->ids.p + v[i].off, 1, n, f) != n;
    }
    if (qsys_fclose(f) != 0)
        bad = 1;
    if (bad) {
        int rc = qerr_errno(err, "cannot write", path);
        qsys_unlink(path);
        return rc;
    }
    return 0;
}

/* The articles' fingerprint index (FORMAT.md §arts): (fingerprint,
 * article, first unit, units) by fingerprint and article. */
static int write_art_fp_index(qsw *w, quarry_error *err)
{
    qf_fpnum *v = qmalloc((w->narts ? w->narts : 1) * sizeof *v);
    if (!v)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    for (uint32_t a = 0; a < w->narts; a++)
        v[a] = (qf_fpnum){ w->art_fp[a], a };
    qf_sort_fp(v, w->narts);
    for (uint32_t i = 0; i < w->narts; i++) {
        uint32_t a = (uint32_t)v[i].num, end = a + 1 < w->narts ? w->art_first[a + 1] : w->nunits;
        qf_put_u64(&w->arts, v[i].fp);
        qf_put_u32(&w->arts, a);
        qf_put_u32(&w->arts, w->art_first[a]);
        qf_put_u32(&w->arts, end - w->art_first[a]);
    }
    free(v);
    return 0;
}

int qsw_finish(qsw *w, const qa_analyzer *an, int passages, unsigned passage_tokens, int keep_empty,
               qsw_result *out, quarry_error *err)
{
    memset(out, 0, sizeof *out);
    qm_segment *g = &out->seg;
    id_sort *order = sorted_ids(w);
    int rc = order ? write_origins(w, order, out->origins, err) : qerr_set(err, QUARRY_ENOMEM, "out of memory");
    if (rc) {
        free(order);
        remove_segment(w);
        qi_reset(w->inv);
        reset(w);
        return rc;
    }
    out->empty = w->nempty;
    if (w->narts == 0 && !keep_empty) {   /* only empty articles: no segment, just their ids */
        free(order);
        remove_segment(w);
        qi_reset(w->inv);
        reset(w);
        return 0;
    }
    g->id = w->seg;
    g->nfiles = QM_SEG_FILES;
    uint64_t size;
    uint32_t crc;
#define ADD_FILE(k, sz, cr)                                  \
    do {                                                     \
        qm_seg_name(g->files[k].name, w->seg, qm_kinds[k]);  \
        g->files[k].size = (sz);                             \
        g->files[k].crc = (cr);                              \
    } while (0)
    /* units */
    rc = qu_finish(&w->units, w->dir, w->seg, NULL, NULL, &size, &crc, err);
    if (rc) {
        free(order);
        goto fail;
    }
    ADD_FILE(4, size, crc);
    /* articles: the records were streamed; then offsets, id order, dates,
     * fingerprints, id hashes, fingerprint index, trailer */
    uint64_t offs_at = w->arts.off;
    for (uint32_t i = 0; i < w->narts; i++)
        qf_put_u64(&w->arts, w->art_off[i]);
    qf_put_u64(&w->arts, offs_at);   /* the end of the last record */
    uint64_t order_at = w->arts.off;
    for (uint64_t i = 0; i < w->nids; i++) {   /* the articles' ids in order (empty ones are not articles) */
        uint32_t len;
        const uint8_t *id = id_at(w, order[i].off, &len);
        uint32_t art = qload_u32(id + len + 12);
        if (art != UINT32_MAX)
            qf_put_u32(&w->arts, art);
    }
    free(order);
    uint64_t dates_at = w->arts.off;
    for (uint32_t i = 0; i < w->narts; i++)
        qf_put_u64(&w->arts, w->art_date[i]);
    uint64_t fps_at = w->arts.off;
    for (uint32_t i = 0; i < w->narts; i++)
        qf_put_u64(&w->arts, w->art_fp[i]);
    /* the id hash table: (hash << 32 | article) sorted, in the room the
     * ids' sort had (qsw_full) */
    uint64_t hashes_at = w->arts.off;
    uint64_t *hv = qmalloc((w->narts ? w->narts : 1) * sizeof *hv);
    if (!hv) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto fail;
    }
    uint64_t nh = 0;
    for (uint64_t off = 0, k = 0; off < w->ids.len && k < w->nids; k++) {
        uint32_t len;
        const uint8_t *id = id_at(w, off, &len);
        uint32_t art = qload_u32(id + len + 12);
        if (art != UINT32_MAX && nh < w->narts)
            hv[nh++] = (uint64_t)qf_id_hash(id, len) << 32 | art;
        off += 4 + len + 16;
    }
    qf_sort_u64(hv, nh);
    for (uint64_t i = 0; i < nh; i++)
        qf_put_u64(&w->arts, hv[i]);
    free(hv);
    uint64_t fpix_at = w->arts.off;
    if ((rc = write_art_fp_index(w, err)))
        goto fail;
    qf_put_u64(&w->arts, w->narts);
    qf_put_u64(&w->arts, offs_at);
    qf_put_u64(&w->arts, order_at);
    qf_put_u64(&w->arts, dates_at);
    qf_put_u64(&w->arts, fps_at);
    qf_put_u64(&w->arts, hashes_at);
    qf_put_u64(&w->arts, fpix_at);
    if ((rc = qf_finish(&w->arts, &size, &crc, err)))
        goto fail;
    ADD_FILE(5, size, crc);
    if ((rc = qtw_finish(&w->text, &size, &crc, err)))
        goto fail;
    ADD_FILE(6, size, crc);
    /* postings, positions, dictionary from the inverter */
    qpw *pw;
    if ((rc = qpw_open(&pw, w->dir, w->seg, w->unit_len, w->nunits, err)))
        goto fail;
    if ((rc = qi_write(w->inv, pw, err))) {
        qpw_abort(pw);
        goto fail;
    }
    qpw_result pr;
    if ((rc = qpw_finish(pw, &pr, err)))
        goto fail;
    ADD_FILE(1, pr.size[0], pr.crc[0]);
    ADD_FILE(2, pr.size[1], pr.crc[1]);
    ADD_FILE(3, pr.size[2], pr.crc[2]);
    /* collection statistics and analyzer settings */
    qf_writer meta;
    char name[QM_NAME];
    qm_seg_name(name, w->seg, QF_META);
    if ((rc = qf_create(&meta, w->dir, name, QF_META, err)))
        goto fail;
    qbuf blob;
    qbuf_init(&blob);
    qa_serialize(an, &blob);
    qf_put_u64(&meta, w->narts);
    qf_put_u64(&meta, w->nunits);
    qf_put_u64(&meta, pr.terms);
    qf_put_u64(&meta, pr.postings);
    qf_put_u64(&meta, pr.positions);
    qf_put_u64(&meta, w->ntokens);
    qf_put_u32(&meta, passages ? 1 : 0);
    qf_put_u32(&meta, passages ? passage_tokens : 0);
    qf_put_u32(&meta, (uint32_t)blob.len);
    qf_write_buf(&meta, &blob);
    qbuf_free(&blob);
    if ((rc = qf_finish(&meta, &size, &crc, err)))
        goto fail;
    ADD_FILE(0, size, crc);
#undef ADD_FILE
    out->articles = w->narts;
    out->units = w->nunits;
    out->tokens = w->ntokens;
    out->terms = pr.terms;
    out->postings = pr.postings;
    reset(w);
    return 0;
fail: {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", w->dir, out->origins);
        qsys_unlink(path);
        remove_segment(w);
        qi_reset(w->inv);
        reset(w);
        return rc;
    }
}
