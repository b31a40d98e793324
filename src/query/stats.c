/*
 * stats.c — collection statistics from outside, as Elasticsearch's
 * dfs_query_then_fetch uses them. A shard reports what BM25 needs of it
 * (quarry_query_terms: the terms a query scores with; quarry_stats_for_terms:
 * their df and the shard's totals); the sums over every shard make a table
 * (quarry_stats_new) that a search of any one shard scores with
 * (quarry_search_options.stats, looked up by tree.c through qst_df), so
 * that every shard scores as one index of all their documents would.
 */
#include <stdlib.h>

#include "base/sys.h"
#include "index/reader.h"
#include "query/parse.h"
#include "query/stats.h"
#include "query/tree.h"

/* ------------------------------------------------------------ the table */

static int cmp_bytes(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : la < lb ? -1 : la > lb;
}

static int cmp_entry(const void *a, const void *b)
{
    const qst_entry *x = a, *y = b;
    return cmp_bytes(x->term, x->len, y->term, y->len);
}

int quarry_stats_new(uint64_t units, uint64_t tokens, const char *const *terms, const uint64_t *df, size_t n,
                     quarry_stats **out, quarry_error *err)
{
    if (!out || (n && (!terms || !df)))
        return qerr_set(err, QUARRY_EINVAL, "quarry_stats_new: out, and terms and df when n > 0, are required");
    size_t bytes = 1;
    for (size_t i = 0; i < n; i++) {
        if (!terms[i] || !*terms[i])
            return qerr_set(err, QUARRY_EINVAL, "statistics: term %zu is empty", i + 1);
        if (df[i] > units)
            return qerr_set(err, QUARRY_EINVAL, "statistics: the df of \"%.200s\" (%llu) is more than the units "
                            "of the collection (%llu)", terms[i], (unsigned long long)df[i],
                            (unsigned long long)units);
        bytes += strlen(terms[i]) + 1;
    }
    quarry_stats *st = qcalloc(1, sizeof *st);
    if (st) {
        st->e = qcalloc(n ? n : 1, sizeof *st->e);
        st->buf = qmalloc(bytes);
    }
    if (!st || !st->e || !st->buf) {
        quarry_stats_free(st);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    st->units = units;
    st->tokens = tokens;
    st->n = n;
    char *p = st->buf;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(terms[i]);
        memcpy(p, terms[i], l + 1);
        st->e[i] = (qst_entry){ p, l, df[i] };
        p += l + 1;
    }
    qsort(st->e, n, sizeof *st->e, cmp_entry);
    for (size_t i = 1; i < n; i++)
        if (cmp_entry(&st->e[i - 1], &st->e[i]) == 0) {
            qerr_set(err, QUARRY_EINVAL, "statistics: the term \"%.200s\" is given twice", st->e[i].term);
            quarry_stats_free(st);
            return QUARRY_EINVAL;
        }
    *out = st;
    return 0;
}

void quarry_stats_free(quarry_stats *st)
{
    if (!st)
        return;
    free(st->e);
    free(st->buf);
    free(st);
}

int qst_df(const quarry_stats *st, const char *s, size_t len, uint64_t *df)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_bytes(s, len, st->e[mid].term, st->e[mid].len);
        if (c == 0) {
            *df = st->e[mid].df;
            return 1;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

/* ------------------------------------------------------------ what a shard reports */

int quarry_query_terms(quarry_index *ix, const char *query, int plain, char ***terms, size_t *n, quarry_error *err)
{
    if (!ix || !query || !terms || !n)
        return qerr_set(err, QUARRY_EINVAL, "quarry_query_terms: index, query, terms and n are required");
    qq_node *q;
    size_t qlen = strlen(query);
    int rc = plain ? qq_parse_plain(query, qlen, &q, err) : qq_parse(query, qlen, &q, err);
    if (rc)
        return rc;
    qa_analyzer *an = NULL;
    if ((rc = qx_analyzer_get(ix, &an, err))) {
        qq_free(q);
        return rc;
    }
    qbuf b;
    qbuf_init(&b);
    size_t nt = 0;
    rc = qt_terms(an, q, &b, &nt);
    qx_analyzer_put(ix, an);
    qq_free(q);
    char **v = rc ? NULL : qcalloc(nt + 1, sizeof *v);
    char *s = rc || !v ? NULL : qmalloc(b.len + 1);
    if (rc || !v || !s) {
        free(v);
        qbuf_free(&b);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    if (b.len)
        memcpy(s, b.p, b.len);
    s[b.len] = 0;
    qbuf_free(&b);
    for (size_t i = 0, off = 0; i < nt; i++) {
        v[i] = s + off;
        off += strlen(s + off) + 1;
    }
    v[nt] = NULL;
    if (nt == 0)
        free(s);
    *terms = v;
    *n = nt;
    return 0;
}

void quarry_query_terms_free(char **terms)
{
    if (!terms)
        return;
    free(terms[0]);   /* one allocation holds every term (NULL when none) */
    free(terms);
}

int quarry_stats_for_terms(quarry_index *ix, const char *const *terms, size_t n, uint64_t *df, uint64_t *units,
                           uint64_t *tokens, quarry_error *err)
{
    if (!ix || (n && (!terms || !df)))
        return qerr_set(err, QUARRY_EINVAL, "quarry_stats_for_terms: index, and terms and df when n > 0, are required");
    uint64_t *v = qcalloc(n ? n : 1, sizeof *v);
    if (!v)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!terms[i]) {
            free(v);
            return qerr_set(err, QUARRY_EINVAL, "quarry_stats_for_terms: term %zu is NULL", i + 1);
        }
        size_t len = strlen(terms[i]);
        for (size_t s = 0; s < ix->nseg; s++) {   /* as tree.c counts a query term's df */
            qx_term t;
            int found = qx_lookup(&ix->seg[s], terms[i], len, &t, err);
            int64_t del = found > 0 ? qx_del_df(&ix->seg[s], terms[i], len, t.df, err) : 0;
            if (found < 0 || del < 0) {
                free(v);
                return QUARRY_ECORRUPT;
            }
            if (found)
                v[i] += t.df - (uint64_t)del;
        }
    }
    if (n)
        memcpy(df, v, n * sizeof *v);
    free(v);
    if (units)
        *units = ix->live_units;
    if (tokens)
        *tokens = ix->live_tokens;
    return 0;
}
