/* soap-forward.h: forward one adapter request to a SOAP backend (libcurl) and map the outcome
 *
 * The bus routes a SOAP exchange with the request's Body payload as the
 * body (SoapRequest.payload_xml). The forwarder wraps it in a SOAP 1.1
 * envelope with the X-Road 4.0 header (client, service, id, userId, issue)
 * and the xbus subject and purpose (soap_envelope_wrap()), POSTs it to the
 * route's URL (Content-Type text/xml, SOAPAction ""), parses the answer with
 * the hardened parser and returns the Body's payload.
 *
 * Outcomes (AdapterResponse), as the REST adapter's where they can be:
 *   2xx with an envelope         200, text/xml, the Body payload alone
 *   a SOAP Fault (any status)    its xbus type when it names a known problem
 *                                type (e.g. 404 not_found, passed through),
 *                                else 502 provider_error; never its text
 *                                beyond the faultstring's first 255 bytes
 *   an answer that is not SOAP   502 provider_error
 *   5xx without a Fault, 1xx/3xx 502 provider_error
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
