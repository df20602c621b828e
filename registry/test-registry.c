/* test-registry.c: unit tests for the registry loader, checks, lookups and authorization */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <zmq.h>

#include "registry.h"
#include "validate/jsonschema.h"
#include "util/macro.h"

static unsigned n_checks;
#define CHECK(x)                                                                              \
        do {                                                                                  \
                n_checks++;                                                                   \
                if (!(x)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
                        abort();                                                              \
                }                                                                             \
        } while (0)

/* ---- The sample registry ------------------------------------------------------------------- */

static const RegistrySubsystem *sub(const Registry *r, const char *id)
{
        const RegistrySubsystem *s = registry_subsystem_lookup(r, id);
        if (!s)
                fprintf(stderr, "no subsystem %s\n", id);
        CHECK(s);
        return s;
}

static const RegistryService *svc(const Registry *r, const char *id)
{
        const RegistryService *s = registry_service_lookup(r, id);
        if (!s)
                fprintf(stderr, "no service %s\n", id);
        CHECK(s);
        return s;
}

#define POPULATION "VN/GOV/BCA/population/citizen"
#define HN_OSS "VN/GOV/HN-UBND/one-stop-shop"
#define HCM_OSS "VN/GOV/HCM-UBND/one-stop-shop"
#define BYT "VN/GOV/BYT/health-services"
#define VCB "VN/COM/VCB/kyc"

static void check_authorize(const Registry *r, const char *client, const char *service, unsigned method,
                            const char *path, int expect, const char *expect_right)
{
        const RegistryRight *right = NULL;
        int k = registry_authorize(r, sub(r, client), svc(r, service), method, path, &right);

        if (k != expect || (k == 0 && !streq(right->id, expect_right))) {
                fprintf(stderr, "authorize %s -> %s %s %s: got %d (%s), expected %d (%s)\n", client, service,
                        registry_method_to_string(method), strempty(path), k, k == 0 ? right->id : "-", expect,
                        strempty(expect_right));
                CHECK(false);
        }
        n_checks++;
}

