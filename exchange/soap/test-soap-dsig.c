/* test-soap-dsig.c: XMLDSig signing, locked-down verification, xmlsec1 interop and the attack corpus */
#include <assert.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <xmlsec/io.h>

#include "tests/support/test-util.h"
#include "soap/soap-dsig.h"
#include "soap/soap-schemas.h"
#include "soap/soap.h"
#include "xbus-config.h"

#define SECRET "XBUS-SOAP-SECRET-5b1f"

static char *source_root;
static char *fixtures; /* $XBUS_SOAP_FIXTURES: pki, requests and attacks made by tests/soap/make-corpus.py */
static SoapTrust *trust;

static char *load_from(const char *dir, const char *rel, size_t *size)
{
        _cleanup_free_ char *p = test_path(dir, rel);
        char *t = test_read_file(p, size);
        if (!t)
                fprintf(stderr, "cannot read %s\n", p);
        assert(t);
        return t;
}

/* a file of the source tree (schemas) */
static char *load(const char *rel, size_t *size)
{
        return load_from(source_root, rel, size);
}

/* a generated fixture: pki/..., requests/..., attacks/... */
static char *load_fixture(const char *rel, size_t *size)
{
        return load_from(fixtures, rel, size);
}

static char *pki_path(const char *name)
{
        char *p = NULL;
        assert(asprintf(&p, "%s/pki/%s", fixtures, name) > 0);
        return p;
}

static SoapSigner *signer(const char *key, const char *cert)
{
        _cleanup_free_ char *k = NULL, *c = NULL, *kp = NULL, *cp = NULL;
        SoapSigner *s = NULL;
        size_t kn, cn;

        assert(asprintf(&kp, "pki/%s", key) > 0 && asprintf(&cp, "pki/%s", cert) > 0);
        k = load_fixture(kp, &kn);
        c = load_fixture(cp, &cn);
        assert(soap_signer_new(&s, k, kn, c, cn) == 0);
        return s;
}

/* --- noticing any file or network access --------------------------------------- */

static unsigned entity_loads, xmlsec_opens;

static xmlParserInputPtr counting_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
        entity_loads++;
        return NULL;
}

static int xmlsec_match(const char *uri)
{
        xmlsec_opens++;
        return 0; /* never ours: the open fails */
}

static void *xmlsec_open(const char *uri)
{
        return NULL;
}

static int xmlsec_read(void *ctx, char *buf, int len)
{
        return -1;
}

static int xmlsec_close(void *ctx)
{
        return 0;
}

/* --- tests ----------------------------------------------------------------------- */

static void test_trust_and_signer(void)
{
        _cleanup_free_ char *ca = NULL, *key = NULL, *cert = NULL, *other = NULL;
        SoapTrust *t = NULL;
        SoapSigner *s = NULL;
        size_t ca_n, key_n, cert_n, other_n;

        ca = load_fixture("pki/ca.crt", &ca_n);
        assert(soap_trust_new(&trust, ca, ca_n) == 0);
        assert(soap_trust_new(&t, "junk", 4) == -EINVAL);
        assert(soap_trust_new(&t, ca, 0) == -EINVAL);
        key = load_fixture("pki/node.key", &key_n);
        cert = load_fixture("pki/node.crt", &cert_n);
        other = load_fixture("pki/client.crt", &other_n);
        assert(soap_signer_new(&s, key, key_n, other, other_n) == -EINVAL); /* not the key's certificate */
        assert(soap_signer_new(&s, "junk", 4, cert, cert_n) == -EINVAL);
        assert(soap_signer_new(&s, key, key_n, "junk", 4) == -EINVAL);
        {
                /* a bundle of two CAs is two trusted certificates; too many is refused */
                _cleanup_free_ char *rogue = NULL, *both = NULL, *many = NULL;
                size_t rn;
                rogue = load_fixture("pki/rogue-ca.crt", &rn);
                assert(asprintf(&both, "%s%s", ca, rogue) > 0);
                assert(soap_trust_new(&t, both, strlen(both)) == 0);
                t = soap_trust_free(t);
                many = malloc(ca_n * (SOAP_MAX_TRUST_CERTS + 1) + 1);
                for (size_t i = 0; i <= SOAP_MAX_TRUST_CERTS; i++)
                        memcpy(many + i * ca_n, ca, ca_n);
                assert(soap_trust_new(&t, many, ca_n * (SOAP_MAX_TRUST_CERTS + 1)) == -E2BIG);
        }
}

