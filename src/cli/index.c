/*
 * index.c — `quarry index`: builds an index from files, directories or
 * stdin, with progress on a terminal and a one-line summary on stderr.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"

static void help(FILE *f)
{
    fputs("usage: quarry index [-o DIR] [options] PATH...\n"
          "\n"
          "Builds a new index in DIR (default ./index) from PATHs: .txt files (one article;\n"
          "id = file name, title = first line or sentence), .jsonl / .jsonl.gz files (one\n"
          "{\"id\",\"title\",\"text\"[,\"date\"]} object per line), directories (walked recursively,\n"
          "sorted), or - for JSON Lines on stdin. An existing index in DIR is replaced in one\n"
          "atomic commit; an interrupted run leaves it untouched. With --add the documents join\n"
          "the index in DIR instead, and one whose id is there replaces it.\n"
          "\n"
          "  -o, --output DIR         index directory (default ./index)\n"
          "      --add                add to the index in DIR (its analyzer settings apply; an\n"
          "                           id already there is replaced); readers never wait\n"
          "      --threads N          indexing threads, each writing its own segments (default:\n"
          "                           one per processor, as many as --mem allows at 8 MB\n"
          "                           each); the index is the same for a given input and N\n"
          "      --no-merge           do not merge segments after the commit\n"
          "      --optimize           then merge every segment into one (as quarry optimize:\n"
          "                           faster queries for a longer build)\n"
          "      --allow-empty        an input without any article commits an empty index\n"
          "                           (otherwise it is an error and DIR is left as it is)\n"
          "      --language LANG      stemming language (default english; any Snowball language)\n"
          "      --stemmer KIND       snowball (default), porter (original Porter), none\n"
          "      --stopwords WHAT     default (English list), none, or FILE (one word a line)\n"
          "      --passages on|off    split articles into passages (default on)\n"
          "      --passage-tokens N   target passage length in tokens (default 120)\n"
          "      --mem MB             memory budget (default 256): the peak memory stays within\n"
          "                           it plus a small fixed overhead; the largest document is\n"
          "                           an eighth of it (32 MB at 256)\n"
          "  -q, --quiet              no progress and no summary\n",
          f);
}

typedef struct prog {
    double t0, last;
    int tty;
} prog;

static void on_progress(const quarry_progress *p, void *ctx)
{
    prog *g = ctx;
    double now = qnow();
    if (!g->tty || now - g->last < 0.2)
        return;
    g->last = now;
    double el = now - g->t0;
    double mbs = el > 0 ? (double)p->bytes_in / 1048576.0 / el : 0;
    fprintf(stderr, "\r\033[K%llu articles, %llu passages, %.1f MB/s",
            (unsigned long long)p->articles, (unsigned long long)p->passages, mbs);
    if (p->bytes_total && p->bytes_done && p->bytes_done <= p->bytes_total) {
        double eta = el * (double)(p->bytes_total - p->bytes_done) / (double)p->bytes_done;
        fprintf(stderr, ", %.0f%%, ETA %.0fs", 100.0 * (double)p->bytes_done / (double)p->bytes_total, eta);
    }
}

int cli_index(int argc, char **argv)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    const char *dir = "index";
    int quiet = 0;
    const char *setting = NULL;   /* an analyzer or passage option given */
    static const struct option opts[] = {
        { "output", required_argument, 0, 'o' },  { "language", required_argument, 0, 'L' },
        { "stemmer", required_argument, 0, 'S' }, { "stopwords", required_argument, 0, 'W' },
        { "passages", required_argument, 0, 'P' }, { "passage-tokens", required_argument, 0, 'T' },
        { "mem", required_argument, 0, 'M' },     { "quiet", no_argument, 0, 'q' },
        { "add", no_argument, 0, 'A' },           { "threads", required_argument, 0, 'N' },
        { "no-merge", no_argument, 0, 'G' },      { "allow-empty", no_argument, 0, 'E' },
        { "optimize", no_argument, 0, 'O' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;
    long v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'L': o.language = optarg; setting = "--language"; break;
        case 'S': o.stemmer = optarg; setting = "--stemmer"; break;
        case 'W': o.stopwords = optarg; setting = "--stopwords"; break;
        case 'P':
            setting = "--passages";
            if (!strcmp(optarg, "on"))
                o.passages = 1;
            else if (!strcmp(optarg, "off"))
                o.passages = 0;
            else
                return cli_failf("--passages: expected on or off, got '%s'", optarg);
            break;
        case 'T':
            setting = "--passage-tokens";
            if ((v = cli_parse_uint("--passage-tokens", optarg, 16, 100000)) < 0)
                return 2;
            o.passage_tokens = (unsigned)v;
            break;
        case 'M':
            if ((v = cli_parse_uint("--mem", optarg, 8, 65536)) < 0)
                return 2;
            o.mem_mb = (unsigned)v;
            break;
        case 'q': quiet = 1; break;
        case 'A': o.add = 1; break;
        case 'G': o.merge = 0; break;
        case 'O': o.optimize = 1; break;
        case 'E': o.allow_empty = 1; break;
        case 'N':
            if ((v = cli_parse_uint("--threads", optarg, 1, 64)) < 0)
                return 2;
            o.threads = (unsigned)v;
            break;
        case 'h': help(stdout); return 0;
        case ':': return cli_failf("index: option %s needs a value", argv[optind - 1]);
        default: return cli_failf("index: unknown option '%s' (see 'quarry index --help')", argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        help(stderr);
        return 2;
    }
    if (o.add && setting)
        return cli_failf("index: %s cannot be used with --add (the index keeps the settings it was built with; "
                         "rebuild it without --add to change them)", setting);
    prog g = { qnow(), 0, !quiet && isatty(2) };
    o.progress = on_progress;
    o.progress_ctx = &g;
    quarry_error err = { 0 };
    quarry_writer *w;
    if (quarry_writer_open(dir, &o, &w, &err))
        return cli_fail(&err);
    int rc = quarry_writer_add_paths(w, (const char *const *)argv + optind, (size_t)(argc - optind), &err);
    if (g.tty)
        fputs("\r\033[K", stderr);
    if (!rc)
        rc = quarry_writer_commit(w, &err);
    quarry_index_summary s;
    quarry_writer_summary(w, &s);
    quarry_writer_close(w);
    if (rc)
        return cli_fail(&err);   /* nothing was committed: the previous index is unchanged */
    if (!quiet) {
        double el = qnow() - g.t0;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr, "quarry: indexed %llu articles", (unsigned long long)s.articles);
        if (o.add)
            fprintf(stderr, " (%llu added, %llu replaced)", (unsigned long long)(s.articles - s.replaced),
                    (unsigned long long)s.replaced);
        fprintf(stderr, ", %llu passages in %.2fs (%.1f MB/s, peak memory %.0f MB); %llu segment%s",
                (unsigned long long)s.passages, el, el > 0 ? (double)s.bytes_in / 1048576.0 / el : 0.0,
                (double)ru.ru_maxrss / 1024.0, (unsigned long long)s.segments, s.segments == 1 ? "" : "s");
        if (s.merges)
            fprintf(stderr, ", %llu merge%s (write amplification %.2f)", (unsigned long long)s.merges,
                    s.merges == 1 ? "" : "s",
                    s.bytes_flushed ? (double)(s.bytes_flushed + s.bytes_merged) / (double)s.bytes_flushed : 1.0);
        if (s.empty_skipped)
            fprintf(stderr, "; %llu empty skipped", (unsigned long long)s.empty_skipped);
        if (s.invalid_utf8)
            fprintf(stderr, "; %llu invalid UTF-8 sequences replaced", (unsigned long long)s.invalid_utf8);
        fputc('\n', stderr);
    }
    if (s.special_skipped)   /* a warning, even with -q */
        fprintf(stderr, "quarry: warning: skipped %llu special file%s (FIFO, device or socket) in the directories "
                "given, e.g. %s\n", (unsigned long long)s.special_skipped, s.special_skipped == 1 ? "" : "s",
                s.special_example);
    return 0;
}
