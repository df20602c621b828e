/* soap.c: SOAP 1.1 requests: the envelope, the X-Road header profile, the Body, validation and signatures */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlsave.h>

#include "crypto/hash.h"
#include "policy/problem.h"
#include "soap/soap-dsig.h"
#include "soap/soap-internal.h"
#include "soap/soap.h"

static bool is_blank(const xmlChar *s)
{
        for (; s && *s; s++)
                if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
                        return false;
        return true;
}

bool soap_only_elements(xmlNode *parent)
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

int soap_simple_text(xmlNode *n, char *out, size_t max)
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

/* --- the X-Road identifiers (PR-MESS §2.1, Annex A) ------------------------- */

/* The parts of one object type, in order; a part may be optional (a member-level service has no subsystem). */
typedef struct IdShape {
        const char *object_type;
        const char *parts[6];
        unsigned optional; /* bit i: parts[i] may be left out */
        bool versioned;    /* the last part is serviceVersion, kept apart */
} IdShape;

static const IdShape shapes[] = {
        { "SUBSYSTEM", { "xRoadInstance", "memberClass", "memberCode", "subsystemCode" }, 0, false },
        { "MEMBER", { "xRoadInstance", "memberClass", "memberCode" }, 0, false },
        { "SERVICE",
          { "xRoadInstance", "memberClass", "memberCode", "subsystemCode", "serviceCode", "serviceVersion" },
          1U << 3 | 1U << 5,
          true },
        { "SERVER", { "xRoadInstance", "memberClass", "memberCode", "serverCode" }, 0, false },
};

/* An identifier part (instance, class, member, subsystem, service code): no '/', 1..64. */
static bool id_part_ok(const char *s)
{
        return token_ok(s, 64, true);
}

static const IdShape *shape_of(const char *object_type, const char *types)
{
        for (size_t i = 0; object_type && i < ELEMENTSOF(shapes); i++) {
                size_t n = strlen(shapes[i].object_type);
                const char *at = strstr(types, shapes[i].object_type);

                if (streq(object_type, shapes[i].object_type) && at && (at[n] == 0 || at[n] == '|'))
                        return &shapes[i];
        }
        return NULL;
}

int soap_read_identifier(xmlNode *n, const char *types, char *out, size_t out_size, char *version, size_t version_size,
                         Problem *p)
{
        xmlChar *ot = xmlGetNsProp(n, (const xmlChar *)"objectType", (const xmlChar *)SOAP_NS_ID);
        const IdShape *s = shape_of((const char *)ot, types);
        xmlNode *c = soap_first_element(n);
        size_t len = 0;

        xmlFree(ot);
        if (!s)
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                        "xroad:%s must have id:objectType %s", (const char *)n->name, types);
        if (!soap_only_elements(n))
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                        "an X-Road identifier has text outside its parts");
        out[0] = 0;
        if (version)
                version[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(s->parts) && s->parts[i]; i++) {
                bool last_version = s->versioned && (i + 1 == ELEMENTSOF(s->parts) || !s->parts[i + 1]);
                char v[66];

                if (!soap_node_is(c, SOAP_NS_ID, s->parts[i])) {
                        if (s->optional & (1U << i))
                                continue;
                        return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                                "an X-Road identifier part is missing or out of order");
                }
                if (soap_simple_text(c, v, 65) < 0 || !id_part_ok(v))
                        return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                                "an X-Road identifier part is malformed");
                c = soap_next_element(c);
                if (last_version) {
                        if (!version || strlen(v) >= version_size)
                                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                                        "id:serviceVersion is malformed");
                        strcpy(version, v);
                        continue;
                }
                if (len + strlen(v) + 2 > out_size)
                        return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                                "an X-Road identifier is too long");
                len += (size_t)snprintf(out + len, out_size - len, "%s%s", len ? "/" : "", v);
        }
        if (c)
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                        "an X-Road identifier has unexpected parts");
        return 0;
}

/* --- the envelope ------------------------------------------------------------ */

