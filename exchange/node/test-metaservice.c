/* test-metaservice.c: unit tests for the metaservices: the listing, the REST answers, listClients */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "node/metaservice.h"
#include "tests/support/test-util.h"
#include "util/macro.h"

#define REGISTRY                                                                                                      \
        "[instance]\nid = EE\nname = T\n"                                                                             \
        "[member EE/GOV/1]\nname = Provider & Co\n[member EE/GOV/2]\nname = Client\n[member EE/ORG/3]\nname = Lone\n" \
        "[subsystem EE/GOV/1/reg]\nname = Registry\nroles = provider\n"                                               \
        "[subsystem EE/GOV/2/app]\nname = App\nroles = client\ntls-cn = app\n"                                        \
        "[subsystem EE/GOV/2/other]\nname = Other\nroles = client\ntls-cn = other\n"                                  \
        "[subsystem EE/GOV/2/none]\nname = None\nroles = client\ntls-cn = none\n"                                     \
        "[service EE/GOV/1/reg/pets]\ntitle = Pets\nmethods = GET, POST\npaths = /pets, /pets/{id}\n"                 \
        "personal-data = no\nadapter = rest\n"                                                                        \
        "[service EE/GOV/1/reg/echo]\ntitle = Echo\nmethods = GET, DELETE\npersonal-data = no\nadapter = rest\n"      \
        "[group g]\ntitle = G\nmembers = EE/GOV/2/app, EE/GOV/2/other\n"                                              \
        "[purpose p]\ntitle = P\n"                                                                                    \
        "[right app-pets]\nclient = EE/GOV/2/app\nservice = EE/GOV/1/reg/pets\nmethods = GET, POST\n"                 \
        "basis = statute\nlegal-reference = L\npurposes = p\n"                                                        \
        "[right other-pets]\nclient = EE/GOV/2/other\nservice = EE/GOV/1/reg/pets\nmethods = GET\npaths = /pets/*\n"  \
        "basis = statute\nlegal-reference = L\npurposes = p\n"                                                        \
        "[right g-echo]\ngroup = g\nservice = EE/GOV/1/reg/echo\nmethods = GET\npaths = /v1/public/**\n"              \
        "basis = statute\nlegal-reference = L\npurposes = p\n"                                                        \
        "[right other-echo]\nclient = EE/GOV/2/other\nservice = EE/GOV/1/reg/echo\nmethods = DELETE, GET\n"           \
        "paths = /v1/x/*\nbasis = statute\nlegal-reference = L\npurposes = p\n"

static Registry *reg;

static const RegistrySubsystem *sub(const char *id)
{
        const RegistrySubsystem *s = registry_subsystem_lookup(reg, id);
        assert(s);
        return s;
}

/* The endpoints of `service` in `l` as "METHOD path" lines, or NULL when it is not listed. */
static char *endpoints(const MetaserviceList *l, const char *service)
{
        char *out = NULL;
        size_t n = 0;
        FILE *f;

        for (size_t i = 0; i < l->n; i++)
                if (streq(l->entries[i].service->id, service)) {
                        f = open_memstream(&out, &n);
                        assert(f);
                        for (size_t k = 0; k < l->entries[i].n_endpoints; k++)
                                fprintf(f, "%s %s;", registry_method_to_string(l->entries[i].endpoints[k].method),
                                        l->entries[i].endpoints[k].path);
                        fclose(f);
                        return out;
                }
        return NULL;
}

static void check_list(const RegistrySubsystem *client, const char *pets, const char *echo)
{
        MetaserviceList l = {};
        _cleanup_free_ char *p = NULL, *e = NULL;

        assert(metaservice_list(reg, sub("EE/GOV/1/reg"), client, false, &l) == 0);
        p = endpoints(&l, "EE/GOV/1/reg/pets");
        e = endpoints(&l, "EE/GOV/1/reg/echo");
        if (!streq(strempty(p), strempty(pets)) || !streq(strempty(e), strempty(echo)) || !p != !pets || !e != !echo) {
                fprintf(stderr, "as %s: pets '%s' echo '%s'\n", client ? client->id : "-", strempty(p), strempty(e));
                assert(false);
        }
        metaservice_list_done(&l);
}

