/* test-xsd.c: XSD compilation, validation, refusal of hostile XML, limits and threads */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "validate/xsd.h"

static const char xsd_citizen[] =
        "<?xml version=\"1.0\"?>\n"
        "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"\n"
        "           targetNamespace=\"urn:xbus:test\" xmlns=\"urn:xbus:test\" elementFormDefault=\"qualified\">\n"
        "  <xs:simpleType name=\"PersonalId\">\n"
        "    <xs:restriction base=\"xs:string\"><xs:pattern value=\"[0-9]{12}\"/></xs:restriction>\n"
        "  </xs:simpleType>\n"
        "  <xs:element name=\"citizenRequest\">\n"
        "    <xs:complexType><xs:sequence>\n"
        "      <xs:element name=\"id\" type=\"PersonalId\"/>\n"
        "      <xs:element name=\"purpose\">\n"
        "        <xs:simpleType><xs:restriction base=\"xs:string\">\n"
        "          <xs:enumeration value=\"public-service-delivery\"/><xs:enumeration value=\"audit\"/>\n"
        "        </xs:restriction></xs:simpleType>\n"
        "      </xs:element>\n"
        "      <xs:element name=\"year\" minOccurs=\"0\">\n"
        "        <xs:simpleType><xs:restriction base=\"xs:int\">\n"
        "          <xs:minInclusive value=\"1900\"/><xs:maxInclusive value=\"2100\"/>\n"
        "        </xs:restriction></xs:simpleType>\n"
        "      </xs:element>\n"
        "    </xs:sequence></xs:complexType>\n"
        "  </xs:element>\n"
        "</xs:schema>\n";

#define DOC(body) "<citizenRequest xmlns=\"urn:xbus:test\">" body "</citizenRequest>"

static XsdSchema *compile(const char *text)
{
        XsdSchema *s = NULL;
        char *error = NULL;
        int r = xsd_schema_new(&s, text, strlen(text), NULL, NULL, &error);
        if (r < 0)
                fprintf(stderr, "compile: %s\n", error ? error : "?");
        assert(r == 0 && s);
        free(error);
        return s;
}

static int check(const XsdSchema *s, const char *xml, XsdErrors *errs)
{
        return xsd_validate(s, xml, strlen(xml), errs);
}

static void test_valid_and_invalid(void)
{
        XsdSchema *s = compile(xsd_citizen);
        XsdErrors errs;

        assert(check(s, DOC("<id>001234567890</id><purpose>audit</purpose>"), NULL) == 0);
        assert(check(s, DOC("<id>001234567890</id><purpose>audit</purpose><year>2025</year>"), NULL) == 0);

        xsd_errors_init(&errs, 0);
        assert(check(s, DOC("<id>12345</id><purpose>audit</purpose>"), &errs) == XSD_E_INVALID);
        assert(errs.n >= 1);
        assert(errs.items[0].line == 1);
        assert(strstr(errs.items[0].message, "12345"));
        assert(!strchr(errs.items[0].message, '\n'));
        xsd_errors_clear(&errs);

        /* wrong enumeration, out of range, missing and unexpected elements */
        assert(check(s, DOC("<id>001234567890</id><purpose>marketing</purpose>"), NULL) == XSD_E_INVALID);
        assert(check(s, DOC("<id>001234567890</id><purpose>audit</purpose><year>1800</year>"), NULL) == XSD_E_INVALID);
        assert(check(s, DOC("<id>001234567890</id>"), NULL) == XSD_E_INVALID);
        assert(check(s, DOC("<id>001234567890</id><purpose>audit</purpose><extra/>"), NULL) == XSD_E_INVALID);
        /* the right names in the wrong namespace */
        assert(check(s, "<citizenRequest><id>001234567890</id><purpose>audit</purpose></citizenRequest>", NULL) ==
               XSD_E_INVALID);
        xsd_schema_free(s);
}

