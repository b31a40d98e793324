/*
 * test_analyze.c — unit tests of the analyzer (src/analyze): UTF-8
 * cleaning and validation, tokenizing and folding, positions and spans,
 * stop words, stemming against libstemmer, the settings blob, and the stem
 * cache against uncached analysis on real text (the .txt files of corpus/ and, when
 * QUARRY_CORPUS is set, the BBC collection).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>
#include <zlib.h>

#include "analyze/analyze.h"
#include "analyze/analyze_int.h"
#include "support/qtest.h"

/* ------------------------------------------------------------ helpers */

#define MAXTOK 4096

typedef struct coll {
    const char *text;
    size_t textlen;
    int n;
    char term[MAXTOK][QA_MAX_TERM + 1];
    uint32_t pos[MAXTOK], start[MAXTOK], end[MAXTOK];
} coll;

static int collect(void *ctx, const qa_token *t)
{
    coll *c = ctx;
    assert_int_equal(t->len, strlen(t->term));
    assert_true(t->len > 0 && t->len <= QA_MAX_TERM);
    assert_true(qa_utf8_valid(t->term, t->len));
    assert_true(t->start < t->end && t->end <= c->textlen);
    if (c->n > 0)
        assert_true(t->pos > c->pos[c->n - 1] && t->start >= c->end[c->n - 1]);
    if (c->n < MAXTOK) {
        memcpy(c->term[c->n], t->term, t->len + 1);
        c->pos[c->n] = t->pos;
        c->start[c->n] = t->start;
        c->end[c->n] = t->end;
    }
    c->n++;
    return 0;
}

static coll *run(qa_analyzer *a, const char *text, size_t len, uint32_t base, uint32_t *next)
{
    static coll c;
    memset(&c, 0, sizeof c);
    c.text = text;
    c.textlen = len;
    assert_int_equal(qa_analyze(a, text, len, base, collect, &c, next), 0);
    return &c;
}

static qa_analyzer *open_ok(const char *lang, const char *stem, const char *stop)
{
    qa_analyzer *a = NULL;
    quarry_error err = { 0, "" };
    int rc = qa_open(lang, stem, stop, &a, &err);
    if (rc)
        print_error("qa_open(%s, %s, %s): %s\n", lang ? lang : "NULL", stem ? stem : "NULL",
                    stop ? stop : "NULL", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(a);
    return a;
}

/* Checks that analyzing text gives exactly the space-separated terms. */
static void expect_terms(qa_analyzer *a, const char *text, const char *expected)
{
    coll *c = run(a, text, strlen(text), 0, NULL);
    char got[8192] = "";
    for (int i = 0; i < c->n && i < MAXTOK; i++) {
        if (i)
            strcat(got, " ");
        strncat(got, c->term[i], sizeof got - strlen(got) - 1);
    }
    if (strcmp(got, expected) != 0) {
        print_error("text     [%s]\nexpected [%s]\ngot      [%s]\n", text, expected, got);
        fail();
    }
}

/* ------------------------------------------------------------- UTF-8 */

static void check_clean(const char *in, size_t len, const char *want, size_t nrep)
{
    qbuf out;
    qbuf_init(&out);
    size_t r = qa_utf8_clean(in, len, &out);
    qbuf_putc(&out, 0);
    if (r != nrep || strcmp((char *)out.p, want) != 0) {
        print_error("clean: %zu replacements (want %zu), got [%s] want [%s]\n", r, nrep,
                    (char *)out.p, want);
        fail();
    }
    assert_true(qa_utf8_valid((char *)out.p, out.len - 1));
    assert_int_equal(qa_utf8_valid(in, len), nrep == 0);
    qbuf_free(&out);
}

#define FFFD "\xEF\xBF\xBD"

static void test_utf8_boundaries(void **state)
{
    static const struct { const char *s; int32_t cp; } v[] = {
        { "\x7F", 0x7F }, { "\xC2\x80", 0x80 }, { "\xDF\xBF", 0x7FF }, { "\xE0\xA0\x80", 0x800 },
        { "\xED\x9F\xBF", 0xD7FF }, { "\xEE\x80\x80", 0xE000 }, { "\xEF\xBF\xBF", 0xFFFF },
        { "\xF0\x90\x80\x80", 0x10000 }, { "\xF4\x8F\xBF\xBF", 0x10FFFF },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i].s);
        int32_t cp = -1;
        assert_int_equal(qa_utf8_decode(v[i].s, n, &cp), (int)n);
        assert_int_equal(cp, v[i].cp);
        assert_true(qa_utf8_valid(v[i].s, n));
        check_clean(v[i].s, n, v[i].s, 0);
        /* agree with utf8proc */
        utf8proc_int32_t pc;
        assert_int_equal(utf8proc_iterate((const utf8proc_uint8_t *)v[i].s, (utf8proc_ssize_t)n, &pc), (long)n);
        assert_int_equal(pc, v[i].cp);
    }
}

