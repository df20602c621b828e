/* payload.c: a JSON payload against a service's schema, with errors a client can read */
#include <errno.h>
#include <stdio.h>

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

int payload_validate(const JsonSchema *schema, const void *data, size_t size, json_t **ret_errors, json_t **ret_doc)
{
        JsonSchemaErrors errs;
        json_error_t jerr;
        json_t *doc, *list;
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
        json_schema_errors_init(&errs, 16);
        r = json_schema_validate(schema, doc, &errs);
        if (r == 0 && ret_doc)
                *ret_doc = doc;
        else
                json_decref(doc);
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
