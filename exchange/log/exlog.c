/* exlog.c: the exchange log writer (group commit into LMDB)
 *
 * Why one writer thread: LMDB allows one write transaction at a time, and an
 * fsync costs the same for one entry as for a thousand. So every HTTP worker
 * hands its entries to this thread through a mailbox; the thread takes
 * whatever has queued up while the previous transaction was syncing, writes
 * it as one transaction, commits (fsync), and only then posts each record
 * back to its worker, which may now answer the client. Under load the batch
 * grows by itself, and throughput is bounded by bandwidth, not by fsyncs.
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/hash.h"
#include "log/exlog.h"
#include "log/exlog-entry.h"
#include "log/checkpoint.h"
#include "log/merkle.h"
#include "util/bytes.h"
#include "util/lmdb-util.h"
#include "util/macro.h"
#include "util/time-util.h"

struct ExchangeLog {
        MDB_env *env;
        MDB_dbi entries;
        MDB_dbi by_subject;
        MDB_dbi tree;             /* complete Merkle nodes: level(1) || index(8, BE) -> hash(32) */
        MDB_dbi checkpoints;      /* tree size (8, BE) -> signed note */
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
        atomic_uint_fast64_t size; /* committed entries */
        atomic_uint_fast64_t batches, failures, max_batch_seen;
        atomic_int last_result; /* of the last commit: 0 or -errno */
        char *buf;              /* writer's serialisation buffer */
        size_t buf_size;
};

static void tree_key(uint8_t key[9], unsigned level, uint64_t index)
{
        key[0] = (uint8_t)level;
        be64_put(key + 1, index);
}

