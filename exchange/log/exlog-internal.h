/* exlog-internal.h: the exchange log's state, shared by its pieces (writer, base and recovery, reader) */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "log/exlog.h"
#include "log/merkle.h"
#include "log/segment.h"

/*
 * ENTRY record payload (segment.h): u64 seq, u8 flags, then per flag
 * ENTRY_SUBJECT: 32 bytes, the subject pseudonym (by_subject index);
 * ENTRY_REVEALED: 32 bytes, a person the delivered answer names (indexed too);
 * ENTRY_CONSENT: u16 id length, the id, u64 uses after this one, u32 record
 * length, the record the use stored (length 0: none) (consent_use_replay());
 * then the entry's bytes, to the end of the payload.
 */
enum {
        ENTRY_SUBJECT = 1 << 0,
        ENTRY_REVEALED = 1 << 1,
        ENTRY_CONSENT = 1 << 2,
};

/* The LMDB side of one entry, as the writer and the recovery store it. */
typedef struct EntryRecord {
        uint64_t seq;
        uint8_t flags;
        const uint8_t *subject, *revealed; /* 32 bytes each, when flagged */
        const char *consent_id;            /* not NUL-terminated: consent_id_len */
        size_t consent_id_len;
        uint64_t consent_uses;
        const char *consent_record; /* NULL: none */
        size_t consent_record_len;
        const uint8_t *entry;
        size_t entry_len;
} EntryRecord;

/*
 * BASE record payload (segment.h): u64 next seq, u64 LMDB txnid, u64 first seq
 * of the segment file and u64 offset in it where the records the base does
 * not hold begin, u8 clean (written at close: nothing was committed after it),
 * u32 LMDB page size, then LMDB's two meta pages as the file held them.
 */
typedef struct BaseRecord {
        uint64_t next_seq, txnid, pos_first, pos_offset;
        uint8_t clean;
        uint32_t psize;
        const uint8_t *metas; /* 2 * psize bytes */
} BaseRecord;

/* The durable base (exlog-base.c): a state of LMDB known to be on the disk, which recovery goes back to. */
typedef enum BaseState {
        BASE_IDLE,    /* no base being made */
        BASE_SYNCING, /* captured; the syncer thread is making data.mdb durable */
        BASE_SYNCED,  /* data.mdb durable up to the capture: the writer may write the BASE record */
} BaseState;

typedef struct ExlogBase {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* the syncer waits for work, exlog_sync() for a durable base */
        pthread_t syncer;
        bool syncer_started;
        bool initialised;        /* the lock and cond exist */
        bool stop;               /* under lock */
        BaseState state;         /* under lock */
        bool wanted;             /* under lock: someone waits in exlog_sync() */
        bool failed;             /* under lock: data.mdb could not be made durable: no base is trusted until restart */
        uint64_t captured;       /* under lock: bases begun */
        uint64_t durable;        /* under lock: the number of the last base made durable */
        MDB_txn *pin;            /* writer: read transaction on the durable base (LMDB reuses none of its pages) */
        MDB_txn *pin_next;       /* writer: the same on the base being made */
        BaseRecord next;         /* writer: what was captured (next.metas points to metas) */
        uint8_t *metas;          /* writer: 2 * psize bytes */
        uint64_t removed_before; /* writer: segment files below this first seq are gone */
        uint64_t due;            /* writer: CLOCK_MONOTONIC usec of the next base */
} ExlogBase;

/* Where an entry of the batch being written lies in ExchangeLog.buf. */
typedef struct BatchSpan {
        size_t offset, len;
} BatchSpan;

struct ExchangeLog {
        MDB_env *env;
        MDB_dbi entries;
        MDB_dbi by_subject;
        MDB_dbi tree;        /* complete Merkle nodes: level(1) || index(8, BE) -> hash(32) */
        MDB_dbi checkpoints; /* tree size (8, BE) -> signed note */
        char *seg_dir;       /* <dir>/segments */
        int seg_dir_fd;
        int data_fd;              /* <dir>/data.mdb: its meta pages are read at each base, written back by recovery */
        Segment seg;              /* writer thread only: the file appended to */
        SegmentBuf buf;           /* writer thread only: the records of one commit */
        uint64_t checkpoint_size; /* writer thread only: size of the last checkpoint */
        uint64_t checkpoint_due;  /* writer thread only: monotonic usec */
        MerkleAppender merkle;    /* writer thread only: the right frontier */
        Mailbox queue;
        pthread_t thread;
        bool thread_started;
        atomic_bool stop;
        ExlogOptions opts;
        uint64_t next_seq;         /* writer thread only */
        uint64_t last_time;        /* writer thread only */
        int broken;                /* writer thread only: LMDB could not take a durable commit: -errno, until restart */
        atomic_uint_fast64_t size; /* committed entries */
        atomic_uint_fast64_t batches, failures, max_batch_seen;
        atomic_int last_result; /* of the last commit: 0 or -errno */
        ExlogBase base;
        /* writer thread only, with opts.receipt_signer: the batch's leaf hashes and where its entries are in buf */
        char *receipt_origin;
        uint8_t (*batch_leaves)[MERKLE_HASH_LEN]; /* max_batch of them */
        BatchSpan *batch_spans;                   /* max_batch of them */
};

/* exlog.c */
void exlog_tree_key(uint8_t key[9], unsigned level, uint64_t index);
int exlog_tree_get(void *userdata, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN]);
typedef struct TreeRead {
        MDB_txn *txn;
        MDB_dbi dbi;
} TreeRead;
/* Store entry `e` (entries, tree nodes from `merkle`, by_subject) in `txn`; its leaf hash into ret_leaf
 * unless NULL. Return: 0 or -errno. */
int exlog_store_entry(ExchangeLog *log, MDB_txn *txn, MerkleAppender *merkle, const EntryRecord *e, uint8_t *ret_leaf);
int exlog_env_open(MDB_env **ret, const char *dir, size_t map_size, unsigned flags);

/* exlog.c: make log->buf durable in the segment (one write, one fdatasync). Return: 0 or -errno. */
int exlog_segment_commit(ExchangeLog *log, bool may_rotate);

/* exlog-base.c */
int exlog_base_init(ExchangeLog *log);             /* at open: the lock; the syncer starts in exlog_base_start() */
int exlog_base_start(ExchangeLog *log);            /* start the syncer thread */
void exlog_base_stop(ExchangeLog *log);            /* stop it (the writer has stopped) */
void exlog_base_deinit(ExchangeLog *log);          /* at close: release the pins */
void exlog_base_step(ExchangeLog *log);            /* writer thread, between commits */
int exlog_base_make(ExchangeLog *log, bool clean); /* a durable base now, in this thread (open, close) */
int exlog_base_parse(const uint8_t *p, size_t n, BaseRecord *ret); /* a BASE payload. Return: 0 or -EBADMSG */

/*
 * exlog-receipt.c (writer thread, after a batch's durable sync): sign the
 * tree head of the batch of `n` records from `first` appended to the tree
 * `before`, and set each record's batch_receipt (log->batch_leaves and
 * batch_spans describe the batch). A record whose receipt cannot be made
 * gets NULL. Return: 0, or the -errno of a batch that got none.
 */
int exlog_receipts_make(ExchangeLog *log, const MerkleAppender *before, MailboxItem *first, unsigned n);

/* exlog-recover.c: at open: the segments, LMDB back to the last base, the records after it replayed. */
int exlog_recover(ExchangeLog *log, const char *dir);
