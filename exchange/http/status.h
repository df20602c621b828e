/* status.h: the node's status as one JSON object, for the operator's console page
 *
 * The same facts as /health and /metrics, gathered for a reader rather than
 * a scraper: the version, the health verdict and its reasons, the registry
 * in force (instance, version, age), each service with its live adapters,
 * refusals by problem type since start, the log's size and its last
 * checkpoint, the web console's sign-ins, and the expiry of the node's
 * certificates.
 */
#pragma once

#include <jansson.h>

#include "api/console.h"
#include "http/frontdoor.h"
#include "node/node.h"

/* What the status reads: the daemon's (borrowed). */
typedef struct StatusSource {
        Node *node;
        _Atomic(FrontDoor *) frontdoor; /* its TLS context's certificates (as /metrics shows them), or NULL */
        const ConsoleApi *console;      /* for its counters, or NULL */
} StatusSource;

/* status_json(): the status of the node in `userdata` (a StatusSource) into *ret (a new object).
 * Thread-safe (reads atomics, the registry by reference, LMDB). Return: 0, -ENOMEM, -errno. */
int status_json(void *userdata, json_t **ret);
