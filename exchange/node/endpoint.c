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
