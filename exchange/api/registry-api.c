/* registry-api.c: GET /registry/snapshot: the signed registry snapshot a node uses, for other nodes and mirrors */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/registry-api.h"
#include "registry-snapshot.h"

int registry_api_handle(const EndpointRequest *req, EndpointResponse *resp)
{
        const RegistrySnapshot *s = registry_snapshot(req->registry);

        if (!streq(req->path, REGISTRY_API_SNAPSHOT))
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "the registry API has only %s", REGISTRY_API_SNAPSHOT);
        if (!streq(req->method, "GET") && !streq(req->method, "HEAD"))
                return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "%s takes GET", REGISTRY_API_SNAPSHOT);
        if (!s)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND,
                                        "this node's registry does not come from a signed snapshot");
        resp->body = malloc(s->size + 1);
        if (!resp->body)
                return -ENOMEM;
        memcpy(resp->body, s->compact, s->size + 1);
        resp->body_size = s->size;
        resp->status = 200;
        snprintf(resp->content_type, sizeof(resp->content_type), "application/jose");
        return 0;
}
