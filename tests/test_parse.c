/*
 * test_parse.c — unit tests of the query parser (src/query/parse.c): every
 * operator and combination, precedence, fields, prefixes, every syntax error
 * with its exact message and column, the depth and length limits, node
 * columns, and a seeded fuzz loop over the query alphabet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query/parse.h"

/* Parses `q` and checks its S-expression. */
static void check_fmt(const char *q, const char *want, int line)
{
    quarry_error err = { 0, "" };
    qq_node *n = NULL;
    int rc = qq_parse(q, strlen(q), &n, &err);
    if (rc != QUARRY_OK) {
        print_error("line %d: parse of [%s] failed: %d %s\n", line, q, rc, err.msg);
        fail();
    }
    assert_non_null(n);
    qbuf b;
    qbuf_init(&b);
    assert_int_equal(qq_format(n, &b), QUARRY_OK);
    assert_int_equal(strlen((const char *)b.p), b.len);
    if (strcmp((const char *)b.p, want) != 0) {
        print_error("line %d: [%s]\n  got  %s\n  want %s\n", line, q, (const char *)b.p, want);
        qbuf_free(&b);
        qq_free(n);
        fail();
    }
    qbuf_free(&b);
    qq_free(n);
}
#define FMT(q, want) check_fmt((q), (want), __LINE__)

/* Parses `q` and checks that it fails with `code` and exactly `msg`. */
static void check_err(const char *q, size_t len, int code, const char *msg, int line)
{
    quarry_error err = { 0, "" };
    qq_node *n = (qq_node *)(uintptr_t)1;  /* must stay untouched on error */
    int rc = qq_parse(q, len, &n, &err);
    if (rc != code || err.code != code || strcmp(err.msg, msg) != 0) {
        print_error("line %d: [%.*s]\n  got  %d \"%s\"\n  want %d \"%s\"\n", line,
                    (int)(len > 200 ? 200 : len), q, rc, err.msg, code, msg);
        if (rc == QUARRY_OK)
            qq_free(n);
        fail();
    }
    assert_ptr_equal(n, (qq_node *)(uintptr_t)1);
}
#define ERR(q, msg) check_err((q), strlen(q), QUARRY_ESYNTAX, (msg), __LINE__)

static qq_node *parse_ok(const char *q)
{
    quarry_error err = { 0, "" };
    qq_node *n = NULL;
    int rc = qq_parse(q, strlen(q), &n, &err);
    if (rc != QUARRY_OK) {
        print_error("parse of [%s] failed: %s\n", q, err.msg);
        fail();
    }
    return n;
}

/* ------------------------------------------------------------- tests */

static void test_words(void **state)
{
    FMT("hello", "hello");
    FMT("  hello\t", "hello");
    FMT("e-mail", "e-mail");
    FMT("3-4", "3-4");
    FMT("C++", "C++");
    FMT("a+b", "a+b");
    FMT("sino-russian", "sino-russian");
    FMT("body:foo", "body:foo");
    FMT("Title:foo", "Title:foo");
    FMT("TITLE:foo", "TITLE:foo");
    FMT("titles:foo", "titles:foo");
    FMT("title", "title");
    FMT("x:title:y", "x:title:y");
    FMT(":", ":");
    FMT("a:", "a:");
    FMT("Москва", "Москва");
    FMT("café naïve", "(BOOL café naïve)");
    FMT("北京 東京", "(BOOL 北京 東京)");
    FMT("ANDROID ORACLE NOTE", "(BOOL ANDROID ORACLE NOTE)");
    FMT("And Or Not", "(BOOL And Or Not)");
    /* invalid UTF-8 passes through as raw bytes */
    FMT("ab\xff\xfe", "ab\xff\xfe");
}

static void test_lower_case_operators_are_words(void **state)
{
    FMT("a and b", "(BOOL a and b)");
    FMT("a or b", "(BOOL a or b)");
    FMT("not a", "(BOOL not a)");
    FMT("and", "and");
    FMT("AnD a", "(BOOL AnD a)");
}

