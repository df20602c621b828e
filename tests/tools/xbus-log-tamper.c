/* xbus-log-tamper.c: damage an exchange log on purpose, for the tamper tests (never installed)
 *
 * Opens STATE/log read-write (the node must be stopped) and does one thing:
 *
 *   flip SEQ [OFFSET]      flip the low bit of one byte of entry SEQ (default: its last field's byte)
 *   delete SEQ             remove entry SEQ (its tree nodes stay: a hole in the log)
 *   swap SEQ1 SEQ2         exchange the stored bytes of two entries
 *   truncate K [--drop-checkpoints]
 *                          remove the last K entries and the Merkle nodes that cover them, as a
 *                          clean cut would; with --drop-checkpoints also the checkpoints beyond
 *   size                   print the number of entries
 *
 * It prints what it did. The layout is exlog.c's: entries seq(8, BE) -> bytes,
 * tree level(1)||index(8, BE) -> hash, checkpoints size(8, BE) -> note,
 * by_subject pseudonym(32)||seq(8) -> "".
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h" /* be64: the log's key format */
#include "util/parse.h" /* the tool links util/parse.c and nothing else of xbus */

static int usage(void)
{
        fprintf(stderr, "usage: xbus-log-tamper LOGDIR flip SEQ [OFFSET] | delete SEQ | swap SEQ1 SEQ2 |\n"
                        "                      truncate K [--drop-checkpoints] | size\n");
        return 2;
}

static int fail(const char *what, int r)
{
        fprintf(stderr, "xbus-log-tamper: %s: %s\n", what, mdb_strerror(r));
        return 1;
}

static int entry_key(MDB_val *k, unsigned char buf[8], uint64_t seq)
{
        be64_put(buf, seq);
        *k = (MDB_val){ .mv_size = 8, .mv_data = buf };
        return 0;
}

static uint64_t log_size(MDB_txn *txn, MDB_dbi entries)
{
        MDB_cursor *c;
        MDB_val k, v;
        uint64_t n = 0;

        if (mdb_cursor_open(txn, entries, &c) == 0) {
                if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
                        n = be64_get(k.mv_data) + 1;
                mdb_cursor_close(c);
        }
        return n;
}

