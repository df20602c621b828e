/* test-pseudonym.c: RFC 4231 HMAC-SHA256 vectors, key files, threads, speed */
#include <pthread.h>

#include "crypto/hash.h"
#include "crypto/pseudonym.h"
#include "tests/support/test-util.h"

typedef struct Vector {
        const char *key_hex;
        const char *data;
        size_t data_size;
        const char *mac_hex;
        size_t mac_hex_len; /* test case 5 compares a truncated MAC */
} Vector;

static char *repeat(char c, size_t n)
{
        char *s = malloc(n + 1);

        assert(s);
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

static void test_rfc4231(void)
{
        _cleanup_free_ char *aa20 = NULL, *aa131 = NULL, *dd50 = NULL, *cd50 = NULL;
        uint8_t key[256];
        size_t n = 0;

        /* key bytes as hex, data as bytes */
        aa20 = malloc(41);
        aa131 = malloc(263);
        assert(aa20 && aa131);
        for (size_t i = 0; i < 20; i++)
                memcpy(aa20 + 2 * i, "aa", 2);
        aa20[40] = 0;
        for (size_t i = 0; i < 131; i++)
                memcpy(aa131 + 2 * i, "aa", 2);
        aa131[262] = 0;
        dd50 = repeat('\xdd', 50);
        cd50 = repeat('\xcd', 50);

        const Vector v[] = {
                { "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", 8,
                  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 64 },
                { "4a656665", "what do ya want for nothing?", 28,
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 64 },
                { aa20, dd50, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 64 },
                { "0102030405060708090a0b0c0d0e0f10111213141516171819", cd50, 50,
                  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 64 },
                { "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "Test With Truncation", 20,
                  "a3b6167473100ee06e0c796c2955552b", 32 },
                { aa131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
                  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 64 },
                { aa131,
                  "This is a test using a larger than block-size key and a larger than block-size data. "
                  "The key needs to be hashed before being used by the HMAC algorithm.",
                  152, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 64 },
        };

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                _cleanup_(pseudonym_key_freep) PseudonymKey *k = NULL;
                char out[PSEUDONYM_HEX_LEN + 1];
                size_t ks = strlen(v[i].key_hex) / 2;

                assert(strlen(v[i].data) == v[i].data_size);
                assert(hex_decode(v[i].key_hex, key, ks) == 0);
                assert(pseudonym_key_new(&k, key, ks) == 0);
                assert(pseudonym_compute(k, v[i].data, v[i].data_size, out) == 0);
                assert(strlen(out) == PSEUDONYM_HEX_LEN);
                if (!strneq(out, v[i].mac_hex, v[i].mac_hex_len)) {
                        fprintf(stderr, "RFC 4231 case %zu: got %s want %s\n", i + 1, out, v[i].mac_hex);
                        assert(false);
                }
                /* the key is reusable: the same input gives the same output */
                assert(pseudonym_compute(k, v[i].data, v[i].data_size, out) == 0);
                assert(strneq(out, v[i].mac_hex, v[i].mac_hex_len));
                n++;
        }
        printf("RFC 4231: %zu/7 test cases ok\n", n);
}

static void test_new_refusals(void)
{
        _cleanup_free_ uint8_t *big = calloc(1, 1025);
        PseudonymKey *k = NULL;

        assert(big);
        assert(pseudonym_key_new(&k, "x", 0) == -EINVAL);
        assert(pseudonym_key_new(&k, NULL, 32) == -EINVAL);
        assert(pseudonym_key_new(&k, big, 1025) == -EINVAL);
        assert(!k);
        assert(pseudonym_key_new(&k, big, 1024) == 0);
        k = pseudonym_key_free(k);
        assert(!k);
        assert(!pseudonym_key_free(NULL));
}

static const char key_hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void expect_same_as_reference(PseudonymKey *k)
{
        _cleanup_(pseudonym_key_freep) PseudonymKey *ref = NULL;
        uint8_t raw[32];
        char a[PSEUDONYM_HEX_LEN + 1], b[PSEUDONYM_HEX_LEN + 1];

        assert(hex_decode(key_hex, raw, sizeof(raw)) == 0);
        assert(pseudonym_key_new(&ref, raw, sizeof(raw)) == 0);
        assert(pseudonym_compute(ref, "079123456789", 12, a) == 0);
        assert(pseudonym_compute(k, "079123456789", 12, b) == 0);
        assert(streq(a, b));
}

static int load_from(const char *dir, const char *content, size_t size, mode_t mode)
{
        _cleanup_free_ char *path = test_path(dir, "pseudonym.key");
        PseudonymKey *k = NULL;
        int r;

        test_write_file(path, content, size, mode);
        r = pseudonym_key_load(&k, path);
        if (r == 0) {
                expect_same_as_reference(k);
                pseudonym_key_free(k);
        } else
                assert(!k);
        return r;
}

