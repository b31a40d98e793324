/*
 * stopwords.c — stop word sets for the analyzer: the default list (the
 * Snowball English stop list), loading a list from a file, and the hash set
 * the tokenizer looks words up in.
 *
 * Stop words are compared with the folded (case folded, U+2019 -> ')
 * but unstemmed word, so a list is written in plain lower-case words.
 *
 * Stop word file: UTF-8 text; '#' (or '|', the comment character of the
 * Snowball lists) starts a comment that runs to the end of the line; words
 * are separated by white space (normally one word per line); blank lines
 * are ignored; each word is folded like a token.
 */
#include "analyze/analyze_int.h"
#include "base/sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* The Snowball English stop list (snowballstem.org, algorithms/english/stop.txt). */
const char *const qa_default_stopwords[] = {
    /* pronouns */
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours",
    "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself",
    "it", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which",
    "who", "whom", "this", "that", "these", "those",
    /* verb forms */
    "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "having",
    "do", "does", "did", "doing", "would", "should", "could", "ought",
    /* compound forms */
    "i'm", "you're", "he's", "she's", "it's", "we're", "they're", "i've", "you've", "we've",
    "they've", "i'd", "you'd", "he'd", "she'd", "we'd", "they'd", "i'll", "you'll", "he'll",
    "she'll", "we'll", "they'll", "isn't", "aren't", "wasn't", "weren't", "hasn't", "haven't",
    "hadn't", "doesn't", "don't", "didn't", "won't", "wouldn't", "shan't", "shouldn't",
    "can't", "cannot", "couldn't", "mustn't", "let's", "that's", "who's", "what's", "here's",
    "there's", "when's", "where's", "why's", "how's",
    /* articles */
    "a", "an", "the",
    /* the rest */
    "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for",
    "with", "about", "against", "between", "into", "through", "during", "before", "after",
    "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over", "under",
    "again", "further", "then", "once", "here", "there", "when", "where", "why", "how", "all",
    "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not",
    "only", "own", "same", "so", "than", "too", "very",
};
const size_t qa_default_nstopwords = sizeof qa_default_stopwords / sizeof qa_default_stopwords[0];

typedef struct wref {
    const char *p;
    uint32_t n;
} wref;

static int wref_cmp(const void *a, const void *b)
{
    const wref *x = a, *y = b;
    uint32_t m = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, m);
    if (c)
        return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

void qa_stopset_free(qa_stopset *set)
{
    if (!set)
        return;
    free(set->pool);
    free(set->off);
    free(set->len);
    free(set->slots);
    memset(set, 0, sizeof *set);
}

int qa_stopset_build(qa_stopset *set, const char *const *words, const uint32_t *lens, size_t n)
{
    memset(set, 0, sizeof *set);
    if (n == 0)
        return 0;
    if (n > UINT32_MAX / 4)
        return QUARRY_ENOMEM;
    wref *w = qmalloc(n * sizeof *w);
    if (!w)
        return QUARRY_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        w[i].p = words[i];
        w[i].n = lens ? lens[i] : (uint32_t)strlen(words[i]);
    }
    qsort(w, n, sizeof *w, wref_cmp);
    size_t m = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i].n == 0 || (m > 0 && wref_cmp(&w[m - 1], &w[i]) == 0))
            continue;
        w[m++] = w[i];
        bytes += w[i].n + 1;
    }
    size_t cap = 16;
    while (cap < 2 * m)
        cap *= 2;
    set->pool = qmalloc(bytes ? bytes : 1);
    set->off = qmalloc((m ? m : 1) * sizeof *set->off);
    set->len = qmalloc((m ? m : 1) * sizeof *set->len);
    set->slots = qcalloc(cap, sizeof *set->slots);
    if (!set->pool || !set->off || !set->len || !set->slots || bytes > UINT32_MAX) {
        free(w);
        qa_stopset_free(set);
        return QUARRY_ENOMEM;
    }
    set->mask = cap - 1;
    set->minlen = UINT32_MAX;
    size_t at = 0;
    for (size_t i = 0; i < m; i++) {
        memcpy(set->pool + at, w[i].p, w[i].n);
        set->pool[at + w[i].n] = 0;
        set->off[i] = (uint32_t)at;
        set->len[i] = w[i].n;
        at += w[i].n + 1;
        if (w[i].n < set->minlen)
            set->minlen = w[i].n;
        if (w[i].n > set->maxlen)
            set->maxlen = w[i].n;
        size_t s = (size_t)qhash(w[i].p, w[i].n) & set->mask;
        while (set->slots[s])
            s = (s + 1) & set->mask;
        set->slots[s] = (uint32_t)i + 1;
    }
    set->n = m;
    free(w);
    return 0;
}

