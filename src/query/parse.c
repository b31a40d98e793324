/*
 * parse.c — owns the query language parser (qq_*): a lexer and a
 * hand-written recursive-descent parser for the grammar in parse.h, the
 * tree it builds, and its S-expression form (qq_format).
 *
 * Lexing. Whitespace (ASCII white space and control characters, C1
 * controls, Unicode Zs/Zl/Zp such as U+00A0 and U+3000) separates tokens.
 * '(' ')' '"' are always syntax. A phrase runs from '"' to the next '"' and
 * keeps its contents raw. Everything else is read in chunks of non-space,
 * non-syntax characters:
 *   - a chunk starting with '+' or '-' gives a prefix operator; the operand
 *     must follow with no space ("a - b" is an error; "e-mail", "3-4" and
 *     "C++" are words, since the sign is not at the start of the chunk);
 *   - a chunk starting with "title:" (case-sensitive) gives a field prefix,
 *     and lexing goes on right after the colon; any other "x:y" is a word;
 *   - a chunk that is exactly AND, OR or NOT is an operator, unless it is
 *     glued to a prefix or field ("+AND", "title:NOT" are words);
 *   - anything else is a word, kept as raw bytes (invalid UTF-8 included:
 *     the analyzer deals with it).
 * Columns are 1-based code point counts; an invalid UTF-8 byte counts as one.
 *
 * Nesting: every '(' , NOT and field prefix adds one level; more than
 * QQ_MAX_DEPTH levels is a syntax error, so the recursion is bounded.
 *
 * Node columns: a leaf's column is that of its first character (a phrase's
 * opening quote); a QQ_BOOL made by a parenthesized group has the column of
 * its '('; any other QQ_BOOL has the column where its first clause starts,
 * prefix or NOT included. The root's occur is QQ_SHOULD.
 *
 * qq_format writes, with no spaces other than single separators:
 *   node   := occur field? (WORD | '"' PHRASE '"') | occur "(BOOL" (' ' node)+ ")"
 *   occur  := "" for QQ_SHOULD | "+" for QQ_MUST | "-" for QQ_MUST_NOT
 *   field  := "title:" on a leaf whose field is QQ_FIELD_TITLE (a QQ_BOOL's
 *             field is not written: its leaves carry it)
 * e.g.  a b AND c            ->  (BOOL a (BOOL +b +c))
 *       +x -"y z" title:(u v) -> (BOOL +x -"y z" (BOOL title:u title:v))
 *       NOT a                 ->  (BOOL -a)
 * The text is appended to `out` and followed by a NUL byte that is not
 * counted in out->len, so out->p can be used as a C string.
 */
#include "query/parse.h"
#include "base/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

enum tok_kind {
    T_EOF, T_WORD, T_PHRASE, T_LPAREN, T_RPAREN, T_AND, T_OR, T_NOT, T_PLUS, T_MINUS, T_FIELD
};

typedef struct tok {
    int kind;
    size_t off, len;   /* T_WORD: the word; T_PHRASE: the contents between the quotes */
    uint32_t col;      /* 1-based column of the token's first character */
    int spaced;        /* white space (or the start of the query) precedes it */
} tok;

typedef struct parser {
    const uint8_t *q;
    size_t len;
    size_t pos;        /* next byte to lex */
    uint32_t col;      /* column of q[pos] */
    int prev;          /* kind of the previous token */
    tok t;             /* the lookahead */
    quarry_error *err;
} parser;

enum { M_NONE = 0, M_PLUS = 1, M_MINUS = 2 };

/* A clause as an and/or group sees it: a node and the prefix it came with. */
typedef struct clause {
    qq_node *n;
    int mod;
    uint32_t col;
} clause;

/* ------------------------------------------------------------- lexing */

/* Decodes the code point at q[pos] into *cp (-1 when invalid UTF-8);
 * returns its length in bytes (>= 1). */
