/* soap.h: SOAP 1.1 exchanges with the X-Road header profile, parsed defensively
 *
 * The SOAP twin of the front door's REST parsing and rendering steps:
 *
 *   soap_request_parse()     bytes -> SoapRequest (hardened parse, envelope and
 *                            X-Road 4.x header profile, xbus header elements)
 *   soap_request_verify()    locked-down XMLDSig check (soap-dsig.h)
 *   soap_request_validate()  the Body payload against the service's XSD
 *   ... the same identity, access, legal-basis, logging and receipt steps as REST,
 *       with PolicyInput{ method: the service's method, r1_path: req->service,
 *       client_header: req->client, subject, purpose, consent } ...
 *   soap_response_build()    the provider's answer -> validated answer envelope (the
 *                            request's header echoed, xroad:requestHash), or "relay
 *                            the provider's own Fault unchanged"
 *   soap_fault_build()       any refusal -> an X-Road Fault (soap_fault_code())
 *
 * Every parse goes through the hardened parser of soap-xml.h.
 *
 * The profile (docs/protocol.md, "SOAP"; PR-MESS 4.0 §2):
 *   Envelope (SOAP 1.1 namespace) = Header Body, nothing else.
 *   Header: xroad:client (objectType SUBSYSTEM or MEMBER), xroad:service
 *   (objectType SERVICE), xroad:id, xroad:protocolVersion "4.x" (all required,
 *   once each), xroad:userId, xroad:issue, xroad:securityServer (objectType
 *   SERVER), repr:representedParty (optional, once each); the xbus extension
 *   xbus:subject, xbus:purpose, xbus:consent (optional), ds:Signature
 *   (optional; see soap-dsig.h). A request's xroad:requestHash is ignored.
 *   Other header elements are ignored unless they carry mustUnderstand="1"
 *   (then refused), except unknown elements of the xroad/xbus namespaces,
 *   which are refused. Body: exactly one element, whose local name begins with
 *   the service code (the doc/literal wrapped convention: `citizen` for
 *   serviceCode `citizen`; X-Road checks the prefix, and so does the bus).
 * Each refusal carries X-Road's own code (PR-MESS; Problem.xroad, policy/problem.h).
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

#include "crypto/hash.h"
#include "soap/soap-dsig.h"
#include "soap/soap-xml.h"
#include "util/macro.h"
#include "validate/xsd.h"

#define SOAP_MAX_IDENTIFIER 255  /* "I/C/M/S" and "I/C/M/S/SERVICE" */
#define SOAP_MAX_ID 255          /* xroad:id: printable text, as X-Road-Id */
#define SOAP_MAX_TEXT_HEADER 256 /* userId, issue */
#define SOAP_MAX_PARTY 64        /* repr:partyClass, repr:partyCode */
#define SOAP_MAX_SUBJECT 64
#define SOAP_MAX_PURPOSE 64
#define SOAP_MAX_CONSENT 8192

/* The X-Road header fields a request carries, recorded in the order sent (the answer echoes them so). */
typedef enum SoapField {
        SOAP_FIELD_CLIENT,
        SOAP_FIELD_SERVICE,
        SOAP_FIELD_ID,
        SOAP_FIELD_USER_ID,
        SOAP_FIELD_ISSUE,
        SOAP_FIELD_PROTOCOL_VERSION,
        SOAP_FIELD_SECURITY_SERVER,
        SOAP_FIELD_REPRESENTED_PARTY,
        _SOAP_FIELD_MAX,
} SoapField;

typedef struct SoapRequest {
        char client[SOAP_MAX_IDENTIFIER + 1];           /* "VN/GOV/BYT/health-services" (a member: "VN/GOV/BYT") */
        char service[SOAP_MAX_IDENTIFIER + 1];          /* "VN/GOV/BCA/population/citizen" from xroad:service */
        char service_version[65];                       /* id:serviceVersion, "" when absent (not part of the id) */
        char id[SOAP_MAX_ID + 1];                       /* xroad:id */
        char user_id[SOAP_MAX_TEXT_HEADER + 1];         /* "" when absent */
        char issue[SOAP_MAX_TEXT_HEADER + 1];           /* "" when absent */
        char protocol_version[16];                      /* "4.0", "4.1", ... (echoed as sent) */
        char security_server[SOAP_MAX_IDENTIFIER + 1];  /* "I/C/M/SERVER" from xroad:securityServer, "" when absent */
        char represented_party[2 * SOAP_MAX_PARTY + 2]; /* "[partyClass/]partyCode", "" when absent */
        SoapField order[_SOAP_FIELD_MAX];               /* the X-Road fields, in the order sent */
        size_t n_order;
        char subject[SOAP_MAX_SUBJECT + 1];         /* xbus:subject, "" when absent */
        char purpose[SOAP_MAX_PURPOSE + 1];         /* xbus:purpose, "" when absent */
        char *consent;                              /* xbus:consent (malloc'd), NULL when absent */
        char request_hash[HASH_SHA512_B64_LEN + 1]; /* base64 SHA-512 of the bytes parsed (xroad:requestHash) */
        bool signed_request;                        /* the Header has a ds:Signature (not yet verified) */
        xmlDoc *doc;                                /* owned by the request */
        xmlNode *header, *body;                     /* the envelope's Header and Body, in doc */
        xmlNode *body_payload;                      /* the Body's only element, in doc */
        char *payload_xml; /* the payload serialised on its own (with the namespace declarations in
                            * scope), NUL-terminated: what the adapter gets */
        size_t payload_size;
} SoapRequest;

