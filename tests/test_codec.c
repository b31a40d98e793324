/*
 * test_codec.c — unit tests of src/index/codec.c: the fast bit packing
 * (qc_pack / qc_unpack) against the bit-at-a-time oracles, byte for byte,
 * for every width 0..32 and many group sizes, plus bounds: short groups,
 * bad widths and exact-size heap buffers (so ASan / valgrind catch any read
 * or write outside the group). `make test` runs it three times: as built
 * for the host (AVX2 unpacking where the CPU has it), with codec.c built
 * with -DQC_LITTLE_ENDIAN=0 (the byte-wise loads and stores,
 * $(BUILD)/portable/) and with -DQC_SIMD=0 (the 64-bit loads without AVX2,
 * $(BUILD)/scalar/). Also patched groups, the impacts' Pareto filter,
 * and the cursor's varint reads (base.h) against qget_varint.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/bm25.h"
#include "index/codec.h"
#include "index/impact.h"

static const size_t sizes[] = { 0, 1, 2, 7, 8, 31, 32, 33, 63, 64, 65, 127, 128 };
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* xorshift64*: deterministic, seeded per test. */
static uint64_t rng_state;
static uint32_t rnd32(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static uint32_t maskw(unsigned w) { return w >= 32 ? 0xffffffffu : (1u << w) - 1u; }

/* Fills v with a pattern of kind k at width w: 0 random, 1 all max,
 * 2 alternating 0 / max, 3 random with value 0 forced to max (so the width
 * is exactly w), 4 single bits walking. */
static void fill(uint32_t *v, size_t n, unsigned w, int kind)
{
    uint32_t m = maskw(w);
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: v[i] = rnd32() & m; break;
        case 1: v[i] = m; break;
        case 2: v[i] = (i & 1) ? m : 0; break;
        case 3: v[i] = i == 0 ? m : rnd32() & m; break;
        default: v[i] = w ? (1u << (i % w)) : 0; break;
        }
    }
}
#define NKINDS 5

/* Heap copy of exactly len bytes (len 0 still gives a distinct pointer). */
static uint8_t *exact_copy(const uint8_t *p, size_t len)
{
    uint8_t *q = malloc(len ? len : 1);
    assert_non_null(q);
    if (len)
        memcpy(q, p, len);
    return q;
}

/* The gaps v[0..n) (packed at w in `packed`, sz bytes) as doc numbers
 * after several docs before them (-1: none; some put the last doc at or
 * just past 2^32 - 1), against sums in 64 bits: qc_unpack_docs from an
 * exact buffer with 0 to 40 readable bytes after the group. */
static void check_docs(const uint32_t *v, size_t n, unsigned w, const uint8_t *packed, size_t sz)
{
    uint64_t span = 0;   /* the last doc minus prev */
    for (size_t i = 0; i < n; i++)
        span += (uint64_t)v[i] + 1;
    int64_t prevs[] = { -1, 0, 1, 1000003, (int64_t)(rnd32() >> 1),
                        (int64_t)UINT32_MAX - (int64_t)span, (int64_t)UINT32_MAX - (int64_t)span + 1,
                        (int64_t)UINT32_MAX, (int64_t)UINT32_MAX + 1, -2 };
    uint32_t out[QC_BLOCK + 8], want[QC_BLOCK];
    for (size_t p = 0; p < sizeof prevs / sizeof *prevs; p++) {
        int64_t prev = prevs[p];
        int ok = prev >= -1 && prev <= (int64_t)UINT32_MAX && (uint64_t)(prev + 1) + span - 1 <= UINT32_MAX;
        uint64_t d = (uint64_t)prev;
        for (size_t i = 0; i < n; i++)
            want[i] = (uint32_t)(d += (uint64_t)v[i] + 1);
        for (size_t slack = 0; slack <= 40; slack += 1 + (slack >= 16) * 3) {
            uint8_t *buf = malloc(sz + slack ? sz + slack : 1);
            assert_non_null(buf);
            memcpy(buf, packed, sz);
            memset(buf + sz, 0xff, slack);
            for (size_t i = 0; i < QC_BLOCK + 8; i++)
                out[i] = 0xdeadbeef;
            long r = qc_unpack_docs(buf, buf + sz, buf + sz + slack, n, w, prev, out);
            if (!ok || n == 0) {
                if (n && r != -1)
                    fail_msg("docs w %u n %zu prev %lld: %ld, want -1", w, n, (long long)prev, r);
            } else {
                if (r != (long)sz)
                    fail_msg("docs w %u n %zu prev %lld slack %zu: %ld, want %zu", w, n, (long long)prev, slack, r, sz);
                for (size_t i = 0; i < n; i++)
                    if (out[i] != want[i])
                        fail_msg("docs w %u n %zu prev %lld slack %zu: out[%zu] = %u, want %u", w, n,
                                 (long long)prev, slack, i, out[i], want[i]);
            }
            for (size_t i = n; i < QC_BLOCK + 8; i++)
                assert_int_equal(out[i], 0xdeadbeef);
            if (sz > 0)   /* a group past `end` */
                assert_int_equal(qc_unpack_docs(buf, buf + sz - 1, buf + sz + slack, n, w, 0, out), -1);
            free(buf);
        }
    }
}

