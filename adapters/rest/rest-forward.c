/* rest-forward.c: one adapter request to an HTTP backend with libcurl */
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include <curl/curl.h>

#include "rest/rest-forward.h"

struct RestForwarder {
        CURL *curl;
        RestOptions o;
        char *ca_file, *cert_file, *key_file;
        /* the response body being received */
        char *buf;
        size_t len, cap;
        bool too_large;
};

static void curl_slist_free_allp(struct curl_slist **l)
{
        if (*l)
                curl_slist_free_all(*l);
}

int rest_forwarder_new(RestForwarder **ret, const RestOptions *o)
{
        RestForwarder *f;

        if (!o || o->timeout_ms == 0 || o->max_response == 0 || o->max_response > ADAPTER_MAX_BODY_LIMIT)
                return -EINVAL;
        if (!!o->cert_file != !!o->key_file)
                return -EINVAL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->o = *o;
        f->curl = curl_easy_init();
        f->ca_file = o->ca_file ? strdup(o->ca_file) : NULL;
        f->cert_file = o->cert_file ? strdup(o->cert_file) : NULL;
        f->key_file = o->key_file ? strdup(o->key_file) : NULL;
        if (!f->curl || (o->ca_file && !f->ca_file) || (o->cert_file && !f->cert_file) ||
            (o->key_file && !f->key_file)) {
                rest_forwarder_free(f);
                return -ENOMEM;
        }
        *ret = f;
        return 0;
}

RestForwarder *rest_forwarder_free(RestForwarder *f)
{
        if (!f)
                return NULL;
        if (f->curl)
                curl_easy_cleanup(f->curl);
        free(f->ca_file);
        free(f->cert_file);
        free(f->key_file);
        free(f->buf);
        free(f);
        return NULL;
}

bool rest_url_valid(const char *url)
{
        CURLU *u;
        char *scheme = NULL, *host = NULL, *fragment = NULL;
        bool ok;

        if (isempty(url) || strlen(url) > REST_MAX_URL)
                return false;
        u = curl_url();
        if (!u)
                return false;
        ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
             (streq(scheme, "http") || streq(scheme, "https")) &&
             curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_NO_FRAGMENT;
        curl_free(scheme);
        curl_free(host);
        curl_free(fragment);
        curl_url_cleanup(u);
        return ok;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
        RestForwarder *f = userdata;
        size_t n = size * nmemb;

        if (n > f->o.max_response - f->len) {
                f->too_large = true;
                return 0;       /* aborts the transfer with CURLE_WRITE_ERROR */
        }
        if (f->len + n > f->cap) {
                size_t cap = MAX(f->cap * 2, f->len + n);
                char *b;

                cap = MIN(MAX(cap, (size_t)4096), f->o.max_response);
                b = realloc(f->buf, cap);
                if (!b)
                        return 0;
                f->buf = b;
                f->cap = cap;
        }
        memcpy(f->buf + f->len, data, n);
        f->len += n;
        return n;
}

static void fail(AdapterResponse *resp, int status, const char *error, const char *detail)
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
        for (const char *seg = path; seg;) {
                const char *end = strchr(++seg, '/');   /* seg: after the '/' */
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
                seg = end;
        }
        return false;
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

