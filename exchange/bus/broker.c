/* broker.c: routes requests to adapter instances over a ZeroMQ ROUTER
 *
 * Why a single thread: a ZeroMQ socket belongs to one thread. The broker
 * thread owns the ROUTER, the adapter table, the requests in flight (a slot
 * table indexed by request id) and their deadlines (an indexed min-heap).
 * HTTP workers reach it only through its mailbox, and it answers through
 * theirs, so nothing here is shared or locked except the mailboxes and a
 * few atomic counters for stats and health checks.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bus/broker.h"
#include "bus/proto.h"
#include "policy/problem.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strv.h"
#include "util/time-util.h"

#define MAX_ADAPTERS 1024
#define SLOT_BITS 16
#define MAX_IN_FLIGHT (1U << SLOT_BITS)
#define ZAP_ENDPOINT "inproc://zeromq.zap.01" /* RFC 27: where libzmq asks, in the ROUTER's context */
#define EVENTS_ENDPOINT "inproc://xbus-broker-events"
#define ROSTER_MAX 16384

typedef struct Adapter {
        bool alive;
        uint8_t id[256];
        size_t id_size;
        char key[KEYFILE_CURVE_LEN + 1]; /* its connection's CURVE key (ZAP User-Id) */
        char kind[32];
        char name[64];
        char **services; /* sorted */
        size_t n_services;
        unsigned capacity;
        unsigned in_flight;
        uint64_t last_seen; /* monotonic usec */
} Adapter;

struct Broker {
        BrokerOptions opts;
        void *ctx, *router, *zap, *events; /* events: the ROUTER's failed handshakes (a monitor) */
        Mailbox queue;
        Registry *registry;          /* the allow-list in use (broker thread) */
        _Atomic(Registry *) pending; /* a newer one from broker_set_registry() */
        pthread_t thread;
        bool thread_started;
        atomic_bool stop;

        Adapter adapters[MAX_ADAPTERS];
        unsigned n_adapters; /* high-water mark of used entries */

        BusRequest *slots[MAX_IN_FLIGHT];
        uint32_t free_slots[MAX_IN_FLIGHT];
        uint32_t n_free;
        uint64_t next_gen;

        BusRequest **heap; /* min-heap on deadline */
        size_t heap_size;

        uint64_t next_heartbeat;

        /* for stats, updated by the broker thread */
        atomic_uint live_adapters, in_flight;
        atomic_uint_fast64_t n_requests, n_timeouts, n_unavailable, n_refusals[_BROKER_REFUSED_MAX];
        uint64_t log_window; /* refusal lines: this minute's start, lines logged, lines left out */
        unsigned log_lines, log_skipped;
        /* every service announced since start, sorted, with its live instances (for /health) */
        pthread_mutex_t roster_lock;
        struct RosterEntry {
                char *service;
                unsigned live;
                uint64_t unserved_since; /* monotonic usec when `live` fell to 0, else 0 */
        } * roster;
        size_t n_roster;
};

/* --- deadline heap ------------------------------------------------------- */

static void heap_swap(Broker *b, size_t i, size_t j)
{
        BusRequest *t = b->heap[i];
        b->heap[i] = b->heap[j];
        b->heap[j] = t;
        b->heap[i]->heap_index = i;
        b->heap[j]->heap_index = j;
}

static void heap_up(Broker *b, size_t i)
{
        while (i > 0) {
                size_t p = (i - 1) / 2;
                if (b->heap[p]->deadline <= b->heap[i]->deadline)
                        break;
                heap_swap(b, i, p);
                i = p;
        }
}

static void heap_down(Broker *b, size_t i)
{
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < b->heap_size && b->heap[l]->deadline < b->heap[m]->deadline)
                        m = l;
                if (r < b->heap_size && b->heap[r]->deadline < b->heap[m]->deadline)
                        m = r;
                if (m == i)
                        break;
                heap_swap(b, i, m);
                i = m;
        }
}

static void heap_push(Broker *b, BusRequest *req)
{
        /* the heap array has MAX_IN_FLIGHT entries: one per slot, never more */
        req->heap_index = b->heap_size;
        b->heap[b->heap_size++] = req;
        heap_up(b, req->heap_index);
}

static void heap_remove(Broker *b, BusRequest *req)
{
        size_t i = req->heap_index;

        b->heap_size--;
        if (i != b->heap_size) {
                b->heap[i] = b->heap[b->heap_size];
                b->heap[i]->heap_index = i;
                heap_down(b, i);
                heap_up(b, i);
        }
}

/* --- answering ----------------------------------------------------------- */

static void request_finish(Broker *b, BusRequest *req)
{
        (void)mailbox_post(req->reply_to, &req->item);
}