/* One case: every combination of fast / slow pack and unpack, with the
 * packed group in an exact-size heap buffer and in a roomy one. */
static void check_case(const uint32_t *v, size_t n, unsigned w)
{
    size_t sz = qc_packed_size(n, w);
    assert_true(sz <= QC_BLOCK * 4);

    /* Pack into exact-size heap buffers: an overwrite trips ASan. */
    uint8_t *fast = malloc(sz ? sz : 1), *slow = malloc(sz ? sz : 1);
    assert_non_null(fast);
    assert_non_null(slow);
    memset(fast, 0xa5, sz);
    memset(slow, 0x5a, sz);
    qc_pack(v, n, w, fast);
    qc_pack_slow(v, n, w, slow);
    assert_memory_equal(fast, slow, sz);

    /* A roomy buffer with guard bytes: pack must write exactly sz bytes. */
    uint8_t roomy[QC_BLOCK * 4 + 64];
    memset(roomy, 0xcc, sizeof roomy);
    qc_pack(v, n, w, roomy + 16);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(roomy[i], 0xcc);
    for (size_t i = 16 + sz; i < sizeof roomy; i++)
        assert_int_equal(roomy[i], 0xcc);
    assert_memory_equal(roomy + 16, slow, sz);

    uint32_t out[QC_BLOCK + 8];
    /* fast and slow unpack, each from the exact buffer and the roomy one */
    for (int which = 0; which < 4; which++) {
        const uint8_t *in = (which & 2) ? roomy + 16 : fast;
        const uint8_t *end = (which & 2) ? roomy + sizeof roomy : fast + sz;
        for (size_t i = 0; i < QC_BLOCK + 8; i++)
            out[i] = 0xdeadbeef;
        long r = (which & 1) ? qc_unpack_slow(in, end, n, w, out) : qc_unpack(in, end, n, w, out);
        assert_int_equal(r, (long)sz);
        for (size_t i = 0; i < n; i++)
            if (out[i] != v[i])
                fail_msg("which %d w %u n %zu: out[%zu] = %u, want %u", which, w, n, i, out[i], v[i]);
        for (size_t i = n; i < QC_BLOCK + 8; i++)
            assert_int_equal(out[i], 0xdeadbeef);
    }

    check_docs(v, n, w, slow, sz);

    /* Single values (qc_get) from the exact-size copy: no read past it (ASan). */
    uint8_t *one = exact_copy(slow, sz);
    for (size_t i = 0; i < n; i++)
        if (qc_get(one, sz, w, i) != v[i])
            fail_msg("qc_get w %u n %zu: value %zu is %u, want %u", w, n, i, qc_get(one, sz, w, i), v[i]);
    free(one);

    /* Slow-packed bytes through the fast unpacker from an exact copy. */
    uint8_t *copy = exact_copy(slow, sz);
    assert_int_equal(qc_unpack(copy, copy + sz, n, w, out), (long)sz);
    assert_memory_equal(out, v, n * sizeof *v);
    free(copy);

    /* Every trailing slack from 0 to 12 bytes (each fast-path boundary). */
    for (size_t slack = 0; slack <= 12; slack++) {
        uint8_t *buf = malloc(sz + slack ? sz + slack : 1);
        assert_non_null(buf);
        memcpy(buf, fast, sz);
        memset(buf + sz, 0xff, slack);
        assert_int_equal(qc_unpack(buf, buf + sz + slack, n, w, out), (long)sz);
        assert_memory_equal(out, v, n * sizeof *v);
        free(buf);
    }

    /* A group that ends before the readable bytes do (qc_unpack_within):
     * for every slack of 0 to 40 bytes after it (past the reach of the
     * scalar and the AVX2 loads), readable (garbage) or not (lim = end),
     * the same values, and never a load past lim (ASan: an exact
     * allocation); a group past `end` is refused whatever lim. */
    for (size_t slack = 0; slack <= 40; slack++) {
        uint8_t *buf = malloc(sz + slack ? sz + slack : 1);
        assert_non_null(buf);
        memcpy(buf, fast, sz);
        memset(buf + sz, 0xff, slack);
        for (size_t i = 0; i < n; i++)
            out[i] = 0xdeadbeef;
        assert_int_equal(qc_unpack_within(buf, buf + sz, buf + sz + slack, n, w, out), (long)sz);
        for (size_t i = 0; i < n; i++)
            if (out[i] != v[i])
                fail_msg("within, w %u n %zu slack %zu: out[%zu] = %u, want %u", w, n, slack, i, out[i], v[i]);
        /* the same plus one (qc_unpack_counts) */
        for (size_t i = 0; i < n; i++)
            out[i] = 0xdeadbeef;
        assert_int_equal(qc_unpack_counts(buf, buf + sz, buf + sz + slack, n, w, out), (long)sz);
        for (size_t i = 0; i < n; i++)
            if (out[i] != v[i] + 1)
                fail_msg("counts, w %u n %zu slack %zu: out[%zu] = %u, want %u + 1", w, n, slack, i, out[i], v[i]);
        if (sz > 0)
            assert_int_equal(qc_unpack_counts(buf, buf + sz - 1, buf + sz + slack, n, w, out), -1);
        if (sz > 0)
            assert_int_equal(qc_unpack_within(buf, buf + sz - 1, buf + sz + slack, n, w, out), -1);
        if (slack && sz > 0)
            assert_int_equal(qc_unpack_within(buf, buf + sz + 1, buf + sz, n, w, out), -1);   /* lim < end */
        free(buf);
    }

    /* One byte short: both report -1 without reading past the end. */
    if (sz > 0) {
        uint8_t *shortb = exact_copy(fast, sz - 1);
        assert_int_equal(qc_unpack(shortb, shortb + sz - 1, n, w, out), -1);
        assert_int_equal(qc_unpack_slow(shortb, shortb + sz - 1, n, w, out), -1);
        free(shortb);
    }

    free(fast);
    free(slow);
}

