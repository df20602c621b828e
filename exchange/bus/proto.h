/* proto.h: the adapter protocol between xbusd (ROUTER) and adapters (DEALER)
 *
 * Version tag "XBA1". Every message is a ZeroMQ multipart message whose first
 * frame (after the ROUTER's routing id on the bus side) is "XBA1" and whose
 * second frame is the command:
 *
 *   adapter -> bus
 *     READY  <json>                 {"adapter":"sample","name":"sample-1",
 *                                    "services":["VN/GOV/BCA/population/citizen",...],
 *                                    "capacity":64}
 *     HB                            heartbeat (at least every heartbeat interval)
 *     REP    <id:8> <json> <body>   answer to REQ <id>:
 *                                    {"status":200,"content_type":"application/json",
 *                                     "headers":[["ETag","\"x\""],...]}
 *                                    "content_type" "": the provider sent none
 *                                    (absent: application/json);
 *                                    "headers" (optional): the provider's response
 *                                    headers in order, which the bus passes on to
 *                                    the client but for its deny-list
 *                                    (docs/protocol.md, "Passthrough"); any status
 *                                    200..599 is the provider's answer, passed on
 *                                    with its body.
 *                                    Or, on a provider-side failure, with an error
 *                                    type of the bus (provider_unavailable,
 *                                    provider_timeout, provider_error,
 *                                    response_invalid):
 *                                    {"status":502,"error":"provider_unavailable",
 *                                     "detail":"backend refused the connection"}
 *                                    Any other "error" (e.g. "not_found" with 404) is
 *                                    the provider's own answer: status and body are
 *                                    passed to the client unchanged.
 *     BYE                           clean shutdown
 *   bus -> adapter
 *     REQ    <id:8> <json> <body>   {"service","method","path","query","client",
 *                                    "subject","purpose","user_id","issue",
 *                                    "xroad_id","content_type","raw_path",
 *                                    "request_id","represented_party","headers",
 *                                    "soap_action","timeout_ms"}
 *                                    (absent optional fields are omitted).
 *                                    "path" is the service path decoded (what the
 *                                    access rights matched), "raw_path" the same as
 *                                    the client sent it (escapes kept, for REST
 *                                    backends); "purpose" the exchange's (X-Bus-Purpose
 *                                    or the right's default); "request_id" the
 *                                    X-Road-Request-Id; "headers" the client's request
 *                                    headers in order, [[name, value], ...], without
 *                                    the deny-list (hop-by-hop, X-Bus-*, the ones the
 *                                    node sets: docs/protocol.md, "Passthrough");
 *                                    "soap_action" the SOAP client's SOAPAction
 *     HB                            heartbeat
 *     UNKNOWN                       "I do not know you" (the bus restarted): send READY again
 *     REFUSED <json>                READY named services this adapter's key may not serve:
 *                                    {"reason":"service_not_allowed","refused":2,"accepted":0,
 *                                     "services":[the first of them]};
 *                                    with "accepted":0 the adapter is not registered at all
 *
 * Authentication (docs/adapters.md): every connection is a ZeroMQ CURVE
 * client of the bus, whose ZAP handler (RFC 27) admits only keys that some
 * provider subsystem of the registry lists; a READY is accepted only for
 * services whose provider subsystem lists the connection's key.
 *
 * <id:8> is an opaque 8-byte request id chosen by the bus; adapters echo it.
 * An adapter is dropped by the bus after PROTO_HEARTBEAT_LIVENESS missed
 * intervals; its requests in flight are then answered provider_unavailable.
 * Frame sizes are limited (PROTO_MAX_META, PROTO_MAX_READY, the service's size limits).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "crypto/keyfile.h"
#include "policy/problem.h"

#define PROTO_VERSION "XBA1"
#define PROTO_READY "READY"
#define PROTO_HB "HB"
#define PROTO_REQ "REQ"
#define PROTO_REP "REP"
#define PROTO_BYE "BYE"
#define PROTO_UNKNOWN "UNKNOWN"
#define PROTO_REFUSED "REFUSED"

#define PROTO_ID_LEN 8
#define PROTO_MAX_META (64 * 1024)  /* bytes of a REQ's or REP's JSON meta frame (headers travel in it) */
#define PROTO_MAX_READY (16 * 1024) /* bytes of a READY's JSON */
#define PROTO_MAX_HEADERS 128       /* response headers a REP may carry */
#define PROTO_MAX_HEADER_VALUE 8192
#define PROTO_MAX_SERVICES 256 /* services one adapter may announce */
#define PROTO_HEARTBEAT_MS 1000
#define PROTO_HEARTBEAT_LIVENESS 3
#define PROTO_DEFAULT_CAPACITY 64 /* requests in flight per adapter instance */
#define PROTO_MAX_CAPACITY 4096

