/*
 * read.h — readers of input documents: .txt files (one article each),
 * .jsonl / .jsonl.gz files (one {"id","title","text"[,"date"]} object per
 * line), directories (walked recursively, sorted byte-wise by path so the
 * result does not depend on directory order) and "-" (JSON Lines on stdin).
 *
 * The reader only parses; it does not check ids for duplicates (the writer
 * does) and does not skip empty documents (the writer counts them).
 * All strings it returns are valid UTF-8 (invalid sequences replaced by
 * U+FFFD and counted) and NUL-terminated.
 */
#ifndef QUARRY_READ_H
#define QUARRY_READ_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

#define QR_MAX_DOC (64u << 20)   /* a document (JSON line or .txt file) larger than this is an error */

typedef struct qr_doc {
    const char *id, *title, *text, *date;   /* title/date "" when absent */
    size_t id_len, title_len, text_len, date_len;
    const char *file;        /* path as given/walked, "-" for stdin */
    uint64_t line;           /* 1-based line for JSON Lines; 0 for .txt */
    size_t invalid_utf8;     /* sequences replaced in this document */
} qr_doc;

typedef struct qr_reader qr_reader;

/* Expands `paths` into the sorted list of input files. Files other than
 * .txt/.jsonl/.jsonl.gz met while walking a directory are ignored; named
 * explicitly they are an error (QUARRY_EINVAL: "PATH: not a .txt, .jsonl or
 * .jsonl.gz file"). A missing path is QUARRY_EIO naming it. */
int qr_open(const char *const *paths, size_t npaths, qr_reader **out, quarry_error *err);

/* Reads the next document into *doc (valid until the next call).
 * Returns 1 for a document, 0 at the end, or a negative quarry_code
 * (-QUARRY_EINPUT, -QUARRY_EIO, -QUARRY_ELIMIT, -QUARRY_ENOMEM) with `err`
 * naming file and line: malformed JSON (with the byte column), a missing or
 * non-string "id" or "text", a non-string "title"/"date", a line over
 * QR_MAX_DOC, a gzip stream that is damaged. */
int qr_next(qr_reader *r, qr_doc *doc, quarry_error *err);

/* The largest document (JSON line or .txt file) this reader takes, at
 * most QR_MAX_DOC (the default); a larger one is QUARRY_ELIMIT naming it. */
void qr_set_max_doc(qr_reader *r, size_t bytes);

uint64_t qr_bytes_total(const qr_reader *r);   /* sum of input file sizes (0 if stdin only) */
uint64_t qr_bytes_done(const qr_reader *r);    /* bytes of input files consumed so far (compressed for .gz) */
uint64_t qr_bytes_read(const qr_reader *r);    /* uncompressed bytes read so far */
/* Special files (FIFOs, devices, sockets) skipped in walked directories,
 * and the path of the first (NULL when none). */
uint64_t qr_special(const qr_reader *r, const char **example);
void qr_close(qr_reader *r);

/* Parses one JSON Lines record (exposed for tests and for quarry_writer_add):
 * fills doc fields pointing into `scratch`. Returns 0 or a quarry_code with
 * a message "WHERE:LINE: ..." (`where`, `line` name the place). */
int qr_parse_json_doc(const char *line, size_t len, const char *where, uint64_t lineno,
                      qbuf *scratch, qr_doc *doc, quarry_error *err);

/* Splits a plain-text article into date marker, title and text (DESIGN §2):
 * a leading "date YYYY-MM-DD" marker becomes the date and is removed from the
 * text; the title is the first line, or its first sentence when the first
 * line is a whole paragraph, cut at a word boundary to at most 80 bytes.
 * Pointers refer into `text` or `scratch`. */
void qr_split_txt(const char *text, size_t len, qbuf *scratch, qr_doc *doc);

#endif
