/*
 * batch.h — a batch of analyzed articles: the hand-off between the
 * producer side of indexing (read, split into passages, analyze) and the
 * consumer side (ids, inverter, unit/article/text streams). Batches let the
 * two sides run on two threads (writer.c) with bounded memory.
 */
#ifndef QUARRY_BATCH_H
#define QUARRY_BATCH_H

#include <stdint.h>

#include "analyze/analyze.h"
#include "base/base.h"
#include "index/format.h"
#include "passage/passage.h"

typedef struct qb_tok {
    uint32_t off, len;   /* term bytes in batch->terms */
    uint32_t pos;
    uint32_t id;         /* consumer scratch: the inverter's term id */
} qb_tok;

typedef struct qb_doc {
    uint64_t id, title, date, text;       /* offsets in batch->bytes */
    uint32_t id_len, title_len, date_len;
    uint64_t text_len;
    const char *file;                     /* borrowed (the reader keeps its paths) */
    uint64_t line;
    size_t sp0, nsp;                      /* passages: batch->spans[sp0 .. sp0 + nsp) */
    size_t tok0;                          /* tokens: batch->toks[tok0 ...], title first */
    uint32_t ntitle;
    size_t st0;                           /* batch->starts[st0 .. st0 + nsp]: passage i's first token */
    uint32_t body_pos;
    int empty;                            /* no token: to be counted and skipped (id still checked) */
} qb_doc;

typedef struct qb_batch {
    qbuf bytes, terms;
    qb_doc *docs;
    size_t ndocs, cap_docs;
    qp_span *spans;
    size_t nspans, cap_spans;
    qb_tok *toks;
    size_t ntoks, cap_toks;
    size_t *starts;
    size_t nstarts, cap_starts;
    qp_spans split;                       /* scratch of the splitter */
    uint64_t invalid_utf8, bytes_in, bytes_done;
    int end;                              /* producer: no more input after this batch */
    int rc;                               /* producer: error code (err holds the message) */
    quarry_error err;
} qb_batch;


void qb_reset(qb_batch *b);
void qb_free(qb_batch *b);

/* Splits, analyzes and appends one article (strings must be valid UTF-8).
 * An article without any token is appended with `empty` set and only its id.
 * Returns 0 or a quarry_code with `err` naming `file`:`line`. */
int qb_add(qb_batch *b, qa_analyzer *an, unsigned passage_target, const char *id, size_t id_len,
           const char *title, size_t title_len, const char *text, size_t text_len, const char *date,
           size_t date_len, const char *file, uint64_t line, quarry_error *err);

/* A rough count of the memory a batch holds (to bound batches). */
size_t qb_bytes(const qb_batch *b);

#endif
