/*
 * tree.h — from a parsed query to the scorer tree of node.h: the query's
 * words analyzed with the index's analyzer, each term looked up in every
 * segment once, its weight computed from collection-wide statistics
 * (bm25.h), and the tree bound to one segment at a time (its cursors
 * opened there) for the algorithms to run.
 */
#ifndef QUARRY_TREE_H
#define QUARRY_TREE_H

#include "query/node.h"
#include "query/parse.h"

typedef struct qt_tree {
    qn_node *root;
    qn_node **leaves;
    size_t nleaves, cap_leaves;
    qbuf terms;              /* positive analyzed terms for highlighting, NUL-separated */
    size_t nterms;
    size_t scoring_leaves;   /* positive leaves whose every term is in the collection */
    size_t nseg;
} qt_tree;

/* Builds the tree of `q` for index ix. plain: each analyzed token of a
 * multi-token word is its own optional term. boost (may be NULL): q is a
 * QQ_BOOL of already analyzed terms and boost[i] multiplies kid i's weight.
 * st (may be NULL): the df that weighs each positive term comes from it
 * (the whole collection's; m then holds its N and average length), not
 * from ix; whether a term matches anything is still ix's. Returns 0 or a
 * quarry_code (ENOMEM, ECORRUPT from a lookup, EINVAL when st lacks a
 * term or gives it fewer units than ix holds). */
int qt_build(qt_tree *t, quarry_index *ix, qa_analyzer *an, const qq_node *q, int plain, int pairs,
             const double *boost, const bm25 *m, const quarry_stats *st, quarry_error *err);

/* The distinct analyzed terms of q's positive leaves (those a search
 * scores with: not under a MUST_NOT), in the order of the query, appended
 * to out NUL-terminated; *n counts them. The same terms in plain mode.
 * 0 or QUARRY_ENOMEM. */
int qt_terms(qa_analyzer *an, const qq_node *q, qbuf *out, size_t *n);

/* Opens the leaves' cursors in segment `si` (closing those of the previous
 * segment) and prepares the nodes. Returns 0 or QUARRY_ECORRUPT when a
 * first postings block is damaged (err set). */
int qt_bind(qt_tree *t, quarry_index *ix, size_t si, qn_ctx *x, quarry_error *err);

/* 1 when a cursor of the bound segment met damaged data. */
int qt_corrupt(const qt_tree *t);

void qt_free(qt_tree *t);

#endif
