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
 *                                    {"status":200,"content_type":"application/json"}
 *                                    or on a provider-side failure, with an error
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
 *                                    "xroad_id","content_type","represented_party",
 *                                    "soap_action","timeout_ms"}
 *                                    (absent optional fields are omitted)
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
 * Frame sizes are limited (PROTO_MAX_META, the service's size limits).
 */
#pragma once

#include <stddef.h>

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
#define PROTO_MAX_META (16 * 1024) /* bytes of a JSON meta frame */
#define PROTO_MAX_SERVICES 256     /* services one adapter may announce */
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
 * proto_ready_parse(): READY's JSON (at most PROTO_MAX_META bytes, an object
 * without repeated keys, a "services" array of 1..PROTO_MAX_SERVICES
 * entries; entries that are not strings of 1..255 bytes are skipped).
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
        char content_type[128]; /* default "application/json" */
} ProtoReply;

/*
 * proto_reply_parse(): REP's meta: {"status":N,"content_type":...}, or a
 * provider-side failure {"error":<a bus error type>,"detail":...}. Anything
 * malformed (over PROTO_MAX_META, not JSON, no status in 200..599) becomes
 * PROBLEM_PROVIDER_ERROR with a detail saying so. Any other "error" is the
 * provider's own answer and passes with its status.
 */
void proto_reply_parse(const void *data, size_t size, ProtoReply *ret);

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
