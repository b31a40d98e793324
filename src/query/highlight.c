/*
 * highlight.c — the public helpers built on the index's analyzer:
 * quarry_highlight (spans of the original words that match the query's
 * analyzed terms), quarry_analyze, and quarry_dump_term (decoding one
 * term's postings for debugging).
 */
#include <stdlib.h>

#include "index/reader.h"

typedef struct hl {
    const quarry_results *r;
    quarry_span *v;
    size_t n, cap;
} hl;

static int on_hl(void *ctx, const qa_token *t)
{
    hl *h = ctx;
    for (size_t i = 0; i < h->r->nterms; i++) {
        const char *q = h->r->terms[i];
        if (strlen(q) == t->len && memcmp(q, t->term, t->len) == 0) {
            if (qgrow((void **)&h->v, &h->cap, h->n, sizeof *h->v))
                return QUARRY_ENOMEM;
            h->v[h->n].start = t->start;
            h->v[h->n].end = t->end;
            h->n++;
            break;
        }
    }
    return 0;
}

int quarry_highlight(quarry_index *ix, const quarry_results *r, const char *text, size_t len,
                     quarry_span **spans, size_t *nspans, quarry_error *err)
{
    hl h = { r, NULL, 0, 0 };
    int rc = r->nterms ? qa_analyze(ix->an, text, len, 0, on_hl, &h, NULL) : 0;
    if (rc) {
        free(h.v);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    *spans = h.v;
    *nspans = h.n;
    return 0;
}

typedef struct an_ctx {
    quarry_term_fn fn;
    void *ctx;
} an_ctx;

static int on_an(void *ctx, const qa_token *t)
{
    an_ctx *a = ctx;
    return a->fn(a->ctx, t->term, t->len, t->pos, t->start, t->end);
}

int quarry_analyze(quarry_index *ix, const char *text, size_t len, quarry_term_fn fn, void *ctx,
                   quarry_error *err)
{
    an_ctx a = { fn, ctx };
    int rc = qa_analyze(ix->an, text, len, 0, on_an, &a, NULL);
    if (rc)
        return qerr_set(err, rc, "analysis stopped by the callback (%d)", rc);
    return 0;
}

int quarry_dump_term(quarry_index *ix, const char *term, uint64_t *df, uint64_t *cf,
                     quarry_posting_fn fn, void *ctx, quarry_error *err)
{
    qx_term t;
    int found = qx_lookup(ix, term, strlen(term), &t, err);
    if (found < 0)
        return -found;
    if (!found)
        return qerr_set(err, QUARRY_ENOTFOUND, "term \"%s\" is not in the index (terms are analyzed: try 'quarry dump --analyze WORD')", term);
    *df = t.df;
    *cf = t.cf;
    if (!fn)
        return 0;
    qx_cursor c;
    if (qx_cursor_open(&c, ix, &t)) {
        qx_cursor_close(&c);
        return qerr_corrupt(err, ix->dir, t.post_off, "damaged postings");
    }
    int rc = 0;
    for (uint32_t d = c.doc; d != QX_END; d = qx_next(&c)) {
        const uint32_t *p = qx_positions(&c);
        if (!p)
            break;
        if ((rc = fn(ctx, d, qx_tf(&c), p)))
            break;
    }
    if (c.corrupt)
        rc = qerr_corrupt(err, ix->dir, t.post_off, "damaged postings");
    qx_cursor_close(&c);
    return rc;
}
