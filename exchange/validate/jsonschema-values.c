/* jsonschema-values.c: instance values compared as JSON Schema defines it (1 == 1.0), and uniqueItems */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "validate/jsonschema-internal.h"

#define MAX_EQUAL_DEPTH 512

/* JSON equality with numbers compared by value (1 == 1.0). */
bool value_equal(Ctx *c, const json_t *a, const json_t *b, unsigned depth)
{
        if (depth > MAX_EQUAL_DEPTH) {
                ctx_set_fatal(c, -ELOOP, "instance nested too deeply");
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
                ctx_set_fatal(c, -ELOOP, "instance nested too deeply");
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
bool items_unique(Ctx *c, const json_t *arr, size_t *ret_i, size_t *ret_j)
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
                ctx_set_fatal(c, -ENOMEM, "out of memory");
                return false;
        }
        for (size_t i = 0; i < n; i++)
                h[i] = (HashIdx){ value_hash(c, json_array_get(arr, i), 0), i };
        qsort(h, n, sizeof(HashIdx), hashidx_cmp);
        for (size_t i = 0; i < n && unique && !c->fatal; i++)
                for (size_t j = i + 1; j < n && h[j].hash == h[i].hash; j++) {
                        if (++c->steps > c->limits->max_steps) {
                                ctx_set_fatal(c, -ETIME, "validation step limit exceeded");
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
