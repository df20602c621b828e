/* test-jws.c: consent-artefact verification, accepted and refused artefacts */
#undef NDEBUG
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <jose/jose.h>
#include <jose/openssl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "crypto/openssl-util.h"
#include "crypto/signer.h"
#include "crypto/hash.h"
#include "crypto/jws.h"
#include "util/macro.h"

typedef enum SigMode {
        SIG_ES256,          /* what an authority produces: SHA-256, r||s */
        SIG_ES256_HIGH_S,   /* the same signature with s replaced by n - s */
        SIG_ES256_DER,      /* SHA-256 but DER-encoded (the X.509 habit) */
        SIG_ES384_SAME_KEY, /* SHA-384 with the P-256 key, r||s (64 bytes) */
        SIG_ES256_R_ZERO,   /* r = 0, s from a real signature */
        SIG_ES256_S_ZERO,
        SIG_ES256_S_N, /* s = n */
        SIG_NONE,      /* empty signature part */
} SigMode;

static const uint8_t p256_n[32] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

static char *b64(const void *data, size_t size)
{
        char *s = malloc(b64url_encoded_len(size) + 1);

        assert(s);
        b64url_encode(data, size, s);
        return s;
}

static char *b64s(const char *str)
{
        return b64(str, strlen(str));
}

/* DER signature over msg with md (EVP_PKEY default for EC: ECDSA). */
static size_t sign_der(EVP_PKEY *k, const char *md_name, const void *msg, size_t size, uint8_t *out, size_t out_size)
{
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        size_t n = out_size;

        assert(md);
        assert(EVP_DigestSignInit_ex(md, NULL, md_name, NULL, NULL, k, NULL) == 1);
        assert(EVP_DigestSign(md, out, &n, msg, size) == 1);
        EVP_MD_CTX_free(md);
        return n;
}

static void der_to_raw(const uint8_t *der, size_t n, uint8_t raw[64])
{
        const uint8_t *p = der;
        ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)n);
        const BIGNUM *r, *ss;

        assert(s);
        ECDSA_SIG_get0(s, &r, &ss);
        assert(BN_bn2binpad(r, raw, 32) == 32);
        assert(BN_bn2binpad(ss, raw + 32, 32) == 32);
        ECDSA_SIG_free(s);
}

/* out = n - s (32-byte big-endian). */
static void negate_s(uint8_t s[32])
{
        BIGNUM *n = BN_bin2bn(p256_n, 32, NULL), *v = BN_bin2bn(s, 32, NULL);

        assert(n && v);
        assert(BN_sub(v, n, v) == 1);
        assert(BN_bn2binpad(v, s, 32) == 32);
        BN_free(n);
        BN_free(v);
}

/* A compact JWS with the given protected header text and payload bytes. */
static char *make_jws_bytes(EVP_PKEY *k, const char *hdr, const void *payload, size_t payload_size, SigMode mode)
{
        _cleanup_free_ char *h = b64s(hdr), *p = b64(payload, payload_size), *input = NULL, *s = NULL;
        uint8_t der[160], raw[64];
        size_t n = 0;
        char *out;

        assert(asprintf(&input, "%s.%s", h, p) > 0);
        switch (mode) {
        case SIG_NONE:
                s = strdup("");
                break;
        case SIG_ES256_DER:
                n = sign_der(k, "SHA256", input, strlen(input), der, sizeof(der));
                s = b64(der, n);
                break;
        default:
                n = sign_der(k, mode == SIG_ES384_SAME_KEY ? "SHA384" : "SHA256", input, strlen(input), der,
                             sizeof(der));
                der_to_raw(der, n, raw);
                if (mode == SIG_ES256_HIGH_S)
                        negate_s(raw + 32);
                else if (mode == SIG_ES256_R_ZERO)
                        memset(raw, 0, 32);
                else if (mode == SIG_ES256_S_ZERO)
                        memset(raw + 32, 0, 32);
                else if (mode == SIG_ES256_S_N)
                        memcpy(raw + 32, p256_n, 32);
                s = b64(raw, 64);
        }
        assert(s);
        assert(asprintf(&out, "%s.%s", input, s) > 0);
        return out;
}

static char *make_jws(EVP_PKEY *k, const char *hdr, const char *payload, SigMode mode)
{
        return make_jws_bytes(k, hdr, payload, strlen(payload), mode);
}

/* HS256 "signature" over the signing input with an arbitrary secret. */
static char *make_hs256(const char *hdr, const char *payload, const void *secret, size_t secret_size)
{
        _cleanup_free_ char *h = b64s(hdr), *p = b64s(payload), *input = NULL, *s = NULL;
        uint8_t mac[32];
        size_t n = 0;
        char *out;

        assert(asprintf(&input, "%s.%s", h, p) > 0);
        assert(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, secret_size, (const uint8_t *)input, strlen(input),
                         mac, sizeof(mac), &n));
        assert(n == 32);
        s = b64(mac, n);
        assert(asprintf(&out, "%s.%s", input, s) > 0);
        return out;
}

static EVP_PKEY *gen_key(const char *curve)
{
        EVP_PKEY *k = EVP_EC_gen(curve);

        assert(k);
        return k;
}

