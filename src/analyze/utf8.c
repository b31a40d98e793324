/*
 * utf8.c — UTF-8 validation, cleaning and decoding for the analyzer
 * (qa_utf8_clean, qa_utf8_valid, qa_utf8_decode; the decoder itself is
 * utf8_seq in analyze_int.h, shared with the tokenizer).
 *
 * Cleaning follows the Unicode recommendation ("U+FFFD substitution of
 * maximal subparts", Unicode 3.9 / Table 3-7, the W3C/WHATWG practice):
 * each maximal prefix of a would-be valid sequence (or a single byte that
 * cannot start one) becomes one U+FFFD. Overlong forms, surrogates
 * (U+D800..DFFF), values above U+10FFFF, stray continuation bytes and
 * sequences cut short by the end of the input are all replaced; NUL
 * becomes a space.
 */
#include "analyze/analyze_int.h"

static const uint8_t replacement[3] = { 0xEF, 0xBF, 0xBD };

/* 1 when none of the 8 bytes at p is NUL or >= 0x80. */
static inline int ascii8_nonul(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    return ((w | ((w - ones) & ~w)) & highs) == 0;
}

size_t qa_utf8_clean(const char *in, size_t len, qbuf *out)
{
    const uint8_t *s = (const uint8_t *)in;
    size_t i = 0, run = 0, nrep = 0;
    qbuf_reserve(out, len);             /* failure is sticky in out->oom */
    while (i < len) {
        while (len - i >= 8 && ascii8_nonul(s + i))
            i += 8;
        if (i >= len)
            break;
        uint8_t b = s[i];
        if (b > 0 && b < 0x80) {
            i++;
            continue;
        }
        int32_t cp;
        int l = b == 0 ? -1 : utf8_seq(s + i, len - i, &cp);
        if (l > 0) {
            i += (size_t)l;
            continue;
        }
        qbuf_append(out, s + run, i - run);
        if (b == 0)
            qbuf_putc(out, ' ');
        else
            qbuf_append(out, replacement, sizeof replacement);
        nrep++;
        i += (size_t)-l;
        run = i;
    }
    qbuf_append(out, s + run, len - run);
    return nrep;
}

int qa_utf8_valid(const char *str, size_t len)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    while (i < len) {
        while (len - i >= 8 && ascii8_nonul(s + i))
            i += 8;
        if (i >= len)
            break;
        if (s[i] == 0)
            return 0;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        int32_t cp;
        int l = utf8_seq(s + i, len - i, &cp);
        if (l <= 0)
            return 0;
        i += (size_t)l;
    }
    return 1;
}

/* Defensive on invalid input: returns the length of the invalid part
 * (>= 1) with *cp = U+FFFD, so a loop over the text always advances. */
int qa_utf8_decode(const char *s, size_t len, int32_t *cp)
{
    if (len == 0) {
        *cp = 0;
        return 0;
    }
    int l = utf8_seq((const uint8_t *)s, len, cp);
    if (l > 0)
        return l;
    *cp = 0xFFFD;
    return -l;
}
