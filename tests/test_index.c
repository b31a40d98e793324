/*
 * test_index.c — tests of the index writer and reader (src/index) against
 * an oracle: generated corpora (seeded PRNG) whose terms have df exactly
 * 0/1/127/128/129/255/256/257/300/1000/all, unit-id gaps (first and last
 * unit only), tf up to 300, long front-coded prefixes and 1- and 128-byte
 * terms; every term's df, cf, max_tf, min_len, postings and positions are
 * compared with the truth computed here (passages off and on), skips are
 * exercised with qx_advance, absent terms around every term must not be
 * found. Also: run merging (mem 8, several runs) gives the same bytes as one
 * run; determinism of every file; article lookup and text round trips;
 * replacing a generation under an open reader; abandoning a writer; the
 * writer lock; input errors; and damaged files whose checksums were
 * recomputed (so that only the decoders' bounds checks stand between the
 * damage and a crash: run under ASan / valgrind).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "quarry.h"
#include "index/manifest.h"
#include "index/reader.h"
#include "analyze/analyze_int.h"   /* the default stop list: the common words of pair terms */

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}
static uint32_t rndn(uint32_t n) { return n ? rnd() % n : 0; }

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}
static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    assert_non_null(q);
    return q;
}
static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    assert_non_null(p);
    return p;
}

#define CHECK_OK(call)                                                                     \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != 0) {                                                                    \
            print_error("%s:%d: %s -> %d: %s\n", __FILE__, __LINE__, #call, rc_, err.msg); \
            fail();                                                                        \
        }                                                                                  \
    } while (0)

static char tmproot[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmproot, "/tmp/quarry-test-index-XXXXXX");
    return mkdtemp(tmproot) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmproot, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmproot/name in a rotating static buffer */
static const char *tpath(const char *name)
{
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, 512, "%s/%s", tmproot, name);
    return b;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_error("cannot open %s\n", path);
        fail();
    }
    qbuf b;
    qbuf_init(&b);
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        qbuf_append(&b, tmp, n);
    fclose(f);
    assert_false(b.oom);
    *len = b.len;
    if (!b.p)
        return xmalloc(1);
    return b.p;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Sorted names of the entries of a directory (without . and ..). */
static size_t list_dir(const char *dir, char names[][64], size_t max)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    size_t n = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        assert_true(n < max);
        snprintf(names[n++], 64, "%.63s", e->d_name);
    }
    closedir(d);
    qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
}

/* The manifest of dir names generation `gen` with one segment, and every
 * entry of dir is MANIFEST, LOCK or one of that segment's 7 files. */
static void assert_only_generation(const char *dir, unsigned gen)
{
    quarry_error err = { 0 };
    qm_manifest m;
    CHECK_OK(qm_read(dir, &m, &err));
    assert_int_equal(m.generation, gen);
    assert_int_equal(m.nseg, 1);
    char names[64][64];
    size_t n = list_dir(dir, names, 64);
    size_t nseg = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(names[i], "MANIFEST") || !strcmp(names[i], "LOCK"))
            continue;
        int named = 0;
        for (size_t k = 0; k < m.seg[0].nfiles; k++)
            named |= !strcmp(names[i], m.seg[0].files[k].name);
        if (named) {
            nseg++;
            continue;
        }
        print_error("%s: unexpected entry %s (only generation %u should remain)\n", dir, names[i], gen);
        fail();
    }
    qm_free(&m);
    assert_int_equal(nseg, 7);
}

/* The name of file `kind` of the only segment of dir's index. */
static void seg_file(const char *dir, const char *kind, char *out, size_t n)
{
    quarry_error err = { 0 };
    qm_manifest m;
    CHECK_OK(qm_read(dir, &m, &err));
    assert_int_equal(m.nseg, 1);
    char name[QM_NAME];
    qm_seg_name(name, m.seg[0].id, kind);
    snprintf(out, n, "%s", name);
    qm_free(&m);
}

/* ------------------------------------------------------------ generated corpus */

typedef struct gdoc {
    char id[48];
    char *title;      /* NULL, "" or words */
    char date[16];
    char *text;
    size_t len;
    int empty;
} gdoc;

typedef struct spec {
    char name[160];
    long df;          /* wanted df; -1: every unit; -2: first and last unit; -3 first; -4 last */
    int big_tf;       /* one posting with tf 300 */
} spec;

typedef struct corpus {
    gdoc *d;
    size_t n, nonempty;
    spec *sp;
    size_t nsp;
    size_t bytes;
} corpus;

static const char *const seps[] = { " ", " ", " ", " ", ", ", ". ", "\n", " \xe2\x80\x94 ", "; ",
                                    "\n\n", " (", ") ", "  ", "\t", "! " };
#define NSEPS (sizeof seps / sizeof *seps)

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct bag {
    uint32_t *v;
    size_t n, cap;
} bag;

static void bag_push(bag *b, uint32_t x)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    b->v[b->n++] = x;
}

/* ndocs documents (three of them empty, in the middle), each with
 * fill_min..fill_max filler words from a skewed vocabulary of about nfill
 * words plus the special terms. */
