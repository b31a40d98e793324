/*
 * reader.c — qr_open / qr_next / qr_close: reads the input files that
 * walk.c lists, one document at a time.
 *
 * - .txt: the whole file is one document (at most QR_MAX_DOC bytes); id =
 *   file name without directory and ".txt"; date/title/text by
 *   qr_split_txt. A UTF-8 byte order mark is dropped.
 * - .jsonl, .jsonl.gz, "-": one JSON object per line (qr_parse_json_doc),
 *   read through one buffer that is reused for every line and file (the
 *   gzip stream through zlib's gzread). Lines holding only whitespace are
 *   skipped; a line over QR_MAX_DOC bytes is an error and is skipped.
 * Errors are not sticky: after one is returned, the next call goes on with
 * the next line (bad line), or with the next file (unreadable or damaged
 * file), so a caller may report and continue or stop.
 * Steady state allocates nothing per document: the line buffer, the decode
 * scratch and the .txt buffers only grow.
 */
#include "read/read.h"
#include "base/sys.h"
#include "read/walk.h"

#include "analyze/analyze.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define BUF_INIT (1u << 20)      /* first size of the line buffer */
#define MIN_READ (64u << 10)     /* read at least this much at a time */
#define BUF_MAX(r) ((r)->max_doc + 2 + MIN_READ)

struct qr_reader {
    qr_filelist files;
    size_t cur;              /* the file being read; files.n at the end */
    int open;                /* files.v[cur] is open (JSON Lines kinds) */
    int fd, own_fd;          /* own_fd: fd is to be closed (not stdin) */
    gzFile gz;
    int gz_checked;          /* gzdirect() has been asked */

    char *buf;               /* line buffer: unread data is buf[beg, end) */
    size_t cap, beg, end, scan;   /* scan: no '\n' in buf[beg, scan) */
    int eof, skipping;       /* skipping: discarding the rest of a too long line */
    uint64_t line;           /* lines of the current file read so far */
    uint64_t consumed;       /* uncompressed bytes of the current file used */

    uint64_t total, done_base, read_base;
    size_t max_doc;          /* bytes of the largest document (QR_MAX_DOC unless set) */
    qbuf scratch, raw, clean;
};

void qr_set_max_doc(qr_reader *r, size_t bytes)
{
    r->max_doc = bytes < 4096 ? 4096 : bytes > QR_MAX_DOC ? QR_MAX_DOC : bytes;
}

/* "12 MiB" / "512 KiB": the limit for messages */
static const char *limit_str(const qr_reader *r, char *buf, size_t n)
{
    if (r->max_doc >= (1u << 20))
        snprintf(buf, n, "%zu MiB", r->max_doc >> 20);
    else
        snprintf(buf, n, "%zu KiB", r->max_doc >> 10);
    return buf;
}

/* ------------------------------------------------------------- opening */

int qr_open(const char *const *paths, size_t npaths, qr_reader **out, quarry_error *err)
{
    if (npaths == 0)
        return qerr_set(err, QUARRY_EINVAL, "no input path given (name files, directories or '-')");
    qr_reader *r = qcalloc(1, sizeof *r);
    if (!r)
        return qerr_set(err, QUARRY_ENOMEM, "out of memory opening the input");
    r->fd = -1;
    r->max_doc = QR_MAX_DOC;
    int rc = qr_expand_paths(paths, npaths, &r->files, err);
    if (rc) {
        qr_close(r);
        return rc;
    }
    for (size_t i = 0; i < r->files.n; i++)
        r->total += r->files.v[i].size;
    *out = r;
    return 0;
}

void qr_close(qr_reader *r)
{
    if (!r)
        return;
    if (r->gz)
        qsys_gzclose(r->gz);
    else if (r->own_fd)
        qsys_close(r->fd);
    qr_filelist_free(&r->files);
    free(r->buf);
    qbuf_free(&r->scratch);
    qbuf_free(&r->raw);
    qbuf_free(&r->clean);
    free(r);
}

