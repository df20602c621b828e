/* soap-forward.c: one adapter request to a SOAP backend with libcurl */
#include <errno.h>
#include <stdio.h>

#include <curl/curl.h>
#include <libxml/tree.h>

#include "policy/problem.h"
#include "runtime/adapter-cli.h"
#include "soap/soap-forward.h"

static void fail(AdapterResponse *resp, int status, ProblemType error, const char *detail)
{
        (void)adapter_response_error(resp, status, error, detail);
}

/* The backend's Fault, as the bus's vocabulary: its own problem type passes, the rest is provider_error. */
static void from_fault(AdapterResponse *resp, const Problem *fault)
{
        const ProblemInfo *p = problem_info(fault->type);

        if (fault->type == PROBLEM_PROVIDER_ERROR || p->status >= 500 || fault->type == PROBLEM_PAYLOAD_TOO_LARGE)
                fail(resp, 502, PROBLEM_PROVIDER_ERROR, "the provider answered with a SOAP Fault");
        else
                fail(resp, p->status, fault->type, fault->detail);
}

int soap_forward(AdapterCurl *f, const char *url, const AdapterRequest *req, AdapterResponse *resp)
{
        struct curl_slist *headers = NULL, *l;
        _cleanup_free_ char *env = NULL;
        xmlDoc *doc = NULL;
        Problem fault = {};
        size_t env_size = 0;
        long code = 0;
        CURL *c = f->curl;
        int k;

        if (req->body_size == 0)
                return fail(resp, 400, PROBLEM_BAD_REQUEST, "a SOAP payload is required"), 0;
        if (!streq(req->path, "/") && !isempty(req->path))
                return fail(resp, 400, PROBLEM_BAD_REQUEST, "SOAP services have no sub-paths"), 0;
        k = soap_envelope_wrap((const char *)req->body, req->body_size, NULL, req->client, req->service, req->xroad_id,
                               req->user_id, req->issue, req->subject, req->purpose, &env, &env_size);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return fail(resp, 400, PROBLEM_BAD_REQUEST, "the request cannot be forwarded"), 0;

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
        adapter_curl_prepare(f, url, headers, req->timeout_ms);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)env_size);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, env);

        k = adapter_curl_perform(f, resp);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(headers);
        if (k != 0)
                return MIN(k, 0);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);

        /* the answer is outside input: the same hardened parser as the bus's own */
        k = soap_xml_parse(f->buf, f->len, &(SoapLimits){ .max_size = f->o.max_response }, &doc, NULL);
        if (k < 0)
                return k;
        if (k > 0)
                return fail(resp, 502, PROBLEM_PROVIDER_ERROR, "the provider's answer is not SOAP"), 0;
        if (soap_fault_read(doc, &fault)) {
                xmlFreeDoc(doc);
                from_fault(resp, &fault);
                return 0;
        }
        if (code < 200 || code > 299) {
                xmlFreeDoc(doc);
                return fail(resp, 502, PROBLEM_PROVIDER_ERROR, "the provider answered with an error"), 0;
        }
        {
                char *payload = NULL;
                size_t size = 0;

                k = soap_envelope_payload(doc, &payload, &size);
                xmlFreeDoc(doc);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        return fail(resp, 502, PROBLEM_PROVIDER_ERROR, "the provider's answer is not a SOAP envelope"),
                               0;
                resp->status = 200;
                resp->error = PROBLEM_NONE;
                snprintf(resp->content_type, sizeof(resp->content_type), "%s", SOAP_CONTENT_TYPE);
                resp->body = (uint8_t *)payload;
                resp->body_size = size;
        }
        return 0;
}

static void soap_help(void)
{
        printf("Usage: xbus-adapter-soap --route SERVICE=URL [--route ...] [OPTIONS]\n"
               "Answer bus services from SOAP 1.1 backends: the request's payload goes to URL in a SOAP\n"
               "envelope with the X-Road 4.0 header and the xbus subject and purpose; the answer's Body\n"
               "payload comes back (a SOAP Fault becomes the bus error it names).\n\n" ADAPTER_CLI_HELP_BUS
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
