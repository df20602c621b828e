/* adapter-cli.c: the command line the adapter programs share */
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <zmq.h>

#include "runtime/adapter-cli.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"

static const struct option common_options[] = {
        { "bus", required_argument, NULL, ADAPTER_CLI_ARG_BUS },
        { "workers", required_argument, NULL, ADAPTER_CLI_ARG_WORKERS },
        { "name", required_argument, NULL, ADAPTER_CLI_ARG_NAME },
        { "curve-server-key", required_argument, NULL, ADAPTER_CLI_ARG_CURVE_SERVER },
        { "curve-public-key", required_argument, NULL, ADAPTER_CLI_ARG_CURVE_PUBLIC },
        { "curve-secret-key-file", required_argument, NULL, ADAPTER_CLI_ARG_CURVE_SECRET_FILE },
        { "curve-server-key-file", required_argument, NULL, ADAPTER_CLI_ARG_CURVE_SERVER_FILE },
        { "help", no_argument, NULL, ADAPTER_CLI_ARG_HELP },
        {},
};

static const struct option forward_options[] = {
        { "route", required_argument, NULL, ADAPTER_CLI_ARG_ROUTE },
        { "timeout", required_argument, NULL, ADAPTER_CLI_ARG_TIMEOUT },
        { "max-response", required_argument, NULL, ADAPTER_CLI_ARG_MAX_RESPONSE },
        { "cacert", required_argument, NULL, ADAPTER_CLI_ARG_CACERT },
        { "cert", required_argument, NULL, ADAPTER_CLI_ARG_CERT },
        { "key", required_argument, NULL, ADAPTER_CLI_ARG_KEY },
        {},
};

static int route_add(AdapterCliForward *f, const char *arg)
{
        const char *eq = strchr(arg, '=');
        size_t n = eq ? (size_t)(eq - arg) : 0;
        AdapterCliRoute *r;

        if (!eq || n == 0)
                return log_error_errno(EINVAL, "--route '%s': want SERVICE=URL", arg);
        if (!f->url_valid(eq + 1))
                return log_error_errno(EINVAL, "--route '%s': the URL must be an absolute http or https URL", arg);
        if (f->n_routes >= PROTO_MAX_SERVICES)
                return log_error_errno(E2BIG, "--route: at most %d routes", PROTO_MAX_SERVICES);
        for (size_t i = 0; i < f->n_routes; i++)
                if (strlen(f->routes[i].service) == n && strneq(f->routes[i].service, arg, n))
                        return log_error_errno(EEXIST, "--route: service '%.*s' routed twice", (int)n, arg);
        r = &f->routes[f->n_routes];
        r->service = strndup(arg, n);
        r->url = strdup(eq + 1);
        if (!r->service || !r->url) {
                r->service = mfree(r->service);
                r->url = mfree(r->url);
                return log_error_errno(ENOMEM, "out of memory");
        }
        f->services[f->n_routes++] = r->service;
        f->services[f->n_routes] = NULL;
        return 0;
}

/* Return: 1 when `opt` is not a forwarding option, else 0 or a negative errno (logged). */
static int forward_option(AdapterCliForward *f, int opt, const char *arg)
{
        uint64_t v;

        switch (opt) {
        case ADAPTER_CLI_ARG_ROUTE:
                return route_add(f, arg);
        case ADAPTER_CLI_ARG_TIMEOUT:
                if (parse_u64(arg, 1, 3600 * 1000, &f->backend.timeout_ms) < 0)
                        return log_error_errno(EINVAL, "--timeout '%s': want 1..3600000 ms", arg);
                return 0;
        case ADAPTER_CLI_ARG_MAX_RESPONSE:
                if (parse_u64(arg, 1, ADAPTER_MAX_BODY_LIMIT, &v) < 0)
                        return log_error_errno(EINVAL, "--max-response '%s': want 1..%u bytes", arg,
                                               ADAPTER_MAX_BODY_LIMIT);
                f->backend.max_response = (size_t)v;
                return 0;
        case ADAPTER_CLI_ARG_CACERT:
                f->backend.ca_file = arg;
                return 0;
        case ADAPTER_CLI_ARG_CERT:
                f->backend.cert_file = arg;
                return 0;
        case ADAPTER_CLI_ARG_KEY:
                f->backend.key_file = arg;
                return 0;
        default:
                return 1;
        }
}

/* Append the {}-terminated `from` to `to` (which holds *n entries, room for max). */
static int options_append(struct option *to, size_t *n, size_t max, const struct option *from)
{
        for (; from && from->name; from++) {
                if (*n + 1 >= max)
                        return -E2BIG;
                to[(*n)++] = *from;
        }
        to[*n] = (struct option){};
        return 0;
}

