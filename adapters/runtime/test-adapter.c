/* test-adapter.c: the adapter runtime against a fake bus (a ROUTER in the test) */
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <zmq.h>

#include "bus/proto.h"
#include "runtime/adapter-internal.h"
#include "runtime/adapter.h"
#include "util/macro.h"

#define MAX_FRAMES 16

typedef struct Msg {
        size_t n;
        size_t size[MAX_FRAMES];
        char *data[MAX_FRAMES]; /* NUL-terminated copies */
} Msg;

typedef struct Bus {
        void *ctx, *router;
        char endpoint[256];
        char rid[256]; /* routing id HBs go to */
        size_t rid_size;
        bool send_hb;
        unsigned hb_seen;
        uint64_t next_hb;
} Bus;

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void msg_clear(Msg *m)
{
        for (size_t i = 0; i < m->n; i++)
                free(m->data[i]);
        m->n = 0;
}

static bool frame_eq(const Msg *m, size_t i, const char *s)
{
        return i < m->n && m->size[i] == strlen(s) && memcmp(m->data[i], s, m->size[i]) == 0;
}

static void bus_init(Bus *b, bool curve, const char *server_secret)
{
        size_t len = sizeof(b->endpoint);
        int zero = 0, one = 1;

        memset(b, 0, sizeof(*b));
        b->ctx = zmq_ctx_new();
        assert(b->ctx);
        b->router = zmq_socket(b->ctx, ZMQ_ROUTER);
        assert(b->router);
        assert(zmq_setsockopt(b->router, ZMQ_LINGER, &zero, sizeof(zero)) == 0);
        if (curve) {
                assert(zmq_setsockopt(b->router, ZMQ_CURVE_SERVER, &one, sizeof(one)) == 0);
                assert(zmq_setsockopt(b->router, ZMQ_CURVE_SECRETKEY, server_secret, 40) == 0);
        }
        assert(zmq_bind(b->router, "tcp://127.0.0.1:*") == 0);
        assert(zmq_getsockopt(b->router, ZMQ_LAST_ENDPOINT, b->endpoint, &len) == 0);
        b->send_hb = true;
}

static void bus_done(Bus *b)
{
        zmq_close(b->router);
        zmq_ctx_term(b->ctx);
}

