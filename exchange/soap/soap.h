/* soap.h: SOAP 1.1 exchanges with the X-Road header profile, parsed defensively
 *
 * The SOAP twin of the front door's REST parsing and rendering steps:
 *
 *   soap_request_parse()     bytes -> SoapRequest (hardened parse, envelope and
 *                            X-Road 4.0 header profile, xbus header elements)
 *   soap_request_verify()    locked-down XMLDSig check (soap-dsig.h)
 *   soap_request_validate()  the Body payload against the service's XSD (soap-schemas.h)
 *   ... the same identity, access, legal-basis, logging and receipt steps as REST,
 *       with PolicyInput{ method: the service's method, r1_path: req->service,
 *       client_header: req->client, subject, purpose, consent } ...
 *   soap_response_build()    the provider's payload -> validated, enveloped, signed answer
 *   soap_fault_build()       any refusal -> a SOAP Fault carrying the stable type code
 *
 * Every parse goes through the hardened parser of soap-xml.h.
 *
 * The profile (docs/protocol.md, "## SOAP"):
 *   Envelope (SOAP 1.1 namespace) = [Header] Body, nothing else.
 *   Header: xroad:client (objectType SUBSYSTEM), xroad:service (objectType
 *   SERVICE), xroad:id, xroad:protocolVersion "4.0" (all required, once each),
 *   xroad:userId, xroad:issue (optional), xbus:subject, xbus:purpose,
 *   xbus:consent (optional), ds:Signature (optional; see soap-dsig.h). Other
 *   header elements are ignored unless they carry mustUnderstand="1" (then
 *   refused), except unknown elements of the xroad/xbus namespaces, which are
 *   refused. Body: exactly one element, the payload.
 *
 * Caveats: call soap_global_init() once from the main thread before any other
 * soap_* function and before threads start. Afterwards every function here is
 * thread-safe; a SoapRequest (and its xmlDoc) belongs to one thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "soap/soap-dsig.h"
#include "soap/soap-xml.h"
#include "util/macro.h"
#include "validate/xsd.h"

#define SOAP_MAX_IDENTIFIER 255 /* "I/C/M/S" and "I/C/M/S/SERVICE" */
#define SOAP_MAX_ID 128
#define SOAP_MAX_TEXT_HEADER 256 /* userId, issue */
#define SOAP_MAX_SUBJECT 64
#define SOAP_MAX_PURPOSE 64
#define SOAP_MAX_CONSENT 8192

typedef struct SoapRequest {
        char client[SOAP_MAX_IDENTIFIER + 1];   /* "VN/GOV/BYT/health-services" from xroad:client */
        char service[SOAP_MAX_IDENTIFIER + 1];  /* "VN/GOV/BCA/population/citizen" from xroad:service */
        char service_version[65];               /* id:serviceVersion, "" when absent (not part of the id) */
        char id[SOAP_MAX_ID + 2];               /* xroad:id */
        char user_id[SOAP_MAX_TEXT_HEADER + 1]; /* "" when absent */
        char issue[SOAP_MAX_TEXT_HEADER + 1];   /* "" when absent */
        char protocol_version[16];              /* "4.0" */
        char subject[SOAP_MAX_SUBJECT + 1];     /* xbus:subject, "" when absent */
        char purpose[SOAP_MAX_PURPOSE + 1];     /* xbus:purpose, "" when absent */
        char *consent;                          /* xbus:consent (malloc'd), NULL when absent */
        char request_hash[65];                  /* SHA-256 (hex) of the bytes parsed */
        bool signed_request;                    /* the Header has a ds:Signature (not yet verified) */
        xmlDoc *doc;                            /* owned by the request */
        xmlNode *header, *body;                 /* the envelope's Header and Body, in doc */
        xmlNode *body_payload;                  /* the Body's only element, in doc */
        char *payload_xml;                      /* the payload serialised on its own (with the namespace
                                                 * declarations in scope), NUL-terminated: what the adapter gets */
        size_t payload_size;
} SoapRequest;

/*
 * soap_request_parse(): parse a SOAP request and check the profile.
 * On SOAP_E_REFUSED: *ret_problem is payload_too_large or bad_request
 * (malformed XML, DOCTYPE/entities, a limit, a profile violation), saying
 * why in one line; when the header could be read as far as
 * xroad:id, *ret_partial (may be NULL) gets the request anyway (for the
 * log and the Fault's echo; the caller frees it), else NULL.
 * Return: 0 with *ret (free with soap_request_free()), SOAP_E_REFUSED, -ENOMEM.
 */
int soap_request_parse(const char *data, size_t size, const SoapLimits *l, SoapRequest **ret, SoapRequest **ret_partial,
                       Problem *ret_problem);

