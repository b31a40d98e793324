/*
 * test_fuzz_replay.c — replays the committed fuzz corpora with no fuzzing
 * engine: every file of tests/fuzz/corpus/NAME/ (seeds, inputs kept by
 * libFuzzer -merge=1 and the reproducers of fixed bugs) is run through the
 * harness fuzz_NAME (tests/fuzz/fuzz_NAME.c, included here so the test is
 * self-contained), whose checks abort on a broken invariant. Under `make
 * asan` this reruns every input with AddressSanitizer and UBSan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "fuzz/fuzz_analyze.c"
#include "fuzz/fuzz_commit.c"
#include "fuzz/fuzz_index.c"
#include "fuzz/fuzz_json.c"
#include "fuzz/fuzz_query.c"
#include "fuzz/fuzz_segments.c"

const char *fuzz_input_name;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs `fn` over every file of the corpus directory of `name`, in name order. */
static void replay(const char *name, int (*fn)(const uint8_t *, size_t))
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", fuzz_root(), name);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open the corpus directory %s", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof *names);
            assert_non_null(names);
        }
        names[n] = strdup(e->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    assert_true(n > 0);
    qsort(names, n, sizeof *names, cmp_name);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f)
            fail_msg("cannot open %s", path);
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        assert_true(len >= 0);
        /* an exact-size copy, as libFuzzer gives it */
        uint8_t *buf = malloc(len ? (size_t)len : 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        fuzz_input_name = path;
        fn(buf, (size_t)len);
        fuzz_input_name = NULL;
        bytes += (size_t)len;
        free(buf);
        free(names[i]);
    }
    free(names);
    printf("replayed %zu inputs (%zu bytes) of %s\n", n, bytes, name);
}

static void test_json(void **state) { replay("json", fuzz_json); }
static void test_query(void **state) { replay("query", fuzz_query); }
static void test_index(void **state) { replay("index", fuzz_index); }
static void test_analyze(void **state) { replay("analyze", fuzz_analyze); }
static void test_commit(void **state) { replay("commit", fuzz_commit); }
static void test_segments(void **state) { replay("segments", fuzz_segments); }

/* The harnesses clean up (temporary indexes) with atexit. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_index),
        cmocka_unit_test(test_analyze),
        cmocka_unit_test(test_commit),
        cmocka_unit_test(test_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
