/* audit-verify.h: checking the exchange log as an auditor does (the store, exports, proof bundles)
 *
 * Three things can be verified, each reporting the FIRST problem it finds
 * in one sentence that names the entry or checkpoint concerned:
 *
 *   - a log store (STATE/log, read-only LMDB, on the node or a copy of it):
 *     every entry's bytes, sequence number and time; the leaf hashes and
 *     every stored Merkle node, recomputed from the entries; every stored
 *     checkpoint (its signature and its root at its size); and checkpoints
 *     the auditor kept from earlier (the store must still reproduce them).
 *   - an export (JSON Lines, see docs/auditing.md): its checkpoint's
 *     signature, the entries against that checkpoint (the whole tree when the
 *     export starts at 0, per-entry inclusion proofs otherwise), and,
 *     optionally, against an earlier export or earlier checkpoints.
 *   - a proof bundle (one JSON object): an entry, its inclusion proof, the
 *     checkpoint it is proven against and optionally the X-Bus-Receipt of
 *     the exchange, which must be signed by the node and describe the entry
 *     (a one-JWS receipt: its fields equal the entry's; a receipt of a group
 *     commit, log/batch-receipt.h: its head signed for the checkpoint's
 *     origin, its entry the bundle's byte for byte and under the head's root).
 *
 * Formats (documented for auditors in docs/auditing.md):
 *
 *   export header  {"xbus_export":1,"origin":O,"start":A,"end":B,"checkpoint":NOTE[,"consistency":[H...]]}
 *   export line    {"seq":N,"entry":"<stored bytes>"[,"inclusion_proof":[H...]]}     N = A .. B-1
 *   bundle         {"xbus_proof":1,"seq":N,"entry":"<stored bytes>","tree_size":M,
 *                   "inclusion_proof":[H...],"checkpoint":NOTE[,"receipt":"<receipt>"]}
 *
 * H is a 32-byte hash in standard padded base64 (as in checkpoints). An
 * export starting at 0 that ends before its checkpoint's size carries the
 * consistency proof from its end to the checkpoint's size; an export that
 * starts later carries an inclusion proof on every line.
 *
 * Errors: 0 is success (verified); a positive AUDIT_E_* is a verification
 * failure, described in AuditReport.reason; a negative errno is a failure
 * of the machinery (memory, files), with a reason when one helps.
 *
 * Limits: export lines AUDIT_LINE_MAX bytes, bundles AUDIT_BUNDLE_MAX
 * bytes, AUDIT_HELD_MAX earlier checkpoints; anything beyond is refused
 * (AUDIT_E_FORMAT).
 *
 * Caveats: the functions are reentrant and hold no global state; the
 * store is read in one read-only LMDB transaction (a consistent snapshot,
 * even while xbusd appends), from its own LMDB environment, so they must
 * not be called inside a process that has the same log open (xbusd).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "log/checkpoint.h"
#include "log/merkle.h"

#define AUDIT_LINE_MAX (1024U * 1024U)
#define AUDIT_BUNDLE_MAX (1024U * 1024U)
#define AUDIT_HELD_MAX 64
/* base64 of a 32-byte hash, with padding, and its NUL */
#define AUDIT_HASH_B64_LEN 44

enum {
        AUDIT_E_ENTRY = 1,  /* an entry's bytes are damaged or not where they belong */
        AUDIT_E_SEQUENCE,   /* an entry is missing, repeated or out of order */
        AUDIT_E_TREE,       /* the stored Merkle tree does not match the entries */
        AUDIT_E_CHECKPOINT, /* a checkpoint's signature or root is wrong */
        AUDIT_E_TRUNCATED,  /* fewer entries than a checkpoint covers */
        AUDIT_E_PROOF,      /* an inclusion or consistency proof does not verify */
        AUDIT_E_RECEIPT,    /* the receipt is not the node's or does not describe the entry */
        AUDIT_E_FORMAT,     /* a file is malformed or over a limit */
        AUDIT_E_UNCHECKED,  /* what was asked cannot be checked with what was given */
        _AUDIT_E_MAX,
};

/* audit_strerror(): a static short name for an AUDIT_E_* code (or "unknown"). */
const char *audit_strerror(int code);

typedef struct AuditReport {
        uint64_t entries;     /* entries checked */
        uint64_t checkpoints; /* checkpoints checked (stored, in the export, held) */
        uint64_t bad_seq;     /* the entry the problem is about, or UINT64_MAX */
        char *reason;         /* malloc'd sentence, NULL when all is well */
} AuditReport;

/* audit_report_init(), _done(): an empty report; free the reason. */
void audit_report_init(AuditReport *rep);
void audit_report_done(AuditReport *rep);

/* ------------------------------------------------------------------------ */
/* Small shared helpers (the API and the CLI use them too) */

/*
 * audit_entry_parse_prefix(): read the writer's fixed prefix
 * {"v":1,"seq":N,"time":"T", of a stored entry: *ret_seq = N, *ret_time
 * points at T inside `entry` (not NUL-terminated), *ret_time_len its length.
 * Return: 0 or -EBADMSG (not an entry of format version 1).
 */
int audit_entry_parse_prefix(const char *entry, size_t size, uint64_t *ret_seq, const char **ret_time,
                             size_t *ret_time_len);

/* audit_hash_b64(): standard padded base64 of a hash into out (AUDIT_HASH_B64_LEN + 1 bytes). Return: out.
 */