/* Private JWK (with "d") of an OpenSSL key, through libjose. */
static json_t *jwk_of(EVP_PKEY *k)
{
        json_t *j = jose_openssl_jwk_from_EVP_PKEY(NULL, k);

        assert(j);
        return j;
}

static json_t *pub_jwk_of(EVP_PKEY *k)
{
        json_t *j = jwk_of(k);

        assert(jose_jwk_pub(NULL, j));
        assert(!json_object_get(j, "d"));
        return j;
}

/* Every case through jws_verify_compact_once() too: one check or two, the same answer. */
static int verify(const JwsVerifier *v, const char *jws)
{
        int r = jws_verify_compact(v, jws, strlen(jws), NULL, NULL);

        assert(jws_verify_compact_once(v, jws, strlen(jws), NULL, NULL) == r);
        return r;
}

/* The same, through the byte-payload API: both must agree on everything but JWS_E_PAYLOAD. */
static int verify_both(const JwsVerifier *v, const char *jws)
{
        int r1 = jws_verify_compact(v, jws, strlen(jws), NULL, NULL);
        int r2 = jws_verify_compact_bytes(v, jws, strlen(jws), NULL, NULL, NULL);

        if (r1 != JWS_E_PAYLOAD)
                assert(r1 == r2);
        else
                assert(r2 == 0);
        return r1;
}

#define EXPECT(v, jws, code)                                                                                         \
        do {                                                                                                         \
                _cleanup_free_ char *_j = (jws);                                                                     \
                int _r = verify_both((v), _j);                                                                       \
                if (_r != (code)) {                                                                                  \
                        fprintf(stderr, "%s:%d: expected %d (%s), got %d (%s) for %s\n", __FILE__, __LINE__, (code), \
                                jws_strerror(code), _r, jws_strerror(_r), _j);                                       \
                        abort();                                                                                     \
                }                                                                                                    \
        } while (0)

static const char *const HDR = "{\"alg\":\"ES256\",\"typ\":\"xbus-consent+jws\",\"kid\":\"portal-1\"}";
static const char *const PAYLOAD =
        "{\"sub\":\"pseudo-1\",\"grantee\":\"VN/GOV/HN-UBND/one-stop-shop\",\"exp\":1900000000}";

static void test_valid(EVP_PKEY *k, const JwsVerifier *v)
{
        _cleanup_free_ char *jws = make_jws(k, HDR, PAYLOAD, SIG_ES256);
        json_auto_t *h = NULL, *p = NULL;
        _cleanup_free_ uint8_t *raw = NULL;
        size_t raw_size = 0;

        assert(jws_verify_compact(v, jws, strlen(jws), &h, &p) == 0);
        assert(json_is_object(h) && json_is_object(p));
        assert(streq(json_string_value(json_object_get(h, "alg")), "ES256"));
        assert(streq(json_string_value(json_object_get(h, "kid")), "portal-1"));
        assert(streq(json_string_value(json_object_get(p, "sub")), "pseudo-1"));
        assert(json_integer_value(json_object_get(p, "exp")) == 1900000000);

        assert(jws_verify_compact_bytes(v, jws, strlen(jws), NULL, &raw, &raw_size) == 0);
        assert(raw_size == strlen(PAYLOAD) && memcmp(raw, PAYLOAD, raw_size) == 0 && raw[raw_size] == 0);

        /* Length, not NUL, delimits the input: trailing bytes beyond len are not read. */
        {
                _cleanup_free_ char *longer = NULL;

                assert(asprintf(&longer, "%sGARBAGE", jws) > 0);
                assert(jws_verify_compact(v, longer, strlen(jws), NULL, NULL) == 0);
                assert(jws_verify_compact(v, longer, strlen(longer), NULL, NULL) == JWS_E_MALFORMED);
        }

        /* Minimal header and an empty object payload. */
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\"}", "{}", SIG_ES256), 0);
        /* White space inside the JSON header is JSON's business, not ours. */
        EXPECT(v, make_jws(k, "{ \"alg\" :\n\t\"ES256\" }", "{}", SIG_ES256), 0);
        /* Hints that do not carry a key are allowed and returned. */
        EXPECT(v,
               make_jws(k, "{\"alg\":\"ES256\",\"x5t#S256\":\"abc\",\"x5t\":\"abc\",\"cty\":\"json\"}", "{}",
                        SIG_ES256),
               0);
        /* "b64": true is the RFC 7515 default and changes nothing. */
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"b64\":true}", "{}", SIG_ES256), 0);
        /* High s is a valid ECDSA signature (Wycheproof SpecialCaseEs256 "valid" agrees). */
        EXPECT(v, make_jws(k, HDR, PAYLOAD, SIG_ES256_HIGH_S), 0);
}

