/* test-console.c: the web console's link tokens, key file, sessions and endpoint (without a node) */
#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/console.h"
#include "tests/support/test-util.h"
#include "util/macro.h"

#define CHECK(cond)                                                                              \
        do {                                                                                     \
                if (!(cond)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                 \
                }                                                                                \
        } while (0)

#define SEC 1000000ULL
#define PSEUD "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static ConsoleKey key = { { 1, 2, 3, 4, 5, 6, 7, 8, 9 } };

static void test_tokens(void)
{
        ConsoleLink l = { .role = CONSOLE_ROLE_AUDITOR, .issued_usec = 100 * SEC, .expires_usec = 400 * SEC }, got;
        ConsoleKey other = key;
        char token[CONSOLE_TOKEN_MAX];
        ConsoleRole r;

        printf("tokens\n");
        CHECK(console_role_from_name("operator", &r) == 0 && r == CONSOLE_ROLE_OPERATOR);
        CHECK(console_role_from_name("root", &r) == -EINVAL && console_role_from_name(NULL, &r) == -EINVAL);
        CHECK(streq(console_role_name(CONSOLE_ROLE_CITIZEN), "citizen") && !console_role_name(_CONSOLE_ROLE_MAX));
        strcpy(l.actor, "nguyen.an@ttcp");
        CHECK(console_token_mint(&key, &l, true, token) == 0);
        CHECK(console_token_parse(&key, token, &got) == 0);
        CHECK(got.role == l.role && got.issued_usec == l.issued_usec && got.expires_usec == l.expires_usec &&
              memcmp(got.nonce, l.nonce, CONSOLE_NONCE_LEN) == 0 && streq(got.actor, "nguyen.an@ttcp"));
        /* another key, a changed payload, a changed tag, a cut token, garbage: all refused */
        other.bytes[31] ^= 1;
        CHECK(console_token_parse(&other, token, &got) == -EINVAL);
        for (size_t i = 0; token[i]; i += 7) {
                char bad[CONSOLE_TOKEN_MAX];
                strcpy(bad, token);
                bad[i] = bad[i] == 'A' ? 'B' : 'A';
                CHECK(console_token_parse(&key, bad, &got) == -EINVAL || streq(bad, token));
        }
        token[strlen(token) - 3] = 0;
        CHECK(console_token_parse(&key, token, &got) == -EINVAL);
        CHECK(console_token_parse(&key, "", &got) == -EINVAL && console_token_parse(&key, NULL, &got) == -EINVAL);
        CHECK(console_token_parse(&key, "a.b", &got) == -EINVAL);
        /* what cannot be minted */
        strcpy(l.actor, "bad actor");
        CHECK(console_token_mint(&key, &l, true, token) == -EINVAL);
        l.actor[0] = 0;
        l.expires_usec = l.issued_usec;
        CHECK(console_token_mint(&key, &l, true, token) == -EINVAL);
        CHECK(!console_actor_valid("") && console_actor_valid("a") && !console_actor_valid("a/b"));
}

static void test_key_file(void)
{
        _cleanup_free_ char *dir = test_tmpdir("console"), *path = NULL;
        ConsoleKey a, b;

        printf("key file\n");
        assert(asprintf(&path, "%s/console.key", dir) > 0);
        CHECK(console_key_load(path, false, &a) == -ENOENT);
        CHECK(console_key_load(path, true, &a) == 0);
        CHECK(console_key_load(path, false, &b) == 0 && memcmp(&a, &b, sizeof(a)) == 0);
        CHECK(chmod(path, 0644) == 0);
        CHECK(console_key_load(path, false, &b) == -EPERM);
        test_rm_rf(dir);
}

static ConsoleLink link_at(ConsoleRole role, uint64_t issued, uint64_t expires)
{
        ConsoleLink l = { .role = role, .issued_usec = issued * SEC, .expires_usec = expires * SEC };
        char token[CONSOLE_TOKEN_MAX];

        assert(console_token_mint(&key, &l, true, token) == 0); /* a fresh nonce */
        return l;
}

