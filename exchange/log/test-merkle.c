/* test-merkle.c: Merkle tree store, proofs and verification against a naive RFC 9162 model */
#undef NDEBUG
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "log/merkle.h"
#include "util/macro.h"
#include "log/test-check.h"

#define H MERKLE_HASH_LEN
#define MAXN 300

/* ------------------------------------------------------------------------ */
/* The naive model: RFC 9162 2.1 definitions, recursive, over leaf hashes,
 * hashed with OpenSSL's one-shot SHA256() (not merkle.c's hashing). */

static uint8_t leaves[MAXN + 64][H];
/* memo of MTH(D[a:b]) for the model, b <= MAXN */
static uint8_t (*memo)[MAXN + 1][H];
static bool (*memo_ok)[MAXN + 1];

static void naive_node(const uint8_t *l, const uint8_t *r, uint8_t out[H])
{
        uint8_t buf[1 + 2 * H];

        buf[0] = 1;
        memcpy(buf + 1, l, H);
        memcpy(buf + 1 + H, r, H);
        SHA256(buf, sizeof(buf), out);
}

static void naive_leaf(const void *d, size_t n, uint8_t out[H])
{
        uint8_t buf[256];

        assert(n < sizeof(buf));
        buf[0] = 0;
        memcpy(buf + 1, d, n);
        SHA256(buf, n + 1, out);
}

static uint64_t naive_k(uint64_t n)
{
        uint64_t k = 1;

        while (k * 2 < n)
                k *= 2;
        return k;
}

static void naive_mth(uint64_t a, uint64_t b, uint8_t out[H])
{
        uint8_t l[H], r[H];
        uint64_t k;

        assert(a < b && b <= MAXN);
        if (memo_ok[a][b]) {
                memcpy(out, memo[a][b], H);
                return;
        }
        if (b - a == 1)
                memcpy(out, leaves[a], H);
        else {
                k = naive_k(b - a);
                naive_mth(a, a + k, l);
                naive_mth(a + k, b, r);
                naive_node(l, r, out);
        }
        memcpy(memo[a][b], out, H);
        memo_ok[a][b] = true;
}

/* PATH(m, D[a:b]) appended bottom-up */
static void naive_path(uint64_t m, uint64_t a, uint64_t b, uint8_t (*out)[H], size_t *len)
{
        uint64_t n = b - a, k;

        if (n == 1)
                return;
        k = naive_k(n);
        if (m < k) {
                naive_path(m, a, a + k, out, len);
                naive_mth(a + k, b, out[(*len)++]);
        } else {
                naive_path(m - k, a + k, b, out, len);
                naive_mth(a, a + k, out[(*len)++]);
        }
}

/* SUBPROOF(m, D[a:b], flag) of RFC 9162 2.1.4.1 */
static void naive_subproof(uint64_t m, uint64_t a, uint64_t b, bool flag, uint8_t (*out)[H], size_t *len)
{
        uint64_t n = b - a, k;

        if (m == n) {
                if (!flag)
                        naive_mth(a, b, out[(*len)++]);
                return;
        }
        k = naive_k(n);
        if (m <= k) {
                naive_subproof(m, a, a + k, flag, out, len);
                naive_mth(a + k, b, out[(*len)++]);
        } else {
                naive_subproof(m - k, a + k, b, false, out, len);
                naive_mth(a, a + k, out[(*len)++]);
        }
}

/* SUBTREE_SUBPROOF(start, end, D[a:b], flag) of the MTC draft (start/end relative to a) */
static void naive_subtree_subproof(uint64_t start, uint64_t end, uint64_t a, uint64_t b, bool flag, uint8_t (*out)[H],
                                   size_t *len)
{
        uint64_t n = b - a, k;

        if (start == 0 && end == n) {
                if (!flag)
                        naive_mth(a, b, out[(*len)++]);
                return;
        }
        k = naive_k(n);
        if (end <= k) {
                naive_subtree_subproof(start, end, a, a + k, flag, out, len);
                naive_mth(a + k, b, out[(*len)++]);
        } else if (k <= start) {
                naive_subtree_subproof(start - k, end - k, a + k, b, flag, out, len);
                naive_mth(a, a + k, out[(*len)++]);
        } else {
                assert(start == 0);
                naive_subtree_subproof(0, end - k, a + k, b, false, out, len);
                naive_mth(a, a + k, out[(*len)++]);
        }
}

static bool naive_subtree_valid(uint64_t start, uint64_t end)
{
        uint64_t c = 1;

        if (start > end)
                return false;
        while (c < end - start)
                c *= 2;
        return start % c == 0;
}

/* ------------------------------------------------------------------------ */

