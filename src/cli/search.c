/*
 * search.c — `quarry search`: option parsing, the query modes (one query
 * from the command line; batches from --queries FILE or stdin lines; the
 * interactive session of session.c) and their exit statuses. Formatting
 * lives in output.c. Uses only the public API (quarry.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/pager.h"

#define NOTERMS_MSG "no hits: every term of the query is a stop word or absent from the index"

static const char usage_text[] =
    "usage: quarry search [options] [QUERY...]\n"
    "\n"
    "Searches an index and prints the best hits, best first. The QUERY words are\n"
    "joined by spaces into one query. With no QUERY: an interactive session when\n"
    "stdin and stdout are terminals, otherwise one query per line from stdin.\n"
    "\n"
    "Options:\n"
    "  -i, --index DIR     the index directory (default: ./index); given several\n"
    "                      times, the indexes are searched as one collection (the\n"
    "                      same analyzer settings; BM25 over all of them: the hits\n"
    "                      are those of one index of all their documents)\n"
    "  -k N                number of hits (default 10)\n"
    "      --offset N      skip the first N hits (paging; default 0)\n"
    "      --passages      rank passages: several passages of one article may be\n"
    "                      hits (default: one hit per article, its best passage)\n"
    "      --k1 X          BM25 term frequency saturation (default 1.2)\n"
    "      --b Y           BM25 length normalisation, 0 to 1 (default 0.75)\n"
    "      --json          one JSON object per hit per line: \"qid\" (batches),\n"
    "                      \"rank\", \"score\", \"doc\" (the article id), \"title\",\n"
    "                      \"date\" (when known), \"passage\" (its number within the\n"
    "                      article, from 0), \"text\" (the passage), \"duplicates\"\n"
    "                      (when collapsing: [{\"doc\", \"passage\", \"score\"}...]),\n"
    "                      \"explain\" (with --explain)\n"
    "      --trec TAG      a TREC run: lines \"qid Q0 docid rank score TAG\"; the\n"
    "                      queries come from --queries FILE, or from stdin lines\n"
    "                      (qid = line number)\n"
    "      --queries FILE  run the queries of FILE, lines \"qid<TAB>query\" (\"-\" is\n"
    "                      stdin; blank lines and lines starting with '#' are skipped)\n"
    "      --color[=WHEN]  colour and highlight the output: auto (the default:\n"
    "                      when stdout is a terminal, TERM is not \"dumb\" and\n"
    "                      NO_COLOR is unset), always, never\n"
    "      --plain         the queries are plain text: quotes, parentheses, '+',\n"
    "                      '-', ':' and AND/OR/NOT have no special meaning, every\n"
    "                      word is a ranked OR term (for natural-language query\n"
    "                      sets such as queries.tsv files); they are expanded\n"
    "                      by pseudo-relevance feedback unless --no-expand\n"
    "      --expand, --no-expand\n"
    "                      RM3 pseudo-relevance feedback for --plain queries:\n"
    "                      the query is expanded with the 20 likeliest terms of\n"
    "                      its 10 best passages (weight 0.2 against 0.8 for the\n"
    "                      query); on by default with --plain\n"
    "      --fb-docs N, --fb-terms N, --fb-weight W\n"
    "                      feedback units (10), expansion terms (20) and the\n"
    "                      weight of the original query (0.8)\n"
    "      --since DATE    only articles dated DATE or later: an ISO 8601 date or\n"
    "                      a prefix of one (2025, 2025-11, 2025-11-04,\n"
    "                      2025-11-04T10:30), a prefix meaning its first moment\n"
    "      --until DATE    only articles dated DATE or earlier, a prefix meaning its\n"
    "                      last moment (--until 2025-11 includes all of November).\n"
    "                      With --since or --until, articles without a date are\n"
    "                      left out; an article dated 2025-11 only counts as dated\n"
    "                      at the start of November. The range is part of the\n"
    "                      search: the k hits are the k best in it\n"
    "      --sort ORDER    score (the default: the best first) or date (the newest\n"
    "                      first, the score breaking ties; undated articles last)\n"
    "      --collapse, --no-collapse\n"
    "                      show hits whose text is the same (the same fingerprint\n"
    "                      of their analyzed words, computed at index time: whole\n"
    "                      articles, or passages with --passages) once, as the\n"
    "                      first of them with \"(+N duplicates)\"; the k hits are k\n"
    "                      distinct ones. On by default, except for --trec runs\n"
    "      --stats FILE    score with the collection statistics of FILE instead of\n"
    "                      the index's own: lines of \"quarry stats --terms\" summed\n"
    "                      over every shard of a collection (N, the total length,\n"
    "                      the df of each query term), so that this shard scores\n"
    "                      as one index of the whole collection would; not with\n"
    "                      feedback (--plain needs --no-expand)\n"
    "      --exact-scores  --json and --trec scores with 17 significant digits (the\n"
    "                      exact value, for merging the runs of shards) instead of 6\n"
    "                      decimals\n"
    "      --explain       after each hit, how BM25 scored it: every matching term\n"
    "                      or phrase with its tf, idf (and df), weight and share of\n"
    "                      the score, the passage's length, the average length, N,\n"
    "                      k1 and b; with --json an \"explain\" object\n"
    "      --exhaustive    score every posting of every term (the reference\n"
    "                      algorithm: slower, the same results)\n"
    "      --algorithm NAME\n"
    "                      auto (the default: the fastest for the query's shape),\n"
    "                      maxscore, bmw (block-max WAND) or exhaustive; all give\n"
    "                      the same hits\n"
    "      --count         count every match exactly; by default the count is\n"
    "                      exact up to 1000 and shown as N+ past that, which\n"
    "                      lets the search skip what cannot enter the top k\n"
    "      --no-pairs      check phrases by their words' positions only, not by\n"
    "                      the index's pair terms (the same hits, slower)\n"
    "      --no-pager      never page the output (on a terminal it goes through\n"
    "                      $QUARRY_PAGER, else $PAGER, else less -R; LESS=FRX\n"
    "                      when LESS is unset; an empty or \"cat\" pager is none)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Query language:\n"
    "  word word           ranked OR: hits that contain more of the words, and\n"
    "                      rarer words, rank higher (BM25)\n"
    "  \"exact phrase\"      the words next to each other, in this order\n"
    "  +word, +\"phrase\"    required\n"
    "  -word, -\"phrase\"    excluded\n"
    "  a AND b, a OR b, NOT a, ( ... )\n"
    "                      boolean operators, in upper case; NOT binds tighter than\n"
    "                      AND, AND tighter than OR; lower-case and, or, not are\n"
    "                      ordinary words\n"
    "  title:word, title:\"phrase\"\n"
    "                      the word or phrase in the article title\n"
    "  sino-russian        hyphenated words match as a phrase\n"
    "  Words are analyzed like the indexed text (case folding, stemming, stop\n"
    "  words), so \"investments\" also finds \"investment\". On the command line, a\n"
    "  query word that starts with '-' goes after \"--\" or inside quotes:\n"
    "    quarry search -- sanctions -russia\n"
    "    quarry search 'sanctions -russia'\n"
    "\n"
    "Interactive session: type a query; :open N shows the whole article of hit N\n"
    "(through the pager), :more the next hits, :k N sets the number of hits, :json\n"
    "and :passages toggle those modes, :help, :quit (or Ctrl-D). History:\n"
    "$XDG_STATE_HOME/quarry/history when XDG_STATE_HOME is set, else\n"
    "~/.quarry_history.\n"
    "\n"
    "Batches (--queries FILE, or queries on stdin): a query that fails (a syntax\n"
    "error, a limit) is reported as \"FILE:LINE: column N: ...\" on stderr and the\n"
    "batch goes on with the next query.\n"
    "\n"
    "Exit status: 0 hits found (batches: every query ran), 1 no hits, 2 an error\n"
    "(bad option, no index, a query syntax error; batches: some query failed).\n";

enum {
    OPT_OFFSET = 1000, OPT_PASSAGES, OPT_K1, OPT_B, OPT_JSON, OPT_TREC, OPT_QUERIES,
    OPT_COLOR, OPT_EXHAUSTIVE, OPT_ALGORITHM, OPT_COUNT, OPT_NO_PAIRS, OPT_PLAIN, OPT_EXPAND, OPT_NO_EXPAND, OPT_FB_DOCS, OPT_FB_TERMS, OPT_FB_WEIGHT,
    OPT_NO_PAGER, OPT_SINCE, OPT_UNTIL, OPT_SORT, OPT_COLLAPSE, OPT_NO_COLLAPSE, OPT_EXPLAIN, OPT_STATS, OPT_EXACT_SCORES
};

static const struct option long_options[] = {
    { "index", required_argument, NULL, 'i' },
    { "offset", required_argument, NULL, OPT_OFFSET },
    { "passages", no_argument, NULL, OPT_PASSAGES },
    { "k1", required_argument, NULL, OPT_K1 },
    { "b", required_argument, NULL, OPT_B },
    { "json", no_argument, NULL, OPT_JSON },
    { "trec", required_argument, NULL, OPT_TREC },
    { "queries", required_argument, NULL, OPT_QUERIES },
    { "color", optional_argument, NULL, OPT_COLOR },
    { "colour", optional_argument, NULL, OPT_COLOR },
    { "exhaustive", no_argument, NULL, OPT_EXHAUSTIVE },
    { "algorithm", required_argument, NULL, OPT_ALGORITHM },
    { "count", no_argument, NULL, OPT_COUNT },
    { "no-pairs", no_argument, NULL, OPT_NO_PAIRS },
    { "plain", no_argument, NULL, OPT_PLAIN },
    { "expand", no_argument, NULL, OPT_EXPAND },
    { "no-expand", no_argument, NULL, OPT_NO_EXPAND },
    { "fb-docs", required_argument, NULL, OPT_FB_DOCS },
    { "fb-terms", required_argument, NULL, OPT_FB_TERMS },
    { "fb-weight", required_argument, NULL, OPT_FB_WEIGHT },
    { "no-pager", no_argument, NULL, OPT_NO_PAGER },
    { "since", required_argument, NULL, OPT_SINCE },
    { "until", required_argument, NULL, OPT_UNTIL },
    { "sort", required_argument, NULL, OPT_SORT },
    { "collapse", no_argument, NULL, OPT_COLLAPSE },
    { "no-collapse", no_argument, NULL, OPT_NO_COLLAPSE },
    { "explain", no_argument, NULL, OPT_EXPLAIN },
    { "stats", required_argument, NULL, OPT_STATS },
    { "exact-scores", no_argument, NULL, OPT_EXACT_SCORES },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* ------------------------------------------------------------ one query */

