/*
 * merge.c — k-way merge of the sorted run files written by invert.c into
 * the postings writer. Runs hold consecutive ranges of units, so for a term
 * present in several runs the postings are concatenated in run order.
 * Every run is read through its own buffer, sized so that all buffers
 * together stay within the memory given (between 4 KiB and 128 KiB each).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "index/postw.h"

#define RUN_BUF_MAX (128u << 10)
#define RUN_BUF_MIN (4u << 10)

typedef struct run {
    FILE *f;
    const char *path;
    uint8_t *buf;
    size_t pos, len, cap;
    int eof, bad;
    /* current term */
    uint8_t term[QF_MAX_TERM + 1];
    uint32_t term_len;
    uint64_t df, nbytes;
    int has_term;
} run;

/* Makes at least n bytes (n <= cap) available; returns available count. */
static size_t need(run *r, size_t n)
{
    if (r->len - r->pos >= n || r->eof)
        return r->len - r->pos;
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->pos = 0;
    while (r->len < n && !r->eof) {
        size_t k = fread(r->buf + r->len, 1, r->cap - r->len, r->f);
        if (k == 0) {
            if (ferror(r->f))
                r->bad = 1;
            r->eof = 1;
        }
        r->len += k;
    }
    return r->len - r->pos;
}

static uint64_t rvarint(run *r)
{
    need(r, 10);
    const uint8_t *p = r->buf + r->pos;
    uint64_t v = 0;
    if (qget_varint(&p, r->buf + r->len, &v)) {
        r->bad = 1;
        return 0;
    }
    r->pos = (size_t)(p - r->buf);
    return v;
}

static void next_term(run *r)
{
    r->has_term = 0;
    if (need(r, 1) == 0 || r->bad)
        return;
    uint64_t len = rvarint(r);
    if (len == 0 || len > QF_MAX_TERM || need(r, len) < len) {
        r->bad = 1;
        return;
    }
    memcpy(r->term, r->buf + r->pos, len);
    r->pos += len;
    r->term_len = (uint32_t)len;
    r->df = rvarint(r);
    r->nbytes = rvarint(r);
    r->has_term = !r->bad;
}

static int cmp(const run *a, const run *b)
{
    uint32_t n = a->term_len < b->term_len ? a->term_len : b->term_len;
    int c = memcmp(a->term, b->term, n);
    return c ? c : (a->term_len > b->term_len) - (a->term_len < b->term_len);
}

int qpw_merge_runs(qpw *w, const char *const *paths, size_t nruns, uint32_t nunits, size_t mem,
             quarry_error *err)
{
    size_t cap = nruns ? mem / nruns : RUN_BUF_MAX;
    cap = cap > RUN_BUF_MAX ? RUN_BUF_MAX : cap < RUN_BUF_MIN ? RUN_BUF_MIN : cap;
    run *runs = calloc(nruns ? nruns : 1, sizeof *runs);
    uint32_t *pos = NULL;
    size_t cap_pos = 0;
    int rc = 0;
    if (!runs)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    for (size_t i = 0; i < nruns; i++) {
        runs[i].path = paths[i];
        runs[i].f = fopen(paths[i], "rb");
        runs[i].buf = malloc(cap);
        runs[i].cap = cap;
        if (!runs[i].f || !runs[i].buf) {
            rc = runs[i].f ? qerr_set(err, QUARRY_ENOMEM, "out of memory")
                           : qerr_errno(err, "cannot open run file", paths[i]);
            goto done;
        }
        next_term(&runs[i]);
    }
    for (;;) {
        run *min = NULL;
        for (size_t i = 0; i < nruns; i++) {
            if (runs[i].bad) {
                rc = qerr_set(err, QUARRY_EIO, "%s: run file is damaged or unreadable", runs[i].path);
                goto done;
            }
            if (runs[i].has_term && (!min || cmp(&runs[i], min) < 0))
                min = &runs[i];
        }
        if (!min)
            break;
        run cur = *min;   /* the term to merge (copied: runs advance below) */
        if (qpw_term_begin(w, cur.term, cur.term_len)) {
            rc = qerr_set(err, QUARRY_ELIMIT, "term too long");
            goto done;
        }
        for (size_t i = 0; i < nruns; i++) {
            run *r = &runs[i];
            if (!r->has_term || cmp(r, &cur) != 0)
                continue;
            uint64_t unit1 = 0;   /* previous unit + 1 */
            for (uint64_t d = 0; d < r->df; d++) {
                unit1 += rvarint(r);
                uint64_t tf = rvarint(r);
                if (r->bad || unit1 == 0 || unit1 > nunits || tf == 0 || tf > (1u << 30)) {
                    rc = qerr_set(err, QUARRY_EIO, "%s: run file is damaged", r->path);
                    goto done;
                }
                if (tf > cap_pos) {
                    size_t nc = cap_pos ? cap_pos * 2 : 1024;
                    while (nc < tf)
                        nc *= 2;
                    uint32_t *p = realloc(pos, nc * sizeof *p);
                    if (!p) {
                        rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
                        goto done;
                    }
                    pos = p;
                    cap_pos = nc;
                }
                uint32_t p = 0;
                for (uint64_t k = 0; k < tf; k++) {
                    p += (uint32_t)rvarint(r);
                    pos[k] = p;
                }
                if (qpw_posting(w, (uint32_t)(unit1 - 1), (uint32_t)tf, pos)) {
                    rc = qerr_set(err, QUARRY_ENOMEM, "out of memory or bad posting order while merging");
                    goto done;
                }
            }
            next_term(r);
        }
        qpw_term_end(w);
    }
done:
    for (size_t i = 0; i < nruns; i++) {
        if (runs[i].f)
            fclose(runs[i].f);
        free(runs[i].buf);
    }
    free(runs);
    free(pos);
    return rc;
}
