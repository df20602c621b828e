/* test-soap.c: SOAP parsing (profile, limits, hardening), responses, faults, envelopes, XSD sets */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <xmlsec/parser.h>

#include "tests/support/test-util.h"
#include "registry.h"
#include "soap/soap-schemas.h"
#include "soap/soap.h"
#include "xbus-config.h"

static char *source_root;
static char *citizen; /* tests/soap/requests/citizen.xml */
static size_t citizen_size;

static char *load(const char *rel, size_t *size)
{
        _cleanup_free_ char *p = test_path(source_root, rel);
        char *t = test_read_file(p, size);
        if (!t)
                fprintf(stderr, "cannot read %s\n", p);
        assert(t);
        return t;
}

/* citizen.xml with `from` replaced by `to` (first occurrence; must exist). */
static char *mutate(const char *from, const char *to)
{
        const char *at = strstr(citizen, from);
        char *out;

        assert(at);
        assert(asprintf(&out, "%.*s%s%s", (int)(at - citizen), citizen, to, at + strlen(from)) > 0);
        return out;
}

static int parse(const char *text, SoapRequest **r, Problem *why)
{
        return soap_request_parse(text, strlen(text), NULL, r, NULL, why);
}

static void test_global(void)
{
        int o;

        assert(soap_global_init() == 0);
        assert(soap_global_init() == 0);
        o = xmlSecParserGetDefaultOptions();
        assert(!(o & XML_PARSE_HUGE));
        assert(!(o & XML_PARSE_NOENT));
        assert(!(o & XML_PARSE_DTDLOAD));
        assert(!(o & XML_PARSE_XINCLUDE));
        assert(o & XML_PARSE_NONET);
}

