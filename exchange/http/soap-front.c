/* soap-front.c: the X-Road SOAP intake: an envelope on POST /, decided like a REST exchange
 *
 * The envelope is parsed with the hardened parser (exchange/soap), its X-Road
 * header gives the same facts the REST headers do, a client signature is
 * verified when present (and required when the registry says so), and the
 * exchange then takes the same path as REST (http-exchange.c). Answers are
 * signed envelopes; refusals are SOAP Faults.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "http/http-internal.h"

/* The one method a SOAP exchange is decided as: the service's (GET first), since SOAP has none. */
static const char *soap_method(const Registry *reg, const char *service)
{
        const RegistryService *svc = registry_service_lookup(reg, service);
        static const unsigned order[] = { REGISTRY_METHOD_GET,   REGISTRY_METHOD_POST,   REGISTRY_METHOD_PUT,
                                          REGISTRY_METHOD_PATCH, REGISTRY_METHOD_DELETE, REGISTRY_METHOD_HEAD };

        for (size_t i = 0; svc && i < ELEMENTSOF(order); i++)
                if (svc->methods & order[i])
                        return registry_method_to_string(order[i]);
        return "POST";
}

/* Refused before its header could be read in full: keep what was read for the Fault and the log. */
static void refuse_unreadable(HttpExchange *hx, PolicyInput *pin, SoapRequest *partial, int r, const Problem *why)
{
        Exchange *ex = &hx->ex;
        Problem form = {};

        ex->req.soap_req = partial;
        if (partial && policy_valid_token(partial->id, EXCHANGE_ID_MAX))
                snprintf(ex->req.xroad_id, sizeof(ex->req.xroad_id), "%s", partial->id);
        else
                exchange_new_id(ex);
        pin->method = ex->req.method;
        pin->client_header = partial && partial->client[0] ? partial->client : NULL;
        pin->r1_path = partial && partial->service[0] ? partial->service : NULL;
        if (r < 0)
                problem_set(&form, PROBLEM_BAD_REQUEST, "the envelope could not be read");
        else
                form = *why;
        http_exchange_run(hx, pin, &form);
}

/* The header's facts into ex->req and *pin; what is wrong with them into *form. */
static void read_header(Exchange *ex, PolicyInput *pin, Problem *form)
{
        const SoapRequest *s = ex->req.soap_req;
        const char *fields[] = { s->user_id, s->issue, s->purpose, s->subject, s->consent };
        char **to[] = { &ex->req.user_id, &ex->req.issue, &ex->req.purpose, &ex->req.subject, &ex->req.consent };

        if (policy_valid_token(s->id, EXCHANGE_ID_MAX))
                snprintf(ex->req.xroad_id, sizeof(ex->req.xroad_id), "%s", s->id);
        else {
                exchange_new_id(ex);
                problem_set(form, PROBLEM_BAD_REQUEST,
                            "xroad:id must be 1 to 255 letters, digits, '.', '_', ':' or '-'");
        }
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (fields[i] && fields[i][0] && exchange_set_text(to[i], fields[i]) < 0 && !form->type)
                        problem_set(form, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        if (ex->req.purpose && !policy_valid_token(ex->req.purpose, POLICY_MAX_PURPOSE))
                problem_set(form, PROBLEM_BAD_REQUEST, "xbus:purpose is malformed");

        pin->client_header = s->client;
        pin->method = ex->req.method = soap_method(ex->registry, s->service);
        pin->r1_path = s->service;
        pin->subject = ex->req.subject;
        pin->purpose = ex->req.purpose;
        pin->consent = ex->req.consent;
        pin->body_size = s->payload_size;
}

/* A signature is verified whenever present, and required when the client's registry entry says so. */
static void check_signature(Exchange *ex, const PolicyInput *pin, Problem *form)
{
        const SoapRequest *s = ex->req.soap_req;
        const RegistrySubsystem *client =
                pin->cert_present && pin->cert_trusted
                        ? registry_subsystem_by_cert(ex->registry, pin->cert_fingerprint, pin->cert_cn)
                        : NULL;

        if (s->signed_request) {
                Problem why = {};
                if (!ex->node->soap_trust || soap_request_verify(s, ex->node->soap_trust, NULL, &why) != 0) {
                        if (why.type == PROBLEM_NONE)
                                problem_set(&why, PROBLEM_BAD_REQUEST, "the request's signature is not valid");
                        *form = why;
                }
        } else if (client && client->soap_signature_required && streq(client->id, s->client))
                problem_set(form, PROBLEM_BAD_REQUEST, "this client's SOAP requests must be signed");
}

void soap_front_handle(Worker *w, struct evhttp_request *req)
{
        struct evbuffer *body = evhttp_request_get_input_buffer(req);
        static const SoapLimits limits = {};
        SoapRequest *partial = NULL;
        PolicyInput pin = {};
        Problem why = {}, form = {};
        WireIdentity id;
        HttpExchange *hx;
        Exchange *ex;
        size_t size;
        int r;

        hx = http_exchange_new(w, req);
        if (!hx)
                return;
        ex = &hx->ex;
        ex->req.soap = true;
        ex->req.method = "POST";
        snprintf(ex->req.content_type, sizeof(ex->req.content_type), "text/xml");
        wire_identify(req, &pin, &id);
        size = evbuffer_get_length(body);
        exchange_take_body(ex, size ? evbuffer_pullup(body, -1) : NULL, size);

        r = soap_request_parse((const char *)ex->req.body, ex->req.body_size, &limits, &ex->req.soap_req, &partial,
                               &why);
        if (r != 0) {
                refuse_unreadable(hx, &pin, partial, r, &why);
                return;
        }
        read_header(ex, &pin, &form);
        if (!form.type)
                check_signature(ex, &pin, &form);
        http_exchange_run(hx, &pin, &form);
}
