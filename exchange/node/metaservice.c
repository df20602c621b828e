/* metaservice.c: the X-Road metaservices, answered from the registry (listClients, listMethods, allowedMethods, getOpenAPI) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "node/metaservice.h"
#include "util/bytes.h"
#include "util/macro.h"

#define XROAD_NS "http://x-road.eu/xsd/xroad.xsd"
#define IDENTIFIERS_NS "http://x-road.eu/xsd/identifiers"

/* ---- The listing both transports share ----------------------------------------------------- */

static int entry_add(MetaserviceEntry *e, unsigned method, const char *path)
{
        MetaserviceEndpoint *a;

        for (size_t i = 0; i < e->n_endpoints; i++)
                if (e->endpoints[i].method == method && streq(e->endpoints[i].path, path))
                        return 0;
        a = reallocarray(e->endpoints, e->n_endpoints + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        e->endpoints = a;
        e->endpoints[e->n_endpoints++] = (MetaserviceEndpoint){ method, path };
        return 0;
}

/* Whether the single bit `m` is a method of `methods` (whatever methods the registry knows). */
static bool has_method(unsigned methods, unsigned m)
{
        return (methods & m) && registry_method_to_string(m);
}

/* The endpoints `right` covers on its service: a service path it covers, or its own path where narrower. */
static int entry_add_right(MetaserviceEntry *e, const RegistryRight *right)
{
        const RegistryService *svc = e->service;

        for (char **sp = svc->paths; sp && *sp; sp++)
                for (char **rp = right->paths; rp && *rp; rp++) {
                        const char *path = registry_pattern_covers(*rp, *sp)   ? *sp
                                           : registry_pattern_covers(*sp, *rp) ? *rp
                                                                               : NULL;
                        for (unsigned m = 1; path && m != 0; m <<= 1)
                                if (has_method(right->methods & svc->methods, m) && entry_add(e, m, path) < 0)
                                        return -ENOMEM;
                }
        return 0;
}

/* The endpoints of e->service: all of them, or those `client`'s rights cover. Return: 0, -ENOMEM. */
static int entry_fill(MetaserviceEntry *e, const Registry *reg, const RegistrySubsystem *client)
{
        const RegistryService *svc = e->service;
        const RegistryRight **rights = NULL;
        ssize_t n;
        int r = 0;

        if (!client) {
                for (char **sp = svc->paths; sp && *sp; sp++)
                        for (unsigned m = 1; m != 0; m <<= 1)
                                if (has_method(svc->methods, m) && entry_add(e, m, *sp) < 0)
                                        return -ENOMEM;
                return 0;
        }
        n = registry_client_rights(reg, client, svc, &rights);
        for (ssize_t i = 0; r == 0 && i < n; i++)
                r = entry_add_right(e, rights[i]);
        free(rights);
        return n < 0 ? (int)n : r;
}

int metaservice_list(const Registry *reg, const RegistrySubsystem *provider, const RegistrySubsystem *client, bool soap,
                     MetaserviceList *ret)
{
        const RegistryService **services = NULL;
        MetaserviceList l = {};
        ssize_t n;
        int r = 0;

        /* which services: the selection the SOAP metaservices make too (registry_service_list()) */
        n = registry_service_list(reg, provider->id, client, soap ? REGISTRY_LIST_SOAP : 0, &services);
        if (n > 0 && !(l.entries = calloc((size_t)n, sizeof(MetaserviceEntry))))
                n = -ENOMEM;
        for (ssize_t i = 0; r == 0 && i < n; i++) {
                l.entries[l.n] = (MetaserviceEntry){ .service = services[i] };
                r = entry_fill(&l.entries[l.n++], reg, client);
        }
        free(services);
        if (n < 0 || r < 0) {
                metaservice_list_done(&l);
                return n < 0 ? (int)n : r;
        }
        *ret = l;
        return 0;
}

void metaservice_list_done(MetaserviceList *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->entries[i].endpoints);
        free(l->entries);
        *l = (MetaserviceList){};
}

/* ---- REST answers (PR-MREST Annex B: snake_case, no nulls) ------------------------------------- */