/* A signed response to citizen.xml, and its parsed envelope. */
static char *signed_response(SoapSigner *s, size_t *n)
{
        _cleanup_free_ char *req = NULL;
        _cleanup_(soap_request_freep) SoapRequest *r = NULL;
        static const char payload[] = "<p:answer xmlns:p=\"urn:p\"><p:v>42</p:v></p:answer>";
        Problem why = {};
        char *out = NULL;
        size_t rn;

        req = load_fixture("requests/citizen.xml", &rn);
        assert(soap_request_parse(req, rn, NULL, &r, NULL, &why) == 0);
        assert(soap_response_build(r, payload, strlen(payload), &(SoapResponseOptions){ .signer = s }, &out, n, &why) ==
               0);
        return out;
}

static int verify_text(const char *text, size_t n, SoapSignerInfo *info, Problem *why)
{
        xmlDoc *doc = NULL;
        xmlNode *env, *header, *body;
        int k;

        assert(soap_xml_parse(text, n, NULL, &doc, why) == 0);
        env = xmlDocGetRootElement(doc);
        header = soap_first_element(env);
        body = soap_next_element(header);
        k = soap_dsig_verify(doc, header, body, trust, info, why);
        xmlFreeDoc(doc);
        return k;
}

static int run_xmlsec1_verify(const char *path)
{
        _cleanup_free_ char *ca = pki_path("ca.crt");
        char *argv[] = { "xmlsec1",       "--verify",
                         "--trusted-pem", ca,
                         "--id-attr:Id",  "http://schemas.xmlsoap.org/soap/envelope/:Body",
                         "--id-attr:Id",  "http://schemas.xmlsoap.org/soap/envelope/:Header",
                         (char *)path,    NULL };
        return test_run(argv);
}

static void test_sign_responses(const char *tmp)
{
        static const char *const keys[][2] = { { "node.key", "node.crt" }, { "rsa-node.key", "rsa-node.crt" } };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                _cleanup_(soap_signer_freep) SoapSigner *s = signer(keys[i][0], keys[i][1]);
                _cleanup_free_ char *out = NULL, *path = test_path(tmp, "response.xml"), *bad = NULL;
                SoapSignerInfo info;
                Problem why = {};
                size_t n;

                out = signed_response(s, &n);
                assert(strstr(out, i == 0 ? "ecdsa-sha256" : "rsa-sha256"));
                assert(strstr(out, "xml-exc-c14n"));
                assert(strstr(out, "<ds:X509Certificate>"));
                assert(strstr(out, "wsu:Id=\"xbus-body\"") && strstr(out, "wsu:Id=\"xbus-header\""));
                assert(verify_text(out, n, &info, &why) == 0);
                assert(info.header_signed);
                assert(streq(info.cn, i == 0 ? "xbus node VN" : "xbus node RSA"));

                /* the Debian xmlsec1 command verifies what the bus signed */
                test_write_file(path, out, n, 0600);
                if (run_xmlsec1_verify("/dev/null") == -1)
                        printf("test-soap-dsig: xmlsec1 not installed, interop not checked\n");
                else {
                        assert(run_xmlsec1_verify(path) == 0);
                        /* ... and refuses it once changed: the check can fail */
                        assert(asprintf(&bad, "%.*s<p:v>43%s", (int)(strstr(out, "<p:v>42") - out), out,
                                        strstr(out, "<p:v>42") + 7) > 0);
                        test_write_file(path, bad, strlen(bad), 0600);
                        assert(run_xmlsec1_verify(path) != 0);
                        assert(verify_text(bad, strlen(bad), &info, &why) == SOAP_E_REFUSED);
                        assert(streq(problem_name(why.type), "bad_request"));
                        bad = mfree(bad);
                }

                /* the Header is signed too: changing xroad:id breaks the signature */
                assert(asprintf(&bad, "%.*s<xroad:id>X%s", (int)(strstr(out, "<xroad:id>") - out), out,
                                strstr(out, "<xroad:id>") + 10) > 0);
                assert(verify_text(bad, strlen(bad), &info, &why) == SOAP_E_REFUSED);
                assert(streq(problem_name(why.type), "bad_request"));
        }
}

