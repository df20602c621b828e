/* batch-receipt.h: the signed tree head of a group commit and the receipt that proves an entry is under it
 *
 * Issue 14, lever 3: one ES256 signature per group commit instead of one per
 * exchange. After a batch's durable sync the log writer signs one tree head,
 * a compact JWS with the node's receipt key:
 *
 *   header  {"alg":"ES256","typ":"xbus-tree-head+jws","kid":<RFC 7638 thumbprint>}
 *   payload {"origin":<the log's checkpoint origin>,"size":N,"root":<base64 of
 *            the RFC 9162 root of the first N entries>,"time":<RFC 3339 UTC>}
 *
 * and each exchange of the batch gets a receipt of three parts joined by '~'
 * (a character neither a compact JWS nor base64url ever holds, so a verifier
 * tells this form from the older one-JWS receipt by it alone):
 *
 *   <head JWS>~<base64url(the entry's stored bytes)>~<base64url(its inclusion path)>
 *
 * The entry is the log's leaf itself ({"v":1,"seq":...}, exlog-entry.h),
 * the path the RFC 9162 2.1.3.1 path of leaf `seq` in the tree of the head's
 * size, 32 bytes a hash, lowest first (empty for a tree of one entry).
 * Standard tools verify it: the head with any JWS library; the leaf hash
 * SHA-256(0x00 || entry); the path walked per RFC 9162 2.1.3.2 with the
 * entry's `seq` as index and the head's `size`, ending at the head's `root`
 * (tests/integration/batch_receipt.py does it without this code).
 *
 * Errors: 0; a negative errno; a positive BATCH_RECEIPT_E_* for a receipt
 * or head that is refused.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/jws.h"
#include "crypto/signer.h"
#include "log/checkpoint.h"
#include "log/merkle.h"
#include "util/macro.h"
#include "util/time-util.h"

#define BATCH_RECEIPT_HEAD_TYP "xbus-tree-head+jws"
/* Limit on a whole receipt: a head, an entry of up to 64 KiB and a path of 64 hashes, in base64url. */
#define BATCH_RECEIPT_MAX (JWS_COMPACT_MAX + KIB(96))
#define BATCH_RECEIPT_ENTRY_MAX KIB(64)

enum {
        BATCH_RECEIPT_E_MALFORMED = 1, /* not three '~' parts, bad base64url, a path not of whole hashes or too long */
        BATCH_RECEIPT_E_TOO_LARGE,     /* more than BATCH_RECEIPT_MAX bytes, or an entry over BATCH_RECEIPT_ENTRY_MAX */
        BATCH_RECEIPT_E_SIGNATURE,     /* the head JWS is refused (jws.h: alg, key, signature, syntax) */
        BATCH_RECEIPT_E_HEAD,          /* the head's typ is not BATCH_RECEIPT_HEAD_TYP, or its payload not a head */
        BATCH_RECEIPT_E_ORIGIN,        /* the head names another log than the one expected */
        BATCH_RECEIPT_E_ENTRY,         /* the entry is not a JSON object with an integer seq below the head's size */
        BATCH_RECEIPT_E_INCLUSION,     /* the path does not lead from the entry to the head's root */
        _BATCH_RECEIPT_E_MAX,
};

/* batch_receipt_strerror(): a static reason for a BATCH_RECEIPT_E_* code, a negative errno's text otherwise. */
const char *batch_receipt_strerror(int code);

/* A tree head, as signed. */
typedef struct BatchHead {
        char origin[CHECKPOINT_NAME_MAX + 1];
        uint64_t size; /* at most INT64_MAX */
        uint8_t root[MERKLE_HASH_LEN];
        char time[RFC3339_MAX];
} BatchHead;

/*
 * batch_receipt_head_sign(): the head's compact JWS (malloc'd, into *ret).
 * The origin must be checkpoint_name_valid(), the time non-empty.
 * Return: 0, -EINVAL (a field refused), -ENOMEM, -EIO (signing failed).
 */
