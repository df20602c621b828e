/* adapter-internal.h: what the pieces of the adapter runtime share: the REQ and REP meta frames (adapter-meta.c) */
#pragma once

#include <jansson.h>

#include "runtime/adapter.h"

/*
 * adapter_meta_request(): a REQ's meta into `req`: its strings point into
 * `meta`, and its headers into a new array in *ret_headers (free() it after
 * the request; NULL when the bus sent none). Return: 0, -EBADMSG (a
 * required field missing, a field of the wrong type, a string holding a
 * NUL), -ENOMEM.
 */
int adapter_meta_request(json_t *meta, AdapterRequest *req, AdapterHeader **ret_headers);

/*
 * adapter_meta_reply(): the REP meta of `resp`: status, content type, the
 * error and its detail, or the provider's headers. Return: malloc'd compact
 * JSON, or NULL (out of memory).
 */
char *adapter_meta_reply(const AdapterResponse *resp);
