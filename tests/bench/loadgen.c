/* loadgen.c: closed-loop HTTP/1.1 load generator with TLS client certificates (xbus-loadgen) */

/*
 * Why our own: wrk and h2load cannot present a TLS client certificate, and
 * every /r1 exchange with the bus is mutual TLS.
 *
 * Model: C keep-alive connections spread over T threads, each thread with
 * its own event_base. A connection sends its next request as soon as the
 * previous response is complete (closed loop), so the offered load adapts
 * to the server and the latency measured is the full round trip of one
 * request on a warm connection. HTTP is libevent's evhttp client (no HTTP
 * parsing here); TLS is bufferevent_openssl.
 *
 * Time: warm-up [start, start+w) is not measured; the measured window is
 * [start+w, start+w+d). A response is counted (and its latency recorded)
 * when it completes inside the window, whenever it was sent. Each thread
 * leaves its loop at the deadline; work in flight then is dropped. The rate
 * is counted responses / d.
 *
 * Errors (connect/TLS failures, resets, timeouts, malformed responses) are
 * counted and the connection is replaced by a fresh one (new socket, new
 * TLS session) after a short back-off: evhttp's own reconnect would reuse
 * a used SSL object. Every request has a hard timeout (--timeout).
 *
 * Latency histogram: log-linear, 128 sub-buckets per power of two of
 * microseconds (relative error < 1 %), exact below 128 us, clamped at 10 s;
 * per thread, merged at the end. Percentiles report the highest value of
 * their bucket, capped at the exact maximum.
 *
 * Output (stdout, one line):
 *   requests=N errors=E non2xx=X rps=R p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..
 *   followed by mean_ms, timeouts, duration_s, connections, threads.
 * `requests` counts every complete response, 2xx or not; `non2xx` is the
 * part of it whose status is not 2xx. `errors` are requests without any
 * response. Exit status 0 after a run, 1 on bad usage or setup failure.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* Limits on everything the command line controls. */
#define MAX_CONNECTIONS 10000U
#define MAX_THREADS 64U
#define MAX_DURATION_S 300U
#define MAX_WARMUP_S 60U
#define MAX_TIMEOUT_S 60U
#define MAX_HEADERS 64U
#define MAX_HEADER_LEN 8192U
#define MAX_URL_LEN 8192U
#define MAX_BODY_FILE (16U * 1024U * 1024U)
#define MAX_RESPONSE_BODY (64U * 1024U * 1024U)
#define MAX_RESPONSE_HEADERS (64U * 1024U)
#define RECONNECT_BACKOFF_MS 10U

/* Histogram: see the comment at the top. */
#define HIST_SUB_BITS 7U
#define HIST_SUB (1U << HIST_SUB_BITS)
#define HIST_MAX_US 10000000ULL
#define HIST_BUCKETS (25U * HIST_SUB) /* covers up to 2^31 us, above HIST_MAX_US */

#define _unused_ __attribute__((unused))

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_USEC 1000ULL

typedef struct Header {
        char *name;
        char *value;
} Header;

typedef struct Config {
        const char *url;
        bool tls;
        char *host;        /* as connected to; no brackets for IPv6 */
        char *host_header; /* "host[:port]" */
        uint16_t port;
        char *target; /* path[?query] */
        enum evhttp_cmd_type method;
        Header headers[MAX_HEADERS];
        unsigned n_headers;
        bool user_host_header;
        char *body;
        size_t body_size;
        char body_length[32];
        unsigned connections;
        unsigned threads;
        unsigned duration_s;
        unsigned warmup_s;
        unsigned timeout_s;
        const char *cert;
        const char *key;
        const char *cacert;
        SSL_CTX *ssl_ctx;
        bool host_is_ip;
        uint64_t start_ns;
        uint64_t measure_ns;  /* start of the measured window */
        uint64_t deadline_ns; /* end of the measured window */
} Config;

typedef struct Worker Worker;

typedef struct Conn {
        Worker *worker;
        struct evhttp_connection *evcon; /* owns the bufferevent (and SSL) */
        struct bufferevent *bev;
        struct event *next_ev;    /* deferred "send the next request" */
        struct event *timeout_ev; /* hard per-request timeout */
        uint64_t sent_ns;
        int last_error; /* enum evhttp_request_error, -1 none */
        bool inflight;
        bool dead; /* replace evcon before the next request */
} Conn;

