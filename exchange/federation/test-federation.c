/* test-federation.c: forward envelopes between two nodes of a registry, and the provider node's receipt */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/hash.h"
#include "crypto/jws.h"
#include "crypto/receipt.h"
#include "crypto/signer.h"
#include "federation/envelope.h"
#include "federation/head-cache.h"
#include "log/batch-receipt.h"
#include "log/checkpoint.h"
#include "log/merkle.h"
#include "tests/support/test-util.h"
#include "util/time-util.h"

#define FP_A "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define FP_B "sha256:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define HN "VN/GOV/HN/one-stop-shop"
#define HCM "VN/GOV/HCM/one-stop-shop"
#define PORTAL "VN/GOV/VPCP/national-portal"
#define CITIZEN "VN/GOV/BCA/population/citizen"
#define TARGET "/r1/VN/GOV/BCA/population/citizen/001"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char base[] =
        "[instance]\nid = VN\nname = Viet Nam\n"
        "[member VN/GOV/BCA]\nname = Ministry of Public Security\n[member VN/GOV/HN]\nname = Ha Noi\n"
        "[member VN/GOV/HCM]\nname = Ho Chi Minh City\n[member VN/GOV/VPCP]\nname = Government Office\n"
        "[subsystem " PORTAL "]\nname = National portal\nroles = consent-authority\n"
        "[subsystem VN/GOV/BCA/population]\nname = Population\nroles = provider\n"
        "[subsystem " HN "]\nname = One-stop-shop\nroles = client\n"
        "[subsystem " HCM "]\nname = One-stop-shop\nroles = client\n";

/* A C2SP vkey for a fresh Ed25519 key (what the registry checks of checkpoint-key). */
static char *make_vkey(const char *name)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        CheckpointSigner *s = NULL;
        CheckpointVerifier *v = NULL;
        char *out = NULL;

        assert(k && checkpoint_signer_new(&s, name, k) == 0);
        assert(checkpoint_signer_verifier(s, &v) == 0 && checkpoint_verifier_vkey(v, &out) == 0);
        checkpoint_verifier_free(v);
        checkpoint_signer_free(s);
        EVP_PKEY_free(k);
        return out;
}

static Signer *make_signer(void)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        Signer *s = NULL;

        assert(k && signer_new(&s, k) == 0);
        EVP_PKEY_free(k);
        return s;
}

static char *section(const char *id, const char *member, const Signer *s, const char *fp, const char *hosts)
{
        json_t *jwk = signer_public_jwk(s);
        char *text = NULL, *key, *vkey = make_vkey(id);

        json_object_del(jwk, "kid");
        key = json_dumps(jwk, JSON_COMPACT);
        assert(asprintf(&text,
                        "[node %s]\nmember = %s\naddress = https://127.0.0.1:8443\ntls-fingerprint = %s\n"
                        "receipt-key = %s\ncheckpoint-key = %s\nsubsystems = %s\n",
                        id, member, fp, key, vkey, hosts) > 0);
        json_decref(jwk);
        free(key);
        free(vkey);
        return text;
}

static uint8_t fp_a[32], fp_b[32], fp_x[32];
static Signer *sa, *sb;
static Registry *reg;

/* Node "hn" (signer sa, FP_A) forwards to node "bca" (signer sb); `claims` as signed; checked at bca. */
static int check(const ForwardClaims *signed_claims, const Signer *by, const uint8_t *fp, const ForwardClaims *expect,
                 uint64_t now, Problem *p)
{
        const RegistrySubsystem *client = NULL;
        const RegistryNode *from = NULL;
        char *jws = NULL;
        int r;

        assert(forward_envelope_sign(by, signed_claims, &jws) == 0);
        *p = (Problem){};
        r = forward_envelope_check(reg, signer_kid(sb), fp, jws, expect, now, &client, &from, p);
        assert(r >= 0);
        assert(r == 0 ? client && streq(client->id, expect->client) && streq(from->id, "hn")
                      : p->type == PROBLEM_NODE_REFUSED);
        if (r)
                printf("refused: %s\n", p->detail);
        free(jws);
        return r;
}

