/* fuzz-jsonschema.c: libFuzzer target for the JSON Schema compiler and validator (schema + instance) */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "validate/jsonformat.h"
#include "validate/jsonschema.h"

/*
 * Input: a schema document, a NUL byte, an instance document (without the
 * NUL the input is both schema and instance). The schema is compiled with
 * tight limits and every format asserted; the instance is validated with and
 * without an error list, and the two answers must agree. String instances
 * also go through every format checker.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const JsonSchemaOptions opts = {
                .format_assert_mask = JSON_SCHEMA_FORMAT_ALL,
                .limits = {
                        .max_schema_nodes = 2000,
                        .max_schema_depth = 64,
                        .max_pattern_length = 256,
                        .max_depth = 64,
                        .max_steps = 20000,
                        .regex_match_limit = 10000,
                },
        };
        const uint8_t *sep = memchr(data, 0, size);
        size_t schema_len = sep ? (size_t)(sep - data) : size;
        json_t *schema, *instance;
        JsonSchema *s = NULL;
        char *error = NULL;
        int r;

        if (size > 65536)
                return 0;
        schema = json_loadb((const char *)data, schema_len, JSON_DECODE_ANY, NULL);
        if (!schema)
                return 0;
        instance = sep ? json_loadb((const char *)sep + 1, size - schema_len - 1, JSON_DECODE_ANY, NULL)
                       : json_incref(schema);
        r = json_schema_compile(&s, schema, NULL, &opts, &error);
        assert(r == 0 || (r < 0 && error != NULL) || r == -ENOMEM);
        if (r == 0 && instance) {
                JsonSchemaErrors errs;
                int v1 = json_schema_validate(s, instance, NULL), v2;

                json_schema_errors_init(&errs, 4);
                v2 = json_schema_validate(s, instance, &errs);
                assert(v1 == 0 || v1 == JSON_SCHEMA_E_INVALID || v1 < 0);
                assert(v1 == v2);
                assert(v2 != JSON_SCHEMA_E_INVALID || errs.n > 0);
                assert(v2 != 0 || errs.n == 0);
                for (size_t i = 0; i < errs.n; i++)
                        assert(errs.items[i].instance_location && errs.items[i].keyword_location &&
                               errs.items[i].message);
                json_schema_errors_clear(&errs);
        }
        if (json_is_string(instance))
                for (unsigned bit = 1; bit & JSON_SCHEMA_FORMAT_ALL; bit <<= 1)
                        (void)jsonformat_check(bit, json_string_value(instance), json_string_length(instance));
        json_schema_free(s);
        free(error);
        json_decref(schema);
        json_decref(instance);
        return 0;
}
