/* soap-internal.h: what the envelope pieces of exchange/soap share (soap.c, soap-envelope.c, soap-meta.c)
 *
 *   soap.c           reading requests: the envelope, the X-Road header, the Body
 *   soap-envelope.c  writing envelopes: answers, faults, the adapter's requests
 *   soap-meta.c      the SOAP metaservices' answers and the generated WSDL
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "soap/soap.h"

/* --- reading (soap.c) --- */

/* soap_only_elements(): only elements, white space and comments among `parent`'s children. */
bool soap_only_elements(xmlNode *parent);

/*
 * soap_simple_text(): the text of a simple element: text (and CDATA) children
 * only, 1..max bytes, no control characters (libxml2 has checked the UTF-8),
 * into `out` (max + 1 bytes). Return: 0, -EINVAL.
 */
int soap_simple_text(xmlNode *n, char *out, size_t max);

/*
 * soap_split_envelope(): `doc` is a SOAP 1.1 Envelope = [Header] [Body] and
 * nothing else; *ret_header and *ret_body are NULL when absent. On refusal
 * *p says why, with XROAD_INVALID_SOAP. Return: 0, SOAP_E_REFUSED.
 */
int soap_split_envelope(xmlDoc *doc, xmlNode **ret_header, xmlNode **ret_body, Problem *p);

/*
 * soap_read_identifier(): an X-Road identifier element (xroad:client, service,
 * securityServer) of one of the object types in `types` ("SUBSYSTEM|MEMBER",
 * "SERVICE", "SERVER") into "a/b/c/..." (`out`, `out_size` bytes) and, for a
 * service, its serviceVersion (`version`, may be NULL). Return: 0, SOAP_E_REFUSED
 * (*p: Client.InvalidXml).
 */
int soap_read_identifier(xmlNode *n, const char *types, char *out, size_t out_size, char *version, size_t version_size,
                         Problem *p);

/* --- writing (soap-envelope.c) --- */

/* An envelope under construction: SOAP-ENV, xroad and id prefixes declared on the Envelope. */
typedef struct SoapEnvelope {
        xmlDocPtr doc;
        xmlNode *env, *header, *body;
        xmlNsPtr soap, xroad, id;
} SoapEnvelope;

/* soap_envelope_new(): an Envelope with a Body, and a Header when asked. Return: 0, -ENOMEM (call _done()). */
int soap_envelope_new(SoapEnvelope *e, bool with_header);
/* soap_envelope_done(): free the document. */
void soap_envelope_done(SoapEnvelope *e);
/* soap_envelope_dump(): the document as UTF-8 text (malloc'd, NUL-terminated). Return: 0, -ENOMEM. */
int soap_envelope_dump(SoapEnvelope *e, char **ret, size_t *ret_size);

/* soap_add_element(): an empty child of `parent` in `ns` (NULL: no namespace). Return: it, NULL on OOM. */
xmlNode *soap_add_element(xmlNode *parent, xmlNsPtr ns, const char *name);
/* soap_add_text(): a child with text content (escaped when written); NULL/"" values are left out. Return: 0, -ENOMEM. */
int soap_add_text(xmlNode *parent, xmlNsPtr ns, const char *name, const char *value);

/*
 * soap_add_identifier(): "a/b/c[/d[/e]]" as an X-Road identifier element
 * `name` (in the xroad namespace) of `parent`, of `object_type` (SUBSYSTEM,
 * SERVICE, SERVER; the part names follow the type and the count: a client of
 * three parts is a MEMBER, a service of four has no subsystem), with
 * id:serviceVersion `version` (NULL/"": none). Return: 0, -EINVAL, -ENOMEM.
 */
int soap_add_identifier(SoapEnvelope *e, xmlNode *parent, const char *name, const char *object_type, const char *value,
                        const char *version);

/*
 * soap_echo_header(): the X-Road fields of `req` into e->header, in the order
 * the request sent them, with xroad:requestHash right after xroad:id when
 * `with_hash`. Return: 0, -EINVAL (a field does not render), -ENOMEM.
 */
int soap_echo_header(SoapEnvelope *e, const SoapRequest *req, bool with_hash);

/*
 * soap_copy_standalone(): a copy of `node` for `doc`, with every namespace in
 * scope at `node` declared on it (QNames in content keep their meaning).
 * Return: the copy (not linked yet), NULL on OOM.
 */
xmlNode *soap_copy_standalone(xmlNode *node, xmlDoc *doc);
