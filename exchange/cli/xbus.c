/* xbus.c: the xbus command-line tool (call, log, up, down, demo) for operators, auditors and demos
 *
 * A thin program: each subcommand parses its options here and calls a cli-*
 * module (cli-exchange for HTTP exchanges, cli-log for the exchange log,
 * cli-node for starting and stopping a local node, cli-demo for the guided
 * scenario). Exit codes: 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli-consent.h"
#include "cli/cli-audit.h"
#include "cli/cli-common.h"
#include "cli/cli-demo.h"
#include "cli/cli-exchange.h"
#include "cli/cli-http.h"
#include "cli/cli-log.h"
#include "cli/cli-node.h"
#include "cli/cli-table.h"
#include "util/macro.h"
#include "xbus-config.h"

#define DATA_MAX CLI_HTTP_MAX_BODY

/* How this program was invoked, for the command lines `up` prints. */
static const char *self_path = "xbus";

static int usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);
static int usage_error(const char *cmd, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = cli_vusage_error("xbus", cmd, fmt, ap);
        va_end(ap);
        return r;
}

static int failure(const char *cmd, const char *error)
{
        fprintf(stderr, "xbus %s: %s\n", cmd, error ? error : "out of memory");
        return EXIT_FAILURE;
}

/* --- call ---------------------------------------------------------------- */

static void help_call(void)
{
        printf("Usage: xbus call [OPTIONS] --client SUBSYSTEM SERVICE[/path][?query]\n\n"
               "Make one exchange as a client system: mutual TLS with the client's demo certificate\n"
               "(STATE/pki/clients/), X-Road headers, and verification of the signed receipt.\n\n"
               "  -s, --state DIR        state folder of the node (default ./state)\n"
               "  -u, --url URL          the node (default %s)\n"
               "  -c, --client ID        client subsystem, e.g. VN/GOV/BYT/health-services (required)\n"
               "  -X, --request METHOD   HTTP method (default GET, or POST with --data)\n"
               "      --subject ID       X-Bus-Subject: the data subject's personal id\n"
               "      --purpose CODE     X-Bus-Purpose, e.g. health-insurance-enrolment\n"
               "      --consent ID       X-Bus-Consent: a consent id or a signed consent artefact\n"
               "      --user-id USER     X-Road-UserId: the official acting\n"
               "      --issue CASE       X-Road-Issue: case or dossier number\n"
               "  -d, --data JSON|@FILE  request body (@- reads standard input); sent as application/json\n"
               "  -v, --verbose          print the request, every response header and the receipt's "
               "content\n"
               "  -h, --help             this help\n\n"
               "Prints the status line, X-Road-Id, X-Bus-Log-Seq and X-Road-Error, the body (JSON "
               "pretty-printed)\n"
               "and \"receipt: verified (log seq N)\" when the receipt verifies against "
               "STATE/pki/signing.jwk and\n"
               "matches the body received. Exit status: 0 for a 2xx answer with a verified receipt, 1 "
               "otherwise.\n\n"
               "Example:\n"
               "  xbus call --client VN/GOV/BYT/health-services --subject 001090000001 \\\n"
               "           --purpose health-insurance-enrolment VN/GOV/BCA/population/citizen\n",
               CLI_NODE_DEFAULT_URL);
}

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
                if (!f) {
                        if (asprintf(ret_error, "cannot read \"%s\": %m", arg + 1) < 0)
                                *ret_error = NULL;
                        return -errno;
                }
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
                if (!j) {
                        if (asprintf(ret_error, "the data is not JSON: %s (line %d, column %d)", err.text, err.line,
                                     err.column) < 0)
                                *ret_error = NULL;
                        return -EINVAL;
                }
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

