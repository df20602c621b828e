/* test-util.h: helpers shared by the unit tests (temp folders, files, commands, fake backends' threads) */
#pragma once

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/macro.h"

extern char **environ;

/* A fresh private folder under $TMPDIR (or /tmp); malloc'd path. */
static inline char *test_tmpdir(const char *what)
{
        const char *base = getenv("TMPDIR");
        char *p = NULL;
        int n = asprintf(&p, "%s/xbus-test-%s-XXXXXX", isempty(base) ? "/tmp" : base, what);

        /* the work outside assert(): it must happen whether or not assertions are on */
        assert(n > 0);
        if (!mkdtemp(p))
                abort();
        return p;
}

static inline int test_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static inline void test_rm_rf(const char *path)
{
        (void)nftw(path, test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *test_path(const char *dir, const char *name)
{
        char *p = NULL;

        assert(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

static inline void test_write_file(const char *path, const void *data, size_t size, mode_t mode)
{
        int fd;

        (void)unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        assert(fd >= 0);
        assert(fchmod(fd, mode) == 0);
        assert(write(fd, data, size) == (ssize_t)size);
        assert(close(fd) == 0);
}

/* The whole file (NUL-terminated) or NULL if it cannot be read. */
static inline char *test_read_file(const char *path, size_t *ret_size)
{
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        if (!f)
                return NULL;
        assert(fseek(f, 0, SEEK_END) == 0);
        n = ftell(f);
        assert(n >= 0);
        rewind(f);
        buf = malloc((size_t)n + 1);
        assert(buf);
        assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
        buf[n] = '\0';
        fclose(f);
        if (ret_size)
                *ret_size = (size_t)n;
        return buf;
}

/* Run argv (searched in $PATH) with stdout and stderr to /dev/null; its exit status, or -1. */
static inline int test_run(char *const argv[])
{
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int status;

        assert(posix_spawn_file_actions_init(&fa) == 0);
        assert(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) == 0);
        assert(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) == 0);
        assert(posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) == 0);
        if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -1;
        }
        posix_spawn_file_actions_destroy(&fa);
        assert(waitpid(pid, &status, 0) == pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline double test_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * test_thread_block_sigpipe(): for the threads of a test's fake backends.
 * They write with plain write()/writev() (libevent does too), and such a write
 * to a connection the code under test has already closed raises SIGPIPE, which
 * kills the whole test: that happened in test-rest, now and then, when the
 * forwarder dropped an over-long answer while the backend was still sending it. A
 * server program ignores SIGPIPE (xbusd and the sample backend do); the test's
 * backends block it in their own threads only, so that a SIGPIPE raised by the
 * code under test on the main thread still kills the test.
 */
static inline void test_thread_block_sigpipe(void)
{
        sigset_t s;
        int r;

        sigemptyset(&s);
        sigaddset(&s, SIGPIPE);
        r = pthread_sigmask(SIG_BLOCK, &s, NULL);
        assert(r == 0);
        (void)r;
}