/* The identifier parts of `id` ("I/C/M/S[/CODE]") under the keys given, into `o`. Return: 0, -ENOMEM. */
static int id_parts(json_t *o, const char *id, const char *const *keys, size_t n)
{
        for (size_t i = 0; i < n && *id; i++) {
                size_t len = strcspn(id, "/");
                if (json_object_set_new(o, keys[i], json_stringn(id, len)) < 0)
                        return -ENOMEM;
                id += len + (id[len] == '/');
        }
        return 0;
}

/* An endpoint path as X-Road writes it: "{NAME}" segments as "*". */
static json_t *endpoint_path(const char *pattern)
{
        char out[1025];
        size_t o = 0;

        for (const char *p = pattern; *p && o < sizeof(out) - 3;) {
                size_t len = strcspn(p + 1, "/") + 1, n;
                const char *name;

                if (*p == '/' && registry_pattern_segment_name(p + 1, len - 1, &name, &n)) {
                        memcpy(out + o, "/*", 2);
                        o += 2;
                } else {
                        len = MIN(len, sizeof(out) - 1 - o);
                        memcpy(out + o, p, len);
                        o += len;
                }
                p += len;
        }
        out[o] = 0;
        return json_string(out);
}

static json_t *service_json(const MetaserviceEntry *e)
{
        static const char *const keys[] = { "xroad_instance", "member_class", "member_code", "subsystem_code",
                                            "service_code" };
        const RegistryService *svc = e->service;
        json_t *o = json_pack("{s:s}", "object_type", "SERVICE"), *list = json_array();

        if (!o || !list || id_parts(o, svc->id, keys, ELEMENTSOF(keys)) < 0)
                goto oom;
        /* every service has a description: the provider's, or the one the bus generates */
        if (json_object_set_new(o, "service_type", json_string(svc->description ? "OPENAPI" : "REST")) < 0)
                goto oom;
        for (size_t i = 0; i < e->n_endpoints; i++)
                if (json_array_append_new(list, json_pack("{s:s,s:o}", "method",
                                                          registry_method_to_string(e->endpoints[i].method), "path",
                                                          endpoint_path(e->endpoints[i].path))) < 0)
                        goto oom;
        if (json_object_set_new(o, "endpoint_list", list) < 0)
                goto oom;
        return o;
oom:
        json_decref(o);
        json_decref(list);
        return NULL;
}

/* listMethods, allowedMethods: {"service": [...]}. Return: 0, -ENOMEM. */
static int answer_services(const Registry *reg, const RegistryService *meta, const RegistrySubsystem *client,
                           MetaserviceAnswer *ret)
{
        MetaserviceList l = {};
        json_t *list = json_array(), *doc;
        int r;

        r = metaservice_list(reg, meta->owner, meta->meta == REGISTRY_META_ALLOWED_METHODS ? client : NULL, false, &l);
        for (size_t i = 0; r == 0 && list && i < l.n; i++)
                if (json_array_append_new(list, service_json(&l.entries[i])) < 0)
                        r = -ENOMEM;
        metaservice_list_done(&l);
        doc = r == 0 && list ? json_pack("{s:O}", "service", list) : NULL;
        json_decref(list);
        ret->body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(doc);
        if (!ret->body)
                return -ENOMEM;
        ret->size = strlen(ret->body);
        snprintf(ret->content_type, sizeof(ret->content_type), "application/json;charset=utf-8");
        return 0;
}

/* The decoded value of the query parameter `name` (any case), malloc'd in *ret (NULL: absent). Return: 0, -ENOMEM. */
static int query_value(const char *query, const char *name, char **ret)
{
        *ret = NULL;
        for (const char *q = query; q && *q; q += *q == '&') {
                size_t len = strcspn(q, "&"), klen = strcspn(q, "=&");
                char key[64];

                if (klen < sizeof(key) && percent_decode(q, klen, key) >= 0 && strcasecmp(key, name) == 0 && !*ret) {
                        const char *v = q + klen + (klen < len);
                        size_t vlen = len - MIN(klen + 1, len);
                        *ret = malloc(vlen + 1);
                        if (!*ret)
                                return -ENOMEM;
                        if (percent_decode(v, vlen, *ret) < 0)
                                (*ret)[0] = 0;
                }
                q += len;
        }
        return 0;
}