static int cmd_call(int argc, char **argv)
{
        static const struct option options[] = {
                { "state", required_argument, NULL, 's' },   { "url", required_argument, NULL, 'u' },
                { "client", required_argument, NULL, 'c' },  { "request", required_argument, NULL, 'X' },
                { "method", required_argument, NULL, 'X' },  { "subject", required_argument, NULL, 'S' },
                { "purpose", required_argument, NULL, 'P' }, { "consent", required_argument, NULL, 'C' },
                { "user-id", required_argument, NULL, 'U' }, { "issue", required_argument, NULL, 'I' },
                { "data", required_argument, NULL, 'd' },    { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },          {},
        };
        CliExchange x = { .state_dir = CLI_NODE_DEFAULT_STATE, .base_url = CLI_NODE_DEFAULT_URL };
        _cleanup_free_ char *data = NULL, *error = NULL;
        const char *data_arg = NULL;
        CliExchangeResult res = {};
        bool verbose = false;
        size_t data_size = 0;
        int opt, r, ret;

        while ((opt = getopt_long(argc, argv, "s:u:c:X:d:vh", options, NULL)) >= 0) {
                switch (opt) {
                case 's':
                        x.state_dir = optarg;
                        break;
                case 'u':
                        x.base_url = optarg;
                        break;
                case 'c':
                        x.client = optarg;
                        break;
                case 'X':
                        x.method = optarg;
                        break;
                case 'S':
                        x.subject = optarg;
                        break;
                case 'P':
                        x.purpose = optarg;
                        break;
                case 'C':
                        x.consent = optarg;
                        break;
                case 'U':
                        x.user_id = optarg;
                        break;
                case 'I':
                        x.issue = optarg;
                        break;
                case 'd':
                        data_arg = optarg;
                        break;
                case 'v':
                        verbose = true;
                        break;
                case 'h':
                        help_call();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("call", "unknown option");
                }
        }
        if (optind + 1 != argc)
                return usage_error("call", optind >= argc ? "which SERVICE?" : "one SERVICE only");
        if (!x.client)
                return usage_error("call", "--client is required");
        x.target = argv[optind];
        if (data_arg) {
                r = read_data(data_arg, &data, &data_size, &error);
                if (r == -E2BIG)
                        return usage_error("call", "--data is larger than %u MiB", DATA_MAX / 1024 / 1024);
                if (r < 0)
                        return usage_error("call", "%s", error ? error : strerror(-r));
                x.body = data;
                x.body_size = data_size;
        }

        r = cli_exchange_call(&x, &res, &error);
        if (r == -EINVAL)
                return usage_error("call", "%s", strempty(error));
        if (r != 0)
                return failure("call", error);

        if (verbose) {
                printf("> %s %s\n", x.method ? x.method : (x.body ? "POST" : "GET"), res.url);
                printf("> X-Road-Client: %s\n> X-Road-Id: %s\n", x.client, res.xroad_id);
                if (x.subject)
                        printf("> X-Bus-Subject: %s\n", x.subject);
                if (x.purpose)
                        printf("> X-Bus-Purpose: %s\n", x.purpose);
                if (x.consent)
                        printf("> X-Bus-Consent: %s\n", x.consent);
                if (x.user_id)
                        printf("> X-Road-UserId: %s\n", x.user_id);
                if (x.issue)
                        printf("> X-Road-Issue: %s\n", x.issue);
                printf("> (request body %zu bytes, SHA-256 %s)\n\n", x.body_size, res.request_hash);
        }
        {
                _cleanup_free_ char *line = cli_sanitize(res.response->status_line, 256);
                printf("%s\n", line && *line ? line : "(no status line)");
        }
        if (verbose) {
                for (size_t i = 0; i < res.response->n_headers; i++)
                        print_safe_line(stdout, res.response->headers[i].name, res.response->headers[i].value);
        } else {
                static const char *const shown[] = { "X-Road-Id", "X-Road-Service", "X-Bus-Log-Seq", "X-Road-Error" };
                for (size_t i = 0; i < ELEMENTSOF(shown); i++) {
                        const char *v = cli_http_response_header(res.response, shown[i]);
                        if (v)
                                print_safe_line(stdout, shown[i], v);
                }
        }
        fputc('\n', stdout);
        print_body(stdout, res.response);

        switch (res.receipt) {
        case CLI_RECEIPT_VERIFIED:
                printf("\nreceipt: verified (log seq %" PRIu64 ")\n", res.log_seq);
                if (verbose) {
                        char *s = json_dumps(res.receipt_payload, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                        if (s)
                                printf("%s\n", s);
                        free(s);
                }
                break;
        case CLI_RECEIPT_FAILED: {
                _cleanup_free_ char *reason = cli_sanitize(res.receipt_reason, 512);
                printf("\nreceipt: FAILED: %s\n", reason ? reason : "?");
                break;
        }
        case CLI_RECEIPT_NONE:
                break;
        }
        fflush(stdout);
        ret = cli_exchange_ok(&res) ? EXIT_SUCCESS : EXIT_FAILURE;
        cli_exchange_result_done(&res);
        return ret;
}

/* --- log ----------------------------------------------------------------- */

static void help_log(void)
{
        printf("Usage: xbus log [OPTIONS]\n\n"
               "Show the last entries of the exchange log (STATE/log), read-only: it works while xbusd "
               "runs.\n\n"
               "  -s, --state DIR   state folder of the node (default ./state)\n"
               "  -n, --last N      how many entries (default %d, at most %d)\n"
               "  -j, --json        print the raw entries, one JSON object per line (JSON Lines)\n"
               "  -h, --help        this help\n\n"
               "The table shows seq, time (UTC), client, service, decision (allow/deny), status and "
               "problem\n"
               "type, purpose and legal basis.\n\n"
               "Example:\n"
               "  xbus log --last 5\n",
               CLI_LOG_DEFAULT_LAST, CLI_LOG_MAX_LAST);
}

static int cmd_log(int argc, char **argv)
{
        static const struct option options[] = {
                { "state", required_argument, NULL, 's' },
                { "last", required_argument, NULL, 'n' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *state = CLI_NODE_DEFAULT_STATE;
        _cleanup_free_ char *error = NULL;
        uint64_t last = CLI_LOG_DEFAULT_LAST;
        bool json = false;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "s:n:jh", options, NULL)) >= 0) {
                switch (opt) {
                case 's':
                        state = optarg;
                        break;
                case 'n':
                        if (!cli_parse_decimal(optarg, 1, CLI_LOG_MAX_LAST, &last))
                                return usage_error("log", "--last must be a number from 1 to %d", CLI_LOG_MAX_LAST);
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        help_log();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("log", "unknown option");
                }
        }
        if (optind < argc)
                return usage_error("log", "unexpected argument \"%s\"", argv[optind]);
        r = cli_log_print_last(state, last, json, stdout, &error);
        if (r < 0)
                return failure("log", error);
        return EXIT_SUCCESS;
}