uint64_t qr_bytes_total(const qr_reader *r) { return r->total; }

uint64_t qr_bytes_done(const qr_reader *r)
{
    uint64_t cur = 0;
    if (r->open) {
        if (r->gz) {
            z_off_t off = gzoffset(r->gz);
            cur = off > 0 ? (uint64_t)off : 0;
        } else {
            cur = r->consumed;
        }
    }
    return r->done_base + cur;
}

uint64_t qr_special(const qr_reader *r, const char **example)
{
    if (example)
        *example = r->files.special ? r->files.special_example : NULL;
    return r->files.special;
}

uint64_t qr_bytes_read(const qr_reader *r) { return r->read_base + (r->open ? r->consumed : 0); }

/* Leaves the current file (whether it was opened or not) for the next. */
static void next_file(qr_reader *r)
{
    const qr_file *f = &r->files.v[r->cur];
    if (r->gz)
        qsys_gzclose(r->gz);
    else if (r->own_fd)
        qsys_close(r->fd);
    r->gz = NULL;
    r->fd = -1;
    r->own_fd = 0;
    uint64_t done = f->size;   /* compressed size for .gz */
    if (f->kind == QR_KIND_STDIN || (f->kind != QR_KIND_GZ && r->consumed > done))
        done = r->consumed;
    r->done_base += done;
    r->read_base += r->consumed;
    r->open = r->eof = r->skipping = r->gz_checked = 0;
    r->beg = r->end = r->scan = 0;
    r->line = r->consumed = 0;
    r->cur++;
}

static int open_stream(qr_reader *r, const qr_file *f, quarry_error *err)
{
    if (!r->buf) {
        if (!(r->buf = qmalloc(BUF_INIT)))
            return qerr_set(err, QUARRY_ENOMEM, "%s: out of memory for the read buffer", f->path);
        r->cap = BUF_INIT;
    }
    if (f->kind == QR_KIND_STDIN) {
        r->fd = 0;
    } else {
        r->fd = qsys_open(f->path, O_RDONLY | O_CLOEXEC, 0);
        if (r->fd < 0)
            return qerr_errno(err, "cannot open", f->path);
        r->own_fd = 1;
        if (f->kind == QR_KIND_GZ) {
            if (!(r->gz = qsys_gzdopen(r->fd, "rb"))) {
                qsys_close(r->fd);
                r->fd = -1;
                r->own_fd = 0;
                return qerr_set(err, QUARRY_ENOMEM, "%s: out of memory opening the gzip stream", f->path);
            }
            gzbuffer(r->gz, 256u << 10);
        }
    }
    r->open = 1;
    return 0;
}

/* ----------------------------------------------------------- reading */

/* Reads up to n bytes into dst: the count, 0 at the end, or a negative
 * quarry_code with the message set. */
static long read_some(qr_reader *r, char *dst, size_t n, quarry_error *err)
{
    const qr_file *f = &r->files.v[r->cur];
    if (n > (1u << 30))
        n = 1u << 30;
    if (r->gz) {
        int k = qsys_gzread(r->gz, dst, (unsigned)n);
        int zerr = Z_OK;
        const char *msg = gzerror(r->gz, &zerr);
        if (k < 0 || (k == 0 && zerr != Z_OK)) {
            if (zerr == Z_ERRNO)
                return -qerr_errno(err, "cannot read", f->path);
            if (zerr == Z_MEM_ERROR)
                return -qerr_set(err, QUARRY_ENOMEM, "%s: out of memory in zlib", f->path);
            return -qerr_set(err, QUARRY_EINPUT,
                             "%s:%llu: damaged gzip stream (%s); the file is truncated or corrupt, check it with gzip -t",
                             f->path, (unsigned long long)r->line + 1, msg && *msg ? msg : "read error");
        }
        if (k > 0 && !r->gz_checked) {
            r->gz_checked = 1;
            if (gzdirect(r->gz))
                return -qerr_set(err, QUARRY_EINPUT,
                                 "%s: not in gzip format (rename it to .jsonl if it is plain JSON Lines)", f->path);
        }
        return k;
    }
    ssize_t k;
    do
        k = qsys_read(r->fd, dst, n);
    while (k < 0 && errno == EINTR);
    if (k < 0)
        return -qerr_errno(err, "cannot read", f->path);
    return (long)k;
}

