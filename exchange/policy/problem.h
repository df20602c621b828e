/* problem.h: the bus's error vocabulary (RFC 9457 problem types)
 *
 * Every refusal carries one stable `type` code from this table; clients may
 * branch on it. The table is the single source for the HTTP status, the
 * title and the X-Road-Error header (docs/protocol.md lists it).
 */
#pragma once

#include <jansson.h>

typedef struct ProblemType {
        const char *type;
        int status;
        const char *title;
} ProblemType;

/* problem_lookup(): the entry for `type`, or the entry of "internal_error". Static storage. */
const ProblemType *problem_lookup(const char *type);

/* problem_types(): the whole table (NULL-terminated by type), for docs and tests. */
const ProblemType *problem_types(void);

/*
 * problem_render(): the application/problem+json body
 * {"type","title","status","detail","instance"} plus "xroad_id" when given.
 * Return: malloc'd NUL-terminated text, or NULL on OOM.
 */
char *problem_render(const char *type, const char *detail, const char *instance, const char *xroad_id);

/*
 * problem_render_errors(): the same with an "errors" member (a JSON array of
 * {"instance","keyword","message"} objects, borrowed), as request_invalid uses.
 */
char *problem_render_errors(const char *type, const char *detail, const char *instance, const char *xroad_id,
                            json_t *errors);