static void request_fail(Broker *b, BusRequest *req, ProblemType error, const char *fmt, ...) _printf_(4, 5);
static void request_fail(Broker *b, BusRequest *req, ProblemType error, const char *fmt, ...)
{
        va_list ap;

        req->status = problem_status(error);
        req->error = error;
        va_start(ap, fmt);
        vsnprintf(req->detail, sizeof(req->detail), fmt, ap);
        va_end(ap);
        if (error == PROBLEM_PROVIDER_UNAVAILABLE)
                atomic_fetch_add(&b->n_unavailable, 1);
        request_finish(b, req);
}

/* Remove a request from the in-flight tables (slot, heap, adapter count). */
static void request_untrack(Broker *b, BusRequest *req)
{
        uint32_t slot = (uint32_t)(req->id & (MAX_IN_FLIGHT - 1));

        b->slots[slot] = NULL;
        b->free_slots[b->n_free++] = slot;
        heap_remove(b, req);
        if (req->adapter >= 0 && b->adapters[req->adapter].in_flight > 0)
                b->adapters[req->adapter].in_flight--;
        atomic_fetch_sub(&b->in_flight, 1);
}

/* --- adapters ------------------------------------------------------------ */

static int strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Where `service` is in the sorted roster (true), or where it would go (false). Under roster_lock. */
static bool roster_search(const Broker *b, const char *service, size_t *ret_index)
{
        size_t lo = 0, hi = b->n_roster;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(service, b->roster[mid].service);
                if (c == 0) {
                        *ret_index = mid;
                        return true;
                }
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        *ret_index = lo;
        return false;
}

/* Count one live instance of `service` in the roster (added, sorted, on its first announcement). */
static void roster_count(Broker *b, const char *service)
{
        struct RosterEntry *n;
        size_t lo;
        char *copy;

        if (roster_search(b, service, &lo)) {
                b->roster[lo].live++;
                return;
        }
        if (b->n_roster >= ROSTER_MAX)
                return; /* announced names are the adapters' to choose: bounded */
        copy = strdup(service);
        n = copy ? reallocarray(b->roster, b->n_roster + 1, sizeof(*n)) : NULL;
        if (!n) {
                free(copy); /* out of memory: the service is left out of /health's view */
                return;
        }
        b->roster = n;
        memmove(n + lo + 1, n + lo, (b->n_roster++ - lo) * sizeof(*n));
        n[lo] = (struct RosterEntry){ .service = copy, .live = 1 };
}

/* Publish the number of live adapters and which services they serve (for stats and /health). */
static void summary_update(Broker *b)
{
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        unsigned live = 0;

        pthread_mutex_lock(&b->roster_lock);
        for (size_t k = 0; k < b->n_roster; k++)
                b->roster[k].live = 0;
        for (unsigned i = 0; i < b->n_adapters; i++) {
                live += b->adapters[i].alive;
                for (size_t j = 0; b->adapters[i].alive && j < b->adapters[i].n_services; j++)
                        roster_count(b, b->adapters[i].services[j]);
        }
        for (size_t k = 0; k < b->n_roster; k++)
                b->roster[k].unserved_since = b->roster[k].live ? 0 : b->roster[k].unserved_since ?: now;
        pthread_mutex_unlock(&b->roster_lock);
        atomic_store(&b->live_adapters, live);
}

static void adapter_clear(Adapter *a)
{
        strv_free_n(a->services, a->n_services);
        *a = (Adapter){};
}

static int adapter_find(Broker *b, const uint8_t *id, size_t id_size)
{
        for (unsigned i = 0; i < b->n_adapters; i++)
                if (b->adapters[i].alive && b->adapters[i].id_size == id_size &&
                    memcmp(b->adapters[i].id, id, id_size) == 0)
                        return (int)i;
        return -1;
}

/* Drop an adapter: everything it was working on is answered now, not at its deadline. */
static void adapter_drop(Broker *b, int index, const char *why)
{
        for (uint32_t s = 0; s < MAX_IN_FLIGHT; s++) {
                BusRequest *req = b->slots[s];
                if (req && req->adapter == index) {
                        request_untrack(b, req);
                        request_fail(b, req, PROBLEM_PROVIDER_UNAVAILABLE,
                                     "the adapter serving this request went away (%s)", why);
                }
        }
        adapter_clear(&b->adapters[index]);
        while (b->n_adapters > 0 && !b->adapters[b->n_adapters - 1].alive)
                b->n_adapters--;
        summary_update(b);
}

static bool adapter_serves(const Adapter *a, const char *service)
{
        return bsearch(&service, a->services, a->n_services, sizeof(char *), strcmp_ptr) != NULL;
}

/* --- sending ------------------------------------------------------------- */