static void test_or(void **state)
{
    FMT("a b", "(BOOL a b)");
    FMT("a b c", "(BOOL a b c)");
    FMT("a OR b", "(BOOL a b)");
    FMT("a OR b OR c", "(BOOL a b c)");
    FMT("a OR b c", "(BOOL a b c)");
    FMT("a\tb\nc\r\nd", "(BOOL a b c d)");
    /* Unicode white space separates too: NBSP, ideographic space */
    FMT("a\xc2\xa0" "b\xe3\x80\x80" "c", "(BOOL a b c)");
}

static void test_and(void **state)
{
    FMT("a AND b", "(BOOL +a +b)");
    FMT("a AND b AND c", "(BOOL +a +b +c)");
    FMT("a AND(b)", "(BOOL +a +b)");
    FMT("(a)AND(b)", "(BOOL +a +b)");
}

static void test_precedence(void **state)
{
    FMT("a b AND c", "(BOOL a (BOOL +b +c))");
    FMT("a AND b c", "(BOOL (BOOL +a +b) c)");
    FMT("a AND b OR c AND d", "(BOOL (BOOL +a +b) (BOOL +c +d))");
    FMT("a OR b AND c OR d", "(BOOL a (BOOL +b +c) d)");
    FMT("a AND b OR c", "(BOOL (BOOL +a +b) c)");
    FMT("NOT a AND b", "(BOOL -a +b)");
    FMT("a AND NOT b", "(BOOL +a -b)");
    FMT("a AND NOT b c", "(BOOL (BOOL +a -b) c)");
    FMT("a AND (b OR c)", "(BOOL +a +(BOOL b c))");
    FMT("(a OR b) AND (c OR d)", "(BOOL +(BOOL a b) +(BOOL c d))");
}

static void test_not(void **state)
{
    FMT("NOT a", "(BOOL -a)");
    FMT("a NOT b", "(BOOL a -b)");
    FMT("a OR NOT b", "(BOOL a -b)");
    FMT("NOT a b", "(BOOL -a b)");
    FMT("NOT NOT a", "(BOOL -(BOOL -a))");
    FMT("NOT -a", "(BOOL -(BOOL -a))");
    FMT("NOT +a", "(BOOL -(BOOL +a))");
    FMT("NOT (a b)", "(BOOL -(BOOL a b))");
    FMT("NOT \"a b\"", "(BOOL -\"a b\")");
    FMT("NOT title:a", "(BOOL -title:a)");
    FMT("NOT(a)", "(BOOL -a)");
}

static void test_prefixes(void **state)
{
    FMT("+a", "(BOOL +a)");
    FMT("-a", "(BOOL -a)");
    FMT("+a b -c", "(BOOL +a b -c)");
    FMT("+a +b", "(BOOL +a +b)");
    FMT("-\"a b\"", "(BOOL -\"a b\")");
    FMT("+\"a b\" c", "(BOOL +\"a b\" c)");
    FMT("+(a b)", "(BOOL +(BOOL a b))");
    FMT("-(a b) c", "(BOOL -(BOOL a b) c)");
    FMT("-(a)", "(BOOL -a)");
    FMT("+title:a", "(BOOL +title:a)");
    FMT("-title:\"a b\" c", "(BOOL -title:\"a b\" c)");
    FMT("+a AND b", "(BOOL +a +b)");
    FMT("-a AND b", "(BOOL -a +b)");
    FMT("a AND -b", "(BOOL +a -b)");
    FMT("a AND +b", "(BOOL +a +b)");
    FMT("-3", "(BOOL -3)");
    FMT("+e-mail", "(BOOL +e-mail)");
    /* a sign glued to an operator makes it a word */
    FMT("+AND", "(BOOL +AND)");
    FMT("-NOT a", "(BOOL -NOT a)");
    FMT("a -OR", "(BOOL a -OR)");
    /* a sign after a phrase or ')' starts a new clause */
    FMT("\"a b\"-c", "(BOOL \"a b\" -c)");
    FMT("(a)-b", "(BOOL a -b)");
    FMT("(-a)", "(BOOL -a)");
    FMT("x (-a)", "(BOOL x (BOOL -a))");
    FMT("(+a b)", "(BOOL +a b)");
}