static void test_alg(EVP_PKEY *k, const JwsVerifier *v, const json_t *pub)
{
        _cleanup_free_ char *jwk_text = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
        _cleanup_free_ char *es384 = NULL;
        uint8_t point[65];
        size_t point_len = 0;

        assert(jwk_text);

        /* alg none, with no signature and with a real ES256 signature over the none header. */
        EXPECT(v, make_jws(k, "{\"alg\":\"none\"}", PAYLOAD, SIG_NONE), JWS_E_ALG);
        EXPECT(v, make_jws(k, "{\"alg\":\"none\"}", PAYLOAD, SIG_ES256), JWS_E_ALG);
        EXPECT(v, make_jws(k, "{\"alg\":\"None\"}", PAYLOAD, SIG_ES256), JWS_E_ALG);
        EXPECT(v, make_jws(k, "{\"alg\":\"es256\"}", PAYLOAD, SIG_ES256), JWS_E_ALG);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256 \"}", PAYLOAD, SIG_ES256), JWS_E_ALG);
        EXPECT(v, make_jws(k, "{\"typ\":\"JWT\"}", PAYLOAD, SIG_ES256), JWS_E_ALG);
        EXPECT(v, make_jws(k, "{\"alg\":null}", PAYLOAD, SIG_ES256), JWS_E_ALG);
        EXPECT(v, make_jws(k, "{\"alg\":[\"ES256\"]}", PAYLOAD, SIG_ES256), JWS_E_ALG);
        /* "ES256\u0000..." is refused by the JSON parser (no NUL in strings). */
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\\u0000x\"}", PAYLOAD, SIG_ES256), JWS_E_MALFORMED);

        /* Algorithm confusion: HS256 keyed with the public key as the verifier holds it. */
        EXPECT(v, make_hs256("{\"alg\":\"HS256\"}", PAYLOAD, jwk_text, strlen(jwk_text)), JWS_E_ALG);
        assert(EVP_PKEY_get_octet_string_param(k, "encoded-pub-key", point, sizeof(point), &point_len) == 1);
        EXPECT(v, make_hs256("{\"alg\":\"HS256\"}", PAYLOAD, point, point_len), JWS_E_ALG);

        /*
         * ES384 in the header, signed with SHA-384 by the very P-256 key:
         * a valid signature in every other respect. The header decides
         * nothing, so it is refused before any cryptography.
         */
        es384 = make_jws(k, "{\"alg\":\"ES384\"}", PAYLOAD, SIG_ES384_SAME_KEY);
        assert(verify(v, es384) == JWS_E_ALG);
        {
                /* Why the pre-check exists: what libjose says on its own about it. */
                const char *d1 = strchr(es384, '.'), *d2 = strchr(d1 + 1, '.');
                json_auto_t *jose = json_pack("{s:s%, s:s%, s:s}", "protected", es384, (size_t)(d1 - es384), "payload",
                                              d1 + 1, (size_t)(d2 - d1 - 1), "signature", d2 + 1);
                assert(jose);
                printf("note: libjose alone %s an ES384 header signed with the P-256 key under a JWK pinned to ES256\n",
                       jose_jws_ver(NULL, jose, jose, jws_verifier_jwk(v), false) ? "ACCEPTS" : "refuses");
        }
        EXPECT(v, make_jws(k, "{\"alg\":\"ES512\"}", PAYLOAD, SIG_ES256), JWS_E_ALG);
        EXPECT(v, make_jws(k, "{\"alg\":\"RS256\"}", PAYLOAD, SIG_ES256), JWS_E_ALG);
        EXPECT(v, make_jws(k, "{\"alg\":\"PS256\"}", PAYLOAD, SIG_ES256), JWS_E_ALG);
        EXPECT(v, make_jws(k, "{\"alg\":\"EdDSA\"}", PAYLOAD, SIG_ES256), JWS_E_ALG);
}

static void test_embedded_keys(EVP_PKEY *k, const JwsVerifier *v)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *attacker = gen_key("P-256");
        json_auto_t *ajwk = pub_jwk_of(attacker);
        _cleanup_free_ char *ajwk_text = json_dumps(ajwk, JSON_COMPACT), *hdr = NULL;

        /* The attacker's own key in "jwk", signed by the attacker. */
        assert(asprintf(&hdr, "{\"alg\":\"ES256\",\"jwk\":%s}", ajwk_text) > 0);
        EXPECT(v, make_jws(attacker, hdr, PAYLOAD, SIG_ES256), JWS_E_EMBEDDED_KEY);
        /* Even when the signature is by the registered key: refused, not ignored. */
        EXPECT(v, make_jws(k, hdr, PAYLOAD, SIG_ES256), JWS_E_EMBEDDED_KEY);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"jku\":\"https://evil.example/jwks.json\"}", PAYLOAD, SIG_ES256),
               JWS_E_EMBEDDED_KEY);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"x5c\":[\"MIIB\"]}", PAYLOAD, SIG_ES256), JWS_E_EMBEDDED_KEY);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"x5u\":\"https://evil.example/c.pem\"}", PAYLOAD, SIG_ES256),
               JWS_E_EMBEDDED_KEY);
        /* null is still "present". */
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"jwk\":null}", PAYLOAD, SIG_ES256), JWS_E_EMBEDDED_KEY);
        /* The attacker signing with a plain header is just a wrong key. */
        EXPECT(v, make_jws(attacker, HDR, PAYLOAD, SIG_ES256), JWS_E_SIGNATURE);
}

