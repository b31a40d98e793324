/*
 * eval.c — the library part of `quarry eval`: parses TREC qrels and runs
 * and computes trec_eval's measures (definitions in eval.h). Never prints.
 *
 * Both parsers keep one private copy of the file's text, cut into
 * NUL-terminated fields in place; every string below points into it.
 * Lookups go through open-addressing hash tables keyed by (query number,
 * string), so evaluating a run costs O(lines) plus the per-query sorts:
 * a 300-query x 1000-hit run takes milliseconds.
 */
#include "eval/eval.h"
#include "base/sys.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define TOP_GRADES 10            /* the ideal ranking is needed to depth 10 */
#define MAX_FIELDS 8             /* a line is split into at most this many */
#define SHOW 60                  /* longest field quoted in an error message */

static const char QRELS_FORMAT[] = "qid 0 docid rel";
static const char RUN_FORMAT[] = "qid Q0 docid rank score tag";

/* ------------------------------------------------------- hash tables */

/* Maps (q, key) to a value; keys are borrowed (they live in a parser's text). */
typedef struct slot {
    const char *key;        /* NULL: empty */
    uint32_t len, q, val;
} slot;

typedef struct table {
    slot *s;
    size_t cap, n;          /* cap is 0 or a power of two */
} table;

static size_t slot_hash(uint32_t q, const char *key, uint32_t len)
{
    uint64_t h = qhash(key, len) + (uint64_t)q * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29));
}

