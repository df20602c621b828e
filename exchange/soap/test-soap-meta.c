/* test-soap-meta.c: the SOAP metaservices' answers and the generated WSDL, on the sample registry */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "tests/support/test-util.h"
#include "registry.h"
#include "soap/soap-meta.h"
#include "soap/soap.h"
#include "xbus-config.h"

#define NS_WSDL "http://schemas.xmlsoap.org/wsdl/"
#define NS_WSDL_SOAP "http://schemas.xmlsoap.org/wsdl/soap/"

static char *source_root;

static bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static Registry *registry(void)
{
        _cleanup_free_ char *dir = test_path(source_root, "conf/registry");
        _cleanup_free_ char *errors = NULL;
        Registry *reg = NULL;
        int k = registry_load_dir(&reg, dir, &errors);

        if (k != 0)
                fprintf(stderr, "registry: %d %s\n", k, strempty(errors));
        assert(k == 0);
        return reg;
}

/* A request to the metaservice `code` of the population subsystem, with `body` in the Body. */
static SoapRequest *request(const char *code, const char *body)
{
        _cleanup_free_ char *text = NULL;
        SoapRequest *r = NULL;
        Problem why = {};

        assert(asprintf(&text,
                        "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                        "xmlns:x=\"http://x-road.eu/xsd/xroad.xsd\" xmlns:i=\"http://x-road.eu/xsd/identifiers\">"
                        "<e:Header><x:client i:objectType=\"SUBSYSTEM\"><i:xRoadInstance>VN</i:xRoadInstance>"
                        "<i:memberClass>GOV</i:memberClass><i:memberCode>BYT</i:memberCode>"
                        "<i:subsystemCode>health-services</i:subsystemCode></x:client>"
                        "<x:service i:objectType=\"SERVICE\"><i:xRoadInstance>VN</i:xRoadInstance>"
                        "<i:memberClass>GOV</i:memberClass><i:memberCode>BCA</i:memberCode>"
                        "<i:subsystemCode>population</i:subsystemCode><i:serviceCode>%s</i:serviceCode></x:service>"
                        "<x:id>m-1</x:id><x:protocolVersion>4.0</x:protocolVersion></e:Header><e:Body>%s</e:Body>"
                        "</e:Envelope>",
                        code, body) > 0);
        assert(soap_request_parse(text, strlen(text), NULL, &r, NULL, &why) == 0);
        return r;
}

static void test_codes(void)
{
        assert(soap_meta_from_code("listMethods") == SOAP_META_LIST_METHODS);
        assert(soap_meta_from_code("allowedMethods") == SOAP_META_ALLOWED_METHODS);
        assert(soap_meta_from_code("getWsdl") == SOAP_META_GET_WSDL);
        assert(soap_meta_from_code("getOpenAPI") == SOAP_META_NONE);
        assert(soap_meta_from_code("citizen") == SOAP_META_NONE && soap_meta_from_code(NULL) == SOAP_META_NONE);
}

static void test_list(Registry *reg)
{
        _cleanup_(soap_request_freep) SoapRequest *r = request("listMethods", "<x:listMethods/>");
        const RegistrySubsystem *byt = registry_subsystem_lookup(reg, "VN/GOV/BYT/health-services");
        const RegistryService **all = NULL, **mine = NULL;
        _cleanup_free_ char *out = NULL;
        ssize_t n, m;
        size_t size;

        /* the SOAP services of a provider; those a client holds a right on */
        n = registry_service_list(reg, "VN/GOV/BCA/population", NULL, REGISTRY_LIST_SOAP, &all);
        assert(n == 1 && streq(all[0]->id, "VN/GOV/BCA/population/citizen"));
        m = registry_service_list(reg, "VN/GOV/BCA/population", byt, 0, &mine);
        assert(m >= 1);
        for (ssize_t i = 0; i < m; i++)
                assert(strneq(mine[i]->id, "VN/GOV/BCA/population/", 22));
        free(mine);
        mine = NULL;
        /* rights through a group count; a provider the client has no right on lists nothing */
        m = registry_service_list(reg, "VN/GOV/BTC/tax", registry_subsystem_lookup(reg, "VN/GOV/HN-UBND/one-stop-shop"),
                                  REGISTRY_LIST_SOAP, &mine);
        assert(m == 1 && streq(mine[0]->id, "VN/GOV/BTC/tax/tax-status"));
        free(mine);
        mine = NULL;
        assert(registry_service_list(reg, "VN/GOV/BTC/tax", byt, 0, &mine) == 0 && !mine);
        assert(registry_service_list(reg, "VN/GOV/NOPE/x", NULL, 0, &mine) == 0 && !mine);

        assert(soap_meta_list_build(r, false, all, (size_t)n, &out, &size) == 0);
        assert(size == strlen(out));
        assert(strstr(out, "<xroad:listMethodsResponse><xroad:service id:objectType=\"SERVICE\">"
                           "<id:xRoadInstance>VN</id:xRoadInstance><id:memberClass>GOV</id:memberClass>"
                           "<id:memberCode>BCA</id:memberCode><id:subsystemCode>population</id:subsystemCode>"
                           "<id:serviceCode>citizen</id:serviceCode></xroad:service></xroad:listMethodsResponse>"));
        /* the header echoed, with the request hash after the id */
        assert(strstr(out, "<xroad:id>m-1</xroad:id><xroad:requestHash"));
        out = mfree(out);
        assert(soap_meta_list_build(r, true, NULL, 0, &out, &size) == 0);
        assert(strstr(out, "<xroad:allowedMethodsResponse/>"));
        free(all);
}