int qa_stopset_has(const qa_stopset *set, const char *w, size_t n, uint64_t h)
{
    if (set->n == 0 || n < set->minlen || n > set->maxlen)
        return 0;
    size_t s = (size_t)h & set->mask;
    uint32_t e;
    while ((e = set->slots[s]) != 0) {
        e--;
        if (set->len[e] == n && memcmp(set->pool + set->off[e], w, n) == 0)
            return 1;
        s = (s + 1) & set->mask;
    }
    return 0;
}

#define STOPFILE_MAX (64u << 20)

int qa_stopset_load(qa_stopset *set, const char *path, quarry_error *err)
{
    memset(set, 0, sizeof *set);
    FILE *f = qsys_fopen(path, "rb");
    if (!f)
        return qerr_set(err, QUARRY_EIO, "%s: cannot read stop word file: %s", path, strerror(errno));
    qbuf text;
    qbuf_init(&text);
    char chunk[65536];
    size_t got;
    while ((got = qsys_fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (text.len + got > STOPFILE_MAX) {
            qsys_fclose(f);
            qbuf_free(&text);
            return qerr_set(err, QUARRY_ELIMIT, "%s: stop word file is larger than %u MiB",
                            path, STOPFILE_MAX >> 20);
        }
        qbuf_append(&text, chunk, got);
    }
    int rerr = ferror(f) ? errno : 0;
    qsys_fclose(f);
    if (rerr) {
        qbuf_free(&text);
        return qerr_set(err, QUARRY_EIO, "%s: cannot read stop word file: %s", path, strerror(rerr));
    }
    if (text.oom) {
        qbuf_free(&text);
        return qerr_set(err, QUARRY_ENOMEM, "%s: out of memory reading the stop word file", path);
    }

    /* fold every word into `words` (NUL separated), then build the set */
    qbuf words, refs;
    qbuf_init(&words);
    qbuf_init(&refs);
    const char *s = (const char *)text.p;
    size_t n = text.len, i = 0, nwords = 0;
    unsigned line = 1;
    int rc = 0;
    while (i < n && rc == 0) {
        size_t e = i;
        while (e < n && s[e] != '\n')
            e++;
        size_t le = e;
        for (size_t j = i; j < e; j++) {
            if (s[j] == '#' || s[j] == '|') {
                le = j;
                break;
            }
        }
        if (!qa_utf8_valid(s + i, e - i)) {
            rc = qerr_set(err, QUARRY_EINVAL, "%s:%u: stop word file is not valid UTF-8 text",
                          path, line);
            break;
        }
        size_t j = i;
        while (j < le) {
            while (j < le && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\v' || s[j] == '\f'))
                j++;
            size_t ws = j;
            while (j < le && !(s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\v' || s[j] == '\f'))
                j++;
            if (j > ws) {
                size_t at = words.len;
                if (qa_fold_word(s + ws, j - ws, &words) || qbuf_putc(&words, 0) ||
                    qbuf_append(&refs, &at, sizeof at)) {
                    rc = qerr_set(err, QUARRY_ENOMEM, "%s: out of memory reading the stop word file", path);
                    break;
                }
                nwords++;
            }
        }
        i = e + 1;
        line++;
    }
    qbuf_free(&text);
    if (rc == 0 && nwords > 0) {
        const char **ptrs = qmalloc(nwords * sizeof *ptrs);
        if (!ptrs) {
            rc = qerr_set(err, QUARRY_ENOMEM, "%s: out of memory reading the stop word file", path);
        } else {
            for (size_t w = 0; w < nwords; w++) {
                size_t at;
                memcpy(&at, refs.p + w * sizeof at, sizeof at);
                ptrs[w] = (const char *)words.p + at;
            }
            if (qa_stopset_build(set, ptrs, NULL, nwords))
                rc = qerr_set(err, QUARRY_ENOMEM, "%s: out of memory building the stop word set", path);
            free(ptrs);
        }
    }
    qbuf_free(&words);
    qbuf_free(&refs);
    return rc;
}
