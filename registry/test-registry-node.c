/* test-registry-node.c: [node] sections: what they hold, what the loader refuses, and nodes inside a snapshot */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/hash.h"
#include "crypto/pki.h"
#include "registry-snapshot.h"
#include "tests/support/test-snapshot.h"
#include "tests/support/test-util.h"
#include "util/fileio.h"

static char *dir, *receipt_jwk, *vkey;

/* A C2SP vkey for a fresh Ed25519 key, computed here from the spec (not by log/checkpoint.c). */
static char *make_vkey(const char *name)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        uint8_t raw[33] = { 0x01 }, buf[300], md[32];
        size_t n = 32, len = strlen(name);
        char b64[64], *out = NULL;

        assert(k && EVP_PKEY_get_raw_public_key(k, raw + 1, &n) == 1 && n == 32);
        memcpy(buf, name, len);
        buf[len] = '\n';
        memcpy(buf + len + 1, raw, sizeof(raw));
        hash_sha256(buf, len + 1 + sizeof(raw), md);
        b64_encode(raw, sizeof(raw), b64);
        assert(asprintf(&out, "%s+%02x%02x%02x%02x+%s", name, md[0], md[1], md[2], md[3], b64) > 0);
        EVP_PKEY_free(k);
        return out;
}

static const char base[] = "[instance]\nid = VN\nname = Viet Nam\n"
                           "[member VN/GOV/BCA]\nname = Ministry of Public Security\n"
                           "[member VN/GOV/HN]\nname = Ha Noi\n"
                           "[subsystem VN/GOV/BCA/population]\nname = Population\nroles = provider\n"
                           "[subsystem VN/GOV/HN/one-stop-shop]\nname = One-stop-shop\nroles = client\n";

/* Write base + `nodes` as DIR/00.conf and load the folder. Return: the registry, or NULL with *errors. */
static Registry *load(const char *nodes, char **errors)
{
        _cleanup_free_ char *path = test_path(dir, "00.conf"), *text = NULL;
        Registry *r = NULL;
        int k;

        assert(asprintf(&text, "%s%s", base, nodes) > 0);
        test_write_file(path, text, strlen(text), 0644);
        *errors = NULL;
        k = registry_load_dir(&r, dir, errors);
        assert((k == 0) == (r != NULL) && (k == 0 || k == REGISTRY_E_INVALID));
        return r;
}

/* A node section with `extra` keys added to the required ones (receipt and checkpoint keys as made above). */
static char *node(const char *id, const char *extra)
{
        char *s = NULL;

        assert(asprintf(&s, "[node %s]\nmember = VN/GOV/BCA\nreceipt-key = %s\ncheckpoint-key = %s\n%s", id,
                        receipt_jwk, vkey, extra) > 0);
        return s;
}

static void refused(const char *id, const char *extra, const char *expect)
{
        _cleanup_free_ char *text = node(id, extra), *errors = NULL;
        Registry *r = load(text, &errors);

        printf("refused: %s", strempty(errors));
        assert(!r && errors && strstr(errors, expect));
}

#define FP        \
        "sha256:" \
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HOSTS "subsystems = VN/GOV/BCA/population\n"

static void test_node(void)
{
        _cleanup_free_ char *text = node("bca",
                                         "address = https://xbus.bca.example:8443/\ntls-fingerprint = " FP "\n" HOSTS),
                            *errors = NULL;
        Registry *r = load(text, &errors);
        const RegistryNode *const *all, *n;

        assert(r && !errors);
        assert(registry_nodes(r, &all) == 1);
        n = registry_node_lookup(r, "bca");
        assert(n == all[0] && streq(n->id, "bca") && streq(n->owner->id, "VN/GOV/BCA"));
        assert(streq(n->address, "https://xbus.bca.example:8443")); /* the trailing '/' dropped */
        assert(n->n_tls_fingerprints == 1 && n->tls_fingerprints[0][0] == 0x00 && n->tls_fingerprints[0][31] == 0xff);
        assert(!n->tls_ca && !n->tls_name && streq(n->checkpoint_vkey, vkey) && streq(n->receipt_jwk, receipt_jwk));
        assert(n->n_subsystems == 1 && streq(n->subsystems[0]->id, "VN/GOV/BCA/population"));
        assert(registry_node_hosting(r, "VN/GOV/BCA/population") == n);
        assert(!registry_node_hosting(r, "VN/GOV/HN/one-stop-shop") && !registry_node_lookup(r, "hn"));
        registry_unref(r);

        /* a single node's registry names no node: the default */
        r = load("", &errors);
        assert(r && registry_nodes(r, &all) == 0 && !registry_node_hosting(r, "VN/GOV/BCA/population"));
        registry_unref(r);
}

