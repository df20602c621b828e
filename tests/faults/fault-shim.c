/* fault-shim.c: an LD_PRELOAD library that models a machine crash and a failing disk under chosen files (tests only)
 *
 * Why: kill -9 only models a process crash; the kernel still holds every
 * write. A machine crash (power loss) keeps only what reached the disk: what
 * was written before the file's last completed fsync/fdatasync, and what was
 * written through an O_SYNC/O_DSYNC descriptor. This shim watches the files
 * named in XBUS_FAULT_FILES and keeps, per file, a journal of the disk's
 * bytes for every page written since it was last made durable
 * (fault-journal.h). After a kill -9, xbus-fault-restore writes those bytes
 * back and cuts the file to its size on the disk: the file is then what a
 * power loss would have left.
 *
 * The model, per 4 KiB page (Linux's behaviour since 4.13):
 *   - a write through a plain descriptor dirties the pages it touches; the
 *     disk keeps the bytes the page had before (captured at the first write);
 *   - a successful fsync or fdatasync of the file makes every dirty page and
 *     the file's size durable;
 *   - a write through an O_DSYNC/O_SYNC descriptor is durable when it returns
 *     (the whole page is written out, with whatever else was dirty in it);
 *   - a failed fsync drops the dirty pages: they stay different from the disk,
 *     and no later fsync writes them until they are written again ("lost").
 *
 * The exchange log (exchange/log/exlog.c) appends each group commit to a
 * segment file with pwrite and makes it durable with fdatasync; LMDB, behind
 * it (MDB_NOSYNC, no MDB_WRITEMAP), writes data and meta pages with pwrite and
 * lseek+writev on one descriptor and is synced with fdatasync at each base;
 * while it opens, before MDB_NOSYNC, it writes the meta page through a second
 * descriptor opened O_DSYNC. It maps data.mdb read-only. A writable shared
 * mapping of a watched file (MDB_WRITEMAP) cannot be followed here: the shim
 * aborts the process with a message rather than test nothing.
 *
 * Faults: XBUS_FAULT_CALL names the calls on the watched files that fail:
 *   fsync        fsync and fdatasync (with EIO: the dirty pages are lost, as above);
 *   write        every write (nothing is written);
 *   dsync-write  writes through an O_DSYNC/O_SYNC descriptor only (LMDB's meta page).
 * XBUS_FAULT_ACTION says how: `eio` (the default) returns EIO; `kill` kills the
 * process at that call, before it takes effect: a power loss at exactly that
 * point, once xbus-fault-restore has run. The fault fires while the file
 * XBUS_FAULT_TRIGGER exists (always, without it), once XBUS_FAULT_AFTER calls
 * of that kind went through meanwhile; with XBUS_FAULT_ONCE=1 it fires once, then removes
 * the trigger file, so the test can see it fired.
 *
 * Environment:
 *   XBUS_FAULT_FILES    ':'-separated paths; a file opened under a path equal
 *                       to one, or ending in '/' and one, is watched; a path
 *                       that ends in '/' names a folder (a relative one: any
 *                       folder of that name): every file opened directly in
 *                       it is watched (the log's segment files)
 *   XBUS_FAULT_PATH     the faults fire only on watched files whose path
 *                       contains this text (without it: on all of them)
 *   XBUS_FAULT_JOURNAL  folder for the journals (without it: counting and EIO only)
 *   XBUS_FAULT_STATS    file the counts (fault-shim.h) are written to at exit
 *   XBUS_FAULT_CALL, XBUS_FAULT_ACTION, XBUS_FAULT_TRIGGER, XBUS_FAULT_AFTER,
 *   XBUS_FAULT_ONCE     the faults, above
 *   XBUS_FAULT_LIE=1    a disk that lies: fsync, fdatasync and O_DSYNC writes
 *                       succeed but make nothing durable (for a test's control
 *                       run: it shows the power-loss check can fail)
 *
 * Limits: descriptors below 65,536; 8 watched files; dup/dup2/fcntl(F_DUPFD)
 * copies, fallocate and O_APPEND writes are not followed (LMDB uses none of
 * them on its data file). A journal that cannot be written aborts the process.
 *
 * An LD_PRELOAD library cannot be used with AddressSanitizer (its runtime must
 * come first), so meson builds this only without sanitizers.
 */
