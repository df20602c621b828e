/* soap.c: SOAP 1.1 envelopes: the X-Road header profile, requests, responses and faults */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include <libxml/parser.h>
#include <libxml/xmlsave.h>
#include <openssl/evp.h>

#include "crypto/hash.h"
#include "policy/problem.h"
#include "soap/soap-dsig.h"
#include "soap/soap.h"

static bool is_blank(const xmlChar *s)
{
        for (; s && *s; s++)
                if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
                        return false;
        return true;
}

/* Only elements, white space and comments among `parent`'s children. */
static bool only_elements(xmlNode *parent)
{
        for (xmlNode *c = parent->children; c; c = c->next) {
                if (c->type == XML_ELEMENT_NODE || c->type == XML_COMMENT_NODE)
                        continue;
                if (c->type == XML_TEXT_NODE && is_blank(c->content))
                        continue;
                return false;
        }
        return true;
}

/*
 * The text of a simple element: text (and CDATA) children only, 1..max bytes,
 * no control characters (libxml2 has checked the UTF-8). Return: 0, -EINVAL.
 */
static int simple_text(xmlNode *n, char *out, size_t max)
{
        size_t len = 0;

        for (xmlNode *c = n->children; c; c = c->next) {
                size_t k;

                if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
                        return -EINVAL;
                k = strlen((const char *)c->content);
                if (k > max - len)
                        return -EINVAL;
                memcpy(out + len, c->content, k);
                len += k;
        }
        out[len] = 0;
        if (len == 0)
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
                        return -EINVAL;
        return 0;
}

static bool token_ok(const char *s, size_t max, bool allow_colon_dot)
{
        size_t n = strlen(s);

        if (n == 0 || n > max)
                return false;
        for (; *s; s++) {
                char c = *s;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || (allow_colon_dot && (c == '.' || c == ':')))
                        continue;
                return false;
        }
        return true;
}

/* An identifier part (instance, class, member, subsystem, service code): no '/', 1..64. */
static bool id_part_ok(const char *s)
{
        return token_ok(s, 64, true);
}

/* --- the X-Road identifiers ------------------------------------------------ */

static const char *const client_parts[] = { "xRoadInstance", "memberClass", "memberCode", "subsystemCode" };
static const char *const service_parts[] = { "xRoadInstance", "memberClass", "memberCode", "subsystemCode",
                                             "serviceCode" };

/* <xroad:client id:objectType="SUBSYSTEM"> or <xroad:service id:objectType="SERVICE"> into "a/b/c/...". */
static int read_identifier(xmlNode *n, const char *object_type, const char *const *parts, size_t n_parts, char *out,
                           size_t out_size, char *version, size_t version_size, const char **why)
{
        xmlChar *ot = xmlGetNsProp(n, (const xmlChar *)"objectType", (const xmlChar *)SOAP_NS_ID);
        xmlNode *c = soap_first_element(n);
        size_t len = 0;

        if (!ot || !streq((const char *)ot, object_type)) {
                xmlFree(ot);
                *why = streq(object_type, "SUBSYSTEM") ? "xroad:client must have id:objectType=\"SUBSYSTEM\""
                                                       : "xroad:service must have id:objectType=\"SERVICE\"";
                return -EINVAL;
        }
        xmlFree(ot);
        if (!only_elements(n)) {
                *why = "an X-Road identifier has text outside its parts";
                return -EINVAL;
        }
        for (size_t i = 0; i < n_parts; i++, c = soap_next_element(c)) {
                char v[66];

                if (!soap_node_is(c, SOAP_NS_ID, parts[i]) || simple_text(c, v, 65) < 0 || !id_part_ok(v)) {
                        *why = "an X-Road identifier part is missing, out of order or malformed";
                        return -EINVAL;
                }
                if (len + strlen(v) + 2 > out_size) {
                        *why = "an X-Road identifier is too long";
                        return -EINVAL;
                }
                len += (size_t)snprintf(out + len, out_size - len, "%s%s", i ? "/" : "", v);
        }
        if (version && c && soap_node_is(c, SOAP_NS_ID, "serviceVersion")) {
                if (simple_text(c, version, version_size - 1) < 0 || !id_part_ok(version)) {
                        *why = "id:serviceVersion is malformed";
                        return -EINVAL;
                }
                c = soap_next_element(c);
        }
        if (c) {
                *why = "an X-Road identifier has unexpected parts";
                return -EINVAL;
        }
        return 0;
}

