/*
 * codec.c — bit packing of postings integers (see codec.h): qc_width, the
 * fast qc_pack / qc_unpack, unpacking fused with the next step (doc gaps
 * to docs: qc_unpack_docs; tfs plus one: qc_unpack_counts), patched groups
 * (qc_pfor_*: packed low bits plus exceptions), the block-wide steps after
 * unpacking (qc_add_one, qc_prefix) and the bit-at-a-time oracles
 * qc_pack_slow / qc_unpack_slow.
 *
 * The fast paths work on chunks of 8 values: 8 values of width w occupy
 * exactly w bytes, so every chunk starts on a byte boundary and the bit
 * offset of each value inside its chunk is a compile-time constant in the
 * per-width routines generated below (one per width 1..32, selected by a
 * table). Unpacking value j of a chunk is one unaligned 64-bit little-endian
 * load at byte j*w/8, a shift by j*w%8 and a mask; the load of the last value
 * of a chunk may reach up to 8 bytes past the chunk's end, so a chunk is
 * decoded in place only when those bytes are readable: inside [in, end), or
 * [in, lim) for qc_unpack_within, whose caller knows that more bytes follow
 * the group (the rest of a mapped file). The chunks that do not (the end of
 * a group that ends at the end of what is readable) and a trailing partial
 * chunk are decoded from a zero-padded copy on the stack: the fast path never
 * reads outside [in, end), or [in, lim).
 *
 * On x86-64 with AVX2 (asked of the CPU at run time), widths up to
 * QC_AVX2_MAXW unpack a chunk at once instead: two 16-byte loads (the
 * chunk's first bytes for values 0-3, the bytes from value 4's on for
 * values 4-7), a byte shuffle that puts each value's 4 bytes in its lane,
 * a shift of each lane by its value's bit offset and a mask: a value and
 * its offset fit in 32 bits up to width 25. Its loads span floor(w/2) + 16
 * bytes from a chunk's start, so the same in-place / padded-copy split
 * applies with that reach. -DQC_SIMD=0 builds without it (the tests' scalar
 * variant).
 */
#include "index/codec.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#ifndef QC_SIMD
#define QC_SIMD 1
#endif

/* ------------------------------------------------ little-endian access */

/* memcpy loads and stores where the host is known to be little-endian;
 * byte-wise (any host) otherwise. -DQC_LITTLE_ENDIAN=0 forces the byte-wise
 * path, which the tests use to check it. */
#ifndef QC_LITTLE_ENDIAN
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define QC_LITTLE_ENDIAN 1
#else
#define QC_LITTLE_ENDIAN 0
#endif
#endif

static inline uint64_t load64(const uint8_t *p)
{
#if QC_LITTLE_ENDIAN
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
#else
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) |
           ((uint64_t)p[3] << 24) | ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) |
           ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
#endif
}

static inline void store32(uint8_t *p, uint32_t v)
{
#if QC_LITTLE_ENDIAN
    memcpy(p, &v, sizeof v);
#else
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
#endif
}

static inline uint32_t mask_of(unsigned w)
{
    return w >= 32 ? 0xffffffffu : (1u << w) - 1u;
}

/* ------------------------------------------------------------ width */

unsigned qc_width(const uint32_t *v, size_t n)
{
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= v[i];
    if (acc == 0)
        return 0;
#if defined(__GNUC__)
    return 32u - (unsigned)__builtin_clz(acc);
#else
    unsigned w = 0;
    while (acc) {
        w++;
        acc >>= 1;
    }
    return w;
#endif
}

/* ------------------------------------------------ per-width routines */

/* Decodes `chunks` chunks of 8 values of width W from `in` (which must have
 * floor(7W/8) + 8 readable bytes past the start of the last chunk). */
#define QC_UNPACK_ONE(W, j) \
    out[j] = (uint32_t)((load64(in + ((j) * (W)) / 8) >> (((j) * (W)) % 8)) & (uint64_t)mask_of(W))

#define QC_DEFINE_UNPACK(W)                                                    \
    static void unpack_##W(const uint8_t *in, uint32_t *out, size_t chunks)   \
    {                                                                          \
        for (size_t c = 0; c < chunks; c++, in += (W), out += 8) {             \
            QC_UNPACK_ONE(W, 0); QC_UNPACK_ONE(W, 1);                          \
            QC_UNPACK_ONE(W, 2); QC_UNPACK_ONE(W, 3);                          \
            QC_UNPACK_ONE(W, 4); QC_UNPACK_ONE(W, 5);                          \
            QC_UNPACK_ONE(W, 6); QC_UNPACK_ONE(W, 7);                          \
        }                                                                      \
    }