static void test_list(void)
{
        MetaserviceList l = {};

        /* listMethods: every service, its methods on each of its paths */
        check_list(NULL, "GET /pets;POST /pets;GET /pets/{id};POST /pets/{id};", "GET /**;DELETE /**;");
        /* allowedMethods: what the rights cover: a service path, or the right's own where narrower */
        check_list(sub("EE/GOV/2/app"), "GET /pets;POST /pets;GET /pets/{id};POST /pets/{id};", "GET /v1/public/**;");
        check_list(sub("EE/GOV/2/other"), "GET /pets/{id};", "GET /v1/public/**;GET /v1/x/*;DELETE /v1/x/*;");
        check_list(sub("EE/GOV/2/none"), NULL, NULL);
        /* another subsystem's services, and SOAP: none here */
        assert(metaservice_list(reg, sub("EE/GOV/2/app"), NULL, false, &l) == 0 && l.n == 0);
        assert(metaservice_list(reg, sub("EE/GOV/1/reg"), NULL, true, &l) == 0 && l.n == 0);
}

static json_t *answer_json(const char *meta, const char *client, const char *query, MetaserviceAnswer *a)
{
        const RegistryService *m = registry_metaservice_lookup(reg, meta);

        assert(m && metaservice_answer(reg, m, client ? sub(client) : NULL, query, a) == 0);
        assert(a->problem.type == PROBLEM_NONE && a->body && a->size == strlen(a->body));
        return json_loadb(a->body, a->size, JSON_REJECT_DUPLICATES, NULL);
}

static void test_rest_answers(void)
{
        MetaserviceAnswer a;
        Problem p = {};
        json_t *doc, *e;
        const char *k;
        json_t *v;
        size_t n_keys = 0;

        /* listMethods (PR-MREST Annex B.1): snake_case, the identifier's parts, X-Road endpoint paths */
        doc = answer_json("EE/GOV/1/reg/listMethods", "EE/GOV/2/none", NULL, &a);
        assert(streq(a.content_type, "application/json;charset=utf-8"));
        assert(json_array_size(json_object_get(doc, "service")) == 2);
        e = json_array_get(json_object_get(doc, "service"), 1); /* by id: echo, pets */
        json_object_foreach(e, k, v)
                n_keys++;
        assert(n_keys == 8 && streq(json_string_value(json_object_get(e, "object_type")), "SERVICE"));
        assert(streq(json_string_value(json_object_get(e, "xroad_instance")), "EE"));
        assert(streq(json_string_value(json_object_get(e, "member_code")), "1"));
        assert(streq(json_string_value(json_object_get(e, "subsystem_code")), "reg"));
        assert(streq(json_string_value(json_object_get(e, "service_code")), "pets"));
        assert(streq(json_string_value(json_object_get(e, "service_type")), "OPENAPI"));
        v = json_array_get(json_object_get(e, "endpoint_list"), 2);
        assert(streq(json_string_value(json_object_get(v, "method")), "GET"));
        assert(streq(json_string_value(json_object_get(v, "path")), "/pets/*"));
        json_decref(doc);
        free(a.body);

        /* allowedMethods: a client without rights gets an empty list */
        doc = answer_json("EE/GOV/1/reg/allowedMethods", "EE/GOV/2/none", NULL, &a);
        v = json_pack("{s:[]}", "service");
        assert(json_equal(doc, v));
        json_decref(v);
        json_decref(doc);
        free(a.body);

        /* getOpenAPI: ?serviceCode= (any case, decoded) names a service of the subsystem */
        assert(metaservice_check(reg, registry_metaservice_lookup(reg, "EE/GOV/1/reg/getOpenAPI"), NULL, &p) == 1 &&
               p.type == PROBLEM_METASERVICE_INVALID);
        assert(metaservice_check(reg, registry_metaservice_lookup(reg, "EE/GOV/1/reg/getOpenAPI"),
                                 "serviceCode=", &p) == 1 &&
               p.type == PROBLEM_METASERVICE_INVALID);
        assert(metaservice_check(reg, registry_metaservice_lookup(reg, "EE/GOV/1/reg/getOpenAPI"), "serviceCode=nope",
                                 &p) == 1 &&
               p.type == PROBLEM_SERVICE_UNKNOWN);
        assert(metaservice_check(reg, registry_metaservice_lookup(reg, "EE/GOV/2/app/getOpenAPI"), "serviceCode=pets",
                                 &p) == 1 &&
               p.type == PROBLEM_SERVICE_UNKNOWN); /* not that subsystem's */
        assert(metaservice_check(reg, registry_metaservice_lookup(reg, "EE/GOV/1/reg/getOpenAPI"),
                                 "x=1&SERVICECODE=%70ets", &p) == 0);
        doc = answer_json("EE/GOV/1/reg/getOpenAPI", "EE/GOV/2/app", "servicecode=pets", &a);
        assert(streq(a.content_type, "application/json"));
        assert(json_object_get(json_object_get(doc, "paths"), "/pets/{id}"));
        json_decref(doc);
        free(a.body);

        /* getWsdl is SOAP's */
        assert(metaservice_answer(reg, registry_metaservice_lookup(reg, "EE/GOV/1/reg/getWsdl"), NULL, NULL, &a) == 0 &&
               a.problem.type == PROBLEM_SERVICE_UNKNOWN && !a.body);
}

