/* jsonschema.c: JSON Schema 2020-12 / draft-07 compiler and validator on jansson */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "validate/ecmaregex.h"
#include "validate/jsonformat.h"
#include "validate/jsonschema.h"
#include "validate/metaschema.h"

/*
 * How it works
 *
 * Compiling walks every document once and turns each subschema (each
 * object or boolean in a schema position) into a Node: keyword values are
 * checked and converted (types to a bit set, numbers to exact forms,
 * patterns to JIT-compiled PCRE2, property names to a sorted table), and
 * `$id`, `$anchor` and `$dynamicAnchor` are recorded. `$ref` and
 * `$dynamicRef` are resolved afterwards, when every identifier is known,
 * loading further documents through the resolver as needed; after that the
 * compiled form holds direct Node pointers and the request path never looks
 * at a URI again.
 *
 * Validating walks Nodes against the instance. `unevaluatedProperties` and
 * `unevaluatedItems` need to know what the other keywords evaluated: a Node
 * that has one of them gives its in-place applicators (`$ref`, `allOf`,
 * `if`, ...) a bit set over the instance's members, and those mark what they
 * evaluate; the bit sets of failed branches are dropped. Nothing is
 * collected when no `unevaluated*` keyword asks for it. `$dynamicRef` walks
 * the dynamic scope, the stack of schema resources entered so far.
 */

/* ---- arena: every compiled object lives here and is freed at once ---- */

typedef struct ArenaChunk {
        struct ArenaChunk *next;
        size_t used, size;
        max_align_t data[];
} ArenaChunk;

typedef struct Arena {
        ArenaChunk *head;
} Arena;

static void *arena_alloc(Arena *a, size_t size)
{
        ArenaChunk *c = a->head;
        void *p;

        size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
        if (!c || c->size - c->used < size) {
                size_t chunk = MAX(size, (size_t)KIB(16));
                c = malloc(sizeof(ArenaChunk) + chunk);
                if (!c)
                        return NULL;
                c->size = chunk;
                c->used = 0;
                c->next = a->head;
                a->head = c;
        }
        p = (char *)c->data + c->used;
        c->used += size;
        memset(p, 0, size);
        return p;
}

static char *arena_strndup(Arena *a, const char *s, size_t len)
{
        char *p = arena_alloc(a, len + 1);
        if (p) {
                memcpy(p, s, len);
                p[len] = 0;
        }
        return p;
}

static char *arena_strdup(Arena *a, const char *s)
{
        return arena_strndup(a, s, strlen(s));
}

static void arena_done(Arena *a)
{
        while (a->head) {
                ArenaChunk *c = a->head;
                a->head = c->next;
                free(c);
        }
}

/* ---- a small hash map (compile time only) ---- */

typedef struct MapEntry {
        char *key;
        size_t len;
        uint64_t hash;
        void *value;
} MapEntry;

typedef struct Map {
        MapEntry *slots;
        size_t n, cap;
} Map;

static uint64_t hash_bytes(const void *p, size_t len)
{
        const unsigned char *s = p;
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < len; i++) {
                h ^= s[i];
                h *= 1099511628211ull;
        }
        return h;
}

static MapEntry *map_slot(const Map *m, const void *key, size_t len, uint64_t h)
{
        size_t i = h & (m->cap - 1);
        for (;;) {
                MapEntry *e = &m->slots[i];
                if (!e->key || (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0))
                        return e;
                i = (i + 1) & (m->cap - 1);
        }
}

static void *map_get(const Map *m, const void *key, size_t len)
{
        if (m->cap == 0)
                return NULL;
        MapEntry *e = map_slot(m, key, len, hash_bytes(key, len));
        return e->key ? e->value : NULL;
}

static void *map_gets(const Map *m, const char *key)
{
        return map_get(m, key, strlen(key));
}

/* map_put(): insert or replace; the key is copied. Return: 0 or -ENOMEM. */
static int map_put(Map *m, const void *key, size_t len, void *value)
{
        uint64_t h = hash_bytes(key, len);
        MapEntry *e;

        if ((m->n + 1) * 2 > m->cap) {
                size_t cap = m->cap ? m->cap * 2 : 64;
                MapEntry *slots = calloc(cap, sizeof(MapEntry)), *old = m->slots;
                size_t old_cap = m->cap;
                if (!slots)
                        return -ENOMEM;
                m->slots = slots;
                m->cap = cap;
                for (size_t i = 0; i < old_cap; i++)
                        if (old[i].key)
                                *map_slot(m, old[i].key, old[i].len, old[i].hash) = old[i];
                free(old);
        }
        e = map_slot(m, key, len, h);
        if (!e->key) {
                e->key = malloc(len + 1);
                if (!e->key)
                        return -ENOMEM;
                memcpy(e->key, key, len);
                e->key[len] = 0;
                e->len = len;
                e->hash = h;
                m->n++;
        }
        e->value = value;
        return 0;
}

static int map_puts(Map *m, const char *key, void *value)
{
        return map_put(m, key, strlen(key), value);
}

static void map_done(Map *m)
{
        for (size_t i = 0; i < m->cap; i++)
                free(m->slots[i].key);
        free(m->slots);
        *m = (Map){};
}

/* ---- URIs (RFC 3986 reference resolution) ---- */

typedef struct UriParts {
        const char *scheme, *auth, *path, *query, *frag;
        size_t scheme_len, auth_len, path_len, query_len, frag_len;
        bool has_scheme, has_auth, has_query, has_frag;
} UriParts;

static void uri_parse(const char *s, UriParts *u)
{
        const char *p = s;

        *u = (UriParts){};
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
                const char *q = p + 1;
                while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '+' ||
                       *q == '-' || *q == '.')
                        q++;
                if (*q == ':') {
                        u->has_scheme = true;
                        u->scheme = p;
                        u->scheme_len = q - p;
                        p = q + 1;
                }
        }
        if (p[0] == '/' && p[1] == '/') {
                u->has_auth = true;
                u->auth = p + 2;
                u->auth_len = strcspn(u->auth, "/?#");
                p = u->auth + u->auth_len;
        }
        u->path = p;
        u->path_len = strcspn(p, "?#");
        p += u->path_len;
        if (*p == '?') {
                u->has_query = true;
                u->query = p + 1;
                u->query_len = strcspn(u->query, "#");
                p = u->query + u->query_len;
        }
        if (*p == '#') {
                u->has_frag = true;
                u->frag = p + 1;
                u->frag_len = strlen(u->frag);
        }
}

/* RFC 3986 5.2.4, into `out` (room for len+1 bytes). */
static void remove_dot_segments(const char *in, size_t len, char *out)
{
        size_t o = 0, i = 0;

        while (i < len) {
                if (len - i >= 3 && strneq(in + i, "../", 3))
                        i += 3;
                else if (len - i >= 2 && strneq(in + i, "./", 2))
                        i += 2;
                else if (len - i >= 3 && strneq(in + i, "/./", 3))
                        i += 2;
                else if (len - i == 2 && strneq(in + i, "/.", 2)) {
                        out[o++] = '/';
                        i += 2;
                } else if ((len - i >= 4 && strneq(in + i, "/../", 4)) || (len - i == 3 && strneq(in + i, "/..", 3))) {
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                        if (len - i == 3) {
                                out[o++] = '/';
                                i += 3;
                        } else
                                i += 3;
                } else if ((len - i == 1 && in[i] == '.') || (len - i == 2 && strneq(in + i, "..", 2)))
                        i = len;
                else {
                        if (in[i] == '/')
                                out[o++] = in[i++];
                        while (i < len && in[i] != '/')
                                out[o++] = in[i++];
                }
        }
        out[o] = 0;
}

/* uri_resolve(): `ref` against `base`. Return: malloc()ed absolute reference, or NULL (ENOMEM). */
static char *uri_resolve(const char *base, const char *ref)
{
        UriParts b, r;
        const char *scheme = NULL, *auth = NULL, *query = NULL;
        size_t scheme_len = 0, auth_len = 0, query_len = 0;
        bool has_auth = false, has_query = false;
        _cleanup_free_ char *merged = NULL, *path = NULL;
        size_t mlen;
        char *out;

        uri_parse(base, &b);
        uri_parse(ref, &r);
        merged = malloc(strlen(base) + strlen(ref) + 2);
        path = malloc(strlen(base) + strlen(ref) + 2);
        if (!merged || !path)
                return NULL;

        if (r.has_scheme) {
                scheme = r.scheme, scheme_len = r.scheme_len;
                has_auth = r.has_auth, auth = r.auth, auth_len = r.auth_len;
                remove_dot_segments(r.path, r.path_len, path);
                has_query = r.has_query, query = r.query, query_len = r.query_len;
        } else {
                if (r.has_auth) {
                        has_auth = true, auth = r.auth, auth_len = r.auth_len;
                        remove_dot_segments(r.path, r.path_len, path);
                        has_query = r.has_query, query = r.query, query_len = r.query_len;
                } else {
                        if (r.path_len == 0) {
                                memcpy(path, b.path, b.path_len);
                                path[b.path_len] = 0;
                                if (r.has_query)
                                        has_query = true, query = r.query, query_len = r.query_len;
                                else
                                        has_query = b.has_query, query = b.query, query_len = b.query_len;
                        } else {
                                if (r.path[0] == '/') {
                                        remove_dot_segments(r.path, r.path_len, path);
                                } else {
                                        if (b.has_auth && b.path_len == 0) {
                                                merged[0] = '/';
                                                mlen = 1;
                                        } else {
                                                mlen = b.path_len;
                                                while (mlen > 0 && b.path[mlen - 1] != '/')
                                                        mlen--;
                                                memcpy(merged, b.path, mlen);
                                        }
                                        memcpy(merged + mlen, r.path, r.path_len);
                                        mlen += r.path_len;
                                        remove_dot_segments(merged, mlen, path);
                                }
                                has_query = r.has_query, query = r.query, query_len = r.query_len;
                        }
                        has_auth = b.has_auth, auth = b.auth, auth_len = b.auth_len;
                }
                if (b.has_scheme)
                        scheme = b.scheme, scheme_len = b.scheme_len;
        }
        if (asprintf(&out, "%.*s%s%s%.*s%s%s%.*s%s%.*s", (int)scheme_len, scheme ? scheme : "", scheme ? ":" : "",
                     has_auth ? "//" : "", (int)auth_len, auth ? auth : "", path, has_query ? "?" : "", (int)query_len,
                     query ? query : "", r.has_frag ? "#" : "", (int)r.frag_len, r.has_frag ? r.frag : "") < 0)
                return NULL;
        return out;
}

/* Splits "doc#frag" in place: returns the fragment (NULL when none) and cuts `uri` at '#'. */
static char *uri_split_fragment(char *uri)
{
        char *h = strchr(uri, '#');
        if (!h)
                return NULL;
        *h = 0;
        return h + 1;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Percent-decodes in place. Return: new length, or -EINVAL. */
static ssize_t percent_decode(char *s, size_t len)
{
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '%') {
                        int h, l;
                        if (i + 2 >= len)
                                return -EINVAL;
                        h = hexval(s[i + 1]);
                        l = hexval(s[i + 2]);
                        if (h < 0 || l < 0)
                                return -EINVAL;
                        s[o++] = (char)(h * 16 + l);
                        i += 2;
                } else
                        s[o++] = s[i];
        }
        s[o] = 0;
        return (ssize_t)o;
}

/* ---- compiled form ---- */

typedef struct Node Node;

typedef struct DynAnchor {
        const char *name; /* interned: compared by pointer */
        Node *node;
        struct DynAnchor *next;
} DynAnchor;

typedef struct Resource {
        const char *uri;
        DynAnchor *dynamic_anchors;
} Resource;

typedef struct Str {
        const char *s;
        size_t len;
} Str;

typedef struct PropEntry {
        Str name;
        Node *node;
} PropEntry;

typedef struct DepRequired {
        Str name;
        Str *required;
        size_t n_required;
} DepRequired;

typedef struct PatternProp {
        EcmaRegex *re;
        const char *source;
        Node *node;
} PatternProp;