static void test_utf8_invalid(void **state)
{
    /* overlong forms */
    check_clean("a\xC0\x80z", 4, "a" FFFD FFFD "z", 2);
    check_clean("\xC1\xBF", 2, FFFD FFFD, 2);
    check_clean("\xE0\x80\x80", 3, FFFD FFFD FFFD, 3);
    check_clean("\xE0\x9F\xBF", 3, FFFD FFFD FFFD, 3);
    check_clean("\xF0\x80\x80\x80", 4, FFFD FFFD FFFD FFFD, 4);
    check_clean("\xF0\x8F\xBF\xBF", 4, FFFD FFFD FFFD FFFD, 4);
    /* surrogates */
    check_clean("\xED\xA0\x80", 3, FFFD FFFD FFFD, 3);
    check_clean("x\xED\xBF\xBFy", 5, "x" FFFD FFFD FFFD "y", 3);
    /* above U+10FFFF */
    check_clean("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, 4);
    check_clean("\xF5\x80\x80\x80", 4, FFFD FFFD FFFD FFFD, 4);
    check_clean("\xFF\xFE", 2, FFFD FFFD, 2);
    /* stray continuation bytes */
    check_clean("\x80", 1, FFFD, 1);
    check_clean("ab\xBF\x80" "cd", 6, "ab" FFFD FFFD "cd", 2);
    /* truncated sequences: one U+FFFD per maximal subpart */
    check_clean("\xC3", 1, FFFD, 1);
    check_clean("\xE2\x82", 2, FFFD, 1);
    check_clean("\xE2\x82" "A", 3, FFFD "A", 1);
    check_clean("\xF0\x9F\x98", 3, FFFD, 1);
    check_clean("\xF0\x9F\x98" "\xF0\x9F\x98\x80", 7, FFFD "\xF0\x9F\x98\x80", 1);
    check_clean("caf\xC3", 4, "caf" FFFD, 1);
    /* NUL becomes a space */
    check_clean("a\0b", 3, "a b", 1);
    assert_false(qa_utf8_valid("a\0b", 3));
    /* long clean ASCII runs (the 8-byte fast path) around a bad byte */
    check_clean("0123456789abcdefghij\xFFklmnopqrstuvwxyz0123456789", 47,
                "0123456789abcdefghij" FFFD "klmnopqrstuvwxyz0123456789", 1);
    check_clean("", 0, "", 0);
    /* decode is defensive */
    int32_t cp;
    assert_int_equal(qa_utf8_decode("\xE2\x82", 2, &cp), 2);
    assert_int_equal(cp, 0xFFFD);
    assert_int_equal(qa_utf8_decode("\xF0\x9F\x98", 3, &cp), 3);
    assert_int_equal(cp, 0xFFFD);
}

static uint64_t rng_state = 0x1234567;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* Random bytes: cleaning always gives valid UTF-8, cleaning is idempotent,
 * and the analyzer copes with raw invalid input. */
static void test_utf8_random(void **state)
{
    qa_analyzer *a = open_ok("english", "snowball", "default");
    static const uint8_t pool[] = { 'a', 'Z', '0', '.', ',', '\'', '-', ' ', '_', 0, 0x80, 0xBF, 0xC2, 0xC3,
                                    0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x8F };
    for (int iter = 0; iter < 3000; iter++) {
        char in[64];
        size_t n = rnd() % sizeof in;
        for (size_t i = 0; i < n; i++)
            in[i] = (char)(rnd() % 3 ? pool[rnd() % sizeof pool] : (uint8_t)rnd());
        qbuf out, out2;
        qbuf_init(&out);
        qbuf_init(&out2);
        size_t r = qa_utf8_clean(in, n, &out);
        assert_true(qa_utf8_valid((char *)out.p, out.len));
        assert_int_equal(r == 0, qa_utf8_valid(in, n));
        if (r == 0)
            assert_memory_equal(out.p, in, n);
        assert_int_equal(qa_utf8_clean((char *)out.p, out.len, &out2), 0);
        assert_int_equal(out2.len, out.len);
        run(a, in, n, 0, NULL);                        /* raw, invalid bytes */
        run(a, (char *)out.p, out.len, 0, NULL);      /* cleaned */
        qbuf_free(&out);
        qbuf_free(&out2);
    }
    qa_close(a);
}

/* ---------------------------------------------------------- tokenizer */

static void test_tokenize_basic(void **state)
{
    qa_analyzer *a = open_ok("english", "none", "none");
    expect_terms(a, "Russia’s", "russia");
    expect_terms(a, "Russia's", "russia");
    expect_terms(a, "Sino-Russian", "sino russian");
    expect_terms(a, "2025-11-04", "2025 11 04");
    expect_terms(a, "BRI DPRK", "bri dprk");
    expect_terms(a, "U.S. e.g. U.S.A.", "u.s e.g u.s.a");
    expect_terms(a, "3.5 155,221 5.93 1,000,000.50", "3.5 155,221 5.93 1,000,000.50");
    expect_terms(a, "end. 3. 4, a.1 1.a a,b", "end 3 4 a 1 1 a a b");
    expect_terms(a, "covid19 H1N1 COVID-19 v1.2 3.5kg", "covid19 h1n1 covid 19 v1.2 3.5kg");
    expect_terms(a, "foo_bar __init__ a_ _b", "foo_bar init a b");
    expect_terms(a, "don't rock'n'roll 'quoted' students' o’neill", "don't rock'n'roll quoted students o'neill");
    expect_terms(a, "1990's", "1990 s");
    expect_terms(a, "Россия РОССИЯ", "россия россия");
    expect_terms(a, "ÉCOLE École E\xCC\x81" "cole", "école école école");
    expect_terms(a, "Straße", "strasse");
    expect_terms(a, "東京タワー", "東 京 タ ワ ー");
    expect_terms(a, "iPhone中国製", "iphone 中 国 製");
    expect_terms(a, "co\xC2\xAD" "operation zero\xE2\x80\x8Bspace", "cooperation zero space");
    expect_terms(a, "\xCC\x81" "abc", "abc");
    expect_terms(a, "", "");
    expect_terms(a, "!!! ... --- ’’ '' ,,, ___ \xE2\x80\x94 \xF0\x9F\x98\x80", "");
    expect_terms(a, "abc\xFF" "def \xE2\x82" "ghi", "abc def ghi");
    qa_close(a);

    /* the possessive is English only; ’ and ' still give the same term */
    a = open_ok("german", "none", "none");
    expect_terms(a, "Russia’s Russia's", "russia's russia's");
    qa_close(a);
}

static void test_tokenize_greek(void **state)
{
    qa_analyzer *a = open_ok("greek", "none", "none");
    const char *w = "ΣΊΣΥΦΟΣ";
    utf8proc_uint8_t *folded = NULL;
    assert_true(utf8proc_map((const utf8proc_uint8_t *)w, 0, &folded,
                             UTF8PROC_NULLTERM | UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_STABLE) > 0);
    assert_string_equal((char *)folded, "σίσυφοσ");
    expect_terms(a, w, (char *)folded);
    expect_terms(a, "σίσυφος", "σίσυφοσ");     /* final sigma folds to σ */
    free(folded);
    qa_close(a);
}

static void test_long_tokens(void **state)
{
    qa_analyzer *a = open_ok("english", "snowball", "default");
    size_t n = 100000;
    char *s = malloc(n + 16);
    assert_non_null(s);
    memset(s, 'a', n);
    memcpy(s + n, " tail", 6);
    coll *c = run(a, s, n + 5, 0, NULL);
    assert_int_equal(c->n, 2);
    assert_int_equal(strlen(c->term[0]), QA_MAX_TERM);
    assert_int_equal(c->start[0], 0);
    assert_int_equal(c->end[0], n);
    assert_string_equal(c->term[1], "tail");
    assert_int_equal(c->pos[1], 1);
    /* 3-byte letters: cut at a character boundary */
    for (size_t i = 0; i + 3 <= n; i += 3)
        memcpy(s + i, "\xE0\xB8\x81", 3);       /* U+0E01 THAI CHARACTER KO KAI */
    c = run(a, s, n - n % 3, 0, NULL);
    assert_int_equal(c->n, 1);
    assert_int_equal(strlen(c->term[0]), 126);
    /* 2-byte letters with upper case */
    for (size_t i = 0; i + 2 <= n; i += 2)
        memcpy(s + i, "\xC3\x89", 2);           /* É */
    c = run(a, s, n, 0, NULL);
    assert_int_equal(c->n, 1);
    assert_int_equal(strlen(c->term[0]), 128);
    assert_memory_equal(c->term[0], "\xC3\xA9\xC3\xA9", 4);
    free(s);
    qa_close(a);
}

static int stop_at_two(void *ctx, const qa_token *t)
{
    int *n = ctx;
    return ++*n == 2 ? 7 : 0;
}

static void test_positions_spans(void **state)
{
    qa_analyzer *a = open_ok("english", "snowball", "default");
    const char *t = "the belt and road";
    uint32_t next = 0;
    coll *c = run(a, t, strlen(t), 0, &next);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->term[0], "belt");
    assert_int_equal(c->pos[0], 1);
    assert_string_equal(c->term[1], "road");
    assert_int_equal(c->pos[1], 3);
    assert_int_equal(next, 4);
    assert_int_equal(c->start[0], 4);
    assert_int_equal(c->end[0], 8);
    c = run(a, t, strlen(t), 100, &next);
    assert_int_equal(c->pos[0], 101);
    assert_int_equal(c->pos[1], 103);
    assert_int_equal(next, 104);

    /* spans cover the original words, including ’s and the trailing dot rule */
    const char *u = "  Russia’s ÉCOLE, U.S. investments: Sino-Russian\n";
    c = run(a, u, strlen(u), 0, &next);
    static const char *const words[] = { "Russia’s", "ÉCOLE", "U.S", "investments", "Sino", "Russian" };
    static const char *const terms[] = { "russia", "école", "u.", "invest", "sino", "russian" };
    assert_int_equal(c->n, 6);
    for (int i = 0; i < 6; i++) {
        size_t wl = strlen(words[i]);
        assert_int_equal(c->end[i] - c->start[i], wl);
        assert_memory_equal(u + c->start[i], words[i], wl);
        assert_string_equal(c->term[i], terms[i]);
        assert_int_equal(c->pos[i], (uint32_t)i);
    }
    assert_int_equal(next, 6);

    /* nothing to index */
    c = run(a, "", 0, 5, &next);
    assert_int_equal(c->n, 0);
    assert_int_equal(next, 5);
    c = run(a, "-- !! ..", 8, 5, &next);
    assert_int_equal(c->n, 0);
    assert_int_equal(next, 5);
    c = run(a, "The the THE", 11, 0, &next);   /* stop words still count */
    assert_int_equal(c->n, 0);
    assert_int_equal(next, 3);
    assert_int_equal(qa_analyze(a, NULL, 0, 0, collect, c, &next), 0);

    /* the callback stops the analysis */
    int count = 0;
    assert_int_equal(qa_analyze(a, "one two three four", 18, 0, stop_at_two, &count, &next), 7);
    assert_int_equal(count, 2);
    assert_int_equal(next, 2);
    qa_close(a);
}