static void test_crit(EVP_PKEY *k, const JwsVerifier *v)
{
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}", PAYLOAD, SIG_ES256), JWS_E_CRIT);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"b64\":false}", PAYLOAD, SIG_ES256), JWS_E_CRIT);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"crit\":[]}", PAYLOAD, SIG_ES256), JWS_E_CRIT);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"crit\":\"exp\"}", PAYLOAD, SIG_ES256), JWS_E_CRIT);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"crit\":[1]}", PAYLOAD, SIG_ES256), JWS_E_CRIT);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"crit\":null}", PAYLOAD, SIG_ES256), JWS_E_CRIT);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"crit\":{}}", PAYLOAD, SIG_ES256), JWS_E_CRIT);
        /* Unencoded payload (RFC 7797) without crit: still refused. */
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"b64\":false}", PAYLOAD, SIG_ES256), JWS_E_CRIT);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"b64\":\"false\"}", PAYLOAD, SIG_ES256), JWS_E_CRIT);
}

/* Replace the first occurrence of `what` by `with` in a copy of s. */
static char *replace(const char *s, const char *what, const char *with)
{
        const char *at = strstr(s, what);
        char *out;

        assert(at);
        assert(asprintf(&out, "%.*s%s%s", (int)(at - s), s, with, at + strlen(what)) > 0);
        return out;
}

static void test_syntax(EVP_PKEY *k, const JwsVerifier *v)
{
        /* PAYLOAD2 encodes to a length that needs '=' padding in standard base64. */
        const char *pay2 = "{\"a\":1}";
        _cleanup_free_ char *good = make_jws(k, HDR, pay2, SIG_ES256);
        _cleanup_free_ char *h = b64s(HDR), *p = b64s(pay2);
        const char *d1 = strchr(good, '.'), *d2 = strchr(d1 + 1, '.');
        char buf[512];

        assert(verify(v, good) == 0);
        assert(strlen(p) % 4 != 0);

        /* Padding in the payload, the header or the signature part. */
        snprintf(buf, sizeof(buf), "%s.%s=.%s", h, p, d2 + 1);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED);
        snprintf(buf, sizeof(buf), "%s.%s==.%s", h, p, d2 + 1);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED);
        snprintf(buf, sizeof(buf), "%s==", good);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED);
        snprintf(buf, sizeof(buf), "%.*s=%s", (int)(d1 - good), good, d1);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED);

        /* Standard base64 alphabet, white space, NUL. */
        for (const char *c = "/+=~!$%&*"; *c; c++) {
                char *bad = strdup(good);

                assert(bad);
                bad[d2 - good + 1] = *c; /* first char of the signature */
                EXPECT(v, bad, JWS_E_MALFORMED);
                bad = strdup(good);
                assert(bad);
                bad[1] = *c; /* in the header */
                EXPECT(v, bad, JWS_E_MALFORMED);
        }
        snprintf(buf, sizeof(buf), " %s", good);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED);
        snprintf(buf, sizeof(buf), "%s\n", good);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED);
        snprintf(buf, sizeof(buf), "%s\r\n", good);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED);
        snprintf(buf, sizeof(buf), "%.*s %s", (int)(d2 - good + 5), good, d2 + 5);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED);
        {
                char *withnul = strdup(good);
                size_t n = strlen(good);

                assert(withnul);
                withnul[d2 - good + 3] = 0;
                assert(jws_verify_compact(v, withnul, n, NULL, NULL) == JWS_E_MALFORMED);
                free(withnul);
        }

        /* Part count. */
        snprintf(buf, sizeof(buf), "%.*s", (int)(d2 - good), good);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED); /* 2 parts */
        snprintf(buf, sizeof(buf), "%s.", good);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED); /* 4 parts, last empty */
        snprintf(buf, sizeof(buf), "%s.%s", good, p);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED); /* 4 parts */
        snprintf(buf, sizeof(buf), "%s.%s.%s.%s.%s", h, p, p, p, d2 + 1);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED); /* 5 parts: a JWE shape */
        EXPECT(v, strdup(h), JWS_E_MALFORMED);
        EXPECT(v, strdup(""), JWS_E_MALFORMED);
        EXPECT(v, strdup(".."), JWS_E_MALFORMED);
        EXPECT(v, strdup("..."), JWS_E_MALFORMED);
        snprintf(buf, sizeof(buf), ".%s.%s", p, d2 + 1);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED); /* no header */
        assert(jws_verify_compact(v, NULL, 0, NULL, NULL) == JWS_E_MALFORMED);
        assert(jws_verify_compact(v, NULL, 5, NULL, NULL) == -EINVAL);
        assert(jws_verify_compact(NULL, good, strlen(good), NULL, NULL) == -EINVAL);

        /* JSON form (flattened serialization) is not the compact form. */
        snprintf(buf, sizeof(buf), "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", h, p, d2 + 1);
        EXPECT(v, strdup(buf), JWS_E_MALFORMED);

        /* Header: not an object, not JSON, duplicate names, non-canonical last char. */
        EXPECT(v, make_jws(k, "[\"alg\",\"ES256\"]", pay2, SIG_ES256), JWS_E_MALFORMED);
        EXPECT(v, make_jws(k, "\"ES256\"", pay2, SIG_ES256), JWS_E_MALFORMED);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\"", pay2, SIG_ES256), JWS_E_MALFORMED);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\"} ", pay2, SIG_ES256), 0);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\"}x", pay2, SIG_ES256), JWS_E_MALFORMED);
        EXPECT(v, make_jws(k, "{\"alg\":\"HS256\",\"alg\":\"ES256\"}", pay2, SIG_ES256), JWS_E_MALFORMED);
        EXPECT(v, make_jws(k, "{\"alg\":\"ES256\",\"alg\":\"ES256\"}", pay2, SIG_ES256), JWS_E_MALFORMED);
        {
                /* "e30" is "{}"; "e31" has non-zero unused bits and would decode the same. */
                _cleanup_free_ char *ok = make_jws(k, "{\"alg\":\"ES256\"}", "{}", SIG_ES256);
                _cleanup_free_ char *bad = replace(ok, ".e30.", ".e31.");

                assert(verify(v, ok) == 0);
                assert(verify(v, bad) == JWS_E_MALFORMED);
        }
}

