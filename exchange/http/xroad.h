/* xroad.h: the X-Road REST wire rules: identifiers in headers, the request hash, header deny-lists, the Accept rule
 *
 * Pure functions over strings (no libevent, no registry), so that the unit
 * test can check each against the specification (PR-REST 1.0.4; the digest
 * of issue 11 names the sections):
 *
 *   xroad_id_decode()       an identifier header (X-Road-Client,
 *                           X-Road-Security-Server, X-Road-Represented-Party):
 *                           parts separated by '/', each percent-decoded on its own
 *   xroad_id_encode()       the same written back, each part escaped as a URI path segment
 *   xroad_header_*()        which headers the node drops: X-Road's filtered headers
 *                           (hop-by-hop and host-revealing), and in each direction
 *                           the ones the bus owns (docs/protocol.md, "Passthrough")
 *   xroad_error_format()    the error body a client asked for with Accept
 *   xroad_request_hash()    X-Road-Request-Hash over what the client sent
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "crypto/hash.h"

#define XROAD_ID_MAX 255                   /* bytes of a decoded identifier header */
#define XROAD_HASH_LEN HASH_SHA512_B64_LEN /* base64 of a SHA-512 digest, padded */
#define XROAD_ERROR_MEDIA_MAX 32           /* "application/xml" and the like */

/*
 * xroad_id_decode(): split `value` on its literal '/' into `min_parts` to
 * `max_parts` parts and percent-decode each on its own (PR-REST 1.0.4 §4.2,
 * §4.3). A part whose decoding holds a '/' stays as it was sent (still
 * escaped: such an identifier can name nothing registered). Every part must
 * be non-empty and its decoding printable UTF-8 without control
 * characters. The parts are joined with '/' into `out` (`size` bytes).
 * Return: the number of parts, or -EINVAL.
 */
int xroad_id_decode(const char *value, unsigned min_parts, unsigned max_parts, char *out, size_t size);

/*
 * xroad_id_encode(): `id` with each '/'-separated part escaped as a URI path
 * segment (unreserved characters, sub-delims, ':' and '@' kept; every other
 * byte as %XX, upper-case), as X-Road writes X-Road-Client and
 * X-Road-Service in answers. Return: 0, or -E2BIG when `size` is too small.
 */
int xroad_id_encode(const char *id, char *out, size_t size);

/* xroad_represented_party_valid(): X-Road-Represented-Party is [class/]code (PR-THIRDPARTY 1.1 §2.2). */
bool xroad_represented_party_valid(const char *value);

/*
 * Headers the node does not pass on. xroad_header_filtered(): X-Road's
 * filtered headers, never passed in either direction nor covered by the
 * request hash: the hop-by-hop ones (Connection, Keep-Alive,
 * Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding,
 * Upgrade) and Host, User-Agent, Server, Content-Length, Expect.
 * xroad_header_to_provider(): whether a client's request header reaches the
 * provider: not filtered, not X-Road-Request-Id or X-Road-Request-Hash
 * (the node sets its own), not X-Road-Client or X-GovStack-Client (the node
 * sends the client it identified), not X-Bus-* (what the bus consumes; the
 * adapter gets the bus's decisions instead).
 * xroad_header_to_client(): whether a provider's response header reaches
 * the client: not filtered, not Content-Type (passed on its own), not
 * X-Road-* or X-Bus-* (the node sets those).
 */
bool xroad_header_filtered(const char *name);
bool xroad_header_to_provider(const char *name);
bool xroad_header_to_client(const char *name);

typedef enum XroadErrorFormat {
        XROAD_ERRORS_JSON,    /* the X-Road profile, application/json (the default) */
        XROAD_ERRORS_XML,     /* the X-Road profile, <error> in the media type chosen */
        XROAD_ERRORS_PROBLEM, /* RFC 9457 problem+json with the xbus types (an xbus extension) */
} XroadErrorFormat;

/*
 * xroad_error_format(): the error format the `n` Accept header values ask
 * for (NULL entries are skipped). Any entry whose media type is
 * application/problem+json asks for problem+json, whatever its position;
 * otherwise the first entry, in header order, whose media type is text/xml,
 * application/xml or any text type ("text" and a star) asks for XML in that
 * type (the star as text/xml),
 * and anything else is JSON (PR-REST 1.0.4 §4.6; parameters such as q are
 * ignored, case is not). `ret_media` (XROAD_ERROR_MEDIA_MAX + 1 bytes, may be
 * NULL) receives the media type for XML.
 */
XroadErrorFormat xroad_error_format(const char *const *accept, size_t n, char *ret_media);

/* One request header as received. */
typedef struct XroadHeader {
        const char *name, *value;
} XroadHeader;

/* What X-Road-Request-Hash covers (all borrowed). */
typedef struct XroadHashInput {
        const char *method;         /* "GET", ... */
        const char *target;         /* the request target as received: raw path and "?" query */
        const XroadHeader *headers; /* in the order received */
        size_t n_headers;
        const char *request_id;   /* the node's X-Road-Request-Id */
        const char *generated_id; /* the X-Road-Id the node made up, NULL when the client sent one */
        const void *body;         /* NULL or empty: no body */
        size_t body_size;
} XroadHashInput;

/*
 * xroad_request_hash(): X-Road-Request-Hash (PR-REST 1.0.4 §4.3; X-Road's
 * RestRequest serialisation): H is the method, CRLF, the target, CRLF, then
 * "name:value" CRLF for each header in order (name as sent, value without
 * surrounding white space) except the filtered ones and a client's
 * X-Road-Request-Id and X-Road-Request-Hash, then "x-road-request-id:ID"
 * CRLF and, when the node generated the X-Road-Id, "x-road-id:ID" CRLF. The
 * hash is SHA-512(H), or with a body SHA-512(SHA-512(H) || SHA-512(body)),
 * written as padded base64 into `out` (XROAD_HASH_LEN + 1 bytes).
 * `ret_canonical` (may be NULL) receives H (malloc'd, NUL-terminated).
 * Return: 0, or -ENOMEM.
 */
int xroad_request_hash(const XroadHashInput *in, char *out, char **ret_canonical);
