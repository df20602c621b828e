/* exlog-reader.c: reading the exchange log: entries, the Merkle tree, checkpoints, the subject index
 *
 * Readers see LMDB, where the writer stores each group commit right after
 * its segment records are durable and before any answer leaves: what a
 * reader sees is durable, and every acknowledged entry is there.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "log/exlog-internal.h"
#include "util/bytes.h"
#include "util/lmdb-util.h"

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
        e = exlog_env_open(&r->env, dir, 0, MDB_RDONLY);
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
                e = merkle_root(exlog_tree_get, &tr, a, root);
                break;
        case TREE_INCLUSION:
                e = merkle_inclusion_proof(exlog_tree_get, &tr, a, b, path, len);
                break;
        case TREE_CONSISTENCY:
                e = merkle_consistency_proof(exlog_tree_get, &tr, a, b, path, len);
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
