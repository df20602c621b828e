/* cli-demo.c: the guided demo scenario */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli-consent.h"
#include "cli/cli-common.h"
#include "cli/cli-demo.h"
#include "cli/cli-exchange.h"
#include "cli/cli-log.h"
#include "cli/cli-node.h"
#include "cli/cli-table.h"
#include "util/macro.h"

typedef struct DemoStep {
        const char *story; /* what happens, in words */
        const char *client;
        const char *service; /* SERVICE[/path] */
        const char *purpose;
        int expect_status;
        const char *expect_error; /* NULL: a delivered answer with a verified receipt */
        const char *why;          /* why the bus should answer that way */
} DemoStep;

static const DemoStep steps[] = {
        {
                .story = "The Ministry of Health's case system reads a citizen from the national population "
                         "database, "
                         "to enrol them in health insurance.",
                .client = "VN/GOV/BYT/health-services",
                .service = "VN/GOV/BCA/population/citizen",
                .purpose = "health-insurance-enrolment",
                .expect_status = 200,
                .why = "the ministry holds a statute right on population/citizen (Law on Citizen "
                       "Identification) "
                       "that lists this purpose",
        },
        {
                .story = "A commercial bank's customer-check system asks the population database for the "
                         "same citizen.",
                .client = "VN/COM/VCB/kyc",
                .service = "VN/GOV/BCA/population/citizen",
                .purpose = "loan-application",
                .expect_status = 403,
                .expect_error = "access_denied",
                .why = "the bank has no access right on population/citizen at all",
        },
        {
                .story = "The Ministry of Health asks for a service the population database does not offer.",
                .client = "VN/GOV/BYT/health-services",
                .service = "VN/GOV/BCA/population/no-such-service",
                .purpose = "health-insurance-enrolment",
                .expect_status = 404,
                .expect_error = "service_unknown",
                .why = "the registry has no such service",
        },
        {
                .story = "The Ministry of Health asks for the citizen again, this time for tax "
                         "administration.",
                .client = "VN/GOV/BYT/health-services",
                .service = "VN/GOV/BCA/population/citizen",
                .purpose = "tax-administration",
                .expect_status = 403,
                .expect_error = "purpose_invalid",
                .why = "its right serves health-insurance enrolment and public services, not taxes",
        },
        {
                .story = "Ha Noi's one-stop-shop asks the land database for the citizen's land parcels "
                         "while handling "
                         "an application, without presenting the citizen's consent.",
                .client = "VN/GOV/HN-UBND/one-stop-shop",
                .service = "VN/GOV/BTNMT/land/land-parcels",
                .purpose = "public-service-delivery",
                .expect_status = 403,
                .expect_error = "consent_required",
                .why = "the one-stop-shops' right on land parcels is consent-based",
        },
};

#define N_STEPS ELEMENTSOF(steps)

typedef struct StepResult {
        bool ran, as_expected, has_seq;
        uint64_t seq;
        char xroad_id[37];
} StepResult;

/* A few fields of the delivered citizen record, to show what came back. */
static void show_data(FILE *f, const CliHttpResponse *resp)
{
        _cleanup_(json_decrefp) json_t *j = json_loadb(resp->body, resp->body_size, 0, NULL);
        static const char *const keys[] = { "id", "full_name", "birth_date", "sex", "hometown" };
        bool any = false;

        if (!json_is_object(j)) {
                fprintf(f, "   data:     %zu bytes (not a JSON object)\n", resp->body_size);
                return;
        }
        fprintf(f, "   data:     ");
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *v = json_string_value(json_object_get(j, keys[i]));
                if (!v)
                        continue;
                fprintf(f, "%s%s \"", any ? ", " : "", keys[i]);
                cli_put_sanitized(f, v, 120);
                fputc('"', f);
                any = true;
        }
        fprintf(f, "%s (%zu fields, %zu bytes)\n", any ? "" : "-", json_object_size(j), resp->body_size);
}