static void gen_corpus(corpus *c, uint64_t seed, size_t ndocs, unsigned fill_min, unsigned fill_max,
                       size_t nfill)
{
    memset(c, 0, sizeof *c);
    rng_state = seed;
    /* filler vocabulary: 3..10 lowercase letters, never starting with 'k' */
    char **fill = xmalloc(nfill * sizeof *fill);
    for (size_t i = 0; i < nfill; i++) {
        size_t len = 3 + rndn(8);
        char *w = xmalloc(len + 1);
        char c0 = (char)('a' + rndn(25));
        if (c0 >= 'k')
            c0++;
        w[0] = c0;
        for (size_t k = 1; k < len; k++)
            w[k] = (char)('a' + rndn(26));
        w[len] = 0;
        fill[i] = w;
    }
    qsort(fill, nfill, sizeof *fill, cmp_str);
    size_t nf = 0;
    for (size_t i = 0; i < nfill; i++) {
        if (nf && !strcmp(fill[nf - 1], fill[i]))
            free(fill[i]);
        else
            fill[nf++] = fill[i];
    }
    /* shuffle the filler so that frequent words are spread over the alphabet */
    for (size_t i = nf; i > 1; i--) {
        size_t j = rndn((uint32_t)i);
        char *t = fill[i - 1];
        fill[i - 1] = fill[j];
        fill[j] = t;
    }

    /* special terms */
    c->sp = xmalloc(64 * sizeof *c->sp);
    static const struct { const char *name; long df; int big; } base_sp[] = {
        { "kzero", 0, 0 },    { "kone", 1, 0 },      { "konebig", 1, 1 },   { "kdfa", 127, 0 },
        { "kdfb", 128, 0 },   { "kdfc", 129, 1 },    { "kdfd", 255, 0 },    { "kdfe", 256, 0 },
        { "kdff", 257, 0 },   { "kdfg", 300, 1 },    { "kdfh", 1000, 0 },   { "kall", -1, 0 },
        { "kgapa", -2, 0 },   { "kgapb", -3, 0 },    { "kgapc", -4, 0 },    { "k", 3, 0 },
        { "kdfi", 1000, 1 },  { "kdfj", 2, 1 },
    };
    for (size_t i = 0; i < sizeof base_sp / sizeof *base_sp; i++) {
        spec *s = &c->sp[c->nsp++];
        snprintf(s->name, sizeof s->name, "%s", base_sp[i].name);
        s->df = base_sp[i].df;
        s->big_tf = base_sp[i].big;
    }
    for (int i = 0; i < 5; i++) {   /* long shared prefixes (front coding) */
        spec *s = &c->sp[c->nsp++];
        memset(s->name, 0, sizeof s->name);
        strcpy(s->name, "kp");
        memset(s->name + 2, 'x', 100);
        s->name[102] = (char)('a' + i);
        s->df = 2 + i;
        s->big_tf = 0;
    }
    {   /* a term of exactly 128 bytes (the analyzer's maximum) */
        spec *s = &c->sp[c->nsp++];
        memset(s->name, 0, sizeof s->name);
        s->name[0] = 'k';
        s->name[1] = 'l';
        memset(s->name + 2, 'y', 126);
        s->df = 4;
        s->big_tf = 0;
    }

    size_t M = ndocs - 3;
    c->n = ndocs;
    c->nonempty = M;
    c->d = calloc(ndocs, sizeof *c->d);
    assert_non_null(c->d);
    bag *bags = calloc(M, sizeof *bags);
    assert_non_null(bags);
    uint32_t *perm = xmalloc(M * sizeof *perm);
    for (size_t i = 0; i < M; i++)
        perm[i] = (uint32_t)i;
    /* term ids: specials 0..nsp-1, filler nsp.. */
    for (size_t s = 0; s < c->nsp; s++) {
        spec *p = &c->sp[s];
        if (p->df == -1)
            p->df = (long)M;
        if (p->df > (long)M)
            p->df = (long)M;
        uint32_t units[2];
        size_t nu = 0;
        if (p->df == -2) {
            units[0] = 0;
            units[1] = (uint32_t)M - 1;
            nu = 2;
        } else if (p->df == -3) {
            units[0] = 0;
            nu = 1;
        } else if (p->df == -4) {
            units[0] = (uint32_t)M - 1;
            nu = 1;
        }
        if (nu) {
            p->df = (long)nu;
            for (size_t k = 0; k < nu; k++)
                bag_push(&bags[units[k]], (uint32_t)s);
            continue;
        }
        for (long i = 0; i < p->df; i++) {
            size_t j = (size_t)i + rndn((uint32_t)(M - (size_t)i));
            uint32_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
            uint32_t tf = (p->big_tf && i == 0) ? 300 : 1 + rndn(3);
            for (uint32_t k = 0; k < tf; k++)
                bag_push(&bags[perm[i]], (uint32_t)s);
        }
    }
    free(perm);

    qbuf tb;
    qbuf_init(&tb);
    size_t empties[3] = { ndocs / 3, ndocs / 2, (2 * ndocs) / 3 };
    static const char *const empty_text[3] = { "", "   \n\t", " \xe2\x80\x94 \xe2\x80\xa6 , . " };
    size_t u = 0;
    for (size_t i = 0; i < ndocs; i++) {
        gdoc *d = &c->d[i];
        snprintf(d->id, sizeof d->id, "%08x-%zu", (unsigned)((uint32_t)i * 2654435761u), i);
        int ei = -1;
        for (int k = 0; k < 3; k++)
            if (empties[k] == i)
                ei = k;
        if (ei >= 0) {
            d->empty = 1;
            d->text = xstrdup(empty_text[ei]);
            d->len = strlen(d->text);
            continue;
        }
        assert_true(u < M);
        bag *b = &bags[u];
        unsigned nfw = fill_min + rndn(fill_max - fill_min + 1);
        for (unsigned k = 0; k < nfw; k++)
            bag_push(b, (uint32_t)(c->nsp + rndn(rndn((uint32_t)nf) + 1)));
        for (size_t k = b->n; k > 1; k--) {
            size_t j = rndn((uint32_t)k);
            uint32_t t = b->v[k - 1];
            b->v[k - 1] = b->v[j];
            b->v[j] = t;
        }
        qbuf_reset(&tb);
        if (rndn(4) == 0)
            qbuf_append(&tb, "\n ", 2);
        for (size_t k = 0; k < b->n; k++) {
            const char *w = b->v[k] < c->nsp ? c->sp[b->v[k]].name : fill[b->v[k] - c->nsp];
            qbuf_append(&tb, w, strlen(w));
            if (k + 1 < b->n) {
                const char *s = seps[rndn(NSEPS)];
                qbuf_append(&tb, s, strlen(s));
            } else if (rndn(2)) {
                qbuf_append(&tb, ".", 1);
            }
        }
        assert_false(tb.oom);
        d->text = xmalloc(tb.len + 1);
        memcpy(d->text, tb.p, tb.len);
        d->text[tb.len] = 0;
        d->len = tb.len;
        c->bytes += tb.len;
        switch (u % 5) {
        case 0: {
            unsigned nt = 1 + rndn(3);
            qbuf_reset(&tb);
            for (unsigned k = 0; k < nt; k++) {
                const char *w = fill[rndn((uint32_t)nf)];
                if (k)
                    qbuf_append(&tb, " ", 1);
                qbuf_append(&tb, w, strlen(w));
            }
            qbuf_putc(&tb, 0);
            d->title = xstrdup((const char *)tb.p);
            break;
        }
        case 1: d->title = xstrdup(""); break;
        case 2: d->title = xstrdup("\xe2\x80\x94 \xe2\x80\xa6"); break;
        default: d->title = NULL;
        }
        if (u % 3 == 0)
            snprintf(d->date, sizeof d->date, "2020-01-%02u", (unsigned)(1 + u % 28));
        free(b->v);
        u++;
    }
    assert_int_equal(u, M);
    qbuf_free(&tb);
    free(bags);
    for (size_t i = 0; i < nf; i++)
        free(fill[i]);
    free(fill);
}

static void free_corpus(corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->d[i].title);
        free(c->d[i].text);
    }
    free(c->d);
    free(c->sp);
    memset(c, 0, sizeof *c);
}

/* The non-empty document of article a. */
static const gdoc *article_doc(const corpus *c, size_t a)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->d[i].empty)
            continue;
        if (k++ == a)
            return &c->d[i];
    }
    fail();
    return NULL;
}

static void build_opt(const corpus *c, const char *dir, int passages, unsigned mem, int merge,
                      quarry_index_summary *sum)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.stemmer = "none";
    o.stopwords = "none";
    o.passages = passages;
    o.mem_mb = mem;
    o.threads = 1;
    o.merge = merge;
    quarry_error err = { 0 };
    quarry_writer *w;
    CHECK_OK(quarry_writer_open(dir, &o, &w, &err));
    for (size_t i = 0; i < c->n; i++) {
        const gdoc *d = &c->d[i];
        CHECK_OK(quarry_writer_add(w, d->id, d->title, d->text, d->len, d->date[0] ? d->date : NULL,
                                   "gen", &err));
    }
    CHECK_OK(quarry_writer_commit(w, &err));
    quarry_index_summary s;
    quarry_writer_summary(w, &s);
    quarry_writer_close(w);
    assert_int_equal(s.articles, c->nonempty);
    assert_int_equal(s.empty_skipped, 3);
    assert_int_equal(s.invalid_utf8, 0);
    if (sum)
        *sum = s;
}

static void build(const corpus *c, const char *dir, int passages, unsigned mem, quarry_index_summary *sum)
{
    build_opt(c, dir, passages, mem, 1, sum);
}

/* ------------------------------------------------------------ truth */

typedef struct tterm {
    char *s;
    uint32_t *unit, *tf;
    size_t n, cap;
    uint32_t *pos;
    size_t npos, cappos;
    uint32_t max_tf, min_len;
} tterm;

typedef struct truth {
    tterm *t;
    size_t n, cap;
    uint32_t *tab;     /* term index + 1 */
    size_t mask;
    uint32_t *ulen;
    size_t nunits, capu;
    uint64_t tokens, postings;
    uint64_t pair_positions;   /* the pair terms' (positions holds them too) */
    uint32_t *order;   /* term indexes sorted by term */
} truth;

static void truth_init(truth *tr)
{
    memset(tr, 0, sizeof *tr);
    tr->mask = 4095;
    tr->tab = calloc(tr->mask + 1, sizeof *tr->tab);
    assert_non_null(tr->tab);
}

