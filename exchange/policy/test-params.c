/* test-params.c: unit tests for the declared path and query parameters of a request (params.c, payload_validate_text) */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "policy/params.h"
#include "validate/jsonschema.h"
#include "validate/payload.h"

static JsonSchema *compile(const char *text)
{
        json_t *doc = json_loads(text, 0, NULL);
        JsonSchema *s = NULL;

        assert(doc && json_schema_compile(&s, doc, NULL, NULL, NULL) == 0);
        json_decref(doc);
        return s;
}

static void test_text(void)
{
        JsonSchema *integer = compile("{\"type\": \"integer\", \"minimum\": 1}");
        JsonSchema *plate = compile("{\"type\": \"string\", \"pattern\": \"^[0-9]{2}[A-Z]-[0-9]{5}$\"}");
        JsonSchema *flag = compile("{\"type\": \"boolean\"}");
        JsonSchema *anything = compile("{\"type\": [\"string\", \"null\"]}");
        json_t *errors = NULL;

        assert(payload_validate_text(integer, "42", &errors) == 0 && !errors);
        assert(payload_validate_text(integer, "0", &errors) == 1);
        /* the reading as a number is the one that failed: its error names the keyword */
        assert(strstr(json_string_value(json_object_get(json_array_get(errors, 0), "keyword")), "minimum"));
        json_decref(errors);
        errors = NULL;
        assert(payload_validate_text(integer, "4.5", &errors) == 1);
        json_decref(errors);
        errors = NULL;
        assert(payload_validate_text(integer, " 42", &errors) == 1); /* no blank: only the text */
        json_decref(errors);
        errors = NULL;
        assert(payload_validate_text(integer, "\"42\"", &errors) == 1); /* a JSON string is text, not 42 */
        json_decref(errors);
        errors = NULL;
        assert(payload_validate_text(plate, "29A-12345", &errors) == 0);
        assert(payload_validate_text(plate, "29A-1234", &errors) == 1);
        assert(strstr(json_string_value(json_object_get(json_array_get(errors, 0), "keyword")), "pattern"));
        json_decref(errors);
        errors = NULL;
        assert(payload_validate_text(plate, "12345", &errors) == 1); /* a number is no plate either */
        json_decref(errors);
        errors = NULL;
        assert(payload_validate_text(flag, "true", &errors) == 0 && payload_validate_text(flag, "yes", &errors) == 1);
        json_decref(errors);
        errors = NULL;
        assert(payload_validate_text(anything, "null", &errors) == 0 &&
               payload_validate_text(anything, "", &errors) == 0);
        assert(payload_validate_text(anything, "\xff", &errors) == 1); /* not UTF-8 */
        json_decref(errors);

        json_schema_free(integer);
        json_schema_free(plate);
        json_schema_free(flag);
        json_schema_free(anything);
}

/* The refusal's problem and its first error's place. */
static void refused(const RegistryService *svc, const char *path, const char *query, const char *in, const char *name,
                    const char *detail)
{
        json_t *errors = NULL, *e;
        Problem p = {};

        if (params_check(svc, path, query, &errors, &p) != 1 || p.type != PROBLEM_PARAMETER_INVALID) {
                fprintf(stderr, "%s ? %s: not refused\n", path, query ? query : "");
                assert(false);
        }
        e = json_array_get(errors, 0);
        assert(e && strcmp(json_string_value(json_object_get(e, "in")), in) == 0);
        assert(strcmp(json_string_value(json_object_get(e, "parameter")), name) == 0);
        if (!strstr(p.detail, detail)) {
                fprintf(stderr, "detail '%s', want '%s'\n", p.detail, detail);
                assert(false);
        }
        json_decref(errors);
}

static void accepted(const RegistryService *svc, const char *path, const char *query)
{
        json_t *errors = NULL;
        Problem p = {};

        if (params_check(svc, path, query, &errors, &p) != 0) {
                fprintf(stderr, "%s ? %s: refused: %s\n", path, query ? query : "", p.detail);
                assert(false);
        }
        assert(!errors && p.type == PROBLEM_NONE);
}

