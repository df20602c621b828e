/* xbus.c: the xbus command-line tool (call, log, up, down, demo, consent, subject, audit) for operators and auditors
 *
 * A thin program: each command is a CliCommand (cli-command.h: its options,
 * help and handler in one table entry) whose handler calls a cli-* module
 * (cli-exchange for HTTP exchanges, cli-log for the exchange log, cli-node
 * for starting and stopping a local node, cli-demo for the guided scenario,
 * cli-consent for the consent API, cli-audit for `xbus audit ...`).
 * Exit codes: 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli-consent.h"
#include "cli/cli-audit.h"
#include "cli/cli-console.h"
#include "cli/cli-command.h"
#include "cli/cli-common.h"
#include "cli/cli-demo.h"
#include "cli/cli-enrol.h"
#include "cli/cli-exchange.h"
#include "cli/cli-http.h"
#include "cli/cli-log.h"
#include "cli/cli-node-state.h"
#include "cli/cli-node.h"
#include "cli/cli-pki.h"
#include "cli/cli-registry.h"
#include "cli/cli-table.h"
#include "crypto/keyfile.h"
#include "crypto/pki.h"
#include "util/macro.h"
#include "xbus-config.h"

#define DATA_MAX CLI_HTTP_MAX_BODY

/* How this program was invoked, for the command lines `up` prints. */
static const char *self_path = "xbus";

/* keys of the long-only options that consent_option() tells apart (cli-command.h) */
enum {
        OPT_SERVICE = CLI_OPTION_LONG,
        OPT_CATEGORY,
        OPT_MAX_USES,
        OPT_PORT,
        OPT_ADAPTERS_PORT,
};

/* xbus itself, for the messages of main() ("xbus: which command? (see xbus --help)") */
static const CliCommand xbus_root = { .name = "xbus" };

/* A failure with the module's reason (NULL: out of memory). */
static int failure(const CliCommand *c, const char *error)
{
        return cli_command_failure(c, "%s", error ? error : "out of memory");
}

/* --- call ---------------------------------------------------------------- */

typedef struct CallArgs {
        CliExchange x;
        const char *data; /* --data JSON|@FILE */
        bool verbose;
} CallArgs;

static int read_data(const char *arg, char **ret, size_t *ret_size, char **ret_error)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (arg[0] != '@') {
                size = strlen(arg);
                if (size > DATA_MAX)
                        return -E2BIG;
                buf = strdup(arg);
                if (!buf)
                        return -ENOMEM;
        } else {
                bool is_stdin = streq(arg + 1, "-");
                f = is_stdin ? stdin : fopen(arg + 1, "re");
                if (!f)
                        return error_set(ret_error, -errno, "cannot read \"%s\": %m", arg + 1);
                buf = malloc(DATA_MAX + 1);
                if (!buf) {
                        if (!is_stdin)
                                fclose(f);
                        return -ENOMEM;
                }
                size = fread(buf, 1, DATA_MAX + 1, f);
                if (ferror(f) || size > DATA_MAX) {
                        int e = ferror(f) ? -EIO : -E2BIG;
                        if (!is_stdin)
                                fclose(f);
                        return e;
                }
                if (!is_stdin)
                        fclose(f);
                buf[size] = 0;
        }
        {
                json_error_t err;
                json_t *j = json_loadb(buf, size, 0, &err);
                if (!j)
                        return error_set(ret_error, -EINVAL, "the data is not JSON: %s (line %d, column %d)", err.text,
                                         err.line, err.column);
                json_decref(j);
        }
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

static void print_safe_line(FILE *f, const char *name, const char *value)
{
        _cleanup_free_ char *n = cli_sanitize(name, 256), *v = cli_sanitize(value, CLI_HTTP_MAX_HEADER_BYTES);

        fprintf(f, "%s: %s\n", n ? n : "?", v ? v : "?");
}

static void print_body(FILE *f, const CliHttpResponse *resp)
{
        json_t *j;

        if (resp->body_size == 0)
                return;
        j = json_loadb(resp->body, resp->body_size, 0, NULL);
        if (j) {
                char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
                json_decref(j);
                if (s) {
                        fprintf(f, "%s\n", s);
                        free(s);
                        return;
                }
        }
        fwrite(resp->body, 1, resp->body_size, f);
        if (resp->body[resp->body_size - 1] != '\n')
                fputc('\n', f);
}

/* --verbose: what was sent */
static void print_request(const CliExchange *x, const CliExchangeResult *res)
{
        printf("> %s %s\n", x->method ? x->method : (x->body ? "POST" : "GET"), res->url);
        printf("> X-Road-Client: %s\n> X-Road-Id: %s\n", x->client, res->xroad_id);
        if (x->subject)
                printf("> X-Bus-Subject: %s\n", x->subject);
        if (x->purpose)
                printf("> X-Bus-Purpose: %s\n", x->purpose);
        if (x->consent)
                printf("> X-Bus-Consent: %s\n", x->consent);
        if (x->user_id)
                printf("> X-Road-UserId: %s\n", x->user_id);
        if (x->issue)
                printf("> X-Road-Issue: %s\n", x->issue);
        printf("> (request body %zu bytes, SHA-256 %s)\n\n", x->body_size, res->request_hash);
}

