/* fuzz-soap.c: the SOAP request path (hardened parse, profile, signature check, answer, fault) on arbitrary input */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soap/soap-dsig.h"
#include "soap/soap.h"

/* A fixed CA (EC P-256, generated for the fuzzer; its key is not kept): signed
 * inputs reach xmlsec and are refused there, as any signature from outside
 * the trust must be. */
static const char fuzz_ca[] = "-----BEGIN CERTIFICATE-----\n"
                              "MIIBhjCCASugAwIBAgIUb5CGEM78CVnjRYMBQMGBWTH5rIcwCgYIKoZIzj0EAwIw\n"
                              "FzEVMBMGA1UEAwwMeGJ1cyBmdXp6IENBMCAXDTI2MTEyMjA4NDg1NFoYDzIxMjYx\n"
                              "MDI5MDg0ODU0WjAXMRUwEwYDVQQDDAx4YnVzIGZ1enogQ0EwWTATBgcqhkjOPQIB\n"
                              "BggqhkjOPQMBBwNCAAR1e9EvWBykz3PvYs8f5KiiB7ozMWDWXUKE7B4/1uJOjUX0\n"
                              "igbMkEJNKmF68F+6WUpD/qhWgE7zXe0aPkN77TRvo1MwUTAdBgNVHQ4EFgQUzp4X\n"
                              "cngUpO7+To8jjKYwjlDpHtAwHwYDVR0jBBgwFoAUzp4XcngUpO7+To8jjKYwjlDp\n"
                              "HtAwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA0XtSELioCbqP\n"
                              "EbyxcDnzVgVfPQpmBdjFPnt86I1tZMUCIQDKOg/pGXQHTJgdQDtq21bOmfEGIIPU\n"
                              "hexSHDDpS7SWGw==\n"
                              "-----END CERTIFICATE-----\n";

static SoapTrust *trust(void)
{
        static SoapTrust *t;

        if (t)
                return t;
        if (soap_global_init() < 0 || soap_trust_new(&t, fuzz_ca, strlen(fuzz_ca)) < 0)
                abort();
        return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        SoapTrust *t = trust();
        SoapLimits l = { .max_size = 256 * 1024, .max_depth = 24, .max_nodes = 4000, .max_text = 16 * 1024 };
        SoapRequest *r = NULL, *partial = NULL;
        Problem why = {};
        char *out = NULL;
        size_t out_size = 0;
        int k;

        k = soap_request_parse((const char *)data, size, &l, &r, &partial, &why);
        if (k == 0) {
                if (r->signed_request) {
                        SoapSignerInfo info;
                        if (soap_request_verify(r, t, &info, &why) == 0)
                                abort(); /* nothing outside the fuzz CA's key can verify */
                }
                /* echo the payload as an answer, unsigned, and the request itself as a provider's envelope */
                if (soap_response_build(r, r->payload_xml, r->payload_size, &(SoapResponseOptions){ .limits = &l },
                                        &out, &out_size, &why) == 0)
                        free(out);
                out = NULL;
                if (soap_response_build(r, (const char *)data, size, &(SoapResponseOptions){ .limits = &l }, &out,
                                        &out_size, &why) == 0)
                        free(out);
                out = NULL;
        } else if (k == SOAP_E_REFUSED) {
                if (why.type == PROBLEM_NONE)
                        abort(); /* a refusal always says which type */
                if (soap_fault_build(soap_fault_code(&why), why.detail, partial ? partial->id : NULL, &out,
                                     &out_size) == 0)
                        free(out);
        }
        soap_request_free(r);
        soap_request_free(partial);
        return 0;
}
