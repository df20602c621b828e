/* soap-schemas.h: the XSDs of the services offered over SOAP, compiled once per registry load
 *
 * A service is offered over SOAP when its XSDs exist, by convention under
 * the schema root:
 *     soap/<subsystem code>/<service code>.request.xsd    (required)
 *     soap/<subsystem code>/<service code>.response.xsd   (optional)
 * e.g. schemas/soap/population/citizen.request.xsd for
 * VN/GOV/BCA/population/citizen. Each XSD is self-contained (no include or
 * import). The front door validates a request's Body payload with the
 * request XSD before routing (soap_request_validate()) and the provider's
 * payload with the response XSD before delivery (soap_response_build()).
 *
 * Ownership: the XsdSchema pointers returned live as long as the SoapSchemas.
 * Threads: immutable once loaded; share it with the registry snapshot it
 * was built from (build a new one on reload, like the registry).
 */
#pragma once

#include <stdbool.h>

#include "registry.h"
#include "validate/xsd.h"
#include "util/macro.h"

#define SOAP_SCHEMA_FILE_MAX MIB(1)

typedef struct SoapSchemas SoapSchemas;

/*
 * soap_schemas_load(): look up and compile the XSDs of every service of
 * `reg` under `root` (a folder; with `embedded`, the path prefix of the
 * files compiled into the library, e.g. "schemas"). A service without a
 * request XSD is simply not offered over SOAP; an XSD that exists but does
 * not compile refuses the whole set, with *ret_error (may be NULL; malloc'd)
 * naming the file. Return: 0, -EINVAL (an XSD is refused), -ENOMEM, -errno
 * of a file that exists but cannot be read.
 */
int soap_schemas_load(SoapSchemas **ret, const Registry *reg, const char *root, bool embedded, char **ret_error);

SoapSchemas *soap_schemas_free(SoapSchemas *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SoapSchemas *, soap_schemas_free);

/*
 * soap_schemas_lookup(): whether `service_id` is offered over SOAP, and its
 * request and response XSDs (either pointer may be NULL; *ret_response is
 * NULL when the service has no response XSD).
 */
bool soap_schemas_lookup(const SoapSchemas *s, const char *service_id, const XsdSchema **ret_request,
                         const XsdSchema **ret_response);

/* soap_schemas_count(): how many services are offered over SOAP. */
size_t soap_schemas_count(const SoapSchemas *s);