/* ---------------------------------------------------------- stemming */

/* Analyzing the word gives what libstemmer gives on its lower case form. */
static void check_stem(qa_analyzer *a, const char *algo, const char *word, const char *folded,
                       const char *want)
{
    struct sb_stemmer *sb = sb_stemmer_new(algo, "UTF_8");
    assert_non_null(sb);
    const sb_symbol *r = sb_stemmer_stem(sb, (const sb_symbol *)folded, (int)strlen(folded));
    char direct[256];
    snprintf(direct, sizeof direct, "%.*s", sb_stemmer_length(sb), (const char *)r);
    sb_stemmer_delete(sb);
    if (want)
        assert_string_equal(direct, want);
    expect_terms(a, word, direct);
}

static void test_stemming(void **state)
{
    qa_analyzer *a = open_ok("english", "snowball", "none");
    check_stem(a, "english", "investments", "investments", "invest");
    check_stem(a, "english", "Cooperation", "cooperation", "cooper");
    check_stem(a, "english", "denuclearisation", "denuclearisation", NULL);
    check_stem(a, "english", "generously", "generously", "generous");
    check_stem(a, "english", "sanctions", "sanctions", "sanction");
    check_stem(a, "english", "running", "running", "run");
    expect_terms(a, "Russia's sanctions’", "russia sanction");
    qa_close(a);

    a = open_ok("english", "porter", "none");
    assert_string_equal(qa_stemmer_name(a), "porter");
    check_stem(a, "porter", "generously", "generously", "gener");
    check_stem(a, "porter", "investments", "investments", "invest");
    qa_close(a);
    a = open_ok("french", "porter", "none");       /* Porter is English */
    assert_string_equal(qa_language(a), "english");
    qa_close(a);

    a = open_ok("french", "snowball", "none");
    check_stem(a, "french", "continuellement", "continuellement", "continuel");
    check_stem(a, "french", "Nationales", "nationales", "national");
    expect_terms(a, "L’économie qu'il", "économ il");      /* elision */
    qa_close(a);

    a = open_ok("russian", "snowball", "none");
    check_stem(a, "russian", "России", "россии", "росс");
    check_stem(a, "russian", "САНКЦИЯМИ", "санкциями", "санкц");
    check_stem(a, "russian", "переговоров", "переговоров", "переговор");
    qa_close(a);

    a = open_ok("English", "SNOWBALL", "none");    /* the stemmer name is exact */
    qa_close(a);
}