static void test_roundtrip_all_widths(void **state)
{
    rng_state = 0x9e3779b97f4a7c15ull;
    uint32_t v[QC_BLOCK];
    for (unsigned w = 0; w <= 32; w++)
        for (size_t s = 0; s < NSIZES; s++)
            for (int kind = 0; kind < NKINDS; kind++) {
                fill(v, sizes[s], w, kind);
                check_case(v, sizes[s], w);
                if (kind == 3 && sizes[s] > 0)
                    assert_int_equal(qc_width(v, sizes[s]), w);
            }
}

/* Many random (n, w) groups: n uniformly 1..128, values of random widths. */
static void test_roundtrip_random(void **state)
{
    rng_state = 12345;
    uint32_t v[QC_BLOCK];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 1 + rnd32() % QC_BLOCK;
        unsigned vw = rnd32() % 33;
        for (size_t i = 0; i < n; i++)
            v[i] = rnd32() & maskw(rnd32() % (vw + 1));
        unsigned w = qc_width(v, n);
        assert_true(w <= vw);
        /* Packing at any width >= qc_width must round-trip too. */
        check_case(v, n, w);
        if (w < 32)
            check_case(v, n, w + 1 + rnd32() % (32 - w));
    }
}

/* Large doc-id gaps: values near 2^32-1 at width 32 and 31. */
static void test_large_values(void **state)
{
    uint32_t v[QC_BLOCK];
    for (size_t i = 0; i < QC_BLOCK; i++)
        v[i] = 0xffffffffu - (uint32_t)i * 7919u;
    assert_int_equal(qc_width(v, QC_BLOCK), 32);
    for (size_t s = 0; s < NSIZES; s++)
        check_case(v, sizes[s], 32);
    for (size_t i = 0; i < QC_BLOCK; i++)
        v[i] = 0x7fffffffu - (uint32_t)i;
    assert_int_equal(qc_width(v, QC_BLOCK), 31);
    for (size_t s = 0; s < NSIZES; s++)
        check_case(v, sizes[s], 31);
    v[0] = 0x80000000u;
    assert_int_equal(qc_width(v, 1), 32);
}

static void test_width(void **state)
{
    uint32_t v[4] = { 0, 0, 0, 0 };
    assert_int_equal(qc_width(v, 0), 0);
    assert_int_equal(qc_width(v, 4), 0);
    v[2] = 1;
    assert_int_equal(qc_width(v, 4), 1);
    v[1] = 255;
    assert_int_equal(qc_width(v, 4), 8);
    v[3] = 256;
    assert_int_equal(qc_width(v, 4), 9);
    assert_int_equal(qc_width(v, 3), 8);
    for (unsigned b = 0; b < 32; b++) {
        uint32_t x = 1u << b;
        assert_int_equal(qc_width(&x, 1), b + 1);
        x |= x - 1;
        assert_int_equal(qc_width(&x, 1), b + 1);
    }
}

