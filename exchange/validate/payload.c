/* payload.c: a JSON payload against a service's schema, with errors a client can read */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "validate/payload.h"

static json_t *schema_error(const char *instance, const char *keyword, const char *message)
{
        return json_pack("{s:s,s:s,s:s}", "instance", instance, "keyword", keyword, "message", message);
}

/* A list of one error. Return: 1 (invalid), or -ENOMEM. */
static int one_error(const char *message, json_t **ret_errors)
{
        json_t *list = json_array();

        if (!list || json_array_append_new(list, schema_error("", "", message)) < 0) {
                json_decref(list);
                return -ENOMEM;
        }
        *ret_errors = list;
        return 1;
}

/* The errors of `doc` against `schema` as a list for the client. Return: 0 valid, 1 invalid, -ENOMEM. */
static int validate_doc(const JsonSchema *schema, const json_t *doc, json_t **ret_errors)
{
        JsonSchemaErrors errs;
        json_t *list;
        int r;

        json_schema_errors_init(&errs, 16);
        r = json_schema_validate(schema, doc, &errs);
        if (r == 0 || r == -ENOMEM) {
                json_schema_errors_clear(&errs);
                return r;
        }
        if (r < 0 && errs.n == 0) {
                json_schema_errors_clear(&errs);
                return one_error("the document exceeds the validation limits", ret_errors);
        }
        list = json_array();
        for (size_t i = 0; list && i < errs.n; i++) {
                const JsonSchemaError *e = &errs.items[i];
                if (json_array_append_new(list, schema_error(e->instance_location, e->keyword_location, e->message)) <
                    0) {
                        json_decref(list);
                        list = NULL;
                }
        }
        json_schema_errors_clear(&errs);
        if (!list)
                return -ENOMEM;
        *ret_errors = list;
        return 1;
}

int payload_validate_text(const JsonSchema *schema, const char *text, json_t **ret_errors)
{
        json_t *s = json_string(text), *scalar = NULL;
        int r;

        if (!s)
                return one_error("the value is not UTF-8 text", ret_errors);
        r = json_schema_validate(schema, s, NULL);
        json_decref(s);
        if (r == 0 || r == -ENOMEM)
                return r;
        /* not as a string: as a number, true, false or null, when written as one */
        if (text[0] && !strchr(" \t\r\n", text[0]))
                scalar = json_loads(text, JSON_DECODE_ANY, NULL);
        if (!scalar || json_is_string(scalar) || json_is_object(scalar) || json_is_array(scalar)) {
                json_decref(scalar);
                scalar = json_string(text);
        }
        if (!scalar)
                return -ENOMEM;
        r = validate_doc(schema, scalar, ret_errors);
        json_decref(scalar);
        return r;
}

int payload_validate(const JsonSchema *schema, const void *data, size_t size, json_t **ret_errors, json_t **ret_doc)
{
        json_error_t jerr;
        json_t *doc;
        int r;

        doc = size ? json_loadb(data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr) : NULL;
        if (!doc) {
                char msg[200];
                if (!size)
                        return one_error("a JSON document is required", ret_errors);
                snprintf(msg, sizeof(msg), "not JSON: line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
                return one_error(msg, ret_errors);
        }
        if (!schema) {
                /* parse only: the valid path allocates nothing else */
                if (ret_doc)
                        *ret_doc = doc;
                else
                        json_decref(doc);
                return 0;
        }
        r = validate_doc(schema, doc, ret_errors);
        if (r == 0 && ret_doc)
                *ret_doc = doc;
        else
                json_decref(doc);
        return r;
}
