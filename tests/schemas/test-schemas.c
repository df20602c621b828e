/* test-schemas.c: the sample schemas compile, their examples hold, the registry's references exist, the dataset matches */
#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "registry.h"
#include "sample/dataset.h"
#include "sample/sample-service.h"
#include "util/embedded.h"
#include "validate/jsonschema.h"
#include "xbus-config.h"

/*
 * What this checks, over the source tree ($XBUS_SOURCE_ROOT):
 *  1. every schema under schemas/ (examples/ excluded) is a 2020-12 document
 *     whose $id is SCHEMA_BASE + its path, compiles with the project's
 *     validator (references to schemas/common/ through the resolver below),
 *     bounds every array (maxItems), every free string (maxLength) and every
 *     object (additionalProperties: false), and is embedded unchanged in the
 *     library;
 *  2. schemas/<db>/examples/<stem>.valid-N.json validate against <stem>.json
 *     and <stem>.invalid-<reason>.json do not (at least 2 and 3 of them per
 *     schema), with `format` as an annotation and with date asserted;
 *  3. every request-schema/response-schema of conf/registry/ (and of the
 *     embedded registry) names a schema that exists;
 *  4. the sweep: 200 people generated with adapters/sample/dataset.h and
 *     every service of the sample adapter asked for each of them through
 *     sample_service_answer() (what xbus-adapter-sample serves): each 200
 *     answer validates against the response schema the registry names, each
 *     enterprise an owner lists is fetched, and the tax obligation check is
 *     asked for every year with and without details (the request bodies
 *     validated against the request schema). When the registry loader has
 *     compiled the service's schemas (RegistryService.*_validator), each
 *     answer and request is also checked with that very validator, the one
 *     the bus enforces.
 */

#define SCHEMA_BASE "https://schemas.xbus.gov.vn/"
#define SWEEP_PEOPLE 200
#define MAX_FILES 1024
#define PATH_BUF (PATH_MAX + 256)

static const char *source_root;
static unsigned failures;
static unsigned n_checks;

_printf_(1, 2) static void fail(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "FAIL: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        failures++;
}

#define CHECK(cond, ...)                   \
        do {                               \
                n_checks++;                \
                if (!(cond))               \
                        fail(__VA_ARGS__); \
        } while (0)

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && streq(s + n - m, suffix);
}

/* ---- files ---- */

typedef struct FileList {
        char *paths[MAX_FILES]; /* relative to schemas/ */
        size_t n;
} FileList;

static void file_list_clear(FileList *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->paths[i]);
        l->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* All *.json below schemas/<rel>, relative to schemas/; `examples` selects the examples/ folders or the rest. */
static int walk(const char *rel, bool examples, FileList *out)
{
        char dir[PATH_BUF];
        DIR *d;
        struct dirent *e;
        int r = 0;

        snprintf(dir, sizeof(dir), "%s/schemas%s%s", source_root, *rel ? "/" : "", rel);
        d = opendir(dir);
        if (!d)
                return -errno;
        while ((e = readdir(d))) {
                char sub[PATH_BUF + 256], full[PATH_BUF + 256];
                struct stat st;
                bool in_examples;

                if (e->d_name[0] == '.')
                        continue;
                snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
                snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
                if (stat(full, &st) < 0) {
                        r = -errno;
                        break;
                }
                if (S_ISDIR(st.st_mode)) {
                        r = walk(sub, examples, out);
                        if (r < 0)
                                break;
                        continue;
                }
                in_examples = strstr(sub, "/examples/") != NULL;
                if (!has_suffix(sub, ".json") || in_examples != examples)
                        continue;
                if (out->n >= MAX_FILES) {
                        r = -E2BIG;
                        break;
                }
                out->paths[out->n] = strdup(sub);
                if (!out->paths[out->n]) {
                        r = -ENOMEM;
                        break;
                }
                out->n++;
        }
        closedir(d);
        qsort(out->paths, out->n, sizeof(char *), cmp_str);
        return r;
}

static json_t *load_schema_file(const char *rel, char **ret_error)
{
        char path[PATH_BUF];
        json_error_t err;
        json_t *j;

        snprintf(path, sizeof(path), "%s/schemas/%s", source_root, rel);
        j = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
        if (!j && ret_error && asprintf(ret_error, "%s:%d: %s", rel, err.line, err.text) < 0)
                *ret_error = NULL;
        return j;
}

