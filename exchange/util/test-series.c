/* test-series.c: the series table (cap, overflow, threads) and the histograms */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util/macro.h"
#include "util/series.h"

/* The count of the series `a`,`b` in t, or -1 when it has none. */
static int64_t count_of(const SeriesTable *t, const char *a, const char *b)
{
        for (size_t i = 0; i < series_table_slots(t); i++) {
                const char *v[2];
                uint64_t c;

                if (series_table_get(t, i, v, &c) && streq(v[0], a) && streq(v[1], b))
                        return (int64_t)c;
        }
        return -1;
}

static void test_cap(void)
{
        const char *over[] = { "overflow", "x" };
        SeriesTable *t = NULL;
        char big[SERIES_KEY_MAX + 1];
        size_t n = 0;

        assert(series_table_new(&t, 0, 3, 1) == -EINVAL);
        assert(series_table_new(&t, SERIES_LABELS_MAX + 1, 3, 1) == -EINVAL);
        assert(series_table_new(&t, 2, 3, 1) == 0);
        assert(series_table_add(t, (const char *[]){ "a", "1" }, over, 1) == 0);
        assert(series_table_add(t, (const char *[]){ "a", "2" }, over, 2) == 0);
        assert(series_table_add(t, (const char *[]){ "b", "1" }, over, 3) == 0);
        assert(series_table_add(t, (const char *[]){ "a", "1" }, over, 10) == 0);
        assert(series_table_size(t) == 3);
        /* full: a new label set goes to the overflow series; the old ones still count */
        assert(series_table_add(t, (const char *[]){ "c", "1" }, over, 5) == 1);
        assert(series_table_add(t, (const char *[]){ "d", "1" }, over, 6) == 1);
        assert(series_table_add(t, (const char *[]){ "b", "1" }, over, 1) == 0);
        assert(count_of(t, "a", "1") == 11 && count_of(t, "a", "2") == 2 && count_of(t, "b", "1") == 4);
        assert(count_of(t, "overflow", "x") == 11 && count_of(t, "c", "1") == -1);
        assert(series_table_size(t) == 4);
        /* the overflow room is full too: not counted */
        assert(series_table_add(t, (const char *[]){ "e", "1" }, (const char *[]){ "overflow", "y" }, 1) == -ENOSPC);
        assert(count_of(t, "overflow", "y") == -1);
        /* values longer than a key may be: overflow */
        memset(big, 'v', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        assert(series_table_add(t, (const char *[]){ big, "1" }, over, 1) == 1);
        assert(count_of(t, "overflow", "x") == 12);
        /* the walk sees each series once */
        for (size_t i = 0; i < series_table_slots(t); i++) {
                const char *v[2];
                uint64_t c;
                n += series_table_get(t, i, v, &c);
        }
        assert(n == 4 && !series_table_get(t, series_table_slots(t), (const char *[2]){}, &(uint64_t){ 0 }));
        series_table_free(t);
        assert(series_table_free(NULL) == NULL);
}

#define THREADS 4
#define ROUNDS 20000

static void *adder(void *userdata)
{
        SeriesTable *t = userdata;
        char b[16];

        for (int i = 0; i < ROUNDS; i++) {
                snprintf(b, sizeof(b), "%d", i % 50); /* 50 label sets against a cap of 40 */
                assert(series_table_add(t, (const char *[]){ "svc", b }, (const char *[]){ "overflow", "-" }, 1) >= 0);
        }
        return NULL;
}

/* Threads adding at once: every count lands once, the cap holds. */
static void test_threads(void)
{
        pthread_t th[THREADS];
        SeriesTable *t = NULL;
        uint64_t total = 0;

        assert(series_table_new(&t, 2, 40, 1) == 0);
        for (int i = 0; i < THREADS; i++)
                assert(pthread_create(&th[i], NULL, adder, t) == 0);
        for (int i = 0; i < THREADS; i++)
                pthread_join(th[i], NULL);
        for (size_t i = 0; i < series_table_slots(t); i++) {
                const char *v[2];
                uint64_t c;
                if (series_table_get(t, i, v, &c))
                        total += c;
        }
        assert(total == (uint64_t)THREADS * ROUNDS);
        assert(series_table_size(t) == 41);
        assert(count_of(t, "overflow", "-") >= (int64_t)THREADS * ROUNDS / 50 * 10);
        series_table_free(t);
}

static void test_histogram(void)
{
        SeriesHistogram h = {};
        uint64_t cum[SERIES_BUCKETS + 1], sum;

        series_histogram_observe(&h, 0);
        series_histogram_observe(&h, 50);   /* on the bound: in it (le) */
        series_histogram_observe(&h, 51);   /* the next one */
        series_histogram_observe(&h, 2000); /* 2.5 ms */
        series_histogram_observe(&h, 40000000);
        series_histogram_read(&h, cum, &sum);
        assert(cum[0] == 2 && cum[1] == 3 && cum[4] == 3 && cum[5] == 4);
        assert(cum[SERIES_BUCKETS - 1] == 4 && cum[SERIES_BUCKETS] == 5);
        assert(sum == 40002101);
        for (size_t b = 1; b < SERIES_BUCKETS; b++)
                assert(series_bucket_usec[b] > series_bucket_usec[b - 1]);
}

int main(void)
{
        test_cap();
        test_threads();
        test_histogram();
        printf("series: ok\n");
        return 0;
}
