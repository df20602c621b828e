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
#include <openssl/types.h>

#include "util/macro.h"

typedef struct Signer Signer;

/*
 * signer_load(): load an EC P-256 private key from a PEM file (must not be
 * readable by group or others: refused with -EPERM otherwise).
 * Return: 0, -errno, -EINVAL (not a P-256 key), -EPERM (mode too open).
 */
int signer_load(Signer **ret, const char *pem_path);
/*
 * signer_new(): a Signer over an EC P-256 private key already in memory (the
 * PKI generator uses it for signing.jwk). Takes its own reference to `pkey`.
 * Return: 0, -ENOMEM, -EINVAL (not a P-256 private key).
 */
int signer_new(Signer **ret, EVP_PKEY *pkey);
Signer *signer_free(Signer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Signer *, signer_free);

/* signer_kid(): the key id, the RFC 7638 JWK thumbprint (base64url). Owned by the Signer. */
const char *signer_kid(const Signer *s);

/*
 * signer_public_jwk(): the public key as a new JWK object
 * {"kty":"EC","crv":"P-256","x","y","kid","alg":"ES256","use":"sig"}; the
 * caller owns it (json_decref) and may modify it. Return: NULL on ENOMEM.
 */
json_t *signer_public_jwk(const Signer *s);

/*
 * signer_sign_compact(): compact JWS over `payload` with protected header
 * {"alg":"ES256","typ":<typ>,"kid":<kid>}; the signature is r||s (64 bytes).
 * `typ` is 1..64 chars of [A-Za-z0-9+-._/] (it is not escaped).
 * Thread-safe (a Signer may be shared by threads).
 * Return: 0 with *ret (malloc'd, NUL-terminated), or -ENOMEM / -EIO /
 * -EINVAL (bad typ).
 */
int signer_sign_compact(const Signer *s, const char *typ, const void *payload, size_t size, char **ret);
