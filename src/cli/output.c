/*
 * output.c — the output formats of `quarry search` and the session: hits
 * for people (passage text with white space collapsed, trimmed around the
 * first highlighted word, wrapped to the terminal, query words in bold
 * colour), JSON Lines, TREC runs, a whole article for `:open`; JSON string
 * escaping; the colour and width decisions. Only this layer prints.
 *
 * All text is treated as untrusted for display: control characters (C0, DEL,
 * C1) become spaces so that an article cannot send escape sequences to the
 * terminal, and invalid UTF-8 becomes U+FFFD.
 */
#include "cli/output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <utf8proc.h>

#define TRIM_CHARS 400   /* longest passage shown for people, in characters */
#define TRIM_LEAD 100    /* characters kept before the first highlighted word */
#define TEXT_INDENT 4

/* ANSI styles */
#define SGR_RESET "\033[0m"
#define SGR_HL "\033[1;31m"      /* highlighted query words: bold red, like grep */
#define SGR_TITLE "\033[1m"
#define SGR_ID "\033[35m"
#define SGR_DATE "\033[32m"
#define SGR_DIM "\033[2m"

/* ------------------------------------------------------------- decisions */

int cli_out_color_wanted(int mode, int fd)
{
    if (mode == CLI_COLOR_ALWAYS)
        return 1;
    if (mode == CLI_COLOR_NEVER)
        return 0;
    if (!isatty(fd))
        return 0;
    const char *term = getenv("TERM");
    if (!term || !*term || strcmp(term, "dumb") == 0)
        return 0;
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return 0;
    return 1;
}

unsigned cli_out_term_width(int fd)
{
    unsigned w = 100;
    if (isatty(fd)) {
        struct winsize ws;
        if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
            w = ws.ws_col;
    }
    if (w < 20)
        w = 20;
    if (w > 1000)
        w = 1000;
    return w;
}

/* ------------------------------------------------------------- UTF-8 */

/* Decodes one UTF-8 sequence of s[0..n) (n >= 1): returns its length and
 * the code point, or 0 when the bytes are not valid UTF-8 (overlong,
 * surrogate, beyond U+10FFFF, truncated). */
static size_t u8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2; v = c & 0x1Fu; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3; v = c & 0x0Fu; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4; v = c & 0x07u; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static int is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

static unsigned char_width(uint32_t cp)
{
    int w = utf8proc_charwidth((utf8proc_int32_t)cp);
    return w > 0 ? (unsigned)w : 0;
}

size_t cli_out_width_of(const char *s, size_t nchars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, w = 0, c = 0;
    while (i < n && c < nchars) {
        uint32_t cp;
        size_t l = u8_decode(p + i, n - i, &cp);
        if (!l) {
            l = 1;
            cp = 0xFFFD;
        }
        w += is_control(cp) ? (cp == '\t' ? 1 : 0) : char_width(cp);
        i += l;
        c++;
    }
    return w;
}

/* ------------------------------------------------------------- JSON */

void cli_out_json_string(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    putc('"', f);
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            switch (c) {
            case '"': fputs("\\\"", f); break;
            case '\\': fputs("\\\\", f); break;
            case '\n': fputs("\\n", f); break;
            case '\t': fputs("\\t", f); break;
            case '\r': fputs("\\r", f); break;
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            default:
                if (c < 0x20 || c == 0x7F)
                    fprintf(f, "\\u%04x", c);
                else
                    putc(c, f);
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t l = u8_decode(p + i, n - i, &cp);
        if (!l) {
            fputs("\\ufffd", f);
            i++;
        } else if (cp == 0x2028 || cp == 0x2029) {
            fprintf(f, "\\u%04x", (unsigned)cp);
            i += l;
        } else {
            fwrite(p + i, 1, l, f);
            i += l;
        }
    }
    putc('"', f);
}

/* ------------------------------------------------------ display text */

/* Text prepared for display: clean UTF-8 without control characters, words
 * separated by single spaces, '\n' for line breaks; hl[i] marks the bytes
 * of highlighted words. */
typedef struct dtext {
    char *s;
    unsigned char *hl;
    size_t len, cap;
    int oom;
} dtext;

static void dt_free(dtext *d)
{
    free(d->s);
    free(d->hl);
    memset(d, 0, sizeof *d);
}

