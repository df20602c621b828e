/* fuzz-jws.c: consent-artefact verification (compact JWS) on arbitrary input */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/jws.h"

/*
 * A fixed registered key: the public ES256 test key of Wycheproof's
 * json_web_signature_test.json ("kid-ec-sign"), so seeds taken from there
 * (and artefacts signed with its published private key) reach the
 * signature check.
 */
static const char fuzz_jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                               "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                               "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\"}";

static JwsVerifier *verifier(void)
{
        static JwsVerifier *v;
        json_t *jwk;

        if (v)
                return v;
        jwk = json_loads(fuzz_jwk, 0, NULL);
        if (!jwk || jws_verifier_new(&v, jwk) != 0)
                abort();
        json_decref(jwk);
        return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        JwsVerifier *v = verifier();
        json_t *h = NULL, *p = NULL;
        uint8_t *raw = NULL;
        size_t raw_size = 0;
        int r, rb;

        /* The input is not NUL-terminated: the verifier must go by `size` alone. */
        r = jws_verify_compact(v, (const char *)data, size, &h, &p);
        if (r < 0 && r != -ENOMEM)
                abort();
        if (r == 0 && (!json_is_object(h) || !json_is_object(p)))
                abort();
        json_decref(h);
        json_decref(p);

        /* The byte API agrees on every verdict except the payload's JSON shape. */
        rb = jws_verify_compact_bytes(v, (const char *)data, size, NULL, &raw, &raw_size);
        if (rb == 0 && (!raw || raw[raw_size] != 0))
                abort();
        if (r != -ENOMEM && rb != -ENOMEM && rb != (r == JWS_E_PAYLOAD ? 0 : r))
                abort();
        free(raw);
        return 0;
}
