/* test-signer.c: ES256 receipts checked by libjose and by the openssl command */
#include <inttypes.h>
#include <pthread.h>

#include <jose/jose.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "crypto/hash.h"
#include "crypto/pki.h"
#include "crypto/receipt.h"
#include "crypto/signer.h"
#include "tests/support/test-util.h"

static char *dir;
static char *pub_pem;
static bool have_openssl;

/* The three parts of a compact JWS as a flattened JWS object for libjose. */
static json_t *compact_to_json(const char *compact)
{
        const char *d1 = strchr(compact, '.'), *d2;

        assert(d1);
        d2 = strchr(d1 + 1, '.');
        assert(d2);
        assert(!strchr(d2 + 1, '.'));
        return json_pack("{s:s%, s:s%, s:s}", "protected", compact, (size_t)(d1 - compact), "payload", d1 + 1,
                         (size_t)(d2 - d1 - 1), "signature", d2 + 1);
}

static bool verify_jose(const char *compact, const json_t *jwk)
{
        json_auto_t *jws = compact_to_json(compact);

        return jose_jws_ver(NULL, jws, NULL, jwk, false);
}

/* Signing input and DER signature to files, then `openssl dgst -verify`. */
static bool verify_openssl(const char *compact)
{
        _cleanup_free_ char *input_path = test_path(dir, "input"), *sig_path = test_path(dir, "sig.der");
        const char *d2 = strrchr(compact, '.');
        uint8_t raw[64], *der = NULL, *p;
        ECDSA_SIG *sig;
        BIGNUM *r, *s;
        int der_len, status;

        assert(d2);
        if (b64url_decode(d2 + 1, strlen(d2 + 1), raw) != 64)
                return false;
        sig = ECDSA_SIG_new();
        r = BN_bin2bn(raw, 32, NULL);
        s = BN_bin2bn(raw + 32, 32, NULL);
        assert(sig && r && s);
        assert(ECDSA_SIG_set0(sig, r, s) == 1);
        der_len = i2d_ECDSA_SIG(sig, NULL);
        assert(der_len > 0);
        der = p = malloc((size_t)der_len);
        assert(der);
        assert(i2d_ECDSA_SIG(sig, &p) == der_len);
        ECDSA_SIG_free(sig);

        test_write_file(input_path, compact, (size_t)(d2 - compact), 0600);
        test_write_file(sig_path, der, (size_t)der_len, 0600);
        free(der);

        status = test_run((char *const[]){ "openssl", "dgst", "-sha256", "-verify", pub_pem, "-signature", sig_path,
                                           input_path, NULL });
        assert(status == 0 || status == 1);
        return status == 0;
}

/* The payload part, decoded. */
static char *payload_of(const char *compact)
{
        const char *d1 = strchr(compact, '.'), *d2 = strrchr(compact, '.');
        size_t n = (size_t)(d2 - d1 - 1);
        char *out = malloc(n * 3 / 4 + 1);
        long m;

        assert(out);
        m = b64url_decode(d1 + 1, n, (uint8_t *)out);
        assert(m >= 0);
        out[m] = '\0';
        return out;
}

static json_t *header_of(const char *compact)
{
        const char *d1 = strchr(compact, '.');
        _cleanup_free_ char *h = malloc((size_t)(d1 - compact) + 1);
        long m;

        assert(h);
        m = b64url_decode(compact, (size_t)(d1 - compact), (uint8_t *)h);
        assert(m > 0);
        h[m] = '\0';
        return json_loads(h, JSON_REJECT_DUPLICATES, NULL);
}

/* The same JWS with the payload replaced (header and signature kept). */
static char *with_payload(const char *compact, const char *payload)
{
        const char *d1 = strchr(compact, '.'), *d2 = strrchr(compact, '.');
        char *b = malloc(b64url_encoded_len(strlen(payload)) + 1), *out = NULL;

        assert(b);
        b64url_encode(payload, strlen(payload), b);
        assert(asprintf(&out, "%.*s.%s%s", (int)(d1 - compact), compact, b, d2) > 0);
        free(b);
        return out;
}

