/* adapter-meta.c: the meta frames of REQ and REP, as the adapter reads and writes them */
#include <errno.h>
#include <stdio.h>

#include "bus/proto.h"
#include "runtime/adapter-internal.h"
#include "util/macro.h"

static int meta_string(json_t *meta, const char *key, bool required, const char *dflt, const char **ret)
{
        json_t *v = json_object_get(meta, key);

        if (!v) {
                if (required)
                        return -EBADMSG;
                *ret = dflt;
                return 0;
        }
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
                return -EBADMSG;
        *ret = json_string_value(v);
        return 0;
}

/* The REQ's "headers" ([[name, value], ...]) into a new array of `req` (strings point into `meta`). */
static int meta_headers(json_t *meta, AdapterRequest *req, AdapterHeader **ret)
{
        json_t *h = json_object_get(meta, "headers"), *pair;
        AdapterHeader *a;
        size_t i;

        *ret = NULL;
        if (!h)
                return 0;
        if (!json_is_array(h) || json_array_size(h) > PROTO_MAX_META)
                return -EBADMSG;
        a = calloc(MAX(json_array_size(h), 1U), sizeof(*a));
        if (!a)
                return -ENOMEM;
        json_array_foreach(h, i, pair) {
                json_t *n = json_array_get(pair, 0), *v = json_array_get(pair, 1);
                if (json_array_size(pair) != 2 || !json_is_string(n) || !json_is_string(v) ||
                    strlen(json_string_value(n)) != json_string_length(n) ||
                    strlen(json_string_value(v)) != json_string_length(v)) {
                        free(a);
                        return -EBADMSG;
                }
                a[i] = (AdapterHeader){ json_string_value(n), json_string_value(v) };
        }
        req->headers = *ret = a;
        req->n_headers = json_array_size(h);
        req->has_headers = true;
        return 0;
}

static int meta_fields(json_t *meta, AdapterRequest *req)
{
        json_t *t;

        if (!json_is_object(meta))
                return -EBADMSG;
        if (meta_string(meta, "service", true, NULL, &req->service) < 0 ||
            meta_string(meta, "method", true, NULL, &req->method) < 0 ||
            meta_string(meta, "path", false, "/", &req->path) < 0 ||
            meta_string(meta, "raw_path", false, "", &req->raw_path) < 0 ||
            meta_string(meta, "query", false, "", &req->query) < 0 ||
            meta_string(meta, "client", false, "", &req->client) < 0 ||
            meta_string(meta, "subject", false, NULL, &req->subject) < 0 ||
            meta_string(meta, "purpose", false, NULL, &req->purpose) < 0 ||
            meta_string(meta, "user_id", false, "", &req->user_id) < 0 ||
            meta_string(meta, "issue", false, "", &req->issue) < 0 ||
            meta_string(meta, "xroad_id", false, "", &req->xroad_id) < 0 ||
            meta_string(meta, "request_id", false, "", &req->request_id) < 0 ||
            meta_string(meta, "represented_party", false, "", &req->represented_party) < 0 ||
            meta_string(meta, "content_type", false, "", &req->content_type) < 0 ||
            meta_string(meta, "soap_action", false, NULL, &req->soap_action) < 0)
                return -EBADMSG;
        if (isempty(req->service) || isempty(req->method) || isempty(req->path))
                return -EBADMSG;
        t = json_object_get(meta, "timeout_ms");
        if (t) {
                if (!json_is_integer(t) || json_integer_value(t) < 0)
                        return -EBADMSG;
                req->timeout_ms = (uint64_t)json_integer_value(t);
        }
        return 0;
}

int adapter_meta_request(json_t *meta, AdapterRequest *req, AdapterHeader **ret_headers)
{
        *ret_headers = NULL;
        if (meta_fields(meta, req) < 0)
                return -EBADMSG;
        return meta_headers(meta, req, ret_headers);
}

char *adapter_meta_reply(const AdapterResponse *resp)
{
        _cleanup_(json_decrefp) json_t *meta = NULL;

        meta = json_pack("{s:i,s:s}", "status", resp->status, "content_type", resp->content_type);
        if (meta && resp->error) {
                json_object_set_new(meta, "error", json_string(problem_name(resp->error)));
                if (resp->detail[0])
                        json_object_set_new(meta, "detail", json_string(resp->detail));
        }
        if (meta && resp->n_headers > 0 && !resp->error) {
                json_t *h = json_array();
                bool ok = h != NULL;
                for (size_t i = 0; ok && i < resp->n_headers; i++)
                        ok = json_array_append_new(h, json_pack("[s,s]", resp->headers[i].name,
                                                                resp->headers[i].value)) == 0;
                if (!ok || json_object_set_new(meta, "headers", h) < 0) {
                        if (!ok)
                                json_decref(h);
                        return NULL;
                }
        }
        return meta ? json_dumps(meta, JSON_COMPACT) : NULL;
}
