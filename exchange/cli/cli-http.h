/* cli-http.h: one HTTPS request with libcurl (client certificate, pinned CA, bounded answer)
 *
 * The transport under `xbus call`, `xbus demo` and the /health probes of
 * `xbus up`. It knows nothing of X-Road: cli-exchange.h builds the headers.
 * The node's certificate is checked against `ca_file` (the demo CA under
 * STATE/pki), never against the system's trust store. What the server sends
 * back is bounded: CLI_HTTP_MAX_HEADERS header lines, CLI_HTTP_MAX_HEADER_BYTES
 * bytes of them, CLI_HTTP_MAX_BODY bytes of body.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

#define CLI_HTTP_MAX_HEADERS 128
#define CLI_HTTP_MAX_HEADER_BYTES (64U * 1024)
#define CLI_HTTP_MAX_BODY (64U * 1024 * 1024)
#define CLI_HTTP_DEFAULT_TIMEOUT_MS 60000U

/* Failures the caller tells apart (positive codes). */
enum {
        CLI_HTTP_E_CONNECT = 1, /* nothing answers at that address */
        CLI_HTTP_E_TLS,         /* handshake failed or the node's certificate is not trusted */
        CLI_HTTP_E_TIMEOUT,
        CLI_HTTP_E_TOO_LARGE, /* the answer exceeds the limits above */
        CLI_HTTP_E_PROTOCOL,  /* anything else libcurl refused */
};

typedef struct CliHttpRequest {
        const char *url;
        const char *method;    /* "GET", "POST", ...; NULL: GET */
        const char *ca_file;   /* PEM trust anchors for the node; NULL with `insecure` only */
        bool insecure;         /* do not verify the node (only for "does anything answer?") */
        const char *cert_file; /* client certificate and key (PEM), or NULL */
        const char *key_file;
        const char *const *headers; /* "Name: value" lines, NULL-terminated, or NULL */
        const void *body;           /* request body, or NULL */
        size_t body_size;
        unsigned timeout_ms; /* whole request; 0: CLI_HTTP_DEFAULT_TIMEOUT_MS */
} CliHttpRequest;

typedef struct CliHttpHeader {
        char *name;
        char *value;
} CliHttpHeader;

typedef struct CliHttpResponse {
        long status;
        char *status_line;      /* "HTTP/1.1 200 OK" (without CRLF) */
        CliHttpHeader *headers; /* in the order received */
        size_t n_headers;
        char *body; /* NUL-terminated (the NUL is not counted) */
        size_t body_size;
} CliHttpResponse;

/* cli_http_global_init(): once per process, before any request. Return: 0 or -EIO. */
int cli_http_global_init(void);
void cli_http_global_done(void);

/*
 * cli_http_request(): perform `req`. On success *ret (free with
 * cli_http_response_free()) holds whatever status the server answered.
 * On failure *ret_error (if given) is a malloc'd one-line reason.
 * Return: 0, CLI_HTTP_E_*, -EINVAL, -ENOMEM.
 */
int cli_http_request(const CliHttpRequest *req, CliHttpResponse **ret, char **ret_error);

CliHttpResponse *cli_http_response_free(CliHttpResponse *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(CliHttpResponse *, cli_http_response_free);

/*
 * cli_http_response_header(): the value of the first header `name`
 * (case-insensitive), or NULL. Borrowed from `r`.
 */
const char *cli_http_response_header(const CliHttpResponse *r, const char *name);