static void test_parentheses(void **state)
{
    FMT("(a)", "a");
    FMT("((((a))))", "a");
    FMT("((a b))", "(BOOL a b)");
    FMT("a (b (c d))", "(BOOL a (BOOL b (BOOL c d)))");
    FMT("(a (b (c (d e))))", "(BOOL a (BOOL b (BOOL c (BOOL d e))))");
    FMT("foo(bar)", "(BOOL foo bar)");
    FMT("(a b)(c d)", "(BOOL (BOOL a b) (BOOL c d))");
    FMT("( a )", "a");
}

static void test_phrases(void **state)
{
    FMT("\"new york\"", "\"new york\"");
    FMT("\"new york\" city", "(BOOL \"new york\" city)");
    FMT("ab\"cd\"", "(BOOL ab \"cd\")");
    FMT("\"a (b\"", "\"a (b\"");
    FMT("\"a AND b\"", "\"a AND b\"");
    FMT("\"  spaced  out \"", "\"  spaced  out \"");
    FMT("\"Москва река\"", "\"Москва река\"");
    FMT("\"a\"\"b\"", "(BOOL \"a\" \"b\")");
    FMT("\"title:x\"", "\"title:x\"");
}

static void test_fields(void **state)
{
    FMT("title:a", "title:a");
    FMT("title:\"a b\"", "title:\"a b\"");
    FMT("title:(a b)", "(BOOL title:a title:b)");
    FMT("title:(a -b)", "(BOOL title:a -title:b)");
    FMT("title:(a (b AND \"c d\"))", "(BOOL title:a (BOOL +title:b +title:\"c d\"))");
    FMT("title:(a) b", "(BOOL title:a b)");
    FMT("title:title:a", "title:a");
    FMT("title:a:b", "title:a:b");
    FMT("title:AND", "title:AND");
    FMT("title:NOT a", "(BOOL title:NOT a)");
    FMT("title:é", "title:é");
    FMT("a title:b AND c", "(BOOL a (BOOL +title:b +c))");
    FMT("title:a-b", "title:a-b");

    /* the field is inherited by every node of the group */
    qq_node *n = parse_ok("title:(a (b c) -\"d e\")");
    assert_int_equal(n->kind, QQ_BOOL);
    assert_int_equal(n->field, QQ_FIELD_TITLE);
    assert_int_equal(n->nkids, 3);
    assert_int_equal(n->kids[1]->kind, QQ_BOOL);
    assert_int_equal(n->kids[1]->field, QQ_FIELD_TITLE);
    assert_int_equal(n->kids[1]->kids[0]->field, QQ_FIELD_TITLE);
    assert_int_equal(n->kids[1]->kids[1]->field, QQ_FIELD_TITLE);
    assert_int_equal(n->kids[2]->kind, QQ_PHRASE);
    assert_int_equal(n->kids[2]->occur, QQ_MUST_NOT);
    assert_int_equal(n->kids[2]->field, QQ_FIELD_TITLE);
    assert_string_equal(n->kids[2]->text, "d e");
    qq_free(n);

    n = parse_ok("a title:b");
    assert_int_equal(n->field, QQ_FIELD_ANY);
    assert_int_equal(n->kids[0]->field, QQ_FIELD_ANY);
    assert_int_equal(n->kids[1]->field, QQ_FIELD_TITLE);
    assert_string_equal(n->kids[1]->text, "b");
    qq_free(n);
}

