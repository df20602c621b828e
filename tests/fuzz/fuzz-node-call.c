/* fuzz-node-call.c: a node-call envelope at the called node: arbitrary JWS text, and arbitrary claims correctly signed */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/hash.h"
#include "crypto/signer.h"
#include "federation/envelope.h"
#include "log/checkpoint.h"

#define FP "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define FP_OTHER "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define PORTAL "VN/GOV/VPCP/national-portal"

static Registry *reg;
static Signer *caller, *self;
static uint8_t fp[32];

static Signer *make_signer(void)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        Signer *s = NULL;

        if (!k || signer_new(&s, k) != 0)
                abort();
        EVP_PKEY_free(k);
        return s;
}

static char *vkey(const char *name)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        CheckpointSigner *s = NULL;
        CheckpointVerifier *v = NULL;
        char *out = NULL;

        if (!k || checkpoint_signer_new(&s, name, k) != 0 || checkpoint_signer_verifier(s, &v) != 0 ||
            checkpoint_verifier_vkey(v, &out) != 0)
                abort();
        checkpoint_verifier_free(v);
        checkpoint_signer_free(s);
        EVP_PKEY_free(k);
        return out;
}

/* "[node ID]" with signer `s`'s key, pinned to FP (only the caller's is used). */
static char *section(const char *id, const char *member, const Signer *s, const char *hosts)
{
        json_t *jwk = signer_public_jwk(s);
        char *text = NULL, *key, *vk = vkey(id);

        json_object_del(jwk, "kid");
        key = json_dumps(jwk, JSON_COMPACT);
        if (asprintf(&text,
                     "[node %s]\nmember = %s\naddress = https://127.0.0.1:8443\ntls-fingerprint = sha256:%s\n"
                     "receipt-key = %s\ncheckpoint-key = %s\nsubsystems = %s\n",
                     id, member, streq(id, "byt") ? FP : FP_OTHER, key, vk, hosts) < 0)
                abort();
        json_decref(jwk);
        free(key);
        free(vk);
        return text;
}

static void setup(void)
{
        static const char base[] = "[instance]\nid = VN\nname = Viet Nam\n"
                                   "[member VN/GOV/BYT]\nname = Health\n[member VN/GOV/BCA]\nname = Security\n"
                                   "[member VN/GOV/VPCP]\nname = Government Office\n"
                                   "[subsystem " PORTAL "]\nname = Portal\nroles = consent-authority\n"
                                   "[subsystem VN/GOV/BCA/population]\nname = Population\nroles = provider\n";
        char *a, *b, *text = NULL, *errors = NULL;

        caller = make_signer();
        self = make_signer();
        a = section("byt", "VN/GOV/BYT", caller, PORTAL);
        b = section("bca", "VN/GOV/BCA", self, "VN/GOV/BCA/population");
        if (asprintf(&text, "%s%s%s", base, a, b) < 0 ||
            registry_load_files(&reg, &(RegistryFile){ "fuzz.conf", text, strlen(text) }, 1, &errors) != 0 ||
            hex_decode(FP, fp, sizeof(fp)) < 0)
                abort();
        free(a);
        free(b);
        free(text);
        free(errors);
}

static void check(const char *jws)
{
        const RegistrySubsystem *client = NULL;
        const RegistryNode *from = NULL;
        Problem p = {};
        /* the body the seeds' claims name: the hash of "" */
        NodeCallClaims want = { .kind = "accesses",
                                .method = "POST",
                                .target = "/consent/accesses",
                                .body_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" };

        if (node_call_check(reg, signer_kid(self), fp, jws, &want, 1796000000ULL * 1000000ULL, &client, &from, &p) ==
            0) {
                if (!client || !from || !streq(client->id, PORTAL) || !streq(from->id, "byt"))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text, *jws = NULL;

        if (!reg)
                setup();
        if (size > 64 * 1024)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        check(text); /* as the envelope itself (signed by nobody: refused, whatever it says) */
        /* as the claims, signed by the calling node: the checks after the signature */
        if (signer_sign_compact(caller, NODE_CALL_TYP, data, size, &jws) == 0)
                check(jws);
        free(jws);
        free(text);
        return 0;
}
