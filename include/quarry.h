/*
 * quarry.h — the public API of libquarry, a full-text search engine.
 *
 * quarry indexes articles (plain text files, JSON Lines) into a compressed
 * on-disk inverted index of passages, and ranks passages with BM25.
 *
 *   Building an index          quarry_writer_open / _add_paths / _commit / _close
 *   Opening and searching      quarry_open / quarry_search / quarry_results_free / quarry_close
 *   Showing results            quarry_article_get, quarry_passage_text, quarry_article_text,
 *                              quarry_highlight
 *   Explaining scores          quarry_explain / quarry_explanation_free
 *   Shards as one collection   quarry_query_terms, quarry_stats_for_terms, quarry_stats_new,
 *                              quarry_search_options.stats
 *
 * Conventions
 *   - Every function that can fail returns a quarry_code (QUARRY_OK == 0) and,
 *     when `err` is not NULL, fills it with the code and a one-line message
 *     that names the file and line or byte offset where the problem is.
 *   - `*out` parameters are written only on success.
 *   - Whoever creates an object frees it; every _close / _free accepts NULL.
 *   - The library never prints and never exits.
 *
 * Threads
 *   - A quarry_index may be searched by several threads at once:
 *     quarry_search, quarry_article_get/_find, quarry_passage_text,
 *     quarry_article_text, quarry_highlight, quarry_analyze, quarry_info_get
 *     and quarry_dump_term only read the index (per-search state lives in
 *     the search). quarry_close must not run concurrently with them.
 *   - A quarry_results belongs to the thread that got it (quarry_explain
 *     uses state inside it).
 *   - A quarry_writer is used by one thread at a time (it runs its own
 *     reading thread inside quarry_writer_add_paths).
 */
#ifndef QUARRY_H
#define QUARRY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUARRY_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

/* Stable, explicitly numbered error codes. Never renumber; only append. */
typedef enum quarry_code {
    QUARRY_OK = 0,
    QUARRY_ENOMEM = 1,    /* out of memory */
    QUARRY_EIO = 2,       /* a system call failed (open, read, write, rename, ...) */
    QUARRY_ECORRUPT = 3,  /* an index file is damaged (checksum, bounds, invariant) */
    QUARRY_EFORMAT = 4,   /* not a quarry index, or a format version this build cannot read */
    QUARRY_EINVAL = 5,    /* an invalid argument or option */
    QUARRY_ESYNTAX = 6,   /* a query syntax error (the message names the column) */
    QUARRY_EINPUT = 7,    /* bad input document (malformed JSON, missing id, duplicate id, ...) */
    QUARRY_ENOTFOUND = 8, /* no index at that place, or no such article/passage */
    QUARRY_ELIMIT = 9,    /* an input exceeds a documented limit (document size, term length...) */
    QUARRY_ENOTERMS = 10, /* a query has no searchable term (all stop words or unknown) */
    QUARRY_NCODES
} quarry_code;

typedef struct quarry_error {
    int code;        /* a quarry_code */
    char msg[1024];  /* one line, no trailing newline, e.g. "docs.jsonl:12: duplicate id ..." */
} quarry_error;

/* The fixed description of a code ("index file is damaged"); never NULL. */
const char *quarry_strerror(int code);

/* ------------------------------------------------------------ indexing */

typedef struct quarry_progress {
    uint64_t articles;      /* articles indexed so far */
    uint64_t passages;      /* passages indexed so far */
    uint64_t bytes_done;    /* input bytes consumed (compressed bytes for .gz) */
    uint64_t bytes_total;   /* input size when known, else 0 (stdin) */
    uint64_t bytes_in;      /* text bytes indexed (uncompressed), as in the summary */
} quarry_progress;

