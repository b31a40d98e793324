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
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "index/docs.h"
#include "index/invert.h"
#include "index/manifest.h"
#include "index/postw.h"
#include "passage/passage.h"
#include "read/read.h"

typedef struct tok {
    uint32_t off, len;   /* term bytes in the article's term arena */
    uint32_t pos;
    uint32_t id;         /* title tokens: the inverter's term id */
} tok;

struct quarry_writer {
    char *dir;
    int lock_fd;
    uint32_t gen;
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
    uint64_t *art_off;
    uint32_t narts, cap_arts;
    /* id table: open addressing over ids stored in `ids` */
    qbuf ids;                 /* per id: u32 len, bytes, u32 file index, u64 line */
    uint64_t *id_table;       /* (offset in ids) + 1, 0 empty */
    uint64_t id_mask;
    uint32_t *id_art;         /* article number -> offset in ids */
    char **files;             /* names of input files seen (for messages) */
    uint32_t nfiles;
    /* scratch */
    qbuf clean_text, clean_title, terms, rec;
    tok *toks;
    size_t ntoks, cap_toks;
    qp_spans spans;
    quarry_index_summary sum;
    uint64_t last_progress;
    uint64_t bytes_total, bytes_done_base;
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

static void remove_gen_files(quarry_writer *w)
{
    static const char *kinds[] = { QF_META, QF_DICT, QF_POST, QF_POSN, QF_UNIT, QF_ARTS, QF_TEXT };
    char name[64], path[4096];
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        qf_name(name, sizeof name, w->gen, kinds[i]);
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
        remove_gen_files(w);
    qr_close(w->rd);
    qi_close(w->inv);
    qa_close(w->an);
    free(w->unit_len);
    free(w->art_off);
    free(w->id_table);
    free(w->id_art);
    for (uint32_t i = 0; i < w->nfiles; i++)
        free(w->files[i]);
    free(w->files);
    qbuf_free(&w->ids);
    qbuf_free(&w->clean_text);
    qbuf_free(&w->clean_title);
    qbuf_free(&w->terms);
    qbuf_free(&w->rec);
    free(w->toks);
    qp_spans_free(&w->spans);
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
    qm_manifest m;
    quarry_error e2;
    rc = qm_read(dir, &m, &e2);
    if (rc == 0)
        w->gen = m.generation + 1;
    else if (rc == QUARRY_ENOTFOUND)
        w->gen = 1;
    else
        w->gen = 1;   /* a damaged manifest is replaced by this commit */
    if ((rc = qa_open(o->language, o->stemmer, o->stopwords, &w->an, err)))
        goto fail;
    /* three quarters of the budget go to the postings in memory; the rest
     * covers reading buffers, the text block, ids and per-unit arrays */
    w->budget = (size_t)o->mem_mb << 20;
    if ((rc = qi_open(dir, w->budget / 4 * 3 - (4u << 20), &w->inv, err)))
        goto fail;
    char name[64];
    qf_name(name, sizeof name, w->gen, QF_UNIT);
    if ((rc = qf_create(&w->unitf, dir, name, QF_UNIT, err)))
        goto fail;
    qf_name(name, sizeof name, w->gen, QF_ARTS);
    if ((rc = qf_create(&w->artsf, dir, name, QF_ARTS, err))) {
        qf_abort(&w->unitf);
        goto fail;
    }
    if ((rc = qd_text_open(&w->text, dir, w->gen, err))) {
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
    for (uint32_t a = 0; a < w->narts; a++) {
        uint32_t len;
        const uint8_t *s = id_at(w, w->id_art[a], &len);
        uint64_t h = qhash(s, len) & (ncap - 1);
        while (t[h])
            h = (h + 1) & (ncap - 1);
        t[h] = (uint64_t)w->id_art[a] + 1;
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
                  quarry_error *err)
{
    if (((uint64_t)w->narts + 1) * 2 > w->id_mask + 1 || !w->id_table)
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
        uint64_t *b = realloc(w->art_off, (size_t)nc * sizeof *b);
        if (!b)
            return qerr_set(err, QUARRY_ENOMEM, "out of memory");
        w->art_off = b;
        w->cap_arts = nc;
    }
    if (off > UINT32_MAX)
        return qerr_set(err, QUARRY_ELIMIT, "too many ids (more than 4 GiB of ids)");
    w->id_art[w->narts] = (uint32_t)off;
    w->id_table[h] = off + 1;
    return 0;
}

/* ------------------------------------------------------------ analysis */

typedef struct collect {
    quarry_writer *w;
} collect;

static int on_token(void *ctx, const qa_token *t)
{
    quarry_writer *w = ctx;
    if (w->ntoks == w->cap_toks) {
        size_t nc = w->cap_toks ? w->cap_toks * 2 : 4096;
        tok *p = realloc(w->toks, nc * sizeof *p);
        if (!p)
            return QUARRY_ENOMEM;
        w->toks = p;
        w->cap_toks = nc;
    }
    tok *k = &w->toks[w->ntoks++];
    k->off = (uint32_t)w->terms.len;
    k->len = t->len;
    k->pos = t->pos;
    if (qbuf_append(&w->terms, t->term, t->len))
        return QUARRY_ENOMEM;
    return 0;
}

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

static int add_clean(quarry_writer *w, const char *id, size_t id_len, const char *title, size_t title_len,
                     const char *text, size_t text_len, const char *date, size_t date_len,
                     const char *file, uint64_t line, quarry_error *err)
{
    char where[4200];
    where_str(where, sizeof where, file, line);
    if (id_len == 0)
        return qerr_set(err, QUARRY_EINPUT, "%s: empty id", where);
    if (id_len > 1024)
        return qerr_set(err, QUARRY_ELIMIT, "%s: id longer than 1024 bytes", where);
    if (text_len > UINT32_MAX / 2 || w->nunits > UINT32_MAX - 1000000)
        return qerr_set(err, QUARRY_ELIMIT, "%s: document or collection too large", where);
    w->sum.bytes_in += text_len + title_len;

    /* analyze the title once and every passage; tokens are buffered so an
     * article without any token can be counted and skipped */
    w->ntoks = 0;
    qbuf_reset(&w->terms);
    uint32_t body_pos = 0;
    int rc = qa_analyze(w->an, title, title_len, 0, on_token, w, &body_pos);
    if (rc)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    size_t ntitle = w->ntoks;
    if (ntitle)
        body_pos += QF_TITLE_GAP;
    else
        body_pos = 0;
    if (qp_split(text, text_len, w->opt.passages ? w->opt.passage_tokens : 0, &w->spans))
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    /* token index where each passage's tokens start */
    size_t nsp = w->spans.n;
    size_t *starts = malloc((nsp + 1) * sizeof *starts);
    if (!starts)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < nsp; i++) {
        starts[i] = w->ntoks;
        const qp_span *s = &w->spans.v[i];
        if ((rc = qa_analyze(w->an, text + s->start, s->end - s->start, body_pos, on_token, w, NULL))) {
            free(starts);
            return qerr_set(err, QUARRY_ENOMEM, "out of memory");
        }
    }
    starts[nsp] = w->ntoks;
    if (w->terms.oom) {
        free(starts);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    if (w->ntoks == 0) {
        free(starts);
        w->sum.empty_skipped++;
        return 0;
    }
    if ((rc = id_add(w, id, id_len, file, line, err))) {
        free(starts);
        return rc;
    }
    uint32_t art = w->narts;
    uint32_t first_unit = w->nunits;
    uint32_t epoch = UINT32_MAX;
    for (size_t i = 0; i < nsp; i++) {
        uint32_t unit = w->nunits;
        const qp_span *s = &w->spans.v[i];
        uint32_t len = (uint32_t)(ntitle + starts[i + 1] - starts[i]);
        /* title terms are looked up once per article (again after a spill) */
        if (ntitle && epoch != qi_epoch(w->inv)) {
            epoch = qi_epoch(w->inv);
            for (size_t k = 0; k < ntitle; k++) {
                tok *t = &w->toks[k];
                t->id = qi_term(w->inv, (const char *)w->terms.p + t->off, t->len);
            }
        }
        for (size_t k = 0; k < ntitle; k++) {
            const tok *t = &w->toks[k];
            if (qi_add_term(w->inv, unit, t->id, t->pos))
                goto oom;
        }
        for (size_t k = starts[i]; k < starts[i + 1]; k++) {
            const tok *t = &w->toks[k];
            if (qi_add(w->inv, unit, (const char *)w->terms.p + t->off, t->len, t->pos))
                goto oom;
        }
        if ((rc = qi_end_unit(w->inv, err))) {
            free(starts);
            return rc;
        }
        if (add_unit_len(w, len))
            goto oom;
        qf_put_u32(&w->unitf, len);
        qf_put_u32(&w->unitf, art);
        qf_put_u32(&w->unitf, ntitle ? body_pos : 0);
        if (qd_text_add(&w->text, text + s->start, s->end - s->start))
            goto oom;
        w->sum.tokens += len;
    }
    free(starts);
    /* article record */
    w->art_off[art] = w->artsf.off;
    qbuf *r = &w->rec;
    qbuf_reset(r);
    qbuf_put_u32(r, first_unit);
    qbuf_put_u32(r, (uint32_t)nsp);
    qbuf_put_varint(r, id_len);
    qbuf_append(r, id, id_len);
    qbuf_put_varint(r, title_len);
    qbuf_append(r, title, title_len);
    qbuf_put_varint(r, date_len);
    qbuf_append(r, date, date_len);
    if (qf_write_buf(&w->artsf, r))
        goto oom;
    w->narts++;
    w->sum.articles++;
    w->sum.passages += nsp;
    return 0;
oom:
    free(starts);
    return qerr_set(err, QUARRY_ENOMEM, "out of memory");
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
    qbuf idb, ti, da;
    qbuf_init(&idb);
    qbuf_init(&ti);
    qbuf_init(&da);
    qbuf_reset(&w->clean_text);
    size_t bad = qa_utf8_clean(text, text_len, &w->clean_text);
    bad += qa_utf8_clean(id, strlen(id), &idb);
    bad += qa_utf8_clean(title, strlen(title), &ti);
    bad += qa_utf8_clean(date, strlen(date), &da);
    w->sum.invalid_utf8 += bad;
    int rc;
    if (w->clean_text.oom || idb.oom || ti.oom || da.oom)
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
    else
        rc = add_clean(w, (const char *)idb.p, idb.len, (const char *)ti.p, ti.len,
                       (const char *)w->clean_text.p, w->clean_text.len, (const char *)da.p, da.len,
                       where, 0, err);
    qbuf_free(&idb);
    qbuf_free(&ti);
    qbuf_free(&da);
    return rc;
}

static void progress(quarry_writer *w, int force)
{
    if (!w->opt.progress || !w->rd || (!force && (w->sum.articles & 63)))
        return;
    uint64_t done = qr_bytes_done(w->rd);
    if (!force && done - w->last_progress < (64u << 10))
        return;
    w->last_progress = done;
    quarry_progress p = { w->sum.articles, w->sum.passages, done, qr_bytes_total(w->rd) };
    w->opt.progress(&p, w->opt.progress_ctx);
}

int quarry_writer_add_paths(quarry_writer *w, const char *const *paths, size_t npaths,
                            quarry_error *err)
{
    qr_close(w->rd);
    w->rd = NULL;
    int rc = qr_open(paths, npaths, &w->rd, err);
    if (rc)
        return rc;
    qr_doc d;
    for (;;) {
        int r = qr_next(w->rd, &d, err);
        if (r == 0)
            break;
        if (r < 0)
            return -r;
        w->sum.invalid_utf8 += d.invalid_utf8;
        if ((rc = add_clean(w, d.id, d.id_len, d.title, d.title_len, d.text, d.text_len, d.date,
                            d.date_len, d.file, d.line, err)))
            return rc;
        progress(w, 0);
    }
    progress(w, 1);
    return 0;
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
    qm_manifest m;
    memset(&m, 0, sizeof m);
    m.generation = w->gen;
#define ADD_FILE(kind, sz, cr)                                                   \
    do {                                                                         \
        qf_name(m.files[m.nfiles].name, sizeof m.files[0].name, w->gen, kind);   \
        m.files[m.nfiles].size = (sz);                                           \
        m.files[m.nfiles].crc = (cr);                                            \
        m.nfiles++;                                                              \
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
    ADD_FILE(QF_UNIT, size, crc);
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
    qf_put_u64(&w->artsf, w->narts);
    qf_put_u64(&w->artsf, offs_at);
    qf_put_u64(&w->artsf, order_at);
    rc = qf_finish(&w->artsf, &size, &crc, err);
    if (rc) {
        qd_text_abort(&w->text);
        w->files_open = 0;
        return rc;
    }
    ADD_FILE(QF_ARTS, size, crc);
    rc = qd_text_finish(&w->text, &size, &crc, err);
    w->files_open = 0;
    if (rc)
        return rc;
    ADD_FILE(QF_TEXT, size, crc);

    /* postings: spill what is in memory, merge the runs */
    if ((rc = qi_finish(w->inv, err)))
        return rc;
    w->sum.runs = qi_nruns(w->inv);
    qpw *pw;
    if ((rc = qpw_open(&pw, w->dir, w->gen, w->unit_len, w->nunits, err)))
        return rc;
    const char **runs = malloc((qi_nruns(w->inv) + 1) * sizeof *runs);
    if (!runs) {
        qpw_abort(pw);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < qi_nruns(w->inv); i++)
        runs[i] = qi_run_path(w->inv, i);
    rc = qm_merge(pw, runs, qi_nruns(w->inv), w->nunits, err);
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
    ADD_FILE(QF_DICT, pr.size[0], pr.crc[0]);
    ADD_FILE(QF_POST, pr.size[1], pr.crc[1]);
    ADD_FILE(QF_POSN, pr.size[2], pr.crc[2]);
    w->sum.terms = pr.terms;
    w->sum.postings = pr.postings;

    /* collection statistics and analyzer settings */
    qf_writer meta;
    char name[64];
    qf_name(name, sizeof name, w->gen, QF_META);
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
    ADD_FILE(QF_META, size, crc);
#undef ADD_FILE
    if ((rc = qm_write(w->dir, &m, err)))
        return rc;
    w->committed = 1;
    qm_cleanup(w->dir, w->gen);
    return 0;
}