static void test_envelope(void)
{
        uint64_t now = now_usec(CLOCK_REALTIME);
        ForwardClaims c = { .node = "hn",
                            .to = "bca",
                            .client = HN,
                            .service = CITIZEN,
                            .method = "GET",
                            .target = TARGET,
                            .xroad_id = "x-1",
                            .request_hash = EMPTY_SHA256,
                            .time_usec = now };
        ForwardClaims want = c, other;
        Problem p;

        assert(check(&c, sa, fp_a, &want, now, &p) == 0);
        /* the TLS certificate is no node's, or another node's */
        assert(check(&c, sa, fp_x, &want, now, &p) == 1 && strstr(p.detail, "not any node's"));
        assert(check(&c, sa, NULL, &want, now, &p) == 1);
        assert(check(&c, sa, fp_b, &want, now, &p) == 1 && strstr(p.detail, "does not verify"));
        /* signed by another key than the node's of that certificate */
        assert(check(&c, sb, fp_a, &want, now, &p) == 1 && strstr(p.detail, "does not verify"));
        /* for a client the node does not host (HCM is hosted by no node; the provider is bca's) */
        other = c;
        other.client = HCM;
        want.client = HCM;
        assert(check(&other, sa, fp_a, &want, now, &p) == 1 && strstr(p.detail, "does not host"));
        other.client = "VN/GOV/BCA/population";
        want.client = "VN/GOV/BCA/population";
        assert(check(&other, sa, fp_a, &want, now, &p) == 1 && strstr(p.detail, "does not host"));
        /* a client other than X-Road-Client names */
        want.client = HCM;
        assert(check(&c, sa, fp_a, &want, now, &p) == 1 && strstr(p.detail, "vouches for client"));
        want.client = HN;
        /* not for this node; another node's id in "node" */
        other = c;
        other.to = "hn";
        assert(check(&other, sa, fp_a, &want, now, &p) == 1 && strstr(p.detail, "meant for node"));
        other = c;
        other.node = "bca";
        assert(check(&other, sa, fp_a, &want, now, &p) == 1);
        /* the request differs from the one signed: target, method, X-Road-Id, body */
        want.target = TARGET "2";
        assert(check(&c, sa, fp_a, &want, now, &p) == 1 && strstr(p.detail, "does not match the request"));
        want.target = TARGET;
        want.method = "POST";
        assert(check(&c, sa, fp_a, &want, now, &p) == 1);
        want.method = "GET";
        want.xroad_id = "x-2";
        assert(check(&c, sa, fp_a, &want, now, &p) == 1);
        want.xroad_id = "x-1";
        want.request_hash = FP_A + 7;
        assert(check(&c, sa, fp_a, &want, now, &p) == 1);
        want.request_hash = EMPTY_SHA256;
        /* the clock: 5 minutes either way */
        assert(check(&c, sa, fp_a, &want, now + 200 * USEC_PER_SEC, &p) == 0);
        assert(check(&c, sa, fp_a, &want, now + 301 * USEC_PER_SEC, &p) == 1 && strstr(p.detail, "clock"));
        assert(check(&c, sa, fp_a, &want, now - 301 * USEC_PER_SEC, &p) == 1);
        /* not an envelope at all */
        {
                const RegistrySubsystem *client = NULL;
                const RegistryNode *from = NULL;
                assert(forward_envelope_check(reg, signer_kid(sb), fp_a, "a.b.c", &want, now, &client, &from, &p) == 1);
        }
}

static void test_receipt(void)
{
        const RegistryNode *bca = registry_node_lookup(reg, "bca"), *hn = registry_node_lookup(reg, "hn");
        char resp[HASH_SHA256_HEX_LEN + 1], why[200], *jws = NULL;
        ReceiptExpect e = { .xroad_id = "x-1", .client = HN, .service = CITIZEN, .request_hash = EMPTY_SHA256 };
        uint64_t seq = 0;

        hash_sha256_hex("{}", 2, resp);
        e.response_hash = resp;
        assert(receipt_sign(sb,
                            &(Receipt){ .seq = 7,
                                        .time = "2026-12-06T08:00:00.000000Z",
                                        .xroad_id = "x-1",
                                        .client = HN,
                                        .service = CITIZEN,
                                        .request_hash = EMPTY_SHA256,
                                        .response_hash = resp },
                            &jws) == 0);
        assert(forward_receipt_check(bca, jws, &e, NULL, &seq, why, sizeof(why)) == 0 && seq == 7);
        /* the wrong node's key */
        assert(forward_receipt_check(hn, jws, &e, NULL, &seq, why, sizeof(why)) == 1 && strstr(why, "does not verify"));
        /* another exchange, another body */
        e.xroad_id = "x-2";
        assert(forward_receipt_check(bca, jws, &e, NULL, &seq, why, sizeof(why)) == 1 &&
               strstr(why, "another exchange"));
        e.xroad_id = "x-1";
        e.response_hash = EMPTY_SHA256;
        assert(forward_receipt_check(bca, jws, &e, NULL, &seq, why, sizeof(why)) == 1);
        /* none */
        assert(forward_receipt_check(bca, NULL, &e, NULL, &seq, why, sizeof(why)) == 1 &&
               strstr(why, "without a receipt"));
        free(jws);
}

