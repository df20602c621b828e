/* test-jsonschema.c: compile refusals, validation, error reports, ECMA regex, formats, limits, threads */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate/ecmaregex.h"
#include "validate/jsonformat.h"
#include "validate/jsonschema.h"
#include "xbus-config.h"

static json_t *parse(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        if (!j)
                fprintf(stderr, "bad test JSON: %s: %s\n", text, e.text);
        assert(j);
        return j;
}

static JsonSchema *compile_opts(const char *text, const JsonSchemaOptions *opts)
{
        json_t *j = parse(text);
        JsonSchema *s = NULL;
        char *error = NULL;
        int r = json_schema_compile(&s, j, NULL, opts, &error);
        if (r < 0)
                fprintf(stderr, "compile failed: %s: %s\n", text, error ? error : "?");
        assert(r == 0 && s);
        free(error);
        json_decref(j);
        return s;
}

static JsonSchema *compile(const char *text)
{
        return compile_opts(text, NULL);
}

/* Compile must fail with `expect`; the message must contain `needle`. */
static void refuse_opts(const char *text, const JsonSchemaOptions *opts, int expect, const char *needle)
{
        json_t *j = parse(text);
        JsonSchema *s = NULL;
        char *error = NULL;
        int r = json_schema_compile(&s, j, NULL, opts, &error);
        if (r != expect || !error || (needle && !strstr(error, needle)))
                fprintf(stderr, "refuse: %s: got %d (%s), want %d with '%s'\n", text, r, error ? error : "(null)",
                        expect, needle ? needle : "");
        assert(r == expect);
        assert(!s);
        assert(error);
        if (needle)
                assert(strstr(error, needle));
        free(error);
        json_decref(j);
}

static void refuse(const char *text, int expect, const char *needle)
{
        refuse_opts(text, NULL, expect, needle);
}

static int check(const JsonSchema *s, const char *instance)
{
        json_t *j = parse(instance);
        int r1 = json_schema_validate(s, j, NULL), r2;
        JsonSchemaErrors errs;

        /* the fast answer and the answer with errors must agree */
        json_schema_errors_init(&errs, 0);
        r2 = json_schema_validate(s, j, &errs);
        assert(r1 == r2);
        if (r2 == JSON_SCHEMA_E_INVALID)
                assert(errs.n > 0);
        if (r2 == 0)
                assert(errs.n == 0);
        json_schema_errors_clear(&errs);
        json_decref(j);
        return r1;
}

static bool valid(const JsonSchema *s, const char *instance)
{
        int r = check(s, instance);
        assert(r == 0 || r == JSON_SCHEMA_E_INVALID);
        return r == 0;
}

/* Validates and returns the first error (copied into the buffers). */
static int first_error(const JsonSchema *s, const char *instance, char *inst_loc, char *kw_loc, char *msg)
{
        json_t *j = parse(instance);
        JsonSchemaErrors errs;
        int r;

        json_schema_errors_init(&errs, 0);
        r = json_schema_validate(s, j, &errs);
        if (errs.n > 0) {
                strcpy(inst_loc, errs.items[0].instance_location);
                strcpy(kw_loc, errs.items[0].keyword_location);
                strcpy(msg, errs.items[0].message);
        }
        json_schema_errors_clear(&errs);
        json_decref(j);
        return r;
}

static void test_refusals(void)
{
        /* unknown keywords, with their place */
        refuse("{\"properties\": {\"x\": {\"typo\": 1}}}", -EOPNOTSUPP,
               "keyword 'typo' at #/properties/x is not supported");
        refuse("{\"nope\": true}", -EOPNOTSUPP, "keyword 'nope' at # is not supported");
        /* keywords of the other dialect */
        refuse("{\"additionalItems\": false}", -EOPNOTSUPP, "additionalItems");
        refuse("{\"definitions\": {}}", -EOPNOTSUPP, "definitions");
        refuse("{\"$schema\": \"http://json-schema.org/draft-07/schema#\", \"$defs\": {}}", -EOPNOTSUPP, "$defs");
        refuse("{\"$schema\": \"http://json-schema.org/draft-07/schema#\", \"unevaluatedProperties\": false}",
               -EOPNOTSUPP, "unevaluatedProperties");
        /* malformed keyword values */
        refuse("{\"minLength\": -1}", -EINVAL, "minLength");
        refuse("{\"minLength\": 1.5}", -EINVAL, "minLength");
        refuse("{\"type\": \"text\"}", -EINVAL, "type");
        refuse("{\"type\": [\"string\", \"string\"]}", -EINVAL, "type");
        refuse("{\"multipleOf\": 0}", -EINVAL, "multipleOf");
        refuse("{\"required\": [\"a\", \"a\"]}", -EINVAL, "duplicate");
        refuse("{\"allOf\": []}", -EINVAL, "allOf");
        refuse("{\"properties\": {\"a\": 3}}", -EINVAL, "#/properties/a");
        refuse("{\"$id\": \"http://x/y#frag\"}", -EINVAL, "fragment");
        refuse("{\"$anchor\": \"1bad\"}", -EINVAL, "$anchor");
        refuse("[]", -EINVAL, "object or a boolean");
        /* patterns: not ECMA, or not expressible */
        refuse("{\"pattern\": \"\\\\Z\"}", -EINVAL, "pattern");
        refuse("{\"pattern\": \"a++\"}", -EINVAL, "pattern");
        refuse("{\"pattern\": \"(?i)abc\"}", -EINVAL, "pattern");
        refuse("{\"pattern\": \"(?>a)\"}", -EINVAL, "pattern");
        refuse("{\"pattern\": \"a{\"}", -EINVAL, "pattern");
        refuse("{\"pattern\": \"(a\"}", -EINVAL, "pattern");
        refuse("{\"patternProperties\": {\"\\\\1\": {}}}", -EINVAL, "patternProperties");
        /* references and dialects */
        refuse("{\"$ref\": \"#/$defs/missing\"}", -ENOENT, "#/$defs/missing");
        refuse("{\"$ref\": \"#nowhere\"}", -ENOENT, "nowhere");
        refuse("{\"$ref\": \"http://example.com/other.json\"}", -ENOENT, "cannot be resolved");
        refuse("{\"$schema\": \"https://example.com/custom\"}", -EOPNOTSUPP, "not a supported dialect");
        refuse("{\"$defs\": {\"a\": {\"$id\": \"http://x/a\"}, \"b\": {\"$id\": \"http://x/a\"}}}", -EINVAL,
               "identifies two schemas");
}

