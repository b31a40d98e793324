/*
 * date.c — article dates as sortable keys (qdate_key): the ISO 8601 prefix
 * of a date string, "YYYY[-MM[-DD[(T| )hh[:mm[:ss]]]]]", read as the
 * number YYYYMMDDhhmmss. The same parser serves the index (each article's
 * key, FORMAT.md §arts) and the query side (--since / --until), so that a
 * prefix such as "2025-11" means the same range in both.
 */
#include "base/base.h"

/* Reads exactly n digits at s[*i]; -1 when absent. */
static int digits(const char *s, size_t len, size_t i, size_t n, unsigned *v)
{
    unsigned x = 0;
    if (i + n > len)
        return -1;
    for (size_t k = 0; k < n; k++) {
        char c = s[i + k];
        if (c < '0' || c > '9')
            return -1;
        x = x * 10 + (unsigned)(c - '0');
    }
    *v = x;
    return 0;
}

size_t qdate_key(const char *s, size_t len, uint64_t *lo, uint64_t *hi)
{
    static const unsigned width[6] = { 4, 2, 2, 2, 2, 2 };
    static const unsigned vmin[6] = { 1, 1, 1, 0, 0, 0 };
    static const unsigned vmax[6] = { 9999, 12, 31, 23, 59, 60 };
    static const uint64_t scale[6] = { 10000000000ull, 100000000ull, 1000000ull, 10000ull, 100ull, 1ull };
    static const char sep[6] = { 0, '-', '-', 'T', ':', ':' };
    size_t i = 0, parts = 0;
    uint64_t key = 0;
    for (size_t p = 0; p < 6; p++) {
        size_t j = i;
        if (p > 0) {
            if (j >= len || !(s[j] == sep[p] || (p == 3 && s[j] == ' ')))
                break;
            j++;
        }
        unsigned v;
        if (digits(s, len, j, width[p], &v) || v < vmin[p] || v > vmax[p])
            break;
        /* a part must not run on into more digits ("2025-115") */
        if (j + width[p] < len && s[j + width[p]] >= '0' && s[j + width[p]] <= '9')
            break;
        key += v * scale[p];
        i = j + width[p];
        parts = p + 1;
    }
    if (parts == 0)
        return 0;
    if (lo)
        *lo = key;
    if (hi)
        *hi = key + scale[parts - 1] - 1;   /* the rest of the range a prefix leaves open */
    return i;
}
