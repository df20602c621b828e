/* audit-api.c: the auditors' HTTPS API (/audit/entries, /audit/entries/SEQ, /audit/consistency,
 * /audit/checkpoint) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/audit-api.h"
#include "audit/audit-verify.h"
#include "crypto/hash.h"
#include "crypto/pseudonym.h"
#include "log/exlog.h"
#include "log/merkle.h"
#include "registry.h"
#include "util/macro.h"
#include "util/parse.h"
#include "util/time-util.h"

static const AuditApi *api(const EndpointRequest *req)
{
        return req->userdata;
}

/* The time of entry `seq` in microseconds. Return: 0, -EBADMSG (damaged), -errno. */
static int entry_time(ExlogReader *r, uint64_t seq, uint64_t *ret)
{
        _cleanup_free_ char *e = NULL;
        char t[RFC3339_MAX];
        const char *tp;
        size_t size, tlen;
        int k;

        k = exlog_reader_get(r, seq, &e, &size);
        if (k < 0)
                return k;
        if (audit_entry_parse_prefix(e, size, NULL, &tp, &tlen) < 0 || tlen >= sizeof(t))
                return -EBADMSG;
        memcpy(t, tp, tlen);
        t[tlen] = 0;
        return parse_rfc3339(t, ret) < 0 ? -EBADMSG : 0;
}

/* The first seq in [0, size) whose time is >= `when` (size if none). Entry times never decrease. */
static int seq_at_time(ExlogReader *r, uint64_t size, uint64_t when, uint64_t *ret)
{
        uint64_t lo = 0, hi = size;

        while (lo < hi) {
                uint64_t mid = lo + (hi - lo) / 2, t;
                int k = entry_time(r, mid, &t);
                if (k < 0)
                        return k;
                if (t < when)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret = lo;
        return 0;
}

typedef struct Query {
        const char *client, *service, *decision, *xroad_id;
        const char *outcome; /* "ok" (no error) or a problem type's name */
        bool has_status;
        uint64_t status;
        bool raw; /* entries as JSON strings holding the stored bytes */
} Query;

static bool query_filters(const Query *q)
{
        return q->client || q->service || q->decision || q->has_status || q->xroad_id || q->outcome;
}

/* Whether member `key` of `e` is the string `want`. */
static bool entry_string_is(const json_t *e, const char *key, const char *want)
{
        const json_t *v = json_object_get(e, key);

        return json_is_string(v) && streq(json_string_value(v), want);
}

static bool entry_matches(const json_t *e, const Query *q)
{
        const json_t *v;

        if (q->xroad_id && !entry_string_is(e, "xroad_id", q->xroad_id))
                return false;
        if (q->outcome && (streq(q->outcome, "ok") ? json_is_string(json_object_get(e, "error")) /* missing: null */
                                                   : !entry_string_is(e, "error", q->outcome)))
                return false;

        if (q->client &&
            (!(v = json_object_get(e, "client")) || !json_is_string(v) || !streq(json_string_value(v), q->client)))
                return false;
        if (q->service &&
            (!(v = json_object_get(e, "service")) || !json_is_string(v) || !streq(json_string_value(v), q->service)))
                return false;
        if (q->decision &&
            (!(v = json_object_get(e, "decision")) || !json_is_string(v) || !streq(json_string_value(v), q->decision)))
                return false;
        if (q->has_status && (!(v = json_object_get(e, "status")) || !json_is_integer(v) ||
                              json_integer_value(v) != (json_int_t)q->status))
                return false;
        return true;
}

/*
 * Read entry `seq`, and if it passes the filters append it to `out` (with a
 * comma after the first). Return: 1 appended, 0 filtered out, -errno.
 */
static int page_add(ExlogReader *r, uint64_t seq, const Query *q, FILE *out, size_t *n)
{
        _cleanup_free_ char *e = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        size_t size;
        int k;

        k = exlog_reader_get(r, seq, &e, &size);
        if (k < 0)
                return k;
        if (q->raw && !query_filters(q)) {
                /* exports: the bytes exactly as stored, whatever they hold */
                _cleanup_(json_decrefp) json_t *str = json_stringn(e, size);
                _cleanup_free_ char *text = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
                if (!text)
                        fprintf(out, "%s{\"seq\":%" PRIu64 ",\"damaged\":true}", *n ? "," : "", seq);
                else
                        fprintf(out, "%s%s", *n ? "," : "", text);
                (*n)++;
                return 1;
        }
        j = json_loadb(e, size, 0, NULL);
        if (!json_is_object(j)) {
                /* a damaged entry is shown as such, never dropped silently */
                fprintf(out, "%s{\"seq\":%" PRIu64 ",\"damaged\":true}", *n ? "," : "", seq);
                (*n)++;
                return 1;
        }
        if (!entry_matches(j, q))
                return 0;
        if (*n)
                fputc(',', out);
        if (q->raw) {
                _cleanup_(json_decrefp) json_t *str = json_stringn(e, size);
                _cleanup_free_ char *text = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
                if (!text)
                        return -ENOMEM;
                fputs(text, out);
        } else
                fwrite(e, 1, size, out);
        (*n)++;
        return 1;
}

static int finish_page(EndpointResponse *resp, FILE *out, char **buf, size_t *buf_size, bool more, uint64_t next)
{
        if (more)
                fprintf(out, "],\"next_cursor\":%" PRIu64 "}", next);
        else
                fputs("],\"next_cursor\":null}", out);
        if (fclose(out) != 0) {
                *buf = mfree(*buf);
                return -ENOMEM;
        }
        resp->status = 200;
        snprintf(resp->content_type, sizeof(resp->content_type), "application/json");
        resp->body = TAKE_PTR(*buf);
        resp->body_size = *buf_size;
        return 0;
}

static int param(const EndpointRequest *req, const char *name, char **ret, EndpointResponse *resp, bool *bad)
{
        char *v = endpoint_query_param(req->query, name);

        if (v && (strlen(v) > AUDIT_API_PARAM_MAX || !*v)) {
                free(v);
                *bad = true;
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                        "the parameter \"%s\" is empty or longer than %d bytes", name,
                                        AUDIT_API_PARAM_MAX);
        }
        *ret = v;
        return 0;
}