static void test_parse_good(void)
{
        _cleanup_(soap_request_freep) SoapRequest *r = NULL;
        Problem why = {};

        assert(soap_request_parse(citizen, citizen_size, NULL, &r, NULL, &why) == 0);
        assert(streq(r->client, "VN/GOV/BYT/health-services"));
        assert(streq(r->service, "VN/GOV/BCA/population/citizen"));
        assert(streq(r->service_version, ""));
        assert(streq(r->id, "4894e35d-bf0f-44a6-867a-8e51f1daa7e0"));
        assert(streq(r->user_id, "VN-officer-17"));
        assert(streq(r->issue, "HS-2026/118"));
        assert(streq(r->protocol_version, "4.0"));
        assert(streq(r->subject, "001090000001"));
        assert(streq(r->purpose, "health-insurance-enrolment"));
        assert(streq(r->security_server, "") && streq(r->represented_party, ""));
        assert(!r->consent);
        assert(!r->signed_request);
        /* the X-Road fields in the order sent */
        assert(r->n_order == 6 && r->order[0] == SOAP_FIELD_CLIENT && r->order[2] == SOAP_FIELD_ID &&
               r->order[5] == SOAP_FIELD_PROTOCOL_VERSION);
        assert(streq(soap_request_service_code(r), "citizen"));
        /* requestHash: base64 SHA-512 of the bytes as sent (PR-MESS §2.2) */
        {
                char want[HASH_SHA512_B64_LEN + 1];
                hash_sha512_b64(citizen, citizen_size, want);
                assert(strlen(r->request_hash) == HASH_SHA512_B64_LEN && streq(r->request_hash, want));
        }
        assert(soap_node_is(r->body_payload, "https://schemas.xbus.gov.vn/soap/population/citizen", "citizen"));
        /* the payload stands alone: its namespace is declared on it */
        assert(r->payload_xml && r->payload_size == strlen(r->payload_xml));
        assert(strstr(r->payload_xml, "<pop:citizen"));
        assert(strstr(r->payload_xml, "xmlns:pop=\"https://schemas.xbus.gov.vn/soap/population/citizen\""));
        assert(!strstr(r->payload_xml, "<?xml"));

        /* optional parts: version, consent; an unknown header without mustUnderstand is ignored */
        {
                _cleanup_free_ char *t = mutate("<id:serviceCode>citizen</id:serviceCode>",
                                                "<id:serviceCode>citizen</id:serviceCode><id:serviceVersion>v1"
                                                "</id:serviceVersion>");
                _cleanup_free_ char *t2 = NULL;
                _cleanup_(soap_request_freep) SoapRequest *r2 = NULL;
                const char *at = strstr(t, "</SOAP-ENV:Header>");
                assert(asprintf(&t2,
                                "%.*s<xbus:consent>c-123 &amp; more</xbus:consent><o:Other xmlns:o=\"urn:o\">x"
                                "</o:Other>%s",
                                (int)(at - t), t, at) > 0);
                assert(parse(t2, &r2, &why) == 0);
                assert(streq(r2->service, "VN/GOV/BCA/population/citizen"));
                assert(streq(r2->service_version, "v1"));
                assert(r2->consent && streq(r2->consent, "c-123 & more"));
        }

        /* X-Road 4.x, any prefixes, a member client, securityServer, representedParty, a printable id */
        {
                static const char x[] =
                        "<a:Envelope xmlns:a=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                        "xmlns:b=\"http://x-road.eu/xsd/xroad.xsd\" xmlns:c=\"http://x-road.eu/xsd/identifiers\" "
                        "xmlns:r=\"http://x-road.eu/xsd/representation.xsd\"><a:Header>"
                        "<b:protocolVersion>4.1</b:protocolVersion><b:id>my id/ä 42</b:id>"
                        "<b:client c:objectType=\"MEMBER\"><c:xRoadInstance>EE</c:xRoadInstance>"
                        "<c:memberClass>GOV</c:memberClass><c:memberCode>7</c:memberCode></b:client>"
                        "<b:service c:objectType=\"SERVICE\"><c:xRoadInstance>EE</c:xRoadInstance>"
                        "<c:memberClass>GOV</c:memberClass><c:memberCode>1</c:memberCode>"
                        "<c:subsystemCode>reg</c:subsystemCode><c:serviceCode>pets</c:serviceCode></b:service>"
                        "<b:securityServer c:objectType=\"SERVER\"><c:xRoadInstance>EE</c:xRoadInstance>"
                        "<c:memberClass>GOV</c:memberClass><c:memberCode>XBUS</c:memberCode>"
                        "<c:serverCode>ss1</c:serverCode></b:securityServer>"
                        "<r:representedParty><r:partyClass>COM</r:partyClass><r:partyCode>123</r:partyCode>"
                        "</r:representedParty><b:requestHash>ignored</b:requestHash></a:Header>"
                        "<a:Body><p:petsById xmlns:p=\"urn:p\"/></a:Body></a:Envelope>";
                _cleanup_(soap_request_freep) SoapRequest *r3 = NULL;
                assert(parse(x, &r3, &why) == 0);
                assert(streq(r3->protocol_version, "4.1") && streq(r3->id, "my id/ä 42"));
                assert(streq(r3->client, "EE/GOV/7") && streq(r3->service, "EE/GOV/1/reg/pets"));
                assert(streq(r3->security_server, "EE/GOV/XBUS/ss1") && streq(r3->represented_party, "COM/123"));
                assert(r3->n_order == 6 && r3->order[0] == SOAP_FIELD_PROTOCOL_VERSION &&
                       r3->order[5] == SOAP_FIELD_REPRESENTED_PARTY);
        }
}

typedef struct Mutation {
        const char *from, *to;
        const char *why;   /* a word of the expected detail */
        ProblemXroad code; /* the X-Road code (XROAD_CODE_OF_TYPE: the type's own, Client.BadRequest) */
} Mutation;