/* --- requests ------------------------------------------------------------------ */

SoapRequest *soap_request_free(SoapRequest *r)
{
        if (!r)
                return NULL;
        if (r->doc)
                xmlFreeDoc(r->doc);
        free(r->consent);
        free(r->payload_xml);
        free(r);
        return NULL;
}

static int must_understand(xmlNode *n)
{
        xmlChar *mu = xmlGetNsProp(n, (const xmlChar *)"mustUnderstand", (const xmlChar *)SOAP_NS_ENV);
        bool yes = mu && (streq((const char *)mu, "1") || streq((const char *)mu, "true"));

        xmlFree(mu);
        return yes;
}

/*
 * Serialise `node` on its own: a copy in a new document, with every namespace
 * in scope declared on it (QNames in content keep their meaning).
 */
static int serialize_standalone(xmlNode *node, char **ret, size_t *ret_size)
{
        xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
        xmlNsPtr *inscope = NULL;
        xmlBufferPtr buf = NULL;
        xmlNode *copy;
        char *text;
        int r = -ENOMEM, len;

        if (!d)
                return -ENOMEM;
        copy = xmlDocCopyNode(node, d, 1);
        if (!copy)
                goto finish;
        xmlDocSetRootElement(d, copy);
        inscope = xmlGetNsList(node->doc, node);
        for (xmlNsPtr *ns = inscope; ns && *ns; ns++) {
                bool declared = false;
                for (xmlNsPtr have = copy->nsDef; have; have = have->next)
                        if (xmlStrEqual(have->prefix, (*ns)->prefix))
                                declared = true;
                if (!declared && !xmlNewNs(copy, (*ns)->href, (*ns)->prefix))
                        goto finish;
        }
        buf = xmlBufferCreate();
        if (!buf)
                goto finish;
        len = xmlNodeDump(buf, d, copy, 0, 0);
        if (len < 0)
                goto finish;
        text = malloc((size_t)len + 1);
        if (!text)
                goto finish;
        memcpy(text, xmlBufferContent(buf), (size_t)len);
        text[len] = 0;
        *ret = text;
        *ret_size = (size_t)len;
        r = 0;
finish:
        if (buf)
                xmlBufferFree(buf);
        xmlFree(inscope);
        xmlFreeDoc(d);
        return r;
}

/* Envelope = [Header] Body. Return: 0, or -EINVAL with *why. */
static int split_envelope(xmlDoc *doc, xmlNode **ret_header, xmlNode **ret_body, const char **why)
{
        xmlNode *env = xmlDocGetRootElement(doc), *c;

        *ret_header = *ret_body = NULL;
        if (soap_node_is(env, SOAP_NS_ENV12, "Envelope")) {
                *why = "SOAP 1.2 is not supported: use SOAP 1.1";
                return -EINVAL;
        }
        if (!soap_node_is(env, SOAP_NS_ENV, "Envelope")) {
                *why = "the document is not a SOAP 1.1 Envelope";
                return -EINVAL;
        }
        if (!only_elements(env)) {
                *why = "the Envelope has text outside its Header and Body";
                return -EINVAL;
        }
        c = soap_first_element(env);
        if (soap_node_is(c, SOAP_NS_ENV, "Header")) {
                *ret_header = c;
                c = soap_next_element(c);
        }
        if (!soap_node_is(c, SOAP_NS_ENV, "Body")) {
                *why = "the Envelope has no Body after its Header";
                return -EINVAL;
        }
        *ret_body = c;
        if (soap_next_element(c)) {
                *why = "the Envelope has elements after its Body";
                return -EINVAL;
        }
        return 0;
}

typedef struct Seen {
        bool client, service, id, user_id, issue, version, subject, purpose, consent, signature;
} Seen;