static void flip(uint8_t h[H], unsigned bit)
{
        h[(bit / 8) % H] ^= (uint8_t)(1u << (bit % 8));
}

static void test_known_vectors(void)
{
        /* The RFC 6962 reference leaves and roots (also in the transparency-dev testdata). */
        static const char *const data_hex[] = {
                "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
        };
        static const char *const roots_hex[] = {
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        };
        static const uint8_t empty[H] = {
                0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
                0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
        };
        MerkleMemStore *s = NULL;
        MerkleAppender a;
        uint8_t h[H], root[H], want[H];

        merkle_empty_root(h);
        check(memcmp(h, empty, H) == 0);
        merkle_appender_init(&a);
        check(merkle_appender_root(&a, root) == 0 && memcmp(root, empty, H) == 0);

        check(merkle_mem_store_new(&s) == 0);
        check(merkle_root(merkle_mem_store_get, s, 0, root) == 0 && memcmp(root, empty, H) == 0);
        for (size_t i = 0; i < ELEMENTSOF(data_hex); i++) {
                uint8_t d[32];
                size_t n = strlen(data_hex[i]) / 2;

                for (size_t j = 0; j < n; j++)
                        sscanf(data_hex[i] + 2 * j, "%2hhx", &d[j]);
                check(merkle_leaf_hash(d, n, h) == 0);
                check(merkle_mem_store_append(s, h) == 0);
                for (size_t j = 0; j < H; j++)
                        sscanf(roots_hex[i] + 2 * j, "%2hhx", &want[j]);
                check(merkle_root(merkle_mem_store_get, s, i + 1, root) == 0);
                check(memcmp(root, want, H) == 0);
        }
        /* the leaf hash of the empty entry is the root of size 1 */
        check(merkle_leaf_hash(NULL, 0, h) == 0);
        check(memcmp(h, root, H) != 0);
        merkle_mem_store_free(s);
}

