/*
 * parse.h — the query language parser: turns a query string into a tree of
 * raw (not yet analyzed) words and phrases combined by boolean clauses.
 * Analysis happens later, in the engine, with the index's analyzer.
 *
 * Grammar (operators are upper case; lower-case and/or/not are words):
 *
 *   query    := or_expr EOF
 *   or_expr  := and_expr ( ["OR"] and_expr )*        juxtaposition = OR
 *   and_expr := unary ( "AND" unary )*
 *   unary    := "NOT" unary | "+" primary | "-" primary | primary
 *   primary  := "(" or_expr ")" | FIELD ":" primary | '"' text '"' | WORD
 *   FIELD    := "title"
 *
 * Tree: every or_expr / and_expr with more than one clause becomes a
 * QQ_BOOL node. In an OR group, plain clauses are SHOULD, "+x" MUST, "-x"
 * and "NOT x" MUST_NOT. In an AND group every clause is MUST except
 * "NOT x" / "-x" which are MUST_NOT. A single clause is returned as itself
 * (a lone "+x" / "-x" / "NOT x" still gets a one-clause QQ_BOOL).
 *
 * Matching of QQ_BOOL: every MUST clause matches and no MUST_NOT clause
 * matches, and, when there is no MUST clause, at least one SHOULD clause
 * matches. Score: the sum of the scores of the matching MUST and SHOULD
 * clauses.
 */
#ifndef QUARRY_PARSE_H
#define QUARRY_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

enum qq_kind {
    QQ_WORD = 0,     /* text: one raw word (may still analyze to several tokens, e.g. "sino-russian") */
    QQ_PHRASE = 1,   /* text: the raw contents of a quoted phrase */
    QQ_BOOL = 2      /* kids with their occur */
};

enum qq_occur { QQ_SHOULD = 0, QQ_MUST = 1, QQ_MUST_NOT = 2 };

enum qq_field { QQ_FIELD_ANY = 0, QQ_FIELD_TITLE = 1 };

typedef struct qq_node {
    int kind;              /* enum qq_kind */
    int occur;             /* enum qq_occur: how this node enters its parent QQ_BOOL */
    int field;             /* enum qq_field (inherited by children of a field-qualified group) */
    uint32_t column;       /* 1-based column (in characters... bytes) where the node starts */
    char *text;            /* QQ_WORD / QQ_PHRASE: NUL-terminated raw text */
    struct qq_node **kids; /* QQ_BOOL */
    size_t nkids;
} qq_node;

#define QQ_MAX_DEPTH 64     /* deeper nesting is a syntax error, not a stack overflow */
#define QQ_MAX_QUERY 65536  /* longer queries are QUARRY_ELIMIT */

/* Parses `q` (len bytes, UTF-8). On error returns QUARRY_ESYNTAX with a
 * message "column N: WHAT" (N 1-based, counted in characters) such as
 * "column 14: unbalanced quote", "column 7: expected a term after AND",
 * "column 3: unbalanced parenthesis", "column 1: empty query". */
int qq_parse(const char *q, size_t len, qq_node **out, quarry_error *err);
void qq_free(qq_node *n);

/* A plain query (--plain, evaluation query sets): every blank-separated
 * word is an optional (SHOULD) QQ_WORD of one QQ_BOOL; nothing else has a
 * meaning. QUARRY_ELIMIT past QQ_MAX_QUERY bytes. */
int qq_parse_plain(const char *q, size_t len, qq_node **out, quarry_error *err);

/* Writes the tree as an S-expression for tests and `quarry dump --query`:
 * (OR a +b -"c d" title:e (AND f g)) — see parse.c for the exact form. */
int qq_format(const qq_node *n, qbuf *out);

#endif
