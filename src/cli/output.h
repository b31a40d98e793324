/*
 * output.h — how `quarry search` shows results: the format for people
 * (wrapped, trimmed, highlighted passages), JSON Lines and TREC runs; JSON
 * string escaping; colour and terminal-width decisions. Also the entry point
 * of the interactive session (session.c), which prints through these.
 * Uses only the public API (quarry.h).
 */
#ifndef QUARRY_CLI_OUTPUT_H
#define QUARRY_CLI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "quarry.h"

enum cli_out_format { CLI_OUT_PEOPLE = 0, CLI_OUT_JSON = 1, CLI_OUT_TREC = 2 };
enum cli_color_mode { CLI_COLOR_AUTO = 0, CLI_COLOR_ALWAYS = 1, CLI_COLOR_NEVER = 2 };

typedef struct cli_out_style {
    int format;          /* enum cli_out_format */
    int color;           /* 1: ANSI colour and bold highlights */
    unsigned width;      /* wrap column of the people format */
    int passages;        /* 1: hits are passages (people format shows "passage i/n") */
    const char *tag;     /* TREC run tag */
    int explain;         /* 1: each hit's score explained (people and JSON) */
    int collapse;        /* 1: hits were collapsed: show their duplicates */
    int exact;           /* 1: JSON and TREC scores with 17 significant digits (the exact double) */
} cli_out_style;

/* Colour decision: ALWAYS, NEVER, or AUTO = `fd` is a terminal, TERM is set
 * and not "dumb", and NO_COLOR is unset or empty (no-color.org). */
int cli_out_color_wanted(int mode, int fd);

/* The terminal width of `fd` when it is a terminal, else 100; clamped to [20, 1000]. */
unsigned cli_out_term_width(int fd);

/* Writes `s` (n bytes) as a JSON string literal with quotes: escapes '"',
 * '\\' and every control character; invalid UTF-8 becomes U+FFFD, and
 * U+2028/U+2029 are escaped. */
void cli_out_json_string(FILE *f, const char *s, size_t n);

/* Writes the hits of `r` in `st`'s format; ranks start at offset + 1.
 * `qid` (may be NULL) is the query id of --queries / stdin batches: JSON
 * adds a "qid" key, TREC uses it (default "1"). With st->collapse, a hit
 * with duplicates says "(+N duplicates)" (JSON: "duplicates", a list of
 * {"doc", "passage", "score"}); with st->explain, its score explained
 * (quarry_explain; JSON: "explain", an object). Returns a quarry_code (a
 * failure to fetch an article or its text). */
int cli_out_results(FILE *f, quarry_index *ix, quarry_results *r, unsigned offset,
                    const char *qid, const cli_out_style *st, quarry_error *err);

/* People format only: "N hits (M matched) in X ms" ("at least M" when the
 * count is a lower bound). */
void cli_out_footer(FILE *f, const quarry_results *r, unsigned offset, const cli_out_style *st);

/* People format: the "query: TEXT" line printed before each batch query
 * (`qid` may be NULL). */
void cli_out_query_header(FILE *f, const char *qid, const char *query, const cli_out_style *st);

/* A whole article for people: a header (id, title, date, passages) and its
 * text with paragraphs kept, lines wrapped, the query terms of `r` (may be
 * NULL) highlighted. */
int cli_out_article(FILE *f, quarry_index *ix, const quarry_results *r, uint32_t article,
                    const cli_out_style *st, quarry_error *err);

/* Display width (terminal columns) of the first `nchars` characters of `s`
 * (all of it when nchars == (size_t)-1). */
size_t cli_out_width_of(const char *s, size_t nchars);

/* ------------------------------------------------------------ search.c */

/* ------------------------------------------------------------ session.c */

/* Runs the interactive session on the terminal (stdin and stdout are
 * terminals): reads queries and :commands with line editing and history.
 * `so` and `st` are the starting settings (st->format PEOPLE or JSON);
 * so->plain: queries are plain text; no_pager: :open never pages. Returns
 * the exit status (0). */
int cli_session(quarry_index *ix, const quarry_search_options *so, const cli_out_style *st,
                int color_mode, int no_pager);

#endif
