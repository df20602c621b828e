/* registry-openapi.c: a provider's own OpenAPI document (openapi = FILE), read, checked and anonymised once per load
 *
 * The document is JSON or YAML. YAML is read with libyaml into the same JSON
 * value (the JSON-compatible part of YAML: no anchors or aliases, scalar keys
 * only, plain scalars resolved by the YAML 1.2 core schema), so one check
 * serves both: OpenAPI 3.0 or 3.1, an info with a title and a version, and
 * paths that the service serves, each with methods it offers. getOpenAPI then
 * serves the document in its own syntax with every servers[].url reduced to
 * its path (PR-MREST 5: a client must not learn where the provider's backend
 * is). JSON is written again from the value; YAML keeps its own text, only
 * the url scalars are replaced, so comments and layout stay the provider's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "registry-internal.h"
#include "util/error.h"

#define YAML_DEPTH_MAX 64U
#define YAML_NODES_MAX 200000U

/* A url scalar of a servers list, and what replaces it: offsets in characters, as libyaml counts. */
typedef struct Splice {
        size_t start, end;
        char *text;
} Splice;

typedef struct YamlReader {
        yaml_parser_t parser;
        unsigned depth;
        size_t nodes;
        Splice *splices;
        size_t n_splices;
        char *why; /* the first error, or NULL */
        int error; /* -ENOMEM */
} YamlReader;

/* Where a node is: the key it is the value of (NULL for an item of a sequence), and its parent's place. */
typedef struct YamlPlace {
        const char *key;
        const struct YamlPlace *up;
} YamlPlace;

/*
 * "https://backend.internal:8443/petstore?x" -> "/petstore" in *ret (malloc'd). Return: 1 reduced,
 * 0 when the URL stays as it is (relative, or with {variables}: *ret NULL), -ENOMEM.
 */
static int url_reduced(const char *url, char **ret)
{
        const char *p = strstr(url, "://");
        size_t n;

        *ret = NULL;
        if (!p || strchr(url, '{') || strcspn(url, "/?#") < (size_t)(p - url))
                return 0;
        p += 3;
        p += strcspn(p, "/?#");
        n = strcspn(p, "?#");
        *ret = n ? strndup(p, n) : strdup("/");
        return *ret ? 1 : -ENOMEM;
}

/* Whether a string at `at` is the url of a server ("servers": [{"url": ...}]), at any depth. */
static bool place_is_server_url(const YamlPlace *at)
{
        return at && at->key && streq(at->key, "url") && at->up && !at->up->key && at->up->up && at->up->up->key &&
               streq(at->up->up->key, "servers");
}

/* ---- YAML into a JSON value ------------------------------------------------------------------ */

static void yaml_fail(YamlReader *r, const char *what, const yaml_mark_t *at)
{
        if (!r->why)
                error_set(&r->why, 0, "not YAML the bus reads: %s at line %zu", what, at->line + 1);
}

static bool yaml_next(YamlReader *r, yaml_event_t *e)
{
        if (yaml_parser_parse(&r->parser, e))
                return true;
        if (r->parser.error == YAML_MEMORY_ERROR)
                r->error = -ENOMEM;
        yaml_fail(r, r->parser.problem ? r->parser.problem : "a syntax error", &r->parser.problem_mark);
        return false;
}

/* A plain scalar as the YAML 1.2 core schema reads it; any other scalar is a string. */
static json_t *yaml_scalar(const yaml_event_t *e)
{
        const char *v = (const char *)e->data.scalar.value, *tag = (const char *)e->data.scalar.tag;
        size_t n = e->data.scalar.length, digits;
        char *end;

        if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || (tag && streq(tag, YAML_STR_TAG)))
                return json_stringn(v, n);
        if (n == 0 || streq(v, "~") || streq(v, "null") || streq(v, "Null") || streq(v, "NULL"))
                return json_null();
        if (streq(v, "true") || streq(v, "True") || streq(v, "TRUE"))
                return json_true();
        if (streq(v, "false") || streq(v, "False") || streq(v, "FALSE"))
                return json_false();
        digits = strspn(v + (*v == '-' || *v == '+'), "0123456789");
        if (digits > 0 && digits < 19 && digits + (*v == '-' || *v == '+') == n)
                return json_integer(strtoll(v, NULL, 10));
        if (strspn(v, "+-0123456789.eE") == n && strpbrk(v, "0123456789")) {
                double d = strtod(v, &end);
                if (*end == 0)
                        return json_real(d);
        }
        return json_stringn(v, n);
}