int soap_split_envelope(xmlDoc *doc, xmlNode **ret_header, xmlNode **ret_body, Problem *p)
{
        xmlNode *env = xmlDocGetRootElement(doc), *c;

        *ret_header = *ret_body = NULL;
        if (soap_node_is(env, SOAP_NS_ENV12, "Envelope"))
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_SOAP,
                                        "SOAP 1.2 is not supported: use SOAP 1.1");
        if (!soap_node_is(env, SOAP_NS_ENV, "Envelope"))
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_SOAP,
                                        "the document is not a SOAP 1.1 Envelope");
        if (!soap_only_elements(env))
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_SOAP,
                                        "the Envelope has text outside its Header and Body");
        c = soap_first_element(env);
        if (soap_node_is(c, SOAP_NS_ENV, "Header")) {
                *ret_header = c;
                c = soap_next_element(c);
        }
        if (soap_node_is(c, SOAP_NS_ENV, "Body")) {
                *ret_body = c;
                c = soap_next_element(c);
        }
        if (c)
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_SOAP,
                                        *ret_body ? "the Envelope has elements after its Body"
                                                  : "the Envelope holds an element other than a Header and a Body");
        return 0;
}

/* --- the header -------------------------------------------------------------- */

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

const char *soap_request_service_code(const SoapRequest *r)
{
        const char *slash = strrchr(r->service, '/');

        return slash ? slash + 1 : r->service;
}

static bool must_understand(xmlNode *n)
{
        xmlChar *mu = xmlGetNsProp(n, (const xmlChar *)"mustUnderstand", (const xmlChar *)SOAP_NS_ENV);
        bool yes = mu && (streq((const char *)mu, "1") || streq((const char *)mu, "true"));

        xmlFree(mu);
        return yes;
}

/* The header elements the profile knows: the X-Road fields, then the xbus extension and the signature. */
enum {
        HDR_SUBJECT = _SOAP_FIELD_MAX,
        HDR_PURPOSE,
        HDR_CONSENT,
        HDR_SIGNATURE,
        HDR_IGNORED, /* xroad:requestHash in a request: an answer's field, ignored */
        _HDR_MAX,
};

typedef struct HeaderElement {
        const char *ns, *name;
        unsigned kind; /* SoapField or HDR_* */
} HeaderElement;

static const HeaderElement header_elements[] = {
        { SOAP_NS_XROAD, "client", SOAP_FIELD_CLIENT },
        { SOAP_NS_XROAD, "service", SOAP_FIELD_SERVICE },
        { SOAP_NS_XROAD, "id", SOAP_FIELD_ID },
        { SOAP_NS_XROAD, "userId", SOAP_FIELD_USER_ID },
        { SOAP_NS_XROAD, "issue", SOAP_FIELD_ISSUE },
        { SOAP_NS_XROAD, "protocolVersion", SOAP_FIELD_PROTOCOL_VERSION },
        { SOAP_NS_XROAD, "securityServer", SOAP_FIELD_SECURITY_SERVER },
        { SOAP_NS_REPR, "representedParty", SOAP_FIELD_REPRESENTED_PARTY },
        { SOAP_NS_XROAD, "requestHash", HDR_IGNORED },
        { SOAP_NS_XBUS, "subject", HDR_SUBJECT },
        { SOAP_NS_XBUS, "purpose", HDR_PURPOSE },
        { SOAP_NS_XBUS, "consent", HDR_CONSENT },
        { SOAP_NS_DSIG, "Signature", HDR_SIGNATURE },
};

/* repr:representedParty: [repr:partyClass] repr:partyCode (PR-THIRDPARTY §2.2) into "[class/]code". */
static int read_represented_party(SoapRequest *r, xmlNode *n, Problem *p)
{
        char class[SOAP_MAX_PARTY + 1] = "", code[SOAP_MAX_PARTY + 1];
        xmlNode *c = soap_first_element(n);

        if (!soap_only_elements(n))
                goto bad;
        if (soap_node_is(c, SOAP_NS_REPR, "partyClass")) {
                if (soap_simple_text(c, class, SOAP_MAX_PARTY) < 0 || strchr(class, '/'))
                        goto bad;
                c = soap_next_element(c);
        }
        if (!soap_node_is(c, SOAP_NS_REPR, "partyCode") || soap_simple_text(c, code, SOAP_MAX_PARTY) < 0 ||
            soap_next_element(c))
                goto bad;
        snprintf(r->represented_party, sizeof(r->represented_party), "%s%s%s", class, class[0] ? "/" : "", code);
        return 0;
bad:
        return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                "repr:representedParty must be [repr:partyClass] repr:partyCode, each 1..64 "
                                "printable characters (no '/' in the class)");
}

/* A simple text header element into `out` (max + 1 bytes), or a refusal naming it. */
static int read_text(xmlNode *n, char *out, size_t max, Problem *p)
{
        if (soap_simple_text(n, out, max) == 0)
                return 0;
        out[0] = 0;
        return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                "xroad:%s must be printable text of 1..%zu bytes", (const char *)n->name, max);
}

