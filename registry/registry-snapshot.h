/* registry-snapshot.h: signed registry snapshots: what a registry authority publishes, and how a node verifies and loads one
 *
 * A federation's registry is published by its authority as one snapshot
 * (docs/registry.md "Snapshots", docs/federation.md): a compact JWS (RFC
 * 7515), ES256, whose protected header is
 *
 *   {"alg":"ES256","typ":"xbus-registry-snapshot+jws","kid":"<RFC 7638 thumbprint of the key>"}
 *
 * and whose payload is one JSON object, members in this order, no others:
 *
 *   {"v":1,                                   the format
 *    "instance":"VN",                         the registry's [instance] id
 *    "version":42,                            1 .. 2^53-1; a node only ever moves up
 *    "created":"2026-12-01T08:00:00Z",        RFC 3339, UTC
 *    "expires":"2026-12-08T08:00:00Z",        after created
 *    "retired":["<kid>", ...],                anchors the authority no longer signs with
 *    "files":[{"path":"registry/00-instance.conf","text":"..."}, ...]}
 *
 * `files` is everything a node needs to decide, sorted by path, each path
 * "registry/REL" (the registry folder: its *.conf files are the registry,
 * other files are what they name, such as a node's tls-ca) or "schemas/REL"
 * (the schema folder: JSON Schemas, XSDs, OpenAPI documents), REL made of
 * segments of letters, digits, '.', '_' and '-'. Every file is UTF-8 text
 * without NUL. A node loads the registry from these files alone: the
 * snapshot's schema folder replaces [instance] schemas.
 *
 * What a node refuses (the REGISTRY_SNAPSHOT_E_* codes): a malformed JWS or
 * payload, one signed by a key that is not among its anchors (the "kid"
 * picks the anchor), a bad signature; and, against the snapshot in force
 * (registry_snapshot_accept()): a snapshot of another instance, one signed
 * by a key the snapshot in force retires, one that no longer lists a
 * retired key (retirement is permanent), an older version, the same version with other
 * content, one created more than REGISTRY_SNAPSHOT_SKEW_USEC in the future,
 * an expired one; then one whose registry does not load.
 *
 * Threads: a RegistrySnapshot and a RegistryAnchors are immutable once made
 * and may be read by any number of threads; a Registry loaded from a
 * snapshot owns it (registry_snapshot()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/jws.h"
#include "crypto/signer.h"
#include "registry.h"
#include "util/macro.h"

#define REGISTRY_SNAPSHOT_TYP "xbus-registry-snapshot+jws"
#define REGISTRY_SNAPSHOT_MAX MIB(64)     /* bytes of a whole snapshot (the JWS) */
#define REGISTRY_SNAPSHOT_FILES_MAX 8192U /* files in one snapshot */
#define REGISTRY_SNAPSHOT_RETIRED_MAX 64U /* retired anchors listed */
#define REGISTRY_SNAPSHOT_VERSION_MAX ((UINT64_C(1) << 53) - 1)
#define REGISTRY_SNAPSHOT_SKEW_USEC (600ULL * 1000000ULL) /* a creation time this far ahead of the clock is refused */

/* Refusals (positive, stable); registry_snapshot_strerror() says each in words. */
enum {
        REGISTRY_SNAPSHOT_E_MALFORMED = 1, /* not a compact JWS of a snapshot, or a payload that breaks the format */
        REGISTRY_SNAPSHOT_E_TOO_LARGE,     /* over REGISTRY_SNAPSHOT_MAX, or a limit of the payload */
        REGISTRY_SNAPSHOT_E_UNKNOWN_KEY,   /* its "kid" names no anchor */
        REGISTRY_SNAPSHOT_E_SIGNATURE,     /* the signature does not verify with that anchor */
        REGISTRY_SNAPSHOT_E_RETIRED,       /* signed by a key the snapshot in force (or itself) retires */
        REGISTRY_SNAPSHOT_E_UNRETIRED,     /* it no longer lists a key the snapshot in force retires */
        REGISTRY_SNAPSHOT_E_INSTANCE,      /* another instance than the snapshot in force */
        REGISTRY_SNAPSHOT_E_OLDER,         /* an older version than the snapshot in force */
        REGISTRY_SNAPSHOT_E_CONFLICT,      /* the version in force, with other content */
        REGISTRY_SNAPSHOT_E_NOT_YET,       /* created in the future */
        REGISTRY_SNAPSHOT_E_EXPIRED,       /* past its expiry */
        REGISTRY_SNAPSHOT_E_CONTENT,       /* its registry does not load (the errors say why) */
        REGISTRY_SNAPSHOT_UNCHANGED,       /* not a refusal: the snapshot in force, again */
        _REGISTRY_SNAPSHOT_E_MAX,
};

/* registry_snapshot_strerror(): a static phrase for a code above or a negative errno; never NULL. */
const char *registry_snapshot_strerror(int code);

/* ---- Anchors: the authority keys a node trusts ------------------------------------------- */

typedef struct RegistryAnchors RegistryAnchors;

int registry_anchors_new(RegistryAnchors **ret);
RegistryAnchors *registry_anchors_free(RegistryAnchors *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistryAnchors *, registry_anchors_free);

/*
 * registry_anchors_add_file(): trust the EC P-256 public key in `path`: PEM
 * (SubjectPublicKeyInfo, as `openssl pkey -pubout` writes) or a JWK. A key
 * already trusted is not added twice.
 * Return: 0; -EINVAL with *ret_why (malloc'd) for a file that holds no such
 * key; -errno of the file; -ENOMEM.
 */