static int too_long(const qr_reader *r, size_t len, const char *buf_end)
{
    if (len && buf_end[-1] == '\r')
        len--;
    return len > r->max_doc;
}

/* The next line of the current stream, without its '\n'. Returns 1 for a
 * line, 0 at the end of the stream, 2 when a line longer than QR_MAX_DOC was
 * met (it is skipped), or a negative quarry_code (message set). */
static int next_line(qr_reader *r, const char **line, size_t *len, quarry_error *err)
{
    for (;;) {
        if (r->scan < r->end) {
            char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
            if (nl) {
                size_t b = r->beg, e = (size_t)(nl - r->buf);
                r->beg = r->scan = e + 1;
                r->consumed += e + 1 - b;
                if (r->skipping) {        /* the end of a line already reported */
                    r->skipping = 0;
                    continue;
                }
                *line = r->buf + b;
                *len = e - b;
                return too_long(r, *len, nl) ? 2 : 1;
            }
            r->scan = r->end;
        }
        if (r->skipping || r->end - r->beg > r->max_doc + 1) {
            int first = !r->skipping;
            r->consumed += r->end - r->beg;
            r->beg = r->end = r->scan = 0;
            r->skipping = 1;
            if (first)
                return 2;
        }
        if (r->eof) {
            if (r->beg < r->end) {   /* a last line without '\n' */
                *line = r->buf + r->beg;
                *len = r->end - r->beg;
                r->consumed += *len;
                r->beg = r->scan = r->end;
                return too_long(r, *len, r->buf + r->end) ? 2 : 1;
            }
            r->skipping = 0;
            return 0;
        }
        if (r->beg > 0) {
            memmove(r->buf, r->buf + r->beg, r->end - r->beg);
            r->end -= r->beg;
            r->scan -= r->beg;
            r->beg = 0;
        }
        if (r->cap - r->end < MIN_READ) {
            size_t cap = r->cap * 2 > BUF_MAX(r) ? BUF_MAX(r) : r->cap * 2;
            char *nb = qrealloc(r->buf, cap);
            if (!nb)
                return -qerr_set(err, QUARRY_ENOMEM, "%s:%llu: out of memory for a line of %zu bytes",
                                 r->files.v[r->cur].path, (unsigned long long)r->line + 1, r->end);
            r->buf = nb;
            r->cap = cap;
        }
        long k = read_some(r, r->buf + r->end, r->cap - r->end, err);
        if (k < 0)
            return (int)k;
        if (k == 0)
            r->eof = 1;
        else
            r->end += (size_t)k;
    }
}

