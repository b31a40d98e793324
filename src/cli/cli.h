/*
 * cli.h — the command-line layer: one file per subcommand, each an entry
 * point `int cli_NAME(int argc, char **argv)` returning the exit status
 * (0 success / hits, 1 no hits, 2 error). Only this layer prints or exits.
 */
#ifndef QUARRY_CLI_H
#define QUARRY_CLI_H

#include <stdio.h>

#include "quarry.h"

int cli_index(int argc, char **argv);
int cli_search(int argc, char **argv);
int cli_stats(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_dump(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_delete(int argc, char **argv);
int cli_optimize(int argc, char **argv);

/* The lines of a --queries file ("qid<TAB>query"; search.c), all read and
 * checked (a missing tab, an empty or repeated qid: FILE:LINE printed,
 * status 2) before any runs. Free with cli_queries_free. */
typedef struct cli_qline {
    char *qid, *query;
    unsigned long line;
} cli_qline;
int cli_queries_read(const char *path, cli_qline **out, size_t *nout);
void cli_queries_free(cli_qline *q, size_t n);

/* Collection statistics as JSON Lines (collstats.c): one line of the df of
 * `query`'s terms in ix and ix's totals, as `quarry stats --terms` prints
 * it (a quarry_code; err set); and the table of a file of such lines,
 * summed over shards, for quarry_search_options.stats (0, or 2 with the
 * file and line printed). */
int cli_cstats_print(FILE *f, quarry_index *ix, const char *qid, const char *query, int plain, quarry_error *err);
int cli_cstats_load(const char *path, quarry_stats **out);

/* Prints "quarry: MESSAGE" (one line) on stderr; returns 2. */
int cli_fail(const quarry_error *e);
int cli_failf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Parses a non-negative integer option value; prints an error and returns -1 when invalid. */
long cli_parse_uint(const char *opt, const char *val, long min, long max);
double cli_parse_double(const char *opt, const char *val, double min, double max);
/* "auto", "maxscore", "bmw" or "exhaustive" -> enum quarry_algorithm; -1 (error printed) else. */
int cli_parse_algorithm(const char *opt, const char *val);

#endif
