/* test-proto.c: what adapters send and ZAP requests, parsed as the bus reads them */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "bus/proto.h"
#include "util/macro.h"

static int ready(const char *json, ProtoReady *r)
{
        return proto_ready_parse(json, strlen(json), r);
}

static void test_ready(void)
{
        ProtoReady r;
        char big[PROTO_MAX_META + 64];

        assert(ready("{\"adapter\":\"sample\",\"name\":\"s-1\",\"services\":[\"b\",\"a\",\"c\"],\"capacity\":7}", &r) ==
               0);
        assert(streq(r.kind, "sample") && streq(r.name, "s-1") && r.capacity == 7 && r.n_services == 3);
        assert(streq(r.services[0], "a") && streq(r.services[1], "b") && streq(r.services[2], "c")); /* sorted */
        proto_ready_done(&r);
        assert(!r.services && r.n_services == 0);

        /* entries that are not short strings are skipped; a capacity out of range is the default */
        assert(ready("{\"services\":[\"a\",1,\"\",null,\"b\"],\"capacity\":5000}", &r) == 0);
        assert(r.n_services == 2 && r.capacity == PROTO_DEFAULT_CAPACITY && streq(r.kind, "") && streq(r.name, ""));
        proto_ready_done(&r);
        assert(ready("{\"services\":[\"a\"],\"capacity\":0,\"name\":"
                     "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
                     &r) == 0);
        assert(r.capacity == PROTO_DEFAULT_CAPACITY && strlen(r.name) == sizeof(r.name) - 1); /* truncated */
        proto_ready_done(&r);

        /* refused whole */
        assert(ready("{\"services\":[]}", &r) == -EBADMSG);
        assert(ready("{\"services\":[1,\"\",null]}", &r) == -EBADMSG); /* no valid entry left */
        assert(ready("{\"services\":\"a\"}", &r) == -EBADMSG);
        assert(ready("{\"services\":[\"a\"],\"services\":[\"b\"]}", &r) == -EBADMSG); /* a repeated key */
        assert(ready("[\"a\"]", &r) == -EBADMSG);
        assert(ready("{\"services\":[\"a\"]", &r) == -EBADMSG);
        assert(proto_ready_parse("", 0, &r) == -EBADMSG);
        {
                char many[PROTO_MAX_META], *p = many;

                p += sprintf(p, "{\"services\":[");
                for (int i = 0; i <= PROTO_MAX_SERVICES; i++)
                        p += sprintf(p, "%s\"s%d\"", i ? "," : "", i);
                sprintf(p, "]}");
                assert(ready(many, &r) == -EBADMSG); /* one service too many */
        }
        memset(big, ' ', sizeof(big));
        memcpy(big, "{\"services\":[\"a\"]}", 18);
        assert(proto_ready_parse(big, sizeof(big), &r) == -EBADMSG); /* over PROTO_MAX_META */
        printf("ready: ok\n");
}

static void reply(const char *json, ProtoReply *r)
{
        proto_reply_parse(json, strlen(json), r);
}

static void test_reply(void)
{
        ProtoReply r;

        reply("{\"status\":200,\"content_type\":\"application/xml\"}", &r);
        assert(r.error == PROBLEM_NONE && r.status == 200 && streq(r.content_type, "application/xml"));
        reply("{\"status\":404,\"error\":\"not_found\"}", &r); /* the provider's own answer passes */
        assert(r.error == PROBLEM_NONE && r.status == 404 && streq(r.content_type, "application/json"));
        reply("{\"status\":503,\"error\":\"provider_unavailable\",\"detail\":\"backend down\"}", &r);
        assert(r.error == PROBLEM_PROVIDER_UNAVAILABLE && streq(r.detail, "backend down"));
        reply("{\"error\":\"provider_timeout\"}", &r);
        assert(r.error == PROBLEM_PROVIDER_TIMEOUT && streq(r.detail, "the provider reported a failure"));
        reply("{\"error\":\"response_invalid\",\"detail\":7}", &r);
        assert(r.error == PROBLEM_RESPONSE_INVALID);

        /* malformed: provider_error, saying why */
        reply("{\"status\":199}", &r);
        assert(r.error == PROBLEM_PROVIDER_ERROR && strstr(r.detail, "valid status"));
        reply("{\"status\":4294967496}", &r); /* 2^32 + 200 must not wrap into range */
        assert(r.error == PROBLEM_PROVIDER_ERROR);
        reply("{\"status\":\"200\"}", &r);
        assert(r.error == PROBLEM_PROVIDER_ERROR);
        reply("{\"status\":200", &r);
        assert(r.error == PROBLEM_PROVIDER_ERROR && strstr(r.detail, "malformed"));
        reply("{\"status\":200,\"error\":\"access_denied\"}", &r); /* not a provider-side type: the answer */
        assert(r.error == PROBLEM_NONE && r.status == 200);

        /* the provider's answer as it is: no content type, its headers (well-formed ones), a redirect */
        reply("{\"status\":302,\"content_type\":\"\",\"headers\":[[\"Location\",\"/x\"],[\"ETag\",\"\\\"a\\\"\"],"
              "[\"Bad Name\",\"v\"],[\"X-Ctl\",\"a\\nb\"],[\"X-Three\",\"a\",\"b\"],7,[\"Set-Cookie\",\"a=1\"]]}",
              &r);
        assert(r.error == PROBLEM_NONE && r.status == 302 && streq(r.content_type, "") &&
               json_array_size(r.headers) == 3);
        assert(streq(json_string_value(json_array_get(json_array_get(r.headers, 1), 1)), "\"a\""));
        assert(streq(json_string_value(json_array_get(json_array_get(r.headers, 2), 0)), "Set-Cookie"));
        proto_reply_done(&r);
        assert(!r.headers && proto_header_name_valid("X-Road-Id") && !proto_header_name_valid("") &&
               !proto_header_name_valid("a:b") && proto_header_value_valid("") && !proto_header_value_valid("a\rb"));
        printf("reply: ok\n");
}

