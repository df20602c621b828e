/* adapter.c: the adapter runtime: DEALER workers speaking exchange/bus/proto.h */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#include "bus/proto.h"
#include "crypto/keyfile.h"
#include "runtime/adapter-internal.h"
#include "runtime/adapter.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/utf8.h"

/*
 * Shape of one worker (there are opts->workers of them):
 *
 *   bus ROUTER <--tcp/ipc--> DEALER [I/O thread] <--inproc PAIR--> [handler thread]
 *
 * The I/O thread owns the DEALER: it announces READY, heartbeats, answers
 * UNKNOWN with READY, reconnects when the bus has been silent too long,
 * checks every incoming message's frames and sizes, and passes well-formed
 * REQs to the handler thread. The handler thread parses the meta JSON, calls
 * the program's handler one request at a time, and passes the REP back. The
 * split exists so that heartbeats keep flowing while a handler waits on a
 * slow backend: a ZeroMQ socket must not be used by two threads at once, and
 * a worker that stopped heartbeating would be dropped by the bus with its
 * request in flight.
 *
 * Stopping: adapter_stop() (also the SIGINT/SIGTERM handler) sets a flag and
 * writes a byte into a self-pipe that every I/O thread polls. The I/O thread
 * then tells its handler STOP, keeps heartbeating and forwarding the answer
 * of the request being handled, and once the handler reports DONE sends BYE.
 * REQs still queued for the handler are dropped (the bus answers them when it
 * sees BYE).
 */

#define ADAPTER_MAX_FRAMES 8   /* more frames than any valid message */
#define ADAPTER_RECV_BATCH 256 /* messages read per poll round, for fairness */
#define ADAPTER_RECONNECT_IVL_MS 100
#define ADAPTER_RECONNECT_IVL_MAX_MS 2000
#define ADAPTER_READY_RETRY_MS 20 /* READY waits for the connection to come up */
#define ADAPTER_BACKOFF_MS 1000   /* after a refusal (key or services): wait, doubling up to the max */
#define ADAPTER_BACKOFF_MAX_MS 60000

/* Messages on the inproc pair between the I/O and the handler thread. */
#define PAIR_REQ "REQ"   /* io -> handler: REQ <arrival:8> <id> <meta> <body> */
#define PAIR_STOP "STOP" /* io -> handler */
#define PAIR_INIT "INIT" /* handler -> io: INIT <int result> */
#define PAIR_REP "REP"   /* handler -> io: REP <id> <meta> <body> */
#define PAIR_DONE "DONE" /* handler -> io: the handler thread is finishing */

static atomic_bool stop_requested;
static atomic_bool running;
static atomic_int stop_pipe_write = -1;
static int stop_pipe_read = -1;
static int stop_pipe_error;
static pthread_once_t stop_pipe_once = PTHREAD_ONCE_INIT;

typedef struct Run {
        const AdapterOptions *opts;
        const AdapterHandler *h;
        void *userdata;
        void *zctx;
        size_t max_body;
        unsigned capacity;
        atomic_int error; /* first failure, 0 if none */
} Run;

typedef struct Worker {
        Run *run;
        unsigned index;
        char pair_endpoint[64];
        char *ready; /* READY json, owned */
        size_t ready_size;
        pthread_t io_thread;
        bool io_started;
        void *inline_state; /* the handler's state in inline mode */
} Worker;

typedef struct HandlerArgs {
        Worker *w;
        pthread_t thread;
} HandlerArgs;

static void zmq_closep(void **s)
{
        if (*s)
                zmq_close(*s);
}
#define _cleanup_zmq_ _cleanup_(zmq_closep)

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void stop_pipe_create(void)
{
        int fds[2];

        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
                stop_pipe_error = -errno;
                return;
        }
        /* Never closed: a signal handler may write to it at any time. */
        stop_pipe_read = fds[0];
        atomic_store(&stop_pipe_write, fds[1]);
}

static void stop_pipe_drain(void)
{
        char buf[64];

        while (read(stop_pipe_read, buf, sizeof(buf)) > 0)
                ;
}

void adapter_stop(void)
{
        int saved = errno, fd;

        atomic_store(&stop_requested, true);
        fd = atomic_load(&stop_pipe_write);
        if (fd >= 0)
                (void)!write(fd, "x", 1);
        errno = saved;
}

static void on_signal(int sig)
{
        adapter_stop();
}

static void run_fail(Run *run, int r)
{
        int expected = 0;

        atomic_compare_exchange_strong(&run->error, &expected, r);
        adapter_stop();
}

