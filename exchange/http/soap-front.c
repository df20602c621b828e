/* soap-front.c: the X-Road SOAP intake: an envelope on POST /, decided like a REST exchange; the SOAP metaservices
 *
 * A request to / is X-Road's SOAP protocol (PR-MESS 4.0): a POST with a
 * text/xml envelope. The HTTP facts are checked first (method, media type,
 * SOAPAction), then the envelope is parsed with the hardened parser
 * (exchange/soap), its X-Road header gives the same facts the REST headers
 * do, a client signature is verified when present (and required when the
 * registry says so), and the exchange then takes the same path as REST
 * (http-exchange.c). The metaservices listMethods, allowedMethods and
 * getWsdl (PR-META) are answered here, by the node itself, for any
 * registered client. Refusals are X-Road Faults (wire_fault()).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "http/http-internal.h"
#include "soap/soap-meta.h"
#include "util/time-util.h"

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

/* A SOAPAction as X-Road takes it: absent, empty, "" or a quoted URI (its validateSoapActionHeader). */
static bool soap_action_valid(const char *a)
{
        size_t n = strlen(a);

        if (n == 0 || streq(a, "\"\""))
                return true;
        if (n <= 2 || a[0] != '"' || a[n - 1] != '"' || n > 1024)
                return false;
        for (size_t i = 1; i < n - 1; i++)
                if ((unsigned char)a[i] <= ' ' || (unsigned char)a[i] >= 0x7f || strchr("\"<>\\^`{|}", a[i]))
                        return false;
        return true;
}

/*
 * The HTTP facts of a SOAP request (PR-MESS §1, §2): text/xml, and a SOAPAction
 * X-Road accepts. Attachments (multipart/related, MTOM's application/xop+xml)
 * are refused: docs/protocol.md says why. Return: 0, 1 with *form set.
 */
