/* sample-soap.h: SOAP renderings of two sample services (population/citizen, tax/tax-status)
 *
 * The same answers as sample-service.c, as XML payloads valid against
 * schemas/soap/<subsystem>/<service>.response.xsd: one element per JSON
 * member with the same name, in the service's namespace; nested objects
 * nest, null members are left out. xbus-sample-backend serves them on
 * POST /soap (the soap adapter's test and demo backend).
 *
 *   request   SOAP 1.1 envelope, X-Road 4.0 header, the subject in
 *             xbus:subject, Body <pop:getCitizen/> or <tax:getTaxStatus/>
 *   answer    200 and the envelope with the rendering in its Body, or a
 *             SOAP Fault (HTTP 500) with the stable type: bad_request,
 *             not_found, service_unknown, payload_too_large
 */
#pragma once

#include <stddef.h>

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
 * sample_soap_answer(): answer the SOAP request `data` from the dataset
 * behind `r`. Every outcome the requester caused is an answer (a Fault).
 * Return: 0 with *ret (malloc'd envelope) and *ret_status (200 or 500), or
 * -ENOMEM / -EIO when the dataset cannot be read.
 */
int sample_soap_answer(DatasetReader *r, const char *data, size_t size, char **ret, size_t *ret_size, int *ret_status);
