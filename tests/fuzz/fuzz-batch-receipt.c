/* fuzz-batch-receipt.c: the '~' receipt's parser and verifier, and the tree head's reader, on arbitrary bytes */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/hash.h"
#include "log/batch-receipt.h"
#include "util/macro.h"
#include "fuzz-assert.h"

/* A key made once per process: the input's head is re-signed with it, so that a valid
 * signature lets the head's payload, the entry and the path reach the code behind it. */
static Signer *signer;
static JwsVerifier *verifier;

static void fuzz_keys(void)
{
        EVP_PKEY *pkey;

        if (signer)
                return;
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        fuzz_assert(pkey);
        fuzz_assert(signer_new(&signer, pkey) == 0);
        fuzz_assert(jws_verifier_from_pkey(&verifier, pkey) == 0);
        EVP_PKEY_free(pkey);
}

static void check_verdict(int r)
{
        fuzz_assert(r == 0 || r == -ENOMEM || (r > 0 && r < _BATCH_RECEIPT_E_MAX));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        BatchReceipt *r = NULL, *again = NULL;
        char *text = NULL, *head = NULL, *payload;
        const char *dot1, *dot2;
        BatchHead h;
        long n;
        int k;

        fuzz_keys();
        k = batch_receipt_parse((const char *)data, size, &r);
        check_verdict(k);
        if (k != 0)
                return 0;
        fuzz_assert(batch_receipt_is((const char *)data, size));
        fuzz_assert(r->entry_len > 0 && r->path_len <= MERKLE_PROOF_MAX);

        /* as received: the signature is not ours */
        check_verdict(batch_receipt_verify(verifier, r, NULL, NULL, NULL));

        /* formatted again, it parses to the same parts */
        if (batch_receipt_format(r->head, r->entry, r->entry_len, (const uint8_t(*)[MERKLE_HASH_LEN])r->path,
                                 r->path_len, &text) == 0) {
                fuzz_assert(batch_receipt_parse(text, strlen(text), &again) == 0);
                fuzz_assert(streq(again->head, r->head) && again->entry_len == r->entry_len &&
                            memcmp(again->entry, r->entry, r->entry_len) == 0 && again->path_len == r->path_len &&
                            (r->path_len == 0 || memcmp(again->path, r->path, r->path_len * MERKLE_HASH_LEN) == 0));
                batch_receipt_free(again);
                free(text);
        }

        /* the head's payload re-signed with our key: the payload, entry and path are read for real */
        dot1 = strchr(r->head, '.');
        dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        if (dot2 && (payload = malloc((size_t)(dot2 - dot1) * 3 / 4 + 1))) {
                n = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), (uint8_t *)payload);
                if (n > 0 && signer_sign_compact(signer, BATCH_RECEIPT_HEAD_TYP, payload, (size_t)n, &head) == 0) {
                        free(r->head);
                        r->head = head;
                        r->head_len = strlen(head);
                        k = batch_receipt_verify(verifier, r, NULL, &h, NULL);
                        check_verdict(k);
                        if (k == 0)
                                fuzz_assert(h.size > 0 && strlen(h.origin) > 0);
                        check_verdict(batch_receipt_head_verify(verifier, r->head, r->head_len, &h));
                }
                free(payload);
        }
        batch_receipt_free(r);
        return 0;
}
