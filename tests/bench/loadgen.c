/* loadgen.c: closed-loop HTTP/1.1 load generator with TLS client certificates (xbus-loadgen) */

/*
 * Why our own: wrk and h2load cannot present a TLS client certificate, and
 * every /r1 exchange with the bus is mutual TLS.
 *
 * Why it is built like this: on a 2-core machine the load generator takes its
 * CPU from the servers it measures, so it must cost no more per request than
 * wrk (tests/bench/run.sh prints both). Each request is therefore one write
 * (one TLS record) of bytes built once at start, and each response is read
 * into one per-thread buffer and parsed in place (status, Content-Length or
 * chunked, Connection: close; the body is counted and dropped). No memory is
 * allocated per request; epoll is level-triggered and a connection's interest
 * changes only when a write would block, so a request costs a write, a read
 * and a share of one epoll_wait.
 *
 * Model: C keep-alive connections spread over T threads, each thread with its
 * own epoll loop. A connection sends its next request as soon as the previous
 * response is complete (closed loop), so the offered load adapts to the
 * server and the latency measured is the full round trip of one request on a
 * warm connection.
 *
 * Time: warm-up [start, start+w) is not measured; the measured window is
 * [start+w, start+w+d). A response is counted (and its latency recorded)
 * when it completes inside the window, whenever it was sent. Each thread
 * leaves its loop at the deadline; work in flight then is dropped. The rate
 * is counted responses / d. Time is read once per loop turn (after
 * epoll_wait), which is both the completion time of the responses read in
 * that turn and the send time of the requests it writes.
 *
 * Errors (connect/TLS failures, resets, timeouts, malformed responses) are
 * counted and the connection is replaced by a fresh one after a short
 * back-off (the TLS session is resumed when the server allows). Every request
 * has a hard timeout (--timeout), checked every 100 ms.
 *
 * Latency histogram: log-linear, 128 sub-buckets per power of two of
 * microseconds (relative error < 1 %), exact below 128 us, clamped at 10 s;
 * per thread, merged at the end. Percentiles report the highest value of
 * their bucket, capped at the exact maximum.
 *
 * Output (stdout, one line):
 *   requests=N errors=E non2xx=X rps=R p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..
 *   followed by mean_ms, timeouts, duration_s, connections, threads, requests_total.
 * `requests` counts every complete response in the window, 2xx or not;
 * `non2xx` is the part of it whose status is not 2xx. `errors` are requests
 * without any response. `requests_total` also counts the warm-up's
 * responses (for CPU per request over the whole run). Exit status 0 after a
 * run, 1 on bad usage or setup failure.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
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
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
#define MAX_RESPONSE_BODY (64ULL * 1024U * 1024U)
#define MAX_RESPONSE_HEADERS (64U * 1024U)
#define RECONNECT_BACKOFF_MS 10U
#define READ_BUFFER (64U * 1024U)
#define EVENTS_MAX 256
#define TIMEOUT_SCAN_MS 100U

/* Histogram: see the comment at the top. */
#define HIST_SUB_BITS 7U
#define HIST_SUB (1U << HIST_SUB_BITS)
#define HIST_MAX_US 10000000ULL
#define HIST_BUCKETS (25U * HIST_SUB) /* covers up to 2^31 us, above HIST_MAX_US */

#define _unused_ __attribute__((unused))

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_USEC 1000ULL