static void truth_free(truth *tr)
{
    for (size_t i = 0; i < tr->n; i++) {
        free(tr->t[i].s);
        free(tr->t[i].unit);
        free(tr->t[i].tf);
        free(tr->t[i].pos);
    }
    free(tr->t);
    free(tr->tab);
    free(tr->ulen);
    free(tr->order);
    memset(tr, 0, sizeof *tr);
}

static uint32_t fnv(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static tterm *truth_term(truth *tr, const char *s, size_t n)
{
    if ((tr->n + 1) * 2 > tr->mask + 1) {
        size_t nm = tr->mask * 2 + 1;
        uint32_t *nt = calloc(nm + 1, sizeof *nt);
        assert_non_null(nt);
        for (size_t i = 0; i < tr->n; i++) {
            size_t h = fnv(tr->t[i].s, strlen(tr->t[i].s)) & nm;
            while (nt[h])
                h = (h + 1) & nm;
            nt[h] = (uint32_t)i + 1;
        }
        free(tr->tab);
        tr->tab = nt;
        tr->mask = nm;
    }
    size_t h = fnv(s, n) & tr->mask;
    while (tr->tab[h]) {
        tterm *t = &tr->t[tr->tab[h] - 1];
        if (strlen(t->s) == n && memcmp(t->s, s, n) == 0)
            return t;
        h = (h + 1) & tr->mask;
    }
    if (tr->n == tr->cap) {
        tr->cap = tr->cap ? tr->cap * 2 : 1024;
        tr->t = xrealloc(tr->t, tr->cap * sizeof *tr->t);
    }
    tterm *t = &tr->t[tr->n];
    memset(t, 0, sizeof *t);
    t->s = xmalloc(n + 1);
    memcpy(t->s, s, n);
    t->s[n] = 0;
    tr->tab[h] = (uint32_t)++tr->n;
    return t;
}

static const tterm *truth_find(const truth *tr, const char *s)
{
    size_t n = strlen(s);
    size_t h = fnv(s, n) & tr->mask;
    while (tr->tab[h]) {
        const tterm *t = &tr->t[tr->tab[h] - 1];
        if (strcmp(t->s, s) == 0)
            return t;
        h = (h + 1) & tr->mask;
    }
    return NULL;
}

static void truth_token(truth *tr, uint32_t unit, const char *s, size_t n, uint32_t pos)
{
    tterm *t = truth_term(tr, s, n);
    if (t->n && t->unit[t->n - 1] == unit) {
        t->tf[t->n - 1]++;
    } else {
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 8;
            t->unit = xrealloc(t->unit, t->cap * sizeof *t->unit);
            t->tf = xrealloc(t->tf, t->cap * sizeof *t->tf);
        }
        t->unit[t->n] = unit;
        t->tf[t->n] = 1;
        t->n++;
        tr->postings++;
    }
    if (t->npos == t->cappos) {
        t->cappos = t->cappos ? t->cappos * 2 : 8;
        t->pos = xrealloc(t->pos, t->cappos * sizeof *t->pos);
    }
    t->pos[t->npos++] = pos;
}

/* Is the word a stop word of the default list as these indexes analyze
 * it (no stemming, an English possessive 's dropped: "let's" is "let")?
 * The common words of the pair terms. */
static int stop_word(const char *s, size_t n)
{
    for (size_t i = 0; i < qa_default_nstopwords; i++) {
        const char *w = qa_default_stopwords[i];
        size_t l = strlen(w);
        if (l >= 3 && w[l - 2] == '\'' && w[l - 1] == 's')
            l -= 2;
        if (l == n && memcmp(w, s, n) == 0)
            return 1;
    }
    return 0;
}

/* Words of the generated texts: runs of a-z (everything else separates);
 * with them the pair terms (index/FORMAT.md §pairs: 0xFF, the first, a
 * space, the second) of each two adjacent words one of which is a stop
 * word, at the first one's position. */
static uint32_t truth_words(truth *tr, uint32_t unit, const char *s, size_t len, uint32_t pos)
{
    size_t i = 0, pi = 0, pn = 0;
    int pstop = 0;
    while (i < len) {
        if (s[i] < 'a' || s[i] > 'z') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && s[j] >= 'a' && s[j] <= 'z')
            j++;
        truth_token(tr, unit, s + i, j - i, pos++);
        int stop = stop_word(s + i, j - i);
        if (pn && (stop || pstop) && 2 + pn + (j - i) <= QA_MAX_PAIR) {
            char pair[QA_MAX_PAIR];
            pair[0] = (char)0xff;
            memcpy(pair + 1, s + pi, pn);
            pair[1 + pn] = ' ';
            memcpy(pair + 2 + pn, s + i, j - i);
            truth_token(tr, unit, pair, 2 + pn + (j - i), pos - 2);
            tr->pair_positions++;
        }
        pi = i;
        pn = j - i;
        pstop = stop;
        i = j;
    }
    return pos;
}

static uint32_t count_words(const char *s)
{
    uint32_t n = 0;
    for (size_t i = 0; s && s[i]; i++)
        if (s[i] >= 'a' && s[i] <= 'z' && (i == 0 || s[i - 1] < 'a' || s[i - 1] > 'z'))
            n++;
    return n;
}

/* One unit: the title's words at 0.., the body's from title words + 8 (or 0). */
static void truth_unit(truth *tr, const char *title, const char *body, size_t body_len)
{
    uint32_t unit = (uint32_t)tr->nunits;
    uint32_t nt = title ? truth_words(tr, unit, title, strlen(title), 0) : 0;
    uint32_t base = nt ? nt + 8 : 0;
    uint32_t end = truth_words(tr, unit, body, body_len, base);
    uint32_t len = nt + (end - base);
    if (tr->nunits == tr->capu) {
        tr->capu = tr->capu ? tr->capu * 2 : 1024;
        tr->ulen = xrealloc(tr->ulen, tr->capu * sizeof *tr->ulen);
    }
    tr->ulen[tr->nunits++] = len;
    tr->tokens += len;
}

static const truth *g_tr;
static int cmp_tterm(const void *a, const void *b)
{
    return strcmp(g_tr->t[*(const uint32_t *)a].s, g_tr->t[*(const uint32_t *)b].s);
}

static void truth_finish(truth *tr)
{
    for (size_t i = 0; i < tr->n; i++) {
        tterm *t = &tr->t[i];
        t->max_tf = 0;
        t->min_len = UINT32_MAX;
        for (size_t k = 0; k < t->n; k++) {
            if (t->tf[k] > t->max_tf)
                t->max_tf = t->tf[k];
            if (tr->ulen[t->unit[k]] < t->min_len)
                t->min_len = tr->ulen[t->unit[k]];
        }
    }
    tr->order = xmalloc((tr->n ? tr->n : 1) * sizeof *tr->order);
    for (size_t i = 0; i < tr->n; i++)
        tr->order[i] = (uint32_t)i;
    g_tr = tr;
    qsort(tr->order, tr->n, sizeof *tr->order, cmp_tterm);
}

/* Truth of a passages-off index of the corpus: one unit per article. */
static void truth_whole(truth *tr, const corpus *c)
{
    truth_init(tr);
    for (size_t i = 0; i < c->n; i++)
        if (!c->d[i].empty)
            truth_unit(tr, c->d[i].title, c->d[i].text, c->d[i].len);
    truth_finish(tr);
}

/* ------------------------------------------------------------ oracle checks */

typedef struct pctx {
    const tterm *t;
    size_t i, pi;
    int bad;
    char msg[256];
} pctx;

