/* test-exlog.c: group commit, sequence numbers, recovery, refusal of bad bodies */
#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "log/batch-receipt.h"
#include "log/exlog.h"
#include "log/checkpoint.h"
#include "log/merkle.h"
#include <openssl/evp.h>
#include "util/macro.h"
#include "util/time-util.h"

#define N_THREADS 4
#define N_PER_THREAD 500

typedef struct Worker {
        ExchangeLog *log;
        Mailbox replies;
        ExlogRecord recs[N_PER_THREAD];
        char bodies[N_PER_THREAD][64];
        unsigned done;
} Worker;

static void *worker(void *userdata)
{
        Worker *w = userdata;

        for (unsigned i = 0; i < N_PER_THREAD; i++) {
                ExlogRecord *rec = &w->recs[i];
                int n = snprintf(w->bodies[i], sizeof(w->bodies[i]), "{\"worker\":\"%p\",\"i\":%u}", (void *)w, i);
                *rec = (ExlogRecord){ .reply_to = &w->replies, .body = w->bodies[i], .body_size = (size_t)n };
                if (i % 3 == 0)
                        strcpy(rec->subject, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
                while (exlog_append(w->log, rec) == -EAGAIN)
                        mailbox_wait(&w->replies, 10);
        }
        while (w->done < N_PER_THREAD) {
                MailboxItem *it;
                mailbox_wait(&w->replies, 1000);
                for (it = mailbox_drain(&w->replies); it; it = it->next) {
                        ExlogRecord *rec = (ExlogRecord *)it;
                        assert(rec->result == 0);
                        w->done++;
                }
        }
        return NULL;
}

/* A single-use consent in the log's environment, as the node keeps them. */
static void single_use_consent(ExchangeLog *log, ConsentStore **ret_store, ConsentRecord *ret)
{
        static char *services[] = { "VN/GOV/X/y/svc", NULL }, *none[] = { NULL };
        uint64_t now = now_usec(CLOCK_REALTIME);

        assert(consent_store_open(ret_store, exlog_env(log)) == 0);
        assert(consent_create(*ret_store,
                              &(ConsentRecord){
                                      .subject = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                      .grantee = "VN/GOV/A/b",
                                      .services = services,
                                      .categories = none,
                                      .purpose = "test",
                                      .authority = "VN/GOV/P/portal",
                                      .valid_from_usec = now - USEC_PER_SEC,
                                      .expires_usec = now + 3600 * USEC_PER_SEC,
                                      .max_uses = 1 },
                              now, ret) == 0);
}

/* Append one record and wait for it. Return: the record's result. */
static int append_one(ExchangeLog *log, ExlogRecord *rec)
{
        Mailbox mb;
        int r;

        assert(mailbox_init(&mb, 0) == 0);
        rec->reply_to = &mb;
        r = exlog_append(log, rec);
        while (r == 0 && !mailbox_drain(&mb))
                mailbox_wait(&mb, 1000);
        mailbox_deinit(&mb);
        return r < 0 ? r : rec->result;
}

/*
 * What kill -9 leaves (every write in the page cache, nothing closed): a copy
 * of the folder taken while the log is open. It opens with every acknowledged
 * entry (LMDB back to its last base, the segments replayed), the same tree,
 * and the consent use the segments carried; small segments and bases asked
 * for meanwhile (exlog_sync()) make the writer change files and remove old
 * ones. `cp` is not a snapshot in time as kill -9 is: no base may move (and
 * remove segments, or free the pinned pages) while it copies, so bases come
 * only when asked for here (a base interval far longer than the test).
 */
static void test_crash_copy(void)
{
        static const ExlogEntry entry = { .allow = true, .status = 200 };
        char dir[] = "/tmp/test-exlog-crash-XXXXXX", copy[64], cmd[160];
        ExlogOptions opts = { .segment_size = 4096, .base_interval_ms = 600 * 1000 };
        uint8_t root1[32], root2[32];
        ExchangeLog *log, *log2;
        ExlogReader *rd;
        ConsentStore *store = NULL, *store2 = NULL;
        ConsentRecord consent = {};
        ExlogRecord rec;
        char body[96];
        uint64_t size;
        int n;

        assert(mkdtemp(dir));
        snprintf(copy, sizeof(copy), "%s.copy", dir);
        assert(exlog_open(&log, dir, &opts) == 0);
        single_use_consent(log, &store, &consent);
        assert(exlog_sync(log) == 0); /* the consent's record is durable */
        for (unsigned i = 0; i < 300; i++) {
                n = snprintf(body, sizeof(body), "{\"i\":%u,\"pad\":\"%0*d\"}", i, 40, 0);
                rec = (ExlogRecord){ .body = body, .body_size = (size_t)n };
                if (i == 297) /* after the last base, most likely: replayed */
                        rec = (ExlogRecord){ .body = "{\"use\":true}",
                                             .body_size = 12,
                                             .consents = store,
                                             .consent_id = consent.id,
                                             .entry = &entry };
                assert(append_one(log, &rec) == 0);
                assert(rec.seq == i && rec.consent_result == 0);
                if (i % 50 == 0)
                        assert(exlog_sync(log) == 0); /* a base now: older segments go */
        }
        snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", dir, copy);
        assert(system(cmd) == 0);
        assert(exlog_reader_new(&rd, log) == 0);
        assert(exlog_reader_root(rd, 300, root1) == 0);
        exlog_reader_close(rd);
        consent_store_free(store);
        exlog_close(log);

        assert(exlog_open(&log2, copy, &opts) == 0);
        assert(exlog_size(log2) == 300);
        assert(exlog_reader_new(&rd, log2) == 0);
        assert(exlog_reader_size(rd, &size) == 0 && size == 300);
        assert(exlog_reader_root(rd, 300, root2) == 0);
        assert(memcmp(root1, root2, 32) == 0);
        exlog_reader_close(rd);
        /* the use was counted durably with its entry: a second one is refused */
        assert(consent_store_open(&store2, exlog_env(log2)) == 0);
        rec = (ExlogRecord){
                .body = "{\"use\":true}", .body_size = 12, .consents = store2, .consent_id = consent.id, .entry = &entry
        };
        assert(append_one(log2, &rec) == 0);
        assert(rec.seq == 300 && rec.consent_result == CONSENT_E_EXHAUSTED);
        consent_store_free(store2);
        exlog_close(log2);
        consent_record_done(&consent);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, copy);
        assert(system(cmd) == 0);
}

