/*
 * qtest.c — the oracle tests' shared helpers (see qtest.h).
 */
#define _GNU_SOURCE
#include "qtest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <sys/stat.h>
#include <zlib.h>

#include "index/reader.h"

/* ------------------------------------------------------------ random */

void trng_seed(trng *r, uint64_t salt)
{
    const char *s = getenv("QUARRY_TEST_SEED");
    r->s = (s && *s ? strtoull(s, NULL, 0) : 20261130ull) * 1000003ull + salt;
}

uint64_t trng_next(trng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t trng_below(trng *r, uint32_t n) { return n ? (uint32_t)(trng_next(r) % n) : 0; }
double trng_unif(trng *r) { return (double)(trng_next(r) >> 11) * 0x1.0p-53; }

/* ------------------------------------------------------------ memory, strings */

void *txmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

void *txrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    assert_non_null(p);
    return p;
}

char *txstrdup(const char *s)
{
    char *p = strdup(s);
    assert_non_null(p);
    return p;
}

void tsb_add(tsb *s, const char *t, size_t n)
{
    if (s->n + n + 1 > s->cap) {
        s->cap = (s->n + n + 1) * 2;
        s->p = txrealloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, t, n);
    s->n += n;
    s->p[s->n] = 0;
}

void tsb_puts(tsb *s, const char *t) { tsb_add(s, t, strlen(t)); }

void tsb_printf(tsb *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    tsb_add(s, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1));
}

/* ------------------------------------------------------------ files */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

quarry_writer *twriter_open(const char *dir, const quarry_index_options *o)
{
    quarry_writer *w;
    quarry_error err;
    if (quarry_writer_open(dir, o, &w, &err))
        fail_msg("quarry_writer_open %s: %s", dir, err.msg);
    return w;
}

quarry_writer *twriter_verbatim(const char *dir)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.stemmer = "none";
    o.stopwords = "none";
    o.passages = 0;
    o.threads = 1;
    return twriter_open(dir, &o);
}

char *ttmp_make(const char *tag)
{
    char *d = txmalloc(160);
    snprintf(d, 160, "/tmp/quarry-test-%s-XXXXXX", tag);
    assert_non_null(mkdtemp(d));
    return d;
}

void ttmp_remove(char *d)
{
    if (d)
        nftw(d, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

const char *tcorpus_dir(void)
{
    const char *c = getenv("QUARRY_CORPUS");
    return c && *c ? c : "../shared/corpus";
}

void tskip(const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    print_message("SKIP: %s\n", why);
    fflush(stdout);
    skip();
    abort();   /* skip() does not return */
}

/* ------------------------------------------------------------ collections */

void tcoll_add(tcoll *c, const char *id, const char *title, const char *text)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->d = txrealloc(c->d, c->cap * sizeof *c->d);
    }
    c->d[c->n].id = txstrdup(id);
    c->d[c->n].title = txstrdup(title);
    c->d[c->n].text = txstrdup(text);
    c->d[c->n].date = NULL;
    c->n++;
}

void tcoll_dates(tcoll *c, size_t from, uint64_t salt)
{
    trng r;
    trng_seed(&r, salt);
    for (size_t i = from; i < c->n; i++) {
        free(c->d[i].date);
        c->d[i].date = NULL;
        uint32_t kind = trng_below(&r, 20);
        if (kind < 2)
            continue;   /* none */
        if (kind == 2) {
            c->d[i].date = txstrdup(trng_below(&r, 2) ? "n/a" : "");   /* no year: key 0 */
            continue;
        }
        unsigned y = 2024 + trng_below(&r, 2), m = 1 + 3 * trng_below(&r, 4), d = 1 + 7 * trng_below(&r, 5),
                 h = 8 + trng_below(&r, 3), mi = 15 * trng_below(&r, 2), sec = 30 * trng_below(&r, 2);
        char buf[64];
        if (kind < 5)
            snprintf(buf, sizeof buf, "%u", y);
        else if (kind < 8)
            snprintf(buf, sizeof buf, "%u-%02u", y, m);
        else if (kind < 15)
            snprintf(buf, sizeof buf, "%u-%02u-%02u", y, m, d);
        else if (kind < 18)
            snprintf(buf, sizeof buf, "%u-%02u-%02uT%02u:%02u", y, m, d, h, mi);
        else
            snprintf(buf, sizeof buf, "%u-%02u-%02u %02u:%02u:%02u", y, m, d, h, mi, sec);
        c->d[i].date = txstrdup(buf);
    }
}

void tcoll_free(tcoll *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->d[i].id);
        free(c->d[i].title);
        free(c->d[i].text);
        free(c->d[i].date);
    }
    free(c->d);
    memset(c, 0, sizeof *c);
}

