/* test-merkle-batch.c: batch inclusion paths against a full store, for every batch start and size up to a bound */
#undef NDEBUG
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/merkle-batch.h"
#include "util/macro.h"
#include "log/test-check.h"

#define H MERKLE_HASH_LEN
#define MAXN 160

static uint8_t leaf[MAXN][H];

/* Every batch [s, s + n) of a tree of up to MAXN leaves: root and each path equal the store's. */
static void test_against_store(void)
{
        MerkleMemStore *store = NULL;
        MerkleAppender a;

        for (uint64_t s = 0; s < MAXN; s += (s < 70 ? 1 : 7)) {
                merkle_appender_init(&a);
                for (uint64_t i = 0; i < s; i++) {
                        MerkleNode nodes[MERKLE_MAX_LEVELS];
                        size_t k;

                        check(merkle_appender_append(&a, leaf[i], nodes, &k) == 0);
                }
                for (uint64_t n = 0; s + n <= MAXN; n += (n < 40 ? 1 : 13)) {
                        _cleanup_(merkle_batch_freep) MerkleBatch *b = NULL;
                        uint8_t root[H], want_root[H];

                        check(merkle_mem_store_new(&store) == 0);
                        for (uint64_t i = 0; i < s + n; i++)
                                check(merkle_mem_store_append(store, leaf[i]) == 0);

                        check(merkle_batch_new(&b, &a, (const uint8_t(*)[H])leaf + s, n) == 0);
                        check(merkle_batch_start(b) == s && merkle_batch_size(b) == s + n);
                        check(merkle_batch_root(b, root) == 0);
                        check(merkle_root(merkle_mem_store_get, store, s + n, want_root) == 0);
                        check(memcmp(root, want_root, H) == 0);

                        for (uint64_t m = s; m < s + n; m++) {
                                uint8_t path[MERKLE_PROOF_MAX][H], want[MERKLE_PROOF_MAX][H];
                                size_t len = 99, want_len = 0;

                                check(merkle_batch_path(b, m, path, &len) == 0);
                                check(merkle_inclusion_proof(merkle_mem_store_get, store, m, s + n, want, &want_len) ==
                                      0);
                                check(len == want_len && memcmp(path, want, len * H) == 0);
                                check(merkle_verify_inclusion(leaf[m], m, s + n, (const uint8_t(*)[H])path, len,
                                                              root) == 0);
                        }
                        /* only the batch's leaves have paths */
                        {
                                uint8_t path[MERKLE_PROOF_MAX][H];
                                size_t len;

                                if (s > 0)
                                        check(merkle_batch_path(b, s - 1, path, &len) == MERKLE_E_INDEX);
                                check(merkle_batch_path(b, s + n, path, &len) == MERKLE_E_INDEX);
                        }
                        store = merkle_mem_store_free(store);
                }
        }
}

/* A tree too large for a store: a made-up frontier; paths verify against the batch's root. */
static void test_large(void)
{
        static const uint64_t starts[] = { (UINT64_C(1) << 40) - 3, (UINT64_C(1) << 33) + 5, UINT64_C(0x5555555555),
                                           UINT64_MAX - 20 };

        for (size_t t = 0; t < ELEMENTSOF(starts); t++) {
                _cleanup_(merkle_batch_freep) MerkleBatch *b = NULL;
                MerkleAppender a = { .size = starts[t] };
                uint8_t root[H];

                for (unsigned l = 0; l < MERKLE_MAX_LEVELS; l++)
                        check(merkle_leaf_hash(&l, sizeof(l), a.frontier[l]) == 0);
                check(merkle_batch_new(&b, &a, (const uint8_t(*)[H])leaf, 20) == 0);
                check(merkle_batch_root(b, root) == 0);
                for (uint64_t m = starts[t]; m < starts[t] + 20; m++) {
                        uint8_t path[MERKLE_PROOF_MAX][H];
                        size_t len;

                        check(merkle_batch_path(b, m, path, &len) == 0);
                        check(merkle_verify_inclusion(leaf[m - starts[t]], m, starts[t] + 20, (const uint8_t(*)[H])path,
                                                      len, root) == 0);
                        /* a wrong index or size does not verify */
                        check(merkle_verify_inclusion(leaf[m - starts[t]], m ^ 1, starts[t] + 20,
                                                      (const uint8_t(*)[H])path, len, root) != 0);
                }
        }
        /* past 2^64 - 1 leaves */
        {
                MerkleBatch *b = NULL;
                MerkleAppender a = { .size = UINT64_MAX - 1 };

                check(merkle_batch_new(&b, &a, (const uint8_t(*)[H])leaf, 2) == -EOVERFLOW);
                check(b == NULL);
        }
}

int main(void)
{
        for (uint64_t i = 0; i < MAXN; i++)
                check(merkle_leaf_hash(&i, sizeof(i), leaf[i]) == 0);
        test_against_store();
        test_large();
        printf("test-merkle-batch: %u checks passed\n", checks);
        return 0;
}
