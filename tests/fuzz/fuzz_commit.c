/*
 * fuzz_commit.c — fuzz harness of the commit sequence (src/index/writer.c,
 * segmerge.c, deletes.c, manifest.c): a sequence of operations applied to
 * an index, which is compared after each commit, rollback and optimize
 * with a model of what it must hold (the live articles and their texts).
 *
 * Input: byte 0 holds flags (bit 0: merge after commits, as by default;
 * bit 1: articles split into passages of 16 tokens; bit 2: quarry_verify after
 * every commit and optimize, not only at the first and the last check), then
 * operations, each an op byte (op % 8) and its arguments:
 *
 *   0, 1  add       id byte (id % NIDS), length byte (1 + len % 40 words),
 *                   then one byte per word (word % NWORDS); an id the index
 *                   holds is an update, an id added twice in one run is
 *                   refused (QUARRY_EINPUT, at once or at the commit)
 *   2     delete    id byte: QUARRY_ENOTFOUND unless the index holds it
 *   3     commit    then the index must equal the model
 *   4     rollback  the writer closed uncommitted: the index is unchanged
 *   5     optimize  (the writer rolled back first): one segment, unchanged
 *   6     reader    an index opened now and kept: after later commits it
 *                   must still hold what it held (its own generation)
 *   7     merge     switched on or off for the writers opened after it
 *
 * The index lives in a fresh temporary directory per input. After each
 * check: quarry_open, live articles counted, every id looked up (present
 * iff the model holds it, then its title and text equal the model's), a
 * search for every word giving exactly the articles of the model holding
 * it, and quarry_verify. Nothing may crash, leak or disagree.
 */
#include <string.h>

#include "fuzz.h"
#include "quarry.h"

#define NIDS 24
#define NWORDS 16
#define MAXW 40
#define MAX_OPS 64
#define MAX_COMMITS 10

static const char *const cm_words[NWORDS] = {
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
};

typedef struct cm_doc {
    int live;
    unsigned version;              /* in the title: an update is seen */
    unsigned nw;
    unsigned char w[MAXW];
} cm_doc;

typedef struct cm_model { cm_doc d[NIDS]; } cm_model;

static void cm_id(char *s, size_t n, unsigned id) { snprintf(s, n, "doc-%02u", id); }

static void cm_text(const cm_doc *d, char *s, size_t n)
{
    size_t len = 0;
    s[0] = 0;
    for (unsigned i = 0; i < d->nw && len + 16 < n; i++)
        len += (size_t)snprintf(s + len, n - len, "%s%s", i ? " " : "", cm_words[d->w[i]]);
}

static void cm_title(const cm_doc *d, unsigned id, char *s, size_t n)
{
    snprintf(s, n, "Record %u version %u", id, d->version);
}

static int cm_has(const cm_doc *d, unsigned word)
{
    for (unsigned i = 0; i < d->nw; i++)
        if (d->w[i] == word)
            return 1;
    return 0;
}

