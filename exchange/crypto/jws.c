/* jws.c: locked-down ES256 compact JWS verification of consent artefacts */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jose/jose.h>
#include <jose/openssl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/openssl-util.h"
#include "crypto/hash.h"
#include "crypto/jws.h"
#include "util/macro.h"

#define ES256_COORD_LEN 32
#define ES256_ALG "ES256"

struct JwsVerifier {
        /* Read-only after jws_verifier_new(): shared by threads without locks. */
        json_t *jwk;          /* {"kty","crv","x","y","alg":"ES256"}: what libjose gets */
        EVP_PKEY *pkey;       /* the same key imported once, for jws_es256_verify_raw() */
        EVP_MD_CTX *template; /* SHA-256 and pkey set up once, copied by each jws_es256_verify_raw() */
        char kid[JWS_KID_LEN + 1];
};

/* Not jose_cfg_auto_t: jose_cfg_decref() does not take NULL. */
DEFINE_TRIVIAL_CLEANUP_FUNC(jose_cfg_t *, jose_cfg_decref);

/*
 * libjose reports errors through a jose_cfg_t, printing them on stderr by
 * default; library code does not log, and the reason is in our return code.
 * A jose_cfg_t has a plain (non-atomic) reference count, so each call gets
 * its own rather than sharing one between threads.
 */
static void jose_quiet(void *misc, const char *file, int line, uint64_t err, const char *fmt, va_list ap)
{
}

static jose_cfg_t *jose_cfg_quiet(void)
{
        jose_cfg_t *cfg = jose_cfg();

        if (cfg)
                jose_cfg_set_err_func(cfg, jose_quiet, NULL);
        return cfg;
}

/* The order n of P-256 (FIPS 186-4 D.1.2.3), big-endian: r and s must be in [1, n-1]. */
static const uint8_t p256_order[ES256_COORD_LEN] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/*
 * Header parameters that carry or point to a key (RFC 7515 4.1.3-4.1.6).
 * Refused, not ignored: see jws.h.
 */
static const char *const embedded_key_params[] = { "jwk", "jku", "x5c", "x5u" };

/*
 * "crit" extensions this verifier understands and enforces. None: an
 * authority that marks an extension critical expects it enforced, and we
 * enforce nothing beyond RFC 7515, so every "crit" is refused. Add a name
 * here only together with the code that enforces it.
 */
static const char *const crit_understood[] = { NULL };

JwsVerifier *jws_verifier_free(JwsVerifier *v)
{
        if (!v)
                return NULL;
        json_decref(v->jwk);
        EVP_MD_CTX_free(v->template);
        EVP_PKEY_free(v->pkey);
        free(v);
        return NULL;
}

const json_t *jws_verifier_jwk(const JwsVerifier *v)
{
        return v ? v->jwk : NULL;
}

const char *jws_verifier_kid(const JwsVerifier *v)
{
        return v ? v->kid : NULL;
}

