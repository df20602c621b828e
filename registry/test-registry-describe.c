/* test-registry-describe.c: unit tests for named path segments, declared parameters, the metaservices and the OpenAPI descriptions */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "registry-internal.h"
#include "registry.h"
#include "tests/support/test-util.h"
#include "util/macro.h"

static unsigned n_checks;
#define CHECK(x)                                                                              \
        do {                                                                                  \
                n_checks++;                                                                   \
                if (!(x)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
                        abort();                                                              \
                }                                                                             \
        } while (0)

#define BASE                                                                                                      \
        "[instance]\nid = EE\nname = T\nschemas = schemas\nschema-base-uri = https://schemas.test.invalid/\n"     \
        "[member EE/GOV/1]\nname = Provider\n[member EE/GOV/2]\nname = Client\n[member EE/COM/3]\nname = Loner\n" \
        "[subsystem EE/GOV/1/reg]\nname = Registry\nroles = provider\n"                                           \
        "[subsystem EE/GOV/2/app]\nname = App\nroles = client\ntls-cn = app\n"

#define PETS                                                                                                                           \
        "[service EE/GOV/1/reg/pets]\ntitle = Pets\nmethods = GET, POST\npaths = /pets, /pets/*\npersonal-data = no\nadapter = rest\n" \
        "request-schema = pets/pet.request.json\nresponse-schema = pets/pet.response.json\n"

#define VEHICLES                                                                                       \
        "[service EE/GOV/1/reg/vehicles]\ntitle = Vehicles\nmethods = GET\n"                           \
        "paths = /vehicles/{plate}, /vehicles/{plate}/owners/**\npersonal-data = no\nadapter = rest\n" \
        "parameter = path plate common/defs.json#/$defs/plate\n"                                       \
        "parameter = query limit {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100}\n"          \
        "parameter = query lang required\n"                                                            \
        "response-schema = vehicles/vehicle.response.json\n"

#define CITIZEN                                                                                                                \
        "[service EE/GOV/1/reg/citizen]\ntitle = Citizen\nmethods = GET\npaths = /, /*\npersonal-data = yes\nadapter = rest\n" \
        "subject = path /{subject}\n"

#define OWN_YAML                                                                                                         \
        "[service EE/GOV/1/reg/own]\ntitle = Own\nmethods = GET\npaths = /items/*\npersonal-data = no\nadapter = rest\n" \
        "openapi = own/own.openapi.yaml\n"

#define OWN_JSON                                                                                                                  \
        "[service EE/GOV/1/reg/ownjson]\ntitle = Own JSON\nmethods = GET\npaths = /items/*\npersonal-data = no\nadapter = rest\n" \
        "openapi = own/own.openapi.json\n"

static const char *const schema_files[][2] = {
        { "common/defs.json",
          "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"$id\": "
          "\"https://schemas.test.invalid/common/defs.json\", \"$defs\": {\"plate\": {\"type\": \"string\", "
          "\"pattern\": \"^[0-9]{2}[A-Z]-[0-9]{5}$\"}}}" },
        { "pets/pet.request.json",
          "{\"$id\": \"https://schemas.test.invalid/pets/pet.request.json\", \"type\": \"object\", \"properties\": "
          "{\"name\": {\"type\": \"string\"}, \"$ref\": {\"const\": {\"$ref\": \"data, not a reference\"}}}}" },
        { "pets/pet.response.json", "{\"type\": \"object\", \"required\": [\"id\"]}" },
        { "vehicles/vehicle.response.json",
          "{\"$id\": \"https://schemas.test.invalid/vehicles/vehicle.response.json\", \"type\": \"object\", "
          "\"properties\": {\"plate\": {\"$ref\": \"../common/defs.json#/$defs/plate\"}, \"self\": {\"$ref\": "
          "\"#/properties/plate\"}}}" },
        { "own/own.openapi.yaml", "# the provider's own description\n"
                                  "openapi: 3.1.0\n"
                                  "info: {title: Own, version: \"2\"}\n"
                                  "servers:\n"
                                  "  - url: https://backend.internal:8443/petstore # kept comment\n"
                                  "  - url: 'https://{region}.example/x'\n"
                                  "  - url: /already/relative\n"
                                  "paths:\n"
                                  "  /items/{id}:\n"
                                  "    get:\n"
                                  "      servers: [{url: \"http://h\\u00e4st:1/p?q=1\"}]\n"
                                  "      responses: {\"200\": {description: ok}}\n" },
        { "own/alias.yaml", "openapi: 3.1.0\ninfo: &i {title: a, version: b}\nx: *i\npaths: {/a: {get: {}}}\n" },
        { "own/dup.yaml", "openapi: 3.1.0\nopenapi: 3.1.1\n" },
        { "own/two.yaml", "openapi: 3.1.0\n---\nopenapi: 3.1.0\n" },
        { "own/bad.yaml", "openapi: [3.1.0\n" },
        { "own/noinfo.yaml", "openapi: 3.1.0\ninfo: {title: 1, version: 1}\npaths: {/a: {}}\n" },
        { "own/partial.yaml", "openapi: 3.1.0\ninfo: {title: a, version: b}\npaths:\n  /a/{b}.json: {}\n" },
        { "own/own.openapi.json",
          "{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"Own\", \"version\": \"1\"}, \"servers\": [{\"url\": "
          "\"https://backend.internal/api/v1\"}], \"paths\": {\"/items/{id}\": {\"get\": {\"responses\": {}}}}}" },
};