/* Store the Merkle nodes that leaf `entry` completes, in the entry's transaction. */
static int tree_append(ExchangeLog *log, MDB_txn *txn, const void *entry, size_t size)
{
        MerkleNode nodes[MERKLE_MAX_LEVELS];
        uint8_t leaf[MERKLE_HASH_LEN], key[9];
        size_t n;
        int r;

        r = merkle_leaf_hash(entry, size, leaf);
        if (r < 0)
                return r;
        r = merkle_appender_append(&log->merkle, leaf, nodes, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                MDB_val k = { .mv_size = sizeof(key), .mv_data = key };
                MDB_val v = { .mv_size = MERKLE_HASH_LEN, .mv_data = nodes[i].hash };
                tree_key(key, nodes[i].level, nodes[i].index);
                r = mdb_put(txn, log->tree, &k, &v, 0);
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

static int env_open(MDB_env **ret, const char *dir, size_t map_size, unsigned flags)
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

/* Sign and store a checkpoint of the current tree (writer thread). Return: 0 or -errno. */
static int checkpoint_make(ExchangeLog *log)
{
        uint8_t root[MERKLE_HASH_LEN], key[8];
        char t[RFC3339_MAX], ext[RFC3339_MAX + 8];
        const char *exts[1] = { ext };
        char *note = NULL;
        MDB_txn *txn;
        MDB_val k, v;
        int r;

        if (!log->opts.checkpoints || log->next_seq == log->checkpoint_size)
                return 0;
        r = merkle_appender_root(&log->merkle, root);
        if (r < 0)
                return r;
        snprintf(ext, sizeof(ext), "time %s", format_rfc3339(now_usec(CLOCK_REALTIME), t));
        r = checkpoint_sign(log->opts.checkpoints, checkpoint_signer_name(log->opts.checkpoints), log->next_seq, root,
                            exts, 1, &note);
        if (r != 0)
                return r < 0 ? r : -EINVAL;
        r = mdb_txn_begin(log->env, NULL, 0, &txn);
        if (r) {
                free(note);
                return lmdb_to_errno(r);
        }
        be64_put(key, log->next_seq);
        k = (MDB_val){ .mv_size = 8, .mv_data = key };
        v = (MDB_val){ .mv_size = strlen(note), .mv_data = note };
        r = mdb_put(txn, log->checkpoints, &k, &v, 0);
        if (r)
                mdb_txn_abort(txn);
        else
                r = mdb_txn_commit(txn);
        free(note);
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

/* Write one batch (list of up to max_batch records) in one transaction. */
static void writer_commit(ExchangeLog *log, MailboxItem *first, unsigned n)
{
        MDB_txn *txn = NULL;
        MailboxItem *it;
        _cleanup_free_ char *alt = NULL; /* a refusal variant, rendered here (rare) */
        uint64_t seq0 = log->next_seq;
        MerkleAppender merkle0 = log->merkle; /* to roll back if the transaction fails */
        unsigned i;
        int r;

        r = mdb_txn_begin(log->env, NULL, 0, &txn);
        if (r) {
                r = lmdb_to_errno(r);
                goto finish;
        }
        for (i = 0, it = first; i < n; i++, it = it->next) {
                ExlogRecord *rec = (ExlogRecord *)it;
                uint64_t now = now_usec(CLOCK_REALTIME);
                uint8_t key[8], skey[32 + 8];
                const char *body;
                size_t body_size;
                size_t need;
                int plen;
                MDB_val k, v;

                if (now < log->last_time)
                        now = log->last_time; /* time never goes backwards in the log */
                log->last_time = now;
                rec->seq = log->next_seq + i;
                rec->time_usec = now;

                rec->consent_result = 0;
                body = rec->body;
                body_size = rec->body_size;
                if (rec->consent_id) {
                        r = consent_use(rec->consents, txn, rec->consent_id, now);
                        if (r < 0)
                                goto finish;
                        rec->consent_result = r;
                }
                if (rec->consent_result > 0) {
                        ExlogEntry refusal = *rec->entry;

                        refusal.consent_refusal = rec->consent_result;
                        free(alt);
                        alt = exlog_entry_render(&refusal);
                        body = alt;
                        body_size = alt ? strlen(alt) : 0;
                        if (!body_valid(body, body_size)) {
                                r = -ENOMEM;
                                goto finish;
                        }
                }

                need = 96 + body_size;
                if (need > log->buf_size) {
                        char *nb = realloc(log->buf, need);
                        if (!nb) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        log->buf = nb;
                        log->buf_size = need;
                }
                plen = exlog_format_prefix(log->buf, log->buf_size, rec->seq, now);
                if (body_size > 2) {
                        /* "{...}" -> ",..." after the prefix */
                        log->buf[plen] = ',';
                        memcpy(log->buf + plen + 1, body + 1, body_size - 1);
                        plen += (int)body_size;
                } else {
                        log->buf[plen++] = '}';
                }

                be64_put(key, rec->seq);
                k = (MDB_val){ .mv_size = 8, .mv_data = key };
                v = (MDB_val){ .mv_size = (size_t)plen, .mv_data = log->buf };
                r = mdb_put(txn, log->entries, &k, &v, MDB_APPEND);
                if (r) {
                        r = lmdb_to_errno(r);
                        goto finish;
                }
                r = tree_append(log, txn, log->buf, (size_t)plen);
                if (r < 0)
                        goto finish;
                /* index: pseudonym(32) || seq(8) -> empty, for "who read my data": the request's
                 * subject, and a person the delivered answer names */
                for (int s = 0; s < 2; s++) {
                        const char *who = s == 0 ? rec->subject : rec->consent_result > 0 ? "" : rec->revealed;

                        if (!who[0] || hex_decode(who, skey, 32) < 0)
                                continue;
                        memcpy(skey + 32, key, 8);
                        k = (MDB_val){ .mv_size = sizeof(skey), .mv_data = skey };
                        v = (MDB_val){ .mv_size = 0, .mv_data = (void *)"" };
                        r = mdb_put(txn, log->by_subject, &k, &v, 0);
                        if (r) {
                                r = lmdb_to_errno(r);
                                goto finish;
                        }
                }
        }
        r = mdb_txn_commit(txn); /* fsync: after this the entries survive a crash */
        txn = NULL;
        r = lmdb_to_errno(r);

finish:
        if (txn)
                mdb_txn_abort(txn);
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
        atomic_store(&log->last_result, r);
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
        }
        return NULL;
}

typedef struct TreeRead {
        MDB_txn *txn;
        MDB_dbi dbi;
} TreeRead;

static int tree_get(void *userdata, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
        TreeRead *tr = userdata;
        uint8_t key[9];
        MDB_val k = { .mv_size = sizeof(key), .mv_data = key }, v;
        int r;

        tree_key(key, level, index);
        r = mdb_get(tr->txn, tr->dbi, &k, &v);
        if (r)
                return lmdb_to_errno(r);
        if (v.mv_size != MERKLE_HASH_LEN)
                return -EBADMSG;
        memcpy(out, v.mv_data, MERKLE_HASH_LEN);
        return 0;
}

static int log_recover(ExchangeLog *log)
{
        MDB_txn *txn;
        MDB_cursor *c;
        MDB_val k, v;
        int r;

        r = mdb_txn_begin(log->env, NULL, 0, &txn);
        if (r)
                return lmdb_to_errno(r);
        r = mdb_dbi_open(txn, "entries", MDB_CREATE, &log->entries);
        if (!r)
                r = mdb_dbi_open(txn, "by_subject", MDB_CREATE, &log->by_subject);
        if (!r)
                r = mdb_dbi_open(txn, "tree", MDB_CREATE, &log->tree);
        if (!r)
                r = mdb_dbi_open(txn, "checkpoints", MDB_CREATE, &log->checkpoints);
        if (r) {
                mdb_txn_abort(txn);
                return lmdb_to_errno(r);
        }
        log->next_seq = 0;
        r = mdb_cursor_open(txn, log->entries, &c);
        if (!r) {
                if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
                        log->next_seq = be64_get(k.mv_data) + 1;
                mdb_cursor_close(c);
        }
        r = mdb_cursor_open(txn, log->checkpoints, &c);
        if (!r) {
                if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
                        log->checkpoint_size = be64_get(k.mv_data);
                mdb_cursor_close(c);
        }
        merkle_appender_init(&log->merkle);
        if (log->next_seq > 0) {
                TreeRead tr = { .txn = txn, .dbi = log->tree };
                r = merkle_appender_init_from_store(&log->merkle, tree_get, &tr, log->next_seq);
                if (r) {
                        /* the tree does not cover the entries: the store is damaged */
                        mdb_txn_abort(txn);
                        return r < 0 ? r : -EBADMSG;
                }
        }
        r = mdb_txn_commit(txn);
        atomic_store(&log->size, log->next_seq);
        return lmdb_to_errno(r);
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
        };
        log->queue = MAILBOX_NULL;
        r = mailbox_init(&log->queue, log->opts.queue_capacity);
        if (r < 0) {
                free(log);
                return r;
        }
        r = env_open(&log->env, dir, log->opts.map_size, 0);
        if (r < 0)
                goto fail;
        r = log_recover(log);
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
        }
        if (log->env)
                mdb_env_close(log->env);
        mailbox_deinit(&log->queue);
        free(log->buf);
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

void exlog_stats(ExchangeLog *log, ExlogStats *ret)
{
        *ret = (ExlogStats){
                .entries = atomic_load(&log->size),
                .batches = atomic_load(&log->batches),
                .failures = atomic_load(&log->failures),
                .max_batch_seen = atomic_load(&log->max_batch_seen),
        };
}

struct ExlogReader {
        MDB_env *env;
        bool shared; /* the env belongs to an ExchangeLog */
        MDB_dbi entries;
        MDB_dbi tree;
        MDB_dbi checkpoints;
        MDB_dbi by_subject;
};

int exlog_reader_open(ExlogReader **ret, const char *dir)
{
        ExlogReader *r;
        MDB_txn *txn;
        int e;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        e = env_open(&r->env, dir, 0, MDB_RDONLY);
        if (e < 0) {
                free(r);
                return e;
        }
        e = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn);
        if (!e) {
                e = mdb_dbi_open(txn, "entries", 0, &r->entries);
                if (!e)
                        e = mdb_dbi_open(txn, "tree", 0, &r->tree);
                if (!e)
                        e = mdb_dbi_open(txn, "checkpoints", 0, &r->checkpoints);
                if (!e)
                        e = mdb_dbi_open(txn, "by_subject", 0, &r->by_subject);
                /* commit, not abort: a handle opened in an aborted transaction is discarded */
                if (e)
                        mdb_txn_abort(txn);
                else
                        e = mdb_txn_commit(txn);
        }
        if (e) {
                exlog_reader_close(r);
                return lmdb_to_errno(e);
        }
        *ret = r;
        return 0;
}