/* The status line, the headers (all with --verbose) and the body. */
static void print_response(const CliExchangeResult *res, bool verbose)
{
        _cleanup_free_ char *line = cli_sanitize(res->response->status_line, 256);

        printf("%s\n", line && *line ? line : "(no status line)");
        if (verbose) {
                for (size_t i = 0; i < res->response->n_headers; i++)
                        print_safe_line(stdout, res->response->headers[i].name, res->response->headers[i].value);
        } else {
                static const char *const shown[] = { "X-Road-Id", "X-Road-Service", "X-Bus-Log-Seq", "X-Road-Error" };
                for (size_t i = 0; i < ELEMENTSOF(shown); i++) {
                        const char *v = cli_http_response_header(res->response, shown[i]);
                        if (v)
                                print_safe_line(stdout, shown[i], v);
                }
        }
        fputc('\n', stdout);
        print_body(stdout, res->response);
}

static void print_receipt(const CliExchangeResult *res, bool verbose)
{
        switch (res->receipt) {
        case CLI_RECEIPT_VERIFIED:
                printf("\nreceipt: verified (log seq %" PRIu64 ")\n", res->log_seq);
                if (verbose) {
                        char *s = json_dumps(res->receipt_payload, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                        if (s)
                                printf("%s\n", s);
                        free(s);
                }
                break;
        case CLI_RECEIPT_FAILED: {
                _cleanup_free_ char *reason = cli_sanitize(res->receipt_reason, 512);
                printf("\nreceipt: FAILED: %s\n", reason ? reason : "?");
                break;
        }
        case CLI_RECEIPT_NONE:
                break;
        }
}

static int cmd_call(const CliCommand *c, int argc, char **argv)
{
        CallArgs a = { .x = { .state_dir = CLI_NODE_DEFAULT_STATE } };
        _cleanup_free_ char *data = NULL, *error = NULL, *url = NULL;
        CliExchangeResult res = {};
        size_t data_size = 0;
        int r, ret;

        r = cli_command_parse(c, &argc, &argv, NULL, &a);
        if (r != CLI_CONTINUE)
                return r;
        if (argc != 1)
                return cli_command_usage_error(c, argc == 0 ? "which SERVICE?" : "one SERVICE only");
        if (!a.x.client)
                return cli_command_usage_error(c, "--client is required");
        a.x.target = argv[0];
        a.x.base_url = url = cli_node_url(a.x.state_dir, a.x.base_url);
        if (!url)
                return failure(c, NULL);
        if (a.data) {
                r = read_data(a.data, &data, &data_size, &error);
                if (r == -E2BIG)
                        return cli_command_usage_error(c, "--data is larger than %u MiB", DATA_MAX / 1024 / 1024);
                if (r < 0)
                        return cli_command_usage_error(c, "%s", error ? error : strerror(-r));
                a.x.body = data;
                a.x.body_size = data_size;
        }

        r = cli_exchange_call(&a.x, &res, &error);
        if (r == -EINVAL)
                return cli_command_usage_error(c, "%s", strempty(error));
        if (r != 0)
                return failure(c, error);
        if (a.verbose)
                print_request(&a.x, &res);
        print_response(&res, a.verbose);
        print_receipt(&res, a.verbose);
        fflush(stdout);
        ret = cli_exchange_ok(&res) ? EXIT_SUCCESS : EXIT_FAILURE;
        cli_exchange_result_done(&res);
        return ret;
}

static const CliOption call_options[] = {
        CLI_STRING('s', "state", "DIR", "state folder of the node (default ./state)", CallArgs, x.state_dir),
        CLI_STRING('u', "url", "URL", "the node (default: where `xbus up` started it, else " CLI_NODE_DEFAULT_URL ")",
                   CallArgs, x.base_url),
        CLI_STRING('c', "client", "ID", "client subsystem, e.g. VN/GOV/BYT/health-services (required)", CallArgs,
                   x.client),
        CLI_STRING(0, "cert", "FILE", "the client's certificate (default: its demo one, STATE/pki/clients/)", CallArgs,
                   x.cert_file),
        CLI_STRING(0, "cert-key", "FILE", "the certificate's private key", CallArgs, x.key_file),
        CLI_STRING('X', "request", "METHOD", "HTTP method (default GET, or POST with --data)", CallArgs, x.method),
        CLI_STRING('X', "method", "METHOD", NULL, CallArgs, x.method),
        CLI_STRING(0, "subject", "ID", "X-Bus-Subject: the data subject's personal id", CallArgs, x.subject),
        CLI_STRING(0, "purpose", "CODE", "X-Bus-Purpose, e.g. health-insurance-enrolment", CallArgs, x.purpose),
        CLI_STRING(0, "consent", "ID", "X-Bus-Consent: a consent id or a signed consent artefact", CallArgs, x.consent),
        CLI_STRING(0, "user-id", "USER", "X-Road-UserId: the official acting", CallArgs, x.user_id),
        CLI_STRING(0, "issue", "CASE", "X-Road-Issue: case or dossier number", CallArgs, x.issue),
        CLI_STRING('d', "data", "JSON|@FILE", "request body (@- reads standard input); sent as application/json",
                   CallArgs, data),
        CLI_FLAG('v', "verbose", "print the request, every response header and the receipt's content", CallArgs,
                 verbose),
        {},
};

static const CliCommand call_command = {
        .name = "xbus call",
        .summary = "make one exchange as a client system and verify its receipt",
        .usage = "[OPTIONS] --client SUBSYSTEM SERVICE[/path][?query]",
        .description = "Make one exchange as a client system: mutual TLS with the client's demo certificate\n"
                       "(STATE/pki/clients/), X-Road headers, and verification of the signed receipt.\n",
        .options = call_options,
        .epilogue = "Prints the status line, X-Road-Id, X-Bus-Log-Seq and X-Road-Error, the body (JSON "
                    "pretty-printed)\n"
                    "and \"receipt: verified (log seq N)\" when the receipt verifies against "
                    "STATE/pki/signing.jwk and\n"
                    "matches the body received. Exit status: 0 for a 2xx answer with a verified receipt, 1 "
                    "otherwise.\n\n"
                    "Example:\n"
                    "  xbus call --client VN/GOV/BYT/health-services --subject 001090000001 \\\n"
                    "           --purpose health-insurance-enrolment VN/GOV/BCA/population/citizen\n",
        .operands = true,
        .run = cmd_call,
};

/* --- log ----------------------------------------------------------------- */

typedef struct LogArgs {
        const char *state;
        uint64_t last;
        bool json;
} LogArgs;

static int log_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        LogArgs *a = userdata;

        if (parse_u64(arg, 1, CLI_LOG_MAX_LAST, &a->last) < 0) /* --last */
                return cli_command_usage_error(c, "--last must be a number from 1 to %d", CLI_LOG_MAX_LAST);
        return 0;
}