char *audit_hash_b64(const uint8_t hash[MERKLE_HASH_LEN], char out[AUDIT_HASH_B64_LEN + 1]);
/* audit_hash_from_b64(): the reverse; canonical encodings only. Return: 0 or -EINVAL. */
int audit_hash_from_b64(const char *s, uint8_t out[MERKLE_HASH_LEN]);

/* audit_proof_json(): a JSON array of base64 hashes. Return: a new reference, or NULL (out of memory). */
json_t *audit_proof_json(const uint8_t (*path)[MERKLE_HASH_LEN], size_t len);
/*
 * audit_proof_parse(): the reverse, into path (room for MERKLE_PROOF_MAX).
 * Return: 0, -EINVAL (not an array of canonical base64 hashes), -E2BIG (too long).
 */
int audit_proof_parse(const json_t *a, uint8_t (*path)[MERKLE_HASH_LEN], size_t *ret_len);

/*
 * audit_verifier_load(): a checkpoint verifier from a vkey string, or from
 * a file holding one when `arg` starts with '@' ("@log.vkey").
 * On failure *ret_reason (if given) is a malloc'd reason.
 * Return: 0, CHECKPOINT_E_KEY, -errno.
 */
int audit_verifier_load(const char *arg, CheckpointVerifier **ret, char **ret_reason);

/*
 * audit_checkpoint_load(): read a signed note from `path` (at most
 * CHECKPOINT_NOTE_MAX bytes) and open it with `v`. *ret_reason as above.
 * Return: 0, a CHECKPOINT_E_* code, -errno.
 */
int audit_checkpoint_load(const char *path, const CheckpointVerifier *v, Checkpoint **ret, char **ret_reason);

/*
 * Writing exports and bundles (the CLI writes them from the API or from a
 * store; tests from an ExlogReader).
 * audit_export_write_header(): the first line; `consistency` (may be NULL)
 * is the proof from `end` to the checkpoint's size, for an export from 0.
 * audit_export_write_line(): one entry; `proof` (may be NULL) its inclusion
 * proof in the checkpoint's tree, for an export that does not start at 0.
 * Return: 0, -ENOMEM, -EIO (the stream failed).
 */
int audit_export_write_header(FILE *out, const char *origin, uint64_t start, uint64_t end, const char *note,
                              const uint8_t (*consistency)[MERKLE_HASH_LEN], size_t consistency_len);
int audit_export_write_line(FILE *out, uint64_t seq, const char *entry, size_t size,
                            const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len);

/*
 * audit_bundle_new(): the bundle object for an entry, its proof in the tree
 * of `tree_size` entries, that tree's checkpoint and (if not NULL) the
 * exchange's receipt. Return: a new reference, or NULL (out of memory).
 */
json_t *audit_bundle_new(uint64_t seq, const char *entry, size_t size, uint64_t tree_size,
                         const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len, const char *note,
                         const char *receipt);

/* ------------------------------------------------------------------------ */
/* The store */

typedef struct AuditStoreOptions {
        const CheckpointVerifier *verifier; /* checks every stored checkpoint's signature; NULL: roots only */
        const Checkpoint *const *held;      /* verified checkpoints kept from earlier; the store must reproduce them */
        size_t n_held;                      /* at most AUDIT_HELD_MAX */
} AuditStoreOptions;

/*
 * audit_verify_store(): verify the log folder `dir` (see the top of this
 * file), streaming: memory does not grow with the log.
 * Return: 0, AUDIT_E_ENTRY, AUDIT_E_SEQUENCE, AUDIT_E_TREE,
 * AUDIT_E_CHECKPOINT, AUDIT_E_TRUNCATED (rep->reason says which entry or
 * checkpoint), -ENOENT (no log there), -errno.
 */
int audit_verify_store(const char *dir, const AuditStoreOptions *o, AuditReport *rep);

/* ------------------------------------------------------------------------ */
/* Exports and bundles (offline: only the files and the node's public keys) */

typedef struct AuditExportOptions {
        const CheckpointVerifier *verifier; /* required: the node's checkpoint key */
        const char *earlier;                /* an earlier export (verified first), or NULL */
        const Checkpoint *const *held;      /* verified checkpoints kept from earlier */
        size_t n_held;                      /* at most AUDIT_HELD_MAX */
} AuditExportOptions;

/*
 * audit_verify_export(): verify the export file `path` (see the top of this
 * file). With `earlier`, that export is verified first, then every entry
 * both hold must be byte for byte the same, and this export must reproduce
 * the earlier export's checkpoint (as for `held`).
 * Return: 0, any AUDIT_E_* code, -errno (a file cannot be read).
 */
int audit_verify_export(const char *path, const AuditExportOptions *o, AuditReport *rep);

typedef struct AuditBundleOptions {
        const CheckpointVerifier *verifier; /* required: the node's checkpoint key */
        const json_t *receipt_jwk;          /* the node's receipt key (signing.jwk), or NULL */
        bool require_receipt;               /* refuse a bundle without a receipt */
} AuditBundleOptions;

/*
 * audit_verify_bundle(): verify a proof bundle held in memory (`size`
 * bytes of JSON). A receipt in the bundle is checked only with
 * receipt_jwk; a receipt without a key to check it is refused
 * (AUDIT_E_UNCHECKED) rather than passed over.
 * Return: 0, AUDIT_E_FORMAT, AUDIT_E_CHECKPOINT, AUDIT_E_ENTRY,
 * AUDIT_E_PROOF, AUDIT_E_RECEIPT, AUDIT_E_UNCHECKED, -ENOMEM.
 */
int audit_verify_bundle(const char *json, size_t size, const AuditBundleOptions *o, AuditReport *rep);
