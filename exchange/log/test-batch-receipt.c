/* test-batch-receipt.c: tree heads and '~' receipts, round trip and refusals, and an outside check in python3 */
#undef NDEBUG
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto/hash.h"
#include "log/batch-receipt.h"
#include "log/merkle-batch.h"
#include "util/macro.h"
#include "log/test-check.h"

#define H MERKLE_HASH_LEN
#define BEFORE 21
#define BATCH 13
#define ORIGIN "xbus.test.example/log"

static char entries[BEFORE + BATCH][160];
static uint8_t leaves[BEFORE + BATCH][H];
static char *receipts[BATCH], *refused[16];
static size_t n_refused;

static EVP_PKEY *keygen(void)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

        check(k);
        return k;
}

static int verify_string(const JwsVerifier *v, const char *s, const char *origin, BatchHead *h, json_t **e)
{
        _cleanup_(batch_receipt_freep) BatchReceipt *r = NULL;
        int k = batch_receipt_parse(s, strlen(s), &r);

        return k != 0 ? k : batch_receipt_verify(v, r, origin, h, e);
}

/* A refused receipt, kept for the outside check too. */
static void refuse(const JwsVerifier *v, char *s, int want)
{
        check(verify_string(v, s, ORIGIN, NULL, NULL) == want);
        check(n_refused < ELEMENTSOF(refused));
        refused[n_refused++] = s;
}

static void test_round_trip(const Signer *signer, const JwsVerifier *v, const JwsVerifier *other)
{
        _cleanup_(merkle_batch_freep) MerkleBatch *b = NULL;
        _cleanup_free_ char *head = NULL, *wrong_typ = NULL;
        MerkleAppender a;
        BatchHead h = { .origin = ORIGIN, .time = "2026-12-06T08:40:00.000001Z" }, got;

        merkle_appender_init(&a);
        for (size_t i = 0; i < BEFORE; i++) {
                MerkleNode nodes[MERKLE_MAX_LEVELS];
                size_t n;

                check(merkle_appender_append(&a, leaves[i], nodes, &n) == 0);
        }
        check(merkle_batch_new(&b, &a, (const uint8_t(*)[H])leaves + BEFORE, BATCH) == 0);
        h.size = merkle_batch_size(b);
        check(merkle_batch_root(b, h.root) == 0);
        check(batch_receipt_head_sign(signer, &h, &head) == 0);
        check(!batch_receipt_is(head, strlen(head)));

        check(batch_receipt_head_verify(v, head, strlen(head), &got) == 0);
        check(streq(got.origin, ORIGIN) && got.size == BEFORE + BATCH && memcmp(got.root, h.root, H) == 0 &&
              streq(got.time, h.time));
        check(batch_receipt_head_verify(other, head, strlen(head), &got) == BATCH_RECEIPT_E_SIGNATURE);

        for (size_t i = 0; i < BATCH; i++) {
                uint8_t path[MERKLE_PROOF_MAX][H];
                size_t len;
                json_t *e = NULL;

                check(merkle_batch_path(b, BEFORE + i, path, &len) == 0);
                check(batch_receipt_format(head, entries[BEFORE + i], strlen(entries[BEFORE + i]),
                                           (const uint8_t(*)[H])path, len, &receipts[i]) == 0);
                check(batch_receipt_is(receipts[i], strlen(receipts[i])));
                check(verify_string(v, receipts[i], ORIGIN, &got, &e) == 0);
                check(got.size == BEFORE + BATCH);
                check(json_integer_value(json_object_get(e, "seq")) == (json_int_t)(BEFORE + i));
                json_decref(e);
                check(verify_string(v, receipts[i], NULL, NULL, NULL) == 0);
                check(verify_string(v, receipts[i], "another.example/log", NULL, NULL) == BATCH_RECEIPT_E_ORIGIN);
                check(verify_string(other, receipts[i], ORIGIN, NULL, NULL) == BATCH_RECEIPT_E_SIGNATURE);
        }

        /* refusals that an outside verifier must make too */
        {
                uint8_t path[MERKLE_PROOF_MAX][H];
                size_t len;
                char *s;

                check(merkle_batch_path(b, BEFORE + 5, path, &len) == 0 && len >= 2);
                /* another entry's bytes under this entry's path */
                check(batch_receipt_format(head, entries[BEFORE + 6], strlen(entries[BEFORE + 6]),
                                           (const uint8_t(*)[H])path, len, &s) == 0);
                refuse(v, s, BATCH_RECEIPT_E_INCLUSION);
                /* one bit of the path */
                path[1][7] ^= 0x10;
                check(batch_receipt_format(head, entries[BEFORE + 5], strlen(entries[BEFORE + 5]),
                                           (const uint8_t(*)[H])path, len, &s) == 0);
                refuse(v, s, BATCH_RECEIPT_E_INCLUSION);
                path[1][7] ^= 0x10;
                /* a hash short */
                check(batch_receipt_format(head, entries[BEFORE + 5], strlen(entries[BEFORE + 5]),
                                           (const uint8_t(*)[H])path, len - 1, &s) == 0);
                refuse(v, s, BATCH_RECEIPT_E_INCLUSION);
                /* an entry before the tree's end but of a later seq than the head covers */
                check(batch_receipt_format(head, "{\"v\":1,\"seq\":34}", 17, (const uint8_t(*)[H])path, len, &s) == 0);
                refuse(v, s, BATCH_RECEIPT_E_ENTRY);
                /* the head re-signed with another typ: a one-exchange receipt's */
                check(signer_sign_compact(signer, "xbus-receipt+jws", "{\"origin\":\"" ORIGIN "\",\"size\":34}", 34,
                                          &wrong_typ) == 0);
                check(batch_receipt_format(wrong_typ, entries[BEFORE + 5], strlen(entries[BEFORE + 5]),
                                           (const uint8_t(*)[H])path, len, &s) == 0);
                refuse(v, s, BATCH_RECEIPT_E_HEAD);
        }
}

