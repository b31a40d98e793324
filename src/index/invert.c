/*
 * invert.c — in-memory inversion with bounded memory (see invert.h).
 *
 * Each term owns a chain of slices in a pool of large chunks (mmap'd, so
 * they go back to the system when a segment is written). A slice's last 4 bytes hold the
 * pool address of the next slice; slices grow from 16 to 4096 bytes, so a
 * rare term costs a few bytes and a frequent one wastes at most 1/4096.
 * The tokens of the current unit are linked per term so that a unit is
 * inverted in one pass with no sorting.
 */
#include "index/invert.h"
#include "base/sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK_BITS 22u                 /* 4 MiB chunks */
#define CHUNK ((size_t)1 << CHUNK_BITS)
#define MAX_CHUNKS 1024u               /* 4 GiB of pool addresses fit in 32 bits */
#define NLEVELS 9
static const uint32_t level_size[NLEVELS] = { 16, 32, 64, 128, 256, 512, 1024, 2048, 4096 };

typedef struct term {
    uint32_t str;        /* offset of the term bytes in `strs` */
    uint32_t len;
    uint32_t hash;
    uint32_t head;       /* pool address of the first slice */
    uint32_t wr, end;    /* next write address; address of the current slice's link field */
    uint32_t level;
    uint32_t prev_unit;  /* last unit written + 1 (0: none) */
    uint32_t df;
    uint32_t nbytes;     /* bytes of postings in the chain */
    uint32_t cur_unit;   /* unit of the pending tokens + 1 */
    uint32_t thead, ttail, ttf;
} term;

struct qi_inverter {
    size_t budget;
    /* pool */
    uint8_t *chunks[MAX_CHUNKS];
    uint32_t nchunks;
    uint32_t pool_used;     /* bytes used in the last chunk */
    /* terms */
    term *terms;
    uint32_t nterms, cap_terms;
    uint64_t *table;        /* open addressing: hash << 32 | term index + 1; 0 empty */
    uint32_t mask;
    qbuf strs;
    /* current unit */
    uint32_t unit;
    int in_unit;
    uint32_t *tpos, *tnext;
    uint32_t ntok, cap_tok;
    uint32_t *touched;
    uint32_t ntouched, cap_touched;
    uint32_t epoch;         /* segments written */
    int failed;
};

uint32_t qi_epoch(const qi_inverter *qi) { return qi->epoch; }

static inline uint8_t *addr(qi_inverter *qi, uint32_t a)
{
    return qi->chunks[a >> CHUNK_BITS] + (a & (CHUNK - 1));
}

/* Allocates `n` bytes of pool; returns its address or UINT32_MAX. */
static uint32_t pool_alloc(qi_inverter *qi, uint32_t n)
{
    if (qi->nchunks == 0 || qi->pool_used + n > CHUNK) {
        if (qi->nchunks == MAX_CHUNKS)
            return UINT32_MAX;
        void *p = qsys_mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return UINT32_MAX;
#ifdef MADV_HUGEPAGE
        madvise(p, CHUNK, MADV_HUGEPAGE);   /* fewer page faults where the system allows it */
#endif
        qi->chunks[qi->nchunks++] = p;
        qi->pool_used = 0;
    }
    uint32_t a = ((qi->nchunks - 1) << CHUNK_BITS) | qi->pool_used;
    qi->pool_used += n;
    return a;
}

static void pool_release(qi_inverter *qi)
{
    for (uint32_t i = 0; i < qi->nchunks; i++)
        qsys_munmap(qi->chunks[i], CHUNK);
    qi->nchunks = 0;
    qi->pool_used = 0;
}

size_t qi_accounted(const qi_inverter *qi)
{
    /* pool bytes handed out, not whole chunks: the untouched tail of the
     * last mmap'd chunk is not resident, and counting it made a small
     * budget (--mem 8 gives 2 MiB < one 4 MiB chunk) spill after every unit */
    size_t pool = qi->nchunks ? (size_t)(qi->nchunks - 1) * CHUNK + qi->pool_used : 0;
    return pool + (size_t)qi->cap_terms * sizeof(term) +
           ((size_t)qi->mask + 1) * sizeof(uint64_t) + qi->strs.cap +
           (size_t)qi->cap_tok * 8 + (size_t)qi->cap_touched * 4;
}