/* ---- Parsing what adapters send, as the bus reads it (pure functions, fuzzed) ---------------- */

/* A READY announcement. */
typedef struct ProtoReady {
        char kind[32], name[64]; /* truncated */
        char **services;         /* 1..PROTO_MAX_SERVICES strings of 1..255 bytes, sorted (owned) */
        size_t n_services;
        unsigned capacity; /* 1..PROTO_MAX_CAPACITY; PROTO_DEFAULT_CAPACITY when absent or out of range */
} ProtoReady;

/*
 * proto_ready_parse(): READY's JSON (at most PROTO_MAX_READY bytes, an object
 * without repeated keys, a "services" array of 1..PROTO_MAX_SERVICES
 * entries; entries that are not strings of 1..255 bytes are skipped, and
 * a READY left with none is malformed).
 * Return: 0 with *ret filled (free with proto_ready_done()), -EBADMSG, or
 * -ENOMEM.
 */
int proto_ready_parse(const void *data, size_t size, ProtoReady *ret);
void proto_ready_done(ProtoReady *r);

/* The meta frame of a REP. */
typedef struct ProtoReply {
        int status;        /* 200..599 when error is PROBLEM_NONE */
        ProblemType error; /* PROBLEM_NONE, or the bus's error to answer with (detail says why) */
        char detail[256];
        char content_type[128]; /* default "application/json"; "" when the provider sent none */
        json_t *headers;        /* [[name, value], ...] (owned), or NULL */
} ProtoReply;

/*
 * proto_reply_parse(): REP's meta: {"status":N,"content_type":...,
 * "headers":[...]}, or a provider-side failure {"error":<a bus error
 * type>,"detail":...}. Anything malformed (over PROTO_MAX_META, not JSON,
 * no status in 200..599) becomes PROBLEM_PROVIDER_ERROR with a detail
 * saying so. Any other "error" is the provider's own answer and passes with
 * its status. Of "headers", the first PROTO_MAX_HEADERS pairs of a header
 * name (an RFC 9110 token) and a value (at most PROTO_MAX_HEADER_VALUE bytes
 * without control characters but tab) are kept, the others dropped. Free
 * with proto_reply_done().
 */
void proto_reply_parse(const void *data, size_t size, ProtoReply *ret);
void proto_reply_done(ProtoReply *r);
/*
 * proto_reply_parse_tree(): proto_reply_parse() read through a jansson tree
 * whatever the text. proto_reply_parse() reads the usual meta without one
 * (util/jsontext.h) and must give the same for every input: the fuzzer and
 * test-proto.c compare the two.
 */
void proto_reply_parse_tree(const void *data, size_t size, ProtoReply *ret);

/* proto_header_name_valid(): an RFC 9110 token of 1..256 bytes. */
bool proto_header_name_valid(const char *s);
/* proto_header_value_valid(): at most PROTO_MAX_HEADER_VALUE bytes, no control character but tab. */
bool proto_header_value_valid(const char *s);

/* One received frame (borrowed). */
typedef struct ProtoFrame {
        const void *data;
        size_t size;
} ProtoFrame;

/*
 * proto_zap_parse(): a ZAP request (RFC 27: version "1.0", request id,
 * domain, address, routing id, mechanism, credentials) from a CURVE client:
 * its public key as Z85 text in `ret_key`. Return: 0, or -EBADMSG (not a
 * well-formed request, or another mechanism).
 */
int proto_zap_parse(const ProtoFrame *frames, size_t n, char ret_key[KEYFILE_CURVE_LEN + 1]);