static void test_open_errors(void **state)
{
    qa_analyzer *a = NULL;
    quarry_error err = { 0, "" };
    assert_int_equal(qa_open("xx", "snowball", "default", &a, &err), QUARRY_EINVAL);
    assert_null(a);
    assert_non_null(strstr(err.msg, "unknown language 'xx' (available: arabic, "));
    assert_non_null(strstr(err.msg, "english"));
    assert_null(strstr(err.msg, "porter"));
    assert_int_equal(qa_open("porter", "snowball", "default", &a, &err), QUARRY_EINVAL);
    assert_int_equal(qa_open("english", "lancaster", "default", &a, &err), QUARRY_EINVAL);
    assert_non_null(strstr(err.msg, "lancaster"));
    assert_null(a);
    a = open_ok("English", "snowball", "default");
    assert_string_equal(qa_language(a), "english");
    qa_close(a);
    a = open_ok(NULL, NULL, NULL);
    assert_string_equal(qa_language(a), "english");
    assert_string_equal(qa_stemmer_name(a), "snowball");
    assert_string_equal(qa_stopwords_desc(a), "default");
    qa_close(a);
    qa_close(NULL);
}

/* -------------------------------------------------------- stop words */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void test_stopwords(void **state)
{
    qa_analyzer *a = open_ok("english", "snowball", "default");
    assert_string_equal(qa_stopwords_desc(a), "default");
    expect_terms(a, "The cat and the hat. It's what's don’t Let's", "cat hat");
    expect_terms(a, "He's ours, THEIRS", "");
    expect_terms(a, "US us", "us us");     /* 'us' is not in the Snowball list */
    assert_true(a->stops.n >= 170 && a->stops.n <= 180);
    qa_close(a);

    a = open_ok("english", "snowball", "none");
    assert_string_equal(qa_stopwords_desc(a), "none");
    expect_terms(a, "The cat and the hat", "the cat and the hat");
    qa_close(a);

    char path[] = "/tmp/quarry-test-stop-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "# my stop words\n"
                     "Foo   # trailing comment\n"
                     "BAR | Snowball-style comment\n"
                     "\n"
                     "   \n"
                     "don’t\r\n"
                     "baz qux\n"
                     "foo\n"
                     "ÉTÉ");
    a = open_ok("english", "none", path);
    char want[256];
    snprintf(want, sizeof want, "file:%s (6 words)", path);
    assert_string_equal(qa_stopwords_desc(a), want);
    expect_terms(a, "Foo bar BAZ quux don't the été", "quux the");
    uint32_t next;
    coll *c = run(a, "foo quux", 8, 0, &next);
    assert_int_equal(c->pos[0], 1);
    qbuf blob;
    qbuf_init(&blob);
    assert_int_equal(qa_serialize(a, &blob), 0);
    qbuf_putc(&blob, 0);
    char wantblob[512];
    snprintf(wantblob, sizeof wantblob,
             "quarry-analyzer 1\nlanguage=english\nstemmer=none\nstopwords=file:%s\nwords=6\n"
             "bar\nbaz\ndon't\nfoo\nqux\nété\n", path);
    assert_string_equal((char *)blob.p, wantblob);
    qbuf_free(&blob);
    qa_close(a);

    /* invalid UTF-8 in a stop word file */
    write_file(path, "ok\nbad\xFF\n");
    quarry_error err = { 0, "" };
    a = NULL;
    assert_int_equal(qa_open("english", "snowball", path, &a, &err), QUARRY_EINVAL);
    assert_non_null(strstr(err.msg, ":2:"));
    assert_null(a);

    /* an empty file is an empty list */
    write_file(path, "# nothing\n");
    a = open_ok("english", "snowball", path);
    expect_terms(a, "the", "the");
    qa_close(a);
    unlink(path);

    /* missing file */
    a = NULL;
    assert_int_equal(qa_open("english", "snowball", "/nonexistent/stop.txt", &a, &err), QUARRY_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/stop.txt: cannot read stop word file: "));
    assert_null(a);
}