static int add_header(struct curl_slist **l, const char *name, const char *value)
{
        char buf[2048];
        struct curl_slist *n;

        if (isempty(value))
                return 0;
        if ((size_t)snprintf(buf, sizeof(buf), "%s: %s", name, value) >= sizeof(buf))
                return -E2BIG;
        n = curl_slist_append(*l, buf);
        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

/* Build the URL; return -EINVAL when the request cannot be carried, -E2BIG when too long. */
static int build_url(CURL *curl, const char *base, const AdapterRequest *req, char **ret)
{
        _cleanup_free_ char *url = NULL;
        char *subject = NULL;
        const char *path = streq(req->path, "/") ? "" : req->path;
        bool base_has_query = strchr(base, '?') != NULL;
        size_t n;
        int k;

        if (req->path[0] != '/' || !url_part_ok(req->path, true) || path_has_dot_segment(req->path) ||
            !url_part_ok(req->query, false))
                return -EINVAL;
        if (base_has_query && *path)
                return -EINVAL;         /* a path after a query would end up in the query */
        if (req->subject) {
                subject = curl_easy_escape(curl, req->subject, 0);
                if (!subject)
                        return -ENOMEM;
        }
        n = strlen(base) + strlen(path) + strlen(req->query) + (subject ? strlen(subject) : 0) + 16;
        if (n > REST_MAX_URL) {
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

int rest_forward(RestForwarder *f, const char *base_url, const AdapterRequest *req, AdapterResponse *resp)
{
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *url = NULL;
        uint64_t timeout = f->o.timeout_ms;
        const char *values[] = { req->subject, req->purpose, req->client, req->xroad_id, req->user_id, req->issue,
                                 req->content_type };
        static const char *const names[] = { "X-Bus-Subject", "X-Bus-Purpose", "X-Road-Client", "X-Road-Id",
                                             "X-Road-UserId", "X-Road-Issue", "Content-Type" };
        char *ctype = NULL;
        long code = 0;
        CURLcode rc;
        CURL *c = f->curl;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(values); i++)
                if (values[i] && !header_value_ok(values[i])) {
                        fail(resp, 400, "bad_request", "the request cannot be forwarded");
                        return 0;
                }
        if (!method_ok(req->method)) {
                fail(resp, 400, "bad_request", "the request cannot be forwarded");
                return 0;
        }
        r = build_url(c, base_url, req, &url);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                fail(resp, 400, "bad_request", "the request cannot be forwarded");
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                r = add_header(&headers, names[i], values[i]);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        fail(resp, 400, "bad_request", "the request cannot be forwarded");
                        return 0;
                }
        }
        /* no "Expect: 100-continue" round trip for bodies */
        {
                struct curl_slist *l = curl_slist_append(headers, "Expect:");
                if (!l)
                        return -ENOMEM;
                headers = l;
        }

        if (req->timeout_ms > 0)
                timeout = MIN(timeout, req->timeout_ms);

        /* reset keeps the live connections and caches: the next request reuses the connection */
        curl_easy_reset(c);
        f->len = 0;
        f->too_large = false;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)MIN(timeout, (uint64_t)LONG_MAX));
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)MIN(timeout, (uint64_t)LONG_MAX));
        curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->o.max_response);
        if (f->ca_file)
                curl_easy_setopt(c, CURLOPT_CAINFO, f->ca_file);
        if (f->cert_file) {
                curl_easy_setopt(c, CURLOPT_SSLCERT, f->cert_file);
                curl_easy_setopt(c, CURLOPT_SSLKEY, f->key_file);
        }
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

        rc = curl_easy_perform(c);
        switch (rc) {
        case CURLE_OK:
                break;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_OPERATION_TIMEDOUT:
                fail(resp, 504, "provider_timeout", "the provider did not answer in time");
                return 0;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                fail(resp, 503, "provider_unavailable", "the provider could not be reached");
                return 0;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
                fail(resp, 503, "provider_unavailable", "the TLS connection to the provider failed");
                return 0;
        case CURLE_FILESIZE_EXCEEDED:
                fail(resp, 502, "response_invalid", "response exceeds the size limit");
                return 0;
        case CURLE_WRITE_ERROR:
                if (f->too_large) {
                        fail(resp, 502, "response_invalid", "response exceeds the size limit");
                        return 0;
                }
                return -ENOMEM;
        default:
                fail(resp, 502, "provider_error", "the provider's answer could not be read");
                return 0;
        }

        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 500 && code <= 599) {
                fail(resp, 502, "provider_error", "the provider answered with an error");
                return 0;
        }
        if (code < 200 || (code >= 300 && code < 400) || code > 599) {
                fail(resp, 502, "provider_error", "the provider answered with an unexpected status");
                return 0;
        }
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
        if (ctype) {
                if (strlen(ctype) >= sizeof(resp->content_type) || !header_value_ok(ctype)) {
                        fail(resp, 502, "response_invalid", "the provider's content type is invalid");
                        return 0;
                }
                strcpy(resp->content_type, ctype);
        }
        resp->status = (int)code;
        resp->error = NULL;
        if (f->len > 0) {
                /* hand the buffer over; the next response starts a new one */
                resp->body = (uint8_t *)f->buf;
                resp->body_size = f->len;
                f->buf = NULL;
                f->len = f->cap = 0;
        }
        return 0;
}
