/* test-sample-soap.c: the SOAP renderings of population/citizen and tax/tax-status, valid against their XSDs */
#include <assert.h>
#include <stdio.h>

#include <libxml/tree.h>

#include "tests/support/test-util.h"
#include "sample/dataset.h"
#include "sample/sample-soap.h"
#include "soap/soap.h"
#include "validate/xsd.h"
#include "xbus-config.h"

#define PEOPLE 60
#define SEED 42

static XsdSchema *xsd(const char *rel)
{
        const char *root = getenv("XBUS_SOURCE_ROOT");
        _cleanup_free_ char *path = NULL, *text = NULL;
        XsdSchema *s = NULL;
        size_t n;

        assert(asprintf(&path, "%s/%s", isempty(root) ? XBUS_SOURCE_ROOT : root, rel) > 0);
        text = test_read_file(path, &n);
        assert(text);
        assert(xsd_schema_new(&s, text, n, NULL, NULL, NULL) == 0);
        return s;
}

/* Ask `service` about `subject` with `payload` in the Body; the answer's envelope. */
static char *ask(DatasetReader *r, const char *service, const char *payload, const char *subject, int *status)
{
        _cleanup_free_ char *env = NULL;
        char *out = NULL;
        size_t n, out_n;

        assert(soap_envelope_wrap(payload, strlen(payload), NULL,
                                  &(SoapWrapHeader){ .client = "VN/GOV/BYT/health-services",
                                                     .service = service,
                                                     .id = "t-1",
                                                     .subject = subject,
                                                     .purpose = "health-insurance-enrolment" },
                                  &env, &n) == 0);
        assert(sample_soap_answer(r, env, n, &out, &out_n, status) == 0);
        assert(out && out_n == strlen(out));
        return out;
}

/* The Body's element of the envelope in `doc`. */
static xmlNode *body_element(xmlDoc *doc)
{
        xmlNode *body = soap_next_element(soap_first_element(xmlDocGetRootElement(doc)));

        assert(soap_node_is(body, SOAP_NS_ENV, "Body"));
        return soap_first_element(body);
}

/* The faultcode of the Fault envelope `text` (static buffer), or NULL when it is no Fault. */
static const char *fault_code(const char *text)
{
        static char code[128];
        xmlDoc *doc = NULL;
        xmlNode *f;
        xmlChar *c;

        assert(soap_xml_parse(text, strlen(text), NULL, &doc, NULL) == 0);
        f = soap_first_element(xmlDocGetRootElement(doc));
        if (soap_node_is(f, SOAP_NS_ENV, "Header"))
                f = soap_next_element(f);
        f = soap_first_element(f);
        if (!soap_node_is(f, SOAP_NS_ENV, "Fault")) {
                xmlFreeDoc(doc);
                return NULL;
        }
        c = xmlNodeGetContent(soap_first_element(f));
        snprintf(code, sizeof(code), "%s", (const char *)c);
        xmlFree(c);
        xmlFreeDoc(doc);
        return code;
}

