/* test-exchange.c: the stages of one exchange without a network: decide, the answer, the log entry, running out of memory */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/exchange.h"
#include "tests/support/test-snapshot.h"
#include "tests/support/test-util.h"
#include "util/time-util.h"

#define BYT "VN/GOV/BYT/health-services"
#define CITIZEN "VN/GOV/BCA/population/citizen"
#define ID "001090000001"

/* Fault injection: this strdup() replaces the C library's for the whole test program. */
static bool fail_strdup;

char *strdup(const char *s)
{
        size_t n = strlen(s) + 1;
        char *p;

        if (fail_strdup) {
                errno = ENOMEM;
                return NULL;
        }
        p = malloc(n);
        if (p)
                memcpy(p, s, n);
        return p;
}

static Node node;

static PolicyInput input(const char *client, const char *path, const char *purpose)
{
        return (PolicyInput){ .cert_present = true,
                              .cert_trusted = true,
                              .cert_cn = client,
                              .client_header = client,
                              .method = "GET",
                              .r1_path = path,
                              .subject = ID,
                              .purpose = purpose };
}

static void start(Exchange *ex, const char *purpose)
{
        exchange_init(ex, &node);
        snprintf(ex->req.xroad_id, sizeof(ex->req.xroad_id), "t-1");
        ex->req.method = "GET";
        assert(exchange_set_text(&ex->req.subject, ID) == 0);
        assert(exchange_set_text(&ex->req.purpose, purpose) == 0);
        exchange_take_body(ex, NULL, 0);
}

static void test_decide(void)
{
        Exchange ex;
        PolicyInput pin;
        Problem form = {};

        start(&ex, "health-insurance-enrolment");
        pin = input(BYT, CITIZEN, "health-insurance-enrolment");
        assert(exchange_decide(&ex, &pin, NULL) == 0);
        assert(ex.allowed && ex.out.problem.type == PROBLEM_NONE && ex.decision.service && ex.decision.right);
        exchange_done(&ex);

        /* refused by the policy: the one outcome says why, with the problem's status */
        start(&ex, "tax-administration");
        pin = input(BYT, CITIZEN, "tax-administration");
        assert(exchange_decide(&ex, &pin, NULL) == 1);
        assert(!ex.allowed && ex.out.problem.type == PROBLEM_PURPOSE_INVALID && ex.out.status == 403);
        assert(strstr(ex.out.problem.detail, "tax-administration"));
        exchange_done(&ex);

        /* a malformed request is refused as such once the client is identified ... */
        start(&ex, "health-insurance-enrolment");
        pin = input(BYT, CITIZEN, "health-insurance-enrolment");
        problem_set(&form, PROBLEM_BAD_REQUEST, "an X-Road-* or X-Bus-* header is repeated");
        assert(exchange_decide(&ex, &pin, &form) == 1);
        assert(ex.out.problem.type == PROBLEM_BAD_REQUEST && ex.out.status == 400);
        exchange_done(&ex);
        /* ... and an unidentified client learns nothing more */
        start(&ex, "health-insurance-enrolment");
        pin = input(BYT, CITIZEN, "health-insurance-enrolment");
        pin.cert_present = false;
        assert(exchange_decide(&ex, &pin, &form) == 1);
        assert(ex.out.problem.type == PROBLEM_CLIENT_UNKNOWN && ex.out.status == 401);
        exchange_done(&ex);
}

/* A registry snapshot that expired decides exchanges for the grace period, then none (registry_outdated). */
static void test_outdated(void)
{
        const uint64_t hour = 3600 * USEC_PER_SEC;
        Registry *folder = node.registry, *snap = test_snapshot_registry(3, now_usec(CLOCK_REALTIME) - 3 * hour, hour);
        Exchange ex;
        PolicyInput pin;

        node.registry = snap;
        node.snapshot_grace_usec = 3 * hour; /* expired two hours ago: within the grace period */
        start(&ex, "health-insurance-enrolment");
        pin = input(BYT, CITIZEN, "health-insurance-enrolment");
        assert(exchange_decide(&ex, &pin, NULL) == 0 && ex.allowed);
        exchange_done(&ex);

        node.snapshot_grace_usec = hour; /* past it */
        start(&ex, "health-insurance-enrolment");
        assert(exchange_decide(&ex, &pin, NULL) == 1 && !ex.allowed);
        assert(ex.out.problem.type == PROBLEM_REGISTRY_OUTDATED && ex.out.status == 503);
        assert(strstr(ex.out.problem.detail, "version 3") && strstr(ex.out.problem.detail, "grace period"));
        assert(streq(problem_info(PROBLEM_REGISTRY_OUTDATED)->xroad, "Server.ClientProxy.OutdatedGlobalConf"));
        exchange_done(&ex);

        /* an unidentified client is still told that first */
        start(&ex, "health-insurance-enrolment");
        pin.cert_present = false;
        assert(exchange_decide(&ex, &pin, NULL) == 1 && ex.out.problem.type == PROBLEM_CLIENT_UNKNOWN);
        exchange_done(&ex);

        node.registry = folder;
        node.snapshot_grace_usec = 0;
        registry_unref(snap);
}