typedef struct Config {
        const char *url;
        bool tls;
        char *host;        /* as connected to; no brackets for IPv6 */
        char *host_header; /* "host[:port]" */
        uint16_t port;
        char *target; /* path[?query] */
        const char *method;
        bool head;                  /* HEAD: responses have no body */
        char *headers[MAX_HEADERS]; /* "Name: value" */
        unsigned n_headers;
        bool user_host_header;
        bool user_length_header;
        char *body;
        size_t body_size;
        char *request; /* the bytes of one request, built once */
        size_t request_size;
        struct sockaddr_storage addr;
        socklen_t addr_len;
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

typedef enum ConnState {
        CONN_CLOSED,     /* waiting for retry_ns to open a new connection */
        CONN_CONNECTING, /* TCP connect in progress */
        CONN_HANDSHAKE,  /* TLS handshake in progress */
        CONN_SENDING,    /* request partly written */
        CONN_READING,    /* waiting for (the rest of) the response */
} ConnState;

typedef enum BodyMode {
        BODY_NONE,
        BODY_LENGTH,
        BODY_CHUNKED,
        BODY_UNTIL_CLOSE,
} BodyMode;

typedef enum ChunkState {
        CHUNK_SIZE,     /* reading "hex[;ext]\r\n" */
        CHUNK_DATA,     /* `remaining` bytes of data */
        CHUNK_DATA_END, /* the CRLF after the data */
        CHUNK_TRAILER,  /* trailer lines until an empty one */
} ChunkState;

/* The response being read on one connection. */
typedef struct Response {
        char *head; /* the header block as it arrives in pieces (per connection, reused) */
        size_t head_len;
        bool head_done;
        int status;
        bool close;
        BodyMode body;
        uint64_t remaining; /* BODY_LENGTH / CHUNK_DATA: bytes left */
        uint64_t body_seen;
        ChunkState chunk;
        unsigned line_len;   /* CHUNK_SIZE / CHUNK_TRAILER: bytes of the current line */
        uint64_t chunk_size; /* CHUNK_SIZE: parsed so far */
        bool chunk_ext;      /* CHUNK_SIZE: after ';' */
        bool done;
} Response;

typedef struct Conn {
        Worker *worker;
        int fd;
        SSL *ssl;
        ConnState state;
        bool want_out; /* EPOLLOUT is in the interest set */
        uint64_t sent_ns;
        uint64_t retry_ns; /* CONN_CLOSED: when to open a new connection */
        size_t sent;       /* bytes of the request written */
        Response resp;
} Conn;

struct Worker {
        const Config *cfg;
        int epfd;
        Conn *conns;
        unsigned n_conns;
        char *buf;            /* READ_BUFFER bytes: every read lands here */
        SSL_SESSION *session; /* the last session the server gave, resumed on reconnect */
        uint64_t now;
        uint64_t next_scan;
        unsigned closed; /* connections in CONN_CLOSED */
        pthread_t thread;
        int setup_error; /* -errno when the thread could not start */

        uint64_t requests_total;
        uint64_t requests;
        uint64_t non2xx;
        uint64_t errors;
        uint64_t timeouts;
        uint64_t max_us;
        uint64_t sum_us;
        uint64_t hist[HIST_BUCKETS];
};

enum {
        FAIL_SETUP,
        FAIL_CONNECT,
        FAIL_TLS,
        FAIL_IO,
        FAIL_EOF,
        FAIL_PROTOCOL,
        FAIL_TIMEOUT,
        _FAIL_MAX,
};

/* One message per kind of failure, so a misconfigured run says why at once. */
static atomic_bool reported_kind[_FAIL_MAX];
static int ssl_conn_index = -1;

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
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

        if (kind < 0 || kind >= _FAIL_MAX)
                kind = FAIL_SETUP;
        if (atomic_exchange(&reported_kind[kind], true))
                return;
        fputs("xbus-loadgen: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (further errors of this kind are only counted)\n", stderr);
}

static bool in_window(const Config *cfg, uint64_t t)
{
        return t >= cfg->measure_ns && t < cfg->deadline_ns;
}

/* ---- connections -------------------------------------------------------------------------------- */

static int conn_interest(Conn *c, bool out)
{
        struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };

        if (c->want_out == out)
                return 0;
        c->want_out = out;
        return epoll_ctl(c->worker->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0 ? -errno : 0;
}

static void conn_close(Conn *c, unsigned delay_ms)
{
        Worker *w = c->worker;

        if (c->ssl) {
                SSL_free(c->ssl);
                c->ssl = NULL;
        }
        if (c->fd >= 0) {
                close(c->fd); /* also leaves the epoll set */
                c->fd = -1;
        }
        if (c->state != CONN_CLOSED)
                w->closed++;
        c->state = CONN_CLOSED;
        c->retry_ns = w->now + (uint64_t)delay_ms * NSEC_PER_MSEC;
        if (c->retry_ns < w->next_scan)
                w->next_scan = c->retry_ns;
}

/* A request without a response: count it, say why once, and replace the connection. */
static void conn_fail(Conn *c, int kind, const char *what)
{
        Worker *w = c->worker;
        unsigned long e = ERR_peek_last_error();
        char buf[256] = "";

        if (e)
                ERR_error_string_n(e, buf, sizeof(buf));
        ERR_clear_error();
        report_once(kind, "request to %s failed: %s%s%s", w->cfg->url, what, buf[0] ? ": " : "", buf);
        if (in_window(w->cfg, w->now)) {
                w->errors++;
                if (kind == FAIL_TIMEOUT)
                        w->timeouts++;
        }
        conn_close(c, kind == FAIL_TIMEOUT ? 0 : RECONNECT_BACKOFF_MS);
}

