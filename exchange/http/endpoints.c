/* endpoints.c: the table of the node's non-exchange APIs (one line per module) */
#include <stddef.h>

#include "consent/consent-api.h"
#include "audit/audit-api.h"
#include "http/endpoint.h"

const Endpoint *const node_endpoints[] = {
        &audit_endpoint,
        &consent_endpoint,
        NULL,
};
