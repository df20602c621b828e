/* exchange.h: the life of one exchange, REST or SOAP, as stages its transport drives
 *
 * The front door (exchange/http) owns the connection, the event loop and the
 * mailboxes; this module owns what an exchange means. The transport fills
 * ex->req from the wire and then drives the stages, each of which writes the
 * one outcome (ex->out) when it decides it:
 *
 *   exchange_init()         a fresh exchange under the current registry
 *   exchange_decide()       identity, service, access right, legal basis (policy.c),
 *                           the subject's pseudonym, the consent presented, the
 *                           declared path and query parameters, the request payload
 *                           (JSON Schema or XSD); refused -> log
 *   exchange_route()        allowed: to the provider's adapter (broker); the answer
 *                           comes back on the transport's mailbox as ex->bus
 *   exchange_take_answer()  the adapter's answer or the bus's error: response schema,
 *                           minimisation, the SOAP envelope, the response hash
 *   exchange_log()          the entry to the log writer; it comes back as ex->log
 *   exchange_logged()       the entry is durable (or not), and the consent's use was
 *                           counted (or refused) in its transaction: the final outcome
 *   exchange_receipt()      the signed receipt of a delivered answer
 *
 * Nothing here blocks or touches a socket; the stages that wait (route, log)
 * return at once and the transport calls the next one when the mailbox item
 * comes back. Every step that can wait has a bound (the service's timeout,
 * the log's queue), so every exchange reaches one outcome.
 *
 * Threads: an exchange belongs to the thread that created it; while its bus
 * request or log record is away, the broker or the log writer reads it, and
 * the owner does not touch it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bus/broker.h"
#include "consent/consent.h"
#include "crypto/hash.h"
#include "crypto/uuid.h"
#include "crypto/pseudonym.h"
#include "federation/forwarder.h"
#include "log/exlog-entry.h"
#include "log/exlog.h"
#include "node/node.h"
#include "policy/policy.h"
#include "policy/problem.h"
#include "soap/soap.h"

#define EXCHANGE_ID_MAX 255   /* X-Road-Id: printable UTF-8, 1..255 bytes */
#define EXCHANGE_TEXT_MAX 256 /* X-Road-UserId, X-Road-Issue */
#define EXCHANGE_CONSENT_MAX 8192
#define EXCHANGE_QUERY_MAX 2047 /* the query string */

/* What the client sent, as the transport read it (owned by the exchange). */
typedef struct ExchangeRequest {
        const char *method;    /* "GET", ... (static) */
        bool soap;             /* a SOAP 1.1 exchange on POST / */
        SoapRequest *soap_req; /* the parsed envelope (SOAP), owns its payload */
        char xroad_id[EXCHANGE_ID_MAX + 2];
        bool xroad_id_generated;              /* the client sent none: the node made xroad_id up */
        char request_id[UUID_STRING_LEN + 1]; /* X-Road-Request-Id: the node's own id of this request */
        /* Header values as sent when well-formed (the log records them), else NULL. */
        char *user_id, *issue, *purpose, *subject, *consent, *represented_party;
        char *soap_action;      /* SOAP: the SOAPAction header to pass on, or NULL */
        char content_type[129]; /* of the request body, for the adapter */
        char query[EXCHANGE_QUERY_MAX + 1];
        const char *raw_path;     /* REST: the service path as sent (escapes kept), borrowed like body; or NULL */
        const char *r1_path;      /* REST: the whole path after "/r1/" as sent, borrowed like body; or NULL */
        const char *forwarded_by; /* the node that forwarded it (its envelope checked; in the registry), or NULL */
        bool from_node; /* SOAP: it came with X-Bus-Forward (checked or not): answered with the exchange's HTTP
                         * status rather than X-Road's 200 (docs/federation.md "The wire between nodes") */
        const char *wire_content_type; /* SOAP: Content-Type as sent, borrowed like body (forwarded as is) */
        json_t *headers;     /* REST: the client's headers for the provider, [[name, value], ...] (owned), or NULL */
        const uint8_t *body; /* borrowed from the transport, alive until the answer is sent */
        size_t body_size;
        char request_hash[HASH_SHA256_HEX_LEN + 1]; /* hex SHA-256 of the body */
        char xroad_hash[HASH_SHA512_B64_LEN + 1];   /* X-Road-Request-Hash over what the client sent, or "" */
} ExchangeRequest;

/* The outcome: one value, written by the stage that decides it. */
typedef struct ExchangeOutcome {
        Problem problem; /* PROBLEM_NONE: delivered (or not decided yet) */
        int status;      /* the answer's HTTP status: the provider's, or the problem's */
        json_t *errors;  /* request_invalid: the schema errors for the client, or NULL */
} ExchangeOutcome;

/* When the stages ended (CLOCK_MONOTONIC usec; 0: not reached), written by the transport that drives
 * them: the stage durations of /metrics (metrics.c). */
