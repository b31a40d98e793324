/*
 * fuzz_json.c — fuzz harness of the JSON Lines record parser
 * (qr_parse_json_doc, src/read/json.c): the input is one line, in a buffer
 * of exactly its size (so any read past the end is caught). A record that
 * parses must give id and text, and every field valid, NUL-free UTF-8 of
 * the length it claims; one that does not must give an input error with a
 * message naming the place.
 */
#include <string.h>

#include "fuzz.h"
#include "quarry.h"
#include "analyze/analyze.h"
#include "read/read.h"

static void json_check_field(const char *what, const char *s, size_t len)
{
    FUZZ_CHECK(s != NULL, "%s is NULL", what);
    FUZZ_CHECK(s[len] == 0, "%s is not NUL-terminated at its length %zu", what, len);
    FUZZ_CHECK(strlen(s) == len, "%s has an embedded NUL (strlen %zu, len %zu)", what, strlen(s), len);
    FUZZ_CHECK(qa_utf8_valid(s, len), "%s is not valid UTF-8", what);
}

int fuzz_json(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);
    if (!line)
        return 0;
    if (size)
        memcpy(line, data, size);
    qbuf scratch;
    qbuf_init(&scratch);
    qr_doc doc;
    memset(&doc, 0, sizeof doc);
    quarry_error err;
    memset(&err, 0, sizeof err);
    int rc = qr_parse_json_doc(line, size, "fuzz.jsonl", 7, &scratch, &doc, &err);
    if (rc == 0) {
        json_check_field("id", doc.id, doc.id_len);
        json_check_field("title", doc.title, doc.title_len);
        json_check_field("text", doc.text, doc.text_len);
        json_check_field("date", doc.date, doc.date_len);
    } else {
        FUZZ_CHECK(rc == QUARRY_EINPUT || rc == QUARRY_ELIMIT || rc == QUARRY_ENOMEM,
                   "unexpected code %d: %s", rc, err.msg);
        FUZZ_CHECK(err.code == rc, "err.code %d differs from the return %d", err.code, rc);
        FUZZ_CHECK(strncmp(err.msg, "fuzz.jsonl:7:", 13) == 0, "message does not name the place: %s", err.msg);
        FUZZ_CHECK(strchr(err.msg, '\n') == NULL, "message is not one line: %s", err.msg);
    }
    qbuf_free(&scratch);
    free(line);
    return 0;
}
