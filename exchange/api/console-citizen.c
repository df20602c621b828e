/* console-citizen.c: the citizen's calls (accesses, consents, revoke, own entries) and the auditor's export */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/console-internal.h"
#include "audit/audit-verify.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"
#include "util/time-util.h"

#define CONSENTS_MAX 100

/* GET accesses[?cursor=SEQ]: who accessed my data, newest first (the consent API's access history). */
static int citizen_accesses(const EndpointRequest *req, EndpointResponse *resp, const ConsoleSession *s)
{
        ConsoleApi *c = console_api(req);
        _cleanup_free_ char *cursor = endpoint_query_param(req->query, "cursor");
        _cleanup_(exlog_reader_closep) ExlogReader *reader = NULL;
        uint64_t before = UINT64_MAX;
        json_t *out = NULL;
        int r;

        if (cursor && parse_u64(cursor, 0, INT64_MAX, &before) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "cursor must be a log sequence number");
        if (!c->consent || !c->consent->log)
                return -ENOTCONN;
        r = exlog_reader_new(&reader, c->consent->log);
        if (r < 0)
                return r;
        r = consent_api_accesses(reader, s->pseudonym, before, CONSENT_API_ACCESSES_DEFAULT, &out);
        if (r < 0)
                return r;
        return endpoint_json(resp, 200, out);
}

/* GET consents: the consents this citizen gave (one page, newest first). */
static int citizen_consents(const EndpointRequest *req, EndpointResponse *resp, const ConsoleSession *s)
{
        ConsoleApi *c = console_api(req);
        _cleanup_free_ ConsentRecord *recs = calloc(CONSENTS_MAX, sizeof(ConsentRecord));
        uint64_t now = now_usec(CLOCK_REALTIME);
        json_t *arr = json_array();
        size_t n = 0;
        int r;

        if (!recs || !arr) {
                json_decref(arr);
                return -ENOMEM;
        }
        if (!c->consent || !c->consent->consents) {
                json_decref(arr);
                return -ENOTCONN;
        }
        r = consent_list_subject(c->consent->consents, s->pseudonym, NULL, recs, CONSENTS_MAX, &n);
        if (r < 0) {
                json_decref(arr);
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                json_t *j = consent_record_to_json(&recs[i], now);
                if (j)
                        json_object_del(j, "subject"); /* the page has no use for the pseudonym */
                json_array_append_new(arr, j);
                consent_record_done(&recs[i]);
        }
        return endpoint_json(resp, 200, json_pack("{s:o}", "consents", arr));
}

/* POST consents/ID/revoke: revoke one of my consents, as its authority would (consent_revoke()). */
static int citizen_revoke(const EndpointRequest *req, EndpointResponse *resp, const ConsoleSession *s, const char *id)
{
        ConsoleApi *c = console_api(req);
        _cleanup_(consent_record_done) ConsentRecord rec = {}, out = {};
        uint64_t now = now_usec(CLOCK_REALTIME);
        int r;

        if (!streq(req->method, "POST"))
                return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "revoke with POST");
        if (!consent_valid_id(id))
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such consent");
        if (!c->consent || !c->consent->consents)
                return -ENOTCONN;
        r = consent_get(c->consent->consents, id, &rec);
        if (r < 0)
                return r;
        /* another person's consent is answered exactly like one that does not exist */
        if (r > 0 || !rec.subject || !streq(rec.subject, s->pseudonym))
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such consent");
        r = consent_revoke(c->consent->consents, id, rec.authority, now, &out);
        if (r < 0)
                return r;
        if (r > 0)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such consent");
        /* answered once durable, as the consent API answers its revokes (log/exlog.h, exlog_sync()) */
        if (c->consent->log) {
                r = exlog_sync(c->consent->log);
                if (r < 0)
                        return r;
        }
        log_info("Console: session %s revoked a consent of its citizen", s->handle);
        {
                json_t *j = consent_record_to_json(&out, now);
                if (j)
                        json_object_del(j, "subject");
                return endpoint_json(resp, 200, j);
        }
}

/* Whether entry `seq` is one of this citizen's (its subject or the person its answer named). */
static int entry_of(ExlogReader *r, uint64_t seq, const char *pseudonym)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_decrefp) json_t *e = NULL;
        const char *a, *b;
        size_t size;
        int k;

        k = exlog_reader_get(r, seq, &text, &size);
        if (k == -ENOENT)
                return 0;
        if (k < 0)
                return k;
        e = json_loadb(text, size, 0, NULL);
        a = json_string_value(json_object_get(e, "subject"));
        b = json_string_value(json_object_get(e, "revealed_subject"));
        return (a && streq(a, pseudonym)) || (b && streq(b, pseudonym));
}

