/* registry-api.c: GET /registry/snapshot: the signed registry snapshot a node uses, for other nodes and mirrors */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/registry-api.h"
#include "registry-snapshot.h"

/* Whether the If-None-Match list `inm` names `etag` (weak comparison, RFC 9110 13.1.2), or is "*". */
static bool etag_listed(const char *inm, const char *etag)
{
        size_t n = strlen(etag);

        for (const char *p = inm; *p;) {
                size_t len;

                p += strspn(p, " \t,");
                if (strncmp(p, "W/", 2) == 0)
                        p += 2;
                len = strcspn(p, " \t,");
                if ((len == 1 && *p == '*') || (len == n && strncmp(p, etag, n) == 0))
                        return true;
                p += len;
        }
        return false;
}

int registry_api_handle(const EndpointRequest *req, EndpointResponse *resp)
{
        const RegistrySnapshot *s = registry_snapshot(req->registry);
        const char *inm = endpoint_header(req, "If-None-Match");
        char etag[64];

        if (!streq(req->path, REGISTRY_API_SNAPSHOT))
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "the registry API has only %s", REGISTRY_API_SNAPSHOT);
        if (!streq(req->method, "GET") && !streq(req->method, "HEAD"))
                return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "%s takes GET", REGISTRY_API_SNAPSHOT);
        if (!s)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND,
                                        "this node's registry does not come from a signed snapshot");
        /* the snapshot's version and the start of its digest: another snapshot, another tag */
        snprintf(etag, sizeof(etag), "\"%" PRIu64 "-%.16s\"", s->version, s->digest);
        if (endpoint_header_add(resp, "ETag", "%s", etag) < 0)
                return -ENOMEM;
        snprintf(resp->content_type, sizeof(resp->content_type), "application/jose");
        if (inm && etag_listed(inm, etag)) {
                resp->status = 304; /* the fetcher keeps what it has: no download, no verification */
                return 0;
        }
        resp->body = malloc(s->size + 1);
        if (!resp->body)
                return -ENOMEM;
        memcpy(resp->body, s->compact, s->size + 1);
        resp->body_size = s->size;
        resp->status = 200;
        return 0;
}