static void test_refused(void)
{
        static const char *const bad_addresses[] = {
                "http://xbus.example", "https://",
                "https://-x.example",  "https://x..example",
                "https://x.example:0", "https://x:65536",
                "https://x:8443/path", "https://x.example:",
                "https://[::1",        "https://x y.example",
                "xbus.example:8443",
        };
        const char *ok = "address = https://x.example\ntls-fingerprint = " FP "\n" HOSTS;

        for (size_t i = 0; i < ELEMENTSOF(bad_addresses); i++) {
                _cleanup_free_ char *extra = NULL;
                assert(asprintf(&extra, "address = %s\ntls-fingerprint = " FP "\n" HOSTS, bad_addresses[i]) > 0);
                refused("bca", extra, "for 'address': expected");
        }
        refused("b@c", ok, "invalid node id 'b@c'");
        refused("bca", "tls-fingerprint = " FP "\n" HOSTS, "missing required key 'address'");
        refused("bca", "address = https://x.example\n" HOSTS, "its TLS certificate is not named");
        refused("bca", "address = https://x.example\ntls-name = x.example\n" HOSTS, "tls-ca and tls-name go together");
        refused("bca", "address = https://x.example\ntls-ca = ca.pem\n" HOSTS, "tls-ca and tls-name go together");
        refused("bca", "address = https://x.example\ntls-ca = missing.pem\ntls-name = x.example\n" HOSTS,
                "cannot read");
        refused("bca", "address = https://x.example\ntls-ca = ../ca.pem\ntls-name = x.example\n" HOSTS,
                "for 'tls-ca': expected");
        refused("bca", "address = https://x.example\ntls-ca = pki/node.crt\ntls-name = x.example\n" HOSTS, "not a CA");
        refused("bca", "address = https://x.example\ntls-ca = 00.conf\ntls-name = x.example\n" HOSTS,
                "holds no PEM certificate");
        refused("bca", "address = https://x.example\ntls-fingerprint = " FP "\nsubsystems = VN/GOV/BCA/nope\n",
                "subsystem 'VN/GOV/BCA/nope' is not defined");
        refused("bca",
                "address = https://x.example\ntls-fingerprint = " FP
                "\nsubsystems = VN/GOV/BCA/population, VN/GOV/BCA/population\n",
                "listed twice");
        {
                _cleanup_free_ char *two = NULL, *b = node("bca", ok), *h = node("hn", ok), *errors = NULL;
                assert(asprintf(&two, "%s%s", b, h) > 0);
                assert(!load(two, &errors) && strstr(errors, "node 'hn': subsystem 'VN/GOV/BCA/population' is "
                                                             "already hosted by node 'bca'"));
        }
        {
                _cleanup_free_ char *text = NULL, *errors = NULL;
                assert(asprintf(&text,
                                "[node bca]\nmember = VN/GOV/XX\naddress = https://x\ntls-fingerprint = " FP
                                "\nreceipt-key = {\"kty\":\"EC\"}\ncheckpoint-key = x+00000000+AAAA\n" HOSTS) > 0);
                assert(!load(text, &errors));
                printf("refused: %s", errors);
                assert(strstr(errors, "member 'VN/GOV/XX' is not defined") &&
                       strstr(errors, "for 'receipt-key': expected") &&
                       strstr(errors, "for 'checkpoint-key': expected"));
        }
        {
                /* a vkey whose key hash does not match its key */
                char *saved = vkey, *bad = strdup(vkey), *plus = strchr(bad, '+');

                plus[1] = plus[1] == '0' ? '1' : '0';
                vkey = bad;
                refused("bca", ok, "for 'checkpoint-key': expected");
                vkey = saved;
                free(bad);
        }
        {
                /* a private JWK is not a receipt key */
                char *saved = receipt_jwk;

                receipt_jwk = (char *)"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"a\",\"y\":\"b\",\"d\":\"c\"}";
                refused("bca", ok, "for 'receipt-key': expected");
                receipt_jwk = saved;
        }
}