struct Worker {
        const Config *cfg;
        struct event_base *base;
        struct event *deadline_ev;
        Conn *conns;
        unsigned n_conns;
        pthread_t thread;
        int setup_error; /* -errno when the thread could not start */

        uint64_t requests;
        uint64_t non2xx;
        uint64_t errors;
        uint64_t timeouts;
        uint64_t max_us;
        uint64_t sum_us;
        uint64_t hist[HIST_BUCKETS];
};

/* One message per kind of failure, so a misconfigured run says why at once. */
static atomic_bool reported_kind[8];

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static struct timeval timeval_from_ns(uint64_t ns)
{
        return (struct timeval){
                .tv_sec = (time_t)(ns / NSEC_PER_SEC),
                .tv_usec = (suseconds_t)((ns % NSEC_PER_SEC) / NSEC_PER_USEC),
        };
}

static unsigned hist_index(uint64_t us)
{
        unsigned msb, shift;

        if (us > HIST_MAX_US)
                us = HIST_MAX_US;
        if (us < HIST_SUB)
                return (unsigned)us;
        msb = 63U - (unsigned)__builtin_clzll(us);
        shift = msb - HIST_SUB_BITS;
        return (shift + 1U) * HIST_SUB + (unsigned)(us >> shift) - HIST_SUB;
}

/* Highest value that falls into bucket idx. */
static uint64_t hist_upper(unsigned idx)
{
        unsigned shift;
        uint64_t sub;

        if (idx < HIST_SUB)
                return idx;
        shift = idx / HIST_SUB - 1U;
        sub = idx % HIST_SUB + HIST_SUB;
        return ((sub + 1U) << shift) - 1U;
}

/* permille: 500 for p50, 990 for p99. The rank is rounded up, as in HdrHistogram. */
static double hist_percentile_ms(const uint64_t *hist, uint64_t total, uint64_t max_us, unsigned permille)
{
        uint64_t target, seen = 0;

        if (total == 0)
                return 0.0;
        target = (total * permille + 999U) / 1000U;
        if (target < 1)
                target = 1;
        for (unsigned i = 0; i < HIST_BUCKETS; i++) {
                seen += hist[i];
                if (seen >= target) {
                        uint64_t v = hist_upper(i);

                        return (double)(v < max_us ? v : max_us) / 1000.0;
                }
        }
        return (double)max_us / 1000.0;
}