static void check_sample(Registry *r)
{
        const RegistrySubsystem *const *subsystems;
        const RegistryService *const *services;
        const RegistryRight *const *rights;
        const RegistryPurpose *const *purposes;
        const RegistrySubsystem *s;
        const RegistryService *v;
        const RegistryGroup *g;
        const RegistryRight *right = NULL;
        size_t n_sub, n_svc, n_rights, n_purposes, n_providers = 0;

        CHECK(streq(registry_instance(r), "VN"));

        /* Counts, as docs/sample-registry.md describes them. */
        n_sub = registry_subsystems(r, &subsystems);
        n_svc = registry_services(r, &services);
        n_rights = registry_rights(r, &rights);
        n_purposes = registry_purposes(r, &purposes);
        CHECK(n_sub == 20);
        CHECK(n_svc == 15);
        CHECK(n_rights == 22);
        CHECK(n_purposes == 10);
        for (size_t i = 0; i < n_sub; i++)
                if (subsystems[i]->roles & REGISTRY_ROLE_PROVIDER)
                        n_providers++;
        CHECK(n_providers == 12);

        /* Iteration is sorted by id. */
        for (size_t i = 1; i < n_sub; i++)
                CHECK(strcmp(subsystems[i - 1]->id, subsystems[i]->id) < 0);
        for (size_t i = 1; i < n_svc; i++)
                CHECK(strcmp(services[i - 1]->id, services[i]->id) < 0);
        for (size_t i = 1; i < n_rights; i++)
                CHECK(strcmp(rights[i - 1]->id, rights[i]->id) < 0);
        for (size_t i = 1; i < n_purposes; i++)
                CHECK(strcmp(purposes[i - 1]->code, purposes[i]->code) < 0);

        /* Every provider and every service is reached by at least one right. */
        for (size_t i = 0; i < n_svc; i++) {
                bool reached = false;
                for (size_t j = 0; j < n_rights; j++)
                        if (rights[j]->service == services[i])
                                reached = true;
                if (!reached)
                        fprintf(stderr, "service %s has no right\n", services[i]->id);
                CHECK(reached);
                CHECK(services[i]->owner && (services[i]->owner->roles & REGISTRY_ROLE_PROVIDER));
                CHECK(services[i]->response_schema);
                CHECK(streq(services[i]->adapter, "sample"));
        }

        /* Members and subsystems. */
        CHECK(registry_member_lookup(r, "VN/GOV/BCA"));
        CHECK(strstr(registry_member_lookup(r, "VN/GOV/BCA")->name, "Bộ Công an"));
        CHECK(!registry_member_lookup(r, "VN/GOV/NOPE"));
        CHECK(!registry_member_lookup(r, NULL));
        s = sub(r, "VN/GOV/BCA/population");
        CHECK(s->roles == REGISTRY_ROLE_PROVIDER);
        CHECK(s->member == registry_member_lookup(r, "VN/GOV/BCA"));
        CHECK(!s->tls_cn && s->n_tls_fingerprints == 0);
        s = sub(r, VCB);
        CHECK(s->roles == REGISTRY_ROLE_CLIENT && streq(s->tls_cn, VCB));
        CHECK(sub(r, "VN/GOV/VPCP/national-portal")->roles == REGISTRY_ROLE_CONSENT_AUTHORITY);
        CHECK(sub(r, "VN/GOV/TTCP/inspection")->roles == REGISTRY_ROLE_AUDITOR);
        CHECK(!registry_subsystem_lookup(r, "VN/GOV/BCA"));

        /* Every subsystem that calls the bus has tls-cn = its own id. */
        for (size_t i = 0; i < n_sub; i++)
                if (subsystems[i]->roles & ~REGISTRY_ROLE_PROVIDER)
                        CHECK(subsystems[i]->tls_cn && streq(subsystems[i]->tls_cn, subsystems[i]->id));

        /* Identification by certificate. */
        CHECK(registry_subsystem_by_cert(r, NULL, HN_OSS) == sub(r, HN_OSS));
        {
                uint8_t fp[32] = {};
                CHECK(registry_subsystem_by_cert(r, fp, VCB) == sub(r, VCB));
                CHECK(!registry_subsystem_by_cert(r, fp, "VN/GOV/BCA/population"));
                CHECK(!registry_subsystem_by_cert(r, fp, NULL));
        }
        CHECK(!registry_subsystem_by_cert(r, NULL, "vn/com/vcb/kyc"));

        /* Services. */
        v = svc(r, POPULATION);
        CHECK(streq(v->code, "citizen"));
        CHECK(v->owner == sub(r, "VN/GOV/BCA/population"));
        CHECK(v->methods == REGISTRY_METHOD_GET);
        CHECK(v->paths && streq(v->paths[0], "/") && streq(v->paths[1], "/*") && !v->paths[2]);
        CHECK(v->personal_data);
        /* subject = path /{subject}: the first segment of the service path */
        CHECK(v->subject.source == REGISTRY_SUBJECT_PATH && streq(v->subject.where, "/*") && v->subject.segment == 0);
        CHECK(!v->response_subject);
        CHECK(streq(svc(r, "VN/GOV/BTP/civil-status/marital-status")->response_subject, "/spouse_id"));
        CHECK(svc(r, "VN/GOV/BTP/civil-status/marital-status")->subject.source == REGISTRY_SUBJECT_HEADER);
        CHECK(v->categories && streq(v->categories[0], "identity"));
        CHECK(streq(v->response_schema, "population/citizen.response.json"));
        CHECK(!v->request_schema);
        CHECK(v->timeout_ms == 5000);
        CHECK(v->max_request_size == MIB(1) && v->max_response_size == MIB(1));
        /* loaded from a folder or embedded, the schemas are compiled at load */
        CHECK(!v->request_validator && v->response_validator);
        v = svc(r, "VN/GOV/BTC/tax/tax-obligation-check");
        CHECK(v->methods == REGISTRY_METHOD_POST);
        CHECK(v->request_validator && v->response_validator);
        CHECK(streq(v->request_schema, "tax/tax-obligation-check.request.json"));
        CHECK(v->timeout_ms == 15000 && v->max_request_size == KIB(64));
        v = svc(r, "VN/GOV/BKHDT/business-registry/enterprise");
        /* its path names the enterprise code, which has a schema (registry "parameter") */
        CHECK(!v->personal_data && streq(v->paths[0], "/{code}") && !v->paths[1]);
        CHECK(v->n_parameters == 1 && v->parameters[0].in == REGISTRY_PARAMETER_PATH &&
              streq(v->parameters[0].name, "code") && v->parameters[0].required && v->parameters[0].validator);
        v = svc(r, "VN/GOV/BTP/judicial-records/criminal-record");
        CHECK(v->timeout_ms == 10000); /* the default */
        CHECK(!registry_service_lookup(r, "VN/GOV/BCA/population"));

        /* Groups and purposes. */
        g = registry_group_lookup(r, "provincial-one-stop-shops");
        CHECK(g && g->n_members == 2);
        CHECK(g->members[0] == sub(r, HCM_OSS) && g->members[1] == sub(r, HN_OSS));
        CHECK(!registry_group_lookup(r, "nope"));
        CHECK(registry_purpose_lookup(r, "loan-application"));
        CHECK(registry_purpose_lookup(r, "audit")->description);
        CHECK(!registry_purpose_lookup(r, "marketing"));

        /* Authorization: direct, via the group, and each refusal. */
        check_authorize(r, BYT, POPULATION, REGISTRY_METHOD_GET, "/", 0, "byt-population-citizen");
        check_authorize(r, BYT, POPULATION, REGISTRY_METHOD_GET, "", 0, "byt-population-citizen");
        check_authorize(r, BYT, POPULATION, REGISTRY_METHOD_GET, NULL, 0, "byt-population-citizen");
        check_authorize(r, HN_OSS, POPULATION, REGISTRY_METHOD_GET, "/", 0, "oss-population-citizen");
        check_authorize(r, HCM_OSS, POPULATION, REGISTRY_METHOD_GET, "/", 0, "oss-population-citizen");
        check_authorize(r, HCM_OSS, "VN/GOV/BTP/civil-status/birth-record", REGISTRY_METHOD_GET, "/", 0,
                        "oss-birth-record");
        check_authorize(r, HN_OSS, "VN/GOV/BTNMT/land/land-parcels", REGISTRY_METHOD_GET, "/", 0, "oss-land-parcels");
        check_authorize(r, HN_OSS, "VN/GOV/BTC/tax/tax-obligation-check", REGISTRY_METHOD_POST, "/", 0,
                        "oss-tax-obligation-check");
        check_authorize(r, HN_OSS, "VN/GOV/BKHDT/business-registry/enterprise", REGISTRY_METHOD_GET, "/0101234567", 0,
                        "oss-enterprise");
        check_authorize(r, VCB, "VN/GOV/BTP/judicial-records/criminal-record", REGISTRY_METHOD_GET, "/", 0,
                        "vcb-criminal-record");
        check_authorize(r, VCB, "VN/GOV/BTC/tax/tax-status", REGISTRY_METHOD_GET, "/", 0, "vcb-tax-status");
        /* The demo's refusal: the bank has no right on the population database. */
        check_authorize(r, VCB, POPULATION, REGISTRY_METHOD_GET, "/", REGISTRY_E_NO_RIGHT, NULL);
        check_authorize(r, VCB, "VN/GOV/BTNMT/land/land-parcels", REGISTRY_METHOD_GET, "/", REGISTRY_E_NO_RIGHT, NULL);
        /* A provider or the portal is no client. */
        check_authorize(r, "VN/GOV/VPCP/national-portal", POPULATION, REGISTRY_METHOD_GET, "/", REGISTRY_E_NO_RIGHT,
                        NULL);
        /* Method. */
        check_authorize(r, BYT, POPULATION, REGISTRY_METHOD_POST, "/", REGISTRY_E_METHOD, NULL);
        check_authorize(r, HN_OSS, "VN/GOV/BTC/tax/tax-obligation-check", REGISTRY_METHOD_GET, "/", REGISTRY_E_METHOD,
                        NULL);
        check_authorize(r, VCB, "VN/GOV/BTC/tax/tax-status", REGISTRY_METHOD_DELETE, "/", REGISTRY_E_METHOD, NULL);
        /* Path. */
        check_authorize(r, BYT, POPULATION, REGISTRY_METHOD_GET, "/other/x", REGISTRY_E_PATH, NULL);
        check_authorize(r, HN_OSS, "VN/GOV/BKHDT/business-registry/enterprise", REGISTRY_METHOD_GET, "/",
                        REGISTRY_E_PATH, NULL);
        check_authorize(r, HN_OSS, "VN/GOV/BKHDT/business-registry/enterprise", REGISTRY_METHOD_GET,
                        "/0101234567/owners", REGISTRY_E_PATH, NULL);
        check_authorize(r, HN_OSS, "VN/GOV/BKHDT/business-registry/enterprise", REGISTRY_METHOD_GET, "/..",
                        REGISTRY_E_PATH, NULL);
        /* Bad arguments. */
        CHECK(registry_authorize(r, sub(r, BYT), svc(r, POPULATION), 0, "/", &right) == -EINVAL);
        CHECK(registry_authorize(r, sub(r, BYT), svc(r, POPULATION), REGISTRY_METHOD_GET | REGISTRY_METHOD_POST, "/",
                                 &right) == -EINVAL);
        CHECK(registry_authorize(r, sub(r, BYT), svc(r, POPULATION), 1U << 9, "/", &right) == -EINVAL);
        CHECK(registry_authorize(r, NULL, svc(r, POPULATION), REGISTRY_METHOD_GET, "/", &right) == -EINVAL);
        CHECK(registry_authorize(r, sub(r, BYT), svc(r, POPULATION), REGISTRY_METHOD_GET, "/", NULL) == 0);

        /* Rights: basis, legal reference, purposes, fields. */
        CHECK(registry_authorize(r, sub(r, BYT), svc(r, POPULATION), REGISTRY_METHOD_GET, "/", &right) == 0);
        CHECK(right->basis == REGISTRY_BASIS_STATUTE && right->client == sub(r, BYT) && !right->group);
        CHECK(strstr(right->legal_reference, "26/2023/QH15"));
        CHECK(right->n_purposes == 2);
        CHECK(registry_right_allows_purpose(right, "health-insurance-enrolment"));
        CHECK(registry_right_allows_purpose(right, "public-service-delivery"));
        CHECK(!registry_right_allows_purpose(right, "loan-application"));
        CHECK(!registry_right_allows_purpose(right, "no-such-purpose"));
        CHECK(!registry_right_allows_purpose(right, ""));
        CHECK(!registry_right_allows_purpose(right, NULL));
        CHECK(!registry_right_allows_purpose(NULL, "audit"));
        CHECK(!right->fields);

        CHECK(registry_authorize(r, sub(r, HN_OSS), svc(r, "VN/GOV/BTNMT/land/land-parcels"), REGISTRY_METHOD_GET, "/",
                                 &right) == 0);
        CHECK(right->basis == REGISTRY_BASIS_CONSENT && !right->client &&
              right->group == registry_group_lookup(r, "provincial-one-stop-shops"));
        CHECK(!right->legal_reference);
        CHECK(registry_right_allows_purpose(right, "public-service-delivery"));
        CHECK(!registry_right_allows_purpose(right, "residence-registration"));

        CHECK(registry_authorize(r, sub(r, "VN/GOV/BCA/immigration"), svc(r, POPULATION), REGISTRY_METHOD_GET, "/",
                                 &right) == 0);
        CHECK(right->fields && streq(right->fields[0], "/id") && streq(right->fields[4], "/nationality") &&
              !right->fields[5]);
        /* plain X-Road calls: immigration's one purpose is its default; the ministry's rights have none */
        CHECK(right->default_purpose && streq(right->default_purpose->code, "immigration-control"));
        CHECK(registry_authorize(r, sub(r, BYT), svc(r, POPULATION), REGISTRY_METHOD_GET, "/", &right) == 0);
        CHECK(!right->default_purpose && sub(r, BYT)->error_format == REGISTRY_ERRORS_XROAD);

        CHECK(registry_authorize(r, sub(r, VCB), svc(r, "VN/GOV/BTP/judicial-records/criminal-record"),
                                 REGISTRY_METHOD_GET, "/", &right) == 0);
        CHECK(registry_right_allows_purpose(right, "loan-application"));
        CHECK(!registry_right_allows_purpose(right, "background-check"));

        /* Every right's methods are offered by its service. */
        for (size_t i = 0; i < n_rights; i++)
                CHECK((rights[i]->methods & ~rights[i]->service->methods) == 0);

        /* References. */
        CHECK(registry_ref(r) == r);
        CHECK(registry_unref(r) == NULL);
        CHECK(registry_ref(NULL) == NULL);
        CHECK(registry_unref(NULL) == NULL);
}

static void test_sample(void)
{
        const char *root = getenv("XBUS_SOURCE_ROOT");
        _cleanup_free_ char *dir = NULL;
        _cleanup_(registry_unrefp) Registry *a = NULL, *b = NULL;
        char *errors = NULL;
        int k;

        assert(root);
        assert(asprintf(&dir, "%s/conf/registry//", root) > 0); /* trailing slashes are fine */
        k = registry_load_dir(&a, dir, &errors);
        if (k != 0)
                fprintf(stderr, "%s: %d\n%s", dir, k, strempty(errors));
        CHECK(k == 0);
        CHECK(!errors);
        check_sample(a);

        k = registry_load_embedded(&b, &errors);
        if (k != 0)
                fprintf(stderr, "embedded: %d\n%s", k, strempty(errors));
        CHECK(k == 0);
        check_sample(b);
}

/* ---- Helpers: paths, methods ---------------------------------------------------------------- */