/* An exact decimal: value = mant * 10^exp */
typedef struct Decimal {
        uint64_t mant;
        int exp;
} Decimal;

enum {
        T_NULL = 1 << 0,
        T_BOOLEAN = 1 << 1,
        T_OBJECT = 1 << 2,
        T_ARRAY = 1 << 3,
        T_NUMBER = 1 << 4,
        T_STRING = 1 << 5,
        T_INTEGER = 1 << 6,
};

enum {
        HAS_MULTIPLE_OF = 1 << 0,
        HAS_MINIMUM = 1 << 1,
        HAS_MAXIMUM = 1 << 2,
        HAS_EXCLUSIVE_MINIMUM = 1 << 3,
        HAS_EXCLUSIVE_MAXIMUM = 1 << 4,
        HAS_MIN_LENGTH = 1 << 5,
        HAS_MAX_LENGTH = 1 << 6,
        HAS_MIN_ITEMS = 1 << 7,
        HAS_MAX_ITEMS = 1 << 8,
        HAS_MIN_PROPERTIES = 1 << 9,
        HAS_MAX_PROPERTIES = 1 << 10,
        HAS_MIN_CONTAINS = 1 << 11,
        HAS_MAX_CONTAINS = 1 << 12,
        HAS_UNIQUE_ITEMS = 1 << 13,
        HAS_FORMAT = 1 << 14,
};

struct Node {
        bool is_bool, bool_value;
        bool ref_only; /* draft-07: `$ref` hides its siblings */
        uint8_t dialect;
        uint8_t types; /* T_* bits, 0 = no `type` */
        uint32_t has;  /* HAS_* bits */
        const Resource *resource;
        const char *doc_uri;  /* "" for the root document */
        const char *location; /* JSON pointer inside its document */
        json_t *json;         /* borrowed from a held document */

        Node *ref;
        Node *dynref;
        const char *dynref_anchor; /* interned; NULL when it acts as a plain $ref */

        json_t *const_value; /* borrowed */
        json_t *enum_values; /* borrowed */
        json_t *multiple_of_json;
        Decimal multiple_of;
        long double minimum, maximum, exclusive_minimum, exclusive_maximum;
        json_t *minimum_json, *maximum_json, *exclusive_minimum_json, *exclusive_maximum_json;
        size_t min_length, max_length, min_items, max_items, min_properties, max_properties;
        size_t min_contains, max_contains;
        EcmaRegex *pattern;
        const char *pattern_source;
        unsigned format; /* JsonSchemaFormat bit when asserted */
        const char *format_name;

        Str *required;
        size_t n_required;
        DepRequired *dep_required;
        size_t n_dep_required;
        const char *dep_required_kw;
        PropEntry *dep_schemas;
        size_t n_dep_schemas;
        const char *dep_schemas_kw;

        PropEntry *properties; /* sorted by (len, bytes) */
        size_t n_properties;
        PatternProp *pattern_props;
        size_t n_pattern_props;
        Node *additional_properties;
        Node *property_names;
        Node *unevaluated_properties;

        Node **prefix_items;
        size_t n_prefix_items;
        Node *items;
        const char *items_kw; /* "items" or "additionalItems" */
        Node *contains;
        Node *unevaluated_items;

        Node **all_of, **any_of, **one_of;
        size_t n_all_of, n_any_of, n_one_of;
        Node *not_;
        Node *if_, *then_, *else_;
};

struct JsonSchema {
        Arena arena;
        Node *root;
        json_t **docs;
        size_t n_docs, cap_docs;
        EcmaRegex **regexes;
        size_t n_regexes, cap_regexes;
        JsonSchemaLimits limits;
        JsonSchemaDialect dialect;
};

/* ---- compiler ---- */

enum {
        VOCAB_CORE = 1 << 0,
        VOCAB_APPLICATOR = 1 << 1,
        VOCAB_UNEVALUATED = 1 << 2,
        VOCAB_VALIDATION = 1 << 3,
        VOCAB_META_DATA = 1 << 4,
        VOCAB_FORMAT_ANNOTATION = 1 << 5,
        VOCAB_FORMAT_ASSERTION = 1 << 6,
        VOCAB_CONTENT = 1 << 7,
        VOCAB_2020_DEFAULT = VOCAB_CORE | VOCAB_APPLICATOR | VOCAB_UNEVALUATED | VOCAB_VALIDATION | VOCAB_META_DATA |
                             VOCAB_FORMAT_ANNOTATION | VOCAB_CONTENT,
};

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

typedef enum KeywordId {
        KW_SCHEMA,
        KW_ID,
        KW_ANCHOR,
        KW_DYNAMIC_ANCHOR,
        KW_REF,
        KW_DYNAMIC_REF,
        KW_VOCABULARY,
        KW_DEFS,
        KW_ANNOTATION, /* no effect on validation */
        KW_TYPE,
        KW_ENUM,
        KW_CONST,
        KW_MULTIPLE_OF,
        KW_MAXIMUM,
        KW_EXCLUSIVE_MAXIMUM,
        KW_MINIMUM,
        KW_EXCLUSIVE_MINIMUM,
        KW_MAX_LENGTH,
        KW_MIN_LENGTH,
        KW_PATTERN,
        KW_MAX_ITEMS,
        KW_MIN_ITEMS,
        KW_UNIQUE_ITEMS,
        KW_MAX_CONTAINS,
        KW_MIN_CONTAINS,
        KW_MAX_PROPERTIES,
        KW_MIN_PROPERTIES,
        KW_REQUIRED,
        KW_DEPENDENT_REQUIRED,
        KW_DEPENDENCIES,
        KW_FORMAT,
        KW_PREFIX_ITEMS,
        KW_ITEMS,
        KW_ADDITIONAL_ITEMS,
        KW_CONTAINS,
        KW_ADDITIONAL_PROPERTIES,
        KW_PROPERTIES,
        KW_PATTERN_PROPERTIES,
        KW_DEPENDENT_SCHEMAS,
        KW_PROPERTY_NAMES,
        KW_IF,
        KW_THEN,
        KW_ELSE,
        KW_ALL_OF,
        KW_ANY_OF,
        KW_ONE_OF,
        KW_NOT,
        KW_UNEVALUATED_ITEMS,
        KW_UNEVALUATED_PROPERTIES,
        KW_CONTENT_SCHEMA,
} KeywordId;

#define D2020 1
#define D07 2

static const struct KeywordDef {
        const char *name;
        KeywordId id;
        uint8_t dialects;
        uint8_t vocab; /* 2020-12 vocabulary (any of these bits) */
} keywords[] = {
        { "$schema", KW_SCHEMA, D2020 | D07, VOCAB_CORE },
        { "$id", KW_ID, D2020 | D07, VOCAB_CORE },
        { "$anchor", KW_ANCHOR, D2020, VOCAB_CORE },
        { "$dynamicAnchor", KW_DYNAMIC_ANCHOR, D2020, VOCAB_CORE },
        { "$ref", KW_REF, D2020 | D07, VOCAB_CORE },
        { "$dynamicRef", KW_DYNAMIC_REF, D2020, VOCAB_CORE },
        { "$vocabulary", KW_VOCABULARY, D2020, VOCAB_CORE },
        { "$comment", KW_ANNOTATION, D2020 | D07, VOCAB_CORE },
        { "$defs", KW_DEFS, D2020, VOCAB_CORE },
        { "definitions", KW_DEFS, D07, 0 },
        { "title", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA },
        { "description", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA },
        { "default", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA },
        { "deprecated", KW_ANNOTATION, D2020, VOCAB_META_DATA },
        { "readOnly", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA },
        { "writeOnly", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA },
        { "examples", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA },
        { "contentEncoding", KW_ANNOTATION, D2020 | D07, VOCAB_CONTENT },
        { "contentMediaType", KW_ANNOTATION, D2020 | D07, VOCAB_CONTENT },
        { "contentSchema", KW_CONTENT_SCHEMA, D2020, VOCAB_CONTENT },
        { "type", KW_TYPE, D2020 | D07, VOCAB_VALIDATION },
        { "enum", KW_ENUM, D2020 | D07, VOCAB_VALIDATION },
        { "const", KW_CONST, D2020 | D07, VOCAB_VALIDATION },
        { "multipleOf", KW_MULTIPLE_OF, D2020 | D07, VOCAB_VALIDATION },
        { "maximum", KW_MAXIMUM, D2020 | D07, VOCAB_VALIDATION },
        { "exclusiveMaximum", KW_EXCLUSIVE_MAXIMUM, D2020 | D07, VOCAB_VALIDATION },
        { "minimum", KW_MINIMUM, D2020 | D07, VOCAB_VALIDATION },
        { "exclusiveMinimum", KW_EXCLUSIVE_MINIMUM, D2020 | D07, VOCAB_VALIDATION },
        { "maxLength", KW_MAX_LENGTH, D2020 | D07, VOCAB_VALIDATION },
        { "minLength", KW_MIN_LENGTH, D2020 | D07, VOCAB_VALIDATION },
        { "pattern", KW_PATTERN, D2020 | D07, VOCAB_VALIDATION },
        { "maxItems", KW_MAX_ITEMS, D2020 | D07, VOCAB_VALIDATION },
        { "minItems", KW_MIN_ITEMS, D2020 | D07, VOCAB_VALIDATION },
        { "uniqueItems", KW_UNIQUE_ITEMS, D2020 | D07, VOCAB_VALIDATION },
        { "maxContains", KW_MAX_CONTAINS, D2020, VOCAB_VALIDATION },
        { "minContains", KW_MIN_CONTAINS, D2020, VOCAB_VALIDATION },
        { "maxProperties", KW_MAX_PROPERTIES, D2020 | D07, VOCAB_VALIDATION },
        { "minProperties", KW_MIN_PROPERTIES, D2020 | D07, VOCAB_VALIDATION },
        { "required", KW_REQUIRED, D2020 | D07, VOCAB_VALIDATION },
        { "dependentRequired", KW_DEPENDENT_REQUIRED, D2020, VOCAB_VALIDATION },
        /* draft-07's form, kept by the 2020-12 meta-schema for compatibility */
        { "dependencies", KW_DEPENDENCIES, D2020 | D07, VOCAB_APPLICATOR | VOCAB_VALIDATION },
        { "format", KW_FORMAT, D2020 | D07, VOCAB_FORMAT_ANNOTATION | VOCAB_FORMAT_ASSERTION },
        { "prefixItems", KW_PREFIX_ITEMS, D2020, VOCAB_APPLICATOR },
        { "items", KW_ITEMS, D2020 | D07, VOCAB_APPLICATOR },
        { "additionalItems", KW_ADDITIONAL_ITEMS, D07, 0 },
        { "contains", KW_CONTAINS, D2020 | D07, VOCAB_APPLICATOR },
        { "additionalProperties", KW_ADDITIONAL_PROPERTIES, D2020 | D07, VOCAB_APPLICATOR },
        { "properties", KW_PROPERTIES, D2020 | D07, VOCAB_APPLICATOR },
        { "patternProperties", KW_PATTERN_PROPERTIES, D2020 | D07, VOCAB_APPLICATOR },
        { "dependentSchemas", KW_DEPENDENT_SCHEMAS, D2020, VOCAB_APPLICATOR },
        { "propertyNames", KW_PROPERTY_NAMES, D2020 | D07, VOCAB_APPLICATOR },
        { "if", KW_IF, D2020 | D07, VOCAB_APPLICATOR },
        { "then", KW_THEN, D2020 | D07, VOCAB_APPLICATOR },
        { "else", KW_ELSE, D2020 | D07, VOCAB_APPLICATOR },
        { "allOf", KW_ALL_OF, D2020 | D07, VOCAB_APPLICATOR },
        { "anyOf", KW_ANY_OF, D2020 | D07, VOCAB_APPLICATOR },
        { "oneOf", KW_ONE_OF, D2020 | D07, VOCAB_APPLICATOR },
        { "not", KW_NOT, D2020 | D07, VOCAB_APPLICATOR },
        { "unevaluatedItems", KW_UNEVALUATED_ITEMS, D2020, VOCAB_UNEVALUATED },
        { "unevaluatedProperties", KW_UNEVALUATED_PROPERTIES, D2020, VOCAB_UNEVALUATED },
};