int batch_receipt_head_sign(const Signer *s, const BatchHead *h, char **ret);

/*
 * batch_receipt_head_verify(): verify a head JWS (`len` bytes) with `v`
 * (ES256 only, one signature check: jws_verify_compact_once()) and read it
 * into *ret (written only on success). Members other than the four are
 * ignored (a later head may carry more).
 * Return: 0, BATCH_RECEIPT_E_SIGNATURE, BATCH_RECEIPT_E_HEAD, -ENOMEM.
 */
int batch_receipt_head_verify(const JwsVerifier *v, const char *jws, size_t len, BatchHead *ret);

/*
 * batch_receipt_format(): "<head>~<b64url(entry)>~<b64url(path)>" (malloc'd,
 * NUL-terminated, into *ret). The log writer calls it for each record.
 * Return: 0, -EINVAL (no entry, an entry over BATCH_RECEIPT_ENTRY_MAX, or a
 * path over MERKLE_PROOF_MAX hashes), -ENOMEM.
 */
int batch_receipt_format(const char *head, const void *entry, size_t entry_len, const uint8_t (*path)[MERKLE_HASH_LEN],
                         size_t path_len, char **ret);

/* batch_receipt_is(): whether a receipt (`len` bytes) has this form (holds a '~'), not a one-JWS receipt. */
bool batch_receipt_is(const char *receipt, size_t len);

/* A receipt, parsed (nothing verified). All owned by the BatchReceipt. */
typedef struct BatchReceipt {
        char *head; /* the head JWS, NUL-terminated */
        size_t head_len;
        uint8_t *entry; /* the entry's bytes, NUL-terminated (not counted in entry_len) */
        size_t entry_len;
        uint8_t (*path)[MERKLE_HASH_LEN];
        size_t path_len; /* hashes */
} BatchReceipt;

/*
 * batch_receipt_parse(): split and decode a receipt of `len` bytes.
 * Return: 0 with *ret (free with batch_receipt_free()),
 * BATCH_RECEIPT_E_MALFORMED, BATCH_RECEIPT_E_TOO_LARGE, -ENOMEM.
 */
int batch_receipt_parse(const char *receipt, size_t len, BatchReceipt **ret);
BatchReceipt *batch_receipt_free(BatchReceipt *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(BatchReceipt *, batch_receipt_free);

/*
 * batch_receipt_verify(): the whole offline check of a parsed receipt: the
 * head's signature with `v`, its origin against `origin` (unless NULL), the
 * entry's seq below the head's size, and the entry's leaf hash under the
 * head's root by the path. On success and when non-NULL, *ret_head gets the
 * head and *ret_entry the entry as a JSON object (a new reference: the
 * caller then compares its hashes with the bodies it holds).
 * Return: 0, BATCH_RECEIPT_E_SIGNATURE, BATCH_RECEIPT_E_HEAD,
 * BATCH_RECEIPT_E_ORIGIN, BATCH_RECEIPT_E_ENTRY, BATCH_RECEIPT_E_INCLUSION,
 * -ENOMEM.
 */
int batch_receipt_verify(const JwsVerifier *v, const BatchReceipt *r, const char *origin, BatchHead *ret_head,
                         json_t **ret_entry);

/*
 * batch_receipt_verify_entry(): the second half of batch_receipt_verify(),
 * for a head `h` already verified (batch_receipt_head_verify() of r->head,
 * or a cache of the heads verified before, keyed by the head's bytes and
 * the key): the entry's seq below h's size, and its leaf hash under h's root
 * by the path. *ret_entry as in batch_receipt_verify().
 * Return: 0, BATCH_RECEIPT_E_ENTRY, BATCH_RECEIPT_E_INCLUSION, -ENOMEM.
 */
int batch_receipt_verify_entry(const BatchReceipt *r, const BatchHead *h, json_t **ret_entry);