typedef struct quarry_index_options {
    const char *language;      /* a libstemmer language; default "english" */
    const char *stemmer;       /* "snowball" (default), "porter" or "none" */
    const char *stopwords;     /* "default", "none", or the path of a file (one word a line, '#' comments) */
    int passages;              /* 1: split articles into passages (default); 0: one unit per article */
    unsigned passage_tokens;   /* target passage length in tokens; default 120 */
    unsigned mem_mb;           /* memory budget of indexing in MiB; default 256, minimum 8: the
                                  peak memory stays within it plus a small fixed overhead; the
                                  largest document is an eighth of it */
    unsigned threads;          /* indexing threads, each writing its own segments; 0 (the
                                  default): one per processor, as many as mem_mb allows at 8 MiB
                                  each (more than it allows: QUARRY_EINVAL). The index is the
                                  same for a given input and number of threads. */
    int add;                   /* 1: add to the index in `dir` (which must exist) as new
                                  segments; an article whose id is in the index replaces it.
                                  0: replace the whole index. */
    int allow_empty;           /* 1: an input without any article commits an empty index
                                  (default 0: it is an error and the index is left as it is) */
    int merge;                 /* 1 (default): after the commit, merge segments as the merge
                                  policy says (small adjacent ones, so that their number stays
                                  logarithmic in the size of the index), on `threads` threads */
    /* called now and then while indexing (about every 64 KiB of input); may be NULL */
    void (*progress)(const quarry_progress *p, void *ctx);
    void *progress_ctx;
    int optimize;              /* 1: after the commit, merge every segment into one, as
                                  quarry_optimize does (queries run faster on one segment; the
                                  merge costs about a sixth of a full build); default 0 */
} quarry_index_options;

/* Fills `o` with the defaults. */
void quarry_index_options_init(quarry_index_options *o);

typedef struct quarry_writer quarry_writer;

/* What one indexing run did; filled by quarry_writer_summary. */
typedef struct quarry_index_summary {
    uint64_t articles;          /* articles indexed */
    uint64_t passages;          /* passages (units) indexed */
    uint64_t empty_skipped;     /* empty articles counted and skipped */
    uint64_t invalid_utf8;      /* invalid UTF-8 sequences replaced by U+FFFD */
    uint64_t terms;             /* distinct terms (after commit; pair terms included) */
    uint64_t postings;          /* (term, unit) pairs */
    uint64_t tokens;            /* indexed tokens (after stop words) */
    uint64_t bytes_in;          /* input bytes read (uncompressed) */
    uint64_t replaced;          /* articles that replaced one of the same id (add) */
    uint64_t deleted;           /* articles deleted (quarry_writer_delete) */
    uint64_t not_found;         /* ids to delete that the index does not hold */
    uint64_t segments;          /* segments this run wrote (before merging) */
    uint64_t merges;            /* merges run after the commit */
    uint64_t segments_merged;   /* segments they merged */
    uint64_t bytes_flushed;     /* bytes of the segments this run wrote */
    uint64_t bytes_merged;      /* bytes its merges wrote: write amplification =
                                   (bytes_flushed + bytes_merged) / bytes_flushed */
    uint64_t special_skipped;   /* FIFOs, devices and sockets met in walked directories:
                                   skipped, never opened */
    char special_example[256];  /* the path of the first of them ("" when none) */
} quarry_index_summary;

/* Starts a new index generation in directory `dir` (created if missing;
 * with o->add it must hold an index, whose analyzer and passage settings
 * the added documents then use). Nothing is visible to readers until
 * quarry_writer_commit succeeds. One writer at a time per index (a lock). */
int quarry_writer_open(const char *dir, const quarry_index_options *o,
                       quarry_writer **out, quarry_error *err);

/* Reads every document of `paths` (files, directories walked recursively in
 * sorted order, or "-" for JSON Lines on stdin) and adds it to the index.
 * Stops at the first bad input with QUARRY_EINPUT and a message naming the
 * file and line; the previous index is untouched. */
int quarry_writer_add_paths(quarry_writer *w, const char *const *paths, size_t npaths,
                            quarry_error *err);

/* Adds one article. `id`, `text` required; `title`, `date` may be NULL.
 * `where` (may be NULL) names its origin for error messages. All strings
 * are copied; invalid UTF-8 is replaced and counted. */
int quarry_writer_add(quarry_writer *w, const char *id, const char *title,
                      const char *text, size_t text_len, const char *date,
                      const char *where, quarry_error *err);

/* Deletes the article with this id from the index being added to
 * (o->add), at commit. QUARRY_ENOTFOUND when the index has none (the
 * writer stays usable). */
int quarry_writer_delete(quarry_writer *w, const char *id, quarry_error *err);

/* Finishes the segments, checks that the run's ids are unique, writes the
 * deletions, and atomically publishes the new generation; afterwards files
 * the manifest no longer names are removed and, with o->merge, segments are
 * merged (each merge is a commit of its own). A run that read no document
 * and deleted none commits nothing: QUARRY_EINPUT, unless adding. */
int quarry_writer_commit(quarry_writer *w, quarry_error *err);