/* A folder with the registry file `text` and the schema files; the loaded registry, or NULL with *ret_errors. */
static Registry *load(const char *text, char **ret_errors)
{
        _cleanup_free_ char *dir = test_tmpdir("describe"), *conf = test_path(dir, "00.conf");
        Registry *r = NULL;
        int k;

        test_write_file(conf, text, strlen(text), 0600);
        for (size_t i = 0; i < ELEMENTSOF(schema_files); i++) {
                _cleanup_free_ char *path = NULL, *folder = NULL;
                assert(asprintf(&path, "%s/schemas/%s", dir, schema_files[i][0]) > 0);
                assert(asprintf(&folder, "%s/schemas", dir) > 0);
                (void)mkdir(folder, 0700);
                *strrchr(path, '/') = 0;
                (void)mkdir(path, 0700);
                path[strlen(path)] = '/';
                test_write_file(path, schema_files[i][1], strlen(schema_files[i][1]), 0600);
        }
        k = registry_load_dir(&r, dir, ret_errors);
        test_rm_rf(dir);
        CHECK(k == 0 || k == REGISTRY_E_INVALID);
        return r;
}

static json_t *description(const Registry *r, const char *id)
{
        const RegistryService *s = registry_service_lookup(r, id);

        CHECK(s && s->description && streq(s->description_type, "application/json"));
        return json_loadb(s->description, s->description_size, JSON_REJECT_DUPLICATES, NULL);
}

static const char *str_at(json_t *doc, const char *pointer)
{
        json_t *v = doc;
        char buf[512], *save = NULL;

        snprintf(buf, sizeof(buf), "%s", pointer);
        for (char *t = strtok_r(buf, "|", &save); v && t; t = strtok_r(NULL, "|", &save))
                v = json_is_array(v) ? json_array_get(v, (size_t)atoi(t)) : json_object_get(v, t);
        return json_string_value(v);
}

static json_t *at(json_t *doc, const char *pointer)
{
        json_t *v = doc;
        char buf[512], *save = NULL;

        snprintf(buf, sizeof(buf), "%s", pointer);
        for (char *t = strtok_r(buf, "|", &save); v && t; t = strtok_r(NULL, "|", &save))
                v = json_is_array(v) ? json_array_get(v, (size_t)atoi(t)) : json_object_get(v, t);
        return v;
}

/* ---- Patterns ---------------------------------------------------------------------------------- */

static void test_patterns(void)
{
        const char *name;
        size_t n;

        CHECK(registry_pattern_valid("/vehicles/{plate}") && registry_pattern_valid("/{a}/{b}/**"));
        CHECK(!registry_pattern_valid("/a{b}") && !registry_pattern_valid("/{a") && !registry_pattern_valid("/{}"));
        CHECK(!registry_pattern_valid("/{a b}") && !registry_pattern_valid("/{a/b}"));
        CHECK(registry_path_match("/vehicles/{plate}", "/vehicles/29A-12345"));
        CHECK(!registry_path_match("/vehicles/{plate}", "/vehicles") && !registry_path_match("/v/{p}", "/v/a/b"));
        CHECK(registry_pattern_segment_name("{plate}", 7, &name, &n) && n == 5 && strneq(name, "plate", 5));
        CHECK(!registry_pattern_segment_name("plate", 5, &name, &n));

        CHECK(registry_pattern_covers("/**", "/a/*/b") && registry_pattern_covers("/a/**", "/a/**"));
        CHECK(registry_pattern_covers("/a/*", "/a/b") && registry_pattern_covers("/a/*", "/a/{x}"));
        CHECK(registry_pattern_covers("/a/{x}", "/a/*") && registry_pattern_covers("/a/**", "/a"));
        CHECK(!registry_pattern_covers("/a/b", "/a/*") && !registry_pattern_covers("/a/*", "/a/**"));
        CHECK(!registry_pattern_covers("/a/*", "/a") && !registry_pattern_covers("/a", "/a/b"));
        CHECK(!registry_pattern_covers("/a/**", "/b/**") && registry_pattern_covers("/", "/"));
}