ExlogReader *exlog_reader_close(ExlogReader *r)
{
        if (!r)
                return NULL;
        if (r->env && !r->shared)
                mdb_env_close(r->env);
        free(r);
        return NULL;
}

int exlog_reader_new(ExlogReader **ret, ExchangeLog *log)
{
        ExlogReader *r = calloc(1, sizeof(*r));

        if (!r)
                return -ENOMEM;
        *r = (ExlogReader){ .env = log->env,
                            .shared = true,
                            .entries = log->entries,
                            .tree = log->tree,
                            .checkpoints = log->checkpoints,
                            .by_subject = log->by_subject };
        *ret = r;
        return 0;
}

MDB_env *exlog_env(ExchangeLog *log)
{
        return log->env;
}

int exlog_reader_size(ExlogReader *r, uint64_t *ret)
{
        MDB_txn *txn;
        MDB_cursor *c;
        MDB_val k, v;
        int e;

        e = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn);
        if (e)
                return lmdb_to_errno(e);
        *ret = 0;
        e = mdb_cursor_open(txn, r->entries, &c);
        if (!e) {
                if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
                        *ret = be64_get(k.mv_data) + 1;
                mdb_cursor_close(c);
        }
        mdb_txn_abort(txn);
        return lmdb_to_errno(e);
}

