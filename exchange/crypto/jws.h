/* jws.h: locked-down verification of consent artefacts (compact JWS, ES256)
 *
 * A consent authority is registered with its public key as a JWK (EC P-256).
 * It signs consent artefacts as compact JWS (RFC 7515) carried in an HTTP
 * header. This module verifies them and nothing else:
 *
 *   - the algorithm is fixed by the registered key: ES256, always. The
 *     header's "alg" must say exactly "ES256"; it never selects anything
 *     ("none", "HS256" with the public key as HMAC secret, "ES384", ... are
 *     refused with JWS_E_ALG before any cryptography runs);
 *   - the key is the registered one. A header that carries or points to a
 *     key ("jwk", "jku", "x5c", "x5u") is refused with JWS_E_EMBEDDED_KEY
 *     rather than ignored: the authority's signer never emits them, so their
 *     presence means a forged or misconfigured artefact, and refusing keeps
 *     the accepted header shape narrow. "kid", "x5t", "x5t#S256" and "typ"
 *     are hints only and are returned to the caller untouched;
 *   - "crit" (RFC 7515 section 4.1.11): no extension is understood, so any
 *     "crit" is refused with JWS_E_CRIT (a malformed or empty one as well).
 *     "b64" (RFC 7797 unencoded payload) other than true is refused the same
 *     way;
 *   - strict syntax: exactly three base64url parts, no padding, no white
 *     space, no non-canonical trailing bits, a protected header that is a
 *     JSON object without duplicate names, a signature of exactly 64 bytes
 *     (r||s, RFC 7518 section 3.4; DER is refused), at most JWS_COMPACT_MAX
 *     bytes in all.
 *
 * The signature itself is checked by libjose (jose_jws_ver() with the
 * registered JWK, its "alg" forced to ES256), and in addition by
 * jws_es256_verify_raw() over the same signing input with the key imported
 * once: both must accept. The second check is the one measured on the
 * Wycheproof ECDSA P-1363 vectors, so those vectors bound what the compact
 * path can accept. (The pre-checks are needed, not decoration: libjose 11
 * accepts a header "alg":"ES384" signed with the P-256 key even when the JWK
 * says "alg":"ES256"; test-jws.c keeps an artefact that shows it.)
 *
 * Threads: a JwsVerifier is immutable after jws_verifier_new(); any number
 * of threads may verify with the same one at the same time.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/types.h>

#include "util/macro.h"

/* Limit on a whole compact JWS (header, payload, signature and dots). */
#define JWS_COMPACT_MAX (16U * 1024U)
/* ES256 signature: r||s, 32 bytes each. */
#define JWS_ES256_SIG_LEN 64
/* A key id: the RFC 7638 thumbprint of the key, base64url of SHA-256 (43 characters). */
#define JWS_KID_LEN 43

/* Refusals: positive codes, stable; jws_strerror() gives a short reason. */
enum {
        JWS_E_MALFORMED = 1, /* not three strict base64url parts, header not a JSON object, ... */
        JWS_E_TOO_LARGE,     /* more than JWS_COMPACT_MAX bytes */
        JWS_E_ALG,           /* header "alg" missing or not "ES256" */
        JWS_E_CRIT,          /* "crit" present (no extension is understood), or "b64" != true */
        JWS_E_EMBEDDED_KEY,  /* header carries or points to a key: jwk, jku, x5c, x5u */
        JWS_E_SIGNATURE,     /* signature not 64 bytes, r/s out of range, or does not verify */
        JWS_E_PAYLOAD,       /* verified, but the payload is not a JSON object */
        JWS_E_KEY,           /* jws_verifier_new(): the JWK is not a usable P-256 verification key */
        _JWS_E_MAX,
};

typedef struct JwsVerifier JwsVerifier;

/*
 * jws_verifier_new(): a verifier for one registered key. `jwk` must be an
 * EC P-256 JWK: "kty":"EC", "crv":"P-256", "x" and "y" of 32 bytes each
 * (strict base64url) forming a point on the curve. If present, "alg" must be
 * "ES256", "use" must be "sig" and "key_ops" must be an array of strings
 * containing "verify". A private JWK is accepted but only its public part
 * is kept ("d" and every other member are dropped). `jwk` is not retained.
 * Return: 0 with *ret (free with jws_verifier_free()), JWS_E_KEY for a key
 * that is refused, -EINVAL for NULL arguments, -ENOMEM.
 */
int jws_verifier_new(JwsVerifier **ret, const json_t *jwk);
/*
 * jws_verifier_from_pkey(): the same from an OpenSSL key (a P-256 public
 * key, as read from a PEM SubjectPublicKeyInfo; a private key's public part
 * is taken). `pkey` is not retained. Return: as jws_verifier_new().
 */
