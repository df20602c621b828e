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
        assert(!r->consent);
        assert(!r->signed_request);
        assert(strlen(r->request_hash) == 64);
        assert(soap_node_is(r->body_payload, "https://schemas.xbus.gov.vn/soap/population/citizen", "getCitizen"));
        /* the payload stands alone: its namespace is declared on it */
        assert(r->payload_xml && r->payload_size == strlen(r->payload_xml));
        assert(strstr(r->payload_xml, "getCitizen"));
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
}

typedef struct Mutation {
        const char *from, *to;
        const char *why; /* a word of the expected detail */
} Mutation;

static void test_parse_refusals(void)
{
        static const Mutation m[] = {
                { "<SOAP-ENV:Header>", "<SOAP-ENV:Headers>", "well-formed" },
                { "http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope", "1.2" },
                { "id:objectType=\"SUBSYSTEM\"", "id:objectType=\"MEMBER\"", "SUBSYSTEM" },
                { "id:objectType=\"SERVICE\"", "", "SERVICE" },
                { "<id:memberClass>GOV</id:memberClass>", "", "identifier" },
                { "<id:memberCode>BYT</id:memberCode>", "<id:memberCode>B/YT</id:memberCode>", "identifier" },
                { "<id:serviceCode>citizen</id:serviceCode>", "<id:serviceCode>citizen</id:serviceCode><id:x>1</id:x>",
                  "unexpected" },
                { "<xroad:id>4894e35d", "<xroad:id>48 94", "xroad:id" },
                { "<xroad:protocolVersion>4.0", "<xroad:protocolVersion>3.1", "4.0" },
                { "<xroad:protocolVersion>4.0</xroad:protocolVersion>", "", "protocolVersion" },
                { "<xroad:userId>VN-officer-17</xroad:userId>",
                  "<xroad:userId>VN-officer-17</xroad:userId><xroad:userId>x</xroad:userId>", "repeated" },
                { "<xroad:issue>HS-2026/118", "<xroad:issue>HS-2026/118&#10;", "issue" },
                { "<xroad:issue>HS-2026/118</xroad:issue>", "<xroad:issue><b>x</b></xroad:issue>", "issue" },
                { "<xroad:issue>HS-2026/118</xroad:issue>", "<xroad:securityServer/>", "understand" },
                { "<xbus:subject>001090000001", "<xbus:subject>0010 90000001", "subject" },
                { "<xbus:purpose>", "<xbus:nonsense/><xbus:purpose>", "understand" },
                { "<xroad:issue>", "<o:Must xmlns:o=\"urn:o\" SOAP-ENV:mustUnderstand=\"1\"/><xroad:issue>",
                  "mustUnderstand" },
                { "<pop:getCitizen/>", "", "payload" },
                { "<pop:getCitizen/>", "<pop:getCitizen/><pop:getCitizen/>", "more than one" },
                { "<pop:getCitizen/>", "text<pop:getCitizen/>", "text" },
                { "<pop:getCitizen/>", "<SOAP-ENV:Fault/>", "Fault" },
                { "</SOAP-ENV:Body>", "</SOAP-ENV:Body><SOAP-ENV:Body/>", "after" },
                { "</SOAP-ENV:Body>", "</SOAP-ENV:Body><x/>", "after" },
                { "<SOAP-ENV:Header>", "junk<SOAP-ENV:Header>", "text" },
                { "</SOAP-ENV:Envelope>", "", "well-formed" },
        };

        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                _cleanup_free_ char *t = mutate(m[i].from, m[i].to);
                SoapRequest *r = NULL;
                Problem why = {};
                int k = parse(t, &r, &why);

                if (k != SOAP_E_REFUSED || !streq(problem_name(why.type), "bad_request") ||
                    !strstr(why.detail, m[i].why))
                        fprintf(stderr, "mutation %zu: k=%d type=%s detail=%s\n", i, k, problem_name(why.type),
                                why.detail);
                assert(k == SOAP_E_REFUSED && !r);
                assert(streq(problem_name(why.type), "bad_request"));
                assert(strstr(why.detail, m[i].why));
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

        /* a refusal after xroad:id hands back the partial request, for the log and the Fault */
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
                assert(asprintf(&a, "<pop:getCitizen a=\"%s\"/>", big) > 0);
                assert(asprintf(&c, "<!--%s--><pop:getCitizen/>", big) > 0);
                assert(asprintf(&d, "<pop:getCitizen><![CDATA[%s]]></pop:getCitizen>", big) > 0);
                v[0] = a;
                v[1] = c;
                v[2] = d;
                for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                        _cleanup_free_ char *m = mutate("<pop:getCitizen/>", v[i]);
                        assert(soap_request_parse(m, strlen(m), &l, &r, NULL, &why) == SOAP_E_REFUSED);
                        assert(strstr(why.detail, "too long"));
                }
        }
}

