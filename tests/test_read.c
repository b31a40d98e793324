/*
 * test_read.c — unit tests of src/read: the JSON Lines record parser
 * (escapes, surrogates, skipped values, every error with its line and
 * column), the reader over .jsonl / .jsonl.gz / .txt files (empty lines,
 * CRLF, gzip written here with zlib, truncated and non-gzip streams, long
 * lines, progress counters), directory walking order, the plain-text
 * date/title rule on the sample corpus, and a full read of the shared
 * Reuters-21578 and BBC collections when QUARRY_CORPUS has them.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "analyze/analyze.h"
#include "read/read.h"
#include "support/qtest.h"

static char tmpdir[64];

/* ------------------------------------------------------------ helpers */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/quarry-test-read-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmpdir/name, in a static rotating buffer */
static const char *tpath(const char *name)
{
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_str(const char *path, const char *s) { write_file(path, s, strlen(s)); }

static void write_gz(const char *path, const char *s, size_t len)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, s, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
}

/* Parses one line; returns the code and keeps the doc in *doc (scratch static). */
static qbuf scratch;
static int parse(const char *line, qr_doc *doc, quarry_error *err)
{
    memset(doc, 0, sizeof *doc);
    memset(err, 0, sizeof *err);
    return qr_parse_json_doc(line, strlen(line), "t.jsonl", 7, &scratch, doc, err);
}

/* Expects `line` to fail with `code` and exactly `msg`. */
static void expect_error(const char *line, int code, const char *msg)
{
    qr_doc d;
    quarry_error e;
    int rc = parse(line, &d, &e);
    if (rc != code || strcmp(e.msg, msg) != 0)
        print_message("line: %s\n  got %d \"%s\"\n  want %d \"%s\"\n", line, rc, e.msg, code, msg);
    assert_int_equal(rc, code);
    assert_string_equal(e.msg, msg);
}

static void assert_doc_valid(const qr_doc *d)
{
    assert_true(qa_utf8_valid(d->id, d->id_len));
    assert_true(qa_utf8_valid(d->title, d->title_len));
    assert_true(qa_utf8_valid(d->text, d->text_len));
    assert_true(qa_utf8_valid(d->date, d->date_len));
    assert_int_equal(d->id[d->id_len], 0);
    assert_int_equal(d->title[d->title_len], 0);
    assert_int_equal(d->text[d->text_len], 0);
    assert_int_equal(d->date[d->date_len], 0);
}

/* ----------------------------------------------------------- JSON: values */

static void test_json_basic(void **state)
{
    (void)state;
    qr_doc d;
    quarry_error e;
    assert_int_equal(parse("{\"id\": \"a1\", \"title\": \"T\", \"text\": \"Hello world\", \"date\": \"2020-01-02\"}",
                           &d, &e), 0);
    assert_string_equal(d.id, "a1");
    assert_int_equal(d.id_len, 2);
    assert_string_equal(d.title, "T");
    assert_string_equal(d.text, "Hello world");
    assert_int_equal(d.text_len, 11);
    assert_string_equal(d.date, "2020-01-02");
    assert_string_equal(d.file, "t.jsonl");
    assert_int_equal(d.line, 7);
    assert_int_equal(d.invalid_utf8, 0);
    assert_doc_valid(&d);

    /* absent title/date are "" */
    assert_int_equal(parse("{\"text\":\"x\",\"id\":\"b\"}", &d, &e), 0);
    assert_string_equal(d.title, "");
    assert_int_equal(d.title_len, 0);
    assert_string_equal(d.date, "");
    /* null title/date are absent */
    assert_int_equal(parse("{\"id\":\"b\",\"title\":null,\"text\":\"\",\"date\":null}", &d, &e), 0);
    assert_string_equal(d.title, "");
    assert_string_equal(d.date, "");
    assert_string_equal(d.text, "");
    assert_int_equal(d.text_len, 0);
    /* whitespace everywhere, CR of a CRLF line, BOM */
    assert_int_equal(parse("\xEF\xBB\xBF \t{ \"id\" :\t\"c\" , \"text\" : \"y\" } \r", &d, &e), 0);
    assert_string_equal(d.id, "c");
    assert_string_equal(d.text, "y");
}

