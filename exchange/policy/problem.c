/* problem.c: the table of problem types and their rendering */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/problem.h"

/* name, status (problem+json), title, X-Road code (the X-Road profile: status 400 for Client.*, 500 for Server.*;
 * the spec's CamelCase spelling, PR-REST 1.0.4 §4.6; docs/protocol.md has the table) */
static const ProblemInfo table[_PROBLEM_TYPE_MAX] = {
        [PROBLEM_BAD_REQUEST] = { "bad_request", 400, "The request is malformed", "Client.BadRequest" },
        [PROBLEM_SUBJECT_REQUIRED] = { "subject_required", 400,
                                       "The service returns personal data: X-Bus-Subject is required",
                                       "Client.InvalidRequest" },
        [PROBLEM_SUBJECT_CONFLICT] = { "subject_conflict", 400,
                                       "The request names the data subject twice, or in places that disagree",
                                       "Client.InvalidRequest" },
        [PROBLEM_REQUEST_INVALID] = { "request_invalid", 400, "The request payload does not match the service's schema",
                                      "Client.InvalidBody" },
        [PROBLEM_PARAMETER_INVALID] = { "parameter_invalid", 400,
                                        "A path or query parameter does not match the service's description",
                                        "Client.InvalidRequest" },
        [PROBLEM_METASERVICE_INVALID] = { "metaservice_invalid", 400,
                                          "The metaservice request lacks a parameter it needs",
                                          "Server.ServerProxy.InvalidRequest" },
        [PROBLEM_CLIENT_UNKNOWN] = { "client_unknown", 401,
                                     "The client certificate is missing, untrusted or not registered",
                                     "Server.ClientProxy.UnknownMember" },
        [PROBLEM_CLIENT_MISMATCH] = { "client_mismatch", 403, "X-Road-Client does not match the client certificate",
                                      "Server.ClientProxy.SslAuthenticationFailed" },
        [PROBLEM_ACCESS_DENIED] = { "access_denied", 403, "The client has no access right for this request",
                                    "Server.ServerProxy.AccessDenied" },
        [PROBLEM_PURPOSE_INVALID] = { "purpose_invalid", 403,
                                      "The purpose is missing, unknown, or not allowed by the access right",
                                      "Server.ServerProxy.AccessDenied" },
        [PROBLEM_CONSENT_REQUIRED] = { "consent_required", 403, "The access right requires the data subject's consent",
                                       "Server.ServerProxy.AccessDenied" },
        [PROBLEM_CONSENT_INVALID] = { "consent_invalid", 403, "The consent presented does not allow this request",
                                      "Server.ServerProxy.AccessDenied" },
        [PROBLEM_SERVICE_UNKNOWN] = { "service_unknown", 404, "No such service in this registry",
                                      "Server.ServerProxy.UnknownService" },
        [PROBLEM_NOT_FOUND] = { "not_found", 404, "No such resource", "Client.BadRequest" },
        [PROBLEM_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405, "The service does not offer this method",
                                         "Server.ServerProxy.AccessDenied" },
        [PROBLEM_PAYLOAD_TOO_LARGE] = { "payload_too_large", 413, "The request body exceeds the service's size limit",
                                        "Client.BadRequest" },
        [PROBLEM_RESPONSE_INVALID] = { "response_invalid", 502,
                                       "The provider's response was withheld: it is invalid or too large",
                                       "Server.ServerProxy.ServiceFailed.InvalidResponse" },
        [PROBLEM_PROVIDER_ERROR] = { "provider_error", 502, "The provider failed to answer correctly",
                                     "Server.ServerProxy.ServiceFailed.InvalidResponse" },
        [PROBLEM_PROVIDER_UNAVAILABLE] = { "provider_unavailable", 503, "The provider is not available",
                                           "Server.ServerProxy.NetworkError" },
        [PROBLEM_BUS_BUSY] = { "bus_busy", 503, "The bus is overloaded; retry later", "Server.ClientProxy.Busy" },
        [PROBLEM_LOG_UNAVAILABLE] = { "log_unavailable", 503,
                                      "The exchange could not be logged, so it was not performed",
                                      "Server.ClientProxy.LoggingFailed" },
        [PROBLEM_PROVIDER_TIMEOUT] = { "provider_timeout", 504, "The provider did not answer in time",
                                       "Server.ServerProxy.IOError" },
        [PROBLEM_INTERNAL_ERROR] = { "internal_error", 500, "Internal error", "Server.ClientProxy.InternalError" },
};

const ProblemInfo *problem_info(ProblemType t)
{
        if (t <= PROBLEM_NONE || t >= _PROBLEM_TYPE_MAX || !table[t].name)
                return &table[PROBLEM_INTERNAL_ERROR];
        return &table[t];
}

int problem_xroad_status(ProblemType t)
{
        return strncmp(problem_info(t)->xroad, "Client.", 7) == 0 ? 400 : 500;
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
