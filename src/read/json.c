/*
 * json.c — qr_parse_json_doc: a small strict JSON (RFC 8259) parser for one
 * {"id","title","text"[,"date"]} object per line.
 *
 * - Keys other than id/title/text/date are validated and skipped, whatever
 *   their value (numbers, literals, nested arrays and objects up to
 *   MAX_DEPTH levels).
 * - A duplicate key: the last occurrence wins (as in most JSON libraries).
 * - Strings are decoded into the caller's scratch buffer: escapes including
 *   \uXXXX and surrogate pairs become UTF-8; a lone surrogate becomes U+FFFD
 *   and is counted in doc->invalid_utf8; \u0000 becomes a space (returned
 *   strings are NUL-terminated). Raw bytes that are not valid UTF-8 are
 *   replaced by qa_utf8_clean and counted. Unescaped control characters are
 *   an error, as the RFC says.
 * - A JSON null "title" or "date" is the same as an absent one.
 * - Leading/trailing JSON whitespace (including a CR of a CRLF line end) and
 *   a UTF-8 byte order mark at the start of the line are allowed; anything
 *   else after the object is an error.
 * Columns in messages are 1-based byte columns of the line.
 */
#include "read/read.h"

#include "analyze/analyze.h"

#define MAX_DEPTH 512

enum { F_ID, F_TITLE, F_TEXT, F_DATE, F_N };
static const char *const field_name[F_N] = { "id", "title", "text", "date" };

enum { T_ABSENT, T_STRING, T_NULL, T_NUMBER, T_BOOL, T_OBJECT, T_ARRAY };
static const char *const type_name[] = { "absent", "a string", "null", "a number",
                                         "a boolean", "an object", "an array" };

/* 1 for the bytes that stop the fast scan of a string: '"', '\\' and the
 * control characters. */
static const uint8_t str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,   /* '\\' */
};

typedef struct jp {
    const uint8_t *s, *p, *end;
    const char *where;
    uint64_t line;
    quarry_error *err;
} jp;

static int jfail(const jp *j, const uint8_t *at, const char *what)
{
    return qerr_set(j->err, QUARRY_EINPUT, "%s:%llu: malformed JSON at column %zu: %s", j->where,
                    (unsigned long long)j->line, (size_t)(at - j->s) + 1, what);
}

static int joom(const jp *j)
{
    return qerr_set(j->err, QUARRY_ENOMEM, "%s:%llu: out of memory while reading the document",
                    j->where, (unsigned long long)j->line);
}

