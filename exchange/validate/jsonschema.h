/* jsonschema.h: JSON Schema (2020-12 and draft-07) validator on jansson, compiled once */
#pragma once

/*
 * A schema is compiled once, when the registry loads, into an immutable
 * JsonSchema; requests are then checked with json_schema_validate(), which
 * never parses or compiles anything.
 *
 * Dialects: draft 2020-12 (the default) and draft-07, chosen by `$schema`
 * (or by JsonSchemaOptions.default_dialect when a document has none). A
 * `$schema` naming another meta-schema is loaded through the resolver and
 * its `$vocabulary` decides which 2020-12 vocabularies are on.
 *
 * Strictness: a keyword this validator does not implement is refused at
 * compile time with its name and place ("keyword 'foo' at #/properties/x is
 * not supported"); it is never silently ignored. Keywords of a vocabulary a
 * custom meta-schema turns off are known and deliberately not applied.
 *
 * `format` is an annotation unless its bit is set in
 * JsonSchemaOptions.format_assert_mask (or the 2020-12 format-assertion
 * vocabulary is on); then it is an assertion for the formats listed in
 * JsonSchemaFormat. `pattern` and `patternProperties` follow ECMA-262 (with
 * the "u" flag) as far as PCRE2 allows: patterns are translated, checked for
 * ECMA syntax, JIT-compiled at compile time and run with match limits.
 *
 * Caveats (threads and lifetimes):
 *  - A compiled JsonSchema is immutable: any number of threads may call
 *    json_schema_validate() on it at once. Each thread keeps one small PCRE2
 *    match block (thread-local, released when the thread exits).
 *  - The JsonSchema keeps a reference on the schema documents it was built
 *    from (`const`, `enum` point into them); the caller's reference on
 *    `schema` stays the caller's. Do not modify a schema document after
 *    compiling it.
 *  - The instance passed to json_schema_validate() is only read; it must
 *    not be modified by another thread during the call.
 */

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "util/macro.h"

/* Positive result: the instance does not satisfy the schema. */
#define JSON_SCHEMA_E_INVALID 1

typedef enum JsonSchemaDialect {
        JSON_SCHEMA_DRAFT_2020_12 = 0,
        JSON_SCHEMA_DRAFT_07 = 1,
} JsonSchemaDialect;

/* Formats that can be asserted (bits of JsonSchemaOptions.format_assert_mask). */
typedef enum JsonSchemaFormat {
        JSON_SCHEMA_FORMAT_DATE = 1u << 0,
        JSON_SCHEMA_FORMAT_DATE_TIME = 1u << 1,
        JSON_SCHEMA_FORMAT_TIME = 1u << 2,
        JSON_SCHEMA_FORMAT_DURATION = 1u << 3,
        JSON_SCHEMA_FORMAT_EMAIL = 1u << 4,
        JSON_SCHEMA_FORMAT_HOSTNAME = 1u << 5,
        JSON_SCHEMA_FORMAT_IPV4 = 1u << 6,
        JSON_SCHEMA_FORMAT_IPV6 = 1u << 7,
        JSON_SCHEMA_FORMAT_URI = 1u << 8,
        JSON_SCHEMA_FORMAT_URI_REFERENCE = 1u << 9,
        JSON_SCHEMA_FORMAT_UUID = 1u << 10,
        JSON_SCHEMA_FORMAT_JSON_POINTER = 1u << 11,
        JSON_SCHEMA_FORMAT_RELATIVE_JSON_POINTER = 1u << 12,
        JSON_SCHEMA_FORMAT_REGEX = 1u << 13,
        JSON_SCHEMA_FORMAT_URI_TEMPLATE = 1u << 14,
        JSON_SCHEMA_FORMAT_ALL = (1u << 15) - 1,
} JsonSchemaFormat;

/*
 * JsonSchemaResolver: returns the document at `uri` (absolute, without
 * fragment) as a NEW reference the compiler takes over, or NULL when it is
 * unknown. Called only during json_schema_compile(), never while validating.
 * The meta-schemas of 2020-12 and draft-07 are built in and never asked for.
 */
typedef json_t *(*JsonSchemaResolver)(const char *uri, void *userdata);

/*
 * Limits. A zero field means "the default" (JSON_SCHEMA_DEFAULT_*); a value
 * above the hard cap is clamped to it.
 */
typedef struct JsonSchemaLimits {
        /* compile time */
        size_t max_schema_nodes;   /* subschemas in all documents (default 50000) */
        unsigned max_schema_depth; /* nesting of subschemas (default 128, cap 512) */
        unsigned max_documents;    /* documents loaded through the resolver (default 64) */
        size_t max_pattern_length; /* bytes of one regex (default 4096) */
        /* validation time */
        unsigned max_depth;         /* nested evaluations incl. $ref (default 256, cap 1024) */
        size_t max_string_length;   /* bytes of a string instance or key (default 1 MiB) */
        size_t max_array_size;      /* items of an array instance (default 100000) */
        size_t max_object_size;     /* members of an object instance (default 10000) */
        size_t max_steps;           /* subschema evaluations per call (default 1000000) */
        uint32_t regex_match_limit; /* PCRE2 match limit per match (default 100000) */
        uint32_t regex_depth_limit; /* PCRE2 depth (backtracking) limit (default 1000) */
} JsonSchemaLimits;

