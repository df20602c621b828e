/* audit-verify-store.c: verification of a log store (STATE/log), streaming, in one read transaction
 *
 * Why the store is read directly rather than through an ExlogReader: a
 * reader opens one read transaction per call, and a verification must see
 * one consistent snapshot of millions of entries, stored tree nodes and
 * checkpoints at once. So this file opens the log folder read-only with its
 * own LMDB environment (allowed: it runs in the auditor's `xbus` process,
 * never inside xbusd) and walks the tables named in exlog.c with cursors
 * inside one read-only transaction. The layout it relies on:
 *
 *   entries      seq (8 bytes, big-endian) -> the entry's bytes
 *   tree         level (1) || index (8, BE) -> 32-byte hash of a complete node
 *   checkpoints  tree size (8, BE) -> signed note
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit-verify-internal.h"
#include "util/bytes.h"
#include "util/lmdb-util.h"
#include "util/macro.h"

typedef struct Store {
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi entries, tree, checkpoints;
} Store;

static void store_close(Store *s)
{
        if (s->txn)
                mdb_txn_abort(s->txn);
        if (s->env)
                mdb_env_close(s->env);
        *s = (Store){};
}

static int store_open(Store *s, const char *dir)
{
        struct stat st;
        int r;

        *s = (Store){};
        if (stat(dir, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        r = mdb_env_create(&s->env);
        if (r)
                return lmdb_to_errno(r);
        mdb_env_set_maxdbs(s->env, 8);
        mdb_env_set_maxreaders(s->env, 256);
        r = mdb_env_open(s->env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
        if (!r)
                r = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->txn);
        if (!r)
                r = mdb_dbi_open(s->txn, "entries", 0, &s->entries);
        if (!r)
                r = mdb_dbi_open(s->txn, "tree", 0, &s->tree);
        if (!r)
                r = mdb_dbi_open(s->txn, "checkpoints", 0, &s->checkpoints);
        if (r) {
                store_close(s);
                return lmdb_to_errno(r);
        }
        return 0;
}

static int store_tree_get(Store *s, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
        uint8_t key[9];
        MDB_val k = { .mv_size = sizeof(key), .mv_data = key }, v;
        int r;

        key[0] = (uint8_t)level;
        be64_put(key + 1, index);
        r = mdb_get(s->txn, s->tree, &k, &v);
        if (r)
                return lmdb_to_errno(r);
        if (v.mv_size != MERKLE_HASH_LEN)
                return -EBADMSG;
        memcpy(out, v.mv_data, MERKLE_HASH_LEN);
        return 0;
}

/* The signed time of a checkpoint ("time ..." extension), or "". */
static const char *checkpoint_time(const Checkpoint *c)
{
        for (size_t i = 0; i < c->n_extensions; i++)
                if (strneq(c->extensions[i], "time ", 5))
                        return c->extensions[i] + 5;
        return "";
}

/* Check the stored checkpoint (k, v) against the tree of `a` (whose size is its size). */
static int store_check_checkpoint(const AuditStoreOptions *o, const MDB_val *k, const MDB_val *v,
                                  const MerkleAppender *a, AuditReport *rep)
{
        _cleanup_(checkpoint_freep) Checkpoint *c = NULL;
        uint8_t root[MERKLE_HASH_LEN];
        uint64_t size = be64_get(k->mv_data);
        int r;

        r = checkpoint_parse(v->mv_data, v->mv_size, &c);
        if (r < 0)
                return r;
        if (r > 0)
                return audit_report_set(rep, AUDIT_E_CHECKPOINT, size,
                                        "the stored checkpoint of size %" PRIu64 " is not a valid signed note (%s)",
                                        size, checkpoint_strerror(r));
        if (c->size != size)
                return audit_report_set(rep, AUDIT_E_CHECKPOINT, size,
                                        "the checkpoint stored under size %" PRIu64 " says size %" PRIu64, size,
                                        c->size);
        if (o->verifier) {
                r = checkpoint_verify(c, o->verifier);
                if (r < 0)
                        return r;
                if (r > 0)
                        return audit_report_set(rep, AUDIT_E_CHECKPOINT, size,
                                                "checkpoint of size %" PRIu64
                                                "%s%s%s: signature invalid for key %s (%s)",
                                                size, *checkpoint_time(c) ? " (" : "", checkpoint_time(c),
                                                *checkpoint_time(c) ? ")" : "", checkpoint_verifier_name(o->verifier),
                                                checkpoint_strerror(r));
        }
        r = merkle_appender_root(a, root);
        if (r < 0)
                return r;
        if (memcmp(root, c->root, MERKLE_HASH_LEN) != 0)
                return audit_report_set(rep, AUDIT_E_CHECKPOINT, size,
                                        "checkpoint of size %" PRIu64
                                        " (%s): its root is not the root of entries 0..%" PRIu64
                                        " (the entries and tree were rewritten consistently, or the checkpoint is forged)",
                                        size, checkpoint_time(c), size - 1);
        rep->checkpoints++;
        return 0;
}