static int read_header(SoapRequest *r, xmlNode *header, Seen *seen, const char **why)
{
        if (!only_elements(header)) {
                *why = "the Header has text outside its elements";
                return -EINVAL;
        }
        for (xmlNode *h = soap_first_element(header); h; h = soap_next_element(h)) {
                const char *ns = h->ns && h->ns->href ? (const char *)h->ns->href : "";
                const char *name = (const char *)h->name;
                bool *flag = NULL;
                int k = 0;

                if (streq(ns, SOAP_NS_XROAD)) {
                        if (streq(name, "client")) {
                                flag = &seen->client;
                                if (!*flag)
                                        k = read_identifier(h, "SUBSYSTEM", client_parts, ELEMENTSOF(client_parts),
                                                            r->client, sizeof(r->client), NULL, 0, why);
                        } else if (streq(name, "service")) {
                                flag = &seen->service;
                                if (!*flag)
                                        k = read_identifier(h, "SERVICE", service_parts, ELEMENTSOF(service_parts),
                                                            r->service, sizeof(r->service), r->service_version,
                                                            sizeof(r->service_version), why);
                        } else if (streq(name, "id")) {
                                flag = &seen->id;
                                if (!*flag && (simple_text(h, r->id, SOAP_MAX_ID + 1) < 0 ||
                                               !token_ok(r->id, SOAP_MAX_ID, true))) {
                                        r->id[0] = 0;
                                        *why = "xroad:id must be 1..128 characters of [A-Za-z0-9._:-]";
                                        k = -EINVAL;
                                }
                        } else if (streq(name, "userId")) {
                                flag = &seen->user_id;
                                if (!*flag && simple_text(h, r->user_id, SOAP_MAX_TEXT_HEADER) < 0) {
                                        *why = "xroad:userId must be printable text of 1..256 bytes";
                                        k = -EINVAL;
                                }
                        } else if (streq(name, "issue")) {
                                flag = &seen->issue;
                                if (!*flag && simple_text(h, r->issue, SOAP_MAX_TEXT_HEADER) < 0) {
                                        *why = "xroad:issue must be printable text of 1..256 bytes";
                                        k = -EINVAL;
                                }
                        } else if (streq(name, "protocolVersion")) {
                                flag = &seen->version;
                                if (!*flag &&
                                    (simple_text(h, r->protocol_version, sizeof(r->protocol_version) - 1) < 0 ||
                                     !streq(r->protocol_version, SOAP_PROTOCOL_VERSION))) {
                                        *why = "xroad:protocolVersion must be 4.0";
                                        k = -EINVAL;
                                }
                        } else {
                                *why = "the Header has an X-Road element this bus does not understand";
                                return -EINVAL;
                        }
                } else if (streq(ns, SOAP_NS_XBUS)) {
                        if (streq(name, "subject")) {
                                flag = &seen->subject;
                                if (!*flag &&
                                    (simple_text(h, r->subject, SOAP_MAX_SUBJECT) < 0 ||
                                     !token_ok(r->subject, SOAP_MAX_SUBJECT, false) || strchr(r->subject, '_'))) {
                                        *why = "xbus:subject must be 1..64 characters of [0-9A-Za-z-]";
                                        k = -EINVAL;
                                }
                        } else if (streq(name, "purpose")) {
                                flag = &seen->purpose;
                                if (!*flag && (simple_text(h, r->purpose, SOAP_MAX_PURPOSE) < 0 ||
                                               !token_ok(r->purpose, SOAP_MAX_PURPOSE, true))) {
                                        *why = "xbus:purpose must be 1..64 characters of [A-Za-z0-9._:-]";
                                        k = -EINVAL;
                                }
                        } else if (streq(name, "consent")) {
                                flag = &seen->consent;
                                if (!*flag) {
                                        r->consent = malloc(SOAP_MAX_CONSENT + 1);
                                        if (!r->consent)
                                                return -ENOMEM;
                                        if (simple_text(h, r->consent, SOAP_MAX_CONSENT) < 0) {
                                                r->consent = mfree(r->consent);
                                                *why = "xbus:consent must be printable text of 1..8192 bytes";
                                                k = -EINVAL;
                                        }
                                }
                        } else {
                                *why = "the Header has an xbus element this bus does not understand";
                                return -EINVAL;
                        }
                } else if (streq(ns, SOAP_NS_DSIG) && streq(name, "Signature")) {
                        flag = &seen->signature;
                } else if (must_understand(h)) {
                        *why = "the Header has a mustUnderstand element this bus does not understand";
                        return -EINVAL;
                }
                if (k == -ENOMEM)
                        return k;
                if (flag && *flag) {
                        *why = "an X-Road, xbus or Signature header element is repeated";
                        return -EINVAL;
                }
                if (k < 0)
                        return k;
                if (flag)
                        *flag = true;
        }
        return 0;
}

