/* exlog.h: the exchange log (LMDB, one writer thread, group commit)
 *
 * One entry per exchange and per refused request. The caller renders the
 * entry's fields as a JSON object ("{...}", keys in a fixed order); the
 * writer assigns the sequence number (0, 1, 2, ... without gaps) and the time
 * (non-decreasing) and stores exactly these bytes:
 *
 *   {"v":1,"seq":<n>,"time":"<RFC 3339 UTC>",<the caller's fields>}
 *
 * Those bytes are the entry: the Merkle leaf is SHA-256(0x00 || bytes), and
 * auditors receive them unchanged.
 *
 * Durability: records are appended by one writer thread in batches. A batch
 * is written to the log's segment file and made durable with one fdatasync
 * (segment.h), then stored in LMDB (visible to readers) without a sync of its
 * own; LMDB is made durable behind the segments and caught up from them at
 * start (exlog.c). A record is posted back to its reply_to mailbox only after
 * its batch is durable and visible (result 0) or failed (result -errno: the
 * caller must not acknowledge the exchange).
 */
#pragma once

#include <stdint.h>

#include <lmdb.h>

#include "consent/consent.h"
#include "crypto/pseudonym.h"
#include "crypto/signer.h"
#include "log/exlog-entry.h"
#include "util/macro.h"
#include "util/mailbox.h"

#define EXLOG_FORMAT_VERSION 1

typedef struct ExchangeLog ExchangeLog;

typedef struct CheckpointSigner CheckpointSigner;

typedef struct ExlogOptions {
        size_t map_size;                     /* LMDB map size (bytes); default 16 GiB */
        const CheckpointSigner *checkpoints; /* signs checkpoints (its name is the origin), or NULL */
        unsigned checkpoint_interval_ms;     /* default 10 s; also one at close */
        unsigned max_batch;                  /* entries per transaction; default 1024 */
        size_t queue_capacity;               /* records waiting for the writer; default 65536 */
        size_t segment_size;                 /* a segment file is full at this size; default 64 MiB */
        unsigned base_interval_ms;           /* how often LMDB is made durable behind the segments; default 1 s */
        /*
         * Receipts of one signature per group commit (issue 14, lever 3;
         * log/batch-receipt.h), not on by default: when set, the writer signs
         * one tree head per batch after its sync and gives each record a
         * receipt "<head>~<entry>~<path>" (ExlogRecord.batch_receipt). The
         * head's origin is receipt_origin, or the checkpoint signer's name;
         * one of them must be set.
         */
        const Signer *receipt_signer;
        const char *receipt_origin; /* copied at exlog_open() */
} ExlogOptions;

typedef struct ExlogRecord {
        MailboxItem item;  /* item.kind is the caller's; the writer leaves it alone */
        Mailbox *reply_to; /* where the record is posted when done */
        const char *body;  /* "{...}" (the caller owns it; must outlive the append) */
        size_t body_size;
        char subject[PSEUDONYM_HEX_LEN + 1];  /* subject pseudonym for the index, "" when none */
        char revealed[PSEUDONYM_HEX_LEN + 1]; /* a person the answer names: indexed too (not on a refusal) */
        /*
         * A consent whose use is counted inside the entry's own transaction, so that of
         * two racing exchanges only one can use a single-use consent (consent_use()).
         * When the use is refused (used up, revoked, expired meanwhile), the writer
         * stores the refusal variant of `entry` instead of `body` (exlog-entry.h), and
         * the caller must withhold the answer. consent_id NULL: nothing to count.
         */
        ConsentStore *consents;
        const char *consent_id;
        const ExlogEntry *entry; /* the fields `body` was rendered from (valid until posted back) */
        /* Set by the writer before posting back: */
        int result;         /* 0 durable, -errno not logged */
        int consent_result; /* 0, or the reason the consent's use was refused (CONSENT_E_*) */
        uint64_t seq;
        uint64_t time_usec; /* CLOCK_REALTIME of the entry */
        /*
         * With ExlogOptions.receipt_signer, on success: the record's receipt
         * under its batch's signed tree head (malloc'd; the caller owns and
         * frees it). NULL otherwise, and when it could not be made (out of
         * memory, a failed signature, an entry over BATCH_RECEIPT_ENTRY_MAX):
         * the entry is durable all the same. exlog_append() sets it to NULL.
         */
        char *batch_receipt;
} ExlogRecord;

/*
 * exlog_open(): open (creating) the log under `dir` and start the writer.
 * Return: 0 or -errno.
 */
int exlog_open(ExchangeLog **ret, const char *dir, const ExlogOptions *opts);

/* exlog_close(): write what is queued, stop the writer, close. NULL in, NULL out. */
ExchangeLog *exlog_close(ExchangeLog *log);

/*
 * exlog_append(): queue a record (ownership of `rec` passes to the writer
 * until it is posted back to rec->reply_to). Thread-safe.
 * Return: 0, -EAGAIN (queue full: refuse the exchange), -EINVAL (body not an object).
 */
int exlog_append(ExchangeLog *log, ExlogRecord *rec);

