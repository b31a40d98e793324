/*
 * writer.c — quarry_writer: an indexing run, from documents to a committed
 * generation (DESIGN §2, index/FORMAT.md).
 *
 *   reading (the calling thread) ─► raw batches of about 1 MiB, batch k to
 *   worker k mod N ─► each worker: UTF-8 clean, passage split, analysis
 *   (batch.c) ─► its segment writer (segw.c): inverter, unit / article /
 *   text streams ─► a segment each time its memory budget is reached
 *
 *   commit: finish the workers' segments ─► ids unique across the run ─►
 *   deletions of replaced (and deleted) articles ─► MANIFEST ─► cleanup ─►
 *   merges (segmerge.c), each its own commit
 *
 * Determinism: batches end at fixed byte counts and go round-robin, a
 * worker fills its segment from its batches in order, and a segment's id
 * is (base + first batch << 16 | its number within that batch): the index
 * is the same for a given input and number of workers, whatever the
 * timing. The documents of a segment come in input order; segments are
 * ordered by their first batch.
 *
 * Memory: the budget (--mem) is split between the raw batches in flight
 * (two per worker), the analyzed batch of each worker and the workers'
 * segments; nothing grows with the number of documents of the run.
 *
 * Owns: the lock on DIR/LOCK while open, every file of its unfinished and
 * uncommitted segments (removed by close), the origins files of its
 * finished segments (removed at commit or close).
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
#include "index/deletes.h"
#include "index/manifest.h"
#include "index/reader.h"
#include "index/segmerge.h"
#include "index/segw.h"
#include "read/read.h"

#define MAX_THREADS 64
#define QUEUE 2                 /* raw batches waiting per worker */

/* ------------------------------------------------------------ raw batches */

/* Documents as read: strings, then where they came from. */
typedef struct raw_doc {
    size_t id, title, text, date;   /* offsets in bytes */
    size_t id_len, title_len, text_len, date_len;
    uint32_t file;
    uint64_t line;
    size_t invalid_utf8;
} raw_doc;

typedef struct raw_batch {
    qbuf bytes;
    raw_doc *docs;
    size_t n, cap;
    uint64_t seq;                   /* its number in the run */
    uint64_t bytes_done;            /* the reader's progress after it */
} raw_batch;

static void raw_reset(raw_batch *b)
{
    qbuf_reset(&b->bytes);
    b->n = 0;
}

