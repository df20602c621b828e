/* frontdoor.c: the HTTPS front door: TLS, worker threads, listeners, connections, the route table
 *
 * Each worker thread has its own event base, evhttp and listening socket
 * (SO_REUSEPORT: the kernel spreads connections) and its own mailbox, and
 * serves every request of the connections it accepted (worker_on_request(),
 * the route table): /r1/... and / (SOAP) are exchanges (rest.c, soap-front.c,
 * driven by http-exchange.c), /health and /metrics are metrics.c's, and the
 * node's other APIs are plug-ins (node/endpoint.h) the daemon lists.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "http/frontdoor.h"
#include "http/http-internal.h"
#include "node/metaservice.h"
#include "util/error.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"
#include "util/time-util.h"

struct FrontDoor {
        FrontDoorOptions opts;
        Node *node;
        ConnShared conns;
        /* TLS: the current context, swapped whole by frontdoor_reload_tls() */
        pthread_mutex_t tls_lock;
        FrontdoorTls *tls;
        atomic_uint tls_generation; /* tls->generation, read without the lock */
        Worker *workers;
        unsigned n_workers;
        int port;
};

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static int ssl_conn_index = -1;

static void evthread_setup(void)
{
        evthread_use_pthreads();
}

/* --- connections ------------------------------------------------------------
 *
 * Why: an outsider needs no certificate to open a TCP connection or to start
 * (and stall) a TLS handshake, so what connections may hold is bounded
 * without trusting anyone. Each connection has a Conn, the SSL object's ex
 * data (so it lives exactly as long as the connection), on its worker:
 *
 *  - admission, right after accept (a zero timer: evhttp hands the bufferevent
 *    callback no address): beyond max-connections-per-client from its address
 *    (IPv4 address or IPv6 /64, counted in a table keyed by a random hash and
 *    shared by the workers), closed at once. Over max-connections node-wide,
 *    the worker's oldest anonymous connection (no TLS yet, or TLS without a
 *    trusted client certificate) is closed to make room; with none, up to as
 *    many again are admitted only to be answered 503 bus_busy (Retry-After)
 *    and closed; beyond that, closed at once, before TLS. Nobody waits unseen.
 *  - deadlines that do not restart with each byte: the TLS handshake within
 *    handshake-timeout of accept; each request (header and body) within
 *    request-timeout of its first byte (of the end of the handshake, for the
 *    first one). libevent's own timeout (`timeout`) bounds idleness only.
 *
 * To close a connection, its bufferevent's timeouts are set to 1 us: libevent
 * then fails and frees it as on its own timeout, whatever state it is in.
 */
struct Conn {
        Worker *w;
        struct bufferevent *bev;
        struct event *timer; /* admission, then the deadline that runs */
        struct evbuffer_cb_entry *input_cb;
        TAILQ_ENTRY(Conn) anon;  /* in w->anonymous while `anonymous` */
        unsigned slot;           /* its counter in conns->clients, or UINT_MAX */
        unsigned tls_generation; /* the TLS context it was made with */
        bool counted, admitted, anonymous, tls_done, shed, cut;
};

static void conn_uncount(Conn *c)
{
        if (c->counted)
                atomic_fetch_sub(&c->w->node->connections, 1);
        if (c->slot != UINT_MAX)
                atomic_fetch_sub(&c->w->conns->clients[c->slot], 1);
        c->counted = false;
        c->slot = UINT_MAX;
        if (c->anonymous)
                TAILQ_REMOVE(&c->w->anonymous, c, anon);
        c->anonymous = false;
}

static void conn_cut(Conn *c, ConnCut why)
{
        static const struct timeval now = { 0, 1 };

        if (c->cut)
                return;
        c->cut = true;
        atomic_fetch_add(&c->w->conns->cut[why], 1);
        conn_uncount(c);
        event_del(c->timer);
        bufferevent_set_timeouts(c->bev, &now, &now);
}