static int send_frames(Broker *b, const uint8_t *id, size_t id_size, const char *cmd, const void *f1, size_t s1,
                       const void *f2, size_t s2, const void *f3, size_t s3, int nextra)
{
        int flags = ZMQ_DONTWAIT;

        if (zmq_send(b->router, id, id_size, flags | ZMQ_SNDMORE) < 0)
                return -errno;
        if (zmq_send(b->router, PROTO_VERSION, strlen(PROTO_VERSION), flags | ZMQ_SNDMORE) < 0)
                return -errno;
        if (zmq_send(b->router, cmd, strlen(cmd), flags | (nextra > 0 ? ZMQ_SNDMORE : 0)) < 0)
                return -errno;
        if (nextra >= 1 && zmq_send(b->router, f1, s1, flags | (nextra > 1 ? ZMQ_SNDMORE : 0)) < 0)
                return -errno;
        if (nextra >= 2 && zmq_send(b->router, f2, s2, flags | (nextra > 2 ? ZMQ_SNDMORE : 0)) < 0)
                return -errno;
        if (nextra >= 3 && zmq_send(b->router, f3, s3, flags) < 0)
                return -errno;
        return 0;
}

static void dispatch(Broker *b, BusRequest *req, uint64_t now)
{
        int best = -1;
        bool any = false;
        uint32_t slot;
        uint8_t idbuf[PROTO_ID_LEN];
        int r;

        atomic_fetch_add(&b->n_requests, 1);
        req->adapter = -1;
        for (unsigned i = 0; i < b->n_adapters; i++) {
                Adapter *a = &b->adapters[i];
                if (!a->alive || !adapter_serves(a, req->service))
                        continue;
                any = true;
                if (a->in_flight >= a->capacity)
                        continue;
                if (best < 0 || a->in_flight < b->adapters[best].in_flight)
                        best = (int)i;
        }
        if (best < 0) {
                request_fail(b, req, PROBLEM_PROVIDER_UNAVAILABLE,
                             any ? "every adapter serving this service is at capacity"
                                 : "no adapter serving this service is connected");
                return;
        }
        if (b->n_free == 0) {
                request_fail(b, req, PROBLEM_PROVIDER_UNAVAILABLE, "too many requests in flight");
                return;
        }
        slot = b->free_slots[--b->n_free];
        req->id = (++b->next_gen << SLOT_BITS) | slot;
        for (int i = 0; i < PROTO_ID_LEN; i++)
                idbuf[i] = (uint8_t)(req->id >> (8 * (PROTO_ID_LEN - 1 - i)));

        r = send_frames(b, b->adapters[best].id, b->adapters[best].id_size, PROTO_REQ, idbuf, sizeof(idbuf), req->meta,
                        req->meta_size, req->body ? req->body : "", req->body_size, 3);
        if (r < 0) {
                b->free_slots[b->n_free++] = slot;
                request_fail(b, req, PROBLEM_PROVIDER_UNAVAILABLE, "the adapter cannot take the request now");
                if (r == -EHOSTUNREACH)
                        adapter_drop(b, best, "unreachable");
                return;
        }
        b->slots[slot] = req;
        req->adapter = best;
        req->deadline = now + req->timeout_ms * USEC_PER_MSEC;
        heap_push(b, req);
        b->adapters[best].in_flight++;
        atomic_fetch_add(&b->in_flight, 1);
}

/* --- receiving ----------------------------------------------------------- */

#define MAX_FRAMES 8

typedef struct Frames {
        zmq_msg_t msg[MAX_FRAMES];
        int n;
        bool truncated;
} Frames;

static void frames_close(Frames *f)
{
        for (int i = 0; i < f->n; i++)
                zmq_msg_close(&f->msg[i]);
        f->n = 0;
}

static int frames_recv(void *sock, Frames *f)
{
        int more;
        size_t sz = sizeof(more);

        f->n = 0;
        f->truncated = false;
        do {
                zmq_msg_t tmp, *m = f->n < MAX_FRAMES ? &f->msg[f->n] : &tmp;
                zmq_msg_init(m);
                if (zmq_msg_recv(m, sock, ZMQ_DONTWAIT) < 0) {
                        int e = errno;
                        zmq_msg_close(m);
                        frames_close(f);
                        return -e;
                }
                if (m == &tmp) {
                        f->truncated = true;
                        zmq_msg_close(m);
                } else
                        f->n++;
                zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
        } while (more);
        return 0;
}