static void raw_free(raw_batch *b)
{
    qbuf_free(&b->bytes);
    free(b->docs);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------ workers */

typedef struct worker {
    struct quarry_writer *w;
    int index;
    pthread_t th;
    int started;
    qsw *sw;
    qa_analyzer *an;
    qb_batch b;
    /* the queue of raw batches (a ring) */
    raw_batch q[QUEUE];
    size_t qhead, qn;
    int end;                        /* no more batches in this call */
    /* the segment being written */
    uint64_t seg_batch;             /* the batch it started in */
    uint32_t seg_sub;               /* segments started in that batch so far */
    /* articles of the index being added to that this run replaces:
     * (segment << 32 | local article) */
    uint64_t *repl;
    size_t nrepl, cap_repl;
    /* counts */
    uint64_t articles, passages, tokens, empty, invalid_utf8, bytes_in, replaced;
    int rc;
    quarry_error err;
} worker;

typedef struct seginfo {
    qsw_result r;
} seginfo;

struct quarry_writer {
    char *dir;
    int lock_fd;
    quarry_index_options opt;
    qm_manifest prev;             /* the committed manifest when the writer opened */
    int have_prev;
    quarry_index *base;           /* add mode: the index being added to */
    uint64_t gen;                 /* the generation this run commits */
    uint64_t seg_base;            /* segment ids of this run start here */
    qa_analyzer *an;
    size_t budget, batch_bytes, max_doc;
    unsigned nworkers;
    worker *wk;
    char **files;                 /* names of input files seen (for messages) */
    uint32_t nfiles, cap_files;
    seginfo *segs;
    size_t nsegs, cap_segs;
    uint64_t *dels;               /* quarry_writer_delete: (segment << 32 | local article) */
    size_t ndels, cap_dels;
    uint64_t batch_seq;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;                     /* a worker failed: everyone stops */
    quarry_index_summary sum;
    int committed, failed;
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
    o->merge = 1;
}

/* ------------------------------------------------------------ open / close */

static void remove_origins(quarry_writer *w)
{
    char path[4200];
    for (size_t i = 0; i < w->nsegs; i++) {
        snprintf(path, sizeof path, "%s/%s", w->dir, w->segs[i].r.origins);
        unlink(path);
    }
}

static void remove_segments(quarry_writer *w)
{
    char name[QM_NAME], path[4200];
    for (size_t i = 0; i < w->nsegs; i++) {
        const qm_segment *g = &w->segs[i].r.seg;
        for (size_t k = 0; k < g->nfiles; k++) {
            snprintf(path, sizeof path, "%s/%s", w->dir, g->files[k].name);
            unlink(path);
        }
    }
    (void)name;
}

void quarry_writer_close(quarry_writer *w)
{
    if (!w)
        return;
    if (w->wk)
        for (unsigned i = 0; i < w->nworkers; i++) {
            worker *k = &w->wk[i];
            qsw_close(k->sw);   /* abandons an unfinished segment */
            qa_close(k->an);
            qb_free(&k->b);
            for (int j = 0; j < QUEUE; j++)
                raw_free(&k->q[j]);
            free(k->repl);
        }
    free(w->wk);
    if (!w->committed)
        remove_segments(w);
    remove_origins(w);
    free(w->segs);
    free(w->dels);
    qm_free(&w->prev);
    quarry_close(w->base);
    qa_close(w->an);
    for (uint32_t i = 0; i < w->nfiles; i++)
        free(w->files[i]);
    free(w->files);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
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
    if (o->threads > MAX_THREADS)
        return qerr_set(err, QUARRY_EINVAL, "--threads %u: at most %d", o->threads, MAX_THREADS);
    quarry_writer *w = calloc(1, sizeof *w);
    if (!w)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    w->lock_fd = -1;
    w->opt = *o;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    int rc;
    if (!(w->dir = qstrndup(dir, strlen(dir)))) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto fail;
    }
    if (!o->add && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        rc = qerr_errno(err, "cannot create index directory", dir);
        goto fail;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    w->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lock_fd < 0) {
        rc = errno == ENOENT && o->add
                 ? qerr_set(err, QUARRY_ENOTFOUND, "%s: no index here to add to (build one with 'quarry index -o %s PATH...')", dir, dir)
                 : qerr_errno(err, "cannot create lock file", path);
        goto fail;
    }
    if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = qerr_set(err, QUARRY_EIO, "%s: another 'quarry index' is writing this index; wait for it to finish", dir);
        goto fail;
    }
    quarry_error e2;
    if (qm_read(dir, &w->prev, &e2) == 0)
        w->have_prev = 1;
    else if (o->add) {   /* adding needs the index */
        if (err)
            *err = e2;
        rc = e2.code;
        goto fail;
    } else   /* no index yet, or a damaged manifest that this commit replaces */
        memset(&w->prev, 0, sizeof w->prev);
    w->gen = w->have_prev ? w->prev.generation + 1 : 1;
    w->seg_base = w->have_prev ? w->prev.next_segment : 1;
    if (w->gen == 0 || w->seg_base > UINT64_MAX / 2) {
        rc = qerr_set(err, QUARRY_ELIMIT, "%s: generation or segment numbers exhausted", dir);
        goto fail;
    }
    if (o->add) {
        /* the index being added to: its analyzer and passage settings rule */
        const char *d1[] = { dir };
        if ((rc = qx_open(d1, 1, &w->base, err)))
            goto fail;
        if ((rc = qa_open_serialized(w->base->seg[0].blob, w->base->seg[0].blob_len, &w->an, err)))
            goto fail;
        w->opt.passages = (int)w->base->passage_mode;
        w->opt.passage_tokens = w->base->passage_tokens ? w->base->passage_tokens : w->opt.passage_tokens;
    } else if ((rc = qa_open(o->language, o->stemmer, o->stopwords, &w->an, err)))
        goto fail;
    /* the budget: raw batches in flight, the workers' analyzed batches and segments */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    w->nworkers = o->threads ? o->threads : (cores > 0 ? (unsigned)(cores > MAX_THREADS ? MAX_THREADS : cores) : 1);
    w->budget = (size_t)o->mem_mb << 20;
    w->max_doc = w->budget / 8;
    w->batch_bytes = w->budget / (8 * (w->nworkers + 1) * (QUEUE + 1));
    if (w->batch_bytes > (1u << 20))
        w->batch_bytes = 1u << 20;
    if (w->batch_bytes < (64u << 10))
        w->batch_bytes = 64u << 10;
    size_t fixed = (size_t)w->nworkers * (QUEUE + 3) * w->batch_bytes + (2u << 20);
    size_t per = w->budget > fixed ? (w->budget - fixed) / w->nworkers : 0;
    if (per < (1u << 20))
        per = 1u << 20;
    if (!(w->wk = calloc(w->nworkers, sizeof *w->wk))) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < w->nworkers; i++) {
        worker *k = &w->wk[i];
        k->w = w;
        k->index = (int)i;
        if ((rc = qsw_open(&k->sw, dir, per, err)))
            goto fail;
        qbuf blob;
        qbuf_init(&blob);
        qa_serialize(w->an, &blob);
        rc = blob.oom ? qerr_set(err, QUARRY_ENOMEM, "out of memory")
                      : qa_open_serialized(blob.p, blob.len, &k->an, err);
        qbuf_free(&blob);
        if (rc)
            goto fail;
    }
    *out = w;
    return 0;