/* The entry of exchange `xid` at `seq`, as a log stores it (the fields a receipt check reads, and more). */
static char *batch_entry(uint64_t seq, const char *xid, const char *resp)
{
        char *e = NULL;

        assert(asprintf(&e,
                        "{\"v\":1,\"seq\":%" PRIu64 ",\"time\":\"2026-12-06T08:00:00.000000Z\",\"xroad_id\":\"%s\","
                        "\"client\":\"" HN "\",\"service\":\"" CITIZEN
                        "\",\"decision\":\"allow\",\"request_hash\":\"" EMPTY_SHA256 "\",\"response_hash\":\"%s\"}",
                        seq, xid, resp) > 0);
        return e;
}

/* Receipts of the group-commit form for both entries of a tree of two, under one head signed by `s` for `origin`. */
static void batch_receipts(const Signer *s, const char *origin, char *const entries[2], char *ret[2])
{
        uint8_t leaf[2][MERKLE_HASH_LEN];
        BatchHead h = { .size = 2, .time = "2026-12-06T08:00:00Z" };
        _cleanup_free_ char *head = NULL;

        snprintf(h.origin, sizeof(h.origin), "%s", origin);
        for (int i = 0; i < 2; i++)
                assert(merkle_leaf_hash(entries[i], strlen(entries[i]), leaf[i]) == 0);
        assert(merkle_node_hash(leaf[0], leaf[1], h.root) == 0);
        assert(batch_receipt_head_sign(s, &h, &head) == 0);
        for (int i = 0; i < 2; i++)
                assert(batch_receipt_format(head, entries[i], strlen(entries[i]),
                                            (const uint8_t(*)[MERKLE_HASH_LEN])leaf[1 - i], 1, &ret[i]) == 0);
}