static void dt_put(dtext *d, const void *p, size_t n, int hl)
{
    if (d->oom)
        return;
    if (d->cap - d->len < n + 1) {
        size_t cap = d->cap ? d->cap : 256;
        while (cap - d->len < n + 1) {
            if (cap > ((size_t)-1) / 2) {
                d->oom = 1;
                return;
            }
            cap *= 2;
        }
        char *s = realloc(d->s, cap);
        if (!s) {
            d->oom = 1;
            return;
        }
        d->s = s;
        unsigned char *h = realloc(d->hl, cap);
        if (!h) {
            d->oom = 1;
            return;
        }
        d->hl = h;
        d->cap = cap;
    }
    memcpy(d->s + d->len, p, n);
    memset(d->hl + d->len, hl ? 1 : 0, n);
    d->len += n;
    d->s[d->len] = '\0';
}

enum { MODE_FLOW = 0, MODE_LINES = 1 };

/* Builds the display form of text[0..len). MODE_FLOW collapses every run of
 * white space to one space; MODE_LINES keeps line breaks (a run with two or
 * more newlines becomes one blank line) and collapses the rest. Bytes inside
 * `spans` are marked highlighted. */
static void dt_build(dtext *d, const char *text, size_t len, const quarry_span *spans,
                     size_t nspans, int mode)
{
    const unsigned char *p = (const unsigned char *)text;
    unsigned char *mark = NULL;
    if (nspans) {
        mark = calloc(len ? len : 1, 1);
        if (!mark) {
            d->oom = 1;
            return;
        }
        for (size_t k = 0; k < nspans; k++) {
            size_t a = spans[k].start, b = spans[k].end;
            if (b > len)
                b = len;
            for (size_t i = a; i < b; i++)
                mark[i] = 1;
        }
    }
    int pending = 0;      /* white space seen since the last character */
    int newlines = 0;     /* newlines in that white space */
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t l = u8_decode(p + i, len - i, &cp);
        if (!l) {
            l = 1;
            cp = 0xFFFD;
        }
        if (cp == ' ' || is_control(cp)) {
            pending = 1;
            if (cp == '\n' || cp == 0x2028 || cp == 0x2029)
                newlines++;
            i += l;
            continue;
        }
        if (pending && d->len > 0) {
            if (mode == MODE_LINES && newlines >= 2)
                dt_put(d, "\n\n", 2, 0);
            else if (mode == MODE_LINES && newlines == 1)
                dt_put(d, "\n", 1, 0);
            else
                dt_put(d, " ", 1, 0);
        }
        pending = 0;
        newlines = 0;
        int hl = mark && mark[i];
        if (cp == 0xFFFD && l == 1)
            dt_put(d, "\xEF\xBF\xBD", 3, hl);
        else
            dt_put(d, p + i, l, hl);
        i += l;
    }
    free(mark);
}

/* Keeps about TRIM_CHARS characters of a long flowed text, starting a little
 * before its first highlighted word, cut at spaces, with "…" where text was
 * left out. */
static void dt_trim(dtext *d)
{
    if (d->oom || d->len == 0)
        return;
    /* character start offsets */
    size_t nchars = 0;
    for (size_t i = 0; i < d->len; i++)
        if (((unsigned char)d->s[i] & 0xC0) != 0x80)
            nchars++;
    if (nchars <= TRIM_CHARS + TRIM_CHARS / 10)
        return;
    size_t *off = malloc((nchars + 1) * sizeof *off);
    if (!off) {
        d->oom = 1;
        return;
    }
    size_t c = 0, first_hl = (size_t)-1;
    for (size_t i = 0; i < d->len; i++) {
        if (((unsigned char)d->s[i] & 0xC0) != 0x80) {
            if (first_hl == (size_t)-1 && d->hl[i])
                first_hl = c;
            off[c++] = i;
        }
    }
    off[nchars] = d->len;
    size_t start = 0;
    if (first_hl != (size_t)-1 && first_hl > TRIM_LEAD)
        start = first_hl - TRIM_LEAD;
    if (start + TRIM_CHARS > nchars)
        start = nchars - TRIM_CHARS;
    size_t end = start + TRIM_CHARS;
    /* snap the start forward to a word start, the end back to a word end */
    if (start > 0) {
        size_t s = start;
        while (s < end && d->s[off[s - 1]] != ' ' && d->s[off[s - 1]] != '\n')
            s++;
        if (s < end && s - start < TRIM_LEAD / 2)
            start = s;
    }
    if (end < nchars) {
        size_t e = end;
        while (e > start && d->s[off[e]] != ' ' && d->s[off[e]] != '\n')
            e--;
        if (e > start + TRIM_CHARS / 2)
            end = e;
    }
    /* trailing/leading spaces at the cut */
    while (end > start && d->s[off[end - 1]] == ' ')
        end--;
    while (start < end && d->s[off[start]] == ' ')
        start++;
    dtext t = { 0 };
    if (start > 0)
        dt_put(&t, "\xE2\x80\xA6", 3, 0);
    for (size_t i = off[start]; i < off[end]; i++)
        dt_put(&t, d->s + i, 1, d->hl[i]);
    if (end < nchars)
        dt_put(&t, "\xE2\x80\xA6", 3, 0);
    free(off);
    if (t.oom) {
        dt_free(&t);
        d->oom = 1;
        return;
    }
    dt_free(d);
    *d = t;
}