fail:
    quarry_writer_close(w);
    return rc;
}

/* ------------------------------------------------------------ documents */

static uint32_t file_index(quarry_writer *w, const char *file)
{
    if (w->nfiles && strcmp(w->files[w->nfiles - 1], file) == 0)
        return w->nfiles - 1;
    if (qgrow((void **)&w->files, (size_t *)&w->cap_files, w->nfiles, sizeof *w->files))
        return UINT32_MAX;
    if (!(w->files[w->nfiles] = qstrndup(file, strlen(file))))
        return UINT32_MAX;
    return w->nfiles++;
}

/* Starts a segment for worker k if it has none (its id from the batch). */
static int need_segment(worker *k, uint64_t batch, quarry_error *err)
{
    if (qsw_active(k->sw))
        return 0;
    if (batch != k->seg_batch || k->seg_sub == 0) {
        if (batch != k->seg_batch)
            k->seg_sub = 0;
        k->seg_batch = batch;
    }
    if (k->seg_sub >= 0xffff || batch >= ((uint64_t)1 << 40))
        return qerr_set(err, QUARRY_ELIMIT, "too many segments for one run");
    uint64_t id = k->w->seg_base + (batch << 16 | k->seg_sub++);
    return qsw_begin(k->sw, id, err);
}

static int finish_segment(worker *k, int keep_empty, quarry_error *err)
{
    quarry_writer *w = k->w;
    qsw_result r;
    int rc = qsw_finish(k->sw, k->an, w->opt.passages, w->opt.passages ? w->opt.passage_tokens : 0, keep_empty,
                        &r, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&w->mu);
    int bad = qgrow((void **)&w->segs, &w->cap_segs, w->nsegs, sizeof *w->segs);
    if (!bad)
        w->segs[w->nsegs++].r = r;
    pthread_mutex_unlock(&w->mu);
    if (bad) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", w->dir, r.origins);
        unlink(path);
        for (size_t i = 0; i < r.seg.nfiles; i++) {
            snprintf(path, sizeof path, "%s/%s", w->dir, r.seg.files[i].name);
            unlink(path);
        }
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    return 0;
}

/* Add mode: when the index holds this id, the new article replaces it. */
static int note_replaced(worker *k, const char *id, quarry_error *err)
{
    quarry_writer *w = k->w;
    if (!w->base)
        return 0;
    uint32_t a;
    quarry_error e2;
    int rc = quarry_article_find(w->base, id, &a, &e2);
    if (rc == QUARRY_ENOTFOUND)
        return 0;
    if (rc) {
        if (err)
            *err = e2;
        return rc;
    }
    const qx_seg *s = qx_seg_of_article(w->base, a);
    if (qgrow((void **)&k->repl, &k->cap_repl, k->nrepl, sizeof *k->repl))
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    k->repl[k->nrepl++] = (uint64_t)(s - w->base->seg) << 32 | (a - s->art_base);
    k->replaced++;
    return 0;
}