static void test_verify_requests(const char *tmp)
{
        _cleanup_free_ char *text = NULL;
        SoapRequest *r = NULL;
        SoapSignerInfo info;
        Problem why = {};
        size_t n;

        /* signed by the Debian xmlsec1 command with the test client's key (make-corpus.py) */
        text = load_fixture("requests/citizen-signed.xml", &n);
        assert(soap_request_parse(text, n, NULL, &r, NULL, &why) == 0);
        assert(r->signed_request);
        assert(soap_request_verify(r, trust, &info, &why) == 0);
        assert(streq(info.cn, "VN/GOV/BYT/health-services"));
        assert(!info.header_signed);
        /* verifying twice is fine (ids are registered once) */
        assert(soap_request_verify(r, trust, NULL, &why) == 0);
        r = soap_request_free(r);
        text = mfree(text);

        /* signed now, by xmlsec1, from the template */
        {
                _cleanup_free_ char *key = pki_path("client.key"), *crt = pki_path("client.crt"), *kc = NULL,
                                    *tmpl = test_path(fixtures, "requests/citizen-template.xml"),
                                    *out = test_path(tmp, "signed-request.xml");
                char *argv[] = { "xmlsec1",
                                 "--sign",
                                 "--privkey-pem",
                                 NULL,
                                 "--id-attr:Id",
                                 "http://schemas.xmlsoap.org/soap/envelope/:Body",
                                 "--output",
                                 out,
                                 tmpl,
                                 NULL };
                assert(asprintf(&kc, "%s,%s", key, crt) > 0);
                argv[3] = kc;
                if (test_run(argv) == 0) {
                        text = test_read_file(out, &n);
                        assert(text);
                        assert(soap_request_parse(text, n, NULL, &r, NULL, &why) == 0);
                        assert(soap_request_verify(r, trust, &info, &why) == 0);
                        r = soap_request_free(r);
                } else
                        printf("test-soap-dsig: xmlsec1 --sign unavailable, live interop not checked\n");
        }
}