static void show_problem(FILE *f, const CliHttpResponse *resp)
{
        _cleanup_(json_decrefp) json_t *j = json_loadb(resp->body, resp->body_size, 0, NULL);
        const char *detail = json_string_value(json_object_get(j, "detail"));

        if (detail) {
                fprintf(f, "   detail:   ");
                cli_put_sanitized(f, detail, 300);
                fputc('\n', f);
        }
}

static bool run_step(FILE *f, const char *state, const char *url, const char *subject, const DemoStep *s, size_t number,
                     const char *consent, StepResult *res)
{
        _cleanup_free_ char *error = NULL;
        CliExchangeResult x = {};
        bool ok;
        int r;

        fprintf(f, "\nStep %zu. %s\n", number, s->story);
        fprintf(f, "   who:      %s\n", s->client);
        fprintf(f, "   asks:     GET %s for subject %s\n", s->service, subject);
        fprintf(f, "   purpose:  %s\n", s->purpose);
        if (consent)
                fprintf(f, "   consent:  %s\n", consent);
        r = cli_exchange_call(&(CliExchange){ .state_dir = state,
                                              .base_url = url,
                                              .client = s->client,
                                              .target = s->service,
                                              .subject = subject,
                                              .purpose = s->purpose,
                                              .consent = consent,
                                              .issue = "xbus-demo" },
                              &x, &error);
        if (r != 0) {
                fprintf(f, "   answer:   none: %s\n", error ? error : strerror(r < 0 ? -r : EIO));
                fprintf(f, "   => NOT as expected (expected %d%s%s)\n", s->expect_status, s->expect_error ? " " : "",
                        strempty(s->expect_error));
                return false;
        }
        res->ran = true;
        res->has_seq = x.has_log_seq;
        res->seq = x.log_seq;
        memcpy(res->xroad_id, x.xroad_id, sizeof(res->xroad_id));

        fprintf(f, "   answer:   %ld", x.response->status);
        if (x.error) {
                fputc(' ', f);
                cli_put_sanitized(f, x.error, 64);
        }
        fprintf(f, " (X-Road-Id %s", x.xroad_id);
        if (x.has_log_seq)
                fprintf(f, ", log seq %" PRIu64, x.log_seq);
        fprintf(f, ")\n");
        if (x.response->status >= 200 && x.response->status < 300)
                show_data(f, x.response);
        else
                show_problem(f, x.response);

        if (x.receipt == CLI_RECEIPT_VERIFIED) {
                json_t *p = x.receipt_payload;
                fprintf(f, "   receipt:  verified (log seq %" PRIu64 "), ES256 by the node's key, basis ", x.log_seq);
                cli_put_sanitized(f, json_string_value(json_object_get(p, "basis")), 32);
                fprintf(f, "\n             request_hash  ");
                cli_put_sanitized(f, json_string_value(json_object_get(p, "request_hash")), 64);
                fprintf(f, "\n             response_hash ");
                cli_put_sanitized(f, json_string_value(json_object_get(p, "response_hash")), 64);
                fprintf(f, " (= SHA-256 of the body received)\n");
        } else if (x.receipt == CLI_RECEIPT_FAILED) {
                fprintf(f, "   receipt:  FAILED: ");
                cli_put_sanitized(f, x.receipt_reason, 300);
                fputc('\n', f);
        }

        if (s->expect_error)
                ok = x.response->status == s->expect_status && x.error && streq(x.error, s->expect_error) &&
                     x.has_log_seq && x.receipt == CLI_RECEIPT_NONE;
        else
                ok = x.response->status == s->expect_status && !x.error && cli_exchange_ok(&x);
        fprintf(f, "   => %s: expected %d%s%s, because %s.\n", ok ? "as expected" : "NOT as expected", s->expect_status,
                s->expect_error ? " " : " with a verified receipt", s->expect_error ? s->expect_error : "", s->why);
        cli_exchange_result_done(&x);
        res->as_expected = ok;
        return ok;
}

