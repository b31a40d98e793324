/*
 * test_faults.c — every system call and every allocation of an operation
 * fails in turn (the fault-injection build: -DQUARRY_FAULTS, src/base/sys.h),
 * as SQLite's I/O-error and out-of-memory tests do. The operations: a
 * rebuild of an index, an --add that sets off a merge, a delete, an
 * optimize, and a search (open, searches — one collapsed, in a date range,
 * sorted by date and explained — texts, highlights, close). For each call n of
 * each, on a fresh copy of the index before it:
 *
 *   - the operation returns an error whose message says what failed (an
 *     I/O failure names a file or directory and is not "out of memory"; an
 *     allocation failure is QUARRY_ENOMEM), or succeeds with the index as
 *     it should be;
 *   - the index verifies and holds the state before the operation or the
 *     state after it (nothing in between), and answers a search;
 *   - the same operation run again without faults succeeds, and then the
 *     directory holds nothing but LOCK, MANIFEST and the manifest's files.
 *
 * Then a simulated power loss at each I/O call of each operation that
 * writes (crash_one): the last commit must survive it.
 *
 * Built with AddressSanitizer and UBSan (make test builds it in
 * build-fault/), so a leak or a bad access on any error path fails too.
 * QUARRY_FAULT_STRIDE (default 1: every call; `make fault`) tests the
 * first 64 calls and then every k-th call only (make test: 97, a prime, so
 * that the failing calls fall on calls of every kind); crashes the first
 * 32, every 3k-th and the last.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "quarry.h"
#include "base/sys.h"
#include "../support/qtest.h"

typedef int (*op_fn)(const char *dir, const char *input, quarry_error *err);

/* ------------------------------------------------------------ operations */

static int write_all(const char *dir, const char *input, int add, int threads, quarry_error *err)
{
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.add = add;
    o.mem_mb = 8 * (unsigned)threads;
    o.threads = (unsigned)threads;
    o.passage_tokens = 24;
    quarry_writer *w;
    int rc = quarry_writer_open(dir, &o, &w, err);
    if (rc)
        return rc;
    const char *paths[] = { input };
    if (!(rc = quarry_writer_add_paths(w, paths, 1, err)))
        rc = quarry_writer_commit(w, err);
    quarry_writer_close(w);
    return rc;
}

static int op_rebuild(const char *dir, const char *input, quarry_error *err) { return write_all(dir, input, 0, 2, err); }
static int op_add(const char *dir, const char *input, quarry_error *err) { return write_all(dir, input, 1, 1, err); }

static int op_delete(const char *dir, const char *input, quarry_error *err)
{
    (void)input;
    quarry_index_options o;
    quarry_index_options_init(&o);
    o.add = 1;
    o.mem_mb = 16;
    o.threads = 2;   /* the segments' deletions are counted out on both */
    quarry_writer *w;
    int rc = quarry_writer_open(dir, &o, &w, err);
    if (rc)
        return rc;
    for (int i = 0; i < 84 && !rc; i += 3) {   /* the base's articles and the parts' */
        char id[32];
        snprintf(id, sizeof id, "f%d", i);
        if ((rc = quarry_writer_delete(w, id, err)) == QUARRY_ENOTFOUND)
            rc = 0;
    }
    if (!rc)
        rc = quarry_writer_commit(w, err);
    quarry_writer_close(w);
    return rc;
}

static int op_optimize(const char *dir, const char *input, quarry_error *err)
{
    (void)input;
    quarry_index_summary s;
    return quarry_optimize(dir, 8, &s, err);
}