/*
 * An idle log makes no timed base (it would sync data.mdb and add a segment
 * record for nothing); an entry, or a consent's write, makes the next one due.
 */
static void test_idle_no_base(void)
{
        static const ExlogOptions opts = { .base_interval_ms = 20 };
        char dir[] = "/tmp/test-exlog-idle-XXXXXX", cmd[96], body[32];
        ExchangeLog *log;
        ExlogStats st;
        ExlogRecord rec;
        uint64_t bases;
        ConsentStore *store = NULL;
        ConsentRecord consent = {};

        assert(mkdtemp(dir));
        assert(exlog_open(&log, dir, &opts) == 0);
        rec = (ExlogRecord){ .body = "{\"i\":0}", .body_size = 7 };
        assert(append_one(log, &rec) == 0);
        assert(exlog_sync(log) == 0);
        usleep(100 * 1000); /* five intervals: whatever base was due is made */
        exlog_stats(log, &st);
        bases = st.bases;
        assert(bases >= 1);
        usleep(300 * 1000); /* fifteen idle intervals */
        exlog_stats(log, &st);
        assert(st.bases == bases);

        for (unsigned i = 1; i <= 5; i++) {
                int n = snprintf(body, sizeof(body), "{\"i\":%u}", i);
                rec = (ExlogRecord){ .body = body, .body_size = (size_t)n };
                assert(append_one(log, &rec) == 0);
                usleep(50 * 1000);
        }
        exlog_stats(log, &st);
        assert(st.bases > bases); /* entries: timed bases again */
        usleep(100 * 1000);
        exlog_stats(log, &st);
        bases = st.bases;

        single_use_consent(log, &store, &consent); /* a write of LMDB that is not an entry */
        usleep(200 * 1000);
        exlog_stats(log, &st);
        assert(st.bases > bases);
        consent_store_free(store);
        consent_record_done(&consent);
        exlog_close(log);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert(system(cmd) == 0);
}

