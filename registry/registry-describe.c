/* registry-describe.c: what a service declares about its requests (parameters), and its generated OpenAPI description
 *
 * A service may name the segments of its paths ("/vehicles/{plate}") and declare
 * path and query parameters with JSON Schemas (docs/registry.md, "parameter").
 * Both are checked when the registry loads, the schemas compiled once (the
 * front door validates requests against them: policy/params.c), and an
 * OpenAPI 3.1 document is made for every service that does not bring its own
 * (registry-openapi.c): its paths and methods, those parameters, the subject's
 * place, and the request and response schemas. The schema documents are
 * bundled into components.schemas without their $id, every $ref rewritten to
 * point inside the document, so that the description stands on its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry-internal.h"
#include "util/error.h"

/* The subject as policy/subject.c accepts it (subject_valid()), for the description. */
#define SUBJECT_PATTERN "^[0-9A-Za-z-]{1,64}$"

/* ---- The parameter key ------------------------------------------------------------------------- */

/* The next word of `*s` (blanks separate words): its start and length; *s moves past it. */
static const char *next_word(const char **s, size_t *ret_len)
{
        const char *w = *s + strspn(*s, " \t");

        *ret_len = strcspn(w, " \t");
        *s = w + *ret_len;
        return *ret_len ? w : NULL;
}

/* A parameter's schema: an inline JSON Schema object, or a schema file with an optional "#/pointer". */
static bool parameter_schema_valid(const char *s)
{
        _cleanup_free_ char *file = strndup(s, strcspn(s, "#"));
        const char *frag = s + strcspn(s, "#");
        json_t *j;
        bool ok;

        if (s[0] == '{') {
                j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
                ok = json_is_object(j);
                json_decref(j);
                return ok;
        }
        return file && registry_schema_path_valid(file) && !strpbrk(s, " \t") &&
               (!*frag || !frag[1] || registry_json_pointer_valid(frag + 1));
}

/* Append `p` to the list (taking its strings). Return: 0, -E2BIG, -ENOMEM. */
static int parameter_list_append(ParameterList *l, const RegistryParameter *p, unsigned line)
{
        RegistryParameter *items;
        unsigned *lines;

        if (l->n >= INI_LIST_MAX)
                return -E2BIG;
        items = reallocarray(l->items, l->n + 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        l->items = items;
        lines = reallocarray(l->lines, l->n + 1, sizeof(*lines));
        if (!lines)
                return -ENOMEM;
        l->lines = lines;
        l->items[l->n] = *p;
        l->lines[l->n++] = line;
        return 0;
}

int registry_item_parameter(const char *value, unsigned line, void *dst)
{
        static const char *const places[] = { [REGISTRY_PARAMETER_PATH] = "path", [REGISTRY_PARAMETER_QUERY] = "query" };
        RegistryParameter p = {};
        const char *at = value, *w, *name, *rest;
        size_t n, name_len;
        unsigned k;
        int r;

        w = next_word(&at, &n);
        for (k = 0; w && k < ELEMENTSOF(places) && !(strlen(places[k]) == n && strneq(w, places[k], n)); k++)
                ;
        name = next_word(&at, &name_len);
        if (!w || k == ELEMENTSOF(places) || !name)
                return -EINVAL;
        rest = at;
        w = next_word(&rest, &n);
        if (w && n == 8 && strneq(w, "required", 8)) {
                if (k == REGISTRY_PARAMETER_PATH)
                        return -EINVAL; /* a path parameter always is */
                p.required = true;
                at = rest;
        }
        at += strspn(at, " \t");
        if (*at && !parameter_schema_valid(at))
                return -EINVAL;
        p.in = k;
        p.required = p.required || k == REGISTRY_PARAMETER_PATH;
        p.name = strndup(name, name_len);
        if (!p.name)
                return -ENOMEM;
        if (!registry_token_valid(p.name)) {
                free(p.name);
                return -EINVAL;
        }
        p.schema = *at ? strdup(at) : NULL;
        r = *at && !p.schema ? -ENOMEM : parameter_list_append(dst, &p, line);
        if (r < 0) {
                free(p.name);
                free(p.schema);
        }
        return r;
}

void registry_parameters_done(ParameterList *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].name);
                free(l->items[i].schema);
                json_schema_free(l->items[i].validator);
        }
        free(l->items);
        free(l->lines);
        *l = (ParameterList){};
}

