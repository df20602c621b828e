/* test-broker.c: the broker's ZAP handler and allow-list with real CURVE clients, and a registry swapped in */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bus/broker.h"
#include "bus/proto.h"
#include "util/macro.h"
#include "util/time-util.h"

#define DB "VN/GOV/A/db/people"
#define OTHER "VN/GOV/A/other/things"

typedef struct Key {
        char pub[41], sec[41];
} Key;

static Key server, a, b, c, stranger;
static char endpoint[128];
static void *ctx;

/* db lists keys k1 and k2, other lists k3. */
static Registry *registry_with(const char *k1, const char *k2, const char *k3)
{
        Registry *r = NULL;
        char *text = NULL, *errors = NULL;
        RegistryFile f = { .name = "t.conf" };

        assert(asprintf(&text,
                        "[instance]\nid = VN\nname = T\n[member VN/GOV/A]\nname = A\n"
                        "[subsystem VN/GOV/A/db]\nname = db\nroles = provider\nadapter-key = %s, %s\n"
                        "[subsystem VN/GOV/A/other]\nname = o\nroles = provider\nadapter-key = %s\n"
                        "[service " DB "]\ntitle = P\nmethods = GET\npersonal-data = no\nadapter = x\n"
                        "[service " OTHER "]\ntitle = T\nmethods = GET\npersonal-data = no\nadapter = x\n",
                        k1, k2, k3) > 0);
        f.text = text;
        f.size = strlen(text);
        if (registry_load_files(&r, &f, 1, &errors) != 0)
                fprintf(stderr, "%s", errors);
        assert(r);
        free(text);
        return r;
}

/* A DEALER; with a key, a CURVE client of the broker. */
static void *client(const Key *k)
{
        void *s = zmq_socket(ctx, ZMQ_DEALER);
        int zero = 0;

        assert(s && zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero)) == 0);
        if (k)
                assert(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server.pub, 40) == 0 &&
                       zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, k->pub, 40) == 0 &&
                       zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->sec, 40) == 0);
        assert(zmq_connect(s, endpoint) == 0);
        return s;
}

static void send_ready(void *s, const char *services)
{
        char json[512];

        snprintf(json, sizeof(json), "{\"adapter\":\"t\",\"name\":\"t\",\"services\":%s,\"capacity\":4}", services);
        assert(zmq_send(s, PROTO_VERSION, 4, ZMQ_SNDMORE) == 4);
        assert(zmq_send(s, PROTO_READY, 5, ZMQ_SNDMORE) == 5);
        assert(zmq_send(s, json, strlen(json), 0) == (int)strlen(json));
}

/* The next message's command into cmd and its last frame into last (empty for none). Return: frames, or 0 on timeout. */
static int recv_cmd(void *s, int timeout_ms, char cmd[16], char last[1024], char id[8])
{
        zmq_pollitem_t it = { .socket = s, .events = ZMQ_POLLIN };
        int n = 0, more = 1;
        size_t sz = sizeof(more);

        cmd[0] = last[0] = 0;
        if (zmq_poll(&it, 1, timeout_ms) <= 0)
                return 0;
        while (more) {
                char buf[1024];
                int k = zmq_recv(s, buf, sizeof(buf) - 1, 0);

                assert(k >= 0);
                buf[MIN(k, 1023)] = 0;
                if (n == 1)
                        snprintf(cmd, 16, "%s", buf);
                if (n == 2 && id)
                        memcpy(id, buf, 8);
                memcpy(last, buf, MIN(k, 1023) + 1);
                n++;
                zmq_getsockopt(s, ZMQ_RCVMORE, &more, &sz);
        }
        return n;
}

static BrokerStats stats(Broker *bk)
{
        BrokerStats st;

        broker_stats(bk, &st);
        return st;
}

/* Wait until the broker counts `n` refusals for `why` (or adapters == n when why < 0). */
static bool wait_stat(Broker *bk, int why, uint64_t n)
{
        for (int i = 0; i < 500; i++) {
                BrokerStats st = stats(bk);
                if (why < 0 ? st.adapters == n : st.refusals[why] >= n)
                        return true;
                usleep(10000);
        }
        return false;
}

static BusRequest *submit(Broker *bk, Mailbox *mb, BusRequest *req, const char *service)
{
        *req = (BusRequest){ .reply_to = mb,
                             .service = service,
                             .meta = "{}",
                             .meta_size = 2,
                             .timeout_ms = 3000,
                             .max_response = 1024 };
        assert(broker_submit(bk, req) == 0);
        return req;
}

static BusRequest *answer(Mailbox *mb)
{
        for (int i = 0; i < 500; i++) {
                MailboxItem *it = mailbox_drain(mb);
                if (it)
                        return (BusRequest *)it;
                mailbox_wait(mb, 10);
        }
        return NULL;
}

