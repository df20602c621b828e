/* http-internal.h: what the pieces of the front door share (workers, exchanges in flight, wire helpers)
 *
 *   frontdoor.c      TLS, worker threads, listeners, connections (limits, deadlines), the route table
 *   frontdoor-tls.c  the TLS context (certificate, key, client CAs, CRLs), built whole, swapped on reload
 *   http-exchange.c  drives one exchange (node/exchange.h) on its worker: decide, route,
 *                    answer, log, respond
 *   rest.c           the X-Road REST intake (/r1/...)
 *   soap-front.c     the X-Road SOAP intake (POST /)
 *   wire.c           what goes on the wire: problems and faults, headers, TLS facts, and the
 *                    scan of request heads (control bytes libevent would cut at)
 *   metrics.c        /health, /metrics, who may read them (access.h), and the counts they show
 *
 * Everything here runs on one worker thread: a Worker and the exchanges it
 * accepted are touched by that thread only (the broker and the log writer
 * hand items back through the worker's mailbox).
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/http.h>

#include "federation/envelope.h"
#include "http/access.h"
#include "node/endpoint.h"
#include "node/exchange.h"
#include "util/mailbox.h"

/* The kinds of the items that come back to a worker's mailbox. */
enum {
        ITEM_BUS = 1,      /* an Exchange's BusRequest: the provider's answer */
        ITEM_LOG = 2,      /* an Exchange's ExlogRecord: the entry is durable (or not) */
        ITEM_ENDPOINT = 3, /* an EndpointPending: an endpoint's answer given later */
};

typedef struct FrontDoor FrontDoor; /* frontdoor.h */

/* Why the front door closed a connection itself (frontdoor.c; counted for /metrics). */
typedef enum ConnCut {
        CONN_CUT_HANDSHAKE,    /* TLS not done within handshake-timeout */
        CONN_CUT_REQUEST,      /* a request not complete within request-timeout */
        CONN_CUT_EVICTED,      /* anonymous, closed to make room for a new connection at the limit */
        CONN_CUT_CLIENT_LIMIT, /* over max-connections-per-client, at accept */
        CONN_CUT_NODE_LIMIT,   /* over twice max-connections, at accept */
        _CONN_CUT_MAX,
} ConnCut;

#define CONN_CLIENT_SLOTS 4096

/* What the workers share about connections (owned by the FrontDoor). */
typedef struct ConnShared {
        atomic_uint_fast64_t cut[_CONN_CUT_MAX];
        atomic_uint_fast64_t shed;              /* answered 503 bus_busy for being over max-connections */
        uint64_t client_key;                    /* keys the hash of client addresses */
        atomic_uint clients[CONN_CLIENT_SLOTS]; /* open connections per client address (hashed) */
} ConnShared;

typedef struct Conn Conn; /* frontdoor.c: one connection */

typedef struct Worker {
        FrontDoor *fd;
        Node *node;
        ConnShared *conns;
        unsigned index;
        pthread_t thread;
        bool started;
        struct event_base *base;
        struct evhttp *http;
        struct evhttp_bound_socket *bound;
        struct event *mailbox_event, *stop_event;
        Mailbox mailbox;
        TAILQ_HEAD(ConnList, Conn) anonymous; /* no TLS yet, or no trusted client certificate: oldest first */
        const struct timeval *handshake_timeout, *request_timeout; /* libevent common timeouts */
        bool stopping;
        unsigned in_flight;                               /* exchanges accepted and not yet answered */
        const AccessList *metrics_access, *health_access; /* who may read /metrics, /health */
        const struct ConsoleApi *console;                 /* the web console, for /metrics, or NULL */
} Worker;

/* One exchange in flight: the request it answers, around the node's Exchange. */
typedef struct HttpExchange {
        Worker *worker;
        struct evhttp_request *req;
        Exchange ex;
} HttpExchange;

/* --- http-exchange.c --- */

