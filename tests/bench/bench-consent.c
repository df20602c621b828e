/* bench-consent.c: the citizen's access history (newest first, paged) over a log of 1,000,000 entries
 *
 * Builds an exchange log with the exlog API directly (the same writer, group
 * commit and by_subject index as xbusd), entries spread over many subjects,
 * then times consent_api_accesses(), the function behind
 * GET /consent/subjects/{id}/accesses: one index range read plus one entry
 * read per item, never a scan. Not a test: it prints numbers, asserts none.
 *
 *   xbus-bench-consent [--entries N] [--subjects S] [--queries Q] [--dir DIR]
 *
 * With --dir the log is kept (and reused when it already holds N entries);
 * without, it is built in a temporary folder and removed.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "api/consent-api.h"
#include "crypto/pseudonym.h"
#include "log/exlog.h"
#include "util/macro.h"
#include "util/time-util.h"

#define CHUNK 16384U
#define BODY_MAX 1024U
#define PAGE 50U

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
        /* xorshift64*: deterministic, so runs are comparable */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * 0x2545f4914f6cdd1dULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* The subject of entry i: one "heavy" subject every 1000 entries, the rest spread evenly at random. */
static uint32_t subject_of(uint64_t i, uint32_t subjects)
{
        return i % 1000 == 0 ? 0 : 1 + (uint32_t)(rng() % (subjects - 1));
}

static int build(const char *dir, uint64_t entries, uint32_t subjects, char (*pseudo)[PSEUDONYM_HEX_LEN + 1])
{
        ExchangeLog *log = NULL;
        ExlogRecord *recs = calloc(CHUNK, sizeof(ExlogRecord));
        char *bodies = malloc((size_t)CHUNK * BODY_MAX);
        Mailbox mb;
        uint64_t t0 = now_usec(CLOCK_MONOTONIC), done = 0;
        int r;

        if (!recs || !bodies)
                return -ENOMEM;
        r = exlog_open(&log, dir, &(ExlogOptions){ .max_batch = 1024, .queue_capacity = CHUNK });
        if (r < 0)
                return r;
        if (exlog_size(log) >= entries) {
                printf("reusing the log in %s (%" PRIu64 " entries)\n", dir, exlog_size(log));
                exlog_close(log);
                free(recs);
                free(bodies);
                return 0;
        }
        done = exlog_size(log);
        for (uint64_t i = 0; i < done; i++)
                (void)subject_of(i, subjects); /* keep the sequence of subjects the same */
        mailbox_init(&mb, 0);
        while (done < entries) {
                unsigned n = (unsigned)MIN((uint64_t)CHUNK, entries - done), back = 0;

                for (unsigned k = 0; k < n; k++) {
                        uint64_t i = done + k;
                        uint32_t s = subject_of(i, subjects);
                        char *b = bodies + (size_t)k * BODY_MAX;
                        bool allow = i % 7 != 0;
                        int len = snprintf(
                                b, BODY_MAX,
                                "{\"xroad_id\":\"bench-%" PRIu64 "\",\"client\":\"VN/GOV/HN-UBND/one-stop-shop\","
                                "\"service\":\"VN/GOV/BTNMT/land/land-parcels\",\"method\":\"GET\",\"path\":\"/\","
                                "\"user_id\":\"officer-%u\",\"issue\":null,\"subject\":\"%s\","
                                "\"purpose\":\"public-service-delivery\",\"basis\":\"consent\","
                                "\"right\":\"oss-land-parcels\",\"legal_reference\":null,"
                                "\"consent\":\"000660d9%032" PRIx64 "\",\"decision\":\"%s\",\"status\":%d,"
                                "\"error\":%s,\"request_hash\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
                                "\"request_size\":0,\"response_hash\":%s,\"response_size\":%d,\"duration_us\":%u}",
                                i, (unsigned)(i % 97), pseudo[s], i, allow ? "allow" : "deny", allow ? 200 : 403,
                                allow ? "null" : "\"consent_invalid\"",
                                allow ? "\"3e02a12d34465fa01f804f9b3c81818f26065bb7b1b054d6fd5af37cd4ff3804\"" : "null",
                                allow ? 315 : 0, 500 + (unsigned)(i % 900));
                        recs[k] = (ExlogRecord){ .reply_to = &mb, .body = b, .body_size = (size_t)len };
                        memcpy(recs[k].subject, pseudo[s], sizeof(recs[k].subject));
                        while ((r = exlog_append(log, &recs[k])) == -EAGAIN)
                                mailbox_wait(&mb, 10);
                        if (r < 0)
                                goto out;
                }
                while (back < n) {
                        mailbox_wait(&mb, 1000);
                        for (MailboxItem *it = mailbox_drain(&mb), *next; it; it = next) {
                                next = it->next;
                                if (((ExlogRecord *)it)->result < 0) {
                                        r = ((ExlogRecord *)it)->result;
                                        goto out;
                                }
                                back++;
                        }
                }
                done += n;
                if (done % 200000 < CHUNK || done == entries) {
                        printf("  %" PRIu64 " entries written (%.1f s)\n", done,
                               (double)(now_usec(CLOCK_MONOTONIC) - t0) / 1e6);
                        fflush(stdout);
                }
        }
        r = 0;
        printf("built %" PRIu64 " entries in %.1f s\n", entries, (double)(now_usec(CLOCK_MONOTONIC) - t0) / 1e6);
out:
        exlog_close(log); /* waits for what is queued */
        mailbox_deinit(&mb);
        free(recs);
        free(bodies);
        return r;
}

