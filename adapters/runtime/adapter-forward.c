/* adapter-forward.c: the one program behind the forwarding adapters */
#include <curl/curl.h>

#include "runtime/adapter-cli.h"
#include "runtime/adapter-forward.h"
#include "util/log.h"
#include "util/macro.h"

typedef struct Forward {
        const AdapterForwardKind *kind;
        AdapterCliForward routes;
} Forward;

static int worker_init(void *userdata, void **ret_state)
{
        Forward *f = userdata;

        return adapter_curl_new((AdapterCurl **)ret_state, &f->routes.backend);
}

static void worker_done(void *userdata, void *state)
{
        adapter_curl_free(state);
}

static int handle(void *userdata, void *state, const AdapterRequest *req, AdapterResponse *resp)
{
        Forward *f = userdata;
        const char *url = adapter_cli_forward_url(&f->routes, req->service);

        if (url)
                return f->kind->forward(state, url, req, resp);
        /* the runtime only passes announced services; keep the answer defined anyway */
        return adapter_response_error(resp, 404, PROBLEM_SERVICE_UNKNOWN, "no route for the service");
}

int adapter_forward_main(const AdapterForwardKind *k, int argc, char **argv)
{
        static const AdapterHandler handler = { worker_init, worker_done, handle };
        AdapterCli cli = { .bus = ADAPTER_CLI_DEFAULT_BUS, .name = k->kind, .workers = 4 };
        Forward f = {
                .kind = k,
                .routes = { .backend = { .timeout_ms = k->timeout_ms, .max_response = k->max_response },
                            .url_valid = k->url_valid },
        };
        AdapterOptions o;
        int r;

        log_set_ident(k->ident);
        r = adapter_cli_parse(&cli, &(AdapterCliProgram){ .help = k->help, .forward = &f.routes }, argc, argv);
        if (r != 0)
                return r < 0 ? 2 : 0;
        if (adapter_cli_load_secret(&cli) < 0)
                return 1;
        if ((k->global_init && k->global_init() < 0) || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("%s initialisation failed", k->libraries);
                return 1;
        }

        o = (AdapterOptions){ .kind = k->kind, .services = f.routes.services };
        adapter_cli_forward_log(&f.routes, &cli);
        r = adapter_cli_run(&cli, &o, &handler, &f);
        curl_global_cleanup();
        adapter_cli_forward_done(&f.routes);
        return r;
}
