/* fault-restore.c: xbus-fault-restore, turn watched files into what a power loss leaves (tests only)
 *
 * Usage: xbus-fault-restore [--torn SEED] JOURNAL_DIR
 *
 * For each journal the fault shim left in JOURNAL_DIR (fault-journal.h), with
 * the process that wrote it dead (kill -9): write the disk's bytes back into
 * every page that was not durable, cut the file to its size on the disk,
 * fsync it, and remove the journal. Prints one line per file.
 *
 * --torn SEED: writeback may have reached the disk for some pages before the
 * power went: each page not durable keeps its newest bytes or gets the disk's
 * back, at random (xorshift from SEED, printed so a failure can be replayed).
 * The file then keeps its size when a kept page lies past the disk size;
 * pages past it that are not kept read as zeros, as a file extended by the
 * kernel but not written would.
 *
 * Exit status: 0 done (also when there was nothing to restore), 1 on error, 2 on bad usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault-journal.h"

static uint64_t rnd(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static int pwrite_full(int fd, const void *buf, size_t n, uint64_t offset)
{
        size_t done = 0;

        while (done < n) {
                ssize_t k = pwrite(fd, (const char *)buf + done, n - done, (off_t)(offset + done));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                done += (size_t)k;
        }
        return 0;
}

/* Restore one file from its journal. torn: NULL, or the random state. Return: 0 or -errno. */
static int restore_file(const FaultJournal *j, uint64_t *torn)
{
        static const uint8_t zeros[FAULT_PAGE_SIZE];
        unsigned restored = 0, kept = 0;
        uint64_t size = j->disk_size, end_kept = 0;
        bool *keep = calloc(j->n_pages + 1, sizeof(bool));
        struct stat st;
        int fd, r = 0;

        if (!keep)
                return -ENOMEM;
        fd = open(j->path, O_RDWR | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                goto finish;
        }
        for (size_t i = 0; i < j->n_pages; i++) {
                keep[i] = torn && (rnd(torn) & 1);
                if (keep[i] && j->pages[i].offset + FAULT_PAGE_SIZE > end_kept)
                        end_kept = j->pages[i].offset + FAULT_PAGE_SIZE;
        }
        /* the file keeps its size only when a page past the disk size survived */
        if (end_kept > size)
                size = (uint64_t)st.st_size;
        for (size_t i = 0; r == 0 && i < j->n_pages; i++) {
                const FaultPage *p = &j->pages[i];

                if (keep[i]) {
                        kept++;
                        continue;
                }
                restored++;
                if (p->offset >= size)
                        continue;
                if (p->offset < j->disk_size)
                        r = pwrite_full(fd, p->bytes, p->len, p->offset);
                /* what the page had beyond the disk's bytes was never on the disk */
                if (r == 0 && p->offset + p->len < size) {
                        uint64_t from = p->offset < j->disk_size ? p->offset + p->len : p->offset;
                        uint64_t to = p->offset + FAULT_PAGE_SIZE < size ? p->offset + FAULT_PAGE_SIZE : size;

                        if (to > from)
                                r = pwrite_full(fd, zeros, (size_t)(to - from), from);
                }
        }
        if (r == 0 && ftruncate(fd, (off_t)size) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0)
                printf("%s: %u pages given back their disk bytes, %u kept, size %" PRIu64 " -> %" PRIu64 "\n", j->path,
                       restored, kept, (uint64_t)st.st_size, size);
finish:
        if (fd >= 0)
                close(fd);
        free(keep);
        return r;
}

int main(int argc, char **argv)
{
        uint64_t seed = 0, state;
        const char *dir;
        struct dirent *de;
        DIR *d;
        int ret = 0;

        if (argc == 4 && strcmp(argv[1], "--torn") == 0) {
                seed = strtoull(argv[2], NULL, 10);
                dir = argv[3];
        } else if (argc == 2 && argv[1][0] != '-') {
                dir = argv[1];
        } else {
                fprintf(stderr, "usage: xbus-fault-restore [--torn SEED] JOURNAL_DIR\n");
                return 2;
        }
        state = seed * 2654435761ULL + 88172645463325252ULL;
        d = opendir(dir);
        if (!d) {
                fprintf(stderr, "xbus-fault-restore: cannot open '%s': %m\n", dir);
                return 1;
        }
        if (argc == 4)
                printf("torn writeback, seed %" PRIu64 "\n", seed);
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name), m = strlen(FAULT_JOURNAL_SUFFIX);
                FaultJournal j = { 0 };
                int fd, r;

                if (n <= m || strcmp(de->d_name + n - m, FAULT_JOURNAL_SUFFIX) != 0)
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
                r = fd < 0 ? -errno : fault_journal_load(&j, fd);
                if (fd >= 0)
                        close(fd);
                if (r == 0)
                        r = restore_file(&j, argc == 4 ? &state : NULL);
                if (r == 0 && unlinkat(dirfd(d), de->d_name, 0) < 0)
                        r = -errno;
                if (r < 0) {
                        fprintf(stderr, "xbus-fault-restore: %s: %s\n", de->d_name, strerror(-r));
                        ret = 1;
                }
                fault_journal_free(&j);
        }
        closedir(d);
        return ret;
}