int qi_open(size_t budget, qi_inverter **out, quarry_error *err)
{
    qi_inverter *qi = qcalloc(1, sizeof *qi);
    if (!qi)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    qi->budget = budget < (1u << 20) ? (1u << 20) : budget;
    qbuf_init(&qi->strs);
    *out = qi;
    return 0;
}

static void reset_terms(qi_inverter *qi)
{
    free(qi->terms);
    free(qi->table);
    qi->terms = NULL;
    qi->table = NULL;
    qi->nterms = qi->cap_terms = 0;
    qi->mask = 0;
    qbuf_free(&qi->strs);
    pool_release(qi);
}

void qi_close(qi_inverter *qi)
{
    if (!qi)
        return;
    reset_terms(qi);
    free(qi->tpos);
    free(qi->tnext);
    free(qi->touched);
    free(qi);
}

int qi_full(const qi_inverter *qi) { return qi_accounted(qi) >= qi->budget; }

/* A long unit's scratch is not kept for the next segment. */
static void shrink_scratch(qi_inverter *qi)
{
    if (qi->cap_tok > 65536) {
        free(qi->tpos);
        free(qi->tnext);
        qi->tpos = qi->tnext = NULL;
        qi->cap_tok = 0;
    }
    if (qi->cap_touched > 65536) {
        free(qi->touched);
        qi->touched = NULL;
        qi->cap_touched = 0;
    }
}

void qi_reset(qi_inverter *qi)
{
    reset_terms(qi);
    shrink_scratch(qi);
    qi->ntouched = qi->ntok = 0;
    qi->in_unit = 0;
    qi->failed = 0;
    qi->epoch++;
}

static int grow_table(qi_inverter *qi)
{
    uint32_t ncap = qi->mask ? (qi->mask + 1) * 2 : 1024;
    uint64_t *t = qcalloc(ncap, sizeof *t);
    if (!t)
        return -1;
    for (uint32_t i = 0; i < qi->nterms; i++) {
        uint32_t h = qi->terms[i].hash & (ncap - 1);
        while (t[h])
            h = (h + 1) & (ncap - 1);
        t[h] = (uint64_t)qi->terms[i].hash << 32 | (i + 1);
    }
    free(qi->table);
    qi->table = t;
    qi->mask = ncap - 1;
    return 0;
}

static inline int same(const uint8_t *a, const uint8_t *b, uint32_t len)
{
    while (len >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return 0;
        a += 8;
        b += 8;
        len -= 8;
    }
    while (len--)
        if (*a++ != *b++)
            return 0;
    return 1;
}

/* Finds or creates the term; returns its index or UINT32_MAX (no memory).
 * The table is at most half full and its slots hold the hash, so a probe
 * reads a term only when the hashes agree. */
static uint32_t lookup(qi_inverter *qi, const char *s, uint32_t len, uint32_t hash)
{
    if ((qi->nterms + 1) * 2 > qi->mask + 1 || !qi->table)
        if (grow_table(qi))
            return UINT32_MAX;
    uint32_t h = hash & qi->mask;
    for (;;) {
        uint64_t t = qi->table[h];
        if (!t)
            break;
        if ((uint32_t)(t >> 32) == hash) {
            term *e = &qi->terms[(uint32_t)t - 1];
            if (e->len == len && same(qi->strs.p + e->str, (const uint8_t *)s, len))
                return (uint32_t)t - 1;
        }
        h = (h + 1) & qi->mask;
    }
    if (qi->nterms == qi->cap_terms) {
        uint32_t nc = qi->cap_terms ? qi->cap_terms * 2 : 1024;
        term *nt = qrealloc(qi->terms, (size_t)nc * sizeof *nt);
        if (!nt)
            return UINT32_MAX;
        qi->terms = nt;
        qi->cap_terms = nc;
    }
    uint32_t a = pool_alloc(qi, level_size[0]);
    if (a == UINT32_MAX)
        return UINT32_MAX;
    term *e = &qi->terms[qi->nterms];
    memset(e, 0, sizeof *e);
    e->str = (uint32_t)qi->strs.len;
    e->len = len;
    e->hash = hash;
    e->head = e->wr = a;
    e->end = a + level_size[0] - 4;
    if (qbuf_append(&qi->strs, s, len))
        return UINT32_MAX;
    qi->table[h] = (uint64_t)hash << 32 | (qi->nterms + 1);
    return qi->nterms++;
}