static json_t *vocab_resolver(const char *uri, void *userdata)
{
        unsigned *calls = userdata;
        (*calls)++;
        if (strcmp(uri, "http://example.com/meta-unknown-vocab") == 0)
                return parse("{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
                             " \"$vocabulary\": {\"https://json-schema.org/draft/2020-12/vocab/core\": true,"
                             " \"http://example.com/vocab/mine\": true}}");
        if (strcmp(uri, "http://example.com/meta-no-validation") == 0)
                return parse("{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
                             " \"$vocabulary\": {\"https://json-schema.org/draft/2020-12/vocab/core\": true,"
                             " \"https://json-schema.org/draft/2020-12/vocab/applicator\": true}}");
        if (strcmp(uri, "http://example.com/defs.json") == 0)
                return parse("{\"$defs\": {\"id\": {\"type\": \"string\", \"pattern\": \"^[0-9]{12}$\"},"
                             " \"next\": {\"$ref\": \"more.json\"}}}");
        if (strcmp(uri, "http://example.com/more.json") == 0)
                return parse("{\"type\": \"string\", \"maxLength\": 3}");
        return NULL;
}

static void test_vocabularies_and_resolver(void)
{
        unsigned calls = 0;
        JsonSchemaOptions opts = { .resolver = vocab_resolver, .userdata = &calls };
        JsonSchema *s;

        refuse_opts("{\"$schema\": \"http://example.com/meta-unknown-vocab\"}", &opts, -EOPNOTSUPP,
                    "http://example.com/vocab/mine");
        /* a known keyword of a vocabulary turned off is deliberately not applied */
        s = compile_opts("{\"$schema\": \"http://example.com/meta-no-validation\", \"properties\": {\"a\": false},"
                         " \"minProperties\": 5}",
                         &opts);
        assert(valid(s, "{}"));
        assert(!valid(s, "{\"a\": 1}"));
        json_schema_free(s);

        /* documents are fetched once, at compile time, and followed */
        calls = 0;
        s = compile_opts("{\"properties\": {\"id\": {\"$ref\": \"http://example.com/defs.json#/$defs/id\"},"
                         " \"code\": {\"$ref\": \"http://example.com/defs.json#/$defs/next\"},"
                         " \"again\": {\"$ref\": \"http://example.com/defs.json#/$defs/id\"}}}",
                         &opts);
        assert(calls == 2);
        assert(valid(s, "{\"id\": \"001234567890\", \"code\": \"abc\"}"));
        assert(!valid(s, "{\"id\": \"0012\"}"));
        assert(!valid(s, "{\"code\": \"abcd\"}"));
        assert(calls == 2);
        json_schema_free(s);

        /* the document limit */
        opts.limits.max_documents = 1;
        refuse_opts("{\"properties\": {\"code\": {\"$ref\": \"http://example.com/defs.json#/$defs/next\"}}}", &opts,
                    -E2BIG, "documents");
}

