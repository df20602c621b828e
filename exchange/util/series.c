/* series.c: a bounded table of labelled counters (lock-free lookups) and fixed-bucket histograms
 *
 * The table is open addressing with linear probing, at most half full, so a
 * probe always ends at an empty slot. A slot is published by storing its key
 * (release) after everything else in it is written; readers load the key
 * (acquire) first. Slots are never emptied, so a reader that finds a key may
 * use it for as long as the table lives. A writer that finds no slot takes
 * the mutex, looks again (another thread may have made the series), and fills
 * an empty slot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"
#include "util/series.h"

typedef struct Slot {
        _Atomic(char *) key; /* the label values, each ending in NUL; NULL: empty */
        uint64_t hash;
        size_t key_size;
        atomic_uint_fast64_t count;
} Slot;

struct SeriesTable {
        size_t n_labels, max_series, max_overflow;
        size_t mask; /* slots - 1 */
        Slot *slots;
        pthread_mutex_t lock; /* making series */
        atomic_size_t n_series, n_overflow;
};

int series_table_new(SeriesTable **ret, size_t n_labels, size_t max_series, size_t max_overflow)
{
        SeriesTable *t;
        size_t n = 16;

        if (n_labels < 1 || n_labels > SERIES_LABELS_MAX || max_series > SIZE_MAX / 8 || max_overflow > SIZE_MAX / 8)
                return -EINVAL;
        while (n < 2 * (max_series + max_overflow) + 1)
                n *= 2;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->slots = calloc(n, sizeof(Slot));
        if (!t->slots) {
                free(t);
                return -ENOMEM;
        }
        t->n_labels = n_labels;
        t->max_series = max_series;
        t->max_overflow = max_overflow;
        t->mask = n - 1;
        pthread_mutex_init(&t->lock, NULL);
        *ret = t;
        return 0;
}

SeriesTable *series_table_free(SeriesTable *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i <= t->mask; i++)
                free(atomic_load(&t->slots[i].key));
        free(t->slots);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
}

/* The key of `values` (each with its NUL) into buf, and its hash. Return: its size, 0 when too long. */
static size_t key_make(const SeriesTable *t, const char *const *values, char buf[SERIES_KEY_MAX], uint64_t *ret_hash)
{
        uint64_t h = 0xcbf29ce484222325ULL;
        size_t n = 0;

        for (size_t i = 0; i < t->n_labels; i++) {
                size_t len = strlen(values[i]) + 1;
                if (len > SERIES_KEY_MAX - n)
                        return 0;
                memcpy(buf + n, values[i], len);
                n += len;
        }
        for (size_t i = 0; i < n; i++)
                h = (h ^ (uint8_t)buf[i]) * 0x100000001b3ULL;
        *ret_hash = h ^ (h >> 29);
        return n;
}

/* The slot of the key (*ret_found), or the empty slot where it would go (it may be filled meanwhile,
 * unless the caller holds the lock). */
static Slot *probe(SeriesTable *t, const char *key, size_t size, uint64_t hash, bool *ret_found)
{
        for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
                Slot *s = &t->slots[i];
                const char *k = atomic_load_explicit(&s->key, memory_order_acquire);

                *ret_found = k && s->hash == hash && s->key_size == size && memcmp(k, key, size) == 0;
                if (!k || *ret_found)
                        return s;
        }
}

/* Make the series (or find that another thread made it), starting at `n`. Return: 0, -ENOSPC, -ENOMEM. */
static int make(SeriesTable *t, const char *key, size_t size, uint64_t hash, bool overflow, uint64_t n)
{
        atomic_size_t *used = overflow ? &t->n_overflow : &t->n_series;
        size_t max = overflow ? t->max_overflow : t->max_series;
        bool found;
        char *copy;
        Slot *s;
        int r = 0;

        pthread_mutex_lock(&t->lock);
        s = probe(t, key, size, hash, &found);
        if (found) {
                atomic_fetch_add_explicit(&s->count, n, memory_order_relaxed);
                goto out;
        }
        if (atomic_load(used) >= max) {
                r = -ENOSPC;
                goto out;
        }
        copy = malloc(size);
        if (!copy) {
                r = -ENOMEM;
                goto out;
        }
        memcpy(copy, key, size);
        s->hash = hash;
        s->key_size = size;
        atomic_store_explicit(&s->count, n, memory_order_relaxed);
        atomic_store_explicit(&s->key, copy, memory_order_release);
        atomic_fetch_add(used, 1);
out:
        pthread_mutex_unlock(&t->lock);
        return r;
}

/* Add to an existing series, else make it. Return: 0, -ENOSPC, -ENOMEM, -E2BIG (values too long). */
static int add(SeriesTable *t, const char *const *values, bool overflow, uint64_t n)
{
        char key[SERIES_KEY_MAX];
        uint64_t hash;
        size_t size = key_make(t, values, key, &hash);
        bool found;
        Slot *s;

        if (size == 0)
                return -E2BIG;
        s = probe(t, key, size, hash, &found);
        if (found) {
                atomic_fetch_add_explicit(&s->count, n, memory_order_relaxed);
                return 0;
        }
        if (!overflow && atomic_load(&t->n_series) >= t->max_series)
                return -ENOSPC; /* full: no lock taken for what cannot be made */
        return make(t, key, size, hash, overflow, n);
}

int series_table_add(SeriesTable *t, const char *const *values, const char *const *overflow, uint64_t n)
{
        int r = add(t, values, false, n);

        if (r != -ENOSPC && r != -E2BIG)
                return r;
        r = add(t, overflow, true, n);
        return r == -E2BIG ? -ENOSPC : r < 0 ? r : 1;
}

size_t series_table_size(const SeriesTable *t)
{
        return atomic_load(&t->n_series) + atomic_load(&t->n_overflow);
}

size_t series_table_slots(const SeriesTable *t)
{
        return t->mask + 1;
}

bool series_table_get(const SeriesTable *t, size_t slot, const char **ret_values, uint64_t *ret_count)
{
        const Slot *s = slot <= t->mask ? &t->slots[slot] : NULL;
        const char *k = s ? atomic_load_explicit(&s->key, memory_order_acquire) : NULL;

        if (!k)
                return false;
        for (size_t i = 0; i < t->n_labels; i++) {
                ret_values[i] = k;
                k += strlen(k) + 1;
        }
        *ret_count = atomic_load_explicit(&s->count, memory_order_relaxed);
        return true;
}

const uint64_t series_bucket_usec[SERIES_BUCKETS] = {
        50,    100,    250,    500,    1000,    2500,    5000,    10000,    25000,
        50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000,
};

void series_histogram_observe(SeriesHistogram *h, uint64_t usec)
{
        size_t b = 0;

        while (b < SERIES_BUCKETS && usec > series_bucket_usec[b])
                b++;
        atomic_fetch_add_explicit(&h->bucket[b], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&h->sum_usec, usec, memory_order_relaxed);
}

void series_histogram_read(SeriesHistogram *h, uint64_t ret_cumulative[SERIES_BUCKETS + 1], uint64_t *ret_sum_usec)
{
        uint64_t c = 0;

        for (size_t b = 0; b <= SERIES_BUCKETS; b++) {
                c += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
                ret_cumulative[b] = c;
        }
        *ret_sum_usec = atomic_load_explicit(&h->sum_usec, memory_order_relaxed);
}