/* The index `ix` holds exactly the live articles of `m`. */
static void cm_check_open(quarry_index *ix, const cm_model *m, const char *what)
{
    quarry_info in;
    quarry_info_get(ix, &in);
    uint64_t live = 0;
    for (unsigned i = 0; i < NIDS; i++)
        live += m->d[i].live != 0;
    FUZZ_CHECK(in.live_articles == live, "%s: %llu live articles, the model %llu", what,
               (unsigned long long)in.live_articles, (unsigned long long)live);
    quarry_error err;
    for (unsigned i = 0; i < NIDS; i++) {
        char id[32];
        cm_id(id, sizeof id, i);
        uint32_t a;
        int rc = quarry_article_find(ix, id, &a, &err);
        if (!m->d[i].live) {
            FUZZ_CHECK(rc == QUARRY_ENOTFOUND, "%s: %s found (%d) but the model has none", what, id, rc);
            continue;
        }
        FUZZ_CHECK(rc == 0, "%s: %s not found: %s", what, id, err.msg);
        quarry_article ar;
        rc = quarry_article_get(ix, a, &ar, &err);
        FUZZ_CHECK(rc == 0, "%s: quarry_article_get %s: %s", what, id, err.msg);
        char want[512], title[64];
        cm_title(&m->d[i], i, title, sizeof title);
        FUZZ_CHECK(strcmp(ar.title, title) == 0, "%s: %s has title \"%s\", the model \"%s\"", what, id, ar.title,
                   title);
        char *t;
        size_t len;
        rc = quarry_article_text(ix, a, &t, &len, &err);
        FUZZ_CHECK(rc == 0, "%s: quarry_article_text %s: %s", what, id, err.msg);
        cm_text(&m->d[i], want, sizeof want);
        FUZZ_CHECK(strstr(t, want) != NULL, "%s: %s has text \"%s\", the model \"%s\"", what, id, t, want);
        free(t);
    }
    for (unsigned w = 0; w < NWORDS; w++) {
        quarry_search_options so;
        quarry_search_options_init(&so);
        so.k = NIDS + 1;
        so.count = 1;
        quarry_results *r = NULL;
        int rc = quarry_search(ix, cm_words[w], &so, &r, &err);
        unsigned want = 0;
        for (unsigned i = 0; i < NIDS; i++)
            want += m->d[i].live && cm_has(&m->d[i], w);
        if (rc == QUARRY_ENOTERMS || (rc == 0 && r->n == 0)) {
            FUZZ_CHECK(want == 0, "%s: no match for %s, the model has %u", what, cm_words[w], want);
            quarry_results_free(r);
            continue;
        }
        FUZZ_CHECK(rc == 0, "%s: search %s: %s", what, cm_words[w], err.msg);
        FUZZ_CHECK(r->n == want && r->matched == want, "%s: %zu hits (%llu matched) for %s, the model %u", what,
                   r->n, (unsigned long long)r->matched, cm_words[w], want);
        for (size_t h = 0; h < r->n; h++) {
            quarry_article ar;
            rc = quarry_article_get(ix, r->hits[h].article, &ar, &err);
            FUZZ_CHECK(rc == 0, "%s: hit article: %s", what, err.msg);
            unsigned id = 0;
            FUZZ_CHECK(sscanf(ar.id, "doc-%u", &id) == 1 && id < NIDS && m->d[id].live && cm_has(&m->d[id], w),
                       "%s: hit %s for %s is not in the model", what, ar.id, cm_words[w]);
        }
        quarry_results_free(r);
    }
}

static void cm_check(const char *dir, const cm_model *m, int verify, const char *what)
{
    quarry_error err;
    if (verify) {
        int rc = quarry_verify(dir, &err);
        FUZZ_CHECK(rc == 0, "%s: quarry_verify: %s", what, err.msg);
    }
    quarry_index *ix;
    int rc = quarry_open(dir, &ix, &err);
    FUZZ_CHECK(rc == 0, "%s: quarry_open: %s", what, err.msg);
    cm_check_open(ix, m, what);
    quarry_close(ix);
}

typedef struct cm_run {
    const char *dir;
    int merge, passages;
    quarry_writer *w;
    cm_doc add[NIDS];   /* this run's adds (live: added) */
    int del[NIDS];
    int dup;            /* an id was added twice and accepted: the commit must refuse */
} cm_run;

static void cm_open_writer(cm_run *r, int add)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.add = add;
    o.merge = r->merge;
    o.threads = 1;
    o.mem_mb = 8;
    o.passages = r->passages;
    o.passage_tokens = 16;
    o.stopwords = "none";
    quarry_error err;
    int rc = quarry_writer_open(r->dir, &o, &r->w, &err);
    FUZZ_CHECK(rc == 0, "quarry_writer_open: %s", err.msg);
    memset(r->add, 0, sizeof r->add);
    memset(r->del, 0, sizeof r->del);
    r->dup = 0;
}

static int cm_add(cm_run *r, unsigned id, const cm_doc *d)
{
    char sid[32], title[64], text[512];
    cm_id(sid, sizeof sid, id);
    cm_title(d, id, title, sizeof title);
    cm_text(d, text, sizeof text);
    quarry_error err;
    return quarry_writer_add(r->w, sid, title, text, strlen(text), NULL, "fuzz", &err);
}

/* Commits the run; the model becomes what the index must now hold. */
static void cm_commit(cm_run *r, cm_model *m)
{
    quarry_error err;
    int rc = quarry_writer_commit(r->w, &err);
    if (r->dup) {
        FUZZ_CHECK(rc == QUARRY_EINPUT, "a run with an id added twice committed (%d): %s", rc, rc ? err.msg : "");
    } else {
        FUZZ_CHECK(rc == 0, "quarry_writer_commit: %s", err.msg);
        for (unsigned i = 0; i < NIDS; i++) {
            if (r->del[i])
                m->d[i].live = 0;
            if (r->add[i].live)
                m->d[i] = r->add[i];
        }
    }
    quarry_writer_close(r->w);
    r->w = NULL;
}