static bool frame_is(zmq_msg_t *m, const char *s)
{
        size_t n = strlen(s);
        return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

/* Count `n` refusals; log the line unless BROKER_REFUSALS_LOGGED went out this minute (a loop must not flood). */
static void refuse(Broker *b, BrokerRefusal why, size_t n, uint64_t now, const char *fmt, ...) _printf_(5, 6);
static void refuse(Broker *b, BrokerRefusal why, size_t n, uint64_t now, const char *fmt, ...)
{
        char line[512];
        va_list ap;

        atomic_fetch_add(&b->n_refusals[why], n);
        if (now - b->log_window >= 60 * USEC_PER_SEC) {
                if (b->log_skipped > 0)
                        log_warning("%u more adapter refusals in the last minute were not logged "
                                    "(xbus_adapter_refusals_total counts them all)",
                                    b->log_skipped);
                b->log_window = now;
                b->log_lines = b->log_skipped = 0;
        }
        if (b->log_lines >= BROKER_REFUSALS_LOGGED) {
                b->log_skipped++;
                return;
        }
        b->log_lines++;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        log_warning("Adapter refused (%s): %s", broker_refusal_name(why), line);
}

/* Tell an adapter how many announced services were refused (naming the first), and why. */
static void send_refused(Broker *b, const uint8_t *id, size_t id_size, const char *first, size_t n, size_t accepted)
{
        _cleanup_(json_decrefp) json_t *j =
                json_pack("{s:s,s:I,s:I,s:[s]}", "reason", broker_refusal_name(BROKER_REFUSED_SERVICE), "refused",
                          (json_int_t)n, "accepted", (json_int_t)accepted, "services", first);
        _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

        if (text)
                (void)send_frames(b, id, id_size, PROTO_REFUSED, text, strlen(text), NULL, 0, NULL, 0, 1);
}

/* READY from the connection with `key`: register the services the registry binds to that key, refuse the rest. */
static void handle_ready(Broker *b, const uint8_t *id, size_t id_size, const char *key, zmq_msg_t *meta, uint64_t now)
{
        ProtoReady ready;
        size_t kept = 0, n_refused = 0;
        int index;
        Adapter *a;

        if (proto_ready_parse(zmq_msg_data(meta), zmq_msg_size(meta), &ready) < 0)
                return;
        /* keep the allowed services in front (in order); the refused ones follow */
        for (size_t i = 0; i < ready.n_services; i++)
                if (registry_adapter_may_serve(b->registry, key, ready.services[i])) {
                        char *t = ready.services[kept];
                        ready.services[kept++] = ready.services[i];
                        ready.services[i] = t;
                }
        n_refused = ready.n_services - kept;
        if (n_refused > 0) {
                refuse(b, BROKER_REFUSED_SERVICE, n_refused, now,
                       "adapter \"%s\" with key %s announced %zu service(s) not bound to its key, such as \"%s\"",
                       ready.name, key, n_refused, ready.services[kept]);
                send_refused(b, id, id_size, ready.services[kept], n_refused, kept);
        }
        index = adapter_find(b, id, id_size);
        if (kept == 0) {
                if (index >= 0)
                        adapter_drop(b, index, "it announced nothing it may serve");
                proto_ready_done(&ready);
                return;
        }
        if (index < 0) {
                for (index = 0; index < MAX_ADAPTERS; index++)
                        if (!b->adapters[index].alive)
                                break;
                if (index == MAX_ADAPTERS) {
                        proto_ready_done(&ready);
                        return; /* full: the adapter keeps re-announcing until a place frees */
                }
        } else {
                /* re-announced: keep in-flight work, replace the service list */
                unsigned inflight = b->adapters[index].in_flight;
                adapter_clear(&b->adapters[index]);
                b->adapters[index].in_flight = inflight;
        }
        a = &b->adapters[index];
        for (size_t i = kept; i < ready.n_services; i++)
                free(ready.services[i]);
        a->services = TAKE_PTR(ready.services);
        a->n_services = kept;
        memcpy(a->id, id, id_size);
        a->id_size = id_size;
        memcpy(a->key, key, sizeof(a->key));
        memcpy(a->kind, ready.kind, sizeof(a->kind));
        memcpy(a->name, ready.name, sizeof(a->name));
        a->capacity = ready.capacity;
        a->last_seen = now;
        a->alive = true;
        if ((unsigned)index >= b->n_adapters)
                b->n_adapters = (unsigned)index + 1;
        summary_update(b);
}

static void handle_reply(Broker *b, int index, Frames *f)
{
        const uint8_t *idb;
        uint64_t id = 0;
        BusRequest *req;
        ProtoReply rep;
        size_t size;

        if (f->n != 6 || zmq_msg_size(&f->msg[3]) != PROTO_ID_LEN)
                return;
        idb = zmq_msg_data(&f->msg[3]);
        for (int i = 0; i < PROTO_ID_LEN; i++)
                id = (id << 8) | idb[i];
        req = b->slots[id & (MAX_IN_FLIGHT - 1)];
        if (!req || req->id != id || req->adapter != index)
                return; /* late (timed out) or forged answer: drop */

        request_untrack(b, req);
        proto_reply_parse(zmq_msg_data(&f->msg[4]), zmq_msg_size(&f->msg[4]), &rep);
        if (rep.error != PROBLEM_NONE) {
                proto_reply_done(&rep);
                request_fail(b, req, rep.error, "%s", rep.detail);
                return;
        }
        req->status = rep.status;
        memcpy(req->content_type, rep.content_type, sizeof(req->content_type));
        req->headers = TAKE_PTR(rep.headers); /* the submitter's from now on, even when failed below */

        size = zmq_msg_size(&f->msg[5]);
        if (size > req->max_response) {
                request_fail(b, req, PROBLEM_RESPONSE_INVALID,
                             "the provider's answer (%zu bytes) exceeds the service's limit (%zu bytes)", size,
                             req->max_response);
                return;
        }
        req->response = malloc(size ? size : 1);
        if (!req->response) {
                request_fail(b, req, PROBLEM_PROVIDER_UNAVAILABLE, "out of memory");
                return;
        }
        memcpy(req->response, zmq_msg_data(&f->msg[5]), size);
        req->response_size = size;
        req->error = PROBLEM_NONE;
        request_finish(b, req);
}

/* Messages from adapters until a receive finds none, up to a budget. Return: true when the budget ran out. */
static bool handle_router(Broker *b, uint64_t now)
{
        for (unsigned budget = 0; budget < 4096; budget++) {
                Frames f;
                const uint8_t *id;
                const char *key;
                size_t id_size;
                int index;

                if (frames_recv(b->router, &f) < 0)
                        return false;
                if (f.truncated || f.n < 3 || !frame_is(&f.msg[1], PROTO_VERSION) ||
                    zmq_msg_size(&f.msg[0]) > sizeof(b->adapters[0].id)) {
                        frames_close(&f);
                        continue;
                }
                id = zmq_msg_data(&f.msg[0]);
                id_size = zmq_msg_size(&f.msg[0]);
                key = zmq_msg_gets(&f.msg[1], "User-Id"); /* set by our ZAP handler: never absent under CURVE */
                if (!keyfile_curve_valid(key)) {
                        frames_close(&f);
                        continue;
                }
                index = adapter_find(b, id, id_size);
                if (index >= 0 && !streq(b->adapters[index].key, key)) {
                        /* a routing id reused by another key: the old connection is gone */
                        adapter_drop(b, index, "its routing id came back with another key");
                        index = -1;
                }

                if (frame_is(&f.msg[2], PROTO_READY) && f.n == 4)
                        handle_ready(b, id, id_size, key, &f.msg[3], now);
                else if (index < 0) {
                        if (!frame_is(&f.msg[2], PROTO_BYE))
                                (void)send_frames(b, id, id_size, PROTO_UNKNOWN, NULL, 0, NULL, 0, NULL, 0, 0);
                } else if (frame_is(&f.msg[2], PROTO_HB))
                        b->adapters[index].last_seen = now;
                else if (frame_is(&f.msg[2], PROTO_REP)) {
                        b->adapters[index].last_seen = now;
                        handle_reply(b, index, &f);
                } else if (frame_is(&f.msg[2], PROTO_BYE))
                        adapter_drop(b, index, "it said goodbye");
                frames_close(&f);
        }
        return true;
}

/* One ZAP request (RFC 27): admit a CURVE client whose key the registry lists; the key becomes its User-Id. */
static void handle_zap(Broker *b, uint64_t now)
{
        Frames f;
        ProtoFrame pf[MAX_FRAMES];
        char key[KEYFILE_CURVE_LEN + 1] = "", address[64] = "";
        bool ok;

        if (frames_recv(b->zap, &f) < 0)
                return;
        for (int i = 0; i < f.n; i++)
                pf[i] = (ProtoFrame){ zmq_msg_data(&f.msg[i]), zmq_msg_size(&f.msg[i]) };
        ok = !f.truncated && proto_zap_parse(pf, (size_t)f.n, key) == 0 && registry_adapter_key_known(b->registry, key);
        if (f.n >= 2) {
                /* version, request id, status code, status text, user id, metadata */
                zmq_send(b->zap, "1.0", 3, ZMQ_SNDMORE);
                zmq_send(b->zap, pf[1].data, pf[1].size, ZMQ_SNDMORE);
                zmq_send(b->zap, ok ? "200" : "400", 3, ZMQ_SNDMORE);
                zmq_send(b->zap, ok ? "OK" : "key not allowed", ok ? 2 : 15, ZMQ_SNDMORE);
                zmq_send(b->zap, key, ok ? strlen(key) : 0, ZMQ_SNDMORE);
                zmq_send(b->zap, "", 0, 0);
        }
        if (!ok && f.n >= 4)
                snprintf(address, sizeof(address), "%.*s", (int)MIN(pf[3].size, (size_t)63), (const char *)pf[3].data);
        if (!ok)
                refuse(b, BROKER_REFUSED_KEY_UNKNOWN, 1, now,
                       "a connection from \"%s\" with key %s: no provider lists it", address,
                       isempty(key) ? "(none)" : key);
        frames_close(&f);
}

/* A failed handshake on the ROUTER (its monitor's event: 2 bytes event, 4 bytes value; then the endpoint). */
static void handle_events(Broker *b, uint64_t now)
{
        Frames f;
        uint16_t event;
        uint32_t value;

        if (frames_recv(b->events, &f) < 0)
                return;
        if (f.n == 2 && zmq_msg_size(&f.msg[0]) == 6) {
                memcpy(&event, zmq_msg_data(&f.msg[0]), sizeof(event));
                memcpy(&value, (const uint8_t *)zmq_msg_data(&f.msg[0]) + 2, sizeof(value));
                if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
                        refuse(b, BROKER_REFUSED_NO_KEY, 1, now, "a connection without CURVE on %s", b->opts.endpoint);
                else /* a wrong node key, a client that hung up (the value is then an errno), not ZeroMQ */
                        refuse(b, BROKER_REFUSED_HANDSHAKE, 1, now, "a handshake failed on %s (event 0x%x, value 0x%x)",
                               b->opts.endpoint, event, value);
        }
        frames_close(&f);
}

/*
 * A newer registry from the daemon. An adapter whose key lost any of its
 * services is dropped (its requests in flight answered provider_unavailable)
 * and told UNKNOWN: it announces again and hears what is refused now.
 */
static void registry_apply(Broker *b, Registry *fresh, uint64_t now)
{
        registry_unref(b->registry);
        b->registry = fresh;
        for (unsigned i = 0; i < b->n_adapters; i++) {
                Adapter *a = &b->adapters[i];
                size_t lost = 0;

                for (size_t k = 0; a->alive && k < a->n_services; k++)
                        lost += !registry_adapter_may_serve(fresh, a->key, a->services[k]);
                if (lost == 0)
                        continue;
                refuse(b, BROKER_REFUSED_REVOKED, lost, now,
                       "adapter \"%s\" with key %s lost %zu of its %zu service(s) at the registry reload", a->name,
                       a->key, lost, a->n_services);
                (void)send_frames(b, a->id, a->id_size, PROTO_UNKNOWN, NULL, 0, NULL, 0, NULL, 0, 0);
                adapter_drop(b, (int)i, "its key lost services at a registry reload");
        }
}

/* Requests past their deadline, heartbeats due. Return: whether anything was sent on the ROUTER. */
static bool handle_timers(Broker *b, uint64_t now)
{
        bool sent = false;

        while (b->heap_size > 0 && b->heap[0]->deadline <= now) {
                BusRequest *req = b->heap[0];
                uint64_t ms = req->timeout_ms;
                request_untrack(b, req);
                atomic_fetch_add(&b->n_timeouts, 1);
                request_fail(b, req, PROBLEM_PROVIDER_TIMEOUT, "the provider did not answer within %" PRIu64 " ms", ms);
        }
        if (now >= b->next_heartbeat) {
                uint64_t dead_after = (uint64_t)b->opts.heartbeat_ms * b->opts.liveness * USEC_PER_MSEC;
                for (unsigned i = 0; i < b->n_adapters; i++) {
                        Adapter *a = &b->adapters[i];
                        if (!a->alive)
                                continue;
                        if (now - a->last_seen > dead_after)
                                adapter_drop(b, (int)i, "no heartbeat");
                        else
                                (void)send_frames(b, a->id, a->id_size, PROTO_HB, NULL, 0, NULL, 0, NULL, 0, 0);
                        sent = true;
                }
                b->next_heartbeat = now + (uint64_t)b->opts.heartbeat_ms * USEC_PER_MSEC;
        }
        return sent;
}

/* Whether `sock` has a message to read (ZMQ_EVENTS: the one reliable answer; its ZMQ_FD only signals change). */
static bool socket_readable(void *sock)
{
        int ev = 0;
        size_t sz = sizeof(ev);

        return zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &sz) == 0 && (ev & ZMQ_POLLIN);
}