void tcoll_generate(tcoll *c, trng *r, size_t nbase, const char *prefix)
{
    static const char *const stop[] = { "the", "of", "and", "to", "in", "a", "is", "for", "on", "that" };
    enum { NV = 4000 };
    char **vocab = txmalloc(NV * sizeof *vocab);
    double *cdf = txmalloc(NV * sizeof *cdf);
    static const char cons[] = "bdfgklmnprstvz", vow[] = "aeiou";
    for (size_t i = 0; i < NV; i++) {
        char w[32];
        if (i < sizeof stop / sizeof *stop)
            snprintf(w, sizeof w, "%s", stop[i]);
        else {   /* made-up words; an index suffix keeps them distinct */
            size_t n = 0, syl = 1 + trng_below(r, 3);
            for (size_t s = 0; s < syl; s++) {
                w[n++] = cons[trng_below(r, sizeof cons - 1)];
                w[n++] = vow[trng_below(r, sizeof vow - 1)];
            }
            snprintf(w + n, sizeof w - n, "%zx", i);
        }
        vocab[i] = txstrdup(w);
    }
    double acc = 0;
    for (size_t i = 0; i < NV; i++)
        cdf[i] = acc += 1.0 / (double)(i + 1);
    size_t first = c->n, id = 0;
    for (size_t d = 0; d < nbase; d++) {
        tsb title = { 0 }, text = { 0 };
        double u = trng_unif(r);
        size_t nw = u < 0.5 ? 3 + trng_below(r, 20) : u < 0.9 ? 20 + trng_below(r, 150) : 200 + trng_below(r, 1500);
        size_t nt = trng_below(r, 7);
        tsb_puts(&title, "");
        for (size_t i = 0; i < nt + nw; i++) {
            double x = trng_unif(r) * cdf[NV - 1];
            size_t lo = 0, hi = NV - 1;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cdf[mid] < x)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            tsb *s = i < nt ? &title : &text;
            if (i && i != nt)
                tsb_puts(s, i > nt && trng_below(r, 40) == 0 ? ".\n\n" : " ");
            tsb_puts(s, vocab[lo]);
        }
        char name[64];
        snprintf(name, sizeof name, "%s%zu", prefix, id++);
        tcoll_add(c, name, title.p, text.p);
        free(title.p);
        free(text.p);
        /* copies of a third of the documents, each after a later one */
        if (d % 3 == 0 && d > 0)
            for (size_t k = 0, nc = 2 + trng_below(r, 4); k < nc; k++) {
                const tdoc *o = &c->d[first + trng_below(r, (uint32_t)(c->n - first))];
                char *t1 = txstrdup(o->title), *t2 = txstrdup(o->text);
                snprintf(name, sizeof name, "%s%zu", prefix, id++);
                tcoll_add(c, name, t1, t2);
                free(t1);
                free(t2);
            }
    }
    for (size_t i = 0; i < NV; i++)
        free(vocab[i]);
    free(vocab);
    free(cdf);
}

/* The JSON string value of "key" in one JSON Lines object, its escapes
 * decoded (NUL as a space); NULL when absent. */
