/* soap-forward.h: forward one adapter request to a SOAP backend (libcurl) and pass its answer back
 *
 * The bus routes a SOAP exchange with the request's Body payload as the
 * body (SoapRequest.payload_xml). The forwarder wraps it in a SOAP 1.1
 * envelope with the X-Road 4.0 header (client, service, id, userId, issue,
 * representedParty) and the xbus subject and purpose the bus decided
 * (soap_envelope_wrap()), POSTs it to the route's URL (Content-Type text/xml
 * and the client's SOAPAction, or ""; no other header: PR-MESS §2.2) and
 * passes the backend's answer, whatever its status, back to the bus as it
 * is. The node reads it (soap_response_build()): a Fault is relayed to the
 * client unchanged, an answer's X-Road header must echo the request's, and
 * its payload is checked against the service's response XSD.
 *
 * Outcomes (AdapterResponse):
 *   any answer of the backend    its status, text/xml, its bytes
 *   connect/resolve/TLS fails    503 provider_unavailable
 *   timeout                      504 provider_timeout
 *   body over max_response       502 response_invalid
 *   request not forwardable      400 bad_request (no payload, a path other
 *                                than "/", malformed identifiers or payload)
 * Redirects are not followed; only http and https.
 *
 * The forwarder is an AdapterCurl (adapter-curl.h: one curl easy handle,
 * kept-alive connections), used by one thread at a time (one per adapter
 * worker).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "runtime/adapter-curl.h"
#include "runtime/adapter-forward.h"
#include "runtime/adapter.h"
#include "soap/soap.h"
#include "util/macro.h"

#define SOAP_FORWARD_DEFAULT_TIMEOUT_MS 30000
#define SOAP_FORWARD_DEFAULT_MAX_RESPONSE (4U * 1024 * 1024)

/*
 * soap_forward(): send `req` to `url` and fill `resp` (see above); on return
 * 0 resp->body is malloc'd (or NULL) and owned by the caller.
 * Return: 0 (every backend outcome is an answer), or -ENOMEM.
 */
int soap_forward(AdapterCurl *f, const char *url, const AdapterRequest *req, AdapterResponse *resp);

/* soap_forward_kind: xbus-adapter-soap (adapter-forward.h): its usage text, defaults and soap_forward(). */
extern const AdapterForwardKind soap_forward_kind;