/*
 * soap_request_parse(): parse a SOAP request and check the profile.
 * On SOAP_E_REFUSED: *ret_problem is payload_too_large or bad_request
 * (malformed XML, DOCTYPE/entities, a limit, a profile violation) with the
 * X-Road code (SOAP_X_*), saying why in one line; when the header could be
 * read as far as xroad:id, *ret_partial (may be NULL) gets the request anyway
 * (for the log; the caller frees it), else NULL.
 * Return: 0 with *ret (free with soap_request_free()), SOAP_E_REFUSED, -ENOMEM.
 */
int soap_request_parse(const char *data, size_t size, const SoapLimits *l, SoapRequest **ret, SoapRequest **ret_partial,
                       Problem *ret_problem);

/* soap_request_free(): NULL in, NULL out. */
SoapRequest *soap_request_free(SoapRequest *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(SoapRequest *, soap_request_free);

/* soap_request_service_code(): the service code of a parsed request (the last part of r->service). */
const char *soap_request_service_code(const SoapRequest *r);

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

/* soap_response_build(): the provider's answer is its own SOAP Fault: relay it unchanged (PR-MESS §2.5). */
#define SOAP_E_FAULT 2

typedef struct SoapResponseOptions {
        const SoapLimits *limits; /* for parsing the provider's answer (NULL: defaults) */
        const XsdSchema *schema;  /* the service's response XSD, or NULL */
        const SoapSigner *signer; /* NULL: unsigned */
        int status;               /* the provider's HTTP status (0: 200) */
} SoapResponseOptions;

/*
 * soap_response_build(): the answer to `req` from the provider's `answer`
 * (`size` bytes, parsed with the hardening above): either one payload
 * element (the sample adapter), or the provider's whole SOAP 1.1 envelope
 * (the soap adapter passes its backend's), whose X-Road header, when it has
 * one, must agree with the request's client, service, id, userId and issue.
 * The payload is checked against o->schema and placed in the Body (wsu:Id
 * "xbus-body") under a Header (wsu:Id "xbus-header") that echoes the
 * request's X-Road fields in their order, with xroad:requestHash (base64
 * SHA-512 of the request bytes, PR-MESS §2.2) right after xroad:id, and, with
 * a signer, an enveloped signature in the Header over Body and Header
 * (soap-dsig.h). A provider's requestHash is never copied.
 * On SOAP_E_REFUSED *ret_problem is response_invalid (not XML, not SOAP, over
 * a limit, inconsistent, not valid) or provider_error (an error status
 * without a Fault), with the X-Road code, and says so without the provider's
 * internals.
 * Return: 0 with *ret (malloc'd, NUL-terminated, *ret_size bytes without the
 * NUL), SOAP_E_FAULT (nothing built: `answer` is the provider's own Fault
 * envelope, to be relayed as it is), SOAP_E_REFUSED, -ENOMEM, -EIO (signing failed).
 */
int soap_response_build(const SoapRequest *req, const char *answer, size_t size, const SoapResponseOptions *o,
                        char **ret, size_t *ret_size, Problem *ret_problem);

/*
 * soap_fault_code(): the faultcode of a refusal: its own X-Road code
 * (Problem.xroad), else the SOAP form of its type's (a provider's failure is
 * a Server.ServerProxy.ServiceFailed.* code, PR-MESS Annex D.1), else the
 * type's (problem.c). Static storage.
 */
const char *soap_fault_code(const Problem *p);

/*
 * soap_fault_build(): an X-Road SOAP Fault (PR-MESS §2.5): Envelope, Body and
 * Fault with unqualified children: faultcode `code` (a dotted X-Road code as
 * plain text), faultstring `message` (control characters replaced, at most
 * 1 KiB), an empty faultactor, and detail/faultDetail (no namespace) with
 * `detail` (the error's UUID; NULL: no detail). No Header.
 * Return: 0 with *ret (malloc'd, NUL-terminated), -ENOMEM.
 */
int soap_fault_build(const char *code, const char *message, const char *detail, char **ret, size_t *ret_size);

/* The X-Road header of an envelope the soap adapter sends its backend (NULL or "": left out). */
typedef struct SoapWrapHeader {
        const char *client;            /* "I/C/M/S" (required) */
        const char *service;           /* "I/C/M/S/SERVICE" (required) */
        const char *id;                /* xroad:id (required) */
        const char *user_id, *issue;   /* xroad:userId, xroad:issue */
        const char *represented_party; /* "[partyClass/]partyCode": repr:representedParty */
        const char *subject, *purpose; /* xbus:subject, xbus:purpose (the bus's decision) */
} SoapWrapHeader;

/*
 * soap_envelope_wrap(): a SOAP 1.1 request envelope around `payload` (one
 * XML element, hardened parse with `l`) with the X-Road 4.0 header `h`.
 * Used by the soap adapter towards its backend and by tests.
 * Return: 0 with *ret (malloc'd), -EINVAL (an identifier or the id is
 * malformed, or the payload is not one element), -ENOMEM.
 */
int soap_envelope_wrap(const char *payload, size_t size, const SoapLimits *l, const SoapWrapHeader *h, char **ret,
                       size_t *ret_size);