/* ---------------------------------------------------------- settings */

static void serialize(qa_analyzer *a, qbuf *b)
{
    qbuf_init(b);
    assert_int_equal(qa_serialize(a, b), 0);
}

static int open_blob(const void *p, size_t n, qa_analyzer **a)
{
    quarry_error err = { 0, "" };
    *a = NULL;
    int rc = qa_open_serialized(p, n, a, &err);
    if (rc) {
        assert_null(*a);
        assert_true(strlen(err.msg) > 0);
    }
    return rc;
}

static void test_serialize_roundtrip(void **state)
{
    static const char *const cfg[][3] = {
        { "english", "snowball", "default" }, { "english", "porter", "none" },
        { "russian", "snowball", "default" }, { "french", "none", "none" },
    };
    const char *text = "The Russia’s investments in Россия, l'économie and ΣΊΣΥΦΟΣ: 3.5 U.S. don't";
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
        qa_analyzer *a = open_ok(cfg[i][0], cfg[i][1], cfg[i][2]), *b = NULL;
        qbuf b1, b2;
        serialize(a, &b1);
        assert_int_equal(open_blob(b1.p, b1.len, &b), 0);
        serialize(b, &b2);
        assert_int_equal(b1.len, b2.len);
        assert_memory_equal(b1.p, b2.p, b1.len);
        assert_string_equal(qa_language(a), qa_language(b));
        assert_string_equal(qa_stemmer_name(a), qa_stemmer_name(b));
        assert_string_equal(qa_stopwords_desc(a), qa_stopwords_desc(b));
        static coll ca;
        memcpy(&ca, run(a, text, strlen(text), 0, NULL), sizeof ca);
        coll *cb = run(b, text, strlen(text), 0, NULL);
        assert_int_equal(ca.n, cb->n);
        for (int t = 0; t < ca.n; t++) {
            assert_string_equal(ca.term[t], cb->term[t]);
            assert_int_equal(ca.pos[t], cb->pos[t]);
        }
        if (i == 0) {
            char head[128];
            snprintf(head, sizeof head,
                     "quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=default\nwords=%zu\n",
                     a->stops.n);
            assert_true(b1.len > strlen(head));
            assert_memory_equal(b1.p, head, strlen(head));
        }
        qbuf_free(&b1);
        qbuf_free(&b2);
        qa_close(a);
        qa_close(b);
    }
}

