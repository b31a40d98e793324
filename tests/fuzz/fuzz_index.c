/*
 * fuzz_index.c — fuzz harness of the index readers (src/index/reader.c,
 * verify.c, the engine, the text store, dump): damaged index files.
 *
 * Once: an index of corpus/ plus generated articles (passages on, so there
 * are several dictionary blocks, multi-block postings with skip tables and
 * several text blocks) is built and its files kept in memory.
 *
 * Each input is a list of edits applied to copies of those files:
 *
 *   byte 0          the file edited first: 0..6 = meta dict post posn unit
 *                   arts text, 7 = the MANIFEST's text before its crc line
 *   then records    op byte (op % 7), most followed by a u32 offset (LE;
 *                   bits 0-30 modulo the size of the file, counted from
 *                   its end when bit 31 is set, so trailers are in reach)
 *                   and a count byte:
 *     0 overwrite   off, n, n bytes
 *     1 truncate    off: the file is cut to that many bytes
 *     2 insert      off, n, n bytes inserted
 *     3 delete      off, n: n bytes removed
 *     4 integer     off, sel: a u32 or u64 from a table of edge values
 *     5 switch      next byte: the file later edits apply to
 *     6 text block  off, n, n bytes = block selector, op (0 overwrite,
 *                   1 truncate, 2 insert), data: when the file is the .text
 *                   file, one zlib block is inflated, edited at off,
 *                   deflated again and the block directory and trailer
 *                   moved to match (zlib would stop any other edit)
 *
 * Then every edited file's CRC32 footer is recomputed and the MANIFEST
 * rewritten with the new sizes and footers and its own crc line, so that
 * the checksums do not stand in the way and the structural checks must
 * catch the damage. The index is then put through quarry_verify,
 * quarry_open, quarry_info_get, quarry_search (both algorithms, passage and
 * article hits, query language, plain and plain with expansion),
 * quarry_article_get / _text / _find for every article, quarry_passage_text,
 * quarry_dump_term and quarry_highlight. Every call must return OK or an
 * error code with a message; nothing may crash, hang or leak.
 */
#include <string.h>
#include <zlib.h>

#include "fuzz.h"
#include "quarry.h"

#define IX_NFILES 7
#define IX_MAX_GROW (64u << 10)   /* a file may grow by at most this much */
#define IX_MAX_ARTS 4096u         /* articles walked per input */
#define IX_MAN_MAX 4200u   /* MANIFEST text size limit of the edits */

static const char *const ix_kinds[IX_NFILES] = { "meta", "dict", "post", "posn", "unit", "arts", "text" };

typedef struct ix_file {
    char name[64];
    uint8_t *p;
    size_t len, cap;
} ix_file;

static ix_file ix_orig[IX_NFILES + 1];   /* [IX_NFILES]: the MANIFEST text before its crc line */
static ix_file ix_work[IX_NFILES + 1];
static unsigned long long ix_segment;
static char ix_dir[256];
static int ix_ready;
static int ix_verified;   /* quarry_verify passed on this input's index */

static void ix_cleanup(void)
{
    for (int i = 0; i <= IX_NFILES; i++) {
        free(ix_orig[i].p);
        free(ix_work[i].p);
    }
    memset(ix_orig, 0, sizeof ix_orig);
    memset(ix_work, 0, sizeof ix_work);
    if (ix_dir[0])
        fuzz_rmdir(ix_dir);
    ix_dir[0] = 0;
    ix_ready = 0;
}

static void ix_slurp(const char *dir, const char *name, ix_file *f)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "rb");
    FUZZ_CHECK(fp != NULL, "cannot open %s", p);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    FUZZ_CHECK(n > 0, "%s is empty", p);
    f->p = malloc((size_t)n + 1);   /* NUL-terminated too (the MANIFEST is read with sscanf) */
    FUZZ_CHECK(f->p != NULL, "out of memory");
    FUZZ_CHECK(fread(f->p, 1, (size_t)n, fp) == (size_t)n, "cannot read %s", p);
    f->p[n] = 0;
    fclose(fp);
    f->len = f->cap = (size_t)n;
    snprintf(f->name, sizeof f->name, "%s", name);
}

