/*
 * sys.c — the library's system calls and allocations (see sys.h), and in
 * the fault-injection build (-DQUARRY_FAULTS) the switch that fails the
 * n-th of them. That switch is the library's only file-level state, and
 * it exists only in that build, which the tests use (tests/fault/).
 */
#define _GNU_SOURCE
#include "base/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef QUARRY_FAULTS
#include <execinfo.h>
#include <stdatomic.h>

static _Atomic uint64_t fault_at[2], fault_calls[2];
static _Atomic int fault_fired[2];

void qsys_fault_arm(int kind, uint64_t n)
{
    atomic_store(&fault_calls[kind], 0);
    atomic_store(&fault_fired[kind], 0);
    atomic_store(&fault_at[kind], n);
}

uint64_t qsys_fault_calls(int kind) { return atomic_load(&fault_calls[kind]); }
int qsys_fault_fired(int kind) { return atomic_load(&fault_fired[kind]); }

/* Whether this call (of `kind`) is the one to fail. */
static int fault(int kind)
{
    uint64_t k = atomic_fetch_add(&fault_calls[kind], 1) + 1, at = atomic_load(&fault_at[kind]);
    if (at && k == at) {
        atomic_store(&fault_fired[kind], 1);
        if (getenv("QUARRY_FAULT_TRACE")) {   /* debugging a fault test: where the failure is */
            void *bt[32];
            backtrace_symbols_fd(bt, backtrace(bt, 32), 2);
        }
        return 1;
    }
    return 0;
}
#define FAIL_IO(err, value) \
    do {                    \
        if (fault(QSYS_FAULT_IO)) { \
            errno = (err);  \
            return value;   \
        }                   \
    } while (0)
#define FAIL_ALLOC()        \
    do {                    \
        if (fault(QSYS_FAULT_ALLOC)) \
            return NULL;    \
    } while (0)
#else
#define FAIL_IO(err, value) ((void)0)
#define FAIL_ALLOC() ((void)0)
#endif

/* ------------------------------------------------------------ memory */

void *qmalloc(size_t n)
{
    FAIL_ALLOC();
    return malloc(n);
}

void *qcalloc(size_t n, size_t size)
{
    FAIL_ALLOC();
    return calloc(n, size);
}

void *qrealloc(void *p, size_t n)
{
    FAIL_ALLOC();
    return realloc(p, n);
}

void *qsys_zalloc(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    FAIL_ALLOC();
    return calloc(items, size);
}

void qsys_zfree(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

/* ------------------------------------------------------------ files */

int qsys_open(const char *path, int flags, mode_t mode)
{
    FAIL_IO(EIO, -1);
    return open(path, flags, mode);
}

int qsys_close(int fd)
{
    int rc = close(fd);   /* the descriptor is released even when close fails */
    FAIL_IO(EIO, -1);
    return rc;
}

ssize_t qsys_read(int fd, void *buf, size_t n)
{
    FAIL_IO(EIO, -1);
    return read(fd, buf, n);
}

ssize_t qsys_write(int fd, const void *buf, size_t n)
{
    FAIL_IO(ENOSPC, -1);
    return write(fd, buf, n);
}

int qsys_fsync(int fd)
{
    FAIL_IO(EIO, -1);
    return fsync(fd);
}

int qsys_fstat(int fd, struct stat *st)
{
    FAIL_IO(EIO, -1);
    return fstat(fd, st);
}

int qsys_stat(const char *path, struct stat *st)
{
    FAIL_IO(EIO, -1);
    return stat(path, st);
}

int qsys_rename(const char *from, const char *to)
{
    FAIL_IO(EIO, -1);
    return rename(from, to);
}

int qsys_unlink(const char *path)
{
    FAIL_IO(EIO, -1);
    return unlink(path);
}

int qsys_mkdir(const char *path, mode_t mode)
{
    FAIL_IO(EIO, -1);
    return mkdir(path, mode);
}

int qsys_flock(int fd, int op)
{
    FAIL_IO(EIO, -1);
    return flock(fd, op);
}

void *qsys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
#ifdef QUARRY_FAULTS
    if (fault((flags & MAP_ANONYMOUS) ? QSYS_FAULT_ALLOC : QSYS_FAULT_IO)) {   /* anonymous: memory */
        errno = (flags & MAP_ANONYMOUS) ? ENOMEM : ENODEV;
        return MAP_FAILED;
    }
#endif
    return mmap(addr, len, prot, flags, fd, off);
}

int qsys_munmap(void *addr, size_t len) { return munmap(addr, len); }

DIR *qsys_opendir(const char *path)
{
    FAIL_IO(EIO, NULL);
    return opendir(path);
}

struct dirent *qsys_readdir(DIR *d) { return readdir(d); }
int qsys_closedir(DIR *d) { return closedir(d); }

FILE *qsys_fopen(const char *path, const char *mode)
{
    FAIL_IO(EIO, NULL);
    return fopen(path, mode);
}

size_t qsys_fread(void *p, size_t size, size_t n, FILE *f)
{
    FAIL_IO(EIO, 0);
    return fread(p, size, n, f);
}

size_t qsys_fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    FAIL_IO(ENOSPC, 0);
    return fwrite(p, size, n, f);
}

int qsys_fflush(FILE *f)
{
    FAIL_IO(ENOSPC, EOF);
    return fflush(f);
}

int qsys_fclose(FILE *f)
{
    int rc = fclose(f);   /* the stream is released even when it fails */
    FAIL_IO(ENOSPC, EOF);
    return rc;
}

gzFile qsys_gzdopen(int fd, const char *mode)
{
    FAIL_IO(EIO, NULL);
    return gzdopen(fd, mode);
}

int qsys_gzread(gzFile f, void *buf, unsigned n)
{
    FAIL_IO(EIO, -1);
    return gzread(f, buf, n);
}

int qsys_gzclose(gzFile f) { return gzclose(f); }
