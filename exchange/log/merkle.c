/* merkle.c: RFC 9162 Merkle tree hashing, proofs and their verification */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "log/merkle.h"
#include "util/macro.h"

/* SHA-256("") */
static const uint8_t empty_root[MERKLE_HASH_LEN] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

/*
 * Hashing. The digest is fetched from the provider once per process, and
 * each thread keeps one digest context that it re-initialises for every
 * hash: appending is on the log writer's hot path, and a fresh context per
 * hash (EVP_Digest) costs an allocation and a provider lookup each time.
 */
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;
static EVP_MD *hash_md;
static pthread_key_t hash_ctx_key;
static bool hash_key_ok;

static void hash_ctx_destroy(void *p)
{
        EVP_MD_CTX_free(p);
}

static void hash_init_once(void)
{
        hash_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
        hash_key_ok = pthread_key_create(&hash_ctx_key, hash_ctx_destroy) == 0;
}

/*
 * The calling thread's context, kept in a pthread key (not a _Thread_local
 * copy) so that the key's destructor frees it at thread exit and nothing
 * keeps a stale pointer to it.
 */
static EVP_MD_CTX *hash_thread_ctx(void)
{
        EVP_MD_CTX *ctx;

        pthread_once(&hash_once, hash_init_once);
        if (!hash_md || !hash_key_ok)
                return NULL;
        ctx = pthread_getspecific(hash_ctx_key);
        if (_likely_(ctx))
                return ctx;
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return NULL;
        if (pthread_setspecific(hash_ctx_key, ctx) != 0) {
                EVP_MD_CTX_free(ctx);
                return NULL;
        }
        return ctx;
}

/* SHA-256(prefix || a || b); b may be NULL. */
static int hash3(uint8_t prefix, const void *a, size_t na, const void *b, size_t nb, uint8_t out[MERKLE_HASH_LEN])
{
        EVP_MD_CTX *ctx = hash_thread_ctx();
        unsigned n = 0;

        if (!ctx)
                return -ENOMEM;
        if (!EVP_DigestInit_ex2(ctx, hash_md, NULL) || !EVP_DigestUpdate(ctx, &prefix, 1) ||
            (na > 0 && !EVP_DigestUpdate(ctx, a, na)) || (nb > 0 && !EVP_DigestUpdate(ctx, b, nb)) ||
            !EVP_DigestFinal_ex(ctx, out, &n) || n != MERKLE_HASH_LEN)
                return -ENOMEM;
        return 0;
}

int merkle_leaf_hash(const void *data, size_t size, uint8_t out[MERKLE_HASH_LEN])
{
        return hash3(0x00, data, size, NULL, 0, out);
}

int merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
                     uint8_t out[MERKLE_HASH_LEN])
{
        uint8_t buf[2 * MERKLE_HASH_LEN];

        /* copy first: out may be left or right */
        memcpy(buf, left, MERKLE_HASH_LEN);
        memcpy(buf + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
        return hash3(0x01, buf, sizeof(buf), NULL, 0, out);
}

void merkle_empty_root(uint8_t out[MERKLE_HASH_LEN])
{
        memcpy(out, empty_root, MERKLE_HASH_LEN);
}

const char *merkle_strerror(int code)
{
        static const char *const table[_MERKLE_E_MAX] = {
                [MERKLE_E_INDEX] = "leaf index outside the tree",
                [MERKLE_E_SIZE] = "invalid tree sizes",
                [MERKLE_E_SUBTREE] = "invalid subtree range",
                [MERKLE_E_PROOF_LENGTH] = "wrong proof length",
                [MERKLE_E_ROOT_MISMATCH] = "root hash mismatch",
                [MERKLE_E_OLD_ROOT_MISMATCH] = "first root (or subtree) hash mismatch",
        };

        if (code > 0 && code < _MERKLE_E_MAX)
                return table[code];
        return "unknown";
}

/* ------------------------------------------------------------------------ */
/* Bits */

static unsigned bit_length(uint64_t x)
{
        return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
}

/* The largest power of two smaller than n, for n >= 2 (RFC 9162 "k"). */
static uint64_t split_point(uint64_t n)
{
        return UINT64_C(1) << (bit_length(n - 1) - 1);
}

static bool is_pow2(uint64_t x)
{
        return x && !(x & (x - 1));
}

bool merkle_subtree_valid(uint64_t start, uint64_t end)
{
        uint64_t size;

        if (start > end)
                return false;
        size = end - start;
        if (size > UINT64_C(1) << 63)
                return start == 0; /* BIT_CEIL(size) would be 2^64 */
        if (size <= 1)
                return true; /* BIT_CEIL(0) = BIT_CEIL(1) = 1 */
        return (start & ((UINT64_C(1) << bit_length(size - 1)) - 1)) == 0;
}

/* ------------------------------------------------------------------------ */
/* The appender */

void merkle_appender_init(MerkleAppender *a)
{
        memset(a, 0, sizeof(*a));
}

int merkle_appender_append(MerkleAppender *a, const uint8_t leaf_hash[MERKLE_HASH_LEN],
                           MerkleNode ret_nodes[MERKLE_MAX_LEVELS], size_t *ret_n_nodes)
{
        uint8_t h[MERKLE_HASH_LEN];
        uint64_t size = a->size, index = a->size;
        unsigned level = 0;
        size_t n = 0;
        int r;

        if (size == UINT64_MAX)
                return -EOVERFLOW;

        memcpy(h, leaf_hash, MERKLE_HASH_LEN);
        ret_nodes[n] = (MerkleNode){ .level = 0, .index = index };
        memcpy(ret_nodes[n++].hash, h, MERKLE_HASH_LEN);

        /*
         * Carry: while the pending subtree at this level is complete, the
         * new node closes it. Nothing in *a changes before the last hash,
         * so a failure leaves the appender as it was. size < 2^64 - 1, so
         * the carry stops at level 63 at the latest.
         */
        while (size & (UINT64_C(1) << level)) {
                r = merkle_node_hash(a->frontier[level], h, h);
                if (r < 0)
                        return r;
                level++;
                index >>= 1;
                ret_nodes[n] = (MerkleNode){ .level = level, .index = index };
                memcpy(ret_nodes[n++].hash, h, MERKLE_HASH_LEN);
        }

        memcpy(a->frontier[level], h, MERKLE_HASH_LEN);
        a->size = size + 1;
        *ret_n_nodes = n;
        return 0;
}

/* Fold the perfect subtrees of a right frontier: the smallest is the rightmost. */
static int fold_frontier(const uint8_t (*frontier)[MERKLE_HASH_LEN], uint64_t size, uint8_t out[MERKLE_HASH_LEN])
{
        uint8_t h[MERKLE_HASH_LEN];
        bool have = false;
        int r;

        if (size == 0) {
                merkle_empty_root(out);
                return 0;
        }
        for (unsigned level = 0; level < MERKLE_MAX_LEVELS; level++) {
                if (!(size & (UINT64_C(1) << level)))
                        continue;
                if (!have) {
                        memcpy(h, frontier[level], MERKLE_HASH_LEN);
                        have = true;
                } else {
                        r = merkle_node_hash(frontier[level], h, h);
                        if (r < 0)
                                return r;
                }
        }
        memcpy(out, h, MERKLE_HASH_LEN);
        return 0;
}

int merkle_appender_root(const MerkleAppender *a, uint8_t ret_root[MERKLE_HASH_LEN])
{
        return fold_frontier(a->frontier, a->size, ret_root);
}

int merkle_appender_init_from_store(MerkleAppender *a, MerkleGetFn get, void *userdata, uint64_t size)
{
        MerkleAppender t = { .size = size };
        int r;

        for (unsigned level = 0; level < MERKLE_MAX_LEVELS; level++) {
                if (!(size & (UINT64_C(1) << level)))
                        continue;
                r = get(userdata, level, (size >> level) - 1, t.frontier[level]);
                if (r < 0)
                        return r;
        }
        *a = t;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading */

/*
 * MTH(D[start:end]) of a valid subtree, start < end: the range splits into
 * the perfect aligned nodes of the binary digits of end - start, largest
 * first (each is stored), and the hash folds them from the right, exactly
 * as RFC 9162 splits at the largest power of two. popcount(end - start)
 * reads, one hash fewer.
 */
static int range_hash(MerkleGetFn get, void *userdata, uint64_t start, uint64_t end, uint8_t out[MERKLE_HASH_LEN])
{
        uint8_t nodes[MERKLE_MAX_LEVELS][MERKLE_HASH_LEN];
        uint64_t size = end - start, pos = start;
        size_t n = 0;
        int r;

        for (unsigned i = MERKLE_MAX_LEVELS; i-- > 0;) {
                if (!(size & (UINT64_C(1) << i)))
                        continue;
                r = get(userdata, i, pos >> i, nodes[n]);
                if (r < 0)
                        return r;
                n++;
                pos += UINT64_C(1) << i;
        }
        /* n >= 1 since start < end */
        while (n > 1) {
                r = merkle_node_hash(nodes[n - 2], nodes[n - 1], nodes[n - 2]);
                if (r < 0)
                        return r;
                n--;
        }
        memcpy(out, nodes[0], MERKLE_HASH_LEN);
        return 0;
}

int merkle_subtree_hash(MerkleGetFn get, void *userdata, uint64_t start, uint64_t end,
                        uint8_t ret_hash[MERKLE_HASH_LEN])
{
        if (!merkle_subtree_valid(start, end))
                return MERKLE_E_SUBTREE;
        if (start == end) {
                merkle_empty_root(ret_hash);
                return 0;
        }
        return range_hash(get, userdata, start, end, ret_hash);
}

int merkle_root(MerkleGetFn get, void *userdata, uint64_t size, uint8_t ret_root[MERKLE_HASH_LEN])
{
        return merkle_subtree_hash(get, userdata, 0, size, ret_root);
}

/* Proof hashes are found from the root down; proofs list them from the bottom up. */
static void reverse_copy(uint8_t (*dst)[MERKLE_HASH_LEN], const uint8_t (*src)[MERKLE_HASH_LEN], size_t n)
{
        for (size_t i = 0; i < n; i++)
                memcpy(dst[i], src[n - 1 - i], MERKLE_HASH_LEN);
}

/* PATH(index - start, D[start:end]) for a valid subtree and start <= index < end. */
static int inclusion_path(MerkleGetFn get, void *userdata, uint64_t index, uint64_t start, uint64_t end,
                          uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len)
{
        uint8_t found[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
        uint64_t off = start, n = end - start, m = index - start;
        size_t len = 0;
        int r;

        while (n > 1) {
                uint64_t k = split_point(n);

                if (len >= MERKLE_MAX_LEVELS)
                        return -EINVAL; /* cannot happen: n at least halves */
                if (m < k) {
                        /* PATH(m, D[0:k]) : MTH(D[k:n]) */
                        r = range_hash(get, userdata, off + k, off + n, found[len]);
                        n = k;
                } else {
                        /* PATH(m - k, D[k:n]) : MTH(D[0:k]) */
                        r = range_hash(get, userdata, off, off + k, found[len]);
                        off += k;
                        m -= k;
                        n -= k;
                }
                if (r < 0)
                        return r;
                len++;
        }

        reverse_copy(ret_path, (const uint8_t(*)[MERKLE_HASH_LEN])found, len);
        *ret_len = len;
        return 0;
}

int merkle_subtree_inclusion_proof(MerkleGetFn get, void *userdata, uint64_t index, uint64_t start, uint64_t end,
                                   uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len)
{
        if (!merkle_subtree_valid(start, end))
                return MERKLE_E_SUBTREE;
        if (index < start || index >= end)
                return MERKLE_E_INDEX;
        return inclusion_path(get, userdata, index, start, end, ret_path, ret_len);
}

int merkle_inclusion_proof(MerkleGetFn get, void *userdata, uint64_t index, uint64_t size,
                           uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len)
{
        return merkle_subtree_inclusion_proof(get, userdata, index, 0, size, ret_path, ret_len);
}

/*
 * SUBTREE_PROOF(start, end, D[0:size]) of the MTC draft, for a valid
 * subtree with start < end <= size, walked from the root down: each step
 * keeps the child holding [start, end) and records the other child's hash;
 * the recursion's innermost hash comes first in the proof.
 */
static int consistency_path(MerkleGetFn get, void *userdata, uint64_t start, uint64_t end, uint64_t size,
                            uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len)
{
        uint8_t found[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
        uint64_t off = 0, n = size;
        bool known = true; /* whether the verifier knows MTH(D[start:end]) */
        size_t len = 0;
        int r;

        for (;;) {
                uint64_t k;

                if (len >= MERKLE_PROOF_MAX)
                        return -EINVAL; /* cannot happen: at most 64 splits and one base hash */

                if (start == 0 && end == n) {
                        if (known)
                                break;
                        r = range_hash(get, userdata, off, off + n, found[len]);
                        if (r < 0)
                                return r;
                        len++;
                        break;
                }

                /* here n > 1: start < end <= n and [start, end) != [0, n) */
                k = split_point(n);
                if (end <= k) {
                        r = range_hash(get, userdata, off + k, off + n, found[len]);
                        n = k;
                } else if (k <= start) {
                        r = range_hash(get, userdata, off, off + k, found[len]);
                        off += k;
                        start -= k;
                        end -= k;
                        n -= k;
                } else {
                        /* start < k < end: only possible for start == 0 in a valid subtree */
                        if (start != 0)
                                return -EINVAL;
                        r = range_hash(get, userdata, off, off + k, found[len]);
                        off += k;
                        end -= k;
                        n -= k;
                        known = false;
                }
                if (r < 0)
                        return r;
                len++;
        }

        reverse_copy(ret_path, (const uint8_t(*)[MERKLE_HASH_LEN])found, len);
        *ret_len = len;
        return 0;
}

int merkle_subtree_consistency_proof(MerkleGetFn get, void *userdata, uint64_t start, uint64_t end, uint64_t size,
                                     uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len)
{
        if (!merkle_subtree_valid(start, end) || end > size)
                return MERKLE_E_SUBTREE;
        if (start == end) {
                *ret_len = 0;
                return 0;
        }
        return consistency_path(get, userdata, start, end, size, ret_path, ret_len);
}

int merkle_consistency_proof(MerkleGetFn get, void *userdata, uint64_t size1, uint64_t size2,
                             uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len)
{
        if (size1 == 0 || size1 > size2)
                return MERKLE_E_SIZE;
        if (size1 == size2) {
                *ret_len = 0;
                return 0;
        }
        return consistency_path(get, userdata, 0, size1, size2, ret_path, ret_len);
}

/* ------------------------------------------------------------------------ */
/* Verification */

static bool hash_eq(const uint8_t a[MERKLE_HASH_LEN], const uint8_t b[MERKLE_HASH_LEN])
{
        return memcmp(a, b, MERKLE_HASH_LEN) == 0;
}

/*
 * RFC 9162 2.1.3.2 step 4 (and the MTC draft's subtree inclusion
 * evaluation, the same loop over a subtree's own indices): fn, sn are the
 * entry's and the last entry's index, relative to the (sub)tree.
 */
static int inclusion_evaluate(const uint8_t leaf_hash[MERKLE_HASH_LEN], uint64_t fn, uint64_t sn,
                              const uint8_t (*path)[MERKLE_HASH_LEN], size_t len, uint8_t r[MERKLE_HASH_LEN])
{
        int k;

        if (len > MERKLE_PROOF_MAX)
                return MERKLE_E_PROOF_LENGTH;
        if (len > 0 && !path)
                return -EINVAL;

        memcpy(r, leaf_hash, MERKLE_HASH_LEN);
        for (size_t i = 0; i < len; i++) {
                if (sn == 0)
                        return MERKLE_E_PROOF_LENGTH; /* more hashes than levels */
                if ((fn & 1) || fn == sn) {
                        k = merkle_node_hash(path[i], r, r);
                        if (k < 0)
                                return k;
                        while (!(fn & 1) && fn != 0) {
                                fn >>= 1;
                                sn >>= 1;
                        }
                } else {
                        k = merkle_node_hash(r, path[i], r);
                        if (k < 0)
                                return k;
                }
                fn >>= 1;
                sn >>= 1;
        }
        if (sn != 0)
                return MERKLE_E_PROOF_LENGTH; /* fewer hashes than levels */
        return 0;
}

int merkle_verify_subtree_inclusion(const uint8_t leaf_hash[MERKLE_HASH_LEN], uint64_t index, uint64_t start,
                                    uint64_t end, const uint8_t (*path)[MERKLE_HASH_LEN], size_t len,
                                    const uint8_t subtree_hash[MERKLE_HASH_LEN])
{
        uint8_t r[MERKLE_HASH_LEN];
        int k;

        if (!merkle_subtree_valid(start, end))
                return MERKLE_E_SUBTREE;
        if (index < start || index >= end)
                return MERKLE_E_INDEX;
        k = inclusion_evaluate(leaf_hash, index - start, end - start - 1, path, len, r);
        if (k != 0)
                return k;
        return hash_eq(r, subtree_hash) ? 0 : MERKLE_E_ROOT_MISMATCH;
}

/* The whole tree is the subtree [0, size): always a valid one. */
int merkle_verify_inclusion(const uint8_t leaf_hash[MERKLE_HASH_LEN], uint64_t index, uint64_t size,
                            const uint8_t (*path)[MERKLE_HASH_LEN], size_t len, const uint8_t root[MERKLE_HASH_LEN])
{
        return merkle_verify_subtree_inclusion(leaf_hash, index, 0, size, path, len, root);
}

int merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[MERKLE_HASH_LEN],
                              const uint8_t root2[MERKLE_HASH_LEN], const uint8_t (*path)[MERKLE_HASH_LEN], size_t len)
{
        uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
        uint64_t fn, sn;
        size_t i = 0;
        int k;

        if (size1 > size2)
                return MERKLE_E_SIZE;
        if (len > MERKLE_PROOF_MAX)
                return MERKLE_E_PROOF_LENGTH;
        if (len > 0 && !path)
                return -EINVAL;

        if (size1 == size2) {
                /* nothing to prove: the trees are the same */
                if (len != 0)
                        return MERKLE_E_PROOF_LENGTH;
                if (size1 == 0 && !hash_eq(root1, empty_root))
                        return MERKLE_E_OLD_ROOT_MISMATCH;
                return hash_eq(root1, root2) ? 0 : MERKLE_E_ROOT_MISMATCH;
        }
        if (size1 == 0)
                return MERKLE_E_SIZE; /* RFC 9162 defines proofs for 0 < first < second only */

        /* 1. an empty path fails */
        if (len == 0)
                return MERKLE_E_PROOF_LENGTH;

        /* 2. if first is a power of two, first_hash is (implicitly) prepended to the path */
        if (is_pow2(size1))
                memcpy(fr, root1, MERKLE_HASH_LEN);
        else
                memcpy(fr, path[i++], MERKLE_HASH_LEN);
        /* 5. (below) sr starts equal to fr */
        memcpy(sr, fr, MERKLE_HASH_LEN);

        /* 3. */
        fn = size1 - 1;
        sn = size2 - 1;
        /* 4. */
        while (fn & 1) {
                fn >>= 1;
                sn >>= 1;
        }

        /* 6. */
        for (; i < len; i++) {
                if (sn == 0)
                        return MERKLE_E_PROOF_LENGTH;
                if ((fn & 1) || fn == sn) {
                        k = merkle_node_hash(path[i], fr, fr);
                        if (k >= 0)
                                k = merkle_node_hash(path[i], sr, sr);
                        if (k < 0)
                                return k;
                        while (!(fn & 1) && fn != 0) {
                                fn >>= 1;
                                sn >>= 1;
                        }
                } else {
                        k = merkle_node_hash(sr, path[i], sr);
                        if (k < 0)
                                return k;
                }
                fn >>= 1;
                sn >>= 1;
        }

        /* 7. */
        if (sn != 0)
                return MERKLE_E_PROOF_LENGTH;
        if (!hash_eq(fr, root1))
                return MERKLE_E_OLD_ROOT_MISMATCH;
        if (!hash_eq(sr, root2))
                return MERKLE_E_ROOT_MISMATCH;
        return 0;
}

static void shift3(uint64_t *fn, uint64_t *sn, uint64_t *tn)
{
        *fn >>= 1;
        *sn >>= 1;
        *tn >>= 1;
}

int merkle_verify_subtree_consistency(uint64_t start, uint64_t end, uint64_t size,
                                      const uint8_t subtree_hash[MERKLE_HASH_LEN], const uint8_t root[MERKLE_HASH_LEN],
                                      const uint8_t (*path)[MERKLE_HASH_LEN], size_t len)
{
        uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
        uint64_t fn, sn, tn;
        size_t i = 0;
        int k;

        /* 1. */
        if (!merkle_subtree_valid(start, end) || end > size)
                return MERKLE_E_SUBTREE;
        if (len > MERKLE_PROOF_MAX)
                return MERKLE_E_PROOF_LENGTH;
        if (len > 0 && !path)
                return -EINVAL;

        /* 2. the empty subtree: nothing to prove, whatever the root */
        if (start == end) {
                if (len != 0)
                        return MERKLE_E_PROOF_LENGTH;
                return hash_eq(subtree_hash, empty_root) ? 0 : MERKLE_E_OLD_ROOT_MISMATCH;
        }

        /* 3.-5. */
        fn = start;
        sn = end - 1;
        tn = size - 1;
        if (sn == tn) {
                while (fn != sn)
                        shift3(&fn, &sn, &tn);
        } else {
                while (fn != sn && (sn & 1))
                        shift3(&fn, &sn, &tn);
        }

        /* 6.-7. */
        if (fn == sn)
                memcpy(fr, subtree_hash, MERKLE_HASH_LEN);
        else {
                if (len == 0)
                        return MERKLE_E_PROOF_LENGTH;
                memcpy(fr, path[i++], MERKLE_HASH_LEN);
        }
        memcpy(sr, fr, MERKLE_HASH_LEN);

        /* 8. */
        for (; i < len; i++) {
                if (tn == 0)
                        return MERKLE_E_PROOF_LENGTH;
                if ((sn & 1) || sn == tn) {
                        if (fn < sn) {
                                k = merkle_node_hash(path[i], fr, fr);
                                if (k < 0)
                                        return k;
                        }
                        k = merkle_node_hash(path[i], sr, sr);
                        if (k < 0)
                                return k;
                        /* sn > 0 here (sn == tn == 0 was refused above) */
                        while (!(sn & 1) && sn != 0)
                                shift3(&fn, &sn, &tn);
                } else {
                        k = merkle_node_hash(sr, path[i], sr);
                        if (k < 0)
                                return k;
                }
                shift3(&fn, &sn, &tn);
        }

        /* 9. */
        if (tn != 0)
                return MERKLE_E_PROOF_LENGTH;
        if (!hash_eq(fr, subtree_hash))
                return MERKLE_E_OLD_ROOT_MISMATCH;
        if (!hash_eq(sr, root))
                return MERKLE_E_ROOT_MISMATCH;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* The in-memory store */

typedef struct MemLevel {
        uint8_t (*hashes)[MERKLE_HASH_LEN];
        uint64_t n;
        uint64_t allocated;
} MemLevel;

struct MerkleMemStore {
        MerkleAppender appender;
        MemLevel levels[MERKLE_MAX_LEVELS];
};

int merkle_mem_store_new(MerkleMemStore **ret)
{
        MerkleMemStore *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        merkle_appender_init(&s->appender);
        *ret = s;
        return 0;
}

MerkleMemStore *merkle_mem_store_free(MerkleMemStore *s)
{
        if (!s)
                return NULL;
        for (unsigned i = 0; i < MERKLE_MAX_LEVELS; i++)
                free(s->levels[i].hashes);
        free(s);
        return NULL;
}

int merkle_mem_store_put(MerkleMemStore *s, unsigned level, uint64_t index, const uint8_t hash[MERKLE_HASH_LEN])
{
        MemLevel *l;

        if (level >= MERKLE_MAX_LEVELS)
                return -EINVAL;
        l = &s->levels[level];
        if (index > l->n)
                return -EINVAL;
        if (index == l->n) {
                if (l->n == l->allocated) {
                        uint64_t a = l->allocated ? l->allocated * 2 : 64;
                        void *p;

                        if (a > SIZE_MAX / MERKLE_HASH_LEN)
                                return -ENOMEM;
                        p = realloc(l->hashes, a * MERKLE_HASH_LEN);
                        if (!p)
                                return -ENOMEM;
                        l->hashes = p;
                        l->allocated = a;
                }
                l->n++;
        }
        memcpy(l->hashes[index], hash, MERKLE_HASH_LEN);
        return 0;
}

int merkle_mem_store_get(void *userdata, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
        const MerkleMemStore *s = userdata;

        if (level >= MERKLE_MAX_LEVELS || index >= s->levels[level].n)
                return -ENOENT;
        memcpy(out, s->levels[level].hashes[index], MERKLE_HASH_LEN);
        return 0;
}

int merkle_mem_store_append(MerkleMemStore *s, const uint8_t leaf_hash[MERKLE_HASH_LEN])
{
        MerkleAppender next = s->appender;
        MerkleNode nodes[MERKLE_MAX_LEVELS];
        size_t n;
        int r;

        r = merkle_appender_append(&next, leaf_hash, nodes, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = merkle_mem_store_put(s, nodes[i].level, nodes[i].index, nodes[i].hash);
                if (r < 0)
                        return r; /* the appender is unchanged; a retry overwrites what was put */
        }
        s->appender = next;
        return 0;
}

uint64_t merkle_mem_store_size(const MerkleMemStore *s)
{
        return s->appender.size;
}
