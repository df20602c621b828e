/* problem.h: the bus's error vocabulary (RFC 9457 problem types)
 *
 * Every refusal carries one stable type from this enum; clients branch on its
 * name. The table in problem.c is the single source for the name, the HTTP
 * status and the title (docs/protocol.md lists it). Code names a type by its
 * enum value, so a misspelt type does not compile; only outside input (an
 * adapter's frame, a provider's SOAP Fault) is looked up by name, with
 * problem_from_name(), and an unknown name is the caller's to handle.
 */
#pragma once

#include <jansson.h>

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

/* problem_from_name(): the type whose name is `name` (outside input). Return: 0, or -EINVAL. */
int problem_from_name(const char *name, ProblemType *ret);

/* The outcome of a stage: a type and a detail for the client (names no internals). */
typedef struct Problem {
        ProblemType type;
        char detail[320];
} Problem;

/*
 * problem_set(): record `type` with a formatted detail in *p, replacing what
 * was there. Return: 1, for `return problem_set(...)` in functions that
 * answer 0 (allowed) or 1 (refused).
 */
int problem_set(Problem *p, ProblemType type, const char *fmt, ...) _printf_(3, 4);

/*
 * problem_render(): the application/problem+json body
 * {"type","title","status","detail","instance"} plus "xroad_id" when given and
 * "errors" (a JSON array of {"instance","keyword","message"}, borrowed) when
 * given, as request_invalid uses. Return: malloc'd text, or NULL on OOM.
 */
char *problem_render(ProblemType t, const char *detail, const char *instance, const char *xroad_id, json_t *errors);