/* ---- Parameters, metaservices, generated descriptions ------------------------------------------ */

static void check_vehicles(const Registry *r)
{
        const RegistryService *v = registry_service_lookup(r, "EE/GOV/1/reg/vehicles");
        json_t *doc = description(r, "EE/GOV/1/reg/vehicles"), *item, *p;

        CHECK(v && v->n_parameters == 3);
        CHECK(v->parameters[0].in == REGISTRY_PARAMETER_PATH && streq(v->parameters[0].name, "plate"));
        CHECK(v->parameters[0].required && v->parameters[0].validator);
        CHECK(v->parameters[1].in == REGISTRY_PARAMETER_QUERY && !v->parameters[1].required &&
              v->parameters[1].validator);
        CHECK(streq(v->parameters[2].name, "lang") && v->parameters[2].required && !v->parameters[2].schema &&
              !v->parameters[2].validator);

        CHECK(doc && streq(str_at(doc, "openapi"), "3.1.0") && streq(str_at(doc, "info|title"), "Vehicles"));
        CHECK(streq(str_at(doc, "servers|0|url"), "/r1/EE/GOV/1/reg/vehicles"));
        CHECK(json_object_size(at(doc, "paths")) == 2);
        item = at(doc, "paths|/vehicles/{plate}");
        CHECK(item && at(item, "get") && !at(item, "post") && !at(item, "description"));
        CHECK(json_array_size(at(item, "parameters")) == 3);
        p = at(item, "parameters|0");
        CHECK(streq(str_at(p, "name"), "plate") && streq(str_at(p, "in"), "path") && at(p, "required") == json_true());
        CHECK(streq(str_at(p, "schema|$ref"), "#/components/schemas/common.defs/$defs/plate"));
        p = at(item, "parameters|1");
        CHECK(streq(str_at(p, "name"), "limit") && streq(str_at(p, "in"), "query") &&
              at(p, "required") == json_false());
        CHECK(json_integer_value(at(p, "schema|maximum")) == 100);
        p = at(item, "parameters|2");
        CHECK(streq(str_at(p, "name"), "lang") && at(p, "required") == json_true() &&
              streq(str_at(p, "schema|type"), "string"));
        CHECK(streq(str_at(item, "get|responses|200|content|application/json|schema|$ref"),
                    "#/components/schemas/vehicles.vehicle.response"));
        /* a pattern ending in "**": the part OpenAPI can write, the pattern in its description */
        item = at(doc, "paths|/vehicles/{plate}/owners");
        CHECK(item && strstr(str_at(item, "description"), "/vehicles/{plate}/owners/**"));
        /* the schemas are bundled without their $id, every $ref pointing inside the document */
        CHECK(!at(doc, "components|schemas|vehicles.vehicle.response|$id"));
        CHECK(streq(str_at(doc, "components|schemas|vehicles.vehicle.response|properties|plate|$ref"),
                    "#/components/schemas/common.defs/$defs/plate"));
        CHECK(streq(str_at(doc, "components|schemas|vehicles.vehicle.response|properties|self|$ref"),
                    "#/components/schemas/vehicles.vehicle.response/properties/plate"));
        CHECK(!at(doc, "components|schemas|common.defs|$id") &&
              streq(str_at(doc, "components|schemas|common.defs|$schema"),
                    "https://json-schema.org/draft/2020-12/schema"));
        CHECK(json_object_size(at(doc, "components|schemas")) == 2);
        json_decref(doc);
}

