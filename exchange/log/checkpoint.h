/* checkpoint.h: signed tree heads as C2SP tlog-checkpoints in C2SP signed notes
 *
 * A checkpoint commits the log's key to its Merkle tree at one size:
 *
 *   <origin>\n                          the log's identity, e.g. "xbus.example.gov.vn/log"
 *   <tree size>\n                       decimal, no leading zeroes
 *   <root hash>\n                       standard base64 (padded) of the 32-byte RFC 9162 root
 *   [<extension line>\n ...]            optional, non-empty (accepted when parsing)
 *   \n
 *   — <key name> <base64(key hash || signature)>\n      one or more signature lines
 *
 * The dash is U+2014 (em dash). The note text (everything before the blank
 * line, with its final newline) is signed with Ed25519; the key hash is the
 * first 4 bytes, big-endian, of SHA-256(key name || "\n" || 0x01 || public
 * key). Auditors get the verifier key as a "vkey" string:
 *
 *   <key name>+<key hash, 8 hex digits>+<base64(0x01 || 32-byte public key)>
 *
 * Verification follows the signed-note rules: signature lines by other keys
 * (witnesses, a rotated key) are ignored; at least one line must be by the
 * expected key (same name and key hash), and every such line must verify.
 *
 * Errors: 0, a negative errno (machinery, files), or a positive
 * CHECKPOINT_E_* code for a note or key that is refused.
 *
 * Caveats: a CheckpointSigner or CheckpointVerifier is immutable after
 * creation and may be used by many threads at once.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "log/merkle.h"
#include "util/macro.h"

/* Limits on what a note may hold: everything beyond is refused with CHECKPOINT_E_LIMIT. */
#define CHECKPOINT_NOTE_MAX (64 * 1024) /* bytes of a whole note */
#define CHECKPOINT_LINE_MAX 4096        /* bytes of any one line, without its newline */
#define CHECKPOINT_NAME_MAX 255         /* bytes of an origin or a key name */
#define CHECKPOINT_EXTENSIONS_MAX 16    /* extension lines */
#define CHECKPOINT_SIGNATURES_MAX 16    /* signature lines */

#define CHECKPOINT_ED25519_PUBLIC_LEN 32
#define CHECKPOINT_ED25519_SIG_LEN 64

enum {
        CHECKPOINT_E_FORMAT = 1, /* not a well-formed signed note or checkpoint */
        CHECKPOINT_E_LIMIT,      /* a size or count limit above is exceeded */
        CHECKPOINT_E_UNSIGNED,   /* no signature line by the expected key */
        CHECKPOINT_E_SIGNATURE,  /* a signature line by the expected key does not verify */
        CHECKPOINT_E_ORIGIN,     /* the origin is not the expected one */
        CHECKPOINT_E_KEY,        /* a malformed vkey, key name or origin */
        _CHECKPOINT_E_MAX,
};

/* checkpoint_strerror(): a static description of a CHECKPOINT_E_* code (or "unknown"). */
const char *checkpoint_strerror(int code);

/*
 * checkpoint_name_valid(): whether `name` may be a key name (and, for the
 * notes we sign, an origin): 1..CHECKPOINT_NAME_MAX bytes of UTF-8, no
 * control characters, no Unicode spaces, no '+'.
 */
bool checkpoint_name_valid(const char *name);

/* ------------------------------------------------------------------------ */
/* Keys */

typedef struct CheckpointSigner CheckpointSigner;
typedef struct CheckpointVerifier CheckpointVerifier;

/*
 * checkpoint_signer_new(): a signer for key name `name` (the log's origin,
 * as the spec recommends) with an Ed25519 private key (a reference is
 * taken; the caller keeps its own).
 * checkpoint_signer_load(): the same from PEM files: `key_path` (log.key,
 * PKCS#8; refused with -EPERM when group or others may read it) and, if not
 * NULL, `pub_path` (log.pub, SubjectPublicKeyInfo), which must hold the
 * matching public key.
 * Return: 0, CHECKPOINT_E_KEY (invalid name), -EINVAL (not an Ed25519 key,
 * not PEM), -EPERM, -EKEYREJECTED (log.pub does not match log.key), -errno.
 */