static void test_tree_shape(void **state)
{
    qq_node *n = parse_ok("é +b AND \"c d\" -(e) NOT title:f");
    /* or( é, and(+b, "c d"), -e, NOT title:f ) */
    assert_int_equal(n->kind, QQ_BOOL);
    assert_int_equal(n->occur, QQ_SHOULD);
    assert_int_equal(n->column, 1);
    assert_int_equal(n->nkids, 4);

    qq_node *k = n->kids[0];
    assert_int_equal(k->kind, QQ_WORD);
    assert_int_equal(k->occur, QQ_SHOULD);
    assert_string_equal(k->text, "é");
    assert_int_equal(k->column, 1);
    assert_null(k->kids);

    k = n->kids[1];
    assert_int_equal(k->kind, QQ_BOOL);
    assert_int_equal(k->occur, QQ_SHOULD);
    assert_int_equal(k->column, 3);  /* the '+' */
    assert_int_equal(k->nkids, 2);
    assert_int_equal(k->kids[0]->occur, QQ_MUST);
    assert_int_equal(k->kids[0]->column, 4);
    assert_string_equal(k->kids[0]->text, "b");
    assert_int_equal(k->kids[1]->kind, QQ_PHRASE);
    assert_int_equal(k->kids[1]->occur, QQ_MUST);
    assert_int_equal(k->kids[1]->column, 10);
    assert_string_equal(k->kids[1]->text, "c d");

    k = n->kids[2];
    assert_int_equal(k->kind, QQ_WORD);
    assert_int_equal(k->occur, QQ_MUST_NOT);
    assert_string_equal(k->text, "e");
    assert_int_equal(k->column, 18);

    k = n->kids[3];
    assert_int_equal(k->kind, QQ_WORD);
    assert_int_equal(k->occur, QQ_MUST_NOT);
    assert_int_equal(k->field, QQ_FIELD_TITLE);
    assert_string_equal(k->text, "f");
    assert_int_equal(k->column, 31);
    qq_free(n);

    /* a group's BOOL has the column of its '(' */
    n = parse_ok("ж (a b)");
    assert_int_equal(n->kids[1]->kind, QQ_BOOL);
    assert_int_equal(n->kids[1]->column, 3);
    qq_free(n);

    /* a lone prefixed clause is a one-clause BOOL */
    n = parse_ok("-word");
    assert_int_equal(n->kind, QQ_BOOL);
    assert_int_equal(n->occur, QQ_SHOULD);
    assert_int_equal(n->nkids, 1);
    assert_int_equal(n->kids[0]->occur, QQ_MUST_NOT);
    assert_int_equal(n->kids[0]->column, 2);
    qq_free(n);

    /* a single word is returned as itself */
    n = parse_ok("  word");
    assert_int_equal(n->kind, QQ_WORD);
    assert_int_equal(n->column, 3);
    assert_int_equal(n->nkids, 0);
    qq_free(n);

    qq_free(NULL);
}

static void test_query_not_nul_terminated(void **state)
{
    /* only len bytes are read */
    char q[] = { 'a', ' ', 'b', '"' };
    qq_node *n = NULL;
    quarry_error err;
    assert_int_equal(qq_parse(q, 3, &n, &err), QUARRY_OK);
    qbuf b;
    qbuf_init(&b);
    assert_int_equal(qq_format(n, &b), QUARRY_OK);
    assert_string_equal((const char *)b.p, "(BOOL a b)");
    /* qq_format appends */
    assert_int_equal(qq_format(n->kids[0], &b), QUARRY_OK);
    assert_string_equal((const char *)b.p, "(BOOL a b)a");
    qbuf_free(&b);
    qq_free(n);
    check_err(q, 4, QUARRY_ESYNTAX, "column 4: unbalanced quote", __LINE__);
    /* an embedded NUL is white space */
    assert_int_equal(qq_parse("a\0b", 3, &n, &err), QUARRY_OK);
    assert_int_equal(n->nkids, 2);
    qq_free(n);
    check_err(NULL, 0, QUARRY_ESYNTAX, "column 1: empty query", __LINE__);
}

