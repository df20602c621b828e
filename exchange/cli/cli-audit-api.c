/* cli-audit-api.c: `xbus audit` commands that ask a running node's auditor API (query, show, checkpoint, export) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit-verify.h"
#include "cli/cli-audit-internal.h"
#include "cli/cli-exchange.h"
#include "cli/cli-http.h"
#include "cli/cli-log.h"
#include "cli/cli-node-state.h"
#include "cli/cli-node.h"
#include "cli/cli-receipt.h"
#include "cli/cli-table.h"
#include "log/checkpoint.h"
#include "log/exlog.h"
#include "util/fileio.h"
#include "util/macro.h"

#define RECEIPT_FILE_MAX (64U * 1024)
#define PAGE_LIMIT 1000

/* the key of the long-only option export_option() tells apart from --to-seq (cli-command.h) */
#define OPT_FROM_SEQ CLI_OPTION_LONG

/* --- the API client ------------------------------------------------------ */

typedef struct Api {
        const char *state;
        const char *url;
        const char *auditor;
        const char *cert, *key, *ca; /* as given, or NULL */
        char *cert_path, *key_path, *ca_path;
        char *url_found; /* without --url: the state file's, or the default (cli-node-state.h) */
} Api;

static void api_done(Api *a)
{
        free(a->cert_path);
        free(a->key_path);
        free(a->ca_path);
        free(a->url_found);
}

static int api_prepare(Api *a, char **err)
{
        int r;

        if (a->cert || a->key) {
                if (!a->cert || !a->key)
                        return error_set(err, -EINVAL, "--cert and --cert-key go together");
                a->cert_path = strdup(a->cert);
                a->key_path = strdup(a->key);
                if (!a->cert_path || !a->key_path)
                        return -ENOMEM;
        } else {
                r = cli_exchange_client_files(a->state, a->auditor, &a->cert_path, &a->key_path);
                if (r < 0)
                        return error_set(err, r, "no certificate for auditor \"%s\"", a->auditor);
        }
        if (!a->url) {
                a->url = a->url_found = cli_node_url(a->state, NULL);
                if (!a->url)
                        return -ENOMEM;
        }
        if (a->ca)
                a->ca_path = strdup(a->ca);
        else if (asprintf(&a->ca_path, "%s/pki/ca.crt", a->state) < 0)
                a->ca_path = NULL;
        return a->ca_path ? 0 : -ENOMEM;
}

/*
 * GET `path` (with its query). A 200 answer is returned in *ret; anything else
 * becomes *err ("403 access_denied: ...").
 */
static int api_get(const Api *a, const char *path, CliHttpResponse **ret, char **err)
{
        _cleanup_(cli_http_response_freep) CliHttpResponse *resp = NULL;
        _cleanup_free_ char *url = NULL;
        size_t ul = strlen(a->url);
        int r;

        if (asprintf(&url, "%.*s%s", (int)(ul && a->url[ul - 1] == '/' ? ul - 1 : ul), a->url, path) < 0)
                return -ENOMEM;
        r = cli_http_request(&(CliHttpRequest){ .url = url,
                                                .ca_file = a->ca_path,
                                                .cert_file = a->cert_path,
                                                .key_file = a->key_path },
                             &resp, err);
        if (r != 0)
                return r < 0 ? r : -EIO;
        if (resp->status != 200) {
                _cleanup_(json_decrefp) json_t *p = json_loadb(resp->body, resp->body_size, 0, NULL);
                const char *type = json_string_value(json_object_get(p, "type"));
                const char *detail = json_string_value(json_object_get(p, "detail"));
                _cleanup_free_ char *t = cli_sanitize(type ? type : "error", 64),
                                    *d = cli_sanitize(detail ? detail : resp->body, 400);
                return error_set(err, -EPROTO, "%ld %s: %s", resp->status, strempty(t), strempty(d));
        }
        *ret = TAKE_PTR(resp);
        return 0;
}

static int api_get_json(const Api *a, const char *path, json_t **ret, char **err)
{
        _cleanup_(cli_http_response_freep) CliHttpResponse *resp = NULL;
        json_t *j;
        int r;

        r = api_get(a, path, &resp, err);
        if (r < 0)
                return r;
        j = json_loadb(resp->body, resp->body_size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                return error_set(err, -EPROTO, "the node's answer to %s is not a JSON object", path);
        }
        *ret = j;
        return 0;
}