static int cmd_log(const CliCommand *c, int argc, char **argv)
{
        LogArgs a = { .state = CLI_NODE_DEFAULT_STATE, .last = CLI_LOG_DEFAULT_LAST };
        _cleanup_free_ char *error = NULL;
        int r;

        r = cli_command_parse(c, &argc, &argv, log_option, &a);
        if (r != CLI_CONTINUE)
                return r;
        r = cli_log_print_last(a.state, a.last, a.json, stdout, &error);
        if (r < 0)
                return failure(c, error);
        return EXIT_SUCCESS;
}

#define LOG_LAST_HELP "default " STRINGIFY(CLI_LOG_DEFAULT_LAST) ", at most " STRINGIFY(CLI_LOG_MAX_LAST)

static const CliOption log_options[] = {
        CLI_STRING('s', "state", "DIR", "state folder of the node (default ./state)", LogArgs, state),
        { 'n', "last", "N", "how many entries (" LOG_LAST_HELP ")" },
        CLI_FLAG('j', "json", "print the raw entries, one JSON object per line (JSON Lines)", LogArgs, json),
        {},
};

static const CliCommand log_command = {
        .name = "xbus log",
        .summary = "show the last entries of the exchange log",
        .description = "Show the last entries of the exchange log (STATE/log), read-only: it works while xbusd "
                       "runs.\n",
        .options = log_options,
        .epilogue = "The table shows seq, time (UTC), client, service, decision (allow/deny), status and "
                    "problem\n"
                    "type, purpose and legal basis.\n\n"
                    "Example:\n"
                    "  xbus log --last 5\n",
        .run = cmd_log,
};

/* --- up ------------------------------------------------------------------ */

/* One `xbus ...` line with --state/--url only when they are not the defaults. */
static void print_xbus(FILE *f, const char *state_q, const char *url, const char *sub, bool with_url, const char *rest)
{
        fprintf(f, "  %s %s", self_path, sub);
        if (!streq(state_q, CLI_NODE_DEFAULT_STATE))
                fprintf(f, " --state %s", state_q);
        if (with_url && !streq(url, CLI_NODE_DEFAULT_URL))
                fprintf(f, " --url %s", url);
        fprintf(f, "%s%s\n", rest ? " " : "", strempty(rest));
}

