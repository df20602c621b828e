/* rest.c: the X-Road REST intake: /r1/{service id}[/path] with X-Road and X-Bus headers */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "http/http-internal.h"
#include "federation/envelope.h"
#include "http/xroad.h"
#include "util/macro.h"
#include "util/time-util.h"

/* A header the exchange keeps when it is well-formed; a malformed one refuses the request. */
typedef struct RestHeader {
        const char *name;
        size_t offset; /* of the char * in ExchangeRequest */
        size_t max;
        bool (*valid)(const char *value, size_t max);
} RestHeader;

static bool valid_token(const char *v, size_t max)
{
        return policy_valid_token(v, max);
}

static bool valid_party(const char *v, size_t max)
{
        return wire_valid_text(v, max) && xroad_represented_party_valid(v);
}

static const RestHeader headers[] = {
        { "X-Road-UserId", offsetof(ExchangeRequest, user_id), EXCHANGE_TEXT_MAX, wire_valid_text },
        { "X-Road-Issue", offsetof(ExchangeRequest, issue), EXCHANGE_TEXT_MAX, wire_valid_text },
        { "X-Road-Represented-Party", offsetof(ExchangeRequest, represented_party), XROAD_ID_MAX, valid_party },
        { "X-Bus-Purpose", offsetof(ExchangeRequest, purpose), POLICY_MAX_PURPOSE, valid_token },
        { "X-Bus-Consent", offsetof(ExchangeRequest, consent), EXCHANGE_CONSENT_MAX, wire_valid_text },
        { "X-Bus-Subject", offsetof(ExchangeRequest, subject), SUBJECT_MAX, wire_valid_text },
};

/* The value of the last `name` header, or NULL (X-Road: of repeated X-Road-Client headers the last counts). */
static const char *header_last(struct evkeyvalq *in, const char *name)
{
        const char *found = NULL;
        struct evkeyval *kv;

        TAILQ_FOREACH(kv, in, next)
                if (strcasecmp(kv->key, name) == 0)
                        found = kv->value;
        return found;
}

/* Record the first thing wrong with the request (the order of the checks is their priority). */
static void form_set(Problem *form, ProblemType type, ProblemXroad x, const char *detail)
{
        if (form->type != PROBLEM_NONE)
                return;
        problem_set(form, type, "%s", detail);
        problem_refine(form, x);
}

/*
 * X-Road-Client (the last one; X-GovStack-Client when there is none), each part percent-decoded:
 * the subsystem id into `client` for the policy, or NULL when missing or malformed.
 */
static const char *read_client(struct evkeyvalq *in, char *client, size_t size, Problem *form)
{
        const char *v = header_last(in, "X-Road-Client");

        if (!v)
                v = header_last(in, "X-GovStack-Client");
        if (!v)
                return NULL; /* the policy refuses it once the certificate is checked */
        if (!wire_valid_text(v, EXCHANGE_TEXT_MAX) || xroad_id_decode(v, 3, 4, client, size) < 0) {
                form_set(form, PROBLEM_BAD_REQUEST, XROAD_INVALID_CLIENT_IDENTIFIER,
                         "X-Road-Client must be INSTANCE/CLASS/MEMBER[/SUBSYSTEM], each part percent-encoded");
                return NULL;
        }
        return client;
}

/* X-Road-Security-Server, when sent, must name this node ([node] security-server, PR-TARGETSS 1.2 §2.3). */
static void check_security_server(const Exchange *ex, struct evkeyvalq *in, Problem *form)
{
        const char *v = header_last(in, "X-Road-Security-Server");
        char got[XROAD_ID_MAX + 1], mine[XROAD_ID_MAX + 1];

        if (!v)
                return;
        if (ex->node->security_server)
                snprintf(mine, sizeof(mine), "%s", ex->node->security_server);
        else
                snprintf(mine, sizeof(mine), "%s/GOV/XBUS/%s", registry_instance(ex->registry),
                         strempty(ex->node->name));
        if (!wire_valid_text(v, EXCHANGE_TEXT_MAX) || xroad_id_decode(v, 4, 4, got, sizeof(got)) < 0 ||
            !streq(got, mine))
                form_set(form, PROBLEM_BAD_REQUEST, XROAD_INVALID_SECURITY_SERVER,
                         "X-Road-Security-Server does not name this node");
}

