/* xsd.h: XML Schema (XSD 1.0) validation of XML payloads with libxml2, compiled once */
#pragma once

/*
 * An XSD is compiled once, when the registry loads (xsd_schema_new()); XML
 * payloads are then checked against it with xsd_validate() (raw bytes) or
 * xsd_validate_element() (an element of a document the caller parsed, e.g.
 * the first child of a SOAP Body).
 *
 * Payload parsing is defensive: no network access, no external entities
 * or DTD loading, no entity substitution, and any document type
 * declaration is refused (SOAP forbids them, and they are the door to
 * entity expansion attacks). Nesting depth is libxml2's default limit (256
 * levels) and the size is bounded by XsdLimits.
 *
 * Schemas may xs:include/xs:import other schema files by relative or file:
 * location only (resolved against `base_path`); network locations are
 * refused.
 *
 * Caveats: a compiled XsdSchema is immutable and can be shared by threads;
 * each xsd_validate*() call makes its own libxml2 validation context.
 * Call xmlInitParser() (or any xsd_* function) from the main thread before
 * starting threads, as libxml2 requires.
 */

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "util/macro.h"

/* Positive results of xsd_validate*(). */
#define XSD_E_INVALID 1   /* well-formed, but not valid against the schema */
#define XSD_E_MALFORMED 2 /* not well-formed XML, or it has a DTD */

typedef struct XsdSchema XsdSchema;

typedef struct XsdLimits {
        size_t max_document_size; /* bytes of a payload (0: 16 MiB) */
} XsdLimits;

#define XSD_DEFAULT_MAX_DOCUMENT_SIZE MIB(16)

typedef struct XsdError {
        int line;      /* line in the payload, 0 when unknown */
        char *message; /* libxml2's message, one line */
} XsdError;

/* A bounded error list. Initialise with xsd_errors_init(). */
typedef struct XsdErrors {
        XsdError *items;
        size_t n;
        size_t max;
        bool truncated;
} XsdErrors;

#define XSD_DEFAULT_MAX_ERRORS 16
#define XSD_CAP_MAX_ERRORS 1000

/* xsd_errors_init(): empty list keeping at most `max` errors (0: default; capped). */
void xsd_errors_init(XsdErrors *errs, size_t max);
/* xsd_errors_clear(): free all entries; the list can be reused. */
void xsd_errors_clear(XsdErrors *errs);

/*
 * xsd_schema_new(): compile the XSD in `data` (`size` bytes). `base_path`
 * (may be NULL) is the schema's file name, against which include/import
 * locations are resolved; it must be a local path. `limits` may be NULL.
 * On failure *ret_error (when not NULL) gets a malloc()ed message.
 * Return: 0; -EINVAL when the XSD is malformed or invalid, -EPERM when it
 * refers to a network location, -E2BIG when it is too large, -ENOMEM.
 */
int xsd_schema_new(XsdSchema **ret, const char *data, size_t size, const char *base_path, const XsdLimits *limits,
                   char **ret_error);

/*
 * xsd_schema_source(): the bytes `s` was compiled from, NUL-terminated (a
 * document describing the service, a WSDL, quotes them). Owned by `s`.
 */
const char *xsd_schema_source(const XsdSchema *s, size_t *ret_size);

/* xsd_schema_free(): NULL in, NULL out. */
XsdSchema *xsd_schema_free(XsdSchema *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(XsdSchema *, xsd_schema_free);

/*
 * xsd_validate(): parse `xml` (`size` bytes) defensively and validate the
 * document against `s`. `errs` may be NULL. Thread-safe.
 * Return: 0 valid, XSD_E_INVALID, XSD_E_MALFORMED; -E2BIG when the payload
 * is above the size limit, -ENOMEM.
 */
int xsd_validate(const XsdSchema *s, const char *xml, size_t size, XsdErrors *errs);

/*
 * xsd_validate_element(): validate the subtree at `element` (of a document
 * the caller owns and parsed) against `s`. The document is not modified.
 * Return: 0 valid, XSD_E_INVALID, -EINVAL when `element` is not an
 * element, -ENOMEM.
 */
int xsd_validate_element(const XsdSchema *s, xmlNode *element, XsdErrors *errs);