static void test_path_match(void)
{
        static const struct {
                const char *pattern;
                const char *path;
                bool match;
        } table[] = {
                { "/", "/", true },
                { "/", "", true },
                { "/", "/a", false },
                { "/*", "/a", true },
                { "/*", "/", false },
                { "/*", "/a/b", false },
                { "/*", "/a/", true }, /* a trailing slash is ignored */
                { "/**", "/", true },
                { "/**", "", true },
                { "/**", "/a", true },
                { "/**", "/a/b/c", true },
                { "/a/**", "/a", true },
                { "/a/**", "/a/b/c", true },
                { "/a/**", "/b/c", false },
                { "/a/**", "/ab", false },
                { "/a/*/c", "/a/b/c", true },
                { "/a/*/c", "/a/b/d", false },
                { "/a/*/c", "/a/c", false },
                { "/a/b", "/a/b", true },
                { "/a/b", "/a/B", false },
                { "/a/b", "/a/b/c", false },
                { "/a/b", "/a", false },
                { "/items/*", "/items/42", true },
                /* Unsafe path segments never match. */
                { "/**", "/a/../b", false },
                { "/**", "/a/./b", false },
                { "/**", "/a//b", false },
                { "/**", "/%2e%2E/b", false },
                { "/**", "/.%2e", false },
                { "/*", "/..", false },
                { "/**", "/...", true }, /* three dots is a name */
                { "/**", "/.hidden", true },
                /* Malformed patterns or paths. */
                { "/**/a", "/x/a", false },
                { "a", "a", false },
                { "/a", "a", false },
                { NULL, "/", false },
                { "/", NULL, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                bool m = registry_path_match(table[i].pattern, table[i].path);
                if (m != table[i].match) {
                        fprintf(stderr, "path_match(%s, %s) = %d\n", strempty(table[i].pattern),
                                strempty(table[i].path), m);
                        CHECK(false);
                }
                n_checks++;
        }
}

static void test_strings(void)
{
        CHECK(registry_method_from_string("GET") == REGISTRY_METHOD_GET);
        CHECK(registry_method_from_string("DELETE") == REGISTRY_METHOD_DELETE);
        CHECK(registry_method_from_string("get") == 0);
        CHECK(registry_method_from_string("FETCH") == 0);
        CHECK(registry_method_from_string("") == 0);
        CHECK(registry_method_from_string(NULL) == 0);
        CHECK(streq(registry_method_to_string(REGISTRY_METHOD_PATCH), "PATCH"));
        CHECK(registry_method_to_string(REGISTRY_METHOD_GET | REGISTRY_METHOD_POST) == NULL);
        CHECK(registry_method_to_string(0) == NULL);
        CHECK(streq(registry_basis_to_string(REGISTRY_BASIS_STATUTE), "statute"));
        CHECK(streq(registry_basis_to_string(REGISTRY_BASIS_CONSENT), "consent"));
}

/* ---- Broken registries ---------------------------------------------------------------------- */

/* A valid registry of 23 lines: cases append from line 24. */
#define BASE                             \
        "[instance]\n"                   \
        "id = VN\n"                      \
        "name = Test\n"                  \
        "[member VN/GOV/A]\n"            \
        "name = A\n"                     \
        "[subsystem VN/GOV/A/db]\n"      \
        "name = A db\n"                  \
        "roles = provider\n"             \
        "[subsystem VN/GOV/A/app]\n"     \
        "name = A app\n"                 \
        "roles = client\n"               \
        "tls-cn = VN/GOV/A/app\n"        \
        "[service VN/GOV/A/db/people]\n" \
        "title = People\n"               \
        "methods = GET, POST\n"          \
        "paths = /, /items/*\n"          \
        "personal-data = yes\n"          \
        "adapter = sample\n"             \
        "[purpose p1]\n"                 \
        "title = P1\n"                   \
        "[group g]\n"                    \
        "title = G\n"                    \
        "members = VN/GOV/A/app\n"

/* Lines 24-28 of a valid right (client form). */
#define RIGHT_HEAD                       \
        "[right r]\n"                    \
        "client = VN/GOV/A/app\n"        \
        "service = VN/GOV/A/db/people\n" \
        "methods = GET\n"                \
        "basis = consent\n"

/* Lines 24-27 of a service section on the provider subsystem. */
#define SERVICE_HEAD                 \
        "[service VN/GOV/A/db/s2]\n" \
        "title = S2\n"               \
        "methods = GET\n"            \
        "personal-data = no\n"       \
        "adapter = sample\n"

/* Lines 24-29 of a personal-data service with a body method and a path of its own. */
#define PERSONAL_HEAD                \
        "[service VN/GOV/A/db/s2]\n" \
        "title = S2\n"               \
        "methods = GET, POST\n"      \
        "paths = /, /people/*\n"     \
        "personal-data = yes\n"      \
        "adapter = sample\n"
#define EXPECT_SUBJECT "expected header, path /TEMPLATE with one {subject} segment, query NAME, or body /JSON/POINTER\n"

static int load_text(const char *text, Registry **ret, char **ret_errors)
{
        RegistryFile f = { .name = "t.conf", .text = text, .size = strlen(text) };
        return registry_load_files(ret, &f, 1, ret_errors);
}

static const struct {
        const char *text;
        const char *errors; /* NULL: must load */
} broken[] = {
        /* The base and its variants load. */
        { BASE, NULL },
        { BASE RIGHT_HEAD, NULL }, /* consent needs no legal reference */
        { BASE RIGHT_HEAD "purposes = p1\npaths = /items/*\nfields = /a, /b~0c/~1d\n", NULL },
        { BASE RIGHT_HEAD "purposes = p1\ndefault-purpose = p1\n", NULL },
        /* a default purpose is one of the right's purposes */
        { BASE RIGHT_HEAD "purposes = p1\ndefault-purpose = p2\n",
          "t.conf:30: right 'r': default-purpose 'p2' is not one of its purposes\n" },
        { BASE RIGHT_HEAD "default-purpose = p1\n",
          "t.conf:29: right 'r': default-purpose 'p1' is not one of its purposes\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client\nerror-format = problem\n", NULL },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client\nerror-format = html\n",
          "t.conf:27: invalid value 'html' for 'error-format': expected xroad or problem\n" },
        { BASE SERVICE_HEAD "timeout = 500ms\nmax-request-size = 1GiB\nmax-response-size = 1\n", NULL },
        { BASE "[subsystem VN/GOV/A/p2]\nname = x\nroles = provider, client\n"
               "adapter-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n"
               "tls-fingerprint = sha256:"
               "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n"
               "tls-fingerprint = SHA256:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
               "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:fe\n",
          NULL },
        { BASE "[subsystem VN/GOV/A/portal]\nname = x\nroles = consent-authority\n"
               "consent-jwk = {\"kty\": \"EC\", \"crv\": \"P-256\", \\\n \"x\": \"AAAA\", \"y\": \"BBBB\"}\n",
          NULL },

        /* Syntax and structure. */
        { BASE "colour = red\n[widget w]\nx = 1\n", "t.conf:24: unknown key 'colour' in [group] section\n"
                                                    "t.conf:25: unknown section type [widget]\n" },
        { BASE RIGHT_HEAD "colour = red\n", "t.conf:29: unknown key 'colour' in [right] section\n" },
        { BASE "just some words\n", "t.conf:24: expected 'key = value' or a [section] header\n" },
        { BASE "[member]\nname = x\n", "t.conf:24: [member] needs an identifier, as in [member NAME]\n" },
        { BASE "[instance VN]\n", "t.conf:24: [instance] takes no argument (use 'id = VN')\n" },
        { BASE "[instance]\nid = VN\nname = again\n",
          "t.conf:24: duplicate [instance] section (first defined at t.conf:1)\n" },
        { "[member VN/GOV/A]\nname = A\n", "t.conf:1: missing [instance] section\n" },
        { "[instance]\nid = V N\nname = x\n", "t.conf:1: missing required key 'id' in [instance] section\n"
                                              "t.conf:2: invalid value 'V N' for 'id': expected letters, "
                                              "digits, '.', '_' or '-' (at most 64)\n" },
        { BASE "[member VN/GOV/B]\n", "t.conf:24: missing required key 'name' in [member] section\n" },
        { BASE "[service VN/GOV/A/db/s3]\n", "t.conf:24: missing required key 'title' in [service] section\n"
                                             "t.conf:24: missing required key 'methods' in [service] section\n"
                                             "t.conf:24: missing required key 'personal-data' in [service] section\n"
                                             "t.conf:24: missing required key 'adapter' in [service] section\n" },
        { BASE "[member VN/GOV/B]\nname = B\nname = C\n", "t.conf:26: key 'name' given twice (first on line 25)\n" },

        /* Duplicate ids. */
        { BASE "[member VN/GOV/A]\nname = again\n",
          "t.conf:24: duplicate member 'VN/GOV/A' (first defined at t.conf:4)\n" },
        { BASE "[purpose p1]\ntitle = again\n", "t.conf:24: duplicate purpose 'p1' (first defined at t.conf:19)\n" },
        { BASE RIGHT_HEAD RIGHT_HEAD, "t.conf:29: duplicate right 'r' (first defined at t.conf:24)\n" },

        /* Identifiers: shape, class, instance. */
        { BASE "[member XX/GOV/B]\nname = B\n", "t.conf:24: member 'XX/GOV/B' is not in instance 'VN'\n" },
        { BASE "[member VN/XYZ/B]\nname = B\n",
          "t.conf:24: invalid member class 'XYZ' in member 'VN/XYZ/B': expected GOV, COM or ORG\n" },
        { BASE "[member VN/GOV/B$]\nname = B\n",
          "t.conf:24: invalid member id 'VN/GOV/B$': expected INSTANCE/CLASS/MEMBER "
          "(segments of letters, digits, '.', '_', '-')\n" },
        { BASE "[member VN/GOV/..]\nname = B\n",
          "t.conf:24: invalid member id 'VN/GOV/..': expected INSTANCE/CLASS/MEMBER "
          "(segments of letters, digits, '.', '_', '-')\n" },
        { BASE "[subsystem VN/GOV/A]\nname = x\nroles = client\n",
          "t.conf:24: invalid subsystem id 'VN/GOV/A': expected INSTANCE/CLASS/MEMBER/SUBSYSTEM "
          "(segments of letters, digits, '.', '_', '-')\n" },
        { BASE "[service VN/GOV/A/db]\ntitle = S\nmethods = GET\npersonal-data = no\nadapter = sample\n",
          "t.conf:24: invalid service id 'VN/GOV/A/db': expected "
          "INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE "
          "(segments of letters, digits, '.', '_', '-')\n" },
        { BASE "[service XX/GOV/A/db/s]\ntitle = S\nmethods = GET\npersonal-data = no\nadapter = sample\n",
          "t.conf:24: service 'XX/GOV/A/db/s' is not in instance 'VN'\n" },
        { BASE "[group g:h]\ntitle = x\nmembers = VN/GOV/A/app\n",
          "t.conf:24: invalid group id 'g:h': expected letters, digits, '.', '_' or '-' (at most "
          "64)\n" },
        { BASE "[purpose a/b]\ntitle = x\n", "t.conf:24: invalid purpose code 'a/b': expected letters, "
                                             "digits, '.', '_' or '-' (at most 64)\n" },

        /* Dangling references. */
        { BASE "[subsystem VN/GOV/B/x]\nname = x\nroles = client\n",
          "t.conf:24: subsystem 'VN/GOV/B/x': member 'VN/GOV/B' is not defined\n" },
        { BASE "[service VN/GOV/A/nope/s]\ntitle = S\nmethods = GET\npersonal-data = no\nadapter = sample\n",
          "t.conf:24: service 'VN/GOV/A/nope/s': subsystem 'VN/GOV/A/nope' is not defined\n" },
        { BASE "[service VN/GOV/A/app/s]\ntitle = S\nmethods = GET\npersonal-data = no\nadapter = sample\n",
          "t.conf:24: service 'VN/GOV/A/app/s': subsystem 'VN/GOV/A/app' does not have the provider "
          "role\n" },
        { BASE "[right r]\nclient = VN/GOV/A/nope\nservice = VN/GOV/A/db/people\nmethods = GET\nbasis = "
               "consent\n",
          "t.conf:25: right 'r': client 'VN/GOV/A/nope' is not defined\n" },
        { BASE "[right r]\nclient = VN/GOV/A/db\nservice = VN/GOV/A/db/people\nmethods = GET\nbasis = "
               "consent\n",
          "t.conf:25: right 'r': subsystem 'VN/GOV/A/db' does not have the client role\n" },
        { BASE "[right r]\ngroup = nope\nservice = VN/GOV/A/db/people\nmethods = GET\nbasis = consent\n",
          "t.conf:25: right 'r': group 'nope' is not defined\n" },
        { BASE "[right r]\nclient = VN/GOV/A/app\nservice = VN/GOV/A/db/nope\nbasis = consent\nmethods = "
               "GET\n",
          "t.conf:26: right 'r': service 'VN/GOV/A/db/nope' is not defined\n" },
        { BASE RIGHT_HEAD "purposes = p1,\\\n   p2\npurposes = p3, p1\n",
          "t.conf:29: right 'r': purpose 'p2' is not defined\n"
          "t.conf:31: right 'r': purpose 'p3' is not defined\n"
          "t.conf:31: right 'r': purpose 'p1' listed twice\n" },
        { BASE "[group h]\ntitle = H\nmembers = VN/GOV/A/app, VN/GOV/A/x\nmembers = VN/GOV/A/db "
               "VN/GOV/A/app\n",
          "t.conf:26: group 'h': subsystem 'VN/GOV/A/x' is not defined\n"
          "t.conf:27: group 'h': subsystem 'VN/GOV/A/db' does not have the client role\n"
          "t.conf:27: group 'h': subsystem 'VN/GOV/A/app' listed twice\n" },

        /* Rights: client/group, methods, basis. */
        { BASE RIGHT_HEAD "group = g\n", "t.conf:24: right 'r': give either client or group, not both\n" },
        { BASE "[right r]\nservice = VN/GOV/A/db/people\nmethods = GET\nbasis = consent\n",
          "t.conf:24: right 'r': missing client or group\n" },
        { BASE "[right r]\ngroup = g\nservice = VN/GOV/A/db/people\nmethods = GET, DELETE, PUT\nbasis = "
               "consent\n",
          "t.conf:27: right 'r': method PUT is not offered by service 'VN/GOV/A/db/people'\n"
          "t.conf:27: right 'r': method DELETE is not offered by service 'VN/GOV/A/db/people'\n" },
        { BASE "[right r]\ngroup = g\nservice = VN/GOV/A/db/people\nmethods = GET\nbasis = statute\n",
          "t.conf:24: right 'r': a statute right needs a legal-reference\n"
          "t.conf:24: right 'r': a statute right needs at least one purpose\n" },
        { BASE "[right r]\ngroup = g\nservice = VN/GOV/A/db/people\nmethods = GET\nbasis = statute\n"
               "legal-reference = Law 1/2020\n",
          "t.conf:24: right 'r': a statute right needs at least one purpose\n" },
        { BASE "[right r]\nclient = VN/GOV/A/app\nservice = VN/GOV/A/db/people\nmethods = GET\nbasis = law\n",
          "t.conf:24: missing required key 'basis' in [right] section\n"
          "t.conf:28: invalid value 'law' for 'basis': expected statute or consent\n" },
        { BASE "[right r]\nclient = VN/GOV/A/app\nservice = VN/GOV/A/db/people\nmethods = FETCH\nbasis = "
               "consent\n",
          "t.conf:24: missing required key 'methods' in [right] section\n"
          "t.conf:27: invalid value 'FETCH' for 'methods': expected HTTP methods among GET, HEAD, "
          "POST, PUT, PATCH, "
          "DELETE, OPTIONS\n" },

        /* Bad values. */
        { BASE SERVICE_HEAD "max-request-size = lots\n",
          "t.conf:29: invalid value 'lots' for 'max-request-size': expected a size between 1 and "
          "1GiB, such as "
          "64KiB or 1MiB\n" },
        { BASE SERVICE_HEAD "max-response-size = 0\n",
          "t.conf:29: invalid value '0' for 'max-response-size': expected a size between 1 and 1GiB, "
          "such as "
          "64KiB or 1MiB\n" },
        { BASE SERVICE_HEAD "max-response-size = 2GiB\n",
          "t.conf:29: invalid value '2GiB' for 'max-response-size': expected a size between 1 and "
          "1GiB, such as "
          "64KiB or 1MiB\n" },
        { BASE SERVICE_HEAD "timeout = 1 year\n", "t.conf:29: invalid value '1 year' for 'timeout': expected "
                                                  "a duration between 1ms and 10min, such as "
                                                  "500ms, 5s or 2min\n" },
        { BASE SERVICE_HEAD "timeout = 11min\n", "t.conf:29: invalid value '11min' for 'timeout': expected a "
                                                 "duration between 1ms and 10min, such as "
                                                 "500ms, 5s or 2min\n" },
        { BASE SERVICE_HEAD "timeout = 0ms\n", "t.conf:29: invalid value '0ms' for 'timeout': expected a "
                                               "duration between 1ms and 10min, such as "
                                               "500ms, 5s or 2min\n" },
        { BASE "[service VN/GOV/A/db/s2]\ntitle = S2\nmethods = GET\npersonal-data = maybe\nadapter = "
               "sample\n",
          "t.conf:24: missing required key 'personal-data' in [service] section\n"
          "t.conf:27: invalid value 'maybe' for 'personal-data': expected yes or no\n" },
        { BASE SERVICE_HEAD "paths = items/*\n", "t.conf:29: invalid value 'items/*' for 'paths': expected "
                                                 "path patterns starting with '/' ('*' = one "
                                                 "segment, a final '**' = any rest)\n" },
        { BASE SERVICE_HEAD "paths = /**/x\n", "t.conf:29: invalid value '/**/x' for 'paths': expected path "
                                               "patterns starting with '/' ('*' = one "
                                               "segment, a final '**' = any rest)\n" },
        { BASE SERVICE_HEAD "paths = /a*\n", "t.conf:29: invalid value '/a*' for 'paths': expected path "
                                             "patterns starting with '/' ('*' = one "
                                             "segment, a final '**' = any rest)\n" },
        { BASE SERVICE_HEAD "paths = /a/../b\n", "t.conf:29: invalid value '/a/../b' for 'paths': expected "
                                                 "path patterns starting with '/' ('*' = one "
                                                 "segment, a final '**' = any rest)\n" },
        { BASE SERVICE_HEAD "paths = /a/\n", "t.conf:29: invalid value '/a/' for 'paths': expected path "
                                             "patterns starting with '/' ('*' = one "
                                             "segment, a final '**' = any rest)\n" },
        { BASE SERVICE_HEAD "request-schema = /etc/passwd\n",
          "t.conf:29: invalid value '/etc/passwd' for 'request-schema': expected a relative path such "
          "as "
          "population/citizen.response.json\n" },
        { BASE SERVICE_HEAD "response-schema = ../secret.json\n",
          "t.conf:29: invalid value '../secret.json' for 'response-schema': expected a relative path "
          "such as "
          "population/citizen.response.json\n" },
        { BASE SERVICE_HEAD "adapter = rest\n", "t.conf:29: key 'adapter' given twice (first on line 28)\n" },
        { BASE "[service VN/GOV/A/db/s2]\ntitle = S2\nmethods = GET\npersonal-data = no\nadapter = my "
               "adapter\n",
          "t.conf:24: missing required key 'adapter' in [service] section\n"
          "t.conf:28: invalid value 'my adapter' for 'adapter': expected an adapter kind such as "
          "sample or rest\n" },
        { BASE RIGHT_HEAD "fields = name\n", "t.conf:29: invalid value 'name' for 'fields': expected JSON "
                                             "pointers such as /full_name (RFC 6901)\n" },
        { BASE RIGHT_HEAD "fields = /a~2\n", "t.conf:29: invalid value '/a~2' for 'fields': expected JSON "
                                             "pointers such as /full_name (RFC 6901)\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client, admin\n",
          "t.conf:24: missing required key 'roles' in [subsystem] section\n"
          "t.conf:26: invalid value 'client, admin' for 'roles': expected roles among client, "
          "provider, "
          "consent-authority, auditor, monitor\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client\ntls-fingerprint = sha256:abcd\n",
          "t.conf:27: invalid value 'sha256:abcd' for 'tls-fingerprint': expected sha256: followed by "
          "64 hex "
          "digits (pairs may be separated by ':')\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client\ntls-fingerprint = "
               "md5:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
          "t.conf:27: invalid value "
          "'md5:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff' for "
          "'tls-fingerprint': expected sha256: followed by 64 hex digits (pairs may be separated by "
          "':')\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client\ntls-fingerprint = "
               "sha256:g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
          "t.conf:27: invalid value "
          "'sha256:g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff' for "
          "'tls-fingerprint': expected sha256: followed by 64 hex digits (pairs may be separated by "
          "':')\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client\ntls-cn = "
               "01234567890123456789012345678901234567890123456789012345678901234\n",
          "t.conf:27: invalid value "
          "'01234567890123456789012345678901234567890123456789012345678901234' for "
          "'tls-cn': expected a certificate common name of at most 64 bytes\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = provider\nadapter-key = short\n",
          "t.conf:27: invalid value 'short' for 'adapter-key': expected a CURVE public key in Z85 (40 "
          "characters) or @state:PATH, in a list\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = provider\nadapter-key = @state:../pki/x.pub\n",
          "t.conf:27: invalid value '@state:../pki/x.pub' for 'adapter-key': expected a CURVE public key in Z85 "
          "(40 characters) or @state:PATH, in a list\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = provider\n"
               "adapter-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7, @state:/etc/x.pub\n",
          "t.conf:27: invalid value 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7, @state:/etc/x.pub' for 'adapter-key': "
          "expected a CURVE public key in Z85 (40 characters) or @state:PATH, in a list\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client\n"
               "adapter-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n",
          "t.conf:27: subsystem 'VN/GOV/A/x': adapter-key needs the provider role\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = consent-authority\nconsent-jwk = {\"kty\": "
               "\"EC\"\n",
          "t.conf:27: invalid value '{\"kty\": \"EC\"' for 'consent-jwk': expected a public JWK as a "
          "JSON object "
          "with \"kty\" (no private part)\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = consent-authority\n"
               "consent-jwk = {\"kty\": \"EC\", \"d\": \"secret\"}\n",
          "t.conf:27: invalid value '{\"kty\": \"EC\", \"d\": \"secret\"}' for 'consent-jwk': "
          "expected a public "
          "JWK as a JSON object with \"kty\" (no private part)\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client\nconsent-jwk = {\"kty\": \"EC\"}\n",
          "t.conf:27: subsystem 'VN/GOV/A/x': consent-jwk needs the consent-authority role\n" },

        /* A bad value is reported once, not again by the checks that depend on it. */
        { BASE "[subsystem VN/GOV/A/p]\nname = p\nroles = seller\n"
               "[service VN/GOV/A/p/s]\ntitle = S\nmethods = GET\npersonal-data = no\nadapter = sample\n"
               "[right r]\nclient = VN/GOV/A/p\nservice = VN/GOV/A/p/s\nmethods = GET\nbasis = consent\n",
          "t.conf:24: missing required key 'roles' in [subsystem] section\n"
          "t.conf:26: invalid value 'seller' for 'roles': expected roles among client, provider, "
          "consent-authority, auditor, monitor\n" },
        { BASE "[service VN/GOV/A/db/s2]\ntitle = S2\nmethods = TRACE\npersonal-data = no\nadapter = sample\n"
               "[right r]\nclient = VN/GOV/A/app\nservice = VN/GOV/A/db/s2\nmethods = GET\nbasis = consent\n",
          "t.conf:24: missing required key 'methods' in [service] section\n"
          "t.conf:26: invalid value 'TRACE' for 'methods': expected HTTP methods among GET, HEAD, "
          "POST, PUT, "
          "PATCH, DELETE, OPTIONS\n" },

        /* Identities must be unique. */
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client\ntls-cn = VN/GOV/A/app\n",
          "t.conf:27: subsystem 'VN/GOV/A/x': tls-cn 'VN/GOV/A/app' is already used by subsystem "
          "'VN/GOV/A/app'\n" },
        { BASE "[subsystem VN/GOV/A/x]\nname = x\nroles = client\n"
               "tls-fingerprint = sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
               "[subsystem VN/GOV/A/y]\nname = y\nroles = client\n"
               "tls-fingerprint = sha256:00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\n",
          "t.conf:31: subsystem 'VN/GOV/A/y': fingerprint "
          "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff is already pinned "
          "for "
          "subsystem 'VN/GOV/A/x'\n" },

        /* Where the subject is carried (subject), and the person an answer names (response-subject). */
        { BASE PERSONAL_HEAD "subject = header\n", NULL },
        { BASE PERSONAL_HEAD "subject = path /people/{subject}\nresponse-subject = /spouse/id\n", NULL },
        { BASE PERSONAL_HEAD "subject = query id\n", NULL },
        { BASE PERSONAL_HEAD "subject = body  /person/id~1x\n", NULL },
        { BASE SERVICE_HEAD "response-subject = /owner/id\n", NULL },
        { BASE PERSONAL_HEAD "subject = path /people/{subject}/more\n",
          "t.conf:30: service 'VN/GOV/A/db/s2': the subject's path template is not covered by its paths\n" },
        { BASE PERSONAL_HEAD "subject = path /people/x\n",
          "t.conf:30: invalid value 'path /people/x' for 'subject': " EXPECT_SUBJECT },
        { BASE PERSONAL_HEAD "subject = path /{subject}/{subject}\n",
          "t.conf:30: invalid value 'path /{subject}/{subject}' for 'subject': " EXPECT_SUBJECT },
        { BASE PERSONAL_HEAD "subject = path /x{subject}\n",
          "t.conf:30: invalid value 'path /x{subject}' for 'subject': " EXPECT_SUBJECT },
        { BASE PERSONAL_HEAD "subject = query\n", "t.conf:30: invalid value 'query' for 'subject': " EXPECT_SUBJECT },
        { BASE PERSONAL_HEAD "subject = query a=b\n",
          "t.conf:30: invalid value 'query a=b' for 'subject': " EXPECT_SUBJECT },
        { BASE PERSONAL_HEAD "subject = header id\n",
          "t.conf:30: invalid value 'header id' for 'subject': " EXPECT_SUBJECT },
        { BASE PERSONAL_HEAD "subject = cookie id\n",
          "t.conf:30: invalid value 'cookie id' for 'subject': " EXPECT_SUBJECT },
        { BASE PERSONAL_HEAD "subject = body person\n",
          "t.conf:30: invalid value 'body person' for 'subject': " EXPECT_SUBJECT },
        { BASE SERVICE_HEAD "subject = query id\n",
          "t.conf:29: service 'VN/GOV/A/db/s2': subject needs personal-data = yes\n" },
        { BASE "[service VN/GOV/A/db/s3]\ntitle = S3\nmethods = GET\npersonal-data = yes\nadapter = sample\n"
               "subject = body /id\n",
          "t.conf:29: service 'VN/GOV/A/db/s3': a subject in the body needs POST, PUT or PATCH\n" },
        { BASE SERVICE_HEAD "response-subject = owner\n",
          "t.conf:29: invalid value 'owner' for 'response-subject': expected a JSON pointer such as /owner/id "
          "(RFC 6901)\n" },
        { BASE SERVICE_HEAD "response-subject = /owner\nsoap-response-schema = soap/x.xsd\n",
          "t.conf:29: service 'VN/GOV/A/db/s2': response-subject reads JSON answers, so the service cannot also "
          "answer over SOAP (soap-response-schema)\n" },

        /* Every error is reported, sorted by line. */
        { BASE "[member VN/GOV/A]\nname = again\nsize = 1\n"
               "[right r]\nclient = VN/GOV/A/ghost\nservice = VN/GOV/A/db/people\nmethods = GET\nbasis = "
               "statute\n"
               "purposes = p1\n" SERVICE_HEAD "timeout = forever\n",
          "t.conf:24: duplicate member 'VN/GOV/A' (first defined at t.conf:4)\n"
          "t.conf:26: unknown key 'size' in [member] section\n"
          "t.conf:27: right 'r': a statute right needs a legal-reference\n"
          "t.conf:28: right 'r': client 'VN/GOV/A/ghost' is not defined\n"
          "t.conf:38: invalid value 'forever' for 'timeout': expected a duration between 1ms and "
          "10min, such as "
          "500ms, 5s or 2min\n" },
};