/* ------------------------------------------------------------ painting */

typedef struct painter {
    FILE *f;
    int color;
    const char *base;   /* style of the whole text (may be NULL) */
    int hl_on;
    int styled;         /* an SGR sequence is active on this line */
} painter;

static void paint_line_start(painter *pt, unsigned indent)
{
    for (unsigned i = 0; i < indent; i++)
        putc(' ', pt->f);
    if (pt->color && pt->base) {
        fputs(pt->base, pt->f);
        pt->styled = 1;
    }
    pt->hl_on = 0;
}

static void paint_line_end(painter *pt)
{
    if (pt->styled)
        fputs(SGR_RESET, pt->f);
    pt->styled = 0;
    pt->hl_on = 0;
    putc('\n', pt->f);
}

static void paint_hl(painter *pt, int want)
{
    if (!pt->color || want == pt->hl_on)
        return;
    if (want) {
        fputs(SGR_HL, pt->f);
        pt->styled = 1;
    } else {
        fputs(SGR_RESET, pt->f);
        pt->styled = 0;
        if (pt->base) {
            fputs(pt->base, pt->f);
            pt->styled = 1;
        }
    }
    pt->hl_on = want;
}

/* Writes display text `d` wrapped to `width` columns, every line indented
 * by `indent`; highlighted bytes in colour when enabled. */
static void paint(FILE *f, const dtext *d, unsigned indent, unsigned width, int color,
                  const char *base)
{
    painter pt = { f, color, base, 0, 0 };
    unsigned avail = width > indent + 20 ? width - indent : 20;
    unsigned col = 0;
    int started = 0;
    size_t i = 0;
    const unsigned char *s = (const unsigned char *)d->s;
    while (i < d->len) {
        if (s[i] == '\n') {
            if (started)
                paint_line_end(&pt);
            else
                putc('\n', f);
            started = 0;
            col = 0;
            i++;
            continue;
        }
        if (s[i] == ' ') {
            i++;
            continue;
        }
        size_t j = i;
        unsigned w = 0;
        while (j < d->len && s[j] != ' ' && s[j] != '\n') {
            uint32_t cp;
            size_t l = u8_decode(s + j, d->len - j, &cp);
            if (!l)
                l = 1, cp = 0xFFFD;
            w += char_width(cp);
            j += l;
        }
        if (started && col + 1 + w > avail) {
            paint_line_end(&pt);
            started = 0;
            col = 0;
        }
        if (!started) {
            paint_line_start(&pt, indent);
            started = 1;
        } else {
            /* the space between two highlighted words (a phrase) stays highlighted;
             * words are separated by exactly one space here */
            paint_hl(&pt, d->hl[i] && i >= 2 && d->hl[i - 2]);
            putc(' ', f);
            col++;
        }
        while (i < j) {
            uint32_t cp;
            size_t l = u8_decode(s + i, j - i, &cp);
            if (!l)
                l = 1, cp = 0xFFFD;
            unsigned cw = char_width(cp);
            if (col > 0 && col + cw > avail) {   /* a word longer than the line */
                paint_line_end(&pt);
                paint_line_start(&pt, indent);
                col = 0;
            }
            paint_hl(&pt, d->hl[i]);
            fwrite(s + i, 1, l, f);
            col += cw;
            i += l;
        }
    }
    if (started)
        paint_line_end(&pt);
}