/* ---- Checks, before schemas are read --------------------------------------------------------- */

/* Whether some path of the service has the segment "{name}". */
static bool paths_name(char *const *paths, const char *name)
{
        for (; paths && *paths; paths++)
                for (const char *p = *paths; (p = strchr(p, '{')); p++)
                        if (strneq(p + 1, name, strlen(name)) && p[1 + strlen(name)] == '}')
                                return true;
        return false;
}

/* Whether `pattern` names the same path parameter twice. */
static bool pattern_names_twice(const char *pattern)
{
        for (const char *p = pattern; (p = strchr(p, '{')); p++) {
                size_t n = strcspn(p, "}") + 1;
                for (const char *q = p + n; (q = strchr(q, '{')); q++)
                        if (strneq(p, q, n))
                                return true;
        }
        return false;
}

void registry_describe_check(Loader *l, ServiceDef *d)
{
        const char *code = d->pub.id ? strrchr(d->pub.id, '/') : NULL;
        ParameterList *pl = &d->params;

        if (code && registry_metaservice_from_code(code + 1) != REGISTRY_META_NONE)
                ini_errors_add(&l->errors, d->sec.file, d->sec.line,
                               "service '%s': the code '%s' is reserved for the X-Road metaservice", d->pub.id,
                               code + 1);
        for (char **p = d->pub.paths; p && *p; p++)
                if (pattern_names_twice(*p))
                        ini_errors_add(&l->errors, d->sec.file, d->sec.lines[SVC_PATHS],
                                       "service '%s': the path '%s' names a parameter twice", d->pub.id, *p);
        for (size_t i = 0; i < pl->n; i++) {
                const RegistryParameter *p = &pl->items[i];

                for (size_t j = 0; j < i; j++)
                        if (pl->items[j].in == p->in && streq(pl->items[j].name, p->name))
                                ini_errors_add(&l->errors, d->sec.file, pl->lines[i],
                                               "service '%s': parameter '%s' is declared twice (first at line %u)",
                                               d->pub.id, p->name, pl->lines[j]);
                if (p->in == REGISTRY_PARAMETER_PATH && !paths_name(d->pub.paths, p->name))
                        ini_errors_add(&l->errors, d->sec.file, pl->lines[i],
                                       "service '%s': no path of the service has the segment '{%s}'", d->pub.id,
                                       p->name);
        }
        d->pub.parameters = pl->items;
        d->pub.n_parameters = pl->n;
}

/* ---- Parameter schemas ------------------------------------------------------------------------- */

/* A parameter's schema as JSON: the inline object, or {"$ref": FILE#POINTER} (relative to the schema root). */
static json_t *parameter_schema(const RegistryParameter *p)
{
        if (!p->schema)
                return json_pack("{s:s}", "type", "string");
        if (p->schema[0] == '{')
                return json_loads(p->schema, JSON_REJECT_DUPLICATES, NULL);
        return json_pack("{s:s}", "$ref", p->schema);
}

static int parameters_compile(Loader *l, const SchemaSource *src, const JsonSchemaOptions *opts, ServiceDef *d)
{
        for (size_t i = 0; i < d->params.n; i++) {
                RegistryParameter *p = &d->params.items[i];
                _cleanup_free_ char *why = NULL;
                json_t *schema;
                int k;

                if (!p->schema)
                        continue;
                schema = parameter_schema(p);
                if (!schema)
                        return -ENOMEM;
                /* relative references resolve against the schema root, as a schema file's would */
                k = json_schema_compile((JsonSchema **)&p->validator, schema, src->base_uri, opts, &why);
                json_decref(schema);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        ini_errors_add(&l->errors, d->sec.file, d->params.lines[i],
                                       "service '%s': the schema of parameter '%s' is refused: %s", d->pub.id, p->name,
                                       why ? why : strerror(-k));
        }
        return 0;
}

