/*
 * test_passage.c — unit tests of src/passage/split.c: the spans always
 * cover the text contiguously; paragraphs at blank lines and at indented
 * lines (Reuters-21578), not at line wraps; long paragraphs cut at sentence
 * ends (not after "Mr.", "U.S.", "Inc."), or at word boundaries when there
 * are none; short paragraphs joined; target 0 and empty text. With
 * QUARRY_CORPUS, the invariants are checked on every article of
 * Reuters-21578 and BBC, and the passage counts are printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "passage/passage.h"
#include "passage/sentence.h"
#include "read/read.h"
#include "support/qtest.h"

/* ------------------------------------------------------------ helpers */

static int wordbyte(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80;
}

static size_t words(const char *t, size_t s, size_t e)
{
    size_t n = 0;
    for (size_t i = s; i < e; i++)
        if (wordbyte((unsigned char)t[i]) && (i == s || !wordbyte((unsigned char)t[i - 1])))
            n++;
    return n;
}

/* The invariants of passage.h: contiguous, in order, non-empty (unless the
 * text is), the first at 0 and the last at len; and a span never starts
 * inside a word. */
static void check_spans(const char *t, size_t len, const qp_spans *s)
{
    assert_true(s->n >= 1);
    assert_int_equal(s->v[0].start, 0);
    assert_int_equal(s->v[s->n - 1].end, len);
    for (size_t i = 0; i < s->n; i++) {
        assert_true(s->v[i].start < s->v[i].end || len == 0);
        if (i + 1 < s->n)
            assert_int_equal(s->v[i].end, s->v[i + 1].start);
        if (i > 0) {
            size_t b = s->v[i].start;
            assert_false(wordbyte((unsigned char)t[b]) && wordbyte((unsigned char)t[b - 1]));
        }
    }
}

static qp_spans spans;

static void split(const char *t, unsigned target)
{
    assert_int_equal(qp_split(t, strlen(t), target, &spans), 0);
    check_spans(t, strlen(t), &spans);
}

/* Appends n words "wK" (K counting from *k) separated by spaces. */
static void add_words(char *buf, size_t n, int *k)
{
    for (size_t i = 0; i < n; i++)
        sprintf(buf + strlen(buf), "%sw%d", i ? " " : "", (*k)++);
}

/* Appends a sentence of n words starting with a capital, ending with '.'. */
static void add_sentence(char *buf, size_t n, int *k)
{
    sprintf(buf + strlen(buf), "%sThe", buf[0] && buf[strlen(buf) - 1] != '\n' ? " " : "");
    add_words(buf + strlen(buf), 0, k);
    for (size_t i = 1; i < n; i++)
        sprintf(buf + strlen(buf), " s%d", (*k)++);
    strcat(buf, ".");
}

/* ------------------------------------------------------------- tests */

static void test_trivial(void **state)
{
    (void)state;
    assert_int_equal(qp_split("", 0, 120, &spans), 0);
    assert_int_equal(spans.n, 1);
    assert_int_equal(spans.v[0].start, 0);
    assert_int_equal(spans.v[0].end, 0);
    assert_int_equal(qp_split("", 0, 0, &spans), 0);
    assert_int_equal(spans.n, 1);

    /* target 0: the whole text */
    char big[20000] = "";
    int k = 0;
    for (int i = 0; i < 50; i++) {
        add_sentence(big, 30, &k);
        strcat(big, "\n\n");
    }
    split(big, 0);
    assert_int_equal(spans.n, 1);
    /* whitespace only, one word, a text without paragraphs */
    split("  \n\n \t\n", 120);
    assert_int_equal(spans.n, 1);
    split("word", 120);
    assert_int_equal(spans.n, 1);
    split("\n\n   word\n\n", 1);
    assert_int_equal(spans.n, 1);
}

