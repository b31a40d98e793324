/*
 * stats.c — `quarry stats` (what is in an index) and `quarry verify`
 * (every checksum and invariant).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

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

int cli_stats(int argc, char **argv)
{
    const char *dir = "index";
    int r = index_opt(argc, argv, "stats", "Prints what is in the index in DIR (default ./index).", &dir);
    if (r)
        return r == 1 ? 0 : 2;
    quarry_error err = { 0 };
    quarry_index *ix;
    if (quarry_open(dir, &ix, &err))
        return cli_fail(&err);
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
    printf("terms        %llu%s\n", (unsigned long long)in.terms,
           many ? " (summed over the segments' dictionaries)" : "");
    printf("postings     %llu%s\n", (unsigned long long)in.postings, dead ? " (deleted passages' included)" : "");
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
