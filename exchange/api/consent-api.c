/* consent-api.c: the consent authority's API (create, read, revoke, list; the citizen's access history) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/consent-api.h"
#include "consent/consent.h"
#include "crypto/hash.h"
#include "log/exlog.h"
#include "policy/subject.h"
#include "util/parse.h"
#include "util/strv.h"
#include "util/time-util.h"

#define PREFIX CONSENT_API_PREFIX
#define CONSENTS "/consent/consents"
#define SUBJECTS "/consent/subjects/"

/* Whether calls go across nodes: a registry with [node] sections, and a call of the consent authority itself
 * (`from`, the node that sent a node call, is NULL: a node call is answered from this node alone). */
static bool federated(const EndpointRequest *req, const RegistryNode *from)
{
        const RegistryNode *const *nodes;

        return !from && registry_nodes(req->registry, &nodes) > 0;
}

static const ConsentApi *api(const EndpointRequest *req)
{
        return req->userdata;
}

static int subject_pseudonym(const EndpointRequest *req, const char *id, char out[PSEUDONYM_HEX_LEN + 1])
{
        if (!api(req)->pseudonyms)
                return -ENOKEY;
        return pseudonym_compute(api(req)->pseudonyms, id, strlen(id), out);
}

static int answer_record(EndpointResponse *resp, int status, const ConsentRecord *rec)
{
        return endpoint_json(resp, status, consent_record_to_json(rec, now_usec(CLOCK_REALTIME)));
}