/* http_exchange_new(): an exchange for `req` on `w` (counted in flight), or NULL (answered bus_busy). */
HttpExchange *http_exchange_new(Worker *w, struct evhttp_request *req);
/* http_exchange_run(): decide, then route (allowed) or log (refused); the rest follows from the mailbox. */
void http_exchange_run(HttpExchange *hx, const PolicyInput *pin, const Problem *form);
/* http_exchange_abandon(): free `hx` unanswered by it (the caller answered: a metaservice call, not logged). */
void http_exchange_abandon(HttpExchange *hx);
/* http_exchange_on_mailbox(): the worker's mailbox callback (bus answers and log records). */
void http_exchange_on_mailbox(evutil_socket_t fd, short what, void *userdata);

/* --- frontdoor.c --- */

/* frontdoor_endpoint_done(): send the answer of `p` (node/endpoint.h EndpointPending) and free it. */
void frontdoor_endpoint_done(Worker *w, EndpointPending *p);

/* --- rest.c, soap-front.c --- */

void rest_handle(Worker *w, struct evhttp_request *req, const char *raw_path);
/* rest_handle_unknown(): the answer to a path that is no exchange (Client.InvalidProtocolVersion for /rN/). */
void rest_handle_unknown(Worker *w, struct evhttp_request *req, const char *path);
void soap_front_handle(Worker *w, struct evhttp_request *req);
/*
 * rest_read_forward(): a request another node of the federation forwarded (X-Bus-Forward), REST or
 * SOAP: its envelope checked against the registry snapshot (federation/envelope.h) for the request
 * `expect` describes (client, method, target, X-Road-Id, body hash). Accepted, pin->forwarded_client is
 * the client that node vouches for and ex->req.forwarded_by that node; refused, *refused says why and
 * pin->forward_refused points to it (the policy refuses the exchange with it). No header: nothing.
 */
void rest_read_forward(Exchange *ex, struct evhttp_request *req, PolicyInput *pin, const ForwardClaims *expect,
                       Problem *refused);

/* --- metrics.c --- */

/* What /health decides on. */
typedef struct HealthFacts {
        bool stopping;
        int log_result;           /* exlog_last_result() */
        bool log_base_failed;     /* exlog_base_failed() */
        const Registry *registry; /* NULL: none */
        char *const *unserved;    /* broker_unserved(), NULL-terminated */
        unsigned adapters;
        uint64_t log_entries;
        uint64_t now_usec;              /* CLOCK_REALTIME: for a registry snapshot's age and expiry */
        uint64_t grace_usec;            /* [snapshot] grace */
        uint64_t snapshot_checked_usec; /* Node.snapshot_checked_usec */
} HealthFacts;

/* metrics_health_render(): the /health answer for `f` into *ret_body (malloc'd JSON).
 * Return: 200, 503 (some reason listed), or -ENOMEM. */
int metrics_health_render(const HealthFacts *f, char **ret_body);
void metrics_handle_health(Worker *w, struct evhttp_request *req);
void metrics_handle_metrics(Worker *w, struct evhttp_request *req);
/* metrics_exchange_done(): count an exchange answered with `status`: its series, its stages' durations. */
void metrics_exchange_done(Node *node, const Exchange *ex, int status);
/* metrics_count(): a request answered outside an exchange (a SOAP metaservice call, not logged): its
 * status class and its total time, `start_usec` (CLOCK_MONOTONIC) ago. */
void metrics_count(Node *node, int status, uint64_t start_usec);

/* --- wire.c --- */

/* The client certificate's facts, copied for one request. */
typedef struct WireIdentity {
        uint8_t fingerprint[32];
        char cn[256];
} WireIdentity;

