/* consent.h: consent records and artefacts, and the per-request consent decision
 *
 * A consent says that a data subject (kept only as a pseudonym) allows a
 * grantee (a client subsystem, or every subsystem of a member) to receive
 * some services or data categories for one purpose, inside a validity
 * window, optionally a limited number of times. It reaches the bus in one of
 * two ways (docs/consent.md):
 *
 *   - a record, created by a consent authority through the API
 *     (consent-api.h) and named in X-Bus-Consent by its id;
 *   - an artefact: a compact JWS (ES256) signed by a registered consent
 *     authority, carried whole in X-Bus-Consent. It is verified against the
 *     authority's consent-jwk from the registry (crypto/jws.h: algorithm fixed
 *     by the key, embedded keys and any "crit" refused). The first time an
 *     artefact is used the bus keeps a record of it (without the raw subject
 *     id) so that its uses can be counted and the authority can revoke it.
 *
 * Storage: three named LMDB databases in the exchange log's environment
 * (exlog_env()), so that a use is counted in the same transaction as the
 * log entry that reports it; the log carries what consent_use() wrote in the
 * entry's durable segment record and replays it after a crash (ConsentUse,
 * consent_use_replay()):
 *   consents          id -> the record (JSON text, docs/consent.md)
 *   consent_subjects  pseudonym(32) || id -> "" (a subject's consents)
 *   consent_uses      id -> uses so far (8 bytes, big-endian)
 *
 * Threads: a ConsentStore may be used by any number of threads at once.
 * consent_check() and the read functions use their own read-only
 * transactions; consent_create()/consent_revoke() their own write
 * transaction (they serialize with the log writer: rare administrative
 * operations), which the log makes durable with its next base: the caller
 * must call exlog_sync() before it reports the change as done;
 * consent_use() runs inside the caller's (the log writer's) write
 * transaction.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <lmdb.h>

#include "crypto/pseudonym.h"
#include "registry.h"
#include "util/macro.h"

typedef struct ConsentStore ConsentStore;

enum {                        /* positive refusal reasons */
       CONSENT_E_UNKNOWN = 1, /* no such consent id */
       CONSENT_E_EXPIRED,
       CONSENT_E_NOT_YET_VALID,
       CONSENT_E_REVOKED,
       CONSENT_E_EXHAUSTED,
       CONSENT_E_SUBJECT,
       CONSENT_E_GRANTEE,
       CONSENT_E_SCOPE,
       CONSENT_E_PURPOSE,
       CONSENT_E_SIGNATURE, /* an artefact whose signature / authority / format is not acceptable */
       _CONSENT_E_MAX,
};

/*
 * consent_reason(): "expired", "revoked", "exhausted", "wrong subject",
 * "wrong grantee", "out of scope", "wrong purpose", "bad signature",
 * "unknown consent", "not yet valid"; for anything else "internal error".
 * Static storage.
 */
const char *consent_reason(int code);

/* Limits (every one of them is something an outsider controls). */
#define CONSENT_ID_MAX 160 /* an id with its NUL (record ids are 40 hex digits) */
#define CONSENT_RECORD_ID_LEN 40
#define CONSENT_MAX_SCOPE 64 /* services, and categories, per consent */
#define CONSENT_MAX_NAME 200 /* a grantee, service id, category, purpose, authority */
#define CONSENT_MAX_JTI 64
#define CONSENT_MAX_USES 1000000U
#define CONSENT_MAX_VALIDITY_USEC (10ULL * 366 * 24 * 3600 * 1000000ULL) /* ten years */
#define CONSENT_MAX_PER_SUBJECT 10000                                    /* records per subject pseudonym */
#define CONSENT_LIST_MAX 1000 /* records returned by one consent_list_subject() */

/*
 * consent_store_open(): open (creating) the store's three databases in
 * `env` (the exchange log's: its maxdbs is 8 and the log uses 4). `env`
 * must outlive the store. Call before other threads use the store, and not
 * while another transaction of this process opens databases.
 * Return: 0 with *ret, or -errno.
 */