static int read_field(SoapRequest *r, unsigned kind, xmlNode *n, Problem *p)
{
        switch (kind) {
        case SOAP_FIELD_CLIENT:
                return soap_read_identifier(n, "SUBSYSTEM|MEMBER", r->client, sizeof(r->client), NULL, 0, p);
        case SOAP_FIELD_SERVICE:
                return soap_read_identifier(n, "SERVICE", r->service, sizeof(r->service), r->service_version,
                                            sizeof(r->service_version), p);
        case SOAP_FIELD_ID:
                return read_text(n, r->id, SOAP_MAX_ID, p);
        case SOAP_FIELD_USER_ID:
                return read_text(n, r->user_id, SOAP_MAX_TEXT_HEADER, p);
        case SOAP_FIELD_ISSUE:
                return read_text(n, r->issue, SOAP_MAX_TEXT_HEADER, p);
        case SOAP_FIELD_PROTOCOL_VERSION:
                /* PR-MESS §2.2: 4.0; minor versions of 4 are compatible, and X-Road accepts any "4." */
                if (soap_simple_text(n, r->protocol_version, sizeof(r->protocol_version) - 1) < 0 ||
                    !strneq(r->protocol_version, "4.", 2))
                        return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_PROTOCOL_VERSION,
                                                "xroad:protocolVersion must be 4.x");
                return 0;
        case SOAP_FIELD_SECURITY_SERVER:
                return soap_read_identifier(n, "SERVER", r->security_server, sizeof(r->security_server), NULL, 0, p);
        case SOAP_FIELD_REPRESENTED_PARTY:
                return read_represented_party(r, n, p);
        case HDR_SUBJECT:
                if (soap_simple_text(n, r->subject, SOAP_MAX_SUBJECT) < 0 ||
                    !token_ok(r->subject, SOAP_MAX_SUBJECT, false) || strchr(r->subject, '_'))
                        return soap_refuse(p, PROBLEM_BAD_REQUEST,
                                           "xbus:subject must be 1..64 characters of [0-9A-Za-z-]");
                return 0;
        case HDR_PURPOSE:
                if (soap_simple_text(n, r->purpose, SOAP_MAX_PURPOSE) < 0 ||
                    !token_ok(r->purpose, SOAP_MAX_PURPOSE, true))
                        return soap_refuse(p, PROBLEM_BAD_REQUEST,
                                           "xbus:purpose must be 1..64 characters of [A-Za-z0-9._:-]");
                return 0;
        case HDR_CONSENT:
                r->consent = malloc(SOAP_MAX_CONSENT + 1);
                if (!r->consent)
                        return -ENOMEM;
                if (soap_simple_text(n, r->consent, SOAP_MAX_CONSENT) < 0) {
                        r->consent = mfree(r->consent);
                        return soap_refuse(p, PROBLEM_BAD_REQUEST,
                                           "xbus:consent must be printable text of 1..8192 bytes");
                }
                return 0;
        default: /* the signature is checked later; requestHash is ignored */
                return 0;
        }
}

/* The header elements into r, each at most once; the X-Road fields' order into r->order. */
static int read_header(SoapRequest *r, xmlNode *header, bool seen[_HDR_MAX], Problem *p)
{
        if (!soap_only_elements(header))
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_SOAP,
                                        "the Header has text outside its elements");
        for (xmlNode *h = soap_first_element(header); h; h = soap_next_element(h)) {
                const char *ns = h->ns && h->ns->href ? (const char *)h->ns->href : "";
                const HeaderElement *known = NULL;
                int k;

                for (size_t i = 0; i < ELEMENTSOF(header_elements) && !known; i++)
                        if (streq(ns, header_elements[i].ns) && streq((const char *)h->name, header_elements[i].name))
                                known = &header_elements[i];
                if (!known) {
                        if (streq(ns, SOAP_NS_XROAD) || streq(ns, SOAP_NS_XBUS))
                                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_XML,
                                                        "the Header has an %s element this bus does not understand",
                                                        streq(ns, SOAP_NS_XBUS) ? "xbus" : "X-Road");
                        if (must_understand(h))
                                return soap_refuse(p, PROBLEM_BAD_REQUEST,
                                                   "the Header has a mustUnderstand element this bus does not "
                                                   "understand");
                        continue;
                }
                if (seen[known->kind])
                        return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_DUPLICATE_HEADER_FIELD,
                                                "the header element %s is repeated", known->name);
                k = read_field(r, known->kind, h, p);
                if (k != 0)
                        return k;
                seen[known->kind] = true;
                if (known->kind < _SOAP_FIELD_MAX)
                        r->order[r->n_order++] = known->kind;
        }
        return 0;
}