/* Every mix of usual and odd members: read without a tree, a REP's meta gives what jansson's tree gives. */
static void test_reply_flat(void)
{
        static const char *const status[] = { "\"status\":200,",     "\"status\":599,",   "\"status\":600,",
                                              "\"status\":\"200\",", "\"status\":2.0e2,", "" };
        static const char *const error[] = { "\"error\":\"provider_timeout\",", "\"error\":\"not_found\",",
                                             "\"error\":3,", "" };
        static const char *const detail[] = { "\"detail\":\"d\\u00e9\",", "\"detail\":7,", "" };
        static const char *const type[] = { "\"content_type\":\"text/x\",", "\"content_type\":\"a\\u0001\",",
                                            "\"content_type\":5,", "" };
        static const char *const headers[] = { "\"headers\":[[\"ETag\",\"\\\"x\\\"\"]],", "\"headers\":[],",
                                               "\"headers\":\"x\",",
                                               "\"headers\":[[\"Bad Name\",\"v\"],[\"A\",\"b\"]],", "" };
        size_t compared = 0;

        for (size_t a = 0; a < ELEMENTSOF(status); a++)
                for (size_t b = 0; b < ELEMENTSOF(error); b++)
                        for (size_t c = 0; c < ELEMENTSOF(detail); c++)
                                for (size_t d = 0; d < ELEMENTSOF(type); d++)
                                        for (size_t e = 0; e < ELEMENTSOF(headers); e++) {
                                                char json[512];
                                                ProtoReply x, y;
                                                int n = snprintf(json, sizeof(json), "{%s%s%s%s%s\"end\":0}", status[a],
                                                                 error[b], detail[c], type[d], headers[e]);
                                                proto_reply_parse(json, (size_t)n, &x);
                                                proto_reply_parse_tree(json, (size_t)n, &y);
                                                assert(x.error == y.error && x.status == y.status &&
                                                       streq(x.detail, y.detail) &&
                                                       streq(x.content_type, y.content_type) &&
                                                       !x.headers == !y.headers &&
                                                       (!x.headers || json_equal(x.headers, y.headers)));
                                                proto_reply_done(&x);
                                                proto_reply_done(&y);
                                                compared++;
                                        }
        printf("reply, read without a tree: %zu mixes as jansson reads them\n", compared);
}

static void test_zap(void)
{
        char pub[41], sec[41], key[KEYFILE_CURVE_LEN + 1];
        uint8_t raw[32];
        ProtoFrame f[7] = {
                { "1.0", 3 }, { "1", 1 }, { "", 0 }, { "127.0.0.1", 9 }, { "", 0 }, { "CURVE", 5 }, { raw, 32 },
        };

        assert(zmq_curve_keypair(pub, sec) == 0 && zmq_z85_decode(raw, pub));
        assert(proto_zap_parse(f, 7, key) == 0 && streq(key, pub));
        assert(proto_zap_parse(f, 6, key) == -EBADMSG);
        f[0] = (ProtoFrame){ "2.0", 3 };
        assert(proto_zap_parse(f, 7, key) == -EBADMSG);
        f[0] = (ProtoFrame){ "1.0", 3 };
        f[5] = (ProtoFrame){ "PLAIN", 5 };
        assert(proto_zap_parse(f, 7, key) == -EBADMSG);
        f[5] = (ProtoFrame){ "CURVE", 5 };
        f[6].size = 31;
        assert(proto_zap_parse(f, 7, key) == -EBADMSG);
        printf("zap: ok\n");
}

int main(void)
{
        test_ready();
        test_reply();
        test_reply_flat();
        test_zap();
        return 0;
}