static const struct KeywordDef *keyword_find(const char *name, size_t len, uint8_t dialect_bit)
{
        for (size_t i = 0; i < ELEMENTSOF(keywords); i++)
                if ((keywords[i].dialects & dialect_bit) && strlen(keywords[i].name) == len &&
                    memcmp(keywords[i].name, name, len) == 0)
                        return &keywords[i];
        return NULL;
}

/* Where a subschema sits and what it inherits. */
typedef struct Scope {
        Resource *resource;
        const char *doc_uri;
        const char *location;
        uint8_t dialect; /* JsonSchemaDialect */
        uint8_t vocab;
        unsigned depth;
} Scope;

typedef struct Dialect {
        uint8_t dialect;
        uint8_t vocab;
} Dialect;

typedef struct PendingRef {
        Node *node;
        char *uri; /* absolute, malloc()ed */
        bool dynamic;
        const char *location;
} PendingRef;

typedef struct Compiler {
        JsonSchema *s;
        const JsonSchemaOptions *opts;
        JsonSchemaLimits *limits;
        Map nodes;     /* json_t* -> Node* */
        Map resources; /* uri -> Node* (resource root) */
        Map anchors;   /* "uri#name" -> Node* */
        Map dyn_names; /* name -> interned name */
        Map loaded;    /* uri -> json_t* fetched (held in s->docs) */
        Map dialects;  /* meta-schema uri -> Dialect* */
        PendingRef *pending;
        size_t n_pending, cap_pending;
        size_t n_nodes;
        unsigned n_fetched;
        char *error;
} Compiler;

_printf_(3, 4) static int cfail(Compiler *c, int r, const char *fmt, ...)
{
        va_list ap;

        if (!c->error) {
                va_start(ap, fmt);
                if (vasprintf(&c->error, fmt, ap) < 0)
                        c->error = NULL;
                va_end(ap);
        }
        return r;
}

/* "<doc>#<pointer>" for messages, in a static-per-call buffer owned by the caller. */
static const char *where(const Scope *sc, char *buf, size_t size)
{
        snprintf(buf, size, "%s#%s", sc->doc_uri, sc->location);
        return buf;
}

#define WHERE(sc) where((sc), (char[512]){}, 512)

static int hold_doc(JsonSchema *s, json_t *doc)
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

static int hold_regex(JsonSchema *s, EcmaRegex *re)
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

/* JSON pointer of `parent` + "/" + seg (escaped), in the arena. */
static const char *loc_join(Compiler *c, const char *parent, const char *seg, size_t len)
{
        size_t plen = strlen(parent), extra = 0;
        char *out, *o;

        for (size_t i = 0; i < len; i++)
                if (seg[i] == '~' || seg[i] == '/')
                        extra++;
        out = arena_alloc(&c->s->arena, plen + len + extra + 2);
        if (!out)
                return NULL;
        memcpy(out, parent, plen);
        o = out + plen;
        *o++ = '/';
        for (size_t i = 0; i < len; i++) {
                if (seg[i] == '~') {
                        *o++ = '~';
                        *o++ = '0';
                } else if (seg[i] == '/') {
                        *o++ = '~';
                        *o++ = '1';
                } else
                        *o++ = seg[i];
        }
        *o = 0;
        return out;
}

static const char *loc_index(Compiler *c, const char *parent, size_t i)
{
        char tmp[32];
        int n = snprintf(tmp, sizeof(tmp), "%zu", i);
        return loc_join(c, parent, tmp, n);
}

/* strip an empty trailing fragment: "x#" -> "x" */
static void strip_empty_fragment(char *uri)
{
        size_t l = strlen(uri);
        if (l > 0 && uri[l - 1] == '#')
                uri[l - 1] = 0;
}

static json_t *fetch_document(Compiler *c, const char *uri, int *ret_r);

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

static Node *compile_schema(Compiler *c, json_t *json, const Scope *parent, const char *location, int *ret_r);

/* Compiles a subschema of `n` at parent location + seg(s). Return: node, or NULL with *r set. */
static Node *compile_sub(Compiler *c, const Scope *sc, json_t *json, const char *kw, const char *key, size_t key_len,
                         int *r)
{
        const char *loc = loc_join(c, sc->location, kw, strlen(kw));
        if (loc && key)
                loc = loc_join(c, loc, key, key_len);
        if (!loc) {
                *r = -ENOMEM;
                return NULL;
        }
        return compile_schema(c, json, sc, loc, r);
}

static Node *compile_sub_index(Compiler *c, const Scope *sc, json_t *json, const char *kw, size_t i, int *r)
{
        const char *loc = loc_join(c, sc->location, kw, strlen(kw));
        if (loc)
                loc = loc_index(c, loc, i);
        if (!loc) {
                *r = -ENOMEM;
                return NULL;
        }
        return compile_schema(c, json, sc, loc, r);
}

/* Reads a non-negative integer (also 2.0). Return: 0 or -EINVAL. */
static int get_size(json_t *v, size_t *ret)
{
        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                if (i < 0)
                        return -EINVAL;
                *ret = (uint64_t)i > SIZE_MAX ? SIZE_MAX : (size_t)i;
                return 0;
        }
        if (json_is_real(v)) {
                double d = json_real_value(v);
                if (!isfinite(d) || d < 0 || d != floor(d))
                        return -EINVAL;
                *ret = d >= 1.8e19 ? SIZE_MAX : (size_t)d;
                return 0;
        }
        return -EINVAL;
}

static long double number_value(const json_t *v)
{
        return json_is_integer(v) ? (long double)json_integer_value(v) : (long double)json_real_value(v);
}

/* Shortest decimal that reads back as `d` (finite), as mant*10^exp. */
static void decimal_from_double(double d, Decimal *ret)
{
        char buf[40];
        const char *p;
        uint64_t mant = 0;
        int digits = 0, exp;

        d = fabs(d);
        if (d == 0) {
                *ret = (Decimal){ 0, 0 };
                return;
        }
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        for (p = buf; *p && *p != 'e'; p++)
                if (*p >= '0' && *p <= '9') {
                        mant = mant * 10 + (*p - '0');
                        digits++;
                }
        exp = atoi(p + 1) - (digits - 1);
        while (mant != 0 && mant % 10 == 0) {
                mant /= 10;
                exp++;
        }
        *ret = (Decimal){ mant, exp };
}

static void decimal_from_json(const json_t *v, Decimal *ret)
{
        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                uint64_t m = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
                int exp = 0;
                while (m != 0 && m % 10 == 0) {
                        m /= 10;
                        exp++;
                }
                *ret = (Decimal){ m, exp };
        } else
                decimal_from_double(json_real_value(v), ret);
}

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
        return (uint64_t)(((unsigned __int128)a * b) % m);
}

/* Whether x is an integer multiple of m (m > 0), exactly in decimal. */
static bool decimal_is_multiple(const Decimal *x, const Decimal *m)
{
        long e;

        if (x->mant == 0)
                return true;
        e = (long)x->exp - m->exp;
        if (e >= 0) {
                uint64_t r = x->mant % m->mant, p = 1 % m->mant, base = 10 % m->mant;
                for (long k = e; k > 0; k >>= 1) {
                        if (k & 1)
                                p = mulmod(p, base, m->mant);
                        base = mulmod(base, base, m->mant);
                }
                return mulmod(r, p, m->mant) == 0;
        }
        /* x.mant must be divisible by m.mant * 10^-e */
        {
                unsigned __int128 div = m->mant;
                for (long k = 0; k < -e; k++) {
                        div *= 10;
                        if (div > x->mant)
                                return false;
                }
                return x->mant % (uint64_t)div == 0;
        }
}

static int compile_schema_array(Compiler *c, const Scope *sc, json_t *v, const char *kw, Node ***ret, size_t *ret_n)
{
        size_t n;
        Node **arr;
        int r = 0;

        if (!json_is_array(v) || json_array_size(v) == 0)
                return cfail(c, -EINVAL, "keyword '%s' at %s must be a non-empty array of schemas", kw, WHERE(sc));
        n = json_array_size(v);
        arr = arena_alloc(&c->s->arena, n * sizeof(Node *));
        if (!arr)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                arr[i] = compile_sub_index(c, sc, json_array_get(v, i), kw, i, &r);
                if (!arr[i])
                        return r;
        }
        *ret = arr;
        *ret_n = n;
        return 0;
}

static int str_cmp(const Str *a, const Str *b)
{
        if (a->len != b->len)
                return a->len < b->len ? -1 : 1;
        return memcmp(a->s, b->s, a->len);
}

static int prop_cmp(const void *a, const void *b)
{
        return str_cmp(&((const PropEntry *)a)->name, &((const PropEntry *)b)->name);
}

static int compile_schema_map(Compiler *c, const Scope *sc, json_t *v, const char *kw, PropEntry **ret, size_t *ret_n)
{
        const char *key;
        json_t *sub;
        size_t n = 0;
        PropEntry *arr;
        int r = 0;

        if (!json_is_object(v))
                return cfail(c, -EINVAL, "keyword '%s' at %s must be an object of schemas", kw, WHERE(sc));
        arr = arena_alloc(&c->s->arena, MAX(json_object_size(v), 1) * sizeof(PropEntry));
        if (!arr)
                return -ENOMEM;
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                size_t klen = json_object_iter_key_len(it);
                key = json_object_iter_key(it);
                sub = json_object_iter_value(it);
                arr[n].name.s = arena_strndup(&c->s->arena, key, klen);
                arr[n].name.len = klen;
                if (!arr[n].name.s)
                        return -ENOMEM;
                arr[n].node = compile_sub(c, sc, sub, kw, key, klen, &r);
                if (!arr[n].node)
                        return r;
                n++;
        }
        qsort(arr, n, sizeof(PropEntry), prop_cmp);
        *ret = arr;
        *ret_n = n;
        return 0;
}

static int compile_string_array(Compiler *c, const Scope *sc, json_t *v, const char *kw, Str **ret, size_t *ret_n)
{
        size_t n;
        Str *arr;

        if (!json_is_array(v))
                return cfail(c, -EINVAL, "keyword '%s' at %s must be an array of strings", kw, WHERE(sc));
        n = json_array_size(v);
        arr = arena_alloc(&c->s->arena, MAX(n, 1) * sizeof(Str));
        if (!arr)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(v, i);
                if (!json_is_string(e))
                        return cfail(c, -EINVAL, "keyword '%s' at %s must be an array of strings", kw, WHERE(sc));
                arr[i].s = json_string_value(e);
                arr[i].len = json_string_length(e);
                for (size_t j = 0; j < i; j++)
                        if (str_cmp(&arr[i], &arr[j]) == 0)
                                return cfail(c, -EINVAL, "keyword '%s' at %s has duplicate entries", kw, WHERE(sc));
        }
        *ret = arr;
        *ret_n = n;
        return 0;
}

