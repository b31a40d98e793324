/*
 * txt.c — qr_split_txt: turns a plain-text article into date, title and
 * text (DESIGN §2).
 *
 * - Date: a leading "date YYYY-MM-DD" marker (after optional whitespace;
 *   "date" in any case, optionally followed by ':') is the article's date;
 *   the marker and the whitespace after it are removed from the text.
 * - Title: the first non-blank line of the (remaining) text. When that line
 *   is a whole paragraph — longer than 80 bytes, or ending with a sentence
 *   mark after an earlier sentence end — the title is its first sentence
 *   (qp_sentence_end, so "U.S." or "Mr." do not end it). A title longer than
 *   80 bytes is cut at the last space within its first 80 bytes (never inside
 *   a UTF-8 character); this matches how the shared seeds collection titled
 *   the sample articles.
 */
#include "read/read.h"

#include "passage/sentence.h"

#define TITLE_MAX 80

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Length of a "date YYYY-MM-DD" marker at t (with the date at *date), or 0. */
static size_t match_date(const unsigned char *t, size_t n, size_t *date)
{
    if (n < 5 || (t[0] | 0x20) != 'd' || (t[1] | 0x20) != 'a' || (t[2] | 0x20) != 't' || (t[3] | 0x20) != 'e')
        return 0;
    size_t i = 4;
    if (i < n && t[i] == ':')
        i++;
    size_t sp = i;
    while (i < n && (t[i] == ' ' || t[i] == '\t'))
        i++;
    if (i == sp && t[sp - 1] != ':')
        return 0;
    if (n - i < 10)
        return 0;
    const unsigned char *d = t + i;
    for (int k = 0; k < 10; k++)
        if (k == 4 || k == 7 ? d[k] != '-' : !is_digit(d[k]))
            return 0;
    int month = (d[5] - '0') * 10 + (d[6] - '0'), day = (d[8] - '0') * 10 + (d[9] - '0');
    if (month < 1 || month > 12 || day < 1 || day > 31)
        return 0;
    if (n - i > 10 && !is_space(d[10]))
        return 0;
    *date = i;
    return i + 10;
}

/* `end` moved back over trailing whitespace, not before `start`. */
static size_t trim_end(const unsigned char *t, size_t start, size_t end)
{
    while (end > start && is_space(t[end - 1]))
        end--;
    return end;
}

void qr_split_txt(const char *text, size_t len, qbuf *scratch, qr_doc *doc)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t i = 0;
    while (i < len && is_space(t[i]))
        i++;

    /* the date marker */
    size_t body = 0, date_at = 0, date_len = 0, dpos;
    size_t m = match_date(t + i, len - i, &dpos);
    if (m) {
        date_at = i + dpos;
        date_len = 10;
        body = i + m;
        while (body < len && is_space(t[body]))
            body++;
    }

    /* the first non-blank line */
    size_t ls = body;
    while (ls < len && is_space(t[ls]))
        ls++;
    size_t le = ls;
    const unsigned char *nl = ls < len ? memchr(t + ls, '\n', len - ls) : NULL;
    le = nl ? (size_t)(nl - t) : len;
    le = trim_end(t, ls, le);
    size_t n = le - ls;

    /* its first sentence, when the line is a paragraph */
    size_t first_end = le, last_mark = 0;
    int several = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = t[ls + k];
        if (c != '.' && c != '!' && c != '?')
            continue;
        int strong = 0;
        size_t next = qp_sentence_end((const char *)t + ls, n, k, &strong);
        if (!next)
            continue;
        if (next == n) {
            last_mark = 1;   /* the line ends with a sentence mark */
            break;
        }
        if (strong && first_end == le) {
            first_end = trim_end(t, ls, ls + next);
            several = 1;
        }
    }
    size_t ts = ls, te = le;
    if (n > TITLE_MAX || (several && last_mark))
        te = first_end;
    if (te - ts > TITLE_MAX) {
        size_t lim = TITLE_MAX;
        while (lim > 0 && (t[ts + lim] & 0xC0) == 0x80)
            lim--;                                 /* a character boundary */
        size_t cut = lim;
        while (cut > 0 && t[ts + cut - 1] != ' ' && t[ts + cut - 1] != '\t')
            cut--;
        te = cut > 0 ? trim_end(t, ts, ts + cut) : ts + lim;
        if (te == ts)
            te = ts + lim;
    }

    /* copy title and date NUL-terminated; text points into `text` */
    size_t toff = scratch->len;
    qbuf_append(scratch, t + ts, te - ts);
    qbuf_putc(scratch, 0);
    size_t doff = scratch->len;
    qbuf_append(scratch, t + date_at, date_len);
    qbuf_putc(scratch, 0);
    if (scratch->oom) {   /* keep the document usable without title/date */
        doc->title = doc->date = "";
        doc->title_len = doc->date_len = 0;
    } else {
        doc->title = (const char *)scratch->p + toff;
        doc->title_len = te - ts;
        doc->date = (const char *)scratch->p + doff;
        doc->date_len = date_len;
    }
    doc->text = text + body;
    doc->text_len = len - body;
}