static void print_howto(FILE *f, const char *state, const CliNodeInfo *info, const char *subject)
{
        _cleanup_free_ char *state_q = cli_shell_quote(state), *cert = NULL, *key = NULL, *cert_q = NULL, *key_q = NULL,
                            *ca = NULL, *ca_q = NULL;
        const char *url = info->url;
        struct {
                const char *comment, *client, *purpose, *service;
        } calls[] = {
                { "a ministry reads a citizen from the population database: 200 and a signed receipt",
                  "VN/GOV/BYT/health-services", "health-insurance-enrolment", "VN/GOV/BCA/population/citizen" },
                { "a bank without a right on the population database: 403 access_denied", "VN/COM/VCB/kyc",
                  "loan-application", "VN/GOV/BCA/population/citizen" },
                { "a service that does not exist: 404 service_unknown", "VN/GOV/BYT/health-services",
                  "health-insurance-enrolment", "VN/GOV/BCA/population/no-such-service" },
                { "a consent-based right without the citizen's consent: 403 consent_required",
                  "VN/GOV/HN-UBND/one-stop-shop", "public-service-delivery", "VN/GOV/BTNMT/land/land-parcels" },
        };

        if (!state_q || cli_exchange_client_files(state, calls[0].client, &cert, &key) < 0 ||
            asprintf(&ca, "%s/pki/ca.crt", state) < 0) {
                fprintf(f, "xbus is up at %s\n", url);
                return;
        }
        cert_q = cli_shell_quote(cert);
        key_q = cli_shell_quote(key);
        ca_q = cli_shell_quote(ca);
        if (!cert_q || !key_q || !ca_q) {
                fprintf(f, "xbus is up at %s\n", url);
                return;
        }

        fprintf(f, "\nxbus is up at %s (%s).\n", url,
                info->reused ? (info->started_adapter ? "reused the running node, started the sample adapter"
                                                      : "reused the running node")
                             : "started xbusd and the sample adapter");
        fprintf(f, "State (exchange log, demo PKI, sample dataset, logs, pid files) lives in %s/\n", state);
        if (info->adapters_endpoint)
                fprintf(f, "Adapters connect to %s (--bus) with the node's key %s/pki/node-curve.pub.\n",
                        info->adapters_endpoint, state);
        fprintf(f, "The sample citizen below, %s, is the first person of the sample dataset.\n\n", subject);
        fprintf(f, "Try:\n");
        for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
                _cleanup_free_ char *rest = NULL;
                fprintf(f, "  # %s\n", calls[i].comment);
                if (asprintf(&rest, "--client %s --subject %s --purpose %s %s", calls[i].client, subject,
                             calls[i].purpose, calls[i].service) < 0)
                        continue;
                print_xbus(f, state_q, url, "call", true, rest);
        }
        fprintf(f, "  # the first call with curl (-i shows X-Bus-Receipt and X-Bus-Log-Seq)\n");
        fprintf(f,
                "  curl -i --cert %s --key %s --cacert %s \\\n"
                "       -H 'X-Road-Client: %s' -H 'X-Bus-Subject: %s' -H 'X-Bus-Purpose: %s' \\\n"
                "       %s/r1/%s\n",
                cert_q, key_q, ca_q, calls[0].client, subject, calls[0].purpose, url, calls[0].service);
        fprintf(f, "  # the exchange log: who asked what, why, and what the bus decided\n");
        print_xbus(f, state_q, url, "log", false, NULL);
        fprintf(f, "  # the guided scenario\n");
        print_xbus(f, state_q, url, "demo", true, NULL);
        fprintf(f, "  # stop what `up` started\n");
        print_xbus(f, state_q, url, "down", false, NULL);
}

typedef struct UpArgs {
        CliUpRequest u;
        CliNodeOptions o;
} UpArgs;

static int up_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        UpArgs *a = userdata;
        _cleanup_free_ char *url = NULL;
        uint64_t v;

        switch (key) {
        case 'l':
                if (cli_node_url_from_listen(arg, &url) < 0)
                        return cli_command_usage_error(c, "--listen wants HOST:PORT, not \"%s\"", arg);
                a->u.listen = arg;
                break;
        case OPT_PORT:
        case OPT_ADAPTERS_PORT:
                if (parse_u64(arg, 1, 65535, &v) < 0)
                        return cli_command_usage_error(c, "--%sport wants a port number (1..65535)",
                                                       key == OPT_PORT ? "" : "adapters-");
                *(key == OPT_PORT ? &a->u.port : &a->u.adapters_port) = (unsigned)v;
                break;
        default: /* --people */
                if (parse_u64(arg, 1, CLI_NODE_MAX_PEOPLE, &a->o.people) < 0)
                        return cli_command_usage_error(c, "--people must be a number from 1 to %llu",
                                                       (unsigned long long)CLI_NODE_MAX_PEOPLE);
        }
        return 0;
}

static int cmd_up(const CliCommand *c, int argc, char **argv)
{
        UpArgs a = { .o = { .progress = stdout } };
        CliNodeOptions *o = &a.o;
        _cleanup_free_ char *error = NULL;
        CliNodeInfo info = {};
        char subject[13];
        int r;

        r = cli_command_parse(c, &argc, &argv, up_option, &a);
        if (r != CLI_CONTINUE)
                return r;
        if (a.u.state && isempty(a.u.state))
                return cli_command_usage_error(c, "--state is empty");
        r = cli_up_resolve(&a.u, &error);
        o->state_dir = a.u.state_dir;
        o->listen = a.u.listen_given;
        o->adapters = a.u.adapters_given;
        o->config = a.u.config;
        if (r == 0)
                r = cli_node_up(o, &info, &error);
        if (r != 0) {
                cli_up_request_done(&a.u);
                return r == -EINVAL ? cli_command_usage_error(c, "%s", strempty(error)) : failure(c, error);
        }
        if (r == -EINVAL)
                return cli_command_usage_error(c, "%s", strempty(error));
        if (r != 0)
                return failure(c, error);
        error = mfree(error);
        r = o->no_sample ? -ENOENT : cli_node_subject_id(o->state_dir, o->people, subject, &error);
        if (r < 0) {
                if (!o->no_sample)
                        fprintf(stderr, "xbus up: %s; showing the demo citizen %s instead\n", strempty(error),
                                CLI_NODE_DEMO_SUBJECT);
                memcpy(subject, CLI_NODE_DEMO_SUBJECT, sizeof(subject));
        }
        print_howto(stdout, o->state_dir, &info, subject);
        cli_node_info_done(&info);
        cli_up_request_done(&a.u);
        return EXIT_SUCCESS;
}

#define UP_WAIT_S STRINGIFY(CLI_NODE_UP_WAIT_S)
#define UP_PEOPLE_HELP "default " STRINGIFY(CLI_NODE_DEFAULT_PEOPLE) ", at most " STRINGIFY(CLI_NODE_MAX_PEOPLE)