static int compile_regex(Compiler *c, const Scope *sc, const char *kw, const char *src, size_t len, EcmaRegex **ret)
{
        _cleanup_free_ char *reason = NULL;
        EcmaRegex *re = NULL;
        int r;

        if (len > c->limits->max_pattern_length)
                return cfail(c, -E2BIG, "regex in '%s' at %s is longer than %zu bytes", kw, WHERE(sc),
                             c->limits->max_pattern_length);
        r = ecmaregex_new(&re, src, len, c->limits->regex_match_limit, c->limits->regex_depth_limit, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return cfail(c, r, "regex '%.*s' in '%s' at %s is not supported: %s", (int)MIN(len, 200u), src, kw,
                             WHERE(sc), strempty(reason));
        r = hold_regex(c->s, re);
        if (r < 0) {
                ecmaregex_free(re);
                return r;
        }
        *ret = re;
        return 0;
}

static int type_bit(const json_t *v, uint8_t *bits)
{
        static const struct {
                const char *name;
                uint8_t bit;
        } types[] = {
                { "null", T_NULL },     { "boolean", T_BOOLEAN }, { "object", T_OBJECT },   { "array", T_ARRAY },
                { "number", T_NUMBER }, { "string", T_STRING },   { "integer", T_INTEGER },
        };
        if (!json_is_string(v))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (streq(types[i].name, json_string_value(v))) {
                        if (*bits & types[i].bit)
                                return -EINVAL;
                        *bits |= types[i].bit;
                        return 0;
                }
        return -EINVAL;
}

static int add_pending(Compiler *c, Node *n, const Scope *sc, const char *ref, bool dynamic)
{
        char *uri;

        if (c->n_pending == c->cap_pending) {
                size_t cap = c->cap_pending ? c->cap_pending * 2 : 16;
                PendingRef *p = realloc(c->pending, cap * sizeof(PendingRef));
                if (!p)
                        return -ENOMEM;
                c->pending = p;
                c->cap_pending = cap;
        }
        uri = uri_resolve(sc->resource->uri, ref);
        if (!uri)
                return -ENOMEM;
        c->pending[c->n_pending++] = (PendingRef){ n, uri, dynamic, sc->location };
        return 0;
}

static int compile_keyword(Compiler *c, Node *n, const Scope *sc, const struct KeywordDef *kd, json_t *v)
{
        const char *kw = kd->name;
        int r = 0;

        switch (kd->id) {
        case KW_SCHEMA:
        case KW_ID:
        case KW_ANCHOR:
        case KW_DYNAMIC_ANCHOR:
        case KW_VOCABULARY:
        case KW_ANNOTATION:
                return 0; /* handled before, or annotation only */
        case KW_REF:
        case KW_DYNAMIC_REF:
                if (!json_is_string(v))
                        return cfail(c, -EINVAL, "keyword '%s' at %s must be a string", kw, WHERE(sc));
                return add_pending(c, n, sc, json_string_value(v), kd->id == KW_DYNAMIC_REF);
        case KW_DEFS: {
                PropEntry *defs;
                size_t nd;
                return compile_schema_map(c, sc, v, kw, &defs, &nd);
        }
        case KW_CONTENT_SCHEMA:
                return compile_sub(c, sc, v, kw, NULL, 0, &r) ? 0 : r;
        case KW_TYPE:
                if (json_is_array(v)) {
                        size_t i;
                        json_t *e;
                        if (json_array_size(v) == 0)
                                return cfail(c, -EINVAL, "keyword 'type' at %s must not be empty", WHERE(sc));
                        json_array_foreach(v, i, e)
                                if (type_bit(e, &n->types) < 0)
                                        return cfail(c, -EINVAL, "keyword 'type' at %s has an unknown or repeated type",
                                                     WHERE(sc));
                } else if (type_bit(v, &n->types) < 0)
                        return cfail(c, -EINVAL, "keyword 'type' at %s names an unknown type", WHERE(sc));
                return 0;
        case KW_ENUM:
                if (!json_is_array(v))
                        return cfail(c, -EINVAL, "keyword 'enum' at %s must be an array", WHERE(sc));
                n->enum_values = v;
                return 0;
        case KW_CONST:
                n->const_value = v;
                return 0;
        case KW_MULTIPLE_OF:
                if (!json_is_number(v) || number_value(v) <= 0 || (json_is_real(v) && !isfinite(json_real_value(v))))
                        return cfail(c, -EINVAL, "keyword 'multipleOf' at %s must be a number above 0", WHERE(sc));
                decimal_from_json(v, &n->multiple_of);
                n->multiple_of_json = v;
                n->has |= HAS_MULTIPLE_OF;
                return 0;
        case KW_MAXIMUM:
        case KW_EXCLUSIVE_MAXIMUM:
        case KW_MINIMUM:
        case KW_EXCLUSIVE_MINIMUM:
                if (!json_is_number(v))
                        return cfail(c, -EINVAL, "keyword '%s' at %s must be a number", kw, WHERE(sc));
                if (kd->id == KW_MAXIMUM)
                        n->maximum = number_value(v), n->maximum_json = v, n->has |= HAS_MAXIMUM;
                else if (kd->id == KW_EXCLUSIVE_MAXIMUM)
                        n->exclusive_maximum = number_value(v), n->exclusive_maximum_json = v,
                        n->has |= HAS_EXCLUSIVE_MAXIMUM;
                else if (kd->id == KW_MINIMUM)
                        n->minimum = number_value(v), n->minimum_json = v, n->has |= HAS_MINIMUM;
                else
                        n->exclusive_minimum = number_value(v), n->exclusive_minimum_json = v,
                        n->has |= HAS_EXCLUSIVE_MINIMUM;
                return 0;
        case KW_MAX_LENGTH:
        case KW_MIN_LENGTH:
        case KW_MAX_ITEMS:
        case KW_MIN_ITEMS:
        case KW_MAX_CONTAINS:
        case KW_MIN_CONTAINS:
        case KW_MAX_PROPERTIES:
        case KW_MIN_PROPERTIES: {
                static const struct {
                        KeywordId id;
                        size_t off;
                        uint32_t bit;
                } fields[] = {
                        { KW_MAX_LENGTH, offsetof(Node, max_length), HAS_MAX_LENGTH },
                        { KW_MIN_LENGTH, offsetof(Node, min_length), HAS_MIN_LENGTH },
                        { KW_MAX_ITEMS, offsetof(Node, max_items), HAS_MAX_ITEMS },
                        { KW_MIN_ITEMS, offsetof(Node, min_items), HAS_MIN_ITEMS },
                        { KW_MAX_CONTAINS, offsetof(Node, max_contains), HAS_MAX_CONTAINS },
                        { KW_MIN_CONTAINS, offsetof(Node, min_contains), HAS_MIN_CONTAINS },
                        { KW_MAX_PROPERTIES, offsetof(Node, max_properties), HAS_MAX_PROPERTIES },
                        { KW_MIN_PROPERTIES, offsetof(Node, min_properties), HAS_MIN_PROPERTIES },
                };
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        if (fields[i].id == kd->id) {
                                if (get_size(v, (size_t *)((char *)n + fields[i].off)) < 0)
                                        return cfail(c, -EINVAL, "keyword '%s' at %s must be a non-negative integer",
                                                     kw, WHERE(sc));
                                n->has |= fields[i].bit;
                        }
                return 0;
        }
        case KW_PATTERN:
                if (!json_is_string(v))
                        return cfail(c, -EINVAL, "keyword 'pattern' at %s must be a string", WHERE(sc));
                n->pattern_source = json_string_value(v);
                return compile_regex(c, sc, kw, json_string_value(v), json_string_length(v), &n->pattern);
        case KW_UNIQUE_ITEMS:
                if (!json_is_boolean(v))
                        return cfail(c, -EINVAL, "keyword 'uniqueItems' at %s must be a boolean", WHERE(sc));
                if (json_is_true(v))
                        n->has |= HAS_UNIQUE_ITEMS;
                return 0;
        case KW_REQUIRED:
                return compile_string_array(c, sc, v, kw, &n->required, &n->n_required);
        case KW_DEPENDENT_REQUIRED:
        case KW_DEPENDENCIES: {
                const char *key;
                json_t *e;
                size_t nreq = 0, nsch = 0, total;

                if (!json_is_object(v))
                        return cfail(c, -EINVAL, "keyword '%s' at %s must be an object", kw, WHERE(sc));
                total = MAX(json_object_size(v), 1);
                n->dep_required = arena_alloc(&c->s->arena, total * sizeof(DepRequired));
                n->dep_schemas = arena_alloc(&c->s->arena, total * sizeof(PropEntry));
                if (!n->dep_required || !n->dep_schemas)
                        return -ENOMEM;
                for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                        size_t klen = json_object_iter_key_len(it);
                        key = json_object_iter_key(it);
                        e = json_object_iter_value(it);
                        if (json_is_array(e)) {
                                DepRequired *d = &n->dep_required[nreq++];
                                d->name = (Str){ key, klen };
                                r = compile_string_array(c, sc, e, kw, &d->required, &d->n_required);
                                if (r < 0)
                                        return r;
                        } else if (kd->id == KW_DEPENDENCIES) {
                                PropEntry *p = &n->dep_schemas[nsch++];
                                p->name = (Str){ key, klen };
                                p->node = compile_sub(c, sc, e, kw, key, klen, &r);
                                if (!p->node)
                                        return r;
                        } else
                                return cfail(c, -EINVAL, "keyword '%s' at %s must map names to arrays of strings", kw,
                                             WHERE(sc));
                }
                n->n_dep_required = nreq;
                n->dep_required_kw = kw;
                if (nsch > 0) {
                        n->n_dep_schemas = nsch;
                        n->dep_schemas_kw = kw;
                }
                return 0;
        }
        case KW_FORMAT: {
                unsigned bit;
                if (!json_is_string(v))
                        return cfail(c, -EINVAL, "keyword 'format' at %s must be a string", WHERE(sc));
                bit = jsonformat_from_name(json_string_value(v));
                n->format_name = json_string_value(v);
                if (bit && ((c->opts->format_assert_mask & bit) ||
                            (sc->dialect == JSON_SCHEMA_DRAFT_2020_12 && (sc->vocab & VOCAB_FORMAT_ASSERTION)))) {
                        n->format = bit;
                        n->has |= HAS_FORMAT;
                }
                return 0;
        }
        case KW_PREFIX_ITEMS:
                return compile_schema_array(c, sc, v, kw, &n->prefix_items, &n->n_prefix_items);
        case KW_ITEMS:
                if (sc->dialect == JSON_SCHEMA_DRAFT_07 && json_is_array(v)) {
                        /* draft-07 array form: what 2020-12 calls prefixItems (may be empty here) */
                        if (json_array_size(v) == 0)
                                return 0;
                        return compile_schema_array(c, sc, v, kw, &n->prefix_items, &n->n_prefix_items);
                }
                n->items = compile_sub(c, sc, v, kw, NULL, 0, &r);
                n->items_kw = kw;
                return n->items ? 0 : r;
        case KW_ADDITIONAL_ITEMS: {
                /* only applies next to an array-form "items"; compiled either way for $ref targets */
                Node *sub = compile_sub(c, sc, v, kw, NULL, 0, &r);
                json_t *items = json_object_get(n->json, "items");
                if (!sub)
                        return r;
                if (json_is_array(items)) {
                        n->items = sub;
                        n->items_kw = kw;
                }
                return 0;
        }
        case KW_CONTAINS:
                n->contains = compile_sub(c, sc, v, kw, NULL, 0, &r);
                return n->contains ? 0 : r;
        case KW_ADDITIONAL_PROPERTIES:
                n->additional_properties = compile_sub(c, sc, v, kw, NULL, 0, &r);
                return n->additional_properties ? 0 : r;
        case KW_PROPERTIES:
                return compile_schema_map(c, sc, v, kw, &n->properties, &n->n_properties);
        case KW_PATTERN_PROPERTIES: {
                const char *key;
                json_t *sub;
                size_t i = 0;
                if (!json_is_object(v))
                        return cfail(c, -EINVAL, "keyword '%s' at %s must be an object of schemas", kw, WHERE(sc));
                n->pattern_props = arena_alloc(&c->s->arena, MAX(json_object_size(v), 1) * sizeof(PatternProp));
                if (!n->pattern_props)
                        return -ENOMEM;
                for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                        size_t klen = json_object_iter_key_len(it);
                        PatternProp *p = &n->pattern_props[i++];
                        key = json_object_iter_key(it);
                        sub = json_object_iter_value(it);
                        p->source = key;
                        r = compile_regex(c, sc, kw, key, klen, &p->re);
                        if (r < 0)
                                return r;
                        p->node = compile_sub(c, sc, sub, kw, key, klen, &r);
                        if (!p->node)
                                return r;
                }
                n->n_pattern_props = i;
                return 0;
        }
        case KW_DEPENDENT_SCHEMAS:
                n->dep_schemas_kw = kw;
                return compile_schema_map(c, sc, v, kw, &n->dep_schemas, &n->n_dep_schemas);
        case KW_PROPERTY_NAMES:
                n->property_names = compile_sub(c, sc, v, kw, NULL, 0, &r);
                return n->property_names ? 0 : r;
        case KW_IF:
                n->if_ = compile_sub(c, sc, v, kw, NULL, 0, &r);
                return n->if_ ? 0 : r;
        case KW_THEN:
                n->then_ = compile_sub(c, sc, v, kw, NULL, 0, &r);
                return n->then_ ? 0 : r;
        case KW_ELSE:
                n->else_ = compile_sub(c, sc, v, kw, NULL, 0, &r);
                return n->else_ ? 0 : r;
        case KW_ALL_OF:
                return compile_schema_array(c, sc, v, kw, &n->all_of, &n->n_all_of);
        case KW_ANY_OF:
                return compile_schema_array(c, sc, v, kw, &n->any_of, &n->n_any_of);
        case KW_ONE_OF:
                return compile_schema_array(c, sc, v, kw, &n->one_of, &n->n_one_of);
        case KW_NOT:
                n->not_ = compile_sub(c, sc, v, kw, NULL, 0, &r);
                return n->not_ ? 0 : r;
        case KW_UNEVALUATED_ITEMS:
                n->unevaluated_items = compile_sub(c, sc, v, kw, NULL, 0, &r);
                return n->unevaluated_items ? 0 : r;
        case KW_UNEVALUATED_PROPERTIES:
                n->unevaluated_properties = compile_sub(c, sc, v, kw, NULL, 0, &r);
                return n->unevaluated_properties ? 0 : r;
        }
        return cfail(c, -EOPNOTSUPP, "keyword '%s' at %s is not supported", kw, WHERE(sc));
}

