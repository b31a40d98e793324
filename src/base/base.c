/*
 * base.c — error recording, growable buffers, checked cursors and hashing
 * shared by every module of libquarry (see base.h).
 */
#include "base/base.h"
#include "base/sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *const messages[QUARRY_NCODES] = {
    [QUARRY_OK] = "success",
    [QUARRY_ENOMEM] = "out of memory",
    [QUARRY_EIO] = "input/output error",
    [QUARRY_ECORRUPT] = "index file is damaged",
    [QUARRY_EFORMAT] = "not a quarry index of a supported version",
    [QUARRY_EINVAL] = "invalid argument",
    [QUARRY_ESYNTAX] = "query syntax error",
    [QUARRY_EINPUT] = "bad input document",
    [QUARRY_ENOTFOUND] = "not found",
    [QUARRY_ELIMIT] = "input exceeds a limit",
    [QUARRY_ENOTERMS] = "query has no searchable terms",
};

const char *quarry_strerror(int code)
{
    if (code < 0 || code >= QUARRY_NCODES || !messages[code])
        return "unknown error";
    return messages[code];
}

int qerr_set(quarry_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int qerr_corrupt(quarry_error *err, const char *file, uint64_t offset, const char *what)
{
    return qerr_set(err, QUARRY_ECORRUPT, "%s: byte %llu: %s (run 'quarry verify', then rebuild the index)",
                    file, (unsigned long long)offset, what);
}

int qerr_errno(quarry_error *err, const char *what, const char *path)
{
    int e = errno;
    return qerr_set(err, e == ENOMEM ? QUARRY_ENOMEM : QUARRY_EIO, "%s %s: %s", what, path, strerror(e));
}

/* ------------------------------------------------------------ buffers */

void qbuf_init(qbuf *b) { memset(b, 0, sizeof *b); }

void qbuf_free(qbuf *b)
{
    if (!b)
        return;
    free(b->p);
    memset(b, 0, sizeof *b);
}

int qbuf_reserve(qbuf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len >= extra)
        return 0;
    size_t need = b->len + extra;
    if (need < b->len) {
        b->oom = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap * 2 < cap ? need : cap * 2;
    uint8_t *p = qrealloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int qbuf_append(qbuf *b, const void *p, size_t n)
{
    if (n == 0)
        return b->oom ? -1 : 0;
    if (qbuf_reserve(b, n))
        return -1;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

int qbuf_putc(qbuf *b, uint8_t c) { return qbuf_append(b, &c, 1); }

int qbuf_put_u16(qbuf *b, uint16_t v)
{
    uint8_t t[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    return qbuf_append(b, t, 2);
}

int qbuf_put_u32(qbuf *b, uint32_t v)
{
    uint8_t t[4];
    qstore_u32(t, v);
    return qbuf_append(b, t, 4);
}

int qbuf_put_u64(qbuf *b, uint64_t v)
{
    uint8_t t[8];
    qstore_u32(t, (uint32_t)v);
    qstore_u32(t + 4, (uint32_t)(v >> 32));
    return qbuf_append(b, t, 8);
}

int qbuf_put_varint(qbuf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    return qbuf_append(b, t, n);
}

int qbuf_printf(qbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof tmp)
        return qbuf_append(b, tmp, (size_t)n);
    if (qbuf_reserve(b, (size_t)n + 1))
        return -1;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int qgrow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    if (nc < n + 1)
        nc = n + 1;
    if (nc > SIZE_MAX / size)
        return -1;
    void *p = qrealloc(*v, nc * size);
    if (!p)
        return -1;
    *v = p;
    *cap = nc;
    return 0;
}

/* ------------------------------------------------------------ cursors */

int qget_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t r = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end)
            return -1;
        uint8_t c = *p++;
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *pp = p;
            *v = r;
            return 0;
        }
    }
    return -1;
}

uint8_t qcur_u8(qcur *c)
{
    if (!c->ok || c->p >= c->end) {
        c->ok = 0;
        return 0;
    }
    return *c->p++;
}

uint32_t qcur_u32(qcur *c)
{
    if (!c->ok || c->end - c->p < 4) {
        c->ok = 0;
        return 0;
    }
    uint32_t v = qload_u32(c->p);
    c->p += 4;
    return v;
}

uint64_t qcur_u64(qcur *c)
{
    if (!c->ok || c->end - c->p < 8) {
        c->ok = 0;
        return 0;
    }
    uint64_t v = qload_u64(c->p);
    c->p += 8;
    return v;
}

uint64_t qcur_varint_slow(qcur *c)
{
    uint64_t v = 0;
    if (!c->ok || qget_varint(&c->p, c->end, &v)) {
        c->ok = 0;
        return 0;
    }
    return v;
}

const uint8_t *qcur_bytes(qcur *c, size_t n)
{
    if (!c->ok || (size_t)(c->end - c->p) < n) {
        c->ok = 0;
        return NULL;
    }
    const uint8_t *r = c->p;
    c->p += n;
    return r;
}

/* ------------------------------------------------------------- misc */

void qerr_where(char *out, size_t n, const char *file, uint64_t line)
{
    if (line)
        snprintf(out, n, "%s:%llu", file, (unsigned long long)line);
    else
        snprintf(out, n, "%s", file);
}

uint64_t qhash(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    while (n >= 8) {
        uint64_t k = qload_u64(s);
        k *= 0xbf58476d1ce4e5b9ull;
        k ^= k >> 31;
        h = (h ^ k) * 0x94d049bb133111ebull;
        s += 8;
        n -= 8;
    }
    /* the last 0-7 bytes in at most two loads (a word's, usually): 4-7
     * bytes as their first and last four (overlapping), 1-3 as the first,
     * middle and last byte; with the length mixed in above, both determine
     * the bytes */
    uint64_t k = 0;
    if (n >= 4)
        k = (uint64_t)qload_u32(s) | (uint64_t)qload_u32(s + n - 4) << 32;
    else if (n > 0)
        k = (uint64_t)s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16;
    h = (h ^ k) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 32;
    return h;
}

char *qstrndup(const char *s, size_t n)
{
    char *r = qmalloc(n + 1);
    if (!r)
        return NULL;
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

double qnow(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
