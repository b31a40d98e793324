/*
 * analyzer.c — the analyzer object: qa_open / qa_close, the settings blob
 * (qa_serialize / qa_open_serialized) and qa_analyze, which runs the
 * tokenizer (tokenize.c) and the term pipeline (stem.c) over a text.
 *
 * Per word: fold (tokenize.c) -> French/Italian/Catalan elision -> stop word? (the folded word; for English
 * also the word without a possessive 's) -> English possessive 's dropped
 * -> libstemmer -> term (at most QA_MAX_TERM bytes). Stop words are not
 * indexed but take a position.
 *
 * Settings blob (written by qa_serialize, stored in the index), UTF-8 text,
 * every line ended by '\n', nothing before or after:
 *
 *     quarry-analyzer 1
 *     language=LANG          a libstemmer language name, lower case
 *     stemmer=KIND           snowball | porter | none
 *     stopwords=SOURCE       default | none | file:PATH (for people; PATH
 *                            with control characters replaced by '?')
 *     words=N                decimal, the number of stop words that follow
 *     WORD                   N lines: the stop words themselves, folded,
 *     ...                    sorted by bytes, no duplicates, 1..QA_MAX_TERM
 *                            bytes of valid UTF-8 each
 *
 * The stop words are the list in force (for "default" too), so an index
 * keeps analyzing queries the way it was built even if the built-in list
 * changes. qa_open_serialized checks every line; any deviation is
 * QUARRY_ECORRUPT, except a newer version or a language this libstemmer
 * lacks, which are QUARRY_EFORMAT.
 */
#include "analyze/analyze_int.h"
#include "base/sys.h"

#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define BLOB_MAGIC "quarry-analyzer "
#define BLOB_VERSION 1

static const char *const stemmer_names[] = { "snowball", "porter", "none" };

/* 1 when `lang` is one of libstemmer's languages ("porter" is an algorithm, not one). */
static int known_language(const char *lang)
{
    if (strcmp(lang, "porter") == 0)
        return 0;
    for (const char **l = sb_stemmer_list(); *l; l++)
        if (strcmp(*l, lang) == 0)
            return 1;
    return 0;
}

static int unknown_language(const char *lang, quarry_error *err)
{
    char list[768];
    size_t at = 0;
    list[0] = 0;
    for (const char **l = sb_stemmer_list(); *l; l++) {
        if (strcmp(*l, "porter") == 0)
            continue;
        int w = snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "", *l);
        if (w < 0 || (size_t)w >= sizeof list - at)
            break;
        at += (size_t)w;
    }
    return qerr_set(err, QUARRY_EINVAL, "unknown language '%s' (available: %s)", lang, list);
}

static int parse_stemmer(const char *s, enum qa_stemmer_kind *kind)
{
    for (int k = 0; k < 3; k++) {
        if (strcasecmp(s, stemmer_names[k]) == 0) {
            *kind = (enum qa_stemmer_kind)k;
            return 0;
        }
    }
    return -1;
}

/* Builds the analyzer; takes ownership of *stops (freed on failure). */
/* The common words of an analyzer that removes no stop words: the default
 * stop list analyzed (stemmed) as its terms are. */
static int common_build(qa_analyzer *a, quarry_error *err)
{
    size_t n = qa_default_nstopwords;
    char *pool = qmalloc(n * (QA_MAX_TERM + 1));
    const char **words = qmalloc(n * sizeof *words);
    uint32_t *lens = qmalloc(n * sizeof *lens);
    int rc = pool && words && lens ? 0 : QUARRY_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++) {
        char *out = pool + i * (QA_MAX_TERM + 1);
        const char *w = qa_default_stopwords[i];
        if (qa_term_uncached(a, w, (uint32_t)strlen(w), 0, out, &lens[i]) != 1)
            rc = QUARRY_ENOMEM;   /* (no stop words: every word is a term) */
        words[i] = out;
    }
    if (!rc)
        rc = qa_stopset_build(&a->common, words, lens, n);
    free(pool);
    free(words);
    free(lens);
    return rc ? qerr_set(err, QUARRY_ENOMEM, "out of memory creating the analyzer") : 0;
}

