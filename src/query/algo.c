/*
 * algo.c — what the query algorithms share (algo.h): choosing one for a
 * query's shape, the root's clauses, and the canonical match at a unit.
 */
#include "query/algo.h"
#include "base/sys.h"

#include <math.h>
#include <stdlib.h>

#include "query/parse.h"

qn_node **qalgo_clauses(qn_node *root, size_t *n)
{
    size_t k = 0;
    qn_node **v = qmalloc((root->kind == QN_BOOL && root->nkids ? root->nkids : 1) * sizeof *v);
    if (!v)
        return NULL;
    if (root->kind == QN_BOOL) {
        for (size_t i = 0; i < root->nkids; i++)
            if (root->kids[i]->occur != QQ_MUST_NOT)
                v[k++] = root->kids[i];
    } else
        v[k++] = root;
    *n = k;
    return v;
}

int qalgo_match(qalgo_run *r, uint32_t d, double *score)
{
    int admit = qk_admit(r->col, d);
    if (admit == QK_OUT)
        return 0;   /* outside the date filter (or deleted): not a match */
    if (admit == QK_OLD) {   /* sorting by date, too old to enter: only counted */
        if (!qn_match(r->x, r->root, d))
            return 0;
        *score = -INFINITY;
        return 1;
    }
    double s = 0;
    if (!qn_score(r->x, r->root, d, &s))
        return 0;
    *score = s;
    return 1;
}

qalgo_fn qalgo_pick(const qn_node *root, int algorithm)
{
    if (algorithm == QUARRY_ALGO_EXHAUSTIVE)
        return qalgo_exhaustive;
    if (root->kind == QN_BOOL && root->has_must)
        return qalgo_conjunction;
    if (algorithm == QUARRY_ALGO_AUTO && root->kind == QN_LEAF && (root->nterms > 1 || root->field != QQ_FIELD_ANY))
        return qalgo_phrase;
    if (algorithm == QUARRY_ALGO_BMW)
        return qalgo_bmw;
    return qalgo_maxscore;
}
