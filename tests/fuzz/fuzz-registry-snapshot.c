/* fuzz-registry-snapshot.c: registry snapshots on arbitrary input: the envelope, the payload, and loading their files */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "registry-snapshot.h"
#include "fuzz-assert.h"

/*
 * The authority key the seeds under tests/fuzz/corpus/registry-snapshot
 * are signed with (its private half was thrown away once they were made),
 * so that valid signatures reach the payload parser and the loader.
 */
static const char fuzz_jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                               "\"x\":\"YSTKEk3JVLuWwJD9VRCQWAlVLLdhSdxBDacLJ-xcN-0\","
                               "\"y\":\"uYPEbuKK2CNIShxikTZUyCSOt01g8RiUJv5H7GqKTL8\"}";
#define FUZZ_NOW (UINT64_C(1767225600) * 1000000) /* 2026-01-01T00:00:00Z: the seeds are valid then */

static RegistryAnchors *anchors(void)
{
        static RegistryAnchors *a;
        JwsVerifier *v = NULL;
        json_t *jwk;

        if (a)
                return a;
        jwk = json_loads(fuzz_jwk, 0, NULL);
        fuzz_assert(jwk && jws_verifier_new(&v, jwk) == 0);
        fuzz_assert(registry_anchors_new(&a) == 0 && registry_anchors_add(a, v) == 0);
        json_decref(jwk);
        return a;
}

/* A parsed snapshot: what registry_snapshot_parse() promises, then its registry (loads or is refused). */
static void check_and_load(RegistrySnapshot *s)
{
        Registry *r = NULL;
        char *errors = NULL;
        int k;

        fuzz_assert(s->instance && s->version >= 1 && s->version <= REGISTRY_SNAPSHOT_VERSION_MAX);
        fuzz_assert(s->expires_usec > s->created_usec && s->n_files >= 1);
        for (size_t i = 1; i < s->n_files; i++)
                fuzz_assert(strcmp(s->files[i - 1].name, s->files[i].name) < 0);
        k = registry_snapshot_accept(NULL, s, FUZZ_NOW);
        fuzz_assert(k == 0 || k == REGISTRY_SNAPSHOT_E_EXPIRED || k == REGISTRY_SNAPSHOT_E_NOT_YET ||
                    k == REGISTRY_SNAPSHOT_E_RETIRED);
        k = registry_snapshot_load(&r, &s, NULL, &errors);
        fuzz_assert(k == 0 || k == REGISTRY_SNAPSHOT_E_CONTENT || k == -ENOMEM);
        fuzz_assert((k == 0) == (r != NULL) && (k == 0) == (s == NULL));
        if (k == 0)
                fuzz_assert(registry_snapshot(r) && registry_snapshot(r)->n_files == 0);
        registry_unref(r);
        registry_snapshot_free(s);
        free(errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        RegistrySnapshot *s = NULL;
        int r;

        /* the envelope: the input is not NUL-terminated, the verifier must go by `size` alone */
        r = registry_snapshot_open(&s, anchors(), (const char *)data, size, "fuzz");
        fuzz_assert(r >= 0 || r == -ENOMEM);
        fuzz_assert((r == 0) == (s != NULL));
        if (r == 0) {
                fuzz_assert(s->size == size && memcmp(s->compact, data, size) == 0 && strlen(s->digest) == 64);
                check_and_load(s);
        }
        /* the payload as if it were signed */
        s = NULL;
        r = registry_snapshot_parse(&s, data, size);
        fuzz_assert(r == 0 || r == REGISTRY_SNAPSHOT_E_MALFORMED || r == REGISTRY_SNAPSHOT_E_TOO_LARGE || r == -ENOMEM);
        fuzz_assert((r == 0) == (s != NULL));
        if (r == 0)
                check_and_load(s);
        return 0;
}