static void test_basics(void)
{
        JsonSchema *s = compile("{\"type\": \"object\", \"required\": [\"id\", \"purpose\"],"
                                " \"properties\": {"
                                "  \"id\": {\"type\": \"string\", \"pattern\": \"^[0-9]{12}$\"},"
                                "  \"purpose\": {\"enum\": [\"audit\", \"public-service-delivery\"]},"
                                "  \"year\": {\"type\": \"integer\", \"minimum\": 1900, \"maximum\": 2100},"
                                "  \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, \"maxItems\": 2,"
                                "            \"uniqueItems\": true}},"
                                " \"additionalProperties\": false}");

        assert(valid(s, "{\"id\": \"001234567890\", \"purpose\": \"audit\"}"));
        assert(valid(s,
                     "{\"id\": \"001234567890\", \"purpose\": \"audit\", \"year\": 2025, \"tags\": [\"a\", \"b\"]}"));
        assert(valid(s, "{\"id\": \"001234567890\", \"purpose\": \"audit\", \"year\": 2025.0}"));
        assert(!valid(s, "{\"id\": \"001234567890\"}"));
        assert(!valid(s, "{\"id\": \"00123456789\", \"purpose\": \"audit\"}"));
        assert(!valid(s, "{\"id\": \"001234567890\", \"purpose\": \"marketing\"}"));
        assert(!valid(s, "{\"id\": \"001234567890\", \"purpose\": \"audit\", \"year\": 2025.5}"));
        assert(!valid(s, "{\"id\": \"001234567890\", \"purpose\": \"audit\", \"year\": 1800}"));
        assert(!valid(s, "{\"id\": \"001234567890\", \"purpose\": \"audit\", \"tags\": [\"a\", \"a\"]}"));
        assert(!valid(s, "{\"id\": \"001234567890\", \"purpose\": \"audit\", \"tags\": [\"a\", \"b\", \"c\"]}"));
        assert(!valid(s, "{\"id\": \"001234567890\", \"purpose\": \"audit\", \"extra\": 1}"));
        assert(!valid(s, "[]"));
        assert(!valid(s, "null"));
        assert(json_schema_dialect(s) == JSON_SCHEMA_DRAFT_2020_12);
        assert(json_schema_validate(s, NULL, NULL) == -EINVAL);
        json_schema_free(s);

        s = compile("true");
        assert(valid(s, "{\"anything\": [1, 2]}"));
        json_schema_free(s);
        s = compile("false");
        assert(!valid(s, "1"));
        json_schema_free(s);
        assert(json_schema_free(NULL) == NULL);

        s = compile("{\"$schema\": \"http://json-schema.org/draft-07/schema#\","
                    " \"items\": [{\"type\": \"integer\"}], \"additionalItems\": false}");
        assert(json_schema_dialect(s) == JSON_SCHEMA_DRAFT_07);
        assert(valid(s, "[1]"));
        assert(!valid(s, "[1, 2]"));
        assert(!valid(s, "[\"a\"]"));
        json_schema_free(s);
}

static void test_errors(void)
{
        char inst[256], kw[256], msg[256];
        JsonSchema *s = compile("{\"properties\": {\"people\": {\"items\": {\"$ref\": \"#/$defs/person\"}}},"
                                " \"$defs\": {\"person\": {\"type\": \"object\", \"required\": [\"name\"],"
                                "   \"properties\": {\"name\": {\"type\": \"string\", \"maxLength\": 3},"
                                "                    \"a/b~c\": {\"type\": \"integer\"}}}}}");
        JsonSchemaErrors errs;
        json_t *j;

        assert(first_error(s, "{\"people\": [{\"name\": \"Ann\"}, {\"name\": \"Annabel\"}]}", inst, kw, msg) ==
               JSON_SCHEMA_E_INVALID);
        assert(strcmp(inst, "/people/1/name") == 0);
        assert(strcmp(kw, "#/$defs/person/properties/name/maxLength") == 0);
        assert(strstr(msg, "at most 3 characters"));

        assert(first_error(s, "{\"people\": [{}]}", inst, kw, msg) == JSON_SCHEMA_E_INVALID);
        assert(strcmp(inst, "/people/0") == 0);
        assert(strcmp(kw, "#/$defs/person/required") == 0);
        assert(strstr(msg, "'name'"));

        assert(first_error(s, "{\"people\": [{\"name\": \"x\", \"a/b~c\": \"no\"}]}", inst, kw, msg) ==
               JSON_SCHEMA_E_INVALID);
        assert(strcmp(inst, "/people/0/a~1b~0c") == 0);
        assert(strcmp(kw, "#/$defs/person/properties/a~1b~0c/type") == 0);
        assert(strstr(msg, "must be integer, not string"));

        /* the list is bounded */
        j = parse("{\"people\": [1, 2, 3, 4, 5, 6]}");
        json_schema_errors_init(&errs, 2);
        assert(json_schema_validate(s, j, &errs) == JSON_SCHEMA_E_INVALID);
        assert(errs.n == 2 && errs.truncated);
        assert(strcmp(errs.items[1].instance_location, "/people/1") == 0);
        json_schema_errors_clear(&errs);
        json_schema_errors_init(&errs, 100);
        assert(json_schema_validate(s, j, &errs) == JSON_SCHEMA_E_INVALID);
        assert(errs.n == 6 && !errs.truncated);
        json_schema_errors_clear(&errs);
        json_decref(j);
        json_schema_free(s);

        /* folded branches, and the messages of the structural keywords */
        s = compile("{\"anyOf\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}");
        assert(first_error(s, "1.5", inst, kw, msg) == JSON_SCHEMA_E_INVALID);
        assert(strcmp(kw, "#/anyOf") == 0 && strcmp(inst, "") == 0);
        json_schema_free(s);
        s = compile("{\"oneOf\": [{\"minimum\": 1}, {\"maximum\": 10}]}");
        assert(first_error(s, "5", inst, kw, msg) == JSON_SCHEMA_E_INVALID);
        assert(strstr(msg, "matched 0 and 1"));
        assert(valid(s, "20"));
        json_schema_free(s);
        s = compile("{\"properties\": {\"a\": true}, \"unevaluatedProperties\": false}");
        assert(first_error(s, "{\"a\": 1, \"zz\": 2}", inst, kw, msg) == JSON_SCHEMA_E_INVALID);
        assert(strcmp(inst, "/zz") == 0 && strcmp(kw, "#/unevaluatedProperties") == 0);
        assert(strstr(msg, "'zz' is not allowed"));
        json_schema_free(s);
        s = compile("{\"not\": {\"type\": \"null\"}}");
        assert(first_error(s, "null", inst, kw, msg) == JSON_SCHEMA_E_INVALID);
        assert(strcmp(kw, "#/not") == 0);
        json_schema_free(s);

        /* an error list that was never initialised still gets the default bound */
        s = compile("{\"items\": false}");
        j = parse("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]");
        errs = (JsonSchemaErrors){};
        assert(json_schema_validate(s, j, &errs) == JSON_SCHEMA_E_INVALID);
        assert(errs.n == JSON_SCHEMA_DEFAULT_MAX_ERRORS && errs.truncated);
        json_schema_errors_clear(&errs);
        json_decref(j);
        json_schema_free(s);
}

