/* frontdoor.c: HTTPS workers and the /r1 exchange pipeline
 *
 * The life of one exchange, all on the worker thread that accepted it:
 *
 *   on_request      parse, identify (TLS), decide (policy.c)
 *     refused   ->  log_entry -> exlog_append ............ (log writer thread)
 *     allowed   ->  broker_submit ........................ (broker thread -> adapter)
 *   on_mailbox      BusRequest back: the provider's answer or a bus error
 *                   -> log_entry -> exlog_append ......... (log writer thread)
 *   on_mailbox      ExlogRecord back: the entry is durable (or the log failed)
 *                   -> sign the receipt, send the response
 *
 * Nothing here blocks: the worker's event loop also serves every other
 * connection while an exchange waits for its adapter or for the fsync. Each
 * step that can wait has a bound (service timeout, log queue capacity), so
 * every accepted request gets exactly one answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "consent/consent.h"
#include "crypto/hash.h"
#include "crypto/receipt.h"
#include "http/endpoint.h"
#include "http/frontdoor.h"
#include "policy/policy.h"
#include "policy/problem.h"
#include "soap/soap-dsig.h"
#include "soap/soap.h"
#include "util/error.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"
#include "util/time-util.h"
#include "validate/jsonschema.h"

enum {
        ITEM_BUS = 1,
        ITEM_LOG = 2,
};

#define MAX_HEADER_VALUE 256
#define MAX_CONSENT_HEADER 8192

typedef struct Worker Worker;

struct FrontDoor {
        FrontDoorOptions opts;
        Node *node;
        SSL_CTX *ssl;
        Worker *workers;
        unsigned n_workers;
        int port;
};

struct Worker {
        FrontDoor *fd;
        unsigned index;
        pthread_t thread;
        bool started;
        struct event_base *base;
        struct evhttp *http;
        struct evhttp_bound_socket *bound;
        struct event *mailbox_event, *stop_event;
        Mailbox mailbox;
        unsigned connections, max_connections;
        bool listener_paused, stopping;
        unsigned in_flight;
        uint64_t id_counter;
        uint8_t id_prefix[6];
};

typedef struct Exchange {
        Worker *worker;
        struct evhttp_request *req;
        Registry *registry; /* the registry this exchange was decided under */
        uint64_t start_usec;
        PolicyDecision decision;
        const char *method;
        bool soap;              /* a SOAP 1.1 exchange on POST / */
        SoapRequest *soap_req;  /* parsed envelope (SOAP), owns the payload */
        char content_type[129]; /* of the request body, for the adapter */
        char xroad_id[130];
        char *user_id, *issue, *purpose, *subject_raw, *consent;
        char consent_id[CONSENT_ID_MAX]; /* the consent used (never the artefact text) */
        char subject[PSEUDONYM_HEX_LEN + 1];
        char query[2048];
        const uint8_t *body; /* points into the request's input buffer */
        size_t body_size;
        char request_hash[HASH_SHA256_HEX_LEN + 1];
        char response_hash[HASH_SHA256_HEX_LEN + 1];
        /* the outcome */
        int status;
        const char *error; /* problem type, or NULL */
        char detail[320];
        json_t *errors; /* schema errors for request_invalid, or NULL */
        char *meta;
        BusRequest bus;
        bool routed;
        char *log_body;
        char *log_alt_body; /* the entry if the consent turns out used up at commit */
        ExlogRecord log;
} Exchange;

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static int ssl_conn_index = -1;
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

static void evthread_setup(void)
{
        evthread_use_pthreads();
}

/* --- connections: counted through the SSL object's lifetime --------------- */

static void worker_connection_gone(Worker *w)
{
        w->connections--;
        atomic_fetch_sub(&w->fd->node->connections, 1);
        if (w->listener_paused && w->connections < w->max_connections && w->bound && !w->stopping) {
                evconnlistener_enable(evhttp_bound_socket_get_listener(w->bound));
                w->listener_paused = false;
        }
}

static void ssl_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
        if (ptr)
                worker_connection_gone(ptr);
}

static struct bufferevent *worker_bevcb(struct event_base *base, void *userdata)
{
        Worker *w = userdata;
        struct bufferevent *bev;
        SSL *ssl;

        ssl = SSL_new(w->fd->ssl);
        if (!ssl)
                return NULL;
        bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        if (!bev) {
                SSL_free(ssl);
                return NULL;
        }
        SSL_set_ex_data(ssl, ssl_conn_index, w);
        w->connections++;
        atomic_fetch_add(&w->fd->node->connections, 1);
        if (w->connections >= w->max_connections && w->bound && !w->listener_paused) {
                /* at the limit: leave further connections in the kernel's backlog */
                evconnlistener_disable(evhttp_bound_socket_get_listener(w->bound));
                w->listener_paused = true;
        }
        return bev;
}

/* Client certificates are verified by OpenSSL, but a failure does not abort
 * the handshake: the request is then refused at the HTTP layer with a
 * problem+json answer and an exchange log entry, which a TLS alert could not
 * give the client or the auditors. */
static int verify_accept(int preverify_ok, X509_STORE_CTX *ctx)
{
        return 1;
}

/* --- replies ------------------------------------------------------------- */

static void exchange_free(Exchange *ex)
{
        if (!ex)
                return;
        registry_unref(ex->registry);
        free(ex->user_id);
        free(ex->issue);
        free(ex->purpose);
        free(ex->subject_raw);
        free(ex->consent);
        json_decref(ex->errors);
        soap_request_free(ex->soap_req);
        free(ex->meta);
        free(ex->bus.response);
        free(ex->log_body);
        free(ex->log_alt_body);
        free(ex);
}

static void add_common_headers(Exchange *ex, struct evkeyvalq *h)
{
        evhttp_add_header(h, "X-Road-Id", ex->xroad_id);
        if (ex->decision.service)
                evhttp_add_header(h, "X-Road-Service", ex->decision.service->id);
        if (ex->request_hash[0])
                evhttp_add_header(h, "X-Road-Request-Hash", ex->request_hash);
        evhttp_add_header(h, "Cache-Control", "no-store");
}

static void count_status(Node *node, int status, uint64_t start)
{
        uint64_t us = now_usec(CLOCK_MONOTONIC) - start;
        unsigned b = 0;

        if (status >= 100 && status < 600)
                atomic_fetch_add(&node->counters.by_status[status / 100], 1);
        /* bucket 0: <= 250 us; bucket k: <= 250 us * 2^k */
        while (b < 15 && us > (250ULL << b))
                b++;
        atomic_fetch_add(&node->counters.latency_buckets[b], 1);
}

static void send_fault(struct evhttp_request *req, const char *type, const char *detail, Exchange *ex)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        struct evbuffer *buf = evbuffer_new();
        char *body = NULL;
        size_t size = 0;

        evhttp_add_header(h, "Content-Type", "text/xml; charset=utf-8");
        evhttp_add_header(h, "X-Road-Error", problem_lookup(type)->type);
        add_common_headers(ex, h);
        if (soap_fault_build(type, detail, ex->xroad_id, ex->soap_req, &body, &size) == 0 && buf)
                evbuffer_add(buf, body, size);
        evhttp_send_reply(req, SOAP_FAULT_HTTP_STATUS, "Internal Server Error", buf);
        if (buf)
                evbuffer_free(buf);
        free(body);
}

