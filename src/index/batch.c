/*
 * batch.c — the producer side of indexing: an article is split into
 * passages and its title and passages analyzed into a batch (batch.h).
 */
#include "index/batch.h"

#include <stdio.h>
#include <stdlib.h>

void qb_reset(qb_batch *b)
{
    qbuf_reset(&b->bytes);
    qbuf_reset(&b->terms);
    b->ndocs = b->nspans = b->ntoks = b->nstarts = 0;
    b->invalid_utf8 = b->bytes_in = b->bytes_done = 0;
    b->end = 0;
    b->rc = 0;
}

void qb_free(qb_batch *b)
{
    qbuf_free(&b->bytes);
    qbuf_free(&b->terms);
    free(b->docs);
    free(b->spans);
    free(b->toks);
    free(b->starts);
    qp_spans_free(&b->split);
    memset(b, 0, sizeof *b);
}

size_t qb_bytes(const qb_batch *b)
{
    return b->bytes.len + b->terms.len + b->ntoks * sizeof(qb_tok) + b->nspans * sizeof(qp_span);
}

static int on_token(void *ctx, const qa_token *t)
{
    qb_batch *b = ctx;
    if (qgrow((void **)&b->toks, &b->cap_toks, b->ntoks, sizeof *b->toks))
        return QUARRY_ENOMEM;
    qb_tok *k = &b->toks[b->ntoks++];
    k->off = (uint32_t)b->terms.len;
    k->len = t->len;
    k->pos = t->pos;
    k->id = 0;
    if (qbuf_append(&b->terms, t->term, t->len))
        return QUARRY_ENOMEM;
    return 0;
}

int qb_add(qb_batch *b, qa_analyzer *an, unsigned passage_target, const char *id, size_t id_len,
           const char *title, size_t title_len, const char *text, size_t text_len, const char *date,
           size_t date_len, const char *file, uint64_t line, quarry_error *err)
{
    char where[4200];
    if (id_len == 0 || id_len > 1024 || text_len > UINT32_MAX / 2 || b->terms.len > UINT32_MAX / 2) {
        qerr_where(where, sizeof where, file, line);
        if (id_len == 0)
            return qerr_set(err, QUARRY_EINPUT, "%s: empty id", where);
        if (id_len > 1024)
            return qerr_set(err, QUARRY_ELIMIT, "%s: id longer than 1024 bytes", where);
        return qerr_set(err, QUARRY_ELIMIT, "%s: document too large", where);
    }
    b->bytes_in += text_len + title_len;
    size_t tok0 = b->ntoks, terms0 = b->terms.len;
    uint32_t body_pos = 0;
    if (qa_analyze(an, title, title_len, 0, on_token, b, &body_pos))
        goto oom;
    uint32_t ntitle = (uint32_t)(b->ntoks - tok0);
    body_pos = ntitle ? body_pos + QF_TITLE_GAP : 0;
    if (qp_split(text, text_len, passage_target, &b->split))
        goto oom;
    size_t nsp = b->split.n, st0 = b->nstarts, sp0 = b->nspans;
    for (size_t i = 0; i < nsp; i++) {
        if (qgrow((void **)&b->starts, &b->cap_starts, b->nstarts, sizeof *b->starts) ||
            qgrow((void **)&b->spans, &b->cap_spans, b->nspans, sizeof *b->spans))
            goto oom;
        b->starts[b->nstarts++] = b->ntoks - tok0;
        const qp_span *s = &b->split.v[i];
        b->spans[b->nspans++] = *s;
        if (qa_analyze(an, text + s->start, s->end - s->start, body_pos, on_token, b, NULL))
            goto oom;
    }
    if (qgrow((void **)&b->starts, &b->cap_starts, b->nstarts, sizeof *b->starts))
        goto oom;
    b->starts[b->nstarts++] = b->ntoks - tok0;
    if (b->terms.oom)
        goto oom;
    int empty = b->ntoks == tok0;
    if (empty) {   /* no token at all: only its id is kept (duplicates are still caught) */
        b->ntoks = tok0;
        b->terms.len = terms0;
        b->nstarts = st0;
        b->nspans = sp0;
        nsp = 0;
        title_len = date_len = text_len = 0;
    }
    if (qgrow((void **)&b->docs, &b->cap_docs, b->ndocs, sizeof *b->docs))
        goto oom;
    qb_doc *d = &b->docs[b->ndocs++];
    d->id = b->bytes.len;
    qbuf_append(&b->bytes, id, id_len);
    d->title = b->bytes.len;
    qbuf_append(&b->bytes, title, title_len);
    d->date = b->bytes.len;
    qbuf_append(&b->bytes, date, date_len);
    d->text = b->bytes.len;
    qbuf_append(&b->bytes, text, text_len);
    if (b->bytes.oom)
        goto oom;
    d->id_len = (uint32_t)id_len;
    d->title_len = (uint32_t)title_len;
    d->date_len = (uint32_t)date_len;
    d->text_len = text_len;
    d->file = file;
    d->line = line;
    d->sp0 = sp0;
    d->nsp = nsp;
    d->tok0 = tok0;
    d->ntitle = ntitle;
    d->st0 = st0;
    d->body_pos = body_pos;
    d->empty = empty;
    return 0;
oom:
    return qerr_set(err, QUARRY_ENOMEM, "out of memory");
}
