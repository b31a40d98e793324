/*
 * session.c — the interactive session of `quarry search` (stdin and stdout
 * are terminals): a "quarry> " prompt with libedit line editing and a
 * persistent history, queries shown for people (or as JSON), and the
 * commands :open N (the article through the pager), :more, :k N, :json,
 * :passages, :help, :quit. Ctrl-C at the prompt cancels the line; during a
 * search it stops the output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/pager.h"

#define PROMPT "quarry> "
#define HISTORY_MAX 1000
#define NOTERMS_MSG "no hits: every term of the query is a stop word or absent from the index"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* restart = 0 while reading a line, so that Ctrl-C ends readline() at once;
 * restart = 1 while searching and printing, so that writes are not cut. */
static void catch_sigint(int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGINT, &sa, NULL);
}

typedef struct shown_hit {
    uint32_t article, passage;
} shown_hit;

typedef struct session {
    quarry_index *ix;
    quarry_search_options so;   /* current k and passage mode; offset = first page */
    cli_out_style st;
    int color_mode;
    int no_pager;               /* --no-pager: :open prints to the terminal */
    char *query;                /* the last query run, or NULL */
    size_t lead;                /* columns of white space typed before it; -1: unknown */
    quarry_results *r;          /* its last page */
    unsigned offset;            /* the offset of that page */
    shown_hit *shown;           /* hits shown for the query so far: rank so.offset + i + 1 */
    size_t nshown, capshown;
    char *history;              /* the history file, or NULL */
    char *last_line;            /* the last line added to the history */
} session;

/* ------------------------------------------------------------ history */

/* mkdir -p of the directory part of `path` (mode 0700); errors are ignored:
 * writing the history is a convenience that never fails the session. */
static void make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
}

static char *history_path(void)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char *path = NULL;
    if (xdg && xdg[0] == '/') {
        if (asprintf(&path, "%s/quarry/history", xdg) < 0)
            return NULL;
    } else if (home && *home) {
        if (asprintf(&path, "%s/.quarry_history", home) < 0)
            return NULL;
    } else {
        return NULL;
    }
    make_parents(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);   /* private */
    if (fd >= 0)
        close(fd);
    return path;
}

static void remember(session *s, const char *line)
{
    if (s->last_line && strcmp(s->last_line, line) == 0)
        return;
    add_history(line);
    free(s->last_line);
    s->last_line = strdup(line);
    if (s->history)
        write_history(s->history);   /* after every line: a killed session loses nothing */
}

/* ------------------------------------------------------------ queries */

static void forget_results(session *s)
{
    quarry_results_free(s->r);
    s->r = NULL;
    s->nshown = 0;
}

static int note_shown(session *s, const quarry_results *r)
{
    if (s->capshown - s->nshown < r->n) {
        size_t cap = s->capshown ? s->capshown : 64;
        while (cap - s->nshown < r->n)
            cap *= 2;
        shown_hit *n = realloc(s->shown, cap * sizeof *n);
        if (!n)
            return -1;
        s->shown = n;
        s->capshown = cap;
    }
    for (size_t i = 0; i < r->n; i++) {
        s->shown[s->nshown].article = r->hits[i].article;
        s->shown[s->nshown].passage = r->hits[i].passage;
        s->nshown++;
    }
    return 0;
}

/* Points at the column of a syntax error under the echoed query line. */
static void show_syntax_error(const char *query, size_t lead, const char *msg)
{
    unsigned long col = 0;
    if (sscanf(msg, "column %lu:", &col) == 1 && col >= 1 && lead != (size_t)-1 &&
        !strchr(query, '\t')) {
        size_t w = cli_out_width_of(PROMPT, (size_t)-1) + lead + cli_out_width_of(query, col - 1);
        fprintf(stdout, "%*s^\n", (int)w, "");
    }
    fprintf(stdout, "query: %s\n", msg);
}

