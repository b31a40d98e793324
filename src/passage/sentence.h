/*
 * sentence.h — private to libquarry: the sentence-end test shared by the
 * passage splitter (split.c) and the plain-text title rule (read/txt.c), so
 * both cut sentences the same way.
 */
#ifndef QUARRY_PASSAGE_SENTENCE_H
#define QUARRY_PASSAGE_SENTENCE_H

#include <stddef.h>

/* When text[i] is a '.', '!' or '?' that ends a sentence, returns the offset
 * of the next sentence's first byte (or len when only closing quotes,
 * brackets and whitespace follow), else 0. A sentence end is the mark, then
 * optional closing quotes/brackets (" ' ) ] and U+201D U+2019 U+00BB), then
 * whitespace. A '.' ending a known abbreviation ("Mr.", "Inc.", "Feb."), an
 * initial ("J.") or a dotted abbreviation ("U.S.", "e.g.") ends no sentence.
 * *strong is set to 1 when the next sentence starts like one (an ASCII
 * capital, a digit, a quote or bracket, or a non-ASCII character), 0 when it
 * starts with anything else (a lower-case letter, "--"). */
size_t qp_sentence_end(const char *text, size_t len, size_t i, int *strong);

#endif