void jws_p256_thumbprint(const char *x, const char *y, char ret[JWS_KID_LEN + 1])
{
        char input[2 * JWS_KID_LEN + 64];
        uint8_t thumb[HASH_SHA256_LEN];

        /* RFC 7638: the required members only, in lexicographic order, no white space. */
        snprintf(input, sizeof(input), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
        hash_sha256(input, strlen(input), thumb);
        b64url_encode(thumb, sizeof(thumb), ret);
}

/* A JWK coordinate: a string that strictly decodes to exactly 32 bytes. */
static bool jwk_coord_ok(const json_t *c)
{
        uint8_t buf[ES256_COORD_LEN + 3];
        size_t n;

        if (!json_is_string(c))
                return false;
        n = json_string_length(c);
        /* 32 bytes are 43 base64url chars; checking first keeps buf bounded. */
        if (n != (size_t)b64url_encoded_len(ES256_COORD_LEN))
                return false;
        return b64url_decode(json_string_value(c), n, buf) == ES256_COORD_LEN;
}

static bool jwk_usage_ok(const json_t *jwk)
{
        const json_t *use, *ops, *alg, *op;
        size_t i;
        bool verify = false;

        alg = json_object_get(jwk, "alg");
        if (alg && !(json_is_string(alg) && streq(json_string_value(alg), ES256_ALG)))
                return false;

        use = json_object_get(jwk, "use");
        if (use && !(json_is_string(use) && streq(json_string_value(use), "sig")))
                return false;

        ops = json_object_get(jwk, "key_ops");
        if (ops) {
                if (!json_is_array(ops))
                        return false;
                json_array_foreach(ops, i, op) {
                        if (!json_is_string(op))
                                return false;
                        if (streq(json_string_value(op), "verify"))
                                verify = true;
                }
                if (!verify)
                        return false;
        }
        return true;
}

int jws_verifier_new(JwsVerifier **ret, const json_t *jwk)
{
        _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_(jose_cfg_decrefp) jose_cfg_t *cfg = NULL;
        const json_t *kty, *crv, *x, *y;

        if (!ret || !jwk)
                return -EINVAL;
        if (!json_is_object(jwk))
                return JWS_E_KEY;

        kty = json_object_get(jwk, "kty");
        crv = json_object_get(jwk, "crv");
        x = json_object_get(jwk, "x");
        y = json_object_get(jwk, "y");
        if (!json_is_string(kty) || !streq(json_string_value(kty), "EC"))
                return JWS_E_KEY;
        if (!json_is_string(crv) || !streq(json_string_value(crv), "P-256"))
                return JWS_E_KEY;
        if (!jwk_coord_ok(x) || !jwk_coord_ok(y))
                return JWS_E_KEY;
        if (!jwk_usage_ok(jwk))
                return JWS_E_KEY;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;

        /* Only the public part, with the algorithm pinned: "d" never enters. */
        v->jwk = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", json_string_value(x), "y",
                           json_string_value(y), "alg", ES256_ALG);
        if (!v->jwk)
                return -ENOMEM;
        jws_p256_thumbprint(json_string_value(x), json_string_value(y), v->kid);

        /*
         * libjose's importer sets the affine coordinates through OpenSSL,
         * which refuses a point that is not on the curve; the explicit
         * public check below also refuses the point at infinity and any
         * point outside the prime-order group.
         */
        cfg = jose_cfg_quiet();
        if (!cfg)
                return -ENOMEM;
        v->pkey = jose_openssl_jwk_to_EVP_PKEY(cfg, v->jwk);
        if (!v->pkey) {
                ERR_clear_error();
                return JWS_E_KEY;
        }
        if (EVP_PKEY_get_base_id(v->pkey) != EVP_PKEY_EC || EVP_PKEY_get_bits(v->pkey) != 256)
                return JWS_E_KEY;

        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, v->pkey, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_public_check(ctx) != 1) {
                ERR_clear_error();
                return JWS_E_KEY;
        }
        v->template = EVP_MD_CTX_new();
        if (!v->template || EVP_DigestVerifyInit_ex(v->template, NULL, "SHA256", NULL, NULL, v->pkey, NULL) != 1) {
                ERR_clear_error();
                return -ENOMEM;
        }

        *ret = TAKE_PTR(v);
        return 0;
}

int jws_verifier_from_pkey(JwsVerifier **ret, EVP_PKEY *pkey)
{
        _cleanup_(jose_cfg_decrefp) jose_cfg_t *cfg = NULL;
        json_auto_t *jwk = NULL;

        if (!ret || !pkey)
                return -EINVAL;
        cfg = jose_cfg_quiet();
        if (!cfg)
                return -ENOMEM;
        jwk = jose_openssl_jwk_from_EVP_PKEY(cfg, pkey);
        if (!jwk) {
                ERR_clear_error();
                return JWS_E_KEY;
        }
        json_object_del(jwk, "d"); /* only the public part enters */
        return jws_verifier_new(ret, jwk);
}

/* 1 <= value <= n-1 for a 32-byte big-endian value. */
static bool scalar_in_range(const uint8_t *b)
{
        static const uint8_t zero[ES256_COORD_LEN] = {};

        return memcmp(b, zero, ES256_COORD_LEN) != 0 && memcmp(b, p256_order, ES256_COORD_LEN) < 0;
}

int jws_es256_verify_raw(const JwsVerifier *v, const uint8_t *msg, size_t msg_size, const uint8_t *sig, size_t sig_size)
{
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *esig = NULL;
        _cleanup_(BN_freep) BIGNUM *r = NULL, *s = NULL;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        int der_len, k;

        if (!v || (!msg && msg_size > 0))
                return -EINVAL;
        if (!sig || sig_size != JWS_ES256_SIG_LEN)
                return JWS_E_SIGNATURE;
        /* OpenSSL checks this too; being explicit keeps the rule visible and independent. */
        if (!scalar_in_range(sig) || !scalar_in_range(sig + ES256_COORD_LEN))
                return JWS_E_SIGNATURE;

        esig = ECDSA_SIG_new();
        r = BN_bin2bn(sig, ES256_COORD_LEN, NULL);
        s = BN_bin2bn(sig + ES256_COORD_LEN, ES256_COORD_LEN, NULL);
        if (!esig || !r || !s)
                return -ENOMEM;
        if (ECDSA_SIG_set0(esig, r, s) != 1)
                return -ENOMEM;
        r = s = NULL; /* owned by esig now */

        /* DER here is only the shape OpenSSL's verifier takes; it never comes from outside. */
        der_len = i2d_ECDSA_SIG(esig, &der);
        if (der_len <= 0)
                return -ENOMEM;

        /* a copy of the verifier's template: no algorithm fetch and key set-up per signature */
        md = EVP_MD_CTX_new();
        if (!md)
                return -ENOMEM;
        if (EVP_MD_CTX_copy_ex(md, v->template) != 1) {
                ERR_clear_error();
                return -ENOMEM;
        }
        k = EVP_DigestVerify(md, der, (size_t)der_len, msg ? msg : (const uint8_t *)"", msg_size);
        if (k != 1) {
                ERR_clear_error();
                return JWS_E_SIGNATURE;
        }
        return 0;
}