int main(void)
{
        char dir[] = "/tmp/test-broker-XXXXXX", cmd[16], last[1024], id[8];
        Registry *reg, *reg2;
        Broker *bk;
        Mailbox mb = MAILBOX_NULL;
        BusRequest req, *done;
        void *sa, *sb, *sc, *ss, *sn;

        if (!zmq_has("curve")) {
                printf("libzmq without CURVE, skipped\n");
                return 77;
        }
        Key *keys[] = { &server, &a, &b, &c, &stranger };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                assert(zmq_curve_keypair(keys[i]->pub, keys[i]->sec) == 0);
        assert(mkdtemp(dir));
        snprintf(endpoint, sizeof(endpoint), "ipc://%s/bus", dir);
        ctx = zmq_ctx_new();
        assert(mailbox_init(&mb, 0) == 0);
        reg = registry_with(a.pub, b.pub, c.pub);

        assert(broker_new(&bk, &(BrokerOptions){ .endpoint = endpoint, .registry = reg }) == -EINVAL); /* no key */
        assert(broker_new(&bk, &(BrokerOptions){ .endpoint = endpoint, .curve_secret_key = server.sec }) == -EINVAL);
        assert(broker_new(&bk, &(BrokerOptions){ .endpoint = endpoint,
                                                 .curve_secret_key = server.sec,
                                                 .heartbeat_ms = 200,
                                                 .registry = reg }) == 0);
        registry_unref(reg); /* the broker keeps its own reference */

        /* ZAP: a key nobody lists never gets through; a client without CURVE neither */
        ss = client(&stranger);
        send_ready(ss, "[\"" DB "\"]");
        assert(wait_stat(bk, BROKER_REFUSED_KEY_UNKNOWN, 1));
        sn = client(NULL);
        send_ready(sn, "[\"" DB "\"]");
        for (int i = 0;
             i < 500 && stats(bk).refusals[BROKER_REFUSED_NO_KEY] + stats(bk).refusals[BROKER_REFUSED_HANDSHAKE] == 0;
             i++)
                usleep(10000);
        assert(stats(bk).refusals[BROKER_REFUSED_NO_KEY] + stats(bk).refusals[BROKER_REFUSED_HANDSHAKE] >= 1);
        assert(recv_cmd(ss, 300, cmd, last, NULL) == 0 && recv_cmd(sn, 1, cmd, last, NULL) == 0);
        assert(stats(bk).adapters == 0);
        done = answer((submit(bk, &mb, &req, DB), &mb));
        assert(done && done->error == PROBLEM_PROVIDER_UNAVAILABLE);
        printf("zap: a stranger's key and no key are refused and counted\n");

        /* READY: only the services bound to the key; the rest are refused and the adapter hears which */
        sa = client(&a);
        send_ready(sa, "[\"" DB "\",\"" OTHER "\",\"VN/GOV/X/none\"]");
        assert(recv_cmd(sa, 3000, cmd, last, NULL) == 3 && streq(cmd, PROTO_REFUSED));
        assert(strstr(last, "\"reason\":\"service_not_allowed\"") && strstr(last, "\"refused\":2") &&
               strstr(last, "\"accepted\":1") && strstr(last, OTHER) && !strstr(last, DB));
        assert(wait_stat(bk, -1, 1) && stats(bk).refusals[BROKER_REFUSED_SERVICE] == 2);
        submit(bk, &mb, &req, DB);
        while (recv_cmd(sa, 3000, cmd, last, id) && streq(cmd, PROTO_HB))
                ;
        assert(streq(cmd, PROTO_REQ));
        assert(zmq_send(sa, PROTO_VERSION, 4, ZMQ_SNDMORE) == 4 && zmq_send(sa, PROTO_REP, 3, ZMQ_SNDMORE) == 3 &&
               zmq_send(sa, id, 8, ZMQ_SNDMORE) == 8 && zmq_send(sa, "{\"status\":200}", 14, ZMQ_SNDMORE) == 14 &&
               zmq_send(sa, "{}", 2, 0) == 2);
        done = answer(&mb);
        assert(done && done->error == PROBLEM_NONE && done->status == 200);
        free(done->response);
        done = answer((submit(bk, &mb, &req, OTHER), &mb));
        assert(done && done->error == PROBLEM_PROVIDER_UNAVAILABLE); /* refused above: nobody serves it */
        printf("ready: a key serves only its subsystem's services\n");

        /* a second key of the same subsystem, and the other subsystem's key, each accepted */
        sb = client(&b);
        send_ready(sb, "[\"" DB "\"]");
        sc = client(&c);
        send_ready(sc, "[\"" OTHER "\"]");
        assert(wait_stat(bk, -1, 3));

        /* a new registry without key a: its adapter is dropped and told UNKNOWN; it is refused when it announces */
        reg2 = registry_with(b.pub, b.pub, c.pub);
        broker_set_registry(bk, reg2);
        registry_unref(reg2);
        while (recv_cmd(sa, 3000, cmd, last, NULL) && streq(cmd, PROTO_HB))
                ;
        assert(streq(cmd, PROTO_UNKNOWN));
        assert(wait_stat(bk, -1, 2) && stats(bk).refusals[BROKER_REFUSED_REVOKED] == 1);
        send_ready(sa, "[\"" DB "\"]");
        while (recv_cmd(sa, 3000, cmd, last, NULL) && streq(cmd, PROTO_HB))
                ;
        assert(streq(cmd, PROTO_REFUSED) && strstr(last, "\"accepted\":0"));
        assert(stats(bk).adapters == 2);
        printf("reload: a removed key loses its services at once\n");

        void *socks[] = { sa, sb, sc, ss, sn };
        for (size_t i = 0; i < ELEMENTSOF(socks); i++)
                zmq_close(socks[i]);
        broker_free(bk);
        zmq_ctx_term(ctx);
        mailbox_deinit(&mb);
        snprintf(last, sizeof(last), "%s/bus", dir);
        unlink(last);
        rmdir(dir);
        return 0;
}
