/* xsd.c: XSD compilation and defensive XML payload validation on libxml2 */
#include <errno.h>
#include <stdio.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "util/error.h"
#include "validate/xsd.h"

struct XsdSchema {
        xmlSchemaPtr schema;
        XsdLimits limits;
        char *source; /* the bytes compiled (xsd_schema_source()) */
        size_t source_size;
};

static void xml_doc_freep(xmlDocPtr *d)
{
        if (*d)
                xmlFreeDoc(*d);
}

static void xml_parser_ctxt_freep(xmlParserCtxtPtr *c)
{
        if (*c)
                xmlFreeParserCtxt(*c);
}

void xsd_errors_init(XsdErrors *errs, size_t max)
{
        *errs = (XsdErrors){ .max = max == 0 ? XSD_DEFAULT_MAX_ERRORS : MIN(max, (size_t)XSD_CAP_MAX_ERRORS) };
}

void xsd_errors_clear(XsdErrors *errs)
{
        for (size_t i = 0; i < errs->n; i++)
                free(errs->items[i].message);
        free(errs->items);
        errs->items = NULL;
        errs->n = 0;
        errs->truncated = false;
}

/* Collects libxml2 errors; remembers whether memory ran out. */
typedef struct Collector {
        XsdErrors *errs;
        char *first; /* first message, for compile errors */
        bool oom;
        unsigned count;
} Collector;

static char *one_line(const char *msg)
{
        char *s = strdup(msg ? msg : "unknown error");
        size_t l;

        if (!s)
                return NULL;
        l = strlen(s);
        while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' '))
                s[--l] = 0;
        for (char *p = s; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        return s;
}

static void collector_add(Collector *c, int line, const char *message)
{
        XsdErrors *e = c->errs;
        char *msg;

        c->count++;
        if (!c->first) {
                c->first = one_line(message);
                if (!c->first)
                        c->oom = true;
        }
        if (!e)
                return;
        if (e->max == 0)
                e->max = XSD_DEFAULT_MAX_ERRORS;
        if (e->n >= e->max) {
                e->truncated = true;
                return;
        }
        if (!e->items) {
                e->items = calloc(e->max, sizeof(XsdError));
                if (!e->items) {
                        c->oom = true;
                        return;
                }
        }
        msg = one_line(message);
        if (!msg) {
                c->oom = true;
                return;
        }
        e->items[e->n++] = (XsdError){ line, msg };
}

static void structured_error(void *userdata, xmlErrorPtr error)
{
        Collector *c = userdata;

        if (!error)
                return;
        if (error->code == XML_ERR_NO_MEMORY)
                c->oom = true;
        if (error->level < XML_ERR_ERROR)
                return; /* warnings are not failures */
        collector_add(c, error->line, error->message);
}

/* SAX hook: a document type declaration stops the parse. */
static void refuse_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
        xmlParserCtxtPtr p = ctx;
        *(bool *)p->_private = true;
        xmlStopParser(p);
}

#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/*
 * Parses without network, entity substitution or DTDs.
 * Return: 0 and *ret; XSD_E_MALFORMED with the reason collected; -ENOMEM.
 */
static int parse_xml(const char *data, size_t size, const char *url, Collector *col, xmlDocPtr *ret)
{
        _cleanup_(xml_parser_ctxt_freep) xmlParserCtxtPtr ctxt = NULL;
        xmlDocPtr doc;
        bool has_dtd = false;

        if (size > INT32_MAX)
                return -E2BIG;
        ctxt = xmlNewParserCtxt();
        if (!ctxt)
                return -ENOMEM;
        ctxt->sax->internalSubset = refuse_internal_subset;
        ctxt->_private = &has_dtd;
        doc = xmlCtxtReadMemory(ctxt, data, (int)size, url, NULL, PARSE_OPTIONS);
        if (has_dtd) {
                if (doc)
                        xmlFreeDoc(doc);
                collector_add(col, ctxt->input ? ctxt->input->line : 0, "document type declarations are not allowed");
                return col->oom ? -ENOMEM : XSD_E_MALFORMED;
        }
        if (!doc || !ctxt->wellFormed) {
                const xmlError *e = xmlCtxtGetLastError(ctxt);
                if (doc)
                        xmlFreeDoc(doc);
                if (e && e->code == XML_ERR_NO_MEMORY)
                        return -ENOMEM;
                collector_add(col, e ? e->line : 0, e && e->message ? e->message : "not well-formed XML");
                return col->oom ? -ENOMEM : XSD_E_MALFORMED;
        }
        *ret = doc;
        return 0;
}

static bool is_xsd_element(xmlNode *n, const char *name)
{
        return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
               streq((const char *)n->ns->href, "http://www.w3.org/2001/XMLSchema") &&
               streq((const char *)n->name, name);
}

