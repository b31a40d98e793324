/*
 * stats.c — `quarry stats` (what is in an index; with --terms, the
 * collection statistics of queries' terms as JSON Lines, collstats.c) and
 * `quarry verify` (every checksum and invariant).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* Parses [-i DIR] [--help]; returns 0 to go on, 1 help printed, 2 error. */
static int index_opt(int argc, char **argv, const char *cmd, const char *what, const char **dir)
{
    static const struct option opts[] = {
        { "index", required_argument, 0, 'i' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        if (c == 'i')
            *dir = optarg;
        else if (c == 'h') {
            printf("usage: quarry %s [-i DIR]\n\n%s\n", cmd, what);
            return 1;
        } else {
            cli_failf("%s: unknown option or missing value '%s'", cmd, argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        cli_failf("%s: unexpected argument '%s'", cmd, argv[optind]);
        return 2;
    }
    return 0;
}

static const char stats_usage[] =
    "usage: quarry stats [-i DIR]...\n"
    "       quarry stats [-i DIR]... --terms [--plain] [--queries FILE | QUERY...]\n"
    "\n"
    "Prints what is in the index in DIR (default ./index); several -i: the\n"
    "indexes together, as quarry search -i DIR -i DIR2 searches them.\n"
    "\n"
    "With --terms: the collection statistics BM25 takes from the index for each\n"
    "query (the QUERY words as one query; the \"qid<TAB>query\" lines of --queries\n"
    "FILE; else one query a line from stdin, its qid the line number), one JSON\n"
    "line each: {\"qid\", \"query\", \"units\" (live passages, N), \"tokens\"\n"
    "(their total length), \"df\": {term: live passages holding it}} for every\n"
    "analyzed term the query scores with. Summed over the shards of a collection\n"
    "they are what quarry search --stats FILE takes (dist/README.md).\n"
    "\n"
    "Options:\n"
    "  -i, --index DIR     the index directory (default: ./index); repeatable\n"
    "      --terms         the statistics of queries' terms (above)\n"
    "      --plain         the queries are plain text, as quarry search --plain\n"
    "      --queries FILE  \"qid<TAB>query\" lines (\"-\" is stdin)\n"
    "  -h, --help          show this help\n";

/* --terms: one line per query; a query that fails (syntax, limit) is
 * reported as WHERE and the batch goes on; returns 0, or 2 at the end
 * when some failed, or at once on an error of the index. */
static int terms_one(quarry_index *ix, const char *qid, const char *query, int plain, const char *where,
                     unsigned long *failed)
{
    quarry_error err = { 0 };
    int rc = cli_cstats_print(stdout, ix, qid, query, plain, &err);
    if (rc == QUARRY_OK)
        return 0;
    fflush(stdout);
    if (rc != QUARRY_ESYNTAX && rc != QUARRY_ELIMIT)
        return cli_failf("%s: %s", where, err.msg);
    ++*failed;
    fprintf(stderr, "quarry: %s: %s\n", where, err.msg);
    return 0;
}

static int terms_batch(quarry_index *ix, const char *queries, const char *query, int plain)
{
    unsigned long failed = 0, ran = 0;
    int status = 0;
    if (query) {
        ran = 1;
        status = terms_one(ix, "1", query, plain, "query", &failed);
    } else if (queries) {
        cli_qline *q = NULL;
        size_t n = 0;
        if ((status = cli_queries_read(queries, &q, &n)))
            return status;
        const char *name = strcmp(queries, "-") == 0 ? "stdin" : queries;
        for (size_t i = 0; i < n && !status; i++, ran++) {
            char where[4200];
            snprintf(where, sizeof where, "%s:%lu", name, q[i].line);
            status = terms_one(ix, q[i].qid, q[i].query, plain, where, &failed);
        }
        cli_queries_free(q, n);
    } else {
        char *line = NULL;
        size_t cap = 0;
        unsigned long lineno = 0;
        errno = 0;
        while (!status && getline(&line, &cap, stdin) >= 0) {
            lineno++;
            line[strcspn(line, "\r\n")] = 0;
            if (!line[strspn(line, " \t\v\f")])
                continue;
            char qid[32], where[64];
            snprintf(qid, sizeof qid, "%lu", lineno);
            snprintf(where, sizeof where, "stdin:%lu", lineno);
            ran++;
            status = terms_one(ix, qid, line, plain, where, &failed);
        }
        if (!status && ferror(stdin))
            status = cli_failf("cannot read queries from stdin: %s", strerror(errno));
        free(line);
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_failf("cannot write the statistics: %s", strerror(errno ? errno : EIO));
    if (!status && failed)
        status = cli_failf("%lu of %lu quer%s failed", failed, ran, ran == 1 ? "y" : "ies");
    return status;
}

int cli_stats(int argc, char **argv)
{
    enum { OPT_TERMS = 1000, OPT_PLAIN, OPT_QUERIES };
    static const struct option opts[] = {
        { "index", required_argument, 0, 'i' }, { "terms", no_argument, 0, OPT_TERMS },
        { "plain", no_argument, 0, OPT_PLAIN }, { "queries", required_argument, 0, OPT_QUERIES },
        { "help", no_argument, 0, 'h' },        { 0, 0, 0, 0 },
    };
    const char *dirs[64] = { "index" }, *queries = NULL;
    size_t ndirs = 0;
    int terms = 0, plain = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        if (c == 'i') {
            if (ndirs == sizeof dirs / sizeof *dirs)
                return cli_failf("stats: at most %zu indexes (-i) at once", sizeof dirs / sizeof *dirs);
            dirs[ndirs++] = optarg;
        } else if (c == OPT_TERMS)
            terms = 1;
        else if (c == OPT_PLAIN)
            plain = 1;
        else if (c == OPT_QUERIES)
            queries = optarg;
        else if (c == 'h') {
            fputs(stats_usage, stdout);
            return 0;
        } else
            return cli_failf("stats: unknown option or missing value '%s' (see quarry stats --help)",
                             argv[optind - 1]);
    }
    if (!terms && (plain || queries || optind < argc))
        return optind < argc ? cli_failf("stats: unexpected argument '%s' (queries go with --terms)", argv[optind])
                             : cli_failf("stats: --plain and --queries go with --terms");
    if (queries && optind < argc)
        return cli_failf("stats: give either QUERY words or --queries FILE, not both");
    char *query = NULL;
    if (optind < argc) {   /* the words joined by spaces, as quarry search does */
        size_t len = 0;
        for (int i = optind; i < argc; i++)
            len += strlen(argv[i]) + 1;
        if (!(query = malloc(len)))
            return cli_failf("out of memory");
        char *p = query;
        for (int i = optind; i < argc; i++) {
            size_t l = strlen(argv[i]);
            memcpy(p, argv[i], l);
            p += l;
            *p++ = i + 1 < argc ? ' ' : '\0';
        }
    }
    quarry_error err = { 0 };
    quarry_index *ix;
    if (quarry_open_many(dirs, ndirs ? ndirs : 1, &ix, &err)) {
        free(query);
        return cli_fail(&err);
    }
    if (terms) {
        int status = terms_batch(ix, queries, query, plain);
        free(query);
        quarry_close(ix);
        return status;
    }
    const char *dir = dirs[0];
    quarry_info in;
    quarry_info_get(ix, &in);
    uint64_t postbytes = 0;
    printf("index        %s (generation %llu, %zu segment%s)\n", dir, (unsigned long long)in.generation, in.segments,
           in.segments == 1 ? "" : "s");
    printf("articles     %llu", (unsigned long long)in.live_articles);
    if (in.articles > in.live_articles)
        printf(" (%llu more deleted, kept until their segment is merged)",
               (unsigned long long)(in.articles - in.live_articles));
    printf("\npassages     %llu (%s", (unsigned long long)in.live_passages,
           in.passage_mode ? "passages of ~" : "whole articles");
    if (in.passage_mode)
        printf("%u tokens", in.passage_tokens);
    printf(")\n");
    /* terms, postings and tokens are the segments' own counts, summed: a
     * term in two segments counts twice, a deleted passage's postings count
     * until a merge drops them (quarry optimize makes them exact) */
    int many = in.segments > 1, dead = in.passages > in.live_passages;
    int pairs = !strcmp(in.stopwords, "none");   /* pair terms (index/FORMAT.md §pairs) */
    printf("terms        %llu%s\n", (unsigned long long)in.terms,
           many && pairs ? " (summed over the segments' dictionaries; pair terms of two words included)"
           : many        ? " (summed over the segments' dictionaries)"
           : pairs       ? " (pair terms of two words included)" : "");
    printf("postings     %llu%s\n", (unsigned long long)in.postings,
           dead && pairs ? " (deleted passages' and pair terms' included)"
           : dead        ? " (deleted passages' included)"
           : pairs       ? " (pair terms' included)" : "");
    printf("tokens       %llu (avg %.1f per passage)\n", (unsigned long long)in.tokens, in.avg_len);
    printf("analyzer     %s, stemmer %s, stop words %s\n", in.language, in.stemmer, in.stopwords);
    printf("files        (summed over %zu segment%s)\n", in.segments, in.segments == 1 ? "" : "s");
    for (size_t i = 0; i < in.nkinds; i++) {
        const char *k = in.kinds[i].kind;
        char name[24];
        snprintf(name, sizeof name, "*.%s", k);
        printf("  %-16s %12llu bytes in %llu file%s\n", name, (unsigned long long)in.kinds[i].bytes,
               (unsigned long long)in.kinds[i].files, in.kinds[i].files == 1 ? "" : "s");
        if (!strcmp(k, "post") || !strcmp(k, "posn"))
            postbytes += in.kinds[i].bytes;
        if (!strcmp(k, "post") && in.postings)
            printf("  %-16s %12.2f bits per posting (doc gaps, tf, skips, impacts)\n", "",
                   8.0 * (double)in.kinds[i].bytes / (double)in.postings);
        if (!strcmp(k, "posn") && in.positions)
            printf("  %-16s %12.2f bits per position\n", "", 8.0 * (double)in.kinds[i].bytes / (double)in.positions);
    }
    printf("  %-16s %12llu bytes (%.2f MiB; postings + positions %.2f MiB)\n", "total",
           (unsigned long long)in.bytes, (double)in.bytes / 1048576.0, (double)postbytes / 1048576.0);
    quarry_close(ix);
    return 0;
}

int cli_verify(int argc, char **argv)
{
    const char *dir = "index";
    int r = index_opt(argc, argv, "verify",
                      "Checks every checksum and structural invariant of the index in DIR;\n"
                      "exit 0 when it is sound, 2 with the first problem found.",
                      &dir);
    if (r)
        return r == 1 ? 0 : 2;
    quarry_error err = { 0 };
    if (quarry_verify(dir, &err))
        return cli_fail(&err);
    printf("%s: ok\n", dir);
    return 0;
}
