/* sample-service.c: the sample national databases' services over the dataset */
#include <errno.h>
#include <stdio.h>

#include <jansson.h>

#include "sample/sample-service.h"

typedef enum Lookup {
        LOOKUP_SUBJECT,   /* the document of the data subject */
        LOOKUP_PATH_CODE, /* the document named by "/{code}" */
        LOOKUP_TAX_CHECK, /* computed from a POSTed JSON body */
} Lookup;

typedef struct Service {
        const char *id;
        const char *method;
        Lookup lookup;
        DatasetDb db;
} Service;

/* docs/sample-registry.md, "Providers and their services"; written once, for both tables below */
#define SERVICES(X)                                                                                                \
        X("VN/GOV/BCA/population/citizen", "GET", LOOKUP_SUBJECT, DATASET_DB_POPULATION)                           \
        X("VN/GOV/BTP/civil-status/birth-record", "GET", LOOKUP_SUBJECT, DATASET_DB_BIRTH_RECORD)                  \
        X("VN/GOV/BTP/civil-status/marital-status", "GET", LOOKUP_SUBJECT, DATASET_DB_MARITAL_STATUS)              \
        X("VN/GOV/BTNMT/land/land-parcels", "GET", LOOKUP_SUBJECT, DATASET_DB_LAND_PARCELS)                        \
        X("VN/GOV/BKHDT/business-registry/enterprise", "GET", LOOKUP_PATH_CODE, DATASET_DB_ENTERPRISE)             \
        X("VN/GOV/BKHDT/business-registry/enterprises-by-owner", "GET", LOOKUP_SUBJECT,                            \
          DATASET_DB_ENTERPRISES_BY_OWNER)                                                                         \
        X("VN/GOV/BHXH/social-insurance/contribution-history", "GET", LOOKUP_SUBJECT, DATASET_DB_SOCIAL_INSURANCE) \
        X("VN/GOV/BNV/civil-servants/servant-record", "GET", LOOKUP_SUBJECT, DATASET_DB_CIVIL_SERVANTS)            \
        X("VN/GOV/BTC/tax/tax-status", "GET", LOOKUP_SUBJECT, DATASET_DB_TAX)                                      \
        X("VN/GOV/BTC/tax/tax-obligation-check", "POST", LOOKUP_TAX_CHECK, DATASET_DB_TAX)                         \
        X("VN/GOV/BTP/judicial-records/criminal-record", "GET", LOOKUP_SUBJECT, DATASET_DB_CRIMINAL_RECORD)        \
        X("VN/GOV/BCA/driving-licences/licence", "GET", LOOKUP_SUBJECT, DATASET_DB_DRIVING_LICENCES)               \
        X("VN/GOV/BHXH/health-insurance/card", "GET", LOOKUP_SUBJECT, DATASET_DB_HEALTH_INSURANCE)                 \
        X("VN/GOV/BGDDT/diplomas/diplomas", "GET", LOOKUP_SUBJECT, DATASET_DB_DIPLOMAS)                            \
        X("VN/GOV/BLDTBXH/social-protection/benefits", "GET", LOOKUP_SUBJECT, DATASET_DB_SOCIAL_PROTECTION)
#define SERVICE_ENTRY(id, method, lookup, db) { id, method, lookup, db },
#define SERVICE_ID(id, method, lookup, db) id,

static const Service services[] = { SERVICES(SERVICE_ENTRY) };
static const char *const service_ids[] = { SERVICES(SERVICE_ID) NULL };

const char *const *sample_service_ids(void)
{
        return service_ids;
}

void sample_answer_done(SampleAnswer *a)
{
        a->body = mfree(a->body);
        a->body_size = 0;
}