static bool is_anchor_name(const char *s)
{
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
                return false;
        for (s++; *s; s++)
                if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
                      *s == '_' || *s == '.'))
                        return false;
        return true;
}

static int register_anchor(Compiler *c, const Resource *res, const char *name, Node *n, const Scope *sc)
{
        _cleanup_free_ char *key = NULL;
        Node *old;

        if (asprintf(&key, "%s#%s", res->uri, name) < 0)
                return -ENOMEM;
        old = map_gets(&c->anchors, key);
        if (old && old != n)
                return cfail(c, -EINVAL, "anchor '%s' at %s is defined twice", name, WHERE(sc));
        return map_puts(&c->anchors, key, n);
}

static Resource *new_resource(Compiler *c, const char *uri, Node *root, const Scope *sc, int *r)
{
        Resource *res;
        Node *old = map_gets(&c->resources, uri);

        if (old && old != root) {
                *r = cfail(c, -EINVAL, "$id '%s' at %s identifies two schemas", uri, WHERE(sc));
                return NULL;
        }
        res = arena_alloc(&c->s->arena, sizeof(*res));
        if (!res || !(res->uri = arena_strdup(&c->s->arena, uri))) {
                *r = -ENOMEM;
                return NULL;
        }
        *r = map_puts(&c->resources, uri, root);
        return *r < 0 ? NULL : res;
}

/*
 * compile_schema(): the Node for `json` (a schema object or boolean) at
 * `location`, inheriting from `parent`. Return: the node, or NULL and *ret_r.
 */
static Node *compile_schema(Compiler *c, json_t *json, const Scope *parent, const char *location, int *ret_r)
{
        Scope sc = *parent;
        Node *n;
        json_t *v;
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

        /* dialect first: it decides what every other keyword means */
        v = json_object_get(json, "$schema");
        if (v) {
                Dialect d;
                if (!json_is_string(v)) {
                        *ret_r = cfail(c, -EINVAL, "keyword '$schema' at %s must be a string", WHERE(&sc));
                        return NULL;
                }
                r = dialect_from_meta(c, json_string_value(v), &sc, &d);
                if (r < 0) {
                        *ret_r = r;
                        return NULL;
                }
                sc.dialect = d.dialect;
                sc.vocab = d.vocab;
                n->dialect = sc.dialect;
        }

        /* then the identifiers */
        v = json_object_get(json, "$id");
        if (v && !(sc.dialect == JSON_SCHEMA_DRAFT_07 && json_object_get(json, "$ref"))) {
                _cleanup_free_ char *uri = NULL;
                char *frag;
                if (!json_is_string(v)) {
                        *ret_r = cfail(c, -EINVAL, "keyword '$id' at %s must be a string", WHERE(&sc));
                        return NULL;
                }
                uri = uri_resolve(sc.resource->uri, json_string_value(v));
                if (!uri) {
                        *ret_r = -ENOMEM;
                        return NULL;
                }
                frag = uri_split_fragment(uri);
                if (frag && *frag && sc.dialect != JSON_SCHEMA_DRAFT_07) {
                        *ret_r = cfail(c, -EINVAL, "$id '%s' at %s must not have a fragment", json_string_value(v),
                                       WHERE(&sc));
                        return NULL;
                }
                if (json_string_value(v)[0] != '#') {
                        sc.resource = new_resource(c, uri, n, &sc, &r);
                        if (!sc.resource) {
                                *ret_r = r;
                                return NULL;
                        }
                        n->resource = sc.resource;
                }
                if (frag && *frag) {
                        r = register_anchor(c, sc.resource, frag, n, &sc);
                        if (r < 0) {
                                *ret_r = r;
                                return NULL;
                        }
                }
        }
        if (sc.dialect == JSON_SCHEMA_DRAFT_2020_12 && (sc.vocab & VOCAB_CORE)) {
                static const char *const anchor_kws[] = { "$anchor", "$dynamicAnchor" };
                for (size_t i = 0; i < ELEMENTSOF(anchor_kws); i++) {
                        v = json_object_get(json, anchor_kws[i]);
                        if (!v)
                                continue;
                        if (!json_is_string(v) || !is_anchor_name(json_string_value(v))) {
                                *ret_r = cfail(c, -EINVAL, "keyword '%s' at %s must be a plain name", anchor_kws[i],
                                               WHERE(&sc));
                                return NULL;
                        }
                        r = register_anchor(c, sc.resource, json_string_value(v), n, &sc);
                        if (r < 0) {
                                *ret_r = r;
                                return NULL;
                        }
                        if (i == 1) {
                                const char *name = map_gets(&c->dyn_names, json_string_value(v));
                                DynAnchor *d = arena_alloc(&c->s->arena, sizeof(*d));
                                if (!d) {
                                        *ret_r = -ENOMEM;
                                        return NULL;
                                }
                                if (!name) {
                                        name = arena_strdup(&c->s->arena, json_string_value(v));
                                        if (!name || map_puts(&c->dyn_names, name, (void *)name) < 0) {
                                                *ret_r = -ENOMEM;
                                                return NULL;
                                        }
                                }
                                d->name = name;
                                d->node = n;
                                d->next = sc.resource->dynamic_anchors;
                                sc.resource->dynamic_anchors = d;
                        }
                }
        }

        /* every keyword must be known; those of a vocabulary turned off are skipped */
        for (void *it = json_object_iter(json); it; it = json_object_iter_next(json, it)) {
                const char *key = json_object_iter_key(it);
                size_t klen = json_object_iter_key_len(it);
                uint8_t dbit = sc.dialect == JSON_SCHEMA_DRAFT_07 ? D07 : D2020;
                const struct KeywordDef *kd = keyword_find(key, klen, dbit);

                if (!kd) {
                        *ret_r = cfail(c, -EOPNOTSUPP, "keyword '%.*s' at %s is not supported", (int)MIN(klen, 100u),
                                       key, WHERE(&sc));
                        return NULL;
                }
                if (dbit == D2020 && kd->vocab && !(sc.vocab & kd->vocab))
                        continue;
                r = compile_keyword(c, n, &sc, kd, json_object_iter_value(it));
                if (r < 0) {
                        *ret_r = r;
                        return NULL;
                }
        }
        if (sc.dialect == JSON_SCHEMA_DRAFT_07 && json_object_get(json, "$ref"))
                n->ref_only = true;
        /* minContains/maxContains only mean something next to contains */
        if (!n->contains)
                n->has &= ~(HAS_MIN_CONTAINS | HAS_MAX_CONTAINS);
        return n;
}

/* Fetches a document by absolute URI: already loaded, built in, or through the resolver. */
static json_t *fetch_document(Compiler *c, const char *uri, int *ret_r)
{
        json_t *doc = map_gets(&c->loaded, uri);
        const char *text;
        int r;

        if (doc)
                return doc;
        text = metaschema_find(uri);
        if (text) {
                json_error_t jerr;
                doc = json_loads(text, 0, &jerr);
                if (!doc) {
                        *ret_r = -ENOMEM;
                        return NULL;
                }
        } else {
                if (!c->opts->resolver) {
                        *ret_r = -ENOENT;
                        return NULL;
                }
                if (c->n_fetched >= c->limits->max_documents) {
                        *ret_r = cfail(c, -E2BIG, "more than %u documents referenced", c->limits->max_documents);
                        return NULL;
                }
                c->n_fetched++;
                doc = c->opts->resolver(uri, c->opts->userdata);
                if (!doc) {
                        *ret_r = -ENOENT;
                        return NULL;
                }
        }
        r = hold_doc(c->s, doc);
        if (r < 0) {
                json_decref(doc);
                *ret_r = r;
                return NULL;
        }
        r = map_puts(&c->loaded, uri, doc);
        if (r < 0) {
                *ret_r = r;
                return NULL;
        }
        return doc;
}

/* Compiles a whole document retrieved from `uri`. */
static Node *compile_document(Compiler *c, json_t *doc, const char *uri, const char *doc_uri, int *ret_r)
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

/* Resolves a JSON pointer (already percent-decoded) from `start`. */
static json_t *pointer_get(json_t *start, char *ptr)
{
        json_t *cur = start;

        if (*ptr == 0)
                return cur;
        if (*ptr != '/')
                return NULL;
        while (cur && *ptr == '/') {
                char *tok = ptr + 1, *end = strchr(tok, '/'), *o = tok;
                size_t len;
                if (!end)
                        end = tok + strlen(tok);
                ptr = end;
                /* unescape ~1 and ~0 in place */
                for (char *p = tok; p < end; p++) {
                        if (*p == '~' && p + 1 < end && (p[1] == '0' || p[1] == '1')) {
                                *o++ = p[1] == '0' ? '~' : '/';
                                p++;
                        } else if (*p == '~')
                                return NULL;
                        else
                                *o++ = *p;
                }
                len = o - tok;
                if (json_is_object(cur))
                        cur = json_object_getn(cur, tok, len);
                else if (json_is_array(cur)) {
                        size_t idx = 0;
                        if (len == 0 || (len > 1 && tok[0] == '0'))
                                return NULL;
                        for (size_t i = 0; i < len; i++) {
                                if (tok[i] < '0' || tok[i] > '9' || idx > 100000000)
                                        return NULL;
                                idx = idx * 10 + (tok[i] - '0');
                        }
                        cur = json_array_get(cur, idx);
                } else
                        return NULL;
        }
        return cur;
}

static int resolve_pending(Compiler *c, PendingRef *p)
{
        _cleanup_free_ char *uri = strdup(p->uri);
        char *frag;
        Node *res_root, *target = NULL;
        const char *kw = p->dynamic ? "$dynamicRef" : "$ref";
        int r;

        if (!uri)
                return -ENOMEM;
        frag = uri_split_fragment(uri);
        res_root = map_gets(&c->resources, uri);
        if (!res_root) {
                json_t *doc = fetch_document(c, uri, &r);
                if (!doc) {
                        if (r == -ENOENT)
                                return cfail(c, -ENOENT, "%s '%s' at %s#%s cannot be resolved", kw, p->uri,
                                             p->node->doc_uri, p->location);
                        return r;
                }
                const char *doc_uri = arena_strdup(&c->s->arena, uri);
                if (!doc_uri)
                        return -ENOMEM;
                res_root = compile_document(c, doc, uri, doc_uri, &r);
                if (!res_root)
                        return r;
        }
        if (!frag || !*frag)
                target = res_root;
        else if (*frag == '/') {
                ssize_t len = percent_decode(frag, strlen(frag));
                json_t *j = len < 0 ? NULL : pointer_get(res_root->json, frag);
                if (j)
                        target = map_get(&c->nodes, &j, sizeof(j));
        } else {
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "%s#%s", res_root->resource->uri, frag) < 0)
                        return -ENOMEM;
                target = map_gets(&c->anchors, key);
                if (!target) {
                        free(key);
                        key = NULL;
                        if (asprintf(&key, "%s#%s", uri, frag) < 0)
                                return -ENOMEM;
                        target = map_gets(&c->anchors, key);
                }
        }
        if (!target)
                return cfail(c, -ENOENT, "%s '%s' at %s#%s does not point to a schema", kw, p->uri, p->node->doc_uri,
                             p->location);
        if (!p->dynamic) {
                p->node->ref = target;
                return 0;
        }
        p->node->dynref = target;
        /* dynamic only when the fragment is a name and the target carries the same $dynamicAnchor */
        if (frag && *frag && *frag != '/') {
                json_t *da = json_is_object(target->json) ? json_object_get(target->json, "$dynamicAnchor") : NULL;
                if (json_is_string(da) && streq(json_string_value(da), frag))
                        p->node->dynref_anchor = map_gets(&c->dyn_names, frag);
        }
        return 0;
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

