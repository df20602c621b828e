/* adapter-meta.c: the meta frames of REQ and REP, as the adapter reads and writes them */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "bus/proto.h"
#include "runtime/adapter-internal.h"
#include "util/jsontext.h"
#include "util/macro.h"

/* The REQ's string fields (proto.h), where they go in an AdapterRequest, and what an absent one means. */
static const struct {
        const char *key;
        size_t offset;
        bool required;
        const char *dflt;
} string_fields[] = {
        { "service", offsetof(AdapterRequest, service), true, NULL },
        { "method", offsetof(AdapterRequest, method), true, NULL },
        { "path", offsetof(AdapterRequest, path), false, "/" },
        { "raw_path", offsetof(AdapterRequest, raw_path), false, "" },
        { "query", offsetof(AdapterRequest, query), false, "" },
        { "client", offsetof(AdapterRequest, client), false, "" },
        { "subject", offsetof(AdapterRequest, subject), false, NULL },
        { "purpose", offsetof(AdapterRequest, purpose), false, NULL },
        { "user_id", offsetof(AdapterRequest, user_id), false, "" },
        { "issue", offsetof(AdapterRequest, issue), false, "" },
        { "xroad_id", offsetof(AdapterRequest, xroad_id), false, "" },
        { "request_id", offsetof(AdapterRequest, request_id), false, "" },
        { "represented_party", offsetof(AdapterRequest, represented_party), false, "" },
        { "content_type", offsetof(AdapterRequest, content_type), false, "" },
        { "soap_action", offsetof(AdapterRequest, soap_action), false, NULL },
};

#define FIELD(req, i) (*(const char **)((char *)(req) + string_fields[i].offset))

/* ---- read by jansson: the answer to every REQ the flat reader declines ---------------------------- */

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
        for (size_t i = 0; i < ELEMENTSOF(string_fields); i++)
                if (meta_string(meta, string_fields[i].key, string_fields[i].required, string_fields[i].dflt,
                                &FIELD(req, i)) < 0)
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

int adapter_meta_request_tree(const void *data, size_t size, AdapterRequest *req, AdapterMeta *m)
{
        *m = (AdapterMeta){};
        m->tree = json_loadb(data, size, JSON_REJECT_DUPLICATES, NULL);
        if (!m->tree || meta_fields(m->tree, req) < 0)
                return -EBADMSG;
        return meta_headers(m->tree, req, &m->headers);
}

/* ---- read without a tree (util/jsontext.h): the usual REQ --------------------------------------- */

/* `req` from the flat REQ `f`, exactly as adapter_meta_request_tree() would fill it; -EBADMSG for anything it would
 * not accept as it is (it then decides). */
static int meta_read_flat(const JsonTextFlat *f, AdapterRequest *req, AdapterMeta *m)
{
        const JsonTextMember *v;

        for (size_t i = 0; i < ELEMENTSOF(string_fields); i++) {
                v = jsontext_flat_get(f, string_fields[i].key);
                if (v && v->type != JSONTEXT_STRING)
                        return -EBADMSG;
                if (!v && string_fields[i].required)
                        return -EBADMSG;
                FIELD(req, i) = v ? v->string : string_fields[i].dflt;
        }
        if (isempty(req->service) || isempty(req->method) || isempty(req->path))
                return -EBADMSG;
        v = jsontext_flat_get(f, "timeout_ms");
        if (v && (v->type != JSONTEXT_INTEGER || v->integer < 0))
                return -EBADMSG;
        req->timeout_ms = v ? (uint64_t)v->integer : 0;
        v = jsontext_flat_get(f, "headers");
        if (!v)
                return 0;
        if (v->type != JSONTEXT_PAIRS)
                return -EBADMSG;
        m->headers = calloc(MAX(v->n_pairs, 1U), sizeof(AdapterHeader));
        if (!m->headers)
                return -ENOMEM;
        for (size_t i = 0; i < v->n_pairs; i++) {
                const char *name = i == 0 ? v->string : jsontext_pair_next(m->headers[i - 1].value);
                m->headers[i] = (AdapterHeader){ name, jsontext_pair_next(name) };
        }
        req->headers = m->headers;
        req->n_headers = v->n_pairs;
        req->has_headers = true;
        return 0;
}

int adapter_meta_request(const void *data, size_t size, AdapterRequest *req, AdapterMeta *ret_meta)
{
        int r;

        *ret_meta = (AdapterMeta){};
        r = jsontext_flat_parse(data, size, &ret_meta->flat);
        if (r == -ENOMEM)
                return r;
        if (r == 0) {
                r = meta_read_flat(&ret_meta->flat, req, ret_meta);
                if (r != -EBADMSG)
                        return r;
                adapter_meta_done(ret_meta);
                *req = (AdapterRequest){};
        }
        return adapter_meta_request_tree(data, size, req, ret_meta);
}

void adapter_meta_done(AdapterMeta *m)
{
        json_decref(m->tree);
        jsontext_flat_done(&m->flat);
        free(m->headers);
        *m = (AdapterMeta){};
}

char *adapter_meta_reply(const AdapterResponse *resp)
{
        JsonText t = JSONTEXT_INIT;

        /* as json_dumps() wrote the tree of before: status, content_type, error and detail, or headers */
        jsontext_raw(&t, "{", 1);
        jsontext_key(&t, "status");
        jsontext_integer(&t, resp->status);
        jsontext_key(&t, "content_type");
        jsontext_string(&t, resp->content_type);
        if (resp->error) {
                jsontext_key(&t, "error");
                jsontext_string(&t, problem_name(resp->error));
                if (resp->detail[0]) {
                        jsontext_key(&t, "detail");
                        jsontext_string(&t, resp->detail);
                }
        }
        if (resp->n_headers > 0 && !resp->error) {
                jsontext_key(&t, "headers");
                jsontext_raw(&t, "[", 1);
                for (size_t i = 0; i < resp->n_headers; i++) {
                        jsontext_raw(&t, i > 0 ? ",[" : "[", i > 0 ? 2 : 1);
                        jsontext_string(&t, resp->headers[i].name);
                        jsontext_string(&t, resp->headers[i].value);
                        jsontext_raw(&t, "]", 1);
                }
                jsontext_raw(&t, "]", 1);
        }
        jsontext_raw(&t, "}", 1);
        return jsontext_finish(&t, NULL);
}
