/* endpoint.h: the node's other HTTPS APIs (auditors, consent authority) as plug-ins of the front door
 *
 * The front door terminates TLS, identifies the client certificate against
 * the current registry and hands requests whose path starts with an
 * endpoint's prefix to that endpoint's handler, on the worker thread. The
 * daemon builds the table (prefix, handler, userdata); a plug-in knows only
 * its own userdata, never the Node.
 *
 * A handler is synchronous and must be bounded: it may read LMDB (read-only
 * transactions), and may briefly write (rare administrative operations such
 * as recording a consent); it must never wait on the network. A handler that
 * needs the network (a call to other nodes of a federation) answers later:
 * it sets resp->pending, hands the work to a thread that does not block the
 * worker (the forwarder's lanes), and that thread fills pending->resp and
 * posts pending->item to req->reply_to (kind req->reply_kind); the front
 * door then sends the answer on the worker and calls pending->free(). Each handler
 * checks the role it requires (registry.h REGISTRY_ROLE_*) and answers either
 * a body or a problem type (policy/problem.h).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "policy/problem.h"
#include "registry.h"
#include "util/mailbox.h"

typedef struct EndpointRequest {
        void *userdata;                  /* the endpoint's own (Endpoint.userdata) */
        const Registry *registry;        /* the registry the request is decided under */
        const RegistrySubsystem *client; /* identified by a trusted client certificate, or NULL */
        const char *method;              /* "GET", "POST", ... */
        const char *path;                /* percent-decoded path, e.g. "/audit/entries/12" */
        const char *query;               /* raw query string ("" when none) */
        const uint8_t *body;
        size_t body_size;
        const char *content_type;        /* or NULL */
        const char *accept;              /* the Accept header, or NULL */
        struct evkeyvalq *headers;       /* every request header (endpoint_header()), or NULL */
        const uint8_t *cert_fingerprint; /* SHA-256 of the TLS client certificate (32 bytes; trusted by a CA
                                          * or not: a node's is pinned by the registry), or NULL */
        Mailbox *reply_to;               /* where an answer given later is posted (EndpointPending) */
        int reply_kind;                  /* the kind its item must have */
} EndpointRequest;

/* Response headers an endpoint adds (cookies, security policies): at most this many, each bounded. */
#define ENDPOINT_HEADERS_MAX 10
#define ENDPOINT_HEADER_NAME_MAX 40
#define ENDPOINT_HEADER_VALUE_MAX 448

typedef struct EndpointHeader {
        char name[ENDPOINT_HEADER_NAME_MAX];
        char value[ENDPOINT_HEADER_VALUE_MAX];
} EndpointHeader;

typedef struct EndpointResponse {
        int status;            /* for a body */
        char content_type[64]; /* default application/json */
        char *body;            /* malloc'd; the front door frees it */
        size_t body_size;
        ProblemType problem; /* set instead of a body: the refusal */
        char detail[320];
        EndpointHeader headers[ENDPOINT_HEADERS_MAX]; /* sent with the body or the problem */
        size_t n_headers;
        struct EndpointPending *pending; /* set instead of an answer: it comes later (see the top) */
} EndpointResponse;

/* An answer given later: the handler's, which embeds it; resp is filled before item is posted. */
typedef struct EndpointPending {
        MailboxItem item; /* posted to EndpointRequest.reply_to with kind EndpointRequest.reply_kind */
        EndpointResponse resp;
        void *request;                           /* the front door's (the HTTP request it answers) */
        void (*free)(struct EndpointPending *p); /* called on the worker once the answer is sent */
} EndpointPending;

/* Return: 0 (resp filled), or -errno (answered internal_error). */
typedef int (*EndpointHandler)(const EndpointRequest *req, EndpointResponse *resp);

typedef struct Endpoint {
        const char *prefix; /* "/audit/" */
        EndpointHandler handler;
        void *userdata; /* handed to every call as req->userdata */
} Endpoint;

/* endpoint_problem(): fill resp with a problem type and a detail; returns 0 for `return endpoint_problem(...)`. */
int endpoint_problem(EndpointResponse *resp, ProblemType type, const char *fmt, ...) _printf_(3, 4);
/* endpoint_json(): take `j` (a reference is consumed), dump it as the body with `status`. Return: 0 or -ENOMEM. */
int endpoint_json(EndpointResponse *resp, int status, json_t *j);
/* endpoint_query_param(): the decoded value of `name` in `query` (malloc'd) or NULL. */
char *endpoint_query_param(const char *query, const char *name);
/* endpoint_header(): the request header `name` (case-insensitive; the first if repeated), or NULL.
 * Return: a pointer into the request, valid during the call. */
const char *endpoint_header(const EndpointRequest *req, const char *name);
/* endpoint_header_add(): add a response header. Return: 0, or -E2BIG (too many, or too long: not added). */
int endpoint_header_add(EndpointResponse *resp, const char *name, const char *fmt, ...) _printf_(3, 4);