static void test_sessions(void)
{
        ConsoleSessions *s = NULL;
        char id[CONSOLE_ID_HEX + 1], id2[CONSOLE_ID_HEX + 1];
        ConsoleSession ses;
        ConsoleLink l;

        printf("sessions\n");
        /* the node started at 1000 s; sessions idle out after 60 s, end 300 s after sign-in */
        CHECK(console_sessions_new(&s, 1000 * SEC, 60 * SEC, 300 * SEC) == 0);
        l = link_at(CONSOLE_ROLE_AUDITOR, 999, 1200);
        CHECK(console_sessions_open(s, &l, 1001 * SEC, id, &ses) == CONSOLE_E_EXPIRED); /* before the start */
        l = link_at(CONSOLE_ROLE_AUDITOR, 1001, 1100);
        CHECK(console_sessions_open(s, &l, 1100 * SEC, id, &ses) == CONSOLE_E_EXPIRED); /* at its end */
        l = link_at(CONSOLE_ROLE_AUDITOR, 1001, 1001 + 3601);
        CHECK(console_sessions_open(s, &l, 1002 * SEC, id, &ses) == CONSOLE_E_EXPIRED); /* too long a life */
        l = link_at(CONSOLE_ROLE_AUDITOR, 1001, 1300);
        CHECK(console_sessions_open(s, &l, 1002 * SEC, id, &ses) == 0);
        CHECK(ses.role == CONSOLE_ROLE_AUDITOR && strlen(ses.csrf) == CONSOLE_ID_HEX && strlen(id) == CONSOLE_ID_HEX &&
              !streq(ses.csrf, id) && !ses.pseudonym[0] && strlen(ses.handle) == 16);
        CHECK(console_sessions_open(s, &l, 1003 * SEC, id2, &ses) == CONSOLE_E_USED); /* a link works once */
        /* idle: each call moves the idle deadline on, the absolute one stays */
        CHECK(console_sessions_get(s, id, 1050 * SEC, &ses) == 0);
        CHECK(console_sessions_get(s, id, 1109 * SEC, &ses) == 0);
        CHECK(console_sessions_get(s, id, 1168 * SEC, &ses) == 0 && ses.deadline_usec == 1302 * SEC);
        CHECK(console_sessions_get(s, id, 1228 * SEC + 1, &ses) == -ENOENT);
        CHECK(console_sessions_get(s, id, 1230 * SEC, &ses) == -ENOENT); /* forgotten */
        /* absolute: a busy session ends all the same */
        l = link_at(CONSOLE_ROLE_OPERATOR, 1100, 1200);
        CHECK(console_sessions_open(s, &l, 1101 * SEC, id, &ses) == 0);
        for (uint64_t t = 1130; t < 1401; t += 30)
                CHECK(console_sessions_get(s, id, t * SEC, &ses) == 0);
        CHECK(console_sessions_get(s, id, 1401 * SEC, &ses) == -ENOENT);
        /* close; an id that is no session */
        l = link_at(CONSOLE_ROLE_OPERATOR, 1100, 1200);
        CHECK(console_sessions_open(s, &l, 1101 * SEC, id, &ses) == 0);
        CHECK(console_sessions_close(s, id) == 0 && console_sessions_get(s, id, 1102 * SEC, &ses) == -ENOENT);
        CHECK(console_sessions_get(s, "nope", 1102 * SEC, &ses) == -ENOENT);
        /* citizen links: only those the node issued, each once, with their subject */
        l = link_at(CONSOLE_ROLE_CITIZEN, 1100, 1200);
        CHECK(console_sessions_open(s, &l, 1101 * SEC, id, &ses) == CONSOLE_E_UNKNOWN);
        l = link_at(CONSOLE_ROLE_CITIZEN, 1100, 1200);
        CHECK(console_sessions_citizen_link(s, &l, "short", 1100 * SEC) == -EINVAL);
        CHECK(console_sessions_citizen_link(s, &l, PSEUD, 1100 * SEC) == 0);
        CHECK(console_sessions_citizen_link(s, &l, PSEUD, 1100 * SEC) == -EINVAL); /* the same nonce twice */
        CHECK(console_sessions_open(s, &l, 1101 * SEC, id, &ses) == 0 && streq(ses.pseudonym, PSEUD));
        CHECK(console_sessions_open(s, &l, 1102 * SEC, id, &ses) == CONSOLE_E_USED);
        s = console_sessions_free(s);
}

