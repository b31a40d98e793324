/*
 * writer.c — quarry_writer: the indexing pipeline from documents to a
 * committed generation (DESIGN §2, index/FORMAT.md).
 *
 *   document ─► UTF-8 clean ─► duplicate-id check ─► passage split ─►
 *   analyzer (title once, then each passage) ─► inverter (bounded memory)
 *                                             ─► .unit / .arts / .text streams
 *   commit: spill ─► merge runs ─► .dict/.post/.posn ─► .meta ─► MANIFEST
 *
 * Owns: the lock on DIR/LOCK while open, every file of the new generation
 * until commit (removed by close if uncommitted), the id table (ids are
 * needed for duplicate detection and the sorted id index).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "index/batch.h"
#include "index/docs.h"
#include "index/invert.h"
#include "index/manifest.h"
#include "index/postw.h"
#include "passage/passage.h"
#include "read/read.h"

struct quarry_writer {
    char *dir;
    int lock_fd;
    qm_manifest prev;         /* the committed manifest when the writer opened (or none) */
    uint64_t gen;             /* the generation this writer commits */
    uint64_t seg;             /* the id of the segment it writes */
    int committed;
    quarry_index_options opt;
    qa_analyzer *an;
    qi_inverter *inv;
    size_t budget;
    /* streams of the new generation */
    qf_writer unitf, artsf;
    qd_text_writer text;
    int files_open;
    /* per unit / per article, in memory (4 + 8 bytes each) */
    uint32_t *unit_len;
    uint32_t nunits, cap_units;
    uint32_t narts, cap_arts;         /* consumer: articles with a registered id */
    /* producer side (the reading thread during add_paths): the unit and
     * article streams, written as documents are analyzed (the text stream is
     * the consumer's) */
    uint64_t *art_off;
    size_t cap_art_off;
    uint64_t *art_date, *art_fp;   /* per article: date key, fingerprint */
    size_t cap_art_date, cap_art_fp;
    uint32_t p_narts, p_nunits;
    /* id table: open addressing over ids stored in `ids` */
    qbuf ids;                 /* per id: u32 len, bytes, u32 file index, u64 line */
    uint64_t *id_table;       /* (offset in ids) + 1, 0 empty */
    uint64_t id_mask;
    uint64_t nids;            /* ids in the table: articles and skipped empty ones */
    uint32_t *id_art;         /* article number -> offset in ids */
    char **files;             /* names of input files seen (for messages) */
    uint32_t nfiles;
    /* scratch */
    qbuf rec;
    qb_batch batch[2];
    quarry_index_summary sum;
    uint64_t bytes_total;
    qr_reader *rd;
};

void quarry_index_options_init(quarry_index_options *o)
{
    memset(o, 0, sizeof *o);
    o->language = "english";
    o->stemmer = "snowball";
    o->stopwords = "default";
    o->passages = 1;
    o->passage_tokens = 120;
    o->mem_mb = 256;
}

static void remove_seg_files(quarry_writer *w)
{
    char name[QM_NAME], path[4096];
    for (size_t i = 0; i < QM_SEG_FILES; i++) {
        qm_seg_name(name, w->seg, qm_kinds[i]);
        snprintf(path, sizeof path, "%s/%s", w->dir, name);
        unlink(path);
    }
}

void quarry_writer_close(quarry_writer *w)
{
    if (!w)
        return;
    if (w->files_open) {
        qf_abort(&w->unitf);
        qf_abort(&w->artsf);
        qd_text_abort(&w->text);
    }
    if (!w->committed && w->gen)
        remove_seg_files(w);
    qm_free(&w->prev);
    qr_close(w->rd);
    qi_close(w->inv);
    qa_close(w->an);
    free(w->unit_len);
    free(w->art_off);
    free(w->art_date);
    free(w->art_fp);
    free(w->id_table);
    free(w->id_art);
    for (uint32_t i = 0; i < w->nfiles; i++)
        free(w->files[i]);
    free(w->files);
    qbuf_free(&w->ids);
    qbuf_free(&w->rec);
    qb_free(&w->batch[0]);
    qb_free(&w->batch[1]);
    if (w->lock_fd >= 0)
        close(w->lock_fd);
    free(w->dir);
    free(w);
}

