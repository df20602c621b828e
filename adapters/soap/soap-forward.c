/* soap-forward.c: one adapter request to a SOAP backend with libcurl */
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include <curl/curl.h>
#include <libxml/tree.h>

#include "policy/problem.h"
#include "soap/soap-forward.h"

struct SoapForwarder {
        CURL *curl;
        SoapForwardOptions o;
        char *ca_file, *cert_file, *key_file;
        char *buf;                      /* the answer being received */
        size_t len, cap;
        bool too_large;
};

int soap_forwarder_new(SoapForwarder **ret, const SoapForwardOptions *o)
{
        SoapForwarder *f;

        if (!o || o->timeout_ms == 0 || o->max_response == 0 || o->max_response > ADAPTER_MAX_BODY_LIMIT ||
            !!o->cert_file != !!o->key_file)
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
                soap_forwarder_free(f);
                return -ENOMEM;
        }
        *ret = f;
        return 0;
}

SoapForwarder *soap_forwarder_free(SoapForwarder *f)
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

bool soap_url_valid(const char *url)
{
        CURLU *u;
        char *scheme = NULL, *fragment = NULL;
        bool ok;

        if (isempty(url) || strlen(url) > 8192)
                return false;
        u = curl_url();
        if (!u)
                return false;
        ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             (streq(scheme, "http") || streq(scheme, "https")) &&
             curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_NO_FRAGMENT;
        curl_free(scheme);
        curl_free(fragment);
        curl_url_cleanup(u);
        return ok;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
        SoapForwarder *f = userdata;
        size_t n = size * nmemb;

        if (n > f->o.max_response - f->len) {
                f->too_large = true;
                return 0;
        }
        if (f->len + n + 1 > f->cap) {
                size_t cap = MIN(MAX(MAX(f->cap * 2, f->len + n + 1), (size_t)4096), f->o.max_response + 1);
                char *b = realloc(f->buf, cap);
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
        (void)adapter_response_error(resp, status, error, detail);
}

/* The backend's Fault, as the bus's vocabulary: its own problem type passes, the rest is provider_error. */
static void from_fault(AdapterResponse *resp, const char *type, const char *detail)
{
        const ProblemType *p = problem_lookup(type);

        if (!streq(p->type, type) || p->status >= 500 || streq(type, "payload_too_large"))
                fail(resp, 502, "provider_error", "the provider answered with a SOAP Fault");
        else
                fail(resp, p->status, p->type, detail);
}

int soap_forward(SoapForwarder *f, const char *url, const AdapterRequest *req, AdapterResponse *resp)
{
        struct curl_slist *headers = NULL, *l;
        _cleanup_free_ char *env = NULL;
        xmlDoc *doc = NULL;
        uint64_t timeout = f->o.timeout_ms;
        const char *type = NULL;
        char detail[256];
        size_t env_size = 0;
        long code = 0;
        CURLcode rc;
        CURL *c = f->curl;
        int k;

        if (req->body_size == 0)
                return fail(resp, 400, "bad_request", "a SOAP payload is required"), 0;
        if (!streq(req->path, "/") && !isempty(req->path))
                return fail(resp, 400, "bad_request", "SOAP services have no sub-paths"), 0;
        k = soap_envelope_wrap((const char *)req->body, req->body_size, NULL, req->client, req->service,
                               req->xroad_id, req->user_id, req->issue, req->subject, req->purpose, &env,
                               &env_size);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return fail(resp, 400, "bad_request", "the request cannot be forwarded"), 0;

        l = curl_slist_append(headers, "Content-Type: " SOAP_CONTENT_TYPE);
        if (l)
                headers = l;
        l = l ? curl_slist_append(headers, "SOAPAction: \"\"") : NULL;
        if (l)
                headers = l;
        l = l ? curl_slist_append(headers, "Expect:") : NULL;
        if (!l) {
                curl_slist_free_all(headers);
                return -ENOMEM;
        }
        headers = l;
        if (req->timeout_ms > 0)
                timeout = MIN(timeout, req->timeout_ms);

        curl_easy_reset(c);
        f->len = 0;
        f->too_large = false;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
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
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)env_size);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, env);

        rc = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(headers);
        switch (rc) {
        case CURLE_OK:
                break;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_OPERATION_TIMEDOUT:
                return fail(resp, 504, "provider_timeout", "the provider did not answer in time"), 0;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return fail(resp, 503, "provider_unavailable", "the provider could not be reached"), 0;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
                return fail(resp, 503, "provider_unavailable", "the TLS connection to the provider failed"), 0;
        case CURLE_FILESIZE_EXCEEDED:
                return fail(resp, 502, "response_invalid", "response exceeds the size limit"), 0;
        case CURLE_WRITE_ERROR:
                if (f->too_large)
                        return fail(resp, 502, "response_invalid", "response exceeds the size limit"), 0;
                return -ENOMEM;
        default:
                return fail(resp, 502, "provider_error", "the provider's answer could not be read"), 0;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);

        /* the answer is outside input: the same hardened parser as the bus's own */
        k = soap_xml_parse(f->buf, f->len, &(SoapLimits){ .max_size = f->o.max_response }, &doc, &type, NULL, 0);
        if (k < 0)
                return k;
        if (k > 0)
                return fail(resp, 502, "provider_error", "the provider's answer is not SOAP"), 0;
        if (soap_fault_read(doc, &type, detail, sizeof(detail))) {
                xmlFreeDoc(doc);
                from_fault(resp, type, detail);
                return 0;
        }
        if (code < 200 || code > 299) {
                xmlFreeDoc(doc);
                return fail(resp, 502, "provider_error", "the provider answered with an error"), 0;
        }
        {
                char *payload = NULL;
                size_t size = 0;

                k = soap_envelope_payload(doc, &payload, &size);
                xmlFreeDoc(doc);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        return fail(resp, 502, "provider_error", "the provider's answer is not a SOAP envelope"), 0;
                resp->status = 200;
                resp->error = NULL;
                snprintf(resp->content_type, sizeof(resp->content_type), "%s", SOAP_CONTENT_TYPE);
                resp->body = (uint8_t *)payload;
                resp->body_size = size;
        }
        return 0;
}