/* soap_request_free(): NULL in, NULL out. */
SoapRequest *soap_request_free(SoapRequest *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(SoapRequest *, soap_request_free);

/*
 * soap_request_validate(): the Body payload against `schema` (the service's
 * request XSD; NULL: nothing to check). On SOAP_E_REFUSED *ret_problem is
 * request_invalid with the first schema error.
 * Return: 0, SOAP_E_REFUSED, -ENOMEM.
 */
int soap_request_validate(const SoapRequest *r, const XsdSchema *schema, Problem *ret_problem);

/*
 * soap_request_verify(): soap_dsig_verify() on a parsed request, and the
 * signing certificate's CN must be the request's xroad:client
 * (client_mismatch otherwise). The front door should also check the
 * certificate's fingerprint against the registry or the TLS client
 * certificate (ret_info, may be NULL). Return: as soap_dsig_verify().
 */
int soap_request_verify(const SoapRequest *r, const SoapTrust *t, SoapSignerInfo *ret_info, Problem *ret_problem);

typedef struct SoapResponseOptions {
        const SoapLimits *limits; /* for parsing the provider's payload (NULL: defaults) */
        const XsdSchema *schema;  /* the service's response XSD, or NULL */
        const SoapSigner *signer; /* NULL: unsigned (test backends) */
} SoapResponseOptions;

/*
 * soap_response_build(): the answer to `req`: the provider's `payload`
 * (`size` bytes, one XML element, parsed with the hardening above) checked
 * against o->schema, placed in the Body (wsu:Id "xbus-body"), with a Header
 * (wsu:Id "xbus-header") echoing xroad:client, service, id, userId, issue,
 * protocolVersion, plus xroad:requestHash (SHA-256 of the request bytes),
 * and, with a signer, an enveloped signature in the Header over Body and
 * Header (soap-dsig.h). On SOAP_E_REFUSED *ret_problem is response_invalid
 * (the payload is not XML, over a limit, or not valid), saying so without
 * the provider's internals.
 * Return: 0 with *ret (malloc'd, NUL-terminated, *ret_size bytes without the
 * NUL), SOAP_E_REFUSED, -ENOMEM, -EIO (signing failed).
 */
int soap_response_build(const SoapRequest *req, const char *payload, size_t size, const SoapResponseOptions *o,
                        char **ret, size_t *ret_size, Problem *ret_problem);

/*
 * soap_fault_build(): a SOAP 1.1 Fault for a problem `type` (policy/problem.h): faultcode "SOAP-ENV:Client.TYPE"
 * for 4xx types and "SOAP-ENV:Server.TYPE" otherwise, faultstring the
 * type's title, detail <xbus:problem> with type, status, detail (may be
 * NULL) and xroadId (may be NULL). With `req` (may be NULL) the X-Road
 * header is echoed. Send it with HTTP SOAP_FAULT_HTTP_STATUS.
 * Return: 0 with *ret (malloc'd, NUL-terminated), -ENOMEM.
 */
int soap_fault_build(ProblemType type, const char *detail, const char *xroad_id, const SoapRequest *req, char **ret,
                     size_t *ret_size);

/*
 * soap_fault_read(): if `doc` is a SOAP Fault envelope, its problem (the type
 * the faultcode or the xbus detail names when it is a known one, else
 * provider_error; the faultstring, truncated, as the detail) into
 * *ret_problem (may be NULL). Return: true when it is a Fault.
 */
bool soap_fault_read(xmlDoc *doc, Problem *ret_problem);

/*
 * soap_envelope_payload(): the Body's only element of the envelope `doc`
 * serialised on its own (as SoapRequest.payload_xml), for adapters that
 * receive a provider's envelope. Return: 0 with *ret (malloc'd), -EBADMSG when
 * `doc` is not a SOAP 1.1 envelope with one element in its Body, -ENOMEM.
 */
int soap_envelope_payload(xmlDoc *doc, char **ret, size_t *ret_size);

/*
 * soap_envelope_wrap(): a SOAP 1.1 request envelope around `payload` (one
 * XML element, hardened parse with `l`) with the X-Road header for `client`
 * ("I/C/M/S") and `service` ("I/C/M/S/SERVICE"), `id`, and the optional
 * userId, issue (NULL or "": left out) and xbus subject and purpose. Used by
 * the soap adapter towards its backend and by tests.
 * Return: 0 with *ret (malloc'd), -EINVAL (an identifier is malformed, or
 * the payload is not one element), -ENOMEM.
 */
int soap_envelope_wrap(const char *payload, size_t size, const SoapLimits *l, const char *client, const char *service,
                       const char *id, const char *user_id, const char *issue, const char *subject, const char *purpose,
                       char **ret, size_t *ret_size);