/* Encodes `chunks` chunks of 8 values at width W into exactly `chunks * W`
 * bytes: the bits gather in a 64-bit accumulator that is flushed 32 bits at
 * a time (all shifts are constants once W is). */
#define QC_PACK_ONE(W, j)                                                      \
    do {                                                                       \
        acc |= (uint64_t)(v[j] & mask_of(W)) << bits;                          \
        bits += (W);                                                           \
        if (bits >= 32) {                                                      \
            store32(out, (uint32_t)acc);                                       \
            out += 4;                                                          \
            acc >>= 32;                                                        \
            bits -= 32;                                                        \
        }                                                                      \
    } while (0)

#define QC_DEFINE_PACK(W)                                                      \
    static void pack_##W(const uint32_t *v, uint8_t *out, size_t chunks)      \
    {                                                                          \
        for (size_t c = 0; c < chunks; c++, v += 8) {                          \
            uint64_t acc = 0;                                                  \
            unsigned bits = 0;                                                 \
            QC_PACK_ONE(W, 0); QC_PACK_ONE(W, 1);                              \
            QC_PACK_ONE(W, 2); QC_PACK_ONE(W, 3);                              \
            QC_PACK_ONE(W, 4); QC_PACK_ONE(W, 5);                              \
            QC_PACK_ONE(W, 6); QC_PACK_ONE(W, 7);                              \
            for (; bits > 0; bits -= 8, acc >>= 8)                             \
                *out++ = (uint8_t)acc;                                         \
        }                                                                      \
    }

#define QC_DEFINE(W) QC_DEFINE_UNPACK(W) QC_DEFINE_PACK(W)

QC_DEFINE(1)  QC_DEFINE(2)  QC_DEFINE(3)  QC_DEFINE(4)
QC_DEFINE(5)  QC_DEFINE(6)  QC_DEFINE(7)  QC_DEFINE(8)
QC_DEFINE(9)  QC_DEFINE(10) QC_DEFINE(11) QC_DEFINE(12)
QC_DEFINE(13) QC_DEFINE(14) QC_DEFINE(15) QC_DEFINE(16)
QC_DEFINE(17) QC_DEFINE(18) QC_DEFINE(19) QC_DEFINE(20)
QC_DEFINE(21) QC_DEFINE(22) QC_DEFINE(23) QC_DEFINE(24)
QC_DEFINE(25) QC_DEFINE(26) QC_DEFINE(27) QC_DEFINE(28)
QC_DEFINE(29) QC_DEFINE(30) QC_DEFINE(31) QC_DEFINE(32)

typedef void (*unpack_fn)(const uint8_t *, uint32_t *, size_t);
typedef void (*pack_fn)(const uint32_t *, uint8_t *, size_t);

#define QC_TABLE(P)                                                            \
    { NULL,   P##1,  P##2,  P##3,  P##4,  P##5,  P##6,  P##7,  P##8,          \
      P##9,  P##10, P##11, P##12, P##13, P##14, P##15, P##16,                 \
      P##17, P##18, P##19, P##20, P##21, P##22, P##23, P##24,                 \
      P##25, P##26, P##27, P##28, P##29, P##30, P##31, P##32 }

static const unpack_fn unpack_table[33] = QC_TABLE(unpack_);
static const pack_fn pack_table[33] = QC_TABLE(pack_);

/* ------------------------------------------------------------- AVX2 */

#if QC_SIMD && QC_LITTLE_ENDIAN && defined(__x86_64__) && defined(__GNUC__)
#define QC_AVX2 1
#include <immintrin.h>

#define QC_AVX2_MAXW 25

/* The shuffle of width W: lane j (0-3 in the low half, 4-7 in the high
 * half, each half shuffled within itself) takes the 4 bytes from value j's
 * first byte, floor(jW/8), counted from its half's load. */
#define QC_SB(W, j, k) (uint8_t)((j) * (W) / 8 - ((j) >= 4 ? 4 * (W) / 8 : 0) + (k))
#define QC_SB4(W, j) QC_SB(W, j, 0), QC_SB(W, j, 1), QC_SB(W, j, 2), QC_SB(W, j, 3)
#define QC_SHUF(W) { QC_SB4(W, 0), QC_SB4(W, 1), QC_SB4(W, 2), QC_SB4(W, 3), \
                     QC_SB4(W, 4), QC_SB4(W, 5), QC_SB4(W, 6), QC_SB4(W, 7) }
