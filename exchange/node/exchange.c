/* exchange.c: the stages of one exchange (decide, route, answer, log), whatever its transport */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bus/proto.h"
#include "crypto/receipt.h"
#include "crypto/uuid.h"
#include "node/exchange.h"
#include "node/exchange-internal.h"
#include "node/metaservice.h"
#include "policy/params.h"
#include "policy/minimise.h"
#include "policy/subject.h"
#include "util/jsontext.h"
#include "util/log.h"
#include "util/time-util.h"
#include "validate/payload.h"

void exchange_init(Exchange *ex, Node *node)
{
        *ex = (Exchange){
                .node = node,
                .registry = node_registry(node),
                .start_usec = now_usec(CLOCK_MONOTONIC),
        };
        atomic_fetch_add(&node->counters.requests, 1);
}

void exchange_done(Exchange *ex)
{
        registry_unref(ex->registry);
        free(ex->req.user_id);
        free(ex->req.issue);
        free(ex->req.purpose);
        free(ex->req.subject);
        free(ex->req.consent);
        free(ex->req.represented_party);
        json_decref(ex->req.headers);
        free(ex->req.soap_action);
        soap_request_free(ex->req.soap_req);
        json_decref(ex->out.errors);
        free(ex->meta);
        free(ex->bus.response);
        json_decref(ex->bus.headers);
        free(ex->log_body);
        free(ex->log.batch_receipt); /* NULL unless the log signs receipts per batch (ExlogOptions.receipt_signer) */
        forward_request_free(ex->fwd);
        *ex = (Exchange){};
}

int exchange_set_text(char **field, const char *value)
{
        char *copy = NULL;

        if (value) {
                copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
        }
        free(*field);
        *field = copy;
        return 0;
}

void exchange_take_body(Exchange *ex, const uint8_t *body, size_t size)
{
        ex->req.body = size ? body : (const uint8_t *)"";
        ex->req.body_size = size;
        hash_sha256_hex(ex->req.body, size, ex->req.request_hash);
}

void exchange_new_id(Exchange *ex)
{
        uuid_random(ex->req.xroad_id);
        ex->req.xroad_id_generated = true;
}

const char *exchange_purpose(const Exchange *ex)
{
        return ex->decision.purpose ? ex->decision.purpose : ex->req.purpose;
}

/* --- decide ------------------------------------------------------------------ */

/* A consent-based right: the consent presented must be valid now (its use is counted at commit). */
static void check_consent(Exchange *ex)
{
        Node *node = ex->node;
        int c = -ENOTCONN;

        if (node->consents && ex->subject[0]) {
                ConsentQuery q = {
                        .consent = ex->req.consent,
                        .subject_pseudonym = ex->subject,
                        .client = ex->decision.client,
                        .service = ex->decision.service,
                        .purpose = exchange_purpose(ex),
                        .now_usec = now_usec(CLOCK_REALTIME),
                };
                c = consent_check(node->consents, ex->registry, &q, ex->consent_id);
        }
        if (c > 0)
                problem_set(&ex->out.problem, PROBLEM_CONSENT_INVALID, "consent %s: %s",
                            ex->consent_id[0]                   ? ex->consent_id
                            : consent_valid_id(ex->req.consent) ? ex->req.consent
                                                                : "artefact",
                            consent_reason(c));
        else if (c < 0)
                problem_set(&ex->out.problem, PROBLEM_CONSENT_INVALID, "the consent could not be checked");
}