static void test_load(void)
{
        _cleanup_free_ char *dir = test_tmpdir("pseudonym");
        _cleanup_free_ char *missing = test_path(dir, "missing.key");
        char buf[300];
        uint8_t raw[32];
        PseudonymKey *k = NULL;

        /* accepted: 64 hex digits with or without one newline, either case, or 32 raw bytes */
        snprintf(buf, sizeof(buf), "%s\n", key_hex);
        assert(load_from(dir, buf, 65, 0600) == 0);
        assert(load_from(dir, key_hex, 64, 0600) == 0);
        assert(load_from(dir, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 64, 0400) == 0);
        assert(hex_decode(key_hex, raw, sizeof(raw)) == 0);
        assert(load_from(dir, (const char *)raw, sizeof(raw), 0600) == 0);

        /* refused: readable or writable by group or others */
        assert(load_from(dir, buf, 65, 0640) == -EPERM);
        assert(load_from(dir, buf, 65, 0604) == -EPERM);
        assert(load_from(dir, buf, 65, 0620) == -EPERM);
        assert(load_from(dir, buf, 65, 0644) == -EPERM);

        /* refused: malformed */
        assert(load_from(dir, "", 0, 0600) == -EINVAL);
        assert(load_from(dir, key_hex, 63, 0600) == -EINVAL);
        assert(load_from(dir, key_hex, 62, 0600) == -EINVAL);
        snprintf(buf, sizeof(buf), "%s\n\n", key_hex);
        assert(load_from(dir, buf, 66, 0600) == -EINVAL);
        snprintf(buf, sizeof(buf), "%s ", key_hex);
        assert(load_from(dir, buf, 65, 0600) == -EINVAL);
        snprintf(buf, sizeof(buf), "%s\r\n", key_hex);
        assert(load_from(dir, buf, 66, 0600) == -EINVAL);
        snprintf(buf, sizeof(buf), " %s", key_hex);
        assert(load_from(dir, buf, 65, 0600) == -EINVAL);
        snprintf(buf, sizeof(buf), "%s", key_hex);
        buf[10] = 'g';
        assert(load_from(dir, buf, 64, 0600) == -EINVAL);
        snprintf(buf, sizeof(buf), "%s%s", key_hex, key_hex);
        assert(load_from(dir, buf, 128, 0600) == -EINVAL);
        memset(buf, 'a', sizeof(buf));
        assert(load_from(dir, buf, sizeof(buf), 0600) == -EINVAL);
        assert(load_from(dir, (const char *)raw, 31, 0600) == -EINVAL);
        {
                uint8_t raw33[33] = {};

                memcpy(raw33, raw, sizeof(raw));
                assert(load_from(dir, (const char *)raw33, sizeof(raw33), 0600) == -EINVAL);
        }

        /* refused: not there, not a file */
        assert(pseudonym_key_load(&k, missing) == -ENOENT);
        assert(pseudonym_key_load(&k, dir) == -EINVAL);
        assert(!k);

        test_rm_rf(dir);
        printf("key files: ok\n");
}

#define N_IDS 64
#define N_THREADS 4
#define N_PER_THREAD 50000

typedef struct Shared {
        const PseudonymKey *k;
        char ids[N_IDS][16];
        char expected[N_IDS][PSEUDONYM_HEX_LEN + 1];
} Shared;

static void *worker(void *arg)
{
        const Shared *s = arg;
        char out[PSEUDONYM_HEX_LEN + 1];

        for (size_t i = 0; i < N_PER_THREAD; i++) {
                size_t j = i % N_IDS;

                assert(pseudonym_compute(s->k, s->ids[j], strlen(s->ids[j]), out) == 0);
                assert(streq(out, s->expected[j]));
        }
        return NULL;
}

static void test_threads_and_speed(void)
{
        _cleanup_(pseudonym_key_freep) PseudonymKey *k = NULL;
        static Shared s;
        pthread_t t[N_THREADS];
        uint8_t raw[32];
        char out[PSEUDONYM_HEX_LEN + 1];
        double t0, t1;
        size_t n = 200000;

        assert(hex_decode(key_hex, raw, sizeof(raw)) == 0);
        assert(pseudonym_key_new(&k, raw, sizeof(raw)) == 0);
        s.k = k;
        for (size_t i = 0; i < N_IDS; i++) {
                snprintf(s.ids[i], sizeof(s.ids[i]), "0%011zu", 79000000000 + i * 7919);
                assert(pseudonym_compute(k, s.ids[i], strlen(s.ids[i]), s.expected[i]) == 0);
                /* distinct ids give distinct pseudonyms */
                for (size_t j = 0; j < i; j++)
                        assert(!streq(s.expected[i], s.expected[j]));
        }

        t0 = test_now();
        for (size_t i = 0; i < n; i++)
                assert(pseudonym_compute(k, s.ids[i % N_IDS], 12, out) == 0);
        t1 = test_now();
        printf("speed: %.0f pseudonyms/s on one thread (%.2f us each; not an assertion)\n", (double)n / (t1 - t0),
               (t1 - t0) / (double)n * 1e6);

        t0 = test_now();
        for (size_t i = 0; i < N_THREADS; i++)
                assert(pthread_create(&t[i], NULL, worker, &s) == 0);
        for (size_t i = 0; i < N_THREADS; i++)
                assert(pthread_join(t[i], NULL) == 0);
        t1 = test_now();
        printf("threads: %d x %d pseudonyms agree with the single-threaded ones (%.0f/s overall)\n", N_THREADS,
               N_PER_THREAD, (double)(N_THREADS * N_PER_THREAD) / (t1 - t0));
}

int main(void)
{
        test_rfc4231();
        test_new_refusals();
        test_load();
        test_threads_and_speed();
        return 0;
}
