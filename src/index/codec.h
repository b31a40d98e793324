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

/* Value i of a packed group of width w (<= 32) that occupies `len` bytes
 * (i must be below the group's count): no decoding of the others, and no
 * read outside [in, in + len). */
static inline uint32_t qc_get(const uint8_t *in, size_t len, unsigned w, size_t i)
{
    if (w == 0)
        return 0;
    size_t bit = i * w, off = bit / 8;
    uint64_t v = 0;
    size_t k = len - off < 8 ? len - off : 8;
    for (size_t b = 0; b < k; b++)
        v |= (uint64_t)in[off + b] << (8 * b);
    return (uint32_t)((v >> (bit % 8)) & (w >= 32 ? 0xffffffffull : ((1ull << w) - 1)));
}

/* The obvious bit-at-a-time versions, kept as the oracle for the tests. */
void qc_pack_slow(const uint32_t *v, size_t n, unsigned w, uint8_t *out);
long qc_unpack_slow(const uint8_t *in, const uint8_t *end, size_t n, unsigned w, uint32_t *out);

#endif
