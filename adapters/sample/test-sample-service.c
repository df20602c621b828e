/* test-sample-service.c: every sample service answers, and refuses what it must */
#include <assert.h>
#include <ftw.h>
#include <stdio.h>

#include <jansson.h>

#include "sample/dataset.h"
#include "sample/sample-service.h"

#define PEOPLE 600
#define SEED 5

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static json_t *answer(DatasetReader *r, const char *service, const char *method, const char *path, const char *subject,
                      const char *body, int want_status, const char *want_error)
{
        SampleRequest req = { service, method, path, subject, body, body ? strlen(body) : 0 };
        SampleAnswer a;
        json_t *j;

        assert(sample_service_answer(r, &req, &a) == 0);
        if (a.status != want_status) {
                fprintf(stderr, "%s %s %s subject %s: status %d, want %d: %s\n", method, service, strempty(path),
                        strempty(subject), a.status, want_status, a.body);
                abort();
        }
        assert(a.body && a.body_size == strlen(a.body));
        j = json_loads(a.body, 0, NULL);
        assert(j);
        if (want_error) {
                assert(a.error && streq(problem_name(a.error), want_error));
                assert(streq(json_string_value(json_object_get(j, "error")), want_error));
        } else
                assert(!a.error);
        sample_answer_done(&a);
        assert(!a.body);
        return j;
}