int main(void)
{
        char dir[] = "/tmp/xbus-test-sample-soap-XXXXXX";
        _cleanup_(dataset_freep) Dataset *d = NULL;
        _cleanup_(dataset_reader_freep) DatasetReader *r = NULL;
        static const struct {
                const char *service, *request, *xsd;
        } svc[] = {
                { "VN/GOV/BCA/population/citizen", "<p:citizen xmlns:p=\"" SAMPLE_SOAP_NS_CITIZEN "\"/>",
                  "schemas/soap/population/citizen.response.xsd" },
                { "VN/GOV/BTC/tax/tax-status", "<t:tax-status xmlns:t=\"" SAMPLE_SOAP_NS_TAX_STATUS "\"/>",
                  "schemas/soap/tax/tax-status.response.xsd" },
        };
        char id[DATASET_ID_LEN + 1];
        unsigned valid[2] = {}, not_found[2] = {};
        char *out;
        int status;

        assert(soap_global_init() == 0);
        assert(mkdtemp(dir));
        assert(dataset_generate(dir, PEOPLE, SEED) == 0);
        assert(dataset_open(&d, dir) == 0);
        assert(dataset_reader_new(d, &r) == 0);

        for (size_t s = 0; s < ELEMENTSOF(svc); s++) {
                XsdSchema *schema = xsd(svc[s].xsd);
                for (uint64_t i = 0; i < PEOPLE; i++) {
                        xmlDoc *doc = NULL;
                        xmlNode *payload;

                        dataset_person_id(SEED, i, id);
                        out = ask(r, svc[s].service, svc[s].request, id, &status);
                        if (status == 500) {
                                assert(streq(fault_code(out), "Client.not_found"));
                                not_found[s]++;
                                free(out);
                                continue;
                        }
                        assert(status == 200);
                        assert(strstr(out, "<xroad:id>t-1</xroad:id>"));
                        assert(soap_xml_parse(out, strlen(out), NULL, &doc, NULL) == 0);
                        payload = body_element(doc);
                        /* the answer's element is the service code and "Response" (doc/literal wrapped) */
                        assert(streq((const char *)payload->name, s == 0 ? "citizenResponse" : "tax-statusResponse"));
                        /* the payload validates against the service's response XSD */
                        if (xsd_validate_element(schema, payload, NULL) != 0)
                                fprintf(stderr, "invalid rendering: %s\n", out);
                        assert(xsd_validate_element(schema, payload, NULL) == 0);
                        if (i == 0)
                                assert(strstr(out, s == 0 ? "Nguyễn Văn An" : "<tax:tax_code>001090000001"));
                        xmlFreeDoc(doc);
                        free(out);
                        valid[s]++;
                }
                xsd_schema_free(schema);
                printf("test-sample-soap: %s: %u valid renderings, %u not found\n", svc[s].service, valid[s],
                       not_found[s]);
                assert(valid[s] > 0);
        }

        /* faults for what the requester got wrong */
        out = ask(r, svc[0].service, svc[0].request, "999999999999", &status);
        assert(status == 500 && streq(fault_code(out), "Client.not_found"));
        free(out);
        out = ask(r, svc[0].service, svc[0].request, NULL, &status);
        assert(status == 500 && streq(fault_code(out), "Client.bad_request"));
        free(out);
        out = ask(r, svc[0].service, svc[1].request, "001090000001", &status);
        assert(status == 500 && streq(fault_code(out), "Client.bad_request"));
        free(out);
        out = ask(r, "VN/GOV/BTP/civil-status/birth-record", "<b:birth-record xmlns:b=\"urn:b\"/>", "001090000001",
                  &status);
        assert(status == 500 && streq(fault_code(out), "Client.service_unknown"));
        free(out);
        {
                static const char *const bad[] = { "not xml",
                                                   "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
                                                   "" };
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        size_t n;
                        assert(sample_soap_answer(r, bad[i], strlen(bad[i]), &out, &n, &status) == 0);
                        assert(status == 500 && streq(fault_code(out), "Client.bad_request"));
                        assert(!strstr(out, "root:"));
                        free(out);
                }
        }

        /* rendering */
        {
                char *x = NULL;
                size_t n;
                assert(sample_soap_render("VN/GOV/BTC/tax/tax-status", "[1]", 3, &x, &n) == -EINVAL);
                assert(sample_soap_render("VN/GOV/X/y/z", "{}", 2, &x, &n) == -ENOENT);
                assert(sample_soap_render("VN/GOV/BTC/tax/tax-status", "{\"a\":null,\"b\":{\"c\":true},\"d\":7}", 31,
                                          &x, &n) == 0);
                assert(streq(x, "<tax:tax-statusResponse xmlns:tax=\"" SAMPLE_SOAP_NS_TAX_STATUS "\"><tax:b><tax:c>true"
                                "</tax:c></tax:b><tax:d>7</tax:d></tax:tax-statusResponse>"));
                free(x);
                assert(sample_soap_render("VN/GOV/BTC/tax/tax-status", "{\"not a name\":1}", 16, &x, &n) == -EINVAL);
        }
        test_rm_rf(dir);
        printf("test-sample-soap: ok\n");
        return 0;
}
