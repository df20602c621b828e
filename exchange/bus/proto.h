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
 *                                    "xroad_id","content_type","timeout_ms"}
 *                                    (absent optional fields are omitted)
 *     HB                            heartbeat
 *     UNKNOWN                       "I do not know you" (the bus restarted): send READY again
 *
 * <id:8> is an opaque 8-byte request id chosen by the bus; adapters echo it.
 * An adapter is dropped by the bus after PROTO_HEARTBEAT_LIVENESS missed
 * intervals; its requests in flight are then answered provider_unavailable.
 * Frame sizes are limited (PROTO_MAX_META, the service's size limits).
 */
#pragma once

#define PROTO_VERSION "XBA1"
#define PROTO_READY "READY"
#define PROTO_HB "HB"
#define PROTO_REQ "REQ"
#define PROTO_REP "REP"
#define PROTO_BYE "BYE"
#define PROTO_UNKNOWN "UNKNOWN"

#define PROTO_ID_LEN 8
#define PROTO_MAX_META (16 * 1024) /* bytes of a JSON meta frame */
#define PROTO_MAX_SERVICES 256     /* services one adapter may announce */
#define PROTO_HEARTBEAT_MS 1000
#define PROTO_HEARTBEAT_LIVENESS 3
#define PROTO_DEFAULT_CAPACITY 64 /* requests in flight per adapter instance */