/* Writes a short field (id, date) cleaned of control characters. */
static void put_clean(FILE *f, const char *s)
{
    dtext d = { 0 };
    dt_build(&d, s, strlen(s), NULL, 0, MODE_FLOW);
    if (!d.oom && d.len)
        fwrite(d.s, 1, d.len, f);
    dt_free(&d);
}

static void put_styled(FILE *f, int color, const char *sgr, const char *s)
{
    if (color)
        fputs(sgr, f);
    put_clean(f, s);
    if (color)
        fputs(SGR_RESET, f);
}

/* Highlights and paints `text` (MODE_FLOW trimmed, or MODE_LINES). */
static int paint_text(FILE *f, quarry_index *ix, const quarry_results *r, const char *text,
                      size_t len, int mode, int trim, unsigned indent, const cli_out_style *st,
                      const char *base, quarry_error *err)
{
    quarry_span *spans = NULL;
    size_t nspans = 0;
    if (r && r->nterms > 0 && len > 0) {
        int rc = quarry_highlight(ix, r, text, len, &spans, &nspans, err);
        if (rc != QUARRY_OK)
            return rc;
    }
    dtext d = { 0 };
    dt_build(&d, text, len, spans, nspans, mode);
    free(spans);
    if (trim)
        dt_trim(&d);
    if (d.oom) {
        dt_free(&d);
        if (err) {
            err->code = QUARRY_ENOMEM;
            snprintf(err->msg, sizeof err->msg, "out of memory while formatting a passage");
        }
        return QUARRY_ENOMEM;
    }
    paint(f, &d, indent, st->width, st->color, base);
    dt_free(&d);
    return QUARRY_OK;
}

/* ------------------------------------------------------------ formats */

/* Whether the display form of text[0..len) starts with that of `title`. */
static int starts_with_title(const char *text, size_t len, const char *title)
{
    dtext t = { 0 }, x = { 0 };
    dt_build(&t, title, strlen(title), NULL, 0, MODE_FLOW);
    size_t tl = strlen(title);
    /* enough of the text to cover the title (white space collapses only) */
    dt_build(&x, text, len < tl * 4 + 64 ? len : tl * 4 + 64, NULL, 0, MODE_FLOW);
    int yes = !t.oom && !x.oom && t.len > 0 && x.len >= t.len && memcmp(x.s, t.s, t.len) == 0;
    dt_free(&t);
    dt_free(&x);
    return yes;
}

/* decimals < 0: 17 significant digits, which give the double back exactly */
static void fmt_score(char *buf, size_t n, double score, int decimals)
{
    if (!isfinite(score))
        score = 0;
    if (decimals < 0)
        snprintf(buf, n, "%.17g", score);
    else
        snprintf(buf, n, "%.*f", decimals, score);
}

/* ------------------------------------------------------------ explanations */

/* For people: the sum, one line per clause, the statistics:
 *
 *     explain: 14.7953 = the sum of
 *        4.1203  oil   tf 3  idf 1.9542 (df 2913)  weight 4.2993
 *        ...
 *       k1 1.2  b 0.75  N 27415 passages  len 95  avg len 73.42
 */