/* Appends bytes to a term's slice chain. */
static int put(qi_inverter *qi, term *e, const uint8_t *p, size_t n)
{
    while (n) {
        if (e->wr == e->end) {
            if (e->level + 1 < NLEVELS)
                e->level++;
            uint32_t sz = level_size[e->level];
            uint32_t a = pool_alloc(qi, sz);
            if (a == UINT32_MAX)
                return -1;
            qstore_u32(addr(qi, e->end), a);
            e->wr = a;
            e->end = a + sz - 4;
        }
        uint32_t room = e->end - e->wr;
        uint32_t k = n < room ? (uint32_t)n : room;
        uint8_t *dst = addr(qi, e->wr);
        for (uint32_t i = 0; i < k; i++)   /* pieces are short: no call to memcpy */
            dst[i] = p[i];
        e->wr += k;
        p += k;
        n -= k;
        e->nbytes += k;
    }
    return 0;
}

static inline size_t enc_varint(uint8_t *t, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    return n;
}

void qi_prefetch(const qi_inverter *qi, uint64_t hash)
{
    if (qi->table)
        __builtin_prefetch(&qi->table[(uint32_t)hash & qi->mask]);
}

uint32_t qi_term(qi_inverter *qi, const char *s, uint32_t len, uint64_t hash)
{
    uint32_t t = lookup(qi, s, len, (uint32_t)hash);
    if (t == UINT32_MAX)
        qi->failed = 1;
    return t;
}

int qi_add(qi_inverter *qi, uint32_t unit, const char *s, uint32_t len, uint64_t hash, uint32_t pos)
{
    if (qi->failed)
        return -1;
    return qi_add_term(qi, unit, qi_term(qi, s, len, hash), pos);
}

int qi_add_term(qi_inverter *qi, uint32_t unit, uint32_t t, uint32_t pos)
{
    if (qi->failed || t >= qi->nterms)
        return -1;
    qi->unit = unit;
    qi->in_unit = 1;
    if (qi->ntok == qi->cap_tok) {
        uint32_t nc = qi->cap_tok ? qi->cap_tok * 2 : 4096;
        uint32_t *a = qrealloc(qi->tpos, (size_t)nc * 4);
        if (!a) {
            qi->failed = 1;
            return -1;
        }
        qi->tpos = a;
        uint32_t *b = qrealloc(qi->tnext, (size_t)nc * 4);
        if (!b) {
            qi->failed = 1;
            return -1;
        }
        qi->tnext = b;
        qi->cap_tok = nc;
    }
    uint32_t i = qi->ntok++;
    qi->tpos[i] = pos;
    qi->tnext[i] = UINT32_MAX;
    term *e = &qi->terms[t];
    if (e->cur_unit != unit + 1) {
        if (qi->ntouched == qi->cap_touched) {
            uint32_t nc = qi->cap_touched ? qi->cap_touched * 2 : 1024;
            uint32_t *a = qrealloc(qi->touched, (size_t)nc * 4);
            if (!a) {
                qi->failed = 1;
                return -1;
            }
            qi->touched = a;
            qi->cap_touched = nc;
        }
        qi->touched[qi->ntouched++] = t;
        e->cur_unit = unit + 1;
        e->thead = e->ttail = i;
        e->ttf = 1;
    } else {
        qi->tnext[e->ttail] = i;
        e->ttail = i;
        e->ttf++;
    }
    return 0;
}

int qi_end_unit(qi_inverter *qi, quarry_error *err)
{
    if (qi->failed)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory while inverting");
    uint8_t tmp[256];
    for (uint32_t k = 0; k < qi->ntouched; k++) {
        term *e = &qi->terms[qi->touched[k]];
        /* the posting's bytes gather in tmp and go to the slices in pieces */
        size_t n = enc_varint(tmp, (uint64_t)qi->unit + 1 - e->prev_unit);
        n += enc_varint(tmp + n, e->ttf);
        uint32_t prev = 0;
        for (uint32_t i = e->thead; i != UINT32_MAX; i = qi->tnext[i]) {
            if (n > sizeof tmp - 10) {
                if (put(qi, e, tmp, n))
                    goto oom;
                n = 0;
            }
            n += enc_varint(tmp + n, qi->tpos[i] - prev);
            prev = qi->tpos[i];
        }
        if (put(qi, e, tmp, n))
            goto oom;
        e->prev_unit = qi->unit + 1;
        e->df++;
    }
    qi->ntouched = 0;
    qi->ntok = 0;
    qi->in_unit = 0;
    return 0;
oom:
    qi->failed = 1;
    return qerr_set(err, QUARRY_ENOMEM, "out of memory while inverting");
}

