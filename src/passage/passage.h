/*
 * passage.h — splits an article's text into passages (DESIGN §2).
 *
 * Paragraphs are separated by blank lines, or, in hard-wrapped text such as
 * Reuters-21578, by a line that starts with indentation (single newlines
 * inside a paragraph are line wraps). A paragraph longer than about 1.5x the
 * target is split near the target at a sentence end; a paragraph shorter than
 * a quarter of the target is joined to the next one (the last short one to
 * the previous). Lengths are counted in words (runs of letters/digits).
 *
 * The spans cover the text contiguously and in order: span[0].start == 0,
 * span[i].end == span[i+1].start, span[n-1].end == len, so the article is
 * the concatenation of its passages. An empty text gives one empty span.
 */
#ifndef QUARRY_PASSAGE_H
#define QUARRY_PASSAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct qp_span {
    uint32_t start, end;
} qp_span;

typedef struct qp_spans {
    qp_span *v;
    size_t n, cap;
} qp_spans;

/* Splits text into passages of about `target` words; target == 0 gives the
 * whole text as one span. Reuses `out`'s storage. Returns 0 or -1 (no memory). */
int qp_split(const char *text, size_t len, unsigned target, qp_spans *out);
void qp_spans_free(qp_spans *s);

#endif
