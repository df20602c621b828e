/* sample-soap.c: SOAP renderings of the citizen and tax-status sample services */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "sample/sample-service.h"
#include "sample/sample-soap.h"
#include "soap/soap.h"

typedef struct Rendering {
        const char *service;
        const char *ns, *prefix;
        const char *request;  /* the Body element of a request */
        const char *response; /* the root element of the rendering */
} Rendering;

static const Rendering renderings[] = {
        { "VN/GOV/BCA/population/citizen", SAMPLE_SOAP_NS_CITIZEN, "pop", "citizen", "citizenResponse" },
        { "VN/GOV/BTC/tax/tax-status", SAMPLE_SOAP_NS_TAX_STATUS, "tax", "tax-status", "tax-statusResponse" },
};

static const Rendering *rendering_find(const char *service)
{
        for (size_t i = 0; i < ELEMENTSOF(renderings); i++)
                if (streq(renderings[i].service, service))
                        return &renderings[i];
        return NULL;
}

/* Members of `obj` as children of `parent` (depth-limited; the sample answers are two levels deep). */
static int render_object(xmlNode *parent, xmlNsPtr ns, json_t *obj, unsigned depth)
{
        const char *key;
        json_t *v;

        if (depth > 8)
                return -EINVAL;
        json_object_foreach(obj, key, v) {
                char buf[64];
                const char *text = NULL;
                xmlNode *n;

                if (json_is_null(v))
                        continue;
                if (xmlValidateNCName((const xmlChar *)key, 0) != 0)
                        return -EINVAL;
                n = xmlNewChild(parent, ns, (const xmlChar *)key, NULL);
                if (!n)
                        return -ENOMEM;
                if (json_is_object(v)) {
                        int r = render_object(n, ns, v, depth + 1);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (json_is_string(v))
                        text = json_string_value(v);
                else if (json_is_integer(v)) {
                        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                        text = buf;
                } else if (json_is_real(v)) {
                        snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
                        text = buf;
                } else if (json_is_boolean(v))
                        text = json_is_true(v) ? "true" : "false";
                else
                        return -EINVAL; /* arrays: not in these two services */
                if (!xmlAddChild(n, xmlNewDocText(n->doc, (const xmlChar *)text)))
                        return -ENOMEM;
        }
        return 0;
}

int sample_soap_render(const char *service, const char *json, size_t size, char **ret, size_t *ret_size)
{
        const Rendering *rd = rendering_find(service);
        json_auto_t *j = NULL;
        xmlDocPtr doc;
        xmlNode *root;
        xmlNsPtr ns;
        xmlBufferPtr buf = NULL;
        int r = -ENOMEM, len;

        if (!rd)
                return -ENOENT;
        j = json_loadb(json, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j))
                return -EINVAL;
        doc = xmlNewDoc((const xmlChar *)"1.0");
        if (!doc)
                return -ENOMEM;
        root = xmlNewDocNode(doc, NULL, (const xmlChar *)rd->response, NULL);
        if (!root)
                goto finish;
        xmlDocSetRootElement(doc, root);
        ns = xmlNewNs(root, (const xmlChar *)rd->ns, (const xmlChar *)rd->prefix);
        if (!ns)
                goto finish;
        xmlSetNs(root, ns);
        r = render_object(root, ns, j, 0);
        if (r < 0)
                goto finish;
        r = -ENOMEM;
        buf = xmlBufferCreate();
        if (!buf)
                goto finish;
        len = xmlNodeDump(buf, doc, root, 0, 0);
        if (len < 0)
                goto finish;
        *ret = strndup((const char *)xmlBufferContent(buf), (size_t)len);
        if (!*ret)
                goto finish;
        *ret_size = (size_t)len;
        r = 0;
finish:
        if (buf)
                xmlBufferFree(buf);
        xmlFreeDoc(doc);
        return r;
}

int sample_soap_fault(ProblemType type, const char *detail, char **ret, size_t *ret_size)
{
        const ProblemInfo *p = problem_info(type);
        char code[64];

        snprintf(code, sizeof(code), "%s.%s", p->status < 500 ? "Client" : "Server", p->name);
        return soap_fault_build(code, detail ? detail : p->title, NULL, ret, ret_size);
}

static int fault(ProblemType type, const char *detail, char **ret, size_t *ret_size, int *ret_status)
{
        *ret_status = 500;
        return sample_soap_fault(type, detail, ret, ret_size);
}

int sample_soap_answer(DatasetReader *r, const char *data, size_t size, char **ret, size_t *ret_size, int *ret_status)
{
        _cleanup_(soap_request_freep) SoapRequest *req = NULL, *partial = NULL;
        _cleanup_free_ char *payload = NULL;
        const SoapLimits limits = { .max_size = SAMPLE_SOAP_MAX_REQUEST };
        const Rendering *rd;
        Problem why = {};
        size_t payload_size = 0;
        SampleAnswer a;
        int k;

        k = soap_request_parse(data, size, &limits, &req, &partial, &why);
        if (k < 0)
                return k;
        if (k > 0)
                return fault(why.type, why.detail, ret, ret_size, ret_status);
        rd = rendering_find(req->service);
        if (!rd)
                return fault(PROBLEM_SERVICE_UNKNOWN, "this service has no SOAP rendering", ret, ret_size, ret_status);
        if (!soap_node_is(req->body_payload, rd->ns, rd->request) || req->body_payload->children)
                return fault(PROBLEM_BAD_REQUEST, "the Body must be the service's empty request element", ret, ret_size,
                             ret_status);

        k = sample_service_answer(r,
                                  &(SampleRequest){ .service = req->service,
                                                    .method = "GET",
                                                    .path = "/",
                                                    .subject = req->subject[0] ? req->subject : NULL },
                                  &a);
        if (k < 0)
                return k;
        if (a.status != 200) {
                k = fault(a.error ? a.error : PROBLEM_PROVIDER_ERROR, a.detail, ret, ret_size, ret_status);
                sample_answer_done(&a);
                return k;
        }
        k = sample_soap_render(req->service, a.body, a.body_size, &payload, &payload_size);
        sample_answer_done(&a);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return -EIO;
        k = soap_response_build(req, payload, payload_size, NULL, ret, ret_size, NULL);
        if (k < 0)
                return k;
        if (k > 0)
                return -EIO;
        *ret_status = 200;
        return 0;
}
