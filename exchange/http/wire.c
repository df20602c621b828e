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
#include "http/xroad.h"
#include "util/utf8.h"

static int ssl_facts_index = -1;

/* What the front door knows of one connection: the scan of the request head arriving (from
 * wire_watch()), and the client certificate's facts, read at its first request. */
typedef struct ConnFacts {
        WireScan scan;
        size_t head_size; /* of the request last checked */
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
        case EVHTTP_REQ_OPTIONS:
                return "OPTIONS";
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

                s->size++;
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
        f->head_size = f->scan.size;
        /* the next request's bytes may be here already (pipelining) */
        f->scan = (WireScan){};
        scan_range(&f->scan, bufferevent_get_input(bev), 0, evbuffer_get_length(bufferevent_get_input(bev)));
        return clean;
}

size_t wire_head_size(struct evhttp_request *req)
{
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
        SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
        ConnFacts *f = ssl ? SSL_get_ex_data(ssl, ssl_facts_index) : NULL;

        return f ? f->head_size : 0;
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

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return utf8_valid(s, n); /* RFC 3629, as jansson checks it: no JSON string made to find out */
}

/* `id` written back part by part as X-Road writes identifiers (xroad_id_encode()). */
static void add_id_header(struct evkeyvalq *h, const char *name, const char *id)
{
        char buf[3 * 256 + 1];

        if (id && xroad_id_encode(id, buf, sizeof(buf)) == 0)
                evhttp_add_header(h, name, buf);
}

void wire_exchange_headers(const HttpExchange *hx, struct evkeyvalq *h, bool answered)
{
        const Exchange *ex = &hx->ex;

        evhttp_add_header(h, "X-Road-Id", ex->req.xroad_id);
        add_id_header(h, "X-Road-Client", ex->decision.client ? ex->decision.client->id : NULL);
        add_id_header(h, "X-Road-Service", ex->decision.service ? ex->decision.service->id : NULL);
        if (ex->req.request_id[0])
                evhttp_add_header(h, "X-Road-Request-Id", ex->req.request_id);
        /* the hash ties the provider's answer to what was asked: not on the node's refusals (PR-REST §4.3) */
        if (answered && ex->req.xroad_hash[0])
                evhttp_add_header(h, "X-Road-Request-Hash", ex->req.xroad_hash);
}

void wire_provider_headers(const json_t *headers, struct evkeyvalq *h)
{
        const json_t *pair;
        size_t i;

        json_array_foreach(headers, i, pair) {
                const char *n = json_string_value(json_array_get(pair, 0)),
                           *v = json_string_value(json_array_get(pair, 1));
                if (n && v && xroad_header_to_client(n))
                        evhttp_add_header(h, n, v); /* refuses a value libevent could not send */
        }
}

/*
 * Why one piece: libevent's TLS bufferevent hands each chain of its output
 * buffer to its own SSL_write(), and evhttp leaves the status line and
 * headers in one or two chains and the body in another, so an answer left
 * as 3 TLS records in 3 write()s. Nothing is written before the loop sees
 * the socket writable, so the answer is still whole in the output buffer
 * when evhttp_send_reply() returns: made contiguous up to the largest record
 * (16 KiB), it leaves as one record in one write(). The copy is of the
 * headers and a small body, far cheaper than a record and a system call.
 */
#define WIRE_RECORD_MAX 16384

void wire_reply(struct evhttp_request *req, int status, const char *reason, struct evbuffer *body)
{
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
        struct evbuffer *out;
        size_t len;

        evhttp_send_reply(req, status, reason, body);
        if (!bev)
                return;
        out = bufferevent_get_output(bev);
        len = evbuffer_get_length(out);
        if (len > 0 && evbuffer_peek(out, (ev_ssize_t)MIN(len, (size_t)WIRE_RECORD_MAX), NULL, NULL, 0) > 1)
                (void)evbuffer_pullup(out, (ev_ssize_t)MIN(len, (size_t)WIRE_RECORD_MAX)); /* else as it is */
}

void wire_send(struct evhttp_request *req, int status, const char *content_type, const void *body, size_t size)
{
        struct evbuffer *buf = evbuffer_new();

        if (content_type)
                evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type);
        if (buf && size)
                evbuffer_add(buf, body, size);
        wire_reply(req, status, NULL, buf);
        if (buf)
                evbuffer_free(buf);
}

int wire_fault(struct evhttp_request *req, const Problem *p, const HttpExchange *hx)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        const char *code = soap_fault_code(p);
        char uuid[UUID_STRING_LEN + 1];
        char *body = NULL;
        size_t size = 0;
        int status;

        /* X-Road's fault (PR-MESS §2.5): the code, the message, the refusal's id (a fresh UUID) as the
         * detail; HTTP 200 */
        if (hx && hx->ex.error_id[0])
                snprintf(uuid, sizeof(uuid), "%s", hx->ex.error_id);
        else
                uuid_random(uuid);
        evhttp_add_header(h, "X-Road-Error", code);
        if (hx)
                wire_exchange_headers(hx, h, false);
        evhttp_add_header(h, "Cache-Control", "no-store");
        evhttp_add_header(h, "SOAPAction", "");
        if (soap_fault_build(code, p->detail[0] ? p->detail : problem_info(p->type)->title, uuid, &body, &size) < 0)
                size = 0;
        /* to the client's node that forwarded it, the refusal's own status: a 2xx would need a receipt */
        status = hx && hx->ex.req.from_node ? problem_status(p->type) : SOAP_FAULT_HTTP_STATUS;
        wire_send(req, status, "text/xml;charset=utf-8", body, size);
        free(body);
        return status;
}