/* The client's headers that reach the provider ([[name, value], ...], xroad_header_to_provider()), in order. */
static json_t *provider_headers(struct evkeyvalq *in)
{
        const char *connection = evhttp_find_header(in, "Connection");
        json_t *out = json_array();
        struct evkeyval *kv;

        TAILQ_FOREACH(kv, in, next) {
                json_t *pair;
                /* the headers Connection names are hop-by-hop too (RFC 9110 §7.6.1) */
                bool named = false;
                for (const char *p = connection; p && *p && !named;) {
                        size_t len = strcspn(p, ","), skip = strspn(p, " \t");
                        size_t n = len > skip ? len - skip : 0;
                        while (n > 0 && (p[skip + n - 1] == ' ' || p[skip + n - 1] == '\t'))
                                n--;
                        named = n == strlen(kv->key) && strncasecmp(p + skip, kv->key, n) == 0;
                        p += len + (p[len] == ',');
                }
                if (!out || named || !xroad_header_to_provider(kv->key))
                        continue;
                pair = json_pack("[s,s]", kv->key, kv->value);
                if (!pair || json_array_append_new(out, pair) < 0) {
                        json_decref(out);
                        return NULL; /* out of memory, or a value that is not UTF-8 */
                }
        }
        return out;
}

/*
 * The request's headers into ex->req; what is wrong with them into *form.
 * Keep each header that is well-formed (the log records it); remember any that is not.
 */
static void read_headers(Exchange *ex, struct evkeyvalq *in, PolicyInput *pin, Problem *form, char *client,
                         size_t client_size)
{
        const char *xroad_id, *ct;
        bool dup = false, bad = false, oom = false;

        pin->client_header = read_client(in, client, client_size, form);
        xroad_id = wire_header_once(in, "X-Road-Id", &dup);
        if (xroad_id && wire_valid_text(xroad_id, EXCHANGE_ID_MAX))
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
                if (!hd->valid(v, hd->max))
                        bad = true;
                else if (exchange_set_text((char **)((char *)&ex->req + hd->offset), v) < 0)
                        oom = true;
        }
        ct = evhttp_find_header(in, "Content-Type");
        if (ct && wire_valid_text(ct, sizeof(ex->req.content_type) - 1))
                snprintf(ex->req.content_type, sizeof(ex->req.content_type), "%s", ct);
        ex->req.headers = provider_headers(in);

        if (dup)
                form_set(form, PROBLEM_BAD_REQUEST, XROAD_CODE_OF_TYPE, "an X-Road-* or X-Bus-* header is repeated");
        if (bad || !ex->req.headers)
                form_set(form, PROBLEM_BAD_REQUEST, XROAD_CODE_OF_TYPE,
                         "a header value or the path is malformed (length, characters or encoding)");
        check_security_server(ex, in, form);
        if (oom)
                problem_set(form, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
}

/* The service path as sent, after "/r1/" and the five identifier segments ("" when none), or NULL. */
static const char *raw_service_path(const char *r1)
{
        for (int i = 0; i < 5; i++) {
                r1 = strchr(r1, '/');
                if (!r1)
                        return i == 4 ? "" : NULL;
                r1++;
        }
        return r1 - 1;
}

