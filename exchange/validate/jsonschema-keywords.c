/* jsonschema-keywords.c: the keyword table, and what each keyword compiles into */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "validate/jsonformat.h"
#include "validate/jsonschema-internal.h"

/* What a keyword is, whatever its name in a dialect ("$defs" and "definitions" are one). */
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

/* ---- compiling keyword values: subschemas, sizes, numbers, arrays and maps of schemas ---- */

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

void decimal_from_json(const json_t *v, Decimal *ret)
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
bool decimal_is_multiple(const Decimal *x, const Decimal *m)
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

/* ---- keyword compilers: one per kind of keyword, dispatched through the table below ---- */

typedef struct KeywordDef KeywordDef;

/* Check the value `v` of keyword `kd` and store its compiled form in `n`. Return: 0 or a negative errno. */
typedef int (*KeywordCompile)(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v);

struct KeywordDef {
        const char *name;
        KeywordId id;
        uint8_t dialects;
        uint8_t vocab; /* 2020-12 vocabulary (any of these bits) */
        KeywordCompile compile;
};

/* $schema, $id, $anchor, $dynamicAnchor, $vocabulary: handled before; annotations: no effect. */
static int kw_none(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        return 0;
}

static int kw_ref(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        if (!json_is_string(v))
                return cfail(c, -EINVAL, "keyword '%s' at %s must be a string", kd->name, WHERE(sc));
        return add_pending(c, n, sc, json_string_value(v), kd->id == KW_DYNAMIC_REF);
}

static int kw_defs(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        PropEntry *defs;
        size_t nd;

        return compile_schema_map(c, sc, v, kd->name, &defs, &nd);
}

static int kw_content_schema(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        int r = 0;

        return compile_sub(c, sc, v, kd->name, NULL, 0, &r) ? 0 : r;
}

static int kw_type(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
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
}

static int kw_enum(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        if (!json_is_array(v))
                return cfail(c, -EINVAL, "keyword 'enum' at %s must be an array", WHERE(sc));
        n->enum_values = v;
        return 0;
}

static int kw_const(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        n->const_value = v;
        return 0;
}

static int kw_multiple_of(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        if (!json_is_number(v) || number_value(v) <= 0 || (json_is_real(v) && !isfinite(json_real_value(v))))
                return cfail(c, -EINVAL, "keyword 'multipleOf' at %s must be a number above 0", WHERE(sc));
        decimal_from_json(v, &n->multiple_of);
        n->multiple_of_json = v;
        n->has |= HAS_MULTIPLE_OF;
        return 0;
}

/* maximum, exclusiveMaximum, minimum, exclusiveMinimum */
static int kw_bound(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        if (!json_is_number(v))
                return cfail(c, -EINVAL, "keyword '%s' at %s must be a number", kd->name, WHERE(sc));
        if (kd->id == KW_MAXIMUM)
                n->maximum = number_value(v), n->maximum_json = v, n->has |= HAS_MAXIMUM;
        else if (kd->id == KW_EXCLUSIVE_MAXIMUM)
                n->exclusive_maximum = number_value(v), n->exclusive_maximum_json = v, n->has |= HAS_EXCLUSIVE_MAXIMUM;
        else if (kd->id == KW_MINIMUM)
                n->minimum = number_value(v), n->minimum_json = v, n->has |= HAS_MINIMUM;
        else
                n->exclusive_minimum = number_value(v), n->exclusive_minimum_json = v, n->has |= HAS_EXCLUSIVE_MINIMUM;
        return 0;
}

/* maxLength, minLength, maxItems, minItems, maxContains, minContains, maxProperties, minProperties */
static int kw_size(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
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
                                return cfail(c, -EINVAL, "keyword '%s' at %s must be a non-negative integer", kd->name,
                                             WHERE(sc));
                        n->has |= fields[i].bit;
                }
        return 0;
}

static int kw_pattern(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        if (!json_is_string(v))
                return cfail(c, -EINVAL, "keyword 'pattern' at %s must be a string", WHERE(sc));
        n->pattern_source = json_string_value(v);
        return compile_regex(c, sc, kd->name, json_string_value(v), json_string_length(v), &n->pattern);
}

