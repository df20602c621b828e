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

#include <stddef.h>
#include <stdint.h>

typedef struct AdapterRequest {
        const char *service;
        const char *method;
        const char *path;               /* "/" at least */
        const char *query;              /* "" when none */
        const char *client;
        const char *subject;            /* NULL when none */
        const char *purpose;            /* NULL when none */
        const char *user_id;
        const char *issue;
        const char *xroad_id;
        const char *content_type;
        uint64_t timeout_ms;
        const uint8_t *body;
        size_t body_size;
} AdapterRequest;

typedef struct AdapterResponse {
        int status;                     /* HTTP status the provider answered */
        char content_type[128];         /* default "application/json" */
        const char *error;              /* NULL, or a bus error type (e.g. "provider_unavailable") */
        char detail[256];               /* for errors: one line for the client, no internals */
        uint8_t *body;                  /* malloc'd; the runtime frees it after sending */
        size_t body_size;
} AdapterResponse;

typedef struct AdapterHandler {
        /* per worker: create state (may be NULL); called in the worker thread */
        int (*worker_init)(void *userdata, void **ret_state);
        void (*worker_done)(void *userdata, void *state);
        /* answer one request; return 0, or -errno (then answered provider_unavailable) */
        int (*handle)(void *userdata, void *state, const AdapterRequest *req, AdapterResponse *resp);
} AdapterHandler;

typedef struct AdapterOptions {
        const char *endpoint;           /* "tcp://127.0.0.1:5560" */
        const char *kind;               /* "sample", "rest", ... */
        const char *name;               /* instance name for logs */
        const char *const *services;    /* NULL-terminated */
        unsigned workers;               /* >= 1 */
        unsigned capacity;              /* in flight per worker, announced in READY */
        const char *curve_server_key;   /* Z85, NULL for no CURVE (loopback) */
        const char *curve_public_key;
        const char *curve_secret_key;
} AdapterOptions;

/*
 * adapter_run(): serve until SIGINT/SIGTERM (or adapter_stop()).
 * Return: 0 on a clean stop, -errno on failure.
 */
int adapter_run(const AdapterOptions *opts, const AdapterHandler *h, void *userdata);
/* adapter_stop(): ask adapter_run() to return (async-signal-safe). */
void adapter_stop(void);
