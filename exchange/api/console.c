/* console.c: the web console's endpoint: static pages, sign-in, sessions, CSRF, the auditor and operator calls */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/console-internal.h"
#include "crypto/pseudonym.h"
#include "util/embedded.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"
#include "util/time-util.h"

#define API "/ui/api/"
#define SUBJECT_MAX 64

/* Only the node's own files and connections; no inline script or style, no frames, no forms elsewhere. */
#define CSP                                                                                             \
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " \
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static const struct {
        const char *ending, *type;
} static_types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },   { ".svg", "image/svg+xml" },
        { ".json", "application/json" },
};

const char *console_static_type(const char *name)
{
        size_t n = strlen(name);

        for (size_t i = 0; i < ELEMENTSOF(static_types); i++) {
                size_t e = strlen(static_types[i].ending);
                if (n > e && streq(name + n - e, static_types[i].ending))
                        return static_types[i].type;
        }
        return NULL;
}

/* The headers of every console answer: the page may load nothing from elsewhere and be framed by nobody. */
static void security_headers(EndpointResponse *resp)
{
        (void)endpoint_header_add(resp, "Content-Security-Policy", "%s", CSP);
        (void)endpoint_header_add(resp, "X-Content-Type-Options", "nosniff");
        (void)endpoint_header_add(resp, "Referrer-Policy", "no-referrer");
        (void)endpoint_header_add(resp, "X-Frame-Options", "DENY");
        (void)endpoint_header_add(resp, "Cross-Origin-Opener-Policy", "same-origin");
        (void)endpoint_header_add(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

/* A file of ui/ (names of [a-z0-9.-] only, so no path leaves the folder). */
static int handle_static(const EndpointRequest *req, EndpointResponse *resp, const char *name)
{
        char path[96];
        const EmbeddedFile *f;
        const char *type;

        if (!streq(req->method, "GET") && !streq(req->method, "HEAD"))
                return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "the console's pages are read with GET");
        if (!*name)
                name = "index.html";
        for (const char *p = name; *p; p++)
                if (!(ascii_isdigit(*p) || (*p >= 'a' && *p <= 'z') || *p == '.' || *p == '-'))
                        return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such page");
        type = console_static_type(name);
        if (!type || name[0] == '.' || snprintf(path, sizeof(path), "ui/%s", name) >= (int)sizeof(path) ||
            !(f = embedded_find(path)))
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such page");
        resp->body = malloc(f->size ? f->size : 1);
        if (!resp->body)
                return -ENOMEM;
        memcpy(resp->body, f->data, f->size);
        resp->body_size = f->size;
        resp->status = 200;
        snprintf(resp->content_type, sizeof(resp->content_type), "%s", type);
        return 0;
}

/* The session cookie's value in the Cookie header, or "". */
static void cookie_value(const EndpointRequest *req, char out[CONSOLE_ID_HEX + 1])
{
        const char *c = endpoint_header(req, "Cookie"), *p;

        out[0] = 0;
        for (p = c; p && (p = strstr(p, CONSOLE_COOKIE "=")); p++)
                if (p == c || p[-1] == ' ' || p[-1] == ';') {
                        p += strlen(CONSOLE_COOKIE "=");
                        if (strspn(p, "0123456789abcdef") == CONSOLE_ID_HEX &&
                            (!p[CONSOLE_ID_HEX] || p[CONSOLE_ID_HEX] == ';')) {
                                memcpy(out, p, CONSOLE_ID_HEX);
                                out[CONSOLE_ID_HEX] = 0;
                        }
                        return;
                }
}

/* Whether the browser says the call comes from another site (Fetch Metadata), which no console call does. */
static bool cross_site(const EndpointRequest *req)
{
        const char *site = endpoint_header(req, "Sec-Fetch-Site");

        return site && !streq(site, "same-origin");
}

static int deny(const EndpointRequest *req, EndpointResponse *resp, ProblemType type, const char *why)
{
        atomic_fetch_add(&console_api(req)->counters.denied, 1);
        log_notice("Console call refused (%s): %s %s", why, req->method, req->path);
        return endpoint_problem(resp, type, "%s", why);
}

/*
 * The session of the call, if it has one of the roles in `roles` (a mask of
 * 1 << ConsoleRole) and carries the session's CSRF token (with `any_csrf`,
 * the header in any form: GET /ui/api/session, which hands the token to a
 * reloaded page; a page of another site can neither send the header without
 * a preflight the node never grants nor read the answer). Return: 1 (*ret
 * filled), 0 (answered: refused).
 */
static int session_of(const EndpointRequest *req, EndpointResponse *resp, unsigned roles, bool any_csrf,
                      ConsoleSession *ret)
{
        ConsoleApi *c = console_api(req);
        char id[CONSOLE_ID_HEX + 1];
        const char *csrf = endpoint_header(req, CONSOLE_CSRF_HEADER);

        if (cross_site(req))
                return deny(req, resp, PROBLEM_ACCESS_DENIED, "a call from another site"), 0;
        cookie_value(req, id);
        if (!id[0] || console_sessions_get(c->sessions, id, now_usec(CLOCK_REALTIME), ret) < 0)
                return deny(req, resp, PROBLEM_CLIENT_UNKNOWN, "no session, or it has expired: sign in again"), 0;
        if (!csrf ||
            (!any_csrf && (strlen(csrf) != CONSOLE_ID_HEX || CRYPTO_memcmp(csrf, ret->csrf, CONSOLE_ID_HEX) != 0)))
                return deny(req, resp, PROBLEM_ACCESS_DENIED, "the call lacks the session's CSRF token"), 0;
        if (!(roles & (1u << ret->role)))
                return deny(req, resp, PROBLEM_ACCESS_DENIED, "this session's role may not make this call"), 0;
        atomic_fetch_add(&c->counters.calls[ret->role], 1);
        log_info("Console call: session %s (%s%s%s): %s %s", ret->handle, console_role_name(ret->role),
                 ret->actor[0] ? " " : "", ret->actor, req->method, req->path);
        return 1;
}

/* What the page learns about its session: role, actor, CSRF token, timeouts. */
static int session_json(EndpointResponse *resp, const ConsoleSession *s)
{
        uint64_t now = now_usec(CLOCK_REALTIME);

        return endpoint_json(resp, 200,
                             json_pack("{s:s,s:s,s:s,s:I,s:I}", "role", console_role_name(s->role), "actor", s->actor,
                                       "csrf", s->csrf, "idle_expires_in",
                                       (json_int_t)((s->idle_deadline_usec - MIN(now, s->idle_deadline_usec)) / 1000000),
                                       "expires_in",
                                       (json_int_t)((s->deadline_usec - MIN(now, s->deadline_usec)) / 1000000)));
}

static const char *const refusal_reasons[] = {
        [CONSOLE_E_EXPIRED] = "the link has expired (or was issued before the node started)",
        [CONSOLE_E_USED] = "the link was used already: a sign-in link works once",
        [CONSOLE_E_UNKNOWN] = "the node did not issue this citizen link, or it has expired",
        [CONSOLE_E_FULL] = "too many sign-in links are in use; try again later",
};

/* POST /ui/api/login {"token":T}: spend the link, open a session, set its cookie. */
static int handle_login(const EndpointRequest *req, EndpointResponse *resp)
{
        ConsoleApi *c = console_api(req);
        _cleanup_(json_decrefp) json_t *body = NULL;
        char id[CONSOLE_ID_HEX + 1];
        ConsoleSession s;
        ConsoleLink l;
        int r;

        if (!streq(req->method, "POST"))
                return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "sign in with POST");
        if (cross_site(req) || !endpoint_header(req, CONSOLE_CSRF_HEADER))
                return deny(req, resp, PROBLEM_ACCESS_DENIED, "a sign-in from another site");
        body = json_loadb((const char *)req->body, req->body_size, 0, NULL);
        if (console_token_parse(&c->key, json_string_value(json_object_get(body, "token")), &l) < 0) {
                atomic_fetch_add(&c->counters.refused, 1);
                log_notice("Console sign-in refused: the link is malformed or not signed by this node");
                return endpoint_problem(resp, PROBLEM_CLIENT_UNKNOWN, "this is not a sign-in link of this node");
        }
        r = console_sessions_open(c->sessions, &l, now_usec(CLOCK_REALTIME), id, &s);
        if (r < 0)
                return r;
        if (r > 0) {
                atomic_fetch_add(&c->counters.refused, 1);
                log_notice("Console sign-in refused (%s): %s", console_role_name(l.role), refusal_reasons[r]);
                return endpoint_problem(resp, PROBLEM_CLIENT_UNKNOWN, "%s", refusal_reasons[r]);
        }
        atomic_fetch_add(&c->counters.signins[s.role], 1);
        log_info("Console sign-in: session %s (%s%s%s)", s.handle, console_role_name(s.role), s.actor[0] ? " " : "",
                 s.actor);
        (void)endpoint_header_add(resp, "Set-Cookie",
                                  CONSOLE_COOKIE "=%s; Path=" CONSOLE_PREFIX "; Secure; HttpOnly; SameSite=Strict", id);
        OPENSSL_cleanse(id, sizeof(id));
        return session_json(resp, &s);
}