static size_t cp_at(const parser *p, size_t pos, int32_t *cp)
{
    utf8proc_int32_t c = -1;
    utf8proc_ssize_t n = utf8proc_iterate(p->q + pos, (utf8proc_ssize_t)(p->len - pos), &c);
    if (n <= 0) {
        *cp = -1;
        return 1;
    }
    *cp = c;
    return (size_t)n;
}

static int is_space(int32_t cp)
{
    if (cp < 0)
        return 0;
    if (cp <= 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
        return 1;
    if (cp < 0xa0)
        return 0;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

static int is_syntax(uint8_t c) { return c == '(' || c == ')' || c == '"'; }

static int syntax_error(parser *p, uint32_t col, const char *what)
{
    return qerr_set(p->err, QUARRY_ESYNTAX, "column %u: %s", (unsigned)col, what);
}

static int oom(parser *p)
{
    return qerr_set(p->err, QUARRY_ENOMEM, "out of memory while parsing the query");
}

/* Reads the next token into p->t. */
static int lex(parser *p)
{
    tok *t = &p->t;
    int spaced = p->pos == 0;
    int32_t cp;
    while (p->pos < p->len) {
        size_t n = cp_at(p, p->pos, &cp);
        if (!is_space(cp))
            break;
        p->pos += n;
        p->col++;
        spaced = 1;
    }
    t->off = p->pos;
    t->len = 0;
    t->col = p->col;
    t->spaced = spaced;
    if (p->pos >= p->len) {
        t->kind = T_EOF;
        p->prev = T_EOF;
        return 0;
    }
    uint8_t c = p->q[p->pos];
    if (c == '(' || c == ')' || c == '+' || c == '-') {
        t->kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : c == '+' ? T_PLUS : T_MINUS;
        p->pos++;
        p->col++;
    } else if (c == '"') {
        const uint8_t *end = memchr(p->q + p->pos + 1, '"', p->len - p->pos - 1);
        if (!end)
            return syntax_error(p, t->col, "unbalanced quote");
        size_t start = p->pos + 1, stop = (size_t)(end - p->q);
        int blank = 1;
        uint32_t col = p->col + 1;
        for (size_t i = start; i < stop; col++) {
            i += cp_at(p, i, &cp);
            if (!is_space(cp))
                blank = 0;
        }
        if (blank)
            return syntax_error(p, t->col, "empty phrase");
        t->kind = T_PHRASE;
        t->off = start;
        t->len = stop - start;
        p->pos = stop + 1;
        p->col = col + 1;
    } else if (p->len - p->pos >= 6 && memcmp(p->q + p->pos, "title:", 6) == 0) {
        t->kind = T_FIELD;
        p->pos += 6;
        p->col += 6;
    } else {
        int glued = !spaced && (p->prev == T_PLUS || p->prev == T_MINUS || p->prev == T_FIELD);
        while (p->pos < p->len && !is_syntax(p->q[p->pos])) {
            size_t n = cp_at(p, p->pos, &cp);
            if (is_space(cp))
                break;
            p->pos += n;
            p->col++;
        }
        t->kind = T_WORD;
        t->len = p->pos - t->off;
        const char *w = (const char *)p->q + t->off;
        if (!glued && t->len == 3 && memcmp(w, "AND", 3) == 0)
            t->kind = T_AND;
        else if (!glued && t->len == 2 && memcmp(w, "OR", 2) == 0)
            t->kind = T_OR;
        else if (!glued && t->len == 3 && memcmp(w, "NOT", 3) == 0)
            t->kind = T_NOT;
    }
    p->prev = t->kind;
    return 0;
}

static int starts_primary(int k) { return k == T_WORD || k == T_PHRASE || k == T_LPAREN || k == T_FIELD; }
static int starts_unary(int k) { return starts_primary(k) || k == T_PLUS || k == T_MINUS || k == T_NOT; }

/* -------------------------------------------------------------- nodes */

void qq_free(qq_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        qq_free(n->kids[i]);
    free(n->kids);
    free(n->text);
    free(n);
}

static qq_node *new_node(int kind, uint32_t col)
{
    qq_node *n = qcalloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->occur = QQ_SHOULD;
        n->field = QQ_FIELD_ANY;
        n->column = col;
    }
    return n;
}

/* Appends `kid` to `b` with `occur`; on failure frees `kid`. */
static int bool_add(parser *p, qq_node *b, qq_node *kid, int occur)
{
    if ((b->nkids & (b->nkids - 1)) == 0) {  /* 0, 1, 2, 4, ...: grow to the next power of two */
        size_t cap = b->nkids ? b->nkids * 2 : 2;
        qq_node **k = qrealloc(b->kids, cap * sizeof *k);
        if (!k) {
            qq_free(kid);
            return oom(p);
        }
        b->kids = k;
    }
    kid->occur = occur;
    b->kids[b->nkids++] = kid;
    return 0;
}

static int occur_in(int mod, int in_and)
{
    if (mod == M_MINUS)
        return QQ_MUST_NOT;
    if (mod == M_PLUS || in_and)
        return QQ_MUST;
    return QQ_SHOULD;
}

/* Turns a clause into a node: a prefixed clause becomes a one-clause QQ_BOOL.
 * On failure the clause's node is freed. */
static int wrap(parser *p, clause c, qq_node **out)
{
    if (c.mod == M_NONE) {
        *out = c.n;
        return 0;
    }
    qq_node *b = new_node(QQ_BOOL, c.col);
    if (!b) {
        qq_free(c.n);
        return oom(p);
    }
    int rc = bool_add(p, b, c.n, occur_in(c.mod, 0));
    if (rc) {
        qq_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

static void set_field(qq_node *n, int field)
{
    n->field = field;
    for (size_t i = 0; i < n->nkids; i++)
        set_field(n->kids[i], field);
}

/* ------------------------------------------------------------ parsing */

static int parse_or(parser *p, int depth, clause *out);

static int too_deep(parser *p, uint32_t col)
{
    char what[64];
    snprintf(what, sizeof what, "nesting deeper than %d", QQ_MAX_DEPTH);
    return syntax_error(p, col, what);
}

static int parse_primary(parser *p, int depth, qq_node **out)
{
    tok t = p->t;
    int rc;
    if (t.kind == T_WORD || t.kind == T_PHRASE) {
        qq_node *n = new_node(t.kind == T_WORD ? QQ_WORD : QQ_PHRASE, t.col);
        if (!n || !(n->text = qstrndup((const char *)p->q + t.off, t.len))) {
            free(n);
            return oom(p);
        }
        if ((rc = lex(p))) {
            qq_free(n);
            return rc;
        }
        *out = n;
        return 0;
    }
    if (t.kind == T_LPAREN) {
        if (depth >= QQ_MAX_DEPTH)
            return too_deep(p, t.col);
        if ((rc = lex(p)))
            return rc;
        if (p->t.kind == T_RPAREN)
            return syntax_error(p, p->t.col, "empty parentheses");
        if (p->t.kind == T_EOF)
            return syntax_error(p, t.col, "unbalanced parenthesis: '(' is never closed");
        clause c;
        qq_node *n;
        if ((rc = parse_or(p, depth + 1, &c)) || (rc = wrap(p, c, &n)))
            return rc;
        if (p->t.kind != T_RPAREN) {
            qq_free(n);
            return syntax_error(p, t.col, "unbalanced parenthesis: '(' is never closed");
        }
        if (n->kind == QQ_BOOL)
            n->column = t.col;
        if ((rc = lex(p))) {
            qq_free(n);
            return rc;
        }
        *out = n;
        return 0;
    }
    if (t.kind == T_FIELD) {
        if (depth >= QQ_MAX_DEPTH)
            return too_deep(p, t.col);
        if ((rc = lex(p)))
            return rc;
        if (!p->t.spaced && (p->t.kind == T_PLUS || p->t.kind == T_MINUS))
            return syntax_error(p, p->t.col, p->t.kind == T_PLUS
                                ? "'+' goes before the field, as in +title:word"
                                : "'-' goes before the field, as in -title:word");
        if (p->t.spaced || !starts_primary(p->t.kind))
            return syntax_error(p, t.col, "expected a term after 'title:'");
        qq_node *n;
        if ((rc = parse_primary(p, depth + 1, &n)))
            return rc;
        set_field(n, QQ_FIELD_TITLE);
        *out = n;
        return 0;
    }
    /* callers check starts_primary() first */
    return syntax_error(p, t.col, "expected a term");
}

static int parse_unary(parser *p, int depth, clause *out)
{
    tok t = p->t;
    int rc;
    switch (t.kind) {
    case T_NOT: {
        if (depth >= QQ_MAX_DEPTH)
            return too_deep(p, t.col);
        if ((rc = lex(p)))
            return rc;
        if (!starts_unary(p->t.kind))
            return syntax_error(p, t.col, "expected a term after NOT");
        clause c;
        if ((rc = parse_unary(p, depth + 1, &c)) || (rc = wrap(p, c, &out->n)))
            return rc;
        out->mod = M_MINUS;
        out->col = t.col;
        return 0;
    }
    case T_PLUS:
    case T_MINUS:
        if ((rc = lex(p)))
            return rc;
        if (p->t.spaced || !starts_primary(p->t.kind))
            return syntax_error(p, t.col, t.kind == T_PLUS ? "expected a term after '+'"
                                                           : "expected a term after '-'");
        if ((rc = parse_primary(p, depth, &out->n)))
            return rc;
        out->mod = t.kind == T_PLUS ? M_PLUS : M_MINUS;
        out->col = t.col;
        return 0;
    case T_AND:
        return syntax_error(p, t.col, "expected a term before AND");
    case T_OR:
        return syntax_error(p, t.col, "expected a term before OR");
    case T_RPAREN:
        return syntax_error(p, t.col, "unbalanced parenthesis: unexpected ')'");
    default:
        if ((rc = parse_primary(p, depth, &out->n)))
            return rc;
        out->mod = M_NONE;
        out->col = t.col;
        return 0;
    }
}

/* and_expr and or_expr share this: `op` is T_AND or T_OR. */
static int parse_group(parser *p, int depth, int op, clause *out)
{
    int in_and = op == T_AND;
    clause c;
    int rc = in_and ? parse_unary(p, depth, &c) : parse_group(p, depth, T_AND, &c);
    if (rc)
        return rc;
    int more = p->t.kind == op || (!in_and && starts_unary(p->t.kind));
    if (!more) {
        *out = c;
        return 0;
    }
    qq_node *b = new_node(QQ_BOOL, c.col);
    if (!b) {
        qq_free(c.n);
        return oom(p);
    }
    if ((rc = bool_add(p, b, c.n, occur_in(c.mod, in_and))))
        goto fail;
    for (;;) {
        if (p->t.kind == op) {
            uint32_t col = p->t.col;
            if ((rc = lex(p)))
                goto fail;
            if (!starts_unary(p->t.kind)) {
                rc = syntax_error(p, col, in_and ? "expected a term after AND" : "expected a term after OR");
                goto fail;
            }
        } else if (in_and || !starts_unary(p->t.kind)) {
            break;
        }
        rc = in_and ? parse_unary(p, depth, &c) : parse_group(p, depth, T_AND, &c);
        if (rc || (rc = bool_add(p, b, c.n, occur_in(c.mod, in_and))))
            goto fail;
    }
    out->n = b;
    out->mod = M_NONE;
    out->col = b->column;
    return 0;
fail:
    qq_free(b);
    return rc;
}

static int parse_or(parser *p, int depth, clause *out) { return parse_group(p, depth, T_OR, out); }

int qq_parse(const char *q, size_t len, qq_node **out, quarry_error *err)
{
    if (len > QQ_MAX_QUERY)
        return qerr_set(err, QUARRY_ELIMIT, "the query is %zu bytes long, more than the limit of %d bytes",
                        len, QQ_MAX_QUERY);
    if (!q && len)
        return qerr_set(err, QUARRY_EINVAL, "qq_parse: NULL query");
    parser p = { (const uint8_t *)(q ? q : ""), len, 0, 1, T_EOF, { 0 }, err };
    int rc = lex(&p);
    if (rc)
        return rc;
    if (p.t.kind == T_EOF)
        return syntax_error(&p, 1, "empty query");
    clause c;
    qq_node *n;
    if ((rc = parse_or(&p, 0, &c)) || (rc = wrap(&p, c, &n)))
        return rc;
    if (p.t.kind != T_EOF) {  /* parse_or stops only at EOF or ')' */
        qq_free(n);
        return syntax_error(&p, p.t.col, "unbalanced parenthesis: unexpected ')'");
    }
    n->occur = QQ_SHOULD;
    *out = n;
    return 0;
}

int qq_parse_plain(const char *query, size_t len, qq_node **out, quarry_error *err)
{
    if (len > QQ_MAX_QUERY)
        return qerr_set(err, QUARRY_ELIMIT, "the query is %zu bytes long, more than the limit of %d bytes",
                        len, QQ_MAX_QUERY);
    qq_node *root = qcalloc(1, sizeof *root);
    size_t nw = 0;
    for (size_t i = 0; i < len; i++)
        if ((i == 0 || query[i - 1] == ' ' || query[i - 1] == '\t') && query[i] != ' ' && query[i] != '\t')
            nw++;
    if (!root || !(root->kids = qcalloc(nw ? nw : 1, sizeof *root->kids))) {
        free(root);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    root->kind = QQ_BOOL;
    for (size_t i = 0; i < len;) {
        while (i < len && (query[i] == ' ' || query[i] == '\t'))
            i++;
        size_t j = i;
        while (j < len && query[j] != ' ' && query[j] != '\t')
            j++;
        if (j > i) {
            qq_node *k = qcalloc(1, sizeof *k);
            if (!k || !(k->text = qstrndup(query + i, j - i))) {
                free(k);
                qq_free(root);
                return qerr_set(err, QUARRY_ENOMEM, "out of memory");
            }
            k->kind = QQ_WORD;
            k->column = (uint32_t)i + 1;
            root->kids[root->nkids++] = k;
        }
        i = j;
    }
    *out = root;
    return 0;
}

/* ---------------------------------------------------------- formatting */

static void format_node(const qq_node *n, qbuf *out)
{
    if (n->occur == QQ_MUST)
        qbuf_putc(out, '+');
    else if (n->occur == QQ_MUST_NOT)
        qbuf_putc(out, '-');
    if (n->kind == QQ_BOOL) {
        qbuf_append(out, "(BOOL", 5);
        for (size_t i = 0; i < n->nkids; i++) {
            qbuf_putc(out, ' ');
            format_node(n->kids[i], out);
        }
        qbuf_putc(out, ')');
        return;
    }
    if (n->field == QQ_FIELD_TITLE)
        qbuf_append(out, "title:", 6);
    const char *text = n->text ? n->text : "";
    if (n->kind == QQ_PHRASE)
        qbuf_putc(out, '"');
    qbuf_append(out, text, strlen(text));
    if (n->kind == QQ_PHRASE)
        qbuf_putc(out, '"');
}

int qq_format(const qq_node *n, qbuf *out)
{
    if (!n)
        return QUARRY_EINVAL;
    format_node(n, out);
    if (qbuf_reserve(out, 1))
        return QUARRY_ENOMEM;
    out->p[out->len] = 0;
    return QUARRY_OK;
}