static void test_setup(void)
{
        _cleanup_free_ char *key = NULL;

        dir = test_tmpdir("signer");
        test_rm_rf(dir); /* pki_demo_ensure creates it itself, 0700 */
        assert(pki_demo_ensure(dir, NULL, 0, (const char *const[]){ "VN/GOV/MOJ/consent-portal" }, 1, NULL) == 0);

        key = test_path(dir, "signing.key");
        pub_pem = test_path(dir, "pub.pem");
        have_openssl =
                test_run((char *const[]){ "openssl", "pkey", "-in", key, "-pubout", "-out", pub_pem, NULL }) == 0;
        if (!have_openssl)
                printf("openssl command not found: openssl checks skipped\n");
}

static void test_load_and_jwk(Signer **ret)
{
        _cleanup_free_ char *key = test_path(dir, "signing.key"), *jwk_path = test_path(dir, "signing.jwk");
        _cleanup_(signer_freep) Signer *s = NULL;
        json_auto_t *jwk = NULL, *file_jwk = NULL, *thumb_in = NULL;
        _cleanup_free_ char *dumped = NULL, *thumb_text = NULL;
        const char *keys[] = { "kty", "crv", "x", "y", "kid", "alg", "use" };
        const char *k;
        json_t *v;
        size_t i = 0;
        uint8_t thumb[HASH_SHA256_LEN];
        char kid[44];

        assert(signer_load(&s, key) == 0);
        jwk = signer_public_jwk(s);
        assert(jwk);

        /* exactly these members, in this order */
        json_object_foreach(jwk, k, v) {
                assert(i < ELEMENTSOF(keys));
                assert(streq(k, keys[i]));
                assert(json_is_string(v));
                i++;
        }
        assert(i == ELEMENTSOF(keys));
        assert(streq(json_string_value(json_object_get(jwk, "kty")), "EC"));
        assert(streq(json_string_value(json_object_get(jwk, "crv")), "P-256"));
        assert(streq(json_string_value(json_object_get(jwk, "alg")), "ES256"));
        assert(streq(json_string_value(json_object_get(jwk, "use")), "sig"));
        assert(strlen(json_string_value(json_object_get(jwk, "x"))) == 43);
        assert(strlen(json_string_value(json_object_get(jwk, "y"))) == 43);
        assert(streq(json_string_value(json_object_get(jwk, "kid")), signer_kid(s)));

        /* RFC 7638, computed here independently: libjose's own thumbprint */
        assert(jose_jwk_thp_buf(NULL, jwk, "S256", thumb, sizeof(thumb)) == sizeof(thumb));
        b64url_encode(thumb, sizeof(thumb), kid);
        assert(streq(kid, signer_kid(s)));
        /* ... and by hand from the canonical JSON */
        thumb_in =
                json_pack("{s:O, s:O, s:O, s:O}", "crv", json_object_get(jwk, "crv"), "kty",
                          json_object_get(jwk, "kty"), "x", json_object_get(jwk, "x"), "y", json_object_get(jwk, "y"));
        thumb_text = json_dumps(thumb_in, JSON_COMPACT | JSON_SORT_KEYS);
        hash_sha256(thumb_text, strlen(thumb_text), thumb);
        b64url_encode(thumb, sizeof(thumb), kid);
        assert(streq(kid, signer_kid(s)));

        /* signing.jwk as written by the PKI is the same key */
        dumped = test_read_file(jwk_path, NULL);
        assert(dumped);
        file_jwk = json_loads(dumped, 0, NULL);
        assert(file_jwk);
        assert(json_equal(file_jwk, jwk));
        assert(!json_object_get(file_jwk, "d"));

        /* a new object each time: changing one does not change the next */
        assert(json_object_set_new(jwk, "kid", json_string("changed")) == 0);
        json_decref(file_jwk);
        file_jwk = signer_public_jwk(s);
        assert(streq(json_string_value(json_object_get(file_jwk, "kid")), signer_kid(s)));

        *ret = TAKE_PTR(s);
        printf("load, JWK and RFC 7638 kid: ok (kid %s)\n", signer_kid(*ret));
}

static const Receipt base = {
        .seq = 42,
        .time = "2026-11-22T08:01:02.123456Z",
        .xroad_id = "c0ffee00-1111-2222-3333-444455556666",
        .client = "VN/GOV/HN-UBND/one-stop-shop",
        .service = "VN/GOV/BCA/population/citizen",
        .request_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        .response_hash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        .subject = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        .purpose = "social-benefit",
        .basis = "consent",
};