static json_t *yaml_node(YamlReader *r, yaml_event_t *e, const YamlPlace *at);

/* The url scalar `e` of a server: replaced by its path when it names a host. Return: 0, -ENOMEM (r->error). */
static int yaml_splice_add(YamlReader *r, const yaml_event_t *e, const char *url)
{
        Splice *s;
        char *text;
        int k = url_reduced(url, &text);

        if (k < 0)
                return r->error = k;
        if (k == 0)
                return 0;
        s = reallocarray(r->splices, r->n_splices + 1, sizeof(Splice));
        if (!s) {
                free(text);
                return r->error = -ENOMEM;
        }
        r->splices = s;
        s[r->n_splices++] = (Splice){ e->start_mark.index, e->end_mark.index, text };
        return 0;
}

/* The items of a sequence whose start event was just read. */
static json_t *yaml_sequence(YamlReader *r, const YamlPlace *at)
{
        YamlPlace item = { .up = at };
        json_t *a = json_array();
        yaml_event_t e;

        while (a && yaml_next(r, &e)) {
                if (e.type == YAML_SEQUENCE_END_EVENT) {
                        yaml_event_delete(&e);
                        return a;
                }
                if (json_array_append_new(a, yaml_node(r, &e, &item)) < 0)
                        break;
        }
        json_decref(a);
        return NULL;
}

/* The members of a mapping whose start event was just read: scalar keys, each once. */
static json_t *yaml_mapping(YamlReader *r, const YamlPlace *at)
{
        json_t *o = json_object();
        yaml_event_t e;

        while (o && yaml_next(r, &e)) {
                _cleanup_free_ char *key = NULL;
                YamlPlace member = { .up = at };

                if (e.type == YAML_MAPPING_END_EVENT) {
                        yaml_event_delete(&e);
                        return o;
                }
                if (e.type != YAML_SCALAR_EVENT) {
                        yaml_fail(r, "a key that is not a string", &e.start_mark);
                        yaml_event_delete(&e);
                        break;
                }
                key = strndup((const char *)e.data.scalar.value, e.data.scalar.length);
                if (!key || strlen(key) != e.data.scalar.length || json_object_get(o, key)) {
                        r->error = key ? r->error : -ENOMEM;
                        yaml_fail(r, key ? "a key given twice, or with a NUL" : "out of memory", &e.start_mark);
                        yaml_event_delete(&e);
                        break;
                }
                yaml_event_delete(&e);
                member.key = key;
                if (!yaml_next(r, &e) || json_object_set_new(o, key, yaml_node(r, &e, &member)) < 0)
                        break;
        }
        json_decref(o);
        return NULL;
}

/* The node that starts with event `e` (consumed). */
static json_t *yaml_node(YamlReader *r, yaml_event_t *e, const YamlPlace *at)
{
        json_t *j = NULL;

        if (++r->nodes > YAML_NODES_MAX || r->depth >= YAML_DEPTH_MAX)
                yaml_fail(r, "too many or too deeply nested nodes", &e->start_mark);
        else if (e->type == YAML_SCALAR_EVENT) {
                j = yaml_scalar(e);
                if (j && json_is_string(j) && place_is_server_url(at) &&
                    yaml_splice_add(r, e, json_string_value(j)) < 0) {
                        json_decref(j);
                        j = NULL;
                }
        } else if (e->type == YAML_SEQUENCE_START_EVENT || e->type == YAML_MAPPING_START_EVENT) {
                r->depth++;
                j = e->type == YAML_SEQUENCE_START_EVENT ? yaml_sequence(r, at) : yaml_mapping(r, at);
                r->depth--;
        } else
                yaml_fail(r, e->type == YAML_ALIAS_EVENT ? "an alias" : "an unexpected event", &e->start_mark);
        yaml_event_delete(e);
        if (!j && !r->why && r->error == 0)
                r->error = -ENOMEM;
        return j;
}

/* Read the next event, which must be of type `t`. */
static bool yaml_expect(YamlReader *r, yaml_event_type_t t, const char *otherwise)
{
        yaml_event_t e;
        bool ok;

        if (!yaml_next(r, &e))
                return false;
        ok = e.type == t;
        if (!ok)
                yaml_fail(r, otherwise, &e.start_mark);
        yaml_event_delete(&e);
        return ok;
}