int quarry_writer_open(const char *dir, const quarry_index_options *o, quarry_writer **out,
                       quarry_error *err)
{
    quarry_index_options defaults;
    if (!o) {
        quarry_index_options_init(&defaults);
        o = &defaults;
    }
    if (o->mem_mb < 8 || o->mem_mb > 65536)
        return qerr_set(err, QUARRY_EINVAL, "--mem %u: the memory budget must be between 8 and 65536 MiB", o->mem_mb);
    if (o->passages && (o->passage_tokens < 16 || o->passage_tokens > 100000))
        return qerr_set(err, QUARRY_EINVAL, "--passage-tokens %u: must be between 16 and 100000", o->passage_tokens);
    quarry_writer *w = calloc(1, sizeof *w);
    if (!w)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    w->lock_fd = -1;
    w->opt = *o;
    w->dir = qstrndup(dir, strlen(dir));
    if (!w->dir) {
        free(w);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    int rc;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        rc = qerr_errno(err, "cannot create index directory", dir);
        goto fail;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    w->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lock_fd < 0) {
        rc = qerr_errno(err, "cannot create lock file", path);
        goto fail;
    }
    if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = qerr_set(err, QUARRY_EIO, "%s: another 'quarry index' is writing this index; wait for it to finish", dir);
        goto fail;
    }
    quarry_error e2;
    if (qm_read(dir, &w->prev, &e2) == 0) {
        w->gen = w->prev.generation + 1;
        w->seg = w->prev.next_segment;
    } else {   /* no index yet, or a damaged manifest that this commit replaces */
        memset(&w->prev, 0, sizeof w->prev);
        w->gen = 1;
        w->seg = 1;
    }
    if (w->gen == 0 || w->seg == UINT64_MAX) {
        rc = qerr_set(err, QUARRY_ELIMIT, "%s: generation or segment numbers exhausted", dir);
        goto fail;
    }
    if ((rc = qa_open(o->language, o->stemmer, o->stopwords, &w->an, err)))
        goto fail;
    /* three quarters of the budget go to the postings in memory; the rest
     * covers reading buffers, the text block, ids and per-unit arrays */
    w->budget = (size_t)o->mem_mb << 20;
    if ((rc = qi_open(dir, w->seg, w->budget / 4 * 3 - (4u << 20), &w->inv, err)))
        goto fail;
    char name[QM_NAME];
    qm_seg_name(name, w->seg, QF_UNIT);
    if ((rc = qf_create(&w->unitf, dir, name, QF_UNIT, err)))
        goto fail;
    qm_seg_name(name, w->seg, QF_ARTS);
    if ((rc = qf_create(&w->artsf, dir, name, QF_ARTS, err))) {
        qf_abort(&w->unitf);
        goto fail;
    }
    if ((rc = qd_text_open(&w->text, dir, w->seg, err))) {
        qf_abort(&w->unitf);
        qf_abort(&w->artsf);
        goto fail;
    }
    w->files_open = 1;
    *out = w;
    return 0;
fail:
    quarry_writer_close(w);
    return rc;
}

/* ------------------------------------------------------------ ids */

static const uint8_t *id_at(const quarry_writer *w, uint64_t off, uint32_t *len)
{
    *len = qload_u32(w->ids.p + off);
    return w->ids.p + off + 4;
}

static int id_grow(quarry_writer *w)
{
    uint64_t ncap = w->id_mask ? (w->id_mask + 1) * 2 : 4096;
    uint64_t *t = calloc(ncap, sizeof *t);
    if (!t)
        return -1;
    for (uint64_t off = 0; off < w->ids.len;) {   /* every id record, articles or not */
        uint32_t len;
        const uint8_t *s = id_at(w, off, &len);
        uint64_t h = qhash(s, len) & (ncap - 1);
        while (t[h])
            h = (h + 1) & (ncap - 1);
        t[h] = off + 1;
        off += 4 + len + 12;
    }
    free(w->id_table);
    w->id_table = t;
    w->id_mask = ncap - 1;
    return 0;
}

