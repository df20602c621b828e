/* soap-xml.c: the hardened XML parser, the XML security library's set-up, tree helpers */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlIO.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/parser.h>

#include "soap/soap-xml.h"

/* --- global set-up ----------------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_result;

/* xmlsec reports through this; library code does not log, so nothing is printed. */
static void xmlsec_quiet(const char *file, int line, const char *func, const char *errorObject,
                         const char *errorSubject, int reason, const char *msg)
{
}

static void global_setup(void)
{
        xmlInitParser();
        /* libxml2 may never fetch from the network, whoever asks */
        xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);
        if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0) {
                global_result = -EIO;
                return;
        }
        xmlSecErrorsSetCallback(xmlsec_quiet); /* after xmlSecInit(), which installs its default */
        /*
         * xmlsec 1.2.37 defaults to NOENT | HUGE (and more) for the documents it
         * parses itself (transforms, xmlSecParse*): entity substitution and no
         * size limits. Ours never go through it, but nothing it parses may either.
         */
        xmlSecParserSetDefaultOptions(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        /* No URI input at all: a Reference to file:, http: or ftp: finds no reader. */
        xmlSecIOCleanupCallbacks();
        global_result = 0;
}

int soap_global_init(void)
{
        pthread_once(&global_once, global_setup);
        return global_result;
}

SoapLimits soap_limits_resolve(const SoapLimits *l)
{
        SoapLimits r = l ? *l : (SoapLimits){};

        if (r.max_size == 0)
                r.max_size = SOAP_DEFAULT_MAX_SIZE;
        if (r.max_size > INT32_MAX)
                r.max_size = INT32_MAX;
        if (r.max_depth == 0)
                r.max_depth = SOAP_DEFAULT_MAX_DEPTH;
        r.max_depth = MIN(r.max_depth, SOAP_CAP_MAX_DEPTH);
        if (r.max_nodes == 0)
                r.max_nodes = SOAP_DEFAULT_MAX_NODES;
        if (r.max_text == 0)
                r.max_text = SOAP_DEFAULT_MAX_TEXT;
        return r;
}

int soap_refuse(Problem *p, ProblemType type, const char *fmt, ...)
{
        va_list ap;

        if (p) {
                p->type = type;
                p->xroad = XROAD_CODE_OF_TYPE;
                va_start(ap, fmt);
                vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
                va_end(ap);
        }
        return SOAP_E_REFUSED;
}

int soap_refuse_code(Problem *p, ProblemType type, ProblemXroad code, const char *fmt, ...)
{
        va_list ap;

        if (p) {
                p->type = type;
                p->xroad = code;
                va_start(ap, fmt);
                vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
                va_end(ap);
        }
        return SOAP_E_REFUSED;
}

/* --- the hardened parser --------------------------------------------------- */

typedef struct ParseState {
        SoapLimits l;
        unsigned depth;
        size_t nodes;
        size_t text_run;
        const char *refused; /* static reason, set once */
} ParseState;

static void parse_stop(xmlParserCtxtPtr ctxt, const char *why)
{
        ParseState *s = ctxt->_private;

        if (!s->refused)
                s->refused = why;
        xmlStopParser(ctxt);
}

static bool count_nodes(xmlParserCtxtPtr ctxt, size_t n)
{
        ParseState *s = ctxt->_private;

        if (n > s->l.max_nodes - MIN(s->nodes, s->l.max_nodes)) {
                parse_stop(ctxt, "the message has too many XML nodes");
                return false;
        }
        s->nodes += n;
        return true;
}

static void sax_internal_subset(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
        parse_stop(ctx, "document type declarations are not allowed");
}

static void sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pub, const xmlChar *sys,
                            xmlChar *content)
{
        parse_stop(ctx, "entity declarations are not allowed");
}

static void sax_reference(void *ctx, const xmlChar *name)
{
        parse_stop(ctx, "entity references are not allowed");
}

static xmlEntityPtr sax_get_entity(void *ctx, const xmlChar *name)
{
        /* only the five predefined entities exist; anything else ends the parse */
        xmlEntityPtr e = xmlGetPredefinedEntity(name);
        if (!e)
                parse_stop(ctx, "entity references are not allowed");
        return e;
}

static void sax_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
        parse_stop(ctx, "processing instructions are not allowed");
}

static void sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
                      const xmlChar **namespaces, int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
        xmlParserCtxtPtr ctxt = ctx;
        ParseState *s = ctxt->_private;

        if (s->refused)
                return;
        s->text_run = 0;
        if (++s->depth > s->l.max_depth) {
                parse_stop(ctxt, "the message nests elements too deeply");
                return;
        }
        if (!count_nodes(ctxt, 1 + (size_t)MAX(nb_namespaces, 0) + (size_t)MAX(nb_attributes, 0)))
                return;
        /* attributes: localname, prefix, URI, value, end */
        for (int i = 0; i < nb_attributes; i++) {
                const xmlChar *v = attributes[i * 5 + 3], *e = attributes[i * 5 + 4];
                if ((size_t)(e - v) > s->l.max_text) {
                        parse_stop(ctxt, "an attribute value is too long");
                        return;
                }
        }
        xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes, nb_defaulted,
                              attributes);
}

