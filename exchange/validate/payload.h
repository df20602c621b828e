/* payload.h: a JSON payload (a request or a provider's answer) checked against a service's schema */
#pragma once

#include <stddef.h>

#include <jansson.h>

#include "validate/jsonschema.h"

/*
 * payload_validate(): parse `data` (`size` bytes) as JSON (duplicate keys
 * refused, any value at the top) and check it against `schema` (NULL: parse
 * only). With `ret_doc` (may be NULL) a valid document is handed to the
 * caller (a new reference). An invalid one gives *ret_errors: a JSON array of
 * {"instance","keyword","message"} for the client (a new reference); an empty
 * payload and text that is not JSON are errors too.
 * Return: 0 valid, 1 invalid, -ENOMEM.
 */
int payload_validate(const JsonSchema *schema, const void *data, size_t size, json_t **ret_errors, json_t **ret_doc);

/*
 * payload_validate_text(): a request parameter's value (decoded text, from a path segment or the
 * query) against `schema`. Parameters carry text, so the value is valid when the text is valid as
 * a JSON string, or, when it is written as a JSON number, true, false or null, as that value: a
 * schema {"type": "integer", "minimum": 1} accepts "42". An invalid value gives *ret_errors as
 * payload_validate() does (of the reading as a number, true, false or null when there is one).
 * Return: 0 valid, 1 invalid, -ENOMEM.
 */
int payload_validate_text(const JsonSchema *schema, const char *text, json_t **ret_errors);
