/* bench-log.c: exchange log throughput, proof generation and verification times (issue 5, point 8)
 *
 * Not a test: it prints one table and asserts no timing.
 *
 *   1. appends/s with group commit: T threads keep W entries each in flight
 *      (like T * W concurrent exchanges) into a log on a real disk folder,
 *      entries the size of real ones (~700 bytes), fsync per batch;
 *   2. a log of E small entries (default 10,000,000) built through the same
 *      writer with big batches, then the time of inclusion and consistency
 *      proofs read from it (random indices, tree of all E entries);
 *   3. audit_verify_store() over both logs: seconds per million entries.
 *
 * Files go under --dir (default /tmp) and are removed at the end.
 * Usage: xbus-bench-log [--entries N] [--big N] [--threads T] [--in-flight W] [--dir DIR]
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit/audit-verify.h"
#include "log/checkpoint.h"
#include "log/exlog.h"
#include "util/macro.h"
#include "util/mailbox.h"

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct Feeder {
        ExchangeLog *log;
        uint64_t count; /* entries to append */
        unsigned in_flight;
        bool realistic;
        unsigned id;
} Feeder;

#define BODY_MAX 768

static int fill(char *b, bool realistic, unsigned id, uint64_t i)
{
        if (!realistic)
                return snprintf(b, BODY_MAX, "{\"i\":%" PRIu64 "}", i);
        return snprintf(b, BODY_MAX,
                        "{\"xroad_id\":\"bench-%u-%" PRIu64 "\",\"client\":\"VN/GOV/BYT/health-services\","
                        "\"service\":\"VN/GOV/BCA/population/citizen\",\"method\":\"GET\",\"path\":\"/\","
                        "\"user_id\":null,\"issue\":null,\"subject\":"
                        "\"79146f31f1822caec91b6f1f39a17167ec7223e12d92095ec"
                        "b3b3962abaf09cb\",\"purpose\":\"health-insurance-enrolment\",\"basis\":\"statute\","
                        "\"right\":\"byt-population-citizen\",\"legal_reference\":\"Law on Identification 2023, "
                        "art. 10\",\"consent\":null,\"decision\":\"allow\",\"status\":200,\"error\":null,"
                        "\"request_hash\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
                        "\"request_size\":0,\"response_hash\":"
                        "\"2cf69edb25a724c1c0ec012625915a277fa48fdd4dc8a0435d8f9"
                        "7d8a1a3dad8\",\"response_size\":390,\"duration_us\":%" PRIu64 "}",
                        id, i, 500 + i % 1000);
}

static void *feeder(void *userdata)
{
        Feeder *f = userdata;
        Mailbox replies;
        ExlogRecord *recs = calloc(f->in_flight, sizeof(*recs));
        char(*bodies)[BODY_MAX] = calloc(f->in_flight, BODY_MAX);
        uint64_t sent = 0, done = 0;

        assert(recs && bodies && mailbox_init(&replies, 0) == 0);
        for (unsigned k = 0; k < f->in_flight && sent < f->count; k++, sent++) {
                int n = fill(bodies[k], f->realistic, f->id, sent);
                recs[k] = (ExlogRecord){ .reply_to = &replies, .body = bodies[k], .body_size = (size_t)n };
                while (exlog_append(f->log, &recs[k]) == -EAGAIN)
                        usleep(100);
        }
        while (done < f->count) {
                mailbox_wait(&replies, 1000);
                for (MailboxItem *it = mailbox_drain(&replies), *next; it; it = next) {
                        ExlogRecord *rec = (ExlogRecord *)it;
                        size_t k = (size_t)(rec - recs);
                        next = it->next;
                        assert(rec->result == 0);
                        done++;
                        if (sent < f->count) {
                                int n = fill(bodies[k], f->realistic, f->id, sent++);
                                *rec = (ExlogRecord){ .reply_to = &replies, .body = bodies[k], .body_size = (size_t)n };
                                while (exlog_append(f->log, rec) == -EAGAIN)
                                        usleep(100);
                        }
                }
        }
        mailbox_deinit(&replies);
        free(recs);
        free(bodies);
        return NULL;
}

/* Append `total` entries from `threads` feeders. Return: seconds. */
static double run_feeders(ExchangeLog *log, uint64_t total, unsigned threads, unsigned in_flight, bool realistic)
{
        pthread_t th[64];
        Feeder f[64];
        double t0 = now();

        for (unsigned i = 0; i < threads; i++) {
                f[i] = (Feeder){ .log = log,
                                 .count = total / threads + (i < total % threads),
                                 .in_flight = in_flight,
                                 .realistic = realistic,
                                 .id = i };
                assert(pthread_create(&th[i], NULL, feeder, &f[i]) == 0);
        }
        for (unsigned i = 0; i < threads; i++)
                pthread_join(th[i], NULL);
        return now() - t0;
}

static double verify(const char *dir, const CheckpointVerifier *v, uint64_t expect)
{
        AuditReport rep;
        double t0 = now();
        int r = audit_verify_store(dir, &(AuditStoreOptions){ .verifier = v }, &rep);

        if (r != 0 || rep.entries != expect) {
                fprintf(stderr, "verify failed: %d %s\n", r, rep.reason ? rep.reason : "");
                exit(1);
        }
        audit_report_done(&rep);
        return now() - t0;
}