/* ---- errors ---- */

void json_schema_errors_init(JsonSchemaErrors *errs, size_t max)
{
        *errs = (JsonSchemaErrors){ .max = max == 0 ? JSON_SCHEMA_DEFAULT_MAX_ERRORS
                                                    : MIN(max, (size_t)JSON_SCHEMA_CAP_MAX_ERRORS) };
}

void json_schema_errors_clear(JsonSchemaErrors *errs)
{
        for (size_t i = 0; i < errs->n; i++) {
                free(errs->items[i].instance_location);
                free(errs->items[i].keyword_location);
                free(errs->items[i].message);
        }
        free(errs->items);
        errs->items = NULL;
        errs->n = 0;
        errs->truncated = false;
}

/* ---- validation ---- */

typedef struct PathSeg {
        const char *key; /* NULL: array index */
        size_t len_or_index;
} PathSeg;

typedef struct Ctx {
        const JsonSchema *s;
        const JsonSchemaLimits *limits;
        JsonSchemaErrors *errs;
        bool collect; /* record errors (else stop at the first failure) */
        unsigned depth;
        size_t steps;
        int fatal; /* a limit was hit: negative errno */
        const char *fatal_msg;
        char *fatal_path;
        PathSeg *path;
        unsigned path_len;
        const Resource **scope;
        unsigned scope_len;
} Ctx;

/* Evaluated members (object) or items (array) of one instance value. */
typedef struct Annot {
        uint64_t *bits;
        size_t n;
        bool all;
        uint64_t inline_bits[4];
} Annot;

static int annot_init(Annot *a, size_t n)
{
        a->n = n;
        a->all = false;
        if (n <= 256) {
                a->bits = a->inline_bits;
                memset(a->inline_bits, 0, sizeof(a->inline_bits));
        } else {
                a->bits = calloc((n + 63) / 64, sizeof(uint64_t));
                if (!a->bits)
                        return -ENOMEM;
        }
        return 0;
}

static void annot_done(Annot *a)
{
        if (a->bits && a->bits != a->inline_bits)
                free(a->bits);
        a->bits = NULL;
}

static void annot_reset(Annot *a)
{
        a->all = false;
        memset(a->bits, 0, (a->n + 63) / 64 * sizeof(uint64_t));
}

static void annot_set(Annot *a, size_t i)
{
        if (a && i < a->n)
                a->bits[i / 64] |= 1ull << (i % 64);
}

static bool annot_get(const Annot *a, size_t i)
{
        return a->all || (a->bits[i / 64] & (1ull << (i % 64)));
}

static void annot_merge(Annot *dst, const Annot *src)
{
        if (src->all)
                dst->all = true;
        else
                for (size_t i = 0; i < (dst->n + 63) / 64; i++)
                        dst->bits[i] |= src->bits[i];
}

static char *path_render(const Ctx *c)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (unsigned i = 0; i < c->path_len; i++) {
                const PathSeg *p = &c->path[i];
                fputc('/', f);
                if (!p->key)
                        fprintf(f, "%zu", p->len_or_index);
                else
                        for (size_t k = 0; k < p->len_or_index; k++) {
                                if (p->key[k] == '~')
                                        fputs("~0", f);
                                else if (p->key[k] == '/')
                                        fputs("~1", f);
                                else
                                        fputc(p->key[k], f);
                        }
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void set_fatal(Ctx *c, int r, const char *msg)
{
        if (c->fatal)
                return;
        c->fatal = r;
        c->fatal_msg = msg;
        c->fatal_path = c->errs ? path_render(c) : NULL;
}

/* Appends an error; `n` may be NULL for limit errors. */
static void errs_add(Ctx *c, char *instance_location, char *keyword_location, char *message)
{
        JsonSchemaErrors *e = c->errs;

        if (!instance_location || !keyword_location || !message)
                goto fail;
        if (!e->items) {
                e->items = calloc(e->max, sizeof(JsonSchemaError));
                if (!e->items)
                        goto fail;
        }
        e->items[e->n++] = (JsonSchemaError){ instance_location, keyword_location, message };
        return;
fail:
        free(instance_location);
        free(keyword_location);
        free(message);
        set_fatal(c, -ENOMEM, "out of memory");
}

_printf_(4, 5) static void report(Ctx *c, const Node *n, const char *kw, const char *fmt, ...)
{
        char *msg = NULL, *kwloc = NULL;
        va_list ap;

        if (!c->collect)
                return;
        if (c->errs->n >= c->errs->max) {
                c->errs->truncated = true;
                c->collect = false; /* nothing more can be kept: finish in the fast mode */
                return;
        }
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (kw) {
                if (asprintf(&kwloc, "%s#%s/%s", n->doc_uri, n->location, kw) < 0)
                        kwloc = NULL;
        } else if (asprintf(&kwloc, "%s#%s", n->doc_uri, n->location) < 0)
                kwloc = NULL;
        errs_add(c, path_render(c), kwloc, msg);
}

/* A member name or string for messages: at most 64 bytes, cut on a UTF-8 boundary. */
static int short_len(const char *s, size_t len)
{
        size_t l = MIN(len, (size_t)64);
        while (l < len && l > 0 && ((unsigned char)s[l] & 0xC0) == 0x80)
                l--;
        return (int)l;
}

static void path_push_key(Ctx *c, const char *key, size_t len)
{
        c->path[c->path_len++] = (PathSeg){ key, len };
}

static void path_push_index(Ctx *c, size_t i)
{
        c->path[c->path_len++] = (PathSeg){ NULL, i };
}

static void path_pop(Ctx *c)
{
        c->path_len--;
}

static const char *type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "array";
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
                return "integer";
        case JSON_REAL:
                return "number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "boolean";
        default:
                return "null";
        }
}

static bool is_integral(const json_t *v)
{
        if (json_is_integer(v))
                return true;
        if (json_is_real(v)) {
                double d = json_real_value(v);
                return isfinite(d) && d == floor(d);
        }
        return false;
}

static bool type_matches(uint8_t types, const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return types & T_OBJECT;
        case JSON_ARRAY:
                return types & T_ARRAY;
        case JSON_STRING:
                return types & T_STRING;
        case JSON_INTEGER:
                return types & (T_INTEGER | T_NUMBER);
        case JSON_REAL:
                return (types & T_NUMBER) || ((types & T_INTEGER) && is_integral(v));
        case JSON_TRUE:
        case JSON_FALSE:
                return types & T_BOOLEAN;
        default:
                return types & T_NULL;
        }
}

static void types_text(uint8_t types, char *buf, size_t size)
{
        static const char *const names[] = { "null", "boolean", "object", "array", "number", "string", "integer" };
        size_t o = 0;
        buf[0] = 0;
        for (unsigned i = 0; i < ELEMENTSOF(names); i++)
                if (types & (1u << i))
                        o += snprintf(buf + o, size - MIN(o, size), "%s%s", o ? " or " : "", names[i]);
}

#define MAX_EQUAL_DEPTH 512

/* JSON equality with numbers compared by value (1 == 1.0). */
static bool value_equal(Ctx *c, const json_t *a, const json_t *b, unsigned depth)
{
        if (depth > MAX_EQUAL_DEPTH) {
                set_fatal(c, -ELOOP, "instance nested too deeply");
                return false;
        }
        if (json_is_number(a) && json_is_number(b)) {
                if (json_is_integer(a) && json_is_integer(b))
                        return json_integer_value(a) == json_integer_value(b);
                return number_value(a) == number_value(b);
        }
        if (json_typeof(a) != json_typeof(b))
                return false;
        switch (json_typeof(a)) {
        case JSON_STRING:
                return json_string_length(a) == json_string_length(b) &&
                       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
        case JSON_ARRAY:
                if (json_array_size(a) != json_array_size(b))
                        return false;
                for (size_t i = 0; i < json_array_size(a); i++)
                        if (!value_equal(c, json_array_get(a, i), json_array_get(b, i), depth + 1))
                                return false;
                return true;
        case JSON_OBJECT:
                if (json_object_size(a) != json_object_size(b))
                        return false;
                for (void *it = json_object_iter((json_t *)a); it; it = json_object_iter_next((json_t *)a, it)) {
                        json_t *o = json_object_getn(b, json_object_iter_key(it), json_object_iter_key_len(it));
                        if (!o || !value_equal(c, json_object_iter_value(it), o, depth + 1))
                                return false;
                }
                return true;
        default:
                return true;
        }
}

static uint64_t mix(uint64_t h)
{
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 33;
        return h;
}

/* A hash consistent with value_equal(). */
static uint64_t value_hash(Ctx *c, const json_t *v, unsigned depth)
{
        uint64_t h;

        if (depth > MAX_EQUAL_DEPTH) {
                set_fatal(c, -ELOOP, "instance nested too deeply");
                return 0;
        }
        switch (json_typeof(v)) {
        case JSON_INTEGER:
                return mix((uint64_t)json_integer_value(v) ^ 0x1234);
        case JSON_REAL: {
                double d = json_real_value(v);
                if (d == floor(d) && d >= -9.2e18 && d <= 9.2e18)
                        return mix((uint64_t)(json_int_t)d ^ 0x1234);
                if (d == 0)
                        d = 0;
                memcpy(&h, &d, sizeof(h));
                return mix(h);
        }
        case JSON_STRING:
                return hash_bytes(json_string_value(v), json_string_length(v));
        case JSON_ARRAY:
                h = 0x9e3779b97f4a7c15ull;
                for (size_t i = 0; i < json_array_size(v); i++)
                        h = mix(h ^ value_hash(c, json_array_get(v, i), depth + 1));
                return h;
        case JSON_OBJECT:
                h = 0x51ed270b27a1b3c5ull;
                for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it))
                        h += mix(hash_bytes(json_object_iter_key(it), json_object_iter_key_len(it)) ^
                                 value_hash(c, json_object_iter_value(it), depth + 1) * 31);
                return h;
        case JSON_TRUE:
                return 1;
        case JSON_FALSE:
                return 2;
        default:
                return 3;
        }
}

typedef struct HashIdx {
        uint64_t hash;
        size_t index;
} HashIdx;

