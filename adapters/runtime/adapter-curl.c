/* adapter-curl.c: the libcurl handle an adapter keeps to call its backend */
#include <errno.h>
#include <limits.h>
#include <strings.h>

#include "runtime/adapter-curl.h"
#include "util/log.h"

AdapterCurl *adapter_curl_free(AdapterCurl *h)
{
        if (!h)
                return NULL;
        if (h->curl)
                curl_easy_cleanup(h->curl);
        free(h->ca_file);
        free(h->cert_file);
        free(h->key_file);
        free(h->buf);
        free(h->head);
        free(h);
        return NULL;
}

int adapter_curl_new(AdapterCurl **ret, const AdapterCurlOptions *o)
{
        _cleanup_(adapter_curl_freep) AdapterCurl *h = NULL;

        if (!o || o->timeout_ms == 0 || o->max_response == 0 || o->max_response > ADAPTER_MAX_BODY_LIMIT)
                return -EINVAL;
        if (!!o->cert_file != !!o->key_file)
                return -EINVAL;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->curl = curl_easy_init();
        h->ca_file = o->ca_file ? strdup(o->ca_file) : NULL;
        h->cert_file = o->cert_file ? strdup(o->cert_file) : NULL;
        h->key_file = o->key_file ? strdup(o->key_file) : NULL;
        if (!h->curl || (o->ca_file && !h->ca_file) || (o->cert_file && !h->cert_file) || (o->key_file && !h->key_file))
                return -ENOMEM;
        h->o = *o;
        h->o.ca_file = h->ca_file;
        h->o.cert_file = h->cert_file;
        h->o.key_file = h->key_file;
        *ret = TAKE_PTR(h);
        return 0;
}

bool adapter_curl_url_valid(const char *url)
{
        CURLU *u;
        char *scheme = NULL, *host = NULL, *fragment = NULL;
        bool ok;

        if (isempty(url) || strlen(url) > ADAPTER_CURL_MAX_URL)
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
        AdapterCurl *h = userdata;
        size_t n = size * nmemb;

        if (n > h->o.max_response - h->len) {
                h->too_large = true;
                return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
        }
        if (h->len + n > h->cap) {
                size_t cap = MIN(MAX(MAX(h->cap * 2, h->len + n), (size_t)4096), h->o.max_response);
                char *b = realloc(h->buf, cap);

                if (!b)
                        return 0;
                h->buf = b;
                h->cap = cap;
        }
        memcpy(h->buf + h->len, data, n);
        h->len += n;
        return n;
}

/* Keep the header fields of the last response (a 1xx response comes before the final one). */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
        AdapterCurl *h = userdata;
        size_t n = size * nmemb;
        char *b;

        if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
                h->head_len = 0; /* a status line: a new response */
                h->head_too_large = false;
                return n;
        }
        if (h->head_too_large || h->head_len + n + 1 > ADAPTER_CURL_MAX_HEAD) {
                h->head_too_large = true;
                return n;
        }
        if (!h->head) {
                h->head = malloc(ADAPTER_CURL_MAX_HEAD);
                if (!h->head)
                        return 0; /* aborts the transfer: out of memory */
        }
        b = h->head + h->head_len;
        memcpy(b, data, n);
        h->head_len += n;
        h->head[h->head_len] = 0;
        return n;
}

int adapter_curl_take_headers(AdapterCurl *h, AdapterResponse *resp)
{
        static const char *const skip[] = { "Content-Type", "Content-Length", "Transfer-Encoding", "Connection",
                                            "Keep-Alive" };

        if (h->head_too_large)
                return -E2BIG;
        for (char *line = h->head, *end; line && line < h->head + h->head_len; line = end) {
                char *colon, *value, *eol;
                bool skipped = false;
                int r;

                end = strchr(line, '\n');
                end = end ? end + 1 : h->head + h->head_len;
                eol = end;
                while (eol > line && (eol[-1] == '\n' || eol[-1] == '\r'))
                        eol--;
                *eol = 0;
                colon = strchr(line, ':');
                if (!colon || colon == line || *line == ' ' || *line == '\t')
                        continue;
                *colon = 0;
                for (value = colon + 1; *value == ' ' || *value == '\t'; value++)
                        ;
                for (char *t = value + strlen(value); t > value && (t[-1] == ' ' || t[-1] == '\t'); t--)
                        t[-1] = 0;
                for (size_t i = 0; i < ELEMENTSOF(skip); i++)
                        skipped = skipped || strcasecmp(line, skip[i]) == 0;
                if (skipped)
                        continue;
                r = adapter_response_add_header(resp, line, value);
                if (r == -ENOMEM || r == -E2BIG)
                        return r;
        }
        return 0;
}