static void bus_send(Bus *b, const char *rid, size_t rid_size, size_t n, const char *const *frames, const size_t *sizes)
{
        assert(zmq_send(b->router, rid, rid_size, ZMQ_SNDMORE) >= 0);
        for (size_t i = 0; i < n; i++)
                assert(zmq_send(b->router, frames[i], sizes ? sizes[i] : strlen(frames[i]),
                                i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
}

static void bus_send_to(Bus *b, size_t n, const char *const *frames, const size_t *sizes)
{
        bus_send(b, b->rid, b->rid_size, n, frames, sizes);
}

/* Receive one message (frame 0 is the routing id), heartbeating while waiting. */
static int bus_recv(Bus *b, Msg *m, int timeout_ms)
{
        uint64_t deadline = now_ms() + timeout_ms;

        m->n = 0;
        for (;;) {
                zmq_pollitem_t it = { .socket = b->router, .events = ZMQ_POLLIN };
                uint64_t now = now_ms();
                int r, more;

                if (b->send_hb && b->rid_size > 0 && now >= b->next_hb) {
                        const char *hb[] = { PROTO_VERSION, PROTO_HB };
                        bus_send_to(b, 2, hb, NULL);
                        b->next_hb = now + 300;
                }
                if (now >= deadline)
                        return -ETIMEDOUT;
                r = zmq_poll(&it, 1, (long)MIN(deadline - now, (uint64_t)100));
                assert(r >= 0);
                if (r == 0)
                        continue;
                do {
                        zmq_msg_t z;

                        zmq_msg_init(&z);
                        assert(zmq_msg_recv(&z, b->router, 0) >= 0);
                        assert(m->n < MAX_FRAMES);
                        m->size[m->n] = zmq_msg_size(&z);
                        m->data[m->n] = malloc(m->size[m->n] + 1);
                        memcpy(m->data[m->n], zmq_msg_data(&z), m->size[m->n]);
                        m->data[m->n][m->size[m->n]] = '\0';
                        m->n++;
                        more = zmq_msg_more(&z);
                        zmq_msg_close(&z);
                } while (more);
                return 0;
        }
}

/* Wait for a message with command `cmd`, counting and skipping heartbeats. */
static int bus_expect(Bus *b, const char *cmd, Msg *m, int timeout_ms)
{
        uint64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                uint64_t now = now_ms();
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = bus_recv(b, m, (int)(deadline - now));
                if (r < 0)
                        return r;
                assert(m->n >= 3);
                assert(frame_eq(m, 1, PROTO_VERSION));
                if (frame_eq(m, 2, cmd))
                        return 0;
                if (frame_eq(m, 2, PROTO_HB)) {
                        b->hb_seen++;
                        msg_clear(m);
                        continue;
                }
                fprintf(stderr, "unexpected command %s while waiting for %s\n", m->data[2], cmd);
                if (frame_eq(m, 2, PROTO_REP))
                        fprintf(stderr, "  REP id %s meta %s\n", m->data[3], m->data[4]);
                abort();
        }
}

static void bus_adopt(Bus *b, const Msg *m)
{
        memcpy(b->rid, m->data[0], m->size[0]);
        b->rid_size = m->size[0];
}

static void send_req(Bus *b, const char *id, const char *meta, const char *body)
{
        const char *f[] = { PROTO_VERSION, PROTO_REQ, id, meta, body };
        bus_send_to(b, 5, f, NULL);
}

/* Expect the REP for `id`; return its meta (caller decrefs) and body in `m`. */
static json_t *expect_rep(Bus *b, const char *id, Msg *m)
{
        json_t *meta;

        assert(bus_expect(b, PROTO_REP, m, 5000) == 0);
        assert(m->n == 6);
        if (!frame_eq(m, 3, id)) {
                fprintf(stderr, "REP for %s, expected %s\n", m->data[3], id);
                abort();
        }
        meta = json_loads(m->data[4], 0, NULL);
        assert(meta);
        return meta;
}

/* ---- the adapter side ---- */

static atomic_int inits, dones;
static int init_result;

static int t_init(void *userdata, void **ret_state)
{
        atomic_fetch_add(&inits, 1);
        if (init_result < 0)
                return init_result;
        *ret_state = userdata;
        return 0;
}

static void t_done(void *userdata, void *state)
{
        atomic_fetch_add(&dones, 1);
}

static int t_handle(void *userdata, void *state, const AdapterRequest *req, AdapterResponse *resp)
{
        json_t *j;

        assert(state == userdata);
        if (streq(req->service, "test/fail"))
                return -EIO;
        if (streq(req->service, "test/badstatus")) {
                resp->status = 42;
                return 0;
        }
        if (streq(req->service, "test/notfound")) {
                resp->status = 404;
                resp->error = PROBLEM_NOT_FOUND;
                resp->body = (uint8_t *)strdup("{\"error\":\"not_found\"}");
                resp->body_size = strlen((char *)resp->body);
                return 0;
        }
        if (streq(req->service, "test/slow"))
                usleep(2500 * 1000);
        j = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:s,s:I,s:s%}", "service", req->service, "method", req->method,
                      "path", req->path, "query", req->query, "subject", req->subject, "purpose", req->purpose,
                      "client", req->client, "timeout_ms", (json_int_t)req->timeout_ms, "body", (const char *)req->body,
                      req->body_size);
        assert(j);
        resp->status = 200;
        resp->body = (uint8_t *)json_dumps(j, JSON_COMPACT);
        resp->body_size = strlen((char *)resp->body);
        json_decref(j);
        return 0;
}

static const AdapterHandler handler = { t_init, t_done, t_handle };
static const char *const services[] = { "test/echo", "test/fail", "test/badstatus", "test/notfound", "test/slow", NULL };
static int userdata_cookie;

typedef struct RunArgs {
        AdapterOptions o;
        pthread_t thread;
        int result;
} RunArgs;

static void *run_thread(void *p)
{
        RunArgs *a = p;

        a->result = adapter_run(&a->o, &handler, &userdata_cookie);
        return NULL;
}

static void run_start(RunArgs *a, const char *endpoint, unsigned workers)
{
        memset(a, 0, sizeof(*a));
        a->o = (AdapterOptions){ .endpoint = endpoint,
                                 .kind = "test",
                                 .name = "t",
                                 .services = services,
                                 .workers = workers,
                                 .capacity = 7,
                                 .max_body = 1024 };
        a->result = 1;
        assert(pthread_create(&a->thread, NULL, run_thread, a) == 0);
}

static void check_ready(const Msg *m, const char *name)
{
        json_t *j, *s;
        size_t i;

        assert(m->n == 4);
        j = json_loads(m->data[3], 0, NULL);
        assert(j);
        assert(streq(json_string_value(json_object_get(j, "adapter")), "test"));
        assert(streq(json_string_value(json_object_get(j, "name")), name));
        assert(json_integer_value(json_object_get(j, "capacity")) == 7);
        s = json_object_get(j, "services");
        assert(json_array_size(s) == ELEMENTSOF(services) - 1);
        for (i = 0; i < json_array_size(s); i++)
                assert(streq(json_string_value(json_array_get(s, i)), services[i]));
        json_decref(j);
}

