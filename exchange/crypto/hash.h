/* hash.h: SHA-256, SHA-512, base64url and base64 helpers (OpenSSL underneath) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h" /* hex_encode(), hex_decode(): digests are shown in hex */

#define HASH_SHA256_LEN 32
#define HASH_SHA256_HEX_LEN 64
#define HASH_SHA512_LEN 64
#define HASH_SHA512_B64_LEN 88 /* padded base64 of a SHA-512 digest */

/*
 * hash_sha256(): SHA-256 of `data` (NULL is fine when size is 0). Thread-safe;
 * nothing for the caller to free. OpenSSL allocates a small context inside:
 * if even that fails the process aborts, since there is no error return and
 * a wrong digest would silently corrupt receipts and the log.
 */
void hash_sha256(const void *data, size_t size, uint8_t out[HASH_SHA256_LEN]);
/* hash_sha256_hex(): the same digest as lower-case hex (HASH_SHA256_HEX_LEN + 1 bytes with the NUL). */
void hash_sha256_hex(const void *data, size_t size, char *out);
/* hash_sha512(): SHA-512 of `data`, as hash_sha256() (X-Road's request hash, PR-REST 1.0.4 §4.3). */
void hash_sha512(const void *data, size_t size, uint8_t out[HASH_SHA512_LEN]);
/* hash_sha512_b64(): the same digest in base64 (HASH_SHA512_B64_LEN chars and a NUL): SOAP's requestHash. */
void hash_sha512_b64(const void *data, size_t size, char out[HASH_SHA512_B64_LEN + 1]);

/* base64url without padding (RFC 4648 section 5). */
static inline size_t b64url_encoded_len(size_t size)
{
        return (size * 4 + 2) / 3;
}
/* b64url_encode(): writes b64url_encoded_len(size) chars plus a NUL. Return: chars written. */
size_t b64url_encode(const void *in, size_t size, char *out);
/*
 * b64url_decode(): decode `len` chars (no padding, no white space accepted).
 * `out` must hold len*3/4 bytes. Return: bytes written, or -EINVAL.
 */
long b64url_decode(const char *in, size_t len, uint8_t *out);

/* base64, standard alphabet, padded, strict: one encoding per value (RFC 4648 section 4). */
static inline size_t b64_encoded_len(size_t size)
{
        return (size + 2) / 3 * 4;
}
/* b64_encode(): writes b64_encoded_len(size) chars plus a NUL. */
void b64_encode(const void *in, size_t size, char *out);
/*
 * b64_decode(): decode exactly `len` chars into at most `max` bytes of `out`.
 * Refuses empty input, anything but the alphabet (no white space), padding
 * other than at the end, and non-zero unused bits.
 * Return: bytes written, or -EINVAL.
 */
long b64_decode(const char *in, size_t len, uint8_t *out, size_t max);