static int blank_query(const char *s)
{
    return s[strspn(s, " \t\r\n\v\f")] == 0;
}

/* Runs `query` and prints its hits (and, for people, the footer), through
 * the pager `pg` on a terminal. Returns a quarry_code with the message in
 * *err, printed by the caller; *nhits is the number of hits printed. */
static int search_print(quarry_index *ix, const char *query, const quarry_search_options *so,
                        const cli_out_style *st, const char *qid, cli_pager *pg, size_t *nhits,
                        quarry_error *err)
{
    quarry_results *r = NULL;
    *nhits = 0;
    int rc = quarry_search(ix, query, so, &r, err);
    if (rc != QUARRY_OK)
        return rc;
    cli_pager_start(pg);
    rc = cli_out_results(stdout, ix, r, so->offset, qid, st, err);
    if (rc == QUARRY_OK && st->format == CLI_OUT_PEOPLE)
        cli_out_footer(stdout, r, so->offset, st);
    *nhits = r->n;
    quarry_results_free(r);
    return rc;
}

/* The command-line query. Returns 0 hits, 1 no hits (or no searchable
 * term), 2 error (reported). */
static int run_one(quarry_index *ix, const char *query, const quarry_search_options *so,
                   const cli_out_style *st, const char *qid, cli_pager *pg)
{
    quarry_error err = { 0 };
    size_t nhits;
    int rc = search_print(ix, query, so, st, qid, pg, &nhits, &err);
    if (rc != QUARRY_OK)
        fflush(stdout);   /* the message after what was printed before */
    if (rc == QUARRY_ENOTERMS) {
        fprintf(stderr, "quarry: " NOTERMS_MSG "\n");
        return 1;
    }
    if (rc == QUARRY_ESYNTAX)
        return cli_failf("query: %s", err.msg);
    if (rc != QUARRY_OK)
        return cli_fail(&err);
    return nhits > 0 ? 0 : 1;
}