static void report_once(int kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_once(int kind, const char *fmt, ...)
{
        va_list ap;

        if (kind < 0 || (size_t)kind >= sizeof(reported_kind) / sizeof(reported_kind[0]))
                kind = 0;
        if (atomic_exchange(&reported_kind[kind], true))
                return;
        fputs("xbus-loadgen: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (further errors of this kind are only counted)\n", stderr);
}

static const char *request_error_str(int e)
{
        switch (e) {
        case EVREQ_HTTP_TIMEOUT:
                return "socket timeout";
        case EVREQ_HTTP_EOF:
                return "connection closed or refused";
        case EVREQ_HTTP_INVALID_HEADER:
                return "invalid response header";
        case EVREQ_HTTP_BUFFER_ERROR:
                return "read/write error";
        case EVREQ_HTTP_REQUEST_CANCEL:
                return "request cancelled";
        case EVREQ_HTTP_DATA_TOO_LONG:
                return "response body too long";
        default:
                return "connection failed (refused, unreachable or TLS handshake)";
        }
}

static void conn_schedule(Conn *c, unsigned delay_ms);

static bool in_window(const Config *cfg, uint64_t t)
{
        return t >= cfg->measure_ns && t < cfg->deadline_ns;
}

static void conn_count_error(Conn *c, uint64_t t, bool timeout)
{
        Worker *w = c->worker;

        if (!in_window(w->cfg, t))
                return;
        w->errors++;
        if (timeout)
                w->timeouts++;
}

static void conn_drop(Conn *c)
{
        if (c->evcon) {
                /* Frees the queued request without calling its callback. */
                evhttp_connection_free(c->evcon);
                c->evcon = NULL;
                c->bev = NULL;
        }
        c->inflight = false;
}

static void on_close(struct evhttp_connection *evcon _unused_, void *userdata)
{
        Conn *c = userdata;

        /* Server closed (e.g. "Connection: close"): use a fresh connection next time. */
        c->dead = true;
}

static void on_request_error(enum evhttp_request_error error, void *userdata)
{
        Conn *c = userdata;

        c->last_error = (int)error;
}

static void on_response(struct evhttp_request *req, void *userdata)
{
        Conn *c = userdata;
        Worker *w = c->worker;
        uint64_t t = now_ns(), us;
        int code;

        if (!c->inflight)
                return;
        c->inflight = false;
        evtimer_del(c->timeout_ev);

        code = req ? evhttp_request_get_response_code(req) : 0;
        if (code <= 0) {
                unsigned long ssl_err = c->bev ? bufferevent_get_openssl_error(c->bev) : 0;
                char buf[256] = "";

                if (ssl_err && ERR_GET_LIB(ssl_err) != 0)
                        ERR_error_string_n(ssl_err, buf, sizeof(buf));
                report_once(c->last_error < 0 ? 7 : c->last_error, "request to %s failed: %s%s%s", w->cfg->url,
                            request_error_str(c->last_error), buf[0] ? ": " : "", buf);
                conn_count_error(c, t, false);
                c->dead = true;
                conn_schedule(c, RECONNECT_BACKOFF_MS);
                return;
        }

        if (in_window(w->cfg, t)) {
                us = (t - c->sent_ns + NSEC_PER_USEC / 2) / NSEC_PER_USEC;
                w->requests++;
                if (code < 200 || code > 299)
                        w->non2xx++;
                w->hist[hist_index(us)]++;
                w->sum_us += us;
                if (us > w->max_us)
                        w->max_us = us;
        }
        conn_schedule(c, 0);
}

static void on_timeout(evutil_socket_t fd _unused_, short what _unused_, void *userdata)
{
        Conn *c = userdata;

        if (!c->inflight)
                return;
        report_once(6, "request to %s timed out after %u s", c->worker->cfg->url, c->worker->cfg->timeout_s);
        conn_count_error(c, now_ns(), true);
        conn_drop(c);
        c->dead = true;
        conn_schedule(c, 0);
}

static int conn_open(Conn *c)
{
        const Config *cfg = c->worker->cfg;
        struct bufferevent *bev;
        struct timeval tv = { .tv_sec = (time_t)cfg->timeout_s + 1 };

        if (cfg->tls) {
                SSL *ssl = SSL_new(cfg->ssl_ctx);

                if (!ssl)
                        return -ENOMEM;
                if (cfg->cacert) {
                        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
                        int ok = cfg->host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, cfg->host)
                                                 : SSL_set1_host(ssl, cfg->host);

                        if (ok != 1) {
                                SSL_free(ssl);
                                return -EINVAL;
                        }
                }
                if (!cfg->host_is_ip)
                        SSL_set_tlsext_host_name(ssl, cfg->host);
                bev = bufferevent_openssl_socket_new(c->worker->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
                if (!bev) {
                        SSL_free(ssl);
                        return -ENOMEM;
                }
                bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        } else {
                bev = bufferevent_socket_new(c->worker->base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
                if (!bev)
                        return -ENOMEM;
        }

        c->evcon = evhttp_connection_base_bufferevent_new(c->worker->base, NULL, bev, cfg->host, cfg->port);
        if (!c->evcon) {
                bufferevent_free(bev);
                return -ENOMEM;
        }
        c->bev = bev;
        evhttp_connection_set_retries(c->evcon, 0);
        evhttp_connection_set_timeout_tv(c->evcon, &tv);
        evhttp_connection_set_max_body_size(c->evcon, MAX_RESPONSE_BODY);
        evhttp_connection_set_max_headers_size(c->evcon, MAX_RESPONSE_HEADERS);
        evhttp_connection_set_closecb(c->evcon, on_close, c);
        c->dead = false;
        return 0;
}

static int request_fill(const Config *cfg, struct evhttp_request *req)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);

        if (!cfg->user_host_header && evhttp_add_header(h, "Host", cfg->host_header) < 0)
                return -ENOMEM;
        for (unsigned i = 0; i < cfg->n_headers; i++)
                if (evhttp_add_header(h, cfg->headers[i].name, cfg->headers[i].value) < 0)
                        return -EINVAL;
        if (cfg->body) {
                if (evhttp_find_header(h, "Content-Length") == NULL &&
                    evhttp_add_header(h, "Content-Length", cfg->body_length) < 0)
                        return -ENOMEM;
                /* The body stays alive until the process exits: no copy. */
                if (evbuffer_add_reference(evhttp_request_get_output_buffer(req), cfg->body, cfg->body_size, NULL,
                                           NULL) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static void on_next(evutil_socket_t fd _unused_, short what _unused_, void *userdata)
{
        Conn *c = userdata;
        const Config *cfg = c->worker->cfg;
        struct evhttp_request *req;
        struct timeval tv = { .tv_sec = (time_t)cfg->timeout_s };
        int r;

        if (now_ns() >= cfg->deadline_ns)
                return;

        if (c->dead || !c->evcon) {
                conn_drop(c);
                r = conn_open(c);
                if (r < 0) {
                        report_once(0, "cannot create a connection: %s", strerror(-r));
                        conn_count_error(c, now_ns(), false);
                        conn_schedule(c, RECONNECT_BACKOFF_MS);
                        return;
                }
        }

        req = evhttp_request_new(on_response, c);
        if (!req) {
                conn_count_error(c, now_ns(), false);
                conn_schedule(c, RECONNECT_BACKOFF_MS);
                return;
        }
        evhttp_request_set_error_cb(req, on_request_error);
        r = request_fill(cfg, req);
        if (r < 0) {
                evhttp_request_free(req);
                report_once(0, "cannot build the request: %s", strerror(-r));
                conn_count_error(c, now_ns(), false);
                conn_schedule(c, RECONNECT_BACKOFF_MS);
                return;
        }

        c->last_error = -1;
        c->inflight = true;
        c->sent_ns = now_ns();
        evtimer_add(c->timeout_ev, &tv);

        /* May call on_response() before returning (refused connect). */
        r = evhttp_make_request(c->evcon, req, cfg->method, cfg->target);
        if (r < 0) {
                if (c->inflight) {
                        c->inflight = false;
                        evtimer_del(c->timeout_ev);
                        conn_count_error(c, now_ns(), false);
                        c->dead = true;
                        conn_schedule(c, RECONNECT_BACKOFF_MS);
                }
                return;
        }

        /* Requests are written in several TLS records; without NODELAY the
         * second one waits for the server's delayed ACK. */
        if (!c->dead && c->bev) {
                evutil_socket_t sfd = bufferevent_getfd(c->bev);
                int one = 1;

                if (sfd >= 0)
                        (void)setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
}

static void conn_schedule(Conn *c, unsigned delay_ms)
{
        if (delay_ms == 0) {
                event_active(c->next_ev, EV_TIMEOUT, 1);
        } else {
                struct timeval tv = timeval_from_ns((uint64_t)delay_ms * NSEC_PER_MSEC);

                evtimer_add(c->next_ev, &tv);
        }
}

static void on_deadline(evutil_socket_t fd _unused_, short what _unused_, void *userdata)
{
        Worker *w = userdata;

        event_base_loopbreak(w->base);
}

static void worker_teardown(Worker *w)
{
        for (unsigned i = 0; i < w->n_conns; i++) {
                Conn *c = &w->conns[i];

                conn_drop(c);
                if (c->next_ev)
                        event_free(c->next_ev);
                if (c->timeout_ev)
                        event_free(c->timeout_ev);
        }
        free(w->conns);
        w->conns = NULL;
        if (w->deadline_ev)
                event_free(w->deadline_ev);
        w->deadline_ev = NULL;
        if (w->base) {
                /* Freed bufferevents with deferred callbacks still pending are
                 * released only when those run: one more pass of the loop. */
                event_base_loop(w->base, EVLOOP_NONBLOCK);
                event_base_free(w->base);
        }
        w->base = NULL;
}

static void *worker_main(void *userdata)
{
        Worker *w = userdata;
        struct timeval tv;
        uint64_t t;

        w->base = event_base_new();
        w->conns = calloc(w->n_conns, sizeof(Conn));
        w->deadline_ev = w->base ? evtimer_new(w->base, on_deadline, w) : NULL;
        if (!w->base || !w->conns || !w->deadline_ev) {
                w->setup_error = -ENOMEM;
                goto finish;
        }
        for (unsigned i = 0; i < w->n_conns; i++) {
                Conn *c = &w->conns[i];

                c->worker = w;
                c->last_error = -1;
                c->dead = true;
                c->next_ev = evtimer_new(w->base, on_next, c);
                c->timeout_ev = evtimer_new(w->base, on_timeout, c);
                if (!c->next_ev || !c->timeout_ev) {
                        w->setup_error = -ENOMEM;
                        goto finish;
                }
        }

        t = now_ns();
        tv = timeval_from_ns(w->cfg->deadline_ns > t ? w->cfg->deadline_ns - t : 0);
        evtimer_add(w->deadline_ev, &tv);
        for (unsigned i = 0; i < w->n_conns; i++)
                conn_schedule(&w->conns[i], 0);

        if (event_base_dispatch(w->base) < 0)
                w->setup_error = -EIO;

finish:
        worker_teardown(w);
        return NULL;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret)
{
        char *end;
        unsigned long v;

        if (!s || !*s || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

static int parse_method(const char *s, enum evhttp_cmd_type *ret)
{
        static const struct {
                const char *name;
                enum evhttp_cmd_type type;
        } table[] = {
                { "GET", EVHTTP_REQ_GET },       { "POST", EVHTTP_REQ_POST }, { "PUT", EVHTTP_REQ_PUT },
                { "DELETE", EVHTTP_REQ_DELETE }, { "HEAD", EVHTTP_REQ_HEAD }, { "OPTIONS", EVHTTP_REQ_OPTIONS },
                { "PATCH", EVHTTP_REQ_PATCH },
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
                if (strcasecmp(s, table[i].name) == 0) {
                        *ret = table[i].type;
                        return 0;
                }
        return -EINVAL;
}

static bool token_char(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* "Name: value" -> cfg->headers[]. */
static int parse_header(Config *cfg, const char *s)
{
        const char *colon, *v, *end;
        char *name, *value;

        if (cfg->n_headers >= MAX_HEADERS || strlen(s) > MAX_HEADER_LEN)
                return -E2BIG;
        colon = strchr(s, ':');
        if (!colon || colon == s)
                return -EINVAL;
        for (const char *p = s; p < colon; p++)
                if (!token_char(*p))
                        return -EINVAL;
        v = colon + 1;
        while (*v == ' ' || *v == '\t')
                v++;
        end = v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        for (const char *p = v; p < end; p++)
                if ((unsigned char)*p < 0x20 && *p != '\t')
                        return -EINVAL;
        name = strndup(s, (size_t)(colon - s));
        value = strndup(v, (size_t)(end - v));
        if (!name || !value) {
                free(name);
                free(value);
                return -ENOMEM;
        }
        if (strcasecmp(name, "Host") == 0)
                cfg->user_host_header = true;
        cfg->headers[cfg->n_headers++] = (Header){ .name = name, .value = value };
        return 0;
}

static int read_body(Config *cfg, const char *path)
{
        FILE *f;
        struct stat st;
        char *buf;
        size_t n;

        f = fopen(path, "rbe");
        if (!f)
                return -errno;
        if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
                fclose(f);
                return -EINVAL;
        }
        if ((uint64_t)st.st_size > MAX_BODY_FILE) {
                fclose(f);
                return -EFBIG;
        }
        buf = malloc((size_t)st.st_size + 1);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(buf, 1, (size_t)st.st_size, f);
        if (n != (size_t)st.st_size || ferror(f)) {
                free(buf);
                fclose(f);
                return -EIO;
        }
        fclose(f);
        free(cfg->body);
        cfg->body = buf;
        cfg->body_size = n;
        snprintf(cfg->body_length, sizeof(cfg->body_length), "%zu", n);
        return 0;
}

static int parse_url(Config *cfg, const char *url)
{
        struct evhttp_uri *uri;
        const char *scheme, *host, *path, *query;
        int port, r = 0;
        struct in6_addr a6;
        struct in_addr a4;
        size_t tlen;

        if (strlen(url) > MAX_URL_LEN)
                return -E2BIG;
        uri = evhttp_uri_parse(url);
        if (!uri)
                return -EINVAL;
        scheme = evhttp_uri_get_scheme(uri);
        host = evhttp_uri_get_host(uri);
        if (!scheme || !host || !*host) {
                r = -EINVAL;
                goto finish;
        }
        if (strcasecmp(scheme, "https") == 0)
                cfg->tls = true;
        else if (strcasecmp(scheme, "http") == 0)
                cfg->tls = false;
        else {
                r = -EPROTONOSUPPORT;
                goto finish;
        }
        if (evhttp_uri_get_userinfo(uri)) {
                r = -EINVAL;
                goto finish;
        }
        port = evhttp_uri_get_port(uri);
        if (port < 0)
                port = cfg->tls ? 443 : 80;
        if (port == 0 || port > 65535) {
                r = -ERANGE;
                goto finish;
        }
        cfg->port = (uint16_t)port;
        cfg->host = strdup(host);
        cfg->host_is_ip = inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;

        path = evhttp_uri_get_path(uri);
        if (!path || !*path)
                path = "/";
        query = evhttp_uri_get_query(uri);
        tlen = strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
        cfg->target = malloc(tlen);
        if (inet_pton(AF_INET6, host, &a6) == 1)
                r = asprintf(&cfg->host_header, "[%s]:%d", host, port);
        else
                r = asprintf(&cfg->host_header, "%s:%d", host, port);
        if (r < 0 || !cfg->host || !cfg->target) {
                cfg->host_header = NULL;
                r = -ENOMEM;
                goto finish;
        }
        r = 0;
        snprintf(cfg->target, tlen, "%s%s%s", path, query ? "?" : "", query ? query : "");

finish:
        evhttp_uri_free(uri);
        return r;
}

static int ssl_setup(Config *cfg)
{
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

        if (!ctx)
                return -ENOMEM;
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        if (cfg->cert) {
                if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
                        fprintf(stderr, "xbus-loadgen: cannot load certificate '%s'\n", cfg->cert);
                        goto fail;
                }
                if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key ? cfg->key : cfg->cert, SSL_FILETYPE_PEM) != 1) {
                        fprintf(stderr, "xbus-loadgen: cannot load key '%s'\n", cfg->key ? cfg->key : cfg->cert);
                        goto fail;
                }
                if (SSL_CTX_check_private_key(ctx) != 1) {
                        fprintf(stderr, "xbus-loadgen: key does not match certificate '%s'\n", cfg->cert);
                        goto fail;
                }
        }
        if (cfg->cacert) {
                if (SSL_CTX_load_verify_locations(ctx, cfg->cacert, NULL) != 1) {
                        fprintf(stderr, "xbus-loadgen: cannot load CA '%s'\n", cfg->cacert);
                        goto fail;
                }
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        } else {
                SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        }
        cfg->ssl_ctx = ctx;
        return 0;

fail:
        ERR_print_errors_fp(stderr);
        SSL_CTX_free(ctx);
        return -EINVAL;
}

/* Make room for one descriptor per connection plus slack. */
static void raise_fd_limit(unsigned connections)
{
        struct rlimit rl;
        rlim_t want = (rlim_t)connections + 64;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
                return;
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < want)
                fprintf(stderr, "xbus-loadgen: descriptor limit %llu is below %u connections, expect errors\n",
                        (unsigned long long)rl.rlim_cur, connections);
}

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: xbus-loadgen [OPTIONS] URL\n"
                "Closed-loop HTTP/1.1 keep-alive load generator (http:// or https://, client certificates).\n\n"
                "  -c, --connections N   connections in total (default 32, max %u)\n"
                "  -t, --threads N       threads, each with its own event loop (default 1, max %u)\n"
                "  -d, --duration S      measured seconds (default 10, 1..%u)\n"
                "  -w, --warmup S        unmeasured seconds before (default 1, max %u)\n"
                "      --timeout S       per-request timeout (default 10, 1..%u)\n"
                "  -m, --method M        GET (default), POST, PUT, DELETE, HEAD, OPTIONS, PATCH\n"
                "  -H, --header 'N: v'   add a request header (repeatable, max %u)\n"
                "      --body FILE       request body (max %u bytes)\n"
                "      --cert FILE       client certificate chain (PEM), for mutual TLS\n"
                "      --key FILE        client private key (PEM; default: in --cert)\n"
                "      --cacert FILE     verify the server against this CA and the URL host;\n"
                "                        without it the server is not verified\n"
                "  -h, --help            this text\n\n"
                "Prints one line: requests=N errors=E non2xx=X rps=R p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..\n"
                "(then mean_ms timeouts duration_s connections threads).\n",
                MAX_CONNECTIONS, MAX_THREADS, MAX_DURATION_S, MAX_WARMUP_S, MAX_TIMEOUT_S, MAX_HEADERS, MAX_BODY_FILE);
}

static void config_free(Config *cfg)
{
        for (unsigned i = 0; i < cfg->n_headers; i++) {
                free(cfg->headers[i].name);
                free(cfg->headers[i].value);
        }
        free(cfg->body);
        free(cfg->host);
        free(cfg->host_header);
        free(cfg->target);
        if (cfg->ssl_ctx)
                SSL_CTX_free(cfg->ssl_ctx);
}

enum {
        OPT_TIMEOUT = 0x100,
        OPT_BODY,
        OPT_CERT,
        OPT_KEY,
        OPT_CACERT,
};

static int parse_argv(Config *cfg, int argc, char **argv)
{
        static const struct option options[] = { { "connections", required_argument, NULL, 'c' },
                                                 { "threads", required_argument, NULL, 't' },
                                                 { "duration", required_argument, NULL, 'd' },
                                                 { "warmup", required_argument, NULL, 'w' },
                                                 { "timeout", required_argument, NULL, OPT_TIMEOUT },
                                                 { "method", required_argument, NULL, 'm' },
                                                 { "header", required_argument, NULL, 'H' },
                                                 { "body", required_argument, NULL, OPT_BODY },
                                                 { "cert", required_argument, NULL, OPT_CERT },
                                                 { "key", required_argument, NULL, OPT_KEY },
                                                 { "cacert", required_argument, NULL, OPT_CACERT },
                                                 { "help", no_argument, NULL, 'h' },
                                                 { NULL, 0, NULL, 0 } };
        int opt, r;

        while ((opt = getopt_long(argc, argv, "c:t:d:w:m:H:h", options, NULL)) >= 0) {
                switch (opt) {
                case 'c':
                        r = parse_uint(optarg, 1, MAX_CONNECTIONS, &cfg->connections);
                        if (r < 0)
                                return fprintf(stderr, "xbus-loadgen: --connections must be 1..%u\n", MAX_CONNECTIONS),
                                       r;
                        break;
                case 't':
                        r = parse_uint(optarg, 1, MAX_THREADS, &cfg->threads);
                        if (r < 0)
                                return fprintf(stderr, "xbus-loadgen: --threads must be 1..%u\n", MAX_THREADS), r;
                        break;
                case 'd':
                        r = parse_uint(optarg, 1, MAX_DURATION_S, &cfg->duration_s);
                        if (r < 0)
                                return fprintf(stderr, "xbus-loadgen: --duration must be 1..%u seconds\n",
                                               MAX_DURATION_S),
                                       r;
                        break;
                case 'w':
                        r = parse_uint(optarg, 0, MAX_WARMUP_S, &cfg->warmup_s);
                        if (r < 0)
                                return fprintf(stderr, "xbus-loadgen: --warmup must be 0..%u seconds\n", MAX_WARMUP_S),
                                       r;
                        break;
                case OPT_TIMEOUT:
                        r = parse_uint(optarg, 1, MAX_TIMEOUT_S, &cfg->timeout_s);
                        if (r < 0)
                                return fprintf(stderr, "xbus-loadgen: --timeout must be 1..%u seconds\n",
                                               MAX_TIMEOUT_S),
                                       r;
                        break;
                case 'm':
                        r = parse_method(optarg, &cfg->method);
                        if (r < 0)
                                return fprintf(stderr, "xbus-loadgen: unknown method '%s'\n", optarg), r;
                        break;
                case 'H':
                        r = parse_header(cfg, optarg);
                        if (r < 0)
                                return fprintf(stderr, "xbus-loadgen: bad header '%s' (%s)\n", optarg,
                                               r == -E2BIG ? "too many or too long" : "want 'Name: value'"),
                                       r;
                        break;
                case OPT_BODY:
                        r = read_body(cfg, optarg);
                        if (r < 0)
                                return fprintf(stderr, "xbus-loadgen: cannot read body '%s': %s\n", optarg,
                                               r == -EFBIG ? "larger than the limit" : strerror(-r)),
                                       r;
                        break;
                case OPT_CERT:
                        cfg->cert = optarg;
                        break;
                case OPT_KEY:
                        cfg->key = optarg;
                        break;
                case OPT_CACERT:
                        cfg->cacert = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind != argc - 1) {
                usage(stderr);
                return -EINVAL;
        }
        cfg->url = argv[optind];
        r = parse_url(cfg, cfg->url);
        if (r < 0)
                return fprintf(stderr, "xbus-loadgen: bad URL '%s' (want http://host[:port]/path or https://...)\n",
                               cfg->url),
                       r;
        if (cfg->key && !cfg->cert)
                return fprintf(stderr, "xbus-loadgen: --key needs --cert\n"), -EINVAL;
        if (!cfg->tls && (cfg->cert || cfg->cacert))
                return fprintf(stderr, "xbus-loadgen: --cert/--cacert need an https:// URL\n"), -EINVAL;
        if (cfg->threads > cfg->connections)
                cfg->threads = cfg->connections;
        return 0;
}

int main(int argc, char **argv)
{
        Config cfg = {
                .method = EVHTTP_REQ_GET,
                .connections = 32,
                .threads = 1,
                .duration_s = 10,
                .warmup_s = 1,
                .timeout_s = 10,
        };
        Worker *workers = NULL;
        uint64_t requests = 0, errors = 0, non2xx = 0, timeouts = 0, max_us = 0, sum_us = 0;
        static uint64_t hist[HIST_BUCKETS];
        unsigned started = 0;
        int r, ret = EXIT_FAILURE;

        signal(SIGPIPE, SIG_IGN);

        if (parse_argv(&cfg, argc, argv) < 0)
                goto finish;
        if (cfg.tls && ssl_setup(&cfg) < 0)
                goto finish;
        raise_fd_limit(cfg.connections);

        workers = calloc(cfg.threads, sizeof(Worker));
        if (!workers) {
                fprintf(stderr, "xbus-loadgen: out of memory\n");
                goto finish;
        }

        cfg.start_ns = now_ns();
        cfg.measure_ns = cfg.start_ns + (uint64_t)cfg.warmup_s * NSEC_PER_SEC;
        cfg.deadline_ns = cfg.measure_ns + (uint64_t)cfg.duration_s * NSEC_PER_SEC;

        for (unsigned i = 0; i < cfg.threads; i++) {
                Worker *w = &workers[i];

                w->cfg = &cfg;
                w->n_conns = cfg.connections / cfg.threads + (i < cfg.connections % cfg.threads ? 1 : 0);
                r = pthread_create(&w->thread, NULL, worker_main, w);
                if (r != 0) {
                        fprintf(stderr, "xbus-loadgen: cannot start thread: %s\n", strerror(r));
                        break;
                }
                started++;
        }
        for (unsigned i = 0; i < started; i++)
                pthread_join(workers[i].thread, NULL);
        if (started < cfg.threads)
                goto finish;

        for (unsigned i = 0; i < cfg.threads; i++) {
                Worker *w = &workers[i];

                if (w->setup_error < 0) {
                        fprintf(stderr, "xbus-loadgen: thread %u failed: %s\n", i, strerror(-w->setup_error));
                        goto finish;
                }
                requests += w->requests;
                errors += w->errors;
                non2xx += w->non2xx;
                timeouts += w->timeouts;
                sum_us += w->sum_us;
                if (w->max_us > max_us)
                        max_us = w->max_us;
                for (unsigned b = 0; b < HIST_BUCKETS; b++)
                        hist[b] += w->hist[b];
        }

        printf("requests=%" PRIu64 " errors=%" PRIu64 " non2xx=%" PRIu64 " rps=%.1f"
               " p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f"
               " mean_ms=%.3f timeouts=%" PRIu64 " duration_s=%u connections=%u threads=%u\n",
               requests, errors, non2xx, (double)requests / (double)cfg.duration_s,
               hist_percentile_ms(hist, requests, max_us, 500), hist_percentile_ms(hist, requests, max_us, 900),
               hist_percentile_ms(hist, requests, max_us, 990), (double)max_us / 1000.0,
               requests ? (double)sum_us / (double)requests / 1000.0 : 0.0, timeouts, cfg.duration_s, cfg.connections,
               cfg.threads);
        fflush(stdout);
        ret = EXIT_SUCCESS;

finish:
        free(workers);
        config_free(&cfg);
        return ret;
}