/* A mismatch between a recomputed node and the stored one. */
static int store_node_problem(const MerkleNode *n, int r, uint64_t seq, AuditReport *rep)
{
        uint64_t first = n->index << n->level, last = ((n->index + 1) << n->level) - 1;

        if (r == -ENOENT)
                return audit_report_set(rep, AUDIT_E_TREE, seq,
                                        "entry %" PRIu64 ": the stored tree has no node (level %u, index %" PRIu64
                                        ") for it (tree nodes were removed)",
                                        seq, n->level, n->index);
        if (r < 0)
                return audit_report_set(rep, AUDIT_E_TREE, seq,
                                        "entry %" PRIu64 ": the stored tree node (level %u, index %" PRIu64
                                        ") is unreadable",
                                        seq, n->level, n->index);
        if (n->level == 0)
                return audit_report_set(rep, AUDIT_E_ENTRY, seq,
                                        "entry %" PRIu64
                                        ": its leaf hash does not match the stored tree (the entry's bytes "
                                        "were changed)",
                                        seq);
        return audit_report_set(rep, AUDIT_E_TREE, first,
                                "the stored tree node (level %u, index %" PRIu64 ") over entries %" PRIu64 "..%" PRIu64
                                " does not match the entries",
                                n->level, n->index, first, last);
}

/* One walk through the store, entry after entry. */
typedef struct StoreWalk {
        Store s;
        const AuditStoreOptions *o;
        AuditReport *rep;
        MerkleAppender a; /* the tree recomputed from the entries so far */
        MDB_cursor *cc;   /* the stored checkpoints, by size */
        MDB_val ck, cv;   /* the next of them, when have_cp */
        bool have_cp;
        AuditTarget held[AUDIT_HELD_MAX];
        size_t n_held, next_held;
        char prev_time[64]; /* the previous entry's time */
        size_t prev_time_len;
} StoreWalk;

/* The entry (k, v), number a.size: its key, sequence number, format and time. */
static int walk_check_entry(StoreWalk *w, const MDB_val *k, const MDB_val *v)
{
        uint64_t n = w->a.size, seq, fseq;
        AuditReport *rep = w->rep;
        const char *t;
        size_t tlen;

        if (k->mv_size != 8)
                return audit_report_set(rep, AUDIT_E_ENTRY, n,
                                        "after entry %" PRIu64 ": a key in the entries table is not a sequence number",
                                        n);
        seq = be64_get(k->mv_data);
        if (seq != n)
                return audit_report_set(rep, AUDIT_E_SEQUENCE, n,
                                        "entry %" PRIu64 " is missing: the log goes from %s to entry %" PRIu64, n,
                                        n ? "the entry before it" : "the start", seq);
        if (audit_entry_parse_prefix(v->mv_data, v->mv_size, &fseq, &t, &tlen) < 0)
                return audit_report_set(rep, AUDIT_E_ENTRY, seq,
                                        "entry %" PRIu64 ": not a well-formed log entry (its bytes were changed)", seq);
        if (fseq != seq)
                return audit_report_set(rep, AUDIT_E_ENTRY, seq,
                                        "entry %" PRIu64 ": it holds the bytes of entry %" PRIu64
                                        " (entries were moved or reordered)",
                                        seq, fseq);
        if (tlen >= sizeof(w->prev_time) ||
            (w->prev_time_len && (tlen != w->prev_time_len || memcmp(t, w->prev_time, tlen) < 0)))
                return audit_report_set(rep, AUDIT_E_ENTRY, seq,
                                        "entry %" PRIu64 ": its time \"%.*s\" is before the previous entry's \"%s\"",
                                        seq, (int)MIN(tlen, (size_t)40), t, w->prev_time);
        memcpy(w->prev_time, t, tlen);
        w->prev_time[tlen] = 0;
        w->prev_time_len = tlen;
        return 0;
}

/* Append entry `seq` to the tree and compare every node it completes with the stored one. */
static int walk_check_tree(StoreWalk *w, const MDB_val *v, uint64_t seq)
{
        uint8_t leaf[MERKLE_HASH_LEN], stored[MERKLE_HASH_LEN];
        MerkleNode nodes[MERKLE_MAX_LEVELS];
        size_t n_nodes;
        int r;

        r = merkle_leaf_hash(v->mv_data, v->mv_size, leaf);
        if (r == 0)
                r = merkle_appender_append(&w->a, leaf, nodes, &n_nodes);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_nodes; i++) {
                int g = store_tree_get(&w->s, nodes[i].level, nodes[i].index, stored);
                if (g < 0 || memcmp(stored, nodes[i].hash, MERKLE_HASH_LEN) != 0)
                        return store_node_problem(&nodes[i], g, seq, w->rep);
        }
        return 0;
}

