/* test-consent-nodes.c: the bodies of the consent API across nodes (query, other nodes' answers) and the merge */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/consent-nodes.h"
#include "util/macro.h"

static int query(const char *body, bool cursors, ConsentNodesQuery *q)
{
        char why[160] = "";
        int r = consent_nodes_query_parse(body, strlen(body), cursors, q, why, sizeof(why));

        if (r > 0) {
                assert(why[0] && !strstr(why, "001090000001")); /* never the subject */
                printf("refused: %s\n", why);
        }
        return r;
}

static void test_query(void)
{
        ConsentNodesQuery q;

        assert(query("{\"subject\":\"001090000001\"}", false, &q) == 0);
        assert(streq(q.subject, "001090000001") && q.limit == CONSENT_NODES_LIMIT_DEFAULT && q.before == UINT64_MAX &&
               !q.cursors);
        assert(query("{\"subject\":\"001090000001\",\"limit\":500,\"cursor\":12}", false, &q) == 0);
        assert(q.limit == 500 && q.before == 12);
        assert(query("{\"subject\":\"001090000001\",\"cursor\":null}", false, &q) == 0 && q.before == UINT64_MAX);
        assert(query("{\"subject\":\"001090000001\",\"cursors\":{\"bca\":3,\"hn\":0}}", true, &q) == 0);
        assert(json_integer_value(json_object_get(q.cursors, "bca")) == 3);
        json_decref(q.cursors);
        /* refused */
        assert(query("{\"subject\":\"001090000001\",\"cursors\":{\"bca\":3}}", false, &q) == 1);
        assert(query("{\"subject\":\"001090000001\",\"cursors\":{}}", true, &q) == 1);
        assert(query("{\"subject\":\"001090000001\",\"cursors\":{\"bca\":-1}}", true, &q) == 1);
        assert(query("{\"subject\":\"001090000001\",\"cursors\":{\"bca\":1},\"cursor\":2}", true, &q) == 1);
        assert(query("{\"subject\":\"001090000001\",\"limit\":0}", false, &q) == 1);
        assert(query("{\"subject\":\"001090000001\",\"limit\":501}", false, &q) == 1);
        assert(query("{\"subject\":\"001090000001\",\"limit\":\"5\"}", false, &q) == 1);
        assert(query("{\"subject\":\"001090000001\",\"cursor\":-1}", false, &q) == 1);
        assert(query("{\"subject\":\"001 090\"}", false, &q) == 1);
        assert(query("{\"subject\":\"001090000001\",\"subject\":\"2\"}", false, &q) == 1);
        assert(query("{\"subject\":\"001090000001\",\"other\":1}", false, &q) == 1);
        assert(query("{}", false, &q) == 1);
        assert(query("[]", false, &q) == 1);
        assert(query("", false, &q) == 1);
}

static void test_answer(void)
{
        static const char ok[] = "{\"accesses\":[{\"seq\":4,\"time\":\"2026-12-06T09:00:00.000000Z\"}],"
                                 "\"next_cursor\":4}";
        json_t *a = NULL;
        uint64_t next = 9;

        assert(consent_nodes_answer_parse(ok, strlen(ok), &a, &next) == 0 && json_array_size(a) == 1 && next == 4);
        json_decref(a);
        assert(consent_nodes_answer_parse("{\"accesses\":[],\"next_cursor\":null}",
                                          strlen("{\"accesses\":[],\"next_cursor\":null}"), &a, &next) == 0 &&
               next == 0);
        json_decref(a);
        assert(consent_nodes_answer_parse("{\"accesses\":[1]}", strlen("{\"accesses\":[1]}"), &a, &next) == 1);
        assert(consent_nodes_answer_parse("{\"accesses\":[{}]}", strlen("{\"accesses\":[{}]}"), &a, &next) == 1);
        assert(consent_nodes_answer_parse("{\"accesses\":{}}", strlen("{\"accesses\":{}}"), &a, &next) == 1);
        assert(consent_nodes_answer_parse("{\"accesses\":[],\"next_cursor\":\"1\"}",
                                          strlen("{\"accesses\":[],\"next_cursor\":\"1\"}"), &a, &next) == 1);
        assert(consent_nodes_answer_parse("nope", strlen("nope"), &a, &next) == 1);
        assert(consent_nodes_answer_parse(NULL, 0, &a, &next) == 1);
}

static json_t *item(const char *time, const char *xid, const char *peer, const char *role)
{
        return json_pack("{s:s,s:s,s:s?,s:s?,s:i}", "time", time, "xroad_id", xid, "peer_node", peer, "peer_role", role,
                         "seq", 1);
}

static void test_merge(void)
{
        json_t *pages = json_object(), *status = json_pack("[{s:s}]", "node", "byt"), *out = NULL, *a;

        /* byt's client asked bca (served there) and hn (down: byt's line stays) */
        json_object_set_new(pages, "byt",
                            json_pack("[o,o,o]", item("2026-12-06T09:00:03.000000Z", "x3", "hn", "provider"),
                                      item("2026-12-06T09:00:01.000000Z", "x1", "bca", "provider"),
                                      item("2026-12-06T09:00:00.000000Z", "x0", NULL, NULL)));
        json_object_set_new(pages, "bca",
                            json_pack("[o,o]", item("2026-12-06T09:00:02.000000Z", "x2", NULL, NULL),
                                      item("2026-12-06T09:00:01.000100Z", "x1", "byt", "client")));
        assert(consent_nodes_merge(pages, status, &out) == 0);
        a = json_object_get(out, "accesses");
        assert(json_array_size(a) == 4);
        assert(streq(json_string_value(json_object_get(json_array_get(a, 0), "xroad_id")), "x3"));
        assert(streq(json_string_value(json_object_get(json_array_get(a, 0), "node")), "byt"));
        assert(streq(json_string_value(json_object_get(json_array_get(a, 1), "xroad_id")), "x2"));
        assert(streq(json_string_value(json_object_get(json_array_get(a, 2), "node")), "bca")); /* x1, once */
        assert(streq(json_string_value(json_object_get(json_array_get(a, 3), "xroad_id")), "x0"));
        assert(json_object_get(out, "nodes") == status);
        json_decref(out);
        json_decref(pages);
        json_decref(status);
        /* nothing at all */
        pages = json_object();
        assert(consent_nodes_merge(pages, NULL, &out) == 0 && json_array_size(json_object_get(out, "accesses")) == 0);
        json_decref(out);
        json_decref(pages);
}

int main(void)
{
        test_query();
        test_answer();
        test_merge();
        printf("consent-nodes: ok\n");
        return 0;
}