static int handle_logout(const EndpointRequest *req, EndpointResponse *resp, const ConsoleSession *s)
{
        char id[CONSOLE_ID_HEX + 1];

        if (!streq(req->method, "POST"))
                return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "sign out with POST");
        cookie_value(req, id);
        (void)console_sessions_close(console_api(req)->sessions, id);
        log_info("Console sign-out: session %s", s->handle);
        (void)endpoint_header_add(resp, "Set-Cookie",
                                  CONSOLE_COOKIE "=; Path=" CONSOLE_PREFIX
                                                 "; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
        return endpoint_json(resp, 200, json_pack("{s:b}", "signed_out", 1));
}

/* GET /ui/api/audit/REST: the auditor API's answer to /audit/REST (the export is the console's own). */
static int handle_audit(const EndpointRequest *req, EndpointResponse *resp, const char *sub)
{
        _cleanup_free_ char *path = NULL;
        EndpointRequest a = *req;

        if (streq(sub, "export"))
                return console_audit_export(req, resp);
        if (asprintf(&path, "%s%s", AUDIT_API_PREFIX, sub) < 0)
                return -ENOMEM;
        a.path = path;
        a.userdata = console_api(req)->audit;
        return audit_api_serve(&a, resp);
}

static int handle_operator(const EndpointRequest *req, EndpointResponse *resp, const char *sub)
{
        ConsoleApi *c = console_api(req);
        json_t *j = NULL;
        int r;

        if (!streq(sub, "status"))
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "the operator has /ui/api/operator/status");
        if (!c->status)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "this node shows no status");
        r = c->status(c->status_userdata, &j);
        if (r < 0)
                return r;
        return endpoint_json(resp, 200, j);
}