static int on_posting(void *ctx, uint32_t passage, uint32_t tf, const uint32_t *positions)
{
    pctx *p = ctx;
    if (p->bad)
        return 0;
    const tterm *t = p->t;
    if (p->i >= t->n) {
        p->bad = 1;
        snprintf(p->msg, sizeof p->msg, "extra posting in passage %u", passage);
        return 0;
    }
    if (passage != t->unit[p->i] || tf != t->tf[p->i]) {
        p->bad = 1;
        snprintf(p->msg, sizeof p->msg, "posting %zu: passage %u tf %u, expected passage %u tf %u", p->i,
                 passage, tf, t->unit[p->i], t->tf[p->i]);
        return 0;
    }
    for (uint32_t k = 0; k < tf; k++) {
        if (positions[k] != t->pos[p->pi + k]) {
            p->bad = 1;
            snprintf(p->msg, sizeof p->msg, "passage %u position %u: %u, expected %u", passage, k, positions[k],
                     t->pos[p->pi + k]);
            return 0;
        }
    }
    p->pi += tf;
    p->i++;
    return 0;
}

typedef struct dlist {
    char **s;
    size_t n, cap;
} dlist;

static int on_dict(void *ctx, const uint8_t *term, uint32_t len, const qx_term *t)
{
    (void)t;
    dlist *d = ctx;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->s = xrealloc(d->s, d->cap * sizeof *d->s);
    }
    char *s = xmalloc(len + 1);
    memcpy(s, term, len);
    s[len] = 0;
    d->s[d->n++] = s;
    return 0;
}

static void expect_absent(quarry_index *ix, const truth *tr, const char *term)
{
    if (truth_find(tr, term))
        return;
    quarry_error err = { 0 };
    uint64_t df = 0, cf = 0;
    int rc = quarry_dump_term(ix, term, &df, &cf, NULL, NULL, &err);
    if (rc != QUARRY_ENOTFOUND) {
        print_error("absent term \"%s\": expected QUARRY_ENOTFOUND, got %d (df %llu): %s\n", term, rc,
                    (unsigned long long)df, err.msg);
        fail();
    }
}

/* Every term of the truth, and nothing else, with its exact postings. */
static void check_postings(const char *dir, const truth *tr, int passage_mode)
{
    quarry_error err = { 0 };
    quarry_index *ix;
    CHECK_OK(quarry_open(dir, &ix, &err));
    quarry_info in;
    CHECK_OK(quarry_info_get(ix, &in));
    assert_int_equal(in.passages, tr->nunits);
    assert_int_equal(in.terms, tr->n);
    assert_int_equal(in.postings, tr->postings);
    assert_int_equal(in.tokens, tr->tokens);
    assert_int_equal(in.positions, tr->tokens + tr->pair_positions);
    assert_int_equal(in.passage_mode, passage_mode);
    assert_string_equal(in.stemmer, "none");
    for (uint32_t u = 0; u < tr->nunits; u++)
        if (qx_unit_len(&ix->seg[0], u) != tr->ulen[u]) {
            print_error("unit %u: length %u, expected %u\n", u, qx_unit_len(&ix->seg[0], u), tr->ulen[u]);
            fail();
        }

    /* the dictionary holds exactly the truth's terms, in byte order */
    dlist dl = { 0 };
    CHECK_OK(qx_each_term(&ix->seg[0], on_dict, &dl, &err));
    assert_int_equal(dl.n, tr->n);
    for (size_t i = 0; i < dl.n; i++) {
        if (strcmp(dl.s[i], tr->t[tr->order[i]].s) != 0) {
            print_error("dictionary entry %zu is \"%s\", expected \"%s\"\n", i, dl.s[i], tr->t[tr->order[i]].s);
            fail();
        }
    }
    /* lookups of terms beside the dictionary's (a byte shorter, longer,
     * changed) find exactly those that are in it: a binary search of the
     * list read above is the oracle */
    for (size_t i = 0; i < dl.n; i++) {
        char probe[QF_MAX_TERM + 8];
        size_t l = strlen(dl.s[i]);
        for (int kind = 0; kind < 6; kind++) {
            memcpy(probe, dl.s[i], l + 1);
            size_t pl = l;
            if (kind == 1 && l > 1)
                probe[--pl] = 0;
            else if (kind == 2 && l + 1 <= QF_MAX_TERM)
                probe[pl++] = '\x01', probe[pl] = 0;
            else if (kind == 3 && l + 2 <= QF_MAX_TERM)
                probe[pl++] = 'z', probe[pl++] = 'z', probe[pl] = 0;
            else if (kind == 4 && (unsigned char)probe[l - 1] < 0xff)
                probe[l - 1]++;
            else if (kind == 5 && (unsigned char)probe[l - 1] > 1)
                probe[l - 1]--;
            size_t lo = 0, hi = dl.n;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(dl.s[mid], probe) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            int want = lo < dl.n && strcmp(dl.s[lo], probe) == 0;
            qx_term xt;
            int got = qx_lookup(&ix->seg[0], probe, pl, &xt, &err);
            if (got != want) {
                print_error("lookup of \"%s\" (beside \"%s\"): %d, expected %d\n", probe, dl.s[i], got, want);
                fail();
            }
        }
    }
    for (size_t i = 0; i < dl.n; i++)
        free(dl.s[i]);
    free(dl.s);

    uint64_t positions = 0;
    for (size_t i = 0; i < tr->n; i++) {
        const tterm *t = &tr->t[tr->order[i]];
        uint64_t df = 0, cf = 0;
        pctx p = { t, 0, 0, 0, "" };
        CHECK_OK(quarry_dump_term(ix, t->s, &df, &cf, on_posting, &p, &err));
        if (p.bad || p.i != t->n || df != t->n || cf != t->npos) {
            print_error("term \"%s\": df %llu cf %llu (expected %zu, %zu), %zu postings seen: %s\n", t->s,
                        (unsigned long long)df, (unsigned long long)cf, t->n, t->npos, p.i, p.msg);
            fail();
        }
        positions += cf;
        qx_term xt;
        assert_int_equal(qx_lookup(&ix->seg[0], t->s, strlen(t->s), &xt, &err), 1);
        if (xt.max_tf != t->max_tf || xt.min_len != t->min_len) {
            print_error("term \"%s\": max_tf %u min_len %u, expected %u %u\n", t->s, xt.max_tf, xt.min_len,
                        t->max_tf, t->min_len);
            fail();
        }
        /* skips: advance to random increasing targets */
        if (t->n > 128) {
            for (int round = 0; round < 3; round++) {
                qx_cursor cu;
                assert_int_equal(qx_cursor_open(&cu, &ix->seg[0], &xt), 0);
                uint32_t target = 0;
                size_t k = 0;
                for (;;) {
                    target += 1 + rndn(round == 0 ? 4 : round == 1 ? 200 : (uint32_t)tr->nunits / 3);
                    uint32_t d = qx_advance(&cu, target);
                    while (k < t->n && t->unit[k] < target)
                        k++;
                    uint32_t want = k < t->n ? t->unit[k] : QX_END;
                    if (d != want) {
                        print_error("term \"%s\": advance(%u) = %u, expected %u\n", t->s, target, d, want);
                        fail();
                    }
                    if (d == QX_END)
                        break;
                    assert_int_equal(qx_tf(&cu), t->tf[k]);
                    uint32_t lastd, nimp;
                    const qim_pair *imp = qx_block_impacts(&cu, &lastd, &nimp);
                    assert_non_null(imp);
                    int dom = 0;
                    for (uint32_t q = 0; q < nimp; q++)
                        dom |= imp[q].tf >= qx_tf(&cu) && imp[q].len <= tr->ulen[d];
                    assert_true(lastd >= d && dom);
                }
                assert_false(cu.corrupt);
                qx_cursor_close(&cu);
            }
        }
    }
    assert_int_equal(positions, tr->tokens + tr->pair_positions);

    /* absent terms: before the first, after the last, between neighbours */
    expect_absent(ix, tr, "a");
    expect_absent(ix, tr, "aa");
    expect_absent(ix, tr, "kzero");
    expect_absent(ix, tr, "zzzzzzzzzzzzzzzzzzzzzzzzzz");
    expect_absent(ix, tr, "\x7f");
    expect_absent(ix, tr, "\xff\xff");
    expect_absent(ix, tr, "!");
    uint64_t df, cf;
    assert_int_equal(quarry_dump_term(ix, "", &df, &cf, NULL, NULL, &err), QUARRY_ENOTFOUND);
    char buf[300];
    for (size_t i = 0; i < tr->n; i++) {
        const char *s = tr->t[tr->order[i]].s;
        size_t l = strlen(s);
        snprintf(buf, sizeof buf, "%s{", s);     /* just after s, before its successor */
        expect_absent(ix, tr, buf);
        snprintf(buf, sizeof buf, "%s`", s);     /* after s, before s + "a" */
        expect_absent(ix, tr, buf);
        snprintf(buf, sizeof buf, "%.*s", (int)(l - 1), s);
        if (l > 1)
            expect_absent(ix, tr, buf);
        snprintf(buf, sizeof buf, "%.*s%c", (int)(l - 1), s, s[l - 1] - 1);
        expect_absent(ix, tr, buf);
    }
    quarry_close(ix);
}

