/* problem.c: the table of problem types and their rendering */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/problem.h"
#include "util/utf8.h"

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
        [PROBLEM_REGISTRY_OUTDATED] = { "registry_outdated", 503,
                                        "The node's registry snapshot expired: it refuses exchanges until it gets a "
                                        "fresh one",
                                        "Server.ClientProxy.OutdatedGlobalConf" },
        [PROBLEM_NODE_UNKNOWN] = { "node_unknown", 503, "No node of the federation hosts the provider",
                                   "Server.ClientProxy.UnknownMember" },
        [PROBLEM_NODE_UNREACHABLE] = { "node_unreachable", 503, "The provider's node cannot be reached",
                                       "Server.ClientProxy.NetworkError" },
        [PROBLEM_NODE_UNTRUSTED] = { "node_untrusted", 502,
                                     "The provider's node presented a certificate the registry snapshot does not name",
                                     "Server.ClientProxy.SslAuthenticationFailed" },
        [PROBLEM_NODE_TIMEOUT] = { "node_timeout", 504, "The provider's node did not answer in time",
                                   "Server.ClientProxy.NetworkError" },
        [PROBLEM_NODE_INCONSISTENT] = { "node_inconsistent", 502,
                                        "The provider's node answered without a receipt that verifies and matches",
                                        "Server.ClientProxy.InconsistentResponse" },
        [PROBLEM_NODE_REFUSED] = { "node_refused", 403, "The forwarding node's request is refused",
                                   "Server.ServerProxy.SslAuthenticationFailed" },
        [PROBLEM_CLIENT_NOT_HOSTED] = { "client_not_hosted", 403, "This node does not host the client",
                                        "Server.ClientProxy.UnknownMember" },
        [PROBLEM_INTERNAL_ERROR] = { "internal_error", 500, "Internal error", "Server.ClientProxy.InternalError" },
};

/* The refinements (ProblemXroad): the codes X-Road uses where one xbus type covers several situations. */
static const char *const xroad_refined[_XROAD_CODE_MAX] = {
        [XROAD_INVALID_CLIENT_IDENTIFIER] = "Client.InvalidClientIdentifier",
        [XROAD_INVALID_PROTOCOL_VERSION] = "Client.InvalidProtocolVersion",
        [XROAD_SSL_AUTHENTICATION_FAILED] = "Server.ClientProxy.SslAuthenticationFailed",
        [XROAD_UNKNOWN_MEMBER] = "Server.ClientProxy.UnknownMember",
        [XROAD_INVALID_SECURITY_SERVER] = "Server.ClientProxy.InvalidSecurityServer",
        [XROAD_INVALID_HTTP_METHOD] = "Client.InvalidHttpMethod",
        [XROAD_INVALID_CONTENT_TYPE] = "Client.InvalidContentType",
        [XROAD_INVALID_SOAP_ACTION] = "Client.InvalidSoapAction",
        [XROAD_INVALID_XML] = "Client.InvalidXml",
        [XROAD_INVALID_SOAP] = "Client.InvalidSoap",
        [XROAD_MISSING_HEADER] = "Client.MissingHeader",
        [XROAD_MISSING_HEADER_FIELD] = "Client.MissingHeaderField",
        [XROAD_DUPLICATE_HEADER_FIELD] = "Client.DuplicateHeaderField",
        [XROAD_MISSING_BODY] = "Client.MissingBody",
        [XROAD_INVALID_BODY] = "Client.InvalidBody",
        [XROAD_INCONSISTENT_HEADERS] = "Client.InconsistentHeaders",
        [XROAD_SERVICE_TYPE] = "Server.ServerProxy.ServiceType",
        [XROAD_INVALID_REQUEST] = "Server.ServerProxy.InvalidRequest",
        [XROAD_SERVICE_FAILED_INVALID_XML] = "Server.ServerProxy.ServiceFailed.InvalidXml",
        [XROAD_SERVICE_FAILED_INVALID_SOAP] = "Server.ServerProxy.ServiceFailed.InvalidSoap",
        [XROAD_SERVICE_FAILED_INCONSISTENT] = "Server.ServerProxy.ServiceFailed.InconsistentResponse",
        [XROAD_SERVICE_FAILED_NETWORK_ERROR] = "Server.ServerProxy.ServiceFailed.NetworkError",
        [XROAD_SERVICE_FAILED_IO_ERROR] = "Server.ServerProxy.ServiceFailed.IOError",
};

const ProblemInfo *problem_info(ProblemType t)
{
        if (t <= PROBLEM_NONE || t >= _PROBLEM_TYPE_MAX || !table[t].name)
                return &table[PROBLEM_INTERNAL_ERROR];
        return &table[t];
}

int problem_code_status(const char *code)
{
        return code && strncmp(code, "Client.", 7) == 0 ? 400 : 500;
}

int problem_xroad_status(ProblemType t)
{
        return problem_code_status(problem_info(t)->xroad);
}

const char *problem_xroad_code(const Problem *p)
{
        if (p->xroad > XROAD_CODE_OF_TYPE && p->xroad < _XROAD_CODE_MAX && xroad_refined[p->xroad])
                return xroad_refined[p->xroad];
        return problem_info(p->type)->xroad;
}

int problem_refine(Problem *p, ProblemXroad x)
{
        p->xroad = x;
        return 1;
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
        p->xroad = XROAD_CODE_OF_TYPE;
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

char *problem_render(ProblemType t, const char *detail, const char *instance, const char *xroad_id,
                     const char *xroad_code, json_t *errors)
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
        if (set_optional(j, "instance", instance) < 0 || set_optional(j, "xroad_id", xroad_id) < 0 ||
            set_optional(j, "xroad_code", xroad_code) < 0)
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

/* Text for an XML element: the five special characters escaped (the text is valid UTF-8). */
static void put_xml_text(FILE *f, const char *s)
{
        for (; *s; s++)
                switch (*s) {
                case '&':
                        fputs("&amp;", f);
                        break;
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                case '\'':
                        fputs("&apos;", f);
                        break;
                default:
                        fputc(*s, f);
                }
}

/* Printable UTF-8 (tabs allowed): what an X-Road error body may carry as it is. */
static bool text_ok(const char *s)
{
        for (const char *c = s; *c; c++)
                if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                        return false;
        return utf8_valid(s, strlen(s));
}

char *problem_render_xroad(const char *code, const char *message, const char *detail, bool xml)
{
        const char *fields[3][2] = { { "type", code }, { "message", message }, { "detail", detail } };
        char *text = NULL;
        size_t size = 0;
        FILE *f;

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (!fields[i][1] || !text_ok(fields[i][1]))
                        fields[i][1] = "(not printable)";
        if (!xml) {
                json_t *j = json_pack("{s:s,s:s,s:s}", "type", fields[0][1], "message", fields[1][1], "detail",
                                      fields[2][1]);
                text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
                json_decref(j);
                return text;
        }
        f = open_memstream(&text, &size);
        if (!f)
                return NULL;
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>", f);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                fprintf(f, "<%s>", fields[i][0]);
                put_xml_text(f, fields[i][1]);
                fprintf(f, "</%s>", fields[i][0]);
        }
        fputs("</error>\n", f);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}