static void test_receipts(const Signer *s)
{
        json_auto_t *jwk = signer_public_jwk(s), *other_jwk = NULL;
        _cleanup_free_ char *other_path = test_path(dir, "authorities/VN_GOV_MOJ_consent-portal.jwk");
        _cleanup_free_ char *other_text = test_read_file(other_path, NULL);
        size_t n_jose = 0, n_openssl = 0, n_refused = 0;

        assert(other_text);
        other_jwk = json_loads(other_text, 0, NULL);
        assert(other_jwk);

        for (unsigned i = 0; i < 12; i++) {
                _cleanup_free_ char *jws = NULL, *payload = NULL, *expected = NULL, *forged = NULL, *flipped = NULL;
                json_auto_t *header = NULL;
                Receipt r = base;
                const char *d2;

                r.seq = (uint64_t)i * 1000003u;
                if (i % 3 == 1)
                        r.subject = r.purpose = r.basis = NULL; /* a statute exchange without subject */
                if (i % 3 == 2) {
                        r.basis = "statute";
                        r.purpose = "Mục đích \"quoted\" \\ / é"; /* escaping, UTF-8 */
                }
                if (i == 11)
                        r.seq = INT64_MAX;

                assert(receipt_sign(s, &r, &jws) == 0);

                /* header: alg, typ, kid in that order */
                header = header_of(jws);
                assert(header);
                assert(json_object_size(header) == 3);
                assert(streq(json_string_value(json_object_get(header, "alg")), "ES256"));
                assert(streq(json_string_value(json_object_get(header, "typ")), "xbus-receipt+jws"));
                assert(streq(json_string_value(json_object_get(header, "kid")), signer_kid(s)));
                assert(strneq(jws, "eyJhbGciOiJFUzI1NiIsInR5cCI6", strlen("eyJhbGciOiJFUzI1NiIsInR5cCI6")));

                /* payload: compact, fixed key order, absent fields omitted */
                payload = payload_of(jws);
                if (i % 3 == 1)
                        assert(asprintf(&expected,
                                        "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"xroad_id\":\"%s\",\"client\":\"%s\","
                                        "\"service\":\"%s\",\"request_hash\":\"%s\",\"response_hash\":\"%s\"}",
                                        r.seq, r.time, r.xroad_id, r.client, r.service, r.request_hash,
                                        r.response_hash) > 0);
                else
                        assert(asprintf(&expected,
                                        "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"xroad_id\":\"%s\",\"client\":\"%s\","
                                        "\"service\":\"%s\",\"request_hash\":\"%s\",\"response_hash\":\"%s\","
                                        "\"subject\":\"%s\",\"purpose\":\"%s\",\"basis\":\"%s\"}",
                                        r.seq, r.time, r.xroad_id, r.client, r.service, r.request_hash, r.response_hash,
                                        r.subject, i % 3 == 2 ? "Mục đích \\\"quoted\\\" \\\\ / é" : r.purpose,
                                        r.basis) > 0);
                if (!streq(payload, expected)) {
                        fprintf(stderr, "payload:  %s\nexpected: %s\n", payload, expected);
                        assert(false);
                }

                /* signature: 64 bytes r||s */
                d2 = strrchr(jws, '.');
                assert(strlen(d2 + 1) == 86);

                assert(verify_jose(jws, jwk));
                n_jose++;
                if (have_openssl) {
                        assert(verify_openssl(jws));
                        n_openssl++;
                }

                /* a modified payload fails both */
                r.client = "VN/GOV/HN-UBND/one-stop-shoq";
                _cleanup_free_ char *changed = NULL;
                assert(receipt_payload(&r, &changed) == 0);
                forged = with_payload(jws, changed);
                assert(!verify_jose(forged, jwk));
                if (have_openssl)
                        assert(!verify_openssl(forged));

                /* a flipped signature bit fails both */
                flipped = strdup(jws);
                assert(flipped);
                flipped[strlen(flipped) - 10] = flipped[strlen(flipped) - 10] == 'A' ? 'B' : 'A';
                assert(!verify_jose(flipped, jwk));
                if (have_openssl)
                        assert(!verify_openssl(flipped));

                /* another key does not verify it */
                assert(!verify_jose(jws, other_jwk));
                n_refused += 3;
        }
        printf("receipts: %zu verified by libjose, %zu by openssl; %zu forgeries refused\n", n_jose, n_openssl,
               n_refused);
}