static EndpointResponse list_clients(const char *method, const char *client, const char *query, const char *accept)
{
        EndpointRequest req = { .registry = reg,
                                .client = client ? sub(client) : NULL,
                                .method = method,
                                .path = "/listClients",
                                .query = query,
                                .accept = accept };
        EndpointResponse resp = {};

        assert(metaservice_list_clients_endpoint.handler(&req, &resp) == 0);
        return resp;
}

static void test_list_clients(void)
{
        EndpointResponse r;
        xmlDoc *doc;
        xmlNode *root, *m, *id;
        json_t *j, *e;
        xmlChar *text;
        size_t n = 0;

        assert(streq(metaservice_list_clients_endpoint.prefix, "/listClients"));
        /* XML by default (PR-META Annex A): members, each followed by its subsystems */
        r = list_clients("GET", "EE/GOV/2/none", "", NULL);
        assert(r.status == 200 && r.problem == PROBLEM_NONE && streq(r.content_type, "text/xml;charset=utf-8"));
        doc = xmlReadMemory(r.body, (int)r.body_size, NULL, NULL, XML_PARSE_NONET);
        root = xmlDocGetRootElement(doc);
        assert(streq((const char *)root->name, "clientList") &&
               streq((const char *)root->ns->href, "http://x-road.eu/xsd/xroad.xsd"));
        for (m = xmlFirstElementChild(root); m; m = xmlNextElementSibling(m))
                n++;
        assert(n == 7);                                        /* 3 members, 4 subsystems */
        m = xmlNextElementSibling(xmlFirstElementChild(root)); /* EE/GOV/1/reg after EE/GOV/1 */
        id = xmlFirstElementChild(m);
        assert(streq((const char *)id->name, "id"));
        text = xmlGetNsProp(id, BAD_CAST "objectType", BAD_CAST "http://x-road.eu/xsd/identifiers");
        assert(text && streq((const char *)text, "SUBSYSTEM"));
        xmlFree(text);
        assert(streq((const char *)xmlLastElementChild(id)->name, "subsystemCode"));
        text = xmlNodeGetContent(xmlNextElementSibling(id));
        assert(text && streq((const char *)text, "Provider & Co"));
        xmlFree(text);
        xmlFreeDoc(doc);
        free(r.body);

        /* JSON when any Accept entry is application/json, q ignored (Annex B) */
        r = list_clients("GET", "EE/GOV/2/none", "instanceId=EE", "text/xml;q=1, Application/JSON ;q=0.1");
        assert(r.status == 200 && streq(r.content_type, "application/json;charset=utf-8"));
        j = json_loadb(r.body, r.body_size, 0, NULL);
        assert(json_array_size(json_object_get(j, "member")) == 7);
        e = json_array_get(json_object_get(j, "member"), 0);
        assert(streq(json_string_value(json_object_get(json_object_get(e, "id"), "object_type")), "MEMBER"));
        assert(!json_object_get(json_object_get(e, "id"), "subsystem_code") && !json_object_get(e, "subsystem_name"));
        e = json_array_get(json_object_get(j, "member"), 1);
        assert(streq(json_string_value(json_object_get(e, "subsystem_name")), "Registry"));
        assert(streq(json_string_value(json_object_get(e, "name")), "Provider & Co"));
        json_decref(j);
        free(r.body);

        /* another instance: none here */
        r = list_clients("GET", "EE/GOV/2/none", "xRoadInstance=XX", "application/json");
        assert(r.status == 200 && streq(r.body, "{\"member\":[]}"));
        free(r.body);
        /* a registered client certificate is needed; GET only */
        r = list_clients("GET", NULL, "", NULL);
        assert(r.problem == PROBLEM_CLIENT_UNKNOWN && !r.body);
        r = list_clients("POST", "EE/GOV/2/app", "", NULL);
        assert(r.problem == PROBLEM_BAD_REQUEST && !r.body);
}

int main(void)
{
        _cleanup_free_ char *dir = test_tmpdir("metaservice"), *conf = test_path(dir, "00.conf");
        char *errors = NULL;

        test_write_file(conf, REGISTRY, strlen(REGISTRY), 0600);
        if (registry_load_dir(&reg, dir, &errors) != 0)
                fprintf(stderr, "%s", strempty(errors));
        assert(reg);
        test_rm_rf(dir);
        test_list();
        test_rest_answers();
        test_list_clients();
        registry_unref(reg);
        printf("metaservice: ok\n");
        return 0;
}