static const CliOption up_options[] = {
        CLI_STRING('s', "state", "DIR",
                   "state folder (default ./state, or the configuration's): log, demo PKI,\n"
                   "sample dataset, xbusd.log, adapter-sample.log, the pid files, node.json",
                   UpArgs, u.state),
        { OPT_PORT, "port", "N", "HTTPS port on 127.0.0.1 (or " CLI_ENV_PORT "=N; default 8443, or a free one)" },
        { OPT_ADAPTERS_PORT, "adapters-port", "N",
          "port for adapters on 127.0.0.1 (or " CLI_ENV_ADAPTERS_PORT "=N; default 5560, or a free one)" },
        { 'l', "listen", "HOST:PORT", "HTTPS address (instead of --port)" },
        CLI_STRING('a', "adapters", "EP", "ZeroMQ endpoint for adapters (instead of --adapters-port)", UpArgs,
                   u.adapters),
        CLI_STRING('c', "config", "FILE", "xbusd's configuration (on the demo PKI; docs/configuration.md)", UpArgs,
                   u.config),
        CLI_STRING('r', "registry", "DIR", "a registry folder (instead of the configuration's or the sample)", UpArgs,
                   o.registry),
        CLI_FLAG(0, "no-sample", "start no sample adapter (a registry without the sample databases)", UpArgs,
                 o.no_sample),
        { 'p', "people", "N", "people in the sample dataset (" UP_PEOPLE_HELP ")" },
        {},
};

static const CliCommand up_command = {
        .name = "xbus up",
        .summary = "start a local node and the sample adapter (or reuse a running one)",
        .description = "Start a local node for trying things out: xbusd and the sample adapter "
                       "(xbus-adapter-sample),\n"
                       "both from the folder of this program, in the background. A node of the state folder that "
                       "already\n"
                       "answers is reused. A default port that another program holds is replaced by a free one "
                       "(said,\n"
                       "and recorded in STATE/node.json, where call, demo, consent, subject and audit find it); a "
                       "port\n"
                       "given is used as is. Waits (at most " UP_WAIT_S " s) until the node reports an adapter, then "
                       "prints what to try.\n",
        .options = up_options,
        .epilogue = "Examples:\n"
                    "  xbus up --state /tmp/xbus-state --port 18443 --adapters-port 15560\n"
                    "  XBUS_PORT=18443 xbus up\n"
                    "  xbus up --config my-node.conf --registry my-registry\n",
        .run = cmd_up,
};

/* --- down ---------------------------------------------------------------- */

static int cmd_down(const CliCommand *c, int argc, char **argv)
{
        CliNodeOptions o = { .state_dir = CLI_NODE_DEFAULT_STATE };
        _cleanup_free_ char *error = NULL;
        int r;

        r = cli_command_parse(c, &argc, &argv, NULL, &o);
        if (r != CLI_CONTINUE)
                return r;
        if (cli_node_down(o.state_dir, stdout, &error) < 0)
                return failure(c, error);
        return EXIT_SUCCESS;
}

#define DOWN_WAIT_S STRINGIFY(CLI_NODE_DOWN_WAIT_S)

static const CliOption down_options[] = {
        CLI_STRING('s', "state", "DIR", "state folder (default ./state)", CliNodeOptions, state_dir),
        {},
};

static const CliCommand down_command = {
        .name = "xbus down",
        .summary = "stop what `up` started",
        .description = "Stop what `xbus up` started (the pid files STATE/adapter-sample.pid and STATE/xbusd.pid):\n"
                       "SIGTERM, then SIGKILL after " DOWN_WAIT_S " s. A pid that now belongs to another program is "
                       "left alone.\n",
        .options = down_options,
        .epilogue = "Example:\n"
                    "  xbus down --state /tmp/xbus-state\n",
        .run = cmd_down,
};

/* --- demo ---------------------------------------------------------------- */

static int demo_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        CliDemoOptions *o = userdata;
        _cleanup_free_ char *listen = NULL;

        if (cli_node_listen_from_url(arg, &listen) < 0) /* --url */
                return cli_command_usage_error(c, "--url wants https://HOST:PORT, not \"%s\"", arg);
        o->url = arg;
        return 0;
}

static int cmd_demo(const CliCommand *c, int argc, char **argv)
{
        CliDemoOptions o = { .state_dir = CLI_NODE_DEFAULT_STATE, .out = stdout };
        _cleanup_free_ char *error = NULL, *url = NULL;
        CliUpRequest u = {};
        int r;

        r = cli_command_parse(c, &argc, &argv, demo_option, &o);
        if (r != CLI_CONTINUE)
                return r;
        /* XBUS_PORT and XBUS_ADAPTERS_PORT, as for `xbus up` */
        u = (CliUpRequest){ .state = o.state_dir, .adapters = o.adapters };
        r = o.url ? 0 : cli_up_resolve(&u, &error);
        if (r == 0 && u.listen_given && cli_node_url_from_listen(u.listen_given, &url) == 0)
                o.url = url;
        if (r == 0 && u.adapters_given)
                o.adapters = u.adapters_given;
        if (r == 0)
                r = cli_demo_run(&o, &error);
        cli_up_request_done(&u);
        if (r == CLI_DEMO_E_UNEXPECTED)
                return EXIT_FAILURE;
        if (r != 0)
                return failure(c, error);
        return EXIT_SUCCESS;
}

