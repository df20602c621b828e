/* json-schema.c: the official JSON-Schema-Test-Suite (2020-12 and draft-07) against validate/jsonschema */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "validate/jsonschema.h"
#include "xbus-config.h"

/*
 * Data: $XBUS_CONFORMANCE_DIR/json-schema-test-suite (default: the source
 * root's ../shared/conformance). `$ref`s to http://localhost:1234/ are served
 * from remotes/ by the resolver below, never from the network.
 *
 * Required tests are the .json files in tests/<draft>; the exit status is 0 only when
 * each of them passes, except the known failures listed here with their
 * reason. optional/ and optional/format/ are reported on their own lines
 * (format tests run with every format asserted) and never fail the run.
 *
 * Every test is validated twice, without and with an error list; the two
 * answers must agree and an invalid answer must carry at least one error.
 */

typedef struct KnownFailure {
        const char *draft, *file, *case_desc, *test_desc; /* test_desc NULL: the whole case */
        const char *reason;
} KnownFailure;

/* Required tests that cannot pass, each with its reason. Keep this short and honest. */
static const KnownFailure known_failures[] = {
        { NULL },
};

typedef struct Counts {
        unsigned passed, failed, known;
} Counts;

#define PATH_BUF (PATH_MAX + 512)

static char remotes_dir[PATH_BUF];

static json_t *load_json(const char *path)
{
        json_error_t err;
        json_t *j = json_load_file(path, JSON_ALLOW_NUL, &err);
        if (!j)
                /* numbers beyond 64-bit integers (optional/bignum.json): read them as reals */
                j = json_load_file(path, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &err);
        return j;
}

static json_t *resolver(const char *uri, void *userdata)
{
        static const char prefix[] = "http://localhost:1234/";
        char path[PATH_BUF];

        (void)userdata;
        if (strncmp(uri, prefix, sizeof(prefix) - 1) != 0)
                return NULL;
        if (strstr(uri, ".."))
                return NULL;
        if (snprintf(path, sizeof(path), "%s/%s", remotes_dir, uri + sizeof(prefix) - 1) >= (int)sizeof(path))
                return NULL;
        return load_json(path);
}

