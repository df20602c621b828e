/* cli-audit.c: `xbus audit`: the auditor API client, exports, and offline verification */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "audit/audit-verify.h"
#include "cli/cli-audit.h"
#include "cli/cli-common.h"
#include "cli/cli-exchange.h"
#include "cli/cli-http.h"
#include "cli/cli-log.h"
#include "cli/cli-node.h"
#include "cli/cli-receipt.h"
#include "cli/cli-table.h"
#include "log/checkpoint.h"
#include "log/exlog.h"
#include "util/macro.h"

#define DEFAULT_ORIGIN "xbus.local"
#define RECEIPT_FILE_MAX (64U * 1024)
#define PAGE_LIMIT 1000

static int usage_error(const char *sub, const char *fmt, ...) _printf_(2, 3);
static int usage_error(const char *sub, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = cli_vusage_error("xbus audit", sub, fmt, ap);
        va_end(ap);
        return r;
}

static int failure(const char *sub, const char *fmt, ...) _printf_(2, 3);
static int failure(const char *sub, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "xbus audit %s: ", sub);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_FAILURE;
}

static double now_seconds(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the API client ------------------------------------------------------ */

typedef struct Api {
        const char *state;
        const char *url;
        const char *auditor;
        const char *cert, *key, *ca; /* as given, or NULL */
        char *cert_path, *key_path, *ca_path;
} Api;

static void api_done(Api *a)
{
        free(a->cert_path);
        free(a->key_path);
        free(a->ca_path);
}

static int api_prepare(Api *a, char **err)
{
        int r;

        if (a->cert || a->key) {
                if (!a->cert || !a->key)
                        return asprintf(err, "--cert and --cert-key go together") < 0 ? -ENOMEM : -EINVAL;
                a->cert_path = strdup(a->cert);
                a->key_path = strdup(a->key);
                if (!a->cert_path || !a->key_path)
                        return -ENOMEM;
        } else {
                r = cli_exchange_client_files(a->state, a->auditor, &a->cert_path, &a->key_path);
                if (r < 0)
                        return asprintf(err, "no certificate for auditor \"%s\"", a->auditor) < 0 ? -ENOMEM : r;
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
                if (asprintf(err, "%ld %s: %s", resp->status, strempty(t), strempty(d)) < 0)
                        *err = NULL;
                return -EPROTO;
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
                return asprintf(err, "the node's answer to %s is not a JSON object", path) < 0 ? -ENOMEM : -EPROTO;
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

/* Options every online subcommand takes. */
#define API_OPTIONS                                                                                     \
        { "state", required_argument, NULL, 's' }, { "url", required_argument, NULL, 'u' },             \
                { "auditor", required_argument, NULL, 'a' }, { "cert", required_argument, NULL, 1001 }, \
                { "cert-key", required_argument, NULL, 1002 },                                          \
        {                                                                                               \
                "ca", required_argument, NULL, 1003                                                     \
        }

static bool api_option(Api *a, int opt)
{
        switch (opt) {
        case 's':
                a->state = optarg;
                return true;
        case 'u':
                a->url = optarg;
                return true;
        case 'a':
                a->auditor = optarg;
                return true;
        case 1001:
                a->cert = optarg;
                return true;
        case 1002:
                a->key = optarg;
                return true;
        case 1003:
                a->ca = optarg;
                return true;
        default:
                return false;
        }
}

#define API_HELP                                                                                         \
        "  -s, --state DIR     state folder of the node (default ./state): demo certificates and CA\n"   \
        "  -u, --url URL       the node (default " CLI_NODE_DEFAULT_URL ")\n"                            \
        "  -a, --auditor ID    auditor subsystem whose demo certificate is used "                        \
        "(default " CLI_AUDIT_DEFAULT_AUDITOR ")\n"                                                      \
        "      --cert FILE     client certificate (PEM) instead of the demo one; with --cert-key FILE\n" \
        "      --ca FILE       CA certificate the node's must chain to (default STATE/pki/ca.crt)\n"

static Api api_defaults(void)
{
        return (Api){ .state = CLI_NODE_DEFAULT_STATE,
                      .url = CLI_NODE_DEFAULT_URL,
                      .auditor = CLI_AUDIT_DEFAULT_AUDITOR };
}

/* --- keys ------------------------------------------------------------------ */

/* The origin of the latest stored checkpoint of STATE/log, or NULL. */
static char *log_origin(const char *state)
{
        _cleanup_(exlog_reader_closep) ExlogReader *r = NULL;
        _cleanup_(audit_checkpoint_freep) Checkpoint *c = NULL;
        _cleanup_free_ char *note = NULL;
        uint64_t size;

        if (cli_log_open(state, &r, NULL) < 0 || exlog_reader_checkpoint(r, 0, &note, &size) < 0 ||
            checkpoint_parse(note, strlen(note), &c) != 0)
                return NULL;
        return strdup(c->origin);
}

/* The verifier: --vkey when given, else STATE/pki/log.pub under the log's origin (or `name`). */
static int verifier_for(const char *vkey, const char *state, const char *name, CheckpointVerifier **ret, char **err)
{
        _cleanup_free_ char *pub = NULL, *origin = NULL;
        int r;

        if (vkey)
                return audit_verifier_load(vkey, ret, err);
        if (!name)
                name = origin = log_origin(state);
        if (asprintf(&pub, "%s/pki/log.pub", state) < 0)
                return -ENOMEM;
        r = checkpoint_verifier_load(ret, name ? name : DEFAULT_ORIGIN, pub);
        if (r != 0)
                return asprintf(err, "cannot load the log's public key \"%s\": %s", pub,
                                r > 0 ? checkpoint_strerror(r) : strerror(-r)) < 0
                               ? -ENOMEM
                               : (r < 0 ? r : -EINVAL);
        return 0;
}

/* The checkpoints obtained earlier (--checkpoint FILE, repeatable): paths, then what they hold. */
typedef struct Held {
        const char *paths[AUDIT_HELD_MAX];
        Checkpoint *cps[AUDIT_HELD_MAX];
        size_t n;
} Held;

/* Return: false when AUDIT_HELD_MAX are given already. */
static bool held_add(Held *h, const char *path)
{
        if (h->n == AUDIT_HELD_MAX)
                return false;
        h->paths[h->n++] = path;
        return true;
}

static int held_load(Held *h, const CheckpointVerifier *v, char **err)
{
        for (size_t i = 0; i < h->n; i++) {
                int r = audit_checkpoint_load(h->paths[i], v, &h->cps[i], err);
                if (r != 0)
                        return r < 0 ? r : -EINVAL;
        }
        return 0;
}

static void held_done(Held *h)
{
        for (size_t i = 0; i < h->n; i++)
                h->cps[i] = checkpoint_free(h->cps[i]);
}

static void print_report(const char *what, int r, const AuditReport *rep, double seconds)
{
        if (r == 0) {
                printf("OK: %s: %" PRIu64 " entries and %" PRIu64 " checkpoints verified", what, rep->entries,
                       rep->checkpoints);
                if (seconds > 0) {
                        printf(" in %.2f s", seconds);
                        if (rep->entries >= 1000)
                                printf(" (%.2f s per million entries)", seconds * 1e6 / (double)rep->entries);
                }
                printf("\n");
        } else if (r > 0) {
                _cleanup_free_ char *s = cli_sanitize(rep->reason ? rep->reason : "?", 1024);
                printf("FAILED (%s): %s\n", audit_strerror(r), s ? s : "?");
        }
}

/* --- query ------------------------------------------------------------------ */

static void help_query(void)
{
        printf("Usage: xbus audit query [OPTIONS]\n\n"
               "Query the exchange log through the node's auditor API (mutual TLS, auditor "
               "role).\n\n" API_HELP "      --from TIME     entries at or after this RFC 3339 time\n"
               "      --to TIME       entries before this time\n"
               "      --client ID     client subsystem\n"
               "      --service ID    service\n"
               "      --status N      HTTP status answered\n"
               "      --decision D    allow or deny\n"
               "      --subject ID    the data subject's personal id (the node searches by its pseudonym)\n"
               "      --cursor SEQ    continue from this sequence number (printed after a page)\n"
               "  -n, --limit N       entries per page (1..1000, default 100)\n"
               "      --all           follow the cursor to the end\n"
               "  -j, --json          print the entries as JSON Lines\n"
               "  -h, --help          this help\n\n"
               "Example:\n"
               "  xbus audit query --client VN/GOV/BYT/health-services --decision allow --limit 20\n");
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

static int cmd_query(int argc, char **argv)
{
        static const struct option options[] = {
                API_OPTIONS,
                { "from", required_argument, NULL, 'F' },
                { "to", required_argument, NULL, 'T' },
                { "client", required_argument, NULL, 'c' },
                { "service", required_argument, NULL, 'S' },
                { "status", required_argument, NULL, 'N' },
                { "decision", required_argument, NULL, 'D' },
                { "subject", required_argument, NULL, 'P' },
                { "cursor", required_argument, NULL, 'C' },
                { "limit", required_argument, NULL, 'n' },
                { "all", no_argument, NULL, 'A' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        Api a = api_defaults();
        const char *from = NULL, *to = NULL, *client = NULL, *service = NULL, *status = NULL, *decision = NULL,
                   *subject = NULL, *limit = NULL;
        _cleanup_(cli_table_freep) CliTable *t = NULL;
        _cleanup_free_ char *err = NULL, *base = NULL;
        uint64_t cursor = 0, count = 0, v;
        bool all = false, json = false, more = true;
        int opt, r, ret = EXIT_FAILURE;

        while ((opt = getopt_long(argc, argv, "s:u:a:n:jh", options, NULL)) >= 0) {
                if (api_option(&a, opt))
                        continue;
                switch (opt) {
                case 'F':
                        from = optarg;
                        break;
                case 'T':
                        to = optarg;
                        break;
                case 'c':
                        client = optarg;
                        break;
                case 'S':
                        service = optarg;
                        break;
                case 'N':
                        status = optarg;
                        break;
                case 'D':
                        decision = optarg;
                        break;
                case 'P':
                        subject = optarg;
                        break;
                case 'C':
                        if (!cli_parse_decimal(optarg, 0, UINT64_MAX, &cursor))
                                return usage_error("query", "--cursor wants a sequence number");
                        break;
                case 'n':
                        if (!cli_parse_decimal(optarg, 1, PAGE_LIMIT, &v))
                                return usage_error("query", "--limit must be a number from 1 to %d", PAGE_LIMIT);
                        limit = optarg;
                        break;
                case 'A':
                        all = true;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        help_query();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("query", "unknown option");
                }
        }
        if (optind < argc)
                return usage_error("query", "unexpected argument \"%s\"", argv[optind]);
        if (decision && !streq(decision, "allow") && !streq(decision, "deny"))
                return usage_error("query", "--decision is allow or deny");
        r = api_prepare(&a, &err);
        if (r < 0)
                goto fail;
        if (query_add(&base, "from", from) < 0 || query_add(&base, "to", to) < 0 ||
            query_add(&base, "client", client) < 0 || query_add(&base, "service", service) < 0 ||
            query_add(&base, "status", status) < 0 || query_add(&base, "decision", decision) < 0 ||
            query_add(&base, "subject", subject) < 0 || query_add(&base, "limit", limit) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        if (!json && cli_log_table_new(&t) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        while (more) {
                _cleanup_(json_decrefp) json_t *page = NULL;
                _cleanup_free_ char *path = NULL;
                json_t *nc;

                if (asprintf(&path, "/audit/entries?%s%scursor=%" PRIu64, strempty(base), isempty(base) ? "" : "&",
                             cursor) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = api_get_json(&a, path, &page, &err);
                if (r < 0)
                        goto fail;
                r = print_page(page, t, json, &count);
                if (r < 0)
                        goto fail;
                nc = json_object_get(page, "next_cursor");
                more = json_is_integer(nc) && json_integer_value(nc) >= 0;
                if (more)
                        cursor = (uint64_t)json_integer_value(nc);
                if (!all || count >= CLI_AUDIT_MAX_ENTRIES)
                        break;
        }
        if (t)
                cli_table_print(t, stdout);
        if (more)
                fprintf(stderr, "%" PRIu64 " entries; more with --cursor %" PRIu64 "\n", count, cursor);
        else
                fprintf(stderr, "%" PRIu64 " entries\n", count);
        ret = EXIT_SUCCESS;
        goto out;
fail:
        ret = failure("query", "%s", err ? err : strerror(-r));
out:
        api_done(&a);
        return ret;
}

/* --- show -------------------------------------------------------------------- */

static void help_show(void)
{
        printf("Usage: xbus audit show [OPTIONS] SEQ\n\n"
               "Fetch entry SEQ with its inclusion proof and the checkpoint it is proven against; "
               "optionally\n"
               "write a proof bundle that a third party verifies offline with `xbus audit "
               "verify-proof`.\n\n" API_HELP "      --tree-size N   prove against the checkpoint of exactly "
               "N entries (default: the latest)\n"
               "      --receipt JWS   the exchange's X-Bus-Receipt to put in the bundle (@FILE reads a "
               "file)\n"
               "  -b, --bundle FILE   write the proof bundle (JSON) to FILE\n"
               "      --vkey VKEY     also verify the proof now (VKEY or @FILE, see `xbus audit key`)\n"
               "      --jwk FILE      the node's signing.jwk, to verify the receipt now\n"
               "  -h, --help          this help\n\n"
               "Example:\n"
               "  xbus audit show 42 --receipt @receipt.jws --bundle proof-42.json\n");
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
        _cleanup_free_ char *buf = NULL;
        size_t n;
        FILE *f;

        if (arg[0] != '@') {
                *ret = strdup(arg);
                return *ret ? 0 : -ENOMEM;
        }
        f = fopen(arg + 1, "re");
        if (!f)
                return -errno;
        buf = malloc(RECEIPT_FILE_MAX + 1);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(buf, 1, RECEIPT_FILE_MAX + 1, f);
        fclose(f);
        if (n > RECEIPT_FILE_MAX)
                return -E2BIG;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
                n--;
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
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

static int cmd_show(int argc, char **argv)
{
        static const struct option options[] = {
                API_OPTIONS,
                { "tree-size", required_argument, NULL, 'T' },
                { "receipt", required_argument, NULL, 'R' },
                { "bundle", required_argument, NULL, 'b' },
                { "vkey", required_argument, NULL, 'V' },
                { "jwk", required_argument, NULL, 'J' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        Api a = api_defaults();
        const char *receipt_arg = NULL, *bundle_path = NULL, *vkey = NULL, *jwk_path = NULL;
        _cleanup_free_ char *err = NULL, *path = NULL, *receipt = NULL, *bundle_text = NULL, *entry_s = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL, *bundle = NULL, *jwk = NULL, *entry = NULL;
        _cleanup_(audit_verifier_freep) CheckpointVerifier *v = NULL;
        uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
        uint64_t seq, tree_size = 0;
        size_t plen;
        int opt, r, ret = EXIT_FAILURE;

        while ((opt = getopt_long(argc, argv, "s:u:a:b:h", options, NULL)) >= 0) {
                if (api_option(&a, opt))
                        continue;
                switch (opt) {
                case 'T':
                        if (!cli_parse_decimal(optarg, 1, UINT64_MAX, &tree_size))
                                return usage_error("show", "--tree-size wants a positive number");
                        break;
                case 'R':
                        receipt_arg = optarg;
                        break;
                case 'b':
                        bundle_path = optarg;
                        break;
                case 'V':
                        vkey = optarg;
                        break;
                case 'J':
                        jwk_path = optarg;
                        break;
                case 'h':
                        help_show();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("show", "unknown option");
                }
        }
        if (optind + 1 != argc || !cli_parse_decimal(argv[optind], 0, UINT64_MAX, &seq))
                return usage_error("show", "which SEQ (one sequence number)?");
        if (receipt_arg && (r = read_receipt(receipt_arg, &receipt)) < 0)
                return usage_error("show", "cannot read the receipt \"%s\": %s", receipt_arg, strerror(-r));
        if (vkey && (r = audit_verifier_load(vkey, &v, &err)) != 0)
                return usage_error("show", "%s", strempty(err));
        if (jwk_path && cli_receipt_load_jwk(jwk_path, &jwk, &err) != 0)
                return usage_error("show", "%s", strempty(err));
        r = api_prepare(&a, &err);
        if (r < 0)
                goto fail;
        if ((tree_size ? asprintf(&path, "/audit/entries/%" PRIu64 "?tree_size=%" PRIu64, seq, tree_size)
                       : asprintf(&path, "/audit/entries/%" PRIu64, seq)) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        r = api_get_json(&a, path, &j, &err);
        if (r < 0)
                goto fail;
        if (!json_is_string(json_object_get(j, "entry")) || !json_is_string(json_object_get(j, "checkpoint")) ||
            audit_proof_parse(json_object_get(j, "inclusion_proof"), proof, &plen) < 0) {
                r = -EPROTO;
                err = strdup("the node's answer is not an entry with its proof");
                goto fail;
        }
        tree_size = (uint64_t)json_integer_value(json_object_get(j, "tree_size"));
        bundle = audit_bundle_new(seq, json_string_value(json_object_get(j, "entry")),
                                  json_string_length(json_object_get(j, "entry")), tree_size,
                                  (const uint8_t(*)[MERKLE_HASH_LEN])proof, plen,
                                  json_string_value(json_object_get(j, "checkpoint")), receipt);
        bundle_text = bundle ? json_dumps(bundle, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (!bundle_text) {
                r = -ENOMEM;
                goto fail;
        }

        entry = json_loadb(json_string_value(json_object_get(j, "entry")),
                           json_string_length(json_object_get(j, "entry")), 0, NULL);
        entry_s = entry ? json_dumps(entry, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        {
                _cleanup_free_ char *lh = cli_sanitize(json_string_value(json_object_get(j, "leaf_hash")), 64);
                printf("entry %" PRIu64 ":\n", seq);
                print_lines(entry_s ? entry_s : json_string_value(json_object_get(j, "entry")));
                printf("\nleaf hash: %s\ninclusion proof: %zu hashes, in the tree of %" PRIu64 " entries\n"
                       "checkpoint:\n",
                       strempty(lh), plen, tree_size);
                print_lines(json_string_value(json_object_get(j, "checkpoint")));
        }
        if (bundle_path) {
                r = write_file(bundle_path, bundle_text);
                if (r < 0) {
                        if (asprintf(&err, "cannot write \"%s\": %s", bundle_path, strerror(-r)) < 0)
                                err = NULL;
                        goto fail;
                }
                printf("\nproof bundle written to %s%s\n", bundle_path, receipt ? " (with the receipt)" : "");
        }
        if (v) {
                AuditReport rep;
                r = audit_verify_bundle(bundle_text, strlen(bundle_text),
                                        &(AuditBundleOptions){ .verifier = v, .receipt_jwk = jwk }, &rep);
                printf("\n");
                print_report("proof", r, &rep, 0);
                audit_report_done(&rep);
                if (r != 0)
                        goto out;
        }
        ret = EXIT_SUCCESS;
        goto out;
fail:
        ret = failure("show", "%s", err ? err : strerror(-r));
out:
        api_done(&a);
        return ret;
}

/* --- checkpoint ---------------------------------------------------------------- */

static void help_checkpoint(void)
{
        printf("Usage: xbus audit checkpoint [OPTIONS]\n\n"
               "Fetch the node's latest signed checkpoint (a C2SP signed note). Keep it: a later\n"
               "`xbus audit verify --checkpoint` or `verify-export --checkpoint` proves the log still "
               "holds\n"
               "what it committed to.\n\n" API_HELP
               "      --size N        the first checkpoint covering N entries instead of the latest\n"
               "  -o, --out FILE      write it to FILE (default: standard output)\n"
               "  -h, --help          this help\n");
}

static int cmd_checkpoint(int argc, char **argv)
{
        static const struct option options[] = {
                API_OPTIONS,
                { "size", required_argument, NULL, 'N' },
                { "out", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        Api a = api_defaults();
        _cleanup_(cli_http_response_freep) CliHttpResponse *resp = NULL;
        _cleanup_free_ char *err = NULL, *path = NULL;
        const char *out = "-";
        uint64_t size = 0;
        int opt, r, ret = EXIT_FAILURE;

        while ((opt = getopt_long(argc, argv, "s:u:a:o:h", options, NULL)) >= 0) {
                if (api_option(&a, opt))
                        continue;
                switch (opt) {
                case 'N':
                        if (!cli_parse_decimal(optarg, 0, UINT64_MAX, &size))
                                return usage_error("checkpoint", "--size wants a number");
                        break;
                case 'o':
                        out = optarg;
                        break;
                case 'h':
                        help_checkpoint();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("checkpoint", "unknown option");
                }
        }
        if (optind < argc)
                return usage_error("checkpoint", "unexpected argument \"%s\"", argv[optind]);
        r = api_prepare(&a, &err);
        if (r < 0)
                goto fail;
        if (asprintf(&path, "/audit/checkpoint?size=%" PRIu64, size) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        r = api_get(&a, path, &resp, &err);
        if (r < 0)
                goto fail;
        {
                FILE *f = streq(out, "-") ? stdout : fopen(out, "we");
                if (!f || fwrite(resp->body, 1, resp->body_size, f) != resp->body_size ||
                    (f != stdout && fclose(f) != 0)) {
                        if (asprintf(&err, "cannot write \"%s\"", out) < 0)
                                err = NULL;
                        r = -EIO;
                        goto fail;
                }
        }
        ret = EXIT_SUCCESS;
        goto out;
fail:
        ret = failure("checkpoint", "%s", err ? err : strerror(-r));
out:
        api_done(&a);
        return ret;
}

/* --- key ------------------------------------------------------------------------- */

static void help_key(void)
{
        printf("Usage: xbus audit key [OPTIONS]\n\n"
               "Print the node's checkpoint verifier key (a C2SP vkey) from STATE/pki/log.pub, offline.\n"
               "The key name is the log's origin (the node name): read from the stored checkpoints, or "
               "--name.\n"
               "Publish it to auditors; they pass it to the verify commands with --vkey.\n\n"
               "  -s, --state DIR     state folder of the node (default ./state)\n"
               "      --name NAME     key name (default: the log's origin, else " DEFAULT_ORIGIN ")\n"
               "  -h, --help          this help\n\n"
               "Example:\n"
               "  xbus audit key --state /var/lib/xbus > log.vkey\n");
}

static int cmd_key(int argc, char **argv)
{
        static const struct option options[] = {
                { "state", required_argument, NULL, 's' },
                { "name", required_argument, NULL, 'N' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *state = CLI_NODE_DEFAULT_STATE, *name = NULL;
        _cleanup_(audit_verifier_freep) CheckpointVerifier *v = NULL;
        _cleanup_free_ char *err = NULL, *vk = NULL;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "s:h", options, NULL)) >= 0) {
                switch (opt) {
                case 's':
                        state = optarg;
                        break;
                case 'N':
                        name = optarg;
                        break;
                case 'h':
                        help_key();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("key", "unknown option");
                }
        }
        if (optind < argc)
                return usage_error("key", "unexpected argument \"%s\"", argv[optind]);
        r = verifier_for(NULL, state, name, &v, &err);
        if (r < 0)
                return failure("key", "%s", err ? err : strerror(-r));
        r = checkpoint_verifier_vkey(v, &vk);
        if (r < 0)
                return failure("key", "%s", strerror(-r));
        printf("%s\n", vk);
        return EXIT_SUCCESS;
}

/* --- verify ------------------------------------------------------------------------ */

static void help_verify(void)
{
        printf("Usage: xbus audit verify [OPTIONS]\n\n"
               "Verify the node's exchange log offline (STATE/log, read-only; works while xbusd runs):\n"
               "every entry's bytes, sequence number and time; the Merkle tree recomputed from the entries\n"
               "against every stored node; every stored checkpoint's signature and root; and checkpoints\n"
               "kept from earlier. Reports the first problem and exits 1.\n\n"
               "  -s, --state DIR        state folder of the node (default ./state)\n"
               "      --vkey VKEY        the checkpoint key (VKEY or @FILE; default STATE/pki/log.pub)\n"
               "  -c, --checkpoint FILE  a checkpoint obtained earlier (repeatable, at most %d)\n"
               "  -h, --help             this help\n\n"
               "Example:\n"
               "  xbus audit verify --state /var/lib/xbus --checkpoint cp-monday.txt\n",
               AUDIT_HELD_MAX);
}

static int cmd_verify(int argc, char **argv)
{
        static const struct option options[] = {
                { "state", required_argument, NULL, 's' },
                { "vkey", required_argument, NULL, 'V' },
                { "checkpoint", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *state = CLI_NODE_DEFAULT_STATE, *vkey = NULL;
        _cleanup_(held_done) Held held = {};
        _cleanup_(audit_verifier_freep) CheckpointVerifier *v = NULL;
        _cleanup_free_ char *err = NULL, *dir = NULL;
        AuditReport rep;
        double t0;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "s:c:h", options, NULL)) >= 0) {
                switch (opt) {
                case 's':
                        state = optarg;
                        break;
                case 'V':
                        vkey = optarg;
                        break;
                case 'c':
                        if (!held_add(&held, optarg))
                                return usage_error("verify", "at most %d --checkpoint", AUDIT_HELD_MAX);
                        break;
                case 'h':
                        help_verify();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("verify", "unknown option");
                }
        }
        if (optind < argc)
                return usage_error("verify", "unexpected argument \"%s\"", argv[optind]);
        r = verifier_for(vkey, state, NULL, &v, &err);
        if (r != 0)
                return failure("verify", "%s", err ? err : strerror(r < 0 ? -r : EINVAL));
        r = held_load(&held, v, &err);
        if (r < 0)
                return failure("verify", "%s", err ? err : strerror(-r));
        if (asprintf(&dir, "%s/log", state) < 0)
                return failure("verify", "out of memory");
        t0 = now_seconds();
        r = audit_verify_store(dir,
                               &(AuditStoreOptions){
                                       .verifier = v, .held = (const Checkpoint *const *)held.cps, .n_held = held.n },
                               &rep);
        if (r < 0) {
                audit_report_done(&rep);
                return failure("verify", "cannot read the log \"%s\": %s", dir, strerror(-r));
        }
        print_report(dir, r, &rep, now_seconds() - t0);
        audit_report_done(&rep);
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

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
                        return asprintf(err, "the log has no checkpoint yet") < 0 ? -ENOMEM : r;
                return r;
        } else {
                _cleanup_(cli_http_response_freep) CliHttpResponse *resp = NULL;
                _cleanup_(audit_checkpoint_freep) Checkpoint *c = NULL;
                int r = api_get(s->api, "/audit/checkpoint", &resp, err);
                if (r < 0)
                        return r;
                if (checkpoint_parse(resp->body, resp->body_size, &c) != 0)
                        return asprintf(err, "the node's checkpoint is not a signed note") < 0 ? -ENOMEM : -EPROTO;
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
                return asprintf(err, "the node's consistency proof is malformed") < 0 ? -ENOMEM : -EPROTO;
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
                                return asprintf(err, "the node's answer for entry %" PRIu64 " is malformed", seq) < 0
                                               ? -ENOMEM
                                               : -EPROTO;
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

static void help_export(void)
{
        printf("Usage: xbus audit export [OPTIONS] --out FILE\n\n"
               "Export log entries as JSON Lines with the checkpoint that covers them, for offline\n"
               "verification (`xbus audit verify-export`). The first line holds the checkpoint; each other\n"
               "line {\"seq\":N,\"entry\":\"<the stored bytes>\"}. An export from 0 that ends before the\n"
               "checkpoint carries the consistency proof to it; one that starts later carries an inclusion\n"
               "proof per entry (and through the API costs one request per entry).\n\n" API_HELP
               "      --offline        read STATE/log directly instead of the API (on the node)\n"
               "      --from-seq A     first entry (default 0)\n"
               "      --to-seq B       end (exclusive; default and at most: the checkpoint's size)\n"
               "  -o, --out FILE       where to write (- for standard output)\n"
               "  -h, --help           this help\n\n"
               "Example:\n"
               "  xbus audit export --out log-2026-11.jsonl\n");
}

static int cmd_export(int argc, char **argv)
{
        static const struct option options[] = {
                API_OPTIONS,
                { "offline", no_argument, NULL, 'O' },
                { "from-seq", required_argument, NULL, 'F' },
                { "to-seq", required_argument, NULL, 'T' },
                { "out", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        Api a = api_defaults();
        Source src = { .api = &a };
        _cleanup_(exlog_reader_closep) ExlogReader *reader = NULL;
        _cleanup_(audit_checkpoint_freep) Checkpoint *cp = NULL;
        _cleanup_free_ char *err = NULL, *note = NULL;
        uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
        uint64_t from = 0, to = UINT64_MAX, size;
        const char *out_path = NULL;
        bool offline = false, has_to = false, has_proof;
        size_t plen = 0;
        FILE *out = NULL;
        int opt, r, ret = EXIT_FAILURE;

        while ((opt = getopt_long(argc, argv, "s:u:a:o:h", options, NULL)) >= 0) {
                if (api_option(&a, opt))
                        continue;
                switch (opt) {
                case 'O':
                        offline = true;
                        break;
                case 'F':
                        if (!cli_parse_decimal(optarg, 0, UINT64_MAX, &from))
                                return usage_error("export", "--from-seq wants a sequence number");
                        break;
                case 'T':
                        if (!cli_parse_decimal(optarg, 0, UINT64_MAX, &to))
                                return usage_error("export", "--to-seq wants a sequence number");
                        has_to = true;
                        break;
                case 'o':
                        out_path = optarg;
                        break;
                case 'h':
                        help_export();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("export", "unknown option");
                }
        }
        if (optind < argc)
                return usage_error("export", "unexpected argument \"%s\"", argv[optind]);
        if (!out_path)
                return usage_error("export", "--out is required");
        if (has_to && to < from)
                return usage_error("export", "--to-seq is before --from-seq");
        if (offline) {
                r = cli_log_open(a.state, &reader, &err);
                if (r < 0)
                        goto fail;
                src.reader = reader;
        } else {
                r = api_prepare(&a, &err);
                if (r < 0)
                        goto fail;
        }
        r = src_checkpoint(&src, &note, &size, &err);
        if (r < 0)
                goto fail;
        r = checkpoint_parse(note, strlen(note), &cp);
        if (r != 0) {
                r = r < 0 ? r : -EPROTO;
                goto fail;
        }
        if (to > size) {
                if (has_to)
                        fprintf(stderr,
                                "xbus audit export: the latest checkpoint covers %" PRIu64
                                " entries: exporting up to there\n",
                                size);
                to = size;
        }
        if (reader) {
                uint64_t have;
                r = exlog_reader_size(reader, &have);
                if (r < 0)
                        goto fail;
                if (have < to) {
                        /* the store holds less than its own checkpoint: export what is there */
                        fprintf(stderr,
                                "xbus audit export: the log holds only %" PRIu64
                                " entries, fewer than its checkpoint's %" PRIu64 "\n",
                                have, size);
                        to = have;
                }
        }
        if (from > to) {
                r = -EINVAL;
                if (asprintf(&err, "--from-seq %" PRIu64 " is beyond the checkpoint's %" PRIu64 " entries", from,
                             size) < 0)
                        err = NULL;
                goto fail;
        }
        has_proof = from == 0 && to < size && to > 0;
        if (has_proof) {
                r = src_consistency(&src, to, size, proof, &plen, &err);
                if (r < 0 && reader) {
                        /* no proof to be had from this store: the export shows the gap as it is */
                        fprintf(stderr,
                                "xbus audit export: no consistency proof from %" PRIu64 " to %" PRIu64
                                " entries (%s): the export will not verify\n",
                                to, size, strerror(-r));
                        plen = 0;
                        err = mfree(err);
                        r = 0;
                        has_proof = false;
                } else if (r < 0)
                        goto fail;
        }
        out = streq(out_path, "-") ? stdout : fopen(out_path, "we");
        if (!out) {
                r = -errno;
                if (asprintf(&err, "cannot write \"%s\": %m", out_path) < 0)
                        err = NULL;
                goto fail;
        }
        r = audit_export_write_header(out, cp->origin, from, to, note, has_proof ? (const uint8_t(*)[32])proof : NULL,
                                      plen);
        if (r >= 0)
                r = src_write_entries(&src, out, from, to, size, &err);
        if (out != stdout && fclose(out) != 0 && r >= 0)
                r = -EIO;
        out = NULL;
        if (r < 0)
                goto fail;
        fprintf(stderr,
                "exported entries %" PRIu64 "..%" PRIu64 " with the checkpoint of %" PRIu64 " entries (%s) to %s\n",
                from, to ? to - 1 : 0, size, cp->origin, out_path);
        ret = EXIT_SUCCESS;
        goto out;
fail:
        if (out && out != stdout)
                fclose(out);
        ret = failure("export", "%s", err ? err : strerror(-r));
out:
        api_done(&a);
        return ret;
}

/* --- verify-export ---------------------------------------------------------------- */

static void help_verify_export(void)
{
        printf("Usage: xbus audit verify-export [OPTIONS] FILE\n\n"
               "Verify an export offline, with only the node's checkpoint key: the checkpoint's signature,\n"
               "every entry against it, and optionally against an earlier export or earlier checkpoints\n"
               "(a log changed, cut or rewritten since then no longer reproduces them).\n"
               "Says OK or exactly what is wrong; exit 1 when anything is.\n\n"
               "      --vkey VKEY        the node's checkpoint verifier key (VKEY or @FILE; required)\n"
               "  -e, --earlier FILE     an earlier export of the same log\n"
               "  -c, --checkpoint FILE  a checkpoint obtained earlier (repeatable, at most %d)\n"
               "  -h, --help             this help\n\n"
               "Example:\n"
               "  xbus audit verify-export --vkey @log.vkey --earlier log-monday.jsonl log-today.jsonl\n",
               AUDIT_HELD_MAX);
}

static int cmd_verify_export(int argc, char **argv)
{
        static const struct option options[] = {
                { "vkey", required_argument, NULL, 'V' },
                { "earlier", required_argument, NULL, 'e' },
                { "checkpoint", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *vkey = NULL, *earlier = NULL;
        _cleanup_(held_done) Held held = {};
        _cleanup_(audit_verifier_freep) CheckpointVerifier *v = NULL;
        _cleanup_free_ char *err = NULL;
        AuditReport rep;
        double t0;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "e:c:h", options, NULL)) >= 0) {
                switch (opt) {
                case 'V':
                        vkey = optarg;
                        break;
                case 'e':
                        earlier = optarg;
                        break;
                case 'c':
                        if (!held_add(&held, optarg))
                                return usage_error("verify-export", "at most %d --checkpoint", AUDIT_HELD_MAX);
                        break;
                case 'h':
                        help_verify_export();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("verify-export", "unknown option");
                }
        }
        if (optind + 1 != argc)
                return usage_error("verify-export", "which FILE (one export)?");
        if (!vkey)
                return usage_error("verify-export", "--vkey is required (the node's key, see `xbus audit key`)");
        r = audit_verifier_load(vkey, &v, &err);
        if (r != 0)
                return usage_error("verify-export", "%s", strempty(err));
        r = held_load(&held, v, &err);
        if (r < 0)
                return failure("verify-export", "%s", err ? err : strerror(-r));
        t0 = now_seconds();
        r = audit_verify_export(argv[optind],
                                &(AuditExportOptions){ .verifier = v,
                                                       .earlier = earlier,
                                                       .held = (const Checkpoint *const *)held.cps,
                                                       .n_held = held.n },
                                &rep);
        if (r < 0) {
                int e = failure("verify-export", "%s", rep.reason ? rep.reason : strerror(-r));
                audit_report_done(&rep);
                return e;
        }
        print_report(argv[optind], r, &rep, now_seconds() - t0);
        audit_report_done(&rep);
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* --- verify-proof ------------------------------------------------------------------ */

static void help_verify_proof(void)
{
        printf("Usage: xbus audit verify-proof [OPTIONS] BUNDLE\n\n"
               "Verify a proof bundle (from `xbus audit show --bundle`) offline: the checkpoint's "
               "signature,\n"
               "the entry's inclusion in the checkpoint's tree, and the receipt it carries: signed by the\n"
               "node and describing that very entry. Together they prove the exchange to a third party.\n\n"
               "      --vkey VKEY        the node's checkpoint verifier key (VKEY or @FILE; required)\n"
               "      --jwk FILE         the node's receipt key (signing.jwk); needed when the bundle has a "
               "receipt\n"
               "      --require-receipt  refuse a bundle without a receipt\n"
               "  -h, --help             this help\n\n"
               "Example:\n"
               "  xbus audit verify-proof --vkey @log.vkey --jwk signing.jwk proof-42.json\n");
}

static int cmd_verify_proof(int argc, char **argv)
{
        static const struct option options[] = {
                { "vkey", required_argument, NULL, 'V' },
                { "jwk", required_argument, NULL, 'J' },
                { "require-receipt", no_argument, NULL, 'R' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *vkey = NULL, *jwk_path = NULL;
        _cleanup_(audit_verifier_freep) CheckpointVerifier *v = NULL;
        _cleanup_(json_decrefp) json_t *jwk = NULL;
        _cleanup_free_ char *err = NULL, *text = NULL;
        bool require = false;
        AuditReport rep;
        size_t n;
        FILE *f;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (opt) {
                case 'V':
                        vkey = optarg;
                        break;
                case 'J':
                        jwk_path = optarg;
                        break;
                case 'R':
                        require = true;
                        break;
                case 'h':
                        help_verify_proof();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("verify-proof", "unknown option");
                }
        }
        if (optind + 1 != argc)
                return usage_error("verify-proof", "which BUNDLE (one file)?");
        if (!vkey)
                return usage_error("verify-proof", "--vkey is required (the node's key, see `xbus audit key`)");
        r = audit_verifier_load(vkey, &v, &err);
        if (r != 0)
                return usage_error("verify-proof", "%s", strempty(err));
        if (jwk_path && cli_receipt_load_jwk(jwk_path, &jwk, &err) != 0)
                return usage_error("verify-proof", "%s", strempty(err));
        f = fopen(argv[optind], "re");
        if (!f)
                return failure("verify-proof", "cannot read \"%s\": %m", argv[optind]);
        text = malloc(AUDIT_BUNDLE_MAX + 1);
        if (!text) {
                fclose(f);
                return failure("verify-proof", "out of memory");
        }
        n = fread(text, 1, AUDIT_BUNDLE_MAX + 1, f);
        fclose(f);
        r = audit_verify_bundle(text, n,
                                &(AuditBundleOptions){ .verifier = v, .receipt_jwk = jwk, .require_receipt = require },
                                &rep);
        if (r < 0) {
                audit_report_done(&rep);
                return failure("verify-proof", "%s", strerror(-r));
        }
        print_report(argv[optind], r, &rep, 0);
        audit_report_done(&rep);
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* --- dispatch -------------------------------------------------------------------- */

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        void (*help)(void);
        const char *summary;
} subcommands[] = {
        { "query", cmd_query, help_query, "query the log through the auditor API (filters, paging)" },
        { "show", cmd_show, help_show, "one entry with its inclusion proof; write a proof bundle" },
        { "checkpoint", cmd_checkpoint, help_checkpoint, "fetch the latest signed checkpoint" },
        { "export", cmd_export, help_export, "export entries as JSON Lines with their checkpoint" },
        { "verify", cmd_verify, help_verify, "verify the whole log store offline (on the node)" },
        { "verify-export", cmd_verify_export, help_verify_export, "verify an export offline" },
        { "verify-proof", cmd_verify_proof, help_verify_proof, "verify a proof bundle (and its receipt) offline" },
        { "key", cmd_key, help_key, "print the node's checkpoint verifier key (vkey)" },
};

void cli_audit_help(void)
{
        printf("Usage: xbus audit COMMAND [OPTIONS]\n\n"
               "The auditor's side of the tamper-evident exchange log (docs/auditing.md).\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(subcommands); i++)
                printf("  %-14s %s\n", subcommands[i].name, subcommands[i].summary);
        printf("\n`xbus audit COMMAND --help` describes each. Exit status: 0 success (verified), 1 "
               "failure,\n"
               "2 usage error.\n");
}

int cli_audit_run(int argc, char **argv)
{
        static char name[48];

        if (argc < 2)
                return usage_error(NULL, "which command?");
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                cli_audit_help();
                return EXIT_SUCCESS;
        }
        for (size_t i = 0; i < ELEMENTSOF(subcommands); i++) {
                if (!streq(argv[1], subcommands[i].name))
                        continue;
                snprintf(name, sizeof(name), "xbus audit %s", subcommands[i].name);
                argv[1] = name;
                optind = 0;
                opterr = 1;
                return subcommands[i].run(argc - 1, argv + 1);
        }
        return usage_error(NULL, "no command \"%s\"", argv[1]);
}