int consent_store_open(ConsentStore **ret, MDB_env *env);
/* consent_store_free(): NULL in, NULL out. The env is left open. */
ConsentStore *consent_store_free(ConsentStore *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ConsentStore *, consent_store_free);

/*
 * consent_store_set_pseudonym_key(): the key that turns an artefact's raw
 * "sub" into the subject pseudonym (borrowed; must outlive the store). Without
 * it artefacts cannot be checked (consent_check() answers -ENOKEY).
 */
void consent_store_set_pseudonym_key(ConsentStore *s, const PseudonymKey *k);

/* Record status as stored. "expired" and "exhausted" are derived (consent_record_status()). */
typedef enum ConsentStatus {
        CONSENT_STATUS_ACTIVE,
        CONSENT_STATUS_REVOKED,
} ConsentStatus;

/* A consent record. All strings and arrays are owned by the record (consent_record_done()). */
typedef struct ConsentRecord {
        char *id;          /* 40 hex digits, or "jws:<authority>:<jti>" */
        char *subject;     /* pseudonym, PSEUDONYM_HEX_LEN hex digits */
        char *grantee;     /* subsystem or member id */
        char **services;   /* NULL-terminated, may be empty */
        char **categories; /* NULL-terminated, may be empty */
        char *purpose;
        char *authority; /* the consent authority's subsystem id */
        uint64_t created_usec;
        uint64_t valid_from_usec;
        uint64_t expires_usec;
        uint64_t max_uses; /* 0: unlimited */
        uint64_t uses;     /* filled by the read functions from consent_uses */
        ConsentStatus status;
        uint64_t revoked_usec; /* 0 unless revoked */
        bool artefact;         /* it came as a signed artefact */
        char *signature;       /* the artefact's signature (base64url), or NULL */
} ConsentRecord;

void consent_record_done(ConsentRecord *r);

/* consent_record_status(): "active", "revoked", "expired" or "exhausted" at `now_usec`. Static storage. */
const char *consent_record_status(const ConsentRecord *r, uint64_t now_usec);

/*
 * consent_record_to_json(): the record as the API shows it (times in RFC 3339,
 * "status" derived at `now_usec`). Return: a new object, or NULL on ENOMEM.
 */
json_t *consent_record_to_json(const ConsentRecord *r, uint64_t now_usec);

/*
 * consent_create(): store a new record. `in` gives subject, grantee,
 * services/categories, purpose, authority, valid_from, expires, max_uses;
 * id, created, uses, status and signature are set here (a fresh random id,
 * created = now_usec). `in` is checked for shape (not against the registry:
 * the API does that): a 64-hex-digit subject, names within CONSENT_MAX_NAME
 * and without control characters, 1..CONSENT_MAX_SCOPE scope entries in
 * all, valid_from < expires, expires > now, a window of at most
 * CONSENT_MAX_VALIDITY_USEC, max_uses <= CONSENT_MAX_USES.
 * On success *ret (if not NULL) receives the stored record (free with
 * consent_record_done()).
 * Return: 0; -EINVAL (`in` refused); -E2BIG (the subject already has
 * CONSENT_MAX_PER_SUBJECT records); -errno.
 */
int consent_create(ConsentStore *s, const ConsentRecord *in, uint64_t now_usec, ConsentRecord *ret);

/*
 * consent_get(): the record `id`, with its uses. *ret is written only on success.
 * Return: 0, CONSENT_E_UNKNOWN, -errno.
 */
int consent_get(ConsentStore *s, const char *id, ConsentRecord *ret);

/*
 * consent_revoke(): mark `id` revoked at `now_usec` if `authority` issued it.
 * Revoking a revoked record changes nothing (0). An artefact id
 * ("jws:<authority>:<jti>") that was never used can be revoked in advance by
 * its authority: a revocation record is stored, and the artefact is refused
 * from then on. On success *ret (if not NULL) receives the record.
 * Return: 0; CONSENT_E_UNKNOWN (no such record, or issued by another
 * authority: the caller learns nothing about it); -EINVAL (malformed id); -errno.
 */