static void test_receipt_refusals(const Signer *s)
{
        char *jws = NULL, *payload = NULL;
        char long_id[1100];
        Receipt r;

        r = base;
        r.seq = (uint64_t)INT64_MAX + 1;
        assert(receipt_sign(s, &r, &jws) == -EINVAL);

        const char **required[] = { &r.time, &r.xroad_id, &r.client, &r.service, &r.request_hash, &r.response_hash };
        for (size_t i = 0; i < ELEMENTSOF(required); i++) {
                r = base;
                *required[i] = NULL;
                assert(receipt_sign(s, &r, &jws) == -EINVAL);
                assert(receipt_payload(&r, &payload) == -EINVAL);
        }

        /* invalid UTF-8 cannot go into JSON */
        r = base;
        r.xroad_id = "abc\xff";
        assert(receipt_sign(s, &r, &jws) == -EINVAL);
        r = base;
        r.purpose = "\xc3";
        assert(receipt_sign(s, &r, &jws) == -EINVAL);

        /* fields are bounded */
        memset(long_id, 'a', sizeof(long_id) - 1);
        long_id[sizeof(long_id) - 1] = '\0';
        r = base;
        r.xroad_id = long_id;
        assert(receipt_sign(s, &r, &jws) == -EINVAL);
        long_id[1024] = '\0';
        assert(receipt_sign(s, &r, &jws) == 0);
        free(jws);
        jws = NULL;

        /* typ is not escaped, so it is checked */
        assert(signer_sign_compact(s, "a\"b", "{}", 2, &jws) == -EINVAL);
        assert(signer_sign_compact(s, "", "{}", 2, &jws) == -EINVAL);
        assert(signer_sign_compact(s, "a\\b", "{}", 2, &jws) == -EINVAL);
        assert(signer_sign_compact(s, "a\nb", "{}", 2, &jws) == -EINVAL);
        assert(signer_sign_compact(s, "0123456789012345678901234567890123456789012345678901234567890123456789", "{}", 2,
                                   &jws) == -EINVAL);
        assert(!jws);
        /* the empty payload is fine */
        assert(signer_sign_compact(s, "JWT", "", 0, &jws) == 0);
        assert(strstr(jws, "..") && !strchr(strstr(jws, "..") + 2, '.'));
        free(jws);
        printf("receipt refusals: ok\n");
}

