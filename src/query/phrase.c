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
 * body starts at body_pos, QF_TITLE_GAP positions after the title): one
 * that spans no more than QF_TITLE_GAP positions cannot run from one into
 * the other, and the unit's body_pos (a memory access of its own) is not
 * read for it.
 *
 * The term with the fewest occurrences in the unit proposes the phrase's
 * starts, a chunk at a time; the other terms filter them in increasing
 * order of occurrences, each decoding its positions only when a start
 * survives to it (most units that hold every term of a phrase do not hold
 * the phrase, and are rejected by the two rarest). A term repeated in the
 * phrase has one cursor (n->same).
 */
#include "query/node.h"

#include "query/parse.h"

#define PH_TERMS 64      /* terms ordered by occurrences; later ones are binary searched */
#define PH_CHUNK 256     /* starts filtered at a time */

/* The positions of term i at the unit (its cursor's, or the first of its
 * repeats'); NULL, with x->corrupt or x->oom set, when they cannot be read. */
static const uint32_t *positions(qn_ctx *x, qn_node *n, size_t i)
{
    qx_cursor *c = &n->cur[n->same ? n->same[i] : i];
    const uint32_t *p = qx_positions(c);
    if (!p) {
        x->corrupt |= c->corrupt;
        x->oom |= !c->corrupt;
    }
    return p;
}

/* Keeps the starts s of v[0..n) for which p[0..cnt) holds s + rel; *k is
 * where the walk of p resumes (starts increase from chunk to chunk).
 * Returns the new n. */
static size_t filter(uint32_t *v, size_t n, const uint32_t *p, uint32_t cnt, uint32_t rel, uint32_t *k)
{
    size_t out = 0;
    uint32_t j = *k;
    for (size_t a = 0; a < n && j < cnt; a++) {
        uint32_t want = v[a] + rel;
        if (p[j] < want) {   /* gallop, then binary search */
            uint32_t lo = j, hi, step = 1;
            for (;;) {
                hi = lo + step;
                if (hi >= cnt || p[hi] >= want)
                    break;
                lo = hi;
                step *= 2;
            }
            if (hi > cnt)
                hi = cnt;
            while (hi - lo > 1) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (p[mid] < want)
                    lo = mid;
                else
                    hi = mid;
            }
            j = hi;
        }
        if (j < cnt && p[j] == want)
            v[out++] = v[a];
    }
    *k = j;
    return out;
}

uint32_t qn_phrase_freq(qn_ctx *x, qn_node *n, uint32_t d, uint32_t most)
{
    /* where the body starts: read at once for a title: phrase, else only
     * once a start has survived every term (most units have none) */
    int title = n->field == QQ_FIELD_TITLE;
    uint32_t body = title ? qx_unit_body(x->seg, d) : UINT32_MAX;
    uint32_t limit = title ? body : UINT32_MAX;
    if (title && limit == 0)
        return 0;
    if (n->nterms == 1) {   /* a title:-restricted term */
        const uint32_t *p0 = positions(x, n, 0);
        if (!p0)
            return 0;
        uint32_t tf0 = qx_tf(&n->cur[0]), f = 0;
        while (f < tf0 && f < most && p0[f] < limit)
            f++;
        return f;
    }
    if (n->nterms == 2 && !n->same && !title) {   /* the common "a b": one merge of two short lists */
        const uint32_t *p0 = positions(x, n, 0), *p1 = p0 ? positions(x, n, 1) : NULL;
        if (!p1)
            return 0;
        uint32_t t0 = qx_tf(&n->cur[0]), t1 = qx_tf(&n->cur[1]), rel = n->relpos[1], f = 0;
        for (uint32_t i = 0, j = 0; i < t0 && j < t1 && f < most;) {
            uint64_t want = (uint64_t)p0[i] + rel;
            if (p1[j] < want) {
                j++;
                continue;
            }
            if (p1[j] == want) {   /* a phrase does not run from the title into the body */
                if (rel > QF_TITLE_GAP && body == UINT32_MAX)
                    body = qx_unit_body(x->seg, d);
                f += !(p0[i] < body && want >= body);
            }
            i++;
        }
        return f;
    }
    /* the first PH_TERMS terms by occurrences in the unit (insertion sort) */
    size_t nt = n->nterms < PH_TERMS ? n->nterms : PH_TERMS;
    uint32_t ord[PH_TERMS], tfs[PH_TERMS], at[PH_TERMS];
    const uint32_t *ps[PH_TERMS];
    for (size_t i = 0; i < nt; i++) {
        uint32_t tf = qx_tf(&n->cur[n->same ? n->same[i] : i]);
        size_t j = i;
        while (j && tfs[j - 1] > tf) {
            tfs[j] = tfs[j - 1];
            ord[j] = ord[j - 1];
            j--;
        }
        tfs[j] = tf;
        ord[j] = (uint32_t)i;
        ps[i] = NULL;
        at[i] = 0;
    }
    size_t r = ord[0];
    const uint32_t *pr = positions(x, n, r);
    if (!pr)
        return 0;
    uint32_t span = n->relpos[n->nterms - 1], rel_r = n->relpos[r], f = 0;
    uint32_t v[PH_CHUNK];
    for (uint32_t j = 0; j < tfs[0] && f < most;) {
        /* the next chunk of starts proposed by term r */
        size_t nv = 0;
        int past = 0;
        for (; j < tfs[0] && nv < PH_CHUNK; j++) {
            if (pr[j] < rel_r)
                continue;
            uint32_t start = pr[j] - rel_r;
            if (start >= limit) {
                past = 1;
                break;
            }
            if (title && start + span >= body)   /* ends in the body */
                continue;
            v[nv++] = start;
        }
        for (size_t o = 1; o < nt && nv; o++) {
            size_t i = ord[o];
            if (!ps[i] && !(ps[i] = positions(x, n, i)))
                return 0;
            nv = filter(v, nv, ps[i], tfs[o], n->relpos[i], &at[i]);
        }
        for (size_t i = nt; i < n->nterms && nv; i++) {
            const uint32_t *p = positions(x, n, i);
            if (!p)
                return 0;
            uint32_t k = 0;
            nv = filter(v, nv, p, qx_tf(&n->cur[n->same ? n->same[i] : i]), n->relpos[i], &k);
        }
        if (nv && !title && span > QF_TITLE_GAP) {   /* a phrase does not run from the title into the body */
            if (body == UINT32_MAX)
                body = qx_unit_body(x->seg, d);
            size_t k = 0;
            for (size_t a = 0; a < nv; a++)
                if (!(v[a] < body && v[a] + span >= body))
                    v[k++] = v[a];
            nv = k;
        }
        f += (uint32_t)nv;
        if (past)
            break;
    }
    return f < most ? f : most;
}
