/* soap-meta.c: the SOAP metaservices' answers (listMethods, allowedMethods, getWsdl) and the generated WSDL */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "crypto/uuid.h"
#include "soap/soap-internal.h"
#include "soap/soap-meta.h"
#include "validate/xsd.h"

#define NS_WSDL "http://schemas.xmlsoap.org/wsdl/"
#define NS_WSDL_SOAP "http://schemas.xmlsoap.org/wsdl/soap/"
#define NS_XS "http://www.w3.org/2001/XMLSchema"
#define WSDL_ENDPOINT "http://example.org/xroad-endpoint" /* PR-META §4: every address becomes this */
#define XROAD_XSD_LOCATION "http://x-road.eu/xsd/xroad.xsd"

static const struct {
        SoapMeta meta;
        const char *code;
} metaservices[] = {
        { SOAP_META_LIST_METHODS, "listMethods" },
        { SOAP_META_ALLOWED_METHODS, "allowedMethods" },
        { SOAP_META_GET_WSDL, "getWsdl" },
};

SoapMeta soap_meta_from_code(const char *code)
{
        for (size_t i = 0; code && i < ELEMENTSOF(metaservices); i++)
                if (streq(metaservices[i].code, code))
                        return metaservices[i].meta;
        return SOAP_META_NONE;
}

/* An answer envelope to `req`: the header echoed with requestHash, and an empty Body. */
static int answer_new(SoapEnvelope *e, const SoapRequest *req)
{
        int k = soap_envelope_new(e, true);

        return k < 0 ? k : soap_echo_header(e, req, true);
}

int soap_meta_list_build(const SoapRequest *req, bool allowed, const RegistryService *const *services, size_t n,
                         char **ret, size_t *ret_size)
{
        SoapEnvelope e = {};
        xmlNode *list;
        int k;

        k = answer_new(&e, req);
        if (k < 0)
                goto finish;
        list = xmlNewChild(e.body, e.xroad,
                           (const xmlChar *)(allowed ? "allowedMethodsResponse" : "listMethodsResponse"), NULL);
        if (!list) {
                k = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < n; i++) {
                k = soap_add_identifier(&e, list, "service", "SERVICE", services[i]->id, NULL);
                if (k < 0)
                        goto finish;
        }
        k = soap_envelope_dump(&e, ret, ret_size);
finish:
        soap_envelope_done(&e);
        return k;
}

int soap_meta_wsdl_read(const SoapRequest *req, char code[65], char version[65], Problem *p)
{
        xmlNode *c = soap_first_element(req->body_payload);

        version[0] = 0;
        if (!soap_node_is(req->body_payload, SOAP_NS_XROAD, "getWsdl") ||
            !soap_node_is(c, SOAP_NS_XROAD, "serviceCode") || soap_simple_text(c, code, 64) < 0 || strchr(code, '/'))
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_REQUEST,
                                        "getWsdl needs xroad:serviceCode in its body");
        c = soap_next_element(c);
        if (soap_node_is(c, SOAP_NS_XROAD, "serviceVersion")) {
                if (soap_simple_text(c, version, 64) < 0)
                        return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_REQUEST,
                                                "xroad:serviceVersion is malformed");
                c = soap_next_element(c);
        }
        if (c)
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_REQUEST,
                                        "getWsdl holds only xroad:serviceCode and xroad:serviceVersion");
        return 0;
}

/* Append `n` bytes to the growing buffer *buf (*len used). Return: 0, -ENOMEM. */
static int append(char **buf, size_t *len, const char *data, size_t n)
{
        char *b = realloc(*buf, *len + n + 1);

        if (!b)
                return -ENOMEM;
        memcpy(b + *len, data, n);
        *len += n;
        b[*len] = 0;
        *buf = b;
        return 0;
}