int fuzz_commit(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char dir[256];
    fuzz_mkdtemp(dir, sizeof dir, "commit");
    cm_run r = { .dir = dir, .merge = data[0] & 1, .passages = (data[0] >> 1) & 1 };
    int verify_each = (data[0] >> 2) & 1;
    cm_model m, held_m;
    memset(&m, 0, sizeof m);
    /* the first generation: two articles, by a rebuild */
    cm_open_writer(&r, 0);
    for (unsigned i = 0; i < 2; i++) {
        cm_doc d = { .live = 1, .version = 0, .nw = 3, .w = { (unsigned char)i, 2, 3 } };
        FUZZ_CHECK(cm_add(&r, i, &d) == 0, "the first articles");
        r.add[i] = d;
    }
    cm_commit(&r, &m);
    cm_check(dir, &m, 1, "the first commit");
    cm_open_writer(&r, 1);
    quarry_index *held = NULL;
    unsigned ops = 0, commits = 0, version = 1;
    size_t p = 1;
#define NEXT() (p < size ? data[p++] : 0)
    while (p < size && ops++ < MAX_OPS) {
        unsigned op = NEXT() % 8;
        if (op <= 1) {
            unsigned id = NEXT() % NIDS;
            cm_doc d = { .live = 1, .version = version++, .nw = 1 + NEXT() % MAXW };
            for (unsigned i = 0; i < d.nw; i++)
                d.w[i] = (unsigned char)(NEXT() % NWORDS);
            int rc = cm_add(&r, id, &d);
            if (r.add[id].live) {
                FUZZ_CHECK(rc == 0 || rc == QUARRY_EINPUT, "adding an id twice: %d", rc);
                if (rc == 0)
                    r.dup = 1;
            } else {
                FUZZ_CHECK(rc == 0, "adding doc-%02u: %d", id, rc);
                r.add[id] = d;
            }
        } else if (op == 2) {
            unsigned id = NEXT() % NIDS;
            char sid[32];
            cm_id(sid, sizeof sid, id);
            quarry_error err;
            int rc = quarry_writer_delete(r.w, sid, &err);
            if (m.d[id].live) {
                FUZZ_CHECK(rc == 0, "deleting %s: %s", sid, err.msg);
                r.del[id] = 1;
            } else
                FUZZ_CHECK(rc == QUARRY_ENOTFOUND, "deleting %s, which the index does not hold: %d", sid, rc);
        } else if (op == 7) {
            r.merge = !r.merge;
        } else if (op == 3) {
            if (commits++ >= MAX_COMMITS)
                break;
            cm_commit(&r, &m);
            cm_check(dir, &m, verify_each, "after a commit");
            if (held)
                cm_check_open(held, &held_m, "a reader opened before the commit");
            cm_open_writer(&r, 1);
        } else if (op == 4 || op == 5) {
            quarry_writer_close(r.w);   /* rolled back */
            r.w = NULL;
            cm_check(dir, &m, 0, "after a rollback");
            if (op == 5) {
                quarry_error err;
                quarry_index_summary s;
                int rc = quarry_optimize(dir, 8, &s, &err);
                FUZZ_CHECK(rc == 0, "quarry_optimize: %s", err.msg);
                cm_check(dir, &m, verify_each, "after optimize");
                quarry_index *ix;
                FUZZ_CHECK(quarry_open(dir, &ix, &err) == 0, "quarry_open: %s", err.msg);
                quarry_info in;
                quarry_info_get(ix, &in);
                FUZZ_CHECK(in.segments <= 1 && in.articles == in.live_articles,
                           "after optimize: %zu segments, %llu articles of which %llu live", in.segments,
                           (unsigned long long)in.articles, (unsigned long long)in.live_articles);
                quarry_close(ix);
                if (held)
                    cm_check_open(held, &held_m, "a reader opened before optimize");
            }
            cm_open_writer(&r, 1);
        } else {
            quarry_close(held);
            quarry_error err;
            FUZZ_CHECK(quarry_open(dir, &held, &err) == 0, "quarry_open: %s", err.msg);
            held_m = m;
        }
    }
#undef NEXT
    quarry_writer_close(r.w);   /* the last run rolled back */
    cm_check(dir, &m, 1, "at the end");
    if (held) {
        cm_check_open(held, &held_m, "a reader opened earlier, at the end");
        quarry_close(held);
    }
    /* nothing but the index's own files */
    DIR *d = opendir(dir);
    FUZZ_CHECK(d != NULL, "opendir %s", dir);
    struct dirent *e;
    while ((e = readdir(d)))
        FUZZ_CHECK(e->d_name[0] == '.' || strcmp(e->d_name, "LOCK") == 0 || strcmp(e->d_name, "MANIFEST") == 0 ||
                       (e->d_name[0] == 's' && strlen(e->d_name) >= 17),
                   "a stray file after every writer closed: %s", e->d_name);
    closedir(d);
    fuzz_rmdir(dir);
    return 0;
}