int exlog_reader_get(ExlogReader *r, uint64_t seq, char **ret, size_t *ret_size)
{
        MDB_txn *txn;
        MDB_val k, v;
        uint8_t key[8];
        char *copy;
        int e;

        be64_put(key, seq);
        k = (MDB_val){ .mv_size = 8, .mv_data = key };
        e = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn);
        if (e)
                return lmdb_to_errno(e);
        e = mdb_get(txn, r->entries, &k, &v);
        if (e) {
                mdb_txn_abort(txn);
                return lmdb_to_errno(e);
        }
        /* LMDB memory is valid only inside the transaction: copy before ending it. */
        copy = malloc(v.mv_size + 1);
        if (copy) {
                memcpy(copy, v.mv_data, v.mv_size);
                copy[v.mv_size] = 0;
        }
        mdb_txn_abort(txn);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        if (ret_size)
                *ret_size = v.mv_size;
        return 0;
}

/* Run a tree read inside one read-only transaction (a consistent snapshot). */
typedef enum { TREE_ROOT, TREE_INCLUSION, TREE_CONSISTENCY } TreeOp;

static int reader_tree(ExlogReader *r, TreeOp op, uint64_t a, uint64_t b, uint8_t *root, uint8_t (*path)[32],
                       size_t *len)
{
        TreeRead tr = { .dbi = r->tree };
        uint64_t size;
        int e;

        e = exlog_reader_size(r, &size);
        if (e < 0)
                return e;
        if ((op == TREE_ROOT ? a : b) > size)
                return -ENOENT;
        e = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &tr.txn);
        if (e)
                return lmdb_to_errno(e);
        switch (op) {
        case TREE_ROOT:
                e = merkle_root(tree_get, &tr, a, root);
                break;
        case TREE_INCLUSION:
                e = merkle_inclusion_proof(tree_get, &tr, a, b, path, len);
                break;
        case TREE_CONSISTENCY:
                e = merkle_consistency_proof(tree_get, &tr, a, b, path, len);
                break;
        }
        mdb_txn_abort(tr.txn);
        return e;
}

int exlog_reader_root(ExlogReader *r, uint64_t size, uint8_t ret_root[32])
{
        return reader_tree(r, TREE_ROOT, size, 0, ret_root, NULL, NULL);
}

int exlog_reader_inclusion_proof(ExlogReader *r, uint64_t index, uint64_t size, uint8_t (*ret_path)[32],
                                 size_t *ret_len)
{
        return reader_tree(r, TREE_INCLUSION, index, size, NULL, ret_path, ret_len);
}

int exlog_reader_consistency_proof(ExlogReader *r, uint64_t size1, uint64_t size2, uint8_t (*ret_path)[32],
                                   size_t *ret_len)
{
        return reader_tree(r, TREE_CONSISTENCY, size1, size2, NULL, ret_path, ret_len);
}

int exlog_reader_checkpoint(ExlogReader *r, uint64_t size, char **ret, uint64_t *ret_size)
{
        MDB_txn *txn;
        MDB_cursor *c;
        MDB_val k, v;
        uint8_t key[8];
        char *copy = NULL;
        int e;

        e = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn);
        if (e)
                return lmdb_to_errno(e);
        e = mdb_cursor_open(txn, r->checkpoints, &c);
        if (!e) {
                if (size == 0)
                        e = mdb_cursor_get(c, &k, &v, MDB_LAST);
                else {
                        be64_put(key, size);
                        k = (MDB_val){ .mv_size = 8, .mv_data = key };
                        e = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
                }
                if (!e && k.mv_size == 8) {
                        copy = strndup(v.mv_data, v.mv_size);
                        if (ret_size)
                                *ret_size = be64_get(k.mv_data);
                }
                mdb_cursor_close(c);
        }
        mdb_txn_abort(txn);
        if (e)
                return lmdb_to_errno(e);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

int exlog_reader_subject(ExlogReader *r, const uint8_t pseudonym[32], uint64_t before, uint64_t *out, size_t max,
                         size_t *ret_n)
{
        uint8_t key[40];
        MDB_txn *txn;
        MDB_cursor *c;
        MDB_val k, v;
        size_t n = 0;
        int e;

        *ret_n = 0;
        e = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn);
        if (e)
                return lmdb_to_errno(e);
        e = mdb_cursor_open(txn, r->by_subject, &c);
        if (e) {
                mdb_txn_abort(txn);
                return lmdb_to_errno(e);
        }
        /* position at the first key >= pseudonym||before, then walk backwards */
        memcpy(key, pseudonym, 32);
        be64_put(key + 32, before);
        k = (MDB_val){ .mv_size = sizeof(key), .mv_data = key };
        e = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        e = e == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV) : mdb_cursor_get(c, &k, &v, MDB_LAST);
        while (e == 0 && n < max) {
                if (k.mv_size != 40 || memcmp(k.mv_data, pseudonym, 32) != 0)
                        break;
                out[n++] = be64_get((const uint8_t *)k.mv_data + 32);
                e = mdb_cursor_get(c, &k, &v, MDB_PREV);
        }
        mdb_cursor_close(c);
        mdb_txn_abort(txn);
        *ret_n = n;
        return 0;
}