static void test_numbers_and_strings(void)
{
        JsonSchema *s;

        s = compile("{\"multipleOf\": 0.01}");
        assert(valid(s, "19.99"));
        assert(valid(s, "0.07"));
        assert(valid(s, "5"));
        assert(!valid(s, "19.999"));
        json_schema_free(s);
        s = compile("{\"multipleOf\": 3}");
        assert(valid(s, "9"));
        assert(valid(s, "9.0"));
        assert(valid(s, "-9223372036854775806"));
        assert(!valid(s, "10"));
        assert(!valid(s, "1e308"));
        json_schema_free(s);
        s = compile("{\"const\": {\"a\": [1, 2.0]}}");
        assert(valid(s, "{\"a\": [1.0, 2]}"));
        assert(!valid(s, "{\"a\": [1, 2, 3]}"));
        assert(!valid(s, "{\"a\": [1, \"2\"]}"));
        json_schema_free(s);
        s = compile("{\"maximum\": 9007199254740993}");
        assert(valid(s, "9007199254740993"));
        assert(!valid(s, "9007199254740994"));
        json_schema_free(s);
        s = compile("{\"exclusiveMinimum\": 0, \"exclusiveMaximum\": 1}");
        assert(valid(s, "0.5"));
        assert(!valid(s, "0"));
        assert(!valid(s, "1"));
        assert(valid(s, "\"not a number\""));
        json_schema_free(s);

        /* lengths count code points */
        s = compile("{\"minLength\": 2, \"maxLength\": 2}");
        assert(valid(s, "\"\\u00e9\\u00e9\""));
        assert(valid(s, "\"\\ud83d\\ude00x\""));
        assert(!valid(s, "\"\\u00e9\""));
        assert(!valid(s, "\"abc\""));
        json_schema_free(s);
        s = compile("{\"const\": \"a\\u0000b\"}");
        assert(valid(s, "\"a\\u0000b\""));
        assert(!valid(s, "\"a\""));
        json_schema_free(s);
        s = compile("{\"required\": [\"a\\u0000b\"]}");
        assert(!valid(s, "{\"a\": 1}"));
        json_schema_free(s);
}

static void test_unique_items(void)
{
        JsonSchema *s = compile("{\"uniqueItems\": true}");
        char buf[16384];
        size_t o;

        assert(valid(s, "[1, 2, {\"a\": 1, \"b\": 2}, {\"a\": 1, \"b\": 3}]"));
        assert(!valid(s, "[1, 1.0]"));
        assert(!valid(s, "[{\"a\": 1, \"b\": 2}, {\"b\": 2, \"a\": 1}]"));
        /* long arrays take the hashing path */
        o = (size_t)sprintf(buf, "[");
        for (int i = 0; i < 200; i++)
                o += (size_t)sprintf(buf + o, "%s{\"k\": %d, \"v\": [%d]}", i ? ", " : "", i, i);
        strcpy(buf + o, "]");
        assert(valid(s, buf));
        strcpy(buf + o, ", {\"v\": [7.0], \"k\": 7}]");
        assert(!valid(s, buf));
        json_schema_free(s);
}

