/* proto.c: what adapters send (READY, REP meta) and ZAP requests, parsed as the bus reads them */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bus/proto.h"
#include "util/jsontext.h"
#include "util/macro.h"
#include "util/strv.h"

static int strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void proto_ready_done(ProtoReady *r)
{
        strv_free_n(r->services, r->n_services);
        *r = (ProtoReady){};
}

int proto_ready_parse(const void *data, size_t size, ProtoReady *ret)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        ProtoReady r = {};
        json_t *svcs, *v;
        size_t i;

        if (size > PROTO_MAX_READY || !(j = json_loadb(data, size, JSON_REJECT_DUPLICATES, NULL)))
                return -EBADMSG;
        svcs = json_object_get(j, "services");
        if (!json_is_array(svcs) || json_array_size(svcs) == 0 || json_array_size(svcs) > PROTO_MAX_SERVICES)
                return -EBADMSG;
        r.services = calloc(json_array_size(svcs), sizeof(char *));
        if (!r.services)
                return -ENOMEM;
        json_array_foreach(svcs, i, v) {
                if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 255)
                        continue;
                r.services[r.n_services] = strdup(json_string_value(v));
                if (!r.services[r.n_services]) {
                        proto_ready_done(&r);
                        return -ENOMEM;
                }
                r.n_services++;
        }
        if (r.n_services == 0) {
                proto_ready_done(&r);
                return -EBADMSG; /* nothing it offers is a service name: not a READY the broker can use */
        }
        qsort(r.services, r.n_services, sizeof(char *), strcmp_ptr);
        snprintf(r.kind, sizeof(r.kind), "%s", strempty(json_string_value(json_object_get(j, "adapter"))));
        snprintf(r.name, sizeof(r.name), "%s", strempty(json_string_value(json_object_get(j, "name"))));
        v = json_object_get(j, "capacity");
        r.capacity = json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= PROTO_MAX_CAPACITY
                             ? (unsigned)json_integer_value(v)
                             : PROTO_DEFAULT_CAPACITY;
        *ret = r;
        return 0;
}

/* The error types an adapter may report for the provider's side (above); PROBLEM_NONE for any other. */
static ProblemType bus_error_type(const char *s)
{
        ProblemType t;

        if (!s || problem_from_name(s, &t) < 0)
                return PROBLEM_NONE;
        switch (t) {
        case PROBLEM_PROVIDER_UNAVAILABLE:
        case PROBLEM_PROVIDER_TIMEOUT:
        case PROBLEM_PROVIDER_ERROR:
        case PROBLEM_RESPONSE_INVALID:
                return t;
        default:
                return PROBLEM_NONE;
        }
}

bool proto_header_name_valid(const char *s)
{
        static const char tchar[] = "!#$%&'*+-.^_`|~";
        size_t n = 0;

        for (; s && s[n]; n++)
                if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') ||
                      strchr(tchar, s[n])))
                        return false;
        return n > 0 && n <= 256;
}

bool proto_header_value_valid(const char *s)
{
        size_t n = 0;

        for (; s && s[n]; n++)
                if (((unsigned char)s[n] < 0x20 && s[n] != '\t') || s[n] == 0x7f)
                        return false;
        return s && n <= PROTO_MAX_HEADER_VALUE;
}