int soap_meta_wsdl_build(const SoapRequest *req, const RegistryService *svc, const char *code, const char *version,
                         char **ret, size_t *ret_size, char **ret_content_type)
{
        _cleanup_free_ char *answer = NULL, *wsdl = NULL, *out = NULL, *head = NULL, *ctype = NULL;
        char boundary[8 + UUID_STRING_LEN], cid[UUID_STRING_LEN + 1];
        size_t answer_size = 0, wsdl_size = 0, len = 0;
        SoapEnvelope e = {};
        xmlNode *resp;
        int k;

        k = soap_wsdl_generate(svc, &wsdl, &wsdl_size);
        if (k < 0)
                return k;
        k = answer_new(&e, req);
        if (k < 0)
                goto finish;
        /* X-Road's answer is the request's body element renamed (SoapUtils.toResponse) */
        resp = xmlNewChild(e.body, e.xroad, (const xmlChar *)"getWsdlResponse", NULL);
        if (!resp || soap_add_text(resp, e.xroad, "serviceCode", code) < 0 ||
            soap_add_text(resp, e.xroad, "serviceVersion", version) < 0) {
                k = -ENOMEM;
                goto finish;
        }
        k = soap_envelope_dump(&e, &answer, &answer_size);
        if (k < 0)
                goto finish;

        /* a fresh UUID cannot occur in the parts */
        uuid_random(cid);
        snprintf(boundary, sizeof(boundary), "xbus-%s", cid);
        uuid_random(cid);
        k = -ENOMEM;
        if (asprintf(&ctype, "multipart/related; type=\"text/xml\"; charset=UTF-8; boundary=%s", boundary) < 0) {
                ctype = NULL;
                goto finish;
        }
        if (asprintf(&head,
                     "--%s\r\nContent-Type: text/xml; charset=UTF-8\r\n\r\n%s\r\n--%s\r\nContent-Type: text/xml\r\n"
                     "Content-Transfer-Encoding: binary\r\nContent-ID: <wsdl=%s@x-road.eu>\r\n\r\n",
                     boundary, answer, boundary, cid) < 0) {
                head = NULL;
                goto finish;
        }
        if (append(&out, &len, head, strlen(head)) < 0 || append(&out, &len, wsdl, wsdl_size) < 0 ||
            append(&out, &len, "\r\n--", 4) < 0 || append(&out, &len, boundary, strlen(boundary)) < 0 ||
            append(&out, &len, "--\r\n", 4) < 0)
                goto finish;
        *ret = TAKE_PTR(out);
        *ret_size = len;
        *ret_content_type = TAKE_PTR(ctype);
        k = 0;
finish:
        soap_envelope_done(&e);
        return k;
}

/* --- the generated WSDL ------------------------------------------------------------ */

/* An XSD's parsed source: its xs:schema root, target namespace and the element a message names. */
typedef struct Xsd {
        xmlDoc *doc;
        xmlNode *root;
        const char *tns;     /* in doc */
        const char *element; /* the global xs:element chosen, in doc, or NULL */
} Xsd;

static void xsd_done(Xsd *x)
{
        if (x->doc)
                xmlFreeDoc(x->doc);
        *x = (Xsd){};
}

/* The value of the attribute `name` of `n` (no namespace), borrowed from the tree, or NULL. */
static const char *attribute(xmlNode *n, const char *name)
{
        xmlAttr *a = xmlHasProp(n, (const xmlChar *)name);

        return a && a->children && a->children->type == XML_TEXT_NODE ? (const char *)a->children->content : NULL;
}

/*
 * The compiled XSD's source, parsed (hardened, generous limits: it is the
 * operator's file), and its global element named `want`, else its first.
 * Return: 0, -EINVAL (not a schema with a target namespace), -ENOMEM.
 */
static int xsd_open(const void *compiled, const char *want, Xsd *x)
{
        static const SoapLimits limits = {
                .max_size = MIB(4), .max_depth = 64, .max_nodes = 1000000, .max_text = MIB(1)
        };
        const char *src;
        size_t size;
        int k;

        *x = (Xsd){};
        if (!compiled)
                return -EINVAL;
        src = xsd_schema_source(compiled, &size);
        k = soap_xml_parse(src, size, &limits, &x->doc, NULL);
        if (k != 0)
                return k < 0 ? k : -EINVAL;
        x->root = xmlDocGetRootElement(x->doc);
        if (!soap_node_is(x->root, NS_XS, "schema"))
                return -EINVAL;
        x->tns = attribute(x->root, "targetNamespace");
        if (isempty(x->tns))
                return -EINVAL;
        for (xmlNode *c = soap_first_element(x->root); c; c = soap_next_element(c)) {
                const char *name = soap_node_is(c, NS_XS, "element") ? attribute(c, "name") : NULL;

                if (!name)
                        continue;
                if (!x->element || (want && streq(name, want) && !streq(x->element, want)))
                        x->element = name;
        }
        return 0;
}