#define QC_SHIFT(W) { 0, (W) % 8, 2 * (W) % 8, 3 * (W) % 8, 4 * (W) % 8, 5 * (W) % 8, 6 * (W) % 8, 7 * (W) % 8 }
#define QC_AVX2_TABLE(P)                                                       \
    { P(0),  P(1),  P(2),  P(3),  P(4),  P(5),  P(6),  P(7),  P(8),  P(9),  \
      P(10), P(11), P(12), P(13), P(14), P(15), P(16), P(17), P(18), P(19), \
      P(20), P(21), P(22), P(23), P(24), P(25) }

static const uint8_t avx2_shuf[QC_AVX2_MAXW + 1][32] = QC_AVX2_TABLE(QC_SHUF);
static const uint32_t avx2_shift[QC_AVX2_MAXW + 1][8] = QC_AVX2_TABLE(QC_SHIFT);

/* The 8 values of width w of the chunk at `in` (half = the byte of value
 * 4: 4w / 8), each in its lane. */
__attribute__((target("avx2"), always_inline))
static inline __m256i chunk_avx2(const uint8_t *in, size_t half, __m256i shuf, __m256i shift, __m256i mask)
{
    __m128i lo = _mm_loadu_si128((const __m128i *)in);
    __m128i hi = _mm_loadu_si128((const __m128i *)(in + half));
    __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    return _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi8(v, shuf), shift), mask);
}

/* The inclusive prefix sums of v's 8 lanes: within each half, then the low
 * half's total added to the high half. */
__attribute__((target("avx2"), always_inline))
static inline __m256i prefix8_avx2(__m256i v)
{
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
    __m256i t = _mm256_shuffle_epi32(v, 0xff);
    return _mm256_add_epi32(v, _mm256_permute2x128_si256(t, t, 0x08));
}

/* `chunks` chunks of 8 values of width w (1..QC_AVX2_MAXW) from `in`, which
 * must have avx2_reach(w) readable bytes from the last chunk's start, each
 * plus `add`. */
__attribute__((target("avx2")))
static void unpack_avx2(const uint8_t *in, uint32_t *out, size_t chunks, unsigned w, uint32_t add)
{
    const __m256i shuf = _mm256_loadu_si256((const __m256i *)avx2_shuf[w]);
    const __m256i shift = _mm256_loadu_si256((const __m256i *)avx2_shift[w]);
    const __m256i mask = _mm256_set1_epi32((int)mask_of(w)), plus = _mm256_set1_epi32((int)add);
    size_t half = 4 * w / 8;
    for (size_t c = 0; c < chunks; c++, in += w, out += 8)
        _mm256_storeu_si256((__m256i *)out, _mm256_add_epi32(chunk_avx2(in, half, shuf, shift, mask), plus));
}

/* The same, each value then made a doc number: out[k] = *prev + the sum of
 * (v[j] + 1) for j <= k, in 32 bits (the caller knows no sum passes 2^32);
 * *prev becomes the last one. */
__attribute__((target("avx2")))
static void unpack_docs_avx2(const uint8_t *in, uint32_t *out, size_t chunks, unsigned w, uint32_t *prev)
{
    const __m256i shuf = _mm256_loadu_si256((const __m256i *)avx2_shuf[w]);
    const __m256i shift = _mm256_loadu_si256((const __m256i *)avx2_shift[w]);
    const __m256i mask = _mm256_set1_epi32((int)mask_of(w)), one = _mm256_set1_epi32(1);
    const __m256i last = _mm256_set1_epi32(7);
    __m256i base = _mm256_set1_epi32((int)*prev);
    size_t half = 4 * w / 8;
    for (size_t c = 0; c < chunks; c++, in += w, out += 8) {
        /* the chunk's sums, plus the docs before it */
        __m256i v = _mm256_add_epi32(prefix8_avx2(_mm256_add_epi32(chunk_avx2(in, half, shuf, shift, mask), one)), base);
        _mm256_storeu_si256((__m256i *)out, v);
        base = _mm256_permutevar8x32_epi32(v, last);
    }
    *prev = (uint32_t)_mm256_cvtsi256_si32(base);
}