static void test_signature(EVP_PKEY *k, const JwsVerifier *v)
{
        _cleanup_free_ char *good = make_jws(k, HDR, PAYLOAD, SIG_ES256);
        _cleanup_free_ char *other = make_jws(k, HDR, "{\"sub\":\"pseudo-2\"}", SIG_ES256);
        const char *d2 = strrchr(good, '.'), *o1 = strchr(other, '.'), *o2 = strrchr(other, '.');
        char buf[1024];

        /* DER (70-72 bytes) is not r||s. */
        EXPECT(v, make_jws(k, HDR, PAYLOAD, SIG_ES256_DER), JWS_E_SIGNATURE);
        EXPECT(v, make_jws(k, HDR, PAYLOAD, SIG_NONE), JWS_E_SIGNATURE);
        EXPECT(v, make_jws(k, HDR, PAYLOAD, SIG_ES256_R_ZERO), JWS_E_SIGNATURE);
        EXPECT(v, make_jws(k, HDR, PAYLOAD, SIG_ES256_S_ZERO), JWS_E_SIGNATURE);
        EXPECT(v, make_jws(k, HDR, PAYLOAD, SIG_ES256_S_N), JWS_E_SIGNATURE);

        /* Another payload under this signature. */
        snprintf(buf, sizeof(buf), "%.*s%s", (int)(o2 - other), other, d2);
        EXPECT(v, strdup(buf), JWS_E_SIGNATURE);
        /* Another header under this signature (kid changed). */
        {
                _cleanup_free_ char *h2 = b64s("{\"alg\":\"ES256\",\"typ\":\"xbus-consent+jws\",\"kid\":\"portal-2\"}");
                const char *d1 = strchr(good, '.');

                snprintf(buf, sizeof(buf), "%s%s", h2, d1);
                EXPECT(v, strdup(buf), JWS_E_SIGNATURE);
        }
        /* Payload and signature swapped between two valid artefacts. */
        snprintf(buf, sizeof(buf), "%.*s%.*s%s", (int)(strchr(good, '.') - good), good, (int)(o2 - o1), o1, d2);
        EXPECT(v, strdup(buf), JWS_E_SIGNATURE);
        /* One bit of the signature. */
        {
                char *flip = strdup(good);
                char *c = flip + (d2 - good) + 10;

                assert(flip);
                *c = *c == 'A' ? 'B' : 'A';
                EXPECT(v, flip, JWS_E_SIGNATURE);
        }
        /* 65 bytes (a 0x00 appended) and 63 bytes. */
        {
                uint8_t raw[65];
                long n = b64url_decode(d2 + 1, strlen(d2 + 1), raw);
                _cleanup_free_ char *s65 = NULL, *s63 = NULL;

                assert(n == 64);
                raw[64] = 0;
                s65 = b64(raw, 65);
                s63 = b64(raw, 63);
                snprintf(buf, sizeof(buf), "%.*s.%s", (int)(d2 - good), good, s65);
                EXPECT(v, strdup(buf), JWS_E_SIGNATURE);
                snprintf(buf, sizeof(buf), "%.*s.%s", (int)(d2 - good), good, s63);
                EXPECT(v, strdup(buf), JWS_E_SIGNATURE);
        }
}

