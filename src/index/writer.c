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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "base/sys.h"
#include "index/batch.h"
#include "index/deletes.h"
#include "index/manifest.h"
#include "index/reader.h"
#include "index/segmerge.h"
#include "index/segw.h"
#include "index/textw.h"
#include "read/read.h"

#define MAX_THREADS 64
#define QUEUE 2                 /* raw batches waiting per worker */
#define WORKER_MB 8u            /* the budget each indexing thread needs, at least */
#define WORKER_FIXED (4u << 20) /* what a thread holds besides its segment: the analyzer's term
                                   cache (3 MiB), a deflate stream, file buffers */

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
    int finishing;                  /* th finishes its last segment (commit) */
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
    uint64_t lookups;             /* ids looked up in the index added to */
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
    uint32_t nfiles;
    size_t cap_files;
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
        qsys_unlink(path);
    }
}

static void remove_segments(quarry_writer *w)
{
    char name[QM_NAME], path[4200];
    for (size_t i = 0; i < w->nsegs; i++) {
        const qm_segment *g = &w->segs[i].r.seg;
        for (size_t k = 0; k < g->nfiles; k++) {
            snprintf(path, sizeof path, "%s/%s", w->dir, g->files[k].name);
            qsys_unlink(path);
        }
    }
    (void)name;
}

/* The indexing threads' analyzers, buffers and segment writers (their
 * threads have ended): at close, or once committed, before the merges. */
static void free_workers(quarry_writer *w)
{
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
    w->wk = NULL;
}

void quarry_writer_close(quarry_writer *w)
{
    if (!w)
        return;
    free_workers(w);
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
        qsys_close(w->lock_fd);
    free(w->dir);
    free(w);
}

/* quarry writes only into a new or empty directory, or one holding an
 * index (a MANIFEST) or only names quarry makes (a first run that was
 * interrupted): never among someone else's files. */
