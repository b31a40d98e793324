/*
 * split.c — the passage splitter (passage.h) and the sentence-end test
 * (sentence.h).
 *
 * How an article becomes passages:
 *   1. Paragraphs. A paragraph starts at the first non-blank byte of a line
 *      that follows a blank line (only whitespace) or that is indented (starts
 *      with a space or tab, as Reuters-21578 marks its paragraphs). Single
 *      newlines inside a paragraph are line wraps. The whitespace between
 *      paragraphs belongs to the preceding one, leading whitespace to the
 *      first, so the spans are contiguous.
 *   2. Packing. Consecutive paragraphs are packed into one unit while it
 *      stays within the target. A short paragraph (fewer than target/4
 *      words: a heading, a dateline) is packed with the paragraph after it
 *      when both would not fit in the current unit. A unit is never left
 *      with fewer than target/4 words: a short last unit is joined to the
 *      previous passage.
 *   3. Splitting. A unit longer than 1.5 x target words is cut into
 *      round(words/target) pieces of about equal length. Each cut is the
 *      sentence end nearest the piece's ideal length within +-40% of it,
 *      preferring ends followed by a capital (see qp_sentence_end); failing
 *      that it falls on the word boundary at the ideal length.
 * Spans are uint32_t: a text over 4 GiB gives -1 (the reader caps
 * documents at QR_MAX_DOC, far below).
 * Words here are runs of ASCII letters/digits or bytes >= 0x80 — a cheap
 * approximation of the analyzer's tokens (it counts a non-ASCII punctuation
 * mark such as a curly quote as part of a word), good enough for sizing.
 */
#include "passage/passage.h"
#include "base/sys.h"
#include "passage/sentence.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ sentence ends */

static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* Words that are followed by a '.' without ending a sentence. */
static const char *const abbrevs[] = {
    "Mr", "Mrs", "Ms", "Dr", "Prof", "Sr", "Jr", "St", "Mt", "Ft", "Messrs",
    "Inc", "Ltd", "Co", "Corp", "Bros", "Dept", "Univ", "Assn",
    "Gen", "Col", "Lt", "Sgt", "Capt", "Cmdr", "Adm", "Gov", "Sen", "Rep", "Rev", "Hon", "Pres",
    "No", "Nos", "Vol", "Fig", "Figs", "Eq", "Ref", "Ave", "Blvd", "Rd",
    "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
    "vs", "approx", "cf", "al", "ca", "ed", "eds", "pp", "vol", "no", "fig",
};

/* 1 when the '.' at t[i] ends an abbreviation. */
static int is_abbrev(const unsigned char *t, size_t i)
{
    size_t j = i;
    while (j > 0 && is_alpha(t[j - 1]))
        j--;
    size_t n = i - j;
    if (n == 0)
        return 0;
    if (j >= 2 && t[j - 1] == '.' && is_alpha(t[j - 2]))
        return 1;                                  /* U.S. e.g. a.m. */
    if (n == 1 && is_upper(t[j]))
        return 1;                                  /* an initial: J. Smith */
    if (n > 6)
        return 0;
    for (size_t k = 0; k < sizeof abbrevs / sizeof *abbrevs; k++)
        if (strlen(abbrevs[k]) == n && memcmp(abbrevs[k], t + j, n) == 0)
            return 1;
    return 0;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t qp_sentence_end(const char *text, size_t len, size_t i, int *strong)
{
    const unsigned char *t = (const unsigned char *)text;
    if (i >= len)
        return 0;
    unsigned char c = t[i];
    if (c != '.' && c != '!' && c != '?')
        return 0;
    if (c == '.' && is_abbrev(t, i))
        return 0;
    size_t k = i + 1;
    for (;;) {   /* closing quotes and brackets */
        if (k < len && (t[k] == '"' || t[k] == '\'' || t[k] == ')' || t[k] == ']'))
            k++;
        else if (len - k >= 3 && t[k] == 0xE2 && t[k + 1] == 0x80 && (t[k + 2] == 0x9D || t[k + 2] == 0x99))
            k += 3;                                /* U+201D U+2019 */
        else if (len - k >= 2 && t[k] == 0xC2 && t[k + 1] == 0xBB)
            k += 2;                                /* U+00BB */
        else
            break;
    }
    size_t ws = k;
    while (k < len && is_space(t[k]))
        k++;
    if (k == len) {
        *strong = 1;
        return len;
    }
    if (k == ws)
        return 0;
    unsigned char n = t[k];
    *strong = is_upper(n) || (n >= '0' && n <= '9') || n == '"' || n == '\'' || n == '(' || n == '['
              || n >= 0x80;
    return k;
}

/* ------------------------------------------------------------- words */

/* 1 for the bytes of a word: ASCII letters and digits, and bytes >= 0x80. */
static const unsigned char wordc[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,   /* 0-9 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* A-O */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,   /* P-Z */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* a-o */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,   /* p-z */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static size_t count_words(const unsigned char *t, size_t s, size_t e)
{
    size_t n = 0;
    unsigned prev = 0;
    for (size_t i = s; i < e; i++) {
        unsigned w = wordc[t[i]];
        n += w & ~prev;
        prev = w;
    }
    return n;
}

/* ------------------------------------------------------------ spans */

static int push(qp_spans *out, size_t s, size_t e)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        qp_span *v = qrealloc(out->v, cap * sizeof *v);
        if (!v)
            return -1;
        out->v = v;
        out->cap = cap;
    }
    out->v[out->n].start = (uint32_t)s;
    out->v[out->n].end = (uint32_t)e;
    out->n++;
    return 0;
}

