/* exlog.c: the exchange log writer (group commit: one segment write and one fdatasync, LMDB behind)
 *
 * Why one writer thread: an fdatasync costs the same for one entry as for a
 * thousand, and LMDB allows one write transaction at a time. So every HTTP
 * worker hands its entries to this thread through a mailbox; the thread takes
 * whatever has queued up while the previous commit was syncing and commits it
 * as one batch:
 *
 *   1. in one LMDB write transaction: assign sequence numbers and times, count
 *      consent uses (consent_use(): the writer is the only one counting, so of
 *      two racing single-use exchanges exactly one wins), store the entries,
 *      the Merkle nodes and the subject index; meanwhile append each entry,
 *      with what its consent use wrote, as a record to a buffer;
 *   2. write the buffer to the segment file and fdatasync it once: the batch
 *      is durable (segment.h): this is the commit, the only sync point on an
 *      answer's path;
 *   3. commit the LMDB transaction without a sync of its own (MDB_NOSYNC):
 *      readers (the auditor API, `mdb_dump`, the consent checks) see the
 *      entries before any answer leaves;
 *   4. post each record back to its worker, which may now answer the client.
 *
 * LMDB is made durable behind the segments, about once a second
 * (exlog-base.c): a syncer thread fdatasyncs data.mdb, and a BASE record in
 * the segment then names that state; a read transaction keeps its pages from
 * being reused until the next base is durable. After a crash, recovery puts
 * LMDB back to the last base and replays the segment records that follow it.
 * If the segment write or sync fails, nothing of the batch is kept (the file
 * is cut back, the LMDB transaction aborted) and every record comes back
 * failed: the exchange must not be acknowledged.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/checkpoint.h"
#include "log/exlog-entry.h"
#include "log/exlog-internal.h"
#include "util/bytes.h"
#include "util/lmdb-util.h"
#include "util/macro.h"
#include "util/time-util.h"

#define SEGMENT_SIZE_DEFAULT MIB(64)
#define BASE_INTERVAL_DEFAULT_MS 1000

void exlog_tree_key(uint8_t key[9], unsigned level, uint64_t index)
{
        key[0] = (uint8_t)level;
        be64_put(key + 1, index);
}

int exlog_tree_get(void *userdata, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
        TreeRead *tr = userdata;
        uint8_t key[9];
        MDB_val k = { .mv_size = sizeof(key), .mv_data = key }, v;
        int r;

        exlog_tree_key(key, level, index);
        r = mdb_get(tr->txn, tr->dbi, &k, &v);
        if (r)
                return lmdb_to_errno(r);
        if (v.mv_size != MERKLE_HASH_LEN)
                return -EBADMSG;
        memcpy(out, v.mv_data, MERKLE_HASH_LEN);
        return 0;
}

/* Store the Merkle nodes that leaf `entry` completes, in the entry's transaction. */
static int tree_append(ExchangeLog *log, MDB_txn *txn, MerkleAppender *merkle, const void *entry, size_t size,
                       uint8_t *ret_leaf)
{
        MerkleNode nodes[MERKLE_MAX_LEVELS];
        uint8_t leaf[MERKLE_HASH_LEN], key[9];
        size_t n;
        int r;

        r = merkle_leaf_hash(entry, size, leaf);
        if (r < 0)
                return r;
        r = merkle_appender_append(merkle, leaf, nodes, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                MDB_val k = { .mv_size = sizeof(key), .mv_data = key };
                MDB_val v = { .mv_size = MERKLE_HASH_LEN, .mv_data = nodes[i].hash };
                exlog_tree_key(key, nodes[i].level, nodes[i].index);
                r = mdb_put(txn, log->tree, &k, &v, 0);
                if (r)
                        return lmdb_to_errno(r);
        }
        if (ret_leaf)
                memcpy(ret_leaf, leaf, MERKLE_HASH_LEN);
        return 0;
}