static void test_blank_line_paragraphs(void **state)
{
    (void)state;
    char t[4000] = "\n\n";
    int k = 0;
    size_t starts[3];
    for (int p = 0; p < 3; p++) {
        starts[p] = strlen(t);
        add_sentence(t, 20, &k);
        add_sentence(t, 20, &k);
        strcat(t, p == 0 ? "\n\n" : p == 1 ? "\r\n \t\r\n\n" : "\n");
    }
    split(t, 40);
    assert_int_equal(spans.n, 3);
    assert_int_equal(spans.v[1].start, starts[1]);
    assert_int_equal(spans.v[2].start, starts[2]);
    /* the separators belong to the preceding passage */
    assert_memory_equal(t + spans.v[1].end - 2, "\n\n", 2);

    /* single newlines are line wraps, not paragraphs */
    char w[4000] = "";
    k = 0;
    for (int line = 0; line < 12; line++) {
        add_words(w, 10, &k);
        strcat(w, "\n");
    }
    split(w, 120);
    assert_int_equal(spans.n, 1);
}

static void test_reuters_indentation(void **state)
{
    (void)state;
    /* the first article of Reuters-21578, abridged */
    static const char t[] =
        "SALVADOR, Feb 26 - Showers continued throughout the week in\n"
        "the Bahia cocoa zone, alleviating the drought since early\n"
        "January and improving prospects for the coming temporao,\n"
        "although normal humidity levels have not been restored,\n"
        "Comissaria Smith said in its weekly review.\n"
        "    The dry period means the temporao will be late this year.\n"
        "    Arrivals for the week ended February 22 were 155,221 bags\n"
        "of 60 kilos making a cumulative total for the season of 5.93\n"
        "mln against 5.81 at the same stage last year. Again it seems\n"
        "that cocoa delivered earlier on consignment was included in the\n"
        "arrivals figures.\n"
        "    Comissaria Smith said there is still some doubt as to how\n"
        "much old crop cocoa is still available as harvesting has\n"
        "practically come to an end. With total Bahia crop estimates\n"
        "around 6.4 mln bags and sales standing at almost 6.2 mln there\n"
        "are a few hundred thousand bags still in the hands of farmers,\n"
        "middlemen, exporters and processors.\n"
        "    Buyers were the U.S., Argentina, Uruguay and convertible\n"
        "currency areas.";
    /* target 60 (words counted as the splitter does: "6.4" is two):
     * SALVADOR 41 | The dry period 11 (< 15, joined to the next) + Arrivals 49 |
     * Comissaria 61 + Buyers 11 (the last short one, joined to the previous) */
    split(t, 60);
    const char *want[] = { "SALVADOR", "The dry period", "Comissaria Smith said there" };
    if (spans.n != 3)
        for (size_t i = 0; i < spans.n; i++)
            print_message("span %zu: %.30s\n", i, t + spans.v[i].start);
    assert_int_equal(spans.n, 3);
    assert_int_equal(words(t, spans.v[0].start, spans.v[0].end), 41);
    assert_int_equal(words(t, spans.v[1].start, spans.v[1].end), 60);
    assert_int_equal(words(t, spans.v[2].start, spans.v[2].end), 72);
    for (size_t i = 0; i < spans.n; i++) {
        assert_memory_equal(t + spans.v[i].start, want[i], strlen(want[i]));
        if (i > 0)
            assert_memory_equal(t + spans.v[i].start - 5, "\n    ", 5);
    }
    /* target 120: packed 41 + 11 + 49 | 61 + 11 */
    split(t, 120);
    assert_int_equal(spans.n, 2);
    assert_int_equal(words(t, spans.v[0].start, spans.v[0].end), 101);
    assert_memory_equal(t + spans.v[1].start, "Comissaria", 10);
    /* target 200: all 173 words in one passage */
    split(t, 200);
    assert_int_equal(spans.n, 1);
}

