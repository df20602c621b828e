/* consent-nodes.c: the consent API across nodes: the citizen's view fanned out and merged, records forwarded */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/consent-nodes.h"
#include "crypto/hash.h"
#include "crypto/jws.h"
#include "policy/subject.h"
#include "util/macro.h"
#include "util/strv.h"
#include "util/time-util.h"
#include "util/utf8.h"

/* ---- The bodies: pure parsers of outside input (fuzz-consent-nodes.c) ----------------------- */

static int why_set(char *why, size_t size, const char *text)
{
        snprintf(why, size, "%s", text);
        return 1;
}

int consent_nodes_query_parse(const void *body, size_t size, bool allow_cursors, ConsentNodesQuery *ret, char *why,
                              size_t why_size)
{
        _cleanup_(json_decrefp) json_t *o = NULL;
        const char *key, *subject;
        json_t *v;

        *ret = (ConsentNodesQuery){ .limit = CONSENT_NODES_LIMIT_DEFAULT, .before = UINT64_MAX };
        if (size > CONSENT_NODES_QUERY_MAX)
                return why_set(why, why_size, "the body is too large");
        o = json_loadb(body ? body : "", size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(o))
                return why_set(why, why_size, "the body must be a JSON object");
        json_object_foreach(o, key, v) {
                if (streq(key, "subject") || streq(key, "limit") || streq(key, "cursor") ||
                    (allow_cursors && streq(key, "cursors")))
                        continue;
                return why_set(why, why_size, "unknown member in the body");
        }
        subject = json_string_value(json_object_get(o, "subject"));
        if (!subject || !subject_valid(subject))
                return why_set(why, why_size, "\"subject\" must be a personal id ([0-9A-Za-z-], 1..64)");
        v = json_object_get(o, "limit");
        if (v && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > CONSENT_NODES_LIMIT_MAX))
                return why_set(why, why_size, "\"limit\" must be an integer from 1 to 500");
        if (v)
                ret->limit = (uint64_t)json_integer_value(v);
        v = json_object_get(o, "cursor");
        if (v && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0))
                return why_set(why, why_size, "\"cursor\" must be a log sequence number");
        if (v && !json_is_null(v))
                ret->before = (uint64_t)json_integer_value(v);
        v = json_object_get(o, "cursors");
        if (v) {
                json_t *c;

                if (!json_is_object(v) || json_object_size(v) == 0 || json_object_size(v) > CONSENT_NODES_MAX ||
                    json_object_get(o, "cursor"))
                        return why_set(why, why_size,
                                       "\"cursors\" must be a non-empty object {node id: log sequence number}, "
                                       "without \"cursor\"");
                json_object_foreach(v, key, c)
                        if (!json_is_integer(c) || json_integer_value(c) < 0)
                                return why_set(why, why_size, "\"cursors\" must map node ids to sequence numbers");
                ret->cursors = json_incref(v);
        }
        memcpy(ret->subject, subject, strlen(subject) + 1);
        return 0;
}

int consent_nodes_answer_parse(const void *body, size_t size, json_t **ret_accesses, uint64_t *ret_next)
{
        _cleanup_(json_decrefp) json_t *o = NULL;
        json_t *a, *next, *item;
        size_t i;

        if (size > CONSENT_NODES_ANSWER_MAX)
                return 1;
        o = json_loadb(body ? body : "", size, JSON_REJECT_DUPLICATES, NULL);
        a = json_object_get(o, "accesses");
        next = json_object_get(o, "next_cursor");
        if (!json_is_array(a) || json_array_size(a) > CONSENT_NODES_LIMIT_MAX ||
            (next && !json_is_null(next) && (!json_is_integer(next) || json_integer_value(next) < 0)))
                return 1;
        json_array_foreach(a, i, item)
                if (!json_is_object(item) || !json_is_string(json_object_get(item, "time")))
                        return 1;
        *ret_next = json_is_integer(next) ? (uint64_t)json_integer_value(next) : 0;
        *ret_accesses = json_incref(a);
        return 0;
}