/* Append "&name=value" (percent-encoded) to *q. */
static int query_add(char **q, const char *name, const char *value)
{
        static const char hex[] = "0123456789ABCDEF";
        _cleanup_free_ char *enc = NULL;
        char *p, *n;

        if (!value)
                return 0;
        enc = malloc(strlen(value) * 3 + 1);
        if (!enc)
                return -ENOMEM;
        p = enc;
        for (const unsigned char *s = (const unsigned char *)value; *s; s++) {
                if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
                    strchr("-._~/:", *s))
                        *p++ = (char)*s;
                else {
                        *p++ = '%';
                        *p++ = hex[*s >> 4];
                        *p++ = hex[*s & 15];
                }
        }
        *p = 0;
        if (asprintf(&n, "%s%s%s=%s", strempty(*q), isempty(*q) ? "" : "&", name, enc) < 0)
                return -ENOMEM;
        free(*q);
        *q = n;
        return 0;
}

/*
 * The options every command of this file takes, listed first in their help;
 * stored in the Api that each command's argument struct starts with.
 */
static const CliOption api_options[] = {
        CLI_STRING('s', "state", "DIR", "state folder of the node (default ./state): demo certificates and CA", Api,
                   state),
        CLI_STRING('u', "url", "URL", "the node (default: where `xbus up` started it, else " CLI_NODE_DEFAULT_URL ")",
                   Api, url),
        CLI_STRING('a', "auditor", "ID",
                   "auditor subsystem whose demo certificate is used (default " CLI_AUDIT_DEFAULT_AUDITOR ")", Api,
                   auditor),
        CLI_STRING(0, "cert", "FILE", "client certificate (PEM) instead of the demo one; with --cert-key FILE", Api,
                   cert),
        CLI_STRING(0, "cert-key", "FILE", NULL, Api, key),
        CLI_STRING(0, "ca", "FILE", "CA certificate the node's must chain to (default STATE/pki/ca.crt)", Api, ca),
        {},
};

static Api api_defaults(void)
{
        return (Api){ .state = CLI_NODE_DEFAULT_STATE, .auditor = CLI_AUDIT_DEFAULT_AUDITOR };
}

/* --- query ------------------------------------------------------------------ */

typedef struct QueryArgs {
        Api api; /* first: api_options store there */
        const char *from, *to, *client, *service, *status, *decision, *subject, *limit; /* as given, or NULL */
        uint64_t cursor;
        bool all, json;
} QueryArgs;

static int query_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        QueryArgs *a = userdata;
        uint64_t v;

        if (key != 'n') { /* --cursor */
                if (parse_u64(arg, 0, UINT64_MAX, &a->cursor) < 0)
                        return cli_command_usage_error(c, "--cursor wants a sequence number");
        } else if (parse_u64(arg, 1, PAGE_LIMIT, &v) < 0)
                return cli_command_usage_error(c, "--limit must be a number from 1 to %d", PAGE_LIMIT);
        else
                a->limit = arg;
        return 0;
}

static int print_page(json_t *page, CliTable *t, bool json, uint64_t *count)
{
        json_t *entries = json_object_get(page, "entries"), *e;
        size_t i;

        if (!json_is_array(entries))
                return -EPROTO;
        json_array_foreach(entries, i, e) {
                if (json) {
                        _cleanup_free_ char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
                        if (!s)
                                return -ENOMEM;
                        printf("%s\n", s);
                } else if (cli_log_table_add(t, e) < 0)
                        return -E2BIG;
                (*count)++;
        }
        return 0;
}

/* Fetch and print the pages (one, or all with --all); the count and where to go on on stderr. */
static int query_pages(QueryArgs *a, const char *base, char **err)
{
        _cleanup_(cli_table_freep) CliTable *t = NULL;
        uint64_t count = 0, cursor = a->cursor;
        bool more = true;
        int r;

        if (!a->json && cli_log_table_new(&t) < 0)
                return -ENOMEM;
        while (more) {
                _cleanup_(json_decrefp) json_t *page = NULL;
                _cleanup_free_ char *path = NULL;
                json_t *nc;

                if (asprintf(&path, "/audit/entries?%s%scursor=%" PRIu64, strempty(base), isempty(base) ? "" : "&",
                             cursor) < 0)
                        return -ENOMEM;
                r = api_get_json(&a->api, path, &page, err);
                if (r < 0)
                        return r;
                r = print_page(page, t, a->json, &count);
                if (r < 0)
                        return r;
                nc = json_object_get(page, "next_cursor");
                more = json_is_integer(nc) && json_integer_value(nc) >= 0;
                if (more)
                        cursor = (uint64_t)json_integer_value(nc);
                if (!a->all || count >= CLI_AUDIT_MAX_ENTRIES)
                        break;
        }
        if (t)
                cli_table_print(t, stdout);
        if (more)
                fprintf(stderr, "%" PRIu64 " entries; more with --cursor %" PRIu64 "\n", count, cursor);
        else
                fprintf(stderr, "%" PRIu64 " entries\n", count);
        return 0;
}

