/* soap-envelope.c: SOAP 1.1 envelopes the bus writes: answers, X-Road faults, the soap adapter's requests */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "policy/problem.h"
#include "soap/soap-dsig.h"
#include "soap/soap-internal.h"
#include "soap/soap.h"

/* --- building blocks ----------------------------------------------------------- */

void soap_envelope_done(SoapEnvelope *e)
{
        if (e->doc)
                xmlFreeDoc(e->doc);
        *e = (SoapEnvelope){};
}

int soap_envelope_new(SoapEnvelope *e, bool with_header)
{
        *e = (SoapEnvelope){};
        e->doc = xmlNewDoc((const xmlChar *)"1.0");
        if (!e->doc)
                return -ENOMEM;
        e->env = xmlNewDocNode(e->doc, NULL, (const xmlChar *)"Envelope", NULL);
        if (!e->env)
                return -ENOMEM;
        xmlDocSetRootElement(e->doc, e->env);
        e->soap = xmlNewNs(e->env, (const xmlChar *)SOAP_NS_ENV, (const xmlChar *)"SOAP-ENV");
        if (!e->soap)
                return -ENOMEM;
        xmlSetNs(e->env, e->soap);
        if (with_header) {
                e->xroad = xmlNewNs(e->env, (const xmlChar *)SOAP_NS_XROAD, (const xmlChar *)"xroad");
                e->id = xmlNewNs(e->env, (const xmlChar *)SOAP_NS_ID, (const xmlChar *)"id");
                e->header = xmlNewChild(e->env, e->soap, (const xmlChar *)"Header", NULL);
                if (!e->xroad || !e->id || !e->header)
                        return -ENOMEM;
        }
        e->body = xmlNewChild(e->env, e->soap, (const xmlChar *)"Body", NULL);
        return e->body ? 0 : -ENOMEM;
}

xmlNode *soap_add_element(xmlNode *parent, xmlNsPtr ns, const char *name)
{
        /* not xmlNewChild(): with a NULL ns it would inherit the parent's namespace */
        xmlNode *n = xmlNewDocNode(parent->doc, ns, (const xmlChar *)name, NULL);

        if (n && !xmlAddChild(parent, n)) {
                xmlFreeNode(n);
                return NULL;
        }
        return n;
}