static char *json_field(const char *line, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(line, pat);
    if (!p)
        return NULL;
    p = strchr(p + strlen(pat), '"');
    if (!p)
        return NULL;
    tsb s = { 0 };
    tsb_puts(&s, "");
    for (p++; *p && *p != '"'; p++) {
        if (*p != '\\') {
            tsb_add(&s, p, 1);
            continue;
        }
        char e = *++p;
        if (!e)
            break;
        if (e == 'u') {   /* \uXXXX (and a surrogate pair) as UTF-8; a bad one as U+FFFD */
            unsigned cp = 0xFFFD;
            if (sscanf(p + 1, "%4x", &cp) == 1 && strspn(p + 1, "0123456789abcdefABCDEF") >= 4) {
                p += 4;
                unsigned lo;
                if (cp >= 0xD800 && cp < 0xDC00 && p[1] == '\\' && p[2] == 'u' && sscanf(p + 3, "%4x", &lo) == 1 &&
                    lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else if (cp >= 0xD800 && cp < 0xE000)
                    cp = 0xFFFD;
            }
            char u[4];
            size_t k = 0;
            if (cp < 0x80)
                u[k++] = (char)cp;
            else if (cp < 0x800) {
                u[k++] = (char)(0xC0 | cp >> 6);
                u[k++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                u[k++] = (char)(0xE0 | cp >> 12);
                u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[k++] = (char)(0x80 | (cp & 0x3F));
            } else {
                u[k++] = (char)(0xF0 | cp >> 18);
                u[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[k++] = (char)(0x80 | (cp & 0x3F));
            }
            if (cp == 0)
                tsb_puts(&s, " ");   /* a NUL would end the C string */
            else
                tsb_add(&s, u, k);
        } else
            tsb_add(&s, e == 'n' ? "\n" : e == 't' ? "\t" : e == 'r' ? "\r" : e == 'b' || e == 'f' ? " " : &e, 1);
    }
    return s.p;
}

int tcoll_load_jsonl(tcoll *c, const char *path, size_t n, int copies)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return 0;
    size_t first = c->n;
    tsb cur = { 0 };
    char buf[1 << 16];
    while (c->n - first < n && gzgets(g, buf, sizeof buf)) {
        tsb_puts(&cur, buf);
        if (!cur.n || cur.p[cur.n - 1] != '\n')
            continue;
        char *id = json_field(cur.p, "id"), *title = json_field(cur.p, "title"), *text = json_field(cur.p, "text");
        char *date = json_field(cur.p, "date");
        if (id && text) {
            tcoll_add(c, id, title ? title : "", text);
            c->d[c->n - 1].date = date;
            date = NULL;
        }
        free(date);
        free(id);
        free(title);
        free(text);
        cur.n = 0;
    }
    gzclose(g);
    free(cur.p);
    size_t got = c->n - first;
    for (int k = 1; k < copies; k++)
        for (size_t i = 0; i < got; i++) {
            char id[512];
            snprintf(id, sizeof id, "%s#r%d", c->d[first + i].id, k);
            tcoll_add(c, id, c->d[first + i].title, c->d[first + i].text);
            if (c->d[first + i].date)
                c->d[c->n - 1].date = txstrdup(c->d[first + i].date);
        }
    return 1;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void tcoll_write(const tcoll *c, size_t from, size_t to, const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = from; i < to; i++) {
        fputs("{\"id\":", f);
        json_string(f, c->d[i].id);
        fputs(",\"title\":", f);
        json_string(f, c->d[i].title);
        fputs(",\"text\":", f);
        json_string(f, c->d[i].text);
        if (c->d[i].date) {
            fputs(",\"date\":", f);
            json_string(f, c->d[i].date);
        }
        fputs("}\n", f);
    }
    assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------ vocabulary */

static int on_term(void *ctx, const uint8_t *term, uint32_t len, const qx_term *t)
{
    tvocab *v = ctx;
    (void)t;
    if (len && term[0] == 0xff)   /* a pair term (FORMAT.md §pairs), not a word */
        return 0;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1024;
        v->v = txrealloc(v->v, v->cap * sizeof *v->v);
    }
    v->v[v->n].s = strndup((const char *)term, len);
    assert_non_null(v->v[v->n].s);
    v->v[v->n].df = t->df;
    v->n++;
    return 0;
}

static int by_df(const void *a, const void *b)
{
    const struct tvterm *x = a, *y = b;
    return x->df != y->df ? (x->df < y->df) - (x->df > y->df) : strcmp(x->s, y->s);
}

void tvocab_load(tvocab *v, quarry_index *ix)
{
    memset(v, 0, sizeof *v);
    quarry_error err;
    for (size_t s = 0; s < ix->nseg; s++)
        assert_int_equal(qx_each_term(&ix->seg[s], on_term, v, &err), 0);
    qsort(v->v, v->n, sizeof *v->v, by_df);
}

void tvocab_free(tvocab *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i].s);
    free(v->v);
    memset(v, 0, sizeof *v);
}

const char *tvocab_band(const tvocab *v, trng *r, int band)
{
    size_t lo, hi;
    switch (band) {
    case 0: lo = 0; hi = 20; break;
    case 1: lo = 20; hi = 320; break;
    case 2: lo = 320; hi = v->n / 2; break;
    default: lo = v->n / 2; hi = v->n; break;
    }
    if (hi > v->n)
        hi = v->n;
    if (lo >= hi)
        lo = 0;
    return v->n ? v->v[lo + trng_below(r, (uint32_t)(hi - lo))].s : "the";
}

const char *tvocab_any(const tvocab *v, trng *r)
{
    double u = trng_unif(r);
    return tvocab_band(v, r, u < 0.3 ? 0 : u < 0.6 ? 1 : u < 0.85 ? 2 : 3);
}

/* ------------------------------------------------------------ queries */

typedef struct spans {
    struct {
        uint32_t start, end;
    } *v;
    size_t n, cap;
} spans;

static int on_span(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    (void)term;
    (void)len;
    (void)pos;
    spans *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = txrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n].start = start;
    s->v[s->n].end = end;
    s->n++;
    return 0;
}

