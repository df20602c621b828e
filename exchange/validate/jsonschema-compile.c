/* jsonschema-compile.c: compile a JSON Schema into Nodes: dialects, subschemas, documents, the entry points */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "validate/jsonformat.h"
#include "util/error.h"
#include "validate/jsonschema-internal.h"

/* ---- compiler ---- */

static const struct {
        const char *uri;
        unsigned bit;
} vocabularies[] = {
        { "https://json-schema.org/draft/2020-12/vocab/core", VOCAB_CORE },
        { "https://json-schema.org/draft/2020-12/vocab/applicator", VOCAB_APPLICATOR },
        { "https://json-schema.org/draft/2020-12/vocab/unevaluated", VOCAB_UNEVALUATED },
        { "https://json-schema.org/draft/2020-12/vocab/validation", VOCAB_VALIDATION },
        { "https://json-schema.org/draft/2020-12/vocab/meta-data", VOCAB_META_DATA },
        { "https://json-schema.org/draft/2020-12/vocab/format-annotation", VOCAB_FORMAT_ANNOTATION },
        { "https://json-schema.org/draft/2020-12/vocab/format-assertion", VOCAB_FORMAT_ASSERTION },
        { "https://json-schema.org/draft/2020-12/vocab/content", VOCAB_CONTENT },
};

#define URI_2020 "https://json-schema.org/draft/2020-12/schema"
#define URI_07 "http://json-schema.org/draft-07/schema"

typedef struct Dialect {
        uint8_t dialect;
        uint8_t vocab;
} Dialect;

int cfail(Compiler *c, int r, const char *fmt, ...)
{
        va_list ap;

        if (!c->error) {
                va_start(ap, fmt);
                c->error = error_vformat(fmt, ap);
                va_end(ap);
        }
        return r;
}

/* "<doc>#<pointer>" for messages, in a static-per-call buffer owned by the caller. */
const char *scope_where(const Scope *sc, char *buf, size_t size)
{
        snprintf(buf, size, "%s#%s", sc->doc_uri, sc->location);
        return buf;
}

int hold_doc(JsonSchema *s, json_t *doc)
{
        if (s->n_docs == s->cap_docs) {
                size_t cap = s->cap_docs ? s->cap_docs * 2 : 8;
                json_t **d = realloc(s->docs, cap * sizeof(json_t *));
                if (!d)
                        return -ENOMEM;
                s->docs = d;
                s->cap_docs = cap;
        }
        s->docs[s->n_docs++] = doc;
        return 0;
}

int hold_regex(JsonSchema *s, EcmaRegex *re)
{
        if (s->n_regexes == s->cap_regexes) {
                size_t cap = s->cap_regexes ? s->cap_regexes * 2 : 8;
                EcmaRegex **d = realloc(s->regexes, cap * sizeof(EcmaRegex *));
                if (!d)
                        return -ENOMEM;
                s->regexes = d;
                s->cap_regexes = cap;
        }
        s->regexes[s->n_regexes++] = re;
        return 0;
}

/* strip an empty trailing fragment: "x#" -> "x" */
static void strip_empty_fragment(char *uri)
{
        size_t l = strlen(uri);
        if (l > 0 && uri[l - 1] == '#')
                uri[l - 1] = 0;
}

/* The dialect and vocabularies named by a `$schema` value. */
static int dialect_from_meta(Compiler *c, const char *value, const Scope *sc, Dialect *ret)
{
        _cleanup_free_ char *uri = strdup(value);
        Dialect *d;
        json_t *meta, *v, *vocab;
        int r;

        if (!uri)
                return -ENOMEM;
        strip_empty_fragment(uri);
        if (streq(uri, URI_2020)) {
                *ret = (Dialect){ JSON_SCHEMA_DRAFT_2020_12, VOCAB_2020_DEFAULT };
                return 0;
        }
        if (streq(uri, URI_07) || streq(uri, "https://json-schema.org/draft-07/schema")) {
                *ret = (Dialect){ JSON_SCHEMA_DRAFT_07, 0 };
                return 0;
        }
        d = map_gets(&c->dialects, uri);
        if (d) {
                *ret = *d;
                return 0;
        }
        meta = fetch_document(c, uri, &r);
        if (!meta) {
                if (r == -ENOENT)
                        return cfail(c, -EOPNOTSUPP, "$schema '%s' at %s is not a supported dialect", value, WHERE(sc));
                return r;
        }
        if (!json_is_object(meta))
                return cfail(c, -EINVAL, "meta-schema '%s' is not an object", uri);
        v = json_object_get(meta, "$schema");
        if (!json_is_string(v))
                return cfail(c, -EOPNOTSUPP, "meta-schema '%s' names no dialect", uri);
        {
                _cleanup_free_ char *mv = strdup(json_string_value(v));
                if (!mv)
                        return -ENOMEM;
                strip_empty_fragment(mv);
                if (streq(mv, URI_07)) {
                        *ret = (Dialect){ JSON_SCHEMA_DRAFT_07, 0 };
                        goto store;
                }
                if (!streq(mv, URI_2020))
                        return cfail(c, -EOPNOTSUPP, "meta-schema '%s' uses the unsupported dialect '%s'", uri, mv);
        }
        *ret = (Dialect){ JSON_SCHEMA_DRAFT_2020_12, VOCAB_2020_DEFAULT };
        vocab = json_object_get(meta, "$vocabulary");
        if (vocab) {
                const char *k;
                json_t *on;
                if (!json_is_object(vocab))
                        return cfail(c, -EINVAL, "$vocabulary of '%s' is not an object", uri);
                ret->vocab = 0;
                json_object_foreach(vocab, k, on) {
                        unsigned bit = 0;
                        for (size_t i = 0; i < ELEMENTSOF(vocabularies); i++)
                                if (streq(vocabularies[i].uri, k))
                                        bit = vocabularies[i].bit;
                        if (!json_is_boolean(on))
                                return cfail(c, -EINVAL, "$vocabulary of '%s' has a non-boolean value", uri);
                        if (bit)
                                ret->vocab |= bit;
                        else if (json_is_true(on))
                                return cfail(c, -EOPNOTSUPP, "required vocabulary '%s' of '%s' is not supported", k,
                                             uri);
                }
        }
store:
        d = arena_alloc(&c->s->arena, sizeof(*d));
        if (!d)
                return -ENOMEM;
        *d = *ret;
        return map_puts(&c->dialects, uri, d);
}

