/* merkle-batch.c: inclusion paths for a batch of leaves from the frontier before it and the batch's own nodes */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/merkle-batch.h"

struct MerkleBatch {
        MerkleAppender before, after;
        /*
         * The complete nodes that end after `before.size`: at level L they
         * are the indexes [before.size >> L, after.size >> L), stored from
         * nodes[offset[L]] on.
         */
        size_t offset[MERKLE_MAX_LEVELS];
        uint8_t (*nodes)[MERKLE_HASH_LEN];
};

uint64_t merkle_batch_start(const MerkleBatch *b)
{
        return b->before.size;
}

uint64_t merkle_batch_size(const MerkleBatch *b)
{
        return b->after.size;
}

const MerkleAppender *merkle_batch_appender(const MerkleBatch *b)
{
        return &b->after;
}

int merkle_batch_root(const MerkleBatch *b, uint8_t ret_root[MERKLE_HASH_LEN])
{
        return merkle_appender_root(&b->after, ret_root);
}

MerkleBatch *merkle_batch_free(MerkleBatch *b)
{
        if (b) {
                free(b->nodes);
                free(b);
        }
        return NULL;
}

int merkle_batch_get(void *userdata, unsigned level, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
        const MerkleBatch *b = userdata;
        uint64_t s = b->before.size, first;

        if (level >= MERKLE_MAX_LEVELS || index >= (b->after.size >> level))
                return -ENOENT;
        first = s >> level;
        if (index < first) {
                /* wholly before the batch: only the frontier's node at this level is known */
                if (!(s & (UINT64_C(1) << level)) || index != first - 1)
                        return -ENOENT;
                memcpy(out, b->before.frontier[level], MERKLE_HASH_LEN);
                return 0;
        }
        memcpy(out, b->nodes[b->offset[level] + (index - first)], MERKLE_HASH_LEN);
        return 0;
}

int merkle_batch_new(MerkleBatch **ret, const MerkleAppender *before, const uint8_t (*leaves)[MERKLE_HASH_LEN],
                     size_t n)
{
        _cleanup_(merkle_batch_freep) MerkleBatch *b = NULL;
        size_t total = 0;
        int r;

        if (n > UINT64_MAX - before->size)
                return -EOVERFLOW;
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->before = *before;
        b->after = *before;
        for (unsigned l = 0; l < MERKLE_MAX_LEVELS; l++) {
                b->offset[l] = total;
                total += (size_t)(((before->size + n) >> l) - (before->size >> l));
        }
        b->nodes = calloc(total ? total : 1, MERKLE_HASH_LEN);
        if (!b->nodes)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                MerkleNode made[MERKLE_MAX_LEVELS];
                size_t n_made;

                r = merkle_appender_append(&b->after, leaves[i], made, &n_made);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < n_made; k++) {
                        unsigned l = made[k].level;

                        memcpy(b->nodes[b->offset[l] + (made[k].index - (before->size >> l))], made[k].hash,
                               MERKLE_HASH_LEN);
                }
        }
        *ret = TAKE_PTR(b);
        return 0;
}

int merkle_batch_path(const MerkleBatch *b, uint64_t index, uint8_t (*ret_path)[MERKLE_HASH_LEN], size_t *ret_len)
{
        if (index < b->before.size || index >= b->after.size)
                return MERKLE_E_INDEX;
        return merkle_inclusion_proof(merkle_batch_get, (void *)b, index, b->after.size, ret_path, ret_len);
}