/* The slot holding (q, key), or the empty slot where it belongs. t->cap > 0. */
static slot *table_find(const table *t, uint32_t q, const char *key, uint32_t len)
{
    size_t mask = t->cap - 1;
    for (size_t i = slot_hash(q, key, len) & mask;; i = (i + 1) & mask) {
        slot *s = &t->s[i];
        if (!s->key || (s->q == q && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

/* Sizes an empty table for about `n` entries, so that it never grows. */
static int table_presize(table *t, size_t n)
{
    size_t cap = 64;
    while (cap / 2 < n && cap < SIZE_MAX / 4 / sizeof(slot))
        cap *= 2;
    if (!(t->s = qcalloc(cap, sizeof *t->s)))
        return -1;
    t->cap = cap;
    return 0;
}

/* Number of '\n' in text[0..len): an upper bound of the records, less one. */
static size_t count_lines(const char *text, size_t len)
{
    size_t n = 1;
    for (const char *p = text, *end = text + len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        n++;
    return n;
}

/* Makes room for one more entry (load factor at most 1/2). 0 or -1 (no memory). */
static int table_reserve(table *t)
{
    if ((t->n + 1) * 2 <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap * 2 : 64;
    slot *s = qcalloc(cap, sizeof *s);
    if (!s)
        return -1;
    table old = *t;
    t->s = s;
    t->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.s[i].key)
            *table_find(t, old.s[i].q, old.s[i].key, old.s[i].len) = old.s[i];
    free(old.s);
    return 0;
}

/* Looks up (q, key); when absent inserts it with value `val`. Returns the
 * slot (check s->val against `val` to tell a new entry), NULL on no memory. */
static slot *table_upsert(table *t, uint32_t q, const char *key, uint32_t len, uint32_t val)
{
    if (table_reserve(t))
        return NULL;
    slot *s = table_find(t, q, key, len);
    if (!s->key) {
        s->key = key;
        s->len = len;
        s->q = q;
        s->val = val;
        t->n++;
    }
    return s;
}

/* The value of (q, key), or -1 when absent. */
static int64_t table_get(const table *t, uint32_t q, const char *key, uint32_t len)
{
    if (!t->cap)
        return -1;
    const slot *s = table_find(t, q, key, len);
    return s->key ? (int64_t)s->val : -1;
}

static void table_free(table *t)
{
    free(t->s);
    memset(t, 0, sizeof *t);
}

/* Returns `arr` (n elements of `size` bytes, room for *cap) grown so that
 * one more fits, or NULL when out of memory (`arr` is then unchanged). */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return arr;
    size_t c = *cap ? *cap * 2 : 64;
    if (c > SIZE_MAX / size)
        return NULL;
    void *p = qrealloc(arr, c * size);
    if (p)
        *cap = c;
    return p;
}

/* ------------------------------------------------------------ lines */

typedef struct field {
    char *s;
    uint32_t len;
} field;

typedef struct lines {
    char *p, *end;          /* the rest of the text; *end == '\0' */
    size_t line;            /* number of the line last returned */
} lines;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Cuts the next non-blank line into NUL-terminated fields. Returns the
 * number of fields (up to MAX_FIELDS stored, more counted) or 0 at the end. */
static size_t next_line(lines *ls, field *f)
{
    while (ls->p < ls->end) {
        char *p = ls->p, *eol = memchr(p, '\n', (size_t)(ls->end - p));
        if (!eol)
            eol = ls->end;
        ls->p = eol < ls->end ? eol + 1 : eol;
        ls->line++;
        size_t n = 0;
        while (p < eol) {
            while (p < eol && is_space(*p))
                p++;
            if (p == eol)
                break;
            char *s = p;
            while (p < eol && !is_space(*p))
                p++;
            if (n < MAX_FIELDS) {
                f[n].s = s;
                f[n].len = (uint32_t)(p - s);
            }
            n++;
            *p = '\0';       /* a separator, the '\n' or the final NUL */
            if (p < eol)
                p++;
        }
        if (n)
            return n;
    }
    return 0;
}

/* Records "NAME:LINE: WHAT (expected 'FORMAT')". */
static int bad_line(quarry_error *err, const char *name, size_t line, const char *format,
                    const char *fmt, ...) QATTR_FMT(5, 6);
static int bad_line(quarry_error *err, const char *name, size_t line, const char *format,
                    const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return qerr_set(err, QUARRY_EINPUT, "%s:%zu: %s (expected '%s')", name, line, what, format);
}

static int no_memory(quarry_error *err, const char *name)
{
    return qerr_set(err, QUARRY_ENOMEM, "%s: out of memory", name);
}

/* Reads all of `path` ("-": stdin) into a new NUL-terminated buffer. */
static int read_all(const char *path, char **text, size_t *len, quarry_error *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : qsys_fopen(path, "rb");
    if (!f)
        return qerr_errno(err, "cannot open", path);
    qbuf b;
    qbuf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = qsys_fread(chunk, 1, sizeof chunk, f)) > 0)
        if (qbuf_append(&b, chunk, n))
            break;
    int bad = ferror(f);
    int e = errno;
    if (!is_stdin)
        qsys_fclose(f);
    if (bad) {
        qbuf_free(&b);
        errno = e;
        return qerr_errno(err, "cannot read", is_stdin ? "standard input" : path);
    }
    if (b.oom || qbuf_putc(&b, 0)) {
        qbuf_free(&b);
        return no_memory(err, path);
    }
    *text = (char *)b.p;
    *len = b.len - 1;
    return QUARRY_OK;
}

/* A copy of `text[0..len)` with a NUL after it. */
static char *copy_text(const char *text, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *t = qmalloc(len + 1);
    if (!t)
        return NULL;
    if (len)
        memcpy(t, text, len);
    t[len] = '\0';
    return t;
}

/* ------------------------------------------------------------ qrels */

typedef struct qrels_query {
    const char *qid;
    uint32_t qlen;
    uint32_t relevant;            /* judgments with rel > 0 */
    uint32_t ntop;                /* grades in top[] */
    int top[TOP_GRADES];          /* the largest positive grades, descending */
} qrels_query;

typedef struct judgment {
    uint32_t line;
    int rel;
} judgment;

struct qe_qrels {
    char *name, *text;
    size_t lines;                 /* records */
    qrels_query *qs;
    size_t nq, capq;
    judgment *js;
    size_t nj, capj;
    table qids;                   /* (0, qid) -> query number */
    table docs;                   /* (query number, docid) -> judgment number */
};

void qe_qrels_free(qe_qrels *q)
{
    if (!q)
        return;
    free(q->name);
    free(q->text);
    free(q->qs);
    free(q->js);
    table_free(&q->qids);
    table_free(&q->docs);
    free(q);
}

static void add_grade(qrels_query *q, int rel)
{
    if (q->ntop == TOP_GRADES && rel <= q->top[TOP_GRADES - 1])
        return;
    uint32_t i = q->ntop < TOP_GRADES ? q->ntop++ : TOP_GRADES - 1;
    while (i > 0 && q->top[i - 1] < rel) {
        q->top[i] = q->top[i - 1];
        i--;
    }
    q->top[i] = rel;
}

/* Parses a whole integer (optional sign) into *v; -1 when it is not one. */
static int parse_int(const char *s, int *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno || x < -1000000 || x > 1000000)
        return -1;
    *v = (int)x;
    return 0;
}

/* Takes ownership of `text` (len bytes + NUL). */
static int qrels_parse_owned(const char *name, char *text, size_t len, qe_qrels **out,
                             quarry_error *err)
{
    qe_qrels *q = qcalloc(1, sizeof *q);
    if (!q || !(q->name = qstrndup(name, strlen(name)))) {
        free(q);
        free(text);
        return no_memory(err, name);
    }
    q->text = text;
    if (table_presize(&q->docs, count_lines(text, len))) {
        qe_qrels_free(q);
        return no_memory(err, name);
    }
    lines ls = { text, text + len, 0 };
    field f[MAX_FIELDS];
    size_t n;
    int rc = QUARRY_OK;
    while ((n = next_line(&ls, f)) > 0) {
        if (ls.line > UINT32_MAX || q->nj >= UINT32_MAX - 1) {
            rc = qerr_set(err, QUARRY_ELIMIT, "%s:%zu: too many lines (the limit is %u)", name,
                          ls.line, UINT32_MAX - 1);
            break;
        }
        if (n != 4) {
            rc = bad_line(err, name, ls.line, QRELS_FORMAT, "%zu field%s, not 4", n,
                          n == 1 ? "" : "s");
            break;
        }
        int rel;
        if (parse_int(f[3].s, &rel)) {
            rc = bad_line(err, name, ls.line, QRELS_FORMAT,
                          "relevance '%.*s' is not an integer", SHOW, f[3].s);
            break;
        }
        slot *qs = table_upsert(&q->qids, 0, f[0].s, f[0].len, (uint32_t)q->nq);
        qrels_query *qarr = qs ? grow(q->qs, &q->capq, q->nq, sizeof *q->qs) : NULL;
        if (!qarr) {
            rc = no_memory(err, name);
            break;
        }
        q->qs = qarr;
        if (qs->val == q->nq) {
            qrels_query *nq = &q->qs[q->nq++];
            memset(nq, 0, sizeof *nq);
            nq->qid = f[0].s;
            nq->qlen = f[0].len;
        }
        uint32_t qn = qs->val;
        slot *ds = table_upsert(&q->docs, qn, f[2].s, f[2].len, (uint32_t)q->nj);
        judgment *jarr = ds ? grow(q->js, &q->capj, q->nj, sizeof *q->js) : NULL;
        if (!jarr) {
            rc = no_memory(err, name);
            break;
        }
        q->js = jarr;
        if (ds->val != q->nj) {
            rc = bad_line(err, name, ls.line, QRELS_FORMAT,
                          "document '%.*s' judged twice for query '%.*s', first at line %u",
                          SHOW, f[2].s, SHOW, f[0].s, (unsigned)q->js[ds->val].line);
            break;
        }
        q->js[q->nj].line = (uint32_t)ls.line;
        q->js[q->nj].rel = rel;
        q->nj++;
        q->lines++;
        if (rel > 0) {
            q->qs[qn].relevant++;
            add_grade(&q->qs[qn], rel);
        }
    }
    if (rc) {
        qe_qrels_free(q);
        return rc;
    }
    *out = q;
    return QUARRY_OK;
}

int qe_qrels_parse(const char *name, const char *text, size_t len, qe_qrels **out,
                   quarry_error *err)
{
    char *t = copy_text(text, len);
    if (!t)
        return no_memory(err, name);
    return qrels_parse_owned(name, t, len, out, err);
}

int qe_qrels_load(const char *path, qe_qrels **out, quarry_error *err)
{
    char *t;
    size_t len;
    int rc = read_all(path, &t, &len, err);
    if (rc)
        return rc;
    return qrels_parse_owned(path, t, len, out, err);
}

/* -------------------------------------------------------------- runs */

typedef struct run_entry {
    const char *doc;
    double score;
    uint32_t len, q, line;
} run_entry;

typedef struct run_query {
    const char *qid;
    uint32_t qlen;
    size_t start, n;              /* its entries, in trec_eval's order */
} run_query;

struct qe_run {
    char *name, *text;
    run_query *qs;
    size_t nq, capq;
    run_entry *es;                /* grouped by query, each group ranked */
    size_t ne, cape;
    table qids;                   /* (0, qid) -> query number */
};

void qe_run_free(qe_run *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->text);
    free(r->qs);
    free(r->es);
    table_free(&r->qids);
    free(r);
}

