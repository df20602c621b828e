/* wire.c: what the front door puts on the wire: problems and faults, headers, TLS facts */
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "http/http-internal.h"

static int ssl_facts_index = -1;

/* The client certificate's facts, computed at the first request of a connection. */
typedef struct TlsFacts {
        bool present, trusted, has_fp, has_cn;
        uint8_t fp[32];
        char cn[256];
} TlsFacts;

static void facts_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
        free(ptr);
}

void wire_init(void)
{
        if (ssl_facts_index < 0)
                ssl_facts_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, facts_ex_free);
}

const char *wire_method(enum evhttp_cmd_type cmd)
{
        switch (cmd) {
        case EVHTTP_REQ_GET:
                return "GET";
        case EVHTTP_REQ_POST:
                return "POST";
        case EVHTTP_REQ_PUT:
                return "PUT";
        case EVHTTP_REQ_PATCH:
                return "PATCH";
        case EVHTTP_REQ_DELETE:
                return "DELETE";
        case EVHTTP_REQ_HEAD:
                return "HEAD";
        default:
                return NULL;
        }
}

static TlsFacts *facts_of(SSL *ssl)
{
        TlsFacts *f = SSL_get_ex_data(ssl, ssl_facts_index);
        unsigned len = 32;
        X509 *cert;

        if (f)
                return f;
        f = calloc(1, sizeof(*f));
        if (!f)
                return NULL;
        cert = SSL_get0_peer_certificate(ssl);
        if (cert) {
                f->present = true;
                f->trusted = SSL_get_verify_result(ssl) == X509_V_OK;
                f->has_fp = X509_digest(cert, EVP_sha256(), f->fp, &len) == 1 && len == 32;
                if (!f->has_fp)
                        f->trusted = false;
                f->has_cn = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, f->cn,
                                                      (int)sizeof(f->cn)) > 0 &&
                            strlen(f->cn) < sizeof(f->cn) - 1;
        }
        if (SSL_set_ex_data(ssl, ssl_facts_index, f) != 1) {
                free(f);
                return NULL;
        }
        return f;
}

void wire_identify(struct evhttp_request *req, PolicyInput *pin, WireIdentity *id)
{
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
        SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
        TlsFacts *f = ssl ? facts_of(ssl) : NULL;

        if (!f)
                return;
        pin->cert_present = f->present;
        pin->cert_trusted = f->trusted;
        if (f->has_fp) {
                memcpy(id->fingerprint, f->fp, 32);
                pin->cert_fingerprint = id->fingerprint;
        }
        if (f->has_cn) {
                snprintf(id->cn, sizeof(id->cn), "%s", f->cn);
                pin->cert_cn = id->cn;
        }
}

const char *wire_header_once(struct evkeyvalq *h, const char *name, bool *dup)
{
        const char *found = NULL;
        struct evkeyval *kv;

        TAILQ_FOREACH(kv, h, next)
                if (strcasecmp(kv->key, name) == 0) {
                        if (found)
                                *dup = true;
                        found = kv->value;
                }
        return found;
}

bool wire_valid_text(const char *s, size_t max)
{
        size_t n = strlen(s);
        json_t *j;

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        j = json_stringn(s, n); /* validates UTF-8 */
        if (!j)
                return false;
        json_decref(j);
        return true;
}

void wire_exchange_headers(const HttpExchange *hx, struct evkeyvalq *h)
{
        const Exchange *ex = &hx->ex;

        evhttp_add_header(h, "X-Road-Id", ex->req.xroad_id);
        if (ex->decision.service)
                evhttp_add_header(h, "X-Road-Service", ex->decision.service->id);
        if (ex->req.request_hash[0])
                evhttp_add_header(h, "X-Road-Request-Hash", ex->req.request_hash);
        evhttp_add_header(h, "Cache-Control", "no-store");
}

void wire_send(struct evhttp_request *req, int status, const char *content_type, const void *body, size_t size)
{
        struct evbuffer *buf = evbuffer_new();

        if (content_type)
                evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type);
        if (buf && size)
                evbuffer_add(buf, body, size);
        evhttp_send_reply(req, status, NULL, buf);
        if (buf)
                evbuffer_free(buf);
}

static void send_fault(struct evhttp_request *req, ProblemType type, const char *detail, const HttpExchange *hx)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        char *body = NULL;
        size_t size = 0;

        evhttp_add_header(h, "X-Road-Error", problem_name(type));
        wire_exchange_headers(hx, h);
        if (soap_fault_build(type, detail, hx->ex.req.xroad_id, hx->ex.req.soap_req, &body, &size) < 0)
                size = 0;
        wire_send(req, SOAP_FAULT_HTTP_STATUS, "text/xml; charset=utf-8", body, size);
        free(body);
}

void wire_problem(struct evhttp_request *req, ProblemType type, const char *detail, const HttpExchange *hx)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        const ProblemInfo *p = problem_info(type);
        char *body;

        if (hx && hx->ex.req.soap) {
                send_fault(req, type, detail, hx);
                return;
        }
        body = problem_render(type, detail, NULL, hx ? hx->ex.req.xroad_id : NULL, hx ? hx->ex.out.errors : NULL);
        evhttp_add_header(h, "X-Road-Error", p->name);
        if (hx)
                wire_exchange_headers(hx, h);
        evhttp_add_header(h, "Content-Type", "application/problem+json");
        {
                struct evbuffer *buf = evbuffer_new();
                if (buf && body)
                        evbuffer_add(buf, body, strlen(body));
                evhttp_send_reply(req, p->status, p->title, buf);
                if (buf)
                        evbuffer_free(buf);
        }
        free(body);
}
