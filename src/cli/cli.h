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