/* wire_method(): the method's name, or NULL for one the bus does not serve. */
const char *wire_method(enum evhttp_cmd_type cmd);
/* wire_identify(): the TLS client certificate's facts into *pin (pointing into *id). */
void wire_identify(struct evhttp_request *req, PolicyInput *pin, WireIdentity *id);
/* wire_header_once(): the value of a header that must appear at most once; *dup set if repeated. */
const char *wire_header_once(struct evkeyvalq *h, const char *name, bool *dup);
/* wire_valid_text(): printable text (UTF-8, no control characters), 1..max bytes. */
bool wire_valid_text(const char *s, size_t max);
/*
 * wire_refuse(): answer `req` with the problem *p: a SOAP Fault for a SOAP
 * exchange; else in the format the client asks for with Accept
 * (xroad_error_format()), or its registry's error-format: the X-Road profile
 * ({"type","message","detail"} or <error>, status 400 or 500 by the code's
 * prefix) or problem+json (the type's own status). X-Road-Error carries the
 * X-Road code either way. `hx` may be NULL (no exchange yet).
 * Return: the HTTP status sent.
 */
int wire_refuse(struct evhttp_request *req, const Problem *p, const HttpExchange *hx);
/* wire_problem(): wire_refuse() for a problem of `type` with `detail`. Return: the status sent. */
int wire_problem(struct evhttp_request *req, ProblemType type, const char *detail, const HttpExchange *hx);
/* wire_fault(): answer `req` with the X-Road SOAP Fault of `p` (soap_fault_code()); `hx` may be NULL. */
int wire_fault(struct evhttp_request *req, const Problem *p, const HttpExchange *hx);
/* wire_api_problem(): problem+json whatever the client asks: the node's own APIs (node/endpoint.h). */
void wire_api_problem(struct evhttp_request *req, ProblemType type, const char *detail);
/*
 * wire_exchange_headers(): the X-Road response headers of an exchange:
 * X-Road-Id, X-Road-Client and X-Road-Service (as far as decided, each part
 * escaped), X-Road-Request-Id, and with `answered` (the provider's answer)
 * X-Road-Request-Hash.
 */
void wire_exchange_headers(const HttpExchange *hx, struct evkeyvalq *h, bool answered);
/* wire_provider_headers(): the provider's response headers (proto.h REP "headers") but the deny-list. */
void wire_provider_headers(const json_t *headers, struct evkeyvalq *h);
/*
 * wire_reply(): evhttp_send_reply() (`reason`, `body` may be NULL; `body` stays the caller's), with
 * the answer made one piece so it leaves as one TLS record in one write() (wire.c says why). Every
 * answer of the front door goes through here.
 */
void wire_reply(struct evhttp_request *req, int status, const char *reason, struct evbuffer *body);
/* wire_send(): a reply with `body` (may be NULL) of `size` bytes and `content_type`. */
void wire_send(struct evhttp_request *req, int status, const char *content_type, const void *body, size_t size);

/* The head of the request arriving on a connection, scanned byte by byte (wire.c says why). */
typedef struct WireScan {
        bool done;    /* the blank line ending the head was seen: what follows is the body */
        bool bad;     /* a NUL or other control byte, a bare CR, or a folded (obs-fold) line */
        bool cr;      /* the last byte was a CR */
        size_t line;  /* bytes of the current line so far */
        size_t lines; /* lines ended: the request line, then one per header field */
        size_t size;  /* bytes of the head so far, line ends included */
} WireScan;

/* wire_scan_feed(): scan `n` more bytes of a connection's input (pure: the fuzz target drives it). */
void wire_scan_feed(WireScan *s, const uint8_t *p, size_t n);
/* wire_watch(): scan the request heads of the new connection `bev` (its SSL owns the state). Return: 0, -ENOMEM. */
int wire_watch(struct bufferevent *bev);
/*
 * wire_head_clean(): whether the head of `req` had no control byte in a header, no folded line
 * and no trailer fields; readies its connection's scan for the next request. Call it once for
 * every request, first thing. A connection without wire_watch() is never clean.
 */
bool wire_head_clean(struct evhttp_request *req);
/* wire_head_size(): the size in bytes of the head of the request wire_head_clean() last checked on its connection. */
size_t wire_head_size(struct evhttp_request *req);

/* wire_init(): once, before workers start (the SSL ex-data slot of wire_identify()). */
void wire_init(void);