/* Everything against the naive model for all sizes 1..MAXN. */
static void test_against_model(void)
{
        MerkleMemStore *s = NULL;
        MerkleAppender a;
        uint8_t root[H], want[H], root1[H];
        uint8_t path[MERKLE_PROOF_MAX + 1][H], npath[MERKLE_PROOF_MAX + 1][H];
        size_t len, nlen;
        uint64_t stored = 0;
        unsigned long proofs = 0;

        check(merkle_mem_store_new(&s) == 0);
        merkle_appender_init(&a);

        for (uint64_t n = 1; n <= MAXN; n++) {
                MerkleNode nodes[MERKLE_MAX_LEVELS];
                size_t nn;

                /* the appender: emits exactly the new complete nodes */
                check(merkle_appender_append(&a, leaves[n - 1], nodes, &nn) == 0);
                check(a.size == n);
                check(nn == 1 + (size_t)__builtin_ctzll(n));
                for (size_t i = 0; i < nn; i++) {
                        uint8_t exp[H];
                        uint64_t lo = nodes[i].index << nodes[i].level, hi = (nodes[i].index + 1) << nodes[i].level;

                        check(nodes[i].level == i);
                        check(hi == n); /* it just became complete */
                        naive_mth(lo, hi, exp);
                        check(memcmp(nodes[i].hash, exp, H) == 0);
                }
                check(merkle_mem_store_append(s, leaves[n - 1]) == 0);
                stored += nn;
                check(stored == 2 * n - (uint64_t)__builtin_popcountll(n));

                naive_mth(0, n, want);
                check(merkle_appender_root(&a, root) == 0 && memcmp(root, want, H) == 0);
                check(merkle_root(merkle_mem_store_get, s, n, root) == 0 && memcmp(root, want, H) == 0);
        }
        check(merkle_mem_store_size(s) == MAXN);

        for (uint64_t n = 1; n <= MAXN; n++) {
                naive_mth(0, n, root);

                /* every inclusion proof */
                for (uint64_t i = 0; i < n; i++) {
                        check(merkle_inclusion_proof(merkle_mem_store_get, s, i, n, path, &len) == 0);
                        nlen = 0;
                        naive_path(i, 0, n, npath, &nlen);
                        check(len == nlen);
                        check(memcmp(path, npath, len * H) == 0);
                        check(merkle_verify_inclusion(leaves[i], i, n, (const uint8_t(*)[H])path, len, root) == 0);
                        proofs++;

                        /* refusals */
                        check(merkle_verify_inclusion(leaves[i], i, n, (const uint8_t(*)[H])path, len, leaves[i]) ==
                              (n == 1 ? 0 : MERKLE_E_ROOT_MISMATCH));
                        if (i + 1 < n)
                                check(merkle_verify_inclusion(leaves[i + 1], i, n, (const uint8_t(*)[H])path, len,
                                                              root) == MERKLE_E_ROOT_MISMATCH);
                        check(merkle_verify_inclusion(leaves[i], n, n, (const uint8_t(*)[H])path, len, root) ==
                              MERKLE_E_INDEX);
                        /*
                         * (A wrong size alone may still verify when the path has the
                         * same shape, e.g. index 0 of sizes 3 and 4: the size is bound
                         * by the signed checkpoint that carries the root, not by the path.)
                         */
                        if (i > 0)
                                check(merkle_verify_inclusion(leaves[i], i - 1, n, (const uint8_t(*)[H])path, len,
                                                              root) != 0);
                        if (i + 1 < n)
                                check(merkle_verify_inclusion(leaves[i], i + 1, n, (const uint8_t(*)[H])path, len,
                                                              root) != 0);
                        if (len > 0) {
                                check(merkle_verify_inclusion(leaves[i], i, n, (const uint8_t(*)[H])path, len - 1,
                                                              root) == MERKLE_E_PROOF_LENGTH);
                                if ((i + n) % 7 == 0)
                                        for (size_t j = 0; j < len; j++) {
                                                flip(path[j], (unsigned)(i * 31 + j));
                                                check(merkle_verify_inclusion(leaves[i], i, n,
                                                                              (const uint8_t(*)[H])path, len,
                                                                              root) == MERKLE_E_ROOT_MISMATCH);
                                                flip(path[j], (unsigned)(i * 31 + j));
                                        }
                        }
                        memcpy(path[len], root, H);
                        check(merkle_verify_inclusion(leaves[i], i, n, (const uint8_t(*)[H])path, len + 1, root) ==
                              MERKLE_E_PROOF_LENGTH);
                }

                /* every consistency proof into n */
                for (uint64_t m = 1; m <= n; m++) {
                        naive_mth(0, m, root1);
                        check(merkle_consistency_proof(merkle_mem_store_get, s, m, n, path, &len) == 0);
                        nlen = 0;
                        if (m < n)
                                naive_subproof(m, 0, n, true, npath, &nlen);
                        check(len == nlen);
                        check(memcmp(path, npath, len * H) == 0);
                        check(merkle_verify_consistency(m, n, root1, root, (const uint8_t(*)[H])path, len) == 0);
                        proofs++;

                        /* the same proof as a subtree consistency proof of [0, m) */
                        check(merkle_subtree_consistency_proof(merkle_mem_store_get, s, 0, m, n, npath, &nlen) == 0);
                        check(nlen == len && memcmp(path, npath, len * H) == 0);
                        check(merkle_verify_subtree_consistency(0, m, n, root1, root, (const uint8_t(*)[H])path, len) ==
                              0);

                        /* refusals */
                        check(merkle_verify_consistency(n, m, root, root1, (const uint8_t(*)[H])path, len) ==
                              (m == n ? 0 : MERKLE_E_SIZE));
                        check(merkle_verify_consistency(m, n, root, root1, (const uint8_t(*)[H])path, len) != 0 ||
                              m == n);
                        if (m < n) {
                                int r;

                                r = merkle_verify_consistency(m, n, leaves[0], root, (const uint8_t(*)[H])path, len);
                                check(r == MERKLE_E_OLD_ROOT_MISMATCH || r == MERKLE_E_ROOT_MISMATCH ||
                                      (m == 1 && r == 0));
                                check(merkle_verify_consistency(m, n, root1, leaves[0], (const uint8_t(*)[H])path,
                                                                len) == MERKLE_E_ROOT_MISMATCH);
                                check(merkle_verify_consistency(m, n, root1, root, (const uint8_t(*)[H])path,
                                                                len - 1) != 0);
                                check(merkle_verify_consistency(m, n, root1, root, (const uint8_t(*)[H])path + 1,
                                                                len - 1) != 0);
                                check(merkle_verify_consistency(m, n, root1, root, (const uint8_t(*)[H])path, 0) ==
                                      MERKLE_E_PROOF_LENGTH);
                                memcpy(path[len], root, H);
                                check(merkle_verify_consistency(m, n, root1, root, (const uint8_t(*)[H])path,
                                                                len + 1) == MERKLE_E_PROOF_LENGTH);
                                if ((m + n) % 5 == 0)
                                        for (size_t j = 0; j < len; j++) {
                                                flip(path[j], (unsigned)(m * 17 + j));
                                                check(merkle_verify_consistency(m, n, root1, root,
                                                                                (const uint8_t(*)[H])path, len) != 0);
                                                flip(path[j], (unsigned)(m * 17 + j));
                                        }
                        } else {
                                check(merkle_verify_consistency(m, n, root1, leaves[MAXN + 1], NULL, 0) ==
                                      MERKLE_E_ROOT_MISMATCH);
                                memcpy(path[0], root, H);
                                check(merkle_verify_consistency(m, n, root1, root, (const uint8_t(*)[H])path, 1) ==
                                      MERKLE_E_PROOF_LENGTH);
                        }
                }
        }
        printf("model: %lu proofs generated, compared and verified for sizes 1..%d\n", proofs, MAXN);
        merkle_mem_store_free(s);
}