/* Hand-computed layout: little-endian bit order across values. */
static void test_known_bytes(void **state)
{
    uint8_t out[8];
    uint32_t v3[3] = { 5, 3, 6 };            /* 101, 011, 110 -> bits 0..8 */
    memset(out, 0xee, sizeof out);
    qc_pack(v3, 3, 3, out);
    /* bits: v0=101 at 0..2, v1=011 at 3..5, v2=110 at 6..8
     * byte0 = 1 0 1 | 1 1 0 | 0 1  (lsb first) = 0b10011101 = 0x9d; byte1 = 1 */
    assert_int_equal(out[0], 0x9d);
    assert_int_equal(out[1], 0x01);
    assert_int_equal(out[2], 0xee);

    uint32_t v16[2] = { 0x1234, 0xabcd };
    qc_pack(v16, 2, 16, out);
    assert_int_equal(out[0], 0x34);
    assert_int_equal(out[1], 0x12);
    assert_int_equal(out[2], 0xcd);
    assert_int_equal(out[3], 0xab);

    uint32_t v32 = 0xdeadbeefu, back = 0;
    qc_pack(&v32, 1, 32, out);
    assert_int_equal(out[0], 0xef);
    assert_int_equal(out[3], 0xde);
    assert_int_equal(qc_unpack(out, out + 4, 1, 32, &back), 4);
    assert_int_equal(back, 0xdeadbeefu);

    /* An arbitrary byte pattern decodes the same fast and slow. */
    uint8_t bytes[] = { 0xff, 0x00, 0x81, 0x7e, 0x55, 0xaa, 0x01, 0x80, 0x3c };
    for (unsigned w = 1; w <= 32; w++) {
        size_t n = sizeof bytes * 8 / w;
        if (n > QC_BLOCK)
            n = QC_BLOCK;
        uint32_t a[QC_BLOCK], b[QC_BLOCK];
        uint8_t *copy = exact_copy(bytes, sizeof bytes);
        long ra = qc_unpack(copy, copy + sizeof bytes, n, w, a);
        long rb = qc_unpack_slow(copy, copy + sizeof bytes, n, w, b);
        assert_int_equal(ra, rb);
        assert_int_equal(ra, (long)qc_packed_size(n, w));
        assert_memory_equal(a, b, n * sizeof *a);
        free(copy);
    }
}

static void test_bad_arguments(void **state)
{
    uint8_t buf[1024];
    uint32_t out[QC_BLOCK + 1];
    memset(buf, 0xff, sizeof buf);
    /* w > 32 */
    assert_int_equal(qc_unpack(buf, buf + sizeof buf, 8, 33, out), -1);
    assert_int_equal(qc_unpack_slow(buf, buf + sizeof buf, 8, 33, out), -1);
    assert_int_equal(qc_unpack(buf, buf + sizeof buf, 8, 1000, out), -1);
    /* n > QC_BLOCK */
    assert_int_equal(qc_unpack(buf, buf + sizeof buf, QC_BLOCK + 1, 4, out), -1);
    assert_int_equal(qc_unpack_slow(buf, buf + sizeof buf, QC_BLOCK + 1, 4, out), -1);
    /* end before in */
    assert_int_equal(qc_unpack(buf + 10, buf + 5, 8, 4, out), -1);
    assert_int_equal(qc_unpack_slow(buf + 10, buf + 5, 8, 4, out), -1);
    /* empty input: a non-empty group does not fit */
    assert_int_equal(qc_unpack(buf, buf, 1, 1, out), -1);
    assert_int_equal(qc_unpack_slow(buf, buf, 1, 1, out), -1);
    /* n == 0: 0 bytes, nothing written, even with nothing to read */
    out[0] = 77;
    assert_int_equal(qc_unpack(buf, buf, 0, 32, out), 0);
    assert_int_equal(qc_unpack_slow(buf, buf, 0, 32, out), 0);
    assert_int_equal(out[0], 77);
    /* width 0: all zeros, no bytes, no input needed */
    for (size_t i = 0; i < QC_BLOCK; i++)
        out[i] = 9;
    assert_int_equal(qc_unpack(buf, buf, QC_BLOCK, 0, out), 0);
    for (size_t i = 0; i < QC_BLOCK; i++)
        assert_int_equal(out[i], 0);
    for (size_t i = 0; i < QC_BLOCK; i++)
        out[i] = 9;
    assert_int_equal(qc_unpack_slow(buf, buf, QC_BLOCK, 0, out), 0);
    for (size_t i = 0; i < QC_BLOCK; i++)
        assert_int_equal(out[i], 0);
    /* Packing at width 0 writes nothing. */
    uint32_t z[4] = { 0 };
    buf[0] = 0x42;
    qc_pack(z, 4, 0, buf);
    qc_pack_slow(z, 4, 0, buf);
    assert_int_equal(buf[0], 0x42);
}