static void ix_init(void)
{
    if (ix_ready)
        return;
    char src[256];
    fuzz_mkdtemp(src, sizeof src, "index-src");
    fuzz_build_index(src, 40, 240);
    ix_file man;
    ix_slurp(src, "MANIFEST", &man);
    const char *sl = strstr((const char *)man.p, "\nsegment ");
    FUZZ_CHECK(sl && sscanf(sl, "\nsegment %llx", &ix_segment) == 1, "cannot read the segment of %s/MANIFEST", src);
    for (int i = 0; i < IX_NFILES; i++) {
        char name[64];
        snprintf(name, sizeof name, "s%016llx.%s", ix_segment, ix_kinds[i]);
        ix_slurp(src, name, &ix_orig[i]);
    }
    free(man.p);
    fuzz_rmdir(src);
    fuzz_mkdtemp(ix_dir, sizeof ix_dir, "index");
    for (int i = 0; i <= IX_NFILES; i++) {
        size_t cap = (i < IX_NFILES ? ix_orig[i].len : 4096) + IX_MAX_GROW + 64;
        ix_work[i].p = malloc(cap);
        ix_work[i].cap = cap;
        FUZZ_CHECK(ix_work[i].p != NULL, "out of memory");
        if (i < IX_NFILES)
            memcpy(ix_work[i].name, ix_orig[i].name, sizeof ix_work[i].name);
        else
            memcpy(ix_work[i].name, "MANIFEST", sizeof "MANIFEST");
    }
    ix_ready = 1;
    atexit(ix_cleanup);
}

/* ------------------------------------------------------------ edits */

typedef struct ix_in {
    const uint8_t *p, *end;
} ix_in;

static unsigned ix_byte(ix_in *in)
{
    return in->p < in->end ? *in->p++ : 0;
}

static uint32_t ix_u32(ix_in *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)ix_byte(in) << (8 * i);
    return v;
}

/* A position in [0, n) (n > 0) from an offset: bit 31 counts from the end. */
static size_t ix_pos(uint32_t off, size_t n)
{
    size_t k = (off & 0x7fffffffu) % n;
    return off & 0x80000000u ? n - 1 - k : k;
}

