/* test-audit-api.c: the /audit/ endpoint: role checks, filters, paging, subject search, proofs */
#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/audit-api.h"
#include "audit/audit-verify.h"
#include "crypto/pseudonym.h"
#include "tests/support/test-audit-util.h"
#include "util/macro.h"
#include "util/time-util.h"

#define SUBJECT_ID "001090000001"

static unsigned passed;

#define CHECK(cond)                                                                              \
        do {                                                                                     \
                if (!(cond)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                 \
                }                                                                                \
                passed++;                                                                        \
        } while (0)

static AuditApi node; /* the endpoint's userdata, as the daemon builds it */
static Registry *reg;
static const RegistrySubsystem *auditor, *client;
static CheckpointVerifier *verifier;

typedef struct Answer {
        int status;
        const char *problem;
        char detail[320];
        char content_type[64];
        char *body;
        json_t *json;
} Answer;

static void answer_done(Answer *a)
{
        free(a->body);
        json_decref(a->json);
        *a = (Answer){};
}

static Answer call_as(const RegistrySubsystem *who, const char *method, const char *path, const char *query)
{
        EndpointRequest req = { .userdata = &node,
                                .registry = reg,
                                .client = who,
                                .method = method,
                                .path = path,
                                .query = query ? query : "",
                                .body = (const uint8_t *)"" };
        EndpointResponse resp = { .status = 200 };
        Answer a = {};

        assert(audit_api_handle(&req, &resp) == 0);
        a.status = resp.status;
        a.problem = resp.problem ? problem_name(resp.problem) : NULL;
        memcpy(a.detail, resp.detail, sizeof(a.detail));
        memcpy(a.content_type, resp.content_type, sizeof(a.content_type));
        a.body = resp.body;
        if (a.body && streq(a.content_type, "application/json"))
                a.json = json_loadb(a.body, resp.body_size, JSON_REJECT_DUPLICATES, NULL);
        if (a.problem)
                printf("  %s %s?%s -> %s: %s\n", method, path, strempty(query), a.problem, a.detail);
        return a;
}

static Answer get(const char *path, const char *query)
{
        return call_as(auditor, "GET", path, query);
}

/* The seqs of a page's entries, their count, and next_cursor (-1 for null). */
static size_t page_seqs(const Answer *a, uint64_t *out, size_t max, long long *next)
{
        json_t *entries = json_object_get(a->json, "entries"), *e, *nc;
        size_t i;

        assert(json_is_array(entries));
        json_array_foreach(entries, i, e) {
                assert(i < max);
                out[i] = (uint64_t)json_integer_value(json_object_get(e, "seq"));
        }
        nc = json_object_get(a->json, "next_cursor");
        assert(nc && (json_is_null(nc) || json_is_integer(nc)));
        *next = json_is_null(nc) ? -1 : (long long)json_integer_value(nc);
        return json_array_size(entries);
}

static void test_refusals(void)
{
        Answer a;
        static const char *const bad_queries[] = {
                "limit=0",
                "limit=1001",
                "status=abc",
                "status=42",
                "decision=maybe",
                "from=yesterday",
                "to=2026-13-01T00:00:00Z",
                "cursor=-1",
                "cursor=01",
                "client=",
        };

        printf("refusals\n");
        a = call_as(NULL, "GET", "/audit/entries", NULL);
        CHECK(a.problem && streq(a.problem, "client_unknown"));
        answer_done(&a);
        a = call_as(client, "GET", "/audit/entries", NULL);
        CHECK(a.problem && streq(a.problem, "access_denied") && strstr(a.detail, "is not registered as an auditor"));
        answer_done(&a);
        a = get("/audit/checkpoint", NULL);
        CHECK(!a.problem);
        answer_done(&a);
        a = call_as(auditor, "POST", "/audit/entries", NULL);
        CHECK(a.problem && streq(a.problem, "method_not_allowed"));
        answer_done(&a);
        a = get("/audit/", NULL);
        CHECK(a.problem && streq(a.problem, "not_found"));
        answer_done(&a);
        a = get("/audit/entries/abc", NULL);
        CHECK(a.problem && streq(a.problem, "not_found"));
        answer_done(&a);
        a = get("/audit/entries/100000", NULL);
        CHECK(a.problem && streq(a.problem, "not_found") && strstr(a.detail, "no entry 100000"));
        answer_done(&a);
        a = get("/audit/entries/3", "tree_size=77");
        CHECK(a.problem && streq(a.problem, "not_found") && strstr(a.detail, "no checkpoint of tree size 77"));
        answer_done(&a);
        for (size_t i = 0; i < ELEMENTSOF(bad_queries); i++) {
                a = get("/audit/entries", bad_queries[i]);
                CHECK(a.problem && streq(a.problem, "bad_request"));
                answer_done(&a);
        }
        {
                char q[AUDIT_API_PARAM_MAX + 16];
                memset(q, 'a', sizeof(q) - 1);
                q[sizeof(q) - 1] = 0;
                memcpy(q, "client=", 7);
                a = get("/audit/entries", q);
                CHECK(a.problem && streq(a.problem, "bad_request"));
                answer_done(&a);
        }
        a = get("/audit/consistency", "from=0&to=10");
        CHECK(a.problem && streq(a.problem, "bad_request"));
        answer_done(&a);
        a = get("/audit/consistency", "from=20&to=10");
        CHECK(a.problem && streq(a.problem, "bad_request"));
        answer_done(&a);
        a = get("/audit/consistency", "from=20&to=100000");
        CHECK(a.problem && streq(a.problem, "bad_request"));
        answer_done(&a);
        a = get("/audit/consistency", "from=20");
        CHECK(a.problem && streq(a.problem, "bad_request"));
        answer_done(&a);
}