static void test_broken(void)
{
        for (size_t i = 0; i < ELEMENTSOF(broken); i++) {
                _cleanup_(registry_unrefp) Registry *r = NULL;
                _cleanup_free_ char *errors = NULL;
                int k = load_text(broken[i].text, &r, &errors);

                if (!broken[i].errors) {
                        if (k != 0 || errors)
                                fprintf(stderr, "case %zu: expected to load, got %d:\n%s", i, k, strempty(errors));
                        CHECK(k == 0 && r && !errors);
                        continue;
                }
                if (k != REGISTRY_E_INVALID || r || !errors || !streq(errors, broken[i].errors)) {
                        fprintf(stderr, "case %zu: got %d\n--- got:\n%s--- expected:\n%s", i, k, strempty(errors),
                                broken[i].errors);
                        CHECK(false);
                }
                n_checks++;

                /* Without ret_errors the verdict is the same. */
                CHECK(load_text(broken[i].text, &r, NULL) == REGISTRY_E_INVALID && !r);
        }
}

static void test_multi_file(void)
{
        static const char a[] = "[instance]\nid = VN\nname = T\n[member VN/GOV/A]\nname = A\n";
        static const char b[] = "# b\n[member VN/GOV/A]\nname = A again\n[subsystem VN/GOV/A/x]\nname = x\n"
                                "roles = client\nbogus = 1\n";
        RegistryFile files[] = {
                { .name = "b.conf", .text = b, .size = sizeof(b) - 1 },
                { .name = "a.conf", .text = a, .size = sizeof(a) - 1 },
        };
        _cleanup_free_ char *errors = NULL;
        Registry *r = NULL;

        CHECK(registry_load_files(&r, files, 2, &errors) == REGISTRY_E_INVALID);
        /* The first definition is the one read first (files are read in the order given). */
        CHECK(streq(errors, "a.conf:4: duplicate member 'VN/GOV/A' (first defined at b.conf:2)\n"
                            "b.conf:7: unknown key 'bogus' in [subsystem] section\n"));
        CHECK(!r);
        errors = mfree(errors);

        /* No files at all. */
        CHECK(registry_load_files(&r, NULL, 0, &errors) == REGISTRY_E_INVALID);
        CHECK(streq(errors, "(registry):0: no registry files\n"));
        errors = mfree(errors);
        CHECK(registry_load_files(NULL, files, 2, &errors) == -EINVAL);
        CHECK(registry_load_files(&r, NULL, 1, &errors) == -EINVAL);

        /* A file with a NUL byte and bad UTF-8 is refused with its line. */
        {
                static const char c[] = "[instance]\nid = VN\nname = \xff\n";
                RegistryFile f = { .name = "c.conf", .text = c, .size = sizeof(c) - 1 };
                CHECK(registry_load_files(&r, &f, 1, &errors) == REGISTRY_E_INVALID);
                CHECK(streq(errors, "c.conf:1: missing required key 'name' in [instance] section\n"
                                    "c.conf:3: invalid UTF-8 in line\n"));
                errors = mfree(errors);
        }
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        assert(f);
        fputs(text, f);
        fclose(f);
}