static const CliOption demo_options[] = {
        CLI_STRING('s', "state", "DIR", "state folder (default ./state)", CliDemoOptions, state_dir),
        { 'u', "url", "URL",
          "the node (default: where `xbus up` started it, else as `xbus up` starts one);\n"
          "its HOST:PORT is used when starting it" },
        CLI_STRING('a', "adapters", "EP",
                   "ZeroMQ endpoint when the node has to be started (default " CLI_NODE_DEFAULT_ADAPTERS ")",
                   CliDemoOptions, adapters),
        {},
};

static const CliCommand demo_command = {
        .name = "xbus demo",
        .summary = "run the guided scenario and check every step",
        .description = "A guided scenario: starts the node if nothing answers at the URL (as `xbus up`), then\n"
                       "  1. a ministry reads a citizen (200, receipt verified);\n"
                       "  2. a bank without a right asks for the same citizen (403 access_denied);\n"
                       "  3. an unknown service (404 service_unknown);\n"
                       "  4. a purpose the right does not list (403 purpose_invalid);\n"
                       "  5. a consent-based right without consent (403 consent_required);\n"
                       "  6. the exchange log, read at the returned sequence numbers, records every decision;\n"
                       "  7. the national portal records the citizen's consent (consent API);\n"
                       "  8. the same land request with the consent (200, receipt verified);\n"
                       "  9. the citizen's access history shows both requests (refused and allowed);\n"
                       " 10. the portal revokes the consent; 11. the request is refused again (consent_invalid).\n"
                       "Exit status 0 only when every step behaved as expected.\n",
        .options = demo_options,
        .epilogue = "Example:\n"
                    "  xbus demo --state /tmp/xbus-state --url https://127.0.0.1:18443\n",
        .run = cmd_demo,
};

/* --- consent, subject ---------------------------------------------------- */

typedef struct ConsentArgs {
        CliConsentTarget t;
        CliConsentGrant g;
        uint64_t limit, cursor; /* subject accesses */
} ConsentArgs;

/* The options of `consent` and `subject accesses` that are not stored (each table has its own). */
static int consent_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        ConsentArgs *a = userdata;

        switch (key) {
        case OPT_SERVICE:
                if (a->g.n_services >= CLI_CONSENT_MAX_SCOPE)
                        return cli_command_usage_error(c, "at most %d services", CLI_CONSENT_MAX_SCOPE);
                a->g.services[a->g.n_services++] = arg;
                break;
        case OPT_CATEGORY:
                if (a->g.n_categories >= CLI_CONSENT_MAX_SCOPE)
                        return cli_command_usage_error(c, "at most %d categories", CLI_CONSENT_MAX_SCOPE);
                a->g.categories[a->g.n_categories++] = arg;
                break;
        case OPT_MAX_USES:
                if (parse_u64(arg, 1, 1000000, &a->g.max_uses) < 0)
                        return cli_command_usage_error(c, "--max-uses must be a number from 1 to 1000000");
                break;
        case 'n':
                if (parse_u64(arg, 1, 500, &a->limit) < 0)
                        return cli_command_usage_error(c, "--limit must be a number from 1 to 500");
                break;
        case 'c':
                if (cli_parse_seq(arg, &a->cursor) < 0)
                        return cli_command_usage_error(c, "--cursor must be a log sequence number");
                break;
        }
        return 0;
}

static int consent_result(const CliCommand *c, int r, const char *error)
{
        if (r == CLI_CONSENT_E_REFUSED)
                return EXIT_FAILURE;
        if (r == -EINVAL)
                return cli_command_usage_error(c, "%s", strempty(error));
        if (r != 0)
                return failure(c, error);
        return EXIT_SUCCESS;
}

/*
 * `consent SUB ...` and `subject SUB ...`: the word after the command, then
 * the options. Return: CLI_CONTINUE with *ret_sub, and *argc and *argv at the
 * operands, or the exit status (help, usage error).
 */
static int consent_parse(const CliCommand *c, int *argc, char ***argv, const char *const *subs, const char *which,
                         ConsentArgs *a, const char **ret_sub)
{
        const char *word = *argc >= 2 ? (*argv)[1] : NULL;

        if (!word)
                return cli_command_usage_error(c, "%s", which);
        if (streq(word, "-h") || streq(word, "--help")) {
                cli_command_help(c);
                return EXIT_SUCCESS;
        }
        for (; *subs && !streq(word, *subs); subs++)
                ;
        if (!*subs)
                return cli_command_usage_error(c, "no subcommand \"%s\"", word);
        *ret_sub = *subs;
        (*argc)--;
        (*argv)++;
        return cli_command_parse(c, argc, argv, consent_option, a);
}