/* --- up ------------------------------------------------------------------ */

static void help_up(void)
{
        printf("Usage: xbus up [OPTIONS]\n\n"
               "Start a local node for trying things out: xbusd and the sample adapter "
               "(xbus-adapter-sample),\n"
               "both from the folder of this program, in the background. A node that already answers at "
               "the\n"
               "address is reused. Waits (at most %u s) until the node reports an adapter, then prints what "
               "to try.\n\n"
               "  -s, --state DIR       state folder (default ./state): log, demo PKI, sample dataset,\n"
               "                        xbusd.log, adapter-sample.log, xbusd.pid, adapter-sample.pid\n"
               "  -l, --listen HOST:PORT  HTTPS address (default %s)\n"
               "  -a, --adapters EP     ZeroMQ endpoint for adapters (default %s)\n"
               "  -p, --people N        people in the sample dataset (default %llu, at most %llu)\n"
               "  -h, --help            this help\n\n"
               "Example:\n"
               "  xbus up --state /tmp/xbus-state --listen 127.0.0.1:18443 --adapters "
               "tcp://127.0.0.1:15560\n",
               CLI_NODE_UP_WAIT_MS / 1000, CLI_NODE_DEFAULT_LISTEN, CLI_NODE_DEFAULT_ADAPTERS,
               (unsigned long long)CLI_NODE_DEFAULT_PEOPLE, (unsigned long long)CLI_NODE_MAX_PEOPLE);
}

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

