/* test-registry-snapshot.c: signed registry snapshots: build, verify, load, and every refusal */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "crypto/hash.h"
#include "registry-snapshot.h"
#include "tests/support/test-snapshot.h"
#include "tests/support/test-util.h"
#include "util/strv.h"

#define DAY (24ULL * 3600ULL * USEC_PER_SEC)

static Signer *key_a, *key_b;
static RegistryAnchors *anchors_a, *anchors_ab;
static uint64_t now;

static int open_text(const RegistryAnchors *a, const char *compact, RegistrySnapshot **ret)
{
        *ret = NULL;
        return registry_snapshot_open(ret, a, compact, strlen(compact), "test");
}

static int parse_text(const char *payload)
{
        RegistrySnapshot *s = NULL;
        int r = registry_snapshot_parse(&s, payload, strlen(payload));

        assert((r == 0) == (s != NULL));
        registry_snapshot_free(s);
        return r;
}

/* A payload around `files` (a JSON array text) with the other members as given. */
static char *payload(const char *instance, uint64_t version, const char *retired, const char *files)
{
        char *p = NULL;
        int n = asprintf(&p,
                         "{\"v\":1,\"instance\":\"%s\",\"version\":%llu,\"created\":\"2026-01-01T00:00:00Z\","
                         "\"expires\":\"2099-01-01T00:00:00Z\",\"retired\":%s,\"files\":%s}",
                         instance, (unsigned long long)version, retired, files);

        assert(n > 0);
        return p;
}

static void test_build_open_load(void)
{
        _cleanup_free_ char *compact = test_snapshot_sample(key_a, 7, now, DAY, NULL), *errors = NULL;
        RegistrySnapshot *s = NULL;
        Registry *reg = NULL, *folder = NULL;
        const RegistryService *const *v1, *const *v2;
        bool conf = false, schema = false;

        assert(open_text(anchors_a, compact, &s) == 0);
        assert(s->version == 7 && streq(s->instance, "VN") && streq(s->kid, signer_kid(key_a)));
        assert(s->created_usec == now / USEC_PER_SEC * USEC_PER_SEC && s->expires_usec == s->created_usec + DAY);
        assert(streq(s->source, "test") && strlen(s->digest) == 64 && s->size == strlen(compact));
        assert(strv_length(s->retired) == 0);
        for (size_t i = 0; i < s->n_files; i++) {
                conf |= streq(s->files[i].name, "registry/00-instance.conf");
                schema |= streq(s->files[i].name, "schemas/population/citizen.response.json");
                assert(!strstr(s->files[i].name, "examples/")); /* test data stays out */
                assert(i == 0 || strcmp(s->files[i - 1].name, s->files[i].name) < 0);
        }
        assert(conf && schema);

        /* the registry loads from the snapshot's files alone, and is the folder's */
        assert(registry_snapshot_load(&reg, &s, NULL, &errors) == 0 && !s && !errors);
        assert(registry_load_dir(&folder, XBUS_SOURCE_ROOT "/conf/registry", NULL) == 0);
        assert(registry_services(reg, &v1) == registry_services(folder, &v2) && registry_services(reg, &v1) > 0);
        for (size_t i = 0; i < registry_services(reg, &v1); i++)
                assert(streq(v1[i]->id, v2[i]->id) &&
                       (v1[i]->response_validator != NULL) == (v2[i]->response_validator != NULL));
        assert(registry_snapshot(reg)->version == 7 && registry_snapshot(reg)->n_files == 0);
        assert(registry_snapshot(folder) == NULL);
        registry_unref(reg);
        registry_unref(folder);

        /* either of two anchors (a rotation) verifies */
        assert(open_text(anchors_ab, compact, &s) == 0);
        registry_snapshot_free(s);
}

