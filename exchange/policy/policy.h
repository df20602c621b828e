/* policy.h: the per-request decision (identity, service, access right, legal basis)
 *
 * Pure: no I/O, no clock. The front door gathers the facts into a
 * PolicyInput; policy_decide() applies the checks in the documented order
 * (docs/protocol.md) and says allow, or which problem type refuses it and
 * why. The same decision feeds the exchange log either way.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/problem.h"
#include "policy/subject.h"
#include "registry.h"

#define POLICY_MAX_PURPOSE 64
#define POLICY_MAX_PATH 8191 /* bytes of a decoded service path */

typedef struct PolicyInput {
        bool cert_present;               /* the TLS client sent a certificate */
        bool cert_trusted;               /* ... and it chains to a trusted client CA */
        const uint8_t *cert_fingerprint; /* SHA-256 of the DER certificate (32 bytes) or NULL */
        const char *cert_cn;             /* subject CN or NULL */
        const char *client_header;       /* X-Road-Client, decoded (the subsystem id), or NULL */
        const char *method;              /* "GET", ... */
        const char *r1_path; /* the URL path after "/r1/", as sent (percent-encoded): "VN/GOV/BCA/population/citizen/x" */
        const char *query;   /* the raw query string, or NULL */
        const char *subject; /* X-Bus-Subject or NULL */
        const char *purpose; /* X-Bus-Purpose or NULL */
        const char *consent; /* X-Bus-Consent or NULL */
        const void *body;    /* the REST body, where a service may carry the subject (NULL for SOAP) */
        size_t body_size;
        unsigned metaservices; /* RegistryMetaservice bits the transport answers for this request, 0: none */
        /* Forwarded by another node of the federation (federation/envelope.h): the client that node vouches
         * for, identified instead of by a certificate; or the refusal of its envelope. NULL otherwise. */
        const RegistrySubsystem *forwarded_client;
        const Problem *forward_refused;
} PolicyInput;

/* The facts the decision established, as far as it got; the refusal itself is a Problem. */
typedef struct PolicyDecision {
        const RegistrySubsystem *client; /* set as soon as identified */
        const RegistryService *service;  /* set as soon as resolved */
        const RegistryRight *right;      /* set when a right matched */
        char service_id[256];            /* as requested (even when unknown), for the log */
        const char *path;                /* the service path ("/" at least), points into decision */
        char path_buf[POLICY_MAX_PATH + 1];
        char subject[SUBJECT_MAX + 1]; /* the data subject the bus decided on (subject.h), "" when none */
        const char *basis;             /* "statute" / "consent" / NULL */
        const char *purpose;           /* the purpose the exchange is for: X-Bus-Purpose, or the right's
                                        * default-purpose (static in the registry), or NULL */
        bool purpose_default;          /* `purpose` is the right's default: the request named none */
        bool needs_consent;            /* allowed so far; the consent presented must be checked (consent/) */
} PolicyDecision;

/*
 * policy_decide(): fill *d with what could be established, in order. Return: 0
 * when allowed (*p untouched), 1 when refused (*p says which type and why).
 * Never fails otherwise. A metaservice the transport answers (in->metaservices)
 * that the service id names is allowed to every identified client once the
 * service is resolved (d->service->meta set, no right, no subject, no purpose:
 * PR-MREST 4, the metaservices skip the access check).
 */
int policy_decide(const Registry *reg, const PolicyInput *in, PolicyDecision *d, Problem *p);

/*
 * policy_identify(): step 1 of policy_decide(): the client, a trusted and
 * registered certificate that X-Road-Client names, into d->client (the rest
 * of *d untouched). The metaservices, open to every registered client, check
 * only this. Return: 0, 1 when refused (*p: client_unknown, client_mismatch,
 * bad_request, with X-Road's more precise code).
 */
int policy_identify(const Registry *reg, const PolicyInput *in, PolicyDecision *d, Problem *p);

/* policy_valid_token(): header tokens like X-Road-Id ([A-Za-z0-9._:-], 1..max). */
bool policy_valid_token(const char *s, size_t max);