/* The service getOpenAPI's ?serviceCode= names, or NULL with *p. */
static const RegistryService *openapi_service(const Registry *reg, const RegistryService *meta, const char *query,
                                              Problem *p)
{
        _cleanup_free_ char *code = NULL, *id = NULL;
        const RegistryService *svc;

        if (query_value(query, "serviceCode", &code) < 0) {
                problem_set(p, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
                return NULL;
        }
        if (isempty(code)) {
                problem_set(p, PROBLEM_METASERVICE_INVALID, "getOpenAPI needs the parameter serviceCode");
                return NULL;
        }
        if (asprintf(&id, "%s/%s", meta->owner->id, code) < 0) {
                id = NULL;
                problem_set(p, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
                return NULL;
        }
        svc = registry_service_lookup(reg, id);
        if (!svc)
                problem_set(p, PROBLEM_SERVICE_UNKNOWN, "no service '%.200s' in instance %s", id,
                            registry_instance(reg));
        return svc;
}

int metaservice_check(const Registry *reg, const RegistryService *meta, const char *query, Problem *p)
{
        if (meta->meta == REGISTRY_META_GET_OPENAPI && !openapi_service(reg, meta, query, p))
                return 1;
        return 0;
}

int metaservice_answer(const Registry *reg, const RegistryService *meta, const RegistrySubsystem *client,
                       const char *query, MetaserviceAnswer *ret)
{
        const RegistryService *svc;

        *ret = (MetaserviceAnswer){};
        if (meta->meta == REGISTRY_META_LIST_METHODS || meta->meta == REGISTRY_META_ALLOWED_METHODS)
                return answer_services(reg, meta, client, ret);
        if (meta->meta != REGISTRY_META_GET_OPENAPI) {
                problem_set(&ret->problem, PROBLEM_SERVICE_UNKNOWN, "'%s' is not answered over REST", meta->id);
                return 0;
        }
        svc = openapi_service(reg, meta, query, &ret->problem);
        if (!svc)
                return 0;
        if (!svc->description) {
                problem_set(&ret->problem, PROBLEM_INTERNAL_ERROR, "no description of '%s' was loaded", svc->id);
                return 0;
        }
        ret->body = malloc(svc->description_size + 1);
        if (!ret->body)
                return -ENOMEM;
        memcpy(ret->body, svc->description, svc->description_size + 1);
        ret->size = svc->description_size;
        snprintf(ret->content_type, sizeof(ret->content_type), "%s", svc->description_type);
        return 0;
}

/* ---- listClients (PR-META 2, Annex A and B; GovStack IM directory) ----------------------------- */

/* Whether any entry of Accept names application/json (parameters and q ignored: META-LC-2). */
static bool accepts_json(const char *accept)
{
        for (const char *a = accept; a && *a; a += *a == ',') {
                size_t len = strcspn(a, ","), skip = strspn(a, " \t"), type = strcspn(a + skip, ";, \t");

                if (type == 16 && strncasecmp(a + skip, "application/json", 16) == 0)
                        return true;
                a += len;
        }
        return false;
}

/* The members of `instance` and, after each, its subsystems: `add` is called with (member, subsystem or NULL). */
static int clients_walk(const Registry *reg, const char *instance,
                        int (*add)(void *userdata, const RegistryMember *m, const RegistrySubsystem *s), void *userdata)
{
        const RegistryMember *const *members;
        const RegistrySubsystem *const *subs;
        size_t nm = registry_members(reg, &members), ns = registry_subsystems(reg, &subs);

        if (!streq(instance, registry_instance(reg)))
                return 0;
        for (size_t i = 0; i < nm; i++) {
                if (add(userdata, members[i], NULL) < 0)
                        return -ENOMEM;
                for (size_t k = 0; k < ns; k++)
                        if (subs[k]->member == members[i] && add(userdata, members[i], subs[k]) < 0)
                                return -ENOMEM;
        }
        return 0;
}

static int client_json(void *userdata, const RegistryMember *m, const RegistrySubsystem *s)
{
        static const char *const keys[] = { "xroad_instance", "member_class", "member_code", "subsystem_code" };
        json_t *id = json_pack("{s:s}", "object_type", s ? "SUBSYSTEM" : "MEMBER"), *e;

        if (!id || id_parts(id, s ? s->id : m->id, keys, ELEMENTSOF(keys)) < 0) {
                json_decref(id);
                return -ENOMEM;
        }
        e = json_pack("{s:o,s:s,s:s*}", "id", id, "name", m->name, "subsystem_name", s ? s->name : NULL);
        return json_array_append_new(userdata, e);
}

typedef struct ClientsXml {
        xmlNode *root;
        xmlNs *xrd, *idn;
} ClientsXml;

static int client_xml(void *userdata, const RegistryMember *m, const RegistrySubsystem *s)
{
        static const char *const names[] = { "xRoadInstance", "memberClass", "memberCode", "subsystemCode" };
        ClientsXml *x = userdata;
        xmlNode *member = xmlNewChild(x->root, x->xrd, BAD_CAST "member", NULL);
        xmlNode *id = member ? xmlNewChild(member, x->xrd, BAD_CAST "id", NULL) : NULL;
        const char *p = s ? s->id : m->id;

        if (!id || !xmlNewNsProp(id, x->idn, BAD_CAST "objectType", BAD_CAST(s ? "SUBSYSTEM" : "MEMBER")))
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(names) && *p; i++) {
                size_t len = strcspn(p, "/");
                _cleanup_free_ char *part = strndup(p, len);
                if (!part || !xmlNewTextChild(id, x->idn, BAD_CAST names[i], BAD_CAST part))
                        return -ENOMEM;
                p += len + (p[len] == '/');
        }
        if (!xmlNewTextChild(member, x->xrd, BAD_CAST "name", BAD_CAST m->name) ||
            (s && !xmlNewTextChild(member, x->xrd, BAD_CAST "subsystemName", BAD_CAST s->name)))
                return -ENOMEM;
        return 0;
}

/* The clientList of `instance` as XML into resp. Return: 0, -ENOMEM. */
static int clients_xml(const Registry *reg, const char *instance, EndpointResponse *resp)
{
        xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
        ClientsXml x = {};
        xmlChar *mem = NULL;
        int len = 0, r = -ENOMEM;

        if (doc && (x.root = xmlNewDocNode(doc, NULL, BAD_CAST "clientList", NULL))) {
                xmlDocSetRootElement(doc, x.root);
                x.xrd = xmlNewNs(x.root, BAD_CAST XROAD_NS, BAD_CAST "xrd");
                x.idn = xmlNewNs(x.root, BAD_CAST IDENTIFIERS_NS, BAD_CAST "id");
                xmlSetNs(x.root, x.xrd);
                if (x.xrd && x.idn && clients_walk(reg, instance, client_xml, &x) == 0)
                        xmlDocDumpMemoryEnc(doc, &mem, &len, "UTF-8");
        }
        if (mem && (resp->body = strndup((const char *)mem, (size_t)len))) {
                resp->body_size = (size_t)len;
                resp->status = 200;
                snprintf(resp->content_type, sizeof(resp->content_type), "text/xml;charset=utf-8");
                r = 0;
        }
        xmlFree(mem);
        xmlFreeDoc(doc);
        return r;
}

static int list_clients(const EndpointRequest *req, EndpointResponse *resp)
{
        _cleanup_free_ char *instance = NULL, *alias = NULL;
        const char *which;
        json_t *list;
        int r;

        if (!streq(req->method, "GET"))
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "listClients answers GET only");
        if (!req->client)
                return endpoint_problem(resp, PROBLEM_CLIENT_UNKNOWN,
                                        "listClients needs the certificate of a registered subsystem");
        if (query_value(req->query, "xRoadInstance", &instance) < 0 ||
            query_value(req->query, "instanceId", &alias) < 0)
                return -ENOMEM;
        which = !isempty(instance) ? instance : !isempty(alias) ? alias : registry_instance(req->registry);
        if (!accepts_json(req->accept))
                return clients_xml(req->registry, which, resp);
        list = json_array();
        if (!list || clients_walk(req->registry, which, client_json, list) < 0) {
                json_decref(list);
                return -ENOMEM;
        }
        r = endpoint_json(resp, 200, json_pack("{s:o}", "member", list));
        snprintf(resp->content_type, sizeof(resp->content_type), "application/json;charset=utf-8");
        return r;
}

const Endpoint metaservice_list_clients_endpoint = { "/listClients", list_clients, NULL };