/*
 * Receipts of one signature per batch (ExlogOptions.receipt_signer): every
 * record gets one, it verifies, its entry is the stored entry, and its head's
 * root is the stored tree's root at the head's size. Off by default.
 */
static void test_batch_receipts(void)
{
        enum { N = 300 };
        char dir[] = "/tmp/test-exlog-receipts-XXXXXX", cmd[128];
        EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        _cleanup_(signer_freep) Signer *signer = NULL;
        _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL;
        static ExlogRecord recs[N];
        static char bodies[N][48];
        ExchangeLog *log;
        ExlogReader *rd;
        Mailbox mb;
        unsigned done = 0, heads = 0;
        uint64_t last_size = 0;

        assert(pkey && signer_new(&signer, pkey) == 0 && jws_verifier_from_pkey(&v, pkey) == 0);
        EVP_PKEY_free(pkey);
        assert(mkdtemp(dir));
        /* a head needs an origin: the option's or the checkpoint signer's name */
        assert(exlog_open(&log, dir, &(ExlogOptions){ .receipt_signer = signer }) == -EINVAL);
        assert(exlog_open(&log, dir,
                          &(ExlogOptions){ .receipt_signer = signer,
                                           .receipt_origin = "test.xbus.local/receipts",
                                           .max_batch = 16 }) == 0);
        assert(mailbox_init(&mb, 0) == 0);
        for (unsigned i = 0; i < N; i++) {
                int n = snprintf(bodies[i], sizeof(bodies[i]), "{\"i\":%u}", i);

                recs[i] = (ExlogRecord){ .reply_to = &mb, .body = bodies[i], .body_size = (size_t)n };
                if (i % 5 == 0)
                        strcpy(recs[i].subject, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
                assert(exlog_append(log, &recs[i]) == 0);
        }
        while (done < N) {
                mailbox_wait(&mb, 1000);
                for (MailboxItem *it = mailbox_drain(&mb); it; it = it->next, done++)
                        assert(((ExlogRecord *)it)->result == 0);
        }
        mailbox_deinit(&mb);
        exlog_close(log);

        assert(exlog_reader_open(&rd, dir) == 0);
        for (unsigned i = 0; i < N; i++) {
                _cleanup_(batch_receipt_freep) BatchReceipt *br = NULL;
                BatchHead h;
                json_t *e = NULL;
                char *stored;
                size_t n;
                uint8_t root[32];

                assert(recs[i].batch_receipt && batch_receipt_is(recs[i].batch_receipt, strlen(recs[i].batch_receipt)));
                assert(batch_receipt_parse(recs[i].batch_receipt, strlen(recs[i].batch_receipt), &br) == 0);
                assert(batch_receipt_verify(v, br, "test.xbus.local/receipts", &h, &e) == 0);
                assert(json_integer_value(json_object_get(e, "seq")) == (json_int_t)recs[i].seq);
                assert(json_integer_value(json_object_get(e, "i")) == (json_int_t)i);
                json_decref(e);
                assert(exlog_reader_get(rd, recs[i].seq, &stored, &n) == 0);
                assert(n == br->entry_len && memcmp(stored, br->entry, n) == 0);
                free(stored);
                assert(h.size > recs[i].seq && h.size <= N);
                assert(exlog_reader_root(rd, h.size, root) == 0 && memcmp(root, h.root, 32) == 0);
                if (h.size != last_size)
                        heads++;
                last_size = h.size;
                free(recs[i].batch_receipt);
        }
        printf("batch receipts: %u entries under %u signed heads\n", N, heads);
        assert(heads >= N / 16 && heads <= N);
        exlog_reader_close(rd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert(system(cmd) == 0);
}

int main(void)
{
        char dir[] = "/tmp/test-exlog-XXXXXX";
        ExchangeLog *log;
        ExlogReader *reader;
        Worker workers[N_THREADS];
        pthread_t th[N_THREADS];
        ExlogStats st;
        uint64_t size;
        bool *seen;
        int r;

        CheckpointSigner *cps = NULL;
        EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        assert(pkey && checkpoint_signer_new(&cps, "test.xbus.local", pkey) == 0);
        EVP_PKEY_free(pkey);

        assert(mkdtemp(dir));
        assert(exlog_open(&log, dir,
                          &(ExlogOptions){ .max_batch = 64,
                                           .queue_capacity = 256,
                                           .checkpoints = cps,
                                           .checkpoint_interval_ms = 50 }) == 0);
        assert(exlog_size(log) == 0);

        /* refusal: the body must be a JSON object text */
        {
                ExlogRecord bad = { .body = "[1]", .body_size = 3 };
                assert(exlog_append(log, &bad) == -EINVAL);
                bad = (ExlogRecord){ .body = "{", .body_size = 1 };
                assert(exlog_append(log, &bad) == -EINVAL);
        }

        for (int i = 0; i < N_THREADS; i++) {
                workers[i] = (Worker){ .log = log };
                assert(mailbox_init(&workers[i].replies, 0) == 0);
                assert(pthread_create(&th[i], NULL, worker, &workers[i]) == 0);
        }
        for (int i = 0; i < N_THREADS; i++)
                pthread_join(th[i], NULL);

        exlog_stats(log, &st);
        printf("entries=%llu batches=%llu max_batch=%llu\n", (unsigned long long)st.entries,
               (unsigned long long)st.batches, (unsigned long long)st.max_batch_seen);
        assert(st.entries == N_THREADS * N_PER_THREAD);
        assert(st.max_batch_seen <= 64);
        assert(st.failures == 0);

        /* every sequence number was handed out exactly once */
        seen = calloc(N_THREADS * N_PER_THREAD, sizeof(bool));
        for (int i = 0; i < N_THREADS; i++)
                for (int j = 0; j < N_PER_THREAD; j++) {
                        uint64_t s = workers[i].recs[j].seq;
                        assert(s < N_THREADS * N_PER_THREAD);
                        assert(!seen[s]);
                        seen[s] = true;
                }
        free(seen);

        /* an entry read back is prefix + the caller's fields, valid JSON */
        {
                char *e = NULL;
                size_t n;
                json_t *j;
                uint64_t s = workers[1].recs[7].seq;
                assert(exlog_open(&(ExchangeLog *){ NULL }, "/nonexistent/dir/x", NULL) < 0);
                /* LMDB: one environment per process, so read after closing the writer */
                exlog_close(log);
                assert(exlog_reader_open(&reader, dir) == 0);
                assert(exlog_reader_size(reader, &size) == 0);
                assert(size == N_THREADS * N_PER_THREAD);
                assert(exlog_reader_get(reader, s, &e, &n) == 0);
                printf("entry: %s\n", e);
                j = json_loadb(e, n, 0, NULL);
                assert(j);
                assert(json_integer_value(json_object_get(j, "seq")) == (json_int_t)s);
                assert(json_integer_value(json_object_get(j, "v")) == 1);
                assert(json_integer_value(json_object_get(j, "i")) == 7);
                assert(json_is_string(json_object_get(j, "time")));
                assert(strncmp(e, "{\"v\":1,\"seq\":", 13) == 0);
                json_decref(j);
                free(e);
                assert(exlog_reader_get(reader, size, &e, &n) == -ENOENT);

                /* the subject index: every third record of each worker, newest first, paged */
                {
                        uint8_t ps[32];
                        uint64_t seqs[2000], page[7], prev = UINT64_MAX;
                        size_t ns = 0, np, total = 0;
                        assert(hex_decode("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", ps, 32) ==
                               0);
                        assert(exlog_reader_subject(reader, ps, UINT64_MAX, seqs, 2000, &ns) == 0);
                        assert(ns == N_THREADS * ((N_PER_THREAD + 2) / 3));
                        for (size_t q = 1; q < ns; q++)
                                assert(seqs[q] < seqs[q - 1]);
                        do {
                                assert(exlog_reader_subject(reader, ps, prev, page, 7, &np) == 0);
                                for (size_t q = 0; q < np; q++)
                                        assert(page[q] == seqs[total + q]);
                                total += np;
                                if (np)
                                        prev = page[np - 1];
                        } while (np == 7);
                        assert(total == ns);
                        ps[0] ^= 1;
                        assert(exlog_reader_subject(reader, ps, UINT64_MAX, seqs, 2000, &ns) == 0 && ns == 0);
                }

                /* the stored tree is the RFC 9162 tree of the stored entries */
                {
                        MerkleAppender a;
                        uint8_t leaf[32], want[32], got[32], path[MERKLE_PROOF_MAX][32], old[32];
                        size_t len;
                        merkle_appender_init(&a);
                        for (uint64_t q = 0; q < size; q++) {
                                MerkleNode nodes[MERKLE_MAX_LEVELS];
                                size_t nn;
                                assert(exlog_reader_get(reader, q, &e, &n) == 0);
                                assert(merkle_leaf_hash(e, n, leaf) == 0);
                                assert(merkle_appender_append(&a, leaf, nodes, &nn) == 0);
                                if (q == 6) /* remember the root of size 7 */
                                        assert(merkle_appender_root(&a, old) == 0);
                                free(e);
                        }
                        assert(merkle_appender_root(&a, want) == 0);
                        assert(exlog_reader_root(reader, size, got) == 0);
                        assert(memcmp(want, got, 32) == 0);
                        assert(exlog_reader_get(reader, 123, &e, &n) == 0);
                        assert(merkle_leaf_hash(e, n, leaf) == 0);
                        free(e);
                        assert(exlog_reader_inclusion_proof(reader, 123, size, path, &len) == 0);
                        assert(merkle_verify_inclusion(leaf, 123, size, (const uint8_t(*)[32])path, len, got) == 0);
                        leaf[0] ^= 1;
                        assert(merkle_verify_inclusion(leaf, 123, size, (const uint8_t(*)[32])path, len, got) > 0);
                        assert(exlog_reader_consistency_proof(reader, 7, size, path, &len) == 0);
                        assert(merkle_verify_consistency(7, size, old, got, (const uint8_t(*)[32])path, len) == 0);
                        assert(exlog_reader_root(reader, size + 1, got) == -ENOENT);

                        /* the checkpoint made at close covers the whole log and verifies */
                        {
                                CheckpointVerifier *v = NULL;
                                Checkpoint *cp = NULL;
                                char *note = NULL;
                                uint64_t cps_size = 0;
                                assert(exlog_reader_checkpoint(reader, 0, &note, &cps_size) == 0);
                                assert(cps_size == size);
                                assert(checkpoint_signer_verifier(cps, &v) == 0);
                                assert(checkpoint_open(note, strlen(note), v, "test.xbus.local", &cp) == 0);
                                assert(cp->size == size && memcmp(cp->root, got, 32) == 0);
                                assert(cp->n_extensions == 1 && strncmp(cp->extensions[0], "time ", 5) == 0);
                                checkpoint_free(cp);
                                free(note);
                                /* the first checkpoint covering entry 10 */
                                assert(exlog_reader_checkpoint(reader, 11, &note, &cps_size) == 0);
                                assert(cps_size >= 11);
                                free(note);
                                assert(exlog_reader_checkpoint(reader, size + 1, &note, &cps_size) == -ENOENT);
                                checkpoint_verifier_free(v);
                        }
                }
                exlog_reader_close(reader);
        }

        /* reopen: numbering continues after the last committed entry */
        assert(exlog_open(&log, dir, NULL) == 0);
        {
                /* a consent's use is counted inside the entry's transaction: the first use wins,
                 * the rest are stored as refusals */
                static const ExlogEntry entry = { .allow = true, .status = 200 };
                ConsentStore *store = NULL;
                ConsentRecord consent = {};
                Mailbox mb;
                ExlogRecord recs[5];
                unsigned won = 0, refused = 0, done = 0;
                single_use_consent(log, &store, &consent);
                assert(mailbox_init(&mb, 0) == 0);
                /* a consent to count needs the store and the entry's fields */
                recs[0] = (ExlogRecord){ .body = "{}", .body_size = 2, .reply_to = &mb, .consent_id = consent.id };
                assert(exlog_append(log, &recs[0]) == -EINVAL);
                for (int q = 0; q < 5; q++) {
                        recs[q] = (ExlogRecord){ .body = "{\"use\":true}",
                                                 .body_size = 12,
                                                 .reply_to = &mb,
                                                 .consents = store,
                                                 .consent_id = consent.id,
                                                 .entry = &entry };
                        assert(exlog_append(log, &recs[q]) == 0);
                }
                while (done < 5) {
                        mailbox_wait(&mb, 1000);
                        for (MailboxItem *it = mailbox_drain(&mb); it; it = it->next, done++) {
                                ExlogRecord *rec = (ExlogRecord *)it;
                                assert(rec->result == 0);
                                if (rec->consent_result == 0)
                                        won++;
                                else if (rec->consent_result == CONSENT_E_EXHAUSTED)
                                        refused++;
                        }
                }
                assert(won == 1 && refused == 4);
                mailbox_deinit(&mb);
                consent_record_done(&consent);
                consent_store_free(store);
        }
        exlog_close(log);
        {
                ExlogReader *rd;
                char *e;
                size_t n, uses = 0, refusals = 0;
                assert(exlog_reader_open(&rd, dir) == 0);
                for (uint64_t q = N_THREADS * N_PER_THREAD; q < N_THREADS * N_PER_THREAD + 5; q++) {
                        assert(exlog_reader_get(rd, q, &e, &n) == 0);
                        uses += strstr(e, "\"use\":true") != NULL;
                        refusals += strstr(e, "\"decision\":\"deny\"") && strstr(e, "\"error\":\"consent_invalid\"") &&
                                    strstr(e, "\"reason\":\"exhausted\"") && strstr(e, "\"response_hash\":null");
                        free(e);
                }
                assert(uses == 1 && refusals == 4);
                exlog_reader_close(rd);
        }
        assert(exlog_open(&log, dir, NULL) == 0);
        assert(exlog_size(log) == N_THREADS * N_PER_THREAD + 5);
        {
                Mailbox mb;
                ExlogRecord rec = { .body = "{}", .body_size = 2, .reply_to = &mb };
                assert(mailbox_init(&mb, 0) == 0);
                assert(exlog_append(log, &rec) == 0);
                while (!mailbox_drain(&mb))
                        mailbox_wait(&mb, 1000);
                assert(rec.result == 0);
                assert(rec.seq == N_THREADS * N_PER_THREAD + 5);
                assert(rec.batch_receipt == NULL); /* receipts per batch are off by default */
                mailbox_deinit(&mb);
        }
        exlog_close(log);
        for (int i = 0; i < N_THREADS; i++)
                mailbox_deinit(&workers[i].replies);
        checkpoint_signer_free(cps);

        {
                char cmd[128];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                r = system(cmd);
                (void)r;
        }
        test_crash_copy();
        test_idle_no_base();
        test_batch_receipts();
        printf("exlog: ok\n");
        return 0;
}
