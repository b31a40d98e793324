/*
 * eval.h — retrieval evaluation with trec_eval's definitions: parses TREC
 * qrels and runs, and computes nDCG@10, MAP, P@10, Recall@100/1000 and
 * MRR@10 per query and their means. The library part of `quarry eval`;
 * it never prints.
 *
 * Formats (whitespace-separated fields, one record a line; blank lines are
 * skipped; a trailing '\r' is ignored):
 *   qrels  `qid 0 docid rel`               rel an integer; rel > 0 relevant,
 *                                           higher is more relevant (graded)
 *   run    `qid Q0 docid rank score tag`   score a number; rank is ignored
 * A docid may appear once per query in each file (as trec_eval demands).
 *
 * Definitions (those of trec_eval 9, usnistgov/trec_eval):
 *   - A query's run documents are ranked by score descending, ties broken by
 *     docid descending (strcmp, reversed): trec_eval's order. The rank
 *     column is not used.
 *   - relevant = rel > 0. R = the number of relevant documents in the qrels.
 *   - nDCG@10 = DCG@10 / IDCG@10 with gain = rel grade (rel <= 0 and
 *     unjudged documents gain 0) and discount log2(rank + 1), rank from 1;
 *     IDCG@10 uses the query's qrels grades sorted descending (ndcg_cut.10).
 *   - MAP = sum over relevant retrieved documents (whole run) of the
 *     precision at their rank, divided by R (map).
 *   - P@10 = relevant in the top 10 / 10 (P_10).
 *   - R@k = relevant in the top k / R (recall_100, recall_1000).
 *   - MRR@10 = 1 / rank of the first relevant document if within the top
 *     10, else 0.
 *   - Means are taken over the queries of the qrels that have at least one
 *     relevant document. Such a query absent from the run scores 0 on every
 *     measure (as with trec_eval -c). Queries of the run that are not in the
 *     qrels, or have no relevant document there, are ignored (counted).
 */
#ifndef QUARRY_EVAL_H
#define QUARRY_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

typedef struct qe_qrels qe_qrels;
typedef struct qe_run qe_run;

/* Parses qrels text `text[0..len)`; `name` (copied) names it in error
 * messages ("NAME:LINE: what (expected 'qid 0 docid rel')", QUARRY_EINPUT).
 * Errors: a line without exactly 4 fields, a rel that is not an integer, a
 * docid judged twice for one query. The text is copied. */
int qe_qrels_parse(const char *name, const char *text, size_t len, qe_qrels **out,
                   quarry_error *err);
/* Reads and parses the file `path` ("-" is standard input). QUARRY_EIO when
 * it cannot be read. */
int qe_qrels_load(const char *path, qe_qrels **out, quarry_error *err);
void qe_qrels_free(qe_qrels *q);

/* Parses a TREC run; as qe_qrels_parse, with "(expected 'qid Q0 docid rank
 * score tag')". Errors: a line without exactly 6 fields, a score that is not
 * a number (or NaN), a docid listed twice for one query. */
int qe_run_parse(const char *name, const char *text, size_t len, qe_run **out,
                 quarry_error *err);
int qe_run_load(const char *path, qe_run **out, quarry_error *err);
void qe_run_free(qe_run *r);

/* The measures of one query, or their means. */
typedef struct qe_measures {
    double ndcg10, map, recall100, recall1000, p10, mrr10;
} qe_measures;

typedef struct qe_query {
    const char *qid;       /* borrowed from the qe_result */
    qe_measures m;
    uint32_t relevant;     /* R: relevant documents in the qrels */
    uint32_t retrieved;    /* documents of the query in the run (0: absent) */
    uint32_t relevant_retrieved;
    int in_run;            /* 0 when the run has no line for this query */
} qe_query;

typedef struct qe_result {
    qe_measures mean;      /* over the nqueries queries below */
    size_t nqueries;       /* queries averaged: qrels queries with R > 0 */
    qe_query *queries;     /* nqueries entries, ordered by qid (numerically
                              when both are integers, else by strcmp) */
    size_t missing;        /* of those, queries absent from the run (scored 0) */
    size_t qrels_queries;  /* distinct queries in the qrels */
    size_t no_relevant;    /* qrels queries without any relevant document (excluded) */
    size_t run_queries;    /* distinct queries in the run */
    size_t ignored;        /* run queries not averaged (not in qrels, or R == 0) */
    size_t qrels_lines, run_lines;   /* records read */
    char *names;           /* storage of the qid strings */
} qe_result;

/* Evaluates `run` against `qrels`. QUARRY_EINPUT when no query of the qrels
 * has a relevant document (nothing to average). *out is freed with
 * qe_result_free. */
int qe_evaluate(const qe_qrels *qrels, const qe_run *run, qe_result **out, quarry_error *err);
void qe_result_free(qe_result *r);

#endif