static int try_blob(const char *text)
{
    qa_analyzer *a;
    int rc = open_blob(text, strlen(text), &a);
    qa_close(a);
    return rc;
}

static void test_serialize_damaged(void **state)
{
    qa_analyzer *a = open_ok("english", "snowball", "default"), *b;
    qbuf blob;
    serialize(a, &blob);
    /* every strict prefix is rejected */
    for (size_t n = 0; n < blob.len; n++)
        assert_int_equal(open_blob(blob.p, n, &b), QUARRY_ECORRUPT);
    assert_int_equal(open_blob(NULL, 0, &b), QUARRY_ECORRUPT);
    qbuf_free(&blob);
    qa_close(a);

    /* every single-byte change of a small blob is rejected or gives a
     * working analyzer */
    const char *small = "quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=file:s.txt\n"
                        "words=3\nan\nthe\nété\n";
    assert_int_equal(try_blob(small), 0);
    qbuf_init(&blob);
    qbuf_append(&blob, small, strlen(small));
    uint8_t *copy = malloc(blob.len);
    assert_non_null(copy);
    static const uint8_t vals[] = { 0, '\n', '\r', ' ', 'a', 'z', '0', '1', '9', '=', ':', 0xC3, 0xFF, 0x80 };
    for (size_t i = 0; i < blob.len; i++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(copy, blob.p, blob.len);
            if (copy[i] == vals[v])
                continue;
            copy[i] = vals[v];
            if (open_blob(copy, blob.len, &b) == 0) {
                run(b, "the belt and road", 17, 0, NULL);
                qa_close(b);
            }
        }
    }
    free(copy);
    qbuf_free(&blob);

    const char *ok = "quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=default\nwords=2\na\nthe\n";
    assert_int_equal(try_blob(ok), 0);
    assert_int_equal(try_blob("quarry-analyzer 2\nlanguage=english\nstemmer=snowball\nstopwords=default\nwords=2\na\nthe\n"),
                     QUARRY_EFORMAT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=klingon\nstemmer=snowball\nstopwords=default\nwords=2\na\nthe\n"),
                     QUARRY_EFORMAT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=lancaster\nstopwords=default\nwords=2\na\nthe\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=default\nwords=3\na\nthe\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=default\nwords=1\na\nthe\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=default\nwords=02\na\nthe\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=default\nwords=2\nthe\na\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=default\nwords=2\na\na\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=default\nwords=2\na\n\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=none\nwords=2\na\nthe\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=snowball\nstopwords=maybe\nwords=0\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nstemmer=snowball\nlanguage=english\nstopwords=default\nwords=0\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=porter\nstopwords=none\nwords=0\n"), 0);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=french\nstemmer=porter\nstopwords=none\nwords=0\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=none\nstopwords=none\nwords=0\nx\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=none\nstopwords=none\nwords=18446744073709551616\n"),
                     QUARRY_ECORRUPT);
    assert_int_equal(try_blob("quarry-analyzer 1\nlanguage=english\nstemmer=none\nstopwords=file:x\nwords=1\n\xFF\n"),
                     QUARRY_ECORRUPT);

    /* the stored list is the one in force, not the built-in one */
    assert_int_equal(open_blob(ok, strlen(ok), &b), 0);
    expect_terms(b, "the cat and a hat", "cat and hat");
    qa_close(b);
}

/* ------------------------------------------------ stem cache vs uncached */

typedef struct stream {
    qbuf b;
} stream;

static int record(void *ctx, const qa_token *t)
{
    stream *s = ctx;
    qbuf_printf(&s->b, "%s %u %u %u\n", t->term, t->pos, t->start, t->end);
    return 0;
}

