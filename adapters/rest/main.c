/* main.c: xbus-adapter-rest, bus services answered by HTTP backends */
#include <stdio.h>

#include <curl/curl.h>

#include "rest/rest-forward.h"
#include "runtime/adapter-cli.h"
#include "util/log.h"
#include "util/macro.h"

static void help(void)
{
        printf("Usage: xbus-adapter-rest --route SERVICE=URL [--route ...] [OPTIONS]\n"
               "Answer bus services by forwarding each request to an HTTP backend.\n"
               "A request goes to URL + path + \"?\" + query + \"&subject=\" + SUBJECT (parts that are\n"
               "empty are left out), with the subject also in the X-Bus-Subject header.\n\n" ADAPTER_CLI_HELP_BUS
               "  --route SERVICE=URL       serve SERVICE from URL (http or https; repeatable, at most %d)\n"
               "  --workers N               worker connections, each with its own HTTP connection (default 4)\n"
               "  --timeout MS              cap on one backend call (default %d); a smaller request\n"
               "                            timeout applies\n"
               "  --max-response BYTES      largest backend body accepted (default %u)\n"
               "  --cacert FILE             CAs for https backends (default: the system's)\n"
               "  --cert FILE --key FILE    client certificate for https backends that ask for one\n"
               "  --name NAME               instance name announced to the bus (default rest)\n" ADAPTER_CLI_HELP_TAIL,
               PROTO_MAX_SERVICES, REST_DEFAULT_TIMEOUT_MS, REST_DEFAULT_MAX_RESPONSE);
}

static int worker_init(void *userdata, void **ret_state)
{
        AdapterCliForward *f = userdata;

        return rest_forwarder_new((RestForwarder **)ret_state, &f->backend);
}

static void worker_done(void *userdata, void *state)
{
        rest_forwarder_free(state);
}

static int handle(void *userdata, void *state, const AdapterRequest *req, AdapterResponse *resp)
{
        const char *url = adapter_cli_forward_url(userdata, req->service);

        if (url)
                return rest_forward(state, url, req, resp);
        /* the runtime only passes announced services; keep the answer defined anyway */
        return adapter_response_error(resp, 404, "service_unknown", "no route for the service");
}

int main(int argc, char **argv)
{
        static AdapterCli cli = { .bus = ADAPTER_CLI_DEFAULT_BUS, .name = "rest", .workers = 4 };
        static AdapterCliForward fwd = {
                .backend = { .timeout_ms = REST_DEFAULT_TIMEOUT_MS, .max_response = REST_DEFAULT_MAX_RESPONSE },
                .url_valid = rest_url_valid,
        };
        static const AdapterHandler handler = { worker_init, worker_done, handle };
        AdapterOptions o;
        int r;

        log_set_ident("xbus-adapter-rest");
        r = adapter_cli_parse(&cli, &(AdapterCliProgram){ .help = help, .forward = &fwd }, argc, argv);
        if (r != 0)
                return r < 0 ? 2 : 0;
        if (adapter_cli_load_secret(&cli) < 0)
                return 1;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("libcurl initialisation failed");
                return 1;
        }

        o = (AdapterOptions){ .kind = "rest", .services = fwd.services };
        adapter_cli_forward_log(&fwd, &cli);
        r = adapter_cli_run(&cli, &o, &handler, &fwd);
        curl_global_cleanup();
        adapter_cli_forward_done(&fwd);
        return r;
}
