/*
 * cli/eval.c — `quarry eval [--per-query] [--json] QRELS RUN`: scores a TREC
 * run against TREC qrels with trec_eval's definitions (src/eval/eval.h) and
 * prints the means as a table or one JSON object.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/pager.h"
#include "eval/eval.h"

static const char usage[] =
    "usage: quarry eval [--per-query] [--json] [--no-pager] QRELS RUN\n";

static const char help[] =
    "\n"
    "Scores a TREC run against relevance judgments with trec_eval's definitions.\n"
    "\n"
    "  QRELS  lines 'qid 0 docid rel': rel > 0 is relevant, higher grades more so\n"
    "  RUN    lines 'qid Q0 docid rank score tag', as written by\n"
    "         'quarry search --queries FILE --trec TAG'; '-' reads standard input\n"
    "\n"
    "Measures (trec_eval's name in brackets):\n"
    "  nDCG@10  [ndcg_cut.10]  gain = the qrels grade, discount log2(rank+1), ideal\n"
    "                          ranking from the query's qrels grades\n"
    "  MAP      [map]          average precision over the whole run\n"
    "  R@100    [recall_100]   relevant in the top 100 / relevant in the qrels\n"
    "  R@1000   [recall_1000]  the same in the top 1000\n"
    "  P@10     [P_10]         relevant in the top 10 / 10\n"
    "  MRR@10                  1/rank of the first relevant document in the top 10\n"
    "\n"
    "A query's documents are ranked as trec_eval ranks them: by score descending,\n"
    "ties by docid descending; the rank column is ignored.\n"
    "\n"
    "Means are taken over the queries of QRELS that have at least one relevant\n"
    "document. Such a query that is absent from RUN scores 0 on every measure (as\n"
    "with trec_eval -c) and is counted as 'absent'. Queries of RUN that are not in\n"
    "QRELS, or have no relevant document there, are ignored and counted as\n"
    "'unjudged'. (Plain trec_eval instead averages over the run's queries that\n"
    "appear in the qrels.)\n"
    "\n"
    "Options:\n"
    "  --per-query  also print each query's measures\n"
    "  --json       print one JSON object (with a \"per_query\" array when asked)\n"
    "  --no-pager   never page the output (see 'quarry search --help')\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 evaluated, 2 error (a bad line is named as FILE:LINE).\n";

/* Writes `s` as a JSON string. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_measures(FILE *f, const qe_measures *m)
{
    fprintf(f, "\"nDCG@10\":%.6f,\"MAP\":%.6f,\"R@100\":%.6f,\"R@1000\":%.6f,"
               "\"P@10\":%.6f,\"MRR@10\":%.6f",
            m->ndcg10, m->map, m->recall100, m->recall1000, m->p10, m->mrr10);
}

static void print_json(FILE *f, const qe_result *r, int per_query)
{
    fprintf(f, "{\"queries\":%zu,\"absent\":%zu,\"unjudged\":%zu,", r->nqueries, r->missing,
            r->ignored);
    json_measures(f, &r->mean);
    fprintf(f, ",\"qrels_queries\":%zu,\"run_queries\":%zu", r->qrels_queries, r->run_queries);
    if (per_query) {
        fputs(",\"per_query\":[", f);
        for (size_t i = 0; i < r->nqueries; i++) {
            const qe_query *q = &r->queries[i];
            fputs(i ? ",{\"qid\":" : "{\"qid\":", f);
            json_string(f, q->qid);
            fputc(',', f);
            json_measures(f, &q->m);
            fprintf(f, ",\"relevant\":%u,\"retrieved\":%u,\"relevant_retrieved\":%u}",
                    (unsigned)q->relevant, (unsigned)q->retrieved,
                    (unsigned)q->relevant_retrieved);
        }
        fputc(']', f);
    }
    fputs("}\n", f);
}

static void print_table(FILE *f, const qe_result *r, int per_query)
{
    if (per_query) {
        int w = 3;
        for (size_t i = 0; i < r->nqueries; i++) {
            size_t n = strlen(r->queries[i].qid);
            if (n > (size_t)w)
                w = n > 64 ? 64 : (int)n;
        }
        fprintf(f, "%-*s %7s %7s %7s %7s %7s %7s\n", w, "qid", "nDCG@10", "MAP", "R@100",
                "R@1000", "P@10", "MRR@10");
        for (size_t i = 0; i < r->nqueries; i++) {
            const qe_query *q = &r->queries[i];
            fprintf(f, "%-*s %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f\n", w, q->qid, q->m.ndcg10,
                    q->m.map, q->m.recall100, q->m.recall1000, q->m.p10, q->m.mrr10);
        }
        fputc('\n', f);
    }
    const qe_measures *m = &r->mean;
    fprintf(f, "nDCG@10   %.4f\n", m->ndcg10);
    fprintf(f, "MAP       %.4f\n", m->map);
    fprintf(f, "R@100     %.4f\n", m->recall100);
    fprintf(f, "R@1000    %.4f\n", m->recall1000);
    fprintf(f, "P@10      %.4f\n", m->p10);
    fprintf(f, "MRR@10    %.4f\n", m->mrr10);
    fprintf(f, "queries   %zu\n", r->nqueries);
    fprintf(f, "absent    %zu\n", r->missing);
    fprintf(f, "unjudged  %zu\n", r->ignored);
}

int cli_eval(int argc, char **argv)
{
    int per_query = 0, json = 0, only_args = 0;
    cli_pager pg = { 0 };
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_args && a[0] == '-' && a[1]) {
            if (!strcmp(a, "--")) {
                only_args = 1;
            } else if (!strcmp(a, "--per-query") || !strcmp(a, "-q")) {
                per_query = 1;
            } else if (!strcmp(a, "--json")) {
                json = 1;
            } else if (!strcmp(a, "--no-pager")) {
                pg.off = 1;
            } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                fputs(usage, stdout);
                fputs(help, stdout);
                return 0;
            } else {
                return cli_failf("eval: unknown option '%s' (see 'quarry eval --help')", a);
            }
            continue;
        }
        if (npos == 2)
            return cli_failf("eval: unexpected argument '%s': give QRELS and RUN only "
                             "(see 'quarry eval --help')", a);
        pos[npos++] = a;
    }
    if (npos < 2) {
        fputs(usage, stderr);
        return cli_failf("eval: %s (see 'quarry eval --help')",
                         npos ? "missing RUN" : "missing QRELS and RUN");
    }
    if (!strcmp(pos[0], "-") && !strcmp(pos[1], "-"))
        return cli_failf("eval: only one of QRELS and RUN can be '-' (standard input)");

    quarry_error err = { 0 };
    qe_qrels *qrels = NULL;
    qe_run *run = NULL;
    qe_result *res = NULL;
    int rc = qe_qrels_load(pos[0], &qrels, &err);
    if (!rc)
        rc = qe_run_load(pos[1], &run, &err);
    if (!rc)
        rc = qe_evaluate(qrels, run, &res, &err);
    qe_run_free(run);
    qe_qrels_free(qrels);
    if (rc)
        return cli_fail(&err);

    if (res->missing == res->nqueries)
        fprintf(stderr, "quarry: warning: none of the %zu judged queries of %s is in %s "
                        "(every measure is 0); do the query ids match?\n",
                res->nqueries, pos[0], pos[1]);
    cli_pager_start(&pg);
    if (json)
        print_json(stdout, res, per_query);
    else
        print_table(stdout, res, per_query);
    qe_result_free(res);
    cli_pager_end(&pg);
    if (fflush(stdout) || ferror(stdout))
        return cli_failf("eval: cannot write the output");
    return 0;
}