static void test_format(void)
{
        JsonSchemaOptions opts = { .format_assert_mask = JSON_SCHEMA_FORMAT_DATE | JSON_SCHEMA_FORMAT_UUID };
        const char *schema = "{\"properties\": {\"d\": {\"format\": \"date\"}, \"u\": {\"format\": \"uuid\"},"
                             " \"e\": {\"format\": \"email\"}, \"x\": {\"format\": \"made-up\"}}}";
        JsonSchema *annot = compile(schema), *assert_some = compile_opts(schema, &opts);

        /* annotation by default */
        assert(valid(annot, "{\"d\": \"2025-02-30\", \"u\": \"nope\", \"e\": \"nope\"}"));
        /* assertion for the enabled formats only */
        assert(valid(assert_some, "{\"d\": \"2024-02-29\", \"u\": \"2eb8aa08-aa98-11ea-b4aa-73b441d16380\"}"));
        assert(!valid(assert_some, "{\"d\": \"2025-02-29\"}"));
        assert(!valid(assert_some, "{\"u\": \"2eb8aa08aa9811eab4aa73b441d16380\"}"));
        assert(valid(assert_some, "{\"e\": \"not an email\", \"x\": \"whatever\"}"));
        assert(valid(assert_some, "{\"d\": 20250101}"));
        json_schema_free(annot);
        json_schema_free(assert_some);

        assert(json_schema_format_from_name("date-time") == JSON_SCHEMA_FORMAT_DATE_TIME);
        assert(json_schema_format_from_name("ipv6") == JSON_SCHEMA_FORMAT_IPV6);
        assert(json_schema_format_from_name("idn-hostname") == 0);

#define OK(bit, s) assert(jsonformat_check(bit, s, strlen(s)))
#define BAD(bit, s) assert(!jsonformat_check(bit, s, strlen(s)))
        OK(JSON_SCHEMA_FORMAT_DATE_TIME, "1998-12-31T23:59:60Z");
        OK(JSON_SCHEMA_FORMAT_DATE_TIME, "2025-06-01t10:00:00.123+07:00");
        BAD(JSON_SCHEMA_FORMAT_DATE_TIME, "2025-06-01T10:00:00");
        BAD(JSON_SCHEMA_FORMAT_DATE_TIME, "2025-06-01T22:59:60Z");
        BAD(JSON_SCHEMA_FORMAT_DATE, "2025-6-01");
        OK(JSON_SCHEMA_FORMAT_EMAIL, "nguyen.van.a@example.gov.vn");
        OK(JSON_SCHEMA_FORMAT_EMAIL, "\"a b\"@[127.0.0.1]");
        BAD(JSON_SCHEMA_FORMAT_EMAIL, "a..b@example.com");
        BAD(JSON_SCHEMA_FORMAT_EMAIL, "a@-example.com");
        OK(JSON_SCHEMA_FORMAT_IPV4, "192.168.0.1");
        BAD(JSON_SCHEMA_FORMAT_IPV4, "192.168.00.1");
        BAD(JSON_SCHEMA_FORMAT_IPV4, "256.1.1.1");
        OK(JSON_SCHEMA_FORMAT_IPV6, "::1");
        OK(JSON_SCHEMA_FORMAT_IPV6, "2001:db8::192.168.0.1");
        BAD(JSON_SCHEMA_FORMAT_IPV6, "1:2:3:4:5:6:7:8:9");
        BAD(JSON_SCHEMA_FORMAT_IPV6, "fe80::1%eth0");
        OK(JSON_SCHEMA_FORMAT_URI, "https://example.gov.vn/r1/VN/GOV?x=1#f");
        BAD(JSON_SCHEMA_FORMAT_URI, "//example.gov.vn/no-scheme");
        BAD(JSON_SCHEMA_FORMAT_URI, "https://example.gov.vn/a b");
        OK(JSON_SCHEMA_FORMAT_URI_REFERENCE, "../x/y?z");
        OK(JSON_SCHEMA_FORMAT_DURATION, "P1Y2M3DT4H5M6S");
        OK(JSON_SCHEMA_FORMAT_DURATION, "P4W");
        BAD(JSON_SCHEMA_FORMAT_DURATION, "PT");
        BAD(JSON_SCHEMA_FORMAT_DURATION, "P1D2Y");
        OK(JSON_SCHEMA_FORMAT_REGEX, "^[0-9]{12}$");
        BAD(JSON_SCHEMA_FORMAT_REGEX, "^(abc");
        OK(JSON_SCHEMA_FORMAT_JSON_POINTER, "/a~1b/0");
        BAD(JSON_SCHEMA_FORMAT_JSON_POINTER, "/a~2");
        OK(JSON_SCHEMA_FORMAT_RELATIVE_JSON_POINTER, "1/a");
        BAD(JSON_SCHEMA_FORMAT_RELATIVE_JSON_POINTER, "01/a");
        OK(JSON_SCHEMA_FORMAT_URI_TEMPLATE, "https://x/{id}{?q*,r:3}");
        BAD(JSON_SCHEMA_FORMAT_URI_TEMPLATE, "https://x/{id");
#undef OK
#undef BAD
}

static int translate_ok(const char *pattern, const char *expect)
{
        char *out = NULL, *error = NULL;
        int r = ecmaregex_translate(pattern, strlen(pattern), &out, &error);
        if (r == 0 && expect && strcmp(out, expect) != 0)
                fprintf(stderr, "translate %s: got %s, want %s\n", pattern, out, expect);
        assert(r != 0 || !expect || strcmp(out, expect) == 0);
        free(out);
        free(error);
        return r;
}

static int search(const char *pattern, const char *subject)
{
        EcmaRegex *re = NULL;
        int r = ecmaregex_new(&re, pattern, strlen(pattern), 0, 0, NULL);
        assert(r == 0);
        r = ecmaregex_search(re, subject, strlen(subject));
        ecmaregex_free(re);
        return r;
}