/* `$schema` first: it decides what every other keyword of the schema means. */
static int compile_dialect(Compiler *c, json_t *json, Scope *sc, Node *n)
{
        json_t *v = json_object_get(json, "$schema");
        Dialect d;
        int r;

        if (!v)
                return 0;
        if (!json_is_string(v))
                return cfail(c, -EINVAL, "keyword '$schema' at %s must be a string", WHERE(sc));
        r = dialect_from_meta(c, json_string_value(v), sc, &d);
        if (r < 0)
                return r;
        sc->dialect = d.dialect;
        sc->vocab = d.vocab;
        n->dialect = sc->dialect;
        return 0;
}

/*
 * compile_schema(): the Node for `json` (a schema object or boolean) at
 * `location`, inheriting from `parent`. Return: the node, or NULL and *ret_r.
 */
Node *compile_schema(Compiler *c, json_t *json, const Scope *parent, const char *location, int *ret_r)
{
        Scope sc = *parent;
        Node *n;
        int r;

        sc.location = location;
        sc.depth = parent->depth + 1;
        n = map_get(&c->nodes, &json, sizeof(json));
        if (n)
                return n;
        if (sc.depth > c->limits->max_schema_depth) {
                *ret_r = cfail(c, -E2BIG, "schema at %s is nested deeper than %u", WHERE(&sc),
                               c->limits->max_schema_depth);
                return NULL;
        }
        if (++c->n_nodes > c->limits->max_schema_nodes) {
                *ret_r = cfail(c, -E2BIG, "schema has more than %zu subschemas", c->limits->max_schema_nodes);
                return NULL;
        }
        n = arena_alloc(&c->s->arena, sizeof(Node));
        if (!n) {
                *ret_r = -ENOMEM;
                return NULL;
        }
        n->json = json;
        n->location = location;
        n->doc_uri = sc.doc_uri;
        n->resource = sc.resource;
        n->dialect = sc.dialect;
        r = map_put(&c->nodes, &json, sizeof(json), n);
        if (r < 0) {
                *ret_r = r;
                return NULL;
        }

        if (json_is_boolean(json)) {
                n->is_bool = true;
                n->bool_value = json_is_true(json);
                return n;
        }
        if (!json_is_object(json)) {
                *ret_r = cfail(c, -EINVAL, "schema at %s must be an object or a boolean", WHERE(&sc));
                return NULL;
        }

        /* the dialect, then the identifiers, then every other keyword */
        r = compile_dialect(c, json, &sc, n);
        if (r >= 0)
                r = compile_identifiers(c, json, &sc, n);
        if (r >= 0)
                r = compile_keywords(c, n, &sc, json);
        if (r < 0) {
                *ret_r = r;
                return NULL;
        }
        if (sc.dialect == JSON_SCHEMA_DRAFT_07 && json_object_get(json, "$ref"))
                n->ref_only = true;
        /* minContains/maxContains only mean something next to contains */
        if (!n->contains)
                n->has &= ~(HAS_MIN_CONTAINS | HAS_MAX_CONTAINS);
        return n;
}

/* Compiles a whole document retrieved from `uri`. */
Node *compile_document(Compiler *c, json_t *doc, const char *uri, const char *doc_uri, int *ret_r)
{
        Scope sc = {
                .doc_uri = doc_uri,
                .location = "",
                .dialect = c->opts->default_dialect,
                .vocab = VOCAB_2020_DEFAULT,
        };
        Node *root = map_get(&c->nodes, &doc, sizeof(doc));
        int r;

        if (root) {
                /* compiled already, under another name */
                r = map_puts(&c->resources, uri, root);
                if (r < 0) {
                        *ret_r = r;
                        return NULL;
                }
                return root;
        }
        sc.resource = new_resource(c, uri, NULL, &sc, &r);
        if (!sc.resource) {
                *ret_r = r;
                return NULL;
        }
        root = compile_schema(c, doc, &sc, "", ret_r);
        if (!root)
                return NULL;
        /* the retrieval URI names the root too */
        r = map_puts(&c->resources, uri, root);
        if (r < 0) {
                *ret_r = r;
                return NULL;
        }
        return root;
}