static int bind_port9(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(0x7f000001) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int one = 1;

        if (fd < 0)
                return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static void test_attack_corpus(void)
{
        _cleanup_free_ char *manifest = load_fixture("attacks/manifest.txt", NULL);
        _cleanup_(soap_schemas_freep) SoapSchemas *set = NULL;
        _cleanup_free_ char *schemas = test_path(source_root, "schemas");
        const XsdSchema *req_xsd = NULL;
        char *save = NULL;
        unsigned n = 0, stages[3] = {};
        int listener;

        /* every XSD the corpus needs: the citizen request schema */
        {
                _cleanup_free_ char *x = NULL;
                size_t xn;
                XsdSchema *s = NULL;
                x = load("schemas/soap/population/citizen.request.xsd", &xn);
                assert(xsd_schema_new(&s, x, xn, NULL, NULL, NULL) == 0);
                req_xsd = s;
        }
        /* anything that tries to read a file or the network is noticed */
        xmlSetExternalEntityLoader(counting_loader);
        assert(xmlSecIORegisterCallbacks(xmlsec_match, xmlsec_open, xmlsec_read, xmlsec_close) == 0);
        listener = bind_port9();
        if (listener < 0)
                printf("test-soap-dsig: cannot listen on 127.0.0.1:9, network probe relies on the loaders\n");

        for (char *line = strtok_r(manifest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char file[128], stage[16], want[32], rel[200];
                _cleanup_free_ char *text = NULL, *fault = NULL;
                SoapRequest *r = NULL, *partial = NULL;
                Problem why = {};
                size_t size, fn;
                int k;

                if (line[0] == '#')
                        continue;
                assert(sscanf(line, "%127s %15s %31s", file, stage, want) == 3);
                snprintf(rel, sizeof(rel), "attacks/%s", file);
                text = load_fixture(rel, &size);
                k = soap_request_parse(text, size, NULL, &r, &partial, &why);
                if (streq(stage, "parse")) {
                        stages[0]++;
                        if (k != SOAP_E_REFUSED)
                                fprintf(stderr, "%s: parsed\n", file);
                        assert(k == SOAP_E_REFUSED);
                } else {
                        if (k != 0)
                                fprintf(stderr, "%s: %s\n", file, why.detail);
                        assert(k == 0);
                        if (streq(stage, "validate")) {
                                stages[1]++;
                                assert(!strstr(r->payload_xml, SECRET));
                                k = soap_request_validate(r, req_xsd, &why);
                        } else {
                                stages[2]++;
                                assert(streq(stage, "verify"));
                                k = soap_request_verify(r, trust, NULL, &why);
                        }
                }
                if (k != SOAP_E_REFUSED || !why.type || !streq(problem_name(why.type), want))
                        fprintf(stderr, "%s: k=%d type=%s (want %s) detail=%s\n", file, k, problem_name(why.type), want,
                                why.detail);
                assert(k == SOAP_E_REFUSED && streq(problem_name(why.type), want));
                /* refused with a Fault carrying the X-Road code, and nothing read leaks into it */
                assert(soap_fault_build(soap_fault_code(&why), why.detail, NULL, &fault, &fn) == 0);
                assert(strstr(fault, soap_fault_code(&why)));
                assert(!strstr(fault, SECRET) && !strstr(why.detail, SECRET));
                assert(!strstr(fault, "root:") && !strstr(why.detail, "root:"));
                printf("refused %-34s %-8s %-15s %s\n", file, stage, problem_name(why.type), why.detail);
                soap_request_free(r);
                soap_request_free(partial);
                n++;
        }
        assert(entity_loads == 0);
        assert(xmlsec_opens == 0);
        if (listener >= 0) {
                int c = accept(listener, NULL, NULL);
                assert(c < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
                close(listener);
        }
        xsd_schema_free((XsdSchema *)req_xsd);
        xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);
        printf("test-soap-dsig: %u attacks refused (%u parse, %u validate, %u verify), no file or network access\n", n,
               stages[0], stages[1], stages[2]);
        assert(n >= 35 && stages[0] > 0 && stages[1] > 0 && stages[2] > 0);
}

typedef struct Shared {
        const char *response;
        size_t size;
        SoapSigner *signer;
} Shared;

static void *worker(void *arg)
{
        Shared *sh = arg;

        for (int i = 0; i < 50; i++) {
                SoapSignerInfo info;
                Problem why = {};
                size_t n;
                char *out = signed_response(sh->signer, &n);
                assert(verify_text(out, n, &info, &why) == 0);
                assert(verify_text(sh->response, sh->size, &info, &why) == 0);
                free(out);
        }
        return NULL;
}

static void test_threads(void)
{
        _cleanup_(soap_signer_freep) SoapSigner *s = signer("node.key", "node.crt");
        _cleanup_free_ char *resp = NULL;
        pthread_t t[4];
        Shared sh = { .signer = s };

        resp = signed_response(s, &sh.size);
        sh.response = resp;
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                assert(pthread_create(&t[i], NULL, worker, &sh) == 0);
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                assert(pthread_join(t[i], NULL) == 0);
}

int main(void)
{
        const char *root = getenv("XBUS_SOURCE_ROOT"), *fix = getenv("XBUS_SOAP_FIXTURES");
        _cleanup_free_ char *tmp = NULL;

        if (isempty(fix)) {
                fprintf(stderr, "test-soap-dsig: XBUS_SOAP_FIXTURES is not set: it names the folder "
                                "tests/soap/make-corpus.py --out generates (run through meson test)\n");
                return 1;
        }
        fixtures = strdup(fix);
        tmp = test_tmpdir("soap-dsig");
        source_root = strdup(isempty(root) ? XBUS_SOURCE_ROOT : root);
        assert(soap_global_init() == 0);
        test_trust_and_signer();
        test_sign_responses(tmp);
        test_verify_requests(tmp);
        test_threads();
        test_attack_corpus();
        trust = soap_trust_free(trust);
        test_rm_rf(tmp);
        free(source_root);
        free(fixtures);
        printf("test-soap-dsig: ok\n");
        return 0;
}