static void ssl_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
        Conn *c = ptr;

        if (!c)
                return;
        conn_uncount(c);
        event_free(c->timer);
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->input_cb);
        free(c);
}

static Conn *conn_of(struct evhttp_request *req)
{
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
        SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;

        return ssl ? SSL_get_ex_data(ssl, ssl_conn_index) : NULL;
}

/* The counter of the client at the other end of `sock`: its IPv4 address or IPv6 /64, hashed with a
 * random key (a client cannot aim at another's counter). Return: the slot, or UINT_MAX. */
static unsigned conn_client_slot(const ConnShared *cs, int sock)
{
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        const uint8_t *p = NULL;
        uint64_t h = cs->client_key;
        size_t n = 0;

        if (getpeername(sock, (struct sockaddr *)&ss, &len) < 0)
                return UINT_MAX;
        if (ss.ss_family == AF_INET) {
                p = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
                n = 4;
        } else if (ss.ss_family == AF_INET6) {
                const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
                p = IN6_IS_ADDR_V4MAPPED(a) ? a->s6_addr + 12 : a->s6_addr;
                n = IN6_IS_ADDR_V4MAPPED(a) ? 4 : 8;
        }
        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * 0x100000001b3ULL;
        h ^= h >> 31;
        return n ? (unsigned)((h * 0x9E3779B97F4A7C15ULL) >> 52) : UINT_MAX;
}

/* Admission, on the worker's loop right after accept (see above). */
static void conn_admit(Conn *c)
{
        Worker *w = c->w;
        const FrontDoorOptions *o = &w->fd->opts;
        unsigned slot = conn_client_slot(w->conns, bufferevent_getfd(c->bev)), n;

        c->admitted = true;
        if (slot != UINT_MAX && atomic_fetch_add(&w->conns->clients[slot], 1) >= o->max_connections_per_client) {
                atomic_fetch_sub(&w->conns->clients[slot], 1);
                conn_cut(c, CONN_CUT_CLIENT_LIMIT);
                return;
        }
        c->slot = slot;
        c->counted = true; /* counted here, not at accept: a batch of accepts is decided one by one */
        n = atomic_fetch_add(&w->node->connections, 1) + 1;
        if (n > atomic_load_explicit(&w->node->connections_peak, memory_order_relaxed))
                atomic_store_explicit(&w->node->connections_peak, n, memory_order_relaxed); /* racy: a hint */
        if (n > o->max_connections && !TAILQ_EMPTY(&w->anonymous))
                conn_cut(TAILQ_FIRST(&w->anonymous), CONN_CUT_EVICTED);
        else if (n > 2 * o->max_connections) {
                conn_cut(c, CONN_CUT_NODE_LIMIT);
                return;
        } else if (n > o->max_connections)
                c->shed = true;
        if (!c->shed) {
                c->anonymous = true;
                TAILQ_INSERT_TAIL(&w->anonymous, c, anon);
        }
        event_add(c->timer, w->handshake_timeout);
}

static void conn_on_timer(evutil_socket_t fd, short what, void *userdata)
{
        Conn *c = userdata;

        if (!c->admitted)
                conn_admit(c);
        else
                conn_cut(c, c->tls_done ? CONN_CUT_REQUEST : CONN_CUT_HANDSHAKE);
}

/* The first byte of a request starts its deadline. */
static void conn_on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *userdata)
{
        Conn *c = userdata;

        if (info->n_added && c->tls_done && !c->cut && !event_pending(c->timer, EV_TIMEOUT, NULL))
                event_add(c->timer, c->w->request_timeout);
}

/* TLS is up: a trusted client certificate makes the connection a member's (never evicted);
 * the first request's deadline starts. */