/* A stream of consecutive groups of mixed widths, decoded group after
 * group up to the exact end of the heap buffer, as the postings reader
 * will do. */
static void test_stream(void **state)
{
    rng_state = 777;
    enum { GROUPS = 200 };
    static uint32_t vals[GROUPS][QC_BLOCK];
    unsigned widths[GROUPS];
    size_t ns[GROUPS], total = 0;
    for (int g = 0; g < GROUPS; g++) {
        ns[g] = g == GROUPS - 1 ? 1 + rnd32() % QC_BLOCK : QC_BLOCK;
        unsigned vw = rnd32() % 33;
        for (size_t i = 0; i < ns[g]; i++)
            vals[g][i] = rnd32() & maskw(vw);
        widths[g] = qc_width(vals[g], ns[g]);
        total += qc_packed_size(ns[g], widths[g]);
    }
    uint8_t *buf = malloc(total ? total : 1);
    assert_non_null(buf);
    size_t off = 0;
    for (int g = 0; g < GROUPS; g++) {
        qc_pack(vals[g], ns[g], widths[g], buf + off);
        off += qc_packed_size(ns[g], widths[g]);
    }
    assert_int_equal(off, total);
    const uint8_t *p = buf, *end = buf + total;
    uint32_t out[QC_BLOCK];
    for (int g = 0; g < GROUPS; g++) {
        long r = qc_unpack(p, end, ns[g], widths[g], out);
        assert_int_equal(r, (long)qc_packed_size(ns[g], widths[g]));
        assert_memory_equal(out, vals[g], ns[g] * sizeof *out);
        p += r;
    }
    assert_ptr_equal(p, end);
    /* One more group cannot be read. */
    assert_int_equal(qc_unpack(p, end, 1, 1, out), -1);
    free(buf);
}

/* The Pareto frontier of (tf, length) pairs against the obvious quadratic
 * definition: a pair is kept when no other pair is as short with as large
 * a tf; equal pairs once; by length increasing. Small ranges make ties;
 * the largest tfs are about 8, about 64 (either side of the limit of
 * qim_pareto's counting path) or about 1000. */
static uint64_t pareto_rnd(uint64_t *x)   /* splitmix64 */
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void test_pareto_oracle(void **state)
{
    (void)state;
    uint64_t seed = 20261130;
    static qim_pair v[300], w[300], want[300];
    for (int round = 0; round < 5000; round++) {
        size_t n = (size_t)(pareto_rnd(&seed) % 300);
        uint32_t tmax = 1 + (uint32_t)(pareto_rnd(&seed) % (round % 3 == 0 ? 1000 : round % 3 == 1 ? 8 : 64 + round % 4));
        uint32_t lmax = 1 + (uint32_t)(pareto_rnd(&seed) % (round % 5 ? 20 : 100000));
        for (size_t i = 0; i < n; i++) {
            v[i].tf = 1 + (uint32_t)(pareto_rnd(&seed) % tmax);
            v[i].len = (uint32_t)(pareto_rnd(&seed) % lmax);
        }
        memcpy(w, v, n * sizeof *v);
        size_t nw = 0;
        for (size_t i = 0; i < n; i++) {
            int keep = 1;
            for (size_t j = 0; j < n && keep; j++) {
                int dom = w[j].len <= w[i].len && w[j].tf >= w[i].tf;
                int same = w[j].len == w[i].len && w[j].tf == w[i].tf;
                if ((dom && !same) || (same && j < i))
                    keep = 0;
            }
            if (keep)
                want[nw++] = w[i];
        }
        for (size_t i = 1; i < nw; i++)   /* insertion sort by length */
            for (size_t j = i; j > 0 && want[j - 1].len > want[j].len; j--) {
                qim_pair t = want[j];
                want[j] = want[j - 1];
                want[j - 1] = t;
            }
        size_t k = qim_pareto(v, n);
        assert_int_equal(k, nw);
        for (size_t i = 0; i < k; i++) {
            assert_int_equal(v[i].len, want[i].len);
            assert_int_equal(v[i].tf, want[i].tf);
        }
    }
}