/* ---- tests ---- */

static void test_options(void)
{
        AdapterOptions o = {
                .endpoint = "tcp://127.0.0.1:1", .kind = "test", .name = "t", .services = services, .workers = 1
        };
        const char *none[] = { NULL };
        const char *bad_utf8[] = { "a\xff", NULL };
        const char **many;
        char *longname;
        AdapterHandler nohandle = { 0 };

        o.workers = 0;
        assert(adapter_run(&o, &handler, NULL) == -EINVAL);
        o.workers = ADAPTER_MAX_WORKERS + 1;
        assert(adapter_run(&o, &handler, NULL) == -EINVAL);
        o.workers = 1;
        assert(adapter_run(&o, &nohandle, NULL) == -EINVAL);
        assert(adapter_run(NULL, &handler, NULL) == -EINVAL);
        o.services = none;
        assert(adapter_run(&o, &handler, NULL) == -EINVAL);
        o.services = bad_utf8;
        assert(adapter_run(&o, &handler, NULL) == -EINVAL);
        o.services = services;
        o.endpoint = "";
        assert(adapter_run(&o, &handler, NULL) == -EINVAL);
        o.endpoint = "tcp://127.0.0.1:1";
        o.curve_server_key = "short";
        o.curve_public_key = "short";
        o.curve_secret_key = "short";
        assert(adapter_run(&o, &handler, NULL) == -EINVAL);
        o.curve_server_key = "0123456789012345678901234567890123456789";
        o.curve_public_key = NULL;
        o.curve_secret_key = NULL;
        assert(adapter_run(&o, &handler, NULL) == -EINVAL);
        o.curve_server_key = NULL;
        o.max_body = ADAPTER_MAX_BODY_LIMIT + 1;
        assert(adapter_run(&o, &handler, NULL) == -EINVAL);
        o.max_body = 0;

        /* too many services, and an announcement over PROTO_MAX_META */
        many = calloc(PROTO_MAX_SERVICES + 2, sizeof(char *));
        longname = malloc(201);
        memset(longname, 'x', 200);
        longname[200] = '\0';
        for (size_t i = 0; i < PROTO_MAX_SERVICES + 1; i++)
                many[i] = "svc";
        o.services = many;
        assert(adapter_run(&o, &handler, NULL) == -E2BIG);
        for (size_t i = 0; i < 100; i++)
                many[i] = longname;
        many[100] = NULL;
        o.services = many;
        assert(adapter_run(&o, &handler, NULL) == -E2BIG);
        free(many);
        free(longname);

        /* a failing worker_init is returned */
        o.services = services;
        init_result = -ENOTRECOVERABLE;
        assert(adapter_run(&o, &handler, &userdata_cookie) == -ENOTRECOVERABLE);
        init_result = 0;

        /* a bad endpoint fails the run */
        o.endpoint = "nonsense://x";
        assert(adapter_run(&o, &handler, &userdata_cookie) < 0);
        printf("options: ok\n");
}