int jws_verifier_from_pkey(JwsVerifier **ret, EVP_PKEY *pkey);
JwsVerifier *jws_verifier_free(JwsVerifier *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(JwsVerifier *, jws_verifier_free);

/*
 * jws_verifier_jwk(): the public JWK the verifier uses
 * {"kty":"EC","crv":"P-256","x","y","alg":"ES256"} (no "d", no "kid").
 * Borrowed: valid as long as `v`; do not modify.
 */
const json_t *jws_verifier_jwk(const JwsVerifier *v);

/* jws_verifier_kid(): the key's id, its RFC 7638 thumbprint (JWS_KID_LEN characters). Owned by `v`. */
const char *jws_verifier_kid(const JwsVerifier *v);

/*
 * jws_p256_thumbprint(): the RFC 7638 thumbprint of the P-256 key whose
 * coordinates are `x` and `y` (base64url, as in its JWK), base64url-encoded
 * into `ret` (JWS_KID_LEN characters and a NUL). What signer_kid() and
 * jws_verifier_kid() say, so a "kid" names the same key on both sides.
 */
void jws_p256_thumbprint(const char *x, const char *y, char ret[JWS_KID_LEN + 1]);

/*
 * jws_verify_compact(): verify a compact JWS (`len` bytes at `compact`, no
 * NUL needed; surrounding white space is not trimmed and is refused) with
 * the rules above, then parse the payload, which must be a JSON object
 * (duplicate names refused).
 * On success and when non-NULL, *ret_header gets the protected header and
 * *ret_payload the payload (new references, caller json_decref()s them);
 * they are left untouched on any refusal or error.
 * Return: 0; JWS_E_* (refused); -EINVAL (NULL verifier); -ENOMEM.
 */
int jws_verify_compact(const JwsVerifier *v, const char *compact, size_t len, json_t **ret_header,
                       json_t **ret_payload);

/*
 * jws_verify_compact_once(): as jws_verify_compact(), with the same checks
 * of the syntax and the header, but the signature verified once, by
 * jws_es256_verify_raw() (the check the Wycheproof vectors bound) and not
 * by libjose too, which imports the JWK again on every call. For what nodes
 * of a federation sign for each other on every exchange (forward envelopes,
 * receipts: exchange/federation), where libjose's second opinion would
 * double the cost of an exchange.
 * Return: as jws_verify_compact().
 */
int jws_verify_compact_once(const JwsVerifier *v, const char *compact, size_t len, json_t **ret_header,
                            json_t **ret_payload);
/*
 * jws_verify_compact_bytes(): as jws_verify_compact(), but the payload is
 * returned as raw bytes (any content, JWS_E_PAYLOAD never returned), for
 * callers whose payload is not JSON (and the Wycheproof runner).
 * *ret_payload is malloc'd and NUL-terminated (the NUL is not counted in
 * *ret_payload_size); the caller free()s it. Outputs untouched on failure.
 * Return: as jws_verify_compact().
 */
int jws_verify_compact_bytes(const JwsVerifier *v, const char *compact, size_t len, json_t **ret_header,
                             uint8_t **ret_payload, size_t *ret_payload_size);

/*
 * jws_verify_compact_limit(): as jws_verify_compact_bytes(), with `max`
 * bytes instead of JWS_COMPACT_MAX as the limit on the whole JWS (signed
 * registry snapshots carry megabytes, registry/registry-snapshot.h).
 * Return: as jws_verify_compact_bytes().
 */
int jws_verify_compact_limit(const JwsVerifier *v, const char *compact, size_t len, size_t max, json_t **ret_header,
                             uint8_t **ret_payload, size_t *ret_payload_size);

/*
 * jws_es256_verify_raw(): ECDSA P-256/SHA-256 verification of `sig`
 * (IEEE P1363 r||s, exactly 64 bytes, 1 <= r,s < n; high s accepted, as
 * ECDSA and RFC 7518 allow) over `msg` with the verifier's key. This is the
 * low-level check the compact path also runs.
 * Return: 0 (valid), JWS_E_SIGNATURE, -EINVAL (NULL verifier), -ENOMEM.
 */
int jws_es256_verify_raw(const JwsVerifier *v, const uint8_t *msg, size_t msg_size, const uint8_t *sig,
                         size_t sig_size);

/*
 * jws_strerror(): short static reason for a JWS_E_* code ("alg not ES256",
 * ...); for a negative errno its description; never NULL.
 */
const char *jws_strerror(int code);