static int socket_fd(void *sock)
{
        int fd = -1;
        size_t sz = sizeof(fd);

        return zmq_getsockopt(sock, ZMQ_FD, &fd, &sz) == 0 ? fd : -1;
}

/*
 * The broker's loop. Why not zmq_poll(): it asks each ZeroMQ socket for its
 * events before it sleeps and again after, and each ask costs libzmq a
 * system call or two (a look at the socket's command pipe, a fork check):
 * a dozen per round for the ROUTER, the ZAP handler and the monitor, most
 * of the broker's system calls per exchange. Here the thread sleeps in one
 * poll() on their descriptors (ZMQ_FD, which becomes readable when
 * something happened to the socket) and the mailbox's eventfd, and asks a
 * socket for its events only when its descriptor fired, or when this
 * thread used the socket in the round: a send or receive may take in the
 * signal of a message that is waiting, so the round after such a use looks
 * again before sleeping. Everything the thread received in one wake-up is
 * handled in that round: all submitted requests, up to 4096 adapter
 * messages, the due timers.
 */
static void *broker_thread(void *userdata)
{
        Broker *b = userdata;
        struct pollfd fds[4] = {
                { .fd = socket_fd(b->router), .events = POLLIN },
                { .fd = mailbox_fd(&b->queue), .events = POLLIN },
                { .fd = socket_fd(b->zap), .events = POLLIN },
                { .fd = socket_fd(b->events), .events = POLLIN },
        };
        bool router_look = true, zap_look = true, events_look = true; /* look at each socket first */

        while (!atomic_load(&b->stop)) {
                uint64_t now = now_usec(CLOCK_MONOTONIC), next = b->next_heartbeat;
                Registry *fresh = atomic_exchange(&b->pending, NULL);
                int timeout;

                if (fresh) {
                        registry_apply(b, fresh, now);
                        router_look = true; /* it may have sent */
                }
                if (b->heap_size > 0 && b->heap[0]->deadline < next)
                        next = b->heap[0]->deadline;
                timeout = router_look || zap_look || events_look ? 0
                          : next > now ? (int)MIN((next - now + 999) / 1000, (uint64_t)INT_MAX)
                                       : 0;
                if (poll(fds, ELEMENTSOF(fds), timeout) < 0 && errno != EINTR)
                        break;
                now = now_usec(CLOCK_MONOTONIC);
                if ((zap_look || fds[2].revents) && (zap_look = socket_readable(b->zap))) {
                        handle_zap(b, now);
                        zap_look = true; /* used: look again */
                }
                if ((events_look || fds[3].revents) && (events_look = socket_readable(b->events))) {
                        handle_events(b, now);
                        events_look = true;
                }
                /* read until a receive finds nothing (it looks as ZMQ_EVENTS would), or the budget ends */
                router_look = (router_look || fds[0].revents) && handle_router(b, now);
                if (fds[1].revents) {
                        MailboxItem *it = mailbox_drain(&b->queue);
                        router_look = router_look || it; /* sent on: look again */
                        while (it) {
                                MailboxItem *next_item = it->next;
                                dispatch(b, (BusRequest *)it, now);
                                it = next_item;
                        }
                }
                /* sleep only once the ROUTER has nothing: after the sends of this round (timers
                 * included), a message may be waiting whose signal they took in */
                if (handle_timers(b, now) || router_look)
                        router_look = socket_readable(b->router);
        }

        /* Stopping: nothing submitted stays unanswered. */
        for (MailboxItem *it = mailbox_drain(&b->queue); it;) {
                MailboxItem *next_item = it->next;
                request_fail(b, (BusRequest *)it, PROBLEM_PROVIDER_UNAVAILABLE, "the bus is shutting down");
                it = next_item;
        }
        for (uint32_t s = 0; s < MAX_IN_FLIGHT; s++)
                if (b->slots[s]) {
                        BusRequest *req = b->slots[s];
                        request_untrack(b, req);
                        request_fail(b, req, PROBLEM_PROVIDER_UNAVAILABLE, "the bus is shutting down");
                }
        return NULL;
}

