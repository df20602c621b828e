/* bench-validate.c: time to validate a typical 1 KiB request against its compiled JSON Schema */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "validate/jsonschema.h"

/* A one-stop-shop application as a provincial system would send it. */
static const char schema_text[] =
        "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        " \"$id\": \"https://schemas.xbus.gov.vn/bench/application.request.json\","
        " \"type\": \"object\","
        " \"required\": [\"subject\", \"purpose\", \"applicant\", \"documents\"],"
        " \"additionalProperties\": false,"
        " \"properties\": {"
        "  \"subject\": {\"$ref\": \"#/$defs/person-id\"},"
        "  \"purpose\": {\"enum\": [\"public-service-delivery\", \"residence-registration\", \"social-benefit-assessment\"]},"
        "  \"issue\": {\"type\": \"string\", \"maxLength\": 64},"
        "  \"applicant\": {\"type\": \"object\", \"required\": [\"full_name\", \"birth_date\", \"sex\", \"address\"],"
        "   \"additionalProperties\": false, \"properties\": {"
        "    \"full_name\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 100},"
        "    \"birth_date\": {\"$ref\": \"#/$defs/date\"},"
        "    \"sex\": {\"enum\": [\"male\", \"female\"]},"
        "    \"phone\": {\"type\": \"string\", \"pattern\": \"^0[0-9]{9}$\"},"
        "    \"email\": {\"type\": \"string\", \"format\": \"email\"},"
        "    \"address\": {\"$ref\": \"#/$defs/address\"}}},"
        "  \"documents\": {\"type\": \"array\", \"minItems\": 1, \"maxItems\": 20, \"items\": {"
        "    \"type\": \"object\", \"required\": [\"kind\", \"number\", \"issued\"], \"additionalProperties\": false,"
        "    \"properties\": {\"kind\": {\"enum\": [\"birth-certificate\", \"residence-confirmation\", \"photo\"]},"
        "     \"number\": {\"type\": \"string\", \"pattern\": \"^[A-Z0-9/-]{4,32}$\"},"
        "     \"issued\": {\"$ref\": \"#/$defs/date\"}, \"pages\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100}}}},"
        "  \"fee\": {\"type\": \"object\", \"properties\": {\"amount\": {\"type\": \"number\", \"minimum\": 0, \"multipleOf\": 1000},"
        "   \"currency\": {\"const\": \"VND\"}}, \"required\": [\"amount\", \"currency\"]}},"
        " \"$defs\": {"
        "  \"person-id\": {\"type\": \"string\", \"pattern\": \"^[0-9]{12}$\"},"
        "  \"date\": {\"type\": \"string\", \"format\": \"date\", \"pattern\": \"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$\"},"
        "  \"address\": {\"type\": \"object\", \"required\": [\"street\", \"ward\", \"province\"], \"additionalProperties\": false,"
        "   \"properties\": {\"house_number\": {\"type\": \"string\", \"maxLength\": 20},"
        "    \"street\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 100},"
        "    \"ward\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 100},"
        "    \"province\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 100}}}}}";

static const char request_text[] =
        "{\"subject\": \"001085012345\", \"purpose\": \"residence-registration\", \"issue\": \"HN-2025-000123\","
        " \"applicant\": {\"full_name\": \"Nguy\\u1ec5n Th\\u1ecb Minh Khai\", \"birth_date\": \"1985-03-14\","
        "  \"sex\": \"female\", \"phone\": \"0912345678\", \"email\": \"minhkhai.nguyen@example.vn\","
        "  \"address\": {\"house_number\": \"12A\", \"street\": \"Ph\\u1ed1 Tr\\u00e0ng Ti\\u1ec1n\","
        "   \"ward\": \"Ph\\u01b0\\u1eddng Tr\\u00e0ng Ti\\u1ec1n\", \"province\": \"H\\u00e0 N\\u1ed9i\"}},"
        " \"documents\": ["
        "  {\"kind\": \"birth-certificate\", \"number\": \"KS-1985/0412\", \"issued\": \"1985-03-20\", \"pages\": 1},"
        "  {\"kind\": \"residence-confirmation\", \"number\": \"CT07-2025-88812\", \"issued\": \"2025-05-02\", \"pages\": 2},"
        "  {\"kind\": \"photo\", \"number\": \"PH-0001\", \"issued\": \"2025-05-01\"},"
        "  {\"kind\": \"residence-confirmation\", \"number\": \"CT07-2024-10001\", \"issued\": \"2024-11-30\", \"pages\": 1},"
        "  {\"kind\": \"birth-certificate\", \"number\": \"KS-2010/0077\", \"issued\": \"2010-07-09\", \"pages\": 1},"
        "  {\"kind\": \"photo\", \"number\": \"PH-0002\", \"issued\": \"2025-05-01\"},"
        "  {\"kind\": \"residence-confirmation\", \"number\": \"CT07-2023-55501\", \"issued\": \"2023-01-15\", \"pages\": 3}],"
        " \"fee\": {\"amount\": 15000, \"currency\": \"VND\"}}";

/* CPU time of this thread: the figure stays meaningful on a busy machine (wall time is printed too). */
static double cpu_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
        JsonSchemaOptions opts = { .format_assert_mask = JSON_SCHEMA_FORMAT_DATE | JSON_SCHEMA_FORMAT_EMAIL };
        long iterations = argc > 1 ? atol(argv[1]) : 200000;
        json_t *schema, *request;
        JsonSchema *s = NULL;
        char *error = NULL;
        double start, start_wall, fast, fast_wall, full;
        size_t size;

        schema = json_loads(schema_text, 0, NULL);
        request = json_loads(request_text, 0, NULL);
        if (!schema || !request || iterations <= 0) {
                fprintf(stderr, "bench-validate: bad built-in documents or iteration count\n");
                return 1;
        }
        if (json_schema_compile(&s, schema, NULL, &opts, &error) < 0) {
                fprintf(stderr, "bench-validate: compile: %s\n", error ? error : "?");
                return 1;
        }
        size = json_dumpb(request, NULL, 0, JSON_COMPACT);
        if (json_schema_validate(s, request, NULL) != 0) {
                fprintf(stderr, "bench-validate: the request should be valid\n");
                return 1;
        }

        start = cpu_us();
        start_wall = now_us();
        for (long i = 0; i < iterations; i++)
                if (json_schema_validate(s, request, NULL) != 0)
                        return 1;
        fast = (cpu_us() - start) / iterations;
        fast_wall = (now_us() - start_wall) / iterations;

        start = cpu_us();
        for (long i = 0; i < iterations; i++) {
                JsonSchemaErrors errs;
                json_schema_errors_init(&errs, 0);
                if (json_schema_validate(s, request, &errs) != 0)
                        return 1;
                json_schema_errors_clear(&errs);
        }
        full = (cpu_us() - start) / iterations;

        printf("validate 1KiB request: %.2f us/op\n", fast);
        printf("validate 1KiB request, error list on: %.2f us/op (CPU time; wall %.2f us/op without the list; "
               "request %zu bytes compact, %ld iterations)\n",
               full, fast_wall, size, iterations);
        json_schema_free(s);
        json_decref(schema);
        json_decref(request);
        return 0;
}
