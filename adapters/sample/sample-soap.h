/* sample-soap.h: SOAP renderings of two sample services (population/citizen, tax/tax-status)
 *
 * The same answers as sample-service.c, as XML payloads valid against
 * schemas/soap/<subsystem>/<service>.response.xsd: one element per JSON
 * member with the same name, in the service's namespace; nested objects
 * nest, null members are left out. xbus-sample-backend serves them on
 * POST /soap (the soap adapter's test and demo backend).
 *
 * The doc/literal wrapped convention of X-Road (PR-MESS §2.3, §3.2): the
 * request's Body element is named after the service code, the answer's is
 * that name and "Response": <pop:citizen/> and <pop:citizenResponse>,
 * <tax:tax-status/> and <tax:tax-statusResponse>.
 *
 *   request   SOAP 1.1 envelope, X-Road 4.x header, the subject in
 *             xbus:subject, Body <pop:citizen/> or <tax:tax-status/>
 *   answer    200 and the envelope with the rendering in its Body, or this
 *             provider's own SOAP Fault (HTTP 500): faultcode
 *             "Client.TYPE" or "Server.TYPE" with the sample's error
 *             (bad_request, not_found, service_unknown, payload_too_large),
 *             faultstring the detail (sample_soap_fault())
 */
#pragma once

#include <stddef.h>

#include "policy/problem.h"
#include "sample/dataset.h"

#define SAMPLE_SOAP_NS_CITIZEN "https://schemas.xbus.gov.vn/soap/population/citizen"
#define SAMPLE_SOAP_NS_TAX_STATUS "https://schemas.xbus.gov.vn/soap/tax/tax-status"
#define SAMPLE_SOAP_MAX_REQUEST (64 * 1024)

/*
 * sample_soap_render(): the XML payload for `service`'s JSON answer `json`
 * (`size` bytes, an object). Return: 0 with *ret (malloc'd, NUL-terminated),
 * -ENOENT (no rendering for the service), -EINVAL (not a JSON object), -ENOMEM.
 */
int sample_soap_render(const char *service, const char *json, size_t size, char **ret, size_t *ret_size);

/*
 * sample_soap_fault(): this provider's own Fault for the sample's error `type`
 * (X-Road's form, soap_fault_build(), with the code above). Return: 0 with
 * *ret (malloc'd), -ENOMEM.
 */
int sample_soap_fault(ProblemType type, const char *detail, char **ret, size_t *ret_size);

/*
 * sample_soap_answer(): answer the SOAP request `data` from the dataset
 * behind `r`. Every outcome the requester caused is an answer (a Fault).
 * Return: 0 with *ret (malloc'd envelope) and *ret_status (200 or 500), or
 * -ENOMEM / -EIO when the dataset cannot be read.
 */
int sample_soap_answer(DatasetReader *r, const char *data, size_t size, char **ret, size_t *ret_size, int *ret_status);