/* The error format `req` asks for (its Accept headers), else its client's registry setting. */
static XroadErrorFormat error_format(struct evhttp_request *req, const HttpExchange *hx, char *media)
{
        const char *accept[8];
        struct evkeyval *kv;
        size_t n = 0;
        XroadErrorFormat f;

        TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next)
                if (strcasecmp(kv->key, "Accept") == 0 && n < ELEMENTSOF(accept))
                        accept[n++] = kv->value;
        f = xroad_error_format(accept, n, media);
        if (f != XROAD_ERRORS_PROBLEM && hx && hx->ex.decision.client &&
            hx->ex.decision.client->error_format == REGISTRY_ERRORS_PROBLEM)
                f = XROAD_ERRORS_PROBLEM;
        return f;
}

/* The X-Road error's message: the problem's detail, and for a payload refused by its schema the first error. */
static void xroad_message(const Problem *p, const json_t *errors, char *out, size_t size)
{
        const json_t *first = json_array_get(errors, 0);
        const char *where = json_string_value(json_object_get(first, "instance")),
                   *what = json_string_value(json_object_get(first, "message"));

        if (first && where && what)
                snprintf(out, size, "%s; first error at '%s': %s", p->detail, where, what);
        else
                snprintf(out, size, "%s", p->detail[0] ? p->detail : problem_info(p->type)->title);
}

static void send_body(struct evhttp_request *req, int status, const char *reason, const char *content_type,
                      const char *body)
{
        struct evbuffer *buf = evbuffer_new();

        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type);
        if (buf && body)
                evbuffer_add(buf, body, strlen(body));
        wire_reply(req, status, reason, buf);
        if (buf)
                evbuffer_free(buf);
}

int wire_refuse(struct evhttp_request *req, const Problem *p, const HttpExchange *hx)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        const ProblemInfo *info = problem_info(p->type);
        const char *code = problem_xroad_code(p);
        char media[XROAD_ERROR_MEDIA_MAX + 1], ctype[XROAD_ERROR_MEDIA_MAX + 16], id[UUID_STRING_LEN + 1];
        char message[1024];
        _cleanup_free_ char *body = NULL;
        XroadErrorFormat f;
        int status;

        if (hx && hx->ex.req.soap)
                return wire_fault(req, p, hx);
        f = error_format(req, hx, media);
        evhttp_add_header(h, "X-Road-Error", code);
        if (hx)
                wire_exchange_headers(hx, h, false);
        evhttp_add_header(h, "Cache-Control", "no-store");
        if (p->type == PROBLEM_BUS_BUSY && !evhttp_find_header(h, "Retry-After"))
                evhttp_add_header(h, "Retry-After", "1");
        if (f == XROAD_ERRORS_PROBLEM) {
                body = problem_render(p->type, p->detail, NULL, hx ? hx->ex.req.xroad_id : NULL, code,
                                      hx ? hx->ex.out.errors : NULL);
                send_body(req, info->status, info->title, "application/problem+json", body);
                return info->status;
        }
        /* the X-Road profile: the detail is the refusal's id, which its log entry holds too */
        if (hx && hx->ex.error_id[0])
                snprintf(id, sizeof(id), "%s", hx->ex.error_id);
        else
                uuid_random(id);
        xroad_message(p, hx ? hx->ex.out.errors : NULL, message, sizeof(message));
        body = problem_render_xroad(code, message, id, f == XROAD_ERRORS_XML);
        snprintf(ctype, sizeof(ctype), "%s;charset=utf-8", f == XROAD_ERRORS_XML ? media : "application/json");
        status = problem_code_status(code);
        send_body(req, status, NULL, ctype, body);
        return status;
}

int wire_problem(struct evhttp_request *req, ProblemType type, const char *detail, const HttpExchange *hx)
{
        Problem p = {};

        problem_set(&p, type, "%s", detail ? detail : "");
        return wire_refuse(req, &p, hx);
}

void wire_api_problem(struct evhttp_request *req, ProblemType type, const char *detail)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        const ProblemInfo *info = problem_info(type);
        _cleanup_free_ char *body = problem_render(type, detail, NULL, NULL, info->xroad, NULL);

        evhttp_add_header(h, "X-Road-Error", info->xroad);
        evhttp_add_header(h, "Cache-Control", "no-store");
        send_body(req, info->status, info->title, "application/problem+json", body);
}