/* Analyzes and adds the documents of a raw batch (or one document). */
static int add_docs(worker *k, const raw_batch *rb, quarry_error *err)
{
    quarry_writer *w = k->w;
    unsigned target = w->opt.passages ? w->opt.passage_tokens : 0;
    const char *bytes = (const char *)rb->bytes.p;
    int rc = 0;
    for (size_t i = 0; i < rb->n && !rc; i++) {
        const raw_doc *d = &rb->docs[i];
        if ((rc = need_segment(k, rb->seq, err)))
            break;
        qb_reset(&k->b);
        if ((rc = qb_add(&k->b, k->an, target, bytes + d->id, d->id_len, bytes + d->title, d->title_len,
                         bytes + d->text, d->text_len, bytes + d->date, d->date_len, w->files[d->file], d->line,
                         err)))
            break;
        const qb_doc *bd = &k->b.docs[0];
        if ((rc = qsw_add(k->sw, &k->b, bd, d->file, (const char *const *)w->files, err)))
            break;
        if ((rc = note_replaced(k, bytes + d->id, err)))
            break;
        k->invalid_utf8 += d->invalid_utf8;
        k->bytes_in += d->text_len + d->title_len;
        if (bd->empty)
            k->empty++;
        else {
            k->articles++;
            k->passages += bd->nsp;
            k->tokens += bd->ntitle * bd->nsp + (k->b.starts[bd->st0 + bd->nsp] - k->b.starts[bd->st0]);
        }
        if (qsw_full(k->sw))
            rc = finish_segment(k, 0, err);
    }
    return rc;
}

/* ------------------------------------------------------------ the pipeline */

static void *work(void *arg)
{
    worker *k = arg;
    quarry_writer *w = k->w;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (k->qn == 0 && !k->end && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop || (k->qn == 0 && k->end)) {
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        raw_batch *rb = &k->q[k->qhead];
        pthread_mutex_unlock(&w->mu);
        int rc = add_docs(k, rb, &k->err);
        pthread_mutex_lock(&w->mu);
        k->qhead = (k->qhead + 1) % QUEUE;
        k->qn--;
        if (rc) {
            k->rc = rc;
            w->stop = 1;
        }
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        if (rc)
            return NULL;
    }
}