/* trec_eval's order: score descending, then docid descending (strcmp). */
static int trec_order(const void *a, const void *b)
{
    const run_entry *x = a, *y = b;
    if (x->score > y->score)
        return -1;
    if (x->score < y->score)
        return 1;
    return strcmp(y->doc, x->doc);
}

/* Groups the entries by query (keeping file order) and ranks each group. */
static int rank_entries(qe_run *r)
{
    if (!r->ne)
        return 0;
    run_entry *sorted = qmalloc(r->ne * sizeof *sorted);
    if (!sorted)
        return -1;
    for (size_t i = 0; i < r->nq; i++)
        r->qs[i].n = 0;
    for (size_t i = 0; i < r->ne; i++)
        r->qs[r->es[i].q].n++;
    size_t at = 0;
    for (size_t i = 0; i < r->nq; i++) {
        r->qs[i].start = at;
        at += r->qs[i].n;
        r->qs[i].n = 0;
    }
    for (size_t i = 0; i < r->ne; i++) {
        run_query *q = &r->qs[r->es[i].q];
        sorted[q->start + q->n++] = r->es[i];
    }
    free(r->es);
    r->es = sorted;
    r->cape = r->ne;
    for (size_t i = 0; i < r->nq; i++)
        qsort(r->es + r->qs[i].start, r->qs[i].n, sizeof *r->es, trec_order);
    return 0;
}