static void ssl_on_info(const SSL *ssl, int where, int ret)
{
        Conn *c = (where & SSL_CB_HANDSHAKE_DONE) ? SSL_get_ex_data(ssl, ssl_conn_index) : NULL;

        if (!c || c->tls_done || c->cut)
                return;
        c->tls_done = true;
        if (c->anonymous && SSL_get0_peer_certificate(ssl) && SSL_get_verify_result(ssl) == X509_V_OK) {
                TAILQ_REMOVE(&c->w->anonymous, c, anon);
                c->anonymous = false;
        }
        event_add(c->timer, c->w->request_timeout);
}

/* Client certificates are verified by OpenSSL, but a failure does not abort
 * the handshake: the request is then refused at the HTTP layer with a
 * problem+json answer and an exchange log entry, which a TLS alert could not
 * give the client or the auditors. */
static int verify_accept(int preverify_ok, X509_STORE_CTX *ctx)
{
        return 1;
}

/* --- TLS ------------------------------------------------------------------
 *
 * Why: a reload (SIGHUP) must change what the front door trusts (a revoked
 * client, a renewed node certificate) while workers accept and serve. The
 * context is built whole (frontdoor-tls.c) and swapped under tls_lock; a
 * worker takes a reference to the current one for each new connection, and
 * OpenSSL keeps a context alive for the connections made from it, so the
 * old one goes when its last connection does. A connection made before a
 * reload has its client certificate verified again against the new context
 * at its next request: a keep-alive connection cannot outlive its client's
 * revocation.
 */

/* The current context (a new reference), or NULL. */
static FrontdoorTls *tls_current(FrontDoor *fd)
{
        FrontdoorTls *t;

        pthread_mutex_lock(&fd->tls_lock);
        t = frontdoor_tls_ref(fd->tls);
        pthread_mutex_unlock(&fd->tls_lock);
        return t;
}

/* The connection's client certificate against the current trust, once per reload. Return: false when it no
 * longer verifies and the request was answered here (client_unknown, connection closed). */
static bool conn_trust_current(FrontDoor *fd, Conn *c, struct evhttp_request *req)
{
        FrontdoorTls *t;
        bool ok;

        if (c->tls_generation == atomic_load(&fd->tls_generation))
                return true;
        t = tls_current(fd);
        ok = !t || frontdoor_tls_verify(t, bufferevent_openssl_get_ssl(c->bev));
        c->tls_generation = t ? t->generation : c->tls_generation;
        frontdoor_tls_unref(t);
        if (ok)
                return true;
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        wire_problem(req, PROBLEM_CLIENT_UNKNOWN,
                     "the client certificate is no longer trusted (revoked, or its CA removed); connect again", NULL);
        return false;
}

int frontdoor_reload_tls(FrontDoor *fd, char **ret_error)
{
        FrontdoorTls *t = NULL, *old;
        int r;

        r = frontdoor_tls_new(&t,
                              &(FrontdoorTlsFiles){ .cert = fd->opts.tls_cert,
                                                    .key = fd->opts.tls_key,
                                                    .client_ca = fd->opts.client_ca,
                                                    .client_crl = fd->opts.client_crl,
                                                    .crl_optional = fd->opts.client_crl_optional },
                              verify_accept, ssl_on_info, ret_error);
        if (r < 0)
                return r;
        pthread_mutex_lock(&fd->tls_lock);
        old = fd->tls;
        t->generation = old ? old->generation + 1 : 0;
        fd->tls = t;
        atomic_store(&fd->tls_generation, t->generation);
        pthread_mutex_unlock(&fd->tls_lock);
        frontdoor_tls_unref(old);
        return 0;
}

size_t frontdoor_certificates(FrontDoor *fd, FrontDoorCert *out, size_t max)
{
        FrontdoorTls *t = tls_current(fd);
        size_t n = t ? MIN(max, t->n_certs) : 0;

        if (n)
                memcpy(out, t->certs, n * sizeof(*out));
        frontdoor_tls_unref(t);
        return n;
}

