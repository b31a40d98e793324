/*
 * analyze.h — the analyzer: UTF-8 cleaning, Unicode-aware tokenizing, case
 * folding, stop words and stemming. The same code runs at index time and at
 * query time; its settings are serialized into the index (qa_serialize) and
 * restored from it (qa_open_serialized), so a query is always analyzed like
 * the text it searches.
 *
 * Tokenizing rules (see README "Analysis"): a token is a run of letters,
 * marks and digits of any script; U+2019 and U+0027 inside a word are the
 * same apostrophe; hyphens split words (Sino-Russian -> sino, russian);
 * digits joined by '.' or ',' stay one token (3.5, 155,221); letters joined
 * by '.' stay one token (u.s); English possessive 's is dropped.
 * Positions count every word token, stop words included, so phrases keep
 * their gaps.
 */
#ifndef QUARRY_ANALYZE_H
#define QUARRY_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

enum qa_stemmer_kind {
    QA_STEM_SNOWBALL = 0,   /* libstemmer's algorithm for the language */
    QA_STEM_PORTER = 1,     /* the original Porter algorithm (libstemmer "porter") */
    QA_STEM_NONE = 2
};

#define QA_MAX_TERM 128     /* longer tokens are truncated at a character boundary */

typedef struct qa_analyzer qa_analyzer;

typedef struct qa_token {
    const char *term;      /* analyzed term, NUL-terminated, valid until the callback returns */
    uint32_t len;          /* bytes of term */
    uint32_t pos;          /* word position (stop words count) */
    uint32_t start, end;   /* byte span of the original word in the analyzed text */
} qa_token;

/* Return non-zero from the callback to stop; qa_analyze then returns that value. */
typedef int (*qa_token_fn)(void *ctx, const qa_token *t);

/* Creates an analyzer. language: any libstemmer language name ("english",
 * "french", ...); stemmer: "snowball" | "porter" | "none"; stopwords:
 * "default" (the English list; for other languages also the default),
 * "none", or a path to a file with one word per line ('#' starts a comment).
 * QUARRY_EINVAL with a message for an unknown language or stemmer,
 * QUARRY_EIO for an unreadable stop word file. */
int qa_open(const char *language, const char *stemmer, const char *stopwords,
            qa_analyzer **out, quarry_error *err);
void qa_close(qa_analyzer *a);

/* Appends the analyzer's settings (language, stemmer, the stop word list
 * itself) to `out` as a self-describing blob; qa_open_serialized restores
 * an identical analyzer from it (QUARRY_ECORRUPT if the blob is damaged). */
int qa_serialize(const qa_analyzer *a, qbuf *out);
int qa_open_serialized(const void *blob, size_t len, qa_analyzer **out, quarry_error *err);

/* Word pairs. An index that removes no stop words ("none") also indexes
 * each two adjacent words of a unit (title or body, never one of each) of
 * which at least one is common as one term, the pair term: the byte
 * QA_PAIR_MARK, the first word, QA_PAIR_SEP, the second, at the first
 * word's position. No UTF-8 text holds the byte 0xFF, so no word is a
 * pair term, and the pair terms sort after every word: the words'
 * dictionary entries and postings lie together as in an index without
 * pairs, and a query of words touches what it would there. A common
 * word is a word of the default stop list as this analyzer analyzes it
 * (stemmed). A phrase of such words then reads the pair's postings, in
 * which the pair's frequency is the phrase's, instead of checking the
 * positions of every unit where its frequent words meet (tree.c).
 *
 * qa_pairs: does an index made with this analyzer hold pair terms?
 * qa_common: is the analyzed term t (n bytes, h = qhash(t, n)) common?
 * qa_pair_term: writes the pair term of a and b to out (QA_MAX_PAIR
 * bytes) and returns its length; 0 when it would be longer than
 * QA_MAX_PAIR (two words that long have no pair term). */
#define QA_PAIR_MARK '\xff'
#define QA_PAIR_SEP ' '
#define QA_MAX_PAIR 255
int qa_pairs(const qa_analyzer *a);
int qa_common(const qa_analyzer *a, const char *t, size_t n, uint64_t h);
size_t qa_pair_term(char *out, const char *a, size_t na, const char *b, size_t nb);

/* Describes the settings for people: language, stemmer, stopword source. */
const char *qa_language(const qa_analyzer *a);
const char *qa_stemmer_name(const qa_analyzer *a);   /* "snowball", "porter", "none" */
const char *qa_stopwords_desc(const qa_analyzer *a);  /* "default", "none", "file:NAME (N words)" */

/* Tokenizes `text` (must be valid UTF-8; see qa_utf8_clean) and calls `fn`
 * for every indexed token (stop words are skipped but counted in positions).
 * Positions start at `pos_base`; *next_pos (may be NULL) receives the
 * position after the last word. Returns 0, or the callback's non-zero. */
int qa_analyze(qa_analyzer *a, const char *text, size_t len, uint32_t pos_base,
               qa_token_fn fn, void *ctx, uint32_t *next_pos);

/* ----------------------------------------------------------------- UTF-8 */

/* Copies `in` to `out` replacing every invalid UTF-8 sequence (overlong
 * forms, surrogates, code points > U+10FFFF, truncated sequences) with
 * U+FFFD, and NUL bytes with a space. Returns the number of replacements. */
size_t qa_utf8_clean(const char *in, size_t len, qbuf *out);

/* 1 when [s, s+len) is valid UTF-8 without NUL bytes, else 0. */
int qa_utf8_valid(const char *s, size_t len);

/* Decodes one code point at s (valid UTF-8 assumed, len > 0); returns its
 * byte length and stores the code point in *cp. */
int qa_utf8_decode(const char *s, size_t len, int32_t *cp);

#endif