/* Header rules: everything decided before any cryptography runs. */
static int header_check(const json_t *h)
{
        const json_t *alg, *crit, *b64;

        alg = json_object_get(h, "alg");
        if (!json_is_string(alg) || !streq(json_string_value(alg), ES256_ALG))
                return JWS_E_ALG;

        for (size_t i = 0; i < ELEMENTSOF(embedded_key_params); i++)
                if (json_object_get(h, embedded_key_params[i]))
                        return JWS_E_EMBEDDED_KEY;

        crit = json_object_get(h, "crit");
        if (crit) {
                const json_t *e;
                size_t i;

                /* RFC 7515 4.1.11: a non-empty array of strings; anything else is an error. */
                if (!json_is_array(crit) || json_array_size(crit) == 0)
                        return JWS_E_CRIT;
                json_array_foreach(crit, i, e) {
                        bool known = false;

                        if (!json_is_string(e))
                                return JWS_E_CRIT;
                        for (size_t j = 0; crit_understood[j]; j++)
                                if (streq(json_string_value(e), crit_understood[j]))
                                        known = true;
                        if (!known)
                                return JWS_E_CRIT;
                }
        }

        /* RFC 7797: "b64": false changes what is signed; we only do the RFC 7515 form. */
        b64 = json_object_get(h, "b64");
        if (b64 && !json_is_true(b64))
                return JWS_E_CRIT;

        return 0;
}

/* Strictly decode part [p, p+n) into a new buffer (NUL-terminated, not counted). */
static int part_decode(const char *p, size_t n, uint8_t **ret, size_t *ret_size)
{
        _cleanup_free_ uint8_t *buf = NULL;
        long k;

        buf = malloc(n / 4 * 3 + 3 + 1);
        if (!buf)
                return -ENOMEM;
        k = b64url_decode(p, n, buf);
        if (k < 0)
                return JWS_E_MALFORMED;
        buf[k] = 0;
        *ret_size = (size_t)k;
        *ret = TAKE_PTR(buf);
        return 0;
}

int jws_verify_compact_bytes(const JwsVerifier *v, const char *compact, size_t len, json_t **ret_header,
                             uint8_t **ret_payload, size_t *ret_payload_size)
{
        return jws_verify_compact_limit(v, compact, len, JWS_COMPACT_MAX, ret_header, ret_payload, ret_payload_size);
}

