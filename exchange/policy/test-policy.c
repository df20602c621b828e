/* test-policy.c: every refusal path of the decision, on the sample registry */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/problem.h"
#include "util/macro.h"

static Registry *reg;

static const char *decide(const char *client_cn, const char *header, const char *method, const char *path,
                          const char *subject, const char *purpose, const char *consent, size_t body)
{
        static PolicyDecision d;
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
        int r = policy_decide(reg, &in, &d);
        assert((r == 0) == (d.type == NULL));
        if (d.type)
                printf("  %-18s %s\n", d.type, d.detail);
        return d.type ? d.type : "allow";
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
        assert(streq(decide(BYT, HN, "GET", CITIZEN, ID, "health-insurance-enrolment", NULL, 0), "client_mismatch"));

        /* service */
        assert(streq(decide(BYT, BYT, "GET", "VN/GOV/BCA/population/nope", ID, "health-insurance-enrolment", NULL, 0),
                     "service_unknown"));
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
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, ID, "no-such-purpose", NULL, 0), "purpose_invalid"));
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, ID, "tax-administration", NULL, 0), "purpose_invalid"));
        assert(streq(decide(HN, HN, "GET", LAND, ID, "public-service-delivery", NULL, 0), "consent_required"));
        /* with a consent presented, the policy allows and leaves the consent to the store */
        assert(streq(decide(HN, HN, "GET", LAND, ID, "public-service-delivery", "c-123", 0), "allow"));

        /* size */
        assert(streq(decide(BYT, BYT, "GET", CITIZEN, ID, "health-insurance-enrolment", NULL, 1U << 30),
                     "payload_too_large"));

        /* every problem type has a status and renders as JSON */
        for (const ProblemType *p = problem_types(); p->type; p++) {
                char *s = problem_render(p->type, "d\"x", "/r1/x", "id-1");
                assert(p->status >= 400 && p->status <= 599);
                assert(s && strstr(s, p->type));
                free(s);
        }
        assert(streq(problem_lookup("nope")->type, "internal_error"));

        registry_unref(reg);
        printf("policy: ok\n");
        return 0;
}
