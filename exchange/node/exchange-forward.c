/* exchange-forward.c: the exchange's side of node-to-node forwarding: which node answers, what is sent, what comes back */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/jws.h"
#include "node/exchange-internal.h"
#include "util/macro.h"
#include "util/strv.h"
#include "util/time-util.h"

/* Whether `n` is this node: its receipt key is the one this node signs with. */
static bool node_is_self(const Exchange *ex, const RegistryNode *n)
{
        const char *kid = ex->node->signer ? signer_kid(ex->node->signer) : NULL;

        return n && n->receipt_verifier && kid && streq(jws_verifier_kid(n->receipt_verifier), kid);
}

static int refuse(Exchange *ex, ProblemType type, const char *fmt, ...) _printf_(3, 4);
static int refuse(Exchange *ex, ProblemType type, const char *fmt, ...)
{
        va_list ap;

        ex->bus.error = type;
        va_start(ap, fmt);
        vsnprintf(ex->bus.detail, sizeof(ex->bus.detail), fmt, ap);
        va_end(ap);
        return 1;
}

static int push(char ***l, const char *name, const char *value)
{
        _cleanup_free_ char *line = NULL;

        if (!value)
                return 0;
        if (asprintf(&line, "%s: %s", name, value) < 0)
                return -ENOMEM;
        return strv_extend(l, line);
}

/* The request as the provider's node gets it: the client's headers meant for a provider, and the node's.
 * SOAP: the message's own headers (its X-Road header carries the rest), and the envelope. */