static int op_search(const char *dir, const char *input, quarry_error *err)
{
    (void)input;
    quarry_index *ix;
    int rc = quarry_open(dir, &ix, err);
    if (rc)
        return rc;
    quarry_results *r = NULL;
    static const char *const qs[] = { "the of", "+the +of", "\"of the\"", "the of" };
    for (size_t q = 0; q < 4 && !rc; q++) {
        quarry_search_options so;   /* the last: collapsed, a date range, by date, explained; then with outside statistics */
        quarry_search_options_init(&so);
        so.collapse = q == 3;
        so.since = q == 3 ? "1990" : NULL;
        so.sort = q == 3 ? QUARRY_SORT_DATE : QUARRY_SORT_SCORE;
        if ((rc = quarry_search(ix, qs[q], &so, &r, err)) == QUARRY_ENOTERMS)
            rc = 0;
        if (!rc && r && r->n && q == 3) {
            quarry_explanation *e;
            if (!(rc = quarry_explain(ix, r, r->hits[0].passage, &e, err)))
                quarry_explanation_free(e);
        }
        for (size_t i = 0; !rc && r && i < r->n; i++) {
            char *t;
            size_t len;
            quarry_span *sp;
            size_t nsp;
            if (!(rc = quarry_passage_text(ix, r->hits[i].passage, &t, &len, err))) {
                if (!(rc = quarry_highlight(ix, r, t, len, &sp, &nsp, err)))
                    free(sp);
                free(t);
            }
        }
        quarry_results_free(r);
        r = NULL;
    }
    /* with the collection statistics from outside (a shard's two phases) */
    char **terms = NULL;
    size_t nt = 0;
    uint64_t df[40], units = 0, tokens = 0;   /* 64 bytes of text: at most 32 words */
    quarry_stats *st = NULL;
    char q[64] = "";
    char *text = NULL;
    size_t tl = 0;
    if (!rc && !(rc = quarry_article_text(ix, 0, &text, &tl, err))) {   /* its first words: an OR query */
        size_t n = tl < sizeof q - 1 ? tl : sizeof q - 1;
        for (size_t i = 0; i < n; i++)
            q[i] = (text[i] >= 'a' && text[i] <= 'z') || (text[i] >= '0' && text[i] <= '9') ? text[i] : ' ';
        q[n] = 0;
        free(text);
        rc = quarry_query_terms(ix, q, 0, &terms, &nt, err);
    }
    if (!rc && !(rc = quarry_stats_for_terms(ix, (const char *const *)terms, nt, df, &units, &tokens, err))) {
        for (size_t i = 0; i < nt; i++)
            df[i] += 5;   /* as if other shards held some too */
        rc = quarry_stats_new(units + 10, tokens + 100, (const char *const *)terms, df, nt, &st, err);
    }
    if (!rc) {
        quarry_search_options so;
        quarry_search_options_init(&so);
        so.stats = st;
        if ((rc = quarry_search(ix, q, &so, &r, err)) == QUARRY_ENOTERMS)
            rc = 0;
        quarry_explanation *e;
        if (!rc && r && r->n && !(rc = quarry_explain(ix, r, r->hits[0].passage, &e, err)))
            quarry_explanation_free(e);
        quarry_results_free(r);
    }
    quarry_stats_free(st);
    quarry_query_terms_free(terms);
    quarry_close(ix);
    return rc;
}

/* ------------------------------------------------------------ files */

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    assert_int_equal(fclose(b), 0);
}

static void copy_dir(const char *from, const char *to)
{
    mkdir(to, 0777);
    DIR *d = opendir(from);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            char a[600], b[600];
            snprintf(a, sizeof a, "%s/%s", from, e->d_name);
            snprintf(b, sizeof b, "%s/%s", to, e->d_name);
            copy_file(a, b);
        }
    closedir(d);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            char p[600];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(dir);
}

/* The names in dir that are not LOCK, MANIFEST or a file its manifest
 * names; into `out` (empty when none). */
static void strays(const char *dir, char *out, size_t n)
{
    char mpath[700];
    snprintf(mpath, sizeof mpath, "%s/MANIFEST", dir);
    FILE *m = fopen(mpath, "r");
    char named[8192] = " LOCK MANIFEST ";
    char line[512];
    while (m && fgets(line, sizeof line, m)) {
        char name[128];
        if (sscanf(line, "file %127s", name) == 1 && strlen(named) + strlen(name) + 3 < sizeof named) {
            strcat(named, name);
            strcat(named, " ");
        }
    }
    if (m)
        fclose(m);
    out[0] = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        char key[300];
        if (e->d_name[0] == '.')
            continue;
        snprintf(key, sizeof key, " %s ", e->d_name);
        if (!strstr(named, key) && strlen(out) + strlen(e->d_name) + 2 < n) {
            strcat(out, e->d_name);
            strcat(out, " ");
        }
    }
    closedir(d);
}

/* The live articles of the index in dir; -1 when it does not open or
 * does not verify. */
static long state_of(const char *dir)
{
    quarry_error err;
    if (quarry_verify(dir, &err))
        return -1;
    quarry_index *ix;
    if (quarry_open(dir, &ix, &err))
        return -1;
    quarry_info in;
    quarry_info_get(ix, &in);
    quarry_results *r = NULL;
    int rc = quarry_search(ix, "the of", NULL, &r, &err);
    quarry_results_free(r);
    quarry_close(ix);
    return rc && rc != QUARRY_ENOTERMS ? -1 : (long)in.live_articles;
}

/* ------------------------------------------------------------ the loop */

typedef struct loop {
    const char *name;
    op_fn op;
    const char *input;
    const char *before;   /* the index before the operation (a template copied for every run) */
    int writes;           /* the operation commits (its files are checked) */
    unsigned runs, errors, fired_ok, stride;
} loop;