static void limits_fill(JsonSchemaLimits *l, const JsonSchemaLimits *in)
{
        *l = in ? *in : (JsonSchemaLimits){};
#define DEF(f, d)      \
        if (l->f == 0) \
                l->f = (d);
        DEF(max_schema_nodes, JSON_SCHEMA_DEFAULT_MAX_SCHEMA_NODES);
        DEF(max_schema_depth, JSON_SCHEMA_DEFAULT_MAX_SCHEMA_DEPTH);
        DEF(max_documents, JSON_SCHEMA_DEFAULT_MAX_DOCUMENTS);
        DEF(max_pattern_length, JSON_SCHEMA_DEFAULT_MAX_PATTERN_LENGTH);
        DEF(max_depth, JSON_SCHEMA_DEFAULT_MAX_DEPTH);
        DEF(max_string_length, JSON_SCHEMA_DEFAULT_MAX_STRING_LENGTH);
        DEF(max_array_size, JSON_SCHEMA_DEFAULT_MAX_ARRAY_SIZE);
        DEF(max_object_size, JSON_SCHEMA_DEFAULT_MAX_OBJECT_SIZE);
        DEF(max_steps, JSON_SCHEMA_DEFAULT_MAX_STEPS);
        DEF(regex_match_limit, JSON_SCHEMA_DEFAULT_REGEX_MATCH_LIMIT);
        DEF(regex_depth_limit, JSON_SCHEMA_DEFAULT_REGEX_DEPTH_LIMIT);
#undef DEF
        l->max_schema_depth = MIN(l->max_schema_depth, JSON_SCHEMA_CAP_MAX_SCHEMA_DEPTH);
        l->max_depth = MIN(l->max_depth, JSON_SCHEMA_CAP_MAX_DEPTH);
}

JsonSchema *json_schema_free(JsonSchema *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_regexes; i++)
                ecmaregex_free(s->regexes[i]);
        free(s->regexes);
        for (size_t i = 0; i < s->n_docs; i++)
                json_decref(s->docs[i]);
        free(s->docs);
        arena_done(&s->arena);
        free(s);
        return NULL;
}

int json_schema_compile(JsonSchema **ret, json_t *schema, const char *base_uri, const JsonSchemaOptions *opts,
                        char **ret_error)
{
        static const JsonSchemaOptions default_opts = {};
        _cleanup_(json_schema_freep) JsonSchema *s = NULL;
        _cleanup_free_ char *base = NULL;
        Compiler c = {};
        int r;

        if (!ret || !schema)
                return -EINVAL;
        if (!opts)
                opts = &default_opts;
        if (opts->default_dialect != JSON_SCHEMA_DRAFT_2020_12 && opts->default_dialect != JSON_SCHEMA_DRAFT_07)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        limits_fill(&s->limits, &opts->limits);
        c.s = s;
        c.opts = opts;
        c.limits = &s->limits;

        base = strdup(strempty(base_uri));
        if (!base)
                return -ENOMEM;
        (void)uri_split_fragment(base);
        r = hold_doc(s, json_incref(schema));
        if (r < 0) {
                json_decref(schema);
                goto finish;
        }
        r = map_puts(&c.loaded, base, schema);
        if (r < 0)
                goto finish;
        s->root = compile_document(&c, schema, base, "", &r);
        if (!s->root)
                goto finish;
        s->dialect = s->root->dialect;
        for (size_t i = 0; i < c.n_pending; i++) {
                /* by value: resolving may load documents that grow c.pending */
                PendingRef ref = c.pending[i];
                r = resolve_pending(&c, &ref);
                if (r < 0)
                        goto finish;
        }
        r = 0;
finish:
        for (size_t i = 0; i < c.n_pending; i++)
                free(c.pending[i].uri);
        free(c.pending);
        map_done(&c.nodes);
        map_done(&c.resources);
        map_done(&c.anchors);
        map_done(&c.dyn_names);
        map_done(&c.loaded);
        map_done(&c.dialects);
        if (r < 0) {
                if (ret_error) {
                        if (!c.error && r == -ENOMEM)
                                c.error = strdup("out of memory");
                        *ret_error = TAKE_PTR(c.error);
                }
                free(c.error);
                return r;
        }
        free(c.error);
        *ret = TAKE_PTR(s);
        return 0;
}

JsonSchemaDialect json_schema_dialect(const JsonSchema *s)
{
        return s->dialect;
}

unsigned json_schema_format_from_name(const char *name)
{
        return jsonformat_from_name(name);
}