static void test_queries(uint64_t size)
{
        uint64_t seqs[AUDIT_API_LIMIT_MAX];
        long long next;
        size_t n;
        Answer a;

        printf("queries\n");
        /* everything, default limit 100 */
        a = get("/audit/entries", NULL);
        CHECK(a.json);
        n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
        CHECK(n == 100 && next == 100);
        for (size_t i = 0; i < n; i++)
                CHECK(seqs[i] == i);
        /* the entries are the stored bytes */
        {
                ExlogReader *r;
                char *e, want[600];
                size_t len;
                assert(exlog_reader_new(&r, node.log) == 0);
                assert(exlog_reader_get(r, 0, &e, &len) == 0);
                snprintf(want, sizeof(want), "{\"entries\":[%s,", e);
                CHECK(strneq(a.body, want, strlen(want)));
                free(e);
                exlog_reader_close(r);
        }
        answer_done(&a);

        /* raw=1: the stored bytes as JSON strings */
        {
                ExlogReader *r;
                char *e;
                size_t len;
                json_t *arr;
                a = get("/audit/entries", "raw=1&cursor=5&limit=3");
                arr = json_object_get(a.json, "entries");
                CHECK(json_array_size(arr) == 3);
                assert(exlog_reader_new(&r, node.log) == 0);
                for (size_t i = 0; i < 3; i++) {
                        assert(exlog_reader_get(r, 5 + i, &e, &len) == 0);
                        CHECK(json_string_length(json_array_get(arr, i)) == len &&
                              memcmp(json_string_value(json_array_get(arr, i)), e, len) == 0);
                        free(e);
                }
                exlog_reader_close(r);
                answer_done(&a);
                a = get("/audit/entries", "raw=1&decision=deny&limit=2");
                arr = json_object_get(a.json, "entries");
                CHECK(json_array_size(arr) == 2 && strstr(json_string_value(json_array_get(arr, 0)), "\"seq\":4,"));
                answer_done(&a);
                a = get("/audit/entries", "raw=yes");
                CHECK(a.problem && streq(a.problem, "bad_request"));
                answer_done(&a);
        }

        /* paging with the cursor visits every entry once */
        {
                uint64_t expect = 0;
                char q[64];
                next = 0;
                while (next >= 0) {
                        snprintf(q, sizeof(q), "limit=37&cursor=%lld", next);
                        a = get("/audit/entries", q);
                        n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
                        for (size_t i = 0; i < n; i++)
                                CHECK(seqs[i] == expect++);
                        answer_done(&a);
                }
                CHECK(expect == size);
        }

        /* filters */
        a = get("/audit/entries", "client=VN%2FGOV%2FA%2Fone&limit=1000");
        n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
        CHECK(n == size / 2 && next == -1);
        for (size_t i = 0; i < n; i++)
                CHECK(seqs[i] % 2 == 1);
        answer_done(&a);
        a = get("/audit/entries", "decision=deny&limit=1000");
        n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
        CHECK(n == size / 5);
        for (size_t i = 0; i < n; i++)
                CHECK(seqs[i] % 5 == 4);
        answer_done(&a);
        a = get("/audit/entries", "status=403&service=VN/GOV/S/s/land&limit=1000");
        n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
        CHECK(n > 0);
        for (size_t i = 0; i < n; i++)
                CHECK(seqs[i] % 5 == 4 && seqs[i] % 3 == 0);
        answer_done(&a);
        a = get("/audit/entries", "xroad_id=x-7");
        n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
        CHECK(n == 1 && seqs[0] == 7);
        answer_done(&a);
        a = get("/audit/entries", "outcome=ok&limit=1000"); /* no entry holds an error */
        n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
        CHECK(n == MIN(size, 1000u));
        answer_done(&a);
        a = get("/audit/entries", "outcome=access_denied&limit=1000");
        n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
        CHECK(n == 0);
        answer_done(&a);
        a = get("/audit/entries", "outcome=no_such_type");
        CHECK(a.problem && streq(a.problem, "bad_request"));
        answer_done(&a);
        a = get("/audit/entries", "client=VN/GOV/nobody");
        n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
        CHECK(n == 0 && next == -1);
        answer_done(&a);

        /* by subject: only that subject's entries, ascending, paged; the id never appears */
        {
                uint64_t expect = 0;
                char q[96];
                next = 0;
                while (next >= 0) {
                        snprintf(q, sizeof(q), "subject=" SUBJECT_ID "&limit=7&cursor=%lld", next);
                        a = get("/audit/entries", q);
                        CHECK(!strstr(a.body, SUBJECT_ID));
                        n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
                        for (size_t i = 0; i < n; i++) {
                                CHECK(seqs[i] == expect);
                                expect += 4;
                        }
                        answer_done(&a);
                }
                CHECK(expect == size + (4 - size % 4) % 4);
                a = get("/audit/entries", "subject=999999999999");
                n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
                CHECK(n == 0 && next == -1);
                answer_done(&a);
                a = get("/audit/entries", "subject=" SUBJECT_ID "&decision=deny&limit=1000");
                n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
                CHECK(n == size / 20 && next == -1);
                for (size_t i = 0; i < n; i++)
                        CHECK(seqs[i] % 20 == 4);
                answer_done(&a);
        }

        /* a time range: [time of 40, time of 60) */
        {
                ExlogReader *r;
                char q[128], t40[RFC3339_MAX], t60[RFC3339_MAX];
                uint64_t times[200], lo = 0, hi = 0;
                assert(size <= 200);
                assert(exlog_reader_new(&r, node.log) == 0);
                for (uint64_t s = 0; s < size; s++) {
                        char *e, t[RFC3339_MAX];
                        const char *tp;
                        size_t len, tl;
                        assert(exlog_reader_get(r, s, &e, &len) == 0);
                        assert(audit_entry_parse_prefix(e, len, NULL, &tp, &tl) == 0);
                        memcpy(t, tp, tl);
                        t[tl] = 0;
                        assert(parse_rfc3339(t, &times[s]) == 0);
                        free(e);
                }
                exlog_reader_close(r);
                format_rfc3339(times[40], t40);
                format_rfc3339(times[60], t60);
                for (uint64_t s = 0; s < size; s++) {
                        lo += times[s] < times[40];
                        hi += times[s] < times[60];
                }
                snprintf(q, sizeof(q), "from=%s&to=%s&limit=1000", t40, t60);
                a = get("/audit/entries", q);
                n = page_seqs(&a, seqs, ELEMENTSOF(seqs), &next);
                CHECK(n == hi - lo && next == -1);
                for (size_t i = 0; i < n; i++)
                        CHECK(seqs[i] == lo + i);
                answer_done(&a);
        }
}