/* A JSON string that takes `s` (malloc'd; freed here). NULL when out of memory. */
static json_t *json_string_own(char *s)
{
        json_t *j = s ? json_string(s) : NULL;

        free(s);
        return j;
}

/* ---- Bundling schema documents into components.schemas -------------------------------------- */

typedef struct Generator {
        const SchemaSource *src;
        const RegistryService *svc;
        json_t *schemas; /* components.schemas: key -> bundled document */
        json_t *keys;    /* document URI -> key */
        int error;       /* -ENOMEM once something could not be built */
} Generator;

static json_t *bundle_copy(Generator *g, json_t *node, const char *base, const char *key);

/* "pets/pet.request.json" -> "pets.pet.request" (a components key: [A-Za-z0-9._-]), unique in g->schemas. */
static char *bundle_key(Generator *g, const char *rel)
{
        int n = (int)(strlen(rel) - (strlen(rel) > 5 && streq(rel + strlen(rel) - 5, ".json") ? 5 : 0));
        char *key;

        for (unsigned k = 1; k < 1000; k++) {
                if (asprintf(&key, k == 1 ? "%.*s" : "%.*s-%u", n, rel, k) < 0)
                        return NULL;
                for (char *c = key; *c; c++)
                        if (*c == '/')
                                *c = '.';
                if (!json_object_get(g->schemas, key))
                        return key;
                free(key);
        }
        return NULL;
}

/* The key of the document `uri` (under the schema base URI), bundling it the first time. NULL: not bundled. */
static const char *bundle_document(Generator *g, const char *uri)
{
        const char *rel = uri + strlen(g->src->base_uri), *base = uri;
        _cleanup_free_ char *why = NULL, *key = NULL, *own = NULL;
        json_t *doc, *copy, *id;

        if (json_object_get(g->keys, uri))
                return json_string_value(json_object_get(g->keys, uri));
        doc = registry_schema_read(g->src, rel, &why);
        if (!doc)
                return NULL; /* the validator reported it */
        key = bundle_key(g, rel);
        if (!key || json_object_set_new(g->keys, uri, json_string(key)) < 0) {
                json_decref(doc);
                g->error = -ENOMEM;
                return NULL;
        }
        /* its references resolve against its own $id, as the validator resolved them */
        id = json_object_get(doc, "$id");
        if (json_is_string(id) && (own = json_schema_uri_resolve(uri, json_string_value(id))))
                base = own;
        copy = bundle_copy(g, doc, base, key);
        json_decref(doc);
        if (!copy || json_object_set_new(g->schemas, key, copy) < 0) {
                g->error = -ENOMEM;
                return NULL;
        }
        return json_string_value(json_object_get(g->keys, uri));
}

/* `ref` (in the document at `base`, bundled as `key`, NULL when inline) as a reference inside the description. */
static json_t *bundle_ref(Generator *g, const char *ref, const char *base, const char *key)
{
        _cleanup_free_ char *abs = json_schema_uri_resolve(base, ref), *doc = NULL;
        const char *frag, *target = NULL;
        size_t n = strlen(g->src->base_uri);
        char *out = NULL;

        if (!abs)
                return NULL;
        frag = strchr(abs, '#') ? strchr(abs, '#') + 1 : "";
        doc = strndup(abs, strcspn(abs, "#"));
        if (!doc)
                return NULL;
        if (*frag && *frag != '/')
                return json_string(abs); /* a plain-name anchor: left as the validator read it */
        if (key && strneq(doc, base, strcspn(base, "#")) && strlen(doc) == strcspn(base, "#"))
                target = key;
        else if (strneq(doc, g->src->base_uri, n) && doc[n])
                target = bundle_document(g, doc);
        if (!target)
                return json_string(abs);
        if (asprintf(&out, "#/components/schemas/%s%s", target, frag) < 0)
                return NULL;
        return json_string_own(out);
}