static void test_long_paragraph(void **state)
{
    (void)state;
    /* 10 sentences of 30 words in one paragraph, target 100: 3 pieces cut at sentence ends */
    char t[20000] = "";
    int k = 0;
    for (int i = 0; i < 10; i++)
        add_sentence(t, 30, &k);
    split(t, 100);
    assert_int_equal(spans.n, 3);
    for (size_t i = 0; i < spans.n; i++) {
        size_t w = words(t, spans.v[i].start, spans.v[i].end);
        assert_true(w >= 60 && w <= 140);
        assert_int_equal(w % 30, 0);   /* whole sentences */
        if (i > 0) {
            assert_memory_equal(t + spans.v[i].start - 2, ". ", 2);
            assert_memory_equal(t + spans.v[i].start, "The", 3);
        }
    }
    /* not long enough to split: 1.5 x target */
    t[0] = 0;
    k = 0;
    for (int i = 0; i < 5; i++)
        add_sentence(t, 30, &k);
    split(t, 100);
    assert_int_equal(spans.n, 1);

    /* no sentence ends at all: cut at word boundaries, about equal pieces */
    t[0] = 0;
    k = 0;
    add_words(t, 500, &k);
    split(t, 100);
    assert_int_equal(spans.n, 5);
    for (size_t i = 0; i < spans.n; i++)
        assert_int_equal(words(t, spans.v[i].start, spans.v[i].end), 100);

    /* lower-case sentence starts (Cranfield style " . ") are used when
     * there is nothing better */
    t[0] = 0;
    k = 0;
    for (int i = 0; i < 8; i++) {
        add_words(t, 25, &k);
        strcat(t, " .  ");
    }
    split(t, 100);
    assert_int_equal(spans.n, 2);
    assert_memory_equal(t + spans.v[1].start - 4, " .  ", 4);
    assert_int_equal(words(t, 0, spans.v[0].end), 100);
}

static void test_abbreviations(void **state)
{
    (void)state;
    /* An abbreviation's '.' nearest the ideal cut (35 words), a real
     * sentence end at 40 words: the cut must be the real one. */
    static const char *const abbr[] = { "Mr.", "U.S.", "Inc.", "Dr.", "Feb.", "J.", "e.g." };
    char t[20000];
    for (size_t a = 0; a < sizeof abbr / sizeof *abbr; a++) {
        t[0] = 0;
        int k = 0;
        add_sentence(t, 15, &k);               /* 15 words */
        strcat(t, " Then");
        for (int i = 0; i < 18; i++)           /* 34 words */
            sprintf(t + strlen(t), " x%d", i);
        sprintf(t + strlen(t), " %s Smith a b c d e. After", abbr[a]);
        for (int i = 0; i < 29; i++)
            sprintf(t + strlen(t), " y%d", i);
        strcat(t, ".");
        split(t, 40);
        if (spans.n != 2 || memcmp(t + spans.v[1].start, "After", 5) != 0)
            for (size_t i = 0; i < spans.n; i++)
                print_message("%s: span %zu: %.20s\n", abbr[a], i, t + spans.v[i].start);
        assert_int_equal(spans.n, 2);
        assert_memory_equal(t + spans.v[1].start, "After", 5);
    }
    /* the sentence-end test itself */
    int strong = -1;
    const char *s = "He said \"yes.\" Then left.";
    assert_int_equal(qp_sentence_end(s, strlen(s), 12, &strong), 15);
    assert_int_equal(strong, 1);
    s = "Mr. Smith";
    assert_int_equal(qp_sentence_end(s, strlen(s), 2, &strong), 0);
    s = "the U.S. Treasury";
    assert_int_equal(qp_sentence_end(s, strlen(s), 7, &strong), 0);
    s = "it grew 3.5 pct";
    assert_int_equal(qp_sentence_end(s, strlen(s), 9, &strong), 0);
    s = "in 1987. 26 people";
    assert_int_equal(qp_sentence_end(s, strlen(s), 7, &strong), 9);
    assert_int_equal(strong, 1);
    s = "end .  the next";
    assert_int_equal(qp_sentence_end(s, strlen(s), 4, &strong), 7);
    assert_int_equal(strong, 0);
    s = "Really?! Yes";
    assert_int_equal(qp_sentence_end(s, strlen(s), 6, &strong), 0);
    assert_int_equal(qp_sentence_end(s, strlen(s), 7, &strong), 9);
    s = "quoted.\xE2\x80\x9D Next";
    assert_int_equal(qp_sentence_end(s, strlen(s), 6, &strong), 11);
    s = "the end.";
    assert_int_equal(qp_sentence_end(s, strlen(s), 7, &strong), 8);
    s = "wait... Then";
    assert_int_equal(qp_sentence_end(s, strlen(s), 6, &strong), 8);
}

