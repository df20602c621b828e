/* merkle.h: RFC 9162 Merkle tree hashing, proofs and their verification
 *
 * The exchange log is the list of entries D[0:n]; its tree is the Merkle
 * Tree Hash of RFC 9162 section 2.1.1 (SHA-256):
 *
 *   leaf   MTH({d})  = SHA-256(0x00 || d)
 *   node   MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the
 *                      largest power of two smaller than n
 *   empty  MTH({})   = SHA-256("")
 *
 * Storage model. A store keeps the hash of every COMPLETE aligned subtree,
 * keyed by (level, index): the node at level L and index i covers the leaves
 * [i * 2^L, (i + 1) * 2^L), level 0 holds the leaf hashes. A node exists in
 * a tree of size n when (i + 1) * 2^L <= n, and never changes once it
 * exists, so the store is append-only: leaf n adds the node (0, n) and one
 * node per level its index carries into (2n - popcount(n) nodes in all).
 * Incomplete subtrees (on the right edge of a tree whose size is not a power
 * of two) are never stored: they are folded from the complete nodes when
 * needed, at most 64 of them.
 *
 * Writing: a MerkleAppender holds the "right frontier" (one complete node
 * per set bit of the size) and tells its caller which nodes to store for
 * each appended leaf: one leaf hash plus, amortised, one node hash per leaf.
 *
 * Reading: proofs and roots are computed through a MerkleGetFn that reads a
 * stored node; any subtree hash costs at most 64 reads, a proof at most 65
 * subtree hashes.
 *
 * Verification is pure (no store): RFC 9162 sections 2.1.3.2 and 2.1.4.2,
 * and the subtree proofs of the Merkle Tree Certificates draft
 * (draft-ietf-plants-merkle-tree-certs, "Subtrees"), which some auditors use
 * to check a shard's range against a checkpoint.
 *
 * Errors: 0 is success; a negative errno is a failure of the machinery
 * (out of memory, or whatever a MerkleGetFn returned, passed up unchanged);
 * a positive MERKLE_E_* says what is wrong with the arguments or the proof.
 *
 * Caveats: every function here is reentrant; a MerkleAppender is a plain
 * value (copy it to keep a state to roll back to, e.g. when the LMDB
 * transaction that stores its nodes aborts) and is not locked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
/* Levels 0..63: a tree holds at most 2^64 - 1 leaves. */
#define MERKLE_MAX_LEVELS 64
/*
 * The longest proof of any kind: an inclusion proof has at most 64 hashes,
 * a consistency proof at most 65. Proof buffers hold this many hashes, and
 * longer proofs are refused by the verifiers before any hashing.
 */
#define MERKLE_PROOF_MAX 65

enum {
        MERKLE_E_INDEX = 1,         /* leaf index outside the tree (index >= size, or outside [start, end)) */
        MERKLE_E_SIZE,              /* tree sizes: size1 > size2, or a consistency proof from the empty tree */
        MERKLE_E_SUBTREE,           /* [start, end) is not a valid subtree, or end > size */
        MERKLE_E_PROOF_LENGTH,      /* the proof has too many or too few hashes */
        MERKLE_E_ROOT_MISMATCH,     /* the root computed from the proof is not the given root (of the larger tree) */
        MERKLE_E_OLD_ROOT_MISMATCH, /* consistency: the first root (or subtree hash) computed is not the given one */
        _MERKLE_E_MAX,
};

/* merkle_strerror(): a static description of a MERKLE_E_* code (or "unknown"). */
const char *merkle_strerror(int code);

/* merkle_leaf_hash(): SHA-256(0x00 || data). Return: 0 or -ENOMEM. */
int merkle_leaf_hash(const void *data, size_t size, uint8_t out[MERKLE_HASH_LEN]);
/* merkle_node_hash(): SHA-256(0x01 || left || right); `out` may alias either input. Return: 0 or -ENOMEM. */
int merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN],
                     uint8_t out[MERKLE_HASH_LEN]);
/* merkle_empty_root(): MTH({}) = SHA-256(""), the root of the tree of size 0. */
void merkle_empty_root(uint8_t out[MERKLE_HASH_LEN]);

/*
 * merkle_subtree_valid(): whether [start, end) is a subtree in the sense of
 * the MTC draft: start <= end and start a multiple of BIT_CEIL(end - start).
 * Every [0, n) is one; every complete aligned node is one.
 */
bool merkle_subtree_valid(uint64_t start, uint64_t end);

/* ------------------------------------------------------------------------ */
/* Writing: the appender */

