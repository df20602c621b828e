/* soap-meta.h: the SOAP metaservices' answers (PR-META: listMethods, allowedMethods, getWsdl) and the generated WSDL
 *
 * X-Road's SOAP metaservices are calls to a provider subsystem with the
 * service code listMethods, allowedMethods or getWsdl in xroad:service. The
 * node answers them itself (the front door decides who asks and which
 * services to list: registry_service_list()); this module writes the
 * answers:
 *
 *   soap_meta_list_build()   <xroad:listMethodsResponse> / <xroad:allowedMethodsResponse>:
 *                            one <xroad:service id:objectType="SERVICE"> per service
 *   soap_meta_wsdl_read()    the service code (and version) a getWsdl asks about
 *   soap_meta_wsdl_build()   multipart/related: the SOAP answer (<xroad:getWsdlResponse>),
 *                            then the service's WSDL
 *   soap_wsdl_generate()     a WSDL 1.1 document for a service offered over SOAP
 *
 * Every answer echoes the request's X-Road header with xroad:requestHash, as
 * any answer does (soap.h).
 *
 * The WSDL is generated, never fetched: the registry names a SOAP service's
 * request and response XSDs, and the document holds them (in wsdl:types), one
 * operation named after the service code (the doc/literal wrapped
 * convention: input the request XSD's element of that name, output its
 * `Response` element), the X-Road header elements as soap:header parts, and
 * the address http://example.org/xroad-endpoint, which X-Road puts in place
 * of every provider address (PR-META §4). XSDs that include or import other
 * files are quoted as they are: their locations are not rewritten.
 *
 * Threads: pure functions; the registry service must stay referenced.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"
#include "soap/soap.h"

/* The SOAP metaservices (PR-META §3, §4). */
typedef enum SoapMeta {
        SOAP_META_NONE = 0,
        SOAP_META_LIST_METHODS,
        SOAP_META_ALLOWED_METHODS,
        SOAP_META_GET_WSDL,
} SoapMeta;

/* soap_meta_from_code(): which metaservice `code` ("listMethods", ...) is, or SOAP_META_NONE. */
SoapMeta soap_meta_from_code(const char *code);

/*
 * soap_meta_list_build(): the answer to a listMethods (`allowed` false) or
 * allowedMethods request `req`: the `n` services given (their ids and no
 * version). Return: 0 with *ret (malloc'd text/xml), -ENOMEM.
 */
int soap_meta_list_build(const SoapRequest *req, bool allowed, const RegistryService *const *services, size_t n,
                         char **ret, size_t *ret_size);

/*
 * soap_meta_wsdl_read(): the xroad:serviceCode (and optional xroad:serviceVersion, "" when absent)
 * of a getWsdl request's body. On SOAP_E_REFUSED *p is bad_request with XROAD_INVALID_REQUEST.
 * Return: 0, SOAP_E_REFUSED.
 */
int soap_meta_wsdl_read(const SoapRequest *req, char code[65], char version[65], Problem *p);

/*
 * soap_meta_wsdl_build(): the multipart/related answer to the getWsdl
 * request `req` about `svc` (`code`, `version` as read): part 1 the SOAP
 * answer, part 2 the WSDL (text/xml, Content-ID <wsdl=UUID@x-road.eu>).
 * *ret_content_type (malloc'd) is the whole answer's media type with its
 * boundary. Return: 0 with *ret (malloc'd), -EINVAL (the service's WSDL
 * cannot be generated), -ENOMEM.
 */
int soap_meta_wsdl_build(const SoapRequest *req, const RegistryService *svc, const char *code, const char *version,
                         char **ret, size_t *ret_size, char **ret_content_type);

/*
 * soap_wsdl_generate(): the WSDL 1.1 document of `svc` (a service with a
 * compiled request XSD, whose schema declares a target namespace). Return:
 * 0 with *ret (malloc'd, NUL-terminated), -EINVAL (no request XSD, or one
 * without target namespace or global element), -ENOMEM.
 */
int soap_wsdl_generate(const RegistryService *svc, char **ret, size_t *ret_size);