/*
 * The resolver: SCHEMA_BASE + path is schemas/path. Nothing else is served:
 * no other host, no "..", no examples, only .json. `userdata` counts calls.
 */
static json_t *resolver(const char *uri, void *userdata)
{
        const char *rel;

        if (userdata)
                (*(unsigned *)userdata)++;
        if (!strneq(uri, SCHEMA_BASE, strlen(SCHEMA_BASE)))
                return NULL;
        rel = uri + strlen(SCHEMA_BASE);
        if (isempty(rel) || strstr(rel, "..") || strstr(rel, "/examples/") || strchr(rel, '?') ||
            !has_suffix(rel, ".json"))
                return NULL;
        return load_schema_file(rel, NULL);
}

/* ---- schemas ---- */

typedef struct Schema {
        char *rel;            /* "population/citizen.response.json" */
        JsonSchema *annotate; /* format as annotation (the default) */
        JsonSchema *dates;    /* format "date" asserted */
        unsigned n_valid, n_invalid;
} Schema;

static Schema schemas[MAX_FILES];
static size_t n_schemas;

static Schema *schema_find(const char *rel)
{
        for (size_t i = 0; i < n_schemas; i++)
                if (streq(schemas[i].rel, rel))
                        return &schemas[i];
        return NULL;
}

static int compile(const char *rel, json_t *doc, unsigned format_mask, JsonSchema **ret)
{
        _cleanup_free_ char *base = NULL, *error = NULL;
        JsonSchemaOptions opts = {
                .format_assert_mask = format_mask,
                .resolver = resolver,
        };
        int r;

        if (asprintf(&base, "%s%s", SCHEMA_BASE, rel) < 0)
                return -ENOMEM;
        r = json_schema_compile(ret, doc, base, &opts, &error);
        if (r < 0)
                fail("%s: does not compile (%s): %s", rel, strerror(-r), strempty(error));
        return r;
}

/* A pattern bounds a string's length when it is anchored and has no unbounded quantifier. */
static bool pattern_bounded(const char *p)
{
        size_t n = strlen(p);

        if (n < 2 || p[0] != '^' || p[n - 1] != '$')
                return false;
        for (const char *s = p; *s; s++) {
                if (*s == '\\' && s[1]) {
                        s++;
                        continue;
                }
                if (*s == '*' || *s == '+')
                        return false;
                if (*s == '{' && strchr(s, '}') && strchr(s, ',') && strchr(s, ',') < strchr(s, '}') &&
                    strchr(s, ',')[1] == '}')
                        return false; /* {n,} */
        }
        return true;
}

static bool type_has(json_t *schema, const char *type)
{
        json_t *t = json_object_get(schema, "type");
        size_t i;
        json_t *v;

        if (json_is_string(t))
                return streq(json_string_value(t), type);
        json_array_foreach(t, i, v)
                if (json_is_string(v) && streq(json_string_value(v), type))
                        return true;
        return false;
}

/*
 * lint(): every size a provider (or an attacker in its place) controls is
 * bounded: arrays have maxItems, strings without enum/const have maxLength
 * or a bounded anchored pattern, objects refuse unknown members.
 */
static void lint(const char *rel, json_t *schema, const char *where)
{
        static const char *const maps[] = { "properties", "$defs" };
        static const char *const lists[] = { "allOf", "anyOf", "oneOf", "prefixItems" };
        static const char *const singles[] = {
                "items", "if", "then", "else", "not", "contains", "additionalProperties"
        };
        char sub[1024];
        const char *key;
        json_t *v;
        size_t i;

        if (!json_is_object(schema))
                return;
        if (type_has(schema, "array"))
                CHECK(json_is_integer(json_object_get(schema, "maxItems")), "%s#%s: array without maxItems", rel,
                      where);
        if (type_has(schema, "string") && !json_object_get(schema, "enum") && !json_object_get(schema, "const")) {
                json_t *pat = json_object_get(schema, "pattern");
                CHECK(json_is_integer(json_object_get(schema, "maxLength")) ||
                              (json_is_string(pat) && pattern_bounded(json_string_value(pat))),
                      "%s#%s: string without maxLength or a bounded pattern", rel, where);
        }
        if (type_has(schema, "object"))
                CHECK(json_is_false(json_object_get(schema, "additionalProperties")),
                      "%s#%s: object without \"additionalProperties\": false", rel, where);

        for (size_t m = 0; m < ELEMENTSOF(maps); m++)
                json_object_foreach(json_object_get(schema, maps[m]), key, v) {
                        snprintf(sub, sizeof(sub), "%s/%s/%s", where, maps[m], key);
                        lint(rel, v, sub);
                }
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                json_array_foreach(json_object_get(schema, lists[l]), i, v) {
                        snprintf(sub, sizeof(sub), "%s/%s/%zu", where, lists[l], i);
                        lint(rel, v, sub);
                }
        for (size_t s = 0; s < ELEMENTSOF(singles); s++) {
                snprintf(sub, sizeof(sub), "%s/%s", where, singles[s]);
                lint(rel, json_object_get(schema, singles[s]), sub);
        }
}

