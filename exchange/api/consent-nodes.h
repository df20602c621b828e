/* consent-nodes.h: the consent API across the nodes of a federation (the citizen's view, records at the deciding node)
 *
 * In a registry with [node] sections the consent authority (the national
 * portal) calls the node that hosts it, and that node calls the others over
 * the node-to-node channel (federation/forwarder.h: libcurl, mutual TLS
 * pinned by the snapshot) with a node-call envelope (federation/envelope.h):
 *
 *  - the citizen's view ("accesses"): a POST to every other node of the
 *    snapshot with the subject in the JSON body; each answers from its own
 *    log index under its own pseudonym key; the answers are merged here,
 *    newest first, each item naming its node, and the nodes that did not
 *    answer are named rather than failing the view;
 *  - a consent record created ("consent-create") at the one node that hosts
 *    the providers of its scope, and revoked ("consent-revoke") at the node
 *    that holds it; that node's answer is passed back as it came.
 *
 * The calls run on the forwarder's lanes (one multi handle each: the nodes
 * are asked concurrently), each bounded by CONSENT_NODES_TIMEOUT_MS and
 * CONSENT_NODES_ANSWER_MAX; the endpoint answers later (node/endpoint.h
 * EndpointPending). Nothing here logs: the subject must never reach a log.
 * docs/federation.md "Consent across nodes" is the wire.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/signer.h"
#include "federation/forwarder.h"
#include "node/endpoint.h"

#define CONSENT_NODES_TIMEOUT_MS 3000U      /* each node's deadline */
#define CONSENT_NODES_ANSWER_MAX (4U << 20) /* each node's answer, at most */
#define CONSENT_NODES_QUERY_MAX (64U << 10) /* the body of an accesses query, at most */
#define CONSENT_NODES_MAX 1024              /* nodes named in "cursors", at most */
#define CONSENT_NODES_PATH_ACCESSES "/consent/accesses"
#define CONSENT_NODES_LIMIT_DEFAULT 50 /* items per node (the consent API's CONSENT_API_ACCESSES_DEFAULT) */
#define CONSENT_NODES_LIMIT_MAX 500    /* (CONSENT_API_ACCESSES_MAX) */

/* What calls to other nodes need (part of the consent API's userdata; borrowed). */
typedef struct ConsentNodes {
        Forwarder *forwarder; /* to the other nodes of a federation, or NULL */
        const Signer *signer; /* the node's receipt key: signs node calls; or NULL */
} ConsentNodes;

/* An accesses query, as the portal (or a node) sends it in a POST body. */
typedef struct ConsentNodesQuery {
        char subject[65]; /* the personal id */
        uint64_t limit;   /* per node, 1..CONSENT_NODES_LIMIT_MAX (default CONSENT_NODES_LIMIT_DEFAULT) */
        uint64_t before;  /* "cursor": entries strictly below this seq (UINT64_MAX: from the newest) */
        json_t *cursors;  /* "cursors": {node id: seq}, a new reference, or NULL (the portal's next pages) */
} ConsentNodesQuery;

/*
 * consent_nodes_query_parse(): read the body {"subject": ID, "limit": N,
 * "cursor": SEQ, "cursors": {NODE: SEQ, ...}} (all but subject optional;
 * other members refused; `cursors` only with `allow_cursors`). On failure
 * `why` says what is wrong (never the subject). The caller drops ret->cursors.
 * Return: 0, 1 (malformed: why filled), or -ENOMEM.
 */
int consent_nodes_query_parse(const void *body, size_t size, bool allow_cursors, ConsentNodesQuery *ret, char *why,
                              size_t why_size);

/*
 * consent_nodes_answer_parse(): read another node's answer to an accesses
 * call: {"accesses": [{...}, ...], "next_cursor": SEQ|null}, every item an
 * object with a string "time". *ret_accesses (a new reference) and
 * *ret_next (0 for null). Return: 0, 1 (malformed), or -ENOMEM.
 */
int consent_nodes_answer_parse(const void *body, size_t size, json_t **ret_accesses, uint64_t *ret_next);

/*
 * consent_nodes_merge(): the merged view from per-node pages: `pages` is
 * {node id: [items]} (items of the node's own answer), `status` the "nodes"
 * array to show as it is. Every item gets "node"; they are sorted newest
 * first (by "time", then node); an item of a client's node that names the
 * provider's node (peer_role "provider", peer_node P) is dropped when P's
 * page holds the same X-Road-Id (the provider's node served it: one line,
 * not two). Return: 0 with *ret {"accesses": [...], "nodes": status} (new
 * reference), or -ENOMEM.
 */
int consent_nodes_merge(json_t *pages, json_t *status, json_t **ret);

/*
 * consent_nodes_accesses(): answer the citizen's view across nodes: `local`
 * (this node's page, a reference taken) and a call to every other node of
 * the snapshot (or those `q->cursors` names). Sets resp->pending.
 * Return: 0, or -errno (nothing pending).
 */
int consent_nodes_accesses(const ConsentNodes *cn, const EndpointRequest *req, EndpointResponse *resp,
                           const ConsentNodesQuery *q, json_t *local);

/*
 * consent_nodes_forward(): pass the consent authority's call (`kind`
 * "consent-create" with req's body to `to`, or "consent-revoke" of consent
 * `id` to every other node, the first that holds it answering) to other
 * nodes, and answer with their answer. Sets resp->pending, or answers
 * directly (no other node). Return: 0, or -errno.
 */
int consent_nodes_forward(const ConsentNodes *cn, const EndpointRequest *req, EndpointResponse *resp, const char *kind,
                          const RegistryNode *to, const char *id);

/* consent_nodes_self(): this node in `reg` (the [node] with cn's receipt key), or NULL. */
const RegistryNode *consent_nodes_self(const ConsentNodes *cn, const Registry *reg);