int main(void)
{
        char dir[] = "/tmp/xbus-test-sample-service-XXXXXX";
        _cleanup_(dataset_freep) Dataset *d = NULL;
        _cleanup_(dataset_reader_freep) DatasetReader *r = NULL;
        char id[DATASET_ID_LEN + 1];
        size_t n = 0, with_servant = 0;
        json_t *j;

        assert(mkdtemp(dir));
        assert(dataset_generate(dir, PEOPLE, SEED) == 0);
        assert(dataset_open(&d, dir) == 0);
        assert(dataset_reader_new(d, &r) == 0);
        dataset_person_id(SEED, 0, id);

        /* the table: 15 services, as in docs/sample-registry.md */
        for (const char *const *s = sample_service_ids(); *s; s++)
                n++;
        assert(n == 15);

        /* every personal GET service: 200 with the subject's document for the demo citizen, or 404 */
        for (const char *const *s = sample_service_ids(); *s; s++) {
                if (strstr(*s, "/enterprise") && !strstr(*s, "by-owner"))
                        continue;
                if (strstr(*s, "tax-obligation-check"))
                        continue;
                for (uint64_t i = 0; i < PEOPLE; i++) {
                        SampleRequest req = { *s, "GET", "/", id, NULL, 0 };
                        SampleAnswer a;

                        dataset_person_id(SEED, i, id);
                        assert(sample_service_answer(r, &req, &a) == 0);
                        assert(a.status == 200 || (a.status == 404 && streq(problem_name(a.error), "not_found")));
                        if (a.status == 200) {
                                json_t *doc = json_loads(a.body, 0, NULL);
                                assert(doc && streq(json_string_value(json_object_get(doc, "id")), id));
                                json_decref(doc);
                                if (strstr(*s, "servant-record"))
                                        with_servant++;
                        } else
                                /* only the databases that do not hold everyone say not_found */
                                assert(strstr(*s, "servant-record") || strstr(*s, "licence") || strstr(*s, "card"));
                        sample_answer_done(&a);
                }
                dataset_person_id(SEED, 0, id);
        }
        assert(with_servant > 0 && with_servant < PEOPLE / 4);

        /* refusals */
        j = answer(r, "VN/GOV/BCA/population/citizen", "GET", "/", "999999999999", NULL, 404, "not_found");
        assert(json_object_size(j) == 1); /* exactly {"error":"not_found"} */
        json_decref(j);
        json_decref(answer(r, "VN/GOV/BCA/population/citizen", "GET", "/", NULL, NULL, 400, "bad_request"));
        json_decref(answer(r, "VN/GOV/BCA/population/citizen", "GET", "", "", NULL, 400, "bad_request"));
        json_decref(answer(r, "VN/GOV/BCA/population/citizen", "GET", "/", "00109000000", NULL, 400, "bad_request"));
        json_decref(answer(r, "VN/GOV/BCA/population/citizen", "GET", "/", "00109000000x", NULL, 400, "bad_request"));
        json_decref(answer(r, "VN/GOV/BCA/population/citizen", "GET", "/", "0010900000011", NULL, 400, "bad_request"));
        json_decref(answer(r, "VN/GOV/BCA/population/citizen", "GET", "/extra", id, NULL, 404, "not_found"));
        json_decref(answer(r, "VN/GOV/BCA/population/citizen", "POST", "/", id, NULL, 405, "method_not_allowed"));
        json_decref(answer(r, "VN/GOV/BCA/population/nothing", "GET", "/", id, NULL, 404, "service_unknown"));
        json_decref(answer(r, NULL, "GET", "/", id, NULL, 404, "service_unknown"));
        json_decref(answer(r, "VN/GOV/BCA/population/citizen", NULL, "/", id, NULL, 405, "method_not_allowed"));
        /* a path with ".." or odd bytes is just not found/refused, never a lookup of something else */
        json_decref(answer(r, "VN/GOV/BCA/population/citizen", "GET", "/../tax", id, NULL, 404, "not_found"));

        /* the enterprise service: by code in the path, not personal */
        {
                json_t *ebo = answer(r, "VN/GOV/BKHDT/business-registry/enterprises-by-owner", "GET", "/", id, NULL,
                                     200, NULL);
                json_t *first = json_array_get(json_object_get(ebo, "enterprises"), 0);
                char path[32];

                assert(first); /* the demo citizen represents one enterprise */
                snprintf(path, sizeof(path), "/%s", json_string_value(json_object_get(first, "code")));
                j = answer(r, "VN/GOV/BKHDT/business-registry/enterprise", "GET", path, NULL, NULL, 200, NULL);
                assert(streq(json_string_value(json_object_get(j, "code")), path + 1));
                json_decref(j);
                json_decref(ebo);
                json_decref(answer(r, "VN/GOV/BKHDT/business-registry/enterprise", "GET", "/", NULL, NULL, 400,
                                   "bad_request"));
                json_decref(answer(r, "VN/GOV/BKHDT/business-registry/enterprise", "GET", "/12345", NULL, NULL, 400,
                                   "bad_request"));
                json_decref(answer(r, "VN/GOV/BKHDT/business-registry/enterprise", "GET", "/9999999999", NULL, NULL,
                                   404, "not_found"));
                json_decref(answer(r, "VN/GOV/BKHDT/business-registry/enterprise", "GET", "/0100765431/x", NULL, NULL,
                                   400, "bad_request"));
        }

        /* the POST tax obligation check */
        {
                const char *svc = "VN/GOV/BTC/tax/tax-obligation-check";
                char big[SAMPLE_MAX_BODY + 64];

                j = answer(r, svc, "POST", "/", id, "{\"tax_year\":2024,\"include_details\":true}", 200, NULL);
                assert(json_integer_value(json_object_get(j, "tax_year")) == 2024);
                assert(json_is_array(json_object_get(j, "details")));
                json_decref(j);
                j = answer(r, svc, "POST", "/", id, "{\"tax_year\":2024}", 200, NULL);
                assert(!json_object_get(j, "details"));
                json_decref(j);
                json_decref(answer(r, svc, "GET", "/", id, NULL, 405, "method_not_allowed"));
                json_decref(answer(r, svc, "POST", "/", id, NULL, 400, "bad_request"));
                json_decref(answer(r, svc, "POST", "/", id, "not json", 400, "bad_request"));
                json_decref(answer(r, svc, "POST", "/", id, "[2024]", 400, "bad_request"));
                json_decref(answer(r, svc, "POST", "/", id, "{}", 400, "bad_request"));
                json_decref(answer(r, svc, "POST", "/", id, "{\"tax_year\":\"2024\"}", 400, "bad_request"));
                json_decref(answer(r, svc, "POST", "/", id, "{\"tax_year\":2024.5}", 400, "bad_request"));
                json_decref(answer(r, svc, "POST", "/", id, "{\"tax_year\":1990}", 400, "bad_request"));
                json_decref(answer(r, svc, "POST", "/", id, "{\"tax_year\":2026}", 400, "bad_request"));
                json_decref(answer(r, svc, "POST", "/", id, "{\"tax_year\":2024,\"include_details\":1}", 400,
                                   "bad_request"));
                json_decref(
                        answer(r, svc, "POST", "/", id, "{\"tax_year\":2024,\"tax_year\":2023}", 400, "bad_request"));
                json_decref(answer(r, svc, "POST", "/", "999999999999", "{\"tax_year\":2024}", 404, "not_found"));
                json_decref(answer(r, svc, "POST", "/", NULL, "{\"tax_year\":2024}", 400, "bad_request"));
                snprintf(big, sizeof(big), "{\"tax_year\":2024,\"pad\":\"%0*d\"}", SAMPLE_MAX_BODY, 0);
                json_decref(answer(r, svc, "POST", "/", id, big, 400, "bad_request"));
        }

        r = dataset_reader_free(r);
        d = dataset_free(d);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        printf("sample services: ok (%zu servants among %d)\n", with_servant, PEOPLE);
        return 0;
}
