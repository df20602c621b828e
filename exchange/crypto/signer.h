/* signer.h: ES256 compact JWS signing with a key loaded once per process
 *
 * libjose re-imports the JWK on every call (6.2k signatures/s here, against
 * 31.6k/s for a loaded OpenSSL key), so hot-path receipts are signed here
 * with a cached EVP_PKEY, and tests verify them with libjose and with the
 * openssl command.
 */
#pragma once

#include <stddef.h>

#include <jansson.h>

typedef struct Signer Signer;

/*
 * signer_load(): load an EC P-256 private key from a PEM file (must not be
 * readable by group or others: refused with -EPERM otherwise).
 * Return: 0, -errno, -EINVAL (not a P-256 key), -EPERM (mode too open).
 */
int signer_load(Signer **ret, const char *pem_path);
Signer *signer_free(Signer *s);

/* signer_kid(): the key id, the RFC 7638 JWK thumbprint (base64url). Owned by the Signer. */
const char *signer_kid(const Signer *s);

/* signer_public_jwk(): a new reference to the public key as a JWK {"kty":"EC","crv":"P-256",...,"kid"}. */
json_t *signer_public_jwk(const Signer *s);

/*
 * signer_sign_compact(): compact JWS over `payload` with protected header
 * {"alg":"ES256","typ":<typ>,"kid":<kid>}; the signature is r||s (64 bytes).
 * Thread-safe (a Signer may be shared by threads).
 * Return: 0 with *ret (malloc'd, NUL-terminated), or -ENOMEM / -EIO.
 */
int signer_sign_compact(const Signer *s, const char *typ, const void *payload, size_t size, char **ret);
