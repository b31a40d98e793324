/*
 * test_damage.c — damaged indexes whose checksums are valid: each breaks
 * one structural invariant of index/FORMAT.md "Invariants checked by quarry
 * verify", then recomputes every file's CRC32 footer and the MANIFEST (its
 * sizes, file checksums and crc line), as tests/fuzz/fuzz_index.c does, so
 * that only the structural checks can catch it. For each one:
 *
 *   - quarry_verify must fail with QUARRY_ECORRUPT and a message naming the
 *     damaged file;
 *   - the readers that read the damaged structure (a search of the term, a
 *     phrase query over its positions, quarry_dump_term) must fail with
 *     QUARRY_ECORRUPT naming a file of the segment; those that do not read
 *     it must give the undamaged index's answer (hits, order and scores).
 *
 * The damage: dictionary terms out of order, positions not increasing (a
 * gap of 0; a gap that wraps around 2^32 and so decreases), a doc number
 * past the units, a skip entry's last doc not its block's, a unit's article
 * out of range, the id index out of order, a date key not its date's, the
 * meta's posting count, a text block that does not inflate (read by a
 * passage's text and by a delete), the fingerprint indexes out of order
 * or naming no unit or article. Not covered here: dictionary block
 * offsets, deletions files (tests/fuzz/fuzz_index.c reaches them).
 *
 * The index: 300 generated articles (every one holds "common": three
 * postings blocks and a skip table; each its own word uNNN; dates), then
 * the articles of the phrase, wrap and last-doc cases; stemmer and stop
 * words off, whole articles, one thread: one segment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <zlib.h>

#include "index/codec.h"
#include "index/format.h"
#include "index/reader.h"
#include "quarry.h"
#include "support/qtest.h"

#define NGEN 300
#define NFILES 7
#define ARTS_TRAILER 56   /* bytes of .arts's trailer: 7 u64 (FORMAT.md §arts) */

static const char *const kinds[NFILES] = { "meta", "dict", "post", "posn", "unit", "arts", "text" };
enum { F_META, F_DICT, F_POST, F_POSN, F_UNIT, F_ARTS, F_TEXT };

typedef struct dfile {
    char name[64];
    uint8_t *p;
    size_t len;
} dfile;

/* The undamaged index: its files, and where things are in them. */
typedef struct base {
    char *dir;
    unsigned long long seg;
    dfile f[NFILES];
    qx_term zeta, zzzwrap, lastword, common;
    uint64_t nunits, narts;
} base;

static base B;

/* ------------------------------------------------------------ little helpers */