/* GET entries/SEQ: one of my entries with its inclusion proof and checkpoint, for the page to verify. */
static int citizen_entry(const EndpointRequest *req, EndpointResponse *resp, const ConsoleSession *s, const char *seq_s)
{
        ConsoleApi *c = console_api(req);
        _cleanup_(exlog_reader_closep) ExlogReader *reader = NULL;
        _cleanup_free_ char *path = NULL;
        EndpointRequest a = *req;
        uint64_t seq;
        int r;

        if (parse_u64(seq_s, 0, INT64_MAX, &seq) < 0)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such entry");
        if (!c->audit || !c->audit->log)
                return -ENOTCONN;
        r = exlog_reader_new(&reader, c->audit->log);
        if (r < 0)
                return r;
        r = entry_of(reader, seq, s->pseudonym);
        if (r < 0)
                return r;
        if (r == 0) /* another person's entry is answered exactly like one that does not exist */
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no entry %" PRIu64, seq);
        if (asprintf(&path, "%sentries/%" PRIu64, AUDIT_API_PREFIX, seq) < 0)
                return -ENOMEM;
        a.path = path;
        a.query = "";
        a.userdata = c->audit;
        return audit_api_serve(&a, resp);
}

int console_citizen(const EndpointRequest *req, EndpointResponse *resp, const ConsoleSession *s, const char *sub)
{
        bool get = streq(req->method, "GET");

        if (!s->pseudonym[0])
                return endpoint_problem(resp, PROBLEM_ACCESS_DENIED, "this session names no citizen");
        if (streq(sub, "accesses"))
                return get ? citizen_accesses(req, resp, s)
                           : endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "use GET");
        if (streq(sub, "consents"))
                return get ? citizen_consents(req, resp, s)
                           : endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "use GET");
        if (strneq(sub, "consents/", 9)) {
                char id[CONSENT_ID_MAX];
                const char *rest = sub + 9, *slash = strchr(rest, '/');

                if (!slash || !streq(slash, "/revoke") || (size_t)(slash - rest) >= sizeof(id))
                        return endpoint_problem(resp, PROBLEM_NOT_FOUND, "use consents/ID/revoke");
                memcpy(id, rest, (size_t)(slash - rest));
                id[slash - rest] = 0;
                return citizen_revoke(req, resp, s, id);
        }
        if (strneq(sub, "entries/", 8))
                return get ? citizen_entry(req, resp, s, sub + 8)
                           : endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "use GET");
        return endpoint_problem(resp, PROBLEM_NOT_FOUND, "the citizen has accesses, consents and entries/SEQ");
}

/* The export's lines, 0..size-1, after its header. Return: 0, -errno. */
static int export_lines(ExlogReader *r, FILE *out, const char *note, uint64_t size)
{
        char origin[256];
        const char *nl = strchr(note, '\n');
        int k;

        snprintf(origin, sizeof(origin), "%.*s", nl ? (int)(nl - note) : 0, note);
        k = audit_export_write_header(out, origin, 0, size, note, NULL, 0);
        for (uint64_t seq = 0; k == 0 && seq < size; seq++) {
                _cleanup_free_ char *e = NULL;
                size_t len;

                k = exlog_reader_get(r, seq, &e, &len);
                if (k == 0)
                        k = audit_export_write_line(out, seq, e, len, NULL, 0);
        }
        return k;
}

int console_audit_export(const EndpointRequest *req, EndpointResponse *resp)
{
        ConsoleApi *c = console_api(req);
        _cleanup_(exlog_reader_closep) ExlogReader *r = NULL;
        _cleanup_free_ char *note = NULL;
        uint64_t size;
        FILE *out;
        int k;

        if (!c->audit || !c->audit->log)
                return -ENOTCONN;
        k = exlog_reader_new(&r, c->audit->log);
        if (k < 0)
                return k;
        k = exlog_reader_checkpoint(r, 0, &note, &size);
        if (k == -ENOENT)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no checkpoint yet; retry after the next checkpoint");
        if (k < 0)
                return k;
        if (size > CONSOLE_EXPORT_MAX)
                return endpoint_problem(resp, PROBLEM_PAYLOAD_TOO_LARGE,
                                        "the log holds more than %d entries: export it with `xbus audit export`",
                                        CONSOLE_EXPORT_MAX);
        out = open_memstream(&resp->body, &resp->body_size);
        if (!out)
                return -ENOMEM;
        k = export_lines(r, out, note, size);
        if (fclose(out) != 0 && k == 0)
                k = -EIO;
        if (k < 0) {
                resp->body = mfree(resp->body);
                resp->body_size = 0;
                return k;
        }
        resp->status = 200;
        snprintf(resp->content_type, sizeof(resp->content_type), "application/jsonl");
        (void)endpoint_header_add(resp, "Content-Disposition", "attachment; filename=\"xbus-export-%" PRIu64 ".jsonl\"",
                                  size);
        return 0;
}
