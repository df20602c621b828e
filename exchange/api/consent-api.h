/* consent-api.h: the consent authority's HTTPS API ("/consent/"), behind the front door
 *
 * Only a client identified (mutual TLS) as a subsystem with the
 * consent-authority role may call it; others get client_unknown (no or an
 * unregistered certificate) or access_denied. JSON in, JSON out
 * (docs/consent.md):
 *
 *   POST   /consent/consents                         create a record (201)
 *   GET    /consent/consents/{id}                    read one
 *   POST   /consent/consents/{id}/revoke             revoke (also DELETE /consent/consents/{id})
 *   GET    /consent/subjects/{personal id}/consents  a subject's consents (?cursor=ID&limit=N)
 *   GET    /consent/subjects/{personal id}/accesses  the subject's access history, newest first
 *                                                    (?cursor=SEQ&limit=N), from the log's
 *                                                    by_subject index
 *   POST   /consent/accesses                         the same, the subject in the body (never in a
 *                                                    URL): {"subject","limit","cursor"|"cursors"}
 *
 * In a federation (a registry with [node] sections) the access history
 * gathers every node's, a consent is created at the node that hosts its
 * scope's providers and revoked where it is held (consent-nodes.h); calls
 * from other nodes (X-Bus-Node-Call) are answered from this node alone.
 *
 * Writes (create, revoke) run on the HTTP worker in their own LMDB write
 * transaction; they serialize with the log writer's group commits, and are
 * answered once exlog_sync() made them durable.
 */
#pragma once

#include "consent/consent.h"
#include "api/consent-nodes.h"
#include "crypto/pseudonym.h"
#include "log/exlog.h"
#include "node/endpoint.h"

#define CONSENT_API_PREFIX "/consent/"

#define CONSENT_API_BODY_MAX (64U * 1024U)
#define CONSENT_API_ACCESSES_DEFAULT CONSENT_NODES_LIMIT_DEFAULT
#define CONSENT_API_ACCESSES_MAX CONSENT_NODES_LIMIT_MAX
#define CONSENT_API_CONSENTS_DEFAULT 100

/* What the API works on: the endpoint's userdata (borrowed; must outlive the endpoint). */
typedef struct ConsentApi {
        ConsentStore *consents;
        const PseudonymKey *pseudonyms; /* personal ids in paths and bodies become pseudonyms */
        ExchangeLog *log;               /* the access history reads its subject index */
        ConsentNodes nodes;             /* calls to the other nodes of a federation (consent-nodes.h) */
} ConsentApi;

/* consent_api_handle(): the EndpointHandler; req->userdata is a ConsentApi. Return: 0 (resp filled) or -errno. */
int consent_api_handle(const EndpointRequest *req, EndpointResponse *resp);

/*
 * consent_api_accesses(): the access-history page as the API answers it,
 * {"accesses":[{seq,time,client,service,purpose,basis,legal_reference,consent,
 * decision,status,error}...],"next_cursor":SEQ|null}, for a subject pseudonym
 * (hex), entries strictly below `before` (UINT64_MAX: from the newest), at
 * most `limit` (1..CONSENT_API_ACCESSES_MAX). Exposed for the benchmark.
 * Return: 0 with *ret (a new reference), -EINVAL, -errno.
 */
int consent_api_accesses(ExlogReader *r, const char *pseudonym, uint64_t before, size_t limit, json_t **ret);