static void test_refused_envelopes(void)
{
        _cleanup_free_ char *compact = test_snapshot_sample(key_a, 7, now, DAY, NULL), *forged = NULL, *body = NULL,
                            *receipt = NULL, *nokid = NULL, *nl = NULL;
        RegistrySnapshot *s = NULL;
        const char *dot1 = strchr(compact, '.'), *dot2 = strchr(dot1 + 1, '.');
        char *b64;

        /* a key that is not an anchor (the "wrong anchor"): only B is trusted */
        {
                const Signer *only_b[] = { key_b, NULL };
                RegistryAnchors *b = test_snapshot_anchors(only_b);
                assert(open_text(b, compact, &s) == REGISTRY_SNAPSHOT_E_UNKNOWN_KEY && !s);
                registry_anchors_free(b);
        }
        /* a forged snapshot: the payload changed (another version), the authority's signature kept */
        body = payload("VN", 99, "[]", "[{\"path\":\"registry/a.conf\",\"text\":\"\"}]");
        b64 = malloc(b64url_encoded_len(strlen(body)) + 1);
        b64url_encode(body, strlen(body), b64);
        assert(asprintf(&forged, "%.*s.%s%s", (int)(dot1 - compact), compact, b64, dot2) > 0);
        free(b64);
        assert(open_text(anchors_a, forged, &s) == REGISTRY_SNAPSHOT_E_SIGNATURE);
        /* signed by B, but naming A's key id: B's signature does not verify with A */
        {
                char *by_b = test_snapshot_sample(key_b, 7, now, DAY, NULL), *mixed = NULL;
                const char *b1 = strchr(by_b, '.');
                assert(asprintf(&mixed, "%.*s%s", (int)(dot1 - compact), compact, b1) > 0);
                assert(open_text(anchors_ab, mixed, &s) == REGISTRY_SNAPSHOT_E_SIGNATURE);
                free(by_b);
                free(mixed);
        }
        /* malformed envelopes */
        assert(open_text(anchors_a, "", &s) == REGISTRY_SNAPSHOT_E_MALFORMED);
        assert(open_text(anchors_a, "abc", &s) == REGISTRY_SNAPSHOT_E_MALFORMED);
        assert(open_text(anchors_a, "e30.e30.e30.e30", &s) == REGISTRY_SNAPSHOT_E_UNKNOWN_KEY); /* {} has no kid */
        assert(open_text(anchors_a, "!!!.e30.AA", &s) == REGISTRY_SNAPSHOT_E_MALFORMED);
        assert(asprintf(&nl, "%s\n", compact) > 0); /* white space is the caller's to trim */
        assert(open_text(anchors_a, nl, &s) == REGISTRY_SNAPSHOT_E_MALFORMED);
        {
                char *four = NULL;
                assert(asprintf(&four, "%s.AA", compact) > 0);
                assert(open_text(anchors_a, four, &s) == REGISTRY_SNAPSHOT_E_MALFORMED);
                free(four);
        }
        /* another kind of JWS by the same key: a receipt is not a snapshot */
        receipt = test_snapshot_sign(key_a, "xbus-receipt+jws", body);
        assert(open_text(anchors_a, receipt, &s) == REGISTRY_SNAPSHOT_E_MALFORMED);
        /* the right typ, but no snapshot inside */
        nokid = test_snapshot_sign(key_a, REGISTRY_SNAPSHOT_TYP, "{\"v\":1}");
        assert(open_text(anchors_a, nokid, &s) == REGISTRY_SNAPSHOT_E_MALFORMED);
        /* over the size limit, before anything is parsed */
        assert(registry_snapshot_open(&s, anchors_a, compact, REGISTRY_SNAPSHOT_MAX + 1, NULL) ==
               REGISTRY_SNAPSHOT_E_TOO_LARGE);
        assert(!s);
}