static int cmd_up(int argc, char **argv)
{
        static const struct option options[] = {
                { "state", required_argument, NULL, 's' },    { "listen", required_argument, NULL, 'l' },
                { "adapters", required_argument, NULL, 'a' }, { "people", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },           {},
        };
        CliNodeOptions o = { .state_dir = CLI_NODE_DEFAULT_STATE, .progress = stdout };
        _cleanup_free_ char *error = NULL, *url = NULL;
        CliNodeInfo info = {};
        char subject[13];
        int opt, r;

        while ((opt = getopt_long(argc, argv, "s:l:a:p:h", options, NULL)) >= 0) {
                switch (opt) {
                case 's':
                        o.state_dir = optarg;
                        break;
                case 'l':
                        if (cli_node_url_from_listen(optarg, &url) < 0)
                                return usage_error("up", "--listen wants HOST:PORT, not \"%s\"", optarg);
                        url = mfree(url);
                        o.listen = optarg;
                        break;
                case 'a':
                        o.adapters = optarg;
                        break;
                case 'p':
                        if (!cli_parse_decimal(optarg, 1, CLI_NODE_MAX_PEOPLE, &o.people))
                                return usage_error("up", "--people must be a number from 1 to %llu",
                                                   (unsigned long long)CLI_NODE_MAX_PEOPLE);
                        break;
                case 'h':
                        help_up();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("up", "unknown option");
                }
        }
        if (optind < argc)
                return usage_error("up", "unexpected argument \"%s\"", argv[optind]);
        if (isempty(o.state_dir))
                return usage_error("up", "--state is empty");

        r = cli_node_up(&o, &info, &error);
        if (r == -EINVAL)
                return usage_error("up", "%s", strempty(error));
        if (r != 0)
                return failure("up", error);
        error = mfree(error);
        r = cli_node_subject_id(o.state_dir, o.people, subject, &error);
        if (r < 0) {
                fprintf(stderr, "xbus up: %s; showing the demo citizen %s instead\n", strempty(error),
                        CLI_NODE_DEMO_SUBJECT);
                memcpy(subject, CLI_NODE_DEMO_SUBJECT, sizeof(subject));
        }
        print_howto(stdout, o.state_dir, &info, subject);
        cli_node_info_done(&info);
        return EXIT_SUCCESS;
}

/* --- down ---------------------------------------------------------------- */

static void help_down(void)
{
        printf("Usage: xbus down [OPTIONS]\n\n"
               "Stop what `xbus up` started (the pid files STATE/adapter-sample.pid and STATE/xbusd.pid):\n"
               "SIGTERM, then SIGKILL after %u s. A pid that now belongs to another program is left "
               "alone.\n\n"
               "  -s, --state DIR   state folder (default ./state)\n"
               "  -h, --help        this help\n\n"
               "Example:\n"
               "  xbus down --state /tmp/xbus-state\n",
               CLI_NODE_DOWN_WAIT_MS / 1000);
}