/* Parses a whole number (strtod syntax, not NaN) into *v; -1 otherwise. */
static int parse_score(const char *s, double *v)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || isnan(x))
        return -1;
    *v = x;
    return 0;
}

static int run_parse_owned(const char *name, char *text, size_t len, qe_run **out,
                           quarry_error *err)
{
    qe_run *r = qcalloc(1, sizeof *r);
    if (!r || !(r->name = qstrndup(name, strlen(name)))) {
        free(r);
        free(text);
        return no_memory(err, name);
    }
    r->text = text;
    table docs = { 0 };           /* (query number, docid) -> entry, to find duplicates */
    if (table_presize(&docs, count_lines(text, len))) {
        qe_run_free(r);
        return no_memory(err, name);
    }
    lines ls = { text, text + len, 0 };
    field f[MAX_FIELDS];
    size_t n;
    int rc = QUARRY_OK;
    while ((n = next_line(&ls, f)) > 0) {
        if (ls.line > UINT32_MAX || r->ne >= UINT32_MAX - 1) {
            rc = qerr_set(err, QUARRY_ELIMIT, "%s:%zu: too many lines (the limit is %u)", name,
                          ls.line, UINT32_MAX - 1);
            break;
        }
        if (n != 6) {
            rc = bad_line(err, name, ls.line, RUN_FORMAT, "%zu field%s, not 6", n,
                          n == 1 ? "" : "s");
            break;
        }
        double score;
        if (parse_score(f[4].s, &score)) {
            rc = bad_line(err, name, ls.line, RUN_FORMAT, "score '%.*s' is not a number", SHOW,
                          f[4].s);
            break;
        }
        slot *qs = table_upsert(&r->qids, 0, f[0].s, f[0].len, (uint32_t)r->nq);
        run_query *qarr = qs ? grow(r->qs, &r->capq, r->nq, sizeof *r->qs) : NULL;
        if (!qarr) {
            rc = no_memory(err, name);
            break;
        }
        r->qs = qarr;
        if (qs->val == r->nq) {
            run_query *nq = &r->qs[r->nq++];
            memset(nq, 0, sizeof *nq);
            nq->qid = f[0].s;
            nq->qlen = f[0].len;
        }
        uint32_t qn = qs->val;
        slot *ds = table_upsert(&docs, qn, f[2].s, f[2].len, (uint32_t)r->ne);
        run_entry *earr = ds ? grow(r->es, &r->cape, r->ne, sizeof *r->es) : NULL;
        if (!earr) {
            rc = no_memory(err, name);
            break;
        }
        r->es = earr;
        if (ds->val != r->ne) {
            rc = bad_line(err, name, ls.line, RUN_FORMAT,
                          "document '%.*s' listed twice for query '%.*s', first at line %u",
                          SHOW, f[2].s, SHOW, f[0].s, (unsigned)r->es[ds->val].line);
            break;
        }
        run_entry *e = &r->es[r->ne++];
        e->doc = f[2].s;
        e->len = f[2].len;
        e->score = score;
        e->q = qn;
        e->line = (uint32_t)ls.line;
    }
    table_free(&docs);
    if (!rc && rank_entries(r))
        rc = no_memory(err, name);
    if (rc) {
        qe_run_free(r);
        return rc;
    }
    *out = r;
    return QUARRY_OK;
}

