/* cli-receipt.c: X-Bus-Receipt verification (libjose) and matching */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli-common.h"
#include "cli/cli-receipt.h"
#include "crypto/hash.h"
#include "crypto/jws.h"
#include "log/batch-receipt.h"
#include "util/macro.h"

#define RECEIPT_TYP "xbus-receipt+jws"
#define JWK_FILE_MAX (64U * 1024)

int cli_receipt_load_jwk(const char *path, json_t **ret, char **ret_reason)
{
        json_error_t err;
        struct stat st;
        json_t *j;

        if (!path || !ret)
                return -EINVAL;
        if (stat(path, &st) < 0)
                return error_set(ret_reason, CLI_RECEIPT_E_KEY, "cannot read the node's key \"%s\": %s", path,
                                 strerror(errno));
        if (!S_ISREG(st.st_mode) || (size_t)st.st_size > JWK_FILE_MAX)
                return error_set(ret_reason, CLI_RECEIPT_E_KEY, "\"%s\" is not a JWK file", path);
        j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
        if (!j || !json_is_object(j)) {
                json_decref(j);
                return error_set(ret_reason, CLI_RECEIPT_E_KEY, "\"%s\" is not a JWK: %s", path,
                                 j ? "not a JSON object" : err.text);
        }
        *ret = j;
        return 0;
}

static const char *payload_string(const json_t *p, const char *key)
{
        return json_string_value(json_object_get(p, key));
}

/* A string field that must equal `want`. Return: 0 or CLI_RECEIPT_E_CONTENT. */
static int match(const json_t *p, const char *key, const char *want, const char *what, char **ret_reason)
{
        const char *have = payload_string(p, key);

        if (!have)
                return error_set(ret_reason, CLI_RECEIPT_E_CONTENT, "the receipt has no \"%s\"", key);
        if (want && !streq(have, want))
                return error_set(ret_reason, CLI_RECEIPT_E_CONTENT, "the receipt's %s \"%.80s\" is not %s \"%.80s\"",
                                 key, have, what, want);
        return 0;
}

/* The one-JWS receipt (typ RECEIPT_TYP): its signature by `v`, its typ and kid. *ret_payload: the signed payload. */
static int verify_jws(const JwsVerifier *v, const json_t *jwk, const char *jws, json_t **ret_payload, char **ret_reason)
{
        _cleanup_(json_decrefp) json_t *header = NULL, *payload = NULL;
        const char *typ, *kid, *want_kid;
        int r;

        r = jws_verify_compact(v, jws, strlen(jws), &header, &payload);
        if (r == -ENOMEM)
                return r;
        if (r != 0)
                return error_set(ret_reason, CLI_RECEIPT_E_SIGNATURE, "not a valid signature by the node's key: %s",
                                 jws_strerror(r));

        typ = json_string_value(json_object_get(header, "typ"));
        if (!typ || !streq(typ, RECEIPT_TYP))
                return error_set(ret_reason, CLI_RECEIPT_E_SIGNATURE, "signed, but not a receipt (typ \"%.40s\")",
                                 typ ? typ : "");
        kid = json_string_value(json_object_get(header, "kid"));
        want_kid = json_string_value(json_object_get(jwk, "kid"));
        if (kid && want_kid && !streq(kid, want_kid))
                return error_set(ret_reason, CLI_RECEIPT_E_SIGNATURE, "the receipt names key \"%.60s\", not \"%.60s\"",
                                 kid, want_kid);
        *ret_payload = TAKE_PTR(payload);
        return 0;
}

/* The receipt of a group commit (log/batch-receipt.h): the head's signature by `v`, the entry under its root by
 * the path. *ret_entry: the log entry, whose fields carry the same names as a one-JWS receipt's payload. */
static int verify_batch(const JwsVerifier *v, const char *receipt, json_t **ret_entry, char **ret_reason)
{
        _cleanup_(batch_receipt_freep) BatchReceipt *b = NULL;
        int r;

        r = batch_receipt_parse(receipt, strlen(receipt), &b);
        if (r == 0)
                r = batch_receipt_verify(v, b, NULL, NULL, ret_entry);
        if (r == -ENOMEM)
                return r;
        if (r == BATCH_RECEIPT_E_SIGNATURE)
                return error_set(ret_reason, CLI_RECEIPT_E_SIGNATURE,
                                 "the receipt's tree head is not signed by the node's key");
        if (r != 0)
                return error_set(ret_reason, CLI_RECEIPT_E_SIGNATURE, "not a valid receipt: %s",
                                 batch_receipt_strerror(r));
        return 0;
}

int cli_receipt_verify(const json_t *jwk, const char *jws, const CliReceiptExpect *e, json_t **ret_payload,
                       char **ret_reason)
{
        _cleanup_(jws_verifier_freep) JwsVerifier *v = NULL;
        _cleanup_(json_decrefp) json_t *payload = NULL;
        char body_hash[HASH_SHA256_HEX_LEN + 1];
        json_t *seq;
        int r;

        if (!jwk || !jws || !e)
                return -EINVAL;

        r = jws_verifier_new(&v, jwk);
        if (r == -ENOMEM)
                return r;
        if (r != 0)
                return error_set(ret_reason, CLI_RECEIPT_E_KEY, "the node's key is not usable: %s", jws_strerror(r));

        if (batch_receipt_is(jws, strlen(jws)))
                r = verify_batch(v, jws, &payload, ret_reason);
        else
                r = verify_jws(v, jwk, jws, &payload, ret_reason);
        if (r != 0)
                return r;

        hash_sha256_hex(e->body ? e->body : "", e->body ? e->body_size : 0, body_hash);
        if ((r = match(payload, "response_hash", body_hash, "the SHA-256 of the body received", ret_reason)) ||
            (r = match(payload, "xroad_id", e->xroad_id, "the exchange's X-Road-Id", ret_reason)) ||
            (r = match(payload, "client", e->client, "the client", ret_reason)) ||
            (r = match(payload, "service", e->service, "the service asked for", ret_reason)) ||
            (r = match(payload, "request_hash", e->request_hash, "the SHA-256 of the body sent", ret_reason)) ||
            (r = match(payload, "time", NULL, NULL, ret_reason)))
                return r;

        seq = json_object_get(payload, "seq");
        if (!json_is_integer(seq) || json_integer_value(seq) < 0)
                return error_set(ret_reason, CLI_RECEIPT_E_CONTENT, "the receipt has no log sequence number");
        if (e->has_seq && (uint64_t)json_integer_value(seq) != e->seq)
                return error_set(ret_reason, CLI_RECEIPT_E_CONTENT,
                                 "the receipt's log seq %" JSON_INTEGER_FORMAT " is not X-Bus-Log-Seq %" PRIu64,
                                 json_integer_value(seq), e->seq);

        if (ret_payload)
                *ret_payload = TAKE_PTR(payload);
        return 0;
}
