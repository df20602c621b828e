/* segment.h: the exchange log's segment files: append-only records made durable with one fdatasync
 *
 * The durable form of the exchange log is a folder of segment files
 * (`<log>/segments/<first seq, 16 hex digits>.seg`). The writer appends the
 * records of a group commit with one write and makes them durable with one
 * fdatasync: that is the commit, and the only sync point on the answer's path.
 * The LMDB store beside them (entries by seq, the subject index, the tree's
 * nodes, checkpoints, consent counters) is written behind them and caught up
 * from them at start (exlog.c, docs/ARCHITECTURE.md "The exchange log").
 *
 * A file is a sequence of records, each
 *
 *   u32 size (little-endian): bytes of the body, 1..SEGMENT_RECORD_MAX
 *   u32 crc: CRC-32C (Castagnoli) of the four size bytes and the body
 *   body: u8 type, then the payload
 *
 * so a record torn by a crash (a short write, pages of it missing) fails its
 * check, and reading stops there: what follows it in that file is not part of
 * the log (recovery cuts it off). The first record of each file is a HEADER
 * naming its format version and the sequence number its name gives.
 *
 * Payloads (integers little-endian): see the SEGMENT_* types below; the
 * writer builds them (exlog.c) and recovery reads them (exlog-recover.c).
 *
 * Caveats: a Segment is used by one thread (the log writer). Files are
 * created with their folder synced, so a new file's name is durable before
 * any record in it is acknowledged.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "util/macro.h"

#define SEGMENT_VERSION 1
#define SEGMENT_RECORD_HEADER 8               /* size + crc */
#define SEGMENT_RECORD_MAX ((size_t)64 << 20) /* a body larger than this is damage, not a record */
#define SEGMENT_NAME_LEN 20                   /* 16 hex digits + ".seg" */
#define SEGMENT_PREALLOC ((uint64_t)8 << 20)  /* space allocated ahead of the records, at a time */

enum {
        SEGMENT_HEADER = 1,     /* u32 version, u64 first seq */
        SEGMENT_ENTRY = 2,      /* see exlog-internal.h (EntryRecord) */
        SEGMENT_CHECKPOINT = 3, /* u64 tree size, the signed note */
        SEGMENT_BASE = 4,       /* u64 next seq, u64 LMDB txnid, u32 page size, LMDB's two meta pages */
};

/* segment_crc32c(): CRC-32C of `n` bytes, continuing from `crc` (0 to start). */
uint32_t segment_crc32c(uint32_t crc, const void *data, size_t n);

/*
 * segment_record_begin()/segment_record_end(): build one record at the end of
 * a growing buffer. begin reserves the record's header and its type byte and
 * returns the record's offset in the buffer; the caller appends the payload
 * (segment_buf_put()); end fills in the size and the CRC.
 * Return: begin, the offset or -ENOMEM; end, 0 or -E2BIG.
 */
typedef struct SegmentBuf {
        uint8_t *data;
        size_t size, allocated;
} SegmentBuf;

int segment_buf_put(SegmentBuf *b, const void *data, size_t n);
int segment_buf_reserve(SegmentBuf *b, size_t n, uint8_t **ret);
long segment_record_begin(SegmentBuf *b, uint8_t type);
int segment_record_end(SegmentBuf *b, long offset);
void segment_buf_done(SegmentBuf *b);

/* The file being appended to. */
typedef struct Segment {
        int fd;             /* -1: none */
        const char *dir;    /* the segments folder (borrowed): files are opened by absolute path */
        int dir_fd;         /* the same folder, borrowed, to sync its entries */
        uint64_t first_seq; /* from its name */
        uint64_t durable;   /* bytes made durable by the last successful segment_sync() */
        uint64_t size;      /* bytes written */
        uint64_t allocated; /* the file's size: records end at `size`, zeros follow */
        bool no_prealloc;   /* the file system cannot allocate ahead (fallocate): plain appends */
        bool repair;        /* a write or sync failed: cut the file back to `durable` (and sync) before appending */
} Segment;

#define SEGMENT_NULL ((Segment){ .fd = -1, .dir_fd = -1 })

/*
 * segment_create(): create the file for `first_seq` in the folder `dir`
 * (`dir_fd` open on it; both borrowed), replacing one of that name (which
 * holds nothing durable: its records would have moved the sequence number
 * on), write its HEADER, sync it and the folder. Return: 0 or -errno.
 */