/* exlog_size(): entries committed so far (the next sequence number). */
uint64_t exlog_size(ExchangeLog *log);

typedef struct ExlogStats {
        uint64_t entries;
        uint64_t batches;
        uint64_t failures;
        uint64_t max_batch_seen;
        uint64_t bases; /* bases of LMDB made durable since open (exlog-base.c) */
} ExlogStats;
void exlog_stats(ExchangeLog *log, ExlogStats *ret);
/* exlog_last_result(): how the last commit ended: 0 (or none yet), or its -errno (/health). Thread-safe. */
int exlog_last_result(ExchangeLog *log);
/* exlog_base_failed(): whether data.mdb could not be made durable since the start: no new base
 * until a restart, so consent changes (which wait for a base) fail (/health). Thread-safe. */
bool exlog_base_failed(ExchangeLog *log);

/*
 * Reading (another process, or the same one through its own reader): a
 * read-only view of a log folder.
 */
typedef struct ExlogReader ExlogReader;

int exlog_reader_open(ExlogReader **ret, const char *dir);
/*
 * exlog_reader_new(): a reader over a log this process has open (LMDB allows
 * one environment per file per process). It must be closed before the log.
 * Readers are cheap; each call uses its own read-only transaction.
 */
int exlog_reader_new(ExlogReader **ret, ExchangeLog *log);
/*
 * exlog_env(): the LMDB environment of an open log, for modules that keep
 * their own databases beside the entries (consents), so that their writes
 * can join the log's group-committed transactions. Owned by the log. Its
 * commits do not sync (MDB_NOSYNC): a module that commits a transaction of
 * its own must call exlog_sync() before it reports the change as done.
 */
MDB_env *exlog_env(ExchangeLog *log);

/*
 * exlog_sync(): wait until everything committed to exlog_env() before the
 * call is durable: the next base (exlog-base.c: the writer wakes, data.mdb
 * and then the segment are synced; a few milliseconds, more when much is
 * waiting to be written). Thread-safe; never from the writer thread.
 * Return: 0, or -EIO (LMDB could not be made durable and will not be until
 * the node restarts: entries stay durable through the segments, but other
 * writes to the environment are not).
 */
int exlog_sync(ExchangeLog *log);
ExlogReader *exlog_reader_close(ExlogReader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ExlogReader *, exlog_reader_close);
/* exlog_reader_size(): entries in the log now. Return: 0 or -errno. */
int exlog_reader_size(ExlogReader *r, uint64_t *ret);
/*
 * exlog_reader_get(): a malloc'd, NUL-terminated copy of entry `seq`.
 * Return: 0, -ENOENT, or -errno.
 */
int exlog_reader_get(ExlogReader *r, uint64_t seq, char **ret, size_t *ret_size);

/*
 * The Merkle tree over the entries (RFC 9162; leaf = SHA-256(0x00 || entry bytes)).
 * exlog_reader_root(): the root of the first `size` entries.
 * exlog_reader_inclusion_proof(): the audit path of entry `index` in the tree of `size`.
 * exlog_reader_consistency_proof(): the proof that tree `size1` is a prefix of tree `size2`.
 * Proof buffers hold MERKLE_PROOF_MAX (65) hashes.
 * Return: 0, a positive MERKLE_E_* for bad arguments, or -errno (-ENOENT: not that many entries).
 */
int exlog_reader_root(ExlogReader *r, uint64_t size, uint8_t ret_root[32]);
int exlog_reader_inclusion_proof(ExlogReader *r, uint64_t index, uint64_t size, uint8_t (*ret_path)[32],
                                 size_t *ret_len);
int exlog_reader_consistency_proof(ExlogReader *r, uint64_t size1, uint64_t size2, uint8_t (*ret_path)[32],
                                   size_t *ret_len);

/*
 * Checkpoints (C2SP signed notes: origin, size, root; "time <RFC 3339>" extension),
 * made by the writer every checkpoint_interval_ms when the log grew, and at
 * close, all kept, keyed by tree size.
 * exlog_reader_checkpoint(): the latest one (`size` 0), or the first whose tree
 * size is >= `size` (the one that covers entry size-1). *ret is malloc'd text.
 * Return: 0, -ENOENT (none yet), -errno.
 */
int exlog_reader_checkpoint(ExlogReader *r, uint64_t size, char **ret, uint64_t *ret_size);

/*
 * exlog_reader_subject(): the sequence numbers of the entries about one data
 * subject (by the 32-byte pseudonym, from the by_subject index, never a
 * scan), newest first, strictly below `before` (UINT64_MAX: from the newest),
 * at most `max` of them into `out`. *ret_n is how many were written.
 * Return: 0 or -errno.
 */
int exlog_reader_subject(ExlogReader *r, const uint8_t pseudonym[32], uint64_t before, uint64_t *out, size_t max,
                         size_t *ret_n);

/* Format an entry's fixed prefix; shared by the writer and tests. Return: length. */
int exlog_format_prefix(char *buf, size_t size, uint64_t seq, uint64_t time_usec);
