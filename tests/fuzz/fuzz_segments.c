/*
 * fuzz_segments.c — fuzz harness of the segment list and the deletion
 * files (src/index/manifest.c, deletes.c, reader.c, verify.c): an index of
 * several segments with deletions, whose MANIFEST segment list and .del
 * files are edited, checksums fixed up so that only the structural checks
 * can stand in the way.
 *
 * Once: an index of corpus/ and generated articles (one segment), then two
 * --add runs with merges off that update and delete some of them: three
 * segments, two with a deletions file. Its files are kept in memory.
 *
 * Each input is a list of edits (op byte % 8, then its arguments):
 *
 *   0 swap      i, j: segments i and j change places in the list
 *   1 drop      i: segment i leaves the list
 *   2 repeat    i: segment i is listed twice
 *   3 deletions i, j: segment i takes a copy of segment j's deletions file
 *               (j past the end: none, delgen 0)
 *   4 overwrite i, u32 offset, n, n bytes: in segment i's deletions file
 *   5 truncate  i, u32 offset
 *   6 integer   i, u32 offset, sel: a u32 or u64 edge value written there
 *   7 numbers   sel, value byte: the generation or next-segment line set
 *               to an edge value
 *
 * (i, j modulo the segments listed; offsets modulo the file's size, from
 * its end when bit 31 is set.) Then every deletions file gets its CRC
 * footer recomputed and the MANIFEST is written with the files' sizes and
 * footers and its own crc line. The index goes through quarry_verify,
 * quarry_open, searches of several shapes (article and passage hits, two
 * algorithms), lookups of every id and their texts. Every call returns OK
 * or an error code with a message; when quarry_verify accepts the index,
 * no call may fail (what verify passes, readers must read); when the
 * edits only reordered segments and verify accepts it, the index holds the
 * same live articles and every query the same scores as the original.
 */
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "fuzz.h"
#include "quarry.h"

#define SG_MAXSEG 8
#define SG_NFILES 7
#define SG_MAX_DEL (1u << 16)

typedef struct sg_blob { char name[64]; uint8_t *p; size_t len; } sg_blob;

typedef struct sg_seg {
    unsigned long long id, delgen;
    sg_blob files[SG_NFILES];   /* names and sizes as the original manifest lists them */
    char crc[SG_NFILES][9];
    sg_blob del;                /* len 0 and p NULL: none */
} sg_seg;

typedef struct sg_index {
    char dir[256];
    unsigned long long generation, next_segment;
    sg_seg seg[SG_MAXSEG];
    size_t nseg;
    /* the original's answers */
    uint64_t live;
    double scores[4][64];
    size_t nscores[4];
} sg_index;

static sg_index *sg_orig;   /* built once, read-only afterwards */
static char sg_work[256];

static const char *const sg_queries[4] = { "oil prices", "+the +of", "\"the road\"", "report -china" };