/*
 * A page by subject: the index yields the subject's entries newest first, so
 * walk down from `hi` to `start`, keeping the lowest ones in a ring, then
 * answer them in ascending order. `out` is closed (finished or not) on return.
 */
static int page_by_subject(const EndpointRequest *req, ExlogReader *r, const Query *q, char *subject, uint64_t start,
                           uint64_t hi, uint64_t limit, FILE *out, char **buf, size_t *buf_size, EndpointResponse *resp)
{
        _cleanup_free_ uint64_t *ring = NULL;
        uint8_t pseud[32];
        char hex[PSEUDONYM_HEX_LEN + 1];
        uint64_t chunk[1024], before = hi, walked = 0, cap = AUDIT_API_SCAN_BUDGET, count = 0, last = 0;
        size_t got, n = 0;
        bool overflow = false;
        int k;

        if (!api(req)->pseudonyms) {
                fclose(out);
                return endpoint_problem(resp, PROBLEM_INTERNAL_ERROR, "subject search is not configured");
        }
        k = pseudonym_compute(api(req)->pseudonyms, subject, strlen(subject), hex);
        if (k < 0 || hex_decode(hex, pseud, sizeof(pseud)) < 0) {
                fclose(out);
                return k < 0 ? k : -EINVAL;
        }
        explicit_bzero(subject, strlen(subject));
        ring = malloc(cap * sizeof(*ring));
        if (!ring) {
                fclose(out);
                return -ENOMEM;
        }
        while (before > start) {
                k = exlog_reader_subject(r, pseud, before, chunk, ELEMENTSOF(chunk), &got);
                if (k < 0)
                        goto fail;
                for (size_t i = 0; i < got && chunk[i] >= start; i++) {
                        if (count == cap)
                                overflow = true;
                        ring[count % cap] = chunk[i];
                        count++;
                }
                walked += got;
                if (got < ELEMENTSOF(chunk) || chunk[got - 1] <= start)
                        break;
                before = chunk[got - 1];
                if (walked > AUDIT_API_SUBJECT_WALK_MAX) {
                        fclose(out);
                        return endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                                "this subject has too many entries in the range to page "
                                                "through; narrow it with from and to");
                }
        }
        /* the ring holds the lowest min(count, cap) seqs, newest first, ending at index count-1 */
        {
                uint64_t held = MIN(count, cap);
                uint64_t i;
                for (i = 0; i < held && n < limit; i++) {
                        uint64_t s = ring[(count - 1 - i) % cap];
                        last = s;
                        k = page_add(r, s, q, out, &n);
                        if (k < 0)
                                goto fail;
                }
                if (i < held || overflow)
                        return finish_page(resp, out, buf, buf_size, true,
                                           i < held ? last + 1 : ring[(count - held) % cap] + 1);
                return finish_page(resp, out, buf, buf_size, false, 0);
        }