static int cmd_consent(const CliCommand *c, int argc, char **argv)
{
        static const char *const subs[] = { "grant", "revoke", "show", "list", NULL };
        ConsentArgs a = { .t = { .state_dir = CLI_NODE_DEFAULT_STATE } };
        _cleanup_free_ char *error = NULL, *url = NULL;
        const char *sub;
        int r;

        r = consent_parse(c, &argc, &argv, subs, "grant, revoke, show or list?", &a, &sub);
        if (r != CLI_CONTINUE)
                return r;
        a.t.base_url = url = cli_node_url(a.t.state_dir, a.t.base_url);
        if (!url)
                return failure(c, NULL);
        if (streq(sub, "grant") || streq(sub, "list")) {
                if (argc > 0)
                        return cli_command_usage_error(c, "unexpected argument \"%s\"", argv[0]);
                if (streq(sub, "grant"))
                        r = cli_consent_grant(&a.t, &a.g, stdout, NULL, &error);
                else if (!a.g.subject)
                        return cli_command_usage_error(c, "list needs --subject");
                else
                        r = cli_consent_list(&a.t, a.g.subject, stdout, &error);
        } else {
                if (argc != 1)
                        return cli_command_usage_error(c, "%s needs one CONSENT-ID", sub);
                r = streq(sub, "revoke") ? cli_consent_revoke(&a.t, argv[0], stdout, &error)
                                         : cli_consent_show(&a.t, argv[0], stdout, &error);
        }
        return consent_result(c, r, error);
}

/* consent and subject: --state, --url, --authority */
#define CONSENT_TARGET_OPTIONS(who)                                                                                  \
        CLI_STRING('s', "state", "DIR", "state folder of the node (default ./state)", ConsentArgs, t.state_dir),     \
                CLI_STRING('u', "url", "URL", "the node (default: where `xbus up` started it)", ConsentArgs,         \
                           t.base_url),                                                                              \
                CLI_STRING('A', "authority", "ID",                                                                   \
                           "the consent authority " who " (default " CLI_CONSENT_DEFAULT_AUTHORITY ")", ConsentArgs, \
                           t.authority)

static const CliOption consent_options[] = {
        CONSENT_TARGET_OPTIONS("acting"),
        CLI_STRING(0, "expires", "T", "RFC 3339 time, or a duration from now: 45s, 90m, 12h, 30d (default 30d)",
                   ConsentArgs, g.expires),
        CLI_STRING(0, "subject", "ID", NULL, ConsentArgs, g.subject),
        CLI_STRING(0, "grantee", "ID", NULL, ConsentArgs, g.grantee),
        { OPT_SERVICE, "service", "SERVICE", NULL },
        { OPT_CATEGORY, "category", "CATEGORY", NULL },
        CLI_STRING(0, "purpose", "CODE", NULL, ConsentArgs, g.purpose),
        CLI_STRING(0, "valid-from", "TIME", NULL, ConsentArgs, g.valid_from),
        { OPT_MAX_USES, "max-uses", "N", NULL },
        {},
};

static const CliCommand consent_command = {
        .name = "xbus consent",
        .summary = "grant, revoke, show or list consents (as a consent authority)",
        .usage = "grant|revoke|show|list [OPTIONS]",
        .description = "Act as a consent authority through the node's consent API (mutual TLS with the authority's\n"
                       "demo certificate from STATE/pki/clients/; docs/consent.md).\n\n"
                       "  xbus consent grant --subject ID --grantee SUBSYSTEM|MEMBER --purpose CODE\n"
                       "                     (--service SERVICE | --category CATEGORY)... [--expires TIME|30d]\n"
                       "                     [--valid-from TIME] [--max-uses N]\n"
                       "  xbus consent revoke CONSENT-ID\n"
                       "  xbus consent show CONSENT-ID\n"
                       "  xbus consent list --subject ID\n",
        .options = consent_options,
        .epilogue = "Times are RFC 3339 (2026-12-31T23:59:59Z). Exit status: 0 done, 1 refused or failed, 2 usage.\n\n"
                    "Example:\n"
                    "  xbus consent grant --subject 001090000001 --grantee VN/GOV/HN-UBND/one-stop-shop \\\n"
                    "       --service VN/GOV/BTNMT/land/land-parcels --purpose public-service-delivery --max-uses 1\n",
        .operands = true,
        .run = cmd_consent,
};

static int cmd_subject(const CliCommand *c, int argc, char **argv)
{
        static const char *const subs[] = { "accesses", NULL };
        ConsentArgs a = { .t = { .state_dir = CLI_NODE_DEFAULT_STATE }, .limit = 50, .cursor = UINT64_MAX };
        _cleanup_free_ char *error = NULL, *url = NULL;
        const char *sub;
        int r;

        r = consent_parse(c, &argc, &argv, subs, "accesses?", &a, &sub);
        if (r != CLI_CONTINUE)
                return r;
        a.t.base_url = url = cli_node_url(a.t.state_dir, a.t.base_url);
        if (!url)
                return failure(c, NULL);
        if (argc != 1)
                return cli_command_usage_error(c, "accesses needs one PERSONAL-ID");
        r = cli_subject_accesses(&a.t, argv[0], (unsigned)a.limit, a.cursor, stdout, NULL, &error);
        return consent_result(c, r, error);
}

static const CliOption subject_options[] = {
        CONSENT_TARGET_OPTIONS("asking"),
        { 'n', "limit", "N", "entries per page, 1..500 (default 50)" },
        { 'c', "cursor", "SEQ", "continue below this log sequence number (from \"more: --cursor\")" },
        {},
};