int soap_request_parse(const char *data, size_t size, const SoapLimits *l, SoapRequest **ret, SoapRequest **ret_partial,
                       Problem *ret_problem)
{
        _cleanup_(soap_request_freep) SoapRequest *r = NULL;
        const char *why = NULL;
        Seen seen = {};
        int k;

        if (ret_partial)
                *ret_partial = NULL;
        if (!ret)
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        k = soap_xml_parse(data, size, l, &r->doc, ret_problem);
        if (k != 0)
                return k;
        hash_sha256_hex(data, size, r->request_hash);

        if (split_envelope(r->doc, &r->header, &r->body, &why) < 0)
                goto refused;
        if (!r->header) {
                why = "the Envelope has no Header: the X-Road header is required";
                goto refused;
        }
        k = read_header(r, r->header, &seen, &why);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                goto refused;
        r->signed_request = seen.signature;
        if (!seen.client || !seen.service || !seen.id || !seen.version) {
                why = "the Header needs xroad:client, xroad:service, xroad:id and xroad:protocolVersion";
                goto refused;
        }
        if (!only_elements(r->body)) {
                why = "the Body has text outside its payload element";
                goto refused;
        }
        r->body_payload = soap_first_element(r->body);
        if (!r->body_payload) {
                why = "the Body has no payload element";
                goto refused;
        }
        if (soap_next_element(r->body_payload)) {
                why = "the Body has more than one payload element";
                goto refused;
        }
        if (soap_node_is(r->body_payload, SOAP_NS_ENV, "Fault")) {
                why = "a request cannot be a Fault";
                goto refused;
        }
        k = serialize_standalone(r->body_payload, &r->payload_xml, &r->payload_size);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;

refused:
        if (ret_partial && r->id[0])
                *ret_partial = TAKE_PTR(r);
        return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "%s", why);
}

int soap_request_validate(const SoapRequest *r, const XsdSchema *schema, Problem *ret_problem)
{
        XsdErrors errs;
        int k;

        if (!r || !r->body_payload)
                return -EINVAL;
        if (!schema)
                return 0;
        xsd_errors_init(&errs, 1);
        k = xsd_validate_element(schema, r->body_payload, &errs);
        if (k == 0 || k < 0) {
                xsd_errors_clear(&errs);
                return k;
        }
        k = soap_refuse(ret_problem, PROBLEM_REQUEST_INVALID,
                        "the Body does not match the service's request schema: %s",
                        errs.n ? errs.items[0].message : "invalid");
        xsd_errors_clear(&errs);
        return k;
}

int soap_request_verify(const SoapRequest *r, const SoapTrust *t, SoapSignerInfo *ret_info, Problem *ret_problem)
{
        SoapSignerInfo info;
        int k;

        if (!r || !r->doc)
                return -EINVAL;
        k = soap_dsig_verify(r->doc, r->header, r->body, t, &info, ret_problem);
        if (k != 0)
                return k;
        if (!streq(info.cn, r->client))
                return soap_refuse(ret_problem, PROBLEM_CLIENT_MISMATCH,
                                   "the signing certificate does not belong to the xroad:client");
        if (ret_info)
                *ret_info = info;
        return 0;
}

/* --- building envelopes ------------------------------------------------------ */

