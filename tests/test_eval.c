/*
 * test_eval.c — unit tests of src/eval (trec_eval's measures): values worked
 * out by hand on small qrels and runs, trec_eval's tie order, the averaging
 * rules, malformed input with its line numbers, a brute-force oracle on
 * random data, and a perfect run over a shared collection's real qrels.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/eval.h"
#include "support/qtest.h"

#define EPS 1e-9

/* Evaluates qrels text `qt` against run text `rt`; fails the test on error. */
static qe_result *eval_text(const char *qt, const char *rt)
{
    quarry_error err = { 0 };
    qe_qrels *q = NULL;
    qe_run *r = NULL;
    qe_result *res = NULL;
    int rc = qe_qrels_parse("qrels", qt, strlen(qt), &q, &err);
    if (rc)
        fail_msg("qrels: %s", err.msg);
    rc = qe_run_parse("run", rt, strlen(rt), &r, &err);
    if (rc)
        fail_msg("run: %s", err.msg);
    rc = qe_evaluate(q, r, &res, &err);
    if (rc)
        fail_msg("evaluate: %s", err.msg);
    qe_run_free(r);
    qe_qrels_free(q);
    return res;
}

static const qe_query *find_query(const qe_result *r, const char *qid)
{
    for (size_t i = 0; i < r->nqueries; i++)
        if (!strcmp(r->queries[i].qid, qid))
            return &r->queries[i];
    fail_msg("query %s not in the result", qid);
    return NULL;
}