static int check_dir(const char *dir, quarry_error *err)
{
    DIR *d = qsys_opendir(dir);
    if (!d)
        return errno == ENOTDIR ? qerr_set(err, QUARRY_EINVAL, "%s: not a directory (give -o a directory for the index)", dir)
                                : qerr_errno(err, "cannot read directory", dir);
    struct dirent *e;
    const char *foreign = NULL;
    char first[256] = "";
    int index = 0;
    while ((e = qsys_readdir(d))) {
        uint64_t seg;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (!strcmp(e->d_name, QF_MANIFEST))
            index = 1;
        else if (strcmp(e->d_name, "LOCK") && qm_classify(e->d_name, &seg) == QM_OTHER && !foreign) {
            snprintf(first, sizeof first, "%s", e->d_name);
            foreign = first;
        }
    }
    qsys_closedir(d);
    if (foreign && !index)
        return qerr_set(err, QUARRY_EINVAL,
                        "%s: the directory holds other files (%s) and no quarry index; quarry writes an index only "
                        "into a new or empty directory (choose another -o)", dir, foreign);
    return 0;
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
    quarry_writer *w = qcalloc(1, sizeof *w);
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
    if (!o->add && qsys_mkdir(dir, 0777) != 0 && errno != EEXIST) {
        rc = qerr_errno(err, "cannot create index directory", dir);
        goto fail;
    }
    if (!o->add && (rc = check_dir(dir, err)))
        goto fail;
    char path[4200];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    w->lock_fd = qsys_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lock_fd < 0) {
        rc = errno == ENOENT && o->add
                 ? qerr_set(err, QUARRY_ENOTFOUND, "%s: no index here to add to (build one with 'quarry index -o %s PATH...')", dir, dir)
                 : qerr_errno(err, "cannot create lock file", path);
        goto fail;
    }
    if (qsys_flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = qerr_set(err, QUARRY_EIO, "%s: another 'quarry index' is writing this index; wait for it to finish", dir);
        goto fail;
    }
    quarry_error e2;
    if (qm_read(dir, &w->prev, &e2) == 0) {
        w->have_prev = 1;
        qm_cleanup(dir, &w->prev);   /* files an earlier run left when it failed (the lock is ours) */
    }
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
    /* each thread needs WORKER_MB of the budget (its analyzer's cache, its
     * compressor, its buffers, and room for a segment): by default as many
     * threads as processors and the budget allow; asked for, or refused */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned fit = o->mem_mb / WORKER_MB ? o->mem_mb / WORKER_MB : 1;
    w->nworkers = o->threads ? o->threads : (cores > 0 ? (unsigned)(cores > MAX_THREADS ? MAX_THREADS : cores) : 1);
    if (!o->threads && w->nworkers > fit)
        w->nworkers = fit;
    if (w->nworkers > fit) {
        rc = qerr_set(err, QUARRY_EINVAL, "%u indexing threads need a memory budget of at least %u MB (%u MB each); "
                      "raise --mem or lower --threads", w->nworkers, w->nworkers * WORKER_MB, WORKER_MB);
        goto fail;
    }
    w->budget = (size_t)o->mem_mb << 20;
    w->max_doc = w->budget / 8;
    w->batch_bytes = w->budget / (8 * (w->nworkers + 1) * (QUEUE + 1));
    if (w->batch_bytes > (1u << 20))
        w->batch_bytes = 1u << 20;
    if (w->batch_bytes < (64u << 10))
        w->batch_bytes = 64u << 10;
    size_t fixed = (size_t)w->nworkers * ((QUEUE + 3) * w->batch_bytes + WORKER_FIXED) + (2u << 20);
    size_t per = w->budget > fixed ? (w->budget - fixed) / w->nworkers : 0;
    if (per < (1u << 20))
        per = 1u << 20;
    if (!(w->wk = qcalloc(w->nworkers, sizeof *w->wk))) {
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
    if (qgrow((void **)&w->files, &w->cap_files, w->nfiles, sizeof *w->files))
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
        qsys_unlink(path);
        for (size_t i = 0; i < r.seg.nfiles; i++) {
            snprintf(path, sizeof path, "%s/%s", w->dir, r.seg.files[i].name);
            qsys_unlink(path);
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
    if (++k->lookups % 1024 == 0)   /* each lookup reads a few pages of the index: bounded memory */
        for (size_t i = 0; i < w->base->nseg; i++)
            qx_seg_release(&w->base->seg[i]);
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
        if ((rc = qsw_add(k->sw, k->an, &k->b, bd, d->file, (const char *const *)w->files, err)))
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
    const char *ex;
    uint64_t special = qr_special(rd, &ex);
    if (special && !w->sum.special_skipped)
        snprintf(w->sum.special_example, sizeof w->sum.special_example, "%s", ex);
    w->sum.special_skipped += special;
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

/* A new segment's origins file, read in order: its ids, sorted. */
typedef struct idstream {
    FILE *f;
    const char *name;
    uint64_t left;        /* records not read yet */
    qbuf id;              /* the current record's id */
    uint32_t file;
    uint64_t line;
    int has;
} idstream;

/* The stream's next record; 0, or QUARRY_EIO when the file is damaged. */
static int stream_next(const quarry_writer *w, idstream *x, quarry_error *err)
{
    x->has = 0;
    if (x->left == 0)
        return 0;
    x->left--;
    uint8_t t[12];
    if (qsys_fread(t, 1, 4, x->f) != 4)
        goto bad;
    uint32_t len = qload_u32(t);
    qbuf_reset(&x->id);
    if (len > (1u << 24))
        goto bad;
    if (qbuf_reserve(&x->id, len))
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    if (qsys_fread(x->id.p, 1, len, x->f) != len || qsys_fread(t, 1, 12, x->f) != 12)
        goto bad;
    x->id.len = len;
    x->file = qload_u32(t);
    x->line = qload_u64(t + 4);
    x->has = 1;
    return 0;
bad: {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", w->dir, x->name);
        if (!feof(x->f))   /* a read error, not the end of the file */
            return qerr_errno(err, "cannot read", path);
        return qerr_set(err, QUARRY_EIO, "%s: a temporary file of this run is damaged (it ends early)", path);
    }
}

static int cmp_id(const qbuf *a, const qbuf *b)
{
    int c = memcmp(a->p, b->p, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* (id, stream) order: of equal ids, the earlier segment's (input order) first */
static int stream_less(const idstream *v, size_t a, size_t b)
{
    int c = cmp_id(&v[a].id, &v[b].id);
    return c ? c < 0 : a < b;
}

static void sift_down(const idstream *v, size_t *h, size_t n, size_t k)
{
    size_t x = h[k];
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= n)
            break;
        if (c + 1 < n && stream_less(v, h[c + 1], h[c]))
            c++;
        if (!stream_less(v, h[c], x))
            break;
        h[k] = h[c];
        k = c;
    }
    h[k] = x;
}

static void where(const quarry_writer *w, uint32_t file, uint64_t line, char *out, size_t n)
{
    qerr_where(out, n, file < w->nfiles ? w->files[file] : "?", line);
}

/* Ids must be unique across the run: a streaming merge of the segments'
 * sorted ids (origins files; memory: a read buffer per segment), in which
 * equal ids come out next to each other. */
static int check_ids(quarry_writer *w, quarry_error *err)
{
    size_t n = w->nsegs, nh = 0;
    idstream *v = qcalloc(n ? n : 1, sizeof *v);
    size_t *heap = qcalloc(n ? n : 1, sizeof *heap);
    int rc = 0;
    if (!v || !heap)
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        idstream *x = &v[i];
        x->name = w->segs[i].r.origins;
        qbuf_init(&x->id);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", w->dir, x->name);
        uint8_t t[8];
        if (!(x->f = qsys_fopen(path, "rb")))
            rc = qerr_errno(err, "cannot open", path);
        else if (qsys_fread(t, 1, 8, x->f) != 8)
            rc = qerr_set(err, QUARRY_EIO, "%s: a temporary file of this run is damaged or unreadable", path);
        else {
            x->left = qload_u64(t);
            if (!(rc = stream_next(w, x, err)) && x->has)
                heap[nh++] = i;
        }
    }
    for (size_t k = nh; k-- > 0 && !rc;)
        sift_down(v, heap, nh, k);
    qbuf prev;
    qbuf_init(&prev);
    uint32_t prev_file = 0;
    uint64_t prev_line = 0;
    int have_prev = 0;
    while (!rc && nh) {
        idstream *x = &v[heap[0]];
        if (have_prev && cmp_id(&prev, &x->id) == 0) {
            char at[4200], first[4200];
            where(w, x->file, x->line, at, sizeof at);
            where(w, prev_file, prev_line, first, sizeof first);
            rc = qerr_set(err, QUARRY_EINPUT, "%s: duplicate id \"%.*s\" (first seen at %s); ids must be unique",
                          at, (int)(x->id.len > 200 ? 200 : x->id.len), (const char *)x->id.p, first);
            break;
        }
        qbuf_reset(&prev);
        if (qbuf_append(&prev, x->id.p, x->id.len)) {
            rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
            break;
        }
        prev_file = x->file;
        prev_line = x->line;
        have_prev = 1;
        if ((rc = stream_next(w, x, err)))
            break;
        if (!x->has)
            heap[0] = heap[--nh];
        if (nh)
            sift_down(v, heap, nh, 0);
    }
    qbuf_free(&prev);
    for (size_t i = 0; v && i < n; i++) {
        if (v[i].f)
            qsys_fclose(v[i].f);
        qbuf_free(&v[i].id);
    }
    free(v);
    free(heap);
    return rc;
}

static int cmp_seg(const void *a, const void *b)
{
    const seginfo *x = a, *y = b;
    return (x->r.seg.id > y->r.seg.id) - (x->r.seg.id < y->r.seg.id);
}

/* The deletions of one segment, made by a thread of write_deletions. */
typedef struct deljob {
    const quarry_writer *w;
    size_t si;                /* the segment */
    uint64_t seg_id;          /* its id (in the manifest being made) */
    const uint64_t *v;        /* its entries of `all` (segment << 32 | article), sorted */
    size_t n;
    qm_file file;             /* its new deletions file */
    int rc;
    quarry_error err;
} deljob;

typedef struct delthread {
    deljob *jobs;
    size_t njobs, first, step;   /* jobs first, first + step, ... */
    qa_analyzer *an;
} delthread;

static void del_segment(deljob *j, qx_tcache *tc, qa_analyzer *an)
{
    const quarry_writer *w = j->w;
    const qx_seg *s = &w->base->seg[j->si];
    qdl_set d;
    if ((j->rc = qdl_load(&d, s, &j->err)))
        return;
    for (size_t k = 0, done = 0; k < j->n && !j->rc; k++)
        if (k == 0 || j->v[k] != j->v[k - 1]) {
            j->rc = qdl_delete_article(&d, tc, s, (uint32_t)j->v[k], an, &j->err);
            if (++done % 64 == 0)   /* their text blocks were read: bounded memory */
                qx_seg_release(s);
        }
    qx_seg_release(s);
    if (!j->rc)
        j->rc = qdl_write(&d, w->dir, j->seg_id, w->gen, &j->file, &j->err);
    qdl_free(&d);
}

static void *del_thread(void *arg)
{
    delthread *t = arg;
    /* a text cache of its own, with libdeflate's decompressor if memory allows */
    qx_tcache tc;
    qx_tcache_init(&tc);
    if ((tc.inf.st = qtw_inflater_new())) {
        tc.inf.run = qtw_inflate;
        tc.inf.free = qtw_inflater_free;
    }
    for (size_t i = t->first; i < t->njobs; i += t->step)
        del_segment(&t->jobs[i], &tc, t->an);
    qx_tcache_free(&tc);
    return NULL;
}

/* The deletions of the index being added to: replaced and deleted articles.
 * Fills m's entries for the segments they touch (a new deletions file of
 * generation w->gen each). The segments are done in parallel, on as many
 * threads as the writer has workers (their analyzers are free by now):
 * each reads back and analyzes the text of its segments' articles. */
static int write_deletions(quarry_writer *w, qm_manifest *m, quarry_error *err)
{
    size_t n = w->ndels;
    for (unsigned i = 0; i < w->nworkers; i++)
        n += w->wk[i].nrepl;
    if (!n)
        return 0;
    uint64_t *all = qmalloc(n * sizeof *all);
    deljob *jobs = qcalloc(n, sizeof *jobs);
    if (!all || !jobs) {
        free(all);
        free(jobs);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < w->ndels; i++)
        all[k++] = w->dels[i];
    for (unsigned i = 0; i < w->nworkers; i++)
        for (size_t j = 0; j < w->wk[i].nrepl; j++)
            all[k++] = w->wk[i].repl[j];
    qf_sort_u64(all, n);
    size_t njobs = 0;
    for (size_t i = 0; i < n;) {   /* a job per segment */
        size_t j = i;
        while (j < n && (all[j] >> 32) == (all[i] >> 32))
            j++;
        deljob *jb = &jobs[njobs++];   /* (zeroed: calloc) */
        jb->w = w;
        jb->si = (size_t)(all[i] >> 32);
        jb->seg_id = m->seg[jb->si].id;
        jb->v = all + i;
        jb->n = j - i;
        i = j;
    }
    size_t nt = w->nworkers < njobs ? w->nworkers : njobs;
    delthread th[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int live[MAX_THREADS] = { 0 };
    for (size_t t = 0; t < nt; t++)
        th[t] = (delthread){ jobs, njobs, t, nt, w->wk[t].an };
    for (size_t t = 1; t < nt; t++)
        live[t] = pthread_create(&tid[t], NULL, del_thread, &th[t]) == 0;
    del_thread(&th[0]);
    for (size_t t = 1; t < nt; t++)
        if (!live[t]) {   /* no thread for them: this one does their jobs, with its analyzer */
            th[t].an = w->wk[0].an;
            del_thread(&th[t]);
        }
    for (size_t t = 1; t < nt; t++)
        if (live[t])
            pthread_join(tid[t], NULL);
    int rc = 0;
    for (size_t i = 0; i < njobs && !rc; i++)   /* the first failure, in segment order */
        if ((rc = jobs[i].rc) && err)
            *err = jobs[i].err;
    for (size_t i = 0; i < njobs; i++) {
        if (rc) {   /* the deletions files the others wrote go too */
            if (!jobs[i].rc && jobs[i].file.name[0]) {
                char path[4200];
                snprintf(path, sizeof path, "%s/%s", w->dir, jobs[i].file.name);
                qsys_unlink(path);
            }
            continue;
        }
        qm_segment *g = &m->seg[jobs[i].si];
        g->files[QM_SEG_FILES] = jobs[i].file;
        g->delgen = w->gen;
        g->nfiles = QM_SEG_FILES + 1;
    }
    free(jobs);
    free(all);
    return rc;
}

/* A worker's last segment, on a thread of its own (commit). */
static void *finish_last(void *arg)
{
    worker *k = arg;
    k->rc = finish_segment(k, 0, &k->err);
    return NULL;
}

/* Finishes the workers' last segments in parallel, as segments that fill
 * during the run are (each within its worker's share of the budget): a
 * small run's time is mostly this. The first failure by worker. */
static int finish_last_segments(quarry_writer *w, quarry_error *err)
{
    for (unsigned i = 0; i < w->nworkers; i++) {
        worker *k = &w->wk[i];
        k->rc = 0;
        k->finishing = i > 0 && qsw_active(k->sw) && pthread_create(&k->th, NULL, finish_last, k) == 0;
    }
    for (unsigned i = 0; i < w->nworkers; i++) {   /* the first here, and any whose thread did not start */
        worker *k = &w->wk[i];
        if (!k->finishing && qsw_active(k->sw))
            k->rc = finish_segment(k, 0, &k->err);
    }
    int rc = 0;
    for (unsigned i = 0; i < w->nworkers; i++) {
        worker *k = &w->wk[i];
        if (k->finishing)
            pthread_join(k->th, NULL);
        k->finishing = 0;
        if (!rc && k->rc) {
            rc = k->rc;
            if (err)
                *err = k->err;
        }
    }
    return rc;
}

int quarry_writer_commit(quarry_writer *w, quarry_error *err)
{
    if (w->committed)
        return qerr_set(err, QUARRY_EINVAL, "index already committed");
    if (w->failed)
        return qerr_set(err, QUARRY_EINVAL, "cannot commit after a failed addition; close the writer");
    int rc = finish_last_segments(w, err);
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
    if (w->nsegs)
        qsort(w->segs, w->nsegs, sizeof *w->segs, cmp_seg);
    if ((rc = check_ids(w, err)))
        goto fail;
    if (w->ndels)
        qf_sort_u64(w->dels, w->ndels);   /* the same id twice counts once */
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
    m.seg = qcalloc(keep + nnew + 1, sizeof *m.seg);
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
    /* merges, each a commit of its own, in the memory the indexing used */
    quarry_close(w->base);
    w->base = NULL;
    free_workers(w);
    qsys_trim();
    qsm_opts mo = { w->budget, w->nworkers, 0, w->opt.optimize };
    return w->opt.merge || w->opt.optimize ? qsm_run_policy(w->dir, &mo, &w->sum, err) : 0;
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
    long cores = sysconf(_SC_NPROCESSORS_ONLN);   /* a thread of the merge per processor */
    qsm_opts mo = { w->budget, cores > 1 ? (unsigned)(cores > MAX_THREADS ? MAX_THREADS : cores) : 1, 0, 0 };
    rc = qsm_optimize(dir, &mo, &w->sum, err);
    if (!rc) {
        w->committed = 1;
        if (s)
            *s = w->sum;
    }
    quarry_writer_close(w);
    return rc;
}
