/* forwarder.c: lanes of libcurl multi handles that carry exchanges to other nodes and check their answers */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "crypto/hash.h"
#include "crypto/openssl-util.h"
#include "federation/forwarder.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strv.h"

#define LANE_QUEUE 4096          /* requests waiting for a lane */
#define LANE_HANDLES_KEPT 256    /* easy handles a lane keeps for reuse */
#define LANE_CONNECTIONS 256     /* connections a lane keeps open (to other nodes) */
#define CONNECT_TIMEOUT_MS 5000U /* a TCP and TLS connection to a node, at most */
#define ANSWER_SLACK (64U << 10) /* a node's answer may exceed the service's max-response-size by its own framing */

typedef struct InFlight {
        ForwardRequest *r;
        struct curl_slist *headers;
        size_t cap; /* of r->bus->response */
} InFlight;

typedef struct Lane {
        Forwarder *f;
        pthread_t thread;
        bool started;
        atomic_bool stop;
        Mailbox inbox;
        Mailbox logged; /* request entries back from the log (unbounded, as replies are): sent when durable */
        CURLM *multi;
        CURL *pool[LANE_HANDLES_KEPT];
        size_t n_pool;
        InFlight **flying; /* what the multi handle carries now, to answer at stop */
        size_t n_flying, cap_flying;
        HeadCache heads; /* the provider nodes' tree heads this lane verified (receipts of group commits) */
} Lane;

struct Forwarder {
        bool curl_init;
        X509 *cert;
        EVP_PKEY *key;
        Lane *lanes;
        unsigned n_lanes;
};

/* ---- TLS: our certificate from memory, the peer against the snapshot -------------------------- */

static CURLcode on_ssl_ctx(CURL *curl, void *ctx, void *userdata)
{
        Forwarder *f = userdata;

        if (SSL_CTX_use_certificate(ctx, f->cert) != 1 || SSL_CTX_use_PrivateKey(ctx, f->key) != 1)
                return CURLE_SSL_CERTPROBLEM;
        return CURLE_OK;
}

/* The peer's certificate chains to the node's tls-ca and carries its tls-name. */
static bool peer_chains(const RegistryNode *n, SSL *ssl, X509 *peer)
{
        _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        BIO *bio = BIO_new_mem_buf(n->tls_ca, -1);
        bool ok = false;
        X509 *ca;

        if (!store || !ctx || !bio)
                goto out;
        while ((ca = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                int k = X509_STORE_add_cert(store, ca);
                X509_free(ca);
                if (k != 1)
                        goto out;
        }
        ERR_clear_error();
        if (X509_STORE_CTX_init(ctx, store, peer, SSL_get_peer_cert_chain(ssl)) != 1)
                goto out;
        ok = X509_verify_cert(ctx) == 1 &&
             (X509_check_host(peer, n->tls_name, 0, 0, NULL) == 1 || X509_check_ip_asc(peer, n->tls_name, 0) == 1);
out:
        X509_STORE_CTX_free(ctx);
        BIO_free(bio);
        return ok;
}

/* Before anything is sent, on a new connection or a reused one: is the peer the node the snapshot names? */
static int on_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
        ForwardRequest *r = clientp;
        const struct curl_tlssessioninfo *info = NULL;
        uint8_t fp[32];
        unsigned len = sizeof(fp);
        X509 *peer;

        r->untrusted = true;
        if (curl_easy_getinfo(r->easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info ||
            info->backend != CURLSSLBACKEND_OPENSSL || !info->internals)
                return CURL_PREREQFUNC_ABORT;
        peer = SSL_get0_peer_certificate(info->internals);
        if (!peer || X509_digest(peer, EVP_sha256(), fp, &len) != 1 || len != sizeof(fp))
                return CURL_PREREQFUNC_ABORT;
        memcpy(r->peer_fp, "sha256:", 7);
        hex_encode(fp, sizeof(fp), r->peer_fp + 7);
        for (size_t i = 0; i < r->target->n_tls_fingerprints; i++)
                if (memcmp(r->target->tls_fingerprints[i], fp, sizeof(fp)) == 0) {
                        r->untrusted = false;
                        return CURL_PREREQFUNC_OK;
                }
        if (r->target->tls_ca && r->target->tls_name && peer_chains(r->target, info->internals, peer)) {
                r->untrusted = false;
                return CURL_PREREQFUNC_OK;
        }
        return CURL_PREREQFUNC_ABORT;
}

/* ---- The answer ------------------------------------------------------------------------------ */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        InFlight *in = userdata;
        BusRequest *b = in->r->bus;
        size_t n = size * nmemb;

        if (b->response_size + n > b->max_response + ANSWER_SLACK) {
                in->r->too_large = true;
                return 0;
        }
        if (b->response_size + n + 1 > in->cap) {
                size_t cap = MAX(in->cap * 2, b->response_size + n + 1);
                void *a = realloc(b->response, MAX(cap, 4096U));
                if (!a) {
                        in->r->oom = true;
                        return 0;
                }
                b->response = a;
                in->cap = MAX(cap, 4096U);
        }
        memcpy((char *)b->response + b->response_size, ptr, n);
        b->response_size += n;
        ((char *)b->response)[b->response_size] = 0;
        return n;
}