int qa_pairs(const qa_analyzer *a) { return a->common.n > 0; }

int qa_common(const qa_analyzer *a, const char *t, size_t n, uint64_t h)
{
    return qa_stopset_has(&a->common, t, n, h);
}

size_t qa_pair_term(char *out, const char *a, size_t na, const char *b, size_t nb)
{
    if (2 + na + nb > QA_MAX_PAIR)
        return 0;
    out[0] = QA_PAIR_MARK;
    memcpy(out + 1, a, na);
    out[1 + na] = QA_PAIR_SEP;
    memcpy(out + 2 + na, b, nb);
    return 2 + na + nb;
}

static int make(const char *language, enum qa_stemmer_kind kind, const char *source,
                qa_stopset *stops, qa_analyzer **out, quarry_error *err)
{
    qa_analyzer *a = qcalloc(1, sizeof *a);
    if (!a) {
        qa_stopset_free(stops);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory creating the analyzer");
    }
    a->stops = *stops;
    memset(stops, 0, sizeof *stops);
    snprintf(a->language, sizeof a->language, "%s", language);
    a->kind = kind;
    a->english = strcmp(language, "english") == 0;
    a->elisions = qa_elisions(a->language);
    a->use_cache = 1;
    a->stop_source = qstrndup(source, strlen(source));
    if (strncmp(source, "file:", 5) == 0) {
        size_t n = strlen(source) + 48;
        a->desc = qmalloc(n);
        if (a->desc)
            snprintf(a->desc, n, "%s (%zu word%s)", source, a->stops.n, a->stops.n == 1 ? "" : "s");
    } else {
        a->desc = qstrndup(source, strlen(source));
    }
    if (!a->stop_source || !a->desc) {
        qa_close(a);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory creating the analyzer");
    }
    int rc = qa_stemmer_open(a->language, kind, &a->stemmer, err);
    if (!rc && strcmp(source, "none") == 0)
        rc = common_build(a, err);
    if (rc) {
        qa_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

int qa_open(const char *language, const char *stemmer, const char *stopwords,
            qa_analyzer **out, quarry_error *err)
{
    char lang[32];
    if (!language || !*language)
        language = "english";
    if (!stemmer || !*stemmer)
        stemmer = "snowball";
    if (!stopwords || !*stopwords)
        stopwords = "default";

    size_t ll = strlen(language);
    if (ll >= sizeof lang)
        return unknown_language(language, err);
    for (size_t i = 0; i <= ll; i++)
        lang[i] = (char)(language[i] >= 'A' && language[i] <= 'Z' ? language[i] | 0x20 : language[i]);
    if (!known_language(lang))
        return unknown_language(language, err);

    enum qa_stemmer_kind kind;
    if (parse_stemmer(stemmer, &kind))
        return qerr_set(err, QUARRY_EINVAL, "unknown stemmer '%s' (available: snowball, porter, none)",
                        stemmer);
    if (kind == QA_STEM_PORTER)
        snprintf(lang, sizeof lang, "english");   /* Porter's algorithm is for English */

    qa_stopset set;
    int rc;
    qbuf src;
    qbuf_init(&src);
    if (strcmp(stopwords, "default") == 0) {
        rc = qa_stopset_build(&set, qa_default_stopwords, NULL, qa_default_nstopwords);
        if (rc)
            return qerr_set(err, rc, "out of memory building the stop word set");
        qbuf_printf(&src, "default");
    } else if (strcmp(stopwords, "none") == 0) {
        memset(&set, 0, sizeof set);
        qbuf_printf(&src, "none");
    } else {
        rc = qa_stopset_load(&set, stopwords, err);
        if (rc)
            return rc;
        qbuf_printf(&src, "file:%s", stopwords);
    }
    qbuf_putc(&src, 0);
    if (src.oom) {
        qa_stopset_free(&set);
        qbuf_free(&src);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory creating the analyzer");
    }
    rc = make(lang, kind, (const char *)src.p, &set, out, err);
    qbuf_free(&src);
    return rc;
}

void qa_close(qa_analyzer *a)
{
    if (!a)
        return;
    qa_stemmer_close(a->stemmer);
    qa_stopset_free(&a->stops);
    qa_stopset_free(&a->common);
    qa_cache_free(&a->cache);
    free(a->stop_source);
    free(a->desc);
    free(a);
}

const char *qa_language(const qa_analyzer *a) { return a->language; }
const char *qa_stemmer_name(const qa_analyzer *a) { return stemmer_names[a->kind]; }
const char *qa_stopwords_desc(const qa_analyzer *a) { return a->desc; }

/* ---------------------------------------------------------- settings */

int qa_serialize(const qa_analyzer *a, qbuf *out)
{
    qbuf_printf(out, "%s%d\nlanguage=%s\nstemmer=%s\nstopwords=", BLOB_MAGIC, BLOB_VERSION,
                a->language, stemmer_names[a->kind]);
    for (const char *p = a->stop_source; *p; p++)
        qbuf_putc(out, (uint8_t)*p < 0x20 || *p == 0x7f ? '?' : (uint8_t)*p);
    qbuf_printf(out, "\nwords=%zu\n", a->stops.n);
    for (size_t i = 0; i < a->stops.n; i++) {
        qbuf_append(out, a->stops.pool + a->stops.off[i], a->stops.len[i]);
        qbuf_putc(out, '\n');
    }
    return out->oom ? QUARRY_ENOMEM : 0;
}

typedef struct blob {
    const char *p, *end;
    unsigned line;
} blob;

/* The next line (without '\n') or -1 when no '\n'-terminated line is left. */
static int next_line(blob *b, const char **s, size_t *n)
{
    const char *nl = b->p < b->end ? memchr(b->p, '\n', (size_t)(b->end - b->p)) : NULL;
    if (!nl)
        return -1;
    *s = b->p;
    *n = (size_t)(nl - b->p);
    b->p = nl + 1;
    b->line++;
    return 0;
}

static int corrupt(quarry_error *err, const blob *b, const char *what)
{
    return qerr_set(err, QUARRY_ECORRUPT, "analyzer settings: line %u: %s (rebuild the index)",
                    b->line, what);
}

/* Reads "KEY=VALUE" into val (NUL-terminated, at most cap-1 bytes). */
static int keyed(blob *b, const char *key, char *val, size_t cap, quarry_error *err)
{
    const char *s;
    size_t n, kl = strlen(key);
    if (next_line(b, &s, &n))
        return corrupt(err, b, "settings end early");
    if (n < kl + 1 || memcmp(s, key, kl) != 0 || s[kl] != '=') {
        char what[64];
        snprintf(what, sizeof what, "expected '%s='", key);
        return corrupt(err, b, what);
    }
    n -= kl + 1;
    if (n >= cap || memchr(s + kl + 1, 0, n))
        return corrupt(err, b, "value too long or not text");
    memcpy(val, s + kl + 1, n);
    val[n] = 0;
    return 0;
}

static int parse_count(const char *s, size_t *v)
{
    size_t r = 0;
    if (!*s || (s[0] == '0' && s[1]))
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || r > (SIZE_MAX - 9) / 10)
            return -1;
        r = r * 10 + (size_t)(*s - '0');
    }
    *v = r;
    return 0;
}