/* Subtree proofs (MTC draft) against the model, all valid subtrees of trees up to 70 leaves. */
static void test_subtrees(void)
{
        MerkleMemStore *s = NULL;
        uint8_t path[MERKLE_PROOF_MAX + 1][H], npath[MERKLE_PROOF_MAX + 1][H];
        uint8_t root[H], sub[H], emptyh[H];
        size_t len, nlen;
        unsigned long count = 0;

        merkle_empty_root(emptyh);
        check(merkle_mem_store_new(&s) == 0);
        for (uint64_t i = 0; i < 70; i++)
                check(merkle_mem_store_append(s, leaves[i]) == 0);

        for (uint64_t n = 1; n <= 70; n++) {
                naive_mth(0, n, root);
                for (uint64_t start = 0; start <= n; start++)
                        for (uint64_t end = start; end <= n; end++) {
                                bool valid = naive_subtree_valid(start, end);

                                check(merkle_subtree_valid(start, end) == valid);
                                if (!valid) {
                                        check(merkle_subtree_consistency_proof(merkle_mem_store_get, s, start, end, n,
                                                                               path, &len) == MERKLE_E_SUBTREE);
                                        check(merkle_verify_subtree_consistency(start, end, n, root, root, NULL, 0) ==
                                              MERKLE_E_SUBTREE);
                                        check(merkle_subtree_hash(merkle_mem_store_get, s, start, end, sub) ==
                                              MERKLE_E_SUBTREE);
                                        continue;
                                }
                                if (start == end) {
                                        check(merkle_subtree_consistency_proof(merkle_mem_store_get, s, start, end, n,
                                                                               path, &len) == 0 &&
                                              len == 0);
                                        check(merkle_verify_subtree_consistency(start, end, n, emptyh, root, NULL, 0) ==
                                              0);
                                        check(merkle_verify_subtree_consistency(start, end, n, root, root, NULL, 0) ==
                                              MERKLE_E_OLD_ROOT_MISMATCH);
                                        continue;
                                }
                                naive_mth(start, end, sub);
                                {
                                        uint8_t got[H];
                                        check(merkle_subtree_hash(merkle_mem_store_get, s, start, end, got) == 0);
                                        check(memcmp(got, sub, H) == 0);
                                }
                                check(merkle_subtree_consistency_proof(merkle_mem_store_get, s, start, end, n, path,
                                                                       &len) == 0);
                                nlen = 0;
                                naive_subtree_subproof(start, end, 0, n, true, npath, &nlen);
                                check(len == nlen && memcmp(path, npath, len * H) == 0);
                                check(merkle_verify_subtree_consistency(start, end, n, sub, root,
                                                                        (const uint8_t(*)[H])path, len) == 0);
                                check(merkle_verify_subtree_consistency(start, end, n, leaves[MAXN + 1], root,
                                                                        (const uint8_t(*)[H])path, len) != 0);
                                check(merkle_verify_subtree_consistency(start, end, n, sub, leaves[MAXN + 1],
                                                                        (const uint8_t(*)[H])path, len) != 0);
                                memcpy(path[len], root, H);
                                check(merkle_verify_subtree_consistency(start, end, n, sub, root,
                                                                        (const uint8_t(*)[H])path, len + 1) != 0);
                                if (len > 0) {
                                        check(merkle_verify_subtree_consistency(start, end, n, sub, root,
                                                                                (const uint8_t(*)[H])path,
                                                                                len - 1) != 0);
                                        flip(path[len - 1], 3);
                                        check(merkle_verify_subtree_consistency(start, end, n, sub, root,
                                                                                (const uint8_t(*)[H])path, len) != 0);
                                }
                                count++;

                                /* subtree inclusion: only for the subtrees of the largest tree */
                                if (n != 70)
                                        continue;
                                for (uint64_t i = start; i < end; i++) {
                                        check(merkle_subtree_inclusion_proof(merkle_mem_store_get, s, i, start, end,
                                                                             path, &len) == 0);
                                        nlen = 0;
                                        naive_path(i - start, start, end, npath, &nlen);
                                        check(len == nlen && memcmp(path, npath, len * H) == 0);
                                        check(merkle_verify_subtree_inclusion(leaves[i], i, start, end,
                                                                              (const uint8_t(*)[H])path, len,
                                                                              sub) == 0);
                                        check(merkle_verify_subtree_inclusion(leaves[i], i, start, end,
                                                                              (const uint8_t(*)[H])path, len,
                                                                              root) != 0 ||
                                              (start == 0 && end == n));
                                        check(merkle_verify_subtree_inclusion(leaves[i], end, start, end,
                                                                              (const uint8_t(*)[H])path, len,
                                                                              sub) == MERKLE_E_INDEX);
                                        if (start > 0)
                                                check(merkle_verify_subtree_inclusion(leaves[i], start - 1, start, end,
                                                                                      (const uint8_t(*)[H])path, len,
                                                                                      sub) == MERKLE_E_INDEX);
                                        count++;
                                }
                        }
        }
        check(merkle_subtree_inclusion_proof(merkle_mem_store_get, s, 3, 3, 5, path, &len) == MERKLE_E_SUBTREE);
        check(merkle_subtree_inclusion_proof(merkle_mem_store_get, s, 5, 4, 5, path, &len) == MERKLE_E_INDEX);
        check(merkle_subtree_consistency_proof(merkle_mem_store_get, s, 0, 8, 7, path, &len) == MERKLE_E_SUBTREE);
        printf("subtrees: %lu subtree proofs generated, compared and verified\n", count);
        merkle_mem_store_free(s);
}