static bool frame_is(zmq_msg_t *m, const char *s)
{
        size_t n = strlen(s);

        return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

/* Send a frame copied from `data`. Return: 0 or -errno (-EAGAIN when it would block). */
static int send_frame(void *sock, const void *data, size_t size, bool more)
{
        if (zmq_send(sock, data, size, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0)
                return -errno;
        return 0;
}

static int send_str(void *sock, const char *s, bool more)
{
        return send_frame(sock, s, strlen(s), more);
}

/* Send a message frame; on success `m` is left empty, on failure untouched (close it either way). */
static int send_msg(void *sock, zmq_msg_t *m, bool more)
{
        if (zmq_msg_send(m, sock, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0)
                return -errno;
        return 0;
}

static void msgs_close(zmq_msg_t *msgs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                zmq_msg_close(&msgs[i]);
}

/*
 * Receive one whole multipart message into msgs[] (initialised here).
 * Return: the number of frames; -EBADMSG when it had more than `max` frames
 * (the message is consumed and nothing is kept); -EAGAIN when nothing waits.
 */
static int recv_multipart(void *sock, zmq_msg_t *msgs, size_t max, int flags)
{
        size_t n = 0;
        bool too_many = false;

        for (;;) {
                zmq_msg_t m;
                int more;

                zmq_msg_init(&m);
                if (zmq_msg_recv(&m, sock, n == 0 ? flags : 0) < 0) {
                        int r = -errno;
                        zmq_msg_close(&m);
                        if (n == 0)
                                return r;
                        /* A multipart message arrives whole; this is not expected. */
                        msgs_close(msgs, too_many ? 0 : n);
                        return r;
                }
                more = zmq_msg_more(&m);
                if (!too_many && n < max)
                        msgs[n] = m;
                else {
                        zmq_msg_close(&m);
                        if (!too_many) {
                                msgs_close(msgs, n);
                                too_many = true;
                        }
                }
                n++;
                if (!more)
                        break;
        }
        return too_many ? -EBADMSG : (int)n;
}

/* A DEALER with our options, not connected yet. */
static int dealer_open(Worker *w, void **ret)
{
        const AdapterOptions *o = w->run->opts;
        int zero = 0, one = 1, ivl = ADAPTER_RECONNECT_IVL_MS, ivl_max = ADAPTER_RECONNECT_IVL_MAX_MS;
        /*
         * Twice the larger frame limit: frames up to that are received and
         * refused one by one (413 for a body, ignored for a meta); larger
         * ones make ZeroMQ drop the connection, which then reconnects.
         */
        int64_t maxmsg = 2 * (int64_t)MAX(w->run->max_body, (size_t)PROTO_MAX_META);
        _cleanup_zmq_ void *s = NULL;

        s = zmq_socket(w->run->zctx, ZMQ_DEALER);
        if (!s)
                return -errno;
        /*
         * IMMEDIATE: while no connection is up, sends fail at once instead of
         * queueing stale heartbeats for a bus that is not there; the bus
         * answers our first heartbeat with UNKNOWN and we announce then.
         * MAXMSGSIZE: a hard cap on any one frame, checked by ZeroMQ before
         * it allocates; finer checks follow per frame.
         */
        if (zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero)) < 0 ||
            zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof(one)) < 0 ||
            zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) < 0 ||
            zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof(ivl_max)) < 0 ||
            zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) < 0)
                return -errno;
        if (o->curve_server_key) {
                if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, o->curve_server_key, ADAPTER_CURVE_KEY_LEN) < 0 ||
                    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, o->curve_public_key, ADAPTER_CURVE_KEY_LEN) < 0 ||
                    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, o->curve_secret_key, ADAPTER_CURVE_KEY_LEN) < 0)
                        return -errno;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/*
 * Return: true when READY went out. With ZMQ_IMMEDIATE it fails while the
 * connection is not up yet; the caller retries on a short timer.
 */
static bool send_ready(Worker *w, void *dealer)
{
        /* the first frame going out guarantees the rest of the message */
        if (send_str(dealer, PROTO_VERSION, true) < 0)
                return false;
        send_str(dealer, PROTO_READY, true);
        send_frame(dealer, w->ready, w->ready_size, false);
        log_debug("adapter worker %u: READY sent", w->index);
        return true;
}

static void send_simple(void *dealer, const char *cmd)
{
        if (send_str(dealer, PROTO_VERSION, true) >= 0)
                send_str(dealer, cmd, false);
}

static void handler_request_frames(Worker *w, void *state, void *pair, uint64_t arrival, zmq_msg_t *id,
                                   zmq_msg_t *meta_msg, zmq_msg_t *body_msg);

/* The I/O thread of one worker (see io_thread()). */
typedef struct Io {
        Worker *w;
        void *dealer; /* NULL while none is open */
        void *events; /* the DEALER's failed handshakes (a monitor), with it */
        void *pair;   /* to the handler thread; NULL in inline mode */
        uint64_t now, next_hb, last_heard;
        uint64_t retry_at, backoff; /* disconnected after a refusal until retry_at (0: not waiting) */
        unsigned generation;        /* of the DEALER, for its monitor's endpoint */
        bool draining, done, ready_pending;
} Io;

/*
 * The bus refused us (our key at the handshake, or every service we
 * announced): say why, disconnect and try again later, 1 s doubling to 60 s
 * (a REQ resets it), instead of reconnecting in a loop.
 */
static void io_backoff(Io *io, const char *why)
{
        io->backoff = io->backoff ? MIN(io->backoff * 2, (uint64_t)ADAPTER_BACKOFF_MAX_MS) : ADAPTER_BACKOFF_MS;
        log_warning("adapter worker %u: %s; trying again in %" PRIu64 " s", io->w->index, why, io->backoff / 1000);
        (void)zmq_disconnect(io->dealer, io->w->run->opts->endpoint);
        io->retry_at = now_ms() + io->backoff;
        io->ready_pending = false;
}