/* --- the body ------------------------------------------------------------------ */

/* The Body's one element, named after the service code (doc/literal wrapped, PR-MESS §2.3, §3.2). */
static int read_body(SoapRequest *r, Problem *p)
{
        const char *code = soap_request_service_code(r);

        if (!r->body)
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_MISSING_BODY, "the Envelope has no Body");
        if (!soap_only_elements(r->body))
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_BODY,
                                        "the Body has text outside its payload element");
        r->body_payload = soap_first_element(r->body);
        if (!r->body_payload || soap_next_element(r->body_payload))
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_BODY,
                                        "the Body must hold exactly one payload element");
        if (soap_node_is(r->body_payload, SOAP_NS_ENV, "Fault"))
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INVALID_BODY, "a request cannot be a Fault");
        /* X-Road checks that the name begins with the service code; the service's XSD checks the rest */
        if (!strneq((const char *)r->body_payload->name, code, strlen(code)))
                return soap_refuse_code(p, PROBLEM_BAD_REQUEST, XROAD_INCONSISTENT_HEADERS,
                                        "the Body's element must be named after the service code '%s'", code);
        return 0;
}

/* Serialise `node` on its own, with every namespace in scope declared on it. */
static int serialize_standalone(xmlNode *node, char **ret, size_t *ret_size)
{
        xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
        xmlBufferPtr buf = NULL;
        xmlNode *copy;
        char *text;
        int r = -ENOMEM, len;

        if (!d)
                return -ENOMEM;
        copy = soap_copy_standalone(node, d);
        if (!copy)
                goto finish;
        xmlDocSetRootElement(d, copy);
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
        xmlFreeDoc(d);
        return r;
}

/* --- requests ------------------------------------------------------------------ */

int soap_request_parse(const char *data, size_t size, const SoapLimits *l, SoapRequest **ret, SoapRequest **ret_partial,
                       Problem *ret_problem)
{
        static const struct {
                SoapField field;
                const char *name;
        } required[] = {
                { SOAP_FIELD_CLIENT, "xroad:client" },
                { SOAP_FIELD_SERVICE, "xroad:service" },
                { SOAP_FIELD_ID, "xroad:id" },
                { SOAP_FIELD_PROTOCOL_VERSION, "xroad:protocolVersion" },
        };
        _cleanup_(soap_request_freep) SoapRequest *r = NULL;
        bool seen[_HDR_MAX] = {};
        Problem why = {};
        int k;

        if (ret_partial)
                *ret_partial = NULL;
        if (!ret)
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        k = soap_xml_parse(data, size, l, &r->doc, &why);
        if (k < 0)
                return k;
        if (k > 0) {
                if (why.type == PROBLEM_BAD_REQUEST)
                        why.xroad = XROAD_INVALID_XML;
                if (ret_problem)
                        *ret_problem = why;
                return k;
        }
        hash_sha512_b64(data, size, r->request_hash);

        k = soap_split_envelope(r->doc, &r->header, &r->body, &why);
        if (k != 0)
                goto refused;
        if (!r->header) {
                k = soap_refuse_code(&why, PROBLEM_BAD_REQUEST, XROAD_MISSING_HEADER,
                                     "the Envelope has no Header: the X-Road header is required");
                goto refused;
        }
        k = read_header(r, r->header, seen, &why);
        if (k < 0)
                return k;
        if (k > 0)
                goto refused;
        r->signed_request = seen[HDR_SIGNATURE];
        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                if (!seen[required[i].field]) {
                        k = soap_refuse_code(&why, PROBLEM_BAD_REQUEST, XROAD_MISSING_HEADER_FIELD,
                                             "the Header has no %s", required[i].name);
                        goto refused;
                }
        k = read_body(r, &why);
        if (k != 0)
                goto refused;
        k = serialize_standalone(r->body_payload, &r->payload_xml, &r->payload_size);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;

refused:
        if (ret_partial && r->id[0])
                *ret_partial = TAKE_PTR(r);
        if (ret_problem)
                *ret_problem = why;
        return SOAP_E_REFUSED;
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