static int cmd_query(const CliCommand *c, int argc, char **argv)
{
        QueryArgs a = { .api = api_defaults() };
        _cleanup_free_ char *err = NULL, *base = NULL;
        int r;

        r = cli_command_parse(c, &argc, &argv, query_option, &a);
        if (r != CLI_CONTINUE)
                return r;
        if (a.decision && !streq(a.decision, "allow") && !streq(a.decision, "deny"))
                return cli_command_usage_error(c, "--decision is allow or deny");
        r = api_prepare(&a.api, &err);
        if (r >= 0 && (query_add(&base, "from", a.from) < 0 || query_add(&base, "to", a.to) < 0 ||
                       query_add(&base, "client", a.client) < 0 || query_add(&base, "service", a.service) < 0 ||
                       query_add(&base, "status", a.status) < 0 || query_add(&base, "decision", a.decision) < 0 ||
                       query_add(&base, "subject", a.subject) < 0 || query_add(&base, "limit", a.limit) < 0))
                r = -ENOMEM;
        if (r >= 0)
                r = query_pages(&a, base, &err);
        api_done(&a.api);
        if (r < 0)
                return cli_command_failure(c, "%s", err ? err : strerror(-r));
        return EXIT_SUCCESS;
}

static const CliOption query_options[] = {
        CLI_STRING(0, "from", "TIME", "entries at or after this RFC 3339 time", QueryArgs, from),
        CLI_STRING(0, "to", "TIME", "entries before this time", QueryArgs, to),
        CLI_STRING(0, "client", "ID", "client subsystem", QueryArgs, client),
        CLI_STRING(0, "service", "ID", "service", QueryArgs, service),
        CLI_STRING(0, "status", "N", "HTTP status answered", QueryArgs, status),
        CLI_STRING(0, "decision", "D", "allow or deny", QueryArgs, decision),
        CLI_STRING(0, "subject", "ID", "the data subject's personal id (the node searches by its pseudonym)", QueryArgs,
                   subject),
        { 0, "cursor", "SEQ", "continue from this sequence number (printed after a page)" },
        { 'n', "limit", "N", "entries per page (1..1000, default 100)" },
        CLI_FLAG(0, "all", "follow the cursor to the end", QueryArgs, all),
        CLI_FLAG('j', "json", "print the entries as JSON Lines", QueryArgs, json),
        {},
};

const CliCommand cli_audit_query = {
        .name = "xbus audit query",
        .summary = "query the log through the auditor API (filters, paging)",
        .description = "Query the exchange log through the node's auditor API (mutual TLS, auditor role).\n",
        .common_options = api_options,
        .options = query_options,
        .epilogue = "Example:\n"
                    "  xbus audit query --client VN/GOV/BYT/health-services --decision allow --limit 20\n",
        .run = cmd_query,
};

/* --- show -------------------------------------------------------------------- */

typedef struct ShowArgs {
        Api api;                                   /* first: api_options store there */
        uint64_t tree_size;                        /* 0: the latest */
        const char *receipt, *bundle, *vkey, *jwk; /* as given, or NULL */
} ShowArgs;

static int show_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        ShowArgs *a = userdata;

        if (parse_u64(arg, 1, UINT64_MAX, &a->tree_size) < 0) /* --tree-size */
                return cli_command_usage_error(c, "--tree-size wants a positive number");
        return 0;
}

/* Print text line by line, each sanitised (entries and notes come from the node). */
static void print_lines(const char *text)
{
        const char *p = text;

        while (p && *p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                _cleanup_free_ char *line = strndup(p, n), *safe = line ? cli_sanitize(line, 64 * 1024) : NULL;
                printf("%s\n", strempty(safe));
                p = nl ? nl + 1 : NULL;
        }
}