static void test_parse(const JwsVerifier *v)
{
        static const char *const malformed[] = {
                "",       "abc",     "a~b",    "~YQ~",      "a~~",   "a~YQ~~",  "a~Y~",
                "a~YQ~Y", "a~YQ~YQ", "a~YQ=~", "a~YQ~AAAA", "a~Y+~", "a\n~YQ~",
        };
        _cleanup_free_ char *big = NULL, *s = NULL;
        uint8_t path[MERKLE_PROOF_MAX + 1][H] = {};
        BatchReceipt *r = NULL;

        for (size_t i = 0; i < ELEMENTSOF(malformed); i++) {
                int k = batch_receipt_parse(malformed[i], strlen(malformed[i]), &r);

                if (k == 0) {
                        /* "a\n~YQ~": parses; the head is not a JWS */
                        check(batch_receipt_verify(v, r, NULL, NULL, NULL) == BATCH_RECEIPT_E_SIGNATURE);
                        r = batch_receipt_free(r);
                } else
                        check(k == BATCH_RECEIPT_E_MALFORMED);
        }
        /* a NUL inside the head */
        check(batch_receipt_parse("a\0b~YQ~", 7, &r) == BATCH_RECEIPT_E_MALFORMED);
        /* an empty path parses (a tree of one entry) */
        check(batch_receipt_parse("h.p.s~YQ~", 9, &r) == 0);
        check(r->path_len == 0 && r->entry_len == 1 && r->entry[0] == 'a' && streq(r->head, "h.p.s"));
        r = batch_receipt_free(r);

        big = malloc(BATCH_RECEIPT_MAX + 2);
        check(big);
        memset(big, 'A', BATCH_RECEIPT_MAX + 1);
        big[0] = '~';
        big[5] = '~';
        big[BATCH_RECEIPT_MAX + 1] = '\0';
        check(batch_receipt_parse(big, BATCH_RECEIPT_MAX + 1, &r) == BATCH_RECEIPT_E_TOO_LARGE);

        check(batch_receipt_format("h", "", 0, NULL, 0, &s) == -EINVAL);
        check(batch_receipt_format("h", "x", 1, (const uint8_t(*)[H])path, MERKLE_PROOF_MAX + 1, &s) == -EINVAL);
        check(batch_receipt_format("h", "x", 1, (const uint8_t(*)[H])path, MERKLE_PROOF_MAX, &s) == 0);
        check(batch_receipt_parse(s, strlen(s), &r) == 0 && r->path_len == MERKLE_PROOF_MAX);
        r = batch_receipt_free(r);
}

