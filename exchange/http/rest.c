/* rest.c: the X-Road REST intake: /r1/{service id}[/path] with X-Road and X-Bus headers */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "http/http-internal.h"
#include "util/macro.h"

/* A header the exchange keeps when it is well-formed; a malformed one refuses the request. */
typedef struct RestHeader {
        const char *name;
        size_t offset; /* of the char * in ExchangeRequest */
        size_t max;
        bool token; /* X-Road token syntax (policy_valid_token), else printable text */
} RestHeader;

static const RestHeader headers[] = {
        { "X-Road-UserId", offsetof(ExchangeRequest, user_id), EXCHANGE_TEXT_MAX, false },
        { "X-Road-Issue", offsetof(ExchangeRequest, issue), EXCHANGE_TEXT_MAX, false },
        { "X-Bus-Purpose", offsetof(ExchangeRequest, purpose), POLICY_MAX_PURPOSE, true },
        { "X-Bus-Consent", offsetof(ExchangeRequest, consent), EXCHANGE_CONSENT_MAX, false },
        { "X-Bus-Subject", offsetof(ExchangeRequest, subject), SUBJECT_MAX, false },
};

/*
 * The request's headers into ex->req; what is wrong with them into *form.
 * Keep each header that is well-formed (the log records it); remember any that is not.
 */
static void read_headers(Exchange *ex, struct evkeyvalq *in, PolicyInput *pin, Problem *form)
{
        const char *xroad_id, *ct;
        bool dup = false, bad = false, oom = false;

        pin->client_header = wire_header_once(in, "X-Road-Client", &dup);
        xroad_id = wire_header_once(in, "X-Road-Id", &dup);
        if (xroad_id && policy_valid_token(xroad_id, EXCHANGE_ID_MAX))
                snprintf(ex->req.xroad_id, sizeof(ex->req.xroad_id), "%s", xroad_id);
        else {
                bad = xroad_id != NULL;
                exchange_new_id(ex);
        }
        for (size_t i = 0; i < ELEMENTSOF(headers); i++) {
                const RestHeader *hd = &headers[i];
                const char *v = wire_header_once(in, hd->name, &dup);
                if (!v)
                        continue;
                if (hd->token ? !policy_valid_token(v, hd->max) : !wire_valid_text(v, hd->max))
                        bad = true;
                else if (exchange_set_text((char **)((char *)&ex->req + hd->offset), v) < 0)
                        oom = true;
        }
        if (pin->client_header && !wire_valid_text(pin->client_header, EXCHANGE_TEXT_MAX))
                bad = true;
        ct = evhttp_find_header(in, "Content-Type");
        if (ct && wire_valid_text(ct, sizeof(ex->req.content_type) - 1))
                snprintf(ex->req.content_type, sizeof(ex->req.content_type), "%s", ct);

        if (oom)
                problem_set(form, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        else if (dup)
                problem_set(form, PROBLEM_BAD_REQUEST, "an X-Road-* or X-Bus-* header is repeated");
        else if (bad)
                problem_set(form, PROBLEM_BAD_REQUEST,
                            "a header value or the path is malformed (length, characters or encoding)");
}

void rest_handle(Worker *w, struct evhttp_request *req, const char *raw_path)
{
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        struct evbuffer *body = evhttp_request_get_input_buffer(req);
        const char *query;
        PolicyInput pin = {};
        WireIdentity id;
        Problem form = {};
        HttpExchange *hx;
        Exchange *ex;
        size_t size;

        hx = http_exchange_new(w, req);
        if (!hx)
                return;
        ex = &hx->ex;
        ex->req.method = wire_method(evhttp_request_get_command(req));
        if (!ex->req.method)
                ex->req.method = "OTHER";
        wire_identify(req, &pin, &id);
        read_headers(ex, evhttp_request_get_input_headers(req), &pin, &form);

        /* the body: contiguous in the request's buffer, alive until we reply */
        size = evbuffer_get_length(body);
        exchange_take_body(ex, size ? evbuffer_pullup(body, -1) : NULL, size);

        /* the path as sent: policy_decide() decodes each identifier segment on its own */
        pin.method = ex->req.method;
        pin.r1_path = raw_path + strlen("/r1/");
        pin.subject = ex->req.subject;
        pin.purpose = ex->req.purpose;
        pin.consent = ex->req.consent;
        pin.body = ex->req.body;
        pin.body_size = ex->req.body_size;
        /* the REST metaservices are GETs (PR-MREST 4): another method names an unknown service */
        if (streq(ex->req.method, "GET"))
                pin.metaservices =
                        REGISTRY_META_LIST_METHODS | REGISTRY_META_ALLOWED_METHODS | REGISTRY_META_GET_OPENAPI;

        query = uri ? evhttp_uri_get_query(uri) : NULL;
        if (query && strlen(query) <= EXCHANGE_QUERY_MAX)
                pin.query = strcpy(ex->req.query, query);
        if (query && strlen(query) > EXCHANGE_QUERY_MAX && form.type == PROBLEM_NONE)
                problem_set(&form, PROBLEM_BAD_REQUEST,
                            "a header value or the path is malformed (length, characters or encoding)");

        http_exchange_run(hx, &pin, &form);
}