static void test_json_escapes(void **state)
{
    (void)state;
    qr_doc d;
    quarry_error e;
    assert_int_equal(parse("{\"id\":\"e\",\"text\":\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t.\"}", &d, &e), 0);
    assert_string_equal(d.text, "q\"b\\s/b\bf\fn\nr\rt\t.");
    assert_int_equal(d.text_len, 17);

    /* \u: 1, 2, 3 byte forms, upper-case hex, a surrogate pair (4 bytes) */
    assert_int_equal(parse("{\"id\":\"u\",\"text\":\"\\u0041\\u00e9\\u00E9\\u20ac\\ud83d\\ude00!\"}", &d, &e), 0);
    assert_string_equal(d.text, "A\xC3\xA9\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80!");
    assert_int_equal(d.invalid_utf8, 0);

    /* lone surrogates become U+FFFD and are counted */
    assert_int_equal(parse("{\"id\":\"s\",\"text\":\"a\\ud800b\\udc00c\\ud800\\ud800\\ude00\"}", &d, &e), 0);
    assert_string_equal(d.text, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xF0\x90\x88\x80");
    assert_int_equal(d.invalid_utf8, 3);
    /* high surrogate at the very end of the string */
    assert_int_equal(parse("{\"id\":\"s\",\"text\":\"\\uD83D\"}", &d, &e), 0);
    assert_string_equal(d.text, "\xEF\xBF\xBD");
    assert_int_equal(d.invalid_utf8, 1);

    /* \u0000 becomes a space: strings stay NUL-terminated */
    assert_int_equal(parse("{\"id\":\"z\",\"text\":\"a\\u0000b\"}", &d, &e), 0);
    assert_int_equal(d.text_len, 3);
    assert_string_equal(d.text, "a b");

    /* raw UTF-8 kept; raw invalid bytes replaced and counted */
    assert_int_equal(parse("{\"id\":\"\xE2\x82\xAC\",\"text\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}", &d, &e), 0);
    assert_string_equal(d.id, "\xE2\x82\xAC");
    assert_string_equal(d.text, "caf\xC3\xA9 \xF0\x9F\x98\x80");
    assert_int_equal(d.invalid_utf8, 0);
    assert_int_equal(parse("{\"id\":\"x\xFFy\",\"title\":\"t\xC3\",\"text\":\"a\xED\xA0\x80z\"}", &d, &e), 0);
    assert_true(d.invalid_utf8 >= 3);
    assert_doc_valid(&d);
    assert_string_equal(d.id, "x\xEF\xBF\xBDy");
    assert_string_equal(d.title, "t\xEF\xBF\xBD");
    assert_memory_equal(d.text, "a\xEF\xBF\xBD", 4);
    assert_int_equal(d.text[d.text_len - 1], 'z');

    /* an escaped key */
    assert_int_equal(parse("{\"\\u0069d\":\"k\",\"te\\u0078t\":\"v\"}", &d, &e), 0);
    assert_string_equal(d.id, "k");
    assert_string_equal(d.text, "v");
}

static void test_json_ignored_values(void **state)
{
    (void)state;
    qr_doc d;
    quarry_error e;
    const char *line =
        "{\"a\":[1,-2.5e+3,0,0.5,1E-7,-0,{\"b\":[true,false,null,\"x\\\"]}\"]},[],{}],"
        "\"id\":\"n\",\"n\":12345678901234567890,\"text\":\"t\",\"o\":{\"id\":\"inner\",\"text\":5},"
        "\"s\":\"\\u00e9\\ud800\",\"deep\":[[[[[[[[[[{\"x\":[]}]]]]]]]]]]}";
    assert_int_equal(parse(line, &d, &e), 0);
    assert_string_equal(d.id, "n");
    assert_string_equal(d.text, "t");
    assert_int_equal(d.invalid_utf8, 0);   /* ignored strings are not counted */

    /* duplicate keys: the last one wins (a later null title removes it) */
    assert_int_equal(parse("{\"id\":\"first\",\"title\":\"T\",\"text\":\"a\",\"id\":\"second\",\"title\":null}",
                           &d, &e), 0);
    assert_string_equal(d.id, "second");
    assert_string_equal(d.title, "");
    assert_string_equal(d.text, "a");

    /* nesting: 512 levels inside the record are fine, 513 are not */
    char deep[1200];
    size_t n = 0;
    n += (size_t)sprintf(deep + n, "{\"id\":\"d\",\"text\":\"t\",\"x\":");
    for (int i = 0; i < 512; i++)
        deep[n++] = '[';
    for (int i = 0; i < 512; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = 0;
    assert_int_equal(parse(deep, &d, &e), 0);
    n = 0;
    n += (size_t)sprintf(deep + n, "{\"id\":\"d\",\"text\":\"t\",\"x\":");
    for (int i = 0; i < 513; i++)
        deep[n++] = '[';
    deep[n] = 0;
    assert_int_equal(parse(deep, &d, &e), QUARRY_EINPUT);
    assert_non_null(strstr(e.msg, "t.jsonl:7: malformed JSON at column 538: expected at most 512 levels"));
}

/* ----------------------------------------------------------- JSON: errors */

static void test_json_errors(void **state)
{
    (void)state;
    const int I = QUARRY_EINPUT;
    expect_error("{\"title\":\"t\",\"text\":\"x\"}", I, "t.jsonl:7: missing \"id\"");
    expect_error("{}", I, "t.jsonl:7: missing \"id\"");
    expect_error("{\"id\":\"a\"}", I, "t.jsonl:7: missing \"text\"");
    expect_error("{\"id\":5,\"text\":\"x\"}", I, "t.jsonl:7: \"id\" must be a string, not a number");
    expect_error("{\"id\":null,\"text\":\"x\"}", I, "t.jsonl:7: \"id\" must be a string, not null");
    expect_error("{\"id\":\"a\",\"text\":null}", I, "t.jsonl:7: \"text\" must be a string, not null");
    expect_error("{\"id\":\"a\",\"text\":[\"x\"]}", I, "t.jsonl:7: \"text\" must be a string, not an array");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"title\":true}", I,
                 "t.jsonl:7: \"title\" must be a string, not a boolean");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"date\":{\"y\":1}}", I,
                 "t.jsonl:7: \"date\" must be a string, not an object");
    expect_error("{\"id\":\"\",\"text\":\"x\"}", I, "t.jsonl:7: \"id\" must not be empty");

    expect_error("[1,2]", I, "t.jsonl:7: malformed JSON at column 1: expected '{' (each line must be one JSON object)");
    expect_error("\"id\"", I, "t.jsonl:7: malformed JSON at column 1: expected '{' (each line must be one JSON object)");
    expect_error("  x", I, "t.jsonl:7: malformed JSON at column 3: expected '{' (each line must be one JSON object)");
    expect_error("{\"id\":\"a\",\"text\":\"x\"} x", I,
                 "t.jsonl:7: malformed JSON at column 23: expected the end of the line after the object");
    expect_error("{\"id\":\"a\",\"text\":\"x\"}{}", I,
                 "t.jsonl:7: malformed JSON at column 22: expected the end of the line after the object");
    expect_error("{\"id\":\"a\",\"text\":\"x", I,
                 "t.jsonl:7: malformed JSON at column 18: expected '\"' to end the string that starts here");
    expect_error("{\"id\":\"a\",\"text\":\"x\\q\"}", I,
                 "t.jsonl:7: malformed JSON at column 20: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX after '\\'");
    expect_error("{\"id\":\"a\",\"text\":\"\\u12G4\"}", I,
                 "t.jsonl:7: malformed JSON at column 19: expected 4 hex digits after '\\u'");
    expect_error("{\"id\":\"a\",\"text\":\"a\tb\"}", I,
                 "t.jsonl:7: malformed JSON at column 20: expected '\\u00XX' instead of a raw control character in a string");
    expect_error("{\"id\" \"a\"}", I, "t.jsonl:7: malformed JSON at column 7: expected ':' after the key");
    expect_error("{\"id\":\"a\" \"text\":\"x\"}", I,
                 "t.jsonl:7: malformed JSON at column 11: expected ',' or '}' after a value");
    expect_error("{\"id\":\"a\",}", I, "t.jsonl:7: malformed JSON at column 11: expected '\"' to start a key");
    expect_error("{id:\"a\"}", I, "t.jsonl:7: malformed JSON at column 2: expected '\"' to start a key");
    expect_error("{\"id\":\"a\",\"text\":}", I,
                 "t.jsonl:7: malformed JSON at column 18: expected a value (string, number, object, array, true, false or null)");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"n\":01}", I,
                 "t.jsonl:7: malformed JSON at column 27: expected ',' or '}' after a value");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"n\":1.}", I,
                 "t.jsonl:7: malformed JSON at column 28: expected a digit after '.'");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"n\":-}", I, "t.jsonl:7: malformed JSON at column 27: expected a digit");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"n\":1e+}", I,
                 "t.jsonl:7: malformed JSON at column 29: expected a digit in the exponent");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"n\":.5}", I,
                 "t.jsonl:7: malformed JSON at column 26: expected a value (string, number, object, array, true, false or null)");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"n\":nul}", I,
                 "t.jsonl:7: malformed JSON at column 26: expected a value (string, number, object, array, true, false or null)");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"n\":[1 2]}", I,
                 "t.jsonl:7: malformed JSON at column 29: expected ',' or ']' after a value");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"n\":{\"k\" 1}}", I,
                 "t.jsonl:7: malformed JSON at column 31: expected ':' after the key");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"n\":[1,]}", I,
                 "t.jsonl:7: malformed JSON at column 29: expected a value (string, number, object, array, true, false or null)");
    expect_error("{\"id\":\"a\",\"text\":\"x\",\"n\":[", I,
                 "t.jsonl:7: malformed JSON at column 27: expected a value before the end of the line");
    expect_error("{\"id\":\"a\"", I, "t.jsonl:7: malformed JSON at column 10: expected ',' or '}' after a value");
    expect_error("", I, "t.jsonl:7: malformed JSON at column 1: expected '{' (each line must be one JSON object)");
}