static void send_problem(struct evhttp_request *req, const char *type, const char *detail, const char *instance,
                         Exchange *ex)
{
        if (ex && ex->soap) {
                send_fault(req, type, detail, ex);
                return;
        }

        const ProblemType *p = problem_lookup(type);
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        struct evbuffer *buf = evbuffer_new();
        char *body = problem_render_errors(type, detail, instance, ex ? ex->xroad_id : NULL, ex ? ex->errors : NULL);

        evhttp_add_header(h, "Content-Type", "application/problem+json");
        evhttp_add_header(h, "X-Road-Error", p->type);
        if (ex)
                add_common_headers(ex, h);
        if (buf && body)
                evbuffer_add(buf, body, strlen(body));
        evhttp_send_reply(req, p->status, p->title, buf);
        if (buf)
                evbuffer_free(buf);
        free(body);
}

/* The exchange was answered: free it, and let a stopping worker finish when it was the last. */
static void exchange_done(Exchange *ex)
{
        Worker *w = ex->worker;

        w->in_flight--;
        exchange_free(ex);
        if (w->stopping && w->in_flight == 0)
                event_base_loopbreak(w->base);
}

/* The entry is durable (or the log failed): answer the client now. */
static void exchange_respond(Exchange *ex)
{
        Worker *w = ex->worker;
        Node *node = w->fd->node;
        struct evkeyvalq *h = evhttp_request_get_output_headers(ex->req);
        char seqbuf[32], t[RFC3339_MAX];
        int status;

        if (ex->log.result < 0) {
                /* Not logged means not performed: the provider's answer is withheld. */
                atomic_fetch_add(&node->counters.log_failures, 1);
                log_error_errno(ex->log.result, "Exchange log write failed for \"%s\": %m", ex->xroad_id);
                send_problem(ex->req, "log_unavailable", "the exchange could not be recorded; retry later", NULL, ex);
                status = 503;
                goto done;
        }
        snprintf(seqbuf, sizeof(seqbuf), "%" PRIu64, ex->log.seq);
        evhttp_add_header(h, "X-Bus-Log-Seq", seqbuf);
        if (ex->log.hook_result > 0) {
                /* The consent was used up (or revoked) by the time this exchange was recorded:
                 * the entry says so, and the provider's answer is withheld. */
                ex->error = "consent_invalid";
                snprintf(ex->detail, sizeof(ex->detail), "consent %s: %s", ex->consent_id,
                         consent_reason(ex->log.hook_result));
        }
        if (ex->error) {
                send_problem(ex->req, ex->error, ex->detail, NULL, ex);
                status = problem_lookup(ex->error)->status;
                goto done;
        }

        {
                struct evbuffer *buf = evbuffer_new();
                char *jws = NULL;
                Receipt rc = {
                        .seq = ex->log.seq,
                        .time = format_rfc3339(ex->log.time_usec, t),
                        .xroad_id = ex->xroad_id,
                        .client = ex->decision.client->id,
                        .service = ex->decision.service->id,
                        .request_hash = ex->request_hash,
                        .response_hash = ex->response_hash,
                        .subject = ex->subject[0] ? ex->subject : NULL,
                        .purpose = ex->purpose,
                        .basis = ex->decision.basis,
                };

                if (ex->status >= 200 && ex->status < 300) {
                        int r = receipt_sign(node->signer, &rc, &jws);
                        if (r < 0) {
                                log_error_errno(r, "Signing the receipt for \"%s\" failed: %m", ex->xroad_id);
                                evbuffer_free(buf);
                                send_problem(ex->req, "internal_error", "the receipt could not be signed", NULL, ex);
                                status = 500;
                                goto done;
                        }
                        evhttp_add_header(h, "X-Bus-Receipt", jws);
                        atomic_fetch_add(&node->counters.delivered, 1);
                        free(jws);
                }
                add_common_headers(ex, h);
                evhttp_add_header(h, "X-Bus-Log-Time", t);
                evhttp_add_header(h, "Content-Type",
                                  ex->bus.content_type[0] ? ex->bus.content_type : "application/json");
                if (buf && ex->bus.response_size)
                        evbuffer_add(buf, ex->bus.response, ex->bus.response_size);
                evhttp_send_reply(ex->req, ex->status, NULL, buf);
                status = ex->status;
                if (buf)
                        evbuffer_free(buf);
        }
done:
        count_status(node, status, ex->start_usec);
        exchange_done(ex);
}

/* --- the exchange log entry ---------------------------------------------- */

static json_t *jstr(const char *s)
{
        json_t *j = s ? json_string(s) : NULL;
        return j ? j : json_null();
}

static int consent_hook(void *data, MDB_txn *txn, uint64_t now)
{
        Exchange *ex = data;

        return consent_use(ex->worker->fd->node->consents, txn, ex->consent_id, now);
}

/* Render the entry's fields; `refused_reason` > 0 renders the consent refusal variant. */
static char *render_entry(Exchange *ex, int refused_reason)
{
        const PolicyDecision *d = &ex->decision;
        bool refused = refused_reason > 0;
        json_t *e;
        char *text;

        e = json_object();
        if (!e)
                return NULL;
        json_object_set_new(e, "xroad_id", jstr(ex->xroad_id));
        json_object_set_new(e, "client", jstr(d->client ? d->client->id : NULL));
        json_object_set_new(e, "service", jstr(d->service_id[0] ? d->service_id : NULL));
        json_object_set_new(e, "method", jstr(ex->method));
        json_object_set_new(e, "path", jstr(d->service ? d->path : NULL));
        json_object_set_new(e, "user_id", jstr(ex->user_id));
        json_object_set_new(e, "issue", jstr(ex->issue));
        json_object_set_new(e, "subject", jstr(ex->subject[0] ? ex->subject : NULL));
        json_object_set_new(e, "purpose", jstr(ex->purpose));
        json_object_set_new(e, "basis", jstr(d->basis));
        json_object_set_new(e, "right", jstr(d->right ? d->right->id : NULL));
        json_object_set_new(e, "legal_reference", jstr(d->right ? d->right->legal_reference : NULL));
        /* the consent's id, never an artefact's text (which names the person) */
        json_object_set_new(e, "consent",
                            jstr(ex->consent_id[0]                              ? ex->consent_id
                                 : ex->consent && consent_valid_id(ex->consent) ? ex->consent
                                 : ex->consent                                  ? "(artefact)"
                                                                                : NULL));
        json_object_set_new(e, "decision", json_string(d->type || refused ? "deny" : "allow"));
        json_object_set_new(e, "status", json_integer(refused ? 403 : ex->status));
        json_object_set_new(e, "error", jstr(refused ? "consent_invalid" : ex->error));
        if (refused)
                json_object_set_new(e, "reason", json_string(consent_reason(refused_reason)));
        json_object_set_new(e, "request_hash", jstr(ex->request_hash[0] ? ex->request_hash : NULL));
        json_object_set_new(e, "request_size", json_integer((json_int_t)ex->body_size));
        json_object_set_new(e, "response_hash", jstr(!refused && ex->response_hash[0] ? ex->response_hash : NULL));
        json_object_set_new(e, "response_size", json_integer(refused ? 0 : (json_int_t)ex->bus.response_size));
        json_object_set_new(e, "duration_us", json_integer((json_int_t)(now_usec(CLOCK_MONOTONIC) - ex->start_usec)));
        text = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(e);
        return text;
}