int exlog_store_entry(ExchangeLog *log, MDB_txn *txn, MerkleAppender *merkle, const EntryRecord *e, uint8_t *ret_leaf)
{
        uint8_t key[8], skey[32 + 8];
        MDB_val k, v;
        int r;

        be64_put(key, e->seq);
        k = (MDB_val){ .mv_size = 8, .mv_data = key };
        v = (MDB_val){ .mv_size = e->entry_len, .mv_data = (void *)e->entry };
        r = mdb_put(txn, log->entries, &k, &v, MDB_APPEND);
        if (r)
                return lmdb_to_errno(r);
        r = tree_append(log, txn, merkle, e->entry, e->entry_len, ret_leaf);
        if (r < 0)
                return r;
        /* index: pseudonym(32) || seq(8) -> empty, for "who read my data": the request's
         * subject, and a person the delivered answer names */
        for (int s = 0; s < 2; s++) {
                const uint8_t *who = s == 0 ? (e->flags & ENTRY_SUBJECT ? e->subject : NULL)
                                            : (e->flags & ENTRY_REVEALED ? e->revealed : NULL);

                if (!who)
                        continue;
                memcpy(skey, who, 32);
                memcpy(skey + 32, key, 8);
                k = (MDB_val){ .mv_size = sizeof(skey), .mv_data = skey };
                v = (MDB_val){ .mv_size = 0, .mv_data = (void *)"" };
                r = mdb_put(txn, log->by_subject, &k, &v, 0);
                if (r)
                        return lmdb_to_errno(r);
        }
        return 0;
}

int exlog_format_prefix(char *buf, size_t size, uint64_t seq, uint64_t time_usec)
{
        char t[RFC3339_MAX];

        return snprintf(buf, size, "{\"v\":%d,\"seq\":%" PRIu64 ",\"time\":\"%s\"", EXLOG_FORMAT_VERSION, seq,
                        format_rfc3339(time_usec, t));
}

int exlog_env_open(MDB_env **ret, const char *dir, size_t map_size, unsigned flags)
{
        MDB_env *env;
        int r;

        r = mdb_env_create(&env);
        if (r)
                return lmdb_to_errno(r);
        mdb_env_set_maxdbs(env, 8);
        mdb_env_set_maxreaders(env, 256);
        if (map_size)
                mdb_env_set_mapsize(env, map_size);
        r = mdb_env_open(env, dir, flags | MDB_NOTLS, 0600);
        if (r) {
                mdb_env_close(env);
                return lmdb_to_errno(r);
        }
        *ret = env;
        return 0;
}

static bool body_valid(const char *b, size_t n)
{
        return b && n >= 2 && b[0] == '{' && b[n - 1] == '}';
}

/*
 * Make the records in log->buf durable: one write to the segment, one
 * fdatasync. Between commits the file may move on to a new segment.
 * Return: 0, or -errno (then nothing of them is in the file).
 */
int exlog_segment_commit(ExchangeLog *log, bool may_rotate)
{
        int r;

        if (may_rotate && log->seg.size >= log->opts.segment_size && log->seg.first_seq != log->next_seq) {
                Segment next;

                /* a failure leaves the old file in use: it is tried again at the next commit */
                if (segment_finish(&log->seg) == 0 &&
                    segment_create(&next, log->seg_dir, log->seg_dir_fd, log->next_seq) == 0) {
                        segment_close(&log->seg);
                        log->seg = next;
                }
        }
        r = segment_append(&log->seg, log->buf.data, log->buf.size);
        if (r == 0)
                r = segment_sync(&log->seg);
        return r;
}