/* ----------------------------------------------------------- the reader */

/* Reads every document of `paths`, returning the count; documents' ids are
 * appended to `ids` separated by '|', errors' messages to `errs` by '|'. */
static size_t read_all(const char *const *paths, size_t n, char *ids, size_t idcap, char *errs, size_t errcap,
                       qr_reader **keep)
{
    qr_reader *r = NULL;
    quarry_error e;
    assert_int_equal(qr_open(paths, n, &r, &e), 0);
    qr_doc d;
    int rc;
    size_t docs = 0;
    ids[0] = errs[0] = 0;
    while ((rc = qr_next(r, &d, &e)) != 0) {
        if (rc < 0) {
            snprintf(errs + strlen(errs), errcap - strlen(errs), "%s|", e.msg);
            continue;
        }
        assert_doc_valid(&d);
        snprintf(ids + strlen(ids), idcap - strlen(ids), "%s@%llu|", d.id, (unsigned long long)d.line);
        docs++;
    }
    assert_int_equal(qr_next(r, &d, &e), 0);   /* stays at the end */
    if (keep)
        *keep = r;
    else
        qr_close(r);
    return docs;
}

static void test_reader_jsonl(void **state)
{
    (void)state;
    const char *p = tpath("a.jsonl");
    write_str(p, "{\"id\":\"1\",\"text\":\"one\"}\n"
                 "\n"
                 "   \r\n"
                 "{\"id\":\"2\",\"text\":\"two\"}\r\n"
                 "{\"id\":\"3\"}\n"
                 "not json\n"
                 "{\"id\":\"4\",\"text\":\"four\",\"title\":\"T\"}");   /* no final newline */
    const char *paths[] = { p };
    char ids[512], errs[1024];
    qr_reader *r;
    size_t n = read_all(paths, 1, ids, sizeof ids, errs, sizeof errs, &r);
    assert_int_equal(n, 3);
    assert_string_equal(ids, "1@1|2@4|4@7|");
    char want[1024];
    snprintf(want, sizeof want, "%s:5: missing \"text\"|%s:6: malformed JSON at column 1: expected '{' (each line "
             "must be one JSON object)|", p, p);
    assert_string_equal(errs, want);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(qr_bytes_total(r), (uint64_t)st.st_size);
    assert_int_equal(qr_bytes_done(r), (uint64_t)st.st_size);
    assert_int_equal(qr_bytes_read(r), (uint64_t)st.st_size);
    qr_close(r);

    /* an empty file and a file of empty lines give no documents */
    write_str(tpath("empty.jsonl"), "");
    write_str(tpath("blank.jsonl"), "\n\n \n");
    const char *p2[] = { tpath("empty.jsonl"), tpath("blank.jsonl") };
    assert_int_equal(read_all(p2, 2, ids, sizeof ids, errs, sizeof errs, NULL), 0);
    assert_string_equal(errs, "");
}