static int on_new_session(SSL *ssl, SSL_SESSION *session)
{
        Conn *c = SSL_get_ex_data(ssl, ssl_conn_index);

        if (!c)
                return 0;
        if (c->worker->session)
                SSL_SESSION_free(c->worker->session);
        c->worker->session = session;
        return 1; /* we keep the reference */
}

static void conn_send(Conn *c);

/* TLS handshake step; on completion the first request goes out. */
static void conn_handshake(Conn *c)
{
        int r = SSL_connect(c->ssl);

        if (r == 1) {
                c->state = CONN_SENDING;
                c->sent = 0;
                conn_send(c);
                return;
        }
        switch (SSL_get_error(c->ssl, r)) {
        case SSL_ERROR_WANT_READ:
                if (conn_interest(c, false) < 0)
                        conn_fail(c, FAIL_IO, "epoll_ctl");
                return;
        case SSL_ERROR_WANT_WRITE:
                if (conn_interest(c, true) < 0)
                        conn_fail(c, FAIL_IO, "epoll_ctl");
                return;
        default:
                conn_fail(c, FAIL_TLS, "TLS handshake failed");
                return;
        }
}

static void conn_connected(Conn *c)
{
        const Config *cfg = c->worker->cfg;

        if (!cfg->tls) {
                c->state = CONN_SENDING;
                c->sent = 0;
                conn_send(c);
                return;
        }
        c->ssl = SSL_new(cfg->ssl_ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_set_ex_data(c->ssl, ssl_conn_index, c) != 1) {
                conn_fail(c, FAIL_SETUP, "cannot set up TLS");
                return;
        }
        if (cfg->cacert) {
                X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
                int ok = cfg->host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, cfg->host)
                                         : SSL_set1_host(c->ssl, cfg->host);

                if (ok != 1) {
                        conn_fail(c, FAIL_SETUP, "cannot set the name to verify");
                        return;
                }
        }
        if (!cfg->host_is_ip)
                SSL_set_tlsext_host_name(c->ssl, cfg->host);
        if (c->worker->session)
                SSL_set_session(c->ssl, c->worker->session);
        c->state = CONN_HANDSHAKE;
        conn_handshake(c);
}

static void conn_open(Conn *c)
{
        Worker *w = c->worker;
        const Config *cfg = w->cfg;
        struct epoll_event ev;
        int one = 1;

        w->closed--;
        c->fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
                c->state = CONN_CONNECTING;
                conn_fail(c, FAIL_SETUP, strerror(errno));
                return;
        }
        /* a request is one write: send it at once */
        (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->state = CONN_CONNECTING;
        c->want_out = true;
        c->sent_ns = w->now;
        c->resp.head_len = 0;
        ev = (struct epoll_event){ .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
                conn_fail(c, FAIL_SETUP, strerror(errno));
                return;
        }
        if (connect(c->fd, (const struct sockaddr *)&cfg->addr, cfg->addr_len) == 0)
                conn_connected(c);
        else if (errno != EINPROGRESS)
                conn_fail(c, FAIL_CONNECT, "connection failed (refused or unreachable)");
}

static void response_reset(Response *r)
{
        char *head = r->head;

        *r = (Response){ .head = head };
}

/* Write the rest of the request. */
static void conn_send(Conn *c)
{
        const Config *cfg = c->worker->cfg;
        const char *p = cfg->request + c->sent;
        size_t left = cfg->request_size - c->sent;

        if (c->sent == 0) {
                c->sent_ns = c->worker->now;
                response_reset(&c->resp);
        }
        while (left > 0) {
                ssize_t n;

                if (c->ssl) {
                        int r = SSL_write(c->ssl, p, left > INT_MAX ? INT_MAX : (int)left);

                        if (r <= 0) {
                                int e = SSL_get_error(c->ssl, r);

                                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                                        if (conn_interest(c, e == SSL_ERROR_WANT_WRITE) < 0)
                                                conn_fail(c, FAIL_IO, "epoll_ctl");
                                        return;
                                }
                                conn_fail(c, FAIL_IO, "TLS write failed");
                                return;
                        }
                        n = r;
                } else {
                        n = send(c->fd, p, left, MSG_NOSIGNAL);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0 && errno == EAGAIN) {
                                if (conn_interest(c, true) < 0)
                                        conn_fail(c, FAIL_IO, "epoll_ctl");
                                return;
                        }
                        if (n < 0) {
                                conn_fail(c, FAIL_IO, "write failed");
                                return;
                        }
                }
                c->sent += (size_t)n;
                p += n;
                left -= (size_t)n;
        }
        c->state = CONN_READING;
        if (conn_interest(c, false) < 0)
                conn_fail(c, FAIL_IO, "epoll_ctl");
}