static void explain_person(FILE *f, const quarry_explanation *e, const cli_out_style *st)
{
    const char *dim = st->color ? SGR_DIM : "", *reset = st->color ? SGR_RESET : "";
    char num[64];
    fmt_score(num, sizeof num, e->score, 4);
    if (!e->match) {
        fprintf(f, "%*s%sexplain: no match%s\n", TEXT_INDENT, "", dim, reset);
        return;
    }
    fprintf(f, "%*s%sexplain: %s = the sum of%s\n", TEXT_INDENT, "", dim, num, reset);
    size_t tw = 0;
    for (size_t i = 0; i < e->nclauses; i++) {
        size_t w = cli_out_width_of(e->clauses[i].text, (size_t)-1);
        if (w > tw)
            tw = w;
    }
    if (tw > 30)
        tw = 30;
    for (size_t i = 0; i < e->nclauses; i++) {
        const quarry_explain_clause *c = &e->clauses[i];
        fmt_score(num, sizeof num, c->score, 4);
        fprintf(f, "%*s%10s  ", TEXT_INDENT, "", num);
        put_clean(f, c->text);
        size_t w = cli_out_width_of(c->text, (size_t)-1);
        fprintf(f, "%*s  %stf %lu  idf %.4f", (int)(w < tw ? tw - w : 0), "", dim, (unsigned long)c->tf, c->idf);
        if (c->nwords == 1)
            fprintf(f, " (df %llu)", (unsigned long long)c->words[0].df);
        else
            for (size_t k = 0; k < c->nwords; k++) {
                fprintf(f, "%s%.4f ", k ? " + " : " = ", c->words[k].idf);
                put_clean(f, c->words[k].term);
                fprintf(f, " (df %llu)", (unsigned long long)c->words[k].df);
            }
        fprintf(f, "  weight %.4f", c->weight);
        if (e->expanded)
            fprintf(f, "  boost %.4f = %.4f query + %.4f feedback%s", c->boost, c->query_weight,
                    c->feedback_weight, c->expansion ? " (expansion)" : "");
        else if (c->boost != 1)
            fprintf(f, "  boost %g (repeated)", c->boost);
        fprintf(f, "%s\n", reset);
    }
    fprintf(f, "%*s  %sk1 %g  b %g  N %llu passages  len %lu  avg len %.2f%s\n", TEXT_INDENT, "", dim, e->k1, e->b,
            (unsigned long long)e->units, (unsigned long)e->len, e->avg_len, reset);
}

static void json_num(FILE *f, const char *key, double v)
{
    if (!isfinite(v))
        v = 0;
    fprintf(f, ",\"%s\":%.17g", key, v);
}

/* For JSON: an object (see cli_out_results). */
static void explain_json(FILE *f, const quarry_explanation *e)
{
    fprintf(f, "{\"match\":%s", e->match ? "true" : "false");
    json_num(f, "score", e->score);
    json_num(f, "k1", e->k1);
    json_num(f, "b", e->b);
    fprintf(f, ",\"units\":%llu", (unsigned long long)e->units);
    json_num(f, "avg_len", e->avg_len);
    fprintf(f, ",\"len\":%lu,\"expanded\":%s,\"clauses\":[", (unsigned long)e->len,
            e->expanded ? "true" : "false");
    for (size_t i = 0; i < e->nclauses; i++) {
        const quarry_explain_clause *c = &e->clauses[i];
        fputs(i ? ",{\"text\":" : "{\"text\":", f);
        cli_out_json_string(f, c->text, strlen(c->text));
        fprintf(f, ",\"title\":%s,\"tf\":%lu", c->title ? "true" : "false", (unsigned long)c->tf);
        json_num(f, "idf", c->idf);
        json_num(f, "boost", c->boost);
        if (e->expanded) {
            json_num(f, "query_weight", c->query_weight);
            json_num(f, "feedback_weight", c->feedback_weight);
            fprintf(f, ",\"expansion\":%s", c->expansion ? "true" : "false");
        }
        json_num(f, "weight", c->weight);
        json_num(f, "norm", c->norm);
        json_num(f, "score", c->score);
        fputs(",\"words\":[", f);
        for (size_t k = 0; k < c->nwords; k++) {
            fputs(k ? ",{\"term\":" : "{\"term\":", f);
            cli_out_json_string(f, c->words[k].term, strlen(c->words[k].term));
            fprintf(f, ",\"offset\":%lu,\"df\":%llu", (unsigned long)c->words[k].offset,
                    (unsigned long long)c->words[k].df);
            json_num(f, "idf", c->words[k].idf);
            putc('}', f);
        }
        fputs("]}", f);
    }
    fputs("]}", f);
}