static inline size_t avx2_reach(unsigned w) { return 4 * w / 8 + 16; }

/* This CPU has AVX2 (the build is for it, or the CPU says so). */
static inline int have_avx2(void)
{
#if defined(__AVX2__)
    return 1;
#else
    return __builtin_cpu_supports("avx2");
#endif
}

/* Width w unpacks with AVX2. */
static inline int use_avx2(unsigned w) { return w <= QC_AVX2_MAXW && have_avx2(); }

/* qc_prefix's 32-bit part, 8 at a time (see there): the sum of the
 * values before *i, where it stopped (0 when a value is 2^24 or more). */
__attribute__((target("avx2")))
static uint64_t prefix_avx2(const uint32_t *tf, uint32_t *start, size_t n, size_t *at)
{
    size_t i = 0;
    const __m256i last = _mm256_set1_epi32(7);
    __m256i base = _mm256_setzero_si256(), any = _mm256_setzero_si256();
    for (; i + 8 <= n; i += 8) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(tf + i));
        any = _mm256_or_si256(any, x);
        __m256i inc = prefix8_avx2(x);
        _mm256_storeu_si256((__m256i *)(start + i), _mm256_add_epi32(base, _mm256_sub_epi32(inc, x)));
        base = _mm256_add_epi32(base, _mm256_permutevar8x32_epi32(inc, last));
    }
    __m128i a = _mm_or_si128(_mm256_castsi256_si128(any), _mm256_extracti128_si256(any, 1));
    a = _mm_or_si128(a, _mm_shuffle_epi32(a, 0x4e));
    a = _mm_or_si128(a, _mm_shuffle_epi32(a, 0xb1));
    if ((uint32_t)_mm_cvtsi128_si32(a) >> 24)
        i = 0;
    *at = i;
    return i ? (uint32_t)_mm256_cvtsi256_si32(base) : 0;
}
#else
#define QC_AVX2 0
#endif

int qc_simd(void)
{
#if QC_AVX2
    return use_avx2(1);
#else
    return 0;
#endif
}

/* ------------------------------------------------------------- fast */

void qc_pack(const uint32_t *v, size_t n, unsigned w, uint8_t *out)
{
    if (w == 0 || w > 32 || n == 0)
        return;
    pack_fn fn = pack_table[w];
    size_t full = n / 8, rest = n % 8;
    fn(v, out, full);
    if (rest) {
        uint32_t tv[8] = { 0 };
        uint8_t tb[32];
        memcpy(tv, v + full * 8, rest * sizeof *tv);
        fn(tv, tb, 1);
        memcpy(out + full * w, tb, qc_packed_size(rest, w));
    }
}

long qc_unpack(const uint8_t *in, const uint8_t *end, size_t n, unsigned w, uint32_t *out)
{
    return qc_unpack_within(in, end, end, n, w, out);
}

/* A group of n (1..QC_BLOCK) values of width w (1..32) lies in [in, end),
 * and lim >= end: its bytes, or -1. */
static long group_bytes(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, unsigned w)
{
    if (in == NULL || end < in || lim < end)
        return -1;
    size_t bytes = qc_packed_size(n, w);
    return bytes > (size_t)(end - in) ? -1 : (long)bytes;
}