static void run_one(loop *L, const char *tmp, int kind, uint64_t n, long before, long after)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/run", tmp);
    remove_dir(dir);
    copy_dir(L->before, dir);
    quarry_error err;
    memset(&err, 0, sizeof err);
    qsys_fault_arm(kind, n);
    int rc = L->op(dir, L->input, &err);
    int fired = qsys_fault_fired(kind);
    qsys_fault_arm(kind, 0);
    L->runs++;
    const char *what = kind == QSYS_FAULT_IO ? "I/O call" : "allocation";
    if (rc) {
        L->errors++;
        if (!err.msg[0])
            fail_msg("[%s] %s %llu failed: error %d without a message", L->name, what, (unsigned long long)n, rc);
        if (!fired)
            fail_msg("[%s] %s %llu: error without a fault: %s", L->name, what, (unsigned long long)n, err.msg);
        if (kind == QSYS_FAULT_IO && (rc == QUARRY_ENOMEM || strstr(err.msg, "out of memory")))
            fail_msg("[%s] %s %llu failed: reported as out of memory: %s", L->name, what, (unsigned long long)n, err.msg);
        if (kind == QSYS_FAULT_IO && !strchr(err.msg, '/'))
            fail_msg("[%s] %s %llu failed: the message names no file: %s", L->name, what, (unsigned long long)n, err.msg);
        if (kind == QSYS_FAULT_ALLOC && rc != QUARRY_ENOMEM)
            fail_msg("[%s] %s %llu failed: code %d, not QUARRY_ENOMEM: %s", L->name, what, (unsigned long long)n, rc, err.msg);
    } else if (fired)
        L->fired_ok++;
    long now = state_of(dir);
    if (now != before && now != after)
        fail_msg("[%s] %s %llu failed (%s): the index holds %ld articles (before %ld, after %ld; -1: it does not verify)",
                 L->name, what, (unsigned long long)n, rc ? err.msg : "no error", now, before, after);
    if (L->writes) {   /* again without faults: then nothing of the failed run is left */
        if ((rc = L->op(dir, L->input, &err)))
            fail_msg("[%s] after %s %llu failed, the operation again: %s", L->name, what, (unsigned long long)n, err.msg);
        char s[2000];
        strays(dir, s, sizeof s);
        if (s[0])
            fail_msg("[%s] after %s %llu failed and a clean run: files left: %s", L->name, what, (unsigned long long)n, s);
    }
}

static void fault_loop(loop *L, const char *tmp)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/count", tmp);
    long before = state_of(L->before), after;
    assert_true(before >= 0 || !L->writes);
    for (int kind = 0; kind < 2; kind++) {
        /* a clean run counts the calls */
        remove_dir(dir);
        copy_dir(L->before, dir);
        quarry_error err;
        qsys_fault_arm(kind, 0);
        if (L->op(dir, L->input, &err))
            fail_msg("[%s] the operation without faults: %s", L->name, err.msg);
        uint64_t calls = qsys_fault_calls(kind);
        after = L->writes ? state_of(dir) : before;
        unsigned runs0 = L->runs, errors0 = L->errors;
        for (uint64_t n = 1; n <= calls + 2; n += (n < 64 ? 1 : L->stride))
            run_one(L, tmp, kind, n, before, after);
        print_message("      [%s] %s: %llu calls; %u runs with a failure, %u of them errors, the rest survived\n",
                      L->name, kind == QSYS_FAULT_IO ? "I/O" : "allocations", (unsigned long long)calls,
                      L->runs - runs0, L->errors - errors0);
        assert_true(L->errors > errors0);
    }
}

/* ------------------------------------------------------------ crashes */

/* A power loss at I/O call n of the operation, in a child process: the
 * files it wrote since their last fsync lose that part (cut, zeroed,
 * kept, or by turns: n % 4), as Lucene's MockDirectoryWrapper does to
 * unsynced files. Then the index must verify and hold the state before or
 * after the operation, and the operation run again must succeed and leave
 * no stray files. */
