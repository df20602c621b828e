/* wire.c: what the front door puts on the wire (problems and faults, headers) and reads off it (TLS facts, request heads) */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "crypto/uuid.h"
#include "http/http-internal.h"

static int ssl_facts_index = -1;

/* What the front door knows of one connection: the scan of the request head arriving (from
 * wire_watch()), and the client certificate's facts, read at its first request. */
typedef struct ConnFacts {
        WireScan scan;
        bool known, present, trusted, has_fp, has_cn;
        uint8_t fp[32];
        char cn[256];
} ConnFacts;

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

static ConnFacts *facts_of(SSL *ssl)
{
        ConnFacts *f = SSL_get_ex_data(ssl, ssl_facts_index);
        unsigned len = 32;
        X509 *cert;

        if (!f || f->known)
                return f;
        f->known = true;
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
        return f;
}

/*
 * libevent hands a header value over as a C string, so a NUL in it cuts the value
 * without a word ("X-Road-Client: ...services\0x" reads as "...services"), it
 * folds continuation lines into the value, and some versions read chunked trailers
 * into the headers. None of that can be seen once parsed: the bytes of each request
 * head are scanned as they arrive (an evbuffer callback runs before libevent's read
 * callback parses them), and the route table asks wire_head_clean() per request.
 */
void wire_scan_feed(WireScan *s, const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n && !s->done; i++) {
                uint8_t c = p[i];

                if (s->cr && c != '\n')
                        s->bad = true; /* a CR only ends a line */
                s->cr = c == '\r';
                if (c == '\n') {
                        s->done = s->line == 0 && s->lines > 0;
                        s->lines += !s->done;
                        s->line = 0;
                } else if (c != '\r') {
                        if ((c < 0x20 && c != '\t') || c == 0x7f || (s->line == 0 && s->lines > 0 && isblank(c)))
                                s->bad = true;
                        s->line++;
                }
        }
}

/* Feed the `len` bytes of `b` from offset `from` to the scan. */
static void scan_range(WireScan *s, struct evbuffer *b, size_t from, size_t len)
{
        struct evbuffer_iovec v[4];
        struct evbuffer_ptr at;
        int n = 1;

        while (len > 0 && n > 0 && !s->done && evbuffer_ptr_set(b, &at, from, EVBUFFER_PTR_SET) == 0) {
                n = evbuffer_peek(b, (ev_ssize_t)len, &at, v, ELEMENTSOF(v));
                for (int i = 0; i < n && i < (int)ELEMENTSOF(v); i++) {
                        size_t k = MIN(v[i].iov_len, len);
                        wire_scan_feed(s, v[i].iov_base, k);
                        from += k;
                        len -= k;
                }
        }
}

static void on_input(struct evbuffer *b, const struct evbuffer_cb_info *info, void *userdata)
{
        if (info->n_added > 0)
                scan_range(userdata, b, info->orig_size, info->n_added);
}

int wire_watch(struct bufferevent *bev)
{
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        ConnFacts *f = calloc(1, sizeof(*f));

        if (!f || !ssl || SSL_set_ex_data(ssl, ssl_facts_index, f) != 1) {
                free(f);
                return -ENOMEM;
        }
        return evbuffer_add_cb(bufferevent_get_input(bev), on_input, &f->scan) ? 0 : -ENOMEM;
}

bool wire_head_clean(struct evhttp_request *req)
{
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
        SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
        ConnFacts *f = ssl ? SSL_get_ex_data(ssl, ssl_facts_index) : NULL;
        struct evkeyval *kv;
        size_t fields = 0;
        bool clean;

        if (!f)
                return false;
        TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next)
                fields++;
        /* one field per line after the request line: more would be trailer fields merged in */
        clean = f->scan.done && !f->scan.bad && fields + 1 == f->scan.lines;
        /* the next request's bytes may be here already (pipelining) */
        f->scan = (WireScan){};
        scan_range(&f->scan, bufferevent_get_input(bev), 0, evbuffer_get_length(bufferevent_get_input(bev)));
        return clean;
}

void wire_identify(struct evhttp_request *req, PolicyInput *pin, WireIdentity *id)
{
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
        SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
        ConnFacts *f = ssl ? facts_of(ssl) : NULL;

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

void wire_fault(struct evhttp_request *req, const Problem *p, const HttpExchange *hx)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        const char *code = soap_fault_code(p);
        char uuid[UUID_STRING_LEN + 1];
        char *body = NULL;
        size_t size = 0;

        /* X-Road's fault (PR-MESS §2.5): the code, the message, the refusal's id (a fresh UUID) as the
         * detail; HTTP 200 */
        if (hx && hx->ex.error_id[0])
                snprintf(uuid, sizeof(uuid), "%s", hx->ex.error_id);
        else
                uuid_random(uuid);
        evhttp_add_header(h, "X-Road-Error", code);
        if (hx)
                wire_exchange_headers(hx, h);
        evhttp_add_header(h, "SOAPAction", "");
        if (soap_fault_build(code, p->detail[0] ? p->detail : problem_info(p->type)->title, uuid, &body, &size) < 0)
                size = 0;
        wire_send(req, SOAP_FAULT_HTTP_STATUS, "text/xml;charset=utf-8", body, size);
        free(body);
}

void wire_problem(struct evhttp_request *req, ProblemType type, const char *detail, const HttpExchange *hx)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        const ProblemInfo *p = problem_info(type);
        char *body;

        if (hx && hx->ex.req.soap) {
                /* the exchange's own outcome carries the finer X-Road code, when it is this one */
                Problem fault = hx->ex.out.problem;
                if (fault.type != type)
                        problem_set(&fault, type, "%s", strempty(detail));
                wire_fault(req, &fault, hx);
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