/* The reading side: fills raw batches and hands them round-robin. */
static int feed(quarry_writer *w, qr_reader *rd, quarry_error *err)
{
    raw_batch *cur = NULL;
    worker *to = NULL;
    int rc = 0;
    for (;;) {
        qr_doc d;
        int r = qr_next(rd, &d, err);
        if (r < 0) {
            rc = -r;
            break;
        }
        if (r == 0)
            break;
        if (!cur) {   /* a free slot of the next worker's queue */
            to = &w->wk[w->batch_seq % w->nworkers];
            pthread_mutex_lock(&w->mu);
            while (to->qn == QUEUE && !w->stop)
                pthread_cond_wait(&w->cv, &w->mu);
            int stop = w->stop;
            pthread_mutex_unlock(&w->mu);
            if (stop)
                break;
            cur = &to->q[(to->qhead + to->qn) % QUEUE];
            raw_reset(cur);
            cur->seq = w->batch_seq++;
        }
        uint32_t fi = file_index(w, d.file);
        if (fi == UINT32_MAX || qgrow((void **)&cur->docs, &cur->cap, cur->n, sizeof *cur->docs)) {
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
            break;
        }
        raw_doc *x = &cur->docs[cur->n++];
        x->id = cur->bytes.len;
        qbuf_append(&cur->bytes, d.id, d.id_len);
        qbuf_putc(&cur->bytes, 0);
        x->title = cur->bytes.len;
        qbuf_append(&cur->bytes, d.title, d.title_len);
        x->text = cur->bytes.len;
        qbuf_append(&cur->bytes, d.text, d.text_len);
        x->date = cur->bytes.len;
        qbuf_append(&cur->bytes, d.date, d.date_len);
        x->id_len = d.id_len;
        x->title_len = d.title_len;
        x->text_len = d.text_len;
        x->date_len = d.date_len;
        x->file = fi;
        x->line = d.line;
        x->invalid_utf8 = d.invalid_utf8;
        if (cur->bytes.oom) {
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
            break;
        }
        if (cur->bytes.len >= w->batch_bytes) {   /* hand it over */
            cur->bytes_done = qr_bytes_done(rd);
            pthread_mutex_lock(&w->mu);
            to->qn++;
            pthread_cond_broadcast(&w->cv);
            pthread_mutex_unlock(&w->mu);
            cur = NULL;
            if (w->opt.progress) {
                quarry_progress p = { 0 };
                for (unsigned i = 0; i < w->nworkers; i++) {
                    p.articles += w->wk[i].articles;   /* (a racy but harmless snapshot) */
                    p.passages += w->wk[i].passages;
                }
                p.bytes_done = qr_bytes_done(rd);
                p.bytes_total = qr_bytes_total(rd);
                p.bytes_in = qr_bytes_read(rd);
                w->opt.progress(&p, w->opt.progress_ctx);
            }
        }
    }
    if (cur && !rc) {   /* the last, partial batch */
        pthread_mutex_lock(&w->mu);
        to->qn++;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    return rc;
}

int quarry_writer_add_paths(quarry_writer *w, const char *const *paths, size_t npaths, quarry_error *err)
{
    if (w->failed || w->committed)
        return qerr_set(err, QUARRY_EINVAL, "this writer cannot take more documents (a failed addition, or committed)");
    qr_reader *rd;
    int rc = qr_open(paths, npaths, &rd, err);
    if (rc)
        return rc;
    qr_set_max_doc(rd, w->max_doc);
    w->stop = 0;
    unsigned started = 0;
    for (unsigned i = 0; i < w->nworkers; i++) {
        worker *k = &w->wk[i];
        k->end = 0;
        k->rc = 0;
        if (pthread_create(&k->th, NULL, work, k) != 0) {
            rc = qerr_set(err, QUARRY_ENOMEM, "cannot start an indexing thread");
            break;
        }
        started++;
    }
    if (!rc)
        rc = feed(w, rd, err);
    pthread_mutex_lock(&w->mu);
    if (rc)
        w->stop = 1;
    for (unsigned i = 0; i < w->nworkers; i++)
        w->wk[i].end = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(w->wk[i].th, NULL);
    for (unsigned i = 0; i < w->nworkers && !rc; i++)   /* the first failure by worker */
        if (w->wk[i].rc) {
            rc = w->wk[i].rc;
            if (err)
                *err = w->wk[i].err;
        }
    qr_close(rd);
    if (rc)
        w->failed = 1;
    return rc;
}

int quarry_writer_add(quarry_writer *w, const char *id, const char *title, const char *text, size_t text_len,
                      const char *date, const char *where, quarry_error *err)
{
    if (!id || !text)
        return qerr_set(err, QUARRY_EINVAL, "quarry_writer_add: id and text are required");
    if (w->failed || w->committed)
        return qerr_set(err, QUARRY_EINVAL, "this writer cannot take more documents (a failed addition, or committed)");
    if (text_len > w->max_doc)
        return qerr_set(err, QUARRY_ELIMIT, "%s: the article is %zu bytes, more than the limit of %zu (an eighth of the memory budget)",
                        where ? where : "(api)", text_len, w->max_doc);
    raw_batch rb;
    memset(&rb, 0, sizeof rb);
    qbuf_init(&rb.bytes);
    rb.seq = w->batch_seq;   /* documents added one by one join worker 0's current segment */
    raw_doc x = { 0 };
    qbuf idb, ti, tx, da;
    qbuf_init(&idb);
    qbuf_init(&ti);
    qbuf_init(&tx);
    qbuf_init(&da);
    x.invalid_utf8 = qa_utf8_clean(id, strlen(id), &idb) + qa_utf8_clean(title ? title : "", title ? strlen(title) : 0, &ti) +
                     qa_utf8_clean(text, text_len, &tx) + qa_utf8_clean(date ? date : "", date ? strlen(date) : 0, &da);
    x.id = 0;
    qbuf_append(&rb.bytes, idb.p, idb.len);
    qbuf_putc(&rb.bytes, 0);
    x.id_len = idb.len;
    x.title = rb.bytes.len;
    qbuf_append(&rb.bytes, ti.p, ti.len);
    x.title_len = ti.len;
    x.text = rb.bytes.len;
    qbuf_append(&rb.bytes, tx.p, tx.len);
    x.text_len = tx.len;
    x.date = rb.bytes.len;
    qbuf_append(&rb.bytes, da.p, da.len);
    x.date_len = da.len;
    x.file = file_index(w, where ? where : "(api)");
    rb.docs = &x;
    rb.n = 1;
    int rc;
    if (idb.oom || ti.oom || tx.oom || da.oom || rb.bytes.oom || x.file == UINT32_MAX)
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    else {
        /* a rejected document (a duplicate id) leaves the writer usable: the
         * id is checked before anything is stored */
        rc = add_docs(&w->wk[0], &rb, err);
        if (rc && rc != QUARRY_EINPUT)
            w->failed = 1;
    }
    qbuf_free(&idb);
    qbuf_free(&ti);
    qbuf_free(&tx);
    qbuf_free(&da);
    qbuf_free(&rb.bytes);
    return rc;
}

int quarry_writer_delete(quarry_writer *w, const char *id, quarry_error *err)
{
    if (!w->base)
        return qerr_set(err, QUARRY_EINVAL, "deleting needs a writer that adds to an index");
    uint32_t a;
    int rc = quarry_article_find(w->base, id, &a, err);
    if (rc == QUARRY_ENOTFOUND) {
        w->sum.not_found++;
        return rc;
    }
    if (rc)
        return rc;
    const qx_seg *s = qx_seg_of_article(w->base, a);
    if (qgrow((void **)&w->dels, &w->cap_dels, w->ndels, sizeof *w->dels))
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    w->dels[w->ndels++] = (uint64_t)(s - w->base->seg) << 32 | (a - s->art_base);
    return 0;
}

void quarry_writer_summary(const quarry_writer *w, quarry_index_summary *s)
{
    *s = w->sum;
    if (w->committed)
        return;
    for (unsigned i = 0; i < w->nworkers; i++) {   /* before the commit: so far */
        s->articles += w->wk[i].articles;
        s->passages += w->wk[i].passages;
    }
}

/* ------------------------------------------------------------ commit */

/* The sorted ids of a new segment, walked in order (its arts file mapped). */
typedef struct idwalk {
    qf_map arts, origins;
    const uint8_t *offs, *order;
    uint64_t n, i;
    const char *id;
    uint32_t len;
    uint32_t art;
} idwalk;

static int walk_next(idwalk *x)
{
    if (x->i >= x->n) {
        x->id = NULL;
        return 0;
    }
    x->art = qload_u32(x->order + 4 * x->i++);
    uint64_t off = qload_u64(x->offs + 8 * (uint64_t)x->art);
    qcur c = qcur_make(x->arts.base + off, x->arts.size - off);
    qcur_u32(&c);
    qcur_u32(&c);
    uint64_t l = qcur_varint(&c);
    const uint8_t *p = qcur_bytes(&c, l);
    if (!p)
        return -1;
    x->id = (const char *)p;
    x->len = (uint32_t)l;
    return 1;
}

static int cmp_id(const char *a, uint32_t la, const char *b, uint32_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

typedef struct empty_id {
    const char *id;
    uint32_t len, file;
    uint64_t line;
} empty_id;

static int cmp_empty(const void *a, const void *b)
{
    const empty_id *x = a, *y = b;
    return cmp_id(x->id, x->len, y->id, y->len);
}

/* The origin of article `art` (or of an empty one) for a message. */
static void origin(const quarry_writer *w, const idwalk *x, uint32_t art, char *out, size_t n)
{
    const uint8_t *p = x->origins.base + 8 + 12 * (uint64_t)art;
    uint32_t f = qload_u32(p);
    uint64_t line = qload_u64(p + 4);
    const char *name = f < w->nfiles ? w->files[f] : "?";
    if (line)
        snprintf(out, n, "%s:%llu", name, (unsigned long long)line);
    else
        snprintf(out, n, "%s", name);
}

/* Ids must be unique across the run: a merge of the new segments' sorted
 * ids and the skipped empty ones. */
static int check_ids(quarry_writer *w, quarry_error *err)
{
    size_t n = w->nsegs;
    idwalk *x = calloc(n ? n : 1, sizeof *x);
    empty_id *e = NULL;
    size_t ne = 0, cap_e = 0;
    int rc = 0;
    if (!x)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        qsw_result *r = &w->segs[i].r;
        if ((rc = qf_map_raw(&x[i].origins, w->dir, r->origins, err)))
            break;
        /* the empties: u64 count at the end of the articles part */
        const uint8_t *p = x[i].origins.base, *end = p + x[i].origins.size;
        uint64_t na = qload_u64(p), nemp;
        p += 8 + 12 * na;
        nemp = qload_u64(p);
        p += 8;
        for (uint64_t k = 0; k < nemp; k++) {
            if (qgrow((void **)&e, &cap_e, ne, sizeof *e)) {
                rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
                break;
            }
            e[ne].file = qload_u32(p);
            e[ne].line = qload_u64(p + 4);
            e[ne].len = qload_u32(p + 12);
            e[ne].id = (const char *)p + 16;
            p += 16 + e[ne].len;
            if (p > end) {
                rc = qerr_set(err, QUARRY_EIO, "%s/%s: damaged", w->dir, r->origins);
                break;
            }
            ne++;
        }
        if (rc || r->seg.nfiles == 0)
            continue;
        if ((rc = qf_map_open(&x[i].arts, w->dir, r->seg.files[5].name, QF_ARTS, 0, err)))
            break;
        const uint8_t *t = x[i].arts.body + x[i].arts.body_len - 40;
        x[i].n = qload_u64(t);
        x[i].offs = x[i].arts.base + qload_u64(t + 8);
        x[i].order = x[i].arts.base + qload_u64(t + 16);
        if (walk_next(&x[i]) < 0)
            rc = qerr_set(err, QUARRY_EIO, "%s/%s: damaged", w->dir, r->seg.files[5].name);
    }
    if (!rc)
        qsort(e, ne, sizeof *e, cmp_empty);
    /* merge: the smallest id of the segments and of the empties; equal neighbours are duplicates */
    size_t ei = 0;
    const char *prev = NULL;
    uint32_t prev_len = 0;
    char prev_at[4200] = "";
    uint64_t since = 0;
    while (!rc) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (x[i].id && (best == n || cmp_id(x[i].id, x[i].len, x[best].id, x[best].len) < 0))
                best = i;
        const char *id;
        uint32_t len;
        char at[4200];
        if (ei < ne && (best == n || cmp_id(e[ei].id, e[ei].len, x[best].id, x[best].len) <= 0)) {
            id = e[ei].id;
            len = e[ei].len;
            const char *name = e[ei].file < w->nfiles ? w->files[e[ei].file] : "?";
            if (e[ei].line)
                snprintf(at, sizeof at, "%s:%llu", name, (unsigned long long)e[ei].line);
            else
                snprintf(at, sizeof at, "%s", name);
            ei++;
        } else if (best < n) {
            id = x[best].id;
            len = x[best].len;
            origin(w, &x[best], x[best].art, at, sizeof at);
            if (walk_next(&x[best]) < 0)
                rc = qerr_set(err, QUARRY_EIO, "%s: a new segment's articles are damaged", w->dir);
        } else
            break;
        if (prev && cmp_id(prev, prev_len, id, len) == 0) {
            rc = qerr_set(err, QUARRY_EINPUT, "%s: duplicate id \"%.*s\" (first seen at %s); ids must be unique",
                          at, (int)(len > 200 ? 200 : len), id, prev_at);
            break;
        }
        prev = id;
        prev_len = len;
        snprintf(prev_at, sizeof prev_at, "%s", at);
        if (++since % (1u << 20) == 0)   /* bounded memory: drop the pages read so far */
            for (size_t i = 0; i < n; i++) {
                qf_map_release(&x[i].arts);
                qf_map_release(&x[i].origins);
            }
    }
    for (size_t i = 0; i < n; i++) {
        qf_map_close(&x[i].arts);
        qf_map_close(&x[i].origins);
    }
    free(x);
    free(e);
    return rc;
}

