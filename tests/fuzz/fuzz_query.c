/*
 * fuzz_query.c — fuzz harness of the query surfaces: the query language
 * parser (qq_parse, qq_format; src/query/parse.c) on the input in a buffer
 * of exactly its size, and quarry_search (src/query/engine.c, expand.c) on
 * a small index of corpus/ built once into a temporary directory: the
 * query language and plain modes, passage and article hits, exhaustive,
 * k 5, and plain queries with expansion. A search either succeeds with
 * results that check out (fuzz_check_results, highlighting included) or
 * fails with QUARRY_ESYNTAX, QUARRY_ENOTERMS or QUARRY_ELIMIT and a message.
 */
#include <string.h>

#include "fuzz.h"
#include "quarry.h"
#include "query/parse.h"

static char query_dir[256];
static quarry_index *query_ix;

static void query_cleanup(void)
{
    quarry_close(query_ix);
    query_ix = NULL;
    if (query_dir[0])
        fuzz_rmdir(query_dir);
    query_dir[0] = 0;
}

static void query_init(void)
{
    if (query_ix)
        return;
    fuzz_mkdtemp(query_dir, sizeof query_dir, "query");
    fuzz_build_index(query_dir, 40, 0);
    quarry_error err;
    int rc = quarry_open(query_dir, &query_ix, &err);
    FUZZ_CHECK(rc == 0, "quarry_open %s: %s", query_dir, err.msg);
    atexit(query_cleanup);
}

static void query_search(const char *q, int plain, int expand, int passages)
{
    quarry_search_options o;
    quarry_search_options_init(&o);
    o.k = 5;
    o.algorithm = QUARRY_ALGO_EXHAUSTIVE;
    o.plain = plain;
    o.expand = expand;
    o.passages = passages;
    quarry_results *r = NULL;
    quarry_error err;
    memset(&err, 0, sizeof err);
    int rc = quarry_search(query_ix, q, &o, &r, &err);
    if (rc == 0) {
        FUZZ_CHECK(r != NULL, "no results");
        fuzz_check_results(query_ix, r, o.k, passages, 1, 1);
        /* the query itself as a text to highlight: any bytes */
        quarry_span *sp;
        size_t nsp, len = strlen(q);
        if (quarry_highlight(query_ix, r, q, len, &sp, &nsp, &err) == 0) {
            for (size_t j = 0; j < nsp; j++)
                FUZZ_CHECK(sp[j].start < sp[j].end && sp[j].end <= len, "span [%u, %u) in %zu bytes",
                           sp[j].start, sp[j].end, len);
            free(sp);
        }
        quarry_results_free(r);
        return;
    }
    FUZZ_CHECK(rc == QUARRY_ESYNTAX || rc == QUARRY_ENOTERMS || rc == QUARRY_ELIMIT,
               "quarry_search (plain %d, expand %d) returned %d: %s", plain, expand, rc, err.msg);
    fuzz_check_error(rc, &err, "quarry_search");
    FUZZ_CHECK(rc != QUARRY_ESYNTAX || strncmp(err.msg, "column ", 7) == 0, "syntax error without a column: %s",
               err.msg);
}

int fuzz_query(const uint8_t *data, size_t size)
{
    query_init();
    /* the parser, on exactly `size` bytes */
    char *q = malloc(size ? size : 1);
    if (!q)
        return 0;
    if (size)
        memcpy(q, data, size);
    qq_node *n = NULL;
    quarry_error err;
    memset(&err, 0, sizeof err);
    int rc = qq_parse(q, size, &n, &err);
    if (rc == 0) {
        FUZZ_CHECK(n != NULL, "qq_parse gave no tree");
        qbuf f;
        qbuf_init(&f);
        rc = qq_format(n, &f);
        FUZZ_CHECK(rc == 0 || f.oom, "qq_format returned %d", rc);
        FUZZ_CHECK(f.oom || f.len > 0, "qq_format wrote nothing");
        qbuf_free(&f);
        qq_free(n);
    } else {
        FUZZ_CHECK(rc == QUARRY_ESYNTAX || rc == QUARRY_ELIMIT || rc == QUARRY_ENOMEM, "qq_parse returned %d: %s",
                   rc, err.msg);
        fuzz_check_error(rc, &err, "qq_parse");
    }
    free(q);

    /* the search, on the input as a C string (up to its first NUL) */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    if (size)
        memcpy(s, data, size);
    s[size] = 0;
    for (int plain = 0; plain < 2; plain++)
        for (int passages = 0; passages < 2; passages++)
            query_search(s, plain, 0, passages);
    query_search(s, 1, 1, 0);
    free(s);
    return 0;
}
