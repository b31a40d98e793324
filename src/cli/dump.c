/*
 * dump.c — `quarry dump`: decodes index records for debugging: a term's
 * postings with positions, the analysis of a text, an article record and
 * its passages.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/pager.h"

static int print_posting(void *ctx, uint32_t passage, uint32_t tf, const uint32_t *pos)
{
    unsigned *limit = ctx;
    if (*limit == 0)
        return 0;
    (*limit)--;
    printf("  passage %u tf %u positions", passage, tf);
    for (uint32_t i = 0; i < tf; i++)
        printf(" %u", pos[i]);
    putchar('\n');
    return 0;
}

static int print_term(void *ctx, const char *term, size_t len, uint32_t pos, uint32_t start, uint32_t end)
{
    printf("%u\t%.*s\t[%u,%u)\n", pos, (int)len, term, start, end);
    return 0;
}

int cli_dump(int argc, char **argv)
{
    const char *dir = "index", *term = NULL, *text = NULL, *article = NULL;
    unsigned limit = 1000;
    cli_pager pg = { 0 };
    static const struct option opts[] = {
        { "index", required_argument, 0, 'i' },   { "term", required_argument, 0, 't' },
        { "analyze", required_argument, 0, 'a' }, { "article", required_argument, 0, 'r' },
        { "limit", required_argument, 0, 'n' },   { "no-pager", no_argument, 0, 'P' },
        { "help", no_argument, 0, 'h' },          { 0, 0, 0, 0 },
    };
    int c;
    long v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': dir = optarg; break;
        case 't': term = optarg; break;
        case 'a': text = optarg; break;
        case 'r': article = optarg; break;
        case 'P': pg.off = 1; break;
        case 'n':
            if ((v = cli_parse_uint("--limit", optarg, 0, 1L << 30)) < 0)
                return 2;
            limit = (unsigned)v;
            break;
        case 'h':
            puts("usage: quarry dump [-i DIR] [--no-pager] (--term TERM [--limit N] | --analyze TEXT | --article ID)\n\n"
                 "  --term TERM     df, cf and the postings (passage, tf, positions) of an analyzed term\n"
                 "                  (\"of the\": the pair term of two, in an index made with --stopwords none)\n"
                 "  --limit N       at most N postings of --term (default 1000)\n"
                 "  --analyze TEXT  the terms the index's analyzer makes of TEXT (position, term, byte span)\n"
                 "  --article ID    an article's record and its passages\n"
                 "  --no-pager      never page the output (see 'quarry search --help')");
            return 0;
        default: return cli_failf("dump: unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (!term && !text && !article)
        return cli_failf("dump: give --term, --analyze or --article (see 'quarry dump --help')");
    quarry_error err = { 0 };
    quarry_index *ix;
    if (quarry_open(dir, &ix, &err))
        return cli_fail(&err);
    int rc = 0;
    cli_pager_start(&pg);
    if (text && quarry_analyze(ix, text, strlen(text), print_term, NULL, &err))
        rc = cli_fail(&err);
    if (!rc && term) {
        uint64_t df, cf;
        if (quarry_dump_term(ix, term, &df, &cf, NULL, NULL, &err))
            rc = cli_fail(&err);
        else {
            printf("term %s df %llu cf %llu\n", term, (unsigned long long)df, (unsigned long long)cf);
            if (quarry_dump_term(ix, term, &df, &cf, print_posting, &limit, &err))
                rc = cli_fail(&err);
        }
    }
    if (!rc && article) {
        uint32_t a;
        quarry_article ar;
        if (quarry_article_find(ix, article, &a, &err) || quarry_article_get(ix, a, &ar, &err))
            rc = cli_fail(&err);
        else {
            printf("article %u id %s\ntitle %s\ndate %s\npassages %u..%u\n", a, ar.id, ar.title, ar.date,
                   ar.first_passage, ar.first_passage + ar.npassages - 1);
            for (uint32_t p = ar.first_passage; !rc && p < ar.first_passage + ar.npassages; p++) {
                char *t;
                size_t len;
                if (quarry_passage_text(ix, p, &t, &len, &err))
                    rc = cli_fail(&err);
                else {
                    printf("--- passage %u (%zu bytes)\n%s\n", p, len, t);
                    free(t);
                }
            }
        }
    }
    cli_pager_end(&pg);
    quarry_close(ix);
    return rc;
}
