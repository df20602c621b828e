/* rest-forward.c: one adapter request to an HTTP backend with libcurl */
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include <curl/curl.h>

#include "rest/rest-forward.h"
#include "runtime/adapter-cli.h"
#include "util/bytes.h"

static void fail(AdapterResponse *resp, int status, ProblemType error, const char *detail)
{
        /* without memory the answer still goes out, with an empty body */
        (void)adapter_response_error(resp, status, error, detail);
}

/* Bytes a header value may hold: visible ASCII and UTF-8, spaces and tabs; no CR, LF or other controls. */
static bool header_value_ok(const char *s)
{
        for (; *s; s++)
                if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
                        return false;
        return true;
}

/* A path or query carried verbatim in the URL: visible ASCII only, no '#', no spaces. */
static bool url_part_ok(const char *s, bool path)
{
        for (const char *c = s; *c; c++) {
                unsigned char u = (unsigned char)*c;
                if (u <= 0x20 || u >= 0x7f || u == '#' || u == '\\' || (path && u == '?'))
                        return false;
        }
        return true;
}

/* Dot segments ("/./", "/../", also percent-encoded) would leave the route's prefix. */
static bool path_has_dot_segment(const char *path)
{
        for (const char *seg = path;;) {
                if (*seg == '/')
                        seg++;
                const char *end = strchr(seg, '/');
                size_t n = end ? (size_t)(end - seg) : strlen(seg), dots = 0, i = 0;
                bool other = false;

                while (i < n && !other) {
                        if (seg[i] == '.') {
                                dots++;
                                i++;
                        } else if (i + 2 < n && seg[i] == '%' && seg[i + 1] == '2' &&
                                   (seg[i + 2] == 'e' || seg[i + 2] == 'E')) {
                                dots++;
                                i += 3;
                        } else
                                other = true;
                }
                if (!other && (dots == 1 || dots == 2))
                        return true;
                if (!end)
                        return false;
                seg = end;
        }
}

static bool method_ok(const char *m)
{
        size_t n = strlen(m);

        if (n == 0 || n > 16)
                return false;
        for (; *m; m++)
                if (*m < 'A' || *m > 'Z')
                        return false;
        return true;
}

/* Append "name: value" (nothing for an empty value), or with `value` NULL "name:", which removes a header
 * curl would add itself. */
