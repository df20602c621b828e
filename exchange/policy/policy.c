/* policy.c: identity -> service -> access right -> legal basis, in that order */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/problem.h"
#include "util/bytes.h"
#include "util/macro.h"

bool policy_valid_token(const char *s, size_t max)
{
        size_t n = 0;

        if (!s)
                return false;
        for (; s[n]; n++) {
                char c = s[n];
                if (n >= max)
                        return false;
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                      c == '_' || c == ':' || c == '-'))
                        return false;
        }
        return n > 0;
}

/*
 * Split the raw "I/C/M/S/SERVICE[/path...]" on its literal "/": each identifier segment is
 * percent-decoded on its own, so that an encoded "/" is data, never a separator (PR-REST 4.2; it
 * stays "%2F" in the id, which then names no service); the path after them is decoded whole.
 */
static int split_service(const char *r1, PolicyDecision *d)
{
        const char *p = r1;
        size_t n = 0;

        /* a URI is visible ASCII: a raw space, control or non-ASCII byte is no URI (RFC 3986 §2) */
        for (const char *c = r1; *c; c++)
                if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
                        return -1;

        for (int i = 0; i < 5; i++) {
                size_t len = strcspn(p, "/");
                char seg[256];
                ssize_t k = len < sizeof(seg) ? percent_decode(p, len, seg) : -1;
                bool raw = k > 0 && memchr(seg, '/', (size_t)k);

                if (k <= 0 || n + (raw ? len : (size_t)k) + 1 >= sizeof(d->service_id))
                        return -1;
                if (i > 0)
                        d->service_id[n++] = '/';
                memcpy(d->service_id + n, raw ? p : seg, raw ? len : (size_t)k);
                n += raw ? len : (size_t)k;
                p += len;
                if (i < 4 && *p++ != '/')
                        return -1;
        }
        d->service_id[n] = 0;
        if (strlen(p) >= sizeof(d->path_buf) || percent_decode(p, strlen(p), d->path_buf) < 0)
                return -1;
        d->path = d->path_buf[0] && !streq(d->path_buf, "/") ? d->path_buf : "/";
        return 0;
}

/* Whether the subsystem offering `service_id` ("I/C/M/S/code") is registered. */
static bool provider_known(const Registry *reg, const char *service_id)
{
        const char *last = strrchr(service_id, '/');
        char owner[256];

        if (!last || (size_t)(last - service_id) >= sizeof(owner))
                return false;
        memcpy(owner, service_id, (size_t)(last - service_id));
        owner[last - service_id] = 0;
        return registry_subsystem_lookup(reg, owner) != NULL;
}

/* The purpose: X-Bus-Purpose, or without it the right's default (a plain X-Road call, logged as such). */
static int decide_purpose(const Registry *reg, const PolicyInput *in, PolicyDecision *d, Problem *p)
{
        d->purpose = in->purpose;
        if (!d->purpose && d->right->default_purpose) {
                d->purpose = d->right->default_purpose->code;
                d->purpose_default = true;
        }
        if (d->right->n_purposes == 0)
                return 0;
        if (!d->purpose)
                return problem_set(p, PROBLEM_PURPOSE_INVALID,
                                   "X-Bus-Purpose is required for '%s': the access right names no default purpose",
                                   d->service->id);
        if (!registry_purpose_lookup(reg, d->purpose))
                return problem_set(p, PROBLEM_PURPOSE_INVALID, "purpose '%.64s' is not registered", d->purpose);
        if (!registry_right_allows_purpose(d->right, d->purpose))
                return problem_set(p, PROBLEM_PURPOSE_INVALID,
                                   "your access right on '%s' does not allow purpose '%.64s'", d->service->id,
                                   d->purpose);
        return 0;
}

/* The client by its TLS certificate: present, trusted, registered. */
static int policy_identify_cert(const Registry *reg, const PolicyInput *in, PolicyDecision *d, Problem *p)
{
        if (!in->cert_present) {
                problem_set(p, PROBLEM_CLIENT_UNKNOWN, "a client certificate is required on /r1");
                return problem_refine(p, XROAD_SSL_AUTHENTICATION_FAILED);
        }
        if (!in->cert_trusted) {
                problem_set(p, PROBLEM_CLIENT_UNKNOWN, "the client certificate is not issued by a trusted CA");
                return problem_refine(p, XROAD_SSL_AUTHENTICATION_FAILED);
        }
        d->client = registry_subsystem_by_cert(reg, in->cert_fingerprint, in->cert_cn);
        if (!d->client)
                return problem_set(p, PROBLEM_CLIENT_UNKNOWN,
                                   "the client certificate does not belong to a registered subsystem");
        return 0;
}