/* Sign a checkpoint of the current tree, make it durable, store it (writer thread). Return: 0 or -errno. */
static int checkpoint_make(ExchangeLog *log)
{
        uint8_t root[MERKLE_HASH_LEN], key[8];
        char t[RFC3339_MAX], ext[RFC3339_MAX + 8];
        const char *exts[1] = { ext };
        _cleanup_free_ char *note = NULL;
        MDB_txn *txn;
        MDB_val k, v;
        long at;
        int r;

        if (!log->opts.checkpoints || log->next_seq == log->checkpoint_size || log->broken)
                return 0;
        r = merkle_appender_root(&log->merkle, root);
        if (r < 0)
                return r;
        snprintf(ext, sizeof(ext), "time %s", format_rfc3339(now_usec(CLOCK_REALTIME), t));
        r = checkpoint_sign(log->opts.checkpoints, checkpoint_signer_name(log->opts.checkpoints), log->next_seq, root,
                            exts, 1, &note);
        if (r != 0)
                return r < 0 ? r : -EINVAL;
        log->buf.size = 0;
        at = segment_record_begin(&log->buf, SEGMENT_CHECKPOINT);
        r = at < 0 ? (int)at : segment_put_u64(&log->buf, log->next_seq);
        if (r >= 0)
                r = segment_buf_put(&log->buf, note, strlen(note));
        if (r >= 0)
                r = segment_record_end(&log->buf, at);
        if (r >= 0)
                r = exlog_segment_commit(log, false);
        if (r < 0)
                return r;
        r = mdb_txn_begin(log->env, NULL, 0, &txn);
        if (r)
                return lmdb_to_errno(r); /* durable in the segment: recovery stores it */
        be64_put(key, log->next_seq);
        k = (MDB_val){ .mv_size = 8, .mv_data = key };
        v = (MDB_val){ .mv_size = strlen(note), .mv_data = note };
        r = mdb_put(txn, log->checkpoints, &k, &v, 0);
        if (r)
                mdb_txn_abort(txn);
        else
                r = mdb_txn_commit(txn);
        if (r)
                return lmdb_to_errno(r);
        log->checkpoint_size = log->next_seq;
        return 0;
}

static void checkpoint_maybe(ExchangeLog *log, bool force)
{
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (!force && now < log->checkpoint_due)
                return;
        (void)checkpoint_make(log); /* a failure is retried at the next interval */
        log->checkpoint_due = now + (uint64_t)log->opts.checkpoint_interval_ms * USEC_PER_MSEC;
}

/*
 * Append the ENTRY record of `rec` (its entry: the prefix, then `body` without
 * its opening brace) to log->buf, and describe it in *ret (pointing into the
 * buffer: valid until the buffer grows again). Return: 0 or -errno.
 */
static int entry_record_build(ExchangeLog *log, const ExlogRecord *rec, const char *body, size_t body_size,
                              const ConsentUse *use, EntryRecord *ret)
{
        SegmentBuf *b = &log->buf;
        uint8_t flags = 0, subject[32], revealed[32], *p;
        size_t id_len = rec->consent_id ? strlen(rec->consent_id) : 0,
               rec_len = use && use->record ? strlen(use->record) : 0;
        size_t entry_at, subject_at = 0, revealed_at = 0, consent_at = 0;
        long at;
        int r, plen;

        if (rec->subject[0] && hex_decode(rec->subject, subject, 32) == 0)
                flags |= ENTRY_SUBJECT;
        /* a person named by an answer that was withheld is not indexed */
        if (rec->consent_result == 0 && rec->revealed[0] && hex_decode(rec->revealed, revealed, 32) == 0)
                flags |= ENTRY_REVEALED;
        if (use && rec->consent_id && rec->consent_result == 0)
                flags |= ENTRY_CONSENT;
        if (id_len > UINT16_MAX || rec_len > UINT32_MAX)
                return -E2BIG;
        at = segment_record_begin(b, SEGMENT_ENTRY);
        if (at < 0)
                return (int)at;
        if ((r = segment_put_u64(b, rec->seq)) < 0 || (r = segment_buf_put(b, &flags, 1)) < 0)
                return r;
        if (flags & ENTRY_SUBJECT) {
                subject_at = b->size;
                if ((r = segment_buf_put(b, subject, 32)) < 0)
                        return r;
        }
        if (flags & ENTRY_REVEALED) {
                revealed_at = b->size;
                if ((r = segment_buf_put(b, revealed, 32)) < 0)
                        return r;
        }
        if (flags & ENTRY_CONSENT) {
                if ((r = segment_put_u16(b, (uint16_t)id_len)) < 0)
                        return r;
                consent_at = b->size;
                if ((r = segment_buf_put(b, rec->consent_id, id_len)) < 0 || (r = segment_put_u64(b, use->uses)) < 0 ||
                    (r = segment_put_u32(b, (uint32_t)rec_len)) < 0 ||
                    (r = segment_buf_put(b, use->record, rec_len)) < 0)
                        return r;
        }
        /* the entry: {"v":1,"seq":N,"time":"..." then "," and the caller's fields */
        entry_at = b->size;
        if ((r = segment_buf_reserve(b, 96 + body_size, &p)) < 0)
                return r;
        plen = exlog_format_prefix((char *)p, 96, rec->seq, rec->time_usec);
        if (body_size > 2) {
                p[plen] = ',';
                memcpy(p + plen + 1, body + 1, body_size - 1);
                plen += (int)body_size;
        } else {
                p[plen++] = '}';
        }
        b->size = entry_at + (size_t)plen;
        if ((r = segment_record_end(b, at)) < 0)
                return r;
        *ret = (EntryRecord){
                .seq = rec->seq,
                .flags = flags,
                .subject = flags & ENTRY_SUBJECT ? b->data + subject_at : NULL,
                .revealed = flags & ENTRY_REVEALED ? b->data + revealed_at : NULL,
                .consent_id = flags & ENTRY_CONSENT ? (const char *)b->data + consent_at : NULL,
                .consent_id_len = id_len,
                .entry = b->data + entry_at,
                .entry_len = (size_t)plen,
        };
        return 0;
}