/* The one document of the stream `text`, or NULL (r->why, or r->error). */
static json_t *yaml_read(YamlReader *r, const char *text, size_t size)
{
        json_t *doc = NULL;
        yaml_event_t e;

        if (!yaml_parser_initialize(&r->parser)) {
                r->error = -ENOMEM;
                return NULL;
        }
        yaml_parser_set_input_string(&r->parser, (const unsigned char *)text, size);
        yaml_parser_set_encoding(&r->parser, YAML_UTF8_ENCODING);
        if (yaml_expect(r, YAML_STREAM_START_EVENT, "no stream") &&
            yaml_expect(r, YAML_DOCUMENT_START_EVENT, "no document") && yaml_next(r, &e))
                doc = yaml_node(r, &e, NULL);
        if (doc && !(yaml_expect(r, YAML_DOCUMENT_END_EVENT, "more than one node") &&
                     yaml_expect(r, YAML_STREAM_END_EVENT, "a second document"))) {
                json_decref(doc);
                doc = NULL;
        }
        yaml_parser_delete(&r->parser);
        if (r->why || r->error) {
                json_decref(doc);
                return NULL;
        }
        return doc;
}

/* `text` with each splice applied (offsets in characters after an optional BOM). NULL: out of memory. */
static char *yaml_splice(const char *text, size_t size, const Splice *s, size_t n, size_t *ret_size)
{
        size_t at = strneq(text, "\xef\xbb\xbf", MIN(size, 3U)) && size >= 3 ? 3 : 0, chars = 0, o = 0, grow = 0;
        char *out;

        for (size_t i = 0; i < n; i++)
                grow += 2 * strlen(s[i].text) + 2;
        out = malloc(size + grow + 1);
        if (!out)
                return NULL;
        memcpy(out, text, at);
        o = at;
        for (size_t i = 0; i < n; i++) {
                /* copy up to the start, counting characters (UTF-8 lead bytes) */
                while (at < size && chars < s[i].start) {
                        out[o++] = text[at++];
                        while (at < size && (text[at] & 0xC0) == 0x80)
                                out[o++] = text[at++];
                        chars++;
                }
                out[o++] = '"';
                for (const char *c = s[i].text; *c; c++) {
                        if (*c == '"' || *c == '\\')
                                out[o++] = '\\';
                        out[o++] = *c;
                }
                out[o++] = '"';
                while (at < size && chars < s[i].end) {
                        at++;
                        while (at < size && (text[at] & 0xC0) == 0x80)
                                at++;
                        chars++;
                }
        }
        memcpy(out + o, text + at, size - at);
        o += size - at;
        out[o] = 0;
        *ret_size = o;
        return out;
}

/* ---- JSON: the same reduction on the value ----------------------------------------------------- */

