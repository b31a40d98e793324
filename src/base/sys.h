/*
 * sys.h — every system call and allocation of the library goes through
 * here (sys.c): the same signatures as libc's, prefixed qsys_ (files,
 * directories, maps, zlib's gz streams) and q (memory: qmalloc, qcalloc,
 * qrealloc). In a normal build they are libc's calls and nothing more.
 *
 * Built with -DQUARRY_FAULTS (the fault-injection build of the tests,
 * tests/fault/), each call can be made to fail: qsys_fault_arm(kind, n)
 * makes the n-th call of that kind from then on fail as the system would
 * (an I/O call returns its error value with errno EIO, or ENOSPC for a
 * write; an allocation, anonymous mmap included, returns NULL or
 * MAP_FAILED with ENOMEM), so that a test can fail
 * every call of an operation in turn and check what it leaves; and
 * qsys_crash_arm simulates a power loss at the n-th call.
 */
#ifndef QUARRY_SYS_H
#define QUARRY_SYS_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <zlib.h>

/* ------------------------------------------------------------ memory */

void *qmalloc(size_t n);
void *qcalloc(size_t n, size_t size);
void *qrealloc(void *p, size_t n);
/* zlib's allocator for the library's z_streams (zalloc / zfree) */
void *qsys_zalloc(void *opaque, unsigned items, unsigned size);
void qsys_zfree(void *opaque, void *p);
/* 1 when an allocation the library makes through another library's own
 * allocator (libdeflate's) must fail now, as qmalloc would: 0 always in a
 * normal build. */
int qsys_alloc_fails(void);

/* ------------------------------------------------------------ files */

int qsys_open(const char *path, int flags, mode_t mode);
int qsys_close(int fd);
ssize_t qsys_read(int fd, void *buf, size_t n);
ssize_t qsys_write(int fd, const void *buf, size_t n);
int qsys_fsync(int fd);
int qsys_fstat(int fd, struct stat *st);
int qsys_stat(const char *path, struct stat *st);
int qsys_rename(const char *from, const char *to);
int qsys_unlink(const char *path);
int qsys_mkdir(const char *path, mode_t mode);
int qsys_flock(int fd, int op);
void *qsys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int qsys_munmap(void *addr, size_t len);
DIR *qsys_opendir(const char *path);
struct dirent *qsys_readdir(DIR *d);
int qsys_closedir(DIR *d);

/* Gives the allocator's free memory back to the system where it can (a
 * phase that freed much, before one that needs memory of its own). */
void qsys_trim(void);
FILE *qsys_fopen(const char *path, const char *mode);
size_t qsys_fread(void *p, size_t size, size_t n, FILE *f);
size_t qsys_fwrite(const void *p, size_t size, size_t n, FILE *f);
int qsys_fflush(FILE *f);
int qsys_fclose(FILE *f);

gzFile qsys_gzdopen(int fd, const char *mode);
int qsys_gzread(gzFile f, void *buf, unsigned n);
int qsys_gzclose(gzFile f);

/* ------------------------------------------------------------ faults */

enum qsys_fault_kind { QSYS_FAULT_IO = 0, QSYS_FAULT_ALLOC = 1 };

#ifdef QUARRY_FAULTS
/* From now on, the n-th call of `kind` fails (n >= 1); n = 0 disarms. The
 * calls of each kind are counted from the arming on. */
void qsys_fault_arm(int kind, uint64_t n);
/* The calls of `kind` since it was last armed, and whether the armed
 * failure happened. */
uint64_t qsys_fault_calls(int kind);
int qsys_fault_fired(int kind);

/* A simulated power loss at the n-th I/O call from now on (n >= 1): every
 * file the library wrote since its last fsync (qsys_fsync) loses what was
 * written after it — cut off (mode 0), zeroed (1), kept (2), or each by
 * turns (3) — and the process ends with _exit(QSYS_CRASH_EXIT). Run it in a
 * child process (tests/fault/). */
#define QSYS_CRASH_EXIT 86
void qsys_crash_arm(uint64_t n, int mode);
#endif

#endif
