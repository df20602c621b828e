/* fault-journal.c: read and write the fault shim's power-loss journal (tests only; format in fault-journal.h) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fault-journal.h"

#define PATH_LEN_MAX 4096U

typedef struct RecordHead {
        uint32_t type;
        uint32_t len;
        uint64_t offset;
} RecordHead;

char *fault_journal_name(const char *path)
{
        size_t n = strlen(path);
        char *name = malloc(n + sizeof(FAULT_JOURNAL_SUFFIX));

        if (!name)
                return NULL;
        for (size_t i = 0; i < n; i++)
                name[i] = path[i] == '/' ? '%' : path[i];
        memcpy(name + n, FAULT_JOURNAL_SUFFIX, sizeof(FAULT_JOURNAL_SUFFIX));
        return name;
}

/* Read exactly `n` bytes. Return: 1 read, 0 end of file (or a cut record), -errno. */
static int read_full(int fd, void *buf, size_t n)
{
        size_t got = 0;

        while (got < n) {
                ssize_t k = read(fd, (char *)buf + got, n - got);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                got += (size_t)k;
        }
        return 1;
}

static int write_full(int fd, const struct iovec *iov, int n)
{
        size_t want = 0;
        ssize_t k;

        for (int i = 0; i < n; i++)
                want += iov[i].iov_len;
        do
                k = writev(fd, iov, n);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        /* regular files: a short write means the disk is full */
        return (size_t)k == want ? 0 : -ENOSPC;
}

FaultPage *fault_journal_find(FaultJournal *j, uint64_t offset)
{
        for (size_t i = 0; i < j->n_pages; i++)
                if (j->pages[i].offset == offset)
                        return &j->pages[i];
        return NULL;
}

int fault_journal_add(FaultJournal *j, uint64_t offset, const void *bytes, uint32_t len)
{
        FaultPage *p;

        if (len > FAULT_PAGE_SIZE)
                return -EINVAL;
        if (j->n_pages == j->n_alloc) {
                size_t n = j->n_alloc ? j->n_alloc * 2 : 64;
                FaultPage *np = realloc(j->pages, n * sizeof(*np));

                if (!np)
                        return -ENOMEM;
                j->pages = np;
                j->n_alloc = n;
        }
        p = &j->pages[j->n_pages];
        *p = (FaultPage){ .offset = offset, .len = len, .bytes = malloc(len ? len : 1) };
        if (!p->bytes)
                return -ENOMEM;
        memcpy(p->bytes, bytes, len);
        j->n_pages++;
        return 0;
}

void fault_journal_drop(FaultJournal *j, uint64_t offset)
{
        FaultPage *p = fault_journal_find(j, offset);

        if (!p)
                return;
        free(p->bytes);
        *p = j->pages[--j->n_pages];
}

void fault_journal_free(FaultJournal *j)
{
        for (size_t i = 0; i < j->n_pages; i++)
                free(j->pages[i].bytes);
        free(j->pages);
        free(j->path);
        *j = (FaultJournal){ 0 };
}

int fault_journal_load(FaultJournal *j, int fd)
{
        char magic[8];
        uint32_t path_len;
        uint8_t page[FAULT_PAGE_SIZE];
        RecordHead h;
        int r;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        if (read_full(fd, magic, sizeof(magic)) != 1 || memcmp(magic, FAULT_JOURNAL_MAGIC, sizeof(magic)) != 0 ||
            read_full(fd, &j->disk_size, sizeof(j->disk_size)) != 1 ||
            read_full(fd, &path_len, sizeof(path_len)) != 1 || path_len == 0 || path_len > PATH_LEN_MAX)
                return -EBADMSG;
        j->path = calloc(1, path_len + 1U);
        if (!j->path)
                return -ENOMEM;
        if (read_full(fd, j->path, path_len) != 1)
                return -EBADMSG;
        for (;;) {
                r = read_full(fd, &h, sizeof(h));
                if (r <= 0)
                        return r;
                if (h.len > FAULT_PAGE_SIZE)
                        return -EBADMSG;
                r = read_full(fd, page, h.len);
                if (r <= 0)
                        return r;
                switch (h.type) {
                case FAULT_JOURNAL_PAGE:
                        /* the first capture since the page was last clean holds the disk's bytes */
                        if (!fault_journal_find(j, h.offset)) {
                                r = fault_journal_add(j, h.offset, page, h.len);
                                if (r < 0)
                                        return r;
                        }
                        break;
                case FAULT_JOURNAL_CLEAN:
                        fault_journal_drop(j, h.offset);
                        break;
                case FAULT_JOURNAL_SIZE:
                        j->disk_size = h.offset;
                        break;
                case FAULT_JOURNAL_LOST:
                case FAULT_JOURNAL_DIRTY: {
                        FaultPage *p = fault_journal_find(j, h.offset);

                        if (p)
                                p->lost = h.type == FAULT_JOURNAL_LOST;
                        break;
                }
                default:
                        return -EBADMSG;
                }
        }
}

int fault_journal_append(int fd, uint32_t type, uint64_t offset, const void *bytes, uint32_t len)
{
        RecordHead h = { .type = type, .len = len, .offset = offset };
        struct iovec iov[2] = { { .iov_base = &h, .iov_len = sizeof(h) },
                                { .iov_base = (void *)bytes, .iov_len = len } };

        return write_full(fd, iov, len ? 2 : 1);
}

int fault_journal_write_all(int fd, const FaultJournal *j)
{
        uint32_t path_len = (uint32_t)strlen(j->path);
        struct iovec iov[4] = {
                { .iov_base = (void *)FAULT_JOURNAL_MAGIC, .iov_len = 8 },
                { .iov_base = (void *)&j->disk_size, .iov_len = sizeof(j->disk_size) },
                { .iov_base = &path_len, .iov_len = sizeof(path_len) },
                { .iov_base = j->path, .iov_len = path_len },
        };
        int r = write_full(fd, iov, 4);

        for (size_t i = 0; r == 0 && i < j->n_pages; i++) {
                r = fault_journal_append(fd, FAULT_JOURNAL_PAGE, j->pages[i].offset, j->pages[i].bytes,
                                         j->pages[i].len);
                if (r == 0 && j->pages[i].lost)
                        r = fault_journal_append(fd, FAULT_JOURNAL_LOST, j->pages[i].offset, NULL, 0);
        }
        return r;
}