/* qim_frontier against the slow obvious version: its pairs number at
 * most QIM_MAX, increase strictly in tf and length, dominate every input
 * pair (the bound is valid), and their highest score for the reference
 * parameters is the least that any cut of the exact frontier into at most
 * QIM_MAX runs gives (dynamic programming over every cut), to 1e-12. The
 * inputs: frontiers of every length up to 300 (pairs along a curve,
 * random pairs, ties), average lengths from 1 to 3000. */
static double frontier_ref(uint32_t tf, uint32_t len, double avg)
{
    double norm = BM25_DEFAULT_K1 * (1.0 - BM25_DEFAULT_B + BM25_DEFAULT_B * (double)len / avg);
    return (double)tf / ((double)tf + norm);
}

static void test_frontier_oracle(void **state)
{
    (void)state;
    uint64_t seed = 20261204;
    static qim_pair v[300], in[300], f[300];
    static double best[QIM_MAX + 1][301];
    int long_ones = 0;
    for (int round = 0; round < 6000; round++) {
        size_t n = 1 + (size_t)(pareto_rnd(&seed) % 300);
        uint32_t tmax = 1 + (uint32_t)(pareto_rnd(&seed) % (round % 2 ? 300 : 12));
        uint32_t lmax = 1 + (uint32_t)(pareto_rnd(&seed) % 5000);
        double avg = round % 7 ? 1 + (double)(pareto_rnd(&seed) % 3000) : 0;   /* 0: no average (1 is used) */
        for (size_t i = 0; i < n; i++) {
            v[i].len = (uint32_t)(pareto_rnd(&seed) % lmax);
            v[i].tf = round % 3 ? 1 + (uint32_t)((uint64_t)v[i].len * tmax / lmax) + (uint32_t)(pareto_rnd(&seed) % 3)
                                : 1 + (uint32_t)(pareto_rnd(&seed) % tmax);
        }
        memcpy(in, v, n * sizeof *v);
        memcpy(f, v, n * sizeof *v);
        size_t k = qim_pareto(f, n);
        size_t m = qim_frontier(v, n, avg);
        double ravg = avg > 0 ? avg : 1.0;
        assert_true(m >= 1 && m <= QIM_MAX);
        for (size_t i = 1; i < m; i++)
            assert_true(v[i].tf > v[i - 1].tf && v[i].len > v[i - 1].len);
        for (size_t i = 0; i < n; i++) {
            int dom = 0;
            for (size_t j = 0; j < m && !dom; j++)
                dom = v[j].tf >= in[i].tf && v[j].len <= in[i].len;
            assert_true(dom);
        }
        double got = 0;
        for (size_t j = 0; j < m; j++)
            got = fmax(got, frontier_ref(v[j].tf, v[j].len, ravg));
        if (k <= QIM_MAX) {   /* short enough: the exact frontier itself */
            assert_int_equal(m, k);
            for (size_t j = 0; j < m; j++)
                assert_true(v[j].tf == f[j].tf && v[j].len == f[j].len);
            continue;
        }
        long_ones++;
        /* best[g][j]: the least highest score of f[0..j) cut into g runs */
        for (size_t j = 0; j <= k; j++)
            best[0][j] = j ? INFINITY : 0;
        for (size_t g = 1; g <= QIM_MAX; g++)
            for (size_t j = 0; j <= k; j++) {
                double b = j ? INFINITY : 0;
                for (size_t i = 0; i < j; i++)
                    b = fmin(b, fmax(best[g - 1][i], frontier_ref(f[j - 1].tf, f[i].len, ravg)));
                best[g][j] = b;
            }
        double want = best[QIM_MAX][k];
        assert_true(got >= want * (1 - 1e-12));
        assert_true(got <= want * (1 + 1e-12));
    }
    assert_true(long_ones > 1000);
}

/* Patched groups: every kind of value distribution (all small, a few
 * large, all large, zeros, 32-bit values) packs and unpacks to the same
 * values, in no more bytes than plain packing at the widest width, and
 * qc_pfor_size agrees; every truncation is refused; random bytes never
 * read outside their buffer (the sanitizers check) and a damaged group
 * (indexes out of order or out of range, a zero or too wide high part, a
 * bad head) is refused. */
/* A damaged group of 8 values in bad[0..len) is refused, whether its
 * region ends with it or goes on (the exceptions' two walks). */