static int add_header(struct curl_slist **l, const char *name, const char *value)
{
        _cleanup_free_ char *buf = NULL;
        struct curl_slist *n;

        if (value && !*value)
                return 0;
        if (strlen(name) + (value ? strlen(value) : 0) > PROTO_MAX_HEADER_VALUE + 256)
                return -E2BIG;
        if (asprintf(&buf, "%s:%s%s", name, value ? " " : "", value ? value : "") < 0)
                return -ENOMEM;
        n = curl_slist_append(*l, buf);
        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

/* Whether the client's header `name` is among the `n` passed on. */
static bool passed_on(const AdapterRequest *req, const char *name)
{
        for (size_t i = 0; i < req->n_headers; i++)
                if (strcasecmp(req->headers[i].name, name) == 0)
                        return true;
        return false;
}

/*
 * The headers of a bus that passes the client's on (req->has_headers): those, but the ones this
 * forwarder sets itself or curl manages, then the forwarder's: the client the bus identified, the
 * X-Road-Id it made up when the client sent none, the request id, the bus's subject and purpose; and
 * curl's own Accept and Content-Type removed when the client sent none (none sent, none forwarded).
 * Return: 0, -EINVAL (a value a header cannot carry), -E2BIG, -ENOMEM.
 */
static int passthrough_headers(const AdapterRequest *req, struct curl_slist **l)
{
        static const char *const own[] = { "X-Road-Client", "X-Road-Request-Id", "X-Road-Request-Hash",
                                           "Host",          "Content-Length",    "Transfer-Encoding",
                                           "Expect",        "Connection" };
        const struct {
                const char *name, *value;
        } set[] = {
                { "X-Road-Client", req->client },
                { "X-Road-Id", passed_on(req, "X-Road-Id") ? NULL : req->xroad_id },
                { "X-Road-Request-Id", req->request_id },
                { "X-Bus-Subject", req->subject },
                { "X-Bus-Purpose", req->purpose },
        };
        int r;

        for (size_t i = 0; i < req->n_headers; i++) {
                const AdapterHeader *hd = &req->headers[i];
                bool skip = strncasecmp(hd->name, "X-Bus-", 6) == 0;

                for (size_t k = 0; k < ELEMENTSOF(own) && !skip; k++)
                        skip = strcasecmp(hd->name, own[k]) == 0;
                if (skip)
                        continue;
                if (!header_value_ok(hd->value) || strchr(hd->name, ':'))
                        return -EINVAL;
                r = add_header(l, hd->name, hd->value);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(set); i++) {
                if (!set[i].value)
                        continue;
                if (!header_value_ok(set[i].value))
                        return -EINVAL;
                r = add_header(l, set[i].name, set[i].value);
                if (r < 0)
                        return r;
        }
        if (!passed_on(req, "Accept") && (r = add_header(l, "Accept", NULL)) < 0)
                return r;
        if (!passed_on(req, "Content-Type") && (r = add_header(l, "Content-Type", NULL)) < 0)
                return r;
        return 0;
}

/* The headers of a bus that does not pass the client's on: the fixed set of the bus's facts. */
static int fixed_headers(const AdapterRequest *req, struct curl_slist **l)
{
        const char *values[] = { req->subject, req->purpose, req->client,      req->xroad_id,
                                 req->user_id, req->issue,   req->content_type };
        static const char *const names[] = { "X-Bus-Subject", "X-Bus-Purpose", "X-Road-Client", "X-Road-Id",
                                             "X-Road-UserId", "X-Road-Issue",  "Content-Type" };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                if (values[i] && !header_value_ok(values[i]))
                        return -EINVAL;
                r = values[i] ? add_header(l, names[i], values[i]) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * The client's query may not name what the forwarder sets itself. A "subject" parameter (its
 * percent-decoded name, any case: a backend might read either) passes only when it is the one
 * and carries the bus's subject, as for a service whose registry entry says "subject = query
 * subject"; the forwarder then adds none. Return: 0 add ours, 1 already there, -EEXIST refuse.
 */
static int query_subject(const char *query, const char *subject)
{
        int n = 0, same = 0;

        for (const char *p = query; *p; p += *p == '&') {
                size_t len = strcspn(p, "&"), klen = strcspn(p, "=&");
                char key[24], value[256];

                if (klen < sizeof(key) && percent_decode(p, klen, key) >= 0 && strcasecmp(key, "subject") == 0) {
                        n++;
                        same = subject && klen < len && len - klen - 1 < sizeof(value) &&
                               percent_decode(p + klen + 1, len - klen - 1, value) >= 0 && streq(value, subject);
                }
                p += len;
        }
        return n == 0 ? 0 : n == 1 && same ? 1 : -EEXIST;
}

/* Build the URL; return -EINVAL when the request cannot be carried, -EEXIST when its query names
 * the subject otherwise than the bus, -E2BIG when too long. */
static int build_url(CURL *curl, const char *base, const AdapterRequest *req, char **ret)
{
        _cleanup_free_ char *url = NULL;
        char *subject = NULL;
        /* a bus that sends the path as the client wrote it (escapes kept): that one, X-Road's way */
        const char *path = req->has_headers ? req->raw_path : streq(req->path, "/") ? "" : req->path;
        bool base_has_query = strchr(base, '?') != NULL;
        size_t n, blen = strlen(base);
        int k;

        if ((!req->has_headers && req->path[0] != '/') || (*path && *path != '/') || !url_part_ok(path, true) ||
            path_has_dot_segment(path) || !url_part_ok(req->query, false))
                return -EINVAL;
        if (blen > 0 && base[blen - 1] == '/' && *path == '/')
                path++; /* base ".../api/" and path "/x": no doubled slash */
        if (base_has_query && *path)
                return -EINVAL; /* a path after a query would end up in the query */
        k = query_subject(req->query, req->subject);
        if (k < 0)
                return k;
        if (req->subject && k == 0) {
                subject = curl_easy_escape(curl, req->subject, 0);
                if (!subject)
                        return -ENOMEM;
        }
        n = strlen(base) + strlen(path) + strlen(req->query) + (subject ? strlen(subject) : 0) + 16;
        if (n > ADAPTER_CURL_MAX_URL) {
                curl_free(subject);
                return -E2BIG;
        }
        url = malloc(n);
        if (!url) {
                curl_free(subject);
                return -ENOMEM;
        }
        k = snprintf(url, n, "%s%s", base, path);
        if (*req->query || subject) {
                char sep = base_has_query ? '&' : '?';

                if (*req->query) {
                        k += snprintf(url + k, n - (size_t)k, "%c%s", sep, req->query);
                        sep = '&';
                }
                if (subject)
                        snprintf(url + k, n - (size_t)k, "%csubject=%s", sep, subject);
        }
        curl_free(subject);
        *ret = TAKE_PTR(url);
        return 0;
}

int rest_forward(AdapterCurl *f, const char *base_url, const AdapterRequest *req, AdapterResponse *resp)
{
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *url = NULL;
        char *ctype = NULL;
        long code = 0;
        CURL *c = f->curl;
        int r;

        if (!method_ok(req->method)) {
                fail(resp, 400, PROBLEM_BAD_REQUEST, "the request cannot be forwarded");
                return 0;
        }
        r = build_url(c, base_url, req, &url);
        if (r == -ENOMEM)
                return r;
        if (r == -EEXIST) {
                fail(resp, 400, PROBLEM_BAD_REQUEST,
                     "the query names 'subject', which the adapter sets to the exchange's data subject");
                return 0;
        }
        if (r < 0) {
                fail(resp, 400, PROBLEM_BAD_REQUEST, "the request cannot be forwarded");
                return 0;
        }
        r = req->has_headers ? passthrough_headers(req, &headers) : fixed_headers(req, &headers);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                fail(resp, 400, PROBLEM_BAD_REQUEST, "the request cannot be forwarded");
                return 0;
        }
        /* no "Expect: 100-continue" round trip for bodies */
        {
                struct curl_slist *l = curl_slist_append(headers, "Expect:");
                if (!l)
                        return -ENOMEM;
                headers = l;
        }

        adapter_curl_prepare(f, url, headers, req->timeout_ms);
        curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
        if (streq(req->method, "GET"))
                curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        else if (streq(req->method, "HEAD"))
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        else {
                if (!streq(req->method, "POST"))
                        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_size);
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body_size ? (const char *)req->body : "");
        }

        r = adapter_curl_perform(f, resp);
        if (r != 0)
                return MIN(r, 0);

        /* the provider's answer of any status is its own, passed on as it is (PR-REST 1.0.4 §4.4, §4.6) */
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code < 200 || code > 599) {
                fail(resp, 502, PROBLEM_PROVIDER_ERROR, "the provider answered with an unexpected status");
                return 0;
        }
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
        if (req->has_headers)
                resp->content_type[0] = 0; /* none sent, none added */
        if (ctype) {
                if (strlen(ctype) >= sizeof(resp->content_type) || !header_value_ok(ctype)) {
                        fail(resp, 502, PROBLEM_RESPONSE_INVALID, "the provider's content type is invalid");
                        return 0;
                }
                strcpy(resp->content_type, ctype);
        }
        if (req->has_headers) {
                r = adapter_curl_take_headers(f, resp);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        fail(resp, 502, PROBLEM_RESPONSE_INVALID, "the provider's header fields exceed the size limit");
                        return 0;
                }
        }
        resp->status = (int)code;
        resp->error = PROBLEM_NONE;
        adapter_curl_take_body(f, &resp->body, &resp->body_size);
        return 0;
}