void adapter_curl_prepare(AdapterCurl *h, const char *url, struct curl_slist *headers, uint64_t request_timeout_ms)
{
        uint64_t timeout = h->o.timeout_ms;
        CURL *c = h->curl;

        if (request_timeout_ms > 0)
                timeout = MIN(timeout, request_timeout_ms);

        /* reset keeps the live connections and caches: the next request reuses the connection */
        curl_easy_reset(c);
        h->error[0] = 0;
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->error);
        h->len = 0;
        h->too_large = false;
        h->head_len = 0;
        h->head_too_large = false;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)MIN(timeout, (uint64_t)LONG_MAX));
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)MIN(timeout, (uint64_t)LONG_MAX));
        curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->o.max_response);
        if (h->ca_file)
                curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
        if (h->cert_file) {
                curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert_file);
                curl_easy_setopt(c, CURLOPT_SSLKEY, h->key_file);
        }
}

/*
 * Log a failed backend call: the backend as scheme://host:port (never the
 * path or query, which may name a person), the cause, curl's words and the
 * HTTP status when there is one. One line per failure: the operational
 * log's rate limiting (issue 10) bounds a backend that fails every request.
 */
static void log_failure(AdapterCurl *h, const char *cause)
{
        char *url = NULL, *scheme = NULL, *host = NULL, *port = NULL;
        CURLU *u = curl_url();
        long status = 0;
        char more[32] = "";

        curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &url);
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
        if (u && url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
                curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
                curl_url_get(u, CURLUPART_HOST, &host, 0);
                curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        }
        if (status)
                snprintf(more, sizeof(more), ", HTTP status %ld", status);
        log_warning("backend %s://%s:%s: %s%s%s%s%s", strempty(scheme), strempty(host), strempty(port), cause,
                    h->error[0] ? " (" : "", h->error, h->error[0] ? ")" : "", more);
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
}

/* Log the failure, then answer it. Without memory the answer still goes out, with an empty body. */
static int fail(AdapterCurl *h, const char *cause, AdapterResponse *resp, int status, ProblemType error,
                const char *detail)
{
        log_failure(h, cause);
        (void)adapter_response_error(resp, status, error, detail);
        return 1;
}

int adapter_curl_perform(AdapterCurl *h, AdapterResponse *resp)
{
        long status = 0;

        switch (curl_easy_perform(h->curl)) {
        case CURLE_OK:
                /* the forwarder answers; a 5xx (or a status it cannot pass on) is the backend failing */
                curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
                if (status < 200 || status >= 500 || (status >= 300 && status < 400))
                        log_failure(h, "the backend answered with an error status");
                return 0;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_OPERATION_TIMEDOUT:
                return fail(h, "timeout", resp, 504, PROBLEM_PROVIDER_TIMEOUT, "the provider did not answer in time");
        case CURLE_COULDNT_CONNECT:
                return fail(h, "cannot connect", resp, 503, PROBLEM_PROVIDER_UNAVAILABLE,
                            "the provider could not be reached");
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return fail(h, "name not resolved", resp, 503, PROBLEM_PROVIDER_UNAVAILABLE,
                            "the provider could not be reached");
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
                return fail(h, "TLS error", resp, 503, PROBLEM_PROVIDER_UNAVAILABLE,
                            "the TLS connection to the provider failed");
        case CURLE_FILESIZE_EXCEEDED:
                return fail(h, "answer too large", resp, 502, PROBLEM_RESPONSE_INVALID,
                            "response exceeds the size limit");
        case CURLE_WRITE_ERROR:
                if (h->too_large)
                        return fail(h, "answer too large", resp, 502, PROBLEM_RESPONSE_INVALID,
                                    "response exceeds the size limit");
                return -ENOMEM;
        default:
                return fail(h, "transfer failed", resp, 502, PROBLEM_PROVIDER_ERROR,
                            "the provider's answer could not be read");
        }
}

void adapter_curl_take_body(AdapterCurl *h, uint8_t **ret_body, size_t *ret_size)
{
        if (h->len == 0) {
                *ret_body = NULL;
                *ret_size = 0;
                return;
        }
        *ret_body = (uint8_t *)TAKE_PTR(h->buf);
        *ret_size = h->len;
        h->len = h->cap = 0;
}
