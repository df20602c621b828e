/* test-audit-util.h: building and damaging small exchange logs for the audit unit tests */
#pragma once

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/hash.h"
#include "log/checkpoint.h"
#include "log/exlog.h"
#include "util/bytes.h"
#include "util/mailbox.h"

#define T_SUBJECT_A "aa112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* Append `n` entries to an open log; entry i's fields depend on `base + i`. Waits until all are durable. */
static inline void t_append(ExchangeLog *log, uint64_t base, unsigned n, const char *subject_hex)
{
        Mailbox replies;
        ExlogRecord *recs = calloc(n, sizeof(*recs));
        char(*bodies)[512] = calloc(n, sizeof(*bodies));
        unsigned done = 0;

        assert(recs && bodies);
        assert(mailbox_init(&replies, 0) == 0);
        for (unsigned i = 0; i < n; i++) {
                uint64_t k = base + i;
                char rq[65], rs[65];
                uint8_t d[32];
                hash_sha256(&k, sizeof(k), d);
                hex_encode(d, 32, rq);
                d[0] ^= 1;
                hex_encode(d, 32, rs);
                int len = snprintf(bodies[i], sizeof(bodies[i]),
                                   "{\"xroad_id\":\"x-%" PRIu64
                                   "\",\"client\":\"%s\",\"service\":\"%s\",\"subject\":%s%s%s,"
                                   "\"purpose\":\"p\",\"basis\":\"statute\",\"decision\":\"%s\",\"status\":%d,"
                                   "\"request_hash\":\"%s\",\"response_hash\":\"%s\",\"duration_us\":1234}",
                                   k, k % 2 ? "VN/GOV/A/one" : "VN/GOV/B/two",
                                   k % 3 ? "VN/GOV/S/s/citizen" : "VN/GOV/S/s/land",
                                   subject_hex && k % 4 == 0 ? "\"" : "",
                                   subject_hex && k % 4 == 0 ? subject_hex : "null",
                                   subject_hex && k % 4 == 0 ? "\"" : "", k % 5 == 4 ? "deny" : "allow",
                                   k % 5 == 4 ? 403 : 200, rq, rs);
                recs[i] = (ExlogRecord){ .reply_to = &replies, .body = bodies[i], .body_size = (size_t)len };
                if (subject_hex && k % 4 == 0)
                        strcpy(recs[i].subject, subject_hex);
                while (exlog_append(log, &recs[i]) == -EAGAIN)
                        mailbox_wait(&replies, 10);
        }
        while (done < n) {
                mailbox_wait(&replies, 1000);
                for (MailboxItem *it = mailbox_drain(&replies); it; it = it->next) {
                        assert(((ExlogRecord *)it)->result == 0);
                        done++;
                }
        }
        mailbox_deinit(&replies);
        free(recs);
        free(bodies);
}

/*
 * Keep only the checkpoints whose sizes are in `sizes`: the writer may also
 * sign one right after it starts, at whatever size its first batch reached.
 */
static inline void t_keep_checkpoints(const char *dir, const uint64_t *sizes, size_t n_sizes)
{
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        MDB_cursor *c;
        MDB_val k, v;

        assert(mdb_env_create(&env) == 0);
        mdb_env_set_maxdbs(env, 8);
        assert(mdb_env_open(env, dir, 0, 0600) == 0);
        assert(mdb_txn_begin(env, NULL, 0, &txn) == 0);
        assert(mdb_dbi_open(txn, "checkpoints", 0, &dbi) == 0);
        assert(mdb_cursor_open(txn, dbi, &c) == 0);
        for (int r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                uint64_t size = 0;
                bool keep = false;
                for (int i = 0; i < 8; i++)
                        size = (size << 8) | ((uint8_t *)k.mv_data)[i];
                for (size_t i = 0; i < n_sizes; i++)
                        keep = keep || sizes[i] == size;
                if (!keep)
                        assert(mdb_cursor_del(c, 0) == 0);
        }
        mdb_cursor_close(c);
        assert(mdb_txn_commit(txn) == 0);
        mdb_env_close(env);
}