int segment_create(Segment *s, const char *dir, int dir_fd, uint64_t first_seq);

/*
 * segment_open(): continue the existing file `name` whose valid records end
 * at `valid_end` (recovery found where they end): cut what follows, sync.
 * Return: 0 or -errno.
 */
int segment_open(Segment *s, const char *dir, int dir_fd, const char *name, uint64_t first_seq, uint64_t valid_end);

/* segment_close(): close the file (nothing is synced). */
void segment_close(Segment *s);

/*
 * segment_finish(): before the next file begins: cut the space allocated
 * ahead and sync, so that only the last file of a log ends in anything but
 * whole records. Return: 0 or -errno.
 */
int segment_finish(Segment *s);

/*
 * segment_append(): write `n` bytes of whole records at the end, not durable
 * yet. Space is allocated ahead (SEGMENT_PREALLOC at a time, fallocate), so
 * that most appends overwrite allocated space and their fdatasync need not
 * commit the file's size as well (on ext4: no journal commit; measured, one
 * sync of an 800-byte append takes 2 to 3 times as long as one into
 * allocated space). A failed write is cut off again (segment_repair()).
 * Return: 0 or -errno.
 */
int segment_append(Segment *s, const void *data, size_t n);

/*
 * segment_sync(): one fdatasync: everything appended is durable. On failure
 * Linux forgets the pages it could not write, so what was not durable is cut
 * off (segment_repair()): it is written again, whole, or never.
 * Return: 0 or -errno.
 */
int segment_sync(Segment *s);

/*
 * segment_repair(): after a failed write or sync, cut the file back to its
 * durable size and sync that, so that a power loss cannot bring back records
 * that were never acknowledged. segment_append() calls it first while it
 * has not succeeded. Return: 0 or -errno.
 */
int segment_repair(Segment *s);

/*
 * Reading (recovery, tools): the files of a folder in order, and the records
 * of one file.
 */
typedef struct SegmentFile {
        uint64_t first_seq;
        char name[SEGMENT_NAME_LEN + 1];
} SegmentFile;

/*
 * segment_list(): the segment files in the folder `dir`, sorted by first
 * sequence number; other names are ignored. *ret is malloc'd (NULL when
 * none). Return: 0 or -errno.
 */
int segment_list(const char *dir, SegmentFile **ret, size_t *ret_n);

/* segment_remove(): delete the file `name` of `dir` (its records are all in the durable base). Return: 0 or -errno. */
int segment_remove(const char *dir, const char *name);

/* segment_name(): "<16 hex digits>.seg" for `first_seq` into `buf` (SEGMENT_NAME_LEN + 1 bytes). */
void segment_name(char buf[SEGMENT_NAME_LEN + 1], uint64_t first_seq);

/*
 * SegmentRecordFn: one valid record: its type, payload (valid during the
 * call) and where it ends in the file. Return: 0 to go on, > 0 to stop,
 * < 0 to fail the read with that value.
 */
typedef int (*SegmentRecordFn)(void *userdata, uint8_t type, const uint8_t *payload, size_t n, uint64_t end);

/*
 * segment_read(): call `fn` for every valid record of the file `name`, in
 * order, from its HEADER (checked against `first_seq`, not passed to `fn`)
 * to the first record that is torn or damaged, or the end of the file.
 * *ret_end is the offset just after the last valid record (0: not even a
 * valid HEADER).
 * Return: 0, what `fn` returned (> 0 stops early, < 0 fails), or -errno.
 */
int segment_read(const char *dir, const char *name, uint64_t first_seq, SegmentRecordFn fn, void *userdata,
                 uint64_t *ret_end);

/* Little-endian fields of a payload, read in bounds: a short payload gives -EBADMSG. */
typedef struct SegmentCursor {
        const uint8_t *p;
        size_t n;
} SegmentCursor;

int segment_get_u8(SegmentCursor *c, uint8_t *ret);
int segment_get_u16(SegmentCursor *c, uint16_t *ret);
int segment_get_u32(SegmentCursor *c, uint32_t *ret);
int segment_get_u64(SegmentCursor *c, uint64_t *ret);
int segment_get_bytes(SegmentCursor *c, size_t n, const uint8_t **ret);

int segment_put_u16(SegmentBuf *b, uint16_t v);
int segment_put_u32(SegmentBuf *b, uint32_t v);
int segment_put_u64(SegmentBuf *b, uint64_t v);