/* Step 6: the log holds every exchange, recorded as it was answered. */
static bool check_log(FILE *f, const char *state, const StepResult *results, size_t step_no)
{
        _cleanup_(exlog_reader_closep) ExlogReader *reader = NULL;
        _cleanup_(cli_table_freep) CliTable *t = NULL;
        _cleanup_free_ char *error = NULL;
        bool all = true;
        int r;

        fprintf(f, "\nStep %zu. An auditor reads the exchange log at the sequence numbers the bus returned.\n",
                step_no);
        r = cli_log_open(state, &reader, &error);
        if (r < 0) {
                fprintf(f, "   => NOT as expected: %s\n", strempty(error));
                return false;
        }
        if (cli_log_table_new(&t) < 0) {
                fprintf(f, "   => NOT as expected: out of memory\n");
                return false;
        }
        for (size_t i = 0; i < N_STEPS; i++) {
                const DemoStep *s = &steps[i];
                _cleanup_(json_decrefp) json_t *e = NULL;
                const char *decision, *error_type, *client, *service, *id;
                json_t *status;
                bool ok;

                if (!results[i].has_seq) {
                        fprintf(f, "   step %zu: no log sequence number was returned\n", i + 1);
                        all = false;
                        continue;
                }
                r = cli_log_get(reader, results[i].seq, NULL, &e);
                if (r < 0) {
                        fprintf(f, "   step %zu: log entry %" PRIu64 " cannot be read: %s\n", i + 1, results[i].seq,
                                r == -ENOENT ? "not in the log" : strerror(-r));
                        all = false;
                        continue;
                }
                cli_log_table_add(t, e);
                decision = json_string_value(json_object_get(e, "decision"));
                error_type = json_string_value(json_object_get(e, "error"));
                client = json_string_value(json_object_get(e, "client"));
                service = json_string_value(json_object_get(e, "service"));
                id = json_string_value(json_object_get(e, "xroad_id"));
                status = json_object_get(e, "status");
                ok = decision && streq(decision, s->expect_error ? "deny" : "allow") && json_is_integer(status) &&
                     json_integer_value(status) == s->expect_status &&
                     (s->expect_error ? error_type && streq(error_type, s->expect_error) : !error_type) && client &&
                     streq(client, s->client) && service && streq(service, s->service) && id &&
                     streq(id, results[i].xroad_id);
                if (!ok) {
                        char st[160];
                        fprintf(f, "   step %zu: entry %" PRIu64 " says ", i + 1, results[i].seq);
                        cli_put_sanitized(f, decision, 16);
                        fprintf(f, " %s for ", cli_log_status_text(e, st, sizeof(st)));
                        cli_put_sanitized(f, client, 128);
                        fprintf(f, " on ");
                        cli_put_sanitized(f, service, 200);
                        fprintf(f, ", not %s %d%s%s for %s on %s (X-Road-Id %s)\n", s->expect_error ? "deny" : "allow",
                                s->expect_status, s->expect_error ? " " : "", strempty(s->expect_error), s->client,
                                s->service, results[i].xroad_id);
                        all = false;
                }
        }
        if (cli_table_rows(t) > 0) {
                fputc('\n', f);
                cli_table_print(t, f);
        }
        fprintf(f,
                "   => %s: every exchange above, allowed or refused, is in the log with its decision, "
                "status and problem type.\n",
                all ? "as expected" : "NOT as expected");
        return all;
}

/* --- part 2: the citizen's consent ------------------------------------------ */

#define LAND "VN/GOV/BTNMT/land/land-parcels"
#define OSS "VN/GOV/HN-UBND/one-stop-shop"
#define N_CONSENT_STEPS 5

static const DemoStep with_consent = {
        .story = "The one-stop-shop asks for the land parcels again, now presenting the citizen's consent.",
        .client = OSS,
        .service = LAND,
        .purpose = "public-service-delivery",
        .expect_status = 200,
        .why = "the consent names this citizen, this one-stop-shop, this service and this purpose, and is valid now",
};

static const DemoStep after_revocation = {
        .story = "The one-stop-shop tries once more with the same consent.",
        .client = OSS,
        .service = LAND,
        .purpose = "public-service-delivery",
        .expect_status = 403,
        .expect_error = "consent_invalid",
        .why = "the citizen revoked the consent",
};