static void test_load_refusals(void)
{
        _cleanup_free_ char *key = test_path(dir, "signing.key"), *copy = test_path(dir, "copy.key");
        _cleanup_free_ char *log_key = test_path(dir, "log.key"), *missing = test_path(dir, "missing.key");
        _cleanup_free_ char *p384 = test_path(dir, "p384.key"), *enc = test_path(dir, "enc.key");
        _cleanup_free_ char *pub_only = test_path(dir, "pub-only.key"), *garbage = test_path(dir, "garbage.key");
        _cleanup_free_ char *text = NULL, *big = NULL;
        Signer *s = NULL;
        size_t size;

        text = test_read_file(key, &size);
        assert(text);

        /* mode: any group or other bit refused */
        for (mode_t m = 1; m <= 077; m <<= 1) {
                test_write_file(copy, text, size, 0600 | m);
                assert(signer_load(&s, copy) == -EPERM);
        }
        test_write_file(copy, text, size, 0400);
        assert(signer_load(&s, copy) == 0);
        s = signer_free(s);

        assert(signer_load(&s, missing) == -ENOENT);
        assert(signer_load(&s, dir) == -EINVAL);
        /* Ed25519, not P-256 */
        assert(signer_load(&s, log_key) == -EINVAL);

        test_write_file(garbage, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 58, 0600);
        assert(signer_load(&s, garbage) == -EINVAL);
        test_write_file(garbage, "", 0, 0600);
        assert(signer_load(&s, garbage) == -EINVAL);
        /* a file far larger than any key */
        big = calloc(1, KIB(65));
        assert(big);
        memset(big, 'A', KIB(65));
        test_write_file(garbage, big, KIB(65), 0600);
        assert(signer_load(&s, garbage) == -EINVAL);

        if (have_openssl) {
                /* the wrong curve, an encrypted key (no prompt!), a public key */
                assert(test_run((char *const[]){ "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                                                 "ec_paramgen_curve:P-384", "-out", p384, NULL }) == 0);
                assert(chmod(p384, 0600) == 0);
                assert(signer_load(&s, p384) == -EINVAL);
                assert(test_run((char *const[]){ "openssl", "pkey", "-in", key, "-aes256", "-passout", "pass:secret",
                                                 "-out", enc, NULL }) == 0);
                assert(chmod(enc, 0600) == 0);
                assert(signer_load(&s, enc) == -EINVAL);
                test_write_file(pub_only, "", 0, 0600);
                text = mfree(text);
                text = test_read_file(pub_pem, &size);
                test_write_file(pub_only, text, size, 0600);
                assert(signer_load(&s, pub_only) == -EINVAL);
        }
        assert(!s);
        printf("load refusals: ok\n");
}

/* Leading zero bytes in r or s: the raw form must be left-padded (about 1 signature in 128). */
static void test_padding(const Signer *s)
{
        json_auto_t *jwk = signer_public_jwk(s);
        size_t n = 3000, padded = 0, checked_openssl = 0;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *jws = NULL;
                char payload[32];
                uint8_t raw[64];
                const char *d2;

                snprintf(payload, sizeof(payload), "{\"n\":%zu}", i);
                assert(signer_sign_compact(s, "JWT", payload, strlen(payload), &jws) == 0);
                d2 = strrchr(jws, '.');
                assert(b64url_decode(d2 + 1, strlen(d2 + 1), raw) == 64);
                /* every one verifies (an unpadded r would not show as raw[0] == 0) */
                assert(verify_jose(jws, jwk));
                if (raw[0] != 0 && raw[32] != 0)
                        continue;
                padded++;
                if (have_openssl && checked_openssl < 10) {
                        assert(verify_openssl(jws));
                        checked_openssl++;
                }
        }
        /* P(no leading zero in 6000 values) is about e^-23 */
        assert(padded > 0);
        printf("padding: %zu of %zu signatures had r or s with a leading zero byte; all verified (%zu by openssl)\n",
               padded, n, checked_openssl);
}

#define N_THREADS 4
#define N_PER_THREAD 500

static void *sign_worker(void *arg)
{
        const Signer *s = arg;
        json_auto_t *jwk = signer_public_jwk(s);

        for (size_t i = 0; i < N_PER_THREAD; i++) {
                _cleanup_free_ char *jws = NULL;
                Receipt r = base;

                r.seq = i;
                assert(receipt_sign(s, &r, &jws) == 0);
                if (i % 25 == 0)
                        assert(verify_jose(jws, jwk));
        }
        return NULL;
}

static void test_threads_and_speed(const Signer *s)
{
        pthread_t t[N_THREADS];
        size_t n = 5000;
        double t0, t1;

        t0 = test_now();
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *jws = NULL;
                Receipt r = base;

                r.seq = i;
                assert(receipt_sign(s, &r, &jws) == 0);
        }
        t1 = test_now();
        printf("speed: %.0f receipts/s on one thread (not an assertion)\n", (double)n / (t1 - t0));

        for (size_t i = 0; i < N_THREADS; i++)
                assert(pthread_create(&t[i], NULL, sign_worker, (void *)s) == 0);
        for (size_t i = 0; i < N_THREADS; i++)
                assert(pthread_join(t[i], NULL) == 0);
        printf("threads: %d x %d receipts signed with one Signer, samples verified\n", N_THREADS, N_PER_THREAD);
}

int main(void)
{
        _cleanup_(signer_freep) Signer *s = NULL;

        test_setup();
        test_load_and_jwk(&s);
        test_receipts(s);
        test_receipt_refusals(s);
        test_load_refusals();
        test_padding(s);
        test_threads_and_speed(s);

        test_rm_rf(dir);
        free(dir);
        free(pub_pem);
        return 0;
}
