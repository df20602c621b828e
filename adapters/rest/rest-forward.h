/* rest-forward.h: forward one adapter request to an HTTP backend (libcurl) and map the outcome
 *
 * The forwarder is an AdapterCurl (adapter-curl.h: one curl easy handle;
 * connections to a backend are kept alive and reused between requests),
 * used by one thread at a time: the REST adapter has one per worker.
 *
 * The request goes to   URL + path + "?" + query + "&subject=" + SUBJECT
 * (the path only when it is not "/", the query only when not empty, the
 * subject only when there is one, percent-encoded; "&" instead of "?" when URL
 * already has a query; no doubled "/" between URL and path). A bus that
 * passes the client's headers (proto.h REQ "headers", "raw_path": X-Road's
 * passthrough, docs/protocol.md) gets the path as the client wrote it,
 * escapes untouched, and its headers are forwarded in order, but those the
 * forwarder sets (X-Road-Client, X-Road-Request-Id, X-Bus-*) or curl manages
 * (Host, Content-Length, Transfer-Encoding, Expect, Connection); then
 * X-Road-Client, X-Road-Id (when the client sent none), X-Road-Request-Id,
 * X-Bus-Subject and X-Bus-Purpose; no Accept or Content-Type when the client
 * sent none. Otherwise the decoded path and the fixed set X-Bus-Subject,
 * X-Bus-Purpose, X-Road-Client, X-Road-Id, X-Road-UserId, X-Road-Issue and
 * Content-Type. Redirects are not followed; only http and https.
 * Nothing the client sent can name another subject: the bus's deny-list keeps
 * X-Bus-* out, and a query parameter "subject" (decoded, any case) is
 * refused unless it is the only one and is the bus's subject (it then takes
 * the place of the one the forwarder would add).
 *
 * Outcomes (AdapterResponse):
 *   backend 2xx..5xx           the provider's answer as it is: status, content type
 *                              ("" when none; application/json for a bus that passes
 *                              no headers), body, and for a passing bus its header
 *                              fields (adapter_curl_take_headers())
 *   backend final 1xx          502 provider_error
 *   connect/resolve/TLS fails  503 provider_unavailable
 *   timeout                    504 provider_timeout
 *   body over max_response     502 response_invalid "response exceeds the size limit"
 *   header fields over 32 KiB  502 response_invalid
 *   other transfer failures    502 provider_error
 *   request not forwardable    400 bad_request (dot segments or bytes a URL or
 *                              header cannot carry in path, query, ids; a
 *                              client "subject" parameter)
 * Error answers carry {"error":...,"detail":...} (adapter_response_error()),
 * never the backend's own text.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "runtime/adapter-curl.h"
#include "runtime/adapter-forward.h"
#include "runtime/adapter.h"
#include "util/macro.h"

#define REST_DEFAULT_TIMEOUT_MS 30000
#define REST_DEFAULT_MAX_RESPONSE (4U * 1024 * 1024)

/*
 * rest_forward(): send `req` to `base_url` and fill `resp` (see above); on
 * return 0 resp->body is malloc'd (or NULL) and owned by the caller.
 * Return: 0 (every backend outcome is an answer), or -ENOMEM.
 */
int rest_forward(AdapterCurl *f, const char *base_url, const AdapterRequest *req, AdapterResponse *resp);

/* rest_forward_kind: xbus-adapter-rest (adapter-forward.h): its usage text, defaults and rest_forward(). */
extern const AdapterForwardKind rest_forward_kind;
