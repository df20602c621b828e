/* cli-consent.c: consent authority commands over the node's /consent/ API */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli-common.h"
#include "cli/cli-consent.h"
#include "cli/cli-exchange.h"
#include "cli/cli-http.h"
#include "cli/cli-table.h"
#include "consent/consent.h"
#include "policy/subject.h"
#include "util/macro.h"
#include "util/time-util.h"

int cli_consent_expiry(const char *text, uint64_t now_usec, char out[32])
{
        const char *digits = text;
        uint64_t v, unit, t;
        size_t n;

        if (isempty(text))
                return -EINVAL;
        if (parse_rfc3339(text, &t) == 0) {
                format_rfc3339(t, out);
                return 0;
        }
        n = strlen(text);
        if (n < 2 || n > 8 || parse_digits(&digits, &v) != (int)n - 1)
                return -EINVAL;
        switch (text[n - 1]) {
        case 's':
                unit = 1;
                break;
        case 'm':
                unit = 60;
                break;
        case 'h':
                unit = 3600;
                break;
        case 'd':
                unit = 86400;
                break;
        default:
                return -EINVAL;
        }
        if (v == 0 || v * unit * USEC_PER_SEC > CONSENT_MAX_VALIDITY_USEC)
                return -EINVAL;
        format_rfc3339(now_usec + v * unit * USEC_PER_SEC, out);
        return 0;
}

/* `label`, then the string member `key` of `j`, sanitised. */
static void put_member(FILE *f, const char *label, json_t *j, const char *key, size_t max)
{
        fputs(label, f);
        cli_put_sanitized(f, json_string_value(json_object_get(j, key)), max);
}

/* A refusal: print it and say so. */
static int refused(FILE *out, long status, json_t *j)
{
        fprintf(out, "refused: %ld", status);
        put_member(out, " ", j, "type", 64);
        put_member(out, ": ", j, "detail", 400);
        fputc('\n', out);
        return CLI_CONSENT_E_REFUSED;
}

int cli_consent_call(const CliConsentTarget *t, const char *method, const char *path, const char *body, long expect,
                     FILE *out, json_t **ret_json, char **ret_error)
{
        const char *authority = t->authority ? t->authority : CLI_CONSENT_DEFAULT_AUTHORITY;
        _cleanup_free_ char *cert = NULL, *key = NULL, *ca = NULL, *url = NULL, *error = NULL;
        _cleanup_(cli_http_response_freep) CliHttpResponse *resp = NULL;
        const char *headers[] = { "Content-Type: application/json", NULL };
        _cleanup_(json_decrefp) json_t *j = NULL;
        size_t blen;
        int r;

        if (isempty(t->state_dir) || isempty(t->base_url) || isempty(path))
                return error_set(ret_error, -EINVAL, "no state folder, URL or path");
        r = cli_exchange_client_files(t->state_dir, authority, &cert, &key);
        if (r < 0)
                return error_set(ret_error, r, "bad authority \"%s\"", authority);
        blen = strlen(t->base_url);
        while (blen && t->base_url[blen - 1] == '/')
                blen--;
        if (asprintf(&ca, "%s/pki/ca.crt", t->state_dir) < 0) {
                ca = NULL;
                return error_set(ret_error, -ENOMEM, "out of memory");
        }
        if (asprintf(&url, "%.*s%s", (int)blen, t->base_url, path) < 0) {
                url = NULL;
                return error_set(ret_error, -ENOMEM, "out of memory");
        }
        {
                const char *need[] = { ca, cert, key };
                for (size_t i = 0; i < ELEMENTSOF(need); i++)
                        if (access(need[i], R_OK) < 0)
                                return error_set(ret_error, -ENOENT,
                                                 "cannot read \"%s\": %m (the authority's demo "
                                                 "certificate; is the state folder right?)",
                                                 need[i]);
        }
        r = cli_http_request(&(CliHttpRequest){ .url = url,
                                                .method = method,
                                                .ca_file = ca,
                                                .cert_file = cert,
                                                .key_file = key,
                                                .headers = body ? headers : NULL,
                                                .body = body,
                                                .body_size = body ? strlen(body) : 0 },
                             &resp, &error);
        if (r != 0)
                return error_set(ret_error, r, "%s: %s", url, error ? error : "request failed");
        j = resp->body_size ? json_loadb(resp->body, resp->body_size, 0, NULL) : NULL;
        if (resp->status != expect || !json_is_object(j))
                return refused(out, resp->status, j);
        *ret_json = TAKE_PTR(j);
        return 0;
}