/* Articles: ids, titles, dates, texts, passages. */
static void check_articles(const char *dir, const corpus *c)
{
    quarry_error err = { 0 };
    quarry_index *ix;
    CHECK_OK(quarry_open(dir, &ix, &err));
    quarry_info in;
    CHECK_OK(quarry_info_get(ix, &in));
    assert_int_equal(in.articles, c->nonempty);
    uint32_t a = 0, next_passage = 0;
    for (size_t i = 0; i < c->n; i++) {
        const gdoc *d = &c->d[i];
        uint32_t found = UINT32_MAX;
        if (d->empty) {
            assert_int_equal(quarry_article_find(ix, d->id, &found, &err), QUARRY_ENOTFOUND);
            continue;
        }
        CHECK_OK(quarry_article_find(ix, d->id, &found, &err));
        assert_int_equal(found, a);
        quarry_article ar;
        CHECK_OK(quarry_article_get(ix, a, &ar, &err));
        assert_string_equal(ar.id, d->id);
        assert_string_equal(ar.title, d->title ? d->title : "");
        assert_string_equal(ar.date, d->date);
        assert_int_equal(ar.first_passage, next_passage);
        assert_true(ar.npassages >= 1);
        next_passage += ar.npassages;
        char *text;
        size_t len;
        CHECK_OK(quarry_article_text(ix, a, &text, &len, &err));
        if (len != d->len || memcmp(text, d->text, len) != 0 || text[len] != 0) {
            print_error("article %u (%s): text differs (%zu bytes, expected %zu)\n", a, d->id, len, d->len);
            fail();
        }
        free(text);
        size_t off = 0;
        for (uint32_t p = ar.first_passage; p < ar.first_passage + ar.npassages; p++) {
            assert_int_equal(qx_unit_article(&ix->seg[0], p), a);
            CHECK_OK(quarry_passage_text(ix, p, &text, &len, &err));
            assert_true(off + len <= d->len);
            assert_memory_equal(text, d->text + off, len);
            assert_int_equal(text[len], 0);
            off += len;
            free(text);
        }
        assert_int_equal(off, d->len);
        a++;
    }
    assert_int_equal(next_passage, in.passages);
    uint32_t x;
    static const char *const absent[] = { "", "0", "00000000", "zzzz", "ffffffff-99999999", "\xff" };
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
        assert_int_equal(quarry_article_find(ix, absent[i], &x, &err), QUARRY_ENOTFOUND);
    char buf[64];
    snprintf(buf, sizeof buf, "%sx", c->d[0].id);
    assert_int_equal(quarry_article_find(ix, buf, &x, &err), QUARRY_ENOTFOUND);
    snprintf(buf, sizeof buf, "%.*s", (int)strlen(c->d[0].id) - 1, c->d[0].id);
    assert_int_equal(quarry_article_find(ix, buf, &x, &err), QUARRY_ENOTFOUND);
    quarry_article ar;
    assert_int_equal(quarry_article_get(ix, (uint32_t)c->nonempty, &ar, &err), QUARRY_ENOTFOUND);
    char *t;
    size_t l;
    assert_int_equal(quarry_passage_text(ix, (uint32_t)in.passages, &t, &l, &err), QUARRY_ENOTFOUND);
    assert_int_equal(quarry_article_text(ix, (uint32_t)c->nonempty, &t, &l, &err), QUARRY_ENOTFOUND);
    quarry_close(ix);
}

/* Truth of a passages-on index: the passage texts stored by the index
 * (check_articles shows they concatenate to the articles) tokenized here;
 * also checks the unit table's article and body_pos. */
static void truth_passages(truth *tr, const char *dir, const corpus *c)
{
    quarry_error err = { 0 };
    quarry_index *ix;
    CHECK_OK(quarry_open(dir, &ix, &err));
    truth_init(tr);
    size_t multi = 0;
    for (uint32_t a = 0; a < c->nonempty; a++) {
        const gdoc *d = article_doc(c, a);
        quarry_article ar;
        CHECK_OK(quarry_article_get(ix, a, &ar, &err));
        if (ar.npassages > 1)
            multi++;
        uint32_t nt = count_words(d->title);
        for (uint32_t p = ar.first_passage; p < ar.first_passage + ar.npassages; p++) {
            char *text;
            size_t len;
            CHECK_OK(quarry_passage_text(ix, p, &text, &len, &err));
            assert_int_equal(p, tr->nunits);
            truth_unit(tr, d->title, text, len);
            free(text);
            assert_int_equal(qx_unit_article(&ix->seg[0], p), a);
            assert_int_equal(qx_unit_body(&ix->seg[0], p), nt ? nt + 8 : 0);
        }
    }
    assert_true(multi > 0);   /* the test means something only if articles were split */
    truth_finish(tr);
    quarry_close(ix);
}

static void check_specials(const corpus *c, const truth *tr)
{
    /* the generator did what it says (a check of the test itself) */
    for (size_t s = 0; s < c->nsp; s++) {
        const tterm *t = truth_find(tr, c->sp[s].name);
        size_t df = t ? t->n : 0;
        if ((long)df != c->sp[s].df) {
            print_error("generator: %s has df %zu, wanted %ld\n", c->sp[s].name, df, c->sp[s].df);
            fail();
        }
        if (c->sp[s].big_tf)
            assert_int_equal(t->max_tf, 300);
    }
    const tterm *g = truth_find(tr, "kgapa");
    assert_int_equal(g->unit[0], 0);
    assert_int_equal(g->unit[1], c->nonempty - 1);
}

static void verify_ok(const char *dir)
{
    quarry_error err = { 0 };
    CHECK_OK(quarry_verify(dir, &err));
}

static int files_equal(const char *a, const char *b)
{
    size_t la, lb;
    uint8_t *pa = read_file(a, &la), *pb = read_file(b, &lb);
    int eq = la == lb && memcmp(pa, pb, la) == 0;
    free(pa);
    free(pb);
    return eq;
}

/* ------------------------------------------------------------ tests */

static void test_oracle_whole(void **state)
{
    (void)state;
    corpus c;
    gen_corpus(&c, 0x5eed0001, 1203, 5, 60, 3000);
    const char *dir = tpath("oracle-whole");
    build(&c, dir, 0, 64, NULL);
    verify_ok(dir);
    truth tr;
    truth_whole(&tr, &c);
    check_specials(&c, &tr);
    check_postings(dir, &tr, 0);
    check_articles(dir, &c);
    truth_free(&tr);
    free_corpus(&c);
}

static void test_oracle_passages(void **state)
{
    (void)state;
    corpus c;
    gen_corpus(&c, 0x5eed0002, 403, 30, 400, 2000);
    const char *dir = tpath("oracle-passages");
    build(&c, dir, 1, 64, NULL);
    verify_ok(dir);
    check_articles(dir, &c);
    truth tr;
    truth_passages(&tr, dir, &c);
    check_postings(dir, &tr, 1);
    truth_free(&tr);
    free_corpus(&c);
}