fail:
        fclose(out);
        return k;
}

static int handle_query(const EndpointRequest *req, ExlogReader *r, EndpointResponse *resp)
{
        _cleanup_free_ char *from = NULL, *to = NULL, *client = NULL, *service = NULL, *status = NULL, *decision = NULL,
                            *subject = NULL, *cursor = NULL, *limit_s = NULL, *raw = NULL, *buf = NULL,
                            *xroad_id = NULL, *outcome = NULL;
        Query q = {};
        ProblemType outcome_type;
        uint64_t size, lo = 0, hi, start = 0, limit = AUDIT_API_LIMIT_DEFAULT, seq;
        size_t buf_size = 0, n = 0;
        bool bad = false;
        FILE *out;
        int k;

        struct {
                const char *name;
                char **value;
        } params[] = {
                { "from", &from },         { "to", &to },
                { "client", &client },     { "service", &service },
                { "status", &status },     { "decision", &decision },
                { "subject", &subject },   { "cursor", &cursor },
                { "limit", &limit_s },     { "raw", &raw },
                { "xroad_id", &xroad_id }, { "outcome", &outcome },
        };
        for (size_t i = 0; i < ELEMENTSOF(params); i++) {
                param(req, params[i].name, params[i].value, resp, &bad);
                if (bad)
                        return 0;
        }
        if (status && parse_u64(status, 100, 599, &q.status) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "status must be an HTTP status code (100-599)");
        q.has_status = status != NULL;
        if (decision && !streq(decision, "allow") && !streq(decision, "deny"))
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "decision must be \"allow\" or \"deny\"");
        q.decision = decision;
        if (outcome && !streq(outcome, "ok") && problem_from_name(outcome, &outcome_type) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "outcome must be \"ok\" or a problem type");
        q.outcome = outcome;
        q.xroad_id = xroad_id;
        if (raw && !streq(raw, "1") && !streq(raw, "0"))
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "raw must be 0 or 1");
        q.raw = raw && streq(raw, "1");
        q.client = client;
        q.service = service;
        if (cursor && parse_u64(cursor, 0, UINT64_MAX, &start) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "cursor must be a sequence number");
        if (limit_s && parse_u64(limit_s, 1, AUDIT_API_LIMIT_MAX, &limit) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "limit must be a number from 1 to %d",
                                        AUDIT_API_LIMIT_MAX);

        k = exlog_reader_size(r, &size);
        if (k < 0)
                return k;
        hi = size;
        if (from) {
                uint64_t t;
                if (parse_rfc3339(from, &t) < 0)
                        return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "from must be an RFC 3339 time");
                k = seq_at_time(r, size, t, &lo);
                if (k < 0)
                        return k;
        }
        if (to) {
                uint64_t t;
                if (parse_rfc3339(to, &t) < 0)
                        return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "to must be an RFC 3339 time");
                k = seq_at_time(r, size, t, &hi);
                if (k < 0)
                        return k;
        }
        start = MAX(start, lo);

        out = open_memstream(&buf, &buf_size);
        if (!out)
                return -ENOMEM;
        fputs("{\"entries\":[", out);

        if (!subject) {
                uint64_t scanned = 0;
                for (seq = start; seq < hi && scanned < AUDIT_API_SCAN_BUDGET && n < limit; seq++, scanned++) {
                        k = page_add(r, seq, &q, out, &n);
                        if (k < 0) {
                                fclose(out);
                                return k;
                        }
                }
                return finish_page(resp, out, &buf, &buf_size, seq < hi, seq);
        }
        return page_by_subject(req, r, &q, subject, start, hi, limit, out, &buf, &buf_size, resp);
}