/* A request is complete: its deadline stops (and the next one's starts if it has begun already).
 * Return: false when the connection is over the limit and was answered 503 here. */
static bool conn_request_done(Worker *w, struct evhttp_request *req)
{
        Conn *c = conn_of(req);
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);

        if (c && !c->shed && !conn_trust_current(w->fd, c, req))
                return false;
        if (c && !c->shed) {
                event_del(c->timer);
                if (evbuffer_get_length(bufferevent_get_input(c->bev)))
                        event_add(c->timer, w->request_timeout);
                return true;
        }
        atomic_fetch_add(&w->conns->shed, 1);
        evhttp_add_header(h, "Retry-After", "1");
        evhttp_add_header(h, "Connection", "close");
        wire_problem(req, PROBLEM_BUS_BUSY, "the node is at its connection limit; retry later", NULL);
        return false;
}

static struct bufferevent *worker_bevcb(struct event_base *base, void *userdata)
{
        Worker *w = userdata;
        Conn *c = calloc(1, sizeof(*c));
        struct bufferevent *bev = NULL;
        FrontdoorTls *t = c ? tls_current(w->fd) : NULL;
        SSL *ssl = t ? SSL_new(t->ctx) : NULL; /* the SSL keeps the context alive, not us */
        unsigned generation = t ? t->generation : 0;

        frontdoor_tls_unref(t);

        if (ssl)
                bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        if (!bev) {
                /* evhttp then makes a plain connection: conn_request_done() answers it 503 */
                SSL_free(ssl);
                free(c);
                return NULL;
        }
        if (wire_watch(bev) < 0) {
                bufferevent_free(bev); /* then a plain connection, answered 503 by conn_request_done() */
                free(c);
                return NULL;
        }
        *c = (Conn){ .w = w,
                     .bev = bev,
                     .slot = UINT_MAX,
                     .tls_generation = generation,
                     .timer = event_new(base, -1, 0, conn_on_timer, c) };
        c->input_cb = c->timer ? evbuffer_add_cb(bufferevent_get_input(bev), conn_on_input, c) : NULL;
        if (!c->input_cb) { /* out of memory: without a Conn, conn_request_done() answers 503 */
                if (c->timer)
                        event_free(c->timer);
                free(c);
                return bev;
        }
        SSL_set_ex_data(ssl, ssl_conn_index, c);
        event_active(c->timer, EV_TIMEOUT, 0);
        return bev;
}

/* --- the node's other APIs ----------------------------------------------- */

#define ENDPOINT_MAX_BODY MIB(1)

/* Send an endpoint's answer `resp` (its body is freed). */
static void endpoint_reply(struct evhttp_request *req, EndpointResponse *resp)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);

        for (size_t i = 0; i < resp->n_headers; i++) /* the endpoint's own: cookies, security policies */
                evhttp_add_header(h, resp->headers[i].name, resp->headers[i].value);
        if (resp->problem) {
                resp->body = mfree(resp->body);
                wire_api_problem(req, resp->problem, resp->detail);
                return;
        }
        evhttp_add_header(h, "Cache-Control", "no-store");
        wire_send(req, resp->status ? resp->status : 200,
                  resp->content_type[0] ? resp->content_type : "application/json", resp->body, resp->body_size);
        resp->body = mfree(resp->body);
}

