/*
 * highlight.c — quarry_highlight: the byte spans of the original words of
 * a text whose analyzed form is one of a search's query terms.
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
    qa_analyzer *an = NULL;
    int rc = r->nterms ? qx_analyzer_get(ix, &an, err) : 0;
    if (rc)
        return rc;
    rc = r->nterms ? qa_analyze(an, text, len, 0, on_hl, &h, NULL) : 0;
    qx_analyzer_put(ix, an);
    if (rc) {
        free(h.v);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    *spans = h.v;
    *nspans = h.n;
    return 0;
}