int soap_add_text(xmlNode *parent, xmlNsPtr ns, const char *name, const char *value)
{
        xmlNode *n, *t;

        if (isempty(value))
                return 0;
        n = soap_add_element(parent, ns, name);
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

int soap_envelope_dump(SoapEnvelope *e, char **ret, size_t *ret_size)
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

xmlNode *soap_copy_standalone(xmlNode *node, xmlDoc *doc)
{
        xmlNode *copy = xmlDocCopyNode(node, doc, 1);
        xmlNsPtr *inscope;

        if (!copy)
                return NULL;
        inscope = xmlGetNsList(node->doc, node);
        for (xmlNsPtr *ns = inscope; ns && *ns; ns++) {
                bool declared = false;
                for (xmlNsPtr have = copy->nsDef; have; have = have->next)
                        if (xmlStrEqual(have->prefix, (*ns)->prefix))
                                declared = true;
                if (!declared && !xmlNewNs(copy, (*ns)->href, (*ns)->prefix)) {
                        xmlFree(inscope);
                        xmlFreeNode(copy);
                        return NULL;
                }
        }
        xmlFree(inscope);
        return copy;
}

/* --- the X-Road header ---------------------------------------------------------- */

int soap_add_identifier(SoapEnvelope *e, xmlNode *parent, const char *name, const char *object_type, const char *value,
                        const char *version)
{
        static const char *const base[] = { "xRoadInstance", "memberClass", "memberCode" };
        char buf[SOAP_MAX_IDENTIFIER + 1], *parts[5], *save = NULL;
        const char *names[5] = { base[0], base[1], base[2] };
        size_t n = 0;
        xmlNode *node;

        if (isempty(value) || strlen(value) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, value);
        for (char *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                if (n >= ELEMENTSOF(parts))
                        return -EINVAL;
                parts[n++] = tok;
        }
        if (streq(object_type, "SUBSYSTEM") && n == 3)
                object_type = "MEMBER";
        if (streq(object_type, "SUBSYSTEM") && n == 4)
                names[3] = "subsystemCode";
        else if (streq(object_type, "SERVER") && n == 4)
                names[3] = "serverCode";
        else if (streq(object_type, "SERVICE") && (n == 4 || n == 5)) {
                names[3] = n == 5 ? "subsystemCode" : "serviceCode";
                names[4] = "serviceCode";
        } else if (!streq(object_type, "MEMBER") || n != 3)
                return -EINVAL;
        node = xmlNewChild(parent, e->xroad, (const xmlChar *)name, NULL);
        if (!node || !xmlNewNsProp(node, e->id, (const xmlChar *)"objectType", (const xmlChar *)object_type))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (soap_add_text(node, e->id, names[i], parts[i]) < 0)
                        return -ENOMEM;
        return soap_add_text(node, e->id, "serviceVersion", version);
}

static int add_represented_party(SoapEnvelope *e, const char *party)
{
        const char *slash = strchr(party, '/');
        char class[SOAP_MAX_PARTY + 1] = "";
        xmlNsPtr repr;
        xmlNode *n;

        if (slash) {
                if ((size_t)(slash - party) >= sizeof(class))
                        return -EINVAL;
                memcpy(class, party, (size_t)(slash - party));
                class[slash - party] = 0;
        }
        n = xmlNewDocNode(e->doc, NULL, (const xmlChar *)"representedParty", NULL);
        if (!n || !xmlAddChild(e->header, n)) {
                xmlFreeNode(n);
                return -ENOMEM;
        }
        repr = xmlNewNs(n, (const xmlChar *)SOAP_NS_REPR, (const xmlChar *)"repr");
        if (!repr)
                return -ENOMEM;
        xmlSetNs(n, repr);
        if (soap_add_text(n, repr, "partyClass", class) < 0 ||
            soap_add_text(n, repr, "partyCode", slash ? slash + 1 : party) < 0)
                return -ENOMEM;
        return 0;
}

static int add_request_hash(SoapEnvelope *e, const SoapRequest *req)
{
        if (soap_add_text(e->header, e->xroad, "requestHash", req->request_hash) < 0 ||
            !xmlNewProp(e->header->last, (const xmlChar *)"algorithmId",
                        (const xmlChar *)"http://www.w3.org/2001/04/xmlenc#sha512"))
                return -ENOMEM;
        return 0;
}

int soap_echo_header(SoapEnvelope *e, const SoapRequest *req, bool with_hash)
{
        int k = 0;

        for (size_t i = 0; k >= 0 && i < req->n_order; i++)
                switch (req->order[i]) {
                case SOAP_FIELD_CLIENT:
                        k = soap_add_identifier(e, e->header, "client", "SUBSYSTEM", req->client, NULL);
                        break;
                case SOAP_FIELD_SERVICE:
                        k = soap_add_identifier(e, e->header, "service", "SERVICE", req->service, req->service_version);
                        break;
                case SOAP_FIELD_ID:
                        k = soap_add_text(e->header, e->xroad, "id", req->id);
                        /* PR-MESS §2.2: the node's requestHash follows the id */
                        if (k >= 0 && with_hash)
                                k = add_request_hash(e, req);
                        break;
                case SOAP_FIELD_USER_ID:
                        k = soap_add_text(e->header, e->xroad, "userId", req->user_id);
                        break;
                case SOAP_FIELD_ISSUE:
                        k = soap_add_text(e->header, e->xroad, "issue", req->issue);
                        break;
                case SOAP_FIELD_PROTOCOL_VERSION:
                        k = soap_add_text(e->header, e->xroad, "protocolVersion", req->protocol_version);
                        break;
                case SOAP_FIELD_SECURITY_SERVER:
                        k = soap_add_identifier(e, e->header, "securityServer", "SERVER", req->security_server, NULL);
                        break;
                case SOAP_FIELD_REPRESENTED_PARTY:
                        k = add_represented_party(e, req->represented_party);
                        break;
                default:
                        k = -EINVAL;
                }
        return k;
}

/* --- the provider's answer ------------------------------------------------------- */

/* One X-Road field of the provider's header against the request's value (absent: ""). */
static bool field_agrees(xmlNode *n, const char *want, bool identifier)
{
        char got[SOAP_MAX_IDENTIFIER + 1], version[65];

        if (identifier)
                return soap_read_identifier(n, streq((const char *)n->name, "client") ? "SUBSYSTEM|MEMBER" : "SERVICE",
                                            got, sizeof(got), version, sizeof(version), NULL) == 0 &&
                       streq(got, want);
        return soap_simple_text(n, got, sizeof(got) - 1) == 0 && streq(got, want);
}

/*
 * A provider's header must carry the request's client, service (its version
 * aside), id, userId and issue unchanged (PR-MESS §2.2; X-Road's
 * checkConsistency): a field it leaves out or changes is an inconsistent answer.
 * An answer without a Header is taken as it is.
 */
static bool header_consistent(xmlNode *header, const SoapRequest *req)
{
        const struct {
                const char *name, *want;
                bool identifier;
        } fields[] = {
                { "client", req->client, true },   { "service", req->service, true }, { "id", req->id, false },
                { "userId", req->user_id, false }, { "issue", req->issue, false },
        };
        bool seen[ELEMENTSOF(fields)] = {};

        if (!header)
                return true;
        for (xmlNode *h = soap_first_element(header); h; h = soap_next_element(h))
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        if (soap_node_is(h, SOAP_NS_XROAD, fields[i].name)) {
                                if (seen[i] || !field_agrees(h, fields[i].want, fields[i].identifier))
                                        return false;
                                seen[i] = true;
                        }
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (seen[i] != !isempty(fields[i].want))
                        return false;
        return true;
}

/*
 * The payload element of the provider's answer `root`: the root itself, or
 * the Body's element of an envelope. Return: 0 with *ret_payload, SOAP_E_FAULT
 * (the envelope is a Fault), SOAP_E_REFUSED (*p).
 */
static int answer_payload(xmlNode *root, const SoapRequest *req, xmlNode **ret_payload, Problem *p)
{
        xmlNode *header, *body, *payload;

        if (soap_node_is(root, SOAP_NS_ENV12, "Envelope"))
                return soap_refuse_code(p, PROBLEM_RESPONSE_INVALID, XROAD_SERVICE_FAILED_INVALID_SOAP,
                                        "the provider answered in SOAP 1.2");
        if (!soap_node_is(root, SOAP_NS_ENV, "Envelope")) {
                *ret_payload = root;
                return 0;
        }
        if (soap_split_envelope(root->doc, &header, &body, NULL) != 0 || !body || !soap_only_elements(body) ||
            !(payload = soap_first_element(body)) || soap_next_element(payload))
                return soap_refuse_code(p, PROBLEM_RESPONSE_INVALID, XROAD_SERVICE_FAILED_INVALID_SOAP,
                                        "the provider's answer is not a SOAP envelope with one Body element");
        if (soap_node_is(payload, SOAP_NS_ENV, "Fault"))
                return SOAP_E_FAULT;
        if (!header_consistent(header, req))
                return soap_refuse_code(p, PROBLEM_RESPONSE_INVALID, XROAD_SERVICE_FAILED_INCONSISTENT,
                                        "the provider's answer does not echo the request's X-Road header");
        *ret_payload = payload;
        return 0;
}

/* The provider's answer parsed and checked: its payload element (in *ret_doc), a Fault, or a refusal. */
static int answer_read(const SoapRequest *req, const char *answer, size_t size, const SoapResponseOptions *o,
                       xmlDoc **ret_doc, xmlNode **ret_payload, Problem *p)
{
        Problem parsed = {};
        int k;

        k = soap_xml_parse(answer, size, o->limits, ret_doc, &parsed);
        if (k < 0)
                return k;
        if (k > 0)
                return parsed.type == PROBLEM_PAYLOAD_TOO_LARGE
                               ? soap_refuse(p, PROBLEM_RESPONSE_INVALID,
                                             "the provider's answer exceeds the size limit")
                               : soap_refuse_code(p, PROBLEM_RESPONSE_INVALID, XROAD_SERVICE_FAILED_INVALID_XML,
                                                  "the provider's answer is not acceptable XML");
        k = answer_payload(xmlDocGetRootElement(*ret_doc), req, ret_payload, p);
        if (k != 0)
                return k;
        if (o->status && (o->status < 200 || o->status > 299))
                return soap_refuse_code(p, PROBLEM_PROVIDER_ERROR, XROAD_SERVICE_FAILED_INVALID_SOAP,
                                        "the provider answered %d without a SOAP Fault", o->status);
        if (o->schema) {
                k = xsd_validate_element(o->schema, *ret_payload, NULL);
                if (k < 0)
                        return k;
                if (k > 0)
                        return soap_refuse(p, PROBLEM_RESPONSE_INVALID,
                                           "the provider's answer does not match the service's response schema");
        }
        return 0;
}

int soap_response_build(const SoapRequest *req, const char *answer, size_t size, const SoapResponseOptions *o,
                        char **ret, size_t *ret_size, Problem *ret_problem)
{
        SoapResponseOptions opts = o ? *o : (SoapResponseOptions){};
        xmlDocPtr pdoc = NULL;
        SoapEnvelope e = {};
        xmlNode *payload = NULL, *copy;
        int k;

        if (!req || !ret)
                return -EINVAL;
        k = answer_read(req, answer, size, &opts, &pdoc, &payload, ret_problem);
        if (k != 0)
                goto finish;
        k = soap_envelope_new(&e, true);
        if (k < 0)
                goto finish;
        k = soap_echo_header(&e, req, true); /* a request that passed soap_request_parse() always echoes */
        if (k < 0)
                goto finish;
        copy = soap_copy_standalone(payload, e.doc);
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
        k = soap_envelope_dump(&e, ret, ret_size);
finish:
        if (pdoc)
                xmlFreeDoc(pdoc);
        soap_envelope_done(&e);
        return k;
}

/* --- faults ---------------------------------------------------------------------- */

const char *soap_fault_code(const Problem *p)
{
        /* the provider's failures, as X-Road's server proxy nests them (PR-MESS Annex D.1) */
        static const struct {
                ProblemType type;
                ProblemXroad code;
        } soap_codes[] = {
                { PROBLEM_PROVIDER_UNAVAILABLE, XROAD_SERVICE_FAILED_NETWORK_ERROR },
                { PROBLEM_PROVIDER_TIMEOUT, XROAD_SERVICE_FAILED_IO_ERROR },
                { PROBLEM_PROVIDER_ERROR, XROAD_SERVICE_FAILED_INVALID_SOAP },
        };
        Problem refined = *p;

        for (size_t i = 0; p->xroad == XROAD_CODE_OF_TYPE && i < ELEMENTSOF(soap_codes); i++)
                if (soap_codes[i].type == p->type)
                        refined.xroad = soap_codes[i].code;
        return problem_xroad_code(&refined);
}

/* An unqualified element with `text` (may be ""; escaped when written). Return: it, NULL on OOM. */
static xmlNode *add_text_element(xmlNode *parent, const char *name, const char *text)
{
        xmlNode *n = soap_add_element(parent, NULL, name), *t;

        if (!n || !*text)
                return n;
        t = xmlNewDocText(parent->doc, (const xmlChar *)text);
        if (!t || !xmlAddChild(n, t)) {
                if (t)
                        xmlFreeNode(t);
                return NULL;
        }
        return n;
}

int soap_fault_build(const char *code, const char *message, const char *detail, char **ret, size_t *ret_size)
{
        _cleanup_free_ char *clean = strndup(strempty(message), 1024);
        const char *shown = clean;
        SoapEnvelope e = {};
        xmlNode *fault, *det;
        int k;

        if (!clean)
                return -ENOMEM;
        /* control characters cannot travel in XML 1.0: replace them */
        for (char *c = clean; *c; c++)
                if ((unsigned char)*c < 0x20)
                        *c = ' ';
        if (!xmlCheckUTF8((const xmlChar *)clean))
                shown = "(message not printable)";
        k = soap_envelope_new(&e, false);
        if (k < 0)
                goto finish;
        k = -ENOMEM;
        fault = xmlNewChild(e.body, e.soap, (const xmlChar *)"Fault", NULL);
        if (!fault)
                goto finish;
        /* faultcode, faultstring, faultactor and detail are unqualified (SOAP 1.1 §4.4); the
         * faultcode is X-Road's dotted code as plain text, as X-Road writes it */
        if (!add_text_element(fault, "faultcode", code) || !add_text_element(fault, "faultstring", shown) ||
            !add_text_element(fault, "faultactor", ""))
                goto finish;
        if (detail) {
                det = soap_add_element(fault, NULL, "detail");
                if (!det || !add_text_element(det, "faultDetail", detail))
                        goto finish;
        }
        k = soap_envelope_dump(&e, ret, ret_size);
finish:
        soap_envelope_done(&e);
        return k;
}

/* --- the soap adapter's requests ----------------------------------------------- */

/* A printable xroad:id of 1..SOAP_MAX_ID bytes (UTF-8 checked by libxml2 when it is written). */
static bool id_ok(const char *id)
{
        size_t n = id ? strlen(id) : 0;

        if (n == 0 || n > SOAP_MAX_ID || !xmlCheckUTF8((const xmlChar *)id))
                return false;
        for (const char *c = id; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return false;
        return true;
}

int soap_envelope_wrap(const char *payload, size_t size, const SoapLimits *l, const SoapWrapHeader *h, char **ret,
                       size_t *ret_size)
{
        static const SoapField order[] = { SOAP_FIELD_CLIENT,           SOAP_FIELD_SERVICE, SOAP_FIELD_ID,
                                           SOAP_FIELD_USER_ID,          SOAP_FIELD_ISSUE,   SOAP_FIELD_PROTOCOL_VERSION,
                                           SOAP_FIELD_REPRESENTED_PARTY };
        _cleanup_free_ SoapRequest *hdr = NULL;
        xmlDocPtr pdoc = NULL;
        xmlNsPtr xbus;
        xmlNode *copy;
        SoapEnvelope e = {};
        int k;

        if (!ret || !h || !h->client || !h->service || !id_ok(h->id))
                return -EINVAL;
        hdr = calloc(1, sizeof(*hdr));
        if (!hdr)
                return -ENOMEM;
        if (strlen(h->client) >= sizeof(hdr->client) || strlen(h->service) >= sizeof(hdr->service) ||
            strlen(strempty(h->user_id)) >= sizeof(hdr->user_id) || strlen(strempty(h->issue)) >= sizeof(hdr->issue) ||
            strlen(strempty(h->represented_party)) >= sizeof(hdr->represented_party))
                return -EINVAL;
        strcpy(hdr->client, h->client);
        strcpy(hdr->service, h->service);
        strcpy(hdr->id, h->id);
        strcpy(hdr->user_id, strempty(h->user_id));
        strcpy(hdr->issue, strempty(h->issue));
        strcpy(hdr->protocol_version, SOAP_PROTOCOL_VERSION);
        strcpy(hdr->represented_party, strempty(h->represented_party));
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                if (order[i] != SOAP_FIELD_USER_ID || hdr->user_id[0])
                        if (order[i] != SOAP_FIELD_ISSUE || hdr->issue[0])
                                if (order[i] != SOAP_FIELD_REPRESENTED_PARTY || hdr->represented_party[0])
                                        hdr->order[hdr->n_order++] = order[i];

        k = soap_xml_parse(payload, size, l, &pdoc, NULL);
        if (k != 0)
                return k < 0 ? k : -EINVAL;
        k = soap_envelope_new(&e, true);
        if (k < 0)
                goto finish;
        k = soap_echo_header(&e, hdr, false);
        if (k < 0)
                goto finish;
        if (!isempty(h->subject) || !isempty(h->purpose)) {
                xbus = xmlNewNs(e.env, (const xmlChar *)SOAP_NS_XBUS, (const xmlChar *)"xbus");
                if (!xbus || soap_add_text(e.header, xbus, "subject", h->subject) < 0 ||
                    soap_add_text(e.header, xbus, "purpose", h->purpose) < 0) {
                        k = -ENOMEM;
                        goto finish;
                }
        }
        copy = xmlDocCopyNode(xmlDocGetRootElement(pdoc), e.doc, 1);
        if (!copy || !xmlAddChild(e.body, copy)) {
                if (copy)
                        xmlFreeNode(copy);
                k = -ENOMEM;
                goto finish;
        }
        k = soap_envelope_dump(&e, ret, ret_size);
finish:
        xmlFreeDoc(pdoc);
        soap_envelope_done(&e);
        return k;
}
