/*
 * fuzz.h — the fuzz harnesses of quarry's input surfaces (tests/fuzz/).
 *
 * Each harness fuzz_NAME.c defines one entry point that takes arbitrary
 * bytes, drives one input surface of the library with them and checks the
 * project's robustness rule: a clear error or a valid result, never a
 * crash, hang, leak or read out of bounds. They have no main: the libFuzzer
 * drivers (libfuzzer_main.c, built by `make fuzz`) and the replay test
 * (tests/test_fuzz_replay.c, run by `make test`, which #includes the
 * harness sources) call them.
 *
 *   fuzz_json      qr_parse_json_doc on one JSON Lines record
 *   fuzz_query     qq_parse / qq_format and quarry_search on a small index
 *   fuzz_index     edits to the files of a small index, CRCs and MANIFEST
 *                  fixed up, then verify / open / search / text / dump
 *   fuzz_analyze   qa_utf8_clean and qa_analyze with several analyzers
 *   fuzz_commit    adds, updates, deletes, commits, rollbacks, optimizes and
 *                  readers kept open, the index compared with a model
 *   fuzz_segments  edits to the segment list of MANIFEST and to deletions
 *                  files, checksums fixed up, then verify / open / search
 *
 * Always returns 0. A broken invariant prints what and where and aborts
 * (libFuzzer records the input as a crash; the replay test fails).
 */
#ifndef QUARRY_FUZZ_H
#define QUARRY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int fuzz_json(const uint8_t *data, size_t size);
int fuzz_query(const uint8_t *data, size_t size);
int fuzz_index(const uint8_t *data, size_t size);
int fuzz_analyze(const uint8_t *data, size_t size);
int fuzz_commit(const uint8_t *data, size_t size);
int fuzz_segments(const uint8_t *data, size_t size);

/* The input being run, when the driver knows its name (replay); may be NULL. */
extern const char *fuzz_input_name;

#define FUZZ_CHECK(cond, ...)                                                              \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: fuzz check failed: %s", __FILE__, __LINE__, #cond);    \
            if (fuzz_input_name)                                                           \
                fprintf(stderr, " (input %s)", fuzz_input_name);                           \
            fprintf(stderr, ": ");                                                         \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* The root of the source tree (QUARRY_ROOT, else the current directory):
 * the harnesses that build an index read ROOT/corpus. */
static inline const char *fuzz_root(void)
{
    const char *r = getenv("QUARRY_ROOT");
    return r && *r ? r : ".";
}

/* ---------------------------------------------- shared by the harnesses */

#include <dirent.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "quarry.h"

/* Creates a fresh temporary directory into `dir` (at least 64 bytes). */
static inline void fuzz_mkdtemp(char *dir, size_t n, const char *what)
{
    /* /dev/shm when there is one: the index harness rewrites its files for
     * every input, which on a disk file system costs writeback */
    const char *t = getenv("TMPDIR");
    if (!t || !*t)
        t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, n, "%s/quarry-fuzz-%s-XXXXXX", t, what);
    FUZZ_CHECK(mkdtemp(dir) != NULL, "cannot create the temporary directory %s", dir);
}

/* Removes a flat directory (an index has no subdirectories). */
static inline void fuzz_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4096];
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Builds an index of ROOT/corpus (passages on, `ptok` tokens a passage)
 * into `dir`, plus `extra` generated articles: short texts over a small
 * vocabulary, so that common terms get more than one postings block (skip
 * tables) and the text store several blocks. Deterministic. */
static inline void fuzz_build_index(const char *dir, unsigned ptok, unsigned extra)
{
    static const char *const vocab[] = {
        "belt", "road", "russia", "china", "investment", "sanctions", "energy", "trade",
        "forum", "bank", "pipeline", "arctic", "port", "rail", "summit", "yuan",
        "ruble", "oil", "gas", "grain", "Beijing", "Moscow", "Kazakhstan", "corridor",
        "the", "and", "of", "in", "a", "to", "is", "was",
    };
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.passage_tokens = ptok;
    o.mem_mb = 8;
    quarry_writer *w;
    quarry_error err;
    int rc = quarry_writer_open(dir, &o, &w, &err);
    FUZZ_CHECK(rc == 0, "quarry_writer_open %s: %s", dir, err.msg);
    char corpus[4096];
    snprintf(corpus, sizeof corpus, "%s/corpus", fuzz_root());
    const char *paths[1] = { corpus };
    rc = quarry_writer_add_paths(w, paths, 1, &err);
    FUZZ_CHECK(rc == 0, "indexing %s: %s", corpus, err.msg);
    uint64_t x = 88172645463325252ull;
    for (unsigned a = 0; a < extra; a++) {
        char id[32], title[64], text[2048];
        size_t len = 0;
        snprintf(id, sizeof id, "gen-%04u", a);
        snprintf(title, sizeof title, "Report %u on %s", a, vocab[a % 24]);
        unsigned words = 40 + a % 50;
        for (unsigned i = 0; i < words && len + 32 < sizeof text; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            unsigned v = (unsigned)(x % 32);
            if (i % 7 == 0)   /* one very common word: df above one postings block */
                v = 3;
            len += (size_t)snprintf(text + len, sizeof text - len, "%s%s%s", i ? " " : "", vocab[v],
                                    i % 11 == 10 ? "." : "");
        }
        rc = quarry_writer_add(w, id, title, text, len, a % 3 ? "2024-05-17" : NULL, "generated", &err);
        FUZZ_CHECK(rc == 0, "adding article %u: %s", a, err.msg);
    }
    rc = quarry_writer_commit(w, &err);
    FUZZ_CHECK(rc == 0, "commit %s: %s", dir, err.msg);
    quarry_writer_close(w);
}

