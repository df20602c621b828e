/* cli-exchange.h: one X-Road REST exchange as a client system makes it (used by `call` and `demo`)
 *
 * The client authenticates with its demo certificate and key from the node's
 * state folder (STATE/pki/clients/<id with '/' as '_'>.crt and .key), or
 * the certificate and key files it names (cert_file, key_file), and
 * trusts STATE/pki/ca.crt for the node. The request carries X-Road-Client,
 * a fresh X-Road-Id (UUID v4) and, when given, X-Road-UserId, X-Road-Issue,
 * X-Bus-Subject, X-Bus-Purpose and X-Bus-Consent. A 2xx answer must carry an
 * X-Bus-Receipt that verifies against STATE/pki/signing.jwk and matches the
 * exchange (cli-receipt.h); a receipt on any other answer is checked too.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli/cli-http.h"

typedef struct CliExchange {
        const char *state_dir; /* holds pki/ */
        const char *base_url;  /* "https://127.0.0.1:8443" */
        const char *client;    /* subsystem id, e.g. "VN/GOV/BYT/health-services" */
        const char *cert_file; /* the client's certificate and key (PEM); NULL: the demo's in STATE/pki/clients */
        const char *key_file;
        const char *method;  /* NULL: GET, or POST when there is a body */
        const char *target;  /* SERVICE[/path][?query] (cli-target.h) */
        const char *subject; /* X-Bus-Subject, or NULL */
        const char *purpose; /* X-Bus-Purpose, or NULL */
        const char *consent; /* X-Bus-Consent, or NULL */
        const char *user_id; /* X-Road-UserId, or NULL */
        const char *issue;   /* X-Road-Issue, or NULL */
        const void *body;    /* or NULL */
        size_t body_size;
        const char *content_type; /* NULL: "application/json" when there is a body */
        unsigned timeout_ms;      /* 0: CLI_HTTP_DEFAULT_TIMEOUT_MS */
} CliExchange;

typedef enum CliReceiptState {
        CLI_RECEIPT_NONE, /* none sent (expected on refusals) */
        CLI_RECEIPT_VERIFIED,
        CLI_RECEIPT_FAILED, /* missing on a 2xx, or did not verify: see receipt_reason */
} CliReceiptState;

typedef struct CliExchangeResult {
        CliHttpResponse *response;
        char *url;               /* what was requested */
        char *service;           /* the service id asked for */
        char xroad_id[37];       /* the X-Road-Id sent */
        char request_hash[65];   /* hex SHA-256 of the body sent */
        const char *error;       /* the xbus problem type of a refusal (points into problem), or NULL */
        char problem[64];        /* the problem+json body's "type" */
        const char *answered_id; /* X-Road-Id answered (borrowed), or NULL */
        bool has_log_seq;        /* X-Bus-Log-Seq was present and a number */
        uint64_t log_seq;
        CliReceiptState receipt;
        char *receipt_reason;    /* malloc'd, for CLI_RECEIPT_FAILED */
        json_t *receipt_payload; /* for CLI_RECEIPT_VERIFIED */
} CliExchangeResult;

/*
 * cli_exchange_client_files(): the certificate and key paths of `client`
 * under STATE/pki/clients/ (malloc'd). Return: 0, -EINVAL, -ENOMEM.
 */
int cli_exchange_client_files(const char *state_dir, const char *client, char **ret_cert, char **ret_key);

/*
 * cli_exchange_call(): perform the exchange. A completed HTTP exchange is a
 * success whatever its status: the caller reads ret->response->status,
 * ret->error and ret->receipt. *ret is written only on success; release it
 * with cli_exchange_result_done(). On failure *ret_error (if given) is a
 * malloc'd one-line reason.
 * Return: 0; -EINVAL (bad target, client, header value or URL), -ENOENT
 * (the client's certificate or key, or the CA, cannot be read), -ENOMEM, or
 * a CLI_HTTP_E_* code (no answer).
 */
int cli_exchange_call(const CliExchange *x, CliExchangeResult *ret, char **ret_error);

void cli_exchange_result_done(CliExchangeResult *r);

/* cli_exchange_ok(): a 2xx answer with a verified receipt. */
bool cli_exchange_ok(const CliExchangeResult *r);

/*
 * cli_parse_seq(): a log sequence number as the node writes it (decimal
 * digits only, no sign, no leading zeros except "0", at most INT64_MAX).
 * Return: 0 or -EINVAL.
 */
int cli_parse_seq(const char *s, uint64_t *ret);