static uint64_t ix_ld(const uint8_t *p, int w)
{
    uint64_t v = 0;
    for (int i = 0; i < w; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void ix_st(uint8_t *p, uint64_t v, int w)
{
    for (int i = 0; i < w; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Op 6 on the .text file: inflates block bytes[0], applies edit bytes[1]
 * (0 overwrite, 1 truncate, 2 insert bytes[2..n)) at `off` of its raw
 * contents, deflates it back and moves what follows (index/FORMAT.md "text":
 * blocks, directory of 20-byte entries, 24-byte trailer, 4-byte footer). */
static void ix_text_edit(ix_file *f, size_t limit, uint32_t off, const uint8_t *bytes, size_t n)
{
    if (n < 2 || f->len < 16 + 24 + 4)
        return;
    uint8_t *tr = f->p + f->len - 4 - 24;
    uint64_t nb = ix_ld(tr, 8), dir_at = ix_ld(tr + 16, 8), dir_end = (uint64_t)(tr - f->p);
    if (nb == 0 || dir_at > dir_end || (dir_end - dir_at) / 20 < nb)
        return;
    uint8_t *e = f->p + dir_at + 20 * (bytes[0] % nb);
    uint64_t boff = ix_ld(e, 8), clen = ix_ld(e + 8, 4), ulen = ix_ld(e + 12, 4);
    if (boff > dir_at || clen > dir_at - boff || ulen > (1u << 20))
        return;
    uint8_t *raw = malloc(ulen + n + 1);
    uLongf got = (uLongf)ulen;
    if (!raw || uncompress(raw, &got, f->p + boff, (uLong)clen) != Z_OK || got != ulen) {
        free(raw);
        return;
    }
    size_t rl = (size_t)ulen, dn = n - 2;
    const uint8_t *d = bytes + 2;
    switch (bytes[1] % 3) {
    case 0:
        if (rl) {
            size_t at = ix_pos(off, rl);
            memcpy(raw + at, d, dn < rl - at ? dn : rl - at);
        }
        break;
    case 1:
        rl = ix_pos(off, rl + 1);
        break;
    default: {
        size_t at = ix_pos(off, rl + 1);
        memmove(raw + at + dn, raw + at, rl - at);
        memcpy(raw + at, d, dn);
        rl += dn;
        break;
    }
    }
    uLongf cl2 = compressBound((uLong)rl);
    uint8_t *z = malloc(cl2);
    if (!z || compress2(z, &cl2, raw, (uLong)rl, 6) != Z_OK || f->len - clen + cl2 > limit) {
        free(z);
        free(raw);
        return;
    }
    /* the compressed bytes in place of the old, what follows moved */
    size_t tail = (size_t)(boff + clen), nlen = f->len - (size_t)clen + cl2;
    memmove(f->p + boff + cl2, f->p + tail, f->len - tail);
    memcpy(f->p + boff, z, cl2);
    int64_t delta = (int64_t)cl2 - (int64_t)clen;
    f->len = nlen;
    uint8_t *dir = f->p + dir_at + delta;
    for (uint64_t i = 0; i < nb; i++) {
        uint8_t *x = dir + 20 * i;
        uint64_t o = ix_ld(x, 8);
        if (o == boff) {
            ix_st(x + 8, cl2, 4);
            ix_st(x + 12, rl, 4);
        } else if (o > boff) {
            ix_st(x, o + (uint64_t)delta, 8);
        }
    }
    ix_st(f->p + f->len - 4 - 24 + 16, dir_at + (uint64_t)delta, 8);
    free(z);
    free(raw);
}

/* Reads one edit record and applies it to f (NULL: only reads it). A
 * file never grows past `limit` bytes. */
static void ix_apply(ix_file *f, size_t limit, ix_in *in)
{
    static const uint64_t edge[] = {
        0, 1, 2, 7, 8, 15, 16, 20, 31, 32, 127, 128, 129, 255, 256, 0x7fff, 0xffff, 0x10000,
        0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu, 0x100000000ull, 0x7fffffffffffffffull,
        0x8000000000000000ull, 0xfffffffffffffffeull, 0xffffffffffffffffull,
    };
    unsigned op = ix_byte(in) % 7;
    uint32_t off = ix_u32(in);
    size_t n = 0;
    const uint8_t *bytes = NULL;
    if (op != 1)
        n = ix_byte(in);
    if (op == 0 || op == 2 || op == 6) {   /* n bytes of data follow */
        if ((size_t)(in->end - in->p) < n)
            n = (size_t)(in->end - in->p);
        bytes = in->p;
        in->p += n;
    }
    if (!f)
        return;
    switch (op) {
    case 0: {   /* overwrite */
        if (f->len == 0)
            break;
        size_t at = ix_pos(off, f->len);
        if (n > f->len - at)
            n = f->len - at;
        memcpy(f->p + at, bytes, n);
        break;
    }
    case 1:     /* truncate */
        f->len = ix_pos(off, f->len + 1);
        break;
    case 2: {   /* insert */
        if (f->len + n > limit)
            n = f->len < limit ? limit - f->len : 0;
        size_t at = ix_pos(off, f->len + 1);
        memmove(f->p + at + n, f->p + at, f->len - at);
        memcpy(f->p + at, bytes, n);
        f->len += n;
        break;
    }
    case 3: {   /* delete */
        if (f->len == 0)
            break;
        size_t at = ix_pos(off, f->len);
        if (n > f->len - at)
            n = f->len - at;
        memmove(f->p + at, f->p + at + n, f->len - at - n);
        f->len -= n;
        break;
    }
    case 4: {   /* an edge value, u32 or u64 (n selects it) */
        uint64_t v = edge[(n >> 1) % (sizeof edge / sizeof edge[0])];
        size_t w = n & 1 ? 8 : 4;
        if (f->len < w)
            break;
        size_t at = ix_pos(off, f->len - w + 1);
        for (size_t i = 0; i < w; i++)
            f->p[at + i] = (uint8_t)(v >> (8 * i));
        break;
    }
    case 6:
        if (f == &ix_work[6])
            ix_text_edit(f, limit, off, bytes, n);
        break;
    default:
        break;
    }
}

/* Walks the edit list; applies the edits of the data files (manifest 0) or
 * those of the MANIFEST text (manifest 1), reading past the others.
 * Returns 1 when some edit is for the MANIFEST. */
static int ix_edit(const uint8_t *data, size_t size, int manifest)
{
    ix_in in = { data, data + size };
    unsigned cur = ix_byte(&in) % (IX_NFILES + 1);
    int any = 0;
    while (in.p < in.end) {
        if (*in.p % 7 == 5) {   /* switch */
            in.p++;
            cur = ix_byte(&in) % (IX_NFILES + 1);
            continue;
        }
        int is_man = cur == IX_NFILES;
        any |= is_man;
        size_t limit = is_man ? IX_MAN_MAX : ix_orig[cur].len + IX_MAX_GROW;
        ix_apply(is_man == manifest ? &ix_work[cur] : NULL, limit, &in);
    }
    return any;
}

/* Writes the edited files and a MANIFEST that matches them. */
static void ix_write(int edited_manifest)
{
    char path[4096];
    for (int i = 0; i < IX_NFILES; i++) {
        ix_file *f = &ix_work[i];
        if (f->len >= 4) {   /* the CRC32 footer of header + body */
            uint32_t c = (uint32_t)crc32(0L, f->p, (uInt)(f->len - 4));
            for (int k = 0; k < 4; k++)
                f->p[f->len - 4 + k] = (uint8_t)(c >> (8 * k));
        }
        snprintf(path, sizeof path, "%s/%s", ix_dir, f->name);
        FILE *fp = fopen(path, "wb");
        FUZZ_CHECK(fp != NULL, "cannot create %s", path);
        FUZZ_CHECK(fwrite(f->p, 1, f->len, fp) == f->len && fclose(fp) == 0, "cannot write %s", path);
    }
    /* MANIFEST: the body (made now unless the input edited it), then its crc line */
    ix_file *m = &ix_work[IX_NFILES];
    if (!edited_manifest) {
        int n = snprintf((char *)m->p, m->cap,
                         "quarry-manifest 2\ngeneration 0000000000000001\nnext-segment %016llx\n"
                         "segment %016llx delgen 0000000000000000\n", ix_segment + 1, ix_segment);
        for (int i = 0; i < IX_NFILES; i++) {
            const ix_file *f = &ix_work[i];
            uint32_t footer = f->len >= 4 ? (uint32_t)f->p[f->len - 4] | (uint32_t)f->p[f->len - 3] << 8 |
                                                (uint32_t)f->p[f->len - 2] << 16 | (uint32_t)f->p[f->len - 1] << 24
                                          : 0;
            n += snprintf((char *)m->p + n, m->cap - (size_t)n, "file %s %zu %08lx\n", f->name, f->len,
                          (unsigned long)footer);
        }
        m->len = (size_t)n;
    }
    char crcline[32];
    int cl = snprintf(crcline, sizeof crcline, "crc %08lx\n", (unsigned long)crc32(0L, m->p, (uInt)m->len));
    snprintf(path, sizeof path, "%s/MANIFEST", ix_dir);
    FILE *fp = fopen(path, "wb");
    FUZZ_CHECK(fp != NULL, "cannot create %s", path);
    FUZZ_CHECK(fwrite(m->p, 1, m->len, fp) == m->len && fwrite(crcline, 1, (size_t)cl, fp) == (size_t)cl &&
               fclose(fp) == 0, "cannot write %s", path);
}

/* ------------------------------------------------------------ checks */

/* An error of a call on the index: a code with a message; and no damage
 * found when quarry_verify, which checks every invariant, found none. */
static void ix_error(int rc, const quarry_error *err, const char *what)
{
    fuzz_check_error(rc, err, what);
    FUZZ_CHECK(!ix_verified || rc != QUARRY_ECORRUPT, "quarry_verify passed, but %s: %s", what, err->msg);
}

static int ix_on_posting(void *ctx, uint32_t passage, uint32_t tf, const uint32_t *positions)
{
    const quarry_info *info = ctx;
    FUZZ_CHECK(positions != NULL && tf > 0, "posting of passage %u: tf %u, positions %p", passage, tf,
               (const void *)positions);
    FUZZ_CHECK(passage < info->passages, "posting of passage %u of %llu", passage,
               (unsigned long long)info->passages);
    volatile uint32_t sink = 0;
    for (uint32_t i = 0; i < tf; i++)   /* every position must be readable */
        sink += positions[i];
    (void)sink;
    return 0;
}

static int ix_on_term(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    FUZZ_CHECK(len > 0 && term[len] == 0, "analyzed term of %zu bytes", len);
    return 0;
}

static quarry_results *ix_search(quarry_index *ix, const char *q, int algo, int passages, int plain, int expand,
                                 int deep)
{
    quarry_search_options o;
    quarry_search_options_init(&o);
    o.k = 5;
    o.algorithm = algo;
    o.passages = passages;
    o.plain = plain;
    o.expand = expand;
    quarry_results *r = NULL;
    quarry_error err;
    memset(&err, 0, sizeof err);
    int rc = quarry_search(ix, q, &o, &r, &err);
    if (rc) {
        FUZZ_CHECK(rc == QUARRY_ECORRUPT || rc == QUARRY_ENOTERMS || rc == QUARRY_ENOMEM,
                   "quarry_search \"%s\" returned %d: %s", q, rc, err.msg);
        ix_error(rc, &err, "quarry_search");
        return NULL;
    }
    fuzz_check_results(ix, r, o.k, passages, ix_verified, deep);
    return r;
}

static void ix_read_all(quarry_index *ix)
{
    static const char *const queries[] = {
        "russia", "belt road investment", "\"belt and road\"", "title:report", "+china -russia",
        "(oil OR gas) AND NOT pipeline",
    };
    quarry_info info;
    FUZZ_CHECK(quarry_info_get(ix, &info) == 0, "quarry_info_get failed");
    FUZZ_CHECK(info.nkinds >= 7 && info.nkinds <= 8, "%zu kinds of file", info.nkinds);
    FUZZ_CHECK(memchr(info.language, 0, sizeof info.language) && memchr(info.stemmer, 0, sizeof info.stemmer),
               "analyzer names not terminated");

    quarry_results *keep = NULL;
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++)
        for (int algo = 0; algo < 2; algo++)
            for (int passages = 0; passages < 2; passages++) {
                quarry_results *r = ix_search(ix, queries[q], algo, passages, 0, 0, algo == 0);
                if (r && !keep)
                    keep = r;
                else
                    quarry_results_free(r);
            }
    for (int passages = 0; passages < 2; passages++) {
        quarry_results_free(ix_search(ix, "russia china investment arctic", QUARRY_ALGO_AUTO, passages, 1, 1, 1));
        quarry_results_free(ix_search(ix, "sanctions the oil", QUARRY_ALGO_EXHAUSTIVE, passages, 1, 0, 1));
    }

    /* every article: record, text (highlighted), and back by its id */
    quarry_error err;
    uint64_t narts = info.articles < IX_MAX_ARTS ? info.articles : IX_MAX_ARTS;
    for (uint64_t a = 0; a < narts; a++) {
        quarry_article ar;
        int rc = quarry_article_get(ix, (uint32_t)a, &ar, &err);
        if (rc) {
            ix_error(rc, &err, "quarry_article_get");
            FUZZ_CHECK(rc == QUARRY_ECORRUPT, "quarry_article_get %llu returned %d: %s", (unsigned long long)a,
                       rc, err.msg);
            continue;
        }
        FUZZ_CHECK(ar.id && ar.title && ar.date, "article %llu has a NULL field", (unsigned long long)a);
        uint32_t found = UINT32_MAX;
        rc = quarry_article_find(ix, ar.id, &found, &err);
        if (rc)
            ix_error(rc, &err, "quarry_article_find");
        else
            FUZZ_CHECK(found < info.articles, "quarry_article_find gave article %u", found);
        FUZZ_CHECK(!ix_verified || (rc == 0 && found == a), "verified index: article %llu's id \"%s\" finds %d/%u",
                   (unsigned long long)a, ar.id, rc, found);
        char *text;
        size_t len;
        rc = quarry_article_text(ix, (uint32_t)a, &text, &len, &err);
        if (rc) {
            ix_error(rc, &err, "quarry_article_text");
            FUZZ_CHECK(rc == QUARRY_ECORRUPT || rc == QUARRY_ENOMEM, "quarry_article_text %llu returned %d: %s",
                       (unsigned long long)a, rc, err.msg);
            continue;
        }
        FUZZ_CHECK(text[len] == 0, "article text not NUL-terminated");
        if (keep && a < 8) {   /* (highlighting every article costs more than it finds) */
            quarry_span *sp;
            size_t nsp;
            rc = quarry_highlight(ix, keep, text, len, &sp, &nsp, &err);
            if (rc == 0) {
                for (size_t j = 0; j < nsp; j++)
                    FUZZ_CHECK(sp[j].start < sp[j].end && sp[j].end <= len, "span [%u, %u) in %zu bytes",
                               sp[j].start, sp[j].end, len);
                free(sp);
            } else {
                ix_error(rc, &err, "quarry_highlight");
            }
        }
        free(text);
    }
    quarry_results_free(keep);

    /* passages at the edges */
    uint64_t probe[4] = { 0, info.passages / 2, info.passages ? info.passages - 1 : 0, info.passages };
    for (int i = 0; i < 4; i++) {
        char *text;
        size_t len;
        int rc = quarry_passage_text(ix, (uint32_t)probe[i], &text, &len, &err);
        if (rc)
            ix_error(rc, &err, "quarry_passage_text");
        else
            free(text);
    }

    /* postings of a few terms, decoded in full */
    static const char *const terms[] = { "russia", "belt", "china", "report", "oil", "a", "zzzz", "" };
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
        uint64_t df, cf;
        int rc = quarry_dump_term(ix, terms[i], &df, &cf, ix_on_posting, &info, &err);
        if (rc)
            ix_error(rc, &err, "quarry_dump_term");
    }
    static const char sample[] = "Xi Jinping met Putin in Moscow; the Belt and Road's 3.5% growth";
    int rc = quarry_analyze(ix, sample, sizeof sample - 1, ix_on_term, NULL, &err);
    FUZZ_CHECK(rc == 0, "quarry_analyze: %s", err.msg);
}

int fuzz_index(const uint8_t *data, size_t size)
{
    ix_init();
    for (int i = 0; i < IX_NFILES; i++) {
        memcpy(ix_work[i].p, ix_orig[i].p, ix_orig[i].len);
        ix_work[i].len = ix_orig[i].len;
    }
    int edited_manifest = ix_edit(data, size, 0);
    if (edited_manifest) {   /* the MANIFEST text as it would be written, then edited */
        ix_write(0);
        ix_edit(data, size, 1);
    }
    ix_write(edited_manifest);

    quarry_error err;
    memset(&err, 0, sizeof err);
    int rc = quarry_verify(ix_dir, &err);
    if (rc)
        fuzz_check_error(rc, &err, "quarry_verify");
    ix_verified = rc == 0;
    /* no edit at all: the rewritten index is the one built, and sound */
    FUZZ_CHECK(size > 1 || rc == 0, "the unedited index does not verify: %s", err.msg);
    quarry_index *ix = NULL;
    memset(&err, 0, sizeof err);
    rc = quarry_open(ix_dir, &ix, &err);
    if (rc) {
        ix_error(rc, &err, "quarry_open");
        FUZZ_CHECK(rc == QUARRY_ECORRUPT || rc == QUARRY_EFORMAT || rc == QUARRY_ENOTFOUND || rc == QUARRY_ENOMEM,
                   "quarry_open returned %d: %s", rc, err.msg);
        return 0;
    }
    ix_read_all(ix);
    quarry_close(ix);
    return 0;
}
