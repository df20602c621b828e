/* params.h: a request's path and query parameters against what its service declares
 *
 * Pure: no I/O. A service names the segments of its paths ("/vehicles/{plate}")
 * and declares path and query parameters with JSON Schemas (registry.h
 * RegistryParameter, docs/registry.md "parameter"); the bus checks them
 * before routing, as it checks a body against the request schema, so that a
 * malformed plate in a path never reaches the provider. The OpenAPI
 * description the bus serves (getOpenAPI) lists the same parameters.
 */
#pragma once

#include <jansson.h>

#include "policy/problem.h"
#include "registry.h"

/*
 * params_check(): check a request for `svc` whose service path is `path`
 * (decoded, "/" at least) and whose query is `query` (raw, NULL when none).
 *
 * Path: the first of the service's paths that matches names the segments; each
 * "{NAME}" segment with a declared schema is checked.
 * Query: only when the service declares query parameters. Names and values are
 * percent-decoded ("+" stays "+") and names compared ignoring ASCII case, as
 * subject.c reads the subject's parameter; then the query may hold no other
 * parameter (the subject's excepted), none twice, and must hold every required
 * one.
 *
 * Return: 0 valid; 1 refused: *p parameter_invalid with the first problem, and
 * *ret_errors (a new reference, NULL when there is none) a JSON array of
 * {"in","parameter","instance","keyword","message"} for the client; -ENOMEM.
 */
int params_check(const RegistryService *svc, const char *path, const char *query, json_t **ret_errors, Problem *p);