/* The compact path; `twice`: libjose verifies too (both must accept), else the raw check alone. */
static int verify_compact(const JwsVerifier *v, const char *compact, size_t len, size_t max, bool twice,
                          json_t **ret_header, uint8_t **ret_payload, size_t *ret_payload_size)
{
        _cleanup_free_ uint8_t *hdr_raw = NULL, *payload = NULL, *sig = NULL;
        json_auto_t *hdr = NULL, *jose = NULL;
        _cleanup_(jose_cfg_decrefp) jose_cfg_t *cfg = NULL;
        const char *dot1, *dot2, *p_hdr, *p_pay, *p_sig;
        size_t n_hdr, n_pay, n_sig, hdr_size, payload_size, sig_size;
        int r;

        if (!v || (!compact && len > 0))
                return -EINVAL;
        if (len > max)
                return JWS_E_TOO_LARGE;
        if (len == 0)
                return JWS_E_MALFORMED;

        /* Exactly three parts: two dots. The base64url alphabet has no '.'. */
        dot1 = memchr(compact, '.', len);
        if (!dot1)
                return JWS_E_MALFORMED;
        dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - compact));
        if (!dot2)
                return JWS_E_MALFORMED;
        if (memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - compact)))
                return JWS_E_MALFORMED;

        p_hdr = compact;
        n_hdr = (size_t)(dot1 - compact);
        p_pay = dot1 + 1;
        n_pay = (size_t)(dot2 - p_pay);
        p_sig = dot2 + 1;
        n_sig = len - (size_t)(p_sig - compact);

        /* Strict base64url for all three parts (no '=', no white space, canonical bits). */
        r = part_decode(p_hdr, n_hdr, &hdr_raw, &hdr_size);
        if (r != 0)
                return r;
        r = part_decode(p_pay, n_pay, &payload, &payload_size);
        if (r != 0)
                return r;
        r = part_decode(p_sig, n_sig, &sig, &sig_size);
        if (r != 0)
                return r;

        /*
         * The protected header: a JSON object, duplicate names refused (a
         * second "alg" must not be able to mean something else to libjose).
         */
        hdr = json_loadb((const char *)hdr_raw, hdr_size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(hdr))
                return JWS_E_MALFORMED;

        r = header_check(hdr);
        if (r != 0)
                return r;

        if (sig_size != JWS_ES256_SIG_LEN)
                return JWS_E_SIGNATURE;

        /*
         * libjose verifies the flattened JSON form of the same three strings,
         * with our JWK (alg pinned to ES256). It cannot tell us why it said
         * no (an allocation failure looks like a bad signature): both are a
         * refusal here, which fails closed.
         */
        if (twice) {
                jose = json_pack("{s:s%, s:s%, s:s%}", "protected", p_hdr, n_hdr, "payload", p_pay, n_pay, "signature",
                                 p_sig, n_sig);
                if (!jose)
                        return -ENOMEM;
                cfg = jose_cfg_quiet();
                if (!cfg)
                        return -ENOMEM;
                if (!jose_jws_ver(cfg, jose, jose, v->jwk, false)) {
                        ERR_clear_error();
                        return JWS_E_SIGNATURE;
                }
        }

        /* The same signing input (header "." payload) through the raw check: both must accept. */
        r = jws_es256_verify_raw(v, (const uint8_t *)compact, (size_t)(dot2 - compact), sig, sig_size);
        if (r != 0)
                return r;

        if (ret_header)
                *ret_header = TAKE_PTR(hdr);
        if (ret_payload_size)
                *ret_payload_size = payload_size;
        if (ret_payload)
                *ret_payload = TAKE_PTR(payload);
        return 0;
}

int jws_verify_compact_limit(const JwsVerifier *v, const char *compact, size_t len, size_t max, json_t **ret_header,
                             uint8_t **ret_payload, size_t *ret_payload_size)
{
        return verify_compact(v, compact, len, max, true, ret_header, ret_payload, ret_payload_size);
}

/* The JSON payload of a compact JWS verified twice (jws_verify_compact()) or once (jws_verify_compact_once()). */
static int verify_compact_json(const JwsVerifier *v, const char *compact, size_t len, bool twice, json_t **ret_header,
                               json_t **ret_payload)
{
        _cleanup_free_ uint8_t *payload = NULL;
        json_auto_t *hdr = NULL, *obj = NULL;
        size_t payload_size;
        int r;

        r = verify_compact(v, compact, len, JWS_COMPACT_MAX, twice, &hdr, &payload, &payload_size);
        if (r != 0)
                return r;

        obj = json_loadb((const char *)payload, payload_size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(obj))
                return JWS_E_PAYLOAD;

        if (ret_header)
                *ret_header = TAKE_PTR(hdr);
        if (ret_payload)
                *ret_payload = TAKE_PTR(obj);
        return 0;
}

int jws_verify_compact(const JwsVerifier *v, const char *compact, size_t len, json_t **ret_header, json_t **ret_payload)
{
        return verify_compact_json(v, compact, len, true, ret_header, ret_payload);
}

int jws_verify_compact_once(const JwsVerifier *v, const char *compact, size_t len, json_t **ret_header,
                            json_t **ret_payload)
{
        return verify_compact_json(v, compact, len, false, ret_header, ret_payload);
}

const char *jws_strerror(int code)
{
        static const char *const table[_JWS_E_MAX] = {
                [0] = "ok",
                [JWS_E_MALFORMED] = "malformed compact JWS",
                [JWS_E_TOO_LARGE] = "JWS too large",
                [JWS_E_ALG] = "alg is not ES256",
                [JWS_E_CRIT] = "unsupported critical header parameter",
                [JWS_E_EMBEDDED_KEY] = "embedded or referenced key in header",
                [JWS_E_SIGNATURE] = "signature does not verify",
                [JWS_E_PAYLOAD] = "payload is not a JSON object",
                [JWS_E_KEY] = "key is not a P-256 verification key",
        };
        const char *s;

        if (code >= 0 && code < _JWS_E_MAX)
                return table[code];
        if (code < 0) {
                s = strerrordesc_np(-code);
                if (s)
                        return s;
        }
        return "unknown error";
}