static uint32_t file_index(quarry_writer *w, const char *file)
{
    if (w->nfiles && strcmp(w->files[w->nfiles - 1], file) == 0)
        return w->nfiles - 1;
    char **nf = realloc(w->files, (w->nfiles + 1) * sizeof *nf);
    if (!nf)
        return UINT32_MAX;
    w->files = nf;
    if (!(w->files[w->nfiles] = qstrndup(file, strlen(file))))
        return UINT32_MAX;
    return w->nfiles++;
}

static void where_str(char *out, size_t n, const char *file, uint64_t line)
{
    if (line)
        snprintf(out, n, "%s:%llu", file, (unsigned long long)line);
    else
        snprintf(out, n, "%s", file);
}

/* Registers the id of article w->narts; QUARRY_EINPUT if it is a duplicate. */
static int id_add(quarry_writer *w, const char *id, size_t len, const char *file, uint64_t line,
                  int article, quarry_error *err)
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
            uint32_t fi = qload_u32(s + l2);
            uint64_t ln = qload_u64(s + l2 + 4);
            char a[4200], b[4200];
            where_str(a, sizeof a, file, line);
            where_str(b, sizeof b, w->files[fi], ln);
            return qerr_set(err, QUARRY_EINPUT, "%s: duplicate id \"%.*s\" (first seen at %s); ids must be unique",
                            a, (int)(len > 200 ? 200 : len), id, b);
        }
        h = (h + 1) & w->id_mask;
    }
    uint32_t fi = file_index(w, file);
    if (fi == UINT32_MAX)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    uint64_t off = w->ids.len;
    qbuf_put_u32(&w->ids, (uint32_t)len);
    qbuf_append(&w->ids, id, len);
    qbuf_put_u32(&w->ids, fi);
    qbuf_put_u64(&w->ids, line);
    if (w->ids.oom)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    if (w->narts == w->cap_arts) {
        uint32_t nc = w->cap_arts ? w->cap_arts * 2 : 1024;
        uint32_t *a = realloc(w->id_art, (size_t)nc * sizeof *a);
        if (!a)
            return qerr_set(err, QUARRY_ENOMEM, "out of memory");
        w->id_art = a;
        w->cap_arts = nc;
    }
    if (off > UINT32_MAX)
        return qerr_set(err, QUARRY_ELIMIT, "too many ids (more than 4 GiB of ids)");
    if (article)
        w->id_art[w->narts] = (uint32_t)off;
    w->id_table[h] = off + 1;
    w->nids++;
    return 0;
}

/* ------------------------------------------------------------ consumer */

static int add_unit_len(quarry_writer *w, uint32_t len)
{
    if (w->nunits == w->cap_units) {
        uint32_t nc = w->cap_units ? w->cap_units * 2 : 4096;
        uint32_t *p = realloc(w->unit_len, (size_t)nc * sizeof *p);
        if (!p)
            return -1;
        w->unit_len = p;
        w->cap_units = nc;
    }
    w->unit_len[w->nunits++] = len;
    return 0;
}

/* Adds one analyzed article of a batch: its id, its units to the inverter
 * and the unit/text streams, its record to the article stream. */