#define JSON_SCHEMA_DEFAULT_MAX_SCHEMA_NODES 50000
#define JSON_SCHEMA_DEFAULT_MAX_SCHEMA_DEPTH 128
#define JSON_SCHEMA_CAP_MAX_SCHEMA_DEPTH 512
#define JSON_SCHEMA_DEFAULT_MAX_DOCUMENTS 64
#define JSON_SCHEMA_DEFAULT_MAX_PATTERN_LENGTH 4096
#define JSON_SCHEMA_DEFAULT_MAX_DEPTH 256
#define JSON_SCHEMA_CAP_MAX_DEPTH 1024
#define JSON_SCHEMA_DEFAULT_MAX_STRING_LENGTH MIB(1)
#define JSON_SCHEMA_DEFAULT_MAX_ARRAY_SIZE 100000
#define JSON_SCHEMA_DEFAULT_MAX_OBJECT_SIZE 10000
#define JSON_SCHEMA_DEFAULT_MAX_STEPS 1000000
#define JSON_SCHEMA_DEFAULT_REGEX_MATCH_LIMIT 100000
#define JSON_SCHEMA_DEFAULT_REGEX_DEPTH_LIMIT 1000

typedef struct JsonSchemaOptions {
        JsonSchemaDialect default_dialect; /* for documents without $schema */
        unsigned format_assert_mask;       /* JsonSchemaFormat bits */
        JsonSchemaResolver resolver;       /* may be NULL: only built-in documents */
        void *userdata;                    /* passed to resolver */
        JsonSchemaLimits limits;
} JsonSchemaOptions;

typedef struct JsonSchema JsonSchema;

/*
 * json_schema_compile(): compile `schema` (an object or a boolean) into an
 * immutable JsonSchema. `base_uri` (may be NULL) is the retrieval URI of the
 * document, against which a root `$id` and relative `$ref`s are resolved.
 * `opts` may be NULL (all defaults). `$ref`s to other documents are loaded
 * with opts->resolver, all of them now: validation never resolves anything.
 *
 * The caller keeps its reference on `schema` (the JsonSchema takes its own).
 * On failure, when `ret_error` is not NULL, *ret_error is set to a
 * malloc()ed message naming the keyword and its location (caller frees).
 *
 * Return: 0 and *ret set; -EINVAL for a malformed schema, -EOPNOTSUPP for a
 * keyword, dialect, vocabulary or regex construct that is not supported,
 * -ENOENT for a `$ref` that resolves to nothing, -E2BIG when a compile
 * limit is exceeded, -ENOMEM.
 */
int json_schema_compile(JsonSchema **ret, json_t *schema, const char *base_uri, const JsonSchemaOptions *opts,
                        char **ret_error);

/* json_schema_free(): NULL in, NULL out. Must not race with validation. */
JsonSchema *json_schema_free(JsonSchema *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(JsonSchema *, json_schema_free);

/* One validation failure. All three strings are owned by the error list. */
typedef struct JsonSchemaError {
        char *instance_location; /* JSON pointer into the instance, "" is the root */
        char *keyword_location;  /* "<document uri>#<JSON pointer>" of the failing keyword;
                                         * the uri is empty for the compiled root document */
        char *message;           /* short, human readable */
} JsonSchemaError;

/* A bounded error list. Initialise with json_schema_errors_init(). */
typedef struct JsonSchemaErrors {
        JsonSchemaError *items;
        size_t n;
        size_t max;     /* at most this many are kept */
        bool truncated; /* more failures happened than were kept */
} JsonSchemaErrors;

#define JSON_SCHEMA_DEFAULT_MAX_ERRORS 16
#define JSON_SCHEMA_CAP_MAX_ERRORS 1000

/* json_schema_errors_init(): empty list keeping at most `max` errors (0: default; capped). */
void json_schema_errors_init(JsonSchemaErrors *errs, size_t max);
/* json_schema_errors_clear(): free all entries; the list can be reused. */
void json_schema_errors_clear(JsonSchemaErrors *errs);

/*
 * json_schema_validate(): check `instance` against the compiled schema.
 * `errs` may be NULL (then evaluation stops at the first failure, the
 * fastest mode); otherwise failures are appended to it (up to errs->max).
 * Errors inside `anyOf`/`oneOf`/`not`/`if`/`contains` branches are folded
 * into one error at that keyword. When a limit is hit the call stops and,
 * if `errs` is given, the last error says which limit.
 *
 * Thread-safe on the same JsonSchema (see Caveats). Allocates only to
 * report errors, for `uniqueItems` on arrays longer than 16 items, for
 * `unevaluated*` on instances with more than 256 members, for
 * `propertyNames` and for an asserted `format: regex`.
 *
 * Return: 0 valid, JSON_SCHEMA_E_INVALID invalid; -ELOOP when the
 * evaluation depth limit is exceeded, -E2BIG when a string, array or object
 * of the instance is above its limit, -ETIME when the step or regex match
 * limit is hit, -ENOMEM.
 */
int json_schema_validate(const JsonSchema *s, const json_t *instance, JsonSchemaErrors *errs);

/* json_schema_dialect(): the dialect of the root document. */
JsonSchemaDialect json_schema_dialect(const JsonSchema *s);

/*
 * json_schema_uri_resolve(): `ref` resolved against the absolute URI `base` (RFC 3986), as the
 * compiler resolves `$ref` and `$id`: the reference keeps its fragment, if any. Return: a
 * malloc()ed URI, or NULL (out of memory).
 */
char *json_schema_uri_resolve(const char *base, const char *ref);

/*
 * json_schema_format_from_name(): the JsonSchemaFormat bit for a format name
 * ("date-time", ...), or 0 when the name is not one this module can assert.
 * Registry files name the formats they enable this way.
 */
unsigned json_schema_format_from_name(const char *name);
