/* problem.h: the bus's error vocabulary (RFC 9457 problem types) and its X-Road codes
 *
 * Every refusal carries one stable type from this enum; clients branch on its
 * name. The table in problem.c is the single source for the name, the HTTP
 * status, the title and the X-Road error code (docs/protocol.md lists it).
 * Code names a type by its enum value, so a misspelt type does not compile;
 * only outside input (an adapter's frame, a provider's SOAP Fault) is looked
 * up by name, with problem_from_name(), and an unknown name is the caller's
 * to handle.
 *
 * Two profiles render a problem (exchange/http/wire.c chooses): the X-Road
 * profile, {"type","message","detail"} or <error>, whose status follows the
 * code's prefix (400 for Client.*, 500 otherwise), and RFC 9457
 * problem+json with the xbus type and the table's status. Where X-Road tells
 * apart situations that share one xbus type (no certificate, or an
 * unregistered one), a Problem carries a ProblemXroad refinement.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "util/macro.h"

typedef enum ProblemType {
        PROBLEM_NONE = 0, /* no problem (yet): the exchange goes on */
        PROBLEM_BAD_REQUEST,
        PROBLEM_SUBJECT_REQUIRED,
        PROBLEM_SUBJECT_CONFLICT,
        PROBLEM_REQUEST_INVALID,
        PROBLEM_PARAMETER_INVALID,
        PROBLEM_METASERVICE_INVALID,
        PROBLEM_CLIENT_UNKNOWN,
        PROBLEM_CLIENT_MISMATCH,
        PROBLEM_ACCESS_DENIED,
        PROBLEM_PURPOSE_INVALID,
        PROBLEM_CONSENT_REQUIRED,
        PROBLEM_CONSENT_INVALID,
        PROBLEM_SERVICE_UNKNOWN,
        PROBLEM_NOT_FOUND,
        PROBLEM_METHOD_NOT_ALLOWED,
        PROBLEM_PAYLOAD_TOO_LARGE,
        PROBLEM_RESPONSE_INVALID,
        PROBLEM_PROVIDER_ERROR,
        PROBLEM_PROVIDER_UNAVAILABLE,
        PROBLEM_BUS_BUSY,
        PROBLEM_LOG_UNAVAILABLE,
        PROBLEM_PROVIDER_TIMEOUT,
        PROBLEM_REGISTRY_OUTDATED,
        PROBLEM_NODE_UNKNOWN,      /* federation: no node of the snapshot hosts the provider */
        PROBLEM_NODE_UNREACHABLE,  /* federation: the provider's node cannot be reached */
        PROBLEM_NODE_UNTRUSTED,    /* federation: its TLS certificate is not the snapshot's */
        PROBLEM_NODE_TIMEOUT,      /* federation: no answer from the provider's node in time */
        PROBLEM_NODE_INCONSISTENT, /* federation: its answer lacks a receipt that verifies and matches */
        PROBLEM_NODE_REFUSED,      /* federation, provider side: the forwarding node's request is refused */
        PROBLEM_CLIENT_NOT_HOSTED, /* federation, client side: this node would forward for a client it does not host */
        PROBLEM_INTERNAL_ERROR,
        _PROBLEM_TYPE_MAX,
} ProblemType;

typedef struct ProblemInfo {
        const char *name;  /* the stable code, e.g. "access_denied" */
        int status;        /* HTTP status */
        const char *title; /* one line for people */
        const char *xroad; /* the X-Road error code: "Client.BadRequest", "Server.ServerProxy.AccessDenied", ... */
} ProblemInfo;

/* problem_info(): the table entry of `t`; PROBLEM_NONE and values out of range give
 * internal_error's (a bug, never a silent success). Static storage. */
const ProblemInfo *problem_info(ProblemType t);

static inline const char *problem_name(ProblemType t)
{
        return problem_info(t)->name;
}

static inline int problem_status(ProblemType t)
{
        return problem_info(t)->status;
}

/* problem_xroad_status(): the HTTP status of the X-Road profile: 400 for a Client.* code, 500 otherwise. */
int problem_xroad_status(ProblemType t);

