/* cli-http.c: one HTTPS request with libcurl */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli-common.h"
#include "cli/cli-http.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);

typedef struct Collect {
        CliHttpResponse *resp;
        size_t header_bytes;
        bool too_large, oom;
} Collect;

int cli_http_global_init(void)
{
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void cli_http_global_done(void)
{
        curl_global_cleanup();
}

static void headers_clear(CliHttpResponse *r)
{
        for (size_t i = 0; i < r->n_headers; i++) {
                free(r->headers[i].name);
                free(r->headers[i].value);
        }
        free(r->headers);
        r->headers = NULL;
        r->n_headers = 0;
        r->status_line = mfree(r->status_line);
}

CliHttpResponse *cli_http_response_free(CliHttpResponse *r)
{
        if (!r)
                return NULL;
        headers_clear(r);
        free(r->body);
        free(r);
        return NULL;
}

const char *cli_http_response_header(const CliHttpResponse *r, const char *name)
{
        if (!r || !name)
                return NULL;
        for (size_t i = 0; i < r->n_headers; i++)
                if (strcasecmp(r->headers[i].name, name) == 0)
                        return r->headers[i].value;
        return NULL;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userdata)
{
        Collect *c = userdata;
        CliHttpResponse *r = c->resp;
        size_t n = size * nitems, len = n;
        const char *colon, *v;
        CliHttpHeader *h;

        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
                len--;
        if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                /* a new header block (after a 100 Continue, say): start over */
                headers_clear(r);
                c->header_bytes = 0;
                r->status_line = strndup(data, len);
                if (!r->status_line) {
                        c->oom = true;
                        return 0;
                }
                return n;
        }
        c->header_bytes += n;
        if (c->header_bytes > CLI_HTTP_MAX_HEADER_BYTES || r->n_headers >= CLI_HTTP_MAX_HEADERS) {
                c->too_large = true;
                return 0;
        }
        if (len == 0)
                return n; /* the blank line ending the block */
        colon = memchr(data, ':', len);
        if (!colon)
                return n; /* obs-fold or junk: not a header we need */
        h = reallocarray(r->headers, r->n_headers + 1, sizeof(*h));
        if (!h) {
                c->oom = true;
                return 0;
        }
        r->headers = h;
        v = colon + 1;
        while (v < data + len && (*v == ' ' || *v == '\t'))
                v++;
        h[r->n_headers].name = strndup(data, (size_t)(colon - data));
        h[r->n_headers].value = strndup(v, (size_t)(data + len - v));
        if (!h[r->n_headers].name || !h[r->n_headers].value) {
                free(h[r->n_headers].name);
                free(h[r->n_headers].value);
                c->oom = true;
                return 0;
        }
        r->n_headers++;
        return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
        Collect *c = userdata;
        CliHttpResponse *r = c->resp;
        size_t n = size * nmemb;
        char *b;

        if (n > CLI_HTTP_MAX_BODY - r->body_size) {
                c->too_large = true;
                return 0;
        }
        b = realloc(r->body, r->body_size + n + 1);
        if (!b) {
                c->oom = true;
                return 0;
        }
        memcpy(b + r->body_size, data, n);
        r->body = b;
        r->body_size += n;
        r->body[r->body_size] = 0;
        return n;
}

static int map_curl(CURLcode cc)
{
        switch (cc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
                return CLI_HTTP_E_CONNECT;
        case CURLE_OPERATION_TIMEDOUT:
                return CLI_HTTP_E_TIMEOUT;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ISSUER_ERROR:
                return CLI_HTTP_E_TLS;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        default:
                return CLI_HTTP_E_PROTOCOL;
        }
}

int cli_http_request(const CliHttpRequest *req, CliHttpResponse **ret, char **ret_error)
{
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *list = NULL;
        _cleanup_(cli_http_response_freep) CliHttpResponse *resp = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        const char *method;
        Collect c = {};
        CURLcode cc;
        int r;

        if (!req || !req->url || !ret || (!req->ca_file && !req->insecure))
                return error_set(ret_error, -EINVAL, "invalid request");
        method = req->method ? req->method : "GET";
        resp = calloc(1, sizeof(*resp));
        curl = curl_easy_init();
        if (!resp || !curl)
                return error_set(ret_error, -ENOMEM, "out of memory");
        c.resp = resp;

        for (const char *const *h = req->headers; h && *h; h++) {
                struct curl_slist *l = curl_slist_append(list, *h);
                if (!l)
                        return error_set(ret_error, -ENOMEM, "out of memory");
                list = l;
        }
        /* no "Expect: 100-continue" round trip for larger bodies */
        {
                struct curl_slist *l = curl_slist_append(list, "Expect:");
                if (!l)
                        return error_set(ret_error, -ENOMEM, "out of memory");
                list = l;
        }

        curl_easy_setopt(curl, CURLOPT_URL, req->url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                         (long)(req->timeout_ms ? req->timeout_ms : CLI_HTTP_DEFAULT_TIMEOUT_MS));
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
        if (req->insecure) {
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        } else {
                curl_easy_setopt(curl, CURLOPT_CAINFO, req->ca_file);
                curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
        }
        if (req->cert_file) {
                curl_easy_setopt(curl, CURLOPT_SSLCERT, req->cert_file);
                curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
        }
        if (req->key_file) {
                curl_easy_setopt(curl, CURLOPT_SSLKEY, req->key_file);
                curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
        }
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
        if (streq(method, "HEAD"))
                curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        else if (!streq(method, "GET"))
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        if (req->body || !streq(method, "GET")) {
                if (!streq(method, "GET") && !streq(method, "HEAD")) {
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_size);
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
                } else if (req->body && req->body_size > 0)
                        return error_set(ret_error, -EINVAL, "a %s request has no body", method);
        }
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &c);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &c);

        cc = curl_easy_perform(curl);
        if (c.oom)
                return error_set(ret_error, -ENOMEM, "out of memory");
        if (c.too_large)
                return error_set(ret_error, CLI_HTTP_E_TOO_LARGE,
                                 "the answer from %s exceeds the client's limits (%u header lines, %u KiB of "
                                 "headers, "
                                 "%u MiB of body)",
                                 req->url, CLI_HTTP_MAX_HEADERS, CLI_HTTP_MAX_HEADER_BYTES / 1024,
                                 CLI_HTTP_MAX_BODY / 1024 / 1024);
        if (cc != CURLE_OK) {
                r = map_curl(cc);
                return error_set(ret_error, r, "%s: %s", req->url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (!resp->body) {
                resp->body = strdup("");
                if (!resp->body)
                        return error_set(ret_error, -ENOMEM, "out of memory");
        }
        *ret = TAKE_PTR(resp);
        return 0;
}
