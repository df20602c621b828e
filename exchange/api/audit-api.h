/* audit-api.h: the auditors' HTTPS API under /audit/ (mutual TLS, auditor role only)
 *
 * Every request must come from a client certificate that identifies a
 * registry subsystem with the auditor role (REGISTRY_ROLE_AUDITOR):
 * otherwise client_unknown (no identity) or access_denied. Only GET.
 *
 *   GET /audit/entries?from=&to=&client=&service=&status=&decision=&outcome=&xroad_id=&subject=&cursor=&limit=
 *       {"entries":[<entry objects, the stored bytes unchanged>],"next_cursor":N|null}
 *       In sequence order. from/to are RFC 3339 times (from inclusive, to
 *       exclusive), found by binary search since entry times never decrease.
 *       subject is the data subject's personal id: the bus computes its
 *       pseudonym and walks the by_subject index; the id itself never
 *       appears in an answer or a log. outcome is "ok" (no error) or a
 *       problem type (the entry's "error"), xroad_id the entry's X-Road-Id.
 *       The other filters are applied while
 *       scanning, at most AUDIT_API_SCAN_BUDGET entries per page, so a page
 *       may be empty while next_cursor still advances; null means done.
 *       With raw=1 each entry is a JSON string holding the stored bytes
 *       (for exports: the bytes a leaf hash is computed over).
 *   GET /audit/entries/SEQ[?tree_size=N]
 *       {"seq","entry":"<stored bytes as a JSON string>","leaf_hash","tree_size",
 *        "inclusion_proof":[...],"checkpoint":"<signed note>"}
 *       proven against the latest checkpoint (or the one of size N).
 *   GET /audit/consistency?from=N&to=M   {"from","to","proof":[...]}
 *   GET /audit/checkpoint[?size=N]       the latest signed note (or the first of size >= N), text/plain
 *
 * Hashes are standard padded base64, as in checkpoints (audit-verify.h).
 * Handlers run on the front door's worker threads; each request opens its
 * own ExlogReader (read-only transactions) and every loop is bounded.
 */
#pragma once

#include "crypto/pseudonym.h"
#include "log/exlog.h"
#include "node/endpoint.h"

#define AUDIT_API_PREFIX "/audit/"

#define AUDIT_API_LIMIT_DEFAULT 100
#define AUDIT_API_LIMIT_MAX 1000
/* entries read per page of a filtered query */
#define AUDIT_API_SCAN_BUDGET 50000
/* subject index entries walked per page */
#define AUDIT_API_SUBJECT_WALK_MAX 1000000
/* longest query parameter value accepted */
#define AUDIT_API_PARAM_MAX 256

/* What the API works on: the endpoint's userdata (borrowed; must outlive the endpoint). */
typedef struct AuditApi {
        ExchangeLog *log;
        const PseudonymKey *pseudonyms; /* subject search: the node computes the pseudonym */
        const char *log_vkey;           /* the checkpoints' verifier key (C2SP vkey), or NULL */
} AuditApi;

/* audit_api_handle(): the EndpointHandler for "/audit/"; req->userdata is an AuditApi.
 * Return: 0 (resp filled) or -errno. */
int audit_api_handle(const EndpointRequest *req, EndpointResponse *resp);
/*
 * audit_api_serve(): the same answers without the client certificate check,
 * for a caller that has established by other means that the requester is an
 * auditor (the web console's auditor session, api/console.h); req->path
 * starts with AUDIT_API_PREFIX, req->userdata is an AuditApi.
 * Return: 0 (resp filled) or -errno (-EINVAL for another path).
 */
int audit_api_serve(const EndpointRequest *req, EndpointResponse *resp);
