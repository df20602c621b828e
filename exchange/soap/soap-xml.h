/* soap-xml.h: the base of exchange/soap: the hardened XML parser, namespaces, limits, tree helpers
 *
 * Hardening (every XML parse of the bus goes through soap_xml_parse()): a
 * document type declaration stops the parse (so no entity is ever declared,
 * substituted or loaded), as do entity references and processing
 * instructions; no network, no XInclude, never XML_PARSE_HUGE; the size is
 * checked before parsing, and depth, node count and the length of any text,
 * attribute value or comment while parsing (SAX hooks stop the parser at the
 * first excess).
 *
 * Layering inside exchange/soap: soap-xml (this) <- soap-dsig (signatures)
 * <- soap (envelopes, the X-Road header profile, faults); soap-schemas
 * compiles XSDs. Nothing here knows about SOAP requests.
 *
 * Caveats: call soap_global_init() once from the main thread before any other
 * soap_* function and before threads start. Afterwards every function here is
 * thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "policy/problem.h"
#include "util/macro.h"

#define SOAP_NS_ENV "http://schemas.xmlsoap.org/soap/envelope/"
#define SOAP_NS_ENV12 "http://www.w3.org/2003/05/soap-envelope"
#define SOAP_NS_XROAD "http://x-road.eu/xsd/xroad.xsd"
#define SOAP_NS_ID "http://x-road.eu/xsd/identifiers"
#define SOAP_NS_REPR "http://x-road.eu/xsd/representation.xsd" /* PR-THIRDPARTY */
#define SOAP_NS_XBUS "https://schemas.xbus.gov.vn/soap/header"
#define SOAP_NS_WSU "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#define SOAP_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"

#define SOAP_PROTOCOL_VERSION "4.0" /* what the bus writes; it accepts any 4.x (PR-MESS §2.2) */
#define SOAP_CONTENT_TYPE "text/xml; charset=utf-8"
/* X-Road (PR-MESS §2.5, its proxies): a Fault travels with HTTP 200, whatever its code. */
#define SOAP_FAULT_HTTP_STATUS 200

/* The one positive result: refused; the Problem says which type (policy/problem.h) and why. */
#define SOAP_E_REFUSED 1

typedef struct SoapLimits {
        size_t max_size;    /* bytes of a message (0: SOAP_DEFAULT_MAX_SIZE) */
        unsigned max_depth; /* element nesting (0: default; capped at SOAP_CAP_MAX_DEPTH) */
        size_t max_nodes;   /* elements + attributes + namespace declarations + text runs + comments */
        size_t max_text;    /* bytes of one text run, attribute value or comment */
} SoapLimits;

#define SOAP_DEFAULT_MAX_SIZE MIB(1)
#define SOAP_DEFAULT_MAX_DEPTH 32U
#define SOAP_CAP_MAX_DEPTH 200U /* below libxml2's own 256 */
#define SOAP_DEFAULT_MAX_NODES 20000U
#define SOAP_DEFAULT_MAX_TEXT KIB(64)

/*
 * soap_global_init(): initialise libxml2 and xmlsec (OpenSSL back end) once
 * per process: xmlsec's own default parser options (1.2.37 sets
 * XML_PARSE_HUGE and entity substitution) are replaced by NONET only, its
 * URI input callbacks (file, http, ftp) are removed so that no signature can
 * make it read anything, its error output is silenced, and libxml2's
 * external entity loader refuses the network process-wide. Idempotent.
 * Return: 0, or -EIO when xmlsec cannot be initialised.
 */
int soap_global_init(void);

/* soap_limits_resolve(): `l` (may be NULL) with zeros replaced by the defaults and caps applied. */
SoapLimits soap_limits_resolve(const SoapLimits *l);

/*
 * soap_xml_parse(): parse `data` (`size` bytes) with the hardening above.
 * On refusal *ret_problem (may be NULL) is payload_too_large (size) or
 * bad_request, with one line for the client.
 * Return: 0 with *ret (the caller frees it with xmlFreeDoc), SOAP_E_REFUSED, -ENOMEM.
 */
int soap_xml_parse(const char *data, size_t size, const SoapLimits *l, xmlDoc **ret, Problem *ret_problem);

/* soap_refuse(): set *p (when not NULL) to `type` and the formatted detail. Return: SOAP_E_REFUSED. */
int soap_refuse(Problem *p, ProblemType type, const char *fmt, ...) _printf_(3, 4);
/* soap_refuse_code(): soap_refuse() with the more precise X-Road code `code` (policy/problem.h). */
int soap_refuse_code(Problem *p, ProblemType type, ProblemXroad code, const char *fmt, ...) _printf_(4, 5);

/* soap_node_is(): `n` is an element named `name` in namespace `ns`. */
bool soap_node_is(const xmlNode *n, const char *ns, const char *name);
/* soap_first_element(), soap_next_element(): element children / siblings, skipping other nodes (NULL: none). */
xmlNode *soap_first_element(xmlNode *n);
xmlNode *soap_next_element(xmlNode *n);