static void test_fault(void)
{
        _cleanup_free_ char *f = NULL;
        xmlDoc *doc = NULL;
        Problem why = {};
        size_t n = 0;

        assert(soap_fault_build(PROBLEM_ACCESS_DENIED, "no right\nfor this", "x-1", NULL, &f, &n) == 0);
        assert(n == strlen(f));
        assert(strstr(f, "<faultcode>SOAP-ENV:Client.access_denied</faultcode>"));
        assert(strstr(f, "<xbus:type>access_denied</xbus:type>"));
        assert(strstr(f, "<xbus:status>403</xbus:status>"));
        assert(strstr(f, "<xbus:detail>no right for this</xbus:detail>"));
        assert(strstr(f, "<xbus:xroadId>x-1</xbus:xroadId>"));
        assert(!strstr(f, "Header"));
        assert(soap_xml_parse(f, n, NULL, &doc, NULL) == 0);
        assert(soap_fault_read(doc, &why));
        assert(streq(problem_name(why.type), "access_denied"));
        assert(strstr(why.detail, "access right"));
        assert(soap_envelope_payload(doc, &(char *){ NULL }, &n) == -EBADMSG);
        xmlFreeDoc(doc);
        f = mfree(f);

        /* 5xx types are Server faults; unknown types render as internal_error; markup in detail is escaped */
        assert(soap_fault_build(PROBLEM_PROVIDER_TIMEOUT, NULL, NULL, NULL, &f, &n) == 0);
        assert(strstr(f, "SOAP-ENV:Server.provider_timeout"));
        f = mfree(f);
        assert(soap_fault_build(_PROBLEM_TYPE_MAX, "<b>&", "bad id with spaces", NULL, &f, &n) == 0);
        assert(strstr(f, "SOAP-ENV:Server.internal_error"));
        assert(strstr(f, "&lt;b&gt;&amp;"));
        assert(!strstr(f, "xroadId"));
        f = mfree(f);

        /* with a request: the X-Road header is echoed */
        {
                _cleanup_(soap_request_freep) SoapRequest *r = NULL;
                assert(parse(citizen, &r, &why) == 0);
                assert(soap_fault_build(PROBLEM_CONSENT_REQUIRED, "x", r->id, r, &f, &n) == 0);
                assert(strstr(f, "<xroad:id>4894e35d-bf0f-44a6-867a-8e51f1daa7e0</xroad:id>"));
                assert(strstr(f, "<id:serviceCode>citizen</id:serviceCode>"));
                assert(strstr(f, "<xroad:protocolVersion>4.0</xroad:protocolVersion>"));
                assert(soap_xml_parse(f, n, NULL, &doc, NULL) == 0);
                assert(soap_fault_read(doc, &why) && streq(problem_name(why.type), "consent_required"));
                xmlFreeDoc(doc);
        }
        /* a foreign Fault: the type comes from the faultcode, or provider_error */
        {
                static const char foreign[] =
                        "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body><e:Fault>"
                        "<faultcode>e:Server</faultcode><faultstring>db down</faultstring></e:Fault></e:Body>"
                        "</e:Envelope>";
                assert(soap_xml_parse(foreign, strlen(foreign), NULL, &doc, NULL) == 0);
                assert(soap_fault_read(doc, &why));
                assert(streq(problem_name(why.type), "provider_error") && streq(why.detail, "db down"));
                xmlFreeDoc(doc);
        }
}