static uint64_t rnd(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static void usage(void)
{
        fprintf(stderr, "usage: xbus-bench-log [--entries N] [--big N] [--threads T] [--in-flight W] [--dir DIR]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        uint64_t entries = 200000, big = 10000000;
        unsigned threads = 4, in_flight = 256;
        const char *base = "/tmp";
        char dir1[512], dir2[512], cmd[1100];
        CheckpointSigner *signer = NULL;
        CheckpointVerifier *v = NULL;
        EVP_PKEY *pk;
        ExchangeLog *log;
        ExlogStats st;
        double t_app, t_big, t_ver1, t_ver2, t_inc, t_con;
        const unsigned n_proofs = 10000;

        for (int i = 1; i < argc; i++) {
                if (i + 1 >= argc)
                        usage();
                if (streq(argv[i], "--entries"))
                        entries = strtoull(argv[++i], NULL, 10);
                else if (streq(argv[i], "--big"))
                        big = strtoull(argv[++i], NULL, 10);
                else if (streq(argv[i], "--threads"))
                        threads = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (streq(argv[i], "--in-flight"))
                        in_flight = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (streq(argv[i], "--dir"))
                        base = argv[++i];
                else
                        usage();
        }
        if (entries < threads || big < 2 || threads < 1 || threads > 64 || in_flight < 1 || in_flight > 65536)
                usage();

        pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        assert(pk && checkpoint_signer_new(&signer, "bench.log", pk) == 0 &&
               checkpoint_signer_verifier(signer, &v) == 0);
        EVP_PKEY_free(pk);
        snprintf(dir1, sizeof(dir1), "%s/xbus-bench-log-XXXXXX", base);
        snprintf(dir2, sizeof(dir2), "%s/xbus-bench-log-XXXXXX", base);
        assert(mkdtemp(dir1) && mkdtemp(dir2));

        /* 1. group commit */
        assert(exlog_open(&log, dir1, &(ExlogOptions){ .checkpoints = signer, .checkpoint_interval_ms = 1000 }) == 0);
        t_app = run_feeders(log, entries, threads, in_flight, true);
        exlog_stats(log, &st);
        exlog_close(log);
        printf("appends: %" PRIu64 " entries (~700 bytes) from %u threads, %u in flight each: %.2f s, %.0f appends/s, "
               "%" PRIu64 " transactions (mean batch %.1f, max %" PRIu64 ")\n",
               entries, threads, in_flight, t_app, (double)entries / t_app, st.batches,
               (double)st.entries / (double)st.batches, st.max_batch_seen);
        fflush(stdout);
        t_ver1 = verify(dir1, v, entries);

        /* 2. a big log */
        assert(exlog_open(&log, dir2,
                          &(ExlogOptions){ .checkpoints = signer,
                                           .checkpoint_interval_ms = 10000,
                                           .max_batch = 16384,
                                           .queue_capacity = 65536 }) == 0);
        t_big = run_feeders(log, big, 2, 16384, false);
        exlog_close(log);
        printf("big log: %" PRIu64 " small entries in %.1f s (%.0f appends/s)\n", big, t_big, (double)big / t_big);
        fflush(stdout);
        {
                ExlogReader *r;
                uint8_t path[MERKLE_PROOF_MAX][32];
                size_t len, total = 0;
                uint64_t s = 88172645463325252ULL;
                double t0;

                assert(exlog_reader_open(&r, dir2) == 0);
                t0 = now();
                for (unsigned i = 0; i < n_proofs; i++) {
                        assert(exlog_reader_inclusion_proof(r, rnd(&s) % big, big, path, &len) == 0);
                        total += len;
                }
                t_inc = (now() - t0) / n_proofs;
                t0 = now();
                for (unsigned i = 0; i < n_proofs; i++) {
                        uint64_t a = 1 + rnd(&s) % big;
                        assert(exlog_reader_consistency_proof(r, a, big, path, &len) == 0);
                }
                t_con = (now() - t0) / n_proofs;
                exlog_reader_close(r);
                printf("proofs at %" PRIu64 " entries: inclusion %.1f us (mean %.1f hashes), consistency %.1f us\n",
                       big, t_inc * 1e6, (double)total / n_proofs, t_con * 1e6);
                fflush(stdout);
        }
        t_ver2 = verify(dir2, v, big);

        printf("\n%-58s %s\n", "measure", "result");
        printf("%-58s %.0f /s\n", "appends, group commit (fsync per batch), real-size entries",
               (double)entries / t_app);
        printf("%-58s %.0f /s\n", "appends, big batches, small entries", (double)big / t_big);
        printf("%-58s %.1f us\n", "inclusion proof at the big log's size", t_inc * 1e6);
        printf("%-58s %.1f us\n", "consistency proof at the big log's size", t_con * 1e6);
        printf("%-58s %.2f s per million (%.2f s total)\n", "verify, real-size entries", t_ver1 * 1e6 / (double)entries,
               t_ver1);
        printf("%-58s %.2f s per million (%.1f s total)\n", "verify, small entries", t_ver2 * 1e6 / (double)big,
               t_ver2);

        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir1, dir2);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s and %s\n", dir1, dir2);
        checkpoint_verifier_free(v);
        checkpoint_signer_free(signer);
        return 0;
}