/* Runs the current query at `offset`; append = 1 continues the list of shown hits. */
static void run_query(session *s, unsigned offset, int append)
{
    quarry_search_options so = s->so;
    so.offset = offset;
    s->st.width = cli_out_term_width(STDOUT_FILENO);
    s->st.passages = so.passages;
    s->st.color = s->st.format == CLI_OUT_PEOPLE && cli_out_color_wanted(s->color_mode, STDOUT_FILENO);

    quarry_error err = { 0 };
    quarry_results *r = NULL;
    int rc;
    rc = quarry_search(s->ix, s->query, &so, &r, &err);   /* so.plain: --plain */
    if (rc == QUARRY_ESYNTAX) {
        show_syntax_error(s->query, s->lead, err.msg);
        return;
    }
    if (rc == QUARRY_ENOTERMS) {
        fputs(NOTERMS_MSG "\n", stdout);
        return;
    }
    if (rc != QUARRY_OK) {
        fprintf(stdout, "quarry: %s\n", err.msg);
        return;
    }
    if (append && r->n == 0) {
        fputs("no more hits\n", stdout);
        quarry_results_free(r);
        return;
    }
    if (!append)
        s->nshown = 0;
    quarry_results_free(s->r);
    s->r = r;
    s->offset = offset;
    if (note_shown(s, r) != 0) {
        fputs("quarry: out of memory\n", stdout);
        forget_results(s);
        return;
    }
    /* one hit at a time, so that Ctrl-C can stop a long list */
    interrupted = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (interrupted) {
            fputs("(interrupted)\n", stdout);
            break;
        }
        quarry_results one = *r;
        one.n = 1;
        one.hits = &r->hits[i];
        rc = cli_out_results(stdout, s->ix, &one, offset + (unsigned)i, NULL, &s->st, &err);
        if (rc != QUARRY_OK) {
            fprintf(stdout, "quarry: %s\n", err.msg);
            break;
        }
        fflush(stdout);
    }
    cli_out_footer(stdout, r, offset, &s->st);
}

/* ------------------------------------------------------------ commands */

static void cmd_open(session *s, const char *arg)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(arg, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (!*arg || *end || errno || arg[0] == '-') {
        fputs("usage: :open N (N the rank of a hit shown for the last query)\n", stdout);
        return;
    }
    if (!s->r || s->nshown == 0) {
        fputs("no hits to open: run a query first\n", stdout);
        return;
    }
    unsigned long first = (unsigned long)s->so.offset + 1, last = s->so.offset + s->nshown;
    if (n < first || n > last) {
        fprintf(stdout, "no hit %lu: the hits shown are %lu to %lu\n", n, first, last);
        return;
    }
    const shown_hit *h = &s->shown[n - first];
    cli_out_style st = s->st;
    st.width = cli_out_term_width(STDOUT_FILENO);
    st.color = cli_out_color_wanted(s->color_mode, STDOUT_FILENO);
    quarry_error err = { 0 };
    cli_pager pg = { 0 };
    pg.off = s->no_pager;
    cli_pager_start(&pg);   /* SIGPIPE is ignored: a pager that quits early ends the article */
    int rc = cli_out_article(stdout, s->ix, s->r, h->article, &st, &err);
    cli_pager_end(&pg);
    if (rc != QUARRY_OK)
        fprintf(stdout, "quarry: %s\n", err.msg);
}

static void cmd_help(const session *s)
{
    fprintf(stdout,
            "Type a query to search; the query language (quarry search --help):\n"
            "  word word  ranked OR      \"a phrase\"  adjacent words\n"
            "  +word required   -word excluded   AND OR NOT ( )   title:word\n"
            "Commands:\n"
            "  :open N     the whole article of hit N (through the pager)\n"
            "  :more       the next %u hits\n"
            "  :k N        hits per page (now %u)\n"
            "  :json       toggle JSON output (now %s)\n"
            "  :passages   toggle passage hits (now %s)\n"
            "  :help       this help\n"
            "  :quit, :q   leave (or Ctrl-D)\n",
            s->so.k, s->so.k, s->st.format == CLI_OUT_JSON ? "on" : "off",
            s->so.passages ? "on: several passages of an article may be hits"
                           : "off: one hit per article");
}