static int kw_unique_items(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        if (!json_is_boolean(v))
                return cfail(c, -EINVAL, "keyword 'uniqueItems' at %s must be a boolean", WHERE(sc));
        if (json_is_true(v))
                n->has |= HAS_UNIQUE_ITEMS;
        return 0;
}

static int kw_required(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        return compile_string_array(c, sc, v, kd->name, &n->required, &n->n_required);
}

/* dependentRequired, and draft-07's dependencies (names to arrays of names, or to schemas) */
static int kw_dependencies(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        const char *kw = kd->name, *key;
        json_t *e;
        size_t nreq = 0, nsch = 0, total;
        int r = 0;

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

static int kw_format(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
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

static int kw_prefix_items(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        return compile_schema_array(c, sc, v, kd->name, &n->prefix_items, &n->n_prefix_items);
}

static int kw_items(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        int r = 0;

        if (sc->dialect == JSON_SCHEMA_DRAFT_07 && json_is_array(v)) {
                /* draft-07 array form: what 2020-12 calls prefixItems (may be empty here) */
                if (json_array_size(v) == 0)
                        return 0;
                return compile_schema_array(c, sc, v, kd->name, &n->prefix_items, &n->n_prefix_items);
        }
        n->items = compile_sub(c, sc, v, kd->name, NULL, 0, &r);
        n->items_kw = kd->name;
        return n->items ? 0 : r;
}

/* only applies next to an array-form "items"; compiled either way for $ref targets */
static int kw_additional_items(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        int r = 0;
        Node *sub = compile_sub(c, sc, v, kd->name, NULL, 0, &r);
        json_t *items = json_object_get(n->json, "items");

        if (!sub)
                return r;
        if (json_is_array(items)) {
                n->items = sub;
                n->items_kw = kd->name;
        }
        return 0;
}

static int kw_properties(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        return compile_schema_map(c, sc, v, kd->name, &n->properties, &n->n_properties);
}

static int kw_pattern_properties(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        const char *kw = kd->name, *key;
        json_t *sub;
        size_t i = 0;
        int r = 0;

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

static int kw_dependent_schemas(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        n->dep_schemas_kw = kd->name;
        return compile_schema_map(c, sc, v, kd->name, &n->dep_schemas, &n->n_dep_schemas);
}

/* The keywords whose value is one subschema, kept in one Node field. */
static int kw_subschema(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        static const size_t field[] = {
                [KW_CONTAINS] = offsetof(Node, contains),
                [KW_ADDITIONAL_PROPERTIES] = offsetof(Node, additional_properties),
                [KW_PROPERTY_NAMES] = offsetof(Node, property_names),
                [KW_IF] = offsetof(Node, if_),
                [KW_THEN] = offsetof(Node, then_),
                [KW_ELSE] = offsetof(Node, else_),
                [KW_NOT] = offsetof(Node, not_),
                [KW_UNEVALUATED_ITEMS] = offsetof(Node, unevaluated_items),
                [KW_UNEVALUATED_PROPERTIES] = offsetof(Node, unevaluated_properties),
        };
        Node **slot = (Node **)((char *)n + field[kd->id]);
        int r = 0;

        *slot = compile_sub(c, sc, v, kd->name, NULL, 0, &r);
        return *slot ? 0 : r;
}

static int kw_all_of(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        return compile_schema_array(c, sc, v, kd->name, &n->all_of, &n->n_all_of);
}

static int kw_any_of(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        return compile_schema_array(c, sc, v, kd->name, &n->any_of, &n->n_any_of);
}

static int kw_one_of(Compiler *c, Node *n, const Scope *sc, const KeywordDef *kd, json_t *v)
{
        return compile_schema_array(c, sc, v, kd->name, &n->one_of, &n->n_one_of);
}

/* ---- the keyword table ---- */

/* Name, what it is, the dialects that know it, its 2020-12 vocabulary, and the function that compiles it. */
static const KeywordDef keywords[] = {
        { "$schema", KW_SCHEMA, D2020 | D07, VOCAB_CORE, kw_none },
        { "$id", KW_ID, D2020 | D07, VOCAB_CORE, kw_none },
        { "$anchor", KW_ANCHOR, D2020, VOCAB_CORE, kw_none },
        { "$dynamicAnchor", KW_DYNAMIC_ANCHOR, D2020, VOCAB_CORE, kw_none },
        { "$ref", KW_REF, D2020 | D07, VOCAB_CORE, kw_ref },
        { "$dynamicRef", KW_DYNAMIC_REF, D2020, VOCAB_CORE, kw_ref },
        { "$vocabulary", KW_VOCABULARY, D2020, VOCAB_CORE, kw_none },
        { "$comment", KW_ANNOTATION, D2020 | D07, VOCAB_CORE, kw_none },
        { "$defs", KW_DEFS, D2020, VOCAB_CORE, kw_defs },
        { "definitions", KW_DEFS, D07, 0, kw_defs },
        { "title", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA, kw_none },
        { "description", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA, kw_none },
        { "default", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA, kw_none },
        { "deprecated", KW_ANNOTATION, D2020, VOCAB_META_DATA, kw_none },
        { "readOnly", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA, kw_none },
        { "writeOnly", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA, kw_none },
        { "examples", KW_ANNOTATION, D2020 | D07, VOCAB_META_DATA, kw_none },
        { "contentEncoding", KW_ANNOTATION, D2020 | D07, VOCAB_CONTENT, kw_none },
        { "contentMediaType", KW_ANNOTATION, D2020 | D07, VOCAB_CONTENT, kw_none },
        { "contentSchema", KW_CONTENT_SCHEMA, D2020, VOCAB_CONTENT, kw_content_schema },
        { "type", KW_TYPE, D2020 | D07, VOCAB_VALIDATION, kw_type },
        { "enum", KW_ENUM, D2020 | D07, VOCAB_VALIDATION, kw_enum },
        { "const", KW_CONST, D2020 | D07, VOCAB_VALIDATION, kw_const },
        { "multipleOf", KW_MULTIPLE_OF, D2020 | D07, VOCAB_VALIDATION, kw_multiple_of },
        { "maximum", KW_MAXIMUM, D2020 | D07, VOCAB_VALIDATION, kw_bound },
        { "exclusiveMaximum", KW_EXCLUSIVE_MAXIMUM, D2020 | D07, VOCAB_VALIDATION, kw_bound },
        { "minimum", KW_MINIMUM, D2020 | D07, VOCAB_VALIDATION, kw_bound },
        { "exclusiveMinimum", KW_EXCLUSIVE_MINIMUM, D2020 | D07, VOCAB_VALIDATION, kw_bound },
        { "maxLength", KW_MAX_LENGTH, D2020 | D07, VOCAB_VALIDATION, kw_size },
        { "minLength", KW_MIN_LENGTH, D2020 | D07, VOCAB_VALIDATION, kw_size },
        { "pattern", KW_PATTERN, D2020 | D07, VOCAB_VALIDATION, kw_pattern },
        { "maxItems", KW_MAX_ITEMS, D2020 | D07, VOCAB_VALIDATION, kw_size },
        { "minItems", KW_MIN_ITEMS, D2020 | D07, VOCAB_VALIDATION, kw_size },
        { "uniqueItems", KW_UNIQUE_ITEMS, D2020 | D07, VOCAB_VALIDATION, kw_unique_items },
        { "maxContains", KW_MAX_CONTAINS, D2020, VOCAB_VALIDATION, kw_size },
        { "minContains", KW_MIN_CONTAINS, D2020, VOCAB_VALIDATION, kw_size },
        { "maxProperties", KW_MAX_PROPERTIES, D2020 | D07, VOCAB_VALIDATION, kw_size },
        { "minProperties", KW_MIN_PROPERTIES, D2020 | D07, VOCAB_VALIDATION, kw_size },
        { "required", KW_REQUIRED, D2020 | D07, VOCAB_VALIDATION, kw_required },
        { "dependentRequired", KW_DEPENDENT_REQUIRED, D2020, VOCAB_VALIDATION, kw_dependencies },
        /* draft-07's form, kept by the 2020-12 meta-schema for compatibility */
        { "dependencies", KW_DEPENDENCIES, D2020 | D07, VOCAB_APPLICATOR | VOCAB_VALIDATION, kw_dependencies },
        { "format", KW_FORMAT, D2020 | D07, VOCAB_FORMAT_ANNOTATION | VOCAB_FORMAT_ASSERTION, kw_format },
        { "prefixItems", KW_PREFIX_ITEMS, D2020, VOCAB_APPLICATOR, kw_prefix_items },
        { "items", KW_ITEMS, D2020 | D07, VOCAB_APPLICATOR, kw_items },
        { "additionalItems", KW_ADDITIONAL_ITEMS, D07, 0, kw_additional_items },
        { "contains", KW_CONTAINS, D2020 | D07, VOCAB_APPLICATOR, kw_subschema },
        { "additionalProperties", KW_ADDITIONAL_PROPERTIES, D2020 | D07, VOCAB_APPLICATOR, kw_subschema },
        { "properties", KW_PROPERTIES, D2020 | D07, VOCAB_APPLICATOR, kw_properties },
        { "patternProperties", KW_PATTERN_PROPERTIES, D2020 | D07, VOCAB_APPLICATOR, kw_pattern_properties },
        { "dependentSchemas", KW_DEPENDENT_SCHEMAS, D2020, VOCAB_APPLICATOR, kw_dependent_schemas },
        { "propertyNames", KW_PROPERTY_NAMES, D2020 | D07, VOCAB_APPLICATOR, kw_subschema },
        { "if", KW_IF, D2020 | D07, VOCAB_APPLICATOR, kw_subschema },
        { "then", KW_THEN, D2020 | D07, VOCAB_APPLICATOR, kw_subschema },
        { "else", KW_ELSE, D2020 | D07, VOCAB_APPLICATOR, kw_subschema },
        { "allOf", KW_ALL_OF, D2020 | D07, VOCAB_APPLICATOR, kw_all_of },
        { "anyOf", KW_ANY_OF, D2020 | D07, VOCAB_APPLICATOR, kw_any_of },
        { "oneOf", KW_ONE_OF, D2020 | D07, VOCAB_APPLICATOR, kw_one_of },
        { "not", KW_NOT, D2020 | D07, VOCAB_APPLICATOR, kw_subschema },
        { "unevaluatedItems", KW_UNEVALUATED_ITEMS, D2020, VOCAB_UNEVALUATED, kw_subschema },
        { "unevaluatedProperties", KW_UNEVALUATED_PROPERTIES, D2020, VOCAB_UNEVALUATED, kw_subschema },
};

static const KeywordDef *keyword_find(const char *name, size_t len, uint8_t dialect_bit)
{
        for (size_t i = 0; i < ELEMENTSOF(keywords); i++)
                if ((keywords[i].dialects & dialect_bit) && strlen(keywords[i].name) == len &&
                    memcmp(keywords[i].name, name, len) == 0)
                        return &keywords[i];
        return NULL;
}

/* The dispatch: every member of a schema object is looked up in the table and compiled by its function. */
int compile_keywords(Compiler *c, Node *n, const Scope *sc, json_t *json)
{
        uint8_t dbit = sc->dialect == JSON_SCHEMA_DRAFT_07 ? D07 : D2020;

        /* every keyword must be known; those of a vocabulary turned off are skipped */
        for (void *it = json_object_iter(json); it; it = json_object_iter_next(json, it)) {
                const char *key = json_object_iter_key(it);
                size_t klen = json_object_iter_key_len(it);
                const KeywordDef *kd = keyword_find(key, klen, dbit);
                int r;

                if (!kd)
                        return cfail(c, -EOPNOTSUPP, "keyword '%.*s' at %s is not supported", (int)MIN(klen, 100u), key,
                                     WHERE(sc));
                if (dbit == D2020 && kd->vocab && !(sc->vocab & kd->vocab))
                        continue;
                r = kd->compile(c, n, sc, kd, json_object_iter_value(it));
                if (r < 0)
                        return r;
        }
        return 0;
}
