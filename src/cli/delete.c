/*
 * delete.c — `quarry delete`: deletes articles by id (arguments, or lines
 * of --ids FILE or stdin) in one commit; `quarry optimize`: merges every
 * segment into one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"

static const char delete_usage[] =
    "usage: quarry delete [-i DIR] [--ids FILE|-] [--strict] [ID...]\n"
    "\n"
    "Deletes the articles with these ids from the index, in one atomic commit (readers\n"
    "never wait; the previous commit stays until it is done). Ids come from the\n"
    "arguments and from --ids FILE (one id a line; - is stdin). An id the index does not\n"
    "hold is reported and counted; with --strict it is an error (exit 2) and nothing\n"
    "is deleted.\n"
    "\n"
    "  -i, --index DIR   the index directory (default ./index)\n"
    "      --ids FILE    ids, one a line (- for stdin)\n"
    "      --strict      an id not in the index is an error\n"
    "      --no-merge    do not merge segments after the commit\n"
    "  -q, --quiet       no summary line\n";

int cli_delete(int argc, char **argv)
{
    const char *dir = "index", *idfile = NULL;
    int strict = 0, quiet = 0, merge = 1;
    static const struct option opts[] = {
        { "index", required_argument, 0, 'i' }, { "ids", required_argument, 0, 'I' },
        { "strict", no_argument, 0, 'S' },      { "no-merge", no_argument, 0, 'G' },
        { "quiet", no_argument, 0, 'q' },       { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': dir = optarg; break;
        case 'I': idfile = optarg; break;
        case 'S': strict = 1; break;
        case 'G': merge = 0; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(delete_usage, stdout); return 0;
        case ':': return cli_failf("delete: option %s needs a value", argv[optind - 1]);
        default: return cli_failf("delete: unknown option '%s' (see 'quarry delete --help')", argv[optind - 1]);
        }
    }
    if (optind >= argc && !idfile)
        return cli_failf("delete: give ids as arguments or with --ids FILE (see 'quarry delete --help')");
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.add = 1;   /* threads left at the default (the processors'): they count deleted articles' terms out */
    o.merge = merge;
    quarry_error err = { 0 };
    quarry_writer *w;
    if (quarry_writer_open(dir, &o, &w, &err))
        return cli_fail(&err);
    int rc = 0;
    uint64_t asked = 0, unknown = 0;
    char first_unknown[256] = "";
    for (int i = optind; i < argc && !rc; i++) {
        asked++;
        rc = quarry_writer_delete(w, argv[i], &err);
        if (rc == QUARRY_ENOTFOUND) {
            if (!unknown++)
                snprintf(first_unknown, sizeof first_unknown, "%s", argv[i]);
            if (!quiet)
                fprintf(stderr, "quarry: delete: no article with id \"%s\"\n", argv[i]);
            rc = 0;
        }
    }
    if (idfile && !rc) {
        FILE *f = strcmp(idfile, "-") ? fopen(idfile, "r") : stdin;
        if (!f) {
            quarry_writer_close(w);
            return cli_failf("cannot open %s: %s", idfile, strerror(errno));
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        uint64_t lineno = 0;
        while (!rc && (n = getline(&line, &cap, f)) > 0) {
            lineno++;
            while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
            if (!n)
                continue;
            if (memchr(line, 0, (size_t)n)) {
                quarry_writer_close(w);
                free(line);
                if (f != stdin)
                    fclose(f);
                return cli_failf("%s:%llu: a NUL byte in an id", idfile, (unsigned long long)lineno);
            }
            asked++;
            rc = quarry_writer_delete(w, line, &err);
            if (rc == QUARRY_ENOTFOUND) {
                if (!unknown++)
                    snprintf(first_unknown, sizeof first_unknown, "%s", line);
                if (!quiet)
                    fprintf(stderr, "quarry: %s:%llu: no article with id \"%s\"\n", idfile, (unsigned long long)lineno, line);
                rc = 0;
            }
        }
        free(line);
        if (f != stdin)
            fclose(f);
    }
    if (!rc && strict && unknown) {
        quarry_writer_close(w);
        return cli_failf("delete: %llu of %llu ids are not in the index (the first: \"%s\"); --strict: nothing was deleted",
                         (unsigned long long)unknown, (unsigned long long)asked, first_unknown);
    }
    if (!rc)
        rc = quarry_writer_commit(w, &err);
    quarry_index_summary s;
    quarry_writer_summary(w, &s);
    quarry_writer_close(w);
    if (rc)
        return cli_fail(&err);
    if (!quiet)
        fprintf(stderr, "quarry: deleted %llu articles (%llu ids asked, %llu not in the index)\n",
                (unsigned long long)s.deleted, (unsigned long long)asked, (unsigned long long)unknown);
    return 0;
}

int cli_optimize(int argc, char **argv)
{
    const char *dir = "index";
    long mem = 0;
    int quiet = 0;
    static const struct option opts[] = {
        { "index", required_argument, 0, 'i' }, { "mem", required_argument, 0, 'M' },
        { "quiet", no_argument, 0, 'q' },       { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': dir = optarg; break;
        case 'M':
            if ((mem = cli_parse_uint("--mem", optarg, 8, 65536)) < 0)
                return 2;
            break;
        case 'q': quiet = 1; break;
        case 'h':
            puts("usage: quarry optimize [-i DIR] [--mem MB]\n\n"
                 "Merges every segment of the index into one, dropping deleted articles, in one\n"
                 "atomic commit (readers never wait).\n\n"
                 "  -i, --index DIR   the index directory (default ./index)\n"
                 "      --mem MB      memory budget (default 256)\n"
                 "  -q, --quiet       no summary line");
            return 0;
        case ':': return cli_failf("optimize: option %s needs a value", argv[optind - 1]);
        default: return cli_failf("optimize: unknown option '%s' (see 'quarry optimize --help')", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_failf("optimize: unexpected argument '%s'", argv[optind]);
    quarry_error err = { 0 };
    quarry_index_summary s;
    memset(&s, 0, sizeof s);
    double t0 = qnow();
    if (quarry_optimize(dir, (unsigned)mem, &s, &err))
        return cli_fail(&err);
    if (!quiet)
        fprintf(stderr, "quarry: merged %llu segments into one in %.2fs (%.1f MB written)\n",
                (unsigned long long)s.segments_merged, qnow() - t0, (double)s.bytes_merged / 1048576.0);
    return 0;
}