static void test_protocol(void)
{
        Bus b;
        Msg m = {};
        RunArgs a;
        json_t *meta, *body;
        char oldrid[256];
        size_t oldrid_size;
        uint64_t t0;
        unsigned hb;
        char big[PROTO_MAX_META + 64];

        atomic_store(&inits, 0);
        atomic_store(&dones, 0);
        bus_init(&b, false, NULL);
        run_start(&a, b.endpoint, 1);

        /* READY with kind, name, services, capacity */
        assert(bus_expect(&b, PROTO_READY, &m, 5000) == 0);
        check_ready(&m, "t");
        bus_adopt(&b, &m);
        msg_clear(&m);
        assert(atomic_load(&inits) == 1);

        /* REQ -> REP, id echoed, fields passed through */
        send_req(&b, "ABCDEFGH",
                 "{\"service\":\"test/echo\",\"method\":\"GET\",\"path\":\"/x\",\"query\":\"a=1\","
                 "\"subject\":\"001090000001\",\"purpose\":\"audit\",\"client\":\"VN/GOV/X/y\","
                 "\"timeout_ms\":5000}",
                 "hello");
        meta = expect_rep(&b, "ABCDEFGH", &m);
        assert(json_integer_value(json_object_get(meta, "status")) == 200);
        assert(streq(json_string_value(json_object_get(meta, "content_type")), "application/json"));
        assert(!json_object_get(meta, "error"));
        body = json_loads(m.data[5], 0, NULL);
        assert(body);
        assert(streq(json_string_value(json_object_get(body, "path")), "/x"));
        assert(streq(json_string_value(json_object_get(body, "query")), "a=1"));
        assert(streq(json_string_value(json_object_get(body, "subject")), "001090000001"));
        assert(streq(json_string_value(json_object_get(body, "purpose")), "audit"));
        assert(streq(json_string_value(json_object_get(body, "client")), "VN/GOV/X/y"));
        assert(streq(json_string_value(json_object_get(body, "body")), "hello"));
        assert(json_integer_value(json_object_get(body, "timeout_ms")) == 5000);
        json_decref(body);
        json_decref(meta);
        msg_clear(&m);

        /* minimal meta: defaults */
        send_req(&b, "MINIMAL1", "{\"service\":\"test/echo\",\"method\":\"POST\"}", "");
        meta = expect_rep(&b, "MINIMAL1", &m);
        body = json_loads(m.data[5], 0, NULL);
        assert(streq(json_string_value(json_object_get(body, "path")), "/"));
        assert(streq(json_string_value(json_object_get(body, "query")), ""));
        assert(json_is_null(json_object_get(body, "subject")));
        assert(json_integer_value(json_object_get(body, "timeout_ms")) == 0);
        json_decref(body);
        json_decref(meta);
        msg_clear(&m);

        /* refusals produced by the runtime */
        send_req(&b, "UNKNOWN1", "{\"service\":\"test/other\",\"method\":\"GET\"}", "");
        meta = expect_rep(&b, "UNKNOWN1", &m);
        assert(json_integer_value(json_object_get(meta, "status")) == 404);
        assert(streq(json_string_value(json_object_get(meta, "error")), "service_unknown"));
        assert(strstr(m.data[5], "\"error\":\"service_unknown\""));
        json_decref(meta);
        msg_clear(&m);

        send_req(&b, "FAILING1", "{\"service\":\"test/fail\",\"method\":\"GET\"}", "");
        meta = expect_rep(&b, "FAILING1", &m);
        assert(json_integer_value(json_object_get(meta, "status")) == 502);
        assert(streq(json_string_value(json_object_get(meta, "error")), "provider_unavailable"));
        assert(json_is_string(json_object_get(meta, "detail")));
        assert(strstr(m.data[5], "\"error\":\"provider_unavailable\""));
        json_decref(meta);
        msg_clear(&m);

        send_req(&b, "BADSTAT1", "{\"service\":\"test/badstatus\",\"method\":\"GET\"}", "");
        meta = expect_rep(&b, "BADSTAT1", &m);
        assert(json_integer_value(json_object_get(meta, "status")) == 502);
        assert(streq(json_string_value(json_object_get(meta, "error")), "provider_error"));
        json_decref(meta);
        msg_clear(&m);

        send_req(&b, "NOTFOUND", "{\"service\":\"test/notfound\",\"method\":\"GET\"}", "");
        meta = expect_rep(&b, "NOTFOUND", &m);
        assert(json_integer_value(json_object_get(meta, "status")) == 404);
        assert(streq(json_string_value(json_object_get(meta, "error")), "not_found"));
        assert(streq(m.data[5], "{\"error\":\"not_found\"}"));
        json_decref(meta);
        msg_clear(&m);

        /* malformed messages: all ignored, the adapter keeps serving */
        {
                const char *missing[] = { PROTO_VERSION, PROTO_REQ, "MISSING1",
                                          "{\"service\":\"test/echo\",\"method\":\"GET\"}" };
                const char *badver[] = { "XBA2", PROTO_REQ, "BADVER01",
                                         "{\"service\":\"test/echo\",\"method\":\"GET\"}", "" };
                const char *extra[] = {
                        PROTO_VERSION, PROTO_REQ, "EXTRAFRM", "{\"service\":\"test/echo\",\"method\":\"GET\"}", "",
                        "more"
                };
                const char *many[12];
                const char *verbonly[] = { PROTO_VERSION };
                const char *hbextra[] = { PROTO_VERSION, PROTO_HB, "x" };
                const char *weird[] = { PROTO_VERSION, "DANCE" };

                bus_send_to(&b, ELEMENTSOF(missing), missing, NULL);
                bus_send_to(&b, ELEMENTSOF(badver), badver, NULL);
                bus_send_to(&b, ELEMENTSOF(extra), extra, NULL);
                for (size_t i = 0; i < ELEMENTSOF(many); i++)
                        many[i] = "x";
                many[0] = PROTO_VERSION;
                many[1] = PROTO_REQ;
                bus_send_to(&b, ELEMENTSOF(many), many, NULL);
                bus_send_to(&b, ELEMENTSOF(verbonly), verbonly, NULL);
                bus_send_to(&b, ELEMENTSOF(hbextra), hbextra, NULL);
                bus_send_to(&b, ELEMENTSOF(weird), weird, NULL);
        }
        send_req(&b, "SHORTID", "{\"service\":\"test/echo\",\"method\":\"GET\"}", "");
        send_req(&b, "BADJSON1", "{\"service\":", "");
        send_req(&b, "NOTOBJ01", "[1,2]", "");
        send_req(&b, "NOSERV01", "{\"method\":\"GET\"}", "");
        send_req(&b, "NUMSERV1", "{\"service\":7,\"method\":\"GET\"}", "");
        send_req(&b, "NEGTIME1", "{\"service\":\"test/echo\",\"method\":\"GET\",\"timeout_ms\":-1}", "");
        send_req(&b, "DUPKEY01", "{\"service\":\"test/echo\",\"service\":\"test/echo\",\"method\":\"GET\"}", "");
        send_req(&b, "NULBYTE1", "{\"service\":\"test/echo\",\"method\":\"GET\",\"path\":\"/a\\u0000b\"}", "");
        /* oversized meta: valid JSON, padded past the limit */
        snprintf(big, sizeof(big), "{\"service\":\"test/echo\",\"method\":\"GET\",\"pad\":\"%0*d\"}", PROTO_MAX_META,
                 0);
        assert(strlen(big) > PROTO_MAX_META);
        send_req(&b, "BIGMETA1", big, "");
        /* the first REP after all of that is the valid request's */
        send_req(&b, "AFTERBAD", "{\"service\":\"test/echo\",\"method\":\"GET\"}", "ok");
        meta = expect_rep(&b, "AFTERBAD", &m);
        assert(json_integer_value(json_object_get(meta, "status")) == 200);
        json_decref(meta);
        msg_clear(&m);

        /* a body over max_body is refused with 413; one at the limit is served */
        {
                char big_body[2001];

                memset(big_body, 'b', sizeof(big_body) - 1);
                big_body[2000] = '\0';
                send_req(&b, "TOOLARGE", "{\"service\":\"test/echo\",\"method\":\"POST\"}", big_body);
                meta = expect_rep(&b, "TOOLARGE", &m);
                assert(json_integer_value(json_object_get(meta, "status")) == 413);
                assert(streq(json_string_value(json_object_get(meta, "error")), "payload_too_large"));
                assert(streq(m.data[5], "{\"error\":\"payload_too_large\"}"));
                json_decref(meta);
                msg_clear(&m);
                big_body[1024] = '\0';
                send_req(&b, "ATLIMIT1", "{\"service\":\"test/echo\",\"method\":\"POST\"}", big_body);
                meta = expect_rep(&b, "ATLIMIT1", &m);
                assert(json_integer_value(json_object_get(meta, "status")) == 200);
                json_decref(meta);
                msg_clear(&m);
        }

        /* UNKNOWN -> READY again */
        {
                const char *unk[] = { PROTO_VERSION, PROTO_UNKNOWN };
                bus_send_to(&b, 2, unk, NULL);
        }
        assert(bus_expect(&b, PROTO_READY, &m, 2000) == 0);
        check_ready(&m, "t");
        assert(m.size[0] == b.rid_size && memcmp(m.data[0], b.rid, b.rid_size) == 0);
        msg_clear(&m);

        /* heartbeats arrive, and keep arriving while a slow request is handled */
        b.hb_seen = 0;
        send_req(&b, "SLOWREQ1", "{\"service\":\"test/slow\",\"method\":\"GET\"}", "");
        /* queued behind the slow one, past its timeout by the time it is reached: dropped */
        send_req(&b, "EXPIRED1", "{\"service\":\"test/echo\",\"method\":\"GET\",\"timeout_ms\":500}", "");
        send_req(&b, "QUEUED01", "{\"service\":\"test/echo\",\"method\":\"GET\",\"timeout_ms\":60000}", "");
        meta = expect_rep(&b, "SLOWREQ1", &m);
        json_decref(meta);
        msg_clear(&m);
        assert(b.hb_seen >= 2);
        meta = expect_rep(&b, "QUEUED01", &m);
        json_decref(meta);
        msg_clear(&m);
        printf("protocol: %u heartbeats during a 2.5 s request\n", b.hb_seen);

        /* a bus sending far beyond the announced capacity: the queue is bounded, the excess dropped */
        {
                unsigned reps = 0;
                uint64_t quiet_until;

                send_req(&b, "SLOWREQ2", "{\"service\":\"test/slow\",\"method\":\"GET\"}", "");
                for (int i = 0; i < 200; i++) {
                        char id[9];

                        snprintf(id, sizeof(id), "FLOOD%03d", i);
                        send_req(&b, id, "{\"service\":\"test/echo\",\"method\":\"GET\"}", "");
                }
                quiet_until = now_ms() + 4000;
                while (now_ms() < quiet_until) {
                        if (bus_recv(&b, &m, 500) < 0)
                                continue;
                        if (frame_eq(&m, 2, PROTO_REP)) {
                                reps++;
                                quiet_until = now_ms() + 1000;
                        }
                        msg_clear(&m);
                }
                printf("protocol: %u of 201 answered with capacity 7\n", reps);
                assert(reps >= 2 && reps < 60);
        }

        /* bus silent: after PROTO_HEARTBEAT_LIVENESS intervals the adapter reconnects and says READY */
        memcpy(oldrid, b.rid, b.rid_size);
        oldrid_size = b.rid_size;
        b.send_hb = false;
        t0 = now_ms();
        assert(bus_expect(&b, PROTO_READY, &m, 8000) == 0);
        assert(now_ms() - t0 >= (uint64_t)PROTO_HEARTBEAT_LIVENESS * PROTO_HEARTBEAT_MS - 100);
        assert(!(m.size[0] == oldrid_size && memcmp(m.data[0], oldrid, oldrid_size) == 0));
        check_ready(&m, "t");
        bus_adopt(&b, &m);
        msg_clear(&m);
        b.send_hb = true;
        printf("protocol: reconnected after %llu ms of silence\n", (unsigned long long)(now_ms() - t0));

        /* and serves on the new connection */
        send_req(&b, "NEWCONN1", "{\"service\":\"test/echo\",\"method\":\"GET\"}", "");
        meta = expect_rep(&b, "NEWCONN1", &m);
        json_decref(meta);
        msg_clear(&m);

        /* a heartbeat arrives within an interval or so */
        hb = b.hb_seen;
        assert(bus_expect(&b, PROTO_REP, &m, 1500) == -ETIMEDOUT);
        assert(b.hb_seen > hb);

        /* clean stop: BYE, return 0, worker_done called */
        adapter_stop();
        assert(bus_expect(&b, PROTO_BYE, &m, 3000) == 0);
        msg_clear(&m);
        pthread_join(a.thread, NULL);
        assert(a.result == 0);
        assert(atomic_load(&dones) == 1);
        bus_done(&b);
        printf("protocol: ok\n");
}