static inline void skip_ws(jp *j)
{
    const uint8_t *p = j->p, *e = j->end;
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    j->p = p;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Reads 4 hex digits at p (bounds checked); -1 if they are not there. */
static long hex4(const uint8_t *p, const uint8_t *end)
{
    if (end - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static void put_utf8(qbuf *b, uint32_t cp)
{
    uint8_t t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (uint8_t)(0xC0 | (cp >> 6));
        t[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (uint8_t)(0xE0 | (cp >> 12));
        t[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        t[0] = (uint8_t)(0xF0 | (cp >> 18));
        t[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    qbuf_append(b, t, n);
}

/* Parses the string whose opening quote is at j->p. With `out`, appends its
 * decoded bytes (not NUL-terminated), adds lone surrogates to *bad and ORs
 * the raw bytes copied into *hi (bit 7 set: check the UTF-8). Without `out`
 * it only validates. Returns 0 or a quarry_code. */
static int parse_string(jp *j, qbuf *out, size_t *bad, unsigned *hi)
{
    const uint8_t *start = j->p, *p = j->p + 1, *e = j->end;
    unsigned h = 0;
    for (;;) {
        const uint8_t *run = p;
        while (p < e && !str_stop[*p])
            h |= *p++;
        if (out && p > run)
            qbuf_append(out, run, (size_t)(p - run));
        if (p >= e)
            return jfail(j, start, "expected '\"' to end the string that starts here");
        uint8_t c = *p;
        if (c == '"') {
            p++;
            break;
        }
        if (c != '\\')
            return jfail(j, p, "expected '\\u00XX' instead of a raw control character in a string");
        if (e - p < 2)
            return jfail(j, p, "expected an escape after '\\'");
        uint8_t x = p[1], lit;
        switch (x) {
        case '"': lit = '"'; break;
        case '\\': lit = '\\'; break;
        case '/': lit = '/'; break;
        case 'b': lit = '\b'; break;
        case 'f': lit = '\f'; break;
        case 'n': lit = '\n'; break;
        case 'r': lit = '\r'; break;
        case 't': lit = '\t'; break;
        case 'u': {
            long cp = hex4(p + 2, e);
            if (cp < 0)
                return jfail(j, p, "expected 4 hex digits after '\\u'");
            p += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo = -1;
                if (e - p >= 6 && p[0] == '\\' && p[1] == 'u')
                    lo = hex4(p + 2, e);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else {
                    cp = 0xFFFD;   /* high surrogate without its low half */
                    if (bad)
                        (*bad)++;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;       /* low surrogate alone */
                if (bad)
                    (*bad)++;
            } else if (cp == 0) {
                cp = ' ';          /* keep strings NUL-free */
            }
            if (out)
                put_utf8(out, (uint32_t)cp);
            continue;
        }
        default:
            return jfail(j, p, "expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX after '\\'");
        }
        if (out)
            qbuf_putc(out, lit);
        p += 2;
    }
    j->p = p;
    if (hi)
        *hi |= h;
    return 0;
}

static int parse_number(jp *j)
{
    const uint8_t *p = j->p, *e = j->end;
    if (p < e && *p == '-')
        p++;
    if (p >= e || *p < '0' || *p > '9')
        return jfail(j, p, "expected a digit");
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return jfail(j, p, "expected a digit after '.'");
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9')
            return jfail(j, p, "expected a digit in the exponent");
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    j->p = p;
    return 0;
}

static int parse_literal(jp *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return jfail(j, j->p, "expected a value (string, number, object, array, true, false or null)");
    j->p += n;
    return 0;
}

/* Parses "key" ':' with j->p at the key's quote; the key is validated but
 * not decoded. */
static int skip_key(jp *j)
{
    if (j->p >= j->end || *j->p != '"')
        return jfail(j, j->p, "expected '\"' to start a key");
    int rc = parse_string(j, NULL, NULL, NULL);
    if (rc)
        return rc;
    skip_ws(j);
    if (j->p >= j->end || *j->p != ':')
        return jfail(j, j->p, "expected ':' after the key");
    j->p++;
    return 0;
}

/* Validates and skips one value of any type starting at j->p (after
 * whitespace); arrays and objects are walked without recursion. Stores the
 * value's type in *type. */
static int skip_value(jp *j, int *type)
{
    char close[MAX_DEPTH];
    size_t depth = 0;
    int rc;
    skip_ws(j);
    if (type && j->p < j->end) {
        uint8_t c0 = *j->p;
        *type = c0 == '"' ? T_STRING : c0 == '{' ? T_OBJECT : c0 == '[' ? T_ARRAY
              : c0 == 't' || c0 == 'f' ? T_BOOL : c0 == 'n' ? T_NULL : T_NUMBER;
    }
    for (;;) {
        /* a value */
        skip_ws(j);
        if (j->p >= j->end)
            return jfail(j, j->p, "expected a value before the end of the line");
        uint8_t c = *j->p;
        if (c == '"') {
            if ((rc = parse_string(j, NULL, NULL, NULL)))
                return rc;
        } else if (c == '{' || c == '[') {
            if (depth == MAX_DEPTH)
                return jfail(j, j->p, "expected at most 512 levels of nesting");
            close[depth++] = c == '{' ? '}' : ']';
            j->p++;
            skip_ws(j);
            if (j->p < j->end && *j->p == close[depth - 1]) {
                j->p++;
                depth--;
            } else if (c == '{') {
                if ((rc = skip_key(j)))
                    return rc;
                continue;
            } else {
                continue;
            }
        } else if (c == 't') {
            if ((rc = parse_literal(j, "true")))
                return rc;
        } else if (c == 'f') {
            if ((rc = parse_literal(j, "false")))
                return rc;
        } else if (c == 'n') {
            if ((rc = parse_literal(j, "null")))
                return rc;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if ((rc = parse_number(j)))
                return rc;
        } else {
            return jfail(j, j->p, "expected a value (string, number, object, array, true, false or null)");
        }
        /* after a value: close containers or go on to the next element */
        for (;;) {
            if (depth == 0)
                return 0;
            skip_ws(j);
            if (j->p < j->end && *j->p == ',') {
                j->p++;
                if (close[depth - 1] == '}') {
                    skip_ws(j);
                    if ((rc = skip_key(j)))
                        return rc;
                }
                break;
            }
            if (j->p < j->end && *j->p == close[depth - 1]) {
                j->p++;
                depth--;
                continue;
            }
            return jfail(j, j->p, close[depth - 1] == '}' ? "expected ',' or '}' after a value"
                                                           : "expected ',' or ']' after a value");
        }
    }
}

/* Which field a key names; -1 for other keys. Keys with escapes are decoded
 * into `tmp` first. j->p is at the key's opening quote; on return it is
 * after the closing quote. */
static int parse_key(jp *j, qbuf *tmp, int *field)
{
    const uint8_t *k = j->p + 1, *q = k;
    while (q < j->end && *q != '"' && *q != '\\' && *q >= 0x20)
        q++;
    const uint8_t *name;
    size_t n;
    if (q < j->end && *q == '"') {   /* plain key: compare in place */
        name = k;
        n = (size_t)(q - k);
        j->p = q + 1;
    } else {
        qbuf_reset(tmp);
        int rc = parse_string(j, tmp, NULL, NULL);
        if (rc)
            return rc;
        if (tmp->oom)
            return joom(j);
        name = tmp->p;
        n = tmp->len;
    }
    *field = -1;
    for (int f = 0; f < F_N; f++)
        if (strlen(field_name[f]) == n && memcmp(name, field_name[f], n) == 0)
            *field = f;
    return 0;
}

/* Makes the string scratch[off, scratch->len) valid UTF-8 (replacing bad
 * sequences, counted in *bad) and NUL-terminates it. */
static int finish_string(qbuf *scratch, size_t off, unsigned hi, size_t *bad)
{
    size_t n = scratch->len - off;
    if ((hi & 0x80) && !scratch->oom && !qa_utf8_valid((const char *)scratch->p + off, n)) {
        qbuf tmp;
        qbuf_init(&tmp);
        *bad += qa_utf8_clean((const char *)scratch->p + off, n, &tmp);
        scratch->len = off;
        if (tmp.oom)
            scratch->oom = 1;
        else
            qbuf_append(scratch, tmp.p, tmp.len);
        qbuf_free(&tmp);
    }
    return qbuf_putc(scratch, 0);
}

static const char empty[1] = "";

int qr_parse_json_doc(const char *line, size_t len, const char *where, uint64_t lineno,
                      qbuf *scratch, qr_doc *doc, quarry_error *err)
{
    jp j = { (const uint8_t *)line, (const uint8_t *)line, (const uint8_t *)line + len, where, lineno, err };
    size_t off[F_N] = { 0 }, flen[F_N] = { 0 };
    int type[F_N] = { T_ABSENT, T_ABSENT, T_ABSENT, T_ABSENT };
    size_t bad = 0;
    qbuf keybuf;
    qbuf_init(&keybuf);
    int rc = 0;

    qbuf_reset(scratch);
    scratch->oom = 0;
    if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
        j.p += 3;
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '{') {
        rc = jfail(&j, j.p, "expected '{' (each line must be one JSON object)");
        goto out;
    }
    j.p++;
    skip_ws(&j);
    if (j.p < j.end && *j.p == '}') {
        j.p++;
    } else {
        for (;;) {
            if (j.p >= j.end || *j.p != '"') {
                rc = jfail(&j, j.p, "expected '\"' to start a key");
                goto out;
            }
            int f = -1;
            if ((rc = parse_key(&j, &keybuf, &f)))
                goto out;
            skip_ws(&j);
            if (j.p >= j.end || *j.p != ':') {
                rc = jfail(&j, j.p, "expected ':' after the key");
                goto out;
            }
            j.p++;
            skip_ws(&j);
            if (f >= 0 && j.p < j.end && *j.p == '"') {
                unsigned hi = 0;
                size_t o = scratch->len;
                if ((rc = parse_string(&j, scratch, &bad, &hi)))
                    goto out;
                finish_string(scratch, o, hi, &bad);
                if (scratch->oom) {
                    rc = joom(&j);
                    goto out;
                }
                off[f] = o;
                flen[f] = scratch->len - 1 - o;
                type[f] = T_STRING;
            } else {
                int t = T_NULL;
                if ((rc = skip_value(&j, &t)))
                    goto out;
                if (f >= 0)
                    type[f] = t;
            }
            skip_ws(&j);
            if (j.p < j.end && *j.p == ',') {
                j.p++;
                skip_ws(&j);
                continue;
            }
            if (j.p < j.end && *j.p == '}') {
                j.p++;
                break;
            }
            rc = jfail(&j, j.p, "expected ',' or '}' after a value");
            goto out;
        }
    }
    skip_ws(&j);
    if (j.p < j.end) {
        rc = jfail(&j, j.p, "expected the end of the line after the object");
        goto out;
    }

    for (int f = 0; f < F_N; f++) {
        int required = f == F_ID || f == F_TEXT;
        if (type[f] == T_STRING || (!required && (type[f] == T_ABSENT || type[f] == T_NULL)))
            continue;
        if (type[f] == T_ABSENT)
            rc = qerr_set(err, QUARRY_EINPUT, "%s:%llu: missing \"%s\"", where,
                          (unsigned long long)lineno, field_name[f]);
        else
            rc = qerr_set(err, QUARRY_EINPUT, "%s:%llu: \"%s\" must be a string, not %s", where,
                          (unsigned long long)lineno, field_name[f], type_name[type[f]]);
        goto out;
    }
    if (flen[F_ID] == 0) {
        rc = qerr_set(err, QUARRY_EINPUT, "%s:%llu: \"id\" must not be empty", where,
                      (unsigned long long)lineno);
        goto out;
    }

    const char *base = (const char *)scratch->p;
#define FIELD(f) (type[f] == T_STRING ? base + off[f] : empty)
    doc->id = FIELD(F_ID);
    doc->title = FIELD(F_TITLE);
    doc->text = FIELD(F_TEXT);
    doc->date = FIELD(F_DATE);
#undef FIELD
    doc->id_len = flen[F_ID];
    doc->title_len = type[F_TITLE] == T_STRING ? flen[F_TITLE] : 0;
    doc->text_len = flen[F_TEXT];
    doc->date_len = type[F_DATE] == T_STRING ? flen[F_DATE] : 0;
    doc->file = where;
    doc->line = lineno;
    doc->invalid_utf8 = bad;
out:
    qbuf_free(&keybuf);
    return rc;
}