/* One header line of the answer: kept for the client, and the ones the node reads. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
        InFlight *in = userdata;
        ForwardRequest *r = in->r;
        size_t n = size * nmemb, k;
        char name[128], *value;
        _cleanup_free_ char *copy = NULL;
        json_t *pair;

        if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new answer (after an interim one) */
                json_array_clear(r->bus->headers);
                r->bus->content_type[0] = 0;
                r->receipt = mfree(r->receipt);
                r->xroad_error = mfree(r->xroad_error);
                return n;
        }
        k = strcspn(line, ":");
        if (k == 0 || k >= n || k >= sizeof(name))
                return n; /* the empty line at the end, or no header */
        memcpy(name, line, k);
        name[k] = 0;
        copy = strndup(line + k + 1, n - k - 1);
        if (!copy) {
                r->oom = true;
                return 0;
        }
        value = copy + strspn(copy, " \t");
        for (size_t e = strlen(value); e > 0 && strchr(" \t\r\n", value[e - 1]); e--)
                value[e - 1] = 0;
        if (strcasecmp(name, "Content-Type") == 0)
                snprintf(r->bus->content_type, sizeof(r->bus->content_type), "%s", value);
        else if (strcasecmp(name, "X-Bus-Receipt") == 0 && !r->receipt)
                r->receipt = strdup(value);
        else if (strcasecmp(name, "X-Road-Error") == 0 && !r->xroad_error)
                r->xroad_error = strdup(value);
        pair = json_pack("[s,s]", name, value); /* NULL for a value that is not UTF-8: dropped */
        if (pair && json_array_append_new(r->bus->headers, pair) < 0)
                r->oom = true;
        return n;
}

static void answer_error(ForwardRequest *r, ProblemType type, const char *fmt, ...) _printf_(3, 4);
static void answer_error(ForwardRequest *r, ProblemType type, const char *fmt, ...)
{
        BusRequest *b = r->bus;
        va_list ap;

        b->error = type;
        b->status = problem_status(type);
        va_start(ap, fmt);
        vsnprintf(b->detail, sizeof(b->detail), fmt, ap);
        va_end(ap);
        b->response = mfree(b->response);
        b->response_size = 0;
        json_decref(b->headers);
        b->headers = NULL;
        r->receipt = mfree(r->receipt);
}