/* The error codes a call may return on any input; a message must come with one. */
static inline void fuzz_check_error(int rc, const quarry_error *err, const char *what)
{
    FUZZ_CHECK(rc > 0 && rc < QUARRY_NCODES, "%s returned %d", what, rc);
    FUZZ_CHECK(err->code == rc, "%s returned %d but err.code is %d", what, rc, err->code);
    FUZZ_CHECK(err->msg[0] != 0 && strlen(err->msg) < sizeof err->msg, "%s: code %d with no message", what, rc);
}

/* Checks a search result against the index: at most k hits, best first,
 * finite scores, hits naming existing passages of the right articles,
 * the terms NUL-terminated; then highlights each hit's passage text.
 * strict (an undamaged index): every lookup succeeds and each hit's
 * passage belongs to its article. deep 0: the hits' records and texts are
 * not looked at (when the same hits were checked already). */
static inline void fuzz_check_results(quarry_index *ix, const quarry_results *r, unsigned k, int passages,
                                      int strict, int deep)
{
    quarry_info info;
    quarry_info_get(ix, &info);
    FUZZ_CHECK(r->n <= k, "%zu hits for k %u", r->n, k);
    FUZZ_CHECK(r->matched >= r->n, "matched %llu < %zu hits", (unsigned long long)r->matched, r->n);
    FUZZ_CHECK(r->nterms == 0 || r->terms != NULL, "%zu terms but no array", r->nterms);
    for (size_t i = 0; i < r->nterms; i++)
        FUZZ_CHECK(r->terms[i] && r->terms[i][0], "term %zu empty", i);
    for (size_t i = 0; i < r->n; i++) {
        const quarry_hit *h = &r->hits[i];
        FUZZ_CHECK(isfinite(h->score) && h->score >= 0, "hit %zu has score %g", i, h->score);
        FUZZ_CHECK(i == 0 || h->score <= r->hits[i - 1].score, "hits out of order at %zu", i);
        FUZZ_CHECK(h->article < info.articles && h->passage < info.passages, "hit %zu: article %u passage %u",
                   i, h->article, h->passage);
        for (size_t j = 0; j < i && !passages; j++)
            FUZZ_CHECK(r->hits[j].article != h->article, "article %u twice in article hits", h->article);
        if (!deep)
            continue;
        quarry_error err;
        quarry_article a;
        int rc = quarry_article_get(ix, h->article, &a, &err);
        FUZZ_CHECK(!strict || rc == 0, "quarry_article_get %u: %s", h->article, err.msg);
        if (rc) {
            fuzz_check_error(rc, &err, "quarry_article_get");
            continue;
        }
        FUZZ_CHECK(a.id && a.title && a.date, "article %u has a NULL field", h->article);
        FUZZ_CHECK(!strict || (h->passage >= a.first_passage && h->passage - a.first_passage < a.npassages),
                   "hit %zu: passage %u is not one of article %u's", i, h->passage, h->article);
        char *text;
        size_t len;
        rc = quarry_passage_text(ix, h->passage, &text, &len, &err);
        FUZZ_CHECK(!strict || rc == 0, "quarry_passage_text %u: %s", h->passage, err.msg);
        if (rc) {
            fuzz_check_error(rc, &err, "quarry_passage_text");
            continue;
        }
        FUZZ_CHECK(text[len] == 0, "passage text not NUL-terminated");
        quarry_span *sp;
        size_t nsp;
        rc = quarry_highlight(ix, r, text, len, &sp, &nsp, &err);
        if (rc == 0) {
            for (size_t j = 0; j < nsp; j++)
                FUZZ_CHECK(sp[j].start < sp[j].end && sp[j].end <= len && (j == 0 || sp[j].start >= sp[j - 1].end),
                           "highlight span %zu [%u, %u) in %zu bytes", j, sp[j].start, sp[j].end, len);
            free(sp);
        } else {
            fuzz_check_error(rc, &err, "quarry_highlight");
        }
        free(text);
    }
}

#endif