int broker_new(Broker **ret, const BrokerOptions *opts)
{
        Broker *b;
        int r, v;

        if (!keyfile_curve_valid(opts->curve_secret_key) || !opts->registry)
                return -EINVAL;
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->queue = MAILBOX_NULL;
        b->registry = registry_ref(opts->registry);
        b->opts = *opts;
        pthread_mutex_init(&b->roster_lock, NULL);
        if (!b->opts.heartbeat_ms)
                b->opts.heartbeat_ms = PROTO_HEARTBEAT_MS;
        if (!b->opts.liveness)
                b->opts.liveness = PROTO_HEARTBEAT_LIVENESS;
        if (!b->opts.queue_capacity)
                b->opts.queue_capacity = 16384;
        if (!b->opts.max_message)
                b->opts.max_message = MIB(16);
        for (uint32_t i = 0; i < MAX_IN_FLIGHT; i++)
                b->free_slots[i] = MAX_IN_FLIGHT - 1 - i;
        b->n_free = MAX_IN_FLIGHT;
        b->heap = calloc(MAX_IN_FLIGHT, sizeof(BusRequest *));
        if (!b->heap) {
                r = -ENOMEM;
                goto fail;
        }
        r = mailbox_init(&b->queue, b->opts.queue_capacity);
        if (r < 0)
                goto fail;

        b->ctx = zmq_ctx_new();
        if (!b->ctx) {
                r = -errno;
                goto fail;
        }
        /* the ZAP handler first: libzmq admits CURVE clients without asking when none is bound */
        b->zap = zmq_socket(b->ctx, ZMQ_REP);
        b->router = zmq_socket(b->ctx, ZMQ_ROUTER);
        b->events = zmq_socket(b->ctx, ZMQ_PAIR);
        v = 1;
        if (!b->zap || !b->router || !b->events || zmq_bind(b->zap, ZAP_ENDPOINT) < 0 ||
            zmq_setsockopt(b->router, ZMQ_CURVE_SERVER, &v, sizeof(v)) < 0 ||
            zmq_setsockopt(b->router, ZMQ_CURVE_SECRETKEY, opts->curve_secret_key, KEYFILE_CURVE_LEN) < 0 ||
            zmq_socket_monitor(b->router, EVENTS_ENDPOINT,
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) < 0 ||
            zmq_connect(b->events, EVENTS_ENDPOINT) < 0) {
                r = -errno;
                goto fail;
        }
        zmq_setsockopt(b->router, ZMQ_ROUTER_MANDATORY, &v, sizeof(v));
        v = 0;
        zmq_setsockopt(b->router, ZMQ_LINGER, &v, sizeof(v));
        v = 100000;
        zmq_setsockopt(b->router, ZMQ_SNDHWM, &v, sizeof(v));
        zmq_setsockopt(b->router, ZMQ_RCVHWM, &v, sizeof(v));
        {
                int64_t max = (int64_t)b->opts.max_message;
                zmq_setsockopt(b->router, ZMQ_MAXMSGSIZE, &max, sizeof(max));
        }
        if (zmq_bind(b->router, b->opts.endpoint) < 0) {
                r = -errno;
                goto fail;
        }
        b->next_heartbeat = now_usec(CLOCK_MONOTONIC) + (uint64_t)b->opts.heartbeat_ms * USEC_PER_MSEC;
        r = -pthread_create(&b->thread, NULL, broker_thread, b);
        if (r < 0)
                goto fail;
        b->thread_started = true;
        *ret = b;
        return 0;
fail:
        broker_free(b);
        return r;
}