static void test_refused_payloads(void)
{
        static const char *const bad_files[] = {
                "[]",                                                        /* no registry */
                "[{\"path\":\"schemas/a.json\",\"text\":\"{}\"}]",           /* no *.conf */
                "[{\"path\":\"registry/sub/a.conf\",\"text\":\"\"}]",        /* not at the top */
                "[{\"path\":\"registry/../a.conf\",\"text\":\"\"}]",         /* climbs out */
                "[{\"path\":\"other/a.conf\",\"text\":\"\"}]",               /* unknown folder */
                "[{\"path\":\"registry/a b.conf\",\"text\":\"\"}]",          /* a space */
                "[{\"path\":\"registry/a.conf\",\"text\":\"x\\u0000y\"}]",   /* a NUL */
                "[{\"path\":\"registry/a.conf\",\"text\":\"\",\"mode\":1}]", /* another member */
                "[{\"path\":\"registry/a.conf\",\"text\":1}]",               /* not text */
                "[{\"path\":\"registry/b.conf\",\"text\":\"\"},{\"path\":\"registry/a.conf\",\"text\":\"\"}]",
                "[{\"path\":\"registry/a.conf\",\"text\":\"\"},{\"path\":\"registry/a.conf\",\"text\":\"\"}]",
        };
        const char *ok = "[{\"path\":\"registry/a.conf\",\"text\":\"\"}]";
        char *p;

        p = payload("VN", 1, "[]", ok);
        assert(parse_text(p) == 0);
        free(p);
        for (size_t i = 0; i < ELEMENTSOF(bad_files); i++) {
                p = payload("VN", 1, "[]", bad_files[i]);
                assert(parse_text(p) == REGISTRY_SNAPSHOT_E_MALFORMED);
                free(p);
        }
        p = payload("VN", 0, "[]", ok); /* versions start at 1 */
        assert(parse_text(p) == REGISTRY_SNAPSHOT_E_MALFORMED);
        free(p);
        p = payload("VN", REGISTRY_SNAPSHOT_VERSION_MAX + 1, "[]", ok);
        assert(parse_text(p) == REGISTRY_SNAPSHOT_E_MALFORMED);
        free(p);
        p = payload("V N", 1, "[]", ok);
        assert(parse_text(p) == REGISTRY_SNAPSHOT_E_MALFORMED);
        free(p);
        p = payload("VN", 1, "[\"short\"]", ok);
        assert(parse_text(p) == REGISTRY_SNAPSHOT_E_MALFORMED);
        free(p);
        {
                char retired[66 * 46 + 2] = "[", *q = retired + 1;
                for (unsigned i = 0; i <= REGISTRY_SNAPSHOT_RETIRED_MAX; i++)
                        q += sprintf(q, "%s\"%s\"", i ? "," : "", signer_kid(key_a));
                strcpy(q, "]");
                p = payload("VN", 1, retired, ok);
                assert(parse_text(p) == REGISTRY_SNAPSHOT_E_TOO_LARGE);
                free(p);
        }
        assert(parse_text("[]") == REGISTRY_SNAPSHOT_E_MALFORMED);
        assert(parse_text("{\"v\":2}") == REGISTRY_SNAPSHOT_E_MALFORMED);
        assert(parse_text("{\"v\":1,\"instance\":\"VN\",\"version\":1,\"created\":\"2026-01-01T00:00:00Z\","
                          "\"expires\":\"2026-01-01T00:00:00Z\",\"retired\":[],\"files\":[{\"path\":\"registry/"
                          "a.conf\",\"text\":\"\"}]}") == REGISTRY_SNAPSHOT_E_MALFORMED); /* expires == created */
        assert(parse_text("{\"v\":1,\"instance\":\"VN\",\"version\":1,\"created\":\"yesterday\","
                          "\"expires\":\"2099-01-01T00:00:00Z\",\"retired\":[],\"files\":[{\"path\":\"registry/"
                          "a.conf\",\"text\":\"\"}]}") == REGISTRY_SNAPSHOT_E_MALFORMED);
        assert(parse_text("{\"v\":1,\"v\":1}") == REGISTRY_SNAPSHOT_E_MALFORMED); /* a name twice */
        p = payload("VN", 1, "[]", ok);
        p[strlen(p) - 1] = ',';
        assert(parse_text(p) == REGISTRY_SNAPSHOT_E_MALFORMED); /* an extra member: {...,"x":1} */
        free(p);
}