/* One record of a batch in `txn`: time and seq, the consent's use, the refusal variant, LMDB and the segment. */
static int writer_record(ExchangeLog *log, MDB_txn *txn, ExlogRecord *rec, uint64_t seq, char **alt)
{
        uint64_t now = now_usec(CLOCK_REALTIME);
        ConsentUse use = { 0 };
        const char *body = rec->body;
        size_t body_size = rec->body_size;
        EntryRecord e;
        int r;

        if (now < log->last_time)
                now = log->last_time; /* time never goes backwards in the log */
        log->last_time = now;
        rec->seq = seq;
        rec->time_usec = now;
        rec->consent_result = 0;
        if (rec->consent_id) {
                r = consent_use(rec->consents, txn, rec->consent_id, now, &use);
                if (r < 0)
                        return r;
                rec->consent_result = r;
        }
        if (rec->consent_result > 0) {
                ExlogEntry refusal = *rec->entry;

                refusal.consent_refusal = rec->consent_result;
                free(*alt);
                *alt = exlog_entry_render(&refusal);
                body = *alt;
                body_size = *alt ? strlen(*alt) : 0;
                if (!body_valid(body, body_size))
                        return -ENOMEM;
        }
        r = entry_record_build(log, rec, body, body_size, &use, &e);
        free(use.record);
        if (r < 0)
                return r;
        if (!log->batch_spans)
                return exlog_store_entry(log, txn, &log->merkle, &e, NULL);
        /* for the batch's receipts: the leaf hash, and where the entry lies in the buffer */
        log->batch_spans[seq - log->next_seq] =
                (BatchSpan){ .offset = (size_t)(e.entry - log->buf.data), .len = e.entry_len };
        return exlog_store_entry(log, txn, &log->merkle, &e, log->batch_leaves[seq - log->next_seq]);
}