static void check_embedded(const char *rel)
{
        _cleanup_free_ char *epath = NULL, *data = NULL;
        char path[PATH_BUF];
        const EmbeddedFile *ef;
        FILE *f;
        long size;

        if (asprintf(&epath, "schemas/%s", rel) < 0)
                return fail("out of memory");
        ef = embedded_find(epath);
        CHECK(ef, "%s: not embedded in the library", rel);
        if (!ef)
                return;
        snprintf(path, sizeof(path), "%s/schemas/%s", source_root, rel);
        f = fopen(path, "re");
        if (!f)
                return fail("%s: %m", path);
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        rewind(f);
        data = size >= 0 ? malloc((size_t)size + 1) : NULL;
        if (data && fread(data, 1, (size_t)size, f) != (size_t)size)
                data = mfree(data);
        fclose(f);
        CHECK(data && (size_t)size == ef->size && memcmp(data, ef->data, ef->size) == 0,
              "%s: the embedded copy differs from the file (rebuild?)", rel);
}

static void load_schemas(void)
{
        FileList files = {};
        int r;

        r = walk("", false, &files);
        if (r < 0) {
                fail("schemas/: %s", strerror(-r));
                return;
        }
        CHECK(files.n >= 18, "only %zu schema files under schemas/", files.n);
        for (size_t i = 0; i < files.n; i++) {
                json_auto_t *doc = NULL;
                _cleanup_free_ char *error = NULL, *id = NULL;
                const char *rel = files.paths[i];
                Schema *s = &schemas[n_schemas];

                doc = load_schema_file(rel, &error);
                if (!doc) {
                        fail("%s", strempty(error));
                        continue;
                }
                if (asprintf(&id, "%s%s", SCHEMA_BASE, rel) < 0)
                        return fail("out of memory");
                CHECK(streq(strempty(json_string_value(json_object_get(doc, "$schema"))),
                            "https://json-schema.org/draft/2020-12/schema"),
                      "%s: $schema is not draft 2020-12", rel);
                CHECK(streq(strempty(json_string_value(json_object_get(doc, "$id"))), id), "%s: $id is not %s", rel,
                      id);
                CHECK(!isempty(json_string_value(json_object_get(doc, "title"))), "%s: no title", rel);
                CHECK(!isempty(json_string_value(json_object_get(doc, "description"))), "%s: no description", rel);
                lint(rel, doc, "");
                check_embedded(rel);

                s->rel = strdup(rel);
                if (!s->rel)
                        return fail("out of memory");
                if (compile(rel, doc, 0, &s->annotate) < 0 ||
                    compile(rel, doc, JSON_SCHEMA_FORMAT_DATE, &s->dates) < 0) {
                        s->annotate = json_schema_free(s->annotate);
                        s->rel = mfree(s->rel);
                        continue;
                }
                n_schemas++;
        }
        file_list_clear(&files);
}

/* ---- validation ---- */

static void print_errors(const JsonSchemaErrors *errs)
{
        for (size_t i = 0; i < errs->n; i++)
                fprintf(stderr, "        at '%s' (%s): %s\n", errs->items[i].instance_location,
                        errs->items[i].keyword_location, errs->items[i].message);
}