static void sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
        xmlParserCtxtPtr ctxt = ctx;
        ParseState *s = ctxt->_private;

        if (s->refused)
                return;
        s->text_run = 0;
        if (s->depth > 0)
                s->depth--;
        xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static bool text_ok(xmlParserCtxtPtr ctxt, int len)
{
        ParseState *s = ctxt->_private;

        if (s->refused)
                return false;
        if (s->text_run == 0 && !count_nodes(ctxt, 1))
                return false;
        if ((size_t)MAX(len, 0) > s->l.max_text - MIN(s->text_run, s->l.max_text)) {
                parse_stop(ctxt, "a text node is too long");
                return false;
        }
        s->text_run += (size_t)MAX(len, 0);
        return true;
}

static void sax_characters(void *ctx, const xmlChar *ch, int len)
{
        if (text_ok(ctx, len))
                xmlSAX2Characters(ctx, ch, len);
}

static void sax_cdata(void *ctx, const xmlChar *ch, int len)
{
        if (text_ok(ctx, len))
                xmlSAX2CDataBlock(ctx, ch, len);
}

static void sax_comment(void *ctx, const xmlChar *value)
{
        xmlParserCtxtPtr ctxt = ctx;
        ParseState *s = ctxt->_private;

        if (s->refused || !count_nodes(ctxt, 1))
                return;
        if (strlen((const char *)value) > s->l.max_text) {
                parse_stop(ctxt, "a comment is too long");
                return;
        }
        xmlSAX2Comment(ctx, value);
}

/* No DTD, no entities, no network, no XInclude, no HUGE; errors are collected, not printed. */
#define SOAP_PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

int soap_xml_parse(const char *data, size_t size, const SoapLimits *lim, xmlDoc **ret, Problem *ret_problem)
{
        ParseState s = { .l = soap_limits_resolve(lim) };
        xmlParserCtxtPtr ctxt;
        xmlDocPtr doc;

        if (!data && size > 0)
                return -EINVAL;
        if (size > s.l.max_size)
                return soap_refuse(ret_problem, PROBLEM_PAYLOAD_TOO_LARGE, "the message exceeds the size limit");
        if (size == 0)
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "the message is empty");

        ctxt = xmlNewParserCtxt();
        if (!ctxt)
                return -ENOMEM;
        ctxt->_private = &s;
        ctxt->sax->internalSubset = sax_internal_subset;
        ctxt->sax->externalSubset = sax_internal_subset;
        ctxt->sax->entityDecl = sax_entity_decl;
        ctxt->sax->reference = sax_reference;
        ctxt->sax->getEntity = sax_get_entity;
        ctxt->sax->getParameterEntity = sax_get_entity;
        ctxt->sax->processingInstruction = sax_pi;
        ctxt->sax->startElementNs = sax_start;
        ctxt->sax->endElementNs = sax_end;
        ctxt->sax->characters = sax_characters;
        ctxt->sax->ignorableWhitespace = sax_characters;
        ctxt->sax->cdataBlock = sax_cdata;
        ctxt->sax->comment = sax_comment;
        ctxt->sax->resolveEntity = NULL;

        doc = xmlCtxtReadMemory(ctxt, data, (int)size, "soap.xml", NULL, SOAP_PARSE_OPTIONS);
        if (s.refused || !doc || !ctxt->wellFormed) {
                const xmlError *e = xmlCtxtGetLastError(ctxt);
                bool oom = !s.refused && e && e->code == XML_ERR_NO_MEMORY;
                char msg[160] = "";
                int line = e ? e->line : 0;

                if (e && e->message) {
                        size_t k;

                        snprintf(msg, sizeof(msg), "%s", e->message);
                        k = strlen(msg);
                        while (k > 0 && (msg[k - 1] == '\n' || msg[k - 1] == ' '))
                                msg[--k] = 0;
                        for (char *p = msg; *p; p++)
                                if ((unsigned char)*p < 0x20)
                                        *p = ' ';
                }
                if (doc)
                        xmlFreeDoc(doc);
                xmlFreeParserCtxt(ctxt);
                if (oom)
                        return -ENOMEM;
                if (s.refused)
                        return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "%s", s.refused);
                if (msg[0])
                        return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "not well-formed XML: line %d: %s", line,
                                           msg);
                return soap_refuse(ret_problem, PROBLEM_BAD_REQUEST, "not well-formed XML");
        }
        xmlFreeParserCtxt(ctxt);
        *ret = doc;
        return 0;
}

/* --- tree helpers -------------------------------------------------------------- */

bool soap_node_is(const xmlNode *n, const char *ns, const char *name)
{
        return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href && streq((const char *)n->ns->href, ns) &&
               streq((const char *)n->name, name);
}

static xmlNode *element_from(xmlNode *n)
{
        for (; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE)
                        return n;
        return NULL;
}

xmlNode *soap_first_element(xmlNode *n)
{
        return n ? element_from(n->children) : NULL;
}

xmlNode *soap_next_element(xmlNode *n)
{
        return n ? element_from(n->next) : NULL;
}