/* The stored checkpoints of exactly the tree's size, now that it has grown to it. */
static int walk_checkpoints(StoreWalk *w)
{
        uint64_t csize;
        int r;

        while (w->have_cp) {
                if (w->ck.mv_size != 8)
                        return audit_report_set(w->rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                                "a key in the checkpoints table is not a tree size");
                csize = be64_get(w->ck.mv_data);
                if (csize > w->a.size)
                        break;
                if (csize == 0)
                        return audit_report_set(w->rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                                "a checkpoint of the empty tree is stored");
                r = store_check_checkpoint(w->o, &w->ck, &w->cv, &w->a, w->rep);
                if (r)
                        return r;
                w->have_cp = mdb_cursor_get(w->cc, &w->ck, &w->cv, MDB_NEXT) == 0;
        }
        return 0;
}

/* The checkpoints held from earlier of the tree's size. */
static int walk_held(StoreWalk *w)
{
        const AuditTarget *t;
        int r;

        r = audit_targets_meet(w->held, w->n_held, &w->next_held, &w->a, w->rep, &t);
        if (r > 0)
                return audit_report_set(w->rep, AUDIT_E_CHECKPOINT, UINT64_MAX,
                                        "the log no longer reproduces %s: entries before %" PRIu64 " were rewritten",
                                        t->label, w->a.size);
        return r;
}

/* The end: nothing signed or held may cover more than the log holds, nor may the stored tree. */
static int walk_end(StoreWalk *w)
{
        uint8_t probe[MERKLE_HASH_LEN];
        uint64_t n = w->a.size;

        if (w->have_cp)
                return audit_report_set(w->rep, AUDIT_E_TRUNCATED, n,
                                        "the log holds %" PRIu64 " entries but the stored checkpoint of size %" PRIu64
                                        " covers more: the log was truncated",
                                        n, w->ck.mv_size == 8 ? be64_get(w->ck.mv_data) : 0);
        while (w->next_held < w->n_held && w->held[w->next_held].size == 0)
                w->next_held++;
        if (w->next_held < w->n_held)
                return audit_report_set(w->rep, AUDIT_E_TRUNCATED, n,
                                        "the log holds %" PRIu64 " entries but %s covers %" PRIu64
                                        ": the log was truncated",
                                        n, w->held[w->next_held].label, w->held[w->next_held].size);
        if (store_tree_get(&w->s, 0, n, probe) == 0)
                return audit_report_set(w->rep, AUDIT_E_TRUNCATED, n,
                                        "the log ends at %" PRIu64
                                        " entries but the stored tree has a leaf for entry %" PRIu64
                                        ": entries were removed from the end",
                                        n, n);
        return 0;
}

int audit_verify_store(const char *dir, const AuditStoreOptions *o, AuditReport *rep)
{
        static const AuditStoreOptions none = {};
        StoreWalk w = { .o = o ? o : &none, .rep = rep };
        MDB_cursor *ec = NULL;
        MDB_val k, v;
        int r, op;

        audit_report_init(rep);
        w.n_held = w.o->n_held;
        r = audit_targets_from_held(w.o->held, w.n_held, w.held, rep);
        if (r)
                return r;
        r = store_open(&w.s, dir);
        if (r < 0)
                return r;
        r = mdb_cursor_open(w.s.txn, w.s.entries, &ec);
        if (!r)
                r = mdb_cursor_open(w.s.txn, w.s.checkpoints, &w.cc);
        if (r) {
                r = lmdb_to_errno(r);
                goto out;
        }
        w.have_cp = mdb_cursor_get(w.cc, &w.ck, &w.cv, MDB_FIRST) == 0;
        merkle_appender_init(&w.a);

        /* each entry in order: itself, the tree nodes it completes, then what covers exactly the entries so far */
        for (op = MDB_FIRST; (r = mdb_cursor_get(ec, &k, &v, op)) == 0; op = MDB_NEXT) {
                uint64_t seq = w.a.size;
                r = walk_check_entry(&w, &k, &v);
                if (!r)
                        r = walk_check_tree(&w, &v, seq);
                if (r)
                        goto out;
                rep->entries++;
                r = walk_checkpoints(&w);
                if (!r)
                        r = walk_held(&w);
                if (r)
                        goto out;
        }
        r = r == MDB_NOTFOUND ? walk_end(&w) : lmdb_to_errno(r);
out:
        if (ec)
                mdb_cursor_close(ec);
        if (w.cc)
                mdb_cursor_close(w.cc);
        store_close(&w.s);
        return r;
}