typedef struct Envelope {
        xmlDocPtr doc;
        xmlNode *env, *header, *body;
        xmlNsPtr soap, xroad, id, xbus, wsu;
} Envelope;

static void envelope_done(Envelope *e)
{
        if (e->doc)
                xmlFreeDoc(e->doc);
        *e = (Envelope){};
}

static int envelope_new(Envelope *e, bool with_header)
{
        *e = (Envelope){};
        e->doc = xmlNewDoc((const xmlChar *)"1.0");
        if (!e->doc)
                return -ENOMEM;
        e->env = xmlNewDocNode(e->doc, NULL, (const xmlChar *)"Envelope", NULL);
        if (!e->env)
                return -ENOMEM;
        xmlDocSetRootElement(e->doc, e->env);
        e->soap = xmlNewNs(e->env, (const xmlChar *)SOAP_NS_ENV, (const xmlChar *)"SOAP-ENV");
        e->xroad = xmlNewNs(e->env, (const xmlChar *)SOAP_NS_XROAD, (const xmlChar *)"xroad");
        e->id = xmlNewNs(e->env, (const xmlChar *)SOAP_NS_ID, (const xmlChar *)"id");
        e->xbus = xmlNewNs(e->env, (const xmlChar *)SOAP_NS_XBUS, (const xmlChar *)"xbus");
        e->wsu = xmlNewNs(e->env, (const xmlChar *)SOAP_NS_WSU, (const xmlChar *)"wsu");
        if (!e->soap || !e->xroad || !e->id || !e->xbus || !e->wsu)
                return -ENOMEM;
        xmlSetNs(e->env, e->soap);
        if (with_header) {
                e->header = xmlNewChild(e->env, e->soap, (const xmlChar *)"Header", NULL);
                if (!e->header)
                        return -ENOMEM;
        }
        e->body = xmlNewChild(e->env, e->soap, (const xmlChar *)"Body", NULL);
        return e->body ? 0 : -ENOMEM;
}

/* A child with text content (escaped by libxml2); NULL/"" values are left out. */
static xmlNode *add_element(xmlNode *parent, xmlNsPtr ns, const char *name)
{
        /* not xmlNewChild(): with a NULL ns it would inherit the parent's namespace */
        xmlNode *n = xmlNewDocNode(parent->doc, ns, (const xmlChar *)name, NULL);

        if (n && !xmlAddChild(parent, n)) {
                xmlFreeNode(n);
                return NULL;
        }
        return n;
}

static int add_text(xmlNode *parent, xmlNsPtr ns, const char *name, const char *value)
{
        xmlNode *n, *t;

        if (isempty(value))
                return 0;
        n = add_element(parent, ns, name);
        if (!n)
                return -ENOMEM;
        t = xmlNewDocText(parent->doc, (const xmlChar *)value); /* escaped when serialised */
        if (!t || !xmlAddChild(n, t)) {
                if (t)
                        xmlFreeNode(t);
                return -ENOMEM;
        }
        return 0;
}

/* "a/b/c/d[/e]" as X-Road identifier parts. Return: 0, -EINVAL (malformed), -ENOMEM. */
static int add_identifier(Envelope *e, const char *name, const char *object_type, const char *value,
                          const char *const *parts, size_t n_parts, const char *version)
{
        char buf[SOAP_MAX_IDENTIFIER + 1], *p = buf, *save = NULL;
        xmlNode *n;
        size_t i = 0;

        if (isempty(value) || strlen(value) > SOAP_MAX_IDENTIFIER)
                return -EINVAL;
        strcpy(buf, value);
        n = xmlNewChild(e->header, e->xroad, (const xmlChar *)name, NULL);
        if (!n || !xmlNewNsProp(n, e->id, (const xmlChar *)"objectType", (const xmlChar *)object_type))
                return -ENOMEM;
        for (char *tok = strtok_r(p, "/", &save); tok; tok = strtok_r(NULL, "/", &save), i++) {
                if (i >= n_parts || !id_part_ok(tok))
                        return -EINVAL;
                if (add_text(n, e->id, parts[i], tok) < 0)
                        return -ENOMEM;
        }
        if (i != n_parts)
                return -EINVAL;
        return add_text(n, e->id, "serviceVersion", version);
}

