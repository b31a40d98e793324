/*
 * codec.h — integer codecs of the postings format (index/FORMAT.md §codec):
 * bit packing of up to 128 unsigned 32-bit values at a fixed width.
 *
 * A packed group of n values at width w occupies qc_packed_size(n, w) =
 * ceil(n * w / 8) bytes; value i occupies bits [i*w, (i+1)*w) of the group,
 * little-endian bit order (bit 0 of byte 0 is the lowest bit of value 0).
 * Width 0 means every value is 0 and takes no bytes.
 */
#ifndef QUARRY_CODEC_H
#define QUARRY_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

#define QC_BLOCK 128

static inline size_t qc_packed_size(size_t n, unsigned w) { return (n * w + 7) / 8; }

/* The smallest width (0..32) that holds every value of v[0..n). */
unsigned qc_width(const uint32_t *v, size_t n);

/* Packs n (<= QC_BLOCK) values at width w into out (qc_packed_size bytes
 * written; values must fit in w bits). */
void qc_pack(const uint32_t *v, size_t n, unsigned w, uint8_t *out);

/* Unpacks n (<= QC_BLOCK) values of width w (<= 32) from [in, end).
 * Returns the bytes consumed, or -1 if the group would run past `end` or
 * w > 32. Never reads outside [in, end). */
long qc_unpack(const uint8_t *in, const uint8_t *end, size_t n, unsigned w, uint32_t *out);
/* The same for a group that must lie in [in, end) but whose loads may read
 * on up to lim (>= end; the bytes after the group are readable, e.g. the
 * rest of a mapped file): a group that does not end within its loads'
 * reach (up to 36 bytes) of lim is decoded in place, without the
 * zero-padded copy of its last bytes that a group ending at its region's
 * end otherwise takes. */
long qc_unpack_within(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, unsigned w, uint32_t *out);

/* qc_unpack_within, each value plus one (counts stored minus one: tfs);
 * with AVX2 in the same pass. */
long qc_unpack_counts(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, unsigned w, uint32_t *out);

/* 1 when widths up to 25 unpack with AVX2 (x86-64, asked of the CPU at run
 * time; never in a build with -DQC_SIMD=0), 0 when every width is scalar. */
int qc_simd(void);

/* Value i of a packed group of width w (<= 32) that occupies `len` bytes
 * (i must be below the group's count): no decoding of the others, and no
 * read outside [in, in + len). */
static inline uint32_t qc_get(const uint8_t *in, size_t len, unsigned w, size_t i)
{
    if (w == 0)
        return 0;
    size_t bit = i * w, off = bit / 8;
    uint64_t v = 0;
    if (len - off >= 8)   /* (w + 7 bits from `off`: 8 bytes hold them) */
        v = qload_u64(in + off);
    else
        for (size_t b = 0; b < len - off; b++)
            v |= (uint64_t)in[off + b] << (8 * b);
    return (uint32_t)((v >> (bit % 8)) & (w >= 32 ? 0xffffffffull : ((1ull << w) - 1)));
}

/* ------------------------------------------------------------ patched groups
 *
 * A group with exceptions (index/FORMAT.md §codec), for values whose few
 * large ones would widen the whole group:
 *
 *   u8 head      bits 0-5: the width b (0..32); bit 7: exceptions follow
 *   [u8 count]   when bit 7: the exceptions, 1..n
 *   packed       the n values' low b bits (qc_packed_size(n, b) bytes)
 *   count × { u8 index, varint high }   indexes strictly increasing, < n;
 *                high >= 1: value[index] = low | high << b (it fits 32 bits)
 *
 * The encoder picks the b that makes the group smallest. */
#define QC_PFOR_MAX (2 + QC_BLOCK * 4 + QC_BLOCK * 6)   /* the largest group, in bytes */

/* Writes v[0..n) (n <= QC_BLOCK) as a patched group; returns its bytes. */
size_t qc_pfor_pack(const uint32_t *v, size_t n, uint8_t *out);
/* Decodes a patched group of n values from [in, end) into out; returns the
 * bytes it occupies, or -1 when it is malformed or runs past `end` (never
 * reads outside [in, end)). */
long qc_pfor_unpack(const uint8_t *in, const uint8_t *end, size_t n, uint32_t *out);
/* The same with loads allowed up to lim, as qc_unpack_within. */
long qc_pfor_unpack_within(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, uint32_t *out);
/* The bytes of the patched group of n values at in, without decoding it;
 * -1 as qc_pfor_unpack. */
long qc_pfor_size(const uint8_t *in, const uint8_t *end, size_t n);

/* v[i] += 1 for i < n (stored tfs are tf - 1). */
void qc_add_one(uint32_t *v, size_t n);
/* The exclusive prefix sums: start[i] = v[0] + ... + v[i - 1] for i <= n
 * (start has n + 1 values); returns the sum of all n, in 64 bits (values
 * read from damaged data may add up past 2^32; start[] then wraps). */
uint64_t qc_prefix(const uint32_t *v, uint32_t *start, size_t n);

/* A group of n doc gaps (qc_unpack_within's arguments) made doc numbers:
 * out[i] = prev + (v[0] + 1) + ... + (v[i] + 1), where prev (>= -1) is the
 * doc before the group (-1: none, the first doc is its gap). Returns the
 * bytes consumed, or -1 for a group qc_unpack_within refuses, a prev out
 * of range or a doc past 2^32 - 1. With AVX2 the unpacking and the sums
 * are one pass. */
long qc_unpack_docs(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, unsigned w,
                    int64_t prev, uint32_t *out);

/* The obvious bit-at-a-time versions, kept as the oracle for the tests. */
void qc_pack_slow(const uint32_t *v, size_t n, unsigned w, uint8_t *out);
long qc_unpack_slow(const uint8_t *in, const uint8_t *end, size_t n, unsigned w, uint32_t *out);

#endif
