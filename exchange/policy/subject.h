/* subject.h: which data subject a request concerns, read from the places that may carry it
 *
 * Pure: no I/O. The bus, not a free header, decides the subject: a service
 * says in the registry where its requests carry it (RegistrySubjectPlace:
 * a path template, a query parameter, a member of the JSON body), and
 * X-Bus-Subject may name it as well. Two places that disagree, or the
 * carrying query parameter given twice, refuse the request
 * (subject_conflict), so that what the bus checks and logs is what the
 * provider reads. docs/registry.md ("subject") and docs/protocol.md say it
 * to people.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy/problem.h"
#include "registry.h"

#define SUBJECT_MAX 64 /* bytes of a personal id */

/* The parts of one request that may carry the subject. */
typedef struct SubjectSources {
        const char *header; /* X-Bus-Subject (SOAP: xbus:subject), NULL when absent */
        const char *path;   /* the service path, decoded ("/" at least), NULL when unknown */
        const char *query;  /* the raw query string, NULL when none */
        const void *body;   /* the JSON request body (REST), NULL when none or not JSON's to read (SOAP) */
        size_t body_size;
} SubjectSources;

/* subject_valid(): a personal id as the bus accepts it: [0-9A-Za-z-], 1..SUBJECT_MAX bytes. */
bool subject_valid(const char *s);

/*
 * subject_extract(): the subject of a request for `svc`: named by
 * X-Bus-Subject, by the place the service declares, or by both alike. A
 * query parameter is matched by its percent-decoded name, ignoring ASCII
 * case, so that no spelling of it reaches a provider as a second value.
 * Return: 0 with `ret` set ("" when none is named), or 1 refused (*p:
 * bad_request for a malformed value or a body that is not JSON,
 * subject_conflict for two places that disagree or a repeated parameter).
 */
int subject_extract(const RegistryService *svc, const SubjectSources *in, char ret[SUBJECT_MAX + 1], Problem *p);