static void test_raw(EVP_PKEY *k, const JwsVerifier *v)
{
        const char *msg = "consent artefact signing input";
        uint8_t der[128], raw[64], bad[64];
        size_t n = sign_der(k, "SHA256", msg, strlen(msg), der, sizeof(der));

        der_to_raw(der, n, raw);
        assert(jws_es256_verify_raw(v, (const uint8_t *)msg, strlen(msg), raw, 64) == 0);
        assert(jws_es256_verify_raw(v, (const uint8_t *)msg, strlen(msg) - 1, raw, 64) == JWS_E_SIGNATURE);
        assert(jws_es256_verify_raw(v, (const uint8_t *)msg, strlen(msg), raw, 63) == JWS_E_SIGNATURE);
        assert(jws_es256_verify_raw(v, (const uint8_t *)msg, strlen(msg), der, n) == JWS_E_SIGNATURE);
        assert(jws_es256_verify_raw(v, (const uint8_t *)msg, strlen(msg), NULL, 64) == JWS_E_SIGNATURE);
        assert(jws_es256_verify_raw(NULL, (const uint8_t *)msg, strlen(msg), raw, 64) == -EINVAL);
        memcpy(bad, raw, 64);
        negate_s(bad + 32);
        assert(jws_es256_verify_raw(v, (const uint8_t *)msg, strlen(msg), bad, 64) == 0);
        memcpy(bad + 32, p256_n, 32);
        assert(jws_es256_verify_raw(v, (const uint8_t *)msg, strlen(msg), bad, 64) == JWS_E_SIGNATURE);
        memset(bad, 0xff, 64);
        assert(jws_es256_verify_raw(v, (const uint8_t *)msg, strlen(msg), bad, 64) == JWS_E_SIGNATURE);
        /* Empty message: a NULL pointer with size 0 is fine. */
        n = sign_der(k, "SHA256", "", 0, der, sizeof(der));
        der_to_raw(der, n, raw);
        assert(jws_es256_verify_raw(v, NULL, 0, raw, 64) == 0);
}

static void test_payload(EVP_PKEY *k, const JwsVerifier *v)
{
        const char *h = "{\"alg\":\"ES256\"}";

        EXPECT(v, make_jws(k, h, "[]", SIG_ES256), JWS_E_PAYLOAD);
        EXPECT(v, make_jws(k, h, "\"consent\"", SIG_ES256), JWS_E_PAYLOAD);
        EXPECT(v, make_jws(k, h, "foo", SIG_ES256), JWS_E_PAYLOAD);
        EXPECT(v, make_jws(k, h, "", SIG_ES256), JWS_E_PAYLOAD);
        EXPECT(v, make_jws(k, h, "null", SIG_ES256), JWS_E_PAYLOAD);
        EXPECT(v, make_jws(k, h, "{\"a\":1,\"a\":2}", SIG_ES256), JWS_E_PAYLOAD);
        EXPECT(v, make_jws(k, h, "{\"a\":1} {}", SIG_ES256), JWS_E_PAYLOAD);
        EXPECT(v, make_jws_bytes(k, h, "{\"a\":\"\xff\"}", 8, SIG_ES256), JWS_E_PAYLOAD);

        /* Outputs are untouched on refusal. */
        {
                _cleanup_free_ char *jws = make_jws(k, h, "[]", SIG_ES256);
                json_t *sentinel = (json_t *)(uintptr_t)0x1, *hh = sentinel, *pp = sentinel;

                assert(jws_verify_compact(v, jws, strlen(jws), &hh, &pp) == JWS_E_PAYLOAD);
                assert(hh == sentinel && pp == sentinel);
        }
        {
                _cleanup_free_ char *jws = make_jws(k, "{\"alg\":\"none\"}", "{}", SIG_ES256);
                json_t *sentinel = (json_t *)(uintptr_t)0x1, *hh = sentinel;
                uint8_t *pb = (uint8_t *)sentinel;
                size_t ps = 77;

                assert(jws_verify_compact_bytes(v, jws, strlen(jws), &hh, &pb, &ps) == JWS_E_ALG);
                assert(hh == sentinel && pb == (uint8_t *)sentinel && ps == 77);
        }
}

static void test_size(EVP_PKEY *k, const JwsVerifier *v)
{
        _cleanup_free_ char *fill = malloc(JWS_COMPACT_MAX);
        size_t last_ok = 0, first_over = 0;

        assert(fill);
        /* Grow a payload until the artefact passes the limit; the one just below must verify. */
        for (size_t n = JWS_COMPACT_MAX / 4 * 3 - 200; n < JWS_COMPACT_MAX; n++) {
                _cleanup_free_ char *payload = NULL, *jws = NULL;
                size_t len;
                int r;

                memset(fill, 'x', n);
                fill[n] = 0;
                assert(asprintf(&payload, "{\"f\":\"%s\"}", fill) > 0);
                jws = make_jws(k, "{\"alg\":\"ES256\"}", payload, SIG_ES256);
                len = strlen(jws);
                r = verify(v, jws);
                if (len <= JWS_COMPACT_MAX) {
                        assert(r == 0);
                        last_ok = len;
                } else {
                        assert(r == JWS_E_TOO_LARGE);
                        first_over = len;
                        break;
                }
        }
        assert(last_ok > JWS_COMPACT_MAX - 8 && last_ok <= JWS_COMPACT_MAX);
        assert(first_over > JWS_COMPACT_MAX);
        /* The limit is checked before anything is read: huge garbage is refused by size. */
        {
                size_t big = MIB(1);
                char *junk = malloc(big);

                assert(junk);
                memset(junk, '.', big);
                assert(jws_verify_compact(v, junk, big, NULL, NULL) == JWS_E_TOO_LARGE);
                assert(jws_verify_compact(v, junk, JWS_COMPACT_MAX + 1, NULL, NULL) == JWS_E_TOO_LARGE);
                assert(jws_verify_compact(v, junk, JWS_COMPACT_MAX, NULL, NULL) == JWS_E_MALFORMED);
                free(junk);
        }
}