/* Writer thread, while the record is away from its worker: the refusal's entry. */
static const char *consent_refusal_entry(void *data, int reason, size_t *ret_size)
{
        Exchange *ex = data;

        free(ex->log_alt_body);
        ex->log_alt_body = render_entry(ex, reason);
        *ret_size = ex->log_alt_body ? strlen(ex->log_alt_body) : 0;
        return ex->log_alt_body;
}

static void exchange_log(Exchange *ex)
{
        Worker *w = ex->worker;
        Node *node = w->fd->node;
        bool use_consent = ex->consent_id[0] && !ex->error && ex->status >= 200 && ex->status < 300;
        int r;

        ex->log_body = render_entry(ex, 0);
        if (!ex->log_body)
                goto fail;
        ex->log = (ExlogRecord){
                .item.kind = ITEM_LOG,
                .reply_to = &w->mailbox,
                .body = ex->log_body,
                .body_size = strlen(ex->log_body),
        };
        if (use_consent) {
                /* Count the use in the entry's own transaction; if the consent was used up
                 * (or revoked, or expired) meanwhile, the writer stores the refusal instead. */
                ex->log.hook = consent_hook;
                ex->log.alt_body = consent_refusal_entry;
                ex->log.hook_data = ex;
        }
        memcpy(ex->log.subject, ex->subject, sizeof(ex->subject));
        r = exlog_append(node->log, &ex->log);
        if (r == 0)
                return;
        if (r == -EAGAIN) {
                /* Not logged, so not performed: refuse outright. */
                ex->log.result = 0;
                ex->error = "bus_busy";
                snprintf(ex->detail, sizeof(ex->detail), "the exchange log is saturated; retry later");
                send_problem(ex->req, "bus_busy", ex->detail, NULL, ex);
                count_status(node, 503, ex->start_usec);
                exchange_done(ex);
                return;
        }
fail:
        ex->log.result = -ENOMEM;
        exchange_respond(ex);
}

/* --- payload validation -------------------------------------------------- */

static json_t *schema_error(const char *instance, const char *keyword, const char *message)
{
        return json_pack("{s:s,s:s,s:s}", "instance", instance, "keyword", keyword, "message", message);
}

/*
 * validate_payload(): parse `data` as JSON and check it against `schema`
 * (NULL: parse only). With ret_doc, a valid document is handed to the caller.
 * Return: 0 valid, 1 invalid (*ret_errors: a JSON array for the client), or
 * -ENOMEM.
 */
static int validate_payload(const JsonSchema *schema, const void *data, size_t size, json_t **ret_errors,
                            json_t **ret_doc)
{
        JsonSchemaErrors errs;
        json_error_t jerr;
        json_t *doc, *list;
        int r;

        doc = size ? json_loadb(data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr) : NULL;
        if (!doc) {
                char msg[200];
                if (size)
                        snprintf(msg, sizeof(msg), "not JSON: line %d, column %d: %s", jerr.line, jerr.column,
                                 jerr.text);
                else
                        snprintf(msg, sizeof(msg), "a JSON document is required");
                list = json_array();
                if (!list)
                        return -ENOMEM;
                json_array_append_new(list, schema_error("", "", msg));
                *ret_errors = list;
                return 1;
        }
        if (!schema) {
                /* parse only: the valid path allocates nothing else */
                if (ret_doc)
                        *ret_doc = doc;
                else
                        json_decref(doc);
                return 0;
        }
        json_schema_errors_init(&errs, 16);
        r = json_schema_validate(schema, doc, &errs);
        if (r == 0 && ret_doc)
                *ret_doc = doc;
        else
                json_decref(doc);
        if (r == 0 || r == -ENOMEM) {
                json_schema_errors_clear(&errs);
                return r;
        }
        list = json_array();
        if (!list) {
                json_schema_errors_clear(&errs);
                return -ENOMEM;
        }
        for (size_t i = 0; i < errs.n; i++) {
                json_t *e = schema_error(errs.items[i].instance_location, errs.items[i].keyword_location,
                                         errs.items[i].message);
                if (e)
                        json_array_append_new(list, e);
        }
        if (r < 0 && errs.n == 0)
                json_array_append_new(list, schema_error("", "", "the document exceeds the validation limits"));
        json_schema_errors_clear(&errs);
        *ret_errors = list;
        return 1;
}

/* --- data minimisation ---------------------------------------------------- */

/* The value at JSON pointer `ptr` (RFC 6901, object members and array indexes), or NULL. */
static json_t *pointer_get(json_t *doc, const char *ptr, bool create_in, json_t *out, json_t **ret_parent, char *last,
                           size_t last_size)
{
        json_t *cur = doc, *ocur = out;
        const char *p = ptr;

        while (*p == '/') {
                char seg[256];
                size_t n = 0;

                for (p++; *p && *p != '/' && n < sizeof(seg) - 1; p++) {
                        if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
                                seg[n++] = p[1] == '0' ? '~' : '/';
                                p++;
                        } else
                                seg[n++] = *p;
                }
                seg[n] = 0;
                if (json_is_object(cur))
                        cur = json_object_get(cur, seg);
                else
                        return NULL; /* only object members are selected; arrays are kept whole */
                if (!cur)
                        return NULL;
                if (create_in && *p == '/') {
                        json_t *next = json_object_get(ocur, seg);
                        if (!next) {
                                next = json_object();
                                if (!next || json_object_set_new(ocur, seg, next) < 0)
                                        return NULL;
                        }
                        ocur = next;
                } else if (!*p) {
                        snprintf(last, last_size, "%s", seg);
                        *ret_parent = ocur;
                }
        }
        return cur;
}

/*
 * minimise(): replace the provider's answer with only the members the
 * access right lists (JSON pointers to object members; a selected array or
 * object is kept whole). The receipt and the log then describe what was
 * delivered. Return: 0, or -ENOMEM / -EINVAL (the answer is withheld).
 */
static int minimise(Exchange *ex, json_t *doc, char **fields)
{
        json_t *out;
        char *text;

        if (!json_is_object(doc))
                return -EINVAL;
        out = json_object();
        if (!out)
                return -ENOMEM;
        for (char **f = fields; *f; f++) {
                json_t *parent = NULL, *v;
                char last[256] = "";

                v = pointer_get(doc, *f, true, out, &parent, last, sizeof(last));
                if (v && parent && json_object_set(parent, last, v) < 0) {
                        json_decref(out);
                        return -ENOMEM;
                }
        }
        text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(out);
        if (!text)
                return -ENOMEM;
        free(ex->bus.response);
        ex->bus.response = text;
        ex->bus.response_size = strlen(text);
        return 0;
}

/* --- the provider's answer ----------------------------------------------- */