/* A snapshot as registry_snapshot_accept() sees it. */
static RegistrySnapshot snap(const char *instance, uint64_t version, const char *digest, const char *kid,
                             char **retired, uint64_t created, uint64_t expires)
{
        RegistrySnapshot s = { .instance = (char *)instance,
                               .version = version,
                               .created_usec = created,
                               .expires_usec = expires,
                               .retired = retired };

        snprintf(s.digest, sizeof(s.digest), "%s", digest);
        snprintf(s.kid, sizeof(s.kid), "%s", kid);
        return s;
}

static void test_accept(void)
{
        const char *a = signer_kid(key_a), *b = signer_kid(key_b);
        char *none[] = { NULL }, *retire_a[] = { (char *)a, NULL }, *retire_b[] = { (char *)b, NULL };
        RegistrySnapshot cur = snap("VN", 5, "d5", a, none, now - DAY, now + DAY);
        RegistrySnapshot c;

        c = snap("VN", 6, "d6", a, none, now, now + DAY);
        assert(registry_snapshot_accept(NULL, &c, now) == 0);
        assert(registry_snapshot_accept(&cur, &c, now) == 0);
        c = snap("VN", 4, "d4", a, none, now, now + DAY); /* an older version */
        assert(registry_snapshot_accept(&cur, &c, now) == REGISTRY_SNAPSHOT_E_OLDER);
        c = snap("VN", 5, "d5", a, none, now - DAY, now + DAY); /* the one in force, again */
        assert(registry_snapshot_accept(&cur, &c, now) == REGISTRY_SNAPSHOT_UNCHANGED);
        c = snap("VN", 5, "dX", a, none, now - DAY, now + DAY); /* the same version, other content */
        assert(registry_snapshot_accept(&cur, &c, now) == REGISTRY_SNAPSHOT_E_CONFLICT);
        c = snap("EE", 6, "d6", a, none, now, now + DAY);
        assert(registry_snapshot_accept(&cur, &c, now) == REGISTRY_SNAPSHOT_E_INSTANCE);
        c = snap("VN", 6, "d6", a, none, now - 2 * DAY, now - 1); /* expired */
        assert(registry_snapshot_accept(&cur, &c, now) == REGISTRY_SNAPSHOT_E_EXPIRED);
        assert(registry_snapshot_accept(NULL, &c, now) == REGISTRY_SNAPSHOT_E_EXPIRED);
        c = snap("VN", 6, "d6", a, none, now + REGISTRY_SNAPSHOT_SKEW_USEC + 1, now + DAY); /* the future */
        assert(registry_snapshot_accept(&cur, &c, now) == REGISTRY_SNAPSHOT_E_NOT_YET);
        c = snap("VN", 6, "d6", a, none, now + REGISTRY_SNAPSHOT_SKEW_USEC, now + DAY); /* clock skew */
        assert(registry_snapshot_accept(&cur, &c, now) == 0);

        /* rotation: B retires A; then a snapshot signed by A is refused, and so is one that forgets A */
        c = snap("VN", 6, "d6", b, retire_a, now, now + DAY);
        assert(registry_snapshot_accept(&cur, &c, now) == 0);
        cur = c;
        c = snap("VN", 7, "d7", a, retire_a, now, now + DAY);
        assert(registry_snapshot_accept(&cur, &c, now) == REGISTRY_SNAPSHOT_E_RETIRED);
        c = snap("VN", 7, "d7", a, none, now, now + DAY);
        assert(registry_snapshot_accept(&cur, &c, now) == REGISTRY_SNAPSHOT_E_RETIRED);
        c = snap("VN", 7, "d7", b, none, now, now + DAY); /* forgets A's retirement */
        assert(registry_snapshot_accept(&cur, &c, now) == REGISTRY_SNAPSHOT_E_UNRETIRED);
        c = snap("VN", 7, "d7", b, retire_a, now, now + DAY);
        assert(registry_snapshot_accept(&cur, &c, now) == 0);
        c = snap("VN", 7, "d7", b, retire_b, now, now + DAY); /* retires its own key */
        assert(registry_snapshot_accept(NULL, &c, now) == REGISTRY_SNAPSHOT_E_RETIRED);
}