/* One complete node to store: the hash of leaves [index << level, (index + 1) << level). */
typedef struct MerkleNode {
        unsigned level;
        uint64_t index;
        uint8_t hash[MERKLE_HASH_LEN];
} MerkleNode;

typedef struct MerkleAppender {
        uint64_t size; /* leaves appended so far */
        /* frontier[L] is meaningful when bit L of size is set: node (L, (size >> L) - 1) */
        uint8_t frontier[MERKLE_MAX_LEVELS][MERKLE_HASH_LEN];
} MerkleAppender;

/* merkle_appender_init(): the empty tree. */
void merkle_appender_init(MerkleAppender *a);

/*
 * merkle_appender_append(): append leaf number a->size, given its leaf hash
 * (merkle_leaf_hash() of the entry). Writes the new complete nodes into
 * ret_nodes (room for MERKLE_MAX_LEVELS), lowest level first: always the
 * leaf (0, size), then one node per carry. The caller stores them (in the
 * same transaction as the entry). On failure `a` is unchanged.
 * Return: 0, -EOVERFLOW (the tree is full), -ENOMEM.
 */
int merkle_appender_append(MerkleAppender *a, const uint8_t leaf_hash[MERKLE_HASH_LEN],
                           MerkleNode ret_nodes[MERKLE_MAX_LEVELS], size_t *ret_n_nodes);

/* merkle_appender_root(): the root of the tree of a->size leaves, from the frontier (no store). Return: 0 or -ENOMEM. */
int merkle_appender_root(const MerkleAppender *a, uint8_t ret_root[MERKLE_HASH_LEN]);

/* ------------------------------------------------------------------------ */
/* Reading: proofs from a store */

/*
 * MerkleGetFn: read the stored complete node (level, index) into `out`.
 * Return: 0, or a negative errno (-ENOENT if the node is not stored: a
 * caller asked about a larger tree than the store holds, or the store is
 * damaged), which the functions below pass up unchanged.
 */
typedef int (*MerkleGetFn)(void *userdata, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN]);

/*
 * merkle_appender_init_from_store(): rebuild the frontier of a tree of `size`
 * leaves from its stored nodes (popcount(size) reads), e.g. when the log is
 * opened. On failure `a` is unchanged.
 * Return: 0 or what `get` returned.
 */
int merkle_appender_init_from_store(MerkleAppender *a, MerkleGetFn get, void *userdata, uint64_t size);

/*
 * merkle_root(): MTH(D[0:size]); size 0 gives merkle_empty_root().
 * merkle_subtree_hash(): MTH(D[start:end]) of a valid subtree (at most 64 reads).
 * Return: 0, MERKLE_E_SUBTREE, or a negative errno.
 */
int merkle_root(MerkleGetFn get, void *userdata, uint64_t size, uint8_t ret_root[MERKLE_HASH_LEN]);
int merkle_subtree_hash(MerkleGetFn get, void *userdata, uint64_t start, uint64_t end,
                        uint8_t ret_hash[MERKLE_HASH_LEN]);

/*
 * merkle_inclusion_proof(): PATH(index, D[0:size]) of RFC 9162 2.1.3.1, the
 * lowest sibling first, into ret_path (room for MERKLE_PROOF_MAX hashes;
 * written only on success), its length into *ret_len.
 * Return: 0, MERKLE_E_INDEX (index >= size), or a negative errno.
 */
int merkle_inclusion_proof(MerkleGetFn get, void *userdata, uint64_t index, uint64_t size,
                           uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len);

/*
 * merkle_consistency_proof(): PROOF(size1, D[0:size2]) of RFC 9162 2.1.4.1
 * (empty when size1 == size2).
 * Return: 0, MERKLE_E_SIZE (size1 == 0 or size1 > size2), or a negative errno.
 */
int merkle_consistency_proof(MerkleGetFn get, void *userdata, uint64_t size1, uint64_t size2,
                             uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len);

/*
 * merkle_subtree_inclusion_proof(): inclusion proof of entry `index` in the
 * subtree [start, end) (MTC draft "Subtree Inclusion Proofs").
 * merkle_subtree_consistency_proof(): SUBTREE_PROOF(start, end, D[0:size])
 * (MTC draft "Subtree Consistency Proofs"); with start == 0 it is the
 * RFC 9162 consistency proof.
 * Return: 0, MERKLE_E_SUBTREE, MERKLE_E_INDEX, or a negative errno.
 */
int merkle_subtree_inclusion_proof(MerkleGetFn get, void *userdata, uint64_t index, uint64_t start, uint64_t end,
                                   uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len);
int merkle_subtree_consistency_proof(MerkleGetFn get, void *userdata, uint64_t start, uint64_t end, uint64_t size,
                                     uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len);