/* ------------------------------------------------------------ writing */

typedef struct sterm {
    const uint8_t *s;
    uint32_t len, idx;
} sterm;

static int cmp_sterm(const void *a, const void *b)
{
    const sterm *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Reads a term's chain of slices byte by byte. */
typedef struct chain {
    qi_inverter *qi;
    uint32_t a, room, left, level;
} chain;

static int chain_byte(chain *c)
{
    if (c->left == 0)
        return -1;
    if (c->room == 0) {   /* next slice: its address is in the last 4 bytes of this one */
        c->a = qload_u32(addr(c->qi, c->a));
        if (c->level + 1 < NLEVELS)
            c->level++;
        c->room = level_size[c->level] - 4;
    }
    c->left--;
    c->room--;
    return *addr(c->qi, c->a++);
}

static int chain_varint(chain *c, uint64_t *v)
{
    if (c->room >= 10 && c->left >= 10) {   /* the whole varint is in this slice */
        const uint8_t *p = addr(c->qi, c->a);
        uint64_t r = 0;
        for (uint32_t i = 0; i < 10; i++) {
            r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
            if (!(p[i] & 0x80)) {
                c->a += i + 1;
                c->room -= i + 1;
                c->left -= i + 1;
                *v = r;
                return 0;
            }
        }
        return -1;
    }
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        int b = chain_byte(c);
        if (b < 0)
            return -1;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

int qi_write(qi_inverter *qi, qpw *w, quarry_error *err)
{
    if (qi->failed)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory while inverting");
    sterm *order = qmalloc((qi->nterms ? qi->nterms : 1) * sizeof *order);
    uint32_t *pos = NULL;
    size_t cap_pos = 0;
    int rc = 0;
    if (!order)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory while sorting terms");
    for (uint32_t i = 0; i < qi->nterms; i++) {
        order[i].s = qi->strs.p + qi->terms[i].str;
        order[i].len = qi->terms[i].len;
        order[i].idx = i;
    }
    qsort(order, qi->nterms, sizeof *order, cmp_sterm);
    for (uint32_t k = 0; k < qi->nterms && !rc; k++) {
        term *e = &qi->terms[order[k].idx];
        chain c = { qi, e->head, level_size[0] - 4, e->nbytes, 0 };
        if (qpw_term_begin(w, order[k].s, order[k].len)) {
            rc = qerr_set(err, QUARRY_ELIMIT, "a term longer than %u bytes", QF_MAX_TERM);
            break;
        }
        uint64_t unit1 = 0;   /* previous unit + 1 */
        for (uint32_t d = 0; d < e->df && !rc; d++) {
            uint64_t delta, tf, p;
            if (chain_varint(&c, &delta) || chain_varint(&c, &tf) || tf == 0 || tf > UINT32_MAX) {
                rc = qerr_set(err, QUARRY_ENOMEM, "inverter: damaged in-memory postings");
                break;
            }
            unit1 += delta;
            if (tf > cap_pos) {
                size_t nc = cap_pos ? cap_pos : 256;
                while (nc < tf)
                    nc *= 2;
                uint32_t *np = qrealloc(pos, nc * sizeof *np);
                if (!np) {
                    rc = qerr_set(err, QUARRY_ENOMEM, "out of memory");
                    break;
                }
                pos = np;
                cap_pos = nc;
            }
            uint32_t at = 0;
            for (uint64_t j = 0; j < tf && !rc; j++) {
                if (chain_varint(&c, &p))
                    rc = qerr_set(err, QUARRY_ENOMEM, "inverter: damaged in-memory postings");
                at += (uint32_t)p;
                pos[j] = at;
            }
            if (!rc && qpw_posting(w, (uint32_t)(unit1 - 1), (uint32_t)tf, pos))
                rc = qerr_set(err, QUARRY_ENOMEM, "out of memory or bad posting order while writing postings");
        }
        if (!rc)
            qpw_term_end(w);
    }
    free(order);
    free(pos);
    reset_terms(qi);
    shrink_scratch(qi);
    qi->epoch++;
    return rc;
}