/* A list of registry names from a JSON array; `what` names it in the problem detail. */
static int body_strv(EndpointResponse *resp, json_t *a, const char *what, char ***ret)
{
        size_t i;
        json_t *v;
        char **l;

        *ret = NULL;
        if (!a) {
                *ret = calloc(1, sizeof(char *));
                return *ret ? 0 : -ENOMEM;
        }
        if (!json_is_array(a) || json_array_size(a) > CONSENT_MAX_SCOPE) {
                endpoint_problem(resp, PROBLEM_BAD_REQUEST, "\"%s\" must be an array of at most %d strings", what,
                                 CONSENT_MAX_SCOPE);
                return 1;
        }
        l = calloc(json_array_size(a) + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        json_array_foreach(a, i, v) {
                if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > CONSENT_MAX_NAME) {
                        strv_freep(&l);
                        endpoint_problem(resp, PROBLEM_BAD_REQUEST, "\"%s\" must be an array of non-empty strings",
                                         what);
                        return 1;
                }
                if (!(l[i] = strdup(json_string_value(v)))) {
                        strv_freep(&l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

static bool category_known(const Registry *reg, const char *category)
{
        const RegistryService *const *svcs;
        size_t n = registry_services(reg, &svcs);

        for (size_t i = 0; i < n; i++)
                for (char **c = svcs[i]->categories; c && *c; c++)
                        if (streq(*c, category))
                                return true;
        return false;
}

static int body_time(EndpointResponse *resp, json_t *body, const char *key, bool required, uint64_t *ret)
{
        json_t *v = json_object_get(body, key);

        if (!v && !required)
                return 0;
        if (!json_is_string(v) || parse_rfc3339(json_string_value(v), ret) < 0) {
                endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                 "\"%s\" must be an RFC 3339 time, e.g. 2026-12-31T23:59:59Z", key);
                return 1;
        }
        return 0;
}

/* A create or revoke is answered once the log made it durable (its commit did not sync: exlog_sync()). */
static int api_durable(const EndpointRequest *req)
{
        return api(req)->log ? exlog_sync(api(req)->log) : 0;
}

/*
 * The node that decides on a consent whose scope is `services` and `categories`: the one node hosting every
 * provider in scope. Return: 0 with *ret (NULL: no node hosts them), or 1 (they span nodes: resp filled).
 */
static int scope_node(const EndpointRequest *req, EndpointResponse *resp, char **services, char **categories,
                      const RegistryNode **ret)
{
        const RegistryService *const *svcs;
        size_t n = registry_services(req->registry, &svcs);
        const RegistryNode *host = NULL;

        for (size_t i = 0; i < n; i++) {
                const RegistryNode *h;
                bool in = strv_contains(services, svcs[i]->id);

                for (char **c = categories; !in && *c; c++)
                        in = strv_contains(svcs[i]->categories, *c);
                if (!in || !(h = registry_node_hosting(req->registry, svcs[i]->owner->id)) || h == host)
                        continue;
                if (host) {
                        endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                         "the consent's scope spans nodes '%s' and '%s' (the node hosting each "
                                         "provider decides): grant one consent per node",
                                         host->id, h->id);
                        return 1;
                }
                host = h;
        }
        *ret = host;
        return 0;
}

static int api_create(const EndpointRequest *req, EndpointResponse *resp, const RegistryNode *from)
{
        static const char *const known[] = { "subject", "grantee",    "services", "categories",
                                             "purpose", "valid_from", "expires",  "max_uses" };
        _cleanup_(json_decrefp) json_t *body = NULL;
        _cleanup_(strv_freep) char **services = NULL, **categories = NULL;
        const char *subject, *grantee, *purpose, *key;
        char pseudonym[PSEUDONYM_HEX_LEN + 1];
        uint64_t now = now_usec(CLOCK_REALTIME), valid_from = now, expires = 0, max_uses = 0;
        ConsentRecord rec = {};
        json_error_t err;
        json_t *v;
        int r;

        if (req->body_size > CONSENT_API_BODY_MAX)
                return endpoint_problem(resp, PROBLEM_PAYLOAD_TOO_LARGE, "a consent is at most %u bytes",
                                        CONSENT_API_BODY_MAX);
        body = json_loadb((const char *)req->body, req->body_size, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(body))
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "the body must be a JSON object");
        json_object_foreach(body, key, v) {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(known); i++)
                        ok = ok || streq(key, known[i]);
                if (!ok)
                        return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "unknown member \"%.64s\"", key);
        }
        subject = json_string_value(json_object_get(body, "subject"));
        grantee = json_string_value(json_object_get(body, "grantee"));
        purpose = json_string_value(json_object_get(body, "purpose"));
        if (!subject || !subject_valid(subject))
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                        "\"subject\" must be a personal id ([0-9A-Za-z-], 1..64)");
        if (!grantee ||
            (!registry_subsystem_lookup(req->registry, grantee) && !registry_member_lookup(req->registry, grantee)))
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                        "\"grantee\" must be a registered subsystem or member id");
        if (!purpose || !registry_purpose_lookup(req->registry, purpose))
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "\"purpose\" must be a registered purpose code");
        r = body_strv(resp, json_object_get(body, "services"), "services", &services);
        if (r != 0)
                return r < 0 ? r : 0;
        r = body_strv(resp, json_object_get(body, "categories"), "categories", &categories);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!services[0] && !categories[0])
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                        "name at least one of \"services\" and \"categories\"");
        for (char **s = services; *s; s++)
                if (!registry_service_lookup(req->registry, *s))
                        return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "no service \"%.200s\" in the registry", *s);
        for (char **c = categories; *c; c++)
                if (!category_known(req->registry, *c))
                        return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "no service has the category \"%.200s\"",
                                                *c);
        if ((r = body_time(resp, body, "valid_from", false, &valid_from)) != 0 ||
            (r = body_time(resp, body, "expires", true, &expires)) != 0)
                return 0;
        if (expires <= valid_from || expires <= now)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                        "\"expires\" must be later than \"valid_from\" and now");
        if (expires - valid_from > CONSENT_MAX_VALIDITY_USEC)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "a consent is valid for at most ten years");
        v = json_object_get(body, "max_uses");
        if (v && !json_is_null(v)) {
                if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                    json_integer_value(v) > (json_int_t)CONSENT_MAX_USES)
                        return endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                                "\"max_uses\" must be an integer from 1 to %u", CONSENT_MAX_USES);
                max_uses = (uint64_t)json_integer_value(v);
        }
        if (federated(req, from)) {
                const RegistryNode *host;

                if (scope_node(req, resp, services, categories, &host) != 0)
                        return 0;
                if (host && host != consent_nodes_self(&api(req)->nodes, req->registry))
                        return consent_nodes_forward(&api(req)->nodes, req, resp, "consent-create", host, NULL);
        }
        r = subject_pseudonym(req, subject, pseudonym);
        if (r < 0)
                return r;

        r = consent_create(api(req)->consents,
                           &(ConsentRecord){ .subject = pseudonym,
                                             .grantee = (char *)grantee,
                                             .services = services,
                                             .categories = categories,
                                             .purpose = (char *)purpose,
                                             .authority = req->client->id,
                                             .valid_from_usec = valid_from,
                                             .expires_usec = expires,
                                             .max_uses = max_uses },
                           now, &rec);
        if (r == -E2BIG)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "this subject already has %d consents",
                                        CONSENT_MAX_PER_SUBJECT);
        if (r == -EINVAL)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "the consent is malformed");
        if (r == 0 && (r = api_durable(req)) < 0)
                consent_record_done(&rec);
        if (r < 0)
                return r;
        r = answer_record(resp, 201, &rec);
        consent_record_done(&rec);
        return r;
}

