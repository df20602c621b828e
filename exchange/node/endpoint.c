/* endpoint.c: helpers for the node's non-exchange APIs */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "node/endpoint.h"
#include "util/macro.h"

int endpoint_problem(EndpointResponse *resp, ProblemType type, const char *fmt, ...)
{
        va_list ap;

        resp->problem = type;
        va_start(ap, fmt);
        vsnprintf(resp->detail, sizeof(resp->detail), fmt, ap);
        va_end(ap);
        return 0;
}

int endpoint_json(EndpointResponse *resp, int status, json_t *j)
{
        char *s;

        if (!j)
                return -ENOMEM;
        s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (!s)
                return -ENOMEM;
        resp->status = status;
        snprintf(resp->content_type, sizeof(resp->content_type), "application/json");
        resp->body = s;
        resp->body_size = strlen(s);
        return 0;
}

char *endpoint_query_param(const char *query, const char *name)
{
        struct evkeyvalq params = {};
        const char *v;
        char *r = NULL;

        if (!query || !*query)
                return NULL;
        TAILQ_INIT(&params);
        if (evhttp_parse_query_str(query, &params) < 0)
                return NULL;
        v = evhttp_find_header(&params, name);
        if (v)
                r = strdup(v);
        evhttp_clear_headers(&params);
        return r;
}

const char *endpoint_header(const EndpointRequest *req, const char *name)
{
        return req->headers ? evhttp_find_header(req->headers, name) : NULL;
}

int endpoint_header_add(EndpointResponse *resp, const char *name, const char *fmt, ...)
{
        EndpointHeader *h;
        va_list ap;
        int n;

        if (resp->n_headers >= ENDPOINT_HEADERS_MAX || strlen(name) >= ENDPOINT_HEADER_NAME_MAX)
                return -E2BIG;
        h = &resp->headers[resp->n_headers];
        va_start(ap, fmt);
        n = vsnprintf(h->value, sizeof(h->value), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(h->value))
                return -E2BIG;
        snprintf(h->name, sizeof(h->name), "%s", name);
        resp->n_headers++;
        return 0;
}