int consent_revoke(ConsentStore *s, const char *id, const char *authority, uint64_t now_usec, ConsentRecord *ret);

/*
 * consent_list_subject(): the records of one subject (by pseudonym, hex), in
 * descending id order: artefact records ("jws:..." sorts after hex) first,
 * then API records newest first (their ids start with the creation time);
 * at most `max` (<= CONSENT_LIST_MAX)
 * into ret (an array of `max` records; *ret_n written). `after`: NULL, or the
 * id of the last record of the previous page.
 * Return: 0, -EINVAL, -errno.
 */
int consent_list_subject(ConsentStore *s, const char *pseudonym, const char *after, ConsentRecord *ret, size_t max,
                         size_t *ret_n);

typedef struct ConsentQuery {
        const char *consent;           /* X-Bus-Consent: a consent id, or a compact JWS artefact */
        const char *subject_pseudonym; /* hex HMAC of the personal id (the store keeps pseudonyms, never raw ids) */
        const RegistrySubsystem *client;
        const RegistryService *service;
        const char *purpose;
        uint64_t now_usec; /* CLOCK_REALTIME */
} ConsentQuery;

/*
 * consent_check(): the read-only decision, on any thread (own read
 * transaction). A record id is looked up; an artefact is verified with the
 * issuing authority's consent_jwk from `reg` (verifiers are compiled once
 * per key and kept by the store). Checks, in this order: the consent exists
 * (or the artefact verifies: CONSENT_E_SIGNATURE), grantee, subject, scope,
 * purpose, then revoked, not yet valid, expired, exhausted.
 * On 0, ret_id receives the consent's id (for an artefact
 * "jws:<authority>:<jti>"; the artefact's facts are remembered for
 * consent_use()). Unlike most ret_ parameters, ret_id is also written on a
 * refusal once the consent is identified (a record found, an artefact
 * verified: every refusal but UNKNOWN and SIGNATURE), so that the log entry
 * and the problem detail can name it; it is left untouched otherwise.
 * Return: 0 allowed, a CONSENT_E_* refusal, or -errno.
 */
int consent_check(ConsentStore *s, const Registry *reg, const ConsentQuery *q, char ret_id[CONSENT_ID_MAX]);

/* What consent_use() wrote, so that the log can carry it to its durable segment (exlog.c). */
typedef struct ConsentUse {
        uint64_t uses; /* the count after this use */
        char *record;  /* the record this use stored (an artefact's first use), malloc'd; else NULL */
} ConsentUse;

/*
 * consent_use(): inside the log writer's transaction: re-check status,
 * validity at `now_usec` and uses for `id` and count one use. The first use
 * of an artefact stores its record (from what consent_check() remembered; an
 * artefact checked long ago and forgotten, see docs/consent.md, is refused as
 * CONSENT_E_UNKNOWN). On 0, *ret (if not NULL) says what was written (free
 * ret->record).
 * Return: 0 counted; a CONSENT_E_* refusal (EXHAUSTED when another request
 * used it up first, REVOKED when revoked meanwhile, EXPIRED); -errno (the
 * whole transaction must fail).
 */
int consent_use(ConsentStore *s, MDB_txn *txn, const char *id, uint64_t now_usec, ConsentUse *ret);

/*
 * consent_use_replay(): write again, in `txn` of the log's environment, what
 * a consent_use() wrote (the use count of `id`, and the record it stored, if
 * any, as the text ConsentUse.record held): the log's recovery replays its
 * segment with it (the store need not be open).
 * Return: 0, -EBADMSG (the id or record is not what consent_use() writes), -errno.
 */
int consent_use_replay(MDB_txn *txn, const char *id, uint64_t uses, const char *record, size_t record_size);

/* consent_valid_id(): a record id (40 lower-case hex digits) or an artefact id "jws:<authority>:<jti>". */
bool consent_valid_id(const char *id);