static void test_errors(void **state)
{
    ERR("", "column 1: empty query");
    ERR("   ", "column 1: empty query");
    ERR(" \t\n ", "column 1: empty query");

    ERR("\"\"", "column 1: empty phrase");
    ERR("a \"\"", "column 3: empty phrase");
    ERR("a \"  \"", "column 3: empty phrase");

    ERR("hello world a \"b c", "column 15: unbalanced quote");
    ERR("hello world \"b c", "column 13: unbalanced quote");
    ERR("sanctions on \"belt and road", "column 14: unbalanced quote");
    ERR("a \"b\" \"c", "column 7: unbalanced quote");
    ERR("\"", "column 1: unbalanced quote");
    ERR("(a \"b)", "column 4: unbalanced quote");

    ERR("(", "column 1: unbalanced parenthesis: '(' is never closed");
    ERR("(a", "column 1: unbalanced parenthesis: '(' is never closed");
    ERR("a (b (c)", "column 3: unbalanced parenthesis: '(' is never closed");
    ERR("a (b c", "column 3: unbalanced parenthesis: '(' is never closed");
    ERR(")", "column 1: unbalanced parenthesis: unexpected ')'");
    ERR(") a", "column 1: unbalanced parenthesis: unexpected ')'");
    ERR("a b)", "column 4: unbalanced parenthesis: unexpected ')'");
    ERR("(a))", "column 4: unbalanced parenthesis: unexpected ')'");
    ERR("a ) b", "column 3: unbalanced parenthesis: unexpected ')'");

    ERR("()", "column 2: empty parentheses");
    ERR("a ( )", "column 5: empty parentheses");
    ERR("a (())", "column 5: empty parentheses");

    ERR("a AND", "column 3: expected a term after AND");
    ERR("a AND OR b", "column 3: expected a term after AND");
    ERR("a AND AND b", "column 3: expected a term after AND");
    ERR("(a AND) b", "column 4: expected a term after AND");
    ERR("AND a", "column 1: expected a term before AND");
    ERR("AND", "column 1: expected a term before AND");
    ERR("a (AND b)", "column 4: expected a term before AND");
    ERR("a OR", "column 3: expected a term after OR");
    ERR("a OR OR b", "column 3: expected a term after OR");
    ERR("a OR AND b", "column 3: expected a term after OR");
    ERR("a OR )", "column 3: expected a term after OR");
    ERR("OR a", "column 1: expected a term before OR");
    ERR("a (OR b)", "column 4: expected a term before OR");
    ERR("NOT", "column 1: expected a term after NOT");
    ERR("a NOT", "column 3: expected a term after NOT");
    ERR("NOT AND a", "column 1: expected a term after NOT");
    ERR("(NOT)", "column 2: expected a term after NOT");

    ERR("a - b", "column 3: expected a term after '-'");
    ERR("a + b", "column 3: expected a term after '+'");
    ERR("-", "column 1: expected a term after '-'");
    ERR("a -", "column 3: expected a term after '-'");
    ERR("(a -)", "column 4: expected a term after '-'");
    ERR("--a", "column 1: expected a term after '-'");
    ERR("+-a", "column 1: expected a term after '+'");

    ERR("title:", "column 1: expected a term after 'title:'");
    ERR("a title: b", "column 3: expected a term after 'title:'");
    ERR("title:)", "column 1: expected a term after 'title:'");
    ERR("(title:)", "column 2: expected a term after 'title:'");
    ERR("title:-a", "column 7: '-' goes before the field, as in -title:word");
    ERR("title:+a", "column 7: '+' goes before the field, as in +title:word");

    /* columns count characters, not bytes */
    ERR("é AND", "column 3: expected a term after AND");
    ERR("Москва и \"мир", "column 10: unbalanced quote");
    ERR("北京 ) x", "column 4: unbalanced parenthesis: unexpected ')'");
    ERR("ü ö (ä", "column 5: unbalanced parenthesis: '(' is never closed");
    ERR("\xf0\x9f\x98\x80 - x", "column 3: expected a term after '-'");  /* U+1F600, 4 bytes */
    ERR("\xff\xfe OR", "column 4: expected a term after OR");        /* invalid bytes: one column each */
    ERR("a\xc2\xa0OR", "column 3: expected a term after OR");        /* NBSP is one column */
}