/* Analyzes text with the cache on (a) and off (b); the streams must match. */
static size_t compare_cached(qa_analyzer *a, qa_analyzer *b, const char *text, size_t len)
{
    stream sa, sb;
    qbuf_init(&sa.b);
    qbuf_init(&sb.b);
    uint32_t na, nb;
    assert_int_equal(qa_analyze(a, text, len, 0, record, &sa, &na), 0);
    assert_int_equal(qa_analyze(b, text, len, 0, record, &sb, &nb), 0);
    assert_int_equal(na, nb);
    assert_false(sa.b.oom || sb.b.oom);
    if (sa.b.len != sb.b.len || (sa.b.len && memcmp(sa.b.p, sb.b.p, sa.b.len) != 0)) {
        size_t i = 0;
        while (i < sa.b.len && i < sb.b.len && sa.b.p[i] == sb.b.p[i])
            i++;
        print_error("cached and uncached analysis differ at byte %zu: [%.40s] vs [%.40s]\n", i,
                    (char *)sa.b.p + i, (char *)sb.b.p + i);
        fail();
    }
    qbuf_free(&sa.b);
    qbuf_free(&sb.b);
    return na;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    qbuf b;
    qbuf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        qbuf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    qbuf_putc(&b, 0);
    return (char *)b.p;
}

static const char *const cache_cfg[][3] = {
    { "english", "snowball", "default" }, { "english", "porter", "none" },
    { "french", "snowball", "none" }, { "russian", "snowball", "default" },
};
#define NCFG (sizeof cache_cfg / sizeof cache_cfg[0])

static void test_cache_sample_corpus(void **state)
{
    DIR *d = opendir("corpus");
    if (!d)
        tskip("corpus/ not found (run from the repository root)");
    qa_analyzer *on[NCFG], *off[NCFG];
    for (size_t c = 0; c < NCFG; c++) {
        on[c] = open_ok(cache_cfg[c][0], cache_cfg[c][1], cache_cfg[c][2]);
        off[c] = open_ok(cache_cfg[c][0], cache_cfg[c][1], cache_cfg[c][2]);
        qa_set_stem_cache(off[c], 0);
    }
    struct dirent *e;
    int files = 0;
    size_t words = 0;
    while ((e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".txt") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "corpus/%s", e->d_name);
        size_t len;
        char *text = read_file(path, &len);
        assert_non_null(text);
        for (int pass = 0; pass < 2; pass++)          /* second pass hits the cache */
            for (size_t c = 0; c < NCFG; c++)
                words += compare_cached(on[c], off[c], text, len);
        free(text);
        files++;
    }
    closedir(d);
    assert_true(files > 0);
    assert_true(words > 100);
    for (size_t c = 0; c < NCFG; c++) {
        assert_true(on[c]->cache.hits > 0);
        assert_int_equal(off[c]->cache.hits + off[c]->cache.misses, 0);
        qa_close(on[c]);
        qa_close(off[c]);
    }
}