typedef struct Wsdl {
        xmlDoc *doc;
        xmlNode *defs;
        xmlNsPtr wsdl, soap, xs, xrd, tns, resp;
} Wsdl;

static xmlNode *wsdl_add(xmlNode *parent, xmlNsPtr ns, const char *name, const char *const *attrs)
{
        xmlNode *n = xmlNewChild(parent, ns, (const xmlChar *)name, NULL);

        for (size_t i = 0; n && attrs && attrs[i]; i += 2)
                if (!xmlNewProp(n, (const xmlChar *)attrs[i], (const xmlChar *)attrs[i + 1]))
                        return NULL;
        return n;
}

#define ADD(parent, ns, name, ...) wsdl_add(parent, ns, name, (const char *const[]){ __VA_ARGS__, NULL })

/* The X-Road header fields an operation's messages carry (PR-MESS §2.2). */
static const char *const header_parts[] = { "client", "service", "id", "userId", "issue", "protocolVersion" };

/* wsdl:types: the service's XSDs as they are, a declaration of the answer when it has none, X-Road's schema. */
static int wsdl_types(Wsdl *w, const Xsd *req, const Xsd *resp, const char *code)
{
        xmlNode *types = ADD(w->defs, w->wsdl, "types", NULL), *s, *copy;
        const Xsd *x[] = { req, resp };
        char name[80];

        if (!types)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(x); i++) {
                if (!x[i]->doc)
                        continue;
                copy = soap_copy_standalone(x[i]->root, w->doc);
                if (!copy || !xmlAddChild(types, copy)) {
                        xmlFreeNode(copy);
                        return -ENOMEM;
                }
        }
        s = ADD(types, w->xs, "schema", "targetNamespace", req->tns, "elementFormDefault", "qualified");
        if (!s || !ADD(s, w->xs, "import", "namespace", SOAP_NS_XROAD, "schemaLocation", XROAD_XSD_LOCATION))
                return -ENOMEM;
        if (!resp->doc) {
                snprintf(name, sizeof(name), "%sResponse", code);
                if (!ADD(s, w->xs, "element", "name", name))
                        return -ENOMEM;
        }
        return 0;
}

static int wsdl_messages(Wsdl *w, const char *code, const char *req_qname, const char *resp_qname)
{
        char name[80];
        xmlNode *m;

        snprintf(name, sizeof(name), "%sResponse", code);
        if (!(m = ADD(w->defs, w->wsdl, "message", "name", code)) ||
            !ADD(m, w->wsdl, "part", "name", "body", "element", req_qname) ||
            !(m = ADD(w->defs, w->wsdl, "message", "name", name)) ||
            !ADD(m, w->wsdl, "part", "name", "body", "element", resp_qname) ||
            !(m = ADD(w->defs, w->wsdl, "message", "name", "requestheader")))
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(header_parts); i++) {
                char element[32];
                snprintf(element, sizeof(element), "xrd:%s", header_parts[i]);
                if (!ADD(m, w->wsdl, "part", "name", header_parts[i], "element", element))
                        return -ENOMEM;
        }
        return 0;
}

/* soap:body and the X-Road header parts of one direction of the operation. */
static int wsdl_io(Wsdl *w, xmlNode *op, const char *direction)
{
        xmlNode *io = ADD(op, w->wsdl, direction, NULL);

        if (!io || !ADD(io, w->soap, "body", "use", "literal"))
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(header_parts); i++)
                if (!ADD(io, w->soap, "header", "message", "tns:requestheader", "part", header_parts[i], "use",
                         "literal"))
                        return -ENOMEM;
        return 0;
}