static void test_workers_and_stop(void)
{
        Bus b;
        Msg m = {};
        RunArgs a;
        char rids[3][256];
        size_t rid_sizes[3];
        bool names[3] = {};
        json_t *meta;

        atomic_store(&inits, 0);
        atomic_store(&dones, 0);
        bus_init(&b, false, NULL);
        run_start(&a, b.endpoint, 3);
        for (int i = 0; i < 3; i++) {
                json_t *j;
                const char *name;

                assert(bus_expect(&b, PROTO_READY, &m, 5000) == 0);
                memcpy(rids[i], m.data[0], m.size[0]);
                rid_sizes[i] = m.size[0];
                j = json_loads(m.data[3], 0, NULL);
                name = json_string_value(json_object_get(j, "name"));
                assert(name && strneq(name, "t-", 2) && name[2] >= '1' && name[2] <= '3' && !name[3]);
                assert(!names[name[2] - '1']);
                names[name[2] - '1'] = true;
                json_decref(j);
                msg_clear(&m);
        }
        assert(atomic_load(&inits) == 3);
        /* each worker answers on its own connection */
        for (int i = 0; i < 3; i++) {
                char id[9];
                const char *f[] = { PROTO_VERSION, PROTO_REQ, id, "{\"service\":\"test/echo\",\"method\":\"GET\"}",
                                    "" };

                snprintf(id, sizeof(id), "WORKER-%d", i);
                bus_send(&b, rids[i], rid_sizes[i], 5, f, NULL);
                assert(bus_expect(&b, PROTO_REP, &m, 5000) == 0);
                assert(m.size[0] == rid_sizes[i] && memcmp(m.data[0], rids[i], rid_sizes[i]) == 0);
                assert(frame_eq(&m, 3, id));
                msg_clear(&m);
        }

        /* stop during a slow request: its answer goes out before that worker's BYE */
        {
                const char *f[] = { PROTO_VERSION, PROTO_REQ, "SLOWSTOP",
                                    "{\"service\":\"test/slow\",\"method\":\"GET\"}", "" };
                bool got_rep = false;
                int byes = 0;

                bus_send(&b, rids[0], rid_sizes[0], 5, f, NULL);
                usleep(300 * 1000);
                /* through the signal handler this time */
                assert(kill(getpid(), SIGTERM) == 0);
                while (byes < 3) {
                        assert(bus_recv(&b, &m, 5000) == 0);
                        if (frame_eq(&m, 2, PROTO_REP)) {
                                assert(frame_eq(&m, 3, "SLOWSTOP"));
                                meta = json_loads(m.data[4], 0, NULL);
                                assert(json_integer_value(json_object_get(meta, "status")) == 200);
                                json_decref(meta);
                                got_rep = true;
                        } else if (frame_eq(&m, 2, PROTO_BYE)) {
                                if (m.size[0] == rid_sizes[0] && memcmp(m.data[0], rids[0], rid_sizes[0]) == 0)
                                        assert(got_rep);
                                byes++;
                        }
                        msg_clear(&m);
                }
                assert(got_rep);
        }
        pthread_join(a.thread, NULL);
        assert(a.result == 0);
        assert(atomic_load(&dones) == 3);
        bus_done(&b);
        printf("workers and stop: ok\n");
}