static void test_not_word_error(void **state)
{
    /* "-NOT" glues: it is the word NOT, prohibited, so it parses */
    FMT("-NOT", "(BOOL -NOT)");
}

static char *repeat(const char *unit, size_t times, const char *middle)
{
    size_t u = strlen(unit), m = strlen(middle);
    char *s = malloc(u * times * 2 + m + 1);
    assert_non_null(s);
    char *w = s;
    for (size_t i = 0; i < times; i++, w += u)
        memcpy(w, unit, u);
    memcpy(w, middle, m);
    w += m;
    *w = 0;
    return s;
}

static void test_depth_limit(void **state)
{
    char msg[128];
    /* 64 nested parentheses parse, 65 do not */
    char *q = repeat("(", QQ_MAX_DEPTH, "a");  /* room for the closing half */
    size_t n = strlen(q);
    for (int i = 0; i < QQ_MAX_DEPTH; i++)
        q[n++] = ')';
    q[n] = 0;
    FMT(q, "a");
    free(q);

    q = repeat("(", QQ_MAX_DEPTH + 1, "a");
    snprintf(msg, sizeof msg, "column %d: nesting deeper than 64", QQ_MAX_DEPTH + 1);
    ERR(q, msg);
    free(q);

    /* far deeper: still an error, not a stack overflow */
    q = repeat("(", 20000, "a");
    ERR(q, msg);
    free(q);

    q = repeat("NOT ", QQ_MAX_DEPTH, "a");
    qq_node *t = parse_ok(q);
    int depth = 0;
    for (qq_node *k = t; k->kind == QQ_BOOL; k = k->kids[0])
        depth++;
    assert_int_equal(depth, QQ_MAX_DEPTH);
    qq_free(t);
    free(q);
    q = repeat("NOT ", QQ_MAX_DEPTH + 1, "a");
    snprintf(msg, sizeof msg, "column %d: nesting deeper than 64", 4 * QQ_MAX_DEPTH + 1);
    ERR(q, msg);
    free(q);

    q = repeat("title:", QQ_MAX_DEPTH, "a");
    FMT(q, "title:a");
    free(q);
    q = repeat("title:", 10000, "a");
    snprintf(msg, sizeof msg, "column %d: nesting deeper than 64", 6 * QQ_MAX_DEPTH + 1);
    ERR(q, msg);
    free(q);

    /* mixed: the nesting level counts every construct */
    q = repeat("NOT (", 32, "a");
    snprintf(msg, sizeof msg, "column %d: nesting deeper than 64", 5 * 32 + 1);
    {
        char *q2 = malloc(strlen(q) + 8);
        assert_non_null(q2);
        memcpy(q2, q, 5 * 32);
        strcpy(q2 + 5 * 32, "(a");
        ERR(q2, msg);
        free(q2);
    }
    free(q);
}

static void test_length_limit(void **state)
{
    /* exactly QQ_MAX_QUERY bytes: "a a a ... a " */
    char *q = malloc(QQ_MAX_QUERY + 2);
    assert_non_null(q);
    for (size_t i = 0; i < QQ_MAX_QUERY; i++)
        q[i] = (i % 2) ? ' ' : 'a';
    q[QQ_MAX_QUERY] = 0;
    qq_node *n = NULL;
    quarry_error err;
    assert_int_equal(qq_parse(q, QQ_MAX_QUERY, &n, &err), QUARRY_OK);
    assert_int_equal(n->kind, QQ_BOOL);
    assert_int_equal(n->nkids, QQ_MAX_QUERY / 2);
    assert_int_equal(n->kids[QQ_MAX_QUERY / 2 - 1]->column, QQ_MAX_QUERY - 1);
    qq_free(n);

    q[QQ_MAX_QUERY] = 'a';
    q[QQ_MAX_QUERY + 1] = 0;
    n = NULL;
    assert_int_equal(qq_parse(q, QQ_MAX_QUERY + 1, &n, &err), QUARRY_ELIMIT);
    assert_int_equal(err.code, QUARRY_ELIMIT);
    assert_string_equal(err.msg, "the query is 65537 bytes long, more than the limit of 65536 bytes");
    assert_null(n);
    free(q);
}

