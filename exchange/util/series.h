/* series.h: metrics that threads share without a lock on the hot path: labelled counters, histograms
 *
 * SeriesTable: counters keyed by a fixed number of label values (strings),
 * at most `max_series` of them. Finding a series and adding to it takes no
 * lock (an atomic add); making a new series takes a mutex, once per series.
 * Past `max_series`, a count for a label set the table does not hold goes to
 * the overflow series the caller names instead (they have their own room,
 * `max_overflow`, so the caller keeps them bounded, for example by keeping
 * only labels from a small enum), so the totals stay right while the number
 * of series stays bounded whatever the label values. Series are never
 * removed: a counter must not go backwards.
 *
 * SeriesHistogram: a latency histogram with fixed buckets (50 us .. 30 s,
 * the 1-2.5-5 steps of each decade) and the sum of what it observed.
 *
 * Threads: every function may be called from any thread at once, except
 * series_table_free(). Strings a table returns live as long as the table.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERIES_LABELS_MAX 4
#define SERIES_KEY_MAX 1024 /* the label values of one series, together */

typedef struct SeriesTable SeriesTable;

/*
 * series_table_new(): an empty table of series with `n_labels` label values
 * (1..SERIES_LABELS_MAX), room for `max_series` series and `max_overflow`
 * overflow series. Return: 0, -EINVAL, -ENOMEM.
 */
int series_table_new(SeriesTable **ret, size_t n_labels, size_t max_series, size_t max_overflow);
/* series_table_free(): NULL in, NULL out. */
SeriesTable *series_table_free(SeriesTable *t);

/*
 * series_table_add(): add `n` to the series `values` (n_labels strings); when
 * the table is full and holds no such series (or the values are longer than
 * SERIES_KEY_MAX together), to the series `overflow` instead.
 * Return: 0, 1 (counted as overflow), -ENOSPC (the overflow room is full too:
 * not counted), -ENOMEM.
 */
int series_table_add(SeriesTable *t, const char *const *values, const char *const *overflow, uint64_t n);

/* series_table_size(): series made so far, overflow series included. */
size_t series_table_size(const SeriesTable *t);
/* series_table_slots(): how many slots series_table_get() walks. */
size_t series_table_slots(const SeriesTable *t);
/*
 * series_table_get(): the series in `slot`, if any: its label values into
 * ret_values (n_labels pointers, valid while the table lives) and its count.
 * Return: whether the slot holds a series.
 */
bool series_table_get(const SeriesTable *t, size_t slot, const char **ret_values, uint64_t *ret_count);

#define SERIES_BUCKETS 18

/* The buckets' upper bounds, in microseconds. */
extern const uint64_t series_bucket_usec[SERIES_BUCKETS];

typedef struct SeriesHistogram {
        atomic_uint_fast64_t bucket[SERIES_BUCKETS + 1]; /* not cumulative; the last is +Inf */
        atomic_uint_fast64_t sum_usec;
} SeriesHistogram;

/* series_histogram_observe(): one observation of `usec`. */
void series_histogram_observe(SeriesHistogram *h, uint64_t usec);
/* series_histogram_read(): the cumulative counts (the last is +Inf, the count) and the sum. */
void series_histogram_read(SeriesHistogram *h, uint64_t ret_cumulative[SERIES_BUCKETS + 1], uint64_t *ret_sum_usec);