static void test_malformed_and_hostile(void)
{
        XsdSchema *s = compile(xsd_citizen);
        XsdErrors errs;
        static const char laughs[] = "<?xml version=\"1.0\"?>\n"
                                     "<!DOCTYPE citizenRequest [\n"
                                     " <!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
                                     " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
                                     " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
                                     " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
                                     "]>\n" DOC("<id>&d;</id><purpose>audit</purpose>");
        static const char xxe[] = "<?xml version=\"1.0\"?>\n"
                                  "<!DOCTYPE citizenRequest [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n" DOC(
                                          "<id>&x;</id><purpose>audit</purpose>");
        static const char external_dtd[] = "<?xml version=\"1.0\"?>\n"
                                           "<!DOCTYPE citizenRequest SYSTEM \"http://127.0.0.1:9/evil.dtd\">\n" DOC(
                                                   "<id>001234567890</id><purpose>audit</purpose>");

        xsd_errors_init(&errs, 0);
        assert(check(s, "<citizenRequest xmlns=\"urn:xbus:test\"><id>1</id>", &errs) == XSD_E_MALFORMED);
        assert(errs.n == 1 && errs.items[0].message[0]);
        xsd_errors_clear(&errs);
        assert(check(s, "", NULL) == XSD_E_MALFORMED);
        assert(check(s, "not xml at all", NULL) == XSD_E_MALFORMED);

        assert(check(s, laughs, &errs) == XSD_E_MALFORMED);
        assert(errs.n == 1 && strstr(errs.items[0].message, "document type"));
        xsd_errors_clear(&errs);
        assert(check(s, xxe, NULL) == XSD_E_MALFORMED);
        assert(check(s, external_dtd, NULL) == XSD_E_MALFORMED);

        /* nesting beyond libxml2's depth limit is refused, not a crash */
        {
                size_t depth = 5000, o = 0;
                char *deep = malloc(depth * 7 + 1);
                assert(deep);
                for (size_t i = 0; i < depth; i++)
                        o += (size_t)sprintf(deep + o, "<a>");
                for (size_t i = 0; i < depth; i++)
                        o += (size_t)sprintf(deep + o, "</a>");
                xsd_errors_init(&errs, 0);
                assert(check(s, deep, &errs) == XSD_E_MALFORMED);
                assert(errs.n == 1 && strstr(errs.items[0].message, "depth"));
                xsd_errors_clear(&errs);
                free(deep);
        }
        xsd_schema_free(s);
}

static void test_limits(void)
{
        XsdSchema *s = NULL;
        XsdLimits limits = { .max_document_size = 64 };
        const char *doc = DOC("<id>001234567890</id><purpose>audit</purpose>");

        assert(xsd_schema_new(&s, xsd_citizen, strlen(xsd_citizen), NULL, &(XsdLimits){ .max_document_size = 100 },
                              NULL) == -E2BIG);
        assert(xsd_schema_new(&s, xsd_citizen, strlen(xsd_citizen), NULL, NULL, NULL) == 0);
        s = xsd_schema_free(s);
        assert(!s);
        /* the payload limit applies to xsd_validate */
        {
                char big[2048];
                assert(xsd_schema_new(&s, xsd_citizen, strlen(xsd_citizen), NULL, &limits, NULL) == -E2BIG);
                limits.max_document_size = sizeof(xsd_citizen);
                assert(xsd_schema_new(&s, xsd_citizen, strlen(xsd_citizen), NULL, &limits, NULL) == 0);
                assert(xsd_validate(s, doc, strlen(doc), NULL) == 0);
                memset(big, ' ', sizeof(big));
                memcpy(big, doc, strlen(doc));
                assert(xsd_validate(s, big, sizeof(big), NULL) == -E2BIG);
                s = xsd_schema_free(s);
        }

        /* bounded error list */
        {
                XsdErrors errs;
                const char *many = "<citizenRequest xmlns=\"urn:xbus:test\"><id>1</id><id>2</id><id>3</id>"
                                   "<purpose>x</purpose><purpose>y</purpose><year>1</year><year>2</year>"
                                   "</citizenRequest>";
                s = compile(xsd_citizen);
                xsd_errors_init(&errs, 1);
                assert(check(s, many, &errs) == XSD_E_INVALID);
                assert(errs.n == 1);
                xsd_errors_clear(&errs);
                assert(errs.n == 0 && !errs.items);
                s = xsd_schema_free(s);
        }
}