static void refused(const uint8_t *bad, size_t len)
{
    uint32_t out[QC_BLOCK];
    assert_int_equal(qc_pfor_unpack(bad, bad + len, 8, out), -1);
    assert_int_equal(qc_pfor_unpack(bad, bad + QC_PFOR_MAX, 8, out), -1);
    assert_int_equal(qc_pfor_size(bad, bad + QC_PFOR_MAX, 8), -1);
}

static void test_pfor(void **state)
{
    (void)state;
    uint64_t seed = 77;
    uint32_t v[QC_BLOCK], out[QC_BLOCK];
    uint8_t buf[QC_PFOR_MAX];
    for (int round = 0; round < 20000; round++) {
        size_t n = round < 200 ? (size_t)round % (QC_BLOCK + 1) : 1 + pareto_rnd(&seed) % QC_BLOCK;
        unsigned kind = (unsigned)(pareto_rnd(&seed) % 6);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = pareto_rnd(&seed);
            switch (kind) {
            case 0: v[i] = (uint32_t)(r % 4); break;                                       /* small */
            case 1: v[i] = (uint32_t)(r % 16 < 15 ? r % 8 : (r >> 8) % 5000); break;       /* a few large */
            case 2: v[i] = (uint32_t)(r >> 32); break;                                     /* 32 bits */
            case 3: v[i] = 0; break;
            case 4: v[i] = (uint32_t)(r % 64 == 0 ? 0xffffffffu : r % 3); break;             /* extreme outliers */
            default: v[i] = (uint32_t)((r >> 16) % (1u << (r % 33 > 31 ? 31 : r % 33))); break;
            }
        }
        size_t len = qc_pfor_pack(v, n, buf);
        assert_true(len <= QC_PFOR_MAX);
        assert_true(len <= 1 + qc_packed_size(n, qc_width(v, n)));
        assert_int_equal(qc_pfor_size(buf, buf + len, n), (long)len);
        memset(out, 0xA5, sizeof out);
        assert_int_equal(qc_pfor_unpack(buf, buf + len, n, out), (long)len);
        assert_memory_equal(out, v, n * sizeof *v);
        /* loads allowed past the group (garbage after it, exact allocation) */
        {
            size_t slack = (size_t)round % 13;
            uint8_t *t = malloc(len + slack);
            memcpy(t, buf, len);
            memset(t + len, 0xff, slack);
            memset(out, 0xA5, sizeof out);
            assert_int_equal(qc_pfor_unpack_within(t, t + len, t + len + slack, n, out), (long)len);
            assert_memory_equal(out, v, n * sizeof *v);
            if (len)
                assert_int_equal(qc_pfor_unpack_within(t, t + len - 1, t + len + slack, n, out), -1);
            free(t);
        }
        /* the group followed by more of its region (garbage): the fast
         * walk of the exceptions, with no check of the end per byte */
        {
            size_t more = 6 * QC_BLOCK + (size_t)round % 7;
            uint8_t *t = malloc(len + more);
            memcpy(t, buf, len);
            memset(t + len, 0xff, more);
            memset(out, 0xA5, sizeof out);
            assert_int_equal(qc_pfor_unpack(t, t + len + more, n, out), (long)len);
            assert_memory_equal(out, v, n * sizeof *v);
            assert_int_equal(qc_pfor_size(t, t + len + more, n), (long)len);
            free(t);
        }
        /* every truncation is refused */
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *t = malloc(cut ? cut : 1);   /* exactly cut bytes: the sanitizers see any overread */
            memcpy(t, buf, cut);
            assert_int_equal(qc_pfor_unpack(t, t + cut, n, out), -1);
            assert_int_equal(qc_pfor_size(t, t + cut, n), -1);
            free(t);
        }
    }
    /* damaged groups */
    for (size_t i = 0; i < 8; i++)
        v[i] = i == 2 || i == 5 ? 1000 : 1;
    size_t len = qc_pfor_pack(v, 8, buf);
    assert_true(buf[0] & 0x80);
    assert_int_equal(buf[1], 2);
    size_t ex = 2 + qc_packed_size(8, buf[0] & 0x3f);   /* the first exception */
    uint8_t bad[QC_PFOR_MAX] = { 0 };
    memcpy(bad, buf, len);
    bad[ex] = 9;   /* index out of range */
    refused(bad, len);
    memcpy(bad, buf, len);
    bad[ex] = 5;   /* indexes not increasing (5 then 5) */
    refused(bad, len);
    memcpy(bad, buf, len);
    bad[ex + 1] = 0;   /* a zero high part */
    refused(bad, len);
    memcpy(bad, buf, len);
    bad[0] |= 0x40;   /* a bitmap marker is not a patched group */
    refused(bad, len);
    memcpy(bad, buf, len);
    memset(bad + ex + 1, 0xff, 6);   /* a high part's varint longer than 5 bytes */
    refused(bad, len);
    memset(bad + ex + 1, 0, 6);
    memcpy(bad, buf, len);
    bad[1] = 0;   /* exceptions announced, none counted */
    refused(bad, len);
    uint8_t wide[] = { 0x80 | 30, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
    assert_int_equal(qc_pfor_unpack(wide, wide + sizeof wide, 8, out), -1);   /* 7 << 30 overflows 32 bits */
    uint8_t wide2[sizeof wide + 16] = { 0 };
    memcpy(wide2, wide, sizeof wide);
    assert_int_equal(qc_pfor_unpack(wide2, wide2 + sizeof wide2, 8, out), -1);   /* the same, the end far */
    /* random bytes: refused or decoded, never read outside */
    for (int round = 0; round < 20000; round++) {
        size_t n = 1 + pareto_rnd(&seed) % QC_BLOCK, l = pareto_rnd(&seed) % 64;
        uint8_t *t = malloc(l ? l : 1);
        for (size_t i = 0; i < l; i++)
            t[i] = (uint8_t)pareto_rnd(&seed);
        long a = qc_pfor_size(t, t + l, n), b = qc_pfor_unpack(t, t + l, n, out);
        assert_int_equal(a, b);
        assert_true(b <= (long)l);
        free(t);
    }
}