/* The same checks on receipts of the group-commit form, and the head verified once per batch. */
static void test_batch_receipt(void)
{
        const RegistryNode *bca = registry_node_lookup(reg, "bca"), *hn = registry_node_lookup(reg, "hn");
        char resp[HASH_SHA256_HEX_LEN + 1], why[200], *entries[2], *rc[2], *other[2];
        ReceiptExpect e = { .xroad_id = "x-1", .client = HN, .service = CITIZEN, .request_hash = EMPTY_SHA256 };
        _cleanup_free_ char *head = NULL;
        HeadCache heads = {};
        uint64_t seq = 0;
        size_t n;
        char c;

        hash_sha256_hex("{}", 2, resp);
        e.response_hash = resp;
        entries[0] = batch_entry(0, "x-0", resp);
        entries[1] = batch_entry(1, "x-1", resp);
        batch_receipts(sb, "bca", entries, rc);
        assert(forward_receipt_check(bca, rc[1], &e, &heads, &seq, why, sizeof(why)) == 0 && seq == 1);
        assert(heads.misses == 1 && heads.hits == 0);
        /* the batch's other exchange: the head comes from the cache */
        e.xroad_id = "x-0";
        assert(forward_receipt_check(bca, rc[0], &e, &heads, &seq, why, sizeof(why)) == 0 && seq == 0);
        assert(heads.misses == 1 && heads.hits == 1);
        /* the entry of another exchange of the same batch */
        assert(forward_receipt_check(bca, rc[1], &e, &heads, &seq, why, sizeof(why)) == 1 &&
               strstr(why, "another exchange"));
        e.xroad_id = "x-1";
        /* the wrong node's key, even with bca's head in the cache */
        assert(forward_receipt_check(hn, rc[1], &e, &heads, &seq, why, sizeof(why)) == 1 &&
               strstr(why, "does not verify"));
        assert(forward_receipt_check(hn, rc[1], &e, NULL, &seq, why, sizeof(why)) == 1);
        /* a tampered path, then a tampered entry: not under the head's root */
        n = strlen(rc[1]);
        c = rc[1][n - 2];
        rc[1][n - 2] = c == 'A' ? 'B' : 'A';
        assert(forward_receipt_check(bca, rc[1], &e, &heads, &seq, why, sizeof(why)) == 1 &&
               strstr(why, "does not prove"));
        rc[1][n - 2] = c;
        assert(forward_receipt_check(bca, rc[1], &e, &heads, &seq, why, sizeof(why)) == 0);
        free(rc[1]);
        head = strndup(rc[0], strcspn(rc[0], "~"));
        assert(head && batch_receipt_format(head, entries[0], strlen(entries[0]), NULL, 0, &rc[1]) == 0);
        assert(forward_receipt_check(bca, rc[1], &e, &heads, &seq, why, sizeof(why)) == 1 &&
               strstr(why, "does not prove"));
        /* a head of another log than the one bca's checkpoint key names */
        batch_receipts(sb, "elsewhere", entries, other);
        assert(forward_receipt_check(bca, other[1], &e, &heads, &seq, why, sizeof(why)) == 1 &&
               strstr(why, "another log"));
        /* not three parts */
        assert(forward_receipt_check(bca, "a.b.c~x", &e, &heads, &seq, why, sizeof(why)) == 1 &&
               strstr(why, "cannot be read"));
        /* three parts, but a head that is not bca's tree head */
        assert(forward_receipt_check(bca, "a.b.c~eyJzZXEiOjF9~", &e, &heads, &seq, why, sizeof(why)) == 1 &&
               strstr(why, "does not verify"));
        /* the cache is bounded: more heads than slots, each verified once */
        for (unsigned i = 0; i < HEAD_CACHE_SLOTS + 3; i++) {
                char *more[2];
                batch_receipts(sb, "bca", entries, more);
                assert(forward_receipt_check(bca, more[1], &e, &heads, &seq, why, sizeof(why)) == 0);
                assert(forward_receipt_check(bca, more[1], &e, &heads, &seq, why, sizeof(why)) == 0);
                free(more[0]);
                free(more[1]);
        }
        assert(heads.n_slots == HEAD_CACHE_SLOTS && heads.misses == 2 + HEAD_CACHE_SLOTS + 3);
        for (int i = 0; i < 2; i++) {
                free(entries[i]);
                free(rc[i]);
                free(other[i]);
        }
}

/* A node call from "hn" (signer `by`, over `fp`) checked at bca against `expect`. Return: as node_call_check(). */
static int call_check(const NodeCallClaims *c, const Signer *by, const uint8_t *fp, const NodeCallClaims *expect,
                      uint64_t now, Problem *p)
{
        const RegistrySubsystem *client = NULL;
        const RegistryNode *from = NULL;
        char *jws = NULL;
        int r;

        assert(node_call_sign(by, c, &jws) == 0);
        *p = (Problem){};
        r = node_call_check(reg, signer_kid(sb), fp, jws, expect, now, &client, &from, p);
        assert(r >= 0);
        assert(r == 0 ? client && streq(client->id, PORTAL) && streq(from->id, "hn") : p->type == PROBLEM_NODE_REFUSED);
        if (r)
                printf("refused: %s\n", p->detail);
        free(jws);
        return r;
}