/* A node named by its CA and name: the CA travels in the snapshot, and loads from it. */
static void test_tls_ca_in_snapshot(void)
{
        _cleanup_free_ char *text = node("bca", "address = https://[2001:db8::1]:8443\ntls-ca = pki/ca.crt\n"
                                                "tls-name = xbus.bca.example\n" HOSTS),
                            *errors = NULL, *compact = NULL;
        Signer *s = test_snapshot_signer();
        const Signer *list[] = { s, NULL };
        RegistryAnchors *a = test_snapshot_anchors(list);
        RegistrySnapshot *snap = NULL;
        Registry *r = load(text, &errors), *from = NULL;
        const RegistryNode *n;
        size_t size;

        assert(r && !errors);
        n = registry_node_lookup(r, "bca");
        assert(n->tls_ca && strstr(n->tls_ca, "BEGIN CERTIFICATE") && streq(n->tls_name, "xbus.bca.example"));
        assert(registry_snapshot_build(dir, s,
                                       &(RegistrySnapshotParams){ .version = 1,
                                                                  .created_usec = now_usec(CLOCK_REALTIME),
                                                                  .lifetime_usec = 3600 * USEC_PER_SEC },
                                       &compact, &size, &errors) == 0);
        assert(registry_snapshot_open(&snap, a, compact, size, NULL) == 0);
        assert(registry_snapshot_load(&from, &snap, NULL, &errors) == 0);
        assert(streq(registry_node_lookup(from, "bca")->tls_ca, n->tls_ca));
        /* without a folder the CA is checked for form only */
        {
                _cleanup_free_ char *all = NULL;
                RegistryFile f;
                Registry *mem = NULL;

                assert(asprintf(&all, "%s%s", base, text) > 0);
                f = (RegistryFile){ .name = "mem.conf", .text = all, .size = strlen(all) };
                assert(registry_load_files(&mem, &f, 1, NULL) == 0);
                assert(!registry_node_lookup(mem, "bca")->tls_ca);
                registry_unref(mem);
        }
        registry_unref(from);
        registry_unref(r);
        registry_anchors_free(a);
        signer_free(s);
}

int main(void)
{
        _cleanup_free_ char *pki = NULL, *jwk_path = NULL, *error = NULL, *text = NULL;
        json_t *jwk;
        size_t size;

        dir = test_tmpdir("registry-node");
        pki = test_path(dir, "pki");
        assert(pki_demo_ensure(pki, NULL, 0, NULL, 0, &error) == 0);
        jwk_path = test_path(pki, "signing.jwk");
        assert(read_full_file(jwk_path, 4096, &text, &size) == 0);
        jwk = json_loads(text, 0, NULL);
        json_object_del(jwk, "d");
        receipt_jwk = json_dumps(jwk, JSON_COMPACT);
        json_decref(jwk);
        vkey = make_vkey("xbus.bca.example/log");

        test_node();
        test_refused();
        test_tls_ca_in_snapshot();

        free(receipt_jwk);
        free(vkey);
        test_rm_rf(dir);
        free(dir);
        printf("registry-node: ok\n");
        return 0;
}