/* A complete answer: its status; a 2xx one only with the provider node's receipt for it. */
static void answer_take(ForwardRequest *r, long status, HeadCache *heads)
{
        BusRequest *b = r->bus;
        char why[200];
        int k;

        b->status = (int)status;
        hash_sha256_hex(b->response ? b->response : "", b->response_size, r->response_hash);
        if (status < 200 || status >= 300 || r->node_call)
                return; /* a node call's answer is the caller's to read; a refusal by the provider's node, or the provider's own error: passed on */
        r->expect.response_hash = r->response_hash;
        k = forward_receipt_check(r->target, r->receipt, &r->expect, heads, &r->provider_seq, why, sizeof(why));
        if (k < 0)
                answer_error(r, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        else if (k > 0)
                answer_error(r, PROBLEM_NODE_INCONSISTENT, "%s", why);
}

static void answer(ForwardRequest *r, CURLcode rc, long status, HeadCache *heads)
{
        const RegistryNode *n = r->target;

        if (rc == CURLE_OK && !r->oom)
                answer_take(r, status, heads);
        else if (r->untrusted)
                answer_error(r, PROBLEM_NODE_UNTRUSTED,
                             "node '%s' (%s) presented a certificate (%.71s) that the registry snapshot does not name",
                             n->id, n->address, r->peer_fp[0] ? r->peer_fp : "none");
        else if (rc == CURLE_OPERATION_TIMEDOUT)
                answer_error(r, PROBLEM_NODE_TIMEOUT, "node '%s' (%s) did not answer within %" PRIu64 " ms", n->id,
                             n->address, r->bus->timeout_ms);
        else if (r->too_large)
                answer_error(r, PROBLEM_RESPONSE_INVALID, "the answer of node '%s' is over the service's size limit",
                             n->id);
        else if (r->oom)
                answer_error(r, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
        else
                answer_error(r, PROBLEM_NODE_UNREACHABLE, "node '%s' (%s) cannot be reached: %s", n->id, n->address,
                             curl_easy_strerror(rc));
}

/* ---- A lane ---------------------------------------------------------------------------------- */

static CURL *lane_easy(Lane *l)
{
        CURL *e;

        if (l->n_pool)
                return l->pool[--l->n_pool];
        e = curl_easy_init();
        if (!e)
                return NULL;
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
        curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, l->f);
        /* the peer is checked in on_prereq() against the snapshot, not against a CA store or the URL's name */
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
        curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
        return e;
}

static void lane_easy_release(Lane *l, CURL *e)
{
        if (l->n_pool < ELEMENTSOF(l->pool))
                l->pool[l->n_pool++] = e;
        else
                curl_easy_cleanup(e);
}

/* The request's method and body onto `e`. */
static void set_method(CURL *e, const ForwardRequest *r)
{
        const BusRequest *b = r->bus;
        bool body =
                b->body_size > 0 || streq(r->method, "POST") || streq(r->method, "PUT") || streq(r->method, "PATCH");

        curl_easy_setopt(e, CURLOPT_NOBODY, streq(r->method, "HEAD") ? 1L : 0L);
        if (body) {
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->body_size);
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, b->body ? b->body : "");
        } else if (!streq(r->method, "HEAD"))
                curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                         streq(r->method, "GET") || streq(r->method, "POST") || streq(r->method, "HEAD") ? NULL
                                                                                                         : r->method);
}

static void lane_post_back(ForwardRequest *r)
{
        BusRequest *b = r->bus;

        if (r->done)
                r->done(r);
        else
                (void)mailbox_post(b->reply_to, &b->item); /* replies are unbounded */
}

/* Room for one more transfer in l->flying. Return: 0 or -ENOMEM. */
static int lane_room(Lane *l)
{
        InFlight **a;

        if (l->n_flying < l->cap_flying)
                return 0;
        a = reallocarray(l->flying, MAX(l->cap_flying * 2, 16U), sizeof(*a));
        if (!a)
                return -ENOMEM;
        l->flying = a;
        l->cap_flying = MAX(l->cap_flying * 2, 16U);
        return 0;
}

