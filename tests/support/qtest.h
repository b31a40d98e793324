/*
 * qtest.h — what the oracle tests share (qtest.c): a seeded random
 * generator, a string builder, temporary directories, generated and real
 * collections held in memory, an index's vocabulary by document frequency,
 * and random queries of every kind drawn from it. Linked into every test
 * program (Makefile: TEST_SUPPORT); the helpers fail the running cmocka
 * test on any error.
 */
#ifndef QUARRY_QTEST_H
#define QUARRY_QTEST_H

#include <stddef.h>
#include <stdint.h>

#include "quarry.h"

/* ------------------------------------------------------------ random */

/* splitmix64; seeded from QUARRY_TEST_SEED (default 20261130) and a salt */
typedef struct trng {
    uint64_t s;
} trng;

void trng_seed(trng *r, uint64_t salt);
uint64_t trng_next(trng *r);
uint32_t trng_below(trng *r, uint32_t n);   /* [0, n); 0 when n is 0 */
double trng_unif(trng *r);                  /* [0, 1) */

/* ------------------------------------------------------------ memory, strings */

void *txmalloc(size_t n);
void *txrealloc(void *p, size_t n);
char *txstrdup(const char *s);

typedef struct tsb {
    char *p;
    size_t n, cap;
} tsb;

void tsb_add(tsb *s, const char *t, size_t n);
void tsb_puts(tsb *s, const char *t);
void tsb_printf(tsb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ files */

/* A new directory /tmp/quarry-test-TAG-XXXXXX (free it with ttmp_remove,
 * which deletes the tree). */
char *ttmp_make(const char *tag);
void ttmp_remove(char *dir);
/* A writer of the index in dir with options o; fails the test when it
 * cannot open. */
quarry_writer *twriter_open(const char *dir, const quarry_index_options *o);
/* A writer of a new index in dir whose terms are the words as written (no
 * stemming, no stop words), one unit per article, one thread; fails the
 * test when it cannot open. */
quarry_writer *twriter_verbatim(const char *dir);
/* $QUARRY_CORPUS, default ../shared/corpus (every test and e2e script
 * uses this default) */
const char *tcorpus_dir(void);

/* Skips the running cmocka test, printing "SKIP: <reason>" first: tests/run.sh
 * lists every skipped test with that reason at the end of its output. */
void tskip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ------------------------------------------------------------ collections */

typedef struct tdoc {
    char *id, *title, *text;   /* text: paragraphs separated by blank lines */
    char *date;                /* NULL: none */
} tdoc;

typedef struct tcoll {
    tdoc *d;
    size_t n, cap;
} tcoll;

void tcoll_add(tcoll *c, const char *id, const char *title, const char *text);
void tcoll_free(tcoll *c);
/* Appends a generated collection: a Zipf vocabulary (ten English stop
 * words the most frequent, then made-up words), `nbase` documents of varied
 * lengths (most short, some of thousands of words, a few paragraphs), and
 * after every third one 2-5 exact copies of earlier ones, so that many hits
 * tie at every score. Ids are PREFIX0, PREFIX1, ... */
void tcoll_generate(tcoll *c, trng *r, size_t nbase, const char *prefix);
/* Gives documents [from, c->n) random dates from a few days of two years,
 * written at every precision ("2025", "2025-03", "2025-03-14",
 * "2025-03-14T10:30", "2025-03-14 10:30:15"), so that many share a date
 * key; about a tenth none, and a few a date that does not start with a
 * year ("n/a"). Its own generator (salt): the collection is unchanged. */
void tcoll_dates(tcoll *c, size_t from, uint64_t salt);
/* Appends the first n articles of a JSON Lines file (.gz or not) `copies`
 * times, ids suffixed by "#rK" after the first copy (their dates kept).
 * 0 when it is missing. */
int tcoll_load_jsonl(tcoll *c, const char *path, size_t n, int copies);
/* The first n articles of the shared Reuters-21578 collection, each `copies`
 * times, into c; when it is absent, removes `tmp` (unless NULL) and skips the
 * test (tskip), saying why. */
void treuters_load(tcoll *c, size_t n, int copies, char *tmp);
/* Writes documents [from, to) as JSON Lines (with "date" when they have one). */
void tcoll_write(const tcoll *c, size_t from, size_t to, const char *path);

/* ------------------------------------------------------------ vocabulary, queries */

typedef struct tvocab {
    struct tvterm {
        char *s;
        uint64_t df;
    } *v;
    size_t n, cap;
} tvocab;

/* The words of every segment of ix, most frequent first (a word in several
 * segments is listed once per segment; pair terms are not words). */
void tvocab_load(tvocab *v, quarry_index *ix);
void tvocab_free(tvocab *v);
/* A term of a document-frequency band: 0 the 20 most frequent, 1 the next
 * 300, 2 down to the middle, 3 the rarer half. */
const char *tvocab_band(const tvocab *v, trng *r, int band);
const char *tvocab_any(const tvocab *v, trng *r);

/* The query shapes: ranked OR of 1-20 terms, conjunction, a phrase cut from
 * the stored text (some of them title:), a mixed tree (+a b -c, (a OR b)
 * AND c, phrase and word, title:, NOT), a plain bag of words. */
enum { TQ_OR, TQ_AND, TQ_PHRASE, TQ_MIXED, TQ_PLAIN, TQ_SHAPES };
/* A new random query of `shape` (free it); *plain is set for TQ_PLAIN. */
char *tquery_make(quarry_index *ix, const tvocab *v, trng *r, int shape, int *plain);

#endif