static void test_parse_refusals(void)
{
        static const Mutation m[] = {
                { "<SOAP-ENV:Header>", "<SOAP-ENV:Headers>", "well-formed", XROAD_INVALID_XML },
                { "http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope", "1.2",
                  XROAD_INVALID_SOAP },
                { "id:objectType=\"SUBSYSTEM\"", "id:objectType=\"SERVICE\"", "objectType", XROAD_INVALID_XML },
                { "id:objectType=\"SERVICE\"", "", "objectType", XROAD_INVALID_XML },
                { "<id:memberClass>GOV</id:memberClass>", "", "identifier", XROAD_INVALID_XML },
                { "<id:memberCode>BYT</id:memberCode>", "<id:memberCode>B/YT</id:memberCode>", "identifier",
                  XROAD_INVALID_XML },
                { "<id:serviceCode>citizen</id:serviceCode>", "<id:serviceCode>citizen</id:serviceCode><id:x>1</id:x>",
                  "unexpected", XROAD_INVALID_XML },
                { "<xroad:id>4894e35d", "<xroad:id>48&#9;94", "xroad:id", XROAD_INVALID_XML },
                { "<xroad:protocolVersion>4.0", "<xroad:protocolVersion>3.1", "4.x", XROAD_INVALID_PROTOCOL_VERSION },
                { "<xroad:protocolVersion>4.0", "<xroad:protocolVersion>5.0", "4.x", XROAD_INVALID_PROTOCOL_VERSION },
                { "<xroad:protocolVersion>4.0</xroad:protocolVersion>", "", "protocolVersion",
                  XROAD_MISSING_HEADER_FIELD },
                { "<xroad:id>4894e35d-bf0f-44a6-867a-8e51f1daa7e0</xroad:id>", "", "xroad:id",
                  XROAD_MISSING_HEADER_FIELD },
                { "<xroad:userId>VN-officer-17</xroad:userId>",
                  "<xroad:userId>VN-officer-17</xroad:userId><xroad:userId>x</xroad:userId>", "repeated",
                  XROAD_DUPLICATE_HEADER_FIELD },
                { "<xroad:issue>HS-2026/118", "<xroad:issue>HS-2026/118&#10;", "issue", XROAD_INVALID_XML },
                { "<xroad:issue>HS-2026/118</xroad:issue>", "<xroad:issue><b>x</b></xroad:issue>", "issue",
                  XROAD_INVALID_XML },
                { "<xroad:issue>HS-2026/118</xroad:issue>", "<xroad:securityServer/>", "objectType",
                  XROAD_INVALID_XML },
                { "<xroad:issue>HS-2026/118</xroad:issue>", "<xroad:centralService/>", "understand",
                  XROAD_INVALID_XML },
                { "<xroad:issue>HS-2026/118</xroad:issue>",
                  "<r:representedParty xmlns:r=\"http://x-road.eu/xsd/representation.xsd\"><r:partyClass>A/B"
                  "</r:partyClass><r:partyCode>1</r:partyCode></r:representedParty>",
                  "representedParty", XROAD_INVALID_XML },
                { "<xbus:subject>001090000001", "<xbus:subject>0010 90000001", "subject", XROAD_CODE_OF_TYPE },
                { "<xbus:purpose>", "<xbus:nonsense/><xbus:purpose>", "understand", XROAD_INVALID_XML },
                { "<xroad:issue>", "<o:Must xmlns:o=\"urn:o\" SOAP-ENV:mustUnderstand=\"1\"/><xroad:issue>",
                  "mustUnderstand", XROAD_CODE_OF_TYPE },
                { "<pop:citizen/>", "", "exactly one", XROAD_INVALID_BODY },
                { "<pop:citizen/>", "<pop:citizen/><pop:citizen/>", "exactly one", XROAD_INVALID_BODY },
                { "<pop:citizen/>", "text<pop:citizen/>", "text", XROAD_INVALID_BODY },
                { "<pop:citizen/>", "<SOAP-ENV:Fault/>", "Fault", XROAD_INVALID_BODY },
                { "<pop:citizen/>", "<pop:getCitizen/>", "service code", XROAD_INCONSISTENT_HEADERS },
                { "<SOAP-ENV:Body>\n    <pop:citizen/>\n  </SOAP-ENV:Body>", "", "no Body", XROAD_MISSING_BODY },
                { "<SOAP-ENV:Header>", "<SOAP-ENV:Header/><SOAP-ENV:Headers>", "well-formed", XROAD_INVALID_XML },
                { "</SOAP-ENV:Body>", "</SOAP-ENV:Body><SOAP-ENV:Body/>", "after", XROAD_INVALID_SOAP },
                { "</SOAP-ENV:Body>", "</SOAP-ENV:Body><x/>", "after", XROAD_INVALID_SOAP },
                { "<SOAP-ENV:Header>", "junk<SOAP-ENV:Header>", "text", XROAD_INVALID_SOAP },
                { "</SOAP-ENV:Envelope>", "", "well-formed", XROAD_INVALID_XML },
        };

        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                _cleanup_free_ char *t = mutate(m[i].from, m[i].to);
                SoapRequest *r = NULL;
                Problem why = {};
                int k = parse(t, &r, &why);

                if (k != SOAP_E_REFUSED || !streq(problem_name(why.type), "bad_request") ||
                    !strstr(why.detail, m[i].why) || why.xroad != m[i].code)
                        fprintf(stderr, "mutation %zu: k=%d type=%s code=%s detail=%s\n", i, k, problem_name(why.type),
                                problem_xroad_code(&why), why.detail);
                assert(k == SOAP_E_REFUSED && !r);
                assert(streq(problem_name(why.type), "bad_request"));
                assert(strstr(why.detail, m[i].why));
                assert(why.xroad == m[i].code);
        }

        /* a header consent too long; a subject too long */
        {
                _cleanup_free_ char *big = malloc(SOAP_MAX_CONSENT + 2), *t = NULL, *t2 = NULL;
                SoapRequest *r = NULL;
                Problem why = {};

                memset(big, 'c', SOAP_MAX_CONSENT + 1);
                big[SOAP_MAX_CONSENT + 1] = 0;
                assert(asprintf(&t, "<xbus:consent>%s</xbus:consent></SOAP-ENV:Header>", big) > 0);
                t2 = mutate("</SOAP-ENV:Header>", t);
                assert(parse(t2, &r, &why) == SOAP_E_REFUSED && strstr(why.detail, "consent"));
                free(t2);
                big[SOAP_MAX_CONSENT] = 0;
                free(t);
                assert(asprintf(&t, "<xbus:consent>%s</xbus:consent></SOAP-ENV:Header>", big) > 0);
                t2 = mutate("</SOAP-ENV:Header>", t);
                assert(parse(t2, &r, &why) == 0);
                assert(strlen(r->consent) == SOAP_MAX_CONSENT);
                r = soap_request_free(r);
        }

        /* no Header at all */
        {
                _cleanup_free_ char *t = NULL;
                const char *h0 = strstr(citizen, "<SOAP-ENV:Header>"), *h1 = strstr(citizen, "</SOAP-ENV:Header>");
                SoapRequest *r = NULL;
                Problem why = {};

                assert(asprintf(&t, "%.*s%s", (int)(h0 - citizen), citizen, h1 + strlen("</SOAP-ENV:Header>")) > 0);
                assert(parse(t, &r, &why) == SOAP_E_REFUSED);
                assert(why.xroad == XROAD_MISSING_HEADER);
        }

        /* a refusal after xroad:id hands back the partial request, for the log */
        {
                _cleanup_free_ char *t = mutate("<xroad:protocolVersion>4.0", "<xroad:protocolVersion>9");
                SoapRequest *r = NULL, *partial = NULL;
                Problem why = {};

                assert(soap_request_parse(t, strlen(t), NULL, &r, &partial, &why) == SOAP_E_REFUSED);
                assert(!r && partial);
                assert(streq(partial->id, "4894e35d-bf0f-44a6-867a-8e51f1daa7e0"));
                assert(streq(partial->client, "VN/GOV/BYT/health-services"));
                soap_request_free(partial);
                /* not XML at all: nothing to hand back */
                assert(soap_request_parse("<x", 2, NULL, &r, &partial, &why) == SOAP_E_REFUSED);
                assert(!partial);
                assert(soap_request_parse("", 0, NULL, &r, &partial, &why) == SOAP_E_REFUSED);
                assert(streq(problem_name(why.type), "bad_request"));
        }
}