static void test_retire_for_real(void)
{
        char *retire_a[] = { (char *)signer_kid(key_a), NULL };
        _cleanup_free_ char *v1 = test_snapshot_sample(key_a, 1, now, DAY, NULL),
                            *v2 = test_snapshot_sample(key_b, 2, now, DAY, retire_a),
                            *v3 = test_snapshot_sample(key_a, 3, now, DAY, NULL);
        RegistrySnapshot *s1 = NULL, *s2 = NULL, *s3 = NULL;
        char *errors = NULL, *out = NULL;
        size_t size;

        assert(open_text(anchors_ab, v1, &s1) == 0 && open_text(anchors_ab, v2, &s2) == 0);
        assert(open_text(anchors_ab, v3, &s3) == 0);
        assert(registry_snapshot_accept(s1, s2, now) == 0 && strv_contains(s2->retired, signer_kid(key_a)));
        assert(registry_snapshot_accept(s2, s3, now) == REGISTRY_SNAPSHOT_E_RETIRED);
        /* the publisher refuses to retire its own key, and malformed key ids */
        assert(registry_snapshot_build(XBUS_SOURCE_ROOT "/conf/registry", key_a,
                                       &(RegistrySnapshotParams){ .version = 4,
                                                                  .created_usec = now,
                                                                  .lifetime_usec = DAY,
                                                                  .retired = retire_a },
                                       &out, &size, &errors) == -EINVAL);
        registry_snapshot_free(s1);
        registry_snapshot_free(s2);
        registry_snapshot_free(s3);
}

static void test_content(void)
{
        RegistrySnapshot *s = NULL;
        Registry *reg = NULL;
        char *errors = NULL, *p, *jws;

        /* signed and well-formed, but its registry does not load */
        p = payload("VN", 3, "[]",
                    "[{\"path\":\"registry/00-broken.conf\",\"text\":\"[instance]\\nid = VN\\n[nonsense x]\\n\"}]");
        jws = test_snapshot_sign(key_a, REGISTRY_SNAPSHOT_TYP, p);
        assert(open_text(anchors_a, jws, &s) == 0);
        assert(registry_snapshot_load(&reg, &s, NULL, &errors) == REGISTRY_SNAPSHOT_E_CONTENT && s && !reg);
        printf("content errors:\n%s", errors);
        assert(errors && strstr(errors, "registry/00-broken.conf:3: unknown section type [nonsense]"));
        free(errors);
        registry_snapshot_free(s);
        free(jws);
        free(p);

        /* the payload names another instance than its registry */
        p = payload("EE", 3, "[]",
                    "[{\"path\":\"registry/00.conf\",\"text\":\"[instance]\\nid = VN\\nname = Viet Nam\\n\"}]");
        jws = test_snapshot_sign(key_a, REGISTRY_SNAPSHOT_TYP, p);
        assert(open_text(anchors_a, jws, &s) == 0);
        assert(registry_snapshot_load(&reg, &s, NULL, &errors) == REGISTRY_SNAPSHOT_E_CONTENT);
        assert(errors && strstr(errors, "instance 'EE'"));
        free(errors);
        registry_snapshot_free(s);
        free(jws);
        free(p);
}