static void test_node_call(void)
{
        uint64_t now = now_usec(CLOCK_REALTIME);
        NodeCallClaims c = { .node = "hn",
                             .to = "bca",
                             .kind = "accesses",
                             .client = PORTAL,
                             .method = "POST",
                             .target = "/consent/accesses",
                             .body_hash = EMPTY_SHA256,
                             .time_usec = now },
                       want = { .kind = "accesses",
                                .method = "POST",
                                .target = "/consent/accesses",
                                .body_hash = EMPTY_SHA256 },
                       other;
        const RegistrySubsystem *client = NULL;
        const RegistryNode *from = NULL;
        ForwardClaims fc = { .node = "hn",
                             .to = "bca",
                             .client = PORTAL,
                             .service = CITIZEN,
                             .method = "POST",
                             .target = "/consent/accesses",
                             .xroad_id = "x",
                             .request_hash = EMPTY_SHA256,
                             .time_usec = now };
        char *jws = NULL;
        Problem p;

        assert(call_check(&c, sa, fp_a, &want, now, &p) == 0);
        /* a certificate no node pins; none */
        assert(call_check(&c, sa, fp_x, &want, now, &p) == 1 && strstr(p.detail, "not any node's"));
        assert(call_check(&c, sa, NULL, &want, now, &p) == 1);
        /* another node's key over hn's certificate */
        assert(call_check(&c, sb, fp_a, &want, now, &p) == 1 && strstr(p.detail, "does not verify"));
        /* another kind, path, body; meant for another node; out of time */
        other = want, other.kind = "consent-create";
        assert(call_check(&c, sa, fp_a, &other, now, &p) == 1 && strstr(p.detail, "does not match"));
        other = want, other.target = "/consent/consents";
        assert(call_check(&c, sa, fp_a, &other, now, &p) == 1);
        other = want, other.body_hash = FP_A + 7;
        assert(call_check(&c, sa, fp_a, &other, now, &p) == 1);
        other = c, other.to = "hn";
        assert(call_check(&other, sa, fp_a, &want, now, &p) == 1 && strstr(p.detail, "not this one"));
        assert(call_check(&c, sa, fp_a, &want, now + 301 * USEC_PER_SEC, &p) == 1 && strstr(p.detail, "clock"));
        /* for a client hn hosts that is no consent authority; for one it does not host */
        other = c, other.client = HN;
        assert(call_check(&other, sa, fp_a, &want, now, &p) == 1 && strstr(p.detail, "not a consent authority"));
        other = c, other.client = HCM;
        assert(call_check(&other, sa, fp_a, &want, now, &p) == 1 && strstr(p.detail, "does not host"));
        /* the node names itself falsely */
        other = c, other.node = "bca";
        assert(call_check(&other, sa, fp_a, &want, now, &p) == 1);
        /* a forward envelope is no node call, and the other way round */
        assert(forward_envelope_sign(sa, &fc, &jws) == 0);
        assert(node_call_check(reg, signer_kid(sb), fp_a, jws, &want, now, &client, &from, &p) == 1 &&
               strstr(p.detail, "not a node-call envelope"));
        free(jws);
        assert(node_call_sign(sa, &c, &jws) == 0);
        assert(forward_envelope_check(reg, signer_kid(sb), fp_a, jws,
                                      &(ForwardClaims){ .client = PORTAL,
                                                        .method = "POST",
                                                        .target = "/consent/accesses",
                                                        .xroad_id = "x",
                                                        .request_hash = EMPTY_SHA256 },
                                      now, &client, &from, &p) == 1);
        jws = mfree(jws);
        /* none, garbage, a missing member */
        assert(node_call_check(reg, signer_kid(sb), fp_a, NULL, &want, now, &client, &from, &p) == 1);
        assert(node_call_check(reg, signer_kid(sb), fp_a, "a.b.c", &want, now, &client, &from, &p) == 1);
        other = c, other.kind = NULL;
        assert(node_call_sign(sa, &other, &jws) == -EINVAL && !jws);
}

int main(void)
{
        _cleanup_free_ char *dir = test_tmpdir("federation"), *a = NULL, *b = NULL, *text = NULL, *path = NULL,
                            *errors = NULL;

        sa = make_signer();
        sb = make_signer();
        assert(hex_decode(FP_A + 7, fp_a, 32) == 0 && hex_decode(FP_B + 7, fp_b, 32) == 0);
        memset(fp_x, 0x5a, sizeof(fp_x));
        a = section("hn", "VN/GOV/HN", sa, FP_A, HN ", " PORTAL);
        b = section("bca", "VN/GOV/BCA", sb, FP_B, "VN/GOV/BCA/population");
        assert(asprintf(&text, "%s%s%s", base, a, b) > 0);
        path = test_path(dir, "00.conf");
        test_write_file(path, text, strlen(text), 0644);
        assert(registry_load_dir(&reg, dir, &errors) == 0);
        assert(registry_node_by_fingerprint(reg, fp_a) == registry_node_lookup(reg, "hn"));
        assert(registry_node_by_kid(reg, signer_kid(sb)) == registry_node_lookup(reg, "bca"));
        assert(!registry_node_by_fingerprint(reg, fp_x) && !registry_node_by_kid(reg, "nope"));

        test_envelope();
        test_receipt();
        test_batch_receipt();
        test_node_call();

        registry_unref(reg);
        signer_free(sa);
        signer_free(sb);
        test_rm_rf(dir);
        printf("federation: ok\n");
        return 0;
}