static void test_proofs(uint64_t size, uint64_t covered)
{
        Answer a;

        printf("proofs\n");
        /* an entry with its proof: as a bundle it verifies */
        a = get("/audit/entries/42", NULL);
        CHECK(a.json && json_integer_value(json_object_get(a.json, "tree_size")) == (json_int_t)covered);
        {
                json_t *b = json_deep_copy(a.json);
                char *s;
                AuditReport rep;
                AuditBundleOptions o = { .verifier = verifier };
                json_object_set_new(b, "xbus_proof", json_integer(1));
                s = json_dumps(b, 0);
                CHECK(audit_verify_bundle(s, strlen(s), &o, &rep) == 0);
                audit_report_done(&rep);
                free(s);
                json_decref(b);
        }
        answer_done(&a);
        a = get("/audit/entries/42", "tree_size=50");
        CHECK(a.json && json_integer_value(json_object_get(a.json, "tree_size")) == 50);
        answer_done(&a);
        /* an entry no checkpoint covers yet */
        {
                char p[64];
                snprintf(p, sizeof(p), "/audit/entries/%llu", (unsigned long long)size - 1);
                a = get(p, NULL);
                CHECK(a.problem && streq(a.problem, "not_found") &&
                      strstr(a.detail, "retry after the next checkpoint"));
                answer_done(&a);
        }

        /* consistency between two checkpoints */
        {
                char q[64];
                ExlogReader *r;
                uint8_t r1[32], r2[32], proof[MERKLE_PROOF_MAX][32];
                size_t plen;
                snprintf(q, sizeof(q), "from=50&to=%llu", (unsigned long long)covered);
                a = get("/audit/consistency", q);
                CHECK(a.json && json_integer_value(json_object_get(a.json, "from")) == 50);
                CHECK(audit_proof_parse(json_object_get(a.json, "proof"), proof, &plen) == 0);
                assert(exlog_reader_new(&r, node.log) == 0);
                assert(exlog_reader_root(r, 50, r1) == 0 && exlog_reader_root(r, covered, r2) == 0);
                exlog_reader_close(r);
                CHECK(merkle_verify_consistency(50, covered, r1, r2, (const uint8_t(*)[32])proof, plen) == 0);
                r1[0] ^= 1;
                CHECK(merkle_verify_consistency(50, covered, r1, r2, (const uint8_t(*)[32])proof, plen) != 0);
                answer_done(&a);
        }

        /* the latest checkpoint, and the first covering a size */
        a = get("/audit/checkpoint", NULL);
        CHECK(a.body && streq(a.content_type, "text/plain; charset=utf-8"));
        {
                Checkpoint *c = NULL;
                CHECK(checkpoint_open(a.body, strlen(a.body), verifier, NULL, &c) == 0 && c->size == covered);
                checkpoint_free(c);
        }
        answer_done(&a);
        a = get("/audit/checkpoint", "size=51");
        {
                Checkpoint *c = NULL;
                CHECK(a.body && checkpoint_open(a.body, strlen(a.body), verifier, NULL, &c) == 0 && c->size >= 51 &&
                      c->size <= covered);
                checkpoint_free(c);
        }
        answer_done(&a);
        a = get("/audit/checkpoint", "size=100000");
        CHECK(a.problem && streq(a.problem, "not_found"));
        answer_done(&a);
}