static void join_strings(json_t *a, char *buf, size_t size)
{
        size_t i, used = 0;
        json_t *v;

        buf[0] = 0;
        json_array_foreach(a, i, v) {
                int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", strempty(json_string_value(v)));
                if (n < 0 || (size_t)n >= size - used)
                        break;
                used += (size_t)n;
        }
}

static void print_record(FILE *out, json_t *j)
{
        char scope[1024], uses[64];
        json_t *mu = json_object_get(j, "max_uses");

        put_member(out, "consent ", j, "id", 200);
        put_member(out, " (", j, "status", 32);
        put_member(out, ")\n  subject     pseudonym ", j, "subject_pseudonym", 80);
        put_member(out, "\n  grantee     ", j, "grantee", 200);
        join_strings(json_object_get(j, "services"), scope, sizeof(scope));
        fprintf(out, "\n  services    ");
        cli_put_sanitized(out, *scope ? scope : "-", sizeof(scope));
        join_strings(json_object_get(j, "categories"), scope, sizeof(scope));
        fprintf(out, "\n  categories  ");
        cli_put_sanitized(out, *scope ? scope : "-", sizeof(scope));
        put_member(out, "\n  purpose     ", j, "purpose", 200);
        put_member(out, "\n  valid       ", j, "valid_from", 40);
        put_member(out, " to ", j, "expires", 40);
        if (json_is_integer(mu))
                snprintf(uses, sizeof(uses), "%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(j, "uses")), json_integer_value(mu));
        else
                snprintf(uses, sizeof(uses), "%" JSON_INTEGER_FORMAT " (no limit)",
                         json_integer_value(json_object_get(j, "uses")));
        fprintf(out, "\n  uses        %s", uses);
        put_member(out, "\n  authority   ", j, "authority", 200);
        put_member(out, " (", j, "source", 16);
        fprintf(out, ")\n");
        if (json_is_string(json_object_get(j, "revoked"))) {
                put_member(out, "  revoked     ", j, "revoked", 40);
                fputc('\n', out);
        }
}

static json_t *strings_json(const char *const *l, size_t n)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_string(l[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

int cli_consent_grant(const CliConsentTarget *t, const CliConsentGrant *g, FILE *out, char **ret_id, char **ret_error)
{
        _cleanup_(json_decrefp) json_t *body = json_object(), *answer = NULL;
        _cleanup_free_ char *text = NULL;
        char expires[32];
        int r;

        if (!body)
                return error_set(ret_error, -ENOMEM, "out of memory");
        if (isempty(g->subject) || isempty(g->grantee) || isempty(g->purpose) || g->n_services + g->n_categories == 0 ||
            g->n_services > CLI_CONSENT_MAX_SCOPE || g->n_categories > CLI_CONSENT_MAX_SCOPE)
                return error_set(ret_error, -EINVAL,
                                 "a consent needs a subject, a grantee, a purpose and at least one "
                                 "service or category");
        if (cli_consent_expiry(g->expires ? g->expires : "30d", now_usec(CLOCK_REALTIME), expires) < 0)
                return error_set(ret_error, -EINVAL,
                                 "--expires wants an RFC 3339 time or a duration like 30d, not \"%s\"", g->expires);
        json_object_set_new(body, "subject", json_string(g->subject));
        json_object_set_new(body, "grantee", json_string(g->grantee));
        if (g->n_services)
                json_object_set_new(body, "services", strings_json(g->services, g->n_services));
        if (g->n_categories)
                json_object_set_new(body, "categories", strings_json(g->categories, g->n_categories));
        json_object_set_new(body, "purpose", json_string(g->purpose));
        if (g->valid_from)
                json_object_set_new(body, "valid_from", json_string(g->valid_from));
        json_object_set_new(body, "expires", json_string(expires));
        if (g->max_uses)
                json_object_set_new(body, "max_uses", json_integer((json_int_t)g->max_uses));
        text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
                return error_set(ret_error, -EINVAL, "the consent cannot be encoded (not UTF-8?)");
        r = cli_consent_call(t, "POST", "/consent/consents", text, 201, out, &answer, ret_error);
        if (r != 0)
                return r;
        fprintf(out, "granted: ");
        print_record(out, answer);
        if (ret_id) {
                const char *id = json_string_value(json_object_get(answer, "id"));
                *ret_id = id ? strdup(id) : NULL;
                if (!*ret_id)
                        return error_set(ret_error, -ENOMEM, "out of memory");
        }
        return 0;
}

static int one_record(const CliConsentTarget *t, const char *method, const char *id, const char *suffix,
                      const char *verb, FILE *out, char **ret_error)
{
        _cleanup_(json_decrefp) json_t *answer = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (!consent_valid_id(id))
                return error_set(ret_error, -EINVAL, "\"%s\" is not a consent id", strempty(id));
        if (asprintf(&path, "/consent/consents/%s%s", id, suffix) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        r = cli_consent_call(t, method, path, NULL, 200, out, &answer, ret_error);
        if (r != 0)
                return r;
        if (verb)
                fprintf(out, "%s: ", verb);
        print_record(out, answer);
        return 0;
}

int cli_consent_revoke(const CliConsentTarget *t, const char *id, FILE *out, char **ret_error)
{
        return one_record(t, "POST", id, "/revoke", "revoked", out, ret_error);
}

int cli_consent_show(const CliConsentTarget *t, const char *id, FILE *out, char **ret_error)
{
        return one_record(t, "GET", id, "", NULL, out, ret_error);
}

int cli_consent_list(const CliConsentTarget *t, const char *subject, FILE *out, char **ret_error)
{
        static const char *const headers[] = { "id", "status", "grantee", "scope", "purpose", "expires", "uses" };
        _cleanup_(json_decrefp) json_t *answer = NULL;
        _cleanup_(cli_table_freep) CliTable *tab = NULL;
        _cleanup_free_ char *path = NULL;
        json_t *items, *v;
        size_t i;
        int r;

        if (!subject || !subject_valid(subject))
                return error_set(ret_error, -EINVAL, "a personal id is [0-9A-Za-z-], 1..64 characters");
        if (asprintf(&path, "/consent/subjects/%s/consents?limit=%d", subject, CONSENT_LIST_MAX) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        r = cli_consent_call(t, "GET", path, NULL, 200, out, &answer, ret_error);
        if (r != 0)
                return r;
        items = json_object_get(answer, "consents");
        if (cli_table_new(&tab, headers, ELEMENTSOF(headers)) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        cli_table_set_max_width(tab, 3, 48);
        json_array_foreach(items, i, v) {
                char scope[1024], cats[512], uses[64];
                json_t *mu = json_object_get(v, "max_uses");
                const char *cells[ELEMENTSOF(headers)];

                join_strings(json_object_get(v, "services"), scope, sizeof(scope));
                join_strings(json_object_get(v, "categories"), cats, sizeof(cats));
                if (*cats)
                        snprintf(scope + strlen(scope), sizeof(scope) - strlen(scope), "%s%s", *scope ? ", " : "",
                                 cats);
                if (json_is_integer(mu))
                        snprintf(uses, sizeof(uses), "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                                 json_integer_value(json_object_get(v, "uses")), json_integer_value(mu));
                else
                        snprintf(uses, sizeof(uses), "%" JSON_INTEGER_FORMAT,
                                 json_integer_value(json_object_get(v, "uses")));
                for (size_t k = 0; k < ELEMENTSOF(cells); k++) /* the columns named as the members */
                        cells[k] = json_string_value(json_object_get(v, headers[k]));
                cells[3] = scope;
                cells[6] = uses;
                if (cli_table_add_row(tab, cells, ELEMENTSOF(cells)) < 0)
                        return error_set(ret_error, -ENOMEM, "out of memory");
        }
        fprintf(out, "%zu consent%s of subject %s\n", json_array_size(items), json_array_size(items) == 1 ? "" : "s",
                subject);
        if (cli_table_rows(tab))
                cli_table_print(tab, out);
        return 0;
}

int cli_subject_accesses(const CliConsentTarget *t, const char *subject, unsigned limit, uint64_t cursor, FILE *out,
                         json_t **ret_json, char **ret_error)
{
        static const char *const headers[] = { "seq",     "time",  "client",  "service",
                                               "purpose", "basis", "consent", "decision" };
        _cleanup_(json_decrefp) json_t *answer = NULL;
        _cleanup_(cli_table_freep) CliTable *tab = NULL;
        _cleanup_free_ char *path = NULL;
        json_t *items, *v, *next;
        size_t i;
        int r;

        if (!subject || !subject_valid(subject))
                return error_set(ret_error, -EINVAL, "a personal id is [0-9A-Za-z-], 1..64 characters");
        if (limit < 1 || limit > 500)
                return error_set(ret_error, -EINVAL, "the limit is 1..500");
        if (cursor == UINT64_MAX)
                r = asprintf(&path, "/consent/subjects/%s/accesses?limit=%u", subject, limit);
        else
                r = asprintf(&path, "/consent/subjects/%s/accesses?limit=%u&cursor=%" PRIu64, subject, limit, cursor);
        if (r < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        r = cli_consent_call(t, "GET", path, NULL, 200, out, &answer, ret_error);
        if (r != 0)
                return r;
        items = json_object_get(answer, "accesses");
        if (cli_table_new(&tab, headers, ELEMENTSOF(headers)) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        cli_table_set_max_width(tab, 6, 24);
        json_array_foreach(items, i, v) {
                char seq[24], decision[96], when[32];
                const char *error = json_string_value(json_object_get(v, "error"));
                const char *time = json_string_value(json_object_get(v, "time"));
                const char *cells[ELEMENTSOF(headers)];

                snprintf(seq, sizeof(seq), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(v, "seq")));
                snprintf(decision, sizeof(decision), "%s %" JSON_INTEGER_FORMAT "%s%s",
                         strempty(json_string_value(json_object_get(v, "decision"))),
                         json_integer_value(json_object_get(v, "status")), error ? " " : "", strempty(error));
                snprintf(when, sizeof(when), "%.19s", strempty(time)); /* to the second */
                if (strlen(when) == 19)
                        when[10] = ' ';
                for (size_t k = 0; k < ELEMENTSOF(cells); k++) /* the columns named as the members */
                        cells[k] = json_string_value(json_object_get(v, headers[k]));
                cells[0] = seq;
                cells[1] = when;
                cells[7] = decision;
                if (cli_table_add_row(tab, cells, ELEMENTSOF(cells)) < 0)
                        return error_set(ret_error, -ENOMEM, "out of memory");
        }
        fprintf(out, "%zu access%s to the data of subject %s, newest first\n", json_array_size(items),
                json_array_size(items) == 1 ? "" : "es", subject);
        if (cli_table_rows(tab))
                cli_table_print(tab, out);
        next = json_object_get(answer, "next_cursor");
        if (json_is_integer(next))
                fprintf(out, "(more: --cursor %" JSON_INTEGER_FORMAT ")\n", json_integer_value(next));
        if (ret_json)
                *ret_json = TAKE_PTR(answer);
        return 0;
}