/* Rebuild the frontier from the store at every size, and carry on appending from there. */
static void test_frontier_rebuild(void)
{
        MerkleMemStore *s = NULL;
        MerkleAppender a, b;
        uint8_t root[H], want[H], h[H];
        MerkleNode nodes[MERKLE_MAX_LEVELS];
        size_t nn;

        check(merkle_mem_store_new(&s) == 0);
        for (uint64_t i = 0; i < MAXN; i++)
                check(merkle_mem_store_append(s, leaves[i]) == 0);

        for (uint64_t n = 0; n <= MAXN; n++) {
                check(merkle_appender_init_from_store(&a, merkle_mem_store_get, s, n) == 0);
                check(a.size == n);
                check(merkle_appender_root(&a, root) == 0);
                if (n == 0)
                        merkle_empty_root(want);
                else
                        naive_mth(0, n, want);
                check(memcmp(root, want, H) == 0);

                /* appending the following leaves reproduces the stored nodes */
                for (uint64_t i = n; i < MIN(n + 40, (uint64_t)MAXN); i++) {
                        check(merkle_appender_append(&a, leaves[i], nodes, &nn) == 0);
                        for (size_t j = 0; j < nn; j++) {
                                check(merkle_mem_store_get(s, nodes[j].level, nodes[j].index, h) == 0);
                                check(memcmp(h, nodes[j].hash, H) == 0);
                        }
                        naive_mth(0, i + 1, want);
                        check(merkle_appender_root(&a, root) == 0 && memcmp(root, want, H) == 0);
                }
        }

        /* beyond the store: the get error is passed up, the appender left alone */
        merkle_appender_init(&b);
        check(merkle_appender_init_from_store(&b, merkle_mem_store_get, s, MAXN + 1) == -ENOENT);
        check(b.size == 0);
        check(merkle_root(merkle_mem_store_get, s, MAXN + 1, root) == -ENOENT);
        {
                uint8_t path[MERKLE_PROOF_MAX][H];
                check(merkle_inclusion_proof(merkle_mem_store_get, s, 0, MAXN + 1, path, &nn) == -ENOENT);
        }
        merkle_mem_store_free(s);
}