/* ------------------------------------------------------------------------ */
/* Verification (pure: any input, however hostile, is only read in bounds) */

/*
 * merkle_verify_inclusion(): RFC 9162 2.1.3.2. `path` holds `len` hashes
 * (may be NULL when len is 0).
 * Return: 0 (leaf_hash is entry `index` of the tree of `size` leaves whose
 * root is `root`), MERKLE_E_INDEX, MERKLE_E_PROOF_LENGTH,
 * MERKLE_E_ROOT_MISMATCH, or -ENOMEM.
 */
int merkle_verify_inclusion(const uint8_t leaf_hash[MERKLE_HASH_LEN], uint64_t index, uint64_t size,
                            const uint8_t (*path)[MERKLE_HASH_LEN], size_t len, const uint8_t root[MERKLE_HASH_LEN]);

/*
 * merkle_verify_consistency(): RFC 9162 2.1.4.2: the tree of size2 with
 * root2 extends the tree of size1 with root1. As in RFC 9162 a proof from
 * the empty tree is refused (MERKLE_E_SIZE); equal sizes need an empty
 * proof and equal roots (and for size 0, the empty-tree root).
 * Return: 0, MERKLE_E_SIZE, MERKLE_E_PROOF_LENGTH, MERKLE_E_OLD_ROOT_MISMATCH,
 * MERKLE_E_ROOT_MISMATCH, or -ENOMEM.
 */
int merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[MERKLE_HASH_LEN],
                              const uint8_t root2[MERKLE_HASH_LEN], const uint8_t (*path)[MERKLE_HASH_LEN], size_t len);

/*
 * merkle_verify_subtree_inclusion(): MTC draft "Verifying a Subtree
 * Inclusion Proof": entry `index` with hash leaf_hash is in the subtree
 * [start, end) whose hash is subtree_hash.
 * Return: 0, MERKLE_E_SUBTREE, MERKLE_E_INDEX, MERKLE_E_PROOF_LENGTH,
 * MERKLE_E_ROOT_MISMATCH, or -ENOMEM.
 */
int merkle_verify_subtree_inclusion(const uint8_t leaf_hash[MERKLE_HASH_LEN], uint64_t index, uint64_t start,
                                    uint64_t end, const uint8_t (*path)[MERKLE_HASH_LEN], size_t len,
                                    const uint8_t subtree_hash[MERKLE_HASH_LEN]);

/*
 * merkle_verify_subtree_consistency(): MTC draft "Verifying a Subtree
 * Consistency Proof": the subtree [start, end) with hash subtree_hash is
 * part of the tree of `size` leaves with root `root`.
 * Return: 0, MERKLE_E_SUBTREE, MERKLE_E_PROOF_LENGTH,
 * MERKLE_E_OLD_ROOT_MISMATCH (subtree hash), MERKLE_E_ROOT_MISMATCH, or -ENOMEM.
 */
int merkle_verify_subtree_consistency(uint64_t start, uint64_t end, uint64_t size,
                                      const uint8_t subtree_hash[MERKLE_HASH_LEN], const uint8_t root[MERKLE_HASH_LEN],
                                      const uint8_t (*path)[MERKLE_HASH_LEN], size_t len);

/* ------------------------------------------------------------------------ */
/* An in-memory store (tests, tools): one growing array of hashes per level */

typedef struct MerkleMemStore MerkleMemStore;

/* merkle_mem_store_new(): an empty store with its own appender. Return: 0 or -ENOMEM. */
int merkle_mem_store_new(MerkleMemStore **ret);
MerkleMemStore *merkle_mem_store_free(MerkleMemStore *s);

/*
 * merkle_mem_store_put(): store node (level, index); index may be at most
 * the number of nodes already at that level (append, or overwrite: tests
 * use it to damage a store). Return: 0, -EINVAL (a gap), -ENOMEM.
 */
int merkle_mem_store_put(MerkleMemStore *s, unsigned level, uint64_t index, const uint8_t hash[MERKLE_HASH_LEN]);

/* merkle_mem_store_get(): a MerkleGetFn; userdata is the MerkleMemStore. Return: 0 or -ENOENT. */
int merkle_mem_store_get(void *userdata, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN]);

/* merkle_mem_store_append(): append a leaf hash through the store's appender and store its nodes. */
int merkle_mem_store_append(MerkleMemStore *s, const uint8_t leaf_hash[MERKLE_HASH_LEN]);

/* merkle_mem_store_size(): leaves appended through merkle_mem_store_append(). */
uint64_t merkle_mem_store_size(const MerkleMemStore *s);
