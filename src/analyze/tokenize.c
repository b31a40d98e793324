/*
 * tokenize.c — the analyzer's tokenizer and case folding (qa_scan_*,
 * qa_fold_word). The hot path of indexing: ASCII runs are classified by a
 * table and folded inline; nothing is allocated per token.
 *
 * Rules (a simplification of UAX #29 word boundaries):
 *   - A word is a maximal run of letters (Unicode L*), marks (M*) and
 *     numbers (N*), letters and digits mixed ("covid19", "h1n1"). A word
 *     starts at a letter or number; a mark only continues a word.
 *   - Joiners kept inside a word: an apostrophe (U+0027 or U+2019) between
 *     a letter and a letter ("don't"); '.' between letters ("u.s", "e.g")
 *     or between decimal digits ("3.5"); ',' between digits ("155,221");
 *     runs of '_' between word characters ("foo_bar"). A trailing '.' or
 *     apostrophe is never part of a word ("U.S." -> "u.s").
 *   - Every other character separates words, hyphens included:
 *     "Sino-Russian" -> sino, russian; "2025-11-04" -> 2025, 11, 04. The
 *     query parser turns a hyphenated query word into a phrase, so the
 *     query "2025-11-04" still matches exactly that date.
 *   - Format characters (Cf: soft hyphen, ZWJ, ZWNJ, BOM, ... but not
 *     U+200B ZERO WIDTH SPACE, which separates) are ignored inside a word.
 *   - Han ideographs, Hiragana and Katakana are one word per character
 *     (with any combining marks that follow): "東京" -> 東, 京. Scripts
 *     written without spaces and not covered here (Thai, Lao, Khmer,
 *     Myanmar) give one word per run, truncated to QA_MAX_TERM bytes.
 *   - Invalid UTF-8 bytes separate words (they are never part of one).
 *
 * Folding: U+2019 becomes U+0027, format characters are dropped, then full
 * Unicode case folding with NFC composition (utf8proc CASEFOLD|COMPOSE):
 * "É" -> "é", "ß" -> "ss", Greek final sigma folds to σ ("ΣΊΣΥΦΟΣ" ->
 * "σίσυφοσ"). Accents are kept. ASCII words skip utf8proc entirely. A term
 * longer than QA_MAX_TERM bytes is cut at a code point boundary.
 */
#include "analyze/analyze_int.h"
#include "base/sys.h"

#include <stdlib.h>

#include <utf8proc.h>

enum {
    K_SEP = 0,  /* separator */
    K_LET,      /* letter */
    K_DIG,      /* decimal digit (Nd) */
    K_APOS,     /* ' or U+2019 */
    K_DOT,      /* . */
    K_COMMA,    /* , */
    K_UND,      /* _ */
    K_NUM,      /* other number (Nl, No) */
    K_MARK,     /* combining mark */
    K_IGN,      /* format character, ignored inside a word */
    K_IDEO      /* CJK ideograph or kana: a word by itself */
};

#define S K_SEP
#define L K_LET
#define D K_DIG
#define A K_APOS
#define P K_DOT
#define C K_COMMA
#define U K_UND
static const uint8_t acls[128] = {
    S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S,
    S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S,
    S, S, S, S, S, S, S, A, S, S, S, S, C, S, P, S,
    D, D, D, D, D, D, D, D, D, D, S, S, S, S, S, S,
    S, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
    L, L, L, L, L, L, L, L, L, L, L, S, S, S, S, U,
    S, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
    L, L, L, L, L, L, L, L, L, L, L, S, S, S, S, S,
};
#undef S
#undef L
#undef D
#undef A
#undef P
#undef C
#undef U

static int is_ideo(int32_t cp)
{
    return (cp >= 0x3005 && cp <= 0x3007) || (cp >= 0x3021 && cp <= 0x3029) ||
           (cp >= 0x3038 && cp <= 0x303C) ||
           (cp >= 0x3040 && cp <= 0x30FF) ||        /* Hiragana, Katakana */
           (cp >= 0x31F0 && cp <= 0x31FF) ||        /* Katakana phonetic extensions */
           (cp >= 0x3400 && cp <= 0x4DBF) ||        /* CJK extension A */
           (cp >= 0x4E00 && cp <= 0x9FFF) ||        /* CJK unified ideographs */
           (cp >= 0xF900 && cp <= 0xFAFF) ||        /* CJK compatibility ideographs */
           (cp >= 0xFF66 && cp <= 0xFF9F) ||        /* halfwidth Katakana */
           (cp >= 0x1B000 && cp <= 0x1B16F) ||      /* Kana supplement, extended */
           (cp >= 0x20000 && cp <= 0x323AF);        /* CJK extensions B..H, compat supplement */
}

