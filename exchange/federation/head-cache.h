/* head-cache.h: the tree heads of other nodes' group commits, verified once and remembered
 *
 * A receipt of the group-commit form (log/batch-receipt.h) carries the
 * signed tree head of its batch, and every exchange of that batch carries
 * the same head. A client node that checks a provider node's receipts
 * verifies each head's ES256 signature once: a HeadCache remembers the last
 * HEAD_CACHE_SLOTS heads it verified, keyed by SHA-256 of the key's id and
 * the head's bytes, so a head is only taken from the cache for the same
 * bytes under the same key (a head of node A is no use for a receipt
 * claimed from node B, and a node's new key after a snapshot does not find
 * the old key's heads). The oldest slot is replaced first.
 *
 * Threads: none inside. A HeadCache is one thread's (the forwarder keeps
 * one per lane); zero-initialised it is empty, and it owns no memory.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "crypto/jws.h"
#include "log/batch-receipt.h"

#define HEAD_CACHE_SLOTS 16U

typedef struct HeadCacheSlot {
        uint8_t key[HASH_SHA256_LEN]; /* SHA-256(kid || '\n' || head JWS) */
        BatchHead head;
} HeadCacheSlot;

typedef struct HeadCache {
        HeadCacheSlot slots[HEAD_CACHE_SLOTS];
        unsigned n_slots, next;
        uint64_t hits, misses; /* heads taken from the cache, heads verified (for tests and figures) */
} HeadCache;

/*
 * head_cache_verify(): the head JWS `jws` (`len` bytes) verified with `v`,
 * as batch_receipt_head_verify() does, into *ret; taken from `c` when these
 * bytes were verified with this key before, remembered in `c` when they
 * verify now. `c` may be NULL (no cache).
 * Return: 0, BATCH_RECEIPT_E_SIGNATURE, BATCH_RECEIPT_E_HEAD, -ENOMEM.
 */
int head_cache_verify(HeadCache *c, const JwsVerifier *v, const char *jws, size_t len, BatchHead *ret);
