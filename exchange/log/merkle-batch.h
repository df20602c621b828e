/* merkle-batch.h: inclusion paths for a batch of leaves appended to a tree known only by its frontier
 *
 * The log writer signs one tree head per group commit (issue 14, lever 3)
 * and gives each entry of the batch its inclusion path (RFC 9162 2.1.3.1)
 * in the tree of that head's size. It must do so without reading LMDB: all
 * it holds is the frontier of the tree before the batch (a MerkleAppender)
 * and the batch's own leaf hashes. That is enough. In the tree of N leaves,
 * a path for a leaf at or after the batch's start s only needs
 *
 *   - complete nodes wholly before s: each is a left sibling whose right
 *     neighbour reaches past s, hence a node of the frontier at s, and
 *   - complete nodes that end after s: those the batch's leaves complete
 *     (what merkle_appender_append() emits for them), kept here by level.
 *
 * So a MerkleBatch serves merkle.c's proof code as a MerkleGetFn over those
 * two sets; a node outside them is -ENOENT (never happens for a leaf of the
 * batch: test-merkle-batch.c checks every start and size up to a few
 * hundred against a full store).
 *
 * Errors: 0, a negative errno, or a positive MERKLE_E_* (merkle.h).
 * Caveats: a MerkleBatch is immutable once made; it may be read from any
 * number of threads.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "log/merkle.h"
#include "util/macro.h"

typedef struct MerkleBatch MerkleBatch;

/*
 * merkle_batch_new(): the batch of `n` leaves (leaf hashes, in order)
 * appended to the tree whose frontier is `before` (copied; n may be 0).
 * Return: 0, -EOVERFLOW (the tree would pass 2^64 - 1 leaves), -ENOMEM.
 */
int merkle_batch_new(MerkleBatch **ret, const MerkleAppender *before, const uint8_t (*leaves)[MERKLE_HASH_LEN],
                     size_t n);
/* merkle_batch_free(): NULL in, NULL out. */
MerkleBatch *merkle_batch_free(MerkleBatch *b);

/* merkle_batch_start(), merkle_batch_size(): the first leaf of the batch (the size before it), the size after it. */
uint64_t merkle_batch_start(const MerkleBatch *b);
uint64_t merkle_batch_size(const MerkleBatch *b);

/* merkle_batch_appender(): the frontier after the batch; owned by `b`, valid as long as it is. */
const MerkleAppender *merkle_batch_appender(const MerkleBatch *b);

/* merkle_batch_root(): MTH(D[0:merkle_batch_size(b)]). Return: 0 or -ENOMEM. */
int merkle_batch_root(const MerkleBatch *b, uint8_t ret_root[MERKLE_HASH_LEN]);

/*
 * merkle_batch_path(): PATH(index, D[0:merkle_batch_size(b)]), lowest
 * sibling first, into ret_path (room for MERKLE_PROOF_MAX hashes; written
 * only on success), for a leaf of the batch.
 * Return: 0, MERKLE_E_INDEX (index not in [start, size)), or a negative errno.
 */
int merkle_batch_path(const MerkleBatch *b, uint64_t index, uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len);

/* merkle_batch_get(): the MerkleGetFn behind merkle_batch_path(); userdata is the MerkleBatch. Return: 0 or -ENOENT. */
int merkle_batch_get(void *userdata, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN]);

DEFINE_TRIVIAL_CLEANUP_FUNC(MerkleBatch *, merkle_batch_free);
