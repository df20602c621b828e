/* cli-exchange.c: one X-Road REST exchange with receipt verification */
#include <errno.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli-common.h"
#include "cli/cli-exchange.h"
#include "cli/cli-receipt.h"
#include "cli/cli-target.h"
#include "crypto/hash.h"
#include "crypto/uuid.h"
#include "crypto/pki.h"
#include "util/macro.h"

/* Identifiers and header values the CLI sends: no control characters, bounded. */
#define HEADER_VALUE_MAX 8192

int cli_parse_seq(const char *s, uint64_t *ret)
{
        return parse_u64(s, 0, INT64_MAX, ret) < 0 ? -EINVAL : 0;
}

int cli_exchange_client_files(const char *state_dir, const char *client, char **ret_cert, char **ret_key)
{
        char name[512];
        char *cert = NULL, *key = NULL;

        if (isempty(state_dir) || isempty(client) || strlen(client) >= sizeof(name))
                return -EINVAL;
        pki_client_name(client, name, sizeof(name));
        if (asprintf(&cert, "%s/pki/clients/%s.crt", state_dir, name) < 0)
                return -ENOMEM;
        if (asprintf(&key, "%s/pki/clients/%s.key", state_dir, name) < 0) {
                free(cert);
                return -ENOMEM;
        }
        *ret_cert = cert;
        *ret_key = key;
        return 0;
}

/* A refusal's xbus type: the problem+json body's "type" into `buf`, or NULL when the answer is no problem. */
static const char *problem_type(const CliHttpResponse *resp, char *buf, size_t size)
{
        const char *ct = cli_http_response_header(resp, "Content-Type");
        json_t *j;
        const char *type;

        if (!cli_http_response_header(resp, "X-Road-Error") || !ct || strncmp(ct, "application/problem+json", 24) != 0)
                return NULL;
        j = json_loadb(resp->body, resp->body_size, 0, NULL);
        type = json_string_value(json_object_get(j, "type"));
        if (type)
                snprintf(buf, size, "%s", type);
        json_decref(j);
        return type ? buf : NULL;
}

void cli_exchange_result_done(CliExchangeResult *r)
{
        if (!r)
                return;
        cli_http_response_free(r->response);
        free(r->url);
        free(r->service);
        free(r->receipt_reason);
        json_decref(r->receipt_payload);
        *r = (CliExchangeResult){};
}

bool cli_exchange_ok(const CliExchangeResult *r)
{
        return r && r->response && r->response->status >= 200 && r->response->status < 300 &&
               r->receipt == CLI_RECEIPT_VERIFIED;
}