static int envelope_dump(Envelope *e, char **ret, size_t *ret_size)
{
        xmlChar *mem = NULL;
        int len = 0;
        char *text;

        xmlDocDumpMemoryEnc(e->doc, &mem, &len, "UTF-8");
        if (!mem || len < 0) {
                xmlFree(mem);
                return -ENOMEM;
        }
        text = malloc((size_t)len + 1);
        if (!text) {
                xmlFree(mem);
                return -ENOMEM;
        }
        memcpy(text, mem, (size_t)len);
        text[len] = 0;
        xmlFree(mem);
        *ret = text;
        if (ret_size)
                *ret_size = (size_t)len;
        return 0;
}

static int echo_header(Envelope *e, const SoapRequest *req)
{
        int k;

        k = add_identifier(e, "client", "SUBSYSTEM", req->client, client_parts, ELEMENTSOF(client_parts), NULL);
        if (k >= 0)
                k = add_identifier(e, "service", "SERVICE", req->service, service_parts, ELEMENTSOF(service_parts),
                                   req->service_version);
        if (k >= 0)
                k = add_text(e->header, e->xroad, "id", req->id);
        if (k >= 0)
                k = add_text(e->header, e->xroad, "userId", req->user_id);
        if (k >= 0)
                k = add_text(e->header, e->xroad, "issue", req->issue);
        if (k >= 0)
                k = add_text(e->header, e->xroad, "protocolVersion", SOAP_PROTOCOL_VERSION);
        return k;
}

/* A request whose client or service could not be read echoes what it has. */
static int echo_header_partial(Envelope *e, const SoapRequest *req)
{
        int k = 0;

        if (req->client[0])
                k = add_identifier(e, "client", "SUBSYSTEM", req->client, client_parts, ELEMENTSOF(client_parts), NULL);
        if (k >= 0 && req->service[0])
                k = add_identifier(e, "service", "SERVICE", req->service, service_parts, ELEMENTSOF(service_parts),
                                   req->service_version);
        if (k == -EINVAL)
                k = 0;
        if (k >= 0)
                k = add_text(e->header, e->xroad, "id", req->id);
        if (k >= 0)
                k = add_text(e->header, e->xroad, "protocolVersion", SOAP_PROTOCOL_VERSION);
        return k;
}

int soap_response_build(const SoapRequest *req, const char *payload, size_t size, const SoapResponseOptions *o,
                        char **ret, size_t *ret_size, Problem *ret_problem)
{
        SoapResponseOptions opts = o ? *o : (SoapResponseOptions){};
        xmlDocPtr pdoc = NULL;
        Envelope e = {};
        xmlNode *root, *copy, *hash;
        Problem parsed = {};
        uint8_t digest[HASH_SHA256_LEN];
        unsigned char b64[64];
        int k;

        if (!req || !ret)
                return -EINVAL;
        k = soap_xml_parse(payload, size, opts.limits, &pdoc, &parsed);
        if (k < 0)
                return k;
        if (k > 0)
                return soap_refuse(ret_problem, PROBLEM_RESPONSE_INVALID, "%s",
                                   parsed.type == PROBLEM_PAYLOAD_TOO_LARGE
                                           ? "the provider's answer exceeds the size limit"
                                           : "the provider's answer is not acceptable XML");
        root = xmlDocGetRootElement(pdoc);
        if (!root || soap_node_is(root, SOAP_NS_ENV, "Envelope")) {
                xmlFreeDoc(pdoc);
                return soap_refuse(ret_problem, PROBLEM_RESPONSE_INVALID,
                                   "the provider's answer is not a payload element");
        }
        if (opts.schema) {
                k = xsd_validate_element(opts.schema, root, NULL);
                if (k != 0) {
                        xmlFreeDoc(pdoc);
                        if (k < 0)
                                return k;
                        return soap_refuse(ret_problem, PROBLEM_RESPONSE_INVALID,
                                           "the provider's answer does not match the service's response schema");
                }
        }

        k = envelope_new(&e, true);
        if (k < 0)
                goto finish;
        k = echo_header(&e, req); /* a request that passed soap_request_parse() always echoes */
        if (k < 0)
                goto finish;
        /* X-Road's requestHash binds the answer to the exact request bytes */
        if (hex_decode(req->request_hash, digest, sizeof(digest)) < 0) {
                k = -EINVAL;
                goto finish;
        }
        EVP_EncodeBlock(b64, digest, sizeof(digest));
        k = add_text(e.header, e.xroad, "requestHash", (const char *)b64);
        hash = e.header->last;
        if (k < 0 || !xmlNewProp(hash, (const xmlChar *)"algorithmId",
                                 (const xmlChar *)"http://www.w3.org/2001/04/xmlenc#sha256")) {
                k = -ENOMEM;
                goto finish;
        }
        copy = xmlDocCopyNode(root, e.doc, 1);
        if (!copy || !xmlAddChild(e.body, copy)) {
                if (copy)
                        xmlFreeNode(copy);
                k = -ENOMEM;
                goto finish;
        }
        if (opts.signer) {
                k = soap_dsig_sign(opts.signer, e.doc, e.header, e.body);
                if (k < 0)
                        goto finish;
        }
        k = envelope_dump(&e, ret, ret_size);
finish:
        xmlFreeDoc(pdoc);
        envelope_done(&e);
        return k;
}