int qa_open_serialized(const void *data, size_t len, qa_analyzer **out, quarry_error *err)
{
    blob b = { (const char *)data, (const char *)data + len, 0 };
    const char *s;
    size_t n;
    if (!data || next_line(&b, &s, &n))
        return corrupt(err, &b, "not analyzer settings");
    size_t ml = strlen(BLOB_MAGIC);
    if (n <= ml || memcmp(s, BLOB_MAGIC, ml) != 0)
        return corrupt(err, &b, "not analyzer settings");
    char tmp[32];
    if (n - ml >= sizeof tmp)
        return corrupt(err, &b, "bad version");
    memcpy(tmp, s + ml, n - ml);
    tmp[n - ml] = 0;
    size_t version;
    if (parse_count(tmp, &version))
        return corrupt(err, &b, "bad version");
    if (version != BLOB_VERSION)
        return qerr_set(err, QUARRY_EFORMAT,
                        "analyzer settings version %zu: this build reads version %d (upgrade quarry)",
                        version, BLOB_VERSION);

    char lang[32], stem[16], count[24];
    char *source = qmalloc(len + 1);
    if (!source)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory reading analyzer settings");
    int rc;
    enum qa_stemmer_kind kind = QA_STEM_NONE;
    size_t nwords = 0;
    if ((rc = keyed(&b, "language", lang, sizeof lang, err)) ||
        (rc = keyed(&b, "stemmer", stem, sizeof stem, err)))
        goto fail;
    if (parse_stemmer(stem, &kind)) {
        rc = corrupt(err, &b, "unknown stemmer");
        goto fail;
    }
    if ((rc = keyed(&b, "stopwords", source, len + 1, err)))
        goto fail;
    if (strcmp(source, "default") != 0 && strcmp(source, "none") != 0 &&
        strncmp(source, "file:", 5) != 0) {
        rc = corrupt(err, &b, "bad stop word source");
        goto fail;
    }
    if ((rc = keyed(&b, "words", count, sizeof count, err)))
        goto fail;
    if (parse_count(count, &nwords) || nwords > len || (nwords > 0 && strcmp(source, "none") == 0)) {
        rc = corrupt(err, &b, "bad stop word count");
        goto fail;
    }
    if (!known_language(lang)) {
        rc = qerr_set(err, QUARRY_EFORMAT,
                      "analyzer settings name language '%s', which this build's libstemmer lacks", lang);
        goto fail;
    }
    if (kind == QA_STEM_PORTER && strcmp(lang, "english") != 0) {
        rc = corrupt(err, &b, "porter stemmer with a language other than english");
        goto fail;
    }

    const char **words = qmalloc((nwords ? nwords : 1) * sizeof *words);
    uint32_t *lens = qmalloc((nwords ? nwords : 1) * sizeof *lens);
    if (!words || !lens) {
        free(words);
        free(lens);
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory reading analyzer settings");
        goto fail;
    }
    for (size_t i = 0; i < nwords; i++) {
        if (next_line(&b, &s, &n)) {
            rc = corrupt(err, &b, "fewer stop words than announced");
            break;
        }
        if (n == 0 || n > QA_MAX_TERM || !qa_utf8_valid(s, n)) {
            rc = corrupt(err, &b, "bad stop word");
            break;
        }
        if (i > 0) {
            size_t m = n < lens[i - 1] ? n : lens[i - 1];
            int c = memcmp(words[i - 1], s, m);
            if (c > 0 || (c == 0 && lens[i - 1] >= n)) {
                rc = corrupt(err, &b, "stop words not sorted or not unique");
                break;
            }
        }
        words[i] = s;
        lens[i] = (uint32_t)n;
    }
    if (rc == 0 && b.p != b.end)
        rc = corrupt(err, &b, "unexpected data after the stop words");
    qa_stopset set;
    memset(&set, 0, sizeof set);
    if (rc == 0 && qa_stopset_build(&set, words, lens, nwords))
        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory reading analyzer settings");
    free(words);
    free(lens);
    if (rc == 0)
        rc = make(lang, kind, source, &set, out, err);
fail:
    free(source);
    return rc;
}

/* ----------------------------------------------------------- analyze */

int qa_analyze(qa_analyzer *a, const char *text, size_t len, uint32_t pos_base,
               qa_token_fn fn, void *ctx, uint32_t *next_pos)
{
    qa_scan sc;
    qa_rawtok rt;
    char term[QA_MAX_TERM + 1];
    uint32_t pos = pos_base;
    int rc = 0;
    qa_scan_init(&sc, text ? text : "", text ? len : 0);
    while (qa_scan_next(&sc, &rt)) {
        uint32_t tl = 0;
        int r = qa_term(a, &rt, term, &tl);
        if (r < 0) {
            rc = QUARRY_ENOMEM;
            break;
        }
        if (r > 0) {
            qa_token tok = { term, tl, pos, rt.start, rt.end };
            rc = fn(ctx, &tok);
            if (rc) {
                pos++;
                break;
            }
        }
        pos++;
    }
    if (next_pos)
        *next_pos = pos;
    return rc;
}