/* The path and query parameters the service declares (policy/params.h). Return: whether they refuse it. */
static bool check_parameters(Exchange *ex)
{
        int v = params_check(ex->decision.service, ex->decision.path, ex->req.query[0] ? ex->req.query : NULL,
                             &ex->out.errors, &ex->out.problem);

        if (v < 0)
                problem_set(&ex->out.problem, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        return v != 0;
}

/* The request's payload, before anything reaches the provider. */
static void check_payload(Exchange *ex)
{
        const RegistryService *svc = ex->decision.service;
        int v;

        if (svc->meta) {
                metaservice_check(ex->registry, svc, ex->req.query[0] ? ex->req.query : NULL, &ex->out.problem);
                return;
        }
        if (ex->req.soap) {
                if (!svc->request_xsd)
                        soap_refuse_code(&ex->out.problem, PROBLEM_SERVICE_UNKNOWN, XROAD_SERVICE_TYPE,
                                         "service '%s' is not offered over SOAP", svc->id);
                else if (soap_request_validate(ex->req.soap_req, svc->request_xsd, &ex->out.problem) < 0)
                        problem_set(&ex->out.problem, PROBLEM_REQUEST_INVALID,
                                    "the payload does not match the service's XSD");
                return;
        }
        if (check_parameters(ex) || !svc->request_validator)
                return;
        v = payload_validate(svc->request_validator, ex->req.body, ex->req.body_size, &ex->out.errors, NULL);
        if (v != 0)
                problem_set(&ex->out.problem, PROBLEM_REQUEST_INVALID, "%s",
                            v < 0 ? "the request could not be validated"
                                  : "the body does not match the service's request schema (see errors)");
}

/* A node whose registry snapshot expired more than [snapshot] grace ago decides nothing on it any more. */
static void check_snapshot(Exchange *ex)
{
        const RegistrySnapshot *s = registry_snapshot(ex->registry);
        char expired[RFC3339_MAX];

        if (node_snapshot_state(ex->registry, ex->node->snapshot_grace_usec, now_usec(CLOCK_REALTIME)) !=
            NODE_SNAPSHOT_OUTDATED)
                return;
        problem_set(&ex->out.problem, PROBLEM_REGISTRY_OUTDATED,
                    "the registry snapshot in force (version %" PRIu64 ") expired at %s and no fresh one came "
                    "within the grace period",
                    s->version, format_rfc3339(s->expires_usec, expired));
}

int exchange_decide(Exchange *ex, const PolicyInput *pin, const Problem *form)
{
        Problem *p = &ex->out.problem;
        Node *node = ex->node;
        const char *subject;

        policy_decide(ex->registry, pin, &ex->decision, p);

        /* A malformed request is refused as such, whatever else is wrong with it, once the
         * client is identified (an unidentified client learns nothing more). */
        if (form && form->type != PROBLEM_NONE && p->type != PROBLEM_CLIENT_UNKNOWN)
                *p = *form;

        /* the subject the bus decided on; a request refused before that is logged under X-Bus-Subject */
        subject = ex->decision.subject[0] ? ex->decision.subject : ex->req.subject;
        if (subject_valid(subject) && node->pseudonyms &&
            pseudonym_compute(node->pseudonyms, subject, strlen(subject), ex->subject) < 0)
                ex->subject[0] = 0;

        if (p->type == PROBLEM_NONE)
                check_snapshot(ex);
        if (p->type == PROBLEM_NONE)
                exchange_check_client_hosted(ex); /* a federation's client node forwards for its own clients */
        if (p->type == PROBLEM_NONE && ex->decision.needs_consent && !exchange_hosted_elsewhere(ex))
                check_consent(ex); /* else the provider's node decides it */
        if (p->type == PROBLEM_NONE)
                check_payload(ex);

        if (p->type != PROBLEM_NONE) {
                atomic_fetch_add(&node->counters.refused, 1);
                ex->out.status = problem_status(p->type);
                return 1;
        }
        ex->allowed = true;
        atomic_fetch_add(&node->counters.allowed, 1);
        return 0;
}

/* --- route ----------------------------------------------------------------- */

/*
 * The adapter gets the facts it needs, and the subject in the clear (proto.h REQ). Written
 * directly (util/jsontext.h), as json_dumps() would write the same members: a value that is
 * not UTF-8 fails it as it failed the tree. Return: the text (malloc'd), or NULL.
 */
static char *render_meta(const Exchange *ex)
{
        const RegistryService *svc = ex->decision.service;
        const ExchangeRequest *q = &ex->req;
        const struct {
                const char *key, *value;
        } fields[] = {
                { "service", svc->id },
                { "method", q->method },
                { "path", ex->decision.path },
                { "query", q->query },
                { "client", ex->decision.client->id },
                /* optional: left out when absent */
                { "subject", ex->decision.subject[0] ? ex->decision.subject : NULL },
                { "purpose", exchange_purpose(ex) },
                { "user_id", q->user_id },
                { "issue", q->issue },
                { "xroad_id", q->xroad_id },
                { "content_type", q->content_type[0] ? q->content_type : NULL },
                { "raw_path", q->raw_path },
                { "request_id", q->request_id[0] ? q->request_id : NULL },
                { "represented_party", q->represented_party },
                { "soap_action", q->soap_action },
        };
        JsonText t = JSONTEXT_INIT;
        const json_t *pair;
        size_t i, len;
        char *text;

        jsontext_raw(&t, "{", 1);
        for (i = 0; i < ELEMENTSOF(fields); i++)
                if (i < 5 || fields[i].value) {
                        jsontext_key(&t, fields[i].key);
                        jsontext_string(&t, fields[i].value); /* a required one NULL: fails */
                }
        if (q->headers) {
                jsontext_key(&t, "headers");
                jsontext_raw(&t, "[", 1);
                json_array_foreach(q->headers, i, pair) {
                        jsontext_raw(&t, i > 0 ? ",[" : "[", i > 0 ? 2 : 1);
                        jsontext_string(&t, json_string_value(json_array_get(pair, 0)));
                        jsontext_string(&t, json_string_value(json_array_get(pair, 1)));
                        jsontext_raw(&t, "]", 1);
                }
                jsontext_raw(&t, "]", 1);
        }
        jsontext_key(&t, "timeout_ms");
        jsontext_integer(&t, (int64_t)svc->timeout_ms);
        jsontext_raw(&t, "}", 1);
        text = jsontext_finish(&t, &len);
        if (text && len > PROTO_MAX_META)
                text = mfree(text); /* the adapter would drop it: refuse it here */
        return text;
}

/* A metaservice is answered by the node itself (node/metaservice.h), and its answer then taken as a provider's. */
static int route_metaservice(Exchange *ex)
{
        MetaserviceAnswer a;
        int r = metaservice_answer(ex->registry, ex->decision.service, ex->decision.client,
                                   ex->req.query[0] ? ex->req.query : NULL, &a);

        ex->bus = (BusRequest){ .service = ex->decision.service->id, .status = 200 };
        if (r < 0 || a.problem.type != PROBLEM_NONE) {
                ex->bus.error = r < 0 ? PROBLEM_BUS_BUSY : a.problem.type;
                snprintf(ex->bus.detail, sizeof(ex->bus.detail), "%s",
                         r < 0 ? "the node is out of memory; retry later" : a.problem.detail);
                return 1;
        }
        ex->bus.response = a.body;
        ex->bus.response_size = a.size;
        snprintf(ex->bus.content_type, sizeof(ex->bus.content_type), "%s", a.content_type);
        return 1;
}

int exchange_route(Exchange *ex, Mailbox *reply_to, int kind)
{
        const RegistryService *svc = ex->decision.service;
        int r;

        if (svc->meta)
                return route_metaservice(ex);
        r = exchange_forward(ex, reply_to, kind);
        if (r != 0) /* another node hosts the provider */
                return r == 2 ? 0 : 1;

        ex->meta = render_meta(ex);
        ex->bus = (BusRequest){
                .item.kind = kind,
                .reply_to = reply_to,
                .service = svc->id,
                .meta = ex->meta,
                .meta_size = ex->meta ? strlen(ex->meta) : 0,
                /* SOAP: the adapter gets the Body's payload element, not the envelope */
                .body = ex->req.soap ? (const void *)ex->req.soap_req->payload_xml : ex->req.body,
                .body_size = ex->req.soap ? ex->req.soap_req->payload_size : ex->req.body_size,
                .timeout_ms = svc->timeout_ms,
                .max_response = svc->max_response_size,
        };
        r = ex->meta ? broker_submit(ex->node->broker, &ex->bus) : -ENOMEM;
        if (r < 0) {
                ex->bus.error = PROBLEM_BUS_BUSY;
                snprintf(ex->bus.detail, sizeof(ex->bus.detail), "the bus is saturated; retry later");
                return 1;
        }
        return 0;
}

/* --- the provider's answer ------------------------------------------------- */

static void answer_withhold(Exchange *ex)
{
        free(ex->bus.response);
        ex->bus.response = NULL;
        ex->bus.response_size = 0;
}

static void answer_hash(Exchange *ex)
{
        hash_sha256_hex(ex->bus.response, ex->bus.response_size, ex->response_hash);
}

/*
 * The provider's SOAP answer: its payload checked against the service's
 * response XSD and wrapped in the answer envelope (signed by the node when
 * the request was signed) before the log entry is written, so that the
 * logged hash is that of the exact bytes delivered; or the provider's own
 * Fault, relayed unchanged as X-Road does.
 */
static void answer_soap(Exchange *ex)
{
        const SoapRequest *sr = ex->req.soap_req;
        const RegistryService *svc = ex->decision.service;
        Problem why = {};
        char *env = NULL;
        size_t size = 0;
        int r;

        ex->out.status = ex->bus.status;
        r = soap_response_build(sr, ex->bus.response, ex->bus.response_size,
                                &(SoapResponseOptions){ .limits = &(SoapLimits){ .max_size = svc->max_response_size },
                                                        .schema = svc->response_xsd,
                                                        .signer = sr->signed_request ? ex->node->soap_signer : NULL,
                                                        .status = ex->bus.status },
                                &env, &size, &why);
        if (r == 0 || r == SOAP_E_FAULT) {
                if (r == 0) {
                        free(ex->bus.response);
                        ex->bus.response = env;
                        ex->bus.response_size = size;
                }
                snprintf(ex->bus.content_type, sizeof(ex->bus.content_type), "text/xml;charset=utf-8");
                answer_hash(ex);
                return;
        }
        log_warning("SOAP answer of \"%s\" for \"%s\" withheld: %s", svc->id, ex->req.xroad_id,
                    why.detail[0] ? why.detail : "it could not be built");
        if (r < 0)
                problem_set(&ex->out.problem, PROBLEM_INTERNAL_ERROR,
                            "the provider's answer was withheld: it could not be built or signed");
        else
                ex->out.problem = why;
        ex->out.status = problem_status(ex->out.problem.type);
        answer_withhold(ex);
}

/* A delivered answer that names another person (registry response-subject) is logged under that person too.
 * `doc` is the answer as delivered when the caller has it parsed already (borrowed), else NULL. */
static void answer_reveals(Exchange *ex, json_t *doc)
{
        const char *ptr = ex->decision.service->response_subject;
        json_t *parsed = ptr && !doc ? json_loadb(ex->bus.response, ex->bus.response_size, 0, NULL) : NULL;
        const char *id = ptr && (doc ?: parsed) ? json_string_value(minimise_pointer_get(doc ?: parsed, ptr)) : NULL;

        if (subject_valid(id) && ex->node->pseudonyms &&
            pseudonym_compute(ex->node->pseudonyms, id, strlen(id), ex->revealed) < 0)
                ex->revealed[0] = 0;
        json_decref(parsed);
}

/*
 * Only successful answers are validated and minimised: a provider's error body is its own. An
 * answer passed on whole is not written again: the provider's bytes go out, and the tree the
 * schema check read serves answer_reveals() too.
 */
static void answer_json(Exchange *ex)
{
        const JsonSchema *schema = ex->decision.service->response_validator;
        char *const *fields = ex->decision.right ? ex->decision.right->fields : NULL;
        bool want_doc = fields || ex->decision.service->response_subject;
        _cleanup_(json_decrefp) json_t *doc = NULL;
        json_t *errors = NULL;
        int r = 0;

        ex->out.status = ex->bus.status;
        if ((schema || fields) && ex->out.status >= 200 && ex->out.status < 300) {
                r = payload_validate(schema, ex->bus.response, ex->bus.response_size, &errors, want_doc ? &doc : NULL);
                if (r == 0 && doc && fields) {
                        char *text = NULL;
                        r = minimise(doc, fields, &text) < 0 ? 1 : 0;
                        json_decref(doc); /* the answer delivered is the minimised text */
                        doc = NULL;
                        if (r == 0) {
                                free(ex->bus.response);
                                ex->bus.response = text;
                                ex->bus.response_size = strlen(text);
                        }
                }
        }
        if (r != 0) {
                /* The provider's fault: withhold the answer, tell the operator where. */
                json_t *first = json_array_get(errors, 0);
                log_warning("Response of \"%s\" for \"%s\" withheld: %zu schema error(s), first at instance \"%s\" "
                            "keyword \"%s\"",
                            ex->decision.service->id, ex->req.xroad_id, json_array_size(errors),
                            strempty(json_string_value(json_object_get(first, "instance"))),
                            strempty(json_string_value(json_object_get(first, "keyword"))));
                json_decref(errors);
                problem_set(&ex->out.problem, PROBLEM_RESPONSE_INVALID,
                            "the provider's answer does not match the service's response schema");
                ex->out.status = 502;
                answer_withhold(ex);
                return;
        }
        answer_hash(ex);
        if (ex->out.status >= 200 && ex->out.status < 300)
                answer_reveals(ex, doc);
}

void exchange_take_answer(Exchange *ex)
{
        if (ex->bus.error != PROBLEM_NONE) {
                problem_set(&ex->out.problem, ex->bus.error, "%s", ex->bus.detail);
                ex->out.status = problem_status(ex->bus.error);
                answer_withhold(ex);
        } else if (ex->fwd)
                exchange_forward_answer(ex);
        else if (ex->req.soap)
                answer_soap(ex);
        else
                answer_json(ex);
}

/* --- the log --------------------------------------------------------------- */

/*
 * The service path as the log keeps it: a segment that is the data subject (a path-carried
 * subject, docs/registry.md "subject") is written {subject}, so that the log holds no personal id;
 * the entry's "subject" has its pseudonym. Return: `d->path`, or `buf` when a segment was replaced.
 */
static const char *logged_path(const PolicyDecision *d, char *buf, size_t size)
{
        size_t n = strlen(d->subject), out = 0;
        bool replaced = false;

        if (n == 0 || !strstr(d->path, d->subject))
                return d->path;
        for (const char *p = d->path; *p && out + 1 < size;) {
                const char *end = strchrnul(p + 1, '/');
                if (*p == '/' && (size_t)(end - p - 1) == n && strneq(p + 1, d->subject, n)) {
                        out += (size_t)snprintf(buf + out, size - out, "/{subject}");
                        replaced = true;
                } else
                        out += (size_t)snprintf(buf + out, size - out, "%.*s", (int)(end - p), p);
                p = end;
        }
        if (out + 1 >= size)
                return "/{subject}"; /* too long to keep whole: never the personal id */
        return replaced ? buf : d->path;
}

void exchange_entry_fill(Exchange *ex)
{
        const PolicyDecision *d = &ex->decision;
        const ExchangeRequest *q = &ex->req;

        ex->entry = (ExlogEntry){
                .xroad_id = q->xroad_id,
                .client = d->client ? d->client->id : NULL,
                .service = d->service_id[0] ? d->service_id : NULL,
                .method = q->method,
                .path = d->service ? logged_path(d, ex->logged_path, sizeof(ex->logged_path)) : NULL,
                .user_id = q->user_id,
                .issue = q->issue,
                .subject = ex->subject[0] ? ex->subject : NULL,
                .purpose = exchange_purpose(ex),
                .basis = d->basis,
                .right = d->right ? d->right->id : NULL,
                .legal_reference = d->right ? d->right->legal_reference : NULL,
                /* the consent's id, never an artefact's text (which names the person) */
                .consent = ex->consent_id[0]                            ? ex->consent_id
                           : q->consent && consent_valid_id(q->consent) ? q->consent
                           : q->consent                                 ? "(artefact)"
                                                                        : NULL,
                .allow = ex->allowed,
                .status = ex->out.status,
                .error = ex->out.problem.type,
                .request_hash = q->request_hash[0] ? q->request_hash : NULL,
                .request_size = q->body_size,
                .response_hash = ex->response_hash[0] ? ex->response_hash : NULL,
                .response_size = ex->bus.response_size,
                .duration_us = now_usec(CLOCK_MONOTONIC) - ex->start_usec,
                .query_hash = ex->query_hash[0] ? ex->query_hash : NULL,
                .revealed_subject = ex->revealed[0] ? ex->revealed : NULL,
                .xroad_request_hash = q->xroad_hash[0] ? q->xroad_hash : NULL,
                .request_id = q->request_id[0] ? q->request_id : NULL,
                .represented_party = q->represented_party,
                .purpose_default = d->purpose_default,
                .error_id = ex->error_id[0] ? ex->error_id : NULL,
                .peer_node = ex->fwd ? ex->fwd->target->id : q->forwarded_by,
                .peer_role = ex->fwd           ? "provider"
                             : q->forwarded_by ? "client"
                                               : NULL,
                .has_peer_seq = ex->fwd && ex->fwd->receipt && exchange_delivered(ex),
                .peer_seq = ex->fwd ? ex->fwd->provider_seq : 0,
                /* the request entry written before the forward (exchange-forward.c), when it is durable */
                .has_request_seq = ex->fwd && ex->fwd->before.body && ex->fwd->before.result == 0,
                .request_seq = ex->fwd ? ex->fwd->before.seq : 0,
        };
}

int exchange_log(Exchange *ex, Mailbox *reply_to, int kind)
{
        Node *node = ex->node;
        int r = -ENOMEM;

        if (ex->req.query[0])
                hash_sha256_hex(ex->req.query, strlen(ex->req.query), ex->query_hash);
        if (ex->out.problem.type != PROBLEM_NONE && !ex->error_id[0])
                uuid_random(ex->error_id); /* the refusal's id: the X-Road error's detail, and in the entry */
        exchange_entry_fill(ex);
        ex->log_body = exlog_entry_render(&ex->entry);
        if (ex->log_body) {
                ex->log = (ExlogRecord){
                        .item.kind = kind,
                        .reply_to = reply_to,
                        .body = ex->log_body,
                        .body_size = strlen(ex->log_body),
                        .entry = &ex->entry,
                };
                /* Count the consent's use in the entry's own transaction; if it was used up (or
                 * revoked, or expired) meanwhile, the writer stores the refusal instead. */
                if (ex->consent_id[0] && exchange_delivered(ex)) {
                        ex->log.consents = node->consents;
                        ex->log.consent_id = ex->consent_id;
                }
                memcpy(ex->log.subject, ex->subject, sizeof(ex->subject));
                memcpy(ex->log.revealed, ex->revealed, sizeof(ex->revealed));
                r = exlog_append(node->log, &ex->log);
                if (r == 0)
                        return 0;
        }
        if (r == -EAGAIN) {
                /* Not logged, so not performed: refuse outright. */
                problem_set(&ex->out.problem, PROBLEM_BUS_BUSY, "the exchange log is saturated; retry later");
                ex->out.status = problem_status(PROBLEM_BUS_BUSY);
                return 1;
        }
        ex->log.result = r < 0 ? r : -ENOMEM;
        exchange_logged(ex);
        return 1;
}

void exchange_logged(Exchange *ex)
{
        Node *node = ex->node;

        if (ex->log.result < 0) {
                /* Not logged means not performed: the provider's answer is withheld. */
                atomic_fetch_add(&node->counters.log_failures, 1);
                log_error_errno(ex->log.result, "Exchange log write failed for \"%s\": %m", ex->req.xroad_id);
                problem_set(&ex->out.problem, PROBLEM_LOG_UNAVAILABLE,
                            "the exchange could not be recorded; retry later");
                ex->out.status = problem_status(PROBLEM_LOG_UNAVAILABLE);
                return;
        }
        ex->logged = true;
        if (ex->log.consent_result > 0) {
                /* The consent was used up (or revoked) by the time this exchange was recorded:
                 * the entry says so, and the provider's answer is withheld. */
                problem_set(&ex->out.problem, PROBLEM_CONSENT_INVALID, "consent %s: %s", ex->consent_id,
                            consent_reason(ex->log.consent_result));
                ex->out.status = problem_status(PROBLEM_CONSENT_INVALID);
        }
}

bool exchange_delivered(const Exchange *ex)
{
        return ex->out.problem.type == PROBLEM_NONE && ex->out.status >= 200 && ex->out.status < 300;
}

int exchange_receipt(Exchange *ex, const char *time, char **ret_jws)
{
        if (ex->node->receipts_per_batch) {
                /* made by the log writer under its batch's signed head; NULL: the head's signature (or
                 * the receipt) failed, which fails the answer as a failed signature does here */
                if (!ex->log.batch_receipt)
                        return -EIO;
                *ret_jws = TAKE_PTR(ex->log.batch_receipt);
                return 0;
        }

        Receipt rc = {
                .seq = ex->log.seq,
                .time = time,
                .xroad_id = ex->req.xroad_id,
                .client = ex->decision.client->id,
                .service = ex->decision.service->id,
                .request_hash = ex->req.request_hash,
                .response_hash = ex->response_hash,
                .subject = ex->subject[0] ? ex->subject : NULL,
                .purpose = exchange_purpose(ex),
                .basis = ex->decision.basis,
                .xroad_request_hash = ex->req.xroad_hash[0] ? ex->req.xroad_hash : NULL,
                .request_id = ex->req.request_id[0] ? ex->req.request_id : NULL,
        };

        return receipt_sign(ex->node->signer, &rc, ret_jws);
}