static int cmd_down(int argc, char **argv)
{
        static const struct option options[] = {
                { "state", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *state = CLI_NODE_DEFAULT_STATE;
        _cleanup_free_ char *error = NULL;
        int opt;

        while ((opt = getopt_long(argc, argv, "s:h", options, NULL)) >= 0) {
                switch (opt) {
                case 's':
                        state = optarg;
                        break;
                case 'h':
                        help_down();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("down", "unknown option");
                }
        }
        if (optind < argc)
                return usage_error("down", "unexpected argument \"%s\"", argv[optind]);
        if (cli_node_down(state, stdout, &error) < 0)
                return failure("down", error);
        return EXIT_SUCCESS;
}

/* --- demo ---------------------------------------------------------------- */

static void help_demo(void)
{
        printf("Usage: xbus demo [OPTIONS]\n\n"
               "A guided scenario: starts the node if nothing answers at the URL (as `xbus up`), then\n"
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
               "Exit status 0 only when every step behaved as expected.\n\n"
               "  -s, --state DIR      state folder (default ./state)\n"
               "  -u, --url URL        the node (default %s); its HOST:PORT is used when starting it\n"
               "  -a, --adapters EP    ZeroMQ endpoint when the node has to be started (default %s)\n"
               "  -h, --help           this help\n\n"
               "Example:\n"
               "  xbus demo --state /tmp/xbus-state --url https://127.0.0.1:18443\n",
               CLI_NODE_DEFAULT_URL, CLI_NODE_DEFAULT_ADAPTERS);
}

static int cmd_demo(int argc, char **argv)
{
        static const struct option options[] = {
                { "state", required_argument, NULL, 's' },
                { "url", required_argument, NULL, 'u' },
                { "adapters", required_argument, NULL, 'a' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        CliDemoOptions o = { .state_dir = CLI_NODE_DEFAULT_STATE, .url = CLI_NODE_DEFAULT_URL, .out = stdout };
        _cleanup_free_ char *error = NULL, *listen = NULL;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "s:u:a:h", options, NULL)) >= 0) {
                switch (opt) {
                case 's':
                        o.state_dir = optarg;
                        break;
                case 'u':
                        if (cli_node_listen_from_url(optarg, &listen) < 0)
                                return usage_error("demo", "--url wants https://HOST:PORT, not \"%s\"", optarg);
                        listen = mfree(listen);
                        o.url = optarg;
                        break;
                case 'a':
                        o.adapters = optarg;
                        break;
                case 'h':
                        help_demo();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("demo", "unknown option");
                }
        }
        if (optind < argc)
                return usage_error("demo", "unexpected argument \"%s\"", argv[optind]);
        r = cli_demo_run(&o, &error);
        if (r == CLI_DEMO_E_UNEXPECTED)
                return EXIT_FAILURE;
        if (r != 0)
                return failure("demo", error);
        return EXIT_SUCCESS;
}

/* --- consent, subject ---------------------------------------------------- */

static void help_consent(void)
{
        printf("Usage: xbus consent grant|revoke|show|list [OPTIONS]\n\n"
               "Act as a consent authority through the node's consent API (mutual TLS with the authority's\n"
               "demo certificate from STATE/pki/clients/; docs/consent.md).\n\n"
               "  xbus consent grant --subject ID --grantee SUBSYSTEM|MEMBER --purpose CODE\n"
               "                     (--service SERVICE | --category CATEGORY)... [--expires TIME|30d]\n"
               "                     [--valid-from TIME] [--max-uses N]\n"
               "  xbus consent revoke CONSENT-ID\n"
               "  xbus consent show CONSENT-ID\n"
               "  xbus consent list --subject ID\n\n"
               "  -s, --state DIR        state folder of the node (default ./state)\n"
               "  -u, --url URL          the node (default %s)\n"
               "  -A, --authority ID     the consent authority acting (default %s)\n"
               "      --expires T        RFC 3339 time, or a duration from now: 45s, 90m, 12h, 30d (default 30d)\n"
               "  -h, --help             this help\n\n"
               "Times are RFC 3339 (2026-12-31T23:59:59Z). Exit status: 0 done, 1 refused or failed, 2 usage.\n\n"
               "Example:\n"
               "  xbus consent grant --subject 001090000001 --grantee VN/GOV/HN-UBND/one-stop-shop \\\n"
               "       --service VN/GOV/BTNMT/land/land-parcels --purpose public-service-delivery --max-uses 1\n",
               CLI_NODE_DEFAULT_URL, CLI_CONSENT_DEFAULT_AUTHORITY);
}

static int consent_result(const char *cmd, int r, const char *error)
{
        if (r == CLI_CONSENT_E_REFUSED)
                return EXIT_FAILURE;
        if (r == -EINVAL)
                return usage_error(cmd, "%s", strempty(error));
        if (r != 0)
                return failure(cmd, error);
        return EXIT_SUCCESS;
}

static int cmd_consent(int argc, char **argv)
{
        enum {
                OPT_SUBJECT = 0x100,
                OPT_GRANTEE,
                OPT_SERVICE,
                OPT_CATEGORY,
                OPT_PURPOSE,
                OPT_EXPIRES,
                OPT_VALID_FROM,
                OPT_MAX_USES
        };
        static const struct option options[] = {
                { "state", required_argument, NULL, 's' },
                { "url", required_argument, NULL, 'u' },
                { "authority", required_argument, NULL, 'A' },
                { "subject", required_argument, NULL, OPT_SUBJECT },
                { "grantee", required_argument, NULL, OPT_GRANTEE },
                { "service", required_argument, NULL, OPT_SERVICE },
                { "category", required_argument, NULL, OPT_CATEGORY },
                { "purpose", required_argument, NULL, OPT_PURPOSE },
                { "expires", required_argument, NULL, OPT_EXPIRES },
                { "valid-from", required_argument, NULL, OPT_VALID_FROM },
                { "max-uses", required_argument, NULL, OPT_MAX_USES },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        CliConsentTarget t = { .state_dir = CLI_NODE_DEFAULT_STATE, .base_url = CLI_NODE_DEFAULT_URL };
        CliConsentGrant g = {};
        _cleanup_free_ char *error = NULL;
        const char *sub;
        int opt, r;

        if (argc < 2 || streq(argv[1], "-h") || streq(argv[1], "--help")) {
                if (argc < 2)
                        return usage_error("consent", "grant, revoke, show or list?");
                help_consent();
                return EXIT_SUCCESS;
        }
        sub = argv[1];
        if (!streq(sub, "grant") && !streq(sub, "revoke") && !streq(sub, "show") && !streq(sub, "list"))
                return usage_error("consent", "no subcommand \"%s\"", sub);
        argc--;
        argv++;
        while ((opt = getopt_long(argc, argv, "s:u:A:h", options, NULL)) >= 0) {
                switch (opt) {
                case 's':
                        t.state_dir = optarg;
                        break;
                case 'u':
                        t.base_url = optarg;
                        break;
                case 'A':
                        t.authority = optarg;
                        break;
                case OPT_SUBJECT:
                        g.subject = optarg;
                        break;
                case OPT_GRANTEE:
                        g.grantee = optarg;
                        break;
                case OPT_SERVICE:
                        if (g.n_services >= CLI_CONSENT_MAX_SCOPE)
                                return usage_error("consent", "at most %d services", CLI_CONSENT_MAX_SCOPE);
                        g.services[g.n_services++] = optarg;
                        break;
                case OPT_CATEGORY:
                        if (g.n_categories >= CLI_CONSENT_MAX_SCOPE)
                                return usage_error("consent", "at most %d categories", CLI_CONSENT_MAX_SCOPE);
                        g.categories[g.n_categories++] = optarg;
                        break;
                case OPT_PURPOSE:
                        g.purpose = optarg;
                        break;
                case OPT_EXPIRES:
                        g.expires = optarg;
                        break;
                case OPT_VALID_FROM:
                        g.valid_from = optarg;
                        break;
                case OPT_MAX_USES:
                        if (!cli_parse_decimal(optarg, 1, 1000000, &g.max_uses))
                                return usage_error("consent", "--max-uses must be a number from 1 to 1000000");
                        break;
                case 'h':
                        help_consent();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("consent", "unknown option");
                }
        }
        if (streq(sub, "grant")) {
                if (optind < argc)
                        return usage_error("consent", "unexpected argument \"%s\"", argv[optind]);
                r = cli_consent_grant(&t, &g, stdout, NULL, &error);
        } else if (streq(sub, "list")) {
                if (optind < argc)
                        return usage_error("consent", "unexpected argument \"%s\"", argv[optind]);
                if (!g.subject)
                        return usage_error("consent", "list needs --subject");
                r = cli_consent_list(&t, g.subject, stdout, &error);
        } else {
                if (optind + 1 != argc)
                        return usage_error("consent", "%s needs one CONSENT-ID", sub);
                r = streq(sub, "revoke") ? cli_consent_revoke(&t, argv[optind], stdout, &error)
                                         : cli_consent_show(&t, argv[optind], stdout, &error);
        }
        return consent_result("consent", r, error);
}

static void help_subject(void)
{
        printf("Usage: xbus subject accesses [OPTIONS] PERSONAL-ID\n\n"
               "The citizen's view: who accessed this person's data, when, for what and on which basis\n"
               "(newest first), from the node's consent API as a consent authority (docs/consent.md).\n\n"
               "  -s, --state DIR        state folder of the node (default ./state)\n"
               "  -u, --url URL          the node (default %s)\n"
               "  -A, --authority ID     the consent authority asking (default %s)\n"
               "  -n, --limit N          entries per page, 1..500 (default 50)\n"
               "  -c, --cursor SEQ       continue below this log sequence number (from \"more: --cursor\")\n"
               "  -h, --help             this help\n\n"
               "Example:\n"
               "  xbus subject accesses 001090000001\n",
               CLI_NODE_DEFAULT_URL, CLI_CONSENT_DEFAULT_AUTHORITY);
}

static int cmd_subject(int argc, char **argv)
{
        static const struct option options[] = {
                { "state", required_argument, NULL, 's' },
                { "url", required_argument, NULL, 'u' },
                { "authority", required_argument, NULL, 'A' },
                { "limit", required_argument, NULL, 'n' },
                { "cursor", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        CliConsentTarget t = { .state_dir = CLI_NODE_DEFAULT_STATE, .base_url = CLI_NODE_DEFAULT_URL };
        _cleanup_free_ char *error = NULL;
        uint64_t limit = 50, cursor = UINT64_MAX;
        int opt, r;

        if (argc < 2 || streq(argv[1], "-h") || streq(argv[1], "--help")) {
                if (argc < 2)
                        return usage_error("subject", "accesses?");
                help_subject();
                return EXIT_SUCCESS;
        }
        if (!streq(argv[1], "accesses"))
                return usage_error("subject", "no subcommand \"%s\"", argv[1]);
        argc--;
        argv++;
        while ((opt = getopt_long(argc, argv, "s:u:A:n:c:h", options, NULL)) >= 0) {
                switch (opt) {
                case 's':
                        t.state_dir = optarg;
                        break;
                case 'u':
                        t.base_url = optarg;
                        break;
                case 'A':
                        t.authority = optarg;
                        break;
                case 'n':
                        if (!cli_parse_decimal(optarg, 1, 500, &limit))
                                return usage_error("subject", "--limit must be a number from 1 to 500");
                        break;
                case 'c':
                        if (cli_parse_seq(optarg, &cursor) < 0)
                                return usage_error("subject", "--cursor must be a log sequence number");
                        break;
                case 'h':
                        help_subject();
                        return EXIT_SUCCESS;
                default:
                        return usage_error("subject", "unknown option");
                }
        }
        if (optind + 1 != argc)
                return usage_error("subject", "accesses needs one PERSONAL-ID");
        r = cli_subject_accesses(&t, argv[optind], (unsigned)limit, cursor, stdout, NULL, &error);
        return consent_result("subject", r, error);
}

/* --- audit --------------------------------------------------------------- */

/* `xbus audit SUBCOMMAND ...`: the auditor's commands parse their own options (cli-audit.c). */
static int cmd_audit(int argc, char **argv)
{
        return cli_audit_run(argc, argv);
}

/* --- main ---------------------------------------------------------------- */

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        void (*help)(void);
        const char *summary;
} commands[] = {
        { "call", cmd_call, help_call, "make one exchange as a client system and verify its receipt" },
        { "log", cmd_log, help_log, "show the last entries of the exchange log" },
        { "up", cmd_up, help_up, "start a local node and the sample adapter (or reuse a running one)" },
        { "down", cmd_down, help_down, "stop what `up` started" },
        { "demo", cmd_demo, help_demo, "run the guided scenario and check every step" },
        { "consent", cmd_consent, help_consent, "grant, revoke, show or list consents (as a consent authority)" },
        { "subject", cmd_subject, help_subject, "a person's access history: who read their data, when, why" },
        { "audit", cmd_audit, cli_audit_help, "query, export and verify the exchange log (auditors)" },
};

static void help(void)
{
        printf("Usage: xbus [--help] [--version] COMMAND [OPTIONS]\n\n"
               "The xbus command-line tool for operators, auditors and demos.\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                printf("  %-8s %s\n", commands[i].name, commands[i].summary);
        printf("\n`xbus COMMAND --help` describes each command. Exit status: 0 success, 1 failure, 2 usage "
               "error.\n"
               "Quick start:\n  xbus up && xbus demo && xbus down\n");
}

int main(int argc, char **argv)
{
        static char name[32];
        int r;

        if (argc > 0 && argv[0] && strchr(argv[0], '/'))
                self_path = argv[0];
        if (argc < 2)
                return usage_error(NULL, "which command?");
        if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
                help();
                return EXIT_SUCCESS;
        }
        if (streq(argv[1], "-V") || streq(argv[1], "--version")) {
                printf("xbus %s\n", XBUS_VERSION);
                return EXIT_SUCCESS;
        }
        if (streq(argv[1], "help")) {
                if (argc == 2) {
                        help();
                        return EXIT_SUCCESS;
                }
                for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                        if (streq(argv[2], commands[i].name)) {
                                commands[i].help();
                                return EXIT_SUCCESS;
                        }
                return usage_error(NULL, "no command \"%s\"", argv[2]);
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                if (!streq(argv[1], commands[i].name))
                        continue;
                if (cli_http_global_init() < 0) {
                        fprintf(stderr, "xbus: cannot initialise libcurl\n");
                        return EXIT_FAILURE;
                }
                /* each command parses its own options; getopt names it "xbus CMD" in its messages */
                snprintf(name, sizeof(name), "xbus %s", commands[i].name);
                argv[1] = name;
                optind = 0;
                opterr = 1;
                r = commands[i].run(argc - 1, argv + 1);
                cli_http_global_done();
                return r;
        }
        if (argv[1][0] == '-')
                return usage_error(NULL, "options come after the command");
        return usage_error(NULL, "no command \"%s\"", argv[1]);
}