static bool subject_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > SUBJECT_MAX)
                return false;
        for (; *s; s++)
                if (!(ascii_isalpha(*s) || ascii_isdigit(*s) || *s == '-'))
                        return false;
        return true;
}

/*
 * POST /ui/api/citizen-links {"subject":ID[,"lifetime":SECONDS]}: the
 * consent authority (the national portal, mutual TLS) asks for a citizen's
 * sign-in link. The node keeps the subject's pseudonym under the link's
 * nonce: the link names nobody.
 */
static int handle_citizen_link(const EndpointRequest *req, EndpointResponse *resp)
{
        ConsoleApi *c = console_api(req);
        _cleanup_(json_decrefp) json_t *body = NULL;
        char pseudonym[PSEUDONYM_HEX_LEN + 1], token[CONSOLE_TOKEN_MAX];
        const char *subject;
        json_t *lifetime;
        uint64_t now = now_usec(CLOCK_REALTIME), life = CONSOLE_CITIZEN_LINK_DEFAULT_USEC;
        ConsoleLink l = { .role = CONSOLE_ROLE_CITIZEN };
        int r;

        if (!req->client)
                return endpoint_problem(resp, PROBLEM_CLIENT_UNKNOWN,
                                        "citizen links need a registered client "
                                        "certificate");
        if (!(req->client->roles & REGISTRY_ROLE_CONSENT_AUTHORITY))
                return endpoint_problem(resp, PROBLEM_ACCESS_DENIED, "'%.200s' is not a consent authority",
                                        req->client->id);
        if (!streq(req->method, "POST"))
                return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "use POST");
        body = json_loadb((const char *)req->body, req->body_size, 0, NULL);
        subject = json_string_value(json_object_get(body, "subject"));
        if (!subject_valid(subject))
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                        "subject must be a personal id ([0-9A-Za-z-], 1..64)");
        lifetime = json_object_get(body, "lifetime");
        if (lifetime) {
                if (!json_is_integer(lifetime) || json_integer_value(lifetime) < 1 ||
                    (uint64_t)json_integer_value(lifetime) * 1000000 > CONSOLE_LINK_LIFETIME_MAX_USEC)
                        return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "lifetime must be 1..%llu seconds",
                                                CONSOLE_LINK_LIFETIME_MAX_USEC / 1000000);
                life = (uint64_t)json_integer_value(lifetime) * 1000000;
        }
        if (!c->consent || !c->consent->pseudonyms)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "this node has no subject pseudonyms");
        r = pseudonym_compute(c->consent->pseudonyms, subject, strlen(subject), pseudonym);
        if (r < 0)
                return r;
        l.issued_usec = now;
        l.expires_usec = now + life;
        r = console_token_mint(&c->key, &l, true, token);
        if (r == 0)
                r = console_sessions_citizen_link(c->sessions, &l, pseudonym, now);
        OPENSSL_cleanse(pseudonym, sizeof(pseudonym));
        if (r == CONSOLE_E_FULL)
                return endpoint_problem(resp, PROBLEM_BUS_BUSY, "%s", refusal_reasons[r]);
        if (r != 0)
                return r < 0 ? r : -EINVAL;
        log_info("Console citizen link issued for the consent authority %s", req->client->id);
        return endpoint_json(resp, 201,
                             json_pack("{s:s,s:s+,s:I}", "token", token, "path", CONSOLE_PREFIX "#login=", token,
                                       "expires_in", (json_int_t)(life / 1000000)));
}