static bool keyword_in(const char *k, const char *const *list)
{
        for (; *list; list++)
                if (streq(k, *list))
                        return true;
        return false;
}

/* A copy of the schema `node` without $id, its $refs pointing inside the description. */
static json_t *bundle_copy(Generator *g, json_t *node, const char *base, const char *key)
{
        static const char *const data[] = { "const", "enum", "default", "examples", "example", NULL };
        static const char *const maps[] = { "properties",  "patternProperties", "$defs",
                                            "definitions", "dependentSchemas",  NULL };
        const char *k;
        json_t *v, *out;
        size_t i;

        if (json_is_array(node)) {
                out = json_array();
                json_array_foreach(node, i, v)
                        if (!out || json_array_append_new(out, bundle_copy(g, v, base, key)) < 0)
                                goto oom;
                return out;
        }
        if (!json_is_object(node))
                return json_incref(node);
        out = json_object();
        json_object_foreach(node, k, v) {
                json_t *c;

                if (!out)
                        goto oom;
                if (streq(k, "$id") && json_is_string(v))
                        continue;
                if (streq(k, "$ref") && json_is_string(v))
                        c = bundle_ref(g, json_string_value(v), base, key);
                else if (keyword_in(k, data))
                        c = json_deep_copy(v);
                else if (keyword_in(k, maps) && json_is_object(v)) {
                        const char *name;
                        json_t *sub;

                        c = json_object();
                        json_object_foreach(v, name, sub)
                                if (!c || json_object_set_new(c, name, bundle_copy(g, sub, base, key)) < 0)
                                        break;
                } else
                        c = bundle_copy(g, v, base, key);
                if (json_object_set_new(out, k, c) < 0)
                        goto oom;
        }
        return out;
oom:
        g->error = -ENOMEM;
        json_decref(out);
        return NULL;
}

/* ---- The generated document ------------------------------------------------------------------- */

/* A subject as the bus accepts it. */
static json_t *subject_schema(void)
{
        return json_pack("{s:s,s:s}", "type", "string", "pattern", SUBJECT_PATTERN);
}

/* The schema of a path or query parameter named `name` (declared, the subject's, or any string). */
static json_t *describe_schema(Generator *g, RegistryParameterPlace in, const char *name, bool subject)
{
        const RegistryService *svc = g->svc;

        for (size_t i = 0; i < svc->n_parameters; i++)
                if (svc->parameters[i].in == in && streq(svc->parameters[i].name, name)) {
                        json_t *schema = parameter_schema(&svc->parameters[i]), *c;

                        c = schema ? bundle_copy(g, schema, g->src->base_uri, NULL) : NULL;
                        json_decref(schema);
                        return c;
                }
        return subject ? subject_schema() : json_pack("{s:s}", "type", "string");
}

static int add_parameter(Generator *g, json_t *list, const char *in, const char *name, bool required,
                         const char *description, json_t *schema)
{
        json_t *p = schema ? json_pack("{s:s,s:s,s:b,s:o,s:s*}", "name", name, "in", in, "required", required, "schema",
                                       schema, "description", description)
                           : NULL;

        return json_array_append_new(list, p) < 0 ? (g->error = -ENOMEM) : 0;
}

/* The query and header parameters every operation of the service has. */
static int add_request_parameters(Generator *g, json_t *list)
{
        const RegistryService *svc = g->svc;
        const RegistrySubjectPlace *at = &svc->subject;
        bool declared = false;

        for (size_t i = 0; i < svc->n_parameters; i++) {
                const RegistryParameter *p = &svc->parameters[i];

                if (p->in != REGISTRY_PARAMETER_QUERY)
                        continue;
                declared = declared || (at->source == REGISTRY_SUBJECT_QUERY && streq(p->name, at->where));
                add_parameter(g, list, "query", p->name, p->required, NULL,
                              describe_schema(g, REGISTRY_PARAMETER_QUERY, p->name, false));
        }
        if (svc->personal_data && at->source == REGISTRY_SUBJECT_QUERY && !declared)
                add_parameter(g, list, "query", at->where, false, "The data subject (or in X-Bus-Subject)",
                              describe_schema(g, REGISTRY_PARAMETER_QUERY, at->where, true));
        if (svc->personal_data)
                add_parameter(g, list, "header", "X-Bus-Subject", at->source == REGISTRY_SUBJECT_HEADER,
                              "The data subject (xbus extension)", subject_schema());
        return g->error;
}