/* Validate `doc` with both compilations, with and without an error list; the four answers must agree. */
static int validate(const Schema *s, json_t *doc, bool expect_valid, const char *what)
{
        const JsonSchema *modes[2] = { s->annotate, s->dates };
        int answer = -1;

        for (size_t m = 0; m < 2; m++) {
                JsonSchemaErrors errs;
                int fast, full;

                json_schema_errors_init(&errs, 0);
                fast = json_schema_validate(modes[m], doc, NULL);
                full = json_schema_validate(modes[m], doc, &errs);
                CHECK(fast == full, "%s: %s: answers differ with and without an error list (%d, %d)", s->rel, what,
                      fast, full);
                CHECK(full >= 0, "%s: %s: validation error %s", s->rel, what, strerror(-full));
                if (expect_valid && full != 0) {
                        fail("%s: %s: should be valid%s", s->rel, what, m ? " (date asserted)" : "");
                        print_errors(&errs);
                } else if (!expect_valid) {
                        CHECK(full == JSON_SCHEMA_E_INVALID, "%s: %s: should be invalid%s", s->rel, what,
                              m ? " (date asserted)" : "");
                        CHECK(full != JSON_SCHEMA_E_INVALID || errs.n > 0, "%s: %s: invalid without an error", s->rel,
                              what);
                }
                json_schema_errors_clear(&errs);
                answer = full;
        }
        return answer;
}

static void check_examples(void)
{
        FileList files = {};
        int r;

        r = walk("", true, &files);
        if (r < 0)
                return fail("schemas/*/examples: %s", strerror(-r));
        for (size_t i = 0; i < files.n; i++) {
                json_auto_t *doc = NULL;
                _cleanup_free_ char *error = NULL, *schema_rel = NULL;
                const char *rel = files.paths[i], *slash = strstr(rel, "/examples/"), *name, *tag;
                bool valid;
                Schema *s;

                name = slash + strlen("/examples/");
                tag = strstr(name, ".valid-");
                valid = tag != NULL;
                if (!tag)
                        tag = strstr(name, ".invalid-");
                if (!tag || strchr(name, '/')) {
                        fail("%s: an example is named <schema>.valid-N.json or <schema>.invalid-<reason>.json", rel);
                        continue;
                }
                if (asprintf(&schema_rel, "%.*s/%.*s.json", (int)(slash - rel), rel, (int)(tag - name), name) < 0)
                        return fail("out of memory");
                s = schema_find(schema_rel);
                if (!s) {
                        fail("%s: no schema %s for this example", rel, schema_rel);
                        continue;
                }
                doc = load_schema_file(rel, &error);
                if (!doc) {
                        fail("%s", strempty(error));
                        continue;
                }
                validate(s, doc, valid, rel);
                if (valid)
                        s->n_valid++;
                else
                        s->n_invalid++;
        }
        for (size_t i = 0; i < n_schemas; i++) {
                if (strneq(schemas[i].rel, "common/", 7))
                        continue;
                CHECK(schemas[i].n_valid >= 2, "%s: %u valid examples, want at least 2", schemas[i].rel,
                      schemas[i].n_valid);
                CHECK(schemas[i].n_invalid >= 3, "%s: %u invalid examples, want at least 3", schemas[i].rel,
                      schemas[i].n_invalid);
        }
        printf("examples: %zu files over %zu schemas\n", files.n, n_schemas);
        file_list_clear(&files);
}

/* The resolver serves schemas/ only, and a reference to something else fails the compilation. */
static void check_resolver(void)
{
        static const char *const refs[] = {
                "../common/nope.json",
                "../common/defs.json#/$defs/nope",
                "https://example.org/common/defs.json",
                "../population/examples/citizen.response.valid-1.json",
                "../../etc/passwd.json",
        };
        unsigned calls = 0;

        for (size_t i = 0; i < ELEMENTSOF(refs); i++) {
                json_auto_t *doc = NULL;
                _cleanup_(json_schema_freep) JsonSchema *js = NULL;
                _cleanup_free_ char *error = NULL;
                JsonSchemaOptions opts = { .resolver = resolver, .userdata = &calls };
                int r;

                doc = json_pack("{s:s, s:s}", "$schema", "https://json-schema.org/draft/2020-12/schema", "$ref",
                                refs[i]);
                r = json_schema_compile(&js, doc, SCHEMA_BASE "test/probe.json", &opts, &error);
                CHECK(r < 0, "a $ref to %s compiled", refs[i]);
        }
        CHECK(calls > 0, "the resolver was never asked");
        CHECK(!resolver(SCHEMA_BASE "common/../common/defs.json", NULL), "the resolver follows '..'");
        {
                json_auto_t *j = resolver(SCHEMA_BASE "common/defs.json", NULL);
                CHECK(json_is_object(j), "the resolver does not serve common/defs.json");
        }
}

