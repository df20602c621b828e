/* main.c: xbus-adapter-soap, bus services answered by SOAP backends */
#include <stdio.h>

#include <curl/curl.h>

#include "runtime/adapter-cli.h"
#include "soap/soap-forward.h"
#include "soap/soap.h"
#include "util/log.h"
#include "util/macro.h"

static void help(void)
{
        printf("Usage: xbus-adapter-soap --route SERVICE=URL [--route ...] [OPTIONS]\n"
               "Answer bus services from SOAP 1.1 backends: the request's payload goes to URL in a SOAP\n"
               "envelope with the X-Road 4.0 header and the xbus subject and purpose; the answer's Body\n"
               "payload comes back (a SOAP Fault becomes the bus error it names).\n\n" ADAPTER_CLI_HELP_BUS
               "  --route SERVICE=URL       serve SERVICE from URL (http or https; repeatable, at most %d)\n"
               "  --workers N               worker connections (default 4)\n"
               "  --timeout MS              cap on one backend call (default %d)\n"
               "  --max-response BYTES      largest backend answer accepted (default %u)\n"
               "  --cacert FILE             CAs for https backends (default: the system's)\n"
               "  --cert FILE --key FILE    client certificate for https backends that ask for one\n"
               "  --name NAME               instance name announced to the bus (default soap)\n" ADAPTER_CLI_HELP_TAIL,
               PROTO_MAX_SERVICES, SOAP_FORWARD_DEFAULT_TIMEOUT_MS, SOAP_FORWARD_DEFAULT_MAX_RESPONSE);
}

static int worker_init(void *userdata, void **ret_state)
{
        AdapterCliForward *f = userdata;

        return soap_forwarder_new((SoapForwarder **)ret_state, &f->backend);
}

static void worker_done(void *userdata, void *state)
{
        soap_forwarder_free(state);
}

static int handle(void *userdata, void *state, const AdapterRequest *req, AdapterResponse *resp)
{
        const char *url = adapter_cli_forward_url(userdata, req->service);

        if (url)
                return soap_forward(state, url, req, resp);
        return adapter_response_error(resp, 404, "service_unknown", "no route for the service");
}

int main(int argc, char **argv)
{
        static AdapterCli cli = { .bus = ADAPTER_CLI_DEFAULT_BUS, .name = "soap", .workers = 4 };
        static AdapterCliForward fwd = {
                .backend = { .timeout_ms = SOAP_FORWARD_DEFAULT_TIMEOUT_MS,
                             .max_response = SOAP_FORWARD_DEFAULT_MAX_RESPONSE },
                .url_valid = soap_url_valid,
        };
        static const AdapterHandler handler = { worker_init, worker_done, handle };
        AdapterOptions o;
        int r;

        log_set_ident("xbus-adapter-soap");
        r = adapter_cli_parse(&cli, &(AdapterCliProgram){ .help = help, .forward = &fwd }, argc, argv);
        if (r != 0)
                return r < 0 ? 2 : 0;
        if (adapter_cli_load_secret(&cli) < 0)
                return 1;
        if (soap_global_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("libxml2/xmlsec or libcurl initialisation failed");
                return 1;
        }

        o = (AdapterOptions){ .kind = "soap", .services = fwd.services };
        adapter_cli_forward_log(&fwd, &cli);
        r = adapter_cli_run(&cli, &o, &handler, &fwd);
        curl_global_cleanup();
        adapter_cli_forward_done(&fwd);
        return r;
}