/* ------------------------------------------------------------ batches */

/* A batch of queries (--queries FILE, or one query a line on stdin): a
 * query that fails (a syntax error, a limit) is reported as FILE:LINE and
 * the batch goes on; an error of the index or of the output stops it. */
typedef struct batch {
    quarry_index *ix;
    const quarry_search_options *so;
    const cli_out_style *st;
    cli_pager *pg;
    unsigned long ran, failed;
    int hinted;   /* the --plain hint was given */
} batch;

/* Whether a syntax error is about a character that natural-language text
 * uses as punctuation ('+', '-', ':', quotes, parentheses): then the query
 * file is probably meant for --plain. `msg` is "column N: ...", N counting
 * characters from 1. */
static int natural_language_error(const char *query, const char *msg)
{
    static const char *const about[] = { "quote", "phrase", "parenthes", "'+'", "'-'", "title:" };
    for (size_t i = 0; i < sizeof about / sizeof *about; i++)
        if (strstr(msg, about[i]))
            return 1;
    unsigned long col = 0;
    if (sscanf(msg, "column %lu:", &col) != 1 || col == 0)
        return 0;
    const unsigned char *p = (const unsigned char *)query;
    for (unsigned long c = 1; *p; p++) {   /* to the first byte of character `col` */
        if ((*p & 0xC0) == 0x80)
            continue;
        if (c++ == col)
            break;
    }
    return *p && strchr("+-:\"()", *p);
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Runs one query of a batch; `where` is "FILE:LINE". Returns 0 to go on, 2
 * to stop (reported). */
static int batch_query(batch *b, const char *query, const char *qid, const char *showqid,
                       const char *where)
{
    if (b->st->format == CLI_OUT_PEOPLE) {
        cli_pager_start(b->pg);
        if (b->ran > 0)
            putc('\n', stdout);
        cli_out_query_header(stdout, showqid, query, b->st);
    }
    b->ran++;
    quarry_error err = { 0 };
    size_t nhits;
    int rc = search_print(b->ix, query, b->so, b->st, qid, b->pg, &nhits, &err);
    fflush(stdout);   /* the hits before the message of a later query */
    if (rc == QUARRY_OK)
        return 0;
    if (rc == QUARRY_ENOTERMS) {
        fprintf(stderr, "quarry: %s: " NOTERMS_MSG "\n", where);
        return 0;
    }
    if (rc != QUARRY_ESYNTAX && rc != QUARRY_ELIMIT)
        return cli_failf("%s: %s", where, err.msg);
    b->failed++;
    const char *hint = "";
    if (rc == QUARRY_ESYNTAX && !b->so->plain && !b->hinted && natural_language_error(query, err.msg)) {
        hint = " (natural-language queries? try --plain)";
        b->hinted = 1;
    }
    fprintf(stderr, "quarry: %s: %s%s\n", where, err.msg, hint);
    return 0;
}

/* The exit status of a batch that ran to its end: 2 when a query failed
 * (with a summary line), else 0. */
static int batch_end(const batch *b)
{
    if (b->failed == 0)
        return 0;
    return cli_failf("%lu of %lu quer%s failed", b->failed, b->ran, b->ran == 1 ? "y" : "ies");
}

static int cmp_qid(const void *a, const void *b)
{
    const cli_qline *x = *(const cli_qline *const *)a, *y = *(const cli_qline *const *)b;
    int c = strcmp(x->qid, y->qid);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

void cli_queries_free(cli_qline *q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(q[i].qid);   /* qid and query share one allocation */
    free(q);
}

/* Reads and checks every line of a --queries file before running any. */
int cli_queries_read(const char *path, cli_qline **out, size_t *nout)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    const char *name = f == stdin ? "stdin" : path;
    if (!f)
        return cli_failf("cannot open the queries file %s: %s", path, strerror(errno));
    cli_qline *q = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    unsigned long lineno = 0;
    int status = 0;
    errno = 0;
    ssize_t got;
    while ((got = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (memchr(line, 0, (size_t)got)) {
            status = cli_failf("%s:%lu: a NUL byte at column %zu; a query is text", name, lineno,
                               strlen(line) + 1);
            break;
        }
        chomp(line);
        char *s = line;
        if (lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3;   /* a byte order mark */
        if (blank_query(s) || s[0] == '#')
            continue;
        char *tab = strchr(s, '\t');
        if (!tab) {
            status = cli_failf("%s:%lu: expected \"qid<TAB>query\", found no tab", name, lineno);
            break;
        }
        *tab = '\0';
        if (!*s) {
            status = cli_failf("%s:%lu: the query id before the tab is empty", name, lineno);
            break;
        }
        for (const char *c = s; *c; c++) {
            if (*c == ' ' || *c == '\v' || *c == '\f') {
                status = cli_failf("%s:%lu: the query id \"%s\" contains white space", name,
                                   lineno, s);
                break;
            }
        }
        if (status)
            break;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            cli_qline *nq = realloc(q, nc * sizeof *nq);
            if (!nq) {
                status = cli_failf("out of memory reading %s", name);
                break;
            }
            q = nq;
            cap = nc;
        }
        size_t lq = strlen(s), lt = strlen(tab + 1);
        char *mem = malloc(lq + lt + 2);
        if (!mem) {
            status = cli_failf("out of memory reading %s", name);
            break;
        }
        memcpy(mem, s, lq + 1);
        memcpy(mem + lq + 1, tab + 1, lt + 1);
        q[n].qid = mem;
        q[n].query = mem + lq + 1;
        q[n].line = lineno;
        n++;
    }
    if (!status && ferror(f))
        status = cli_failf("cannot read the queries file %s: %s", name, strerror(errno));
    free(line);
    if (f != stdin)
        fclose(f);
    if (!status && n > 1) {
        /* the same qid twice would merge two queries in a TREC run */
        cli_qline **sorted = malloc(n * sizeof *sorted);
        if (!sorted) {
            status = cli_failf("out of memory reading %s", name);
        } else {
            for (size_t i = 0; i < n; i++)
                sorted[i] = &q[i];
            qsort(sorted, n, sizeof *sorted, cmp_qid);
            for (size_t i = 1; i < n; i++) {
                if (strcmp(sorted[i]->qid, sorted[i - 1]->qid) == 0) {
                    status = cli_failf("%s:%lu: duplicate query id \"%s\" (first on line %lu)",
                                       name, sorted[i]->line, sorted[i]->qid,
                                       sorted[i - 1]->line);
                    break;
                }
            }
            free(sorted);
        }
    }
    if (!status && n == 0)
        status = cli_failf("%s: no queries (expected \"qid<TAB>query\" lines)", name);
    if (status) {
        cli_queries_free(q, n);
        return status;
    }
    *out = q;
    *nout = n;
    return 0;
}

static int batch_file(quarry_index *ix, const char *path, const quarry_search_options *so,
                      const cli_out_style *st, cli_pager *pg)
{
    cli_qline *q = NULL;
    size_t n = 0;
    int status = cli_queries_read(path, &q, &n);
    if (status)
        return status;
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
    batch b = { ix, so, st, pg, 0, 0, 0 };
    for (size_t i = 0; i < n && status == 0; i++) {
        char where[4200];
        snprintf(where, sizeof where, "%s:%lu", name, q[i].line);
        status = batch_query(&b, q[i].query, q[i].qid, q[i].qid, where);
    }
    cli_queries_free(q, n);
    return status ? status : batch_end(&b);
}

static int batch_stdin(quarry_index *ix, const quarry_search_options *so, const cli_out_style *st,
                       cli_pager *pg)
{
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    int status = 0;
    batch b = { ix, so, st, pg, 0, 0, 0 };
    errno = 0;
    ssize_t got;
    while (status == 0 && (got = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (memchr(line, 0, (size_t)got)) {
            status = cli_failf("stdin:%lu: a NUL byte at column %zu; a query is text", lineno, strlen(line) + 1);
            break;
        }
        chomp(line);
        if (blank_query(line))
            continue;
        char qid[32], where[64];
        snprintf(qid, sizeof qid, "%lu", lineno);
        snprintf(where, sizeof where, "stdin:%lu", lineno);
        status = batch_query(&b, line, qid, NULL, where);
    }
    if (status == 0 && ferror(stdin))
        status = cli_failf("cannot read queries from stdin: %s", strerror(errno));
    free(line);
    return status ? status : batch_end(&b);
}

/* ------------------------------------------------------------ main */

/* Whether a failed argument was a long option ("--name..."). */
static int long_arg(const char *a)
{
    return a && a[0] == '-' && a[1] == '-' && a[2];
}

static int finish(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno;
        fprintf(stderr, "quarry: cannot write the results: %s\n", strerror(e ? e : EIO));
        return 2;
    }
    return status;
}

int cli_search(int argc, char **argv)
{
    quarry_search_options so;
    quarry_search_options_init(&so);
    const char *queries = NULL, *tag = NULL, *stats = NULL;
    const char *dirs[64] = { "index" };
    size_t ndirs = 0;
    int json = 0, expand = -1, color_mode = CLI_COLOR_AUTO, collapse = -1, explain = 0, exact = 0;
    uint64_t since = 0, until = UINT64_MAX;
    cli_pager pg = { 0 };

    opterr = 0;
    optind = 0;   /* glibc: start a fresh scan from argv[1] */
    for (;;) {
        int c = getopt_long(argc, argv, ":i:k:h", long_options, NULL);
        if (c == -1)
            break;
        long v;
        double d;
        switch (c) {
        case 'i':
            if (ndirs == sizeof dirs / sizeof *dirs)
                return cli_failf("search: at most %zu indexes (-i) at once", sizeof dirs / sizeof *dirs);
            dirs[ndirs++] = optarg;
            break;
        case 'k':
            if ((v = cli_parse_uint("-k", optarg, 1, 10000000)) < 0)
                return 2;
            so.k = (unsigned)v;
            break;
        case OPT_OFFSET:
            if ((v = cli_parse_uint("--offset", optarg, 0, 1000000000)) < 0)
                return 2;
            so.offset = (unsigned)v;
            break;
        case OPT_PASSAGES:
            so.passages = 1;
            break;
        case OPT_K1:
            if ((d = cli_parse_double("--k1", optarg, 0, 1000)) < 0)
                return 2;
            so.k1 = d;
            break;
        case OPT_B:
            if ((d = cli_parse_double("--b", optarg, 0, 1)) < 0)
                return 2;
            so.b = d;
            break;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_TREC:
            if (!*optarg || strpbrk(optarg, " \t\n\r\v\f"))
                return cli_failf("--trec: the run tag must be one word, not \"%s\"", optarg);
            tag = optarg;
            break;
        case OPT_QUERIES:
            queries = optarg;
            break;
        case OPT_COLOR:
            if (!optarg || strcmp(optarg, "always") == 0 || strcmp(optarg, "yes") == 0)
                color_mode = CLI_COLOR_ALWAYS;
            else if (strcmp(optarg, "never") == 0 || strcmp(optarg, "no") == 0)
                color_mode = CLI_COLOR_NEVER;
            else if (strcmp(optarg, "auto") == 0)
                color_mode = CLI_COLOR_AUTO;
            else
                return cli_failf("--color: expected auto, always or never, not \"%s\"", optarg);
            break;
        case OPT_PLAIN:
            so.plain = 1;
            if (expand < 0)
                expand = 1;
            break;
        case OPT_EXPAND:
            expand = 1;
            break;
        case OPT_NO_EXPAND:
            expand = 0;
            break;
        case OPT_FB_DOCS:
        case OPT_FB_TERMS: {
            long n = cli_parse_uint(c == OPT_FB_DOCS ? "--fb-docs" : "--fb-terms", optarg, 1, 1000);
            if (n < 0)
                return 2;
            if (c == OPT_FB_DOCS)
                so.fb_docs = (unsigned)n;
            else
                so.fb_terms = (unsigned)n;
            break;
        }
        case OPT_FB_WEIGHT:
            if ((so.fb_weight = cli_parse_double("--fb-weight", optarg, 0, 1)) < 0)
                return 2;
            break;
        case OPT_EXHAUSTIVE:
            so.algorithm = QUARRY_ALGO_EXHAUSTIVE;
            break;
        case OPT_ALGORITHM:
            if ((so.algorithm = cli_parse_algorithm("--algorithm", optarg)) < 0)
                return finish(2);
            break;
        case OPT_COUNT:
            so.count = 1;
            break;
        case OPT_NO_PAIRS:
            so.no_pairs = 1;
            break;
        case OPT_NO_PAGER:
            pg.off = 1;
            break;
        case OPT_SINCE:
        case OPT_UNTIL: {
            quarry_error e;
            const char *name = c == OPT_SINCE ? "--since" : "--until";
            if (quarry_date_range(optarg, c == OPT_SINCE ? &since : NULL, c == OPT_UNTIL ? &until : NULL, &e))
                return cli_failf("%s: %s", name, e.msg);
            *(c == OPT_SINCE ? &so.since : &so.until) = optarg;
            break;
        }
        case OPT_SORT:
            if (strcmp(optarg, "score") == 0)
                so.sort = QUARRY_SORT_SCORE;
            else if (strcmp(optarg, "date") == 0)
                so.sort = QUARRY_SORT_DATE;
            else
                return cli_failf("--sort: expected score or date, not \"%s\"", optarg);
            break;
        case OPT_COLLAPSE:
            collapse = 1;
            break;
        case OPT_NO_COLLAPSE:
            collapse = 0;
            break;
        case OPT_EXPLAIN:
            explain = 1;
            break;
        case OPT_STATS:
            stats = optarg;
            break;
        case OPT_EXACT_SCORES:
            exact = 1;
            break;
        case 'h':
            cli_pager_start(&pg);
            fputs(usage_text, stdout);
            cli_pager_end(&pg);
            return finish(0);
        case ':':
            if (long_arg(argv[optind - 1]))
                return cli_failf("search: option %s needs a value (see quarry search --help)",
                                 argv[optind - 1]);
            return cli_failf("search: option -%c needs a value (see quarry search --help)",
                             optopt);
        default: {
            const char *a = argv[optind - 1];
            if (long_arg(a) && strchr(a, '='))
                return cli_failf("search: option %.*s takes no value (see quarry search --help)",
                                 (int)(strchr(a, '=') - a), a);
            if (long_arg(a))
                return cli_failf("search: unknown or ambiguous option %s (see quarry search "
                                 "--help; a query word that starts with '-' goes after \"--\")", a);
            return cli_failf("search: unknown option -%c (see quarry search --help; a query word "
                             "that starts with '-' goes after \"--\")", optopt);
        }
        }
    }
    so.expand = expand > 0;
    if (so.expand && !so.plain)
        return cli_failf("search: --expand works on --plain queries only");
    if (json && tag)
        return cli_failf("search: --json and --trec cannot be combined");
    if (tag && so.passages)
        return cli_failf("search: --trec ranks articles; it cannot be combined with --passages");
    if (tag && explain)
        return cli_failf("search: --explain cannot be combined with --trec (a run has no room for it; try --json)");
    if (so.since && so.until && since > until)
        return cli_failf("search: --since %s is after --until %s: no article can match", so.since, so.until);
    so.collapse = collapse >= 0 ? collapse : !tag;   /* a TREC run lists every document for judging */
    if (stats && so.expand)
        return cli_failf("search: --stats cannot be combined with feedback, which needs the best passages of the "
                         "whole collection (with --plain, add --no-expand)");

    cli_out_style st = { 0 };
    st.format = tag ? CLI_OUT_TREC : json ? CLI_OUT_JSON : CLI_OUT_PEOPLE;
    st.tag = tag;
    st.passages = so.passages;
    st.collapse = so.collapse;
    st.explain = explain;
    st.exact = exact;
    st.width = cli_out_term_width(STDOUT_FILENO);
    st.color = st.format == CLI_OUT_PEOPLE && cli_out_color_wanted(color_mode, STDOUT_FILENO);

    /* the query: the remaining words joined by spaces */
    char *query = NULL;
    if (optind < argc) {
        if (queries)
            return cli_failf("search: give either QUERY words or --queries FILE, not both");
        size_t len = 0;
        for (int i = optind; i < argc; i++)
            len += strlen(argv[i]) + 1;
        query = malloc(len);
        if (!query)
            return cli_failf("out of memory");
        char *p = query;
        for (int i = optind; i < argc; i++) {
            size_t l = strlen(argv[i]);
            memcpy(p, argv[i], l);
            p += l;
            *p++ = i + 1 < argc ? ' ' : '\0';
        }
    }
    int session = !query && !queries && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (session && tag) {
        free(query);
        return cli_failf("search: --trec needs queries: --queries FILE, or one query per "
                         "line on stdin");
    }

    quarry_stats *cstats = NULL;
    if (stats && cli_cstats_load(stats, &cstats)) {
        free(query);
        return 2;
    }
    so.stats = cstats;
    quarry_index *ix = NULL;
    quarry_error err = { 0 };
    if (quarry_open_many(dirs, ndirs ? ndirs : 1, &ix, &err) != QUARRY_OK) {
        free(query);
        quarry_stats_free(cstats);
        return cli_fail(&err);
    }
    int status;
    if (query)
        status = run_one(ix, query, &so, &st, tag ? "1" : NULL, &pg);
    else if (queries)
        status = batch_file(ix, queries, &so, &st, &pg);
    else if (session)
        status = cli_session(ix, &so, &st, color_mode, pg.off);
    else
        status = batch_stdin(ix, &so, &st, &pg);
    cli_pager_end(&pg);
    free(query);
    quarry_close(ix);
    quarry_stats_free(cstats);
    return finish(status);
}