#undef _FILE_OFFSET_BITS /* define open, pwrite... themselves, not their *64 redirections */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fault-journal.h"
#include "fault-shim.h"

#define EXPORT __attribute__((visibility("default")))
#define FD_MAX 65536
#define FILES_MAX 8
#define PATTERNS_MAX 8
#define FD_DSYNC 0x80 /* in fd_tag: the descriptor was opened O_DSYNC or O_SYNC */

enum {
        FAULT_NONE,
        FAULT_FSYNC,
        FAULT_WRITE,
        FAULT_DSYNC_WRITE,
};

typedef struct Watched {
        dev_t dev;
        ino_t ino;
        bool faulty;        /* XBUS_FAULT_PATH (or its absence) chooses it for the faults */
        int read_fd;        /* our own descriptor, to read a page before it changes */
        int journal_fd;     /* -1 without XBUS_FAULT_JOURNAL */
        char *journal_path; /* NULL without XBUS_FAULT_JOURNAL */
        FaultJournal map;   /* pages whose disk bytes differ from the cache */
} Watched;

static struct {
        pthread_mutex_t lock;
        bool configured;
        char *patterns[PATTERNS_MAX];
        size_t n_patterns;
        const char *journal_dir;
        int call;  /* FAULT_* */
        bool kill; /* XBUS_FAULT_ACTION=kill */
        const char *trigger;
        const char *fault_path;
        bool once;
        bool fired;
        bool lie;
        uint64_t after;
        uint64_t calls; /* calls of the kind XBUS_FAULT_CALL names */
        const char *stats_path;
        Watched files[FILES_MAX];
        size_t n_files;
        XbusFaultStats stats;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* 0: not watched; otherwise (index in S.files + 1) | FD_DSYNC. */
static atomic_uchar fd_tag[FD_MAX];

#define REAL(name)                                                           \
        ({                                                                   \
                static __typeof__(name) *real_;                              \
                if (!real_)                                                  \
                        real_ = (__typeof__(name) *)dlsym(RTLD_NEXT, #name); \
                real_;                                                       \
        })

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
        va_list ap;

        fputs("xbus fault shim: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        abort();
}

static void configure(void)
{
        const char *files = getenv("XBUS_FAULT_FILES"), *call = getenv("XBUS_FAULT_CALL");
        const char *action = getenv("XBUS_FAULT_ACTION"), *v;

        S.configured = true;
        if (files && *files) {
                char *copy = strdup(files), *save = NULL;

                for (char *p = copy ? strtok_r(copy, ":", &save) : NULL; p && S.n_patterns < PATTERNS_MAX;
                     p = strtok_r(NULL, ":", &save))
                        S.patterns[S.n_patterns++] = p;
        }
        S.journal_dir = getenv("XBUS_FAULT_JOURNAL");
        S.stats_path = getenv("XBUS_FAULT_STATS");
        S.trigger = getenv("XBUS_FAULT_TRIGGER");
        S.fault_path = getenv("XBUS_FAULT_PATH");
        S.once = (v = getenv("XBUS_FAULT_ONCE")) && strcmp(v, "1") == 0;
        S.lie = (v = getenv("XBUS_FAULT_LIE")) && strcmp(v, "1") == 0;
        S.after = (v = getenv("XBUS_FAULT_AFTER")) ? strtoull(v, NULL, 10) : 0;
        if (!call || !*call)
                S.call = FAULT_NONE;
        else if (strcmp(call, "fsync") == 0)
                S.call = FAULT_FSYNC;
        else if (strcmp(call, "write") == 0)
                S.call = FAULT_WRITE;
        else if (strcmp(call, "dsync-write") == 0)
                S.call = FAULT_DSYNC_WRITE;
        else
                die("XBUS_FAULT_CALL='%s': want fsync, write or dsync-write", call);
        if (action && strcmp(action, "kill") == 0)
                S.kill = true;
        else if (action && *action && strcmp(action, "eio") != 0)
                die("XBUS_FAULT_ACTION='%s': want eio or kill", action);
}

static bool path_matches(const char *path)
{
        size_t n = strlen(path);

        for (size_t i = 0; i < S.n_patterns; i++) {
                size_t m = strlen(S.patterns[i]);

                if (strcmp(path, S.patterns[i]) == 0 ||
                    (n > m && path[n - m - 1] == '/' && strcmp(path + n - m, S.patterns[i]) == 0))
                        return true;
                /* a folder: the files directly in it */
                if (m > 0 && S.patterns[i][m - 1] == '/') {
                        const char *slash = strrchr(path, '/');
                        size_t dir = slash ? (size_t)(slash - path) + 1 : 0;

                        if (dir >= m && strncmp(path + dir - m, S.patterns[i], m) == 0 &&
                            (dir == m || path[dir - m - 1] == '/' || S.patterns[i][0] == '/'))
                                return true;
                }
        }
        return false;
}

/* Open (loading what a previous process left) or start the journal of `w`. Lock held. */
static void journal_open(Watched *w, const char *path, uint64_t size)
{
        char *name = fault_journal_name(path);
        int fd, r;

        if (!name || asprintf(&w->journal_path, "%s/%s", S.journal_dir, name) < 0)
                die("out of memory");
        free(name);
        fd = REAL(open)(w->journal_path, O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
                /* the page cache outlives the process: what it left is still not on the disk */
                r = fault_journal_load(&w->map, fd);
                if (r < 0)
                        die("cannot read the journal '%s': %s", w->journal_path, strerror(-r));
                REAL(close)(fd);
        } else if (errno == ENOENT) {
                w->map.disk_size = size;
                w->map.path = strdup(path);
                if (!w->map.path)
                        die("out of memory");
                fd = REAL(open)(w->journal_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0 || fault_journal_write_all(fd, &w->map) < 0)
                        die("cannot write the journal '%s': %m", w->journal_path);
                REAL(close)(fd);
        } else {
                die("cannot open the journal '%s': %m", w->journal_path);
        }
        w->journal_fd = REAL(open)(w->journal_path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (w->journal_fd < 0)
                die("cannot open the journal '%s': %m", w->journal_path);
}

/* Remember that `fd` is `path`, when it is a watched file. */
static void watch_fd(int fd, const char *path, int flags)
{
        struct stat st;
        size_t i;

        if (fd < 0 || fd >= FD_MAX)
                return;
        pthread_mutex_lock(&S.lock);
        if (!S.configured)
                configure();
        if (!path_matches(path) || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                pthread_mutex_unlock(&S.lock);
                return;
        }
        for (i = 0; i < S.n_files; i++)
                if (S.files[i].dev == st.st_dev && S.files[i].ino == st.st_ino)
                        break;
        if (i == S.n_files) {
                Watched *w = &S.files[i];

                if (i == FILES_MAX)
                        die("more than %d watched files", FILES_MAX);
                *w = (Watched){ .dev = st.st_dev,
                                .ino = st.st_ino,
                                .journal_fd = -1,
                                .faulty = !S.fault_path || strstr(path, S.fault_path) };
                w->read_fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
                if (w->read_fd < 0)
                        die("cannot read '%s': %m", path);
                if (S.journal_dir)
                        journal_open(w, path, (uint64_t)st.st_size);
                S.n_files++;
        }
        atomic_store(&fd_tag[fd], (unsigned char)((i + 1) | ((flags & O_DSYNC) ? FD_DSYNC : 0)));
        pthread_mutex_unlock(&S.lock);
}

static Watched *watched(int fd, bool *ret_dsync)
{
        unsigned char tag = fd >= 0 && fd < FD_MAX ? atomic_load(&fd_tag[fd]) : 0;

        if (!tag)
                return NULL;
        if (ret_dsync)
                *ret_dsync = tag & FD_DSYNC;
        return &S.files[(tag & ~FD_DSYNC) - 1];
}

/*
 * Should this call (kind FAULT_FSYNC or FAULT_WRITE) fail? With XBUS_FAULT_ACTION=kill
 * the process dies here, before the call takes effect. Lock held.
 */
static bool fault_fires(const Watched *w, int kind, bool dsync)
{
        bool match;

        if (!w->faulty)
                return false;
        switch (S.call) {
        case FAULT_FSYNC:
                match = kind == FAULT_FSYNC;
                break;
        case FAULT_WRITE:
                match = kind == FAULT_WRITE;
                break;
        case FAULT_DSYNC_WRITE:
                match = kind == FAULT_WRITE && dsync;
                break;
        default:
                match = false;
                break;
        }
        if (!match || (S.once && S.fired) || (S.trigger && access(S.trigger, F_OK) < 0))
                return false;
        if (++S.calls <= S.after)
                return false;
        S.fired = true;
        if (S.once && S.trigger)
                (void)unlink(S.trigger);
        if (S.kill)
                raise(SIGKILL);
        S.stats.eio++;
        return true;
}

static void journal_append(Watched *w, uint32_t type, uint64_t offset, const void *bytes, uint32_t len)
{
        int r;

        if (w->journal_fd < 0)
                return;
        r = fault_journal_append(w->journal_fd, type, offset, bytes, len);
        if (r < 0)
                die("cannot append to the journal '%s': %s", w->journal_path, strerror(-r));
}

/* Before a plain write of [offset, offset+len): keep the disk's bytes of each page it dirties. Lock held. */
static void pages_capture(Watched *w, uint64_t offset, uint64_t len)
{
        uint8_t page[FAULT_PAGE_SIZE];

        if (w->journal_fd < 0 || len == 0)
                return;
        for (uint64_t p = offset / FAULT_PAGE_SIZE * FAULT_PAGE_SIZE; p < offset + len; p += FAULT_PAGE_SIZE) {
                FaultPage *e = fault_journal_find(&w->map, p);
                ssize_t n;

                if (e) {
                        if (e->lost) {
                                e->lost = false;
                                journal_append(w, FAULT_JOURNAL_DIRTY, p, NULL, 0);
                        }
                        continue;
                }
                n = pread(w->read_fd, page, FAULT_PAGE_SIZE, (off_t)p);
                if (n < 0)
                        die("cannot read '%s' at %" PRIu64 ": %m", w->map.path, p);
                /* record first, then remember: a kill between the two leaves a record, never a write without one */
                journal_append(w, FAULT_JOURNAL_PAGE, p, page, (uint32_t)n);
                if (fault_journal_add(&w->map, p, page, (uint32_t)n) < 0)
                        die("out of memory");
        }
}

/* After a write through an O_DSYNC descriptor returned: its pages, and the size it needs, are on the disk. Lock held. */
static void pages_durable(Watched *w, uint64_t offset, uint64_t len)
{
        if (w->journal_fd < 0 || len == 0)
                return;
        for (uint64_t p = offset / FAULT_PAGE_SIZE * FAULT_PAGE_SIZE; p < offset + len; p += FAULT_PAGE_SIZE)
                if (fault_journal_find(&w->map, p)) {
                        journal_append(w, FAULT_JOURNAL_CLEAN, p, NULL, 0);
                        fault_journal_drop(&w->map, p);
                }
        if (offset + len > w->map.disk_size) {
                w->map.disk_size = offset + len;
                journal_append(w, FAULT_JOURNAL_SIZE, w->map.disk_size, NULL, 0);
        }
}

/* Rewrite the journal whole (after an fsync): write a new one, then rename it over the old. Lock held. */
static void journal_rewrite(Watched *w)
{
        char *tmp;
        int fd;

        if (w->journal_fd < 0)
                return;
        if (asprintf(&tmp, "%s.new", w->journal_path) < 0)
                die("out of memory");
        fd = REAL(open)(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || fault_journal_write_all(fd, &w->map) < 0 || rename(tmp, w->journal_path) < 0)
                die("cannot write the journal '%s': %m", w->journal_path);
        REAL(close)(w->journal_fd);
        w->journal_fd = fd;
        free(tmp);
        if (lseek(fd, 0, SEEK_END) < 0)
                die("cannot write the journal '%s': %m", w->journal_path);
}

typedef enum WriteKind {
        WRITE_AT,    /* pwrite */
        WRITE_HERE,  /* write */
        WRITEV_AT,   /* pwritev */
        WRITEV_HERE, /* writev */
} WriteKind;

/* A write of any kind on a watched descriptor: inject, capture, write, count. */
static ssize_t watched_write(Watched *w, bool dsync, WriteKind kind, int fd, const struct iovec *iov, int iovcnt,
                             off_t offset)
{
        uint64_t len = 0, pages;
        ssize_t n;
        int saved;

        for (int i = 0; i < iovcnt; i++)
                len += iov[i].iov_len;
        pthread_mutex_lock(&S.lock);
        if (fault_fires(w, FAULT_WRITE, dsync)) {
                pthread_mutex_unlock(&S.lock);
                errno = EIO;
                return -1;
        }
        if (kind == WRITE_HERE || kind == WRITEV_HERE)
                offset = REAL(lseek)(fd, 0, SEEK_CUR);
        if (offset < 0) {
                /* not seekable: not a regular file after all */
                saved = errno;
                pthread_mutex_unlock(&S.lock);
                errno = saved;
                return -1;
        }
        if (!dsync || S.lie)
                pages_capture(w, (uint64_t)offset, len);
        switch (kind) {
        case WRITE_AT:
                n = REAL(pwrite)(fd, iov[0].iov_base, iov[0].iov_len, offset);
                break;
        case WRITE_HERE:
                n = REAL(write)(fd, iov[0].iov_base, iov[0].iov_len);
                break;
        case WRITEV_AT:
                n = REAL(pwritev)(fd, iov, iovcnt, offset);
                break;
        default:
                n = REAL(writev)(fd, iov, iovcnt);
                break;
        }
        saved = errno;
        if (n > 0) {
                pages = ((uint64_t)offset + (uint64_t)n + FAULT_PAGE_SIZE - 1) / FAULT_PAGE_SIZE -
                        (uint64_t)offset / FAULT_PAGE_SIZE;
                S.stats.writes++;
                S.stats.bytes += (uint64_t)n;
                S.stats.pages += pages;
                if (dsync) {
                        S.stats.dsync_writes++;
                        if (!S.lie)
                                pages_durable(w, (uint64_t)offset, (uint64_t)n);
                }
        }
        pthread_mutex_unlock(&S.lock);
        errno = saved;
        return n;
}

static int watched_sync(Watched *w, int fd, bool data_only)
{
        struct stat st;
        int r, saved;

        pthread_mutex_lock(&S.lock);
        if (fault_fires(w, FAULT_FSYNC, false)) {
                /* the kernel marks the dirty pages clean although the disk never got them */
                for (size_t i = 0; i < w->map.n_pages; i++)
                        if (!w->map.pages[i].lost) {
                                w->map.pages[i].lost = true;
                                journal_append(w, FAULT_JOURNAL_LOST, w->map.pages[i].offset, NULL, 0);
                        }
                pthread_mutex_unlock(&S.lock);
                errno = EIO;
                return -1;
        }
        r = S.lie ? 0 : data_only ? REAL(fdatasync)(fd) : REAL(fsync)(fd);
        saved = errno;
        if (r == 0 && S.lie) {
                if (data_only)
                        S.stats.fdatasyncs++;
                else
                        S.stats.fsyncs++;
        } else if (r == 0) {
                if (data_only)
                        S.stats.fdatasyncs++;
                else
                        S.stats.fsyncs++;
                if (w->journal_fd >= 0) {
                        for (size_t i = 0; i < w->map.n_pages;)
                                if (!w->map.pages[i].lost)
                                        fault_journal_drop(&w->map, w->map.pages[i].offset);
                                else
                                        i++;
                        if (fstat(w->read_fd, &st) == 0)
                                w->map.disk_size = (uint64_t)st.st_size;
                        journal_rewrite(w);
                }
        }
        pthread_mutex_unlock(&S.lock);
        errno = saved;
        return r;
}

/* ---- the interposed calls ------------------------------------------------ */

static mode_t open_mode(int flags, va_list ap)
{
        return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
        va_list ap;
        mode_t mode;
        int fd;

        va_start(ap, flags);
        mode = open_mode(flags, ap);
        va_end(ap);
        fd = REAL(open)(path, flags, mode);
        watch_fd(fd, path, flags);
        return fd;
}

EXPORT int open64(const char *path, int flags, ...)
{
        va_list ap;
        mode_t mode;
        int fd;

        va_start(ap, flags);
        mode = open_mode(flags, ap);
        va_end(ap);
        fd = REAL(open64)(path, flags, mode);
        watch_fd(fd, path, flags);
        return fd;
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
        va_list ap;
        mode_t mode;
        int fd;

        va_start(ap, flags);
        mode = open_mode(flags, ap);
        va_end(ap);
        fd = REAL(openat)(dirfd, path, flags, mode);
        if (dirfd == AT_FDCWD || path[0] == '/')
                watch_fd(fd, path, flags);
        return fd;
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
        va_list ap;
        mode_t mode;
        int fd;

        va_start(ap, flags);
        mode = open_mode(flags, ap);
        va_end(ap);
        fd = REAL(openat64)(dirfd, path, flags, mode);
        if (dirfd == AT_FDCWD || path[0] == '/')
                watch_fd(fd, path, flags);
        return fd;
}

EXPORT int close(int fd)
{
        if (fd >= 0 && fd < FD_MAX)
                atomic_store(&fd_tag[fd], 0);
        return REAL(close)(fd);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
        bool dsync;
        Watched *w = watched(fd, &dsync);
        struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };

        return w ? watched_write(w, dsync, WRITE_HERE, fd, &iov, 1, 0) : REAL(write)(fd, buf, n);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset)
{
        bool dsync;
        Watched *w = watched(fd, &dsync);
        struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };

        return w ? watched_write(w, dsync, WRITE_AT, fd, &iov, 1, offset) : REAL(pwrite)(fd, buf, n, offset);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t offset)
{
        return pwrite(fd, buf, n, offset);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
        bool dsync;
        Watched *w = watched(fd, &dsync);

        return w ? watched_write(w, dsync, WRITEV_HERE, fd, iov, iovcnt, 0) : REAL(writev)(fd, iov, iovcnt);
}

EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset)
{
        bool dsync;
        Watched *w = watched(fd, &dsync);

        return w ? watched_write(w, dsync, WRITEV_AT, fd, iov, iovcnt, offset) : REAL(pwritev)(fd, iov, iovcnt, offset);
}

EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t offset)
{
        return pwritev(fd, iov, iovcnt, offset);
}

EXPORT int fsync(int fd)
{
        Watched *w = watched(fd, NULL);

        return w ? watched_sync(w, fd, false) : REAL(fsync)(fd);
}

EXPORT int fdatasync(int fd)
{
        Watched *w = watched(fd, NULL);

        return w ? watched_sync(w, fd, true) : REAL(fdatasync)(fd);
}

EXPORT int msync(void *addr, size_t len, int flags)
{
        pthread_mutex_lock(&S.lock);
        S.stats.msyncs++;
        pthread_mutex_unlock(&S.lock);
        return REAL(msync)(addr, len, flags);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
        if ((prot & PROT_WRITE) && (flags & MAP_SHARED) && watched(fd, NULL))
                die("a writable shared mapping of a watched file (MDB_WRITEMAP?): its writes cannot be followed");
        return REAL(mmap)(addr, len, prot, flags, fd, offset);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t offset)
{
        return mmap(addr, len, prot, flags, fd, offset);
}

EXPORT int ftruncate(int fd, off_t length)
{
        Watched *w = watched(fd, NULL);
        struct stat st;
        int r, saved;

        if (!w)
                return REAL(ftruncate)(fd, length);
        pthread_mutex_lock(&S.lock);
        /* a shrink changes the pages it cuts: keep what the disk has of them */
        if (length >= 0 && fstat(fd, &st) == 0 && st.st_size > length)
                pages_capture(w, (uint64_t)length, (uint64_t)(st.st_size - length));
        r = REAL(ftruncate)(fd, length);
        saved = errno;
        pthread_mutex_unlock(&S.lock);
        errno = saved;
        return r;
}

EXPORT int ftruncate64(int fd, off64_t length)
{
        return ftruncate(fd, length);
}

EXPORT void xbus_fault_stats(XbusFaultStats *ret)
{
        pthread_mutex_lock(&S.lock);
        *ret = S.stats;
        pthread_mutex_unlock(&S.lock);
}

__attribute__((destructor)) static void stats_write(void)
{
        XbusFaultStats s;
        FILE *f;

        if (!S.configured || !S.stats_path)
                return;
        xbus_fault_stats(&s);
        f = fopen(S.stats_path, "we");
        if (!f)
                return;
        fprintf(f,
                "writes=%" PRIu64 " bytes=%" PRIu64 " pages=%" PRIu64 " fsyncs=%" PRIu64 " fdatasyncs=%" PRIu64
                " dsync_writes=%" PRIu64 " msyncs=%" PRIu64 " eio=%" PRIu64 " sync_points=%" PRIu64 "\n",
                s.writes, s.bytes, s.pages, s.fsyncs, s.fdatasyncs, s.dsync_writes, s.msyncs, s.eio,
                xbus_fault_sync_points(&s));
        fclose(f);
}