/* Newest first: by "time" (RFC 3339, one width: they compare as text), then by node, then by seq. */
static int item_cmp(const void *a, const void *b)
{
        const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        int c = strcmp(strempty(json_string_value(json_object_get(y, "time"))),
                       strempty(json_string_value(json_object_get(x, "time"))));
        json_int_t sx, sy;

        if (c == 0)
                c = strcmp(strempty(json_string_value(json_object_get(x, "node"))),
                           strempty(json_string_value(json_object_get(y, "node"))));
        sx = json_integer_value(json_object_get(x, "seq"));
        sy = json_integer_value(json_object_get(y, "seq"));
        return c ? c : sx < sy ? 1 : sx > sy ? -1 : 0;
}

/* The key of an exchange at a node: "node\nX-Road-Id" (malloc'd), or NULL without an X-Road-Id. */
static char *served_key(const char *node, const json_t *item)
{
        const char *xid = json_string_value(json_object_get(item, "xroad_id"));
        char *k;

        if (!xid || asprintf(&k, "%s\n%s", node, xid) < 0)
                return NULL;
        return k;
}

int consent_nodes_merge(json_t *pages, json_t *status, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *served = json_object(), *out = json_object();
        _cleanup_free_ json_t **all = NULL;
        const char *node;
        json_t *page, *arr, *item;
        size_t n = 0, cap = 0, i;

        if (!served || !out)
                return -ENOMEM;
        json_object_foreach(pages, node, page)
                cap += json_array_size(page);
        all = calloc(MAX(cap, 1U), sizeof(*all));
        if (!all)
                return -ENOMEM;
        json_object_foreach(pages, node, page)
                json_array_foreach(page, i, item) {
                        _cleanup_free_ char *k = served_key(node, item);

                        if (json_object_set_new(item, "node", json_string(node)) < 0 ||
                            (k && json_object_set_new(served, k, json_true()) < 0))
                                return -ENOMEM;
                        all[n++] = item;
                }
        qsort(all, n, sizeof(*all), item_cmp);
        arr = json_array();
        if (!arr || json_object_set_new(out, "accesses", arr) < 0 ||
            json_object_set(out, "nodes", status ? status : json_null()) < 0)
                return -ENOMEM;
        for (i = 0; i < n; i++) {
                const char *peer = json_string_value(json_object_get(all[i], "peer_node"));
                const char *role = json_string_value(json_object_get(all[i], "peer_role"));
                _cleanup_free_ char *k = peer && role && streq(role, "provider") ? served_key(peer, all[i]) : NULL;

                if (k && json_object_get(served, k))
                        continue; /* the provider's node lists the same exchange: its line is the one shown */
                if (json_array_append(arr, all[i]) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* ---- Calls to other nodes ------------------------------------------------------------------ */

typedef enum FanKind {
        FAN_ACCESSES,
        FAN_CREATE,
        FAN_REVOKE,
} FanKind;

typedef struct Fan Fan;

typedef struct FanCall {
        ForwardRequest fr; /* its url and headers are ours */
        BusRequest bus;
        char *body; /* what it sends (owned) */
        Fan *fan;
} FanCall;

struct Fan {
        EndpointPending pending;
        FanKind kind;
        const ConsentNodes *cn;
        Registry *reg; /* a reference: the RegistryNode pointers of the calls are its */
        Mailbox *reply_to;
        json_t *local; /* FAN_ACCESSES: this node's page */
        const char *self;
        char *id; /* FAN_REVOKE: the consent */
        atomic_size_t left;
        size_t n;
        FanCall calls[];
};

const RegistryNode *consent_nodes_self(const ConsentNodes *cn, const Registry *reg)
{
        return cn->signer ? registry_node_by_kid(reg, signer_kid(cn->signer)) : NULL;
}

static void fan_free(EndpointPending *p)
{
        Fan *f = container_of(p, Fan, pending);

        for (size_t i = 0; i < f->n; i++) {
                FanCall *c = &f->calls[i];
                free(c->body);
                free(c->fr.url);
                strv_free(c->fr.headers);
                free(c->fr.receipt);
                free(c->fr.xroad_error);
                free(c->bus.response);
                json_decref(c->bus.headers);
        }
        free(p->resp.body);
        json_decref(f->local);
        registry_unref(f->reg);
        free(f->id);
        free(f);
}

/* What a call came to: "ok" (an answer with its status), or why there is none. */
static const char *call_outcome(const FanCall *c)
{
        switch (c->bus.error) {
        case PROBLEM_NONE:
                return "ok";
        case PROBLEM_NODE_TIMEOUT:
                return "timeout";
        case PROBLEM_NODE_UNTRUSTED:
                return "untrusted";
        case PROBLEM_NODE_UNREACHABLE:
                return "unreachable";
        default:
                return "failed";
        }
}

/* The "detail" of another node's problem+json answer (at most size - 1 bytes, cut between characters), or "". */
static const char *answer_detail(const FanCall *c, char *buf, size_t size)
{
        json_t *o = json_loadb(c->bus.response ? c->bus.response : "", c->bus.response_size, 0, NULL);
        size_t n;

        snprintf(buf, size, "%s", strempty(json_string_value(json_object_get(o, "detail"))));
        json_decref(o);
        n = strlen(buf);
        while (n > 0 && !utf8_valid(buf, n)) /* cut inside a character: drop its first bytes */
                buf[--n] = 0;
        return buf;
}

/* The merged view, once every node answered or failed. Return: 0 or -ENOMEM. */
static int fan_finish_accesses(Fan *f)
{
        _cleanup_(json_decrefp) json_t *pages = json_object(), *status = json_array(), *out = NULL;
        json_t *local = json_object_get(f->local, "accesses");

        if (!pages || !status || json_object_set_new(pages, f->self, local ? json_incref(local) : json_array()) < 0 ||
            json_array_append_new(status, json_pack("{s:s,s:s,s:O}", "node", f->self, "status", "ok", "next_cursor",
                                                    json_object_get(f->local, "next_cursor") ?: json_null())) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < f->n; i++) {
                const FanCall *c = &f->calls[i];
                const char *id = c->fr.target->id;
                json_t *items = NULL, *st;
                uint64_t next = 0;
                char detail[201];

                if (c->bus.error != PROBLEM_NONE)
                        st = json_pack("{s:s,s:s,s:s}", "node", id, "status", call_outcome(c), "detail", c->bus.detail);
                else if (c->bus.status != 200)
                        st = json_pack("{s:s,s:s,s:i,s:s}", "node", id, "status", "refused", "http_status",
                                       c->bus.status, "detail", answer_detail(c, detail, sizeof(detail)));
                else if (consent_nodes_answer_parse(c->bus.response, c->bus.response_size, &items, &next) != 0)
                        st = json_pack("{s:s,s:s,s:s}", "node", id, "status", "failed", "detail",
                                       "the node's answer is malformed");
                else {
                        st = json_pack("{s:s,s:s,s:o}", "node", id, "status", "ok", "next_cursor",
                                       next ? json_integer((json_int_t)next) : json_null());
                        if (json_object_set_new(pages, id, items) < 0)
                                return -ENOMEM;
                }
                if (!st || json_array_append_new(status, st) < 0)
                        return -ENOMEM;
        }
        if (consent_nodes_merge(pages, status, &out) < 0)
                return -ENOMEM;
        return endpoint_json(&f->pending.resp, 200, TAKE_PTR(out));
}

/* Another node's answer, passed on as it came, with the node named. Return: 0 or -ENOMEM. */
static int fan_pass_on(Fan *f, FanCall *c)
{
        EndpointResponse *resp = &f->pending.resp;

        resp->status = c->bus.status;
        snprintf(resp->content_type, sizeof(resp->content_type), "%s",
                 c->bus.content_type[0] ? c->bus.content_type : "application/json");
        resp->body = TAKE_PTR(c->bus.response);
        resp->body_size = c->bus.response_size;
        (void)endpoint_header_add(resp, "X-Bus-Node", "%s", c->fr.target->id);
        return 0;
}

static int fan_finish_forward(Fan *f)
{
        EndpointResponse *resp = &f->pending.resp;
        FanCall *failed = NULL;

        for (size_t i = 0; i < f->n; i++) {
                FanCall *c = &f->calls[i];

                if (c->bus.error == PROBLEM_NONE && (f->kind == FAN_CREATE || c->bus.status == 200))
                        return fan_pass_on(f, c);
                if (c->bus.error != PROBLEM_NONE || c->bus.status >= 500)
                        failed = failed ?: c;
        }
        if (failed && failed->bus.error != PROBLEM_NONE)
                return endpoint_problem(resp, failed->bus.error, "%s", failed->bus.detail);
        if (failed)
                return endpoint_problem(resp, PROBLEM_NODE_UNREACHABLE, "node '%s' failed (HTTP %d)",
                                        failed->fr.target->id, failed->bus.status);
        return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no consent \"%.160s\" issued by this authority on any node",
                                strempty(f->id));
}

/* A call ended (on a lane's thread); the last one answers the endpoint. */
static void fan_call_done(ForwardRequest *r)
{
        FanCall *c = container_of(r, FanCall, fr);
        Fan *f = c->fan;

        if (atomic_fetch_sub(&f->left, 1) != 1)
                return;
        if ((f->kind == FAN_ACCESSES ? fan_finish_accesses(f) : fan_finish_forward(f)) < 0)
                endpoint_problem(&f->pending.resp, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        (void)mailbox_post(f->reply_to, &f->pending.item);
}

static int fan_new(const ConsentNodes *cn, const EndpointRequest *req, FanKind kind, size_t n, Fan **ret)
{
        Fan *f = calloc(1, sizeof(Fan) + n * sizeof(FanCall));

        if (!f)
                return -ENOMEM;
        f->kind = kind;
        f->cn = cn;
        f->reg = registry_ref((Registry *)req->registry);
        f->reply_to = req->reply_to;
        f->pending.item.kind = req->reply_kind;
        f->pending.free = fan_free;
        *ret = f;
        return 0;
}

/* Call number f->n: to `node`, `kind` at `target` with `body` (taken, even on failure), for req's client.
 * Return: 0 or -errno. */
static int fan_add(Fan *f, const EndpointRequest *req, const RegistryNode *node, const char *kind, const char *target,
                   char *body, size_t size)
{
        FanCall *c = &f->calls[f->n];
        _cleanup_free_ char *envelope = NULL, *line = NULL;
        char hash[65];
        int r;

        c->body = body;
        f->n++; /* counted now: fan_free() frees what it holds */
        if (!body)
                return -ENOMEM;
        hash_sha256_hex(body, size, hash);
        r = node_call_sign(f->cn->signer,
                           &(NodeCallClaims){ .node = f->self,
                                              .to = node->id,
                                              .kind = kind,
                                              .client = req->client->id,
                                              .method = "POST",
                                              .target = target,
                                              .body_hash = hash,
                                              .time_usec = now_usec(CLOCK_REALTIME) },
                           &envelope);
        if (r < 0)
                return r;
        c->fan = f;
        c->bus = (BusRequest){ .body = body,
                               .body_size = size,
                               .timeout_ms = CONSENT_NODES_TIMEOUT_MS,
                               .max_response = CONSENT_NODES_ANSWER_MAX };
        c->fr = (ForwardRequest){
                .bus = &c->bus, .target = node, .method = "POST", .node_call = true, .done = fan_call_done, .userdata = c
        };
        if (asprintf(&c->fr.url, "%s%s", node->address, target) < 0 ||
            asprintf(&line, "%s: %s", NODE_CALL_HEADER, envelope) < 0 ||
            strv_extend(&c->fr.headers, "Content-Type: application/json") < 0 ||
            strv_extend(&c->fr.headers, "Accept: application/json") < 0 || strv_extend(&c->fr.headers, line) < 0)
                return -ENOMEM;
        return 0;
}

/* Send every call (answered in fan_call_done()); the endpoint answers later. */
static void fan_start(Fan *f, const EndpointRequest *req, EndpointResponse *resp)
{
        size_t n = f->n;

        atomic_store(&f->left, n);
        resp->pending = &f->pending;
        for (size_t i = 0; i < n; i++) {
                FanCall *c = &f->calls[i];

                if (forwarder_submit(f->cn->forwarder, &c->fr,
                                     req->reply_to ? (unsigned)((uintptr_t)req->reply_to / 64) : 0) < 0) {
                        c->bus.error = PROBLEM_BUS_BUSY;
                        snprintf(c->bus.detail, sizeof(c->bus.detail), "the forwarder is saturated; retry later");
                        fan_call_done(&c->fr);
                }
        }
}

int consent_nodes_accesses(const ConsentNodes *cn, const EndpointRequest *req, EndpointResponse *resp,
                           const ConsentNodesQuery *q, json_t *local)
{
        const RegistryNode *const *nodes, *self = consent_nodes_self(cn, req->registry);
        size_t n = registry_nodes(req->registry, &nodes);
        Fan *f = NULL;
        int r;

        if (!self || !cn->forwarder || !req->reply_to) {
                json_decref(local);
                return endpoint_problem(resp, PROBLEM_NODE_UNKNOWN,
                                        "this node is not a node of the registry snapshot (no [node] names its "
                                        "receipt key)");
        }
        r = fan_new(cn, req, FAN_ACCESSES, n, &f);
        if (r < 0) {
                json_decref(local);
                return r;
        }
        f->local = local;
        f->self = self->id;
        for (size_t i = 0; r == 0 && i < n; i++) {
                _cleanup_(json_decrefp) json_t *body = NULL;
                json_t *cursor = q->cursors ? json_object_get(q->cursors, nodes[i]->id) : NULL;
                char *text;

                if (nodes[i] == self || (q->cursors && !cursor))
                        continue;
                /* the subject travels in the body only, over the pinned mutual TLS */
                body = json_pack("{s:s,s:I,s:O}", "subject", q->subject, "limit", (json_int_t)q->limit, "cursor",
                                 cursor ?: json_null());
                text = body ? json_dumps(body, JSON_COMPACT) : NULL;
                r = fan_add(f, req, nodes[i], "accesses", CONSENT_NODES_PATH_ACCESSES, text, text ? strlen(text) : 0);
        }
        if (r < 0) {
                fan_free(&f->pending);
                return r;
        }
        if (f->n == 0) { /* no other node to ask */
                r = fan_finish_accesses(f);
                if (r == 0)
                        *resp = f->pending.resp, f->pending.resp.body = NULL;
                fan_free(&f->pending);
                return r;
        }
        fan_start(f, req, resp);
        return 0;
}

int consent_nodes_forward(const ConsentNodes *cn, const EndpointRequest *req, EndpointResponse *resp, const char *kind,
                          const RegistryNode *to, const char *id)
{
        const RegistryNode *const *nodes, *self = consent_nodes_self(cn, req->registry);
        size_t n = registry_nodes(req->registry, &nodes);
        bool revoke = streq(kind, "consent-revoke");
        _cleanup_free_ char *target = NULL;
        Fan *f = NULL;
        int r;

        if (!self || !cn->forwarder || !req->reply_to)
                return endpoint_problem(resp, PROBLEM_NODE_UNKNOWN,
                                        "this node is not a node of the registry snapshot (no [node] names its "
                                        "receipt key)");
        if (revoke ? asprintf(&target, "/consent/consents/%s/revoke", id) < 0 : !(target = strdup("/consent/consents")))
                return -ENOMEM;
        r = fan_new(cn, req, revoke ? FAN_REVOKE : FAN_CREATE, revoke ? n : 1, &f);
        if (r < 0)
                return r;
        f->self = self->id;
        if (revoke && !(f->id = strdup(id)))
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < n; i++)
                if (revoke ? nodes[i] != self : nodes[i] == to) {
                        char *body = malloc(MAX(req->body_size, 1U));

                        if (body && req->body_size)
                                memcpy(body, req->body, req->body_size);
                        r = fan_add(f, req, nodes[i], kind, target, body, revoke ? 0 : req->body_size);
                }
        if (r < 0) {
                fan_free(&f->pending);
                return r;
        }
        if (f->n == 0) {
                fan_free(&f->pending);
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no consent \"%.160s\" issued by this authority",
                                        id ? id : "");
        }
        fan_start(f, req, resp);
        return 0;
}