/* qc_unpack_within, each value plus `add` (0 or 1). */
static long unpack_within(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, unsigned w,
                          uint32_t add, uint32_t *out)
{
    if (w > 32 || n > QC_BLOCK)
        return -1;
    if (n == 0)
        return 0;
    if (w == 0) {
        for (size_t i = 0; i < n; i++)
            out[i] = add;
        return 0;
    }
    long bytes = group_bytes(in, end, lim, n, w);
    if (bytes < 0)
        return -1;

    unpack_fn fn = unpack_table[w];
    size_t reach = (7 * w) / 8 + 8;   /* bytes a chunk's loads span from its start */
#if QC_AVX2
    int simd = use_avx2(w);
    if (simd && avx2_reach(w) > reach)
        reach = avx2_reach(w);
#define QC_RUN(src, dst, k) (simd ? unpack_avx2((src), (dst), (k), w, add) : fn((src), (dst), (k)))
#else
    int simd = 0;
#define QC_RUN(src, dst, k) fn((src), (dst), (k))
#endif
    if (add && !simd) {   /* plain, then plus add */
        long k = unpack_within(in, end, lim, n, w, 0, out);
        if (k >= 0)
            qc_add_one(out, n);
        return k;
    }
    size_t avail = (size_t)(lim - in);   /* readable bytes */
    size_t full = n / 8, rest = n % 8;
    size_t chunks = full + (rest != 0);
    /* Chunk k can be decoded in place iff k*w + reach <= avail. */
    if ((chunks - 1) * w + reach <= avail) {
        QC_RUN(in, out, full);
        if (rest) {
            uint32_t tv[8];
            QC_RUN(in + full * w, tv, 1);
            memcpy(out + full * 8, tv, rest * sizeof *tv);
        }
        return (long)bytes;
    }

    /* The group ends too close to `lim`: chunks [direct, chunks) come from a
     * zero-padded copy of the group's last bytes (padded past the largest
     * reach, 36 bytes, from the last chunk's start). */
    size_t direct = avail >= reach ? (avail - reach) / w + 1 : 0;
    if (direct > full)
        direct = full;
    QC_RUN(in, out, direct);
    uint8_t tmp[QC_BLOCK * 4 + 32 + 8];
    size_t off = direct * w, len = bytes - off;
    memcpy(tmp, in + off, len);
    memset(tmp + len, 0, sizeof tmp - len);
    QC_RUN(tmp, out + direct * 8, full - direct);
    if (rest) {
        uint32_t tv[8];
        QC_RUN(tmp + (full - direct) * w, tv, 1);
        memcpy(out + full * 8, tv, rest * sizeof *tv);
    }
#undef QC_RUN
    return (long)bytes;
}

long qc_unpack_within(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, unsigned w, uint32_t *out)
{
    return unpack_within(in, end, lim, n, w, 0, out);
}

long qc_unpack_counts(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, unsigned w, uint32_t *out)
{
    return unpack_within(in, end, lim, n, w, 1, out);
}

/* ------------------------------------------------------------- slow */

void qc_pack_slow(const uint32_t *v, size_t n, unsigned w, uint8_t *out)
{
    if (w == 0 || w > 32 || n == 0)
        return;
    memset(out, 0, qc_packed_size(n, w));
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        for (unsigned b = 0; b < w; b++, pos++) {
            if ((v[i] >> b) & 1u)
                out[pos >> 3] |= (uint8_t)(1u << (pos & 7));
        }
    }
}

long qc_unpack_slow(const uint8_t *in, const uint8_t *end, size_t n, unsigned w, uint32_t *out)
{
    if (w > 32 || n > QC_BLOCK)
        return -1;
    if (n == 0)
        return 0;
    if (w == 0) {
        for (size_t i = 0; i < n; i++)
            out[i] = 0;
        return 0;
    }
    if (in == NULL || end < in)
        return -1;
    size_t bytes = qc_packed_size(n, w);
    if (bytes > (size_t)(end - in))
        return -1;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = 0;
        for (unsigned b = 0; b < w; b++, pos++)
            x |= (uint32_t)((in[pos >> 3] >> (pos & 7)) & 1u) << b;
        out[i] = x;
    }
    return (long)bytes;
}

/* ------------------------------------------------------------ patched groups */

static unsigned bits_of(uint32_t v) { return v ? 32u - (unsigned)__builtin_clz(v) : 0; }