static void test_limits(void)
{
        SoapRequest *r = NULL;
        Problem why = {};
        SoapLimits l;

        /* size: refused before parsing */
        l = (SoapLimits){ .max_size = citizen_size - 1 };
        assert(soap_request_parse(citizen, citizen_size, &l, &r, NULL, &why) == SOAP_E_REFUSED);
        assert(streq(problem_name(why.type), "payload_too_large"));
        l.max_size = citizen_size;
        assert(soap_request_parse(citizen, citizen_size, &l, &r, NULL, &why) == 0);
        r = soap_request_free(r);

        /* depth: the envelope is 4 deep (Envelope/Header/client/xRoadInstance) */
        l = (SoapLimits){ .max_depth = 3 };
        assert(soap_request_parse(citizen, citizen_size, &l, &r, NULL, &why) == SOAP_E_REFUSED);
        assert(streq(problem_name(why.type), "bad_request") && strstr(why.detail, "deeply"));
        l.max_depth = 4;
        assert(soap_request_parse(citizen, citizen_size, &l, &r, NULL, &why) == 0);
        r = soap_request_free(r);
        /* a cap above libxml2's own limit is brought down */
        l = soap_limits_resolve(&(SoapLimits){ .max_depth = 100000 });
        assert(l.max_depth == SOAP_CAP_MAX_DEPTH);

        /* node count */
        l = (SoapLimits){ .max_nodes = 20 };
        assert(soap_request_parse(citizen, citizen_size, &l, &r, NULL, &why) == SOAP_E_REFUSED);
        assert(strstr(why.detail, "too many"));

        /* text, attribute values and comments */
        l = (SoapLimits){ .max_text = 12 };
        assert(soap_request_parse(citizen, citizen_size, &l, &r, NULL, &why) == SOAP_E_REFUSED);
        assert(strstr(why.detail, "too long"));
        {
                /* over a limit that lets the header's texts through: an attribute, a comment, CDATA */
                _cleanup_free_ char *big = malloc(50), *a = NULL, *c = NULL, *d = NULL;
                const char *v[3];

                l = (SoapLimits){ .max_text = 40 };
                assert(soap_request_parse(citizen, citizen_size, &l, &r, NULL, &why) == 0);
                r = soap_request_free(r);
                memset(big, 'x', 45);
                big[45] = 0;
                assert(asprintf(&a, "<pop:citizen a=\"%s\"/>", big) > 0);
                assert(asprintf(&c, "<!--%s--><pop:citizen/>", big) > 0);
                assert(asprintf(&d, "<pop:citizen><![CDATA[%s]]></pop:citizen>", big) > 0);
                v[0] = a;
                v[1] = c;
                v[2] = d;
                for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                        _cleanup_free_ char *m = mutate("<pop:citizen/>", v[i]);
                        assert(soap_request_parse(m, strlen(m), &l, &r, NULL, &why) == SOAP_E_REFUSED);
                        assert(strstr(why.detail, "too long"));
                }
        }
}