void quarry_writer_summary(const quarry_writer *w, quarry_index_summary *s);

/* Frees the writer; an uncommitted generation is abandoned and its temporary
 * files removed. */
void quarry_writer_close(quarry_writer *w);

/* Merges every segment of the index in `dir` into one, dropping deleted
 * articles (a commit; readers are never blocked), on a thread per
 * processor (the files are the same bytes whatever their number). mem_mb
 * as for indexing (0: the default). */
int quarry_optimize(const char *dir, unsigned mem_mb, quarry_index_summary *s, quarry_error *err);

/* ------------------------------------------------------------ reading */

typedef struct quarry_index quarry_index;

/* Opens the committed index in `dir`. Opening reads the manifest and each
 * file's header and trailer only (milliseconds at any size; the checksums
 * of whole files are checked by quarry_verify); damage that a search meets
 * later is reported then as QUARRY_ECORRUPT naming the file. A commit that
 * replaces the index meanwhile is followed (the open is retried).
 * QUARRY_ENOTFOUND when there is no index, QUARRY_ECORRUPT / _EFORMAT when
 * it is damaged or of another version. */
int quarry_open(const char *dir, quarry_index **out, quarry_error *err);
void quarry_close(quarry_index *ix);

/* Opens several indexes (built alike: the same analyzer and passage
 * settings, else QUARRY_EINVAL naming them) as one collection: BM25
 * statistics are those of all of them together, articles and passages are
 * numbered through them in the order given, and a search answers exactly
 * as one index built from their documents in that order would. */
int quarry_open_many(const char *const *dirs, size_t n, quarry_index **out, quarry_error *err);

typedef struct quarry_info {
    uint64_t articles, passages;  /* every article and passage stored, deleted ones too */
    uint64_t terms, postings, positions;  /* summed over the segments (pair terms included: FORMAT.md §pairs) */
    uint64_t tokens;             /* in the passages not deleted (what BM25 counts) */
    double avg_len;              /* average unit length in tokens */
    uint64_t generation;         /* the commit being read (counts from 1; the first index's) */
    size_t segments;             /* immutable segments the index is made of */
    size_t indexes;              /* indexes searched together (quarry_open_many) */
    uint64_t live_articles;      /* articles and passages not deleted (articles and passages */
    uint64_t live_passages;      /* count the deleted ones too, until a merge drops them) */
    uint64_t bytes;              /* total size of its files */
    int passage_mode;            /* 1 when articles were split into passages */
    unsigned passage_tokens;
    char language[32];           /* analyzer settings recorded in the index */
    char stemmer[16];
    char stopwords[64];          /* "default", "none" or "file:<name> (N words)" */
    size_t nkinds;               /* the kinds of file present, in the order meta dict post posn */
    struct {                     /* unit arts text del, summed over every segment */
        char kind[8];            /* "post", "del", ... (the file name's extension) */
        uint64_t files, bytes;
    } kinds[8];
} quarry_info;

int quarry_info_get(const quarry_index *ix, quarry_info *out);

/* Checks every checksum and structural invariant (slow: decodes everything).
 * Returns QUARRY_OK or the first problem in `err`. */
int quarry_verify(const char *dir, quarry_error *err);

/* -------------------------------------------------------------- search */

typedef struct quarry_stats quarry_stats;   /* collection statistics from outside (below) */

/* Every algorithm returns exactly the hits and scores of EXHAUSTIVE; they
 * differ in how much of the postings they skip. Queries with required
 * clauses (+a, AND, phrases) always run as block-max conjunctions except
 * under EXHAUSTIVE; the choice matters for the optional (OR) part. */
enum quarry_algorithm {
    QUARRY_ALGO_AUTO = 0,        /* the fastest algorithm for the query's shape */
    QUARRY_ALGO_EXHAUSTIVE = 1,  /* visit every posting of every query term (the reference) */
    QUARRY_ALGO_MAXSCORE = 2,    /* block-max MaxScore (essential / non-essential clauses) */
    QUARRY_ALGO_BMW = 3          /* block-max WAND */
};

/* Matches are counted exactly up to this many; past it, with pruning, the
 * count is a lower bound (quarry_results.matched_exact == 0). */
#define QUARRY_COUNT_EXACT 1000

/* A query may hold at most this many distinct terms (after analysis: stop
 * words and repeats do not count) and four times as many words and phrases
 * in all; more is QUARRY_ELIMIT. The cost of a search grows with its terms
 * (at this limit, a few tenths of a second over 100,000 passages: README).
 * Lucene's default maxClauseCount is the same. */
