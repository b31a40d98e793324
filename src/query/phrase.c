/*
 * phrase.c — the positional part of matching: how often a phrase occurs
 * in a unit, or a title:-restricted term or phrase occurs in the unit's
 * title. Called only for units where every term of the leaf occurs, and
 * by the pruning algorithms only for units that can still enter the top-k
 * (the bound from term frequencies comes first). It stops counting at
 * `most` occurrences (1: "does it occur at all?", for a match that is only
 * counted).
 *
 * A phrase lies wholly in the title or wholly in the body of a unit (the
 * body starts at body_pos, QF_TITLE_GAP positions after the title).
 */
#include "query/node.h"

#include "query/parse.h"

uint32_t qn_phrase_freq(qn_ctx *x, qn_node *n, uint32_t d, uint32_t most)
{
    uint32_t body = qx_unit_body(x->seg, d);
    uint32_t limit = n->field == QQ_FIELD_TITLE ? body : UINT32_MAX;
    if (n->field == QQ_FIELD_TITLE && limit == 0)
        return 0;
    const uint32_t *p0 = qx_positions(&n->cur[0]);
    if (!p0) {
        x->corrupt |= n->cur[0].corrupt;
        x->oom |= !n->cur[0].corrupt;
        return 0;
    }
    uint32_t tf0 = qx_tf(&n->cur[0]);
    if (n->nterms == 1) {   /* a title:-restricted term */
        uint32_t f = 0;
        while (f < tf0 && f < most && p0[f] < limit)
            f++;
        return f;
    }
    /* the term with the fewest occurrences drives: for each of its
     * occurrences, every other term must be at its offset (the positions of
     * the first 64 terms are walked forward by galloping, later ones binary
     * searched) */
    const uint32_t *ps[64];
    uint32_t tfs[64], idx[64];
    size_t nt = n->nterms < 64 ? n->nterms : 64, r = 0;
    ps[0] = p0;
    tfs[0] = tf0;
    idx[0] = 0;
    for (size_t i = 1; i < nt; i++) {
        idx[i] = 0;
        ps[i] = qx_positions(&n->cur[i]);
        tfs[i] = qx_tf(&n->cur[i]);
        if (!ps[i]) {
            x->corrupt |= n->cur[i].corrupt;
            x->oom |= !n->cur[i].corrupt;
            return 0;
        }
        if (tfs[i] < tfs[r])
            r = i;
    }
    uint32_t span = n->relpos[n->nterms - 1];
    uint32_t f = 0;
    for (uint32_t j = 0; j < tfs[r]; j++) {
        if (ps[r][j] < n->relpos[r])
            continue;
        uint32_t start = ps[r][j] - n->relpos[r];
        if (start >= limit)
            break;
        if (start < body && start + span >= body)
            continue;
        int ok = 1;
        for (size_t i = 0; i < nt && ok; i++) {
            if (i == r)
                continue;
            uint32_t want = start + n->relpos[i], k = idx[i], step = 1;
            const uint32_t *p = ps[i];
            if (k < tfs[i] && p[k] < want) {   /* gallop, then binary search */
                uint32_t lo = k, hi;
                for (;;) {
                    hi = lo + step;
                    if (hi >= tfs[i] || p[hi] >= want)
                        break;
                    lo = hi;
                    step *= 2;
                }
                if (hi > tfs[i])
                    hi = tfs[i];
                while (hi - lo > 1) {
                    uint32_t mid = lo + (hi - lo) / 2;
                    if (p[mid] < want)
                        lo = mid;
                    else
                        hi = mid;
                }
                k = hi;
            }
            idx[i] = k;
            ok = k < tfs[i] && p[k] == want;
        }
        for (size_t i = nt; i < n->nterms && ok; i++) {
            const uint32_t *p = qx_positions(&n->cur[i]);
            if (!p) {
                x->corrupt |= n->cur[i].corrupt;
                x->oom |= !n->cur[i].corrupt;
                return 0;
            }
            uint32_t want = start + n->relpos[i], cnt = qx_tf(&n->cur[i]), lo = 0, hi = cnt;
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (p[mid] < want)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            ok = lo < cnt && p[lo] == want;
        }
        f += ok;
        if (f == most)
            break;
    }
    return f;
}