/* Snapshots carry megabytes: the same checks under a limit the caller gives. */
static void test_size_limit(EVP_PKEY *k, const JwsVerifier *v)
{
        size_t n = 3 * JWS_COMPACT_MAX;
        _cleanup_free_ char *fill = malloc(n + 1), *payload = NULL, *jws = NULL;
        uint8_t *out = NULL;
        size_t out_size = 0;

        assert(fill);
        memset(fill, 'x', n);
        fill[n] = 0;
        assert(asprintf(&payload, "{\"f\":\"%s\"}", fill) > 0);
        jws = make_jws(k, HDR, payload, SIG_ES256);
        assert(jws_verify_compact_bytes(v, jws, strlen(jws), NULL, &out, &out_size) == JWS_E_TOO_LARGE);
        assert(jws_verify_compact_limit(v, jws, strlen(jws), strlen(jws) - 1, NULL, &out, &out_size) ==
               JWS_E_TOO_LARGE);
        assert(jws_verify_compact_limit(v, jws, strlen(jws), strlen(jws), NULL, &out, &out_size) == 0);
        assert(out_size == strlen(payload) && memcmp(out, payload, out_size) == 0);
        free(out);
        jws[strlen(jws) - 2] ^= 1; /* and it still checks the signature */
        assert(jws_verify_compact_limit(v, jws, strlen(jws), 4 * n, NULL, NULL, NULL) != 0);
}

/* A key id is the RFC 7638 thumbprint, the same whichever way the key came in. */
static void test_kid(EVP_PKEY *k, const JwsVerifier *v)
{
        _cleanup_(jws_verifier_freep) JwsVerifier *from_pkey = NULL;
        _cleanup_(signer_freep) Signer *s = NULL;
        char kid[JWS_KID_LEN + 1];

        assert(signer_new(&s, k) == 0);
        assert(strlen(jws_verifier_kid(v)) == JWS_KID_LEN && streq(jws_verifier_kid(v), signer_kid(s)));
        assert(jws_verifier_from_pkey(&from_pkey, k) == 0); /* a private key: its public part */
        assert(!json_object_get(jws_verifier_jwk(from_pkey), "d"));
        assert(streq(jws_verifier_kid(from_pkey), signer_kid(s)));
        /* the key of RFC 7515 appendix A.3; the value computed by `jose jwk thp -a S256` */
        jws_p256_thumbprint("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                            "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", kid);
        assert(strlen(kid) == JWS_KID_LEN && streq(kid, "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"));
}

static void test_key_import(EVP_PKEY *k)
{
        _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL;
        json_auto_t *priv = jwk_of(k), *pub = pub_jwk_of(k), *j = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k384 = gen_key("P-384");
        _cleanup_free_ char *jws = make_jws(k, HDR, PAYLOAD, SIG_ES256);
        const json_t *used;

        /* A private JWK is accepted; only the public part is kept. */
        assert(json_object_get(priv, "d"));
        assert(jws_verifier_new(&v, priv) == 0);
        used = jws_verifier_jwk(v);
        assert(!json_object_get(used, "d"));
        assert(json_object_size(used) == 5);
        assert(streq(json_string_value(json_object_get(used, "alg")), "ES256"));
        assert(json_equal(json_object_get(used, "x"), json_object_get(pub, "x")));
        assert(verify(v, jws) == 0);
        v = jws_verifier_free(v);
        assert(!v);
        assert(!jws_verifier_free(NULL));

#define KEY_VARIANT(mutate, expected)                                                                               \
        do {                                                                                                        \
                json_decref(j);                                                                                     \
                j = json_deep_copy(pub);                                                                            \
                assert(j);                                                                                          \
                mutate;                                                                                             \
                JwsVerifier *_v = NULL;                                                                             \
                int _r = jws_verifier_new(&_v, j);                                                                  \
                if (_r != (expected)) {                                                                             \
                        fprintf(stderr, "%s:%d: key import %d, expected %d\n", __FILE__, __LINE__, _r, (expected)); \
                        abort();                                                                                    \
                }                                                                                                   \
                assert((_r == 0) == (_v != NULL));                                                                  \
                if (_v)                                                                                             \
                        assert(verify(_v, jws) == 0);                                                               \
                jws_verifier_free(_v);                                                                              \
        } while (0)

        KEY_VARIANT((void)0, 0);
        KEY_VARIANT(json_object_set_new(j, "alg", json_string("ES256")), 0);
        KEY_VARIANT(json_object_set_new(j, "use", json_string("sig")), 0);
        KEY_VARIANT(json_object_set_new(j, "kid", json_string("portal-1")), 0);
        KEY_VARIANT(json_object_set_new(j, "key_ops", json_pack("[s]", "verify")), 0);
        KEY_VARIANT(json_object_set_new(j, "key_ops", json_pack("[s,s]", "sign", "verify")), 0);

        KEY_VARIANT(json_object_set_new(j, "alg", json_string("ES384")), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "alg", json_string("HS256")), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "alg", json_string("none")), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "alg", json_integer(1)), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "use", json_string("enc")), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "key_ops", json_pack("[s]", "encrypt")), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "key_ops", json_pack("[]")), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "key_ops", json_string("verify")), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "key_ops", json_pack("[s,i]", "verify", 1)), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "kty", json_string("RSA")), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "kty", json_string("oct")), JWS_E_KEY);
        KEY_VARIANT(json_object_del(j, "kty"), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "crv", json_string("P-384")), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "crv", json_string("secp256k1")), JWS_E_KEY);
        KEY_VARIANT(json_object_del(j, "crv"), JWS_E_KEY);
        KEY_VARIANT(json_object_del(j, "y"), JWS_E_KEY);
        KEY_VARIANT(json_object_set_new(j, "x", json_integer(5)), JWS_E_KEY);
        /* Coordinates: padding, short, long, non-canonical, off the curve. */
        {
                char x[64], *y;
                uint8_t yb[33];

                snprintf(x, sizeof(x), "%s=", json_string_value(json_object_get(pub, "x")));
                KEY_VARIANT(json_object_set_new(j, "x", json_string(x)), JWS_E_KEY);
                snprintf(x, sizeof(x), "%.42s", json_string_value(json_object_get(pub, "x")));
                KEY_VARIANT(json_object_set_new(j, "x", json_string(x)), JWS_E_KEY);
                snprintf(x, sizeof(x), "%sAA", json_string_value(json_object_get(pub, "x")));
                KEY_VARIANT(json_object_set_new(j, "x", json_string(x)), JWS_E_KEY);

                /* y + 1 (mod 2^256): not on the curve. */
                assert(b64url_decode(json_string_value(json_object_get(pub, "y")), 43, yb) == 32);
                for (int i = 31; i >= 0 && ++yb[i] == 0; i--)
                        ;
                y = b64(yb, 32);
                KEY_VARIANT(json_object_set_new(j, "y", json_string(y)), JWS_E_KEY);
                free(y);
                /* x = y = 0 */
                memset(yb, 0, 32);
                y = b64(yb, 32);
                KEY_VARIANT((json_object_set_new(j, "y", json_string(y)), json_object_set_new(j, "x", json_string(y))),
                            JWS_E_KEY);
                free(y);
        }
        /* A real P-384 key, described honestly or as P-256. */
        {
                json_auto_t *p384 = pub_jwk_of(k384);

                assert(jws_verifier_new(&v, p384) == JWS_E_KEY);
                assert(json_object_set_new(p384, "crv", json_string("P-256")) == 0);
                assert(jws_verifier_new(&v, p384) == JWS_E_KEY);
                assert(!v);
        }
        {
                json_auto_t *arr = json_pack("[O]", pub), *str = json_string("x");

                assert(jws_verifier_new(&v, arr) == JWS_E_KEY);
                assert(jws_verifier_new(&v, str) == JWS_E_KEY);
                assert(jws_verifier_new(&v, NULL) == -EINVAL);
                assert(jws_verifier_new(NULL, pub) == -EINVAL);
                assert(!v);
        }
