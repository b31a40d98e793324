/*
 * base.h — small shared helpers of libquarry: error reporting, growable
 * byte buffers, checked allocation, little-endian loads and stores.
 *
 * Errors: qerr_set() is the one place an error is recorded; qerr_corrupt()
 * the one place a damaged index is noticed (set a breakpoint there).
 */
#ifndef QUARRY_BASE_H
#define QUARRY_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "quarry.h"

#if defined(__GNUC__)
#define QATTR_FMT(a, b) __attribute__((format(printf, a, b)))
#else
#define QATTR_FMT(a, b)
#endif

/* Records `code` and a formatted one-line message in `err` (may be NULL);
 * returns `code` so callers can `return qerr_set(...)`. */
int qerr_set(quarry_error *err, int code, const char *fmt, ...) QATTR_FMT(3, 4);
/* Same, code QUARRY_ECORRUPT: "FILE: byte OFFSET: WHAT". */
int qerr_corrupt(quarry_error *err, const char *file, uint64_t offset, const char *what);
/* QUARRY_EIO with strerror(errno) appended: "WHAT PATH: <strerror>". */
int qerr_errno(quarry_error *err, const char *what, const char *path);
/* "FILE:LINE" (or "FILE" when line is 0) into out, for messages. */
void qerr_where(char *out, size_t n, const char *file, uint64_t line);

/* ------------------------------------------------------------ buffers */

typedef struct qbuf {
    uint8_t *p;
    size_t len, cap;
    int oom;          /* sticky: set when a growth failed; later appends do nothing */
} qbuf;

void qbuf_init(qbuf *b);
void qbuf_free(qbuf *b);
int qbuf_reserve(qbuf *b, size_t extra);         /* 0 ok, -1 out of memory */
int qbuf_append(qbuf *b, const void *p, size_t n);
int qbuf_putc(qbuf *b, uint8_t c);
int qbuf_put_u16(qbuf *b, uint16_t v);
int qbuf_put_u32(qbuf *b, uint32_t v);
int qbuf_put_u64(qbuf *b, uint64_t v);
int qbuf_put_varint(qbuf *b, uint64_t v);
/* The bytes qbuf_put_varint writes for v. */
static inline size_t qvarint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}
int qbuf_printf(qbuf *b, const char *fmt, ...) QATTR_FMT(2, 3);
static inline void qbuf_reset(qbuf *b) { b->len = 0; }

/* --------------------------------------------------- little endian I/O */

static inline uint16_t qload_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t qload_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t qload_u64(const uint8_t *p)
{
    return (uint64_t)qload_u32(p) | ((uint64_t)qload_u32(p + 4) << 32);
}
static inline void qstore_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Decodes a LEB128 varint from [*p, end). Returns 0 and advances *p, or -1
 * when the varint runs past `end` or is longer than 10 bytes. */
int qget_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* A checked cursor over a byte range: every read checks the bounds and a
 * failed read makes the cursor sticky-bad (ok == 0), returning zeros. */
typedef struct qcur {
    const uint8_t *p, *end;
    int ok;
} qcur;
static inline qcur qcur_make(const void *p, size_t n)
{
    qcur c = { (const uint8_t *)p, (const uint8_t *)p + n, 1 };
    return c;
}
uint8_t qcur_u8(qcur *c);
uint32_t qcur_u32(qcur *c);
uint64_t qcur_u64(qcur *c);
uint64_t qcur_varint_slow(qcur *c);
/* A varint; one-byte values (most of them) inline. */
static inline uint64_t qcur_varint(qcur *c)
{
    if (c->ok && c->p < c->end && *c->p < 0x80)
        return *c->p++;
    if (c->ok && c->end - c->p >= 2 && c->p[1] < 0x80) {   /* two bytes (lengths in impacts) */
        uint64_t v = (uint64_t)(c->p[0] & 0x7f) | (uint64_t)c->p[1] << 7;
        c->p += 2;
        return v;
    }
    return qcur_varint_slow(c);
}
const uint8_t *qcur_bytes(qcur *c, size_t n);   /* NULL (and !ok) when fewer remain */

/* Makes room for element n of a growable array *v of *cap elements of
 * `size` bytes (doubling, 16 at first). Returns 0, or -1 when out of
 * memory (then *v is unchanged). */
int qgrow(void **v, size_t *cap, size_t n, size_t size);

/* ------------------------------------------------------------- dates */

/* Reads the ISO 8601 prefix "YYYY[-MM[-DD[(T| )hh[:mm[:ss]]]]]" of s as the
 * key YYYYMMDDhhmmss: *lo the key, *hi the last key of the range the
 * prefix covers ("2025-11" -> 20251100000000 .. 20251199999999). Returns the
 * bytes read, 0 when s does not start with a year (date.c). */
size_t qdate_key(const char *s, size_t len, uint64_t *lo, uint64_t *hi);

/* ------------------------------------------------------------- misc */

/* 64-bit FNV-1a-style hash (wyhash-like mixing) of a byte string. */
uint64_t qhash(const void *p, size_t n);
char *qstrndup(const char *s, size_t n);
double qnow(void);  /* monotonic seconds */

#endif