/* A request for one of the node's other APIs: identified, bounded, handed to its plug-in. */
static void handle_endpoint(Worker *w, struct evhttp_request *req, const Endpoint *ep, const char *raw_path)
{
        Node *node = w->node;
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        _cleanup_(registry_unrefp) Registry *reg = node_registry(node);
        _cleanup_free_ char *path = NULL;
        EndpointResponse resp = { .status = 200 };
        PolicyInput pin = {};
        WireIdentity id;
        size_t plen;
        int r;

        wire_identify(req, &pin, &id);
        path = evhttp_uridecode(raw_path, 0, &plen);
        if (!path || strlen(path) != plen) {
                wire_api_problem(req, PROBLEM_BAD_REQUEST, "the path is malformed");
                return;
        }
        if (evbuffer_get_length(in) > ENDPOINT_MAX_BODY) {
                wire_api_problem(req, PROBLEM_PAYLOAD_TOO_LARGE, "the body is too large");
                return;
        }
        {
                EndpointRequest er = {
                        .userdata = ep->userdata,
                        .registry = reg,
                        .client = pin.cert_present && pin.cert_trusted
                                          ? registry_subsystem_by_cert(reg, pin.cert_fingerprint, pin.cert_cn)
                                          : NULL,
                        .path = path,
                        .query = uri && evhttp_uri_get_query(uri) ? evhttp_uri_get_query(uri) : "",
                        .body = evbuffer_get_length(in) ? evbuffer_pullup(in, -1) : (const uint8_t *)"",
                        .body_size = evbuffer_get_length(in),
                        .content_type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type"),
                        .accept = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept"),
                        .headers = evhttp_request_get_input_headers(req),
                };
                er.method = wire_method(evhttp_request_get_command(req));
                if (!er.method)
                        er.method = "HEAD";
                er.cert_fingerprint = pin.cert_present ? pin.cert_fingerprint : NULL;
                er.reply_to = &w->mailbox;
                er.reply_kind = ITEM_ENDPOINT;
                r = ep->handler(&er, &resp);
        }
        if (r < 0) {
                log_error_errno(r, "Endpoint \"%s\" failed: %m", ep->prefix);
                free(resp.body);
                wire_api_problem(req, PROBLEM_INTERNAL_ERROR, "the request could not be completed");
                return;
        }
        if (resp.pending) { /* answered later, through the mailbox (frontdoor_endpoint_done()) */
                resp.pending->request = req;
                w->in_flight++;
                return;
        }
        endpoint_reply(req, &resp);
}

void frontdoor_endpoint_done(Worker *w, EndpointPending *p)
{
        endpoint_reply(p->request, &p->resp);
        p->free(p);
        w->in_flight--;
        if (w->stopping && w->in_flight == 0)
                event_base_loopbreak(w->base);
}

/* --- the route table --------------------------------------------------- */

/*
 * [http] max-header-size and max-body-size. libevent is given twice as much (transport_ceiling()), so
 * that a request over a limit reaches the route table and gets a complete answer in the format the
 * client asked for (an X-Road error by default), not libevent's HTML page; beyond twice the limit
 * libevent answers itself. Return: false when `req` was refused.
 */
static bool transport_limits(Worker *w, struct evhttp_request *req)
{
        const FrontDoorOptions *o = &w->fd->opts;
        size_t body = evbuffer_get_length(evhttp_request_get_input_buffer(req));
        char detail[128];

        if (wire_head_size(req) > o->max_header_size) {
                snprintf(detail, sizeof(detail), "the request line and header fields exceed %zu bytes",
                         o->max_header_size);
                wire_problem(req, PROBLEM_BAD_REQUEST, detail, NULL);
                return false;
        }
        if (body > o->max_body_size) {
                snprintf(detail, sizeof(detail), "the body is %zu bytes; the node accepts at most %zu", body,
                         o->max_body_size);
                wire_problem(req, PROBLEM_PAYLOAD_TOO_LARGE, detail, NULL);
                return false;
        }
        return true;
}

/* What libevent may read of a request whose limit is `limit`: twice that (transport_limits()). */
static size_t transport_ceiling(size_t limit)
{
        return limit > SIZE_MAX / 4 ? limit : 2 * limit;
}