/* ---- the registry names only schemas that exist ---- */

static void check_registry(Registry *reg, const char *which)
{
        const RegistryService *const *services;
        size_t n = registry_services(reg, &services);
        unsigned refs = 0;

        CHECK(n >= 15, "%s registry: only %zu services", which, n);
        for (size_t i = 0; i < n; i++) {
                const char *paths[2] = { services[i]->request_schema, services[i]->response_schema };

                for (size_t k = 0; k < 2; k++) {
                        if (!paths[k])
                                continue;
                        refs++;
                        CHECK(schema_find(paths[k]),
                              "%s registry: service %s: schema %s does not exist (or does not compile)", which,
                              services[i]->id, paths[k]);
                }
                CHECK(services[i]->response_schema, "%s registry: service %s has no response schema", which,
                      services[i]->id);
        }
        printf("registry (%s): %zu services, %u schema references\n", which, n, refs);
}

/* ---- the sweep over generated data, through the sample services ---- */

/*
 * Services whose database holds only some people: anyone else is answered
 * 404 {"error":"not_found"}, which the bus does not validate (only 2xx
 * answers are checked against the response schema).
 */
static const char *const partial_services[] = {
        "VN/GOV/BNV/civil-servants/servant-record",
        "VN/GOV/BCA/driving-licences/licence",
        "VN/GOV/BHXH/health-insurance/card",
};

#define ENTERPRISE_SERVICE "VN/GOV/BKHDT/business-registry/enterprise"
#define ENTERPRISES_BY_OWNER_SERVICE "VN/GOV/BKHDT/business-registry/enterprises-by-owner"
#define TAX_CHECK_SERVICE "VN/GOV/BTC/tax/tax-obligation-check"

typedef struct SweepService {
        const char *id;
        const Schema *request, *response;
        const JsonSchema *bus_response; /* compiled by the registry loader, when it does */
        bool partial;
        unsigned n_valid, n_not_found, n_bus;
} SweepService;

static const Schema *service_schema(Registry *reg, const char *service, bool request)
{
        const RegistryService *s = registry_service_lookup(reg, service);
        const char *rel;

        if (!s) {
                fail("registry: no service %s (the sample adapter serves it)", service);
                return NULL;
        }
        rel = request ? s->request_schema : s->response_schema;
        return rel ? schema_find(rel) : NULL;
}

static json_t *parse_doc(const char *text, size_t size, const char *what)
{
        json_error_t err;
        json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);

        if (!j)
                fail("%s: not JSON: %s", what, err.text);
        return j;
}

/*
 * Ask the sample service as the adapter would and validate a 200 answer
 * against the response schema. Return: the parsed answer (caller decrefs),
 * or NULL when there is none to look into.
 */
static json_t *sweep_ask(DatasetReader *rd, SweepService *sv, const char *method, const char *path, const char *subject,
                         const char *body, const char *what)
{
        SampleRequest req = { .service = sv->id,
                              .method = method,
                              .path = path,
                              .subject = subject,
                              .body = body,
                              .body_size = body ? strlen(body) : 0 };
        SampleAnswer a = {};
        json_t *doc = NULL;
        int r;

        r = sample_service_answer(rd, &req, &a);
        if (r < 0) {
                fail("%s: sample_service_answer: %s", what, strerror(-r));
                return NULL;
        }
        if (a.status == 404 && sv->partial) {
                /* not validated by the bus; still check it is the documented shape */
                json_auto_t *e = parse_doc(a.body, a.body_size, what);
                CHECK(streq(strempty(json_string_value(json_object_get(e, "error"))), "not_found"),
                      "%s: a 404 without {\"error\":\"not_found\"}", what);
                sv->n_not_found++;
        } else if (a.status != 200) {
                fail("%s: answered %d %s", what, a.status, strempty(a.body));
        } else {
                doc = parse_doc(a.body, a.body_size, what);
                if (doc && sv->response) {
                        validate(sv->response, doc, true, what);
                        sv->n_valid++;
                }
                if (doc && sv->bus_response) {
                        /* the very validator the bus will use, with the registry's options */
                        r = json_schema_validate(sv->bus_response, doc, NULL);
                        CHECK(r == 0, "%s: refused by the registry's compiled schema (%d)", what, r);
                        sv->n_bus++;
                }
        }
        sample_answer_done(&a);
        return doc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)remove(path);
        return 0;
}