/* A damaged store gives roots and proofs that do not verify against the true root. */
static void test_damaged_store(void)
{
        MerkleMemStore *s = NULL;
        uint8_t root[H], bad_root[H], h[H], path[MERKLE_PROOF_MAX][H];
        size_t len;

        check(merkle_mem_store_new(&s) == 0);
        for (uint64_t i = 0; i < 100; i++)
                check(merkle_mem_store_append(s, leaves[i]) == 0);
        check(merkle_root(merkle_mem_store_get, s, 100, root) == 0);

        /* store gaps are refused */
        check(merkle_mem_store_put(s, 0, 101, leaves[0]) == -EINVAL);
        check(merkle_mem_store_put(s, 64, 0, leaves[0]) == -EINVAL);
        check(merkle_mem_store_get(s, 64, 0, h) == -ENOENT);
        check(merkle_mem_store_get(s, 7, 0, h) == -ENOENT); /* 100 < 128 */

        /*
         * Damage node (2, 5) = leaves [20, 24). The root of 100 is folded from
         * (6, 0), (5, 2) and (2, 24) only, so it does not change; the proofs
         * that use (2, 5) no longer verify against the true root.
         */
        check(merkle_mem_store_get(s, 2, 5, h) == 0);
        flip(h, 0);
        check(merkle_mem_store_put(s, 2, 5, h) == 0);
        check(merkle_root(merkle_mem_store_get, s, 100, bad_root) == 0);
        check(memcmp(root, bad_root, H) == 0);
        check(merkle_inclusion_proof(merkle_mem_store_get, s, 17, 100, path, &len) == 0);
        check(merkle_verify_inclusion(leaves[17], 17, 100, (const uint8_t(*)[H])path, len, root) ==
              MERKLE_E_ROOT_MISMATCH);
        check(merkle_inclusion_proof(merkle_mem_store_get, s, 3, 100, path, &len) == 0);
        check(merkle_verify_inclusion(leaves[3], 3, 100, (const uint8_t(*)[H])path, len, root) == 0);
        check(merkle_consistency_proof(merkle_mem_store_get, s, 20, 100, path, &len) == 0);
        naive_mth(0, 20, h);
        check(merkle_verify_consistency(20, 100, h, root, (const uint8_t(*)[H])path, len) != 0);

        /* damage a frontier node: the root changes */
        check(merkle_mem_store_get(s, 6, 0, h) == 0);
        flip(h, 200);
        check(merkle_mem_store_put(s, 6, 0, h) == 0);
        check(merkle_root(merkle_mem_store_get, s, 100, bad_root) == 0);
        check(memcmp(root, bad_root, H) != 0);
        merkle_mem_store_free(s);
}

/* ------------------------------------------------------------------------ */
/* A virtual tree of 2^64 - 1 equal leaves: every node at level L is T[L]. */

static uint8_t T[MERKLE_MAX_LEVELS][H];

typedef struct Virtual {
        uint64_t size;
        unsigned long gets;
} Virtual;

static int virtual_get(void *userdata, unsigned level, uint64_t index, uint8_t out[H])
{
        Virtual *v = userdata;

        v->gets++;
        if (level >= MERKLE_MAX_LEVELS || index >= (v->size >> level))
                return -ENOENT;
        memcpy(out, T[level], H);
        return 0;
}

static void test_huge(void)
{
        static const uint64_t sizes[] = {
                UINT64_MAX,        UINT64_MAX - 1,          (UINT64_C(1) << 63) + 1,
                UINT64_C(1) << 63, (UINT64_C(1) << 63) - 1, UINT64_C(0xdeadbeefcafebabe),
                UINT64_C(1) << 40,
        };
        Virtual v = {};
        MerkleAppender a;
        MerkleNode nodes[MERKLE_MAX_LEVELS];
        uint8_t root[H], root1[H], r2[H], path[MERKLE_PROOF_MAX][H];
        size_t len, nn;

        check(merkle_leaf_hash("x", 1, T[0]) == 0);
        for (unsigned l = 1; l < MERKLE_MAX_LEVELS; l++)
                check(merkle_node_hash(T[l - 1], T[l - 1], T[l]) == 0);

        for (size_t si = 0; si < ELEMENTSOF(sizes); si++) {
                uint64_t n = sizes[si];
                uint64_t idx[] = { 0, 1, n / 2, n / 3, n - 2, n - 1, UINT64_C(0x5555555555555555) % n };
                uint64_t ms[] = { 1, 2, 3, n / 2, n / 3 + 1, n - 1, n, UINT64_C(0x123456789abcdef) % n + 1 };

                v.size = n;
                v.gets = 0;
                check(merkle_root(virtual_get, &v, n, root) == 0);
                check(v.gets == (unsigned long)__builtin_popcountll(n));

                /* the frontier rebuilt at that size gives the same root */
                check(merkle_appender_init_from_store(&a, virtual_get, &v, n) == 0);
                check(merkle_appender_root(&a, r2) == 0 && memcmp(root, r2, H) == 0);

                for (size_t j = 0; j < ELEMENTSOF(idx); j++) {
                        v.gets = 0;
                        check(merkle_inclusion_proof(virtual_get, &v, idx[j], n, path, &len) == 0);
                        check(len <= 64);
                        check(v.gets <= 64 * 64);
                        check(merkle_verify_inclusion(T[0], idx[j], n, (const uint8_t(*)[H])path, len, root) == 0);
                        check(merkle_verify_inclusion(T[1], idx[j], n, (const uint8_t(*)[H])path, len, root) ==
                              MERKLE_E_ROOT_MISMATCH);
                }
                for (size_t j = 0; j < ELEMENTSOF(ms); j++) {
                        uint64_t m = ms[j];

                        if (m == 0 || m > n)
                                continue;
                        v.size = m;
                        check(merkle_root(virtual_get, &v, m, root1) == 0);
                        v.size = n;
                        v.gets = 0;
                        check(merkle_consistency_proof(virtual_get, &v, m, n, path, &len) == 0);
                        check(len <= MERKLE_PROOF_MAX);
                        check(v.gets <= MERKLE_PROOF_MAX * 64);
                        check(merkle_verify_consistency(m, n, root1, root, (const uint8_t(*)[H])path, len) == 0);
                        if (m < n)
                                check(merkle_verify_consistency(m, n, root, root, (const uint8_t(*)[H])path, len) != 0);
                }
        }

        /* a full tree: one more leaf overflows, and nothing changes */
        v.size = UINT64_MAX - 1;
        check(merkle_appender_init_from_store(&a, virtual_get, &v, UINT64_MAX - 1) == 0);
        check(merkle_appender_append(&a, T[0], nodes, &nn) == 0);
        check(nn == 1 && a.size == UINT64_MAX);
        v.size = UINT64_MAX;
        check(merkle_root(virtual_get, &v, UINT64_MAX, root) == 0);
        check(merkle_appender_root(&a, r2) == 0 && memcmp(root, r2, H) == 0);
        check(merkle_appender_append(&a, T[0], nodes, &nn) == -EOVERFLOW);
        check(a.size == UINT64_MAX);

        /* the longest carry: 2^63 - 1 -> 2^63 emits 64 nodes, the last (63, 0) */
        v.size = (UINT64_C(1) << 63) - 1;
        check(merkle_appender_init_from_store(&a, virtual_get, &v, v.size) == 0);
        check(merkle_appender_append(&a, T[0], nodes, &nn) == 0);
        check(nn == 64);
        check(nodes[63].level == 63 && nodes[63].index == 0 && memcmp(nodes[63].hash, T[63], H) == 0);
        check(merkle_appender_root(&a, r2) == 0 && memcmp(r2, T[63], H) == 0);
}