static void test_dir(void)
{
        char tmpl[] = "/tmp/test-registry-XXXXXX";
        char *dir = mkdtemp(tmpl), path[256], *errors = NULL, *expected = NULL;
        Registry *r = NULL;

        assert(dir);
        CHECK(registry_load_dir(&r, "/nonexistent/registry", &errors) == -ENOENT);
        CHECK(!errors);

        CHECK(registry_load_dir(&r, dir, &errors) == REGISTRY_E_INVALID);
        assert(asprintf(&expected, "%s:0: no *.conf files in the folder\n", dir) > 0);
        CHECK(streq(errors, expected));
        errors = mfree(errors);
        expected = mfree(expected);

        snprintf(path, sizeof(path), "%s/a.conf", dir);
        write_file(path, "[instance]\nid = VN\nname = T\n");
        snprintf(path, sizeof(path), "%s/b.conf", dir);
        write_file(path, "[member VN/GOV/A]\nname = A\n[member VN/GOV/B]\n");
        snprintf(path, sizeof(path), "%s/notes.txt", dir); /* ignored: not *.conf */
        write_file(path, "garbage\n");
        snprintf(path, sizeof(path), "%s/.hidden.conf", dir); /* ignored: hidden */
        write_file(path, "garbage\n");
        snprintf(path, sizeof(path), "%s/sub.conf", dir); /* ignored: a folder */
        CHECK(mkdir(path, 0700) == 0);

        CHECK(registry_load_dir(&r, dir, &errors) == REGISTRY_E_INVALID);
        assert(asprintf(&expected, "%s/b.conf:3: missing required key 'name' in [member] section\n", dir) > 0);
        CHECK(streq(errors, expected));
        errors = mfree(errors);
        snprintf(path, sizeof(path), "%s/", dir);
        CHECK(registry_load_dir(&r, path, &errors) == REGISTRY_E_INVALID);
        CHECK(streq(errors, expected));
        errors = mfree(errors);
        expected = mfree(expected);

        snprintf(path, sizeof(path), "%s/b.conf", dir);
        write_file(path, "[member VN/GOV/A]\nname = A\n");
        CHECK(registry_load_dir(&r, dir, &errors) == 0);
        CHECK(!errors && r && registry_member_lookup(r, "VN/GOV/A"));
        r = registry_unref(r);

        /* Cleanup. */
        snprintf(path, sizeof(path), "%s/sub.conf", dir);
        rmdir(path);
        for (const char *const *n = (const char *const[]){ "a.conf", "b.conf", "notes.txt", ".hidden.conf", NULL }; *n;
             n++) {
                snprintf(path, sizeof(path), "%s/%s", dir, *n);
                unlink(path);
        }
        rmdir(dir);
}