/* Include, import and redefine may only name local files. */
static int check_locations(xmlNode *n, char **ret_error)
{
        int r;

        for (; n; n = n->next) {
                if (is_xsd_element(n, "include") || is_xsd_element(n, "import") || is_xsd_element(n, "redefine") ||
                    is_xsd_element(n, "override")) {
                        xmlChar *loc = xmlGetProp(n, (const xmlChar *)"schemaLocation");
                        if (loc) {
                                const char *colon = strchr((const char *)loc, ':');
                                const char *slash = strchr((const char *)loc, '/');
                                bool has_scheme = colon && (!slash || colon < slash);
                                bool local = !has_scheme || strneq((const char *)loc, "file:", 5);
                                r = local ? 0
                                          : error_set(ret_error, -EPERM, "schemaLocation '%s' is not a local file",
                                                      (const char *)loc);
                                xmlFree(loc);
                                if (r < 0)
                                        return r;
                        }
                }
                if (n->children) {
                        r = check_locations(n->children, ret_error);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

XsdSchema *xsd_schema_free(XsdSchema *s)
{
        if (!s)
                return NULL;
        if (s->schema)
                xmlSchemaFree(s->schema);
        free(s->source);
        free(s);
        return NULL;
}

int xsd_schema_new(XsdSchema **ret, const char *data, size_t size, const char *base_path, const XsdLimits *limits,
                   char **ret_error)
{
        _cleanup_(xsd_schema_freep) XsdSchema *s = NULL;
        _cleanup_(xml_doc_freep) xmlDocPtr doc = NULL;
        xmlSchemaParserCtxtPtr pctxt;
        Collector col = {};
        int r;

        if (!ret || !data)
                return -EINVAL;
        xmlInitParser();
        if (base_path && strchr(base_path, ':') && !strneq(base_path, "file:", 5))
                return error_set(ret_error, -EPERM, "schema base '%s' is not a local path", base_path);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->limits = limits ? *limits : (XsdLimits){};
        if (s->limits.max_document_size == 0)
                s->limits.max_document_size = XSD_DEFAULT_MAX_DOCUMENT_SIZE;
        if (size > s->limits.max_document_size)
                return -E2BIG;

        r = parse_xml(data, size, base_path ? base_path : "schema.xsd", &col, &doc);
        if (r != 0) {
                r = error_set(ret_error, r < 0 ? r : -EINVAL, "schema is not well-formed XML: %s", strempty(col.first));
                free(col.first);
                return r;
        }
        r = check_locations(xmlDocGetRootElement(doc), ret_error);
        if (r < 0)
                return r;

        pctxt = xmlSchemaNewDocParserCtxt(doc);
        if (!pctxt)
                return -ENOMEM;
        xmlSchemaSetParserStructuredErrors(pctxt, structured_error, &col);
        s->schema = xmlSchemaParse(pctxt);
        xmlSchemaFreeParserCtxt(pctxt);
        if (!s->schema) {
                r = error_set(ret_error, col.oom ? -ENOMEM : -EINVAL, "invalid XSD: %s",
                              col.first ? col.first : "unknown error");
                free(col.first);
                return r;
        }
        free(col.first);
        s->source = malloc(size + 1);
        if (!s->source)
                return -ENOMEM;
        memcpy(s->source, data, size);
        s->source[size] = 0;
        s->source_size = size;
        *ret = TAKE_PTR(s);
        return 0;
}

const char *xsd_schema_source(const XsdSchema *s, size_t *ret_size)
{
        *ret_size = s->source_size;
        return s->source;
}

static int run_validation(const XsdSchema *s, xmlDocPtr doc, xmlNode *element, XsdErrors *errs)
{
        xmlSchemaValidCtxtPtr vctxt;
        Collector col = { .errs = errs };
        int r;

        vctxt = xmlSchemaNewValidCtxt(s->schema);
        if (!vctxt)
                return -ENOMEM;
        xmlSchemaSetValidStructuredErrors(vctxt, structured_error, &col);
        r = element ? xmlSchemaValidateOneElement(vctxt, element) : xmlSchemaValidateDoc(vctxt, doc);
        xmlSchemaFreeValidCtxt(vctxt);
        free(col.first);
        if (col.oom)
                return -ENOMEM;
        if (r < 0)
                return -ENOMEM; /* libxml2: internal or API error */
        if (r > 0 || col.count > 0) {
                if (col.count == 0) {
                        /* libxml2 said invalid without a message: still give the caller one */
                        Collector fallback = { .errs = errs };
                        collector_add(&fallback, 0, "not valid against the schema");
                        free(fallback.first);
                        if (fallback.oom)
                                return -ENOMEM;
                }
                return XSD_E_INVALID;
        }
        return 0;
}

int xsd_validate(const XsdSchema *s, const char *xml, size_t size, XsdErrors *errs)
{
        _cleanup_(xml_doc_freep) xmlDocPtr doc = NULL;
        Collector col = { .errs = errs };
        int r;

        if (!s || !xml)
                return -EINVAL;
        if (size > s->limits.max_document_size)
                return -E2BIG;
        r = parse_xml(xml, size, "payload.xml", &col, &doc);
        free(col.first);
        if (r != 0)
                return r;
        return run_validation(s, doc, NULL, errs);
}

int xsd_validate_element(const XsdSchema *s, xmlNode *element, XsdErrors *errs)
{
        if (!s || !element || element->type != XML_ELEMENT_NODE)
                return -EINVAL;
        return run_validation(s, NULL, element, errs);
}