static int api_get(const EndpointRequest *req, EndpointResponse *resp, const char *id)
{
        ConsentRecord rec = {};
        int r;

        r = consent_get(api(req)->consents, id, &rec);
        if (r == CONSENT_E_UNKNOWN)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no consent \"%.160s\"", id);
        if (r < 0)
                return r;
        r = answer_record(resp, 200, &rec);
        consent_record_done(&rec);
        return r;
}

static int api_revoke(const EndpointRequest *req, EndpointResponse *resp, const char *id, const RegistryNode *from)
{
        ConsentRecord rec = {};
        int r;

        r = consent_revoke(api(req)->consents, id, req->client->id, now_usec(CLOCK_REALTIME), &rec);
        if (r == CONSENT_E_UNKNOWN && federated(req, from)) /* held by another node: the one that decides */
                return consent_nodes_forward(&api(req)->nodes, req, resp, "consent-revoke", NULL, id);
        if (r == CONSENT_E_UNKNOWN || r == -EINVAL)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no consent \"%.160s\" issued by this authority", id);
        if (r == 0 && (r = api_durable(req)) < 0)
                consent_record_done(&rec);
        if (r < 0)
                return r;
        r = answer_record(resp, 200, &rec);
        consent_record_done(&rec);
        return r;
}

static int api_list(const EndpointRequest *req, EndpointResponse *resp, const char *subject)
{
        _cleanup_free_ char *cursor = endpoint_query_param(req->query, "cursor"),
                            *limit_s = endpoint_query_param(req->query, "limit");
        _cleanup_free_ ConsentRecord *recs = NULL;
        char pseudonym[PSEUDONYM_HEX_LEN + 1];
        uint64_t limit = CONSENT_API_CONSENTS_DEFAULT, now = now_usec(CLOCK_REALTIME);
        json_t *out, *arr;
        size_t n = 0;
        int r;

        if (limit_s && parse_u64(limit_s, 1, CONSENT_LIST_MAX, &limit) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "limit must be from 1 to %d", CONSENT_LIST_MAX);
        if (cursor && !consent_valid_id(cursor))
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "cursor must be a consent id");
        r = subject_pseudonym(req, subject, pseudonym);
        if (r < 0)
                return r;
        recs = calloc(limit, sizeof(ConsentRecord));
        if (!recs)
                return -ENOMEM;
        r = consent_list_subject(api(req)->consents, pseudonym, cursor, recs, limit, &n);
        if (r < 0)
                return r;
        out = json_object();
        arr = json_array();
        for (size_t i = 0; i < n; i++) {
                if (arr)
                        json_array_append_new(arr, consent_record_to_json(&recs[i], now));
                consent_record_done(&recs[i]);
        }
        if (!out || !arr) {
                json_decref(out);
                json_decref(arr);
                return -ENOMEM;
        }
        json_object_set_new(out, "subject_pseudonym", json_string(pseudonym));
        json_object_set_new(out, "consents", arr);
        {
                json_t *last = n == limit && n > 0 ? json_object_get(json_array_get(arr, n - 1), "id") : NULL;
                json_object_set_new(out, "next_cursor", last ? json_incref(last) : json_null());
        }
        return endpoint_json(resp, 200, out);
}