/* --- faults ---------------------------------------------------------------------- */

int soap_fault_build(ProblemType type, const char *detail, const char *xroad_id, const SoapRequest *req, char **ret,
                     size_t *ret_size)
{
        const ProblemInfo *p = problem_info(type);
        char code[96], status[8];
        xmlNode *fault, *det, *prob;
        Envelope e = {};
        int k;

        k = envelope_new(&e, req != NULL);
        if (k < 0)
                goto finish;
        if (req) {
                k = echo_header_partial(&e, req);
                if (k < 0)
                        goto finish;
        }
        snprintf(code, sizeof(code), "SOAP-ENV:%s.%s", p->status >= 400 && p->status < 500 ? "Client" : "Server",
                 p->name);
        snprintf(status, sizeof(status), "%d", p->status);
        k = -ENOMEM;
        fault = xmlNewChild(e.body, e.soap, (const xmlChar *)"Fault", NULL);
        if (!fault)
                goto finish;
        /* faultcode, faultstring and detail are unqualified (SOAP 1.1, section 4.4) */
        if (add_text(fault, NULL, "faultcode", code) < 0 || add_text(fault, NULL, "faultstring", p->title) < 0)
                goto finish;
        det = add_element(fault, NULL, "detail");
        prob = det ? add_element(det, e.xbus, "problem") : NULL;
        if (!prob || add_text(prob, e.xbus, "type", p->name) < 0 || add_text(prob, e.xbus, "status", status) < 0)
                goto finish;
        if (detail) {
                /* control characters cannot travel in XML 1.0: replace them */
                _cleanup_free_ char *clean = strndup(detail, 1024);
                if (!clean)
                        goto finish;
                for (char *c = clean; *c; c++)
                        if ((unsigned char)*c < 0x20)
                                *c = ' ';
                if (!xmlCheckUTF8((const xmlChar *)clean))
                        strcpy(clean, "(detail not printable)");
                if (add_text(prob, e.xbus, "detail", clean) < 0)
                        goto finish;
        }
        if (xroad_id && token_ok(xroad_id, SOAP_MAX_ID, true) && add_text(prob, e.xbus, "xroadId", xroad_id) < 0)
                goto finish;
        k = envelope_dump(&e, ret, ret_size);
finish:
        envelope_done(&e);
        return k;
}