static void answer(Exchange *ex, int status, const char *body)
{
        ex->bus.status = status;
        ex->bus.response = strdup(body);
        assert(ex->bus.response);
        ex->bus.response_size = strlen(body);
        exchange_take_answer(ex);
}

static void test_answer(void)
{
        /* schemas/population/examples/citizen.response.valid-1.json */
        const char *good = "{\"id\":\"001090000001\",\"full_name\":\"Nguyễn Văn An\","
                           "\"birth_date\":\"1990-08-06\",\"sex\":\"male\",\"ethnicity\":\"Kinh\","
                           "\"nationality\":\"Việt Nam\",\"place_of_birth\":\"Hà Nội\","
                           "\"hometown\":\"Hà Nội\",\"permanent_address\":{\"house_number\":\"246\","
                           "\"street\":\"Quang Trung\",\"ward\":\"Phường 8\","
                           "\"district\":\"Quận Long Biên\",\"province\":\"Hà Nội\"},"
                           "\"household_id\":\"001000123457\",\"relationship_to_head\":\"head\"}";
        PolicyInput pin = input(BYT, CITIZEN, "health-insurance-enrolment");
        Exchange ex;

        /* the bus's own error: the outcome is that problem, nothing of the provider is kept */
        start(&ex, "health-insurance-enrolment");
        assert(exchange_decide(&ex, &pin, NULL) == 0);
        ex.bus.error = PROBLEM_PROVIDER_TIMEOUT;
        snprintf(ex.bus.detail, sizeof(ex.bus.detail), "slow");
        exchange_take_answer(&ex);
        assert(ex.out.problem.type == PROBLEM_PROVIDER_TIMEOUT && ex.out.status == 504 && !ex.bus.response);
        assert(!exchange_delivered(&ex));
        exchange_done(&ex);

        /* an answer that breaks the response schema is withheld */
        start(&ex, "health-insurance-enrolment");
        assert(exchange_decide(&ex, &pin, NULL) == 0);
        answer(&ex, 200, "{\"id\":12}");
        assert(ex.out.problem.type == PROBLEM_RESPONSE_INVALID && ex.out.status == 502 && !ex.bus.response);
        exchange_done(&ex);

        /* the provider's own 404 passes as it is (not validated), with its hash */
        start(&ex, "health-insurance-enrolment");
        assert(exchange_decide(&ex, &pin, NULL) == 0);
        answer(&ex, 404, "{\"error\":\"not_found\"}");
        assert(ex.out.problem.type == PROBLEM_NONE && ex.out.status == 404 && ex.response_hash[0]);
        assert(!exchange_delivered(&ex));
        exchange_done(&ex);

        /* a valid answer is delivered, hashed as sent */
        start(&ex, "health-insurance-enrolment");
        assert(exchange_decide(&ex, &pin, NULL) == 0);
        answer(&ex, 200, good);
        assert(exchange_delivered(&ex) && strlen(ex.response_hash) == 64);
        exchange_done(&ex);
}

/* Every field of the entry, in order, or NULL: a partial entry must never be logged. */
static const char *const entry_keys[] = { "xroad_id",
                                          "client",
                                          "service",
                                          "method",
                                          "path",
                                          "user_id",
                                          "issue",
                                          "subject",
                                          "purpose",
                                          "basis",
                                          "right",
                                          "legal_reference",
                                          "consent",
                                          "decision",
                                          "status",
                                          "error",
                                          "request_hash",
                                          "request_size",
                                          "response_hash",
                                          "response_size",
                                          "duration_us",
                                          "query_hash",
                                          "revealed_subject",
                                          "xroad_request_hash",
                                          "request_id",
                                          "represented_party",
                                          "purpose_default",
                                          "error_id" };

static bool entry_complete(const char *text)
{
        json_t *j = json_loads(text, 0, NULL);
        bool ok = json_is_object(j) && json_object_size(j) == ELEMENTSOF(entry_keys);

        for (size_t i = 0; ok && i < ELEMENTSOF(entry_keys); i++)
                ok = json_object_get(j, entry_keys[i]) != NULL;
        json_decref(j);
        return ok;
}

static void test_entry_write_failures(void)
{
        ExlogEntry e = { .xroad_id = "t-1",
                         .client = BYT,
                         .service = CITIZEN,
                         .method = "GET",
                         .path = "/",
                         .purpose = "p",
                         .basis = "statute",
                         .allow = true,
                         .status = 200,
                         .request_hash = "00",
                         .response_hash = "11",
                         .response_size = 7 };
        _cleanup_free_ char *full = exlog_entry_render(&e);
        size_t len;

        assert(full && entry_complete(full));
        len = strlen(full);
        /* a buffer too small by any number of bytes is reported: never a partial entry that looks written */
        for (size_t room = 0; room <= len; room++) {
                _cleanup_free_ char *buf = malloc(room + 1);
                size_t need;

                assert(buf);
                buf[room] = 'x';
                assert(exlog_entry_write(&e, buf, room, &need) == -ENOBUFS && need == len);
                assert(room == 0 || buf[0] == 0);
                assert(buf[room] == 'x');
        }
}