/* Reads a whole .txt file as one document. */
static int read_txt(qr_reader *r, const qr_file *f, qr_doc *doc, quarry_error *err)
{
    int fd = qsys_open(f->path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return qerr_errno(err, "cannot open", f->path);
    struct stat st;
    size_t want = 0;
    if (qsys_fstat(fd, &st) == 0 && st.st_size > 0) {
        if ((uint64_t)st.st_size > r->max_doc) {
            char lim[32];
            qsys_close(fd);
            return qerr_set(err, QUARRY_ELIMIT,
                            "%s: larger than the %s limit of one document; split it, or raise --mem (the limit is an eighth of it)",
                            f->path, limit_str(r, lim, sizeof lim));
        }
        want = (size_t)st.st_size;
    }
    qbuf_reset(&r->raw);
    r->raw.oom = 0;
    int rc = 0;
    for (;;) {
        if (qbuf_reserve(&r->raw, (want > r->raw.len ? want - r->raw.len : 0) + 4096)) {
            rc = qerr_set(err, QUARRY_ENOMEM, "%s: out of memory reading the file", f->path);
            break;
        }
        ssize_t k = qsys_read(fd, r->raw.p + r->raw.len, r->raw.cap - r->raw.len - 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = qerr_errno(err, "cannot read", f->path);
            break;
        }
        if (k == 0)
            break;
        r->raw.len += (size_t)k;
        if (r->raw.len > r->max_doc) {
            char lim[32];
            rc = qerr_set(err, QUARRY_ELIMIT,
                          "%s: larger than the %s limit of one document; split it, or raise --mem (the limit is an eighth of it)",
                          f->path, limit_str(r, lim, sizeof lim));
            break;
        }
    }
    qsys_close(fd);
    r->consumed = r->raw.len;
    if (rc)
        return rc;

    /* valid UTF-8 without NUL bytes, NUL-terminated */
    const char *text = (const char *)r->raw.p;
    size_t len = r->raw.len, bad = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    if (!qa_utf8_valid(text, len)) {
        qbuf_reset(&r->clean);
        r->clean.oom = 0;
        bad = qa_utf8_clean(text, len, &r->clean);
        text = (const char *)r->clean.p;
        len = r->clean.len;
        qbuf_putc(&r->clean, 0);
        if (r->clean.oom)
            return qerr_set(err, QUARRY_ENOMEM, "%s: out of memory reading the file", f->path);
    } else {
        r->raw.p[r->raw.len] = 0;   /* reserved above */
    }

    /* id: the file name without directory and extension */
    const char *name = strrchr(f->path, '/');
    name = name ? name + 1 : f->path;
    size_t nlen = strlen(name);
    if (nlen >= 4)
        nlen -= 4;   /* ".txt" (walk.c only lists such names) */
    if (nlen == 0)
        return qerr_set(err, QUARRY_EINPUT, "%s: the file name gives an empty id; rename the file", f->path);
    qbuf_reset(&r->scratch);
    r->scratch.oom = 0;
    if (qa_utf8_valid(name, nlen))
        qbuf_append(&r->scratch, name, nlen);
    else
        bad += qa_utf8_clean(name, nlen, &r->scratch);
    size_t id_len = r->scratch.len;
    qbuf_putc(&r->scratch, 0);

    qr_split_txt(text, len, &r->scratch, doc);
    if (r->scratch.oom)
        return qerr_set(err, QUARRY_ENOMEM, "%s: out of memory reading the file", f->path);
    doc->id = (const char *)r->scratch.p;
    doc->id_len = id_len;
    doc->file = f->path;
    doc->line = 0;
    doc->invalid_utf8 = bad;
    return 0;
}

int qr_next(qr_reader *r, qr_doc *doc, quarry_error *err)
{
    for (;;) {
        if (r->cur >= r->files.n)
            return 0;
        const qr_file *f = &r->files.v[r->cur];
        if (f->kind == QR_KIND_TXT) {
            r->consumed = 0;
            int rc = read_txt(r, f, doc, err);
            next_file(r);
            return rc ? -rc : 1;
        }
        if (!r->open) {
            int rc = open_stream(r, f, err);
            if (rc) {
                next_file(r);
                return -rc;
            }
        }
        const char *line = NULL;
        size_t len = 0;
        int rc = next_line(r, &line, &len, err);
        if (rc == 0) {
            next_file(r);
            continue;
        }
        if (rc < 0) {   /* the rest of this file cannot be read */
            next_file(r);
            return rc;
        }
        r->line++;
        if (rc == 2) {
            char lim[32];
            return -qerr_set(err, QUARRY_ELIMIT,
                             "%s:%llu: line longer than the %s limit of one document; split it, or raise --mem (the limit is an eighth of it)",
                             f->path, (unsigned long long)r->line, limit_str(r, lim, sizeof lim));
        }
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i == len)
            continue;   /* an empty line */
        rc = qr_parse_json_doc(line, len, f->path, r->line, &r->scratch, doc, err);
        if (rc)
            return -rc;
        return 1;
    }
}