static void test_fault(void)
{
        _cleanup_free_ char *f = NULL;
        xmlDoc *doc = NULL;
        xmlNode *fault, *c;
        Problem p = {};
        size_t n = 0;

        /* X-Road's form (PR-MESS §2.5): unqualified children, the dotted code as text, no Header */
        assert(soap_fault_build("Server.ServerProxy.AccessDenied", "no right\nfor <this> & that",
                                "a6b3c9d0-2f7e-4c1a-9b3d-0e1f2a3b4c5d", &f, &n) == 0);
        assert(n == strlen(f));
        assert(strstr(f, "<faultcode>Server.ServerProxy.AccessDenied</faultcode>"));
        assert(strstr(f, "<faultstring>no right for &lt;this&gt; &amp; that</faultstring>"));
        assert(strstr(f, "<faultactor/>"));
        assert(strstr(f, "<detail><faultDetail>a6b3c9d0-2f7e-4c1a-9b3d-0e1f2a3b4c5d</faultDetail></detail>"));
        assert(!strstr(f, "Header") && !strstr(f, "xbus") && !strstr(f, "xroad"));
        assert(soap_xml_parse(f, n, NULL, &doc, NULL) == 0);
        fault = soap_first_element(soap_first_element(xmlDocGetRootElement(doc)));
        assert(soap_node_is(fault, SOAP_NS_ENV, "Fault"));
        for (c = soap_first_element(fault); c; c = soap_next_element(c))
                assert(!c->ns);
        xmlFreeDoc(doc);
        f = mfree(f);
        /* without a detail; a message that is not UTF-8 */
        assert(soap_fault_build("Client.X", "\xff\xfe", NULL, &f, &n) == 0);
        assert(!strstr(f, "detail") && strstr(f, "not printable"));
        f = mfree(f);

        /* the codes: a finer one first, the SOAP form of a provider's failure, else the type's */
        problem_set(&p, PROBLEM_PROVIDER_UNAVAILABLE, "down");
        assert(streq(soap_fault_code(&p), "Server.ServerProxy.ServiceFailed.NetworkError"));
        problem_set(&p, PROBLEM_PROVIDER_TIMEOUT, "slow");
        assert(streq(soap_fault_code(&p), "Server.ServerProxy.ServiceFailed.IOError"));
        problem_set(&p, PROBLEM_SERVICE_UNKNOWN, "x");
        assert(streq(soap_fault_code(&p), "Server.ServerProxy.UnknownService"));
        problem_set(&p, PROBLEM_SERVICE_UNKNOWN, "x");
        problem_refine(&p, XROAD_SERVICE_TYPE);
        assert(streq(soap_fault_code(&p), "Server.ServerProxy.ServiceType"));
        problem_set(&p, PROBLEM_ACCESS_DENIED, "x");
        assert(streq(soap_fault_code(&p), "Server.ServerProxy.AccessDenied") && p.xroad == XROAD_CODE_OF_TYPE);
}