/* Returns 1 when the session should end. */
static int command(session *s, char *line)
{
    char *name = line + 1, *arg = name;
    while (*arg && *arg != ' ' && *arg != '\t')
        arg++;
    if (*arg)
        *arg++ = '\0';
    while (*arg == ' ' || *arg == '\t')
        arg++;
    if (strcmp(name, "quit") == 0 || strcmp(name, "q") == 0 || strcmp(name, "exit") == 0)
        return 1;
    if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0 || strcmp(name, "?") == 0) {
        cmd_help(s);
    } else if (strcmp(name, "open") == 0 || strcmp(name, "o") == 0) {
        cmd_open(s, arg);
    } else if (strcmp(name, "more") == 0 || strcmp(name, "m") == 0) {
        if (!s->query || !s->r)
            fputs("no results to continue: run a query first\n", stdout);
        else
            run_query(s, s->offset + (unsigned)s->r->n, 1);
    } else if (strcmp(name, "k") == 0) {
        char *end;
        errno = 0;
        unsigned long k = strtoul(arg, &end, 10);
        if (!*arg || *end || errno || arg[0] == '-' || k < 1 || k > 10000000)
            fputs("usage: :k N (N from 1 to 10000000)\n", stdout);
        else {
            s->so.k = (unsigned)k;
            fprintf(stdout, "k = %lu\n", k);
        }
    } else if (strcmp(name, "json") == 0) {
        s->st.format = s->st.format == CLI_OUT_JSON ? CLI_OUT_PEOPLE : CLI_OUT_JSON;
        fprintf(stdout, "JSON output %s\n", s->st.format == CLI_OUT_JSON ? "on" : "off");
    } else if (strcmp(name, "passages") == 0 || strcmp(name, "p") == 0) {
        s->so.passages = !s->so.passages;
        fprintf(stdout, "%s\n", s->so.passages ? "passage hits: several passages of an article may be hits"
                                               : "article hits: one hit per article, its best passage");
        if (s->query && s->r)   /* show the last results again in the new mode */
            run_query(s, s->so.offset, 0);
    } else {
        fprintf(stdout, "unknown command :%s (try :help)\n", name);
    }
    return 0;
}

/* ------------------------------------------------------------ the loop */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

int cli_session(quarry_index *ix, const quarry_search_options *so, const cli_out_style *st,
                int color_mode, int no_pager)
{
    session s;
    memset(&s, 0, sizeof s);
    s.ix = ix;
    s.so = *so;
    s.st = *st;
    s.color_mode = color_mode;
    s.no_pager = no_pager;

    struct sigaction old_int, old_pipe, ign;
    sigaction(SIGINT, NULL, &old_int);
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);   /* a pager that quits early */

    rl_readline_name = "quarry";
    rl_inhibit_completion = 1;
    using_history();
    stifle_history(HISTORY_MAX);
    s.history = history_path();
    if (s.history)
        read_history(s.history);

    quarry_info info;
    if (quarry_info_get(ix, &info) == QUARRY_OK)
        fprintf(stdout, "quarry %s: %llu articles, %llu passages. Type a query, :help for help, "
                        "Ctrl-D to leave.\n",
                QUARRY_VERSION, (unsigned long long)info.articles,
                (unsigned long long)info.passages);

    for (;;) {
        fflush(stdout);
        interrupted = 0;
        catch_sigint(0);
        char *raw = readline(PROMPT);
        catch_sigint(1);
        if (!raw) {
            if (interrupted) {   /* Ctrl-C: cancel the line, fresh prompt */
                fputs("\n", stdout);
                continue;
            }
            fputs("\n", stdout);   /* Ctrl-D */
            break;
        }
        char *line = trim(raw);
        if (!*line) {
            free(raw);
            continue;
        }
        remember(&s, line);
        if (line[0] == ':') {
            int quit = command(&s, line);
            free(raw);
            if (quit)
                break;
            continue;
        }
        size_t lead = memchr(raw, '\t', (size_t)(line - raw)) ? (size_t)-1 : (size_t)(line - raw);
        char *q = strdup(line);
        free(raw);
        if (!q) {
            fputs("quarry: out of memory\n", stdout);
            continue;
        }
        free(s.query);
        s.query = q;
        s.lead = lead;
        forget_results(&s);
        run_query(&s, s.so.offset, 0);
    }
    fflush(stdout);
    if (s.history)
        write_history(s.history);
    forget_results(&s);
    free(s.query);
    free(s.shown);
    free(s.history);
    free(s.last_line);
    clear_history();
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    return 0;
}