static const KnownFailure *known(const char *draft, const char *file, const char *case_desc, const char *test_desc)
{
        for (const KnownFailure *k = known_failures; k->draft; k++)
                if (strcmp(k->draft, draft) == 0 && strcmp(k->file, file) == 0 &&
                    strcmp(k->case_desc, case_desc) == 0 && (!k->test_desc || strcmp(k->test_desc, test_desc) == 0))
                        return k;
        return NULL;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every *.json in dir; failures are printed as "file: case: test". */
static void run_dir(const char *suite, const char *draft, const char *sub, JsonSchemaDialect dialect,
                    unsigned format_mask, bool required, Counts *counts)
{
        char dir[PATH_BUF];
        char *names[512];
        size_t n = 0;
        DIR *d;
        struct dirent *de;
        JsonSchemaOptions opts = {
                .default_dialect = dialect,
                .format_assert_mask = format_mask,
                .resolver = resolver,
        };

        snprintf(dir, sizeof(dir), "%s/tests/%s%s%s", suite, draft, sub ? "/" : "", sub ? sub : "");
        d = opendir(dir);
        if (!d)
                return;
        while ((de = readdir(d)) && n < 512) {
                size_t l = strlen(de->d_name);
                if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
                        names[n++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof(char *), name_cmp);

        for (size_t f = 0; f < n; f++) {
                char path[PATH_BUF], file[PATH_MAX];
                json_t *cases, *tc;
                size_t ci;

                if (snprintf(path, sizeof(path), "%s/%s", dir, names[f]) >= (int)sizeof(path) ||
                    snprintf(file, sizeof(file), "%s%s%s", sub ? sub : "", sub ? "/" : "", names[f]) >=
                            (int)sizeof(file)) {
                        printf("  FAIL %s: path too long\n", names[f]);
                        counts->failed++;
                        continue;
                }
                cases = load_json(path);
                if (!json_is_array(cases)) {
                        printf("  FAIL %s/%s: cannot be read\n", draft, file);
                        counts->failed++;
                        json_decref(cases);
                        continue;
                }
                json_array_foreach(cases, ci, tc) {
                        const char *cdesc = json_string_value(json_object_get(tc, "description"));
                        json_t *tests = json_object_get(tc, "tests"), *t;
                        JsonSchema *schema = NULL;
                        char *error = NULL;
                        size_t ti;
                        int r;

                        r = json_schema_compile(&schema, json_object_get(tc, "schema"), NULL, &opts, &error);
                        json_array_foreach(tests, ti, t) {
                                const char *tdesc = json_string_value(json_object_get(t, "description"));
                                bool expect = json_is_true(json_object_get(t, "valid"));
                                const KnownFailure *k = required ? known(draft, file, cdesc, tdesc) : NULL;
                                const char *why = NULL;
                                char whybuf[512];

                                if (r < 0) {
                                        snprintf(whybuf, sizeof(whybuf), "schema refused: %s (%s)", error ? error : "?",
                                                 strerror(-r));
                                        why = whybuf;
                                } else {
                                        JsonSchemaErrors errs;
                                        int v1 = json_schema_validate(schema, json_object_get(t, "data"), NULL);
                                        int v2;

                                        json_schema_errors_init(&errs, 8);
                                        v2 = json_schema_validate(schema, json_object_get(t, "data"), &errs);
                                        if (v1 < 0) {
                                                snprintf(whybuf, sizeof(whybuf), "validation error %s", strerror(-v1));
                                                why = whybuf;
                                        } else if (v1 != v2) {
                                                why = "answer differs when errors are collected";
                                        } else if (v2 == JSON_SCHEMA_E_INVALID && errs.n == 0) {
                                                why = "invalid without any error reported";
                                        } else if ((v1 == 0) != expect) {
                                                snprintf(whybuf, sizeof(whybuf), "expected %s, got %s%s%s",
                                                         expect ? "valid" : "invalid", v1 == 0 ? "valid" : "invalid",
                                                         errs.n ? ": " : "", errs.n ? errs.items[0].message : "");
                                                why = whybuf;
                                        }
                                        json_schema_errors_clear(&errs);
                                }
                                if (!why) {
                                        counts->passed++;
                                        if (k)
                                                printf("  NOTE %s/%s: %s: %s: passes now, remove it from the known failures\n",
                                                       draft, file, cdesc, tdesc);
                                } else if (k) {
                                        counts->known++;
                                        printf("  KNOWN %s/%s: %s: %s: %s\n", draft, file, cdesc, tdesc, k->reason);
                                } else {
                                        counts->failed++;
                                        printf("  %s %s/%s: %s: %s: %s\n", required ? "FAIL" : "fail (optional)", draft,
                                               file, cdesc, tdesc, why);
                                }
                        }
                        json_schema_free(schema);
                        free(error);
                }
                json_decref(cases);
        }
        for (size_t f = 0; f < n; f++)
                free(names[f]);
}

int main(void)
{
        static const struct {
                const char *name;
                JsonSchemaDialect dialect;
        } drafts[] = {
                { "draft2020-12", JSON_SCHEMA_DRAFT_2020_12 },
                { "draft7", JSON_SCHEMA_DRAFT_07 },
        };
        const char *base = getenv("XBUS_CONFORMANCE_DIR");
        char suite[PATH_BUF], fallback[PATH_MAX];
        struct stat st;
        bool ok = true;

        if (!base || !*base) {
                const char *root = getenv("XBUS_SOURCE_ROOT");
                snprintf(fallback, sizeof(fallback), "%s/../shared/conformance",
                         root && *root ? root : XBUS_SOURCE_ROOT);
                base = fallback;
        }
        if (snprintf(suite, sizeof(suite), "%s/json-schema-test-suite", base) >= (int)sizeof(suite) - 16 ||
            snprintf(remotes_dir, sizeof(remotes_dir), "%s/remotes", suite) >= (int)sizeof(remotes_dir)) {
                fprintf(stderr, "json-schema: conformance path too long\n");
                return 1;
        }
        if (stat(suite, &st) < 0 || !S_ISDIR(st.st_mode)) {
                printf("json-schema: test suite not found at %s (set XBUS_CONFORMANCE_DIR), skipping\n", suite);
                return 77;
        }

        for (size_t i = 0; i < sizeof(drafts) / sizeof(drafts[0]); i++) {
                Counts req = {}, opt = {}, fmt = {};

                run_dir(suite, drafts[i].name, NULL, drafts[i].dialect, 0, true, &req);
                run_dir(suite, drafts[i].name, "optional", drafts[i].dialect, 0, false, &opt);
                run_dir(suite, drafts[i].name, "optional/format", drafts[i].dialect, JSON_SCHEMA_FORMAT_ALL, false,
                        &fmt);
                printf("json-schema %s: %u passed, %u failed", drafts[i].name, req.passed, req.failed + req.known);
                if (req.known)
                        printf(" (%u known, listed above with the reason)", req.known);
                printf("\n");
                printf("json-schema %s optional: %u passed, %u failed\n", drafts[i].name, opt.passed, opt.failed);
                printf("json-schema %s optional/format: %u passed, %u failed\n", drafts[i].name, fmt.passed,
                       fmt.failed);
                if (req.failed > 0 || req.passed == 0)
                        ok = false;
        }
        return ok ? 0 : 1;
}
