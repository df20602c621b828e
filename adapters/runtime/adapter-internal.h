/* adapter-internal.h: what the pieces of the adapter runtime share: the REQ and REP meta frames (adapter-meta.c) */
#pragma once

#include <jansson.h>

#include "runtime/adapter.h"
#include "util/jsontext.h"

/* What the strings of a REQ's AdapterRequest point into (adapter_meta_request()). */
typedef struct AdapterMeta {
        JsonTextFlat flat;      /* read without a tree (util/jsontext.h) */
        json_t *tree;           /* or by jansson, when the flat reader declined the text */
        AdapterHeader *headers; /* the request's headers, or NULL */
} AdapterMeta;

/*
 * adapter_meta_request(): the `size` bytes of a REQ's meta into `req`: its
 * strings and headers point into *ret_meta (free with adapter_meta_done()
 * after the request, whatever the result). Read without a jansson tree
 * when the text has the usual shape, else by jansson, with the same result.
 * Return: 0, -EBADMSG (not JSON, a required field missing, a field of the
 * wrong type, a string holding a NUL), -ENOMEM.
 */
int adapter_meta_request(const void *data, size_t size, AdapterRequest *req, AdapterMeta *ret_meta);
void adapter_meta_done(AdapterMeta *m);
/* adapter_meta_request_tree(): adapter_meta_request() read by jansson whatever the text: what
 * adapter_meta_request() must give for every input (test-adapter.c compares them). */
int adapter_meta_request_tree(const void *data, size_t size, AdapterRequest *req, AdapterMeta *ret_meta);

/*
 * adapter_meta_reply(): the REP meta of `resp`: status, content type, the
 * error and its detail, or the provider's headers, written directly as
 * json_dumps() wrote them. Return: malloc'd compact JSON, or NULL (out of
 * memory, or a string that is not UTF-8).
 */
char *adapter_meta_reply(const AdapterResponse *resp);
