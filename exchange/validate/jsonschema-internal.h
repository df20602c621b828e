/* jsonschema-internal.h: what the pieces of the JSON Schema compiler and validator share */
#pragma once

#include <stdint.h>
#include <string.h>

#include "validate/ecmaregex.h"
#include "validate/jsonschema.h"

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

/* ---- arena: every compiled object lives here and is freed at once (jsonschema-arena.c) ---- */

typedef struct ArenaChunk ArenaChunk;

typedef struct Arena {
        ArenaChunk *head;
} Arena;

/* arena_alloc(): `size` zeroed bytes, aligned for any type, owned by `a`. Return: NULL on ENOMEM. */
void *arena_alloc(Arena *a, size_t size);
/* arena_strndup(), arena_strdup(): a NUL-terminated copy owned by `a`. Return: NULL on ENOMEM. */
char *arena_strndup(Arena *a, const char *s, size_t len);
char *arena_strdup(Arena *a, const char *s);
/* arena_done(): free every allocation of `a` at once. */
void arena_done(Arena *a);

/* ---- a small hash map (compile time only; jsonschema-map.c) ---- */

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

/* FNV-1a: the map's hash, also used to hash instance strings. */
static inline uint64_t hash_bytes(const void *p, size_t len)
{
        const unsigned char *s = p;
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < len; i++) {
                h ^= s[i];
                h *= 1099511628211ull;
        }
        return h;
}

/* map_get(), map_gets(): the value stored under the key, or NULL. */
void *map_get(const Map *m, const void *key, size_t len);
void *map_gets(const Map *m, const char *key);
/* map_put(), map_puts(): insert or replace; the key is copied. Return: 0 or -ENOMEM. */
int map_put(Map *m, const void *key, size_t len, void *value);
int map_puts(Map *m, const char *key, void *value);
/* map_done(): free the keys and the table (not the values). */
void map_done(Map *m);

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

static inline long double number_value(const json_t *v)
{
        return json_is_integer(v) ? (long double)json_integer_value(v) : (long double)json_real_value(v);
}

/* The order of property tables: by length, then bytes. */
static inline int str_cmp(const Str *a, const Str *b)
{
        if (a->len != b->len)
                return a->len < b->len ? -1 : 1;
        return memcmp(a->s, b->s, a->len);
}

/* ---- compiler state (jsonschema-compile.c drives; -keywords.c and -uri.c help) ---- */

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

/* Where a subschema sits and what it inherits. */
typedef struct Scope {
        Resource *resource;
        const char *doc_uri;
        const char *location;
        uint8_t dialect; /* JsonSchemaDialect */
        uint8_t vocab;
        unsigned depth;
} Scope;

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

/* cfail(): keep the first error message (later ones are consequences). Return: r. */
_printf_(3, 4) int cfail(Compiler *c, int r, const char *fmt, ...);
/* scope_where(): "<doc>#<pointer>" for messages, written into buf. */
const char *scope_where(const Scope *sc, char *buf, size_t size);
#define WHERE(sc) scope_where((sc), (char[512]){}, 512)
/* hold_doc(), hold_regex(): the schema owns `doc` / `re` from now on. Return: 0 or -ENOMEM (not taken). */
int hold_doc(JsonSchema *s, json_t *doc);
int hold_regex(JsonSchema *s, EcmaRegex *re);
/* compile_schema(): the Node for `json` at `location`, inheriting from `parent`. Return: NULL and *ret_r on error. */
Node *compile_schema(Compiler *c, json_t *json, const Scope *parent, const char *location, int *ret_r);
/* compile_document(): compile a whole document retrieved from `uri`. Return: its root, or NULL and *ret_r. */
Node *compile_document(Compiler *c, json_t *doc, const char *uri, const char *doc_uri, int *ret_r);

/* compile_keywords(): every keyword of the schema object `json` into `n`. Return: 0 or a negative errno. */
int compile_keywords(Compiler *c, Node *n, const Scope *sc, json_t *json);
/* decimal_from_json(): the exact decimal value of a finite number. */
void decimal_from_json(const json_t *v, Decimal *ret);
/* decimal_is_multiple(): whether x is an integer multiple of m (m > 0), exactly. */
bool decimal_is_multiple(const Decimal *x, const Decimal *m);

/* uri_resolve(): `ref` against `base` (RFC 3986). Return: malloc()ed absolute reference, or NULL (ENOMEM). */
char *uri_resolve(const char *base, const char *ref);
/* uri_split_fragment(): cut "doc#frag" at '#' in place. Return: the fragment, or NULL when none. */
char *uri_split_fragment(char *uri);
/* new_resource(): a schema resource named `uri` with `root` as its root node. Return: NULL and *r on error. */
Resource *new_resource(Compiler *c, const char *uri, Node *root, const Scope *sc, int *r);
/* compile_identifiers(): `$id`, `$anchor` and `$dynamicAnchor` of `n`; updates sc->resource. Return: 0 or < 0. */
int compile_identifiers(Compiler *c, json_t *json, Scope *sc, Node *n);
/* fetch_document(): a document by absolute URI: loaded, built in, or from the resolver. Return: NULL and *ret_r. */
json_t *fetch_document(Compiler *c, const char *uri, int *ret_r);
/* resolve_pending(): point a `$ref` / `$dynamicRef` at its target, compiling documents as needed. */
int resolve_pending(Compiler *c, PendingRef *p);

/* ---- validation state (jsonschema-validate.c; reporting in -errors.c, value comparisons in -values.c) ---- */

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

/* ctx_set_fatal(): stop the validation with -errno `r` (the first one wins); `msg` is static text. */
void ctx_set_fatal(Ctx *c, int r, const char *msg);
/* ctx_errors_add(): append an error, taking the three strings (NULL: out of memory, made fatal). */
void ctx_errors_add(Ctx *c, char *instance_location, char *keyword_location, char *message);
/* ctx_report(): record that keyword `kw` of `n` failed at the current path, when errors are collected. */
_printf_(4, 5) void ctx_report(Ctx *c, const Node *n, const char *kw, const char *fmt, ...);
/* value_equal(): JSON equality with numbers compared by value. */
bool value_equal(Ctx *c, const json_t *a, const json_t *b, unsigned depth);
/* items_unique(): whether all items of `arr` are distinct; if not, *ret_i < *ret_j are two equal ones. */
bool items_unique(Ctx *c, const json_t *arr, size_t *ret_i, size_t *ret_j);
