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