static void test_head_refusals(const Signer *signer)
{
        BatchHead h = { .origin = ORIGIN, .size = 1, .time = "t" };
        char *s = NULL;

        check(batch_receipt_head_sign(signer, &(BatchHead){ .origin = "", .size = 1, .time = "t" }, &s) == -EINVAL);
        check(batch_receipt_head_sign(signer, &(BatchHead){ .origin = "a b", .size = 1, .time = "t" }, &s) == -EINVAL);
        check(batch_receipt_head_sign(signer, &(BatchHead){ .origin = "o", .size = 1 }, &s) == -EINVAL);
        h.size = (uint64_t)INT64_MAX + 1;
        check(batch_receipt_head_sign(signer, &h, &s) == -EINVAL);
        check(s == NULL);
        for (int k = 1; k <= _BATCH_RECEIPT_E_MAX; k++)
                check(strlen(batch_receipt_strerror(k)) > 0);
}

/* Write the key, the good receipts and the refused ones; let python3 (cryptography, openssl) judge them. */
static void test_outside(EVP_PKEY *pkey)
{
        char dir[] = "/tmp/xbus-test-batch-receipt-XXXXXX", path[512], cmd[2048];
        const char *src = getenv("XBUS_SOURCE_ROOT");
        FILE *f;
        int status;

        if (isempty(src) || system("command -v python3 >/dev/null 2>&1") != 0) {
                printf("test-batch-receipt: no XBUS_SOURCE_ROOT or python3: outside check skipped\n");
                return;
        }
        check(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/pub.pem", dir);
        check((f = fopen(path, "we")));
        check(PEM_write_PUBKEY(f, pkey) == 1);
        fclose(f);
        snprintf(path, sizeof(path), "%s/origin", dir);
        check((f = fopen(path, "we")));
        fputs(ORIGIN "\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/receipts", dir);
        check((f = fopen(path, "we")));
        for (size_t i = 0; i < BATCH; i++)
                fprintf(f, "%s\n", receipts[i]);
        fputs("--\n", f);
        for (size_t i = 0; i < n_refused; i++)
                fprintf(f, "%s\n", refused[i]);
        fclose(f);

        snprintf(cmd, sizeof(cmd), "python3 '%s/tests/integration/batch_receipt.py' --check '%s'", src, dir);
        status = system(cmd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        check(system(cmd) == 0);
        check(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                printf("test-batch-receipt: python3 cryptography missing: outside check skipped\n");
                return;
        }
        check(WEXITSTATUS(status) == 0);
}

int main(void)
{
        _cleanup_(signer_freep) Signer *signer = NULL;
        _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL, *other = NULL;
        EVP_PKEY *pkey = keygen(), *pkey2 = keygen();

        for (size_t i = 0; i < BEFORE + BATCH; i++) {
                snprintf(entries[i], sizeof(entries[i]),
                         "{\"v\":1,\"seq\":%zu,\"time\":\"2026-12-06T08:40:00.%06zuZ\",\"client\":\"GOV/123/c\","
                         "\"request_hash\":\"%064zx\"}",
                         i, i, i * 7919);
                check(merkle_leaf_hash(entries[i], strlen(entries[i]), leaves[i]) == 0);
        }
        check(signer_new(&signer, pkey) == 0);
        check(jws_verifier_from_pkey(&v, pkey) == 0);
        check(jws_verifier_from_pkey(&other, pkey2) == 0);

        test_round_trip(signer, v, other);
        test_parse(v);
        test_head_refusals(signer);
        test_outside(pkey);

        for (size_t i = 0; i < BATCH; i++)
                free(receipts[i]);
        for (size_t i = 0; i < n_refused; i++)
                free(refused[i]);
        EVP_PKEY_free(pkey);
        EVP_PKEY_free(pkey2);
        printf("test-batch-receipt: %u checks passed\n", checks);
        return 0;
}