static void check_pets_citizen(const Registry *r)
{
        json_t *doc = description(r, "EE/GOV/1/reg/pets"), *item;

        item = at(doc, "paths|/pets");
        CHECK(item && !at(item, "parameters") && !at(item, "get|requestBody"));
        CHECK(streq(str_at(item, "post|requestBody|content|application/json|schema|$ref"),
                    "#/components/schemas/pets.pet.request"));
        CHECK(at(item, "post|requestBody|required") == json_true());
        item = at(doc, "paths|/pets/{p1}");
        CHECK(streq(str_at(item, "parameters|0|name"), "p1") && streq(str_at(item, "parameters|0|in"), "path"));
        /* data keywords are copied as they are: a "$ref" in a const is not a reference */
        CHECK(streq(str_at(doc, "components|schemas|pets.pet.request|properties|$ref|const|$ref"),
                    "data, not a reference"));
        CHECK(!at(doc, "components|schemas|pets.pet.request|$id"));
        json_decref(doc);

        doc = description(r, "EE/GOV/1/reg/citizen");
        item = at(doc, "paths|/{subject}");
        CHECK(item && streq(str_at(item, "parameters|0|name"), "subject"));
        CHECK(streq(str_at(item, "parameters|0|schema|pattern"), "^[0-9A-Za-z-]{1,64}$"));
        CHECK(streq(str_at(item, "parameters|1|name"), "X-Bus-Subject") &&
              streq(str_at(item, "parameters|1|in"), "header") && at(item, "parameters|1|required") == json_false());
        CHECK(at(doc, "paths|/") && !at(doc, "components"));
        json_decref(doc);
}

static void check_provided(const Registry *r)
{
        const RegistryService *s = registry_service_lookup(r, "EE/GOV/1/reg/own");
        json_t *doc;

        /* YAML stays YAML, the provider's text with only the url scalars replaced */
        CHECK(s && s->description && streq(s->description_type, "application/yaml"));
        CHECK(strstr(s->description, "# the provider's own description\nopenapi: 3.1.0\n"));
        CHECK(strstr(s->description, "  - url: \"/petstore\" # kept comment\n"));
        CHECK(strstr(s->description, "  - url: 'https://{region}.example/x'\n"));
        CHECK(strstr(s->description, "  - url: /already/relative\n"));
        CHECK(strstr(s->description, "servers: [{url: \"/p\"}]"));
        CHECK(!strstr(s->description, "backend.internal") && !strstr(s->description, "h\\u00e4st"));

        /* JSON stays JSON */
        s = registry_service_lookup(r, "EE/GOV/1/reg/ownjson");
        CHECK(s && streq(s->description_type, "application/json"));
        doc = json_loadb(s->description, s->description_size, 0, NULL);
        CHECK(streq(str_at(doc, "servers|0|url"), "/api/v1") && streq(str_at(doc, "openapi"), "3.0.3"));
        json_decref(doc);
}

static void check_metaservices(const Registry *r)
{
        const RegistryService *const *services;
        const RegistryMember *const *members;
        const RegistryService *m;

        m = registry_metaservice_lookup(r, "EE/GOV/1/reg/listMethods");
        CHECK(m && m->meta == REGISTRY_META_LIST_METHODS && streq(m->id, "EE/GOV/1/reg/listMethods"));
        CHECK(streq(m->code, "listMethods") && m->owner == registry_subsystem_lookup(r, "EE/GOV/1/reg"));
        CHECK(m->methods == REGISTRY_METHOD_GET && !m->request_validator && !m->personal_data);
        m = registry_metaservice_lookup(r, "EE/GOV/2/app/getOpenAPI");
        CHECK(m && m->meta == REGISTRY_META_GET_OPENAPI && m->owner == registry_subsystem_lookup(r, "EE/GOV/2/app"));
        CHECK(registry_metaservice_lookup(r, "EE/GOV/2/app/getWsdl")->meta == REGISTRY_META_GET_WSDL);
        CHECK(registry_metaservice_lookup(r, "EE/GOV/1/reg/allowedMethods")->meta == REGISTRY_META_ALLOWED_METHODS);
        CHECK(!registry_metaservice_lookup(r, "EE/GOV/9/none/listMethods"));
        CHECK(!registry_metaservice_lookup(r, "EE/GOV/1/reg/pets") && !registry_metaservice_lookup(r, "listMethods"));
        CHECK(!registry_metaservice_lookup(r, "EE/GOV/1/listMethods") && !registry_metaservice_lookup(r, NULL));
        CHECK(!registry_service_lookup(r, "EE/GOV/1/reg/listMethods"));
        for (size_t i = 0, n = registry_services(r, &services); i < n; i++)
                CHECK(services[i]->meta == REGISTRY_META_NONE);
        for (RegistryMetaservice b = REGISTRY_META_LIST_METHODS; b <= REGISTRY_META_GET_WSDL; b <<= 1)
                CHECK(registry_metaservice_from_code(registry_metaservice_name(b)) == b);
        CHECK(!registry_metaservice_name(REGISTRY_META_NONE) && !registry_metaservice_from_code("listClients"));

        CHECK(registry_members(r, &members) == 3);
        CHECK(streq(members[0]->id, "EE/COM/3") && streq(members[2]->id, "EE/GOV/2"));
}