static int out_person(FILE *f, quarry_index *ix, quarry_results *r, const quarry_hit *h,
                      unsigned rank, const quarry_article *a, const cli_out_style *st,
                      quarry_error *err)
{
    char score[64];
    fmt_score(score, sizeof score, h->score, 4);
    if (st->color)
        fprintf(f, SGR_TITLE "%u." SGR_RESET " " SGR_DIM "%s" SGR_RESET "  ", rank, score);
    else
        fprintf(f, "%u. %s  ", rank, score);
    put_styled(f, st->color, SGR_ID, a->id);
    if (a->date && *a->date) {
        fputs("  ", f);
        put_styled(f, st->color, SGR_DATE, a->date);
    }
    if (st->passages && a->npassages > 1 && h->passage >= a->first_passage) {
        fprintf(f, "  %spassage %lu/%lu%s", st->color ? SGR_DIM : "",
                (unsigned long)(h->passage - a->first_passage) + 1, (unsigned long)a->npassages,
                st->color ? SGR_RESET : "");
    }
    if (st->collapse && h->nduplicates)
        fprintf(f, "  %s(+%lu duplicate%s)%s", st->color ? SGR_DIM : "", (unsigned long)h->nduplicates,
                h->nduplicates == 1 ? "" : "s", st->color ? SGR_RESET : "");
    putc('\n', f);
    char *text = NULL;
    size_t len = 0;
    int rc = quarry_passage_text(ix, h->passage, &text, &len, err);
    if (rc != QUARRY_OK)
        return rc;
    /* the title on its own line, unless the passage starts with it (the
     * title of a plain-text article is its first sentence) */
    if (a->title && *a->title && !starts_with_title(text, len, a->title)) {
        rc = paint_text(f, ix, r, a->title, strlen(a->title), MODE_FLOW, 0, TEXT_INDENT, st,
                        SGR_TITLE, err);
        if (rc != QUARRY_OK) {
            free(text);
            return rc;
        }
    }
    rc = paint_text(f, ix, r, text, len, MODE_FLOW, 1, TEXT_INDENT, st, NULL, err);
    free(text);
    if (rc != QUARRY_OK)
        return rc;
    if (st->explain) {
        quarry_explanation *e;
        if ((rc = quarry_explain(ix, r, h->passage, &e, err)) != QUARRY_OK)
            return rc;
        explain_person(f, e, st);
        quarry_explanation_free(e);
    }
    putc('\n', f);
    return QUARRY_OK;
}

static int out_json(FILE *f, quarry_index *ix, quarry_results *r, const quarry_hit *h, unsigned rank,
                    const quarry_article *a, const char *qid, const cli_out_style *st, quarry_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = quarry_passage_text(ix, h->passage, &text, &len, err);
    if (rc != QUARRY_OK)
        return rc;
    char score[64];
    fmt_score(score, sizeof score, h->score, st->exact ? -1 : 6);
    putc('{', f);
    if (qid) {
        fputs("\"qid\":", f);
        cli_out_json_string(f, qid, strlen(qid));
        putc(',', f);
    }
    fprintf(f, "\"rank\":%u,\"score\":%s,\"doc\":", rank, score);
    cli_out_json_string(f, a->id, strlen(a->id));
    fputs(",\"title\":", f);
    cli_out_json_string(f, a->title ? a->title : "", a->title ? strlen(a->title) : 0);
    if (a->date && *a->date) {
        fputs(",\"date\":", f);
        cli_out_json_string(f, a->date, strlen(a->date));
    }
    fprintf(f, ",\"passage\":%lu,\"text\":",
            (unsigned long)(h->passage >= a->first_passage ? h->passage - a->first_passage : 0));
    cli_out_json_string(f, text, len);
    free(text);
    if (st->collapse) {
        fputs(",\"duplicates\":[", f);
        for (uint32_t i = 0; i < h->nduplicates; i++) {
            const quarry_hit *d = &h->duplicates[i];
            quarry_article da;
            if ((rc = quarry_article_get(ix, d->article, &da, err)) != QUARRY_OK)
                return rc;
            fputs(i ? ",{\"doc\":" : "{\"doc\":", f);
            cli_out_json_string(f, da.id ? da.id : "", da.id ? strlen(da.id) : 0);
            fmt_score(score, sizeof score, d->score, st->exact ? -1 : 6);
            fprintf(f, ",\"passage\":%lu,\"score\":%s}",
                    (unsigned long)(d->passage >= da.first_passage ? d->passage - da.first_passage : 0), score);
        }
        putc(']', f);
    }
    if (st->explain) {
        quarry_explanation *e;
        if ((rc = quarry_explain(ix, r, h->passage, &e, err)) != QUARRY_OK)
            return rc;
        fputs(",\"explain\":", f);
        explain_json(f, e);
        quarry_explanation_free(e);
    }
    fputs("}\n", f);
    return QUARRY_OK;
}

/* TREC columns are separated by white space: an id that contains some
 * gets it replaced by '_' so that the run stays 6 columns. */