/* REFUSED: the services the bus would not take from us, and why. */
static void io_refused(Io *io, zmq_msg_t *m)
{
        _cleanup_(json_decrefp) json_t *j = json_loadb(zmq_msg_data(m), zmq_msg_size(m), 0, NULL);
        json_t *first = json_array_get(json_object_get(j, "services"), 0);

        log_warning("adapter worker %u: the bus refused %" JSON_INTEGER_FORMAT " announced service(s) such as "
                    "\"%.255s\" (%.40s: the node's registry does not bind them to this adapter's key)",
                    io->w->index, json_integer_value(json_object_get(j, "refused")), strempty(json_string_value(first)),
                    strempty(json_string_value(json_object_get(j, "reason"))));
        if (json_integer_value(json_object_get(j, "accepted")) == 0)
                io_backoff(io, "nothing announced was accepted");
}

/* After each poll round: what the DEALER's monitor saw (2 bytes event, 4 bytes value; then an address). */
static void io_events(Io *io)
{
        zmq_msg_t msgs[2];
        uint16_t event;
        uint32_t value;
        int n;

        while (io->events && (n = recv_multipart(io->events, msgs, ELEMENTSOF(msgs), ZMQ_DONTWAIT)) > 0) {
                if (n == 2 && zmq_msg_size(&msgs[0]) == 6 && !io->retry_at) {
                        memcpy(&event, zmq_msg_data(&msgs[0]), sizeof(event));
                        memcpy(&value, (uint8_t *)zmq_msg_data(&msgs[0]) + 2, sizeof(value));
                        /* the side that notices first says why; the other sees the connection cut (no detail) */
                        io_backoff(io, event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                                               ? "the bus refused this adapter's CURVE key (no provider of its "
                                                 "registry lists it)"
                                       : !io->w->run->opts->curve_server_key
                                               ? "the bus requires CURVE: give this adapter its key pair "
                                                 "(--curve-server-key, --curve-public-key, --curve-secret-key-file)"
                                       : value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                                               ? "the bus does not use CURVE"
                                               : "the CURVE handshake failed (is --curve-server-key the node's key?)");
                }
                msgs_close(msgs, (size_t)n);
        }
}

/*
 * One message from the bus. Returns true when the bus spoke the protocol
 * (the message counts as a sign of life). Forwards REQs to the handler.
 */
static bool io_bus_message(Io *io)
{
        Worker *w = io->w;
        void *dealer = io->dealer, *pair = io->pair;
        zmq_msg_t msgs[ADAPTER_MAX_FRAMES];
        int n;

        n = recv_multipart(dealer, msgs, ELEMENTSOF(msgs), ZMQ_DONTWAIT);
        if (n == -EBADMSG) {
                log_debug("adapter worker %u: message with too many frames, ignoring", w->index);
                return false;
        }
        if (n <= 0)
                return false;

        if (n < 2 || !frame_is(&msgs[0], PROTO_VERSION)) {
                log_debug("adapter worker %u: message without protocol version, ignoring", w->index);
                msgs_close(msgs, n);
                return false;
        }

        if (frame_is(&msgs[1], PROTO_HB) && n == 2) {
                /* Answer at once: the bus judges liveness by its own heartbeat interval,
                 * which may be shorter than ours. */
                send_simple(dealer, PROTO_HB);
        } else if (frame_is(&msgs[1], PROTO_REFUSED) && n == 3) {
                io_refused(io, &msgs[2]);
        } else if (frame_is(&msgs[1], PROTO_UNKNOWN) && n == 2) {
                log_debug("adapter worker %u: bus does not know us, announcing", w->index);
                io->ready_pending = !send_ready(w, dealer);
        } else if (frame_is(&msgs[1], PROTO_REQ) && n == 5) {
                uint64_t arrival = now_ms();

                io->backoff = 0; /* we serve: the next refusal starts waiting short again */
                if (zmq_msg_size(&msgs[2]) != PROTO_ID_LEN)
                        log_debug("adapter worker %u: REQ with a bad id frame, ignoring", w->index);
                else if (zmq_msg_size(&msgs[3]) > PROTO_MAX_META)
                        log_debug("adapter worker %u: REQ meta of %zu bytes over the limit, ignoring", w->index,
                                  zmq_msg_size(&msgs[3]));
                else if (zmq_msg_size(&msgs[4]) > w->run->max_body) {
                        /* well-formed but too large: answer rather than leave the bus waiting */
                        char meta[160], body[48];

                        snprintf(meta, sizeof(meta),
                                 "{\"status\":413,\"content_type\":\"application/json\",\"error\":\"%s\","
                                 "\"detail\":\"the request body exceeds the adapter's limit\"}",
                                 problem_name(PROBLEM_PAYLOAD_TOO_LARGE));
                        snprintf(body, sizeof(body), "{\"error\":\"%s\"}", problem_name(PROBLEM_PAYLOAD_TOO_LARGE));

                        log_debug("adapter worker %u: REQ body of %zu bytes over the limit, refusing", w->index,
                                  zmq_msg_size(&msgs[4]));
                        if (send_str(dealer, PROTO_VERSION, true) >= 0) {
                                send_str(dealer, PROTO_REP, true);
                                send_msg(dealer, &msgs[2], true);
                                send_frame(dealer, meta, strlen(meta), true);
                                send_str(dealer, body, false);
                        }
                } else if (io->draining)
                        log_debug("adapter worker %u: REQ while stopping, ignoring", w->index);
                else if (w->run->opts->inline_handler)
                        handler_request_frames(w, w->inline_state, dealer, arrival, &msgs[2], &msgs[3], &msgs[4]);
                else if (send_str(pair, PAIR_REQ, true) < 0 || send_frame(pair, &arrival, sizeof(arrival), true) < 0 ||
                         send_msg(pair, &msgs[2], true) < 0 || send_msg(pair, &msgs[3], true) < 0 ||
                         send_msg(pair, &msgs[4], false) < 0) {
                        /* The inproc queue is full (the bus sent far beyond our capacity). */
                        log_debug("adapter worker %u: handler queue full, dropping REQ", w->index);
                }
                /* frames moved into the pair are empty now; closing them is a no-op */
        } else
                log_debug("adapter worker %u: unknown or malformed command, ignoring", w->index);

        msgs_close(msgs, n);
        return true;
}