static void test_loaded(void)
{
        char *errors = NULL;
        Registry *r = load(BASE PETS VEHICLES CITIZEN OWN_YAML OWN_JSON, &errors);

        if (errors)
                fprintf(stderr, "%s", errors);
        CHECK(r && !errors);
        check_vehicles(r);
        check_pets_citizen(r);
        check_provided(r);
        check_metaservices(r);
        registry_unref(r);
}

/* ---- What the registry refuses ----------------------------------------------------------------- */

#define SVC "[service EE/GOV/1/reg/s]\ntitle = S\nmethods = GET\npersonal-data = no\nadapter = rest\n"

static const struct {
        const char *text, *error; /* the error must contain this */
} refused[] = {
        { SVC "paths = /a\nparameter = header x\n", "expected path NAME [SCHEMA]" },
        { SVC "paths = /a\nparameter = path\n", "expected path NAME" },
        { SVC "paths = /{a}\nparameter = path a required\n", "expected path NAME" },
        { SVC "paths = /a\nparameter = query a {not json\n", "expected path NAME" },
        { SVC "paths = /a\nparameter = query a ../x.json\n", "expected path NAME" },
        { SVC "paths = /a\nparameter = query a/b\n", "expected path NAME" },
        { SVC "paths = /a\nparameter = query a\nparameter = query a required\n", "parameter 'a' is declared twice" },
        { SVC "paths = /a/*\nparameter = path b\n", "no path of the service has the segment '{b}'" },
        { SVC "paths = /a/{x}/{x}\n", "names a parameter twice" },
        { SVC "paths = /a{x}\n", "expected path patterns" },
        { SVC "paths = /a\nparameter = query a {\"type\": 5}\n", "the schema of parameter 'a' is refused" },
        { SVC "paths = /a\nparameter = query a missing/x.json#/y\n", "the schema of parameter 'a' is refused" },
        { "[service EE/GOV/1/reg/listMethods]\ntitle = S\nmethods = GET\npersonal-data = no\nadapter = rest\n",
          "the code 'listMethods' is reserved for the X-Road metaservice" },
        { SVC "paths = /items/*\nopenapi = own/none.yaml\n", "cannot read schema file" },
        { SVC "paths = /other\nopenapi = own/own.openapi.yaml\n",
          "path '/items/{id}' is not among the service's paths" },
        { "[service EE/GOV/1/reg/s]\ntitle = S\nmethods = POST\npersonal-data = no\nadapter = rest\npaths = /**\n"
          "openapi = own/own.openapi.json\n",
          "path '/items/{id}' has GET, which the service does not offer" },
        { SVC "paths = /**\nopenapi = pets/pet.response.json\n", "'openapi' must be a 3.0.x or 3.1.x version" },
        { SVC "paths = /**\nopenapi = pets/pet.response.json\n", "'paths' must list the service's paths" },
        { SVC "paths = /**\nopenapi = own/alias.yaml\n", "not YAML the bus reads: an alias at line 3" },
        { SVC "paths = /**\nopenapi = own/dup.yaml\n", "a key given twice" },
        { SVC "paths = /**\nopenapi = own/two.yaml\n", "a second document" },
        { SVC "paths = /**\nopenapi = own/bad.yaml\n", "not YAML the bus reads" },
        { SVC "paths = /**\nopenapi = own/noinfo.yaml\n", "'info' must have a title and a version" },
        { SVC "paths = /**\nopenapi = own/partial.yaml\n", "is not a path template the bus can match" },
};

static void test_refused(void)
{
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                _cleanup_free_ char *text = NULL;
                char *errors = NULL;
                Registry *r;

                assert(asprintf(&text, "%s%s", BASE, refused[i].text) > 0);
                r = load(text, &errors);
                if (r || !errors || !strstr(errors, refused[i].error)) {
                        fprintf(stderr, "case %zu: want '%s', got:\n%s", i, refused[i].error, strempty(errors));
                        CHECK(false);
                }
                n_checks++;
                free(errors);
        }
}

int main(void)
{
        test_patterns();
        test_loaded();
        test_refused();
        printf("test-registry-describe: %u checks passed\n", n_checks);
        return 0;
}
