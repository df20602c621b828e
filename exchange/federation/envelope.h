/* envelope.h: what one node of a federation signs for another, and how the other checks it
 *
 * A client node that forwards an exchange to the provider's node signs a
 * forward envelope: a compact JWS (ES256, typ "xbus-forward+jws") with its
 * receipt key, the key the registry snapshot names in its [node] section.
 * It travels in the X-Bus-Forward header of the forwarded request, over
 * mutual TLS. The provider's node checks it against the snapshot: the TLS
 * certificate is a node's (pinned), the envelope is signed by that node's
 * key, names this node, a client that node hosts, and the request as it
 * arrived (method, target, X-Road-Id, body hash), within a clock skew.
 *
 * The answer comes back with the provider node's receipt (X-Bus-Receipt),
 * which the client node checks against the same snapshot: signed by the
 * provider node's key (one signature per exchange, or one tree head per
 * group commit with the entry's inclusion path under it), for this
 * X-Road-Id, client, service, request and response. docs/federation.md "The wire between nodes" is the protocol.
 *
 * Everything here is a pure function of its arguments: no I/O, thread-safe.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "crypto/signer.h"
#include "federation/head-cache.h"
#include "policy/problem.h"
#include "registry.h"

#define FORWARD_TYP "xbus-forward+jws"
#define FORWARD_HEADER "X-Bus-Forward"
#define FORWARD_SKEW_USEC (300ULL * 1000000ULL) /* how far the envelope's time may be from ours */

/* What a forward envelope says (the payload's members; strings borrowed). */
typedef struct ForwardClaims {
        const char *node;         /* the client node's id */
        const char *to;           /* the provider node's id */
        const char *client;       /* the client subsystem's id */
        const char *service;      /* the service's id */
        const char *method;       /* "GET", ... (the HTTP method: "POST" for SOAP) */
        const char *target;       /* the request target as forwarded: "/r1/...[?query]", or "/" (SOAP) */
        const char *xroad_id;     /* X-Road-Id */
        const char *request_hash; /* hex SHA-256 of the body as forwarded */
        uint64_t time_usec;       /* CLOCK_REALTIME when it was signed */
} ForwardClaims;

/*
 * forward_envelope_sign(): the compact JWS of `c` signed by `s` (the node's
 * receipt key). Return: 0 with *ret (malloc'd), -EINVAL, -ENOMEM, -EIO.
 */
int forward_envelope_sign(const Signer *s, const ForwardClaims *c, char **ret);

/*
 * forward_envelope_check(): the provider node's check of an envelope `jws`
 * that came over a TLS connection whose client certificate has the SHA-256
 * `peer_fp` (NULL: none), for the request `expect` describes (its node, to
 * and time_usec are ignored; client is the X-Road-Client header, decoded).
 * `self_kid` is this node's receipt key id (signer_kid()); `now_usec`
 * CLOCK_REALTIME. On success *ret_client is the client subsystem the
 * forwarding node vouches for, *ret_node that node.
 * Return: 0, or 1 with *p set (node_refused, saying why), or -ENOMEM.
 */
int forward_envelope_check(const Registry *reg, const char *self_kid, const uint8_t *peer_fp, const char *jws,
                           const ForwardClaims *expect, uint64_t now_usec, const RegistrySubsystem **ret_client,
                           const RegistryNode **ret_node, Problem *p);

/* What the client node expects of the provider node's receipt. */
typedef struct ReceiptExpect {
        const char *xroad_id;
        const char *client;
        const char *service;
        const char *request_hash;  /* hex SHA-256 of the body as forwarded */
        const char *response_hash; /* hex SHA-256 of the body received */
} ReceiptExpect;

/*
 * forward_receipt_check(): check the receipt (X-Bus-Receipt of the provider
 * node's answer) against `node`'s receipt key and `e`. Both forms: one JWS
 * per exchange (crypto/receipt.h), or the group commit's tree head, entry
 * and inclusion path (log/batch-receipt.h: the head signed by the node's
 * key, of the log its checkpoint key names, the entry under the head's root
 * by the path, the entry's fields as `e` says). `heads` (NULL: none) keeps
 * the heads verified before, so a batch's head is verified once, not once
 * per exchange. *ret_seq: the provider node's log sequence number of the
 * exchange.
 * Return: 0, or 1 with `why` (a sentence) filled, or -ENOMEM.
 */
int forward_receipt_check(const RegistryNode *node, const char *receipt, const ReceiptExpect *e, HeadCache *heads,
                          uint64_t *ret_seq, char *why, size_t why_size);

/*
 * Node calls: one node asking another for something other than an exchange,
 * on behalf of a consent authority it hosts (docs/federation.md "Consent
 * across nodes"): the citizen's access history ("accesses"), a consent
 * record created or revoked at the node that decides ("consent-create",
 * "consent-revoke"). The calling node signs a node-call envelope, a compact
 * JWS (ES256, typ "xbus-node-call+jws") with its receipt key, carried in
 * X-Bus-Node-Call over the same mutual TLS as a forward. The body (JSON)
 * carries the subject: never the URL.
 */
#define NODE_CALL_TYP "xbus-node-call+jws"
#define NODE_CALL_HEADER "X-Bus-Node-Call"
#define NODE_CALL_KIND_MAX 32

/* What a node-call envelope says (the payload's members; strings borrowed). */
typedef struct NodeCallClaims {
        const char *node;      /* the calling node's id */
        const char *to;        /* the called node's id */
        const char *kind;      /* "accesses", "consent-create", "consent-revoke" */
        const char *client;    /* the consent authority the calling node acts for (a subsystem it hosts) */
        const char *method;    /* "POST" */
        const char *target;    /* the path as sent ("/consent/accesses") */
        const char *body_hash; /* hex SHA-256 of the body as sent */
        uint64_t time_usec;    /* CLOCK_REALTIME when it was signed */
} NodeCallClaims;

/*
 * node_call_sign(): the compact JWS of `c` signed by `s` (the node's receipt
 * key). Return: 0 with *ret (malloc'd), -EINVAL, -ENOMEM, -EIO.
 */
int node_call_sign(const Signer *s, const NodeCallClaims *c, char **ret);

/*
 * node_call_check(): the called node's check of the envelope `jws` that came
 * over a TLS connection whose client certificate has the SHA-256 `peer_fp`
 * (NULL: none), for the call `expect` describes (kind, method, target,
 * body_hash; its node, to, client and time_usec are ignored). The
 * certificate must be pinned by a [node] of `reg`, the envelope signed by
 * that node's receipt key, addressed to this node (`self_kid`), of this kind
 * and call, within FORWARD_SKEW_USEC of `now_usec`, and name a client that
 * node hosts and that is a consent authority. On success *ret_client is that
 * client, *ret_node the calling node (both borrowed from `reg`).
 * Return: 0, or 1 with *p set (node_refused, saying why), or -ENOMEM.
 */
int node_call_check(const Registry *reg, const char *self_kid, const uint8_t *peer_fp, const char *jws,
                    const NodeCallClaims *expect, uint64_t now_usec, const RegistrySubsystem **ret_client,
                    const RegistryNode **ret_node, Problem *p);