static void test_reader_gzip(void **state)
{
    (void)state;
    /* enough lines to cross the read buffer several times */
    size_t cap = 8u << 20, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    int ndocs = 20000;
    for (int i = 0; i < ndocs; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "{\"id\":\"d%d\",\"title\":\"T %d\",\"text\":\"text of document %d \\u00e9 %0*d\"}\n",
                                i, i, i, i % 300, 0);
    const char *p = tpath("g.jsonl.gz");
    write_gz(p, s, len);
    const char *paths[] = { p };
    qr_reader *r;
    quarry_error e;
    assert_int_equal(qr_open(paths, 1, &r, &e), 0);
    qr_doc d;
    int count = 0, rc;
    uint64_t last_done = 0;
    while ((rc = qr_next(r, &d, &e)) > 0) {
        char want[32];
        snprintf(want, sizeof want, "d%d", count);
        assert_string_equal(d.id, want);
        assert_int_equal(d.line, (uint64_t)count + 1);
        assert_non_null(strstr(d.text, "\xC3\xA9"));
        assert_true(qr_bytes_done(r) >= last_done);
        last_done = qr_bytes_done(r);
        count++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(count, ndocs);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(qr_bytes_total(r), (uint64_t)st.st_size);
    assert_int_equal(qr_bytes_done(r), (uint64_t)st.st_size);
    assert_int_equal(qr_bytes_read(r), (uint64_t)len);
    qr_close(r);

    /* truncated: an error naming the file and the line being read */
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    char *gz = malloc((size_t)st.st_size);
    assert_non_null(gz);
    assert_int_equal(fread(gz, 1, (size_t)st.st_size, f), (size_t)st.st_size);
    fclose(f);
    const char *pt = tpath("trunc.jsonl.gz");
    write_file(pt, gz, (size_t)st.st_size / 2);
    const char *pt_paths[] = { pt };
    char ids[64], errs[1024];
    static char bigids[1 << 20];
    size_t n = read_all(pt_paths, 1, bigids, sizeof bigids, errs, sizeof errs, NULL);
    assert_true(n > 0 && n < (size_t)ndocs);
    char want[512];
    snprintf(want, sizeof want, "%s:%zu: damaged gzip stream (", pt, n + 1);
    if (strncmp(errs, want, strlen(want)) != 0)
        print_message("got: %s\nwant prefix: %s\n", errs, want);
    assert_memory_equal(errs, want, strlen(want));

    /* corrupted in the middle: the data check fails */
    gz[st.st_size / 2] ^= 0x55;
    gz[st.st_size / 2 + 1] ^= 0x55;
    const char *pc = tpath("corrupt.jsonl.gz");
    write_file(pc, gz, (size_t)st.st_size);
    const char *pc_paths[] = { pc };
    static char bigerrs[1 << 20];
    n = read_all(pc_paths, 1, bigids, sizeof bigids, bigerrs, sizeof bigerrs, NULL);
    assert_true(n < (size_t)ndocs);
    snprintf(want, sizeof want, "%s:", pc);
    const char *dmg = strstr(bigerrs, "damaged gzip stream");
    assert_non_null(dmg);
    assert_non_null(strstr(bigerrs, want));
    free(gz);
    free(s);

    /* a plain file named .jsonl.gz */
    const char *pp = tpath("plain.jsonl.gz");
    write_str(pp, "{\"id\":\"1\",\"text\":\"x\"}\n");
    const char *pp_paths[] = { pp };
    assert_int_equal(read_all(pp_paths, 1, ids, sizeof ids, errs, sizeof errs, NULL), 0);
    snprintf(want, sizeof want, "%s: not in gzip format (rename it to .jsonl if it is plain JSON Lines)|", pp);
    assert_string_equal(errs, want);

    /* errors do not stop the next file */
    const char *two[] = { pt, p };
    n = read_all(two, 2, bigids, sizeof bigids, errs, sizeof errs, NULL);
    assert_true(n > (size_t)ndocs);
}

static void test_reader_long_line(void **state)
{
    (void)state;
    /* one line just over the limit between two good ones */
    const char *p = tpath("long.jsonl");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs("{\"id\":\"1\",\"text\":\"a\"}\n{\"id\":\"2\",\"text\":\"", f);
    static char chunk[1 << 16];
    memset(chunk, 'x', sizeof chunk);
    for (size_t i = 0; i < (QR_MAX_DOC / sizeof chunk) + 1; i++)
        fwrite(chunk, 1, sizeof chunk, f);
    fputs("\"}\n{\"id\":\"3\",\"text\":\"c\"}\n", f);
    fclose(f);
    const char *paths[] = { p };
    char ids[256], errs[512], want[512];
    assert_int_equal(read_all(paths, 1, ids, sizeof ids, errs, sizeof errs, NULL), 2);
    assert_string_equal(ids, "1@1|3@3|");
    snprintf(want, sizeof want, "%s:2: line longer than the 64 MiB limit of one document; split it, or raise --mem (the limit is an eighth of it)|", p);
    assert_string_equal(errs, want);
    unlink(p);
}

static void test_reader_txt(void **state)
{
    (void)state;
    const char *p = tpath("note.txt");
    static const char data[] = "\xEF\xBB\xBF" "Short title\n\nBody with a NUL \0 and a bad byte \xFF here.\n";
    write_file(p, data, sizeof data - 1);
    const char *paths[] = { p };
    qr_reader *r;
    quarry_error e;
    assert_int_equal(qr_open(paths, 1, &r, &e), 0);
    qr_doc d;
    assert_int_equal(qr_next(r, &d, &e), 1);
    assert_doc_valid(&d);
    assert_string_equal(d.id, "note");
    assert_string_equal(d.title, "Short title");
    assert_string_equal(d.date, "");
    assert_string_equal(d.text, "Short title\n\nBody with a NUL   and a bad byte \xEF\xBF\xBD here.\n");
    assert_int_equal(d.invalid_utf8, 2);
    assert_int_equal(d.line, 0);
    assert_string_equal(d.file, p);
    assert_int_equal(qr_bytes_done(r), sizeof data - 1);
    assert_int_equal(qr_bytes_total(r), sizeof data - 1);
    assert_int_equal(qr_next(r, &d, &e), 0);
    qr_close(r);
}

/* ------------------------------------------------------------- walking */

static void test_walk_order(void **state)
{
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tree", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    /* created in an order that is not the sorted one */
    static const char *const dirs[] = { "z", "b", "b/sub", "a.d", ".git", "A" };
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "tree/%s", dirs[i]);
        assert_int_equal(mkdir(tpath(rel), 0700), 0);
    }
    static const char *const files[] = {
        "z/9.txt", "b/sub/x.jsonl", "b/2.txt", "b/1.TXT", "a.txt", "a.d/k.txt", ".hidden.txt",
        ".git/h.txt", "A/up.txt", "b/readme.md", "b/data.json", "b/c.jsonl.gz.bak", "b.txt",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "tree/%s", files[i]);
        if (strstr(files[i], ".jsonl"))
            write_str(tpath(rel), "{\"id\":\"x1\",\"text\":\"t\"}\n");
        else
            write_str(tpath(rel), "text\n");
    }
    write_gz(tpath("tree/b/sub/y.jsonl.gz"), "{\"id\":\"y1\",\"text\":\"t\"}\n", 23);
    /* a symlink loop and a link to a sibling directory (walked once) */
    assert_int_equal(symlink("..", tpath("tree/b/sub/loop")), 0);
    assert_int_equal(symlink("../z", tpath("tree/b/zlink")), 0);
    assert_int_equal(symlink("nowhere", tpath("tree/b/dangling.md")), 0);

    const char *paths[] = { dir };
    char ids[1024], errs[1024];
    size_t n = read_all(paths, 1, ids, sizeof ids, errs, sizeof errs, NULL);
    assert_string_equal(errs, "");
    /* strcmp order of the full paths: "A/" < "a.d/" < "a.txt" < "b.txt" <
     * "b/" ('.' < '/'), and inside b: "1.TXT" < "2.txt" < "sub/" < "zlink/"
     * — z was reached first through b/zlink, so z/ itself adds nothing. */
    assert_string_equal(ids, "up@0|k@0|a@0|b@0|1@0|2@0|x1@1|y1@1|9@0|");
    assert_int_equal(n, 9);

    /* the same through qr_open's file order: check the paths themselves */
    qr_reader *r;
    quarry_error e;
    assert_int_equal(qr_open(paths, 1, &r, &e), 0);
    qr_doc d;
    char prev[512] = "";
    while (qr_next(r, &d, &e) > 0) {
        assert_true(strcmp(prev, d.file) <= 0);
        snprintf(prev, sizeof prev, "%s", d.file);
    }
    char want[512];
    snprintf(want, sizeof want, "%s/b/zlink/9.txt", dir);
    assert_string_equal(prev, want);
    qr_close(r);

    /* explicit paths keep their order; a trailing '/' is fine */
    char dir_slash[300];
    snprintf(dir_slash, sizeof dir_slash, "%s/z/", dir);
    const char *mixed[] = { tpath("tree/b/2.txt"), dir_slash, tpath("tree/a.txt") };
    n = read_all(mixed, 3, ids, sizeof ids, errs, sizeof errs, NULL);
    assert_string_equal(ids, "2@0|9@0|a@0|");
    assert_int_equal(n, 3);

    /* named explicitly, other files are an error; missing paths too */
    const char *bad[] = { tpath("tree/b/readme.md") };
    r = NULL;
    assert_int_equal(qr_open(bad, 1, &r, &e), QUARRY_EINVAL);
    assert_null(r);
    snprintf(want, sizeof want, "%s: not a .txt, .jsonl or .jsonl.gz file", bad[0]);
    assert_string_equal(e.msg, want);
    const char *missing[] = { tpath("tree/nope.jsonl") };
    assert_int_equal(qr_open(missing, 1, &r, &e), QUARRY_EIO);
    snprintf(want, sizeof want, "cannot read %s: No such file or directory", missing[0]);
    assert_string_equal(e.msg, want);
    assert_int_equal(qr_open(NULL, 0, &r, &e), QUARRY_EINVAL);

    /* a dangling link with an input file's name is an error */
    assert_int_equal(symlink("nowhere", tpath("tree/z/gone.txt")), 0);
    assert_int_equal(qr_open(paths, 1, &r, &e), QUARRY_EIO);
    assert_non_null(strstr(e.msg, "gone.txt"));
    unlink(tpath("tree/z/gone.txt"));
}

