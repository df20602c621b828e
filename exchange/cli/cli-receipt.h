/* cli-receipt.h: checking an X-Bus-Receipt against what was actually sent and received
 *
 * A receipt has one of two forms ([log] receipts, docs/protocol.md), told
 * apart by a '~': a compact JWS (ES256, typ "xbus-receipt+jws") by the node's
 * signing key over {seq, time, xroad_id, client, service, request_hash,
 * response_hash, subject, purpose, basis, ...} (crypto/receipt.h); or
 * "<tree head JWS>~<entry>~<inclusion path>" (log/batch-receipt.h), whose
 * head the node signed once for its group commit and whose entry, the log's
 * leaf, carries the same fields under the same names. Signatures are
 * verified with libjose (jose_jws_ver(), through crypto/jws.h, which also
 * pins the algorithm to ES256 and refuses embedded keys) against the node's
 * public JWK (STATE/pki/signing.jwk), and the entry's path is walked to the
 * head's root. Then the content must match this very
 * exchange: the response hash is recomputed over the body received, and the
 * X-Road-Id, client, service, request hash and log sequence number must be
 * the ones the client sent and the node answered.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Refusals (positive); *ret_reason says which check failed. */
enum {
        CLI_RECEIPT_E_KEY = 1,   /* the JWK is missing or not a P-256 verification key */
        CLI_RECEIPT_E_SIGNATURE, /* not a valid ES256 JWS by that key, or not a receipt */
        CLI_RECEIPT_E_CONTENT,   /* signed, but not about this exchange */
};

typedef struct CliReceiptExpect {
        const char *xroad_id;     /* the X-Road-Id of the exchange */
        const char *client;       /* subsystem id */
        const char *service;      /* service id */
        const char *request_hash; /* hex SHA-256 of the request body sent */
        const void *body;         /* the response body received */
        size_t body_size;
        bool has_seq; /* the node answered X-Bus-Log-Seq: */
        uint64_t seq;
} CliReceiptExpect;

/*
 * cli_receipt_load_jwk(): read a JWK file (at most 64 KiB).
 * Return: 0 with *ret (json_decref), CLI_RECEIPT_E_KEY with *ret_reason
 * (malloc'd), -ENOMEM.
 */
int cli_receipt_load_jwk(const char *path, json_t **ret, char **ret_reason);

/*
 * cli_receipt_verify(): verify `jws` with `jwk` and match it to `expect`.
 * On success *ret_payload (if given) gets the payload, or for a receipt of a
 * group commit the log entry (json_decref).
 * On a refusal *ret_reason (if given) is a malloc'd one-line reason.
 * Return: 0 (verified), CLI_RECEIPT_E_*, -EINVAL (NULL arguments), -ENOMEM.
 */
int cli_receipt_verify(const json_t *jwk, const char *jws, const CliReceiptExpect *expect, json_t **ret_payload,
                       char **ret_reason);
