/* test-policy.c: every refusal path of the decision, on the sample registry */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/problem.h"
#include "util/macro.h"

static Registry *reg;
static PolicyDecision d; /* of the last decide() */
static const char *code; /* the X-Road code of the last decide()'s problem */

static const char *decide(const char *client_cn, const char *header, const char *method, const char *path,
                          const char *subject, const char *purpose, const char *consent, size_t body)
{
        static Problem p;
        PolicyInput in = {
                .cert_present = client_cn != NULL,
                .cert_trusted = client_cn && !streq(client_cn, "untrusted"),
                .cert_fingerprint = (const uint8_t *)"0123456789abcdef0123456789abcdef",
                .cert_cn = client_cn,
                .client_header = header,
                .method = method,
                .r1_path = path,
                .subject = subject,
                .purpose = purpose,
                .consent = consent,
                .body_size = body,
        };
        int r;

        p = (Problem){};
        r = policy_decide(reg, &in, &d, &p);
        assert((r == 0) == (p.type == PROBLEM_NONE));
        code = p.type ? problem_xroad_code(&p) : NULL;
        if (p.type)
                printf("  %-18s %s\n", problem_name(p.type), p.detail);
        return p.type ? problem_name(p.type) : "allow";
}

#define BYT "VN/GOV/BYT/health-services"
#define HN "VN/GOV/HN-UBND/one-stop-shop"
#define VCB "VN/COM/VCB/kyc"
#define CITIZEN "VN/GOV/BCA/population/citizen"
#define LAND "VN/GOV/BTNMT/land/land-parcels"
#define ID "001090000001"