int policy_identify(const Registry *reg, const PolicyInput *in, PolicyDecision *d, Problem *p)
{
        if (in->forward_refused) {
                *p = *in->forward_refused;
                return 1;
        }
        d->client = in->forwarded_client;
        if (!d->client && policy_identify_cert(reg, in, d, p) != 0)
                return 1;
        if (!in->client_header) {
                problem_set(p, PROBLEM_BAD_REQUEST, "the X-Road-Client header is required");
                return problem_refine(p, XROAD_INVALID_CLIENT_IDENTIFIER);
        }
        if (!streq(in->client_header, d->client->id)) {
                /* X-Road tells a client that names another registered subsystem from one that names none */
                problem_set(p, PROBLEM_CLIENT_MISMATCH,
                            "X-Road-Client '%.255s' does not match the certificate's subsystem '%s'", in->client_header,
                            d->client->id);
                return problem_refine(p, registry_subsystem_lookup(reg, in->client_header)
                                                 ? XROAD_SSL_AUTHENTICATION_FAILED
                                                 : XROAD_UNKNOWN_MEMBER);
        }
        return 0;
}

/* The service `id` names: a registered one, or a metaservice the transport answers for this request. */
static const RegistryService *service_resolve(const Registry *reg, const PolicyInput *in, const char *id)
{
        const RegistryService *s = registry_service_lookup(reg, id);

        if (!s && in->metaservices)
                s = registry_metaservice_lookup(reg, id);
        return s && (!s->meta || (s->meta & in->metaservices)) ? s : NULL;
}

int policy_decide(const Registry *reg, const PolicyInput *in, PolicyDecision *d, Problem *p)
{
        unsigned method;
        int r;

        *d = (PolicyDecision){ .path = "/" };

        /* 1. identity: a trusted, registered certificate, named by X-Road-Client */
        if (in->r1_path && split_service(in->r1_path, d) < 0)
                snprintf(d->service_id, sizeof(d->service_id), "%.200s", in->r1_path);
        if (policy_identify(reg, in, d, p) != 0)
                return 1;

        /* 2. the service */
        if (!in->r1_path || split_service(in->r1_path, d) < 0)
                return problem_set(p, PROBLEM_BAD_REQUEST,
                                   "the path must be /r1/{instance}/{class}/{member}/{subsystem}/{service}[/{path}]");
        d->service = service_resolve(reg, in, d->service_id);
        if (!d->service) {
                problem_set(p, PROBLEM_SERVICE_UNKNOWN, "no service '%s' in instance %s", d->service_id,
                            registry_instance(reg));
                return provider_known(reg, d->service_id) ? 1 : problem_refine(p, XROAD_UNKNOWN_MEMBER);
        }
        if (d->service->meta)
                return 0;
        method = registry_method_from_string(in->method);
        if (!method || !(d->service->methods & method))
                return problem_set(p, PROBLEM_METHOD_NOT_ALLOWED, "service '%s' does not offer %s", d->service->id,
                                   in->method);

        /* 3. the access right */
        r = registry_authorize(reg, d->client, d->service, method, d->path, &d->right);
        if (r == REGISTRY_E_METHOD)
                return problem_set(p, PROBLEM_ACCESS_DENIED, "your access right on '%s' does not include %s",
                                   d->service->id, in->method);
        if (r == REGISTRY_E_PATH)
                return problem_set(p, PROBLEM_ACCESS_DENIED,
                                   "your access right on '%s' does not cover the path '%.200s'", d->service->id,
                                   d->path);
        if (r != 0)
                return problem_set(p, PROBLEM_ACCESS_DENIED, "'%s' has no access right on '%s'", d->client->id,
                                   d->service->id);

        /* 4. the legal basis: purpose, subject, statute or consent */
        d->basis = registry_basis_to_string(d->right->basis);
        if (subject_extract(d->service,
                            &(SubjectSources){ .header = in->subject,
                                               .path = d->path,
                                               .query = in->query,
                                               .body = in->body,
                                               .body_size = in->body_size },
                            d->subject, p) != 0)
                return 1;
        if (d->service->personal_data && !d->subject[0])
                return problem_set(p, PROBLEM_SUBJECT_REQUIRED,
                                   "service '%s' returns personal data: name the data subject "
                                   "in X-Bus-Subject%s",
                                   d->service->id,
                                   d->service->subject.source != REGISTRY_SUBJECT_HEADER ? " or where the registry says"
                                                                                         : "");
        if (decide_purpose(reg, in, d, p) != 0)
                return 1;
        if (d->right->basis == REGISTRY_BASIS_CONSENT && !in->consent)
                return problem_set(p, PROBLEM_CONSENT_REQUIRED,
                                   "access to '%s' by '%s' is based on the data subject's consent: present it in "
                                   "X-Bus-Consent",
                                   d->service->id, d->client->id);
        /* A consent is checked against the consent store by the caller (it needs I/O). */
        d->needs_consent = d->right->basis == REGISTRY_BASIS_CONSENT;

        /* 5. size */
        if (in->body_size > d->service->max_request_size)
                return problem_set(p, PROBLEM_PAYLOAD_TOO_LARGE,
                                   "the body is %zu bytes; service '%s' accepts at most %zu", in->body_size,
                                   d->service->id, d->service->max_request_size);
        return 0;
}