/* A small budget makes many segments; merged into one they are byte for
 * byte the one segment a large budget makes. */
static void test_segments_merge(void **state)
{
    (void)state;
    corpus c;
    gen_corpus(&c, 0x5eed0003, 3003, 60, 220, 30000);
    assert_true(c.bytes > (2u << 20));
    const char *d8 = tpath("segs-8"), *d512 = tpath("segs-512");
    quarry_index_summary s8, s512;
    build_opt(&c, d8, 0, 8, 0, &s8);
    build_opt(&c, d512, 0, 512, 0, &s512);
    print_message("      %zu bytes of text: %llu segments with --mem 8, %llu with --mem 512\n", c.bytes,
                  (unsigned long long)s8.segments, (unsigned long long)s512.segments);
    assert_true(s8.segments > 1);
    assert_int_equal(s512.segments, 1);
    /* a segment per ~2 MiB of postings, not one per unit */
    assert_true(s8.segments < 64);
    verify_ok(d8);
    truth tr;
    truth_whole(&tr, &c);
    quarry_error err = { 0 };
    quarry_index_summary so;
    CHECK_OK(quarry_optimize(d8, 8, &so, &err));
    assert_int_equal(so.segments_merged, s8.segments);
    /* every file but the text store is the same bytes (a merge copies the
     * sources' text blocks as they are, so its blocks end where theirs did);
     * the text of every passage is the same */
    static const char *const kinds[] = { "dict", "post", "posn", "meta", "unit", "arts" };
    for (size_t k = 0; k < 6; k++) {
        char a[600], b[600], na[64], nb[64];
        seg_file(d8, kinds[k], na, sizeof na);
        seg_file(d512, kinds[k], nb, sizeof nb);
        snprintf(a, sizeof a, "%s/%s", d8, na);
        snprintf(b, sizeof b, "%s/%s", d512, nb);
        if (!files_equal(a, b)) {
            print_error("%s differs between %llu segments merged and one segment\n", kinds[k],
                        (unsigned long long)s8.segments);
            fail();
        }
    }
    quarry_index *i8, *i512;
    CHECK_OK(quarry_open(d8, &i8, &err));
    CHECK_OK(quarry_open(d512, &i512, &err));
    quarry_info in8, in512;
    quarry_info_get(i8, &in8);
    quarry_info_get(i512, &in512);
    assert_int_equal(in8.passages, in512.passages);
    for (uint32_t u = 0; u < in8.passages; u++) {
        char *t8, *t512;
        size_t l8, l512;
        CHECK_OK(quarry_passage_text(i8, u, &t8, &l8, &err));
        CHECK_OK(quarry_passage_text(i512, u, &t512, &l512, &err));
        assert_int_equal(l8, l512);
        assert_memory_equal(t8, t512, l8);
        free(t8);
        free(t512);
    }
    quarry_close(i8);
    quarry_close(i512);
    assert_only_generation(d8, 2);
    verify_ok(d8);
    check_postings(d8, &tr, 0);
    truth_free(&tr);
    free_corpus(&c);
}

static void test_determinism(void **state)
{
    (void)state;
    corpus c;
    gen_corpus(&c, 0x5eed0004, 303, 20, 300, 2000);
    const char *d1 = tpath("det-1"), *d2 = tpath("det-2");
    build(&c, d1, 1, 256, NULL);
    build(&c, d2, 1, 256, NULL);
    char n1[64][64], n2[64][64];
    size_t k1 = list_dir(d1, n1, 64), k2 = list_dir(d2, n2, 64);
    assert_int_equal(k1, k2);
    assert_int_equal(k1, 9);   /* MANIFEST, LOCK, 7 files */
    for (size_t i = 0; i < k1; i++) {
        assert_string_equal(n1[i], n2[i]);
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/%s", d1, n1[i]);
        snprintf(b, sizeof b, "%s/%s", d2, n2[i]);
        if (!files_equal(a, b)) {
            print_error("%s differs between two runs on the same input\n", n1[i]);
            fail();
        }
    }
    verify_ok(d1);
    free_corpus(&c);
}

/* Small corpus whose every article holds `marker`. */
static void build_small(const char *dir, const char *marker, int n, const char *prefix)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.stemmer = "none";
    o.stopwords = "none";
    quarry_error err = { 0 };
    quarry_writer *w;
    CHECK_OK(quarry_writer_open(dir, &o, &w, &err));
    for (int i = 0; i < n; i++) {
        char id[32], text[256];
        snprintf(id, sizeof id, "%s%03d", prefix, i);
        snprintf(text, sizeof text, "common words here and %s number %s\n\nsecond paragraph of %s", marker,
                 i % 2 ? "odd" : "even", id);
        CHECK_OK(quarry_writer_add(w, id, "title", text, strlen(text), NULL, NULL, &err));
    }
    CHECK_OK(quarry_writer_commit(w, &err));
    quarry_writer_close(w);
}

static uint64_t search_matched(quarry_index *ix, const char *q)
{
    quarry_search_options so;
    quarry_search_options_init(&so);
    quarry_results *r = NULL;
    quarry_error err = { 0 };
    int rc = quarry_search(ix, q, &so, &r, &err);
    if (rc == QUARRY_ENOTERMS)
        return 0;
    CHECK_OK(rc);
    uint64_t m = r->matched;
    assert_true(r->n > 0 || m == 0);
    quarry_results_free(r);
    return m;
}

static void test_replace(void **state)
{
    (void)state;
    const char *dir = tpath("replace");
    build_small(dir, "oldmarker", 40, "old");
    quarry_error err = { 0 };
    quarry_index *old;
    CHECK_OK(quarry_open(dir, &old, &err));
    build_small(dir, "newmarker", 25, "new");
    assert_only_generation(dir, 2);
    verify_ok(dir);
    /* the old handle still works on its (unlinked, mapped) generation */
    quarry_info in;
    CHECK_OK(quarry_info_get(old, &in));
    assert_int_equal(in.generation, 1);
    assert_int_equal(in.articles, 40);
    assert_int_equal(search_matched(old, "oldmarker"), 40);
    assert_int_equal(search_matched(old, "newmarker"), 0);
    uint64_t df, cf;
    CHECK_OK(quarry_dump_term(old, "oldmarker", &df, &cf, NULL, NULL, &err));
    assert_int_equal(df, 40);
    for (uint32_t a = 0; a < 40; a++) {
        char id[16];
        snprintf(id, sizeof id, "old%03u", a);
        uint32_t x;
        CHECK_OK(quarry_article_find(old, id, &x, &err));
        assert_int_equal(x, a);
        char *t;
        size_t l;
        CHECK_OK(quarry_article_text(old, a, &t, &l, &err));
        assert_non_null(strstr(t, "oldmarker"));
        free(t);
    }
    /* a new handle sees the new generation */
    quarry_index *ix;
    CHECK_OK(quarry_open(dir, &ix, &err));
    CHECK_OK(quarry_info_get(ix, &in));
    assert_int_equal(in.generation, 2);
    assert_int_equal(in.articles, 25);
    assert_int_equal(search_matched(ix, "newmarker"), 25);
    assert_int_equal(search_matched(ix, "oldmarker"), 0);
    assert_int_equal(quarry_dump_term(ix, "oldmarker", &df, &cf, NULL, NULL, &err), QUARRY_ENOTFOUND);
    uint32_t x;
    assert_int_equal(quarry_article_find(ix, "old001", &x, &err), QUARRY_ENOTFOUND);
    quarry_close(ix);
    quarry_close(old);
}