static bool header_value_ok(const char *v)
{
        size_t n = strlen(v);

        if (n == 0 || n > HEADER_VALUE_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                        return false;
        return true;
}

static void check_receipt(const CliExchange *x, CliExchangeResult *res)
{
        const CliHttpResponse *resp = res->response;
        const char *jws = cli_http_response_header(resp, "X-Bus-Receipt");
        _cleanup_(json_decrefp) json_t *jwk = NULL;
        _cleanup_free_ char *jwk_path = NULL;
        char *reason = NULL;
        int r;

        if (!jws) {
                if (resp->status >= 200 && resp->status < 300) {
                        res->receipt = CLI_RECEIPT_FAILED;
                        res->receipt_reason = strdup("the node answered 2xx without an X-Bus-Receipt");
                } else
                        res->receipt = CLI_RECEIPT_NONE;
                return;
        }
        res->receipt = CLI_RECEIPT_FAILED;
        if (asprintf(&jwk_path, "%s/pki/signing.jwk", x->state_dir) < 0) {
                jwk_path = NULL;
                res->receipt_reason = strdup("out of memory");
                return;
        }
        r = cli_receipt_load_jwk(jwk_path, &jwk, &reason);
        if (r == 0) {
                CliReceiptExpect e = {
                        .xroad_id = res->xroad_id,
                        .client = x->client,
                        .service = res->service,
                        .request_hash = res->request_hash,
                        .body = resp->body,
                        .body_size = resp->body_size,
                        .has_seq = res->has_log_seq,
                        .seq = res->log_seq,
                };
                r = cli_receipt_verify(jwk, jws, &e, &res->receipt_payload, &reason);
                if (r == 0 && !res->has_log_seq) {
                        r = CLI_RECEIPT_E_CONTENT;
                        json_decref(res->receipt_payload);
                        res->receipt_payload = NULL;
                        reason = strdup("the answer has a receipt but no X-Bus-Log-Seq");
                }
        }
        if (r == 0) {
                res->receipt = CLI_RECEIPT_VERIFIED;
                return;
        }
        res->receipt_reason = reason ? reason : strdup(r == -ENOMEM ? "out of memory" : "verification failed");
}

int cli_exchange_call(const CliExchange *x, CliExchangeResult *ret, char **ret_error)
{
        _cleanup_free_ char *cert = NULL, *key = NULL, *ca = NULL;
        _cleanup_free_ char *h_client = NULL, *h_id = NULL, *h_subject = NULL, *h_purpose = NULL, *h_consent = NULL,
                            *h_user = NULL, *h_issue = NULL, *h_ct = NULL;
        const char *headers[12];
        size_t nh = 0;
        CliExchangeResult res = {};
        CliTarget target = {};
        const char *reason = NULL, *method, *v;
        char *error = NULL;
        int r;

        if (!x || !ret || isempty(x->state_dir) || isempty(x->base_url))
                return error_set(ret_error, -EINVAL, "the state folder and the URL are required");
        if (isempty(x->client) || !header_value_ok(x->client))
                return error_set(ret_error, -EINVAL, "the client subsystem id is missing or malformed");
        {
                const struct {
                        const char *name, *value;
                } check[] = {
                        { "subject", x->subject }, { "purpose", x->purpose }, { "consent", x->consent },
                        { "user id", x->user_id }, { "issue", x->issue },     { "content type", x->content_type },
                };
                for (size_t i = 0; i < ELEMENTSOF(check); i++)
                        if (check[i].value && !header_value_ok(check[i].value))
                                return error_set(ret_error, -EINVAL,
                                                 "the %s is empty, too long or has control characters", check[i].name);
        }
        method = x->method ? x->method : (x->body ? "POST" : "GET");
        if (!header_value_ok(method) || strlen(method) > 16 || strpbrk(method, " :/"))
                return error_set(ret_error, -EINVAL, "the method \"%s\" is not valid", method);

        r = cli_target_parse(x->target, &target, &reason);
        if (r == -ENOMEM)
                return error_set(ret_error, r, "out of memory");
        if (r < 0)
                return error_set(ret_error, r, "\"%s\": %s", strempty(x->target), reason);
        res.service = TAKE_PTR(target.service);
        {
                CliTarget t = { .service = res.service, .path = target.path, .query = target.query };
                r = cli_target_url(x->base_url, &t, &res.url);
        }
        cli_target_done(&target);
        if (r < 0) {
                cli_exchange_result_done(&res);
                return error_set(ret_error, r,
                                 r == -ENOMEM ? "out of memory" : "the URL \"%s\" is not http(s)://HOST:PORT",
                                 x->base_url);
        }

        if (x->cert_file || x->key_file) {
                cert = x->cert_file ? strdup(x->cert_file) : NULL;
                key = x->key_file ? strdup(x->key_file) : NULL;
                r = cert && key ? 0 : -ENOMEM;
                if (!x->cert_file || !x->key_file) {
                        cli_exchange_result_done(&res);
                        return error_set(ret_error, -EINVAL, "--cert and --cert-key go together");
                }
        } else
                r = cli_exchange_client_files(x->state_dir, x->client, &cert, &key);
        if (r >= 0 && asprintf(&ca, "%s/pki/ca.crt", x->state_dir) < 0) {
                ca = NULL;
                r = -ENOMEM;
        }
        if (r < 0) {
                cli_exchange_result_done(&res);
                return error_set(ret_error, r, "out of memory");
        }
        {
                const char *need[] = { ca, cert, key };
                for (size_t i = 0; i < ELEMENTSOF(need); i++)
                        if (access(need[i], R_OK) < 0) {
                                r = error_set(ret_error, -ENOENT,
                                              "cannot read \"%s\": %m (is \"%s\" a client in the registry, and "
                                              "has "
                                              "xbusd run with state folder \"%s\"?)",
                                              need[i], x->client, x->state_dir);
                                cli_exchange_result_done(&res);
                                return r;
                        }
        }

        uuid_random(res.xroad_id);
        hash_sha256_hex(x->body ? x->body : "", x->body ? x->body_size : 0, res.request_hash);

#define ADD_HEADER(var, name, value)                                           \
        if (value) {                                                           \
                if (asprintf(&var, "%s: %s", name, value) < 0) {               \
                        var = NULL;                                            \
                        cli_exchange_result_done(&res);                        \
                        return error_set(ret_error, -ENOMEM, "out of memory"); \
                }                                                              \
                headers[nh++] = var;                                           \
        }
        ADD_HEADER(h_client, "X-Road-Client", x->client);
        ADD_HEADER(h_id, "X-Road-Id", res.xroad_id);
        ADD_HEADER(h_user, "X-Road-UserId", x->user_id);
        ADD_HEADER(h_issue, "X-Road-Issue", x->issue);
        ADD_HEADER(h_subject, "X-Bus-Subject", x->subject);
        ADD_HEADER(h_purpose, "X-Bus-Purpose", x->purpose);
        ADD_HEADER(h_consent, "X-Bus-Consent", x->consent);
        ADD_HEADER(h_ct, "Content-Type", x->content_type ? x->content_type : (x->body ? "application/json" : NULL));
#undef ADD_HEADER
        /* xbus's own tool shows the xbus problem types: problem+json (the X-Road profile is the default) */
        headers[nh++] = "Accept: application/problem+json, application/json";
        headers[nh] = NULL;

        r = cli_http_request(&(CliHttpRequest){ .url = res.url,
                                                .method = method,
                                                .ca_file = ca,
                                                .cert_file = cert,
                                                .key_file = key,
                                                .headers = headers,
                                                .body = x->body,
                                                .body_size = x->body_size,
                                                .timeout_ms = x->timeout_ms },
                             &res.response, &error);
        if (r != 0) {
                cli_exchange_result_done(&res);
                if (ret_error)
                        *ret_error = error;
                else
                        free(error);
                return r;
        }

        res.error = problem_type(res.response, res.problem, sizeof(res.problem));
        res.answered_id = cli_http_response_header(res.response, "X-Road-Id");
        v = cli_http_response_header(res.response, "X-Bus-Log-Seq");
        res.has_log_seq = v && cli_parse_seq(v, &res.log_seq) == 0;
        check_receipt(x, &res);
        *ret = res;
        if (ret->error)
                ret->error = ret->problem; /* its own copy, not the local one */
        return 0;
}