static void lane_start(Lane *l, ForwardRequest *r)
{
        InFlight *in = lane_room(l) == 0 ? calloc(1, sizeof(*in)) : NULL;
        CURL *e = in ? lane_easy(l) : NULL;

        r->bus->headers = e ? json_array() : NULL;
        if (!r->bus->headers) {
                free(in);
                if (e)
                        lane_easy_release(l, e);
                answer_error(r, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
                lane_post_back(r);
                return;
        }
        in->r = r;
        r->easy = e;
        for (char **h = r->headers; h && *h; h++) {
                struct curl_slist *s = curl_slist_append(in->headers, *h);
                if (!s)
                        r->oom = true;
                else
                        in->headers = s;
        }
        in->headers = curl_slist_append(in->headers, "Expect:") ?: in->headers;
        curl_easy_setopt(e, CURLOPT_URL, r->url);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, in->headers);
        curl_easy_setopt(e, CURLOPT_PRIVATE, in);
        curl_easy_setopt(e, CURLOPT_PREREQDATA, r);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, in);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, in);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)MAX(r->bus->timeout_ms, 1U));
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)MIN(MAX(r->bus->timeout_ms, 1U), CONNECT_TIMEOUT_MS));
        set_method(e, r);
        if (curl_multi_add_handle(l->multi, e) != CURLM_OK) {
                curl_slist_free_all(in->headers);
                free(in);
                lane_easy_release(l, e);
                answer_error(r, PROBLEM_BUS_BUSY, "the node is out of memory; retry later");
                lane_post_back(r);
                return;
        }
        l->flying[l->n_flying++] = in;
}

/* The transfer of `e` ended with `rc` (CURLE_ABORTED_BY_CALLBACK and no code: the lane stops). */
static void lane_finish(Lane *l, CURL *e, CURLcode rc)
{
        InFlight *in = NULL;
        ForwardRequest *r;
        long status = 0;

        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&in);
        r = in->r;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(l->multi, e);
        for (size_t i = 0; i < l->n_flying; i++)
                if (l->flying[i] == in) {
                        l->flying[i] = l->flying[--l->n_flying];
                        break;
                }
        answer(r, rc, status, &l->heads);
        r->easy = NULL;
        curl_slist_free_all(in->headers);
        free(in);
        lane_easy_release(l, e);
        lane_post_back(r);
}

/* Requests whose entry came back from the log: sent when it is durable, refused when it failed (or when
 * `stopping`). */
static void lane_take_logged(Lane *l, bool stopping)
{
        for (MailboxItem *it = mailbox_drain(&l->logged); it;) {
                MailboxItem *next = it->next;
                ForwardRequest *r = container_of(it, ForwardRequest, before.item);

                if (stopping)
                        answer_error(r, PROBLEM_NODE_UNREACHABLE, "this node is stopping");
                else if (r->before.result < 0)
                        answer_error(r, PROBLEM_LOG_UNAVAILABLE,
                                     "the request could not be recorded before it was forwarded; retry later");
                if (stopping || r->before.result < 0)
                        lane_post_back(r);
                else
                        lane_start(l, r);
                it = next;
        }
}

static void *lane_run(void *userdata)
{
        Lane *l = userdata;
        int running = 0;

        while (!atomic_load(&l->stop)) {
                struct curl_waitfd w[2] = { { .fd = mailbox_fd(&l->inbox), .events = CURL_WAIT_POLLIN },
                                            { .fd = mailbox_fd(&l->logged), .events = CURL_WAIT_POLLIN } };
                CURLMsg *m;
                int q;

                curl_multi_poll(l->multi, w, 2, 1000, NULL);
                for (MailboxItem *it = mailbox_drain(&l->inbox); it;) {
                        MailboxItem *next = it->next;
                        lane_start(l, container_of(it, ForwardRequest, item));
                        it = next;
                }
                lane_take_logged(l, false);
                curl_multi_perform(l->multi, &running);
                while ((m = curl_multi_info_read(l->multi, &q)))
                        if (m->msg == CURLMSG_DONE)
                                lane_finish(l, m->easy_handle, m->data.result);
        }
        /* stopping: whatever is still under way or queued gets an answer */
        while (l->n_flying > 0) {
                ForwardRequest *r = l->flying[0]->r;
                r->oom = false;
                lane_finish(l, r->easy, CURLE_COULDNT_CONNECT);
        }
        lane_take_logged(l, true);
        for (MailboxItem *it = mailbox_drain(&l->inbox); it;) {
                MailboxItem *next = it->next;
                ForwardRequest *r = container_of(it, ForwardRequest, item);
                answer_error(r, PROBLEM_NODE_UNREACHABLE, "this node is stopping");
                lane_post_back(r);
                it = next;
        }
        return NULL;
}