/* ---- responses ---------------------------------------------------------------------------------- */

static bool header_is(const char *name, size_t len, const char *want)
{
        return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/* Does the comma-separated header value contain the token `want`? */
static bool value_has_token(const char *v, size_t len, const char *want)
{
        size_t wl = strlen(want);

        for (size_t i = 0; i + wl <= len; i++)
                if (strncasecmp(v + i, want, wl) == 0 && (i == 0 || v[i - 1] == ',' || v[i - 1] == ' ') &&
                    (i + wl == len || v[i + wl] == ',' || v[i + wl] == ' ' || v[i + wl] == ';'))
                        return true;
        return false;
}

/* Parse the status line and headers in head[0..len) (ending in CRLF CRLF). Return: 0 or -EBADMSG. */
static int response_head(Response *r, const char *head, size_t len, bool is_head)
{
        const char *p = head, *end = head + len, *eol;
        bool length_seen = false;

        if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || p[9] < '1' || p[9] > '5' || p[10] < '0' ||
            p[10] > '9' || p[11] < '0' || p[11] > '9')
                return -EBADMSG;
        r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
        r->close = p[7] == '0'; /* HTTP/1.0: closes unless it says keep-alive (not handled: reconnect) */
        eol = memchr(p, '\n', (size_t)(end - p));
        for (p = eol + 1; p < end; p = eol + 1) {
                const char *colon, *v, *ve;

                eol = memchr(p, '\n', (size_t)(end - p));
                if (!eol)
                        return -EBADMSG;
                if (eol - p <= 1) /* the empty line */
                        break;
                colon = memchr(p, ':', (size_t)(eol - p));
                if (!colon)
                        return -EBADMSG;
                v = colon + 1;
                ve = eol[-1] == '\r' ? eol - 1 : eol;
                while (v < ve && (*v == ' ' || *v == '\t'))
                        v++;
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                        ve--;
                if (header_is(p, (size_t)(colon - p), "content-length")) {
                        uint64_t n = 0;

                        if (v == ve)
                                return -EBADMSG;
                        for (const char *q = v; q < ve; q++) {
                                if (*q < '0' || *q > '9' || n > MAX_RESPONSE_BODY)
                                        return -EBADMSG;
                                n = n * 10 + (uint64_t)(*q - '0');
                        }
                        if (length_seen && n != r->remaining)
                                return -EBADMSG;
                        length_seen = true;
                        r->remaining = n;
                } else if (header_is(p, (size_t)(colon - p), "transfer-encoding")) {
                        if (value_has_token(v, (size_t)(ve - v), "chunked"))
                                r->body = BODY_CHUNKED;
                } else if (header_is(p, (size_t)(colon - p), "connection")) {
                        if (value_has_token(v, (size_t)(ve - v), "close"))
                                r->close = true;
                }
        }
        if (is_head || r->status < 200 || r->status == 204 || r->status == 304)
                r->body = BODY_NONE;
        else if (r->body == BODY_CHUNKED)
                r->remaining = 0;
        else if (length_seen)
                r->body = BODY_LENGTH;
        else
                r->body = BODY_UNTIL_CLOSE;
        if (r->remaining > MAX_RESPONSE_BODY)
                return -E2BIG;
        r->head_done = true;
        r->done = r->body == BODY_NONE || (r->body == BODY_LENGTH && r->remaining == 0);
        return 0;
}