Broker *broker_free(Broker *b)
{
        if (!b)
                return NULL;
        if (b->thread_started) {
                uint64_t one = 1;
                atomic_store(&b->stop, true);
                (void)!write(mailbox_fd(&b->queue), &one, sizeof(one));
                pthread_join(b->thread, NULL);
        }
        for (unsigned i = 0; i < b->n_adapters; i++)
                adapter_clear(&b->adapters[i]);
        for (size_t k = 0; k < b->n_roster; k++)
                free(b->roster[k].service);
        free(b->roster);
        pthread_mutex_destroy(&b->roster_lock);
        if (b->router)
                zmq_close(b->router);
        if (b->zap)
                zmq_close(b->zap);
        if (b->events)
                zmq_close(b->events);
        registry_unref(b->registry);
        registry_unref(atomic_load(&b->pending));
        if (b->ctx)
                zmq_ctx_term(b->ctx);
        mailbox_deinit(&b->queue);
        free(b->heap);
        free(b);
        return NULL;
}

int broker_submit(Broker *b, BusRequest *req)
{
        req->response = NULL;
        req->response_size = 0;
        req->headers = NULL;
        req->error = PROBLEM_NONE;
        req->detail[0] = 0;
        req->content_type[0] = 0;
        if (atomic_load(&b->stop))
                return -ESHUTDOWN;
        return mailbox_post(&b->queue, &req->item);
}