static int answer_error(SampleAnswer *ret, int status, ProblemType error, const char *detail)
{
        json_auto_t *j = NULL;
        char *text;

        j = detail ? json_pack("{s:s,s:s}", "error", problem_name(error), "detail", detail)
                   : json_pack("{s:s}", "error", problem_name(error));
        if (!j)
                return -ENOMEM;
        text = json_dumps(j, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        *ret = (SampleAnswer){
                .status = status, .error = error, .detail = detail, .body = text, .body_size = strlen(text)
        };
        return 0;
}

static bool all_digits(const char *s, size_t n)
{
        if (!s || strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

static const Service *service_find(const char *id)
{
        if (!id)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(services); i++)
                if (streq(services[i].id, id))
                        return &services[i];
        return NULL;
}

/* Parse {"tax_year": int, "include_details": bool}. Return: 0 or -EINVAL with *detail set. */
static int tax_body_parse(const void *body, size_t size, int *year, bool *details, const char **detail)
{
        json_auto_t *j = NULL;
        json_t *y, *d;

        if (size == 0 || !body) {
                *detail = "a JSON body {\"tax_year\": ...} is required";
                return -EINVAL;
        }
        if (size > SAMPLE_MAX_BODY) {
                *detail = "the request body is too large";
                return -EINVAL;
        }
        j = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j)) {
                *detail = "the request body is not a JSON object";
                return -EINVAL;
        }
        y = json_object_get(j, "tax_year");
        if (!json_is_integer(y) || json_integer_value(y) < 0 || json_integer_value(y) > 9999) {
                *detail = "tax_year must be an integer year";
                return -EINVAL;
        }
        d = json_object_get(j, "include_details");
        if (d && !json_is_boolean(d)) {
                *detail = "include_details must be a boolean";
                return -EINVAL;
        }
        *year = (int)json_integer_value(y);
        *details = d && json_is_true(d);
        return 0;
}

int sample_service_answer(DatasetReader *r, const SampleRequest *req, SampleAnswer *ret)
{
        const Service *s = service_find(req->service);
        const char *key, *detail = NULL;
        char *doc = NULL;
        size_t size = 0;
        bool has_path = !isempty(req->path) && !streq(req->path, "/");
        int e;

        if (!s)
                return answer_error(ret, 404, PROBLEM_SERVICE_UNKNOWN, "no such service in the sample databases");
        if (!req->method || !streq(req->method, s->method))
                return answer_error(ret, 405, PROBLEM_METHOD_NOT_ALLOWED, "this service does not take that method");

        if (s->lookup == LOOKUP_PATH_CODE) {
                if (!has_path)
                        return answer_error(ret, 400, PROBLEM_BAD_REQUEST,
                                            "the enterprise code is missing from the path");
                key = req->path + 1;
                if (!all_digits(key, DATASET_ENTERPRISE_CODE_LEN))
                        return answer_error(ret, 400, PROBLEM_BAD_REQUEST, "an enterprise code has 10 digits");
        } else {
                /* "/{subject}" names the subject as the bus decided it (population/citizen's path form) */
                if (has_path && !(req->subject && streq(req->path + 1, req->subject)))
                        return answer_error(ret, 404, PROBLEM_NOT_FOUND, "this service has no sub-paths");
                if (isempty(req->subject))
                        return answer_error(ret, 400, PROBLEM_BAD_REQUEST, "the data subject is required");
                if (!all_digits(req->subject, DATASET_ID_LEN))
                        return answer_error(ret, 400, PROBLEM_BAD_REQUEST, "a personal id has 12 digits");
                key = req->subject;
        }

        if (s->lookup == LOOKUP_TAX_CHECK) {
                int year;
                bool details;

                if (tax_body_parse(req->body, req->body_size, &year, &details, &detail) < 0)
                        return answer_error(ret, 400, PROBLEM_BAD_REQUEST, detail);
                e = dataset_tax_check(r, key, year, details, &doc, &size);
                if (e == -ERANGE)
                        return answer_error(ret, 400, PROBLEM_BAD_REQUEST, "tax_year is outside 2015..2025");
        } else
                e = dataset_get(r, s->db, key, &doc, &size);

        if (e == -ENOENT)
                return answer_error(ret, 404, PROBLEM_NOT_FOUND, NULL);
        if (e < 0)
                return e;
        *ret = (SampleAnswer){ .status = 200, .body = doc, .body_size = size };
        return 0;
}
