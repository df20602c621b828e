/* wycheproof.c: the consent-artefact verifier (crypto/jws) measured on Wycheproof
 *
 * Three files of ../shared/conformance/wycheproof (XBUS_CONFORMANCE_DIR
 * overrides the parent folder):
 *
 *   json_web_signature_test.json   JWS verification with a given key (JWK).
 *       Each case goes through what the bus does with a consent artefact:
 *       jws_verifier_new() with the group's key ("public", else "private"),
 *       then jws_verify_compact_bytes() (the payload "foo" of these vectors
 *       is not JSON, so the byte API is used; the JSON-object rule is
 *       covered by test-jws.c). A key we refuse to import is a refusal.
 *   json_web_key_test.json         key sets: a case is accepted when some key
 *       of the set imports and verifies it (the registry holds one key per
 *       authority; there is no key-set logic to test beyond that).
 *   ecdsa_secp256r1_sha256_p1363_test.json  raw message + r||s signature:
 *       jws_es256_verify_raw() with the group's key (publicKeyJwk, or the
 *       uncompressed point when the file gives no JWK), the check the
 *       compact path also runs.
 *
 * Verdicts: "valid" must be accepted, "invalid" refused, "acceptable" either
 * way (counted as passed, and reported). A "valid" case whose header alg is
 * not ES256 (HS256, RS256, PS256, ES512, ...) does not apply to a verifier
 * that only knows ES256: counted as not applicable. Its "invalid" cases
 * still apply (they must be refused, and are). Most of those come with an
 * RSA or HMAC key that import already refuses, so each "invalid" case whose
 * header alg is not ES256 is also run against a reference ES256 verifier
 * (a good P-256 key) and must be refused there as well: such a vector is
 * never "passed" by the key alone.
 *
 * Output: "wycheproof <file>: N passed, M failed, K not applicable" per file,
 * the verdicts behind the passes, and every failure. Exit 0, 1 on any
 * failure, 77 when the data is missing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <jose/jose.h>

#include "crypto/hash.h"
#include "crypto/jws.h"
#include "util/macro.h"
#include "xbus-config.h"

#define EXIT_SKIP 77

static const char *const FILE_JWS = "json_web_signature_test.json";
static const char *const FILE_JWK = "json_web_key_test.json";
static const char *const FILE_ECDSA = "ecdsa_secp256r1_sha256_p1363_test.json";

/* The reference ES256 verifier: Wycheproof's own "kid-ec-sign" public key. */
static const char reference_jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                                    "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                                    "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\"}";

typedef struct Stats {
        const char *file;
        unsigned passed, failed, not_applicable, acceptable;
        unsigned verdicts[_JWS_E_MAX]; /* of the passed cases: 0 accepted, else the refusal */
        unsigned reference;            /* non-ES256 invalid cases also refused by the reference verifier */
} Stats;

static JwsVerifier *reference;

typedef enum Expect { EXPECT_VALID, EXPECT_INVALID, EXPECT_ACCEPTABLE, EXPECT_UNKNOWN } Expect;

static Expect expect_of(const json_t *t)
{
        const char *r = json_string_value(json_object_get(t, "result"));

        if (!r)
                return EXPECT_UNKNOWN;
        if (streq(r, "valid"))
                return EXPECT_VALID;
        if (streq(r, "invalid"))
                return EXPECT_INVALID;
        if (streq(r, "acceptable"))
                return EXPECT_ACCEPTABLE;
        return EXPECT_UNKNOWN;
}

static const char *expect_name(Expect e)
{
        return e == EXPECT_VALID        ? "valid"
               : e == EXPECT_INVALID    ? "invalid"
               : e == EXPECT_ACCEPTABLE ? "acceptable"
                                        : "?";
}

