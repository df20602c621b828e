/* soap-forward.c: one adapter request to a SOAP backend with libcurl */
#include <errno.h>
#include <stdio.h>

#include <curl/curl.h>

#include "policy/problem.h"
#include "runtime/adapter-cli.h"
#include "soap/soap-forward.h"

static void fail(AdapterResponse *resp, int status, ProblemType error, const char *detail)
{
        (void)adapter_response_error(resp, status, error, detail);
}

/* The headers of the call: the envelope's type, the client's SOAPAction (or ""), no Expect. */
static struct curl_slist *call_headers(const AdapterRequest *req)
{
        _cleanup_free_ char *action = NULL;
        struct curl_slist *h = NULL, *l;

        if (asprintf(&action, "SOAPAction: %s", req->soap_action ? req->soap_action : "\"\"") < 0)
                return NULL;
        l = curl_slist_append(h, "Content-Type: " SOAP_CONTENT_TYPE);
        if (l)
                h = l;
        l = l ? curl_slist_append(h, action) : NULL;
        if (l)
                h = l;
        l = l ? curl_slist_append(h, "Expect:") : NULL;
        if (!l) {
                curl_slist_free_all(h);
                return NULL;
        }
        return l;
}

int soap_forward(AdapterCurl *f, const char *url, const AdapterRequest *req, AdapterResponse *resp)
{
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *env = NULL;
        size_t env_size = 0;
        long code = 0;
        CURL *c = f->curl;
        int k;

        if (req->body_size == 0)
                return fail(resp, 400, PROBLEM_BAD_REQUEST, "a SOAP payload is required"), 0;
        if (!streq(req->path, "/") && !isempty(req->path))
                return fail(resp, 400, PROBLEM_BAD_REQUEST, "SOAP services have no sub-paths"), 0;
        k = soap_envelope_wrap((const char *)req->body, req->body_size, NULL,
                               &(SoapWrapHeader){ .client = req->client,
                                                  .service = req->service,
                                                  .id = req->xroad_id,
                                                  .user_id = req->user_id,
                                                  .issue = req->issue,
                                                  .represented_party = req->represented_party,
                                                  .subject = req->subject,
                                                  .purpose = req->purpose },
                               &env, &env_size);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return fail(resp, 400, PROBLEM_BAD_REQUEST, "the request cannot be forwarded"), 0;

        headers = call_headers(req);
        if (!headers)
                return -ENOMEM;
        adapter_curl_prepare(f, url, headers, req->timeout_ms);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)env_size);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, env);

        k = adapter_curl_perform(f, resp);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        if (k != 0)
                return MIN(k, 0);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);

        /* the backend's answer as it is: the node parses it with its hardened parser and relays a Fault */
        resp->status = code >= 100 && code <= 599 ? (int)code : 502;
        resp->error = PROBLEM_NONE;
        snprintf(resp->content_type, sizeof(resp->content_type), "%s", SOAP_CONTENT_TYPE);
        adapter_curl_take_body(f, &resp->body, &resp->body_size);
        return 0;
}

static void soap_help(void)
{
        printf("Usage: xbus-adapter-soap --route SERVICE=URL [--route ...] [OPTIONS]\n"
               "Answer bus services from SOAP 1.1 backends: the request's payload goes to URL in a SOAP\n"
               "envelope with the X-Road 4.0 header and the xbus subject and purpose; the backend's answer\n"
               "goes back to the bus as it is (the node relays a SOAP Fault unchanged).\n\n" ADAPTER_CLI_HELP_BUS
               "  --route SERVICE=URL       serve SERVICE from URL (http or https; repeatable, at most %d)\n"
               "  --workers N               worker connections (default 4)\n"
               "  --timeout MS              cap on one backend call (default %d)\n"
               "  --max-response BYTES      largest backend answer accepted (default %u)\n"
               "  --cacert FILE             CAs for https backends (default: the system's)\n"
               "  --cert FILE --key FILE    client certificate for https backends that ask for one\n"
               "  --name NAME               instance name announced to the bus (default soap)\n" ADAPTER_CLI_HELP_TAIL,
               PROTO_MAX_SERVICES, SOAP_FORWARD_DEFAULT_TIMEOUT_MS, SOAP_FORWARD_DEFAULT_MAX_RESPONSE);
}

const AdapterForwardKind soap_forward_kind = {
        .kind = "soap",
        .ident = "xbus-adapter-soap",
        .help = soap_help,
        .timeout_ms = SOAP_FORWARD_DEFAULT_TIMEOUT_MS,
        .max_response = SOAP_FORWARD_DEFAULT_MAX_RESPONSE,
        .url_valid = adapter_curl_url_valid,
        .global_init = soap_global_init, /* libxml2 and xmlsec */
        .libraries = "libxml2/xmlsec or libcurl",
        .forward = soap_forward,
};