/* Write one batch (list of up to max_batch records): one LMDB transaction, one segment sync. */
static void writer_commit(ExchangeLog *log, MailboxItem *first, unsigned n)
{
        MDB_txn *txn = NULL;
        MailboxItem *it;
        _cleanup_free_ char *alt = NULL; /* a refusal variant, rendered here (rare) */
        uint64_t seq0 = log->next_seq;
        MerkleAppender merkle0 = log->merkle; /* to roll back if the commit fails */
        unsigned i;
        int r;

        r = log->broken;
        if (r < 0)
                goto finish;
        r = mdb_txn_begin(log->env, NULL, 0, &txn);
        if (r) {
                r = lmdb_to_errno(r);
                goto finish;
        }
        log->buf.size = 0;
        for (i = 0, it = first; i < n && r == 0; i++, it = it->next)
                r = writer_record(log, txn, (ExlogRecord *)it, seq0 + i, &alt);
        if (r == 0)
                r = exlog_segment_commit(log, true); /* the commit: after this the entries survive a crash */
        if (r < 0)
                goto finish;
        r = mdb_txn_commit(txn); /* no sync: the segment holds the batch */
        txn = NULL;
        if (r) {
                /* Durable, so acknowledged; but LMDB lacks it: nothing more until a restart replays it. */
                log->broken = lmdb_to_errno(r);
                pthread_mutex_lock(&log->base.lock);
                log->base.failed = true;
                pthread_cond_broadcast(&log->base.cond);
                pthread_mutex_unlock(&log->base.lock);
        }
        r = 0;

finish:
        if (txn)
                mdb_txn_abort(txn);
        if (r == 0 && log->batch_spans)
                (void)exlog_receipts_make(log, &merkle0, first, n); /* a record without one: batch_receipt NULL */
        if (r == 0) {
                log->next_seq += n;
                atomic_store(&log->size, log->next_seq);
                atomic_fetch_add(&log->batches, 1);
                if (n > atomic_load(&log->max_batch_seen))
                        atomic_store(&log->max_batch_seen, n);
        } else {
                log->next_seq = seq0;
                log->merkle = merkle0;
                atomic_fetch_add(&log->failures, 1);
        }
        atomic_store(&log->last_result, r < 0 ? r : log->broken);
        /* Hand every record back: durable, or failed (the exchange must not be acknowledged). */
        for (i = 0, it = first; i < n; i++) {
                MailboxItem *next = it->next;
                ExlogRecord *rec = (ExlogRecord *)it;

                rec->result = r;
                if (r)
                        rec->seq = UINT64_MAX;
                (void)mailbox_post(rec->reply_to, it);
                it = next;
        }
}

static void *writer_thread(void *userdata)
{
        ExchangeLog *log = userdata;

        for (;;) {
                MailboxItem *list;
                bool stopping = atomic_load(&log->stop);

                list = mailbox_drain(&log->queue);
                if (!list) {
                        if (stopping) {
                                checkpoint_maybe(log, true);
                                break;
                        }
                        checkpoint_maybe(log, false);
                        exlog_base_step(log);
                        mailbox_wait(&log->queue, 250);
                        continue;
                }
                while (list) {
                        MailboxItem *first = list, *last = list, *rest;
                        unsigned n = 1;

                        while (last->next && n < log->opts.max_batch) {
                                last = last->next;
                                n++;
                        }
                        rest = last->next;
                        writer_commit(log, first, n);
                        list = rest;
                }
                checkpoint_maybe(log, false);
                exlog_base_step(log);
        }
        return NULL;
}