/* REFUSED: with some services accepted the adapter serves on; with none it disconnects and waits before announcing. */
static void test_refused(void)
{
        const char *some[] = {
                PROTO_VERSION, PROTO_REFUSED,
                "{\"reason\":\"service_not_allowed\",\"refused\":1,\"accepted\":4,\"services\":[\"test/slow\"]}"
        };
        const char *none[] = {
                PROTO_VERSION, PROTO_REFUSED,
                "{\"reason\":\"service_not_allowed\",\"refused\":5,\"accepted\":0,\"services\":[\"test/echo\"]}"
        };
        Bus b;
        Msg m = {};
        RunArgs a;
        json_t *meta;
        uint64_t t0;

        bus_init(&b, false, NULL);
        run_start(&a, b.endpoint, 1);
        assert(bus_expect(&b, PROTO_READY, &m, 5000) == 0);
        bus_adopt(&b, &m);
        msg_clear(&m);
        bus_send_to(&b, 3, some, NULL);
        send_req(&b, "AFTERREF", "{\"service\":\"test/echo\",\"method\":\"GET\"}", "");
        meta = expect_rep(&b, "AFTERREF", &m);
        json_decref(meta);
        msg_clear(&m);

        bus_send_to(&b, 3, none, NULL);
        t0 = now_ms();
        b.send_hb = false;
        assert(bus_expect(&b, PROTO_READY, &m, 5000) == 0); /* a new connection, after the wait */
        assert(now_ms() - t0 >= 900);
        msg_clear(&m);
        adapter_stop();
        pthread_join(a.thread, NULL);
        assert(a.result == 0);
        bus_done(&b);
        printf("refused: served on when some were accepted; waited %" PRIu64 " ms when none were\n", now_ms() - t0);
}