/* Chunked body bytes. Return: bytes consumed, or -EBADMSG. */
static ssize_t response_chunked(Response *r, const char *p, size_t n)
{
        size_t i = 0;

        while (i < n && !r->done) {
                char ch = p[i];

                switch (r->chunk) {
                case CHUNK_SIZE:
                        i++;
                        if (++r->line_len > 1024)
                                return -EBADMSG;
                        if (ch == '\n') {
                                if (r->line_len < 2)
                                        return -EBADMSG;
                                r->line_len = 0;
                                r->chunk_ext = false;
                                r->remaining = r->chunk_size;
                                r->chunk_size = 0;
                                r->chunk = r->remaining ? CHUNK_DATA : CHUNK_TRAILER;
                        } else if (ch == ';' || r->chunk_ext) {
                                r->chunk_ext = true;
                        } else if (ch != '\r') {
                                int d = ch >= '0' && ch <= '9'   ? ch - '0'
                                        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                        : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                                                 : -1;

                                if (d < 0 || r->chunk_size > MAX_RESPONSE_BODY)
                                        return -EBADMSG;
                                r->chunk_size = r->chunk_size * 16 + (uint64_t)d;
                        }
                        break;
                case CHUNK_DATA: {
                        size_t take = n - i < r->remaining ? n - i : (size_t)r->remaining;

                        i += take;
                        r->remaining -= take;
                        r->body_seen += take;
                        if (r->body_seen > MAX_RESPONSE_BODY)
                                return -E2BIG;
                        if (r->remaining == 0)
                                r->chunk = CHUNK_DATA_END;
                        break;
                }
                case CHUNK_DATA_END:
                        i++;
                        if (ch == '\n')
                                r->chunk = CHUNK_SIZE;
                        else if (ch != '\r')
                                return -EBADMSG;
                        break;
                case CHUNK_TRAILER:
                        i++;
                        if (ch == '\n') {
                                if (r->line_len <= 1)
                                        r->done = true;
                                r->line_len = 0;
                        } else if (++r->line_len > MAX_RESPONSE_HEADERS) {
                                return -EBADMSG;
                        }
                        break;
                }
        }
        return (ssize_t)i;
}

/* Feed bytes of the response. Return: bytes consumed (all, unless it completed early), or -errno. */
static ssize_t response_feed(Conn *c, const char *p, size_t n)
{
        Response *r = &c->resp;
        size_t used = 0;

        if (!r->head_done) {
                const char *head = p, *end;
                size_t len;

                if (r->head_len == 0) {
                        /* the whole header block in this read (the usual case): parse in place */
                        end = memmem(p, n, "\r\n\r\n", 4);
                        if (end) {
                                len = (size_t)(end - p) + 4;
                                if (response_head(r, p, len, c->worker->cfg->head) < 0)
                                        return -EBADMSG;
                                used = len;
                        }
                }
                if (!r->head_done) {
                        size_t from = r->head_len > 3 ? r->head_len - 3 : 0;
                        size_t take = n < MAX_RESPONSE_HEADERS - r->head_len ? n : MAX_RESPONSE_HEADERS - r->head_len;

                        if (!r->head) {
                                r->head = malloc(MAX_RESPONSE_HEADERS);
                                if (!r->head)
                                        return -ENOMEM;
                        }
                        memcpy(r->head + r->head_len, p, take);
                        r->head_len += take;
                        head = r->head;
                        end = memmem(head + from, r->head_len - from, "\r\n\r\n", 4);
                        if (!end)
                                return take < n ? -E2BIG : (ssize_t)n;
                        len = (size_t)(end - head) + 4;
                        if (response_head(r, head, len, c->worker->cfg->head) < 0)
                                return -EBADMSG;
                        /* what came after the header block in this read */
                        used = take - (r->head_len - len);
                        r->head_len = 0;
                }
        }
        if (r->done || used == n)
                return (ssize_t)used;
        p += used;
        n -= used;
        switch (r->body) {
        case BODY_LENGTH: {
                size_t take = n < r->remaining ? n : (size_t)r->remaining;

                r->remaining -= take;
                r->done = r->remaining == 0;
                return (ssize_t)(used + take);
        }
        case BODY_CHUNKED: {
                ssize_t k = response_chunked(r, p, n);

                return k < 0 ? k : (ssize_t)used + k;
        }
        case BODY_UNTIL_CLOSE:
                r->body_seen += n;
                return r->body_seen > MAX_RESPONSE_BODY ? -E2BIG : (ssize_t)(used + n);
        default:
                return (ssize_t)used;
        }
}

static void conn_complete(Conn *c)
{
        Worker *w = c->worker;
        uint64_t t = w->now, us;

        w->requests_total++;
        if (in_window(w->cfg, t)) {
                us = (t - c->sent_ns + NSEC_PER_USEC / 2) / NSEC_PER_USEC;
                w->requests++;
                if (c->resp.status < 200 || c->resp.status > 299)
                        w->non2xx++;
                w->hist[hist_index(us)]++;
                w->sum_us += us;
                if (us > w->max_us)
                        w->max_us = us;
        }
        if (c->resp.close) {
                /* the server closes: a fresh connection, at once */
                conn_close(c, 0);
                return;
        }
        if (t >= w->cfg->deadline_ns)
                return;
        c->state = CONN_SENDING;
        c->sent = 0;
        conn_send(c);
}

