/* jsonschema-validate.c: validate an instance against compiled Nodes (the request path) */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "validate/jsonformat.h"
#include "validate/jsonschema-internal.h"

/* ---- validation ---- */

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
                ctx_set_fatal(c,
                              r == -ETIME    ? -ETIME
                              : r == -ENOMEM ? -ENOMEM
                                             : -EINVAL,
                              r == -ETIME ? "regular expression match limit exceeded"
                                          : "regular expression match failed");
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
                        ctx_set_fatal(c, -E2BIG, "string longer than the limit");
                        return false;
                }
                return true;
        case JSON_ARRAY:
                if (json_array_size(inst) > c->limits->max_array_size) {
                        ctx_set_fatal(c, -E2BIG, "array larger than the limit");
                        return false;
                }
                return true;
        case JSON_OBJECT:
                if (json_object_size(inst) > c->limits->max_object_size) {
                        ctx_set_fatal(c, -E2BIG, "object larger than the limit");
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
                        ctx_report(c, n, "multipleOf", "must be a multiple of %s", num);
                        FAIL();
                }
        }
        if ((n->has & HAS_MINIMUM) && v < n->minimum) {
                format_number(n->minimum_json, num, sizeof(num));
                ctx_report(c, n, "minimum", "must be >= %s", num);
                FAIL();
        }
        if ((n->has & HAS_MAXIMUM) && v > n->maximum) {
                format_number(n->maximum_json, num, sizeof(num));
                ctx_report(c, n, "maximum", "must be <= %s", num);
                FAIL();
        }
        if ((n->has & HAS_EXCLUSIVE_MINIMUM) && v <= n->exclusive_minimum) {
                format_number(n->exclusive_minimum_json, num, sizeof(num));
                ctx_report(c, n, "exclusiveMinimum", "must be > %s", num);
                FAIL();
        }
        if ((n->has & HAS_EXCLUSIVE_MAXIMUM) && v >= n->exclusive_maximum) {
                format_number(n->exclusive_maximum_json, num, sizeof(num));
                ctx_report(c, n, "exclusiveMaximum", "must be < %s", num);
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
                        ctx_report(c, n, "minLength", "must be at least %zu characters long", n->min_length);
                        FAIL();
                }
                if ((n->has & HAS_MAX_LENGTH) && chars > n->max_length) {
                        ctx_report(c, n, "maxLength", "must be at most %zu characters long", n->max_length);
                        FAIL();
                }
        }
        if (n->pattern) {
                int r = regex_test(c, n->pattern, s, len);
                if (r < 0)
                        return false;
                if (r == 0) {
                        ctx_report(c, n, "pattern", "must match the pattern '%.*s'",
                                   short_len(n->pattern_source, strlen(n->pattern_source)), n->pattern_source);
                        FAIL();
                }
        }
        if ((n->has & HAS_FORMAT) && !jsonformat_check(n->format, s, len)) {
                ctx_report(c, n, "format", "is not a valid %s", n->format_name);
                FAIL();
        }
done:
        return valid;
}