/* ------------------------------------------------------------- fuzz */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static size_t count_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

/* Checks the invariants of a parsed tree; returns its depth. */
static int check_tree(const qq_node *n, int is_root, size_t nchars)
{
    assert_true(n->occur == QQ_SHOULD || n->occur == QQ_MUST || n->occur == QQ_MUST_NOT);
    if (is_root)
        assert_int_equal(n->occur, QQ_SHOULD);
    assert_true(n->field == QQ_FIELD_ANY || n->field == QQ_FIELD_TITLE);
    assert_true(n->column >= 1 && n->column <= nchars);
    if (n->kind == QQ_BOOL) {
        assert_true(n->nkids >= 1);
        assert_null(n->text);
        int d = 0;
        for (size_t i = 0; i < n->nkids; i++) {
            if (n->field == QQ_FIELD_TITLE)
                assert_int_equal(n->kids[i]->field, QQ_FIELD_TITLE);
            int k = check_tree(n->kids[i], 0, nchars);
            d = k > d ? k : d;
        }
        return d + 1;
    }
    assert_true(n->kind == QQ_WORD || n->kind == QQ_PHRASE);
    assert_non_null(n->text);
    assert_true(n->text[0] != 0);
    assert_int_equal(n->nkids, 0);
    if (n->kind == QQ_WORD) {
        assert_null(strpbrk(n->text, " ()\""));
        assert_true(n->text[0] != '+' && n->text[0] != '-');
    } else {
        assert_null(strchr(n->text, '"'));
    }
    return 1;
}

static void test_fuzz(void **state)
{
    static const char *const alphabet[] = {
        "a", "b", "\"", "(", ")", "+", "-", ":", "AND", "OR", "NOT", "title", " ", "é"
    };
    const size_t nalpha = sizeof alphabet / sizeof alphabet[0];
    char q[512];
    int parsed = 0, errors = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0, ntok = rnd() % 24;
        for (size_t i = 0; i < ntok; i++) {
            const char *s = alphabet[rnd() % nalpha];
            size_t n = strlen(s);
            memcpy(q + len, s, n);
            len += n;
        }
        q[len] = 0;
        size_t nchars = count_chars(q, len);
        quarry_error err = { 0, "" };
        qq_node *n = NULL;
        int rc = qq_parse(q, len, &n, &err);
        if (rc == QUARRY_OK) {
            parsed++;
            assert_non_null(n);
            assert_true(check_tree(n, 1, nchars) <= 2 * QQ_MAX_DEPTH + 2);
            qbuf b;
            qbuf_init(&b);
            assert_int_equal(qq_format(n, &b), QUARRY_OK);
            assert_true(b.len > 0);
            qbuf_free(&b);
            qq_free(n);
        } else {
            errors++;
            if (rc != QUARRY_ESYNTAX || strncmp(err.msg, "column ", 7) != 0) {
                print_error("[%s]: %d %s\n", q, rc, err.msg);
                fail();
            }
            assert_null(n);
            assert_int_equal(err.code, QUARRY_ESYNTAX);
            unsigned long col = strtoul(err.msg + 7, NULL, 10);
            assert_true(col >= 1 && col <= nchars + 1);
        }
    }
    /* the alphabet must exercise both outcomes */
    assert_true(parsed > 1000);
    assert_true(errors > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_lower_case_operators_are_words),
        cmocka_unit_test(test_or),
        cmocka_unit_test(test_and),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_not),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_parentheses),
        cmocka_unit_test(test_phrases),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_tree_shape),
        cmocka_unit_test(test_query_not_nul_terminated),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_not_word_error),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
