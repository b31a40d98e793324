/*
 * analyze_int.h — private to src/analyze: the analyzer structure and the
 * interfaces between its parts (utf8.c, tokenize.c, stopwords.c, stem.c,
 * analyzer.c). Nothing outside src/analyze (except tests/test_analyze.c)
 * includes this.
 */
#ifndef QUARRY_ANALYZE_INT_H
#define QUARRY_ANALYZE_INT_H

#include "analyze/analyze.h"

struct sb_stemmer;

/* ------------------------------------------------------------- UTF-8 */

/* Decodes one UTF-8 sequence at s (n > 0 bytes available). Returns its
 * length (1..4) and stores the code point, or returns -k where k (1..3) is
 * the length of the maximal invalid subpart (Unicode 3.9, Table 3-7) to
 * replace by one U+FFFD. NUL decodes as code point 0. */
static inline int utf8_seq(const uint8_t *s, size_t n, int32_t *cp)
{
    uint8_t b0 = s[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    if (b0 < 0xC2)
        return -1;                      /* stray continuation byte or overlong lead */
    if (b0 < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80)
            return -1;
        *cp = ((int32_t)(b0 & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (b0 < 0xF0) {
        uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80;      /* E0 80..9F: overlong */
        uint8_t hi = b0 == 0xED ? 0x9F : 0xBF;      /* ED A0..BF: surrogates */
        if (n < 2 || s[1] < lo || s[1] > hi)
            return -1;
        if (n < 3 || (s[2] & 0xC0) != 0x80)
            return -2;
        *cp = ((int32_t)(b0 & 0x0F) << 12) | ((int32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (b0 < 0xF5) {
        uint8_t lo = b0 == 0xF0 ? 0x90 : 0x80;      /* F0 80..8F: overlong */
        uint8_t hi = b0 == 0xF4 ? 0x8F : 0xBF;      /* F4 90..: > U+10FFFF */
        if (n < 2 || s[1] < lo || s[1] > hi)
            return -1;
        if (n < 3 || (s[2] & 0xC0) != 0x80)
            return -2;
        if (n < 4 || (s[3] & 0xC0) != 0x80)
            return -3;
        *cp = ((int32_t)(b0 & 0x07) << 18) | ((int32_t)(s[1] & 0x3F) << 12) |
              ((int32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    return -1;                          /* F5..FF: never valid */
}

/* ---------------------------------------------------------- tokenizer */

#define QA_RAW_CAP (4 * QA_MAX_TERM)    /* bytes of a word kept before folding */
#define QA_CP_CAP (8 * QA_RAW_CAP)      /* code points of the folding buffer */

/* One word as the tokenizer found it, already case folded. */
typedef struct qa_rawtok {
    uint32_t start, end;                /* byte span of the word in the text */
    uint32_t len;                       /* bytes of term */
    int truncated;                      /* the word was longer than QA_MAX_TERM */
    char term[QA_MAX_TERM + 1];         /* folded, NUL-terminated */
} qa_rawtok;

/* Scanner state over one text; lives on the caller's stack (about 17 KB). */
typedef struct qa_scan {
    const uint8_t *s;
    size_t n, i;
    uint8_t raw[QA_RAW_CAP + 8];        /* the word with ' normalized, before folding */
    int32_t cps[QA_CP_CAP];             /* utf8proc folding buffer */
} qa_scan;

void qa_scan_init(qa_scan *sc, const char *text, size_t len);
/* Finds the next word: 1 and *t filled, or 0 at the end of the text. */
int qa_scan_next(qa_scan *sc, qa_rawtok *t);

/* Folds one word the way the tokenizer folds tokens (apostrophe
 * normalization, full case folding, NFC, truncation to QA_MAX_TERM bytes)
 * and appends it to out. s must be valid UTF-8. Returns 0 or -1 (no memory). */
int qa_fold_word(const char *s, size_t n, qbuf *out);

/* --------------------------------------------------------- stop words */

typedef struct qa_stopset {
    char *pool;             /* the words, each NUL-terminated, sorted, unique */
    uint32_t *off;          /* n offsets into pool */
    uint32_t *len;          /* n lengths */
    size_t n;
    uint32_t *slots;        /* open addressing: word index + 1, 0 empty */
    size_t mask;
    uint32_t minlen, maxlen;
} qa_stopset;

extern const char *const qa_default_stopwords[];
extern const size_t qa_default_nstopwords;

/* Builds a set from n words (any order, duplicates allowed). 0 or QUARRY_ENOMEM. */
int qa_stopset_build(qa_stopset *set, const char *const *words, const uint32_t *lens, size_t n);
void qa_stopset_free(qa_stopset *set);
/* h must be qhash(w, n). */
int qa_stopset_has(const qa_stopset *set, const char *w, size_t n, uint64_t h);
/* Reads a stop word file into a set (words folded like tokens). */
int qa_stopset_load(qa_stopset *set, const char *path, quarry_error *err);

/* ---------------------------------------------------------- stemming */

#define QA_CACHE_ENTRIES (1u << 16)     /* the cache is cleared when it holds this many */
#define QA_CACHE_ARENA (2u << 20)       /* ... or when its 2 MiB of entries are used */

typedef struct qa_cache_slot {
    uint32_t h;             /* low bits of the hash */
    uint32_t off;           /* entry offset in arena; 0 = empty */
} qa_cache_slot;

/* Folded word -> analyzed result (stop word, or the stemmed term). */
typedef struct qa_cache {
    qa_cache_slot *slots;   /* nslots (a power of 2, at most 2 * QA_CACHE_ENTRIES), allocated lazily */
    size_t nslots;
    uint8_t *arena;         /* entries: klen, vlen, stop, key, value */
    size_t used, count;
    uint64_t hits, misses, clears;
} qa_cache;

void qa_cache_free(qa_cache *c);

struct qa_analyzer {
    char language[32];
    enum qa_stemmer_kind kind;
    int english;                        /* drop possessive 's */
    const char *const *elisions;        /* elided articles (l', d', ...) or NULL */
    char *stop_source;                  /* "default", "none" or "file:PATH" */
    char *desc;                         /* qa_stopwords_desc */
    qa_stopset stops;
    qa_stopset common;                  /* qa_common: empty when the index has no word pairs */
    struct sb_stemmer *stemmer;         /* NULL for QA_STEM_NONE */
    int use_cache;
    qa_cache cache;
};

/* Analyzes one folded word: 0 = stop word (not indexed), 1 = out holds the
 * term (NUL-terminated, *olen bytes, at most QA_MAX_TERM), -1 = out of memory.
 * Uses the stem cache when enabled. */
int qa_term(qa_analyzer *a, const qa_rawtok *t, char *out, uint32_t *olen);
/* The same without the cache (the reference the cache is tested against). */
int qa_term_uncached(qa_analyzer *a, const char *w, uint32_t n, int truncated, char *out, uint32_t *olen);

/* The elided articles stripped before stop words and stemming for
 * `language` (French l', qu', Italian dell', Catalan d', ...), or NULL. */
const char *const *qa_elisions(const char *language);

/* Opens libstemmer for (language, kind); *out NULL for QA_STEM_NONE. */
int qa_stemmer_open(const char *language, enum qa_stemmer_kind kind, struct sb_stemmer **out,
                    quarry_error *err);
void qa_stemmer_close(struct sb_stemmer *s);

/* For tests: turns the stem cache on (default) or off. */
void qa_set_stem_cache(qa_analyzer *a, int on);

#endif