/* Hostile verification inputs: nothing is read out of bounds, everything is refused. */
static void test_hostile(void)
{
        uint8_t one[1][H] = {};
        uint8_t big[MERKLE_PROOF_MAX + 1][H] = {};
        uint8_t x[H] = {}, e[H];

        merkle_empty_root(e);

        /* lengths beyond the maximum are refused before reading the path */
        check(merkle_verify_inclusion(x, 0, 2, (const uint8_t(*)[H])one, SIZE_MAX, x) == MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_consistency(1, 2, x, x, (const uint8_t(*)[H])one, SIZE_MAX) == MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_subtree_inclusion(x, 0, 0, 2, (const uint8_t(*)[H])one, SIZE_MAX, x) ==
              MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_subtree_consistency(0, 1, 2, x, x, (const uint8_t(*)[H])one, SIZE_MAX) ==
              MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_inclusion(x, 0, UINT64_MAX, (const uint8_t(*)[H])big, MERKLE_PROOF_MAX + 1, x) ==
              MERKLE_E_PROOF_LENGTH);
        /* ... and the longest accepted lengths are walked without trouble */
        check(merkle_verify_inclusion(x, 0, UINT64_MAX, (const uint8_t(*)[H])big, MERKLE_PROOF_MAX, x) ==
              MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_inclusion(x, UINT64_MAX - 1, UINT64_MAX, (const uint8_t(*)[H])big, 63, x) ==
              MERKLE_E_ROOT_MISMATCH);
        check(merkle_verify_inclusion(x, UINT64_MAX - 1, UINT64_MAX, (const uint8_t(*)[H])big, 64, x) ==
              MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_inclusion(x, 0, UINT64_MAX, (const uint8_t(*)[H])big, 64, x) == MERKLE_E_ROOT_MISMATCH);
        check(merkle_verify_consistency(UINT64_MAX - 1, UINT64_MAX, x, x, (const uint8_t(*)[H])big, MERKLE_PROOF_MAX) !=
              0);
        check(merkle_verify_consistency(3, UINT64_MAX, x, x, (const uint8_t(*)[H])big, MERKLE_PROOF_MAX) != 0);
        check(merkle_verify_subtree_consistency(0, UINT64_MAX - 1, UINT64_MAX, x, x, (const uint8_t(*)[H])big,
                                                MERKLE_PROOF_MAX) != 0);

        /* NULL paths with a length */
        check(merkle_verify_inclusion(x, 0, 2, NULL, 1, x) == -EINVAL);
        check(merkle_verify_consistency(1, 2, x, x, NULL, 1) == -EINVAL);

        /* indexes and sizes */
        check(merkle_verify_inclusion(x, 0, 0, NULL, 0, x) == MERKLE_E_INDEX);
        check(merkle_verify_inclusion(x, UINT64_MAX, UINT64_MAX, NULL, 0, x) == MERKLE_E_INDEX);
        check(merkle_verify_inclusion(x, UINT64_MAX, 1, NULL, 0, x) == MERKLE_E_INDEX);
        check(merkle_verify_inclusion(x, 0, 1, NULL, 0, x) == 0); /* a tree of one leaf: the root is the leaf */
        check(merkle_verify_inclusion(x, 0, 2, NULL, 0, x) == MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_consistency(2, 1, x, x, NULL, 0) == MERKLE_E_SIZE);
        check(merkle_verify_consistency(UINT64_MAX, 0, x, x, NULL, 0) == MERKLE_E_SIZE);
        check(merkle_verify_consistency(0, 1, e, x, NULL, 0) == MERKLE_E_SIZE);
        check(merkle_verify_consistency(0, 1, e, x, (const uint8_t(*)[H])one, 1) == MERKLE_E_SIZE);
        check(merkle_verify_consistency(0, 0, e, e, NULL, 0) == 0);
        check(merkle_verify_consistency(0, 0, x, x, NULL, 0) == MERKLE_E_OLD_ROOT_MISMATCH);
        check(merkle_verify_consistency(0, 0, e, e, (const uint8_t(*)[H])one, 1) == MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_consistency(5, 5, x, x, NULL, 0) == 0);
        check(merkle_verify_consistency(5, 5, x, e, NULL, 0) == MERKLE_E_ROOT_MISMATCH);
        check(merkle_verify_consistency(5, 5, x, x, (const uint8_t(*)[H])one, 1) == MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_consistency(4, 8, x, x, NULL, 0) == MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_consistency(UINT64_MAX - 1, UINT64_MAX, x, x, NULL, 0) == MERKLE_E_PROOF_LENGTH);

        /* subtrees */
        check(!merkle_subtree_valid(1, 3));
        check(!merkle_subtree_valid(2, 5));
        check(!merkle_subtree_valid(2, 1));
        check(merkle_subtree_valid(0, UINT64_MAX));
        check(!merkle_subtree_valid(1, (UINT64_C(1) << 63) + 2));
        check(merkle_subtree_valid(UINT64_C(1) << 63, UINT64_MAX));
        check(merkle_subtree_valid(7, 7));
        check(merkle_subtree_valid(7, 8));
        check(merkle_verify_subtree_inclusion(x, 1, 1, UINT64_C(9223372036854775810), NULL, 0, x) == MERKLE_E_SUBTREE);
        check(merkle_verify_subtree_inclusion(x, 0, 1, 2, NULL, 0, x) == MERKLE_E_INDEX);
        check(merkle_verify_subtree_inclusion(x, 1, 1, 1, NULL, 0, x) == MERKLE_E_INDEX);
        check(merkle_verify_subtree_inclusion(x, 1, 1, 2, NULL, 0, x) == 0);
        check(merkle_verify_subtree_consistency(0, 5, 4, x, x, NULL, 0) == MERKLE_E_SUBTREE);
        check(merkle_verify_subtree_consistency(1, 3, 8, x, x, NULL, 0) == MERKLE_E_SUBTREE);
        check(merkle_verify_subtree_consistency(2, 2, 8, e, x, NULL, 0) == 0);
        check(merkle_verify_subtree_consistency(2, 2, 8, e, x, (const uint8_t(*)[H])one, 1) == MERKLE_E_PROOF_LENGTH);
        check(merkle_verify_subtree_consistency(0, 1, 1, x, x, NULL, 0) == 0);
        check(merkle_verify_subtree_consistency(0, 1, 2, x, x, NULL, 0) == MERKLE_E_PROOF_LENGTH);

        for (int c = 1; c < _MERKLE_E_MAX; c++)
                check(!streq(merkle_strerror(c), "unknown"));
        check(streq(merkle_strerror(0), "unknown"));
        check(streq(merkle_strerror(-5), "unknown"));
}

int main(void)
{
        memo = calloc(MAXN + 1, sizeof(*memo));
        memo_ok = calloc(MAXN + 1, sizeof(*memo_ok));
        assert(memo && memo_ok);
        for (unsigned i = 0; i < ELEMENTSOF(leaves); i++) {
                char d[32];
                int n = snprintf(d, sizeof(d), "entry %u", i);
                naive_leaf(d, (size_t)n, leaves[i]);
                /* merkle.c agrees on leaf hashes */
                uint8_t h[H];
                check(merkle_leaf_hash(d, (size_t)n, h) == 0 && memcmp(h, leaves[i], H) == 0);
        }

        test_known_vectors();
        test_against_model();
        test_subtrees();
        test_frontier_rebuild();
        test_damaged_store();
        test_huge();
        test_hostile();

        free(memo);
        free(memo_ok);
        printf("test-merkle: %u checks passed\n", checks);
        return 0;
}