size_t qc_pfor_pack(const uint32_t *v, size_t n, uint8_t *out)
{
    /* the size at every width b: packed bits plus, for each value wider
     * than b, an index byte and its high bits as a varint (of about
     * (w - b) / 7 bytes): from a histogram of the values' widths */
    unsigned w[QC_BLOCK], maxw = 0;
    size_t count[33] = { 0 };
    for (size_t i = 0; i < n; i++) {
        w[i] = bits_of(v[i]);
        count[w[i]]++;
        if (w[i] > maxw)
            maxw = w[i];
    }
    unsigned best = maxw;
    size_t best_size = 1 + qc_packed_size(n, maxw);
    for (unsigned b = 0; b < maxw; b++) {
        size_t size = 2 + qc_packed_size(n, b);
        for (unsigned x = b + 1; x <= maxw; x++)
            size += count[x] * (1 + (x - b + 6) / 7);
        if (size < best_size) {
            best = b;
            best_size = size;
        }
    }
    uint32_t low[QC_BLOCK];
    uint32_t m = mask_of(best);
    size_t ne = 0;
    for (size_t i = 0; i < n; i++) {
        low[i] = v[i] & m;
        ne += w[i] > best;
    }
    size_t k = 0;
    out[k++] = (uint8_t)(best | (ne ? 0x80 : 0));
    if (ne)
        out[k++] = (uint8_t)ne;
    qc_pack(low, n, best, out + k);
    k += qc_packed_size(n, best);
    for (size_t i = 0; i < n && ne; i++)
        if (w[i] > best) {
            out[k++] = (uint8_t)i;
            for (uint32_t h = v[i] >> best; ; h >>= 7) {
                out[k++] = (uint8_t)(h < 0x80 ? h : (h & 0x7f) | 0x80);
                if (h < 0x80)
                    break;
            }
        }
    return k;
}

/* Walks a patched group's head and exceptions; applies them to out when
 * not NULL. Returns the group's bytes, or -1. */
static long pfor_walk(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, uint32_t *out)
{
    if (in >= end || n > QC_BLOCK)
        return -1;
    unsigned b = in[0] & 0x3f, ne = 0;
    if ((in[0] & 0x40) || b > 32)
        return -1;
    const uint8_t *p = in + 1;
    if (in[0] & 0x80) {
        if (p >= end || (ne = *p++) == 0 || ne > n || b == 32)
            return -1;
    }
    size_t packed = qc_packed_size(n, b);
    if (packed > (size_t)(end - p))
        return -1;
    if (out && qc_unpack_within(p, end, lim, n, b, out) < 0)
        return -1;
    p += packed;
    long last = -1;
    /* every exception is at most 6 bytes (an index, a varint of up to 5):
     * when that many remain for all of them, the one-byte varints (most)
     * need no check of the end */
    if ((size_t)(end - p) >= (size_t)ne * 6) {
        for (unsigned e = 0; e < ne; e++) {
            unsigned i = p[0];
            uint64_t h = p[1];
            if (h < 0x80)
                p += 2;
            else {
                const uint8_t *q = p + 1;
                h = 0;
                for (unsigned sh = 0;; sh += 7, q++) {
                    if (sh > 28)
                        return -1;
                    h |= (uint64_t)(*q & 0x7f) << sh;
                    if (!(*q & 0x80))
                        break;
                }
                p = q + 1;
            }
            if ((long)i <= last || i >= n || h == 0 || (h << b) > 0xffffffffull)
                return -1;
            last = i;
            if (out)
                out[i] |= (uint32_t)(h << b);
        }
        return (long)(p - in);
    }
    for (unsigned e = 0; e < ne; e++) {
        if (p >= end || (long)*p <= last || *p >= n)
            return -1;
        last = *p++;
        uint64_t h = 0;
        for (unsigned sh = 0;; sh += 7) {
            if (p >= end || sh > 28)
                return -1;
            h |= (uint64_t)(*p & 0x7f) << sh;
            if (!(*p++ & 0x80))
                break;
        }
        if (h == 0 || (h << b) > 0xffffffffull)
            return -1;
        if (out)
            out[last] |= (uint32_t)(h << b);
    }
    return (long)(p - in);
}

long qc_pfor_unpack(const uint8_t *in, const uint8_t *end, size_t n, uint32_t *out)
{
    return pfor_walk(in, end, end, n, out);
}

long qc_pfor_unpack_within(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, uint32_t *out)
{
    return lim < end ? -1 : pfor_walk(in, end, lim, n, out);
}

long qc_pfor_size(const uint8_t *in, const uint8_t *end, size_t n)
{
    return pfor_walk(in, end, end, n, NULL);
}

void qc_add_one(uint32_t *v, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    __m128i one = _mm_set1_epi32(1);
    for (; i + 4 <= n; i += 4)
        _mm_storeu_si128((__m128i *)(v + i), _mm_add_epi32(_mm_loadu_si128((const __m128i *)(v + i)), one));
#endif
    for (; i < n; i++)
        v[i] += 1;
}