static uint64_t ld(const uint8_t *p, int w)
{
    uint64_t v = 0;
    for (int i = 0; i < w; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void st(uint8_t *p, uint64_t v, int w)
{
    for (int i = 0; i < w; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A LEB128 varint at *p (advanced past it). */
static uint64_t varint(const uint8_t **p)
{
    uint64_t v = 0;
    for (int s = 0; s < 64; s += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80))
            break;
    }
    return v;
}

static void slurp(const char *dir, const char *name, dfile *f)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->p = txmalloc((size_t)n + 1);
    assert_int_equal(fread(f->p, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    f->len = (size_t)n;
    snprintf(f->name, sizeof f->name, "%s", name);
}

/* ------------------------------------------------------------ the undamaged index */

static void add(quarry_writer *w, const char *id, const char *text, const char *date)
{
    quarry_error err;
    if (quarry_writer_add(w, id, NULL, text, strlen(text), date, NULL, &err))
        fail_msg("quarry_writer_add: %s", err.msg);
}

static void lookup(quarry_index *ix, const char *term, qx_term *t)
{
    quarry_error err;
    int rc = qx_lookup(&ix->seg[0], term, strlen(term), t, &err);
    if (rc != 1)
        fail_msg("test setup: the term %s is not in the index (%d)", term, rc);
}

static int setup(void **state)
{
    (void)state;
    B.dir = ttmp_make("damage");
    quarry_writer *w = twriter_verbatim(B.dir);
    quarry_error err;
    static const char *const words[] = { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf" };
    trng r;
    trng_seed(&r, 77);
    for (int i = 0; i < NGEN; i++) {
        tsb t = { 0 };
        tsb_printf(&t, "common u%03d", i);
        for (uint32_t k = 0, n = 3 + trng_below(&r, 12); k < n; k++)
            tsb_printf(&t, " %s", words[trng_below(&r, 7)]);
        char id[16], date[16];
        snprintf(id, sizeof id, "G%03d", i);
        snprintf(date, sizeof date, "2025-%02d-%02d", 1 + i % 12, 1 + i % 28);
        add(w, id, t.p, date);
        free(t.p);
    }
    add(w, "P", "zeta omega zeta omega", NULL);   /* zeta at 0 and 2: one group [0, 2] */
    add(w, "W", "pad zzzwrap pad zzzwrap", NULL); /* zzzwrap, the last term: [1, 2] */
    add(w, "Z", "zeus", NULL);                    /* zzzwrap follows zeus in its dictionary block */
    add(w, "L", "lastword alpha", NULL);          /* the last unit */
    if (quarry_writer_commit(w, &err))
        fail_msg("quarry_writer_commit: %s", err.msg);
    quarry_writer_close(w);

    quarry_index *ix;
    if (quarry_open(B.dir, &ix, &err))
        fail_msg("quarry_open: %s", err.msg);
    if (ix->nseg != 1)
        fail_msg("test setup: %zu segments, expected one", ix->nseg);
    B.seg = (unsigned long long)ix->seg[0].id;
    B.nunits = ix->seg[0].nunits;
    B.narts = ix->seg[0].narts;
    lookup(ix, "zeta", &B.zeta);
    lookup(ix, "zzzwrap", &B.zzzwrap);
    lookup(ix, "lastword", &B.lastword);
    lookup(ix, "common", &B.common);
    quarry_close(ix);
    for (int k = 0; k < NFILES; k++) {
        char name[64];
        snprintf(name, sizeof name, "s%016llx.%s", B.seg, kinds[k]);
        slurp(B.dir, name, &B.f[k]);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int k = 0; k < NFILES; k++)
        free(B.f[k].p);
    ttmp_remove(B.dir);
    memset(&B, 0, sizeof B);
    return 0;
}

/* ------------------------------------------------------------ damaged copies */

/* A copy of the undamaged files, to edit (room for growth). */
static void copy_files(dfile *f)
{
    for (int k = 0; k < NFILES; k++) {
        f[k] = B.f[k];
        f[k].p = txmalloc(B.f[k].len + 64);
        memcpy(f[k].p, B.f[k].p, B.f[k].len);
    }
}

static void free_files(dfile *f)
{
    for (int k = 0; k < NFILES; k++)
        free(f[k].p);
}

/* Writes the files into a new directory with valid checksums: each file's
 * CRC32 footer, and a MANIFEST naming them with their sizes and footers
 * and its own crc line (index/FORMAT.md §MANIFEST). */
static char *write_index(dfile *f, const char *tag)
{
    char *dir = ttmp_make(tag);
    char path[4096];
    tsb m = { 0 };
    tsb_printf(&m, "quarry-manifest 2\ngeneration 0000000000000001\nnext-segment %016llx\n"
                   "segment %016llx delgen 0000000000000000\n", B.seg + 1, B.seg);
    for (int k = 0; k < NFILES; k++) {
        uint32_t c = (uint32_t)crc32(0L, f[k].p, (uInt)(f[k].len - 4));
        st(f[k].p + f[k].len - 4, c, 4);
        snprintf(path, sizeof path, "%s/%s", dir, f[k].name);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(f[k].p, 1, f[k].len, fp), f[k].len);
        assert_int_equal(fclose(fp), 0);
        tsb_printf(&m, "file %s %zu %08lx\n", f[k].name, f[k].len, (unsigned long)c);
    }
    tsb_printf(&m, "crc %08lx\n", (unsigned long)crc32(0L, (const uint8_t *)m.p, (uInt)m.n));
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(m.p, 1, m.n, fp), m.n);
    assert_int_equal(fclose(fp), 0);
    free(m.p);
    return dir;
}

/* ------------------------------------------------------------ checks */

static unsigned nchecks;

/* quarry_verify of dir reports damage in file `kind` of the segment. */
static void verify_reports(const char *dir, int kind, const char *what)
{
    quarry_error err = { 0 };
    int rc = quarry_verify(dir, &err);
    char name[64];
    snprintf(name, sizeof name, "s%016llx.%s", B.seg, kinds[kind]);
    if (rc != QUARRY_ECORRUPT || !strstr(err.msg, name))
        fail_msg("%s: quarry_verify returned %d (%s), expected QUARRY_ECORRUPT naming %s", what, rc,
                 rc ? err.msg : "no error", name);
    print_message("      %-44s verify: %s\n", what, strstr(err.msg, name));
    nchecks++;
}

/* rc is QUARRY_ECORRUPT with a message naming a file of the segment. */
static void corrupt_reported(int rc, const quarry_error *err, const char *what, const char *call)
{
    char name[64];
    snprintf(name, sizeof name, "s%016llx.", B.seg);
    if (rc != QUARRY_ECORRUPT || !strstr(err->msg, name))
        fail_msg("%s: %s returned %d (%s), expected QUARRY_ECORRUPT naming a file of segment %016llx", what, call,
                 rc, rc ? err->msg : "no error", B.seg);
    nchecks++;
}

static quarry_index *open_ok(const char *dir)
{
    quarry_index *ix;
    quarry_error err;
    if (quarry_open(dir, &ix, &err))
        fail_msg("quarry_open %s: %s", dir, err.msg);
    return ix;
}

/* A search of `q` in dir (exhaustive and the default algorithm) fails with
 * QUARRY_ECORRUPT naming a file of the segment. */
static void search_reports(const char *dir, const char *q, const char *what)
{
    quarry_index *ix;
    quarry_error err;
    int rc = quarry_open(dir, &ix, &err);
    if (rc) {   /* opening found it: fine too */
        corrupt_reported(rc, &err, what, "quarry_open");
        return;
    }
    for (int algo = 0; algo < 2; algo++) {
        quarry_search_options o;
        quarry_search_options_init(&o);
        o.algorithm = algo ? QUARRY_ALGO_EXHAUSTIVE : QUARRY_ALGO_AUTO;
        o.k = 1000;
        quarry_results *r = NULL;
        rc = quarry_search(ix, q, &o, &r, &err);
        if (rc == 0)
            quarry_results_free(r);
        char call[256];
        snprintf(call, sizeof call, "quarry_search '%s' (%s)", q, algo ? "exhaustive" : "auto");
        corrupt_reported(rc, &err, what, call);
    }
    quarry_close(ix);
}

static int count_posting(void *ctx, uint32_t passage, uint32_t tf, const uint32_t *positions)
{
    (void)passage; (void)tf; (void)positions;
    ++*(unsigned *)ctx;
    return 0;
}

/* quarry_dump_term of `term` fails with QUARRY_ECORRUPT naming a file of the segment. */
static void dump_reports(const char *dir, const char *term, const char *what)
{
    quarry_index *ix = open_ok(dir);
    quarry_error err;
    uint64_t df, cf;
    unsigned n = 0;
    int rc = quarry_dump_term(ix, term, &df, &cf, count_posting, &n, &err);
    char call[128];
    snprintf(call, sizeof call, "quarry_dump_term %s", term);
    corrupt_reported(rc, &err, what, call);
    quarry_close(ix);
}

/* The queries whose answers must not change when a structure they do not
 * read is damaged. */
static const char *const queries[] = { "common", "zeta", "\"zeta omega\"", "u005 common", "u005 u006", "alpha bravo",
                                       "lastword", "\"pad zzzwrap\"", "u299 OR u000" };
#define NQUERIES (sizeof queries / sizeof queries[0])

typedef struct answer {
    size_t n;
    uint32_t art[1000];
    double score[1000];
} answer;

static void answer_of(quarry_index *ix, const char *q, answer *a, const char *what)
{
    quarry_search_options o;
    quarry_search_options_init(&o);
    o.k = 1000;
    quarry_results *r;
    quarry_error err;
    if (quarry_search(ix, q, &o, &r, &err))
        fail_msg("%s: quarry_search '%s': %s", what, q, err.msg);
    a->n = r->n;
    for (size_t i = 0; i < r->n; i++) {
        a->art[i] = r->hits[i].article;
        a->score[i] = r->hits[i].score;
    }
    quarry_results_free(r);
}

/* Searches of dir give exactly what the undamaged index gives (or the
 * open fails with QUARRY_ECORRUPT). */
static void searches_same(const char *dir, const char *what)
{
    quarry_index *ix, *ok = open_ok(B.dir);
    quarry_error err;
    int rc = quarry_open(dir, &ix, &err);
    if (rc) {
        corrupt_reported(rc, &err, what, "quarry_open");
        quarry_close(ok);
        return;
    }
    static answer a, b;
    size_t hits = 0;
    for (size_t i = 0; i < NQUERIES; i++) {
        answer_of(ok, queries[i], &a, "the undamaged index");
        answer_of(ix, queries[i], &b, what);
        if (a.n != b.n)
            fail_msg("%s: '%s' gives %zu hits, the undamaged index %zu", what, queries[i], b.n, a.n);
        for (size_t k = 0; k < a.n; k++)
            if (a.art[k] != b.art[k] || a.score[k] != b.score[k])
                fail_msg("%s: '%s' hit %zu is article %u score %.17g, the undamaged index's %u %.17g", what,
                         queries[i], k, b.art[k], b.score[k], a.art[k], a.score[k]);
        hits += a.n;
        nchecks++;
    }
    print_message("      %-44s searches: %zu queries, %zu hits as the undamaged index's\n", what, NQUERIES, hits);
    quarry_close(ix);
    quarry_close(ok);
}

/* ------------------------------------------------------------ posn */

/* The dictionary's last entry (index/FORMAT.md §dict): where its prefix
 * length, suffix and pos_len varint are (each may be NULL). */
static void last_entry(dfile *d, uint8_t **prefix, uint8_t **suffix, uint8_t **pos_len)
{
    const uint8_t *tr = d->p + d->len - 4 - 24;
    uint64_t nterms = ld(tr, 8), nblocks = ld(tr + 8, 8), index_at = ld(tr + 16, 8);
    assert_true(nterms > 0 && nblocks > 0);
    const uint8_t *q = d->p + ld(d->p + index_at + 8 * (nblocks - 1), 8) + 16;   /* post_off, pos_off */
    uint32_t count = (uint32_t)ld(q, 4);
    q += 4;
    for (uint32_t i = 0; i < count; i++) {
        if (prefix)
            *prefix = (uint8_t *)q;
        varint(&q);
        uint64_t sl = varint(&q);
        if (suffix)
            *suffix = (uint8_t *)q;
        q += sl;
        varint(&q), varint(&q), varint(&q);   /* df, cf - df, post_len */
        if (pos_len)
            *pos_len = (uint8_t *)q;
        varint(&q);
        for (uint64_t k = 2 * varint(&q); k > 0; k--)   /* impacts */
            varint(&q);
    }
}

/* Rewrites the single positions group of a term of one posting (tf 2). */
static size_t regroup(const qx_term *t, const uint8_t *in, const uint32_t *want_old, const uint32_t *now,
                      uint8_t *out)
{
    uint32_t v[2];
    assert_int_equal(t->df, 1);
    assert_int_equal(t->cf, 2);
    long got = qc_pfor_unpack(in, in + t->pos_len, 2, v);
    assert_int_equal(got, (long)t->pos_len);
    if (v[0] != want_old[0] || v[1] != want_old[1])
        fail_msg("test setup: positions values %u %u, expected %u %u", v[0], v[1], want_old[0], want_old[1]);
    return qc_pfor_pack(now, 2, out);
}

/* zeta's positions 0, 2 (values 0, gap 2) become 2, 2 (values 2, gap 0):
 * not increasing; the group keeps its size. */
static void test_positions_equal(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    uint8_t g[QC_PFOR_MAX];
    const uint32_t old[2] = { 0, 2 }, now[2] = { 2, 0 };
    size_t n = regroup(&B.zeta, f[F_POSN].p + B.zeta.pos_off, old, now, g);
    assert_int_equal(n, B.zeta.pos_len);
    memcpy(f[F_POSN].p + B.zeta.pos_off, g, n);
    char *dir = write_index(f, "damage-pos-equal");
    const char *what = "positions 2, 2 (a gap of 0)";
    verify_reports(dir, F_POSN, what);
    search_reports(dir, "\"zeta omega\"", what);
    search_reports(dir, "\"omega zeta\"", what);
    dump_reports(dir, "zeta", what);
    ttmp_remove(dir);
    free_files(f);
}

/* zzzwrap's positions 1, 3 (values 1, gap 2) become 3, 3 + 0xffffffff =
 * 2 mod 2^32 (values 3, gap 0xffffffff): decreasing. The group grows;
 * zzzwrap is the last term, so only its dictionary entry's pos_len and
 * the positions' data_len change with it. */
static void test_positions_wrap(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    uint8_t g[QC_PFOR_MAX];
    const uint32_t old[2] = { 1, 2 }, now[2] = { 3, 0xffffffffu };
    size_t n = regroup(&B.zzzwrap, f[F_POSN].p + B.zzzwrap.pos_off, old, now, g);
    dfile *p = &f[F_POSN];
    size_t end = (size_t)(B.zzzwrap.pos_off + B.zzzwrap.pos_len), grow = n - (size_t)B.zzzwrap.pos_len;
    assert_int_equal(ld(p->p + end, 8), end - 16);   /* the last term: data_len follows its positions */
    assert_true(n > B.zzzwrap.pos_len && n < 128);
    memmove(p->p + end + grow, p->p + end, p->len - end);
    memcpy(p->p + B.zzzwrap.pos_off, g, n);
    p->len += grow;
    st(p->p + end + grow, end + grow - 16, 8);
    /* the dictionary: its last entry (that of zzzwrap) */
    uint8_t *pos_len_at;
    last_entry(&f[F_DICT], NULL, NULL, &pos_len_at);
    assert_int_equal(*pos_len_at, B.zzzwrap.pos_len);
    *pos_len_at = (uint8_t)n;
    char *dir = write_index(f, "damage-pos-wrap");
    const char *what = "positions 3, 2 (a gap wrapping 2^32)";
    verify_reports(dir, F_POSN, what);
    search_reports(dir, "\"zzzwrap pad\"", what);
    search_reports(dir, "\"pad zzzwrap\"", what);
    dump_reports(dir, "zzzwrap", what);
    ttmp_remove(dir);
    free_files(f);
}

/* ------------------------------------------------------------ dict */

/* The last term, zzzwrap (after zeus in its block: front-coded as prefix
 * 1, suffix "zzwrap"), becomes "zazwrap": before zeus, terms out of order. */
static void test_terms_order(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    uint8_t *prefix, *suffix;
    last_entry(&f[F_DICT], &prefix, &suffix, NULL);
    if (*prefix != 1 || memcmp(suffix, "zzwrap", 6) != 0)
        fail_msg("test setup: the last dictionary entry is not zzzwrap after zeus (prefix %u)", *prefix);
    suffix[0] = 'a';
    char *dir = write_index(f, "damage-dict");
    const char *what = "dictionary terms out of order";
    verify_reports(dir, F_DICT, what);
    search_reports(dir, "zzzwrap", what);   /* a lookup that scans the damaged entry */
    search_reports(dir, "pad zzzwrap", what);
    dump_reports(dir, "zzzwrap", what);
    ttmp_remove(dir);
    free_files(f);
}

/* ------------------------------------------------------------ post */

/* lastword's one posting (the last unit) gets a doc gap of all ones at its
 * width: a doc number past the units. */
static void test_doc_past_units(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    uint8_t *b = f[F_POST].p + B.lastword.post_off;
    unsigned w = b[0];
    uint32_t doc;
    assert_int_equal(B.lastword.df, 1);
    if (w > 32 || qc_unpack(b + 1, b + B.lastword.post_len, 1, w, &doc) < 0 || doc != B.nunits - 1)
        fail_msg("test setup: lastword's block starts %02x (packed docs of width 0..32 expected) or is not unit %llu",
                 b[0], (unsigned long long)(B.nunits - 1));
    uint32_t bad = (uint32_t)((1ull << w) - 1);
    if (bad < B.nunits)
        fail_msg("test setup: the largest doc of width %u, %u, is not past the %llu units", w, bad,
                 (unsigned long long)B.nunits);
    qc_pack(&bad, 1, w, b + 1);
    char *dir = write_index(f, "damage-doc");
    const char *what = "a doc number past the units";
    verify_reports(dir, F_POST, what);
    search_reports(dir, "lastword", what);
    search_reports(dir, "lastword alpha", what);
    dump_reports(dir, "lastword", what);
    ttmp_remove(dir);
    free_files(f);
}

/* common's first skip entry says its block ends one doc early. */
static void test_skip_last_doc(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    uint64_t nb = (B.common.df + QC_BLOCK - 1) / QC_BLOCK;
    assert_true(nb >= 2);
    uint8_t *skip = f[F_POST].p + B.common.post_off + B.common.post_len - 16 * nb;
    uint32_t last = (uint32_t)ld(skip, 4);
    assert_int_equal(last, QC_BLOCK - 1);   /* every generated article holds common: block 0 ends at doc 127 */
    st(skip, last - 1, 4);
    char *dir = write_index(f, "damage-skip");
    const char *what = "a skip entry's last doc not its block's";
    verify_reports(dir, F_POST, what);
    search_reports(dir, "common", what);
    search_reports(dir, "common u200", what);
    dump_reports(dir, "common", what);
    ttmp_remove(dir);
    free_files(f);
}

/* ------------------------------------------------------------ unit, arts, meta */

/* Unit 5's article is the number of articles (out of range). With whole
 * articles (one unit each) searches do not read the column: a unit is its
 * own article. */
static void test_unit_article(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    uint8_t *a = f[F_UNIT].p + 16 + 5 * B.nunits + 4 * 5;
    assert_int_equal(ld(a, 4), 5);
    st(a, B.narts, 4);
    char *dir = write_index(f, "damage-unit");
    const char *what = "a unit's article out of range";
    verify_reports(dir, F_UNIT, what);
    searches_same(dir, what);
    ttmp_remove(dir);
    free_files(f);
}

/* The first two entries of the id index swapped: no longer sorted. */
static void test_id_order(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    const uint8_t *tr = f[F_ARTS].p + f[F_ARTS].len - 4 - ARTS_TRAILER;
    uint8_t *ord = f[F_ARTS].p + ld(tr + 16, 8);
    uint32_t x = (uint32_t)ld(ord, 4), y = (uint32_t)ld(ord + 4, 4);
    assert_true(x != y);
    st(ord, y, 4);
    st(ord + 4, x, 4);
    char *dir = write_index(f, "damage-idorder");
    const char *what = "the id index out of order";
    verify_reports(dir, F_ARTS, what);
    searches_same(dir, what);
    ttmp_remove(dir);
    free_files(f);
}

/* The id hash table (FORMAT.md §arts): entries 0 and 1 swapped (no longer
 * sorted: verify says so; searches do not read it), then entry 0 naming
 * the article count (out of range): looking up the id it belonged to is
 * QUARRY_ECORRUPT naming the file, and every other id is still found. */
static void test_id_hash(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        dfile f[NFILES];
        copy_files(f);
        const uint8_t *tr = f[F_ARTS].p + f[F_ARTS].len - 4 - ARTS_TRAILER;
        uint8_t *h = f[F_ARTS].p + ld(tr + 40, 8);
        uint64_t x = ld(h, 8), y = ld(h + 8, 8);
        assert_true(x < y);
        if (kind == 0) {
            st(h, y, 8);
            st(h + 8, x, 8);
        } else
            st(h, (x & ~(uint64_t)UINT32_MAX) | B.narts, 8);
        const char *what = kind == 0 ? "the id hash table out of order" : "an id hash entry out of range";
        char *dir = write_index(f, "damage-idhash");
        verify_reports(dir, F_ARTS, what);
        searches_same(dir, what);
        if (kind == 1) {
            quarry_index *ok = open_ok(B.dir), *ix = open_ok(dir);
            quarry_error err;
            for (uint32_t a = 0; a < B.narts; a++) {
                quarry_article art;
                if (quarry_article_get(ok, a, &art, &err))
                    fail_msg("quarry_article_get %u: %s", a, err.msg);
                uint32_t got = UINT32_MAX;
                int rc = quarry_article_find(ix, art.id, &got, &err);
                if (a == (uint32_t)x)
                    corrupt_reported(rc, &err, what, "quarry_article_find");
                else if (rc || got != a)
                    fail_msg("%s: quarry_article_find(%s) returned %d, article %u, expected %u", what, art.id, rc, got, a);
            }
            quarry_close(ix);
            quarry_close(ok);
        }
        ttmp_remove(dir);
        free_files(f);
    }
}

/* A word only article a holds (its hits are a alone). */
static void word_of(uint32_t a, char *out, size_t size)
{
    static const char *const last[] = { "zeta", "zzzwrap", "zeus", "lastword" };
    if (a < NGEN)
        snprintf(out, size, "u%03u", a);
    else
        snprintf(out, size, "%s", last[a - NGEN]);
}

/* The fingerprint indexes (FORMAT.md §arts, §unit): in each, entries 0 and
 * 1 swapped (no longer sorted: verify says so; searches that do not
 * collapse never read them), then entry 0 naming the article (unit) count:
 * verify says so, and a collapsed search whose hit has that entry's
 * fingerprint is QUARRY_ECORRUPT naming the file. */
static void test_fp_index(void **state)
{
    (void)state;
    for (int units = 0; units < 2; units++)
        for (int kind = 0; kind < 2; kind++) {
            dfile f[NFILES];
            copy_files(f);
            size_t stride = units ? QF_UFP_ENTRY : QF_AFP_ENTRY;
            uint8_t *e = units ? f[F_UNIT].p + QF_HEADER + 21 * B.nunits
                               : f[F_ARTS].p + ld(f[F_ARTS].p + f[F_ARTS].len - 4 - ARTS_TRAILER + 48, 8);
            uint32_t x = (uint32_t)ld(e + 8, 4);   /* whole articles: unit x is article x */
            assert_true(x < B.narts && ld(e, 8) < ld(e + stride, 8));
            if (kind == 0) {
                uint8_t t[QF_AFP_ENTRY];
                memcpy(t, e, stride);
                memcpy(e, e + stride, stride);
                memcpy(e + stride, t, stride);
            } else
                st(e + 8, units ? B.nunits : B.narts, 4);
            const char *what = units ? (kind == 0 ? "the units' fingerprint index out of order"
                                                  : "a unit fingerprint entry out of range")
                                     : (kind == 0 ? "the articles' fingerprint index out of order"
                                                  : "an article fingerprint entry out of range");
            char *dir = write_index(f, "damage-fpindex");
            verify_reports(dir, units ? F_UNIT : F_ARTS, what);
            searches_same(dir, what);
            if (kind == 1) {
                quarry_index *ix = open_ok(dir);
                quarry_search_options o;
                quarry_search_options_init(&o);
                o.collapse = 1;
                o.passages = units;
                char q[32];
                word_of(x, q, sizeof q);
                quarry_results *r = NULL;
                quarry_error err;
                int rc = quarry_search(ix, q, &o, &r, &err);
                corrupt_reported(rc, &err, what, "a collapsed quarry_search");
                if (!rc)
                    quarry_results_free(r);
                quarry_close(ix);
            }
            ttmp_remove(dir);
            free_files(f);
        }
}

/* Article 7's date key one second later than its date says. */
static void test_date_key(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    const uint8_t *tr = f[F_ARTS].p + f[F_ARTS].len - 4 - ARTS_TRAILER;
    uint8_t *k = f[F_ARTS].p + ld(tr + 24, 8) + 8 * 7;
    assert_int_equal(ld(k, 8), 20250808000000ull);   /* G007: 2025-08-08 */
    st(k, 20250808000001ull, 8);
    char *dir = write_index(f, "damage-date");
    const char *what = "a date key not its date's";
    verify_reports(dir, F_ARTS, what);
    searches_same(dir, what);
    ttmp_remove(dir);
    free_files(f);
}

/* meta's posting count one more than the postings. */
static void test_meta_postings(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    uint8_t *p = f[F_META].p + 16 + 24;
    st(p, ld(p, 8) + 1, 8);
    char *dir = write_index(f, "damage-meta");
    const char *what = "meta's posting count";
    verify_reports(dir, F_META, what);
    searches_same(dir, what);
    ttmp_remove(dir);
    free_files(f);
}

/* Block 0 of the text store does not inflate (its first deflate block's
 * type is the reserved one). Searches do not read text; reading a passage
 * of the block (zlib's inflate) and deleting an article whose text is in
 * it (the writer reads it back with libdeflate's, textw.c, to count its
 * terms out) both fail, and the failed delete leaves the index as it was. */
static void test_text_block(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    f[F_TEXT].p[QF_HEADER] |= 0x06;
    char *dir = write_index(f, "damage-text");
    const char *what = "a text block that does not inflate";
    verify_reports(dir, F_TEXT, what);
    searches_same(dir, what);
    quarry_index *ix = open_ok(dir);
    quarry_error err;
    char *t = NULL;
    size_t len;
    int rc = quarry_passage_text(ix, 0, &t, &len, &err);
    free(t);
    corrupt_reported(rc, &err, what, "quarry_passage_text");
    quarry_close(ix);
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.add = 1;
    o.threads = 1;
    quarry_writer *w = twriter_open(dir, &o);
    rc = quarry_writer_delete(w, "G000", &err);
    if (rc == 0)
        rc = quarry_writer_commit(w, &err);
    corrupt_reported(rc, &err, what, "quarry_writer_delete + commit of G000");
    quarry_writer_close(w);
    searches_same(dir, "after the failed delete");
    ttmp_remove(dir);
    free_files(f);
}

/* The undamaged index verifies and the helpers change nothing by
 * themselves: rewritten untouched, it still verifies. */
static void test_undamaged(void **state)
{
    (void)state;
    dfile f[NFILES];
    copy_files(f);
    char *dir = write_index(f, "damage-none");
    quarry_error err;
    if (quarry_verify(dir, &err))
        fail_msg("the undamaged index, rewritten: %s", err.msg);
    searches_same(dir, "the undamaged index, rewritten");
    ttmp_remove(dir);
    free_files(f);
}

/* An index of the previous format version (each file in turn; the
 * dictionary's blocks changed size in version 5) is refused by opening
 * and by verify with QUARRY_EFORMAT, naming the file, its version and
 * what to do: never read as if it were of this version. */
static void test_older_version(void **state)
{
    (void)state;
    for (int k = 0; k < NFILES; k++) {
        dfile f[NFILES];
        copy_files(f);
        st(f[k].p + 8, QF_VERSION - 1, 4);
        char *dir = write_index(f, "damage-version");
        char want[1024];
        snprintf(want, sizeof want, "%s: format version %u, this quarry reads version %u (rebuild the index)",
                 f[k].name, QF_VERSION - 1, QF_VERSION);
        quarry_error err = { 0 };
        quarry_index *ix = NULL;
        int rc = quarry_open(dir, &ix, &err);
        if (rc != QUARRY_EFORMAT || !strstr(err.msg, want))
            fail_msg("%s of version %u: quarry_open returned %d (%s), expected QUARRY_EFORMAT saying \"%s\"",
                     kinds[k], QF_VERSION - 1, rc, rc ? err.msg : "no error", want);
        if (!rc)
            quarry_close(ix);
        rc = quarry_verify(dir, &err);
        if (rc != QUARRY_EFORMAT || !strstr(err.msg, want))
            fail_msg("%s of version %u: quarry_verify returned %d (%s), expected QUARRY_EFORMAT saying \"%s\"",
                     kinds[k], QF_VERSION - 1, rc, rc ? err.msg : "no error", want);
        nchecks += 2;
        ttmp_remove(dir);
        free_files(f);
    }
}

static void test_summary(void **state)
{
    (void)state;
    print_message("      %u checks on damaged indexes with valid checksums\n", nchecks);
    assert_true(nchecks > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_undamaged),
        cmocka_unit_test(test_terms_order),
        cmocka_unit_test(test_positions_equal),
        cmocka_unit_test(test_positions_wrap),
        cmocka_unit_test(test_doc_past_units),
        cmocka_unit_test(test_skip_last_doc),
        cmocka_unit_test(test_unit_article),
        cmocka_unit_test(test_id_order),
        cmocka_unit_test(test_id_hash),
        cmocka_unit_test(test_fp_index),
        cmocka_unit_test(test_date_key),
        cmocka_unit_test(test_meta_postings),
        cmocka_unit_test(test_text_block),
        cmocka_unit_test(test_older_version),
        cmocka_unit_test(test_summary),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