/* Read what is there; complete the response when it is whole. */
static void conn_read(Conn *c)
{
        Worker *w = c->worker;

        for (;;) {
                ssize_t n, k;

                if (c->ssl) {
                        int r = SSL_read(c->ssl, w->buf, READ_BUFFER);

                        if (r <= 0) {
                                int e = SSL_get_error(c->ssl, r);

                                if (e == SSL_ERROR_WANT_READ)
                                        return;
                                if (e == SSL_ERROR_WANT_WRITE) {
                                        if (conn_interest(c, true) < 0)
                                                conn_fail(c, FAIL_IO, "epoll_ctl");
                                        return;
                                }
                                n = e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
                                            ? 0
                                            : -1;
                        } else {
                                n = r;
                        }
                } else {
                        n = recv(c->fd, w->buf, READ_BUFFER, 0);
                        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                                return;
                }
                if (n < 0) {
                        conn_fail(c, FAIL_IO, "read failed (connection reset?)");
                        return;
                }
                if (n == 0) {
                        if (c->resp.head_done && c->resp.body == BODY_UNTIL_CLOSE) {
                                c->resp.close = true;
                                conn_complete(c);
                        } else {
                                conn_fail(c, FAIL_EOF, "connection closed by the server");
                        }
                        return;
                }
                if (c->state != CONN_READING) {
                        conn_fail(c, FAIL_PROTOCOL, "data before the request was sent");
                        return;
                }
                k = response_feed(c, w->buf, (size_t)n);
                if (k < 0) {
                        conn_fail(c, FAIL_PROTOCOL, k == -E2BIG ? "response too long" : "malformed response");
                        return;
                }
                if (c->resp.done) {
                        if (k != n) {
                                conn_fail(c, FAIL_PROTOCOL, "more bytes than the response");
                                return;
                        }
                        /* closed loop: nothing more can come before the next request */
                        conn_complete(c);
                        return;
                }
        }
}

static void conn_event(Conn *c, uint32_t events)
{
        switch (c->state) {
        case CONN_CONNECTING: {
                int err = 0;
                socklen_t len = sizeof(err);

                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
                        conn_fail(c, FAIL_CONNECT, "connection failed (refused or unreachable)");
                        return;
                }
                conn_connected(c);
                return;
        }
        case CONN_HANDSHAKE:
                conn_handshake(c);
                return;
        case CONN_SENDING:
                if (events & (EPOLLOUT | EPOLLIN))
                        conn_send(c);
                return;
        case CONN_READING:
                if (c->ssl && c->want_out && (events & EPOLLOUT) && conn_interest(c, false) < 0) {
                        conn_fail(c, FAIL_IO, "epoll_ctl");
                        return;
                }
                conn_read(c);
                return;
        default:
                return;
        }
}

/* Every 100 ms (10 ms while a connection waits to be replaced): timeouts and reconnects. */
static void worker_scan(Worker *w)
{
        const Config *cfg = w->cfg;
        uint64_t limit = (uint64_t)cfg->timeout_s * NSEC_PER_SEC;

        for (unsigned i = 0; i < w->n_conns; i++) {
                Conn *c = &w->conns[i];

                if (c->state == CONN_CLOSED) {
                        if (c->retry_ns <= w->now && w->now < cfg->deadline_ns)
                                conn_open(c);
                } else if (w->now - c->sent_ns > limit) {
                        char what[64];

                        snprintf(what, sizeof(what), "no answer after %u s", cfg->timeout_s);
                        conn_fail(c, FAIL_TIMEOUT, what);
                }
        }
        w->next_scan = w->now + (w->closed ? RECONNECT_BACKOFF_MS : TIMEOUT_SCAN_MS) * NSEC_PER_MSEC;
}

static void worker_teardown(Worker *w)
{
        for (unsigned i = 0; w->conns && i < w->n_conns; i++) {
                conn_close(&w->conns[i], 0);
                free(w->conns[i].resp.head);
        }
        free(w->conns);
        w->conns = NULL;
        if (w->session)
                SSL_SESSION_free(w->session);
        w->session = NULL;
        free(w->buf);
        w->buf = NULL;
        if (w->epfd >= 0)
                close(w->epfd);
        w->epfd = -1;
}