/* One message from the handler thread. Sets io->done when the handler finished. */
static void io_pair_message(Io *io)
{
        zmq_msg_t msgs[ADAPTER_MAX_FRAMES];
        int n;

        n = recv_multipart(io->pair, msgs, ELEMENTSOF(msgs), ZMQ_DONTWAIT);
        if (n <= 0)
                return;
        if (frame_is(&msgs[0], PAIR_DONE)) {
                io->done = true;
        } else if (frame_is(&msgs[0], PAIR_REP) && n == 4) {
                if (send_str(io->dealer, PROTO_VERSION, true) < 0)
                        log_debug("adapter worker %u: bus not reachable, dropping REP", io->w->index);
                else {
                        send_str(io->dealer, PROTO_REP, true);
                        send_msg(io->dealer, &msgs[1], true);
                        send_msg(io->dealer, &msgs[2], true);
                        send_msg(io->dealer, &msgs[3], false);
                }
        }
        msgs_close(msgs, n);
}

static bool serves(const Run *run, const char *service)
{
        for (const char *const *s = run->opts->services; *s; s++)
                if (streq(*s, service))
                        return true;
        return false;
}

static bool content_type_valid(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static void free_body(void *data, void *hint)
{
        free(data);
}

static void response_headers_free(AdapterResponse *resp)
{
        for (size_t i = 0; i < resp->n_headers; i++) {
                free((char *)resp->headers[i].name);
                free((char *)resp->headers[i].value);
        }
        resp->headers = mfree(resp->headers);
        resp->n_headers = 0;
}

int adapter_response_add_header(AdapterResponse *resp, const char *name, const char *value)
{
        AdapterHeader *a;
        char *n, *v;

        if (!proto_header_name_valid(name) || !proto_header_value_valid(value) || !utf8_valid(value, strlen(value)))
                return -EINVAL;
        if (resp->n_headers >= PROTO_MAX_HEADERS)
                return -E2BIG;
        a = reallocarray(resp->headers, resp->n_headers + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        resp->headers = a;
        n = strdup(name);
        v = strdup(value);
        if (!n || !v) {
                free(n);
                free(v);
                return -ENOMEM;
        }
        a[resp->n_headers++] = (AdapterHeader){ n, v };
        return 0;
}

int adapter_response_error(AdapterResponse *resp, int status, ProblemType error, const char *detail)
{
        json_t *j;
        char *text;

        resp->body = mfree(resp->body);
        resp->body_size = 0;
        response_headers_free(resp);
        resp->status = status;
        resp->error = error;
        snprintf(resp->detail, sizeof(resp->detail), "%s", strempty(detail));
        strcpy(resp->content_type, "application/json");
        j = detail ? json_pack("{s:s,s:s}", "error", problem_name(error), "detail", detail)
                   : json_pack("{s:s}", "error", problem_name(error));
        text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!text)
                return -ENOMEM;
        resp->body = (uint8_t *)text;
        resp->body_size = strlen(text);
        return 0;
}

/* In the handler thread: an answer made by the runtime (out of memory leaves the body empty). */
static void response_fail(AdapterResponse *resp, int status, ProblemType error, const char *detail)
{
        (void)adapter_response_error(resp, status, error, detail);
}

/* Send REP <id> <meta> <body> to the I/O thread; takes resp->body. */
static void handler_reply(Worker *w, void *pair, zmq_msg_t *id, AdapterResponse *resp)
{
        bool direct = w->run->opts->inline_handler; /* `pair` is then the DEALER */
        _cleanup_free_ char *text = NULL;
        zmq_msg_t body;

        text = adapter_meta_reply(resp);
        if (text && strlen(text) > PROTO_MAX_META) {
                /* the bus would take it for a malformed answer: say what happened */
                log_debug("adapter worker %u: REP meta of %zu bytes over the limit", w->index, strlen(text));
                response_fail(resp, 502, PROBLEM_RESPONSE_INVALID, "the provider's headers exceed the size limit");
                free(text);
                text = adapter_meta_reply(resp);
        }
        response_headers_free(resp);
        if (!text) {
                log_debug("adapter worker %u: out of memory building REP, dropping", w->index);
                resp->body = mfree(resp->body);
                return;
        }

        if (resp->body) {
                if (zmq_msg_init_data(&body, resp->body, resp->body_size, free_body, NULL) < 0) {
                        resp->body = mfree(resp->body);
                        return;
                }
                resp->body = NULL;
        } else
                zmq_msg_init(&body);

        /* The pair is inproc with a large queue; a failed send only drops this answer. */
        if ((direct && (send_str(pair, PROTO_VERSION, true) < 0 || send_str(pair, PROTO_REP, true) < 0)) ||
            (!direct && send_str(pair, PAIR_REP, true) < 0) || send_msg(pair, id, true) < 0 ||
            send_frame(pair, text, strlen(text), true) < 0 || send_msg(pair, &body, false) < 0)
                log_debug("adapter worker %u: could not pass REP on, dropping", w->index);
        zmq_msg_close(&body); /* no-op when sent */
}

/* Handle one REQ <arrival> <id> <meta> <body> from the pair (or, inline, from the bus). */

static void handler_request(Worker *w, void *state, void *pair, zmq_msg_t *msgs)
{
        uint64_t arrival;

        memcpy(&arrival, zmq_msg_data(&msgs[1]), sizeof(arrival));
        handler_request_frames(w, state, pair, arrival, &msgs[2], &msgs[3], &msgs[4]);
}

static void handler_request_frames(Worker *w, void *state, void *pair, uint64_t arrival, zmq_msg_t *id,
                                   zmq_msg_t *meta_msg, zmq_msg_t *body_msg)
{
        Run *run = w->run;
        _cleanup_(adapter_meta_done) AdapterMeta meta = {};
        AdapterRequest req = {};
        AdapterResponse resp = {};
        int r;

        if (adapter_meta_request(zmq_msg_data(meta_msg), zmq_msg_size(meta_msg), &req, &meta) < 0) {
                log_debug("adapter worker %u: REQ with invalid meta, ignoring", w->index);
                return;
        }
        if (atomic_load(&stop_requested)) {
                log_debug("adapter worker %u: stopping, dropping queued REQ", w->index);
                return;
        }
        if (req.timeout_ms > 0 && now_ms() - arrival >= req.timeout_ms) {
                log_debug("adapter worker %u: REQ waited past its timeout, dropping", w->index);
                return;
        }
        req.body = zmq_msg_data(body_msg);
        req.body_size = zmq_msg_size(body_msg);

        strcpy(resp.content_type, "application/json");
        if (!serves(run, req.service)) {
                response_fail(&resp, 404, PROBLEM_SERVICE_UNKNOWN, "this adapter does not serve the service");
        } else {
                r = run->h->handle(run->userdata, state, &req, &resp);
                resp.content_type[sizeof(resp.content_type) - 1] = '\0';
                resp.detail[sizeof(resp.detail) - 1] = '\0';
                if (r < 0)
                        response_fail(&resp, 502, PROBLEM_PROVIDER_UNAVAILABLE,
                                      "the adapter could not process the request");
                else if (resp.status < 100 || resp.status > 599)
                        response_fail(&resp, 502, PROBLEM_PROVIDER_ERROR, "the adapter produced an invalid answer");
                else if (resp.body_size > 0 && !resp.body)
                        response_fail(&resp, 502, PROBLEM_PROVIDER_ERROR, "the adapter produced an invalid answer");
                else if (resp.body_size > ADAPTER_MAX_BODY_LIMIT)
                        response_fail(&resp, 502, PROBLEM_RESPONSE_INVALID, "response exceeds the size limit");
                else if (!content_type_valid(resp.content_type))
                        strcpy(resp.content_type, "application/json");
        }
        handler_reply(w, pair, id, &resp);
}

/*
 * pair_open(): one end of the inproc pair between a worker's I/O thread (binds,
 * sends REQs) and its handler thread (connects, receives them). REQs waiting for
 * the handler are bounded by the announced capacity (the sender's send queue
 * plus the receiver's receive queue); beyond that a REQ is dropped, and the bus
 * answers it on its timeout. REPs coming back are bounded by the REQs let in.
 */
static void *pair_open(Worker *w, bool io_side)
{
        Run *run = w->run;
        void *pair = zmq_socket(run->zctx, ZMQ_PAIR);
        int capacity = (int)MIN(run->capacity, (unsigned)INT_MAX), zero = 0;

        if (!pair) {
                run_fail(run, -errno);
                return NULL;
        }
        zmq_setsockopt(pair, io_side ? ZMQ_SNDHWM : ZMQ_RCVHWM, &capacity, sizeof(capacity));
        zmq_setsockopt(pair, io_side ? ZMQ_RCVHWM : ZMQ_SNDHWM, &zero, sizeof(zero));
        if ((io_side ? zmq_bind(pair, w->pair_endpoint) : zmq_connect(pair, w->pair_endpoint)) < 0) {
                run_fail(run, -errno);
                zmq_close(pair);
                return NULL;
        }
        return pair;
}

static void *handler_thread(void *p)
{
        HandlerArgs *a = p;
        Worker *w = a->w;
        Run *run = w->run;
        _cleanup_zmq_ void *pair = NULL;
        void *state = NULL;
        int r;

        pair = pair_open(w, false);
        if (!pair)
                return NULL;

        r = run->h->worker_init ? run->h->worker_init(run->userdata, &state) : 0;
        if (zmq_send(pair, PAIR_INIT, strlen(PAIR_INIT), ZMQ_SNDMORE) < 0 || zmq_send(pair, &r, sizeof(r), 0) < 0) {
                run_fail(run, -errno);
                goto finish;
        }
        if (r < 0)
                return NULL;

        for (;;) {
                zmq_msg_t msgs[ADAPTER_MAX_FRAMES];
                int n;

                n = recv_multipart(pair, msgs, ELEMENTSOF(msgs), 0);
                if (n == -EINTR)
                        continue;
                if (n < 0)
                        break;
                if (frame_is(&msgs[0], PAIR_STOP)) {
                        msgs_close(msgs, n);
                        break;
                }
                if (frame_is(&msgs[0], PAIR_REQ) && n == 5)
                        handler_request(w, state, pair, msgs);
                msgs_close(msgs, n);
        }

finish:
        if (run->h->worker_done)
                run->h->worker_done(run->userdata, state);
        (void)!zmq_send(pair, PAIR_DONE, strlen(PAIR_DONE), 0);
        return NULL;
}

/* Wait for the handler's INIT. Return: its worker_init() result, or -errno. */
static int io_wait_init(void *pair)
{
        zmq_msg_t msgs[ADAPTER_MAX_FRAMES];
        int n, r = -EPROTO;

        do
                n = recv_multipart(pair, msgs, ELEMENTSOF(msgs), 0);
        while (n == -EINTR);
        if (n < 0)
                return n;
        if (n == 2 && frame_is(&msgs[0], PAIR_INIT) && zmq_msg_size(&msgs[1]) == sizeof(int))
                memcpy(&r, zmq_msg_data(&msgs[1]), sizeof(int));
        msgs_close(msgs, n);
        return r;
}

/*
 * io_drain(): begin stopping, once. The handler thread is told STOP and the
 * loop goes on (heartbeating, passing the answer of the request in hand)
 * until it reports DONE; in inline mode nothing is in flight and the loop
 * ends at once.
 */
static void io_drain(Io *io)
{
        if (io->draining)
                return;
        io->draining = true;
        if (io->w->run->opts->inline_handler)
                io->done = true;
        else
                send_str(io->pair, PAIR_STOP, false);
}

/* A failure that ends the run: recorded (the first one is returned by adapter_run()), then drain. */
static void io_fail(Io *io, int r)
{
        run_fail(io->w->run, r);
        io_drain(io);
}

static void io_close(Io *io)
{
        zmq_closep(&io->events);
        zmq_closep(&io->dealer);
        io->events = io->dealer = NULL;
}

/* Open a DEALER, watch its handshakes, connect, announce READY (retried on a timer while the connection is not up). */
static void io_connect(Io *io)
{
        const int watch = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                          ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
        char ep[64];
        int r = dealer_open(io->w, &io->dealer);

        snprintf(ep, sizeof(ep), "inproc://xbus-adapter-events-%u-%u", io->w->index, io->generation++);
        if (r == 0 &&
            (zmq_socket_monitor(io->dealer, ep, watch) < 0 || !(io->events = zmq_socket(io->w->run->zctx, ZMQ_PAIR)) ||
             zmq_connect(io->events, ep) < 0 || zmq_connect(io->dealer, io->w->run->opts->endpoint) < 0))
                r = -errno;
        if (r < 0) {
                io_close(io);
                io_fail(io, r);
        } else
                io->ready_pending = !send_ready(io->w, io->dealer);
}

static bool socket_readable(void *s)
{
        int ev = 0;
        size_t sz = sizeof(ev);

        return zmq_getsockopt(s, ZMQ_EVENTS, &ev, &sz) >= 0 && (ev & ZMQ_POLLIN);
}

/* Until the next heartbeat is due (or the next READY retry); forever without a DEALER. */
static long io_timeout(const Io *io)
{
        long timeout;

        if (!io->dealer)
                return -1; /* only waiting for the handler's DONE */
        if (io->retry_at)
                return io->retry_at > io->now ? (long)(io->retry_at - io->now) : 0;
        timeout = io->next_hb > io->now ? (long)(io->next_hb - io->now) : 0;
        if (io->ready_pending && timeout > ADAPTER_READY_RETRY_MS)
                timeout = ADAPTER_READY_RETRY_MS;
        return timeout;
}

static void io_pair_batch(Io *io)
{
        for (int i = 0; i < ADAPTER_RECV_BATCH && !io->done; i++) {
                io_pair_message(io);
                if (!socket_readable(io->pair))
                        break;
        }
}

static void io_bus_batch(Io *io)
{
        for (int i = 0; i < ADAPTER_RECV_BATCH; i++) {
                if (io_bus_message(io))
                        io->last_heard = now_ms();
                if (!socket_readable(io->dealer))
                        break;
        }
}

/* After each poll round: retry READY, heartbeat, and reconnect when the bus has been silent too long. */
static void io_timers(Io *io)
{
        if (!io->dealer)
                return;
        io->now = now_ms();
        io_events(io);
        if (io->retry_at) {
                if (io->now < io->retry_at)
                        return; /* waiting out a refusal: no heartbeats, no silence to notice */
                io->retry_at = 0;
                io->last_heard = io->now;
                if (zmq_connect(io->dealer, io->w->run->opts->endpoint) < 0)
                        io_fail(io, -errno);
                io->ready_pending = !io->draining;
        }
        if (io->ready_pending && !io->draining)
                io->ready_pending = !send_ready(io->w, io->dealer);
        if (io->now >= io->next_hb) {
                send_simple(io->dealer, PROTO_HB);
                io->next_hb = io->now + PROTO_HEARTBEAT_MS;
        }
        if (io->now - io->last_heard > (uint64_t)PROTO_HEARTBEAT_LIVENESS * PROTO_HEARTBEAT_MS) {
                /*
                 * The bus went quiet: it may have restarted behind the
                 * same address (the old TCP connection is a zombie) or
                 * lost us. A fresh socket gets a fresh connection and
                 * routing id; READY announces us again.
                 */
                /*
                 * The one message above debug level: this loop is the
                 * adapter program's main loop, and an operator needs
                 * to see a bus that went away.
                 */
                log_info("adapter worker %u: bus silent for %" PRIu64 " ms, reconnecting", io->w->index,
                         io->now - io->last_heard);
                io_close(io);
                io_connect(io);
                io->last_heard = io->now;
        }
}

/* Handler thread mode: the handler's pair, the bus and the stop pipe, until the handler reports DONE. */
static void io_loop_threaded(Io *io)
{
        while (!io->done) {
                zmq_pollitem_t items[3] = {
                        { .socket = io->pair, .events = ZMQ_POLLIN },
                        { .socket = io->dealer, .events = ZMQ_POLLIN },
                        { .fd = stop_pipe_read, .events = ZMQ_POLLIN },
                };
                /* without a DEALER only the pair; once draining, no more stop pipe */
                int n = io->dealer ? (io->draining ? 2 : 3) : 1;

                if (zmq_poll(items, n, io_timeout(io)) < 0 && errno != EINTR) {
                        io_fail(io, -errno);
                        continue;
                }
                if (atomic_load(&stop_requested) || (n > 2 && items[2].revents))
                        io_drain(io);
                if (items[0].revents & ZMQ_POLLIN)
                        io_pair_batch(io);
                if (io->dealer && (items[1].revents & ZMQ_POLLIN))
                        io_bus_batch(io);
                io_timers(io);
        }
}

/*
 * Inline mode: the bus and the stop pipe; requests are handled inside
 * io_bus_message(). Draining ends this loop at once (nothing is in flight),
 * so at the top of each round the DEALER is open and the stop pipe polled.
 */
static void io_loop_inline(Io *io)
{
        while (!io->done) {
                zmq_pollitem_t items[2] = {
                        { .socket = io->dealer, .events = ZMQ_POLLIN },
                        { .fd = stop_pipe_read, .events = ZMQ_POLLIN },
                };

                if (zmq_poll(items, 2, io_timeout(io)) < 0 && errno != EINTR) {
                        io_fail(io, -errno);
                        continue;
                }
                if (atomic_load(&stop_requested) || items[1].revents)
                        io_drain(io);
                if (items[0].revents & ZMQ_POLLIN)
                        io_bus_batch(io);
                io_timers(io);
        }
}

static void io_start(Io *io)
{
        io_connect(io);
        io->now = now_ms();
        io->next_hb = io->now + PROTO_HEARTBEAT_MS;
        io->last_heard = io->now;
}

static void io_bye(Io *io)
{
        if (io->dealer)
                send_simple(io->dealer, PROTO_BYE);
        io_close(io);
}

static void io_run_inline(Io *io)
{
        Run *run = io->w->run;
        int r;

        /* No handler thread: the state lives here, requests are handled in io_bus_message(). */
        r = run->h->worker_init ? run->h->worker_init(run->userdata, &io->w->inline_state) : 0;
        if (r < 0) {
                run_fail(run, r);
                return;
        }
        io_start(io);
        io_loop_inline(io);
        io_bye(io);
        if (run->h->worker_done)
                run->h->worker_done(run->userdata, io->w->inline_state);
}

static void io_run_threaded(Io *io)
{
        Worker *w = io->w;
        HandlerArgs ha = { .w = w };
        _cleanup_zmq_ void *pair = NULL;
        int r;

        pair = pair_open(w, true);
        if (!pair)
                return;
        r = pthread_create(&ha.thread, NULL, handler_thread, &ha);
        if (r != 0) {
                run_fail(w->run, -r);
                return;
        }
        r = io_wait_init(pair);
        if (r < 0) {
                run_fail(w->run, r);
                pthread_join(ha.thread, NULL);
                return;
        }
        io->pair = pair;
        io_start(io);
        io_loop_threaded(io);
        io_bye(io);
        pthread_join(ha.thread, NULL);
}

/*
 * io_thread(): one worker's I/O thread. It owns the DEALER; in the default
 * mode a handler thread answers requests behind an inproc pair, in inline
 * mode (AdapterOptions.inline_handler) this thread answers them itself.
 * Both modes stop the same way (io_drain()) and end with BYE.
 */
static void *io_thread(void *p)
{
        Io io = { .w = p };

        if (io.w->run->opts->inline_handler)
                io_run_inline(&io);
        else
                io_run_threaded(&io);
        return NULL;
}

static int ready_build(const Run *run, unsigned index, char **ret, size_t *ret_size)
{
        const AdapterOptions *o = run->opts;
        _cleanup_(json_decrefp) json_t *j = NULL;
        json_t *services;
        const char *base = o->name ? o->name : o->kind;
        char name[256];
        char *text;

        if (o->workers > 1)
                snprintf(name, sizeof(name), "%s-%u", base, index + 1);
        else
                snprintf(name, sizeof(name), "%s", base);

        j = json_pack("{s:s,s:s,s:[],s:i}", "adapter", o->kind, "name", name, "services", "capacity",
                      (json_int_t)run->capacity);
        if (!j)
                return -ENOMEM;
        services = json_object_get(j, "services");
        for (const char *const *s = o->services; *s; s++)
                if (json_array_append_new(services, json_string(*s)) < 0)
                        return -ENOMEM;
        text = json_dumps(j, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        if (strlen(text) > PROTO_MAX_READY) {
                free(text);
                return -E2BIG;
        }
        *ret_size = strlen(text);
        *ret = text;
        return 0;
}

static bool utf8_printable(const char *s)
{
        if (isempty(s))
                return false;
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return false;
        return utf8_valid(s, strlen(s)); /* the READY frame is JSON, which must be valid UTF-8 */
}

static int options_check(const AdapterOptions *o, const AdapterHandler *h)
{
        size_t n = 0;

        if (!o || !h || !h->handle)
                return -EINVAL;
        if (isempty(o->endpoint) || !utf8_printable(o->kind) || (o->name && !utf8_printable(o->name)) || !o->services)
                return -EINVAL;
        if (o->workers < 1 || o->workers > ADAPTER_MAX_WORKERS)
                return -EINVAL;
        if (o->max_body > ADAPTER_MAX_BODY_LIMIT)
                return -EINVAL;
        for (const char *const *s = o->services; *s; s++) {
                if (!utf8_printable(*s))
                        return -EINVAL;
                if (++n > PROTO_MAX_SERVICES)
                        return -E2BIG;
        }
        if (n == 0)
                return -EINVAL;
        if (o->curve_server_key || o->curve_public_key || o->curve_secret_key) {
                const char *keys[] = { o->curve_server_key, o->curve_public_key, o->curve_secret_key };

                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (!keyfile_curve_valid(keys[i]))
                                return -EINVAL;
        }
        return 0;
}

int adapter_run(const AdapterOptions *opts, const AdapterHandler *h, void *userdata)
{
        struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
        sigset_t block, old_mask;
        Run run = { .opts = opts, .h = h, .userdata = userdata };
        Worker *workers = NULL;
        int r;

        r = options_check(opts, h);
        if (r < 0)
                return r;
        run.max_body = opts->max_body ? opts->max_body : ADAPTER_MAX_BODY_DEFAULT;
        run.capacity = opts->capacity ? opts->capacity : PROTO_DEFAULT_CAPACITY;

        if (atomic_exchange(&running, true))
                return -EBUSY;
        pthread_once(&stop_pipe_once, stop_pipe_create);
        if (stop_pipe_error < 0) {
                r = stop_pipe_error;
                goto out_running;
        }
        stop_pipe_drain();
        atomic_store(&stop_requested, false);

        workers = calloc(opts->workers, sizeof(*workers));
        if (!workers) {
                r = -ENOMEM;
                goto out_running;
        }
        for (unsigned i = 0; i < opts->workers; i++) {
                workers[i].run = &run;
                workers[i].index = i;
                snprintf(workers[i].pair_endpoint, sizeof(workers[i].pair_endpoint), "inproc://xbus-adapter-%u", i);
                r = ready_build(&run, i, &workers[i].ready, &workers[i].ready_size);
                if (r < 0)
                        goto out_workers;
        }

        run.zctx = zmq_ctx_new();
        if (!run.zctx) {
                r = -errno;
                goto out_workers;
        }

        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);

        /* worker threads inherit a mask without SIGINT/SIGTERM: signals land here */
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &block, &old_mask);
        for (unsigned i = 0; i < opts->workers; i++) {
                r = pthread_create(&workers[i].io_thread, NULL, io_thread, &workers[i]);
                if (r != 0) {
                        run_fail(&run, -r);
                        break;
                }
                workers[i].io_started = true;
        }
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);

        for (unsigned i = 0; i < opts->workers; i++)
                if (workers[i].io_started)
                        pthread_join(workers[i].io_thread, NULL);

        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        zmq_ctx_term(run.zctx);
        r = atomic_load(&run.error);

out_workers:
        for (unsigned i = 0; i < opts->workers; i++)
                free(workers[i].ready);
        free(workers);
out_running:
        atomic_store(&running, false);
        return r;
}