static int respond_json(EndpointResponse *resp, json_t *j)
{
        return endpoint_json(resp, 200, j);
}

static int handle_entry(const EndpointRequest *req, ExlogReader *r, const char *seq_s, EndpointResponse *resp)
{
        _cleanup_free_ char *e = NULL, *note = NULL, *ts = NULL;
        uint8_t path[MERKLE_PROOF_MAX][MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
        char b64[AUDIT_HASH_B64_LEN + 1];
        uint64_t seq, want = 0, csize;
        size_t size, plen;
        json_t *j;
        int k;

        if (parse_u64(seq_s, 0, UINT64_MAX, &seq) < 0)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no such resource; entries are /audit/entries/SEQ");
        bool bad = false;

        param(req, "tree_size", &ts, resp, &bad);
        if (bad)
                return 0;
        if (ts && parse_u64(ts, 1, UINT64_MAX, &want) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "tree_size must be a positive number");
        k = exlog_reader_get(r, seq, &e, &size);
        if (k == -ENOENT)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "the log has no entry %" PRIu64, seq);
        if (k < 0)
                return k;
        k = exlog_reader_checkpoint(r, want, &note, &csize);
        if (want && (k == -ENOENT || (k == 0 && csize != want)))
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no checkpoint of tree size %" PRIu64, want);
        if (k == -ENOENT)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND,
                                        "no checkpoint covers entry %" PRIu64 " yet; retry after the next checkpoint",
                                        seq);
        if (k < 0)
                return k;
        if (csize <= seq)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND,
                                        "no checkpoint covers entry %" PRIu64 " yet; retry after the next checkpoint",
                                        seq);
        k = exlog_reader_inclusion_proof(r, seq, csize, path, &plen);
        if (k != 0)
                return k < 0 ? k : -EINVAL;
        k = merkle_leaf_hash(e, size, leaf);
        if (k < 0)
                return k;
        j = json_pack("{s:I,s:s%,s:s,s:I,s:o,s:s}", "seq", (json_int_t)seq, "entry", e, size, "leaf_hash",
                      audit_hash_b64(leaf, b64), "tree_size", (json_int_t)csize, "inclusion_proof",
                      audit_proof_json((const uint8_t(*)[32])path, plen), "checkpoint", note);
        return respond_json(resp, j);
}

static int handle_consistency(const EndpointRequest *req, ExlogReader *r, EndpointResponse *resp)
{
        _cleanup_free_ char *from_s = NULL, *to_s = NULL;
        uint8_t path[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
        uint64_t from, to, size;
        size_t plen;
        bool bad = false;
        int k;

        param(req, "from", &from_s, resp, &bad);
        if (!bad)
                param(req, "to", &to_s, resp, &bad);
        if (bad)
                return 0;
        if (!from_s || !to_s || parse_u64(from_s, 0, UINT64_MAX, &from) < 0 || parse_u64(to_s, 0, UINT64_MAX, &to) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "from and to must be tree sizes");
        k = exlog_reader_size(r, &size);
        if (k < 0)
                return k;
        if (from == 0 || from > to || to > size)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST,
                                        "want 1 <= from <= to <= %" PRIu64 " (the log's current size)", size);
        k = exlog_reader_consistency_proof(r, from, to, path, &plen);
        if (k > 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "%s", merkle_strerror(k));
        if (k < 0)
                return k;
        return respond_json(resp, json_pack("{s:I,s:I,s:o}", "from", (json_int_t)from, "to", (json_int_t)to, "proof",
                                            audit_proof_json((const uint8_t(*)[32])path, plen)));
}

