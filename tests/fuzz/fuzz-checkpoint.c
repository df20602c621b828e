/* fuzz-checkpoint.c: checkpoint parsing, verification and vkeys on arbitrary bytes */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "log/checkpoint.h"
#include "util/macro.h"
#include "fuzz-assert.h"

/*
 * The seeds under tests/fuzz/corpus/checkpoint are signed with this key
 * (Ed25519 private key bytes 0x00..0x1f, name FUZZ_NAME), so that valid
 * signatures reach the verification code too.
 */
#define FUZZ_NAME "fuzz.xbus.test/log"

static CheckpointVerifier *fuzz_verifier(void)
{
        static CheckpointVerifier *v;
        uint8_t seed[32];
        EVP_PKEY *pkey;
        CheckpointSigner *s = NULL;

        if (v)
                return v;
        for (int i = 0; i < 32; i++)
                seed[i] = (uint8_t)i;
        pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
        fuzz_assert(pkey);
        fuzz_assert(checkpoint_signer_new(&s, FUZZ_NAME, pkey) == 0);
        fuzz_assert(checkpoint_signer_verifier(s, &v) == 0);
        checkpoint_signer_free(s);
        EVP_PKEY_free(pkey);
        return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const CheckpointVerifier *v = fuzz_verifier();
        Checkpoint *c = NULL;
        size_t text_len = 0;
        int r;

        r = checkpoint_parse((const char *)data, size, &c);
        fuzz_assert(r >= 0 || r == -ENOMEM);
        if (r == 0) {
                char *text = NULL;

                fuzz_assert(c->n_signatures >= 1 && c->n_signatures <= CHECKPOINT_SIGNATURES_MAX);
                fuzz_assert(c->n_extensions <= CHECKPOINT_EXTENSIONS_MAX);
                fuzz_assert(c->text_len < size && strlen(c->text) == c->text_len);
                fuzz_assert(memcmp(c->text, data, c->text_len) == 0);

                /* what parses formats back to the same text */
                if (checkpoint_name_valid(c->origin)) {
                        r = checkpoint_format(c->origin, c->size, c->root, (const char *const *)c->extensions,
                                              c->n_extensions, &text);
                        fuzz_assert(r == 0);
                        fuzz_assert(streq(text, c->text));
                        free(text);
                }

                r = checkpoint_verify(c, v);
                fuzz_assert(r == 0 || r == CHECKPOINT_E_UNSIGNED || r == CHECKPOINT_E_SIGNATURE || r == -ENOMEM);
                checkpoint_free(c);
        }

        r = checkpoint_note_verify((const char *)data, size, v, &text_len);
        fuzz_assert(r >= 0 || r == -ENOMEM);
        if (r == 0)
                fuzz_assert(text_len < size);

        /* the same bytes as a vkey */
        if (size < 512) {
                CheckpointVerifier *w = NULL;
                char buf[512];

                memcpy(buf, data, size);
                buf[size] = 0;
                r = checkpoint_verifier_from_vkey(&w, buf);
                fuzz_assert(r == 0 || r == CHECKPOINT_E_KEY || r == -ENOMEM);
                if (r == 0) {
                        char *vk = NULL;

                        fuzz_assert(checkpoint_verifier_vkey(w, &vk) == 0);
                        fuzz_assert(strcasecmp(vk, buf) == 0 || strlen(buf) != size);
                        free(vk);
                        checkpoint_verifier_free(w);
                }
        }
        return 0;
}