int main(void)
{
        char *errors = NULL;

        assert(registry_load_embedded(&reg, &errors) == 0);

        /* allowed: statute right, listed purpose */
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, ID, "health-insurance-enrolment", NULL, 0), "allow"));
        /* allowed through a group */
        assert(streq(decide(HN, HN, "GET", CITIZEN, ID, "public-service-delivery", NULL, 0), "allow"));

        /* identity */
        assert(streq(decide(NULL, BYT, "GET", CITIZEN, ID, "health-insurance-enrolment", NULL, 0), "client_unknown"));
        assert(streq(decide("untrusted", BYT, "GET", CITIZEN, ID, "health-insurance-enrolment", NULL, 0),
                     "client_unknown"));
        assert(streq(decide("VN/GOV/NOPE/x", "VN/GOV/NOPE/x", "GET", CITIZEN, ID, "health-insurance-enrolment", NULL,
                            0),
                     "client_unknown"));
        assert(streq(decide(BYT, NULL, "GET", CITIZEN, ID, "health-insurance-enrolment", NULL, 0), "bad_request"));
        assert(streq(code, "Client.InvalidClientIdentifier"));
        assert(streq(decide(BYT, HN, "GET", CITIZEN, ID, "health-insurance-enrolment", NULL, 0), "client_mismatch"));
        /* X-Road tells apart what the xbus types share (PR-REST 1.0.4 §4.6; docs/protocol.md) */
        assert(streq(code, "Server.ClientProxy.SslAuthenticationFailed"));
        assert(streq(decide(BYT, "VN/GOV/NOPE/x", "GET", CITIZEN, ID, "health-insurance-enrolment", NULL, 0),
                     "client_mismatch") &&
               streq(code, "Server.ClientProxy.UnknownMember"));
        assert(streq(decide(NULL, BYT, "GET", CITIZEN, ID, NULL, NULL, 0), "client_unknown") &&
               streq(code, "Server.ClientProxy.SslAuthenticationFailed"));
        assert(streq(decide("VN/GOV/NOPE/x", "VN/GOV/NOPE/x", "GET", CITIZEN, ID, NULL, NULL, 0), "client_unknown") &&
               streq(code, "Server.ClientProxy.UnknownMember"));

        /* service */
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA/population/nope", ID, "health-insurance-enrolment", NULL, 0),
                     "service_unknown"));
        assert(streq(code, "Server.ServerProxy.UnknownService"));
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA/ghost/nope", ID, NULL, NULL, 0), "service_unknown") &&
               streq(code, "Server.ClientProxy.UnknownMember")); /* the provider is not registered */
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA/popul\xc3\xa4tion/citizen", ID, NULL, NULL, 0),
                     "bad_request"));
        assert(streq(decide(BYT, BYT, "GET", "XX/GOV/BCA/population/citizen", ID, "health-insurance-enrolment", NULL,
                            0),
                     "service_unknown"));
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA", ID, "health-insurance-enrolment", NULL, 0), "bad_request"));
        assert(streq(decide(BYT, BYT, "GET", "VN//BCA/population/citizen", ID, "x", NULL, 0), "bad_request"));
        assert(streq(decide(BYT, BYT, "DELETE", CITIZEN, ID, "health-insurance-enrolment", NULL, 0),
                     "method_not_allowed"));

        /* access right */
        assert(streq(decide(VCB, VCB, "GET", CITIZEN, ID, "loan-application", NULL, 0), "access_denied"));

        /* legal basis */
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, NULL, "health-insurance-enrolment", NULL, 0),
                     "subject_required"));
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, "00 1", "health-insurance-enrolment", NULL, 0), "bad_request"));
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, ID, NULL, NULL, 0), "purpose_invalid"));
        assert(strstr(problem_xroad_code(&(Problem){ .type = PROBLEM_PURPOSE_INVALID }), "AccessDenied"));
        /* a right's default purpose serves a request that names none (a plain X-Road call), and says so */
        assert(streq(decide("VN/GOV/BCA/immigration", "VN/GOV/BCA/immigration", "GET", CITIZEN "/" ID, NULL, NULL, NULL,
                            0),
                     "allow"));
        assert(streq(d.purpose, "immigration-control") && d.purpose_default && streq(d.subject, ID));
        assert(streq(decide("VN/GOV/BCA/immigration", "VN/GOV/BCA/immigration", "GET", CITIZEN "/" ID, NULL,
                            "immigration-control", NULL, 0),
                     "allow"));
        assert(!d.purpose_default);
        assert(streq(decide("VN/GOV/BCA/immigration", "VN/GOV/BCA/immigration", "GET", CITIZEN "/" ID, NULL,
                            "background-check", NULL, 0),
                     "purpose_invalid")); /* a default does not widen the right */
        assert(streq(decide(HN, HN, "GET", "VN/GOV/BKHDT/business-registry/enterprise/0100000001", NULL, NULL, NULL, 0),
                     "allow"));
        assert(streq(d.purpose, "public-service-delivery") && d.purpose_default);
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, ID, "no-such-purpose", NULL, 0), "purpose_invalid"));
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, ID, "tax-administration", NULL, 0), "purpose_invalid"));
        assert(streq(decide(HN, HN, "GET", LAND, ID, "public-service-delivery", NULL, 0), "consent_required"));
        /* with a consent presented, the policy allows and leaves the consent to the store */
        assert(streq(decide(HN, HN, "GET", LAND, ID, "public-service-delivery", "c-123", 0), "allow"));

        /* identifier segments are decoded one by one: an encoded '/' is data (PR-REST 4.2) */
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA/population%2Fcitizen", ID, "health-insurance-enrolment", NULL,
                            0),
                     "bad_request"));
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA/population%2fcitizen/x", ID, "health-insurance-enrolment",
                            NULL, 0),
                     "service_unknown"));
        assert(streq(d.service_id, "VN/GOV/BCA/population%2fcitizen/x"));
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA/population/citizen%2F", ID, "health-insurance-enrolment", NULL,
                            0),
                     "service_unknown"));
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA/population/%63itizen", ID, "health-insurance-enrolment", NULL,
                            0),
                     "allow"));
        assert(streq(d.service_id, CITIZEN) && streq(d.path, "/"));
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA/population/citizen/%zz", ID, "x", NULL, 0), "bad_request"));
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA/population/cit%00izen", ID, "x", NULL, 0), "bad_request"));

        /* the subject: population/citizen also takes it in the path; X-Bus-Subject must then agree */
        assert(streq(decide(BYT, BYT, "GET", CITIZEN "/" ID, NULL, "health-insurance-enrolment", NULL, 0), "allow"));
        assert(streq(d.subject, ID) && streq(d.path, "/" ID));
        assert(streq(decide(BYT, BYT, "GET", CITIZEN "/" ID, ID, "health-insurance-enrolment", NULL, 0), "allow"));
        assert(streq(decide(BYT, BYT, "GET",
                            CITIZEN "/%30"
                                    "01090000001",
                            ID, "health-insurance-enrolment", NULL, 0),
                     "allow"));
        assert(streq(decide(BYT, BYT, "GET", CITIZEN "/001090000002", ID, "health-insurance-enrolment", NULL, 0),
                     "subject_conflict"));
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, ID, "health-insurance-enrolment", NULL, 0), "allow") &&
               streq(d.subject, ID));
        assert(streq(decide(BYT, BYT, "GET", CITIZEN "/a%24b", NULL, "health-insurance-enrolment", NULL, 0),
                     "bad_request"));

        /* size */
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, ID, "health-insurance-enrolment", NULL, 1U << 30),
                     "payload_too_large"));

        /* metaservices: resolved only when the transport answers them, open to every identified client */
        {
                static Problem p;
                PolicyInput in = { .cert_present = true,
                                   .cert_trusted = true,
                                   .cert_cn = VCB,
                                   .client_header = VCB,
                                   .method = "GET",
                                   .r1_path = "VN/GOV/BCA/population/listMethods" };

                assert(policy_decide(reg, &in, &d, &p) == 1 && p.type == PROBLEM_SERVICE_UNKNOWN);
                in.metaservices = REGISTRY_META_LIST_METHODS | REGISTRY_META_ALLOWED_METHODS;
                p = (Problem){};
                assert(policy_decide(reg, &in, &d, &p) == 0 && d.service->meta == REGISTRY_META_LIST_METHODS);
                assert(!d.right && !d.basis && !d.subject[0] && !d.needs_consent &&
                       streq(d.service_id, "VN/GOV/BCA/population/listMethods"));
                in.r1_path = "VN/GOV/BCA/population/getOpenAPI"; /* not among those answered */
                assert(policy_decide(reg, &in, &d, &p) == 1 && p.type == PROBLEM_SERVICE_UNKNOWN);
                in.r1_path = "VN/GOV/NONE/x/listMethods";
                assert(policy_decide(reg, &in, &d, &p) == 1 && p.type == PROBLEM_SERVICE_UNKNOWN);
                in.r1_path = "VN/GOV/BCA/population/allowedMethods";
                in.client_header = BYT; /* identity still comes first */
                assert(policy_decide(reg, &in, &d, &p) == 1 && p.type == PROBLEM_CLIENT_MISMATCH);
        }

        /* every problem type has a name, a status and a title, renders as JSON, and is found by its name */
        for (ProblemType t = PROBLEM_NONE + 1; t < _PROBLEM_TYPE_MAX; t++) {
                const ProblemInfo *i = problem_info(t);
                ProblemType back = PROBLEM_NONE;
                char *s = problem_render(t, "d\"x", "/r1/x", "id-1", i->xroad, NULL);
                assert(i->name && i->title && i->status >= 400 && i->status <= 599);
                /* every type has an X-Road code with an origin prefix, and the profile's status follows it */
                assert(i->xroad &&
                       (strncmp(i->xroad, "Client.", 7) == 0 || strncmp(i->xroad, "Server.ClientProxy.", 19) == 0 ||
                        strncmp(i->xroad, "Server.ServerProxy.", 19) == 0));
                assert(problem_xroad_status(t) == (i->xroad[0] == 'C' ? 400 : 500));
                assert(t == PROBLEM_INTERNAL_ERROR || i != problem_info(PROBLEM_INTERNAL_ERROR));
                assert(s && strstr(s, i->name));
                assert(problem_from_name(i->name, &back) == 0 && back == t);
                for (ProblemType u = PROBLEM_NONE + 1; u < t; u++)
                        assert(!streq(problem_name(u), i->name));
                free(s);
        }
        /* the X-Road profile's bodies (PR-REST 1.0.4 §4.6): exactly type, message, detail; XML escaped */
        {
                char *j = problem_render_xroad("Client.BadRequest", "a \"b\" <c> & d", "id-1", false);
                char *x = problem_render_xroad("Client.BadRequest", "a \"b\" <c> & d", "id-1", true);
                char *n = problem_render_xroad("Client.BadRequest", "bad \x01 byte", "id-1", false);
                assert(j && streq(j, "{\"type\":\"Client.BadRequest\",\"message\":\"a \\\"b\\\" <c> & d\","
                                     "\"detail\":\"id-1\"}"));
                assert(x && strstr(x, "<error><type>Client.BadRequest</type><message>a &quot;b&quot; &lt;c&gt; &amp; "
                                      "d</message><detail>id-1</detail></error>"));
                assert(n && strstr(n, "(not printable)"));
                free(j);
                free(x);
                free(n);
                assert(problem_code_status("Client.InvalidBody") == 400 &&
                       problem_code_status("Server.ClientProxy.Busy") == 500);
        }
        /* outside input: an unknown name is refused, not mapped; no type is an internal error, never a success */
        {
                ProblemType back = PROBLEM_BAD_REQUEST;
                assert(problem_from_name("nope", &back) == -EINVAL && back == PROBLEM_BAD_REQUEST);
                assert(problem_from_name(NULL, &back) == -EINVAL);
                assert(streq(problem_name(PROBLEM_NONE), "internal_error"));
                assert(streq(problem_name(_PROBLEM_TYPE_MAX), "internal_error"));
        }

        registry_unref(reg);
        printf("policy: ok\n");
        return 0;
}