typedef struct ExchangeTimes {
        uint64_t decided;  /* exchange_decide() returned */
        uint64_t answered; /* the bus's answer came back (a routed exchange) */
        uint64_t log_sent; /* exchange_log() was called */
        uint64_t logged;   /* the log writer's record came back */
} ExchangeTimes;

typedef struct Exchange {
        Node *node;
        Registry *registry; /* the registry this exchange is decided under (own reference) */
        uint64_t start_usec;
        ExchangeRequest req;
        PolicyDecision decision;
        bool allowed;                         /* exchange_decide() let it through */
        bool logged;                          /* its entry is durable (ex->log.seq) */
        char subject[PSEUDONYM_HEX_LEN + 1];  /* the subject's pseudonym, "" when none */
        char revealed[PSEUDONYM_HEX_LEN + 1]; /* pseudonym of the person the answer names (response-subject) */
        char consent_id[CONSENT_ID_MAX];      /* the consent used (never an artefact's text) */
        char error_id[UUID_STRING_LEN + 1];   /* a refusal's id: the X-Road error's detail, in the log; or "" */
        char *meta;                           /* the adapter's meta frame */
        BusRequest bus;                       /* to the adapter and back; bus.response is owned */
        char response_hash[HASH_SHA256_HEX_LEN + 1];
        char query_hash[HASH_SHA256_HEX_LEN + 1];
        ExlogEntry entry;
        char logged_path[POLICY_MAX_PATH + 16]; /* the path as logged, when it names the subject */
        char *log_body;
        ExlogRecord log;
        ExchangeOutcome out;
        ExchangeTimes t;
        ForwardRequest *fwd; /* forwarded to the provider's node (exchange-forward.c), or NULL */
} Exchange;

/* exchange_init(): a fresh exchange of `node`, under its current registry, started now. */
void exchange_init(Exchange *ex, Node *node);
/* exchange_done(): free what the exchange owns (not `ex` itself). */
void exchange_done(Exchange *ex);

/*
 * exchange_set_text(): keep a header value of the request: NULL stays NULL,
 * a copy otherwise. Return: 0, -ENOMEM (the exchange must be refused: a value
 * that silently disappears would change what is decided and logged).
 */
int exchange_set_text(char **field, const char *value);

/* exchange_take_body(): the request body (borrowed) and its hash. */
void exchange_take_body(Exchange *ex, const uint8_t *body, size_t size);

/* exchange_new_id(): a random UUID v4 as X-Road-Id, for requests that bring none. */
void exchange_new_id(Exchange *ex);

/* exchange_purpose(): the purpose the exchange is for: the decision's (X-Bus-Purpose or the right's
 * default), else X-Bus-Purpose as sent, or NULL. */
const char *exchange_purpose(const Exchange *ex);

/*
 * exchange_decide(): the checks every exchange goes through, in order (see
 * the top of this file). `form` (may be NULL, or of type PROBLEM_NONE) is a
 * malformed request found by the transport: it refuses the exchange as such
 * once the client is identified (an unidentified client learns nothing more).
 * Return: 0 allowed (route it), 1 refused (ex->out set; log it).
 */
int exchange_decide(Exchange *ex, const PolicyInput *pin, const Problem *form);

/*
 * exchange_route(): hand the allowed exchange to the broker; ex->bus comes
 * back on `reply_to` as a MailboxItem of `kind`. A metaservice is answered
 * here instead (node/metaservice.h). Return: 0 routed, 1 answered right away
 * (a metaservice's answer, or the bus is saturated: ex->bus holds the answer
 * or the error; take the answer and log it).
 */
int exchange_route(Exchange *ex, Mailbox *reply_to, int kind);

/* exchange_take_answer(): the bus's answer in ex->bus becomes the outcome (validated, minimised, hashed). */
void exchange_take_answer(Exchange *ex);

/*
 * exchange_log(): render the entry and hand it to the log writer; ex->log
 * comes back on `reply_to` as a MailboxItem of `kind`. Return: 0 queued,
 * 1 not logged (the log is saturated, or out of memory: ex->out set; answer
 * at once, as not performed).
 */
int exchange_log(Exchange *ex, Mailbox *reply_to, int kind);

/* exchange_logged(): the log record is back: the final outcome (log failure, consent refused at commit). */
void exchange_logged(Exchange *ex);

/* exchange_delivered(): the final outcome is a delivered answer (2xx from the provider, nothing refused). */
bool exchange_delivered(const Exchange *ex);

/*
 * exchange_receipt(): the receipt of a delivered answer (malloc'd, into
 * *ret_jws), in the node's form ([log] receipts): per-batch, the one the log
 * writer made under its batch's signed tree head (ex->log.batch_receipt,
 * handed over: the field is NULL after); per-exchange, a JWS signed here
 * (`time`: the log time, RFC 3339).
 * Return: 0, -EIO (per-batch: the writer could not make it), -errno.
 */
int exchange_receipt(Exchange *ex, const char *time, char **ret_jws);