/* ------------------------------------------------------ plain-text rules */

static void split(const char *text, qr_doc *d)
{
    memset(d, 0, sizeof *d);
    qbuf_reset(&scratch);
    qr_split_txt(text, strlen(text), &scratch, d);
    assert_int_equal(d->title[d->title_len], 0);
    assert_int_equal(d->date[d->date_len], 0);
}

static void test_split_txt_rules(void **state)
{
    (void)state;
    qr_doc d;
    split("Markets rally\n\nStocks rose on Monday. Bonds fell.\n", &d);
    assert_string_equal(d.title, "Markets rally");
    assert_string_equal(d.date, "");
    assert_int_equal(d.text_len, strlen("Markets rally\n\nStocks rose on Monday. Bonds fell.\n"));

    /* a short line of several sentences: its first sentence */
    split("Hello world. This is it.\nMore.", &d);
    assert_string_equal(d.title, "Hello world.");
    /* a headline with a sentence inside but no final mark stays whole */
    split("Rates cut. Dow soars\n\nbody", &d);
    assert_string_equal(d.title, "Rates cut. Dow soars");
    /* abbreviations do not end the first sentence */
    split("The U.S. Senate and Mr. Smith met. Then they left the building together after a long "
          "debate about the budget.\n", &d);
    assert_string_equal(d.title, "The U.S. Senate and Mr. Smith met.");
    /* a long first sentence is cut at the last space within 80 bytes */
    split("Officials from twenty-seven countries gathered in Brussels on Thursday to discuss the "
          "future of the single market and trade.\n", &d);
    assert_string_equal(d.title, "Officials from twenty-seven countries gathered in Brussels on Thursday to");
    assert_true(d.title_len <= 80);
    /* ... never inside a UTF-8 character, and with no space at all at 80 bytes */
    char nospace[200];
    memset(nospace, 'a', 79);
    strcpy(nospace + 79, "\xC3\xA9\xC3\xA9 end of it");
    split(nospace, &d);
    assert_int_equal(d.title_len, 79);
    assert_true(qa_utf8_valid(d.title, d.title_len));

    /* date markers */
    split("date 2024-02-29\n\nHeadline here\n\nBody.", &d);
    assert_string_equal(d.date, "2024-02-29");
    assert_string_equal(d.title, "Headline here");
    assert_string_equal(d.text, "Headline here\n\nBody.");
    split("  Date: 2023-01-05 Body starts here.", &d);
    assert_string_equal(d.date, "2023-01-05");
    assert_string_equal(d.text, "Body starts here.");
    split("date 2025-13-01 is not a date", &d);
    assert_string_equal(d.date, "");
    assert_string_equal(d.title, "date 2025-13-01 is not a date");
    split("date 2025-01-011 no", &d);
    assert_string_equal(d.date, "");
    split("dated 2025-01-01", &d);
    assert_string_equal(d.date, "");
    split("date 2025-01-01", &d);   /* only the marker */
    assert_string_equal(d.date, "2025-01-01");
    assert_int_equal(d.text_len, 0);
    assert_string_equal(d.title, "");
    split("", &d);
    assert_string_equal(d.title, "");
    assert_int_equal(d.text_len, 0);
    split("\n\n  \n", &d);
    assert_string_equal(d.title, "");
}