static int json_reduce_servers(json_t *node, const YamlPlace *at)
{
        const char *k;
        json_t *v;
        size_t i;

        if (json_is_string(node) || !node)
                return 0;
        if (json_is_array(node)) {
                YamlPlace item = { .up = at };
                json_array_foreach(node, i, v)
                        if (json_reduce_servers(v, &item) < 0)
                                return -ENOMEM;
                return 0;
        }
        json_object_foreach(node, k, v) {
                YamlPlace member = { .key = k, .up = at };
                if (json_is_string(v) && place_is_server_url(&member)) {
                        char *text;
                        int r = url_reduced(json_string_value(v), &text);
                        if (r > 0)
                                r = json_object_set_new(node, k, json_string(text)) < 0 ? -ENOMEM : 0;
                        free(text);
                        if (r < 0)
                                return -ENOMEM;
                } else if (json_reduce_servers(v, &member) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* ---- The check ----------------------------------------------------------------------------------- */

#define report(l, d, ...)                                                        \
        ini_errors_add(&(l)->errors, (d)->sec.file, (d)->sec.lines[SVC_OPENAPI], \
                       "service '%s': openapi '%s': " __VA_ARGS__)

/* A template as a pattern into `out` (as long as `t`): "{id}" becomes "*". False when a parameter is not a
 * whole segment. */
static bool template_pattern(const char *t, char *out)
{
        size_t o = 0;

        for (const char *p = t; *p;) {
                size_t len = strcspn(p + 1, "/") + 1; /* "/seg" */
                const char *name;
                size_t n;

                if (registry_pattern_segment_name(p + 1, len - 1, &name, &n)) {
                        memcpy(out + o, "/*", 2);
                        o += 2;
                } else if (memchr(p, '{', len) || memchr(p, '}', len))
                        return false;
                else {
                        memcpy(out + o, p, len);
                        o += len;
                }
                p += len;
        }
        out[o] = 0;
        return true;
}

/* One path of the document: served by the service, with methods it offers. */
static void check_path(Loader *l, ServiceDef *d, const char *template, json_t *item)
{
        static const char *const methods[] = { "get", "put", "post", "delete", "options", "head", "patch", "trace" };
        _cleanup_free_ char *pattern = malloc(strlen(template) + 1);
        bool served = false;

        if (!pattern)
                return;
        if (template[0] != '/' || !template_pattern(template, pattern) || !registry_pattern_valid(pattern)) {
                report(l, d, "path '%.200s' is not a path template the bus can match", d->pub.id, d->pub.openapi,
                       template);
                return;
        }
        for (char **p = d->pub.paths; p && *p && !served; p++)
                served = registry_pattern_covers(*p, pattern);
        if (!served)
                report(l, d, "path '%.200s' is not among the service's paths", d->pub.id, d->pub.openapi, template);
        for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                char upper[8] = "";

                for (size_t k = 0; methods[i][k]; k++)
                        upper[k] = (char)(methods[i][k] & ~0x20);
                if (json_object_get(item, methods[i]) && !(d->pub.methods & registry_method_from_string(upper)))
                        report(l, d, "path '%.200s' has %s, which the service does not offer", d->pub.id,
                               d->pub.openapi, template, upper);
        }
}

static void check_document(Loader *l, ServiceDef *d, json_t *doc)
{
        const char *version = json_string_value(json_object_get(doc, "openapi")), *template;
        json_t *info = json_object_get(doc, "info"), *paths = json_object_get(doc, "paths"), *item;

        if (!version || !(strneq(version, "3.0.", 4) || strneq(version, "3.1.", 4)) ||
            strspn(version + 4, "0123456789") != strlen(version + 4) || !version[4])
                report(l, d, "'openapi' must be a 3.0.x or 3.1.x version", d->pub.id, d->pub.openapi);
        if (!json_is_string(json_object_get(info, "title")) || !json_is_string(json_object_get(info, "version")))
                report(l, d, "'info' must have a title and a version (strings)", d->pub.id, d->pub.openapi);
        if (!json_is_object(paths) || json_object_size(paths) == 0) {
                report(l, d, "'paths' must list the service's paths", d->pub.id, d->pub.openapi);
                return;
        }
        json_object_foreach(paths, template, item)
                check_path(l, d, template, item);
}

int registry_openapi_load(Loader *l, const SchemaSource *src, ServiceDef *d)
{
        _cleanup_free_ char *text = NULL, *why = NULL;
        YamlReader r = {};
        const char *data;
        size_t size = 0, skip;
        json_t *doc;
        bool json;
        int k;

        k = registry_schema_file(src, d->pub.openapi, &data, &size, &text, &why);
        if (k < 0) {
                report(l, d, "%s", d->pub.id, d->pub.openapi, why ? why : strerror(-k));
                return k == -ENOMEM ? k : 0;
        }
        for (skip = 0; skip < size && strchr(" \t\r\n", data[skip]) && data[skip]; skip++)
                ;
        json = skip < size && data[skip] == '{';
        if (json) {
                json_error_t err;
                doc = json_loadb(data, size, JSON_REJECT_DUPLICATES, &err);
                if (!doc)
                        error_set(&r.why, 0, "not JSON: line %d: %s", err.line, err.text);
        } else
                doc = yaml_read(&r, data, size);
        if (doc && json_is_object(doc))
                check_document(l, d, doc);
        else if (!r.error)
                report(l, d, "%s", d->pub.id, d->pub.openapi, r.why ? r.why : "not an object");
        if (doc && json) {
                d->pub.description_type = "application/json";
                if (json_reduce_servers(doc, NULL) == 0 &&
                    (d->pub.description = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
                        d->pub.description_size = strlen(d->pub.description);
        } else if (doc) {
                d->pub.description_type = "application/yaml";
                d->pub.description = yaml_splice(data, size, r.splices, r.n_splices, &d->pub.description_size);
        }
        k = doc && !d->pub.description ? -ENOMEM : r.error;
        json_decref(doc);
        for (size_t i = 0; i < r.n_splices; i++)
                free(r.splices[i].text);
        free(r.splices);
        free(r.why);
        return k;
}