int main(void)
{
        char dir[] = "/tmp/test-audit-api-XXXXXX";
        const uint64_t sizes[] = { 50, 100 };
        CheckpointSigner *signer;
        PseudonymKey *pk = NULL;
        char subject[PSEUDONYM_HEX_LEN + 1], *errors = NULL, *note;
        ExlogReader *r;
        uint64_t size, covered;

        setvbuf(stdout, NULL, _IOLBF, 0);
        signer = t_signer("test.log");
        verifier = t_verifier(signer);
        assert(pseudonym_key_new(&pk, "0123456789abcdef0123456789abcdef", 32) == 0);
        assert(pseudonym_compute(pk, SUBJECT_ID, strlen(SUBJECT_ID), subject) == 0);
        assert(registry_load_embedded(&reg, &errors) == 0);
        auditor = registry_subsystem_lookup(reg, "VN/GOV/TTCP/inspection");
        client = registry_subsystem_lookup(reg, "VN/GOV/BYT/health-services");
        assert(auditor && (auditor->roles & REGISTRY_ROLE_AUDITOR) && client);

        /* 100 entries with checkpoints at 50 and 100, then entries no checkpoint covers */
        assert(mkdtemp(dir));
        t_make_log(dir, signer, sizes, ELEMENTSOF(sizes), subject);
        assert(exlog_open(&node.log, dir,
                          &(ExlogOptions){ .checkpoints = signer,
                                           .checkpoint_interval_ms = 3600000,
                                           .map_size = (size_t)64 << 20 }) == 0);
        t_append(node.log, 100, 1, subject);
        usleep(300 * 1000); /* the writer's first round is over: no checkpoint for an hour */
        t_append(node.log, 101, 19, subject);
        node.pseudonyms = pk;
        assert(exlog_reader_new(&r, node.log) == 0);
        assert(exlog_reader_size(r, &size) == 0 && size == 120);
        assert(exlog_reader_checkpoint(r, 0, &note, &covered) == 0 && covered < size);
        free(note);
        exlog_reader_close(r);

        test_refusals();
        test_queries(size);
        test_proofs(size, covered);

        node.log = exlog_close(node.log);
        t_rmrf(dir);
        pseudonym_key_free(pk);
        registry_unref(reg);
        checkpoint_verifier_free(verifier);
        checkpoint_signer_free(signer);
        printf("%u checks passed\n", passed);
        return 0;
}