static void test_bad_schemas(void)
{
        XsdSchema *s = NULL;
        char *error = NULL;
        static const char not_xsd[] = "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">"
                                      "<xs:element name=\"a\" type=\"xs:nosuchtype\"/></xs:schema>";
        static const char net_import[] =
                "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">"
                "<xs:import namespace=\"urn:x\" schemaLocation=\"http://127.0.0.1:9/x.xsd\"/></xs:schema>";

        assert(xsd_schema_new(&s, not_xsd, strlen(not_xsd), NULL, NULL, &error) == -EINVAL);
        assert(error && strstr(error, "invalid XSD"));
        free(error);
        error = NULL;
        assert(xsd_schema_new(&s, "<xs:schema", 10, NULL, NULL, &error) == -EINVAL);
        assert(error && strstr(error, "well-formed"));
        free(error);
        error = NULL;
        assert(xsd_schema_new(&s, net_import, strlen(net_import), NULL, NULL, &error) == -EPERM);
        assert(error && strstr(error, "127.0.0.1"));
        free(error);
        error = NULL;
        assert(xsd_schema_new(&s, xsd_citizen, strlen(xsd_citizen), "http://example.org/a.xsd", NULL, NULL) == -EPERM);
        assert(!s);
}

static void test_include_local(void)
{
        char dir[] = "/tmp/test-xsd-XXXXXX", path[256], main_path[256];
        static const char types[] =
                "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">"
                "<xs:simpleType name=\"Code\"><xs:restriction base=\"xs:string\"><xs:length value=\"3\"/>"
                "</xs:restriction></xs:simpleType></xs:schema>";
        static const char main_xsd[] = "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">"
                                       "<xs:include schemaLocation=\"types.xsd\"/>"
                                       "<xs:element name=\"code\" type=\"Code\"/></xs:schema>";
        XsdSchema *s = NULL;
        FILE *f;

        assert(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/types.xsd", dir);
        f = fopen(path, "w");
        assert(f);
        fputs(types, f);
        fclose(f);
        snprintf(main_path, sizeof(main_path), "%s/main.xsd", dir);
        assert(xsd_schema_new(&s, main_xsd, strlen(main_xsd), main_path, NULL, NULL) == 0);
        assert(check(s, "<code>ABC</code>", NULL) == 0);
        assert(check(s, "<code>ABCD</code>", NULL) == XSD_E_INVALID);
        xsd_schema_free(s);
        unlink(path);
        rmdir(dir);
}

static void test_element(void)
{
        XsdSchema *s = compile(xsd_citizen);
        static const char envelope[] =
                "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>" DOC(
                        "<id>001234567890</id><purpose>audit</purpose>") "</soap:Body></soap:Envelope>";
        static const char envelope_bad[] =
                "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>" DOC(
                        "<id>0</id><purpose>audit</purpose>") "</soap:Body></soap:Envelope>";
        xmlDocPtr doc;
        xmlNode *body;

        doc = xmlReadMemory(envelope, sizeof(envelope) - 1, "e.xml", NULL, XML_PARSE_NONET);
        assert(doc);
        body = xmlFirstElementChild(xmlDocGetRootElement(doc));
        assert(xsd_validate_element(s, xmlFirstElementChild(body), NULL) == 0);
        /* the envelope itself is not a citizenRequest */
        assert(xsd_validate_element(s, xmlDocGetRootElement(doc), NULL) == XSD_E_INVALID);
        assert(xsd_validate_element(s, NULL, NULL) == -EINVAL);
        xmlFreeDoc(doc);

        doc = xmlReadMemory(envelope_bad, sizeof(envelope_bad) - 1, "e.xml", NULL, XML_PARSE_NONET);
        assert(doc);
        body = xmlFirstElementChild(xmlDocGetRootElement(doc));
        assert(xsd_validate_element(s, xmlFirstElementChild(body), NULL) == XSD_E_INVALID);
        xmlFreeDoc(doc);
        xsd_schema_free(s);
}

static void *worker(void *arg)
{
        const XsdSchema *s = arg;
        for (int i = 0; i < 300; i++) {
                assert(check(s, DOC("<id>001234567890</id><purpose>audit</purpose>"), NULL) == 0);
                assert(check(s, DOC("<id>0012345678</id><purpose>audit</purpose>"), NULL) == XSD_E_INVALID);
        }
        return NULL;
}

static void test_threads(void)
{
        XsdSchema *s = compile(xsd_citizen);
        pthread_t t[4];

        for (int i = 0; i < 4; i++)
                assert(pthread_create(&t[i], NULL, worker, s) == 0);
        for (int i = 0; i < 4; i++)
                assert(pthread_join(t[i], NULL) == 0);
        xsd_schema_free(s);
}

int main(void)
{
        xmlInitParser();
        test_valid_and_invalid();
        test_malformed_and_hostile();
        test_limits();
        test_bad_schemas();
        test_include_local();
        test_element();
        test_threads();
        xmlCleanupParser();
        printf("test-xsd: all passed\n");
        return 0;
}