/* qc_add_one and qc_prefix (SSE2 or AVX2 where there are) against the obvious
 * loops: every count 0..128, small tfs, and values large enough to leave
 * the 32-bit fast path (damaged data), at random places. */
static void test_prefix_oracle(void **state)
{
    (void)state;
    uint64_t seed = 0x5eed;
    for (int round = 0; round < 4000; round++) {
        size_t n = (size_t)(round % (QC_BLOCK + 1));
        uint32_t v[QC_BLOCK], w[QC_BLOCK], start[QC_BLOCK + 1];
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t r = (uint32_t)(seed >> 33);
            v[i] = round % 5 == 4 && r % 37 == 0 ? r * 2654435761u | (1u << 31) : r % (round % 3 ? 16 : 1 << (r % 25));
            w[i] = v[i];
        }
        uint64_t total = qc_prefix(v, start, n), want = 0;
        for (size_t i = 0; i < n; i++) {
            if (start[i] != (uint32_t)want) {
                print_error("round %d: start[%zu] = %u, expected %u\n", round, i, start[i], (uint32_t)want);
                fail();
            }
            want += v[i];
        }
        assert_true(total == want);
        assert_true(start[n] == (uint32_t)want);
        qc_add_one(w, n);
        for (size_t i = 0; i < n; i++)
            assert_true(w[i] == v[i] + 1);
    }
}

/* The cursor's varint reads (inline one- and two-byte paths, base.h)
 * against qget_varint, the loop they shortcut: random bytes with few or
 * many continuation bits, every length from 0 (so truncations), read
 * until the cursor fails or ends. */
static void test_varint_cursor(void **state)
{
    (void)state;
    rng_state = 4242;
    uint8_t buf[16];
    for (int round = 0; round < 200000; round++) {
        size_t len = rnd32() % sizeof buf;
        unsigned cont = rnd32() % 4;   /* how often a byte has its continuation bit */
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)((rnd32() & 0x7f) | (rnd32() % 4 < cont ? 0x80 : 0));
        uint8_t *b = exact_copy(buf, len);   /* no read past it (ASan) */
        qcur c = qcur_make(b, len);
        const uint8_t *p = b;
        for (;;) {
            uint64_t want = 0;
            int bad = qget_varint(&p, b + len, &want);
            uint64_t got = qcur_varint(&c);
            if (bad) {
                assert_false(c.ok);
                break;
            }
            assert_true(c.ok);
            assert_true(got == want);
            assert_ptr_equal(c.p, p);
            if (p == b + len)
                break;
        }
        free(b);
    }
}

int main(void)
{
#if defined(QC_LITTLE_ENDIAN) && !QC_LITTLE_ENDIAN
    print_message("codec: the byte-wise path (-DQC_LITTLE_ENDIAN=0)\n");
#else
    print_message("codec: the host's path (little-endian loads and stores where the host is), %s\n",
                  qc_simd() ? "AVX2 up to width 25" : "no SIMD unpacking");
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_known_bytes),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_roundtrip_all_widths),
        cmocka_unit_test(test_large_values),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_varint_cursor),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_pareto_oracle),
        cmocka_unit_test(test_frontier_oracle),
        cmocka_unit_test(test_pfor),
        cmocka_unit_test(test_prefix_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
