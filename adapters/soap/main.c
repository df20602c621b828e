/* main.c: xbus-adapter-soap, bus services answered by SOAP backends */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include <curl/curl.h>

#include "bus/proto.h"
#include "runtime/adapter.h"
#include "soap/soap-forward.h"
#include "soap/soap.h"
#include "util/log.h"
#include "util/macro.h"

typedef struct Route {
        char *service, *url;
} Route;

typedef struct Config {
        const char *bus, *name;
        unsigned workers;
        Route routes[PROTO_MAX_SERVICES];
        const char *services[PROTO_MAX_SERVICES + 1];
        size_t n_routes;
        SoapForwardOptions soap;
        const char *curve_server_key, *curve_public_key, *curve_secret_key_file;
} Config;

static void help(void)
{
        printf("Usage: xbus-adapter-soap --route SERVICE=URL [--route ...] [OPTIONS]\n"
               "Answer bus services from SOAP 1.1 backends: the request's payload goes to URL in a SOAP\n"
               "envelope with the X-Road 4.0 header and the xbus subject and purpose; the answer's Body\n"
               "payload comes back (a SOAP Fault becomes the bus error it names).\n\n"
               "  --bus ENDPOINT            the node's adapter endpoint (default tcp://127.0.0.1:5560)\n"
               "  --route SERVICE=URL       serve SERVICE from URL (http or https; repeatable, at most %d)\n"
               "  --workers N               worker connections (default 4)\n"
               "  --timeout MS              cap on one backend call (default %d)\n"
               "  --max-response BYTES      largest backend answer accepted (default %u)\n"
               "  --cacert FILE             CAs for https backends (default: the system's)\n"
               "  --cert FILE --key FILE    client certificate for https backends that ask for one\n"
               "  --name NAME               instance name announced to the bus (default soap)\n"
               "  --curve-server-key KEY    the node's CURVE public key (Z85): enables CURVE\n"
               "  --curve-public-key KEY    this adapter's CURVE public key (Z85)\n"
               "  --curve-secret-key-file F file holding this adapter's CURVE secret key (Z85)\n"
               "  --help                    this text\n",
               PROTO_MAX_SERVICES, SOAP_FORWARD_DEFAULT_TIMEOUT_MS, SOAP_FORWARD_DEFAULT_MAX_RESPONSE);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        if (isempty(s) || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int add_route(Config *c, const char *arg)
{
        const char *eq = strchr(arg, '=');
        size_t n = eq ? (size_t)(eq - arg) : 0;
        Route *r;

        if (!eq || n == 0)
                return log_error_errno(EINVAL, "--route '%s': want SERVICE=URL", arg);
        if (!soap_url_valid(eq + 1))
                return log_error_errno(EINVAL, "--route '%s': the URL must be an absolute http or https URL", arg);
        if (c->n_routes >= PROTO_MAX_SERVICES)
                return log_error_errno(E2BIG, "--route: at most %d routes", PROTO_MAX_SERVICES);
        for (size_t i = 0; i < c->n_routes; i++)
                if (strlen(c->routes[i].service) == n && strneq(c->routes[i].service, arg, n))
                        return log_error_errno(EEXIST, "--route: service '%.*s' routed twice", (int)n, arg);
        r = &c->routes[c->n_routes];
        r->service = strndup(arg, n);
        r->url = strdup(eq + 1);
        if (!r->service || !r->url)
                return log_error_errno(ENOMEM, "out of memory");
        c->services[c->n_routes++] = r->service;
        c->services[c->n_routes] = NULL;
        return 0;
}

static int parse_args(int argc, char **argv, Config *c)
{
        enum { ARG_BUS = 0x100, ARG_ROUTE, ARG_WORKERS, ARG_TIMEOUT, ARG_MAX_RESPONSE, ARG_CACERT, ARG_CERT, ARG_KEY,
               ARG_NAME, ARG_CURVE_SERVER, ARG_CURVE_PUBLIC, ARG_CURVE_SECRET_FILE, ARG_HELP };
        static const struct option options[] = {
                { "bus", required_argument, NULL, ARG_BUS },
                { "route", required_argument, NULL, ARG_ROUTE },
                { "workers", required_argument, NULL, ARG_WORKERS },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "max-response", required_argument, NULL, ARG_MAX_RESPONSE },
                { "cacert", required_argument, NULL, ARG_CACERT },
                { "cert", required_argument, NULL, ARG_CERT },
                { "key", required_argument, NULL, ARG_KEY },
                { "name", required_argument, NULL, ARG_NAME },
                { "curve-server-key", required_argument, NULL, ARG_CURVE_SERVER },
                { "curve-public-key", required_argument, NULL, ARG_CURVE_PUBLIC },
                { "curve-secret-key-file", required_argument, NULL, ARG_CURVE_SECRET_FILE },
                { "help", no_argument, NULL, ARG_HELP },
                {},
        };
        uint64_t v;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (opt) {
                case ARG_BUS:
                        c->bus = optarg;
                        break;
                case ARG_ROUTE:
                        if ((r = add_route(c, optarg)) < 0)
                                return r;
                        break;
                case ARG_WORKERS:
                        if (parse_u64(optarg, 1, ADAPTER_MAX_WORKERS, &v) < 0)
                                return log_error_errno(EINVAL, "--workers '%s': want 1..%d", optarg,
                                                       ADAPTER_MAX_WORKERS);
                        c->workers = (unsigned)v;
                        break;
                case ARG_TIMEOUT:
                        if (parse_u64(optarg, 1, 3600 * 1000, &c->soap.timeout_ms) < 0)
                                return log_error_errno(EINVAL, "--timeout '%s': want 1..3600000 ms", optarg);
                        break;
                case ARG_MAX_RESPONSE:
                        if (parse_u64(optarg, 1, ADAPTER_MAX_BODY_LIMIT, &v) < 0)
                                return log_error_errno(EINVAL, "--max-response '%s': want 1..%u bytes", optarg,
                                                       ADAPTER_MAX_BODY_LIMIT);
                        c->soap.max_response = (size_t)v;
                        break;
                case ARG_CACERT:
                        c->soap.ca_file = optarg;
                        break;
                case ARG_CERT:
                        c->soap.cert_file = optarg;
                        break;
                case ARG_KEY:
                        c->soap.key_file = optarg;
                        break;
                case ARG_NAME:
                        c->name = optarg;
                        break;
                case ARG_CURVE_SERVER:
                        c->curve_server_key = optarg;
                        break;
                case ARG_CURVE_PUBLIC:
                        c->curve_public_key = optarg;
                        break;
                case ARG_CURVE_SECRET_FILE:
                        c->curve_secret_key_file = optarg;
                        break;
                case ARG_HELP:
                        help();
                        exit(EXIT_SUCCESS);
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc)
                return log_error_errno(EINVAL, "unexpected argument '%s'", argv[optind]);
        if (c->n_routes == 0)
                return log_error_errno(EINVAL, "no --route given");
        if (!!c->soap.cert_file != !!c->soap.key_file)
                return log_error_errno(EINVAL, "--cert and --key go together");
        opt = !!c->curve_server_key + !!c->curve_public_key + !!c->curve_secret_key_file;
        if (opt != 0 && opt != 3)
                return log_error_errno(EINVAL, "CURVE needs --curve-server-key, --curve-public-key and "
                                               "--curve-secret-key-file together");
        return 0;
}

static int worker_init(void *userdata, void **ret_state)
{
        Config *c = userdata;
        return soap_forwarder_new((SoapForwarder **)ret_state, &c->soap);
}

static void worker_done(void *userdata, void *state)
{
        soap_forwarder_free(state);
}

static int handle(void *userdata, void *state, const AdapterRequest *req, AdapterResponse *resp)
{
        Config *c = userdata;

        for (size_t i = 0; i < c->n_routes; i++)
                if (streq(c->routes[i].service, req->service))
                        return soap_forward(state, c->routes[i].url, req, resp);
        return adapter_response_error(resp, 404, "service_unknown", "no route for the service");
}

int main(int argc, char **argv)
{
        static Config cfg = {
                .bus = "tcp://127.0.0.1:5560",
                .name = "soap",
                .workers = 4,
                .soap = { .timeout_ms = SOAP_FORWARD_DEFAULT_TIMEOUT_MS,
                          .max_response = SOAP_FORWARD_DEFAULT_MAX_RESPONSE },
        };
        static const AdapterHandler handler = { worker_init, worker_done, handle };
        char secret[ADAPTER_CURVE_KEY_LEN + 1];
        AdapterOptions o;
        int r, ret = 1;

        log_set_ident("xbus-adapter-soap");
        if (parse_args(argc, argv, &cfg) < 0)
                return 2;
        if (cfg.curve_secret_key_file) {
                r = adapter_key_file_read(cfg.curve_secret_key_file, secret);
                if (r < 0) {
                        log_error_errno(r, "CURVE secret key '%s': %m", cfg.curve_secret_key_file);
                        return 1;
                }
        }
        if (soap_global_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("libxml2/xmlsec or libcurl initialisation failed");
                return 1;
        }
        o = (AdapterOptions){
                .endpoint = cfg.bus,
                .kind = "soap",
                .name = cfg.name,
                .services = cfg.services,
                .workers = cfg.workers,
                .curve_server_key = cfg.curve_server_key,
                .curve_public_key = cfg.curve_public_key,
                .curve_secret_key = cfg.curve_secret_key_file ? secret : NULL,
        };
        for (size_t i = 0; i < cfg.n_routes; i++)
                log_info("route '%s' -> '%s'", cfg.routes[i].service, cfg.routes[i].url);
        log_info("serving %zu services on '%s' with %u workers, timeout %" PRIu64 " ms", cfg.n_routes, cfg.bus,
                 cfg.workers, cfg.soap.timeout_ms);
        r = adapter_run(&o, &handler, &cfg);
        explicit_bzero(secret, sizeof(secret));
        if (r < 0)
                log_error_errno(r, "adapter: %m");
        else {
                log_info("stopped");
                ret = 0;
        }
        curl_global_cleanup();
        for (size_t i = 0; i < cfg.n_routes; i++) {
                free(cfg.routes[i].service);
                free(cfg.routes[i].url);
        }
        return ret;
}