static uint8_t *sg_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)(n > 0 ? n : 0) + 1);   /* NUL-terminated: the MANIFEST is read as text */
    FUZZ_CHECK(p && fread(p, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
    p[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void sg_write(const char *dir, const char *name, const uint8_t *p, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f && fwrite(p, 1, len, f) == len && fclose(f) == 0, "cannot write %s", path);
}

static void sg_add_run(const char *dir, unsigned from, unsigned to, unsigned del_step)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.add = 1;
    o.merge = 0;
    o.mem_mb = 8;
    o.threads = 1;
    quarry_writer *w;
    quarry_error err;
    FUZZ_CHECK(quarry_writer_open(dir, &o, &w, &err) == 0, "quarry_writer_open: %s", err.msg);
    for (unsigned a = from; a < to; a++) {   /* updates of generated articles */
        char id[32], text[256];
        snprintf(id, sizeof id, "gen-%04u", a);
        snprintf(text, sizeof text, "Updated report %u on the road and the oil prices of china, version %u", a, to);
        FUZZ_CHECK(quarry_writer_add(w, id, "Update", text, strlen(text), NULL, "fuzz", &err) == 0, "add: %s",
                   err.msg);
    }
    for (unsigned a = 0; a < 60; a += del_step) {
        char id[32];
        snprintf(id, sizeof id, "gen-%04u", a);
        int rc = quarry_writer_delete(w, id, &err);
        FUZZ_CHECK(rc == 0 || rc == QUARRY_ENOTFOUND, "delete: %s", err.msg);
    }
    FUZZ_CHECK(quarry_writer_commit(w, &err) == 0, "commit: %s", err.msg);
    quarry_writer_close(w);
}

/* The scores of every hit of query q (k 64, passage hits), in order. */
static size_t sg_scores(quarry_index *ix, unsigned q, double *out, int strict)
{
    quarry_search_options so;
    quarry_search_options_init(&so);
    so.k = 64;
    so.passages = 1;
    quarry_results *r = NULL;
    quarry_error err;
    int rc = quarry_search(ix, sg_queries[q], &so, &r, &err);
    if (rc) {
        FUZZ_CHECK(!strict || rc == QUARRY_ENOTERMS, "search %s: %s", sg_queries[q], err.msg);
        fuzz_check_error(rc, &err, "quarry_search");
        return 0;
    }
    fuzz_check_results(ix, r, 64, 1, strict, 1);
    size_t n = r->n;
    for (size_t i = 0; i < n; i++)
        out[i] = r->hits[i].score;
    quarry_results_free(r);
    return n;
}

static void sg_cleanup(void)
{
    if (sg_orig) {
        for (size_t i = 0; i < sg_orig->nseg; i++) {
            for (int k = 0; k < SG_NFILES; k++)
                free(sg_orig->seg[i].files[k].p);
            free(sg_orig->seg[i].del.p);
        }
        fuzz_rmdir(sg_orig->dir);
        free(sg_orig);
        sg_orig = NULL;
    }
    if (sg_work[0])
        fuzz_rmdir(sg_work);
    sg_work[0] = 0;
}

static void sg_init(void)
{
    if (sg_orig)
        return;
    sg_index *x = calloc(1, sizeof *x);
    FUZZ_CHECK(x != NULL, "out of memory");
    fuzz_mkdtemp(x->dir, sizeof x->dir, "segments");
    fuzz_build_index(x->dir, 40, 60);
    sg_add_run(x->dir, 0, 12, 7);
    sg_add_run(x->dir, 30, 40, 5);
    char path[512];
    snprintf(path, sizeof path, "%s/MANIFEST", x->dir);
    size_t mlen;
    char *m = (char *)sg_read(path, &mlen);
    char *save = NULL;
    int k = -1;
    for (char *line = strtok_r(m, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        sg_seg *s = x->nseg ? &x->seg[x->nseg - 1] : NULL;
        char name[64], crc[9];
        unsigned long long size;
        if (sscanf(line, "generation %llx", &x->generation) == 1 || sscanf(line, "next-segment %llx", &x->next_segment) == 1)
            continue;
        if (strncmp(line, "segment ", 8) == 0) {
            FUZZ_CHECK(x->nseg < SG_MAXSEG, "too many segments");
            s = &x->seg[x->nseg++];
            FUZZ_CHECK(sscanf(line, "segment %llx delgen %llx", &s->id, &s->delgen) == 2, "manifest line %s", line);
            k = 0;
        } else if (sscanf(line, "file %63s %llu %8s", name, &size, crc) == 3) {
            FUZZ_CHECK(s != NULL, "a file before a segment");
            snprintf(path, sizeof path, "%s/%s", x->dir, name);
            size_t len;
            uint8_t *p = sg_read(path, &len);
            FUZZ_CHECK(len == size, "%s: size", name);
            if (strstr(name, ".del")) {
                snprintf(s->del.name, sizeof s->del.name, "%s", name);
                s->del.p = p;
                s->del.len = len;
            } else {
                FUZZ_CHECK(k >= 0 && k < SG_NFILES, "too many files");
                snprintf(s->files[k].name, sizeof s->files[k].name, "%s", name);
                s->files[k].p = p;
                s->files[k].len = len;
                snprintf(s->crc[k], sizeof s->crc[k], "%s", crc);
                k++;
            }
        }
    }
    free(m);
    FUZZ_CHECK(x->nseg == 3 && x->seg[0].del.len && x->seg[1].del.len, "the index has %zu segments", x->nseg);
    quarry_index *ix;
    quarry_error err;
    FUZZ_CHECK(quarry_open(x->dir, &ix, &err) == 0, "quarry_open: %s", err.msg);
    quarry_info in;
    quarry_info_get(ix, &in);
    x->live = in.live_articles;
    for (unsigned q = 0; q < 4; q++)
        x->nscores[q] = sg_scores(ix, q, x->scores[q], 1);
    quarry_close(ix);
    sg_orig = x;
    fuzz_mkdtemp(sg_work, sizeof sg_work, "segments-work");
    atexit(sg_cleanup);
}

typedef struct sg_in { const uint8_t *p, *end; } sg_in;

static unsigned sg_byte(sg_in *in) { return in->p < in->end ? *in->p++ : 0; }

static uint32_t sg_u32(sg_in *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)sg_byte(in) << (8 * i);
    return v;
}

static size_t sg_off(uint32_t off, size_t len)
{
    if (!len)
        return 0;
    size_t o = (off & 0x7fffffffu) % len;
    return (off & 0x80000000u) ? len - 1 - o : o;
}

static const uint64_t sg_edge[] = {
    0, 1, 2, 3, 7, 8, 63, 64, 255, 256, 0xffff, 0x7fffffff, 0x80000000u, 0xffffffffu,
    0x100000000ull, 0x7fffffffffffffffull, 0xffffffffffffffffull,
};
#define SG_NEDGE (sizeof sg_edge / sizeof sg_edge[0])

int fuzz_segments(const uint8_t *data, size_t size)
{
    sg_init();
    const sg_index *o = sg_orig;
    /* the edited list: segments refer to the original's files; deletions
     * files are copies that the edits change */
    sg_seg seg[SG_MAXSEG];
    size_t nseg = o->nseg;
    unsigned long long generation = o->generation, next_segment = o->next_segment;
    for (size_t i = 0; i < nseg; i++) {
        seg[i] = o->seg[i];
        seg[i].del.p = NULL;
        if (o->seg[i].del.len) {
            seg[i].del.p = malloc(o->seg[i].del.len);
            FUZZ_CHECK(seg[i].del.p != NULL, "out of memory");
            memcpy(seg[i].del.p, o->seg[i].del.p, o->seg[i].del.len);
        }
    }
    int only_order = 1;
    sg_in in = { data, data + size };
    for (unsigned edits = 0; in.p < in.end && edits < 32; edits++) {
        unsigned op = sg_byte(&in) % 8;
        size_t i = nseg ? sg_byte(&in) % nseg : 0;
        if (op != 0)
            only_order = 0;
        if (!nseg && op != 7)
            continue;
        switch (op) {
        case 0: {
            size_t j = sg_byte(&in) % nseg;
            sg_seg t = seg[i];
            seg[i] = seg[j];
            seg[j] = t;
            break;
        }
        case 1:
            free(seg[i].del.p);
            memmove(&seg[i], &seg[i + 1], (nseg - i - 1) * sizeof *seg);
            nseg--;
            break;
        case 2:
            if (nseg < SG_MAXSEG) {
                seg[nseg] = seg[i];
                seg[nseg].del.p = NULL;
                if (seg[i].del.len) {
                    seg[nseg].del.p = malloc(seg[i].del.len);
                    FUZZ_CHECK(seg[nseg].del.p != NULL, "out of memory");
                    memcpy(seg[nseg].del.p, seg[i].del.p, seg[i].del.len);
                }
                nseg++;
            }
            break;
        case 3: {
            size_t j = sg_byte(&in) % (nseg + 1);
            uint8_t *p = NULL;
            size_t len = j < nseg ? seg[j].del.len : 0;
            if (len) {
                p = malloc(len);
                FUZZ_CHECK(p != NULL, "out of memory");
                memcpy(p, seg[j].del.p, len);
            }
            free(seg[i].del.p);
            seg[i].del.p = p;
            seg[i].del.len = len;
            seg[i].delgen = len ? generation : 0;
            snprintf(seg[i].del.name, sizeof seg[i].del.name, "s%016llx-%016llx.del", seg[i].id, seg[i].delgen);
            break;
        }
        case 4: case 5: case 6: {
            sg_blob *d = &seg[i].del;
            size_t off = sg_off(sg_u32(&in), d->len);
            if (op == 4) {
                size_t n = sg_byte(&in);
                for (size_t k = 0; k < n; k++) {
                    unsigned b = sg_byte(&in);
                    if (off + k < d->len)
                        d->p[off + k] = (uint8_t)b;
                }
            } else if (op == 5) {
                d->len = off;
            } else {
                unsigned sel = sg_byte(&in);
                uint64_t v = sg_edge[(sel >> 1) % SG_NEDGE];
                size_t w = (sel & 1) ? 8 : 4;
                for (size_t k = 0; k < w && off + k < d->len; k++)
                    d->p[off + k] = (uint8_t)(v >> (8 * k));
            }
            break;
        }
        case 7: {
            unsigned sel = sg_byte(&in);
            uint64_t v = sg_edge[sg_byte(&in) % SG_NEDGE];
            if (sel & 1)
                generation = v;
            else
                next_segment = v;
            break;
        }
        }
    }
    /* write the edited index: the segment files, the deletions files with
     * their footers recomputed, the MANIFEST with its crc line */
    fuzz_rmdir(sg_work);
    FUZZ_CHECK(mkdir(sg_work, 0700) == 0, "mkdir %s", sg_work);
    size_t cap = 4096 + nseg * 1024, mlen = 0;
    char *m = malloc(cap);
    FUZZ_CHECK(m != NULL, "out of memory");
    mlen += (size_t)snprintf(m + mlen, cap - mlen, "quarry-manifest 2\ngeneration %016llx\nnext-segment %016llx\n",
                             generation, next_segment);
    for (size_t i = 0; i < nseg; i++) {
        sg_seg *s = &seg[i];
        mlen += (size_t)snprintf(m + mlen, cap - mlen, "segment %016llx delgen %016llx\n", s->id,
                                 s->del.len ? s->delgen : 0ull);
        for (int k = 0; k < SG_NFILES; k++) {
            sg_write(sg_work, s->files[k].name, s->files[k].p, s->files[k].len);
            mlen += (size_t)snprintf(m + mlen, cap - mlen, "file %s %zu %s\n", s->files[k].name, s->files[k].len,
                                     s->crc[k]);
        }
        if (s->del.len) {
            uint32_t footer = 0;
            if (s->del.len >= 4) {
                footer = (uint32_t)crc32(0L, s->del.p, (uInt)(s->del.len - 4));
                for (int b = 0; b < 4; b++)
                    s->del.p[s->del.len - 4 + b] = (uint8_t)(footer >> (8 * b));
            }
            sg_write(sg_work, s->del.name, s->del.p, s->del.len);
            mlen += (size_t)snprintf(m + mlen, cap - mlen, "file %s %zu %08lx\n", s->del.name, s->del.len,
                                     (unsigned long)footer);
        }
    }
    mlen += (size_t)snprintf(m + mlen, cap - mlen, "crc %08lx\n", (unsigned long)crc32(0L, (const Bytef *)m, (uInt)mlen));
    FUZZ_CHECK(mlen < cap, "manifest too long");
    sg_write(sg_work, "MANIFEST", (const uint8_t *)m, mlen);
    free(m);
    for (size_t i = 0; i < nseg; i++)
        free(seg[i].del.p);

    quarry_error err;
    int vrc = quarry_verify(sg_work, &err);
    if (vrc)
        fuzz_check_error(vrc, &err, "quarry_verify");
    int strict = vrc == 0;
    quarry_index *ix;
    int rc = quarry_open(sg_work, &ix, &err);
    FUZZ_CHECK(!strict || rc == 0, "verify accepts the index but quarry_open fails: %s", err.msg);
    if (rc) {
        fuzz_check_error(rc, &err, "quarry_open");
        return 0;
    }
    quarry_info info;
    quarry_info_get(ix, &info);
    FUZZ_CHECK(info.live_articles <= info.articles && info.live_passages <= info.passages,
               "%llu of %llu articles live, %llu of %llu passages", (unsigned long long)info.live_articles,
               (unsigned long long)info.articles, (unsigned long long)info.live_passages,
               (unsigned long long)info.passages);
    for (unsigned q = 0; q < 4; q++) {
        double sc[64];
        size_t n = sg_scores(ix, q, sc, strict);
        if (strict && only_order) {
            FUZZ_CHECK(n == o->nscores[q], "reordered segments: %zu hits for %s, %zu before", n, sg_queries[q],
                       o->nscores[q]);
            for (size_t h = 0; h < n; h++)
                FUZZ_CHECK(fabs(sc[h] - o->scores[q][h]) <= 1e-9 * (1 + fabs(sc[h])),
                           "reordered segments: hit %zu of %s scores %.17g, before %.17g", h, sg_queries[q], sc[h],
                           o->scores[q][h]);
        }
        quarry_search_options so;   /* article hits, the exhaustive algorithm */
        quarry_search_options_init(&so);
        so.k = 8;
        so.algorithm = QUARRY_ALGO_EXHAUSTIVE;
        quarry_results *r = NULL;
        rc = quarry_search(ix, sg_queries[q], &so, &r, &err);
        if (rc) {
            FUZZ_CHECK(!strict || rc == QUARRY_ENOTERMS, "search %s: %s", sg_queries[q], err.msg);
            fuzz_check_error(rc, &err, "quarry_search");
        } else {
            fuzz_check_results(ix, r, 8, 0, strict, 1);
            quarry_results_free(r);
        }
    }
    if (strict && only_order)
        FUZZ_CHECK(info.live_articles == o->live, "reordered segments: %llu live articles, %llu before",
                   (unsigned long long)info.live_articles, (unsigned long long)o->live);
    uint64_t found = 0;
    for (unsigned a = 0; a < 60; a++) {
        char id[32];
        snprintf(id, sizeof id, "gen-%04u", a);
        uint32_t art;
        rc = quarry_article_find(ix, id, &art, &err);
        if (rc == QUARRY_ENOTFOUND)
            continue;
        FUZZ_CHECK(!strict || rc == 0, "quarry_article_find %s: %s", id, err.msg);
        if (rc) {
            fuzz_check_error(rc, &err, "quarry_article_find");
            continue;
        }
        found++;
        char *t;
        size_t len;
        rc = quarry_article_text(ix, art, &t, &len, &err);
        FUZZ_CHECK(!strict || rc == 0, "quarry_article_text %s: %s", id, err.msg);
        if (rc)
            fuzz_check_error(rc, &err, "quarry_article_text");
        else
            free(t);
    }
    FUZZ_CHECK(!strict || found <= info.live_articles, "verify accepts the index: %llu ids found, %llu live articles", (unsigned long long)found,
               (unsigned long long)info.live_articles);
    quarry_close(ix);
    return 0;
}