bool soap_fault_read(xmlDoc *doc, Problem *ret_problem)
{
        xmlNode *header, *body, *fault, *c;
        const char *why;
        ProblemType type = PROBLEM_PROVIDER_ERROR;
        char code[128] = "", detail[256] = "the provider answered with a SOAP Fault";

        if (!doc || split_envelope(doc, &header, &body, &why) < 0)
                return false;
        fault = soap_first_element(body);
        if (!soap_node_is(fault, SOAP_NS_ENV, "Fault"))
                return false;
        for (c = soap_first_element(fault); c; c = soap_next_element(c)) {
                if (c->ns)
                        continue;
                if (streq((const char *)c->name, "faultcode")) {
                        if (simple_text(c, code, sizeof(code) - 1) < 0)
                                code[0] = 0;
                } else if (streq((const char *)c->name, "faultstring")) {
                        char s[256];
                        if (simple_text(c, s, sizeof(s) - 1) == 0)
                                snprintf(detail, sizeof(detail), "%s", s);
                } else if (streq((const char *)c->name, "detail")) {
                        xmlNode *prob = soap_first_element(c);
                        if (soap_node_is(prob, SOAP_NS_XBUS, "problem"))
                                for (xmlNode *t = soap_first_element(prob); t; t = soap_next_element(t)) {
                                        char v[64];
                                        if (!soap_node_is(t, SOAP_NS_XBUS, "type") ||
                                            simple_text(t, v, sizeof(v) - 1) < 0)
                                                continue;
                                        (void)problem_from_name(v, &type);
                                }
                }
        }
        if (type == PROBLEM_PROVIDER_ERROR && code[0]) {
                /* "prefix:Client.type" */
                const char *dot = strrchr(code, '.');
                if (dot)
                        (void)problem_from_name(dot + 1, &type);
        }
        if (ret_problem)
                soap_refuse(ret_problem, type, "%s", detail);
        return true;
}

int soap_envelope_payload(xmlDoc *doc, char **ret, size_t *ret_size)
{
        xmlNode *header, *body, *payload;
        const char *why;

        if (!doc || split_envelope(doc, &header, &body, &why) < 0 || !only_elements(body))
                return -EBADMSG;
        payload = soap_first_element(body);
        if (!payload || soap_next_element(payload) || soap_node_is(payload, SOAP_NS_ENV, "Fault"))
                return -EBADMSG;
        return serialize_standalone(payload, ret, ret_size);
}

int soap_envelope_wrap(const char *payload, size_t size, const SoapLimits *l, const char *client, const char *service,
                       const char *id, const char *user_id, const char *issue, const char *subject, const char *purpose,
                       char **ret, size_t *ret_size)
{
        xmlDocPtr pdoc = NULL;
        xmlNode *root, *copy;
        Envelope e = {};
        int k;

        if (!ret || isempty(id) || !token_ok(id, SOAP_MAX_ID, true))
                return -EINVAL;
        k = soap_xml_parse(payload, size, l, &pdoc, NULL);
        if (k != 0)
                return k < 0 ? k : -EINVAL;
        root = xmlDocGetRootElement(pdoc);
        k = envelope_new(&e, true);
        if (k < 0)
                goto finish;
        {
                SoapRequest hdr = {};
                if (strlen(client) >= sizeof(hdr.client) || strlen(service) >= sizeof(hdr.service) ||
                    strlen(id) >= sizeof(hdr.id) || (user_id && strlen(user_id) >= sizeof(hdr.user_id)) ||
                    (issue && strlen(issue) >= sizeof(hdr.issue))) {
                        k = -EINVAL;
                        goto finish;
                }
                strcpy(hdr.client, client);
                strcpy(hdr.service, service);
                strcpy(hdr.id, id);
                strcpy(hdr.user_id, strempty(user_id));
                strcpy(hdr.issue, strempty(issue));
                k = echo_header(&e, &hdr);
        }
        if (k >= 0)
                k = add_text(e.header, e.xbus, "subject", subject);
        if (k >= 0)
                k = add_text(e.header, e.xbus, "purpose", purpose);
        if (k < 0)
                goto finish;
        copy = xmlDocCopyNode(root, e.doc, 1);
        if (!copy || !xmlAddChild(e.body, copy)) {
                if (copy)
                        xmlFreeNode(copy);
                k = -ENOMEM;
                goto finish;
        }
        k = envelope_dump(&e, ret, ret_size);
finish:
        xmlFreeDoc(pdoc);
        envelope_done(&e);
        return k;
}
