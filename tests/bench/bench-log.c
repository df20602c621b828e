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
 * With --commit N it measures one commit instead (issue 14, lever 2), for a
 * later change of the log to be compared with:
 *   - one entry at a time (one exchange at one connection): N commits, the
 *     latency of each (p50, p99, mean), CPU per commit;
 *   - 32 entries in flight (32 connections): entries/s, mean batch, latency;
 *   - per commit: sync points (fsync + fdatasync + msync + writes through an
 *     O_DSYNC descriptor: each waits for the disk), write calls, 4 KiB pages
 *     and bytes written, counted by the fault shim (tests/faults/fault-shim.c)
 *     over the log's files (segments, data.mdb); --shim PATH preloads it (the program runs
 *     itself again with LD_PRELOAD), without it the counts are not shown;
 *   - for scale: each commit at 1 in flight paired with one 4 KiB pwrite +
 *     fdatasync of a plain file in the same folder, timed apart, so both see
 *     the same load of the disk (a shared machine's disk varies tenfold).
 * The shim, without a journal, costs a mutex and an lseek per write.
 *
 * Files go under --dir (default /tmp) and are removed at the end.
 * Usage: xbus-bench-log [--entries N] [--big N] [--threads T] [--in-flight W] [--dir DIR]
 *        xbus-bench-log --commit N [--shim PATH] [--dir DIR]
 */
#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit/audit-verify.h"
#include "log/checkpoint.h"
#include "log/exlog.h"
#include "util/macro.h"
#include "util/mailbox.h"

#include "tests/faults/fault-shim.h"

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

/* ---- --commit: one commit, before and after a change of the log ---------------------------------- */

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static double pct(const double *sorted, size_t n, double p)
{
        size_t i = (size_t)(p * (double)n);

        return n ? sorted[i < n ? i : n - 1] : 0.0;
}

static double cpu_seconds(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               (double)ru.ru_stime.tv_usec / 1e6;
}

static void shim_stats(XbusFaultStats *ret)
{
        XbusFaultStatsFn fn = (XbusFaultStatsFn)dlsym(RTLD_DEFAULT, XBUS_FAULT_STATS_SYMBOL);

        *ret = (XbusFaultStats){ 0 };
        if (fn)
                fn(ret);
}

/* Like an exchange about a person: the entry is indexed under a subject pseudonym (one of 10,000). */
static void commit_subject(ExlogRecord *rec, uint64_t i)
{
        snprintf(rec->subject, sizeof(rec->subject), "%064" PRIx64,
                 (uint64_t)(0x9e3779b97f4a7c15ULL * (i % 10000 + 1)));
}

typedef struct CommitRun {
        double seconds, cpu;
        uint64_t entries, batches;
        XbusFaultStats io; /* during the run */
        double *lat;       /* per entry, seconds, sorted */
        size_t n_lat;
        double *plain; /* with a paired plain sync: its latencies, sorted */
} CommitRun;

/* One 4 KiB pwrite + fdatasync of a plain file: the disk's own sync latency. Return: seconds. */
static double plain_sync(int fd, uint64_t i)
{
        static const uint8_t page[4096] = { 1 };
        double t0 = now();

        assert(pwrite(fd, page, sizeof(page), (off_t)(i % 64) * 4096) == (ssize_t)sizeof(page));
        assert(fdatasync(fd) == 0);
        return now() - t0;
}

/*
 * Append `total` real-size entries, `in_flight` at a time, to a fresh log under `base`; time each.
 * paired: after each commit, time one plain sync in the same folder (in_flight 1 only), so the
 * two latencies are taken under the same load of the disk.
 */
static void commit_run(const char *base, uint64_t total, unsigned in_flight, bool paired, CommitRun *ret)
{
        char dir[512], cmd[600], plain_path[600];
        int plain_fd = -1;
        ExchangeLog *log;
        ExlogStats st;
        Mailbox replies;
        ExlogRecord *recs = calloc(in_flight, sizeof(*recs));
        char(*bodies)[BODY_MAX] = calloc(in_flight, BODY_MAX);
        double *sent = calloc(in_flight, sizeof(double)), t0, c0;
        XbusFaultStats s0, s1;
        uint64_t next = 0, done = 0;

        snprintf(dir, sizeof(dir), "%s/xbus-bench-commit-XXXXXX", base);
        assert(recs && bodies && sent && mkdtemp(dir));
        *ret = (CommitRun){ .lat = calloc(total, sizeof(double)),
                            .plain = paired ? calloc(total, sizeof(double)) : NULL };
        assert(ret->lat && (!paired || ret->plain) && mailbox_init(&replies, 0) == 0);
        if (paired) {
                snprintf(plain_path, sizeof(plain_path), "%s/plain", dir);
                plain_fd = open(plain_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                assert(plain_fd >= 0);
        }
        assert(exlog_open(&log, dir, &(ExlogOptions){ 0 }) == 0);
        shim_stats(&s0);
        t0 = now();
        c0 = cpu_seconds();
        for (unsigned k = 0; k < in_flight && next < total; k++, next++) {
                int n = fill(bodies[k], true, 0, next);

                recs[k] = (ExlogRecord){ .reply_to = &replies, .body = bodies[k], .body_size = (size_t)n };
                commit_subject(&recs[k], next);
                sent[k] = now();
                assert(exlog_append(log, &recs[k]) == 0);
        }
        while (done < total) {
                mailbox_wait(&replies, 1000);
                for (MailboxItem *it = mailbox_drain(&replies), *nx; it; it = nx) {
                        ExlogRecord *rec = (ExlogRecord *)it;
                        size_t k = (size_t)(rec - recs);
                        double t = now();

                        nx = it->next;
                        assert(rec->result == 0);
                        ret->lat[done] = t - sent[k];
                        if (paired) {
                                ret->plain[done] = plain_sync(plain_fd, done);
                                t = now();
                        }
                        done++;
                        if (next < total) {
                                int n = fill(bodies[k], true, 0, next++);

                                *rec = (ExlogRecord){ .reply_to = &replies, .body = bodies[k], .body_size = (size_t)n };
                                commit_subject(rec, next - 1);
                                sent[k] = t;
                                assert(exlog_append(log, rec) == 0);
                        }
                }
        }
        ret->seconds = now() - t0;
        ret->cpu = cpu_seconds() - c0;
        shim_stats(&s1);
        exlog_stats(log, &st);
        exlog_close(log);
        ret->entries = st.entries;
        ret->batches = st.batches;
        ret->io = (XbusFaultStats){
                .writes = s1.writes - s0.writes,
                .bytes = s1.bytes - s0.bytes,
                .pages = s1.pages - s0.pages,
                .fsyncs = s1.fsyncs - s0.fsyncs,
                .fdatasyncs = s1.fdatasyncs - s0.fdatasyncs,
                .dsync_writes = s1.dsync_writes - s0.dsync_writes,
                .msyncs = s1.msyncs - s0.msyncs,
        };
        ret->n_lat = done;
        qsort(ret->lat, ret->n_lat, sizeof(double), cmp_double);
        if (paired) {
                qsort(ret->plain, ret->n_lat, sizeof(double), cmp_double);
                close(plain_fd);
        }
        mailbox_deinit(&replies);
        free(recs);
        free(bodies);
        free(sent);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", dir);
}

static void commit_print(const char *name, const CommitRun *r, bool counted)
{
        double b = r->batches ? (double)r->batches : 1.0;

        printf("%-34s %8" PRIu64 " %8.1f %9.0f %8.3f %8.3f %8.3f %9.1f", name, r->entries, (double)r->entries / b,
               (double)r->entries / r->seconds, pct(r->lat, r->n_lat, 0.5) * 1e3, pct(r->lat, r->n_lat, 0.99) * 1e3,
               r->seconds / b * 1e3, r->cpu / b * 1e6);
        if (counted)
                printf(" %6.2f %6.2f %6.2f %6.2f %6.1f %8.0f\n", (double)xbus_fault_sync_points(&r->io) / b,
                       (double)(r->io.fsyncs + r->io.fdatasyncs + r->io.msyncs) / b, (double)r->io.dsync_writes / b,
                       (double)r->io.writes / b, (double)r->io.pages / b, (double)r->io.bytes / b);
        else
                printf("      -      -      -      -      -        -\n");
}

static int commit_bench(uint64_t n, const char *base, const char *shim, char **argv)
{
        XbusFaultStatsFn fn = (XbusFaultStatsFn)dlsym(RTLD_DEFAULT, XBUS_FAULT_STATS_SYMBOL);
        CommitRun one, many, pair;

        if (!fn && shim && !getenv("XBUS_BENCH_LOG_REEXEC")) {
                /* count through the shim: run again with it preloaded, watching the log's files */
                setenv("LD_PRELOAD", shim, 1);
                setenv("XBUS_FAULT_FILES", "data.mdb:segments/", 1);
                setenv("XBUS_BENCH_LOG_REEXEC", "1", 1);
                execv("/proc/self/exe", argv);
                fprintf(stderr, "cannot run again with %s: %m; counting nothing\n", shim);
        }
        commit_run(base, n, 1, false, &one);
        commit_run(base, n * 8, 32, false, &many);
        commit_run(base, n, 1, true, &pair);

        printf("exchange log commit (%s, entries ~700 bytes, under %s)\n", "segment + LMDB behind it, group commit",
               base);
        printf("%-34s %8s %8s %9s %8s %8s %8s %9s %6s %6s %6s %6s %6s %8s\n", "run", "entries", "batch", "entries/s",
               "p50 ms", "p99 ms", "ms/cmt", "cpu us/c", "syncs", "fsync", "dsyncw", "writes", "pages", "bytes");
        commit_print("1 in flight (1 connection)", &one, fn != NULL);
        commit_print("32 in flight (32 connections)", &many, fn != NULL);
        printf("%-34s %8" PRIu64 " %8s %9s %8.3f %8.3f   (each commit, then one plain 4 KiB pwrite + fdatasync)\n",
               "1 in flight, paired: the commit", pair.entries, "-", "-", pct(pair.lat, pair.n_lat, 0.5) * 1e3,
               pct(pair.lat, pair.n_lat, 0.99) * 1e3);
        printf("%-34s %8zu %8s %9s %8.3f %8.3f   (ratio of the p50s: %.1f)\n", "1 in flight, paired: plain sync",
               pair.n_lat, "-", "-", pct(pair.plain, pair.n_lat, 0.5) * 1e3, pct(pair.plain, pair.n_lat, 0.99) * 1e3,
               pct(pair.lat, pair.n_lat, 0.5) / pct(pair.plain, pair.n_lat, 0.5));
        printf("\nper commit (= one group commit): syncs = fsync + fdatasync + msync + O_DSYNC writes, the calls "
               "that wait for the disk\n(with the bases' syncs of data.mdb, about one a second, spread over the "
               "commits);\nfsync = fsync + fdatasync + msync; dsyncw = writes through an O_DSYNC descriptor; "
               "writes, 4 KiB pages and bytes\nwritten to the log's files (segments, data.mdb); ms/cmt = wall time "
               "per commit; cpu us/c = process CPU per commit.\n");
        if (!fn)
                printf("sync and write counts need the fault shim: --shim build/tests/faults/libxbus-fault.so\n");
        free(one.lat);
        free(many.lat);
        free(pair.lat);
        free(pair.plain);
        return 0;
}

static void usage(void)
{
        fprintf(stderr, "usage: xbus-bench-log [--entries N] [--big N] [--threads T] [--in-flight W] [--dir DIR]\n"
                        "       xbus-bench-log --commit N [--shim PATH] [--dir DIR]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        uint64_t entries = 200000, big = 10000000;
        unsigned threads = 4, in_flight = 256;
        const char *base = "/tmp", *shim = NULL;
        uint64_t commit = 0;
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
                else if (streq(argv[i], "--commit"))
                        commit = strtoull(argv[++i], NULL, 10);
                else if (streq(argv[i], "--shim"))
                        shim = argv[++i];
                else
                        usage();
        }
        if (commit > 0)
                return commit_bench(commit, base, shim, argv);
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
