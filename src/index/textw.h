/*
 * textw.h — the writer of the compressed passage text (.text), textw.c.
 * Layout: index/FORMAT.md §text.
 */
#ifndef QUARRY_TEXTW_H
#define QUARRY_TEXTW_H

#include <stdint.h>

#include "base/base.h"
#include "index/format.h"

typedef struct qtw_writer {
    qf_writer f;
    qbuf lens, bytes;     /* the block being filled */
    uint32_t count, first_unit, nunits;
    qbuf dir;             /* per block: u64 offset, u32 clen, u32 ulen, u32 first_unit */
    qbuf raw;             /* an ordinary block gathered whole, for libdeflate */
    qbuf z;               /* compressed output */
    void *ld;             /* a libdeflate compressor kept for all ordinary blocks */
    void *zs;             /* a z_stream for a block with a huge unit (made when one comes) */
    int failed;
} qtw_writer;

int qtw_open(qtw_writer *t, const char *dir, uint64_t seg, quarry_error *err);
int qtw_add(qtw_writer *t, const char *s, size_t n);   /* the next unit's text */
/* The next units' texts as a block compressed already (copied from
 * another text store: `ulen` raw bytes holding `count` units). */
int qtw_add_block(qtw_writer *t, const uint8_t *z, uint32_t clen, uint32_t ulen, uint32_t count);
int qtw_finish(qtw_writer *t, uint64_t *size, uint32_t *crc, quarry_error *err);
void qtw_abort(qtw_writer *t);

/* libdeflate's decompressor for text blocks read back by a writer (the
 * text of deleted articles, to count their terms out; bench/pipeline.md
 * §3 times delete and update). New: NULL when out of memory. Inflate: 0
 * when `in` is exactly `clen` bytes of raw deflate that decompress to
 * exactly `ulen`. */
void *qtw_inflater_new(void);
int qtw_inflate(void *st, const uint8_t *in, size_t clen, uint8_t *out, size_t ulen);
void qtw_inflater_free(void *st);

#endif
