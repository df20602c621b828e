/* forwarder.h: requests from this node to other nodes of a federation, over mutual TLS with libcurl
 *
 * A Forwarder is a few lanes, each a thread with its own libcurl multi
 * handle and its own pool of easy handles: the connections it opens to
 * other nodes stay open (HTTP/1.1 keep-alive) and are reused by the next
 * request to the same node. Each HTTP worker hands its requests to one lane
 * (forwarder_submit()'s `lane`), so a lane's handles are that worker's.
 *
 * The TLS client certificate and key (the node's own, [tls] certificate and
 * key) are read once, at forwarder_new(), and installed into every new TLS
 * context from memory. The peer is checked before anything is sent on a new
 * or a reused connection, against the target node as the request's registry
 * names it (RegistryNode): its pinned certificate fingerprints, or its CA and
 * name. A node whose pin changes with a new snapshot is therefore checked
 * against the new pin on the next request, even on an old connection.
 *
 * The answer is written into the request's BusRequest (status, headers,
 * content type, body; or an error: node_unreachable, node_untrusted,
 * node_timeout, node_inconsistent, response_invalid) and the BusRequest's
 * item is posted to its reply_to mailbox, exactly like an adapter's answer
 * through the broker. A 2xx answer carries the provider node's receipt,
 * checked here (envelope.h) before the answer is handed back.
 *
 * A node call (ForwardRequest.node_call: the citizen's view, consent records
 * at the node that decides) takes the same lanes and the same TLS checks; its
 * answer, any status, is handed back as it came, to its done() callback.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/broker.h"
#include "federation/envelope.h"
#include "registry.h"
#include "util/mailbox.h"

typedef struct Forwarder Forwarder;

typedef struct ForwarderOptions {
        unsigned lanes;        /* threads (one per HTTP worker); at least 1 */
        const char *cert_file; /* the node's TLS certificate (PEM), its client certificate towards other nodes */
        const char *key_file;  /* its private key (PEM) */
} ForwarderOptions;

/* One forwarded request; the submitter owns it (and what it points to) until the answer is posted back. */
typedef struct ForwardRequest {
        MailboxItem item; /* the forwarder's */
        BusRequest *bus;  /* in: timeout_ms, max_response, body; out: the answer, posted to bus->reply_to */
        const RegistryNode *target;
        char *url;              /* owned: the target's address and the request target */
        const char *method;     /* "GET", ... */
        char **headers;         /* owned: "Name: value" lines, NULL-terminated */
        ReceiptExpect expect;   /* what the receipt of a 2xx answer must say (response_hash: filled here) */
        char response_hash[65]; /* hex SHA-256 of the body received */
        /* out, besides the BusRequest */
        char *receipt;         /* the provider node's receipt (X-Bus-Receipt) of a 2xx answer, owned, or NULL */
        uint64_t provider_seq; /* its log sequence number (from the receipt) */
        char *xroad_error;     /* X-Road-Error of a refusal by the provider's node, owned, or NULL */
        /* a node call (envelope.h "Node calls") rather than an exchange: no receipt is expected, and the
         * answer is handed to done(r) on the lane's thread instead of being posted to bus->reply_to */
        bool node_call;
        void (*done)(struct ForwardRequest *r);
        void *userdata; /* the submitter's, for done() */
        /* the lane's */
        void *easy;
        bool untrusted, too_large, oom;
        char peer_fp[72]; /* "sha256:<hex>" of the certificate the peer presented, for the message */
} ForwardRequest;

/* forwarder_new(): read the client certificate and key, start the lanes. Return: 0 or -errno (-EINVAL: a bad PEM). */
int forwarder_new(Forwarder **ret, const ForwarderOptions *o);
/* forwarder_free(): stop; requests in flight are answered node_unreachable. NULL in, NULL out. */
Forwarder *forwarder_free(Forwarder *f);

/* forwarder_submit(): hand `r` to lane `lane` (modulo the lanes). Thread-safe. Return: 0, -EAGAIN (queue full). */
int forwarder_submit(Forwarder *f, ForwardRequest *r, unsigned lane);

/* forward_request_free(): free what `r` owns, and `r`. NULL in, NULL out. */
ForwardRequest *forward_request_free(ForwardRequest *r);