static void fail(Stats *st, const json_t *t, const char *fmt, const char *detail)
{
        st->failed++;
        printf("  FAIL %s tcId %lld (%s): ", st->file, (long long)json_integer_value(json_object_get(t, "tcId")),
               strempty(json_string_value(json_object_get(t, "comment"))));
        printf(fmt, detail);
        printf("\n");
}

/* Record the verdict `code` (0 accepted, >0 refused, <0 error) for case t. */
static void record(Stats *st, const json_t *t, int code)
{
        Expect e = expect_of(t);
        char detail[160];

        if (code < 0) {
                snprintf(detail, sizeof(detail), "%s", jws_strerror(code));
                fail(st, t, "error: %s", detail);
                return;
        }
        snprintf(detail, sizeof(detail), "expected %s, got %s%s%s", expect_name(e),
                 code == 0 ? "accepted" : "refused (", code == 0 ? "" : jws_strerror(code), code == 0 ? "" : ")");
        switch (e) {
        case EXPECT_VALID:
                if (code != 0) {
                        fail(st, t, "%s", detail);
                        return;
                }
                break;
        case EXPECT_INVALID:
                if (code == 0) {
                        fail(st, t, "%s", detail);
                        return;
                }
                break;
        case EXPECT_ACCEPTABLE:
                st->acceptable++;
                printf("  note %s tcId %lld: acceptable, %s\n", st->file,
                       (long long)json_integer_value(json_object_get(t, "tcId")), code == 0 ? "accepted" : "refused");
                break;
        default:
                fail(st, t, "%s", "unknown expected result");
                return;
        }
        st->passed++;
        if (code < _JWS_E_MAX)
                st->verdicts[code]++;
}

static void report(const Stats *st)
{
        static const char *const names[_JWS_E_MAX] = {
                [0] = "accepted",
                [JWS_E_MALFORMED] = "malformed",
                [JWS_E_TOO_LARGE] = "too large",
                [JWS_E_ALG] = "alg",
                [JWS_E_CRIT] = "crit",
                [JWS_E_EMBEDDED_KEY] = "embedded key",
                [JWS_E_SIGNATURE] = "signature",
                [JWS_E_PAYLOAD] = "payload",
                [JWS_E_KEY] = "key refused at import",
        };

        printf("wycheproof %s: %u passed, %u failed, %u not applicable", st->file, st->passed, st->failed,
               st->not_applicable);
        if (st->acceptable)
                printf(" (%u acceptable)", st->acceptable);
        printf("\n  verdicts of the passed cases:");
        for (int i = 0; i < _JWS_E_MAX; i++)
                if (st->verdicts[i])
                        printf(" %s %u;", names[i], st->verdicts[i]);
        if (st->reference)
                printf(" (and %u invalid non-ES256 cases also refused by the reference ES256 key)", st->reference);
        printf("\n");
}

/* The "alg" of a compact JWS's header, if it decodes; into buf. */
static const char *header_alg(const char *jws, char *buf, size_t size)
{
        const char *dot = strchr(jws, '.');
        _cleanup_free_ uint8_t *raw = NULL;
        json_auto_t *h = NULL;
        const char *alg;
        long n;

        if (!dot)
                return NULL;
        raw = malloc((size_t)(dot - jws) + 4);
        if (!raw)
                return NULL;
        n = b64url_decode(jws, (size_t)(dot - jws), raw);
        if (n < 0)
                return NULL;
        h = json_loadb((const char *)raw, (size_t)n, 0, NULL);
        alg = json_string_value(json_object_get(h, "alg"));
        if (!alg)
                return NULL;
        snprintf(buf, size, "%s", alg);
        return buf;
}

/* The case's JWS as the text an attacker would put in the header. */
static char *jws_text(const json_t *t)
{
        const json_t *j = json_object_get(t, "jws");

        if (json_is_string(j))
                return strdup(json_string_value(j));
        return json_dumps(j, JSON_COMPACT);
}

