/* broker.h: the bus side of the adapter protocol (one thread owning a ZeroMQ ROUTER)
 *
 * HTTP workers submit BusRequests; the broker thread picks a live adapter
 * instance that announced the service (the one with the fewest requests in
 * flight), sends it the request, and posts the BusRequest back to its
 * reply_to mailbox with the provider's answer, or with a bus error:
 *   provider_unavailable  no live adapter serves the service, all are at
 *                         capacity, or the adapter went away mid-request
 *   provider_timeout      no answer within the request's timeout
 *   response_invalid      the answer is larger than the service allows
 * Every submitted request is posted back exactly once.
 *
 * Authentication: the ROUTER is a CURVE server with the node's key, and the
 * broker thread is also the ZAP handler of its context (RFC 27,
 * inproc://zeromq.zap.01, bound before the ROUTER): a connection is admitted
 * only with a key that some provider subsystem of the current registry lists
 * (registry_adapter_key_known()), and that key is the ZAP User-Id of
 * everything it sends. A READY registers only the services whose provider
 * subsystem lists the connection's key; the rest are refused (REFUSED to the
 * adapter). The registry is data handed down by the daemon at start and at
 * each reload (broker_set_registry()); at a reload an adapter that lost any
 * service is dropped and told UNKNOWN, so it announces again. Every refusal
 * is counted by reason (BrokerStats) and logged with the key and service,
 * at most BROKER_REFUSALS_LOGGED lines a minute (this actor thread logs: its
 * refusals are operational events nobody else sees).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/keyfile.h"
#include "policy/problem.h"
#include "registry.h"
#include "util/mailbox.h"

typedef struct Broker Broker;

typedef struct BrokerOptions {
        const char *endpoint;         /* ZeroMQ endpoint to bind: "tcp://127.0.0.1:5560" */
        unsigned heartbeat_ms;        /* default PROTO_HEARTBEAT_MS */
        unsigned liveness;            /* missed heartbeats before an adapter is dropped */
        size_t queue_capacity;        /* requests waiting for the broker thread */
        size_t max_message;           /* largest frame accepted from adapters */
        const char *curve_secret_key; /* the node's CURVE secret key (Z85): required */
        Registry *registry;           /* the first allow-list (the broker takes its own reference): required */
} BrokerOptions;

/* Why an adapter, a connection or an announced service was refused (xbus_adapter_refusals_total{reason}). */
typedef enum BrokerRefusal {
        BROKER_REFUSED_NO_KEY,      /* "no_key": a connection without CURVE */
        BROKER_REFUSED_HANDSHAKE,   /* "handshake": another failed handshake (wrong server key, not ZeroMQ) */
        BROKER_REFUSED_KEY_UNKNOWN, /* "key_unknown": ZAP: a key no provider subsystem lists */
        BROKER_REFUSED_SERVICE,     /* "service_not_allowed": announced, not bound to the key */
        BROKER_REFUSED_REVOKED,     /* "revoked": served, no longer bound to the key after a reload */
        _BROKER_REFUSED_MAX,
} BrokerRefusal;

#define BROKER_REFUSALS_LOGGED 20 /* refusal lines a minute; the rest are counted, then summed up */

/* broker_refusal_name(): "no_key", ... (static). */
const char *broker_refusal_name(BrokerRefusal r);

typedef struct BusRequest {
        MailboxItem item; /* kind: the submitter's */
        Mailbox *reply_to;
        /* in (owned by the submitter, valid until posted back) */
        const char *service;
        const char *meta; /* JSON meta frame (proto.h REQ) */
        size_t meta_size;
        const void *body;
        size_t body_size;
        uint64_t timeout_ms;
        size_t max_response;
        /* out */
        int status;        /* HTTP status: the provider's, or the bus's on error */
        ProblemType error; /* PROBLEM_NONE, or the bus's error (the provider did not answer properly) */
        char detail[256];
        char content_type[128]; /* "" when the provider sent none */
        json_t *headers;        /* the provider's response headers [[name, value], ...], or NULL; the
                                 * submitter drops its reference */
        void *response;         /* malloc'd; the submitter frees it */
        size_t response_size;
        /* broker private */
        uint64_t id;
        uint64_t deadline;
        size_t heap_index;
        int adapter;
} BusRequest;

typedef struct BrokerStats {
        unsigned adapters; /* live adapter instances */
        unsigned in_flight;
        uint64_t requests, timeouts, unavailable;
        uint64_t refusals[_BROKER_REFUSED_MAX];
} BrokerStats;

/* broker_new(): bind and start the broker thread. Return: 0 or -errno (-EINVAL without a key or registry, -EADDRINUSE, ...). */
int broker_new(Broker **ret, const BrokerOptions *opts);
/* broker_free(): stop; requests in flight are answered provider_unavailable. NULL in, NULL out. */
Broker *broker_free(Broker *b);
/* broker_submit(): thread-safe. Return: 0 or -EAGAIN (queue full: answer 503 yourself). */
int broker_submit(Broker *b, BusRequest *req);
void broker_stats(Broker *b, BrokerStats *ret);
/* broker_set_registry(): thread-safe: the broker takes a reference to `r` and uses it from its next round. */
void broker_set_registry(Broker *b, Registry *r);
/*
 * broker_unserved(): the services that some adapter announced since the
 * broker started and that no live adapter has served for at least one
 * liveness period (heartbeat x liveness: the time a restarting adapter gets
 * to come back). Thread-safe. *ret is a malloc'd NULL-terminated strv.
 * Return: 0 or -ENOMEM.
 */
int broker_unserved(Broker *b, char ***ret);
/* broker_service_adapters(): the live adapter instances serving `service` (as of the last change). Thread-safe. */
unsigned broker_service_adapters(Broker *b, const char *service);
