/* pseudonym.c: keyed HMAC-SHA256 pseudonyms with the key prepared once */
#include <errno.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/openssl-util.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "crypto/pseudonym.h"
#include "util/macro.h"

#define PSEUDONYM_FILE_KEY_LEN 32
/* Keys given in memory (tests, RFC 4231 vectors) may be of any length up to this. */
#define PSEUDONYM_KEY_MAX 1024
/* A key file is 64 hex digits and a newline; anything much longer is not a key. */
#define PSEUDONYM_FILE_MAX 128

struct PseudonymKey {
        /*
         * An HMAC context with the key already absorbed (the inner and
         * outer pads hashed). It is never used directly, only duplicated
         * per call, so it stays read-only and may be shared by threads.
         */
        EVP_MAC_CTX *template;
};

PseudonymKey *pseudonym_key_free(PseudonymKey *k)
{
        if (!k)
                return NULL;
        EVP_MAC_CTX_free(k->template);
        free(k);
        return NULL;
}

int pseudonym_key_new(PseudonymKey **ret, const void *key, size_t size)
{
        _cleanup_(pseudonym_key_freep) PseudonymKey *k = NULL;
        _cleanup_(EVP_MAC_freep) EVP_MAC *mac = NULL;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA2-256", 0),
                OSSL_PARAM_construct_end(),
        };

        if (!key || size == 0 || size > PSEUDONYM_KEY_MAX)
                return -EINVAL;

        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;

        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!mac)
                goto fail;
        k->template = EVP_MAC_CTX_new(mac);
        if (!k->template)
                goto fail;
        if (!EVP_MAC_init(k->template, key, size, params))
                goto fail;

        *ret = TAKE_PTR(k);
        return 0;

fail:
        /* Nothing but allocation can fail for HMAC-SHA256 with a valid key. */
        ERR_clear_error();
        return -ENOMEM;
}

int pseudonym_key_load(PseudonymKey **ret, const char *path)
{
        uint8_t buf[PSEUDONYM_FILE_MAX + 1];
        uint8_t key[PSEUDONYM_FILE_KEY_LEN];
        size_t n = 0;
        int r;

        r = keyfile_read(path, true, buf, PSEUDONYM_FILE_MAX, &n);
        if (r < 0)
                goto out;

        if (n == PSEUDONYM_FILE_KEY_LEN) {
                /* raw key bytes (32 bytes can never be a valid hex file) */
                memcpy(key, buf, sizeof(key));
        } else if (n == 2 * PSEUDONYM_FILE_KEY_LEN || (n == 2 * PSEUDONYM_FILE_KEY_LEN + 1 && buf[n - 1] == '\n')) {
                r = hex_decode((const char *)buf, key, sizeof(key));
                if (r < 0)
                        goto out;
        } else {
                r = -EINVAL;
                goto out;
        }

        r = pseudonym_key_new(ret, key, sizeof(key));
out:
        OPENSSL_cleanse(buf, sizeof(buf));
        OPENSSL_cleanse(key, sizeof(key));
        return r;
}

int pseudonym_compute(const PseudonymKey *k, const char *id, size_t size, char *out)
{
        _cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *ctx = NULL;
        uint8_t mac[HASH_SHA256_LEN];
        size_t len = 0;

        /* A copy of the keyed state: two small allocations, no key schedule. */
        ctx = EVP_MAC_CTX_dup(k->template);
        if (!ctx)
                goto fail;
        if (!EVP_MAC_update(ctx, (const unsigned char *)id, size))
                goto fail;
        if (!EVP_MAC_final(ctx, mac, &len, sizeof(mac)) || len != sizeof(mac))
                goto fail;

        hex_encode(mac, sizeof(mac), out);
        return 0;

fail:
        ERR_clear_error();
        return -ENOMEM;
}