static void test_build_refusals(void)
{
        _cleanup_free_ char *dir = test_tmpdir("snapshot-build"), *conf = test_path(dir, "00.conf"),
                            *bin = test_path(dir, "blob.txt"), *errors = NULL, *out = NULL;
        static const char text[] = "[instance]\nid = VN\nname = Viet Nam\nschemas = nowhere\n";
        size_t size;

        test_write_file(conf, text, strlen(text), 0644);
        /* a registry of one file: it builds (no schema folder is fine when no service names one) */
        assert(registry_snapshot_build(dir, key_a,
                                       &(RegistrySnapshotParams){
                                               .version = 1, .created_usec = now, .lifetime_usec = DAY },
                                       &out, &size, &errors) == 0);
        out = mfree(out);
        /* a file that is not text */
        test_write_file(bin, "\xff\xfe", 2, 0644);
        assert(registry_snapshot_build(dir, key_a,
                                       &(RegistrySnapshotParams){
                                               .version = 1, .created_usec = now, .lifetime_usec = DAY },
                                       &out, &size, &errors) == REGISTRY_SNAPSHOT_E_CONTENT);
        assert(errors && strstr(errors, "blob.txt: not UTF-8 text"));
        errors = mfree(errors);
        unlink(bin);
        /* a registry with errors */
        test_write_file(conf, "[instance]\nid = VN\n", 19, 0644);
        assert(registry_snapshot_build(dir, key_a,
                                       &(RegistrySnapshotParams){
                                               .version = 1, .created_usec = now, .lifetime_usec = DAY },
                                       &out, &size, &errors) == REGISTRY_SNAPSHOT_E_CONTENT);
        assert(errors && strstr(errors, "00.conf"));
        /* bad parameters */
        assert(registry_snapshot_build(dir, key_a,
                                       &(RegistrySnapshotParams){
                                               .version = 0, .created_usec = now, .lifetime_usec = DAY },
                                       &out, &size, NULL) == -EINVAL);
        assert(registry_snapshot_build(dir, key_a,
                                       &(RegistrySnapshotParams){
                                               .version = 1, .created_usec = now, .lifetime_usec = 0 },
                                       &out, &size, NULL) == -EINVAL);
        test_rm_rf(dir);
}

static void test_anchors(void)
{
        _cleanup_free_ char *dir = test_tmpdir("snapshot-anchors"), *pem = test_path(dir, "a.pem"),
                            *jwk = test_path(dir, "a.jwk"), *junk = test_path(dir, "junk"), *why = NULL;
        _cleanup_(registry_anchors_freep) RegistryAnchors *a = NULL;
        json_t *j = signer_public_jwk(key_a);
        char *jtext = json_dumps(j, 0), *cmd = NULL;
        EVP_PKEY *k = EVP_EC_gen("P-256");
        FILE *f;

        assert(registry_anchors_new(&a) == 0);
        test_write_file(jwk, jtext, strlen(jtext), 0644);
        assert(registry_anchors_add_file(a, jwk, &why) == 0 && registry_anchors_count(a) == 1);
        assert(streq(registry_anchors_kid(a, 0), signer_kid(key_a)) && !registry_anchors_kid(a, 1));
        assert(registry_anchors_add_file(a, jwk, &why) == 0 && registry_anchors_count(a) == 1); /* once */
        f = fopen(pem, "w");
        assert(f && PEM_write_PUBKEY(f, k) == 1);
        fclose(f);
        assert(registry_anchors_add_file(a, pem, &why) == 0 && registry_anchors_count(a) == 2);
        test_write_file(junk, "not a key\n", 10, 0644);
        assert(registry_anchors_add_file(a, junk, &why) == -EINVAL && why && strstr(why, "junk"));
        why = mfree(why);
        assert(registry_anchors_add_file(a, "/nonexistent/anchor.pem", &why) == -ENOENT && why);
        EVP_PKEY_free(k);
        json_decref(j);
        free(jtext);
        free(cmd);
        test_rm_rf(dir);
}

int main(void)
{
        const Signer *a[] = { NULL, NULL }, *ab[] = { NULL, NULL, NULL };

        now = now_usec(CLOCK_REALTIME);
        key_a = test_snapshot_signer();
        key_b = test_snapshot_signer();
        a[0] = ab[0] = key_a;
        ab[1] = key_b;
        anchors_a = test_snapshot_anchors(a);
        anchors_ab = test_snapshot_anchors(ab);

        test_build_open_load();
        test_refused_envelopes();
        test_refused_payloads();
        test_accept();
        test_retire_for_real();
        test_content();
        test_build_refusals();
        test_anchors();

        registry_anchors_free(anchors_a);
        registry_anchors_free(anchors_ab);
        signer_free(key_a);
        signer_free(key_b);
        printf("registry-snapshot: ok\n");
        return 0;
}