static void put_trec_field(FILE *f, const char *s)
{
    if (!*s) {
        putc('-', f);
        return;
    }
    for (; *s; s++)
        putc((unsigned char)*s <= ' ' ? '_' : *s, f);
}

int cli_out_results(FILE *f, quarry_index *ix, quarry_results *r, unsigned offset,
                    const char *qid, const cli_out_style *st, quarry_error *err)
{
    for (size_t i = 0; i < r->n; i++) {
        const quarry_hit *h = &r->hits[i];
        unsigned rank = offset + (unsigned)i + 1;
        quarry_article a;
        int rc = quarry_article_get(ix, h->article, &a, err);
        if (rc != QUARRY_OK)
            return rc;
        if (!a.id)
            a.id = "";
        switch (st->format) {
        case CLI_OUT_JSON:
            rc = out_json(f, ix, r, h, rank, &a, qid, st, err);
            break;
        case CLI_OUT_TREC: {
            char score[64];
            fmt_score(score, sizeof score, h->score, st->exact ? -1 : 6);
            put_trec_field(f, qid ? qid : "1");
            fputs(" Q0 ", f);
            put_trec_field(f, a.id);
            fprintf(f, " %u %s ", rank, score);
            put_trec_field(f, st->tag ? st->tag : "quarry");
            putc('\n', f);
            break;
        }
        default:
            rc = out_person(f, ix, r, h, rank, &a, st, err);
        }
        if (rc != QUARRY_OK)
            return rc;
    }
    return QUARRY_OK;
}

void cli_out_footer(FILE *f, const quarry_results *r, unsigned offset, const cli_out_style *st)
{
    double ms = r->seconds * 1000.0;
    if (!isfinite(ms) || ms < 0)
        ms = 0;
    const char *plus = r->matched_exact ? "" : "+";   /* a pruned count is a lower bound: "1000+" */
    if (st->color)
        fputs(SGR_DIM, f);
    if (offset > 0 && r->n > 0)
        fprintf(f, "%zu %s (ranks %u-%zu of %llu%s matched) in %.2f ms", r->n,
                r->n == 1 ? "hit" : "hits", offset + 1, (size_t)offset + r->n,
                (unsigned long long)r->matched, plus, ms);
    else
        fprintf(f, "%zu %s (%llu%s matched) in %.2f ms", r->n, r->n == 1 ? "hit" : "hits",
                (unsigned long long)r->matched, plus, ms);
    if (st->color)
        fputs(SGR_RESET, f);
    putc('\n', f);
}

void cli_out_query_header(FILE *f, const char *qid, const char *query, const cli_out_style *st)
{
    if (st->color)
        fputs(SGR_TITLE, f);
    fputs("query", f);
    if (qid) {
        putc(' ', f);
        put_clean(f, qid);
    }
    fputs(": ", f);
    put_clean(f, query);
    if (st->color)
        fputs(SGR_RESET, f);
    putc('\n', f);
}

int cli_out_article(FILE *f, quarry_index *ix, const quarry_results *r, uint32_t article,
                    const cli_out_style *st, quarry_error *err)
{
    quarry_article a;
    int rc = quarry_article_get(ix, article, &a, err);
    if (rc != QUARRY_OK)
        return rc;
    char *text = NULL;
    size_t len = 0;
    rc = quarry_article_text(ix, article, &text, &len, err);
    if (rc != QUARRY_OK)
        return rc;
    put_styled(f, st->color, SGR_ID, a.id ? a.id : "");
    if (a.date && *a.date) {
        fputs("  ", f);
        put_styled(f, st->color, SGR_DATE, a.date);
    }
    fprintf(f, "  %s%lu passage%s%s\n", st->color ? SGR_DIM : "", (unsigned long)a.npassages,
            a.npassages == 1 ? "" : "s", st->color ? SGR_RESET : "");
    if (a.title && *a.title) {
        rc = paint_text(f, ix, r, a.title, strlen(a.title), MODE_FLOW, 0, 0, st, SGR_TITLE, err);
        if (rc != QUARRY_OK)
            goto out;
    }
    putc('\n', f);
    rc = paint_text(f, ix, r, text, len, MODE_LINES, 0, 0, st, NULL, err);
out:
    free(text);
    return rc;
}