/* Strings are escaped as jansson escapes them; text that is not UTF-8 is null. */
static void test_entry_escaping(void)
{
        ExlogEntry e = { .xroad_id = "a\"b\\c\x01\n\t/",
                         .client = "Nguyễn 𝄞",
                         .service = "bad \xc3\x28",
                         .method = "\xed\xa0\x80",
                         .issue = "\x7f",
                         .status = 403,
                         .error = PROBLEM_ACCESS_DENIED,
                         .consent_refusal = CONSENT_E_EXHAUSTED };
        _cleanup_free_ char *text = exlog_entry_render(&e);
        json_t *j = json_loads(text, 0, NULL),
               *want = json_pack("{s:s,s:s,s:n,s:n,s:s,s:s,s:i,s:s,s:s}", "xroad_id", "a\"b\\c\x01\n\t/", "client",
                                 "Nguyễn 𝄞", "service", "method", "issue", "\x7f", "decision", "deny", "status", 403,
                                 "error", "consent_invalid", "reason", "exhausted");
        const char *key;
        json_t *v;

        assert(j && want);
        json_object_foreach(want, key, v)
                assert(json_equal(json_object_get(j, key), v));
        assert(strstr(text, "\"a\\\"b\\\\c\\u0001\\n\\t/\""));
        json_decref(j);
        json_decref(want);
}

static void test_text_out_of_memory(void)
{
        char *field = NULL;

        assert(exchange_set_text(&field, "purpose-1") == 0 && streq(field, "purpose-1"));
        fail_strdup = true;
        /* the copy fails: the caller is told (and refuses the exchange), the old value stays */
        assert(exchange_set_text(&field, "purpose-2") == -ENOMEM);
        fail_strdup = false;
        assert(streq(field, "purpose-1"));
        assert(exchange_set_text(&field, NULL) == 0 && field == NULL);
}

static void test_new_id(void)
{
        Exchange a = {}, b = {};

        exchange_new_id(&a);
        exchange_new_id(&b);
        /* a random UUID v4: version and variant nibbles, and no two alike */
        assert(strlen(a.req.xroad_id) == 36 && a.req.xroad_id[14] == '4' && strchr("89ab", a.req.xroad_id[19]));
        assert(!streq(a.req.xroad_id, b.req.xroad_id));
        assert(a.req.xroad_id_generated); /* so the request hash covers it (PR-REST 1.0.4 §4.3) */
}

/* The X-Road fields of the entry: the request hash and id, the represented party, a default purpose, a refusal's id. */
static void test_entry_xroad(void)
{
        ExlogEntry e = { .xroad_id = "t-2",
                         .method = "GET",
                         .purpose = "immigration-control",
                         .purpose_default = true,
                         .status = 403,
                         .error = PROBLEM_ACCESS_DENIED,
                         .xroad_request_hash = "svaIWYaT==",
                         .request_id = "f92591a3-6bf0-49b1-987b-0dd78c034cc3",
                         .represented_party = "COM/12345",
                         .error_id = "0a3c5b1e-7f3d-4c56-9a1e-2b6f0f9a8c11" };
        _cleanup_free_ char *text = exlog_entry_render(&e);
        json_t *j = json_loads(text, 0, NULL);

        assert(j && entry_complete(text));
        assert(json_is_true(json_object_get(j, "purpose_default")));
        assert(streq(json_string_value(json_object_get(j, "xroad_request_hash")), "svaIWYaT=="));
        assert(streq(json_string_value(json_object_get(j, "request_id")), e.request_id));
        assert(streq(json_string_value(json_object_get(j, "represented_party")), "COM/12345"));
        assert(streq(json_string_value(json_object_get(j, "error_id")), e.error_id));
        /* the fields of before come first, in their order: older readers see the same entry */
        assert(strstr(text, "\"revealed_subject\":null,\"xroad_request_hash\""));
        json_decref(j);
}

int main(void)
{
        char *errors = NULL;

        assert(registry_load_embedded(&node.registry, &errors) == 0);
        pthread_mutex_init(&node.registry_lock, NULL);
        test_decide();
        test_outdated();
        test_answer();
        test_entry_write_failures();
        test_entry_escaping();
        test_text_out_of_memory();
        test_new_id();
        test_entry_xroad();
        registry_unref(node.registry);
        pthread_mutex_destroy(&node.registry_lock);
        printf("exchange: ok\n");
        return 0;
}