/* X-Road-Request-Id, and X-Road-Request-Hash over what the client sent (xroad_request_hash()). */
static void hash_request(Exchange *ex, struct evhttp_request *req, Problem *form)
{
        struct evkeyvalq *in = evhttp_request_get_input_headers(req);
        XroadHeader list[256];
        struct evkeyval *kv;
        size_t n = 0;

        uuid_random(ex->req.request_id);
        TAILQ_FOREACH(kv, in, next) {
                if (n == ELEMENTSOF(list)) {
                        form_set(form, PROBLEM_BAD_REQUEST, XROAD_CODE_OF_TYPE, "too many header fields");
                        return;
                }
                list[n++] = (XroadHeader){ kv->key, kv->value };
        }
        if (xroad_request_hash(&(XroadHashInput){ .method = ex->req.method,
                                                  .target = evhttp_request_get_uri(req),
                                                  .headers = list,
                                                  .n_headers = n,
                                                  .request_id = ex->req.request_id,
                                                  .generated_id = ex->req.xroad_id_generated ? ex->req.xroad_id : NULL,
                                                  .body = ex->req.body,
                                                  .body_size = ex->req.body_size },
                               ex->req.xroad_hash, NULL) < 0) {
                ex->req.xroad_hash[0] = 0;
                problem_set(form, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        }
}

void rest_read_forward(Exchange *ex, struct evhttp_request *req, PolicyInput *pin, const ForwardClaims *expect,
                       Problem *refused)
{
        bool dup = false;
        const char *env = wire_header_once(evhttp_request_get_input_headers(req), FORWARD_HEADER, &dup);
        const RegistrySubsystem *client = NULL;
        const RegistryNode *from = NULL;
        int r;

        if (!env)
                return;
        r = dup ? 1
                : forward_envelope_check(ex->registry, ex->node->signer ? signer_kid(ex->node->signer) : NULL,
                                         pin->cert_fingerprint, env, expect, now_usec(CLOCK_REALTIME), &client, &from,
                                         refused);
        if (r == 0) {
                pin->forwarded_client = client;
                ex->req.forwarded_by = from->id;
                return;
        }
        if (dup)
                problem_set(refused, PROBLEM_NODE_REFUSED, "X-Bus-Forward is repeated");
        else if (r < 0)
                problem_set(refused, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        pin->forward_refused = refused;
}

void rest_handle(Worker *w, struct evhttp_request *req, const char *raw_path)
{
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        struct evbuffer *body = evhttp_request_get_input_buffer(req);
        char client[XROAD_ID_MAX + 1];
        const char *query;
        PolicyInput pin = {};
        WireIdentity id;
        Problem form = {}, forward = {};
        HttpExchange *hx;
        Exchange *ex;
        size_t size;

        hx = http_exchange_new(w, req);
        if (!hx)
                return;
        ex = &hx->ex;
        ex->req.method = wire_method(evhttp_request_get_command(req));
        if (!ex->req.method) {
                /* libevent read no body for it: whatever follows cannot be trusted to be the next request */
                ex->req.method = "OTHER";
                form_set(&form, PROBLEM_BAD_REQUEST, XROAD_CODE_OF_TYPE, "the bus does not serve this HTTP method");
                evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        }
        wire_identify(req, &pin, &id);
        read_headers(ex, evhttp_request_get_input_headers(req), &pin, &form, client, sizeof(client));

        /* the body: contiguous in the request's buffer, alive until we reply */
        size = evbuffer_get_length(body);
        exchange_take_body(ex, size ? evbuffer_pullup(body, -1) : NULL, size);
        hash_request(ex, req, &form);
        rest_read_forward(ex, req, &pin,
                          &(ForwardClaims){ .client = pin.client_header,
                                            .method = ex->req.method,
                                            .target = evhttp_request_get_uri(req),
                                            .xroad_id = ex->req.xroad_id,
                                            .request_hash = ex->req.request_hash },
                          &forward);

        /* the path as sent: policy_decide() decodes each identifier segment on its own */
        pin.method = ex->req.method;
        pin.r1_path = raw_path + strlen("/r1/");
        ex->req.raw_path = raw_service_path(pin.r1_path);
        ex->req.r1_path = pin.r1_path;
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
        if (query && strlen(query) > EXCHANGE_QUERY_MAX)
                form_set(&form, PROBLEM_BAD_REQUEST, XROAD_CODE_OF_TYPE,
                         "a header value or the path is malformed (length, characters or encoding)");

        http_exchange_run(hx, &pin, &form);
}

void rest_handle_unknown(Worker *w, struct evhttp_request *req, const char *path)
{
        Problem p = {};
        size_t digits = strspn(path + (path[0] == '/' && path[1] == 'r' ? 2 : 0), "0123456789");

        /* /rN/...: an X-Road REST request of another protocol version (PR-REST 1.0.4 §2.3) */
        if (path[0] == '/' && path[1] == 'r' && digits > 0 && path[2 + digits] == '/') {
                problem_set(&p, PROBLEM_NOT_FOUND, "this node serves the X-Road REST protocol r1 only");
                problem_refine(&p, XROAD_INVALID_PROTOCOL_VERSION);
        } else
                problem_set(&p, PROBLEM_NOT_FOUND, "no such resource; exchanges use /r1/{service id}");
        wire_refuse(req, &p, NULL);
}