/* Class of a non-ASCII code point. */
static int uclass(int32_t cp)
{
    if (cp == 0x2019)
        return K_APOS;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return cp >= 0x3005 && is_ideo(cp) ? K_IDEO : K_LET;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return K_MARK;
    case UTF8PROC_CATEGORY_ND:
        return K_DIG;
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return cp >= 0x3005 && is_ideo(cp) ? K_IDEO : K_NUM;
    case UTF8PROC_CATEGORY_CF:
        return cp == 0x200B ? K_SEP : K_IGN;
    default:
        return K_SEP;
    }
}

/* Class and byte length of the character at s[i] (K_SEP past the end or
 * on invalid UTF-8). */
static int kind_at(const uint8_t *s, size_t n, size_t i, int *len)
{
    *len = 1;
    if (i >= n)
        return K_SEP;
    if (s[i] < 0x80)
        return acls[s[i]];
    int32_t cp;
    int l = utf8_seq(s + i, n - i, &cp);
    if (l < 0)
        return K_SEP;
    *len = l;
    return uclass(cp);
}

void qa_scan_init(qa_scan *sc, const char *text, size_t len)
{
    sc->s = (const uint8_t *)text;
    /* offsets are 32-bit: a longer text is analyzed up to 4 GiB - 1 */
    sc->n = len > UINT32_MAX ? UINT32_MAX : len;
    sc->i = 0;
}

/* Largest code point boundary <= max in the UTF-8 string u (which has
 * more than max bytes). */
static size_t cut_at(const uint8_t *u, size_t max)
{
    size_t l = max;
    while (l > 0 && (u[l] & 0xC0) == 0x80)
        l--;
    return l;
}

/* Folds raw[0, rl) (valid UTF-8, ASCII already lower case) into out. */
static uint32_t fold_utf8(const uint8_t *raw, size_t rl, int32_t *cps, char *out, int *truncated)
{
    const utf8proc_option_t opt = UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_STABLE;
    utf8proc_ssize_t m;
    for (;;) {
        m = utf8proc_decompose(raw, (utf8proc_ssize_t)rl, cps, QA_CP_CAP, opt);
        if (m >= 0 && m <= QA_CP_CAP)
            break;
        if (m < 0 || rl <= 8)
            goto raw_copy;          /* not reached on valid input */
        rl = cut_at(raw, rl / 2);   /* expanded beyond the buffer: fold less */
        *truncated = 1;
    }
    m = utf8proc_reencode(cps, m, opt);
    if (m < 0)
        goto raw_copy;
    {
        const uint8_t *u = (const uint8_t *)cps;
        size_t l = (size_t)m;
        if (l > QA_MAX_TERM) {
            l = cut_at(u, QA_MAX_TERM);
            *truncated = 1;
        }
        memcpy(out, u, l);
        out[l] = 0;
        return (uint32_t)l;
    }
raw_copy:
    if (rl > QA_MAX_TERM) {
        rl = cut_at(raw, QA_MAX_TERM);
        *truncated = 1;
    }
    memcpy(out, raw, rl);
    out[rl] = 0;
    return (uint32_t)rl;
}

