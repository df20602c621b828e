/* head-cache.c: the tree heads of other nodes' group commits, verified once and remembered */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "federation/head-cache.h"

/* SHA-256(kid || '\n' || jws). Return: 0, -ENOMEM. */
static int slot_key(const JwsVerifier *v, const char *jws, size_t len, uint8_t out[HASH_SHA256_LEN])
{
        const char *kid = jws_verifier_kid(v);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok;

        if (!ctx)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, kid, strlen(kid)) == 1 &&
             EVP_DigestUpdate(ctx, "\n", 1) == 1 && EVP_DigestUpdate(ctx, jws, len) == 1 &&
             EVP_DigestFinal_ex(ctx, out, NULL) == 1;
        EVP_MD_CTX_free(ctx);
        return ok ? 0 : -ENOMEM;
}

int head_cache_verify(HeadCache *c, const JwsVerifier *v, const char *jws, size_t len, BatchHead *ret)
{
        uint8_t key[HASH_SHA256_LEN];
        HeadCacheSlot *s;
        BatchHead h;
        int r;

        if (!c)
                return batch_receipt_head_verify(v, jws, len, ret);
        r = slot_key(v, jws, len, key);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < c->n_slots; i++)
                if (memcmp(c->slots[i].key, key, sizeof(key)) == 0) {
                        c->hits++;
                        *ret = c->slots[i].head;
                        return 0;
                }
        r = batch_receipt_head_verify(v, jws, len, &h);
        if (r != 0)
                return r;
        c->misses++;
        s = &c->slots[c->next];
        c->next = (c->next + 1) % HEAD_CACHE_SLOTS;
        if (c->n_slots < HEAD_CACHE_SLOTS)
                c->n_slots++;
        memcpy(s->key, key, sizeof(key));
        s->head = h;
        *ret = h;
        return 0;
}