/* The sample articles: date, title and the start of the text, agreeing
 * with the titles of the shared seeds collection. */
static void test_sample_corpus(void **state)
{
    (void)state;
    const char *paths[] = { "corpus" };
    qr_reader *r;
    quarry_error e;
    if (qr_open(paths, 1, &r, &e) != 0) {
        tskip("%s (run from the repository root)", e.msg);
    }
    static const char *const want_id[2] = { "000_b2bb108374801336", "004_4f4f4b4389e3315b" };
    static const char *const want_title[2] = {
        "On the sidelines of the Second Belt and Road Forum for International",
        "During a meeting with Russian Prime Minister Mikhail Mishustin in Beijing,",
    };
    static const char *const want_date[2] = { "", "2025-11-04" };
    static const char *const want_start[2] = { "On the sidelines of the Second", "During a meeting with" };
    char titles[2][128];
    qr_doc d;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(qr_next(r, &d, &e), 1);
        assert_doc_valid(&d);
        assert_string_equal(d.id, want_id[i]);
        assert_string_equal(d.title, want_title[i]);
        assert_string_equal(d.date, want_date[i]);
        assert_memory_equal(d.text, want_start[i], strlen(want_start[i]));
        snprintf(titles[i], sizeof titles[i], "%s", d.title);
    }
    assert_int_equal(qr_next(r, &d, &e), 0);
    qr_close(r);

    /* the seeds collection, when present, has the same titles and dates */
    char seeds[512];
    snprintf(seeds, sizeof seeds, "%s/seeds/docs.jsonl", tcorpus_dir());
    if (access(seeds, R_OK) != 0) {
        print_message("      (seeds/docs.jsonl not found under %s: compared with built-in titles only)\n",
                      tcorpus_dir());
        return;
    }
    const char *sp[] = { seeds };
    assert_int_equal(qr_open(sp, 1, &r, &e), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(qr_next(r, &d, &e), 1);
        assert_string_equal(d.id, want_id[i]);
        assert_string_equal(d.title, titles[i]);
        assert_string_equal(d.date, want_date[i]);
    }
    qr_close(r);
}