static void test_short_paragraphs(void **state)
{
    (void)state;
    char t[20000] = "Headline\n\n";
    int k = 0;
    size_t body = strlen(t);
    add_words(t, 100, &k);
    strcat(t, ".\n\nShares 5 pct\n");
    /* the short headline joins the body; the short ending joins it too */
    split(t, 120);
    assert_int_equal(spans.n, 1);
    (void)body;

    /* three bodies separated by short lines: each short one joins the next */
    t[0] = 0;
    k = 0;
    size_t starts[3];
    for (int p = 0; p < 3; p++) {
        starts[p] = strlen(t);
        strcat(t, "Subhead here\n\n");
        add_words(t, 100, &k);
        strcat(t, ".\n\n");
    }
    split(t, 120);
    assert_int_equal(spans.n, 3);
    for (int p = 0; p < 3; p++)
        assert_int_equal(spans.v[p].start, starts[p]);

    /* many short paragraphs: packed up to the target */
    t[0] = 0;
    k = 0;
    for (int p = 0; p < 30; p++) {
        add_words(t, 10, &k);
        strcat(t, "\n\n");
    }
    /* every paragraph is short, so each looks ahead: a unit closes at 110
     * words because 110 + 10 + 10 would pass the target; the last 80 stay */
    split(t, 120);
    assert_int_equal(spans.n, 3);
    assert_int_equal(words(t, spans.v[0].start, spans.v[0].end), 110);
    assert_int_equal(words(t, spans.v[1].start, spans.v[1].end), 110);
    assert_int_equal(words(t, spans.v[2].start, spans.v[2].end), 80);
}

static void test_reuse(void **state)
{
    (void)state;
    char t[20000] = "";
    int k = 0;
    for (int i = 0; i < 20; i++) {
        add_sentence(t, 20, &k);
        strcat(t, i % 3 == 2 ? "\n\n" : " ");
    }
    split(t, 30);
    size_t n = spans.n;
    qp_span first[64];
    assert_true(n <= 64);
    memcpy(first, spans.v, n * sizeof *first);
    split(t, 0);
    assert_int_equal(spans.n, 1);
    split(t, 30);
    assert_int_equal(spans.n, n);
    assert_memory_equal(spans.v, first, n * sizeof *first);
}

/* ----------------------------------------------------- shared corpora */

static void split_collection(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/docs.jsonl.gz", tcorpus_dir(), name);
    if (access(path, R_OK) != 0)
        tskip("%s not found (set QUARRY_CORPUS)", path);
    static const unsigned targets[] = { 120, 0, 50, 300 };
    for (size_t ti = 0; ti < sizeof targets / sizeof *targets; ti++) {
        unsigned target = targets[ti];
        const char *paths[] = { path };
        qr_reader *r;
        quarry_error e;
        assert_int_equal(qr_open(paths, 1, &r, &e), 0);
        qr_doc d;
        int rc;
        size_t docs = 0, passages = 0, total_words = 0, max_words = 0, over = 0;
        double t0 = qnow();
        while ((rc = qr_next(r, &d, &e)) > 0) {
            assert_int_equal(qp_split(d.text, d.text_len, target, &spans), 0);
            check_spans(d.text, d.text_len, &spans);
            if (target == 0)
                assert_int_equal(spans.n, 1);
            for (size_t i = 0; i < spans.n; i++) {
                size_t w = words(d.text, spans.v[i].start, spans.v[i].end);
                total_words += w;
                if (w > max_words)
                    max_words = w;
                if (target && w > 2 * target)
                    over++;
            }
            docs++;
            passages += spans.n;
        }
        assert_int_equal(rc, 0);
        double t = qnow() - t0;
        print_message("      %s target %u: %zu articles, %zu passages, %.1f words/passage, max %zu, "
                      "%zu over 2x target (%.2f s with reading)\n",
                      name, target, docs, passages, (double)total_words / (double)passages, max_words, over, t);
        if (target) {
            /* passages are around the target, and only rare ones far above it */
            assert_true(passages >= docs);
            assert_true(over * 1000 <= passages);
        }
        qr_close(r);
    }
}

static void test_reuters(void **state)
{
    (void)state;
    split_collection("reuters21578");
}

static void test_bbc(void **state)
{
    (void)state;
    split_collection("bbc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trivial),
        cmocka_unit_test(test_blank_line_paragraphs),
        cmocka_unit_test(test_reuters_indentation),
        cmocka_unit_test(test_long_paragraph),
        cmocka_unit_test(test_abbreviations),
        cmocka_unit_test(test_short_paragraphs),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_reuters),
        cmocka_unit_test(test_bbc),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    qp_spans_free(&spans);
    return rc;
}