/* The calls under /ui/api/. */
static int handle_api(const EndpointRequest *req, EndpointResponse *resp, const char *sub)
{
        static const struct {
                const char *prefix;
                unsigned roles;
        } areas[] = {
                { "session", 1u << CONSOLE_ROLE_AUDITOR | 1u << CONSOLE_ROLE_OPERATOR | 1u << CONSOLE_ROLE_CITIZEN },
                { "logout", 1u << CONSOLE_ROLE_AUDITOR | 1u << CONSOLE_ROLE_OPERATOR | 1u << CONSOLE_ROLE_CITIZEN },
                { "audit/", 1u << CONSOLE_ROLE_AUDITOR },
                { "operator/", 1u << CONSOLE_ROLE_OPERATOR },
                { "citizen/", 1u << CONSOLE_ROLE_CITIZEN },
        };
        ConsoleSession s;

        if (streq(sub, "login"))
                return handle_login(req, resp);
        if (streq(sub, "citizen-links"))
                return handle_citizen_link(req, resp);
        for (size_t i = 0; i < ELEMENTSOF(areas); i++) {
                size_t n = strlen(areas[i].prefix);
                if (!strneq(sub, areas[i].prefix, n))
                        continue;
                if (areas[i].prefix[n - 1] != '/' && sub[n])
                        break;
                if (!session_of(req, resp, areas[i].roles, i == 0 && streq(req->method, "GET"), &s))
                        return 0;
                if (i == 0)
                        return session_json(resp, &s);
                if (i == 1)
                        return handle_logout(req, resp, &s);
                if (i != 4 && !streq(req->method, "GET"))
                        return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "use GET");
                if (i == 2)
                        return handle_audit(req, resp, sub + n);
                if (i == 3)
                        return handle_operator(req, resp, sub + n);
                return console_citizen(req, resp, &s, sub + n);
        }
        return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such console call");
}

int console_handle(const EndpointRequest *req, EndpointResponse *resp)
{
        const char *sub;

        if (!strneq(req->path, CONSOLE_PREFIX, strlen(CONSOLE_PREFIX)))
                return -EINVAL;
        security_headers(resp);
        sub = req->path + strlen(CONSOLE_PREFIX);
        if (strneq(sub, "api/", 4))
                return handle_api(req, resp, sub + 4);
        return handle_static(req, resp, sub);
}