uint64_t qc_prefix(const uint32_t *tf, uint32_t *start, size_t n)
{
    size_t i = 0;
    uint64_t total = 0;
#if QC_AVX2
    if (have_avx2())
        total = prefix_avx2(tf, start, n, &i);
    else
#endif
    {
#if defined(__SSE2__)
        /* 4 at a time in 32 bits; if a value is 2^24 or more (128 of them
         * could then pass 2^32: damaged data) it is all done again one by one */
        __m128i base = _mm_setzero_si128(), any = _mm_setzero_si128();
        for (; i + 4 <= n; i += 4) {
            __m128i x = _mm_loadu_si128((const __m128i *)(tf + i));
            any = _mm_or_si128(any, x);
            __m128i inc = _mm_add_epi32(x, _mm_slli_si128(x, 4));
            inc = _mm_add_epi32(inc, _mm_slli_si128(inc, 8));
            _mm_storeu_si128((__m128i *)(start + i), _mm_add_epi32(base, _mm_sub_epi32(inc, x)));
            base = _mm_add_epi32(base, _mm_shuffle_epi32(inc, 0xff));
        }
        any = _mm_or_si128(any, _mm_shuffle_epi32(any, 0x4e));
        any = _mm_or_si128(any, _mm_shuffle_epi32(any, 0xb1));
        if ((uint32_t)_mm_cvtsi128_si32(any) >> 24)
            i = 0;
        else
            total = (uint32_t)_mm_cvtsi128_si32(base);
#endif
    }
    for (; i < n; i++) {
        start[i] = (uint32_t)total;
        total += tf[i];
    }
    start[n] = (uint32_t)total;
    return total;
}

long qc_unpack_docs(const uint8_t *in, const uint8_t *end, const uint8_t *lim, size_t n, unsigned w,
                    int64_t prev, uint32_t *out)
{
    if (prev < -1 || prev > (int64_t)UINT32_MAX)
        return -1;
#if QC_AVX2
    /* whole chunks fused, in 32 bits, where no sum can pass 2^32 and the
     * last chunk's loads stay within lim */
    size_t full = n / 8;
    if (full && w >= 1 && use_avx2(w) && n <= QC_BLOCK && group_bytes(in, end, lim, n, w) >= 0 &&
        (full - 1) * w + avx2_reach(w) <= (size_t)(lim - in) &&
        (uint64_t)(prev + 1) + ((uint64_t)n << w) <= UINT32_MAX) {
        uint32_t p = (uint32_t)prev;   /* -1 wraps, and the first sum wraps back */
        unpack_docs_avx2(in, out, full, w, &p);
        if (full * 8 == n)
            return (long)qc_packed_size(n, w);
        /* the last (fewer than 8) values: chunks start on bytes */
        uint32_t tail[8];
        long k = qc_unpack_within(in + full * w, end, lim, n - full * 8, w, tail);
        if (k < 0)
            return -1;
        for (size_t i = full * 8; i < n; i++)
            out[i] = p += tail[i - full * 8] + 1;
        return (long)(full * w) + k;
    }
#endif
    long k = qc_unpack_within(in, end, lim, n, w, out);
    if (k < 0)
        return -1;
    size_t i = 0;
#if defined(__SSE2__)
    if (w < 32 && (uint64_t)(prev + 1) + ((uint64_t)n << w) <= UINT32_MAX) {
        __m128i one = _mm_set1_epi32(1), base = _mm_set1_epi32((int)(uint32_t)prev);
        for (; i + 4 <= n; i += 4) {
            __m128i v = _mm_add_epi32(_mm_loadu_si128((const __m128i *)(out + i)), one);
            v = _mm_add_epi32(v, _mm_slli_si128(v, 4));
            v = _mm_add_epi32(v, _mm_slli_si128(v, 8));
            v = _mm_add_epi32(v, base);
            _mm_storeu_si128((__m128i *)(out + i), v);
            base = _mm_shuffle_epi32(v, 0xff);
        }
        if (i)
            prev = out[i - 1];
    }
#endif
    for (; i < n; i++) {
        prev += (int64_t)out[i] + 1;
        if (prev > (int64_t)UINT32_MAX)
            return -1;
        out[i] = (uint32_t)prev;
    }
    return k;
}
