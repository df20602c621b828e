/* metaservice.h: the X-Road metaservices the node answers itself (listClients, listMethods, allowedMethods, getOpenAPI)
 *
 * PR-META and PR-MREST define how a client learns what an X-Road instance
 * offers; the GovStack Information Mediator's directory API is the same four
 * calls. Here the registry is the answer:
 *
 *   GET /listClients               every member and subsystem (XML, or JSON when
 *                                  asked): an Endpoint of the front door, not an
 *                                  exchange (no X-Road-Client, no service)
 *   GET /r1/{subsystem}/listMethods      the subsystem's services with their
 *   GET /r1/{subsystem}/allowedMethods   endpoints (all, or those the caller's
 *                                        rights cover)
 *   GET /r1/{subsystem}/getOpenAPI?serviceCode=CODE  a service's OpenAPI description
 *
 * The /r1 ones are exchanges of the calling client like any other: decided
 * (policy_decide() resolves them to the subsystem's metaservice, open to every
 * registered client), answered here instead of by an adapter
 * (exchange_route()), then logged and answered with the X-Road response
 * headers and a receipt like a provider's answer. SOAP asks listMethods and
 * allowedMethods in an envelope: metaservice_list() lists what both
 * transports list, on registry_service_list(), the selection the SOAP
 * metaservices make.
 *
 * Everything here is pure over a loaded registry: no I/O, and every pointer
 * handed out borrows from it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node/endpoint.h"
#include "policy/problem.h"
#include "registry.h"

/* One endpoint of a service: one method on one path pattern (borrowed from the registry). */
typedef struct MetaserviceEndpoint {
        unsigned method; /* one REGISTRY_METHOD_* bit */
        const char *path;
} MetaserviceEndpoint;

typedef struct MetaserviceEntry {
        const RegistryService *service;
        MetaserviceEndpoint *endpoints;
        size_t n_endpoints;
} MetaserviceEntry;

typedef struct MetaserviceList {
        MetaserviceEntry *entries; /* by service id */
        size_t n;
} MetaserviceList;

/*
 * metaservice_list(): the services of `provider`, as listMethods lists them
 * (`client` NULL: every service, each with its methods on each of its paths) or
 * allowedMethods (`client` set: the services on which the client holds a right,
 * directly or through a group, each with the endpoints its rights cover; a
 * right narrower than a service path lists its own path); with `soap`, only the
 * services offered over SOAP. Endpoints are distinct. Free with
 * metaservice_list_done(). Return: 0, -ENOMEM.
 */
int metaservice_list(const Registry *reg, const RegistrySubsystem *provider, const RegistrySubsystem *client, bool soap,
                     MetaserviceList *ret);
void metaservice_list_done(MetaserviceList *l);

/* What a metaservice answers: a body, or the problem that refuses it. */
typedef struct MetaserviceAnswer {
        char *body; /* malloc'd: the caller owns it */
        size_t size;
        char content_type[64];
        Problem problem; /* PROBLEM_NONE with a body */
} MetaserviceAnswer;

/*
 * metaservice_check(): whether a request for the metaservice `meta` (of
 * registry_metaservice_lookup()) with the raw query `query` (NULL: none) can be
 * answered, before anything is answered: getOpenAPI needs ?serviceCode= (name
 * matched ignoring case, value percent-decoded) naming a service of the same
 * subsystem. Return: 0, or 1 refused (*p: metaservice_invalid, service_unknown).
 */
int metaservice_check(const Registry *reg, const RegistryService *meta, const char *query, Problem *p);

/*
 * metaservice_answer(): the REST answer of an allowed request for `meta` by
 * `client` with the raw query `query` (NULL: none): listMethods and
 * allowedMethods as JSON (PR-MREST Annex B), getOpenAPI the service's
 * description in its own syntax. Return: 0 (*ret filled: a body, or a
 * problem), -ENOMEM.
 */
int metaservice_answer(const Registry *reg, const RegistryService *meta, const RegistrySubsystem *client,
                       const char *query, MetaserviceAnswer *ret);

/*
 * GET /listClients (and /r1/listClients, the GovStack IM path): the front door
 * hands these paths to this endpoint. A registered client certificate is
 * required (X-Road-Client is not); ?xRoadInstance= or ?instanceId= names the
 * instance (blank: this one; another: an empty list).
 */
extern const Endpoint metaservice_list_clients_endpoint;