/* A log with checkpoints at each size in `sizes` (each made by closing the log), and only those. */
static inline void t_make_log(const char *dir, const CheckpointSigner *s, const uint64_t *sizes, size_t n_sizes,
                              const char *subject_hex)
{
        uint64_t have = 0;

        for (size_t i = 0; i < n_sizes; i++) {
                ExchangeLog *log;
                assert(exlog_open(&log, dir,
                                  &(ExlogOptions){ .checkpoints = s,
                                                   .checkpoint_interval_ms = 3600000,
                                                   .map_size = (size_t)64 << 20 }) == 0);
                t_append(log, have, (unsigned)(sizes[i] - have), subject_hex);
                have = sizes[i];
                exlog_close(log);
        }
        t_keep_checkpoints(dir, sizes, n_sizes);
}

static inline CheckpointSigner *t_signer(const char *name)
{
        CheckpointSigner *s = NULL;
        EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

        assert(pkey && checkpoint_signer_new(&s, name, pkey) == 0);
        EVP_PKEY_free(pkey);
        return s;
}

static inline CheckpointVerifier *t_verifier(const CheckpointSigner *s)
{
        CheckpointVerifier *v = NULL;

        assert(checkpoint_signer_verifier(s, &v) == 0);
        return v;
}

static inline void t_copy(const char *from, char *to_template)
{
        char cmd[512];

        assert(mkdtemp(to_template));
        snprintf(cmd, sizeof(cmd), "cp -a '%s'/. '%s'/", from, to_template);
        assert(system(cmd) == 0);
}

static inline void t_rmrf(const char *dir)
{
        char cmd[512];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert(system(cmd) == 0);
}

/* Raw LMDB access to one table of a stopped log: put (val != NULL) or delete one key. */
static inline void t_raw(const char *dir, const char *table, const void *key, size_t klen, const void *val, size_t vlen)
{
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        MDB_val k = { .mv_size = klen, .mv_data = (void *)key }, v = { .mv_size = vlen, .mv_data = (void *)val };

        assert(mdb_env_create(&env) == 0);
        mdb_env_set_maxdbs(env, 8);
        assert(mdb_env_open(env, dir, 0, 0600) == 0);
        assert(mdb_txn_begin(env, NULL, 0, &txn) == 0);
        assert(mdb_dbi_open(txn, table, 0, &dbi) == 0);
        if (val)
                assert(mdb_put(txn, dbi, &k, &v, 0) == 0);
        else
                assert(mdb_del(txn, dbi, &k, NULL) == 0);
        assert(mdb_txn_commit(txn) == 0);
        mdb_env_close(env);
}

static inline char *t_get(const char *dir, uint64_t seq, size_t *size)
{
        ExlogReader *r;
        char *e = NULL;

        assert(exlog_reader_open(&r, dir) == 0);
        assert(exlog_reader_get(r, seq, &e, size) == 0);
        exlog_reader_close(r);
        return e;
}

static inline void t_put_entry(const char *dir, uint64_t seq, const char *e, size_t size)
{
        uint8_t k[8];

        be64_put(k, seq);
        t_raw(dir, "entries", k, 8, e, size);
}

static inline void t_del_entry(const char *dir, uint64_t seq)
{
        uint8_t k[8];

        be64_put(k, seq);
        t_raw(dir, "entries", k, 8, NULL, 0);
}

static inline void t_del_node(const char *dir, unsigned level, uint64_t index)
{
        uint8_t k[9];

        k[0] = (uint8_t)level;
        be64_put(k + 1, index);
        t_raw(dir, "tree", k, 9, NULL, 0);
}

static inline bool t_contains(const char *s, const char *needle)
{
        bool ok = s && strstr(s, needle);

        if (!ok)
                fprintf(stderr, "expected \"%s\" in: %s\n", needle, s ? s : "(null)");
        return ok;
}