typedef struct Answer {
        int status;
        const char *problem;
        char *body;
        EndpointResponse resp;
} Answer;

static Answer call(ConsoleApi *c, const char *method, const char *path, const char *body)
{
        EndpointRequest req = { .userdata = c,
                                .method = method,
                                .path = path,
                                .query = "",
                                .body = (const uint8_t *)(body ? body : ""),
                                .body_size = body ? strlen(body) : 0 };
        Answer a = {};

        a.resp.status = 200;
        CHECK(console_handle(&req, &a.resp) == 0);
        a.status = a.resp.status;
        a.problem = a.resp.problem ? problem_name(a.resp.problem) : NULL;
        if (a.resp.body) { /* a body has its size, no NUL: add one for the string checks */
                a.body = realloc(a.resp.body, a.resp.body_size + 1);
                assert(a.body);
                a.body[a.resp.body_size] = 0;
        }
        return a;
}

static const char *header(const Answer *a, const char *name)
{
        for (size_t i = 0; i < a->resp.n_headers; i++)
                if (streq(a->resp.headers[i].name, name))
                        return a->resp.headers[i].value;
        return NULL;
}

static void test_endpoint(void)
{
        ConsoleApi c = { .key = key };
        Answer a;

        printf("endpoint\n");
        CHECK(console_sessions_new(&c.sessions, 0, 60 * SEC, 300 * SEC) == 0);
        a = call(&c, "GET", "/ui/", NULL);
        CHECK(a.status == 200 && a.body && strstr(a.body, "<script src=\"console.js\"") && !strstr(a.body, "<script>"));
        CHECK(streq(a.resp.content_type, "text/html; charset=utf-8"));
        CHECK(header(&a, "Content-Security-Policy") &&
              strstr(header(&a, "Content-Security-Policy"), "default-src 'none'") &&
              strstr(header(&a, "Content-Security-Policy"), "script-src 'self';"));
        CHECK(streq(header(&a, "X-Frame-Options"), "DENY"));
        free(a.body);
        a = call(&c, "GET", "/ui/verify.js", NULL);
        CHECK(a.status == 200 && streq(a.resp.content_type, "text/javascript; charset=utf-8"));
        free(a.body);
        a = call(&c, "GET", "/ui/../conf/registry/services.conf", NULL);
        CHECK(a.problem && streq(a.problem, "not_found"));
        a = call(&c, "GET", "/ui/nothing.js", NULL);
        CHECK(a.problem && streq(a.problem, "not_found"));
        a = call(&c, "POST", "/ui/index.html", NULL);
        CHECK(a.problem && streq(a.problem, "method_not_allowed"));
        /* no CSRF header, a token of another key, garbage: no session */
        a = call(&c, "POST", "/ui/api/login", "{\"token\":\"x\"}");
        CHECK(a.problem && streq(a.problem, "access_denied"));
        /* calls without a session */
        a = call(&c, "GET", "/ui/api/audit/entries", NULL);
        CHECK(a.problem && streq(a.problem, "client_unknown") && c.counters.denied == 2);
        /* citizen links are for consent authorities (a client certificate) only */
        a = call(&c, "POST", "/ui/api/citizen-links", "{\"subject\":\"001\"}");
        CHECK(a.problem && streq(a.problem, "client_unknown"));
        a = call(&c, "GET", "/ui/api/nothing", NULL);
        CHECK(a.problem && streq(a.problem, "not_found"));
        CHECK(streq(console_static_type("a.css"), "text/css; charset=utf-8") && !console_static_type("a.exe"));
        c.sessions = console_sessions_free(c.sessions);
}

int main(void)
{
        test_tokens();
        test_key_file();
        test_sessions();
        test_endpoint();
        printf("console: all checks passed\n");
        return 0;
}