static json_t *entry_field(json_t *e, const char *key)
{
        json_t *v = json_object_get(e, key);

        return v ? json_incref(v) : json_null();
}

/* The page of consent_api_accesses(); `peers` adds what the merge across nodes needs (X-Road-Id, peer node). */
static int accesses_page(ExlogReader *r, const char *pseudonym, uint64_t before, size_t limit, bool peers, json_t **ret)
{
        static const char *const fields[] = { "seq",       "time",     "client",          "service",
                                              "purpose",   "basis",    "legal_reference", "consent",
                                              "decision",  "status",   "error",           "xroad_id",
                                              "peer_node", "peer_role" };
        const size_t n_fields = peers ? ELEMENTSOF(fields) : ELEMENTSOF(fields) - 3;
        _cleanup_free_ uint64_t *seqs = NULL;
        _cleanup_(json_decrefp) json_t *out = NULL;
        uint8_t key[32];
        json_t *arr;
        size_t n = 0;
        int e;

        if (!r || !ret || limit < 1 || limit > CONSENT_API_ACCESSES_MAX || !pseudonym ||
            strlen(pseudonym) != PSEUDONYM_HEX_LEN || hex_decode(pseudonym, key, 32) < 0)
                return -EINVAL;
        seqs = calloc(limit, sizeof(uint64_t));
        out = json_object();
        arr = json_array();
        if (!seqs || !out || !arr || json_object_set_new(out, "accesses", arr) < 0) {
                json_decref(arr);
                return -ENOMEM;
        }
        e = exlog_reader_subject(r, key, before, seqs, limit, &n);
        if (e < 0)
                return e;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(json_decrefp) json_t *entry = NULL;
                json_t *item;
                size_t size;

                e = exlog_reader_get(r, seqs[i], &text, &size);
                if (e == -ENOENT)
                        continue; /* indexed in a batch that another reader sees later: skip */
                if (e < 0)
                        return e;
                entry = json_loadb(text, size, 0, NULL);
                if (!json_is_object(entry))
                        return -EBADMSG;
                item = json_object();
                if (!item || json_array_append_new(arr, item) < 0)
                        return -ENOMEM;
                for (size_t f = 0; f < n_fields; f++)
                        if (json_object_set_new(item, fields[f], entry_field(entry, fields[f])) < 0)
                                return -ENOMEM;
                /* listed because the answer named this person (response-subject), not the request */
                if (json_object_set_new(item, "revealed",
                                        json_boolean(
                                                !streq(strempty(json_string_value(json_object_get(entry, "subject"))),
                                                       pseudonym))) < 0)
                        return -ENOMEM;
        }
        if (json_object_set_new(out, "next_cursor", n == limit ? json_integer((json_int_t)seqs[n - 1]) : json_null()) <
            0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

int consent_api_accesses(ExlogReader *r, const char *pseudonym, uint64_t before, size_t limit, json_t **ret)
{
        return accesses_page(r, pseudonym, before, limit, false, ret);
}

/*
 * The access history of q->subject: this node's page (a single node, or a node call from another node:
 * `from`), or every node's, merged (consent-nodes.h).
 */
static int accesses_answer(const EndpointRequest *req, EndpointResponse *resp, const ConsentNodesQuery *q,
                           const RegistryNode *from)
{
        _cleanup_(exlog_reader_closep) ExlogReader *reader = NULL;
        char pseudonym[PSEUDONYM_HEX_LEN + 1];
        bool across = federated(req, from);
        uint64_t before = q->before;
        json_t *out = NULL;
        int r;

        if (!api(req)->log)
                return -ENOTCONN;
        if (across && q->cursors) { /* the portal's next page: this node only if it has more */
                const RegistryNode *self = consent_nodes_self(&api(req)->nodes, req->registry);
                json_t *c = self ? json_object_get(q->cursors, self->id) : NULL;

                before = c ? (uint64_t)json_integer_value(c) : 0;
        }
        r = subject_pseudonym(req, q->subject, pseudonym);
        if (r < 0)
                return r;
        r = exlog_reader_new(&reader, api(req)->log);
        if (r < 0)
                return r;
        if (before == 0)
                out = json_pack("{s:[],s:n}", "accesses", "next_cursor");
        else
                r = accesses_page(reader, pseudonym, before, q->limit, across || from, &out);
        if (r < 0 || !out)
                return r < 0 ? r : -ENOMEM;
        if (across)
                return consent_nodes_accesses(&api(req)->nodes, req, resp, q, out);
        if (!from) /* another node has no use for this node's pseudonym */
                json_object_set_new(out, "subject_pseudonym", json_string(pseudonym));
        return endpoint_json(resp, 200, out);
}

/* GET /consent/subjects/{id}/accesses: the personal id in the path (the single node's form). */
static int api_accesses(const EndpointRequest *req, EndpointResponse *resp, const char *subject)
{
        _cleanup_free_ char *cursor = endpoint_query_param(req->query, "cursor"),
                            *limit_s = endpoint_query_param(req->query, "limit");
        ConsentNodesQuery q = { .limit = CONSENT_API_ACCESSES_DEFAULT, .before = UINT64_MAX };

        if (limit_s && parse_u64(limit_s, 1, CONSENT_API_ACCESSES_MAX, &q.limit) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "limit must be from 1 to %d",
                                        CONSENT_API_ACCESSES_MAX);
        if (cursor && parse_u64(cursor, 0, INT64_MAX, &q.before) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "cursor must be a log sequence number");
        if (cursor && federated(req, NULL))
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                        "across nodes, page with POST %s and \"cursors\" (one per node)",
                                        CONSENT_NODES_PATH_ACCESSES);
        memcpy(q.subject, subject, strlen(subject) + 1);
        return accesses_answer(req, resp, &q, NULL);
}