static void test_ecma_regex(void)
{
        /* the translation */
        assert(translate_ok("^\\d+$", "^\\d+$") == 0);
        assert(translate_ok("a.b", "a[^\\n\\r\\x{2028}\\x{2029}]b") == 0);
        assert(translate_ok("\\u00e9\\x41\\cJ\\0", "\\x{e9}\\x{41}\\x{a}\\x{0}") == 0);
        assert(translate_ok("\\ud83d\\ude00", "\\x{1f600}") == 0);
        assert(translate_ok("\\u{1F600}", "\\x{1f600}") == 0);
        assert(translate_ok("[[:alpha:]", "[\\[:alpha:]") == 0); /* a literal '[' in ECMA, not POSIX */
        assert(translate_ok("[[:alpha:]]", NULL) == -EINVAL);    /* ... so the last ']' is alone */
        assert(translate_ok("\\p{Letter}\\P{gc=Decimal_Number}\\p{Script=Greek}", "\\p{L}\\P{Nd}\\p{sc:Greek}") == 0);
        assert(translate_ok("(?<year>\\d{4})-\\k<year>", "(?<year>\\d{4})-\\k<year>") == 0);
        assert(translate_ok("\\ud800", NULL) == -EOPNOTSUPP);
        assert(translate_ok("\\a", NULL) == -EINVAL);
        assert(translate_ok("\\A", NULL) == -EINVAL);
        assert(translate_ok("\\Qa\\E", NULL) == -EINVAL);
        assert(translate_ok("a**", NULL) == -EINVAL);
        assert(translate_ok("a{2}{3}", NULL) == -EINVAL);
        assert(translate_ok("]", NULL) == -EINVAL);
        assert(translate_ok("}", NULL) == -EINVAL);
        assert(translate_ok("(?P<n>a)", NULL) == -EINVAL);
        assert(translate_ok("\\2(a)", NULL) == -EINVAL);
        assert(translate_ok("\\", NULL) == -EINVAL);
        assert(translate_ok("[abc", NULL) == -EINVAL);
        assert(translate_ok("\\k<x>", NULL) == -EINVAL);

        /* ECMA semantics */
        assert(search("^\\d$", "5") == 1);
        assert(search("^\\d$", "\xd9\xa3") == 0);     /* ARABIC-INDIC DIGIT THREE is not \d */
        assert(search("^\\w$", "\xc3\xa9") == 0);     /* é is not \w */
        assert(search("^\\s$", "\xc2\xa0") == 1);     /* NBSP is \s */
        assert(search("^\\s$", "\xef\xbb\xbf") == 1); /* BOM is \s */
        assert(search("^[\\S]$", "\xc2\xa0") == 0);
        assert(search("^[\\S]$", "x") == 1);
        assert(search("^\\S$", "\xe3\x80\x80") == 0); /* IDEOGRAPHIC SPACE */
        assert(search("^abc$", "abc\n") == 0);
        assert(search("^.$", "\xe2\x80\xa8") == 0);     /* LINE SEPARATOR */
        assert(search("^.$", "\xf0\x9f\x98\x80") == 1); /* one code point */
        assert(search("^[^]$", "\n") == 1);
        assert(search("^\\p{Letter}+$", "\xc3\xa9t\xc3\xa9") == 1);
        assert(search("^(?:(a)|b)\\1c$", "bc") == 1); /* unset backreference matches empty */
        assert(search("es", "test") == 1);            /* not anchored */
}