void qp_spans_free(qp_spans *s)
{
    if (!s)
        return;
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* The start of the paragraph after the one whose content starts at `pos`:
 * the first non-blank byte of the next line that follows a blank line or is
 * indented; len when there is none. */
static size_t next_para(const unsigned char *t, size_t len, size_t pos)
{
    size_t i = pos;
    for (;;) {
        const unsigned char *nl = memchr(t + i, '\n', len - i);
        if (!nl)
            return len;
        size_t j = (size_t)(nl - t) + 1;
        int blank = 0;
        for (;;) {
            size_t k = j;
            while (k < len && (t[k] == ' ' || t[k] == '\t' || t[k] == '\r' || t[k] == '\f' || t[k] == '\v'))
                k++;
            if (k == len)
                return len;
            if (t[k] == '\n') {
                blank = 1;
                j = k + 1;
                continue;
            }
            if (blank || t[j] == ' ' || t[j] == '\t')
                return k;
            i = k;
            break;
        }
    }
}

/* Where to end a piece starting at `s` (inside the unit ending at `e`) that
 * should hold about `want` words: the offset of the next piece's first byte,
 * with the piece's word count in *words; e when no cut is possible. */
static size_t find_cut(const char *text, size_t s, size_t e, size_t want, size_t *words)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t lo = want - want * 2 / 5, hi = want + want * 2 / 5;
    if (lo < 1)
        lo = 1;
    size_t best[2] = { 0, 0 }, best_w[2] = { 0, 0 }, best_d[2] = { (size_t)-1, (size_t)-1 };
    size_t wb = 0, wb_w = 0, w = 0, i = s;
    while (i < e) {
        unsigned char c = t[i];
        if (wordc[c]) {
            if (w == want && !wb) {
                wb = i;
                wb_w = w;
            }
            if (++w > hi)
                break;
            while (++i < e && wordc[t[i]])
                ;
            continue;
        }
        if ((c == '.' || c == '!' || c == '?') && w >= lo) {
            int strong = 0;
            size_t n = qp_sentence_end(text, e, i, &strong);
            if (n > i && n < e) {
                size_t d = w > want ? w - want : want - w;
                if (d < best_d[strong]) {
                    best[strong] = n;
                    best_w[strong] = w;
                    best_d[strong] = d;
                }
            }
        }
        i++;
    }
    for (int k = 1; k >= 0; k--)
        if (best[k]) {
            *words = best_w[k];
            return best[k];
        }
    if (wb) {
        *words = wb_w;
        return wb;
    }
    *words = w;
    return e;
}

/* Appends the unit [s, e) of `words` words, split if it is long. */
static int emit_unit(const char *text, size_t s, size_t e, size_t words, size_t target, qp_spans *out)
{
    if (2 * words <= 3 * target)
        return push(out, s, e);
    size_t pieces = (words + target / 2) / target;
    if (pieces < 2)
        pieces = 2;
    size_t cur = s, left = words;
    while (pieces > 1) {
        size_t used = 0;
        size_t want = left / pieces;
        size_t cut = find_cut(text, cur, e, want ? want : 1, &used);
        if (cut <= cur || cut >= e)
            break;
        if (push(out, cur, cut))
            return -1;
        cur = cut;
        left = left > used ? left - used : 0;
        pieces--;
    }
    return push(out, cur, e);
}

int qp_split(const char *text, size_t len, unsigned target, qp_spans *out)
{
    out->n = 0;
    if (len > UINT32_MAX)
        return -1;
    if (target == 0 || len == 0)
        return push(out, 0, len);
    const unsigned char *t = (const unsigned char *)text;
    size_t min_words = target / 4 ? target / 4 : 1;   /* a unit without words is always joined */
    size_t unit_start = 0, unit_words = 0, pos = 0;
    while (pos < len) {
        size_t next = next_para(t, len, pos);
        size_t words = count_words(t, pos, next);
        /* paragraphs are packed into a unit while it stays within the target;
         * a short paragraph (a heading, a dateline) goes with what follows it
         * when that would not fit here too */
        int fits = unit_words + words <= target;
        if (fits && words < min_words && next < len) {
            size_t after = next_para(t, len, next);
            fits = unit_words + words + count_words(t, next, after) <= target;
        }
        if (unit_words >= min_words && !fits) {
            if (emit_unit(text, unit_start, pos, unit_words, target, out))
                return -1;
            unit_start = pos;
            unit_words = 0;
        }
        unit_words += words;
        pos = next;
    }
    if (unit_words < min_words && out->n > 0)
        out->v[out->n - 1].end = (uint32_t)len;   /* a short last unit: to the previous */
    else if (emit_unit(text, unit_start, len, unit_words, target, out))
        return -1;
    return 0;
}