/* Every member against properties, patternProperties and additionalProperties; marks what they evaluated. */
static bool validate_members(Ctx *c, const Node *n, const json_t *inst, Annot *a)
{
        bool valid = true;
        size_t idx = 0;

        for (void *it = json_object_iter((json_t *)inst); it; it = json_object_iter_next((json_t *)inst, it), idx++) {
                const char *key = json_object_iter_key(it);
                size_t klen = json_object_iter_key_len(it);
                json_t *v = json_object_iter_value(it);
                const PropEntry *p = n->n_properties ? prop_find(n->properties, n->n_properties, key, klen) : NULL;
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
                                ctx_report(c, n, "additionalProperties", "property '%.*s' is not allowed",
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
done:
        return valid;
}

static bool validate_property_names(Ctx *c, const Node *n, const json_t *inst)
{
        bool valid = true;

        for (void *it = json_object_iter((json_t *)inst); it; it = json_object_iter_next((json_t *)inst, it)) {
                const char *key = json_object_iter_key(it);
                size_t klen = json_object_iter_key_len(it);
                json_t *name;
                bool ok;

                if (klen > c->limits->max_string_length) {
                        ctx_set_fatal(c, -E2BIG, "member name longer than the limit");
                        return false;
                }
                name = json_stringn_nocheck(key, klen);
                if (!name) {
                        ctx_set_fatal(c, -ENOMEM, "out of memory");
                        return false;
                }
                path_push_key(c, key, klen);
                if (n->property_names->is_bool && !n->property_names->bool_value) {
                        ctx_report(c, n, "propertyNames", "property name '%.*s' is not allowed", short_len(key, klen),
                                   key);
                        ok = false;
                } else
                        ok = validate_node(c, n->property_names, name, NULL);
                path_pop(c);
                json_decref(name);
                if (!ok)
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
                ctx_report(c, n, "minProperties", "must have at least %zu properties", n->min_properties);
                FAIL();
        }
        if ((n->has & HAS_MAX_PROPERTIES) && json_object_size(inst) > n->max_properties) {
                ctx_report(c, n, "maxProperties", "must have at most %zu properties", n->max_properties);
                FAIL();
        }
        for (size_t i = 0; i < n->n_required; i++)
                if (!json_object_getn(inst, n->required[i].s, n->required[i].len)) {
                        ctx_report(c, n, "required", "required property '%.*s' is missing",
                                   short_len(n->required[i].s, n->required[i].len), n->required[i].s);
                        FAIL();
                }
        for (size_t i = 0; i < n->n_dep_required; i++) {
                const DepRequired *d = &n->dep_required[i];
                if (!json_object_getn(inst, d->name.s, d->name.len))
                        continue;
                for (size_t k = 0; k < d->n_required; k++)
                        if (!json_object_getn(inst, d->required[k].s, d->required[k].len)) {
                                ctx_report(c, n, n->dep_required_kw,
                                           "property '%.*s' is required when '%.*s' is present",
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
        } else if ((n->n_properties > 0 || n->n_pattern_props > 0 || n->additional_properties) &&
                   !validate_members(c, n, inst, a))
                FAIL();
        if (n->property_names && !validate_property_names(c, n, inst))
                FAIL();
done:
        return valid;
}

static bool validate_array(Ctx *c, const Node *n, const json_t *inst, Annot *a)
{
        size_t size = json_array_size(inst);
        bool valid = true;

        if ((n->has & HAS_MIN_ITEMS) && size < n->min_items) {
                ctx_report(c, n, "minItems", "must have at least %zu items", n->min_items);
                FAIL();
        }
        if ((n->has & HAS_MAX_ITEMS) && size > n->max_items) {
                ctx_report(c, n, "maxItems", "must have at most %zu items", n->max_items);
                FAIL();
        }
        if (n->has & HAS_UNIQUE_ITEMS) {
                size_t i = 0, j = 0;
                if (!items_unique(c, inst, &i, &j)) {
                        if (c->fatal)
                                return false;
                        ctx_report(c, n, "uniqueItems", "must not have duplicate items (items %zu and %zu are equal)",
                                   i, j);
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
                                ctx_report(c, n, n->items_kw, "no item is allowed at this position");
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
                                ctx_report(c, n, "minContains", "must contain at least %zu items matching 'contains'",
                                           min);
                        else
                                ctx_report(c, n, "contains", "must contain an item matching 'contains'");
                        FAIL();
                }
                if ((n->has & HAS_MAX_CONTAINS) && matches > n->max_contains) {
                        ctx_report(c, n, "maxContains", "must contain at most %zu items matching 'contains'",
                                   n->max_contains);
                        FAIL();
                }
        }
done:
        return valid;
}

/* type, const and enum: the keywords that apply to every instance */
static bool validate_any_type(Ctx *c, const Node *n, const json_t *inst)
{
        bool valid = true;

        if (n->types && !type_matches(n->types, inst)) {
                char buf[96];
                types_text(n->types, buf, sizeof(buf));
                ctx_report(c, n, "type", "must be %s, not %s", buf, type_name(inst));
                FAIL();
        }
        if (n->const_value && !value_equal(c, n->const_value, inst, 0)) {
                ctx_report(c, n, "const", "must be equal to the constant");
                FAIL();
        }
        if (n->enum_values) {
                bool found = false;
                for (size_t i = 0; i < json_array_size(n->enum_values) && !found; i++)
                        found = value_equal(c, json_array_get(n->enum_values, i), inst, 0);
                if (!found) {
                        ctx_report(c, n, "enum", "must be one of the allowed values");
                        FAIL();
                }
        }
done:
        return valid;
}

/* anyOf; `tmp` (NULL when nothing is collected) takes each branch's annotations, merged into `a` on a match. */
static bool validate_any_of(Ctx *c, const Node *n, const json_t *inst, Annot *a, Annot *tmp)
{
        bool any = false;

        for (size_t i = 0; i < n->n_any_of; i++) {
                if (tmp)
                        annot_reset(tmp);
                if (validate_quiet(c, n->any_of[i], inst, tmp)) {
                        any = true;
                        if (!tmp)
                                break;
                        annot_merge(a, tmp);
                }
                if (c->fatal)
                        return false;
        }
        if (!any) {
                ctx_report(c, n, "anyOf", "must match at least one schema in 'anyOf'");
                return false;
        }
        return true;
}

/* oneOf, with annotations as for anyOf (only the first match's count). */
static bool validate_one_of(Ctx *c, const Node *n, const json_t *inst, Annot *a, Annot *tmp)
{
        size_t first = SIZE_MAX, second = SIZE_MAX;

        for (size_t i = 0; i < n->n_one_of && second == SIZE_MAX; i++) {
                if (tmp)
                        annot_reset(tmp);
                if (validate_quiet(c, n->one_of[i], inst, tmp)) {
                        if (first == SIZE_MAX) {
                                first = i;
                                if (tmp)
                                        annot_merge(a, tmp);
                        } else
                                second = i;
                }
                if (c->fatal)
                        return false;
        }
        if (first == SIZE_MAX) {
                ctx_report(c, n, "oneOf", "must match exactly one schema in 'oneOf' (matched none)");
                return false;
        }
        if (second != SIZE_MAX) {
                ctx_report(c, n, "oneOf", "must match exactly one schema in 'oneOf' (matched %zu and %zu)", first,
                           second);
                return false;
        }
        return true;
}

/* in-place applicators: same instance, annotations flow into `a` */
static bool validate_in_place(Ctx *c, const Node *n, const json_t *inst, Annot *a)
{
        Annot tmp;
        bool valid = true, have_tmp = false;

        if (n->ref && !validate_node(c, n->ref, inst, a))
                FAIL();
        if (n->dynref && !validate_node(c, dynamic_target(c, n), inst, a))
                FAIL();
        for (size_t i = 0; i < n->n_all_of; i++)
                if (!validate_node(c, n->all_of[i], inst, a))
                        FAIL();
        if ((n->n_any_of || n->n_one_of || n->if_) && a) {
                if (annot_init(&tmp, a->n) < 0) {
                        ctx_set_fatal(c, -ENOMEM, "out of memory");
                        goto done;
                }
                have_tmp = true;
        }
        if (n->n_any_of && !validate_any_of(c, n, inst, a, have_tmp ? &tmp : NULL))
                FAIL();
        if (n->n_one_of && !validate_one_of(c, n, inst, a, have_tmp ? &tmp : NULL))
                FAIL();
        if (n->not_) {
                bool r = validate_quiet(c, n->not_, inst, NULL);
                if (c->fatal)
                        goto done;
                if (r) {
                        ctx_report(c, n, "not", "must not match the schema in 'not'");
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
done:
        if (have_tmp)
                annot_done(&tmp);
        return valid && !c->fatal;
}

/* unevaluatedProperties: the members no other keyword evaluated (not set in `a`). */
static bool validate_unevaluated_properties(Ctx *c, const Node *n, const json_t *inst, const Annot *a)
{
        const Node *u = n->unevaluated_properties;
        bool valid = true;
        size_t idx = 0;

        for (void *it = json_object_iter((json_t *)inst); it; it = json_object_iter_next((json_t *)inst, it), idx++) {
                const char *key = json_object_iter_key(it);
                size_t klen = json_object_iter_key_len(it);
                bool ok;
                if (annot_get(a, idx))
                        continue;
                path_push_key(c, key, klen);
                if (u->is_bool && !u->bool_value) {
                        ctx_report(c, n, "unevaluatedProperties", "property '%.*s' is not allowed",
                                   short_len(key, klen), key);
                        ok = false;
                } else
                        ok = validate_node(c, u, json_object_iter_value(it), NULL);
                path_pop(c);
                if (!ok)
                        FAIL();
        }
done:
        return valid;
}

/* unevaluatedItems: the items no other keyword evaluated (not set in `a`). */
static bool validate_unevaluated_items(Ctx *c, const Node *n, const json_t *inst, const Annot *a)
{
        const Node *u = n->unevaluated_items;
        bool valid = true;

        for (size_t i = 0; i < json_array_size(inst); i++) {
                bool ok;
                if (annot_get(a, i))
                        continue;
                path_push_index(c, i);
                if (u->is_bool && !u->bool_value) {
                        ctx_report(c, n, "unevaluatedItems", "item is not allowed here");
                        ok = false;
                } else
                        ok = validate_node(c, u, json_array_get(inst, i), NULL);
                path_pop(c);
                if (!ok)
                        FAIL();
        }
done:
        return valid;
}

static bool validate_node(Ctx *c, const Node *n, const json_t *inst, Annot *annot)
{
        Annot local;
        Annot *a = annot;
        bool valid = true, own = false, pushed = false;
        json_type type;

        if (c->fatal)
                return false;
        if (n->is_bool) {
                if (!n->bool_value)
                        ctx_report(c, n, NULL, "no value is allowed here");
                return n->bool_value;
        }
        if (_unlikely_(++c->steps > c->limits->max_steps)) {
                ctx_set_fatal(c, -ETIME, "validation step limit exceeded");
                return false;
        }
        if (_unlikely_(c->depth >= c->limits->max_depth)) {
                ctx_set_fatal(c, -ELOOP, "evaluation nested deeper than the limit");
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
        if ((n->types || n->const_value || n->enum_values) && !validate_any_type(c, n, inst))
                FAIL();
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
        case JSON_ARRAY:
                /* unevaluated*: collect what the other keywords evaluate */
                if (type == JSON_OBJECT ? !!n->unevaluated_properties : !!n->unevaluated_items) {
                        size_t size = type == JSON_OBJECT ? json_object_size(inst) : json_array_size(inst);
                        if (annot_init(&local, size) < 0) {
                                ctx_set_fatal(c, -ENOMEM, "out of memory");
                                goto done;
                        }
                        own = true;
                        a = &local;
                }
                break;
        default:
                break;
        }

        if (!validate_in_place(c, n, inst, a))
                FAIL();
        if (type == JSON_OBJECT) {
                if (!validate_object(c, n, inst, a))
                        FAIL();
                if (n->unevaluated_properties && !validate_unevaluated_properties(c, n, inst, a))
                        FAIL();
        } else if (type == JSON_ARRAY) {
                if (!validate_array(c, n, inst, a))
                        FAIL();
                if (n->unevaluated_items && !validate_unevaluated_items(c, n, inst, a))
                        FAIL();
        }

done:
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
                        ctx_errors_add(&c, loc, kw, msg);
                }
                free(c.fatal_path);
                return r;
        }
        return valid ? 0 : JSON_SCHEMA_E_INVALID;
}