/* The well-formed [name, value] pairs of `in` (a REP's "headers"), or NULL when there are none. */
static json_t *headers_keep(const json_t *in)
{
        json_t *out, *pair;
        size_t i;

        if (!json_is_array(in) || json_array_size(in) == 0 || !(out = json_array()))
                return NULL;
        json_array_foreach(in, i, pair) {
                const char *n = json_string_value(json_array_get(pair, 0)),
                           *v = json_string_value(json_array_get(pair, 1));

                if (json_array_size(out) >= PROTO_MAX_HEADERS)
                        break;
                if (json_array_size(pair) != 2 || !proto_header_name_valid(n) || !proto_header_value_valid(v) ||
                    strlen(v) != json_string_length(json_array_get(pair, 1)))
                        continue;
                if (json_array_append(out, pair) < 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}

void proto_reply_done(ProtoReply *r)
{
        json_decref(r->headers);
        r->headers = NULL;
}

void proto_reply_parse_tree(const void *data, size_t size, ProtoReply *ret)
{
        _cleanup_(json_decrefp) json_t *meta = NULL;
        json_t *v;

        *ret = (ProtoReply){ .error = PROBLEM_PROVIDER_ERROR };
        if (size > PROTO_MAX_META || !(meta = json_loadb(data, size, 0, NULL))) {
                snprintf(ret->detail, sizeof(ret->detail), "the adapter sent a malformed answer");
                return;
        }
        ret->error = bus_error_type(json_string_value(json_object_get(meta, "error")));
        if (ret->error != PROBLEM_NONE) {
                /* A failure on the provider's side of the adapter (backend down, too slow...),
                 * in the bus's own vocabulary. Any other "error" is the provider's own answer
                 * (e.g. 404 not_found) and passes through with its status and body. */
                v = json_object_get(meta, "detail");
                snprintf(ret->detail, sizeof(ret->detail), "%.200s",
                         json_is_string(v) ? json_string_value(v) : "the provider reported a failure");
                return;
        }
        v = json_object_get(meta, "status");
        ret->status = json_is_integer(v) ? (int)json_integer_value(v) : 0;
        if (ret->status < 200 || ret->status > 599 || json_integer_value(v) != ret->status) {
                ret->error = PROBLEM_PROVIDER_ERROR;
                snprintf(ret->detail, sizeof(ret->detail), "the adapter sent an answer without a valid status");
                return;
        }
        v = json_object_get(meta, "content_type");
        if (!json_is_string(v) || !proto_header_value_valid(json_string_value(v)))
                v = NULL;
        snprintf(ret->content_type, sizeof(ret->content_type), "%s", v ? json_string_value(v) : "application/json");
        ret->headers = headers_keep(json_object_get(meta, "headers"));
}

/* The member `key` of `f` if it is of `type`; *ok false when it is there with another type. */
static const JsonTextMember *flat_member(const JsonTextFlat *f, const char *key, JsonTextType type, bool *ok)
{
        const JsonTextMember *m = jsontext_flat_get(f, key);

        if (m && m->type != type)
                *ok = false;
        return m && m->type == type ? m : NULL;
}

/* The usual REP meta without a tree (util/jsontext.h), exactly as proto_reply_parse_tree() reads it.
 * Return: 0, or -EBADMSG (another shape: read it with the tree). */
static int reply_parse_flat(const void *data, size_t size, ProtoReply *ret)
{
        _cleanup_(jsontext_flat_done) JsonTextFlat f = {};
        const JsonTextMember *error, *detail, *status, *type, *headers;
        bool ok = true;

        if (jsontext_flat_parse(data, size, &f) < 0)
                return -EBADMSG;
        error = flat_member(&f, "error", JSONTEXT_STRING, &ok);
        detail = flat_member(&f, "detail", JSONTEXT_STRING, &ok);
        status = flat_member(&f, "status", JSONTEXT_INTEGER, &ok);
        type = flat_member(&f, "content_type", JSONTEXT_STRING, &ok);
        headers = flat_member(&f, "headers", JSONTEXT_PAIRS, &ok);
        if (!ok)
                return -EBADMSG;
        ret->error = bus_error_type(error ? error->string : NULL);
        if (ret->error != PROBLEM_NONE) {
                snprintf(ret->detail, sizeof(ret->detail), "%.200s",
                         detail ? detail->string : "the provider reported a failure");
                return 0;
        }
        ret->status = status ? (int)status->integer : 0; /* wrapped as the tree path wraps it */
        if (ret->status < 200 || ret->status > 599 || !status || status->integer != ret->status) {
                ret->error = PROBLEM_PROVIDER_ERROR;
                snprintf(ret->detail, sizeof(ret->detail), "the adapter sent an answer without a valid status");
                return 0;
        }
        snprintf(ret->content_type, sizeof(ret->content_type), "%s",
                 type && proto_header_value_valid(type->string) ? type->string : "application/json");
        if (headers && headers->n_pairs > 0) {
                const char *n = headers->string;
                ret->headers = json_array();
                for (size_t i = 0; ret->headers && i < headers->n_pairs; i++) {
                        const char *v = jsontext_pair_next(n), *next = jsontext_pair_next(v);
                        if (json_array_size(ret->headers) >= PROTO_MAX_HEADERS)
                                break;
                        if (proto_header_name_valid(n) && proto_header_value_valid(v) &&
                            json_array_append_new(ret->headers, json_pack("[s,s]", n, v)) < 0) {
                                json_decref(ret->headers); /* as headers_keep(): none rather than some */
                                ret->headers = NULL;
                        }
                        n = next;
                }
        }
        return 0;
}

void proto_reply_parse(const void *data, size_t size, ProtoReply *ret)
{
        *ret = (ProtoReply){ .error = PROBLEM_PROVIDER_ERROR };
        if (size <= PROTO_MAX_META && reply_parse_flat(data, size, ret) == 0)
                return;
        proto_reply_parse_tree(data, size, ret);
}

static bool frame_is(const ProtoFrame *f, const char *s)
{
        return f->size == strlen(s) && memcmp(f->data, s, f->size) == 0;
}

int proto_zap_parse(const ProtoFrame *frames, size_t n, char ret_key[KEYFILE_CURVE_LEN + 1])
{
        /* version, request id, domain, address, routing id, mechanism, and CURVE's one credential: the key */
        if (n != 7 || !frame_is(&frames[0], "1.0") || !frame_is(&frames[5], "CURVE") || frames[6].size != 32)
                return -EBADMSG;
        return zmq_z85_encode(ret_key, frames[6].data, 32) ? 0 : -EBADMSG;
}