int checkpoint_signer_new(CheckpointSigner **ret, const char *name, EVP_PKEY *pkey);
int checkpoint_signer_load(CheckpointSigner **ret, const char *name, const char *key_path, const char *pub_path);
CheckpointSigner *checkpoint_signer_free(CheckpointSigner *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(CheckpointSigner *, checkpoint_signer_free);

/* checkpoint_signer_name(): the key name, owned by the signer. */
const char *checkpoint_signer_name(const CheckpointSigner *s);
/* checkpoint_signer_verifier(): a verifier for the signer's public key. Return: 0 or -ENOMEM. */
int checkpoint_signer_verifier(const CheckpointSigner *s, CheckpointVerifier **ret);

/*
 * checkpoint_verifier_new(): a verifier for key name `name` and a raw Ed25519 public key.
 * checkpoint_verifier_load(): the same from a PEM public key file (log.pub).
 * checkpoint_verifier_from_vkey(): the same from a vkey string.
 * Return: 0, CHECKPOINT_E_KEY (invalid name or vkey, wrong key hash),
 * -EINVAL (not an Ed25519 PEM key), -ENOMEM, -errno.
 */
int checkpoint_verifier_new(CheckpointVerifier **ret, const char *name,
                            const uint8_t pubkey[CHECKPOINT_ED25519_PUBLIC_LEN]);
int checkpoint_verifier_load(CheckpointVerifier **ret, const char *name, const char *pub_path);
int checkpoint_verifier_from_vkey(CheckpointVerifier **ret, const char *vkey);
CheckpointVerifier *checkpoint_verifier_free(CheckpointVerifier *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(CheckpointVerifier *, checkpoint_verifier_free);

/* checkpoint_verifier_name(), _key_hash(): owned by the verifier. */
const char *checkpoint_verifier_name(const CheckpointVerifier *v);
uint32_t checkpoint_verifier_key_hash(const CheckpointVerifier *v);
/* checkpoint_verifier_vkey(): the vkey string (malloc'd). Return: 0 or -ENOMEM. */
int checkpoint_verifier_vkey(const CheckpointVerifier *v, char **ret);

/* ------------------------------------------------------------------------ */
/* Writing */

/*
 * checkpoint_format(): the note text (body) for these values: origin must
 * satisfy checkpoint_name_valid(), extension lines must be non-empty, with
 * no control characters, within the limits.
 * checkpoint_sign(): the whole signed note: text, blank line, one
 * signature line by `s`. Thread-safe.
 * Return: 0 with *ret (malloc'd, NUL-terminated), CHECKPOINT_E_KEY (bad
 * origin), CHECKPOINT_E_FORMAT (bad extension line), CHECKPOINT_E_LIMIT,
 * -ENOMEM, -EIO (the signature failed).
 */
int checkpoint_format(const char *origin, uint64_t size, const uint8_t root[MERKLE_HASH_LEN],
                      const char *const *extensions, size_t n_extensions, char **ret);
int checkpoint_sign(const CheckpointSigner *s, const char *origin, uint64_t size, const uint8_t root[MERKLE_HASH_LEN],
                    const char *const *extensions, size_t n_extensions, char **ret);

/* ------------------------------------------------------------------------ */
/* Reading */

typedef struct CheckpointSignature {
        char *key_name;
        uint32_t key_hash;
        uint8_t *sig; /* the bytes after the key hash (64 for Ed25519) */
        size_t sig_len;
} CheckpointSignature;

/* A parsed checkpoint: everything is owned by it, freed by checkpoint_free(). */
typedef struct Checkpoint {
        char *origin;
        uint64_t size;
        uint8_t root[MERKLE_HASH_LEN];
        char **extensions;
        size_t n_extensions;
        char *text; /* the signed note text, exactly as received (NUL-terminated) */
        size_t text_len;
        CheckpointSignature *signatures;
        size_t n_signatures;
} Checkpoint;

Checkpoint *checkpoint_free(Checkpoint *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Checkpoint *, checkpoint_free);

/*
 * checkpoint_parse(): parse a signed checkpoint (`size` bytes, need not be
 * NUL-terminated) strictly: UTF-8 without control characters but newlines,
 * the text and at least one well-formed signature line, within the limits.
 * Signatures are not checked.
 * Return: 0 with *ret, CHECKPOINT_E_FORMAT, CHECKPOINT_E_LIMIT, -ENOMEM.
 */
int checkpoint_parse(const char *note, size_t size, Checkpoint **ret);

/*
 * checkpoint_verify(): check the signatures of a parsed checkpoint against `v`.
 * Return: 0, CHECKPOINT_E_UNSIGNED, CHECKPOINT_E_SIGNATURE, -ENOMEM.
 */
int checkpoint_verify(const Checkpoint *c, const CheckpointVerifier *v);

/*
 * checkpoint_open(): parse, verify against `v`, and if `origin` is not
 * NULL, require that origin. *ret is set only on success.
 * Return: 0, any code of checkpoint_parse() and checkpoint_verify(), CHECKPOINT_E_ORIGIN.
 */
int checkpoint_open(const char *note, size_t size, const CheckpointVerifier *v, const char *origin, Checkpoint **ret);

/*
 * checkpoint_note_verify(): verify any C2SP signed note (the text is not
 * parsed as a checkpoint), with the same rules and limits; *ret_text_len
 * (if not NULL) is the length of the signed text at the start of `note`.
 * Return: 0, CHECKPOINT_E_FORMAT, CHECKPOINT_E_LIMIT, CHECKPOINT_E_UNSIGNED,
 * CHECKPOINT_E_SIGNATURE, -ENOMEM.
 */
int checkpoint_note_verify(const char *note, size_t size, const CheckpointVerifier *v, size_t *ret_text_len);