static int read_receipt(const char *arg, char **ret)
{
        size_t n;
        int r;

        if (arg[0] != '@') {
                *ret = strdup(arg);
                return *ret ? 0 : -ENOMEM;
        }
        r = read_full_file(arg + 1, RECEIPT_FILE_MAX, ret, &n);
        while (r >= 0 && n > 0 && ((*ret)[n - 1] == '\n' || (*ret)[n - 1] == '\r' || (*ret)[n - 1] == ' '))
                (*ret)[--n] = 0;
        return r;
}

static int write_file(const char *path, const char *text)
{
        FILE *f = streq(path, "-") ? stdout : fopen(path, "we");
        int r = 0;

        if (!f)
                return -errno;
        if (fputs(text, f) == EOF || fputc('\n', f) == EOF)
                r = -EIO;
        if (f != stdout && fclose(f) != 0)
                r = -EIO;
        return r;
}

/*
 * GET /audit/entries/SEQ: the node's answer in *ret_j (its tree_size in
 * a->tree_size) and the proof bundle made of it (with `receipt`, if any) as
 * JSON text in *ret_bundle.
 */
static int show_fetch(ShowArgs *a, uint64_t seq, const char *receipt, json_t **ret_j, char **ret_bundle,
                      size_t *ret_plen, char **err)
{
        _cleanup_(json_decrefp) json_t *j = NULL, *bundle = NULL;
        uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
        _cleanup_free_ char *path = NULL;
        json_t *entry;
        size_t plen;
        int r;

        if ((a->tree_size ? asprintf(&path, "/audit/entries/%" PRIu64 "?tree_size=%" PRIu64, seq, a->tree_size)
                          : asprintf(&path, "/audit/entries/%" PRIu64, seq)) < 0)
                return -ENOMEM;
        r = api_get_json(&a->api, path, &j, err);
        if (r < 0)
                return r;
        entry = json_object_get(j, "entry");
        if (!json_is_string(entry) || !json_is_string(json_object_get(j, "checkpoint")) ||
            audit_proof_parse(json_object_get(j, "inclusion_proof"), proof, &plen) < 0)
                return error_set(err, -EPROTO, "the node's answer is not an entry with its proof");
        a->tree_size = (uint64_t)json_integer_value(json_object_get(j, "tree_size"));
        bundle = audit_bundle_new(seq, json_string_value(entry), json_string_length(entry), a->tree_size,
                                  (const uint8_t(*)[MERKLE_HASH_LEN])proof, plen,
                                  json_string_value(json_object_get(j, "checkpoint")), receipt);
        *ret_bundle = bundle ? json_dumps(bundle, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (!*ret_bundle)
                return -ENOMEM;
        *ret_plen = plen;
        *ret_j = TAKE_PTR(j);
        return 0;
}

/* The entry (pretty-printed when it is JSON), its leaf hash, proof length and checkpoint. */
static void show_print(uint64_t seq, const json_t *j, size_t plen, uint64_t tree_size)
{
        const char *text = json_string_value(json_object_get(j, "entry"));
        _cleanup_(json_decrefp) json_t *entry =
                json_loadb(text, json_string_length(json_object_get(j, "entry")), 0, NULL);
        _cleanup_free_ char *entry_s = entry ? json_dumps(entry, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL,
                            *lh = cli_sanitize(json_string_value(json_object_get(j, "leaf_hash")), 64);

        printf("entry %" PRIu64 ":\n", seq);
        print_lines(entry_s ? entry_s : text);
        printf("\nleaf hash: %s\ninclusion proof: %zu hashes, in the tree of %" PRIu64 " entries\n"
               "checkpoint:\n",
               strempty(lh), plen, tree_size);
        print_lines(json_string_value(json_object_get(j, "checkpoint")));
}

static int cmd_show(const CliCommand *c, int argc, char **argv)
{
        ShowArgs a = { .api = api_defaults() };
        _cleanup_free_ char *err = NULL, *receipt = NULL, *bundle_text = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL, *jwk = NULL;
        _cleanup_(checkpoint_verifier_freep) CheckpointVerifier *v = NULL;
        uint64_t seq;
        size_t plen = 0;
        int r;

        r = cli_command_parse(c, &argc, &argv, show_option, &a);
        if (r != CLI_CONTINUE)
                return r;
        if (argc != 1 || parse_u64(argv[0], 0, UINT64_MAX, &seq) < 0)
                return cli_command_usage_error(c, "which SEQ (one sequence number)?");
        if (a.receipt && (r = read_receipt(a.receipt, &receipt)) < 0)
                return cli_command_usage_error(c, "cannot read the receipt \"%s\": %s", a.receipt, strerror(-r));
        if (a.vkey && (r = audit_verifier_load(a.vkey, &v, &err)) != 0)
                return cli_command_usage_error(c, "%s", strempty(err));
        if (a.jwk && cli_receipt_load_jwk(a.jwk, &jwk, &err) != 0)
                return cli_command_usage_error(c, "%s", strempty(err));
        r = api_prepare(&a.api, &err);
        if (r >= 0)
                r = show_fetch(&a, seq, receipt, &j, &bundle_text, &plen, &err);
        api_done(&a.api);
        if (r < 0)
                return cli_command_failure(c, "%s", err ? err : strerror(-r));

        show_print(seq, j, plen, a.tree_size);
        if (a.bundle) {
                r = write_file(a.bundle, bundle_text);
                if (r < 0)
                        return cli_command_failure(c, "cannot write \"%s\": %s", a.bundle, strerror(-r));
                printf("\nproof bundle written to %s%s\n", a.bundle, receipt ? " (with the receipt)" : "");
        }
        if (v) {
                AuditReport rep;
                r = audit_verify_bundle(bundle_text, strlen(bundle_text),
                                        &(AuditBundleOptions){ .verifier = v, .receipt_jwk = jwk }, &rep);
                printf("\n");
                if (cli_audit_report("proof", r, &rep, 0) != EXIT_SUCCESS)
                        return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

static const CliOption show_options[] = {
        { 0, "tree-size", "N", "prove against the checkpoint of exactly N entries (default: the latest)" },
        CLI_STRING(0, "receipt", "JWS", "the exchange's X-Bus-Receipt to put in the bundle (@FILE reads a file)",
                   ShowArgs, receipt),
        CLI_STRING('b', "bundle", "FILE", "write the proof bundle (JSON) to FILE", ShowArgs, bundle),
        CLI_STRING(0, "vkey", "VKEY", "also verify the proof now (VKEY or @FILE, see `xbus audit key`)", ShowArgs,
                   vkey),
        CLI_STRING(0, "jwk", "FILE", "the node's signing.jwk, to verify the receipt now", ShowArgs, jwk),
        {},
};

const CliCommand cli_audit_show = {
        .name = "xbus audit show",
        .summary = "one entry with its inclusion proof; write a proof bundle",
        .usage = "[OPTIONS] SEQ",
        .description = "Fetch entry SEQ with its inclusion proof and the checkpoint it is proven against; "
                       "optionally\n"
                       "write a proof bundle that a third party verifies offline with `xbus audit "
                       "verify-proof`.\n",
        .common_options = api_options,
        .options = show_options,
        .epilogue = "Example:\n"
                    "  xbus audit show 42 --receipt @receipt.jws --bundle proof-42.json\n",
        .operands = true,
        .run = cmd_show,
};

/* --- checkpoint ---------------------------------------------------------------- */

typedef struct CheckpointArgs {
        Api api;       /* first: api_options store there */
        uint64_t size; /* 0: the latest */
        const char *out;
} CheckpointArgs;

static int checkpoint_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        CheckpointArgs *a = userdata;

        if (parse_u64(arg, 0, UINT64_MAX, &a->size) < 0) /* --size */
                return cli_command_usage_error(c, "--size wants a number");
        return 0;
}

static int checkpoint_fetch(CheckpointArgs *a, char **err)
{
        _cleanup_(cli_http_response_freep) CliHttpResponse *resp = NULL;
        _cleanup_free_ char *path = NULL;
        FILE *f;
        int r;

        if (asprintf(&path, "/audit/checkpoint?size=%" PRIu64, a->size) < 0)
                return -ENOMEM;
        r = api_get(&a->api, path, &resp, err);
        if (r < 0)
                return r;
        f = streq(a->out, "-") ? stdout : fopen(a->out, "we");
        if (!f || fwrite(resp->body, 1, resp->body_size, f) != resp->body_size || (f != stdout && fclose(f) != 0))
                return error_set(err, -EIO, "cannot write \"%s\"", a->out);
        return 0;
}

static int cmd_checkpoint(const CliCommand *c, int argc, char **argv)
{
        CheckpointArgs a = { .api = api_defaults(), .out = "-" };
        _cleanup_free_ char *err = NULL;
        int r;

        r = cli_command_parse(c, &argc, &argv, checkpoint_option, &a);
        if (r != CLI_CONTINUE)
                return r;
        r = api_prepare(&a.api, &err);
        if (r >= 0)
                r = checkpoint_fetch(&a, &err);
        api_done(&a.api);
        if (r < 0)
                return cli_command_failure(c, "%s", err ? err : strerror(-r));
        return EXIT_SUCCESS;
}

static const CliOption checkpoint_options[] = {
        { 0, "size", "N", "the first checkpoint covering N entries instead of the latest" },
        CLI_STRING('o', "out", "FILE", "write it to FILE (default: standard output)", CheckpointArgs, out),
        {},
};

const CliCommand cli_audit_checkpoint = {
        .name = "xbus audit checkpoint",
        .summary = "fetch the latest signed checkpoint",
        .description = "Fetch the node's latest signed checkpoint (a C2SP signed note). Keep it: a later\n"
                       "`xbus audit verify --checkpoint` or `verify-export --checkpoint` proves the log still "
                       "holds\n"
                       "what it committed to.\n",
        .common_options = api_options,
        .options = checkpoint_options,
        .run = cmd_checkpoint,
};

/* --- export ----------------------------------------------------------------------- */

/* Where an export's content comes from: the API, or a log folder read directly. */
typedef struct Source {
        Api *api;
        ExlogReader *reader;
} Source;

static int src_checkpoint(Source *s, char **ret_note, uint64_t *ret_size, char **err)
{
        if (s->reader) {
                int r = exlog_reader_checkpoint(s->reader, 0, ret_note, ret_size);
                if (r == -ENOENT)
                        return error_set(err, r, "the log has no checkpoint yet");
                return r;
        } else {
                _cleanup_(cli_http_response_freep) CliHttpResponse *resp = NULL;
                _cleanup_(checkpoint_freep) Checkpoint *c = NULL;
                int r = api_get(s->api, "/audit/checkpoint", &resp, err);
                if (r < 0)
                        return r;
                if (checkpoint_parse(resp->body, resp->body_size, &c) != 0)
                        return error_set(err, -EPROTO, "the node's checkpoint is not a signed note");
                *ret_note = strndup(resp->body, resp->body_size);
                *ret_size = c->size;
                return *ret_note ? 0 : -ENOMEM;
        }
}

static int src_consistency(Source *s, uint64_t a, uint64_t b, uint8_t (*proof)[MERKLE_HASH_LEN], size_t *plen,
                           char **err)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (s->reader) {
                r = exlog_reader_consistency_proof(s->reader, a, b, proof, plen);
                return r > 0 ? -EINVAL : r;
        }
        if (asprintf(&path, "/audit/consistency?from=%" PRIu64 "&to=%" PRIu64, a, b) < 0)
                return -ENOMEM;
        r = api_get_json(s->api, path, &j, err);
        if (r < 0)
                return r;
        if (audit_proof_parse(json_object_get(j, "proof"), proof, plen) < 0)
                return error_set(err, -EPROTO, "the node's consistency proof is malformed");
        return 0;
}

/* Write entries [start, end) (from 0: no proofs; else each with its proof in the tree of `size`). */
static int src_write_entries(Source *s, FILE *out, uint64_t start, uint64_t end, uint64_t size, char **err)
{
        uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
        size_t plen = 0;
        int r;

        if (s->reader) {
                for (uint64_t seq = start; seq < end; seq++) {
                        _cleanup_free_ char *e = NULL;
                        size_t n;
                        r = exlog_reader_get(s->reader, seq, &e, &n);
                        if (r == -ENOENT) {
                                /* a hole in the log: the export shows it (its verification will name it) */
                                continue;
                        }
                        if (r < 0)
                                return r;
                        if (start > 0 && (r = exlog_reader_inclusion_proof(s->reader, seq, size, proof, &plen)) != 0)
                                return r < 0 ? r : -EINVAL;
                        r = audit_export_write_line(out, seq, e, n, start > 0 ? (const uint8_t(*)[32])proof : NULL,
                                                    plen);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (start > 0) {
                /* one request per entry: each carries its own proof */
                for (uint64_t seq = start; seq < end; seq++) {
                        _cleanup_(json_decrefp) json_t *j = NULL;
                        _cleanup_free_ char *path = NULL;
                        json_t *e;
                        if (asprintf(&path, "/audit/entries/%" PRIu64 "?tree_size=%" PRIu64, seq, size) < 0)
                                return -ENOMEM;
                        r = api_get_json(s->api, path, &j, err);
                        if (r < 0)
                                return r;
                        e = json_object_get(j, "entry");
                        if (!json_is_string(e) ||
                            audit_proof_parse(json_object_get(j, "inclusion_proof"), proof, &plen) < 0)
                                return error_set(err, -EPROTO, "the node's answer for entry %" PRIu64 " is malformed",
                                                 seq);
                        r = audit_export_write_line(out, seq, json_string_value(e), json_string_length(e),
                                                    (const uint8_t(*)[32])proof, plen);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        for (uint64_t cursor = 0; cursor < end;) {
                _cleanup_(json_decrefp) json_t *page = NULL;
                _cleanup_free_ char *path = NULL;
                json_t *entries, *e, *nc;
                size_t i;

                if (asprintf(&path, "/audit/entries?raw=1&limit=%d&cursor=%" PRIu64, PAGE_LIMIT, cursor) < 0)
                        return -ENOMEM;
                r = api_get_json(s->api, path, &page, err);
                if (r < 0)
                        return r;
                entries = json_object_get(page, "entries");
                if (!json_is_array(entries))
                        return -EPROTO;
                json_array_foreach(entries, i, e) {
                        uint64_t seq = cursor + i;
                        if (seq >= end)
                                break;
                        if (!json_is_string(e))
                                continue; /* a damaged entry the node could not send: a hole in the export */
                        r = audit_export_write_line(out, seq, json_string_value(e), json_string_length(e), NULL, 0);
                        if (r < 0)
                                return r;
                }
                nc = json_object_get(page, "next_cursor");
                if (!json_is_integer(nc) || (uint64_t)json_integer_value(nc) <= cursor)
                        break;
                cursor = (uint64_t)json_integer_value(nc);
        }
        return 0;
}

typedef struct ExportArgs {
        Api api;           /* first: api_options store there */
        uint64_t from, to; /* [from, to): to is UINT64_MAX when not given (has_to) */
        const char *out;
        bool offline, has_to;
} ExportArgs;

static int export_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        ExportArgs *a = userdata;

        if (key == OPT_FROM_SEQ) {
                if (parse_u64(arg, 0, UINT64_MAX, &a->from) < 0)
                        return cli_command_usage_error(c, "--from-seq wants a sequence number");
        } else if (parse_u64(arg, 0, UINT64_MAX, &a->to) < 0) /* --to-seq */
                return cli_command_usage_error(c, "--to-seq wants a sequence number");
        else
                a->has_to = true;
        return 0;
}

/* What an export holds besides its entries: the checkpoint, and the consistency proof to it. */
typedef struct ExportPlan {
        char *note; /* the checkpoint's signed note */
        Checkpoint *cp;
        uint64_t size; /* the checkpoint's tree size */
        bool has_proof;
        uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
        size_t plen;
} ExportPlan;

static void export_plan_done(ExportPlan *p)
{
        p->note = mfree(p->note);
        p->cp = checkpoint_free(p->cp);
}

/* The latest checkpoint, the range cut to what it (and an offline store) holds, and the proof. */
static int export_plan(Source *src, ExportArgs *a, ExportPlan *p, char **err)
{
        int r;

        r = src_checkpoint(src, &p->note, &p->size, err);
        if (r < 0)
                return r;
        r = checkpoint_parse(p->note, strlen(p->note), &p->cp);
        if (r != 0)
                return r < 0 ? r : -EPROTO;
        if (a->to > p->size) {
                if (a->has_to)
                        fprintf(stderr,
                                "xbus audit export: the latest checkpoint covers %" PRIu64
                                " entries: exporting up to there\n",
                                p->size);
                a->to = p->size;
        }
        if (src->reader) {
                uint64_t have;
                r = exlog_reader_size(src->reader, &have);
                if (r < 0)
                        return r;
                if (have < a->to) {
                        /* the store holds less than its own checkpoint: export what is there */
                        fprintf(stderr,
                                "xbus audit export: the log holds only %" PRIu64
                                " entries, fewer than its checkpoint's %" PRIu64 "\n",
                                have, p->size);
                        a->to = have;
                }
        }
        if (a->from > a->to)
                return error_set(err, -EINVAL, "--from-seq %" PRIu64 " is beyond the checkpoint's %" PRIu64 " entries",
                                 a->from, p->size);
        p->has_proof = a->from == 0 && a->to < p->size && a->to > 0;
        if (p->has_proof) {
                r = src_consistency(src, a->to, p->size, p->proof, &p->plen, err);
                if (r < 0 && src->reader) {
                        /* no proof to be had from this store: the export shows the gap as it is */
                        fprintf(stderr,
                                "xbus audit export: no consistency proof from %" PRIu64 " to %" PRIu64
                                " entries (%s): the export will not verify\n",
                                a->to, p->size, strerror(-r));
                        p->plen = 0;
                        *err = mfree(*err);
                        p->has_proof = false;
                } else if (r < 0)
                        return r;
        }
        return 0;
}

static int export_write(Source *src, const ExportArgs *a, const ExportPlan *p, char **err)
{
        FILE *out = streq(a->out, "-") ? stdout : fopen(a->out, "we");
        int r;

        if (!out)
                return error_set(err, -errno, "cannot write \"%s\": %m", a->out);
        r = audit_export_write_header(out, p->cp->origin, a->from, a->to, p->note,
                                      p->has_proof ? (const uint8_t(*)[32])p->proof : NULL, p->plen);
        if (r >= 0)
                r = src_write_entries(src, out, a->from, a->to, p->size, err);
        if (out != stdout && fclose(out) != 0 && r >= 0)
                r = -EIO;
        return r;
}

static int cmd_export(const CliCommand *c, int argc, char **argv)
{
        ExportArgs a = { .api = api_defaults(), .to = UINT64_MAX };
        _cleanup_(exlog_reader_closep) ExlogReader *reader = NULL;
        _cleanup_(export_plan_done) ExportPlan plan = {};
        _cleanup_free_ char *err = NULL;
        Source src = { .api = &a.api };
        int r;

        r = cli_command_parse(c, &argc, &argv, export_option, &a);
        if (r != CLI_CONTINUE)
                return r;
        if (!a.out)
                return cli_command_usage_error(c, "--out is required");
        if (a.has_to && a.to < a.from)
                return cli_command_usage_error(c, "--to-seq is before --from-seq");
        if (a.offline) {
                r = cli_log_open(a.api.state, &reader, &err);
                src.reader = reader;
        } else
                r = api_prepare(&a.api, &err);
        if (r >= 0)
                r = export_plan(&src, &a, &plan, &err);
        if (r >= 0)
                r = export_write(&src, &a, &plan, &err);
        api_done(&a.api);
        if (r < 0)
                return cli_command_failure(c, "%s", err ? err : strerror(-r));
        fprintf(stderr,
                "exported entries %" PRIu64 "..%" PRIu64 " with the checkpoint of %" PRIu64 " entries (%s) to %s\n",
                a.from, a.to ? a.to - 1 : 0, plan.size, plan.cp->origin, a.out);
        return EXIT_SUCCESS;
}

static const CliOption export_options[] = {
        CLI_FLAG(0, "offline", "read STATE/log directly instead of the API (on the node)", ExportArgs, offline),
        { OPT_FROM_SEQ, "from-seq", "A", "first entry (default 0)" },
        { 0, "to-seq", "B", "end (exclusive; default and at most: the checkpoint's size)" },
        CLI_STRING('o', "out", "FILE", "where to write (- for standard output)", ExportArgs, out),
        {},
};

const CliCommand cli_audit_export = {
        .name = "xbus audit export",
        .summary = "export entries as JSON Lines with their checkpoint",
        .usage = "[OPTIONS] --out FILE",
        .description = "Export log entries as JSON Lines with the checkpoint that covers them, for offline\n"
                       "verification (`xbus audit verify-export`). The first line holds the checkpoint; each other\n"
                       "line {\"seq\":N,\"entry\":\"<the stored bytes>\"}. An export from 0 that ends before the\n"
                       "checkpoint carries the consistency proof to it; one that starts later carries an inclusion\n"
                       "proof per entry (and through the API costs one request per entry).\n",
        .common_options = api_options,
        .options = export_options,
        .epilogue = "Example:\n"
                    "  xbus audit export --out log-2026-11.jsonl\n",
        .run = cmd_export,
};