static int wsdl_operation(Wsdl *w, const char *code)
{
        char port_type[80], binding[80], service[80], port[80], in[80], out[80];
        xmlNode *pt, *op, *b, *s, *p;

        snprintf(port_type, sizeof(port_type), "%sPortType", code);
        snprintf(binding, sizeof(binding), "%sBinding", code);
        snprintf(service, sizeof(service), "%sService", code);
        snprintf(port, sizeof(port), "%sPort", code);
        snprintf(in, sizeof(in), "tns:%s", code);
        snprintf(out, sizeof(out), "tns:%sResponse", code);
        if (!(pt = ADD(w->defs, w->wsdl, "portType", "name", port_type)) ||
            !(op = ADD(pt, w->wsdl, "operation", "name", code)) || !ADD(op, w->wsdl, "input", "message", in) ||
            !ADD(op, w->wsdl, "output", "message", out))
                return -ENOMEM;
        snprintf(port_type, sizeof(port_type), "tns:%sPortType", code);
        if (!(b = ADD(w->defs, w->wsdl, "binding", "name", binding, "type", port_type)) ||
            !ADD(b, w->soap, "binding", "style", "document", "transport", "http://schemas.xmlsoap.org/soap/http") ||
            !(op = ADD(b, w->wsdl, "operation", "name", code)) ||
            !ADD(op, w->soap, "operation", "soapAction", "", "style", "document") || wsdl_io(w, op, "input") < 0 ||
            wsdl_io(w, op, "output") < 0)
                return -ENOMEM;
        snprintf(binding, sizeof(binding), "tns:%sBinding", code);
        if (!(s = ADD(w->defs, w->wsdl, "service", "name", service)) ||
            !(p = ADD(s, w->wsdl, "port", "name", port, "binding", binding)) ||
            !ADD(p, w->soap, "address", "location", WSDL_ENDPOINT))
                return -ENOMEM;
        return 0;
}

int soap_wsdl_generate(const RegistryService *svc, char **ret, size_t *ret_size)
{
        _cleanup_free_ char *response = NULL;
        char req_qname[160], resp_qname[160];
        Xsd req = {}, resp = {};
        Wsdl w = {};
        SoapEnvelope dump;
        int k;

        if (!svc || !svc->code)
                return -EINVAL;
        if (asprintf(&response, "%sResponse", svc->code) < 0) {
                response = NULL;
                return -ENOMEM;
        }
        k = xsd_open(svc->request_xsd, svc->code, &req);
        if (k == 0 && svc->response_xsd)
                k = xsd_open(svc->response_xsd, response, &resp);
        if (k == 0 && (!req.element || (resp.doc && !resp.element)))
                k = -EINVAL;
        if (k < 0)
                goto finish;
        snprintf(req_qname, sizeof(req_qname), "tns:%s", req.element);
        snprintf(resp_qname, sizeof(resp_qname), "%s:%s", resp.doc && !streq(resp.tns, req.tns) ? "resp" : "tns",
                 resp.doc ? resp.element : response);

        k = -ENOMEM;
        w.doc = xmlNewDoc((const xmlChar *)"1.0");
        w.defs = w.doc ? xmlNewDocNode(w.doc, NULL, (const xmlChar *)"definitions", NULL) : NULL;
        if (!w.defs)
                goto finish;
        xmlDocSetRootElement(w.doc, w.defs);
        w.wsdl = xmlNewNs(w.defs, (const xmlChar *)NS_WSDL, (const xmlChar *)"wsdl");
        w.soap = xmlNewNs(w.defs, (const xmlChar *)NS_WSDL_SOAP, (const xmlChar *)"soap");
        w.xs = xmlNewNs(w.defs, (const xmlChar *)NS_XS, (const xmlChar *)"xs");
        w.xrd = xmlNewNs(w.defs, (const xmlChar *)SOAP_NS_XROAD, (const xmlChar *)"xrd");
        w.tns = xmlNewNs(w.defs, (const xmlChar *)req.tns, (const xmlChar *)"tns");
        if (!w.wsdl || !w.soap || !w.xs || !w.xrd || !w.tns)
                goto finish;
        if (resp.doc && !streq(resp.tns, req.tns) &&
            !(w.resp = xmlNewNs(w.defs, (const xmlChar *)resp.tns, (const xmlChar *)"resp")))
                goto finish;
        xmlSetNs(w.defs, w.wsdl);
        if (!xmlNewProp(w.defs, (const xmlChar *)"name", (const xmlChar *)svc->code) ||
            !xmlNewProp(w.defs, (const xmlChar *)"targetNamespace", (const xmlChar *)req.tns))
                goto finish;
        if (wsdl_types(&w, &req, &resp, svc->code) < 0 || wsdl_messages(&w, svc->code, req_qname, resp_qname) < 0 ||
            wsdl_operation(&w, svc->code) < 0)
                goto finish;
        dump = (SoapEnvelope){ .doc = w.doc };
        k = soap_envelope_dump(&dump, ret, ret_size);
finish:
        if (w.doc)
                xmlFreeDoc(w.doc);
        xsd_done(&req);
        xsd_done(&resp);
        return k;
}