/* Remove the temporary dataset folder and whatever the dataset put in it. */
static void rm_dataset(const char *dir)
{
        (void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void sweep(Registry *reg)
{
        _cleanup_(dataset_freep) Dataset *d = NULL;
        _cleanup_(dataset_reader_freep) DatasetReader *rd = NULL;
        const char *const *ids = sample_service_ids();
        SweepService services[64] = {};
        SweepService *enterprise = NULL, *tax_check = NULL;
        const JsonSchema *bus_request = NULL;
        size_t n = 0;
        unsigned total = 0, n_requests = 0;
        char dir[] = "/tmp/xbus-test-schemas-XXXXXX";
        int r;

        for (; ids[n] && n < ELEMENTSOF(services); n++) {
                SweepService *sv = &services[n];

                sv->id = ids[n];
                sv->response = service_schema(reg, ids[n], false);
                sv->request = service_schema(reg, ids[n], true);
                {
                        const RegistryService *rs = registry_service_lookup(reg, ids[n]);
                        sv->bus_response = rs ? rs->response_validator : NULL;
                }
                CHECK(sv->response, "sweep: %s has no compiled response schema", ids[n]);
                for (size_t k = 0; k < ELEMENTSOF(partial_services); k++)
                        sv->partial |= streq(ids[n], partial_services[k]);
                if (streq(ids[n], ENTERPRISE_SERVICE))
                        enterprise = sv;
                if (streq(ids[n], TAX_CHECK_SERVICE))
                        tax_check = sv;
        }
        CHECK(n == 15, "sweep: the sample adapter serves %zu services, want 15", n);
        {
                const RegistryService *rs = registry_service_lookup(reg, TAX_CHECK_SERVICE);
                bus_request = rs ? rs->request_validator : NULL;
        }
        if (!enterprise || !tax_check || !tax_check->request)
                return fail("sweep: no enterprise service or tax check request schema");

        if (!mkdtemp(dir))
                return fail("mkdtemp: %m");
        r = dataset_generate(dir, SWEEP_PEOPLE, DATASET_DEFAULT_SEED);
        if (r >= 0)
                r = dataset_open(&d, dir);
        if (r >= 0)
                r = dataset_reader_new(d, &rd);
        if (r < 0) {
                rm_dataset(dir);
                return fail("dataset %s: %s", dir, strerror(-r));
        }

        for (uint64_t i = 0; i < SWEEP_PEOPLE; i++) {
                char id[DATASET_ID_LEN + 1];

                r = dataset_person_id(DATASET_DEFAULT_SEED, i, id);
                if (r < 0) {
                        fail("dataset_person_id(%" PRIu64 "): %s", i, strerror(-r));
                        continue;
                }
                for (size_t k = 0; k < n; k++) {
                        SweepService *sv = &services[k];
                        _cleanup_free_ char *what = NULL;
                        json_auto_t *doc = NULL;
                        json_t *e;
                        size_t x;

                        if (sv == enterprise || sv == tax_check)
                                continue;
                        if (asprintf(&what, "%s for %s", sv->id, id) < 0)
                                return fail("out of memory");
                        doc = sweep_ask(rd, sv, "GET", "/", id, NULL, what);
                        if (!streq(sv->id, ENTERPRISES_BY_OWNER_SERVICE))
                                continue;
                        /* each enterprise an owner lists is served by GET enterprise/{code} */
                        json_array_foreach(json_object_get(doc, "enterprises"), x, e) {
                                _cleanup_free_ char *path = NULL;
                                json_auto_t *edoc = NULL;

                                if (asprintf(&path, "/%s", strempty(json_string_value(json_object_get(e, "code")))) < 0)
                                        return fail("out of memory");
                                edoc = sweep_ask(rd, enterprise, "GET", path, NULL, NULL, path);
                        }
                }

                /* the tax obligation check: every year the adapter serves, with and without details */
                for (int year = 2015; year <= DATASET_REFERENCE_YEAR; year++)
                        for (int details = 0; details <= 2; details++) {
                                _cleanup_free_ char *what = NULL, *body = NULL;
                                json_auto_t *req = NULL, *doc = NULL;

                                req = details == 2
                                              ? json_pack("{s:i}", "tax_year", year)
                                              : json_pack("{s:i, s:b}", "tax_year", year, "include_details", details);
                                body = req ? json_dumps(req, JSON_COMPACT) : NULL;
                                if (!body || asprintf(&what, "%s for %s: %s", tax_check->id, id, body) < 0)
                                        return fail("out of memory");
                                if (i == 0) {
                                        validate(tax_check->request, req, true, what);
                                        if (bus_request)
                                                CHECK(json_schema_validate(bus_request, req, NULL) == 0,
                                                      "%s: refused by the registry's compiled request schema", what);
                                        n_requests++;
                                }
                                doc = sweep_ask(rd, tax_check, "POST", "/", id, body, what);
                                CHECK(!doc || (details == 1) == !!json_object_get(doc, "details"), "%s: details %s",
                                      what, details == 1 ? "missing" : "not asked for");
                        }
        }

        for (size_t k = 0; k < n; k++) {
                const SweepService *sv = &services[k];

                CHECK(sv->n_valid > 0, "sweep: no answer of %s", sv->id);
                CHECK(sv->partial || sv == enterprise || sv == tax_check || sv->n_valid == SWEEP_PEOPLE,
                      "sweep: %u answers of %s, want %d", sv->n_valid, sv->id, SWEEP_PEOPLE);
                CHECK(!sv->bus_response || sv->n_bus == sv->n_valid,
                      "sweep: %s: %u answers checked by the registry's schema, want %u", sv->id, sv->n_bus,
                      sv->n_valid);
                printf("sweep: %-55s %5u valid, %3u not found%s\n", sv->id, sv->n_valid, sv->n_not_found,
                       sv->bus_response ? " (also by the registry's compiled schema)" : "");
                total += sv->n_valid;
        }
        printf("sweep: %u answers validated, %u tax check requests\n", total, n_requests);

        rd = dataset_reader_free(rd);
        d = dataset_free(d);
        rm_dataset(dir);
}

/* ---- limits: hostile documents are bounded by the schemas themselves ---- */

static void check_limits(void)
{
        json_auto_t *doc = NULL, *parcel = NULL;
        const Schema *land = schema_find("land/land-parcels.response.json");
        json_t *parcels;

        doc = land ? load_schema_file("land/examples/land-parcels.response.valid-1.json", NULL) : NULL;
        if (!doc)
                return fail("limits: no land parcels schema or example");
        parcels = json_object_get(doc, "parcels");
        parcel = json_incref(json_array_get(parcels, 0));
        if (!parcel)
                return fail("limits: the land example has no parcel");
        while (json_array_size(parcels) < 500)
                json_array_append(parcels, parcel);
        validate(land, doc, true, "500 parcels (the limit)");
        json_array_append(parcels, parcel);
        validate(land, doc, false, "501 parcels (over maxItems)");
}

int main(void)
{
        _cleanup_(registry_unrefp) Registry *reg = NULL, *embedded = NULL;
        _cleanup_free_ char *errors = NULL, *dir = NULL;
        int r;

        source_root = getenv("XBUS_SOURCE_ROOT");
        if (isempty(source_root))
                source_root = XBUS_SOURCE_ROOT;

        load_schemas();
        printf("schemas: %zu compiled\n", n_schemas);
        check_resolver();
        check_examples();
        check_limits();

        if (asprintf(&dir, "%s/conf/registry", source_root) < 0)
                return EXIT_FAILURE;
        r = registry_load_dir(&reg, dir, &errors);
        if (r != 0)
                fail("registry %s: %s\n%s", dir, r < 0 ? strerror(-r) : "invalid", strempty(errors));
        else
                check_registry(reg, "conf/registry");
        errors = mfree(errors);
        r = registry_load_embedded(&embedded, &errors);
        if (r != 0)
                fail("embedded registry: %s\n%s", r < 0 ? strerror(-r) : "invalid", strempty(errors));
        else
                check_registry(embedded, "embedded");

        if (reg)
                sweep(reg);

        for (size_t i = 0; i < n_schemas; i++) {
                json_schema_free(schemas[i].annotate);
                json_schema_free(schemas[i].dates);
                free(schemas[i].rel);
        }
        if (failures > 0) {
                fprintf(stderr, "schemas: %u of %u checks failed\n", failures, n_checks);
                return EXIT_FAILURE;
        }
        printf("schemas: all %u checks passed\n", n_checks);
        return EXIT_SUCCESS;
}
