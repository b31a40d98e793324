/*
 * sys.c — the library's system calls and allocations (see sys.h), and in
 * the fault-injection build (-DQUARRY_FAULTS) the switch that fails the
 * n-th of them, and the simulated power loss (the files written since
 * their last fsync, and what happens to them). That switch and that table
 * are the library's only file-level state, and they exist only in that
 * build, which the tests use (tests/fault/).
 */
#define _GNU_SOURCE
#include "base/sys.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef QUARRY_FAULTS
#include <execinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

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

/* ---- crash simulation: the files written since their last fsync, and
 * what a power loss does to them */

typedef struct tracked {
    int fd;          /* -1 once closed */
    off_t synced;    /* bytes known to be on the disk */
    char path[512];
} tracked;

static tracked trk[256];
static size_t ntrk;
static pthread_mutex_t trk_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t crash_at;
static int crash_mode;

void qsys_crash_arm(uint64_t n, int mode)
{
    pthread_mutex_lock(&trk_mu);
    ntrk = 0;
    crash_mode = mode;
    pthread_mutex_unlock(&trk_mu);
    atomic_store(&fault_calls[QSYS_FAULT_IO], 0);
    atomic_store(&fault_at[QSYS_FAULT_IO], 0);
    atomic_store(&crash_at, n);
}

static void track_open(const char *path, int fd, off_t synced)
{
    pthread_mutex_lock(&trk_mu);
    size_t i = 0;
    while (i < ntrk && strcmp(trk[i].path, path) != 0)
        i++;
    if (i == ntrk && ntrk < sizeof trk / sizeof *trk)
        ntrk++;
    if (i < ntrk) {
        trk[i].fd = fd;
        trk[i].synced = synced;
        snprintf(trk[i].path, sizeof trk[i].path, "%s", path);
    }
    pthread_mutex_unlock(&trk_mu);
}

static void track_fd(int fd, int synced, int closed)
{
    pthread_mutex_lock(&trk_mu);
    for (size_t i = 0; i < ntrk; i++)
        if (trk[i].fd == fd) {
            struct stat st;
            if (synced && fstat(fd, &st) == 0)
                trk[i].synced = st.st_size;
            if (closed)
                trk[i].fd = -1;
        }
    pthread_mutex_unlock(&trk_mu);
}

static void track_path(const char *from, const char *to)   /* renamed, or unlinked (to NULL) */
{
    pthread_mutex_lock(&trk_mu);
    for (size_t i = 0; i < ntrk; i++)
        if (to && strcmp(trk[i].path, to) == 0)
            trk[i] = trk[--ntrk], i--;   /* replaced */
    for (size_t i = 0; i < ntrk; i++)
        if (strcmp(trk[i].path, from) == 0) {
            if (to)
                snprintf(trk[i].path, sizeof trk[i].path, "%s", to);
            else
                trk[i] = trk[--ntrk], i--;
        }
    pthread_mutex_unlock(&trk_mu);
}

/* The machine loses power: what was written to each file since its last
 * fsync is cut off (mode 0), zeroed (1), kept (2: the process is killed,
 * the page cache survives), or each of those by turns (3); then the
 * process ends at once with QSYS_CRASH_EXIT. */
static void crash(void)
{
    pthread_mutex_lock(&trk_mu);
    for (size_t i = 0; i < ntrk; i++) {
        struct stat st;
        if (stat(trk[i].path, &st) != 0 || st.st_size <= trk[i].synced)
            continue;
        int m = crash_mode == 3 ? (int)(i % 3) : crash_mode;
        if (m == 0) {
            if (truncate(trk[i].path, trk[i].synced) != 0)
                _exit(99);
        } else if (m == 1) {
            int fd = open(trk[i].path, O_WRONLY);
            static const char zero[4096];
            for (off_t o = trk[i].synced; fd >= 0 && o < st.st_size;) {
                size_t n = (size_t)(st.st_size - o) < sizeof zero ? (size_t)(st.st_size - o) : sizeof zero;
                if (pwrite(fd, zero, n, o) != (ssize_t)n)
                    _exit(99);
                o += (off_t)n;
            }
            if (fd >= 0)
                close(fd);
        }
    }
    _exit(QSYS_CRASH_EXIT);
}

/* Whether this call (of `kind`) is the one to fail. */
static int fault(int kind)
{
    uint64_t k = atomic_fetch_add(&fault_calls[kind], 1) + 1, at = atomic_load(&fault_at[kind]);
    if (kind == QSYS_FAULT_IO && atomic_load(&crash_at) == k)
        crash();
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

#ifdef QUARRY_FAULTS
#define TRACK_OPEN(path, fd, synced) track_open(path, fd, synced)
#define TRACK_FD(fd, synced, closed) track_fd(fd, synced, closed)
#define TRACK_PATH(from, to) track_path(from, to)
#else
#define TRACK_OPEN(path, fd, synced) ((void)0)
#define TRACK_FD(fd, synced, closed) ((void)0)
#define TRACK_PATH(from, to) ((void)0)
#endif

/* ------------------------------------------------------------ memory */

void *qmalloc(size_t n)
{
    FAIL_ALLOC();
    return malloc(n);
}

int qsys_alloc_fails(void)
{
#ifdef QUARRY_FAULTS
    return fault(QSYS_FAULT_ALLOC);
#else
    return 0;
#endif
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
#ifdef QUARRY_FAULTS
    struct stat st;
    off_t before = (flags & O_TRUNC) || stat(path, &st) != 0 ? 0 : st.st_size;
#endif
    int fd = open(path, flags, mode);
    if (fd >= 0 && (flags & (O_WRONLY | O_RDWR)))
        TRACK_OPEN(path, fd, before);
    return fd;
}

int qsys_close(int fd)
{
    TRACK_FD(fd, 0, 1);
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
    int rc = fsync(fd);
    if (rc == 0)
        TRACK_FD(fd, 1, 0);
    return rc;
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
    int rc = rename(from, to);
    if (rc == 0)
        TRACK_PATH(from, to);
    return rc;
}

int qsys_unlink(const char *path)
{
    FAIL_IO(EIO, -1);
    int rc = unlink(path);
    if (rc == 0)
        TRACK_PATH(path, NULL);
    return rc;
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
#ifdef QUARRY_FAULTS
    struct stat st;
    off_t before = mode[0] == 'w' || stat(path, &st) != 0 ? 0 : st.st_size;
#endif
    FILE *f = fopen(path, mode);
    if (f && (mode[0] != 'r' || strchr(mode, '+')))
        TRACK_OPEN(path, fileno(f), before);
    return f;
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
    TRACK_FD(fileno(f), 0, 1);
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

void qsys_trim(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