static double percentile(uint64_t *v, size_t n, double p)
{
        size_t i = (size_t)(p * (double)(n - 1));
        return (double)v[i];
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "entries", required_argument, NULL, 'n' }, { "subjects", required_argument, NULL, 's' },
                { "queries", required_argument, NULL, 'q' }, { "dir", required_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' },          {},
        };
        uint64_t entries = 1000000, queries = 10000;
        uint32_t subjects = 100000;
        const char *keep = NULL;
        char tmpl[] = "/tmp/xbus-bench-consent-XXXXXX";
        char(*pseudo)[PSEUDONYM_HEX_LEN + 1] = NULL;
        PseudonymKey *key = NULL;
        ExchangeLog *log = NULL;
        ExlogReader *reader = NULL;
        uint64_t *lat = NULL, items = 0, heavy_entries = 0, heavy_usec = 0, t0;
        const char *dir;
        uint8_t kb[32];
        int opt, r;

        while ((opt = getopt_long(argc, argv, "n:s:q:d:h", options, NULL)) >= 0) {
                switch (opt) {
                case 'n':
                        entries = strtoull(optarg, NULL, 10);
                        break;
                case 's':
                        subjects = (uint32_t)strtoul(optarg, NULL, 10);
                        break;
                case 'q':
                        queries = strtoull(optarg, NULL, 10);
                        break;
                case 'd':
                        keep = optarg;
                        break;
                case 'h':
                        printf("Usage: xbus-bench-consent [--entries N] [--subjects S] [--queries Q] [--dir DIR]\n");
                        return EXIT_SUCCESS;
                default:
                        return 2;
                }
        }
        if (entries < 1000 || entries > 100000000 || subjects < 2 || subjects > 10000000 || queries < 1 ||
            queries > 10000000) {
                fprintf(stderr, "bench-consent: entries 1000..1e8, subjects 2..1e7, queries 1..1e7\n");
                return 2;
        }
        if (keep) {
                if (mkdir(keep, 0700) < 0 && errno != EEXIST) {
                        fprintf(stderr, "bench-consent: cannot create %s: %m\n", keep);
                        return 1;
                }
                dir = keep;
        } else if (!(dir = mkdtemp(tmpl))) {
                fprintf(stderr, "bench-consent: cannot create a temporary folder: %m\n");
                return 1;
        }

        memset(kb, 0x42, sizeof(kb));
        pseudo = calloc(subjects, sizeof(*pseudo));
        lat = calloc(queries, sizeof(uint64_t));
        if (!pseudo || !lat || pseudonym_key_new(&key, kb, sizeof(kb)) < 0) {
                fprintf(stderr, "bench-consent: out of memory\n");
                return 1;
        }
        for (uint32_t s = 0; s < subjects; s++) {
                char id[32];
                snprintf(id, sizeof(id), "0010%08u", s);
                pseudonym_compute(key, id, strlen(id), pseudo[s]);
        }

        printf("bench-consent: building a log of %" PRIu64 " entries over %u subjects in %s\n", entries, subjects, dir);
        r = build(dir, entries, subjects, pseudo);
        if (r < 0) {
                fprintf(stderr, "bench-consent: building the log failed: %s\n", strerror(-r));
                return 1;
        }

        /* Query the way the API does: the log open (as in xbusd), a reader from it. */
        r = exlog_open(&log, dir, NULL);
        if (r < 0 || (r = exlog_reader_new(&reader, log)) < 0) {
                fprintf(stderr, "bench-consent: cannot open the log: %s\n", strerror(-r));
                return 1;
        }
        for (uint64_t q = 0; q < queries; q++) {
                uint32_t s = 1 + (uint32_t)(rng() % (subjects - 1));
                json_t *page = NULL;

                t0 = now_usec(CLOCK_MONOTONIC);
                r = consent_api_accesses(reader, pseudo[s], UINT64_MAX, PAGE, &page);
                lat[q] = now_usec(CLOCK_MONOTONIC) - t0;
                if (r < 0) {
                        fprintf(stderr, "bench-consent: query failed: %s\n", strerror(-r));
                        return 1;
                }
                items += json_array_size(json_object_get(page, "accesses"));
                json_decref(page);
        }
        /* The heavy subject (one entry in 1000): every page, newest to oldest. */
        {
                uint64_t before = UINT64_MAX;
                t0 = now_usec(CLOCK_MONOTONIC);
                for (;;) {
                        json_t *page = NULL, *next;
                        r = consent_api_accesses(reader, pseudo[0], before, PAGE, &page);
                        if (r < 0) {
                                fprintf(stderr, "bench-consent: query failed: %s\n", strerror(-r));
                                return 1;
                        }
                        heavy_entries += json_array_size(json_object_get(page, "accesses"));
                        next = json_object_get(page, "next_cursor");
                        before = json_is_integer(next) ? (uint64_t)json_integer_value(next) : 0;
                        json_decref(page);
                        if (!before)
                                break;
                }
                heavy_usec = now_usec(CLOCK_MONOTONIC) - t0;
        }
        qsort(lat, queries, sizeof(uint64_t), cmp_u64);
        {
                double sum = 0;
                for (uint64_t q = 0; q < queries; q++)
                        sum += (double)lat[q];
                printf("subject history, %" PRIu64 " log entries, %u subjects: %" PRIu64
                       " queries of the %u newest (%.1f items each): p50 %.0f us, p99 %.0f us, max %.0f us, "
                       "mean %.1f us\n",
                       entries, subjects, queries, PAGE, (double)items / (double)queries, percentile(lat, queries, 0.5),
                       percentile(lat, queries, 0.99), (double)lat[queries - 1], sum / (double)queries);
                printf("heavy subject: all %" PRIu64 " accesses in pages of %u in %.1f ms (%.1f us per entry)\n",
                       heavy_entries, PAGE, (double)heavy_usec / 1e3,
                       heavy_entries ? (double)heavy_usec / (double)heavy_entries : 0.0);
        }
        exlog_reader_close(reader);
        exlog_close(log);
        pseudonym_key_free(key);
        free(pseudo);
        free(lat);
        if (!keep)
                (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}