static int consume_doc(quarry_writer *w, qb_batch *b, qb_doc *d, quarry_error *err)
{
    const char *bytes = (const char *)b->bytes.p;
    const char *terms = (const char *)b->terms.p;
    if (w->nunits > UINT32_MAX - 1000000 - d->nsp)
        return qerr_set(err, QUARRY_ELIMIT, "%s: too many passages for one index", d->file);
    int rc = id_add(w, bytes + d->id, d->id_len, d->file, d->line, !d->empty, err);
    if (rc || d->empty) {
        w->sum.empty_skipped += !rc;
        return rc;
    }
    qb_tok *toks = b->toks + d->tok0;
    const size_t *starts = b->starts + d->st0;
    uint32_t epoch = UINT32_MAX;
    for (size_t i = 0; i < d->nsp; i++) {
        uint32_t unit = w->nunits;
        uint32_t len = (uint32_t)(d->ntitle + starts[i + 1] - starts[i]);
        /* title terms are looked up once per article (again after a spill) */
        if (d->ntitle && epoch != qi_epoch(w->inv)) {
            epoch = qi_epoch(w->inv);
            for (size_t k = 0; k < d->ntitle; k++)
                toks[k].id = qi_term(w->inv, terms + toks[k].off, toks[k].len);
        }
        for (size_t k = 0; k < d->ntitle; k++)
            if (qi_add_term(w->inv, unit, toks[k].id, toks[k].pos))
                goto oom;
        for (size_t k = starts[i]; k < starts[i + 1]; k++)
            if (qi_add(w->inv, unit, terms + toks[k].off, toks[k].len, toks[k].pos))
                goto oom;
        if ((rc = qi_end_unit(w->inv, err)))
            return rc;
        if (add_unit_len(w, len))
            goto oom;
        /* the text store is written on this side: it balances the threads */
        const qp_span *s = &b->spans[d->sp0 + i];
        if (qd_text_add(&w->text, (const char *)b->bytes.p + d->text + s->start, s->end - s->start))
            goto oom;
        w->sum.tokens += len;
    }
    w->narts++;
    w->sum.articles++;
    w->sum.passages += d->nsp;
    return 0;
oom:
    return qerr_set(err, QUARRY_ENOMEM, "out of memory");
}

/* Producer side: writes the units and article record of an analyzed
 * document to their streams. Returns 0 or -1 (out of memory; a write
 * failure is sticky and reported at commit). */
static int store_doc(quarry_writer *w, qb_batch *b, const qb_doc *d)
{
    const char *bytes = (const char *)b->bytes.p;
    const char *terms = (const char *)b->terms.p;
    const qb_tok *toks = b->toks + d->tok0;
    const size_t *starts = b->starts + d->st0;
    uint32_t art = w->p_narts, first_unit = w->p_nunits;
    if (d->empty)
        return 0;
    uint64_t afp = QD_FP_SEED;
    for (size_t k = 0; k < d->ntitle; k++)
        afp = qd_fp_add(afp, terms + toks[k].off, toks[k].len);
    afp = qd_fp_add(afp, "", 0);   /* the title ends */
    for (size_t i = 0; i < d->nsp; i++) {
        uint64_t ufp = QD_FP_SEED;
        for (size_t k = starts[i]; k < starts[i + 1]; k++) {
            ufp = qd_fp_add(ufp, terms + toks[k].off, toks[k].len);
            afp = qd_fp_add(afp, terms + toks[k].off, toks[k].len);
        }
        qf_put_u32(&w->unitf, (uint32_t)(d->ntitle + starts[i + 1] - starts[i]));
        qf_put_u32(&w->unitf, art);
        qf_put_u32(&w->unitf, d->body_pos);
        qf_put_u64(&w->unitf, ufp);
    }
    if (qgrow((void **)&w->art_off, &w->cap_art_off, art, sizeof *w->art_off) ||
        qgrow((void **)&w->art_date, &w->cap_art_date, art, sizeof *w->art_date) ||
        qgrow((void **)&w->art_fp, &w->cap_art_fp, art, sizeof *w->art_fp))
        return -1;
    uint64_t key = 0;
    if (d->date_len && !qdate_key(bytes + d->date, d->date_len, &key, NULL))
        key = 0;
    w->art_off[art] = w->artsf.off;
    w->art_date[art] = key;
    w->art_fp[art] = afp;
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
    if (qf_write_buf(&w->artsf, r))
        return -1;
    w->p_narts++;
    w->p_nunits += (uint32_t)d->nsp;
    return 0;
}

static int consume(quarry_writer *w, qb_batch *b, quarry_error *err)
{
    w->sum.invalid_utf8 += b->invalid_utf8;
    w->sum.bytes_in += b->bytes_in;
    for (size_t i = 0; i < b->ndocs; i++) {
        int rc = consume_doc(w, b, &b->docs[i], err);
        if (rc)
            return rc;
    }
    if (w->opt.progress && b->bytes_done) {
        quarry_progress p = { w->sum.articles, w->sum.passages, b->bytes_done, w->bytes_total, w->sum.bytes_in };
        w->opt.progress(&p, w->opt.progress_ctx);
    }
    return 0;
}