/* POST /consent/accesses: the personal id in the body, never in a URL (the portal's form, and nodes' calls). */
static int api_accesses_post(const EndpointRequest *req, EndpointResponse *resp, const RegistryNode *from)
{
        ConsentNodesQuery q;
        char why[160];
        int r;

        r = consent_nodes_query_parse(req->body, req->body_size, !from, &q, why, sizeof(why));
        if (r < 0)
                return r;
        if (r > 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "%s", why);
        r = accesses_answer(req, resp, &q, from);
        json_decref(q.cursors);
        return r;
}

/* The node-call kind of a request to `path` (federation/envelope.h "Node calls"), or NULL. */
static const char *node_call_kind(const char *method, const char *path)
{
        size_t n = strlen(path);

        if (!streq(method, "POST"))
                return NULL;
        if (streq(path, CONSENT_NODES_PATH_ACCESSES))
                return "accesses";
        if (streq(path, CONSENTS))
                return "consent-create";
        if (strneq(path, CONSENTS "/", strlen(CONSENTS "/")) && n > strlen(CONSENTS "/") + 7 &&
            streq(path + n - 7, "/revoke"))
                return "consent-revoke";
        return NULL;
}

/*
 * A call of another node (X-Bus-Node-Call), for a consent authority it hosts: its TLS certificate pinned by
 * the snapshot, its envelope checked. Return: 0 with *ret_client and *ret_from, or 1 (refused: resp filled),
 * or -ENOMEM.
 */
static int node_call_accept(const EndpointRequest *req, EndpointResponse *resp, const char *jws,
                            const RegistrySubsystem **ret_client, const RegistryNode **ret_from)
{
        const ConsentApi *a = api(req);
        const char *kind = node_call_kind(req->method, req->path);
        char hash[HASH_SHA256_HEX_LEN + 1];
        Problem p = {};
        int r;

        if (!kind)
                return endpoint_problem(resp, PROBLEM_NODE_REFUSED, "%s is no node call", req->path), 1;
        hash_sha256_hex(req->body, req->body_size, hash);
        r = node_call_check(req->registry, a->nodes.signer ? signer_kid(a->nodes.signer) : NULL, req->cert_fingerprint,
                            jws,
                            &(NodeCallClaims){
                                    .kind = kind, .method = req->method, .target = req->path, .body_hash = hash },
                            now_usec(CLOCK_REALTIME), ret_client, ret_from, &p);
        if (r > 0)
                endpoint_problem(resp, p.type, "%s", p.detail);
        return r;
}