#define QUARRY_MAX_TERMS 1024

typedef struct quarry_search_options {
    unsigned k;         /* hits wanted; default 10 */
    unsigned offset;    /* hits to skip (paging); default 0 */
    double k1, b;       /* BM25 parameters; default 1.2, 0.75 (see bench/quality.md) */
    int passages;       /* 0: one hit per article (its best passage); 1: passage hits */
    int algorithm;      /* enum quarry_algorithm */
    int plain;          /* 1: the query is plain words, no operators (a bag of words, as
                           for evaluation queries); every analyzed word is an optional term */
    int expand;         /* 1: pseudo-relevance feedback (RM3), plain queries only: the
                           query is expanded with terms of its fb_docs best units */
    unsigned fb_docs;   /* feedback units; default 10 */
    unsigned fb_terms;  /* expansion terms; default 20 */
    double fb_weight;   /* weight of the original query, 0..1; default 0.8 */
    int count;          /* 1: count every match exactly (prunes less: slower) */
    int no_pairs;       /* 1: phrases are checked by their words' positions only, not read
                           from the index's pair terms (FORMAT.md §pairs); the same results,
                           slower: for comparisons. Default 0 */
    /* Dates (inside the search: a unit outside the range is no match, so the k
     * hits are the k best of those in range). Each is an ISO 8601 date or a
     * prefix of one, "YYYY[-MM[-DD[Thh[:mm[:ss]]]]]" (quarry_date_range); NULL:
     * no bound. Both bounds are inclusive and cover whole periods: since
     * "2025-11" starts at the first moment of November, until "2025-11" ends
     * at its last. Articles without a date (or whose date does not start with
     * a year) are excluded as soon as one bound is set; an article dated by a
     * prefix only ("2025-11") counts as dated at the start of that period.
     * A bound that is not such a date: QUARRY_EINVAL. */
    const char *since;
    const char *until;
    int sort;           /* enum quarry_sort; default QUARRY_SORT_SCORE */
    int collapse;       /* 1: hits whose text is the same (the same fingerprint: FORMAT.md
                           §unit, §arts; whole articles in article mode, passages with
                           --passages) are collapsed into the first of them in the hits'
                           order, which lists the others (quarry_hit.duplicates); the k
                           hits are k distinct ones. Default 0. */
    const quarry_stats *stats;  /* NULL (default): BM25 weighs terms with the statistics of the
                           index searched. Else with these (quarry_stats_new: the sums over
                           every shard of a collection): N, the average length and the df
                           of every term the query scores with (quarry_query_terms), so
                           that a shard scores as one index of the whole collection;
                           borrowed for the call. A term it lacks, or a collection smaller
                           than the index: QUARRY_EINVAL. Not with expand (feedback needs
                           the best units of the whole collection). */
} quarry_search_options;

/* The order of the hits. */
enum quarry_sort {
    QUARRY_SORT_SCORE = 0,   /* best score first; ties by the lower passage number */
    QUARRY_SORT_DATE = 1     /* the article's date, newest first (undated last); then by score,
                                then by the lower passage number */
};

void quarry_search_options_init(quarry_search_options *o);

typedef struct quarry_hit {
    double score;
    uint32_t passage;   /* internal passage (unit) number */
    uint32_t article;   /* internal article number */
    /* collapse = 1: the other matches of the same text, in the hits' order
     * (their own nduplicates is 0); owned by the results */
    uint32_t nduplicates;
    const struct quarry_hit *duplicates;
} quarry_hit;

struct quarry_plan;   /* internal: the query as it was scored (for quarry_explain) */

typedef struct quarry_results {
    size_t n;               /* hits returned */
    quarry_hit *hits;       /* n hits, best first (see enum quarry_sort) */
    uint64_t matched;       /* articles (or passages) that matched, in the date range, duplicates
                               included: exact when matched_exact, else a lower bound
                               (>= QUARRY_COUNT_EXACT) */
    int matched_exact;      /* 1 when `matched` is exact (always with count = 1 or sorting by date) */
    double seconds;         /* time spent ranking */
    size_t nterms;          /* analyzed query terms (for highlighting) */
    char **terms;           /* nterms NUL-terminated analyzed terms */
    struct quarry_plan *plan;   /* internal: the query as it was scored, for quarry_explain */
} quarry_results;

