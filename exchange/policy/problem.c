/* problem.c: the table of problem types and their rendering */
#include <jansson.h>
#include <string.h>

#include "policy/problem.h"
#include "util/macro.h"

static const ProblemType table[] = {
        { "bad_request", 400, "The request is malformed" },
        { "subject_required", 400, "The service returns personal data: X-Bus-Subject is required" },
        { "request_invalid", 400, "The request payload does not match the service's schema" },
        { "client_unknown", 401, "The client certificate is missing, untrusted or not registered" },
        { "client_mismatch", 403, "X-Road-Client does not match the client certificate" },
        { "access_denied", 403, "The client has no access right for this request" },
        { "purpose_invalid", 403, "The purpose is missing, unknown, or not allowed by the access right" },
        { "consent_required", 403, "The access right requires the data subject's consent" },
        { "consent_invalid", 403, "The consent presented does not allow this request" },
        { "service_unknown", 404, "No such service in this registry" },
        { "not_found", 404, "No such resource" },
        { "method_not_allowed", 405, "The service does not offer this method" },
        { "payload_too_large", 413, "The request body exceeds the service's size limit" },
        { "response_invalid", 502, "The provider's response was withheld: it is invalid or too large" },
        { "provider_error", 502, "The provider failed to answer correctly" },
        { "provider_unavailable", 503, "The provider is not available" },
        { "bus_busy", 503, "The bus is overloaded; retry later" },
        { "log_unavailable", 503, "The exchange could not be logged, so it was not performed" },
        { "provider_timeout", 504, "The provider did not answer in time" },
        { "internal_error", 500, "Internal error" },
        { NULL, 0, NULL },
};

const ProblemType *problem_types(void)
{
        return table;
}

const ProblemType *problem_lookup(const char *type)
{
        const ProblemType *internal = NULL;

        for (const ProblemType *p = table; p->type; p++) {
                if (type && streq(p->type, type))
                        return p;
                if (streq(p->type, "internal_error"))
                        internal = p;
        }
        return internal;
}

char *problem_render(const char *type, const char *detail, const char *instance, const char *xroad_id)
{
        return problem_render_errors(type, detail, instance, xroad_id, NULL);
}

char *problem_render_errors(const char *type, const char *detail, const char *instance, const char *xroad_id,
                            json_t *errors)
{
        const ProblemType *p = problem_lookup(type);
        json_t *j;
        char *s;

        j = json_object();
        if (!j)
                return NULL;
        json_object_set_new(j, "type", json_string(p->type));
        json_object_set_new(j, "title", json_string(p->title));
        json_object_set_new(j, "status", json_integer(p->status));
        if (detail) {
                json_t *d = json_string(detail);
                json_object_set_new(j, "detail", d ? d : json_string("(detail not printable)"));
        }
        if (instance) {
                json_t *i = json_string(instance);
                if (i)
                        json_object_set_new(j, "instance", i);
        }
        if (xroad_id) {
                json_t *x = json_string(xroad_id);
                if (x)
                        json_object_set_new(j, "xroad_id", x);
        }
        if (errors)
                json_object_set(j, "errors", errors);
        s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        return s;
}