static int cmp_seg(const void *a, const void *b)
{
    const seginfo *x = a, *y = b;
    return (x->r.seg.id > y->r.seg.id) - (x->r.seg.id < y->r.seg.id);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The deletions of the index being added to: replaced and deleted articles.
 * Fills m's entries for the segments they touch (a new deletions file of
 * generation w->gen each). */
static int write_deletions(quarry_writer *w, qm_manifest *m, quarry_error *err)
{
    size_t n = w->ndels;
    for (unsigned i = 0; i < w->nworkers; i++)
        n += w->wk[i].nrepl;
    if (!n)
        return 0;
    uint64_t *all = malloc(n * sizeof *all);
    if (!all)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < w->ndels; i++)
        all[k++] = w->dels[i];
    for (unsigned i = 0; i < w->nworkers; i++)
        for (size_t j = 0; j < w->wk[i].nrepl; j++)
            all[k++] = w->wk[i].repl[j];
    qsort(all, n, sizeof *all, cmp_u64);
    int rc = 0;
    for (size_t i = 0; i < n && !rc;) {
        size_t si = (size_t)(all[i] >> 32), j = i;
        const qx_seg *s = &w->base->seg[si];
        qdl_set d;
        if ((rc = qdl_load(&d, s, err)))
            break;
        for (; j < n && (all[j] >> 32) == si && !rc; j++)
            if (j == i || all[j] != all[j - 1])
                rc = qdl_delete_article(&d, w->base, s, (uint32_t)all[j], w->an, err);
        if (!rc) {
            qm_segment *g = &m->seg[si];
            rc = qdl_write(&d, w->dir, g->id, w->gen, &g->files[QM_SEG_FILES], err);
            if (!rc) {
                g->delgen = w->gen;
                g->nfiles = QM_SEG_FILES + 1;
            }
        }
        qdl_free(&d);
        i = j;
    }
    free(all);
    return rc;
}