static void test_abandon(void **state)
{
    (void)state;
    const char *dir = tpath("abandon");
    build_small(dir, "keepme", 30, "k");
    char before[64][64];
    size_t nb = list_dir(dir, before, 64);
    uint8_t *saved[64];
    size_t saved_len[64];
    for (size_t i = 0; i < nb; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, before[i]);
        saved[i] = read_file(p, &saved_len[i]);
    }
    /* an abandoned writer that spilled runs (mem 8) and wrote part of its files */
    corpus c;
    gen_corpus(&c, 0x5eed0005, 1503, 100, 400, 20000);
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.mem_mb = 8;
    o.passages = 0;
    quarry_error err = { 0 };
    quarry_writer *w;
    CHECK_OK(quarry_writer_open(dir, &o, &w, &err));
    for (size_t i = 0; i < c.n; i++)
        CHECK_OK(quarry_writer_add(w, c.d[i].id, c.d[i].title, c.d[i].text, c.d[i].len, NULL, NULL, &err));
    static char mid[1024][64];
    size_t nm = list_dir(dir, mid, 1024);
    size_t nruns = 0;
    for (size_t i = 0; i < nm; i++)
        nruns += mid[i][0] == 't' && strstr(mid[i], ".run") != NULL;
    assert_true(nruns > 0);   /* runs were spilled before the abandon */
    /* while it is open, a second writer is refused */
    quarry_writer *w2 = NULL;
    int rc = quarry_writer_open(dir, &o, &w2, &err);
    assert_int_equal(rc, QUARRY_EIO);
    assert_non_null(strstr(err.msg, dir));
    assert_null(w2);
    quarry_writer_close(w);
    free_corpus(&c);

    char after[64][64];
    size_t na = list_dir(dir, after, 64);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < nb; i++) {
        assert_string_equal(after[i], before[i]);
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, before[i]);
        size_t l;
        uint8_t *now = read_file(p, &l);
        assert_int_equal(l, saved_len[i]);
        assert_memory_equal(now, saved[i], l);
        free(now);
        free(saved[i]);
    }
    verify_ok(dir);
    quarry_index *ix;
    CHECK_OK(quarry_open(dir, &ix, &err));
    assert_int_equal(search_matched(ix, "keepme"), 30);
    quarry_close(ix);
    /* the lock was released: the next writer commits generation 2 */
    build_small(dir, "later", 3, "l");
    assert_only_generation(dir, 2);
    verify_ok(dir);
}

static void test_input_errors(void **state)
{
    (void)state;
    const char *dir = tpath("inputs");
    build_small(dir, "first", 2, "f");
    quarry_index_options o;
    quarry_index_options_init(&o);
    quarry_error err = { 0 };
    quarry_writer *w;
    CHECK_OK(quarry_writer_open(dir, &o, &w, &err));
    CHECK_OK(quarry_writer_add(w, "a", NULL, "alpha text", 10, NULL, "x.jsonl:1", &err));
    memset(&err, 0, sizeof err);
    assert_int_equal(quarry_writer_add(w, "a", NULL, "again text", 10, NULL, "x.jsonl:2", &err), QUARRY_EINPUT);
    assert_non_null(strstr(err.msg, "duplicate id"));
    assert_non_null(strstr(err.msg, "x.jsonl:2"));
    assert_non_null(strstr(err.msg, "x.jsonl:1"));
    assert_int_equal(quarry_writer_add(w, "", NULL, "text", 4, NULL, NULL, &err), QUARRY_EINPUT);
    assert_int_equal(quarry_writer_add(w, NULL, NULL, "text", 4, NULL, NULL, &err), QUARRY_EINVAL);
    assert_int_equal(quarry_writer_add(w, "b", NULL, NULL, 0, NULL, NULL, &err), QUARRY_EINVAL);
    /* invalid UTF-8 is replaced and counted; a NUL in the text becomes a space */
    static const char bad[] = "caf\xc3 ok \xff\xfe end\0x";
    CHECK_OK(quarry_writer_add(w, "u", "t\xc0\xafitle", bad, sizeof bad - 1, NULL, NULL, &err));
    CHECK_OK(quarry_writer_add(w, "e", NULL, "  ...  ", 7, NULL, NULL, &err));
    CHECK_OK(quarry_writer_commit(w, &err));
    quarry_index_summary s;
    quarry_writer_summary(w, &s);
    quarry_writer_close(w);
    assert_int_equal(s.articles, 2);
    assert_int_equal(s.empty_skipped, 1);
    assert_true(s.invalid_utf8 >= 4);
    verify_ok(dir);
    quarry_index *ix;
    CHECK_OK(quarry_open(dir, &ix, &err));
    uint32_t a;
    CHECK_OK(quarry_article_find(ix, "u", &a, &err));
    char *t;
    size_t l;
    CHECK_OK(quarry_article_text(ix, a, &t, &l, &err));
    assert_int_equal(strlen(t), l);   /* no NUL inside */
    assert_non_null(strstr(t, "\xef\xbf\xbd"));
    assert_non_null(strstr(t, " end x"));
    assert_true(strncmp(t, "caf", 3) == 0);
    free(t);
    quarry_article ar;
    CHECK_OK(quarry_article_get(ix, a, &ar, &err));
    assert_non_null(strstr(ar.title, "\xef\xbf\xbd"));
    assert_int_equal(quarry_article_find(ix, "e", &a, &err), QUARRY_ENOTFOUND);
    assert_int_equal(quarry_article_find(ix, "f000", &a, &err), QUARRY_ENOTFOUND);
    quarry_close(ix);
}

/* ------------------------------------------------------------ damage */

/* Writes DIR/NAME with bytes p[0..n) after recomputing its CRC footer, and
 * rewrites the MANIFEST to name its new size and CRC. */
static void fix_crc_and_manifest(const char *dir, const char *name, uint8_t *p, size_t n)
{
    if (n >= 4) {
        uint32_t c = (uint32_t)crc32(0L, p, (uInt)(n - 4));
        qstore_u32(p + n - 4, c);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_file(path, p, n);
    quarry_error err = { 0 };
    qm_manifest m;
    CHECK_OK(qm_read(dir, &m, &err));
    for (size_t i = 0; i < m.nseg; i++)
        for (size_t k = 0; k < m.seg[i].nfiles; k++)
            if (!strcmp(m.seg[i].files[k].name, name)) {
                m.seg[i].files[k].size = n;
                m.seg[i].files[k].crc = n >= 4 ? qload_u32(p + n - 4) : 0;
            }
    CHECK_OK(qm_write(dir, &m, &err));
    qm_free(&m);
}

static int allowed(int rc) { return rc == 0 || rc == QUARRY_ECORRUPT || rc == QUARRY_EFORMAT || rc == QUARRY_ENOTFOUND; }

static int on_any(void *ctx, uint32_t passage, uint32_t tf, const uint32_t *positions)
{
    uint64_t *sum = ctx;
    for (uint32_t i = 0; i < tf; i++)
        *sum += positions[i] + passage;
    return 0;
}

/* Everything a reader does, on a possibly damaged index: each call must
 * succeed or report damage, never crash, read out of bounds or hang. */
static void exercise(const char *dir, const char *what)
{
    quarry_error err = { 0 };
    int rc = quarry_verify(dir, &err);
    if (!allowed(rc)) {
        print_error("%s: verify returned %d: %s\n", what, rc, err.msg);
        fail();
    }
    quarry_index *ix;
    rc = quarry_open(dir, &ix, &err);
    if (rc) {
        if (!allowed(rc)) {
            print_error("%s: open returned %d: %s\n", what, rc, err.msg);
            fail();
        }
        return;
    }
    static const char *const queries[] = { "kall", "kdfc kdfa", "\"kall kdfb\"", "kone OR kgapa", "title:kall" };
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        quarry_search_options so;
        quarry_search_options_init(&so);
        so.k = 5;
        for (int algo = 0; algo < 2; algo++) {
            so.algorithm = algo;
            quarry_results *r = NULL;
            rc = quarry_search(ix, queries[q], &so, &r, &err);
            if (!allowed(rc) && rc != QUARRY_ENOTERMS && rc != QUARRY_ESYNTAX) {
                print_error("%s: search %s returned %d: %s\n", what, queries[q], rc, err.msg);
                fail();
            }
            if (!rc) {
                for (size_t i = 0; i < r->n; i++) {
                    char *t;
                    size_t l;
                    quarry_article ar;
                    if (quarry_passage_text(ix, r->hits[i].passage, &t, &l, &err) == 0) {
                        quarry_span *sp = NULL;
                        size_t nsp = 0;
                        if (quarry_highlight(ix, r, t, l, &sp, &nsp, &err) == 0)
                            free(sp);
                        free(t);
                    }
                    (void)quarry_article_get(ix, r->hits[i].article, &ar, &err);
                }
            }
            quarry_results_free(r);
        }
    }
    static const char *const terms[] = { "kall", "kdfc", "kgapa", "kone", "k" };
    for (size_t i = 0; i < sizeof terms / sizeof *terms; i++) {
        uint64_t df, cf, sum = 0;
        rc = quarry_dump_term(ix, terms[i], &df, &cf, on_any, &sum, &err);
        if (!allowed(rc)) {
            print_error("%s: dump %s returned %d: %s\n", what, terms[i], rc, err.msg);
            fail();
        }
    }
    quarry_info in;
    quarry_info_get(ix, &in);
    for (uint32_t a = 0; a < in.articles && a < 100000; a++) {
        char *t;
        size_t l;
        quarry_article ar;
        if (quarry_article_get(ix, a, &ar, &err) == 0) {
            uint32_t x;
            (void)quarry_article_find(ix, ar.id, &x, &err);
        }
        rc = quarry_article_text(ix, a, &t, &l, &err);
        if (rc == 0) {
            free(t);
        } else if (!allowed(rc)) {
            print_error("%s: article_text %u returned %d: %s\n", what, a, rc, err.msg);
            fail();
        } else {
            break;   /* damage found; the other articles would only repeat it */
        }
    }
    quarry_close(ix);
}