static int check_http(struct evhttp_request *req, Exchange *ex, Problem *form)
{
        struct evkeyvalq *in = evhttp_request_get_input_headers(req);
        const char *ct = evhttp_find_header(in, "Content-Type"), *action = evhttp_find_header(in, "SOAPAction");
        size_t n = ct ? strcspn(ct, ";") : 0;

        while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
                n--;
        if (ct && ((n == 17 && strncasecmp(ct, "multipart/related", n) == 0) ||
                   (n == 19 && strncasecmp(ct, "application/xop+xml", n) == 0)))
                return soap_refuse_code(form, PROBLEM_BAD_REQUEST, XROAD_INVALID_CONTENT_TYPE,
                                        "SOAP attachments (multipart/related, MTOM) are not accepted: send one "
                                        "text/xml envelope");
        if (!ct || n != 8 || strncasecmp(ct, "text/xml", 8) != 0)
                return soap_refuse_code(form, PROBLEM_BAD_REQUEST, XROAD_INVALID_CONTENT_TYPE,
                                        "a SOAP request is text/xml");
        if (action && !soap_action_valid(action))
                return soap_refuse_code(form, PROBLEM_BAD_REQUEST, XROAD_INVALID_SOAP_ACTION,
                                        "SOAPAction must be empty or a quoted URI");
        ex->req.wire_content_type = ct;
        if (action && exchange_set_text(&ex->req.soap_action, action) < 0)
                return problem_set(form, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        return 0;
}

/* Refused before its header could be read in full: keep what was read for the log. */
static void refuse_unreadable(HttpExchange *hx, PolicyInput *pin, SoapRequest *partial, int r, const Problem *why)
{
        Exchange *ex = &hx->ex;
        Problem form = {};

        ex->req.soap_req = partial;
        if (partial && wire_valid_text(partial->id, EXCHANGE_ID_MAX))
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

/* xroad:securityServer, when given, must name this node (PR-TARGETSS). Return: 0, 1 with *form set. */
static int check_security_server(const Node *node, const Registry *reg, const SoapRequest *s, Problem *form)
{
        char own[SOAP_MAX_IDENTIFIER + 1];

        if (!s->security_server[0] || streq(s->security_server, node_security_server(node, reg, own, sizeof(own))))
                return 0;
        return soap_refuse_code(form, PROBLEM_BAD_REQUEST, XROAD_INVALID_SECURITY_SERVER,
                                "xroad:securityServer '%s' is not this node ('%s')", s->security_server, own);
}

/* The header's facts into ex->req and *pin; what is wrong with them into *form. */
static void read_header(Exchange *ex, PolicyInput *pin, Problem *form)
{
        const SoapRequest *s = ex->req.soap_req;
        const char *fields[] = { s->user_id, s->issue, s->purpose, s->subject, s->consent, s->represented_party };
        char **to[] = { &ex->req.user_id, &ex->req.issue,   &ex->req.purpose,
                        &ex->req.subject, &ex->req.consent, &ex->req.represented_party };

        if (wire_valid_text(s->id, EXCHANGE_ID_MAX))
                snprintf(ex->req.xroad_id, sizeof(ex->req.xroad_id), "%s", s->id);
        else {
                exchange_new_id(ex);
                soap_refuse_code(form, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                 "xroad:id must be printable text of 1 to %d bytes", EXCHANGE_ID_MAX);
        }
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (fields[i] && fields[i][0] && exchange_set_text(to[i], fields[i]) < 0 && !form->type)
                        problem_set(form, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        if (ex->req.purpose && !policy_valid_token(ex->req.purpose, POLICY_MAX_PURPOSE))
                problem_set(form, PROBLEM_BAD_REQUEST, "xbus:purpose is malformed");
        if (!form->type && !ex->req.forwarded_by) /* forwarded: the client's node checked it names that node */
                check_security_server(ex->node, ex->registry, s, form);

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
                pin->forwarded_client ? pin->forwarded_client
                : pin->cert_present && pin->cert_trusted
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

/* --- the metaservices (PR-META §3, §4) ------------------------------------------ */

/* getWsdl: the service's WSDL, generated from its XSDs, after the SOAP answer (multipart/related). */
static int meta_wsdl(const Registry *reg, const SoapRequest *s, const char *provider, char **ret, size_t *ret_size,
                     char **ret_type, Problem *p)
{
        char code[65], version[65], id[SOAP_MAX_IDENTIFIER + 1];
        const RegistryService *svc;
        int k;

        if (soap_meta_wsdl_read(s, code, version, p) != 0)
                return 1;
        snprintf(id, sizeof(id), "%s/%s", provider, code);
        svc = registry_service_lookup(reg, id);
        if (!svc)
                return problem_set(p, PROBLEM_SERVICE_UNKNOWN, "no service '%s'", id);
        if (!svc->request_xsd)
                return soap_refuse_code(p, PROBLEM_SERVICE_UNKNOWN, XROAD_SERVICE_TYPE,
                                        "service '%s' is not offered over SOAP: it has no WSDL", id);
        k = soap_meta_wsdl_build(s, svc, code, version, ret, ret_size, ret_type);
        if (k < 0)
                return problem_set(p, PROBLEM_INTERNAL_ERROR, "the WSDL of '%s' could not be made", id);
        return 0;
}

/* The answer of one metaservice call; refusals into *p. Return: 0, 1 refused. */
static int meta_answer(const Registry *reg, const SoapRequest *s, SoapMeta meta, const PolicyDecision *d, char **ret,
                       size_t *ret_size, char **ret_type, Problem *p)
{
        const RegistryService **list = NULL;
        char provider[SOAP_MAX_IDENTIFIER + 1];
        ssize_t n;
        int k;

        /* the provider is the service id without its code */
        snprintf(provider, sizeof(provider), "%.*s", (int)(soap_request_service_code(s) - s->service - 1), s->service);
        if (!registry_subsystem_lookup(reg, provider))
                return problem_set(p, PROBLEM_SERVICE_UNKNOWN, "no provider subsystem '%s'", provider);
        if (meta == SOAP_META_GET_WSDL)
                return meta_wsdl(reg, s, provider, ret, ret_size, ret_type, p);

        /* listMethods: the provider's SOAP services; allowedMethods: those the caller holds a right on */
        n = registry_service_list(reg, provider, meta == SOAP_META_ALLOWED_METHODS ? d->client : NULL,
                                  REGISTRY_LIST_SOAP, &list);
        k = n < 0 ? (int)n : soap_meta_list_build(s, meta == SOAP_META_ALLOWED_METHODS, list, (size_t)n, ret, ret_size);
        free(list);
        if (k < 0)
                return problem_set(p, PROBLEM_INTERNAL_ERROR, "the list could not be made");
        *ret_type = strdup("text/xml;charset=utf-8");
        if (!*ret_type)
                return problem_set(p, PROBLEM_INTERNAL_ERROR, "out of memory");
        return 0;
}

/*
 * A metaservice call: open to every registered client (no access right; the
 * caller must be who its certificate says), answered by the node and not an
 * exchange of the log: it names no person and reads only the registry.
 */
static void meta_handle(Worker *w, struct evhttp_request *req, const SoapRequest *s, SoapMeta meta,
                        const PolicyInput *pin)
{
        _cleanup_(registry_unrefp) Registry *reg = node_registry(w->node);
        _cleanup_free_ char *body = NULL, *type = NULL;
        uint64_t start = now_usec(CLOCK_MONOTONIC);
        PolicyDecision d = {};
        Problem p = {};
        size_t size = 0;

        if (policy_identify(reg, pin, &d, &p) == 0 && check_security_server(w->node, reg, s, &p) == 0 &&
            meta_answer(reg, s, meta, &d, &body, &size, &type, &p) == 0) {
                wire_send(req, 200, type, body, size);
                metrics_count(w->node, 200, start);
                return;
        }
        wire_fault(req, &p, NULL);
        metrics_count(w->node, SOAP_FAULT_HTTP_STATUS, start);
}

/* --- the intake ---------------------------------------------------------------- */

void soap_front_handle(Worker *w, struct evhttp_request *req)
{
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        static const SoapLimits limits = {};
        SoapRequest *parsed = NULL, *partial = NULL;
        PolicyInput pin = {};
        Problem why = {}, form = {}, forward = {};
        WireIdentity id;
        HttpExchange *hx;
        Exchange *ex;
        size_t size;
        SoapMeta meta;
        int r = 0;

        if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
                /* not an exchange: nothing to log */
                soap_refuse_code(&form, PROBLEM_BAD_REQUEST, XROAD_INVALID_HTTP_METHOD,
                                 "X-Road SOAP requests are POSTed to /");
                wire_fault(req, &form, NULL);
                return;
        }
        hx = http_exchange_new(w, req);
        if (!hx)
                return;
        ex = &hx->ex;
        ex->req.soap = true;
        ex->req.method = "POST";
        snprintf(ex->req.content_type, sizeof(ex->req.content_type), "text/xml");
        ex->req.from_node = evhttp_find_header(evhttp_request_get_input_headers(req), FORWARD_HEADER) != NULL;
        wire_identify(req, &pin, &id);
        size = evbuffer_get_length(in);
        exchange_take_body(ex, size ? evbuffer_pullup(in, -1) : NULL, size);
        /* X-Road's request hash of a SOAP request: base64 SHA-512 of the message as sent (PR-MESS §2.2) */
        hash_sha512_b64(ex->req.body, ex->req.body_size, ex->req.xroad_hash);

        if (check_http(req, ex, &form) != 0) {
                refuse_unreadable(hx, &pin, NULL, 1, &form);
                return;
        }
        r = soap_request_parse((const char *)ex->req.body, ex->req.body_size, &limits, &parsed, &partial, &why);
        if (r != 0) {
                refuse_unreadable(hx, &pin, partial, r, &why);
                return;
        }
        meta = soap_meta_from_code(soap_request_service_code(parsed));
        if (meta != SOAP_META_NONE) {
                pin.client_header = parsed->client;
                meta_handle(w, req, parsed, meta, &pin);
                soap_request_free(parsed);
                http_exchange_abandon(hx);
                return;
        }
        ex->req.soap_req = parsed;
        /* forwarded by the client's node: the envelope signs the message as it came, POSTed to / */
        rest_read_forward(ex, req, &pin,
                          &(ForwardClaims){ .client = parsed->client,
                                            .method = "POST",
                                            .target = evhttp_request_get_uri(req),
                                            .xroad_id = parsed->id,
                                            .request_hash = ex->req.request_hash },
                          &forward);
        read_header(ex, &pin, &form);
        if (!form.type)
                check_signature(ex, &pin, &form);
        http_exchange_run(hx, &pin, &form);
}