/* The parts of a multipart/related `body` whose media type `ctype` names the boundary. */
static size_t split_parts(const char *ctype, char *body, char **parts, size_t max)
{
        const char *b = strstr(ctype, "boundary=");
        char delim[128];
        size_t n = 0;
        char *at;

        assert(b);
        snprintf(delim, sizeof(delim), "--%s", b + 9);
        at = strstr(body, delim);
        assert(at == body);
        while (at && n < max) {
                char *start = at + strlen(delim), *next;
                if (strneq(start, "--", 2))
                        break;
                next = strstr(start, delim);
                assert(next);
                next[-2] = 0; /* the CRLF before the delimiter belongs to it */
                parts[n++] = start + 2;
                at = next;
        }
        return n;
}

static void test_wsdl(Registry *reg)
{
        const RegistryService *citizen = registry_service_lookup(reg, "VN/GOV/BCA/population/citizen");
        const RegistryService *tax = registry_service_lookup(reg, "VN/GOV/BTC/tax/tax-status");
        const RegistryService *rest = registry_service_lookup(reg, "VN/GOV/BTP/civil-status/birth-record");
        _cleanup_free_ char *wsdl = NULL, *out = NULL, *ctype = NULL;
        char code[65], version[65];
        char *parts[4];
        xmlDoc *doc = NULL;
        xmlNode *defs;
        size_t size, n;
        Problem why = {};

        assert(citizen && citizen->request_xsd && tax && rest && !rest->request_xsd);
        assert(soap_wsdl_generate(citizen, &wsdl, &size) == 0);
        assert(size == strlen(wsdl));
        assert(soap_xml_parse(wsdl, size, &(SoapLimits){ .max_size = 1 << 20 }, &doc, NULL) == 0);
        defs = xmlDocGetRootElement(doc);
        assert(soap_node_is(defs, NS_WSDL, "definitions"));
        /* the XSDs quoted, the doc/literal wrapped messages, the X-Road header parts, the neutral address */
        assert(strstr(wsdl, "<xs:element name=\"citizen\">") && strstr(wsdl, "<xs:element name=\"citizenResponse\">"));
        assert(strstr(wsdl, "<wsdl:part name=\"body\" element=\"tns:citizen\"/>"));
        assert(strstr(wsdl, "<wsdl:part name=\"body\" element=\"tns:citizenResponse\"/>"));
        assert(strstr(wsdl, "<wsdl:part name=\"client\" element=\"xrd:client\"/>"));
        assert(strstr(wsdl, "<soap:header message=\"tns:requestheader\" part=\"protocolVersion\" use=\"literal\"/>"));
        assert(strstr(wsdl, "<wsdl:operation name=\"citizen\">"));
        assert(strstr(wsdl, "<soap:address location=\"http://example.org/xroad-endpoint\"/>"));
        assert(strstr(wsdl, "targetNamespace=\"https://schemas.xbus.gov.vn/soap/population/citizen\""));
        xmlFreeDoc(doc);
        wsdl = mfree(wsdl);
        assert(soap_wsdl_generate(tax, &wsdl, &size) == 0);
        assert(strstr(wsdl, "element=\"tns:tax-status\"") && strstr(wsdl, "element=\"tns:tax-statusResponse\""));
        wsdl = mfree(wsdl);
        assert(soap_wsdl_generate(rest, &wsdl, &size) == -EINVAL);

        /* getWsdl: what it asks, and the two-part answer */
        {
                _cleanup_(soap_request_freep) SoapRequest *r =
                        request("getWsdl", "<x:getWsdl><x:serviceCode>citizen</x:serviceCode>"
                                           "<x:serviceVersion>v1</x:serviceVersion></x:getWsdl>");
                _cleanup_(soap_request_freep) SoapRequest *none = request("getWsdl", "<x:getWsdl/>");
                _cleanup_(soap_request_freep) SoapRequest *other =
                        request("getWsdl", "<x:getWsdl><x:serviceCode>a</x:serviceCode><x:x/></x:getWsdl>");

                assert(soap_meta_wsdl_read(r, code, version, &why) == 0);
                assert(streq(code, "citizen") && streq(version, "v1"));
                assert(soap_meta_wsdl_read(none, code, version, &why) == SOAP_E_REFUSED);
                assert(why.xroad == XROAD_INVALID_REQUEST);
                assert(soap_meta_wsdl_read(other, code, version, &why) == SOAP_E_REFUSED);

                assert(soap_meta_wsdl_build(r, citizen, "citizen", "v1", &out, &size, &ctype) == 0);
                assert(startswith(ctype, "multipart/related; type=\"text/xml\"; charset=UTF-8; boundary="));
                n = split_parts(ctype, out, parts, ELEMENTSOF(parts));
                assert(n == 2);
                assert(startswith(parts[0], "Content-Type: text/xml; charset=UTF-8\r\n\r\n"));
                assert(strstr(parts[0], "<xroad:getWsdlResponse><xroad:serviceCode>citizen</xroad:serviceCode>"
                                        "<xroad:serviceVersion>v1</xroad:serviceVersion></xroad:getWsdlResponse>"));
                assert(strstr(parts[0], "<xroad:requestHash"));
                assert(startswith(parts[1], "Content-Type: text/xml\r\nContent-Transfer-Encoding: binary\r\n"
                                            "Content-ID: <wsdl="));
                assert(strstr(parts[1], "@x-road.eu>\r\n\r\n<?xml") && strstr(parts[1], "wsdl:definitions"));
        }
}

int main(void)
{
        const char *root = getenv("XBUS_SOURCE_ROOT");
        Registry *reg;

        source_root = strdup(isempty(root) ? XBUS_SOURCE_ROOT : root);
        assert(soap_global_init() == 0);
        reg = registry();
        test_codes();
        test_list(reg);
        test_wsdl(reg);
        registry_unref(reg);
        free(source_root);
        printf("test-soap-meta: ok\n");
        return 0;
}
