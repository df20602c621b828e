/* pseudonym.h: keyed HMAC-SHA256 pseudonyms of personal identifiers
 *
 * The exchange log never holds a raw personal id: it holds
 * hex(HMAC-SHA256(pseudonym key, id)), so the key holder (the bus) can
 * search the log by person while a leaked log reveals no ids.
 */
#pragma once

#include <stddef.h>

#include "util/macro.h"

#define PSEUDONYM_HEX_LEN 64

typedef struct PseudonymKey PseudonymKey;

/*
 * pseudonym_key_load(): read a key file (32 random bytes, hex or raw, mode 0600).
 * pseudonym_key_new(): from key bytes in memory (tests).
 * Return: 0, -errno, or -EINVAL for a malformed key.
 */
int pseudonym_key_load(PseudonymKey **ret, const char *path);
int pseudonym_key_new(PseudonymKey **ret, const void *key, size_t size);
PseudonymKey *pseudonym_key_free(PseudonymKey *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(PseudonymKey *, pseudonym_key_free);

/*
 * pseudonym_compute(): hex HMAC of `id` into out (PSEUDONYM_HEX_LEN+1 bytes).
 * Thread-safe; a PseudonymKey may be shared by threads.
 * Return: 0 or -ENOMEM.
 */
int pseudonym_compute(const PseudonymKey *k, const char *id, size_t size, char *out);