static void verdict(FILE *f, bool ok, const char *what)
{
        fprintf(f, "   => %s: %s.\n", ok ? "as expected" : "NOT as expected", what);
}

/* The access history must show the refused request (step 5) and the allowed one (step 8). */
static bool history_shows(json_t *page, const StepResult *refused_step, const StepResult *allowed_step,
                          const char *consent_id)
{
        bool seen_refused = false, seen_allowed = false;
        json_t *items = json_object_get(page, "accesses"), *v;
        size_t i;

        if (!refused_step->has_seq || !allowed_step->has_seq)
                return false;
        json_array_foreach(items, i, v) {
                json_int_t seq = json_integer_value(json_object_get(v, "seq"));
                const char *decision = json_string_value(json_object_get(v, "decision"));
                const char *error = json_string_value(json_object_get(v, "error"));
                const char *consent = json_string_value(json_object_get(v, "consent"));
                const char *client = json_string_value(json_object_get(v, "client"));

                if (seq == (json_int_t)refused_step->seq)
                        seen_refused = decision && streq(decision, "deny") && error &&
                                       streq(error, "consent_required") && client && streq(client, OSS);
                if (seq == (json_int_t)allowed_step->seq)
                        seen_allowed = decision && streq(decision, "allow") && !error && consent &&
                                       streq(consent, consent_id) && client && streq(client, OSS);
        }
        return seen_refused && seen_allowed;
}

/* Steps first .. first+4; ok[i] says whether each behaved. Return: how many did. */
static unsigned consent_story(FILE *f, const char *state, const char *url, const char *subject, size_t first,
                              const StepResult *refused_step, bool ok[N_CONSENT_STEPS])
{
        const CliConsentTarget target = { .state_dir = state, .base_url = url };
        _cleanup_free_ char *id = NULL, *error = NULL;
        _cleanup_(json_decrefp) json_t *page = NULL;
        StepResult allowed_step = {}, again = {};
        unsigned passed = 0;
        int r;

        memset(ok, 0, N_CONSENT_STEPS * sizeof(bool));
        fprintf(f, "\nPart 2. The citizen's consent, and the citizen's view of who read their data.\n");

        fprintf(f,
                "\nStep %zu. The citizen agrees on the national portal; the portal (a consent authority) records\n"
                "   the consent at the bus: subject %s, grantee %s, service %s,\n"
                "   purpose public-service-delivery, valid for an hour.\n   ",
                first, subject, OSS, LAND);
        r = cli_consent_grant(&target,
                              &(CliConsentGrant){ .subject = subject,
                                                  .grantee = OSS,
                                                  .services = { LAND },
                                                  .n_services = 1,
                                                  .purpose = "public-service-delivery",
                                                  .expires = "1h" },
                              f, &id, &error);
        if (r < 0)
                fprintf(f, "failed: %s\n", error ? error : strerror(-r));
        ok[0] = r == 0 && id;
        verdict(f, ok[0], "the portal holds the consent-authority role and the consent is well-formed");
        error = mfree(error);

        if (ok[0])
                ok[1] = run_step(f, state, url, subject, &with_consent, first + 1, id, &allowed_step);
        else
                fprintf(f, "\nStep %zu. (skipped: no consent was recorded)\n", first + 1);

        fprintf(f,
                "\nStep %zu. The citizen asks the portal who accessed their data (the bus answers from the log's\n"
                "   index by pseudonym, like Estonia's Data Tracker).\n",
                first + 2);
        r = cli_subject_accesses(&target, subject, 50, UINT64_MAX, f, &page, &error);
        if (r < 0)
                fprintf(f, "   failed: %s\n", error ? error : strerror(-r));
        ok[2] = r == 0 && history_shows(page, refused_step, &allowed_step, strempty(id));
        verdict(f, ok[2],
                "the history shows the refused request of step 5 and the allowed one of step 8, with "
                "basis, purpose and consent");
        error = mfree(error);

        if (ok[0]) {
                fprintf(f, "\nStep %zu. The citizen changes their mind: the portal revokes the consent.\n   ",
                        first + 3);
                r = cli_consent_revoke(&target, id, f, &error);
                if (r < 0)
                        fprintf(f, "failed: %s\n", error ? error : strerror(-r));
                ok[3] = r == 0;
                verdict(f, ok[3], "the issuing authority may revoke its consent");
                ok[4] = run_step(f, state, url, subject, &after_revocation, first + 4, id, &again);
        } else
                fprintf(f, "\nSteps %zu-%zu. (skipped: no consent was recorded)\n", first + 3, first + 4);

        for (size_t i = 0; i < N_CONSENT_STEPS; i++)
                passed += ok[i];
        return passed;
}