static const char citizen_payload[] =
        "<pop:citizenResponse xmlns:pop=\"https://schemas.xbus.gov.vn/soap/population/citizen\">"
        "<pop:id>001090000001</pop:id><pop:full_name>Nguyễn Văn An</pop:full_name>"
        "<pop:birth_date>1990-08-06</pop:birth_date><pop:sex>male</pop:sex><pop:ethnicity>Kinh</pop:ethnicity>"
        "<pop:nationality>Việt Nam</pop:nationality><pop:place_of_birth>Hà Nội</pop:place_of_birth>"
        "<pop:hometown>Hà Nội</pop:hometown><pop:permanent_address><pop:house_number>246</pop:house_number>"
        "<pop:street>Quang Trung</pop:street><pop:ward>Phường 8</pop:ward><pop:district>Quận Long Biên"
        "</pop:district><pop:province>Hà Nội</pop:province></pop:permanent_address>"
        "<pop:household_id>001000123457</pop:household_id><pop:relationship_to_head>head"
        "</pop:relationship_to_head></pop:citizenResponse>";

static size_t occurrences(const char *s, const char *needle)
{
        size_t n = 0;

        for (const char *at = strstr(s, needle); at; at = strstr(at + 1, needle))
                n++;
        return n;
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

static void test_schemas_and_response(void)
{
        _cleanup_(registry_unrefp) Registry *reg = registry();
        _cleanup_(soap_schemas_freep) SoapSchemas *set = NULL, *emb = NULL;
        _cleanup_(soap_request_freep) SoapRequest *r = NULL;
        _cleanup_free_ char *root = test_path(source_root, "schemas"), *out = NULL, *err = NULL;
        const XsdSchema *req_xsd = NULL, *resp_xsd = NULL;
        Problem why = {};
        size_t n = 0;

        assert(soap_schemas_load(&set, reg, root, false, &err) == 0);
        assert(soap_schemas_count(set) == 2);
        assert(soap_schemas_lookup(set, "VN/GOV/BTC/tax/tax-status", NULL, NULL));
        assert(!soap_schemas_lookup(set, "VN/GOV/BTC/tax/tax-obligation-check", NULL, NULL));
        assert(soap_schemas_lookup(set, "VN/GOV/BCA/population/citizen", &req_xsd, &resp_xsd));
        assert(req_xsd && resp_xsd);
        /* the same files compiled into the library */
        assert(soap_schemas_load(&emb, reg, "schemas", true, &err) == 0);
        assert(soap_schemas_count(emb) == 2);
        /* a folder without soap/ offers nothing; a broken XSD refuses the set */
        {
                _cleanup_free_ char *tmp = test_tmpdir("soap-schemas"), *d1 = test_path(tmp, "soap"),
                                    *d2 = test_path(tmp, "soap/population"),
                                    *f = test_path(tmp, "soap/population/citizen.request.xsd");
                SoapSchemas *s = NULL;
                assert(soap_schemas_load(&s, reg, tmp, false, &err) == 0 && soap_schemas_count(s) == 0);
                s = soap_schemas_free(s);
                assert(mkdir(d1, 0700) == 0 && mkdir(d2, 0700) == 0);
                test_write_file(f,
                                "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:bogus/>"
                                "</xs:schema>",
                                64, 0600);
                assert(soap_schemas_load(&s, reg, tmp, false, &err) == -EINVAL);
                assert(err && strstr(err, "citizen.request.xsd"));
                err = mfree(err);
                test_rm_rf(tmp);
        }

        assert(parse(citizen, &r, &why) == 0);
        assert(soap_request_validate(r, req_xsd, &why) == 0);
        assert(soap_request_validate(r, NULL, &why) == 0);
        assert(soap_request_validate(r, resp_xsd, &why) == SOAP_E_REFUSED);
        assert(streq(problem_name(why.type), "request_invalid") && strstr(why.detail, "schema"));

        /* a valid answer: enveloped with the echoed header, the request hash right after the id */
        assert(soap_response_build(r, citizen_payload, strlen(citizen_payload),
                                   &(SoapResponseOptions){ .schema = resp_xsd }, &out, &n, &why) == 0);
        assert(n == strlen(out));
        {
                _cleanup_free_ char *rh = NULL;
                assert(asprintf(&rh,
                                "<xroad:id>4894e35d-bf0f-44a6-867a-8e51f1daa7e0</xroad:id><xroad:requestHash "
                                "algorithmId=\"http://www.w3.org/2001/04/xmlenc#sha512\">%s</xroad:requestHash>"
                                "<xroad:userId>VN-officer-17</xroad:userId><xroad:issue>HS-2026/118</xroad:issue>"
                                "<xroad:protocolVersion>4.0</xroad:protocolVersion></SOAP-ENV:Header>",
                                r->request_hash) > 0);
                assert(strstr(out, rh));
        }
        assert(strstr(out, "Nguyễn Văn An"));
        assert(!strstr(out, "Signature") && !strstr(out, "xbus:"));

        /* the provider's whole envelope (the soap adapter's case): its header must echo the request's */
        {
                _cleanup_free_ char *again = NULL, *forged = NULL, *fault = NULL;
                char *none = NULL;
                const char *at = strstr(out, "4894e35d");

                assert(soap_response_build(r, out, n, &(SoapResponseOptions){ .schema = resp_xsd }, &again, &n, &why) ==
                       0);
                assert(strstr(again, "Nguyễn Văn An"));
                /* one requestHash, the node's (the provider's own is not copied) */
                assert(occurrences(again, "<xroad:requestHash") == 1);
                assert(asprintf(&forged, "%.*s5894e35d%s", (int)(at - out), out, at + 8) > 0);
                assert(soap_response_build(r, forged, strlen(forged), NULL, &none, &n, &why) == SOAP_E_REFUSED);
                assert(streq(problem_name(why.type), "response_invalid") &&
                       why.xroad == XROAD_SERVICE_FAILED_INCONSISTENT);
                /* the provider's Fault: to be relayed as it is, whatever the status */
                assert(soap_fault_build("Server.Foo", "no", NULL, &fault, &n) == 0);
                assert(soap_response_build(r, fault, n, &(SoapResponseOptions){ .status = 500 }, &none, &n, &why) ==
                       SOAP_E_FAULT);
                /* an error status without a Fault */
                assert(soap_response_build(r, citizen_payload, strlen(citizen_payload),
                                           &(SoapResponseOptions){ .status = 503 }, &none, &n, &why) == SOAP_E_REFUSED);
                assert(!none);
                assert(streq(problem_name(why.type), "provider_error"));
        }
        out = mfree(out);

        /* refused answers: invalid, not XML, hostile, an empty envelope, SOAP 1.2, too large */
        {
                static const struct {
                        const char *answer, *code;
                } bad[] = {
                        { "<pop:citizenResponse xmlns:pop=\"https://schemas.xbus.gov.vn/soap/population/citizen\"/>",
                          "Server.ServerProxy.ServiceFailed.InvalidResponse" },
                        { "{\"id\":\"001090000001\"}", "Server.ServerProxy.ServiceFailed.InvalidXml" },
                        { "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>", "Server.ServerProxy.ServiceFailed.InvalidXml" },
                        { "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body/></e:Envelope>",
                          "Server.ServerProxy.ServiceFailed.InvalidSoap" },
                        { "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body/></e:Envelope>",
                          "Server.ServerProxy.ServiceFailed.InvalidSoap" },
                        { "", "Server.ServerProxy.ServiceFailed.InvalidXml" },
                };
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        why = (Problem){};
                        assert(soap_response_build(r, bad[i].answer, strlen(bad[i].answer),
                                                   &(SoapResponseOptions){ .schema = resp_xsd }, &out, &n,
                                                   &why) == SOAP_E_REFUSED);
                        assert(streq(problem_name(why.type), "response_invalid"));
                        assert(streq(problem_xroad_code(&why), bad[i].code));
                        assert(!strstr(why.detail, "001090000001"));
                }
                assert(soap_response_build(r, citizen_payload, strlen(citizen_payload),
                                           &(SoapResponseOptions){ .limits = &(SoapLimits){ .max_size = 100 } }, &out,
                                           &n, &why) == SOAP_E_REFUSED);
                assert(strstr(why.detail, "size limit"));
        }
}

