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
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/problem.h"
#include "util/mailbox.h"

typedef struct Broker Broker;

typedef struct BrokerOptions {
        const char *endpoint;  /* ZeroMQ endpoint to bind: "tcp://127.0.0.1:5560" */
        unsigned heartbeat_ms; /* default PROTO_HEARTBEAT_MS */
        unsigned liveness;     /* missed heartbeats before an adapter is dropped */
        size_t queue_capacity; /* requests waiting for the broker thread */
        size_t max_message;    /* largest frame accepted from adapters */
} BrokerOptions;

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
        char content_type[128];
        void *response; /* malloc'd; the submitter frees it */
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
} BrokerStats;

/* broker_new(): bind and start the broker thread. Return: 0 or -errno (-EADDRINUSE, ...). */
int broker_new(Broker **ret, const BrokerOptions *opts);
/* broker_free(): stop; requests in flight are answered provider_unavailable. NULL in, NULL out. */
Broker *broker_free(Broker *b);
/* broker_submit(): thread-safe. Return: 0 or -EAGAIN (queue full: answer 503 yourself). */
int broker_submit(Broker *b, BusRequest *req);
void broker_stats(Broker *b, BrokerStats *ret);