/* The route table: every request of every connection starts here, on its worker. */
static void worker_on_request(struct evhttp_request *req, void *userdata)
{
        Worker *w = userdata;
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

        if (!conn_request_done(w, req))
                return;
        if (!wire_head_clean(req)) {
                wire_problem(req, PROBLEM_BAD_REQUEST,
                             "a header holds a control character, is folded, or trails the body", NULL);
                return;
        }
        if (path && (streq(path, "/listClients") || streq(path, "/r1/listClients"))) { /* the X-Road directory */
                handle_endpoint(w, req, &metaservice_list_clients_endpoint, path);
                return;
        }
        if (!path) {
                wire_problem(req, PROBLEM_BAD_REQUEST, "the request line could not be parsed", NULL);
                return;
        }
        if (!transport_limits(w, req))
                return;
        if (strncmp(path, "/r1/", 4) == 0 || streq(path, "/")) {
                if (w->stopping) {
                        wire_problem(req, PROBLEM_BUS_BUSY, "the node is shutting down", NULL);
                        return;
                }
                if (path[1])
                        rest_handle(w, req, path);
                else
                        soap_front_handle(w, req);
        } else if (streq(path, "/health"))
                metrics_handle_health(w, req);
        else if (streq(path, "/metrics"))
                metrics_handle_metrics(w, req);
        else {
                for (size_t i = 0; i < w->fd->opts.n_endpoints; i++) {
                        const Endpoint *ep = &w->fd->opts.endpoints[i];
                        if (strncmp(path, ep->prefix, strlen(ep->prefix)) == 0) {
                                handle_endpoint(w, req, ep, path);
                                return;
                        }
                }
                rest_handle_unknown(w, req, path);
        }
}

/* --- threads ------------------------------------------------------------- */

static void worker_on_stop(evutil_socket_t fd, short what, void *userdata)
{
        Worker *w = userdata;

        w->stopping = true;
        if (w->bound) {
                evhttp_del_accept_socket(w->http, w->bound);
                w->bound = NULL;
        }
        if (w->in_flight == 0)
                event_base_loopbreak(w->base);
}

static void *worker_thread(void *userdata)
{
        Worker *w = userdata;

        event_base_dispatch(w->base);
        /* Close the remaining connections on the thread that owns them, then let the
         * loop run the deferred frees (finalizers) their bufferevents scheduled. */
        evhttp_free(w->http);
        w->http = NULL;
        for (int i = 0; i < 4; i++)
                event_base_loop(w->base, EVLOOP_NONBLOCK);
        return NULL;
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
        char host[256];
        const char *colon = listen ? strrchr(listen, ':') : NULL;
        uint64_t port;

        if (!colon || (size_t)(colon - listen) >= sizeof(host))
                return -EINVAL;
        memcpy(host, listen, colon - listen);
        host[colon - listen] = 0;
        if (parse_u64(colon + 1, 0, 65535, &port) < 0)
                return -EINVAL;
        memset(ss, 0, sizeof(*ss));
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
                host[strlen(host) - 1] = 0;
                if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
                        return -EINVAL;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t)port);
                *len = sizeof(*s6);
        } else {
                struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
                if (inet_pton(AF_INET, streq(host, "localhost") ? "127.0.0.1" : host, &s4->sin_addr) != 1)
                        return -EINVAL;
                s4->sin_family = AF_INET;
                s4->sin_port = htons((uint16_t)port);
                *len = sizeof(*s4);
        }
        return 0;
}

static int listen_socket(const struct sockaddr_storage *ss, socklen_t len)
{
        int fd, one = 1;

        fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        /* Accepted sockets inherit it (Linux): without it a response written as two TLS
         * records waits for the client's delayed ACK (40 ms). */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 1024) < 0) {
                int e = -errno;
                close(fd);
                return e;
        }
        return fd;
}

static struct timeval timeval_ms(unsigned ms)
{
        return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };
}

/*
 * A worker's event base. With epoll's changelist, libevent applies the changes
 * of one loop turn to a socket's interest in one epoll_ctl() when it next
 * waits, instead of one call per change: an answer turns writing on and
 * reading back on in the same turn (two calls before, one now). Its caveat,
 * file descriptors shared through dup(), does not arise: every socket here is
 * the front door's own.
 */