int exlog_open(ExchangeLog **ret, const char *dir, const ExlogOptions *opts)
{
        ExchangeLog *log;
        int r;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        log = calloc(1, sizeof(*log));
        if (!log)
                return -ENOMEM;
        log->opts = (ExlogOptions){
                .map_size = opts && opts->map_size ? opts->map_size : (size_t)16 << 30,
                .max_batch = opts && opts->max_batch ? opts->max_batch : 1024,
                .queue_capacity = opts && opts->queue_capacity ? opts->queue_capacity : 65536,
                .checkpoints = opts ? opts->checkpoints : NULL,
                .checkpoint_interval_ms = opts && opts->checkpoint_interval_ms ? opts->checkpoint_interval_ms : 10000,
                .segment_size = opts && opts->segment_size ? opts->segment_size : SEGMENT_SIZE_DEFAULT,
                .base_interval_ms = opts && opts->base_interval_ms ? opts->base_interval_ms : BASE_INTERVAL_DEFAULT_MS,
        };
        log->queue = MAILBOX_NULL;
        log->seg = SEGMENT_NULL;
        log->seg_dir_fd = -1;
        log->data_fd = -1;
        r = mailbox_init(&log->queue, log->opts.queue_capacity);
        if (r < 0) {
                free(log);
                return r;
        }
        if (opts && opts->receipt_signer) {
                const char *origin = opts->receipt_origin ? opts->receipt_origin
                                     : opts->checkpoints  ? checkpoint_signer_name(opts->checkpoints)
                                                          : NULL;

                r = -EINVAL;
                if (!origin || !checkpoint_name_valid(origin))
                        goto fail;
                r = -ENOMEM;
                log->receipt_origin = strdup(origin);
                log->batch_leaves = calloc(log->opts.max_batch, MERKLE_HASH_LEN);
                log->batch_spans = calloc(log->opts.max_batch, sizeof(BatchSpan));
                if (!log->receipt_origin || !log->batch_leaves || !log->batch_spans)
                        goto fail;
                log->opts.receipt_signer = opts->receipt_signer;
                log->opts.receipt_origin = log->receipt_origin;
        }
        r = exlog_base_init(log);
        if (r < 0)
                goto fail;
        /* recovery and the first base are written with LMDB's own syncs; then only the segment syncs */
        r = exlog_recover(log, dir);
        if (r < 0)
                goto fail;
        r = exlog_base_make(log, false);
        if (r < 0)
                goto fail;
        r = lmdb_to_errno(mdb_env_set_flags(log->env, MDB_NOSYNC, 1));
        if (r < 0)
                goto fail;
        log->base.due = now_usec(CLOCK_MONOTONIC) + (uint64_t)log->opts.base_interval_ms * USEC_PER_MSEC;
        r = exlog_base_start(log);
        if (r < 0)
                goto fail;
        r = -pthread_create(&log->thread, NULL, writer_thread, log);
        if (r < 0)
                goto fail;
        log->thread_started = true;
        *ret = log;
        return 0;
fail:
        exlog_close(log);
        return r;
}

ExchangeLog *exlog_close(ExchangeLog *log)
{
        if (!log)
                return NULL;
        if (log->thread_started) {
                uint64_t one = 1;
                atomic_store(&log->stop, true);
                (void)!write(mailbox_fd(&log->queue), &one, sizeof(one));
                pthread_join(log->thread, NULL);
                /* the last base, marked clean: the next start has nothing to undo or replay */
                exlog_base_stop(log);
                if (!log->broken)
                        (void)exlog_base_make(log, true);
        }
        exlog_base_deinit(log);
        segment_close(&log->seg);
        segment_buf_done(&log->buf);
        if (log->env)
                mdb_env_close(log->env);
        if (log->data_fd >= 0)
                close(log->data_fd);
        if (log->seg_dir_fd >= 0)
                close(log->seg_dir_fd);
        free(log->seg_dir);
        free(log->receipt_origin);
        free(log->batch_leaves);
        free(log->batch_spans);
        mailbox_deinit(&log->queue);
        free(log);
        return NULL;
}

int exlog_append(ExchangeLog *log, ExlogRecord *rec)
{
        if (!body_valid(rec->body, rec->body_size) || (rec->consent_id && (!rec->consents || !rec->entry)))
                return -EINVAL;
        if (atomic_load(&log->stop))
                return -ESHUTDOWN;
        rec->result = 0;
        rec->batch_receipt = NULL;
        return mailbox_post(&log->queue, &rec->item);
}

uint64_t exlog_size(ExchangeLog *log)
{
        return atomic_load(&log->size);
}

int exlog_last_result(ExchangeLog *log)
{
        return atomic_load(&log->last_result);
}

bool exlog_base_failed(ExchangeLog *log)
{
        bool failed;

        pthread_mutex_lock(&log->base.lock);
        failed = log->base.failed;
        pthread_mutex_unlock(&log->base.lock);
        return failed;
}

void exlog_stats(ExchangeLog *log, ExlogStats *ret)
{
        *ret = (ExlogStats){
                .entries = atomic_load(&log->size),
                .batches = atomic_load(&log->batches),
                .failures = atomic_load(&log->failures),
                .max_batch_seen = atomic_load(&log->max_batch_seen),
        };
        pthread_mutex_lock(&log->base.lock);
        ret->bases = log->base.durable;
        pthread_mutex_unlock(&log->base.lock);
}