static int consent_api_dispatch(const EndpointRequest *req, EndpointResponse *resp, const RegistryNode *from);

int consent_api_handle(const EndpointRequest *req, EndpointResponse *resp)
{
        const char *call = endpoint_header(req, NODE_CALL_HEADER);
        const RegistrySubsystem *client = NULL;
        const RegistryNode *from = NULL;
        EndpointRequest as;
        int r;

        if (!call)
                return consent_api_dispatch(req, resp, NULL);
        r = node_call_accept(req, resp, call, &client, &from);
        if (r != 0)
                return r < 0 ? r : 0;
        as = *req;
        as.client = client; /* the consent authority the calling node hosts and acts for */
        return consent_api_dispatch(&as, resp, from);
}

static int consent_api_dispatch(const EndpointRequest *req, EndpointResponse *resp, const RegistryNode *from)
{
        const char *path = req->path, *rest;
        bool get = streq(req->method, "GET"), post = streq(req->method, "POST"), del = streq(req->method, "DELETE");

        if (!req->client)
                return endpoint_problem(resp, PROBLEM_CLIENT_UNKNOWN,
                                        "the consent API needs a registered client certificate");
        if (!(req->client->roles & REGISTRY_ROLE_CONSENT_AUTHORITY))
                return endpoint_problem(resp, PROBLEM_ACCESS_DENIED, "'%.200s' is not a consent authority",
                                        req->client->id);
        if (!api(req)->consents)
                return -ENOTCONN;

        if (streq(path, CONSENTS) || streq(path, CONSENTS "/")) {
                if (!post)
                        return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "%s: use POST to create a consent",
                                                CONSENTS);
                return api_create(req, resp, from);
        }
        if (strneq(path, CONSENTS "/", strlen(CONSENTS "/"))) {
                char id[CONSENT_ID_MAX];
                size_t n;

                rest = path + strlen(CONSENTS "/");
                n = strlen(rest);
                if (n > 7 && streq(rest + n - 7, "/revoke")) {
                        if (!post)
                                return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "use POST to revoke");
                        if (n - 7 >= sizeof(id))
                                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such consent");
                        memcpy(id, rest, n - 7);
                        id[n - 7] = 0;
                        return api_revoke(req, resp, id, from);
                }
                if (n >= sizeof(id))
                        return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such consent");
                if (get)
                        return api_get(req, resp, rest);
                if (del)
                        return api_revoke(req, resp, rest, from);
                return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "use GET, DELETE or POST .../revoke");
        }
        if (streq(path, CONSENT_NODES_PATH_ACCESSES)) {
                if (!post)
                        return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "%s: use POST",
                                                CONSENT_NODES_PATH_ACCESSES);
                return api_accesses_post(req, resp, from);
        }
        if (from) /* a node call is one of the three above */
                return endpoint_problem(resp, PROBLEM_NODE_REFUSED, "%s is no node call", path);
        if (strneq(path, SUBJECTS, strlen(SUBJECTS))) {
                char subject[SUBJECT_MAX + 1];
                const char *slash;

                rest = path + strlen(SUBJECTS);
                slash = strchr(rest, '/');
                if (!slash || (size_t)(slash - rest) > SUBJECT_MAX)
                        return endpoint_problem(resp, PROBLEM_NOT_FOUND, "use %s{personal id}/consents or /accesses",
                                                SUBJECTS);
                memcpy(subject, rest, (size_t)(slash - rest));
                subject[slash - rest] = 0;
                if (!subject_valid(subject))
                        return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "a personal id is [0-9A-Za-z-], 1..64");
                if (!streq(slash, "/consents") && !streq(slash, "/accesses"))
                        return endpoint_problem(resp, PROBLEM_NOT_FOUND, "use %s{personal id}/consents or /accesses",
                                                SUBJECTS);
                if (!get)
                        return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "use GET");
                return streq(slash, "/consents") ? api_list(req, resp, subject) : api_accesses(req, resp, subject);
        }
        return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such consent API resource");
}