static void test_curve(void)
{
        char server_pub[41], server_sec[41], client_pub[41], client_sec[41], other_pub[41], other_sec[41];
        Bus b;
        Msg m = {};
        RunArgs a;

        if (!zmq_has("curve")) {
                printf("curve: libzmq without CURVE, skipped\n");
                return;
        }
        assert(zmq_curve_keypair(server_pub, server_sec) == 0);
        assert(zmq_curve_keypair(client_pub, client_sec) == 0);
        assert(zmq_curve_keypair(other_pub, other_sec) == 0);

        bus_init(&b, true, server_sec);

        /* with the right server key: READY arrives over CURVE */
        memset(&a, 0, sizeof(a));
        a.o = (AdapterOptions){ .endpoint = b.endpoint,
                                .kind = "test",
                                .name = "t",
                                .services = services,
                                .workers = 1,
                                .capacity = 7,
                                .curve_server_key = server_pub,
                                .curve_public_key = client_pub,
                                .curve_secret_key = client_sec };
        assert(pthread_create(&a.thread, NULL, run_thread, &a) == 0);
        assert(bus_expect(&b, PROTO_READY, &m, 5000) == 0);
        check_ready(&m, "t");
        msg_clear(&m);
        adapter_stop();
        assert(bus_expect(&b, PROTO_BYE, &m, 3000) == 0);
        msg_clear(&m);
        pthread_join(a.thread, NULL);
        assert(a.result == 0);

        /* with a wrong server key the handshake fails: nothing arrives */
        memset(&a, 0, sizeof(a));
        a.o = (AdapterOptions){ .endpoint = b.endpoint,
                                .kind = "test",
                                .name = "t",
                                .services = services,
                                .workers = 1,
                                .capacity = 7,
                                .curve_server_key = other_pub,
                                .curve_public_key = client_pub,
                                .curve_secret_key = client_sec };
        assert(pthread_create(&a.thread, NULL, run_thread, &a) == 0);
        assert(bus_recv(&b, &m, 1500) == -ETIMEDOUT);
        adapter_stop();
        pthread_join(a.thread, NULL);
        assert(a.result == 0);
        bus_done(&b);

        /* secret keys from a file */
        {
                char path[] = "/tmp/xbus-test-adapter-key-XXXXXX", key[ADAPTER_CURVE_KEY_LEN + 1];
                int fd = mkstemp(path);
                FILE *f;

                assert(fd >= 0);
                f = fdopen(fd, "w");
                fprintf(f, "  %s\n", client_sec);
                fclose(f);
                assert(keyfile_curve_load(path, true, key) == 0);
                assert(streq(key, client_sec));
                assert(chmod(path, 0640) == 0); /* a secret others may read is refused */
                assert(keyfile_curve_load(path, true, key) == -EPERM);
                assert(keyfile_curve_load(path, false, key) == 0);
                f = fopen(path, "w");
                fprintf(f, "%.39s\n", client_sec);
                fclose(f);
                assert(keyfile_curve_load(path, false, key) == -EINVAL);
                f = fopen(path, "w");
                fprintf(f, "%.39s~\n", client_sec); /* '~' is not Z85 */
                fclose(f);
                assert(keyfile_curve_load(path, false, key) == -EINVAL);
                unlink(path);
                assert(keyfile_curve_load(path, false, key) == -ENOENT);
        }
        printf("curve: ok\n");
}