int adapter_cli_parse(AdapterCli *c, const AdapterCliProgram *p, int argc, char **argv)
{
        struct option options[ADAPTER_CLI_MAX_OPTIONS + 1];
        size_t n = 0;
        uint64_t v;
        int opt, r;

        if (options_append(options, &n, ELEMENTSOF(options), common_options) < 0 ||
            options_append(options, &n, ELEMENTSOF(options), p->forward ? forward_options : NULL) < 0 ||
            options_append(options, &n, ELEMENTSOF(options), p->options) < 0)
                return log_error_errno(E2BIG, "too many options");

        optind = 0; /* a fresh scan */
        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (opt) {
                case ADAPTER_CLI_ARG_BUS:
                        c->bus = optarg;
                        break;
                case ADAPTER_CLI_ARG_WORKERS:
                        if (parse_u64(optarg, 1, ADAPTER_MAX_WORKERS, &v) < 0)
                                return log_error_errno(EINVAL, "--workers '%s': want 1..%d", optarg,
                                                       ADAPTER_MAX_WORKERS);
                        c->workers = (unsigned)v;
                        break;
                case ADAPTER_CLI_ARG_NAME:
                        c->name = optarg;
                        break;
                case ADAPTER_CLI_ARG_CURVE_SERVER:
                        c->curve_server_key = optarg;
                        break;
                case ADAPTER_CLI_ARG_CURVE_PUBLIC:
                        c->curve_public_key = optarg;
                        break;
                case ADAPTER_CLI_ARG_CURVE_SECRET_FILE:
                        c->curve_secret_key_file = optarg;
                        break;
                case ADAPTER_CLI_ARG_CURVE_SERVER_FILE:
                        c->curve_server_key_file = optarg;
                        break;
                case ADAPTER_CLI_ARG_HELP:
                        p->help();
                        return 1;
                default:
                        r = p->forward ? forward_option(p->forward, opt, optarg) : 1;
                        if (r < 0)
                                return r;
                        if (r == 0)
                                break;
                        if (opt < ADAPTER_CLI_ARG_PROGRAM || !p->option)
                                return -EINVAL; /* getopt_long() said why */
                        r = p->option(p->userdata, opt, optarg);
                        if (r < 0)
                                return r;
                }
        }
        if (optind < argc)
                return log_error_errno(EINVAL, "unexpected argument '%s'", argv[optind]);
        if (p->forward) {
                if (p->forward->n_routes == 0)
                        return log_error_errno(EINVAL, "no --route given");
                if (!!p->forward->backend.cert_file != !!p->forward->backend.key_file)
                        return log_error_errno(EINVAL, "--cert and --key go together");
        }
        if (c->curve_server_key && c->curve_server_key_file)
                return log_error_errno(EINVAL, "--curve-server-key and --curve-server-key-file exclude each other");
        if (!!(c->curve_server_key || c->curve_server_key_file) != !!c->curve_secret_key_file ||
            (c->curve_public_key && !c->curve_secret_key_file))
                return log_error_errno(EINVAL, "CURVE needs the node's key (--curve-server-key or "
                                               "--curve-server-key-file) and --curve-secret-key-file together");
        return 0;
}

int adapter_cli_load_secret(AdapterCli *c)
{
        int r;

        if (!c->curve_secret_key_file)
                return 0;
        /* may be group-readable: root:xbus-adapter 0640 is how the package hands it over */
        r = keyfile_curve_load(c->curve_secret_key_file, false, c->curve_secret_key);
        if (r < 0)
                return log_error_errno(r, "CURVE secret key '%s': %m", c->curve_secret_key_file);
        if (c->curve_server_key_file) {
                r = keyfile_curve_load(c->curve_server_key_file, false, c->curve_keys[0]);
                if (r < 0)
                        return log_error_errno(r, "the node's CURVE key '%s': %m", c->curve_server_key_file);
                c->curve_server_key = c->curve_keys[0];
        }
        if (!c->curve_public_key) {
                if (zmq_curve_public(c->curve_keys[1], c->curve_secret_key) < 0)
                        return log_error_errno(EINVAL, "CURVE secret key '%s': not a key", c->curve_secret_key_file);
                c->curve_public_key = c->curve_keys[1];
        }
        return 0;
}

int adapter_cli_run(AdapterCli *c, AdapterOptions *o, const AdapterHandler *h, void *userdata)
{
        int r;

        o->endpoint = c->bus;
        o->name = c->name;
        o->workers = c->workers;
        o->curve_server_key = c->curve_server_key;
        o->curve_public_key = c->curve_public_key;
        o->curve_secret_key = c->curve_secret_key_file ? c->curve_secret_key : NULL;
        /* A backend that goes away mid-write must not kill the program: every adapter program
         * ignores SIGPIPE (libcurl also sends with MSG_NOSIGNAL; this covers everything else). */
        signal(SIGPIPE, SIG_IGN);
        r = adapter_run(o, h, userdata);
        explicit_bzero(c->curve_secret_key, sizeof(c->curve_secret_key));
        if (r < 0) {
                log_error_errno(r, "adapter: %m");
                return 1;
        }
        log_info("stopped");
        return 0;
}

const char *adapter_cli_forward_url(const AdapterCliForward *f, const char *service)
{
        for (size_t i = 0; i < f->n_routes; i++)
                if (streq(f->routes[i].service, service))
                        return f->routes[i].url;
        return NULL;
}

void adapter_cli_forward_log(const AdapterCliForward *f, const AdapterCli *c)
{
        for (size_t i = 0; i < f->n_routes; i++)
                log_info("route '%s' -> '%s'", f->routes[i].service, f->routes[i].url);
        log_info("serving %zu services on '%s' with %u workers, timeout %" PRIu64 " ms", f->n_routes, c->bus,
                 c->workers, f->backend.timeout_ms);
}

void adapter_cli_forward_done(AdapterCliForward *f)
{
        for (size_t i = 0; i < f->n_routes; i++) {
                f->routes[i].service = mfree(f->routes[i].service);
                f->routes[i].url = mfree(f->routes[i].url);
        }
        f->n_routes = 0;
        f->services[0] = NULL;
}