static int handle_checkpoint(const EndpointRequest *req, ExlogReader *r, EndpointResponse *resp)
{
        _cleanup_free_ char *size_s = NULL, *note = NULL;
        uint64_t size = 0, csize;
        bool bad = false;
        int k;

        param(req, "size", &size_s, resp, &bad);
        if (bad)
                return 0;
        if (size_s && parse_u64(size_s, 0, UINT64_MAX, &size) < 0)
                return endpoint_problem(resp, PROBLEM_BAD_REQUEST, "size must be a tree size");
        k = exlog_reader_checkpoint(r, size, &note, &csize);
        if (k == -ENOENT) {
                if (size)
                        return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no checkpoint covers %" PRIu64 " entries yet",
                                                size);
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "no checkpoint yet; retry after the next checkpoint");
        }
        if (k < 0)
                return k;
        resp->status = 200;
        snprintf(resp->content_type, sizeof(resp->content_type), "text/plain; charset=utf-8");
        resp->body_size = strlen(note);
        resp->body = TAKE_PTR(note);
        return 0;
}

/* GET /audit/key: the checkpoint verifier key (C2SP vkey), for auditors who did not get it out of band. */
static int handle_key(const EndpointRequest *req, EndpointResponse *resp)
{
        if (!api(req)->log_vkey)
                return endpoint_problem(resp, PROBLEM_NOT_FOUND, "this node does not sign checkpoints");
        resp->status = 200;
        snprintf(resp->content_type, sizeof(resp->content_type), "text/plain; charset=utf-8");
        if (asprintf(&resp->body, "%s\n", api(req)->log_vkey) < 0) {
                resp->body = NULL;
                return -ENOMEM;
        }
        resp->body_size = strlen(resp->body);
        return 0;
}

int audit_api_serve(const EndpointRequest *req, EndpointResponse *resp)
{
        _cleanup_(exlog_reader_closep) ExlogReader *r = NULL;
        const char *p;
        int k;

        if (!strneq(req->path, AUDIT_API_PREFIX, strlen(AUDIT_API_PREFIX)))
                return -EINVAL;
        if (!streq(req->method, "GET"))
                return endpoint_problem(resp, PROBLEM_METHOD_NOT_ALLOWED, "the auditor API is read-only: use GET");
        if (!api(req)->log)
                return -ENODEV;
        k = exlog_reader_new(&r, api(req)->log);
        if (k < 0)
                return k;

        p = req->path + strlen(AUDIT_API_PREFIX);
        if (streq(p, "entries"))
                return handle_query(req, r, resp);
        if (strneq(p, "entries/", 8))
                return handle_entry(req, r, p + 8, resp);
        if (streq(p, "consistency"))
                return handle_consistency(req, r, resp);
        if (streq(p, "checkpoint"))
                return handle_checkpoint(req, r, resp);
        if (streq(p, "key"))
                return handle_key(req, resp);
        return endpoint_problem(resp, PROBLEM_NOT_FOUND,
                                "no such resource; the auditor API has /audit/entries, /audit/entries/SEQ, "
                                "/audit/consistency, /audit/checkpoint and /audit/key");
}

int audit_api_handle(const EndpointRequest *req, EndpointResponse *resp)
{
        if (!req->client)
                return endpoint_problem(resp, PROBLEM_CLIENT_UNKNOWN,
                                        "the auditor API needs a client certificate of a registered auditor");
        if (!(req->client->roles & REGISTRY_ROLE_AUDITOR))
                return endpoint_problem(resp, PROBLEM_ACCESS_DENIED, "\"%s\" is not registered as an auditor",
                                        req->client->id);
        return audit_api_serve(req, resp);
}