int quarry_writer_commit(quarry_writer *w, quarry_error *err)
{
    if (w->committed)
        return qerr_set(err, QUARRY_EINVAL, "index already committed");
    if (w->failed)
        return qerr_set(err, QUARRY_EINVAL, "cannot commit after a failed addition; close the writer");
    int rc = 0;
    for (unsigned i = 0; i < w->nworkers && !rc; i++)
        if (qsw_active(w->wk[i].sw))
            rc = finish_segment(&w->wk[i], 0, err);
    for (unsigned i = 0; i < w->nworkers; i++) {
        const worker *k = &w->wk[i];
        w->sum.articles += k->articles;
        w->sum.passages += k->passages;
        w->sum.tokens += k->tokens;
        w->sum.empty_skipped += k->empty;
        w->sum.invalid_utf8 += k->invalid_utf8;
        w->sum.bytes_in += k->bytes_in;
        w->sum.replaced += k->replaced;
    }
    if (rc)
        goto fail;
    qsort(w->segs, w->nsegs, sizeof *w->segs, cmp_seg);
    if ((rc = check_ids(w, err)))
        goto fail;
    qsort(w->dels, w->ndels, sizeof *w->dels, cmp_u64);   /* the same id twice counts once */
    for (size_t i = 0; i < w->ndels; i++)
        w->sum.deleted += i == 0 || w->dels[i] != w->dels[i - 1];
    /* the new manifest: (the index added to, with its deletions, then) the new segments */
    qm_manifest m;
    memset(&m, 0, sizeof m);
    size_t keep = w->base ? w->prev.nseg : 0, nnew = 0;
    for (size_t i = 0; i < w->nsegs; i++)
        nnew += w->segs[i].r.seg.nfiles > 0;
    if (!w->base && nnew == 0 && !w->opt.allow_empty) {
        rc = qerr_set(err, QUARRY_EINPUT,
                      "%s: the input holds no article to index; nothing was committed (--allow-empty commits an empty index)",
                      w->dir);
        goto fail;
    }
    if (!w->base && nnew == 0) {   /* asked for: an index of no article (its settings are kept) */
        if ((rc = need_segment(&w->wk[0], w->batch_seq, err)) || (rc = finish_segment(&w->wk[0], 1, err)))
            goto fail;
        nnew = 1;
    }
    if (w->base && nnew == 0 && w->ndels == 0) {   /* nothing to do */
        w->committed = 1;
        return 0;
    }
    m.generation = w->gen;
    m.next_segment = w->seg_base;
    m.seg = calloc(keep + nnew + 1, sizeof *m.seg);
    if (!m.seg) {
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < keep; i++)
        m.seg[m.nseg++] = w->prev.seg[i];
    if ((rc = write_deletions(w, &m, err))) {
        qm_free(&m);
        goto fail;
    }
    for (size_t i = 0; i < w->nsegs; i++) {
        const qsw_result *r = &w->segs[i].r;
        if (r->seg.nfiles == 0)
            continue;
        m.seg[m.nseg++] = r->seg;
        if (r->seg.id >= m.next_segment)
            m.next_segment = r->seg.id + 1;
        w->sum.terms += r->terms;
        w->sum.postings += r->postings;
        w->sum.segments++;
        for (size_t k = 0; k < r->seg.nfiles; k++)
            w->sum.bytes_flushed += r->seg.files[k].size;
    }
    rc = qm_write(w->dir, &m, err);
    if (!rc) {
        w->committed = 1;
        remove_origins(w);
        w->nsegs = 0;
        qm_cleanup(w->dir, &m);
    }
    qm_free(&m);
    if (rc)
        goto fail;
    /* merges, each a commit of its own */
    quarry_close(w->base);
    w->base = NULL;
    if (w->opt.merge)
        return qsm_run_policy(w->dir, w->budget, &w->sum, err);
    return 0;
fail:
    w->failed = 1;
    return rc;
}

int quarry_optimize(const char *dir, unsigned mem_mb, quarry_index_summary *s, quarry_error *err)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    if (mem_mb)
        o.mem_mb = mem_mb;
    o.add = 1;
    o.threads = 1;
    quarry_writer *w;
    int rc = quarry_writer_open(dir, &o, &w, err);   /* for the lock */
    if (rc)
        return rc;
    quarry_close(w->base);
    w->base = NULL;
    rc = qsm_optimize(dir, w->budget, &w->sum, err);
    if (!rc) {
        w->committed = 1;
        if (s)
            *s = w->sum;
    }
    quarry_writer_close(w);
    return rc;
}