static const char citizen_payload[] =
        "<pop:citizen xmlns:pop=\"https://schemas.xbus.gov.vn/soap/population/citizen\">"
        "<pop:id>001090000001</pop:id><pop:full_name>Nguyễn Văn An</pop:full_name>"
        "<pop:birth_date>1990-08-06</pop:birth_date><pop:sex>male</pop:sex><pop:ethnicity>Kinh</pop:ethnicity>"
        "<pop:nationality>Việt Nam</pop:nationality><pop:place_of_birth>Hà Nội</pop:place_of_birth>"
        "<pop:hometown>Hà Nội</pop:hometown><pop:permanent_address><pop:house_number>246</pop:house_number>"
        "<pop:street>Quang Trung</pop:street><pop:ward>Phường 8</pop:ward><pop:district>Quận Long Biên"
        "</pop:district><pop:province>Hà Nội</pop:province></pop:permanent_address>"
        "<pop:household_id>001000123457</pop:household_id><pop:relationship_to_head>head"
        "</pop:relationship_to_head></pop:citizen>";

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
        _cleanup_free_ char *root = test_path(source_root, "schemas"), *out = NULL, *again = NULL, *err = NULL;
        const XsdSchema *req_xsd = NULL, *resp_xsd = NULL;
        Problem why = {};
        size_t n = 0;
        xmlDoc *doc = NULL;

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

        /* a valid answer: enveloped with the echoed header and the request hash */
        assert(soap_response_build(r, citizen_payload, strlen(citizen_payload),
                                   &(SoapResponseOptions){ .schema = resp_xsd }, &out, &n, &why) == 0);
        assert(n == strlen(out));
        assert(strstr(out, "<xroad:id>4894e35d-bf0f-44a6-867a-8e51f1daa7e0</xroad:id>"));
        assert(strstr(out, "<xroad:userId>VN-officer-17</xroad:userId>"));
        assert(strstr(out, "<xroad:requestHash algorithmId=\"http://www.w3.org/2001/04/xmlenc#sha256\">"));
        assert(strstr(out, "Nguyễn Văn An"));
        assert(!strstr(out, "Signature"));
        assert(soap_xml_parse(out, n, NULL, &doc, NULL) == 0);
        assert(!soap_fault_read(doc, &why));
        assert(soap_envelope_payload(doc, &again, &n) == 0);
        assert(strstr(again, "<pop:full_name>Nguyễn Văn An</pop:full_name>"));
        xmlFreeDoc(doc);
        out = mfree(out);

        /* refused answers: invalid, not XML, hostile, an envelope, too large */
        {
                static const char *const bad[] = {
                        "<pop:citizen xmlns:pop=\"https://schemas.xbus.gov.vn/soap/population/citizen\"/>",
                        "{\"id\":\"001090000001\"}",
                        "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>",
                        "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body/></e:Envelope>",
                        "",
                };
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        why = (Problem){};
                        assert(soap_response_build(r, bad[i], strlen(bad[i]),
                                                   &(SoapResponseOptions){ .schema = resp_xsd }, &out, &n,
                                                   &why) == SOAP_E_REFUSED);
                        assert(streq(problem_name(why.type), "response_invalid"));
                        assert(!strstr(why.detail, "001090000001"));
                }
                assert(soap_response_build(r, citizen_payload, strlen(citizen_payload),
                                           &(SoapResponseOptions){ .limits = &(SoapLimits){ .max_size = 100 } }, &out,
                                           &n, &why) == SOAP_E_REFUSED);
                assert(strstr(why.detail, "size limit"));
        }
}

static void test_wrap(void)
{
        _cleanup_free_ char *env = NULL;
        _cleanup_(soap_request_freep) SoapRequest *r = NULL;
        Problem why = {};
        size_t n;

        assert(soap_envelope_wrap("<t:getTaxStatus xmlns:t=\"urn:t\"/>", 33, NULL, "VN/GOV/BYT/health-services",
                                  "VN/GOV/BTC/tax/tax-status", "id-1", "officer", NULL, "001090000001", "p-1", &env,
                                  &n) == 0);
        assert(soap_request_parse(env, n, NULL, &r, NULL, &why) == 0);
        assert(streq(r->client, "VN/GOV/BYT/health-services") && streq(r->service, "VN/GOV/BTC/tax/tax-status"));
        assert(streq(r->id, "id-1") && streq(r->user_id, "officer") && streq(r->issue, ""));
        assert(streq(r->subject, "001090000001") && streq(r->purpose, "p-1"));
        env = mfree(env);
        /* malformed identifiers and payloads */
        assert(soap_envelope_wrap("<x/>", 4, NULL, "VN/GOV/BYT", "VN/GOV/BTC/tax/tax-status", "i", NULL, NULL, NULL,
                                  NULL, &env, &n) == -EINVAL);
        assert(soap_envelope_wrap("<x/>", 4, NULL, "VN/GOV/BYT/a", "VN/GOV/BTC/tax/tax-status/x", "i", NULL, NULL, NULL,
                                  NULL, &env, &n) == -EINVAL);
        assert(soap_envelope_wrap("<x/>", 4, NULL, "VN/GOV/BYT/a", "VN/GOV/BTC/tax/t", "bad id", NULL, NULL, NULL, NULL,
                                  &env, &n) == -EINVAL);
        assert(soap_envelope_wrap("not xml", 7, NULL, "VN/GOV/BYT/a", "VN/GOV/BTC/tax/t", "i", NULL, NULL, NULL, NULL,
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