/*
 * The provider's SOAP payload: checked against the service's response XSD and
 * wrapped in the answer envelope, signed by the node, before the log entry is
 * written, so that the logged hash is that of the exact bytes delivered.
 */
static void exchange_soap_answer(Exchange *ex)
{
        Node *node = ex->worker->fd->node;
        uint8_t digest[HASH_SHA256_LEN];
        char *env = NULL, detail[256] = "";
        const char *type = NULL;
        size_t size = 0;
        int r;

        ex->status = ex->bus.status;
        if (ex->status < 200 || ex->status >= 300) {
                /* the provider's own refusal, told to a SOAP client as a Fault */
                ex->error = ex->status == 404 ? "not_found" : "provider_error";
                snprintf(ex->detail, sizeof(ex->detail), "the provider answered %d", ex->status);
        } else {
                SoapResponseOptions o = {
                        .schema = ex->decision.service->response_xsd,
                        .signer = node->soap_signer,
                };
                r = soap_response_build(ex->soap_req, ex->bus.response, ex->bus.response_size, &o, &env, &size, &type,
                                        detail, sizeof(detail));
                if (r == 0) {
                        free(ex->bus.response);
                        ex->bus.response = env;
                        ex->bus.response_size = size;
                        snprintf(ex->bus.content_type, sizeof(ex->bus.content_type), "text/xml; charset=utf-8");
                        hash_sha256(env, size, digest);
                        hex_encode(digest, sizeof(digest), ex->response_hash);
                        return;
                }
                log_warning("SOAP answer of \"%s\" for \"%s\" withheld: %s", ex->decision.service->id, ex->xroad_id,
                            detail[0] ? detail : "it could not be built");
                ex->error = r < 0 ? "internal_error" : "response_invalid";
                ex->status = 502;
                snprintf(ex->detail, sizeof(ex->detail), "the provider's answer was withheld: %s",
                         r < 0 ? "it could not be signed" : "it does not match the service's XSD");
        }
        free(ex->bus.response);
        ex->bus.response = NULL;
        ex->bus.response_size = 0;
}

static void exchange_on_bus_reply(Exchange *ex)
{
        uint8_t digest[HASH_SHA256_LEN];

        if (ex->bus.error) {
                ex->error = ex->bus.error;
                ex->status = problem_lookup(ex->error)->status;
                snprintf(ex->detail, sizeof(ex->detail), "%s", ex->bus.detail);
                free(ex->bus.response);
                ex->bus.response = NULL;
                ex->bus.response_size = 0;
        } else if (ex->soap) {
                exchange_soap_answer(ex);
        } else {
                const JsonSchema *schema = ex->decision.service->response_validator;
                char **fields = ex->decision.right ? ex->decision.right->fields : NULL;
                json_t *errors = NULL, *doc = NULL;
                int r = 0;

                ex->status = ex->bus.status;
                /* Only successful answers are validated and minimised: a provider's error body is its own. */
                if ((schema || fields) && ex->status >= 200 && ex->status < 300) {
                        r = validate_payload(schema, ex->bus.response, ex->bus.response_size, &errors,
                                             fields ? &doc : NULL);
                        if (r == 0 && doc) {
                                r = minimise(ex, doc, fields);
                                json_decref(doc);
                                if (r < 0) {
                                        errors = json_array();
                                        r = 1;
                                }
                        }
                }
                if (r != 0) {
                        /* The provider's fault: withhold the answer, tell the operator where. */
                        json_t *first = json_array_get(errors, 0);
                        log_warning("Response of \"%s\" for \"%s\" withheld: %zu schema error(s), first at "
                                    "instance \"%s\" keyword \"%s\"",
                                    ex->decision.service->id, ex->xroad_id, json_array_size(errors),
                                    strempty(json_string_value(json_object_get(first, "instance"))),
                                    strempty(json_string_value(json_object_get(first, "keyword"))));
                        json_decref(errors);
                        ex->error = "response_invalid";
                        ex->status = 502;
                        snprintf(ex->detail, sizeof(ex->detail),
                                 "the provider's answer does not match the service's response schema");
                        free(ex->bus.response);
                        ex->bus.response = NULL;
                        ex->bus.response_size = 0;
                } else {
                        hash_sha256(ex->bus.response, ex->bus.response_size, digest);
                        hex_encode(digest, sizeof(digest), ex->response_hash);
                }
        }
        exchange_log(ex);
}

static void worker_on_mailbox(evutil_socket_t fd, short what, void *userdata)
{
        Worker *w = userdata;
        MailboxItem *it = mailbox_drain(&w->mailbox);

        while (it) {
                MailboxItem *next = it->next;
                if (it->kind == ITEM_BUS)
                        exchange_on_bus_reply(container_of(it, Exchange, bus));
                else if (it->kind == ITEM_LOG)
                        exchange_respond(container_of(it, Exchange, log));
                it = next;
        }
}

/* --- request parsing ----------------------------------------------------- */

/* The value of a header that must appear at most once; *dup set if repeated. */
static const char *header_once(struct evkeyvalq *h, const char *name, bool *dup)
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

/* Printable text (UTF-8 allowed, no control characters), 1..max bytes. */
static bool valid_text(const char *s, size_t max)
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