/* The "text" string of a JSON line, unescaped into out. 0 or -1. */
static int json_text(const char *line, qbuf *out)
{
    const char *p = strstr(line, "\"text\": \"");
    size_t skip = 9;
    if (!p) {
        p = strstr(line, "\"text\":\"");
        skip = 8;
    }
    if (!p)
        return -1;
    p += skip;
    qbuf_reset(out);
    while (*p && *p != '"') {
        if (*p != '\\') {
            qbuf_putc(out, (uint8_t)*p++);
            continue;
        }
        p++;
        char ch = *p ? *p++ : 0;
        switch (ch) {
        case 'n': qbuf_putc(out, '\n'); break;
        case 't': qbuf_putc(out, '\t'); break;
        case 'r': qbuf_putc(out, '\r'); break;
        case 'b': case 'f': qbuf_putc(out, ' '); break;
        case 'u': {
            unsigned v = 0;
            for (int i = 0; i < 4 && *p; i++, p++)
                v = v * 16 + (unsigned)(*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
            uint8_t u8[4];
            utf8proc_ssize_t n = utf8proc_encode_char((utf8proc_int32_t)(v >= 0xD800 && v < 0xE000 ? 0xFFFD : v), u8);
            qbuf_append(out, u8, (size_t)n);
            break;
        }
        default: qbuf_putc(out, (uint8_t)ch); break;
        }
    }
    return 0;
}

static void test_cache_bbc(void **state)
{
    const char *root = tcorpus_dir();
    char path[4096];
    snprintf(path, sizeof path, "%s/bbc/docs.jsonl.gz", root);
    gzFile g = gzopen(path, "rb");
    if (!g) {
        tskip("%s not found (set QUARRY_CORPUS): no BBC stem cache check", path);
    }
    qa_analyzer *on[NCFG], *off[NCFG];
    for (size_t c = 0; c < NCFG; c++) {
        on[c] = open_ok(cache_cfg[c][0], cache_cfg[c][1], cache_cfg[c][2]);
        off[c] = open_ok(cache_cfg[c][0], cache_cfg[c][1], cache_cfg[c][2]);
        qa_set_stem_cache(off[c], 0);
    }
    static char line[1 << 20];
    qbuf text;
    qbuf_init(&text);
    int docs = 0;
    size_t words = 0;
    while (docs < 2000 && gzgets(g, line, sizeof line)) {
        if (json_text(line, &text))
            continue;
        for (size_t c = 0; c < NCFG; c++)
            words += compare_cached(on[c], off[c], (char *)text.p, text.len);
        docs++;
    }
    gzclose(g);
    qbuf_free(&text);
    print_message("compared %d BBC documents, %zu words\n", docs, words);
    assert_int_equal(docs, 2000);
    for (size_t c = 0; c < NCFG; c++) {
        assert_true(on[c]->cache.hits > on[c]->cache.misses);
        qa_close(on[c]);
        qa_close(off[c]);
    }
}

/* Random valid text from tricky pieces: cached equals uncached, spans
 * start and end at character boundaries. */
static void test_random_text(void **state)
{
    static const char *const pieces[] = {
        "a", "Z", "0", "9", ".", ",", "'", "\xE2\x80\x99", "-", " ", "_", "\n", "\xC3\x89", "\xC3\x9F",
        "\xCC\x81", "\xE2\x80\x8D", "\xC2\xAD", "\xE2\x80\x8B", "\xE6\x9D\xB1", "\xE3\x82\xBF",
        "\xCE\xA3", "\xCF\x82", "\xD0\x96", "\xE0\xB8\x81", "\xF0\x9F\x98\x80", "\xEF\xBF\xBD",
        "\xC2\xB2", "\xE2\x85\xAB", "\xD9\xA3", "s", "l'", "'s", "\xC4\xB0", "\xE1\xBE\x84",
    };
    const size_t np = sizeof pieces / sizeof pieces[0];
    qa_analyzer *a[NCFG], *b[NCFG];
    for (size_t c = 0; c < NCFG; c++) {
        a[c] = open_ok(cache_cfg[c][0], cache_cfg[c][1], cache_cfg[c][2]);
        b[c] = open_ok(cache_cfg[c][0], cache_cfg[c][1], cache_cfg[c][2]);
        qa_set_stem_cache(b[c], 0);
    }
    qbuf text;
    qbuf_init(&text);
    for (int iter = 0; iter < 2000; iter++) {
        qbuf_reset(&text);
        size_t n = rnd() % 40;
        for (size_t i = 0; i < n; i++)
            qbuf_printf(&text, "%s", pieces[rnd() % np]);
        if (iter % 100 == 0)        /* now and then a very long word */
            for (int i = 0; i < 200; i++)
                qbuf_printf(&text, "%s", pieces[rnd() % 3 ? 12 + rnd() % 3 : rnd() % np]);
        assert_true(qa_utf8_valid((char *)text.p, text.len));
        for (size_t c = 0; c < NCFG; c++)
            compare_cached(a[c], b[c], (char *)text.p, text.len);
        coll *co = run(a[0], (char *)text.p, text.len, 0, NULL);
        for (int t = 0; t < co->n && t < MAXTOK; t++) {
            assert_true((text.p[co->start[t]] & 0xC0) != 0x80);
            assert_true(co->end[t] == text.len || (text.p[co->end[t]] & 0xC0) != 0x80);
        }
    }
    qbuf_free(&text);
    for (size_t c = 0; c < NCFG; c++) {
        qa_close(a[c]);
        qa_close(b[c]);
    }
}

/* More distinct words than the cache holds: it is cleared and refilled,
 * results unchanged. */
static void test_cache_eviction(void **state)
{
    qa_analyzer *a = open_ok("english", "snowball", "default");
    qa_analyzer *b = open_ok("english", "snowball", "default");
    qa_set_stem_cache(b, 0);
    static const char *const suffix[] = { "ing", "ations", "s", "ness", "ly", "ed" };
    qbuf text;
    qbuf_init(&text);
    for (uint32_t i = 0; i < 3 * QA_CACHE_ENTRIES; i++) {
        uint32_t v = rnd();
        qbuf_printf(&text, "w%c%c%c%u%s ", 'a' + v % 26, 'a' + (v >> 5) % 26, 'a' + (v >> 10) % 26,
                    i, suffix[i % 6]);
        if (i % 7 == 0)
            qbuf_printf(&text, "The investments' cooperation ");
    }
    compare_cached(a, b, (char *)text.p, text.len);
    assert_true(a->cache.clears >= 2);
    assert_true(a->cache.count <= QA_CACHE_ENTRIES);
    qbuf_free(&text);
    qa_close(a);
    qa_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_boundaries),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_utf8_random),
        cmocka_unit_test(test_tokenize_basic),
        cmocka_unit_test(test_tokenize_greek),
        cmocka_unit_test(test_long_tokens),
        cmocka_unit_test(test_positions_spans),
        cmocka_unit_test(test_stemming),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_stopwords),
        cmocka_unit_test(test_serialize_roundtrip),
        cmocka_unit_test(test_serialize_damaged),
        cmocka_unit_test(test_cache_sample_corpus),
        cmocka_unit_test(test_cache_bbc),
        cmocka_unit_test(test_random_text),
        cmocka_unit_test(test_cache_eviction),
    };
    return cmocka_run_group_tests_name("analyze", tests, NULL, NULL);
}