int registry_anchors_add_file(RegistryAnchors *a, const char *path, char **ret_why);
/* registry_anchors_add(): trust the key of `v` (taken, also on failure). Return: 0, -ENOMEM. */
int registry_anchors_add(RegistryAnchors *a, JwsVerifier *v);
/* registry_anchors_count(): how many keys are trusted. */
size_t registry_anchors_count(const RegistryAnchors *a);
/* registry_anchors_kid(): the key id (RFC 7638 thumbprint) of the i-th key, NULL past the end. Owned by `a`. */
const char *registry_anchors_kid(const RegistryAnchors *a, size_t i);

/* ---- A verified snapshot ------------------------------------------------------------------- */

typedef struct RegistrySnapshot {
        char *compact; /* the JWS as received, NUL-terminated (not counted in size) */
        size_t size;
        char digest[65];           /* hex SHA-256 of the JWS: tells two snapshots of one version apart */
        char kid[JWS_KID_LEN + 1]; /* the anchor that signed it ("" when not verified) */
        char *instance;
        uint64_t version;
        uint64_t created_usec, expires_usec; /* CLOCK_REALTIME */
        char **retired;                      /* kids, NULL-terminated */
        RegistryFile *files;                 /* sorted by name; names and texts owned (freed once loaded) */
        size_t n_files;
        char *source; /* where it came from (a URL, a file), or NULL: for logs, /metrics and /health */
} RegistrySnapshot;

RegistrySnapshot *registry_snapshot_free(RegistrySnapshot *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistrySnapshot *, registry_snapshot_free);

/*
 * registry_snapshot_open(): verify the `size` bytes at `compact` against
 * `anchors` and parse them. `source` (may be NULL) is kept. Nothing here
 * looks at the time or at the snapshot in force: see
 * registry_snapshot_accept(). Return: 0 with *ret (the caller's),
 * REGISTRY_SNAPSHOT_E_MALFORMED, _TOO_LARGE, _UNKNOWN_KEY or _SIGNATURE, -ENOMEM.
 */
int registry_snapshot_open(RegistrySnapshot **ret, const RegistryAnchors *anchors, const char *compact, size_t size,
                           const char *source);

/*
 * registry_snapshot_parse(): the payload alone, checked as the format says
 * (what registry_snapshot_open() does once the signature holds; for the
 * fuzzer and for reading a previous snapshot of one's own). The result has
 * no compact form, digest or kid.
 * Return: 0 with *ret, REGISTRY_SNAPSHOT_E_MALFORMED or _TOO_LARGE, -ENOMEM.
 */
int registry_snapshot_parse(RegistrySnapshot **ret, const void *payload, size_t size);

/*
 * registry_snapshot_accept(): what a node does with `candidate` (verified)
 * while `current` (NULL: none yet) is in force, at `now_usec`
 * (CLOCK_REALTIME): take it (0), ignore it (REGISTRY_SNAPSHOT_UNCHANGED),
 * or refuse it (REGISTRY_SNAPSHOT_E_INSTANCE, _RETIRED, _UNRETIRED, _OLDER,
 * _CONFLICT, _NOT_YET, _EXPIRED, checked in that order). Pure: no I/O.
 */
int registry_snapshot_accept(const RegistrySnapshot *current, const RegistrySnapshot *candidate, uint64_t now_usec);

/*
 * registry_snapshot_load(): the registry of `*s`, its adapter key references
 * read under `state_dir` (NULL: checked for form only), as
 * registry_load_node() does. On success the registry owns the snapshot
 * (*s is set to NULL; its files are freed, the rest stays for
 * registry_snapshot()); on failure *s stays the caller's.
 * Return: 0; REGISTRY_SNAPSHOT_E_CONTENT with *ret_errors (malloc'd
 * "file:line: message" lines; may be NULL); -ENOMEM, -EINVAL.
 */
int registry_snapshot_load(Registry **ret, RegistrySnapshot **s, const char *state_dir, char **ret_errors);

/* registry_snapshot(): the snapshot `r` was loaded from, or NULL (a folder, the embedded sample). Lives as `r`. */
const RegistrySnapshot *registry_snapshot(const Registry *r);

/* ---- Publishing ------------------------------------------------------------------------------ */

typedef struct RegistrySnapshotParams {
        uint64_t version;       /* 1 .. REGISTRY_SNAPSHOT_VERSION_MAX */
        uint64_t created_usec;  /* CLOCK_REALTIME, whole seconds are kept */
        uint64_t lifetime_usec; /* expires = created + lifetime (whole seconds, at least one) */
        char *const *retired;   /* kids of retired anchors, NULL-terminated, or NULL */
} RegistrySnapshotParams;

/*
 * registry_snapshot_build(): check the registry folder `dir` (as
 * registry_load_dir()), gather its files and its schema folder's, sign them
 * with `signer` and check that the snapshot loads from its own files.
 * Return: 0 with *ret (the JWS, malloc'd, NUL-terminated) and *ret_size;
 * REGISTRY_SNAPSHOT_E_CONTENT with *ret_errors (what is wrong, one problem
 * a line: the registry's errors, a file that is not text, a schema outside
 * the schema folder, ...); REGISTRY_SNAPSHOT_E_TOO_LARGE; -EINVAL (bad
 * parameters), -ENOMEM, -errno of a folder.
 */
int registry_snapshot_build(const char *dir, const Signer *signer, const RegistrySnapshotParams *p, char **ret,
                            size_t *ret_size, char **ret_errors);
