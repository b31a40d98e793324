/*
 * collstats.c — collection statistics as JSON Lines, the two ends of a
 * sharded search (quarry.h, "shards searched as one collection"):
 * `quarry stats --terms` prints, per query, the df of its terms and the
 * totals of the indexes opened (cli_cstats_print); `quarry search --stats
 * FILE` reads such lines, summed over the shards, into the table its
 * searches score with (cli_cstats_load). A line:
 *
 *   {"qid":"7","query":"oil \"opec meeting\"","units":100902,"tokens":6811530,
 *    "df":{"oil":3101,"opec":892,"meet":4021}}
 *
 * "units" and "tokens" are N and the total length of the live units; "df"
 * maps each analyzed term the query scores with to its live units. The
 * reader takes any key order, skips other keys, requires "units",
 * "tokens" and "df" on every line, the same totals on every line, and one
 * df per term (a term on several lines must have the same df there).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"

/* ------------------------------------------------------------ writing */

int cli_cstats_print(FILE *f, quarry_index *ix, const char *qid, const char *query, int plain, quarry_error *err)
{
    char **terms = NULL;
    size_t n = 0;
    int rc = quarry_query_terms(ix, query, plain, &terms, &n, err);
    if (rc)
        return rc;
    uint64_t *df = malloc((n ? n : 1) * sizeof *df), units = 0, tokens = 0;
    if (!df) {
        quarry_query_terms_free(terms);
        return cli_failf("out of memory"), QUARRY_ENOMEM;
    }
    rc = quarry_stats_for_terms(ix, (const char *const *)terms, n, df, &units, &tokens, err);
    if (rc == 0) {
        fputs("{\"qid\":", f);
        cli_out_json_string(f, qid, strlen(qid));
        fputs(",\"query\":", f);
        cli_out_json_string(f, query, strlen(query));
        fprintf(f, ",\"units\":%llu,\"tokens\":%llu,\"df\":{", (unsigned long long)units,
                (unsigned long long)tokens);
        for (size_t i = 0; i < n; i++) {
            if (i)
                putc(',', f);
            cli_out_json_string(f, terms[i], strlen(terms[i]));
            fprintf(f, ":%llu", (unsigned long long)df[i]);
        }
        fputs("}}\n", f);
    }
    free(df);
    quarry_query_terms_free(terms);
    return rc;
}

/* ------------------------------------------------------------ reading */

/* One line being parsed; `bad` is set with the first error's column. */
typedef struct jline {
    const char *s, *p, *end;
    const char *what;   /* the first error, NULL when none */
    size_t col;
} jline;

static int jbad(jline *j, const char *what)
{
    if (!j->what) {
        j->what = what;
        j->col = (size_t)(j->p - j->s) + 1;
    }
    return -1;
}

static void ws(jline *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static int lit(jline *j, char c)
{
    ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 0;
    }
    return -1;
}

