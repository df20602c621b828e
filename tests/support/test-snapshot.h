/* test-snapshot.h: signed registry snapshots for the unit tests (fresh keys, the sample registry, any payload) */
#pragma once

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "crypto/signer.h"
#include "registry-snapshot.h"
#include "util/time-util.h"
#include "xbus-config.h"

/* A fresh EC P-256 signing key (an authority's). */
static inline Signer *test_snapshot_signer(void)
{
        EVP_PKEY *k = EVP_EC_gen("P-256");
        Signer *s = NULL;
        int r;

        assert(k);
        r = signer_new(&s, k);
        assert(r == 0);
        EVP_PKEY_free(k);
        return s;
}

/* Anchors trusting the keys of `signers` (NULL-terminated). */
static inline RegistryAnchors *test_snapshot_anchors(const Signer *const *signers)
{
        RegistryAnchors *a = NULL;
        int r = registry_anchors_new(&a);

        assert(r == 0);
        for (; *signers; signers++) {
                json_t *jwk = signer_public_jwk(*signers);
                JwsVerifier *v = NULL;

                r = jws_verifier_new(&v, jwk);
                assert(r == 0);
                r = registry_anchors_add(a, v);
                assert(r == 0);
                json_decref(jwk);
        }
        return a;
}

/* The sample registry (conf/registry and schemas/ of the source tree) as a snapshot; malloc'd JWS. */
static inline char *test_snapshot_sample(const Signer *s, uint64_t version, uint64_t created_usec,
                                         uint64_t lifetime_usec, char *const *retired)
{
        char *compact = NULL, *errors = NULL;
        size_t size = 0;
        int r = registry_snapshot_build(XBUS_SOURCE_ROOT "/conf/registry", s,
                                        &(RegistrySnapshotParams){ .version = version,
                                                                   .created_usec = created_usec,
                                                                   .lifetime_usec = lifetime_usec,
                                                                   .retired = retired },
                                        &compact, &size, &errors);

        if (r != 0)
                fprintf(stderr, "registry_snapshot_build: %d\n%s", r, errors ? errors : "");
        assert(r == 0 && strlen(compact) == size);
        free(errors);
        return compact;
}

/* A JWS of any payload, signed as a snapshot is (typ may be another, to test the check). */
static inline char *test_snapshot_sign(const Signer *s, const char *typ, const char *payload)
{
        char *compact = NULL;
        int r = signer_sign_compact(s, typ, payload, strlen(payload), &compact);

        assert(r == 0);
        return compact;
}

/* The sample registry loaded from a snapshot of `version`, created at `created_usec`, valid `lifetime_usec`. */
static inline Registry *test_snapshot_registry(uint64_t version, uint64_t created_usec, uint64_t lifetime_usec)
{
        Signer *s = test_snapshot_signer();
        const Signer *list[] = { s, NULL };
        RegistryAnchors *a = test_snapshot_anchors(list);
        char *compact = test_snapshot_sample(s, version, created_usec, lifetime_usec, NULL);
        RegistrySnapshot *snap = NULL;
        Registry *reg = NULL;
        int r;

        r = registry_snapshot_open(&snap, a, compact, strlen(compact), "https://authority.test/snapshot.jws");
        assert(r == 0);
        r = registry_snapshot_load(&reg, &snap, NULL, NULL);
        assert(r == 0 && !snap);
        free(compact);
        registry_anchors_free(a);
        signer_free(s);
        return reg;
}