/* X-Road codes more precise than a type's own, for the situations X-Road tells apart (one table in problem.c). */
typedef enum ProblemXroad {
        XROAD_CODE_OF_TYPE = 0,          /* the type's own code (ProblemInfo.xroad) */
        XROAD_INVALID_CLIENT_IDENTIFIER, /* Client.InvalidClientIdentifier: X-Road-Client missing or malformed */
        XROAD_INVALID_PROTOCOL_VERSION,  /* Client.InvalidProtocolVersion: /rN/ other than /r1/ */
        XROAD_SSL_AUTHENTICATION_FAILED, /* Server.ClientProxy.SslAuthenticationFailed: no or untrusted
                                          * certificate, or X-Road-Client names another registered subsystem */
        XROAD_UNKNOWN_MEMBER,            /* Server.ClientProxy.UnknownMember: X-Road-Client, or the service's
                                          * provider, is not registered */
        XROAD_INVALID_SECURITY_SERVER,   /* Server.ClientProxy.InvalidSecurityServer: X-Road-Security-Server
                                          * names another node */
        /* SOAP (PR-MESS §2, X-Road's SOAP parser and proxies; soap.h says when) */
        XROAD_INVALID_HTTP_METHOD,          /* Client.InvalidHttpMethod */
        XROAD_INVALID_CONTENT_TYPE,         /* Client.InvalidContentType */
        XROAD_INVALID_SOAP_ACTION,          /* Client.InvalidSoapAction */
        XROAD_INVALID_XML,                  /* Client.InvalidXml */
        XROAD_INVALID_SOAP,                 /* Client.InvalidSoap */
        XROAD_MISSING_HEADER,               /* Client.MissingHeader */
        XROAD_MISSING_HEADER_FIELD,         /* Client.MissingHeaderField */
        XROAD_DUPLICATE_HEADER_FIELD,       /* Client.DuplicateHeaderField */
        XROAD_MISSING_BODY,                 /* Client.MissingBody */
        XROAD_INVALID_BODY,                 /* Client.InvalidBody */
        XROAD_INCONSISTENT_HEADERS,         /* Client.InconsistentHeaders: the Body's element is not the service's */
        XROAD_SERVICE_TYPE,                 /* Server.ServerProxy.ServiceType: a REST service called over SOAP */
        XROAD_INVALID_REQUEST,              /* Server.ServerProxy.InvalidRequest: a metaservice's malformed request */
        XROAD_SERVICE_FAILED_INVALID_XML,   /* Server.ServerProxy.ServiceFailed.InvalidXml */
        XROAD_SERVICE_FAILED_INVALID_SOAP,  /* Server.ServerProxy.ServiceFailed.InvalidSoap */
        XROAD_SERVICE_FAILED_INCONSISTENT,  /* Server.ServerProxy.ServiceFailed.InconsistentResponse */
        XROAD_SERVICE_FAILED_NETWORK_ERROR, /* Server.ServerProxy.ServiceFailed.NetworkError */
        XROAD_SERVICE_FAILED_IO_ERROR,      /* Server.ServerProxy.ServiceFailed.IOError */
        _XROAD_CODE_MAX,
} ProblemXroad;

/* problem_from_name(): the type whose name is `name` (outside input). Return: 0, or -EINVAL. */
int problem_from_name(const char *name, ProblemType *ret);

/* The outcome of a stage: a type and a detail for the client (names no internals). */
typedef struct Problem {
        ProblemType type;
        ProblemXroad xroad; /* XROAD_CODE_OF_TYPE, or a more precise X-Road code */
        char detail[320];
} Problem;

/*
 * problem_set(): record `type` with a formatted detail in *p, replacing what
 * was there (the X-Road code goes back to the type's). Return: 1, for
 * `return problem_set(...)` in functions that answer 0 (allowed) or 1
 * (refused).
 */
int problem_set(Problem *p, ProblemType type, const char *fmt, ...) _printf_(3, 4);

/* problem_refine(): give *p the more precise X-Road code `x`. Return: 1, as problem_set(). */
int problem_refine(Problem *p, ProblemXroad x);

/* problem_xroad_code(): the X-Road code of *p: its refinement, else its type's (static). */
const char *problem_xroad_code(const Problem *p);

/* problem_code_status(): the X-Road profile's status of `code`: 400 for Client.*, 500 otherwise. */
int problem_code_status(const char *code);

/*
 * problem_render(): the application/problem+json body
 * {"type","title","status","detail","instance"} plus "xroad_id" and
 * "xroad_code" when given and "errors" (a JSON array of
 * {"instance","keyword","message"}, borrowed) when given, as
 * request_invalid uses. Return: malloc'd text, or NULL on OOM.
 */
char *problem_render(ProblemType t, const char *detail, const char *instance, const char *xroad_id,
                     const char *xroad_code, json_t *errors);

/*
 * problem_render_xroad(): the X-Road profile's error body (PR-REST 1.0.4
 * §4.6): {"type":code,"message":message,"detail":detail}, or with `xml`
 * <error><type/><message/><detail/></error>. A message that is not valid
 * UTF-8 is replaced by a fixed text. Return: malloc'd text, or NULL on OOM.
 */
char *problem_render_xroad(const char *code, const char *message, const char *detail, bool xml);