static void test_damaged_decoders(void **state)
{
    (void)state;
    corpus c;
    gen_corpus(&c, 0x5eed0006, 263, 5, 40, 400);
    const char *src = tpath("damage-src"), *dst = tpath("damage");
    build(&c, src, 1, 64, NULL);
    free_corpus(&c);
    build_small(dst, "x", 1, "d");   /* a directory with the same file names */
    static const char *const kinds[] = { "meta", "dict", "post", "posn", "unit", "arts", "text" };
    uint8_t *orig[7];
    size_t olen[7];
    char name[7][64];
    char p[600];
    for (int k = 0; k < 7; k++) {
        seg_file(src, kinds[k], name[k], sizeof name[k]);
        snprintf(p, sizeof p, "%s/%s", src, name[k]);
        orig[k] = read_file(p, &olen[k]);
    }
    size_t mlen;
    snprintf(p, sizeof p, "%s/MANIFEST", src);
    uint8_t *man = read_file(p, &mlen);
    /* start from an exact copy (both indexes name their one segment 1) */
    snprintf(p, sizeof p, "%s/MANIFEST", dst);
    write_file(p, man, mlen);
    for (int k = 0; k < 7; k++) {
        snprintf(p, sizeof p, "%s/%s", dst, name[k]);
        write_file(p, orig[k], olen[k]);
    }
    verify_ok(dst);
    exercise(dst, "undamaged");
    rng_state = 0xdeadbeef;
    char what[1024];
    uint8_t *buf = xmalloc(1);
    for (int k = 0; k < 7; k++) {
        size_t n = olen[k];
        buf = xrealloc(buf, n);
        /* every byte of the header and of the trailer (the last 32 bytes)
         * xor 0xff; ~40 offsets spread over the rest with xor 0xff and a
         * random value; the CRC is recomputed */
        size_t step = n < 80 ? 1 : n / 40;
        for (size_t off = 0; off + 4 < n; off += (off < 16 || off + 32 > n) ? 1 : step) {
            for (int v = (off < 16 || off + 32 > n) ? 1 : 0; v < 2; v++) {
                memcpy(buf, orig[k], n);
                buf[off] = v ? (uint8_t)(buf[off] ^ 0xff) : (uint8_t)(buf[off] ^ (1 + rndn(255)));
                fix_crc_and_manifest(dst, name[k], buf, n);
                snprintf(what, sizeof what, "%s byte %zu %s", name[k], off, v ? "xor ff" : "random");
                exercise(dst, what);
            }
        }
        /* truncations (header, body, one byte short), checksum recomputed */
        size_t cuts[] = { 16, 20, 24, 28, 36, n / 2, n - 9, n - 5, n - 1 };
        for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
            if (cuts[i] >= n || cuts[i] < 16)
                continue;
            memcpy(buf, orig[k], n);
            fix_crc_and_manifest(dst, name[k], buf, cuts[i]);
            snprintf(what, sizeof what, "%s cut to %zu bytes", name[k], cuts[i]);
            exercise(dst, what);
        }
        memcpy(buf, orig[k], n);
        fix_crc_and_manifest(dst, name[k], buf, n);
    }
    verify_ok(dst);
    free(buf);
    free(man);
    for (int k = 0; k < 7; k++)
        free(orig[k]);
}

static void test_empty_and_missing(void **state)
{
    (void)state;
    quarry_error err = { 0 };
    quarry_index *ix = NULL;
    assert_int_equal(quarry_open(tpath("nonexistent"), &ix, &err), QUARRY_ENOTFOUND);
    assert_int_equal(quarry_verify(tpath("nonexistent"), &err), QUARRY_ENOTFOUND);
    mkdir(tpath("emptydir"), 0755);
    assert_int_equal(quarry_open(tpath("emptydir"), &ix, &err), QUARRY_ENOTFOUND);
    assert_null(ix);
    /* an input without any article commits nothing, unless an empty index is asked for */
    const char *dir = tpath("noarticles");
    quarry_writer *w;
    CHECK_OK(quarry_writer_open(dir, NULL, &w, &err));
    CHECK_OK(quarry_writer_add(w, "e", NULL, " ", 1, NULL, NULL, &err));
    assert_int_equal(quarry_writer_commit(w, &err), QUARRY_EINPUT);
    assert_non_null(strstr(err.msg, "no article"));
    quarry_writer_close(w);
    assert_int_equal(quarry_open(dir, &ix, &err), QUARRY_ENOTFOUND);
    quarry_index_options eo;
    quarry_index_options_init(&eo);
    eo.allow_empty = 1;
    CHECK_OK(quarry_writer_open(dir, &eo, &w, &err));
    CHECK_OK(quarry_writer_add(w, "e", NULL, " ", 1, NULL, NULL, &err));
    CHECK_OK(quarry_writer_commit(w, &err));
    quarry_writer_close(w);
    verify_ok(dir);
    CHECK_OK(quarry_open(dir, &ix, &err));
    quarry_info in;
    quarry_info_get(ix, &in);
    assert_int_equal(in.articles, 0);
    assert_int_equal(in.terms, 0);
    uint64_t df, cf;
    assert_int_equal(quarry_dump_term(ix, "anything", &df, &cf, NULL, NULL, &err), QUARRY_ENOTFOUND);
    uint32_t x;
    assert_int_equal(quarry_article_find(ix, "e", &x, &err), QUARRY_ENOTFOUND);
    quarry_close(ix);
    /* bad options */
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.mem_mb = 7;
    w = NULL;
    assert_int_equal(quarry_writer_open(tpath("badopt"), &o, &w, &err), QUARRY_EINVAL);
    assert_null(w);
}

/* An optional argument selects tests by name pattern (cmocka filter). */
int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_whole),
        cmocka_unit_test(test_oracle_passages),
        cmocka_unit_test(test_segments_merge),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_abandon),
        cmocka_unit_test(test_input_errors),
        cmocka_unit_test(test_damaged_decoders),
        cmocka_unit_test(test_empty_and_missing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