int main(int argc, char **argv)
{
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi entries, tree, checkpoints, by_subject;
        unsigned char kb[8], kb2[8];
        MDB_val k, v, k2, v2;
        uint64_t a = 0, b = 0;
        const char *cmd;
        int r;

        if (argc < 3)
                return usage();
        cmd = argv[2];
        r = mdb_env_create(&env);
        if (r)
                return fail("mdb_env_create", r);
        mdb_env_set_maxdbs(env, 8);
        mdb_env_set_mapsize(env, (size_t)16 << 30);
        r = mdb_env_open(env, argv[1], 0, 0600);
        if (r)
                return fail(argv[1], r);
        r = mdb_txn_begin(env, NULL, 0, &txn);
        if (!r)
                r = mdb_dbi_open(txn, "entries", 0, &entries);
        if (!r)
                r = mdb_dbi_open(txn, "tree", 0, &tree);
        if (!r)
                r = mdb_dbi_open(txn, "checkpoints", 0, &checkpoints);
        if (!r)
                r = mdb_dbi_open(txn, "by_subject", 0, &by_subject);
        if (r)
                return fail("opening the log's tables", r);

        if (strcmp(cmd, "size") == 0 && argc == 3) {
                printf("%" PRIu64 "\n", log_size(txn, entries));
                mdb_txn_abort(txn);
                mdb_env_close(env);
                return 0;
        } else if (strcmp(cmd, "flip") == 0 && (argc == 4 || argc == 5) && parse_u64(argv[3], 0, UINT64_MAX, &a) == 0) {
                unsigned char *copy;
                uint64_t off;

                entry_key(&k, kb, a);
                r = mdb_get(txn, entries, &k, &v);
                if (r)
                        return fail("entry", r);
                off = v.mv_size - 3; /* inside the last field's value, keeping it JSON */
                if (argc == 5 && (parse_u64(argv[4], 0, UINT64_MAX, &off) < 0 || off >= v.mv_size))
                        return usage();
                copy = malloc(v.mv_size);
                if (!copy)
                        return 1;
                memcpy(copy, v.mv_data, v.mv_size);
                copy[off] ^= 1;
                v.mv_data = copy;
                r = mdb_put(txn, entries, &k, &v, 0);
                if (r)
                        return fail("mdb_put", r);
                printf("flipped the low bit of byte %" PRIu64 " of entry %" PRIu64 "\n", off, a);
                free(copy);
        } else if (strcmp(cmd, "delete") == 0 && argc == 4 && parse_u64(argv[3], 0, UINT64_MAX, &a) == 0) {
                entry_key(&k, kb, a);
                r = mdb_del(txn, entries, &k, NULL);
                if (r)
                        return fail("mdb_del", r);
                printf("deleted entry %" PRIu64 "\n", a);
        } else if (strcmp(cmd, "swap") == 0 && argc == 5 && parse_u64(argv[3], 0, UINT64_MAX, &a) == 0 &&
                   parse_u64(argv[4], 0, UINT64_MAX, &b) == 0 && a != b) {
                void *ca, *cb;
                size_t na, nb;

                entry_key(&k, kb, a);
                entry_key(&k2, kb2, b);
                r = mdb_get(txn, entries, &k, &v);
                if (!r)
                        r = mdb_get(txn, entries, &k2, &v2);
                if (r)
                        return fail("entry", r);
                na = v.mv_size;
                nb = v2.mv_size;
                ca = malloc(na);
                cb = malloc(nb);
                if (!ca || !cb)
                        return 1;
                memcpy(ca, v.mv_data, na);
                memcpy(cb, v2.mv_data, nb);
                v = (MDB_val){ .mv_size = nb, .mv_data = cb };
                v2 = (MDB_val){ .mv_size = na, .mv_data = ca };
                r = mdb_put(txn, entries, &k, &v, 0);
                if (!r)
                        r = mdb_put(txn, entries, &k2, &v2, 0);
                if (r)
                        return fail("mdb_put", r);
                printf("swapped entries %" PRIu64 " and %" PRIu64 "\n", a, b);
                free(ca);
                free(cb);
        } else if (strcmp(cmd, "truncate") == 0 && (argc == 4 || argc == 5) &&
                   parse_u64(argv[3], 0, UINT64_MAX, &a) == 0) {
                bool drop_cp = argc == 5 && strcmp(argv[4], "--drop-checkpoints") == 0;
                uint64_t n = log_size(txn, entries), keep, removed_nodes = 0, removed_cp = 0, removed_idx = 0;
                MDB_cursor *c;

                if (argc == 5 && !drop_cp)
                        return usage();
                if (a > n)
                        a = n;
                keep = n - a;
                for (uint64_t s = keep; s < n; s++) {
                        entry_key(&k, kb, s);
                        r = mdb_del(txn, entries, &k, NULL);
                        if (r && r != MDB_NOTFOUND)
                                return fail("mdb_del", r);
                }
                /* tree nodes that reach beyond `keep` leaves: (index + 1) << level > keep */
                r = mdb_cursor_open(txn, tree, &c);
                if (r)
                        return fail("cursor", r);
                for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                        unsigned level;
                        uint64_t index;

                        if (k.mv_size != 9)
                                continue;
                        level = ((unsigned char *)k.mv_data)[0];
                        index = be64_get((unsigned char *)k.mv_data + 1);
                        if (level < 64 && (index + 1) > (keep >> level)) {
                                r = mdb_cursor_del(c, 0);
                                if (r)
                                        return fail("mdb_cursor_del", r);
                                removed_nodes++;
                        }
                }
                mdb_cursor_close(c);
                r = mdb_cursor_open(txn, by_subject, &c);
                if (r)
                        return fail("cursor", r);
                for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
                        if (k.mv_size == 40 && be64_get((unsigned char *)k.mv_data + 32) >= keep) {
                                r = mdb_cursor_del(c, 0);
                                if (r)
                                        return fail("mdb_cursor_del", r);
                                removed_idx++;
                        }
                mdb_cursor_close(c);
                if (drop_cp) {
                        r = mdb_cursor_open(txn, checkpoints, &c);
                        if (r)
                                return fail("cursor", r);
                        for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT))
                                if (k.mv_size == 8 && be64_get(k.mv_data) > keep) {
                                        r = mdb_cursor_del(c, 0);
                                        if (r)
                                                return fail("mdb_cursor_del", r);
                                        removed_cp++;
                                }
                        mdb_cursor_close(c);
                }
                printf("truncated the log from %" PRIu64 " to %" PRIu64 " entries (%" PRIu64 " tree nodes, %" PRIu64
                       " index entries, %" PRIu64 " checkpoints removed)\n",
                       n, keep, removed_nodes, removed_idx, removed_cp);
        } else {
                mdb_txn_abort(txn);
                mdb_env_close(env);
                return usage();
        }
        r = mdb_txn_commit(txn);
        if (r)
                return fail("mdb_txn_commit", r);
        mdb_env_close(env);
        return 0;
}