int qe_run_parse(const char *name, const char *text, size_t len, qe_run **out,
                 quarry_error *err)
{
    char *t = copy_text(text, len);
    if (!t)
        return no_memory(err, name);
    return run_parse_owned(name, t, len, out, err);
}

int qe_run_load(const char *path, qe_run **out, quarry_error *err)
{
    char *t;
    size_t len;
    int rc = read_all(path, &t, &len, err);
    if (rc)
        return rc;
    return run_parse_owned(path, t, len, out, err);
}

/* -------------------------------------------------------- evaluation */

/* The measures of qrels query `qn` for its ranked run entries e[0..n). */
static void measure(const qe_qrels *qr, uint32_t qn, const run_entry *e, size_t n, qe_query *out)
{
    const qrels_query *q = &qr->qs[qn];
    double dcg = 0, idcg = 0, sum_prec = 0, rr = 0;
    uint32_t found = 0, in10 = 0, in100 = 0, in1000 = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t j = table_get(&qr->docs, qn, e[i].doc, e[i].len);
        int rel = j < 0 ? 0 : qr->js[j].rel;
        if (rel <= 0)
            continue;
        found++;
        sum_prec += (double)found / (double)(i + 1);
        if (i < 10) {
            dcg += rel / log2((double)(i + 2));
            in10++;
            if (rr == 0)
                rr = 1.0 / (double)(i + 1);
        }
        if (i < 100)
            in100++;
        if (i < 1000)
            in1000++;
    }
    for (uint32_t i = 0; i < q->ntop; i++)
        idcg += q->top[i] / log2((double)(i + 2));
    double R = q->relevant;
    out->m.ndcg10 = idcg > 0 ? dcg / idcg : 0;
    out->m.map = R > 0 ? sum_prec / R : 0;
    out->m.recall100 = R > 0 ? in100 / R : 0;
    out->m.recall1000 = R > 0 ? in1000 / R : 0;
    out->m.p10 = in10 / 10.0;
    out->m.mrr10 = rr;
    out->relevant = q->relevant;
    out->retrieved = (uint32_t)n;
    out->relevant_retrieved = found;
}