int quarry_writer_add(quarry_writer *w, const char *id, const char *title, const char *text,
                      size_t text_len, const char *date, const char *where, quarry_error *err)
{
    if (!id || !text)
        return qerr_set(err, QUARRY_EINVAL, "quarry_writer_add: id and text are required");
    if (!title)
        title = "";
    if (!date)
        date = "";
    if (!where)
        where = "(api)";
    qbuf idb, ti, da, tx;
    qbuf_init(&idb);
    qbuf_init(&ti);
    qbuf_init(&da);
    qbuf_init(&tx);
    qb_batch *b = &w->batch[0];
    qb_reset(b);
    b->invalid_utf8 = qa_utf8_clean(text, text_len, &tx) + qa_utf8_clean(id, strlen(id), &idb) +
                      qa_utf8_clean(title, strlen(title), &ti) + qa_utf8_clean(date, strlen(date), &da);
    int rc;
    if (tx.oom || idb.oom || ti.oom || da.oom)
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    else if (!(rc = qb_add(b, w->an, w->opt.passages ? w->opt.passage_tokens : 0, (const char *)idb.p,
                           idb.len, (const char *)ti.p, ti.len, (const char *)tx.p, tx.len,
                           (const char *)da.p, da.len, where, 0, err))) {
        /* the id is checked (consume) before anything is stored, so a
         * rejected document leaves the writer usable */
        rc = consume(w, b, err);
        if (!rc && b->ndocs && store_doc(w, b, &b->docs[0]))
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    qbuf_free(&idb);
    qbuf_free(&ti);
    qbuf_free(&da);
    qbuf_free(&tx);
    return rc;
}

/* ------------------------------------------------------------ pipeline */

/* quarry_writer_add_paths runs two threads: the producer reads, splits and
 * analyzes documents into one of two batches while the consumer (the
 * calling thread) inverts the other. Each batch holds about BATCH_BYTES. */
#define BATCH_BYTES (1u << 20)

typedef struct pipeline {
    quarry_writer *w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int full[2];
    int stop;          /* the consumer failed: the producer stops */
} pipeline;

static void fill(pipeline *pl, qb_batch *b)
{
    quarry_writer *w = pl->w;
    qr_doc d;
    unsigned target = w->opt.passages ? w->opt.passage_tokens : 0;
    while (qb_bytes(b) < BATCH_BYTES) {
        int r = qr_next(w->rd, &d, &b->err);
        if (r == 0) {
            b->end = 1;
            break;
        }
        if (r < 0) {
            b->rc = -r;
            b->end = 1;
            break;
        }
        b->invalid_utf8 += d.invalid_utf8;
        size_t before = b->ndocs;
        if ((b->rc = qb_add(b, w->an, target, d.id, d.id_len, d.title, d.title_len, d.text, d.text_len,
                            d.date, d.date_len, d.file, d.line, &b->err))) {
            b->end = 1;
            break;
        }
        if (b->ndocs > before && store_doc(w, b, &b->docs[before])) {
            b->rc = qerr_set(&b->err, QUARRY_ENOMEM, "out of memory");
            b->end = 1;
            break;
        }
    }
    b->bytes_done = qr_bytes_done(w->rd);
}

static void *producer(void *arg)
{
    pipeline *pl = arg;
    for (int i = 0;; i ^= 1) {
        pthread_mutex_lock(&pl->mu);
        while (pl->full[i] && !pl->stop)
            pthread_cond_wait(&pl->cv, &pl->mu);
        int stop = pl->stop;
        pthread_mutex_unlock(&pl->mu);
        if (stop)
            return NULL;
        qb_batch *b = &pl->w->batch[i];
        qb_reset(b);
        fill(pl, b);
        pthread_mutex_lock(&pl->mu);
        pl->full[i] = 1;
        pthread_cond_broadcast(&pl->cv);
        pthread_mutex_unlock(&pl->mu);
        if (b->end)
            return NULL;
    }
}

int quarry_writer_add_paths(quarry_writer *w, const char *const *paths, size_t npaths,
                            quarry_error *err)
{
    qr_close(w->rd);
    w->rd = NULL;
    int rc = qr_open(paths, npaths, &w->rd, err);
    if (rc)
        return rc;
    w->bytes_total = qr_bytes_total(w->rd);
    pipeline pl;
    memset(&pl, 0, sizeof pl);
    pl.w = w;
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.cv, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, producer, &pl) != 0) {
        pthread_mutex_destroy(&pl.mu);
        pthread_cond_destroy(&pl.cv);
        return qerr_set(err, QUARRY_ENOMEM, "cannot start the reading thread");
    }
    for (int i = 0;; i ^= 1) {
        pthread_mutex_lock(&pl.mu);
        while (!pl.full[i])
            pthread_cond_wait(&pl.cv, &pl.mu);
        pthread_mutex_unlock(&pl.mu);
        qb_batch *b = &w->batch[i];
        int end = b->end;
        rc = consume(w, b, err);
        if (!rc && b->rc) {
            rc = b->rc;
            if (err)
                *err = b->err;
        }
        pthread_mutex_lock(&pl.mu);
        pl.full[i] = 0;
        if (rc)
            pl.stop = 1;
        pthread_cond_broadcast(&pl.cv);
        pthread_mutex_unlock(&pl.mu);
        if (rc || end)
            break;
    }
    pthread_join(th, NULL);
    pthread_mutex_destroy(&pl.mu);
    pthread_cond_destroy(&pl.cv);
    return rc;
}

