/* signer.c: ES256 compact JWS with a P-256 key loaded once */
#include <errno.h>
#include <stdio.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "crypto/openssl-util.h"
#include "crypto/hash.h"
#include "crypto/jws.h"
#include "crypto/keyfile.h"
#include "crypto/signer.h"
#include "util/macro.h"

#define SIGNER_TYP_MAX 64
#define ES256_COORD_LEN 32
#define ES256_SIG_LEN (2 * ES256_COORD_LEN)
/* base64url of a SHA-256 thumbprint, and of a 32-byte coordinate: 43 chars */
#define SIGNER_KID_LEN JWS_KID_LEN

struct Signer {
        /* Read-only after creation: OpenSSL 3 keys may be used by many threads at once. */
        EVP_PKEY *pkey;
        /* DigestSign initialised once (digest fetched, key context built); each signature
         * works on a copy. Initialising per call costs OpenSSL 3 a provider fetch and a
         * locked lookup, which showed up in profiles of the front door. */
        EVP_MD_CTX *template;
        char x[SIGNER_KID_LEN + 1]; /* base64url of the 32-byte coordinates */
        char y[SIGNER_KID_LEN + 1];
        char kid[SIGNER_KID_LEN + 1];
};

Signer *signer_free(Signer *s)
{
        if (!s)
                return NULL;
        EVP_MD_CTX_free(s->template);
        EVP_PKEY_free(s->pkey);
        free(s);
        return NULL;
}

static int coord_b64(const EVP_PKEY *pkey, const char *param, char out[SIGNER_KID_LEN + 1])
{
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        uint8_t raw[ES256_COORD_LEN];

        if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
                return -EINVAL;
        if (BN_bn2binpad(bn, raw, sizeof(raw)) != sizeof(raw))
                return -EINVAL;
        b64url_encode(raw, sizeof(raw), out);
        return 0;
}

int signer_new(Signer **ret, EVP_PKEY *pkey)
{
        _cleanup_(signer_freep) Signer *s = NULL;
        char group[64];
        BIGNUM *priv = NULL;
        int r;

        if (!pkey || !EVP_PKEY_is_a(pkey, "EC"))
                return -EINVAL;
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) ||
            !streq(group, SN_X9_62_prime256v1)) {
                ERR_clear_error();
                return -EINVAL;
        }
        /* a public key alone cannot sign */
        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv)) {
                ERR_clear_error();
                return -EINVAL;
        }
        BN_clear_free(priv);

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (!EVP_PKEY_up_ref(pkey))
                return -ENOMEM;
        s->pkey = pkey;
        s->template = EVP_MD_CTX_new();
        if (!s->template)
                return -ENOMEM;
        if (!EVP_DigestSignInit_ex(s->template, NULL, "SHA2-256", NULL, NULL, s->pkey, NULL)) {
                ERR_clear_error();
                return -EINVAL;
        }

        r = coord_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_X, s->x);
        if (r >= 0)
                r = coord_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, s->y);
        if (r < 0) {
                ERR_clear_error();
                return r;
        }

        jws_p256_thumbprint(s->x, s->y, s->kid);

        *ret = TAKE_PTR(s);
        return 0;
}

int signer_load(Signer **ret, const char *pem_path)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        int r;

        r = keyfile_pem_load(pem_path, true, &pkey);
        if (r < 0)
                return r;
        return signer_new(ret, pkey);
}

const char *signer_kid(const Signer *s)
{
        return s->kid;
}

json_t *signer_public_jwk(const Signer *s)
{
        /* A fresh object each time: callers may change theirs, threads share nothing. */
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", s->x, "y", s->y,
                         "kid", s->kid, "alg", "ES256", "use", "sig");
}

/* typ goes into the header unescaped: allow the characters media types use. */
static bool typ_is_valid(const char *typ)
{
        size_t n = strlen(typ);

        if (n == 0 || n > SIGNER_TYP_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = typ[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("+-._/", c)))
                        return false;
        }
        return true;
}

/* DER ECDSA-Sig-Value -> JWS r||s, each left-padded to 32 bytes (RFC 7518 section 3.4). */
static int der_to_raw(const uint8_t *der, size_t der_len, uint8_t raw[ES256_SIG_LEN])
{
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = NULL;
        const unsigned char *p = der;
        const BIGNUM *r, *s;

        sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
        if (!sig || p != der + der_len)
                return -EIO;
        ECDSA_SIG_get0(sig, &r, &s);
        if (BN_bn2binpad(r, raw, ES256_COORD_LEN) != ES256_COORD_LEN ||
            BN_bn2binpad(s, raw + ES256_COORD_LEN, ES256_COORD_LEN) != ES256_COORD_LEN)
                return -EIO;
        return 0;
}

int signer_sign_compact(const Signer *s, const char *typ, const void *payload, size_t size, char **ret)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_free_ char *out = NULL;
        char header[128 + SIGNER_TYP_MAX];
        uint8_t der[80]; /* an ECDSA P-256 DER signature is at most 72 bytes */
        uint8_t raw[ES256_SIG_LEN];
        size_t header_len, signing_len, total, der_len = sizeof(der), n;
        int r;

        if (!typ_is_valid(typ))
                return -EINVAL;
        if (size > SIZE_MAX / 4 - KIB(1))
                return -ENOMEM;

        header_len = (size_t)snprintf(header, sizeof(header), "{\"alg\":\"ES256\",\"typ\":\"%s\",\"kid\":\"%s\"}", typ,
                                      s->kid);

        /* header.payload.signature, then a NUL */
        signing_len = b64url_encoded_len(header_len) + 1 + b64url_encoded_len(size);
        total = signing_len + 1 + b64url_encoded_len(ES256_SIG_LEN) + 1;
        out = malloc(total);
        if (!out)
                return -ENOMEM;

        n = b64url_encode(header, header_len, out);
        out[n++] = '.';
        n += b64url_encode(payload, size, out + n);

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (!EVP_MD_CTX_copy_ex(ctx, s->template) ||
            !EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)out, n)) {
                ERR_clear_error();
                return -EIO;
        }
        r = der_to_raw(der, der_len, raw);
        if (r < 0)
                return r;

        out[n++] = '.';
        b64url_encode(raw, sizeof(raw), out + n);

        *ret = TAKE_PTR(out);
        return 0;
}
