/* bench-soap.c: XMLDSig cost per SOAP message: the bus signing a response, and verifying a signed message
 *
 * usage: XBUS_SOAP_FIXTURES=DIR xbus-bench-soap [ITERATIONS]    (default 2000)
 * DIR is made by tests/soap/make-corpus.py --out DIR (the build does it: `meson test --benchmark`).
 * Prints one line per operation: wall and CPU microseconds per message and
 * messages per second on one thread. Not a test: nothing is asserted on time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soap/soap-dsig.h"
#include "soap/soap.h"
#include "xbus-config.h"

static char *slurp(const char *root, const char *rel, size_t *n)
{
        char path[4096];
        FILE *f;
        char *b;
        long len;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "cannot open %s: %m\n", path);
                exit(1);
        }
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        rewind(f);
        b = malloc((size_t)len + 1);
        if (!b || fread(b, 1, (size_t)len, f) != (size_t)len)
                exit(1);
        b[len] = 0;
        fclose(f);
        *n = (size_t)len;
        return b;
}

static double now(clockid_t c)
{
        struct timespec ts;
        clock_gettime(c, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, unsigned n, double wall, double cpu)
{
        printf("soap %-28s %8.1f us/message wall %8.1f us CPU %9.0f messages/s (1 thread, %u messages)\n", what,
               wall / n * 1e6, cpu / n * 1e6, n / wall, n);
}

int main(int argc, char **argv)
{
        const char *fixtures = getenv("XBUS_SOAP_FIXTURES");
        static const char payload[] =
                "<pop:citizenResponse xmlns:pop=\"https://schemas.xbus.gov.vn/soap/population/citizen\">"
                "<pop:id>001090000001</pop:id><pop:full_name>Nguyễn Văn An</pop:full_name>"
                "<pop:birth_date>1990-08-06</pop:birth_date><pop:sex>male</pop:sex></pop:citizenResponse>";
        unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000;
        char *req, *key, *cert, *ca, *out = NULL;
        size_t req_n, key_n, cert_n, ca_n, out_n = 0;
        SoapRequest *r = NULL;
        SoapSigner *s = NULL;
        SoapTrust *t = NULL;
        Problem why = {};
        double w, c;

        if (!fixtures || !*fixtures) {
                fprintf(stderr, "xbus-bench-soap: XBUS_SOAP_FIXTURES is not set: it names the folder "
                                "tests/soap/make-corpus.py --out generates\n");
                return 1;
        }
        if (n == 0)
                n = 1;
        if (soap_global_init() < 0)
                return 1;
        req = slurp(fixtures, "requests/citizen-signed.xml", &req_n);
        key = slurp(fixtures, "pki/node.key", &key_n);
        cert = slurp(fixtures, "pki/node.crt", &cert_n);
        ca = slurp(fixtures, "pki/ca.crt", &ca_n);
        if (soap_signer_new(&s, key, key_n, cert, cert_n) < 0 || soap_trust_new(&t, ca, ca_n) < 0 ||
            soap_request_parse(req, req_n, NULL, &r, NULL, &why) != 0)
                return 1;

        w = now(CLOCK_MONOTONIC);
        c = now(CLOCK_PROCESS_CPUTIME_ID);
        for (unsigned i = 0; i < n; i++) {
                free(out);
                out = NULL;
                if (soap_response_build(r, payload, strlen(payload), &(SoapResponseOptions){ .signer = s }, &out,
                                        &out_n, &why) != 0)
                        return 1;
        }
        report("build+sign (ES256)", n, now(CLOCK_MONOTONIC) - w, now(CLOCK_PROCESS_CPUTIME_ID) - c);

        w = now(CLOCK_MONOTONIC);
        c = now(CLOCK_PROCESS_CPUTIME_ID);
        for (unsigned i = 0; i < n; i++) {
                SoapRequest *v = NULL;
                if (soap_request_parse(req, req_n, NULL, &v, NULL, &why) != 0 ||
                    soap_request_verify(v, t, NULL, &why) != 0)
                        return 1;
                soap_request_free(v);
        }
        report("parse+verify request (ES256)", n, now(CLOCK_MONOTONIC) - w, now(CLOCK_PROCESS_CPUTIME_ID) - c);

        w = now(CLOCK_MONOTONIC);
        c = now(CLOCK_PROCESS_CPUTIME_ID);
        for (unsigned i = 0; i < n; i++) {
                SoapRequest *v = NULL;
                if (soap_request_parse(req, req_n, NULL, &v, NULL, &why) != 0)
                        return 1;
                soap_request_free(v);
        }
        report("parse only (baseline)", n, now(CLOCK_MONOTONIC) - w, now(CLOCK_PROCESS_CPUTIME_ID) - c);

        free(out);
        soap_request_free(r);
        soap_signer_free(s);
        soap_trust_free(t);
        free(req);
        free(key);
        free(cert);
        free(ca);
        return 0;
}