int cli_demo_run(const CliDemoOptions *o, char **ret_error)
{
        const char *state = o->state_dir ? o->state_dir : CLI_NODE_DEFAULT_STATE;
        FILE *f = o->out ? o->out : stdout;
        _cleanup_free_ char *listen = NULL, *error = NULL, *url = NULL;
        StepResult results[N_STEPS] = {};
        CliNodeInfo info = {};
        char subject[13];
        unsigned passed = 0, part2, total = N_STEPS + 1 + N_CONSENT_STEPS;
        bool log_ok, consent_ok[N_CONSENT_STEPS];
        int r;

        r = o->url ? cli_node_listen_from_url(o->url, &listen) : 0;
        if (r < 0)
                return error_set(ret_error, r,
                                 r == -ENOMEM ? "out of memory" : "the URL \"%s\" is not https://HOST:PORT", o->url);
        fprintf(f, "xbus demo: state in %s\n", state);
        r = cli_node_up(&(CliNodeOptions){ .state_dir = state,
                                           .listen = listen,
                                           .adapters = o->adapters,
                                           .progress = f },
                        &info, ret_error);
        if (r != 0)
                return r;
        url = TAKE_PTR(info.url);
        cli_node_info_done(&info);
        fprintf(f, "xbus demo: the node at %s\n", url);

        r = cli_node_subject_id(state, 0, subject, &error);
        if (r < 0) {
                fprintf(f, "(could not ask the sample adapter for an id: %s; using the demo citizen %s)\n",
                        strempty(error), CLI_NODE_DEMO_SUBJECT);
                memcpy(subject, CLI_NODE_DEMO_SUBJECT, sizeof(subject));
        }
        fprintf(f, "The data subject in every step is citizen %s (the first person of the sample dataset).\n", subject);

        fprintf(f, "\nPart 1. What the bus decides, and why.\n");
        for (size_t i = 0; i < N_STEPS; i++)
                if (run_step(f, state, url, subject, &steps[i], i + 1, NULL, &results[i]))
                        passed++;
        log_ok = check_log(f, state, results, N_STEPS + 1);
        if (log_ok)
                passed++;
        if (passed == N_STEPS + 1)
                fprintf(f, "\npart 1: all %zu steps behaved as expected\n", N_STEPS + 1);

        part2 = consent_story(f, state, url, subject, N_STEPS + 2, &results[N_STEPS - 1], consent_ok);
        if (part2 == N_CONSENT_STEPS)
                fprintf(f, "\npart 2: all %u steps behaved as expected\n", N_CONSENT_STEPS);
        passed += part2;

        fputc('\n', f);
        if (passed == total) {
                fprintf(f, "demo: all %u steps behaved as expected\n", total);
                return 0;
        }
        fprintf(f, "demo: %u of %u steps did NOT behave as expected:", total - passed, total);
        for (size_t i = 0; i < N_STEPS; i++)
                if (!results[i].as_expected)
                        fprintf(f, " %zu", i + 1);
        if (!log_ok)
                fprintf(f, " %zu", N_STEPS + 1);
        for (size_t i = 0; i < N_CONSENT_STEPS; i++)
                if (!consent_ok[i])
                        fprintf(f, " %zu", N_STEPS + 2 + i);
        fputc('\n', f);
        return CLI_DEMO_E_UNEXPECTED;
}