/* All digits, short enough to compare as a number. */
static int numeric_id(const char *s, unsigned long long *v)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18)
        return 0;
    unsigned long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return 1;
}

static int qid_order(const void *a, const void *b)
{
    const qe_query *x = a, *y = b;
    unsigned long long u, v;
    if (numeric_id(x->qid, &u) && numeric_id(y->qid, &v) && u != v)
        return u < v ? -1 : 1;
    return strcmp(x->qid, y->qid);
}

void qe_result_free(qe_result *r)
{
    if (!r)
        return;
    free(r->queries);
    free(r->names);
    free(r);
}

int qe_evaluate(const qe_qrels *qrels, const qe_run *run, qe_result **out, quarry_error *err)
{
    size_t nq = 0, names = 0;
    for (size_t i = 0; i < qrels->nq; i++)
        if (qrels->qs[i].relevant) {
            nq++;
            names += qrels->qs[i].qlen + 1;
        }
    if (!nq)
        return qerr_set(err, QUARRY_EINPUT,
                        "%s: no query has a relevant document (rel > 0): nothing to evaluate",
                        qrels->name);
    qe_result *r = qcalloc(1, sizeof *r);
    if (!r || !(r->queries = qcalloc(nq, sizeof *r->queries)) || !(r->names = qmalloc(names))) {
        qe_result_free(r);
        return no_memory(err, "eval");
    }
    r->qrels_queries = qrels->nq;
    r->run_queries = run->nq;
    r->qrels_lines = qrels->lines;
    r->run_lines = run->ne;
    char *name = r->names;
    size_t k = 0, averaged_in_run = 0;
    for (size_t i = 0; i < qrels->nq; i++) {
        const qrels_query *q = &qrels->qs[i];
        if (!q->relevant) {
            r->no_relevant++;
            continue;
        }
        qe_query *o = &r->queries[k++];
        memcpy(name, q->qid, q->qlen + 1);
        o->qid = name;
        name += q->qlen + 1;
        int64_t j = table_get(&run->qids, 0, q->qid, q->qlen);
        if (j < 0) {
            r->missing++;
            o->relevant = q->relevant;
            continue;             /* every measure 0 (trec_eval -c) */
        }
        const run_query *rq = &run->qs[j];
        o->in_run = 1;
        averaged_in_run++;
        measure(qrels, (uint32_t)i, run->es + rq->start, rq->n, o);
    }
    r->nqueries = nq;
    r->ignored = run->nq - averaged_in_run;
    qsort(r->queries, nq, sizeof *r->queries, qid_order);
    qe_measures s = { 0 };
    for (size_t i = 0; i < nq; i++) {
        const qe_measures *m = &r->queries[i].m;
        s.ndcg10 += m->ndcg10;
        s.map += m->map;
        s.recall100 += m->recall100;
        s.recall1000 += m->recall1000;
        s.p10 += m->p10;
        s.mrr10 += m->mrr10;
    }
    double d = (double)nq;
    r->mean.ndcg10 = s.ndcg10 / d;
    r->mean.map = s.map / d;
    r->mean.recall100 = s.recall100 / d;
    r->mean.recall1000 = s.recall1000 / d;
    r->mean.p10 = s.p10 / d;
    r->mean.mrr10 = s.mrr10 / d;
    *out = r;
    return QUARRY_OK;
}
