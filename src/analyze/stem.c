/*
 * stem.c — what happens to a folded word: stop word check, English
 * possessive, libstemmer stemming; and the stem cache in front of it.
 *
 * Elision: for French, Italian and Catalan a leading elided article and
 * its apostrophe are removed ("l'économie" -> "économie", "dell'arte" ->
 * "arte"), with Lucene's article lists (FrenchAnalyzer, ItalianAnalyzer,
 * CatalanAnalyzer), before the stop word check.
 *
 * The cache maps a folded word to its final result (stop word, or the
 * stemmed term). It is an open-addressing table over a fixed arena,
 * MIN_SLOTS slots at first, doubled whenever it is half full up to
 * 2 * QA_CACHE_ENTRIES (a query or a few snippets touch a few of its pages,
 * not a megabyte of them); when it holds QA_CACHE_ENTRIES words or its
 * arena is full it is cleared and refilled, so its memory is bounded
 * (about 3 MiB) whatever the vocabulary. Words cut at QA_MAX_TERM bypass it
 * (their possessive handling depends on the cut). Cached and uncached
 * results are identical (tests/test_analyze.c checks it on real text).
 */
#include "analyze/analyze_int.h"
#include "base/sys.h"

#include <libstemmer.h>
#include <stdlib.h>

int qa_stemmer_open(const char *language, enum qa_stemmer_kind kind, struct sb_stemmer **out,
                    quarry_error *err)
{
    *out = NULL;
    if (kind == QA_STEM_NONE)
        return 0;
    struct sb_stemmer *s = sb_stemmer_new(kind == QA_STEM_PORTER ? "porter" : language, "UTF_8");
    if (!s)
        return qerr_set(err, QUARRY_ENOMEM, "cannot create the %s stemmer for '%s' (out of memory)",
                        kind == QA_STEM_PORTER ? "porter" : "snowball", language);
    *out = s;
    return 0;
}

void qa_stemmer_close(struct sb_stemmer *s)
{
    if (s)
        sb_stemmer_delete(s);
}

static const char *const french_elisions[] = {
    "l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu", NULL
};
static const char *const italian_elisions[] = {
    "c", "l", "all", "dall", "dell", "nell", "sull", "coll", "pell", "gl", "agl", "dagl", "degl",
    "negl", "sugl", "un", "m", "t", "s", "v", "d", NULL
};
static const char *const catalan_elisions[] = { "d", "l", "m", "n", "s", "t", NULL };

const char *const *qa_elisions(const char *language)
{
    if (strcmp(language, "french") == 0)
        return french_elisions;
    if (strcmp(language, "italian") == 0)
        return italian_elisions;
    if (strcmp(language, "catalan") == 0)
        return catalan_elisions;
    return NULL;
}