/* ---- The forwarder --------------------------------------------------------------------------- */

static int read_credentials(Forwarder *f, const ForwarderOptions *o)
{
        FILE *c = fopen(o->cert_file, "re"), *k = NULL;
        int r = 0;

        if (!c)
                return -errno;
        f->cert = PEM_read_X509(c, NULL, NULL, NULL);
        fclose(c);
        k = fopen(o->key_file, "re");
        if (!k)
                return -errno;
        f->key = PEM_read_PrivateKey(k, NULL, NULL, NULL);
        fclose(k);
        if (!f->cert || !f->key || X509_check_private_key(f->cert, f->key) != 1)
                r = -EINVAL;
        ERR_clear_error();
        return r;
}

int forwarder_new(Forwarder **ret, const ForwarderOptions *o)
{
        Forwarder *f = calloc(1, sizeof(*f));
        int r;

        if (!f)
                return -ENOMEM;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) { /* thread-safe since libcurl 7.84 */
                free(f);
                return -ENOMEM;
        }
        f->curl_init = true;
        r = read_credentials(f, o);
        if (r < 0)
                goto fail;
        f->n_lanes = MAX(o->lanes, 1U);
        f->lanes = calloc(f->n_lanes, sizeof(Lane));
        if (!f->lanes) {
                r = -ENOMEM;
                goto fail;
        }
        for (unsigned i = 0; i < f->n_lanes; i++)
                f->lanes[i].inbox = f->lanes[i].logged = MAILBOX_NULL;
        for (unsigned i = 0; i < f->n_lanes; i++) {
                Lane *l = &f->lanes[i];

                l->f = f;
                r = mailbox_init(&l->inbox, LANE_QUEUE);
                if (r < 0)
                        goto fail;
                r = mailbox_init(&l->logged, 0);
                if (r < 0)
                        goto fail;
                l->multi = curl_multi_init();
                if (!l->multi) {
                        r = -ENOMEM;
                        goto fail;
                }
                curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)LANE_CONNECTIONS);
                r = -pthread_create(&l->thread, NULL, lane_run, l);
                if (r < 0)
                        goto fail;
                l->started = true;
        }
        *ret = f;
        return 0;
fail:
        forwarder_free(f);
        return r;
}

Forwarder *forwarder_free(Forwarder *f)
{
        if (!f)
                return NULL;
        for (unsigned i = 0; f->lanes && i < f->n_lanes; i++) {
                Lane *l = &f->lanes[i];

                if (l->started) {
                        atomic_store(&l->stop, true);
                        curl_multi_wakeup(l->multi);
                        pthread_join(l->thread, NULL);
                }
                while (l->n_pool)
                        curl_easy_cleanup(l->pool[--l->n_pool]);
                if (l->multi)
                        curl_multi_cleanup(l->multi);
                free(l->flying);
                mailbox_deinit(&l->inbox);
                mailbox_deinit(&l->logged);
        }
        free(f->lanes);
        X509_free(f->cert);
        EVP_PKEY_free(f->key);
        if (f->curl_init)
                curl_global_cleanup();
        free(f);
        return NULL;
}

int forwarder_submit(Forwarder *f, ForwardRequest *r, unsigned lane)
{
        return mailbox_post(&f->lanes[lane % f->n_lanes].inbox, &r->item);
}

int forwarder_submit_logged(Forwarder *f, ForwardRequest *r, unsigned lane, ExchangeLog *log)
{
        r->before.item.kind = 0;
        r->before.reply_to = &f->lanes[lane % f->n_lanes].logged;
        return exlog_append(log, &r->before);
}

ForwardRequest *forward_request_free(ForwardRequest *r)
{
        if (!r)
                return NULL;
        free(r->url);
        strv_free(r->headers);
        free(r->receipt);
        free(r->xroad_error);
        free((char *)r->before.body);
        free(r->before.batch_receipt); /* the request entry's, when the log signs receipts per batch: unused */
        free(r);
        return NULL;
}