static int hex4(const char *p, const char *end, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        if (p + i >= end)
            return -1;
        char c = p[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
        if (d > 15)
            return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

/* A JSON string into a new NUL-terminated UTF-8 buffer (out may be NULL:
 * validated and skipped). */
static int jstring(jline *j, char **out)
{
    ws(j);
    if (j->p >= j->end || *j->p != '"')
        return jbad(j, "expected a string");
    j->p++;
    size_t cap = 16, n = 0;
    char *b = out ? malloc(cap) : NULL;
    if (out && !b)
        return jbad(j, "out of memory");
    while (j->p < j->end && *j->p != '"') {
        char tmp[4];
        size_t tl = 1;
        unsigned char c = (unsigned char)*j->p;
        if (c < 0x20) {
            free(b);
            return jbad(j, "a control character in a string");
        }
        if (c != '\\') {
            tmp[0] = (char)c;
            j->p++;
        } else {
            if (j->p + 1 >= j->end) {
                free(b);
                return jbad(j, "an unfinished escape");
            }
            char e = j->p[1];
            j->p += 2;
            char simple = e == '"' || e == '\\' || e == '/' ? e : e == 'b' ? '\b' : e == 'f' ? '\f'
                        : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : 0;
            if (simple)
                tmp[0] = simple;
            else if (e == 'u') {
                unsigned cp, lo;
                if (hex4(j->p, j->end, &cp)) {
                    free(b);
                    return jbad(j, "a bad \\u escape");
                }
                j->p += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && j->p + 1 < j->end && j->p[0] == '\\' && j->p[1] == 'u' &&
                    hex4(j->p + 2, j->end, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    j->p += 6;
                } else if (cp >= 0xD800 && cp < 0xE000)
                    cp = 0xFFFD;
                if (cp < 0x80)
                    tmp[0] = (char)cp;
                else if (cp < 0x800) {
                    tmp[0] = (char)(0xC0 | cp >> 6);
                    tmp[1] = (char)(0x80 | (cp & 0x3F));
                    tl = 2;
                } else if (cp < 0x10000) {
                    tmp[0] = (char)(0xE0 | cp >> 12);
                    tmp[1] = (char)(0x80 | (cp >> 6 & 0x3F));
                    tmp[2] = (char)(0x80 | (cp & 0x3F));
                    tl = 3;
                } else {
                    tmp[0] = (char)(0xF0 | cp >> 18);
                    tmp[1] = (char)(0x80 | (cp >> 12 & 0x3F));
                    tmp[2] = (char)(0x80 | (cp >> 6 & 0x3F));
                    tmp[3] = (char)(0x80 | (cp & 0x3F));
                    tl = 4;
                }
            } else {
                free(b);
                return jbad(j, "an unknown escape");
            }
        }
        if (!out)
            continue;
        if (n + tl + 1 > cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                return jbad(j, "out of memory");
            }
            b = nb;
        }
        memcpy(b + n, tmp, tl);
        n += tl;
    }
    if (j->p >= j->end) {
        free(b);
        return jbad(j, "an unterminated string");
    }
    j->p++;
    if (out) {
        b[n] = 0;
        *out = b;
    }
    return 0;
}

/* A whole number 0 .. 2^63. */
static int juint(jline *j, uint64_t *v)
{
    ws(j);
    const char *start = j->p;
    uint64_t x = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        if (x > (UINT64_MAX / 2 - 9) / 10)
            return jbad(j, "a number too large");
        x = x * 10 + (uint64_t)(*j->p++ - '0');
    }
    if (j->p == start || (j->p - start > 1 && *start == '0') ||
        (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E')))
        return j->p = start, jbad(j, "expected a whole number");
    *v = x;
    return 0;
}

/* Skips any JSON value (other keys). */
static int jskip(jline *j, int depth)
{
    ws(j);
    if (depth > 64)
        return jbad(j, "nested too deeply");
    if (j->p >= j->end)
        return jbad(j, "expected a value");
    char c = *j->p;
    if (c == '"')
        return jstring(j, NULL);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (lit(j, close) == 0)
            return 0;
        for (;;) {
            if (c == '{' && (jstring(j, NULL) || (lit(j, ':') && jbad(j, "expected ':'"))))
                return -1;
            if (jskip(j, depth + 1))
                return -1;
            if (lit(j, ',') == 0)
                continue;
            if (lit(j, close) == 0)
                return 0;
            return jbad(j, "expected ',' or the end of the object or array");
        }
    }
    const char *start = j->p;
    while (j->p < j->end && strchr("+-.0123456789eEtruefalsn", *j->p))
        j->p++;
    size_t l = (size_t)(j->p - start);
    if (l == 0 || (isalpha((unsigned char)*start) && !(l == 4 && !memcmp(start, "true", 4)) &&
                   !(l == 5 && !memcmp(start, "false", 5)) && !(l == 4 && !memcmp(start, "null", 4))))
        return j->p = start, jbad(j, "expected a value");
    return 0;
}

typedef struct centry {
    char *term;
    uint64_t df;
    unsigned long line;
} centry;

typedef struct ctable {
    centry *v;
    size_t n, cap;
} ctable;

static int cmp_centry(const void *a, const void *b)
{
    const centry *x = a, *y = b;
    int c = strcmp(x->term, y->term);
    return c ? c : x->line < y->line ? -1 : x->line > y->line;
}

/* Parses one line into its totals and its terms (appended to t). */
static int parse_line(jline *j, uint64_t *units, uint64_t *tokens, ctable *t, unsigned long lineno)
{
    int have_units = 0, have_tokens = 0, have_df = 0;
    if (lit(j, '{'))
        return jbad(j, "expected '{'");
    if (lit(j, '}') == 0)
        return jbad(j, "\"units\", \"tokens\" and \"df\" are required");
    for (;;) {
        char *key = NULL;
        if (jstring(j, &key))
            return -1;
        if (lit(j, ':')) {
            free(key);
            return jbad(j, "expected ':'");
        }
        int rc;
        if (strcmp(key, "units") == 0)
            rc = juint(j, units), have_units = 1;
        else if (strcmp(key, "tokens") == 0)
            rc = juint(j, tokens), have_tokens = 1;
        else if (strcmp(key, "df") == 0) {
            have_df = 1;
            rc = lit(j, '{') ? jbad(j, "\"df\" must be an object of term: df") : 0;
            if (rc == 0 && lit(j, '}'))
                for (;;) {
                    char *term = NULL;
                    uint64_t df;
                    if ((rc = jstring(j, &term)))
                        break;
                    if ((rc = lit(j, ':') ? jbad(j, "expected ':'") : 0) || (rc = juint(j, &df)) ||
                        (!*term && (rc = jbad(j, "an empty term")))) {
                        free(term);
                        break;
                    }
                    if (t->n == t->cap) {
                        size_t nc = t->cap ? t->cap * 2 : 256;
                        centry *nv = realloc(t->v, nc * sizeof *nv);
                        if (!nv) {
                            free(term);
                            rc = jbad(j, "out of memory");
                            break;
                        }
                        t->v = nv;
                        t->cap = nc;
                    }
                    t->v[t->n++] = (centry){ term, df, lineno };
                    if (lit(j, ',') == 0)
                        continue;
                    if (lit(j, '}') == 0)
                        break;
                    rc = jbad(j, "expected ',' or '}' in \"df\"");
                    break;
                }
        } else
            rc = jskip(j, 1);
        free(key);
        if (rc)
            return -1;
        if (lit(j, ',') == 0)
            continue;
        if (lit(j, '}') == 0)
            break;
        return jbad(j, "expected ',' or '}'");
    }
    ws(j);
    if (j->p < j->end)
        return jbad(j, "something after the object");
    if (!have_units || !have_tokens || !have_df)
        return jbad(j, !have_units ? "\"units\" is missing" : !have_tokens ? "\"tokens\" is missing"
                                                                           : "\"df\" is missing");
    return 0;
}

int cli_cstats_load(const char *path, quarry_stats **out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    const char *name = f == stdin ? "stdin" : path;
    if (!f)
        return cli_failf("cannot open the statistics file %s: %s", path, strerror(errno));
    ctable t = { 0 };
    char *line = NULL;
    size_t lcap = 0;
    unsigned long lineno = 0, first = 0;
    uint64_t units = 0, tokens = 0;
    int status = 0;
    ssize_t got;
    errno = 0;
    while (!status && (got = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        jline j = { line, line, line + got, NULL, 0 };
        ws(&j);
        if (j.p == j.end)
            continue;
        uint64_t u = 0, k = 0;
        if (parse_line(&j, &u, &k, &t, lineno)) {
            status = cli_failf("%s:%lu: column %zu: %s (expected a line of quarry stats --terms)", name, lineno,
                               j.col, j.what);
            break;
        }
        if (!first) {
            first = lineno;
            units = u;
            tokens = k;
        } else if (u != units || k != tokens)
            status = cli_failf("%s:%lu: %llu units and %llu tokens, but line %lu says %llu and %llu: the lines "
                               "must describe one collection", name, lineno, (unsigned long long)u,
                               (unsigned long long)k, first, (unsigned long long)units, (unsigned long long)tokens);
    }
    if (!status && ferror(f))
        status = cli_failf("cannot read the statistics file %s: %s", name, strerror(errno));
    if (!status && !first)
        status = cli_failf("%s: no statistics (expected lines of quarry stats --terms)", name);
    free(line);
    if (f != stdin)
        fclose(f);
    /* one df per term */
    const char **terms = NULL;
    uint64_t *df = NULL;
    size_t n = 0;
    if (!status) {
        qsort(t.v, t.n, sizeof *t.v, cmp_centry);
        terms = malloc((t.n ? t.n : 1) * sizeof *terms);
        df = malloc((t.n ? t.n : 1) * sizeof *df);
        if (!terms || !df)
            status = cli_failf("out of memory reading %s", name);
        for (size_t i = 0; !status && i < t.n; i++) {
            if (n && strcmp(terms[n - 1], t.v[i].term) == 0) {
                if (df[n - 1] != t.v[i].df)
                    status = cli_failf("%s:%lu: the df of \"%s\" is %llu, but line %lu says %llu", name, t.v[i].line,
                                       t.v[i].term, (unsigned long long)t.v[i].df, t.v[i - 1].line,
                                       (unsigned long long)df[n - 1]);
                continue;
            }
            terms[n] = t.v[i].term;
            df[n++] = t.v[i].df;
        }
    }
    if (!status) {
        quarry_error err = { 0 };
        if (quarry_stats_new(units, tokens, terms, df, n, out, &err))
            status = cli_failf("%s: %s", name, err.msg);
    }
    for (size_t i = 0; i < t.n; i++)
        free(t.v[i].term);
    free(t.v);
    free(terms);
    free(df);
    return status;
}