static struct event_base *worker_base_new(void)
{
        struct event_config *cfg = event_config_new();
        struct event_base *base = NULL;

        if (cfg && event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == 0)
                base = event_base_new_with_config(cfg);
        if (cfg)
                event_config_free(cfg);
        return base;
}

/* A worker's event loop, HTTP server, timeouts and events; its listening socket comes after.
 * Return: 0 or -errno. */
static int worker_setup(FrontDoor *fd, Worker *w, unsigned index)
{
        const FrontDoorOptions *o = &fd->opts;
        struct timeval tv = timeval_ms(o->timeout_ms), hs = timeval_ms(o->handshake_timeout_ms),
                       rq = timeval_ms(o->request_timeout_ms);
        int r;

        *w = (Worker){ .fd = fd,
                       .node = fd->node,
                       .conns = &fd->conns,
                       .index = index,
                       .mailbox = MAILBOX_NULL,
                       .metrics_access = o->metrics_access ?: &access_list_loopback,
                       .health_access = o->health_access ?: &access_list_loopback,
                       .console = o->console };
        TAILQ_INIT(&w->anonymous);
        r = mailbox_init(&w->mailbox, 0);
        if (r < 0)
                return r;
        w->base = worker_base_new();
        w->http = w->base ? evhttp_new(w->base) : NULL;
        if (!w->http)
                return -ENOMEM;
        w->handshake_timeout = event_base_init_common_timeout(w->base, &hs);
        w->request_timeout = event_base_init_common_timeout(w->base, &rq);
        w->mailbox_event =
                event_new(w->base, mailbox_fd(&w->mailbox), EV_READ | EV_PERSIST, http_exchange_on_mailbox, w);
        w->stop_event = event_new(w->base, -1, 0, worker_on_stop, w);
        if (!w->handshake_timeout || !w->request_timeout || !w->mailbox_event || !w->stop_event ||
            event_add(w->mailbox_event, NULL) < 0)
                return -ENOMEM;
        evhttp_set_bevcb(w->http, worker_bevcb, w);
        evhttp_set_gencb(w->http, worker_on_request, w);
        evhttp_set_max_headers_size(w->http, (ev_ssize_t)transport_ceiling(o->max_header_size));
        evhttp_set_max_body_size(w->http, (ev_ssize_t)transport_ceiling(o->max_body_size));
        evhttp_set_timeout_tv(w->http, &tv);
        /* every method reaches the route table, which answers those it does not serve (libevent
         * would answer them with an HTML page); no content type is made up for an answer */
        evhttp_set_allowed_methods(w->http, 0xffff);
        evhttp_set_default_content_type(w->http, NULL);
        return 0;
}