/* Parses, analyzes and runs `query` (see README "Query language").
 * QUARRY_ESYNTAX with "column N: ..." on a syntax error; QUARRY_ENOTERMS when
 * every term is a stop word or absent from the index (results are not
 * written). A query that is valid but matches nothing succeeds with n == 0. */
int quarry_search(quarry_index *ix, const char *query, const quarry_search_options *o,
                  quarry_results **out, quarry_error *err);
void quarry_results_free(quarry_results *r);

/* The range of date keys (the number YYYYMMDDhhmmss) that an ISO 8601 date
 * or prefix "YYYY[-MM[-DD[(T| )hh[:mm[:ss]]]]]" covers: "2025-11" gives
 * 20251100000000 to 20251199999999. Months, days (leap years included),
 * hours, minutes and seconds must exist; nothing may follow. QUARRY_EINVAL
 * otherwise ("not a date ..."). Either output may be NULL. */
int quarry_date_range(const char *date, uint64_t *first, uint64_t *last, quarry_error *err);

/* ------------------------------------------- shards searched as one collection */

/* A collection split into shards (separate indexes, perhaps on separate
 * machines) is searched in two phases, as Elasticsearch's
 * dfs_query_then_fetch does: (1) every shard reports, for a query's terms,
 * their df and its totals (quarry_query_terms, quarry_stats_for_terms), and
 * these are summed; (2) every shard searches with the sums
 * (quarry_stats_new, quarry_search_options.stats) and the per-shard top k
 * are merged, best score first, ties by shard order then by the hits'
 * order in their shard. The scores are then those of one index of the
 * shards' documents (quarry_open_many of the shards in that order gives
 * the same hits): N, the average length and each df are the collection's. */

/* The distinct analyzed terms a search of `query` scores with (those not
 * under '-' or NOT), in the order of the query, analyzed with ix's
 * analyzer; plain as quarry_search_options.plain. On success *terms is a
 * NULL-terminated array of *n terms, freed with quarry_query_terms_free.
 * QUARRY_ESYNTAX as quarry_search. A query without terms gives *n == 0. */
int quarry_query_terms(quarry_index *ix, const char *query, int plain, char ***terms, size_t *n,
                       quarry_error *err);
void quarry_query_terms_free(char **terms);

/* The statistics BM25 takes from ix for analyzed terms[0..n): df[i], the
 * live units (passages) that hold terms[i] (0 when none), and, when not
 * NULL, *units (N: live units) and *tokens (their total length; the
 * average length is tokens / units). Deleted units never count, so the
 * sums over shards are those of one index of all their live documents. */
int quarry_stats_for_terms(quarry_index *ix, const char *const *terms, size_t n, uint64_t *df,
                           uint64_t *units, uint64_t *tokens, quarry_error *err);

/* A table of collection statistics for quarry_search_options.stats: the
 * collection's live units and their total length, and terms[i]'s df[i]
 * (analyzed terms, distinct, in any order; every array is copied).
 * QUARRY_EINVAL for an empty or repeated term or a df above `units`. */
int quarry_stats_new(uint64_t units, uint64_t tokens, const char *const *terms, const uint64_t *df,
                     size_t n, quarry_stats **out, quarry_error *err);
void quarry_stats_free(quarry_stats *st);

/* ------------------------------------------------------------- explain */

/* Why a passage scored what it scored under the query of some results: the
 * BM25 contribution of every term or phrase that matched it, with what went
 * into it. The clauses' scores, added in the order the search adds them,
 * give exactly the score the search gave the passage (a hit's `score`). */

typedef struct quarry_explain_word {
    const char *term;       /* an analyzed term */
    uint32_t offset;        /* in a phrase: its position after the phrase's first word */
    uint64_t df;            /* live passages (units) of the collection that hold it */
    double idf;             /* ln(1 + (N - df + 0.5) / (df + 0.5)) */
} quarry_explain_word;