static void new_xroad_id(Worker *w, char out[130])
{
        uint8_t b[16];

        memcpy(b, w->id_prefix, 6);
        w->id_counter++;
        for (int i = 0; i < 8; i++)
                b[8 + i] = (uint8_t)(w->id_counter >> (8 * (7 - i)));
        b[6] = (uint8_t)w->index;
        b[7] = 0x40;
        snprintf(out, 130, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The client certificate's facts: present, trusted, fingerprint, CN (once per connection). */
static void tls_facts(struct evhttp_connection *conn, PolicyInput *pin, uint8_t fp[32], char *cn, size_t cn_size)
{
        struct bufferevent *bev;
        TlsFacts *f;
        SSL *ssl;
        X509 *cert;
        unsigned len = 32;

        if (!conn)
                return;
        bev = evhttp_connection_get_bufferevent(conn);
        ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
        if (!ssl)
                return;
        f = SSL_get_ex_data(ssl, ssl_facts_index);
        if (!f) {
                f = calloc(1, sizeof(*f));
                if (!f)
                        return;
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
                        return;
                }
        }
        pin->cert_present = f->present;
        pin->cert_trusted = f->trusted;
        if (f->has_fp) {
                memcpy(fp, f->fp, 32);
                pin->cert_fingerprint = fp;
        }
        if (f->has_cn) {
                snprintf(cn, cn_size, "%s", f->cn);
                pin->cert_cn = cn;
        }
}

static Exchange *exchange_new(Worker *w, struct evhttp_request *req)
{
        Node *node = w->fd->node;
        Exchange *ex;

        ex = calloc(1, sizeof(*ex));
        if (!ex) {
                send_problem(req, "bus_busy", "out of memory", NULL, NULL);
                return NULL;
        }
        ex->worker = w;
        ex->req = req;
        ex->start_usec = now_usec(CLOCK_MONOTONIC);
        ex->registry = node_registry(node);
        w->in_flight++;
        atomic_fetch_add(&node->counters.requests, 1);

        switch (evhttp_request_get_command(req)) {
        case EVHTTP_REQ_GET:
                ex->method = "GET";
                break;
        case EVHTTP_REQ_POST:
                ex->method = "POST";
                break;
        case EVHTTP_REQ_PUT:
                ex->method = "PUT";
                break;
        case EVHTTP_REQ_PATCH:
                ex->method = "PATCH";
                break;
        case EVHTTP_REQ_DELETE:
                ex->method = "DELETE";
                break;
        case EVHTTP_REQ_HEAD:
                ex->method = "HEAD";
                break;
        default:
                ex->method = "OTHER";
                break;
        }
        return ex;
}

/* The request body: contiguous in the request's buffer, alive until we reply. */
static void exchange_take_body(Exchange *ex)
{
        struct evbuffer *body = evhttp_request_get_input_buffer(ex->req);
        uint8_t digest[HASH_SHA256_LEN];

        ex->body_size = evbuffer_get_length(body);
        ex->body = ex->body_size ? evbuffer_pullup(body, -1) : (const uint8_t *)"";
        hash_sha256(ex->body, ex->body_size, digest);
        hex_encode(digest, sizeof(digest), ex->request_hash);
}

/*
 * exchange_decide(): the checks every exchange goes through, REST or SOAP, in
 * order (policy.c: identity, service, right, legal basis; then the consent,
 * then the payload's schema), and then either the refusal's log entry or the
 * route to the adapter. `form_error`, when set, refuses a malformed request
 * (as `form_type`, bad_request by default) once the client is identified.
 */
static void exchange_decide(Exchange *ex, PolicyInput *pin, const char *form_type, const char *form_error)
{
        Worker *w = ex->worker;
        Node *node = w->fd->node;
        const RegistryService *svc;
        int r;

        policy_decide(ex->registry, pin, &ex->decision);

        /* A malformed request is refused as such, whatever else is wrong with it, once the
         * client is identified (an unidentified client learns nothing more). */
        if (form_error && (!ex->decision.type || !streq(ex->decision.type, "client_unknown"))) {
                ex->decision.type = form_type ? form_type : "bad_request";
                snprintf(ex->decision.detail, sizeof(ex->decision.detail), "%s", form_error);
        }

        if (ex->subject_raw && node->pseudonyms && policy_valid_subject(ex->subject_raw) &&
            pseudonym_compute(node->pseudonyms, ex->subject_raw, strlen(ex->subject_raw), ex->subject) < 0)
                ex->subject[0] = 0;

        /* A consent-based right: the consent presented must be valid now (the use is
         * counted when the exchange is recorded). */
        if (!ex->decision.type && ex->decision.needs_consent) {
                int c = -ENOTCONN;
                if (node->consents && ex->subject[0]) {
                        ConsentQuery q = {
                                .consent = ex->consent,
                                .subject_pseudonym = ex->subject,
                                .client = ex->decision.client,
                                .service = ex->decision.service,
                                .purpose = ex->purpose,
                                .now_usec = now_usec(CLOCK_REALTIME),
                        };
                        c = consent_check(node->consents, ex->registry, &q, ex->consent_id);
                }
                if (c != 0) {
                        ex->decision.type = "consent_invalid";
                        if (c > 0)
                                snprintf(ex->decision.detail, sizeof(ex->decision.detail), "consent %s: %s",
                                         ex->consent_id[0]               ? ex->consent_id
                                         : consent_valid_id(ex->consent) ? ex->consent
                                                                         : "artefact",
                                         consent_reason(c));
                        else
                                snprintf(ex->decision.detail, sizeof(ex->decision.detail),
                                         "the consent could not be checked");
                }
        }

        /* The request's payload, before anything reaches the provider. */
        if (!ex->decision.type && ex->soap) {
                const char *type = NULL;
                char detail[256] = "";
                if (!ex->decision.service->request_xsd) {
                        ex->decision.type = "service_unknown";
                        snprintf(ex->decision.detail, sizeof(ex->decision.detail),
                                 "service '%s' is not offered over SOAP", ex->decision.service->id);
                } else if (soap_request_validate(ex->soap_req, ex->decision.service->request_xsd, &type, detail,
                                                 sizeof(detail)) != 0) {
                        ex->decision.type = type ? type : "request_invalid";
                        snprintf(ex->decision.detail, sizeof(ex->decision.detail), "%s",
                                 detail[0] ? detail : "the payload does not match the service's XSD");
                }
        } else if (!ex->decision.type && ex->decision.service->request_validator) {
                int v = validate_payload(ex->decision.service->request_validator, ex->body, ex->body_size, &ex->errors,
                                         NULL);
                if (v != 0) {
                        ex->decision.type = "request_invalid";
                        snprintf(ex->decision.detail, sizeof(ex->decision.detail),
                                 v < 0 ? "the request could not be validated"
                                       : "the body does not match the service's request schema (see errors)");
                }
        }

        if (ex->decision.type) {
                atomic_fetch_add(&node->counters.refused, 1);
                ex->error = ex->decision.type;
                ex->status = problem_lookup(ex->error)->status;
                snprintf(ex->detail, sizeof(ex->detail), "%s", ex->decision.detail);
                exchange_log(ex);
                return;
        }
        atomic_fetch_add(&node->counters.allowed, 1);

        /* route: the adapter gets the facts it needs, and the subject in the clear */
        svc = ex->decision.service;
        {
                json_t *m = json_object();
                json_object_set_new(m, "service", json_string(svc->id));
                json_object_set_new(m, "method", json_string(ex->method));
                json_object_set_new(m, "path", json_string(ex->decision.path));
                json_object_set_new(m, "query", json_string(ex->query));
                json_object_set_new(m, "client", json_string(ex->decision.client->id));
                if (ex->subject_raw)
                        json_object_set_new(m, "subject", json_string(ex->subject_raw));
                if (ex->purpose)
                        json_object_set_new(m, "purpose", json_string(ex->purpose));
                if (ex->user_id)
                        json_object_set_new(m, "user_id", json_string(ex->user_id));
                if (ex->issue)
                        json_object_set_new(m, "issue", json_string(ex->issue));
                json_object_set_new(m, "xroad_id", json_string(ex->xroad_id));
                if (ex->content_type[0])
                        json_object_set_new(m, "content_type", json_string(ex->content_type));
                json_object_set_new(m, "timeout_ms", json_integer((json_int_t)svc->timeout_ms));
                ex->meta = json_dumps(m, JSON_COMPACT);
                json_decref(m);
        }
        ex->bus = (BusRequest){
                .item.kind = ITEM_BUS,
                .reply_to = &w->mailbox,
                .service = svc->id,
                .meta = ex->meta,
                .meta_size = ex->meta ? strlen(ex->meta) : 0,
                /* SOAP: the adapter gets the Body's payload element, not the envelope */
                .body = ex->soap ? (const void *)ex->soap_req->payload_xml : ex->body,
                .body_size = ex->soap ? ex->soap_req->payload_size : ex->body_size,
                .timeout_ms = svc->timeout_ms,
                .max_response = svc->max_response_size,
        };
        r = ex->meta ? broker_submit(node->broker, &ex->bus) : -ENOMEM;
        if (r < 0) {
                ex->bus.error = "bus_busy";
                snprintf(ex->bus.detail, sizeof(ex->bus.detail), "the bus is saturated; retry later");
                exchange_on_bus_reply(ex);
                return;
        }
        ex->routed = true;
}

static void handle_r1(Worker *w, struct evhttp_request *req, const char *raw_path)
{
        struct evkeyvalq *in = evhttp_request_get_input_headers(req);
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *client_header, *xroad_id, *subject, *purpose, *consent, *user_id, *issue, *query, *ct;
        bool dup = false, bad_text = false;
        _cleanup_free_ char *decoded = NULL;
        char cn[256] = "";
        uint8_t fp[32];
        PolicyInput pin = {};
        Exchange *ex;
        size_t dlen;

        ex = exchange_new(w, req);
        if (!ex)
                return;
        tls_facts(evhttp_request_get_connection(req), &pin, fp, cn, sizeof(cn));

        /* headers */
        client_header = header_once(in, "X-Road-Client", &dup);
        xroad_id = header_once(in, "X-Road-Id", &dup);
        user_id = header_once(in, "X-Road-UserId", &dup);
        issue = header_once(in, "X-Road-Issue", &dup);
        subject = header_once(in, "X-Bus-Subject", &dup);
        purpose = header_once(in, "X-Bus-Purpose", &dup);
        consent = header_once(in, "X-Bus-Consent", &dup);

        if (xroad_id && policy_valid_token(xroad_id, 128))
                snprintf(ex->xroad_id, sizeof(ex->xroad_id), "%s", xroad_id);
        else {
                bad_text = xroad_id != NULL;
                new_xroad_id(w, ex->xroad_id);
        }
        /* Keep each header that is well-formed (the log records it); remember any that is not. */
#define TAKE_HEADER(field, value, ok)              \
        if (value) {                               \
                if (ok)                            \
                        ex->field = strdup(value); \
                else                               \
                        bad_text = true;           \
        }
        TAKE_HEADER(user_id, user_id, valid_text(user_id, MAX_HEADER_VALUE));
        TAKE_HEADER(issue, issue, valid_text(issue, MAX_HEADER_VALUE));
        TAKE_HEADER(purpose, purpose, policy_valid_token(purpose, POLICY_MAX_PURPOSE));
        TAKE_HEADER(consent, consent, valid_text(consent, MAX_CONSENT_HEADER));
        TAKE_HEADER(subject_raw, subject, valid_text(subject, POLICY_MAX_SUBJECT));
#undef TAKE_HEADER
        if (client_header && !valid_text(client_header, MAX_HEADER_VALUE))
                bad_text = true;
        ct = evhttp_find_header(in, "Content-Type");
        if (ct && valid_text(ct, sizeof(ex->content_type) - 1))
                snprintf(ex->content_type, sizeof(ex->content_type), "%s", ct);

        exchange_take_body(ex);

        decoded = evhttp_uridecode(raw_path + 4, 0, &dlen);
        pin.client_header = client_header;
        pin.method = ex->method;
        pin.r1_path = decoded && strlen(decoded) == dlen ? decoded : NULL;
        pin.subject = ex->subject_raw;
        pin.purpose = ex->purpose;
        pin.consent = ex->consent;
        pin.body_size = ex->body_size;

        query = uri ? evhttp_uri_get_query(uri) : NULL;
        if (query && strlen(query) >= sizeof(ex->query))
                bad_text = true;
        else if (query)
                snprintf(ex->query, sizeof(ex->query), "%s", query);

        exchange_decide(ex, &pin, NULL,
                        dup ? "an X-Road-* or X-Bus-* header is repeated"
                        : bad_text || !pin.r1_path
                                ? "a header value or the path is malformed (length, characters or encoding)"
                                : NULL);
}

/* The one method a SOAP exchange is decided as: the service's (GET first), since SOAP has none. */
static const char *soap_method(const Registry *reg, const char *service)
{
        const RegistryService *svc = registry_service_lookup(reg, service);
        static const unsigned order[] = { REGISTRY_METHOD_GET,   REGISTRY_METHOD_POST,   REGISTRY_METHOD_PUT,
                                          REGISTRY_METHOD_PATCH, REGISTRY_METHOD_DELETE, REGISTRY_METHOD_HEAD };

        for (size_t i = 0; svc && i < ELEMENTSOF(order); i++)
                if (svc->methods & order[i])
                        return registry_method_to_string(order[i]);
        return "POST";
}

/*
 * handle_soap(): an X-Road SOAP 1.1 exchange on POST /. The envelope is parsed
 * with the hardened parser (exchange/soap), its X-Road header gives the same
 * facts the REST headers do, a client signature is verified when present (and
 * required when the registry says so), and the exchange then takes the same
 * path as REST. Answers are signed envelopes; refusals are SOAP Faults.
 */
static void handle_soap(Worker *w, struct evhttp_request *req)
{
        Node *node = w->fd->node;
        SoapRequest *partial = NULL;
        const char *type = NULL, *form_error = NULL, *form_type = NULL;
        static const SoapLimits limits = {};
        char detail[256] = "", cn[256] = "";
        uint8_t fp[32];
        PolicyInput pin = {};
        Exchange *ex;
        int r;

        ex = exchange_new(w, req);
        if (!ex)
                return;
        ex->soap = true;
        ex->method = "POST";
        snprintf(ex->content_type, sizeof(ex->content_type), "text/xml");
        tls_facts(evhttp_request_get_connection(req), &pin, fp, cn, sizeof(cn));
        exchange_take_body(ex);

        r = soap_request_parse((const char *)ex->body, ex->body_size, &limits, &ex->soap_req, &partial, &type, detail,
                               sizeof(detail));
        if (r != 0) {
                /* Refused before its header could be read in full: keep what was read for the Fault and the log. */
                ex->soap_req = partial;
                if (partial && policy_valid_token(partial->id, 128))
                        snprintf(ex->xroad_id, sizeof(ex->xroad_id), "%s", partial->id);
                else
                        new_xroad_id(w, ex->xroad_id);
                pin.method = ex->method;
                pin.client_header = partial && partial->client[0] ? partial->client : NULL;
                pin.r1_path = partial && partial->service[0] ? partial->service : NULL;
                policy_decide(ex->registry, &pin, &ex->decision);
                if (!ex->decision.type || !streq(ex->decision.type, "client_unknown")) {
                        ex->decision.type = r < 0 ? "bad_request" : (type ? type : "bad_request");
                        snprintf(ex->decision.detail, sizeof(ex->decision.detail), "%s",
                                 r < 0 ? "the envelope could not be read" : detail);
                }
                atomic_fetch_add(&node->counters.refused, 1);
                ex->error = ex->decision.type;
                ex->status = problem_lookup(ex->error)->status;
                snprintf(ex->detail, sizeof(ex->detail), "%s", ex->decision.detail);
                exchange_log(ex);
                return;
        }

        if (policy_valid_token(ex->soap_req->id, 128))
                snprintf(ex->xroad_id, sizeof(ex->xroad_id), "%s", ex->soap_req->id);
        else {
                new_xroad_id(w, ex->xroad_id);
                form_error = "xroad:id must be 1 to 128 letters, digits, '.', '_', ':' or '-'";
        }
#define TAKE_FIELD(field, value) \
        if ((value)[0])          \
                ex->field = strdup(value);
        TAKE_FIELD(user_id, ex->soap_req->user_id);
        TAKE_FIELD(issue, ex->soap_req->issue);
        TAKE_FIELD(purpose, ex->soap_req->purpose);
        TAKE_FIELD(subject_raw, ex->soap_req->subject);
#undef TAKE_FIELD
        if (ex->soap_req->consent)
                ex->consent = strdup(ex->soap_req->consent);
        if (ex->purpose && !policy_valid_token(ex->purpose, POLICY_MAX_PURPOSE))
                form_error = "xbus:purpose is malformed";

        pin.client_header = ex->soap_req->client;
        pin.method = ex->method = soap_method(ex->registry, ex->soap_req->service);
        pin.r1_path = ex->soap_req->service;
        pin.subject = ex->subject_raw;
        pin.purpose = ex->purpose;
        pin.consent = ex->consent;
        pin.body_size = ex->soap_req->payload_size;

        /* A signature is verified whenever present, and required when the client's registry entry says so. */
        if (!form_error) {
                const RegistrySubsystem *client =
                        pin.cert_present && pin.cert_trusted
                                ? registry_subsystem_by_cert(ex->registry, pin.cert_fingerprint, pin.cert_cn)
                                : NULL;
                if (ex->soap_req->signed_request) {
                        SoapSignerInfo info = {};
                        if (!node->soap_trust || soap_request_verify(ex->soap_req, node->soap_trust, &info, &type,
                                                                     detail, sizeof(detail)) != 0) {
                                form_error = detail[0] ? detail : "the request's signature is not valid";
                                form_type = type;
                        }
                } else if (client && client->soap_signature_required && streq(client->id, ex->soap_req->client))
                        form_error = "this client's SOAP requests must be signed";
        }
        if (form_error)
                snprintf(ex->detail, sizeof(ex->detail), "%s", form_error);
        exchange_decide(ex, &pin, form_type, form_error ? ex->detail : NULL);
}

/* --- other endpoints ----------------------------------------------------- */

#define ENDPOINT_MAX_BODY MIB(1)

static void handle_endpoint(Worker *w, struct evhttp_request *req, const Endpoint *ep, const char *raw_path)
{
        Node *node = w->fd->node;
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        _cleanup_(registry_unrefp) Registry *reg = node_registry(node);
        _cleanup_free_ char *path = NULL;
        EndpointResponse resp = { .status = 200 };
        PolicyInput pin = {};
        uint8_t fp[32];
        char cn[256] = "";
        size_t plen;
        int r;

        tls_facts(evhttp_request_get_connection(req), &pin, fp, cn, sizeof(cn));
        path = evhttp_uridecode(raw_path, 0, &plen);
        if (!path || strlen(path) != plen) {
                send_problem(req, "bad_request", "the path is malformed", NULL, NULL);
                return;
        }
        if (evbuffer_get_length(in) > ENDPOINT_MAX_BODY) {
                send_problem(req, "payload_too_large", "the body is too large", NULL, NULL);
                return;
        }
        {
                EndpointRequest er = {
                        .node = node,
                        .registry = reg,
                        .client = pin.cert_present && pin.cert_trusted
                                          ? registry_subsystem_by_cert(reg, pin.cert_fingerprint, pin.cert_cn)
                                          : NULL,
                        .path = path,
                        .query = uri && evhttp_uri_get_query(uri) ? evhttp_uri_get_query(uri) : "",
                        .body = evbuffer_get_length(in) ? evbuffer_pullup(in, -1) : (const uint8_t *)"",
                        .body_size = evbuffer_get_length(in),
                        .content_type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type"),
                };
                switch (evhttp_request_get_command(req)) {
                case EVHTTP_REQ_GET:
                        er.method = "GET";
                        break;
                case EVHTTP_REQ_POST:
                        er.method = "POST";
                        break;
                case EVHTTP_REQ_PUT:
                        er.method = "PUT";
                        break;
                case EVHTTP_REQ_PATCH:
                        er.method = "PATCH";
                        break;
                case EVHTTP_REQ_DELETE:
                        er.method = "DELETE";
                        break;
                default:
                        er.method = "HEAD";
                        break;
                }
                r = ep->handler(&er, &resp);
        }
        if (r < 0) {
                log_error_errno(r, "Endpoint \"%s\" failed: %m", ep->prefix);
                free(resp.body);
                send_problem(req, "internal_error", "the request could not be completed", NULL, NULL);
                return;
        }
        if (resp.problem) {
                free(resp.body);
                send_problem(req, resp.problem, resp.detail, NULL, NULL);
                return;
        }
        {
                struct evbuffer *buf = evbuffer_new();
                evhttp_add_header(h, "Content-Type", resp.content_type[0] ? resp.content_type : "application/json");
                evhttp_add_header(h, "Cache-Control", "no-store");
                if (buf && resp.body_size)
                        evbuffer_add(buf, resp.body, resp.body_size);
                evhttp_send_reply(req, resp.status ? resp.status : 200, NULL, buf);
                if (buf)
                        evbuffer_free(buf);
                free(resp.body);
        }
}

static void handle_health(Worker *w, struct evhttp_request *req)
{
        Node *node = w->fd->node;
        struct evbuffer *buf = evbuffer_new();
        BrokerStats bs;

        broker_stats(node->broker, &bs);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
        evbuffer_add_printf(buf, "{\"status\":\"ok\",\"adapters\":%u,\"log_entries\":%" PRIu64 "}\n", bs.adapters,
                            exlog_size(node->log));
        evhttp_send_reply(req, 200, "OK", buf);
        evbuffer_free(buf);
}

static void handle_metrics(Worker *w, struct evhttp_request *req)
{
        Node *node = w->fd->node;
        NodeCounters *c = &node->counters;
        struct evbuffer *buf = evbuffer_new();
        BrokerStats bs;
        ExlogStats ls;
        uint64_t cum = 0;

        broker_stats(node->broker, &bs);
        exlog_stats(node->log, &ls);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
#define COUNTER(name, help, v)                                                                                \
        evbuffer_add_printf(buf, "# HELP " name " " help "\n# TYPE " name " counter\n" name " %" PRIu64 "\n", \
                            (uint64_t)(v))
#define GAUGE(name, help, v)                                                                                \
        evbuffer_add_printf(buf, "# HELP " name " " help "\n# TYPE " name " gauge\n" name " %" PRIu64 "\n", \
                            (uint64_t)(v))
        COUNTER("xbus_requests_total", "Exchange requests received on /r1.", atomic_load(&c->requests));
        COUNTER("xbus_requests_allowed_total", "Requests that passed every check and were routed.",
                atomic_load(&c->allowed));
        COUNTER("xbus_requests_refused_total", "Requests refused by the bus.", atomic_load(&c->refused));
        COUNTER("xbus_receipts_total", "Responses delivered with a signed receipt.", atomic_load(&c->delivered));
        COUNTER("xbus_log_failures_total", "Exchanges withheld because the log write failed.",
                atomic_load(&c->log_failures));
        COUNTER("xbus_log_entries_total", "Entries in the exchange log.", ls.entries);
        COUNTER("xbus_log_batches_total", "Group-commit transactions.", ls.batches);
        GAUGE("xbus_log_max_batch", "Largest group commit seen.", ls.max_batch_seen);
        COUNTER("xbus_registry_reloads_total", "Successful registry reloads.", atomic_load(&c->reloads));
        COUNTER("xbus_registry_reload_failures_total", "Refused registry reloads.", atomic_load(&c->reload_failures));
        GAUGE("xbus_adapters", "Live adapter instances.", bs.adapters);
        GAUGE("xbus_provider_in_flight", "Requests waiting for an adapter.", bs.in_flight);
        COUNTER("xbus_provider_requests_total", "Requests routed to adapters.", bs.requests);
        COUNTER("xbus_provider_timeouts_total", "Requests the provider did not answer in time.", bs.timeouts);
        GAUGE("xbus_connections", "Open client connections.", atomic_load(&node->connections));
        evbuffer_add_printf(buf, "# HELP xbus_responses_total Responses by status class.\n"
                                 "# TYPE xbus_responses_total counter\n");
        for (int i = 1; i <= 5; i++)
                evbuffer_add_printf(buf, "xbus_responses_total{class=\"%dxx\"} %" PRIu64 "\n", i,
                                    (uint64_t)atomic_load(&c->by_status[i]));
        evbuffer_add_printf(buf, "# HELP xbus_request_duration_seconds Time from request to response.\n"
                                 "# TYPE xbus_request_duration_seconds histogram\n");
        for (int b = 0; b < 16; b++) {
                cum += atomic_load(&c->latency_buckets[b]);
                if (b < 15)
                        evbuffer_add_printf(buf, "xbus_request_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                                            (250.0 * (1 << b)) / 1e6, cum);
        }
        evbuffer_add_printf(buf, "xbus_request_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
        evbuffer_add_printf(buf, "xbus_request_duration_seconds_count %" PRIu64 "\n", cum);
        evhttp_send_reply(req, 200, "OK", buf);
        evbuffer_free(buf);
}

static void worker_on_request(struct evhttp_request *req, void *userdata)
{
        Worker *w = userdata;
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

        if (!path) {
                send_problem(req, "bad_request", "the request line could not be parsed", NULL, NULL);
                return;
        }
        if (strncmp(path, "/r1/", 4) == 0 || (streq(path, "/") && evhttp_request_get_command(req) == EVHTTP_REQ_POST)) {
                if (w->stopping) {
                        send_problem(req, "bus_busy", "the node is shutting down", NULL, NULL);
                        return;
                }
                if (path[1])
                        handle_r1(w, req, path);
                else
                        handle_soap(w, req);
        } else if (streq(path, "/health"))
                handle_health(w, req);
        else if (streq(path, "/metrics"))
                handle_metrics(w, req);
        else {
                for (const Endpoint *const *ep = node_endpoints; *ep; ep++)
                        if (strncmp(path, (*ep)->prefix, strlen((*ep)->prefix)) == 0) {
                                handle_endpoint(w, req, *ep, path);
                                return;
                        }
                send_problem(req, "not_found", "no such resource; exchanges use /r1/{service id}", NULL, NULL);
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
        const char *colon = strrchr(listen, ':');
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

static int ssl_setup(FrontDoor *fd, char **ret_error)
{
        const FrontDoorOptions *o = &fd->opts;
        static const unsigned char sid[] = "xbusd";
        unsigned long e;
        char ebuf[256];

        fd->ssl = SSL_CTX_new(TLS_server_method());
        if (!fd->ssl)
                return error_set(ret_error, -ENOMEM, "cannot create the TLS context");
        SSL_CTX_set_min_proto_version(fd->ssl, TLS1_2_VERSION);
        SSL_CTX_set_options(fd->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
        SSL_CTX_set_session_id_context(fd->ssl, sid, sizeof(sid) - 1);
        if (SSL_CTX_use_certificate_chain_file(fd->ssl, o->tls_cert) != 1)
                goto ssl_fail;
        if (SSL_CTX_use_PrivateKey_file(fd->ssl, o->tls_key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(fd->ssl) != 1)
                goto ssl_fail;
        if (SSL_CTX_load_verify_locations(fd->ssl, o->client_ca, NULL) != 1)
                goto ssl_fail;
        SSL_CTX_set_client_CA_list(fd->ssl, SSL_load_client_CA_file(o->client_ca));
        SSL_CTX_set_verify(fd->ssl, SSL_VERIFY_PEER, verify_accept);
        SSL_CTX_set_verify_depth(fd->ssl, 4);
        return 0;
ssl_fail:
        e = ERR_get_error();
        ERR_error_string_n(e, ebuf, sizeof(ebuf));
        ERR_clear_error();
        return error_set(ret_error, -EINVAL, "TLS setup failed (cert \"%s\", key \"%s\", client CA \"%s\"): %s",
                         o->tls_cert, o->tls_key, o->client_ca, ebuf);
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
        if (ssl_facts_index < 0)
                ssl_facts_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, facts_ex_free);

        if (parse_listen(opts->listen, &ss, &sslen) < 0)
                return error_set(ret_error, -EINVAL, "listen address \"%s\" is not HOST:PORT", opts->listen);
        fd = calloc(1, sizeof(*fd));
        if (!fd)
                return -ENOMEM;
        fd->opts = *opts;
        fd->node = node;
        fd->n_workers = opts->threads ? opts->threads : 1;
        r = ssl_setup(fd, ret_error);
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
                struct timeval tv = { .tv_sec = opts->timeout_ms / 1000, .tv_usec = (opts->timeout_ms % 1000) * 1000 };
                int s;

                w->fd = fd;
                w->index = i;
                w->max_connections = MAX(1U, opts->max_connections / fd->n_workers);
                RAND_bytes(w->id_prefix, sizeof(w->id_prefix));
                r = mailbox_init(&w->mailbox, 0);
                if (r < 0)
                        goto fail;
                w->base = event_base_new();
                w->http = w->base ? evhttp_new(w->base) : NULL;
                if (!w->http) {
                        r = -ENOMEM;
                        goto fail;
                }
                evhttp_set_bevcb(w->http, worker_bevcb, w);
                evhttp_set_gencb(w->http, worker_on_request, w);
                evhttp_set_max_headers_size(w->http, (ev_ssize_t)opts->max_header_size);
                evhttp_set_max_body_size(w->http, (ev_ssize_t)opts->max_body_size);
                evhttp_set_timeout_tv(w->http, &tv);
                evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                                            EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);

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
                w->mailbox_event =
                        event_new(w->base, mailbox_fd(&w->mailbox), EV_READ | EV_PERSIST, worker_on_mailbox, w);
                w->stop_event = event_new(w->base, -1, 0, worker_on_stop, w);
                if (!w->mailbox_event || !w->stop_event || event_add(w->mailbox_event, NULL) < 0) {
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
        if (fd->ssl)
                SSL_CTX_free(fd->ssl);
        free(fd);
        return NULL;
}

int frontdoor_port(const FrontDoor *fd)
{
        return fd->port;
}