/* Verdict of one key on one JWS: 0, JWS_E_* or -errno. */
static int decide_one(const json_t *jwk, const char *jws)
{
        _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL;
        int r;

        r = jws_verifier_new(&v, jwk);
        if (r != 0)
                return r;
        return jws_verify_compact_bytes(v, jws, strlen(jws), NULL, NULL, NULL);
}

/* Shared by the JWS and JWK files: keys is one JWK or an array of them. */
static void run_case(Stats *st, const json_t *keys, const json_t *t)
{
        _cleanup_free_ char *jws = jws_text(t);
        char algbuf[64];
        const char *alg;
        int code = JWS_E_KEY;

        if (!jws) {
                record(st, t, -ENOMEM);
                return;
        }
        alg = header_alg(jws, algbuf, sizeof(algbuf));
        if (expect_of(t) == EXPECT_VALID && !(alg && streq(alg, "ES256"))) {
                st->not_applicable++;
                return;
        }

        if (json_is_array(keys)) {
                const json_t *k;
                size_t i;

                /* Accepted when any key of the set accepts; otherwise the most telling refusal. */
                json_array_foreach(keys, i, k) {
                        int r = decide_one(k, jws);

                        if (r <= 0 || code == JWS_E_KEY) {
                                code = r;
                                if (r <= 0)
                                        break;
                        }
                }
        } else {
                code = decide_one(keys, jws);
        }

        /* Not an ES256 artefact: any ES256 verifier must refuse it, whatever key it holds. */
        if (expect_of(t) == EXPECT_INVALID && !(alg && streq(alg, "ES256"))) {
                int r = jws_verify_compact_bytes(reference, jws, strlen(jws), NULL, NULL, NULL);

                if (r == 0) {
                        fail(st, t, "%s", "accepted by the reference ES256 verifier");
                        return;
                }
                st->reference++;
        }
        record(st, t, code);
}

static json_t *load(const char *dir, const char *name)
{
        _cleanup_free_ char *path = NULL;
        json_error_t err;
        json_t *j;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return NULL;
        j = json_load_file(path, 0, &err);
        if (!j)
                fprintf(stderr, "%s:%d: %s\n", path, err.line, err.text);
        return j;
}

static int run_jws_file(const char *dir, Stats *st)
{
        json_auto_t *root = load(dir, FILE_JWS);
        const json_t *g, *t;
        size_t i, j;

        if (!root)
                return -EINVAL;
        json_array_foreach(json_object_get(root, "testGroups"), i, g) {
                const json_t *key = json_object_get(g, "public");

                if (!key)
                        key = json_object_get(g, "private");
                json_array_foreach(json_object_get(g, "tests"), j, t)
                        run_case(st, key, t);
        }
        return 0;
}

static int run_jwk_file(const char *dir, Stats *st)
{
        json_auto_t *root = load(dir, FILE_JWK);
        const json_t *g, *t;
        size_t i, j;

        if (!root)
                return -EINVAL;
        json_array_foreach(json_object_get(root, "testGroups"), i, g) {
                const json_t *set = json_object_get(g, "public");

                if (!set)
                        set = json_object_get(g, "private");
                json_array_foreach(json_object_get(g, "tests"), j, t)
                        run_case(st, json_object_get(set, "keys"), t);
        }
        return 0;
}

static long hex_bytes(const char *hex, uint8_t **ret)
{
        size_t n = hex ? strlen(hex) : 0;
        uint8_t *buf;

        if (!hex || n % 2)
                return -EINVAL;
        buf = malloc(n / 2 + 1);
        if (!buf)
                return -ENOMEM;
        if (n > 0 && hex_decode(hex, buf, n / 2) < 0) {
                free(buf);
                return -EINVAL;
        }
        *ret = buf;
        return (long)(n / 2);
}

