/*
 * manifest.c — reading, atomically replacing and garbage-collecting around
 * the MANIFEST of an index directory (see manifest.h).
 */
#include "index/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "index/format.h"

int qm_read(const char *dir, qm_manifest *m, quarry_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, QF_MANIFEST);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) {
            struct stat st;
            if (stat(dir, &st) != 0)
                return qerr_set(err, QUARRY_ENOTFOUND, "%s: no such index directory (build one with 'quarry index -o %s PATH...')", dir, dir);
            return qerr_set(err, QUARRY_ENOTFOUND, "%s: no index here (no MANIFEST; build one with 'quarry index -o %s PATH...')", dir, dir);
        }
        return qerr_errno(err, "cannot open", path);
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int big = !feof(f);
    fclose(f);
    if (big)
        return qerr_corrupt(err, path, sizeof buf - 1, "manifest is too large");
    buf[n] = 0;
    memset(m, 0, sizeof *m);
    char *crcline = strstr(buf, "\ncrc ");
    if (strncmp(buf, QF_MANIFEST_MAGIC "\n", strlen(QF_MANIFEST_MAGIC) + 1) != 0)
        return qerr_set(err, QUARRY_EFORMAT, "%s: not a quarry manifest of version 1", path);
    if (!crcline)
        return qerr_corrupt(err, path, n, "manifest has no checksum line");
    unsigned long want;
    if (sscanf(crcline + 5, "%8lx", &want) != 1)
        return qerr_corrupt(err, path, (uint64_t)(crcline - buf), "bad checksum line");
    uint32_t got = (uint32_t)crc32(0L, (const Bytef *)buf, (uInt)(crcline - buf + 1));
    if (got != (uint32_t)want)
        return qerr_corrupt(err, path, 0, "manifest checksum mismatch");
    if ((size_t)(crcline - buf) + 14 != n)   /* "\ncrc XXXXXXXX\n" ends the file */
        return qerr_corrupt(err, path, (uint64_t)(crcline - buf) + 1, "unexpected bytes after the checksum line");
    char *line = buf + strlen(QF_MANIFEST_MAGIC) + 1;
    unsigned gen = 0;
    if (sscanf(line, "generation %u", &gen) != 1 || gen == 0)
        return qerr_corrupt(err, path, (uint64_t)(line - buf), "bad generation line");
    m->generation = gen;
    line = strchr(line, '\n') + 1;
    while (line < crcline + 1) {
        char name[64];
        unsigned long long size;
        unsigned long crc;
        if (m->nfiles == QM_MAX_FILES ||
            sscanf(line, "file %63s %llu %8lx", name, &size, &crc) != 3 || strchr(name, '/'))
            return qerr_corrupt(err, path, (uint64_t)(line - buf), "bad file line");
        snprintf(m->files[m->nfiles].name, sizeof m->files[0].name, "%s", name);
        m->files[m->nfiles].size = size;
        m->files[m->nfiles].crc = (uint32_t)crc;
        m->nfiles++;
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return 0;
}

int qm_write(const char *dir, const qm_manifest *m, quarry_error *err)
{
    qbuf b;
    qbuf_init(&b);
    qbuf_printf(&b, "%s\ngeneration %u\n", QF_MANIFEST_MAGIC, m->generation);
    for (size_t i = 0; i < m->nfiles; i++)
        qbuf_printf(&b, "file %s %llu %08lx\n", m->files[i].name,
                    (unsigned long long)m->files[i].size, (unsigned long)m->files[i].crc);
    uint32_t c = b.oom ? 0 : (uint32_t)crc32(0L, b.p, (uInt)b.len);
    qbuf_printf(&b, "crc %08lx\n", (unsigned long)c);
    if (b.oom) {
        qbuf_free(&b);
        return qerr_set(err, QUARRY_ENOMEM, "out of memory");
    }
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, QF_MANIFEST);
    snprintf(path, sizeof path, "%s/%s", dir, QF_MANIFEST);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        qbuf_free(&b);
        return qerr_errno(err, "cannot create", tmp);
    }
    int ok = write(fd, b.p, b.len) == (ssize_t)b.len && fsync(fd) == 0;
    int e = errno;
    close(fd);
    qbuf_free(&b);
    if (!ok) {
        unlink(tmp);
        errno = e;
        return qerr_errno(err, "cannot write", tmp);
    }
    if (rename(tmp, path) != 0) {
        int rc = qerr_errno(err, "cannot rename into place", path);
        unlink(tmp);
        return rc;
    }
    qf_sync_dir(dir);
    return 0;
}

void qm_cleanup(const char *dir, uint32_t keep)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        unsigned g;
        char ext[8];
        int stale = 0;
        if (sscanf(e->d_name, "g%6u.%7s", &g, ext) == 2 && strlen(e->d_name) == 12 && g != keep)
            stale = 1;
        if (strncmp(e->d_name, ".run-", 5) == 0)
            stale = 1;
        if (stale) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
}