int frontdoor_new(FrontDoor **ret, const FrontDoorOptions *opts, Node *node, char **ret_error)
{
        struct sockaddr_storage ss;
        socklen_t sslen;
        FrontDoor *fd;
        int r;

        pthread_once(&evthread_once, evthread_setup);
        if (ssl_conn_index < 0)
                ssl_conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_ex_free);
        wire_init();

        if (parse_listen(opts->listen, &ss, &sslen) < 0)
                return error_set(ret_error, -EINVAL, "listen address \"%s\" is not HOST:PORT", strempty(opts->listen));
        fd = calloc(1, sizeof(*fd));
        if (!fd)
                return -ENOMEM;
        fd->opts = *opts;
        fd->opts.max_connections_per_client = opts->max_connections_per_client ?: UINT_MAX;
        fd->opts.handshake_timeout_ms = opts->handshake_timeout_ms ?: 5000;
        fd->opts.request_timeout_ms = opts->request_timeout_ms ?: 10000;
        fd->node = node;
        if (getrandom(&fd->conns.client_key, sizeof(fd->conns.client_key), 0) != sizeof(fd->conns.client_key))
                fd->conns.client_key = now_usec(CLOCK_MONOTONIC) ^ (uint64_t)getpid() << 32;
        fd->n_workers = opts->threads ? opts->threads : 1;
        pthread_mutex_init(&fd->tls_lock, NULL);
        r = frontdoor_reload_tls(fd, ret_error);
        if (r < 0)
                goto fail;
        fd->workers = calloc(fd->n_workers, sizeof(Worker));
        if (!fd->workers) {
                r = -ENOMEM;
                goto fail;
        }
        for (unsigned i = 0; i < fd->n_workers; i++)
                fd->workers[i].mailbox = MAILBOX_NULL;

        for (unsigned i = 0; i < fd->n_workers; i++) {
                Worker *w = &fd->workers[i];
                int s;

                r = worker_setup(fd, w, i);
                if (r < 0)
                        goto fail;
                /* SO_REUSEPORT would also let a second node bind the same port and
                 * silently share its clients: check with a plain bind first. */
                if (i == 0 && ((struct sockaddr_in *)&ss)->sin_port != 0) {
                        int probe = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                        int one = 1, e = 0;
                        if (probe >= 0) {
                                setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                                if (bind(probe, (const struct sockaddr *)&ss, sslen) < 0)
                                        e = errno;
                                close(probe);
                        }
                        if (e) {
                                r = error_set(ret_error, -e, "cannot listen on %s: %s", opts->listen, strerror(e));
                                goto fail;
                        }
                }
                /* The first socket may pick the port (port 0); the others share it. */
                if (i > 0) {
                        if (ss.ss_family == AF_INET)
                                ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)fd->port);
                        else
                                ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)fd->port);
                }
                s = listen_socket(&ss, sslen);
                if (s < 0) {
                        r = error_set(ret_error, s, "cannot listen on %s: %s", opts->listen, strerror(-s));
                        goto fail;
                }
                if (i == 0) {
                        struct sockaddr_storage bound;
                        socklen_t bl = sizeof(bound);
                        getsockname(s, (struct sockaddr *)&bound, &bl);
                        fd->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                                    : ((struct sockaddr_in6 *)&bound)->sin6_port);
                }
                w->bound = evhttp_accept_socket_with_handle(w->http, s);
                if (!w->bound) {
                        close(s);
                        r = -ENOMEM;
                        goto fail;
                }
        }
        for (unsigned i = 0; i < fd->n_workers; i++) {
                r = -pthread_create(&fd->workers[i].thread, NULL, worker_thread, &fd->workers[i]);
                if (r < 0)
                        goto fail;
                fd->workers[i].started = true;
        }
        *ret = fd;
        return 0;
fail:
        frontdoor_free(fd);
        return r;
}

FrontDoor *frontdoor_free(FrontDoor *fd)
{
        if (!fd)
                return NULL;
        for (unsigned i = 0; fd->workers && i < fd->n_workers; i++)
                if (fd->workers[i].started)
                        event_active(fd->workers[i].stop_event, EV_TIMEOUT, 0);
        for (unsigned i = 0; fd->workers && i < fd->n_workers; i++) {
                Worker *w = &fd->workers[i];
                if (w->started)
                        pthread_join(w->thread, NULL);
                if (w->mailbox_event)
                        event_free(w->mailbox_event);
                if (w->stop_event)
                        event_free(w->stop_event);
                if (w->http)
                        evhttp_free(w->http);
                if (w->base)
                        event_base_free(w->base);
                mailbox_deinit(&w->mailbox);
        }
        free(fd->workers);
        frontdoor_tls_unref(fd->tls);
        pthread_mutex_destroy(&fd->tls_lock);
        free(fd);
        return NULL;
}

int frontdoor_port(const FrontDoor *fd)
{
        return fd->port;
}