int qa_scan_next(qa_scan *sc, qa_rawtok *t)
{
    const uint8_t *s = sc->s;
    const size_t n = sc->n;
    size_t i = sc->i;
    int k, l = 1;
    int32_t cp = 0;

    /* skip to the start of a word */
    for (;;) {
        if (i >= n) {
            sc->i = n;
            return 0;
        }
        uint8_t b = s[i];
        if (b < 0x80) {
            k = acls[b];
            if (k == K_LET || k == K_DIG) {
                l = 1;
                break;
            }
            i++;
            continue;
        }
        l = utf8_seq(s + i, n - i, &cp);
        if (l < 0) {
            i += (size_t)-l;
            continue;
        }
        k = uclass(cp);
        if (k == K_LET || k == K_DIG || k == K_NUM || k == K_IDEO)
            break;
        i += (size_t)l;
    }

    const size_t start = i;
    uint8_t *raw = sc->raw;
    size_t rl = 0;
    int full = 0, ascii = 1;

    if (k == K_IDEO) {
        memcpy(raw, s + i, (size_t)l);
        rl = (size_t)l;
        i += (size_t)l;
        ascii = 0;
        while (i < n && s[i] >= 0x80) {
            int l2 = utf8_seq(s + i, n - i, &cp);
            if (l2 < 0)
                break;
            int k2 = uclass(cp);
            if (k2 == K_MARK) {
                if (rl + (size_t)l2 <= QA_RAW_CAP) {
                    memcpy(raw + rl, s + i, (size_t)l2);
                    rl += (size_t)l2;
                } else {
                    full = 1;
                }
            } else if (k2 != K_IGN) {
                break;
            }
            i += (size_t)l2;
        }
        goto fold;
    }

    int prev = K_SEP;   /* class of the last letter or digit of the word */
    for (;;) {
        /* ASCII letters and digits */
        while (i < n && s[i] < 0x80) {
            uint8_t b = s[i];
            k = acls[b];
            if (k != K_LET && k != K_DIG)
                break;
            if (rl < QA_RAW_CAP)
                raw[rl++] = (uint8_t)(b | 0x20);    /* lower case; digits unchanged */
            else
                full = 1;
            prev = k;
            i++;
        }
        if (i >= n)
            break;
        if (s[i] < 0x80) {
            l = 1;
        } else {
            l = utf8_seq(s + i, n - i, &cp);
            if (l < 0)
                break;
            k = uclass(cp);
            if (k == K_LET || k == K_DIG || k == K_NUM || k == K_MARK) {
                if (!full && rl + (size_t)l <= QA_RAW_CAP) {
                    memcpy(raw + rl, s + i, (size_t)l);
                    rl += (size_t)l;
                } else {
                    full = 1;
                }
                ascii = 0;
                if (k != K_MARK)
                    prev = k;
                i += (size_t)l;
                continue;
            }
            if (k == K_IGN) {
                i += (size_t)l;
                continue;
            }
        }
        /* a joiner (or the end of the word) */
        int nl, nk;
        uint8_t keep;
        if (k == K_UND) {
            size_t j = i;
            while (j < n && s[j] == '_')
                j++;
            nk = kind_at(s, n, j, &nl);
            if (nk != K_LET && nk != K_DIG && nk != K_NUM)
                break;
            for (; i < j; i++) {
                if (rl < QA_RAW_CAP)
                    raw[rl++] = '_';
                else
                    full = 1;
            }
            continue;
        }
        nk = kind_at(s, n, i + (size_t)l, &nl);
        if (k == K_APOS && prev == K_LET && nk == K_LET)
            keep = '\'';
        else if (k == K_DOT && ((prev == K_LET && nk == K_LET) || (prev == K_DIG && nk == K_DIG)))
            keep = '.';
        else if (k == K_COMMA && prev == K_DIG && nk == K_DIG)
            keep = ',';
        else
            break;
        if (rl < QA_RAW_CAP)
            raw[rl++] = keep;
        else
            full = 1;
        i += (size_t)l;
    }

fold:
    sc->i = i;
    t->start = (uint32_t)start;
    t->end = (uint32_t)i;
    t->truncated = full;
    if (ascii) {
        if (rl > QA_MAX_TERM) {
            rl = QA_MAX_TERM;
            t->truncated = 1;
        }
        memcpy(t->term, raw, rl);
        t->term[rl] = 0;
        t->len = (uint32_t)rl;
    } else {
        t->len = fold_utf8(raw, rl, sc->cps, t->term, &t->truncated);
    }
    return 1;
}

int qa_fold_word(const char *str, size_t n, qbuf *out)
{
    int32_t *cps = qmalloc(sizeof(int32_t) * QA_CP_CAP);
    uint8_t raw[QA_RAW_CAP + 8];
    if (!cps)
        return -1;
    const uint8_t *s = (const uint8_t *)str;
    size_t rl = 0, i = 0;
    int ascii = 1, truncated = 0;
    while (i < n) {
        int32_t cp;
        int l = utf8_seq(s + i, n - i, &cp);
        if (l < 0) {        /* invalid: skip (callers pass valid UTF-8) */
            i += (size_t)-l;
            continue;
        }
        const uint8_t *src = s + i;
        size_t sl = (size_t)l;
        uint8_t lc;
        i += (size_t)l;
        if (cp < 0x80) {
            lc = (uint8_t)(cp >= 'A' && cp <= 'Z' ? cp | 0x20 : cp);
            src = &lc;
        } else if (cp == 0x2019) {
            lc = '\'';
            src = &lc;
            sl = 1;
        } else if (uclass(cp) == K_IGN) {
            continue;
        } else {
            ascii = 0;
        }
        if (rl + sl > QA_RAW_CAP)
            break;
        memcpy(raw + rl, src, sl);
        rl += sl;
    }
    char term[QA_MAX_TERM + 1];
    uint32_t tl;
    if (ascii) {
        tl = (uint32_t)(rl > QA_MAX_TERM ? QA_MAX_TERM : rl);
        memcpy(term, raw, tl);
    } else {
        tl = fold_utf8(raw, rl, cps, term, &truncated);
    }
    free(cps);
    return qbuf_append(out, term, tl);
}