#define assert_close(a, b) \
    do { \
        double a_ = (a), b_ = (b); \
        if (!(fabs(a_ - b_) <= EPS)) \
            fail_msg("%s = %.12f, expected %.12f", #a, a_, b_); \
    } while (0)

/* ------------------------------------------------------ hand-computed */

/* Graded relevance. Qrels of query g: A 3, B 2, C 1, D 0 (judged not
 * relevant), E 2 (never retrieved). The run ranks D A X B C (X unjudged).
 *   DCG@10  = 0/log2(2) + 3/log2(3) + 0/log2(4) + 2/log2(5) + 1/log2(6)
 *           = 1.892789261 + 0.861353116 + 0.386852807 = 3.140995184
 *   IDCG@10 = grades 3 2 2 1 ideally ranked:
 *             3/log2(2) + 2/log2(3) + 2/log2(4) + 1/log2(5)
 *           = 3 + 1.261859507 + 1 + 0.430676558 = 5.692536065
 *   nDCG@10 = 3.140995184 / 5.692536065 = 0.551774314
 *   R = 4 (A B C E). AP = (1/2 + 2/4 + 3/5) / 4 = 1.6 / 4 = 0.4
 *   P@10 = 3/10, MRR@10 = 1/2, R@100 = R@1000 = 3/4 */
static void test_graded_ndcg(void **state)
{
    const char *qrels = "g 0 A 3\ng 0 B 2\ng 0 C 1\ng 0 D 0\ng 0 E 2\n";
    const char *run = "g Q0 D 1 5.0 t\n"
                      "g Q0 A 2 4.0 t\n"
                      "g Q0 X 3 3.0 t\n"
                      "g Q0 B 4 2.0 t\n"
                      "g Q0 C 5 1.0 t\n";
    qe_result *r = eval_text(qrels, run);
    assert_int_equal(r->nqueries, 1);
    const qe_query *q = find_query(r, "g");
    double dcg = 3 / log2(3) + 2 / log2(5) + 1 / log2(6);
    double idcg = 3 + 2 / log2(3) + 2 / log2(4) + 1 / log2(5);
    assert_close(dcg, 3.140995184);
    assert_true(fabs(dcg - 3.140995184) < 1e-8 && fabs(idcg - 5.692536065) < 1e-8);
    assert_true(fabs(q->m.ndcg10 - 0.551774314) < 1e-8);
    assert_close(q->m.ndcg10, dcg / idcg);
    assert_close(q->m.map, 0.4);
    assert_close(q->m.p10, 0.3);
    assert_close(q->m.mrr10, 0.5);
    assert_close(q->m.recall100, 0.75);
    assert_close(q->m.recall1000, 0.75);
    assert_int_equal(q->relevant, 4);
    assert_int_equal(q->retrieved, 5);
    assert_int_equal(q->relevant_retrieved, 3);
    assert_close(r->mean.ndcg10, q->m.ndcg10);
    qe_result_free(r);
}

/* Ties in score are ranked by docid descending (strcmp), whatever the rank
 * column and the file order say: d2 d1 d0, so the relevant d0 is at rank 3.
 * Docid ascending would put it at rank 1 (every measure 1) and the file
 * order at rank 2 (MRR 1/2); trec_eval's order gives MRR = AP = 1/3 and
 * nDCG@10 = (1/log2(4)) / (1/log2(2)) = 0.5. */
static void test_ties_docid_descending(void **state)
{
    const char *qrels = "1 0 d0 1\n";
    const char *run = "1 Q0 d1 1 7.5 t\n"
                      "1 Q0 d0 2 7.5 t\n"
                      "1 Q0 d2 3 7.5 t\n";
    qe_result *r = eval_text(qrels, run);
    const qe_query *q = find_query(r, "1");
    assert_close(q->m.mrr10, 1.0 / 3.0);
    assert_close(q->m.map, 1.0 / 3.0);
    assert_close(q->m.ndcg10, 0.5);
    assert_close(q->m.p10, 0.1);
    qe_result_free(r);

    /* strcmp, not numeric: "9" > "10", so 9 comes first and the relevant
     * 10 is second; a higher score still wins over any docid. */
    r = eval_text("1 0 10 1\n", "1 Q0 10 1 2 t\n1 Q0 9 2 2 t\n1 Q0 0 3 1 t\n");
    assert_close(r->queries[0].m.mrr10, 0.5);
    qe_result_free(r);
    r = eval_text("1 0 10 1\n", "1 Q0 9 1 2 t\n1 Q0 10 2 2.0000001 t\n");
    assert_close(r->queries[0].m.mrr10, 1.0);
    qe_result_free(r);
}

/* The rank column is ignored and file order does not matter: scores decide. */
static void test_rank_column_ignored(void **state)
{
    const char *qrels = "q 0 a 1\nq 0 b 1\n";
    qe_result *r1 = eval_text(qrels, "q Q0 x 1 1 t\nq Q0 a 2 3 t\nq Q0 b 3 2 t\n");
    qe_result *r2 = eval_text(qrels, "q Q0 b 9 2 t\nq Q0 x 7 1 t\nq Q0 a 8 3 t\n");
    /* a, b, x: AP = (1/1 + 2/2) / 2 = 1 */
    assert_close(r1->queries[0].m.map, 1.0);
    assert_close(r2->queries[0].m.map, 1.0);
    assert_close(r1->queries[0].m.ndcg10, 1.0);
    qe_result_free(r1);
    qe_result_free(r2);
}

/* Query 2 has only non-relevant (and negative) judgments: excluded from the
 * mean though the run has it. Query 7 is in the run only: ignored. */
static void test_query_without_relevant_excluded(void **state)
{
    const char *qrels = "1 0 a 1\n2 0 b 0\n2 0 c -1\n";
    const char *run = "1 Q0 a 1 1 t\n2 Q0 b 1 1 t\n2 Q0 c 2 0.5 t\n7 Q0 a 1 1 t\n";
    qe_result *r = eval_text(qrels, run);
    assert_int_equal(r->nqueries, 1);
    assert_int_equal(r->qrels_queries, 2);
    assert_int_equal(r->no_relevant, 1);
    assert_int_equal(r->run_queries, 3);
    assert_int_equal(r->ignored, 2);
    assert_int_equal(r->missing, 0);
    assert_string_equal(r->queries[0].qid, "1");
    assert_close(r->mean.ndcg10, 1.0);
    assert_close(r->mean.map, 1.0);
    assert_close(r->mean.p10, 0.1);
    qe_result_free(r);
}

/* Query 3 is judged but absent from the run: it counts 0 (trec_eval -c).
 * Query 1 is perfect (every measure 1 but P@10 = 0.1), so the means are
 * halved. */
static void test_missing_query_counts_zero(void **state)
{
    const char *qrels = "1 0 a 1\n3 0 z 2\n3 0 y 1\n";
    const char *run = "1 Q0 a 1 1 t\n1 Q0 b 2 0.5 t\n";
    qe_result *r = eval_text(qrels, run);
    assert_int_equal(r->nqueries, 2);
    assert_int_equal(r->missing, 1);
    assert_int_equal(r->ignored, 0);
    const qe_query *q3 = find_query(r, "3");
    assert_false(q3->in_run);
    assert_int_equal(q3->relevant, 2);
    assert_close(q3->m.ndcg10, 0);
    assert_close(r->mean.ndcg10, 0.5);
    assert_close(r->mean.map, 0.5);
    assert_close(r->mean.recall100, 0.5);
    assert_close(r->mean.recall1000, 0.5);
    assert_close(r->mean.mrr10, 0.5);
    assert_close(r->mean.p10, 0.05);
    qe_result_free(r);
}

/* R = 4; the run finds relevant r1 at rank 1 and r2 at rank 3, never r3 r4:
 * AP = (1/1 + 2/3) / 4 = 0.416666667 — the unretrieved ones add 0 but stay
 * in the denominator. */
static void test_map_unretrieved_relevant(void **state)
{
    const char *qrels = "q 0 r1 1\nq 0 r2 1\nq 0 r3 1\nq 0 r4 1\nq 0 n1 0\n";
    const char *run = "q Q0 r1 1 0.9 t\nq Q0 n1 2 0.8 t\nq Q0 r2 3 0.7 t\nq Q0 u 4 0.6 t\n";
    qe_result *r = eval_text(qrels, run);
    assert_close(r->queries[0].m.map, (1.0 + 2.0 / 3.0) / 4.0);
    assert_close(r->queries[0].m.map, 0.4166666666667);
    assert_close(r->queries[0].m.recall100, 0.5);
    qe_result_free(r);
}

/* Fewer than 100 retrieved: R@100 = relevant retrieved / R = 2/3, the same
 * for R@1000; P@10 still divides by 10: 2/10. */
static void test_recall_short_run(void **state)
{
    const char *qrels = "q 0 a 1\nq 0 b 1\nq 0 c 1\n";
    const char *run = "q Q0 x 1 5 t\nq Q0 a 2 4 t\nq Q0 y 3 3 t\nq Q0 b 4 2 t\nq Q0 z 5 1 t\n";
    qe_result *r = eval_text(qrels, run);
    assert_close(r->queries[0].m.recall100, 2.0 / 3.0);
    assert_close(r->queries[0].m.recall1000, 2.0 / 3.0);
    assert_close(r->queries[0].m.p10, 0.2);
    assert_close(r->queries[0].m.mrr10, 0.5);
    qe_result_free(r);
}

/* Cut-offs: relevant documents at ranks 11, 150 and 1001 of a 1200-hit run.
 * nDCG@10 = P@10 = MRR@10 = 0; R@100 = 1/3 (11); R@1000 = 2/3 (11, 150);
 * AP = (1/11 + 2/150 + 3/1001) / 3. */
static void test_cutoffs(void **state)
{
    qbuf run;
    qbuf_init(&run);
    for (int i = 1; i <= 1200; i++) {
        /* distinct scores, docid order opposite to the ranking */
        qbuf_printf(&run, "q Q0 doc%04d %d %d run\n", 1201 - i, i, 5000 - i);
    }
    assert_int_equal(qbuf_putc(&run, 0), 0);
    const char *qrels = "q 0 doc1190 1\nq 0 doc1051 2\nq 0 doc0200 1\n";
    /* doc1190 is at rank 11, doc1051 at 150, doc0200 at 1001 */
    qe_result *r = eval_text(qrels, (const char *)run.p);
    const qe_query *q = &r->queries[0];
    assert_int_equal(q->retrieved, 1200);
    assert_close(q->m.ndcg10, 0);
    assert_close(q->m.p10, 0);
    assert_close(q->m.mrr10, 0);
    assert_close(q->m.recall100, 1.0 / 3.0);
    assert_close(q->m.recall1000, 2.0 / 3.0);
    assert_close(q->m.map, (1.0 / 11 + 2.0 / 150 + 3.0 / 1001) / 3);
    qe_result_free(r);
    qbuf_free(&run);
}

/* Tabs, CRLF, blank lines and extra spaces are accepted; qids are ordered
 * numerically when both are numbers. */
static void test_whitespace_and_order(void **state)
{
    const char *qrels = "10\t0\ta\t1\r\n\r\n9 0 a 1\r\n  2   0 a   1  \r\nb 0 a 1\n";
    const char *run = "\n10\tQ0\ta\t1\t1\tt\r\n9 Q0 a 1 1e0 t\r\n2 Q0 a 1 -3.5 t\nb Q0 a 1 +1 t";
    qe_result *r = eval_text(qrels, run);
    assert_int_equal(r->nqueries, 4);
    assert_string_equal(r->queries[0].qid, "2");
    assert_string_equal(r->queries[1].qid, "9");
    assert_string_equal(r->queries[2].qid, "10");
    assert_string_equal(r->queries[3].qid, "b");
    assert_close(r->mean.map, 1.0);
    assert_int_equal(r->qrels_lines, 4);
    assert_int_equal(r->run_lines, 4);
    qe_result_free(r);
}

/* ---------------------------------------------------------- malformed */

static void expect_run_error(const char *text, int code, const char *msg)
{
    quarry_error err = { 0 };
    qe_run *r = NULL;
    int rc = qe_run_parse("run.txt", text, strlen(text), &r, &err);
    assert_int_equal(rc, code);
    if (code == 0) {
        assert_non_null(r);
        qe_run_free(r);
        return;
    }
    assert_null(r);
    if (!strstr(err.msg, msg))
        fail_msg("message '%s' lacks '%s'", err.msg, msg);
}

static void expect_qrels_error(const char *text, const char *msg)
{
    quarry_error err = { 0 };
    qe_qrels *q = NULL;
    int rc = qe_qrels_parse("qrels.txt", text, strlen(text), &q, &err);
    assert_int_equal(rc, QUARRY_EINPUT);
    assert_null(q);
    if (!strstr(err.msg, msg))
        fail_msg("message '%s' lacks '%s'", err.msg, msg);
}

static void test_malformed_lines(void **state)
{
    const char *fmt = "(expected 'qid Q0 docid rank score tag')";
    /* blank lines count in the numbering */
    expect_run_error("1 Q0 a 1 1 t\n\n1 Q0 b 2 x t\n", QUARRY_EINPUT,
                     "run.txt:3: score 'x' is not a number");
    expect_run_error("1 Q0 a 1 1 t\n1 Q0 b 2 1 t\n1 Q0 a 3 0 t\n", QUARRY_EINPUT,
                     "run.txt:3: document 'a' listed twice for query '1', first at line 1");
    expect_run_error("1 Q0 a 1 1\n", QUARRY_EINPUT, "run.txt:1: 5 fields, not 6");
    expect_run_error("1 Q0 a 1 1 t\n1 Q0 b 1 1 t extra\n", QUARRY_EINPUT, "run.txt:2: 7 fields");
    expect_run_error("1 Q0 a 1 1 t\r\n1 Q0 b 2 nan t\r\n", QUARRY_EINPUT, "run.txt:2: score 'nan'");
    expect_run_error("1 Q0 a 1 1.5x t\n", QUARRY_EINPUT, "run.txt:1: score '1.5x'");
    expect_run_error("1 Q0 a 1 1 t\n", 0, "");
    expect_run_error("x Q0 a 1 1 t\n", 0, "");
    expect_run_error("1 Q0 a 1 score t\n", QUARRY_EINPUT, fmt);

    expect_qrels_error("1 0 a 1\n1 0 b one\n", "qrels.txt:2: relevance 'one' is not an integer");
    expect_qrels_error("1 0 a 1\n1 0 b 1.5\n", "qrels.txt:2: relevance '1.5'");
    expect_qrels_error("1 0 a\n", "qrels.txt:1: 3 fields, not 4 (expected 'qid 0 docid rel')");
    expect_qrels_error("1 0 a 1\n2 0 a 1\n\n1 0 a 2\n",
                       "qrels.txt:4: document 'a' judged twice for query '1', first at line 1");

    /* the same docid under two queries of a run is fine */
    qe_result *r = eval_text("1 0 a 1\n2 0 a 1\n", "1 Q0 a 1 1 t\n2 Q0 a 1 1 t\n");
    assert_close(r->mean.map, 1.0);
    qe_result_free(r);
}

static void test_nothing_to_evaluate_and_missing_file(void **state)
{
    quarry_error err = { 0 };
    qe_qrels *q = NULL;
    qe_run *r = NULL;
    qe_result *res = NULL;
    assert_int_equal(qe_qrels_parse("empty", "1 0 a 0\n", 8, &q, &err), 0);
    assert_int_equal(qe_run_parse("run", "", 0, &r, &err), 0);
    assert_int_equal(qe_evaluate(q, r, &res, &err), QUARRY_EINPUT);
    assert_null(res);
    assert_non_null(strstr(err.msg, "empty: no query has a relevant document"));
    qe_qrels_free(q);
    qe_run_free(r);

    assert_int_equal(qe_qrels_load("/nonexistent/qrels.txt", &q, &err), QUARRY_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/qrels.txt"));
    assert_int_equal(qe_run_load("/nonexistent/run", &r, &err), QUARRY_EIO);
    qe_qrels_free(NULL);
    qe_run_free(NULL);
    qe_result_free(NULL);
}

/* Files: the loaders read what the parsers parse. */
static void test_load_files(void **state)
{
    char qpath[] = "/tmp/quarry-test-eval-qXXXXXX", rpath[] = "/tmp/quarry-test-eval-rXXXXXX";
    int qfd = mkstemp(qpath), rfd = mkstemp(rpath);
    assert_true(qfd >= 0 && rfd >= 0);
    FILE *qf = fdopen(qfd, "w"), *rf = fdopen(rfd, "w");
    assert_non_null(qf);
    assert_non_null(rf);
    fputs("1 0 a 2\n1 0 b 1\n", qf);
    fputs("1 Q0 b 1 2 t\n1 Q0 a 2 1 t\n", rf);
    fclose(qf);
    fclose(rf);
    quarry_error err = { 0 };
    qe_qrels *q = NULL;
    qe_run *r = NULL;
    qe_result *res = NULL;
    assert_int_equal(qe_qrels_load(qpath, &q, &err), 0);
    assert_int_equal(qe_run_load(rpath, &r, &err), 0);
    assert_int_equal(qe_evaluate(q, r, &res, &err), 0);
    /* b(1) then a(2): DCG = 1 + 2/log2(3); IDCG = 2 + 1/log2(3) */
    assert_close(res->mean.ndcg10, (1 + 2 / log2(3)) / (2 + 1 / log2(3)));
    qe_result_free(res);
    qe_run_free(r);
    qe_qrels_free(q);
    remove(qpath);
    remove(rpath);
}

/* ------------------------------------------------------------ oracle */

/* A deliberately plain evaluator over arrays: linear lookups, insertion
 * sort. The library must agree with it on every query. */
typedef struct o_judg { int q, doc, rel; } o_judg;
typedef struct o_ret { int q, doc; double score; } o_ret;

static void docname(char *buf, size_t n, int doc) { snprintf(buf, n, "D%d", doc); }

/* trec_eval: a before b when its score is higher, or equal and docid greater */
static int o_before(const o_ret *a, const o_ret *b)
{
    if (a->score != b->score)
        return a->score > b->score;
    char x[32], y[32];
    docname(x, sizeof x, a->doc);
    docname(y, sizeof y, b->doc);
    return strcmp(x, y) > 0;
}

static void oracle(const o_judg *js, int nj, const o_ret *rs, int nr, int q, qe_measures *m,
                   int *R)
{
    o_ret ranked[256];
    int n = 0;
    for (int i = 0; i < nr; i++) {
        if (rs[i].q != q)
            continue;
        int k = n++;
        while (k > 0 && o_before(&rs[i], &ranked[k - 1])) {
            ranked[k] = ranked[k - 1];
            k--;
        }
        ranked[k] = rs[i];
    }
    int grades[256], ng = 0;
    *R = 0;
    for (int i = 0; i < nj; i++)
        if (js[i].q == q && js[i].rel > 0) {
            grades[ng++] = js[i].rel;
            (*R)++;
        }
    for (int i = 0; i < ng; i++)
        for (int k = i + 1; k < ng; k++)
            if (grades[k] > grades[i]) {
                int t = grades[i];
                grades[i] = grades[k];
                grades[k] = t;
            }
    double idcg = 0, dcg = 0, ap = 0, rr = 0;
    int found = 0, top10 = 0, top100 = 0;
    for (int i = 0; i < ng && i < 10; i++)
        idcg += grades[i] / log2(i + 2.0);
    for (int i = 0; i < n; i++) {
        int rel = 0;
        for (int k = 0; k < nj; k++)
            if (js[k].q == q && js[k].doc == ranked[i].doc)
                rel = js[k].rel;
        if (rel <= 0)
            continue;
        found++;
        ap += (double)found / (i + 1);
        if (i < 10) {
            dcg += rel / log2(i + 2.0);
            top10++;
            if (!rr)
                rr = 1.0 / (i + 1);
        }
        if (i < 100)
            top100++;
    }
    memset(m, 0, sizeof *m);
    if (*R == 0)
        return;
    m->ndcg10 = idcg > 0 ? dcg / idcg : 0;
    m->map = ap / *R;
    m->p10 = top10 / 10.0;
    m->recall100 = (double)top100 / *R;
    m->recall1000 = (double)found / *R;   /* runs here are shorter than 1000 */
    m->mrr10 = rr;
}

static void test_random_against_oracle(void **state)
{
    srand(12345);
    for (int round = 0; round < 200; round++) {
        enum { NQ = 6, NDOC = 60 };
        static o_judg js[NQ * NDOC];
        static o_ret rs[NQ * NDOC];
        int nj = 0, nr = 0;
        qbuf qt, rt;
        qbuf_init(&qt);
        qbuf_init(&rt);
        for (int q = 0; q < NQ; q++) {
            int pj = rand() % 60, pr = q == 3 ? 0 : rand() % 100;   /* query 3 never in the run */
            for (int d = 0; d < NDOC; d++) {
                if (rand() % 100 < pj) {
                    js[nj] = (o_judg){ q, d, rand() % 5 - 1 };   /* -1 .. 3 */
                    qbuf_printf(&qt, "%d 0 D%d %d\n", q, d, js[nj].rel);
                    nj++;
                }
                if (rand() % 100 < pr) {
                    rs[nr] = (o_ret){ q, d, (double)(rand() % 6) / 2 };   /* many ties */
                    nr++;
                }
            }
        }
        /* the run in shuffled line order */
        for (int i = nr - 1; i > 0; i--) {
            int k = rand() % (i + 1);
            o_ret t = rs[i];
            rs[i] = rs[k];
            rs[k] = t;
        }
        for (int i = 0; i < nr; i++)
            qbuf_printf(&rt, "%d Q0 D%d %d %g x\n", rs[i].q, rs[i].doc, i + 1, rs[i].score);
        qbuf_printf(&rt, "99 Q0 D1 1 1 x\n");   /* unjudged query */
        assert_int_equal(qbuf_putc(&qt, 0) | qbuf_putc(&rt, 0), 0);

        quarry_error err = { 0 };
        qe_qrels *q = NULL;
        qe_run *r = NULL;
        qe_result *res = NULL;
        assert_int_equal(qe_qrels_parse("q", (char *)qt.p, qt.len - 1, &q, &err), 0);
        assert_int_equal(qe_run_parse("r", (char *)rt.p, rt.len - 1, &r, &err), 0);
        int rc = qe_evaluate(q, r, &res, &err);
        qe_measures sum = { 0 };
        int averaged = 0;
        for (int qq = 0; qq < NQ; qq++) {
            qe_measures m;
            int R;
            oracle(js, nj, rs, nr, qq, &m, &R);
            if (!R)
                continue;
            averaged++;
            char qid[16];
            snprintf(qid, sizeof qid, "%d", qq);
            const qe_query *got = find_query(res, qid);
            assert_int_equal(got->relevant, R);
            assert_close(got->m.ndcg10, m.ndcg10);
            assert_close(got->m.map, m.map);
            assert_close(got->m.p10, m.p10);
            assert_close(got->m.recall100, m.recall100);
            assert_close(got->m.recall1000, m.recall1000);
            assert_close(got->m.mrr10, m.mrr10);
            sum.ndcg10 += m.ndcg10;
            sum.map += m.map;
        }
        if (!averaged) {
            assert_int_equal(rc, QUARRY_EINPUT);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(res->nqueries, averaged);
            assert_close(res->mean.ndcg10, sum.ndcg10 / averaged);
            assert_close(res->mean.map, sum.map / averaged);
        }
        qe_result_free(res);
        qe_run_free(r);
        qe_qrels_free(q);
        qbuf_free(&qt);
        qbuf_free(&rt);
    }
}

/* 300 queries x 1000 hits, the size of a SciFact run: parses and evaluates
 * (the hash tables keep it linear; `quarry eval` on such a run is instant). */
static void test_large_run(void **state)
{
    qbuf qt, rt;
    qbuf_init(&qt);
    qbuf_init(&rt);
    for (int q = 0; q < 300; q++) {
        for (int j = 0; j < 3; j++)
            qbuf_printf(&qt, "%d 0 doc%d 1\n", q, q * 7 + j * 100);
        for (int i = 0; i < 1000; i++)
            qbuf_printf(&rt, "%d Q0 doc%d %d %.3f quarry\n", q, i, i + 1, 1000.0 - i);
    }
    assert_int_equal(qbuf_putc(&qt, 0) | qbuf_putc(&rt, 0), 0);
    qe_result *r = eval_text((char *)qt.p, (char *)rt.p);
    assert_int_equal(r->nqueries, 300);
    assert_int_equal(r->run_lines, 300000);
    /* query 0 has doc0 (rank 1), doc100 (101), doc200 (201) */
    const qe_query *q0 = find_query(r, "0");
    assert_close(q0->m.recall100, 1.0 / 3);
    assert_close(q0->m.recall1000, 1.0);
    assert_close(q0->m.map, (1.0 + 2.0 / 101 + 3.0 / 201) / 3);
    qe_result_free(r);
    qbuf_free(&qt);
    qbuf_free(&rt);
}

/* ------------------------------------------------------ real qrels */

/* A run that ranks each query's judged documents by grade (the ideal run)
 * scores nDCG@10 = MAP = R@1000 = 1 on a shared collection's qrels. */
static void test_ideal_run_on_shared_qrels(void **state)
{
    const char *corpus = tcorpus_dir();
    const char *names[] = { "cranfield", "scifact", "cisi", "med" };
    int done = 0;
    for (size_t c = 0; c < sizeof names / sizeof *names; c++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/qrels.txt", corpus, names[c]);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        qbuf run;
        qbuf_init(&run);
        char line[1024], qid[256], doc[256];
        int rel;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "%255s %*s %255s %d", qid, doc, &rel) == 3)
                qbuf_printf(&run, "%s Q0 %s 0 %d ideal\n", qid, doc, rel);
        fclose(f);
        quarry_error err = { 0 };
        qe_qrels *q = NULL;
        qe_run *r = NULL;
        qe_result *res = NULL;
        if (qe_qrels_load(path, &q, &err))
            fail_msg("%s", err.msg);
        assert_int_equal(qe_run_parse("ideal", (char *)run.p, run.len, &r, &err), 0);
        assert_int_equal(qe_evaluate(q, r, &res, &err), 0);
        assert_true(res->nqueries > 0);
        assert_int_equal(res->missing, 0);
        assert_close(res->mean.ndcg10, 1.0);
        assert_close(res->mean.map, 1.0);
        assert_close(res->mean.mrr10, 1.0);
        assert_close(res->mean.recall1000, 1.0);
        print_message("      %s: %zu judged queries, %zu qrels lines, ideal run scores 1\n",
                      names[c], res->nqueries, res->qrels_lines);
        qe_result_free(res);
        qe_run_free(r);
        qe_qrels_free(q);
        qbuf_free(&run);
        done++;
    }
    if (!done)
        tskip("no qrels under %s (set QUARRY_CORPUS)", corpus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_graded_ndcg),
        cmocka_unit_test(test_ties_docid_descending),
        cmocka_unit_test(test_rank_column_ignored),
        cmocka_unit_test(test_query_without_relevant_excluded),
        cmocka_unit_test(test_missing_query_counts_zero),
        cmocka_unit_test(test_map_unretrieved_relevant),
        cmocka_unit_test(test_recall_short_run),
        cmocka_unit_test(test_cutoffs),
        cmocka_unit_test(test_whitespace_and_order),
        cmocka_unit_test(test_malformed_lines),
        cmocka_unit_test(test_nothing_to_evaluate_and_missing_file),
        cmocka_unit_test(test_load_files),
        cmocka_unit_test(test_random_against_oracle),
        cmocka_unit_test(test_large_run),
        cmocka_unit_test(test_ideal_run_on_shared_qrels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