/* 2-4 consecutive words of a random live passage (or title), as written
 * there, quoted; NULL when it is too short. */
static char *pick_phrase(quarry_index *ix, trng *r, int title)
{
    quarry_info in;
    quarry_info_get(ix, &in);
    quarry_error err;
    char *text = NULL;
    size_t len = 0;
    if (in.passages == 0)
        return NULL;
    if (title) {
        quarry_article a;
        if (quarry_article_get(ix, trng_below(r, (uint32_t)in.articles), &a, &err))
            return NULL;
        text = txstrdup(a.title);
        len = strlen(text);
    } else if (quarry_passage_text(ix, trng_below(r, (uint32_t)in.passages), &text, &len, &err))
        return NULL;
    spans s = { 0 };
    quarry_analyze(ix, text, len, on_span, &s, &err);
    char *out = NULL;
    size_t w = 2 + trng_below(r, 3);
    if (s.n >= w) {
        size_t i = trng_below(r, (uint32_t)(s.n - w + 1));
        tsb q = { 0 };
        tsb_puts(&q, title ? "title:\"" : "\"");
        for (uint32_t b = s.v[i].start; b < s.v[i + w - 1].end; b++)
            if (text[b] != '"' && text[b] != '\\' && (unsigned char)text[b] >= ' ')
                tsb_add(&q, text + b, 1);
            else
                tsb_puts(&q, " ");
        tsb_puts(&q, "\"");
        out = q.p;
    }
    free(s.v);
    free(text);
    return out;
}

char *tquery_make(quarry_index *ix, const tvocab *v, trng *r, int shape, int *plain)
{
    tsb q = { 0 };
    *plain = 0;
    switch (shape) {
    case TQ_OR: {
        size_t n = trng_unif(r) < 0.7 ? 1 + trng_below(r, 4) : 5 + trng_below(r, 16);
        for (size_t i = 0; i < n; i++)
            tsb_printf(&q, "%s%s", i ? " " : "", tvocab_any(v, r));
        break;
    }
    case TQ_AND: {
        size_t n = 2 + trng_below(r, 3);
        for (size_t i = 0; i < n; i++)
            tsb_printf(&q, "%s+%s", i ? " " : "", tvocab_band(v, r, i == 0 ? (int)trng_below(r, 4) : (int)trng_below(r, 3)));
        break;
    }
    case TQ_PHRASE: {
        if (trng_unif(r) < 0.1) {   /* a title:-restricted word alone: also read by positions */
            tsb_printf(&q, "title:%s", tvocab_any(v, r));
            break;
        }
        char *p = pick_phrase(ix, r, trng_unif(r) < 0.2);
        tsb_puts(&q, p ? p : "\"the of\"");
        free(p);
        break;
    }
    case TQ_MIXED: {
        const char *a = tvocab_any(v, r), *b = tvocab_any(v, r), *c = tvocab_any(v, r);
        const char *d = tvocab_band(v, r, (int)trng_below(r, 2));
        char *p = pick_phrase(ix, r, 0);
        switch (trng_below(r, 9)) {
        case 0: tsb_printf(&q, "+%s %s -%s", a, b, c); break;
        case 1: tsb_printf(&q, "(%s OR %s) AND %s", a, b, d); break;
        case 2: tsb_printf(&q, "%s %s", p ? p : "\"of the\"", a); break;
        case 3: tsb_printf(&q, "title:%s %s %s", a, b, d); break;
        case 4: tsb_printf(&q, "+%s -%s", p ? p : "\"in the\"", c); break;
        case 5: tsb_printf(&q, "%s %s NOT %s", a, b, d); break;
        case 6: tsb_printf(&q, "+%s +(%s %s) %s", d, a, b, c); break;
        case 7: tsb_printf(&q, "%s AND %s AND NOT %s", d, a, b); break;
        default: tsb_printf(&q, "(%s %s) (%s OR %s) -%s", a, b, c, d, tvocab_band(v, r, 3)); break;
        }
        free(p);
        break;
    }
    default: {
        size_t n = 1 + trng_below(r, 8);
        for (size_t i = 0; i < n; i++)
            tsb_printf(&q, "%s%s", i ? " " : "", tvocab_any(v, r));
        *plain = 1;
        break;
    }
    }
    return q.p;
}

void treuters_load(tcoll *c, size_t n, int copies, char *tmp)
{
    char src[1024];
    snprintf(src, sizeof src, "%s/reuters21578/docs.jsonl.gz", tcorpus_dir());
    if (tcoll_load_jsonl(c, src, n, copies))
        return;
    if (tmp)
        ttmp_remove(tmp);
    tskip("%s is not there (set QUARRY_CORPUS)", src);
}