/* ------------------------------------------------------ shared corpora */

static void read_collection(const char *name, size_t want_docs)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/docs.jsonl.gz", tcorpus_dir(), name);
    if (access(path, R_OK) != 0) {
        tskip("%s not found (set QUARRY_CORPUS)", path);
    }
    const char *paths[] = { path };
    qr_reader *r;
    quarry_error e;
    assert_int_equal(qr_open(paths, 1, &r, &e), 0);
    qr_doc d;
    int rc;
    size_t docs = 0, invalid = 0, titled = 0, dated = 0;
    double t0 = qnow();
    while ((rc = qr_next(r, &d, &e)) > 0) {
        assert_true(d.id_len > 0);
        assert_int_equal(d.line, docs + 1);
        assert_true(qa_utf8_valid(d.text, d.text_len));
        assert_true(qa_utf8_valid(d.title, d.title_len));
        invalid += d.invalid_utf8;
        titled += d.title_len > 0;
        dated += d.date_len > 0;
        docs++;
    }
    double t = qnow() - t0;
    if (rc < 0)
        print_message("error: %s\n", e.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(docs, want_docs);
    assert_int_equal(qr_bytes_done(r), qr_bytes_total(r));
    print_message("      %s: %zu docs (%zu titled, %zu dated, %zu invalid UTF-8), %.1f MB in %.3f s\n", name, docs,
                  titled, dated, invalid, (double)qr_bytes_read(r) / 1e6, t);
    qr_close(r);
}

static void test_reuters(void **state)
{
    (void)state;
    read_collection("reuters21578", 19779);
}

static void test_bbc(void **state)
{
    (void)state;
    read_collection("bbc", 2225);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_basic),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_json_ignored_values),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_reader_jsonl),
        cmocka_unit_test(test_reader_gzip),
        cmocka_unit_test(test_reader_long_line),
        cmocka_unit_test(test_reader_txt),
        cmocka_unit_test(test_walk_order),
        cmocka_unit_test(test_split_txt_rules),
        cmocka_unit_test(test_sample_corpus),
        cmocka_unit_test(test_reuters),
        cmocka_unit_test(test_bbc),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    qbuf_free(&scratch);
    return rc;
}
