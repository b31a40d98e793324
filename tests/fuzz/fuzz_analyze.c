/*
 * fuzz_analyze.c — fuzz harness of the analyzer (src/analyze/): arbitrary
 * bytes go through qa_utf8_clean, whose output must be valid UTF-8 (and
 * clean again to itself), then through qa_analyze with four analyzers
 * (english/snowball/default stop words, english/porter, french/snowball,
 * dutch without stemmer or stop words). Every token must be a non-empty,
 * NUL-terminated, valid UTF-8 term of at most QA_MAX_TERM bytes, with a
 * span inside the text after the previous one and a larger position.
 * The raw (uncleaned) bytes are analyzed too, as quarry_highlight may be
 * given any text: there the same checks hold.
 */
#include <string.h>

#include "fuzz.h"
#include "quarry.h"
#include "analyze/analyze.h"

#define AN_N 4

static qa_analyzer *an_list[AN_N];
static int an_ready;

static void an_cleanup(void)
{
    for (int i = 0; i < AN_N; i++) {
        qa_close(an_list[i]);
        an_list[i] = NULL;
    }
    an_ready = 0;
}

static void an_init(void)
{
    static const char *const cfg[AN_N][3] = {
        { "english", "snowball", "default" },
        { "english", "porter", "default" },
        { "french", "snowball", "default" },
        { "dutch", "none", "none" },
    };
    if (an_ready)
        return;
    for (int i = 0; i < AN_N; i++) {
        quarry_error err;
        int rc = qa_open(cfg[i][0], cfg[i][1], cfg[i][2], &an_list[i], &err);
        FUZZ_CHECK(rc == 0, "qa_open %s/%s/%s: %s", cfg[i][0], cfg[i][1], cfg[i][2], err.msg);
    }
    an_ready = 1;
    atexit(an_cleanup);
}

typedef struct an_state {
    const char *text;
    size_t len;
    uint32_t pos_base;
    int64_t last_pos;
    uint32_t last_end;
    size_t ntok;
} an_state;

static int an_on_token(void *ctx, const qa_token *t)
{
    an_state *s = ctx;
    FUZZ_CHECK(t->term != NULL && t->len > 0, "empty term at byte %u", t->start);
    FUZZ_CHECK(t->len <= QA_MAX_TERM, "term of %u bytes", t->len);
    FUZZ_CHECK(t->term[t->len] == 0 && strlen(t->term) == t->len, "term not NUL-terminated at its length %u", t->len);
    FUZZ_CHECK(qa_utf8_valid(t->term, t->len), "term at byte %u is not valid UTF-8", t->start);
    FUZZ_CHECK(t->start < t->end && t->end <= s->len, "span [%u, %u) outside the text of %zu bytes",
               t->start, t->end, s->len);
    FUZZ_CHECK(t->start >= s->last_end, "span [%u, %u) before the previous end %u", t->start, t->end, s->last_end);
    FUZZ_CHECK(t->pos >= s->pos_base && (int64_t)t->pos > s->last_pos, "position %u after %lld",
               t->pos, (long long)s->last_pos);
    s->last_pos = t->pos;
    s->last_end = t->end;
    s->ntok++;
    return 0;
}

static void an_run(qa_analyzer *a, const char *text, size_t len, uint32_t base)
{
    an_state s = { text, len, base, (int64_t)base - 1, 0, 0 };
    uint32_t next = 0;
    int rc = qa_analyze(a, text, len, base, an_on_token, &s, &next);
    FUZZ_CHECK(rc == 0, "qa_analyze returned %d", rc);
    FUZZ_CHECK((int64_t)next > s.last_pos && next >= base, "next position %u not after the last %lld",
               next, (long long)s.last_pos);
    FUZZ_CHECK(next - base <= len, "%u positions in %zu bytes", next - base, len);
}

int fuzz_analyze(const uint8_t *data, size_t size)
{
    an_init();
    char *raw = malloc(size ? size : 1);
    if (!raw)
        return 0;
    if (size)
        memcpy(raw, data, size);

    qbuf clean;
    qbuf_init(&clean);
    size_t nrep = qa_utf8_clean(raw, size, &clean);
    if (clean.oom) {
        qbuf_free(&clean);
        free(raw);
        return 0;
    }
    /* an exact-size copy, so reads past the end are caught */
    char *text = malloc(clean.len ? clean.len : 1);
    if (!text) {
        qbuf_free(&clean);
        free(raw);
        return 0;
    }
    if (clean.len)
        memcpy(text, clean.p, clean.len);
    size_t len = clean.len;
    qbuf_free(&clean);

    FUZZ_CHECK(qa_utf8_valid(text, len), "qa_utf8_clean output of %zu bytes is not valid UTF-8", len);
    FUZZ_CHECK((nrep == 0) == (qa_utf8_valid(raw, size) != 0), "%zu replacements but validity %d",
               nrep, qa_utf8_valid(raw, size));
    FUZZ_CHECK(nrep != 0 || (len == size && memcmp(text, raw, size) == 0), "valid input changed by cleaning");
    FUZZ_CHECK(len <= 3 * size, "cleaning grew %zu bytes to %zu", size, len);
    qbuf again;
    qbuf_init(&again);
    size_t nrep2 = qa_utf8_clean(text, len, &again);
    FUZZ_CHECK(again.oom || (nrep2 == 0 && again.len == len && (len == 0 || memcmp(again.p, text, len) == 0)),
               "cleaning is not idempotent (%zu replacements)", nrep2);
    qbuf_free(&again);

    for (int i = 0; i < AN_N; i++) {
        an_run(an_list[i], text, len, i == 1 ? 1000 : 0);
        an_run(an_list[i], raw, size, 0);
    }
    free(text);
    free(raw);
    return 0;
}