/* Copies w[0, n) into out, cut to QA_MAX_TERM bytes at a code point boundary. */
static uint32_t put_term(char *out, const char *w, size_t n)
{
    if (n > QA_MAX_TERM) {
        n = QA_MAX_TERM;
        while (n > 0 && ((uint8_t)w[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, w, n);
    out[n] = 0;
    return (uint32_t)n;
}

static int term_impl(qa_analyzer *a, const char *w, uint32_t n, int truncated, uint64_t h,
                     char *out, uint32_t *olen)
{
    if (a->elisions) {
        const char *q = memchr(w, '\'', n < 8 ? n : 8);
        if (q && (size_t)(q - w) + 1 < n) {
            size_t k = (size_t)(q - w);
            for (const char *const *e = a->elisions; *e; e++) {
                if (strlen(*e) == k && memcmp(*e, w, k) == 0) {
                    w += k + 1;
                    n -= (uint32_t)(k + 1);
                    h = qhash(w, n);
                    break;
                }
            }
        }
    }
    if (qa_stopset_has(&a->stops, w, n, h))
        return 0;
    if (a->english && !truncated) {
        if (n >= 3 && w[n - 2] == '\'' && w[n - 1] == 's') {
            n -= 2;
            if (qa_stopset_has(&a->stops, w, n, qhash(w, n)))
                return 0;
        } else if (n >= 2 && w[n - 1] == '\'') {
            n -= 1;     /* the tokenizer never leaves one, but a caller might */
        }
    }
    if (!a->stemmer) {
        *olen = put_term(out, w, n);
        return 1;
    }
    const sb_symbol *st = sb_stemmer_stem(a->stemmer, (const sb_symbol *)w, (int)n);
    if (!st)
        return -1;
    int sl = sb_stemmer_length(a->stemmer);
    if (sl <= 0)
        *olen = put_term(out, w, n);    /* never index an empty term */
    else
        *olen = put_term(out, (const char *)st, (size_t)sl);
    return 1;
}

int qa_term_uncached(qa_analyzer *a, const char *w, uint32_t n, int truncated, char *out, uint32_t *olen)
{
    return term_impl(a, w, n, truncated, qhash(w, n), out, olen);
}

/* ------------------------------------------------------------- cache */

#define MIN_SLOTS 1024u
#define MAX_SLOTS (2 * QA_CACHE_ENTRIES)

void qa_cache_free(qa_cache *c)
{
    free(c->slots);
    free(c->arena);
    memset(c, 0, sizeof *c);
}

static void cache_clear(qa_cache *c)
{
    memset(c->slots, 0, c->nslots * sizeof *c->slots);
    c->used = 1;        /* offset 0 means an empty slot */
    c->count = 0;
    c->clears++;
}

/* Doubles c's slots and places every entry of the arena again: 0, or -1
 * out of memory (the cache is left as it was). */
static int cache_grow(qa_cache *c)
{
    size_t n = 2 * c->nslots;
    qa_cache_slot *v = qcalloc(n, sizeof *v);
    if (!v)
        return -1;
    for (size_t off = 1; off < c->used;) {   /* entries: klen, vlen, stop, key, value */
        const uint8_t *e = c->arena + off;
        uint64_t h = qhash(e + 3, e[0]);
        size_t s = (size_t)(h >> 32) & (n - 1);
        while (v[s].off)
            s = (s + 1) & (n - 1);
        v[s].h = (uint32_t)h;
        v[s].off = (uint32_t)off;
        off += 3 + (size_t)e[0] + e[1];
    }
    free(c->slots);
    c->slots = v;
    c->nslots = n;
    return 0;
}

int qa_term(qa_analyzer *a, const qa_rawtok *t, char *out, uint32_t *olen)
{
    const char *w = t->term;
    uint32_t n = t->len;
    uint64_t h = qhash(w, n);
    if (!a->stemmer || !a->use_cache || t->truncated)
        return term_impl(a, w, n, t->truncated, h, out, olen);

    qa_cache *c = &a->cache;
    if (!c->slots) {
        c->slots = qcalloc(MIN_SLOTS, sizeof *c->slots);
        c->nslots = MIN_SLOTS;
        c->arena = qmalloc(QA_CACHE_ARENA);
        if (!c->slots || !c->arena) {   /* run without a cache */
            qa_cache_free(c);
            a->use_cache = 0;
            return term_impl(a, w, n, 0, h, out, olen);
        }
        c->used = 1;
    }
    uint32_t h32 = (uint32_t)h;
    size_t s = (size_t)(h >> 32) & (c->nslots - 1);
    for (;;) {
        const qa_cache_slot *sl = &c->slots[s];
        if (sl->off == 0)
            break;
        if (sl->h == h32) {
            const uint8_t *e = c->arena + sl->off;
            if (e[0] == n && memcmp(e + 3, w, n) == 0) {
                c->hits++;
                if (e[2])
                    return 0;
                *olen = e[1];
                memcpy(out, e + 3 + n, e[1]);
                out[e[1]] = 0;
                return 1;
            }
        }
        s = (s + 1) & (c->nslots - 1);
    }

    c->misses++;
    int r = term_impl(a, w, n, 0, h, out, olen);
    if (r < 0)
        return r;
    size_t vlen = r ? *olen : 0;
    size_t need = 3 + n + vlen;
    /* s is the empty slot the lookup ended at, unless the table changes */
    int full = c->count >= QA_CACHE_ENTRIES || c->used + need > QA_CACHE_ARENA;
    if (full || 2 * (c->count + 1) > c->nslots) {
        if (full || c->nslots >= MAX_SLOTS || cache_grow(c))
            cache_clear(c);   /* full (or no memory to grow): refilled from empty */
        s = (size_t)(h >> 32) & (c->nslots - 1);
        while (c->slots[s].off)
            s = (s + 1) & (c->nslots - 1);
    }
    uint8_t *e = c->arena + c->used;
    e[0] = (uint8_t)n;
    e[1] = (uint8_t)vlen;
    e[2] = r == 0;
    memcpy(e + 3, w, n);
    memcpy(e + 3 + n, out, vlen);
    c->slots[s].h = h32;
    c->slots[s].off = (uint32_t)c->used;
    c->used += need;
    c->count++;
    return r;
}

void qa_set_stem_cache(qa_analyzer *a, int on)
{
    a->use_cache = on != 0;
}