void quarry_writer_summary(const quarry_writer *w, quarry_index_summary *s)
{
    *s = w->sum;
}

/* ------------------------------------------------------------ commit */

static const quarry_writer *g_w;
static int cmp_id(const void *a, const void *b)
{
    uint32_t la, lb;
    const uint8_t *sa = id_at(g_w, g_w->id_art[*(const uint32_t *)a], &la);
    const uint8_t *sb = id_at(g_w, g_w->id_art[*(const uint32_t *)b], &lb);
    int c = memcmp(sa, sb, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

int quarry_writer_commit(quarry_writer *w, quarry_error *err)
{
    if (w->committed)
        return qerr_set(err, QUARRY_EINVAL, "index already committed");
    int rc;
    if (w->p_narts != w->narts || w->p_nunits != w->nunits)
        return qerr_set(err, QUARRY_EINVAL, "cannot commit after a failed addition; close the writer");
    qm_segment g;
    memset(&g, 0, sizeof g);
    g.id = w->seg;
    g.nfiles = QM_SEG_FILES;
#define ADD_FILE(k, sz, cr)                                  \
    do {                                                     \
        qm_seg_name(g.files[k].name, w->seg, qm_kinds[k]);   \
        g.files[k].size = (sz);                              \
        g.files[k].crc = (cr);                               \
    } while (0)
    uint64_t size;
    uint32_t crc;

    /* units */
    qf_put_u64(&w->unitf, w->nunits);
    if ((rc = qf_finish(&w->unitf, &size, &crc, err))) {
        qf_abort(&w->artsf);
        qd_text_abort(&w->text);
        w->files_open = 0;
        return rc;
    }
    ADD_FILE(4, size, crc);
    /* articles: records were streamed; add the offset table, the id order and the trailer */
    uint32_t *order = malloc(((size_t)w->narts + 1) * sizeof *order);
    if (!order) {
        qf_abort(&w->artsf);
        qd_text_abort(&w->text);
        w->files_open = 0;
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < w->narts; i++)
        order[i] = i;
    g_w = w;
    qsort(order, w->narts, sizeof *order, cmp_id);
    uint64_t offs_at = w->artsf.off;
    for (uint32_t i = 0; i < w->narts; i++)
        qf_put_u64(&w->artsf, w->art_off[i]);
    qf_put_u64(&w->artsf, offs_at);   /* end of the last record */
    uint64_t order_at = w->artsf.off;
    for (uint32_t i = 0; i < w->narts; i++)
        qf_put_u32(&w->artsf, order[i]);
    free(order);
    uint64_t dates_at = w->artsf.off;
    for (uint32_t i = 0; i < w->narts; i++)
        qf_put_u64(&w->artsf, w->art_date[i]);
    uint64_t fps_at = w->artsf.off;
    for (uint32_t i = 0; i < w->narts; i++)
        qf_put_u64(&w->artsf, w->art_fp[i]);
    qf_put_u64(&w->artsf, w->narts);
    qf_put_u64(&w->artsf, offs_at);
    qf_put_u64(&w->artsf, order_at);
    qf_put_u64(&w->artsf, dates_at);
    qf_put_u64(&w->artsf, fps_at);
    rc = qf_finish(&w->artsf, &size, &crc, err);
    if (rc) {
        qd_text_abort(&w->text);
        w->files_open = 0;
        return rc;
    }
    ADD_FILE(5, size, crc);
    rc = qd_text_finish(&w->text, &size, &crc, err);
    w->files_open = 0;
    if (rc)
        return rc;
    ADD_FILE(6, size, crc);

    /* postings: spill what is in memory, merge the runs */
    if ((rc = qi_finish(w->inv, err)))
        return rc;
    w->sum.runs = qi_nruns(w->inv);
    qpw *pw;
    if ((rc = qpw_open(&pw, w->dir, w->seg, w->unit_len, w->nunits, err)))
        return rc;
    const char **runs = malloc((qi_nruns(w->inv) + 1) * sizeof *runs);
    if (!runs) {
        qpw_abort(pw);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < qi_nruns(w->inv); i++)
        runs[i] = qi_run_path(w->inv, i);
    rc = qpw_merge_runs(pw, runs, qi_nruns(w->inv), w->nunits, w->budget / 4, err);
    free(runs);
    if (rc) {
        qpw_abort(pw);
        return rc;
    }
    qi_close(w->inv);   /* removes the runs */
    w->inv = NULL;
    qpw_result pr;
    if ((rc = qpw_finish(pw, &pr, err)))
        return rc;
    ADD_FILE(1, pr.size[0], pr.crc[0]);
    ADD_FILE(2, pr.size[1], pr.crc[1]);
    ADD_FILE(3, pr.size[2], pr.crc[2]);
    w->sum.terms = pr.terms;
    w->sum.postings = pr.postings;

    /* collection statistics and analyzer settings */
    qf_writer meta;
    char name[QM_NAME];
    qm_seg_name(name, w->seg, QF_META);
    if ((rc = qf_create(&meta, w->dir, name, QF_META, err)))
        return rc;
    qbuf blob;
    qbuf_init(&blob);
    qa_serialize(w->an, &blob);
    qf_put_u64(&meta, w->narts);
    qf_put_u64(&meta, w->nunits);
    qf_put_u64(&meta, pr.terms);
    qf_put_u64(&meta, pr.postings);
    qf_put_u64(&meta, pr.positions);
    qf_put_u64(&meta, w->sum.tokens);
    qf_put_u32(&meta, w->opt.passages ? 1 : 0);
    qf_put_u32(&meta, w->opt.passages ? w->opt.passage_tokens : 0);
    qf_put_u32(&meta, (uint32_t)blob.len);
    qf_write_buf(&meta, &blob);
    qbuf_free(&blob);
    if ((rc = qf_finish(&meta, &size, &crc, err)))
        return rc;
    ADD_FILE(0, size, crc);
#undef ADD_FILE
    /* the new manifest: this segment replaces the whole index */
    qm_manifest m;
    memset(&m, 0, sizeof m);
    m.generation = w->gen;
    m.next_segment = w->seg + 1;
    m.seg = &g;
    m.nseg = 1;
    if ((rc = qm_write(w->dir, &m, err)))
        return rc;
    w->committed = 1;
    qm_cleanup(w->dir, &m);
    return 0;
}