static int wrap(const char *payload, const SoapWrapHeader *h, char **ret, size_t *ret_size)
{
        return soap_envelope_wrap(payload, strlen(payload), NULL, h, ret, ret_size);
}

static void test_wrap(void)
{
        _cleanup_free_ char *env = NULL;
        _cleanup_(soap_request_freep) SoapRequest *r = NULL;
        Problem why = {};
        size_t n;

        assert(wrap("<t:tax-status xmlns:t=\"urn:t\"/>",
                    &(SoapWrapHeader){ .client = "VN/GOV/BYT/health-services",
                                       .service = "VN/GOV/BTC/tax/tax-status",
                                       .id = "id 1/ä",
                                       .user_id = "officer",
                                       .represented_party = "COM/12/3",
                                       .subject = "001090000001",
                                       .purpose = "p-1" },
                    &env, &n) == 0);
        assert(soap_request_parse(env, n, NULL, &r, NULL, &why) == 0);
        assert(streq(r->client, "VN/GOV/BYT/health-services") && streq(r->service, "VN/GOV/BTC/tax/tax-status"));
        assert(streq(r->id, "id 1/ä") && streq(r->user_id, "officer") && streq(r->issue, ""));
        assert(streq(r->protocol_version, "4.0") && streq(r->represented_party, "COM/12/3"));
        assert(streq(r->subject, "001090000001") && streq(r->purpose, "p-1"));
        assert(strstr(env, "<repr:partyClass>COM</repr:partyClass><repr:partyCode>12/3</repr:partyCode>"));
        env = mfree(env);
        /* a member client (three parts) is X-Road's MEMBER */
        assert(wrap("<t:t xmlns:t=\"urn:t\"/>",
                    &(SoapWrapHeader){ .client = "VN/GOV/BYT", .service = "VN/GOV/BTC/tax/t", .id = "i" }, &env,
                    &n) == 0);
        assert(strstr(env, "objectType=\"MEMBER\""));
        env = mfree(env);
        /* malformed identifiers, ids and payloads */
        assert(wrap("<x/>", &(SoapWrapHeader){ .client = "VN/GOV", .service = "VN/GOV/BTC/tax/t", .id = "i" }, &env,
                    &n) == -EINVAL);
        assert(wrap("<x/>",
                    &(SoapWrapHeader){ .client = "VN/GOV/BYT/a", .service = "VN/GOV/BTC/tax/tax-status/x/y", .id = "i" },
                    &env, &n) == -EINVAL);
        assert(wrap("<x/>",
                    &(SoapWrapHeader){ .client = "VN/GOV/BYT/a", .service = "VN/GOV/BTC/tax/t", .id = "bad\tid" }, &env,
                    &n) == -EINVAL);
        assert(wrap("<x/>", &(SoapWrapHeader){ .client = "VN/GOV/BYT/a", .service = "VN/GOV/BTC/tax/t", .id = "" },
                    &env, &n) == -EINVAL);
        assert(wrap("not xml", &(SoapWrapHeader){ .client = "VN/GOV/BYT/a", .service = "VN/GOV/BTC/tax/t", .id = "i" },
                    &env, &n) == -EINVAL);
}

static void *parse_worker(void *arg)
{
        for (int i = 0; i < 300; i++) {
                SoapRequest *r = NULL;
                Problem why = {};
                assert(soap_request_parse(citizen, citizen_size, NULL, &r, NULL, &why) == 0);
                soap_request_free(r);
        }
        return NULL;
}

static void test_threads(void)
{
        pthread_t t[4];

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                assert(pthread_create(&t[i], NULL, parse_worker, NULL) == 0);
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                assert(pthread_join(t[i], NULL) == 0);
}

int main(void)
{
        const char *root = getenv("XBUS_SOURCE_ROOT");

        source_root = strdup(isempty(root) ? XBUS_SOURCE_ROOT : root);
        citizen = load("tests/soap/requests/citizen.xml", &citizen_size);
        test_global();
        test_parse_good();
        test_parse_refusals();
        test_limits();
        test_fault();
        test_schemas_and_response();
        test_wrap();
        test_threads();
        free(citizen);
        free(source_root);
        printf("test-soap: ok\n");
        return 0;
}