static void *worker_main(void *userdata)
{
        Worker *w = userdata;
        const Config *cfg = w->cfg;
        struct epoll_event events[EVENTS_MAX];

        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        w->conns = calloc(w->n_conns, sizeof(Conn));
        w->buf = malloc(READ_BUFFER);
        if (w->epfd < 0 || !w->conns || !w->buf) {
                w->setup_error = -ENOMEM;
                goto finish;
        }
        w->now = now_ns();
        for (unsigned i = 0; i < w->n_conns; i++) {
                Conn *c = &w->conns[i];

                c->worker = w;
                c->fd = -1;
                c->state = CONN_CLOSED;
                w->closed++;
                conn_open(c);
        }
        w->next_scan = w->now + TIMEOUT_SCAN_MS * NSEC_PER_MSEC;

        while (w->now < cfg->deadline_ns) {
                uint64_t until = w->next_scan < cfg->deadline_ns ? w->next_scan : cfg->deadline_ns;
                int timeout_ms = until > w->now ? (int)((until - w->now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC) : 0;
                int n = epoll_wait(w->epfd, events, EVENTS_MAX, timeout_ms);

                if (n < 0 && errno != EINTR) {
                        w->setup_error = -errno;
                        break;
                }
                w->now = now_ns();
                for (int i = 0; i < n; i++) {
                        Conn *c = events[i].data.ptr;

                        if (c->fd >= 0)
                                conn_event(c, events[i].events);
                }
                if (w->now >= w->next_scan)
                        worker_scan(w);
        }

finish:
        worker_teardown(w);
        return NULL;
}

/* ---- the command line ------------------------------------------------------------------------- */

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

static int parse_method(const char *s, Config *cfg)
{
        static const char *const table[] = { "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH" };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
                if (strcasecmp(s, table[i]) == 0) {
                        cfg->method = table[i];
                        cfg->head = strcmp(table[i], "HEAD") == 0;
                        return 0;
                }
        return -EINVAL;
}

static bool token_char(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* "Name: value" -> cfg->headers[], normalised to "Name: value". */
static int parse_header(Config *cfg, const char *s)
{
        const char *colon, *v, *end;
        char *h;

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
        if (asprintf(&h, "%.*s: %.*s", (int)(colon - s), s, (int)(end - v), v) < 0)
                return -ENOMEM;
        if ((size_t)(colon - s) == 4 && strncasecmp(s, "Host", 4) == 0)
                cfg->user_host_header = true;
        if ((size_t)(colon - s) == 14 && strncasecmp(s, "Content-Length", 14) == 0)
                cfg->user_length_header = true;
        cfg->headers[cfg->n_headers++] = h;
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
        return 0;
}

/* scheme://host[:port][/path][?query][#fragment]; no user info. */
static int parse_url(Config *cfg, const char *url)
{
        const char *p, *host, *host_end, *auth_end, *path;
        struct in6_addr a6;
        struct in_addr a4;
        unsigned long port;
        size_t plen;
        int r;

        if (strlen(url) > MAX_URL_LEN)
                return -E2BIG;
        if (strncasecmp(url, "https://", 8) == 0) {
                cfg->tls = true;
                p = url + 8;
        } else if (strncasecmp(url, "http://", 7) == 0) {
                cfg->tls = false;
                p = url + 7;
        } else {
                return -EPROTONOSUPPORT;
        }
        auth_end = p + strcspn(p, "/?#");
        if (memchr(p, '@', (size_t)(auth_end - p)))
                return -EINVAL;
        if (*p == '[') {
                host = p + 1;
                host_end = memchr(host, ']', (size_t)(auth_end - host));
                if (!host_end)
                        return -EINVAL;
                p = host_end + 1;
        } else {
                host = p;
                host_end = memchr(p, ':', (size_t)(auth_end - p));
                if (!host_end)
                        host_end = auth_end;
                p = host_end;
        }
        if (host_end == host)
                return -EINVAL;
        port = cfg->tls ? 443 : 80;
        if (p < auth_end) {
                char *end;

                if (*p != ':' || p + 1 == auth_end)
                        return -EINVAL;
                errno = 0;
                port = strtoul(p + 1, &end, 10);
                if (errno || end != auth_end || port == 0 || port > 65535)
                        return -ERANGE;
        }
        cfg->port = (uint16_t)port;
        cfg->host = strndup(host, (size_t)(host_end - host));
        if (!cfg->host)
                return -ENOMEM;
        cfg->host_is_ip = inet_pton(AF_INET, cfg->host, &a4) == 1 || inet_pton(AF_INET6, cfg->host, &a6) == 1;

        path = auth_end;
        plen = strcspn(path, "#");
        if (plen == 0 || path[0] == '?')
                r = asprintf(&cfg->target, "/%.*s", (int)plen, path);
        else
                r = asprintf(&cfg->target, "%.*s", (int)plen, path);
        if (r < 0) {
                cfg->target = NULL;
                return -ENOMEM;
        }
        if (inet_pton(AF_INET6, cfg->host, &a6) == 1)
                r = asprintf(&cfg->host_header, "[%s]:%u", cfg->host, cfg->port);
        else
                r = asprintf(&cfg->host_header, "%s:%u", cfg->host, cfg->port);
        if (r < 0) {
                cfg->host_header = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int resolve(Config *cfg)
{
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
        char port[8];
        int r;

        snprintf(port, sizeof(port), "%u", cfg->port);
        r = getaddrinfo(cfg->host, port, &hints, &res);
        if (r != 0) {
                fprintf(stderr, "xbus-loadgen: cannot resolve '%s': %s\n", cfg->host, gai_strerror(r));
                return -EHOSTUNREACH;
        }
        memcpy(&cfg->addr, res->ai_addr, res->ai_addrlen);
        cfg->addr_len = res->ai_addrlen;
        freeaddrinfo(res);
        return 0;
}

/* The bytes of one request, written as they are for every request. */
static int request_build(Config *cfg)
{
        size_t size = strlen(cfg->method) + strlen(cfg->target) + strlen(cfg->host_header) + 64 + cfg->body_size;
        char *p;

        for (unsigned i = 0; i < cfg->n_headers; i++)
                size += strlen(cfg->headers[i]) + 2;
        cfg->request = p = malloc(size);
        if (!p)
                return -ENOMEM;
        p += sprintf(p, "%s %s HTTP/1.1\r\n", cfg->method, cfg->target);
        if (!cfg->user_host_header)
                p += sprintf(p, "Host: %s\r\n", cfg->host_header);
        for (unsigned i = 0; i < cfg->n_headers; i++)
                p += sprintf(p, "%s\r\n", cfg->headers[i]);
        if (cfg->body && !cfg->user_length_header)
                p += sprintf(p, "Content-Length: %zu\r\n", cfg->body_size);
        p += sprintf(p, "\r\n");
        if (cfg->body) {
                memcpy(p, cfg->body, cfg->body_size);
                p += cfg->body_size;
        }
        cfg->request_size = (size_t)(p - cfg->request);
        return 0;
}

static int ssl_setup(Config *cfg)
{
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

        if (!ctx)
                return -ENOMEM;
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        /* read what the socket has in one read, not a record header first */
        SSL_CTX_set_read_ahead(ctx, 1);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, on_new_session);
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
        ssl_conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        if (ssl_conn_index < 0)
                goto fail;
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
                "(then mean_ms timeouts duration_s connections threads requests_total).\n",
                MAX_CONNECTIONS, MAX_THREADS, MAX_DURATION_S, MAX_WARMUP_S, MAX_TIMEOUT_S, MAX_HEADERS, MAX_BODY_FILE);
}

static void config_free(Config *cfg)
{
        for (unsigned i = 0; i < cfg->n_headers; i++)
                free(cfg->headers[i]);
        free(cfg->body);
        free(cfg->host);
        free(cfg->host_header);
        free(cfg->target);
        free(cfg->request);
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
                        r = parse_method(optarg, cfg);
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
                .method = "GET",
                .connections = 32,
                .threads = 1,
                .duration_s = 10,
                .warmup_s = 1,
                .timeout_s = 10,
        };
        Worker *workers = NULL;
        uint64_t requests = 0, requests_total = 0, errors = 0, non2xx = 0, timeouts = 0, max_us = 0, sum_us = 0;
        static uint64_t hist[HIST_BUCKETS];
        unsigned started = 0;
        int r, ret = EXIT_FAILURE;

        signal(SIGPIPE, SIG_IGN);

        if (parse_argv(&cfg, argc, argv) < 0)
                goto finish;
        if (resolve(&cfg) < 0 || request_build(&cfg) < 0)
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
                w->epfd = -1;
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
                requests_total += w->requests_total;
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
               " mean_ms=%.3f timeouts=%" PRIu64 " duration_s=%u connections=%u threads=%u requests_total=%" PRIu64
               "\n",
               requests, errors, non2xx, (double)requests / (double)cfg.duration_s,
               hist_percentile_ms(hist, requests, max_us, 500), hist_percentile_ms(hist, requests, max_us, 900),
               hist_percentile_ms(hist, requests, max_us, 990), (double)max_us / 1000.0,
               requests ? (double)sum_us / (double)requests / 1000.0 : 0.0, timeouts, cfg.duration_s, cfg.connections,
               cfg.threads, requests_total);
        fflush(stdout);
        ret = EXIT_SUCCESS;

finish:
        free(workers);
        config_free(&cfg);
        return ret;
}