void broker_stats(Broker *b, BrokerStats *ret)
{
        *ret = (BrokerStats){
                .adapters = atomic_load(&b->live_adapters),
                .in_flight = atomic_load(&b->in_flight),
                .requests = atomic_load(&b->n_requests),
                .timeouts = atomic_load(&b->n_timeouts),
                .unavailable = atomic_load(&b->n_unavailable),
        };
        for (int i = 0; i < _BROKER_REFUSED_MAX; i++)
                ret->refusals[i] = atomic_load(&b->n_refusals[i]);
}

void broker_set_registry(Broker *b, Registry *r)
{
        uint64_t one = 1;

        registry_unref(atomic_exchange(&b->pending, registry_ref(r)));
        (void)!write(mailbox_fd(&b->queue), &one, sizeof(one)); /* wake the broker thread */
}

const char *broker_refusal_name(BrokerRefusal r)
{
        static const char *const names[_BROKER_REFUSED_MAX] = {
                [BROKER_REFUSED_NO_KEY] = "no_key",           [BROKER_REFUSED_HANDSHAKE] = "handshake",
                [BROKER_REFUSED_KEY_UNKNOWN] = "key_unknown", [BROKER_REFUSED_SERVICE] = "service_not_allowed",
                [BROKER_REFUSED_REVOKED] = "revoked",
        };

        return r >= 0 && r < _BROKER_REFUSED_MAX ? names[r] : NULL;
}

int broker_unserved(Broker *b, char ***ret)
{
        uint64_t now = now_usec(CLOCK_MONOTONIC), grace = (uint64_t)b->opts.heartbeat_ms * b->opts.liveness * 1000;
        char **l;
        size_t n = 0;

        pthread_mutex_lock(&b->roster_lock);
        l = calloc(b->n_roster + 1, sizeof(char *));
        for (size_t k = 0; l && k < b->n_roster; k++)
                if (b->roster[k].unserved_since && now - b->roster[k].unserved_since >= grace) {
                        l[n] = strdup(b->roster[k].service);
                        if (!l[n++])
                                l = strv_free(l);
                }
        pthread_mutex_unlock(&b->roster_lock);
        if (!l)
                return -ENOMEM;
        *ret = l;
        return 0;
}

unsigned broker_service_adapters(Broker *b, const char *service)
{
        unsigned live = 0;
        size_t i;

        pthread_mutex_lock(&b->roster_lock);
        if (roster_search(b, service, &i))
                live = b->roster[i].live;
        pthread_mutex_unlock(&b->roster_lock);
        return live;
}
