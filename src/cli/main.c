/*
 * main.c — the quarry command: dispatches to one file per subcommand and
 * holds the few helpers they share (error printing, option values).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_fail(const quarry_error *e)
{
    fprintf(stderr, "quarry: %s\n", e->msg[0] ? e->msg : quarry_strerror(e->code));
    return 2;
}

int cli_failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("quarry: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

long cli_parse_uint(const char *opt, const char *val, long min, long max)
{
    char *end;
    errno = 0;
    long v = val ? strtol(val, &end, 10) : 0;
    if (!val || !*val || *end || errno || v < min || v > max) {
        cli_failf("%s: expected a whole number from %ld to %ld, got '%s'", opt, min, max, val ? val : "");
        return -1;
    }
    return v;
}

double cli_parse_double(const char *opt, const char *val, double min, double max)
{
    char *end;
    errno = 0;
    double v = val ? strtod(val, &end) : 0;
    if (!val || !*val || *end || errno || !(v >= min && v <= max)) {
        cli_failf("%s: expected a number from %g to %g, got '%s'", opt, min, max, val ? val : "");
        return -1;
    }
    return v;
}

int cli_parse_algorithm(const char *opt, const char *val)
{
    static const struct { const char *name; int algo; } names[] = {
        { "auto", QUARRY_ALGO_AUTO }, { "maxscore", QUARRY_ALGO_MAXSCORE },
        { "bmw", QUARRY_ALGO_BMW },   { "exhaustive", QUARRY_ALGO_EXHAUSTIVE },
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (val && strcmp(val, names[i].name) == 0)
            return names[i].algo;
    cli_failf("%s: expected auto, maxscore, bmw or exhaustive, got '%s'", opt, val ? val : "");
    return -1;
}

static void usage(FILE *f)
{
    fputs("usage: quarry [--no-pager] COMMAND [OPTIONS]\n"
          "\n"
          "  index  [-o DIR] [--add] [options] PATH...\n"
          "                                       build an index (default DIR: ./index), or add to it\n"
          "  delete [-i DIR] [--ids FILE] [ID...] delete articles by id\n"
          "  optimize [-i DIR]                    merge every segment into one\n"
          "  search [-i DIR]... [-k N] [--json|--trec TAG] [QUERY...]\n"
          "                                       rank passages with BM25 (interactive without QUERY);\n"
          "                                       several -i search several indexes as one\n"
          "  stats  [-i DIR]                      what is in an index\n"
          "  verify [-i DIR]                      check every checksum and invariant\n"
          "  dump   [-i DIR] --term WORD [--limit N] | --analyze TEXT | --article ID\n"
          "                                       decode index records for debugging\n"
          "  bench  [-i DIR] --queries FILE       query latency and throughput\n"
          "  eval   QRELS RUN                     nDCG@10, MAP, R@100, P@10 (trec_eval definitions)\n"
          "\n"
          "'quarry COMMAND --help' describes a command. Exit status: 0 success (hits found),\n"
          "1 no hits, 2 error. Long output on a terminal (search, dump, eval) goes through\n"
          "$QUARRY_PAGER, else $PAGER, else less -R; --no-pager turns that off.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--no-pager") == 0) {   /* as git --no-pager */
        setenv("QUARRY_PAGER", "", 1);                        /* an empty pager is none */
        argc--;
        argv++;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        { "index", cli_index }, { "search", cli_search }, { "stats", cli_stats }, { "verify", cli_verify },
        { "dump", cli_dump },   { "eval", cli_eval },     { "bench", cli_bench }, { "delete", cli_delete },
        { "optimize", cli_optimize },
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (strcmp(cmd, cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("quarry %s\n", QUARRY_VERSION);
        return 0;
    }
    cli_failf("unknown command '%s' (try 'quarry --help')", cmd);
    return 2;
}