#undef KEY_VARIANT
}

static void test_strerror(void)
{
        for (int c = 0; c < _JWS_E_MAX; c++) {
                assert(jws_strerror(c) && *jws_strerror(c));
                for (int d = 0; d < c; d++)
                        assert(!streq(jws_strerror(c), jws_strerror(d)));
        }
        assert(streq(jws_strerror(JWS_E_ALG), "alg is not ES256"));
        assert(jws_strerror(-ENOMEM) && !streq(jws_strerror(-ENOMEM), "unknown error"));
        assert(streq(jws_strerror(_JWS_E_MAX), "unknown error"));
        assert(streq(jws_strerror(-100000), "unknown error"));
}

/* One verifier shared by threads, as the front door does. */
struct thread_arg {
        const JwsVerifier *v;
        const char *good;
        const char *bad;
        int failures;
};

static void *thread_main(void *p)
{
        struct thread_arg *a = p;

        for (int i = 0; i < 100; i++) {
                if (verify(a->v, a->good) != 0)
                        a->failures++;
                if (verify(a->v, a->bad) != JWS_E_SIGNATURE)
                        a->failures++;
        }
        return NULL;
}

static void test_threads(EVP_PKEY *k, const JwsVerifier *v)
{
        _cleanup_free_ char *good = make_jws(k, HDR, PAYLOAD, SIG_ES256);
        _cleanup_free_ char *bad = make_jws(k, HDR, PAYLOAD, SIG_ES256_S_ZERO);
        pthread_t t[4];
        struct thread_arg a[4];

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                a[i] = (struct thread_arg){ .v = v, .good = good, .bad = bad };
                assert(pthread_create(&t[i], NULL, thread_main, &a[i]) == 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                assert(pthread_join(t[i], NULL) == 0);
                assert(a[i].failures == 0);
        }
}

int main(void)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = gen_key("P-256");
        _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL;
        json_auto_t *pub = pub_jwk_of(k);

        assert(jws_verifier_new(&v, pub) == 0);

        test_valid(k, v);
        test_alg(k, v, pub);
        test_embedded_keys(k, v);
        test_crit(k, v);
        test_syntax(k, v);
        test_signature(k, v);
        test_raw(k, v);
        test_payload(k, v);
        test_size(k, v);
        test_size_limit(k, v);
        test_kid(k, v);
        test_key_import(k);
        test_strerror();
        test_threads(k, v);

        printf("test-jws: all passed\n");
        return 0;
}