static void test_limits(void)
{
        JsonSchemaOptions opts = {};
        JsonSchemaErrors errs;
        JsonSchema *s;
        json_t *j, *cur;
        char buf[512];
        size_t o;
        int r;

        /* schema nesting and size */
        o = 0;
        for (int i = 0; i < 40; i++)
                o += (size_t)sprintf(buf + o, "{\"not\": ");
        o += (size_t)sprintf(buf + o, "true");
        for (int i = 0; i < 40; i++)
                o += (size_t)sprintf(buf + o, "}");
        opts.limits.max_schema_depth = 30;
        refuse_opts(buf, &opts, -E2BIG, "nested deeper");
        opts.limits.max_schema_depth = 0;
        s = compile_opts(buf, &opts);
        json_schema_free(s);
        opts.limits.max_schema_nodes = 10;
        refuse_opts(buf, &opts, -E2BIG, "subschemas");
        opts.limits.max_schema_nodes = 0;
        opts.limits.max_pattern_length = 8;
        refuse_opts("{\"pattern\": \"^[0-9]{12}$\"}", &opts, -E2BIG, "longer than 8");
        opts.limits.max_pattern_length = 0;

        /* a recursive schema over a deep instance: depth limit, not a stack overflow */
        s = compile("{\"$defs\": {\"n\": {\"items\": {\"$ref\": \"#/$defs/n\"}}}, \"$ref\": \"#/$defs/n\"}");
        j = json_array();
        cur = j;
        for (int i = 0; i < 5000; i++) {
                json_t *next = json_array();
                json_array_append_new(cur, next);
                cur = next;
        }
        json_schema_errors_init(&errs, 0);
        r = json_schema_validate(s, j, &errs);
        assert(r == -ELOOP);
        assert(errs.n == 1 && strstr(errs.items[0].message, "nested"));
        json_schema_errors_clear(&errs);
        assert(json_schema_validate(s, j, NULL) == -ELOOP);
        json_decref(j);
        json_schema_free(s);

        /* a $ref loop that never reaches the instance */
        s = compile("{\"$defs\": {\"a\": {\"$ref\": \"#/$defs/b\"}, \"b\": {\"$ref\": \"#/$defs/a\"}},"
                    " \"$ref\": \"#/$defs/a\"}");
        assert(check(s, "1") == -ELOOP);
        json_schema_free(s);
        /* const on a deep instance */
        s = compile("{\"const\": 1}");
        j = json_array();
        cur = j;
        for (int i = 0; i < 2000; i++) {
                json_t *next = json_array();
                json_array_append_new(cur, next);
                cur = next;
        }
        assert(json_schema_validate(s, j, NULL) == JSON_SCHEMA_E_INVALID);
        json_schema_free(s);
        s = compile("{\"uniqueItems\": true}");
        json_array_append(j, json_array_get(j, 0));
        assert(json_schema_validate(s, j, NULL) == -ELOOP);
        json_decref(j);
        json_schema_free(s);

        /* instance sizes */
        opts.limits.max_string_length = 4;
        opts.limits.max_array_size = 3;
        opts.limits.max_object_size = 2;
        s = compile_opts("{\"items\": {\"type\": \"string\"}, \"additionalProperties\": {\"type\": \"string\"}}",
                         &opts);
        assert(check(s, "[\"abcd\"]") == 0);
        assert(check(s, "[\"abcde\"]") == -E2BIG);
        assert(check(s, "[1, 2, 3, 4]") == -E2BIG);
        assert(check(s, "{\"a\": \"x\", \"b\": \"y\", \"c\": \"z\"}") == -E2BIG);
        json_schema_free(s);

        /* evaluation steps */
        opts = (JsonSchemaOptions){ .limits.max_steps = 50 };
        s = compile_opts("{\"items\": {\"anyOf\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}}", &opts);
        assert(check(s, "[1, 2, 3]") == 0);
        j = json_array();
        for (int i = 0; i < 100; i++)
                json_array_append_new(j, json_integer(i));
        assert(json_schema_validate(s, j, NULL) == -ETIME);
        json_decref(j);
        json_schema_free(s);

        /* catastrophic backtracking hits the regex limits */
        s = compile("{\"pattern\": \"^(a+)+$\"}");
        json_schema_errors_init(&errs, 1);
        j = json_string("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!");
        /* a full error list still reports the limit */
        r = json_schema_validate(s, j, &errs);
        assert(r == -ETIME);
        assert(errs.n == 1 && strstr(errs.items[0].message, "match limit"));
        json_schema_errors_clear(&errs);
        json_decref(j);
        assert(valid(s, "\"aaaa\""));
        json_schema_free(s);
}

static void test_dynamic_and_unevaluated(void)
{
        JsonSchema *s;

        /* an extensible base with a strict extension, through $dynamicRef */
        s = compile("{\"$id\": \"https://x.test/strict\", \"$dynamicAnchor\": \"node\","
                    " \"$ref\": \"https://x.test/tree\", \"unevaluatedProperties\": false,"
                    " \"$defs\": {\"tree\": {\"$id\": \"https://x.test/tree\", \"$dynamicAnchor\": \"node\","
                    "   \"type\": \"object\", \"properties\": {\"data\": true,"
                    "   \"children\": {\"type\": \"array\", \"items\": {\"$dynamicRef\": \"#node\"}}}}}}");
        assert(valid(s, "{\"children\": [{\"data\": 1, \"children\": [{\"data\": 2}]}]}"));
        assert(!valid(s, "{\"children\": [{\"data\": 1, \"children\": [{\"daat\": 2}]}]}"));
        assert(!valid(s, "{\"extra\": 1}"));
        json_schema_free(s);

        s = compile("{\"prefixItems\": [true], \"contains\": {\"type\": \"string\"}, \"unevaluatedItems\": false}");
        assert(valid(s, "[1, \"a\", \"b\"]"));
        assert(!valid(s, "[1, \"a\", 2]"));
        json_schema_free(s);

        /* annotations from failed anyOf branches do not count */
        s = compile("{\"anyOf\": [{\"properties\": {\"a\": true}, \"required\": [\"b\"]}, {\"required\": [\"c\"]}],"
                    " \"unevaluatedProperties\": false}");
        assert(valid(s, "{\"a\": 1, \"b\": 2}") == false);
        assert(!valid(s, "{\"a\": 1, \"c\": 2}"));
        json_schema_free(s);

        /* wide objects use heap bit sets */
        {
                char big[40000];
                size_t o = (size_t)sprintf(big, "{");
                s = compile("{\"patternProperties\": {\"^k\": true}, \"unevaluatedProperties\": false}");
                for (int i = 0; i < 1000; i++)
                        o += (size_t)sprintf(big + o, "%s\"k%d\": %d", i ? ", " : "", i, i);
                strcpy(big + o, "}");
                assert(valid(s, big));
                strcpy(big + o, ", \"z\": 1}");
                assert(!valid(s, big));
                json_schema_free(s);
        }
}