static bool same_text(const char *a, const char *b)
{
        return (!a && !b) || (a && b && streq(a, b));
}

/* Every mix of usual and odd fields: a REQ's meta read without a tree gives what jansson's tree gives. */
static void test_meta_flat(void)
{
        static const char *const service[] = { "\"service\":\"VN/x\",", "\"service\":\"\",", "\"service\":5,", "" };
        static const char *const method[] = { "\"method\":\"GET\",", "" };
        static const char *const path[] = { "\"path\":\"/a\\u00e9\",", "\"path\":\"\",", "" };
        static const char *const subject[] = { "\"subject\":\"001\",", "\"subject\":3,", "\"subject\":\"a\\u0000\",",
                                               "" };
        static const char *const timeout[] = { "\"timeout_ms\":5000,", "\"timeout_ms\":-1,", "\"timeout_ms\":\"5\",",
                                               "\"timeout_ms\":1.5,", "" };
        static const char *const headers[] = { "\"headers\":[[\"A\",\"b\"],[\"C\",\"\"]],", "\"headers\":[],",
                                               "\"headers\":\"x\",", "\"headers\":[[\"A\"]],", "" };
        size_t compared = 0;

        for (size_t a = 0; a < ELEMENTSOF(service); a++)
                for (size_t b = 0; b < ELEMENTSOF(method); b++)
                        for (size_t c = 0; c < ELEMENTSOF(path); c++)
                                for (size_t d = 0; d < ELEMENTSOF(subject); d++)
                                        for (size_t e = 0; e < ELEMENTSOF(timeout); e++)
                                                for (size_t f = 0; f < ELEMENTSOF(headers); f++) {
                                                        char json[512];
                                                        AdapterRequest x = {}, y = {};
                                                        AdapterMeta mx, my;
                                                        int n = snprintf(json, sizeof(json),
                                                                         "{%s%s%s%s%s%s\"query\":\"q=1\"}", service[a],
                                                                         method[b], path[c], subject[d], timeout[e],
                                                                         headers[f]);
                                                        int rx = adapter_meta_request(json, (size_t)n, &x, &mx),
                                                            ry = adapter_meta_request_tree(json, (size_t)n, &y, &my);
                                                        assert(rx == ry);
                                                        if (rx == 0) {
                                                                assert(same_text(x.service, y.service) &&
                                                                       same_text(x.method, y.method) &&
                                                                       same_text(x.path, y.path) &&
                                                                       same_text(x.query, y.query) &&
                                                                       same_text(x.subject, y.subject) &&
                                                                       same_text(x.purpose, y.purpose) &&
                                                                       same_text(x.raw_path, y.raw_path) &&
                                                                       x.timeout_ms == y.timeout_ms &&
                                                                       x.n_headers == y.n_headers &&
                                                                       x.has_headers == y.has_headers);
                                                                for (size_t k = 0; k < x.n_headers; k++)
                                                                        assert(streq(x.headers[k].name,
                                                                                     y.headers[k].name) &&
                                                                               streq(x.headers[k].value,
                                                                                     y.headers[k].value));
                                                        }
                                                        adapter_meta_done(&mx);
                                                        adapter_meta_done(&my);
                                                        compared++;
                                                }
        printf("meta, read without a tree: %zu mixes as jansson reads them\n", compared);
}

int main(void)
{
        test_options();
        test_meta_flat();
        test_protocol();
        test_workers_and_stop();
        test_refused();
        test_curve();
        return 0;
}