static void test_check(void)
{
        char *paths[] = { "/vehicles/{plate}", "/vehicles/{plate}/owners/**", "/free/{any}", NULL };
        RegistryParameter params[] = {
                { REGISTRY_PARAMETER_PATH, "plate", true, "x",
                  compile("{\"type\": \"string\", \"pattern\": \"^[0-9]{2}[A-Z]-[0-9]{5}$\"}") },
                { REGISTRY_PARAMETER_QUERY, "limit", false, "x",
                  compile("{\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100}") },
                { REGISTRY_PARAMETER_QUERY, "lang", true, NULL, NULL },
        };
        RegistryService svc = { .id = "EE/GOV/1/reg/vehicles",
                                .paths = paths,
                                .parameters = params,
                                .n_parameters = 3,
                                .personal_data = true,
                                .subject = { REGISTRY_SUBJECT_QUERY, "person", 0 } };
        RegistryService plain = { .id = "EE/GOV/1/reg/plain", .paths = paths, .parameters = params, .n_parameters = 1 };

        /* path segments: the first path that matches names them */
        accepted(&svc, "/vehicles/29A-12345", "lang=vi");
        accepted(&svc, "/vehicles/29A-12345/owners/x/y", "lang=vi");
        accepted(&svc, "/free/whatever", "lang=vi"); /* {any} has no declared schema */
        accepted(&svc, "/elsewhere", "lang=vi");     /* refused elsewhere (no path matches) */
        refused(&svc, "/vehicles/29A-1234", "lang=vi", "path", "plate", "does not match its schema");
        refused(&svc, "/vehicles/drop table/owners", "lang=vi", "path", "plate", "does not match its schema");

        /* query: declared ones checked, names ignoring case, values decoded */
        accepted(&svc, "/vehicles/29A-12345", "lang=vi&limit=10");
        accepted(&svc, "/vehicles/29A-12345", "LIMIT=1&Lang=en&&");
        accepted(&svc, "/vehicles/29A-12345", "li%6Dit=%31%30&lang=a+b");
        accepted(&svc, "/vehicles/29A-12345", "lang&person=001"); /* the subject's parameter is known */
        refused(&svc, "/vehicles/29A-12345", "lang=vi&limit=0", "query", "limit", "does not match its schema");
        refused(&svc, "/vehicles/29A-12345", "lang=vi&limit=ten", "query", "limit", "does not match its schema");
        refused(&svc, "/vehicles/29A-12345", "lang=vi&limit", "query", "limit", "does not match its schema");
        refused(&svc, "/vehicles/29A-12345", "lang=vi&limit=1&limit=2", "query", "limit", "is given twice");
        refused(&svc, "/vehicles/29A-12345", "lang=vi&Lang=en", "query", "Lang", "is given twice");
        refused(&svc, "/vehicles/29A-12345", "lang=vi&person=1&person=2", "query", "person", "is given twice");
        refused(&svc, "/vehicles/29A-12345", "lang=vi&debug=1", "query", "debug",
                "is not in the service's description");
        refused(&svc, "/vehicles/29A-12345", "limit=5", "query", "lang", "is required");
        refused(&svc, "/vehicles/29A-12345", NULL, "query", "lang", "is required");
        refused(&svc, "/vehicles/29A-12345", "lang=%zz", "query", "?", "is not percent-encoded correctly");

        /* a service that declares no query parameter takes any query, as before */
        accepted(&plain, "/vehicles/29A-12345", "anything=1&anything=2");
        refused(&plain, "/vehicles/1", "anything=1", "path", "plate", "does not match its schema");

        for (size_t i = 0; i < 2; i++)
                json_schema_free(params[i].validator);
}

int main(void)
{
        test_text();
        test_check();
        printf("params: ok\n");
        return 0;
}