static void test_metaschema(void)
{
        /* the built-in meta-schemas check registry schemas */
        JsonSchema *s = compile("{\"$ref\": \"https://json-schema.org/draft/2020-12/schema\"}");
        assert(valid(s, "{\"type\": \"object\", \"properties\": {\"a\": {\"minLength\": 1}}}"));
        assert(!valid(s, "{\"type\": \"objekt\"}"));
        assert(!valid(s, "{\"properties\": {\"a\": {\"minLength\": -1}}}"));
        assert(!valid(s, "{\"$defs\": {\"a\": {\"required\": \"x\"}}}"));
        json_schema_free(s);
        s = compile("{\"$ref\": \"http://json-schema.org/draft-07/schema#\"}");
        assert(valid(s, "{\"definitions\": {\"a\": {\"type\": \"integer\"}}}"));
        assert(!valid(s, "{\"definitions\": {\"a\": {\"type\": 1}}}"));
        json_schema_free(s);
}

/* The registry's sample schemas (schemas/ in the source tree) must all compile. */
static char schema_root[1024];

static json_t *tree_resolver(const char *uri, void *userdata)
{
        static const char prefix[] = "https://schemas.xbus.gov.vn/";
        char path[2048];
        (void)userdata;
        if (strncmp(uri, prefix, sizeof(prefix) - 1) != 0 || strstr(uri, ".."))
                return NULL;
        snprintf(path, sizeof(path), "%s/%s", schema_root, uri + sizeof(prefix) - 1);
        return json_load_file(path, 0, NULL);
}

static void test_sample_schemas(void)
{
        const char *root = getenv("XBUS_SOURCE_ROOT");
        JsonSchemaOptions opts = { .resolver = tree_resolver, .format_assert_mask = JSON_SCHEMA_FORMAT_ALL };
        DIR *top;
        struct dirent *d;
        unsigned compiled = 0;

        snprintf(schema_root, sizeof(schema_root), "%s/schemas", root && *root ? root : XBUS_SOURCE_ROOT);
        top = opendir(schema_root);
        if (!top) {
                printf("test-jsonschema: no %s, sample schemas not checked\n", schema_root);
                return;
        }
        while ((d = readdir(top))) {
                char dir[1400];
                DIR *sub;
                struct dirent *f;
                if (d->d_name[0] == '.')
                        continue;
                snprintf(dir, sizeof(dir), "%s/%s", schema_root, d->d_name);
                sub = opendir(dir);
                if (!sub)
                        continue;
                while ((f = readdir(sub))) {
                        char path[2048], uri[512];
                        size_t l = strlen(f->d_name);
                        JsonSchema *s = NULL;
                        char *error = NULL;
                        json_t *j;
                        if (l < 5 || strcmp(f->d_name + l - 5, ".json") != 0)
                                continue;
                        snprintf(path, sizeof(path), "%s/%s", dir, f->d_name);
                        snprintf(uri, sizeof(uri), "https://schemas.xbus.gov.vn/%s/%s", d->d_name, f->d_name);
                        j = json_load_file(path, 0, NULL);
                        assert(j);
                        if (json_schema_compile(&s, j, uri, &opts, &error) < 0) {
                                fprintf(stderr, "sample schema %s refused: %s\n", path, error);
                                assert(false);
                        }
                        compiled++;
                        json_schema_free(s);
                        json_decref(j);
                }
                closedir(sub);
        }
        closedir(top);
        printf("test-jsonschema: %u sample schemas compile\n", compiled);
}

typedef struct Shared {
        const JsonSchema *s;
        json_t *good, *bad;
} Shared;

static void *worker(void *arg)
{
        Shared *sh = arg;
        for (int i = 0; i < 2000; i++) {
                JsonSchemaErrors errs;
                assert(json_schema_validate(sh->s, sh->good, NULL) == 0);
                json_schema_errors_init(&errs, 4);
                assert(json_schema_validate(sh->s, sh->bad, &errs) == JSON_SCHEMA_E_INVALID);
                assert(errs.n == 2);
                json_schema_errors_clear(&errs);
        }
        return NULL;
}

static void test_threads(void)
{
        JsonSchema *s = compile("{\"properties\": {\"id\": {\"pattern\": \"^[0-9]{12}$\"},"
                                " \"name\": {\"pattern\": \"^\\\\p{L}[\\\\p{L} ]*$\"}},"
                                " \"patternProperties\": {\"^x-\": {\"type\": \"string\"}}}");
        Shared sh = { s, parse("{\"id\": \"001234567890\", \"name\": \"Nguy\\u1ec5n V\\u0103n A\", \"x-a\": \"1\"}"),
                      parse("{\"id\": \"0012\", \"name\": \"1abc\"}") };
        pthread_t t[4];

        for (int i = 0; i < 4; i++)
                assert(pthread_create(&t[i], NULL, worker, &sh) == 0);
        for (int i = 0; i < 4; i++)
                assert(pthread_join(t[i], NULL) == 0);
        json_decref(sh.good);
        json_decref(sh.bad);
        json_schema_free(s);
}

int main(void)
{
        test_refusals();
        test_vocabularies_and_resolver();
        test_basics();
        test_errors();
        test_numbers_and_strings();
        test_unique_items();
        test_format();
        test_ecma_regex();
        test_limits();
        test_dynamic_and_unevaluated();
        test_metaschema();
        test_sample_schemas();
        test_threads();
        printf("test-jsonschema: all passed\n");
        return 0;
}
