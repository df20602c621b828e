/* keyfile.h: read key files (PEM, and ZeroMQ CURVE keys in Z85), refusing private ones that group or others may access
 *
 * The signing keys (receipts, checkpoints) and the pseudonym key are read
 * once at start from files the operator made. A private key file must be a
 * regular file with no permission bits for group or others (-EPERM
 * otherwise), like ssh does for its keys; every file is bounded in size.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

/* A PEM key is a few hundred bytes; refuse to read anything huge. */
#define KEYFILE_PEM_MAX (64U * 1024)

/*
 * keyfile_read(): read the regular file `path`, at most `max` bytes, into
 * `buf` (the caller's, of max + 1 bytes; it wipes it after use). With
 * `private`, refuse a file whose mode gives group or others any access.
 * Return: 0 with *ret_size, -EINVAL when not a regular file or larger than
 * `max`, -EPERM for such a private file, or -errno from open/fstat/read.
 */
int keyfile_read(const char *path, bool private, void *buf, size_t max, size_t *ret_size);

/* keyfile_no_password(): a PEM password callback that refuses: never prompt on a terminal for a passphrase. */
int keyfile_no_password(char *buf, int size, int rwflag, void *userdata);

/*
 * keyfile_pem_load(): a private key (PKCS#8 or traditional PEM) or, without
 * `private`, a public key (SubjectPublicKeyInfo PEM) from `path`, read with
 * keyfile_read() (at most KEYFILE_PEM_MAX bytes). An encrypted PEM is
 * refused, never prompted for. The read bytes are wiped. On success *ret is
 * the caller's (EVP_PKEY_free()). Return: 0, -EINVAL when the file holds no
 * such key, -ENOMEM, or keyfile_read()'s errors.
 */
int keyfile_pem_load(const char *path, bool private, EVP_PKEY **ret);

/* A ZeroMQ CURVE key (32 bytes) as Z85 text: the adapters' keys and the node's adapter endpoint key. */
#define KEYFILE_CURVE_LEN 40

/* keyfile_curve_valid(): whether `s` is exactly KEYFILE_CURVE_LEN Z85 characters that decode. */
bool keyfile_curve_valid(const char *s);

/*
 * keyfile_curve_load(): the CURVE key at the start of `path` (exactly 40
 * Z85 characters after any white space; the rest is ignored), read with
 * keyfile_read() (at most 255 bytes; `private` as there). The bytes read
 * are wiped. Return: 0 with `ret` set, -EINVAL when the file holds no such
 * key, or keyfile_read()'s errors.
 */
int keyfile_curve_load(const char *path, bool private, char ret[KEYFILE_CURVE_LEN + 1]);