static void crash_one(loop *L, const char *tmp, uint64_t n, long before, long after, unsigned *crashed)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/run", tmp);
    remove_dir(dir);
    copy_dir(L->before, dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        quarry_error err;
        qsys_crash_arm(n, (int)(n % 4));
        _exit(L->op(dir, L->input, &err) ? 1 : 0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || (WEXITSTATUS(st) != QSYS_CRASH_EXIT && WEXITSTATUS(st) != 0))
        fail_msg("[%s] a crash at I/O call %llu: the child ended with status %d", L->name, (unsigned long long)n, st);
    *crashed += WEXITSTATUS(st) == QSYS_CRASH_EXIT;
    long now = state_of(dir);
    if (now != before && now != after)
        fail_msg("[%s] a crash at I/O call %llu (mode %d): the index holds %ld articles (before %ld, after %ld; -1: it "
                 "does not verify)",
                 L->name, (unsigned long long)n, (int)(n % 4), now, before, after);
    quarry_error err;
    if (L->op(dir, L->input, &err))
        fail_msg("[%s] after a crash at I/O call %llu, the operation again: %s", L->name, (unsigned long long)n, err.msg);
    char s[2000];
    strays(dir, s, sizeof s);
    if (s[0])
        fail_msg("[%s] after a crash at I/O call %llu and a clean run: files left: %s", L->name, (unsigned long long)n, s);
}

static void crash_loop(loop *L, const char *tmp)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/count", tmp);
    long before = state_of(L->before);
    remove_dir(dir);
    copy_dir(L->before, dir);
    quarry_error err;
    qsys_fault_arm(QSYS_FAULT_IO, 0);
    if (L->op(dir, L->input, &err))
        fail_msg("[%s] the operation without faults: %s", L->name, err.msg);
    uint64_t calls = qsys_fault_calls(QSYS_FAULT_IO);
    long after = state_of(dir);
    unsigned runs = 0, crashed = 0;
    /* a third as many as the fault runs (each is a process), unless every call is tested */
    unsigned stride = L->stride > 1 ? 3 * L->stride : 1;
    for (uint64_t n = 1; n <= calls + 1; n += (n < 32 ? 1 : stride), runs++)
        crash_one(L, tmp, n, before, after, &crashed);
    if (stride > 1)   /* and the end */
        crash_one(L, tmp, calls, before, after, &crashed), runs++;
    print_message("      [%s] crashes: %llu I/O calls; %u runs, %u crashed before the end\n", L->name,
                  (unsigned long long)calls, runs, crashed);
    assert_true(crashed > 0);
}

static void test_faults(void **state)
{
    (void)state;
    trng r;
    trng_seed(&r, 9);
    tcoll c = { 0 };
    tcoll_generate(&c, &r, 120, "f");
    tcoll_dates(&c, 0, 5);
    char *tmp = ttmp_make("faults");
    char all[600], more[600], base[600], merged[600];
    snprintf(all, sizeof all, "%s/all.jsonl", tmp);
    snprintf(more, sizeof more, "%s/more.jsonl", tmp);
    snprintf(base, sizeof base, "%s/base", tmp);
    snprintf(merged, sizeof merged, "%s/nine", tmp);
    size_t half = c.n / 2;
    tcoll_write(&c, 0, half, all);
    /* "more": new documents and updates of earlier ones */
    tcoll_write(&c, half - 10, c.n, more);
    quarry_error err;
    assert_int_equal(write_all(base, all, 0, 1, &err), 0);
    /* nine segments (one per small --add with merges off), so that an --add
     * makes ten and sets off a merge */
    copy_dir(base, merged);
    for (int i = 0; i < 8; i++) {
        char part[600];
        snprintf(part, sizeof part, "%s/part%d.jsonl", tmp, i);
        tcoll_write(&c, half + (size_t)i * 3, half + (size_t)i * 3 + 3, part);
        quarry_index_options o;
        quarry_index_options_init(&o);
        o.add = 1;
        o.merge = 0;
        quarry_writer *w;
        const char *paths[] = { part };
        assert_int_equal(quarry_writer_open(merged, &o, &w, &err), 0);
        assert_int_equal(quarry_writer_add_paths(w, paths, 1, &err), 0);
        assert_int_equal(quarry_writer_commit(w, &err), 0);
        quarry_writer_close(w);
    }
    const char *s = getenv("QUARRY_FAULT_STRIDE");
    unsigned stride = s && atoi(s) > 0 ? (unsigned)atoi(s) : 1;
    loop loops[] = {
        { "rebuild", op_rebuild, all, base, 1, 0, 0, 0, stride },
        { "add and merge", op_add, more, merged, 1, 0, 0, 0, stride },
        { "delete", op_delete, NULL, merged, 1, 0, 0, 0, stride },
        { "optimize", op_optimize, NULL, merged, 1, 0, 0, 0, stride },
        { "search", op_search, NULL, base, 0, 0, 0, 0, 1 },   /* every call: a search makes few (170) */
    };
    for (size_t i = 0; i < sizeof loops / sizeof *loops; i++)
        fault_loop(&loops[i], tmp);
    for (size_t i = 0; i < sizeof loops / sizeof *loops; i++)
        if (loops[i].writes)
            crash_loop(&loops[i], tmp);
    tcoll_free(&c);
    ttmp_remove(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
