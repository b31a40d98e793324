/*
 * inspect.c — looking inside an open index for people and tests:
 * quarry_analyze (the index's analyzer on any text) and quarry_dump_term
 * (one term's postings with positions, over every segment).
 */
#include <stdlib.h>
#include <string.h>

#include "index/reader.h"

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
    qa_analyzer *an;
    int rc = qx_analyzer_get(ix, &an, err);
    if (rc)
        return rc;
    rc = qa_analyze(an, text, len, 0, on_an, &a, NULL);
    qx_analyzer_put(ix, an);
    if (rc)
        return qerr_set(err, rc, "analysis stopped by the callback (%d)", rc);
    return 0;
}

int quarry_dump_term(quarry_index *ix, const char *term, uint64_t *df, uint64_t *cf,
                     quarry_posting_fn fn, void *ctx, quarry_error *err)
{
    uint64_t tdf = 0, tcf = 0;
    int rc = 0, any = 0;
    char pair[QA_MAX_PAIR + 1];
    const char *sp = strchr(term, QA_PAIR_SEP);
    if (sp && term[0] != QA_PAIR_MARK && !strchr(sp + 1, QA_PAIR_SEP)) {   /* "a b": their pair term */
        size_t n = qa_pair_term(pair, term, (size_t)(sp - term), sp + 1, strlen(sp + 1));
        if (!n)
            return qerr_set(err, QUARRY_ENOTFOUND, "no pair term of two words that long");
        pair[n] = 0;
        term = pair;
    }
    for (size_t si = 0; si < ix->nseg && !rc; si++) {
        const qx_seg *s = &ix->seg[si];
        qx_term t;
        int found = qx_lookup(s, term, strlen(term), &t, err);
        if (found < 0)
            return -found;
        if (!found)
            continue;
        any = 1;
        tdf += t.df;
        tcf += t.cf;
        if (!fn)
            continue;
        qx_cursor c;
        if (qx_cursor_open(&c, s, &t)) {
            qx_cursor_close(&c);
            return qx_bad(s, &s->post, t.post_off, "damaged postings", err);
        }
        for (uint32_t d = c.doc; d != QX_END; d = qx_next(&c)) {
            const uint32_t *p = qx_positions(&c);
            if (!p) {
                if (!c.corrupt)
                    rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
                break;
            }
            if ((rc = fn(ctx, s->unit_base + d, qx_tf(&c), p)))
                break;
        }
        if (c.corrupt)
            rc = qx_bad(s, &s->post, t.post_off, "damaged postings", err);
        qx_cursor_close(&c);
    }
    if (!any && !rc)
        return qerr_set(err, QUARRY_ENOTFOUND, "term \"%s\" is not in the index (terms are analyzed: try 'quarry dump --analyze WORD')", term);
    if (!rc) {
        *df = tdf;
        *cf = tcf;
    }
    return rc;
}