static int hashidx_cmp(const void *a, const void *b)
{
        const HashIdx *x = a, *y = b;
        if (x->hash != y->hash)
                return x->hash < y->hash ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Return: true when all items are distinct; on a duplicate, *ret_i < *ret_j are equal items. */
static bool items_unique(Ctx *c, const json_t *arr, size_t *ret_i, size_t *ret_j)
{
        size_t n = json_array_size(arr);
        HashIdx *h;
        bool unique = true;

        if (n <= 16) {
                for (size_t i = 0; i < n; i++)
                        for (size_t j = i + 1; j < n; j++)
                                if (value_equal(c, json_array_get(arr, i), json_array_get(arr, j), 0)) {
                                        *ret_i = i, *ret_j = j;
                                        return false;
                                }
                return true;
        }
        h = malloc(n * sizeof(HashIdx));
        if (!h) {
                set_fatal(c, -ENOMEM, "out of memory");
                return false;
        }
        for (size_t i = 0; i < n; i++)
                h[i] = (HashIdx){ value_hash(c, json_array_get(arr, i), 0), i };
        qsort(h, n, sizeof(HashIdx), hashidx_cmp);
        for (size_t i = 0; i < n && unique && !c->fatal; i++)
                for (size_t j = i + 1; j < n && h[j].hash == h[i].hash; j++) {
                        if (++c->steps > c->limits->max_steps) {
                                set_fatal(c, -ETIME, "validation step limit exceeded");
                                break;
                        }
                        if (value_equal(c, json_array_get(arr, h[i].index), json_array_get(arr, h[j].index), 0)) {
                                *ret_i = MIN(h[i].index, h[j].index);
                                *ret_j = MAX(h[i].index, h[j].index);
                                unique = false;
                                break;
                        }
                }
        free(h);
        return unique;
}

static size_t utf8_length(const char *s, size_t len)
{
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                n += ((unsigned char)s[i] & 0xC0) != 0x80;
        return n;
}

static const PropEntry *prop_find(const PropEntry *props, size_t n, const char *key, size_t len)
{
        Str k = { key, len };
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int cmp = str_cmp(&k, &props[mid].name);
                if (cmp == 0)
                        return &props[mid];
                if (cmp < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

/* Match a regex; a limit hit is fatal. Return: 1, 0, or -1 on error. */
static int regex_test(Ctx *c, const EcmaRegex *re, const char *s, size_t len)
{
        int r = ecmaregex_search(re, s, len);
        if (r < 0) {
                set_fatal(c,
                          r == -ETIME    ? -ETIME
                          : r == -ENOMEM ? -ENOMEM
                                         : -EINVAL,
                          r == -ETIME ? "regular expression match limit exceeded" : "regular expression match failed");
                return -1;
        }
        return r;
}

static bool validate_node(Ctx *c, const Node *n, const json_t *inst, Annot *annot);

/* Evaluates `n` without collecting errors (branches whose failures are folded into one message). */
static bool validate_quiet(Ctx *c, const Node *n, const json_t *inst, Annot *annot)
{
        bool saved = c->collect, r;
        c->collect = false;
        r = validate_node(c, n, inst, annot);
        c->collect = saved;
        return r;
}

static const Node *dynamic_target(const Ctx *c, const Node *n)
{
        if (!n->dynref_anchor)
                return n->dynref;
        for (unsigned i = 0; i < c->scope_len; i++)
                for (const DynAnchor *d = c->scope[i]->dynamic_anchors; d; d = d->next)
                        if (d->name == n->dynref_anchor)
                                return d->node;
        return n->dynref;
}

static bool check_instance_limits(Ctx *c, const json_t *inst)
{
        switch (json_typeof(inst)) {
        case JSON_STRING:
                if (json_string_length(inst) > c->limits->max_string_length) {
                        set_fatal(c, -E2BIG, "string longer than the limit");
                        return false;
                }
                return true;
        case JSON_ARRAY:
                if (json_array_size(inst) > c->limits->max_array_size) {
                        set_fatal(c, -E2BIG, "array larger than the limit");
                        return false;
                }
                return true;
        case JSON_OBJECT:
                if (json_object_size(inst) > c->limits->max_object_size) {
                        set_fatal(c, -E2BIG, "object larger than the limit");
                        return false;
                }
                return true;
        default:
                return true;
        }
}

#define FAIL()                               \
        do {                                 \
                valid = false;               \
                if (!c->collect || c->fatal) \
                        goto done;           \
        } while (0)

static void format_number(const json_t *v, char *buf, size_t size)
{
        if (json_is_integer(v))
                snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
                snprintf(buf, size, "%.17g", json_real_value(v));
}

static bool validate_number(Ctx *c, const Node *n, const json_t *inst)
{
        long double v = number_value(inst);
        char num[48];
        bool valid = true;

        if (n->has & HAS_MULTIPLE_OF) {
                bool ok;
                if (json_is_integer(inst) && json_is_integer(n->multiple_of_json))
                        ok = json_integer_value(inst) % json_integer_value(n->multiple_of_json) == 0;
                else if (json_is_real(inst) && !isfinite(json_real_value(inst)))
                        ok = false;
                else {
                        Decimal x;
                        decimal_from_json(inst, &x);
                        ok = decimal_is_multiple(&x, &n->multiple_of);
                }
                if (!ok) {
                        format_number(n->multiple_of_json, num, sizeof(num));
                        report(c, n, "multipleOf", "must be a multiple of %s", num);
                        FAIL();
                }
        }
        if ((n->has & HAS_MINIMUM) && v < n->minimum) {
                format_number(n->minimum_json, num, sizeof(num));
                report(c, n, "minimum", "must be >= %s", num);
                FAIL();
        }
        if ((n->has & HAS_MAXIMUM) && v > n->maximum) {
                format_number(n->maximum_json, num, sizeof(num));
                report(c, n, "maximum", "must be <= %s", num);
                FAIL();
        }
        if ((n->has & HAS_EXCLUSIVE_MINIMUM) && v <= n->exclusive_minimum) {
                format_number(n->exclusive_minimum_json, num, sizeof(num));
                report(c, n, "exclusiveMinimum", "must be > %s", num);
                FAIL();
        }
        if ((n->has & HAS_EXCLUSIVE_MAXIMUM) && v >= n->exclusive_maximum) {
                format_number(n->exclusive_maximum_json, num, sizeof(num));
                report(c, n, "exclusiveMaximum", "must be < %s", num);
                FAIL();
        }
done:
        return valid;
}

static bool validate_string(Ctx *c, const Node *n, const json_t *inst)
{
        const char *s = json_string_value(inst);
        size_t len = json_string_length(inst);
        bool valid = true;

        if (n->has & (HAS_MIN_LENGTH | HAS_MAX_LENGTH)) {
                size_t chars = utf8_length(s, len);
                if ((n->has & HAS_MIN_LENGTH) && chars < n->min_length) {
                        report(c, n, "minLength", "must be at least %zu characters long", n->min_length);
                        FAIL();
                }
                if ((n->has & HAS_MAX_LENGTH) && chars > n->max_length) {
                        report(c, n, "maxLength", "must be at most %zu characters long", n->max_length);
                        FAIL();
                }
        }
        if (n->pattern) {
                int r = regex_test(c, n->pattern, s, len);
                if (r < 0)
                        return false;
                if (r == 0) {
                        report(c, n, "pattern", "must match the pattern '%.*s'",
                               short_len(n->pattern_source, strlen(n->pattern_source)), n->pattern_source);
                        FAIL();
                }
        }
        if ((n->has & HAS_FORMAT) && !jsonformat_check(n->format, s, len)) {
                report(c, n, "format", "is not a valid %s", n->format_name);
                FAIL();
        }
done:
        return valid;
}

/* Object keywords: properties, patternProperties, additionalProperties, propertyNames, dependent*. */
static bool validate_object(Ctx *c, const Node *n, const json_t *inst, Annot *a)
{
        bool valid = true;

        if ((n->has & HAS_MIN_PROPERTIES) && json_object_size(inst) < n->min_properties) {
                report(c, n, "minProperties", "must have at least %zu properties", n->min_properties);
                FAIL();
        }
        if ((n->has & HAS_MAX_PROPERTIES) && json_object_size(inst) > n->max_properties) {
                report(c, n, "maxProperties", "must have at most %zu properties", n->max_properties);
                FAIL();
        }
        for (size_t i = 0; i < n->n_required; i++)
                if (!json_object_getn(inst, n->required[i].s, n->required[i].len)) {
                        report(c, n, "required", "required property '%.*s' is missing",
                               short_len(n->required[i].s, n->required[i].len), n->required[i].s);
                        FAIL();
                }
        for (size_t i = 0; i < n->n_dep_required; i++) {
                const DepRequired *d = &n->dep_required[i];
                if (!json_object_getn(inst, d->name.s, d->name.len))
                        continue;
                for (size_t k = 0; k < d->n_required; k++)
                        if (!json_object_getn(inst, d->required[k].s, d->required[k].len)) {
                                report(c, n, n->dep_required_kw, "property '%.*s' is required when '%.*s' is present",
                                       short_len(d->required[k].s, d->required[k].len), d->required[k].s,
                                       short_len(d->name.s, d->name.len), d->name.s);
                                FAIL();
                        }
        }
        for (size_t i = 0; i < n->n_dep_schemas; i++) {
                const PropEntry *d = &n->dep_schemas[i];
                if (json_object_getn(inst, d->name.s, d->name.len) && !validate_node(c, d->node, inst, a))
                        FAIL();
        }

        if (!a && n->n_pattern_props == 0 && !n->additional_properties) {
                /* only `properties`: walk the schema's names */
                for (size_t i = 0; i < n->n_properties; i++) {
                        const PropEntry *p = &n->properties[i];
                        json_t *v = json_object_getn(inst, p->name.s, p->name.len);
                        bool ok;
                        if (!v)
                                continue;
                        path_push_key(c, p->name.s, p->name.len);
                        ok = validate_node(c, p->node, v, NULL);
                        path_pop(c);
                        if (!ok)
                                FAIL();
                }
        } else if (n->n_properties > 0 || n->n_pattern_props > 0 || n->additional_properties) {
                size_t idx = 0;
                for (void *it = json_object_iter((json_t *)inst); it;
                     it = json_object_iter_next((json_t *)inst, it), idx++) {
                        const char *key = json_object_iter_key(it);
                        size_t klen = json_object_iter_key_len(it);
                        json_t *v = json_object_iter_value(it);
                        const PropEntry *p =
                                n->n_properties ? prop_find(n->properties, n->n_properties, key, klen) : NULL;
                        bool matched = false, ok;

                        path_push_key(c, key, klen);
                        if (p) {
                                matched = true;
                                ok = validate_node(c, p->node, v, NULL);
                                if (!ok) {
                                        path_pop(c);
                                        FAIL();
                                        path_push_key(c, key, klen);
                                }
                        }
                        for (size_t k = 0; k < n->n_pattern_props; k++) {
                                const PatternProp *pp = &n->pattern_props[k];
                                int m = regex_test(c, pp->re, key, klen);
                                if (m < 0) {
                                        path_pop(c);
                                        return false;
                                }
                                if (m == 0)
                                        continue;
                                matched = true;
                                if (!validate_node(c, pp->node, v, NULL)) {
                                        path_pop(c);
                                        FAIL();
                                        path_push_key(c, key, klen);
                                }
                        }
                        if (!matched && n->additional_properties) {
                                const Node *ap = n->additional_properties;
                                if (ap->is_bool && !ap->bool_value) {
                                        report(c, n, "additionalProperties", "property '%.*s' is not allowed",
                                               short_len(key, klen), key);
                                        ok = false;
                                } else
                                        ok = validate_node(c, ap, v, NULL);
                                if (!ok) {
                                        path_pop(c);
                                        FAIL();
                                        path_push_key(c, key, klen);
                                }
                                matched = true;
                        }
                        path_pop(c);
                        if (matched)
                                annot_set(a, idx);
                }
        }
        if (n->property_names) {
                for (void *it = json_object_iter((json_t *)inst); it; it = json_object_iter_next((json_t *)inst, it)) {
                        const char *key = json_object_iter_key(it);
                        size_t klen = json_object_iter_key_len(it);
                        json_t *name;
                        bool ok;

                        if (klen > c->limits->max_string_length) {
                                set_fatal(c, -E2BIG, "member name longer than the limit");
                                return false;
                        }
                        name = json_stringn_nocheck(key, klen);
                        if (!name) {
                                set_fatal(c, -ENOMEM, "out of memory");
                                return false;
                        }
                        path_push_key(c, key, klen);
                        if (n->property_names->is_bool && !n->property_names->bool_value) {
                                report(c, n, "propertyNames", "property name '%.*s' is not allowed",
                                       short_len(key, klen), key);
                                ok = false;
                        } else
                                ok = validate_node(c, n->property_names, name, NULL);
                        path_pop(c);
                        json_decref(name);
                        if (!ok)
                                FAIL();
                }
        }
done:
        return valid;
}

static bool validate_array(Ctx *c, const Node *n, const json_t *inst, Annot *a)
{
        size_t size = json_array_size(inst);
        bool valid = true;

        if ((n->has & HAS_MIN_ITEMS) && size < n->min_items) {
                report(c, n, "minItems", "must have at least %zu items", n->min_items);
                FAIL();
        }
        if ((n->has & HAS_MAX_ITEMS) && size > n->max_items) {
                report(c, n, "maxItems", "must have at most %zu items", n->max_items);
                FAIL();
        }
        if (n->has & HAS_UNIQUE_ITEMS) {
                size_t i = 0, j = 0;
                if (!items_unique(c, inst, &i, &j)) {
                        if (c->fatal)
                                return false;
                        report(c, n, "uniqueItems", "must not have duplicate items (items %zu and %zu are equal)", i,
                               j);
                        FAIL();
                }
        }
        for (size_t i = 0; i < MIN(size, n->n_prefix_items); i++) {
                bool ok;
                path_push_index(c, i);
                ok = validate_node(c, n->prefix_items[i], json_array_get(inst, i), NULL);
                path_pop(c);
                if (!ok)
                        FAIL();
                annot_set(a, i);
        }
        if (n->items) {
                for (size_t i = n->n_prefix_items; i < size; i++) {
                        bool ok;
                        path_push_index(c, i);
                        if (n->items->is_bool && !n->items->bool_value) {
                                report(c, n, n->items_kw, "no item is allowed at this position");
                                ok = false;
                        } else
                                ok = validate_node(c, n->items, json_array_get(inst, i), NULL);
                        path_pop(c);
                        if (!ok)
                                FAIL();
                }
                if (a && size > n->n_prefix_items)
                        a->all = true;
        }
        if (n->contains) {
                size_t matches = 0;
                size_t min = (n->has & HAS_MIN_CONTAINS) ? n->min_contains : 1;
                bool need_all = a || (n->has & HAS_MAX_CONTAINS);
                for (size_t i = 0; i < size; i++) {
                        bool ok;
                        path_push_index(c, i);
                        ok = validate_quiet(c, n->contains, json_array_get(inst, i), NULL);
                        path_pop(c);
                        if (c->fatal)
                                return false;
                        if (ok) {
                                matches++;
                                annot_set(a, i);
                                if (!need_all && matches >= min)
                                        break;
                        }
                }
                if (matches < min) {
                        if (n->has & HAS_MIN_CONTAINS)
                                report(c, n, "minContains", "must contain at least %zu items matching 'contains'", min);
                        else
                                report(c, n, "contains", "must contain an item matching 'contains'");
                        FAIL();
                }
                if ((n->has & HAS_MAX_CONTAINS) && matches > n->max_contains) {
                        report(c, n, "maxContains", "must contain at most %zu items matching 'contains'",
                               n->max_contains);
                        FAIL();
                }
        }
done:
        return valid;
}

static bool validate_node(Ctx *c, const Node *n, const json_t *inst, Annot *annot)
{
        Annot local, tmp;
        Annot *a = annot;
        bool valid = true, own = false, have_tmp = false, pushed = false;
        json_type type;

        if (c->fatal)
                return false;
        if (n->is_bool) {
                if (!n->bool_value)
                        report(c, n, NULL, "no value is allowed here");
                return n->bool_value;
        }
        if (_unlikely_(++c->steps > c->limits->max_steps)) {
                set_fatal(c, -ETIME, "validation step limit exceeded");
                return false;
        }
        if (_unlikely_(c->depth >= c->limits->max_depth)) {
                set_fatal(c, -ELOOP, "evaluation nested deeper than the limit");
                return false;
        }
        if (!check_instance_limits(c, inst))
                return false;
        c->depth++;
        if (c->scope_len == 0 || c->scope[c->scope_len - 1] != n->resource) {
                c->scope[c->scope_len++] = n->resource;
                pushed = true;
        }

        if (n->ref_only) {
                valid = validate_node(c, n->ref, inst, annot);
                goto done;
        }

        type = json_typeof(inst);
        if (n->types && !type_matches(n->types, inst)) {
                char buf[96];
                types_text(n->types, buf, sizeof(buf));
                report(c, n, "type", "must be %s, not %s", buf, type_name(inst));
                FAIL();
        }
        if (n->const_value && !value_equal(c, n->const_value, inst, 0)) {
                report(c, n, "const", "must be equal to the constant");
                FAIL();
        }
        if (n->enum_values) {
                bool found = false;
                for (size_t i = 0; i < json_array_size(n->enum_values) && !found; i++)
                        found = value_equal(c, json_array_get(n->enum_values, i), inst, 0);
                if (!found) {
                        report(c, n, "enum", "must be one of the allowed values");
                        FAIL();
                }
        }
        if (c->fatal)
                goto done;
        switch (type) {
        case JSON_INTEGER:
        case JSON_REAL:
                if ((n->has &
                     (HAS_MULTIPLE_OF | HAS_MINIMUM | HAS_MAXIMUM | HAS_EXCLUSIVE_MINIMUM | HAS_EXCLUSIVE_MAXIMUM)) &&
                    !validate_number(c, n, inst))
                        FAIL();
                break;
        case JSON_STRING:
                if ((n->pattern || (n->has & (HAS_MIN_LENGTH | HAS_MAX_LENGTH | HAS_FORMAT))) &&
                    !validate_string(c, n, inst))
                        FAIL();
                break;
        case JSON_OBJECT:
                if (n->unevaluated_properties) {
                        if (annot_init(&local, json_object_size(inst)) < 0) {
                                set_fatal(c, -ENOMEM, "out of memory");
                                goto done;
                        }
                        own = true;
                        a = &local;
                }
                break;
        case JSON_ARRAY:
                if (n->unevaluated_items) {
                        if (annot_init(&local, json_array_size(inst)) < 0) {
                                set_fatal(c, -ENOMEM, "out of memory");
                                goto done;
                        }
                        own = true;
                        a = &local;
                }
                break;
        default:
                break;
        }

        /* in-place applicators: same instance, annotations flow into `a` */
        if (n->ref && !validate_node(c, n->ref, inst, a))
                FAIL();
        if (n->dynref && !validate_node(c, dynamic_target(c, n), inst, a))
                FAIL();
        for (size_t i = 0; i < n->n_all_of; i++)
                if (!validate_node(c, n->all_of[i], inst, a))
                        FAIL();
        if (n->n_any_of || n->n_one_of || n->if_) {
                if (a) {
                        if (annot_init(&tmp, a->n) < 0) {
                                set_fatal(c, -ENOMEM, "out of memory");
                                goto done;
                        }
                        have_tmp = true;
                }
        }
        if (n->n_any_of) {
                bool any = false;
                for (size_t i = 0; i < n->n_any_of; i++) {
                        if (have_tmp)
                                annot_reset(&tmp);
                        if (validate_quiet(c, n->any_of[i], inst, have_tmp ? &tmp : NULL)) {
                                any = true;
                                if (!have_tmp)
                                        break;
                                annot_merge(a, &tmp);
                        }
                        if (c->fatal)
                                goto done;
                }
                if (!any) {
                        report(c, n, "anyOf", "must match at least one schema in 'anyOf'");
                        FAIL();
                }
        }
        if (n->n_one_of) {
                size_t first = SIZE_MAX, second = SIZE_MAX;
                for (size_t i = 0; i < n->n_one_of && second == SIZE_MAX; i++) {
                        if (have_tmp)
                                annot_reset(&tmp);
                        if (validate_quiet(c, n->one_of[i], inst, have_tmp ? &tmp : NULL)) {
                                if (first == SIZE_MAX) {
                                        first = i;
                                        if (have_tmp)
                                                annot_merge(a, &tmp);
                                } else
                                        second = i;
                        }
                        if (c->fatal)
                                goto done;
                }
                if (first == SIZE_MAX) {
                        report(c, n, "oneOf", "must match exactly one schema in 'oneOf' (matched none)");
                        FAIL();
                } else if (second != SIZE_MAX) {
                        report(c, n, "oneOf", "must match exactly one schema in 'oneOf' (matched %zu and %zu)", first,
                               second);
                        FAIL();
                }
        }
        if (n->not_) {
                bool r = validate_quiet(c, n->not_, inst, NULL);
                if (c->fatal)
                        goto done;
                if (r) {
                        report(c, n, "not", "must not match the schema in 'not'");
                        FAIL();
                }
        }
        if (n->if_ && (n->then_ || n->else_ || have_tmp)) {
                bool cond;
                if (have_tmp)
                        annot_reset(&tmp);
                cond = validate_quiet(c, n->if_, inst, have_tmp ? &tmp : NULL);
                if (c->fatal)
                        goto done;
                if (cond && have_tmp)
                        annot_merge(a, &tmp);
                if (cond && n->then_ && !validate_node(c, n->then_, inst, a))
                        FAIL();
                if (!cond && n->else_ && !validate_node(c, n->else_, inst, a))
                        FAIL();
        }

        if (type == JSON_OBJECT) {
                if (!validate_object(c, n, inst, a))
                        FAIL();
                if (n->unevaluated_properties) {
                        size_t idx = 0;
                        const Node *u = n->unevaluated_properties;
                        for (void *it = json_object_iter((json_t *)inst); it;
                             it = json_object_iter_next((json_t *)inst, it), idx++) {
                                const char *key = json_object_iter_key(it);
                                size_t klen = json_object_iter_key_len(it);
                                bool ok;
                                if (annot_get(a, idx))
                                        continue;
                                path_push_key(c, key, klen);
                                if (u->is_bool && !u->bool_value) {
                                        report(c, n, "unevaluatedProperties", "property '%.*s' is not allowed",
                                               short_len(key, klen), key);
                                        ok = false;
                                } else
                                        ok = validate_node(c, u, json_object_iter_value(it), NULL);
                                path_pop(c);
                                if (!ok)
                                        FAIL();
                        }
                }
        } else if (type == JSON_ARRAY) {
                if (!validate_array(c, n, inst, a))
                        FAIL();
                if (n->unevaluated_items) {
                        const Node *u = n->unevaluated_items;
                        for (size_t i = 0; i < json_array_size(inst); i++) {
                                bool ok;
                                if (annot_get(a, i))
                                        continue;
                                path_push_index(c, i);
                                if (u->is_bool && !u->bool_value) {
                                        report(c, n, "unevaluatedItems", "item is not allowed here");
                                        ok = false;
                                } else
                                        ok = validate_node(c, u, json_array_get(inst, i), NULL);
                                path_pop(c);
                                if (!ok)
                                        FAIL();
                        }
                }
        }

done:
        if (have_tmp)
                annot_done(&tmp);
        if (own) {
                annot_done(&local);
                /* a valid unevaluated* keyword has evaluated everything */
                if (valid && annot)
                        annot->all = true;
        }
        if (pushed)
                c->scope_len--;
        c->depth--;
        return valid && !c->fatal;
}

int json_schema_validate(const JsonSchema *s, const json_t *instance, JsonSchemaErrors *errs)
{
        unsigned max = s->limits.max_depth + 2;
        PathSeg path[max];
        const Resource *scope[max];
        Ctx c = {
                .s = s,
                .limits = &s->limits,
                .errs = errs,
                .collect = errs != NULL,
                .path = path,
                .scope = scope,
        };
        bool valid;

        if (!instance)
                return -EINVAL;
        if (errs && errs->max == 0)
                errs->max = JSON_SCHEMA_DEFAULT_MAX_ERRORS;
        valid = validate_node(&c, s->root, instance, NULL);
        if (c.fatal) {
                int r = c.fatal;
                if (errs) {
                        char *msg = strdup(c.fatal_msg), *kw = strdup("");
                        char *loc = c.fatal_path ? TAKE_PTR(c.fatal_path) : strdup("");
                        if (errs->n >= errs->max) {
                                /* make room: the limit is the error that matters */
                                JsonSchemaError *last = &errs->items[--errs->n];
                                free(last->instance_location);
                                free(last->keyword_location);
                                free(last->message);
                                errs->truncated = true;
                        }
                        c.fatal = 0;
                        errs_add(&c, loc, kw, msg);
                }
                free(c.fatal_path);
                return r;
        }
        return valid ? 0 : JSON_SCHEMA_E_INVALID;
}
