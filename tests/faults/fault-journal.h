/* fault-journal.h: what a file's disk holds that its page cache no longer shows (the fault shim's journal; tests only)
 *
 * The fault shim (fault-shim.c) keeps one journal per tracked file under
 * XBUS_FAULT_JOURNAL, named fault_journal_name(path). It records, page by page
 * (4 KiB), how the file on the disk (what survives a power loss) differs from
 * the file in the page cache (what every process sees):
 *
 *   header:  "XBFAULT1" (8 bytes) | disk size (u64) | path length (u32) | path
 *   records: type (u32) | length (u32) | offset (u64) | length bytes
 *     FAULT_JOURNAL_PAGE   offset = page start; the bytes are the page as it is on
 *                          the disk (shorter than a page when the file ended inside it)
 *     FAULT_JOURNAL_CLEAN  offset = page start; the page reached the disk (a write
 *                          through an O_DSYNC descriptor): forget its entry
 *     FAULT_JOURNAL_SIZE   offset = the file's size on the disk from now on
 *     FAULT_JOURNAL_LOST   offset = page start; an fsync failed while the page was
 *                          dirty: the kernel dropped it, so no later fsync writes it
 *     FAULT_JOURNAL_DIRTY  offset = page start; a lost page was written again: the
 *                          next fsync writes it
 *
 * Numbers are in host byte order (written and read on one machine). A record
 * cut short by a kill is ignored when loading: the shim appends a record
 * before the write it describes, so the write did not happen either.
 * xbus-fault-restore (fault-restore.c) applies a journal: it writes every
 * page back, truncates the file to the disk size, and removes the journal.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAULT_PAGE_SIZE 4096U
#define FAULT_JOURNAL_MAGIC "XBFAULT1"
#define FAULT_JOURNAL_SUFFIX ".journal"

enum {
        FAULT_JOURNAL_PAGE = 1,
        FAULT_JOURNAL_CLEAN = 2,
        FAULT_JOURNAL_SIZE = 3,
        FAULT_JOURNAL_LOST = 4,
        FAULT_JOURNAL_DIRTY = 5,
};

typedef struct FaultPage {
        uint64_t offset; /* page start, a multiple of FAULT_PAGE_SIZE */
        uint32_t len;    /* bytes of the page the disk holds (the file may end inside the page) */
        bool lost;       /* a failed fsync dropped it: only a new write makes it dirty again */
        uint8_t *bytes;  /* the disk's bytes (owned) */
} FaultPage;

typedef struct FaultJournal {
        char *path;         /* the tracked file (owned) */
        uint64_t disk_size; /* its size on the disk */
        FaultPage *pages;   /* pages whose disk bytes differ from the cache (owned), unordered */
        size_t n_pages;
        size_t n_alloc;
} FaultJournal;

/*
 * fault_journal_name(): the journal's file name for the tracked file `path`
 * (the path with '/' as '%', then FAULT_JOURNAL_SUFFIX), malloc'd.
 * Return: the name, or NULL when out of memory.
 */
char *fault_journal_name(const char *path);

/*
 * fault_journal_load(): replay the journal in `fd` (read from its start) into
 * `j`, which must be zeroed. On failure `j` may hold part of it: free it.
 * Return: 0, -EBADMSG (not a journal), or -errno.
 */
int fault_journal_load(FaultJournal *j, int fd);

/* fault_journal_find(): the entry of the page that starts at `offset`, or NULL. Owned by `j`. */
FaultPage *fault_journal_find(FaultJournal *j, uint64_t offset);

/* fault_journal_add(): remember `len` disk bytes of the page at `offset` (copied). Return: 0 or -ENOMEM. */
int fault_journal_add(FaultJournal *j, uint64_t offset, const void *bytes, uint32_t len);

/* fault_journal_drop(): forget the page at `offset` (it reached the disk), if it is there. */
void fault_journal_drop(FaultJournal *j, uint64_t offset);

/* fault_journal_free(): free what `j` holds and zero it. */
void fault_journal_free(FaultJournal *j);

/*
 * fault_journal_write_all(): write `j` whole to `fd` (header, then one
 * FAULT_JOURNAL_PAGE record per page, FAULT_JOURNAL_LOST after a lost one),
 * from the descriptor's position.
 * Return: 0 or -errno.
 */
int fault_journal_write_all(int fd, const FaultJournal *j);

/* fault_journal_append(): append one record to `fd`. Return: 0 or -errno. */
int fault_journal_append(int fd, uint32_t type, uint64_t offset, const void *bytes, uint32_t len);