/* Whether the first `k` segments of two patterns are the same text. */
static bool same_prefix(const char *a, const char *b, unsigned k)
{
        size_t la = registry_id_prefix_len(a + 1, k), lb = registry_id_prefix_len(b + 1, k);

        return k == 0 || (la == lb && strneq(a, b, la + 1));
}

/*
 * The OpenAPI template of `pattern` into *ret (a "*" segment becomes "{p1}", or "{subject}"
 * when the subject's template puts the subject there; p1, p2, ... otherwise; a final "**" is left out) and its
 * path parameters into `list`. Return: whether the pattern ended in "**", or -ENOMEM.
 */
static int path_template(Generator *g, const char *pattern, json_t *list, char **ret)
{
        const RegistrySubjectPlace *at = &g->svc->subject;
        char *out = malloc(strlen(pattern) * 6 + 16); /* a "*" or "/" may become "{p12345}" */
        unsigned seg = 0, unnamed = 0;
        size_t o = 0;
        int rest = 0;

        if (!out)
                return -ENOMEM;
        for (const char *p = pattern + 1; *p; seg++) {
                size_t len = strcspn(p, "/"), nlen;
                bool subject = at->source == REGISTRY_SUBJECT_PATH && seg == at->segment &&
                               same_prefix(pattern, at->where, seg);
                char name[REGISTRY_ID_SEGMENT_MAX + 1] = "";
                const char *named;

                if (len == 2 && strneq(p, "**", 2)) {
                        rest = 1;
                        break;
                }
                if (registry_pattern_segment_name(p, len, &named, &nlen))
                        snprintf(name, sizeof(name), "%.*s", (int)nlen, named);
                else if (len == 1 && *p == '*')
                        snprintf(name, sizeof(name), subject ? "subject" : "p%u", ++unnamed);
                if (name[0]) {
                        o += (size_t)sprintf(out + o, "/{%s}", name);
                        add_parameter(g, list, "path", name, true, subject ? "The data subject" : NULL,
                                      describe_schema(g, REGISTRY_PARAMETER_PATH, name, subject));
                } else
                        o += (size_t)sprintf(out + o, "/%.*s", (int)len, p);
                p += len + (p[len] == '/');
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = 0;
        *ret = out;
        return g->error < 0 ? g->error : rest;
}

/* One operation: the request body of POST, PUT and PATCH, the provider's answer, an error. */
static json_t *operation(Generator *g, unsigned method, const char *request, const char *response)
{
        bool body = method & (REGISTRY_METHOD_POST | REGISTRY_METHOD_PUT | REGISTRY_METHOD_PATCH);
        json_t *content = NULL, *request_body = NULL, *op;

        /* "o*" leaves out a NULL; a part that should be there and is not is out of memory */
        if (response && method != REGISTRY_METHOD_HEAD &&
            !(content = json_pack("{s:{s:{s:s}}}", "application/json", "schema", "$ref", response)))
                goto oom;
        if (body && request)
                request_body = json_pack("{s:b,s:{s:{s:{s:s}}}}", "required", true, "content", "application/json",
                                         "schema", "$ref", request);
        else if (body)
                request_body = json_pack("{s:{s:{}}}", "content", "*/*");
        if (body && !request_body) {
                json_decref(content);
                goto oom;
        }
        op = json_pack("{s:o*,s:{s:{s:s,s:o*},s:{s:s}}}", "requestBody", request_body, "responses", "200",
                       "description", "The provider's answer", "content", content, "default", "description",
                       "An error: the bus's own (X-Road-Error set), or the provider's");
        if (op)
                return op;
oom:
        g->error = -ENOMEM;
        return NULL;
}

/* The path item of `pattern` in `paths` (a template already there is kept: the same operations). */
static int add_path(Generator *g, json_t *paths, const char *pattern, const char *request, const char *response)
{
        _cleanup_free_ char *template = NULL;
        json_t *item = json_object(), *params = json_array();
        int rest;

        if (!item || !params)
                goto oom;
        rest = path_template(g, pattern, params, &template);
        if (rest < 0 || add_request_parameters(g, params) < 0)
                goto oom;
        if (json_object_get(paths, template)) {
                json_decref(item);
                json_decref(params);
                return 0;
        }
        if (rest &&
            json_object_set_new(item, "description",
                                json_sprintf("This path and every path below it (the registry's %s)", pattern)) < 0)
                goto oom;
        if (json_array_size(params) && json_object_set(item, "parameters", params) < 0)
                goto oom;
        json_decref(params);
        params = NULL;
        for (unsigned m = 1; m != 0; m <<= 1) {
                const char *name = registry_method_to_string(m);
                char lower[8] = "";

                if (!(g->svc->methods & m) || !name)
                        continue;
                for (size_t i = 0; name[i] && i < sizeof(lower) - 1; i++)
                        lower[i] = (char)(name[i] | 0x20);
                if (json_object_set_new(item, lower, operation(g, m, request, response)) < 0)
                        goto oom;
        }
        return json_object_set_new(paths, template, item) < 0 ? (g->error = -ENOMEM) : 0;
oom:
        json_decref(item);
        json_decref(params);
        return g->error = -ENOMEM;
}

/* A reference to the bundled schema file `rel`, or NULL (none, or out of memory: g->error). */
static char *schema_ref(Generator *g, const char *rel)
{
        _cleanup_free_ char *uri = NULL;
        const char *key;
        char *out = NULL;

        if (!rel)
                return NULL;
        if (asprintf(&uri, "%s%s", g->src->base_uri, rel) < 0) {
                g->error = -ENOMEM;
                return NULL;
        }
        key = bundle_document(g, uri);
        if (key && asprintf(&out, "#/components/schemas/%s", key) < 0) {
                g->error = -ENOMEM;
                return NULL;
        }
        return out;
}

/* The document for `svc` (a new reference), or NULL (out of memory). */
static json_t *generate(Generator *g)
{
        const RegistryService *svc = g->svc;
        _cleanup_free_ char *request = schema_ref(g, svc->request_schema),
                            *response = schema_ref(g, svc->response_schema);
        json_t *doc, *paths = json_object();

        doc = json_pack("{s:s,s:{s:s,s:s,s:s+},s:[{s:s+}],s:o}", "openapi", "3.1.0", "info", "title", svc->title,
                        "version", "1", "description", "Generated by the bus from the registry entry of ", svc->id,
                        "servers", "url", "/r1/", svc->id, "paths", paths);
        for (char **p = svc->paths; doc && p && *p; p++)
                if (add_path(g, paths, *p, request, response) < 0)
                        break;
        if (doc && json_object_size(g->schemas) &&
            json_object_set_new(doc, "components", json_pack("{s:O}", "schemas", g->schemas)) < 0)
                g->error = -ENOMEM;
        if (!doc || g->error < 0) {
                json_decref(doc);
                return NULL;
        }
        return doc;
}

int registry_describe_compile(Loader *l, const SchemaSource *src, const JsonSchemaOptions *opts, ServiceDef *d)
{
        Generator g = { .src = src, .svc = &d->pub };
        json_t *doc;
        int k;

        k = parameters_compile(l, src, opts, d);
        if (k < 0 || d->pub.openapi)
                return k < 0 ? k : registry_openapi_load(l, src, d);
        g.schemas = json_object();
        g.keys = json_object();
        doc = g.schemas && g.keys ? generate(&g) : NULL;
        json_decref(g.schemas);
        json_decref(g.keys);
        if (!doc)
                return -ENOMEM;
        d->pub.description = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(doc);
        if (!d->pub.description)
                return -ENOMEM;
        d->pub.description_size = strlen(d->pub.description);
        d->pub.description_type = "application/json";
        return 0;
}