static void rest_help(void)
{
        printf("Usage: xbus-adapter-rest --route SERVICE=URL [--route ...] [OPTIONS]\n"
               "Answer bus services by forwarding each request to an HTTP backend.\n"
               "A request goes to URL + path + \"?\" + query + \"&subject=\" + SUBJECT (parts that are\n"
               "empty are left out), with the subject also in the X-Bus-Subject header, the client's\n"
               "headers but the bus's deny-list, and the backend's answer of any status comes back\n"
               "with its headers. A query that names \"subject\" otherwise is refused.\n\n" ADAPTER_CLI_HELP_BUS
               "  --route SERVICE=URL       serve SERVICE from URL (http or https; repeatable, at most %d)\n"
               "  --workers N               worker connections, each with its own HTTP connection (default 4)\n"
               "  --timeout MS              cap on one backend call (default %d); a smaller request\n"
               "                            timeout applies\n"
               "  --max-response BYTES      largest backend body accepted (default %u)\n"
               "  --cacert FILE             CAs for https backends (default: the system's)\n"
               "  --cert FILE --key FILE    client certificate for https backends that ask for one\n"
               "  --name NAME               instance name announced to the bus (default rest)\n" ADAPTER_CLI_HELP_TAIL,
               PROTO_MAX_SERVICES, REST_DEFAULT_TIMEOUT_MS, REST_DEFAULT_MAX_RESPONSE);
}

const AdapterForwardKind rest_forward_kind = {
        .kind = "rest",
        .ident = "xbus-adapter-rest",
        .help = rest_help,
        .timeout_ms = REST_DEFAULT_TIMEOUT_MS,
        .max_response = REST_DEFAULT_MAX_RESPONSE,
        .url_valid = adapter_curl_url_valid,
        .libraries = "libcurl",
        .forward = rest_forward,
};
