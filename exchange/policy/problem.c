/* problem.c: the table of problem types and their rendering */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/problem.h"

static const ProblemInfo table[_PROBLEM_TYPE_MAX] = {
        [PROBLEM_BAD_REQUEST] = { "bad_request", 400, "The request is malformed" },
        [PROBLEM_SUBJECT_REQUIRED] = { "subject_required", 400,
                                       "The service returns personal data: X-Bus-Subject is required" },
        [PROBLEM_SUBJECT_CONFLICT] = { "subject_conflict", 400,
                                       "The request names the data subject twice, or in places that disagree" },
        [PROBLEM_REQUEST_INVALID] = { "request_invalid", 400,
                                      "The request payload does not match the service's schema" },
        [PROBLEM_CLIENT_UNKNOWN] = { "client_unknown", 401,
                                     "The client certificate is missing, untrusted or not registered" },
        [PROBLEM_CLIENT_MISMATCH] = { "client_mismatch", 403, "X-Road-Client does not match the client certificate" },
        [PROBLEM_ACCESS_DENIED] = { "access_denied", 403, "The client has no access right for this request" },
        [PROBLEM_PURPOSE_INVALID] = { "purpose_invalid", 403,
                                      "The purpose is missing, unknown, or not allowed by the access right" },
        [PROBLEM_CONSENT_REQUIRED] = { "consent_required", 403,
                                       "The access right requires the data subject's consent" },
        [PROBLEM_CONSENT_INVALID] = { "consent_invalid", 403, "The consent presented does not allow this request" },
        [PROBLEM_SERVICE_UNKNOWN] = { "service_unknown", 404, "No such service in this registry" },
        [PROBLEM_NOT_FOUND] = { "not_found", 404, "No such resource" },
        [PROBLEM_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405, "The service does not offer this method" },
        [PROBLEM_PAYLOAD_TOO_LARGE] = { "payload_too_large", 413, "The request body exceeds the service's size limit" },
        [PROBLEM_RESPONSE_INVALID] = { "response_invalid", 502,
                                       "The provider's response was withheld: it is invalid or too large" },
        [PROBLEM_PROVIDER_ERROR] = { "provider_error", 502, "The provider failed to answer correctly" },
        [PROBLEM_PROVIDER_UNAVAILABLE] = { "provider_unavailable", 503, "The provider is not available" },
        [PROBLEM_BUS_BUSY] = { "bus_busy", 503, "The bus is overloaded; retry later" },
        [PROBLEM_LOG_UNAVAILABLE] = { "log_unavailable", 503,
                                      "The exchange could not be logged, so it was not performed" },
        [PROBLEM_PROVIDER_TIMEOUT] = { "provider_timeout", 504, "The provider did not answer in time" },
        [PROBLEM_INTERNAL_ERROR] = { "internal_error", 500, "Internal error" },
};

const ProblemInfo *problem_info(ProblemType t)
{
        if (t <= PROBLEM_NONE || t >= _PROBLEM_TYPE_MAX || !table[t].name)
                return &table[PROBLEM_INTERNAL_ERROR];
        return &table[t];
}

int problem_from_name(const char *name, ProblemType *ret)
{
        if (!name)
                return -EINVAL;
        for (ProblemType t = PROBLEM_NONE + 1; t < _PROBLEM_TYPE_MAX; t++)
                if (table[t].name && streq(table[t].name, name)) {
                        *ret = t;
                        return 0;
                }
        return -EINVAL;
}

int problem_set(Problem *p, ProblemType type, const char *fmt, ...)
{
        va_list ap;

        p->type = type;
        va_start(ap, fmt);
        vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
        va_end(ap);
        return 1;
}

/* Set `key` to `value` when it is given and valid UTF-8 (it comes from the request). */
static int set_optional(json_t *j, const char *key, const char *value)
{
        json_t *v = value ? json_string(value) : NULL;

        return v ? json_object_set_new(j, key, v) : 0;
}

char *problem_render(ProblemType t, const char *detail, const char *instance, const char *xroad_id, json_t *errors)
{
        const ProblemInfo *p = problem_info(t);
        json_t *j;
        char *s;

        j = json_object();
        if (!j)
                return NULL;
        if (json_object_set_new(j, "type", json_string(p->name)) < 0 ||
            json_object_set_new(j, "title", json_string(p->title)) < 0 ||
            json_object_set_new(j, "status", json_integer(p->status)) < 0)
                goto oom;
        if (detail) {
                json_t *d = json_string(detail);
                if (json_object_set_new(j, "detail", d ? d : json_string("(detail not printable)")) < 0)
                        goto oom;
        }
        if (set_optional(j, "instance", instance) < 0 || set_optional(j, "xroad_id", xroad_id) < 0)
                goto oom;
        if (errors && json_object_set(j, "errors", errors) < 0)
                goto oom;
        s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        return s;
oom:
        json_decref(j);
        return NULL;
}