static int forward_headers(const Exchange *ex, const char *envelope, char ***ret)
{
        const ExchangeRequest *q = &ex->req;
        _cleanup_(strv_freep) char **l = NULL;
        const json_t *pair;
        size_t i;
        int r = 0;

        if (q->soap) {
                r = push(&l, "Content-Type", q->wire_content_type ?: "text/xml");
                r = r ?: push(&l, "SOAPAction", q->soap_action);
                r = r ?: push(&l, FORWARD_HEADER, envelope);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(l);
                return 0;
        }

        json_array_foreach(q->headers, i, pair) {
                const char *n = json_string_value(json_array_get(pair, 0));
                /* X-Road-Security-Server named this node; the provider's node is another */
                if (r == 0 && n && strcasecmp(n, "X-Road-Security-Server") != 0)
                        r = push(&l, n, json_string_value(json_array_get(pair, 1)));
        }
        r = r ?: push(&l, "X-Road-Client", ex->decision.client->id);
        r = r ?: push(&l, "X-Road-Id", q->xroad_id_generated ? q->xroad_id : NULL);
        r = r ?: push(&l, "X-Bus-Purpose", q->purpose);
        r = r ?: push(&l, "X-Bus-Subject", q->subject);
        r = r ?: push(&l, "X-Bus-Consent", q->consent);
        r = r ?: push(&l, FORWARD_HEADER, envelope);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

/* The forwarded request: its URL, headers and envelope, what its receipt must say. Return: 0, -ENOMEM, -EINVAL. */
static int forward_build(Exchange *ex, const RegistryNode *self, const RegistryNode *host, ForwardRequest *f)
{
        const ExchangeRequest *q = &ex->req;
        _cleanup_free_ char *target = NULL, *envelope = NULL;
        int r;

        /* SOAP: the message as the client sent it, POSTed to / (the HTTP method, not the one it is decided as) */
        f->method = q->soap ? "POST" : q->method;
        f->target = host;
        if ((q->soap ? asprintf(&target, "/")
                     : asprintf(&target, "/r1/%s%s%s", q->r1_path, q->query[0] ? "?" : "", q->query)) < 0 ||
            asprintf(&f->url, "%s%s", host->address, target) < 0)
                return -ENOMEM;
        r = forward_envelope_sign(ex->node->signer,
                                  &(ForwardClaims){ .node = self->id,
                                                    .to = host->id,
                                                    .client = ex->decision.client->id,
                                                    .service = ex->decision.service->id,
                                                    .method = f->method,
                                                    .target = target,
                                                    .xroad_id = q->xroad_id,
                                                    .request_hash = q->request_hash,
                                                    .time_usec = now_usec(CLOCK_REALTIME) },
                                  &envelope);
        if (r < 0)
                return r;
        f->expect = (ReceiptExpect){ .xroad_id = q->xroad_id,
                                     .client = ex->decision.client->id,
                                     .service = ex->decision.service->id,
                                     .request_hash = q->request_hash };
        return forward_headers(ex, envelope, &f->headers);
}

/*
 * The client node's request entry, rendered into ex->fwd->before: the exchange as decided and about to
 * be forwarded (stage "request", no status, no answer), so that a crash of this node after the provider
 * node served it still leaves it in this node's log. Not indexed under the subject: the answer's entry
 * is (docs/federation.md "Exchanges between nodes"). Return: 0, -ENOMEM.
 */
static int forward_log_request(Exchange *ex)
{
        ExlogRecord *rec = &ex->fwd->before;
        char *body;

        if (ex->req.query[0] && !ex->query_hash[0])
                hash_sha256_hex(ex->req.query, strlen(ex->req.query), ex->query_hash);
        exchange_entry_fill(ex);
        ex->entry.stage = "request";
        body = exlog_entry_render(&ex->entry);
        if (!body)
                return -ENOMEM;
        *rec = (ExlogRecord){ .body = body, .body_size = strlen(body) };
        return 0;
}

bool exchange_hosted_elsewhere(const Exchange *ex)
{
        const RegistryNode *const *nodes;
        const RegistryNode *host;

        if (!ex->decision.service || registry_nodes(ex->registry, &nodes) == 0)
                return false;
        host = registry_node_hosting(ex->registry, ex->decision.service->owner->id);
        return host && !node_is_self(ex, host);
}

bool exchange_check_client_hosted(Exchange *ex)
{
        const RegistryNode *self, *host;

        if (ex->req.forwarded_by || !ex->decision.client || !exchange_hosted_elsewhere(ex))
                return false;
        self = registry_node_by_kid(ex->registry, ex->node->signer ? signer_kid(ex->node->signer) : NULL);
        if (!self)
                return false; /* this node is no node of the snapshot: exchange_forward() says so */
        host = registry_node_hosting(ex->registry, ex->decision.client->id);
        if (host == self)
                return false;
        problem_set(&ex->out.problem, PROBLEM_CLIENT_NOT_HOSTED,
                    "client '%s' is not hosted by this node ('%s') but by %s%s%s: it must call its own node",
                    ex->decision.client->id, self->id, host ? "node '" : "no node", host ? host->id : "",
                    host ? "'" : "");
        return true;
}

int exchange_forward(Exchange *ex, Mailbox *reply_to, int kind)
{
        const RegistryService *svc = ex->decision.service;
        const RegistryNode *const *nodes, *host, *self;
        int r;

        if (registry_nodes(ex->registry, &nodes) == 0)
                return 0; /* a single node's registry */
        host = registry_node_hosting(ex->registry, svc->owner->id);
        if (host && node_is_self(ex, host))
                return 0;
        ex->bus = (BusRequest){ .item.kind = kind,
                                .reply_to = reply_to,
                                .service = svc->id,
                                .body = ex->req.body,
                                .body_size = ex->req.body_size,
                                .timeout_ms = svc->timeout_ms,
                                .max_response = svc->max_response_size };
        if (ex->req.forwarded_by)
                return refuse(ex, PROBLEM_NODE_REFUSED, "provider '%s' is not hosted by this node", svc->owner->id);
        if (!host)
                return refuse(ex, PROBLEM_NODE_UNKNOWN, "no node of the registry snapshot hosts provider '%s'",
                              svc->owner->id);
        self = registry_node_by_kid(ex->registry, ex->node->signer ? signer_kid(ex->node->signer) : NULL);
        if (!self || !ex->node->forwarder)
                return refuse(ex, PROBLEM_NODE_UNKNOWN,
                              "this node is not a node of the registry snapshot (no [node] names its receipt key)");
        if (!ex->req.soap && !ex->req.r1_path)
                return refuse(ex, PROBLEM_NODE_UNKNOWN, "only X-Road exchanges are forwarded between nodes");

        ex->fwd = calloc(1, sizeof(*ex->fwd));
        if (!ex->fwd)
                return refuse(ex, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        ex->fwd->bus = &ex->bus;
        r = forward_build(ex, self, host, ex->fwd);
        if (r < 0)
                return refuse(ex, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        r = forward_log_request(ex);
        if (r == 0)
                r = forwarder_submit_logged(ex->node->forwarder, ex->fwd, (unsigned)((uintptr_t)reply_to / 64),
                                            ex->node->log);
        if (r < 0) {
                ex->fwd->before.body = mfree((char *)ex->fwd->before.body); /* not appended */
                return refuse(ex, PROBLEM_BUS_BUSY, "%s",
                              r == -EAGAIN ? "the exchange log is saturated; retry later"
                                           : "the node is out of memory; retry later");
        }
        return 2;
}

void exchange_forward_answer(Exchange *ex)
{
        /* the provider's node validated and minimised it; its receipt says so for this body */
        ex->out.status = ex->bus.status;
        memcpy(ex->response_hash, ex->fwd->response_hash, sizeof(ex->response_hash));
}