static const CliCommand subject_command = {
        .name = "xbus subject",
        .summary = "a person's access history: who read their data, when, why",
        .usage = "accesses [OPTIONS] PERSONAL-ID",
        .description = "The citizen's view: who accessed this person's data, when, for what and on which basis\n"
                       "(newest first), from the node's consent API as a consent authority (docs/consent.md).\n",
        .options = subject_options,
        .epilogue = "Example:\n"
                    "  xbus subject accesses 001090000001\n",
        .operands = true,
        .run = cmd_subject,
};

/* --- adapter keygen ------------------------------------------------------ */

typedef struct KeygenArgs {
        const char *out, *name;
} KeygenArgs;

static int cmd_adapter(const CliCommand *c, int argc, char **argv)
{
        KeygenArgs a = { .name = "adapter" };
        _cleanup_free_ char *pub = NULL, *key = NULL, *error = NULL;
        char z85[KEYFILE_CURVE_LEN + 1];
        int r;

        r = cli_command_parse(c, &argc, &argv, NULL, &a);
        if (r != CLI_CONTINUE)
                return r;
        if (argc != 1 || !streq(argv[0], "keygen"))
                return cli_command_usage_error(c, "the subcommand is keygen");
        if (!a.out)
                return cli_command_usage_error(c, "--out is required");
        if (asprintf(&pub, "%s/%s.pub", a.out, a.name) < 0 || asprintf(&key, "%s/%s.key", a.out, a.name) < 0)
                return failure(c, NULL);
        if (access(pub, F_OK) == 0 || access(key, F_OK) == 0)
                return cli_command_failure(c, "\"%s\" or \"%s\" exists: keys are never replaced", key, pub);
        r = pki_curve_ensure(a.out, a.name, &error);
        if (r == 0)
                r = keyfile_curve_load(pub, false, z85);
        if (r < 0)
                return cli_command_failure(c, "%s", error ? error : strerror(-r));
        printf("%s  secret key (mode 0600): give it to the adapter only (--curve-secret-key-file)\n"
               "%s  public key: %s\n"
               "     name it in the registry: adapter-key = %s\n",
               key, pub, z85, z85);
        return EXIT_SUCCESS;
}

static const CliOption adapter_options[] = {
        CLI_STRING('o', "out", "DIR", "write NAME.key and NAME.pub here (created 0700 if missing)", KeygenArgs, out),
        CLI_STRING('n', "name", "NAME", "the files' name (default adapter)", KeygenArgs, name),
        {},
};

static const CliCommand adapter_command = {
        .name = "xbus adapter",
        .summary = "make an adapter's CURVE key pair",
        .usage = "keygen --out DIR [--name NAME]",
        .description = "Make a ZeroMQ CURVE key pair for an adapter (or for the node's adapter endpoint, [keys]\n"
                       "curve-key): DIR/NAME.key, the secret key (Z85, mode 0600), and DIR/NAME.pub, the public key.\n"
                       "Existing files are never replaced. The registry names the public key (docs/registry.md).\n",
        .options = adapter_options,
        .epilogue = "Example:\n"
                    "  xbus adapter keygen --out /etc/xbus/adapters --name population-rest-1\n",
        .operands = true,
        .run = cmd_adapter,
};

/* --- main ---------------------------------------------------------------- */

static const CliCommand *const commands[] = {
        &call_command,      &log_command,         &up_command,       &down_command,    &demo_command,
        &consent_command,   &subject_command,     &adapter_command,  &cli_pki_command, &cli_registry_command,
        &cli_audit_command, &cli_console_command, &cli_node_command,
};

static void help(void)
{
        printf("Usage: xbus [--help] [--version] COMMAND [OPTIONS]\n\n"
               "The xbus command-line tool for operators, auditors and demos.\n\nCommands:\n");
        cli_command_list(commands, ELEMENTSOF(commands));
        printf("\n`xbus COMMAND --help` describes each command. Exit status: 0 success, 1 failure, 2 usage "
               "error.\n"
               "Quick start:\n  xbus up && xbus demo && xbus down\n");
}

int main(int argc, char **argv)
{
        const CliCommand *c;
        int r;

        if (argc > 0 && argv[0] && strchr(argv[0], '/'))
                self_path = argv[0];
        if (argc < 2)
                return cli_command_usage_error(&xbus_root, "which command?");
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || (streq(argv[1], "help") && argc == 2)) {
                help();
                return EXIT_SUCCESS;
        }
        if (streq(argv[1], "-V") || streq(argv[1], "--version")) {
                printf("xbus %s\n", XBUS_VERSION);
                return EXIT_SUCCESS;
        }
        if (streq(argv[1], "help")) {
                c = cli_command_find(commands, ELEMENTSOF(commands), argv[2]);
                if (!c)
                        return cli_command_usage_error(&xbus_root, "no command \"%s\"", argv[2]);
                cli_command_help(c);
                return EXIT_SUCCESS;
        }
        c = cli_command_find(commands, ELEMENTSOF(commands), argv[1]);
        if (!c) {
                if (argv[1][0] == '-')
                        return cli_command_usage_error(&xbus_root, "options come after the command");
                return cli_command_usage_error(&xbus_root, "no command \"%s\"", argv[1]);
        }
        if (cli_http_global_init() < 0) {
                fprintf(stderr, "xbus: cannot initialise libcurl\n");
                return EXIT_FAILURE;
        }
        r = cli_command_run(c, argc - 1, argv + 1);
        cli_http_global_done();
        return r;
}