/* The group's key as a JWK: publicKeyJwk, else built from the uncompressed point. */
static json_t *ecdsa_group_jwk(const json_t *g)
{
        const json_t *jwk = json_object_get(g, "publicKeyJwk");
        _cleanup_free_ uint8_t *pt = NULL;
        long n;

        if (jwk)
                return json_deep_copy(jwk);
        n = hex_bytes(json_string_value(json_object_get(json_object_get(g, "publicKey"), "uncompressed")), &pt);
        if (n != 65 || pt[0] != 0x04)
                return NULL;
        return json_pack("{s:s, s:s, s:o, s:o}", "kty", "EC", "crv", "P-256", "x", jose_b64_enc(pt + 1, 32), "y",
                         jose_b64_enc(pt + 33, 32));
}

static int run_ecdsa_file(const char *dir, Stats *st)
{
        json_auto_t *root = load(dir, FILE_ECDSA);
        const json_t *g, *t;
        size_t i, j;

        if (!root)
                return -EINVAL;
        json_array_foreach(json_object_get(root, "testGroups"), i, g) {
                _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL;
                json_auto_t *jwk = ecdsa_group_jwk(g);
                int kr;

                if (!jwk) {
                        fprintf(stderr, "%s: group %zu: no usable public key in the file\n", st->file, i);
                        return -EINVAL;
                }
                kr = jws_verifier_new(&v, jwk);
                json_array_foreach(json_object_get(g, "tests"), j, t) {
                        _cleanup_free_ uint8_t *msg = NULL, *sig = NULL;
                        long nm, ns;

                        if (kr != 0) {
                                record(st, t, kr);
                                continue;
                        }
                        nm = hex_bytes(json_string_value(json_object_get(t, "msg")), &msg);
                        ns = hex_bytes(json_string_value(json_object_get(t, "sig")), &sig);
                        if (nm < 0 || ns < 0) {
                                record(st, t, -EINVAL);
                                continue;
                        }
                        record(st, t, jws_es256_verify_raw(v, msg, (size_t)nm, sig, (size_t)ns));
                }
        }
        return 0;
}

int main(void)
{
        const char *parent = getenv("XBUS_CONFORMANCE_DIR");
        _cleanup_free_ char *dir = NULL, *fallback = NULL;
        const char *files[] = { FILE_JWS, FILE_JWK, FILE_ECDSA };
        Stats st[3] = { { .file = FILE_JWS }, { .file = FILE_JWK }, { .file = FILE_ECDSA } };
        json_auto_t *ref = NULL;
        unsigned failed = 0;
        int r;

        if (isempty(parent)) {
                if (asprintf(&fallback, "%s/../shared/conformance", XBUS_SOURCE_ROOT) < 0)
                        return EXIT_FAILURE;
                parent = fallback;
        }
        if (asprintf(&dir, "%s/wycheproof", parent) < 0)
                return EXIT_FAILURE;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = NULL;
                struct stat s;

                if (asprintf(&path, "%s/%s", dir, files[i]) < 0)
                        return EXIT_FAILURE;
                if (stat(path, &s) < 0) {
                        printf("wycheproof: %s missing (set XBUS_CONFORMANCE_DIR to the folder holding "
                               "wycheproof/), skipping\n",
                               path);
                        return EXIT_SKIP;
                }
        }

        ref = json_loads(reference_jwk, 0, NULL);
        if (!ref || jws_verifier_new(&reference, ref) != 0) {
                fprintf(stderr, "wycheproof: reference key refused\n");
                return EXIT_FAILURE;
        }

        r = run_jws_file(dir, &st[0]);
        if (r == 0)
                r = run_jwk_file(dir, &st[1]);
        if (r == 0)
                r = run_ecdsa_file(dir, &st[2]);
        for (size_t i = 0; i < ELEMENTSOF(st); i++) {
                report(&st[i]);
                failed += st[i].failed;
        }
        reference = jws_verifier_free(reference);
        if (r < 0) {
                fprintf(stderr, "wycheproof: could not read the vectors: %s\n", jws_strerror(r));
                return EXIT_FAILURE;
        }
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