/*
 * adapter-key: lists, repeated lines, @state: references read under the state
 * folder at load (file:line errors), left out without one; the allow-list lookups.
 */
static void test_adapter_keys(void)
{
        static const char k1[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
        char tmpl[] = "/tmp/test-registry-keys-XXXXXX", *dir = mkdtemp(tmpl), path[256], reg[256];
        char k2[41], k3[41], secret[41], *text = NULL, *errors = NULL, *expected = NULL;
        const RegistrySubsystem *s;
        Registry *r = NULL;

        assert(dir && zmq_curve_keypair(k2, secret) == 0 && zmq_curve_keypair(k3, secret) == 0);
        snprintf(reg, sizeof(reg), "%s/registry", dir);
        snprintf(path, sizeof(path), "%s/keys", dir);
        CHECK(mkdir(reg, 0700) == 0 && mkdir(path, 0700) == 0);
        snprintf(path, sizeof(path), "%s/keys/k2.pub", dir);
        assert(asprintf(&text, "  %s\n", k2) > 0);
        write_file(path, text);
        text = mfree(text);
        snprintf(path, sizeof(path), "%s/keys/bad.pub", dir);
        write_file(path, "not a key\n");

        /* lines 24..30: a second provider with keys given three ways, and a service of its own */
        snprintf(path, sizeof(path), "%s/t.conf", reg);
        assert(asprintf(&text,
                        BASE "[subsystem VN/GOV/A/db2]\nname = x\nroles = provider\n"
                             "adapter-key = %s, @state:keys/k2.pub\n"
                             "adapter-key = @state:keys/missing.pub\nadapter-key = @state:keys/bad.pub\n"
                             "[service VN/GOV/A/db2/s]\ntitle = S\nmethods = GET\npersonal-data = no\nadapter = x\n",
                        k1) > 0);
        write_file(path, text);
        CHECK(registry_load_node(&r, reg, dir, &errors) == REGISTRY_E_INVALID);
        assert(asprintf(&expected,
                        "%s:28: adapter-key '@state:keys/missing.pub': \"%s/keys/missing.pub\": No such file or "
                        "directory\n"
                        "%s:29: adapter-key '@state:keys/bad.pub': \"%s/keys/bad.pub\": not a CURVE public key (40 "
                        "characters of Z85)\n",
                        path, dir, path, dir) > 0);
        if (!streq(errors, expected))
                fprintf(stderr, "--- got:\n%s--- expected:\n%s", errors, expected);
        CHECK(streq(errors, expected));
        errors = mfree(errors);

        /* without a state folder, references are checked for form only and left out */
        CHECK(registry_load_dir(&r, reg, &errors) == 0);
        s = registry_subsystem_lookup(r, "VN/GOV/A/db2");
        CHECK(s && s->adapter_keys && streq(s->adapter_keys[0], k1) && !s->adapter_keys[1]);
        r = registry_unref(r);

        /* with the state folder and readable files: both keys, from the list and from the file */
        text[strstr(text, "adapter-key = @state:keys/missing") - text] = 0;
        strcat(text, "[service VN/GOV/A/db2/s]\ntitle = S\nmethods = GET\npersonal-data = no\nadapter = x\n");
        write_file(path, text);
        CHECK(registry_load_node(&r, reg, dir, &errors) == 0 && !errors);
        s = registry_subsystem_lookup(r, "VN/GOV/A/db2");
        CHECK(streq(s->adapter_keys[0], k1) && streq(s->adapter_keys[1], k2) && !s->adapter_keys[2]);
        CHECK(!registry_subsystem_lookup(r, "VN/GOV/A/db")->adapter_keys[0]);
        CHECK(registry_adapter_key_known(r, k1) && registry_adapter_key_known(r, k2));
        CHECK(!registry_adapter_key_known(r, k3) && !registry_adapter_key_known(r, ""));
        CHECK(registry_adapter_may_serve(r, k2, "VN/GOV/A/db2/s") &&
              registry_adapter_may_serve(r, k1, "VN/GOV/A/db2/s"));
        CHECK(!registry_adapter_may_serve(r, k2, "VN/GOV/A/db/people")); /* another subsystem's service */
        CHECK(!registry_adapter_may_serve(r, k3, "VN/GOV/A/db2/s"));     /* a key nobody lists */
        CHECK(!registry_adapter_may_serve(r, k2, "VN/GOV/A/db2/none"));  /* no such service */
        r = registry_unref(r);

        unlink(path);
        rmdir(reg);
        for (const char *const *n = (const char *const[]){ "keys/k2.pub", "keys/bad.pub", "keys", NULL }; *n; n++) {
                snprintf(path, sizeof(path), "%s/%s", dir, *n);
                (void)(unlink(path) < 0 && rmdir(path));
        }
        rmdir(dir);
        free(text);
        free(expected);
}

/* The complete example of docs/registry.md loads and behaves as the text says. */
static void test_docs_example(void)
{
        const char *root = getenv("XBUS_SOURCE_ROOT");
        _cleanup_free_ char *path = NULL, *doc = NULL;
        _cleanup_(registry_unrefp) Registry *r = NULL;
        _cleanup_free_ char *errors = NULL;
        RegistryFile files[4];
        char *texts[4] = {}, *p;
        size_t n = 0, len = 0;
        const RegistryRight *right = NULL;
        FILE *f;

        assert(root);
        assert(asprintf(&path, "%s/docs/registry.md", root) > 0);
        f = fopen(path, "re");
        CHECK(f);
        assert(getdelim(&doc, &len, 0, f) > 0);
        fclose(f);

        p = strstr(doc, "## A complete example");
        CHECK(p);
        *strstr(p + 3, "\n## ") = 0; /* up to the next chapter */
        while ((p = strstr(p, "```ini\n")) && n < ELEMENTSOF(files)) {
                char *end = strstr(p + 7, "```");

                CHECK(end);
                texts[n] = strndup(p + 7, (size_t)(end - p - 7));
                files[n] = (RegistryFile){ .name = n == 0 ? "00-base.conf" : "50-services-rights.conf",
                                           .text = texts[n],
                                           .size = strlen(texts[n]) };
                n++;
                p = end + 3;
        }
        CHECK(n == 2);
        if (registry_load_files(&r, files, n, &errors) != 0)
                fprintf(stderr, "docs/registry.md example:\n%s", strempty(errors));
        CHECK(r);

        CHECK(registry_authorize(r, sub(r, HN_OSS), svc(r, POPULATION), REGISTRY_METHOD_GET, "/", &right) == 0);
        CHECK(streq(right->id, "oss-citizen"));
        CHECK(registry_authorize(r, sub(r, HN_OSS), svc(r, "VN/GOV/BCA/population/household"), REGISTRY_METHOD_GET,
                                 "/0123", &right) == 0);
        CHECK(registry_authorize(r, sub(r, HN_OSS), svc(r, "VN/GOV/BCA/population/household"), REGISTRY_METHOD_GET,
                                 "/0123/members/1", &right) == REGISTRY_E_PATH);
        CHECK(registry_authorize(r, sub(r, VCB), svc(r, POPULATION), REGISTRY_METHOD_GET, "/", &right) == 0);
        CHECK(right->basis == REGISTRY_BASIS_CONSENT && registry_right_allows_purpose(right, "loan-application"));
        CHECK(right->fields && streq(right->fields[1], "/birth_date"));
        CHECK(sub(r, "VN/GOV/VPCP/national-portal")->consent_jwk);
        CHECK(sub(r, VCB)->n_tls_fingerprints == 1);
        CHECK(registry_subsystem_by_cert(r, sub(r, VCB)->tls_fingerprints[0], NULL) == sub(r, VCB));
        CHECK(svc(r, "VN/GOV/BCA/population/household")->max_response_size == KIB(256));

        for (size_t i = 0; i < n; i++)
                free(texts[i]);
}

/* Split a markdown table row "| a | b |" into trimmed cells (modifies `line`). Return: number of cells. */
static size_t table_cells(char *line, char **cells, size_t max)
{
        size_t n = 0;
        char *p = line, *bar;

        if (*p != '|')
                return 0;
        p++;
        while ((bar = strchr(p, '|')) && n < max) {
                char *a = p, *b = bar;

                while (a < b && *a == ' ')
                        a++;
                while (b > a && b[-1] == ' ')
                        b--;
                *b = 0;
                cells[n++] = a;
                p = bar + 1;
        }
        return n;
}

/* docs/sample-registry.md stays true: its tables are checked against the sample registry. */
static void test_sample_docs(void)
{
        const char *root = getenv("XBUS_SOURCE_ROOT");
        _cleanup_(registry_unrefp) Registry *r = NULL;
        _cleanup_free_ char *path = NULL, *line = NULL;
        unsigned n_services = 0, n_clients = 0, n_rights = 0;
        size_t len = 0;
        FILE *f;

        assert(root);
        CHECK(registry_load_embedded(&r, NULL) == 0);
        assert(asprintf(&path, "%s/docs/sample-registry.md", root) > 0);
        f = fopen(path, "re");
        CHECK(f);
        while (getline(&line, &len, f) > 0) {
                char *cells[8], id[256];
                size_t n = table_cells(line, cells, ELEMENTSOF(cells));

                if (n == 5 && strneq(cells[0], "VN/", 3)) {
                        /* provider subsystem | service code | method | personal | answers */
                        const RegistryService *v;
                        char method[16] = "";

                        snprintf(id, sizeof(id), "%s/%s", cells[0], cells[1]);
                        v = svc(r, id);
                        sscanf(cells[2], "%15s", method);
                        CHECK(v->methods == registry_method_from_string(method));
                        CHECK(v->personal_data == streq(cells[3], "yes"));
                        n_services++;
                } else if (n == 3 && strneq(cells[0], "VN/", 3)) {
                        /* client subsystem | who | roles */
                        const RegistrySubsystem *s = sub(r, cells[0]);

                        CHECK(!!(s->roles & REGISTRY_ROLE_CLIENT) == !!strstr(cells[2], "client"));
                        CHECK(!!(s->roles & REGISTRY_ROLE_CONSENT_AUTHORITY) ==
                              !!strstr(cells[2], "consent authority"));
                        CHECK(!!(s->roles & REGISTRY_ROLE_AUDITOR) == !!strstr(cells[2], "auditor"));
                        n_clients++;
                } else if (n == 6 && (strneq(cells[1], "VN/", 3) || strneq(cells[1], "group ", 6))) {
                        /* right | client or group | service | methods [paths] | basis | purposes */
                        const RegistryRight *const *rights;
                        const RegistryRight *right = NULL;
                        size_t m = registry_rights(r, &rights);
                        char method[16] = "", paths[64] = "";
                        size_t k = 0;

                        for (size_t i = 0; i < m; i++)
                                if (streq(rights[i]->id, cells[0]))
                                        right = rights[i];
                        if (!right)
                                fprintf(stderr, "docs: no right %s\n", cells[0]);
                        CHECK(right);
                        if (strneq(cells[1], "group ", 6))
                                CHECK(right->group && streq(right->group->id, cells[1] + 6));
                        else
                                CHECK(right->client && streq(right->client->id, cells[1]));
                        snprintf(id, sizeof(id), "VN/GOV/%s", cells[2]);
                        CHECK(right->service == svc(r, id));
                        CHECK(sscanf(cells[3], "%15s %63s", method, paths) >= 1);
                        CHECK(right->methods == registry_method_from_string(method));
                        CHECK(streq(right->paths[0], paths[0] ? paths : "/**"));
                        CHECK(streq(registry_basis_to_string(right->basis), cells[4]));
                        for (char *p = cells[5], *tok; (tok = strsep(&p, ", "));)
                                if (*tok) {
                                        CHECK(registry_right_allows_purpose(right, tok));
                                        k++;
                                }
                        CHECK(k == right->n_purposes);
                        n_rights++;
                }
        }
        fclose(f);
        CHECK(n_services == 15);
        CHECK(n_clients == 8);
        CHECK(n_rights == 22);
}

/* Limits an outsider could push: many errors, many sections. */
static void test_limits(void)
{
        char *text = NULL, *errors = NULL;
        size_t size = 0;
        Registry *r = NULL;
        FILE *f;

        /* 3000 unknown sections: every error counted, the first 1000 kept. */
        f = open_memstream(&text, &size);
        fputs("[instance]\nid = VN\nname = T\n", f);
        for (int i = 0; i < 3000; i++)
                fprintf(f, "[thing t%d]\n", i);
        fclose(f);
        CHECK(load_text(text, &r, &errors) == REGISTRY_E_INVALID);
        CHECK(strstr(errors, "t.conf:4: unknown section type [thing]\n"));
        CHECK(strstr(errors, "... and 2000 more errors\n"));
        text = mfree(text);
        errors = mfree(errors);

        /* 20000 members load and are found by bsearch. */
        f = open_memstream(&text, &size);
        fputs("[instance]\nid = VN\nname = T\n", f);
        for (int i = 19999; i >= 0; i--)
                fprintf(f, "[member VN/GOV/M%05d]\nname = m\n", i);
        fclose(f);
        CHECK(load_text(text, &r, &errors) == 0);
        CHECK(registry_member_lookup(r, "VN/GOV/M00000") && registry_member_lookup(r, "VN/GOV/M12345") &&
              registry_member_lookup(r, "VN/GOV/M19999") && !registry_member_lookup(r, "VN/GOV/M20000"));
        r = registry_unref(r);
        text = mfree(text);
}

/* A file under `dir`, its folders made. */
static void put(const char *dir, const char *name, const char *text)
{
        char path[512];

        for (const char *slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
                snprintf(path, sizeof(path), "%s/%.*s", dir, (int)(slash - name), name);
                (void)mkdir(path, 0700);
        }
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        write_file(path, text);
}

static int validate_text(const void *validator, const char *json)
{
        json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
        int r;

        assert(j);
        r = json_schema_validate(validator, j, NULL);
        json_decref(j);
        return r;
}

#define SCHEMA_HEAD "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", "
#define PROVIDER(member, sub, extra)                                                           \
        "[member " member "]\nname = M\n" extra "\n[subsystem " member "/" sub "]\nname = S\n" \
        "roles = provider\n"
#define SERVICE(id, extra) "[service " id "]\ntitle = T\nmethods = GET\npersonal-data = no\nadapter = rest\n" extra "\n"

/*
 * Schema folders per provider: a member's or a service's `schemas = DIR`
 * (relative to its fragment's folder) is searched first, then the
 * instance's; the same relative name means each provider's own file; a
 * missing folder or file is an error at its line.
 */
static void test_provider_schemas(void)
{
        char tmpl[] = "/tmp/test-registry-schemas-XXXXXX";
        char *dir = mkdtemp(tmpl), *errors = NULL, cmd[600];
        Registry *r = NULL;
        const RegistryService *v;

        assert(dir);
        put(dir, "reg/00-instance.conf", "[instance]\nid = VN\nname = T\nschemas = ../shared\n");
        put(dir, "shared/common/plate.json", SCHEMA_HEAD "\"type\": \"string\", \"pattern\": \"^[0-9]{2}[A-Z]\"}");
        put(dir, "shared/x.json", SCHEMA_HEAD "\"type\": \"integer\"}");
        /* a provider of the sample's kind: the instance's folder */
        put(dir, "reg/10-a.conf", PROVIDER("VN/GOV/A", "db", "") SERVICE("VN/GOV/A/db/x", "response-schema = x.json"));
        /* a new provider, its schemas beside its fragment, one service with a folder of its own */
        put(dir, "reg/70-vehicles.conf",
            PROVIDER("VN/GOV/V", "reg", "schemas = vehicles-schemas")
                    SERVICE("VN/GOV/V/reg/vehicle", "response-schema = vehicle.json")
                            SERVICE("VN/GOV/V/reg/x", "response-schema = x.json")
                                    SERVICE("VN/GOV/V/reg/owner", "schemas = owner-schemas\nresponse-schema = x.json"));
        put(dir, "reg/vehicles-schemas/vehicle.json",
            SCHEMA_HEAD "\"type\": \"object\", \"required\": [\"plate\"], \"properties\": {\"plate\": {\"$ref\": "
                        "\"common/plate.json\"}}}");
        put(dir, "reg/vehicles-schemas/x.json", SCHEMA_HEAD "\"type\": \"string\"}");
        put(dir, "reg/owner-schemas/x.json", SCHEMA_HEAD "\"type\": \"boolean\"}");
        snprintf(cmd, sizeof(cmd), "%s/reg", dir);
        CHECK(registry_load_dir(&r, cmd, &errors) == 0);
        if (errors)
                fprintf(stderr, "%s", errors);
        CHECK(!errors && r);
        /* one name, each provider's own file; a $ref found in the instance's folder */
        v = registry_service_lookup(r, "VN/GOV/A/db/x");
        CHECK(v && validate_text(v->response_validator, "7") == 0 &&
              validate_text(v->response_validator, "\"a\"") != 0);
        v = registry_service_lookup(r, "VN/GOV/V/reg/x");
        CHECK(v && validate_text(v->response_validator, "\"a\"") == 0 &&
              validate_text(v->response_validator, "7") != 0);
        v = registry_service_lookup(r, "VN/GOV/V/reg/owner");
        CHECK(v && validate_text(v->response_validator, "true") == 0 &&
              validate_text(v->response_validator, "\"a\"") != 0);
        v = registry_service_lookup(r, "VN/GOV/V/reg/vehicle");
        CHECK(v && validate_text(v->response_validator, "{\"plate\": \"29A12345\"}") == 0);
        CHECK(validate_text(v->response_validator, "{\"plate\": \"x\"}") != 0);
        r = registry_unref(r);

        /* a file in neither folder: blamed on the provider's; a folder that is not there: at its line */
        put(dir, "reg/70-vehicles.conf",
            PROVIDER("VN/GOV/V", "reg", "schemas = vehicles-schemas")
                    SERVICE("VN/GOV/V/reg/vehicle", "response-schema = nothing.json")
                            SERVICE("VN/GOV/V/reg/owner", "schemas = no-such-folder\nresponse-schema = x.json"));
        CHECK(registry_load_dir(&r, cmd, &errors) == REGISTRY_E_INVALID);
        CHECK(errors && strstr(errors, "70-vehicles.conf:18: schema folder 'no-such-folder'") &&
              strstr(errors, "/reg/no-such-folder) is not a folder"));
        CHECK(strstr(errors, "70-vehicles.conf:12: cannot read schema file") &&
              strstr(errors, "/reg/vehicles-schemas/nothing.json"));
        errors = mfree(errors);
        CHECK(!r);

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0);
}

int main(void)
{
        test_path_match();
        test_strings();
        test_sample();
        test_broken();
        test_multi_file();
        test_dir();
        test_adapter_keys();
        test_docs_example();
        test_sample_docs();
        test_limits();
        test_provider_schemas();
        printf("test-registry: %u checks passed (%zu broken-registry cases)\n", n_checks, ELEMENTSOF(broken));
        return 0;
}
