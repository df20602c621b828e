/* adapter.h: the adapter side of the bus protocol (exchange/bus/proto.h)
 *
 * An adapter program creates an AdapterRuntime with the services it serves
 * and a handler, and calls adapter_run(). The runtime connects a DEALER to
 * the bus, announces READY, heartbeats, re-announces when the bus restarts,
 * and calls the handler for each REQ. With `workers` > 1 it runs that many
 * threads, each with its own DEALER (each is a separate adapter instance to
 * the bus, which shares load between them) and its own handler state.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/keyfile.h"
#include "policy/problem.h"

/* One HTTP header, as the bus carries them in order (proto.h "headers"). */
typedef struct AdapterHeader {
        const char *name, *value;
} AdapterHeader;

typedef struct AdapterRequest {
        const char *service;
        const char *method;
        const char *path;     /* "/" at least: decoded, as the access rights matched it */
        const char *raw_path; /* the service path as the client sent it (escapes kept); "" when the bus sent none */
        const char *query;    /* "" when none */
        const char *client;
        const char *subject; /* NULL when none */
        const char *purpose; /* NULL when none */
        const char *user_id;
        const char *issue;
        const char *xroad_id;
        const char *request_id;        /* X-Road-Request-Id ("" when none) */
        const char *represented_party; /* X-Road-Represented-Party ("" when none) */
        const char *content_type;
        const char *soap_action; /* SOAP: the client's SOAPAction, NULL when it sent none */
        /* The client's headers for the provider, in order, without the bus's deny-list; has_headers is
         * false when the bus sent none (then forward the fixed set of before). */
        const AdapterHeader *headers;
        size_t n_headers;
        bool has_headers;
        uint64_t timeout_ms;
        const uint8_t *body;
        size_t body_size;
} AdapterRequest;

typedef struct AdapterResponse {
        int status;             /* HTTP status the provider answered */
        char content_type[128]; /* default "application/json"; "" for none */
        ProblemType error;      /* PROBLEM_NONE, or the error (e.g. PROBLEM_PROVIDER_UNAVAILABLE) */
        char detail[256];       /* for errors: one line for the client, no internals */
        uint8_t *body;          /* malloc'd; the runtime frees it after sending */
        size_t body_size;
        /* The provider's response headers for the client (adapter_response_add_header()), owned by
         * the runtime; the bus drops its deny-list. */
        AdapterHeader *headers;
        size_t n_headers;
} AdapterResponse;

typedef struct AdapterHandler {
        /* per worker: create state (may be NULL); called in the worker thread */
        int (*worker_init)(void *userdata, void **ret_state);
        void (*worker_done)(void *userdata, void *state);
        /* answer one request; return 0, or -errno (then answered provider_unavailable) */
        int (*handle)(void *userdata, void *state, const AdapterRequest *req, AdapterResponse *resp);
} AdapterHandler;

typedef struct AdapterOptions {
        const char *endpoint;         /* "tcp://127.0.0.1:5560" */
        const char *kind;             /* "sample", "rest", ... */
        const char *name;             /* instance name for logs */
        const char *const *services;  /* NULL-terminated */
        unsigned workers;             /* >= 1 */
        unsigned capacity;            /* in flight per worker, announced in READY */
        const char *curve_server_key; /* Z85, NULL for no CURVE (loopback) */
        const char *curve_public_key;
        const char *curve_secret_key;
        size_t max_body; /* largest REQ body accepted; 0: ADAPTER_MAX_BODY_DEFAULT */
        /*
         * Handle requests on the worker's I/O thread instead of a handler thread:
         * two thread hand-offs fewer per request, for handlers that never wait
         * (in-memory or local lookups). Heartbeats pause while a handler runs, so
         * it must return well within the heartbeat interval. Default: false.
         */
        bool inline_handler;
} AdapterOptions;

#define ADAPTER_MAX_WORKERS 64
#define ADAPTER_MAX_BODY_DEFAULT (8U * 1024 * 1024)
#define ADAPTER_MAX_BODY_LIMIT (256U * 1024 * 1024)

/*
 * Strings in AdapterRequest point into the request and live only for the
 * handle() call. `subject` and `purpose` are NULL when the bus sent none; the
 * other strings are "" when absent. `timeout_ms` is 0 when the bus set none.
 *
 * The handler fills AdapterResponse: the runtime pre-sets status 0,
 * content_type "application/json" ("" means the answer has none), error
 * NULL, detail "", body NULL, no headers. `error`
 * must point to a string that outlives the call (a literal). A status
 * outside 100..599 is answered as 502 provider_error; a body larger than
 * ADAPTER_MAX_BODY_LIMIT as 502 response_invalid (programs bound their own
 * answers further, e.g. the REST adapter's --max-response). The runtime
 * takes `body` in every case.
 *
 * Request limits: a meta frame over PROTO_MAX_META, or a malformed message,
 * is ignored (debug log); a body over max_body is answered 413
 * payload_too_large. Frames over twice the larger of the two limits make
 * ZeroMQ drop the connection (it reconnects).
 *
 * Handler calls are sequential per worker (one request at a time); each
 * worker has an I/O thread that keeps heartbeating while its handler works,
 * so a slow backend does not make the bus drop the adapter. Requests still
 * queued when their timeout_ms has passed are dropped (the bus has answered
 * them already).
 *
 * Caveats: one adapter_run() at a time per process (signal handlers and the
 * stop flag are process-wide); a second concurrent call returns -EBUSY.
 */

/*
 * adapter_run(): serve until SIGINT/SIGTERM (or adapter_stop()). Installs
 * handlers for SIGINT and SIGTERM for the duration of the call and restores
 * the previous ones before returning. On stop each worker finishes its
 * current request, sends its answer, then BYE.
 * Return: 0 on a clean stop, -EINVAL on bad options, -E2BIG when the READY
 * announcement exceeds PROTO_MAX_READY, -EBUSY when already running, the
 * first worker_init() failure, or another -errno.
 */
int adapter_run(const AdapterOptions *opts, const AdapterHandler *h, void *userdata);
/* adapter_stop(): ask adapter_run() to return (async-signal-safe). */
void adapter_stop(void);

/*
 * adapter_response_error(): make `resp` an error answer: status, error type,
 * detail (one line for the client, or NULL) and the body
 * {"error":...,"detail":...} (application/json), freeing any body it had.
 * The bus replaces the body with its own problem document for its error
 * types (provider_unavailable, provider_timeout, provider_error,
 * response_invalid); any other error is the provider's answer and reaches
 * the client as it is. Return: 0, or -ENOMEM (status and error are set, the
 * body is left empty).
 */
int adapter_response_error(AdapterResponse *resp, int status, ProblemType error, const char *detail);

/*
 * adapter_response_add_header(): append a copy of the header `name`: `value`
 * to `resp` (sent to the bus in order, at most PROTO_MAX_HEADERS; invalid
 * names or values, with control characters, are refused). Return: 0,
 * -EINVAL, -E2BIG, or -ENOMEM.
 */
int adapter_response_add_header(AdapterResponse *resp, const char *name, const char *value);

#define ADAPTER_CURVE_KEY_LEN KEYFILE_CURVE_LEN /* Z85 text of a 32-byte key (crypto/keyfile.h) */