typedef struct quarry_explain_clause {
    const char *text;       /* the term, or the phrase's terms in quotes; "title:" in front when
                               it counts in the title only */
    int title;              /* 1: title:-restricted */
    size_t nwords;          /* 1, or the phrase's words */
    const quarry_explain_word *words;
    uint32_t tf;            /* occurrences in the passage (its title included): the term's, the
                               phrase's, or in the title only for title: */
    double idf;             /* the sum of its words' idf */
    double boost;           /* multiplies the weight: 1; n for a term that n clauses of one
                               group repeat ("+a +a", "a b a": one clause, as Lucene boosts it);
                               in an expanded query, its weights */
    int expansion;          /* expanded queries: 1 for a term that feedback added (query_weight 0) */
    double query_weight;    /* expanded queries: boost = query_weight + feedback_weight, where */
    double feedback_weight; /* query_weight = fb_weight * the term's share of the query's terms and
                               feedback_weight = (1 - fb_weight) * its relevance-model weight */
    double weight;          /* idf * (k1 + 1) * boost */
    double norm;            /* k1 * (1 - b + b * len / avg_len) */
    double score;           /* weight * tf / (tf + norm): its contribution */
} quarry_explain_clause;

typedef struct quarry_explanation {
    uint32_t passage, article;
    int match;              /* 0: the passage does not match the query (no clauses) */
    double score;           /* the sum of the clauses' scores, as the search adds them */
    double k1, b;
    uint64_t units;         /* N: live passages (units) of the collection */
    double avg_len;         /* their average length in tokens */
    uint32_t len;           /* this passage's length in tokens (its title included) */
    int expanded;           /* the query was expanded by feedback (RM3) */
    size_t nclauses;
    const quarry_explain_clause *clauses;
} quarry_explanation;

/* Explains the score of `passage` (any passage, e.g. r->hits[i].passage or
 * one of its duplicates) under the query, options and collection
 * statistics of `r`, which must come from quarry_search on the same `ix`.
 * The date filter is not part of a score and is not considered. `*out` is
 * freed with quarry_explanation_free. It uses internal state of `r`: one
 * thread at a time per results. QUARRY_ENOTFOUND for a passage that does
 * not exist or is deleted; QUARRY_EINVAL when `r` has no query (not from
 * quarry_search). */
int quarry_explain(quarry_index *ix, quarry_results *r, uint32_t passage,
                   quarry_explanation **out, quarry_error *err);
void quarry_explanation_free(quarry_explanation *e);

typedef struct quarry_article {
    const char *id;       /* external id; borrowed from the index, valid until quarry_close */
    const char *title;    /* "" when none */
    const char *date;     /* "" when none */
    uint32_t first_passage;
    uint32_t npassages;
} quarry_article;

int quarry_article_get(const quarry_index *ix, uint32_t article, quarry_article *out,
                       quarry_error *err);

/* Finds an article by its external id. QUARRY_ENOTFOUND when absent. */
int quarry_article_find(const quarry_index *ix, const char *id, uint32_t *article,
                        quarry_error *err);

/* The text of a passage / of a whole article, decompressed into a new
 * NUL-terminated buffer that the caller frees with free(). */
int quarry_passage_text(quarry_index *ix, uint32_t passage, char **text, size_t *len,
                        quarry_error *err);
int quarry_article_text(quarry_index *ix, uint32_t article, char **text, size_t *len,
                        quarry_error *err);

typedef struct quarry_span { uint32_t start, end; } quarry_span;

/* Byte spans of the words of `text` whose analyzed form is one of the
 * results' query terms (the original words, for highlighting). `*spans` is
 * a new array the caller frees with free(). */
int quarry_highlight(quarry_index *ix, const quarry_results *r, const char *text, size_t len,
                     quarry_span **spans, size_t *nspans, quarry_error *err);

/* Decodes the postings of one (already analyzed) term for debugging: calls
 * `fn` once per posting with the passage, term frequency and positions.
 * Two terms separated by one space ("of the"): their pair term (an index
 * made with stop words "none"; index/FORMAT.md §pairs). */
typedef int (*quarry_posting_fn)(void *ctx, uint32_t passage, uint32_t tf,
                                 const uint32_t *positions);
int quarry_dump_term(quarry_index *ix, const char *term, uint64_t *df, uint64_t *cf,
                     quarry_posting_fn fn, void *ctx, quarry_error *err);

/* Analyzes `text` with the index's analyzer and calls `fn` with each term
 * (used by `quarry dump --analyze` and by tests). */
typedef int (*quarry_term_fn)(void *ctx, const char *term, size_t len, uint32_t pos,
                              uint32_t start, uint32_t end);
int quarry_analyze(quarry_index *ix, const char *text, size_t len, quarry_term_fn fn,
                   void *ctx, quarry_error *err);

#ifdef __cplusplus
}
#endif
#endif /* QUARRY_H */
