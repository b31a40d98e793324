/*
 * node.h — the query's scorer tree over one segment: the interface every
 * algorithm (algo_*.c) works through. tree.c builds it from a parsed query
 * and binds it to each segment in turn; node.c moves and scores it.
 *
 * A node is a leaf (one term, a phrase, or a title:-restricted term or
 * phrase) or a boolean group whose kids are SHOULD, MUST or MUST_NOT
 * (parse.h gives the semantics). Every node offers:
 *
 *   qn_score(n, d)     does n match unit d, and with what score? The exact
 *                      answer (positions read when needed), summed in the
 *                      tree's order so that every algorithm gets the same
 *                      bits. Moves n's cursors to d.
 *   qn_advance(n, t)   its "approximation": the next unit >= t that may
 *                      match (the conjunction of a phrase's terms; the AND
 *                      of a group's MUST kids, else the OR of its SHOULD
 *                      kids). Never skips a match. n->doc is the result.
 *   qn_doc_ub(n, d)    a cheap upper bound of its score at d (term
 *                      frequencies and the one-byte length, no positions).
 *   qn_block_ub(n, f)  an upper bound of its score over [f, *upto], from
 *                      the skip entries only (no decoding); lowers *upto to
 *                      where that bound stops holding.
 *   qn_range_ub(n,f,t) an upper bound of its score over [f, t]: the
 *                      largest bound of the skip blocks that overlap it.
 *   n->ub              an upper bound of its score anywhere in the segment.
 *
 * Units are local to the bound segment. Targets passed to one node never
 * decrease.
 */
#ifndef QUARRY_NODE_H
#define QUARRY_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "index/reader.h"
#include "base/bm25.h"

enum qn_kind { QN_EMPTY = 0, QN_LEAF = 1, QN_BOOL = 2 };

typedef struct qn_node qn_node;

/* What one search shares with its nodes while scoring a segment. */
typedef struct qn_ctx {
    const qx_seg *seg;
    bm25 m;
    double normq[256];        /* norm of each quantized length (bounds at a unit) */
    int corrupt;              /* damaged postings met (sticky) */
    int oom;
} qn_ctx;

struct qn_node {
    int kind;                 /* enum qn_kind */
    int occur;                /* enum qq_occur: how it enters its parent */
    uint32_t doc;             /* current approximation (QX_END at the end) */
    double ub;                /* bound of the score in the bound segment */
    uint64_t cost;            /* about how many units its approximation visits */
    /* QN_LEAF */
    size_t nterms;
    char **terms;             /* analyzed terms; a phrase's pair terms and uncovered words when
                               * the index has pair terms (tree.c, use_pairs) */
    size_t nwords;            /* then: the phrase's words, their places and dfs (else NULL, and
                               * terms, relpos and df are the words') */
    char **words;
    uint32_t *wrelpos;
    uint64_t *wdf;
    uint32_t *relpos;         /* phrase: position of term i relative to term 0 */
    int field;                /* enum qq_field */
    int positive;             /* no MUST_NOT on the path from the root */
    double w;                 /* sum of idf * (k1 + 1) * boost */
    uint32_t repeat;          /* the clauses of its group it stands for: a term repeated
                               * there is one leaf, its weight times this (tree.c) */
    uint64_t *df;             /* global df of each term */
    qx_term *segterms;        /* nseg x nterms: each term in each segment */
    uint8_t *found;           /* nseg x nterms */
    qx_cursor *cur;           /* nterms cursors in the bound segment (a repeat's is unused) */
    uint32_t *same;           /* phrase: the first term equal to term i, whose cursor it shares;
                               * NULL when no term repeats */
    int missing;              /* a term is absent from the bound segment */
    size_t lead;              /* the rarest term's cursor (candidates of its approximation) */
    uint32_t *ord;            /* the other cursors (not the lead's, not a repeat's), rarest
                               * first: a unit lacking a term is left at the first such */
    size_t nord;
    int pair;                 /* phrase: the approximation checks the positions of the lead
                               * and ord[0] before it moves the denser cursors (node.c) */
    int64_t pair_delta;       /* ord[0]'s position minus the lead's, in the phrase */
    uint32_t pair_tries, pair_kept;   /* units checked in this trial, and those that passed */
    uint64_t bblk;            /* single term: the skip block whose bound is bval (+1; 0 none) */
    double bval;
    /* QN_BOOL */
    qn_node **kids;
    size_t nkids;
    int has_must;
};

/* Is term i of leaf n a repeat of an earlier term (its cursor unused)? */
static inline int qn_repeat(const qn_node *n, size_t i)
{
    return n->same && n->same[i] != i;
}

int qn_score(qn_ctx *x, qn_node *n, uint32_t d, double *score);
/* The score of leaf n occurring f times in unit d (what qn_score adds). */
double qn_leaf_score(qn_ctx *x, const qn_node *n, uint32_t d, uint32_t f);
uint32_t qn_advance(qn_ctx *x, qn_node *n, uint32_t target);
/* qn_advance, passing over the units up to `upto` where n, a leaf, cannot
 * score more than theta - rest (bm25_below): its lead term's own tf
 * bounds how often it occurs there. Other nodes: qn_advance. */
uint32_t qn_advance_above(qn_ctx *x, qn_node *n, uint32_t target, uint32_t upto, double rest, double theta);
double qn_doc_ub(qn_ctx *x, qn_node *n, uint32_t d);
double qn_block_ub(qn_ctx *x, qn_node *n, uint32_t from, uint32_t *upto);
/* Where qn_block_ub would end the window (*upto lowered to it), without
 * the bound: for windows that nothing can skip (no threshold yet). */
void qn_block_end(qn_ctx *x, qn_node *n, uint32_t from, uint32_t *upto);
double qn_range_ub(qn_ctx *x, qn_node *n, uint32_t from, uint32_t to);
/* For a leaf of one term: passes over its blocks, from the one that holds
 * the first unit >= from, whose bound plus `rest` cannot beat theta
 * (bm25_below), in one walk of the skip entries (what a qn_range_ub per
 * block would decide, without finding each block again). 1 when it passed
 * over a block (*last its last unit) or no unit >= from is left (*last =
 * QX_END; also on damage, with x->corrupt); 0 when the first block can
 * beat theta (*last its last unit: the window to search). */
int qn_pass_blocks(qn_ctx *x, qn_node *n, uint32_t from, double rest, double theta, uint32_t *last);
/* Sets n->ub, n->cost and n->doc (the first approximation) for the bound
 * segment, bottom up, for the root and every node under it; a boolean
 * root is not moved (its doc is left 0, not a position: the algorithms
 * walk its clauses, never the root itself, and moving a root with
 * required clauses would walk their whole intersection, up to its first
 * unit, by the generic leapfrog before the algorithm starts). */
void qn_prepare(qn_ctx *x, qn_node *root);

/* Sets up x for BM25 parameters (and the normq table). */
void qn_ctx_init(qn_ctx *x, double k1, double b, double n, double avglen);

/* Frequency of a leaf in unit d when positions matter (phrase.c): the
 * phrase's occurrences, or the term's occurrences in the title. The leaf's
 * cursors are all on d. Sets x->corrupt on damaged positions. */
uint32_t qn_phrase_freq(qn_ctx *x, qn_node *n, uint32_t d, uint32_t most);

/* Does n match unit d? qn_score without the score (a phrase stops at its
 * first occurrence). */
int qn_match(qn_ctx *x, qn_node *n, uint32_t d);

#endif
